/*
 * handshake: parley-bench's handshake mode. Keeps connect_parallel TLS
 * connections in flight; each connects, runs the handshake (full, or
 * resuming the session of a first connection), waits for the server's
 * first line (so the server has finished too) and closes. One process,
 * one epoll loop, non-blocking sockets.
 */
#include "bench/bench.h"
#include "bench/bench_tls.h"
#include "bench/procstat.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HS_NS 1000000000LL

enum hs_state { HS_FREE, HS_CONNECTING, HS_HANDSHAKE, HS_GREETING };

struct hs_slot {
	int fd;
	struct ssl_st *ssl;
	enum hs_state state;
};

struct hs {
	const struct bench_config *cfg;
	struct handshake_result *res;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int epfd;
	struct hs_slot *slots;
	unsigned int nslots, started, want;
	struct ssl_session_st *session; /* resume mode */
	int keep_session;		/* the warm-up: keep its session */
};

static int64_t
hs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * HS_NS + ts.tv_nsec;
}

static void
hs_free_slot(struct hs *h, struct hs_slot *s)
{
	if (s->fd >= 0) {
		(void)epoll_ctl(h->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	bench_tls_free(s->ssl);
	s->ssl = NULL;
	s->fd = -1;
	s->state = HS_FREE;
}

static int
hs_start(struct hs *h, struct hs_slot *s)
{
	struct epoll_event ev = {.events = EPOLLOUT,
				 .data.u32 = (uint32_t)(s - h->slots)};
	int one = 1;

	s->fd = socket(h->addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((connect(s->fd, (struct sockaddr *)&h->addr, h->addr_len) < 0 &&
	     errno != EINPROGRESS) ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		int err = -errno;
		close(s->fd);
		s->fd = -1;
		return err;
	}
	s->state = HS_CONNECTING;
	h->started++;
	return 0;
}

static void
hs_watch(struct hs *h, struct hs_slot *s, uint32_t events)
{
	struct epoll_event ev = {.events = events,
				 .data.u32 = (uint32_t)(s - h->slots)};

	(void)epoll_ctl(h->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Reads until the server's first line; 1 once it is there. */
static int
hs_greeted(struct hs_slot *s)
{
	char buf[4096];
	ssize_t n;

	while ((n = bench_tls_read(s->ssl, buf, sizeof(buf))) > 0)
		if (memchr(buf, '\n', (size_t)n))
			return 1;
	return n == -EAGAIN ? 0 : -1;
}

static void
hs_step(struct hs *h, struct hs_slot *s)
{
	socklen_t len = sizeof(int);
	int err = 0, want_write = 0, r;

	switch (s->state) {
	case HS_CONNECTING:
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		    err)
			goto failed;
		s->ssl = bench_tls_new(s->fd, h->session);
		if (!s->ssl)
			goto failed;
		s->state = HS_HANDSHAKE;
		/* fall through */
	case HS_HANDSHAKE:
		r = bench_tls_handshake(s->ssl, &want_write);
		if (r < 0)
			goto failed;
		if (r == 0) {
			hs_watch(h, s, want_write ? EPOLLOUT : EPOLLIN);
			return;
		}
		if (bench_tls_resumed(s->ssl))
			h->res->resumed++;
		s->state = HS_GREETING;
		hs_watch(h, s, EPOLLIN);
		/* fall through */
	case HS_GREETING:
		r = hs_greeted(s);
		if (r < 0)
			goto failed;
		if (r == 0)
			return;
		h->res->done++;
		if (h->keep_session && !h->session)
			h->session = bench_tls_session(s->ssl);
		hs_free_slot(h, s);
		return;
	case HS_FREE:
		return;
	}
failed:
	h->res->failed++;
	hs_free_slot(h, s);
}

/* Runs want handshakes; 0 or -errno. */
static int
hs_loop(struct hs *h, unsigned int want, int64_t deadline)
{
	struct epoll_event ev[256];

	h->want = want;
	h->started = 0;
	for (;;) {
		unsigned int busy = 0;
		for (unsigned int i = 0; i < h->nslots; i++) {
			struct hs_slot *s = &h->slots[i];
			if (s->state == HS_FREE && h->started < h->want) {
				int err = hs_start(h, s);
				if (err < 0) {
					snprintf(h->res->error,
						 sizeof(h->res->error),
						 "connect: %s", strerror(-err));
					return err;
				}
			}
			busy += s->state != HS_FREE;
		}
		if (busy == 0)
			return 0;
		int64_t left = deadline - hs_now();
		if (left <= 0) {
			snprintf(h->res->error, sizeof(h->res->error),
				 "timed out after %u of %u handshakes",
				 h->res->done, want);
			return -ETIMEDOUT;
		}
		int n = epoll_wait(h->epfd, ev, 256, (int)(left / 1000000) + 1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++)
			hs_step(h, &h->slots[ev[i].data.u32]);
	}
}

static int
hs_resolve(struct hs *h)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	char port[16];

	snprintf(port, sizeof(port), "%d", h->cfg->port);
	if (getaddrinfo(h->cfg->host, port, &hints, &ai) != 0) {
		snprintf(h->res->error, sizeof(h->res->error),
			 "cannot resolve %.200s", h->cfg->host);
		return -EHOSTUNREACH;
	}
	memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
	h->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static uint64_t
hs_self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * HS_NS +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

int
handshake_run(const struct bench_config *cfg, struct handshake_result *res)
{
	struct hs h = {.cfg = cfg, .res = res, .epfd = -1};
	struct procstat_tree t0 = {0}, t1 = {0};
	int64_t deadline = hs_now() + (int64_t)(cfg->timeout_s * HS_NS), start;
	uint64_t cpu0;
	int err, has0 = 0;

	memset(res, 0, sizeof(*res));
	h.nslots = cfg->connect_parallel;
	h.slots = calloc(h.nslots, sizeof(*h.slots));
	h.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!h.slots || h.epfd < 0) {
		snprintf(res->error, sizeof(res->error), "out of resources");
		err = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < h.nslots; i++)
		h.slots[i].fd = -1;
	if ((err = hs_resolve(&h)) < 0)
		goto out;
	if (cfg->resume) {
		/* A first, unmeasured handshake gives the session. */
		h.keep_session = 1;
		err = hs_loop(&h, 1, deadline);
		if (err == 0 && !h.session) {
			snprintf(res->error, sizeof(res->error),
				 "the first handshake gave no session");
			err = -EPROTO;
		}
		if (err < 0)
			goto out;
		memset(res, 0, sizeof(*res));
	}
	if (cfg->server_pid > 0)
		has0 = procstat_read_tree(cfg->server_pid, 0, &t0) == 0;
	cpu0 = hs_self_cpu_ns();
	start = hs_now();
	err = hs_loop(&h, cfg->handshakes, deadline);
	res->duration_s = (double)(hs_now() - start) / HS_NS;
	res->bench_cpu_ns = hs_self_cpu_ns() - cpu0;
	if (has0 && procstat_read_tree(cfg->server_pid, 0, &t1) == 0) {
		res->has_server = 1;
		res->server_cpu_ns = t1.cpu_ns - t0.cpu_ns;
	}
out:
	for (unsigned int i = 0; h.slots && i < h.nslots; i++)
		hs_free_slot(&h, &h.slots[i]);
	bench_tls_session_free(h.session);
	free(h.slots);
	if (h.epfd >= 0)
		close(h.epfd);
	return err;
}
