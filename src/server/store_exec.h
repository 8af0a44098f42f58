/*
 * store_exec: how the store gets an address space of its own. The
 * supervisor forks, and the child execs the parleyd binary the supervisor
 * runs (opened at start) as `parleyd --store-process DB`, with only the
 * fds the store needs, at fixed numbers, and a sealed memfd with the rest
 * of what it needs to know; the new process maps the shared memory again
 * and runs store_main. Nothing else of the supervisor's (its config, its
 * listeners, the TLS keys) reaches the store.
 */
#ifndef PARLEY_STORE_EXEC_H
#define PARLEY_STORE_EXEC_H

#include "server/channel.h"
#include "server/config.h"
#include "server/outbox.h"
#include "server/store.h"

#include <stdint.h>

/* parleyd's hidden first argument: run as the store. */
#define STORE_EXEC_ARG "--store-process"

/* What the child of the supervisor passes on. */
struct store_exec_args {
	int exe_fd; /* store_exec_self() */
	int channel_fd, wake_fd, flow_fd;
	const struct outbox_shm *shm; /* its fd and sizes */
	int stats_fd;		      /* the memfd of the stats page */
	const struct config *cfg;     /* db_path and the settings */
	unsigned producer, reader;
	uint64_t tl_pos;
	const uint64_t *cursors; /* shm->nprod of them */
	int topics;
};

/* The binary this process runs, opened close-on-exec: at start-up, so
 * that a binary replaced on disk later (an upgrade) does not become the
 * store of a supervisor built from the old one. An fd or -errno. */
int store_exec_self(void) __attribute__((warn_unused_result));

/* In the supervisor's freshly forked child: execs the store. Returns
 * only if it cannot: -errno. */
int store_exec(const struct store_exec_args *a)
    __attribute__((warn_unused_result));

/* parleyd's main when argv[1] is STORE_EXEC_ARG: never returns (exit 2
 * when not started by a supervisor). */
void store_exec_main(int argc, char **argv) __attribute__((noreturn));

/* The store's settings in cfg, and back. */
void store_settings_of(const struct config *cfg,
		       struct channel_store_settings *m);
void store_settings_apply(struct config *cfg,
			  const struct channel_store_settings *m);

#endif
