/*
 * supervisor_oper: server operators: becoming one (oper NAME HASH and a
 * crypt(3) check, which the store runs when there is one), /kill, /wall and
 * server-wide bans by address (kept in memory and, through supervisor_rooms.c,
 * in the store; refused at connect by supervisor_accept.c). Supervisor only.
 * Every action is logged with who did it.
 */
#include "lib/line.h"
#include "lib/log.h"
#include "lib/mask.h"
#include "server/supervisor_int.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SV_GLINES_MAX 256

/* A server-wide ban: an address pattern (matched against the address and
 * the cloak at connect), who set it, when and why. */
struct sv_gline {
	char mask[MASK_MAX + 1];
	char by[CONFIG_NICK_MAX + 1];
	char reason[CONFIG_REASON_MAX + 1];
	int64_t at_ms;
};

/* ---- server operators ---------------------------------------------------- */

void
sv_oper_checked(struct supervisor *sv, struct reg_client *c, const char *name,
		enum core_err err)
{
	if (err == CORE_ERR_OPER_FAILED)
		log_warn("moderation: client %s (%s) failed to become server "
			 "operator %s: wrong password",
			 c->nick, c->addr, name);
	if (err != CORE_OK) {
		sv_reply(sv, c, err, NULL, NULL, 0);
		return;
	}
	snprintf(c->oper, sizeof(c->oper), "%s", name);
	log_info("moderation: client %s (%s) is now server operator %s",
		 c->nick, c->addr, name);
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

static void
sv_mod_oper(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	const struct config_oper *o = NULL;
	struct crypt_data *cd;
	int ok;

	for (int i = 0; i < sv->cfg->nopers; i++)
		if (strcmp(sv->cfg->opers[i].name, q->arg) == 0)
			o = &sv->cfg->opers[i];
	if (!o) {
		log_warn("moderation: client %s (%s) failed to become server "
			 "operator: no operator %s",
			 c->nick, c->addr, q->arg);
		sv_reply(sv, c, CORE_ERR_NO_OPER_NAME, NULL, q->arg, 0);
		return;
	}
	/* yescrypt takes tens of milliseconds: the store runs it. */
	if (sv_store_oper(sv, c, o->name, q->text, o->hash))
		return;
	/* No store (--db none) or it is down: the supervisor checks it
	 * itself, blocking its loop as long (operators log in rarely). */
	cd = calloc(1, sizeof(*cd));
	if (!cd) {
		sv_reply(sv, c, CORE_ERR_UNAVAILABLE, NULL, NULL, 0);
		return;
	}
	const char *h = crypt_r(q->text, o->hash, cd);
	ok = h && h[0] != '*' && strcmp(h, o->hash) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	sv_oper_checked(sv, c, o->name, ok ? CORE_OK : CORE_ERR_OPER_FAILED);
}

static void
sv_mod_kill(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	struct reg_client *t = registry_nick_find(&sv->reg, q->arg);
	struct channel_kick k = {.reason = CHANNEL_REASON_KILLED};

	if (!t || !t->visible) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_NICK, NULL, q->arg, 0);
		return;
	}
	k.client = t->id;
	snprintf(k.text, sizeof(k.text), "Killed by %s%s%.*s%s", c->nick,
		 q->text[0] ? " (" : "",
		 (int)line_utf8_cut(q->text, strlen(q->text),
				    CONFIG_REASON_MAX - 64),
		 q->text, q->text[0] ? ")" : "");
	log_info("moderation: %s killed %s (%s): %s", sv_mod_who(c), t->nick,
		 t->addr, q->text[0] ? q->text : "no reason");
	if (channel_send(&sv->sessions[t->session].chan, CHANNEL_KICK, &k,
			 sizeof(k), -1, SV_CHANNEL_QUEUE) < 0)
		log_warn("cannot ask the session of %s to close it", t->nick);
	sv_reply(sv, c, CORE_OK, NULL, t->nick, 0);
}

static void
sv_mod_wall(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	struct outbox_new w = {
	    .kind = OUTBOX_WALL,
	    .src = c->id,
	    .nick = outbox_str(c->nick),
	    .user = outbox_str(c->user),
	    .host = outbox_str(c->cloak),
	    .text = outbox_str(q->text),
	};

	sv_put(sv, &w);
	log_info("moderation: %s sent a wall: %s", sv_mod_who(c), q->text);
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

/* An address mask: what follows an '@' if there is one. */
static int
sv_mod_gline_mask(const char *arg, char *out)
{
	const char *at = strrchr(arg, '@');
	const char *p = at ? at + 1 : arg;
	size_t n = strlen(p);

	if (n == 0 || n > MASK_MAX || strpbrk(p, " !,"))
		return -1;
	memcpy(out, p, n + 1);
	return 0;
}

static void
sv_mod_gline_list(struct supervisor *sv, struct reg_client *c)
{
	for (unsigned i = 0; i < sv->nglines; i++) {
		const struct sv_gline *g = &sv->glines[i];
		uint64_t at = (uint64_t)g->at_ms;
		sv_put(sv, &(struct outbox_new){
			       .kind = OUTBOX_BAN_INFO,
			       .target = c->id,
			       .ids = &at,
			       .nids = 1,
			       .nick = outbox_str(g->by),
			       .arg = outbox_str(g->mask),
			       .text = outbox_str(g->reason),
			   });
	}
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

static struct sv_gline *
sv_mod_gline_find(const struct supervisor *sv, const char *mask)
{
	for (unsigned i = 0; i < sv->nglines; i++)
		if (strcasecmp(sv->glines[i].mask, mask) == 0)
			return &sv->glines[i];
	return NULL;
}

int
sv_mod_gline_put(struct supervisor *sv, const char *mask, const char *by,
		 const char *reason, int64_t at_ms)
{
	struct sv_gline *g = sv_mod_gline_find(sv, mask);

	if (!mask[0] || strlen(mask) > MASK_MAX)
		return -1;
	if (!g) {
		if (sv->nglines >= SV_GLINES_MAX)
			return -1;
		if (!sv->glines &&
		    !(sv->glines = calloc(SV_GLINES_MAX, sizeof(*sv->glines))))
			return -1;
		g = &sv->glines[sv->nglines++];
	}
	snprintf(g->mask, sizeof(g->mask), "%s", mask);
	snprintf(g->by, sizeof(g->by), "%.*s", CONFIG_NICK_MAX, by);
	snprintf(g->reason, sizeof(g->reason), "%.*s", CONFIG_REASON_MAX,
		 reason);
	g->at_ms = at_ms;
	return 0;
}

static void
sv_mod_gline(struct supervisor *sv, struct reg_client *c,
	     const struct sv_req *q)
{
	char mask[MASK_MAX + 1], reason[CONFIG_REASON_MAX + 1];
	const struct sv_gline *g;
	unsigned i;

	if (q->flags & CORE_GLINE_LIST) {
		sv_mod_gline_list(sv, c);
		return;
	}
	if (sv_mod_gline_mask(q->arg, mask) < 0) {
		sv_reply(sv, c, CORE_ERR_BAD_MASK, NULL, q->arg, 0);
		return;
	}
	for (i = 0; i < sv->nglines; i++)
		if (strcasecmp(sv->glines[i].mask, mask) == 0)
			break;
	if (q->flags & CORE_GLINE_REMOVE) {
		if (i == sv->nglines) {
			sv_reply(sv, c, CORE_ERR_NO_SUCH_BAN, NULL, mask, 0);
			return;
		}
		sv->glines[i] = sv->glines[--sv->nglines];
		sv_rooms_gline_tell(sv, 0, mask, NULL, NULL, 0);
		log_info("moderation: %s lifted the server ban on %s",
			 sv_mod_who(c), mask);
		sv_reply(sv, c, CORE_OK, NULL, mask, CORE_GLINE_REMOVE);
		return;
	}
	snprintf(
	    reason, sizeof(reason), "%.*s",
	    (int)line_utf8_cut(q->text, strlen(q->text), CONFIG_REASON_MAX),
	    q->text);
	if (sv_mod_gline_put(sv, mask, c->nick, reason, sv_mod_now_ms()) < 0) {
		sv_reply(sv, c,
			 sv->nglines >= SV_GLINES_MAX ? CORE_ERR_BAN_LIST_FULL
						      : CORE_ERR_UNAVAILABLE,
			 NULL, mask, SV_GLINES_MAX);
		return;
	}
	g = sv_mod_gline_find(sv, mask);
	sv_rooms_gline_tell(sv, 1, g->mask, g->by, g->reason, g->at_ms);
	log_info("moderation: %s banned %s from the server (%s)", sv_mod_who(c),
		 mask, q->text[0] ? q->text : "no reason");
	sv_reply(sv, c, CORE_OK, NULL, mask, 0);
}

const char *
sv_mod_gline_reason(const struct supervisor *sv, const char *host,
		    const char *cloak)
{
	for (unsigned i = 0; i < sv->nglines; i++)
		if (mask_glob(sv->glines[i].mask, host) ||
		    mask_glob(sv->glines[i].mask, cloak))
			return sv->glines[i].reason;
	return NULL;
}

int
sv_mod_glined(const struct supervisor *sv, const char *host, const char *cloak)
{
	return sv_mod_gline_reason(sv, host, cloak) != NULL;
}

void
sv_mod_gline_resync(struct supervisor *sv)
{
	for (unsigned i = 0; i < sv->nglines; i++)
		sv_rooms_gline_tell(sv, 1, sv->glines[i].mask, sv->glines[i].by,
				    sv->glines[i].reason, sv->glines[i].at_ms);
}

void
sv_mod_free(struct supervisor *sv)
{
	free(sv->glines);
	sv->glines = NULL;
	sv->nglines = 0;
}

void
sv_oper_request(struct supervisor *sv, struct reg_client *c,
		const struct sv_req *q)
{
	if (q->op == CORE_OPER) {
		sv_mod_oper(sv, c, q);
		return;
	}
	/* The rest is for server operators only. */
	if (!c->oper[0]) {
		sv_reply(sv, c, CORE_ERR_NOT_OPER, NULL, NULL, 0);
		return;
	}
	if (q->op == CORE_KILL)
		sv_mod_kill(sv, c, q);
	else if (q->op == CORE_WALL)
		sv_mod_wall(sv, c, q);
	else
		sv_mod_gline(sv, c, q);
}
