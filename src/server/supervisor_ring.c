/*
 * supervisor_ring: gives a departed session's ring pages back to the
 * kernel (supervisor process). The shared mapping holds a ring for every
 * session slot, and every page a ring ever touched stays resident until
 * it is given back: without this a long-running server's memory grows with
 * every session that came and went, up to --max-clients rings. A ring is
 * given back only when nobody can read it again: its producer has gone,
 * no new session has taken the slot, and every live reader has passed the
 * timeline position at which it left (so every mark into the ring).
 */
#include "lib/log.h"
#include "server/flow.h"
#include "server/supervisor_int.h"

#include <string.h>

/* How often retired rings are looked at while readers have not yet passed
 * them: readers say nothing when they pass, so this is a poll, and only
 * while a ring waits. */
#define SV_RING_POLL_MS 100

void
sv_ring_retire(struct supervisor *sv, unsigned producer)
{
	if (producer == 0 || producer >= sv->shm.nprod)
		return;
	if (!sv->retired_at[producer])
		sv->nretired++;
	sv->retired_at[producer] = outbox_timeline_head(&sv->shm) + 1;
	sv->ring_due_ms = loop_now_ms();
}

/* Whether producer's slot has a session again (its ring is in use). */
static int
sv_ring_in_use(const struct supervisor *sv, unsigned producer)
{
	unsigned i = producer - 1;

	return i < sv->nsessions &&
	       (sv->sessions[i].pid > 0 || sv->sessions[i].chan_open);
}

void
sv_ring_tick(struct supervisor *sv)
{
	uint64_t least;

	if (!sv->nretired || loop_now_ms() < sv->ring_due_ms)
		return;
	least = flow_min(&sv->shm, sv->reader_open);
	for (unsigned p = 1; p < sv->shm.nprod && sv->nretired > 0; p++) {
		uint64_t at = sv->retired_at[p];
		if (!at)
			continue;
		if (sv_ring_in_use(sv, p)) {
			/* Taken again first: the ring is live; it is given back
			 * when that session leaves. */
			sv->retired_at[p] = 0;
			sv->nretired--;
			continue;
		}
		if (least < at - 1)
			continue;
		int err = outbox_ring_discard(&sv->shm, p);
		if (err < 0)
			log_warn(
			    "session slot %u: cannot give its ring back: %s",
			    p - 1, strerror(-err));
		else
			log_debug("session slot %u gave its ring back (%zu kB)",
				  p - 1, sv->shm.ring_size / 1024);
		sv->retired_at[p] = 0;
		sv->nretired--;
	}
	sv->ring_due_ms = sv->nretired ? loop_now_ms() + SV_RING_POLL_MS : 0;
}
