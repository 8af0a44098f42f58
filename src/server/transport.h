/*
 * transport: how a session moves a client's bytes (TCP, TLS; WebSocket,
 * which runs over a lower transport). Session code above it sees a
 * byte stream of lines and never touches the socket. A transport lives in
 * the session process that owns the connection; the supervisor only
 * accepts.
 */
#ifndef PARLEY_TRANSPORT_H
#define PARLEY_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

/* Which transport a listener uses; travels in CHANNEL_CLIENT_NEW. */
enum transport_id {
	TRANSPORT_TCP = 0,
	TRANSPORT_WS = 1,  /* HTTP and WebSocket over TCP (--http-listen) */
	TRANSPORT_TLS = 2, /* OpenSSL over TCP (transport_tls.c) */
	TRANSPORT_WSS = 3, /* HTTPS and WebSocket over TLS (--https-listen) */
	TRANSPORT_COUNT,
};

/* What a transport waits for before it can go on (TLS may need to read in
 * order to write). */
#define XCONN_WANT_READ	 0x1
#define XCONN_WANT_WRITE 0x2

/* What ready() returns when the transport has answered the peer itself
 * (an HTTP request that is no WebSocket upgrade): the connection is no
 * chat client. The session closes it cleanly (flush, shut down, linger)
 * without opening a protocol, with x->why as the reason. */
#define XCONN_DONE 2

/* What ready() returns when the connection can be greeted but may still
 * turn out to be no client of this port: a plaintext port that has seen
 * no byte yet, where a TLS ClientHello may be on its way. The protocol
 * greets the client (which only it sees; writes work), but what others
 * would see (its HELLO, so its join) and its input wait until ready()
 * returns 1. The session asks again when bytes arrive and at ready_by_ms
 * (with late set). */
#define XCONN_TENTATIVE 3

struct config;

struct xconn {
	const struct transport *t;
	int fd;
	void *state;	/* the transport's own */
	unsigned wants; /* XCONN_WANT_* after the last -EAGAIN */
	/* Set by the session before open(): */
	const struct config *cfg; /* the server's settings, read-only */
	/* The listener's protocol (enum proto_id). A transport whose
	 * handshake chooses the protocol (a WebSocket subprotocol) sets it
	 * before ready() returns 1; the session then speaks that one. */
	unsigned proto;
	/* The handshake deadline (loop_now_ms clock), the one for every
	 * transport: the session sets it before open() to the hand-over
	 * time plus --handshake-timeout, for the whole handshake (TLS, then
	 * HTTP and the WebSocket upgrade for wss). A transport may bring it
	 * forward, never later, to be asked again sooner (the plaintext
	 * sniff). Once it has passed, the session sets late and calls
	 * ready() once more, which must then decide: 1, XCONN_DONE or
	 * -errno (with why); 0 or XCONN_TENTATIVE then closes the
	 * connection as timed out. */
	long long ready_by_ms;
	int late;
	/* Set by the transport: why it ended the connection (for the log
	 * and the quit reason; valid until close), or NULL for the usual
	 * "connection lost". */
	const char *why;
};

struct transport {
	const char *name;
	enum transport_id id;
	/* Sets up state for a connection handed over on fd. 0 or -errno. */
	int (*open)(struct xconn *x);
	/* 1 once the connection carries application bytes (after a
	 * handshake), 0 while not yet (see wants), XCONN_DONE or
	 * XCONN_TENTATIVE (above), -errno when it failed (with why). See
	 * ready_by_ms for the deadline. */
	int (*ready)(struct xconn *x);
	/* Reads up to n bytes: returns the count, 0 at EOF, -EAGAIN (see
	 * wants) or -errno. */
	ssize_t (*read)(struct xconn *x, char *buf, size_t n);
	/* Writes up to n bytes: returns the count, -EAGAIN or -errno. The
	 * session writes whole lines. A framing transport that takes a line
	 * but can send only part of its frame keeps the rest and leaves the
	 * line's last byte unconsumed, so that the session calls again,
	 * with that byte first, once the socket is writable (TLS does the
	 * same with a record OpenSSL has taken but not sent). What a
	 * transport has taken does not count in the client's send queue,
	 * like what the kernel has. Bytes written before ready() returned 1
	 * are dropped. */
	ssize_t (*write)(struct xconn *x, const char *buf, size_t n);
	/* Ends the write side once everything is written (FIN, or TLS
	 * close_notify). 0, -EAGAIN to call again, or -errno. */
	int (*shutdown)(struct xconn *x);
	/* Bytes written but not yet acknowledged by the peer, or -errno:
	 * a closing connection lingers until it reaches 0. */
	int (*unsent)(struct xconn *x);
	/* Frees state and closes fd. */
	void (*close)(struct xconn *x);
	/* A layered transport (WebSocket) runs over this one, which it
	 * opens on the same fd; NULL for a transport on the socket. */
	const struct transport *lower;
	/* 1: encrypted on the wire (TLS, and what runs over it): a layer
	 * above serves https and wss origins. */
	int secure;
};

/* The transport with this id, or NULL. */
const struct transport *transport_get(unsigned id);

extern const struct transport transport_tcp;
extern const struct transport transport_ws; /* over transport_tcp */
extern const struct transport transport_tls;
extern const struct transport transport_wss; /* ws over transport_tls */

/* transport_tcp: 1 if the first bytes of a connection (n of them, n >= 1)
 * are the start of a TLS handshake record: a TLS client on a plaintext
 * port. Pure. */
int transport_looks_like_tls(const unsigned char *p, size_t n);

#endif
