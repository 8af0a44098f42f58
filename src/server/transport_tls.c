/*
 * transport_tls: TLS (OpenSSL) for session processes. The handshake runs
 * here, in the process that owns the socket, by the session's handshake
 * deadline (xconn.ready_by_ms); a connection whose first byte is not a TLS
 * handshake record is refused before OpenSSL sees it. Each connection keeps the
 * context it started with, whatever reloads bring after it. A record that
 * OpenSSL has taken but the socket has not is the transport's (held), as
 * the kernel's bytes are for plain TCP: the session's queue is what no
 * transport has taken yet.
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
/* Plaintext per SSL_write: one record (SSL3_RT_MAX_PLAIN_LENGTH), so a
 * write that cannot finish leaves exactly these bytes with OpenSSL. */
#define TLS_WRITE_MAX 16384

struct tls_conn {
	SSL *ssl;
	int started; /* its first byte was a handshake record */
	int done;    /* the handshake has finished */
	/* A record OpenSSL has taken but not yet sent: a copy of its
	 * plaintext, which its retry must pass again. The session still
	 * has its last byte (transport.h, write), so it calls again. */
	char *held;
	size_t held_len;
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

/* The held record goes out: returns 1 (its last byte, buf[0] of the
 * session's call), -EAGAIN or -errno. */
static ssize_t
tls_write_held(struct xconn *x)
{
	struct tls_conn *t = tls_of(x);
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_write(t->ssl, t->held, (int)t->held_len);
	if (r <= 0) {
		r = tls_result(x, r, NULL);
		return r == 0 ? -EPIPE : r;
	}
	free(t->held);
	t->held = NULL;
	t->held_len = 0;
	return 1;
}

static ssize_t
tls_write(struct xconn *x, const char *buf, size_t n)
{
	struct tls_conn *t = tls_of(x);
	size_t len = n < TLS_WRITE_MAX ? n : TLS_WRITE_MAX;
	const char *nl;
	int r;

	if (!t->done)
		return -ENOTCONN;
	if (t->held)
		return tls_write_held(x);
	/* A record ends at a line's end where one fits: a record that has to
	 * wait then holds back a whole line's LF, and a client cut off gets
	 * no torn line before its notice. */
	if (n > len && (nl = memrchr(buf, '\n', len)) != NULL)
		len = (size_t)(nl - buf) + 1;
	ERR_clear_error();
	errno = 0;
	r = SSL_write(t->ssl, buf, (int)len);
	if (r > 0)
		return r;
	if (SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_WRITE) {
		/* OpenSSL took the record; the socket did not. Retries must
		 * pass the same bytes, which the session would drop if the
		 * client were cut off meanwhile: keep them here. */
		t->held = malloc(len);
		if (!t->held)
			return -ENOMEM;
		memcpy(t->held, buf, len);
		t->held_len = len;
		x->wants = XCONN_WANT_WRITE;
		return (ssize_t)len - 1;
	}
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
		free(t->held);
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
