/*
 * session_client: a session's clients. Reads each client's transport
 * (bounded per turn, throttled by a token bucket, paused while a request
 * is outstanding or the outbox is full), frames and sanitises lines, has
 * the client's protocol parse them and session_ops.c carry out the
 * operations; queues output and writes it once per loop iteration, within
 * the send-queue limits. A closed client is freed only after the
 * iteration (session_reap), so no fan-out ever sees it freed.
 */
#include "lib/log.h"
#include "server/registry.h"
#include "server/session_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SESSION_READ_CHUNK     16384
#define SESSION_LINES_PER_TURN 64 /* fairness between clients */
#define SESSION_KEEP_OUT_BYTES 1024

static struct client *
session_client_of(struct pconn *pc)
{
	return (struct client *)pc; /* pc is the first member */
}

/* ---- lists --------------------------------------------------------------- */

void
session_mark_ready(struct session *s, struct client *c)
{
	if (c->in_ready)
		return;
	c->in_ready = 1;
	c->ready_next = s->ready;
	s->ready = c;
}

/* ---- output -------------------------------------------------------------- */

/* Drops what is queued for c, but the rest of a line already partly
 * written: the client never sees a torn line before the notice. */
static void
session_out_drop(struct client *c)
{
	struct buf *b = &c->out;
	char *nl;

	if (c->out_midline && buf_used(b) > 0 &&
	    (nl = memchr(b->data + b->off, '\n', buf_used(b)))) {
		b->len = (size_t)(nl - b->data) + 1;
		return;
	}
	buf_free(b);
}

static void
session_sendq_cut(struct session *s, struct client *c, const char *why)
{
	log_info("client %s (%s): send queue exceeded (%zu bytes, %s)",
		 c->pc.nick, c->addr, buf_used(&c->out), why);
	session_client_close(s, c, CHANNEL_REASON_SENDQ, "send queue exceeded");
}

/* c's queue is over --sendq: the clock runs from the first time. */
static void
session_sendq_over(struct session *s, struct client *c)
{
	long long now = loop_time_ms(s->loop);

	if (!c->sendq_since_ms) {
		c->sendq_since_ms = now;
		if (!c->in_oversoft) {
			c->in_oversoft = 1;
			c->oversoft_next = s->oversoft;
			s->oversoft = c;
		}
	}
	if (now - c->sendq_since_ms >= 1000LL * s->cfg->sendq_seconds)
		session_sendq_cut(s, c, "over --sendq too long");
}

void
session_send_slow(struct session *s, struct client *c, const char *line,
		  size_t len)
{
	size_t used = buf_used(&c->out) + len;

	if (c->last_words) {
		/* Past the limit: the line that says why it closes. */
		if (buf_append(&c->out, line, len) < 0)
			log_warn("no memory for the last line to %s",
				 c->pc.nick);
		return;
	}
	if (c->closing)
		return;
	if (used > s->cfg->sendq_hard_bytes) {
		session_sendq_cut(s, c, "over --sendq-hard");
		return;
	}
	if (buf_append(&c->out, line, len) < 0) {
		session_sendq_cut(s, c, "out of memory");
		return;
	}
	session_mark_dirty(s, c);
	if (used > s->cfg->sendq_bytes)
		session_sendq_over(s, c);
}

int
session_check_sendq(struct session *s, int cut)
{
	long long now = loop_time_ms(s->loop), next = -1;
	long long limit = 1000LL * s->cfg->sendq_seconds;
	struct client **pp = &s->oversoft;

	while (*pp) {
		struct client *c = *pp;
		/* A reload may have raised --sendq above the queue. */
		if (buf_used(&c->out) <= s->cfg->sendq_bytes)
			c->sendq_since_ms = 0;
		if (cut && !c->closing && c->sendq_since_ms &&
		    now - c->sendq_since_ms >= limit)
			session_sendq_cut(s, c, "over --sendq too long");
		if (c->closing || !c->sendq_since_ms) {
			*pp = c->oversoft_next;
			c->in_oversoft = 0;
			continue;
		}
		long long left = c->sendq_since_ms + limit - now;
		if (left < 0)
			left = 0;
		if (next < 0 || left < next)
			next = left;
		pp = &c->oversoft_next;
	}
	return next < 0 ? -1 : (int)next;
}

static void
session_emit_cb(struct pconn *pc, const char *line, size_t len)
{
	struct client *c = session_client_of(pc);

	session_send(c->s, c, line, len);
}

/* Writes what has accumulated. Returns 0, or -1 if the client is gone. */
static int
session_write(struct session *s, struct client *c)
{
	while (buf_used(&c->out) > 0) {
		ssize_t n = c->x.t->write(&c->x, c->out.data + c->out.off,
					  buf_used(&c->out));
		if (n == -EAGAIN) {
			c->writable = 0;
			return 0;
		}
		if (n < 0)
			return -1;
		if (n > 0)
			c->out_midline =
			    c->out.data[c->out.off + (size_t)n - 1] != '\n';
		buf_consume(&c->out, (size_t)n);
		session_count(s, STATS_BYTES_OUT, (uint64_t)n);
		if (c->sendq_since_ms &&
		    buf_used(&c->out) <= s->cfg->sendq_bytes)
			c->sendq_since_ms =
			    0; /* drained below: the clock stops */
	}
	if (c->out.cap > SESSION_KEEP_OUT_BYTES)
		buf_free(&c->out);
	return 0;
}

void
session_flush(struct session *s)
{
	struct client *c = s->dirty;

	s->dirty = NULL;
	while (c) {
		struct client *next = c->dirty_next;
		c->in_dirty = 0;
		c->dirty_next = NULL;
		if (c->writable && !c->closing && session_write(s, c) < 0)
			session_client_close(s, c, CHANNEL_REASON_LOST,
					     "connection lost");
		c = next;
	}
}

/* ---- input --------------------------------------------------------------- */

/* Takes a flood token; returns 0, or -1 (and schedules a retry) when the
 * client must wait. */
static int
session_take_token(struct session *s, struct client *c)
{
	double rate = s->cfg->flood_rate;
	long long now = loop_time_ms(s->loop);

	if (rate <= 0)
		return 0;
	double elapsed = (double)(now - c->tokens_ms) / 1000.0;
	c->tokens += elapsed * rate;
	if (c->tokens > s->cfg->flood_burst)
		c->tokens = s->cfg->flood_burst;
	c->tokens_ms = now;
	if (c->tokens >= 1) {
		c->tokens -= 1;
		return 0;
	}
	c->throttled_until_ms =
	    now + (long long)((1 - c->tokens) * 1000 / rate) + 1;
	s->throttles++;
	session_count(s, STATS_PAUSES_FLOOD, 1);
	if (now - s->throttles_logged_ms >= SESSION_DEBUG_EVERY_MS) {
		log_debug("flood limit: input paused %u time%s since the "
			  "last report, last for %s (%s)",
			  s->throttles, s->throttles == 1 ? "" : "s",
			  c->pc.nick, c->addr);
		s->throttles = 0;
		s->throttles_logged_ms = now;
	}
	if (!c->in_throttled) {
		c->in_throttled = 1;
		c->throttled_next = s->throttled;
		s->throttled = c;
	}
	return -1;
}

/* Reads once into c->in. */
static void
session_read(struct session *s, struct client *c)
{
	/* One spare byte: telnet stripping may give one more than it got. */
	char *p = buf_reserve(&c->in, SESSION_READ_CHUNK + 1);
	ssize_t n;

	if (!p) {
		session_client_close(s, c, CHANNEL_REASON_LOST,
				     "out of memory");
		return;
	}
	n = c->x.t->read(&c->x, p, SESSION_READ_CHUNK);
	if (n > 0) {
		session_count(s, STATS_BYTES_IN, (uint64_t)n);
		size_t kept = line_strip_telnet(&c->lr, p, (size_t)n);
		buf_commit(&c->in, kept);
		c->heard_ms = loop_time_ms(s->loop);
		c->ping_sent_ms = 0;
		return;
	}
	c->readable = 0;
	if (n == -EAGAIN)
		return;
	c->eof = n == 0 ? 1 : 2; /* 2: reset or error */
	if (n < 0 && c->x.why)
		log_info("client %s (%s): %s", c->pc.nick, c->addr, c->x.why);
}

static void
session_handle_line(struct session *s, struct client *c, const char *raw,
		    size_t raw_len)
{
	const struct proto *p = c->pc.proto;
	size_t len = p->sanitize ? p->sanitize(raw, raw_len, s->scratch)
				 : line_sanitize(raw, raw_len, s->scratch);
	struct core_op ops[PROTO_OPS_MAX];
	int n = p->parse(&c->pc, s->scratch, len, ops);

	session_run_ops(s, c, ops, n);
}

/* Processes c's input until it must wait. Returns 1 if c has more to do
 * once it may (it used up its turn, or the outbox is full). */
static int
session_input(struct session *s, struct client *c)
{
	int lines = 0;

	while (!c->closing && !c->waiting && c->opened && !c->tentative) {
		size_t off, len, consumed = 0;

		/* A full outbox stops every client's input: TCP then pushes
		 * back on whoever floods. */
		if (s->flow_blocked)
			return 1;
		if (c->opq) {
			if (session_run_queued(s, c) && s->flow_blocked)
				return 1;
			continue;
		}
		enum line_result r = LINE_NEED_MORE;

		if (buf_used(&c->in) > 0)
			r = line_next(&c->lr, c->in.data + c->in.off,
				      buf_used(&c->in), &off, &len, &consumed);
		if (r == LINE_TOO_LONG) {
			buf_consume(&c->in, consumed);
			c->pc.proto->event(&c->pc, PROTO_EV_LINE_TOO_LONG, NULL,
					   (long)s->cfg->max_line);
			log_info(
			    "client %s (%s): line over %zu bytes discarded",
			    c->pc.nick, c->addr, s->cfg->max_line);
			continue;
		}
		if (r == LINE_OK) {
			if (lines >= SESSION_LINES_PER_TURN)
				return 1;
			if (session_take_token(s, c) < 0)
				return 0;
			lines++;
			session_handle_line(s, c, c->in.data + c->in.off + off,
					    len);
			buf_consume(&c->in, consumed);
			continue;
		}
		buf_consume(&c->in, consumed);
		if (c->eof) {
			session_client_close(s, c, CHANNEL_REASON_LOST,
					     c->eof > 1 ? "connection lost"
							: "connection closed");
			break;
		}
		if (!c->readable)
			break;
		if (lines >= SESSION_LINES_PER_TURN)
			return 1;
		session_read(s, c);
	}
	if (buf_used(&c->in) == 0)
		buf_free(&c->in);
	return 0;
}

/* c waits for its transport (a handshake): on the opening list, asked
 * again on its I/O and at its deadline. */
static void
session_opening_add(struct session *s, struct client *c)
{
	if (c->in_opening)
		return;
	c->in_opening = 1;
	c->opening_next = s->opening;
	s->opening = c;
}

/* The transport has finished its handshake (or the session asks again,
 * late): the protocol greets. */
static void
session_client_open(struct session *s, struct client *c)
{
	struct core_op ops[PROTO_OPS_MAX];
	int r = c->x.t->ready(&c->x), n;

	if ((r == 0 || r == XCONN_TENTATIVE) && c->x.late) {
		/* One log line, the supervisor's "left: ...". */
		char why[64];
		snprintf(why, sizeof(why), "handshake timed out after %d ms",
			 s->cfg->handshake_ms);
		session_client_close(s, c, CHANNEL_REASON_LOST, why);
		return;
	}
	if (r == 0 || (r == XCONN_TENTATIVE && c->opened)) {
		session_opening_add(s, c);
		return;
	}
	if (r < 0 || r == XCONN_DONE) {
		/* Nobody else has seen it (a tentative client has read its
		 * welcome, nothing more): one log line, the supervisor's,
		 * and no chat effect. Answered by the transport itself (a
		 * web page): a quit, so that the answer is flushed before
		 * the close. */
		session_client_close(
		    s, c, r < 0 ? CHANNEL_REASON_LOST : CHANNEL_REASON_QUIT,
		    c->x.why ? c->x.why : "connection lost");
		return;
	}
	if (c->opened) {
		/* Greeted while tentative; now it may be seen. */
		c->tentative = 0;
		session_run_queued(s, c);
		session_mark_ready(s, c);
		return;
	}
	/* The handshake may have chosen the protocol (a subprotocol). */
	if (c->x.proto != c->pc.proto->id) {
		const struct proto *p = proto_get(c->x.proto);
		if (!p)
			fatalx("transport %s chose protocol %u", c->x.t->name,
			       c->x.proto);
		/* Counted by protocol: move it to the one it speaks. */
		s->st.v.clients[c->pc.proto->id][c->x.t->id]--;
		s->st.v.clients[p->id][c->x.t->id]++;
		s->st.dirty = 1;
		/* Counted by pinging too (IRC over WebSocket pings). */
		if (c->pc.proto->pings)
			s->npinging--;
		c->pc.proto = p;
		session_ping_add(s, c);
	}
	n = c->pc.proto->open(&c->pc, ops);
	if (n < 0) {
		session_client_close(s, c, CHANNEL_REASON_LOST,
				     "out of memory");
		return;
	}
	c->opened = 1;
	if (r == XCONN_TENTATIVE) {
		/* The greeting goes out; its HELLO waits for ready(). */
		c->tentative = 1;
		session_queue_ops(c, ops, n);
		session_opening_add(s, c);
		return;
	}
	session_run_ops(s, c, ops, n);
}

void
session_process_input(struct session *s)
{
	struct client *c = s->ready, *again = NULL;

	if (s->flow_blocked)
		session_flow_recheck(s);
	s->ready = NULL;
	while (c) {
		struct client *next = c->ready_next;
		c->in_ready = 0;
		c->ready_next = NULL;
		if ((!c->opened || c->tentative) && !c->closing)
			session_client_open(s, c);
		if (session_input(s, c)) {
			c->in_ready = 1;
			c->ready_next = again;
			again = c;
		}
		c = next;
	}
	/* Clients that used up their turn go again next iteration. */
	while (again) {
		struct client *next = again->ready_next;
		again->in_ready = 0;
		session_mark_ready(s, again);
		again = next;
	}
}

void
session_wake_throttled(struct session *s)
{
	struct client **pp = &s->throttled;

	while (*pp) {
		struct client *c = *pp;
		if (c->throttled_until_ms <= loop_time_ms(s->loop) ||
		    c->closing) {
			*pp = c->throttled_next;
			c->in_throttled = 0;
			c->throttled_until_ms = 0;
			session_mark_ready(s, c);
		} else {
			pp = &c->throttled_next;
		}
	}
}

void
session_check_opening(struct session *s)
{
	struct client **pp = &s->opening;
	long long now = loop_time_ms(s->loop);

	while (*pp) {
		struct client *c = *pp;
		int waits = (!c->opened || c->tentative) && !c->closing;
		if (!waits || now >= c->x.ready_by_ms) {
			*pp = c->opening_next;
			c->in_opening = 0;
			c->opening_next = NULL;
			if (waits) {
				/* Its last chance: ready() decides now. */
				c->x.late = 1;
				session_client_open(s, c);
				session_mark_ready(s, c);
			}
		} else {
			pp = &c->opening_next;
		}
	}
}

long long
session_opening_due(const struct session *s)
{
	long long next = -1;

	for (const struct client *c = s->opening; c; c = c->opening_next)
		if ((!c->opened || c->tentative) && !c->closing &&
		    (next < 0 || c->x.ready_by_ms < next))
			next = c->x.ready_by_ms;
	return next;
}

/* ---- clients ------------------------------------------------------------- */

static void
session_on_client(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct client *c = arg;
	struct session *s = c->s;

	(void)loop;
	(void)fd;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		c->readable = 1;
		session_mark_ready(s, c);
		if (c->x.wants & XCONN_WANT_READ) {
			c->writable = 1; /* a write waited for input */
			if (buf_used(&c->out) > 0)
				session_mark_dirty(s, c);
		}
	}
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		c->writable = 1;
		if (buf_used(&c->out) > 0)
			session_mark_dirty(s, c);
		if (c->x.wants & XCONN_WANT_WRITE)
			session_mark_ready(s, c); /* a read waited */
	}
}

struct client *
session_client_get(struct session *s, uint64_t id)
{
	unsigned slot = REGISTRY_SLOT(id);
	struct client *c;

	if (slot >= (unsigned)s->cfg->client_slots)
		return NULL;
	c = s->by_slot[slot];
	return c && c->pc.id == id ? c : NULL;
}

void
session_client_add(struct session *s, const struct channel_client_new *m,
		   int fd)
{
	unsigned slot = REGISTRY_SLOT(m->client);
	const struct proto *proto = proto_get(m->proto);
	const struct transport *t = transport_get(m->transport);
	struct client *c;

	if (slot >= (unsigned)s->cfg->client_slots || s->by_slot[slot])
		fatalx("supervisor handed over client %llu twice",
		       (unsigned long long)m->client);
	if (!proto || !t)
		fatalx("client %llu: unknown protocol %u or transport %u",
		       (unsigned long long)m->client, m->proto, m->transport);
	c = calloc(1, sizeof(*c));
	if (!c)
		fatal("session_client_add");
	c->s = s;
	c->pc.proto = proto;
	c->pc.env = &s->env;
	c->pc.id = m->client;
	c->pc.emit = session_emit_cb;
	snprintf(c->pc.nick, sizeof(c->pc.nick), "%s", m->nick);
	snprintf(c->user, sizeof(c->user), "%s", m->user);
	snprintf(c->host, sizeof(c->host), "%s", m->host);
	snprintf(c->addr, sizeof(c->addr), "%s", m->addr);
	c->x.t = t;
	c->x.fd = fd;
	c->x.cfg = s->cfg;
	c->x.proto = m->proto;
	c->x.ready_by_ms = loop_time_ms(s->loop) + s->cfg->handshake_ms;
	if (t->open(&c->x) < 0)
		fatal("transport %s", t->name);
	c->lr.max_len = s->cfg->max_line;
	c->tokens = s->cfg->flood_burst;
	c->tokens_ms = loop_time_ms(s->loop);
	c->heard_ms = c->tokens_ms;
	session_ping_add(s, c);
	c->readable = 1;
	c->writable = 1;
	if (loop_add(s->loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		     session_on_client, c) < 0)
		fatal("loop_add client");
	s->by_slot[slot] = c;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
	s->had_client = 1;
	s->st.v.clients[proto->id][t->id]++;
	s->st.dirty = 1;
	session_client_open(s, c);
	/* A handshake done here may have read the client's first lines too
	 * (TLS: a client that speaks first, as IRC clients do, into
	 * OpenSSL's buffer): no epoll edge will announce them, so look. */
	session_mark_ready(s, c);
}

void
session_client_close(struct session *s, struct client *c, int reason,
		     const char *text)
{
	struct channel_client_closed msg = {.client = c->pc.id,
					    .reason = (uint16_t)reason};
	size_t n = strlen(text);

	if (c->closing)
		return;
	c->closing = reason;
	if (reason > 0 && reason < STATS_REASONS)
		s->st.v.disconnects[reason]++;
	if (reason == CHANNEL_REASON_SENDQ)
		session_count(s, STATS_SENDQ_CUTOFFS, 1);
	s->st.dirty = 1;
	session_publish(s); /* its last words precede its quit */
	n = line_utf8_cut(text, n, CONFIG_REASON_MAX);
	memcpy(msg.text, text, n);
	msg.text_len = (uint16_t)n;
	if (!s->channel_dead &&
	    channel_send(&s->chan, CHANNEL_CLIENT_CLOSED, &msg,
			 offsetof(struct channel_client_closed, text) + n, -1,
			 SESSION_CHANNEL_QUEUE) < 0)
		log_warn("cannot tell the supervisor that %s left", c->pc.nick);
	c->closing_next = s->closing;
	s->closing = c;
	c->linger_until_ms = loop_time_ms(s->loop) + SESSION_LINGER_MS;
	switch (reason) {
	case CHANNEL_REASON_SENDQ:
	case CHANNEL_REASON_LAPPED:
		session_out_drop(c);
		/* fall through */
	case CHANNEL_REASON_KICKED:
	case CHANNEL_REASON_KILLED:
	case CHANNEL_REASON_TIMEOUT:
		c->last_words = 1;
		if (c->opened)
			c->pc.proto->event(&c->pc, PROTO_EV_CLOSED, text, 0);
		c->last_words = 0;
		break;
	case CHANNEL_REASON_LOST:
		c->linger_until_ms = 0;
		break;
	default:
		break;
	}
}

/* Unlinks c from the ready, dirty, throttled and oversoft lists (rarely
 * long). */
static void
session_unlist(struct session *s, struct client *c)
{
	struct client **pp;

	for (pp = &s->ready; c->in_ready && *pp; pp = &(*pp)->ready_next)
		if (*pp == c) {
			*pp = c->ready_next;
			break;
		}
	for (pp = &s->dirty; c->in_dirty && *pp; pp = &(*pp)->dirty_next)
		if (*pp == c) {
			*pp = c->dirty_next;
			break;
		}
	for (pp = &s->throttled; c->in_throttled && *pp;
	     pp = &(*pp)->throttled_next)
		if (*pp == c) {
			*pp = c->throttled_next;
			break;
		}
	for (pp = &s->opening; c->in_opening && *pp; pp = &(*pp)->opening_next)
		if (*pp == c) {
			*pp = c->opening_next;
			break;
		}
	for (pp = &s->oversoft; c->in_oversoft && *pp;
	     pp = &(*pp)->oversoft_next)
		if (*pp == c) {
			*pp = c->oversoft_next;
			break;
		}
	c->in_ready = c->in_dirty = c->in_throttled = c->in_opening =
	    c->in_oversoft = 0;
}

void
session_client_free(struct session *s, struct client *c)
{
	session_unlist(s, c);
	while (c->pc.nrooms)
		session_room_remove(
		    s, c, (struct sroom *)c->pc.rooms[c->pc.nrooms - 1]);
	loop_del(s->loop, c->x.fd);
	c->x.t->close(&c->x);
	s->by_slot[REGISTRY_SLOT(c->pc.id)] = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	s->st.v.clients[c->pc.proto->id][c->x.t->id]--;
	s->st.dirty = 1;
	if (c->pc.proto->pings)
		s->npinging--;
	if (c->opened)
		c->pc.proto->close(&c->pc);
	buf_free(&c->in);
	buf_free(&c->out);
	session_opq_free(c);
	free(c->pending_text);
	free(c);
}

/* Finishes closing c: flush, shut down the write side, drain input, close
 * once the peer has everything. Returns 1 when c can be freed. */
static int
session_reap_one(struct session *s, struct client *c)
{
	char sink[4096];
	ssize_t n;
	int r;

	if (loop_time_ms(s->loop) >= c->linger_until_ms)
		return 1;
	if (buf_used(&c->out) > 0 && session_write(s, c) < 0)
		return 1;
	if (buf_used(&c->out) > 0)
		return 0;
	if (!c->wr_shut) {
		r = c->x.t->shutdown(&c->x);
		if (r == -EAGAIN)
			return 0;
		c->wr_shut = 1;
	}
	/* Discard input (a peer that closes ends the linger), and close only
	 * once the kernel has sent everything: closing with unread input sends
	 * an RST, which would drop data still in our send queue. */
	while ((n = c->x.t->read(&c->x, sink, sizeof(sink))) > 0)
		;
	if (n != -EAGAIN)
		return 1;
	if (c->x.t->unsent(&c->x) <= 0)
		return 1;
	s->linger_poll = 1;
	return 0;
}

void
session_reap(struct session *s)
{
	struct client **pp = &s->closing;

	s->linger_poll = 0;
	while (*pp) {
		struct client *c = *pp;
		if (session_reap_one(s, c)) {
			*pp = c->closing_next;
			session_client_free(s, c);
		} else {
			pp = &c->closing_next;
		}
	}
}
