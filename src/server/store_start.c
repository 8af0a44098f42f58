/*
 * store_start: what the store sends the supervisor before its READY:
 * the registered nicknames and, to the run's first store's supervisor,
 * the stored topics, registered rooms and server bans. Store process
 * only; runs once, at start.
 */
#include "server/store_int.h"

#include "server/store_rooms.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct store_nicks_out {
	struct store *s;
	struct channel_store_nicks m;
};

static void
store_nicks_flush(struct store_nicks_out *o)
{
	if (!o->m.count)
		return;
	store_send(o->s, CHANNEL_STORE_NICKS, &o->m,
		   offsetof(struct channel_store_nicks, names) + o->m.len);
	o->m.count = 0;
	o->m.len = 0;
}

static void
store_nick_cb(void *arg, const char *name)
{
	struct store_nicks_out *o = arg;
	size_t n = strlen(name);

	if (n > CHANNEL_NICK_MAX)
		return;
	if (o->m.len + n + 1 > sizeof(o->m.names))
		store_nicks_flush(o);
	memcpy(o->m.names + o->m.len, name, n);
	o->m.names[o->m.len + n] = ' ';
	o->m.len += (uint32_t)n + 1;
	o->m.count++;
}

/* One stored topic to the supervisor (one that does not fit the
 * message cannot have been set: it is left out). */
static void
store_topic_cb(void *arg, const struct store_topic *t)
{
	struct channel_store_topic m;

	if (t->room.n > CHANNEL_ROOM_MAX || t->topic.n > CHANNEL_TOPIC_MAX ||
	    t->by.n > CHANNEL_NICK_MAX)
		return;
	memset(&m, 0, sizeof(m));
	m.ts_ms = t->ts_ms;
	memcpy(m.room, t->room.p, t->room.n);
	memcpy(m.topic, t->topic.p, t->topic.n);
	memcpy(m.by, t->by.p, t->by.n);
	store_send(arg, CHANNEL_STORE_TOPIC, &m, sizeof(m));
}

static void
store_room_cb(void *arg, const struct channel_store_room *m)
{
	store_send(arg, CHANNEL_STORE_ROOM_LOAD, m, sizeof(*m));
}

void
store_fail_start(struct store *s, const char *why)
{
	struct channel_store_text t;

	memset(&t, 0, sizeof(t));
	snprintf(t.text, sizeof(t.text), "%s", why);
	store_send(s, CHANNEL_STORE_FAILED, &t, sizeof(t));
	(void)channel_flush(&s->chan);
	_exit(1);
}

static void
store_start_failed(struct store *s)
{
	char why[CHANNEL_REASON_MAX];

	snprintf(why, sizeof(why), "database %s: %s", s->cfg->db_path,
		 store_db_error(s->db));
	store_fail_start(s, why);
}

void
store_send_stored(struct store *s, int all)
{
	struct store_nicks_out nicks;

	memset(&nicks, 0, sizeof(nicks));
	nicks.s = s;
	nicks.m.op = CHANNEL_NICKS_ADD;
	if (store_db_accounts_each(s->db, store_nick_cb, &nicks) < 0)
		store_start_failed(s);
	store_nicks_flush(&nicks);
	if (all && (store_db_topics_each(s->db, STORE_TOPICS_MAX,
					 store_topic_cb, s) < 0 ||
		    store_rooms_each(s->db, store_room_cb, s) < 0))
		store_start_failed(s);
}
