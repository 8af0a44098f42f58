/*
 * ptable: zeroed tables a process keeps to itself across fork. The
 * supervisor's registry and per-session tables live here, so that its
 * writes to them after a fork leave no old copy of their pages in every
 * session it forked (copy-on-write makes each such page the child's own).
 * Any process may use it; a child must never touch a parent's table.
 */
#ifndef PARLEY_PTABLE_H
#define PARLEY_PTABLE_H

#include <stddef.h>

/* n zeroed elements of size bytes, in a mapping of their own that fork
 * does not copy (MADV_DONTFORK); NULL with errno set if n * size
 * overflows or the mapping fails. */
void *ptable_alloc(size_t n, size_t size);

/* Frees what ptable_alloc(n, size) returned (NULL is fine). */
void ptable_free(void *p, size_t n, size_t size);

/* For tables of any size (hash maps' slots, the loop's fd table): a
 * ptable from PTABLE_MIN bytes on, calloc below (a page would be waste
 * there). Free with ptable_cfree and the same n and size. */
#define PTABLE_MIN 4096
void *ptable_calloc(size_t n, size_t size);
void ptable_cfree(void *p, size_t n, size_t size);

#endif
