/*
 * track: receiver-side delivery accounting for parley-bench. For every
 * (receiver, sender) pair it knows which sequence numbers arrived, so each
 * arrival is classified as new, late (after a higher one: reordered) or a
 * duplicate. In-order arrival, the common case, costs one array access.
 */
#ifndef PARLEY_BENCH_TRACK_H
#define PARLEY_BENCH_TRACK_H

#include <stdint.h>

#define TRACK_GAP_BITS	4096   /* out-of-order window per pair */
#define TRACK_GAP_PAIRS 131072 /* pairs that may hold a window (64 MiB) */

enum track_result {
	TRACK_NEW,  /* first arrival, in order */
	TRACK_LATE, /* first arrival, but after a higher sequence number */
	TRACK_DUP   /* arrived before */
};

struct track_gap;

struct track {
	uint32_t nreceivers;
	uint32_t nsenders;
	uint32_t *next;		 /* [r * nsenders + s]: all seq below arrived */
	struct track_gap **gaps; /* same index; NULL until a gap is seen */
	uint32_t ngaps;
	uint64_t unique; /* TRACK_NEW + TRACK_LATE */
	uint64_t dups;
	uint64_t reorders;
	uint64_t untracked; /* arrivals past the window: may misclassify */
};

/* Allocates the pair table. Returns 0 or -ENOMEM. */
int track_init(struct track *t, uint32_t nreceivers, uint32_t nsenders)
    __attribute__((warn_unused_result));

/* Records that receiver r got message seq of sender s; updates counters. */
enum track_result track_record(struct track *t, uint32_t r, uint32_t s,
			       uint32_t seq);

/* Frees everything track_init() allocated. */
void track_free(struct track *t);

#endif
