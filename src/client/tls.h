/*
 * tls: the terminal client's TLS (OpenSSL): the handshake, with the
 * server's certificate and host name verified against the system's trust
 * store (or --ca FILE) unless --insecure, then reads and writes on the
 * non-blocking socket. One connection per process.
 */
#ifndef PARLEY_CLIENT_TLS_H
#define PARLEY_CLIENT_TLS_H

#include <stddef.h>
#include <sys/types.h>

#define TLS_HANDSHAKE_MS 10000

struct tls_link;

struct tls_opts {
	const char *ca_file; /* trust only these CAs; NULL: the system's */
	int insecure;	     /* do not verify at all */
};

/* A link with the trust settings of o, not yet connected: reads --ca now
 * so that a bad file is reported before connecting. Returns it, or NULL
 * with why (n bytes) holding one line for the user. */
struct tls_link *tls_new(const struct tls_opts *o, char *why, size_t n);

/* Runs the handshake on the connected non-blocking socket fd for host
 * (its name is checked against the certificate, and sent as SNI when it
 * is not an address), waiting at most TLS_HANDSHAKE_MS; shown is how the
 * user wrote the address. Returns 0, or -1 with why holding one line. */
int tls_handshake(struct tls_link *t, int fd, const char *host,
		  const char *shown, char *why, size_t n);

/* Reads: the count, 0 at the end, -EAGAIN, or -errno. */
ssize_t tls_read(struct tls_link *t, char *buf, size_t n);

/* Writes: the count, -EAGAIN, or -errno. */
ssize_t tls_write(struct tls_link *t, const char *buf, size_t n);

/* 1 if decrypted bytes wait inside the library (poll will not say). */
int tls_has_pending(const struct tls_link *t);

/* 1 if the last -EAGAIN needs the socket writable (to read, too). */
int tls_wants_write(const struct tls_link *t);

/* Sends close_notify. 0, -EAGAIN to call again, or -errno. */
int tls_shutdown(struct tls_link *t);

/* "TLSv1.3, TLS_AES_256_GCM_SHA384" */
void tls_describe(const struct tls_link *t, char *out, size_t n);

/* Frees the link (not the socket). */
void tls_free(struct tls_link *t);

#endif
