/*
 * fuzzlib: the protocol fuzz targets' shared copies and checks
 * (fuzzlib.h). Runs in the fuzzer process; asserts stay on.
 */
#include "fuzzlib.h"

#include "lib/line.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void
fuzz_touch(const void *p, size_t n)
{
	volatile unsigned sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += ((const unsigned char *)p)[i];
	(void)sum;
}

void
fuzz_check_utf8(const char *line, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t k =
		    line_utf8_len((const unsigned char *)line + i, len - i);
		assert(k >= 1);
		i += k;
	}
}

char *
fuzz_sanitized_copy(size_t (*sanitize)(const char *, size_t, char *),
		    const uint8_t *raw, size_t raw_len, size_t *len)
{
	char *clean = malloc(LINE_SANITIZED_MAX(raw_len) + 1);
	char *line;

	assert(clean);
	*len = sanitize((const char *)raw, raw_len, clean);
	assert(*len <= LINE_SANITIZED_MAX(raw_len));
	line = malloc(*len ? *len : 1);
	assert(line);
	memcpy(line, clean, *len);
	free(clean);
	return line;
}

/* Writers only store sanitised text: no control bytes. */
static void
fuzz_clean_str(struct outbox_str s)
{
	char *p = (char *)(uintptr_t)s.p;

	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			p[i] = '?';
}

void *
fuzz_record_copy(const uint8_t *data, size_t size, struct outbox_view *v)
{
	void *copy = aligned_alloc(8, (size + 7) & ~(size_t)7);

	if (!copy)
		return NULL;
	memcpy(copy, data, size);
	if (outbox_decode(copy, size, v) < 0) {
		free(copy);
		return NULL;
	}
	v->producer = 1;
	v->pos = 0;
	fuzz_clean_str(v->nick);
	fuzz_clean_str(v->user);
	fuzz_clean_str(v->host);
	fuzz_clean_str(v->acct);
	fuzz_clean_str(v->room);
	fuzz_clean_str(v->arg);
	fuzz_clean_str(v->text);
	return copy;
}
