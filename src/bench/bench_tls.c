/*
 * bench_tls: the benchmark clients' TLS. Invariant: the error queue is
 * empty before every call into the library, so SSL_get_error tells the
 * truth about the call just made.
 */
#include "bench/bench_tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *bench_tls_ctx;

struct ssl_st *
bench_tls_new(int fd, struct ssl_session_st *session)
{
	SSL *ssl;

	if (!bench_tls_ctx) {
		bench_tls_ctx = SSL_CTX_new(TLS_client_method());
		if (!bench_tls_ctx)
			return NULL;
		SSL_CTX_set_min_proto_version(bench_tls_ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(bench_tls_ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_mode(bench_tls_ctx,
				 SSL_MODE_ENABLE_PARTIAL_WRITE |
				     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
		SSL_CTX_set_read_ahead(bench_tls_ctx, 1);
	}
	ERR_clear_error();
	ssl = SSL_new(bench_tls_ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 ||
	    (session && SSL_set_session(ssl, session) != 1)) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

/* r <= 0 from the library: -EAGAIN (*want_write set when it needs to
 * write), 0 for the end, or -errno. */
static ssize_t
bench_tls_result(SSL *ssl, int r, int *want_write)
{
	int err = SSL_get_error(ssl, r);

	*want_write = err == SSL_ERROR_WANT_WRITE;
	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno ? -errno : 0;
	default:
		ERR_clear_error();
		return -EPROTO;
	}
}

int
bench_tls_handshake(struct ssl_st *ssl, int *want_write)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(ssl);
	if (r == 1)
		return 1;
	return bench_tls_result(ssl, r, want_write) == -EAGAIN ? 0 : -1;
}

ssize_t
bench_tls_read(struct ssl_st *ssl, char *buf, size_t n)
{
	int r, want_write;

	ERR_clear_error();
	errno = 0;
	r = SSL_read(ssl, buf, n > 1 << 30 ? 1 << 30 : (int)n);
	return r > 0 ? r : bench_tls_result(ssl, r, &want_write);
}

ssize_t
bench_tls_write(struct ssl_st *ssl, const char *buf, size_t n)
{
	int r, want_write;
	ssize_t e;

	ERR_clear_error();
	errno = 0;
	r = SSL_write(ssl, buf, n > 1 << 30 ? 1 << 30 : (int)n);
	if (r > 0)
		return r;
	e = bench_tls_result(ssl, r, &want_write);
	return e == 0 ? -EPIPE : e;
}

int
bench_tls_pending(struct ssl_st *ssl)
{
	return SSL_has_pending(ssl);
}

int
bench_tls_resumed(struct ssl_st *ssl)
{
	return SSL_session_reused(ssl);
}

struct ssl_session_st *
bench_tls_session(struct ssl_st *ssl)
{
	return SSL_get1_session(ssl);
}

void
bench_tls_session_free(struct ssl_session_st *session)
{
	SSL_SESSION_free(session);
}

void
bench_tls_free(struct ssl_st *ssl)
{
	/* close_notify first, as clients do: a session freed without it is
	 * marked not resumable. */
	if (ssl && SSL_is_init_finished(ssl)) {
		ERR_clear_error();
		(void)SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
}
