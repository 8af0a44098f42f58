/*
 * supervisor_proc: the supervisor's process table. Forks session
 * processes (one per client, or the workers), watches their channels,
 * reaps them and respawns workers. A session's channel EOF or exit ends
 * every client it still had, as "connection lost"; a malformed message
 * ends that session only.
 */
#include "lib/log.h"
#include "server/sandbox.h"
#include "server/session.h"
#include "server/session_heap.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define SV_RESPAWN_MS 100

static int
sv_producer(const struct sv_session *s)
{
	return (int)s->index + 1;
}

/* The child's view of the supervisor: sv's own fields, never its tables
 * (sv->sessions, the registry: not mapped after fork, lib/ptable.h). */

static void sv_on_channel(struct loop *loop, int fd, uint32_t events,
			  void *arg);

void
sv_child_close_fds(const int *keep, int n)
{
	int sorted[16], prev = -1;

	if (n > 16)
		abort();
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

void
sv_child(struct supervisor *sv, unsigned index, int chan_fd, int client_fd,
	 const struct channel_client_new *m, uint64_t tl_pos,
	 int store_producer)
{
	int wake_fd = sv->wake_fds[index % sv->nwake];
	int keep[] = {0, 1, 2, chan_fd, wake_fd, sv->flow_fd, client_fd};
	struct session_start st = {
	    .cfg = sv->cfg,
	    .shm = &sv->shm,
	    .producer = index + 1,
	    .channel_fd = chan_fd,
	    .wake_fd = wake_fd,
	    .flow_fd = sv->flow_fd,
	    .reader = index,
	    .worker = sv->cfg->workers > 0,
	    /* Only the supervisor writes the timeline, so its own view is
	     * exact: the child starts where every mark so far ends. Taken
	     * in the parent before fork, with sv->marked as of then (the
	     * shared head may have moved on since). */
	    .tl_pos = tl_pos,
	    .client = m,
	    .client_fd = client_fd,
	    .live = &sv->settings,
	    .stats = &sv->stats,
	    .slot = index,
	    .store_producer = store_producer,
	};

	/* Die with the supervisor; the check closes the race with its exit
	 * before prctl took effect. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != sv->pid)
		_exit(1);
	sv_child_close_fds(keep, client_fd >= 0 ? 7 : 6);
	/* A one-client session allocates from a heap of its own rather than
	 * into the supervisor's, whose pages it would copy (issue 17). A
	 * worker's many clients are worth no such care. */
	int err = st.worker ? 0 : session_heap_enter();
	if (err < 0)
		log_debug("session heap: %s; using the inherited one",
			  strerror(-err));
	session_main(&st);
}

void
sv_client_new(const struct reg_client *c, unsigned proto, unsigned transport,
	      struct channel_client_new *m)
{
	memset(m, 0, sizeof(*m));
	m->client = c->id;
	m->proto = (uint16_t)proto;
	m->transport = (uint16_t)transport;
	snprintf(m->nick, sizeof(m->nick), "%s", c->nick);
	snprintf(m->user, sizeof(m->user), "%s", c->user);
	snprintf(m->host, sizeof(m->host), "%s", c->cloak);
	snprintf(m->addr, sizeof(m->addr), "%s", c->addr);
}

int
sv_spawn(struct supervisor *sv, struct sv_session *s, int client_fd,
	 const struct reg_client *c, unsigned proto, unsigned transport)
{
	struct channel_client_new m;
	int fds[2], err;
	pid_t pid;

	if (c)
		sv_client_new(c, proto, transport, &m);

	if ((err = channel_pair(fds)) < 0)
		return err;
	/* The reader slot is open before the child exists: from here on no
	 * producer frees a record the new reader has not read. */
	uint64_t tl_pos = outbox_timeline_head(&sv->shm);
	unsigned index = s->index; /* s itself is not the child's to read */
	sv_flow_open(sv, index, tl_pos);
	int store_producer =
	    sv->store.state != SV_STORE_OFF ? sv->store.producer : 0;
	pid = sv_zygote_spawn(sv, index, fds[1], client_fd, c ? &m : NULL,
			      tl_pos, store_producer);
	if (pid == 0)
		pid = fork();
	else if (pid < 0)
		errno = -pid;
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		sv_flow_close(sv, s->index);
		return err;
	}
	if (pid == 0) {
		close(fds[0]);
		sv_child(sv, index, fds[1], client_fd, c ? &m : NULL, tl_pos,
			 store_producer);
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

void
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
		int err = sv_spawn(sv, s, -1, NULL, 0, 0);
		if (err < 0) {
			log_warn("cannot respawn worker %u: %s; retrying in "
				 "%d ms",
				 s->index, strerror(-err), SV_RESPAWN_MS);
			sv->respawn_due_ms = now + SV_RESPAWN_MS;
			return;
		}
		log_info("worker %u respawned as pid %d", s->index,
			 (int)s->pid);
		sv->counts[METRICS_WORKER_RESTARTS]++;
	}
}

static void
sv_session_release(struct supervisor *sv, struct sv_session *s)
{
	/* Both the process and its channel are gone: the slot (and its
	 * outbox, continuing from its head) may be reused. Its reader slot is
	 * closed again: a process that rejoined before it died is gone. */
	sv_ops_release(sv, s);
	flow_slot_close(&sv->shm, s->index);
	s->pid = 0;
	sv_ring_retire(sv, (unsigned)sv_producer(s));
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
	sv_flow_close(sv, s->index); /* nobody waits for it any more */
	sv_mark_now(sv, (unsigned)sv_producer(s));
	if (s->client_id) {
		struct reg_client *c =
		    registry_client_get(&sv->reg, s->client_id);
		if (c)
			sv_client_gone(sv, c, "connection lost");
	}
	for (int i = 0; s->nclients > 0 && i < sv->cfg->client_slots; i++) {
		struct reg_client *c = &sv->reg.clients[i];
		if (c->id && c->session == (int)s->index)
			sv_client_gone(sv, c, "connection lost");
	}
	s->nclients = 0;
	if (s->reaped)
		sv_session_release(sv, s);
}

void
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
		case CHANNEL_FLOW:
			sv_flow_ask(sv, s, payload, n);
			break;
		default: {
			sv_session_bad(sv, s, "unexpected message");
			return;
		}
		}
	}
}

void
sv_reap(struct supervisor *sv)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (sv_store_reaped(sv, pid, st) ||
		    sv_zygote_reaped(sv, pid, st))
			continue;
		struct sv_session *s = idmap_del(&sv->by_pid, (uint64_t)pid);
		const char *what = sv->cfg->workers > 0 ? "worker" : "session";
		if (s && (WIFSIGNALED(st) || WEXITSTATUS(st) != 0))
			sv->counts[METRICS_SESSION_FAILURES]++;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
			log_warn("%s %d killed by the sandbox (SIGSYS: a "
				 "forbidden system call)",
				 what, (int)pid);
		else if (WIFSIGNALED(st))
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

struct sv_session *
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

int
sv_privileges(struct supervisor *sv)
{
	char why[256];
	int err = sandbox_available();

	if (err < 0) {
		log_warn("this kernel cannot sandbox session processes "
			 "(seccomp: %s)",
			 strerror(-err));
		return -1;
	}
	if (sv->cfg->user) {
		if (sandbox_drop_user(sv->cfg->user, why, sizeof(why)) < 0) {
			log_warn("--user: %s", why);
			return -1;
		}
		log_info("running as user %s (uid %d, gid %d)", sv->cfg->user,
			 (int)getuid(), (int)getgid());
	} else if (geteuid() == 0) {
		log_warn("running as root: pass --user NAME to drop root once "
			 "the ports are bound");
	}
	return 0;
}

void
sv_shutdown_sessions(struct supervisor *sv)
{
	for (unsigned i = 0; i < sv->nsessions; i++) {
		struct sv_session *s = &sv->sessions[i];
		if (s->pid > 0 && s->chan_open &&
		    channel_send(&s->chan, CHANNEL_SHUTDOWN, NULL, 0, -1,
				 SV_CHANNEL_QUEUE) < 0)
			kill(s->pid, SIGTERM);
	}
}

unsigned
sv_kill_sessions(struct supervisor *sv)
{
	unsigned n = 0;

	for (unsigned i = 0; i < sv->nsessions; i++)
		if (sv->sessions[i].pid > 0 && !sv->sessions[i].reaped &&
		    kill(sv->sessions[i].pid, SIGKILL) == 0)
			n++;
	return n;
}
