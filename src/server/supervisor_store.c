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
#include "server/store_exec.h"
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

/* A room's topic while the room does not exist (topic "" once cleared:
 * entries live until teardown). */
struct sv_topic {
	struct sv_topic *next;
	int64_t ts_ms;
	char by[CONFIG_NICK_MAX + 1];
	char topic[CONFIG_TOPIC_MAX + 1];
};

/* A store answer, while it waits for room in ring 0 (sv_store_done). */
struct sv_store_answer {
	struct sv_store_req r;
	struct channel_store_done d;
};

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
	/* In a memfd, like the rings: the store execs (store_exec.c). */
	st->stats_fd = outbox_memfd("parley-store-stats", st->stats_bytes);
	if (st->stats_fd < 0) {
		errno = -st->stats_fd;
		fatal("store set-up: memfd");
	}
	st->stats = mmap(NULL, st->stats_bytes, PROT_READ | PROT_WRITE,
			 MAP_SHARED, st->stats_fd, 0);
	st->q = calloc(SV_STORE_QUEUE, sizeof(*st->q));
	st->start_cursors = calloc(sv->shm.nprod, sizeof(*st->start_cursors));
	if (st->stats == MAP_FAILED || !st->q || !st->start_cursors)
		fatal("store set-up");
	if ((st->exe_fd = store_exec_self()) < 0) {
		errno = -st->exe_fd;
		fatal("store set-up: /proc/self/exe");
	}
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
	close(st->stats_fd);
	close(st->exe_fd);
	free(st->q);
	free(st->start_cursors);
	strmap_free(&st->registered);
	strmap_free(&st->staging);
	strmap_free(&st->topics);
	sv_rooms_free(sv);
	for (struct sv_topic *t = st->topic_list, *next; t; t = next) {
		next = t->next;
		free(t);
	}
}

/* ---- the process --------------------------------------------------------- */

/* The forked child becomes the store by exec'ing parleyd: a fresh
 * address space, with none of the supervisor's memory (the TLS keys). */
static void __attribute__((noreturn))
sv_store_child(struct supervisor *sv, int chan_fd)
{
	struct sv_store *st = &sv->store;
	struct store_exec_args a = {
	    .exe_fd = st->exe_fd,
	    .channel_fd = chan_fd,
	    .wake_fd = sv->wake_fds[0],
	    .flow_fd = sv->flow_fd,
	    .shm = &sv->shm,
	    .stats_fd = st->stats_fd,
	    .cfg = sv->cfg,
	    .producer = st->producer,
	    .reader = sv->nsessions,
	    .tl_pos = st->start_tl,
	    .cursors = st->start_cursors,
	    .topics = !st->topics_loaded,
	};
	struct channel_store_text t;
	struct channel ch;
	int err;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != sv->pid)
		_exit(1);
	err = store_exec(&a);
	memset(&t, 0, sizeof(t));
	snprintf(t.text, sizeof(t.text), "cannot exec parleyd as the store: %s",
		 strerror(-err));
	channel_init(&ch, chan_fd);
	if (channel_send(&ch, CHANNEL_STORE_FAILED, &t, sizeof(t), -1,
			 sizeof(t)) == 0)
		(void)channel_flush(&ch);
	_exit(1);
}

static int
sv_store_spawn(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	int fds[2], err;
	pid_t pid;

	if ((err = channel_pair(fds)) < 0)
		return err;
	/* Its reader slot opens at the head before it exists, as a
	 * session's (sv_spawn): what it reads from an older commit is not
	 * waited for, what comes from here on is. */
	sv_flow_open(sv, sv->nsessions, outbox_timeline_head(&sv->shm));
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		sv_flow_close(sv, sv->nsessions);
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
	if (st->state == SV_STORE_FAILED && sv->cfg->user) {
		/* It was forked after the drop from root (supervisor.c). */
		log_warn("%s; the store runs as user %s", st->failed,
			 sv->cfg->user);
		return -1;
	}
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

void
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
	struct sv_store_answer a = {.r = r, .d = d};
	/* Behind any deferred request, and only with room for what it
	 * writes: ring 0 must not lap a live reader either. */
	if (sv->deferred || sv->nowed ||
	    !sv_flow_fits(sv, sv_store_finish_worst(sv, &r, &d), 2, 0)) {
		sv_defer_push(sv, SV_DEFER_STORE, &a, sizeof(a));
		return;
	}
	sv_store_answer_run(sv, &a, sizeof(a));
}

size_t
sv_store_answer_worst(struct supervisor *sv, const void *payload, int len)
{
	const struct sv_store_answer *a = payload;

	(void)len;
	return sv_store_finish_worst(sv, &a->r, &a->d);
}

void
sv_store_answer_run(struct supervisor *sv, const void *payload, int len)
{
	const struct sv_store_answer *a = payload;

	(void)len;
	/* Its records (the history) go in the timeline before the reply. */
	sv_mark(sv, sv->store.producer);
	sv_store_finish(sv, &a->r, &a->d);
	sv_commit(sv);
}

void
sv_store_flow_go(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;

	/* A store that cannot take it looks again on its own timer. */
	if (st->chan_open && channel_send(&st->chan, CHANNEL_FLOW_GO, NULL, 0,
					  -1, SV_CHANNEL_QUEUE) < 0)
		log_debug("store %d: cannot send FLOW_GO", (int)st->pid);
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

void
sv_store_reload(struct supervisor *sv, const struct config *old)
{
	struct channel_store_settings m;

	(void)old;
	/* It has no live block: it gets its settings (a store starting now
	 * was forked with the new ones: the same again does no harm). */
	store_settings_of(sv->cfg, &m);
	if (sv->store.chan_open &&
	    channel_send(&sv->store.chan, CHANNEL_STORE_SETTINGS, &m, sizeof(m),
			 -1, SV_CHANNEL_QUEUE) < 0)
		log_warn("reload: cannot reach the store; it keeps the old "
			 "settings until it is respawned");
}

/* ---- topics -------------------------------------------------------------- */

/* The entry for room (any spelling); with create, a new empty one if
 * there is none and there is room for it. NULL when there is none. */
static struct sv_topic *
sv_store_topic_entry(struct sv_store *st, const char *room, int create)
{
	char folded[CONFIG_ROOM_MAX + 2];
	struct sv_topic *t;

	names_fold(room, folded, sizeof(folded));
	t = strmap_get(&st->topics, folded);
	if (t || !create)
		return t;
	if (st->topics.used >= STORE_TOPICS_MAX) {
		if (!st->topics_full_said)
			log_warn("%d rooms with topics: the topics of more "
				 "are kept only while their rooms exist",
				 STORE_TOPICS_MAX);
		st->topics_full_said = 1;
		return NULL;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	if (strmap_put(&st->topics, folded, t) < 0) {
		free(t);
		return NULL;
	}
	t->next = st->topic_list;
	st->topic_list = t;
	return t;
}

/* CHANNEL_STORE_TOPIC: from the run's first store, before its READY. */
static void
sv_store_topic_load(struct supervisor *sv, const void *payload, int len)
{
	struct sv_store *st = &sv->store;
	struct channel_store_topic m;
	struct sv_topic *t;

	if ((size_t)len != sizeof(m) || st->topics_loaded ||
	    st->state != SV_STORE_STARTING) {
		sv_store_bad(sv, "unexpected TOPIC");
		return;
	}
	memcpy(&m, payload, sizeof(m));
	m.room[sizeof(m.room) - 1] = '\0';
	m.by[sizeof(m.by) - 1] = '\0';
	m.topic[sizeof(m.topic) - 1] = '\0';
	/* What this server could not have set is left out. */
	if (!names_room_valid(m.room) || strlen(m.by) > CONFIG_NICK_MAX ||
	    strlen(m.topic) > CONFIG_TOPIC_MAX || !m.topic[0])
		return;
	if (!(t = sv_store_topic_entry(st, m.room, 1)))
		return;
	memcpy(t->topic, m.topic, strlen(m.topic) + 1);
	memcpy(t->by, m.by, strlen(m.by) + 1);
	t->ts_ms = m.ts_ms;
}

void
sv_store_room_made(struct supervisor *sv, struct reg_room *r)
{
	struct sv_topic *t;
	char when[32];
	struct tm tm;
	time_t secs;

	if (sv->store.state == SV_STORE_OFF ||
	    !(t = sv_store_topic_entry(&sv->store, r->name, 0)) || !t->topic[0])
		return;
	memcpy(r->topic, t->topic, sizeof(r->topic));
	memcpy(r->topic_by, t->by, sizeof(r->topic_by));
	r->topic_ms = t->ts_ms;
	secs = (time_t)(t->ts_ms / 1000);
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	log_debug("%s has its topic again, set by %s at %s", r->name,
		  r->topic_by, when);
}

void
sv_store_topic_set(struct supervisor *sv, const struct reg_room *r)
{
	struct sv_topic *t;

	/* A clear needs no new entry: no entry is no topic. */
	if (sv->store.state == SV_STORE_OFF ||
	    !(t = sv_store_topic_entry(&sv->store, r->name, r->topic[0] != 0)))
		return;
	memcpy(t->topic, r->topic, sizeof(t->topic));
	memcpy(t->by, r->topic_by, sizeof(t->by));
	t->ts_ms = r->topic_ms;
}

const char *
sv_store_topic_kept(struct supervisor *sv, const char *room)
{
	const struct sv_topic *t;

	if (sv->store.state == SV_STORE_OFF ||
	    !(t = sv_store_topic_entry(&sv->store, room, 0)))
		return "";
	return t->topic;
}

/* ---- start-up answers ---------------------------------------------------- */

static void
sv_store_ready(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	char topics[96] = "";

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
	if (!st->topics_loaded)
		snprintf(topics, sizeof(topics),
			 ", %zu stored %s, %zu registered %s, %u server %s",
			 st->topics.used, SV_PLURAL(st->topics.used, "topic"),
			 sv_rooms_count(sv),
			 SV_PLURAL(sv_rooms_count(sv), "room"), sv->nglines,
			 SV_PLURAL(sv->nglines, "ban"));
	log_info("store %d: database %s open, %zu registered %s%s",
		 (int)st->pid, sv->cfg->db_path, st->registered.used,
		 SV_PLURAL(st->registered.used, "nickname"), topics);
	/* A respawned store may have missed changes to registered rooms
	 * and server bans while it was down. */
	if (st->topics_loaded)
		sv_rooms_resync(sv);
	st->topics_loaded = 1;
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
		case CHANNEL_FLOW:
			if (sv_flow_want(sv, st->producer, payload, n) < 0)
				sv_store_bad(sv, "malformed FLOW");
			break;
		case CHANNEL_STORE_NICKS:
			sv_store_nicks(sv, payload, n);
			break;
		case CHANNEL_STORE_HEALTH:
			sv_store_text(payload, n, st->health,
				      sizeof(st->health));
			break;
		case CHANNEL_STORE_TOPIC:
			sv_store_topic_load(sv, payload, n);
			break;
		case CHANNEL_STORE_ROOM_LOAD:
			sv_rooms_load(sv, payload, n);
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
	sv_flow_close(sv, sv->nsessions); /* nobody waits for it any more */
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		log_warn("store %d killed by the sandbox (SIGSYS: a forbidden "
			 "system call)%s",
			 (int)pid,
			 sv->stopping ? "" : "; chat goes on, respawning it");
	else if (WIFSIGNALED(status))
		log_warn("store %d killed by signal %d%s", (int)pid,
			 WTERMSIG(status),
			 sv->stopping ? "" : "; chat goes on, respawning it");
	else if (WEXITSTATUS(status) != 0 && !st->booting)
		log_warn("store %d exited with code %d", (int)pid,
			 WEXITSTATUS(status));
	else if (WEXITSTATUS(status) == 0)
		log_info("store %d exited with code 0", (int)pid);
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
	sv->counts[METRICS_STORE_RESTARTS]++;
}

void
sv_store_tick(struct supervisor *sv)
{
	struct sv_store *st = &sv->store;
	long long now = loop_now_ms();

	if (st->state == SV_STORE_OFF)
		return;
	sv_grace_tick(sv);
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
	if (st->grace_due_ms &&
	    (!st->respawn_due_ms || st->grace_due_ms < st->respawn_due_ms))
		return st->grace_due_ms;
	return st->respawn_due_ms;
}
