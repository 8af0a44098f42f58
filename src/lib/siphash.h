/*
 * siphash: SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), a keyed 64-bit hash. Pure; no state between
 * calls. The server uses it for cloaks: a client's address hashed with a
 * key drawn at start, so that nobody can recompute or invert them.
 */
#ifndef PARLEY_SIPHASH_H
#define PARLEY_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_BYTES 16

/* SipHash-2-4 of in[0..len) under the 16-byte key: the 64-bit value the
 * paper's test vectors give (its bytes, little-endian, are its output). */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_BYTES], const void *in,
		   size_t len);

#endif
