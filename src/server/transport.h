/*
 * transport: how a session moves a client's bytes (TCP here; TLS and
 * WebSocket fit the same interface). Session code above it sees a byte
 * stream and never touches the socket. A transport lives in the session
 * process that owns the connection; the supervisor only accepts.
 */
#ifndef PARLEY_TRANSPORT_H
#define PARLEY_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

/* Which transport a listener uses; travels in CHANNEL_CLIENT_NEW. */
enum transport_id {
	TRANSPORT_TCP = 0,
	TRANSPORT_COUNT,
};

/* What a transport waits for before it can go on (TLS may need to read in
 * order to write). */
#define XCONN_WANT_READ	 0x1
#define XCONN_WANT_WRITE 0x2

struct xconn {
	const struct transport *t;
	int fd;
	void *state;	/* the transport's own */
	unsigned wants; /* XCONN_WANT_* after the last -EAGAIN */
};

struct transport {
	const char *name;
	enum transport_id id;
	/* Sets up state for a connection handed over on fd. 0 or -errno. */
	int (*open)(struct xconn *x);
	/* 1 once the connection carries application bytes (after a
	 * handshake), 0 while not yet, -errno when it failed. */
	int (*ready)(struct xconn *x);
	/* Reads up to n bytes: returns the count, 0 at EOF, -EAGAIN (see
	 * wants) or -errno. */
	ssize_t (*read)(struct xconn *x, char *buf, size_t n);
	/* Writes up to n bytes: returns the count, -EAGAIN or -errno. */
	ssize_t (*write)(struct xconn *x, const char *buf, size_t n);
	/* Ends the write side once everything is written (FIN, or TLS
	 * close_notify). 0, -EAGAIN to call again, or -errno. */
	int (*shutdown)(struct xconn *x);
	/* Bytes written but not yet acknowledged by the peer, or -errno:
	 * a closing connection lingers until it reaches 0. */
	int (*unsent)(struct xconn *x);
	/* Frees state and closes fd. */
	void (*close)(struct xconn *x);
};

/* The transport with this id, or NULL. */
const struct transport *transport_get(unsigned id);

extern const struct transport transport_tcp;

#endif
