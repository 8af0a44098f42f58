/*
 * line: framing (LF or CRLF, bounded length), telnet IAC stripping and the
 * sanitising rule. Pure and allocation-free so it can be tested at every
 * split offset and fuzzed.
 */
#include "lib/line.h"

#include <string.h>

enum {
	TELNET_IAC = 255,
	TELNET_SE = 240, /* the lowest command byte */
	TELNET_SB = 250,
	TELNET_WILL = 251, /* WILL, WONT, DO, DONT: an option byte follows */
};

/* States of the IAC parser. */
enum { TN_DATA, TN_IAC, TN_OPTION, TN_SB, TN_SB_IAC };

/* Bytes of a subnegotiation dropped at most: past this it is not telnet,
 * and what follows is data again. */
#define TELNET_SB_MAX 64

enum line_result
line_next(struct line_reader *lr, const char *buf, size_t len, size_t *line_off,
	  size_t *line_len, size_t *consumed)
{
	size_t start = 0;
	const char *nl;

	*consumed = 0;
	if (lr->discarding) {
		nl = memchr(buf, '\n', len);
		if (!nl) {
			*consumed = len;
			return LINE_NEED_MORE;
		}
		lr->discarding = 0;
		start = (size_t)(nl - buf) + 1;
		*consumed = start;
	}
	nl = memchr(buf + start, '\n', len - start);
	if (!nl) {
		if (len - start > lr->max_len + 1) {
			/* +1: a CR may still be followed by its LF. */
			lr->discarding = 1;
			*consumed = len;
			return LINE_TOO_LONG;
		}
		return LINE_NEED_MORE;
	}
	size_t n = (size_t)(nl - (buf + start));
	*consumed = start + n + 1;
	if (n > 0 && buf[start + n - 1] == '\r')
		n--;
	if (n > lr->max_len)
		return LINE_TOO_LONG;
	*line_off = start;
	*line_len = n;
	return LINE_OK;
}

/* One byte of a telnet command: dropped, or kept as data when the IAC
 * before it starts no command. Returns the new output length. */
static size_t
line_telnet_byte(struct line_reader *lr, char *buf, size_t out, unsigned char c)
{
	switch (lr->telnet_state) {
	case TN_IAC:
		lr->telnet_state = TN_DATA;
		if (c == TELNET_IAC) {
			buf[out++] = (char)c;
		} else if (c == TELNET_SB) {
			lr->telnet_state = TN_SB;
			lr->telnet_sb_len = 0;
		} else if (c >= TELNET_WILL) {
			lr->telnet_state = TN_OPTION;
		} else if (c < TELNET_SE) {
			/* Not telnet: both bytes are data. */
			buf[out++] = (char)TELNET_IAC;
			buf[out++] = (char)c;
		}
		break;
	case TN_OPTION:
		lr->telnet_state = TN_DATA;
		break;
	default: /* TN_SB, TN_SB_IAC */
		lr->telnet_sb_len++;
		if (lr->telnet_state == TN_SB_IAC && c == TELNET_SE)
			lr->telnet_state = TN_DATA;
		else if (lr->telnet_state == TN_SB_IAC)
			lr->telnet_state = TN_SB; /* IAC IAC: escaped data */
		else if (c == TELNET_IAC)
			lr->telnet_state = TN_SB_IAC;
		break;
	}
	return out;
}

size_t
line_strip_telnet(struct line_reader *lr, char *buf, size_t len)
{
	size_t out = 0, i = 0;

	/* The last read ended in an IAC that starts no command: it is data,
	 * and comes out first. */
	if (lr->telnet_state == TN_IAC && len > 0 &&
	    (unsigned char)buf[0] < TELNET_SE) {
		memmove(buf + 1, buf, len);
		buf[0] = (char)TELNET_IAC;
		lr->telnet_state = TN_DATA;
		out = i = 2;
		len++;
	}
	/* Output never passes input by more than that byte: a kept IAC is
	 * written together with the byte after it. */
	for (; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if ((lr->telnet_state == TN_SB ||
		     lr->telnet_state == TN_SB_IAC) &&
		    lr->telnet_sb_len == TELNET_SB_MAX)
			lr->telnet_state = TN_DATA; /* not telnet after all */
		if (c == '\n' && lr->telnet_state != TN_DATA) {
			/* A line end ends any command and is kept. */
			if (lr->telnet_state == TN_IAC)
				buf[out++] = (char)TELNET_IAC;
			lr->telnet_state = TN_DATA;
		}
		if (lr->telnet_state != TN_DATA)
			out = line_telnet_byte(lr, buf, out, c);
		else if (c == TELNET_IAC)
			lr->telnet_state = TN_IAC;
		else
			buf[out++] = (char)c;
	}
	return out;
}

size_t
line_utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

size_t
line_utf8_cut(const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t lead = max, need;

	if (len <= max)
		return len;
	/* Back over the continuation bytes (at most 3) to a lead byte. */
	while (lead > 0 && max - lead < 3 && (u[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead == 0 || u[lead - 1] < 0xC0)
		return max; /* ends with ASCII, or is not UTF-8 at all */
	need = u[lead - 1] >= 0xF0 ? 4 : u[lead - 1] >= 0xE0 ? 3 : 2;
	return lead - 1 + need > max ? lead - 1 : max;
}

/* C1 controls, the bidirectional overrides and isolates that can disguise
 * text (U+202A-U+202E, U+2066-U+2069), the invisible direction marks
 * (U+200E, U+200F, U+061C), the line and paragraph separators that break
 * lines on terminals (U+2028, U+2029) and the byte-order mark (U+FEFF). */
static int
line_is_hidden(const unsigned char *s, size_t n)
{
	if (n == 2)
		return (s[0] == 0xC2 && s[1] < 0xA0) ||
		       (s[0] == 0xD8 && s[1] == 0x9C);
	if (n != 3)
		return 0;
	if (s[0] == 0xE2 && s[1] == 0x80)
		return s[2] == 0x8E || s[2] == 0x8F ||
		       (s[2] >= 0xA8 && s[2] <= 0xAE);
	if (s[0] == 0xE2 && s[1] == 0x81)
		return s[2] >= 0xA6 && s[2] <= 0xA9;
	return s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF;
}

size_t
line_sanitize(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0;

	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (c == '\t')
				out[o++] = ' ';
			else if (c >= 0x20 && c != 0x7F)
				out[o++] = (char)c;
			i++;
			continue;
		}
		size_t n = line_utf8_len(s + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
			continue;
		}
		if (!line_is_hidden(s + i, n)) {
			memcpy(out + o, s + i, n);
			o += n;
		}
		i += n;
	}
	return o;
}
