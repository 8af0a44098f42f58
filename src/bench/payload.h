/*
 * payload: the text parley-bench sends as a chat message, and its parser.
 * "pb SENDER SEQ T_NS PAD SUM" (decimal sender and seq, T_NS as 16 hex
 * digits): printable ASCII, no control chars; SUM is a 32-bit checksum in
 * 8 hex digits over everything before it.
 */
#ifndef PARLEY_BENCH_PAYLOAD_H
#define PARLEY_BENCH_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define PAYLOAD_MIN_LEN 48  /* room for the fields at their widest */
#define PAYLOAD_MAX_LEN 400 /* fits a 512-byte IRC line with its prefix */

enum payload_result {
	PAYLOAD_OK,	     /* fields parsed and checksum matched */
	PAYLOAD_NOT_OURS,    /* does not start with the "pb " tag */
	PAYLOAD_MALFORMED,   /* tag present but fields or padding are bad */
	PAYLOAD_BAD_CHECKSUM /* well-formed but the checksum does not match */
};

struct payload {
	uint32_t sender;
	uint32_t seq;
	uint64_t t_ns;
};

/* Writes the payload for p into out (no line terminator), padded to
 * size bytes when size is larger than the fields need. out must hold
 * PAYLOAD_MAX_LEN bytes. Returns the length written. */
size_t payload_format(char *out, const struct payload *p, size_t size);

/* Parses len bytes of text (no terminator) into p. Does not check that
 * sender and seq were ever sent: the caller knows that. */
enum payload_result payload_parse(const char *text, size_t len,
				  struct payload *p);

#endif
