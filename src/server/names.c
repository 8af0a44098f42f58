/*
 * names: the one nickname rule and the one room-name rule every protocol
 * shares (RFC 2812's nickname characters; room names as IRC allows them),
 * and ASCII case folding (IRC's CASEMAPPING=ascii). Pure; the supervisor
 * is the authority, sessions check early.
 */
#include "server/names.h"

#include "lib/line.h"
#include "server/config.h"
#include "server/outbox.h"

#include <ctype.h>
#include <string.h>

/* RFC 2812's "special": [ ] \ ` _ ^ { | } */
static int
names_special(unsigned char c)
{
	return (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7D);
}

int
names_nick_valid(const char *nick)
{
	size_t n = strlen(nick);
	unsigned char first = (unsigned char)nick[0];

	if (n == 0 || n > CONFIG_NICK_MAX ||
	    !(isalpha(first) || names_special(first)))
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)nick[i];
		if (!isalnum(c) && !names_special(c) && c != '-')
			return 0;
	}
	return 1;
}

int
names_room_valid(const char *room)
{
	const unsigned char *s = (const unsigned char *)room;
	size_t n = strlen(room), k;

	if (n < 2 || n > CONFIG_ROOM_MAX + 1 || room[0] != '#')
		return 0;
	for (size_t i = 1; i < n; i += k) {
		if (s[i] <= ' ' || s[i] == 0x7F || s[i] == ',' || s[i] == ':')
			return 0;
		k = line_utf8_len(s + i, n - i);
		/* Invalid UTF-8 and C1 controls (U+0080-U+009F). */
		if (k == 0 || (k == 2 && s[i] == 0xC2 && s[i + 1] < 0xA0))
			return 0;
	}
	return 1;
}

void
names_fold(const char *in, char *out, size_t n)
{
	size_t i = 0;

	for (; in[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

int
names_mask_match(const char *mask, const char *name)
{
	const char *star = NULL, *retry = NULL;

	/* Greedy with one backtrack point: the last '*' seen. */
	while (*name) {
		if (*mask == '*') {
			star = ++mask;
			retry = name;
		} else if (*mask == '?' || tolower((unsigned char)*mask) ==
					       tolower((unsigned char)*name)) {
			mask++;
			name++;
		} else if (star) {
			mask = star;
			name = ++retry;
		} else {
			return 0;
		}
	}
	while (*mask == '*')
		mask++;
	return *mask == '\0';
}

int
names_is_mask(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

_Static_assert(NAMES_QUOTE_MAX == CONFIG_ROOM_MAX + 1,
	       "errors quote every valid name whole");
_Static_assert(OUTBOX_NICK_MAX >= CONFIG_NICK_MAX &&
		   OUTBOX_ROOM_MAX >= CONFIG_ROOM_MAX + 1,
	       "records carry every valid name whole");

void
names_quote(const char *name, size_t len, char *out)
{
	if (len <= NAMES_QUOTE_MAX) {
		memcpy(out, name, len);
		out[len] = '\0';
		return;
	}
	len = line_utf8_cut(name, len, NAMES_QUOTE_MAX - 1);
	memcpy(out, name, len);
	memcpy(out + len, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
}
