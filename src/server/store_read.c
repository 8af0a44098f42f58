/*
 * store_read: the store's timeline reader. Store process only. The read
 * position (tl_pos, cursors) only moves forward here, back to the
 * committed one in store_reader_rewind, or to the heads when a ring
 * lapped it; the committed position only in store_reader_committed.
 */
#include "server/store_read.h"

#include "lib/log.h"

#include <stdlib.h>
#include <string.h>

void
store_reader_init(struct store_reader *rd, struct outbox_shm *shm,
		  unsigned self, unsigned slot, int wake_fd,
		  store_read_cb *would, void *arg)
{
	size_t bytes = shm->nprod * sizeof(*rd->cursors);

	memset(rd, 0, sizeof(*rd));
	rd->shm = shm;
	rd->self = self;
	rd->would = would;
	rd->would_arg = arg;
	flow_reader_init(&rd->fr, shm, slot, wake_fd);
	rd->cursors = calloc(1, bytes);
	rd->ccursors = calloc(1, bytes);
	rd->recbuf =
	    aligned_alloc(OUTBOX_REC_ALIGN, (OUTBOX_REC_MAX + 7) & ~(size_t)7);
	if (!rd->cursors || !rd->ccursors || !rd->recbuf)
		fatal("store_reader_init");
}

void
store_reader_free(struct store_reader *rd)
{
	flow_reader_leave(&rd->fr);
	free(rd->cursors);
	free(rd->ccursors);
	free(rd->recbuf);
	memset(rd, 0, sizeof(*rd));
}

void
store_reader_start(struct store_reader *rd, uint64_t tl_pos,
		   const uint64_t *cursors, uint64_t own_head)
{
	size_t bytes = rd->shm->nprod * sizeof(*rd->cursors);

	rd->tl_pos = tl_pos;
	memmove(rd->cursors, cursors, bytes);
	if (rd->cursors[rd->self] > own_head)
		rd->cursors[rd->self] = own_head;
	rd->more = 0;
	store_reader_committed(rd);
}

void
store_reader_committed(struct store_reader *rd)
{
	rd->ctl_pos = rd->tl_pos;
	memcpy(rd->ccursors, rd->cursors,
	       rd->shm->nprod * sizeof(*rd->ccursors));
	/* Only forward: a store resuming from an older commit than the
	 * head its slot was opened at is not waited for back there. Marked
	 * out (-ESTALE): the next read finds it. */
	if (rd->ctl_pos > rd->fr.published)
		(void)!flow_reader_publish(&rd->fr, rd->ctl_pos);
}

void
store_reader_rewind(struct store_reader *rd)
{
	rd->tl_pos = rd->ctl_pos;
	memcpy(rd->cursors, rd->ccursors,
	       rd->shm->nprod * sizeof(*rd->cursors));
	rd->more = 0;
}

/* Counts what entry e published of its producer that would have been
 * archived; 0, or -1 when the ring had moved on. */
static int
store_reader_count(struct store_reader *rd, const struct timeline_entry *e)
{
	struct outbox_view v;
	int r;

	while ((r = outbox_read(rd->shm, e->producer, &rd->cursors[e->producer],
				e->head, rd->recbuf, &v)) == 1)
		if (rd->would(rd->would_arg, &v) > 0)
			rd->lost++;
	if (r < 0)
		rd->cursors[e->producer] = e->head;
	return r < 0 ? -1 : 0;
}

/* Marked out or lapped: it rejoins at the head (flow_reader_rejoin), then
 * walks what it skipped to count the messages it will never archive,
 * as far as the rings still hold them. */
static enum store_read_result
store_reader_skip(struct store_reader *rd)
{
	uint64_t head = flow_reader_rejoin(&rd->fr);
	struct timeline_entry e;

	rd->lost = 0;
	rd->lost_exact = 1;
	for (; rd->tl_pos < head; rd->tl_pos++) {
		if (outbox_timeline_read(rd->shm, rd->tl_pos, &e) != 1 ||
		    e.producer >= rd->shm->nprod) {
			rd->lost_exact = 0;
			break;
		}
		if (e.producer == rd->self)
			rd->cursors[e.producer] = e.head;
		else if (store_reader_count(rd, &e) < 0)
			rd->lost_exact = 0;
	}
	if (rd->tl_pos < head) {
		/* The timeline moved on too: the heads, loaded after the
		 * rejoin, so no producer freed a record past them. */
		rd->tl_pos = outbox_timeline_head(rd->shm);
		for (unsigned p = 0; p < rd->shm->nprod; p++)
			rd->cursors[p] = outbox_producer_head(rd->shm, p);
	}
	rd->more = 0;
	return STORE_READ_LAPPED;
}

/* Reads what entry e published of its producer. Returns 1 when max is
 * reached (the entry is not done), 0 when it is done, -1 when cb
 * failed, -2 when the ring lapped the reader. */
static int
store_reader_entry(struct store_reader *rd, const struct timeline_entry *e,
		   unsigned *rows, unsigned max, store_read_cb *cb, void *arg)
{
	struct outbox_view v;
	int r;

	while ((r = outbox_read(rd->shm, e->producer, &rd->cursors[e->producer],
				e->head, rd->recbuf, &v)) == 1) {
		int n = cb(arg, &v);
		if (n < 0)
			return -1;
		*rows += (unsigned)n;
		if (*rows >= max)
			return 1;
	}
	return r < 0 ? -2 : 0;
}

enum store_read_result
store_reader_read(struct store_reader *rd, uint64_t until, unsigned max,
		  store_read_cb *cb, void *arg)
{
	struct timeline_entry e;
	unsigned rows = 0;
	int r = 0;

	rd->more = 0;
	/* Marked out: producers may have freed what it has not read. */
	if (flow_reader_is_out(&rd->fr))
		return store_reader_skip(rd);
	while (rd->tl_pos < until &&
	       (r = outbox_timeline_read(rd->shm, rd->tl_pos, &e)) == 1) {
		if (e.producer >= rd->shm->nprod)
			fatalx("timeline names producer %u", e.producer);
		if (e.producer == rd->self) {
			rd->cursors[e.producer] = e.head; /* its own answers */
		} else {
			int done =
			    store_reader_entry(rd, &e, &rows, max, cb, arg);
			if (done == -1)
				return STORE_READ_FAILED;
			if (done == -2)
				return store_reader_skip(rd);
			if (done == 1) {
				rd->more = 1;
				return STORE_READ_OK;
			}
		}
		rd->tl_pos++;
	}
	if (rd->tl_pos < until && r < 0)
		return store_reader_skip(rd);
	return STORE_READ_OK;
}
