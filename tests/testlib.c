/*
 * testlib: test runner, parleyd launcher and line-oriented test clients.
 * Runs in the test process; a collector thread drains parleyd's stderr so
 * the server never blocks on logging and tests can wait for log lines.
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int tl_failed_checks;
const char *tl_filter;
static int tl_passed, tl_failed;
static const char *tl_current = "";

void
tl_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: %s: check failed: ", file, line, tl_current);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	tl_failed_checks++;
}

int
tl_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return 1;
	fprintf(stderr, "  %s:%d: %s: check failed: ", file, line, tl_current);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	tl_failed_checks++;
	return 0;
}

void
tl_run(const char *name, void (*fn)(void))
{
	int before = tl_failed_checks;
	long long t0 = tl_now_ms();

	if (tl_filter && !strstr(name, tl_filter))
		return;
	tl_current = name;
	fn();
	if (tl_failed_checks == before) {
		tl_passed++;
		printf("ok   %s (%lld ms)\n", name, tl_now_ms() - t0);
	} else {
		tl_failed++;
		printf("FAIL %s\n", name);
	}
	fflush(stdout);
}

int
tl_init(int argc, char **argv, const char *name, char *model, size_t n,
	char *suite)
{
	const char *args = getenv("PARLEY_TEST_ARGS");
	int workers;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1)
		tl_filter = argv[1];
	snprintf(model, n, "%s", args ? args : "");
	workers = strstr(model, "--workers") != NULL;
	snprintf(suite, 64, "%s_%s", name, workers ? "workers" : "fork");
	return workers;
}

int
tl_summary(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, tl_passed, tl_failed);
	fflush(stdout);
	return tl_failed ? 1 : 0;
}

long long
tl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- server ------------------------------------------------------------- */

#define TS_MAX 16

#define TS_LOG_PIPE_BYTES (1 << 20)
/* How long ts_run waits for parleyd to finish. */
#define TS_RUN_MS 30000

struct ts_priv {
	struct ts_server pub;
	int err_fd;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *log;
	size_t log_len, log_cap;
	int eof;
	int stop; /* set by ts_free: the collector gives up within 100 ms */
	int hold; /* set by ts_log_hold: the collector stops reading */
};

static struct ts_priv *ts_all[TS_MAX];

static void
ts_kill_all(void)
{
	for (int i = 0; i < TS_MAX; i++) {
		if (ts_all[i] && ts_all[i]->pub.pid > 0) {
			kill(ts_all[i]->pub.pid, SIGKILL);
			waitpid(ts_all[i]->pub.pid, NULL, 0);
			ts_all[i]->pub.pid = 0;
		}
	}
}

static void
ts_on_signal(int sig)
{
	ts_kill_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
ts_install_cleanup(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	atexit(ts_kill_all);
	signal(SIGINT, ts_on_signal);
	signal(SIGTERM, ts_on_signal);
	signal(SIGALRM, ts_on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* A test binary must never hang CI: ten minutes is far beyond any. */
	alarm(600);
}

static void *
ts_collect(void *arg)
{
	struct ts_priv *p = arg;
	char buf[4096];
	ssize_t n;

	for (;;) {
		struct pollfd pfd = {.fd = p->err_fd, .events = POLLIN};
		if (__atomic_load_n(&p->hold, __ATOMIC_ACQUIRE))
			pfd.fd = -1; /* leave the pipe full */
		if (poll(&pfd, 1, pfd.fd < 0 ? 20 : 100) == 0) {
			if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		n = read(p->err_fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (getenv("PARLEY_TEST_VERBOSE"))
			fwrite(buf, 1, (size_t)n, stderr);
		pthread_mutex_lock(&p->mu);
		if (p->log_len + (size_t)n + 1 > p->log_cap) {
			p->log_cap = (p->log_len + (size_t)n + 1) * 2;
			p->log = realloc(p->log, p->log_cap);
		}
		memcpy(p->log + p->log_len, buf, (size_t)n);
		p->log_len += (size_t)n;
		p->log[p->log_len] = '\0';
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_lock(&p->mu);
	p->eof = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int
ts_count_locked(struct ts_priv *p, const char *substr)
{
	int n = 0;
	const char *s = p->log;

	if (!s)
		return 0;
	while ((s = strstr(s, substr)) != NULL) {
		n++;
		s += strlen(substr);
	}
	return n;
}

static int
ts_wait_count(struct ts_priv *p, const char *substr, int count, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	int ok = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (ts_count_locked(p, substr) >= count) {
			ok = 1;
			break;
		}
		long long left = deadline - tl_now_ms();
		if (left <= 0 || p->eof)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	return ok ? 0 : -1;
}

static int
ts_argv_split(char *s, char **argv, int max)
{
	int n = 0;

	for (char *tok = strtok(s, " "); tok && n < max;
	     tok = strtok(NULL, " "))
		argv[n++] = tok;
	return n;
}

/* Parses the ports from "listening on 127.0.0.1:PORT" / "[::1]:PORT"
 * (and "... (irc over tcp)" for IRC). */
static void
ts_parse_ports(struct ts_priv *p)
{
	const char *s = p->log;

	while (s && (s = strstr(s, "listening on ")) != NULL) {
		s += strlen("listening on ");
		const char *nl = strchr(s, '\n');
		const char *paren = strstr(s, " (");
		const char *end = nl ? nl : s + strlen(s);
		if (paren && paren < end)
			end = paren; /* "(http: ...)" is no part of it */
		const char *colon = memrchr(s, ':', (size_t)(end - s));
		if (!colon)
			break;
		int port = atoi(colon + 1);
		if (paren && (!nl || paren < nl)) {
			/* "(http: ...)" and "(https: ...)": the web
			 * listeners; "(irc over tcp)"; others by
			 * ts_listen_port. */
			if (strncmp(paren, " (http:", 7) == 0 &&
			    !p->pub.http_port && *s != '[')
				p->pub.http_port = port;
			if (strncmp(paren, " (https:", 8) == 0 &&
			    !p->pub.https_port && *s != '[')
				p->pub.https_port = port;
			if (strncmp(paren, " (irc over tcp)", 15) == 0 &&
			    !p->pub.irc_port && *s != '[')
				p->pub.irc_port = port;
		} else if (*s == '[') {
			if (!p->pub.port6)
				p->pub.port6 = port;
		} else if (!p->pub.port) {
			p->pub.port = port;
		}
	}
}

/* What ts_start and ts_run add after "--listen 127.0.0.1:0" unless the
 * test's args name the option: no test takes a default port (tests run
 * side by side) or the default database (parley.db in the working
 * directory, which every test would share). A new default listener is
 * one more row. */
static const char *const ts_default_off[] = {
    "--http-listen",	/* 5080 */
    "--listen-tls",	/* 5051, which a certificate brings */
    "--db",		/* parley.db */
    "--https-listen",	/* 5443, likewise */
    "--irc-listen",	/* 6667 */
    "--irc-listen-tls", /* 6697, likewise */
};

#define TS_DEFAULT_OFF (sizeof(ts_default_off) / sizeof(ts_default_off[0]))

/* Whether args (space separated) has the word opt, or opt=VALUE. */
static int
ts_args_name(const char *args, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = args; p && (p = strstr(p, opt)); p += n)
		if ((p == args || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '=' || p[n] == '\0'))
			return 1;
	return 0;
}

struct ts_server *
ts_start(const char *extra_args)
{
	const char *build = getenv("PARLEY_BUILD");
	char path[512], argbuf[2048];
	char *argv[80];
	int argc = 0, listeners = 1, pfd[2];
	struct ts_priv *p;

	ts_install_cleanup();
	snprintf(path, sizeof(path), "%s/parleyd", build ? build : "build");
	argv[argc++] = path;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	for (size_t i = 0; i < TS_DEFAULT_OFF; i++) {
		if (ts_args_name(extra_args, ts_default_off[i]))
			continue;
		argv[argc++] = (char *)ts_default_off[i];
		argv[argc++] = "none";
	}
	snprintf(argbuf, sizeof(argbuf), "%s", extra_args ? extra_args : "");
	argc += ts_argv_split(argbuf, argv + argc,
			      (int)(sizeof(argv) / sizeof(argv[0])) - argc - 1);
	for (int i = 3; i < argc - 1; i++) {
		if ((strcmp(argv[i], "--listen") == 0 ||
		     strcmp(argv[i], "--listen-tls") == 0 ||
		     strcmp(argv[i], "--http-listen") == 0 ||
		     strcmp(argv[i], "--https-listen") == 0 ||
		     strcmp(argv[i], "--irc-listen") == 0 ||
		     strcmp(argv[i], "--irc-listen-tls") == 0) &&
		    strcmp(argv[i + 1], "none") != 0)
			listeners++;
	}
	argv[argc] = NULL;

	p = calloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		abort();
	/* parleyd drops log lines rather than wait for a full stderr: make
	 * room for the bursts of the big tests (5,000 clients leaving at
	 * once) while the collector thread catches up. */
	(void)fcntl(pfd[0], F_SETPIPE_SZ, TS_LOG_PIPE_BYTES);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* If the test process dies, so does the server under test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(pfd[1], 2);
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		execv(path, argv);
		fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	p->pub.pid = pid;
	p->err_fd = pfd[0];
	for (int i = 0; i < TS_MAX; i++) {
		if (!ts_all[i]) {
			ts_all[i] = p;
			break;
		}
	}
	pthread_create(&p->thread, NULL, ts_collect, p);
	if (ts_wait_count(p, "listening on ", listeners, 10000) < 0) {
		CHECKF(0, "parleyd did not start (args: %s): %s", extra_args,
		       p->log ? p->log : "(no output)");
		ts_free(&p->pub);
		return NULL;
	}
	pthread_mutex_lock(&p->mu);
	ts_parse_ports(p);
	pthread_mutex_unlock(&p->mu);
	return &p->pub;
}

struct ts_server *
ts_start_model(const char *model, const char *extra_args)
{
	char all[2048];

	snprintf(all, sizeof(all), "%s %s", model, extra_args);
	return ts_start(all);
}

int
ts_wait_gone(pid_t pid, int timeout_ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	if (fd < 0)
		return errno == ESRCH ? 0 : -1;
	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	close(fd);
	return r == 1 ? 0 : -1;
}

int
ts_log_wait(struct ts_server *s, const char *substr, int timeout_ms)
{
	return ts_wait_count((struct ts_priv *)s, substr, 1, timeout_ms);
}

int
ts_log_wait_count(struct ts_server *s, const char *substr, int count,
		  int timeout_ms)
{
	return ts_wait_count((struct ts_priv *)s, substr, count, timeout_ms);
}

void
ts_log_hold(struct ts_server *s, int hold)
{
	struct ts_priv *p = (struct ts_priv *)s;

	/* Held, the pipe shrinks to one page so that it fills up soon; that
	 * fails while it holds more, so the collector drains it first. */
	long long deadline = tl_now_ms() + 5000;
	while (hold && fcntl(p->err_fd, F_SETPIPE_SZ, 4096) < 0 &&
	       errno == EBUSY && tl_now_ms() < deadline)
		(void)poll(NULL, 0, 10);
	if (!hold)
		(void)fcntl(p->err_fd, F_SETPIPE_SZ, TS_LOG_PIPE_BYTES);
	__atomic_store_n(&p->hold, hold, __ATOMIC_RELEASE);
}

int
ts_log_count(struct ts_server *s, const char *substr)
{
	struct ts_priv *p = (struct ts_priv *)s;
	int n;

	pthread_mutex_lock(&p->mu);
	n = ts_count_locked(p, substr);
	pthread_mutex_unlock(&p->mu);
	return n;
}

size_t
ts_log_copy(struct ts_server *s, char *out, size_t n)
{
	struct ts_priv *p = (struct ts_priv *)s;
	size_t len;

	pthread_mutex_lock(&p->mu);
	len = p->log_len;
	if (n > 0)
		snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1),
			 p->log ? p->log : "");
	pthread_mutex_unlock(&p->mu);
	return len;
}

int
ts_listen_port(struct ts_server *s, const char *what, int timeout_ms)
{
	struct ts_priv *p = (struct ts_priv *)s;
	char tail[128];
	int port = -1;

	snprintf(tail, sizeof(tail), " (%s)\n", what);
	if (ts_wait_count(p, tail, 1, timeout_ms) < 0)
		return -1;
	pthread_mutex_lock(&p->mu);
	const char *end = strstr(p->log, tail);
	const char *colon =
	    end ? memrchr(p->log, ':', (size_t)(end - p->log)) : NULL;
	if (colon)
		port = atoi(colon + 1);
	pthread_mutex_unlock(&p->mu);
	return port > 0 ? port : -1;
}

int
ts_stop(struct ts_server *s, int sig, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	int st;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, sig);
	for (;;) {
		pid_t r = waitpid(s->pid, &st, WNOHANG);
		if (r == s->pid) {
			s->pid = 0;
			return st;
		}
		if (tl_now_ms() >= deadline)
			break;
		/* Wait for the collector to see EOF on stderr or a short tick:
		 * the exit itself has no fd to poll on. */
		struct ts_priv *p = (struct ts_priv *)s;
		pthread_mutex_lock(&p->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		pthread_mutex_unlock(&p->mu);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
	return -1;
}

void
ts_free(struct ts_server *s)
{
	struct ts_priv *p = (struct ts_priv *)s;

	if (!s)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	/* The collector ends at EOF, which needs every session process gone
	 * too; a stop flag bounds the wait when a test left some behind. */
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	pthread_join(p->thread, NULL);
	close(p->err_fd);
	for (int i = 0; i < TS_MAX; i++)
		if (ts_all[i] == p)
			ts_all[i] = NULL;
	const char *kill_line =
	    p->log ? strstr(p->log, "killed by the sandbox") : NULL;
	CHECKF(!kill_line || s->sandbox_kill_expected,
	       "a session process was killed by the sandbox: %.*s",
	       (int)strcspn(kill_line ? kill_line : "", "\n"),
	       kill_line ? kill_line : "");
	free(p->log);
	free(p);
}

void
ts_check_no_sanitizer_reports_at(const char *file, int line,
				 struct ts_server *s, const char *also)
{
	const char *const reports[] = {"AddressSanitizer",
				       "runtime error:", also};

	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
		int n = reports[i] ? ts_log_count(s, reports[i]) : 0;
		tl_check(n == 0, file, line, "%d log lines with \"%s\"", n,
			 reports[i] ? reports[i] : "");
	}
}

int
ts_run_as(const char *args, uid_t uid, char *out, size_t n)
{
	const char *build = getenv("PARLEY_BUILD");
	char cmd[2048];
	size_t len = 0, used;
	int pfd[2], st = -1;
	pid_t pid;

	used = (size_t)snprintf(cmd, sizeof(cmd),
				"exec %s/parleyd --listen 127.0.0.1:0",
				build ? build : "build");
	for (size_t i = 0; i < TS_DEFAULT_OFF && used < sizeof(cmd); i++)
		if (!ts_args_name(args, ts_default_off[i]))
			used += (size_t)snprintf(cmd + used, sizeof(cmd) - used,
						 " %s none", ts_default_off[i]);
	if (used < sizeof(cmd))
		snprintf(cmd + used, sizeof(cmd) - used, " %s 2>&1 </dev/null",
			 args ? args : "");
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		if (uid != (uid_t)-1 && (setgid(uid) < 0 || setuid(uid) < 0))
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	long long deadline = tl_now_ms() + TS_RUN_MS;
	while (len + 1 < n) {
		struct pollfd pl = {.fd = pfd[0], .events = POLLIN};
		long long left = deadline - tl_now_ms();
		if (left <= 0 || poll(&pl, 1, (int)left) <= 0)
			break;
		ssize_t r = read(pfd[0], out + len, n - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (n)
		out[len] = '\0';
	close(pfd[0]);
	if (ts_wait_gone(pid, TS_RUN_MS) < 0)
		kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
ts_run(const char *args, char *out, size_t n)
{
	return ts_run_as(args, (uid_t)-1, out, n);
}

void
tl_base64(const char *in, size_t n, char *out)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		out[o++] = i + 1 < n ? al[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? al[v & 63] : '=';
	}
	out[o] = '\0';
}

int
ts_children(pid_t pid, pid_t *out, int max)
{
	char path[320], buf[512];
	int n = 0;
	DIR *d;
	struct dirent *de;

	/* /proc/PID/task/TID/children lists children per thread. */
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid,
			 de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		while (fscanf(f, "%511s", buf) == 1 && n < max)
			if (!ts_is_zygote(atoi(buf)))
				out[n++] = atoi(buf);
		fclose(f);
	}
	closedir(d);
	return n;
}

int
ts_is_zygote(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strcmp(comm, "parleyd-zygote\n") == 0;
}

pid_t
ts_zygote_of(pid_t pid)
{
	char path[64], buf[32];
	pid_t found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (found < 0 && fscanf(f, "%31s", buf) == 1)
		if (ts_is_zygote(atoi(buf)))
			found = atoi(buf);
	fclose(f);
	return found;
}

int
ts_fd_count(pid_t pid)
{
	char path[64];
	int n = 0;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

/* The inode of the server's end of the TCP connection whose client end is
 * fd, from /proc/net/tcp; 0 if not found. */
static unsigned long
ts_server_inode(int fd, int server_port)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char line[512];
	unsigned long inode = 0;
	FILE *f;

	if (getsockname(fd, (struct sockaddr *)&me, &len) < 0)
		return 0;
	f = fopen("/proc/net/tcp", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned lport, rport, st;
		unsigned long ino;
		if (sscanf(line,
			   " %*d: %*x:%x %*x:%x %x %*x:%*x %*x:%*x %*x %*d "
			   "%*d %lu",
			   &lport, &rport, &st, &ino) != 4)
			continue;
		if (lport == (unsigned)server_port &&
		    rport == ntohs(me.sin_port) && ino != 0) {
			inode = ino;
			break;
		}
	}
	fclose(f);
	return inode;
}

static int
ts_pid_has_inode(pid_t pid, unsigned long inode)
{
	char path[64], link[64], want[64];
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char p[512];
		ssize_t n;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		n = readlink(p, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* The child of the server that holds the client's connection, or -1. */
pid_t
ts_session_of(struct ts_server *s, int fd)
{
	pid_t kids[512];
	unsigned long inode = ts_server_inode(fd, s->port);
	int nk = ts_children(s->pid, kids, 512);

	if (!inode)
		return -1;
	for (int k = 0; k < nk; k++)
		if (ts_pid_has_inode(kids[k], inode))
			return kids[k];
	return -1;
}

/* ---- metrics ------------------------------------------------------------ */

static char ts_body[65536]; /* the last scrape */

int
ts_metrics_port(struct ts_server *s)
{
	static const char prefix[] = "metrics on http://127.0.0.1:";
	char line[512];
	const char *p;

	if (ts_log_wait(s, prefix, 10000) < 0 ||
	    ts_log_line(s, prefix, line, sizeof(line)) < 0 ||
	    !(p = strstr(line, prefix)))
		return -1;
	return atoi(p + strlen(prefix));
}

int
ts_http(int port, const char *request, long len, char *out, size_t n)
{
	int fd = tc_connect(port);
	size_t got = 0;
	long long deadline = tl_now_ms() + 15000;

	if (fd < 0)
		return -1;
	if (len < 0)
		len = (long)strlen(request);
	(void)send(fd, request, (size_t)len, MSG_NOSIGNAL);
	while (got + 1 < n && tl_now_ms() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(deadline - tl_now_ms())) != 1)
			break;
		ssize_t r = recv(fd, out + got, n - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	out[got] = '\0';
	close(fd);
	return (int)got;
}

int
ts_scrape(int port)
{
	return ts_http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", -1,
		       ts_body, sizeof(ts_body));
}

const char *
ts_scraped(void)
{
	return ts_body;
}

double
ts_sample(const char *name)
{
	size_t n = strlen(name);

	for (const char *p = ts_body; (p = strstr(p, name)) != NULL; p += n)
		if ((p == ts_body || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

double
ts_wait_sample(int port, const char *name, double want)
{
	long long deadline = tl_now_ms() + 10000;
	double v = -1;

	for (;;) {
		if (ts_scrape(port) > 0)
			v = ts_sample(name);
		if (v == want || tl_now_ms() >= deadline)
			return v;
		(void)poll(NULL, 0, 20); /* a scrape interval */
	}
}

double
ts_metric(struct ts_server *s, const char *name)
{
	int port = ts_metrics_port(s);

	return port > 0 && ts_scrape(port) > 0 ? ts_sample(name) : -1;
}

/* ---- clients ------------------------------------------------------------ */

#define TC_MAX_FD 65536
#define TC_BUF	  (64 * 1024)

struct tc_in {
	char *buf;
	size_t len;
	int eof;
};

static struct tc_in *tc_in[TC_MAX_FD];

static int
tc_connect_addr(struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int
tc_connect(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};

	ts_install_cleanup();
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return tc_connect_addr((struct sockaddr *)&sin, sizeof(sin));
}

int
tc_connect6(int port)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
				    .sin6_port = htons((uint16_t)port)};

	ts_install_cleanup();
	sin6.sin6_addr = in6addr_loopback;
	return tc_connect_addr((struct sockaddr *)&sin6, sizeof(sin6));
}

int
tc_send(int fd, const char *fmt, ...)
{
	char stackbuf[4096], *s = stackbuf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(stackbuf)) {
		s = malloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	size_t off = 0;
	while (off < (size_t)n) {
		ssize_t w = send(fd, s + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (s != stackbuf)
		free(s);
	return off == (size_t)n ? 0 : -1;
}

static struct tc_in *
tc_get(int fd)
{
	if (fd < 0 || fd >= TC_MAX_FD)
		abort();
	if (!tc_in[fd]) {
		tc_in[fd] = calloc(1, sizeof(struct tc_in));
		tc_in[fd]->buf = malloc(TC_BUF);
	}
	return tc_in[fd];
}

int
tc_readline(int fd, char *buf, size_t n, int timeout_ms)
{
	struct tc_in *in = tc_get(fd);
	long long deadline = tl_now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(in->buf, '\n', in->len);
		if (nl || in->len == TC_BUF) {
			size_t linelen = nl ? (size_t)(nl - in->buf) : in->len;
			size_t take = linelen < n - 1 ? linelen : n - 1;
			memcpy(buf, in->buf, take);
			buf[take] = '\0';
			size_t consumed = nl ? linelen + 1 : linelen;
			memmove(in->buf, in->buf + consumed,
				in->len - consumed);
			in->len -= consumed;
			return (int)take;
		}
		if (in->eof)
			return -2;
		long long left = deadline - tl_now_ms();
		if (left <= 0)
			return -1;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -1;
		ssize_t got = recv(fd, in->buf + in->len, TC_BUF - in->len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			in->eof = 1;
			continue;
		}
		in->len += (size_t)got;
	}
}

int
tc_expect(int fd, const char *substr, char *out, size_t n, int timeout_ms)
{
	char line[8192];
	long long deadline = tl_now_ms() + timeout_ms;

	for (;;) {
		long long left = deadline - tl_now_ms();
		int r = tc_readline(fd, line, sizeof(line),
				    left > 0 ? (int)left : 0);
		if (r < 0)
			return r;
		if (strstr(line, substr)) {
			if (out)
				snprintf(out, n, "%s", line);
			return r;
		}
	}
}

int
tc_wait_eof(int fd, int timeout_ms)
{
	char line[8192];
	long long deadline = tl_now_ms() + timeout_ms;

	for (;;) {
		long long left = deadline - tl_now_ms();
		int r = tc_readline(fd, line, sizeof(line),
				    left > 0 ? (int)left : 0);
		if (r == -2)
			return 0;
		if (r == -1)
			return -1;
	}
}

int
tc_join(int port, char *nick, size_t n)
{
	char line[1024], name[128];
	int fd = tc_connect(port);

	if (fd < 0)
		return -1;
	if (tc_expect(fd, "-!- welcome to parley, ", line, sizeof(line),
		      10000) < 0) {
		tc_close(fd);
		return -1;
	}
	const char *s = line + strlen("-!- welcome to parley, ");
	size_t len = strcspn(s, "!");
	snprintf(name, sizeof(name), "%.*s", (int)len, s);
	if (nick)
		snprintf(nick, n, "%s", name);
	/* The client is in the default room once it sees its own join. */
	char want[256];
	snprintf(want, sizeof(want), "-!- %s joined ", name);
	if (tc_expect(fd, want, NULL, 0, 10000) < 0) {
		tc_close(fd);
		return -1;
	}
	return fd;
}

void
tc_close(int fd)
{
	if (fd < 0)
		return;
	if (fd < TC_MAX_FD && tc_in[fd]) {
		free(tc_in[fd]->buf);
		free(tc_in[fd]);
		tc_in[fd] = NULL;
	}
	close(fd);
}

void
tc_close_all(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		tc_close(fds[i]);
}

int
ts_log_line(struct ts_server *s, const char *substr, char *out, size_t n)
{
	struct ts_priv *p = (struct ts_priv *)s;
	const char *at, *start, *end;
	int found = -1;

	pthread_mutex_lock(&p->mu);
	if (p->log && (at = strstr(p->log, substr)) != NULL) {
		for (start = at; start > p->log && start[-1] != '\n'; start--)
			;
		end = strchr(at, '\n');
		if (!end)
			end = at + strlen(at);
		snprintf(out, n, "%.*s", (int)(end - start), start);
		found = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return found;
}
