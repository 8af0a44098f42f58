/*
 * strmap: an open-addressing hash map from NUL-terminated strings (copied)
 * to pointers. Single-owner, not shared between processes. Callers fold
 * case themselves when keys are case-insensitive.
 */
#ifndef PARLEY_STRMAP_H
#define PARLEY_STRMAP_H

#include <stddef.h>

struct strmap_slot;

struct strmap {
	struct strmap_slot *slots;
	size_t cap;  /* a power of two, or 0 */
	size_t used; /* live keys */
	size_t dead; /* tombstones */
};

/* Value for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);

/* Inserts or replaces. Returns 0 or -ENOMEM. */
int strmap_put(struct strmap *m, const char *key, void *value)
    __attribute__((warn_unused_result));

/* Removes key; returns its value or NULL. */
void *strmap_del(struct strmap *m, const char *key);

void strmap_free(struct strmap *m);

#endif
