/*
 * hist: latency histogram for parley-bench, log-linear buckets over
 * nanoseconds (64 sub-buckets per power of two: under 1.6% error). Runs in
 * the bench process only; recording is O(1) and never allocates.
 */
#ifndef PARLEY_BENCH_HIST_H
#define PARLEY_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS  6
#define HIST_SUB       (1u << HIST_SUB_BITS)
#define HIST_MAX_SHIFT 40 /* values up to 2^46 ns (about 19 hours) */
#define HIST_BUCKETS   (2 * HIST_SUB + HIST_MAX_SHIFT * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t max_ns;
	uint64_t buckets[HIST_BUCKETS];
};

/* Clears every bucket. */
void hist_reset(struct hist *h);

/* Records one value in nanoseconds (negative values count as 0). */
void hist_record(struct hist *h, int64_t value_ns);

/* The value at quantile q (0 <= q <= 1), as the midpoint of its bucket and
 * never above the maximum recorded; 0 when the histogram is empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
