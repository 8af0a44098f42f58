/*
 * siphash: SipHash-2-4 written from the paper's description: two
 * compression rounds per 8-byte word, four finalisation rounds. Pure and
 * allocation-free; byte order is fixed (little-endian words) whatever the
 * machine's.
 */
#include "lib/siphash.h"

static uint64_t
siphash_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t
siphash_load(const uint8_t *p, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static void
siphash_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = siphash_rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = siphash_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = siphash_rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = siphash_rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = siphash_rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = siphash_rotl(v[2], 32);
}

static void
siphash_absorb(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	siphash_round(v);
	siphash_round(v);
	v[0] ^= m;
}

uint64_t
siphash24(const uint8_t key[SIPHASH_KEY_BYTES], const void *in, size_t len)
{
	const uint8_t *p = in;
	uint64_t k0 = siphash_load(key, 8), k1 = siphash_load(key + 8, 8);
	/* "somepseudorandomlygeneratedbytes", as the paper sets them. */
	uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
			 k0 ^ 0x6c7967656e657261ULL,
			 k1 ^ 0x7465646279746573ULL};
	size_t whole = len - len % 8;

	for (size_t i = 0; i < whole; i += 8)
		siphash_absorb(v, siphash_load(p + i, 8));
	/* The last word: the remaining bytes, and the length's low byte on
	 * top. */
	siphash_absorb(v, siphash_load(p + whole, len - whole) |
			      ((uint64_t)(len & 0xff) << 56));
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		siphash_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
