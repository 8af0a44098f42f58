/*
 * metrics: the exposition. One table row per metric family: its name,
 * type and help, and where its samples come from (a session counter
 * summed over the slots, a supervisor count, or a function). Supervisor
 * only; reads the sessions' pages without waiting for any of them.
 */
#include "server/metrics.h"

#include "server/channel.h"
#include "server/stats.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct metrics_out {
	struct supervisor *sv;
	struct buf *b;
	unsigned char *in_use; /* per session slot: a process has it */
	int err;
};

enum metric_from {
	METRIC_FN,	/* fn writes the samples */
	METRIC_SESSION, /* index: enum stats_counter, summed */
	METRIC_COUNT,	/* index: enum metrics_count */
};

struct metric_def {
	const char *name, *type, *help;
	enum metric_from from;
	int index;
	void (*fn)(struct metrics_out *o, const struct metric_def *m);
};

static void metrics_printf(struct metrics_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
metrics_printf(struct metrics_out *o, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	if (o->err)
		return;
	p = buf_reserve(o->b, 256);
	if (!p) {
		o->err = -ENOMEM;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(p, 256, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= 256) {
		o->err = -EINVAL; /* every sample line is short */
		return;
	}
	buf_commit(o->b, (size_t)n);
}

/* ---- samples by function ------------------------------------------------ */

static void
metrics_clients(struct metrics_out *o, const struct metric_def *m)
{
	const struct supervisor *sv = o->sv;

	for (unsigned p = 0; p < PROTO_COUNT; p++)
		for (unsigned t = 0; t < TRANSPORT_COUNT; t++) {
			int64_t n = 0;
			for (unsigned i = 0; i < sv->stats.nslots; i++)
				if (o->in_use[i])
					n += (int64_t)stats_load(
					    (const uint64_t
						 *)(const void
							*)&stats_slot(&sv->stats,
								      i)
						->clients[p][t]);
			metrics_printf(o,
				       "%s{protocol=\"%s\",transport=\"%s\"} "
				       "%lld\n",
				       m->name, proto_get(p)->name,
				       transport_get(t)->name, (long long)n);
		}
}

static void
metrics_rooms(struct metrics_out *o, const struct metric_def *m)
{
	metrics_printf(o, "%s %u\n", m->name, o->sv->reg.nrooms);
}

static void
metrics_processes(struct metrics_out *o, const struct metric_def *m)
{
	metrics_printf(o, "%s %u\n", m->name, o->sv->live);
}

static void
metrics_messages_in(struct metrics_out *o, const struct metric_def *m)
{
	const struct stats *st = &o->sv->stats;

	metrics_printf(
	    o, "%s{kind=\"room\"} %llu\n", m->name,
	    (unsigned long long)stats_sum(st, o->in_use, STATS_MSGS_ROOM));
	metrics_printf(
	    o, "%s{kind=\"private\"} %llu\n", m->name,
	    (unsigned long long)stats_sum(st, o->in_use, STATS_MSGS_PRIVATE));
}

static void
metrics_pauses(struct metrics_out *o, const struct metric_def *m)
{
	const struct stats *st = &o->sv->stats;

	metrics_printf(
	    o, "%s{cause=\"flood\"} %llu\n", m->name,
	    (unsigned long long)stats_sum(st, o->in_use, STATS_PAUSES_FLOOD));
	metrics_printf(
	    o, "%s{cause=\"outbox\"} %llu\n", m->name,
	    (unsigned long long)stats_sum(st, o->in_use, STATS_PAUSES_OUTBOX));
}

static void
metrics_flow_wait(struct metrics_out *o, const struct metric_def *m)
{
	uint64_t ms = stats_sum(&o->sv->stats, o->in_use, STATS_FLOW_WAIT_MS);

	metrics_printf(o, "%s %llu.%03u\n", m->name,
		       (unsigned long long)(ms / 1000), (unsigned)(ms % 1000));
}

/* Names of enum channel_reason; others are shown by number. */
static const char *const metrics_reasons[STATS_REASONS] = {
    [CHANNEL_REASON_QUIT] = "quit",
    [CHANNEL_REASON_LOST] = "lost",
    [CHANNEL_REASON_SENDQ] = "sendq",
    [CHANNEL_REASON_LAPPED] = "lapped",
    [CHANNEL_REASON_SHUTDOWN] = "shutdown",
    [CHANNEL_REASON_KICKED] = "kicked",
    [CHANNEL_REASON_TIMEOUT] = "ping_timeout",
};

static void
metrics_disconnects(struct metrics_out *o, const struct metric_def *m)
{
	for (unsigned r = 1; r < STATS_REASONS; r++) {
		uint64_t n = stats_sum_disconnects(&o->sv->stats, o->in_use, r);
		if (metrics_reasons[r])
			metrics_printf(o, "%s{reason=\"%s\"} %llu\n", m->name,
				       metrics_reasons[r],
				       (unsigned long long)n);
		else if (n)
			metrics_printf(o, "%s{reason=\"%u\"} %llu\n", m->name,
				       r, (unsigned long long)n);
	}
}

static void
metrics_refused(struct metrics_out *o, const struct metric_def *m)
{
	static const char *const why[] = {
	    [PROTO_REFUSE_FULL] = "full",
	    [PROTO_REFUSE_PER_ADDR] = "per_address",
	    [PROTO_REFUSE_BUSY] = "busy",
	    [PROTO_REFUSE_BANNED] = "banned",
	};

	for (unsigned i = 0; i < sizeof(why) / sizeof(why[0]); i++)
		metrics_printf(
		    o, "%s{reason=\"%s\"} %llu\n", m->name, why[i],
		    (unsigned long long)o->sv->counts[METRICS_REFUSED + i]);
}

static void
metrics_reloads(struct metrics_out *o, const struct metric_def *m)
{
	metrics_printf(o, "%s{result=\"ok\"} %llu\n", m->name,
		       (unsigned long long)o->sv->counts[METRICS_RELOADS]);
	metrics_printf(
	    o, "%s{result=\"failed\"} %llu\n", m->name,
	    (unsigned long long)o->sv->counts[METRICS_RELOAD_FAILURES]);
}

/* How far behind the timeline's head the slowest session reader is. */
static void
metrics_timeline_lag(struct metrics_out *o, const struct metric_def *m)
{
	const struct supervisor *sv = o->sv;
	uint64_t head = outbox_timeline_head(&sv->shm), lag = 0;

	for (unsigned i = 0; i < sv->stats.nslots; i++) {
		if (!o->in_use[i])
			continue;
		uint64_t pos = stats_load(&stats_slot(&sv->stats, i)->tl_pos);
		if (pos && pos < head && head - pos > lag)
			lag = head - pos;
	}
	metrics_printf(o, "%s %llu\n", m->name, (unsigned long long)lag);
}

static void
metrics_timeline(struct metrics_out *o, const struct metric_def *m)
{
	metrics_printf(o, "%s %llu\n", m->name,
		       (unsigned long long)outbox_timeline_head(&o->sv->shm));
}

/* ---- the store ----------------------------------------------------------- */

static void
metrics_store_up(struct metrics_out *o, const struct metric_def *m)
{
	metrics_printf(o, "%s %d\n", m->name,
		       o->sv->store.state == SV_STORE_UP &&
			   !o->sv->store.health[0]);
}

/* How far the store's last commit is behind the timeline's head. */
static void
metrics_store_lag(struct metrics_out *o, const struct metric_def *m)
{
	const struct supervisor *sv = o->sv;
	uint64_t head = outbox_timeline_head(&sv->shm), lag = 0;

	if (sv->store.stats) {
		uint64_t at = __atomic_load_n(&sv->store.stats->committed_tl,
					      __ATOMIC_RELAXED);
		lag = head > at ? head - at : 0;
	}
	metrics_printf(o, "%s %llu\n", m->name, (unsigned long long)lag);
}

/* Requests sent to the store and not answered yet. */
static void
metrics_store_queue(struct metrics_out *o, const struct metric_def *m)
{
	metrics_printf(o, "%s %u\n", m->name, o->sv->store.q_len);
}

/* One of the store's counters, by its offset in struct store_stats_sh. */
static void
metrics_store_counter(struct metrics_out *o, const struct metric_def *m)
{
	const struct supervisor *sv = o->sv;
	uint64_t v = 0;

	if (sv->store.stats)
		v = stats_load(
		    (const uint64_t *)(const void *)((const char *)
							 sv->store.stats +
						     m->index));
	metrics_printf(o, "%s %llu\n", m->name, (unsigned long long)v);
}

static void
metrics_info(struct metrics_out *o, const struct metric_def *m)
{
	metrics_printf(o, "%s{version=\"%s\"} 1\n", m->name, PARLEY_VERSION);
}

static void
metrics_start_time(struct metrics_out *o, const struct metric_def *m)
{
	metrics_printf(o, "%s %lld\n", m->name, (long long)o->sv->start_time);
}

/* ---- the table ---------------------------------------------------------- */

static const struct metric_def metrics_table[] = {
    {.name = "parley_build_info",
     .type = "gauge",
     .help = "Always 1; the version is a label.",
     .fn = metrics_info},
    {.name = "parley_start_time_seconds",
     .type = "gauge",
     .help = "When the server started, in seconds since the epoch.",
     .fn = metrics_start_time},
    {.name = "parley_clients",
     .type = "gauge",
     .help = "Connected clients, by protocol and transport.",
     .fn = metrics_clients},
    {.name = "parley_rooms",
     .type = "gauge",
     .help = "Rooms on the server.",
     .fn = metrics_rooms},
    {.name = "parley_session_processes",
     .type = "gauge",
     .help = "Session processes (workers, or one per client) running.",
     .fn = metrics_processes},
    {.name = "parley_messages_in_total",
     .type = "counter",
     .help = "Messages clients sent, to rooms and privately.",
     .fn = metrics_messages_in},
    {.name = "parley_deliveries_total",
     .type = "counter",
     .help = "Message lines queued for their recipients.",
     .from = METRIC_SESSION,
     .index = STATS_DELIVERIES},
    {.name = "parley_bytes_in_total",
     .type = "counter",
     .help = "Bytes read from clients.",
     .from = METRIC_SESSION,
     .index = STATS_BYTES_IN},
    {.name = "parley_bytes_out_total",
     .type = "counter",
     .help = "Bytes written to clients.",
     .from = METRIC_SESSION,
     .index = STATS_BYTES_OUT},
    {.name = "parley_connections_total",
     .type = "counter",
     .help = "Connections admitted.",
     .from = METRIC_COUNT,
     .index = METRICS_ACCEPTED},
    {.name = "parley_refused_total",
     .type = "counter",
     .help = "Connections refused, by reason.",
     .fn = metrics_refused},
    {.name = "parley_disconnects_total",
     .type = "counter",
     .help = "Clients disconnected, by reason.",
     .fn = metrics_disconnects},
    {.name = "parley_sendq_cutoffs_total",
     .type = "counter",
     .help = "Clients cut off because their send queue was exceeded.",
     .from = METRIC_SESSION,
     .index = STATS_SENDQ_CUTOFFS},
    {.name = "parley_lapped_readers_total",
     .type = "counter",
     .help = "Times a session fell a ring behind and lost messages.",
     .from = METRIC_SESSION,
     .index = STATS_LAPPED},
    {.name = "parley_input_pauses_total",
     .type = "counter",
     .help = "Times client input was paused, by cause (flow control).",
     .fn = metrics_pauses},
    {.name = "parley_flow_wait_seconds_total",
     .type = "counter",
     .help = "Time sessions' input waited for room in their outbox "
	     "(counted as each wait ends).",
     .fn = metrics_flow_wait},
    {.name = "parley_stalled_readers_total",
     .type = "counter",
     .help = "Readers (session processes, the store) declared stalled "
	     "(behind, no progress for --stall-timeout).",
     .from = METRIC_COUNT,
     .index = METRICS_STALLED},
    {.name = "parley_requests_deferred_total",
     .type = "counter",
     .help = "Requests that waited for room in the supervisor's ring.",
     .from = METRIC_COUNT,
     .index = METRICS_DEFERRED},
    {.name = "parley_session_failures_total",
     .type = "counter",
     .help = "Session processes that crashed or exited with an error.",
     .from = METRIC_COUNT,
     .index = METRICS_SESSION_FAILURES},
    {.name = "parley_worker_restarts_total",
     .type = "counter",
     .help = "Worker processes respawned.",
     .from = METRIC_COUNT,
     .index = METRICS_WORKER_RESTARTS},
    {.name = "parley_timeline_entries_total",
     .type = "counter",
     .help = "Marks appended to the timeline.",
     .fn = metrics_timeline},
    {.name = "parley_timeline_lag_entries",
     .type = "gauge",
     .help = "Timeline entries the slowest session has yet to read.",
     .fn = metrics_timeline_lag},
    {.name = "parley_reloads_total",
     .type = "counter",
     .help = "Configuration reloads (SIGHUP), by result.",
     .fn = metrics_reloads},
    {.name = "parley_store_up",
     .type = "gauge",
     .help = "1 while the store runs and its commits work (0 with --db none).",
     .fn = metrics_store_up},
    {.name = "parley_store_lag_entries",
     .type = "gauge",
     .help = "Timeline entries after the store's last commit.",
     .fn = metrics_store_lag},
    {.name = "parley_store_queue_requests",
     .type = "gauge",
     .help = "History and account requests the store has not answered yet.",
     .fn = metrics_store_queue},
    {.name = "parley_store_rows_total",
     .type = "counter",
     .help = "Messages the store has archived.",
     .index = offsetof(struct store_stats_sh, rows),
     .fn = metrics_store_counter},
    {.name = "parley_store_commits_total",
     .type = "counter",
     .help = "Transactions the store has committed.",
     .index = offsetof(struct store_stats_sh, commits),
     .fn = metrics_store_counter},
    {.name = "parley_store_commit_failures_total",
     .type = "counter",
     .help = "Store commits that failed (disk full, I/O errors).",
     .index = offsetof(struct store_stats_sh, failures),
     .fn = metrics_store_counter},
    {.name = "parley_store_unarchived_total",
     .type = "counter",
     .help = "Messages the store skipped, never archived: it was declared "
	     "stalled (or fell a ring behind) while they went by.",
     .index = offsetof(struct store_stats_sh, unarchived),
     .fn = metrics_store_counter},
    {.name = "parley_store_restarts_total",
     .type = "counter",
     .help = "Store processes respawned after they died.",
     .from = METRIC_COUNT,
     .index = METRICS_STORE_RESTARTS},
    {.name = "parley_store_pruned_total",
     .type = "counter",
     .help = "Stored messages deleted as older than --history-days.",
     .index = offsetof(struct store_stats_sh, pruned),
     .fn = metrics_store_counter},
    {.name = "parley_scrapes_total",
     .type = "counter",
     .help = "Responses to GET /metrics, this one included.",
     .from = METRIC_COUNT,
     .index = METRICS_SCRAPES},
};

int
metrics_render(struct supervisor *sv, struct buf *b)
{
	struct metrics_out o = {.sv = sv, .b = b};

	o.in_use = calloc(sv->nsessions ? sv->nsessions : 1, 1);
	if (!o.in_use)
		return -ENOMEM;
	for (unsigned i = 0; i < sv->nsessions; i++)
		o.in_use[i] = sv->sessions[i].pid > 0;
	sv->counts[METRICS_SCRAPES]++;
	for (size_t i = 0; i < sizeof(metrics_table) / sizeof(metrics_table[0]);
	     i++) {
		const struct metric_def *m = &metrics_table[i];
		metrics_printf(&o, "# HELP %s %s\n# TYPE %s %s\n", m->name,
			       m->help, m->name, m->type);
		if (m->from == METRIC_SESSION)
			metrics_printf(&o, "%s %llu\n", m->name,
				       (unsigned long long)stats_sum(
					   &sv->stats, o.in_use,
					   (enum stats_counter)m->index));
		else if (m->from == METRIC_COUNT)
			metrics_printf(
			    &o, "%s %llu\n", m->name,
			    (unsigned long long)sv->counts[m->index]);
		else
			m->fn(&o, m);
	}
	free(o.in_use);
	return o.err;
}
