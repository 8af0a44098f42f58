/*
 * mask: ban masks made whole and matched (mask.h). Pure: no allocation,
 * no state; every input is bounded by MASK_MAX or the caller's strings.
 */
#include "lib/mask.h"

#include <stdio.h>
#include <string.h>

static int
mask_fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
mask_glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	/* The classic one-star backtrack: on a mismatch only the last '*'
	 * is retried, one byte further, so the work stays bounded. */
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat &&
			   (*pat == '?' || mask_fold((unsigned char)*pat) ==
					       mask_fold((unsigned char)*s))) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int
mask_byte_ok(unsigned char c)
{
	return c > ' ' && c != ',' && c != 0x7f;
}

/* Appends part (or '*' when empty) to out at *o; -1 when it overflows. */
static int
mask_put(char *out, size_t *o, const char *p, size_t n)
{
	if (n == 0) {
		p = "*";
		n = 1;
	}
	if (*o + n > MASK_MAX)
		return -1;
	memcpy(out + *o, p, n);
	*o += n;
	return 0;
}

int
mask_normalize(const char *s, size_t len, char *out)
{
	const char *bang = NULL, *at = NULL;
	size_t o = 0;

	if (len == 0 || len > MASK_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!mask_byte_ok((unsigned char)s[i]))
			return -1;
		if (s[i] == '!' && (bang || at))
			return -1;
		if (s[i] == '@' && at)
			return -1;
		if (s[i] == '!')
			bang = s + i;
		if (s[i] == '@')
			at = s + i;
	}
	if (s[0] == '$') {
		/* $a (any account) or $a:ACCOUNT; no other extban. */
		if (bang || at || len < 2 || s[1] != 'a' ||
		    (len > 2 && (s[2] != ':' || len == 3)))
			return -1;
		memcpy(out, s, len);
		out[len] = '\0';
		return (int)len;
	}
	const char *end = s + len;
	const char *nick_end = bang ? bang : (at ? s : end);
	const char *user = bang ? bang + 1 : s;
	const char *user_end = at ? at : end;
	const char *host = at ? at + 1 : end;

	if (mask_put(out, &o, s, (size_t)(nick_end - s)) < 0 ||
	    mask_put(out, &o, "!", 1) < 0)
		return -1;
	if (bang || at) {
		if (mask_put(out, &o, user, (size_t)(user_end - user)) < 0)
			return -1;
	} else if (mask_put(out, &o, "*", 1) < 0) {
		return -1;
	}
	if (mask_put(out, &o, "@", 1) < 0 ||
	    mask_put(out, &o, host, (size_t)(end - host)) < 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int
mask_match(const char *mask, const struct mask_who *who)
{
	char whole[3 * 128 + 3];

	if (mask[0] == '$') {
		const char *acct = who->acct ? who->acct : "";
		if (!acct[0])
			return 0;
		return mask[2] == '\0' || mask_glob(mask + 3, acct);
	}
	snprintf(whole, sizeof(whole), "%.128s!%.128s@%.128s",
		 who->nick ? who->nick : "", who->user ? who->user : "",
		 who->host ? who->host : "");
	return mask_glob(mask, whole);
}
