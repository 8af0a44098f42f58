/*
 * test_zygote: the fork model forks sessions from a zygote (issue 17,
 * src/server/supervisor_zygote.c): a child of the supervisor that holds
 * nothing a session does not need, clones sessions that are still the
 * supervisor's children, is replaced at every reload, and whose loss
 * costs no client its connection. The workers model has none.
 */
#include "../testlib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char model_args[256];
static int workers;

#ifdef __SANITIZE_ADDRESS__
static const int sanitized = 1;
#else
static const int sanitized = 0;
#endif

/* A field ("PPid:", "Private_Dirty:" ...) of a /proc file, or -1. */
static long
proc_field(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	size_t k = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), f))
		if (strncmp(line, key, k) == 0)
			v = strtol(line + k, NULL, 10);
	fclose(f);
	return v;
}

/* Waits (up to timeout_ms) for the count-th "session zygote N started"
 * line and returns the server's zygote, or -1. */
static pid_t
zygote_started(struct ts_server *s, int count, int timeout_ms)
{
	if (ts_log_wait_count(s, "started (parleyd-zygote)", count,
			      timeout_ms) != 0)
		return -1;
	return ts_zygote_of(s->pid);
}

/* Two clients see each other's message: the session of each works. */
static void
check_chat(struct ts_server *s, int a, int b, const char *text)
{
	char line[512];

	REQUIRE(tc_send(a, "%s\n", text) == 0);
	CHECKF(tc_expect(b, text, line, sizeof(line), 5000) >= 0,
	       "\"%s\" did not arrive", text);
	(void)s;
}

static void
test_sessions_are_cloned_by_the_zygote_as_children_of_the_supervisor(void)
{
	struct ts_server *s = ts_start_model(model_args, "");
	REQUIRE(s);
	int a = tc_join(s->port, NULL, 0), b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	pid_t z = ts_zygote_of(s->pid);
	if (workers) {
		CHECKF(z < 0, "the workers model has a zygote (%d)", (int)z);
	} else {
		REQUIRE(z > 0);
		CHECK(proc_field(z, "status", "PPid:") == s->pid);
		/* Its fds: stdio, its socket, the flow and wake eventfds;
		 * no listener, no channel, no client. */
		int nfd = ts_fd_count(z);
		CHECKF(nfd > 0 && nfd <= 4 + 8 + 1, "the zygote has %d fds",
		       nfd);
		pid_t sa = ts_session_of(s, a);
		REQUIRE(sa > 0);
		CHECK(sa != z);
		CHECK(!ts_is_zygote(sa));
		CHECK(proc_field(sa, "status", "PPid:") == s->pid);
	}
	check_chat(s, a, b, "cloned sessions talk");
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_a_reload_replaces_the_zygote_and_old_sessions_live_on(void)
{
	struct ts_server *s = ts_start_model(model_args, "");
	REQUIRE(s);
	int a = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0);
	pid_t z = ts_zygote_of(s->pid);
	REQUIRE(z > 0);
	REQUIRE(kill(s->pid, SIGHUP) == 0);
	REQUIRE(ts_log_wait(s, "reloaded:", 5000) == 0);
	pid_t z2 = zygote_started(s, 2, 5000);
	CHECKF(z2 > 0 && z2 != z, "no new zygote after the reload (old %d)",
	       (int)z);
	CHECKF(ts_wait_gone(z, 5000) == 0, "old zygote %d still there", (int)z);
	int b = tc_join(s->port, NULL, 0);
	REQUIRE(b >= 0);
	check_chat(s, a, b, "old session to new");
	check_chat(s, b, a, "new session to old");
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_a_killed_zygote_costs_no_client_and_is_replaced(void)
{
	struct ts_server *s = ts_start_model(model_args, "");
	REQUIRE(s);
	int a = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0);
	pid_t z = ts_zygote_of(s->pid);
	REQUIRE(z > 0);
	REQUIRE(kill(z, SIGKILL) == 0);
	REQUIRE(ts_log_wait(s, "ended (signal 9)", 5000) == 0);
	/* The next client is served, by a new zygote or the supervisor. */
	int b = tc_join(s->port, NULL, 0);
	REQUIRE(b >= 0);
	check_chat(s, a, b, "after the zygote died");
	pid_t z2 = zygote_started(s, 2, 5000);
	CHECKF(z2 > 0 && z2 != z, "no zygote replaced %d", (int)z);
	int c = tc_join(s->port, NULL, 0);
	REQUIRE(c >= 0);
	check_chat(s, c, a, "from the next zygote's session");
	tc_close_all((int[]){a, b, c}, 3);
	ts_free(s);
}

/* What an idle session owns alone (Private_*: pages no other process
 * maps). Forked from the supervisor it owned 100-108 kB, with 20 clients
 * on the 2026-12-01 machine: the supervisor's stack, malloc arena and
 * globals, rewritten after each fork; from the zygote 68-72 kB. */
#define SESSION_PRIVATE_MAX_KB 88

static void
test_an_idle_session_owns_only_what_it_writes(void)
{
	enum { CLIENTS = 20 };
	struct ts_server *s = ts_start_model(model_args, "--max-per-address 0");
	int fd[CLIENTS];
	pid_t kids[CLIENTS + 8];

	REQUIRE(s);
	for (int i = 0; i < CLIENTS; i++) {
		fd[i] = tc_join(s->port, NULL, 0);
		REQUIRE(fd[i] >= 0);
	}
	/* The first client's session has seen 19 joins since: idle, but
	 * not untouched. */
	pid_t first = ts_session_of(s, fd[0]);
	REQUIRE(first > 0);
	int n = ts_children(s->pid, kids, CLIENTS + 8);
	CHECK(n >= CLIENTS);
	long dirty = proc_field(first, "smaps_rollup", "Private_Dirty:");
	long clean = proc_field(first, "smaps_rollup", "Private_Clean:");
	REQUIRE(dirty >= 0 && clean >= 0);
	CHECKF(dirty + clean <= SESSION_PRIVATE_MAX_KB,
	       "session %d owns %ld kB alone (at most %d)", (int)first,
	       dirty + clean, SESSION_PRIVATE_MAX_KB);
	tc_close_all(fd, CLIENTS);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];

	workers = tl_init(argc, argv, "zygote", model_args, sizeof(model_args),
			  suite);
	RUN(test_sessions_are_cloned_by_the_zygote_as_children_of_the_supervisor);
	if (!workers) {
		RUN(test_a_reload_replaces_the_zygote_and_old_sessions_live_on);
		RUN(test_a_killed_zygote_costs_no_client_and_is_replaced);
		/* AddressSanitizer's shadow memory is no session's. */
		if (!sanitized)
			RUN(test_an_idle_session_owns_only_what_it_writes);
	}
	return tl_summary(suite);
}
