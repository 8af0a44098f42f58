/*
 * supervisor_zygote: where fork-model sessions are forked from. The zygote
 * is a child of the supervisor, forked once the supervisor is set up (and
 * again after every reload), that never writes its memory after that: it
 * takes a hand-over (slot, timeline position, client, and the client's and
 * channel's fds), clones the session with CLONE_PARENT, so the session is
 * the supervisor's child as if the supervisor had forked it, and answers
 * with its pid. A session forked from the supervisor owns a copy of every
 * page the supervisor rewrote since (its stack, malloc's arena, globals):
 * forked from the zygote it owns only what it writes itself (issue 17).
 * Both halves live here; whenever the zygote cannot serve, the supervisor
 * forks the session itself, as it did before there was one.
 */
#include "lib/log.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SV_ZYGOTE_NAME "parleyd-zygote"

/* Supervisor -> zygote, with the channel's fd and, for a client, the
 * client's fd (SCM_RIGHTS, in that order). */
struct sv_zygote_req {
	uint32_t index;
	uint32_t has_client;
	uint64_t tl_pos;
	int32_t store_producer;
	uint32_t reserved;
	struct channel_client_new m;
};

/* Zygote -> supervisor: the session's pid, or 0 and the clone's errno. */
struct sv_zygote_rep {
	int32_t pid;
	int32_t err;
};

/* The process name sessions go back to (the zygote's is its own). */
static char sv_comm[16];

/* ---- the zygote ---------------------------------------------------------- */

/* One hand-over: its fds in fds[0..*nfds). Returns the bytes, 0 at EOF. */
static ssize_t
sv_zygote_recv(int fd, struct sv_zygote_req *req, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(*req)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
	     c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k && *nfds < 2; i++)
			memcpy(&fds[(*nfds)++],
			       CMSG_DATA(c) + (size_t)i * sizeof(int),
			       sizeof(int));
	}
	return n;
}

static void __attribute__((noreturn))
sv_zygote_main(struct supervisor *sv, int fd)
{
	int keep[5 + SV_WAKE_GROUPS] = {0, 1, 2, fd, sv->flow_fd};
	int nkeep = 5;

	/* Killed with the supervisor: its signals stay blocked here, as they
	 * must be for the sessions' signalfds, so SIGTERM would not do. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != sv->pid)
		_exit(1);
	for (unsigned g = 0; g < sv->nwake; g++)
		keep[nkeep++] = sv->wake_fds[g];
	sv_child_close_fds(keep, nkeep);
	(void)prctl(PR_SET_NAME, SV_ZYGOTE_NAME);
	/* Ready: the supervisor waits for this before it counts on us. */
	struct sv_zygote_rep hello = {(int32_t)getpid(), 0};
	if (write(fd, &hello, sizeof(hello)) != (ssize_t)sizeof(hello))
		_exit(1);
	for (;;) {
		struct sv_zygote_req req;
		struct sv_zygote_rep rep = {0, 0};
		int fds[2], nfds;
		ssize_t n = sv_zygote_recv(fd, &req, fds, &nfds);

		if (n <= 0)
			_exit(0); /* the supervisor is gone, or retired us */
		if ((size_t)n != sizeof(req) ||
		    nfds != (req.has_client ? 2 : 1)) {
			rep.err = EPROTO;
		} else {
			/* A fork whose child is the supervisor's. Raw: glibc
			 * has no wrapper for clone without a new stack. */
			long pid = syscall(
			    SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD),
			    NULL, NULL, NULL, 0UL);
			if (pid == 0) {
				(void)prctl(PR_SET_NAME, sv_comm);
				req.m.nick[sizeof(req.m.nick) - 1] = '\0';
				sv_child(sv, req.index, fds[0],
					 req.has_client ? fds[1] : -1,
					 req.has_client ? &req.m : NULL,
					 req.tl_pos, req.store_producer);
			}
			rep.pid = pid > 0 ? (int32_t)pid : 0;
			rep.err = pid > 0 ? 0 : errno;
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		if (write(fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
			_exit(1);
	}
}

/* ---- the supervisor's half ---------------------------------------------- */

int
sv_zygote_start(struct supervisor *sv)
{
	int fds[2];
	pid_t pid;

	if (sv->cfg->workers > 0 || sv->zygote_pid > 0)
		return 0;
	if (!sv_comm[0] && prctl(PR_GET_NAME, sv_comm) < 0)
		snprintf(sv_comm, sizeof(sv_comm), "parleyd");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		close(fds[0]);
		sv_zygote_main(sv, fds[1]);
	}
	close(fds[1]);
	sv->zygote_pid = pid;
	sv->zygote_fd = fds[0];
	struct sv_zygote_rep hello = {0, 0};
	ssize_t n;
	do
		n = read(fds[0], &hello, sizeof(hello));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(hello) || hello.pid != pid) {
		sv_zygote_stop(sv);
		return n < 0 ? -errno : -EPROTO;
	}
	log_info("session zygote %d started (%s): sessions are forked from it",
		 (int)pid, SV_ZYGOTE_NAME);
	return 0;
}

void
sv_zygote_stop(struct supervisor *sv)
{
	pid_t pid = sv->zygote_pid;

	if (pid <= 0)
		return;
	close(sv->zygote_fd);
	sv->zygote_fd = -1;
	sv->zygote_pid = 0;
	/* Reaped here, so that sv_reap never meets it: it owns nothing, and
	 * dies at once. */
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void
sv_zygote_restart(struct supervisor *sv)
{
	int err;

	if (sv->cfg->workers > 0)
		return;
	sv_zygote_stop(sv);
	if ((err = sv_zygote_start(sv)) < 0)
		log_warn("cannot fork the session zygote: %s; the supervisor "
			 "forks sessions itself",
			 strerror(-err));
}

int
sv_zygote_reaped(struct supervisor *sv, pid_t pid, int status)
{
	if (pid != sv->zygote_pid || pid <= 0)
		return 0;
	if (!sv->stopping)
		log_warn("session zygote %d ended (%s %d); forking another",
			 (int)pid, WIFSIGNALED(status) ? "signal" : "code",
			 WIFSIGNALED(status) ? WTERMSIG(status)
					     : WEXITSTATUS(status));
	close(sv->zygote_fd);
	sv->zygote_fd = -1;
	sv->zygote_pid = 0;
	sv->zygote_due_ms = loop_now_ms(); /* sv_spawn starts the next */
	return 1;
}

/* Sends the hand-over with its fds; 0 or -errno. */
static int
sv_zygote_send(int fd, const struct sv_zygote_req *req, int chan_fd,
	       int client_fd)
{
	int fds[2] = {chan_fd, client_fd};
	int nfds = client_fd >= 0 ? 2 : 1;
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)req, .iov_len = sizeof(*req)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen =
				 CMSG_SPACE((size_t)nfds * sizeof(int))};
	struct cmsghdr *c;
	ssize_t n;

	memset(u.buf, 0, sizeof(u.buf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*req) ? 0 : -EPROTO;
}

pid_t
sv_zygote_spawn(struct supervisor *sv, unsigned index, int chan_fd,
		int client_fd, const struct channel_client_new *m,
		uint64_t tl_pos, int store_producer)
{
	struct sv_zygote_req req;
	struct sv_zygote_rep rep = {0, 0};
	ssize_t n;
	int err;

	if (sv->cfg->workers > 0 || sv->stopping)
		return 0;
	/* One that ended is replaced at the next session, at most once a
	 * second: a zygote that cannot live costs a fork per second, and
	 * sessions are forked the old way meanwhile. */
	if (sv->zygote_pid <= 0) {
		long long now = loop_now_ms();
		if (now < sv->zygote_due_ms)
			return 0;
		sv->zygote_due_ms = now + 1000;
		if ((err = sv_zygote_start(sv)) < 0) {
			log_warn("cannot fork the session zygote: %s",
				 strerror(-err));
			return 0;
		}
	}
	memset(&req, 0, sizeof(req));
	req.index = index;
	req.has_client = m != NULL;
	req.tl_pos = tl_pos;
	req.store_producer = store_producer;
	if (m)
		req.m = *m;
	err = sv_zygote_send(sv->zygote_fd, &req, chan_fd, client_fd);
	if (err == 0) {
		do
			n = read(sv->zygote_fd, &rep, sizeof(rep));
		while (n < 0 && errno == EINTR);
		err = n == (ssize_t)sizeof(rep) ? 0 : n < 0 ? -errno : -EPROTO;
	}
	if (err < 0) {
		log_warn("session zygote %d: %s; forking sessions here until "
			 "it is replaced",
			 (int)sv->zygote_pid, strerror(-err));
		sv_zygote_stop(sv);
		sv->zygote_due_ms = loop_now_ms() + 1000;
		return 0;
	}
	if (rep.pid <= 0)
		return rep.err > 0 ? -rep.err : -EAGAIN;
	return (pid_t)rep.pid;
}
