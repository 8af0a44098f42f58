/*
 * modes: parsing and formatting room modes (modes.h). Pure: no state, no
 * allocation; parameters point into the text parsed.
 */
#include "server/modes.h"

#include <stdio.h>
#include <string.h>

static const struct {
	char letter;
	unsigned flag;
} modes_flags[] = {
    {'i', MODES_INVITE}, {'m', MODES_MODERATED}, {'n', MODES_NO_OUTSIDE},
    {'s', MODES_SECRET}, {'t', MODES_TOPIC},
};

unsigned
modes_flag(char letter)
{
	for (size_t i = 0; i < sizeof(modes_flags) / sizeof(modes_flags[0]);
	     i++)
		if (modes_flags[i].letter == letter)
			return modes_flags[i].flag;
	return 0;
}

int
modes_key_valid(const char *key, size_t len)
{
	/* Not starting with '#': "/join #a #b" is no key. */
	if (len == 0 || len > MODES_KEY_MAX || key[0] == '#')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (key[i] <= ' ' || key[i] >= 0x7f || key[i] == ',' ||
		    key[i] == ':')
			return 0;
	return 1;
}

/* Whether the change of letter with sign takes a parameter. */
static int
modes_takes_arg(char sign, char letter)
{
	switch (letter) {
	case 'b':
	case 'o':
	case 'v':
	case 'k':
		return 1;
	case 'l':
		return sign == '+';
	default:
		return 0;
	}
}

/* The next space-separated word of text from *at; empty at the end. */
static void
modes_word(const char *text, size_t len, size_t *at, const char **p, size_t *n)
{
	size_t i = *at;

	while (i < len && text[i] == ' ')
		i++;
	*p = text + i;
	while (i < len && text[i] != ' ')
		i++;
	*n = (size_t)(text + i - *p);
	*at = i;
}

static int
modes_limit_ok(const char *p, size_t n)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

enum modes_result
modes_parse(const char *text, size_t len, struct modes_change *out, size_t max,
	    size_t *n, char *bad)
{
	const char *letters;
	size_t nletters, at = 0;
	char sign = '+';

	*n = 0;
	if (max > MODES_MAX)
		max = MODES_MAX;
	modes_word(text, len, &at, &letters, &nletters);
	for (size_t i = 0; i < nletters; i++) {
		char c = letters[i];
		struct modes_change ch = {sign, c, NULL, 0};
		if (c == '+' || c == '-') {
			sign = c;
			continue;
		}
		if (!strchr(MODES_LETTERS, c) || c == '\0') {
			*bad = c;
			return MODES_UNKNOWN;
		}
		if (modes_takes_arg(sign, c))
			modes_word(text, len, &at, &ch.arg, &ch.arg_len);
		if (!ch.arg_len) {
			ch.arg = NULL;
			/* -k may omit the key; b alone lists the bans. */
			if (modes_takes_arg(sign, c) && c != 'b' && c != 'k') {
				*bad = c;
				return MODES_NEED_ARG;
			}
			if (c == 'k' && sign == '+') {
				*bad = c;
				return MODES_NEED_ARG;
			}
		}
		if ((c == 'k' && sign == '+' &&
		     !modes_key_valid(ch.arg, ch.arg_len)) ||
		    (c == 'l' && sign == '+' &&
		     !modes_limit_ok(ch.arg, ch.arg_len))) {
			*bad = c;
			return MODES_BAD_ARG;
		}
		if (*n < max)
			out[(*n)++] = ch;
	}
	return MODES_OK;
}

int
modes_simple(const char *s, unsigned *flags)
{
	char sign = '+';

	*flags = 0;
	for (; *s; s++) {
		unsigned f = modes_flag(*s);
		if (*s == '+' || *s == '-') {
			sign = *s;
			continue;
		}
		if (!f)
			return -1;
		if (sign == '+')
			*flags |= f;
		else
			*flags &= ~f;
	}
	return 0;
}

size_t
modes_format(unsigned flags, const char *key, unsigned limit, int show_key,
	     char *out)
{
	static const char order[] = "iklmnst";
	size_t n = 0;
	int len;

	out[n++] = '+';
	for (const char *p = order; *p; p++) {
		unsigned f = *p == 'k'	 ? MODES_KEY
			     : *p == 'l' ? MODES_LIMIT
					 : modes_flag(*p);
		if (flags & f)
			out[n++] = *p;
	}
	out[n] = '\0';
	if (flags & MODES_KEY) {
		len = snprintf(out + n, MODES_TEXT_MAX - n, " %s",
			       show_key ? key : "*");
		n += len > 0 ? (size_t)len : 0;
	}
	if ((flags & MODES_LIMIT) && n < MODES_TEXT_MAX) {
		len = snprintf(out + n, MODES_TEXT_MAX - n, " %u", limit);
		n += len > 0 ? (size_t)len : 0;
	}
	return n < MODES_TEXT_MAX ? n : MODES_TEXT_MAX - 1;
}
