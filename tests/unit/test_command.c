/*
 * Unit tests for src/server/command: every command with missing and extra
 * arguments, the "//" escape, unknown names, case and trailing spaces.
 */
#include "server/command.h"

#include "../testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
/* ---- helpers ------------------------------------------------------------ */

static struct command
parse(const char *line)
{
	struct command cmd;

	memset(&cmd, 0x5a, sizeof(cmd));
	command_parse(line, strlen(line), &cmd);
	return cmd;
}

static int
span_is(const char *p, size_t n, const char *want)
{
	return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* Checks kind, arg and text of parsing line. */
#define CHECK_PARSE(line, want_kind, want_arg, want_text)                      \
	do {                                                                   \
		struct command c_ = parse(line);                               \
		CHECKF(c_.kind == (want_kind) &&                               \
			   span_is(c_.arg, c_.arg_len, want_arg) &&            \
			   span_is(c_.text, c_.text_len, want_text),           \
		       "parse(\"%s\"): kind %d arg \"%.*s\" text \"%.*s\"",    \
		       line, (int)c_.kind, (int)c_.arg_len,                    \
		       c_.arg ? c_.arg : "", (int)c_.text_len,                 \
		       c_.text ? c_.text : "");                                \
	} while (0)

/* Checks that line is a usage error naming the command. */
#define CHECK_USAGE(line, usage)                                               \
	do {                                                                   \
		struct command c_ = parse(line);                               \
		CHECKF(c_.kind == COMMAND_ERROR && c_.error &&                 \
			   strcmp(c_.error, usage) == 0 && c_.arg_len == 0 &&  \
			   c_.text_len == 0,                                   \
		       "parse(\"%s\"): kind %d error \"%s\"", line,            \
		       (int)c_.kind,                                           \
		       c_.kind == COMMAND_ERROR && c_.error ? c_.error : "");  \
	} while (0)

/* ---- messages ----------------------------------------------------------- */

static void
test_plain_text_is_a_message_kept_verbatim(void)
{
	CHECK_PARSE("hello world", COMMAND_MESSAGE, "", "hello world");
	CHECK_PARSE("  spaced  ", COMMAND_MESSAGE, "", "  spaced  ");
	CHECK_PARSE("a/b", COMMAND_MESSAGE, "", "a/b");
	CHECK_PARSE(" /nick x", COMMAND_MESSAGE, "", " /nick x");
}

static void
test_empty_or_blank_line_is_an_empty_message(void)
{
	struct command c;

	command_parse("", 0, &c);
	CHECK(c.kind == COMMAND_MESSAGE && c.text_len == 0);
	CHECK(c.arg != NULL && c.text != NULL);
	/* Blank is empty: only spaces or tabs. */
	CHECK_PARSE("   ", COMMAND_MESSAGE, "", "");
	CHECK_PARSE(" \t \t", COMMAND_MESSAGE, "", "");
	CHECK_PARSE("// ", COMMAND_MESSAGE, "", "/ ");
}

static void
test_double_slash_escapes_a_leading_slash(void)
{
	CHECK_PARSE("//nick bob", COMMAND_MESSAGE, "", "/nick bob");
	CHECK_PARSE("//", COMMAND_MESSAGE, "", "/");
	CHECK_PARSE("///x", COMMAND_MESSAGE, "", "//x");
}

static void
test_parse_does_not_read_past_len(void)
{
	struct command c;

	/* The line is the first 5 bytes only. */
	command_parse("/nick bob", 5, &c);
	CHECK(c.kind == COMMAND_ERROR);
	command_parse("/me waves\x01garbage", 9, &c);
	CHECK(c.kind == COMMAND_ME && span_is(c.text, c.text_len, "waves"));
}

/* ---- each command ------------------------------------------------------- */

static void
test_nick_takes_exactly_one_word(void)
{
	CHECK_PARSE("/nick bob", COMMAND_NICK, "bob", "");
	CHECK_PARSE("/nick   bob   ", COMMAND_NICK, "bob", "");
	CHECK_USAGE("/nick", "usage: /nick NAME");
	CHECK_USAGE("/nick    ", "usage: /nick NAME");
	CHECK_USAGE("/nick bob alice", "usage: /nick NAME");
}

static void
test_join_takes_exactly_one_room(void)
{
	CHECK_PARSE("/join #rust", COMMAND_JOIN, "#rust", "");
	CHECK_PARSE("/join #rust ", COMMAND_JOIN, "#rust", "");
	CHECK_USAGE("/join", "usage: /join #room");
	CHECK_USAGE("/join #a #b", "usage: /join #room");
}

static void
test_part_takes_an_optional_room_and_reason(void)
{
	CHECK_PARSE("/part", COMMAND_PART, "", "");
	CHECK_PARSE("/part   ", COMMAND_PART, "", "");
	CHECK_PARSE("/part #c", COMMAND_PART, "#c", "");
	CHECK_PARSE("/part #c gone fishing", COMMAND_PART, "#c",
		    "gone fishing");
	CHECK_PARSE("/part #c   gone fishing  ", COMMAND_PART, "#c",
		    "gone fishing");
	CHECK_PARSE("/part gone fishing", COMMAND_PART, "", "gone fishing");
}

static void
test_rooms_and_help_take_no_arguments(void)
{
	CHECK_PARSE("/rooms", COMMAND_ROOMS, "", "");
	CHECK_PARSE("/rooms  ", COMMAND_ROOMS, "", "");
	CHECK_USAGE("/rooms all", "usage: /rooms");
	CHECK_PARSE("/help", COMMAND_HELP, "", "");
	CHECK_PARSE("/help ", COMMAND_HELP, "", "");
	CHECK_USAGE("/help me", "usage: /help");
}

static void
test_who_takes_an_optional_room(void)
{
	CHECK_PARSE("/who", COMMAND_WHO, "", "");
	CHECK_PARSE("/who #lobby", COMMAND_WHO, "#lobby", "");
	CHECK_PARSE("/who #lobby  ", COMMAND_WHO, "#lobby", "");
	CHECK_USAGE("/who #a #b", "usage: /who [#room]");
}

static void
test_topic_takes_an_optional_room_and_text(void)
{
	CHECK_PARSE("/topic", COMMAND_TOPIC, "", "");
	CHECK_PARSE("/topic   ", COMMAND_TOPIC, "", "");
	CHECK_PARSE("/topic  a new  topic  ", COMMAND_TOPIC, "",
		    "a new  topic");
	CHECK_PARSE("/topic #c", COMMAND_TOPIC, "#c", "");
	CHECK_PARSE("/topic #c  a new topic ", COMMAND_TOPIC, "#c",
		    "a new topic");
	CHECK_PARSE("/topic #c #1 item", COMMAND_TOPIC, "#c", "#1 item");
	CHECK_PARSE("/topic -", COMMAND_TOPIC, "", "-");
	CHECK_PARSE("/topic #c -", COMMAND_TOPIC, "#c", "-");
}

static void
test_msg_takes_a_nick_and_required_text(void)
{
	CHECK_PARSE("/msg bob hi there", COMMAND_MSG, "bob", "hi there");
	CHECK_PARSE("/msg  bob   hi  there  ", COMMAND_MSG, "bob", "hi  there");
	CHECK_USAGE("/msg", "usage: /msg NICK text");
	CHECK_USAGE("/msg bob", "usage: /msg NICK text");
	CHECK_USAGE("/msg bob   ", "usage: /msg NICK text");
}

static void
test_me_takes_required_text(void)
{
	CHECK_PARSE("/me waves", COMMAND_ME, "", "waves");
	CHECK_PARSE("/me  waves  twice ", COMMAND_ME, "", "waves  twice");
	CHECK_USAGE("/me", "usage: /me action");
	CHECK_USAGE("/me   ", "usage: /me action");
}

static void
test_quit_takes_an_optional_reason(void)
{
	CHECK_PARSE("/quit", COMMAND_QUIT, "", "");
	CHECK_PARSE("/quit  ", COMMAND_QUIT, "", "");
	CHECK_PARSE("/quit see you", COMMAND_QUIT, "", "see you");
}

/* ---- names -------------------------------------------------------------- */

static void
test_command_names_are_case_insensitive(void)
{
	CHECK_PARSE("/NICK bob", COMMAND_NICK, "bob", "");
	CHECK_PARSE("/Join #x", COMMAND_JOIN, "#x", "");
	CHECK_PARSE("/mSg Bob Hi", COMMAND_MSG, "Bob", "Hi");
	CHECK_PARSE("/ME waves", COMMAND_ME, "", "waves");
	CHECK_PARSE("/QUIT", COMMAND_QUIT, "", "");
	CHECK_PARSE("/HeLp", COMMAND_HELP, "", "");
}

static void
test_unknown_commands_and_prefixes_are_errors(void)
{
	static const char *const lines[] = {
	    "/foo",	  "/nickname bob", "/ni bob", "/",
	    "/ nick bob", "/msgs bob hi",  "/j #x",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct command c = parse(lines[i]);
		CHECKF(c.kind == COMMAND_ERROR && c.error &&
			   strstr(c.error, "unknown command"),
		       "parse(\"%s\"): kind %d", lines[i], (int)c.kind);
	}
}

static void
test_help_text_has_a_line_for_every_command(void)
{
	static const char *const names[] = {
	    "/nick",  "/join", "/part", "/rooms", "/who",
	    "/topic", "/msg",  "/me",	"/quit",  "/help"};
	size_t n = 0;

	while (command_help[n])
		n++;
	CHECK(n >= sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int found = 0;
		for (size_t j = 0; j < n; j++)
			if (strncmp(command_help[j], names[i],
				    strlen(names[i])) == 0 &&
			    command_help[j][strlen(names[i])] == ' ')
				found = 1;
		CHECKF(found, "no help line for %s", names[i]);
	}
}

int
main(void)
{
	RUN(test_plain_text_is_a_message_kept_verbatim);
	RUN(test_empty_or_blank_line_is_an_empty_message);
	RUN(test_double_slash_escapes_a_leading_slash);
	RUN(test_parse_does_not_read_past_len);
	RUN(test_nick_takes_exactly_one_word);
	RUN(test_join_takes_exactly_one_room);
	RUN(test_part_takes_an_optional_room_and_reason);
	RUN(test_rooms_and_help_take_no_arguments);
	RUN(test_who_takes_an_optional_room);
	RUN(test_topic_takes_an_optional_room_and_text);
	RUN(test_msg_takes_a_nick_and_required_text);
	RUN(test_me_takes_required_text);
	RUN(test_quit_takes_an_optional_reason);
	RUN(test_command_names_are_case_insensitive);
	RUN(test_unknown_commands_and_prefixes_are_errors);
	RUN(test_help_text_has_a_line_for_every_command);
	return tl_summary("unit_command");
}
