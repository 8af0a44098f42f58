/*
 * supervisor: accept and admit, spawn and reap, and the authority on
 * nicknames and rooms. Every change it makes is a record in its own outbox
 * followed by a timeline mark, so every session applies it at the same
 * point of the one global order. One eventfd write per loop iteration
 * wakes every session.
 */
#include "server/supervisor.h"

#include "lib/idmap.h"
#include "lib/line.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "server/channel.h"
#include "server/names.h"
#include "server/outbox.h"
#include "server/registry.h"
#include "server/session.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SV_CHANNEL_QUEUE   (4u << 20) /* a session this far behind is stuck */
#define SV_ACCEPT_BATCH	   64
#define SV_ACCEPT_PAUSE_MS 100
#define SV_WHO_LINE	   400
#define SV_KILL_WAIT_MS	   2000
#define SV_RESPAWN_MS	   100
#define SV_DEBUG_EVERY_MS  1000 /* at most one summary line a second */

/* Log lines count in the singular for one. */
#define SV_PLURAL(n, word) ((n) == 1 ? word : word "s")
#define SV_PROCESSES(n)	   ((n) == 1 ? "process" : "processes")

struct sv_session {
	pid_t pid; /* 0: slot free */
	unsigned index;
	struct channel chan;
	int chan_open;
	int reaped;
	unsigned nclients;
	uint64_t client_id; /* fork model: the one client */
	struct supervisor *sv;
};

#define SV_WAKE_GROUPS 8

struct supervisor {
	const struct config *cfg;
	struct loop *loop;
	struct outbox_shm shm;
	struct outbox_writer w;
	struct registry reg;
	uint64_t *marked; /* per producer: head last put in the timeline */
	void *recbuf;
	int listen_fds[CONFIG_LISTEN_MAX];
	int nlisten;
	int sig_fd;
	/* Session slot i watches wake_fds[i % nwake]: under load the groups
	 * are woken in turn, so no more than a group's worth of processes
	 * queue for the CPUs at once. */
	int wake_fds[SV_WAKE_GROUPS];
	unsigned nwake;
	uint64_t woken_tl[SV_WAKE_GROUPS]; /* timeline head at its last wake */
	unsigned wake_members[SV_WAKE_GROUPS]; /* live session processes */
	unsigned wake_next; /* the group whose turn is next */
	struct sv_session *sessions;
	unsigned nsessions;
	unsigned live; /* slots with a process not yet reaped */
	struct idmap by_pid;
	int tl_dirty;	/* a group has not seen the timeline's head */
	unsigned wakes; /* group wake-ups since the last debug line */
	long long wakes_logged_ms;
	long long wake_last_ms; /* when any group was last woken */
	long long wake_due_ms;	/* the next group's turn, if one is owed */
	int stopping, killed;
	unsigned nkilled, abandoned; /* at shutdown, for the last log line */
	long long deadline_ms;
	int accept_paused;
	long long accept_resume_ms;
	long long respawn_due_ms; /* a worker could not be forked: retry */
	pid_t pid;
};

static int
sv_producer(const struct sv_session *s)
{
	return (int)s->index + 1;
}

/* ---- records ------------------------------------------------------------- */

/* Publishes the supervisor's new records and puts them in the timeline. */
static void
sv_commit(struct supervisor *sv)
{
	if (sv->w.head == sv->marked[0])
		return;
	(void)outbox_publish(&sv->w);
	outbox_timeline_append(&sv->shm, 0, sv->w.head);
	sv->marked[0] = sv->w.head;
	sv->tl_dirty = 1;
}

static void __attribute__((format(printf, 3, 4)))
sv_text(struct supervisor *sv, const struct reg_client *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	outbox_append(&sv->w, OUTBOX_TEXT, 0, 0, c->id, NULL, 0, NULL, NULL,
		      line, line_utf8_cut(line, (size_t)n, sizeof(line) - 1));
}

/* Ends c's request: ok (with a room that becomes current, or the resolved
 * client for /msg) or an error text. */
static void
sv_reply(struct supervisor *sv, const struct reg_client *c, const char *error,
	 uint64_t id, const char *name)
{
	if (error)
		log_debug("client %s (%s): refused: %s", c->nick, c->addr,
			  error);
	outbox_append(&sv->w, OUTBOX_REPLY, error ? 1 : 0, 0, c->id,
		      id ? &id : NULL, id ? 1 : 0, NULL, name, error,
		      error ? strlen(error) : 0);
}

static void __attribute__((format(printf, 3, 4)))
sv_replyf(struct supervisor *sv, const struct reg_client *c, const char *fmt,
	  ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	text[n < 0 ? 0 : line_utf8_cut(text, (size_t)n, sizeof(text) - 1)] =
	    '\0';
	sv_reply(sv, c, text, 0, NULL);
}

/* The ids of c's rooms whose size allows notices, for QUIT and NICK. */
static unsigned
sv_room_ids(struct supervisor *sv, const struct reg_client *c, uint64_t *ids,
	    int all)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nrooms; i++)
		if (all ||
		    c->rooms[i]->nmembers <= (unsigned)sv->cfg->join_notices)
			ids[n++] = c->rooms[i]->id;
	return n;
}

/* ---- requests ------------------------------------------------------------ */

static void
sv_join(struct supervisor *sv, struct reg_client *c, const char *name)
{
	struct reg_room *r;
	int err = registry_join(&sv->reg, c, name, &r);
	unsigned n = (unsigned)sv->cfg->history;

	if (err == -EINVAL) {
		sv_reply(sv, c,
			 "invalid room name: # then 1-32 letters, digits, _ - "
			 "or .",
			 0, NULL);
		return;
	}
	if (err == -ENOSPC) {
		sv_replyf(sv, c, "too many rooms on this server (max %d)",
			  sv->cfg->max_rooms);
		return;
	}
	if (err == -EMLINK) {
		sv_replyf(sv, c, "you are in too many rooms (max %d)",
			  sv->cfg->max_rooms_per_client);
		return;
	}
	if (err == 0) {
		int announce = r->nmembers <= (unsigned)sv->cfg->join_notices;
		outbox_append(&sv->w, OUTBOX_JOIN, (uint16_t)announce, c->id,
			      r->id, NULL, 0, c->nick, r->name, NULL, 0);
		if (r->topic[0])
			sv_text(sv, c, "-!- topic of %s: %s", r->name,
				r->topic);
		for (unsigned i = 0; i < r->hist_count; i++) {
			struct reg_hist *h =
			    &r->hist[(r->hist_next + n - r->hist_count + i) %
				     n];
			outbox_append_at(&sv->w, h->ts_ms, OUTBOX_HISTORY,
					 h->kind, 0, c->id, NULL, 0, h->nick,
					 r->name, h->text, h->len);
		}
	}
	sv_reply(sv, c, NULL, r->id, r->name);
}

static void
sv_nick(struct supervisor *sv, struct reg_client *c, const char *nick)
{
	char old[CONFIG_NICK_MAX + 1];
	uint64_t ids[CONFIG_ROOMS_PER_CLIENT_MAX];
	int err;

	if (strcmp(c->nick, nick) == 0) {
		sv_replyf(sv, c, "you are already %s", nick);
		return;
	}
	snprintf(old, sizeof(old), "%s", c->nick);
	err = registry_nick_set(&sv->reg, c, nick);
	if (err == -EEXIST) {
		sv_replyf(sv, c, "nickname %s is already taken", nick);
		return;
	}
	if (err < 0) {
		sv_reply(sv, c,
			 "invalid nickname: 1-20 letters, digits, _ or -, "
			 "starting with a letter",
			 0, NULL);
		return;
	}
	log_info("client %s (%s) is now known as %s", old, c->addr, c->nick);
	outbox_append(&sv->w, OUTBOX_NICK, 0, c->id, 0, ids,
		      sv_room_ids(sv, c, ids, 1), old, NULL, c->nick,
		      strlen(c->nick));
	sv_reply(sv, c, NULL, 0, NULL);
}

/* Splits "#room rest" in place: returns rest ("" if none). */
static char *
sv_split(char *arg)
{
	char *sp = strchr(arg, ' ');

	if (!sp)
		return arg + strlen(arg);
	*sp = '\0';
	return sp + 1;
}

static struct reg_room *
sv_member_room(struct supervisor *sv, struct reg_client *c, const char *name)
{
	struct reg_room *r = registry_room_find(&sv->reg, name);

	char q[NAMES_QUOTE_SIZE];

	if (!r || !registry_is_member(c, r)) {
		names_quote(name, strlen(name), q);
		sv_replyf(sv, c, "you are not in %s", q);
		return NULL;
	}
	return r;
}

static void
sv_part(struct supervisor *sv, struct reg_client *c, char *arg)
{
	char *reason = sv_split(arg);
	struct reg_room *r = sv_member_room(sv, c, arg);

	if (!r)
		return;
	int announce = r->nmembers <= (unsigned)sv->cfg->join_notices;
	outbox_append(&sv->w, OUTBOX_PART, (uint16_t)announce, c->id, r->id,
		      NULL, 0, c->nick, r->name, reason, strlen(reason));
	(void)registry_part(&sv->reg, c, r);
	sv_reply(sv, c, NULL, 0, NULL);
}

static void
sv_rooms(struct supervisor *sv, struct reg_client *c)
{
	struct reg_room **rooms = malloc(sv->reg.room_slots * sizeof(*rooms));
	unsigned n;

	if (!rooms) {
		sv_reply(sv, c, "out of memory; try again", 0, NULL);
		return;
	}
	n = registry_rooms_by_name(&sv->reg, rooms);
	for (unsigned i = 0; i < n; i++) {
		struct reg_room *r = rooms[i];
		sv_text(sv, c, "-!- %s: %u member%s, %s%s", r->name,
			r->nmembers, r->nmembers == 1 ? "" : "s",
			r->topic[0] ? "topic: " : "no topic", r->topic);
	}
	free(rooms);
	if (n == 0)
		sv_text(sv, c, "-!- no rooms");
	sv_reply(sv, c, NULL, 0, NULL);
}

static void
sv_who(struct supervisor *sv, struct reg_client *c, const char *name)
{
	struct reg_room *r = registry_room_find(&sv->reg, name);
	/* A line goes out once it passes SV_WHO_LINE: it holds the header
	 * (under 64 bytes), that many bytes and one more nick, never cut. */
	char line[SV_WHO_LINE + CONFIG_NICK_MAX + 64];
	size_t len = 0;

	char q[NAMES_QUOTE_SIZE];

	if (!r) {
		names_quote(name, strlen(name), q);
		sv_replyf(sv, c, "no such room %s", q);
		return;
	}
	for (unsigned i = 0; i < r->nmembers; i++) {
		const char *nick = sv->reg.clients[r->members[i]].nick;
		if (len == 0)
			len = (size_t)snprintf(line, sizeof(line),
					       "-!- members of %s:", r->name);
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s",
					nick);
		if (len >= SV_WHO_LINE || i + 1 == r->nmembers) {
			sv_text(sv, c, "%s", line);
			len = 0;
		}
	}
	sv_reply(sv, c, NULL, 0, NULL);
}

static void
sv_topic(struct supervisor *sv, struct reg_client *c, char *arg)
{
	char *text = sv_split(arg);
	struct reg_room *r = sv_member_room(sv, c, arg);

	if (!r)
		return;
	if (strcmp(text, "-") == 0 && r->topic[0]) {
		r->topic[0] = '\0';
		outbox_append(&sv->w, OUTBOX_TOPIC, 0, c->id, r->id, NULL, 0,
			      c->nick, r->name, NULL, 0);
		sv_reply(sv, c, NULL, 0, NULL);
		return;
	}
	if (!text[0] || strcmp(text, "-") == 0) {
		if (r->topic[0])
			sv_text(sv, c, "-!- topic of %s: %s", r->name,
				r->topic);
		else
			sv_text(sv, c, "-!- %s has no topic", r->name);
		sv_reply(sv, c, NULL, 0, NULL);
		return;
	}
	if (strlen(text) > CONFIG_TOPIC_MAX) {
		sv_replyf(sv, c, "topic too long (max %d bytes)",
			  CONFIG_TOPIC_MAX);
		return;
	}
	snprintf(r->topic, sizeof(r->topic), "%s", text);
	outbox_append(&sv->w, OUTBOX_TOPIC, 0, c->id, r->id, NULL, 0, c->nick,
		      r->name, r->topic, strlen(r->topic));
	sv_reply(sv, c, NULL, 0, NULL);
}

static void
sv_resolve(struct supervisor *sv, struct reg_client *c, const char *nick)
{
	struct reg_client *t = registry_nick_find(&sv->reg, nick);

	char q[NAMES_QUOTE_SIZE];

	if (!t) {
		names_quote(nick, strlen(nick), q);
		sv_replyf(sv, c, "no such nick %s", q);
		return;
	}
	sv_reply(sv, c, NULL, t->id, t->nick);
}

static void sv_session_bad(struct supervisor *sv, struct sv_session *s,
			   const char *why);

static void
sv_request(struct supervisor *sv, struct sv_session *s, const void *payload,
	   int len)
{
	struct channel_request req;
	char arg[CHANNEL_ARG_MAX + 1];
	struct reg_client *c;

	if ((size_t)len < offsetof(struct channel_request, arg) ||
	    (size_t)len > sizeof(req)) {
		sv_session_bad(sv, s, "malformed request");
		return;
	}
	memset(&req, 0, sizeof(req));
	memcpy(&req, payload, (size_t)len);
	if (req.arg_len > (size_t)len - offsetof(struct channel_request, arg)) {
		sv_session_bad(sv, s, "malformed request");
		return;
	}
	memcpy(arg, req.arg, req.arg_len);
	arg[req.arg_len] = '\0';
	c = registry_client_get(&sv->reg, req.client);
	if (!c)
		return; /* closed while the request was in flight */
	if (c->session != (int)s->index) {
		sv_session_bad(sv, s, "request for a foreign client");
		return;
	}
	switch (req.op) {
	case CHANNEL_OP_HELLO:
		sv_join(sv, c, sv->cfg->default_room);
		break;
	case CHANNEL_OP_NICK:
		sv_nick(sv, c, arg);
		break;
	case CHANNEL_OP_JOIN:
		sv_join(sv, c, arg);
		break;
	case CHANNEL_OP_PART:
		sv_part(sv, c, arg);
		break;
	case CHANNEL_OP_ROOMS:
		sv_rooms(sv, c);
		break;
	case CHANNEL_OP_WHO:
		sv_who(sv, c, arg);
		break;
	case CHANNEL_OP_TOPIC:
		sv_topic(sv, c, arg);
		break;
	case CHANNEL_OP_RESOLVE:
		sv_resolve(sv, c, arg);
		break;
	default: {
		sv_session_bad(sv, s, "unknown request");
		return;
	}
	}
	sv_commit(sv);
}

/* ---- clients leaving ----------------------------------------------------- */

static void
sv_client_gone(struct supervisor *sv, struct reg_client *c, const char *why)
{
	uint64_t ids[CONFIG_ROOMS_PER_CLIENT_MAX];
	struct sv_session *s = &sv->sessions[c->session];

	log_info("client %s (%s) left: %s", c->nick, c->addr, why);
	outbox_append(&sv->w, OUTBOX_QUIT, 0, c->id, 0, ids,
		      sv_room_ids(sv, c, ids, 0), c->nick, NULL, why,
		      strlen(why));
	registry_client_remove(&sv->reg, c);
	if (s->nclients > 0)
		s->nclients--;
	if (s->client_id == c->id)
		s->client_id = 0;
	sv_commit(sv);
}

static void
sv_client_closed(struct supervisor *sv, struct sv_session *s,
		 const void *payload, int len)
{
	struct channel_client_closed m;
	char why[CHANNEL_REASON_MAX + 1];
	struct reg_client *c;

	if ((size_t)len < offsetof(struct channel_client_closed, text) ||
	    (size_t)len > sizeof(m)) {
		sv_session_bad(sv, s, "malformed CLIENT_CLOSED");
		return;
	}
	memset(&m, 0, sizeof(m));
	memcpy(&m, payload, (size_t)len);
	if (m.text_len >
	    (size_t)len - offsetof(struct channel_client_closed, text)) {
		sv_session_bad(sv, s, "malformed CLIENT_CLOSED");
		return;
	}
	memcpy(why, m.text, m.text_len);
	why[m.text_len] = '\0';
	c = registry_client_get(&sv->reg, m.client);
	if (!c || c->session != (int)s->index)
		return;
	sv_client_gone(sv, c, why);
}

/* ---- marks --------------------------------------------------------------- */

/* Remembers the room messages between the last mark and head. */
static void
sv_history(struct supervisor *sv, unsigned producer, uint64_t from, uint64_t to)
{
	struct outbox_view v;

	while (outbox_read(&sv->shm, producer, &from, to, sv->recbuf, &v) ==
	       1) {
		const struct outbox_rec *r = v.rec;
		if (r->kind != OUTBOX_MSG && r->kind != OUTBOX_ACTION)
			continue;
		struct reg_room *room = registry_room_get(&sv->reg, r->target);
		struct reg_client *c = registry_client_get(&sv->reg, r->src);
		if (!room || !c || !registry_is_member(c, room))
			continue;
		registry_history_add(&sv->reg, room, r->kind, v.nick,
				     r->nick_len, r->ts_ms, v.text,
				     r->text_len);
	}
}

static void
sv_mark(struct supervisor *sv, unsigned producer)
{
	uint64_t head = outbox_take_mark(&sv->shm, producer);

	if (head <= sv->marked[producer])
		return;
	if (sv->cfg->history > 0)
		sv_history(sv, producer, sv->marked[producer], head);
	outbox_timeline_append(&sv->shm, producer, head);
	sv->marked[producer] = head;
	sv->tl_dirty = 1;
}

/* ---- sessions ------------------------------------------------------------ */

static void sv_on_channel(struct loop *loop, int fd, uint32_t events,
			  void *arg);

static void
sv_child_close_fds(const int *keep, int n)
{
	int sorted[8], prev = -1;

	memcpy(sorted, keep, (size_t)n * sizeof(int));
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			int t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		if (sorted[i] < 0 || sorted[i] == prev)
			continue;
		if (sorted[i] > prev + 1)
			close_range((unsigned)prev + 1, (unsigned)sorted[i] - 1,
				    0);
		prev = sorted[i];
	}
	close_range((unsigned)prev + 1, ~0u, 0);
}

static void __attribute__((noreturn))
sv_child(struct supervisor *sv, struct sv_session *s, int chan_fd,
	 int client_fd, const struct reg_client *c)
{
	int wake_fd = sv->wake_fds[s->index % sv->nwake];
	int keep[] = {0, 1, 2, chan_fd, wake_fd, client_fd};
	struct session_start st = {
	    .cfg = sv->cfg,
	    .shm = &sv->shm,
	    .producer = (unsigned)sv_producer(s),
	    .channel_fd = chan_fd,
	    .wake_fd = wake_fd,
	    .worker = sv->cfg->workers > 0,
	    /* Only the supervisor writes the timeline, so its own view
	     * is exact: the child starts where every mark so far ends. */
	    .tl_pos = outbox_timeline_head(&sv->shm),
	    .cursors = sv->marked,
	    .client_fd = client_fd,
	    .client_id = c ? c->id : 0,
	    .client_nick = c ? c->nick : "",
	    .client_addr = c ? c->addr : "",
	};

	/* Die with the supervisor; the check closes the race with its exit
	 * before prctl took effect. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != sv->pid)
		_exit(1);
	sv_child_close_fds(keep, client_fd >= 0 ? 6 : 5);
	session_main(&st);
}

/* Forks the session for slot s, with client_fd (fork model) or none
 * (worker). Returns 0 or -errno; closes client_fd in the parent. */
static int
sv_spawn(struct supervisor *sv, struct sv_session *s, int client_fd,
	 const struct reg_client *c)
{
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
		sv_child(sv, s, fds[1], client_fd, c);
	}
	close(fds[1]);
	if (client_fd >= 0)
		close(client_fd);
	s->pid = pid;
	s->reaped = 0;
	s->nclients = c ? 1 : 0;
	s->client_id = c ? c->id : 0;
	channel_init(&s->chan, fds[0]);
	s->chan_open = 1;
	sv->live++;
	sv->wake_members[s->index % sv->nwake]++;
	if (idmap_put(&sv->by_pid, (uint64_t)pid, s) < 0 ||
	    loop_add(sv->loop, fds[0], EPOLLIN | EPOLLOUT | EPOLLET,
		     sv_on_channel, s) < 0)
		fatal("sv_spawn");
	return 0;
}

/* Forks a worker for every empty worker slot; one that cannot be forked
 * now (no fds, no memory) is tried again SV_RESPAWN_MS later. */
static void
sv_respawn(struct supervisor *sv)
{
	if (sv->cfg->workers == 0 || sv->stopping)
		return;
	long long now = loop_now_ms();
	if (now < sv->respawn_due_ms)
		return;
	sv->respawn_due_ms = 0;
	for (unsigned i = 0; i < sv->nsessions; i++) {
		struct sv_session *s = &sv->sessions[i];
		if (s->pid > 0 || s->chan_open)
			continue;
		int err = sv_spawn(sv, s, -1, NULL);
		if (err < 0) {
			log_warn("cannot respawn worker %u: %s; retrying in "
				 "%d ms",
				 s->index, strerror(-err), SV_RESPAWN_MS);
			sv->respawn_due_ms = now + SV_RESPAWN_MS;
			return;
		}
		log_info("worker %u respawned as pid %d", s->index,
			 (int)s->pid);
	}
}

static void
sv_session_release(struct supervisor *sv, struct sv_session *s)
{
	/* Both the process and its channel are gone: the slot (and its
	 * outbox, continuing from its head) may be reused. */
	s->pid = 0;
	sv_respawn(sv);
}

/* The session's channel reached EOF: mark what it wrote last, then every
 * client it still had has lost its connection. */
static void
sv_channel_closed(struct supervisor *sv, struct sv_session *s)
{
	if (!s->chan_open)
		return;
	loop_del(sv->loop, s->chan.fd);
	channel_close(&s->chan);
	s->chan_open = 0;
	sv_mark(sv, (unsigned)sv_producer(s));
	if (s->client_id) {
		struct reg_client *c =
		    registry_client_get(&sv->reg, s->client_id);
		if (c)
			sv_client_gone(sv, c, "connection lost");
	}
	for (int i = 0; s->nclients > 0 && i < sv->cfg->max_clients; i++) {
		struct reg_client *c = &sv->reg.clients[i];
		if (c->id && c->session == (int)s->index)
			sv_client_gone(sv, c, "connection lost");
	}
	s->nclients = 0;
	if (s->reaped)
		sv_session_release(sv, s);
}

static void
sv_session_bad(struct supervisor *sv, struct sv_session *s, const char *why)
{
	log_warn("session %d: %s; ending it", (int)s->pid, why);
	if (s->pid > 0 && !s->reaped)
		kill(s->pid, SIGKILL);
	sv_channel_closed(sv, s);
}

static void
sv_on_channel(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct sv_session *s = arg;
	struct supervisor *sv = s->sv;
	char payload[CHANNEL_MSG_MAX];
	struct channel_hdr h;
	int n, passed;

	(void)loop;
	(void)fd;
	if (events & EPOLLOUT)
		(void)channel_flush(&s->chan);
	while (s->chan_open) {
		n = channel_recv(&s->chan, &h, payload, &passed);
		if (n == -EAGAIN)
			return;
		if (passed >= 0)
			close(passed); /* sessions never pass fds up */
		if (n == -EBADMSG) {
			sv_session_bad(sv, s, "malformed message");
			return;
		}
		if (n < 0) {
			sv_channel_closed(sv, s);
			return;
		}
		switch (h.type) {
		case CHANNEL_MARK:
			sv_mark(sv, (unsigned)sv_producer(s));
			break;
		case CHANNEL_REQUEST:
			sv_request(sv, s, payload, n);
			break;
		case CHANNEL_CLIENT_CLOSED:
			sv_client_closed(sv, s, payload, n);
			break;
		default: {
			sv_session_bad(sv, s, "unexpected message");
			return;
		}
		}
	}
}

static void
sv_reap(struct supervisor *sv)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct sv_session *s = idmap_del(&sv->by_pid, (uint64_t)pid);
		const char *what = sv->cfg->workers > 0 ? "worker" : "session";
		if (WIFSIGNALED(st))
			log_warn("%s %d killed by signal %d", what, (int)pid,
				 WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0)
			log_warn("%s %d exited with code %d", what, (int)pid,
				 WEXITSTATUS(st));
		else
			log_info("%s %d exited with code 0", what, (int)pid);
		if (!s)
			continue;
		s->reaped = 1;
		sv->live--;
		sv->wake_members[s->index % sv->nwake]--;
		if (!s->chan_open)
			sv_session_release(sv, s);
	}
}

/* ---- accepting ----------------------------------------------------------- */

static void
sv_refuse(int fd, const char *line)
{
	(void)send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static struct sv_session *
sv_pick_session(struct supervisor *sv)
{
	struct sv_session *best = NULL;

	for (unsigned i = 0; i < sv->nsessions; i++) {
		struct sv_session *s = &sv->sessions[i];
		if (sv->cfg->workers == 0) {
			if (s->pid == 0)
				return s;
			continue;
		}
		if (s->pid > 0 && s->chan_open && !s->reaped &&
		    (!best || s->nclients < best->nclients))
			best = s;
	}
	return best;
}

static void
sv_admit(struct supervisor *sv, int fd, const struct sockaddr_storage *ss)
{
	char addr[NET_ADDR_STRLEN], host[NET_ADDR_STRLEN];
	int exempt = net_is_loopback(ss) && !sv->cfg->limit_loopback;
	struct sv_session *s;
	struct reg_client *c;

	net_format_addr(ss, addr, sizeof(addr));
	net_format_host(ss, host, sizeof(host));
	if (sv->reg.nclients >= (unsigned)sv->cfg->max_clients) {
		log_warn("refused %s: server full (%d %s)", addr,
			 sv->cfg->max_clients,
			 SV_PLURAL(sv->cfg->max_clients, "client"));
		sv_refuse(fd, "-!- server full, try again later\n");
		return;
	}
	if (!exempt && sv->cfg->max_per_address > 0 &&
	    registry_host_count(&sv->reg, host) >= sv->cfg->max_per_address) {
		char line[128];
		snprintf(line, sizeof(line),
			 "-!- too many connections from your address "
			 "(limit %d)\n",
			 sv->cfg->max_per_address);
		log_warn("refused %s: per-address limit %d", addr,
			 sv->cfg->max_per_address);
		sv_refuse(fd, line);
		return;
	}
	s = sv_pick_session(sv);
	if (!s) {
		log_warn("refused %s: no session process available", addr);
		sv_refuse(fd, "-!- server busy, try again later\n");
		return;
	}
	c = registry_client_add(&sv->reg, (int)s->index, addr,
				exempt ? "" : host);
	if (!c) {
		sv_refuse(fd, "-!- server full, try again later\n");
		return;
	}
	log_info("client %s connected from %s", c->nick, addr);
	if (sv->cfg->workers == 0) {
		if (sv_spawn(sv, s, fd, c) < 0) {
			log_warn("cannot fork a session for %s: %s", addr,
				 strerror(errno));
			registry_client_remove(&sv->reg, c);
			sv_refuse(fd, "-!- server busy, try again "
				      "later\n");
			return;
		}
		return;
	}
	struct channel_client_new m = {.client = c->id};
	snprintf(m.nick, sizeof(m.nick), "%s", c->nick);
	snprintf(m.addr, sizeof(m.addr), "%s", c->addr);
	if (channel_send(&s->chan, CHANNEL_CLIENT_NEW, &m, sizeof(m), fd,
			 SV_CHANNEL_QUEUE) < 0) {
		registry_client_remove(&sv->reg, c);
		sv_session_bad(sv, s, "channel full");
		return;
	}
	s->nclients++;
}

static void
sv_accept_pause(struct supervisor *sv, int err)
{
	if (sv->accept_paused)
		return;
	log_warn("accept: %s; pausing new connections for %d ms",
		 strerror(-err), SV_ACCEPT_PAUSE_MS);
	for (int i = 0; i < sv->nlisten; i++)
		(void)loop_mod(sv->loop, sv->listen_fds[i], 0);
	sv->accept_paused = 1;
	sv->accept_resume_ms = loop_now_ms() + SV_ACCEPT_PAUSE_MS;
}

static void
sv_accept_resume(struct supervisor *sv)
{
	if (!sv->accept_paused || loop_now_ms() < sv->accept_resume_ms)
		return;
	sv->accept_paused = 0;
	for (int i = 0; i < sv->nlisten; i++)
		(void)loop_mod(sv->loop, sv->listen_fds[i], EPOLLIN);
}

static void
sv_on_listen(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct supervisor *sv = arg;
	struct sockaddr_storage ss;

	(void)loop;
	(void)events;
	for (int i = 0; i < SV_ACCEPT_BATCH && !sv->stopping; i++) {
		int cfd = net_accept(fd, &ss);
		if (cfd == -EAGAIN)
			return;
		if (cfd == -EMFILE || cfd == -ENFILE || cfd == -ENOBUFS ||
		    cfd == -ENOMEM) {
			sv_accept_pause(sv, cfd);
			return;
		}
		if (cfd < 0)
			continue; /* ECONNABORTED and friends: next one */
		sv_admit(sv, cfd, &ss);
	}
}

/* ---- signals and shutdown ------------------------------------------------ */

static void
sv_begin_stop(struct supervisor *sv, int signo)
{
	if (sv->stopping)
		return;
	sv->stopping = 1;
	log_info("%s: shutting down (%u %s, %u %s)", strsignal(signo),
		 sv->reg.nclients, SV_PLURAL(sv->reg.nclients, "client"),
		 sv->live, SV_PROCESSES(sv->live));
	for (int i = 0; i < sv->nlisten; i++) {
		loop_del(sv->loop, sv->listen_fds[i]);
		close(sv->listen_fds[i]);
	}
	sv->nlisten = 0;
	outbox_append(&sv->w, OUTBOX_SHUTDOWN, 0, 0, 0, NULL, 0, NULL, NULL,
		      NULL, 0);
	sv_commit(sv);
	for (unsigned i = 0; i < sv->nsessions; i++) {
		struct sv_session *s = &sv->sessions[i];
		if (s->pid > 0 && s->chan_open &&
		    channel_send(&s->chan, CHANNEL_SHUTDOWN, NULL, 0, -1,
				 SV_CHANNEL_QUEUE) < 0)
			kill(s->pid, SIGTERM);
	}
	sv->deadline_ms = loop_now_ms() + sv->cfg->shutdown_ms;
}

static void
sv_on_signal(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct supervisor *sv = arg;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			sv_reap(sv);
			break;
		case SIGTERM:
		case SIGINT:
			sv_begin_stop(sv, (int)si.ssi_signo);
			break;
		case SIGHUP:
			log_info("SIGHUP: nothing to reload");
			break;
		}
	}
}

static void
sv_escalate(struct supervisor *sv)
{
	if (!sv->stopping || loop_now_ms() < sv->deadline_ms)
		return;
	if (sv->killed) {
		log_warn("%u %s did not die; giving up on them", sv->live,
			 SV_PROCESSES(sv->live));
		sv->abandoned = sv->live;
		sv->live = 0;
		return;
	}
	log_warn("shutdown deadline passed: killing %u %s", sv->live,
		 SV_PROCESSES(sv->live));
	for (unsigned i = 0; i < sv->nsessions; i++)
		if (sv->sessions[i].pid > 0 && !sv->sessions[i].reaped &&
		    kill(sv->sessions[i].pid, SIGKILL) == 0)
			sv->nkilled++;
	sv->killed = 1;
	sv->deadline_ms = loop_now_ms() + SV_KILL_WAIT_MS;
}

static int
sv_timeout(struct supervisor *sv)
{
	long long now = loop_now_ms(), next = -1;

	if (sv->stopping)
		next = sv->deadline_ms;
	if (sv->accept_paused && (next < 0 || sv->accept_resume_ms < next))
		next = sv->accept_resume_ms;
	if (sv->respawn_due_ms && (next < 0 || sv->respawn_due_ms < next))
		next = sv->respawn_due_ms;
	if (sv->wake_due_ms && (next < 0 || sv->wake_due_ms < next))
		next = sv->wake_due_ms;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* ---- start-up ------------------------------------------------------------ */

static int
sv_listen(struct supervisor *sv)
{
	static const char *defaults[] = {"127.0.0.1:5050", "[::1]:5050"};
	const char *const *specs =
	    sv->cfg->nlisten ? sv->cfg->listen : defaults;
	int n = sv->cfg->nlisten ? sv->cfg->nlisten : 2;

	for (int i = 0; i < n; i++) {
		char host[256];
		int port, fd;
		if (net_parse_hostport(specs[i], host, sizeof(host), &port,
				       NET_DEFAULT_PORT) < 0) {
			log_warn("bad listen address %s", specs[i]);
			return -1;
		}
		fd = net_listen(host, port, 1024);
		if (fd < 0 && !sv->cfg->nlisten && i > 0 &&
		    (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT)) {
			log_warn("IPv6 unavailable: not listening on %s",
				 specs[i]);
			continue;
		}
		if (fd < 0) {
			log_warn("cannot listen on %s: %s", specs[i],
				 strerror(-fd));
			return -1;
		}
		sv->listen_fds[sv->nlisten++] = fd;
	}
	return 0;
}

static void
sv_announce(struct supervisor *sv)
{
	for (int i = 0; i < sv->nlisten; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char addr[NET_ADDR_STRLEN];
		getsockname(sv->listen_fds[i], (struct sockaddr *)&ss, &len);
		net_format_addr(&ss, addr, sizeof(addr));
		log_info("listening on %s", addr);
		if (loop_add(sv->loop, sv->listen_fds[i], EPOLLIN, sv_on_listen,
			     sv) < 0)
			fatal("loop_add listener");
	}
}

static void
sv_setup(struct supervisor *sv, const struct config *cfg)
{
	unsigned nprod;
	sigset_t mask;
	int err;

	memset(sv, 0, sizeof(*sv));
	sv->cfg = cfg;
	sv->pid = getpid();
	/* Fork model: a slot per client plus slack for processes that are
	 * exiting but not yet reaped. */
	sv->nsessions = cfg->workers > 0 ? (unsigned)cfg->workers
					 : (unsigned)cfg->max_clients + 64;
	nprod = sv->nsessions + 1;
	size_t ring0 =
	    cfg->outbox_bytes < (16u << 20) ? (16u << 20) : cfg->outbox_bytes;
	err = outbox_shm_create(&sv->shm, nprod, ring0, cfg->outbox_bytes,
				cfg->timeline_entries);
	if (err < 0) {
		errno = -err;
		fatal("shared memory (%u rings of %zu bytes)", nprod,
		      cfg->outbox_bytes);
	}
	outbox_writer_init(&sv->w, &sv->shm, 0);
	sv->marked = calloc(nprod, sizeof(*sv->marked));
	sv->sessions = calloc(sv->nsessions, sizeof(*sv->sessions));
	sv->recbuf =
	    aligned_alloc(OUTBOX_REC_ALIGN, (OUTBOX_REC_MAX + 7) & ~(size_t)7);
	if (!sv->marked || !sv->sessions || !sv->recbuf)
		fatal("supervisor memory");
	for (unsigned i = 0; i < sv->nsessions; i++) {
		sv->sessions[i].index = i;
		sv->sessions[i].sv = sv;
		sv->sessions[i].chan.fd = -1;
	}
	registry_init(&sv->reg, cfg);
	sv->loop = loop_new();
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sv->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sv->sig_fd < 0)
		fatal("signalfd");
	sv->nwake =
	    sv->nsessions < SV_WAKE_GROUPS ? sv->nsessions : SV_WAKE_GROUPS;
	for (unsigned g = 0; g < sv->nwake; g++) {
		sv->wake_fds[g] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (sv->wake_fds[g] < 0)
			fatal("eventfd");
	}
	if (loop_add(sv->loop, sv->sig_fd, EPOLLIN, sv_on_signal, sv) < 0)
		fatal("loop_add signalfd");
}

/* Group g has live sessions that have not been woken for head. */
static int
sv_group_behind(const struct supervisor *sv, unsigned g, uint64_t head)
{
	return sv->wake_members[g] > 0 && sv->woken_tl[g] != head;
}

static void
sv_wake_group(struct supervisor *sv, unsigned g, uint64_t head)
{
	uint64_t one = 1;

	sv->woken_tl[g] = head;
	sv->wakes++;
	/* Every session of the group watches this eventfd edge-triggered:
	 * one write wakes them all, and the counter is never read (2^64
	 * writes away from overflow). */
	if (write(sv->wake_fds[g], &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("wake: %s", strerror(errno));
}

/* Wake-ups are many under load: at most one debug line a second. */
static void
sv_wake_tally(struct supervisor *sv, uint64_t head)
{
	long long now = loop_time_ms(sv->loop);

	if (sv->wakes == 0 || now - sv->wakes_logged_ms < SV_DEBUG_EVERY_MS)
		return;
	log_debug("%u wake-up%s of session groups since the last report "
		  "(%u groups, %u processes; timeline at %llu)",
		  sv->wakes, sv->wakes == 1 ? "" : "s", sv->nwake, sv->live,
		  (unsigned long long)head);
	sv->wakes = 0;
	sv->wakes_logged_ms = now;
}

/* Wakes the sessions that have not seen the timeline's head, paced. A
 * wake-up costs each session process a context switch (about 14 us apiece
 * on the 2-core benchmark machine), so waking 1,000 sessions for every
 * batch would spend the machine on wake-ups under load. Each group is
 * woken at most once per gap, wake_pace_us per live session process (25
 * ms for 1,000 fork-model sessions, nothing for 2 workers), and the groups
 * take turns: a wave of 1,000 processes all runnable at once would make
 * everything else (the sessions reading their clients' input, the
 * supervisor itself) wait behind it. Turns are whole milliseconds, at most
 * one per millisecond of the gap (8 turns of one group, 3 ms apart, for a
 * 25 ms gap; 2 turns of 4 groups for a 2 ms gap). A server quiet for a
 * whole gap wakes every group at once. */
static void
sv_wake(struct supervisor *sv)
{
	long long gap_ms = (long long)sv->live * sv->cfg->wake_pace_us / 1000;
	long long turns = gap_ms < sv->nwake ? gap_ms : sv->nwake;
	unsigned per_turn =
	    turns > 0 ? (unsigned)((sv->nwake + turns - 1) / turns) : 0;
	uint64_t head;
	long long now;

	if (!sv->tl_dirty)
		return;
	head = outbox_timeline_head(&sv->shm);
	now = gap_ms > 0 ? loop_now_ms() : 0;
	if (gap_ms == 0 || now >= sv->wake_last_ms + gap_ms) {
		for (unsigned g = 0; g < sv->nwake; g++)
			if (sv_group_behind(sv, g, head))
				sv_wake_group(sv, g, head);
		sv->wake_last_ms = now;
	} else if (now >= sv->wake_due_ms) {
		unsigned woken = 0;
		for (unsigned i = 0; i < sv->nwake && woken < per_turn; i++) {
			unsigned g = (sv->wake_next + i) % sv->nwake;
			if (sv_group_behind(sv, g, head)) {
				sv_wake_group(sv, g, head);
				sv->wake_next = (g + 1) % sv->nwake;
				woken++;
			}
		}
		sv->wake_last_ms = now;
	}
	sv_wake_tally(sv, head);
	sv->tl_dirty = 0;
	for (unsigned g = 0; g < sv->nwake; g++)
		if (sv_group_behind(sv, g, head))
			sv->tl_dirty = 1;
	if (!sv->tl_dirty)
		sv->wake_due_ms = 0;
	else if (sv->wake_last_ms == now)
		sv->wake_due_ms = now + (turns > 0 ? gap_ms / turns : 1);
}

static void
sv_teardown(struct supervisor *sv)
{
	for (unsigned i = 0; i < sv->nsessions; i++)
		if (sv->sessions[i].chan_open)
			channel_close(&sv->sessions[i].chan);
	for (int i = 0; i < sv->nlisten; i++)
		close(sv->listen_fds[i]);
	close(sv->sig_fd);
	for (unsigned g = 0; g < sv->nwake; g++)
		close(sv->wake_fds[g]);
	loop_free(sv->loop);
	registry_free(&sv->reg);
	idmap_free(&sv->by_pid);
	free(sv->sessions);
	free(sv->marked);
	free(sv->recbuf);
	outbox_shm_destroy(&sv->shm);
}

int
supervisor_run(const struct config *cfg)
{
	struct supervisor sv;

	sv_setup(&sv, cfg);
	if (sv_listen(&sv) < 0)
		return 1;
	for (int i = 0; i < cfg->workers; i++)
		if (sv_spawn(&sv, &sv.sessions[i], -1, NULL) < 0)
			fatal("fork worker");
	if (cfg->workers > 0)
		log_info("%d %s started", cfg->workers,
			 SV_PLURAL(cfg->workers, "worker"));
	sv_announce(&sv);
	while (!(sv.stopping && sv.live == 0)) {
		if (loop_run_once(sv.loop, sv_timeout(&sv)) < 0)
			fatal("epoll_wait");
		sv_wake(&sv);
		sv_accept_resume(&sv);
		sv_respawn(&sv);
		sv_escalate(&sv);
	}
	if (sv.abandoned)
		log_warn("shut down, leaving %u %s that did not die",
			 sv.abandoned, SV_PROCESSES(sv.abandoned));
	else if (sv.nkilled)
		log_warn("shut down after killing %u %s", sv.nkilled,
			 SV_PROCESSES(sv.nkilled));
	else
		log_info("shut down cleanly");
	sv_teardown(&sv);
	return 0;
}
