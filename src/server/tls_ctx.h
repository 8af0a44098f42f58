/*
 * tls_ctx: the server's TLS context (OpenSSL): a certificate chain, its
 * key and the session-ticket keys, as PEM bytes read by the supervisor and
 * as the SSL_CTX every process builds from them. Each process has one
 * current context; new connections use it, open ones keep the one they
 * started with (each SSL holds a reference to its SSL_CTX).
 */
#ifndef PARLEY_TLS_CTX_H
#define PARLEY_TLS_CTX_H

#include <stddef.h>
#include <stdint.h>

#define TLS_TICKET_KEYS_LEN 80	      /* name 16, HMAC 32, AES 32 */
#define TLS_PEM_MAX	    (1 << 20) /* a certificate chain, or a key */

/* What a context is made of. The supervisor reads it from files; a worker
 * receives it in a memfd (CHANNEL_TLS_CONTEXT). */
struct tls_pem {
	char *cert; /* PEM: the certificate, then its chain */
	size_t cert_len;
	char *key; /* PEM: the private key */
	size_t key_len;
	/* Shared by every process, so a ticket one process issued resumes
	 * in any other; renewed at each reload. */
	unsigned char ticket_keys[TLS_TICKET_KEYS_LEN];
	unsigned generation; /* 1 for the first context, +1 per reload */
};

typedef struct ssl_ctx_st SSL_CTX;

/* Initialises OpenSSL (and reads its configuration file): once, in the
 * supervisor, before any fork, so no sandboxed process ever needs to. */
void tls_init(void);

/* Reads cert_file and key_file (at most TLS_PEM_MAX bytes each) into pem
 * and draws fresh ticket keys. Returns 0, or -1 with why (n bytes) naming
 * the file and the reason. Blocks on the disk (small files). */
int tls_pem_read(struct tls_pem *pem, const char *cert_file,
		 const char *key_file, char *why, size_t n)
    __attribute__((warn_unused_result));

/* Wipes and frees what pem holds. */
void tls_pem_free(struct tls_pem *pem);

/* A server context from pem: TLS 1.2 and 1.3 only, the library's default
 * ciphers, the chain, the key (checked against the certificate), tickets
 * with pem's keys. Returns it, or NULL with why filled. Does no I/O. */
SSL_CTX *tls_ctx_build(const struct tls_pem *pem, char *why, size_t n);

/* "CN=example.org, expires 2027-03-01" for the log. */
void tls_ctx_describe(SSL_CTX *ctx, char *out, size_t n);

/* Makes ctx (owned from now on) this process's current context, dropping
 * the reference to the previous one; connections that use it keep it. */
void tls_ctx_install(SSL_CTX *ctx, unsigned generation);

/* The current context, or NULL if TLS is not configured. */
SSL_CTX *tls_ctx_current(void);

/* Its generation (0 for none). */
unsigned tls_ctx_generation(void);

/* Writes pem into a sealed memfd for a worker. Returns the fd or -errno. */
int tls_pem_to_memfd(const struct tls_pem *pem)
    __attribute__((warn_unused_result));

/* Reads what tls_pem_to_memfd wrote (with these lengths) back into pem.
 * Returns 0 or -errno (-EBADMSG when the lengths do not fit). Only pread:
 * allowed in the sandbox. */
int tls_pem_from_memfd(struct tls_pem *pem, int fd, size_t cert_len,
		       size_t key_len, size_t ticket_len)
    __attribute__((warn_unused_result));

#endif
