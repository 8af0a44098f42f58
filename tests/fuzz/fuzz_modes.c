/*
 * fuzz_modes: any bytes as a mode string (modes_parse), as --room-modes
 * (modes_simple) and as a key. Invariants: at most max changes, each with
 * a known letter and sign and a parameter inside the input; an error
 * names the letter it is about; formatting the parsed flags stays within
 * MODES_TEXT_MAX.
 */
#include "server/modes.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modes_change ch[MODES_MAX];
	char *text = malloc(size + 1), out[MODES_TEXT_MAX], bad = 0;
	size_t n = 99, max = size ? data[0] % (MODES_MAX + 1) : MODES_MAX;
	unsigned flags = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	enum modes_result r = modes_parse(text, size, ch, max, &n, &bad);
	assert(n <= max);
	if (r == MODES_OK) {
		for (size_t i = 0; i < n; i++) {
			assert(ch[i].sign == '+' || ch[i].sign == '-');
			assert(strchr(MODES_LETTERS, ch[i].letter));
			assert(!ch[i].arg ||
			       (ch[i].arg >= text &&
				ch[i].arg + ch[i].arg_len <= text + size &&
				ch[i].arg_len > 0));
			if (ch[i].letter == 'k' && ch[i].sign == '+')
				assert(
				    modes_key_valid(ch[i].arg, ch[i].arg_len));
			if (ch[i].arg)
				flags |= modes_flag(ch[i].letter);
		}
	} else {
		assert(r == MODES_UNKNOWN || r == MODES_NEED_ARG ||
		       r == MODES_BAD_ARG);
		assert(r != MODES_UNKNOWN || !strchr(MODES_LETTERS, bad) ||
		       bad == '\0');
	}
	if (strlen(text) == size && modes_simple(text, &flags) == 0)
		assert(!(flags & ~(unsigned)(MODES_INVITE | MODES_MODERATED |
					     MODES_NO_OUTSIDE | MODES_SECRET |
					     MODES_TOPIC)));
	size_t len = modes_format(flags | MODES_KEY | MODES_LIMIT,
				  modes_key_valid(text, size) ? text : "k",
				  size, 1, out);
	assert(len < MODES_TEXT_MAX && len == strlen(out));
	free(text);
	return 0;
}
