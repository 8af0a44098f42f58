/*
 * fuzz_command: command_parse on arbitrary lines. Invariants: it always
 * fills a valid kind; arguments are empty or point inside the line with
 * in-range lengths; words hold no spaces; an error carries a message.
 */
#include "server/command.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_command_check_span(const char *line, size_t len, const char *p, size_t n)
{
	assert(p != NULL);
	if (n == 0)
		return;
	assert(p >= line && p <= line + len);
	assert(n <= len && (size_t)(p - line) <= len - n);
	/* Touch every byte so ASan sees any out-of-range span. */
	volatile unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)p[i];
	(void)sum;
}

static int
fuzz_command_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct command cmd;
	char *line = malloc(size ? size : 1);

	assert(line);
	if (size)
		memcpy(line, data, size);
	memset(&cmd, 0xA5, sizeof(cmd));
	command_parse(line, size, &cmd);

	assert(cmd.kind >= COMMAND_MESSAGE && cmd.kind <= COMMAND_ERROR);
	fuzz_command_check_span(line, size, cmd.arg, cmd.arg_len);
	fuzz_command_check_span(line, size, cmd.text, cmd.text_len);
	if (cmd.kind == COMMAND_ERROR) {
		assert(cmd.error != NULL && cmd.error[0] != '\0');
		assert(cmd.arg_len == 0 && cmd.text_len == 0);
	}
	if (cmd.kind == COMMAND_MESSAGE) {
		assert(cmd.arg_len == 0);
		assert(cmd.text_len <= size);
		/* Only "//" loses its first slash; a blank line says nothing.
		 */
		assert(cmd.text_len == size ||
		       (cmd.text_len + 1 == size && line[0] == '/') ||
		       (cmd.text_len == 0 && fuzz_command_blank(line, size)));
	} else {
		assert(size > 0 && line[0] == '/');
		assert(memchr(cmd.arg, ' ', cmd.arg_len) == NULL);
		if (cmd.text_len) {
			assert(cmd.text[0] != ' ');
			assert(cmd.text[cmd.text_len - 1] != ' ');
		}
		if (cmd.arg_len && cmd.text_len)
			assert(cmd.arg + cmd.arg_len < cmd.text);
	}
	switch (cmd.kind) {
	case COMMAND_NICK:
	case COMMAND_JOIN:
		assert(cmd.arg_len > 0 && cmd.text_len == 0);
		break;
	case COMMAND_MSG:
		assert(cmd.arg_len > 0 && cmd.text_len > 0);
		break;
	case COMMAND_ME:
		assert(cmd.text_len > 0);
		break;
	case COMMAND_WHO:
		assert(cmd.text_len == 0);
		break;
	case COMMAND_PART:
	case COMMAND_TOPIC:
		if (cmd.arg_len)
			assert(cmd.arg[0] == '#');
		break;
	case COMMAND_ROOMS:
	case COMMAND_HELP:
		assert(cmd.arg_len == 0 && cmd.text_len == 0);
		break;
	default:
		break;
	}
	free(line);
	return 0;
}
