/*
 * tlslib: TLS for the integration tests: certificates made at run time
 * with the openssl command into a temporary directory, and a line-oriented
 * TLS test client (OpenSSL) with deadlines, like tc_* in testlib.h.
 * Runs in the test process; never sleeps.
 */
#ifndef PARLEY_TEST_TLSLIB_H
#define PARLEY_TEST_TLSLIB_H

#include <stddef.h>

/* ---- certificates ------------------------------------------------------- */

/* A fresh temporary directory (0755, so that a server that dropped root can
 * read what is made in it) in dir (n bytes). 0 or -1. */
int tt_dir_make(char *dir, size_t n);

/* Removes dir and every file in it. */
void tt_dir_remove(const char *dir);

/* Makes dir/NAME.pem and dir/NAME.key: an EC P-256 certificate for cn with
 * subjectAltName san (e.g. "DNS:localhost,IP:127.0.0.1"), signed by
 * dir/ISSUER.pem and .key, or self-signed when issuer is NULL. ca: a CA
 * certificate (CA:TRUE) rather than a server's. 0 or -1. */
int tt_cert_make(const char *dir, const char *name, const char *cn,
		 const char *san, const char *issuer, int ca);

/* dir/NAME into out (n bytes). */
void tt_path(const char *dir, const char *name, char *out, size_t n);

/* Writes the concatenation of files (NULL-terminated list of paths) to
 * path, replacing it in one rename. 0 or -1. */
int tt_cat(const char *path, const char *const *files);

/* The certificates most TLS tests share, in a fresh tt_dir_make directory
 * (remove it with tt_dir_remove(dir)): a CA "ca" (CN "parley test CA")
 * and two server certificates it signed, "a" (CN "first") and "b" (CN
 * "second"), both for DNS:localhost and IP:127.0.0.1. */
struct tt_pki {
	char dir[256];
	char ca_pem[512];
	char a_pem[512], a_key[512];
	char b_pem[512], b_key[512];
};

/* Makes them and fills in the paths. 0 or -1. */
int tt_pki_make(struct tt_pki *p);

/* Copies the certificate pem to cur_pem and its key to cur_key, each in
 * one rename (what an operator does before a reload). 0 or -1. */
int tt_cert_install(const char *cur_pem, const char *cur_key, const char *pem,
		    const char *key);

/* ---- a TLS client -------------------------------------------------------- */

struct tt_conn;

struct tt_opts {
	const char *ca_file; /* verify against it; NULL: do not verify */
	const char *host;    /* name to verify and send as SNI; NULL: none */
	int max_version;     /* e.g. TLS1_2_VERSION; 0: the library's */
	int min_version;     /* 0: the library's */
	void *session;	     /* an SSL_SESSION to resume (tt_session) */
	int rcvbuf;	     /* SO_RCVBUF before connecting (a client that
				reads slowly); 0: the kernel's */
};

/* Connects to 127.0.0.1:port and runs the handshake within timeout_ms.
 * Returns the connection, or NULL (with the reason in why, n bytes). */
struct tt_conn *tt_connect(int port, const struct tt_opts *o, char *why,
			   size_t n, int timeout_ms);

/* Sends a formatted string exactly. 0 or -1. */
int tt_send(struct tt_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reads lines until one contains substr: its length (line in out if not
 * NULL), -1 on timeout, -2 at EOF or error. */
int tt_expect(struct tt_conn *c, const char *substr, char *out, size_t n,
	      int timeout_ms);

/* Raw bytes, for a protocol of frames over TLS (wslib.h): writes n bytes
 * exactly within timeout_ms (0 or -1); reads what is there first (up to
 * n bytes), waiting up to timeout_ms: the count, 0 at EOF or on an error,
 * -1 on timeout. */
int tt_write(struct tt_conn *c, const void *p, size_t n, int timeout_ms);
int tt_read(struct tt_conn *c, void *p, size_t n, int timeout_ms);

/* Waits for the end of the connection, discarding lines: 0, or -1. */
int tt_wait_eof(struct tt_conn *c, int timeout_ms);

/* The common name of the server's certificate into out. */
void tt_peer_cn(struct tt_conn *c, char *out, size_t n);

/* 1 if the handshake resumed a session. */
int tt_resumed(struct tt_conn *c);

/* The session to resume later (an SSL_SESSION *, to free with
 * tt_session_free), or NULL. Read a line first: TLS 1.3 tickets arrive
 * after the handshake. */
void *tt_session(struct tt_conn *c);
void tt_session_free(void *session);

/* The bytes of a real ClientHello (made with memory BIOs, nothing sent)
 * into buf: their count, or -1. */
int tt_client_hello(unsigned char *buf, size_t cap);

/* Closes the connection (without close_notify) and frees it. */
void tt_close(struct tt_conn *c);

/* Runs argv (argv[0] looked up in PATH) with stdin from in (may be NULL),
 * collecting stdout and stderr into out and err (n bytes each, NUL
 * terminated), for at most timeout_ms. Returns the exit status (or 128+N
 * for signal N), or -1 if it had to be killed. */
int tt_run(char *const argv[], const char *in, char *out, char *err, size_t n,
	   int timeout_ms);

#endif
