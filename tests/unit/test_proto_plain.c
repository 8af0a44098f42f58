/*
 * Unit tests for src/server/proto_plain through struct proto only: lines
 * parsed into core operations or error lines, records (written to a real
 * ring and read back) formatted and delivered byte for byte as the README
 * says, the current room as joins and parts come back, events, refusals.
 */
#include "protofix.h"

#include "../testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a connection as a session holds it --------------------------------- */

static struct pf_conn t_fake;

/* Every line a client gets ends in its one LF and holds no CR or NUL. */
static int
t_line_ok(const char *line, size_t len)
{
	return len > 0 && line[len - 1] == '\n' &&
	       !memchr(line, '\n', len - 1) && !memchr(line, '\r', len) &&
	       !memchr(line, '\0', len);
}

/* The client's own join or part of room, as self() is told of it. */
static void
fake_self_move(struct pf_conn *f, uint16_t kind, const char *room)
{
	const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
	    .kind = kind,
	    .aux = OUTBOX_ANNOUNCE,
	    .src = PF_CLIENT_ID,
	    .target = pf_room_id(room),
	    .nick = outbox_str(f->pc.nick),
	    .user = outbox_str("al"),
	    .host = outbox_str("192.0.2.1"),
	    .room = outbox_str(room),
	});

	if (v)
		proto_plain.self(&f->pc, v);
}

/* Sets pc->rooms to the space-separated fixture rooms (newest last). */
static void
fake_set_rooms(struct pf_conn *f, const char *rooms)
{
	char copy[256], *save = NULL;

	f->pc.nrooms = 0;
	snprintf(copy, sizeof(copy), "%s", rooms ? rooms : "");
	for (char *name = strtok_r(copy, " ", &save); name;
	     name = strtok_r(NULL, " ", &save)) {
		struct proto_room *r = &f->rooms[f->pc.nrooms];
		CHECKF(pf_room_id(name), "fixture room %s has no id", name);
		r->id = pf_room_id(name);
		snprintf(r->name, sizeof(r->name), "%s", name);
		f->pc.rooms[f->pc.nrooms++] = r;
	}
}

/* A freshly opened connection of nick alice in rooms, current room
 * current (NULL: none), with nothing emitted yet. */
static struct pf_conn *
fake_open(const char *rooms, const char *current)
{
	struct pf_conn *f = &t_fake;
	struct core_op ops[PROTO_OPS_MAX];

	if (f->pc.state)
		proto_plain.close(&f->pc);
	memset(&f->pc, 0, sizeof(f->pc));
	f->pc.proto = &proto_plain;
	f->pc.env = &pf_env;
	f->pc.id = PF_CLIENT_ID;
	snprintf(f->pc.nick, sizeof(f->pc.nick), "alice");
	f->pc.emit = pf_emit_cb;
	f->line_ok = t_line_ok;
	CHECK(proto_plain.open(&f->pc, ops) == 1);
	fake_set_rooms(f, rooms);
	if (current)
		fake_self_move(f, OUTBOX_JOIN, current);
	pf_clear(f);
	return f;
}

static int
fake_out_is(const struct pf_conn *f, const char *want)
{
	return !f->overflow && !f->bad_lines && strcmp(f->out, want) == 0;
}

static int
str_is(const char *p, size_t n, const char *want)
{
	want = want ? want : "";
	if (n == 0) /* p may be NULL */
		return *want == '\0';
	return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

static const char *
kind_name(enum core_op_kind k)
{
	static const char *const names[] = {
	    "NONE",
	    "SAY",
	    "PRIVMSG",
	    "NICK",
	    "JOIN",
	    "PART",
	    "TOPIC",
	    "NAMES",
	    "ROOMS",
	    "QUIT",
	    "HELLO",
	    [CORE_HISTORY] = "HISTORY",
	    [CORE_REGISTER] = "REGISTER",
	    [CORE_LOGIN] = "LOGIN",
	    [CORE_LOGOUT] = "LOGOUT",
	    [CORE_PASSWORD] = "PASSWORD",
	    [CORE_UNREGISTER] = "UNREGISTER",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

/* ---- parse: one table shape for every line ------------------------------ */

enum fixture {
	FX_TWO_ROOMS, /* in #lobby and #rust (newest); #lobby is current */
	FX_NO_ROOM,   /* in no room */
};

struct parse_row {
	enum fixture fixture;
	const char *line;
	size_t len;		/* bytes of line given; 0: all */
	enum core_op_kind kind; /* CORE_NONE: no operation */
	unsigned flags;
	const char *room, *arg, *text; /* NULL: empty */
	const char *emitted;	       /* NULL: nothing */
};

/* A line that only emits. */
#define EMITS(fx, l, out)                                                      \
	{                                                                      \
		.fixture = (fx), .line = (l), .emitted = (out)                 \
	}
#define USAGE(l, usage) EMITS(FX_TWO_ROOMS, l, "-!- error: " usage "\n")
#define UNKNOWN(l)                                                             \
	EMITS(FX_TWO_ROOMS, l,                                                 \
	      "-!- error: unknown command; /help lists the commands\n")

#define NO_ROOM_JOIN "-!- error: you are not in a room; /join #room\n"

static void
run_parse_row(const struct parse_row *row)
{
	static const char *const fixture_rooms[] = {
	    [FX_TWO_ROOMS] = "#lobby #rust",
	    [FX_NO_ROOM] = "",
	};
	struct pf_conn *f =
	    fake_open(fixture_rooms[row->fixture],
		      row->fixture == FX_TWO_ROOMS ? "#lobby" : NULL);
	size_t len = row->len ? row->len : strlen(row->line);
	/* An exact-size copy: ASan sees any read past len. */
	char *line = pf_exact_copy(row->line, len);
	struct core_op ops[PROTO_OPS_MAX];
	int want_n = row->kind != CORE_NONE, n, ok;

	memset(ops, 0x5a, sizeof(ops));
	n = proto_plain.parse(&f->pc, line, len, ops);
	ok = n == want_n && fake_out_is(f, row->emitted ? row->emitted : "");
	if (ok && n == 1)
		ok = ops[0].kind == row->kind && ops[0].flags == row->flags &&
		     str_is(ops[0].room.p, ops[0].room.n, row->room) &&
		     str_is(ops[0].arg.p, ops[0].arg.n, row->arg) &&
		     str_is(ops[0].text.p, ops[0].text.n, row->text);
	if (n == 1)
		CHECKF(ok,
		       "parse(\"%.*s\"): %s flags %#x room \"%.*s\" arg "
		       "\"%.*s\" text \"%.*s\", emitted \"%s\"",
		       (int)len, row->line, kind_name(ops[0].kind),
		       ops[0].flags, (int)ops[0].room.n, ops[0].room.p,
		       (int)ops[0].arg.n, ops[0].arg.p, (int)ops[0].text.n,
		       ops[0].text.p, f->out);
	else
		CHECKF(ok, "parse(\"%.*s\"): %d operations, emitted \"%s\"",
		       (int)len, row->line, n, f->out);
	free(line);
}

static void
run_parse_rows(const struct parse_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_parse_row(&rows[i]);
}

#define RUN_ROWS(rows) run_parse_rows(rows, sizeof(rows) / sizeof(rows[0]))

/* ---- messages ----------------------------------------------------------- */

static void
test_plain_text_is_a_message_to_the_current_room_kept_verbatim(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "hello world", .kind = CORE_SAY, .room = "#lobby",
	     .text = "hello world"},
	    {FX_TWO_ROOMS, "  spaced  ", .kind = CORE_SAY, .room = "#lobby",
	     .text = "  spaced  "},
	    {FX_TWO_ROOMS, "a/b", .kind = CORE_SAY, .room = "#lobby",
	     .text = "a/b"},
	    {FX_TWO_ROOMS, " /nick x", .kind = CORE_SAY, .room = "#lobby",
	     .text = " /nick x"},
	    {FX_TWO_ROOMS, "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c",
	     .kind = CORE_SAY, .room = "#lobby",
	     .text = "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c"},
	};

	RUN_ROWS(rows);
}

static void
test_empty_and_blank_lines_are_ignored_even_without_a_room(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "", .kind = CORE_NONE},
	    {FX_NO_ROOM, "", .kind = CORE_NONE},
	    /* Only spaces (a TAB is a space once sanitised) says nothing. */
	    {FX_TWO_ROOMS, "   ", .kind = CORE_NONE},
	    {FX_NO_ROOM, " ", .kind = CORE_NONE},
	};

	RUN_ROWS(rows);
}

static void
test_double_slash_escapes_a_leading_slash(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "//nick bob", .kind = CORE_SAY, .room = "#lobby",
	     .text = "/nick bob"},
	    {FX_TWO_ROOMS, "//", .kind = CORE_SAY, .room = "#lobby",
	     .text = "/"},
	    {FX_TWO_ROOMS, "///x", .kind = CORE_SAY, .room = "#lobby",
	     .text = "//x"},
	};

	RUN_ROWS(rows);
}

static void
test_me_is_an_action_in_the_current_room_with_required_text(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/me waves", .kind = CORE_SAY,
	     .flags = OUTBOX_MSG_ACTION, .room = "#lobby", .text = "waves"},
	    {FX_TWO_ROOMS, "/me  waves  twice ", .kind = CORE_SAY,
	     .flags = OUTBOX_MSG_ACTION, .room = "#lobby",
	     .text = "waves  twice"},
	    USAGE("/me", "usage: /me action"),
	    USAGE("/me   ", "usage: /me action"),
	};

	RUN_ROWS(rows);
}

static void
test_without_a_current_room_messages_get_the_documented_error(void)
{
	static const struct parse_row rows[] = {
	    EMITS(FX_NO_ROOM, "hello", NO_ROOM_JOIN),
	    EMITS(FX_NO_ROOM, "//slash", NO_ROOM_JOIN),
	    EMITS(FX_NO_ROOM, "/me waves", NO_ROOM_JOIN),
	    EMITS(FX_NO_ROOM, "/topic", NO_ROOM_JOIN),
	    EMITS(FX_NO_ROOM, "/topic new topic", NO_ROOM_JOIN),
	    EMITS(FX_NO_ROOM, "/part", NO_ROOM_JOIN),
	    EMITS(FX_NO_ROOM, "/part see you", NO_ROOM_JOIN),
	    EMITS(FX_NO_ROOM, "/part #lobby",
		  "-!- error: you are not in #lobby\n"),
	    EMITS(FX_NO_ROOM, "/who",
		  "-!- error: you are not in a room; /who #room\n"),
	    /* What needs no room still works. */
	    {FX_NO_ROOM, "/who #lobby", .kind = CORE_NAMES, .room = "#lobby"},
	    {FX_NO_ROOM, "/join #lobby", .kind = CORE_JOIN,
	     .flags = CORE_WANT_TOPIC | CORE_WANT_HISTORY, .room = "#lobby"},
	    {FX_NO_ROOM, "/nick bob", .kind = CORE_NICK, .arg = "bob"},
	    {FX_NO_ROOM, "/msg bob hi", .kind = CORE_PRIVMSG, .arg = "bob",
	     .text = "hi"},
	    {FX_NO_ROOM, "/rooms", .kind = CORE_ROOMS},
	    {FX_NO_ROOM, "/quit", .kind = CORE_QUIT, .text = "quit"},
	};

	RUN_ROWS(rows);
}

static void
test_parse_does_not_read_past_len(void)
{
	static const struct parse_row rows[] = {
	    /* The line is the first len bytes only. */
	    {FX_TWO_ROOMS, "/nick bob", 5,
	     .emitted = "-!- error: usage: /nick NAME\n"},
	    {FX_TWO_ROOMS, "/me waves\x01garbage", 9, .kind = CORE_SAY,
	     .flags = OUTBOX_MSG_ACTION, .room = "#lobby", .text = "waves"},
	    {FX_TWO_ROOMS, "hello world", 5, .kind = CORE_SAY, .room = "#lobby",
	     .text = "hello"},
	    {FX_TWO_ROOMS, "/quit now", 5, .kind = CORE_QUIT, .text = "quit"},
	    {FX_TWO_ROOMS, "/join #rustacean", 11,
	     .emitted = "-!- now talking in "
			"#rust\n"},
	};

	RUN_ROWS(rows);
}

/* ---- each command ------------------------------------------------------- */

static void
test_nick_takes_exactly_one_word(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/nick bob", .kind = CORE_NICK, .arg = "bob"},
	    {FX_TWO_ROOMS, "/nick   bob   ", .kind = CORE_NICK, .arg = "bob"},
	    USAGE("/nick", "usage: /nick NAME"),
	    USAGE("/nick    ", "usage: /nick NAME"),
	    USAGE("/nick bob alice", "usage: /nick NAME"),
	};

	RUN_ROWS(rows);
}

#define JOIN_FLAGS (CORE_WANT_TOPIC | CORE_WANT_HISTORY)
#define ROOM_INVALID_TEXT                                                      \
	"-!- error: invalid room name: # then 1-49 bytes without spaces, "     \
	"commas, colons or control characters"
#define ROOM_INVALID ROOM_INVALID_TEXT "\n"

static void
test_join_takes_exactly_one_valid_room(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/join #c", .kind = CORE_JOIN, .flags = JOIN_FLAGS,
	     .room = "#c"},
	    {FX_TWO_ROOMS, "/join #c ", .kind = CORE_JOIN, .flags = JOIN_FLAGS,
	     .room = "#c"},
	    {FX_TWO_ROOMS, "/join #a-b_c.9", .kind = CORE_JOIN,
	     .flags = JOIN_FLAGS, .room = "#a-b_c.9"},
	    /* 49 bytes after the '#': the longest. */
	    {FX_TWO_ROOMS,
	     "/join #abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm",
	     .kind = CORE_JOIN, .flags = JOIN_FLAGS,
	     .room = "#abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm"},
	    /* Any UTF-8 but spaces, commas, colons and controls, as IRC. */
	    {FX_TWO_ROOMS, "/join #a!b", .kind = CORE_JOIN, .flags = JOIN_FLAGS,
	     .room = "#a!b"},
	    {FX_TWO_ROOMS, "/join #\xc3\xa9t\xc3\xa9", .kind = CORE_JOIN,
	     .flags = JOIN_FLAGS, .room = "#\xc3\xa9t\xc3\xa9"},
	    {FX_TWO_ROOMS, "/join ##", .kind = CORE_JOIN, .flags = JOIN_FLAGS,
	     .room = "##"},
	    USAGE("/join", "usage: /join #room [KEY]"),
	    USAGE("/join #a b c", "usage: /join #room [KEY]"),
	    {FX_TWO_ROOMS, "/join #c sesame", .kind = CORE_JOIN,
	     .flags = JOIN_FLAGS, .room = "#c", .arg = "sesame"},
	    EMITS(FX_TWO_ROOMS, "/join c", ROOM_INVALID),
	    EMITS(FX_TWO_ROOMS, "/join #", ROOM_INVALID),
	    EMITS(FX_TWO_ROOMS, "/join #a,b", ROOM_INVALID),
	    EMITS(FX_TWO_ROOMS, "/join #a:b", ROOM_INVALID),
	    /* 50 bytes after the '#'. */
	    EMITS(FX_TWO_ROOMS,
		  "/join #abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn",
		  ROOM_INVALID),
	    EMITS(FX_TWO_ROOMS,
		  "/join #abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop"
		  "qrstuvwxyz0123456789",
		  ROOM_INVALID),
	};

	RUN_ROWS(rows);
}

static void
test_join_of_a_room_already_joined_switches_without_an_operation(void)
{
	static const struct parse_row rows[] = {
	    EMITS(FX_TWO_ROOMS, "/join #rust", "-!- now talking in #rust\n"),
	    EMITS(FX_TWO_ROOMS, "/join #RuSt", "-!- now talking in #rust\n"),
	    EMITS(FX_TWO_ROOMS, "/join #lobby", "-!- now talking in #lobby\n"),
	};
	struct core_op ops[PROTO_OPS_MAX];
	struct pf_conn *f;

	RUN_ROWS(rows);
	/* And the room it switched to is current from then on. */
	f = fake_open("#lobby #rust", "#lobby");
	CHECK(proto_plain.parse(&f->pc, "/join #rust", 11, ops) == 0);
	pf_clear(f);
	REQUIRE(proto_plain.parse(&f->pc, "hi", 2, ops) == 1);
	CHECK(ops[0].kind == CORE_SAY &&
	      str_is(ops[0].room.p, ops[0].room.n, "#rust"));
	CHECK(fake_out_is(f, ""));
}

static void
test_part_takes_an_optional_room_and_reason_defaulting_to_current(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/part", .kind = CORE_PART, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/part   ", .kind = CORE_PART, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/part #rust", .kind = CORE_PART, .room = "#rust"},
	    {FX_TWO_ROOMS, "/part #RUST", .kind = CORE_PART, .room = "#rust"},
	    {FX_TWO_ROOMS, "/part #rust gone fishing", .kind = CORE_PART,
	     .room = "#rust", .text = "gone fishing"},
	    {FX_TWO_ROOMS, "/part #rust   gone fishing  ", .kind = CORE_PART,
	     .room = "#rust", .text = "gone fishing"},
	    {FX_TWO_ROOMS, "/part gone fishing", .kind = CORE_PART,
	     .room = "#lobby", .text = "gone fishing"},
	    EMITS(FX_TWO_ROOMS, "/part #c", "-!- error: you are not in #c\n"),
	    EMITS(FX_TWO_ROOMS, "/part #c bye",
		  "-!- error: you are not in #c\n"),
	};

	RUN_ROWS(rows);
}

static void
test_rooms_and_help_take_no_arguments(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/rooms", .kind = CORE_ROOMS},
	    {FX_TWO_ROOMS, "/rooms  ", .kind = CORE_ROOMS},
	    USAGE("/rooms all", "usage: /rooms"),
	    USAGE("/help me", "usage: /help"),
	};

	RUN_ROWS(rows);
}

static void
test_who_takes_an_optional_room_defaulting_to_current(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/who", .kind = CORE_NAMES, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/who  ", .kind = CORE_NAMES, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/who #rust", .kind = CORE_NAMES, .room = "#rust"},
	    /* Any room: the core knows who is in it. */
	    {FX_TWO_ROOMS, "/who #other  ", .kind = CORE_NAMES,
	     .room = "#other"},
	    USAGE("/who #a #b", "usage: /who [#room]"),
	};

	RUN_ROWS(rows);
}

static void
test_topic_shows_or_sets_the_current_rooms_topic(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/topic", .kind = CORE_TOPIC, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/topic   ", .kind = CORE_TOPIC, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/topic  a new  topic  ", .kind = CORE_TOPIC,
	     .flags = CORE_TOPIC_SET, .room = "#lobby", .text = "a new  topic"},
	    {FX_TWO_ROOMS, "/topic #rust rules", .kind = CORE_TOPIC,
	     .flags = CORE_TOPIC_SET, .room = "#rust", .text = "rules"},
	    {FX_TWO_ROOMS, "/topic #RUST", .kind = CORE_TOPIC, .room = "#rust"},
	    {FX_TWO_ROOMS, "/topic -", .kind = CORE_TOPIC,
	     .flags = CORE_TOPIC_CLEAR, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/topic #rust -", .kind = CORE_TOPIC,
	     .flags = CORE_TOPIC_CLEAR, .room = "#rust"},
	    {FX_TWO_ROOMS, "/topic - -", .kind = CORE_TOPIC,
	     .flags = CORE_TOPIC_SET, .room = "#lobby", .text = "- -"},
	    EMITS(FX_TWO_ROOMS, "/topic #nope text",
		  "-!- error: you are not in #nope\n"),
	    EMITS(FX_TWO_ROOMS, "/topic #no,pe text", ROOM_INVALID),
	    EMITS(FX_TWO_ROOMS, "/who #no:pe", ROOM_INVALID),
	    EMITS(FX_TWO_ROOMS, "/part #no,pe", ROOM_INVALID),
	};

	RUN_ROWS(rows);
}

static void
test_msg_takes_a_nick_and_required_text(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/msg bob hi there", .kind = CORE_PRIVMSG,
	     .arg = "bob", .text = "hi there"},
	    {FX_TWO_ROOMS, "/msg  bob   hi  there  ", .kind = CORE_PRIVMSG,
	     .arg = "bob", .text = "hi  there"},
	    USAGE("/msg", "usage: /msg NICK text"),
	    USAGE("/msg bob", "usage: /msg NICK text"),
	    USAGE("/msg bob   ", "usage: /msg NICK text"),
	};

	RUN_ROWS(rows);
}

static void
test_quit_takes_an_optional_reason_defaulting_to_quit(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/quit", .kind = CORE_QUIT, .text = "quit"},
	    {FX_TWO_ROOMS, "/quit  ", .kind = CORE_QUIT, .text = "quit"},
	    {FX_TWO_ROOMS, "/quit see you", .kind = CORE_QUIT,
	     .text = "see you"},
	    {FX_TWO_ROOMS, "/quit   see  you  ", .kind = CORE_QUIT,
	     .text = "see  you"},
	};

	RUN_ROWS(rows);
}

/* ---- names -------------------------------------------------------------- */

static void
test_command_names_are_case_insensitive(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/NICK bob", .kind = CORE_NICK, .arg = "bob"},
	    {FX_TWO_ROOMS, "/Join #x", .kind = CORE_JOIN, .flags = JOIN_FLAGS,
	     .room = "#x"},
	    {FX_TWO_ROOMS, "/mSg Bob Hi", .kind = CORE_PRIVMSG, .arg = "Bob",
	     .text = "Hi"},
	    {FX_TWO_ROOMS, "/ME waves", .kind = CORE_SAY,
	     .flags = OUTBOX_MSG_ACTION, .room = "#lobby", .text = "waves"},
	    {FX_TWO_ROOMS, "/PART", .kind = CORE_PART, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/Rooms", .kind = CORE_ROOMS},
	    {FX_TWO_ROOMS, "/WHO", .kind = CORE_NAMES, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/TOPIC", .kind = CORE_TOPIC, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/QUIT", .kind = CORE_QUIT, .text = "quit"},
	};

	RUN_ROWS(rows);
}

static void
test_unknown_commands_and_prefixes_are_errors(void)
{
	static const struct parse_row rows[] = {
	    UNKNOWN("/foo"),	   UNKNOWN("/nickname bob"),
	    UNKNOWN("/ni bob"),	   UNKNOWN("/"),
	    UNKNOWN("/ nick bob"), UNKNOWN("/msgs bob hi"),
	    UNKNOWN("/j #x"),	   UNKNOWN("/part#rust"),
	    UNKNOWN("/helpme"),	   UNKNOWN("/\xc3\xa9"),
	};

	RUN_ROWS(rows);
}

/* ---- moderation --------------------------------------------------------- */

static void
test_moderation_commands_parse_into_operations_or_usage(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/op bob", .kind = CORE_MODE, .room = "#lobby",
	     .text = "+o bob"},
	    {FX_TWO_ROOMS, "/deop #rust bob", .kind = CORE_MODE,
	     .room = "#rust", .text = "-o bob"},
	    {FX_TWO_ROOMS, "/voice bob", .kind = CORE_MODE, .room = "#lobby",
	     .text = "+v bob"},
	    {FX_TWO_ROOMS, "/devoice bob", .kind = CORE_MODE, .room = "#lobby",
	     .text = "-v bob"},
	    {FX_TWO_ROOMS, "/ban *!*@x.parley", .kind = CORE_MODE,
	     .room = "#lobby", .text = "+b *!*@x.parley"},
	    {FX_TWO_ROOMS, "/unban $a:bob", .kind = CORE_MODE, .room = "#lobby",
	     .text = "-b $a:bob"},
	    {FX_TWO_ROOMS, "/kick bob", .kind = CORE_KICK, .room = "#lobby",
	     .arg = "bob"},
	    {FX_TWO_ROOMS, "/kick #rust bob be  nice ", .kind = CORE_KICK,
	     .room = "#rust", .arg = "bob", .text = "be  nice"},
	    {FX_TWO_ROOMS, "/bans", .kind = CORE_BANS, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/register-room", .kind = CORE_ROOM_REGISTER,
	     .room = "#lobby"},
	    {FX_TWO_ROOMS, "/register-room #elsewhere",
	     .kind = CORE_ROOM_REGISTER, .room = "#elsewhere"},
	    {FX_TWO_ROOMS, "/unregister-room #rust", .kind = CORE_ROOM_DROP,
	     .room = "#rust"},
	    {FX_TWO_ROOMS, "/DROP-ROOM", .kind = CORE_ROOM_DROP,
	     .room = "#lobby"},
	    {FX_TWO_ROOMS, "/room-info #rust", .kind = CORE_ROOM_INFO,
	     .room = "#rust"},
	    USAGE("/register-room #rust now", "usage: /register-room [#room]"),
	    USAGE("/room-info bob", "usage: /room-info [#room]"),
	    {FX_TWO_ROOMS, "/bans #elsewhere", .kind = CORE_BANS,
	     .room = "#elsewhere"},
	    {FX_TWO_ROOMS, "/invite bob", .kind = CORE_INVITE, .room = "#lobby",
	     .arg = "bob"},
	    {FX_TWO_ROOMS, "/invite bob #rust", .kind = CORE_INVITE,
	     .room = "#rust", .arg = "bob"},
	    {FX_TWO_ROOMS, "/invite #rust bob", .kind = CORE_INVITE,
	     .room = "#rust", .arg = "bob"},
	    {FX_TWO_ROOMS, "/mode", .kind = CORE_MODE, .room = "#lobby"},
	    {FX_TWO_ROOMS, "/mode #x", .kind = CORE_MODE, .room = "#x"},
	    {FX_TWO_ROOMS, "/mode +kl key 5", .kind = CORE_MODE,
	     .room = "#lobby", .text = "+kl key 5"},
	    {FX_TWO_ROOMS, "/mode #rust -m", .kind = CORE_MODE, .room = "#rust",
	     .text = "-m"},
	    {FX_TWO_ROOMS, "/oper admin pass word", .kind = CORE_OPER,
	     .arg = "admin", .text = "pass word"},
	    {FX_TWO_ROOMS, "/kill bob", .kind = CORE_KILL, .arg = "bob"},
	    {FX_TWO_ROOMS, "/kill bob go away", .kind = CORE_KILL, .arg = "bob",
	     .text = "go away"},
	    {FX_TWO_ROOMS, "/wall hello all", .kind = CORE_WALL,
	     .text = "hello all"},
	    {FX_TWO_ROOMS, "/gline 10.0.0.* abuse", .kind = CORE_GLINE,
	     .arg = "10.0.0.*", .text = "abuse"},
	    {FX_TWO_ROOMS, "/ungline 10.0.0.*", .kind = CORE_GLINE,
	     .flags = CORE_GLINE_REMOVE, .arg = "10.0.0.*"},
	    {FX_TWO_ROOMS, "/glines", .kind = CORE_GLINE,
	     .flags = CORE_GLINE_LIST},
	    {FX_NO_ROOM, "/kill bob", .kind = CORE_KILL, .arg = "bob"},
	    USAGE("/op", "usage: /op [#room] NICK"),
	    USAGE("/op a b", "usage: /op [#room] NICK"),
	    USAGE("/kick", "usage: /kick [#room] NICK [reason]"),
	    USAGE("/ban", "usage: /ban [#room] MASK"),
	    USAGE("/invite", "usage: /invite [#room] NICK"),
	    USAGE("/oper admin", "usage: /oper NAME PASSWORD"),
	    USAGE("/kill", "usage: /kill NICK [reason]"),
	    USAGE("/wall", "usage: /wall text"),
	    USAGE("/gline", "usage: /gline ADDRESS [reason]"),
	    USAGE("/ungline a b", "usage: /ungline ADDRESS"),
	    USAGE("/glines x", "usage: /glines"),
	    EMITS(FX_TWO_ROOMS, "/op #bad,room bob",
		  "-!- error: invalid room name: # then 1-49 bytes without "
		  "spaces, commas, colons or control characters\n"),
	    EMITS(FX_NO_ROOM, "/op bob",
		  "-!- error: you are not in a room; name one: #room\n"),
	};

	RUN_ROWS(rows);
}

static void
test_account_commands_take_their_passwords_as_words(void)
{
	static const struct parse_row rows[] = {
	    {FX_TWO_ROOMS, "/register hunter22", .kind = CORE_REGISTER,
	     .text = "hunter22"},
	    {FX_TWO_ROOMS, "/login hunter22", .kind = CORE_LOGIN,
	     .text = "hunter22"},
	    {FX_TWO_ROOMS, "/login  alice   hunter22 ", .kind = CORE_LOGIN,
	     .arg = "alice", .text = "hunter22"},
	    {FX_NO_ROOM, "/logout", .kind = CORE_LOGOUT},
	    {FX_TWO_ROOMS, "/password old1old1 new2new2", .kind = CORE_PASSWORD,
	     .arg = "old1old1", .text = "new2new2"},
	    {FX_TWO_ROOMS, "/unregister hunter22", .kind = CORE_UNREGISTER,
	     .text = "hunter22"},
	    USAGE("/register", "usage: /register PASSWORD"),
	    USAGE("/register two words", "usage: /register PASSWORD"),
	    USAGE("/login", "usage: /login [NICK] PASSWORD"),
	    USAGE("/login a b c", "usage: /login [NICK] PASSWORD"),
	    USAGE("/logout now", "usage: /logout"),
	    USAGE("/password onlyone", "usage: /password OLD NEW"),
	    USAGE("/password a b c", "usage: /password OLD NEW"),
	    USAGE("/unregister", "usage: /unregister PASSWORD"),
	    USAGE("/history 0", "usage: /history [N] (N from 1 to 1000)"),
	    USAGE("/history 1001", "usage: /history [N] (N from 1 to 1000)"),
	    USAGE("/history x", "usage: /history [N] (N from 1 to 1000)"),
	    EMITS(FX_NO_ROOM, "/history", NO_ROOM_JOIN),
	};

	RUN_ROWS(rows);
}

static void
test_help_has_a_line_per_command_whatever_the_case(void)
{
	static const char *const names[] = {"/nick",
					    "/join",
					    "/part",
					    "/rooms",
					    "/who",
					    "/topic",
					    "/msg",
					    "/me",
					    "/quit",
					    "/help",
					    "/history",
					    "/register",
					    "/login",
					    "/logout",
					    "/password",
					    "/unregister",
					    "/op",
					    "/deop",
					    "/voice",
					    "/devoice",
					    "/kick",
					    "/ban",
					    "/unban",
					    "/bans",
					    "/invite",
					    "/mode",
					    "/oper",
					    "/kill",
					    "/wall",
					    "/gline",
					    "/ungline",
					    "/glines",
					    "/register-room",
					    "/unregister-room",
					    "/drop-room",
					    "/room-info"};
	static const char *const spellings[] = {"/help ", "/HeLp", "/HELP  "};
	struct core_op ops[PROTO_OPS_MAX];
	char want[sizeof(t_fake.out)];
	struct pf_conn *f = fake_open("#lobby", "#lobby");

	REQUIRE(proto_plain.parse(&f->pc, "/help", 5, ops) == 0);
	CHECK(!f->bad_lines && !f->overflow);
	CHECKF(f->lines == (int)(sizeof(names) / sizeof(names[0])) + 1,
	       "%d help lines", f->lines);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char start[32];
		int found = 0;
		snprintf(start, sizeof(start), "-!- help: %s ", names[i]);
		for (const char *l = f->out; *l; l = strchr(l, '\n') + 1)
			if (strncmp(l, start, strlen(start)) == 0)
				found++;
		CHECKF(found == 1, "%d help lines for %s", found, names[i]);
	}
	CHECK(strstr(f->out, "\n-!- help: text ") &&
	      strstr(f->out, "//text sends /text\n"));
	snprintf(want, sizeof(want), "%s", f->out);
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		f = fake_open("#lobby", "#lobby");
		CHECKF(proto_plain.parse(&f->pc, spellings[i],
					 strlen(spellings[i]), ops) == 0 &&
			   fake_out_is(f, want),
		       "parse(\"%s\") emitted \"%s\"", spellings[i], f->out);
	}
}

/* ---- open, close, events, refusals -------------------------------------- */

static void
test_open_greets_and_says_hello_and_close_frees_the_state(void)
{
	struct core_op ops[PROTO_OPS_MAX];
	struct pf_conn *f = fake_open(NULL, NULL);

	proto_plain.close(&f->pc);
	CHECK(f->pc.state == NULL);
	snprintf(f->pc.nick, sizeof(f->pc.nick), "guest1");
	memset(ops, 0x5a, sizeof(ops));
	REQUIRE(proto_plain.open(&f->pc, ops) == 1);
	CHECK(f->pc.state != NULL && f->pc.variant == 0);
	CHECK(ops[0].kind == CORE_HELLO &&
	      ops[0].flags ==
		  (CORE_HELLO_LOBBY | CORE_WANT_TOPIC | CORE_WANT_HISTORY) &&
	      ops[0].room.n == 0 && ops[0].arg.n == 0 && ops[0].text.n == 0);
	CHECKF(fake_out_is(f, "-!- welcome to parley, guest1! /help lists the "
			      "commands\n"),
	       "emitted \"%s\"", f->out);
	proto_plain.close(&f->pc);
	CHECK(f->pc.state == NULL);
}

static void
test_events_have_their_documented_lines(void)
{
	static const struct {
		enum proto_event ev;
		const char *text;
		long num;
		const char *want;
	} rows[] = {
	    {PROTO_EV_LINE_TOO_LONG, NULL, 1024,
	     "-!- error: line too long (max 1024 bytes); discarded\n"},
	    {PROTO_EV_SHUTDOWN, NULL, 0, "-!- server shutting down\n"},
	    {PROTO_EV_CLOSED, "send queue exceeded", 0,
	     "-!- disconnected: send queue exceeded\n"},
	    {PROTO_EV_CLOSED, "messages lost", 0,
	     "-!- disconnected: messages lost\n"},
	    {PROTO_EV_CLOSED, "server stopped", 0,
	     "-!- disconnected: server stopped\n"},
	    /* Plain never pings: a silent client is fine. */
	    {PROTO_EV_PING, NULL, 120, ""},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pf_conn *f = fake_open("#lobby", "#lobby");
		proto_plain.event(&f->pc, rows[i].ev, rows[i].text,
				  rows[i].num);
		CHECKF(fake_out_is(f, rows[i].want), "event %d: \"%s\"",
		       (int)rows[i].ev, f->out);
	}
}

static void
test_refusals_have_their_documented_lines(void)
{
	static const struct {
		enum proto_refusal why;
		long num;
		const char *want;
	} rows[] = {
	    {PROTO_REFUSE_FULL, 0, "-!- server full, try again later\n"},
	    {PROTO_REFUSE_PER_ADDR, 4,
	     "-!- too many connections from your address (limit 4)\n"},
	    {PROTO_REFUSE_BUSY, 0, "-!- server busy, try again later\n"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[256], via[256];
		size_t n = proto_plain.refusal(rows[i].why, rows[i].num, out,
					       sizeof(out));
		size_t m = proto_refusal_line(PROTO_PLAIN, rows[i].why,
					      rows[i].num, via, sizeof(via));
		CHECKF(n == strlen(rows[i].want) &&
			   memcmp(out, rows[i].want, n) == 0 && m == n &&
			   memcmp(via, out, n) == 0,
		       "refusal %d: \"%.*s\"", (int)rows[i].why, (int)n, out);
		/* A short buffer is cut, never overrun. */
		memset(out, '#', sizeof(out));
		n = proto_plain.refusal(rows[i].why, rows[i].num, out, 8);
		CHECKF(n == 7 && out[7] == '\0' && out[8] == '#',
		       "refusal %d in 8 bytes: %zu", (int)rows[i].why, n);
	}
}

/* ---- format: the line each role gets ------------------------------------ */

struct format_row {
	uint16_t kind, aux;
	const char *nick, *room, *arg, *text;
	const char *member, *author; /* "": nothing */
};

static void
test_broadcast_records_format_as_the_readme_says(void)
{
	static const struct format_row rows[] = {
	    {OUTBOX_MSG, 0, "alice", "#lobby", "", "hello",
	     "#lobby <alice> hello\n", ""},
	    {OUTBOX_MSG, OUTBOX_MSG_ACTION, "alice", "#lobby", "", "waves",
	     "#lobby * alice waves\n", ""},
	    {OUTBOX_MSG, 0, "alice", "#lobby", "",
	     "h\xc3\xa9llo \xf0\x9f\x8e\x89",
	     "#lobby <alice> h\xc3\xa9llo \xf0\x9f\x8e\x89\n", ""},
	    {OUTBOX_PRIVMSG, 0, "alice", "", "bob", "hi there",
	     "*alice* hi there\n", "-> *bob* hi there\n"},
	    {OUTBOX_JOIN, OUTBOX_ANNOUNCE, "alice", "#lobby", "", "",
	     "-!- alice joined #lobby\n", "-!- alice joined #lobby\n"},
	    {OUTBOX_PART, OUTBOX_ANNOUNCE, "alice", "#lobby", "", "reason",
	     "-!- alice left #lobby (reason)\n",
	     "-!- alice left #lobby (reason)\n"},
	    {OUTBOX_PART, 0, "alice", "#lobby", "", "",
	     "-!- alice left #lobby\n", "-!- alice left #lobby\n"},
	    {OUTBOX_QUIT, 0, "alice", "", "", "reason",
	     "-!- alice quit (reason)\n", "-!- alice quit (reason)\n"},
	    {OUTBOX_QUIT, 0, "alice", "", "", "connection closed",
	     "-!- alice quit (connection closed)\n",
	     "-!- alice quit (connection closed)\n"},
	    {OUTBOX_NICK, 0, "alice", "", "bob", "",
	     "-!- alice is now known as bob\n",
	     "-!- alice is now known as bob\n"},
	    {OUTBOX_TOPIC, 0, "alice", "#lobby", "", "text",
	     "-!- alice set the topic of #lobby: text\n",
	     "-!- alice set the topic of #lobby: text\n"},
	    {OUTBOX_TOPIC, 0, "alice", "#lobby", "", "",
	     "-!- alice cleared the topic of #lobby\n",
	     "-!- alice cleared the topic of #lobby\n"},
	    /* CTCP queries (from IRC clients) and away changes are not for
	     * plain clients; the joiner's away message is not shown. */
	    {OUTBOX_MSG, OUTBOX_MSG_CTCP, "alice", "#lobby", "", "VERSION", "",
	     ""},
	    {OUTBOX_PRIVMSG, OUTBOX_MSG_CTCP, "alice", "", "bob", "PING 1", "",
	     ""},
	    {OUTBOX_AWAY, 0, "alice", "", "", "lunch", "", ""},
	    {OUTBOX_JOIN, OUTBOX_ANNOUNCE, "alice", "#lobby", "", "lunch",
	     "-!- alice joined #lobby\n", "-!- alice joined #lobby\n"},
	    /* Not broadcast lines: the session or deliver speaks for them. */
	    {OUTBOX_SHUTDOWN, 0, "", "", "", "", "", ""},
	    {OUTBOX_REPLY, 0, "", "#lobby", "", "", "", ""},
	    {OUTBOX_TOPIC_INFO, 0, "", "#lobby", "alice", "text", "", ""},
	    {OUTBOX_NAMES, OUTBOX_LAST, "", "#lobby", "", "0alice!al@h", "",
	     ""},
	    {OUTBOX_ROOM_INFO, 0, "", "#lobby", "", "", "", ""},
	    {OUTBOX_ROOM_END, 0, "", "", "", "", "", ""},
	    {OUTBOX_HISTORY, 0, "alice", "#lobby", "", "hello", "", ""},
	};
	char *out = malloc(PROTO_LINE_MAX); /* exact: ASan sees overruns */

	if (!out) {
		tl_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct format_row *row = &rows[i];
		uint64_t ids[1] = {pf_room_id("#lobby")};
		const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
		    .kind = row->kind,
		    .aux = row->aux,
		    .src = PF_CLIENT_ID,
		    .target = row->kind == OUTBOX_PRIVMSG ? 9 : 1,
		    .ids = ids,
		    .nids = row->kind == OUTBOX_QUIT || row->kind == OUTBOX_NICK
				? 1
				: 0,
		    .nick = outbox_str(row->nick),
		    .user = outbox_str("al"),
		    .host = outbox_str("192.0.2.1"),
		    .acct = outbox_str("alice"),
		    .room = outbox_str(row->room),
		    .arg = outbox_str(row->arg),
		    .text = outbox_str(row->text),
		});
		if (!v)
			continue;
		for (int role = 0; role < PROTO_ROLE_COUNT; role++) {
			const char *want = role == PROTO_ROLE_AUTHOR
					       ? row->author
					       : row->member;
			size_t n = proto_plain.format(
			    &pf_env, v, 0, (enum proto_role)role, out);
			CHECKF(n == strlen(want) && memcmp(out, want, n) == 0,
			       "kind %u aux %u role %d: \"%.*s\"", row->kind,
			       row->aux, role, (int)n, out);
		}
	}
	free(out);
}

static void
test_longest_records_format_whole_within_the_line_limit(void)
{
	static const uint16_t kinds[] = {
	    OUTBOX_MSG,	 OUTBOX_PRIVMSG, OUTBOX_JOIN,  OUTBOX_PART,
	    OUTBOX_QUIT, OUTBOX_NICK,	 OUTBOX_TOPIC,
	};
	static char text[OUTBOX_TEXT_MAX / 3 * 3];
	char nick[OUTBOX_NICK_MAX], room[OUTBOX_ROOM_MAX], arg[OUTBOX_ARG_MAX];
	char *out = malloc(PROTO_LINE_MAX);

	if (!out) {
		tl_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	memset(nick, 'n', sizeof(nick));
	memset(room, 'r', sizeof(room));
	room[0] = '#';
	memset(arg, 'a', sizeof(arg));
	for (size_t i = 0; i < sizeof(text); i += 3)
		memcpy(text + i, "\xe4\xb8\x96", 3);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
		    .kind = kinds[i],
		    .aux = OUTBOX_ANNOUNCE,
		    .src = PF_CLIENT_ID,
		    .target = 1,
		    .nick = {nick, sizeof(nick)},
		    .user = outbox_str("al"),
		    .host = outbox_str("192.0.2.1"),
		    .room = {room, sizeof(room)},
		    .arg = {arg, sizeof(arg)},
		    .text = {text, sizeof(text)},
		});
		if (!v)
			continue;
		size_t n =
		    proto_plain.format(&pf_env, v, 0, PROTO_ROLE_MEMBER, out);
		int has_text =
		    kinds[i] != OUTBOX_JOIN && kinds[i] != OUTBOX_NICK;
		CHECKF(n > 0 && n <= PROTO_LINE_MAX && out[n - 1] == '\n' &&
			   !memchr(out, '\n', n - 1) &&
			   (!has_text ||
			    memmem(out, n, v->text.p, v->text.n) != NULL),
		       "kind %u: %zu bytes", kinds[i], n);
	}
	free(out);
}

/* ---- deliver: records for this client alone ----------------------------- */

struct error_row {
	enum core_err err;
	const char *room, *arg;
	long num;
	const char *want;
};

static void
test_errors_are_spelled_with_their_parameter_directly_and_in_replies(void)
{
	static const struct error_row rows[] = {
	    {CORE_ERR_NICK_IN_USE, "", "bob", 0,
	     "-!- error: nickname bob is already taken\n"},
	    {CORE_ERR_NICK_INVALID, "", "9x", 0,
	     "-!- error: invalid nickname: 1-30 letters, digits or "
	     "-[]\\`^_{|}, not starting with a digit or -\n"},
	    {CORE_ERR_NICK_SAME, "", "alice", 0,
	     "-!- error: you are already alice\n"},
	    {CORE_ERR_ROOM_INVALID, "#a!b", "", 0, ROOM_INVALID},
	    {CORE_ERR_NOT_IN_ROOM, "#c", "", 0,
	     "-!- error: you are not in #c\n"},
	    {CORE_ERR_NO_SUCH_ROOM, "#c", "", 0,
	     "-!- error: no such room #c\n"},
	    {CORE_ERR_NO_SUCH_NICK, "", "bob", 0,
	     "-!- error: no such nick bob\n"},
	    {CORE_ERR_CLIENT_ROOMS, "#c", "", 16,
	     "-!- error: you are in too many rooms (max 16)\n"},
	    {CORE_ERR_SERVER_ROOMS, "#c", "", 1000,
	     "-!- error: too many rooms on this server (max 1000)\n"},
	    {CORE_ERR_TOPIC_TOO_LONG, "#lobby", "", 300,
	     "-!- error: topic too long (max 300 bytes)\n"},
	    {CORE_ERR_NO_ROOM, "", "", 0,
	     "-!- error: you are not in a room; /join #room\n"},
	    {CORE_ERR_NO_TEXT, "", "bob", 0, "-!- error: nothing to send\n"},
	    {CORE_ERR_UNAVAILABLE, "", "", 0,
	     "-!- error: the server cannot do that now\n"},
	    /* A value this protocol has no wording for. */
	    {(enum core_err)99, "#c", "bob", 5,
	     "-!- error: the server refused that\n"},
	};
	struct core_op ops[PROTO_OPS_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct error_row *row = &rows[i];
		uint64_t num = (uint64_t)row->num;
		struct pf_conn *f = fake_open("#lobby", "#lobby");

		proto_plain.error(&f->pc, row->err, outbox_str(row->room),
				  outbox_str(row->arg), row->num);
		CHECKF(fake_out_is(f, row->want), "error %d: \"%s\"",
		       (int)row->err, f->out);
		f = fake_open("#lobby", "#lobby");
		f->pc.pending = CORE_JOIN;
		const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
		    .kind = OUTBOX_REPLY,
		    .aux = (uint16_t)row->err,
		    .target = PF_CLIENT_ID,
		    .ids = &num,
		    .nids = 1,
		    .room = outbox_str(row->room),
		    .arg = outbox_str(row->arg),
		});
		if (!v)
			continue;
		CHECKF(proto_plain.deliver(&f->pc, v, ops) == 0 &&
			   fake_out_is(f, row->want),
		       "reply %d: \"%s\"", (int)row->err, f->out);
	}
}

struct deliver_row {
	uint16_t kind, aux;
	unsigned nids;
	const char *nick, *room, *arg, *text;
	uint64_t id0;
	int64_t ts_ms;
	const char *want; /* "": nothing */
};

/* 2024-01-01 11:48:02.345 UTC */
#define T_TS_MS 1704109682345LL

static void
test_records_for_one_client_emit_the_documented_lines(void)
{
	static const struct deliver_row rows[] = {
	    {OUTBOX_TOPIC_INFO, 0, 1, "", "#lobby", "alice", "text", T_TS_MS, 0,
	     "-!- topic of #lobby: text\n"},
	    {OUTBOX_TOPIC_INFO, 0, 1, "", "#lobby", "", "", 0, 0,
	     "-!- #lobby has no topic\n"},
	    {OUTBOX_NAMES, OUTBOX_LAST, 0, "", "#r", "", "0a!u@h 1b!u@h", 0, 0,
	     "-!- members of #r: a @b\n"},
	    {OUTBOX_NAMES, 0, 0, "", "#lobby", "",
	     "7alice!al@192.0.2.1 0bob!b@::1 2carol!c@h", 0, 0,
	     "-!- members of #lobby: @alice bob +carol\n"},
	    {OUTBOX_NAMES, OUTBOX_LAST, 0, "", "#lobby", "", "", 0, 0, ""},
	    {OUTBOX_ROOM_INFO, 0, 1, "", "#lobby", "", "", 1, 0,
	     "-!- #lobby: 1 member, no topic\n"},
	    {OUTBOX_ROOM_INFO, 0, 1, "", "#lobby", "", "text", 3, 0,
	     "-!- #lobby: 3 members, topic: text\n"},
	    {OUTBOX_ROOM_INFO, 0, 1, "", "#rust", "", "", 2, 0,
	     "-!- #rust: 2 members, no topic\n"},
	    {OUTBOX_ROOM_END, 0, 1, "", "", "", "", 0, 0, "-!- no rooms\n"},
	    {OUTBOX_ROOM_END, 0, 1, "", "", "", "", 2, 0, ""},
	    {OUTBOX_HISTORY, 0, 0, "alice", "#lobby", "msgid1", "hello", 0,
	     T_TS_MS, "#lobby [history 11:48:02Z] <alice> hello\n"},
	    {OUTBOX_HISTORY, OUTBOX_MSG_ACTION, 0, "alice", "#lobby", "msgid2",
	     "waves", 0, T_TS_MS, "#lobby [history 11:48:02Z] * alice waves\n"},
	    {OUTBOX_REPLY, CORE_OK, 0, "", "", "", "", 0, 0, ""},
	    {OUTBOX_HISTORY, OUTBOX_MSG_CTCP, 0, "alice", "#lobby", "msgid3",
	     "VERSION", 0, T_TS_MS, ""},
	    /* What IRC clients ask about: not plain's to show. */
	    {OUTBOX_USER_INFO, 0, 0, "bob", "", "", "", 0, 0, ""},
	    {OUTBOX_LUSERS, 0, 0, "", "", "", "", 0, 0, ""},
	    {OUTBOX_MOTD, 0, 0, "", "", "", "hello", 0, 0, ""},
	    /* Broadcast kinds are format's, not deliver's. */
	    {OUTBOX_MSG, 0, 0, "alice", "#lobby", "", "hello", 0, 0, ""},
	};
	struct core_op ops[PROTO_OPS_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct deliver_row *row = &rows[i];
		struct pf_conn *f = fake_open("#lobby", "#lobby");
		const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
		    .kind = row->kind,
		    .aux = row->aux,
		    .target = PF_CLIENT_ID,
		    .ts_ms = row->ts_ms,
		    .ids = &row->id0,
		    .nids = row->nids,
		    .nick = outbox_str(row->nick),
		    .user = outbox_str(*row->nick ? "al" : ""),
		    .host = outbox_str(*row->nick ? "192.0.2.1" : ""),
		    .room = outbox_str(row->room),
		    .arg = outbox_str(row->arg),
		    .text = outbox_str(row->text),
		});
		if (!v)
			continue;
		f->pc.pending =
		    row->kind == OUTBOX_REPLY ? CORE_NICK : CORE_NONE;
		CHECKF(proto_plain.deliver(&f->pc, v, ops) == 0 &&
			   fake_out_is(f, row->want),
		       "kind %u: \"%s\"", row->kind, f->out);
	}
}

/* ---- the current room as the client's own records come back ------------- */

static void
test_a_join_reply_makes_the_joined_room_current(void)
{
	static const struct {
		enum core_op_kind pending;
		const char *room; /* the room of the reply */
		const char *then; /* where "hi" goes next */
	} rows[] = {
	    {CORE_JOIN, "#lobby", "#lobby"},
	    {CORE_HELLO, "#lobby", "#lobby"},
	    {CORE_JOIN, "#c", "#rust"}, /* not a room of the client's */
	    {CORE_NICK, "#lobby", "#rust"},
	};
	struct core_op ops[PROTO_OPS_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pf_conn *f = fake_open("#lobby #rust", "#rust");
		uint64_t id = pf_room_id(rows[i].room);
		const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
		    .kind = OUTBOX_REPLY,
		    .target = PF_CLIENT_ID,
		    .ids = &id,
		    .nids = 1,
		    .room = outbox_str(rows[i].room),
		});
		if (!v)
			continue;
		f->pc.pending = rows[i].pending;
		CHECK(proto_plain.deliver(&f->pc, v, ops) == 0);
		int n = proto_plain.parse(&f->pc, "hi", 2, ops);
		CHECKF(n == 1 && fake_out_is(f, "") &&
			   str_is(ops[0].room.p, ops[0].room.n, rows[i].then),
		       "reply for %s after %s: %d ops, \"%s\"", rows[i].room,
		       kind_name(rows[i].pending), n, f->out);
	}
}

static void
test_own_joins_and_parts_move_the_current_room(void)
{
	static const struct {
		const char *rooms;   /* the client's, once the session applied
					the record */
		const char *current; /* before */
		uint16_t kind;
		const char *room; /* of the record */
		const char *emitted;
		const char *then; /* where "hi" goes next; NULL: nowhere */
	} rows[] = {
	    {"#lobby #new", "#lobby", OUTBOX_JOIN, "#new", "", "#new"},
	    {"#new", NULL, OUTBOX_JOIN, "#new", "", "#new"},
	    /* The current room left: the newest remaining one follows. */
	    {"#lobby #c", "#rust", OUTBOX_PART, "#rust",
	     "-!- now talking in #c\n", "#c"},
	    {"#c #lobby", "#rust", OUTBOX_PART, "#rust",
	     "-!- now talking in #lobby\n", "#lobby"},
	    /* Another room left: nothing changes. */
	    {"#lobby #c", "#lobby", OUTBOX_PART, "#rust", "", "#lobby"},
	    /* The last room left: no current room. */
	    {"", "#lobby", OUTBOX_PART, "#lobby", "", NULL},
	    {"#lobby #rust", "#lobby", OUTBOX_NICK, "", "", "#lobby"},
	};
	struct core_op ops[PROTO_OPS_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pf_conn *f = fake_open(NULL, rows[i].current);
		fake_set_rooms(f, rows[i].rooms);
		fake_self_move(f, rows[i].kind, rows[i].room);
		CHECKF(fake_out_is(f, rows[i].emitted),
		       "row %zu: self emitted \"%s\"", i, f->out);
		pf_clear(f);
		int n = proto_plain.parse(&f->pc, "hi", 2, ops);
		if (rows[i].then)
			CHECKF(n == 1 && ops[0].kind == CORE_SAY &&
				   str_is(ops[0].room.p, ops[0].room.n,
					  rows[i].then),
			       "row %zu: %d ops, \"%.*s\"", i, n,
			       n == 1 ? (int)ops[0].room.n : 0,
			       n == 1 ? ops[0].room.p : "");
		else
			CHECKF(n == 0 && fake_out_is(f, NO_ROOM_JOIN),
			       "row %zu: %d ops, \"%s\"", i, n, f->out);
	}
}

int
main(void)
{
	if (pf_init() < 0)
		return 1;

	RUN(test_plain_text_is_a_message_to_the_current_room_kept_verbatim);
	RUN(test_empty_and_blank_lines_are_ignored_even_without_a_room);
	RUN(test_double_slash_escapes_a_leading_slash);
	RUN(test_me_is_an_action_in_the_current_room_with_required_text);
	RUN(test_without_a_current_room_messages_get_the_documented_error);
	RUN(test_parse_does_not_read_past_len);
	RUN(test_nick_takes_exactly_one_word);
	RUN(test_join_takes_exactly_one_valid_room);
	RUN(test_join_of_a_room_already_joined_switches_without_an_operation);
	RUN(test_part_takes_an_optional_room_and_reason_defaulting_to_current);
	RUN(test_rooms_and_help_take_no_arguments);
	RUN(test_who_takes_an_optional_room_defaulting_to_current);
	RUN(test_topic_shows_or_sets_the_current_rooms_topic);
	RUN(test_msg_takes_a_nick_and_required_text);
	RUN(test_quit_takes_an_optional_reason_defaulting_to_quit);
	RUN(test_command_names_are_case_insensitive);
	RUN(test_unknown_commands_and_prefixes_are_errors);
	RUN(test_account_commands_take_their_passwords_as_words);
	RUN(test_moderation_commands_parse_into_operations_or_usage);
	RUN(test_help_has_a_line_per_command_whatever_the_case);
	RUN(test_open_greets_and_says_hello_and_close_frees_the_state);
	RUN(test_events_have_their_documented_lines);
	RUN(test_refusals_have_their_documented_lines);
	RUN(test_broadcast_records_format_as_the_readme_says);
	RUN(test_longest_records_format_whole_within_the_line_limit);
	RUN(test_errors_are_spelled_with_their_parameter_directly_and_in_replies);
	RUN(test_records_for_one_client_emit_the_documented_lines);
	RUN(test_a_join_reply_makes_the_joined_room_current);
	RUN(test_own_joins_and_parts_move_the_current_room);
	if (t_fake.pc.state)
		proto_plain.close(&t_fake.pc);
	outbox_shm_destroy(&pf_shm);
	return tl_summary("unit_proto_plain");
}
