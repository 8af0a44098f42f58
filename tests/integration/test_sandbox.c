/*
 * test_sandbox: the session processes' seccomp filter and the drop from
 * root, on the real parleyd in both process models, plus the filter itself
 * (sandbox_enter, the function sessions call) in forked children of this
 * test that try one forbidden thing each.
 */
#include "../testlib.h"
#include "../tlslib.h"

#include "server/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T_WAIT_MS 10000

static char model_args[256];

/* The value of "Key:" in /proc/PID/status into out, or "" if none. */
static void
proc_status(pid_t pid, const char *key, char *out, size_t n)
{
	char path[64], line[512];
	size_t kl = strlen(key);
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			v += strspn(v, " \t");
			snprintf(out, n, "%.*s", (int)strcspn(v, "\n"), v);
			break;
		}
	fclose(f);
}

/* ---- the real server ----------------------------------------------------- */

static void
test_session_processes_run_with_a_seccomp_filter(void)
{
	struct ts_server *s = ts_start_model(model_args, "");
	pid_t kids[16];
	char v[64];
	int a = -1, b = -1, n;

	REQUIRE(s);
	/* Two clients with their welcome: in either model both session
	 * processes are set up (a worker takes clients only after). */
	a = tc_join(s->port, NULL, 0);
	b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	n = ts_children(s->pid, kids, 16);
	CHECKF(n == 2, "%d session processes", n);
	for (int i = 0; i < n; i++) {
		proc_status(kids[i], "Seccomp", v, sizeof(v));
		CHECKF(strcmp(v, "2") == 0, "session %d: Seccomp: %s",
		       (int)kids[i], v);
		proc_status(kids[i], "NoNewPrivs", v, sizeof(v));
		CHECKF(strcmp(v, "1") == 0, "session %d: NoNewPrivs: %s",
		       (int)kids[i], v);
	}
	/* The supervisor forks and accepts: it is not filtered. */
	proc_status(s->pid, "Seccomp", v, sizeof(v));
	CHECKF(strcmp(v, "0") == 0, "supervisor: Seccomp: %s", v);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_a_session_killed_by_sigsys_is_logged_as_killed_by_the_sandbox(void)
{
	struct ts_server *s = ts_start_model(model_args, "");
	char na[64], nb[64], want[256];
	pid_t kids[16];
	int a = -1, b = -1, c = -1;

	REQUIRE(s);
	a = tc_join(s->port, na, sizeof(na));
	b = tc_join(s->port, nb, sizeof(nb));
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(ts_children(s->pid, kids, 16) == 2);
	s->sandbox_kill_expected = 1;
	/* What a forbidden call does to a session (the filter's own test
	 * below checks that it does): SIGSYS. Which one of the two gets it
	 * does not matter: b watches a, or a watches b. */
	kill(kids[0], SIGSYS);
	CHECK(ts_log_wait(s, "killed by the sandbox (SIGSYS", T_WAIT_MS) == 0);
	CHECK(ts_log_count(s, "killed by signal") == 0);
	/* The server goes on: a new client joins and is heard. */
	c = tc_join(s->port, NULL, 0);
	CHECK(c >= 0);
	tc_send(c, "after the crash\n");
	snprintf(want, sizeof(want), "> after the crash");
	CHECK(tc_expect(a, want, NULL, 0, T_WAIT_MS) > 0 ||
	      tc_expect(b, want, NULL, 0, T_WAIT_MS) > 0);
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
}

static void
test_started_as_root_with_user_it_serves_as_that_user(void)
{
	char v[128], dir[256], pem[512], key[512], args[2048], nick[64];
	struct ts_server *s = NULL;
	pid_t kids[16];
	int a = -1, port;

	if (geteuid() != 0) {
		printf("  (not root: nothing to drop)\n");
		return;
	}
	REQUIRE(tt_dir_make(dir, sizeof(dir)) == 0);
	if (!CHECK(tt_cert_make(dir, "c", "localhost", "DNS:localhost", NULL,
				0) == 0))
		goto out;
	tt_path(dir, "c.pem", pem, sizeof(pem));
	tt_path(dir, "c.key", key, sizeof(key));
	snprintf(args, sizeof(args),
		 "--user nobody --listen-tls 127.0.0.1:0 --tls-cert %s "
		 "--tls-key %s",
		 pem, key);
	s = ts_start_model(model_args, args);
	if (!CHECK(s))
		goto out;
	CHECK(ts_log_wait(s, "running as user nobody", T_WAIT_MS) == 0);
	CHECK(ts_log_count(s, "running as root") == 0);
	a = tc_join(s->port, nick, sizeof(nick));
	CHECK(a >= 0);
	proc_status(s->pid, "Uid", v, sizeof(v));
	CHECKF(strcmp(v, "65534\t65534\t65534\t65534") == 0, "Uid: %s", v);
	proc_status(s->pid, "Gid", v, sizeof(v));
	CHECKF(strcmp(v, "65534\t65534\t65534\t65534") == 0, "Gid: %s", v);
	proc_status(s->pid, "CapEff", v, sizeof(v));
	CHECKF(strcmp(v, "0000000000000000") == 0, "CapEff: %s", v);
	int n = ts_children(s->pid, kids, 16);
	CHECK(n >= 1);
	for (int i = 0; i < n; i++) {
		proc_status(kids[i], "Uid", v, sizeof(v));
		CHECKF(strcmp(v, "65534\t65534\t65534\t65534") == 0,
		       "session Uid: %s", v);
	}
	/* Still serving, TLS included, and the certificate reloads as
	 * that user. */
	port = ts_listen_port(s, "plain over tls", T_WAIT_MS);
	struct tt_opts o = {.ca_file = pem, .host = "localhost"};
	char why[256];
	struct tt_conn *t = tt_connect(port, &o, why, sizeof(why), T_WAIT_MS);
	CHECKF(t, "TLS: %s", why);
	kill(s->pid, SIGHUP);
	CHECK(ts_log_wait(s, "TLS certificate reloaded", T_WAIT_MS) == 0);
	tt_close(t);
out:
	if (a >= 0)
		tc_close(a);
	ts_free(s);
	tt_dir_remove(dir);
}

static void
test_started_as_root_without_user_it_says_so_once(void)
{
	struct ts_server *s = ts_start_model(model_args, "");
	int fds[4];

	REQUIRE(s);
	for (int i = 0; i < 4; i++)
		fds[i] = tc_join(s->port, NULL, 0);
	for (int i = 0; i < 4; i++) {
		CHECK(fds[i] >= 0);
		tc_close(fds[i]);
	}
	CHECK(ts_log_count(s, "running as root: pass --user NAME") ==
	      (geteuid() == 0 ? 1 : 0));
	ts_free(s);
}

static void
test_an_unknown_user_stops_the_start(void)
{
	char err[4096];

	/* No default ports (ts_run): it binds before it looks the user up. */
	CHECK(ts_run("--user no-such-user-here", err, sizeof(err)) == 1);
	CHECKF(strstr(err, "--user: no user no-such-user-here"), "stderr: %s",
	       err);
	CHECK(strstr(err, "listening on") == NULL);
}

/* ---- the filter itself --------------------------------------------------- */

/* Each probe runs in a child after sandbox_enter, with a connected
 * socketpair in fds: it returns 0 if its call went through, 3 if it
 * failed with EACCES, 4 on any other failure. */
typedef int probe_fn(const int *fds);

static int
probe_result(long r)
{
	if (r >= 0)
		return 0;
	return errno == EACCES ? 3 : 4;
}

static int
probe_socket(const int *fds)
{
	(void)fds;
	return probe_result(socket(AF_INET, SOCK_STREAM, 0));
}

static int
probe_connect(const int *fds)
{
	(void)fds;
	return probe_result(connect(-1, NULL, 0));
}

static int
probe_execve(const int *fds)
{
	(void)fds;
	return probe_result(execl("/bin/true", "true", (char *)NULL));
}

static int
probe_fork(const int *fds)
{
	(void)fds;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	return probe_result(pid);
}

static int
probe_clone3(const int *fds)
{
	(void)fds;
	return probe_result(syscall(SYS_clone3, NULL, 0));
}

static int
probe_ptrace(const int *fds)
{
	(void)fds;
	return probe_result(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static int
probe_kill_parent(const int *fds)
{
	(void)fds;
	return probe_result(kill(getppid(), 0));
}

static int
probe_tgkill_parent(const int *fds)
{
	(void)fds;
	return probe_result(syscall(SYS_tgkill, getppid(), getppid(), 0));
}

static int
probe_setuid(const int *fds)
{
	(void)fds;
	return probe_result(syscall(SYS_setuid, 0));
}

static int
probe_mprotect_exec(const int *fds)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)fds;
	if (p == MAP_FAILED)
		return 4;
	return probe_result(mprotect(p, 4096, PROT_READ | PROT_EXEC));
}

static int
probe_mmap_exec(const int *fds)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)fds;
	return p == MAP_FAILED ? probe_result(-1) : 0;
}

static int
probe_ioctl_tiocsti(const int *fds)
{
	char c = 'x';
	return probe_result(ioctl(fds[0], TIOCSTI, &c));
}

static int
probe_open(const int *fds)
{
	(void)fds;
	return probe_result(open("/etc/hostname", O_RDONLY));
}

static int
probe_openat(const int *fds)
{
	(void)fds;
	return probe_result(openat(AT_FDCWD, "/etc/hostname", O_RDONLY));
}

static int
probe_abort(const int *fds)
{
	(void)fds;
	abort();
}

/* What a session does all day: memory, time, randomness, a socket with a
 * passed fd, its flags and its unsent bytes. */
static int
probe_serving(const int *fds)
{
	char buf[CMSG_SPACE(sizeof(int))], byte = 'x';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = buf,
			   .msg_controllen = sizeof(buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	struct timespec ts;
	unsigned char rnd[16];
	int unsent = 0, passed = fds[1];
	void *big = malloc(1 << 20);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passed, sizeof(int));
	if (!big || syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) < 0 ||
	    syscall(SYS_getrandom, rnd, sizeof(rnd), 0) < 0 ||
	    sendmsg(fds[0], &m, 0) != 1 ||
	    recvmsg(fds[1], &m, MSG_CMSG_CLOEXEC) != 1 ||
	    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK) < 0 ||
	    ioctl(fds[0], SIOCOUTQ, &unsent) < 0 || getpid() <= 0)
		return 4;
	free(big);
	return 0;
}

struct probe_row {
	const char *name;
	probe_fn *fn;
	int sig;  /* the signal it must die of, or 0 */
	int code; /* else its exit code */
};

static const struct probe_row probe_rows[] = {
    {"socket", probe_socket, SIGSYS, 0},
    {"connect", probe_connect, SIGSYS, 0},
    {"execve", probe_execve, SIGSYS, 0},
    {"fork", probe_fork, SIGSYS, 0},
    {"clone3", probe_clone3, SIGSYS, 0},
    {"ptrace", probe_ptrace, SIGSYS, 0},
    {"kill another process", probe_kill_parent, SIGSYS, 0},
    {"tgkill another process", probe_tgkill_parent, SIGSYS, 0},
    {"setuid", probe_setuid, SIGSYS, 0},
    {"mprotect to executable", probe_mprotect_exec, SIGSYS, 0},
    {"mmap executable", probe_mmap_exec, SIGSYS, 0},
    {"ioctl TIOCSTI", probe_ioctl_tiocsti, SIGSYS, 0},
    {"open: EACCES", probe_open, 0, 3},
    {"openat: EACCES", probe_openat, 0, 3},
    {"abort after a failed assert", probe_abort, SIGABRT, 0},
    {"what serving clients needs", probe_serving, 0, 0},
};

static void
test_a_forbidden_system_call_in_a_sandboxed_child_dies_with_sigsys(void)
{
	for (size_t i = 0; i < sizeof(probe_rows) / sizeof(probe_rows[0]);
	     i++) {
		const struct probe_row *r = &probe_rows[i];
		int fds[2], st;
		pid_t pid;

		REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			signal(SIGABRT, SIG_DFL);
			if (sandbox_enter() < 0)
				_exit(99);
			_exit(r->fn(fds));
		}
		close(fds[0]);
		close(fds[1]);
		if (!CHECKF(ts_wait_gone(pid, T_WAIT_MS) == 0, "%s: hangs",
			    r->name)) {
			kill(pid, SIGKILL);
		}
		waitpid(pid, &st, 0);
		if (r->sig)
			CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == r->sig,
			       "%s: want signal %d, got %s %d", r->name, r->sig,
			       WIFSIGNALED(st) ? "signal" : "exit",
			       WIFSIGNALED(st) ? WTERMSIG(st)
					       : WEXITSTATUS(st));
		else
			CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == r->code,
			       "%s: want exit %d, got %s %d", r->name, r->code,
			       WIFSIGNALED(st) ? "signal" : "exit",
			       WIFSIGNALED(st) ? WTERMSIG(st)
					       : WEXITSTATUS(st));
	}
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "sandbox", model_args, sizeof(model_args), suite);
	RUN(test_session_processes_run_with_a_seccomp_filter);
	RUN(test_a_session_killed_by_sigsys_is_logged_as_killed_by_the_sandbox);
	RUN(test_started_as_root_with_user_it_serves_as_that_user);
	RUN(test_started_as_root_without_user_it_says_so_once);
	RUN(test_an_unknown_user_stops_the_start);
	RUN(test_a_forbidden_system_call_in_a_sandboxed_child_dies_with_sigsys);
	return tl_summary(suite);
}
