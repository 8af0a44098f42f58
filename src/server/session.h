/*
 * session: a child process that owns client sockets. It frames and parses
 * their input, writes their messages to its own outbox, asks the
 * supervisor for anything that needs the registry, and delivers the
 * timeline to its clients in order. One code path for both models: in the
 * fork model it is started with one client and exits when that client
 * leaves; as a worker it receives clients over its channel.
 */
#ifndef PARLEY_SESSION_H
#define PARLEY_SESSION_H

#include "server/channel.h"
#include "server/config.h"
#include "server/live.h"
#include "server/outbox.h"
#include "server/stats.h"

#include <stdint.h>

struct session_start {
	const struct config *cfg;
	struct outbox_shm *shm;
	unsigned producer; /* this session's outbox */
	int channel_fd;	   /* its end of the channel */
	int wake_fd;	   /* eventfd the supervisor writes per batch */
	int flow_fd;	   /* eventfd that wakes the supervisor (flow.h) */
	unsigned reader;   /* this session's slot in the reader table,
			      opened at tl_pos */
	int worker;	   /* 1: serve clients handed over; 0: one client */
	/* Where to start reading: the timeline position and, per producer,
	 * the head the timeline had marked there (nprod entries). */
	uint64_t tl_pos;
	/* Fork model: the client to serve (NULL for a worker). */
	const struct channel_client_new *client;
	int client_fd;
	/* The reloadable settings, and its counters' page: stats slot. */
	struct live *live;
	struct stats *stats;
	unsigned slot;
	/* The store's outbox (0: no store): the producer besides the
	 * supervisor that may write OUTBOX_HISTORY records. */
	unsigned store_producer;
};

/* Runs the session until it has no reason to live (its client left, the
 * supervisor is gone, or shutdown). Called in a freshly forked child, which
 * has closed every fd it does not need; never returns. */
void session_main(const struct session_start *start) __attribute__((noreturn));

#endif
