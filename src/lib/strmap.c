/*
 * strmap: linear probing with tombstones (FNV-1a hash); grows at 70% load
 * counting tombstones, so probes stay short under churn.
 */
#include "lib/strmap.h"

#include "lib/ptable.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STRMAP_DEAD ((char *)&strmap_dead_marker)
static const char strmap_dead_marker;

struct strmap_slot {
	char *key; /* NULL: empty; STRMAP_DEAD: tombstone */
	void *value;
};

static uint64_t
strmap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct strmap_slot *
strmap_find(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = strmap_hash(key) & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->key != STRMAP_DEAD && strcmp(s->key, key) == 0)
			return s;
	}
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_slot *s = strmap_find(m, key);

	return s ? s->value : NULL;
}

static int
strmap_resize(struct strmap *m, size_t cap)
{
	struct strmap_slot *old = m->slots;
	size_t old_cap = m->cap;

	m->slots = ptable_calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = cap;
	m->dead = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].key || old[i].key == STRMAP_DEAD)
			continue;
		size_t j = strmap_hash(old[i].key) & (cap - 1);
		while (m->slots[j].key)
			j = (j + 1) & (cap - 1);
		m->slots[j] = old[i];
	}
	ptable_cfree(old, old_cap, sizeof(*old));
	return 0;
}

int
strmap_put(struct strmap *m, const char *key, void *value)
{
	struct strmap_slot *s = strmap_find(m, key);

	if (s) {
		s->value = value;
		return 0;
	}
	if ((m->used + m->dead + 1) * 10 >= m->cap * 7) {
		size_t cap = m->cap ? m->cap : 16;
		while ((m->used + 1) * 10 >= cap * 5)
			cap *= 2;
		if (strmap_resize(m, cap) < 0)
			return -ENOMEM;
	}
	char *copy = strdup(key);
	if (!copy)
		return -ENOMEM;
	size_t mask = m->cap - 1;
	size_t i = strmap_hash(key) & mask;
	while (m->slots[i].key && m->slots[i].key != STRMAP_DEAD)
		i = (i + 1) & mask;
	if (m->slots[i].key == STRMAP_DEAD)
		m->dead--;
	m->slots[i].key = copy;
	m->slots[i].value = value;
	m->used++;
	return 0;
}

void *
strmap_del(struct strmap *m, const char *key)
{
	struct strmap_slot *s = strmap_find(m, key);
	void *v;

	if (!s)
		return NULL;
	v = s->value;
	free(s->key);
	s->key = STRMAP_DEAD;
	s->value = NULL;
	m->used--;
	m->dead++;
	return v;
}

void
strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != STRMAP_DEAD)
			free(m->slots[i].key);
	ptable_cfree(m->slots, m->cap, sizeof(*m->slots));
	memset(m, 0, sizeof(*m));
}
