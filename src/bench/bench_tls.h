/*
 * bench_tls: TLS for parley-bench's clients (OpenSSL): no verification (a
 * benchmark measures the server, not its certificate), TLS 1.2 or 1.3,
 * non-blocking. One client context per process, made on first use.
 */
#ifndef PARLEY_BENCH_TLS_H
#define PARLEY_BENCH_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct ssl_st;
struct ssl_session_st;

/* A TLS connection over the connected socket fd, resuming session if not
 * NULL. NULL if the library cannot make one. */
struct ssl_st *bench_tls_new(int fd, struct ssl_session_st *session);

/* Goes on with the handshake: 1 when it is done, 0 while it waits (for a
 * writable socket when *want_write is set), -1 when it failed. */
int bench_tls_handshake(struct ssl_st *ssl, int *want_write);

/* Reads: the count, 0 at the end, -EAGAIN, or -errno. */
ssize_t bench_tls_read(struct ssl_st *ssl, char *buf, size_t n);

/* Writes: the count, -EAGAIN, or -errno. */
ssize_t bench_tls_write(struct ssl_st *ssl, const char *buf, size_t n);

/* 1 if the library holds bytes that epoll cannot announce. */
int bench_tls_pending(struct ssl_st *ssl);

/* 1 if the handshake resumed a session. */
int bench_tls_resumed(struct ssl_st *ssl);

/* The session to resume (a reference: free with bench_tls_session_free). */
struct ssl_session_st *bench_tls_session(struct ssl_st *ssl);
void bench_tls_session_free(struct ssl_session_st *session);

/* Frees the connection (not the socket). */
void bench_tls_free(struct ssl_st *ssl);

#endif
