/*
 * idmap: an open-addressing hash map from non-zero 64-bit ids to pointers.
 * Single-owner; used by sessions to find local rooms by id in the
 * per-message path without allocating.
 */
#ifndef PARLEY_IDMAP_H
#define PARLEY_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_slot {
	uint64_t key; /* 0: empty; UINT64_MAX: tombstone */
	void *value;
};

struct idmap {
	struct idmap_slot *slots;
	size_t cap, used, dead;
};

void *idmap_get(const struct idmap *m, uint64_t key);

/* Inserts or replaces; key must not be 0 or UINT64_MAX. 0 or -ENOMEM. */
int idmap_put(struct idmap *m, uint64_t key, void *value)
    __attribute__((warn_unused_result));

void *idmap_del(struct idmap *m, uint64_t key);

void idmap_free(struct idmap *m);

#endif
