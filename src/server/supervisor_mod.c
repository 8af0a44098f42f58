/*
 * supervisor_mod: the supervisor as the authority on moderation: room
 * operators and voice, modes, bans, invitations, kicks; server operators,
 * their kills, walls and server-wide bans. Answers CORE_MODE..CORE_GLINE
 * with records and one REPLY (supervisor_oper.c has the server
 * operators'), and decides who may join, set a topic or see a room.
 * Every operator action is logged with who did it.
 */
#include "lib/line.h"
#include "lib/log.h"
#include "lib/mask.h"
#include "server/supervisor_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int64_t
sv_mod_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

const char *
sv_mod_who(const struct reg_client *c)
{
	static char who[CONFIG_NICK_MAX + CONFIG_OPER_NAME_MAX + 16];

	if (c->oper[0])
		snprintf(who, sizeof(who), "%s (oper %s)", c->nick, c->oper);
	else
		snprintf(who, sizeof(who), "%s", c->nick);
	return who;
}

static int
sv_mod_is_default(const struct supervisor *sv, const struct reg_room *r)
{
	return strcasecmp(r->name, sv->cfg->default_room) == 0;
}

static unsigned
sv_mod_bits(struct supervisor *sv, const struct reg_client *c,
	    struct reg_room *r)
{
	const uint8_t *f = registry_member_flags(&sv->reg, c, r);

	return f ? *f : 0;
}

/* c may act as r's operator: it is one, or a server operator. */
static int
sv_mod_is_op(struct supervisor *sv, const struct reg_client *c,
	     struct reg_room *r)
{
	return c->oper[0] || (sv_mod_bits(sv, c, r) & OUTBOX_MEMBER_OP);
}

unsigned
sv_mod_member_bits(struct supervisor *sv, const struct reg_client *c,
		   const struct reg_room *r)
{
	return sv_mod_bits(sv, c, (struct reg_room *)r);
}

int
sv_mod_sees_room(struct supervisor *sv, const struct reg_client *c,
		 const struct reg_room *r)
{
	(void)sv;
	return !(r->mod.modes & MODES_SECRET) || c->oper[0] ||
	       registry_is_member(c, r);
}

size_t
sv_mod_modes(struct supervisor *sv, const struct reg_client *c,
	     const struct reg_room *r, char *out)
{
	int show = c->oper[0] || registry_is_member(c, r);

	(void)sv;
	return modes_format(r->mod.modes, r->mod.key, r->mod.limit, show, out);
}

/* ---- joining ------------------------------------------------------------- */

static int
sv_mod_invited(const struct reg_room *r, const struct reg_client *c)
{
	for (unsigned i = 0; i < r->mod.ninvited; i++)
		if (r->mod.invited[i] == c->id)
			return 1;
	return 0;
}

static void
sv_mod_uninvite(struct reg_room *r, uint64_t id)
{
	for (unsigned i = 0; i < r->mod.ninvited; i++)
		if (r->mod.invited[i] == id) {
			memmove(&r->mod.invited[i], &r->mod.invited[i + 1],
				(r->mod.ninvited - i - 1) *
				    sizeof(r->mod.invited[0]));
			r->mod.ninvited--;
			return;
		}
}

static const struct reg_ban *
sv_mod_ban_of(const struct reg_room *r, const struct reg_client *c)
{
	struct mask_who who = {c->nick, c->user, c->cloak, c->account};

	for (unsigned i = 0; i < r->mod.nbans; i++)
		if (mask_match(r->mod.bans[i].mask, &who))
			return &r->mod.bans[i];
	return NULL;
}

int
sv_mod_may_join(struct supervisor *sv, struct reg_client *c, struct reg_room *r,
		const char *key)
{
	enum core_err err = CORE_OK;

	/* Server operators, whom an operator invited, and the accounts
	 * that run a registered room pass. */
	if (c->oper[0] || sv_mod_invited(r, c) ||
	    sv_rooms_trusted(sv, c, r->name))
		return 1;
	if (sv_mod_ban_of(r, c))
		err = CORE_ERR_BANNED;
	else if (r->mod.modes & MODES_INVITE)
		err = CORE_ERR_INVITE_ONLY;
	else if ((r->mod.modes & MODES_KEY) && strcmp(key, r->mod.key) != 0)
		err = CORE_ERR_BAD_KEY;
	else if ((r->mod.modes & MODES_LIMIT) && r->nmembers >= r->mod.limit)
		err = CORE_ERR_ROOM_FULL;
	if (err == CORE_OK)
		return 1;
	log_info("client %s (%s) may not join %s: %s", c->nick, c->addr,
		 r->name, core_err_name(err));
	sv_reply(sv, c, err, r->name, NULL, 0);
	return 0;
}

unsigned
sv_mod_joined(struct supervisor *sv, struct reg_client *c, struct reg_room *r)
{
	uint8_t *f = registry_member_flags(&sv->reg, c, r);

	sv_mod_uninvite(r, c->id);
	if (sv_rooms_joined(sv, c, r, f))
		return f ? *f : 0;
	if (r->nmembers != 1 || !f)
		return f ? *f : 0;
	/* A new room: its first member runs it, and it starts with
	 * --room-modes. The default room belongs to the server: no
	 * member runs it and anyone may set its topic. */
	if (sv_mod_is_default(sv, r)) {
		r->mod.modes = MODES_NO_OUTSIDE;
		return *f;
	}
	if (modes_simple(sv->cfg->room_modes, &r->mod.modes) < 0)
		r->mod.modes = MODES_NO_OUTSIDE | MODES_TOPIC;
	*f = OUTBOX_MEMBER_OP;
	return *f;
}

int
sv_mod_may_topic(struct supervisor *sv, const struct reg_client *c,
		 struct reg_room *r)
{
	return !(r->mod.modes & MODES_TOPIC) || sv_mod_is_op(sv, c, r);
}

/* ---- modes --------------------------------------------------------------- */

/* What one MODE request changed: the changes as applied, and the
 * members whose status changed (client id, bits after). */
struct sv_mod_applied {
	char letters[2 * MODES_MAX + 1];
	size_t nletters;
	char sign; /* the last sign put in letters */
	char args[MODES_MAX * (MASK_MAX + 2) + 1];
	size_t nargs;
	uint64_t ids[1 + 2 * MODES_MAX];
	unsigned nids;
};

static void
sv_mod_put(struct sv_mod_applied *a, char sign, char letter, const char *arg)
{
	if (a->sign != sign)
		a->letters[a->nletters++] = sign;
	a->sign = sign;
	a->letters[a->nletters++] = letter;
	a->letters[a->nletters] = '\0';
	if (arg)
		a->nargs += (size_t)snprintf(
		    a->args + a->nargs, sizeof(a->args) - a->nargs, " %s", arg);
}

/* +o/-o/+v/-v nick. Returns CORE_OK or the error (arg: the nick). */
static enum core_err
sv_mod_status(struct supervisor *sv, struct reg_room *r,
	      const struct modes_change *ch, const char *nick,
	      struct sv_mod_applied *a)
{
	struct reg_client *t = registry_nick_find(&sv->reg, nick);
	unsigned bit =
	    ch->letter == 'o' ? OUTBOX_MEMBER_OP : OUTBOX_MEMBER_VOICE;
	uint8_t *f;

	if (!t || !t->visible)
		return CORE_ERR_NO_SUCH_NICK;
	f = registry_member_flags(&sv->reg, t, r);
	if (!f)
		return CORE_ERR_USER_NOT_IN;
	if (ch->sign == '+' ? (*f & bit) : !(*f & bit))
		return CORE_OK; /* already so: nothing to say */
	if (ch->sign == '+')
		*f |= (uint8_t)bit;
	else
		*f &= (uint8_t)~bit;
	sv_mod_put(a, ch->sign, ch->letter, t->nick);
	if (bit == OUTBOX_MEMBER_OP)
		sv_rooms_status(sv, r, t, ch->sign);
	for (unsigned i = 1; i < a->nids; i += 2)
		if (a->ids[i] == t->id) {
			a->ids[i + 1] = *f;
			return CORE_OK;
		}
	a->ids[a->nids++] = t->id;
	a->ids[a->nids++] = *f;
	return CORE_OK;
}

static enum core_err
sv_mod_ban(struct supervisor *sv, const struct reg_client *c,
	   struct reg_room *r, const struct modes_change *ch, const char *arg,
	   struct sv_mod_applied *a)
{
	char mask[MASK_MAX + 1];
	unsigned i;

	(void)sv;
	if (mask_normalize(arg, strlen(arg), mask) < 0)
		return CORE_ERR_BAD_MASK;
	for (i = 0; i < r->mod.nbans; i++)
		if (strcasecmp(r->mod.bans[i].mask, mask) == 0)
			break;
	if (ch->sign == '-') {
		if (i == r->mod.nbans)
			return CORE_ERR_NO_SUCH_BAN;
		r->mod.bans[i] = r->mod.bans[--r->mod.nbans];
		sv_mod_put(a, '-', 'b', mask);
		return CORE_OK;
	}
	if (i < r->mod.nbans)
		return CORE_OK;
	if (r->mod.nbans >= REGISTRY_BANS_MAX)
		return CORE_ERR_BAN_LIST_FULL;
	if (!r->mod.bans &&
	    !(r->mod.bans = calloc(REGISTRY_BANS_MAX, sizeof(*r->mod.bans))))
		return CORE_ERR_UNAVAILABLE;
	struct reg_ban *b = &r->mod.bans[r->mod.nbans++];
	memcpy(b->mask, mask, sizeof(mask));
	snprintf(b->by, sizeof(b->by), "%s", c->nick);
	b->at_ms = sv_mod_now_ms();
	sv_mod_put(a, '+', 'b', mask);
	return CORE_OK;
}

/* A flag, key or limit change. */
static void
sv_mod_room_mode(struct reg_room *r, const struct modes_change *ch,
		 const char *arg, struct sv_mod_applied *a)
{
	unsigned f = modes_flag(ch->letter), was = r->mod.modes;

	if (ch->letter == 'k') {
		if (ch->sign == '+') {
			snprintf(r->mod.key, sizeof(r->mod.key), "%.*s",
				 MODES_KEY_MAX, arg);
			r->mod.modes |= MODES_KEY;
			sv_mod_put(a, '+', 'k', arg);
		} else if (was & MODES_KEY) {
			r->mod.modes &= ~MODES_KEY;
			sv_mod_put(a, '-', 'k', "*");
			r->mod.key[0] = '\0';
		}
		return;
	}
	if (ch->letter == 'l') {
		if (ch->sign == '+') {
			r->mod.limit = (unsigned)atoi(arg);
			r->mod.modes |= MODES_LIMIT;
			sv_mod_put(a, '+', 'l', arg);
		} else if (was & MODES_LIMIT) {
			r->mod.modes &= ~MODES_LIMIT;
			sv_mod_put(a, '-', 'l', NULL);
		}
		return;
	}
	if (ch->sign == '+')
		r->mod.modes |= f;
	else
		r->mod.modes &= ~f;
	if (r->mod.modes != was)
		sv_mod_put(a, ch->sign, ch->letter, NULL);
}

static void
sv_mod_bans_list(struct supervisor *sv, const struct reg_client *c,
		 const struct reg_room *r)
{
	for (unsigned i = 0; i < r->mod.nbans; i++) {
		uint64_t at = (uint64_t)r->mod.bans[i].at_ms;
		sv_put(sv, &(struct outbox_new){
			       .kind = OUTBOX_BAN_INFO,
			       .target = c->id,
			       .ids = &at,
			       .nids = 1,
			       .nick = outbox_str(r->mod.bans[i].by),
			       .room = outbox_str(r->name),
			       .arg = outbox_str(r->mod.bans[i].mask),
			   });
	}
}

/* The room a moderation request names, if c may know of it. */
static struct reg_room *
sv_mod_room(struct supervisor *sv, struct reg_client *c, const char *name)
{
	struct reg_room *r = registry_room_find(&sv->reg, name);

	if (!r || !sv_mod_sees_room(sv, c, r)) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_ROOM, name, NULL, 0);
		return NULL;
	}
	return r;
}

/* Says what a MODE request changed, to the room, and logs it. */
static void
sv_mod_announce(struct supervisor *sv, const struct reg_client *c,
		const struct reg_room *r, struct sv_mod_applied *a)
{
	char text[sizeof(a->letters) + sizeof(a->args)];

	if (!a->nletters)
		return;
	sv_rooms_sync(sv, r);
	snprintf(text, sizeof(text), "%s%s", a->letters, a->args);
	a->ids[0] = r->mod.modes;
	struct outbox_new m = {
	    .kind = OUTBOX_MODE,
	    .src = c->id,
	    .target = r->id,
	    .ids = a->ids,
	    .nids = a->nids,
	    .nick = outbox_str(c->nick),
	    .user = outbox_str(c->user),
	    .host = outbox_str(c->cloak),
	    .room = outbox_str(r->name),
	    .text = outbox_str(text),
	};
	sv_put(sv, &m);
	log_info("moderation: %s set mode %s on %s", sv_mod_who(c), text,
		 r->name);
}

static void
sv_mod_mode(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	struct modes_change ch[MODES_MAX];
	struct sv_mod_applied a = {.nids = 1};
	struct reg_room *r = sv_mod_room(sv, c, q->room);
	enum core_err err = CORE_OK;
	char bad[2] = {0, 0}, arg[MASK_MAX + 1];
	size_t n, lists = 0;
	enum modes_result res;

	if (!r)
		return;
	if (!q->text[0]) {
		sv_room_info(sv, c, r);
		sv_reply(sv, c, CORE_OK, r->name, NULL, 0);
		return;
	}
	res = modes_parse(q->text, strlen(q->text), ch, MODES_MAX, &n, bad);
	if (res != MODES_OK) {
		sv_reply(sv, c,
			 res == MODES_UNKNOWN ? CORE_ERR_UNKNOWN_MODE
					      : CORE_ERR_MODE_ARG,
			 r->name, bad, 0);
		return;
	}
	for (size_t i = 0; i < n; i++)
		lists += ch[i].letter == 'b' && !ch[i].arg;
	if (lists == n) {
		sv_mod_bans_list(sv, c, r);
		sv_reply(sv, c, CORE_OK, r->name, NULL, 0);
		return;
	}
	if (!sv_mod_is_op(sv, c, r)) {
		sv_reply(sv, c, CORE_ERR_CHANOP_NEEDED, r->name, NULL, 0);
		return;
	}
	for (size_t i = 0; i < n && err == CORE_OK; i++) {
		if (ch[i].letter == 'b' && !ch[i].arg)
			continue;
		snprintf(arg, sizeof(arg), "%.*s", (int)ch[i].arg_len,
			 ch[i].arg ? ch[i].arg : "");
		if (ch[i].letter == 'o' || ch[i].letter == 'v')
			err = sv_mod_status(sv, r, &ch[i], arg, &a);
		else if (ch[i].letter == 'b')
			err = sv_mod_ban(sv, c, r, &ch[i], arg, &a);
		else
			sv_mod_room_mode(r, &ch[i], arg, &a);
		if (err != CORE_OK)
			snprintf(bad, sizeof(bad), "%c", ch[i].letter);
		if (err == CORE_ERR_NO_SUCH_NICK ||
		    err == CORE_ERR_USER_NOT_IN || err == CORE_ERR_BAD_MASK ||
		    err == CORE_ERR_NO_SUCH_BAN) {
			sv_mod_announce(sv, c, r, &a);
			sv_reply(sv, c, err,
				 err == CORE_ERR_NO_SUCH_NICK ? NULL : r->name,
				 arg, 0);
			return;
		}
	}
	sv_mod_announce(sv, c, r, &a);
	sv_reply(sv, c, err, r->name, bad[0] ? bad : NULL,
		 err == CORE_ERR_BAN_LIST_FULL ? REGISTRY_BANS_MAX : 0);
}

/* ---- kick and invite ----------------------------------------------------- */

/* r, if c is in it (or a server operator) and may act as its operator;
 * else NULL, with the reply. */
static struct reg_room *
sv_mod_op_room(struct supervisor *sv, struct reg_client *c, const char *name)
{
	struct reg_room *r = sv_mod_room(sv, c, name);

	if (!r)
		return NULL;
	if (!c->oper[0] && !registry_is_member(c, r)) {
		sv_reply(sv, c, CORE_ERR_NOT_IN_ROOM, r->name, NULL, 0);
		return NULL;
	}
	if (!sv_mod_is_op(sv, c, r)) {
		sv_reply(sv, c, CORE_ERR_CHANOP_NEEDED, r->name, NULL, 0);
		return NULL;
	}
	return r;
}

static void
sv_mod_kick(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	struct reg_room *r = sv_mod_op_room(sv, c, q->room);
	struct reg_client *t;

	if (!r)
		return;
	t = registry_nick_find(&sv->reg, q->arg);
	if (!t || !t->visible) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_NICK, NULL, q->arg, 0);
		return;
	}
	if (!registry_is_member(t, r)) {
		sv_reply(sv, c, CORE_ERR_USER_NOT_IN, r->name, t->nick, 0);
		return;
	}
	struct outbox_new k = {
	    .kind = OUTBOX_KICK,
	    .src = c->id,
	    .target = r->id,
	    .ids = &t->id,
	    .nids = 1,
	    .nick = outbox_str(c->nick),
	    .user = outbox_str(c->user),
	    .host = outbox_str(c->cloak),
	    .room = outbox_str(r->name),
	    .arg = outbox_str(t->nick),
	    .text = outbox_str(q->text),
	};
	k.text.n = line_utf8_cut(k.text.p, k.text.n, CONFIG_REASON_MAX);
	sv_put(sv, &k);
	log_info("moderation: %s kicked %s from %s (%.*s)", sv_mod_who(c),
		 t->nick, r->name, (int)k.text.n, k.text.p);
	(void)registry_part(&sv->reg, t, r);
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

static void
sv_mod_invite(struct supervisor *sv, struct reg_client *c,
	      const struct sv_req *q)
{
	struct reg_room *r = sv_mod_room(sv, c, q->room);
	struct reg_client *t;

	if (!r)
		return;
	if (!c->oper[0] && !registry_is_member(c, r)) {
		sv_reply(sv, c, CORE_ERR_NOT_IN_ROOM, r->name, NULL, 0);
		return;
	}
	if ((r->mod.modes & MODES_INVITE) && !sv_mod_is_op(sv, c, r)) {
		sv_reply(sv, c, CORE_ERR_CHANOP_NEEDED, r->name, NULL, 0);
		return;
	}
	t = registry_nick_find(&sv->reg, q->arg);
	if (!t || !t->visible) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_NICK, NULL, q->arg, 0);
		return;
	}
	if (registry_is_member(t, r)) {
		sv_reply(sv, c, CORE_ERR_USER_ON_ROOM, r->name, t->nick, 0);
		return;
	}
	if (!sv_mod_invited(r, t)) {
		if (r->mod.ninvited == REGISTRY_INVITES_MAX)
			sv_mod_uninvite(r, r->mod.invited[0]); /* the oldest */
		r->mod.invited[r->mod.ninvited++] = t->id;
	}
	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_INVITE,
		       .src = c->id,
		       .target = t->id,
		       .nick = outbox_str(c->nick),
		       .user = outbox_str(c->user),
		       .host = outbox_str(c->cloak),
		       .room = outbox_str(r->name),
		       .arg = outbox_str(t->nick),
		   });
	log_info("moderation: %s invited %s to %s", sv_mod_who(c), t->nick,
		 r->name);
	sv_reply(sv, c, CORE_OK, r->name, t->nick, t->id);
}

/* ---- requests ------------------------------------------------------------ */

void
sv_mod_request(struct supervisor *sv, struct reg_client *c,
	       const struct sv_req *q)
{
	struct reg_room *r;

	switch (q->op) {
	case CORE_MODE:
		sv_mod_mode(sv, c, q);
		return;
	case CORE_KICK:
		sv_mod_kick(sv, c, q);
		return;
	case CORE_BANS:
		r = sv_mod_room(sv, c, q->room);
		if (r) {
			sv_mod_bans_list(sv, c, r);
			sv_reply(sv, c, CORE_OK, r->name, NULL, 0);
		}
		return;
	case CORE_INVITE:
		sv_mod_invite(sv, c, q);
		return;
	default:
		sv_oper_request(sv, c, q);
		return;
	}
}
