/*
 * supervisor_timeline: how records enter the one global order (supervisor
 * process): a producer's mark becomes a timeline entry once there is room
 * for it (supervisor_flow.c), remembered for history on the way, and a
 * client that leaves gets its last records (its QUIT) in that order too.
 */
#include "lib/log.h"
#include "server/supervisor_int.h"

#include <string.h>

/* ---- clients leaving ----------------------------------------------------- */

void
sv_client_gone(struct supervisor *sv, struct reg_client *c, const char *why)
{
	uint64_t ids[CONFIG_ROOMS_PER_CLIENT_MAX];
	struct sv_session *s = &sv->sessions[c->session];

	log_info("client %s (%s) left: %s", c->nick, c->addr, why);
	struct outbox_new q = sv_by(c, OUTBOX_QUIT);
	q.ids = ids;
	q.nids = sv_room_ids(sv, c, ids, 0);
	q.text = outbox_str(why);
	sv_put(sv, &q);
	registry_client_remove(&sv->reg, c);
	if (s->nclients > 0)
		s->nclients--;
	if (s->client_id == c->id)
		s->client_id = 0;
	sv_commit(sv);
}

void
sv_client_closed(struct supervisor *sv, struct sv_session *s,
		 const void *payload, int len)
{
	struct channel_client_closed m;
	char why[CHANNEL_REASON_MAX + 1];
	struct reg_client *c;

	if ((size_t)len < offsetof(struct channel_client_closed, text) ||
	    (size_t)len > sizeof(m)) {
		sv_session_bad(sv, s, "malformed CLIENT_CLOSED");
		return;
	}
	memset(&m, 0, sizeof(m));
	memcpy(&m, payload, (size_t)len);
	if (m.text_len >
	    (size_t)len - offsetof(struct channel_client_closed, text)) {
		sv_session_bad(sv, s, "malformed CLIENT_CLOSED");
		return;
	}
	memcpy(why, m.text, m.text_len);
	why[m.text_len] = '\0';
	c = registry_client_get(&sv->reg, m.client);
	if (!c || c->session != (int)s->index)
		return;
	/* Its last words, if their mark waits for room, go first. */
	if (sv->mark_owed[s->index + 1])
		sv_mark_now(sv, s->index + 1);
	sv_client_gone(sv, c, why);
}

/* ---- marks --------------------------------------------------------------- */

/* Remembers the room messages between the last mark and head. */
static void
sv_remember(struct supervisor *sv, unsigned producer, uint64_t from,
	    uint64_t to)
{
	struct outbox_view v;

	while (outbox_read(&sv->shm, producer, &from, to, sv->recbuf, &v) ==
	       1) {
		const struct outbox_rec *r = v.rec;
		if (r->kind != OUTBOX_MSG)
			continue;
		struct reg_room *room = registry_room_get(&sv->reg, r->target);
		struct reg_client *c = registry_client_get(&sv->reg, r->src);
		if (!room || !c || !registry_is_member(c, room))
			continue;
		c->active_ms = r->ts_ms;
		registry_history_add(&sv->reg, room, &v);
	}
}

void
sv_mark_now(struct supervisor *sv, unsigned producer)
{
	uint64_t head, tl;

	if (sv->mark_owed[producer]) {
		sv->mark_owed[producer] = 0;
		sv->nowed--;
	}
	head = outbox_take_mark(&sv->shm, producer);
	if (head <= sv->marked[producer])
		return;
	/* With a store, history comes from its database. */
	if (sv->cfg->history > 0 && sv->store.state == SV_STORE_OFF)
		sv_remember(sv, producer, sv->marked[producer], head);
	tl = outbox_timeline_head(&sv->shm);
	outbox_timeline_append(&sv->shm, producer, sv->marked[producer], head);
	sv->marked[producer] = head;
	sv->tl_dirty = 1;
	sv_flow_marked(sv, producer, tl, head);
}

void
sv_mark(struct supervisor *sv, unsigned producer)
{
	/* A full timeline would lap its slowest live reader: the mark waits,
	 * its pending flag still set, so the producer sends no other. */
	if (sv->mark_owed[producer])
		return;
	if (!sv_flow_fits(sv, 0, 1, 0)) {
		sv->mark_owed[producer] = 1;
		sv->nowed++;
		sv_flow_update(sv);
		return;
	}
	sv_mark_now(sv, producer);
}
