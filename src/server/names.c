/*
 * names: nickname and room-name rules; ASCII-only so that case folding is
 * unambiguous and names are safe on every terminal.
 */
#include "server/names.h"

#include "lib/line.h"
#include "server/config.h"

#include <ctype.h>
#include <string.h>

int
names_nick_valid(const char *nick)
{
	size_t n = strlen(nick);

	if (n == 0 || n > CONFIG_NICK_MAX || !isalpha((unsigned char)nick[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)nick[i];
		if (!isalnum(c) && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

int
names_room_valid(const char *room)
{
	size_t n = strlen(room);

	if (n < 2 || n > CONFIG_ROOM_MAX + 1 || room[0] != '#')
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)room[i];
		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
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

_Static_assert(NAMES_QUOTE_MAX == CONFIG_ROOM_MAX + 1,
	       "errors quote every valid name whole");

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
