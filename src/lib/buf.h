/*
 * buf: a growable byte buffer with a read offset (send queues, partial input
 * lines). Owned by one process; no I/O. Data lives at data[off..len).
 */
#ifndef PARLEY_BUF_H
#define PARLEY_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t off; /* first unread byte */
	size_t len; /* end of data */
	size_t cap;
};

/* Bytes held. */
static inline size_t
buf_used(const struct buf *b)
{
	return b->len - b->off;
}

/* Makes room for n more bytes and returns where to write them; commit what
 * was written with buf_commit. Returns NULL when memory is exhausted. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);

/* Appends n bytes. Returns 0 or -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n)
    __attribute__((warn_unused_result));

/* Drops n bytes from the front; an emptied buffer rewinds to offset 0. */
void buf_consume(struct buf *b, size_t n);

/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

#endif
