/*
 * buf: amortised growth by doubling; the unread part is moved to the front
 * only when that makes room, so consuming is O(1).
 */
#include "lib/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *
buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return b->data + b->len;
	if (b->off > 0 && b->cap - buf_used(b) >= n) {
		memmove(b->data, b->data + b->off, buf_used(b));
		b->len -= b->off;
		b->off = 0;
		return b->data + b->len;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap - buf_used(b) < n)
		cap *= 2;
	char *p = malloc(cap);
	if (!p)
		return NULL;
	if (b->data)
		memcpy(p, b->data + b->off, buf_used(b));
	free(b->data);
	b->len -= b->off;
	b->off = 0;
	b->data = p;
	b->cap = cap;
	return b->data + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	char *dst = buf_reserve(b, n);

	if (!dst)
		return -ENOMEM;
	memcpy(dst, p, n);
	b->len += n;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}
