/*
 * live: the settings a reload changes, in a small shared mapping that the
 * supervisor writes (before any fork, and at each reload) and every
 * session reads, so running sessions of both process models take new
 * flood limits, send-queue limits and the like without a restart. A
 * seqlock: the supervisor is the only writer; sessions never wait.
 */
#ifndef PARLEY_LIVE_H
#define PARLEY_LIVE_H

#include "server/config.h"

#include <stdint.h>

#define LIVE_STRINGS_MAX 16384

/* The shared block. Written by the supervisor only. */
struct live_sh {
	uint32_t seq; /* odd while the supervisor writes; +2 per publish */
	uint32_t reserved;
	struct config cfg; /* the running config: readers take only the
			      fields of OPTION_RELOADS options, and no
			      pointer (strings travel in strings[]) */
	/* Per reloadable string option, in table order: a byte 1 and the
	 * value with its NUL, or a byte 0 for none. */
	char strings[LIVE_STRINGS_MAX];
};

/* A process's handle. */
struct live {
	struct live_sh *sh;
	uint32_t seen; /* the seq this process's config has */
	char *strings; /* a reader's copy: its config points into it */
};

/* Maps the block (anonymous, shared, before any fork). 0 or -errno. */
int live_create(struct live *l) __attribute__((warn_unused_result));

void live_destroy(struct live *l);

/* Supervisor: publishes cfg's reloadable settings. Returns 0, or
 * -ENOSPC when its strings do not fit (the numbers are published, the
 * strings stay as they were). */
int live_publish(struct live *l, const struct config *cfg);

/* Session, after fork: the block becomes read-only here. */
void live_protect(struct live *l);

/* Session: if the supervisor published since the last call, copies every
 * reloadable setting into cfg and returns 1; else 0 (one load). Never
 * blocks; retries while a publish is under way. */
int live_refresh(struct live *l, struct config *cfg);

#endif
