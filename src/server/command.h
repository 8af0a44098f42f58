/*
 * command: parses one sanitised client line into a command. Pure (no I/O,
 * no allocation): arguments point into the caller's line. Run by sessions;
 * a fuzz target.
 */
#ifndef PARLEY_COMMAND_H
#define PARLEY_COMMAND_H

#include <stddef.h>

enum command_kind {
	COMMAND_MESSAGE, /* a room message: text */
	COMMAND_NICK,	 /* arg = new nickname */
	COMMAND_JOIN,	 /* arg = room */
	COMMAND_PART,	 /* arg = room or empty, text = reason */
	COMMAND_ROOMS,
	COMMAND_WHO,   /* arg = room or empty */
	COMMAND_TOPIC, /* arg = room or empty, text = new topic, "-" or empty */
	COMMAND_MSG,   /* arg = nickname, text = message */
	COMMAND_ME,    /* text = action */
	COMMAND_QUIT,  /* text = reason or empty */
	COMMAND_HELP,
	COMMAND_ERROR, /* error = what to tell the client */
};

struct command {
	enum command_kind kind;
	const char *arg;
	size_t arg_len;
	const char *text;
	size_t text_len;
	const char *error; /* static string for COMMAND_ERROR */
};

/* Parses line[0..len). An empty line, or one of only spaces and tabs, is
 * COMMAND_MESSAGE with empty text: the caller ignores it. Always fills
 * *cmd. */
void command_parse(const char *line, size_t len, struct command *cmd);

/* The /help text, one line per command, NULL-terminated. */
extern const char *const command_help[];

#endif
