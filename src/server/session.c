/*
 * session: the child process that serves clients, in both process models
 * (one client, or a worker's many). Each loop iteration reads input,
 * publishes its outbox once, delivers the timeline in order, writes each
 * client's accumulated output once, and only then frees clients that were
 * closed during the iteration. It trusts nothing from its channel and dies
 * with the supervisor.
 */
#include "server/session.h"

#include "lib/log.h"
#include "server/sandbox.h"
#include "server/session_int.h"
#include "server/tls_ctx.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

void
session_publish(struct session *s)
{
	if (s->w.head == s->published || s->channel_dead)
		return;
	s->published = s->w.head;
	if (outbox_publish(&s->w) &&
	    channel_send(&s->chan, CHANNEL_MARK, NULL, 0, -1,
			 SESSION_CHANNEL_QUEUE) < 0)
		fatalx("cannot send a mark to the supervisor");
}

void
session_begin_shutdown(struct session *s, enum proto_event ev, const char *text)
{
	if (s->shutting_down)
		return;
	s->shutting_down = 1;
	s->shutdown_deadline_ms = loop_time_ms(s->loop) + SESSION_LINGER_MS;
	for (struct client *c = s->clients; c; c = c->next) {
		if (c->closing)
			continue;
		if (c->opened) /* not greeted: not told either */
			c->pc.proto->event(&c->pc, ev, text, 0);
		session_client_close(s, c, CHANNEL_REASON_SHUTDOWN,
				     "server shutting down");
	}
}

/* ---- control ------------------------------------------------------------- */

/* A reloaded certificate: new connections use it, open ones keep theirs.
 * The supervisor has checked it; should it fail here anyway, the old one
 * stays. */
static void
session_tls_context(const void *payload, int fd)
{
	struct channel_tls_context m;
	struct tls_pem pem;
	char why[256];
	SSL_CTX *ctx;
	int err;

	memcpy(&m, payload, sizeof(m));
	err = tls_pem_from_memfd(&pem, fd, m.cert_len, m.key_len, m.ticket_len);
	if (err < 0) {
		log_warn("TLS certificate %u not received: %s; keeping %u",
			 m.generation, strerror(-err), tls_ctx_generation());
		return;
	}
	ctx = tls_ctx_build(&pem, why, sizeof(why));
	tls_pem_free(&pem);
	if (!ctx) {
		log_warn("TLS certificate %u unusable here: %s; keeping %u",
			 m.generation, why, tls_ctx_generation());
		return;
	}
	tls_ctx_install(ctx, m.generation);
	log_debug("TLS certificate %u in use for new connections",
		  m.generation);
}

static void
session_handle_message(struct session *s, const struct channel_hdr *h,
		       const void *payload, int len, int fd)
{
	switch (h->type) {
	case CHANNEL_CLIENT_NEW: {
		struct channel_client_new m;
		if (fd < 0 || (size_t)len != sizeof(m))
			fatalx("malformed CLIENT_NEW");
		memcpy(&m, payload, sizeof(m));
		m.nick[sizeof(m.nick) - 1] = '\0';
		m.user[sizeof(m.user) - 1] = '\0';
		m.host[sizeof(m.host) - 1] = '\0';
		m.addr[sizeof(m.addr) - 1] = '\0';
		if (s->shutting_down) {
			log_debug("client %s (%s) handed over during shutdown: "
				  "closed",
				  m.nick, m.addr);
			close(fd);
			break;
		}
		/* Handed over while we were stalled: the clients we had are
		 * lapped first, the new one starts at the present. */
		(void)session_check_out(s);
		session_client_add(s, &m, fd);
		break;
	}
	case CHANNEL_KICK: {
		struct channel_kick m;
		if ((size_t)len != sizeof(m))
			fatalx("malformed KICK");
		memcpy(&m, payload, sizeof(m));
		m.text[sizeof(m.text) - 1] = '\0';
		struct client *c = session_client_get(s, m.client);
		if (c)
			session_client_close(
			    s, c, m.reason ? m.reason : CHANNEL_REASON_KICKED,
			    m.text);
		break;
	}
	case CHANNEL_SHUTDOWN:
		session_begin_shutdown(s, PROTO_EV_SHUTDOWN, NULL);
		break;
	case CHANNEL_TLS_CONTEXT:
		if (fd < 0 || (size_t)len != sizeof(struct channel_tls_context))
			fatalx("malformed TLS_CONTEXT");
		session_tls_context(payload, fd);
		close(fd);
		break;
	case CHANNEL_FLOW_GO:
		session_flow_go(s);
		break;
	case CHANNEL_STALLED:
		/* A hint: the next read of the timeline finds the slot out,
		 * so a session resumed after SIGSTOP notices at once. */
		break;
	default:
		fatalx("unexpected channel message type %u", h->type);
	}
}

static void
session_on_channel(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct session *s = arg;
	char payload[CHANNEL_MSG_MAX];
	struct channel_hdr h;
	int passed, n;

	(void)loop;
	(void)fd;
	if (events & EPOLLOUT)
		(void)channel_flush(&s->chan);
	for (;;) {
		n = channel_recv(&s->chan, &h, payload, &passed);
		if (n == -EAGAIN)
			return;
		if (n < 0)
			break;
		session_handle_message(s, &h, payload, n, passed);
	}
	if (n == -EBADMSG)
		fatalx("malformed channel message");
	/* EOF or error: the supervisor is gone. */
	loop_del(s->loop, s->chan.fd);
	s->channel_dead = 1;
	session_begin_shutdown(s, PROTO_EV_CLOSED, "server stopped");
}

static void
session_on_wake(struct loop *loop, int fd, uint32_t events, void *arg)
{
	/* Nothing to do: every iteration reads the timeline. */
	(void)loop;
	(void)fd;
	(void)events;
	(void)arg;
}

static void
session_on_signal(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct session *s = arg;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM)
			session_begin_shutdown(s, PROTO_EV_SHUTDOWN, NULL);
	}
}

/* ---- the loop ------------------------------------------------------------ */

/* A reload changed settings: what depends on them follows now. */
static void
session_settings_changed(struct session *s)
{
	log_set_level(s->cfg->verbose ? LOG_DEBUG : LOG_INFO);
	/* Throttled clients wait by the old flood limits: look again. */
	for (struct client *c = s->throttled; c; c = c->throttled_next)
		c->throttled_until_ms = loop_time_ms(s->loop);
	/* The ping pass runs every quarter --ping-timeout: a new one takes
	 * effect at the next pass, which is now. */
	s->ping_check_ms = loop_time_ms(s->loop);
}

static void
session_publish_stats(struct session *s)
{
	if (s->st.v.tl_pos != s->tl_pos) {
		s->st.v.tl_pos = s->tl_pos;
		s->st.dirty = 1;
	}
	stats_publish(s->st_sh, &s->st);
}

static int
session_timeout(struct session *s)
{
	long long next = -1, now = loop_time_ms(s->loop);

	/* Input paused for outbox room resumes on CHANNEL_FLOW_GO; the
	 * retry only guards against a lost one. */
	if (s->ready && !s->flow_blocked)
		return 0;
	if (s->linger_poll)
		return 10; /* no event says "send queue empty": poll */
	if (s->flow_blocked)
		next = now + SESSION_FLOW_RETRY_MS;
	for (struct client *c = s->throttled; c; c = c->throttled_next)
		if (next < 0 || c->throttled_until_ms < next)
			next = c->throttled_until_ms;
	int sendq_ms = session_check_sendq(s, 0);
	if (sendq_ms >= 0 && (next < 0 || now + sendq_ms < next))
		next = now + sendq_ms;
	for (struct client *c = s->closing; c; c = c->closing_next)
		if (next < 0 || c->linger_until_ms < next)
			next = c->linger_until_ms;
	if (s->shutting_down && (next < 0 || s->shutdown_deadline_ms < next))
		next = s->shutdown_deadline_ms;
	long long due = session_opening_due(s);
	if (due >= 0 && (next < 0 || due < next))
		next = due;
	due = session_ping_due_ms(s);
	if (due >= 0 && (next < 0 || due < next))
		next = due;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static int
session_done(struct session *s)
{
	if (s->shutting_down &&
	    loop_time_ms(s->loop) >= s->shutdown_deadline_ms)
		return 1;
	if (s->nclients > 0)
		return 0;
	return s->shutting_down || s->channel_dead ||
	       (!s->worker && s->had_client);
}

static void
session_setup(struct session *s, const struct session_start *st)
{
	sigset_t mask;

	memset(s, 0, sizeof(*s));
	s->cfg_own = *st->cfg;
	s->cfg = &s->cfg_own;
	s->live = *st->live;
	live_protect(&s->live);
	s->st_sh = stats_slot(st->stats, st->slot);
	stats_protect(st->stats, st->slot);
	s->shm = st->shm;
	s->env.cfg = s->cfg;
	s->env.shm = st->shm;
	s->worker = st->worker;
	s->wake_fd = st->wake_fd;
	outbox_shm_protect(s->shm, (int)st->producer, (int)st->reader);
	outbox_writer_init(&s->w, s->shm, st->producer);
	s->published = s->w.head;
	flow_reader_init(&s->rd, s->shm, st->reader, st->flow_fd);
	s->free_from = flow_free_from(s->shm, st->producer);
	s->tl_pos = st->tl_pos;
	s->store_producer = st->store_producer;
	/* malloc's alignment (16) is enough, and malloc is what a fork-model
	 * session takes from its own heap (session_heap.h). */
	_Static_assert(OUTBOX_REC_ALIGN <= 16, "malloc aligns a record");
	s->recbuf = malloc((OUTBOX_REC_MAX + 7) & ~(size_t)7);
	s->scratch = malloc(LINE_SANITIZED_MAX(s->cfg->max_line) + 1);
	/* Mapped, not allocated: a page becomes memory only once a client
	 * of its slots is here (one page for a one-client session, however
	 * large --max-clients is). */
	s->by_slot =
	    mmap(NULL, (size_t)s->cfg->client_slots * sizeof(*s->by_slot),
		 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->by_slot == MAP_FAILED)
		s->by_slot = NULL;
	if (!s->recbuf || !s->scratch || !s->by_slot)
		fatal("session_setup");
	s->loop = loop_new();
	channel_init(&s->chan, st->channel_fd);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	s->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sig_fd < 0)
		fatal("signalfd");
	if (loop_add(s->loop, s->chan.fd, EPOLLIN | EPOLLOUT | EPOLLET,
		     session_on_channel, s) < 0 ||
	    loop_add(s->loop, s->wake_fd, EPOLLIN | EPOLLET, session_on_wake,
		     s) < 0 ||
	    loop_add(s->loop, s->sig_fd, EPOLLIN, session_on_signal, s) < 0)
		fatal("session loop");
	/* Set up: from here on it only serves its clients (DESIGN.md
	 * section 11). */
	int err = sandbox_enter();
	if (err < 0) {
		errno = -err;
		fatal("cannot enter the sandbox");
	}
}

void
session_main(const struct session_start *st)
{
	struct session s;
	char tag[32];

	snprintf(tag, sizeof(tag), "%s %d", st->worker ? "worker" : "session",
		 (int)getpid());
	log_set_tag(tag);
	signal(SIGINT, SIG_IGN); /* Ctrl-C is the supervisor's to handle */
	session_setup(&s, st);
	if (st->client)
		session_client_add(&s, st->client, st->client_fd);
	for (;;) {
		session_process_input(&s);
		session_publish(&s);
		session_read_timeline(&s);
		session_publish(&s);
		(void)session_check_sendq(&s, 1);
		session_flush(&s);
		session_reap(&s);
		session_publish_stats(&s);
		if (!s.channel_dead)
			(void)channel_flush(&s.chan);
		if (session_done(&s))
			break;
		if (loop_run_once(s.loop, session_timeout(&s)) < 0)
			fatal("epoll_wait");
		if (live_refresh(&s.live, &s.cfg_own))
			session_settings_changed(&s);
		session_wake_throttled(&s);
		session_check_opening(&s);
		session_ping_idle(&s);
	}
	flow_reader_leave(&s.rd); /* nobody waits for us any more */
	for (struct client *c = s.clients, *next; c; c = next) {
		next = c->next;
		session_client_free(&s, c);
	}
	session_publish_stats(&s);
	/* Let the supervisor read our last messages before we go. */
	long long deadline = loop_now_ms() + 1000;
	while (!s.channel_dead && channel_flush(&s.chan) == -EAGAIN &&
	       loop_now_ms() < deadline) {
		struct pollfd pfd = {.fd = s.chan.fd, .events = POLLOUT};
		(void)poll(&pfd, 1, 100);
	}
	_exit(0);
}
