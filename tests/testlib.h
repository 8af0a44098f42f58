/*
 * testlib: the harness every test binary uses. It starts the real parleyd,
 * reads its port from the readiness line, drives real sockets, and waits
 * for lines with deadlines (never sleeps). Started servers are killed at
 * exit, even when a test fails.
 */
#ifndef PARLEY_TESTLIB_H
#define PARLEY_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- the test runner ---------------------------------------------------- */

extern int tl_failed_checks;

/* When set, RUN skips tests whose names do not contain it. */
extern const char *tl_filter;

/* CHECK records a failure (with file:line and the condition) and goes on;
 * REQUIRE also returns from the test function. */
#define CHECK(cond)	  tl_check(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) tl_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!CHECK(cond))                                              \
			return;                                                \
	} while (0)

void tl_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns ok; records a failure with the message when ok is 0. */
int tl_check(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Common start of a test binary: ignores SIGPIPE, takes argv[1] as the
 * name filter, copies the process model (PARLEY_TEST_ARGS, "" for one
 * process per client) into model (n bytes) and the suite name, NAME_fork
 * or NAME_workers, into suite (64 bytes). Returns 1 for the worker model. */
int tl_init(int argc, char **argv, const char *name, char *model, size_t n,
	    char *suite);

/* Runs one test function, prints "ok NAME" or "FAIL NAME"; counts. */
#define RUN(fn) tl_run(#fn, fn)
void tl_run(const char *name, void (*fn)(void));

/* Prints "SUITE: N passed, N failed" and returns the exit code. */
int tl_summary(const char *suite);

/* Milliseconds on the monotonic clock. */
long long tl_now_ms(void);

/* RFC 4648 base64 of in[0..n) into out (4 * ((n + 2) / 3) + 1 bytes,
 * NUL-terminated). */
void tl_base64(const char *in, size_t n, char *out);

/* ---- the server under test ---------------------------------------------- */

struct ts_server {
	pid_t pid;
	int port;      /* IPv4 port of the first listener */
	int port6;     /* IPv6 port if one was asked for, else 0 */
	int http_port; /* IPv4 port of the first --http-listen, else 0 */
	/* IPv4 port of the first --https-listen, else 0. */
	int https_port;
	int irc_port; /* IRC port (--irc-listen 127.0.0.1:0), else 0 */
	/* Set by a test that kills a session with SIGSYS itself: ts_free
	 * otherwise fails the test if the log has "killed by the sandbox"
	 * (every feature must work inside the session's seccomp filter). */
	int sandbox_kill_expected;
};

/* Starts build/parleyd (PARLEY_BUILD overrides build/) with
 * "--listen 127.0.0.1:0", "--http-listen none" unless extra_args has an
 * --http-listen (say 127.0.0.1:0: see http_port), "--listen-tls none",
 * "--https-listen none" (see https_port), "--irc-listen none",
 * "--irc-listen-tls none" and "--db none" likewise (no test takes a
 * default port or the default database; ts_listen_port finds a TLS
 * listener's port; the list is ts_default_off in testlib.c), and the
 * space-separated extra args, and waits for the "listening on" line of
 * every listener they name. Its stderr is collected by a thread and can
 * be waited on with ts_log_wait. Returns NULL on failure (after a
 * CHECK). */
struct ts_server *ts_start(const char *extra_args);

/* ts_start with the process model's options (tl_init's model) first. */
struct ts_server *ts_start_model(const char *model, const char *extra_args);

/* Waits until pid has exited, whoever its parent is (a pidfd). Returns 0,
 * or -1 if it is still there after timeout_ms. */
int ts_wait_gone(pid_t pid, int timeout_ms);

/* Waits until a log line containing substr has been written since start.
 * Returns 0, or -1 after timeout_ms. */
int ts_log_wait(struct ts_server *s, const char *substr, int timeout_ms);

/* Waits until at least count log lines contain substr; 0 or -1. */
int ts_log_wait_count(struct ts_server *s, const char *substr, int count,
		      int timeout_ms);

/* Copies the first log line containing substr into out (n bytes).
 * Returns 0, or -1 if there is none yet. */
int ts_log_line(struct ts_server *s, const char *substr, char *out, size_t n);

/* Waits for the "listening on ADDR:PORT (WHAT)" line of a listener that
 * is not plain TCP (what: "plain over tls", ...) and returns its port, or
 * -1 after timeout_ms. */
int ts_listen_port(struct ts_server *s, const char *what, int timeout_ms);

/* Counts log lines containing substr so far. */
int ts_log_count(struct ts_server *s, const char *substr);

/* Copies the log collected so far into out (n bytes, NUL-terminated; the
 * start of the log if it is longer) and returns the whole log's length, so
 * that a test can read values (such as a second listener's port) from it. */
size_t ts_log_copy(struct ts_server *s, char *out, size_t n);

/* With hold set, nobody reads the server's stderr any more and its pipe
 * shrinks to one page: it fills up, as with a stalled log reader. hold 0
 * resumes reading with the usual 1 MiB pipe. */
void ts_log_hold(struct ts_server *s, int hold);

/* Records a failure at file:line for every AddressSanitizer or UBSan
 * ("runtime error:") report in the server's log so far, and for every
 * line containing also (when not NULL: "LeakSanitizer", "killed by"). */
void ts_check_no_sanitizer_reports_at(const char *file, int line,
				      struct ts_server *s, const char *also);
#define TS_CHECK_NO_SANITIZER_REPORTS(s, also)                                 \
	ts_check_no_sanitizer_reports_at(__FILE__, __LINE__, s, also)

/* Sends sig and waits for exit up to timeout_ms; returns the wait status,
 * or -1 on timeout (the server is then killed with SIGKILL). */
int ts_stop(struct ts_server *s, int sig, int timeout_ms);

/* SIGKILLs the server if still running, reaps it, frees s. */
void ts_free(struct ts_server *s);

/* Runs parleyd to its exit, as ts_start would start it ("--listen
 * 127.0.0.1:0" and every default port and the default database off
 * unless args names the option) but with args read by the shell (quotes
 * work), stdin from /dev/null, stdout and stderr into out (n bytes,
 * NUL-terminated). Blocks up to 30 s. Returns the exit status, or -1
 * (killed by a signal, or not run). ts_run_as runs it as uid (setgid and
 * setuid to it first) unless uid is (uid_t)-1. */
int ts_run(const char *args, char *out, size_t n);
int ts_run_as(const char *args, uid_t uid, char *out, size_t n);

/* The pids of the server's direct children, read from /proc, but for the
 * fork model's zygote (which forks sessions and serves no client). Returns
 * the count (at most max). */
int ts_children(pid_t pid, pid_t *out, int max);

/* Whether pid is a fork-model zygote (its name is parleyd-zygote). */
int ts_is_zygote(pid_t pid);

/* The zygote among pid's children, or -1. */
pid_t ts_zygote_of(pid_t pid);

/* Number of open fds of pid, from /proc/PID/fd. */
int ts_fd_count(pid_t pid);

/* The child of the server that holds the server's end of the TCP
 * connection whose client end is fd (found through /proc/net/tcp and the
 * children's /proc/PID/fd), or -1. */
pid_t ts_session_of(struct ts_server *s, int fd);

/* ---- metrics ------------------------------------------------------------ */

/* Waits up to 10 s for the "metrics on http://127.0.0.1:PORT" line of a
 * server started with --metrics-listen 127.0.0.1:0: PORT, or -1. */
int ts_metrics_port(struct ts_server *s);

/* Sends request (len bytes; -1: strlen) to 127.0.0.1:port and reads the
 * response until the server closes, for up to 15 s, into out (n bytes,
 * NUL-terminated). Returns its length, or -1. */
int ts_http(int port, const char *request, long len, char *out, size_t n);

/* GET /metrics into a buffer of testlib's (ts_scraped). Returns the
 * response's length, or -1. */
int ts_scrape(int port);

/* The last ts_scrape's response, headers and all. */
const char *ts_scraped(void);

/* The value of sample name (with its labels) in the last scrape, or -1. */
double ts_sample(const char *name);

/* Scrapes until sample name is want, for up to 10 s (counters are
 * published once per loop iteration of each session); returns the last
 * value seen. */
double ts_wait_sample(int port, const char *name, double want);

/* One scrape of the server's metrics: the value of sample name, or -1. */
double ts_metric(struct ts_server *s, const char *name);

/* ---- clients ------------------------------------------------------------ */

/* Connects to 127.0.0.1:port (or ::1 when port6 is set with tc_connect6).
 * Returns a blocking fd with TCP_NODELAY, or -1. */
int tc_connect(int port);
int tc_connect6(int port);

/* Sends a formatted string exactly (no newline added). 0 or -1. */
int tc_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads one line (without its LF) into buf within timeout_ms. Returns the
 * length, -1 on timeout, -2 on EOF or error. Lines are buffered per fd. */
int tc_readline(int fd, char *buf, size_t n, int timeout_ms);

/* Reads lines until one contains substr; returns its length (line in out
 * when out is not NULL), -1 on timeout, -2 on EOF. */
int tc_expect(int fd, const char *substr, char *out, size_t n, int timeout_ms);

/* Waits for EOF on fd, discarding lines; 0 on EOF, -1 on timeout. */
int tc_wait_eof(int fd, int timeout_ms);

/* Connects and reads until the welcome line; returns fd and stores the
 * assigned nickname in nick (if not NULL). -1 on failure. */
int tc_join(int port, char *nick, size_t n);

/* Closes fd and forgets its buffered input. */
void tc_close(int fd);

/* tc_close on each of the n fds (those below 0 are skipped). */
void tc_close_all(const int *fds, int n);

#endif
