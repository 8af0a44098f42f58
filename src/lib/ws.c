/*
 * ws: RFC 6455 framing as pure functions. The reader validates every frame
 * as its header arrives (reserved bits, opcodes, masking, control frame
 * rules, sizes) and every text byte as it arrives (fail fast on invalid
 * UTF-8), so a bad peer is refused before it has sent the rest.
 */
#include "lib/ws.h"

#include "lib/sha1.h"

#include <string.h>

int
ws_utf8_feed(struct ws_utf8 *u, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = s[i];
		if (u->need) {
			if (b < u->lo || b > u->hi)
				return -1;
			u->need--;
			u->lo = 0x80;
			u->hi = 0xBF;
			continue;
		}
		u->lo = 0x80;
		u->hi = 0xBF;
		if (b < 0x80)
			continue;
		if (b >= 0xC2 && b <= 0xDF) {
			u->need = 1;
		} else if (b >= 0xE0 && b <= 0xEF) {
			u->need = 2;
			if (b == 0xE0)
				u->lo = 0xA0; /* no overlong forms */
			else if (b == 0xED)
				u->hi = 0x9F; /* no surrogates */
		} else if (b >= 0xF0 && b <= 0xF4) {
			u->need = 3;
			if (b == 0xF0)
				u->lo = 0x90;
			else if (b == 0xF4)
				u->hi = 0x8F; /* nothing past U+10FFFF */
		} else {
			return -1;
		}
	}
	return 0;
}

int
ws_close_code_valid(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return 1; /* registered and private use */
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

static void
ws_fail(struct ws_reader *r, struct ws_result *res, unsigned code,
	const char *why)
{
	r->failed = 1;
	r->fail_code = code;
	r->fail_why = why;
	res->ev = WS_EV_ERROR;
	res->code = code;
	res->why = why;
}

/* Checks a frame header against the state; 0, or -1 with res filled. */
static int
ws_check_header(struct ws_reader *r, struct ws_result *res, unsigned b0,
		int masked, uint64_t plen)
{
	unsigned op = b0 & 0x0F;
	int fin = (b0 & 0x80) != 0;

	if (b0 & 0x70) {
		ws_fail(r, res, WS_CLOSE_PROTOCOL, "reserved bits set");
		return -1;
	}
	if (masked != r->masked) {
		ws_fail(r, res, WS_CLOSE_PROTOCOL,
			masked ? "masked frame from the server"
			       : "unmasked frame from the client");
		return -1;
	}
	switch (op) {
	case WS_OP_CONT:
		if (!r->in_msg) {
			ws_fail(r, res, WS_CLOSE_PROTOCOL,
				"continuation frame without a message");
			return -1;
		}
		break;
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (r->in_msg) {
			ws_fail(r, res, WS_CLOSE_PROTOCOL,
				"new message inside a fragmented one");
			return -1;
		}
		if (op == WS_OP_BINARY && !r->binary_ok) {
			ws_fail(r, res, WS_CLOSE_UNSUPPORTED,
				"binary messages are not accepted");
			return -1;
		}
		break;
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!fin || plen > WS_CONTROL_MAX) {
			ws_fail(r, res, WS_CLOSE_PROTOCOL,
				!fin ? "fragmented control frame"
				     : "control frame over 125 bytes");
			return -1;
		}
		return 0;
	default:
		ws_fail(r, res, WS_CLOSE_PROTOCOL, "unknown opcode");
		return -1;
	}
	if (plen > r->max_msg ||
	    (op == WS_OP_CONT ? r->msg_len : 0) > r->max_msg - (size_t)plen) {
		ws_fail(r, res, WS_CLOSE_TOO_BIG, "message too big");
		return -1;
	}
	return 0;
}

/* Reads a frame header at in[0..len). Returns its length, 0 if more bytes
 * are needed, -1 on a protocol error (res filled). */
static int
ws_header(struct ws_reader *r, const uint8_t *in, size_t len,
	  struct ws_result *res)
{
	size_t hlen = 2;
	uint64_t plen;
	int masked;

	if (len < 2)
		return 0;
	masked = (in[1] & 0x80) != 0;
	plen = in[1] & 0x7F;
	hlen += plen == 126 ? 2 : plen == 127 ? 8 : 0;
	hlen += masked ? 4 : 0;
	if (len < hlen)
		return 0;
	if (plen == 126) {
		plen = (uint64_t)in[2] << 8 | in[3];
	} else if (plen == 127) {
		plen = 0;
		for (int i = 0; i < 8; i++)
			plen = plen << 8 | in[2 + i];
		if (plen >> 63) {
			ws_fail(r, res, WS_CLOSE_PROTOCOL,
				"frame length with its top bit set");
			return -1;
		}
	}
	if (ws_check_header(r, res, in[0], masked, plen) < 0)
		return -1;
	r->in_frame = 1;
	r->fin = (in[0] & 0x80) != 0;
	r->op = in[0] & 0x0F;
	r->left = plen;
	r->got = 0;
	memset(r->mask, 0, sizeof(r->mask));
	if (masked)
		memcpy(r->mask, in + hlen - 4, 4);
	if (r->op == WS_OP_TEXT || r->op == WS_OP_BINARY) {
		r->in_msg = 1;
		r->msg_op = r->op;
		r->msg_len = 0;
		memset(&r->utf8, 0, sizeof(r->utf8));
	}
	return (int)hlen;
}

/* A whole control frame is in r->ctl: what it says. */
static void
ws_control(struct ws_reader *r, struct ws_result *res)
{
	size_t n = (size_t)r->got;
	struct ws_utf8 u = {0};

	res->data = r->ctl;
	res->len = n;
	if (r->op == WS_OP_PING) {
		res->ev = WS_EV_PING;
		return;
	}
	if (r->op == WS_OP_PONG) {
		res->ev = WS_EV_PONG;
		return;
	}
	if (n == 1) {
		ws_fail(r, res, WS_CLOSE_PROTOCOL, "close frame of one byte");
		return;
	}
	res->code = WS_CLOSE_NO_STATUS;
	if (n >= 2) {
		res->code = (unsigned)r->ctl[0] << 8 | r->ctl[1];
		if (!ws_close_code_valid(res->code)) {
			ws_fail(r, res, WS_CLOSE_PROTOCOL,
				"invalid close code");
			return;
		}
		if (ws_utf8_feed(&u, r->ctl + 2, n - 2) < 0 ||
		    !ws_utf8_complete(&u)) {
			ws_fail(r, res, WS_CLOSE_INVALID,
				"close reason is not UTF-8");
			return;
		}
		res->data = r->ctl + 2;
		res->len = n - 2;
	}
	res->ev = WS_EV_CLOSE;
	r->failed = 1; /* nothing may follow a close */
	r->fail_code = WS_CLOSE_PROTOCOL;
	r->fail_why = "frame after a close";
}

/* Takes what in[0..len) has of the current frame's payload; returns the
 * count, or -1 on invalid UTF-8 (res filled). */
static long
ws_payload(struct ws_reader *r, const uint8_t *in, size_t len,
	   struct ws_result *res)
{
	int control = r->op >= WS_OP_CLOSE;
	size_t take = len < r->left ? len : (size_t)r->left;
	uint8_t *dst = control ? r->ctl + r->got : r->msg + r->msg_len;

	for (size_t i = 0; i < take; i++)
		dst[i] = in[i] ^ r->mask[(r->got + i) & 3];
	r->got += take;
	r->left -= take;
	if (control)
		return (long)take;
	r->msg_len += take;
	if (r->msg_op == WS_OP_TEXT && ws_utf8_feed(&r->utf8, dst, take) < 0) {
		ws_fail(r, res, WS_CLOSE_INVALID,
			"invalid UTF-8 in a text message");
		return -1;
	}
	return (long)take;
}

void
ws_reader_next(struct ws_reader *r, const uint8_t *in, size_t len,
	       size_t *consumed, struct ws_result *res)
{
	size_t pos = 0;

	memset(res, 0, sizeof(*res));
	*consumed = 0;
	if (r->failed) {
		ws_fail(r, res, r->fail_code, r->fail_why);
		return;
	}
	for (;;) {
		if (!r->in_frame) {
			int h = ws_header(r, in + pos, len - pos, res);
			if (h <= 0)
				break; /* more bytes, or an error */
			pos += (size_t)h;
		}
		long took = ws_payload(r, in + pos, len - pos, res);
		if (took < 0)
			break;
		pos += (size_t)took;
		if (r->left > 0)
			break;
		r->in_frame = 0;
		if (r->op >= WS_OP_CLOSE) {
			ws_control(r, res);
			break;
		}
		if (!r->fin)
			continue;
		r->in_msg = 0;
		if (r->msg_op == WS_OP_TEXT && !ws_utf8_complete(&r->utf8)) {
			ws_fail(r, res, WS_CLOSE_INVALID,
				"text message ends inside a character");
			break;
		}
		res->ev = WS_EV_MESSAGE;
		res->op = r->msg_op;
		res->data = r->msg;
		res->len = r->msg_len;
		break;
	}
	*consumed = pos;
}

size_t
ws_frame_encode(uint8_t *out, unsigned opcode, const void *p, size_t n,
		const uint8_t *mask)
{
	const uint8_t *src = p;
	size_t h = 2;

	out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
	if (n < 126) {
		out[1] = (uint8_t)n;
	} else if (n <= 0xFFFF) {
		out[1] = 126;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		h = 4;
	} else {
		out[1] = 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	if (!mask) {
		if (n)
			memcpy(out + h, src, n);
		return h + n;
	}
	out[1] |= 0x80;
	memcpy(out + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		out[h + i] = src[i] ^ mask[i & 3];
	return h + n;
}

size_t
ws_close_encode(uint8_t *out, unsigned code, const char *reason,
		const uint8_t *mask)
{
	uint8_t p[WS_CONTROL_MAX];
	size_t n = 0;

	if (code) {
		size_t len = reason ? strlen(reason) : 0;
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		n = 2;
		if (len > WS_CONTROL_MAX - 2) {
			len = WS_CONTROL_MAX - 2;
			/* Back to a character boundary. */
			while (len > 0 && ((uint8_t)reason[len] & 0xC0) == 0x80)
				len--;
		}
		if (len)
			memcpy(p + 2, reason, len);
		n += len;
	}
	return ws_frame_encode(out, WS_OP_CLOSE, p, n, mask);
}

size_t
ws_base64(const uint8_t *in, size_t n, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

void
ws_accept_key(const char *key, size_t n, char out[WS_ACCEPT_LEN + 1])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	uint8_t digest[SHA1_DIGEST_LEN];
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, key, n);
	sha1_update(&s, guid, sizeof(guid) - 1);
	sha1_final(&s, digest);
	ws_base64(digest, sizeof(digest), out);
}
