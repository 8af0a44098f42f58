/*
 * Unit tests for src/server/live and src/server/stats, across a real
 * fork: a session process takes the supervisor's reloaded settings (and
 * only the reloadable ones), counters published by a child are summed by
 * the parent, and a retired slot's counts stay in the totals.
 */
#include "server/live.h"
#include "server/options.h"
#include "server/stats.h"

#include "../testlib.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A write the page protection refuses ends the child with 77 (a handler
 * of its own, so that sanitizers do not report it as a crash). */
static void
t_on_segv(int sig)
{
	(void)sig;
	_exit(77);
}

static void
t_expect_segv(void)
{
	struct sigaction sa = {.sa_handler = t_on_segv};

	sigaction(SIGSEGV, &sa, NULL);
}

/* Runs fn in a child; returns its exit status (0: all its checks held). */
static int
t_in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

struct t_live {
	struct live l;
	struct config cfg; /* the session's copy */
	int rd, wr;	   /* child waits on rd; parent on wr's other end */
	int back_rd, back_wr;
};

static int
t_session(void *arg)
{
	struct t_live *t = arg;
	char c;

	live_protect(&t->l);
	if (live_refresh(&t->l, &t->cfg) != 0)
		return 10; /* nothing new since the fork */
	if (write(t->back_wr, "r", 1) != 1 || read(t->rd, &c, 1) != 1)
		return 11;
	if (live_refresh(&t->l, &t->cfg) != 1)
		return 12;
	if (t->cfg.flood_burst != 3 || t->cfg.sendq_bytes != 8192 ||
	    t->cfg.verbose != 1)
		return 13;
	if (t->cfg.max_line != 1024 || t->cfg.workers != 0)
		return 14; /* restart-only settings never travel */
	if (live_refresh(&t->l, &t->cfg) != 0)
		return 15;
	return 0;
}

static void
test_a_session_takes_only_the_reloadable_settings_after_fork(void)
{
	struct t_live t;
	int to_child[2], from_child[2];
	struct config sv;

	REQUIRE(pipe(to_child) == 0 && pipe(from_child) == 0);
	REQUIRE(live_create(&t.l) == 0);
	config_defaults(&sv);
	REQUIRE(live_publish(&t.l, &sv) == 0);
	t.cfg = sv;
	t.rd = to_child[0];
	t.back_wr = from_child[1];
	pid_t pid = fork();
	if (pid == 0)
		_exit(t_session(&t));
	REQUIRE(pid > 0);
	char c;
	REQUIRE(read(from_child[0], &c, 1) == 1);
	/* A reload in the supervisor: some settings change, among them
	 * one that needs a restart (which must not reach the session). */
	sv.flood_burst = 3;
	sv.sendq_bytes = 8192;
	sv.verbose = 1;
	sv.max_line = 100;
	sv.workers = 4;
	REQUIRE(live_publish(&t.l, &sv) == 0);
	REQUIRE(write(to_child[1], "go", 1) == 1);
	int st;
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child check %d",
	       WEXITSTATUS(st));
	close(to_child[0]);
	close(to_child[1]);
	close(from_child[0]);
	close(from_child[1]);
	live_destroy(&t.l);
}

static void
test_a_session_cannot_write_the_live_block(void)
{
	struct live l;
	struct config cfg;
	pid_t pid;
	int st;

	REQUIRE(live_create(&l) == 0);
	config_defaults(&cfg);
	REQUIRE(live_publish(&l, &cfg) == 0);
	pid = fork();
	if (pid == 0) {
		live_protect(&l);
		t_expect_segv();
		l.sh->cfg.flood_burst = 1; /* must fault */
		_exit(0);
	}
	REQUIRE(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 77);
	CHECK(l.sh->cfg.flood_burst == cfg.flood_burst);
	live_destroy(&l);
}

struct t_stats {
	struct stats *st;
	unsigned slot;
	uint64_t n;
};

static int
t_counting_session(void *arg)
{
	struct t_stats *t = arg;
	struct stats_local l;

	memset(&l, 0, sizeof(l));
	stats_protect(t->st, t->slot);
	l.v.counter[STATS_DELIVERIES] = t->n;
	l.v.disconnects[2] = 1;
	l.v.clients[0][0] = 2;
	l.dirty = 1;
	stats_publish(stats_slot(t->st, t->slot), &l);
	return 0;
}

static void
test_counters_published_by_sessions_are_summed_and_kept_when_they_go(void)
{
	struct stats st;
	unsigned char in_use[4] = {1, 1, 0, 0};
	struct t_stats a = {&st, 0, 10}, b = {&st, 1, 32};

	REQUIRE(stats_create(&st, 4) == 0);
	REQUIRE(t_in_child(t_counting_session, &a) == 0);
	REQUIRE(t_in_child(t_counting_session, &b) == 0);
	CHECK(stats_sum(&st, in_use, STATS_DELIVERIES) == 42);
	CHECK(stats_sum_disconnects(&st, in_use, 2) == 2);
	CHECK(stats_slot(&st, 1)->clients[0][0] == 2);
	/* Slot 0's process is gone: its counts stay, its slot is clean. */
	stats_retire(&st, 0);
	in_use[0] = 0;
	CHECK(stats_sum(&st, in_use, STATS_DELIVERIES) == 42);
	CHECK(stats_slot(&st, 0)->counter[STATS_DELIVERIES] == 0);
	REQUIRE(t_in_child(t_counting_session, &a) == 0);
	in_use[0] = 1;
	CHECK(stats_sum(&st, in_use, STATS_DELIVERIES) == 52);
	stats_destroy(&st);
}

static int
t_foreign_write(void *arg)
{
	struct stats *st = arg;

	stats_protect(st, 0);
	t_expect_segv();
	stats_slot(st, 1)->counter[0] = 99; /* another session's page */
	return 0;
}

static void
test_a_session_cannot_write_another_sessions_counters(void)
{
	struct stats st;
	pid_t pid;
	int status;

	REQUIRE(stats_create(&st, 2) == 0);
	pid = fork();
	if (pid == 0)
		_exit(t_foreign_write(&st));
	REQUIRE(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 77);
	CHECK(stats_slot(&st, 1)->counter[0] == 0);
	stats_destroy(&st);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		tl_filter = argv[1];
	RUN(test_a_session_takes_only_the_reloadable_settings_after_fork);
	RUN(test_a_session_cannot_write_the_live_block);
	RUN(test_counters_published_by_sessions_are_summed_and_kept_when_they_go);
	RUN(test_a_session_cannot_write_another_sessions_counters);
	return tl_summary("unit_live");
}
