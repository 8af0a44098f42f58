/*
 * flow: the reader table and the marks FIFO behind flow control. Readers
 * publish with compare-and-swap so that the supervisor's "out" mark is
 * never overwritten by a reader that resumes after being declared
 * stalled; the orderings are documented in flow.h.
 */
#include "server/flow.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

void
flow_reader_init(struct flow_reader *r, const struct outbox_shm *shm,
		 unsigned slot, int wake_fd)
{
	r->shm = shm;
	r->sh = outbox_reader(shm, slot);
	r->wake_fd = wake_fd;
	r->published = __atomic_load_n(&r->sh->pos, __ATOMIC_ACQUIRE);
}

int
flow_reader_is_out(const struct flow_reader *r)
{
	return (__atomic_load_n(&r->sh->pos, __ATOMIC_ACQUIRE) &
		OUTBOX_READER_OUT) != 0;
}

/* The supervisor waits for a reader to reach want: if this reader just
 * went from below it to past it, wake the supervisor to look. */
static void
flow_reader_wake(struct flow_reader *r, uint64_t from, uint64_t to)
{
	uint64_t want =
	    __atomic_load_n(&r->shm->tl->flow_want, __ATOMIC_SEQ_CST);
	uint64_t one = 1;

	if (want && from < want && want <= to && r->wake_fd >= 0)
		(void)!write(r->wake_fd, &one, sizeof(one));
}

int
flow_reader_publish(struct flow_reader *r, uint64_t pos)
{
	uint64_t expected = r->published;

	if (pos == expected)
		return flow_reader_is_out(r) ? -ESTALE : 0;
	/* Sequentially consistent: the store precedes the load of
	 * flow_want (the supervisor stores it, then loads positions). A
	 * failure means the supervisor marked us out: it may already have
	 * let producers overwrite what we have not read. */
	if (!__atomic_compare_exchange_n(&r->sh->pos, &expected, pos, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return -ESTALE;
	flow_reader_wake(r, r->published, pos);
	r->published = pos;
	return 0;
}

uint64_t
flow_reader_rejoin(struct flow_reader *r)
{
	uint64_t head = outbox_timeline_head(r->shm);

	/* Sequentially consistent, before the caller loads producer heads:
	 * any free_from computed after this counts us at head; any computed
	 * before is at most a producer head of that time. */
	__atomic_store_n(&r->sh->pos, head, __ATOMIC_SEQ_CST);
	flow_reader_wake(r, r->published, head);
	r->published = head;
	return head;
}

void
flow_reader_leave(struct flow_reader *r)
{
	__atomic_store_n(&r->sh->pos, r->published | OUTBOX_READER_OUT,
			 __ATOMIC_SEQ_CST);
}

void
flow_slot_open(struct outbox_shm *shm, unsigned slot, uint64_t pos)
{
	__atomic_store_n(&outbox_reader(shm, slot)->pos, pos, __ATOMIC_SEQ_CST);
}

void
flow_slot_close(struct outbox_shm *shm, unsigned slot)
{
	__atomic_fetch_or(&outbox_reader(shm, slot)->pos, OUTBOX_READER_OUT,
			  __ATOMIC_SEQ_CST);
}

uint64_t
flow_slot_load(const struct outbox_shm *shm, unsigned slot)
{
	return __atomic_load_n(&outbox_reader(shm, slot)->pos,
			       __ATOMIC_SEQ_CST);
}

int
flow_slot_stall(struct outbox_shm *shm, unsigned slot, uint64_t seen)
{
	/* Fails if the reader advanced since seen: it is not stalled. */
	return __atomic_compare_exchange_n(&outbox_reader(shm, slot)->pos,
					   &seen, seen | OUTBOX_READER_OUT, 0,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

uint64_t
flow_min(const struct outbox_shm *shm, const unsigned char *open)
{
	/* The head first: a reader that opens or rejoins after it was
	 * loaded starts at or past it. */
	uint64_t min = outbox_timeline_head(shm);

	for (unsigned i = 0; i < shm->nreaders; i++) {
		if (!open[i])
			continue;
		uint64_t v = flow_slot_load(shm, i);
		if (!(v & OUTBOX_READER_OUT) && v < min)
			min = v;
	}
	return min;
}

void
flow_want_set(struct outbox_shm *shm, uint64_t want)
{
	__atomic_store_n(&shm->tl->flow_want, want, __ATOMIC_SEQ_CST);
}

void
flow_free_from_set(struct outbox_shm *shm, unsigned producer,
		   uint64_t free_from)
{
	/* Release: the records below were read before the readers'
	 * positions that this value was computed from. */
	__atomic_store_n(&outbox_producer_sh(shm, producer)->free_from,
			 free_from, __ATOMIC_RELEASE);
}

uint64_t
flow_free_from(const struct outbox_shm *shm, unsigned producer)
{
	return __atomic_load_n(&outbox_producer_sh(shm, producer)->free_from,
			       __ATOMIC_ACQUIRE);
}

static struct flow_mark *
flow_fifo_at(struct flow_fifo *f, unsigned i)
{
	return &f->m[(f->first + i) % FLOW_FIFO_MAX];
}

void
flow_fifo_push(struct flow_fifo *f, uint64_t tl, uint64_t head, uint64_t grain)
{
	/* Merge into the newest mark while the one before it is within a
	 * grain (or the FIFO is full): the newest then stands for both. */
	if (f->n >= 2 && (head - flow_fifo_at(f, f->n - 2)->head < grain ||
			  f->n == FLOW_FIFO_MAX)) {
		*flow_fifo_at(f, f->n - 1) = (struct flow_mark){tl, head};
		return;
	}
	*flow_fifo_at(f, f->n) = (struct flow_mark){tl, head};
	f->n++;
}

uint64_t
flow_fifo_free(struct flow_fifo *f, uint64_t tl_min)
{
	while (f->n > 0 && f->m[f->first].tl < tl_min) {
		f->free_from = f->m[f->first].head;
		f->first = (f->first + 1) % FLOW_FIFO_MAX;
		f->n--;
	}
	return f->free_from;
}

uint64_t
flow_fifo_need(const struct flow_fifo *f, uint64_t target)
{
	if (f->free_from >= target)
		return 0;
	for (unsigned i = 0; i < f->n; i++) {
		const struct flow_mark *m =
		    &f->m[(f->first + i) % FLOW_FIFO_MAX];
		if (m->head >= target)
			return m->tl + 1;
	}
	return 0;
}
