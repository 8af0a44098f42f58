/*
 * store: the store process's loop. Each turn it reads the timeline from
 * its cursor (store_read_timeline, through store_read.c: the one place
 * its positions move), adds what it archives to the open batch, commits
 * when the batch is full or old enough, and answers requests in the order
 * they came: a history request once everything before it in the timeline
 * is in the database. Its cursor only moves past what is committed or
 * being committed, so a crash resumes from the last commit and loses
 * nothing still in the rings. What it sends before its READY is in
 * store_start.c; its state, in store_int.h.
 */
#include "server/store.h"
#include "server/store_int.h"

#include "lib/log.h"
#include "lib/loop.h"
#include "server/channel.h"
#include "server/core.h"
#include "server/sandbox.h"
#include "server/store_accounts.h"
#include "server/store_db.h"
#include "server/store_exec.h"
#include "server/store_read.h"
#include "server/store_rooms.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define STORE_RETRY_MS	    250	 /* after a failed commit, doubling */
#define STORE_RETRY_MAX_MS  4000 /* up to this */
#define STORE_PRUNE_EVERY   (3600 * 1000LL)
#define STORE_PRUNE_CHUNK   10000 /* rows per prune transaction */
#define STORE_DAY_MS	    (86400 * 1000LL)
#define STORE_FLOW_RETRY_MS 250 /* looks for room again, GO or not */
/* The most a page of history writes to its ring. */
#define STORE_PAGE_BYTES(s) ((s)->shm->ring_size / 4)

/* ---- channel ------------------------------------------------------------- */

void
store_send(struct store *s, uint16_t type, const void *p, size_t len)
{
	if (s->channel_dead)
		return;
	if (channel_send(&s->chan, type, p, len, -1, STORE_CHANNEL_QUEUE) < 0) {
		log_warn("cannot reach the supervisor; stopping");
		s->channel_dead = 1;
		s->stopping = 1;
	}
}

static void
store_health(struct store *s, const char *why)
{
	struct channel_store_text t;

	memset(&t, 0, sizeof(t));
	snprintf(t.text, sizeof(t.text), "%s", why);
	store_send(s, CHANNEL_STORE_HEALTH, &t, sizeof(t));
}

/* ---- the batch ----------------------------------------------------------- */

static void
store_news(struct store *s)
{
	if (!s->dirty) {
		s->dirty = 1;
		s->first_ms = loop_now_ms();
	}
}

/* Commits fail: nothing of the batch is kept, so reading starts over
 * from the last commit (the rings still hold it) once a retry is due. */
static void
store_failed(struct store *s, const char *what)
{
	s->stats->failures++;
	store_db_rollback(s->db);
	store_reader_rewind(&s->rd);
	s->pending = 0;
	s->dirty = 0;
	s->retry_delay_ms = s->failing ? s->retry_delay_ms * 2 : STORE_RETRY_MS;
	if (s->retry_delay_ms > STORE_RETRY_MAX_MS)
		s->retry_delay_ms = STORE_RETRY_MAX_MS;
	s->retry_ms = loop_now_ms() + s->retry_delay_ms;
	if (!s->failing) {
		char why[CHANNEL_REASON_MAX];
		snprintf(why, sizeof(why), "%s: %s", what,
			 store_db_error(s->db));
		log_warn("%s; retrying, at least every %d s (chat goes "
			 "on; history and logins wait)",
			 why, STORE_RETRY_MAX_MS / 1000);
		store_health(s, why);
	}
	s->failing = 1;
}

/* Commits the batch with the position it ends at. Returns 0 or -1. */
static int
store_commit(struct store *s)
{
	unsigned rows = s->pending;
	int err;

	if (!s->dirty)
		return 0;
	err = store_db_commit(s->db, s->shm->tl->boot, s->rd.tl_pos,
			      s->rd.cursors, s->shm->nprod);
	if (err < 0) {
		store_failed(s, err == -ENOSPC ? "the disk is full"
					       : "cannot commit");
		return -1;
	}
	store_reader_committed(&s->rd);
	s->pending = 0;
	s->dirty = 0;
	s->stats->rows += rows;
	s->stats->commits++;
	__atomic_store_n(&s->stats->committed_tl, s->rd.ctl_pos,
			 __ATOMIC_RELAXED);
	if (s->failing) {
		log_info("commits work again");
		store_health(s, "");
	}
	s->failing = 0;
	return 0;
}

/* Whether v is a message store_archive would archive (a store_read_cb,
 * counting what a lap skips). */
static int
store_would_archive(void *arg, const struct outbox_view *v)
{
	const struct store *s = arg;
	uint16_t kind = v->rec->kind;

	return kind == OUTBOX_MSG ||
	       (kind == OUTBOX_PRIVMSG && s->cfg->store_private);
}

/* Archives one record (a store_read_cb). Returns 1 (a message), 0, or -1
 * (failed). */
static int
store_archive(void *arg, const struct outbox_view *v)
{
	struct store *s = arg;
	char msgid[OUTBOX_MSGID_MAX];
	const struct outbox_rec *r = v->rec;
	struct store_row row;
	int n;

	if (r->kind != OUTBOX_MSG && r->kind != OUTBOX_TOPIC &&
	    (r->kind != OUTBOX_PRIVMSG || !s->cfg->store_private))
		return 0;
	if (store_db_begin(s->db) < 0)
		return -1;
	store_news(s);
	if (r->kind == OUTBOX_TOPIC)
		return store_db_set_topic(s->db, v->room, v->text, v->nick,
					  r->ts_ms) < 0
			   ? -1
			   : 0;
	(void)outbox_msgid(s->shm, v, msgid);
	row = (struct store_row){
	    .room = v->room,
	    .msgid = outbox_str(msgid),
	    .ts_ms = r->ts_ms,
	    .flags = r->aux,
	    .nick = v->nick,
	    .account = v->acct,
	    .user = v->user,
	    .host = v->host,
	    .text = v->text,
	    .target = v->arg,
	};
	n = r->kind == OUTBOX_MSG ? store_db_add_message(s->db, &row)
				  : store_db_add_private(s->db, &row);
	if (n < 0)
		return -1;
	s->pending += (unsigned)n;
	return n;
}

/* Reads the timeline up to entry until (exclusive) and at most max
 * messages, archiving. Returns 0, or -1 when archiving failed. */
static int
store_read_timeline(struct store *s, uint64_t until, unsigned max)
{
	uint64_t was = s->rd.tl_pos;

	switch (store_reader_read(&s->rd, until, max, store_archive, s)) {
	case STORE_READ_FAILED:
		return -1;
	case STORE_READ_LAPPED:
		log_warn("was marked stalled or fell behind: %s%llu message%s "
			 "written meanwhile not archived; archiving again "
			 "from timeline %llu",
			 s->rd.lost_exact ? "" : "at least ",
			 (unsigned long long)s->rd.lost,
			 s->rd.lost == 1 ? "" : "s",
			 (unsigned long long)s->rd.tl_pos);
		s->stats->unarchived += s->rd.lost;
		store_news(s);
		return 0;
	case STORE_READ_OK:
		break;
	}
	if (s->rd.tl_pos != was)
		store_news(s);
	return 0;
}

/* ---- answers ------------------------------------------------------------- */

struct store_page {
	struct store *s;
	uint64_t client;
	size_t bytes, max_bytes;
	unsigned count;
};

static void
store_history_row_cb(void *arg, const struct store_row *row)
{
	struct store_page *pg = arg;
	uint64_t seq = (uint64_t)row->seq;
	struct outbox_new m = {
	    .kind = OUTBOX_HISTORY,
	    .aux = (uint16_t)row->flags,
	    .target = pg->client,
	    .ts_ms = row->ts_ms,
	    .ids = &seq,
	    .nids = 1,
	    .nick = row->nick,
	    .user = row->user,
	    .host = row->host,
	    .acct = row->account,
	    .room = row->room,
	    .arg = row->msgid,
	    .text = row->text,
	};
	size_t bytes = outbox_put_size(&pg->s->w, &m);

	/* A page never fills the ring (store_room made room for one):
	 * what is left, /history pages on. */
	if (pg->bytes + bytes > pg->max_bytes)
		return;
	pg->bytes += bytes;
	pg->count++;
	outbox_put(&pg->s->w, &m);
}

static void
store_done(struct store *s, const struct channel_store_done *d)
{
	/* The records go before the answer that lets the supervisor mark
	 * them. */
	(void)outbox_publish(&s->w);
	store_send(s, CHANNEL_STORE_DONE, d, sizeof(*d));
}

static void
store_history(struct store *s, struct channel_store_history *h)
{
	struct store_page pg = {s, h->client, 0, STORE_PAGE_BYTES(s), 0};
	struct channel_store_done d = {.tag = h->tag};
	struct store_ref ref, ref2;
	unsigned limit =
	    h->limit > STORE_HISTORY_MAX ? STORE_HISTORY_MAX : h->limit;
	int n;

	h->room[sizeof(h->room) - 1] = '\0';
	h->ref[sizeof(h->ref) - 1] = '\0';
	h->ref2[sizeof(h->ref2) - 1] = '\0';
	if (store_ref_parse(h->ref, &ref) < 0 ||
	    store_ref_parse(h->ref2, &ref2) < 0) {
		d.err = CORE_ERR_HISTORY_REF;
		snprintf(d.arg, sizeof(d.arg), "%s",
			 store_ref_parse(h->ref, &ref) < 0 ? h->ref : h->ref2);
		store_done(s, &d);
		return;
	}
	n = store_db_history(s->db, h->room, h->selector, &ref, &ref2, limit,
			     store_history_row_cb, &pg);
	if (n == -ENOENT || n == -ENXIO) {
		d.err = CORE_ERR_HISTORY_REF;
		snprintf(d.arg, sizeof(d.arg), "%s",
			 n == -ENXIO ? h->ref2 : h->ref);
	} else if (n < 0) {
		log_warn("history of %s: %s", h->room, store_db_error(s->db));
		d.err = CORE_ERR_STORE_DOWN;
	}
	d.count = pg.count;
	s->stats->history++;
	store_done(s, &d);
}

static void
store_account(struct store *s, struct channel_store_account *a)
{
	struct channel_store_done d;
	struct store_nick_change chg;
	int wrote;

	if (s->failing) {
		explicit_bzero(a->pass, sizeof(a->pass));
		explicit_bzero(a->pass2, sizeof(a->pass2));
		d = (struct channel_store_done){.tag = a->tag,
						.err = CORE_ERR_STORE_DOWN};
		store_done(s, &d);
		return;
	}
	wrote = store_accounts_run(&s->acc, s->db, a, loop_now_ms(), &d, &chg);
	if (wrote) {
		store_news(s);
		if (store_commit(s) < 0) {
			d.err = CORE_ERR_STORE_DOWN;
			chg.op = 0;
		}
	}
	if (chg.op) {
		struct channel_store_nicks m = {.op = (uint16_t)chg.op,
						.count = 1};
		int len = snprintf(m.names, sizeof(m.names), "%s ", chg.name);
		m.len = (uint32_t)len;
		store_send(s, CHANNEL_STORE_NICKS, &m,
			   offsetof(struct channel_store_nicks, names) +
			       (size_t)len);
	}
	store_done(s, &d);
}

/* Whether its ring has room for a page of history: like a session, it
 * never overwrites a record a live reader has not read (flow.h). If not,
 * it asks the supervisor to say (CHANNEL_FLOW_GO) once all but the
 * newest quarter is read, and looks again then or on its retry timer. */
static int
store_room(struct store *s)
{
	size_t size = s->shm->ring_size, page = STORE_PAGE_BYTES(s);
	struct channel_flow m = {.target = s->w.head - size / 4};

	s->flow_wait = 0;
	if (flow_room(s->free_from, size, s->w.head, page))
		return 1;
	s->free_from = flow_free_from(s->shm, s->producer);
	if (flow_room(s->free_from, size, s->w.head, page))
		return 1;
	if (!s->flow_asked) {
		/* Without room the head is past 3/4 of the ring: no wrap. */
		store_send(s, CHANNEL_FLOW, &m, sizeof(m));
		s->flow_asked = 1;
	}
	s->flow_wait = 1;
	return 0;
}

/* Answers the requests whose turn it is. */
static void
store_answer(struct store *s)
{
	while (s->q_head) {
		struct store_req *r = s->q_head;
		if (r->type == CHANNEL_STORE_HISTORY) {
			if (s->failing) {
				struct channel_store_done d = {
				    .tag = r->u.h.tag,
				    .err = CORE_ERR_STORE_DOWN};
				store_done(s, &d);
			} else if (r->u.h.tl_pos > s->rd.tl_pos ||
				   !store_room(s)) {
				return;
			} else {
				store_history(s, &r->u.h);
			}
		} else {
			store_account(s, &r->u.a);
		}
		s->q_head = r->next;
		if (!s->q_head)
			s->q_tail = NULL;
		explicit_bzero(r, sizeof(*r));
		free(r);
	}
}

static void
store_queue(struct store *s, uint16_t type, const void *payload, int len)
{
	size_t want = type == CHANNEL_STORE_HISTORY
			  ? sizeof(struct channel_store_history)
			  : sizeof(struct channel_store_account);
	struct store_req *r;

	if ((size_t)len != want)
		fatalx("store: malformed request (type %u, %d bytes)", type,
		       len);
	if (!(r = calloc(1, sizeof(*r))))
		fatal("store request");
	r->type = type;
	memcpy(&r->u, payload, want);
	if (s->q_tail)
		s->q_tail->next = r;
	else
		s->q_head = r;
	s->q_tail = r;
}

/* A registered room's change: written at once (in the open batch, if
 * one is), never waited for by the supervisor. */
static void
store_room_change(struct store *s, const void *payload, int len)
{
	struct channel_store_room m;

	if ((size_t)len != sizeof(m))
		fatalx("store: malformed room change (%d bytes)", len);
	memcpy(&m, payload, sizeof(m));
	if (store_rooms_apply(s->db, &m) < 0)
		log_warn("cannot keep a change to %s: %s",
			 m.room[0] ? m.room : "the server bans",
			 store_db_error(s->db));
}

/* A reload (SIGHUP to the supervisor) changed the settings: pruning by a
 * new --history-days starts at once; the others (batch, delay,
 * --store-private) apply from the next record on. */
static void
store_settings(struct store *s, const void *payload, int len)
{
	struct channel_store_settings m;
	int days = s->cfg->history_days;

	if ((size_t)len != sizeof(m))
		fatalx("store: malformed settings (%d bytes)", len);
	memcpy(&m, payload, sizeof(m));
	store_settings_apply(&s->cfg_own, &m);
	log_set_level(s->cfg->verbose ? LOG_DEBUG : LOG_INFO);
	if (s->cfg->history_days != days) {
		s->prune_ms = loop_now_ms();
		s->pruning = 0;
	}
}

/* ---- events -------------------------------------------------------------- */

static void
store_on_channel(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct store *s = arg;
	char payload[CHANNEL_MSG_MAX];
	struct channel_hdr h;
	int n, passed;

	(void)loop;
	(void)fd;
	if (events & EPOLLOUT)
		(void)channel_flush(&s->chan);
	for (;;) {
		n = channel_recv(&s->chan, &h, payload, &passed);
		if (n == -EAGAIN)
			return;
		if (passed >= 0)
			close(passed);
		if (n < 0)
			break;
		switch (h.type) {
		case CHANNEL_STORE_HISTORY:
		case CHANNEL_STORE_ACCOUNT:
			store_queue(s, h.type, payload, n);
			break;
		case CHANNEL_STORE_ROOM:
			store_room_change(s, payload, n);
			break;
		case CHANNEL_SHUTDOWN:
			s->stopping = 1;
			break;
		case CHANNEL_FLOW_GO:
			s->flow_asked = 0; /* the next turn looks again */
			break;
		case CHANNEL_STORE_SETTINGS:
			store_settings(s, payload, n);
			break;
		default:
			fatalx("store: unexpected channel message %u", h.type);
		}
	}
	explicit_bzero(payload, sizeof(payload));
	if (n == -EBADMSG)
		fatalx("store: malformed channel message");
	/* The supervisor is gone: archive what the rings hold, then go. */
	loop_del(s->loop, s->chan.fd);
	s->channel_dead = 1;
	s->stopping = 1;
}

static void
store_on_signal(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct store *s = arg;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo == SIGTERM)
			s->stopping = 1;
}

static void
store_on_wake(struct loop *loop, int fd, uint32_t events, void *arg)
{
	/* Every turn reads the timeline. */
	(void)loop;
	(void)fd;
	(void)events;
	(void)arg;
}

/* ---- start-up ------------------------------------------------------------ */

static void
store_setup(struct store *s, const struct store_start *st)
{
	sigset_t mask;
	char why[CHANNEL_REASON_MAX];
	uint64_t tl_pos;
	int found, err;

	memset(s, 0, sizeof(*s));
	s->cfg_own = *st->cfg;
	s->cfg = &s->cfg_own;
	s->shm = st->shm;
	s->producer = st->producer;
	s->stats = st->stats;
	s->wake_fd = st->wake_fd;
	outbox_shm_protect(s->shm, (int)s->producer, (int)st->reader);
	outbox_writer_init(&s->w, s->shm, s->producer);
	store_reader_init(&s->rd, s->shm, s->producer, st->reader, st->flow_fd,
			  store_would_archive, s);
	s->free_from = flow_free_from(s->shm, s->producer);
	s->loop = loop_new();
	channel_init(&s->chan, st->channel_fd);
	s->db = store_db_open(s->cfg->db_path, why, sizeof(why));
	if (!s->db)
		store_fail_start(s, why);
	store_accounts_init(&s->acc);
	found = store_db_position(s->db, s->shm->tl->boot, &tl_pos,
				  s->rd.cursors, s->shm->nprod);
	if (found > 0) {
		log_info("resuming from its last commit (timeline "
			 "%llu, %llu behind)",
			 (unsigned long long)tl_pos,
			 (unsigned long long)(outbox_timeline_head(s->shm) -
					      tl_pos));
		store_reader_start(&s->rd, tl_pos, s->rd.cursors, s->w.head);
	} else {
		store_reader_start(&s->rd, st->tl_pos, st->cursors, s->w.head);
	}
	store_send_stored(s, st->topics);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	s->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sig_fd < 0)
		fatal("signalfd");
	if (loop_add(s->loop, s->chan.fd, EPOLLIN | EPOLLOUT | EPOLLET,
		     store_on_channel, s) < 0 ||
	    loop_add(s->loop, s->wake_fd, EPOLLIN | EPOLLET, store_on_wake, s) <
		0 ||
	    loop_add(s->loop, s->sig_fd, EPOLLIN, store_on_signal, s) < 0)
		fatal("store loop");
	s->prune_ms = loop_now_ms();
	/* Set up, its files open: from here on it reads and writes only
	 * what it holds (DESIGN.md section 11; sandbox.c lists why each
	 * call is needed). glibc reads the time zone file at its first
	 * gmtime_r (the log's): now, while files open. */
	tzset();
	if ((err = sandbox_enter_store()) < 0) {
		errno = -err;
		fatal("cannot enter the sandbox");
	}
	store_send(s, CHANNEL_STORE_READY, NULL, 0);
}

/* ---- the loop ------------------------------------------------------------ */

static void
store_prune(struct store *s)
{
	long long now = loop_now_ms();
	struct timespec ts;
	int n;

	if (s->cfg->history_days <= 0 || s->dirty || s->failing ||
	    now < s->prune_ms)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t cutoff = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
			 (int64_t)s->cfg->history_days * STORE_DAY_MS;
	n = store_db_prune(s->db, cutoff, STORE_PRUNE_CHUNK);
	if (n < 0) {
		log_warn("pruning: %s", store_db_error(s->db));
		s->pruning = 0;
		s->prune_ms = now + STORE_PRUNE_EVERY;
		return;
	}
	s->stats->pruned += (uint64_t)n;
	if (n > 0 && !s->pruning)
		log_info("pruning messages older than %d days",
			 s->cfg->history_days);
	s->pruning = n == STORE_PRUNE_CHUNK;
	if (!s->pruning)
		s->prune_ms = now + STORE_PRUNE_EVERY;
}

/* How long news may wait for its commit: --db-delay, but well within
 * --stall-timeout, or producers would take a store that batches for one
 * that stalled (they wait for its commits). */
static long long
store_delay_ms(const struct store *s)
{
	long long most = s->cfg->stall_timeout_ms / 2;

	return s->cfg->db_delay_ms < most ? s->cfg->db_delay_ms : most;
}

/* One turn of work. */
static void
store_turn(struct store *s)
{
	long long now = loop_now_ms();
	uint64_t until = outbox_timeline_head(s->shm);
	unsigned batch = (unsigned)s->cfg->db_batch;
	/* A reload may have made the batch smaller than what is open. */
	unsigned room = s->pending < batch ? batch - s->pending : 0;

	if (s->failing && now < s->retry_ms) {
		store_answer(s); /* errors, at once */
		return;
	}
	if (s->q_head && s->q_head->type == CHANNEL_STORE_HISTORY &&
	    s->q_head->u.h.tl_pos < until &&
	    s->q_head->u.h.tl_pos > s->rd.tl_pos)
		until = s->q_head->u.h.tl_pos;
	if (store_read_timeline(s, until, room ? room : 1) < 0) {
		store_failed(s, "cannot write");
		return;
	}
	if (s->dirty && (s->pending >= (unsigned)s->cfg->db_batch ||
			 now - s->first_ms >= store_delay_ms(s) ||
			 (s->stopping && !s->rd.more)))
		(void)store_commit(s);
	store_answer(s);
	store_prune(s);
}

static int
store_timeout(const struct store *s)
{
	long long now = loop_now_ms(), next = -1;

	if (s->failing)
		next = s->retry_ms;
	else if (s->rd.more || s->pruning ||
		 outbox_timeline_head(s->shm) > s->rd.tl_pos)
		return 0;
	else if (s->dirty)
		next = s->first_ms + store_delay_ms(s);
	if (s->flow_wait && !s->failing &&
	    (next < 0 || now + STORE_FLOW_RETRY_MS < next))
		next = now + STORE_FLOW_RETRY_MS;
	if (s->cfg->history_days > 0 && (next < 0 || s->prune_ms < next))
		next = s->prune_ms;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* Stopping: done once the timeline is archived up to its head. */
static int
store_finished(const struct store *s)
{
	return s->stopping && !s->rd.more && !s->dirty &&
	       (s->failing || s->rd.tl_pos >= outbox_timeline_head(s->shm));
}

void
store_main(const struct store_start *st)
{
	struct store s;
	char tag[32];

	snprintf(tag, sizeof(tag), "store %d", (int)getpid());
	log_set_tag(tag);
	signal(SIGINT, SIG_IGN);
	/* A file size limit makes writes fail (like a full disk), not the
	 * process die. */
	signal(SIGXFSZ, SIG_IGN);
	store_setup(&s, st);
	for (;;) {
		store_turn(&s);
		if (!s.channel_dead)
			(void)channel_flush(&s.chan);
		if (store_finished(&s))
			break;
		if (loop_run_once(s.loop, store_timeout(&s)) < 0)
			fatal("epoll_wait");
	}
	log_info("stopped at timeline %llu, everything before it "
		 "archived",
		 (unsigned long long)s.rd.ctl_pos);
	store_db_close(s.db);
	store_reader_free(&s.rd);
	long long deadline = loop_now_ms() + 1000;
	while (!s.channel_dead && channel_flush(&s.chan) == -EAGAIN &&
	       loop_now_ms() < deadline) {
		struct pollfd pfd = {.fd = s.chan.fd, .events = POLLIN};
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 100);
	}
	_exit(0);
}
