/*
 * sha1: the SHA-1 digest (FIPS 180-4), for the WebSocket handshake's
 * Sec-WebSocket-Accept (RFC 6455 section 4.2.2) and nothing else: SHA-1 is
 * no longer a safe hash for secrets. Pure, no allocation.
 */
#ifndef PARLEY_SHA1_H
#define PARLEY_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

struct sha1 {
	uint32_t h[5];
	uint64_t bytes;	   /* message length so far */
	uint8_t block[64]; /* the partial block */
	size_t used;
};

void sha1_init(struct sha1 *s);

/* Adds n bytes of the message. */
void sha1_update(struct sha1 *s, const void *data, size_t n);

/* Pads, writes the 20-byte digest to out; s must be initialised again
 * before reuse. */
void sha1_final(struct sha1 *s, uint8_t out[SHA1_DIGEST_LEN]);

#endif
