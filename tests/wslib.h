/*
 * wslib: a WebSocket test client (RFC 6455, written from the RFC with
 * lib/ws.h) over a plain socket or a TLS connection (tlslib.h), for the
 * integration tests of the http and https ports: raw requests, the
 * upgrade, frames, and waits with deadlines. Runs in the test process;
 * never sleeps.
 */
#ifndef PARLEY_TEST_WSLIB_H
#define PARLEY_TEST_WSLIB_H

#include "lib/ws.h"

#include <stddef.h>
#include <stdint.h>

#define WC_WAIT_MS 10000
#define WC_KEY	   "dGhlIHNhbXBsZSBub25jZQ==" /* RFC 6455's example */

struct tt_conn;

/* One client connection and what it has read but not yet taken. */
struct wc {
	int fd;
	struct tt_conn *tls; /* NULL: plain TCP on fd */
	char nick[64];	     /* after wc_join */
	uint8_t buf[1 << 17];
	size_t len;
	struct ws_reader rd;
	uint8_t msg[1 << 16];
	int eof;
};

/* SO_RCVBUF of the next plain connections wc_request, wc_upgrade and
 * wc_join make; 0: the kernel's. */
extern int wc_rcvbuf;

/* A client on a connected plain socket fd, or on a TLS connection whose
 * handshake is done; the client owns either and frees it in wc_free. */
struct wc *wc_new(int fd);
struct wc *wc_new_tls(struct tt_conn *tls);
void wc_free(struct wc *c);

/* Sends n bytes exactly. 0 or -1. */
int wc_send_raw(struct wc *c, const void *p, size_t n);

/* Reads what comes next into c->buf within timeout_ms: the count, 0 at EOF
 * (c->eof set), -1 on timeout. */
int wc_read_more(struct wc *c, int timeout_ms);

/* Reads the response head (to the blank line) into out (n bytes). Returns
 * its length, -1 on timeout or EOF. Bytes after it stay in c->buf. */
int wc_read_head(struct wc *c, char *out, size_t n, int timeout_ms);

/* Sends a request (lines without the final blank one) on c and reads the
 * answer's head into head ("" if none came). */
void wc_request_on(struct wc *c, const char *request, char *head, size_t n);

/* The same on a new plain connection to 127.0.0.1:port; NULL if it cannot
 * connect. */
struct wc *wc_request(int port, const char *request, char *head, size_t n);

/* The opening handshake for /ws (Host 127.0.0.1:port) with extra header
 * lines ("" for none), on c or on a new plain connection. */
void wc_upgrade_on(struct wc *c, int port, const char *extra, char *head,
		   size_t n);
struct wc *wc_upgrade(int port, const char *extra, char *head, size_t n);

/* Upgrades c and waits for its welcome and its join of #lobby (nick in
 * c->nick). 0, or -1 after a CHECK. */
int wc_join_on(struct wc *c, int port, const char *extra);

/* wc_join_on on a new plain connection: the client, or NULL. */
struct wc *wc_join(int port, const char *extra);

/* One frame from the client: b0 is FIN, RSV and opcode; masked unless
 * unmasked; claim (if not 0) is a 64-bit length the header says, and
 * only the header is sent. 0 or -1. */
int wc_frame(struct wc *c, unsigned b0, const void *p, size_t n, int unmasked,
	     uint64_t claim);

/* A text message (one masked frame). 0 or -1. */
int wc_text(struct wc *c, const char *s);

/* The next event from the server (messages, pongs, close). Returns 0, -1
 * on timeout, -2 on EOF. */
int wc_next(struct wc *c, struct ws_result *res, int timeout_ms);

/* Waits for a text message containing want (copied to out if not NULL).
 * 0 or -1. */
int wc_expect(struct wc *c, const char *want, char *out, size_t n);

/* Waits for the server's close frame: its code (0 for none), or -1. The
 * reason goes to reason if not NULL. */
int wc_expect_close(struct wc *c, char *reason, size_t n);

/* 0 once the server has closed the connection, -1 on timeout. */
int wc_expect_eof(struct wc *c);

#endif
