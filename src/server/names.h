/*
 * names: the rules for nicknames and room names, and case folding. Pure;
 * used by the supervisor (the authority) and by sessions (early errors).
 */
#ifndef PARLEY_NAMES_H
#define PARLEY_NAMES_H

#include <stddef.h>

/* A nickname is 1-30 bytes (CONFIG_NICK_MAX) of ASCII letters, digits,
 * '-' and RFC 2812's specials [ ] \ ` ^ _ { | }, not starting with a digit
 * or '-'. */
int names_nick_valid(const char *nick);

/* A room name is '#' and 1-49 bytes (CONFIG_ROOM_MAX) of valid UTF-8
 * without spaces, commas, colons or control characters (BEL included). */
int names_room_valid(const char *room);

/* ASCII lower-case copy into out (n bytes, NUL-terminated). */
void names_fold(const char *in, char *out, size_t n);

/* Whether name matches mask, ASCII case-insensitively: '*' matches any
 * run of bytes, '?' any one byte. */
int names_mask_match(const char *mask, const char *name);

/* Whether s holds a '*' or '?'. */
int names_is_mask(const char *s);

/* Errors quote a name whole up to this many bytes: a room name's most. */
#define NAMES_QUOTE_MAX	 50
#define NAMES_QUOTE_SIZE (NAMES_QUOTE_MAX + 4)

/* Copies the UTF-8 name[0..len) into out (NAMES_QUOTE_SIZE bytes) to be
 * quoted in an error: one longer than NAMES_QUOTE_MAX bytes, which no
 * valid name is, keeps at most its first 49 bytes, cut on a character boundary
 * and ends in U+2026 (an ellipsis). */
void names_quote(const char *name, size_t len, char *out);

#endif
