/*
 * registry: slot tables for clients and rooms plus three hash maps (nicks,
 * room names, per-host counts). Supervisor only; every mutation is made
 * here so the maps and the tables never disagree.
 */
#include "server/registry.h"

#include "lib/ptable.h"
#include "lib/log.h"
#include "server/names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void
registry_init(struct registry *reg, const struct config *cfg)
{
	memset(reg, 0, sizeof(*reg));
	reg->cfg = cfg;
	/* The supervisor's, written at every change: kept out of the
	 * sessions it forks (lib/ptable.h). */
	reg->clients =
	    ptable_alloc((size_t)cfg->client_slots, sizeof(*reg->clients));
	reg->room_slots = (unsigned)cfg->max_rooms + 1;
	reg->rooms = ptable_alloc(reg->room_slots, sizeof(*reg->rooms));
	if (!reg->clients || !reg->rooms)
		fatal("registry_init");
}

static void
registry_room_free(struct registry *reg, struct reg_room *r)
{
	(void)reg;
	for (unsigned i = 0; r->hist && i < r->hist_cap; i++)
		free(r->hist[i].text);
	free(r->hist);
	free(r->members);
	free(r->member_flags);
	free(r->mod.bans);
	free(r);
}

void
registry_free(struct registry *reg)
{
	for (unsigned i = 0; i < reg->room_slots; i++)
		if (reg->rooms[i])
			registry_room_free(reg, reg->rooms[i]);
	ptable_free(reg->rooms, reg->room_slots, sizeof(*reg->rooms));
	ptable_free(reg->clients, (size_t)reg->cfg->client_slots,
		    sizeof(*reg->clients));
	strmap_free(&reg->nicks);
	strmap_free(&reg->by_name);
	strmap_free(&reg->per_host);
}

static uint64_t
registry_make_id(struct registry *reg, unsigned slot)
{
	return (++reg->seq << REGISTRY_SLOT_BITS) | slot;
}

int
registry_host_count(struct registry *reg, const char *host)
{
	return (int)(intptr_t)strmap_get(&reg->per_host, host);
}

static void
registry_host_adjust(struct registry *reg, const char *host, int delta)
{
	int n;

	if (!host[0])
		return;
	n = registry_host_count(reg, host) + delta;
	if (n <= 0)
		strmap_del(&reg->per_host, host);
	else if (strmap_put(&reg->per_host, host, (void *)(intptr_t)n) < 0)
		log_warn("out of memory counting clients of %s", host);
}

/* Wall-clock milliseconds. */
static int64_t
registry_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void
registry_client_show(struct registry *reg, struct reg_client *c)
{
	if (c->visible)
		return;
	c->visible = 1;
	if (++reg->nvisible > reg->max_visible)
		reg->max_visible = reg->nvisible;
}

struct reg_client *
registry_client_add(struct registry *reg, int session, const char *addr,
		    const char *host, int visible)
{
	unsigned max = (unsigned)reg->cfg->client_slots, slot;
	struct reg_client *c = NULL;
	char nick[CONFIG_NICK_MAX + 1];

	if (reg->nclients >= max ||
	    reg->nclients >= (unsigned)reg->cfg->max_clients)
		return NULL;
	for (unsigned i = 0; i < max; i++) {
		slot = (reg->client_hint + i) % max;
		if (reg->clients[slot].id == 0) {
			c = &reg->clients[slot];
			break;
		}
	}
	if (!c)
		return NULL;
	reg->client_hint = slot + 1;
	memset(c, 0, sizeof(*c));
	c->id = registry_make_id(reg, slot);
	c->session = session;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	snprintf(c->host, sizeof(c->host), "%s", host);
	registry_guest_nick(reg, nick);
	if (registry_nick_set(reg, c, nick) < 0) {
		c->id = 0;
		return NULL;
	}
	registry_host_adjust(reg, c->host, 1);
	reg->nclients++;
	c->signon_ms = c->active_ms = registry_now_ms();
	if (visible)
		registry_client_show(reg, c);
	return c;
}

void
registry_guest_nick(struct registry *reg, char *out)
{
	char folded[CONFIG_NICK_MAX + 1];

	do {
		snprintf(out, CONFIG_NICK_MAX + 1, "guest%u", ++reg->guest_seq);
		names_fold(out, folded, sizeof(folded));
	} while (registry_nick_find(reg, out) ||
		 (reg->reserved && strmap_get(reg->reserved, folded)));
}

struct reg_client *
registry_client_get(struct registry *reg, uint64_t id)
{
	unsigned slot = REGISTRY_SLOT(id);

	if (id == 0 || slot >= (unsigned)reg->cfg->client_slots ||
	    reg->clients[slot].id != id)
		return NULL;
	return &reg->clients[slot];
}

void
registry_client_remove(struct registry *reg, struct reg_client *c)
{
	char folded[CONFIG_NICK_MAX + 1];

	while (c->nrooms > 0)
		(void)registry_part(reg, c, c->rooms[c->nrooms - 1]);
	names_fold(c->nick, folded, sizeof(folded));
	strmap_del(&reg->nicks, folded);
	registry_host_adjust(reg, c->host, -1);
	if (c->visible)
		reg->nvisible--;
	c->id = 0;
	reg->nclients--;
}

struct reg_client *
registry_nick_find(struct registry *reg, const char *nick)
{
	char folded[CONFIG_NICK_MAX + 1];

	if (strlen(nick) > CONFIG_NICK_MAX)
		return NULL;
	names_fold(nick, folded, sizeof(folded));
	return strmap_get(&reg->nicks, folded);
}

int
registry_nick_set(struct registry *reg, struct reg_client *c, const char *nick)
{
	char folded[CONFIG_NICK_MAX + 1], old[CONFIG_NICK_MAX + 1];
	struct reg_client *other;

	if (!names_nick_valid(nick))
		return -EINVAL;
	other = registry_nick_find(reg, nick);
	if (other && other != c)
		return -EEXIST;
	names_fold(nick, folded, sizeof(folded));
	if (strmap_put(&reg->nicks, folded, c) < 0)
		return -ENOMEM;
	if (c->nick[0] && !other) {
		names_fold(c->nick, old, sizeof(old));
		strmap_del(&reg->nicks, old);
	}
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	return 0;
}

struct reg_room *
registry_room_find(struct registry *reg, const char *name)
{
	char folded[CONFIG_ROOM_MAX + 2];

	if (strlen(name) > CONFIG_ROOM_MAX + 1)
		return NULL;
	names_fold(name, folded, sizeof(folded));
	return strmap_get(&reg->by_name, folded);
}

struct reg_room *
registry_room_get(struct registry *reg, uint64_t id)
{
	unsigned slot = REGISTRY_SLOT(id);

	if (id == 0 || slot >= reg->room_slots || !reg->rooms[slot] ||
	    reg->rooms[slot]->id != id)
		return NULL;
	return reg->rooms[slot];
}

int
registry_is_member(const struct reg_client *c, const struct reg_room *r)
{
	for (unsigned i = 0; i < c->nrooms; i++)
		if (c->rooms[i] == r)
			return 1;
	return 0;
}

uint8_t *
registry_member_flags(struct registry *reg, const struct reg_client *c,
		      struct reg_room *r)
{
	unsigned slot = REGISTRY_SLOT(c->id);

	(void)reg;
	for (unsigned i = 0; i < r->nmembers; i++)
		if (r->members[i] == slot)
			return &r->member_flags[i];
	return NULL;
}

static int
registry_room_cmp(const void *a, const void *b)
{
	const struct reg_room *const *x = a, *const *y = b;

	return strcasecmp((*x)->name, (*y)->name);
}

unsigned
registry_rooms_by_name(struct registry *reg, struct reg_room **out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < reg->room_slots && n < reg->nrooms; i++)
		if (reg->rooms[i])
			out[n++] = reg->rooms[i];
	qsort(out, n, sizeof(*out), registry_room_cmp);
	return n;
}

static struct reg_room *
registry_room_create(struct registry *reg, const char *name)
{
	unsigned max = reg->room_slots, slot = 0;
	char folded[CONFIG_ROOM_MAX + 2], lobby[CONFIG_ROOM_MAX + 2];
	struct reg_room *r;
	int found = 0;

	/* The default room is exempt: a new client always has a room. */
	names_fold(name, folded, sizeof(folded));
	names_fold(reg->cfg->default_room, lobby, sizeof(lobby));
	if (reg->nrooms >= (unsigned)reg->cfg->max_rooms &&
	    strcmp(folded, lobby) != 0)
		return NULL;
	for (unsigned i = 0; i < max; i++) {
		slot = (reg->room_hint + i) % max;
		if (!reg->rooms[slot]) {
			found = 1;
			break;
		}
	}
	if (!found || !(r = calloc(1, sizeof(*r))))
		return NULL;
	r->id = registry_make_id(reg, slot);
	r->created_ms = registry_now_ms();
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (strmap_put(&reg->by_name, folded, r) < 0) {
		free(r);
		return NULL;
	}
	reg->rooms[slot] = r;
	reg->room_hint = slot + 1;
	reg->nrooms++;
	return r;
}

int
registry_join(struct registry *reg, struct reg_client *c, const char *name,
	      struct reg_room **out)
{
	struct reg_room *r;

	if (!names_room_valid(name))
		return -EINVAL;
	r = registry_room_find(reg, name);
	if (r && registry_is_member(c, r)) {
		*out = r;
		return 1;
	}
	if (c->nrooms >= (unsigned)reg->cfg->max_rooms_per_client ||
	    c->nrooms >= CONFIG_ROOMS_PER_CLIENT_MAX)
		return -EMLINK;
	if (!r && !(r = registry_room_create(reg, name)))
		return -ENOSPC;
	if (r->nmembers == r->members_cap) {
		unsigned cap = r->members_cap ? r->members_cap * 2 : 8;
		unsigned *m = realloc(r->members, cap * sizeof(*m));
		if (!m)
			return -ENOSPC;
		r->members = m;
		uint8_t *f = realloc(r->member_flags, cap);
		if (!f)
			return -ENOSPC;
		r->member_flags = f;
		r->members_cap = cap;
	}
	r->member_flags[r->nmembers] = 0;
	r->members[r->nmembers++] = REGISTRY_SLOT(c->id);
	c->rooms[c->nrooms++] = r;
	*out = r;
	return 0;
}

int
registry_part(struct registry *reg, struct reg_client *c, struct reg_room *r)
{
	unsigned slot = REGISTRY_SLOT(c->id), i;
	char folded[CONFIG_ROOM_MAX + 2];

	for (i = 0; i < c->nrooms && c->rooms[i] != r; i++)
		;
	if (i == c->nrooms)
		return -ENOENT;
	/* Keep the client's rooms in join order: the last is the newest. */
	memmove(&c->rooms[i], &c->rooms[i + 1],
		(c->nrooms - i - 1) * sizeof(c->rooms[0]));
	c->nrooms--;
	for (i = 0; i < r->nmembers; i++) {
		if (r->members[i] == slot) {
			r->members[i] = r->members[--r->nmembers];
			r->member_flags[i] = r->member_flags[r->nmembers];
			break;
		}
	}
	if (r->nmembers == 0) {
		names_fold(r->name, folded, sizeof(folded));
		strmap_del(&reg->by_name, folded);
		reg->rooms[REGISTRY_SLOT(r->id)] = NULL;
		reg->nrooms--;
		registry_room_free(reg, r);
	}
	return 0;
}

static void
registry_copy(char *dst, size_t cap, struct outbox_str src)
{
	size_t n = src.n < cap - 1 ? src.n : cap - 1;

	memcpy(dst, src.p, n);
	dst[n] = '\0';
}

/* Gives room a ring of n entries (none for 0) with its newest messages. */
static void
registry_history_fit(struct reg_room *r, unsigned n)
{
	unsigned keep = r->hist_count < n ? r->hist_count : n;
	struct reg_hist *h = n ? calloc(n, sizeof(*h)) : NULL;

	if (n && !h)
		return; /* keeps the old ring: history is best effort */
	for (unsigned i = 0; i < r->hist_count; i++) {
		unsigned at = (r->hist_next + r->hist_cap - r->hist_count + i) %
			      r->hist_cap;
		if (i + keep >= r->hist_count)
			h[i + keep - r->hist_count] = r->hist[at];
		else
			free(r->hist[at].text);
	}
	free(r->hist);
	r->hist = h;
	r->hist_cap = n;
	r->hist_count = keep;
	r->hist_next = n ? keep % n : 0;
}

void
registry_history_limit(struct registry *reg)
{
	for (unsigned i = 0; i < reg->room_slots; i++) {
		struct reg_room *r = reg->rooms[i];
		if (r && r->hist && r->hist_cap != (unsigned)reg->cfg->history)
			registry_history_fit(r, (unsigned)reg->cfg->history);
	}
}

void
registry_history_add(struct registry *reg, struct reg_room *room,
		     const struct outbox_view *v)
{
	unsigned n = (unsigned)reg->cfg->history;
	size_t len = v->text.n;
	struct reg_hist *h;

	if (n == 0)
		return;
	if (room->hist && room->hist_cap != n)
		registry_history_fit(room, n);
	if (!room->hist) {
		if (!(room->hist = calloc(n, sizeof(*room->hist))))
			return;
		room->hist_cap = n;
	}
	h = &room->hist[room->hist_next];
	/* Slots keep their buffers: history costs no allocation once warm. */
	if (h->cap < len) {
		char *p = realloc(h->text, len);
		if (!p)
			return;
		h->text = p;
		h->cap = len;
	}
	if (len)
		memcpy(h->text, v->text.p, len);
	h->len = len;
	h->flags = v->rec->aux;
	h->ts_ms = v->rec->ts_ms;
	registry_copy(h->nick, sizeof(h->nick), v->nick);
	registry_copy(h->user, sizeof(h->user), v->user);
	registry_copy(h->host, sizeof(h->host), v->host);
	h->producer = v->producer;
	h->pos = v->pos;
	room->hist_next = (room->hist_next + 1) % n;
	if (room->hist_count < n)
		room->hist_count++;
}

const struct reg_hist *
registry_history_get(const struct registry *reg, const struct reg_room *room,
		     unsigned i)
{
	unsigned n = room->hist_cap;

	(void)reg;
	return &room->hist[(room->hist_next + n - room->hist_count + i) % n];
}
