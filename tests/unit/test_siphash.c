/*
 * Unit tests for src/lib/siphash: the test vector of the SipHash paper
 * (appendix A: key 00..0f, message 00..0e), more of its reference
 * vectors (messages 00..len-1 under the same key), and that every key and
 * input byte matters.
 */
#include "lib/siphash.h"

#include "../testlib.h"

#include <stdint.h>
#include <string.h>

static uint8_t t_key[SIPHASH_KEY_BYTES];
static uint8_t t_msg[64];

static void
t_setup(void)
{
	for (int i = 0; i < SIPHASH_KEY_BYTES; i++)
		t_key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		t_msg[i] = (uint8_t)i;
}

/* Message lengths and the hash of bytes 00..len-1 under key 00..0f. */
static const struct {
	size_t len;
	uint64_t hash;
} vector_rows[] = {
    {15, 0xa129ca6149be45e5ULL}, /* the paper's worked example */
    {0, 0x726fdb47dd0e0e31ULL},	 /* empty: the length word alone */
    {1, 0x74f839c593dc67fdULL},
    {8, 0x93f5f5799a932462ULL}, /* exactly one word, then the length */
    {63, 0x958a324ceb064572ULL},
};

static void
test_siphash_matches_the_papers_test_vectors(void)
{
	t_setup();
	for (size_t i = 0; i < sizeof(vector_rows) / sizeof(vector_rows[0]);
	     i++) {
		uint64_t h = siphash24(t_key, t_msg, vector_rows[i].len);
		CHECKF(h == vector_rows[i].hash,
		       "length %zu: %016llx, want %016llx", vector_rows[i].len,
		       (unsigned long long)h,
		       (unsigned long long)vector_rows[i].hash);
	}
}

static void
test_every_key_and_input_byte_changes_the_hash(void)
{
	uint64_t base;

	t_setup();
	base = siphash24(t_key, t_msg, 20);
	for (int i = 0; i < SIPHASH_KEY_BYTES; i++) {
		t_key[i] ^= 0x80;
		CHECKF(siphash24(t_key, t_msg, 20) != base, "key byte %d", i);
		t_key[i] ^= 0x80;
	}
	for (int i = 0; i < 20; i++) {
		t_msg[i] ^= 0x01;
		CHECKF(siphash24(t_key, t_msg, 20) != base, "input byte %d", i);
		t_msg[i] ^= 0x01;
	}
	/* A longer input with the same prefix is another input. */
	CHECK(siphash24(t_key, t_msg, 21) != base);
	CHECK(siphash24(t_key, "127.0.0.1", 9) != siphash24(t_key, "::1", 3));
}

int
main(void)
{
	RUN(test_siphash_matches_the_papers_test_vectors);
	RUN(test_every_key_and_input_byte_changes_the_hash);
	return tl_summary("unit_siphash");
}
