/*
 * live: the reloadable settings in shared memory. The supervisor writes
 * seq odd, the block, then seq even (release); a session copies the block
 * between two loads of seq and keeps the copy only if both are the same
 * even value. Which fields travel is the options table's OPTION_RELOADS.
 */
#include "server/live.h"

#include "server/config_file.h"
#include "server/options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int
live_create(struct live *l)
{
	memset(l, 0, sizeof(*l));
	l->sh = mmap(NULL, sizeof(*l->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l->sh == MAP_FAILED) {
		l->sh = NULL;
		return -errno;
	}
	return 0;
}

void
live_destroy(struct live *l)
{
	if (l->sh)
		munmap(l->sh, sizeof(*l->sh));
	free(l->strings);
	l->sh = NULL;
	l->strings = NULL;
}

static int
live_is_string(const struct option_def *d)
{
	return (d->flags & OPTION_RELOADS) && d->kind == OPTION_STRING;
}

static const char *
live_string(const struct config *cfg, const struct option_def *d)
{
	return *(const char *const *)(const void *)((const char *)cfg +
						    d->offset);
}

/* Packs the reloadable strings of cfg; returns the bytes, or 0 if they
 * do not fit. */
static size_t
live_pack(const struct config *cfg, char *out)
{
	size_t used = 0;

	for (size_t i = 0; i < options_count; i++) {
		const struct option_def *d = &options_table[i];
		if (!live_is_string(d))
			continue;
		const char *v = live_string(cfg, d);
		size_t n = v ? strlen(v) + 2 : 1;
		if (used + n > LIVE_STRINGS_MAX)
			return 0;
		out[used] = v ? 1 : 0;
		if (v)
			memcpy(out + used + 1, v, n - 1);
		used += n;
	}
	return used ? used : 1;
}

int
live_publish(struct live *l, const struct config *cfg)
{
	static char packed[LIVE_STRINGS_MAX];
	size_t n = live_pack(cfg, packed);
	uint32_t seq = l->sh->seq;

	__atomic_store_n(&l->sh->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&l->sh->cfg, cfg, sizeof(*cfg));
	if (n)
		memcpy(l->sh->strings, packed, n);
	__atomic_store_n(&l->sh->seq, seq + 2, __ATOMIC_RELEASE);
	l->seen = seq + 2;
	return n ? 0 : -ENOSPC;
}

void
live_protect(struct live *l)
{
	(void)mprotect(l->sh, sizeof(*l->sh), PROT_READ);
}

/* Points cfg's reloadable strings into the reader's copy. */
static void
live_unpack(struct live *l, struct config *cfg)
{
	const char *p = l->strings;

	for (size_t i = 0; i < options_count; i++) {
		const struct option_def *d = &options_table[i];
		if (!live_is_string(d))
			continue;
		const char **field =
		    (const char **)(void *)((char *)cfg + d->offset);
		if (*p) {
			*field = p + 1;
			p += strlen(p + 1) + 2;
		} else {
			*field = NULL;
			p++;
		}
	}
}

int
live_refresh(struct live *l, struct config *cfg)
{
	static struct live_sh copy;
	uint32_t s1, s2;

	s1 = __atomic_load_n(&l->sh->seq, __ATOMIC_ACQUIRE);
	if (s1 == l->seen)
		return 0;
	for (;;) {
		if (!(s1 & 1)) {
			memcpy(&copy, l->sh, sizeof(copy));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&l->sh->seq, __ATOMIC_RELAXED);
			if (s1 == s2)
				break;
		}
		s1 = __atomic_load_n(&l->sh->seq, __ATOMIC_ACQUIRE);
	}
	if (!l->strings && !(l->strings = malloc(LIVE_STRINGS_MAX)))
		return 0; /* try again next time */
	memcpy(l->strings, copy.strings, LIVE_STRINGS_MAX);
	for (size_t i = 0; i < options_count; i++)
		if ((options_table[i].flags & OPTION_RELOADS) &&
		    options_table[i].kind != OPTION_STRING)
			config_option_copy(cfg, &copy.cfg, &options_table[i]);
	live_unpack(l, cfg);
	l->seen = s1;
	return 1;
}
