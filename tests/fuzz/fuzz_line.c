/*
 * fuzz_line: client input through telnet stripping and line framing in
 * chunks whose sizes come from the input, then sanitising. Invariants: the
 * chunked run frames exactly like a one-shot run, lines stay within the
 * buffer and max_len, and sanitised output is valid UTF-8 with no C0, DEL,
 * C1 or bidi controls and at most LINE_SANITIZED_MAX bytes.
 */
#include "lib/line.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_LINE_EVENTS_MAX 4096

struct fuzz_line_event {
	enum line_result res;
	size_t len;
	uint32_t hash;
};

struct fuzz_line_run {
	struct fuzz_line_event ev[FUZZ_LINE_EVENTS_MAX];
	size_t nev;
	int overflow;
};

static uint32_t
fuzz_line_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void
fuzz_line_check_sanitized(const char *line, size_t len)
{
	char *out = malloc(LINE_SANITIZED_MAX(len) + 1);
	size_t n, i = 0;

	assert(out);
	n = line_sanitize(line, len, out);
	assert(n <= LINE_SANITIZED_MAX(len));
	while (i < n) {
		const unsigned char *s = (const unsigned char *)out + i;
		size_t k = line_utf8_len(s, n - i);
		assert(k >= 1 && k <= 4 && i + k <= n);
		assert(s[0] >= 0x20 && s[0] != 0x7F);
		/* C1 controls and bidi overrides/isolates are removed. */
		assert(!(k == 2 && s[0] == 0xC2 && s[1] < 0xA0));
		assert(!(k == 3 && s[0] == 0xE2 && s[1] == 0x80 &&
			 s[2] >= 0xAA && s[2] <= 0xAE));
		assert(!(k == 3 && s[0] == 0xE2 && s[1] == 0x81 &&
			 s[2] >= 0xA6 && s[2] <= 0xA9));
		i += k;
	}
	/* Already clean text passes through unchanged. */
	char *again = malloc(LINE_SANITIZED_MAX(n) + 1);
	assert(again);
	assert(line_sanitize(out, n, again) == n);
	assert(memcmp(out, again, n) == 0);
	free(again);
	free(out);
}

static void
fuzz_line_record(struct fuzz_line_run *run, enum line_result res,
		 const char *line, size_t len)
{
	if (run->nev == FUZZ_LINE_EVENTS_MAX) {
		run->overflow = 1;
		return;
	}
	run->ev[run->nev++] = (struct fuzz_line_event){
	    .res = res,
	    .len = len,
	    .hash = res == LINE_OK ? fuzz_line_hash(line, len) : 0,
	};
}

/* Frames everything in buf[0..*len), dropping what line_next consumes. */
static void
fuzz_line_drain(struct line_reader *lr, char *buf, size_t *len,
		struct fuzz_line_run *run, int sanitize)
{
	for (;;) {
		size_t off = 0, n = 0, consumed = 0;
		enum line_result r =
		    line_next(lr, buf, *len, &off, &n, &consumed);
		assert(consumed <= *len);
		if (r == LINE_OK) {
			assert(off <= *len && n <= *len - off);
			assert(off + n < consumed);
			assert(n <= lr->max_len);
			assert(memchr(buf + off, '\n', n) == NULL);
			if (sanitize)
				fuzz_line_check_sanitized(buf + off, n);
			fuzz_line_record(run, r, buf + off, n);
		} else if (r == LINE_TOO_LONG) {
			fuzz_line_record(run, r, NULL, 0);
		} else {
			assert(r == LINE_NEED_MORE);
		}
		memmove(buf, buf + consumed, *len - consumed);
		*len -= consumed;
		if (r == LINE_NEED_MORE)
			return;
		if (consumed == 0) {
			/* No progress is only allowed while waiting. */
			assert(0 && "line_next made no progress");
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_line_run chunked, whole;
	struct line_reader lr;
	uint32_t seed;
	size_t max_len, cap, len = 0;
	char *buf, *all;

	if (size < 3)
		return 0;
	max_len = 1 + (data[0] | (size_t)(data[1] & 0x01) << 8);
	seed = data[2] | 1u;
	data += 3;
	size -= 3;

	/* Chunked: the way a session reads, with a buffer that only needs to
	 * hold one line plus its CR LF and one chunk. */
	memset(&lr, 0, sizeof(lr));
	lr.max_len = max_len;
	chunked.nev = 0;
	chunked.overflow = 0;
	cap = max_len + 2 + 64 + 1; /* + 1: telnet may give one more */
	buf = malloc(cap);
	assert(buf);
	for (size_t i = 0; i < size;) {
		seed = seed * 1103515245u + 12345u;
		size_t chunk = 1 + (seed >> 16) % 64;
		if (chunk > size - i)
			chunk = size - i;
		assert(len + chunk + 1 <= cap);
		memcpy(buf + len, data + i, chunk);
		size_t kept = line_strip_telnet(&lr, buf + len, chunk);
		assert(kept <= chunk + 1);
		len += kept;
		i += chunk;
		fuzz_line_drain(&lr, buf, &len, &chunked, 1);
	}
	free(buf);

	/* One shot: the same bytes in one buffer must frame the same way. */
	memset(&lr, 0, sizeof(lr));
	lr.max_len = max_len;
	whole.nev = 0;
	whole.overflow = 0;
	all = malloc(size + 1);
	assert(all);
	if (size)
		memcpy(all, data, size);
	len = line_strip_telnet(&lr, all, size);
	fuzz_line_drain(&lr, all, &len, &whole, 0);
	free(all);

	if (!chunked.overflow && !whole.overflow) {
		assert(chunked.nev == whole.nev);
		for (size_t i = 0; i < whole.nev; i++) {
			assert(chunked.ev[i].res == whole.ev[i].res);
			assert(chunked.ev[i].len == whole.ev[i].len);
			assert(chunked.ev[i].hash == whole.ev[i].hash);
		}
	}
	return 0;
}
