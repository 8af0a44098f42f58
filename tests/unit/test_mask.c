/*
 * Unit tests for src/lib/mask: what a moderator types made into a whole
 * mask, and whole masks matched against clients (nick!user@host with the
 * cloak, $a:account). Tables of inputs and what comes out.
 */
#include "lib/mask.h"

#include "../testlib.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *in;
	const char *out; /* NULL: refused */
} normalize_rows[] = {
    {"bob", "bob!*@*"},
    {"bob!u", "bob!u@*"},
    {"u@host", "*!u@host"},
    {"@host", "*!*@host"},
    {"bob!u@h.parley", "bob!u@h.parley"},
    {"*!*@*.parley", "*!*@*.parley"},
    {"!@", "*!*@*"},
    {"b?b", "b?b!*@*"},
    {"$a:alice", "$a:alice"},
    {"$a", "$a"},
    {"$a:", NULL},
    {"$b:x", NULL},
    {"$a:x!y", NULL},
    {"", NULL},
    {"a b", NULL},
    {"a,b", NULL},
    {"a!b!c", NULL},
    {"a@b@c", NULL},
    {"a@b!c", NULL},
    {"a\x01", NULL},
    {"a\x7f", NULL},
};

static void
test_masks_are_made_whole_or_refused(void)
{
	char out[MASK_MAX + 1];

	for (size_t i = 0;
	     i < sizeof(normalize_rows) / sizeof(normalize_rows[0]); i++) {
		const char *in = normalize_rows[i].in;
		int n = mask_normalize(in, strlen(in), out);
		if (!normalize_rows[i].out)
			CHECKF(n < 0, "\"%s\" -> \"%s\", wanted refused", in,
			       n >= 0 ? out : "");
		else
			CHECKF(n >= 0 &&
				   strcmp(out, normalize_rows[i].out) == 0 &&
				   (size_t)n == strlen(out),
			       "\"%s\" -> %d \"%s\", wanted \"%s\"", in, n,
			       n >= 0 ? out : "", normalize_rows[i].out);
	}
}

static void
test_a_mask_longer_than_the_limit_is_refused(void)
{
	char in[MASK_MAX + 2], out[MASK_MAX + 1];

	memset(in, 'a', sizeof(in));
	CHECK(mask_normalize(in, MASK_MAX + 1, out) < 0);
	/* MASK_MAX bytes of nick make more than MASK_MAX with !*@*. */
	CHECK(mask_normalize(in, MASK_MAX, out) < 0);
	CHECK(mask_normalize(in, MASK_MAX - 4, out) == MASK_MAX);
}

static const struct mask_who who_bob = {"Bob", "~bob", "1a2b.3c4d.parley",
					"bobacct"};
static const struct mask_who who_anon = {"carol", "plain", "ffff.0000.parley",
					 ""};

static const struct {
	const char *mask;
	const struct mask_who *who;
	int match;
} match_rows[] = {
    {"bob!*@*", &who_bob, 1}, /* case-insensitive */
    {"BOB!*@*", &who_bob, 1},
    {"bo?!*@*", &who_bob, 1},
    {"b*!~bob@*.parley", &who_bob, 1},
    {"*!*@1a2b.3c4d.parley", &who_bob, 1},
    {"*!*@1a2b.*", &who_bob, 1},
    {"*!*@ffff.*", &who_bob, 0},
    {"alice!*@*", &who_bob, 0},
    {"bob!plain@*", &who_bob, 0},
    {"bob", &who_bob, 0}, /* not whole: no '!' in it */
    {"*!*@*", &who_anon, 1},
    {"$a:bobacct", &who_bob, 1},
    {"$a:BOB*", &who_bob, 1},
    {"$a:other", &who_bob, 0},
    {"$a", &who_bob, 1},
    {"$a", &who_anon, 0}, /* no account: never an account ban */
    {"$a:*", &who_anon, 0},
};

static void
test_whole_masks_match_nick_user_cloak_or_account(void)
{
	for (size_t i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++)
		CHECKF(mask_match(match_rows[i].mask, match_rows[i].who) ==
			   match_rows[i].match,
		       "\"%s\" against %s: wanted %d", match_rows[i].mask,
		       match_rows[i].who->nick, match_rows[i].match);
}

static const struct {
	const char *pat, *s;
	int match;
} glob_rows[] = {
    {"", "", 1},
    {"*", "", 1},
    {"*", "abc", 1},
    {"?", "", 0},
    {"a*c", "abbbc", 1},
    {"a*c", "abbb", 0},
    {"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
    {"10.0.0.*", "10.0.0.7", 1},
    {"10.0.0.*", "10.0.1.7", 0},
    {"127.0.0.1", "127.0.0.1", 1},
    {"::1", "::1", 1},
};

static void
test_globs_match_stars_and_question_marks(void)
{
	for (size_t i = 0; i < sizeof(glob_rows) / sizeof(glob_rows[0]); i++)
		CHECKF(mask_glob(glob_rows[i].pat, glob_rows[i].s) ==
			   glob_rows[i].match,
		       "\"%s\" against \"%s\"", glob_rows[i].pat,
		       glob_rows[i].s);
}

int
main(void)
{
	RUN(test_masks_are_made_whole_or_refused);
	RUN(test_a_mask_longer_than_the_limit_is_refused);
	RUN(test_whole_masks_match_nick_user_cloak_or_account);
	RUN(test_globs_match_stars_and_question_marks);
	return tl_summary("unit_mask");
}
