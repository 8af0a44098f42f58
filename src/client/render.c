/*
 * render: display form of server lines for the terminal client. Everything
 * from the network passes render_sanitize before it reaches the terminal,
 * so no byte from a peer can move the cursor or change terminal state.
 */
#include "client/render.h"

#include "client/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RENDER_RESET "\x1b[0m"
#define RENDER_BOLD  "\x1b[1m"
#define RENDER_DIM   "\x1b[2m"
#define RENDER_RED   "\x1b[31m"

/* Readable on dark and light backgrounds: no black, white or blue-on-blue. */
static const int render_palette[] = {31, 32, 33, 34, 35, 36,
				     91, 92, 93, 94, 95, 96};

/* An output cursor that never overruns: writes past the end are dropped. */
struct render_out {
	char *s;
	size_t len, cap;
};

static void
render_put(struct render_out *o, const char *s, size_t n)
{
	if (o->cap == 0)
		return;
	if (n > o->cap - 1 - o->len)
		n = o->cap - 1 - o->len;
	memmove(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
render_puts(struct render_out *o, const char *s)
{
	render_put(o, s, strlen(s));
}

size_t
render_sanitize(const char *in, size_t len, char *out, size_t out_len)
{
	struct render_out o = {out, 0, out_len};
	size_t off = 0, n;
	uint32_t cp;
	char enc[4];

	if (out_len > 0)
		out[0] = '\0';
	while (off < len) {
		if (utf8_decode(in + off, len - off, &cp, &n) != UTF8_OK) {
			render_put(&o, enc, utf8_encode(UTF8_REPLACEMENT, enc));
			off++;
			continue;
		}
		off += n;
		if (cp == '\t')
			render_put(&o, " ", 1);
		else if (cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0))
			render_put(&o, in + off - n, n);
	}
	return o.len;
}

int
render_nick_colour(const char *nick, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)nick[i];
		h *= 16777619u;
	}
	return render_palette[h % (sizeof(render_palette) /
				   sizeof(render_palette[0]))];
}

static void
render_nick(struct render_out *o, const char *nick, size_t len)
{
	char sgr[16];

	snprintf(sgr, sizeof(sgr), "\x1b[%dm", render_nick_colour(nick, len));
	render_puts(o, sgr);
	render_put(o, nick, len);
	render_puts(o, RENDER_RESET);
}

/* "<nick> text", "* nick text" or "[history T] <nick> text" after a room. */
static void
render_room_body(struct render_out *o, const char *s, size_t len)
{
	const char *end = s + len, *p;

	if (len > 9 && memcmp(s, "[history ", 9) == 0 &&
	    (p = memchr(s, ']', len)) != NULL) {
		render_puts(o, RENDER_DIM);
		render_put(o, s, (size_t)(p + 1 - s));
		render_puts(o, RENDER_RESET);
		s = p + 1;
		if (s < end && *s == ' ')
			render_put(o, s++, 1);
	}
	if (s < end && *s == '<' &&
	    (p = memchr(s, '>', (size_t)(end - s))) != NULL) {
		render_put(o, "<", 1);
		render_nick(o, s + 1, (size_t)(p - s - 1));
		s = p;
	} else if (end - s > 2 && memcmp(s, "* ", 2) == 0) {
		render_put(o, "* ", 2);
		s += 2;
		p = memchr(s, ' ', (size_t)(end - s));
		if (!p)
			p = end;
		render_nick(o, s, (size_t)(p - s));
		s = p;
	}
	render_put(o, s, (size_t)(end - s));
}

static void
render_colour(struct render_out *o, const char *s, size_t len)
{
	const char *end = s + len, *p;

	if (s[0] == '#' && (p = memchr(s, ' ', len)) != NULL) {
		render_puts(o, RENDER_BOLD);
		render_put(o, s, (size_t)(p - s));
		render_puts(o, RENDER_RESET);
		render_put(o, " ", 1);
		render_room_body(o, p + 1, (size_t)(end - p - 1));
	} else if (s[0] == '*' && len > 1 &&
		   (p = memchr(s + 1, '*', len - 1)) != NULL) {
		render_puts(o, RENDER_BOLD);
		render_put(o, "*", 1);
		render_nick(o, s + 1, (size_t)(p - s - 1));
		render_puts(o, RENDER_BOLD);
		render_put(o, "*", 1);
		render_puts(o, RENDER_RESET);
		render_put(o, p + 1, (size_t)(end - p - 1));
	} else if (len > 4 && memcmp(s, "-> *", 4) == 0 &&
		   (p = memchr(s + 4, '*', len - 4)) != NULL) {
		render_puts(o, RENDER_DIM "->" RENDER_RESET " *");
		render_nick(o, s + 4, (size_t)(p - s - 4));
		render_put(o, p, (size_t)(end - p));
	} else if (len >= 3 && memcmp(s, "-!-", 3) == 0) {
		int error = len > 10 && memcmp(s, "-!- error:", 10) == 0;
		render_puts(o, error ? RENDER_RED RENDER_BOLD : RENDER_DIM);
		render_put(o, s, 3);
		render_puts(o, RENDER_RESET);
		if (error)
			render_puts(o, RENDER_RED);
		render_put(o, s + 3, len - 3);
		if (error)
			render_puts(o, RENDER_RESET);
	} else {
		render_put(o, s, len);
	}
}

size_t
render_line(const char *line, size_t len, int colour, char *out, size_t out_len)
{
	/* Sanitise into the tail of out, then colour into its head: the
	 * coloured form is at most 256 bytes longer than the clean one. */
	size_t clean_cap = 3 * len + 1, clean_len;
	char *clean;
	struct render_out o = {out, 0, out_len};

	if (out_len < RENDER_OUT_MAX(len)) {
		if (out_len > 0)
			out[0] = '\0';
		return 0;
	}
	if (!colour)
		return render_sanitize(line, len, out, out_len);
	clean = out + out_len - clean_cap;
	clean_len = render_sanitize(line, len, clean, clean_cap);
	if (clean_len == 0) {
		out[0] = '\0';
		return 0;
	}
	/* Colouring writes ahead of where it reads only if it grows by more
	 * than the gap, which RENDER_OUT_MAX rules out; memmove keeps it
	 * safe regardless. */
	memmove(out + out_len - clean_len - 1, clean, clean_len + 1);
	clean = out + out_len - clean_len - 1;
	render_colour(&o, clean, clean_len);
	return o.len;
}
