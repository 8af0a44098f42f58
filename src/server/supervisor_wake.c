/*
 * supervisor_wake: when sessions are woken to read the timeline. Sessions
 * are split into (at most) SV_WAKE_GROUPS groups, each watching one
 * eventfd edge-triggered, so one write wakes a whole group; under load the
 * groups are woken in turn and each at most once per gap. A session that
 * has not been woken for the timeline's head is always woken eventually.
 */
#include "lib/log.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

void
sv_wake_setup(struct supervisor *sv)
{
	sv->nwake =
	    sv->nsessions < SV_WAKE_GROUPS ? sv->nsessions : SV_WAKE_GROUPS;
	for (unsigned g = 0; g < sv->nwake; g++) {
		sv->wake_fds[g] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (sv->wake_fds[g] < 0)
			fatal("eventfd");
	}
}

/* Group g has live sessions that have not been woken for head. */
static int
sv_group_behind(const struct supervisor *sv, unsigned g, uint64_t head)
{
	return sv->wake_members[g] > 0 && sv->woken_tl[g] != head;
}

static void
sv_wake_group(struct supervisor *sv, unsigned g, uint64_t head)
{
	uint64_t one = 1;

	sv->woken_tl[g] = head;
	sv->wakes++;
	/* Every session of the group watches this eventfd edge-triggered:
	 * one write wakes them all, and the counter is never read (2^64
	 * writes away from overflow). */
	if (write(sv->wake_fds[g], &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("wake: %s", strerror(errno));
}

/* Wakes the sessions that have not seen the timeline's head, paced. A
 * wake-up costs each session process a context switch (about 14 us apiece
 * on the 2-core benchmark machine), so waking 1,000 sessions for every
 * batch would spend the machine on wake-ups under load. Each group is
 * woken at most once per gap, wake_pace_us per live session process (50
 * ms for 1,000 fork-model sessions, nothing for 2 workers), and the groups
 * take turns: a wave of 1,000 processes all runnable at once would make
 * everything else (the sessions reading their clients' input, the
 * supervisor itself) wait behind it. Turns are whole milliseconds, at most
 * one per millisecond of the gap (8 turns of one group, 6 ms apart, for a
 * 50 ms gap; 2 turns of 4 groups for a 2 ms gap). A server quiet for a
 * whole gap wakes every group at once. The default pace, 50 us, is what
 * the 2-core benchmark machine can afford: at 25 (a gap of 25 ms) the
 * wake-ups of 1,000 sessions at 100 messages/s take more than a core,
 * and the machine's saturation, not the gap, set the latency
 * (BENCHMARKS.md). */
/* Wake-ups are many under load: at most one debug line a second. */
static void
sv_wake_tally(struct supervisor *sv, uint64_t head)
{
	long long now = loop_time_ms(sv->loop);

	if (sv->wakes == 0 || now - sv->wakes_logged_ms < SV_DEBUG_EVERY_MS)
		return;
	log_debug("%u wake-up%s of session groups since the last report "
		  "(%u groups, %u processes; timeline at %llu)",
		  sv->wakes, sv->wakes == 1 ? "" : "s", sv->nwake, sv->live,
		  (unsigned long long)head);
	sv->wakes = 0;
	sv->wakes_logged_ms = now;
}

void
sv_wake(struct supervisor *sv)
{
	long long gap_ms = (long long)sv->live * sv->cfg->wake_pace_us / 1000;
	long long turns = gap_ms < sv->nwake ? gap_ms : sv->nwake;
	unsigned per_turn =
	    turns > 0 ? (unsigned)((sv->nwake + turns - 1) / turns) : 0;
	uint64_t head;
	long long now;

	if (!sv->tl_dirty)
		return;
	head = outbox_timeline_head(&sv->shm);
	now = gap_ms > 0 ? loop_now_ms() : 0;
	if (gap_ms == 0 || now >= sv->wake_last_ms + gap_ms) {
		for (unsigned g = 0; g < sv->nwake; g++)
			if (sv_group_behind(sv, g, head))
				sv_wake_group(sv, g, head);
		sv->wake_last_ms = now;
	} else if (now >= sv->wake_due_ms) {
		unsigned woken = 0;
		for (unsigned i = 0; i < sv->nwake && woken < per_turn; i++) {
			unsigned g = (sv->wake_next + i) % sv->nwake;
			if (sv_group_behind(sv, g, head)) {
				sv_wake_group(sv, g, head);
				sv->wake_next = (g + 1) % sv->nwake;
				woken++;
			}
		}
		sv->wake_last_ms = now;
	}
	sv_wake_tally(sv, head);
	sv->tl_dirty = 0;
	for (unsigned g = 0; g < sv->nwake; g++)
		if (sv_group_behind(sv, g, head))
			sv->tl_dirty = 1;
	if (!sv->tl_dirty)
		sv->wake_due_ms = 0;
	else if (sv->wake_last_ms == now)
		sv->wake_due_ms = now + (turns > 0 ? gap_ms / turns : 1);
}
