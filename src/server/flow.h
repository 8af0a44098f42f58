/*
 * flow: flow control by the slowest live reader (DESIGN.md section 3).
 * Every timeline reader publishes its position in its slot of the reader
 * table; the supervisor turns positions into each producer's free_from
 * (how far every live reader has read its ring) and owns liveness: a
 * reader that has not advanced for the stall timeout while behind is
 * marked out, is no longer waited for, and must treat itself as lapped.
 * Used by sessions (reader side) and the supervisor (everything else).
 *
 * Who writes what, all in shared memory (outbox.h):
 *   reader slot pos   the reader (compare-and-swap, so it never overwrites
 *                     an out mark), and the supervisor (opens a slot at
 *                     spawn, marks it out by compare-and-swap, closes it)
 *   prod free_from    the supervisor (release store, monotonic)
 *   tl flow_want      the supervisor (sequentially consistent store)
 * The reader stores its position, then loads flow_want; the supervisor
 * stores flow_want, then loads the positions (both sequentially
 * consistent): either the supervisor sees the new position or the reader
 * sees the want and wakes it, so no wake-up is lost.
 */
#ifndef PARLEY_FLOW_H
#define PARLEY_FLOW_H

#include "server/outbox.h"

#include <stddef.h>
#include <stdint.h>

/* Whether a producer whose ring (ring_size bytes) is read up to free_from
 * may move its head from head by bytes more: the readers' lap check keeps
 * OUTBOX_REC_MAX bytes of margin below what they have read. Pure. */
static inline int
flow_room(uint64_t free_from, size_t ring_size, uint64_t head, size_t bytes)
{
	return head + bytes + OUTBOX_REC_MAX <= free_from + ring_size;
}

/* ---- a reader (session; later the store) ---- */

struct flow_reader {
	struct outbox_reader_sh *sh;
	const struct outbox_shm *shm;
	uint64_t published; /* the position last stored */
	int wake_fd;	    /* the supervisor's flow eventfd, or -1 */
};

/* Attaches to slot, which the supervisor opened at pos before starting
 * the reader. wake_fd: written when the reader crosses flow_want. */
void flow_reader_init(struct flow_reader *r, const struct outbox_shm *shm,
		      unsigned slot, int wake_fd);

/* Whether the supervisor has marked this reader out (stalled or gone):
 * it must then treat itself as lapped. */
int flow_reader_is_out(const struct flow_reader *r);

/* Publishes pos (every entry below it has been read). Returns 0, or
 * -ESTALE if the reader was marked out (pos is not stored). Wakes the
 * supervisor if pos crossed flow_want. Never blocks. */
int flow_reader_publish(struct flow_reader *r, uint64_t pos)
    __attribute__((warn_unused_result));

/* After being lapped or marked out: publishes the timeline head and
 * returns it; the caller must take the producer heads only afterwards
 * (then no producer can have freed a record past them). */
uint64_t flow_reader_rejoin(struct flow_reader *r);

/* Marks the slot out before the reader exits: nobody waits for it. */
void flow_reader_leave(struct flow_reader *r);

/* ---- the supervisor's side of the reader table ---- */

/* Opens slot at pos (a new reader starts there). */
void flow_slot_open(struct outbox_shm *shm, unsigned slot, uint64_t pos);

/* Closes slot: its reader is gone. */
void flow_slot_close(struct outbox_shm *shm, unsigned slot);

/* The slot's word: a position, or with OUTBOX_READER_OUT set. */
uint64_t flow_slot_load(const struct outbox_shm *shm, unsigned slot);

/* Marks the reader of slot out if its word is still seen (it has not
 * advanced meanwhile). Returns 1 if it did. */
int flow_slot_stall(struct outbox_shm *shm, unsigned slot, uint64_t seen);

/* The least position of the open slots (open[i] non-zero) that are not
 * out, and at most the timeline head, which is loaded first. */
uint64_t flow_min(const struct outbox_shm *shm, const unsigned char *open);

/* Stores flow_want (0: none); sequentially consistent. */
void flow_want_set(struct outbox_shm *shm, uint64_t want);

/* Producer's free_from: its store (monotonic) and its load. */
void flow_free_from_set(struct outbox_shm *shm, unsigned producer,
			uint64_t free_from);
uint64_t flow_free_from(const struct outbox_shm *shm, unsigned producer);

/* ---- where a producer's marks are in the timeline (supervisor) ---- */

#define FLOW_FIFO_MAX 80

struct flow_mark {
	uint64_t tl;   /* timeline entry */
	uint64_t head; /* the producer's head it marked */
};

/* The marks of one producer that a live reader may not have read yet,
 * oldest first. Marks closer than a grain (a 32nd of the ring) to the one
 * before are merged into the newest: a merged mark frees its records a
 * little later, never earlier, and the FIFO stays small. Process-local;
 * zeroed is empty. */
struct flow_fifo {
	struct flow_mark m[FLOW_FIFO_MAX];
	unsigned first, n;
	uint64_t free_from; /* every reader past the last mark popped */
};

/* Appends the mark of head at timeline entry tl; grain: ring size / 32. */
void flow_fifo_push(struct flow_fifo *f, uint64_t tl, uint64_t head,
		    uint64_t grain);

/* Drops the marks every reader has passed (entries below tl_min) and
 * returns free_from. */
uint64_t flow_fifo_free(struct flow_fifo *f, uint64_t tl_min);

/* The least reader position that makes free_from reach target: one past
 * the entry of the oldest mark at or past target; 0 if no mark in the
 * FIFO reaches it yet (its records are not marked). */
uint64_t flow_fifo_need(const struct flow_fifo *f, uint64_t target);

#endif
