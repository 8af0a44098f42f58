/*
 * supervisor_grace: --nick-grace. An IRC client that registers with a
 * nickname registered to an account it is not logged in to keeps it for
 * a while (NickServ tells it to log in, irc_sasl.c), and is renamed to a
 * guest nickname when the time is up without a login to it. Supervisor
 * only; the timer is one deadline in struct sv_store, and a plain
 * client (visible from the start) is never lent a nickname.
 */
#include "lib/log.h"
#include "server/supervisor_int.h"

#include <string.h>

#define SV_GRACE_RETRY_MS 100 /* ring 0 was full: look again */

int
sv_grace_allows(const struct supervisor *sv, const struct reg_client *c)
{
	return sv->cfg->nick_grace_s > 0 && !c->visible &&
	       sv->store.state != SV_STORE_OFF;
}

uint64_t
sv_grace_start(struct supervisor *sv, struct reg_client *c)
{
	struct sv_store *st = &sv->store;

	c->grace_due_ms = 0;
	if (!sv_grace_allows(sv, c) || !sv_store_nick_taken(sv, c, c->nick))
		return 0;
	c->grace_due_ms = loop_now_ms() + sv->cfg->nick_grace_s * 1000LL;
	if (!st->grace_due_ms || c->grace_due_ms < st->grace_due_ms)
		st->grace_due_ms = c->grace_due_ms;
	log_debug("client %s (%s) may keep registered nickname %s for %d s",
		  c->nick, c->addr, c->nick, sv->cfg->nick_grace_s);
	return (uint64_t)sv->cfg->nick_grace_s;
}

/* c's loan is over: a guest nickname, unless it logged in to it or
 * chose another meanwhile. Returns 0, or -1 when ring 0 has no room. */
static int
sv_grace_end(struct supervisor *sv, struct reg_client *c)
{
	char guest[CONFIG_NICK_MAX + 1], old[CONFIG_NICK_MAX + 1];

	if (!sv_store_nick_taken(sv, c, c->nick)) {
		c->grace_due_ms = 0;
		return 0;
	}
	if (!sv_flow_fits(sv, outbox_rec_bound(CONFIG_ROOMS_PER_CLIENT_MAX, 0),
			  1, 0))
		return -1;
	c->grace_due_ms = 0;
	memcpy(old, c->nick, sizeof(old));
	registry_guest_nick(&sv->reg, guest);
	if (sv_nick_change(sv, c, guest) == 0)
		log_info("client %s (%s) did not log in to registered "
			 "nickname %s in time",
			 c->nick, c->addr, old);
	return 0;
}

void
sv_grace_tick(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	long long now = loop_now_ms(), next = 0;
	int wrote = 0;

	if (!st->grace_due_ms || now < st->grace_due_ms)
		return;
	for (int i = 0; i < sv->cfg->client_slots; i++) {
		struct reg_client *c = &sv->reg.clients[i];
		if (!c->id || !c->grace_due_ms)
			continue;
		if (c->grace_due_ms <= now) {
			if (sv_grace_end(sv, c) < 0)
				c->grace_due_ms = now + SV_GRACE_RETRY_MS;
			else
				wrote = 1;
		}
		if (c->grace_due_ms && (!next || c->grace_due_ms < next))
			next = c->grace_due_ms;
	}
	st->grace_due_ms = next;
	if (wrote)
		sv_commit(sv);
}
