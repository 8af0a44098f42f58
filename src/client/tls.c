/*
 * tls: the client's side of TLS. Invariant: once tls_handshake has
 * returned 0, the peer proved it holds a certificate for the host asked
 * for, issued by a trusted CA (unless the user said --insecure), over TLS
 * 1.2 or 1.3.
 */
#include "client/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tls_link {
	SSL_CTX *ctx;
	SSL *ssl;
	int insecure;
	int wants_write;
};

static long long
tls_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
tls_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown error";
}

struct tls_link *
tls_new(const struct tls_opts *o, char *why, size_t n)
{
	struct tls_link *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	t->insecure = o->insecure;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx ||
	    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
		snprintf(why, n, "TLS: %s", tls_reason());
		goto err_free;
	}
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (o->insecure) {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca_file
			? SSL_CTX_load_verify_locations(t->ctx, o->ca_file,
							NULL) != 1
			: SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
			snprintf(why, n, "cannot read %s: %s",
				 o->ca_file ? o->ca_file
					    : "the system's trusted CAs",
				 tls_reason());
			goto err_free;
		}
	}
	ERR_clear_error();
	return t;
err_free:
	tls_free(t);
	return NULL;
}

/* The name (or address) the certificate must be for. */
static int
tls_expect_host(struct tls_link *t, const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl),
						     host) == 1
			   ? 0
			   : -1;
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(t->ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(t->ssl, host) != 1)
		return -1;
	return 0;
}

/* One line for a handshake that failed with SSL error err. */
static void
tls_handshake_why(struct tls_link *t, int err, const char *shown, char *why,
		  size_t n)
{
	long v = SSL_get_verify_result(t->ssl);

	if (!t->insecure && v != X509_V_OK) {
		snprintf(why, n,
			 "cannot verify the certificate of %s: %s (--ca FILE "
			 "trusts another CA; --insecure skips the check)",
			 shown, X509_verify_cert_error_string(v));
	} else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
		snprintf(why, n,
			 "%s closed the connection during the TLS handshake "
			 "(not a TLS port?)",
			 shown);
	} else {
		snprintf(why, n, "TLS handshake with %s failed: %s%s", shown,
			 tls_reason(),
			 ERR_GET_REASON(ERR_peek_last_error()) ==
				 SSL_R_WRONG_VERSION_NUMBER
			     ? " (not a TLS port?)"
			     : "");
	}
	ERR_clear_error();
}

int
tls_handshake(struct tls_link *t, int fd, const char *host, const char *shown,
	      char *why, size_t n)
{
	long long deadline = tls_now_ms() + TLS_HANDSHAKE_MS;
	int r, err;

	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1 ||
	    tls_expect_host(t, host) < 0) {
		snprintf(why, n, "TLS: %s", tls_reason());
		return -1;
	}
	for (;;) {
		struct pollfd pfd = {.fd = fd};
		ERR_clear_error();
		errno = 0;
		r = SSL_connect(t->ssl);
		if (r == 1)
			return 0;
		err = SSL_get_error(t->ssl, r);
		if (err == SSL_ERROR_WANT_READ)
			pfd.events = POLLIN;
		else if (err == SSL_ERROR_WANT_WRITE)
			pfd.events = POLLOUT;
		else {
			tls_handshake_why(t, err, shown, why, n);
			return -1;
		}
		long long left = deadline - tls_now_ms();
		if (left <= 0) {
			snprintf(why, n, "TLS handshake with %s timed out",
				 shown);
			return -1;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			snprintf(why, n, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

/* r <= 0 from SSL_read or SSL_write: what it means. */
static ssize_t
tls_io_result(struct tls_link *t, int r)
{
	int err = SSL_get_error(t->ssl, r);

	t->wants_write = 0;
	switch (err) {
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		t->wants_write = 1;
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

ssize_t
tls_read(struct tls_link *t, char *buf, size_t n)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_read(t->ssl, buf, n > 1 << 30 ? 1 << 30 : (int)n);
	if (r > 0)
		return r;
	return tls_io_result(t, r);
}

ssize_t
tls_write(struct tls_link *t, const char *buf, size_t n)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_write(t->ssl, buf, n > 1 << 30 ? 1 << 30 : (int)n);
	if (r > 0)
		return r;
	r = (int)tls_io_result(t, r);
	return r == 0 ? -EPIPE : r;
}

int
tls_has_pending(const struct tls_link *t)
{
	return t->ssl && SSL_has_pending(t->ssl);
}

int
tls_wants_write(const struct tls_link *t)
{
	return t->wants_write;
}

int
tls_shutdown(struct tls_link *t)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_shutdown(t->ssl);
	if (r >= 0)
		return 0;
	r = (int)tls_io_result(t, r);
	return r == -EAGAIN ? -EAGAIN : 0;
}

void
tls_describe(const struct tls_link *t, char *out, size_t n)
{
	snprintf(out, n, "%s, %s", SSL_get_version(t->ssl),
		 SSL_get_cipher_name(t->ssl));
}

void
tls_free(struct tls_link *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
}
