/*
 * stats: the session counters' shared pages. A slot's page belongs to
 * one session process at a time; between two, the supervisor folds and
 * zeroes it (no process writes it then). Readers load each field on its
 * own (relaxed): a sum is a snapshot, never a wait.
 */
#include "server/stats.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int
stats_create(struct stats *st, unsigned nslots)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	memset(st, 0, sizeof(*st));
	st->slot_bytes =
	    (sizeof(struct stats_slot_sh) + page - 1) / page * page;
	st->nslots = nslots;
	/* NORESERVE: a slot costs memory once a session writes it. */
	st->base = mmap(NULL, st->slot_bytes * nslots, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (st->base == MAP_FAILED) {
		st->base = NULL;
		return -errno;
	}
	return 0;
}

void
stats_destroy(struct stats *st)
{
	if (st->base)
		munmap(st->base, st->slot_bytes * st->nslots);
	st->base = NULL;
}

struct stats_slot_sh *
stats_slot(const struct stats *st, unsigned i)
{
	return (struct stats_slot_sh *)(void *)(st->base + st->slot_bytes * i);
}

void
stats_protect(const struct stats *st, unsigned own)
{
	(void)mprotect(st->base, st->slot_bytes * st->nslots, PROT_READ);
	(void)mprotect(stats_slot(st, own), st->slot_bytes,
		       PROT_READ | PROT_WRITE);
}

static void
stats_store_all(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

void
stats_publish(struct stats_slot_sh *sh, struct stats_local *l)
{
	if (!l->dirty)
		return;
	l->dirty = 0;
	stats_store_all(sh->counter, l->v.counter, STATS_COUNTERS);
	stats_store_all(sh->disconnects, l->v.disconnects, STATS_REASONS);
	stats_store_all((uint64_t *)(void *)sh->clients,
			(const uint64_t *)(const void *)l->v.clients,
			PROTO_COUNT * TRANSPORT_COUNT);
	__atomic_store_n(&sh->tl_pos, l->v.tl_pos, __ATOMIC_RELAXED);
}

void
stats_retire(struct stats *st, unsigned i)
{
	struct stats_slot_sh *sh = stats_slot(st, i);

	for (unsigned c = 0; c < STATS_COUNTERS; c++)
		st->retired[c] += sh->counter[c];
	for (unsigned r = 0; r < STATS_REASONS; r++)
		st->retired_disconnects[r] += sh->disconnects[r];
	memset(sh, 0, sizeof(*sh));
}

uint64_t
stats_sum(const struct stats *st, const unsigned char *in_use,
	  enum stats_counter c)
{
	uint64_t sum = st->retired[c];

	for (unsigned i = 0; i < st->nslots; i++)
		if (in_use[i])
			sum += stats_load(&stats_slot(st, i)->counter[c]);
	return sum;
}

uint64_t
stats_sum_disconnects(const struct stats *st, const unsigned char *in_use,
		      unsigned reason)
{
	uint64_t sum = st->retired_disconnects[reason];

	for (unsigned i = 0; i < st->nslots; i++)
		if (in_use[i])
			sum +=
			    stats_load(&stats_slot(st, i)->disconnects[reason]);
	return sum;
}
