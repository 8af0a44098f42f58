/*
 * track: per-pair sequence tracking. A pair is a counter "next" while
 * arrivals are in order; the first gap gives it a bitmap window of
 * TRACK_GAP_BITS sequence numbers starting at next (a ring: bit seq % size).
 */
#include "bench/track.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct track_gap {
	uint32_t hi; /* one past the highest seq that arrived */
	uint64_t bits[TRACK_GAP_BITS / 64];
};

int
track_init(struct track *t, uint32_t nreceivers, uint32_t nsenders)
{
	size_t n = (size_t)nreceivers * nsenders;

	memset(t, 0, sizeof(*t));
	t->nreceivers = nreceivers;
	t->nsenders = nsenders;
	t->next = calloc(n ? n : 1, sizeof(*t->next));
	t->gaps = calloc(n ? n : 1, sizeof(*t->gaps));
	if (!t->next || !t->gaps) {
		track_free(t);
		return -ENOMEM;
	}
	return 0;
}

static int
track_gap_test(const struct track_gap *g, uint32_t seq)
{
	uint32_t b = seq % TRACK_GAP_BITS;

	return (g->bits[b / 64] >> (b % 64)) & 1;
}

static void
track_gap_flip(struct track_gap *g, uint32_t seq)
{
	uint32_t b = seq % TRACK_GAP_BITS;

	g->bits[b / 64] ^= 1ull << (b % 64);
}

/* Slides the window so that seq fits; what is passed over stays missing. */
static uint32_t
track_gap_slide(struct track *t, struct track_gap *g, uint32_t next,
		uint32_t seq)
{
	t->untracked++;
	if (seq - next >= 2 * TRACK_GAP_BITS) {
		memset(g->bits, 0, sizeof(g->bits));
		return seq - TRACK_GAP_BITS + 1;
	}
	while (seq - next >= TRACK_GAP_BITS) {
		if (track_gap_test(g, next))
			track_gap_flip(g, next);
		next++;
	}
	return next;
}

enum track_result
track_record(struct track *t, uint32_t r, uint32_t s, uint32_t seq)
{
	size_t i = (size_t)r * t->nsenders + s;
	uint32_t next = t->next[i];
	struct track_gap *g = t->gaps[i];
	int late;

	if (seq < next) {
		t->dups++;
		return TRACK_DUP;
	}
	if (!g) {
		if (seq == next || t->ngaps >= TRACK_GAP_PAIRS) {
			/* Without a window a skipped seq counts as lost and,
			 * should it come later, as a duplicate. */
			t->next[i] = seq + 1;
			t->unique++;
			return TRACK_NEW;
		}
		g = calloc(1, sizeof(*g));
		if (!g) {
			t->next[i] = seq + 1;
			t->unique++;
			return TRACK_NEW;
		}
		g->hi = next;
		t->gaps[i] = g;
		t->ngaps++;
	}
	if (seq - next >= TRACK_GAP_BITS)
		next = track_gap_slide(t, g, next, seq);
	if (track_gap_test(g, seq)) {
		t->dups++;
		return TRACK_DUP;
	}
	track_gap_flip(g, seq);
	t->unique++;
	late = seq < g->hi;
	if (seq >= g->hi)
		g->hi = seq + 1;
	while (track_gap_test(g, next)) {
		track_gap_flip(g, next);
		next++;
	}
	t->next[i] = next;
	if (late) {
		t->reorders++;
		return TRACK_LATE;
	}
	return TRACK_NEW;
}

void
track_free(struct track *t)
{
	size_t i, n = (size_t)t->nreceivers * t->nsenders;

	if (t->gaps)
		for (i = 0; i < n; i++)
			free(t->gaps[i]);
	free(t->gaps);
	free(t->next);
	memset(t, 0, sizeof(*t));
}
