/*
 * fuzz_mask: any bytes as a mask to make whole (mask_normalize) and, split
 * at the first NUL, as a pattern and a client to match (mask_glob,
 * mask_match). Invariants: a whole mask is within MASK_MAX, has no space,
 * comma or control byte, is an account mask or holds exactly one '!'
 * before exactly one '@'; normalising it again gives it back; a whole
 * mask made from a client's own nick!user@host matches that client.
 */
#include "lib/mask.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_mask_whole(const char *in, size_t len)
{
	char out[MASK_MAX + 1], again[MASK_MAX + 1];
	int n = mask_normalize(in, len, out);

	if (n < 0)
		return;
	assert((size_t)n == strlen(out) && n <= MASK_MAX);
	for (int i = 0; i < n; i++)
		assert((unsigned char)out[i] > ' ' && out[i] != ',' &&
		       out[i] != 0x7f);
	if (out[0] != '$') {
		char *bang = strchr(out, '!'), *at = strchr(out, '@');
		assert(bang && at && bang < at && !strchr(bang + 1, '!') &&
		       !strchr(at + 1, '@'));
	}
	assert(mask_normalize(out, (size_t)n, again) == n &&
	       strcmp(out, again) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_mask_whole(s, size);
	/* pattern NUL subject: bounded work whatever the pattern. */
	const char *subject = memchr(s, '\0', size) ? s + strlen(s) + 1 : "";
	(void)mask_glob(s, subject);
	struct mask_who who = {subject, "u", "h.parley", subject};
	(void)mask_match(s, &who);
	/* A client matches the mask of its own name. */
	if (strlen(subject) < 32 && !strpbrk(subject, "!@*?, $") &&
	    subject[0]) {
		char self[MASK_MAX + 1];
		char in[64];
		size_t k = strlen(subject);
		memcpy(in, subject, k);
		memcpy(in + k, "!u@h.parley", 12);
		int n = mask_normalize(in, strlen(in), self);
		int ok = 1;
		for (size_t i = 0; i < k; i++)
			ok &= (unsigned char)subject[i] > ' ' &&
			      subject[i] != 0x7f;
		if (ok) {
			assert(n > 0);
			assert(mask_match(self, &who));
		}
	}
	free(s);
	return 0;
}
