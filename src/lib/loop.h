/*
 * loop: a small epoll wrapper mapping fds to callbacks. One per process
 * (never shared across fork: a child makes its own). Handlers removed while
 * events are being dispatched are freed only after the batch.
 */
#ifndef PARLEY_LOOP_H
#define PARLEY_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop;

typedef void loop_fd_cb(struct loop *loop, int fd, uint32_t events, void *arg);

/* Creates a loop (epoll instance, close-on-exec). Exits via fatal() when
 * the kernel refuses: that is a start-up failure. */
struct loop *loop_new(void);

/* Watches fd for events (EPOLLIN, EPOLLOUT, EPOLLET, ...) and calls cb.
 * Returns 0 or -errno. */
int loop_add(struct loop *loop, int fd, uint32_t events, loop_fd_cb *cb,
	     void *arg) __attribute__((warn_unused_result));

/* Changes the events watched for fd. Returns 0 or -errno. */
int loop_mod(struct loop *loop, int fd, uint32_t events);

/* Stops watching fd (does not close it). Safe inside a callback. */
void loop_del(struct loop *loop, int fd);

/* Waits up to timeout_ms (-1: forever, 0: poll) and dispatches every
 * ready event. Returns the number of events, or -errno (EINTR is 0). */
int loop_run_once(struct loop *loop, int timeout_ms);

/* The loop_now_ms() of the last wake-up, taken before its events were
 * dispatched (at loop_new before the first): the time base for handlers
 * and for the work that follows a wake-up, never older than the wait. */
long long loop_time_ms(const struct loop *loop);

/* Milliseconds on the monotonic clock: the time base of every timeout. */
long long loop_now_ms(void);

/* Frees the loop and closes the epoll fd (not the watched fds). */
void loop_free(struct loop *loop);

#endif
