/*
 * supervisor: the parent process. Sets up the shared memory, the registry
 * and the signals, runs the loop, and shuts down in order (stop accepting,
 * tell everyone, let sessions flush, SIGKILL after the deadline, reap).
 * Every change it makes is a record in its own outbox followed by a
 * timeline mark, so every session applies it at the same point of the one
 * global order.
 */
#include "server/supervisor.h"

#include "lib/ptable.h"
#include "lib/log.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define SV_KILL_WAIT_MS 2000

void
sv_commit(struct supervisor *sv)
{
	uint64_t tl;

	if (sv->w.head == sv->marked[0])
		return;
	(void)outbox_publish(&sv->w);
	tl = outbox_timeline_head(&sv->shm);
	outbox_timeline_append(&sv->shm, 0, sv->marked[0], sv->w.head);
	sv->marked[0] = sv->w.head;
	sv->tl_dirty = 1;
	sv_flow_marked(sv, 0, tl, sv->w.head);
}

void
sv_put(struct supervisor *sv, const struct outbox_new *rec)
{
	outbox_put(&sv->w, rec);
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
	sv_close_listeners(sv);
	sv_zygote_stop(sv); /* no new sessions */
	sv_ops_stopping(sv);
	sv_put(sv, &(struct outbox_new){.kind = OUTBOX_SHUTDOWN});
	sv_commit(sv);
	sv_shutdown_sessions(sv);
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
			sv_reload(sv);
			sv_tls_reload(sv);
			/* New sessions come from the reloaded config. */
			sv_zygote_restart(sv);
			break;
		}
	}
}

static void
sv_escalate(struct supervisor *sv)
{
	/* Sessions only: the store has a deadline of its own. */
	if (!sv->stopping || sv->live == 0 || loop_now_ms() < sv->deadline_ms)
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
	sv->nkilled += sv_kill_sessions(sv);
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
	if (sv->ops_due_ms && (next < 0 || sv->ops_due_ms < next))
		next = sv->ops_due_ms;
	long long store_due = sv_store_due(sv);
	if (store_due && (next < 0 || store_due < next))
		next = store_due;
	if (sv->flow_due_ms && (next < 0 || sv->flow_due_ms < next))
		next = sv->flow_due_ms;
	if (sv->ring_due_ms && (next < 0 || sv->ring_due_ms < next))
		next = sv->ring_due_ms;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* ---- start-up ------------------------------------------------------------ */

static void
sv_setup(struct supervisor *sv, struct config *cfg,
	 const struct config_source *src, struct config_text *text)
{
	unsigned nprod;
	sigset_t mask;
	int err;

	memset(sv, 0, sizeof(*sv));
	sv->cfg = cfg;
	sv->cfg_rw = cfg;
	sv->src = src;
	sv->boot_text = text;
	sv->pid = getpid();
	sv->zygote_fd = -1;
	/* Fork model: a slot per client plus slack for processes that are
	 * exiting but not yet reaped. */
	sv->nsessions = cfg->workers > 0 ? (unsigned)cfg->workers
					 : (unsigned)cfg->client_slots + 64;
	/* Producer 0 is the supervisor, s + 1 session s; the store, if
	 * any, is the last. */
	nprod = sv->nsessions + 1 + (config_has_store(cfg) ? 1 : 0);
	size_t ring0 = sv_ring0_size(cfg);
	/* A reader slot per session, and one for the store. */
	err =
	    outbox_shm_create_readers(&sv->shm, nprod, sv->nsessions + 1, ring0,
				      cfg->outbox_bytes, cfg->timeline_entries);
	if (err < 0) {
		errno = -err;
		fatal("shared memory (%u rings of %zu bytes)", nprod,
		      cfg->outbox_bytes);
	}
	outbox_writer_init(&sv->w, &sv->shm, 0);
	/* Tables written all the time that no child reads: kept out of every
	 * fork (lib/ptable.h). */
	sv->marked = ptable_alloc(nprod, sizeof(*sv->marked));
	sv->retired_at = ptable_alloc(nprod, sizeof(*sv->retired_at));
	sv->sessions = ptable_alloc(sv->nsessions, sizeof(*sv->sessions));
	sv->recbuf =
	    aligned_alloc(OUTBOX_REC_ALIGN, (OUTBOX_REC_MAX + 7) & ~(size_t)7);
	if (!sv->marked || !sv->retired_at || !sv->sessions || !sv->recbuf)
		fatal("supervisor memory");
	for (unsigned i = 0; i < sv->nsessions; i++) {
		sv->sessions[i].index = i;
		sv->sessions[i].sv = sv;
		sv->sessions[i].chan.fd = -1;
	}
	registry_init(&sv->reg, cfg);
	sv_ops_setup(sv);
	sv_store_setup(sv);
	/* Cloaks hide addresses only while nobody knows the key. */
	if (getrandom(sv->cloak_key, sizeof(sv->cloak_key), 0) !=
	    (ssize_t)sizeof(sv->cloak_key))
		fatal("getrandom");
	sv->loop = loop_new();
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sv->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sv->sig_fd < 0)
		fatal("signalfd");
	sv_wake_setup(sv);
	sv_flow_setup(sv);
	if (loop_add(sv->loop, sv->sig_fd, EPOLLIN, sv_on_signal, sv) < 0)
		fatal("loop_add signalfd");
}

static void
sv_teardown(struct supervisor *sv)
{
	for (unsigned i = 0; i < sv->nsessions; i++)
		if (sv->sessions[i].chan_open)
			channel_close(&sv->sessions[i].chan);
	for (int i = 0; i < sv->nlisten; i++)
		close(sv->listeners[i].fd);
	sv_zygote_stop(sv);
	close(sv->sig_fd);
	for (unsigned g = 0; g < sv->nwake; g++)
		close(sv->wake_fds[g]);
	sv_flow_teardown(sv);
	loop_free(sv->loop);
	sv_store_teardown(sv);
	registry_free(&sv->reg);
	idmap_free(&sv->by_pid);
	ptable_free(sv->sessions, sv->nsessions, sizeof(*sv->sessions));
	ptable_free(sv->marked, sv->shm.nprod, sizeof(*sv->marked));
	ptable_free(sv->retired_at, sv->shm.nprod, sizeof(*sv->retired_at));
	free(sv->recbuf);
	free(sv->motd);
	sv_mod_free(sv);
	outbox_shm_destroy(&sv->shm);
	sv_ops_teardown(sv);
}

int
supervisor_run(struct config *cfg, const struct config_source *src,
	       struct config_text *text)
{
	struct supervisor sv;

	sv_setup(&sv, cfg, src, text);
	/* The store once root is dropped (--user), so that it opens, creates
	 * and, after a respawn, reopens its database and journal as the
	 * same user; and before any session: it reads the timeline from its
	 * very start, and a database it cannot open is one line and exit 1. */
	if (sv_tls_start(&sv) < 0 || sv_motd_load(&sv) < 0 ||
	    sv_listen(&sv) < 0 || sv_ops_listen(&sv) < 0 ||
	    sv_privileges(&sv) < 0 || sv_store_start(&sv) < 0)
		return 1;
	/* Last, so that it holds everything a session needs and no more. */
	sv_zygote_restart(&sv);
	for (int i = 0; i < cfg->workers; i++)
		if (sv_spawn(&sv, &sv.sessions[i], -1, NULL, 0, 0) < 0)
			fatal("fork worker");
	if (cfg->workers > 0)
		log_info("%d %s started", cfg->workers,
			 SV_PLURAL(cfg->workers, "worker"));
	sv_announce(&sv);
	sv_ops_ready(&sv);
	while (!(sv.stopping && sv.live == 0 && !sv_store_running(&sv))) {
		if (loop_run_once(sv.loop, sv_timeout(&sv)) < 0)
			fatal("epoll_wait");
		sv_wake(&sv);
		sv_flow_tick(&sv);
		sv_ring_tick(&sv);
		sv_accept_resume(&sv);
		sv_respawn(&sv);
		sv_escalate(&sv);
		sv_store_tick(&sv);
		sv_ops_tick(&sv);
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
