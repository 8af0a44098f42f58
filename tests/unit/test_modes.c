/*
 * Unit tests for src/server/modes: mode strings parsed into changes (with
 * their parameters and errors), --room-modes' simple strings, keys, and a
 * room's modes formatted. Tables of strings and what they give.
 */
#include "server/modes.h"

#include "../testlib.h"

#include <stdio.h>
#include <string.h>

/* A parse and its changes written back as "+o:bob -m +b" (sign, letter,
 * ':' and the parameter when there is one), or the error and letter. */
static const struct {
	const char *text;
	const char *changes; /* on MODES_OK */
	enum modes_result res;
	char bad;
} parse_rows[] = {
    {"+m", "+m", MODES_OK, 0},
    {"m", "+m", MODES_OK, 0},
    {"", "", MODES_OK, 0},
    {"+-", "", MODES_OK, 0},
    {"+mn-t", "+m +n -t", MODES_OK, 0},
    {"+o bob", "+o:bob", MODES_OK, 0},
    {"+ov-v a b c", "+o:a +v:b -v:c", MODES_OK, 0},
    {"+k sesame", "+k:sesame", MODES_OK, 0},
    {"-k", "-k", MODES_OK, 0},
    {"-k sesame", "-k:sesame", MODES_OK, 0},
    {"+l 10", "+l:10", MODES_OK, 0},
    {"-l", "-l", MODES_OK, 0},
    {"-l 10", "-l", MODES_OK, 0}, /* -l takes none: 10 is left over */
    {"b", "+b", MODES_OK, 0},	  /* the list */
    {"+b", "+b", MODES_OK, 0},
    {"+b x!*@*", "+b:x!*@*", MODES_OK, 0},
    {"-b   x   ", "-b:x", MODES_OK, 0},
    {"+kl key 5", "+k:key +l:5", MODES_OK, 0},
    {"+imnst", "+i +m +n +s +t", MODES_OK, 0},
    {"+x", NULL, MODES_UNKNOWN, 'x'},
    {"+mZ", NULL, MODES_UNKNOWN, 'Z'},
    {"+o", NULL, MODES_NEED_ARG, 'o'},
    {"-v", NULL, MODES_NEED_ARG, 'v'},
    {"+k", NULL, MODES_NEED_ARG, 'k'},
    {"+l", NULL, MODES_NEED_ARG, 'l'},
    {"+l 0", NULL, MODES_BAD_ARG, 'l'},
    {"+l 65536", NULL, MODES_BAD_ARG, 'l'},
    {"+l x", NULL, MODES_BAD_ARG, 'l'},
    {"+k a,b", NULL, MODES_BAD_ARG, 'k'},
    {"+k #a", NULL, MODES_BAD_ARG, 'k'},
    {"+k 012345678901234567890123", NULL, MODES_BAD_ARG, 'k'},
};

static void
test_mode_strings_parse_into_changes_or_errors(void)
{
	struct modes_change ch[MODES_MAX];
	char got[512], bad;

	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]);
	     i++) {
		const char *t = parse_rows[i].text;
		size_t n = 0, o = 0;
		bad = 0;
		enum modes_result r =
		    modes_parse(t, strlen(t), ch, MODES_MAX, &n, &bad);
		got[0] = '\0';
		for (size_t k = 0; r == MODES_OK && k < n; k++)
			o += (size_t)snprintf(
			    got + o, sizeof(got) - o, "%s%c%c%s%.*s",
			    k ? " " : "", ch[k].sign, ch[k].letter,
			    ch[k].arg ? ":" : "", (int)ch[k].arg_len,
			    ch[k].arg ? ch[k].arg : "");
		if (parse_rows[i].res == MODES_OK)
			CHECKF(r == MODES_OK &&
				   strcmp(got, parse_rows[i].changes) == 0,
			       "\"%s\": %d \"%s\", wanted \"%s\"", t, r, got,
			       parse_rows[i].changes);
		else
			CHECKF(r == parse_rows[i].res &&
				   bad == parse_rows[i].bad,
			       "\"%s\": %d '%c', wanted %d '%c'", t, r,
			       bad ? bad : '-', parse_rows[i].res,
			       parse_rows[i].bad);
	}
}

static void
test_changes_past_the_most_are_dropped(void)
{
	struct modes_change ch[MODES_MAX];
	const char *t = "+ooooooooooo a b c d e f g h i j k";
	size_t n;
	char bad;

	CHECK(modes_parse(t, strlen(t), ch, MODES_MAX, &n, &bad) == MODES_OK);
	CHECK(n == MODES_MAX);
	CHECK(modes_parse(t, strlen(t), ch, 2, &n, &bad) == MODES_OK && n == 2);
}

static const struct {
	const char *s;
	int ok;
	unsigned flags;
} simple_rows[] = {
    {"+nt", 1, MODES_NO_OUTSIDE | MODES_TOPIC},
    {"nt", 1, MODES_NO_OUTSIDE | MODES_TOPIC},
    {"", 1, 0},
    {"+ntm-t", 1, MODES_NO_OUTSIDE | MODES_MODERATED},
    {"+imnst", 1,
     MODES_INVITE | MODES_MODERATED | MODES_NO_OUTSIDE | MODES_SECRET |
	 MODES_TOPIC},
    {"+k", 0, 0},
    {"+l", 0, 0},
    {"+o", 0, 0},
    {"+n t", 0, 0},
};

static void
test_room_modes_take_only_parameterless_letters(void)
{
	for (size_t i = 0; i < sizeof(simple_rows) / sizeof(simple_rows[0]);
	     i++) {
		unsigned f = 0;
		int r = modes_simple(simple_rows[i].s, &f);
		CHECKF((r == 0) == simple_rows[i].ok &&
			   (!simple_rows[i].ok || f == simple_rows[i].flags),
		       "\"%s\": %d %#x", simple_rows[i].s, r, f);
	}
}

static const struct {
	unsigned flags;
	const char *key;
	unsigned limit;
	int show;
	const char *out;
} format_rows[] = {
    {0, "", 0, 1, "+"},
    {MODES_NO_OUTSIDE | MODES_TOPIC, "", 0, 1, "+nt"},
    {MODES_KEY | MODES_NO_OUTSIDE, "sesame", 0, 1, "+kn sesame"},
    {MODES_KEY | MODES_NO_OUTSIDE, "sesame", 0, 0, "+kn *"},
    {MODES_KEY | MODES_LIMIT | MODES_INVITE, "k", 5, 1, "+ikl k 5"},
    {MODES_LIMIT | MODES_SECRET | MODES_MODERATED, "", 65535, 0, "+lms 65535"},
};

static void
test_room_modes_format_in_letter_order_with_parameters(void)
{
	char out[MODES_TEXT_MAX];

	for (size_t i = 0; i < sizeof(format_rows) / sizeof(format_rows[0]);
	     i++) {
		size_t n = modes_format(
		    format_rows[i].flags, format_rows[i].key,
		    format_rows[i].limit, format_rows[i].show, out);
		CHECKF(n == strlen(out) && strcmp(out, format_rows[i].out) == 0,
		       "row %zu: \"%s\", wanted \"%s\"", i, out,
		       format_rows[i].out);
	}
}

int
main(void)
{
	RUN(test_mode_strings_parse_into_changes_or_errors);
	RUN(test_changes_past_the_most_are_dropped);
	RUN(test_room_modes_take_only_parameterless_letters);
	RUN(test_room_modes_format_in_letter_order_with_parameters);
	return tl_summary("unit_modes");
}
