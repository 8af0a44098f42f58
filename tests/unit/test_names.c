/*
 * Unit tests for src/server/names: the one nickname rule and the one
 * room-name rule every protocol shares, ASCII case folding, and the masks
 * of IRC's WHO and LIST. Tables of names and whether they pass.
 */
#include "server/names.h"

#include "../testlib.h"

#include <string.h>

static const struct {
	const char *nick;
	int valid;
} nick_rows[] = {
    {"alice", 1},
    {"[b]\\o`b^_{|}-9", 1}, /* RFC 2812's specials are letters here */
    {"_x", 1},
    {"a", 1},
    {"abcdefghijklmnopqrstuvwxyz0123", 1}, /* 30 bytes */
    {"abcdefghijklmnopqrstuvwxyz01234", 0},
    {"", 0},
    {"9lives", 0},
    {"-x", 0},
    {"a b", 0},
    {"a,b", 0},
    {"a.b", 0},
    {"a!b", 0},
    {"a@b", 0},
    {"a#b", 0},
    {"a:b", 0},
    {"b\xC3\xA4r", 0},
};

static const struct {
	const char *room;
	int valid;
} room_rows[] = {
    {"#lobby", 1},
    {"##", 1},
    {"#a!b/c.d-e_f", 1},
    {"#\xC3\xA9t\xC3\xA9", 1},
    {"#abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm", 1}, /* 50 */
    {"#abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn", 0},
    {"#", 0},
    {"lobby", 0},
    {"&lobby", 0},
    {"#a b", 0},
    {"#a,b", 0},
    {"#a:b", 0},
    {"#a\x07", 0},
    {"#a\x7f", 0},
    {"#a\xC2\x85", 0}, /* a C1 control */
    {"#a\xff", 0},     /* not UTF-8 */
    {"#a\xC3", 0},     /* cut inside a character */
};

static const struct {
	const char *mask, *name;
	int match;
} mask_rows[] = {
    {"*", "alice", 1},	    {"alice", "ALICE", 1},  {"al*", "alice", 1},
    {"*ce", "alice", 1},    {"a?ice", "alice", 1},  {"*l*c*", "alice", 1},
    {"a*e*e", "alice", 0},  {"bob", "alice", 0},    {"al", "alice", 0},
    {"alice?", "alice", 0}, {"#c*n2", "#chan2", 1}, {"**", "", 1},
    {"?", "", 0},
};

static void
test_nicknames_follow_rfc_2812_up_to_30_bytes(void)
{
	for (size_t i = 0; i < sizeof(nick_rows) / sizeof(nick_rows[0]); i++)
		CHECKF(names_nick_valid(nick_rows[i].nick) ==
			   nick_rows[i].valid,
		       "\"%s\"", nick_rows[i].nick);
}

static void
test_room_names_are_what_irc_allows_up_to_50_bytes(void)
{
	for (size_t i = 0; i < sizeof(room_rows) / sizeof(room_rows[0]); i++)
		CHECKF(names_room_valid(room_rows[i].room) ==
			   room_rows[i].valid,
		       "row %zu", i);
}

static void
test_masks_match_case_insensitively_with_star_and_question_mark(void)
{
	for (size_t i = 0; i < sizeof(mask_rows) / sizeof(mask_rows[0]); i++)
		CHECKF(names_mask_match(mask_rows[i].mask, mask_rows[i].name) ==
			   mask_rows[i].match,
		       "\"%s\" on \"%s\"", mask_rows[i].mask,
		       mask_rows[i].name);
	CHECK(names_is_mask("a*") && names_is_mask("?") && !names_is_mask("a"));
}

static void
test_folding_is_ascii_only(void)
{
	char out[64];

	names_fold("[Ab]\xC3\x89", out, sizeof(out));
	CHECK(strcmp(out, "[ab]\xC3\x89") == 0); /* CASEMAPPING=ascii */
	names_fold("ABCDEF", out, 4);
	CHECK(strcmp(out, "abc") == 0);
}

int
main(void)
{
	RUN(test_nicknames_follow_rfc_2812_up_to_30_bytes);
	RUN(test_room_names_are_what_irc_allows_up_to_50_bytes);
	RUN(test_masks_match_case_insensitively_with_star_and_question_mark);
	RUN(test_folding_is_ascii_only);
	return tl_summary("unit_names");
}
