/*
 * mask: IRC-style ban masks (nick!user@host with '*' and '?', or
 * $a:ACCOUNT for a logged-in account) as pure functions: making a mask
 * whole from what a moderator typed, and matching one against a client.
 * Used by the supervisor (bans, server-wide bans) and fuzzed.
 */
#ifndef PARLEY_MASK_H
#define PARLEY_MASK_H

#include <stddef.h>

#define MASK_MAX 120 /* bytes of a whole mask */

/* Who a mask is matched against: the client as others see it. */
struct mask_who {
	const char *nick, *user, *host; /* host: the cloak, never an address */
	const char *acct;		/* its account; "" or NULL: none */
};

/* Makes the mask s[0..len) whole into out (MASK_MAX + 1 bytes): a bare
 * nick is nick!*@*, nick!user gets @*, user@host gets *!, empty parts are
 * '*'; $a:ACCOUNT (and $a alone: any account) stays as it is. Returns its
 * length, or -1 when it is empty, too long, or holds a space, comma,
 * control byte, or more than one '!' or '@'. */
int mask_normalize(const char *s, size_t len, char *out);

/* Whether the whole mask (mask_normalize's) matches who, ASCII
 * case-insensitively. */
int mask_match(const char *mask, const struct mask_who *who);

/* Whether s matches the pattern pat ('*' any run of bytes, '?' any one),
 * ASCII case-insensitively. Linear in the product of the lengths at most:
 * no pattern makes it backtrack exponentially. */
int mask_glob(const char *pat, const char *s);

#endif
