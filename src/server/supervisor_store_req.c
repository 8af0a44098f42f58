/*
 * supervisor_store_req: the requests the store answers, on the
 * supervisor's side: history (of a join, or CORE_HISTORY) and the account
 * operations are checked here, forwarded over the store's channel and
 * finished when it answers (the store's records first, then the reply);
 * logging out and the registered-nickname check need no store at all.
 * Supervisor only; nothing here waits for the store.
 */
#include "lib/log.h"
#include "server/names.h"
#include "server/supervisor_int.h"

#include <stdio.h>
#include <string.h>

/* ---- answers ------------------------------------------------------------- */

static void
sv_store_account_record(struct supervisor *sv, struct reg_client *c)
{
	uint64_t ids[CONFIG_ROOMS_PER_CLIENT_MAX];
	struct outbox_new a = sv_by(c, OUTBOX_ACCOUNT);

	a.ids = ids;
	a.nids = sv_room_ids_all(c, ids);
	sv_put(sv, &a);
}

/* c is now logged in to account (or out, for ""). */
static void
sv_store_set_account(struct supervisor *sv, struct reg_client *c,
		     const char *account)
{
	snprintf(c->account, sizeof(c->account), "%s", account);
	if (account[0])
		log_info("client %s (%s) logged in as %s", c->nick, c->addr,
			 account);
	else
		log_info("client %s (%s) logged out", c->nick, c->addr);
	sv_store_account_record(sv, c);
}

static int
sv_store_same(const char *a, const char *b)
{
	char fa[CONFIG_NICK_MAX + 1], fb[CONFIG_NICK_MAX + 1];

	names_fold(a, fa, sizeof(fa));
	names_fold(b, fb, sizeof(fb));
	return strcmp(fa, fb) == 0;
}

static void
sv_store_logged_in(struct supervisor *sv, struct reg_client *c,
		   const struct sv_store_req *r, const char *account)
{
	sv_store_set_account(sv, c, account);
	/* The account's nickname comes with it, when it is free. */
	if (r->op == CORE_LOGIN && !(r->flags & CORE_LOGIN_KEEP_NICK) &&
	    !sv_store_same(c->nick, account) &&
	    !registry_nick_find(&sv->reg, account))
		(void)sv_nick_change(sv, c, account);
	sv_rooms_logged_in(sv, c);
	sv_reply(sv, c, CORE_OK, NULL, account, 0);
}

/* Every client logged in to account leaves it (it was deleted). */
static void
sv_store_unregistered(struct supervisor *sv, const char *account)
{
	sv_rooms_account_gone(sv, account);
	for (int i = 0; i < sv->cfg->client_slots; i++) {
		struct reg_client *o = &sv->reg.clients[i];
		if (o->id && o->account[0] &&
		    sv_store_same(o->account, account))
			sv_store_set_account(sv, o, "");
	}
}

size_t
sv_store_finish_worst(const struct supervisor *sv, const struct sv_store_req *r,
		      const struct channel_store_done *d)
{
	size_t reply = outbox_rec_bound(1, 0);
	size_t moved = outbox_rec_bound(CONFIG_ROOMS_PER_CLIENT_MAX, 0);
	unsigned n = 0;

	if (r->op == CORE_JOIN)
		return outbox_rec_bound(0, 0) + reply; /* a warning */
	if (d->err != CORE_OK)
		return reply;
	switch (r->op) {
	case CORE_REGISTER:
	case CORE_LOGIN:
		/* The account record, the account's nickname, and operator
		 * status in the registered rooms it runs. */
		return 2 * moved +
		       CONFIG_ROOMS_PER_CLIENT_MAX *
			   outbox_rec_bound(3, CONFIG_NICK_MAX + 4) +
		       reply;
	case CORE_UNREGISTER:
		/* Everyone logged in to it leaves it. */
		for (int i = 0; i < sv->cfg->client_slots; i++)
			if (sv->reg.clients[i].id &&
			    sv->reg.clients[i].account[0])
				n++;
		return n * moved + reply;
	default:
		return reply;
	}
}

void
sv_store_finish(struct supervisor *sv, const struct sv_store_req *r,
		const struct channel_store_done *d)
{
	struct reg_client *c = registry_client_get(&sv->reg, r->client);
	enum core_err err = (enum core_err)d->err;

	if (!c)
		return; /* it left meanwhile */
	switch (r->op) {
	case CORE_JOIN: {
		struct reg_room *room = registry_room_get(&sv->reg, r->room);
		if (err != CORE_OK)
			sv_put(sv, &(struct outbox_new){
				       .kind = OUTBOX_WARNING,
				       .aux = (uint16_t)err,
				       .target = c->id,
				       .room = outbox_str(r->room_name),
				   });
		sv_reply(sv, c, CORE_OK, room ? room->name : r->room_name, NULL,
			 r->room);
		return;
	}
	case CORE_HISTORY:
		sv_reply(sv, c, err, r->room_name, d->arg,
			 err == CORE_OK ? d->count : d->num);
		return;
	case CORE_OPER:
		sv_oper_checked(sv, c, r->room_name, err);
		return;
	default:
		break;
	}
	if (err != CORE_OK) {
		sv_reply(sv, c, err, NULL, d->arg, d->num);
		return;
	}
	if (r->op == CORE_REGISTER || r->op == CORE_LOGIN) {
		sv_store_logged_in(sv, c, r, d->name);
		return;
	}
	if (r->op == CORE_UNREGISTER)
		sv_store_unregistered(sv, d->name);
	sv_reply(sv, c, CORE_OK, NULL, d->name, 0);
}

/* ---- requests ------------------------------------------------------------ */

int
sv_store_nick_taken(const struct supervisor *sv, const struct reg_client *c,
		    const char *nick)
{
	char folded[CONFIG_NICK_MAX + 1];

	if (sv->store.state == SV_STORE_OFF)
		return 0;
	names_fold(nick, folded, sizeof(folded));
	if (!strmap_get(&sv->store.registered, folded))
		return 0;
	return !c->account[0] || !sv_store_same(c->account, nick);
}

/* The error that keeps the store from answering now, or CORE_OK. */
static enum core_err
sv_store_unavailable(const struct supervisor *sv)
{
	const struct sv_store *st = &sv->store;

	if (st->state == SV_STORE_OFF)
		return CORE_ERR_NO_STORE;
	if (st->state != SV_STORE_UP || st->health[0] || !st->chan_open ||
	    st->q_len >= st->q_cap)
		return CORE_ERR_STORE_DOWN;
	return CORE_OK;
}

/* Queues r (its tag set here) after sending the message. Returns 0, or
 * -1 when the channel is full (the store is stuck). */
static int
sv_store_send(struct supervisor *sv, struct sv_store_req *r, uint16_t type,
	      void *msg, size_t len, uint64_t *tag)
{
	struct sv_store *st = &sv->store;

	r->tag = *tag = ++st->next_tag;
	if (channel_send(&st->chan, type, msg, len, -1, SV_CHANNEL_QUEUE) < 0) {
		sv_store_bad(sv, "its channel is full");
		return -1;
	}
	st->q[(st->q_head + st->q_len) % st->q_cap] = *r;
	st->q_len++;
	return 0;
}

static int
sv_store_history(struct supervisor *sv, struct sv_store_req *r,
		 unsigned selector, const char *ref, const char *ref2,
		 unsigned limit)
{
	struct channel_store_history m;

	memset(&m, 0, sizeof(m));
	m.client = r->client;
	/* Everything in the timeline so far is before this request. */
	m.tl_pos = outbox_timeline_head(&sv->shm);
	m.selector = (uint16_t)selector;
	m.limit =
	    (uint16_t)(limit > STORE_HISTORY_MAX ? STORE_HISTORY_MAX : limit);
	snprintf(m.room, sizeof(m.room), "%s", r->room_name);
	snprintf(m.ref, sizeof(m.ref), "%s", ref);
	snprintf(m.ref2, sizeof(m.ref2), "%s", ref2);
	return sv_store_send(sv, r, CHANNEL_STORE_HISTORY, &m, sizeof(m),
			     &m.tag);
}

int
sv_store_join(struct supervisor *sv, struct reg_client *c, struct reg_room *r)
{
	struct sv_store_req q = {
	    .client = c->id, .op = CORE_JOIN, .room = r->id};
	enum core_err err = sv_store_unavailable(sv);

	if (sv->cfg->history <= 0)
		return 0;
	if (err == CORE_ERR_NO_STORE) {
		sv_history(sv, c, r);
		return 0;
	}
	snprintf(q.room_name, sizeof(q.room_name), "%s", r->name);
	/* The join and its topic are in the timeline before the request. */
	sv_commit(sv);
	if (err == CORE_OK &&
	    sv_store_history(sv, &q, CORE_HISTORY_LATEST, "*", "",
			     (unsigned)sv->cfg->history) == 0)
		return 1;
	sv_put(sv, &(struct outbox_new){.kind = OUTBOX_WARNING,
					.aux = CORE_ERR_STORE_DOWN,
					.target = c->id,
					.room = outbox_str(r->name)});
	return 0;
}

/* The host part of "HOST:PORT" or "[HOST]:PORT", for per-address limits
 * (loopback included: every address counts here). */
static void
sv_store_host(const char *addr, char *out, size_t n)
{
	const char *end =
	    addr[0] == '[' ? strchr(addr, ']') : strrchr(addr, ':');
	size_t len = end ? (size_t)(end - addr) : strlen(addr);

	if (addr[0] == '[' && len > 0) {
		addr++;
		len--;
	}
	snprintf(out, n, "%.*s", (int)len, addr);
}

/* Copies src into dst (n bytes), cut; passwords are never formatted. */
static void
sv_store_copy(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
sv_store_account_op(struct supervisor *sv, struct reg_client *c,
		    const struct sv_req *q)
{
	struct sv_store_req r = {.client = c->id,
				 .op = (uint16_t)q->op,
				 .flags = (uint16_t)q->flags};
	struct channel_store_account m;
	const char *name = c->account;

	memset(&m, 0, sizeof(m));
	m.client = c->id;
	m.op = (uint16_t)q->op;
	sv_store_host(c->addr, m.addr, sizeof(m.addr));
	if (q->op == CORE_REGISTER) {
		name = c->nick;
		sv_store_copy(m.pass, sizeof(m.pass), q->text);
	} else if (q->op == CORE_LOGIN) {
		name = q->arg[0] ? q->arg : c->nick;
		sv_store_copy(m.pass, sizeof(m.pass), q->text);
	} else if (q->op == CORE_PASSWORD) {
		sv_store_copy(m.pass, sizeof(m.pass), q->arg);
		sv_store_copy(m.pass2, sizeof(m.pass2), q->text);
	} else {
		sv_store_copy(m.pass, sizeof(m.pass), q->text);
	}
	sv_store_copy(m.name, sizeof(m.name), name);
	if (sv_store_send(sv, &r, CHANNEL_STORE_ACCOUNT, &m, sizeof(m),
			  &m.tag) < 0)
		sv_reply(sv, c, CORE_ERR_STORE_DOWN, NULL, NULL, 0);
	explicit_bzero(&m, sizeof(m));
}

int
sv_store_oper(struct supervisor *sv, struct reg_client *c, const char *name,
	      const char *pass, const char *hash)
{
	struct sv_store_req r = {.client = c->id, .op = CORE_OPER};
	struct channel_store_account m;
	int sent;

	if (sv_store_unavailable(sv) != CORE_OK ||
	    strlen(hash) >= sizeof(m.pass2) || strlen(pass) >= sizeof(m.pass))
		return 0;
	memset(&m, 0, sizeof(m));
	m.client = c->id;
	m.op = CORE_OPER;
	sv_store_copy(m.name, sizeof(m.name), name);
	sv_store_copy(m.pass, sizeof(m.pass), pass);
	sv_store_copy(m.pass2, sizeof(m.pass2), hash);
	sv_store_copy(r.room_name, sizeof(r.room_name), name);
	sv_store_host(c->addr, m.addr, sizeof(m.addr));
	sent = sv_store_send(sv, &r, CHANNEL_STORE_ACCOUNT, &m, sizeof(m),
			     &m.tag) == 0;
	explicit_bzero(&m, sizeof(m));
	return sent;
}

static void
sv_store_logout(struct supervisor *sv, struct reg_client *c)
{
	char guest[CONFIG_NICK_MAX + 1];

	if (!c->account[0]) {
		sv_reply(sv, c, CORE_ERR_NOT_LOGGED_IN, NULL, NULL, 0);
		return;
	}
	sv_store_set_account(sv, c, "");
	/* Nobody keeps a registered nickname without its account. */
	if (sv_store_nick_taken(sv, c, c->nick)) {
		registry_guest_nick(&sv->reg, guest);
		(void)sv_nick_change(sv, c, guest);
	}
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

/* Refusals the supervisor can make alone. Returns 1 if it replied. */
static int
sv_store_refuse(struct supervisor *sv, struct reg_client *c,
		const struct sv_req *q)
{
	const char *name = q->arg[0] ? q->arg : c->nick;
	enum core_err err = sv_store_unavailable(sv);

	if (q->op == CORE_REGISTER || q->op == CORE_LOGIN) {
		if (c->account[0]) {
			sv_reply(sv, c, CORE_ERR_LOGGED_IN, NULL, c->account,
				 0);
			return 1;
		}
		if (q->op == CORE_LOGIN && !names_nick_valid(name)) {
			sv_reply(sv, c, CORE_ERR_LOGIN_FAILED, NULL, name, 0);
			return 1;
		}
	} else if (q->op != CORE_HISTORY && !c->account[0]) {
		sv_reply(sv, c, CORE_ERR_NOT_LOGGED_IN, NULL, NULL, 0);
		return 1;
	}
	if (err != CORE_OK) {
		sv_reply(sv, c, err, q->room, NULL, 0);
		return 1;
	}
	if (q->op == CORE_REGISTER && sv_store_nick_taken(sv, c, c->nick)) {
		sv_reply(sv, c, CORE_ERR_ACCOUNT_EXISTS, NULL, c->nick, 0);
		return 1;
	}
	return 0;
}

void
sv_store_request(struct supervisor *sv, struct reg_client *c,
		 const struct sv_req *q)
{
	struct reg_room *room = NULL;

	if (q->op == CORE_LOGOUT) {
		sv_store_logout(sv, c);
		return;
	}
	if (q->op == CORE_HISTORY) {
		room = registry_room_find(&sv->reg, q->room);
		if (!room || !registry_is_member(c, room)) {
			sv_reply(sv, c, CORE_ERR_NOT_IN_ROOM, q->room, NULL, 0);
			return;
		}
	}
	if (sv_store_refuse(sv, c, q))
		return;
	if (q->op != CORE_HISTORY || !room) {
		sv_store_account_op(sv, c, q);
		return;
	}
	struct sv_store_req r = {.client = c->id, .op = CORE_HISTORY};
	snprintf(r.room_name, sizeof(r.room_name), "%s", room->name);
	unsigned limit =
	    q->num ? q->num
		   : (unsigned)(sv->cfg->history > 0 ? sv->cfg->history : 20);
	if (sv_store_history(sv, &r, CORE_HISTORY_SELECTOR(q->flags), q->arg,
			     q->text, limit) < 0)
		sv_reply(sv, c, CORE_ERR_STORE_DOWN, q->room, NULL, 0);
}
