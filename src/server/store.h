/*
 * store: the child process that owns the database (DESIGN.md section 10).
 * It reads the timeline like a session, with its own cursor, and archives
 * room messages, topics (and private messages with --store-private) in
 * batched transactions that also record the timeline position they end
 * at; it answers history and account requests over its channel, writing
 * history as records in its own outbox. It is one more producer and
 * reader of the shared memory: producers wait for its commits like for a
 * session's reads, until it stalls (flow.h), and nothing in the
 * supervisor's loop waits for it.
 */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include "server/config.h"
#include "server/outbox.h"

#include <stdint.h>

/* The store's counters, on a shared page of their own: written by the
 * store only (each respawn goes on from the last), read by /metrics. */
struct store_stats_sh {
	uint64_t committed_tl; /* timeline position of the last commit */
	uint64_t rows;	       /* messages archived */
	uint64_t commits;      /* transactions committed */
	uint64_t failures;     /* commits that failed (disk full, I/O) */
	uint64_t pruned;       /* messages deleted by --history-days */
	uint64_t history;      /* history requests answered */
	uint64_t unarchived;   /* messages skipped while marked out (stalled)
				  or lapped: never archived */
};

/* History a request may return at most (CHATHISTORY=N in IRC). */
#define STORE_HISTORY_MAX 1000

/* Stored topics given back at start at most (the most recently set): a
 * bound on the supervisor's memory for rooms that do not exist yet. */
#define STORE_TOPICS_MAX 4096

struct store_start {
	const struct config *cfg; /* db_path and the store's settings only;
				     reloads come as CHANNEL_STORE_SETTINGS */
	struct outbox_shm *shm;
	unsigned producer; /* its outbox */
	int channel_fd;
	int wake_fd; /* eventfd the supervisor writes when the timeline moves */
	unsigned reader; /* its reader slot (flow.h), opened at the head */
	int flow_fd;	 /* the supervisor's flow eventfd */
	/* Where to start reading when the database has no position of this
	 * server run: the timeline position and every producer's head. */
	uint64_t tl_pos;
	const uint64_t *cursors;
	struct store_stats_sh *stats;
	int topics; /* send the stored topics (the run's first store) */
};

/* Runs the store until it is told to stop (CHANNEL_SHUTDOWN, SIGTERM or
 * the supervisor gone), having archived the timeline up to its head.
 * Called in the process store_exec.c started, which holds no fd it does
 * not need; never returns. Exits 1 (after CHANNEL_STORE_FAILED) when the
 * database cannot be used. */
void store_main(const struct store_start *start) __attribute__((noreturn));

#endif
