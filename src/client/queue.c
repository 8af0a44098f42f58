/*
 * queue: byte queues of the terminal client. Invariant: data[0..len) are
 * the queued bytes in order, len <= cap; an empty queue may own no memory.
 */
#include "client/queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void
queue_append(struct queue *q, const char *s, size_t n)
{
	if (q->len + n > q->cap) {
		size_t cap = q->cap ? q->cap : 4096;
		while (cap < q->len + n)
			cap *= 2;
		char *d = realloc(q->data, cap);
		if (!d) {
			fprintf(stderr, "parley: out of memory\n");
			exit(1);
		}
		q->data = d;
		q->cap = cap;
	}
	memcpy(q->data + q->len, s, n);
	q->len += n;
}

void
queue_puts(struct queue *q, const char *s)
{
	queue_append(q, s, strlen(s));
}

void
queue_consume(struct queue *q, size_t n)
{
	memmove(q->data, q->data + n, q->len - n);
	q->len -= n;
}

int
queue_flush(struct queue *q, int fd, int is_sock)
{
	while (q->len > 0) {
		ssize_t n = is_sock ? send(fd, q->data, q->len, MSG_NOSIGNAL)
				    : write(fd, q->data, q->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		queue_consume(q, (size_t)n);
	}
	return 0;
}

void
queue_free(struct queue *q)
{
	free(q->data);
	q->data = NULL;
	q->len = q->cap = 0;
}
