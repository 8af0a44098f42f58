/*
 * supervisor_chat: the supervisor as the authority on nicknames and rooms.
 * Carries out the core operations sessions ask for, against the registry,
 * and says what happened in records (events for rooms, answers for the
 * asking client, one OUTBOX_REPLY last); turns marks into the timeline.
 * A request runs only once the supervisor's ring has room for the most it
 * can write (supervisor_bound.c; else it waits, in order:
 * supervisor_flow.c). Holds no
 * protocol's wording: every protocol spells the records itself.
 */
#include "lib/line.h"
#include "lib/log.h"
#include "server/core.h"
#include "server/names.h"
#include "server/supervisor_int.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One NAMES entry, FLAGS NICK!USER@HOST, and its NUL. */
#define SV_NAMES_ENTRY                                                         \
	(1 + CONFIG_NICK_MAX + 1 + OUTBOX_USER_MAX + 1 + OUTBOX_HOST_MAX + 1)

/* ---- records ------------------------------------------------------------- */

/* Wall-clock milliseconds. */
static int64_t
sv_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

struct outbox_new
sv_by(const struct reg_client *c, uint16_t kind)
{
	return (struct outbox_new){
	    .kind = kind,
	    .src = c->id,
	    .nick = outbox_str(c->nick),
	    .user = outbox_str(c->user),
	    .host = outbox_str(c->cloak),
	    .acct = outbox_str(c->account),
	};
}

void
sv_reply(struct supervisor *sv, const struct reg_client *c, enum core_err err,
	 const char *room, const char *arg, uint64_t num)
{
	if (err != CORE_OK)
		log_debug("client %s (%s): refused: %s %s%s", c->nick, c->addr,
			  core_err_name(err), room ? room : "", arg ? arg : "");
	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_REPLY,
		       .aux = (uint16_t)err,
		       .target = c->id,
		       .ids = &num,
		       .nids = 1,
		       .room = outbox_str(room),
		       .arg = outbox_str(arg),
		   });
}

static void
sv_reply_ok(struct supervisor *sv, const struct reg_client *c)
{
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

unsigned
sv_room_ids(struct supervisor *sv, const struct reg_client *c, uint64_t *ids,
	    int all)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nrooms; i++)
		if (all ||
		    c->rooms[i]->nmembers <= (unsigned)sv->cfg->join_notices)
			ids[n++] = c->rooms[i]->id;
	return n;
}

static int
sv_announces(const struct supervisor *sv, const struct reg_room *r)
{
	return r->nmembers <= (unsigned)sv->cfg->join_notices;
}

static void
sv_topic_info(struct supervisor *sv, const struct reg_client *c,
	      const struct reg_room *r)
{
	uint64_t when = (uint64_t)r->topic_ms;

	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_TOPIC_INFO,
		       .target = c->id,
		       .ids = &when,
		       .nids = 1,
		       .room = outbox_str(r->name),
		       .arg = outbox_str(r->topic_by),
		       .text = outbox_str(r->topic),
		   });
}

static void
sv_names_chunk(struct supervisor *sv, const struct reg_client *c,
	       const struct reg_room *r, const char *list, size_t len, int last)
{
	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_NAMES,
		       .aux = last ? OUTBOX_LAST : 0,
		       .target = c->id,
		       .room = outbox_str(r->name),
		       .text = {list, len},
		   });
}

/* The members of r for c, in chunks of about SV_NAMES_CHUNK bytes of
 * nicknames, and never more than list holds: an entry is up to
 * SV_NAMES_ENTRY bytes (users and cloaks included), and one that would
 * not fit starts the next chunk. */
static void
sv_names(struct supervisor *sv, const struct reg_client *c,
	 const struct reg_room *r)
{
	char list[SV_NAMES_TEXT], entry[SV_NAMES_ENTRY];
	size_t len = 0, nicks = 0;

	for (unsigned i = 0; i < r->nmembers; i++) {
		const struct reg_client *m = &sv->reg.clients[r->members[i]];
		int n = snprintf(entry, sizeof(entry), "%x%s!%s@%s",
				 (m->away[0] ? OUTBOX_MEMBER_AWAY : 0u) |
				     r->member_flags[i],
				 m->nick, m->user, m->cloak);
		assert(n > 0 && (size_t)n < sizeof(entry));
		if (len > 0 && (nicks >= SV_NAMES_CHUNK ||
				len + 1 + (size_t)n > sizeof(list))) {
			sv_names_chunk(sv, c, r, list, len, 0);
			len = nicks = 0;
		}
		if (len > 0)
			list[len++] = ' ';
		memcpy(list + len, entry, (size_t)n);
		len += (size_t)n;
		nicks += strlen(m->nick) + 1;
	}
	sv_names_chunk(sv, c, r, list, len, 1);
}

unsigned
sv_room_ids_all(const struct reg_client *c, uint64_t *ids)
{
	for (unsigned i = 0; i < c->nrooms; i++)
		ids[i] = c->rooms[i]->id;
	return c->nrooms;
}

void
sv_history(struct supervisor *sv, const struct reg_client *c,
	   const struct reg_room *r)
{
	char msgid[OUTBOX_MSGID_MAX];

	for (unsigned i = 0; i < r->hist_count; i++) {
		const struct reg_hist *h = registry_history_get(&sv->reg, r, i);
		(void)outbox_msgid_at(&sv->shm, h->producer, h->pos, msgid);
		sv_put(sv, &(struct outbox_new){
			       .kind = OUTBOX_HISTORY,
			       .aux = h->flags,
			       .target = c->id,
			       .ts_ms = h->ts_ms,
			       .nick = outbox_str(h->nick),
			       .user = outbox_str(h->user),
			       .host = outbox_str(h->host),
			       .room = outbox_str(r->name),
			       .arg = outbox_str(msgid),
			       .text = {h->text, h->len},
			   });
	}
}

/* ---- requests ------------------------------------------------------------ */

static void
sv_join(struct supervisor *sv, struct reg_client *c, const char *name,
	const char *key, unsigned want)
{
	struct reg_room *r;
	uint64_t ids[2];
	int err;

	if (!c->visible) {
		/* Only a client others can see is ever a member. */
		sv_reply(sv, c, CORE_ERR_UNAVAILABLE, name, NULL, 0);
		return;
	}
	r = registry_room_find(&sv->reg, name);
	if (r && !registry_is_member(c, r) && !sv_mod_may_join(sv, c, r, key))
		return;
	if (!r && !sv_rooms_may_join(sv, c, name, key))
		return;
	err = registry_join(&sv->reg, c, name, &r);

	if (err == -EINVAL) {
		sv_reply(sv, c, CORE_ERR_ROOM_INVALID, name, NULL, 0);
		return;
	}
	if (err == -ENOSPC) {
		sv_reply(sv, c, CORE_ERR_SERVER_ROOMS, name, NULL,
			 (uint64_t)sv->cfg->max_rooms);
		return;
	}
	if (err == -EMLINK) {
		sv_reply(sv, c, CORE_ERR_CLIENT_ROOMS, name, NULL,
			 (uint64_t)sv->cfg->max_rooms_per_client);
		return;
	}
	if (err == 0) {
		if (r->nmembers == 1)
			sv_store_room_made(sv, r);
		struct outbox_new j = sv_by(c, OUTBOX_JOIN);
		ids[1] = sv_mod_joined(sv, c, r);
		ids[0] = r->mod.modes;
		j.ids = ids;
		j.nids = 2;
		j.aux = sv_announces(sv, r) ? OUTBOX_ANNOUNCE : 0;
		j.target = r->id;
		j.room = outbox_str(r->name);
		j.text = outbox_str(c->away);
		j.arg = outbox_str(c->realname);
		sv_put(sv, &j);
		if ((want & CORE_WANT_TOPIC) && r->topic[0])
			sv_topic_info(sv, c, r);
		if (want & CORE_WANT_NAMES)
			sv_names(sv, c, r);
		/* The store sends stored history and then the reply. */
		if ((want & CORE_WANT_HISTORY) && sv_store_join(sv, c, r))
			return;
	}
	sv_reply(sv, c, CORE_OK, r->name, NULL, r->id);
}

int
sv_nick_change(struct supervisor *sv, struct reg_client *c, const char *nick)
{
	char old[CONFIG_NICK_MAX + 1];
	uint64_t ids[CONFIG_ROOMS_PER_CLIENT_MAX];
	int err;

	snprintf(old, sizeof(old), "%s", c->nick);
	err = registry_nick_set(&sv->reg, c, nick);
	if (err < 0)
		return err;
	log_info("client %s (%s) is now known as %s", old, c->addr, c->nick);
	struct outbox_new n = sv_by(c, OUTBOX_NICK);
	n.nick = outbox_str(old);
	n.arg = outbox_str(c->nick);
	n.ids = ids;
	n.nids = sv_room_ids(sv, c, ids, 1);
	sv_put(sv, &n);
	return 0;
}

static void
sv_nick(struct supervisor *sv, struct reg_client *c, const char *nick)
{
	int err;

	if (strcmp(c->nick, nick) == 0) {
		sv_reply(sv, c, CORE_ERR_NICK_SAME, NULL, nick, 0);
		return;
	}
	/* Known here, without asking the store: it sent the set. */
	if (names_nick_valid(nick) && sv_store_nick_taken(sv, c, nick) &&
	    !sv_grace_allows(sv, c)) {
		sv_reply(sv, c, CORE_ERR_NICK_REGISTERED, NULL, nick, 0);
		return;
	}
	err = sv_nick_change(sv, c, nick);
	if (err == -EEXIST) {
		sv_reply(sv, c, CORE_ERR_NICK_IN_USE, NULL, nick, 0);
		return;
	}
	if (err < 0) {
		sv_reply(sv, c, CORE_ERR_NICK_INVALID, NULL, nick, 0);
		return;
	}
	sv_reply(sv, c, CORE_OK, NULL, NULL, sv_grace_start(sv, c));
}

static struct reg_room *
sv_member_room(struct supervisor *sv, struct reg_client *c, const char *name)
{
	struct reg_room *r = registry_room_find(&sv->reg, name);

	if (!r || !registry_is_member(c, r)) {
		sv_reply(sv, c,
			 r ? CORE_ERR_NOT_IN_ROOM : CORE_ERR_NO_SUCH_ROOM, name,
			 NULL, 0);
		return NULL;
	}
	return r;
}

static void
sv_part(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	struct reg_room *r = sv_member_room(sv, c, q->room);

	if (!r)
		return;
	struct outbox_new p = sv_by(c, OUTBOX_PART);
	p.aux = sv_announces(sv, r) ? OUTBOX_ANNOUNCE : 0;
	p.target = r->id;
	p.room = outbox_str(r->name);
	p.text = outbox_str(q->text);
	p.text.n = line_utf8_cut(p.text.p, p.text.n, CONFIG_REASON_MAX);
	sv_put(sv, &p);
	(void)registry_part(&sv->reg, c, r);
	sv_reply_ok(sv, c);
}

void
sv_room_info(struct supervisor *sv, const struct reg_client *c,
	     const struct reg_room *r)
{
	uint64_t ids[2] = {r->nmembers, (uint64_t)r->created_ms};
	char modes[MODES_TEXT_MAX];

	sv_mod_modes(sv, c, r, modes);

	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_ROOM_INFO,
		       .target = c->id,
		       .ids = ids,
		       .nids = 2,
		       .room = outbox_str(r->name),
		       .arg = outbox_str(modes),
		       .text = outbox_str(r->topic),
		   });
}

static void
sv_rooms(struct supervisor *sv, struct reg_client *c, const char *name)
{
	struct reg_room *one;

	if (name[0]) {
		one = registry_room_find(&sv->reg, name);
		if (one && !sv_mod_sees_room(sv, c, one))
			one = NULL;
		if (one)
			sv_room_info(sv, c, one);
		sv_reply(sv, c, one ? CORE_OK : CORE_ERR_NO_SUCH_ROOM, name,
			 NULL, 0);
		return;
	}
	/* Every room, with the registered rooms that are empty now. */
	sv_list_rooms(sv, c);
}

static void
sv_names_request(struct supervisor *sv, struct reg_client *c, const char *name)
{
	struct reg_room *r = registry_room_find(&sv->reg, name);

	if (!r || !sv_mod_sees_room(sv, c, r)) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_ROOM, name, NULL, 0);
		return;
	}
	sv_names(sv, c, r);
	sv_reply_ok(sv, c);
}

static void
sv_topic(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	struct reg_room *r = sv_member_room(sv, c, q->room);

	if (!r)
		return;
	/* Showing, or clearing what is not set, is answered with the
	 * topic as it is. */
	if (!(q->flags & CORE_TOPIC_SET) &&
	    (!(q->flags & CORE_TOPIC_CLEAR) || !r->topic[0])) {
		sv_topic_info(sv, c, r);
		sv_reply_ok(sv, c);
		return;
	}
	if (!sv_mod_may_topic(sv, c, r)) {
		sv_reply(sv, c, CORE_ERR_CHANOP_NEEDED, r->name, NULL, 0);
		return;
	}
	if (strlen(q->text) > CONFIG_TOPIC_MAX) {
		sv_reply(sv, c, CORE_ERR_TOPIC_TOO_LONG, r->name, NULL,
			 CONFIG_TOPIC_MAX);
		return;
	}
	/* The length was checked: the copy is whole. */
	if (q->flags & CORE_TOPIC_SET)
		memcpy(r->topic, q->text, strlen(q->text) + 1);
	else
		r->topic[0] = '\0';
	snprintf(r->topic_by, sizeof(r->topic_by), "%s", c->nick);
	r->topic_ms = sv_now_ms();
	sv_store_topic_set(sv, r);
	/* The record has the same time: the store keeps it as when. */
	struct outbox_new t = sv_by(c, OUTBOX_TOPIC);
	t.target = r->id;
	t.ts_ms = r->topic_ms;
	t.room = outbox_str(r->name);
	t.text = outbox_str(r->topic);
	sv_put(sv, &t);
	sv_reply_ok(sv, c);
}

static void
sv_resolve(struct supervisor *sv, struct reg_client *c, const char *nick)
{
	struct reg_client *t = registry_nick_find(&sv->reg, nick);

	if (!t || !t->visible) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_NICK, NULL, nick, 0);
		return;
	}
	c->active_ms = sv_now_ms();
	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_REPLY,
		       .target = c->id,
		       .ids = &t->id,
		       .nids = 1,
		       .arg = outbox_str(t->nick),
		       .text = outbox_str(t->away),
		   });
}

/* Copies the user name a protocol gave, keeping only what is safe in a
 * nick!user@host: letters, digits and ~ . _ - */
static void
sv_user_copy(char *out, size_t n, const char *in)
{
	size_t o = 0;

	for (; *in && o + 1 < n; in++)
		if (isalnum((unsigned char)*in) || strchr("~._-", *in))
			out[o++] = *in;
	out[o] = '\0';
}

/* The client is ready: others see it from now on, under the user and
 * real name it gave; the reply says how others see it. */
static void
sv_hello(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	char user[OUTBOX_USER_MAX + 1];
	size_t n;

	sv_user_copy(user, sizeof(user), q->arg);
	if (user[0])
		memcpy(c->user, user, sizeof(user));
	n = line_utf8_cut(q->text, strlen(q->text), CONFIG_REALNAME_MAX);
	memcpy(c->realname, q->text, n);
	c->realname[n] = '\0';
	registry_client_show(&sv->reg, c);
	if (q->flags & CORE_HELLO_LOBBY) {
		sv_join(sv, c, sv->cfg->default_room, "", q->flags);
		return;
	}
	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_REPLY,
		       .target = c->id,
		       .nick = outbox_str(c->nick),
		       .user = outbox_str(c->user),
		       .host = outbox_str(c->cloak),
		   });
}

/* Copies the request in payload into q; returns 0 or -1 if malformed. */
static int
sv_req_parse(const void *payload, int len, uint64_t *client, struct sv_req *q)
{
	struct channel_request req;
	size_t head = offsetof(struct channel_request, data);

	if ((size_t)len < head || (size_t)len > sizeof(req))
		return -1;
	memset(&req, 0, sizeof(req));
	memcpy(&req, payload, (size_t)len);
	if ((size_t)req.room_len + req.arg_len + req.text_len >
	    (size_t)len - head)
		goto bad;
	*client = req.client;
	q->op = (enum core_op_kind)req.op;
	q->flags = req.flags;
	q->num = req.num;
	memcpy(q->room, req.data, req.room_len);
	q->room[req.room_len] = '\0';
	memcpy(q->arg, req.data + req.room_len, req.arg_len);
	q->arg[req.arg_len] = '\0';
	memcpy(q->text, req.data + req.room_len + req.arg_len, req.text_len);
	q->text[req.text_len] = '\0';
	explicit_bzero(&req, sizeof(req)); /* it may carry a password */
	return 0;
bad:
	explicit_bzero(&req, sizeof(req));
	return -1;
}

/* ---- running requests ---------------------------------------------------- */

static int
sv_op_known(enum core_op_kind op)
{
	switch (op) {
	case CORE_HELLO:
	case CORE_NICK:
	case CORE_JOIN:
	case CORE_PART:
	case CORE_ROOMS:
	case CORE_NAMES:
	case CORE_TOPIC:
	case CORE_PRIVMSG:
	case CORE_HISTORY:
	case CORE_REGISTER:
	case CORE_LOGIN:
	case CORE_LOGOUT:
	case CORE_PASSWORD:
	case CORE_UNREGISTER:
	case CORE_WHO:
	case CORE_WHOIS:
	case CORE_USERS:
	case CORE_LUSERS:
	case CORE_MOTD:
	case CORE_AWAY:
	case CORE_MODE:
	case CORE_KICK:
	case CORE_BANS:
	case CORE_INVITE:
	case CORE_OPER:
	case CORE_KILL:
	case CORE_WALL:
	case CORE_GLINE:
	case CORE_ROOM_REGISTER:
	case CORE_ROOM_DROP:
	case CORE_ROOM_INFO:
	case CORE_ROOM_SAY:
		return 1;
	default:
		return 0;
	}
}

/* Clears q's strings if they may carry a password. */
static void
sv_req_forget(struct sv_req *q)
{
	if ((q->op >= CORE_REGISTER && q->op <= CORE_UNREGISTER) ||
	    q->op == CORE_OPER) {
		explicit_bzero(q->arg, sizeof(q->arg));
		explicit_bzero(q->text, sizeof(q->text));
	}
}

/* Runs q for c and forgets its strings: an account operation's carry a
 * password. */
static void
sv_request_run(struct supervisor *sv, struct reg_client *c, struct sv_req *q)
{
	switch (q->op) {
	case CORE_HELLO:
		sv_hello(sv, c, q);
		break;
	case CORE_NICK:
		sv_nick(sv, c, q->arg);
		break;
	case CORE_JOIN:
		sv_join(sv, c, q->room, q->arg, q->flags);
		break;
	case CORE_PART:
		sv_part(sv, c, q);
		break;
	case CORE_ROOMS:
		sv_rooms(sv, c, q->room);
		break;
	case CORE_NAMES:
		sv_names_request(sv, c, q->room);
		break;
	case CORE_TOPIC:
		sv_topic(sv, c, q);
		break;
	case CORE_PRIVMSG:
		sv_resolve(sv, c, q->arg);
		break;
	case CORE_HISTORY:
	case CORE_REGISTER:
	case CORE_LOGIN:
	case CORE_LOGOUT:
	case CORE_PASSWORD:
	case CORE_UNREGISTER:
		sv_store_request(sv, c, q);
		break;
	case CORE_WHO:
	case CORE_WHOIS:
	case CORE_USERS:
	case CORE_LUSERS:
	case CORE_MOTD:
	case CORE_AWAY:
		sv_info_request(sv, c, q);
		break;
	case CORE_MODE:
	case CORE_KICK:
	case CORE_BANS:
	case CORE_INVITE:
	case CORE_OPER:
	case CORE_KILL:
	case CORE_WALL:
	case CORE_GLINE:
		sv_mod_request(sv, c, q);
		break;
	case CORE_ROOM_REGISTER:
	case CORE_ROOM_DROP:
	case CORE_ROOM_INFO:
	case CORE_ROOM_SAY:
		sv_rooms_request(sv, c, q);
		break;
	default:
		break;
	}
	sv_req_forget(q);
	sv_commit(sv);
}

void
sv_defer_push(struct supervisor *sv, unsigned session, const void *payload,
	      int len)
{
	struct sv_deferred *d;
	long long now = loop_now_ms();

	d = malloc(sizeof(*d) + (size_t)len);
	if (!d)
		fatal("sv_defer");
	d->next = NULL;
	d->session = session;
	d->len = len;
	memcpy(d->payload, payload, (size_t)len);
	*sv->deferred_tail = d;
	sv->deferred_tail = &d->next;
	sv->ndeferred++;
	sv->deferrals++;
	sv->counts[METRICS_DEFERRED]++;
	if (now - sv->deferrals_logged_ms >= SV_DEBUG_EVERY_MS) {
		log_debug("%u request%s deferred since the last report: the "
			  "supervisor's ring waits for its readers (%u "
			  "waiting)",
			  sv->deferrals, sv->deferrals == 1 ? "" : "s",
			  sv->ndeferred);
		sv->deferrals = 0;
		sv->deferrals_logged_ms = now;
	}
	sv_flow_update(sv);
}

/* Keeps the request (one at most per client) until it fits. */
static void
sv_defer(struct supervisor *sv, struct sv_session *s, const void *payload,
	 int len)
{
	/* client_slots, not max_clients: a reload may lower the limit
	 * below the clients already connected; the store's answers are
	 * for clients too (one each). */
	if (sv->ndeferred >=
	    2 * (unsigned)sv->cfg->client_slots + sv->nsessions) {
		sv_session_bad(sv, s, "more requests than clients");
		return;
	}
	sv_defer_push(sv, s->index, payload, len);
}

/* Runs deferred entry d if it fits. Returns 0, or the worst case of d
 * when it does not. */
static size_t
sv_run_one(struct supervisor *sv, struct sv_deferred *d)
{
	static struct sv_req q;
	struct reg_client *c;
	uint64_t client = 0;
	size_t worst = 0;

	if (d->session == SV_DEFER_STORE) {
		worst = sv_store_answer_worst(sv, d->payload, d->len);
		/* Its records' mark and the reply's. */
		if (!sv_flow_fits(sv, worst, 2, 0))
			return worst;
		sv_store_answer_run(sv, d->payload, d->len);
		return 0;
	}
	/* It parsed when it came. */
	(void)sv_req_parse(d->payload, d->len, &client, &q);
	c = registry_client_get(&sv->reg, client);
	if (c && c->session == (int)d->session) {
		worst = sv_request_worst(sv, &q);
		if (sv_flow_fits(sv, worst, 1, 0)) {
			sv_request_run(sv, c, &q);
			worst = 0;
		}
	}
	sv_req_forget(&q);
	return worst;
}

size_t
sv_run_deferred(struct supervisor *sv)
{
	while (sv->deferred) {
		struct sv_deferred *d = sv->deferred;
		size_t worst = sv_run_one(sv, d);
		if (worst)
			return worst;
		sv->deferred = d->next;
		if (!sv->deferred)
			sv->deferred_tail = &sv->deferred;
		sv->ndeferred--;
		explicit_bzero(d->payload, (size_t)d->len);
		free(d);
	}
	return 0;
}

/* Runs or defers the parsed request q of session s. */
static void
sv_request_take(struct supervisor *sv, struct sv_session *s,
		const void *payload, int len, uint64_t client, struct sv_req *q)
{
	struct reg_client *c;

	if (!sv_op_known(q->op)) {
		sv_session_bad(sv, s, "unknown request");
		return;
	}
	c = registry_client_get(&sv->reg, client);
	if (!c)
		return; /* closed while the request was in flight */
	if (c->session != (int)s->index) {
		sv_session_bad(sv, s, "request for a foreign client");
		return;
	}
	/* In order: behind any that wait, or while the ring lacks room for
	 * the most it may write, it waits too. */
	if (sv->deferred || sv->nowed ||
	    !sv_flow_fits(sv, sv_request_worst(sv, q), 1, 0)) {
		sv_defer(sv, s, payload, len);
		return;
	}
	sv_request_run(sv, c, q);
}

void
sv_request(struct supervisor *sv, struct sv_session *s, const void *payload,
	   int len)
{
	static struct sv_req q;
	uint64_t client;

	if (sv_req_parse(payload, len, &client, &q) < 0) {
		sv_session_bad(sv, s, "malformed request");
		return;
	}
	sv_request_take(sv, s, payload, len, client, &q);
	sv_req_forget(&q);
}
