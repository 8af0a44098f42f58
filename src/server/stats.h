/*
 * stats: counters of the session processes, for /metrics. Each session
 * slot has a page of shared memory that only its session writes (every
 * other page is read-only there); the supervisor only reads, and folds a
 * slot's counters into its own totals once the slot's process is gone.
 * Sessions count in process-local memory and publish once per loop
 * iteration, so no increment touches a shared cache line.
 */
#ifndef PARLEY_STATS_H
#define PARLEY_STATS_H

#include "server/proto.h"
#include "server/transport.h"

#include <stdint.h>

/* Monotonic counters of a session. Add yours before STATS_COUNTERS and a
 * row in metrics.c's table. */
enum stats_counter {
	STATS_MSGS_ROOM,     /* room messages its clients sent */
	STATS_MSGS_PRIVATE,  /* private messages its clients sent */
	STATS_DELIVERIES,    /* message lines queued for recipients */
	STATS_BYTES_IN,	     /* bytes read from clients */
	STATS_BYTES_OUT,     /* bytes written to clients */
	STATS_PAUSES_FLOOD,  /* input paused by the flood limit */
	STATS_PAUSES_OUTBOX, /* input paused: outbox full (flow control) */
	STATS_FLOW_WAIT_MS,  /* ms input waited for room in the outbox */
	STATS_LAPPED,	     /* times this reader was lapped */
	STATS_SENDQ_CUTOFFS, /* clients cut off for their send queue */
	STATS_COUNTERS
};

/* Disconnects are counted by enum channel_reason (below this bound). */
#define STATS_REASONS 16

/* One session's page. Written by that session only. */
struct stats_slot_sh {
	uint64_t counter[STATS_COUNTERS];
	uint64_t disconnects[STATS_REASONS];
	int64_t clients[PROTO_COUNT][TRANSPORT_COUNT]; /* gauges */
	uint64_t tl_pos; /* gauge: how far it has read the timeline */
};

/* What a session counts locally before publishing (same layout). */
struct stats_local {
	struct stats_slot_sh v;
	int dirty;
};

/* The supervisor's handle on every slot. */
struct stats {
	char *base;
	size_t slot_bytes; /* a page, or more */
	unsigned nslots;
	/* Counters of processes that are gone, so that sums never go
	 * back when a session exits. */
	uint64_t retired[STATS_COUNTERS];
	uint64_t retired_disconnects[STATS_REASONS];
};

/* Maps nslots slots (anonymous, shared, before any fork). 0 or -errno. */
int stats_create(struct stats *st, unsigned nslots)
    __attribute__((warn_unused_result));

void stats_destroy(struct stats *st);

/* The shared page of slot i. */
struct stats_slot_sh *stats_slot(const struct stats *st, unsigned i);

/* Session, after fork: every page read-only but slot own's. */
void stats_protect(const struct stats *st, unsigned own);

/* Session: copies what it counted to its page if anything changed (once
 * per loop iteration). */
void stats_publish(struct stats_slot_sh *sh, struct stats_local *l);

/* Supervisor: slot i's process is gone: adds its counters to the
 * retired totals and zeroes the slot for the next one. */
void stats_retire(struct stats *st, unsigned i);

/* Supervisor: the sum of counter c over the slots in use (in_use[i]
 * nonzero) and the retired. Never waits. */
uint64_t stats_sum(const struct stats *st, const unsigned char *in_use,
		   enum stats_counter c);

/* The same for disconnects of one reason. */
uint64_t stats_sum_disconnects(const struct stats *st,
			       const unsigned char *in_use, unsigned reason);

/* Reads one 64-bit field of a slot (relaxed: single writer). */
static inline uint64_t
stats_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

#endif
