/*
 * modes: room modes as IRC spells them, for every protocol (plain's /mode
 * takes the same strings): the flags, the parser of "+ov-k alice bob key"
 * and the formatter of a room's modes. Pure; used by the supervisor (the
 * authority), by options (--room-modes) and fuzzed.
 */
#ifndef PARLEY_MODES_H
#define PARLEY_MODES_H

#include <stddef.h>

/* A room's flags (and OUTBOX_MODE's ids[0]). */
#define MODES_INVITE	 0x01 /* +i: only the invited join */
#define MODES_MODERATED	 0x02 /* +m: only voiced members and operators speak */
#define MODES_NO_OUTSIDE 0x04 /* +n: only members send to it */
#define MODES_SECRET	 0x08 /* +s: hidden from room lists of non-members */
#define MODES_TOPIC	 0x10 /* +t: only operators set the topic */
#define MODES_KEY	 0x20 /* +k: joining takes the key */
#define MODES_LIMIT	 0x40 /* +l: at most so many members */

/* The letters this server knows, as ISUPPORT CHANMODES lists them: lists,
 * always a parameter, a parameter when set, never one; and member
 * statuses (PREFIX). */
#define MODES_CHANMODES "b,k,l,imnst"
#define MODES_LETTERS	"biklmnostv"

#define MODES_MAX      8   /* changes one request makes (ISUPPORT MODES) */
#define MODES_KEY_MAX  23  /* bytes of a key */
#define MODES_BANS_MAX 64  /* bans of a room (ISUPPORT MAXLIST) */
#define MODES_TEXT_MAX 256 /* a formatted change or mode list */

/* One change: letter with sign '+' or '-', and its parameter (arg_len 0:
 * none; a 'b' without one asks for the ban list). */
struct modes_change {
	char sign, letter;
	const char *arg;
	size_t arg_len;
};

enum modes_result {
	MODES_OK = 0,
	MODES_UNKNOWN = -1,  /* *bad: a letter this server does not know */
	MODES_NEED_ARG = -2, /* *bad: a letter that needs a parameter */
	MODES_BAD_ARG = -3,  /* *bad: its parameter is malformed (a key with
				spaces or too long, a limit not 1-65535) */
};

/* Parses text[0..len): a word of letters with '+' and '-' (a leading
 * '+' may be left out), then the parameters, separated by spaces. Fills
 * out with at most max (<= MODES_MAX) changes and sets *n; letters past
 * max are dropped. Returns MODES_OK or an error with *bad set. */
enum modes_result modes_parse(const char *text, size_t len,
			      struct modes_change *out, size_t max, size_t *n,
			      char *bad);

/* The flag of a parameterless room mode letter (i m n s t), else 0. */
unsigned modes_flag(char letter);

/* Parses a mode string of parameterless letters only ("+nt", "-n+s",
 * "" for none) into *flags, starting from none. Returns 0 or -1. */
int modes_simple(const char *s, unsigned *flags);

/* Formats a room's modes into out (MODES_TEXT_MAX bytes): "+" and the
 * letters in order, then the key (if show_key, else "*") and the limit.
 * Returns the length. */
size_t modes_format(unsigned flags, const char *key, unsigned limit,
		    int show_key, char *out);

/* Whether key[0..len) is a usable key: 1-MODES_KEY_MAX printable ASCII
 * bytes other than ',' and ':'. */
int modes_key_valid(const char *key, size_t len);

#endif
