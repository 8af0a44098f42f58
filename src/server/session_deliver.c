/*
 * session_deliver: the timeline, in order, to a session's clients. For
 * each mark it copies the producer's new records once; a broadcast record
 * is formatted at most once per protocol, variant and role in use, and the
 * line appended to the send queue of each local client that should see it.
 * A reader that was lapped never delivers torn or skipped data: its
 * clients are told and disconnected.
 */
#include "lib/log.h"
#include "server/modes.h"
#include "server/session_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- rooms --------------------------------------------------------------- */

static struct sroom *
session_room_get(struct session *s, uint64_t id)
{
	return idmap_get(&s->rooms, id);
}

static void
session_room_add(struct session *s, struct client *c, uint64_t id,
		 struct outbox_str name)
{
	struct sroom *r = session_room_get(s, id);

	if (r && proto_room_by_id(&c->pc, id))
		return;
	if (c->pc.nrooms >= CONFIG_ROOMS_PER_CLIENT_MAX)
		fatalx("client %s in more rooms than the supervisor allows",
		       c->pc.nick);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || idmap_put(&s->rooms, id, r) < 0)
			fatal("session_room_add");
		r->pr.id = id;
		memcpy(r->pr.name, name.p, name.n);
		r->pr.name[name.n] = '\0';
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4;
		r->members = realloc(r->members, r->cap * sizeof(*r->members));
		if (!r->members)
			fatal("session_room_add");
	}
	r->members[r->n++] = c;
	c->room_flags[c->pc.nrooms] = 0;
	c->pc.rooms[c->pc.nrooms++] = &r->pr;
}

/* c's status bits in r, to read or change; NULL when not a member. */
static uint8_t *
session_room_flags(struct client *c, const struct sroom *r)
{
	for (unsigned i = 0; i < c->pc.nrooms; i++)
		if (c->pc.rooms[i] == &r->pr)
			return &c->room_flags[i];
	return NULL;
}

int
session_may_say(const struct client *c, const struct proto_room *r)
{
	const struct sroom *sr = (const struct sroom *)r;

	if (!(sr->modes & MODES_MODERATED) || c->oper)
		return 1;
	for (unsigned i = 0; i < c->pc.nrooms; i++)
		if (c->pc.rooms[i] == r)
			return (c->room_flags[i] &
				(OUTBOX_MEMBER_OP | OUTBOX_MEMBER_VOICE)) != 0;
	return 0;
}

void
session_room_remove(struct session *s, struct client *c, struct sroom *r)
{
	unsigned i, n = c->pc.nrooms;

	for (i = 0; i < n && c->pc.rooms[i] != &r->pr; i++)
		;
	if (i == n)
		return;
	/* Keep the client's rooms in join order: the last is the newest. */
	memmove(&c->pc.rooms[i], &c->pc.rooms[i + 1],
		(n - i - 1) * sizeof(c->pc.rooms[0]));
	memmove(&c->room_flags[i], &c->room_flags[i + 1], n - i - 1);
	c->pc.nrooms--;
	for (i = 0; i < r->n; i++) {
		if (r->members[i] == c) {
			r->members[i] = r->members[--r->n];
			break;
		}
	}
	if (r->n == 0) {
		idmap_del(&s->rooms, r->pr.id);
		free(r->members);
		free(r);
	}
}

/* ---- fan-out ------------------------------------------------------------- */

static enum proto_role
session_role(const struct client *c, const struct outbox_view *v)
{
	return c->pc.id == v->rec->src ? PROTO_ROLE_AUTHOR : PROTO_ROLE_MEMBER;
}

static unsigned
session_fmt_key(const struct client *c, enum proto_role role)
{
	return 1 +
	       ((unsigned)c->pc.proto->id * PROTO_VARIANTS + c->pc.variant) *
		   PROTO_ROLE_COUNT +
	       (unsigned)role;
}

/* The line of the broadcast record v for recipients like c (its key),
 * formatted only if no client of the same protocol, variant and role has
 * had it. Valid until the next call. */
static const struct session_fmt *
session_line(struct session *s, const struct client *c,
	     const struct outbox_view *v, unsigned key)
{
	struct session_fmt *f;

	for (unsigned i = 0; i < s->nfmt; i++)
		if (s->fmt[i].key == key)
			return &s->fmt[i];
	if (s->nfmt < SESSION_FMT_MAX) {
		f = &s->fmt[s->nfmt++];
	} else {
		/* More kinds of recipient than slots: the last slot is
		 * formatted again each time, over its own bytes (the buffer's
		 * last). */
		f = &s->fmt[SESSION_FMT_MAX - 1];
		s->fmt_used = f->off;
	}
	if (s->fmt_cap - s->fmt_used < PROTO_LINE_MAX) {
		s->fmt_cap = s->fmt_used + 2 * PROTO_LINE_MAX;
		s->fmt_buf = realloc(s->fmt_buf, s->fmt_cap);
		if (!s->fmt_buf)
			fatal("session_line");
	}
	f->key = key;
	f->off = s->fmt_used;
	f->len =
	    c->pc.proto->format(&s->env, v, c->pc.variant,
				(enum proto_role)((key - 1) % PROTO_ROLE_COUNT),
				s->fmt_buf + s->fmt_used);
	s->fmt_used += f->len;
	return f;
}

/* Sends c its line of the broadcast record v, as a recipient of role.
 * Returns 1 if there was a line to send. */
static unsigned
session_fan(struct session *s, struct client *c, const struct outbox_view *v,
	    enum proto_role role)
{
	const struct session_fmt *f =
	    session_line(s, c, v, session_fmt_key(c, role));

	if (!f->len)
		return 0;
	session_send(s, c, s->fmt_buf + f->off, f->len);
	return 1;
}

/* Sends v to the local members of r. Members in a row that share a key
 * (nearly all, on a busy room) share one lookup. Returns the lines sent. */
static unsigned
session_to_room(struct session *s, struct sroom *r, const struct outbox_view *v)
{
	const char *line = NULL;
	uint64_t src = v->rec->src;
	unsigned last = 0, sent = 0; /* no key is 0 */
	size_t len = 0;

	for (unsigned i = 0; i < r->n; i++) {
		struct client *m = r->members[i];
		unsigned key = session_fmt_key(
		    m, m->pc.id == src ? PROTO_ROLE_AUTHOR : PROTO_ROLE_MEMBER);
		if (key != last) {
			const struct session_fmt *f =
			    session_line(s, m, v, key);
			line = s->fmt_buf + f->off;
			len = f->len;
			last = key;
		}
		if (len) {
			session_send(s, m, line, len);
			sent++;
		}
	}
	return sent;
}

/* Sends v to every local member of the rooms it lists (and to also, if
 * local), each client once. */
static void
session_to_rooms(struct session *s, const struct outbox_view *v,
		 struct client *also)
{
	s->stamp++;
	if (also) {
		also->stamp = s->stamp;
		session_fan(s, also, v, session_role(also, v));
	}
	for (unsigned i = 0; i < v->rec->nids; i++) {
		uint64_t id;
		memcpy(&id, &v->ids[i], sizeof(id));
		struct sroom *r = session_room_get(s, id);
		for (unsigned j = 0; r && j < r->n; j++) {
			struct client *m = r->members[j];
			if (m->stamp == s->stamp)
				continue;
			m->stamp = s->stamp;
			session_fan(s, m, v, session_role(m, v));
		}
	}
}

/* ---- records ------------------------------------------------------------- */

static void
session_self(struct client *c, const struct outbox_view *v)
{
	if (c && c->pc.proto->self)
		c->pc.proto->self(&c->pc, v);
}

static void
session_deliver_privmsg(struct session *s, const struct outbox_view *v)
{
	struct client *to = session_client_get(s, v->rec->target);
	struct client *from = session_client_get(s, v->rec->src);

	unsigned sent = 0;

	/* A client whose transport is not ready (a TLS handshake) has not
	 * been greeted: nothing reaches it before that. */
	if (to && to->opened)
		sent += session_fan(s, to, v, PROTO_ROLE_MEMBER);
	if (from)
		sent += session_fan(s, from, v, PROTO_ROLE_AUTHOR);
	session_count(s, STATS_DELIVERIES, sent);
}

/* A join or part: every member hears of it, or in a room too big for
 * notices only the client itself. */
static void
session_deliver_move(struct session *s, const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	struct client *c = session_client_get(s, r->src);
	struct sroom *room;

	if (c && r->kind == OUTBOX_JOIN)
		session_room_add(s, c, r->target, v->room);
	room = session_room_get(s, r->target);
	if (!room)
		return;
	if (r->kind == OUTBOX_JOIN && r->nids >= 2) {
		uint64_t ids[2];
		memcpy(ids, v->ids, sizeof(ids));
		room->modes = (unsigned)ids[0];
		uint8_t *f = c ? session_room_flags(c, room) : NULL;
		if (f)
			*f = (uint8_t)ids[1];
	}
	if (r->aux & OUTBOX_ANNOUNCE)
		(void)session_to_room(s, room, v);
	else if (c)
		(void)session_fan(s, c, v, PROTO_ROLE_AUTHOR);
	if (c && r->kind == OUTBOX_PART)
		session_room_remove(s, c, room);
	session_self(c, v);
}

/* A client logged in or out: the session keeps its account true. */
static void
session_deliver_account(struct session *s, const struct outbox_view *v)
{
	struct client *c = session_client_get(s, v->rec->src);

	if (c) {
		size_t n =
		    v->acct.n < OUTBOX_ACCT_MAX ? v->acct.n : OUTBOX_ACCT_MAX;
		memcpy(c->pc.account, v->acct.p, n);
		c->pc.account[n] = '\0';
	}
	session_to_rooms(s, v, c);
	session_self(c, v);
}

static void
session_deliver_nick(struct session *s, const struct outbox_view *v)
{
	struct client *c = session_client_get(s, v->rec->src);

	if (c) {
		size_t n =
		    v->arg.n < OUTBOX_NICK_MAX ? v->arg.n : OUTBOX_NICK_MAX;
		memcpy(c->pc.nick, v->arg.p, n);
		c->pc.nick[n] = '\0';
	}
	session_to_rooms(s, v, c);
	session_self(c, v);
}

/* ---- moderation ---------------------------------------------------------- */

/* A server operator acting on a room it is not in sees what it did. */
static void
session_to_author_outside(struct session *s, struct sroom *room,
			  const struct outbox_view *v)
{
	struct client *a = session_client_get(s, v->rec->src);

	if (a && (!room || !session_room_flags(a, room)))
		session_fan(s, a, v, PROTO_ROLE_AUTHOR);
}

/* A room's modes or its members' status changed: keep what +m needs. */
static void
session_deliver_mode(struct session *s, const struct outbox_view *v)
{
	struct sroom *room = session_room_get(s, v->rec->target);
	uint64_t x;

	session_to_author_outside(s, room, v);
	if (!room)
		return;
	if (v->rec->nids) {
		memcpy(&x, &v->ids[0], sizeof(x));
		room->modes = (unsigned)x;
	}
	for (unsigned i = 1; i + 1 < v->rec->nids; i += 2) {
		uint64_t id, bits;
		memcpy(&id, &v->ids[i], sizeof(id));
		memcpy(&bits, &v->ids[i + 1], sizeof(bits));
		struct client *m = session_client_get(s, id);
		uint8_t *f = m ? session_room_flags(m, room) : NULL;
		if (f)
			*f = (uint8_t)bits;
	}
	session_to_room(s, room, v);
}

/* Every member sees a kick, the kicked one too; then it is out. */
static void
session_deliver_kick(struct session *s, const struct outbox_view *v)
{
	struct sroom *room = session_room_get(s, v->rec->target);
	struct client *victim = NULL;
	uint64_t id = 0;

	session_to_author_outside(s, room, v);
	if (!room)
		return;
	if (v->rec->nids)
		memcpy(&id, &v->ids[0], sizeof(id));
	victim = id ? session_client_get(s, id) : NULL;
	session_to_room(s, room, v);
	if (victim && session_room_flags(victim, room)) {
		session_room_remove(s, victim, room);
		session_self(victim, v);
	}
}

/* A wall: every client of this session. */
static void
session_deliver_wall(struct session *s, const struct outbox_view *v)
{
	for (struct client *c = s->clients; c; c = c->next)
		if (!c->closing && !c->pc.no_wall)
			session_fan(s, c, v, session_role(c, v));
}

/* The end of c's request: a private message goes out once its target is
 * known, then c's input resumes. Both happen with c's input, when the
 * outbox has room: reading the timeline never writes to it, so a reader
 * never waits for room (flow.h). */
static void
session_deliver_reply(struct session *s, struct client *c,
		      const struct outbox_view *v)
{
	struct core_op ops[PROTO_OPS_MAX];
	uint64_t id = 0;
	int n, privmsg;

	if (v->rec->nids)
		memcpy(&id, &v->ids[0], sizeof(id));
	/* From its hello on, the client's records name it as others see
	 * it. */
	if (v->rec->aux == CORE_OK && c->pc.pending == CORE_HELLO &&
	    v->user.n && v->user.n < sizeof(c->user)) {
		memcpy(c->user, v->user.p, v->user.n);
		c->user[v->user.n] = '\0';
	}
	if (v->rec->aux == CORE_OK && c->pc.pending == CORE_OPER)
		c->oper = 1;
	privmsg = v->rec->aux == CORE_OK && c->pc.pending == CORE_PRIVMSG &&
		  c->pending_text;
	n = c->pc.proto->deliver(&c->pc, v, ops);
	session_client_resume(s, c, ops, n < 0 ? 0 : n, privmsg ? id : 0,
			      v->arg);
}

static void
session_deliver_targeted(struct session *s, const struct outbox_view *v)
{
	struct client *c = session_client_get(s, v->rec->target);
	struct core_op ops[PROTO_OPS_MAX];

	if (!c || c->closing)
		return;
	if (v->rec->kind == OUTBOX_REPLY) {
		session_deliver_reply(s, c, v);
		return;
	}
	if (c->pc.proto->deliver(&c->pc, v, ops) > 0)
		fatalx("protocol %s asked for operations outside a reply",
		       c->pc.proto->name);
}

static void
session_deliver(struct session *s, unsigned producer,
		const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	struct sroom *room;

	if (r->kind >= OUTBOX_JOIN && producer != 0 &&
	    !(producer == s->store_producer && r->kind == OUTBOX_HISTORY))
		fatalx("producer %u wrote a supervisor record (kind %u)",
		       producer, r->kind);
	s->nfmt = 0;
	s->fmt_used = 0;
	switch (r->kind) {
	case OUTBOX_MSG:
		room = session_room_get(s, r->target);
		if (room)
			session_count(s, STATS_DELIVERIES,
				      session_to_room(s, room, v));
		break;
	case OUTBOX_TOPIC:
		room = session_room_get(s, r->target);
		if (room)
			(void)session_to_room(s, room, v);
		break;
	case OUTBOX_PRIVMSG:
		session_deliver_privmsg(s, v);
		break;
	case OUTBOX_JOIN:
	case OUTBOX_PART:
		session_deliver_move(s, v);
		break;
	case OUTBOX_QUIT:
	case OUTBOX_AWAY:
		session_to_rooms(s, v, NULL);
		break;
	case OUTBOX_NICK:
		session_deliver_nick(s, v);
		break;
	case OUTBOX_ACCOUNT:
		session_deliver_account(s, v);
		break;
	case OUTBOX_SHUTDOWN:
		session_begin_shutdown(s, PROTO_EV_SHUTDOWN, NULL);
		break;
	case OUTBOX_MODE:
		session_deliver_mode(s, v);
		break;
	case OUTBOX_KICK:
		session_deliver_kick(s, v);
		break;
	case OUTBOX_WALL:
		session_deliver_wall(s, v);
		break;
	case OUTBOX_INVITE:
	case OUTBOX_BAN_INFO:
	case OUTBOX_REPLY:
	case OUTBOX_TOPIC_INFO:
	case OUTBOX_NAMES:
	case OUTBOX_ROOM_INFO:
	case OUTBOX_ROOM_END:
	case OUTBOX_HISTORY:
	case OUTBOX_WARNING:
	case OUTBOX_USER_INFO:
	case OUTBOX_USER_ROOMS:
	case OUTBOX_LUSERS:
	case OUTBOX_MOTD:
		session_deliver_targeted(s, v);
		break;
	default:
		fatalx("unknown record kind %u from producer %u", r->kind,
		       producer);
	}
}

/* Every client of this session missed messages: say so, disconnect them,
 * and start over at the present. */
static void
session_lapped(struct session *s, const char *how)
{
	session_count(s, STATS_LAPPED, 1);
	log_warn("session fell behind the timeline (%s): messages lost, "
		 "disconnecting its %u client%s",
		 how, s->nclients, s->nclients == 1 ? "" : "s");
	for (struct client *c = s->clients; c; c = c->next) {
		if (c->closing)
			continue;
		session_client_close(s, c, CHANNEL_REASON_LAPPED,
				     "messages lost");
	}
	/* The timeline head is published first (flow_reader_rejoin); every
	 * entry after it says where its records start. */
	s->tl_pos = flow_reader_rejoin(&s->rd);
}

int
session_check_out(struct session *s)
{
	if (!flow_reader_is_out(&s->rd))
		return 0;
	session_lapped(s, "stalled, no longer waited for");
	return 1;
}

void
session_read_timeline(struct session *s)
{
	struct timeline_entry e;
	struct outbox_view v;
	unsigned entries = 0;
	int r;

	/* Marked out (stalled): producers may have overwritten what we have
	 * not read, whether or not we would notice. Lapped, every time. */
	if (session_check_out(s))
		return;
	while ((r = outbox_timeline_read(s->shm, s->tl_pos, &e)) == 1) {
		if (e.producer >= s->shm->nprod)
			fatalx("timeline names producer %u", e.producer);
		uint64_t pos = e.head - e.len;
		while ((r = outbox_read(s->shm, e.producer, &pos, e.head,
					s->recbuf, &v)) == 1)
			session_deliver(s, e.producer, &v);
		if (r < 0)
			break;
		s->tl_pos++;
		/* Progress shows every so often within a long batch, so the
		 * supervisor never takes a busy reader for a stalled one. */
		if (++entries % SESSION_PUBLISH_EVERY == 0 &&
		    flow_reader_publish(&s->rd, s->tl_pos) < 0)
			break;
	}
	if (r == -EBADMSG)
		log_warn("malformed record in the outbox; treating as lost");
	if (r < 0) {
		session_lapped(s, "lapped");
		return;
	}
	/* Before anything read here reaches a client (session_flush comes
	 * next): if we were marked out meanwhile, it is all dropped. */
	if (flow_reader_publish(&s->rd, s->tl_pos) < 0)
		session_lapped(s, "stalled, no longer waited for");
}
