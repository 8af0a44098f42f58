/*
 * loop: epoll with one heap-allocated handler per fd, found through
 * epoll_event.data.ptr. Deleting marks the handler dead and defers its free
 * to the end of the dispatch, so a later event in the same batch never
 * touches freed memory.
 */
#include "lib/loop.h"

#include "lib/log.h"
#include "lib/ptable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 256

struct loop_handler {
	int fd;
	int dead;
	loop_fd_cb *cb;
	void *arg;
	struct loop_handler *next_dead;
};

struct loop {
	int epoll_fd;
	int nhandlers;
	struct loop_handler **by_fd; /* indexed by fd */
	int by_fd_cap;
	struct loop_handler *dead;
	int dispatching;
	long long woke_ms; /* when epoll_wait last returned */
};

struct loop *
loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		fatal("loop_new");
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0)
		fatal("epoll_create1");
	loop->woke_ms = loop_now_ms();
	return loop;
}

static int
loop_grow(struct loop *loop, int fd)
{
	if (fd < loop->by_fd_cap)
		return 0;
	int cap = loop->by_fd_cap ? loop->by_fd_cap : 64;
	while (cap <= fd)
		cap *= 2;
	/* Out of a forked child's copy once large (lib/ptable.h): the
	 * supervisor writes it at every connection. */
	struct loop_handler **p = ptable_calloc((size_t)cap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (loop->by_fd)
		memcpy(p, loop->by_fd, (size_t)loop->by_fd_cap * sizeof(*p));
	ptable_cfree(loop->by_fd, (size_t)loop->by_fd_cap, sizeof(*p));
	loop->by_fd = p;
	loop->by_fd_cap = cap;
	return 0;
}

int
loop_add(struct loop *loop, int fd, uint32_t events, loop_fd_cb *cb, void *arg)
{
	struct loop_handler *h;
	struct epoll_event ev = {.events = events};
	int err;

	if ((err = loop_grow(loop, fd)) < 0)
		return err;
	if (loop->by_fd[fd])
		return -EEXIST;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->cb = cb;
	h->arg = arg;
	ev.data.ptr = h;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		free(h);
		return err;
	}
	loop->by_fd[fd] = h;
	loop->nhandlers++;
	return 0;
}

int
loop_mod(struct loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events};

	if (fd >= loop->by_fd_cap || !loop->by_fd[fd])
		return -ENOENT;
	ev.data.ptr = loop->by_fd[fd];
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void
loop_del(struct loop *loop, int fd)
{
	struct loop_handler *h;

	if (fd < 0 || fd >= loop->by_fd_cap || !(h = loop->by_fd[fd]))
		return;
	(void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	loop->by_fd[fd] = NULL;
	loop->nhandlers--;
	if (loop->dispatching) {
		h->dead = 1;
		h->next_dead = loop->dead;
		loop->dead = h;
	} else {
		free(h);
	}
}

int
loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	int n = epoll_wait(loop->epoll_fd, evs, LOOP_BATCH, timeout_ms);

	loop->woke_ms = loop_now_ms();
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->dispatching = 1;
	for (int i = 0; i < n; i++) {
		struct loop_handler *h = evs[i].data.ptr;
		if (!h->dead)
			h->cb(loop, h->fd, evs[i].events, h->arg);
	}
	loop->dispatching = 0;
	while (loop->dead) {
		struct loop_handler *h = loop->dead;
		loop->dead = h->next_dead;
		free(h);
	}
	return n;
}

long long
loop_time_ms(const struct loop *loop)
{
	return loop->woke_ms;
}

long long
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
loop_free(struct loop *loop)
{
	if (!loop)
		return;
	for (int i = 0; i < loop->by_fd_cap; i++)
		free(loop->by_fd[i]);
	ptable_cfree(loop->by_fd, (size_t)loop->by_fd_cap,
		     sizeof(*loop->by_fd));
	close(loop->epoll_fd);
	free(loop);
}
