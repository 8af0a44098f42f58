/*
 * store_int: the store process's state, shared by store.c (its loop,
 * batches and requests) and store_start.c (what it sends the supervisor
 * before its READY). Store process only.
 */
#ifndef PARLEY_STORE_INT_H
#define PARLEY_STORE_INT_H

#include "lib/loop.h"
#include "server/channel.h"
#include "server/config.h"
#include "server/outbox.h"
#include "server/store.h"
#include "server/store_accounts.h"
#include "server/store_db.h"
#include "server/store_read.h"

#define STORE_CHANNEL_QUEUE (4u << 20)

/* A request waiting for its turn. */
struct store_req {
	struct store_req *next;
	uint16_t type; /* CHANNEL_STORE_HISTORY or _ACCOUNT */
	union {
		struct channel_store_history h;
		struct channel_store_account a;
	} u;
};

struct store {
	struct config cfg_own; /* as started, then as reloaded */
	const struct config *cfg;
	struct outbox_shm *shm;
	struct outbox_writer w;
	unsigned producer;
	struct loop *loop;
	struct channel chan;
	int wake_fd, sig_fd;
	struct store_db *db;
	struct store_accounts acc;
	struct store_stats_sh *stats;

	struct store_reader rd; /* where it reads, where it committed */
	unsigned pending;	/* messages in the open batch */
	int dirty;		/* the batch (or the position) has news */
	long long first_ms;	/* when the batch's oldest news was read */

	struct store_req *q_head, *q_tail;
	uint64_t free_from; /* its ring, as last loaded (flow.h) */
	int flow_asked;	    /* a CHANNEL_FLOW is unanswered */
	int flow_wait;	    /* history waits for room in its ring */
	int stopping;
	int channel_dead;
	int failing; /* commits fail: retry at retry_ms */
	long long retry_ms, retry_delay_ms;
	long long prune_ms;
	int pruning; /* a prune is under way: more chunks to go */
};

/* Sends the supervisor one message (a dead channel stops the store). */
void store_send(struct store *s, uint16_t type, const void *p, size_t len);

/* Tells the supervisor why the database cannot be used, and exits 1. */
void store_fail_start(struct store *s, const char *why)
    __attribute__((noreturn));

/* Sends every registered nickname and, with all (the run's first store),
 * every stored topic, registered room and server ban; a database that
 * cannot be read fails the start. */
void store_send_stored(struct store *s, int all);

#endif
