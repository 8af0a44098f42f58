/*
 * command: "/name args" with a table of names, argument shapes and usage
 * strings; everything else is a message to the current room.
 */
#include "server/command.h"

#include <string.h>
#include <strings.h>

const char *const command_help[] = {
    "/nick NAME              change your nickname (letters, digits, _ -; "
    "max 20)",
    "/join #room             join a room (created on first join) or "
    "switch to it",
    "/part [#room] [reason]  leave a room (default: the current one)",
    "/rooms                  list rooms with member count and topic",
    "/who [#room]            list the members of a room",
    "/topic [#room] [text]   show or set a room's topic (- clears it)",
    "/msg NICK text          send a private message",
    "/me action              act in the current room",
    "/quit [reason]          leave the server",
    "/help                   this list",
    "text                    a line without / goes to the current room; "
    "//text sends /text",
    NULL,
};

/* Argument shapes. */
enum {
	ARGS_NONE,	   /* nothing */
	ARGS_WORD,	   /* exactly one word */
	ARGS_OPT_WORD,	   /* zero or one word */
	ARGS_TEXT,	   /* free text, required */
	ARGS_OPT_TEXT,	   /* free text, optional */
	ARGS_WORD_TEXT,	   /* a word and required text */
	ARGS_OPT_ROOM_TEXT /* optional #room, optional text */
};

static const struct {
	const char *name;
	enum command_kind kind;
	int args;
	const char *usage;
} command_table[] = {
    {"nick", COMMAND_NICK, ARGS_WORD, "usage: /nick NAME"},
    {"join", COMMAND_JOIN, ARGS_WORD, "usage: /join #room"},
    {"part", COMMAND_PART, ARGS_OPT_ROOM_TEXT, "usage: /part [#room] [reason]"},
    {"rooms", COMMAND_ROOMS, ARGS_NONE, "usage: /rooms"},
    {"who", COMMAND_WHO, ARGS_OPT_WORD, "usage: /who [#room]"},
    {"topic", COMMAND_TOPIC, ARGS_OPT_ROOM_TEXT,
     "usage: /topic [#room] [text]"},
    {"msg", COMMAND_MSG, ARGS_WORD_TEXT, "usage: /msg NICK text"},
    {"me", COMMAND_ME, ARGS_TEXT, "usage: /me action"},
    {"quit", COMMAND_QUIT, ARGS_OPT_TEXT, "usage: /quit [reason]"},
    {"help", COMMAND_HELP, ARGS_NONE, "usage: /help"},
};

static size_t
command_skip_spaces(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

static size_t
command_word_end(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] != ' ')
		i++;
	return i;
}

static size_t
command_trim_end(const char *s, size_t len)
{
	while (len > 0 && s[len - 1] == ' ')
		len--;
	return len;
}

/* Only spaces and tabs: a line that says nothing. */
static int
command_is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* Splits args at s[0..len) by shape; returns 0 or -1 for a usage error. */
static int
command_args(struct command *cmd, int shape, const char *s, size_t len)
{
	size_t i = command_skip_spaces(s, 0, len), end;

	len = command_trim_end(s, len);
	if (i >= len)
		return (shape == ARGS_NONE || shape == ARGS_OPT_WORD ||
			shape == ARGS_OPT_TEXT || shape == ARGS_OPT_ROOM_TEXT)
			   ? 0
			   : -1;
	switch (shape) {
	case ARGS_NONE:
		return -1;
	case ARGS_TEXT:
	case ARGS_OPT_TEXT:
		cmd->text = s + i;
		cmd->text_len = len - i;
		return 0;
	case ARGS_OPT_ROOM_TEXT:
		if (s[i] != '#') {
			cmd->text = s + i;
			cmd->text_len = len - i;
			return 0;
		}
		/* fall through: a room word, then optional text */
	default:
		break;
	}
	end = command_word_end(s, i, len);
	cmd->arg = s + i;
	cmd->arg_len = end - i;
	i = command_skip_spaces(s, end, len);
	if (i < len) {
		if (shape == ARGS_WORD || shape == ARGS_OPT_WORD)
			return -1;
		cmd->text = s + i;
		cmd->text_len = len - i;
	} else if (shape == ARGS_WORD_TEXT) {
		return -1;
	}
	return 0;
}

void
command_parse(const char *line, size_t len, struct command *cmd)
{
	size_t name_end;

	memset(cmd, 0, sizeof(*cmd));
	cmd->arg = cmd->text = "";
	if (len == 0 || line[0] != '/' || (len > 1 && line[1] == '/')) {
		size_t skip = len > 1 && line[0] == '/' ? 1 : 0;
		cmd->kind = COMMAND_MESSAGE;
		cmd->text = line + skip;
		cmd->text_len = command_is_blank(line, len) ? 0 : len - skip;
		return;
	}
	name_end = command_word_end(line, 1, len);
	for (size_t i = 0; i < sizeof(command_table) / sizeof(command_table[0]);
	     i++) {
		size_t n = strlen(command_table[i].name);
		if (n != name_end - 1 ||
		    strncasecmp(line + 1, command_table[i].name, n) != 0)
			continue;
		cmd->kind = command_table[i].kind;
		if (command_args(cmd, command_table[i].args, line + name_end,
				 len - name_end) < 0) {
			cmd->kind = COMMAND_ERROR;
			cmd->error = command_table[i].usage;
			cmd->arg = cmd->text = "";
			cmd->arg_len = cmd->text_len = 0;
		}
		return;
	}
	cmd->kind = COMMAND_ERROR;
	cmd->error = "unknown command; /help lists the commands";
}
