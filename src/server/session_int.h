/*
 * session_int: the state of a session process, shared by its modules:
 * session.c (loop, lifecycle, channel), session_client.c (client I/O,
 * framing, flood bucket, send queue), session_ops.c (core operations,
 * outbox room), session_ping.c (signs of life) and session_deliver.c (the
 * timeline to the clients).
 * Process-local: nothing here is in shared memory but what flow.h says.
 */
#ifndef PARLEY_SESSION_INT_H
#define PARLEY_SESSION_INT_H

#include "lib/buf.h"
#include "lib/idmap.h"
#include "lib/line.h"
#include "lib/loop.h"
#include "server/channel.h"
#include "server/config.h"
#include "server/flow.h"
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
#define SESSION_FLOW_RETRY_MS  250  /* blocked on ring room: look again */
#define SESSION_PUBLISH_EVERY  64   /* timeline entries between publishes */

_Static_assert(CONFIG_REASON_MAX <= CHANNEL_REASON_MAX,
	       "a reason fits a channel message");

/* A room with local members. The protocols' view comes first. */
struct sroom {
	struct proto_room pr;
	struct client **members;
	unsigned n, cap;
	unsigned modes; /* MODES_*, from its JOIN and MODE records */
};

/* An operation waiting for an outstanding request's reply, or for room
 * in the outbox, with its own copy of its strings. resolved: a private
 * message whose target the supervisor has resolved to this client id
 * (arg its nick): it only needs writing. */
struct queued_op {
	struct queued_op *next;
	struct core_op op;
	uint64_t resolved;
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
	int closing;	 /* enum channel_reason; 0 while open */
	int last_words;	 /* queue past the limit: why it is closed */
	int out_midline; /* the last byte written was not a line's end */
	long long sendq_since_ms; /* over --sendq since then; 0: not over */
	int in_oversoft;	  /* on the session's oversoft list */
	int wr_shut; /* write side shut down: draining input until EOF */
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
	struct client *closing_next, *oversoft_next;
	struct client *next, *prev; /* every client */
};

/* One formatted broadcast line, cached for the record being delivered. */
/* Lines kept per record, one per kind of recipient (protocol, variant,
 * role) met: a few in practice; not every possible kind (PROTO_VARIANTS
 * 256 makes that 1024, 24 kB in every session process). */
#define SESSION_FMT_MAX 32

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
	/* Flow control (flow.h): this session as a timeline reader, and
	 * as a producer, how far every live reader has read its ring. */
	struct flow_reader rd;
	uint64_t free_from;	   /* cached from the shared control page */
	uint64_t flow_asked;	   /* the target of our CHANNEL_FLOW; 0: none */
	int flow_blocked;	   /* no room for flow_bytes: input paused */
	long long flow_blocked_ms; /* since then (for the wait counter) */
	size_t flow_bytes;
	struct loop *loop;
	struct channel chan;
	int wake_fd, sig_fd;
	int worker;

	uint64_t tl_pos;
	unsigned store_producer; /* 0: none */
	void *recbuf;
	char *scratch; /* sanitised input line */

	/* Broadcast lines of the record being delivered, formatted once per
	 * protocol, variant and role (DESIGN.md section 9). */
	char *fmt_buf;
	size_t fmt_used, fmt_cap;
	struct session_fmt fmt[SESSION_FMT_MAX];
	unsigned nfmt;

	struct client **by_slot; /* cfg->client_slots */
	struct client *clients;
	unsigned nclients;
	struct idmap rooms;
	uint64_t stamp;

	struct client *ready, *dirty;
	struct client *throttled; /* waiting for flood tokens */
	struct client *opening;	  /* transports not ready yet (a handshake):
				     each by its x.ready_by_ms */
	struct client *oversoft;  /* send queues over --sendq (some may
				     have drained: see sendq_since_ms) */
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

/* session_send for every case but the common one: past the soft limit
 * (--sendq) the time limit runs, past the hard one the client is cut
 * off. */
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

/* Queues one line for c; a queue over its limits closes c. Inline: it
 * runs once per delivery, and most of the time the queue is under the
 * soft limit. */
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

/* ---- session_ops.c ---- */

/* The request of c is answered: queues ops (what the reply asked for)
 * before what waited for the reply, and before both, if privmsg_to is
 * not 0, the private message that waited for its target (privmsg_to,
 * nick). They run with c's input, as the outbox has room. */
void session_client_resume(struct session *s, struct client *c,
			   const struct core_op *ops, int n,
			   uint64_t privmsg_to, struct outbox_str nick);

/* Runs ops for c in order; a request pauses the rest until its reply
 * (they go first in line, before anything already waiting). */
void session_run_ops(struct session *s, struct client *c,
		     const struct core_op *ops, int n);

/* Puts copies of ops first in c's queue, in order (they run with its
 * input: a tentative client's HELLO waits there for its transport). */
void session_queue_ops(struct client *c, const struct core_op *ops, int n);

/* Runs c's queued operations until a request or a full outbox stops
 * them. Returns 1 if some are left. */
int session_run_queued(struct session *s, struct client *c);

/* Frees c's queued operations. */
void session_opq_free(struct client *c);

/* Input resumes (flow_blocked cleared) once the outbox has room for what
 * stopped it; else asks again if due. */
void session_flow_recheck(struct session *s);

/* Whether bytes more fit in the outbox without overwriting a record a
 * live reader has not read (flow.h). If not, input pauses
 * (s->flow_blocked) and the supervisor is asked to say when there is
 * room. Asks early, once less than half the ring is free. */
int session_room(struct session *s, size_t bytes);

/* The supervisor said the ring has been read as far as we asked. */
void session_flow_go(struct session *s);

/* ---- session_client.c (continued) ---- */

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

/* Cuts off (if cut) clients whose queue stayed over --sendq for
 * --sendq-seconds; returns the ms until the next is due, or -1. */
int session_check_sendq(struct session *s, int cut);

/* ---- session_ping.c ---- */

/* Pings clients silent for --ping-timeout and closes those silent for as
 * long after a ping; looks only every so often. */
void session_ping_idle(struct session *s);

/* When session_ping_idle next has work, or -1 when no client pings. */
long long session_ping_due_ms(const struct session *s);

/* Counts c (just added, heard from now) if its protocol pings. */
void session_ping_add(struct session *s, struct client *c);

/* ---- session_deliver.c ---- */

/* If the supervisor has marked this reader out (stalled), does what a
 * lapped reader does: its clients are told and disconnected, and it
 * rejoins at the present. Returns 1 if so. */
int session_check_out(struct session *s);

/* Delivers the timeline from the session's cursor to its clients. */
void session_read_timeline(struct session *s);

/* Removes c from room r (freeing r once no local client is in it). */
void session_room_remove(struct session *s, struct client *c, struct sroom *r);

/* Whether c may speak in its room r now (+m: voice, operator or server
 * operator). */
int session_may_say(const struct client *c, const struct proto_room *r);

#endif
