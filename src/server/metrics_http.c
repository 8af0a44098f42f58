/*
 * metrics_http: a deliberately small HTTP/1.1 server in the supervisor's
 * loop for GET /metrics. At most METRICS_CONNS_MAX connections, a request
 * head of at most METRICS_REQUEST_MAX bytes, METRICS_DEADLINE_MS from
 * accept to the last byte; one response per connection, then close.
 * Anything else gets an error status or a close. Never blocks.
 */
#include "lib/log.h"
#include "lib/net.h"
#include "server/metrics.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct metrics_conn {
	struct supervisor *sv;
	int fd; /* -1: slot free */
	char in[METRICS_REQUEST_MAX];
	size_t in_len;
	struct buf out;
	int responded;
	int peer_closed; /* EOF read while the response was still going */
	long long deadline_ms;
};

struct metrics {
	int listen_fd;
	struct metrics_conn conns[METRICS_CONNS_MAX];
};

static void
metrics_conn_close(struct supervisor *sv, struct metrics_conn *c)
{
	loop_del(sv->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->in_len = 0;
	c->responded = 0;
	c->peer_closed = 0;
	buf_free(&c->out);
}

/* Sends what is queued. Returns 1 when all is sent, 0 to wait, -1 when
 * the peer is gone. */
static int
metrics_conn_flush(struct metrics_conn *c)
{
	while (buf_used(&c->out) > 0) {
		ssize_t n =
		    send(c->fd, c->out.data + c->out.off, buf_used(&c->out),
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		buf_consume(&c->out, (size_t)n);
	}
	return 1;
}

static void
metrics_respond(struct metrics_conn *c, int status, const char *reason,
		const char *extra, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "%s"
			 "Connection: close\r\n\r\n",
			 status, reason,
			 status == 200 ? "text/plain; version=0.0.4; "
					 "charset=utf-8"
				       : "text/plain; charset=utf-8",
			 len, extra ? extra : "");

	c->responded = 1;
	if (buf_append(&c->out, head, (size_t)n) < 0 ||
	    buf_append(&c->out, body, len) < 0)
		buf_free(&c->out); /* no memory: the close says it */
}

static void
metrics_error(struct metrics_conn *c, int status, const char *reason,
	      const char *extra)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	metrics_respond(c, status, reason, extra, body, (size_t)n);
}

/* The end of the request head in c->in, or NULL while incomplete. */
static const char *
metrics_head_end(const struct metrics_conn *c)
{
	const char *p = memmem(c->in, c->in_len, "\r\n\r\n", 4);

	return p ? p : memmem(c->in, c->in_len, "\n\n", 2);
}

/* Answers the complete request head in c->in. */
static void
metrics_answer(struct metrics_conn *c)
{
	size_t line = strcspn(c->in, "\r\n"), mlen, plen;
	const char *m = c->in, *path, *version;
	struct buf body = {0};

	c->in[line] = '\0';
	mlen = strcspn(m, " ");
	path = m + mlen + (m[mlen] == ' ');
	plen = strcspn(path, " ");
	version = path + plen + (path[plen] == ' ');
	if (!m[mlen] || !path[plen] || strncmp(version, "HTTP/1.", 7) != 0 ||
	    strchr(version, ' ')) {
		metrics_error(c, 400, "Bad Request", NULL);
		return;
	}
	if (mlen != 3 || memcmp(m, "GET", 3) != 0) {
		metrics_error(c, 405, "Method Not Allowed", "Allow: GET\r\n");
		return;
	}
	if (!((plen == 8 || (plen > 8 && path[8] == '?')) &&
	      memcmp(path, "/metrics", 8) == 0)) {
		metrics_error(c, 404, "Not Found", NULL);
		return;
	}
	if (metrics_render(c->sv, &body) < 0) {
		buf_free(&body);
		metrics_error(c, 500, "Internal Server Error", NULL);
		return;
	}
	metrics_respond(c, 200, "OK", NULL, body.data + body.off,
			buf_used(&body));
	buf_free(&body);
}

/* Reads what the client sent; answers once the head is complete. */
static void
metrics_conn_read(struct supervisor *sv, struct metrics_conn *c)
{
	for (;;) {
		char sink[512], *dst = c->in + c->in_len;
		size_t room = sizeof(c->in) - 1 - c->in_len;
		if (c->responded || room == 0) {
			dst = sink; /* after the head: read and drop */
			room = sizeof(sink);
		}
		ssize_t n = recv(c->fd, dst, room, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (!c->responded || buf_used(&c->out) == 0) {
				metrics_conn_close(sv, c);
				return;
			}
			c->peer_closed = 1;
			return;
		}
		if (dst == sink)
			continue;
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
	}
	if (c->responded)
		return;
	if (metrics_head_end(c) && !memchr(c->in, '\0', c->in_len))
		metrics_answer(c);
	else if (memchr(c->in, '\0', c->in_len))
		metrics_error(c, 400, "Bad Request", NULL);
	else if (c->in_len >= sizeof(c->in) - 1)
		metrics_error(c, 431, "Request Header Fields Too Large", NULL);
}

static void
metrics_on_conn(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct metrics_conn *c = arg;
	struct supervisor *sv = c->sv;
	int r;

	(void)loop;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		metrics_conn_read(sv, c);
	if (c->fd < 0 || !c->responded)
		return;
	r = metrics_conn_flush(c);
	if (r < 0) {
		metrics_conn_close(sv, c);
		return;
	}
	if (r == 0) {
		(void)loop_mod(sv->loop, fd,
			       (c->peer_closed ? 0 : EPOLLIN) | EPOLLOUT);
		return;
	}
	/* All sent: a FIN, and the close once the peer closes or the
	 * deadline passes (closing with input pending would reset the
	 * connection and could lose the response). */
	(void)shutdown(fd, SHUT_WR);
	if (c->peer_closed)
		metrics_conn_close(sv, c);
	else
		(void)loop_mod(sv->loop, fd, EPOLLIN | EPOLLRDHUP);
}

static void
metrics_on_listen(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct supervisor *sv = arg;
	struct metrics *m = sv->metrics;
	struct sockaddr_storage ss;

	(void)loop;
	(void)events;
	for (int i = 0; i < 16; i++) {
		int cfd = net_accept(fd, &ss), slot = -1;
		if (cfd == -EAGAIN || cfd == -EMFILE || cfd == -ENFILE)
			return; /* level-triggered: the rest comes next time */
		if (cfd < 0)
			continue;
		for (int j = 0; j < METRICS_CONNS_MAX && slot < 0; j++)
			if (m->conns[j].fd < 0)
				slot = j;
		if (slot < 0) {
			close(cfd); /* bounded: a scraper retries */
			continue;
		}
		struct metrics_conn *c = &m->conns[slot];
		c->fd = cfd;
		c->sv = sv;
		c->deadline_ms = loop_now_ms() + METRICS_DEADLINE_MS;
		if (loop_add(sv->loop, cfd, EPOLLIN | EPOLLRDHUP,
			     metrics_on_conn, c) < 0) {
			close(cfd);
			c->fd = -1;
		}
	}
}

int
metrics_listen(struct supervisor *sv)
{
	const char *addr = sv->cfg->metrics_listen;
	struct metrics *m;
	char host[256];
	int port;

	if (!addr || strcmp(addr, "none") == 0)
		return 0;
	if (net_parse_hostport(addr, host, sizeof(host), &port, 9090) < 0) {
		log_warn("bad metrics address %s", addr);
		return -1;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		fatal("metrics");
	for (int i = 0; i < METRICS_CONNS_MAX; i++)
		m->conns[i].fd = -1;
	m->listen_fd = net_listen(host, port, 16);
	if (m->listen_fd < 0) {
		log_warn("cannot listen on %s for metrics: %s", addr,
			 strerror(-m->listen_fd));
		free(m);
		return -1;
	}
	sv->metrics = m;
	return 0;
}

void
metrics_announce(struct supervisor *sv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[NET_ADDR_STRLEN];

	if (!sv->metrics)
		return;
	getsockname(sv->metrics->listen_fd, (struct sockaddr *)&ss, &len);
	net_format_addr(&ss, addr, sizeof(addr));
	log_info("metrics on http://%s/metrics", addr);
	if (loop_add(sv->loop, sv->metrics->listen_fd, EPOLLIN,
		     metrics_on_listen, sv) < 0)
		fatal("loop_add metrics");
}

int
metrics_tick(struct supervisor *sv)
{
	long long now = loop_now_ms(), next = -1;

	if (!sv->metrics)
		return -1;
	for (int i = 0; i < METRICS_CONNS_MAX; i++) {
		struct metrics_conn *c = &sv->metrics->conns[i];
		if (c->fd < 0)
			continue;
		if (now >= c->deadline_ms) {
			if (!c->responded) {
				metrics_error(c, 408, "Request Timeout", NULL);
				(void)metrics_conn_flush(c);
			}
			metrics_conn_close(sv, c);
			continue;
		}
		if (next < 0 || c->deadline_ms - now < next)
			next = c->deadline_ms - now;
	}
	return (int)next;
}

void
metrics_close(struct supervisor *sv)
{
	struct metrics *m = sv->metrics;

	if (!m)
		return;
	for (int i = 0; i < METRICS_CONNS_MAX; i++)
		if (m->conns[i].fd >= 0)
			metrics_conn_close(sv, &m->conns[i]);
	loop_del(sv->loop, m->listen_fd);
	close(m->listen_fd);
	free(m);
	sv->metrics = NULL;
}
