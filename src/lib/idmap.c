/*
 * idmap: linear probing over a power-of-two table with a multiplicative
 * hash; tombstones are swept by rehashing at 70% load.
 */
#include "lib/idmap.h"

#include "lib/ptable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IDMAP_DEAD UINT64_MAX

static size_t
idmap_hash(uint64_t key, size_t mask)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 17) & mask;
}

static struct idmap_slot *
idmap_find(const struct idmap *m, uint64_t key)
{
	if (!m->cap || key == 0 || key == IDMAP_DEAD)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = idmap_hash(key, mask);; i = (i + 1) & mask) {
		if (m->slots[i].key == key)
			return &m->slots[i];
		if (m->slots[i].key == 0)
			return NULL;
	}
}

void *
idmap_get(const struct idmap *m, uint64_t key)
{
	struct idmap_slot *s = idmap_find(m, key);

	return s ? s->value : NULL;
}

static int
idmap_resize(struct idmap *m, size_t cap)
{
	struct idmap_slot *old = m->slots;
	size_t old_cap = m->cap;

	m->slots = ptable_calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = cap;
	m->dead = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].key == 0 || old[i].key == IDMAP_DEAD)
			continue;
		size_t j = idmap_hash(old[i].key, cap - 1);
		while (m->slots[j].key)
			j = (j + 1) & (cap - 1);
		m->slots[j] = old[i];
	}
	ptable_cfree(old, old_cap, sizeof(*old));
	return 0;
}

int
idmap_put(struct idmap *m, uint64_t key, void *value)
{
	struct idmap_slot *s = idmap_find(m, key);

	if (s) {
		s->value = value;
		return 0;
	}
	if ((m->used + m->dead + 1) * 10 >= m->cap * 7) {
		size_t cap = m->cap ? m->cap : 16;
		while ((m->used + 1) * 10 >= cap * 5)
			cap *= 2;
		if (idmap_resize(m, cap) < 0)
			return -ENOMEM;
	}
	size_t mask = m->cap - 1, i = idmap_hash(key, mask);
	while (m->slots[i].key && m->slots[i].key != IDMAP_DEAD)
		i = (i + 1) & mask;
	if (m->slots[i].key == IDMAP_DEAD)
		m->dead--;
	m->slots[i].key = key;
	m->slots[i].value = value;
	m->used++;
	return 0;
}

void *
idmap_del(struct idmap *m, uint64_t key)
{
	struct idmap_slot *s = idmap_find(m, key);
	void *v;

	if (!s)
		return NULL;
	v = s->value;
	s->key = IDMAP_DEAD;
	s->value = NULL;
	m->used--;
	m->dead++;
	return v;
}

void
idmap_free(struct idmap *m)
{
	ptable_cfree(m->slots, m->cap, sizeof(*m->slots));
	memset(m, 0, sizeof(*m));
}
