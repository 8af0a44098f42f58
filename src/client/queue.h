/*
 * queue: the client's growable byte queues (to the server, to the terminal,
 * server bytes not yet a whole line). Bytes are appended at the end and
 * consumed from the front; the caller bounds how much it lets one grow.
 */
#ifndef PARLEY_CLIENT_QUEUE_H
#define PARLEY_CLIENT_QUEUE_H

#include <stddef.h>

struct queue {
	char *data;
	size_t len, cap;
};

/* Appends n bytes. Out of memory is fatal: one line on stderr, exit 1. */
void queue_append(struct queue *q, const char *s, size_t n);

/* Appends a NUL-terminated string, without its NUL. */
void queue_puts(struct queue *q, const char *s);

/* Drops the first n bytes (n <= len). */
void queue_consume(struct queue *q, size_t n);

/* Writes what fd takes now (send() without SIGPIPE when is_sock), never
 * blocking on a non-blocking fd. Returns 0 (bytes may remain), or -errno
 * when fd is broken. */
int queue_flush(struct queue *q, int fd, int is_sock);

/* Frees the bytes; the queue is empty and can be used again. */
void queue_free(struct queue *q);

#endif
