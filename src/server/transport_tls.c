/*
 * transport_tls: TLS (OpenSSL) for session processes. The handshake runs
 * here, in the process that owns the socket, by the session's handshake
 * deadline (xconn.ready_by_ms); a connection whose first byte is not a TLS
 * handshake record is refused before OpenSSL sees it. Each connection keeps the
 * context it started with, whatever reloads bring after it.
 */
#include "server/config.h"
#include "server/tls_ctx.h"
#include "server/transport.h"

#include <errno.h>
#include <limits.h>
#include <linux/sockios.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TLS_RECORD_HANDSHAKE 0x16

struct tls_conn {
	SSL *ssl;
	int started; /* its first byte was a handshake record */
	int done;    /* the handshake has finished */
	char why[160];
};

static struct tls_conn *
tls_of(struct xconn *x)
{
	return x->state;
}

/* Records why the connection failed; returns -EPROTO. */
static int
tls_fail(struct xconn *x, const char *what)
{
	struct tls_conn *t = tls_of(x);
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	snprintf(t->why, sizeof(t->why), "%s%s%s", what ? what : "TLS error",
		 reason ? ": " : "", reason ? reason : "");
	ERR_clear_error();
	x->why = t->why;
	return -EPROTO;
}

/* What an SSL call that returned r <= 0 means for the caller: -EAGAIN
 * (with wants set), 0 for an orderly end, or -errno. A failure before the
 * handshake is done is recorded as "what: reason" (what is then given). */
static int
tls_result(struct xconn *x, int r, const char *what)
{
	struct tls_conn *t = tls_of(x);
	int err = SSL_get_error(t->ssl, r);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		x->wants = XCONN_WANT_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		x->wants = XCONN_WANT_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0 || errno == EPIPE || errno == ECONNRESET)
			return t->done ? 0 : tls_fail(x, what);
		return -errno;
	default:
		if (!t->done)
			return tls_fail(x, what);
		/* Its rooms see it quit: the usual "connection lost". */
		ERR_clear_error();
		return -EPROTO;
	}
}

static int
tls_open(struct xconn *x)
{
	SSL_CTX *ctx = tls_ctx_current();
	struct tls_conn *t;

	if (!ctx)
		return -ENOPROTOOPT; /* a TLS listener without a certificate */
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	ERR_clear_error();
	t->ssl = SSL_new(ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, x->fd) != 1) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_accept_state(t->ssl);
	x->state = t;
	x->wants = 0;
	return 0;
}

/* The first byte of a TLS connection is a handshake record: anything else
 * is a plaintext client, refused without a TLS alert it could not read. */
static int
tls_check_start(struct xconn *x)
{
	struct tls_conn *t = tls_of(x);
	unsigned char b;
	ssize_t r;

	do {
		r = recv(x->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		x->wants = XCONN_WANT_READ;
		return 0;
	}
	if (r < 0)
		return -errno;
	if (r == 0) {
		x->why = "closed before the TLS handshake";
		return -ECONNRESET;
	}
	if (b != TLS_RECORD_HANDSHAKE) {
		x->why = "plaintext on a TLS port";
		return -EPROTO;
	}
	t->started = 1;
	return 1;
}

static int
tls_ready(struct xconn *x)
{
	struct tls_conn *t = tls_of(x);
	int r;

	if (t->done)
		return 1;
	if (x->late) {
		snprintf(t->why, sizeof(t->why),
			 "TLS handshake timed out after %d ms",
			 x->cfg ? x->cfg->handshake_ms : 0);
		x->why = t->why;
		return -ETIMEDOUT;
	}
	if (!t->started && (r = tls_check_start(x)) <= 0)
		return r;
	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		t->done = 1;
		x->wants = 0;
		return 1;
	}
	r = tls_result(x, r, "TLS handshake failed");
	if (r == -EAGAIN)
		return 0;
	if (r == 0) {
		x->why = "closed during the TLS handshake";
		return -ECONNRESET;
	}
	return r;
}

static ssize_t
tls_read(struct xconn *x, char *buf, size_t n)
{
	struct tls_conn *t = tls_of(x);
	int r;

	if (!t->done)
		return -ENOTCONN;
	ERR_clear_error();
	errno = 0;
	r = SSL_read(t->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0)
		return r;
	return tls_result(x, r, NULL);
}

static ssize_t
tls_write(struct xconn *x, const char *buf, size_t n)
{
	struct tls_conn *t = tls_of(x);
	int r;

	if (!t->done)
		return -ENOTCONN;
	ERR_clear_error();
	errno = 0;
	r = SSL_write(t->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0)
		return r;
	r = tls_result(x, r, NULL);
	return r == 0 ? -EPIPE : r;
}

static int
tls_shutdown(struct xconn *x)
{
	struct tls_conn *t = tls_of(x);
	int r;

	if (t->done) {
		ERR_clear_error();
		errno = 0;
		r = SSL_shutdown(t->ssl);
		if (r < 0 && tls_result(x, r, NULL) == -EAGAIN)
			return -EAGAIN;
		ERR_clear_error();
	}
	/* close_notify is out (or cannot be): the FIN follows it. */
	return shutdown(x->fd, SHUT_WR) < 0 ? -errno : 0;
}

static int
tls_unsent(struct xconn *x)
{
	int unsent = 0;

	if (ioctl(x->fd, SIOCOUTQ, &unsent) < 0)
		return -errno;
	return unsent;
}

static void
tls_close(struct xconn *x)
{
	struct tls_conn *t = tls_of(x);

	if (t) {
		SSL_free(t->ssl);
		free(t);
	}
	ERR_clear_error();
	x->state = NULL;
	x->why = NULL;
	close(x->fd);
	x->fd = -1;
}

const struct transport transport_tls = {
    .name = "tls",
    .id = TRANSPORT_TLS,
    .open = tls_open,
    .ready = tls_ready,
    .read = tls_read,
    .write = tls_write,
    .shutdown = tls_shutdown,
    .unsent = tls_unsent,
    .close = tls_close,
    .secure = 1,
};
