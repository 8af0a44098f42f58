/*
 * line: line framing, telnet stripping and text sanitising for client input.
 * Pure functions over caller-owned buffers: no I/O, no allocation. Used by
 * session processes (and fuzzed); the invariant is that nothing a client
 * sends can reach another terminal as a control character or invalid UTF-8.
 */
#ifndef PARLEY_LINE_H
#define PARLEY_LINE_H

#include <stddef.h>

enum line_result {
	LINE_OK,	/* a complete line: *line_len bytes at buf */
	LINE_NEED_MORE, /* no complete line yet; keep buf[consumed..] */
	LINE_TOO_LONG,	/* a line over max_len was dropped (reported once) */
};

/* Per-connection framing state. Zero it, then set max_len. */
struct line_reader {
	size_t max_len;	   /* longest accepted line, terminator excluded */
	int discarding;	   /* inside an over-long line: drop to its LF */
	int telnet_state;  /* IAC parser state carried across reads */
	int telnet_sb_len; /* bytes inside the current IAC SB so far */
};

/* Looks for the next line in buf[0..len). Sets *consumed to the bytes the
 * caller must drop from the front of buf (the line and its LF, or discarded
 * bytes) and, on LINE_OK, the line to buf[*line_off..+*line_len) without
 * CR LF. A line may be empty. Call again after dropping consumed bytes. */
enum line_result line_next(struct line_reader *lr, const char *buf, size_t len,
			   size_t *line_off, size_t *line_len,
			   size_t *consumed);

/* Removes telnet commands from buf[0..len) in place, keeping state across
 * calls: IAC (0xFF) and a command byte 240-255 (WILL, WONT, DO and DONT
 * with their option byte; SB up to IAC SE, at most 64 bytes). IAC IAC
 * becomes one 0xFF byte; an IAC before any other byte is kept with it
 * (both are data; the sanitiser turns the 0xFF into U+FFFD). An LF ends
 * any command and is always kept. buf must have room for len + 1 bytes:
 * an IAC held back at the end of the last call may come out first.
 * Returns the new length (at most len + 1). */
size_t line_strip_telnet(struct line_reader *lr, char *buf, size_t len);

/* The largest output line_sanitize can produce for len input bytes. */
#define LINE_SANITIZED_MAX(len) ((len)*3)

/* Copies in[0..len) to out with the documented rule: TAB becomes a space;
 * other C0 controls, DEL, C1 controls, bidirectional overrides, isolates
 * and marks, U+2028, U+2029 and U+FEFF are removed; each byte of an invalid
 * UTF-8 sequence becomes U+FFFD. Valid UTF-8 passes through untouched. out must
 * hold LINE_SANITIZED_MAX(len). Returns the output length. */
size_t line_sanitize(const char *in, size_t len, char *out);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
size_t line_utf8_len(const unsigned char *s, size_t avail);

/* Where to cut the UTF-8 text s[0..len) to fit max bytes: len if it fits,
 * else the longest prefix of at most max bytes that does not end inside a
 * character. Reads only s[0..max), so it also mends text that vsnprintf
 * has already cut at max bytes. Every server line that is shortened to
 * fit a buffer is shortened with it. */
size_t line_utf8_cut(const char *s, size_t len, size_t max);

#endif
