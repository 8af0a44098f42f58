/*
 * tls_ctx: builds OpenSSL server contexts from PEM bytes and keeps the
 * current one of this process. The supervisor reads the files and checks
 * them by building a context; workers build theirs from the same bytes
 * (received in a memfd: they cannot open files), so every process serves
 * the same certificate and shares the ticket keys.
 */
#include "server/tls_ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static SSL_CTX *tls_current;
static unsigned tls_current_gen;

void
tls_init(void)
{
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
				 OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
			     NULL) != 1) {
		fprintf(stderr, "parleyd: cannot initialise OpenSSL\n");
		exit(1);
	}
}

/* "what: the library's reason" into why, and clears the error queue. */
static void
tls_why(char *why, size_t n, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	snprintf(why, n, "%s%s%s", what, reason ? ": " : "",
		 reason ? reason : "");
	ERR_clear_error();
}

/* ---- files --------------------------------------------------------------- */

static int
tls_file_read(const char *path, char **out, size_t *len, char *why, size_t n)
{
	/* One byte more than allowed tells a file that is too big. */
	char *buf = malloc(TLS_PEM_MAX + 2);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used = 0;
	ssize_t r;

	if (fd < 0 || !buf) {
		snprintf(why, n, "cannot read %s: %s", path, strerror(errno));
		free(buf);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (used <= TLS_PEM_MAX) {
		r = read(fd, buf + used, TLS_PEM_MAX + 1 - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, n, "cannot read %s: %s", path,
				 strerror(errno));
			goto err_free;
		}
		if (r == 0)
			break;
		used += (size_t)r;
	}
	if (used > TLS_PEM_MAX) {
		snprintf(why, n, "%s: larger than %d bytes", path, TLS_PEM_MAX);
		goto err_free;
	}
	close(fd);
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
err_free:
	OPENSSL_cleanse(buf, used);
	free(buf);
	close(fd);
	return -1;
}

int
tls_pem_read(struct tls_pem *pem, const char *cert_file, const char *key_file,
	     char *why, size_t n)
{
	memset(pem, 0, sizeof(*pem));
	if (tls_file_read(cert_file, &pem->cert, &pem->cert_len, why, n) < 0)
		return -1;
	if (tls_file_read(key_file, &pem->key, &pem->key_len, why, n) < 0) {
		tls_pem_free(pem);
		return -1;
	}
	if (RAND_bytes(pem->ticket_keys, sizeof(pem->ticket_keys)) != 1) {
		tls_why(why, n, "cannot draw ticket keys");
		tls_pem_free(pem);
		return -1;
	}
	return 0;
}

void
tls_pem_free(struct tls_pem *pem)
{
	if (pem->cert) {
		OPENSSL_cleanse(pem->cert, pem->cert_len);
		free(pem->cert);
	}
	if (pem->key) {
		OPENSSL_cleanse(pem->key, pem->key_len);
		free(pem->key);
	}
	OPENSSL_cleanse(pem, sizeof(*pem));
	memset(pem, 0, sizeof(*pem));
}

/* ---- contexts ------------------------------------------------------------ */

/* Never asks for a passphrase: parleyd runs unattended. */
static int
tls_no_passphrase_cb(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* The first certificate is the server's, the rest its chain. */
static int
tls_ctx_use_chain(SSL_CTX *ctx, const struct tls_pem *pem, char *why, size_t n)
{
	BIO *b = BIO_new_mem_buf(pem->cert, (int)pem->cert_len);
	X509 *x = b ? PEM_read_bio_X509_AUX(b, NULL, NULL, NULL) : NULL;
	unsigned long e;

	if (!x) {
		tls_why(why, n, "no certificate in the certificate file");
		BIO_free(b);
		return -1;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		tls_why(why, n, "unusable certificate");
		X509_free(x);
		BIO_free(b);
		return -1;
	}
	X509_free(x);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			tls_why(why, n, "unusable chain certificate");
			X509_free(x);
			BIO_free(b);
			return -1;
		}
	}
	BIO_free(b);
	/* The loop ends at the first thing that is not a certificate: the
	 * end of the file is fine, anything else is a broken chain. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return 0;
	}
	tls_why(why, n, "broken certificate chain");
	return -1;
}

static int
tls_ctx_use_key(SSL_CTX *ctx, const struct tls_pem *pem, char *why, size_t n)
{
	BIO *b = BIO_new_mem_buf(pem->key, (int)pem->key_len);
	EVP_PKEY *k =
	    b ? PEM_read_bio_PrivateKey(b, NULL, tls_no_passphrase_cb, NULL)
	      : NULL;

	BIO_free(b);
	if (!k) {
		ERR_clear_error();
		snprintf(why, n,
			 "no private key in the key file, or an "
			 "encrypted one");
		return -1;
	}
	if (SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		EVP_PKEY_free(k);
		ERR_clear_error();
		snprintf(why, n, "the key does not match the certificate");
		return -1;
	}
	EVP_PKEY_free(k);
	return 0;
}

SSL_CTX *
tls_ctx_build(const struct tls_pem *pem, char *why, size_t n)
{
	unsigned char keys[TLS_TICKET_KEYS_LEN];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		tls_why(why, n, "cannot create a TLS context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		tls_why(why, n, "cannot limit TLS to 1.2 and 1.3");
		goto err_free;
	}
	/* A peer that closes without close_notify has just closed: a chat
	 * line is whole or not delivered, never truncated. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
				     SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* The send queue grows and moves between retries of a write. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	/* Resumption by tickets only: a per-process cache would not help a
	 * client whose next connection lands in another process. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Read what the socket has in one call, not a record header first. */
	SSL_CTX_set_read_ahead(ctx, 1);
	(void)SSL_CTX_set_num_tickets(ctx, 1);
	(void)SSL_CTX_set_session_id_context(
	    ctx, (const unsigned char *)"parley", 6);
	memcpy(keys, pem->ticket_keys, sizeof(keys));
	if (SSL_CTX_set_tlsext_ticket_keys(ctx, keys, sizeof(keys)) != 1) {
		OPENSSL_cleanse(keys, sizeof(keys));
		tls_why(why, n, "cannot set the ticket keys");
		goto err_free;
	}
	OPENSSL_cleanse(keys, sizeof(keys));
	if (tls_ctx_use_chain(ctx, pem, why, n) < 0 ||
	    tls_ctx_use_key(ctx, pem, why, n) < 0)
		goto err_free;
	return ctx;
err_free:
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_ctx_describe(SSL_CTX *ctx, char *out, size_t n)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	const ASN1_TIME *end = x ? X509_get0_notAfter(x) : NULL;
	char cn[128] = "?", date[32] = "?";
	struct tm tm;

	if (x && X509_NAME_get_text_by_NID(X509_get_subject_name(x),
					   NID_commonName, cn, sizeof(cn)) < 0)
		snprintf(cn, sizeof(cn), "(no common name)");
	if (end && ASN1_TIME_to_tm(end, &tm) == 1)
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(out, n, "CN=%s, %s %s", cn,
		 end && X509_cmp_current_time(end) < 0 ? "EXPIRED" : "expires",
		 date);
	ERR_clear_error();
}

void
tls_ctx_install(SSL_CTX *ctx, unsigned generation)
{
	SSL_CTX_free(tls_current);
	tls_current = ctx;
	tls_current_gen = generation;
}

SSL_CTX *
tls_ctx_current(void)
{
	return tls_current;
}

unsigned
tls_ctx_generation(void)
{
	return tls_current_gen;
}

/* ---- hand-over to workers ------------------------------------------------ */

static int
tls_write_all(int fd, const void *p, size_t len)
{
	const char *s = p;

	while (len > 0) {
		ssize_t w = write(fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

int
tls_pem_to_memfd(const struct tls_pem *pem)
{
	int fd = memfd_create("parley-tls", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int err;

	if (fd < 0)
		return -errno;
	if ((err = tls_write_all(fd, pem->cert, pem->cert_len)) < 0 ||
	    (err = tls_write_all(fd, pem->key, pem->key_len)) < 0 ||
	    (err = tls_write_all(fd, pem->ticket_keys,
				 sizeof(pem->ticket_keys))) < 0)
		goto err_close;
	/* What the workers read is what was checked here. */
	if (fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
	    0) {
		err = -errno;
		goto err_close;
	}
	return fd;
err_close:
	close(fd);
	return err;
}

static int
tls_pread_all(int fd, char *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t r = pread(fd, p, len, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EBADMSG;
		p += r;
		off += r;
		len -= (size_t)r;
	}
	return 0;
}

int
tls_pem_from_memfd(struct tls_pem *pem, int fd, size_t cert_len, size_t key_len,
		   size_t ticket_len)
{
	int err;

	memset(pem, 0, sizeof(*pem));
	if (cert_len == 0 || cert_len > TLS_PEM_MAX || key_len == 0 ||
	    key_len > TLS_PEM_MAX || ticket_len != sizeof(pem->ticket_keys))
		return -EBADMSG;
	pem->cert = malloc(cert_len + 1);
	pem->key = malloc(key_len + 1);
	if (!pem->cert || !pem->key) {
		err = -ENOMEM;
		goto err_free;
	}
	pem->cert_len = cert_len;
	pem->key_len = key_len;
	if ((err = tls_pread_all(fd, pem->cert, cert_len, 0)) < 0 ||
	    (err = tls_pread_all(fd, pem->key, key_len, (off_t)cert_len)) < 0 ||
	    (err = tls_pread_all(fd, (char *)pem->ticket_keys, ticket_len,
				 (off_t)(cert_len + key_len))) < 0)
		goto err_free;
	pem->cert[cert_len] = '\0';
	pem->key[key_len] = '\0';
	return 0;
err_free:
	tls_pem_free(pem);
	return err;
}
