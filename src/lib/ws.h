/*
 * ws: WebSocket framing (RFC 6455 section 5): a reader that turns a byte
 * stream of frames into messages and control events, a frame encoder, the
 * UTF-8 check of text messages and the handshake's accept key. Pure, no
 * I/O, no allocation: used by parleyd's WebSocket transport, parley-bench
 * and the tests, and fuzzed. A reader never holds more than one message
 * of at most max_msg bytes, in a buffer its caller provides.
 */
#ifndef PARLEY_WS_H
#define PARLEY_WS_H

#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* Close codes (RFC 6455 section 7.4.1) this code sends or names. */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,    /* a frame broke the protocol */
	WS_CLOSE_UNSUPPORTED = 1003, /* a data type we do not take */
	WS_CLOSE_NO_STATUS = 1005,   /* never sent: a close without a code */
	WS_CLOSE_INVALID = 1007,     /* a text message that is not UTF-8 */
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009, /* a message over the limit */
	WS_CLOSE_INTERNAL = 1011,
};

#define WS_HEADER_MAX	   14  /* 2 + 8 bytes of length + 4 of mask */
#define WS_CONTROL_MAX	   125 /* payload of a control frame */
#define WS_ACCEPT_LEN	   28  /* base64 of a SHA-1 digest */
#define WS_KEY_LEN	   24  /* base64 of 16 random bytes */
#define WS_CLOSE_FRAME_MAX (2 + 2 + 123)

/* Streaming UTF-8 check: zero it, feed bytes, ask whether it ended on a
 * character boundary. Rejects overlong forms, surrogates and code points
 * past U+10FFFF at the first byte that makes them so. */
struct ws_utf8 {
	uint8_t need;	/* continuation bytes still expected */
	uint8_t lo, hi; /* the range of the next continuation byte */
};

/* 0, or -1 at the first invalid byte. */
int ws_utf8_feed(struct ws_utf8 *u, const uint8_t *s, size_t n);

static inline int
ws_utf8_complete(const struct ws_utf8 *u)
{
	return u->need == 0;
}

/* What ws_reader_next found. */
enum ws_event {
	WS_EV_NEED_MORE, /* every byte given is consumed or kept for later */
	WS_EV_MESSAGE,	 /* a whole text or binary message: data, len, op */
	WS_EV_PING,	 /* data, len: answer with a pong of the same */
	WS_EV_PONG,
	WS_EV_CLOSE, /* code (WS_CLOSE_NO_STATUS if none), data/len: reason */
	WS_EV_ERROR, /* code: what to close with; why: for the log */
};

struct ws_reader {
	/* Set before use (the rest zeroed): */
	uint8_t *msg;	/* max_msg bytes: the message being assembled */
	size_t max_msg; /* longest message accepted, over it: 1009 */
	int masked;	/* 1: frames must be masked (a server reading a
			   client), 0: must not be (a client reading a
			   server) */
	int binary_ok;	/* binary messages are taken, else 1003 */

	/* The reader's own: */
	int failed;		     /* after an error, every call repeats it */
	unsigned fail_code;	     /* ... with this code */
	const char *fail_why;	     /* ... and reason */
	int in_frame;		     /* inside a frame's payload */
	int fin;		     /* of that frame */
	unsigned op;		     /* of that frame */
	uint8_t mask[4];	     /* of that frame */
	uint64_t left, got;	     /* of its payload */
	int in_msg;		     /* a data message is under way */
	unsigned msg_op;	     /* WS_OP_TEXT or WS_OP_BINARY */
	size_t msg_len;		     /* bytes of it so far */
	struct ws_utf8 utf8;	     /* of the text message so far */
	uint8_t ctl[WS_CONTROL_MAX]; /* a control frame's payload */
};

/* What an event carries; data is valid until the next call. */
struct ws_result {
	enum ws_event ev;
	unsigned op;   /* WS_EV_MESSAGE: WS_OP_TEXT or WS_OP_BINARY */
	unsigned code; /* WS_EV_CLOSE, WS_EV_ERROR */
	const uint8_t *data;
	size_t len;
	const char *why; /* WS_EV_ERROR: a static reason */
};

/* Reads frames from in[0..len): sets *consumed to the bytes used (the
 * caller drops them; fewer than WS_HEADER_MAX of a header may be left
 * unconsumed, to be given again with more) and returns the first event.
 * Payload bytes are taken as they come: a frame may arrive in pieces.
 * Control frames may come between the fragments of a message. */
void ws_reader_next(struct ws_reader *r, const uint8_t *in, size_t len,
		    size_t *consumed, struct ws_result *res);

/* Writes one frame (fin set) of opcode with payload p[0..n) to out, which
 * must hold n + WS_HEADER_MAX bytes; masked with mask when mask is not
 * NULL (a client must). Returns the frame's length. */
size_t ws_frame_encode(uint8_t *out, unsigned opcode, const void *p, size_t n,
		       const uint8_t *mask);

/* Writes a close frame with code (0: none) and reason (cut to fit on a
 * UTF-8 boundary) to out (WS_CLOSE_FRAME_MAX + 4 bytes); returns its
 * length. */
size_t ws_close_encode(uint8_t *out, unsigned code, const char *reason,
		       const uint8_t *mask);

/* 1 if code may appear in a close frame (RFC 6455 section 7.4). */
int ws_close_code_valid(unsigned code);

/* Base64 (RFC 4648) of in[0..n) into out (4 * ((n + 2) / 3) + 1 bytes,
 * NUL-terminated). Returns the length. */
size_t ws_base64(const uint8_t *in, size_t n, char *out);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the
 * RFC's GUID)) into out (WS_ACCEPT_LEN + 1 bytes, NUL-terminated). */
void ws_accept_key(const char *key, size_t n, char out[WS_ACCEPT_LEN + 1]);

#endif
