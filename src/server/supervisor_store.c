/*
 * supervisor_store: the supervisor's side of the store process. Spawns it
 * before any session (and waits for its database once, at start-up, so a
 * bad --db is one line and exit 1), respawns it when it dies, forwards
 * history and account requests over its channel and finishes them when
 * it answers (the store's records first, then the reply), and keeps the
 * set of registered nicknames, so that nothing here ever waits for it.
 */
#include "lib/log.h"
#include "server/names.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define SV_STORE_QUEUE	     1024  /* requests it may owe at once */
#define SV_STORE_START_MS    60000 /* to open the database at start-up */
#define SV_STORE_RESPAWN_MS  100   /* after a death; doubling */
#define SV_STORE_RESPAWN_MAX 5000
#define SV_STORE_STABLE_MS   10000 /* up this long: deaths are news again */
#define SV_STORE_STOP_MIN_MS 5000  /* to finish archiving at shutdown */

static void sv_store_on_channel(struct loop *loop, int fd, uint32_t events,
				void *arg);

/* ---- set-up -------------------------------------------------------------- */

void
sv_store_setup(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	memset(st, 0, sizeof(*st));
	if (!config_has_store(sv->cfg))
		return;
	st->state = SV_STORE_DOWN;
	st->producer = sv->shm.nprod - 1;
	st->stats_bytes = (sizeof(*st->stats) + page - 1) / page * page;
	st->stats = mmap(NULL, st->stats_bytes, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	st->q = calloc(SV_STORE_QUEUE, sizeof(*st->q));
	st->start_cursors = calloc(sv->shm.nprod, sizeof(*st->start_cursors));
	if (st->stats == MAP_FAILED || !st->q || !st->start_cursors)
		fatal("store set-up");
	st->q_cap = SV_STORE_QUEUE;
	sv->reg.reserved = &st->registered;
}

void
sv_store_teardown(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;

	if (st->state == SV_STORE_OFF)
		return;
	if (st->chan_open)
		channel_close(&st->chan);
	munmap(st->stats, st->stats_bytes);
	free(st->q);
	free(st->start_cursors);
	strmap_free(&st->registered);
	strmap_free(&st->staging);
}

/* ---- the process --------------------------------------------------------- */

static void __attribute__((noreturn))
sv_store_child(struct supervisor *sv, int chan_fd)
{
	struct sv_store *st = &sv->store;
	int keep[] = {0, 1, 2, chan_fd, sv->wake_fds[0]};
	struct store_start start = {
	    .cfg = sv->cfg,
	    .shm = &sv->shm,
	    .producer = st->producer,
	    .channel_fd = chan_fd,
	    .wake_fd = sv->wake_fds[0],
	    .tl_pos = st->start_tl,
	    .cursors = st->start_cursors,
	    .stats = st->stats,
	};

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != sv->pid)
		_exit(1);
	sv_child_close_fds(keep, 5);
	store_main(&start);
}

static int
sv_store_spawn(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	int fds[2], err;
	pid_t pid;

	if ((err = channel_pair(fds)) < 0)
		return err;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		close(fds[0]);
		sv_store_child(sv, fds[1]);
	}
	close(fds[1]);
	st->pid = pid;
	st->reaped = 0;
	st->told_stop = 0;
	st->state = SV_STORE_STARTING;
	st->started_ms = loop_now_ms();
	strmap_free(&st->staging);
	memset(&st->staging, 0, sizeof(st->staging));
	channel_init(&st->chan, fds[0]);
	st->chan_open = 1;
	/* It reads the timeline: the first wake group wakes it too. */
	sv->wake_members[0]++;
	if (loop_add(sv->loop, fds[0], EPOLLIN | EPOLLOUT | EPOLLET,
		     sv_store_on_channel, sv) < 0)
		fatal("sv_store_spawn");
	return 0;
}

int
sv_store_start(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	long long deadline = loop_now_ms() + SV_STORE_START_MS;
	int err;

	if (st->state == SV_STORE_OFF)
		return 0;
	/* Nothing is in the timeline yet but the supervisor's own: the
	 * whole run is read from here. */
	st->start_tl = outbox_timeline_head(&sv->shm);
	memcpy(st->start_cursors, sv->marked,
	       sv->shm.nprod * sizeof(*st->start_cursors));
	if ((err = sv_store_spawn(sv)) < 0) {
		log_warn("cannot start the store: %s", strerror(-err));
		return -1;
	}
	st->booting = 1;
	while (st->state == SV_STORE_STARTING && !sv->stopping) {
		long long left = deadline - loop_now_ms();
		if (left <= 0) {
			snprintf(st->failed, sizeof(st->failed),
				 "database %s did not open within %d s",
				 sv->cfg->db_path, SV_STORE_START_MS / 1000);
			kill(st->pid, SIGKILL);
			st->state = SV_STORE_FAILED;
			break;
		}
		if (loop_run_once(sv->loop, (int)left) < 0)
			fatal("epoll_wait");
	}
	st->booting = 0;
	if (st->state == SV_STORE_FAILED) {
		log_warn("%s", st->failed);
		return -1;
	}
	return 0;
}

int
sv_store_running(const struct supervisor *sv)
{
	const struct sv_store *st = &sv->store;

	if (st->pid > 0 && !st->reaped)
		return 1;
	/* At shutdown a dead store is respawned once to finish. */
	return sv->stopping && st->state == SV_STORE_DOWN &&
	       st->respawn_due_ms && st->stop_respawns == 0;
}

/* ---- answers ------------------------------------------------------------- */

static void
sv_store_account_record(struct supervisor *sv, struct reg_client *c)
{
	uint64_t ids[CONFIG_ROOMS_PER_CLIENT_MAX];
	struct outbox_new a = sv_by(c, OUTBOX_ACCOUNT);

	a.ids = ids;
	a.nids = sv_room_ids_all(c, ids);
	sv_put(sv, &a);
}

/* c is now logged in to account (or out, for ""). */
static void
sv_store_set_account(struct supervisor *sv, struct reg_client *c,
		     const char *account)
{
	snprintf(c->account, sizeof(c->account), "%s", account);
	if (account[0])
		log_info("client %s (%s) logged in as %s", c->nick, c->addr,
			 account);
	else
		log_info("client %s (%s) logged out", c->nick, c->addr);
	sv_store_account_record(sv, c);
}

static int
sv_store_same(const char *a, const char *b)
{
	char fa[CONFIG_NICK_MAX + 1], fb[CONFIG_NICK_MAX + 1];

	names_fold(a, fa, sizeof(fa));
	names_fold(b, fb, sizeof(fb));
	return strcmp(fa, fb) == 0;
}

static void
sv_store_logged_in(struct supervisor *sv, struct reg_client *c,
		   const struct sv_store_req *r, const char *account)
{
	sv_store_set_account(sv, c, account);
	/* The account's nickname comes with it, when it is free. */
	if (r->op == CORE_LOGIN && !(r->flags & CORE_LOGIN_KEEP_NICK) &&
	    !sv_store_same(c->nick, account) &&
	    !registry_nick_find(&sv->reg, account))
		(void)sv_nick_change(sv, c, account);
	sv_reply(sv, c, CORE_OK, NULL, account, 0);
}

/* Every client logged in to account leaves it (it was deleted). */
static void
sv_store_unregistered(struct supervisor *sv, const char *account)
{
	for (int i = 0; i < sv->cfg->client_slots; i++) {
		struct reg_client *o = &sv->reg.clients[i];
		if (o->id && o->account[0] &&
		    sv_store_same(o->account, account))
			sv_store_set_account(sv, o, "");
	}
}

/* Finishes request r with the store's answer d. */
static void
sv_store_finish(struct supervisor *sv, const struct sv_store_req *r,
		const struct channel_store_done *d)
{
	struct reg_client *c = registry_client_get(&sv->reg, r->client);
	enum core_err err = (enum core_err)d->err;

	if (!c)
		return; /* it left meanwhile */
	switch (r->op) {
	case CORE_JOIN: {
		struct reg_room *room = registry_room_get(&sv->reg, r->room);
		if (err != CORE_OK)
			sv_put(sv, &(struct outbox_new){
				       .kind = OUTBOX_WARNING,
				       .aux = (uint16_t)err,
				       .target = c->id,
				       .room = outbox_str(r->room_name),
				   });
		sv_reply(sv, c, CORE_OK, room ? room->name : r->room_name, NULL,
			 r->room);
		return;
	}
	case CORE_HISTORY:
		sv_reply(sv, c, err, r->room_name, d->arg,
			 err == CORE_OK ? d->count : d->num);
		return;
	default:
		break;
	}
	if (err != CORE_OK) {
		sv_reply(sv, c, err, NULL, d->arg, d->num);
		return;
	}
	if (r->op == CORE_REGISTER || r->op == CORE_LOGIN) {
		sv_store_logged_in(sv, c, r, d->name);
		return;
	}
	if (r->op == CORE_UNREGISTER)
		sv_store_unregistered(sv, d->name);
	sv_reply(sv, c, CORE_OK, NULL, d->name, 0);
}

/* The store is gone: what it owed fails, what it wrote is marked. */
static void
sv_store_lost(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	struct channel_store_done d = {.err = CORE_ERR_STORE_DOWN};

	if (st->state == SV_STORE_STARTING && st->booting) {
		if (!st->failed[0])
			snprintf(st->failed, sizeof(st->failed),
				 "the store ended before opening database %s",
				 sv->cfg->db_path);
		st->state = SV_STORE_FAILED;
	} else if (st->state == SV_STORE_UP || st->state == SV_STORE_STARTING) {
		st->state = SV_STORE_DOWN;
	}
	sv_mark(sv, st->producer);
	while (st->q_len) {
		struct sv_store_req *r = &st->q[st->q_head];
		st->q_head = (st->q_head + 1) % st->q_cap;
		st->q_len--;
		sv_store_finish(sv, r, &d);
	}
	sv_commit(sv);
}

static void
sv_store_bad(struct supervisor *sv, const char *why)
{
	log_warn("store %d: %s; ending it", (int)sv->store.pid, why);
	if (sv_store_running(sv))
		kill(sv->store.pid, SIGKILL);
}

static void
sv_store_done(struct supervisor *sv, const void *payload, int len)
{
	struct sv_store *st = &sv->store;
	struct channel_store_done d;
	struct sv_store_req r;

	if ((size_t)len != sizeof(d) || st->q_len == 0) {
		sv_store_bad(sv, "unexpected answer");
		return;
	}
	memcpy(&d, payload, sizeof(d));
	d.name[sizeof(d.name) - 1] = '\0';
	d.arg[sizeof(d.arg) - 1] = '\0';
	r = st->q[st->q_head];
	if (d.tag != r.tag) {
		sv_store_bad(sv, "answer out of order");
		return;
	}
	st->q_head = (st->q_head + 1) % st->q_cap;
	st->q_len--;
	/* Its records (the history) go in the timeline before the reply. */
	sv_mark(sv, st->producer);
	sv_store_finish(sv, &r, &d);
	sv_commit(sv);
}

static void
sv_store_nicks(struct supervisor *sv, const void *payload, int len)
{
	struct sv_store *st = &sv->store;
	struct channel_store_nicks m;
	struct strmap *set =
	    st->state == SV_STORE_STARTING ? &st->staging : &st->registered;
	size_t head = offsetof(struct channel_store_nicks, names);
	char name[CONFIG_NICK_MAX + 1], folded[CONFIG_NICK_MAX + 1];

	memset(&m, 0, sizeof(m));
	if ((size_t)len < head || (size_t)len > sizeof(m)) {
		sv_store_bad(sv, "malformed NICKS");
		return;
	}
	memcpy(&m, payload, (size_t)len);
	if (m.len > (size_t)len - head) {
		sv_store_bad(sv, "malformed NICKS");
		return;
	}
	for (size_t i = 0, start = 0; i < m.len; i++) {
		if (m.names[i] != ' ')
			continue;
		size_t n = i - start;
		if (n > 0 && n <= CONFIG_NICK_MAX) {
			memcpy(name, m.names + start, n);
			name[n] = '\0';
			names_fold(name, folded, sizeof(folded));
			if (m.op == CHANNEL_NICKS_DEL)
				(void)strmap_del(set, folded);
			else if (strmap_put(set, folded, (void *)1) < 0)
				log_warn("out of memory for registered "
					 "nicknames");
		}
		start = i + 1;
	}
}

static void
sv_store_ready(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;

	if (st->state != SV_STORE_STARTING) {
		sv_store_bad(sv, "READY twice");
		return;
	}
	/* The fresh set replaces the old one at once: the registry's
	 * pointer stays on st->registered. */
	strmap_free(&st->registered);
	st->registered = st->staging;
	memset(&st->staging, 0, sizeof(st->staging));
	st->state = SV_STORE_UP;
	st->health[0] = '\0';
	log_info("store %d: database %s open, %zu registered %s", (int)st->pid,
		 sv->cfg->db_path, st->registered.used,
		 SV_PLURAL(st->registered.used, "nickname"));
}

static void
sv_store_text(const void *payload, int len, char *out, size_t n)
{
	struct channel_store_text t;

	memset(&t, 0, sizeof(t));
	memcpy(&t, payload, (size_t)len < sizeof(t) ? (size_t)len : sizeof(t));
	t.text[sizeof(t.text) - 1] = '\0';
	snprintf(out, n, "%s", t.text);
}

static void
sv_store_closed(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;

	if (!st->chan_open)
		return;
	loop_del(sv->loop, st->chan.fd);
	channel_close(&st->chan);
	st->chan_open = 0;
	sv_store_lost(sv);
}

static void
sv_store_on_channel(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct supervisor *sv = arg;
	struct sv_store *st = &sv->store;
	char payload[CHANNEL_MSG_MAX];
	struct channel_hdr h;
	int n, passed;

	(void)loop;
	(void)fd;
	if (events & EPOLLOUT)
		(void)channel_flush(&st->chan);
	while (st->chan_open) {
		n = channel_recv(&st->chan, &h, payload, &passed);
		if (n == -EAGAIN)
			return;
		if (passed >= 0)
			close(passed);
		if (n < 0) {
			sv_store_closed(sv);
			return;
		}
		switch (h.type) {
		case CHANNEL_STORE_READY:
			sv_store_ready(sv);
			break;
		case CHANNEL_STORE_FAILED:
			sv_store_text(payload, n, st->failed,
				      sizeof(st->failed));
			if (!st->booting)
				log_warn("store: %s", st->failed);
			break;
		case CHANNEL_STORE_DONE:
			sv_store_done(sv, payload, n);
			break;
		case CHANNEL_STORE_NICKS:
			sv_store_nicks(sv, payload, n);
			break;
		case CHANNEL_STORE_HEALTH:
			sv_store_text(payload, n, st->health,
				      sizeof(st->health));
			break;
		default:
			sv_store_bad(sv, "unexpected message");
			break;
		}
	}
}

int
sv_store_reaped(struct supervisor *sv, pid_t pid, int status)
{
	struct sv_store *st = &sv->store;

	if (st->state == SV_STORE_OFF || pid != st->pid || st->reaped)
		return 0;
	st->reaped = 1;
	sv->wake_members[0]--;
	if (WIFSIGNALED(status))
		log_warn("store %d killed by signal %d%s", (int)pid,
			 WTERMSIG(status),
			 sv->stopping ? "" : "; chat goes on, respawning it");
	else if (WEXITSTATUS(status) != 0 && !st->booting)
		log_warn("store %d exited with code %d", (int)pid,
			 WEXITSTATUS(status));
	else if (WEXITSTATUS(status) == 0)
		log_info("store %d exited with code 0", (int)pid);
	if (!sv->stopping)
		sv->counts[METRICS_SESSION_FAILURES] +=
		    WIFSIGNALED(status) || WEXITSTATUS(status) != 0;
	/* What it sent before it died comes first (its FAILED line): the
	 * channel is read to its EOF, and the loss is handled once. */
	if (st->chan_open)
		sv_store_on_channel(sv->loop, st->chan.fd, EPOLLIN, sv);
	sv_store_closed(sv);
	if (st->state == SV_STORE_DOWN &&
	    !(st->told_stop && WIFEXITED(status) && !WEXITSTATUS(status))) {
		long long up = loop_now_ms() - st->started_ms;
		st->respawn_delay_ms =
		    up >= SV_STORE_STABLE_MS || !st->respawn_delay_ms
			? SV_STORE_RESPAWN_MS
			: st->respawn_delay_ms * 2;
		if (st->respawn_delay_ms > SV_STORE_RESPAWN_MAX)
			st->respawn_delay_ms = SV_STORE_RESPAWN_MAX;
		st->respawn_due_ms = loop_now_ms() + st->respawn_delay_ms;
	}
	st->pid = 0;
	return 1;
}

/* ---- the loop ------------------------------------------------------------ */

/* A dead store is respawned when due, at shutdown too (once): the rings
 * may hold what it has not archived. */
static void
sv_store_respawn(struct supervisor *sv, long long now)
{
	struct sv_store *st = &sv->store;
	int err;

	if (st->state != SV_STORE_DOWN || st->pid || !st->respawn_due_ms ||
	    now < st->respawn_due_ms)
		return;
	st->respawn_due_ms = 0;
	if (sv->stopping && st->stop_respawns++ > 0)
		return;
	st->failed[0] = '\0';
	err = sv_store_spawn(sv);
	if (err < 0) {
		log_warn("cannot respawn the store: %s", strerror(-err));
		if (!sv->stopping)
			st->respawn_due_ms = now + SV_STORE_RESPAWN_MAX;
		return;
	}
	log_info("store respawned as pid %d", (int)st->pid);
	sv->counts[METRICS_WORKER_RESTARTS]++;
}

void
sv_store_tick(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	long long now = loop_now_ms();

	if (st->state == SV_STORE_OFF)
		return;
	if (!sv_store_running(sv) || st->pid == 0) {
		sv_store_respawn(sv, now);
		return;
	}
	if (!sv->stopping || sv->live > 0 || st->state == SV_STORE_STARTING)
		return;
	for (unsigned i = 0; i < sv->nsessions; i++)
		if (sv->sessions[i].chan_open)
			return; /* its last records are not marked yet */
	/* Every session is gone: the timeline is complete. */
	if (!st->told_stop) {
		int wait = sv->cfg->shutdown_ms > SV_STORE_STOP_MIN_MS
			       ? sv->cfg->shutdown_ms
			       : SV_STORE_STOP_MIN_MS;
		st->told_stop = 1;
		st->stop_deadline_ms = now + wait;
		if (!st->chan_open ||
		    channel_send(&st->chan, CHANNEL_SHUTDOWN, NULL, 0, -1,
				 SV_CHANNEL_QUEUE) < 0)
			kill(st->pid, SIGTERM);
	} else if (now >= st->stop_deadline_ms) {
		log_warn("store %d did not finish archiving in time; killing "
			 "it",
			 (int)st->pid);
		kill(st->pid, SIGKILL);
		st->stop_deadline_ms = now + 60000;
	}
}

long long
sv_store_due(const struct supervisor *sv)
{
	const struct sv_store *st = &sv->store;

	if (sv->stopping && st->told_stop && st->pid)
		return st->stop_deadline_ms;
	return st->respawn_due_ms;
}

/* ---- requests ------------------------------------------------------------ */

int
sv_store_nick_taken(const struct supervisor *sv, const struct reg_client *c,
		    const char *nick)
{
	char folded[CONFIG_NICK_MAX + 1];

	if (sv->store.state == SV_STORE_OFF)
		return 0;
	names_fold(nick, folded, sizeof(folded));
	if (!strmap_get(&sv->store.registered, folded))
		return 0;
	return !c->account[0] || !sv_store_same(c->account, nick);
}

/* The error that keeps the store from answering now, or CORE_OK. */
static enum core_err
sv_store_unavailable(const struct supervisor *sv)
{
	const struct sv_store *st = &sv->store;

	if (st->state == SV_STORE_OFF)
		return CORE_ERR_NO_STORE;
	if (st->state != SV_STORE_UP || st->health[0] || !st->chan_open ||
	    st->q_len >= st->q_cap)
		return CORE_ERR_STORE_DOWN;
	return CORE_OK;
}

/* Queues r (its tag set here) after sending the message. Returns 0, or
 * -1 when the channel is full (the store is stuck). */
static int
sv_store_send(struct supervisor *sv, struct sv_store_req *r, uint16_t type,
	      void *msg, size_t len, uint64_t *tag)
{
	struct sv_store *st = &sv->store;

	r->tag = *tag = ++st->next_tag;
	if (channel_send(&st->chan, type, msg, len, -1, SV_CHANNEL_QUEUE) < 0) {
		sv_store_bad(sv, "its channel is full");
		return -1;
	}
	st->q[(st->q_head + st->q_len) % st->q_cap] = *r;
	st->q_len++;
	return 0;
}

static int
sv_store_history(struct supervisor *sv, struct sv_store_req *r,
		 unsigned selector, const char *ref, const char *ref2,
		 unsigned limit)
{
	struct channel_store_history m;

	memset(&m, 0, sizeof(m));
	m.client = r->client;
	/* Everything in the timeline so far is before this request. */
	m.tl_pos = outbox_timeline_head(&sv->shm);
	m.selector = (uint16_t)selector;
	m.limit =
	    (uint16_t)(limit > STORE_HISTORY_MAX ? STORE_HISTORY_MAX : limit);
	snprintf(m.room, sizeof(m.room), "%s", r->room_name);
	snprintf(m.ref, sizeof(m.ref), "%s", ref);
	snprintf(m.ref2, sizeof(m.ref2), "%s", ref2);
	return sv_store_send(sv, r, CHANNEL_STORE_HISTORY, &m, sizeof(m),
			     &m.tag);
}

int
sv_store_join(struct supervisor *sv, struct reg_client *c, struct reg_room *r)
{
	struct sv_store_req q = {
	    .client = c->id, .op = CORE_JOIN, .room = r->id};
	enum core_err err = sv_store_unavailable(sv);

	if (sv->cfg->history <= 0)
		return 0;
	if (err == CORE_ERR_NO_STORE) {
		sv_history(sv, c, r);
		return 0;
	}
	snprintf(q.room_name, sizeof(q.room_name), "%s", r->name);
	/* The join and its topic are in the timeline before the request. */
	sv_commit(sv);
	if (err == CORE_OK &&
	    sv_store_history(sv, &q, CORE_HISTORY_LATEST, "*", "",
			     (unsigned)sv->cfg->history) == 0)
		return 1;
	sv_put(sv, &(struct outbox_new){.kind = OUTBOX_WARNING,
					.aux = CORE_ERR_STORE_DOWN,
					.target = c->id,
					.room = outbox_str(r->name)});
	return 0;
}

/* The host part of "HOST:PORT" or "[HOST]:PORT", for per-address limits
 * (loopback included: every address counts here). */
static void
sv_store_host(const char *addr, char *out, size_t n)
{
	const char *end =
	    addr[0] == '[' ? strchr(addr, ']') : strrchr(addr, ':');
	size_t len = end ? (size_t)(end - addr) : strlen(addr);

	if (addr[0] == '[' && len > 0) {
		addr++;
		len--;
	}
	snprintf(out, n, "%.*s", (int)len, addr);
}

/* Copies src into dst (n bytes), cut; passwords are never formatted. */
static void
sv_store_copy(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
sv_store_account_op(struct supervisor *sv, struct reg_client *c,
		    const struct sv_req *q)
{
	struct sv_store_req r = {.client = c->id,
				 .op = (uint16_t)q->op,
				 .flags = (uint16_t)q->flags};
	struct channel_store_account m;
	const char *name = c->account;

	memset(&m, 0, sizeof(m));
	m.client = c->id;
	m.op = (uint16_t)q->op;
	sv_store_host(c->addr, m.addr, sizeof(m.addr));
	if (q->op == CORE_REGISTER) {
		name = c->nick;
		sv_store_copy(m.pass, sizeof(m.pass), q->text);
	} else if (q->op == CORE_LOGIN) {
		name = q->arg[0] ? q->arg : c->nick;
		sv_store_copy(m.pass, sizeof(m.pass), q->text);
	} else if (q->op == CORE_PASSWORD) {
		sv_store_copy(m.pass, sizeof(m.pass), q->arg);
		sv_store_copy(m.pass2, sizeof(m.pass2), q->text);
	} else {
		sv_store_copy(m.pass, sizeof(m.pass), q->text);
	}
	sv_store_copy(m.name, sizeof(m.name), name);
	if (sv_store_send(sv, &r, CHANNEL_STORE_ACCOUNT, &m, sizeof(m),
			  &m.tag) < 0)
		sv_reply(sv, c, CORE_ERR_STORE_DOWN, NULL, NULL, 0);
	explicit_bzero(&m, sizeof(m));
}

static void
sv_store_logout(struct supervisor *sv, struct reg_client *c)
{
	char guest[CONFIG_NICK_MAX + 1];

	if (!c->account[0]) {
		sv_reply(sv, c, CORE_ERR_NOT_LOGGED_IN, NULL, NULL, 0);
		return;
	}
	sv_store_set_account(sv, c, "");
	/* Nobody keeps a registered nickname without its account. */
	if (sv_store_nick_taken(sv, c, c->nick)) {
		registry_guest_nick(&sv->reg, guest);
		(void)sv_nick_change(sv, c, guest);
	}
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

/* Refusals the supervisor can make alone. Returns 1 if it replied. */
static int
sv_store_refuse(struct supervisor *sv, struct reg_client *c,
		const struct sv_req *q)
{
	const char *name = q->arg[0] ? q->arg : c->nick;
	enum core_err err = sv_store_unavailable(sv);

	if (q->op == CORE_REGISTER || q->op == CORE_LOGIN) {
		if (c->account[0]) {
			sv_reply(sv, c, CORE_ERR_LOGGED_IN, NULL, c->account,
				 0);
			return 1;
		}
		if (q->op == CORE_LOGIN && !names_nick_valid(name)) {
			sv_reply(sv, c, CORE_ERR_LOGIN_FAILED, NULL, name, 0);
			return 1;
		}
	} else if (q->op != CORE_HISTORY && !c->account[0]) {
		sv_reply(sv, c, CORE_ERR_NOT_LOGGED_IN, NULL, NULL, 0);
		return 1;
	}
	if (err != CORE_OK) {
		sv_reply(sv, c, err, q->room, NULL, 0);
		return 1;
	}
	if (q->op == CORE_REGISTER && sv_store_nick_taken(sv, c, c->nick)) {
		sv_reply(sv, c, CORE_ERR_ACCOUNT_EXISTS, NULL, c->nick, 0);
		return 1;
	}
	return 0;
}

void
sv_store_request(struct supervisor *sv, struct reg_client *c,
		 const struct sv_req *q)
{
	struct reg_room *room = NULL;

	if (q->op == CORE_LOGOUT) {
		sv_store_logout(sv, c);
		return;
	}
	if (q->op == CORE_HISTORY) {
		room = registry_room_find(&sv->reg, q->room);
		if (!room || !registry_is_member(c, room)) {
			sv_reply(sv, c, CORE_ERR_NOT_IN_ROOM, q->room, NULL, 0);
			return;
		}
	}
	if (sv_store_refuse(sv, c, q))
		return;
	if (q->op != CORE_HISTORY || !room) {
		sv_store_account_op(sv, c, q);
		return;
	}
	struct sv_store_req r = {.client = c->id, .op = CORE_HISTORY};
	snprintf(r.room_name, sizeof(r.room_name), "%s", room->name);
	unsigned limit =
	    q->num ? q->num
		   : (unsigned)(sv->cfg->history > 0 ? sv->cfg->history : 20);
	if (sv_store_history(sv, &r, CORE_HISTORY_SELECTOR(q->flags), q->arg,
			     q->text, limit) < 0)
		sv_reply(sv, c, CORE_ERR_STORE_DOWN, q->room, NULL, 0);
}
