/*
 * test_server: the foundation's guarantees on the real parleyd: lossless
 * ordered delivery under burst, the slow-reader policy, crash isolation,
 * supervisor death, graceful shutdown, limits, churn and IPv6. Every test
 * starts its own server; the process model comes from PARLEY_TEST_ARGS
 * (empty: one process per client).
 */
#include "../mesh.h"
#include "../testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char model_args[256];

static struct ts_server *
start(const char *args)
{
	return ts_start_model(model_args, args);
}

/* ---- helpers ------------------------------------------------------------ */

struct want {
	struct mesh_client *cl;
	int n;
	size_t each; /* messages each client must get */
	int skip;    /* client that is not expected to finish, or -1 */
};

static int
all_received(void *arg)
{
	struct want *w = arg;

	for (int i = 0; i < w->n; i++)
		if (i != w->skip && w->cl[i].ngot < w->each)
			return 0;
	return 1;
}

/* A process is gone, or a zombie only its new parent can reap. */
static int
process_gone(pid_t pid)
{
	char path[64], buf[256];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int
shm_entries(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- tests -------------------------------------------------------------- */

/* Every one of n clients got the m messages of every other client, none of
 * its own, each sender's in order, and all of them in the same order. */
static void
check_all_delivered_in_one_order(struct mesh_client *cl, int n, int m)
{
	for (int i = 0; i < n; i++) {
		CHECKF(cl[i].ngot == (size_t)(n - 1) * (size_t)m,
		       "client %d got %zu of %d", i, cl[i].ngot, (n - 1) * m);
		CHECKF(mesh_count_from(&cl[i], i) == 0,
		       "client %d got its own lines back", i);
		for (int snd = 0; snd < n; snd++) {
			size_t k = 0;
			if (snd == i)
				continue;
			CHECKF(mesh_sender_in_order(&cl[i], snd, &k) == 0 &&
				   k == (size_t)m,
			       "client %d: sender %d out of order or short", i,
			       snd);
		}
	}
	for (int i = 1; i < n; i++)
		CHECKF(mesh_same_order(&cl[0], &cl[i], 0, i),
		       "clients 0 and %d disagree on the order", i);
}

static void
test_burst_from_20_clients_is_lossless_and_in_one_order(void)
{
	enum { N = 20, M = 2000 };
	/* One test process reads for all 20 clients, so it is the slowest
	 * reader here: a send queue this deep keeps the sendq policy out of
	 * a test about loss and order. */
	struct ts_server *s =
	    start("--flood-rate 0 --max-clients 64 --sendq 67108864");
	struct mesh_client cl[N];
	REQUIRE(s);
	REQUIRE(mesh_join(cl, N, s->port, 0) == 0);
	for (int i = 0; i < N; i++)
		mesh_queue(cl, i, 0, M, 10);
	struct want w = {cl, N, (size_t)(N - 1) * M, -1};
	CHECKF(mesh_pump(cl, N, all_received, &w, 120000) == 0,
	       "not all messages arrived in time");
	check_all_delivered_in_one_order(cl, N, M);
	mesh_close(cl, N);
	ts_free(s);
}

/* --wake-pace 100000 spaces wake-ups 100 ms per session process apart (400
 * ms for 4 fork-model sessions, 200 ms for 2 workers). The first round of
 * messages is delivered by a wake; the rest, sent right after it, can only
 * be delivered by the supervisor's deferred wake, so losing a deferral
 * would leave them undelivered. */
static void
test_paced_wakes_deliver_every_message_in_one_order(void)
{
	enum { N = 4, M = 30 };
	struct ts_server *s = start("--flood-rate 0 --wake-pace 100000");
	struct mesh_client cl[N];
	REQUIRE(s);
	REQUIRE(mesh_join(cl, N, s->port, 0) == 0);
	for (int i = 0; i < N; i++)
		mesh_queue(cl, i, 0, 1, 1);
	struct want first = {cl, N, N - 1, -1};
	CHECKF(mesh_pump(cl, N, all_received, &first, 60000) == 0,
	       "the first round did not arrive in time");
	for (int i = 0; i < N; i++)
		mesh_queue(cl, i, 1, M - 1, 1);
	struct want w = {cl, N, (size_t)(N - 1) * M, -1};
	CHECKF(mesh_pump(cl, N, all_received, &w, 60000) == 0,
	       "not all messages arrived in time");
	check_all_delivered_in_one_order(cl, N, M);
	mesh_close(cl, N);
	ts_free(s);
}

static void
test_slow_reader_is_disconnected_others_unaffected(void)
{
	enum { N = 4, M = 40000 };
	/* Senders at full speed. --sendq-seconds 0: a queue over --sendq is
	 * cut off at once, so the burst need not outlast the grace that
	 * --sendq-seconds gives (test_flow.c tests that). */
	struct ts_server *s = start("--flood-rate 5000 --flood-burst 100 "
				    "--sendq 1048576 --sendq-seconds 0");
	struct mesh_client cl[N];
	REQUIRE(s);
	char slow_nick[64];
	int slow = tc_join(s->port, slow_nick, sizeof(slow_nick));
	REQUIRE(slow >= 0);
	/* A receive buffer this small makes the server queue at once. */
	int small = 4096;
	setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	REQUIRE(mesh_join(cl, N, s->port, 0) == 0);
	for (int i = 0; i < N; i++) {
		mesh_queue(cl, i, 0, M / N, 100);
		snprintf(cl[i].lines_seen[0], sizeof(cl[i].lines_seen[0]),
			 "-!- %s quit (send queue exceeded)", slow_nick);
		cl[i].nlines_seen = 1;
	}
	struct want w = {cl, N, (size_t)(N - 1) * (M / N), -1};
	CHECK(mesh_pump(cl, N, all_received, &w, 120000) == 0);
	for (int i = 0; i < N; i++)
		CHECKF(cl[i].seen_mask == 1, "client %d not told why %s left",
		       i, slow_nick);
	for (int i = 0; i < N; i++)
		CHECKF(cl[i].ngot == w.each, "client %d got %zu of %zu", i,
		       cl[i].ngot, w.each);
	CHECK(ts_log_wait(s, "send queue exceeded", 10000) == 0);
	CHECK(ts_log_wait(s, "left: send queue exceeded", 10000) == 0);
	pid_t kids[64];
	int nk = ts_children(s->pid, kids, 64);
	for (int k = 0; k < nk; k++)
		CHECKF(rss_kb(kids[k]) < 64 * 1024, "session %d uses %ld kB",
		       kids[k], rss_kb(kids[k]));
	tc_close(slow);
	mesh_close(cl, N);
	ts_free(s);
}

/* Some clients saw EOF (one in the fork model, a worker's share with
 * workers), and every other one has all `each` messages of every other
 * survivor. Sets skip to one of the dead. */
static int
survivors_done(void *arg)
{
	struct want *w = arg;

	w->skip = -1;
	for (int i = 0; i < w->n; i++)
		if (w->cl[i].eof)
			w->skip = i;
	if (w->skip < 0)
		return 0;
	for (int i = 0; i < w->n; i++)
		if (!w->cl[i].eof && w->cl[i].nlines_seen &&
		    !(w->cl[i].seen_mask & 1))
			return 0;
	for (int i = 0; i < w->n; i++)
		for (int snd = 0; snd < w->n; snd++)
			if (!w->cl[i].eof && !w->cl[snd].eof && snd != i &&
			    mesh_count_from(&w->cl[i], snd) < w->each)
				return 0;
	return 1;
}

static void
test_killed_session_leaves_others_chatting_without_loss(void)
{
	enum { N = 8, M = 3000 };
	struct ts_server *s = start("--flood-rate 0");
	struct mesh_client cl[N];
	pid_t kids[64];
	REQUIRE(s);
	REQUIRE(mesh_join(cl, N, s->port, 0) == 0);
	int nk = ts_children(s->pid, kids, 64);
	REQUIRE(nk >= 1);
	for (int i = 0; i < N; i++)
		mesh_queue(cl, i, 0, M, 20);
	/* Mid-burst: once the first client has a third of its messages. */
	struct want third = {cl, 1, (size_t)(N - 1) * M / 3, -1};
	REQUIRE(mesh_pump(cl, N, all_received, &third, 60000) == 0);
	for (int i = 0; i < N; i++) {
		snprintf(cl[i].lines_seen[0], sizeof(cl[i].lines_seen[0]),
			 " quit (connection lost)");
		cl[i].nlines_seen = 1;
	}
	pid_t victim = kids[nk / 2];
	REQUIRE(kill(victim, SIGKILL) == 0);
	/* Everyone but the victim's client gets every survivor's messages. */
	struct want w = {cl, N, M, -1};
	CHECK(mesh_pump(cl, N, survivors_done, &w, 60000) == 0);
	int dead = w.skip;
	REQUIRE(dead >= 0);
	for (int i = 0; i < N; i++) {
		if (cl[i].eof)
			continue;
		for (int snd = 0; snd < N; snd++) {
			size_t k = 0;
			if (snd == i)
				continue;
			CHECKF(mesh_sender_in_order(&cl[i], snd, &k) == 0,
			       "client %d: sender %d has a gap", i, snd);
			if (!cl[snd].eof)
				CHECKF(k == M,
				       "client %d got %zu of %d from %d", i, k,
				       M, snd);
		}
	}
	char want[128];
	for (int i = 0; i < N; i++)
		CHECKF(cl[i].eof || (cl[i].seen_mask & 1),
		       "client %d was not told of the lost client", i);
	CHECK(ts_log_wait(s, "killed by signal 9", 10000) == 0);
	CHECK(ts_log_wait(s, "left: connection lost", 10000) == 0);
	/* The nickname is free again. */
	int fd = tc_join(s->port, NULL, 0);
	REQUIRE(fd >= 0);
	tc_send(fd, "/nick %s\n", cl[dead].nick);
	char line[256];
	snprintf(want, sizeof(want), "is now known as %s", cl[dead].nick);
	CHECK(tc_expect(fd, want, line, sizeof(line), 10000) > 0);
	tc_close(fd);
	mesh_close(cl, N);
	ts_free(s);
}

static void
test_supervisor_death_ends_every_session(void)
{
	enum { N = 5 };
	struct ts_server *s = start("");
	int fds[N];
	pid_t kids[64];
	REQUIRE(s);
	for (int i = 0; i < N; i++)
		REQUIRE((fds[i] = tc_join(s->port, NULL, 0)) >= 0);
	int nk = ts_children(s->pid, kids, 64);
	CHECK(nk >= 1);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
	for (int i = 0; i < N; i++)
		CHECKF(tc_wait_eof(fds[i], 2000) == 0,
		       "client %d still connected 2 s after supervisor death",
		       i);
	for (int k = 0; k < nk; k++) {
		long long deadline = tl_now_ms() + 2000;
		while (!process_gone(kids[k]) && tl_now_ms() < deadline)
			ts_wait_gone(kids[k], 100);
		CHECKF(process_gone(kids[k]), "session %d outlived supervisor",
		       kids[k]);
	}
	for (int i = 0; i < N; i++)
		tc_close(fds[i]);
	ts_free(s);
}

static int
all_shut(void *arg)
{
	struct want *w = arg;

	for (int i = 0; i < w->n; i++)
		if (!w->cl[i].eof)
			return 0;
	return 1;
}

static void
graceful_shutdown_with(int sig)
{
	enum { N = 50 };
	struct ts_server *s = start("--flood-rate 0 --max-clients 128");
	struct mesh_client cl[N];
	pid_t kids[256];
	int shm_before = shm_entries();
	REQUIRE(s);
	REQUIRE(mesh_join(cl, N, s->port, 0) == 0);
	for (int i = 0; i < N; i++)
		mesh_queue(cl, i, 0, 200, 20);
	/* Chatting: wait until the first client hears from the others. */
	struct want some = {cl, 1, 500, -1};
	REQUIRE(mesh_pump(cl, N, all_received, &some, 60000) == 0);
	int nk = ts_children(s->pid, kids, 256);
	long long t0 = tl_now_ms();
	pid_t pid = s->pid;
	kill(pid, sig);
	struct want w = {cl, N, 0, -1};
	CHECK(mesh_pump(cl, N, all_shut, &w, 5000) == 0);
	int st = ts_stop(s, 0, (int)(5000 - (tl_now_ms() - t0)) + 1);
	CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "parleyd did not exit 0 within 5 s (status %d)", st);
	for (int i = 0; i < N; i++) {
		CHECKF(cl[i].shutdown_seen, "client %d got no shutdown notice",
		       i);
		CHECKF(cl[i].eof, "client %d not closed", i);
	}
	for (int k = 0; k < nk; k++)
		CHECKF(process_gone(kids[k]), "session %d left behind",
		       kids[k]);
	CHECK(shm_entries() == shm_before);
	mesh_close(cl, N);
	ts_free(s);
}

static void
test_sigterm_shuts_down_gracefully_with_50_clients(void)
{
	graceful_shutdown_with(SIGTERM);
}

static void
test_sigint_shuts_down_gracefully_with_50_clients(void)
{
	graceful_shutdown_with(SIGINT);
}

/* How the supervisor goes, and the last line each idle client must get. */
static const struct {
	int sig;
	const char *line;
} idle_stop_rows[] = {
    {SIGTERM, "-!- server shutting down"},
    {SIGINT, "-!- server shutting down"},
    {SIGKILL, "-!- disconnected: server stopped"},
};

/* Sessions that have slept in epoll_wait for longer than their 2 s
 * linger still tell their clients why the connection closes. One server
 * per row, all idle at once. */
static void
test_idle_clients_are_told_the_server_stops_by_term_int_or_its_death(void)
{
	enum { ROWS = sizeof(idle_stop_rows) / sizeof(idle_stop_rows[0]) };
	enum { N = 2, IDLE_MS = 2500 };
	struct ts_server *s[ROWS] = {NULL};
	int fd[ROWS][N];
	char line[256];

	for (int r = 0; r < ROWS; r++) {
		s[r] = start("");
		REQUIRE(s[r]);
		for (int i = 0; i < N; i++)
			REQUIRE((fd[r][i] = tc_join(s[r]->port, NULL, 0)) >= 0);
		tc_send(fd[r][0], "before idling\n");
		REQUIRE(tc_expect(fd[r][1], "> before idling", line,
				  sizeof(line), 5000) > 0);
	}
	/* Idle: wait with a deadline for a line that never comes. */
	CHECK(tc_expect(fd[0][0], "\x01never", NULL, 0, IDLE_MS) == -1);
	for (int r = 0; r < ROWS; r++) {
		kill(s[r]->pid, idle_stop_rows[r].sig);
		for (int i = 0; i < N; i++) {
			CHECKF(tc_expect(fd[r][i], idle_stop_rows[r].line, line,
					 sizeof(line), 5000) > 0,
			       "signal %d: client %d not told \"%s\"",
			       idle_stop_rows[r].sig, i,
			       idle_stop_rows[r].line);
			CHECK(tc_wait_eof(fd[r][i], 5000) == 0);
			tc_close(fd[r][i]);
		}
		int st = ts_stop(s[r], 0, 5000);
		if (idle_stop_rows[r].sig != SIGKILL)
			CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			       "signal %d: exit status %d",
			       idle_stop_rows[r].sig, st);
		ts_free(s[r]);
	}
}

/* With --verbose, requests and refusals are logged at debug level, by
 * name and client, never with what was said; without it, nothing is. */
static const struct {
	const char *args;
	int debug;
} verbose_rows[] = {
    {"--verbose", 1},
    {"", 0},
};

static void
test_verbose_logs_requests_and_refusals_at_debug_level_only(void)
{
	for (size_t r = 0; r < sizeof(verbose_rows) / sizeof(verbose_rows[0]);
	     r++) {
		struct ts_server *s = start(verbose_rows[r].args);
		char line[256];
		REQUIRE(s);
		int a = tc_join(s->port, NULL, 0);
		REQUIRE(a >= 0);
		tc_send(a, "/who\n/msg nobody secretword\nsecretword\n");
		CHECK(tc_expect(a, "no such nick nobody", line, sizeof(line),
				5000) > 0);
		tc_send(a, "/quit\n");
		/* The supervisor logs this after the session's lines. */
		CHECK(ts_log_wait(s, "left: quit", 5000) == 0);
		int want = verbose_rows[r].debug;
		CHECKF((ts_log_count(s, " DEBUG ") > 0) == want,
		       "%s: %d debug lines", verbose_rows[r].args,
		       ts_log_count(s, " DEBUG "));
		CHECKF(ts_log_count(s, ": request who") == want,
		       "%s: request who logged %d times", verbose_rows[r].args,
		       ts_log_count(s, ": request who"));
		CHECK(ts_log_count(s, "refused: no such nick nobody") == want);
		CHECK(ts_log_count(s, "secretword") == 0);
		tc_close(a);
		ts_free(s);
	}
}

/* Bad command lines, and the line parleyd starts its answer with. */
static const struct {
	const char *args, *first;
} bad_option_rows[] = {
    {"--bogus", "parleyd: unknown option '--bogus'\n"},
    {"--bogus=1", "parleyd: unknown option '--bogus'\n"},
    {"-x", "parleyd: unknown option '-x'\n"},
    {"--listen", "parleyd: option '--listen' needs an argument\n"},
    {"--max-clients x", "parleyd: --max-clients: expected a number"},
    {"extra", "parleyd: unexpected argument 'extra'\n"},
};

static void
test_bad_options_are_named_by_parleyd_and_exit_2(void)
{
	char out[8192];

	for (size_t i = 0;
	     i < sizeof(bad_option_rows) / sizeof(bad_option_rows[0]); i++) {
		int st = ts_run(bad_option_rows[i].args, out, sizeof(out));
		CHECKF(st == 2, "%s: exit %d", bad_option_rows[i].args, st);
		CHECKF(strncmp(out, bad_option_rows[i].first,
			       strlen(bad_option_rows[i].first)) == 0,
		       "%s: \"%.80s\"", bad_option_rows[i].args, out);
	}
	/* --help: exit 0, no line ends in a space. */
	CHECK(ts_run("--help", out, sizeof(out)) == 0);
	CHECK(strncmp(out, "usage: parleyd", 14) == 0);
	CHECKF(!strstr(out, " \n"), "a --help line ends in a space");
}

/* The supervisor's log at shutdown counts in the singular for one, and
 * says "cleanly" only when no process had to be killed. */
static const struct {
	const char *args;
	int stop_session; /* SIGSTOP it: the deadline passes */
	const char *start, *end;
} shutdown_log_rows[] = {
    {"--workers 1", 0, "1 worker started", "shut down cleanly"},
    {"--workers 1 --shutdown-timeout 200", 1, "1 worker started",
     "shut down after killing 1 process"},
    {"", 0, "listening on", "shut down cleanly"},
};

static void
test_shutdown_log_counts_one_in_the_singular_and_says_what_was_killed(void)
{
	for (size_t r = 0;
	     r < sizeof(shutdown_log_rows) / sizeof(shutdown_log_rows[0]);
	     r++) {
		struct ts_server *s = ts_start(shutdown_log_rows[r].args);
		pid_t kids[4];
		REQUIRE(s);
		int a = tc_join(s->port, NULL, 0);
		REQUIRE(a >= 0);
		CHECK(ts_log_wait(s, shutdown_log_rows[r].start, 1000) == 0);
		REQUIRE(ts_children(s->pid, kids, 4) == 1);
		if (shutdown_log_rows[r].stop_session)
			kill(kids[0], SIGSTOP);
		int st = ts_stop(s, SIGTERM, 10000);
		CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		       "row %zu: exit status %d", r, st);
		CHECK(ts_log_wait(s, "shutting down (1 client, 1 process)",
				  1000) == 0);
		CHECKF(ts_log_wait(s, shutdown_log_rows[r].end, 1000) == 0,
		       "row %zu: no \"%s\"", r, shutdown_log_rows[r].end);
		CHECKF(shutdown_log_rows[r].stop_session ==
			   !ts_log_count(s, "shut down cleanly"),
		       "row %zu: said cleanly", r);
		tc_close(a);
		ts_free(s);
	}
}

static void
test_client_over_max_clients_gets_server_full(void)
{
	struct ts_server *s = start("--max-clients 3");
	int fds[3], extra;
	char line[256];
	REQUIRE(s);
	for (int i = 0; i < 3; i++)
		REQUIRE((fds[i] = tc_join(s->port, NULL, 0)) >= 0);
	extra = tc_connect(s->port);
	REQUIRE(extra >= 0);
	CHECK(tc_expect(extra, "-!- server full", line, sizeof(line), 5000) >
	      0);
	CHECK(tc_wait_eof(extra, 5000) == 0);
	tc_close(extra);
	/* The others are unaffected. */
	tc_send(fds[0], "still here\n");
	CHECK(tc_expect(fds[1], "> still here", line, sizeof(line), 5000) > 0);
	CHECK(tc_expect(fds[2], "> still here", line, sizeof(line), 5000) > 0);
	for (int i = 0; i < 3; i++)
		tc_close(fds[i]);
	ts_free(s);
}

static void
test_over_long_line_is_refused_and_connection_stays_usable(void)
{
	struct ts_server *s = start("--max-line 100");
	char line[512], big[300];
	REQUIRE(s);
	int a = tc_join(s->port, NULL, 0), b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tc_send(a, "%s\n", big);
	CHECK(tc_expect(a, "-!- error: line too long (max 100 bytes)", line,
			sizeof(line), 5000) > 0);
	tc_send(a, "%.100s\n", big);
	CHECK(tc_expect(b, "> yyyy", line, sizeof(line), 5000) > 0);
	CHECK(strlen(line) > 100);
	tc_send(a, "after\n");
	CHECK(tc_expect(b, "> after", line, sizeof(line), 5000) > 0);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_ten_megabytes_without_newline_keep_memory_bounded(void)
{
	struct ts_server *s = start("--flood-rate 0");
	char *junk = malloc(1 << 20), line[256];
	pid_t kids[8];
	REQUIRE(s && junk);
	int a = tc_join(s->port, NULL, 0), b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	memset(junk, 'z', 1 << 20);
	for (int i = 0; i < 10; i++) {
		size_t off = 0;
		while (off < (1u << 20)) {
			ssize_t n =
			    send(a, junk + off, (1u << 20) - off, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	tc_send(a, "\nbounded\n");
	CHECK(tc_expect(b, "> bounded", line, sizeof(line), 30000) > 0);
	CHECK(tc_expect(a, "line too long", line, sizeof(line), 5000) > 0);
	int nk = ts_children(s->pid, kids, 8);
	for (int k = 0; k < nk; k++)
		CHECKF(rss_kb(kids[k]) < 32 * 1024, "session %d uses %ld kB",
		       kids[k], rss_kb(kids[k]));
	CHECK(rss_kb(s->pid) < 64 * 1024);
	free(junk);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_2000_connect_close_cycles_leave_nothing_behind(void)
{
	enum { CYCLES = 2000 };
	struct ts_server *s = start("--max-clients 256");
	pid_t kids[512];
	char line[256];
	REQUIRE(s);
	int observer = tc_join(s->port, NULL, 0);
	REQUIRE(observer >= 0);
	int fds_before = ts_fd_count(s->pid);
	int kids_before = ts_children(s->pid, kids, 512);
	for (int i = 0; i < CYCLES; i++) {
		int fd = tc_connect(s->port);
		REQUIRE(fd >= 0);
		if (i % 3 == 1)
			tc_expect(fd, "-!- welcome", line, sizeof(line), 5000);
		if (i % 3 == 2) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		tc_close(fd);
	}
	/* Every client that connected has left the registry. */
	long long deadline = tl_now_ms() + 60000;
	while (tl_now_ms() < deadline &&
	       ts_log_count(s, " left: ") <
		   ts_log_count(s, "connected from") - 1)
		ts_log_wait(s, "\x01never", 50);
	CHECK(ts_log_count(s, " left: ") ==
	      ts_log_count(s, "connected from") - 1);
	/* And their processes are reaped. */
	deadline = tl_now_ms() + 30000;
	while (tl_now_ms() < deadline &&
	       ts_children(s->pid, kids, 512) > kids_before)
		ts_log_wait(s, "\x01never", 50);
	CHECK(ts_children(s->pid, kids, 512) == kids_before);
	CHECK(ts_fd_count(s->pid) == fds_before);
	tc_send(observer, "/who\n");
	CHECK(tc_expect(observer, "-!- members of #lobby:", line, sizeof(line),
			5000) > 0);
	CHECKF(strchr(line + strlen("-!- members of #lobby:") + 1, ' ') == NULL,
	       "registry not back to one member: %s", line);
	tc_close(observer);
	ts_free(s);
}

static void
test_chat_works_over_ipv6(void)
{
	struct ts_server *s = start("--listen [::1]:0");
	char line[256];
	REQUIRE(s);
	REQUIRE(s->port6 > 0);
	int a = tc_connect6(s->port6), b = tc_connect6(s->port6);
	REQUIRE(a >= 0 && b >= 0);
	CHECK(tc_expect(a, " joined #lobby", line, sizeof(line), 5000) > 0);
	CHECK(tc_expect(b, " joined #lobby", line, sizeof(line), 5000) > 0);
	tc_send(b, "/nick bee\n");
	CHECK(tc_expect(b, "is now known as bee", line, sizeof(line), 5000) >
	      0);
	tc_send(b, "hello over six\n");
	CHECK(tc_expect(a, "#lobby <bee> hello over six", line, sizeof(line),
			5000) > 0);
	CHECK(ts_log_wait(s, "connected from [::1]:", 1000) == 0);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "server", model_args, sizeof(model_args), suite);
	RUN(test_burst_from_20_clients_is_lossless_and_in_one_order);
	RUN(test_paced_wakes_deliver_every_message_in_one_order);
	RUN(test_slow_reader_is_disconnected_others_unaffected);
	RUN(test_killed_session_leaves_others_chatting_without_loss);
	RUN(test_supervisor_death_ends_every_session);
	RUN(test_sigterm_shuts_down_gracefully_with_50_clients);
	RUN(test_sigint_shuts_down_gracefully_with_50_clients);
	RUN(test_idle_clients_are_told_the_server_stops_by_term_int_or_its_death);
	RUN(test_verbose_logs_requests_and_refusals_at_debug_level_only);
	RUN(test_bad_options_are_named_by_parleyd_and_exit_2);
	RUN(test_shutdown_log_counts_one_in_the_singular_and_says_what_was_killed);
	RUN(test_client_over_max_clients_gets_server_full);
	RUN(test_over_long_line_is_refused_and_connection_stays_usable);
	RUN(test_ten_megabytes_without_newline_keep_memory_bounded);
	RUN(test_2000_connect_close_cycles_leave_nothing_behind);
	RUN(test_chat_works_over_ipv6);
	return tl_summary(suite);
}
