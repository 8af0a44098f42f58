/*
 * transport_tcp: plain TCP for session processes: reads and writes go
 * straight to the non-blocking socket; there is no handshake. The one
 * thing it looks at is how a connection starts: a TLS ClientHello on a
 * plaintext port is refused before anyone but the client itself has seen
 * the connection.
 */
#include "server/transport.h"

#include "lib/loop.h"

#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long a new connection that has sent nothing may stay tentative. A
 * TLS client sends its ClientHello as soon as it is connected (well within
 * a millisecond here); one that waits to be greeted (nc, parley) is
 * greeted at once, but its HELLO (its join: what others see) waits for
 * its first bytes or this long, so that a ClientHello that is on its way
 * is refused before anyone has seen the connection. Measured on loopback:
 * 1 in 2 ClientHellos came after the session first looked; with 3 ms,
 * none of 80. A later one is still refused at its first read. */
#define TCP_SNIFF_MS 3

#define TCP_NOT_TLS "TLS handshake on a plaintext port"

/* x->state once the first bytes have been seen (the check is done). */
static char tcp_started;

int
transport_looks_like_tls(const unsigned char *p, size_t n)
{
	/* A handshake record (22), protocol major 3, minor 0-4: how every
	 * SSL 3 and TLS ClientHello begins. Three bytes, so that a plain
	 * line does not get closed for a stray control character. */
	return n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04;
}

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
	unsigned char head[3];
	ssize_t r;

	if (x->state)
		return 1;
	do {
		r = recv(x->fd, head, sizeof(head), MSG_PEEK | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r > 0 && transport_looks_like_tls(head, (size_t)r)) {
		x->why = TCP_NOT_TLS;
		return -EPROTO;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
	    TCP_SNIFF_MS > 0 && !x->late) {
		/* Greeted now; asked again when bytes come, or at the end of
		 * the sniff. */
		long long by = loop_now_ms() + TCP_SNIFF_MS;
		if (!x->ready_by_ms || by < x->ready_by_ms)
			x->ready_by_ms = by;
		x->wants = XCONN_WANT_READ;
		return XCONN_TENTATIVE;
	}
	if (r > 0)
		x->state = &tcp_started;
	return 1; /* bytes, EOF or an error: the reads will tell */
}

static ssize_t
tcp_read(struct xconn *x, char *buf, size_t n)
{
	ssize_t r;

	do {
		r = recv(x->fd, buf, n, 0);
	} while (r < 0 && errno == EINTR);
	if (r > 0 && !x->state) {
		/* Bytes that arrived after the sniff: too late to refuse
		 * quietly, but still not to be taken for a line. */
		x->state = &tcp_started;
		if (transport_looks_like_tls((unsigned char *)buf, (size_t)r)) {
			x->why = TCP_NOT_TLS;
			return -EPROTO;
		}
	}
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
