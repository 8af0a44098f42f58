/*
 * transport_tcp: plain TCP for session processes: reads and writes go
 * straight to the non-blocking socket; there is no handshake and no state.
 */
#include "server/transport.h"

#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int
tcp_open(struct xconn *x)
{
	x->state = NULL;
	x->wants = 0;
	return 0;
}

static int
tcp_ready(struct xconn *x)
{
	(void)x;
	return 1;
}

static ssize_t
tcp_read(struct xconn *x, char *buf, size_t n)
{
	ssize_t r;

	do {
		r = recv(x->fd, buf, n, 0);
	} while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		x->wants = XCONN_WANT_READ;
		return -EAGAIN;
	}
	return -errno;
}

static ssize_t
tcp_write(struct xconn *x, const char *buf, size_t n)
{
	ssize_t r;

	do {
		r = send(x->fd, buf, n, MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		x->wants = XCONN_WANT_WRITE;
		return -EAGAIN;
	}
	return -errno;
}

static int
tcp_shutdown(struct xconn *x)
{
	return shutdown(x->fd, SHUT_WR) < 0 ? -errno : 0;
}

static int
tcp_unsent(struct xconn *x)
{
	int unsent = 0;

	if (ioctl(x->fd, SIOCOUTQ, &unsent) < 0)
		return -errno;
	return unsent;
}

static void
tcp_close(struct xconn *x)
{
	close(x->fd);
	x->fd = -1;
}

const struct transport transport_tcp = {
    .name = "tcp",
    .id = TRANSPORT_TCP,
    .open = tcp_open,
    .ready = tcp_ready,
    .read = tcp_read,
    .write = tcp_write,
    .shutdown = tcp_shutdown,
    .unsent = tcp_unsent,
    .close = tcp_close,
};
