/*
 * session_ops: what a session does for its clients' core operations
 * (session process). Messages go straight to its own outbox, anything that
 * needs the registry is a request to the supervisor; operations wait, in
 * order, for a request's reply or for room in the outbox. Room is flow
 * control's (flow.h): the outbox never overwrites a record that a live
 * reader has not read, and while it has no room the session reads no
 * input at all.
 */
#include "lib/log.h"
#include "server/session_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- operations ---------------------------------------------------------- */

static void
session_str_copy(char **p, struct core_str *str)
{
	if (str->n) {
		memcpy(*p, str->p, str->n);
		str->p = *p;
		*p += str->n;
	}
}

/* A copy of op (whose strings point into a line about to be reused). */
static struct queued_op *
session_op_copy(const struct core_op *op, uint64_t resolved)
{
	size_t bytes = op->room.n + op->arg.n + op->text.n;
	struct queued_op *q = malloc(sizeof(*q) + bytes);
	char *p;

	if (!q)
		fatal("session_op_copy");
	q->next = NULL;
	q->op = *op;
	q->resolved = resolved;
	p = q->data;
	session_str_copy(&p, &q->op.room);
	session_str_copy(&p, &q->op.arg);
	session_str_copy(&p, &q->op.text);
	return q;
}

void
session_queue_ops(struct client *c, const struct core_op *ops, int n)
{
	struct queued_op **tail = &c->opq, *rest = c->opq;

	for (int i = 0; i < n; i++) {
		*tail = session_op_copy(&ops[i], 0);
		tail = &(*tail)->next;
	}
	*tail = rest;
}

void
session_opq_free(struct client *c)
{
	while (c->opq) {
		struct queued_op *q = c->opq;
		c->opq = q->next;
		free(q);
	}
}

/* Appends str to data (of cap bytes) at *len, cut to what fits on a UTF-8
 * boundary; returns the length taken. */
static uint16_t
session_pack(char *data, size_t cap, size_t *len, struct core_str str)
{
	size_t n = line_utf8_cut(str.p, str.n, cap - *len);

	if (n)
		memcpy(data + *len, str.p, n);
	*len += n;
	return (uint16_t)n;
}

/* Asks the supervisor to carry out op for c; input pauses until the
 * reply. */
static void
session_request(struct session *s, struct client *c, const struct core_op *op)
{
	struct channel_request req = {.client = c->pc.id,
				      .op = (uint16_t)op->kind,
				      .flags = (uint16_t)op->flags,
				      .num = op->num};
	size_t len = 0;

	/* Mark first: what the client said before the request stays before
	 * its effects in the timeline. */
	session_publish(s);
	req.room_len = session_pack(req.data, sizeof(req.data), &len, op->room);
	req.arg_len = session_pack(req.data, sizeof(req.data), &len, op->arg);
	req.text_len = session_pack(req.data, sizeof(req.data), &len, op->text);
	log_debug("client %s (%s): request %s", c->pc.nick, c->addr,
		  core_op_name(op->kind));
	if (channel_send(&s->chan, CHANNEL_REQUEST, &req,
			 offsetof(struct channel_request, data) + len, -1,
			 SESSION_CHANNEL_QUEUE) < 0) {
		session_client_close(s, c, CHANNEL_REASON_LOST,
				     "server unavailable");
		return;
	}
	explicit_bzero(req.data, len); /* it may hold a password */
	c->waiting = 1;
	c->pc.pending = op->kind;
}

static struct outbox_str
session_ostr(struct core_str s)
{
	return (struct outbox_str){s.p, s.n};
}

static void
session_fail(struct client *c, enum core_err err, const struct core_op *op)
{
	log_debug("client %s (%s): refused: %s %.*s", c->pc.nick, c->addr,
		  core_err_name(err), (int)op->room.n, op->room.p);
	c->pc.proto->error(&c->pc, err, session_ostr(op->room),
			   session_ostr(op->arg), 0);
}

/* What running an operation came to. */
enum session_op_result {
	SESSION_OP_DONE, /* done (or failed, and the client was told) */
	SESSION_OP_WAIT, /* a request: the rest waits for its reply */
	SESSION_OP_FULL, /* no room in the outbox: run it again later */
};

/* A message to a room of c's, written straight to the outbox. */
static int
session_say(struct session *s, struct client *c, const struct core_op *op)
{
	struct proto_room *r = proto_room_named(&c->pc, op->room.p, op->room.n);

	if (!r) {
		session_fail(
		    c, op->room.n ? CORE_ERR_NOT_IN_ROOM : CORE_ERR_NO_ROOM,
		    op);
		return SESSION_OP_DONE;
	}
	if (op->text.n == 0)
		return SESSION_OP_DONE;
	if (!session_may_say(c, r)) {
		session_fail(c, CORE_ERR_CANNOT_SEND, op);
		return SESSION_OP_DONE;
	}
	struct outbox_new m = {
	    .kind = OUTBOX_MSG,
	    .aux = (uint16_t)op->flags,
	    .src = c->pc.id,
	    .target = r->id,
	    .nick = outbox_str(c->pc.nick),
	    .user = outbox_str(c->user),
	    .host = outbox_str(c->host),
	    .acct = outbox_str(c->pc.account),
	    .room = outbox_str(r->name),
	    .text = session_ostr(op->text),
	};
	if (!session_room(s, outbox_put_size(&s->w, &m)))
		return SESSION_OP_FULL;
	session_count(s, STATS_MSGS_ROOM, 1);
	outbox_put(&s->w, &m);
	return SESSION_OP_DONE;
}

/* A private message whose target q->resolved the supervisor found. */
static int
session_privmsg_write(struct session *s, struct client *c,
		      const struct queued_op *q)
{
	struct outbox_new m = {
	    .kind = OUTBOX_PRIVMSG,
	    .aux = (uint16_t)q->op.flags,
	    .src = c->pc.id,
	    .target = q->resolved,
	    .nick = outbox_str(c->pc.nick),
	    .user = outbox_str(c->user),
	    .host = outbox_str(c->host),
	    .acct = outbox_str(c->pc.account),
	    .arg = session_ostr(q->op.arg),
	    .text = session_ostr(q->op.text),
	};

	if (!session_room(s, outbox_put_size(&s->w, &m)))
		return SESSION_OP_FULL;
	session_count(s, STATS_MSGS_PRIVATE, 1);
	outbox_put(&s->w, &m);
	return SESSION_OP_DONE;
}

/* A private message: the supervisor resolves the nickname first; the
 * text waits here, never on the channel. */
static void
session_privmsg(struct session *s, struct client *c, const struct core_op *op)
{
	if (op->text.n == 0)
		return;
	free(c->pending_text);
	c->pending_text = malloc(op->text.n);
	if (!c->pending_text) {
		session_fail(c, CORE_ERR_UNAVAILABLE, op);
		return;
	}
	memcpy(c->pending_text, op->text.p, op->text.n);
	c->pending_len = op->text.n;
	c->pending_flags = op->flags;
	session_request(s, c, op);
}

static void
session_quit(struct session *s, struct client *c, const struct core_op *op)
{
	char why[CONFIG_REASON_MAX + 1];
	size_t n = line_utf8_cut(op->text.p, op->text.n, CONFIG_REASON_MAX);

	memcpy(why, op->text.p, n);
	why[n] = '\0';
	session_client_close(s, c, CHANNEL_REASON_QUIT, why);
}

/* Runs one operation: enum session_op_result. */
static int
session_run_op(struct session *s, struct client *c, const struct core_op *op)
{
	switch (op->kind) {
	case CORE_NONE:
		return SESSION_OP_DONE;
	case CORE_SAY:
		return session_say(s, c, op);
	case CORE_QUIT:
		session_quit(s, c, op);
		return SESSION_OP_DONE;
	case CORE_PRIVMSG:
		session_privmsg(s, c, op);
		break;
	default:
		session_request(s, c, op);
		break;
	}
	return c->waiting ? SESSION_OP_WAIT : SESSION_OP_DONE;
}

void
session_run_ops(struct session *s, struct client *c, const struct core_op *ops,
		int n)
{
	for (int i = 0; i < n && !c->closing; i++) {
		int r = session_run_op(s, c, &ops[i]);
		if (r == SESSION_OP_WAIT) {
			session_queue_ops(c, ops + i + 1, n - i - 1);
			return;
		}
		if (r == SESSION_OP_FULL) {
			session_queue_ops(c, ops + i, n - i);
			return;
		}
	}
}

int
session_run_queued(struct session *s, struct client *c)
{
	while (c->opq && !c->waiting && !c->closing) {
		struct queued_op *q = c->opq;
		int r = q->resolved ? session_privmsg_write(s, c, q)
				    : session_run_op(s, c, &q->op);
		if (r == SESSION_OP_FULL)
			return 1;
		/* q is still first: running it queues nothing. */
		c->opq = q->next;
		free(q);
	}
	return c->opq != NULL;
}

void
session_client_resume(struct session *s, struct client *c,
		      const struct core_op *ops, int n, uint64_t privmsg_to,
		      struct outbox_str nick)
{
	c->waiting = 0;
	c->pc.pending = CORE_NONE;
	session_queue_ops(c, ops, n);
	if (privmsg_to && c->pending_text) {
		struct core_op pm = {
		    .kind = CORE_PRIVMSG,
		    .flags = c->pending_flags,
		    .arg = {nick.p, nick.n},
		    .text = {c->pending_text, c->pending_len},
		};
		struct queued_op *q = session_op_copy(&pm, privmsg_to);
		q->next = c->opq;
		c->opq = q;
	}
	free(c->pending_text);
	c->pending_text = NULL;
	session_mark_ready(s, c);
}

/* ---- flow control ------------------------------------------------------ */

/* Asks the supervisor for CHANNEL_FLOW_GO once every live reader has
 * read our ring up to target; a higher target replaces a lower one. */
static void
session_flow_ask(struct session *s, uint64_t target)
{
	struct channel_flow m = {.target = target};

	if (target <= s->flow_asked || target <= s->free_from ||
	    s->channel_dead)
		return;
	if (channel_send(&s->chan, CHANNEL_FLOW, &m, sizeof(m), -1,
			 SESSION_CHANNEL_QUEUE) < 0)
		fatalx("cannot send flow control to the supervisor");
	s->flow_asked = target;
}

static void
session_flow_block(struct session *s, size_t bytes)
{
	long long now = loop_time_ms(s->loop);

	s->flow_bytes = bytes;
	if (s->flow_blocked)
		return;
	s->flow_blocked = 1;
	s->flow_blocked_ms = now;
	session_count(s, STATS_PAUSES_OUTBOX, 1);
	s->pauses++;
	if (now - s->pauses_logged_ms < SESSION_DEBUG_EVERY_MS)
		return;
	log_debug("input paused %u time%s since the last report: outbox full, "
		  "%llu bytes not yet read by every live reader",
		  s->pauses, s->pauses == 1 ? "" : "s",
		  (unsigned long long)(s->w.head - s->free_from));
	s->pauses = 0;
	s->pauses_logged_ms = now;
}

int
session_room(struct session *s, size_t bytes)
{
	size_t size = s->shm->ring_size;
	uint64_t head = s->w.head;
	/* What to ask for: all but the newest quarter of the ring read, so
	 * one answer is good for a quarter of a ring; and at least room for
	 * bytes. */
	uint64_t target = head > size / 4 ? head - size / 4 : 0;
	uint64_t least = head + bytes + OUTBOX_REC_MAX > size
			     ? head + bytes + OUTBOX_REC_MAX - size
			     : 0;

	/* The common case: more than half the ring free after the write. */
	if (flow_room(s->free_from, size, head, bytes + size / 2))
		return 1;
	s->free_from = flow_free_from(s->shm, s->w.producer);
	/* Ask early: readers that keep up answer before we run out. */
	if (!flow_room(s->free_from, size, head, bytes + size / 2) &&
	    !s->flow_asked)
		session_flow_ask(s, target > least ? target : least);
	if (flow_room(s->free_from, size, head, bytes))
		return 1;
	session_flow_ask(s, target > least ? target : least);
	session_flow_block(s, bytes);
	return 0;
}

void
session_flow_recheck(struct session *s)
{
	s->free_from = flow_free_from(s->shm, s->w.producer);
	if (!flow_room(s->free_from, s->shm->ring_size, s->w.head,
		       s->flow_bytes)) {
		(void)session_room(s, s->flow_bytes); /* asks again if due */
		return;
	}
	if (s->flow_blocked)
		session_count(
		    s, STATS_FLOW_WAIT_MS,
		    (uint64_t)(loop_time_ms(s->loop) - s->flow_blocked_ms));
	s->flow_blocked = 0;
}

void
session_flow_go(struct session *s)
{
	s->flow_asked = 0;
	if (s->flow_blocked)
		session_flow_recheck(s);
}
