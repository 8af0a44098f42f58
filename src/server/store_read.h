/*
 * store_read: the store's reader of the timeline and the rings, and the
 * one place its positions move. Store process only. It reads ahead of its
 * last commit while a batch is open, falls back to the commit when one
 * fails, and jumps to the heads when a ring lapped it; what is before the
 * committed position is never read again, so that position is what it
 * publishes in its slot of the reader table (flow.h): producers wait for
 * the store's commits, unless the supervisor marks it out (stalled), and
 * then it rejoins at the head and counts what it skipped.
 */
#ifndef PARLEY_STORE_READ_H
#define PARLEY_STORE_READ_H

#include "server/flow.h"
#include "server/outbox.h"

#include <stdint.h>

/* Takes one record; returns the messages it archived (0 or more), or
 * -1 when archiving failed. */
typedef int store_read_cb(void *arg, const struct outbox_view *v);

struct store_reader {
	struct outbox_shm *shm;
	struct flow_reader fr; /* its slot: the committed position */
	unsigned self;	      /* its own producer: entries of its own answers */
	store_read_cb *would; /* 1 if a record would be archived */
	void *would_arg;
	/* The last lap (STORE_READ_LAPPED): the messages skipped that
	 * were still in the rings, and whether that is all of them (0:
	 * a ring or the timeline had moved on too: at least lost). */
	uint64_t lost;
	int lost_exact;
	uint64_t tl_pos, *cursors;   /* read up to here */
	uint64_t ctl_pos, *ccursors; /* committed up to here */
	void *recbuf;
	int more; /* the last read stopped early: more to read */
};

/* Allocates rd's cursors for shm's producers; self is the store's own
 * producer, slot its reader slot (opened by the supervisor), wake_fd the
 * supervisor's flow eventfd. would (with arg) tells which records count
 * as lost when it is lapped. Fatal when out of memory (at start-up
 * only). */
void store_reader_init(struct store_reader *rd, struct outbox_shm *shm,
		       unsigned self, unsigned slot, int wake_fd,
		       store_read_cb *would, void *arg);

/* Sets both positions to tl_pos and cursors (nprod of them; may be
 * rd->cursors itself): where this run's last commit ended or, with none,
 * where the run began. own_head is the head of its own outbox, which its
 * own entries continue from. */
void store_reader_start(struct store_reader *rd, uint64_t tl_pos,
			const uint64_t *cursors, uint64_t own_head);

enum store_read_result {
	STORE_READ_OK,	   /* read up to until, or max (rd->more set) */
	STORE_READ_FAILED, /* cb failed: the read position is where it was
			      in the middle of its batch; rewind */
	STORE_READ_LAPPED, /* it was marked out (stalled), or a ring moved
			      on before it was read: it rejoined at the
			      timeline's head (rd->lost says what was
			      skipped; it is never archived) */
};

/* Reads the timeline from the read position up to entry until
 * (exclusive), giving cb every record of the other producers, and stops
 * after max messages. Never blocks. */
enum store_read_result store_reader_read(struct store_reader *rd,
					 uint64_t until, unsigned max,
					 store_read_cb *cb, void *arg);

/* The batch up to the read position is committed: publishes it in the
 * reader slot (a slot marked out is found by the next read). */
void store_reader_committed(struct store_reader *rd);

/* A commit failed: reading starts over from the last one (the rings
 * still hold it, unless they lap the store meanwhile). */
void store_reader_rewind(struct store_reader *rd);

/* Leaves the reader slot (nobody waits for it) and frees rd. */
void store_reader_free(struct store_reader *rd);

#endif
