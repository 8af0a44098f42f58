/*
 * session_int: the state of a session process, shared by its modules:
 * session.c (loop, lifecycle, channel), session_client.c (client I/O,
 * framing, flood bucket, send queue, operations), session_ping.c (signs
 * of life) and session_deliver.c (the timeline to the clients).
 * Process-local: nothing here is in shared memory.
 */
#ifndef PARLEY_SESSION_INT_H
#define PARLEY_SESSION_INT_H

#include "lib/buf.h"
#include "lib/idmap.h"
#include "lib/line.h"
#include "lib/loop.h"
#include "server/channel.h"
#include "server/config.h"
#include "server/outbox.h"
#include "server/proto.h"
#include "server/session.h"
#include "server/stats.h"
#include "server/transport.h"

#include <stdint.h>
#include <string.h>

#define SESSION_LINGER_MS      2000
#define SESSION_CHANNEL_QUEUE  (8u << 20)
#define SESSION_DEBUG_EVERY_MS 1000 /* at most one summary line a second */

_Static_assert(CONFIG_REASON_MAX <= CHANNEL_REASON_MAX,
	       "a reason fits a channel message");

/* A room with local members. The protocols' view comes first. */
struct sroom {
	struct proto_room pr;
	struct client **members;
	unsigned n, cap;
	unsigned modes; /* MODES_*, from its JOIN and MODE records */
};

/* An operation waiting for an outstanding request's reply, with its own
 * copy of its strings. */
struct queued_op {
	struct queued_op *next;
	struct core_op op;
	char data[];
};

struct client {
	struct pconn pc; /* first: protocols get &c->pc */
	struct session *s;
	struct xconn x;
	char addr[CHANNEL_ADDR_MAX];
	char user[OUTBOX_USER_MAX + 1];
	char host[OUTBOX_HOST_MAX + 1];
	/* Per pc.rooms[i]: its OUTBOX_MEMBER_OP/_VOICE bits there. */
	uint8_t room_flags[CONFIG_ROOMS_PER_CLIENT_MAX];
	int oper; /* a server operator: speaks in +m rooms */
	struct line_reader lr;
	struct buf in, out;
	int opened;    /* the protocol has greeted it */
	int tentative; /* greeted, but its transport may still refuse it
			  (XCONN_TENTATIVE): its HELLO (in opq) and its
			  input wait */

	int waiting;	       /* a request is outstanding: input paused */
	struct queued_op *opq; /* operations after it, in order */
	char *pending_text;    /* a private message awaiting its nick */
	size_t pending_len;
	unsigned pending_flags;

	int readable; /* edge-triggered: the socket may have input */
	int writable;
	int eof;
	int closing;	/* enum channel_reason; 0 while open */
	int last_words; /* queue past the limit: why it is closed */
	int wr_shut;	/* write side shut down: draining input until EOF */
	long long linger_until_ms;

	long long heard_ms;	/* input last arrived */
	long long ping_sent_ms; /* asked for a sign of life; 0: not */

	double tokens;
	long long tokens_ms;
	long long throttled_until_ms; /* 0 when not throttled */
	uint64_t stamp;		      /* dedupes QUIT/NICK notices */

	int in_ready, in_dirty, in_throttled, in_opening;
	struct client *ready_next, *dirty_next, *throttled_next;
	struct client *opening_next; /* its transport is not ready yet */
	struct client *closing_next;
	struct client *next, *prev; /* every client */
};

/* One formatted broadcast line, cached for the record being delivered. */
struct session_fmt {
	unsigned key; /* protocol, variant and role; 0: unused */
	size_t off, len;
};

struct session {
	const struct config *cfg; /* &cfg_own */
	struct config cfg_own;	  /* a reload updates it from live */
	struct live live;
	struct stats_local st;	     /* counted here, published per turn */
	struct stats_slot_sh *st_sh; /* this session's page */
	struct proto_env env;
	struct outbox_shm *shm;
	struct outbox_writer w;
	uint64_t published;
	struct loop *loop;
	struct channel chan;
	int wake_fd, sig_fd;
	int worker;

	uint64_t tl_pos;
	uint64_t *cursors;
	unsigned store_producer; /* 0: none */
	void *recbuf;
	char *scratch; /* sanitised input line */

	/* Broadcast lines of the record being delivered, formatted once per
	 * protocol, variant and role (DESIGN.md section 9). */
	char *fmt_buf;
	size_t fmt_used, fmt_cap;
	struct session_fmt fmt[PROTO_COUNT * PROTO_VARIANTS * PROTO_ROLE_COUNT];
	unsigned nfmt;

	struct client **by_slot; /* cfg->client_slots */
	struct client *clients;
	unsigned nclients;
	struct idmap rooms;
	uint64_t stamp;

	struct client *ready, *dirty;
	int input_paused;	  /* ready clients wait: outbox backlogged */
	struct client *throttled; /* waiting for flood tokens */
	struct client *opening;	  /* transports not ready yet (a handshake):
				     each by its x.ready_by_ms */
	struct client *closing;	  /* closed, finishing in session_reap */
	int linger_poll;	  /* a closing client waits for its unsent
				     bytes: look again soon */
	int had_client;
	int shutting_down;
	long long shutdown_deadline_ms;
	int channel_dead;

	unsigned npinging;	 /* clients whose protocol pings */
	long long ping_check_ms; /* when to look for silent ones next */

	/* Flow control seen since the last debug line about it. */
	unsigned pauses, throttles;
	long long pauses_logged_ms, throttles_logged_ms;
};

/* Counts n events of kind c (process-local; published once per loop
 * iteration). */
static inline void
session_count(struct session *s, enum stats_counter c, uint64_t n)
{
	s->st.v.counter[c] += n;
	s->st.dirty = 1;
}

/* ---- session.c ---- */

/* Marks for publication what this session wrote and sends a MARK if none
 * is pending. */
void session_publish(struct session *s);

/* Starts the shutdown: every client gets the event, then is closed. */
void session_begin_shutdown(struct session *s, enum proto_event ev,
			    const char *text);

/* ---- session_client.c ---- */

/* Takes over a client handed over on fd. */
void session_client_add(struct session *s, const struct channel_client_new *m,
			int fd);

/* The local client with this id, or NULL. */
struct client *session_client_get(struct session *s, uint64_t id);

/* Closes c for reason (enum channel_reason), telling the supervisor; the
 * client is freed by session_reap after the iteration. */
void session_client_close(struct session *s, struct client *c, int reason,
			  const char *text);

/* session_send for every case but the common one. */
void session_send_slow(struct session *s, struct client *c, const char *line,
		       size_t len);

static inline void
session_mark_dirty(struct session *s, struct client *c)
{
	if (c->in_dirty)
		return;
	c->in_dirty = 1;
	c->dirty_next = s->dirty;
	s->dirty = c;
}

/* Queues one line for c; a full send queue closes c. Inline: it runs once
 * per delivery, and most of the time the queue has room. */
static inline void
session_send(struct session *s, struct client *c, const char *line, size_t len)
{
	struct buf *b = &c->out;

	if (c->closing || c->last_words || b->cap - b->len < len ||
	    buf_used(b) + len > s->cfg->sendq_bytes) {
		session_send_slow(s, c, line, len);
		return;
	}
	memcpy(b->data + b->len, line, len);
	b->len += len;
	session_mark_dirty(s, c);
}

/* The request of c is answered: runs ops (what the reply asked for),
 * then what waited for the reply, until the next request. */
void session_client_resume(struct session *s, struct client *c,
			   const struct core_op *ops, int n);

/* Runs ops for c in order; a request pauses the rest until its reply
 * (they go first in line, before anything already waiting). */
void session_run_ops(struct session *s, struct client *c,
		     const struct core_op *ops, int n);

void session_mark_ready(struct session *s, struct client *c);
void session_process_input(struct session *s);
void session_flush(struct session *s);
void session_reap(struct session *s);
void session_client_free(struct session *s, struct client *c);
void session_wake_throttled(struct session *s);

/* Asks the transports that are not ready by their deadline once more,
 * late (a stalled handshake closes), and forgets those that became
 * ready. After each loop iteration. */
void session_check_opening(struct session *s);

/* The earliest time a transport must be ready by, or -1. */
long long session_opening_due(const struct session *s);

/* ---- session_ping.c ---- */

/* Pings clients silent for --ping-timeout and closes those silent for as
 * long after a ping; looks only every so often. */
void session_ping_idle(struct session *s);

/* When session_ping_idle next has work, or -1 when no client pings. */
long long session_ping_due_ms(const struct session *s);

/* Counts c (just added, heard from now) if its protocol pings. */
void session_ping_add(struct session *s, struct client *c);
int session_backlogged(const struct session *s);

/* ---- session_deliver.c ---- */

/* Delivers the timeline from the session's cursor to its clients. */
void session_read_timeline(struct session *s);

/* Removes c from room r (freeing r once no local client is in it). */
void session_room_remove(struct session *s, struct client *c, struct sroom *r);

/* Whether c may speak in its room r now (+m: voice, operator or server
 * operator). */
int session_may_say(const struct client *c, const struct proto_room *r);

#endif
