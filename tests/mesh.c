/*
 * mesh: many non-blocking test clients in one poll loop. Lines of the form
 * "#room <nick> m SENDER SEQ ..." become (sender, seq) records; other lines
 * are matched against the per-client substrings to look for.
 */
#include "mesh.h"

#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
mesh_join(struct mesh_client *cl, int n, int port, int v6)
{
	for (int i = 0; i < n; i++) {
		memset(&cl[i], 0, sizeof(cl[i]));
		cl[i].fd = -1;
	}
	for (int i = 0; i < n; i++) {
		if (v6) {
			int fd = tc_connect6(port);
			if (fd < 0 ||
			    tc_expect(fd, " joined ", NULL, 0, 10000) < 0)
				return -1;
			cl[i].fd = fd;
		} else {
			cl[i].fd =
			    tc_join(port, cl[i].nick, sizeof(cl[i].nick));
		}
		if (cl[i].fd < 0)
			return -1;
	}
	/* Everyone has joined once the last one's join reached the first:
	 * from here on every client is in the room. */
	for (int i = 0; i < n; i++)
		fcntl(cl[i].fd, F_SETFL, O_NONBLOCK);
	return 0;
}

void
mesh_queue(struct mesh_client *cl, int i, int first, int count, size_t pad)
{
	struct mesh_client *c = &cl[i];
	size_t need = c->out_len + (size_t)count * (40 + pad);
	char *p = realloc(c->out, need);

	if (!p)
		abort();
	c->out = p;
	for (int k = 0; k < count; k++) {
		int w = sprintf(c->out + c->out_len, "m %d %d ", i, first + k);
		c->out_len += (size_t)w;
		memset(c->out + c->out_len, 'x', pad);
		c->out_len += pad;
		c->out[c->out_len++] = '\n';
	}
}

static void
mesh_line(struct mesh_client *c, const char *line)
{
	const char *m = strstr(line, "> m ");

	if (line[0] == '#' && m) {
		struct mesh_msg msg;
		if (sscanf(m + 4, "%d %d", &msg.sender, &msg.seq) == 2) {
			if (c->ngot == c->got_cap) {
				c->got_cap = c->got_cap ? c->got_cap * 2 : 1024;
				c->got = realloc(c->got,
						 c->got_cap * sizeof(*c->got));
			}
			c->got[c->ngot++] = msg;
		}
		return;
	}
	if (strstr(line, "server shutting down"))
		c->shutdown_seen = 1;
	for (int i = 0; i < c->nlines_seen; i++)
		if (strstr(line, c->lines_seen[i]))
			c->seen_mask |= 1 << i;
}

int
mesh_recv_lines(int fd, char *in, size_t cap, size_t *len, mesh_line_cb *cb,
		void *arg)
{
	for (;;) {
		if (*len == cap)
			return 0; /* a line longer than the buffer: caller's bug
				   */
		ssize_t n = recv(fd, in + *len, cap - *len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ||
			       (errno != EAGAIN && errno != EWOULDBLOCK);
		*len += (size_t)n;
		char *start = in, *nl;
		while (
		    (nl = memchr(start, '\n', *len - (size_t)(start - in)))) {
			*nl = '\0';
			cb(arg, start);
			start = nl + 1;
		}
		*len -= (size_t)(start - in);
		memmove(in, start, *len);
	}
}

static void
mesh_line_cb_client(void *arg, char *line)
{
	mesh_line(arg, line);
}

static void
mesh_read(struct mesh_client *c)
{
	if (mesh_recv_lines(c->fd, c->in, sizeof(c->in), &c->in_len,
			    mesh_line_cb_client, c))
		c->eof = 1;
}

void
mesh_write(struct mesh_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		c->out_off += (size_t)n;
	}
}

int
mesh_pump(struct mesh_client *cl, int n, int (*done)(void *), void *arg,
	  int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));

	while (!done(arg)) {
		long long left = deadline - tl_now_ms();
		if (left <= 0) {
			free(pfd);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			pfd[i].fd = cl[i].eof ? -1 : cl[i].fd;
			pfd[i].events = POLLIN;
			if (cl[i].out_off < cl[i].out_len)
				pfd[i].events |= POLLOUT;
		}
		if (poll(pfd, (nfds_t)n, (int)(left < 100 ? left : 100)) < 0 &&
		    errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			if (pfd[i].revents & POLLOUT)
				mesh_write(&cl[i]);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				mesh_read(&cl[i]);
		}
	}
	free(pfd);
	return 0;
}

size_t
mesh_count_from(const struct mesh_client *c, int sender)
{
	size_t n = 0;

	for (size_t i = 0; i < c->ngot; i++)
		if (c->got[i].sender == sender)
			n++;
	return n;
}

int
mesh_sender_in_order(const struct mesh_client *c, int sender, size_t *count)
{
	int next = 0;

	for (size_t i = 0; i < c->ngot; i++) {
		if (c->got[i].sender != sender)
			continue;
		if (c->got[i].seq != next)
			return -1;
		next++;
	}
	*count = (size_t)next;
	return 0;
}

int
mesh_same_order(const struct mesh_client *a, const struct mesh_client *b,
		int ia, int ib)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a->ngot && a->got[i].sender == ib)
			i++;
		while (j < b->ngot && b->got[j].sender == ia)
			j++;
		if (i == a->ngot || j == b->ngot)
			return i == a->ngot && j == b->ngot;
		if (a->got[i].sender != b->got[j].sender ||
		    a->got[i].seq != b->got[j].seq)
			return 0;
		i++;
		j++;
	}
}

void
mesh_close(struct mesh_client *cl, int n)
{
	for (int i = 0; i < n; i++) {
		tc_close(cl[i].fd);
		free(cl[i].out);
		free(cl[i].got);
	}
}
