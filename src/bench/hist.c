/*
 * hist: log-linear latency histogram. Values below 2 * HIST_SUB ns are
 * exact; above, each power of two is split into HIST_SUB equal buckets.
 */
#include "bench/hist.h"

#include <string.h>

static unsigned int
hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < 2 * HIST_SUB)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	if (shift > HIST_MAX_SHIFT)
		return HIST_BUCKETS - 1;
	return 2 * HIST_SUB + (shift - 1) * HIST_SUB +
	       (unsigned int)((v >> shift) - HIST_SUB);
}

/* Midpoint of bucket i, the inverse of hist_index(). */
static uint64_t
hist_value(unsigned int i)
{
	unsigned int shift;
	uint64_t top;

	if (i < 2 * HIST_SUB)
		return i;
	shift = (i - 2 * HIST_SUB) / HIST_SUB + 1;
	top = HIST_SUB + (i - 2 * HIST_SUB) % HIST_SUB;
	return (top << shift) + (1ull << (shift - 1));
}

void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
hist_record(struct hist *h, int64_t value_ns)
{
	uint64_t v = value_ns < 0 ? 0 : (uint64_t)value_ns;

	h->buckets[hist_index(v)]++;
	h->count++;
	if (v > h->max_ns)
		h->max_ns = v;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, v;
	unsigned int i;

	if (h->count == 0)
		return 0;
	if (q >= 1.0)
		return h->max_ns;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen > rank)
			break;
	}
	v = hist_value(i < HIST_BUCKETS ? i : HIST_BUCKETS - 1);
	return v > h->max_ns ? h->max_ns : v;
}
