/*
 * supervisor_rooms: registered rooms. A logged-in operator registers a
 * room to its account (the founder); the supervisor keeps each registered
 * room's state (modes, key, limit, bans, operator accounts) while the
 * room is empty too, gives it back when the room is made again, and tells
 * the store every change as it happens (never waiting for it). Server
 * bans are written to the store from here as well. Supervisor only.
 */
#include "lib/log.h"
#include "lib/mask.h"
#include "lib/strmap.h"
#include "server/modes.h"
#include "server/names.h"
#include "server/supervisor_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SV_ROOM_OPS_MAX 32   /* operator accounts a registered room keeps */
#define SV_ROOMS_MAX	4096 /* registered rooms, as STORE_TOPICS_MAX */

/* A registered room, whether it exists now or not. */
struct sv_room_reg {
	struct sv_room_reg *next;
	char name[CONFIG_ROOM_MAX + 2];
	char founder[OUTBOX_ACCT_MAX + 1];
	int64_t at_ms;
	unsigned modes;
	char key[MODES_KEY_MAX + 1];
	unsigned limit;
	unsigned nops;
	char ops[SV_ROOM_OPS_MAX][OUTBOX_ACCT_MAX + 1];
	unsigned nbans;
	struct reg_ban bans[REGISTRY_BANS_MAX];
};

struct sv_rooms {
	struct strmap by_name; /* folded name -> struct sv_room_reg */
	struct sv_room_reg *all;
};

/* ---- the table ----------------------------------------------------------- */

static struct sv_rooms *
sv_rooms_table(struct supervisor *sv)
{
	if (!sv->rooms && !(sv->rooms = calloc(1, sizeof(*sv->rooms))))
		log_warn("out of memory for registered rooms");
	return sv->rooms;
}

static struct sv_room_reg *
sv_rooms_find(struct supervisor *sv, const char *name)
{
	char folded[CONFIG_ROOM_MAX + 2];

	if (!sv->rooms)
		return NULL;
	names_fold(name, folded, sizeof(folded));
	return strmap_get(&sv->rooms->by_name, folded);
}

static struct sv_room_reg *
sv_rooms_add(struct supervisor *sv, const char *name)
{
	struct sv_rooms *t = sv_rooms_table(sv);
	char folded[CONFIG_ROOM_MAX + 2];
	struct sv_room_reg *e;

	if (!t || t->by_name.used >= SV_ROOMS_MAX ||
	    !(e = calloc(1, sizeof(*e))))
		return NULL;
	names_fold(name, folded, sizeof(folded));
	if (strmap_put(&t->by_name, folded, e) < 0) {
		free(e);
		return NULL;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->next = t->all;
	t->all = e;
	return e;
}

static void
sv_rooms_del(struct supervisor *sv, struct sv_room_reg *e)
{
	char folded[CONFIG_ROOM_MAX + 2];

	names_fold(e->name, folded, sizeof(folded));
	(void)strmap_del(&sv->rooms->by_name, folded);
	for (struct sv_room_reg **p = &sv->rooms->all; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			break;
		}
	free(e);
}

void
sv_rooms_free(struct supervisor *sv)
{
	if (!sv->rooms)
		return;
	for (struct sv_room_reg *e = sv->rooms->all, *next; e; e = next) {
		next = e->next;
		free(e);
	}
	strmap_free(&sv->rooms->by_name);
	free(sv->rooms);
	sv->rooms = NULL;
}

static int
sv_rooms_same(const char *a, const char *b)
{
	char fa[OUTBOX_ACCT_MAX + 1], fb[OUTBOX_ACCT_MAX + 1];

	names_fold(a, fa, sizeof(fa));
	names_fold(b, fb, sizeof(fb));
	return strcmp(fa, fb) == 0;
}

static int
sv_rooms_op_index(const struct sv_room_reg *e, const char *account)
{
	for (unsigned i = 0; i < e->nops; i++)
		if (sv_rooms_same(e->ops[i], account))
			return (int)i;
	return -1;
}

/* ---- to the store -------------------------------------------------------- */

static void
sv_rooms_send(struct supervisor *sv, const struct channel_store_room *m)
{
	struct sv_store *st = &sv->store;

	/* A store that is down misses the change: the supervisor's table
	 * stays right for this run. */
	if (st->state == SV_STORE_OFF || !st->chan_open)
		return;
	if (channel_send(&st->chan, CHANNEL_STORE_ROOM, m, sizeof(*m), -1,
			 SV_CHANNEL_QUEUE) < 0)
		log_warn("cannot tell the store of a change to %s",
			 m->room[0] ? m->room : "the server bans");
}

static void
sv_rooms_tell(struct supervisor *sv, const struct sv_room_reg *e,
	      enum channel_room_op op, const char *who, const char *mask,
	      int64_t at_ms)
{
	struct channel_store_room m;

	memset(&m, 0, sizeof(m));
	m.op = (uint16_t)op;
	m.modes = e->modes;
	m.limit = e->limit;
	m.at_ms = at_ms;
	snprintf(m.room, sizeof(m.room), "%s", e->name);
	snprintf(m.who, sizeof(m.who), "%s", who ? who : "");
	snprintf(m.key, sizeof(m.key), "%s", e->key);
	snprintf(m.mask, sizeof(m.mask), "%s", mask ? mask : "");
	sv_rooms_send(sv, &m);
}

void
sv_rooms_gline_tell(struct supervisor *sv, int add, const char *mask,
		    const char *by, const char *reason, int64_t at_ms)
{
	struct channel_store_room m;

	memset(&m, 0, sizeof(m));
	m.op = add ? CHANNEL_GLINE_ADD : CHANNEL_GLINE_DEL;
	m.at_ms = at_ms;
	snprintf(m.mask, sizeof(m.mask), "%s", mask);
	snprintf(m.who, sizeof(m.who), "%s", by ? by : "");
	snprintf(m.text, sizeof(m.text), "%s", reason ? reason : "");
	sv_rooms_send(sv, &m);
}

/* ---- keeping a registered room's state ---------------------------------- */

static int
sv_rooms_has_ban(const struct reg_ban *bans, unsigned n, const char *mask)
{
	for (unsigned i = 0; i < n; i++)
		if (strcasecmp(bans[i].mask, mask) == 0)
			return 1;
	return 0;
}

void
sv_rooms_sync(struct supervisor *sv, const struct reg_room *r)
{
	struct sv_room_reg *e = sv_rooms_find(sv, r->name);
	const struct reg_ban *now = r->mod.bans;
	unsigned n = r->mod.bans ? r->mod.nbans : 0;

	if (!e)
		return;
	if (e->modes != r->mod.modes || e->limit != r->mod.limit ||
	    strcmp(e->key, r->mod.key) != 0) {
		e->modes = r->mod.modes;
		e->limit = r->mod.limit;
		memcpy(e->key, r->mod.key, sizeof(e->key));
		sv_rooms_tell(sv, e, CHANNEL_ROOM_STATE, NULL, NULL, 0);
	}
	for (unsigned i = 0; i < e->nbans; i++)
		if (!sv_rooms_has_ban(now, n, e->bans[i].mask))
			sv_rooms_tell(sv, e, CHANNEL_ROOM_BAN_DEL, NULL,
				      e->bans[i].mask, 0);
	for (unsigned i = 0; i < n; i++)
		if (!sv_rooms_has_ban(e->bans, e->nbans, now[i].mask))
			sv_rooms_tell(sv, e, CHANNEL_ROOM_BAN_ADD, now[i].by,
				      now[i].mask, now[i].at_ms);
	if (n)
		memcpy(e->bans, now, n * sizeof(*now));
	e->nbans = n;
}

void
sv_rooms_status(struct supervisor *sv, const struct reg_room *r,
		const struct reg_client *t, char sign)
{
	struct sv_room_reg *e = sv_rooms_find(sv, r->name);
	int i;

	if (!e || !t->account[0] || sv_rooms_same(e->founder, t->account))
		return;
	i = sv_rooms_op_index(e, t->account);
	if (sign == '+' && i < 0 && e->nops < SV_ROOM_OPS_MAX) {
		snprintf(e->ops[e->nops++], sizeof(e->ops[0]), "%s",
			 t->account);
		sv_rooms_tell(sv, e, CHANNEL_ROOM_OP_ADD, t->account, NULL, 0);
	} else if (sign == '-' && i >= 0) {
		sv_rooms_tell(sv, e, CHANNEL_ROOM_OP_DEL, e->ops[i], NULL, 0);
		memmove(e->ops[i], e->ops[i + 1],
			(e->nops - (unsigned)i - 1) * sizeof(e->ops[0]));
		e->nops--;
	}
}

int
sv_rooms_joined(struct supervisor *sv, const struct reg_client *c,
		struct reg_room *r, uint8_t *f)
{
	struct sv_room_reg *e = sv_rooms_find(sv, r->name);

	if (!e)
		return 0;
	if (r->nmembers == 1) {
		/* Made again: it has what it had, and nobody runs it but
		 * its founder and operator accounts. */
		r->mod.modes = e->modes;
		r->mod.limit = e->limit;
		memcpy(r->mod.key, e->key, sizeof(r->mod.key));
		if (e->nbans && !r->mod.bans)
			r->mod.bans =
			    calloc(REGISTRY_BANS_MAX, sizeof(*r->mod.bans));
		if (r->mod.bans) {
			memcpy(r->mod.bans, e->bans,
			       e->nbans * sizeof(e->bans[0]));
			r->mod.nbans = e->nbans;
		}
	}
	if (f && sv_rooms_trusted(sv, c, r->name)) {
		*f |= OUTBOX_MEMBER_OP;
		log_info("%s is an operator of registered room %s (account "
			 "%s)",
			 c->nick, r->name, c->account);
	}
	return 1;
}

int
sv_rooms_trusted(struct supervisor *sv, const struct reg_client *c,
		 const char *name)
{
	struct sv_room_reg *e = sv_rooms_find(sv, name);

	return e && c->account[0] &&
	       (sv_rooms_same(e->founder, c->account) ||
		sv_rooms_op_index(e, c->account) >= 0);
}

int
sv_rooms_may_join(struct supervisor *sv, struct reg_client *c, const char *name,
		  const char *key)
{
	struct sv_room_reg *e = sv_rooms_find(sv, name);
	struct mask_who who = {c->nick, c->user, c->cloak, c->account};
	enum core_err err = CORE_OK;
	int banned = 0;

	if (!e || c->oper[0] || sv_rooms_trusted(sv, c, name))
		return 1;
	for (unsigned i = 0; i < e->nbans; i++)
		banned |= mask_match(e->bans[i].mask, &who);
	if (banned)
		err = CORE_ERR_BANNED;
	else if (e->modes & MODES_INVITE)
		err = CORE_ERR_INVITE_ONLY;
	else if ((e->modes & MODES_KEY) && strcmp(key, e->key) != 0)
		err = CORE_ERR_BAD_KEY;
	if (err == CORE_OK)
		return 1;
	log_info("client %s (%s) may not join %s: %s", c->nick, c->addr,
		 e->name, core_err_name(err));
	sv_reply(sv, c, err, e->name, NULL, 0);
	return 0;
}

void
sv_rooms_logged_in(struct supervisor *sv, struct reg_client *c)
{
	char text[CONFIG_NICK_MAX + 4];

	for (unsigned i = 0; i < c->nrooms; i++) {
		struct reg_room *r = c->rooms[i];
		uint8_t *f = registry_member_flags(&sv->reg, c, r);
		if (!f || (*f & OUTBOX_MEMBER_OP) ||
		    !sv_rooms_trusted(sv, c, r->name))
			continue;
		*f |= OUTBOX_MEMBER_OP;
		uint64_t ids[3] = {r->mod.modes, c->id, *f};
		snprintf(text, sizeof(text), "+o %s", c->nick);
		/* Set by ChanServ, as IRC has it. */
		sv_put(sv, &(struct outbox_new){
			       .kind = OUTBOX_MODE,
			       .target = r->id,
			       .ids = ids,
			       .nids = 3,
			       .nick = outbox_str("ChanServ"),
			       .user = outbox_str("ChanServ"),
			       .host = outbox_str(sv->cfg->server_name),
			       .room = outbox_str(r->name),
			       .text = outbox_str(text),
			   });
		log_info("%s is an operator of registered room %s (account "
			 "%s)",
			 c->nick, r->name, c->account);
	}
}

int
sv_rooms_registered(struct supervisor *sv, const char *name)
{
	return sv_rooms_find(sv, name) != NULL;
}

/* ---- -n: messages from outside ------------------------------------------ */

/* A message to a room c is not in: only a -n room takes it, and not when
 * c may not speak there (+m, a ban). */
static void
sv_rooms_say(struct supervisor *sv, struct reg_client *c,
	     const struct sv_req *q)
{
	struct reg_room *r = registry_room_find(&sv->reg, q->room);
	struct mask_who who = {c->nick, c->user, c->cloak, c->account};
	int banned = 0;

	if (!r || !sv_mod_sees_room(sv, c, r)) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_ROOM, q->room, NULL, 0);
		return;
	}
	for (unsigned i = 0; r->mod.bans && i < r->mod.nbans; i++)
		banned |= mask_match(r->mod.bans[i].mask, &who);
	if (!c->oper[0] && (r->mod.modes & MODES_NO_OUTSIDE)) {
		sv_reply(sv, c, CORE_ERR_NOT_IN_ROOM, r->name, NULL, 0);
		return;
	}
	if (!c->oper[0] && ((r->mod.modes & MODES_MODERATED) || banned)) {
		sv_reply(sv, c, CORE_ERR_CANNOT_SEND, r->name, NULL, 0);
		return;
	}
	if (q->text[0]) {
		struct outbox_new m = sv_by(c, OUTBOX_MSG);
		m.aux = (uint16_t)(q->flags &
				   (OUTBOX_MSG_ACTION | OUTBOX_MSG_NOTICE |
				    OUTBOX_MSG_CTCP));
		m.target = r->id;
		m.room = outbox_str(r->name);
		m.text = outbox_str(q->text);
		sv_put(sv, &m);
	}
	sv_reply(sv, c, CORE_OK, r->name, NULL, 0);
}

/* ---- requests ------------------------------------------------------------ */

static void
sv_rooms_register(struct supervisor *sv, struct reg_client *c,
		  const struct sv_req *q)
{
	struct reg_room *r = registry_room_find(&sv->reg, q->room);
	struct sv_room_reg *e;
	const uint8_t *f;

	if (sv->store.state == SV_STORE_OFF) {
		sv_reply(sv, c, CORE_ERR_NO_STORE, NULL, NULL, 0);
		return;
	}
	if (!r || !sv_mod_sees_room(sv, c, r)) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_ROOM, q->room, NULL, 0);
		return;
	}
	if (strcasecmp(r->name, sv->cfg->default_room) == 0) {
		sv_reply(sv, c, CORE_ERR_ROOM_SERVERS, r->name, NULL, 0);
		return;
	}
	if ((e = sv_rooms_find(sv, r->name))) {
		sv_reply(sv, c, CORE_ERR_ROOM_REGISTERED, r->name, e->founder,
			 0);
		return;
	}
	f = registry_member_flags(&sv->reg, c, r);
	if (!c->oper[0] && !(f && (*f & OUTBOX_MEMBER_OP))) {
		sv_reply(sv, c, CORE_ERR_CHANOP_NEEDED, r->name, NULL, 0);
		return;
	}
	if (!c->account[0]) {
		sv_reply(sv, c, CORE_ERR_NOT_LOGGED_IN, r->name, NULL, 0);
		return;
	}
	if (sv_rooms_count(sv) >= SV_ROOMS_MAX) {
		sv_reply(sv, c, CORE_ERR_SERVER_ROOMS, r->name, NULL,
			 SV_ROOMS_MAX);
		return;
	}
	if (!(e = sv_rooms_add(sv, r->name))) {
		sv_reply(sv, c, CORE_ERR_UNAVAILABLE, r->name, NULL, 0);
		return;
	}
	snprintf(e->founder, sizeof(e->founder), "%s", c->account);
	e->at_ms = sv_mod_now_ms();
	sv_rooms_tell(sv, e, CHANNEL_ROOM_REGISTER, e->founder, NULL, e->at_ms);
	/* Its present state is the first to keep. */
	e->modes = ~r->mod.modes;
	sv_rooms_sync(sv, r);
	log_info("moderation: %s registered %s to account %s", sv_mod_who(c),
		 r->name, e->founder);
	sv_reply(sv, c, CORE_OK, r->name, e->founder, (uint64_t)e->at_ms);
}

static void
sv_rooms_drop(struct supervisor *sv, struct reg_client *c,
	      const struct sv_req *q)
{
	struct sv_room_reg *e = sv_rooms_find(sv, q->room);
	char name[CONFIG_ROOM_MAX + 2];

	if (!e) {
		sv_reply(sv, c, CORE_ERR_ROOM_UNREGISTERED, q->room, NULL, 0);
		return;
	}
	if (!c->oper[0] &&
	    (!c->account[0] || !sv_rooms_same(e->founder, c->account))) {
		sv_reply(sv, c, CORE_ERR_NOT_FOUNDER, e->name, e->founder, 0);
		return;
	}
	sv_rooms_tell(sv, e, CHANNEL_ROOM_DROP, NULL, NULL, 0);
	snprintf(name, sizeof(name), "%s", e->name);
	log_info("moderation: %s dropped the registration of %s (founder %s)",
		 sv_mod_who(c), e->name, e->founder);
	sv_rooms_del(sv, e);
	sv_reply(sv, c, CORE_OK, name, NULL, 0);
}

void
sv_rooms_request(struct supervisor *sv, struct reg_client *c,
		 const struct sv_req *q)
{
	struct sv_room_reg *e;

	switch (q->op) {
	case CORE_ROOM_REGISTER:
		sv_rooms_register(sv, c, q);
		return;
	case CORE_ROOM_DROP:
		sv_rooms_drop(sv, c, q);
		return;
	case CORE_ROOM_INFO:
		e = sv_rooms_find(sv, q->room);
		if (!e)
			sv_reply(sv, c, CORE_ERR_ROOM_UNREGISTERED, q->room,
				 NULL, 0);
		else
			sv_reply(sv, c, CORE_OK, e->name, e->founder,
				 (uint64_t)e->at_ms);
		return;
	default:
		sv_rooms_say(sv, c, q);
		return;
	}
}

/* The account was deleted: the rooms it founded are registered no more,
 * and it runs none. */
void
sv_rooms_account_gone(struct supervisor *sv, const char *account)
{
	struct sv_room_reg *e, *next;
	int i;

	for (e = sv->rooms ? sv->rooms->all : NULL; e; e = next) {
		next = e->next;
		if (sv_rooms_same(e->founder, account)) {
			log_info("%s is no longer registered: account %s is "
				 "gone",
				 e->name, account);
			sv_rooms_tell(sv, e, CHANNEL_ROOM_DROP, NULL, NULL, 0);
			sv_rooms_del(sv, e);
		} else if ((i = sv_rooms_op_index(e, account)) >= 0) {
			sv_rooms_tell(sv, e, CHANNEL_ROOM_OP_DEL, e->ops[i],
				      NULL, 0);
			memmove(e->ops[i], e->ops[i + 1],
				(e->nops - (unsigned)i - 1) *
				    sizeof(e->ops[0]));
			e->nops--;
		}
	}
}

/* ---- start-up ------------------------------------------------------------ */

void
sv_rooms_resync(struct supervisor *sv)
{
	struct channel_store_room m;

	memset(&m, 0, sizeof(m));
	m.op = CHANNEL_ROOMS_RESET;
	sv_rooms_send(sv, &m);
	for (struct sv_room_reg *e = sv->rooms ? sv->rooms->all : NULL; e;
	     e = e->next) {
		sv_rooms_tell(sv, e, CHANNEL_ROOM_REGISTER, e->founder, NULL,
			      e->at_ms);
		sv_rooms_tell(sv, e, CHANNEL_ROOM_STATE, NULL, NULL, 0);
		for (unsigned i = 0; i < e->nops; i++)
			sv_rooms_tell(sv, e, CHANNEL_ROOM_OP_ADD, e->ops[i],
				      NULL, 0);
		for (unsigned i = 0; i < e->nbans; i++)
			sv_rooms_tell(sv, e, CHANNEL_ROOM_BAN_ADD,
				      e->bans[i].by, e->bans[i].mask,
				      e->bans[i].at_ms);
	}
	sv_mod_gline_resync(sv);
}

void
sv_rooms_load(struct supervisor *sv, const void *payload, int len)
{
	struct channel_store_room m;
	struct sv_room_reg *e;

	if ((size_t)len != sizeof(m) || sv->store.state != SV_STORE_STARTING ||
	    sv->store.topics_loaded) {
		sv_store_bad(sv, "unexpected ROOM_LOAD");
		return;
	}
	memcpy(&m, payload, sizeof(m));
	m.room[sizeof(m.room) - 1] = '\0';
	m.who[sizeof(m.who) - 1] = '\0';
	m.key[sizeof(m.key) - 1] = '\0';
	m.mask[sizeof(m.mask) - 1] = '\0';
	m.text[sizeof(m.text) - 1] = '\0';
	if (m.op == CHANNEL_GLINE_ADD) {
		sv_mod_gline_put(sv, m.mask, m.who, m.text, m.at_ms);
		return;
	}
	/* What this server could not have set is left out. */
	if (!names_room_valid(m.room) || strlen(m.who) > OUTBOX_ACCT_MAX ||
	    strlen(m.mask) > MASK_MAX || strlen(m.key) > MODES_KEY_MAX)
		return;
	e = sv_rooms_find(sv, m.room);
	if (m.op == CHANNEL_ROOM_REGISTER) {
		if (!e && !(e = sv_rooms_add(sv, m.room)))
			return;
		snprintf(e->founder, sizeof(e->founder), "%s", m.who);
		e->at_ms = m.at_ms;
		return;
	}
	if (!e)
		return;
	if (m.op == CHANNEL_ROOM_STATE) {
		e->modes = m.modes & (MODES_INVITE | MODES_MODERATED |
				      MODES_NO_OUTSIDE | MODES_SECRET |
				      MODES_TOPIC | MODES_KEY | MODES_LIMIT);
		e->limit = m.limit;
		memcpy(e->key, m.key, sizeof(e->key));
	} else if (m.op == CHANNEL_ROOM_OP_ADD && m.who[0] &&
		   e->nops < SV_ROOM_OPS_MAX &&
		   sv_rooms_op_index(e, m.who) < 0) {
		snprintf(e->ops[e->nops++], sizeof(e->ops[0]), "%s", m.who);
	} else if (m.op == CHANNEL_ROOM_BAN_ADD && m.mask[0] &&
		   e->nbans < REGISTRY_BANS_MAX &&
		   !sv_rooms_has_ban(e->bans, e->nbans, m.mask)) {
		struct reg_ban *b = &e->bans[e->nbans++];
		snprintf(b->mask, sizeof(b->mask), "%s", m.mask);
		snprintf(b->by, sizeof(b->by), "%.*s", CONFIG_NICK_MAX, m.who);
		b->at_ms = m.at_ms;
	}
}

size_t
sv_rooms_count(const struct supervisor *sv)
{
	return sv->rooms ? sv->rooms->by_name.used : 0;
}

unsigned
sv_rooms_empty(struct supervisor *sv, struct sv_room_listed *out)
{
	unsigned n = 0;

	for (const struct sv_room_reg *e = sv->rooms ? sv->rooms->all : NULL; e;
	     e = e->next)
		if (!registry_room_find(&sv->reg, e->name))
			out[n++] = (struct sv_room_listed){
			    .name = e->name,
			    .modes = e->modes,
			    .key = e->key,
			    .limit = e->limit,
			    .at_ms = e->at_ms,
			};
	return n;
}
