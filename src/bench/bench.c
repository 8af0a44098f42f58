/*
 * bench: the load engine. Clients are a flat array and epoll's data is the
 * index. Sockets are level-triggered: one read per ready socket per
 * wake-up; output is queued per client and written once per iteration.
 * Only this process touches its sockets; every fd is closed on return.
 */
#include "bench/bench.h"

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_tls.h"
#include "bench/payload.h"
#include "bench/procstat.h"
#include "bench/track.h"
#include "bench/wsclient.h"
#include "lib/ws.h"

#include "bench/bench_int.h"

int64_t
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * BENCH_NS + ts.tv_nsec;
}

static void bench_fail(struct bench *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bench_fail(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return;
	b->failed = 1;
	va_start(ap, fmt);
	vsnprintf(b->res->error, sizeof(b->res->error), fmt, ap);
	va_end(ap);
}

static int
bench_resolve(struct bench *b)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	char port[16];

	snprintf(port, sizeof(port), "%d", b->cfg->port);
	if (getaddrinfo(b->cfg->host, port, &hints, &ai) != 0) {
		bench_fail(b, "cannot resolve %s", b->cfg->host);
		return -EHOSTUNREACH;
	}
	memcpy(&b->addr, ai->ai_addr, ai->ai_addrlen);
	b->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void
bench_client_queue(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];

	if (!c->queued) {
		c->queued = 1;
		b->flush[b->nflush++] = id;
	}
}

/* Queues lines for a client: over WebSocket, one masked frame each. */
void
bench_out_append(struct bench *b, unsigned int id, const char *s, size_t len)
{
	if (!b->cfg->ws) {
		bench_out_raw(b, id, s, len);
		return;
	}
	size_t n = wsclient_frame_lines(b->wsbuf, s, len, &b->ws_seed);
	bench_out_raw(b, id, (const char *)b->wsbuf, n);
}

void
bench_out_raw(struct bench *b, unsigned int id, const char *s, size_t len)
{
	struct bench_client *c = &b->clients[id];
	char *n;

	if (c->state == BENCH_CLOSED)
		return;
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off,
				c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (c->out_len + len > c->out_cap)
			c->out_cap = c->out_cap ? c->out_cap * 2 : 1024;
		n = realloc(c->out, c->out_cap);
		if (!n) {
			fprintf(stderr, "parley-bench: out of memory\n");
			exit(2);
		}
		c->out = n;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	bench_client_queue(b, id);
}

void
bench_out_str(struct bench *b, unsigned int id, const char *s)
{
	bench_out_append(b, id, s, strlen(s));
}

void
bench_client_close(struct bench *b, unsigned int id, const char *why)
{
	struct bench_client *c = &b->clients[id];

	if (c->state == BENCH_CLOSED)
		return;
	if (c->state == BENCH_READY && b->ready > 0)
		b->ready--;
	if (c->state != BENCH_IDLE && c->fd >= 0)
		close(c->fd);
	bench_tls_free(c->tls);
	c->tls = NULL;
	c->fd = -1;
	c->state = BENCH_CLOSED;
	if (b->measuring) {
		b->res->disconnects++;
		return;
	}
	b->closed_in_setup++;
	if (!b->failed) {
		char msg[96];

		snprintf(msg, sizeof(msg), "client %u: %s", id, why);
		bench_fail(b, "disconnected before the run: %s", msg);
	}
}

static int
bench_client_start(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = id};
	int one = 1, fd;

	fd = socket(b->addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&b->addr, b->addr_len) < 0 &&
	    errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	c->fd = fd;
	c->state = BENCH_CONNECTING;
	b->started++;
	return 0;
}

static void
bench_client_register(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];
	char line[128];

	c->state = BENCH_REGISTERING;
	if (b->cfg->ws) {
		char req[512];
		size_t n = wsclient_request(req, sizeof(req), b->cfg->host,
					    b->cfg->port);
		bench_out_raw(b, id, req, n);
		return;
	}
	if (b->cfg->proto != BENCH_PROTO_IRC)
		return;
	c->nick_len =
	    (unsigned int)snprintf(c->nick, sizeof(c->nick), "pb%u", id);
	snprintf(line, sizeof(line), "NICK %s\r\nUSER %s 0 * :parley-bench\r\n",
		 c->nick, c->nick);
	bench_out_str(b, id, line);
}

static void bench_client_read(struct bench *b, unsigned int id);

/* --tls: one step of the handshake; the client registers once it is
 * done. */
static void
bench_client_handshake(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = id};
	int want_write = 0, r = bench_tls_handshake(c->tls, &want_write);

	if (r < 0) {
		bench_client_close(b, id, "TLS handshake failed");
		return;
	}
	if (r == 0) {
		ev.events = want_write ? EPOLLOUT : EPOLLIN;
		(void)epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		return;
	}
	c->handshaking = 0;
	(void)epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	bench_client_register(b, id);
	bench_client_read(b, id); /* what the library may already hold */
}

static void
bench_client_connected(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = id};
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		bench_client_close(b, id, err ? strerror(err) : "connect");
		return;
	}
	if (b->cfg->tls) {
		c->tls = bench_tls_new(c->fd, NULL);
		if (!c->tls) {
			bench_client_close(b, id, "no TLS connection");
			return;
		}
		c->handshaking = 1;
		c->state = BENCH_REGISTERING;
		bench_client_handshake(b, id);
		return;
	}
	(void)epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	bench_client_register(b, id);
}

/* Sends from out: the count, -EAGAIN or -errno. */
static ssize_t
bench_client_send(struct bench_client *c)
{
	ssize_t n;

	if (c->tls)
		return bench_tls_write(c->tls, c->out + c->out_off,
				       c->out_len - c->out_off);
	do {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static void
bench_client_flush(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];
	struct epoll_event ev = {.data.u32 = id};
	ssize_t n;

	c->queued = 0;
	if (c->state == BENCH_CLOSED || c->state == BENCH_CONNECTING ||
	    c->handshaking)
		return;
	while (c->out_off < c->out_len) {
		n = bench_client_send(c);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			bench_client_close(b, id, strerror((int)-n));
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if ((c->out_len > 0) != c->pollout) {
		c->pollout = c->out_len > 0;
		ev.events = EPOLLIN | (c->pollout ? EPOLLOUT : 0);
		(void)epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void
bench_flush_all(struct bench *b)
{
	unsigned int i;

	/* A flush can close a client, never queue one: the list is stable. */
	for (i = 0; i < b->nflush; i++)
		bench_client_flush(b, b->flush[i]);
	b->nflush = 0;
}

void
bench_client_ready(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];

	if (c->state == BENCH_READY)
		return;
	c->state = BENCH_READY;
	b->ready++;
}

/* Reads into rbuf after the carried bytes: the count, 0 at the end,
 * -EAGAIN or -errno. */
static ssize_t
bench_client_recv(struct bench *b, struct bench_client *c)
{
	ssize_t n;

	if (c->tls)
		return bench_tls_read(c->tls, b->rbuf + c->carry_len,
				      BENCH_READ_MAX);
	do {
		n = read(c->fd, b->rbuf + c->carry_len, BENCH_READ_MAX);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* One read's worth of lines; returns 1 if TLS holds more already read
 * from the socket (epoll will not say so). */
static int
bench_client_read_once(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];
	char *p, *end, *nl;
	ssize_t n;
	int64_t t;

	memcpy(b->rbuf, c->carry, c->carry_len);
	n = bench_client_recv(b, c);
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return 0;
	if (n <= 0) {
		bench_client_close(
		    b, id, n == 0 ? "connection closed" : strerror((int)-n));
		return 0;
	}
	t = bench_now();
	b->t_last_input = t;
	if (b->cfg->ws) {
		size_t total = c->carry_len + (size_t)n;
		size_t left = bench_ws_input(b, id, b->rbuf, total, t);
		if (c->state == BENCH_CLOSED)
			return 0;
		if (left >= BENCH_LINE_MAX) {
			bench_client_close(b, id, "WebSocket head too long");
			return 0;
		}
		memcpy(c->carry, b->rbuf + total - left, left);
		c->carry_len = (unsigned int)left;
		return c->tls && bench_tls_pending(c->tls);
	}
	p = b->rbuf;
	end = b->rbuf + c->carry_len + n;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		bench_line(b, id, p, (size_t)(nl - p), t);
		if (c->state == BENCH_CLOSED)
			return 0;
		p = nl + 1;
	}
	c->carry_len = (unsigned int)(end - p);
	if (c->carry_len >= BENCH_LINE_MAX) {
		if (b->measuring)
			b->res->corrupt++; /* a line longer than any of ours */
		c->carry_len = 0;
	}
	memcpy(c->carry, p, c->carry_len);
	return c->tls && bench_tls_pending(c->tls);
}

static void
bench_client_read(struct bench *b, unsigned int id)
{
	while (bench_client_read_once(b, id))
		;
}

/* --- the loop ----------------------------------------------------------- */

static int
bench_poll(struct bench *b, int64_t deadline)
{
	struct epoll_event ev[BENCH_EVENTS];
	struct timespec ts;
	int64_t wait = deadline - bench_now();
	int i, n;

	bench_flush_all(b);
	if (wait < 0)
		wait = 0;
	ts.tv_sec = wait / BENCH_NS;
	ts.tv_nsec = wait % BENCH_NS;
	n = epoll_pwait2(b->epfd, ev, BENCH_EVENTS, &ts, NULL);
	if (n < 0 && errno == ENOSYS)
		n = epoll_wait(b->epfd, ev, BENCH_EVENTS,
			       (int)((wait + 999999) / 1000000));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		unsigned int id = ev[i].data.u32;
		struct bench_client *c = &b->clients[id];

		if (c->state == BENCH_CLOSED)
			continue;
		if (c->state == BENCH_CONNECTING) {
			bench_client_connected(b, id);
			continue;
		}
		if (c->handshaking) {
			bench_client_handshake(b, id);
			continue;
		}
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			bench_client_read(b, id);
		if ((ev[i].events & EPOLLOUT) && c->state != BENCH_CLOSED)
			bench_client_queue(b, id);
	}
	b->now = bench_now();
	return 0;
}

static int
bench_setup(struct bench *b)
{
	int64_t deadline =
	    bench_now() + (int64_t)(b->cfg->connect_timeout_s * BENCH_NS);
	char msg[128];
	int err;

	while (b->ready < b->nclients && !b->failed) {
		while (b->started < b->nclients &&
		       b->started - b->ready < b->cfg->connect_parallel) {
			err = bench_client_start(b, b->started);
			if (err < 0) {
				snprintf(msg, sizeof(msg), "connect: %s",
					 strerror(-err));
				bench_fail(b, "%s", msg);
				return err;
			}
		}
		err = bench_poll(b, b->now + 100 * 1000000LL);
		if (err < 0)
			return err;
		if (b->now > deadline) {
			snprintf(msg, sizeof(msg),
				 "only %u of %u clients joined within %.0f s%s",
				 b->ready, b->nclients,
				 b->cfg->connect_timeout_s,
				 b->opers_refused ? " (OPER was refused: some "
						    "servers then delay the "
						    "client)"
						  : "");
			bench_fail(b, "%s", msg);
			return -ETIMEDOUT;
		}
	}
	if (b->failed)
		return -ECONNRESET;
	/* Let the join notices (N^2/2 lines) drain before measuring. */
	b->t_last_input = b->now;
	deadline = b->now + BENCH_SETTLE_MAX_NS;
	while (b->now - b->t_last_input < BENCH_SETTLE_QUIET_NS &&
	       b->now < deadline && !b->failed) {
		err = bench_poll(b, b->t_last_input + BENCH_SETTLE_QUIET_NS);
		if (err < 0)
			return err;
	}
	return b->failed ? -ECONNRESET : 0;
}

struct bench_snapshot {
	int64_t t;
	struct procstat_tree tree;
	struct procstat_machine machine;
	struct rusage self;
	int has_tree;
};

static void
bench_snapshot(struct bench *b, struct bench_snapshot *s, int with_memory)
{
	memset(s, 0, sizeof(*s));
	s->t = bench_now();
	if (b->cfg->server_pid > 0)
		s->has_tree = procstat_read_tree(b->cfg->server_pid,
						 with_memory, &s->tree) == 0;
	if (procstat_read_machine(&s->machine) < 0)
		memset(&s->machine, 0, sizeof(s->machine));
	getrusage(RUSAGE_SELF, &s->self);
}

static uint64_t
bench_rusage_ns(const struct rusage *r)
{
	return (uint64_t)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * BENCH_NS +
	       (uint64_t)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) * 1000;
}

static void
bench_progress(struct bench *b)
{
	double el = (double)(b->now - b->t0) / BENCH_NS;
	uint64_t expected = b->sent_total * b->receivers;

	fprintf(stderr,
		"\r\033[K[%5.1fs] sent %llu  delivered %llu/%llu  %.0f/s  "
		"dup %llu  reorder %llu  corrupt %llu  disc %llu",
		el, (unsigned long long)b->sent_total,
		(unsigned long long)b->track.unique,
		(unsigned long long)expected,
		el > 0 ? (double)b->track.unique / el : 0.0,
		(unsigned long long)b->track.dups,
		(unsigned long long)b->track.reorders,
		(unsigned long long)b->res->corrupt,
		(unsigned long long)b->res->disconnects);
}

/* No /proc reads here: summing Pss over 1,001 fork-model processes takes
 * this process 0.1-0.5 s, which stalled every receiver once a second and
 * showed up as the fork model's p99. Memory is read once, at the end. */
static void
bench_tick(struct bench *b)
{
	if (b->cfg->progress)
		bench_progress(b);
	b->t_next_tick += BENCH_TICK_NS;
}

static int
bench_done(struct bench *b)
{
	int64_t idle = (int64_t)(b->cfg->drain_timeout_s * BENCH_NS);

	if (b->cfg->rate <= 0 && b->senders_done == b->nsenders)
		b->sending_done = 1;
	if (b->cfg->rate <= 0 && b->t_stop && b->now >= b->t_stop)
		b->sending_done = 1;
	if (b->sending_done && b->track.unique >= b->sent_total * b->receivers)
		return 1;
	if (b->now - b->t_last_activity > idle ||
	    b->now - b->t0 > (int64_t)(b->cfg->timeout_s * BENCH_NS)) {
		b->res->stalled = 1;
		return 1;
	}
	return 0;
}

static int
bench_measure(struct bench *b)
{
	int64_t deadline;
	unsigned int i;
	int err;

	b->measuring = 1;
	b->now = b->t0 = bench_now();
	b->t_last_activity = b->t_last_delivery = b->t0;
	b->t_next_tick = b->t0 + BENCH_TICK_NS;
	if (b->cfg->duration_s > 0)
		b->t_stop = b->t0 + (int64_t)(b->cfg->duration_s * BENCH_NS);
	if (b->cfg->rate > 0) {
		b->period_ns = (int64_t)((double)BENCH_NS / b->cfg->rate);
		bench_open_due(b);
	} else {
		for (i = 0; i < b->nsenders; i++)
			bench_closed_fill(b, &b->senders[i]);
	}
	while (!bench_done(b)) {
		deadline = b->t_next_tick;
		if (b->cfg->rate > 0 && !b->sending_done &&
		    bench_open_next_due(b) < deadline)
			deadline = bench_open_next_due(b);
		if (b->t_stop && b->now < b->t_stop && b->t_stop < deadline)
			deadline = b->t_stop;
		err = bench_poll(b, deadline);
		if (err < 0)
			return err;
		if (b->cfg->rate > 0)
			bench_open_due(b);
		else if (b->t_stop && b->now >= b->t_stop)
			b->sending_done = 1;
		if (b->now >= b->t_next_tick)
			bench_tick(b);
	}
	if (b->cfg->progress)
		fputc('\n', stderr);
	return 0;
}

static int
bench_alloc(struct bench *b)
{
	const struct bench_config *cfg = b->cfg;
	unsigned int i, step;

	b->nclients = cfg->clients;
	b->nsenders = cfg->senders;
	b->receivers = cfg->clients - 1;
	b->clients = calloc(b->nclients, sizeof(*b->clients));
	b->senders = calloc(b->nsenders, sizeof(*b->senders));
	b->flush = calloc(b->nclients, sizeof(*b->flush));
	b->rbuf = malloc(BENCH_READ_MAX + BENCH_LINE_MAX);
	b->wsbuf = malloc(4 * BENCH_LINE_MAX);
	b->ws_seed = 0x9e3779b9u;
	if (!b->clients || !b->senders || !b->flush || !b->rbuf || !b->wsbuf)
		return -ENOMEM;
	for (i = 0; i < b->nclients; i++) {
		b->clients[i].fd = -1;
		b->clients[i].sender = -1;
		b->clients[i].carry = malloc(BENCH_LINE_MAX);
		if (!b->clients[i].carry)
			return -ENOMEM;
		if (!cfg->ws)
			continue;
		b->clients[i].rd = calloc(1, sizeof(struct ws_reader));
		if (!b->clients[i].rd)
			return -ENOMEM;
		b->clients[i].rd->max_msg = BENCH_LINE_MAX;
		b->clients[i].rd->msg = malloc(BENCH_LINE_MAX);
		if (!b->clients[i].rd->msg)
			return -ENOMEM;
	}
	/* Spread senders over the clients (and so over server workers). */
	step = b->nclients / b->nsenders;
	for (i = 0; i < b->nsenders; i++) {
		b->senders[i].client = i * step;
		b->clients[i * step].sender = (int)i;
		b->senders[i].reach =
		    calloc(cfg->window ? cfg->window : 1, sizeof(uint32_t));
		if (!b->senders[i].reach)
			return -ENOMEM;
	}
	return track_init(&b->track, b->nclients, b->nsenders);
}

static void
bench_free(struct bench *b)
{
	unsigned int i;

	if (b->clients) {
		for (i = 0; i < b->nclients; i++) {
			if (b->clients[i].fd >= 0)
				close(b->clients[i].fd);
			bench_tls_free(b->clients[i].tls);
			free(b->clients[i].carry);
			free(b->clients[i].out);
			if (b->clients[i].rd)
				free(b->clients[i].rd->msg);
			free(b->clients[i].rd);
		}
	}
	if (b->senders)
		for (i = 0; i < b->nsenders; i++)
			free(b->senders[i].reach);
	if (b->epfd >= 0)
		close(b->epfd);
	track_free(&b->track);
	free(b->clients);
	free(b->senders);
	free(b->flush);
	free(b->rbuf);
	free(b->wsbuf);
}

static void
bench_report(struct bench *b, const struct bench_snapshot *s0,
	     const struct bench_snapshot *s1)
{
	struct bench_result *r = b->res;
	uint64_t busy, total;

	r->sent = b->sent_total;
	r->expected = b->sent_total * b->receivers;
	r->delivered = b->track.unique;
	r->lost = r->expected > r->delivered ? r->expected - r->delivered : 0;
	r->dups = b->track.dups;
	r->reorders = b->track.reorders;
	r->duration_s = (double)(b->t_last_delivery - b->t0) / BENCH_NS;
	r->bench_cpu_ns =
	    bench_rusage_ns(&s1->self) - bench_rusage_ns(&s0->self);
	r->bench_ctxsw = (uint64_t)(s1->self.ru_nvcsw + s1->self.ru_nivcsw -
				    s0->self.ru_nvcsw - s0->self.ru_nivcsw);
	r->machine_ctxsw = s1->machine.ctxt - s0->machine.ctxt;
	busy = s1->machine.busy_ticks - s0->machine.busy_ticks;
	total = s1->machine.total_ticks - s0->machine.total_ticks;
	r->machine_busy = total ? (double)busy / (double)total : 0;
	r->machine_busy_ns = busy * (uint64_t)(BENCH_NS / procstat_tick_hz());
	r->machine_irq_ns = (s1->machine.irq_ticks - s0->machine.irq_ticks) *
			    (uint64_t)(BENCH_NS / procstat_tick_hz());
	r->wall_s = (double)(s1->t - s0->t) / BENCH_NS;
	if (s0->has_tree && s1->has_tree) {
		r->has_server = 1;
		r->server_cpu_ns = s1->tree.cpu_ns - s0->tree.cpu_ns;
		r->server_hwm_kb = s1->tree.hwm_kb;
		r->server_pss_kb = s1->tree.pss_kb;
		r->server_ctxsw = s1->tree.ctxsw > s0->tree.ctxsw
				      ? s1->tree.ctxsw - s0->tree.ctxsw
				      : 0;
		r->server_procs = s1->tree.nprocs;
	}
}

int
bench_run(const struct bench_config *cfg, struct bench_result *res)
{
	struct bench b = {.cfg = cfg, .res = res, .epfd = -1};
	struct bench_snapshot s0, s1;
	int64_t t_setup;
	int err;

	memset(res, 0, sizeof(*res));
	hist_reset(&res->latency);
	signal(SIGPIPE, SIG_IGN);
	err = bench_alloc(&b);
	if (err < 0) {
		bench_fail(&b, "%s", "out of memory");
		goto out;
	}
	b.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b.epfd < 0) {
		err = -errno;
		bench_fail(&b, "epoll_create1: %s", strerror(errno));
		goto out;
	}
	err = bench_resolve(&b);
	if (err < 0)
		goto out;
	t_setup = b.now = bench_now();
	err = bench_setup(&b);
	if (err < 0)
		goto out;
	res->setup_s = (double)(b.now - t_setup) / BENCH_NS;
	bench_snapshot(&b, &s0, 0);
	err = bench_measure(&b);
	bench_snapshot(&b, &s1, 1);
	bench_report(&b, &s0, &s1);
out:
	if (err < 0 && !res->error[0])
		snprintf(res->error, sizeof(res->error), "%s", strerror(-err));
	bench_free(&b);
	return err;
}
