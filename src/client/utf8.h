/*
 * utf8: decoding and display width of UTF-8 text, for the terminal client.
 * Pure functions with no locale dependence: widths come from a small table
 * of the common wide (CJK, Hangul, fullwidth, emoji) and zero-width ranges.
 */
#ifndef PARLEY_CLIENT_UTF8_H
#define PARLEY_CLIENT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xfffd /* U+FFFD, shown for invalid input */

enum utf8_status {
	UTF8_OK,	/* a code point was decoded */
	UTF8_NEED_MORE, /* a valid prefix: more bytes may complete it */
	UTF8_INVALID,	/* not UTF-8: skip one byte */
};

/* Decodes the code point at s[0..len) (len > 0) into *cp and its length in
 * bytes into *n. Rejects overlong forms, surrogates and values above
 * U+10FFFF. */
enum utf8_status utf8_decode(const char *s, size_t len, uint32_t *cp,
			     size_t *n);

/* Encodes cp into out (4 bytes of room); returns the length. */
size_t utf8_encode(uint32_t cp, char *out);

/* Terminal columns taken by cp: 0 (combining marks, zero-width joiners,
 * variation selectors, controls), 2 (wide) or 1. */
int utf8_cp_width(uint32_t cp);

/* Columns taken by s[0..len); an invalid byte counts as one column. */
size_t utf8_width(const char *s, size_t len);

#endif
