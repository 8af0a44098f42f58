/*
 * metrics: the supervisor's /metrics endpoint: counters in the Prometheus
 * text format (version 0.0.4) over plain HTTP/1.1, served from the
 * supervisor's loop without ever blocking it or waiting on a session.
 * metrics.c renders the exposition from one table; metrics_http.c is the
 * listener (bounded requests, a deadline, one response, then close).
 */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

#include "lib/buf.h"

#include <stdint.h>

struct supervisor;

/* Events only the supervisor sees, counted in struct supervisor's
 * counts[]. Add yours before METRICS_COUNTS and a row in metrics.c. */
enum metrics_count {
	METRICS_ACCEPTED, /* connections admitted */
	METRICS_REFUSED,  /* + enum proto_refusal: refused, by why */
	METRICS_REFUSED_END = METRICS_REFUSED + 8,
	METRICS_SESSION_FAILURES, /* session processes that crashed or
				     exited with an error */
	METRICS_WORKER_RESTARTS,  /* workers respawned */
	METRICS_RELOADS,	  /* reloads that applied */
	METRICS_RELOAD_FAILURES,  /* reloads refused: the file did not parse */
	METRICS_SCRAPES,	  /* /metrics responses */
	METRICS_STORE_RESTARTS,	  /* store processes respawned */
	METRICS_STALLED,	  /* readers declared stalled (flow control) */
	METRICS_DEFERRED,	  /* requests that waited for ring 0 room */
	METRICS_COUNTS
};

#define METRICS_REQUEST_MAX 4096 /* bytes of request head */
#define METRICS_DEADLINE_MS 5000 /* from accept to the last byte sent */
#define METRICS_CONNS_MAX   8	 /* at once; more are closed at accept */

/* Renders every metric into b. Returns 0 or -ENOMEM. */
int metrics_render(struct supervisor *sv, struct buf *b)
    __attribute__((warn_unused_result));

/* ---- metrics_http.c ---- */

/* Binds --metrics-listen, if set. Returns 0, or -1 (logged). */
int metrics_listen(struct supervisor *sv);

/* Logs "metrics on http://ADDR/metrics" and starts serving. */
void metrics_announce(struct supervisor *sv);

/* Closes requests past their deadline. Returns the ms until the next
 * deadline, or -1 when none is pending. */
int metrics_tick(struct supervisor *sv);

/* Stops serving and frees every connection. */
void metrics_close(struct supervisor *sv);

#endif
