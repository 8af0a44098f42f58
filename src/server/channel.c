/*
 * channel: SEQPACKET messages with a small header and SCM_RIGHTS fd
 * passing; an outgoing FIFO absorbs EAGAIN so senders never block.
 */
#include "server/channel.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHANNEL_FDS_MAX 8

struct channel_msg {
	struct channel_msg *next;
	int fd;
	size_t len; /* header + payload */
	char data[];
};

const char *
channel_op_name(uint16_t op)
{
	static const char *const names[] = {
	    [CHANNEL_OP_HELLO] = "hello", [CHANNEL_OP_NICK] = "nick",
	    [CHANNEL_OP_JOIN] = "join",	  [CHANNEL_OP_PART] = "part",
	    [CHANNEL_OP_ROOMS] = "rooms", [CHANNEL_OP_WHO] = "who",
	    [CHANNEL_OP_TOPIC] = "topic", [CHANNEL_OP_RESOLVE] = "resolve",
	};

	if (op >= sizeof(names) / sizeof(names[0]) || !names[op])
		return "unknown";
	return names[op];
}

int
channel_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, fds) < 0)
		return -errno;
	return 0;
}

void
channel_init(struct channel *ch, int fd)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
}

static int
channel_sendmsg(int sock, const void *data, size_t len, int pass_fd)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

int
channel_flush(struct channel *ch)
{
	while (ch->q_head) {
		struct channel_msg *m = ch->q_head;
		int err = channel_sendmsg(ch->fd, m->data, m->len, m->fd);
		if (err < 0)
			return err;
		ch->q_head = m->next;
		if (!ch->q_head)
			ch->q_tail = NULL;
		ch->q_bytes -= m->len;
		if (m->fd >= 0)
			close(m->fd);
		free(m);
	}
	return 0;
}

int
channel_send(struct channel *ch, uint16_t type, const void *payload, size_t len,
	     int pass_fd, size_t max_queued)
{
	char stack[CHANNEL_MSG_MAX];
	struct channel_hdr hdr = {
	    .type = type, .version = CHANNEL_VERSION, .len = (uint32_t)len};
	int err;

	if (len + sizeof(hdr) > sizeof(stack)) {
		err = -EMSGSIZE;
		goto err_close_fd;
	}
	memcpy(stack, &hdr, sizeof(hdr));
	if (len)
		memcpy(stack + sizeof(hdr), payload, len);
	if (!ch->q_head) {
		err =
		    channel_sendmsg(ch->fd, stack, sizeof(hdr) + len, pass_fd);
		if (err == 0) {
			if (pass_fd >= 0)
				close(pass_fd);
			return 0;
		}
		if (err != -EAGAIN)
			goto err_close_fd;
	}
	if (ch->q_bytes + sizeof(hdr) + len > max_queued) {
		err = -ENOBUFS;
		goto err_close_fd;
	}
	struct channel_msg *m = malloc(sizeof(*m) + sizeof(hdr) + len);
	if (!m) {
		err = -ENOMEM;
		goto err_close_fd;
	}
	m->next = NULL;
	m->fd = pass_fd;
	m->len = sizeof(hdr) + len;
	memcpy(m->data, stack, m->len);
	if (ch->q_tail)
		ch->q_tail->next = m;
	else
		ch->q_head = m;
	ch->q_tail = m;
	ch->q_bytes += m->len;
	return 0;

err_close_fd:
	if (pass_fd >= 0)
		close(pass_fd);
	return err;
}

int
channel_recv(struct channel *ch, struct channel_hdr *hdr, void *buf,
	     int *fd_out)
{
	char data[CHANNEL_MSG_MAX];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	/* Room for more fds than a valid message carries, so that extra ones
	 * are received and closed rather than leaked. */
	union {
		char buf[CMSG_SPACE(CHANNEL_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	int nfds = 0;

	*fd_out = -1;
	do {
		n = recvmsg(ch->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
	     c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (nfds++ == 0)
				*fd_out = fd;
			else
				close(fd);
		}
	}
	if (n == 0) {
		/* EOF, or a zero-length message (never valid here). */
		struct pollfd p = {.fd = ch->fd, .events = POLLRDHUP};
		if (nfds == 0 && poll(&p, 1, 0) == 1 &&
		    (p.revents & (POLLRDHUP | POLLHUP)))
			return -EPIPE;
		goto err_bad;
	}
	if ((size_t)n < sizeof(*hdr) ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfds > 1)
		goto err_bad;
	memcpy(hdr, data, sizeof(*hdr));
	if (hdr->version != CHANNEL_VERSION ||
	    hdr->len != (size_t)n - sizeof(*hdr))
		goto err_bad;
	memcpy(buf, data + sizeof(*hdr), hdr->len);
	return (int)hdr->len;

err_bad:
	if (*fd_out >= 0)
		close(*fd_out);
	*fd_out = -1;
	return -EBADMSG;
}

void
channel_close(struct channel *ch)
{
	while (ch->q_head) {
		struct channel_msg *m = ch->q_head;
		ch->q_head = m->next;
		if (m->fd >= 0)
			close(m->fd);
		free(m);
	}
	ch->q_tail = NULL;
	ch->q_bytes = 0;
	if (ch->fd >= 0)
		close(ch->fd);
	ch->fd = -1;
}
