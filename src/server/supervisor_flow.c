/*
 * supervisor_flow: flow control's bookkeeping (flow.h, DESIGN.md section
 * 3). Knows where each producer's marks are in the timeline and reads the
 * reader table, so it answers producers that ask for room, paces its own
 * ring and the timeline by deferring requests, admissions and marks
 * (never blocking its loop), and declares stalled the readers that stop
 * while behind. Off the per-message path: a mark costs a FIFO push; the
 * rest runs only while a ring fills or a reader is behind.
 */
#include "lib/ptable.h"
#include "lib/log.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SV_FLOW_ROUNDS 8 /* re-evaluations per update, at most */

static int sv_flow_round(struct supervisor *sv);

static long long
sv_flow_period_ms(const struct supervisor *sv)
{
	long long p = sv->cfg->stall_timeout_ms / 8;

	return p < 10 ? 10 : p > 250 ? 250 : p;
}

static void
sv_flow_arm(struct supervisor *sv)
{
	if (!sv->flow_due_ms)
		sv->flow_due_ms = loop_now_ms() + sv_flow_period_ms(sv);
}

static void
sv_on_flow(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct supervisor *sv = arg;
	uint64_t n;

	(void)loop;
	(void)events;
	(void)!read(fd, &n, sizeof(n));
	sv_flow_update(sv);
}

void
sv_flow_setup(struct supervisor *sv)
{
	unsigned nprod = sv->shm.nprod, nreaders = sv->shm.nreaders;

	sv->flow_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* Written per mark: kept out of every fork (lib/ptable.h). */
	sv->reader_open = ptable_alloc(nreaders, 1);
	sv->readers = ptable_alloc(nreaders, sizeof(*sv->readers));
	sv->fifo = ptable_alloc(nprod, sizeof(*sv->fifo));
	sv->flow_target = ptable_alloc(nprod, sizeof(*sv->flow_target));
	sv->mark_owed = ptable_alloc(nprod, 1);
	if (sv->flow_fd < 0 || !sv->reader_open || !sv->readers || !sv->fifo ||
	    !sv->flow_target || !sv->mark_owed)
		fatal("flow control set-up");
	sv->deferred_tail = &sv->deferred;
	if (loop_add(sv->loop, sv->flow_fd, EPOLLIN | EPOLLET, sv_on_flow, sv) <
	    0)
		fatal("loop_add flow");
}

void
sv_flow_teardown(struct supervisor *sv)
{
	while (sv->deferred) {
		struct sv_deferred *d = sv->deferred;
		sv->deferred = d->next;
		explicit_bzero(d->payload, (size_t)d->len);
		free(d);
	}
	close(sv->flow_fd);
	unsigned nprod = sv->shm.nprod, nreaders = sv->shm.nreaders;

	ptable_free(sv->reader_open, nreaders, 1);
	ptable_free(sv->readers, nreaders, sizeof(*sv->readers));
	ptable_free(sv->fifo, nprod, sizeof(*sv->fifo));
	ptable_free(sv->flow_target, nprod, sizeof(*sv->flow_target));
	ptable_free(sv->mark_owed, nprod, 1);
}

void
sv_flow_open(struct supervisor *sv, unsigned slot, uint64_t pos)
{
	flow_slot_open(&sv->shm, slot, pos);
	sv->reader_open[slot] = 1;
	sv->readers[slot] = (struct sv_reader){.last = pos};
}

void
sv_flow_close(struct supervisor *sv, unsigned slot)
{
	unsigned producer = slot + 1; /* session slot i writes ring i + 1 */

	flow_slot_close(&sv->shm, slot);
	if (!sv->reader_open[slot])
		return;
	sv->reader_open[slot] = 0;
	if (producer < sv->shm.nprod && sv->flow_target[producer]) {
		sv->flow_target[producer] = 0;
		sv->flow_waiting--;
	}
	/* It may have been the slowest. */
	sv_flow_update(sv);
}

void
sv_flow_marked(struct supervisor *sv, unsigned producer, uint64_t tl,
	       uint64_t head)
{
	struct flow_fifo *f = &sv->fifo[producer];
	size_t size = producer ? sv->shm.ring_size : sv->shm.ring0_size;

	/* The last least position seen is a safe bound (it only grows):
	 * the FIFO stays short even for producers that never ask. */
	(void)flow_fifo_free(f, sv->tl_min);
	flow_fifo_push(f, tl, head, size / 32);
	sv_flow_arm(sv);
	if (producer && sv->flow_target[producer])
		sv_flow_update(sv); /* its target may now be reachable */
}

int
sv_flow_want(struct supervisor *sv, unsigned producer, const void *payload,
	     int len)
{
	struct channel_flow m;

	if ((size_t)len != sizeof(m))
		return -1;
	memcpy(&m, payload, sizeof(m));
	if (m.target > outbox_producer_head(&sv->shm, producer))
		return -1;
	if (!sv->flow_target[producer])
		sv->flow_waiting++;
	sv->flow_target[producer] = m.target ? m.target : 1;
	sv_flow_arm(sv);
	sv_flow_update(sv);
	return 0;
}

void
sv_flow_ask(struct supervisor *sv, struct sv_session *s, const void *payload,
	    int len)
{
	if (sv_flow_want(sv, s->index + 1, payload, len) < 0)
		sv_session_bad(sv, s, "malformed FLOW (or past its own head)");
}

/* Reloads the least live reader position and what it frees of ring 0. */
static void
sv_flow_refresh(struct supervisor *sv)
{
	sv->tl_min = flow_min(&sv->shm, sv->reader_open);
	sv->free0 = flow_fifo_free(&sv->fifo[0], sv->tl_min);
}

/* Ring 0 bytes and timeline entries needed for bytes and entries more on
 * top of the quits of every client and clients more; a need beyond the
 * ring waits for it to be empty. */
static void
sv_flow_needs(const struct supervisor *sv, size_t bytes, unsigned entries,
	      unsigned clients, size_t *ring_need, uint64_t *tl_need)
{
	size_t usable = sv->shm.ring0_size - OUTBOX_REC_MAX;
	uint64_t cap = sv->shm.tl->cap;
	size_t n = (size_t)sv->reg.nclients + clients;

	/* One wrap's padding, and the SHUTDOWN record, on top. */
	*ring_need = bytes + n * SV_QUIT_BOUND + 2 * OUTBOX_REC_MAX;
	if (*ring_need > usable)
		*ring_need = usable;
	/* A quit costs a timeline entry, and so may its session's mark. */
	*tl_need = entries + 2 * n + sv->nsessions + 16;
	if (*tl_need > cap - 1)
		*tl_need = cap - 1;
}

static int
sv_flow_room(const struct supervisor *sv, size_t ring_need, uint64_t tl_need)
{
	uint64_t tl_head = outbox_timeline_head(&sv->shm);

	/* A reader at tl_min is lapped once the head is cap ahead of it. */
	return flow_room(sv->free0, sv->shm.ring0_size, sv->w.head,
			 ring_need) &&
	       tl_head + tl_need - sv->tl_min <= sv->shm.tl->cap - 1;
}

int
sv_flow_fits(struct supervisor *sv, size_t bytes, unsigned entries,
	     unsigned clients)
{
	size_t ring_need;
	uint64_t tl_need;

	sv_flow_needs(sv, bytes, entries, clients, &ring_need, &tl_need);
	if (sv_flow_room(sv, ring_need, tl_need))
		return 1;
	sv_flow_refresh(sv);
	return sv_flow_room(sv, ring_need, tl_need);
}

/* The least reader position at which sv_flow_fits(bytes, entries,
 * clients) holds; at least one past the present least. */
static uint64_t
sv_flow_want0(struct supervisor *sv, size_t bytes, unsigned entries,
	      unsigned clients)
{
	size_t ring_need;
	uint64_t tl_need, want = sv->tl_min + 1;
	uint64_t tl_head = outbox_timeline_head(&sv->shm);
	size_t size0 = sv->shm.ring0_size;

	sv_flow_needs(sv, bytes, entries, clients, &ring_need, &tl_need);
	if (sv->w.head + ring_need + OUTBOX_REC_MAX > size0) {
		uint64_t need =
		    flow_fifo_need(&sv->fifo[0], sv->w.head + ring_need +
						     OUTBOX_REC_MAX - size0);
		if (need > want)
			want = need;
	}
	if (tl_head + tl_need > sv->shm.tl->cap - 1 + want)
		want = tl_head + tl_need - (sv->shm.tl->cap - 1);
	return want;
}

static void
sv_flow_go(struct supervisor *sv, unsigned producer)
{
	struct sv_session *s;

	if (producer > sv->nsessions) {
		sv_store_flow_go(sv);
		return;
	}
	s = &sv->sessions[producer - 1];
	/* A session that cannot take it retries on its own timer. */
	if (s->chan_open && channel_send(&s->chan, CHANNEL_FLOW_GO, NULL, 0, -1,
					 SV_CHANNEL_QUEUE) < 0)
		log_debug("session %d: cannot send FLOW_GO", (int)s->pid);
}

/* Publishes what every live reader has read of each waiting producer's
 * ring, answers those whose target it reached, and lowers *want to what
 * the others wait for. */
static void
sv_flow_answer(struct supervisor *sv, uint64_t *want)
{
	unsigned left = sv->flow_waiting;

	for (unsigned p = 1; p < sv->shm.nprod && left > 0; p++) {
		uint64_t target = sv->flow_target[p], ff, need;
		if (!target)
			continue;
		left--;
		ff = flow_fifo_free(&sv->fifo[p], sv->tl_min);
		if (ff > flow_free_from(&sv->shm, p))
			flow_free_from_set(&sv->shm, p, ff);
		if (ff >= target) {
			sv->flow_target[p] = 0;
			sv->flow_waiting--;
			sv_flow_go(sv, p);
			continue;
		}
		/* 0: its records are not marked yet; the mark brings it back
		 * here (sv_flow_marked). */
		need = flow_fifo_need(&sv->fifo[p], target);
		if (need && need < *want)
			*want = need;
	}
}

/* Marks owed for lack of timeline room, in producer order, while there is
 * room. */
static void
sv_flow_owed(struct supervisor *sv)
{
	for (unsigned p = 0; p < sv->shm.nprod && sv->nowed > 0; p++) {
		if (!sv->mark_owed[p])
			continue;
		if (!sv_flow_fits(sv, 0, 1, 0))
			return;
		sv_mark_now(sv, p);
	}
}

void
sv_flow_update(struct supervisor *sv)
{
	/* Marks and commits made here may ask for another look: it comes
	 * after this one, never inside it. */
	if (sv->flow_updating) {
		sv->flow_again = 1;
		return;
	}
	sv->flow_updating = 1;
	for (int round = 0; round < SV_FLOW_ROUNDS; round++) {
		sv->flow_again = 0;
		if (sv_flow_round(sv) && !sv->flow_again)
			break;
	}
	sv->flow_updating = 0;
}

/* One look; returns 1 when nothing more can change until a reader
 * advances. */
static int
sv_flow_round(struct supervisor *sv)
{
	uint64_t want = UINT64_MAX, w;
	size_t next;

	sv_flow_refresh(sv);
	if (sv->flow_waiting)
		sv_flow_answer(sv, &want);
	if (sv->nowed) {
		sv_flow_owed(sv);
		if (sv->nowed && (w = sv_flow_want0(sv, 0, 1, 0)) < want)
			want = w;
	}
	/* Requests wait behind owed marks: a client's words stay before its
	 * request's effects. */
	next = sv->nowed ? 0 : sv_run_deferred(sv);
	if (sv->deferred && (w = sv_flow_want0(sv, next, 1, 0)) < want)
		want = w;
	if (sv->accept_held) {
		if (sv_flow_fits(sv, 0, 0, 1))
			sv_accept_hold(sv, 0);
		else if ((w = sv_flow_want0(sv, 0, 0, 1)) < want)
			want = w;
	}
	if (want == UINT64_MAX)
		want = 0;
	/* Stored before the positions are loaded again: a reader that
	 * crossed want before seeing it is seen here (flow.h). */
	flow_want_set(&sv->shm, want);
	if (want)
		sv_flow_arm(sv);
	return !want || flow_min(&sv->shm, sv->reader_open) < want;
}

/* Declares the reader of slot stalled, if it still has not moved. The
 * slot past the sessions' is the store's: it finds out by itself
 * (flow_reader_is_out), and what it then misses is not archived. */
static void
sv_flow_stall(struct supervisor *sv, unsigned slot, uint64_t seen,
	      uint64_t head, long long idle_ms)
{
	struct sv_session *s;

	if (!flow_slot_stall(&sv->shm, slot, seen))
		return;
	sv->counts[METRICS_STALLED]++;
	if (slot >= sv->nsessions) {
		log_warn("store %d stalled: %llu timeline entries behind, no "
			 "progress for %lld ms; writers no longer wait for it "
			 "(what it misses is not archived)",
			 (int)sv->store.pid, (unsigned long long)(head - seen),
			 idle_ms);
		return;
	}
	s = &sv->sessions[slot];
	log_warn("%s %d stalled: %llu timeline entries behind, no progress "
		 "for %lld ms; writers no longer wait for it",
		 sv->cfg->workers > 0 ? "worker" : "session", (int)s->pid,
		 (unsigned long long)(head - seen), idle_ms);
	/* So that it notices as soon as it runs again, even on a quiet
	 * server. */
	if (s->chan_open && channel_send(&s->chan, CHANNEL_STALLED, NULL, 0, -1,
					 SV_CHANNEL_QUEUE) < 0)
		log_debug("session %d: cannot send STALLED", (int)s->pid);
}

void
sv_flow_tick(struct supervisor *sv)
{
	long long now = loop_now_ms();
	uint64_t head = outbox_timeline_head(&sv->shm);
	int behind = 0;

	if (!sv->flow_due_ms || now < sv->flow_due_ms)
		return;
	for (unsigned i = 0; i < sv->shm.nreaders; i++) {
		struct sv_reader *r = &sv->readers[i];
		uint64_t v;
		if (!sv->reader_open[i])
			continue;
		v = flow_slot_load(&sv->shm, i);
		if (v & OUTBOX_READER_OUT)
			continue;
		if (v >= head) {
			r->last = v;
			r->since_ms = 0;
			continue;
		}
		behind = 1;
		/* The clock starts when it is first seen behind without
		 * advancing: it is never declared stalled early. */
		if (v != r->last || !r->since_ms) {
			r->last = v;
			r->since_ms = now;
			continue;
		}
		if (now - r->since_ms >= sv->cfg->stall_timeout_ms)
			sv_flow_stall(sv, i, v, head, now - r->since_ms);
	}
	sv->flow_due_ms = 0;
	sv_flow_update(sv);
	if (behind || sv->flow_waiting || sv->deferred || sv->nowed ||
	    sv->accept_held)
		sv_flow_arm(sv);
}
