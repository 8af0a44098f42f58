/*
 * test_store: the store process against real SQLite files in temporary
 * directories: history across a SIGTERM restart, SIGKILL of the store
 * under load (no gap), SIGKILL of the whole server (at most the last
 * batch lost), paging with /history, pruning, accounts and protected
 * nicknames, rate-limited logins, databases that cannot be used (one line,
 * exit 1), and chat going on while the store is down. Stored rows are
 * checked with the sqlite3 CLI; the process model comes from
 * PARLEY_TEST_ARGS.
 */
#include "../storelib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_WAIT_MS 10000

static char model_args[256];

/* ---- fixtures ------------------------------------------------------------ */

static struct ts_server *
start(const struct sl_fixture *f, const char *args)
{
	return sl_start(f, model_args, args);
}

/* Connects and waits for the join of #lobby (and its history). */
static int
client(struct ts_server *s)
{
	int fd = tc_connect(s->port);

	if (fd >= 0 &&
	    tc_expect(fd, " joined #lobby", NULL, 0, T_WAIT_MS) < 0) {
		tc_close(fd);
		return -1;
	}
	return fd;
}

/* Sends line and waits for a line containing want. */
static int
say_expect(int fd, const char *line, const char *want)
{
	char got[2048];

	if (tc_send(fd, "%s\n", line) < 0)
		return 0;
	if (tc_expect(fd, want, got, sizeof(got), T_WAIT_MS) < 0) {
		CHECKF(0, "after \"%s\": no line with \"%s\"", line, want);
		return 0;
	}
	return 1;
}

/* Sends "m 1" .. "m n" from a, waiting for each hundred at b. */
static int
burst(int a, int b, int from, int n)
{
	char want[32];

	for (int i = from; i < from + n; i++) {
		if (tc_send(a, "m %d\n", i) < 0)
			return -1;
		if ((i - from + 1) % 100 == 0 || i == from + n - 1) {
			snprintf(want, sizeof(want), "> m %d", i);
			if (tc_expect(b, want, NULL, 0, T_WAIT_MS) < 0)
				return -1;
		}
	}
	return 0;
}

/* The stored "m N" messages are exactly 1..n, each once, in order. */
static void
check_stored_prefix(const char *db, long long n)
{
	long long count = sl_sql_int(db, "SELECT count(*) FROM messages");
	long long distinct =
	    sl_sql_int(db, "SELECT count(DISTINCT text) FROM messages");
	long long in_order = sl_sql_int(
	    db, "SELECT count(*) FROM messages WHERE text = 'm ' || seq");

	CHECKF(count == n, "%lld messages stored, want %lld", count, n);
	CHECKF(distinct == n, "%lld distinct messages, want %lld", distinct, n);
	CHECKF(in_order == n, "%lld messages where seq matches, want %lld",
	       in_order, n);
}

/* ---- history ------------------------------------------------------------- */

static void
test_messages_before_a_sigterm_restart_are_in_the_history_after_it(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	int a, b;

	sl_fixture_make(&f, "store");
	s = start(&f, "--history 5");
	REQUIRE(s);
	a = client(s);
	b = client(s);
	CHECK(a >= 0 && b >= 0);
	CHECK(say_expect(a, "/topic kept across restarts", "set the topic"));
	for (int i = 1; i <= 3; i++) {
		char line[64];
		snprintf(line, sizeof(line), "before restart %d", i);
		CHECK(tc_send(a, "%s\n", line) == 0);
		CHECK(tc_expect(b, line, NULL, 0, T_WAIT_MS) > 0);
	}
	CHECK(tc_send(a, "/me waves\n") == 0);
	CHECK(tc_expect(b, "* guest1 waves", NULL, 0, T_WAIT_MS) > 0);
	tc_close(a);
	tc_close(b);
	int st = ts_stop(s, SIGTERM, T_WAIT_MS);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	CHECK(ts_log_wait(s, "everything before it archived", 0) == 0);
	ts_free(s);
	CHECK(sl_sql_int(
		  f.db, "SELECT count(*) FROM rooms WHERE topic = "
			"'kept across restarts' AND topic_by = 'guest1'") == 1);

	s = start(&f, "--history 5");
	REQUIRE(s);
	int c = tc_connect(s->port);
	char line[512];
	CHECK(tc_expect(c, "joined #lobby", NULL, 0, T_WAIT_MS) > 0);
	for (int i = 1; i <= 3; i++) {
		char want[64];
		snprintf(want, sizeof(want), "> before restart %d", i);
		CHECKF(tc_expect(c, want, line, sizeof(line), T_WAIT_MS) > 0,
		       "history line %d", i);
		CHECKF(strstr(line, "#lobby [history ") == line &&
			   strstr(line, "<guest1> before restart"),
		       "history line %s", line);
	}
	CHECK(tc_expect(c, "#lobby [history ", line, sizeof(line), T_WAIT_MS) >
		  0 &&
	      strstr(line, "* guest1 waves"));
	tc_close(c);
	ts_free(s);
	sl_fixture_free(&f);
}

static void
test_history_pages_back_oldest_first_until_there_is_no_more(void)
{
	static const struct {
		const char *send;
		int first, last; /* the "m N" lines it shows; 0: none */
		const char *end;
	} rows[] = {
	    {"/history 3", 5, 7, "-!- history of #lobby: 3 messages"},
	    {"/history 10", 1, 4, "-!- history of #lobby: 4 messages"},
	    {"/history", 0, 0, "-!- no earlier messages in #lobby"},
	};
	struct sl_fixture f;
	struct ts_server *s;
	char want[64], line[512];
	int a, b, c;

	sl_fixture_make(&f, "store");
	s = start(&f, "--history 3 --flood-rate 0");
	REQUIRE(s);
	a = client(s);
	b = client(s);
	CHECK(burst(a, b, 1, 10) == 0);
	c = tc_connect(s->port);
	CHECK(tc_expect(c, "joined #lobby", NULL, 0, T_WAIT_MS) > 0);
	for (int i = 8; i <= 10; i++) {
		snprintf(want, sizeof(want), "> m %d", i);
		CHECK(tc_expect(c, want, NULL, 0, T_WAIT_MS) > 0);
	}
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		CHECK(tc_send(c, "%s\n", rows[r].send) == 0);
		for (int i = rows[r].first; rows[r].first && i <= rows[r].last;
		     i++) {
			snprintf(want, sizeof(want), "> m %d", i);
			CHECKF(tc_expect(c, "#lobby [history ", line,
					 sizeof(line), T_WAIT_MS) > 0 &&
				   strstr(line, want),
			       "%s: got \"%s\", want m %d", rows[r].send, line,
			       i);
		}
		CHECKF(tc_readline(c, line, sizeof(line), T_WAIT_MS) > 0 &&
			   strncmp(line, rows[r].end, strlen(rows[r].end)) == 0,
		       "%s: got \"%s\"", rows[r].send, line);
	}
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
	sl_fixture_free(&f);
}

static void
test_messages_older_than_history_days_are_pruned(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	int a, b;

	sl_fixture_make(&f, "store");
	s = start(&f, "--flood-rate 0");
	REQUIRE(s);
	a = client(s);
	b = client(s);
	CHECK(burst(a, b, 1, 4) == 0);
	tc_close(a);
	tc_close(b);
	CHECK(ts_stop(s, SIGTERM, T_WAIT_MS) == 0);
	ts_free(s);
	/* Two of them are made 40 days old. */
	CHECK(sl_sql_int(f.db,
			 "UPDATE messages SET ts_ms = ts_ms - 40 * "
			 "86400000 WHERE seq <= 2; SELECT changes()") == 2);
	s = start(&f, "--history-days 30");
	REQUIRE(s);
	CHECK(ts_log_wait(s, "pruning messages older than 30 days",
			  T_WAIT_MS) == 0);
	CHECK(sl_sql_wait(f.db, "SELECT min(seq) FROM messages", 3,
			  T_WAIT_MS) == 0);
	CHECK(sl_sql_int(f.db, "SELECT count(*) FROM messages") == 2);
	ts_free(s);
	sl_fixture_free(&f);
}

/* ---- crashes ------------------------------------------------------------- */

static void
test_killing_the_store_under_load_leaves_no_gap_in_the_history(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	pid_t store;
	int a, b;

	sl_fixture_make(&f, "store");
	s = start(&f, "--flood-rate 0 --db-batch 16 --db-delay 5");
	REQUIRE(s);
	a = client(s);
	b = client(s);
	CHECK(burst(a, b, 1, 1000) == 0);
	/* Killed once it has committed: it must resume, not start over. */
	CHECK(sl_sql_wait(f.db, "SELECT count(*) >= 500 FROM messages", 1,
			  T_WAIT_MS) == 0);
	store = sl_store_pid(s, f.db);
	REQUIRE(store > 0);
	CHECK(kill(store, SIGKILL) == 0);
	CHECK(burst(a, b, 1001, 1000) == 0);
	CHECK(ts_log_wait(s, "store respawned as pid", T_WAIT_MS) == 0);
	CHECK(ts_log_wait(s, "resuming from its last commit", T_WAIT_MS) == 0);
	CHECK(burst(a, b, 2001, 1000) == 0);
	tc_close(a);
	tc_close(b);
	CHECK(ts_stop(s, SIGTERM, T_WAIT_MS) == 0);
	ts_free(s);
	check_stored_prefix(f.db, 3000);
	sl_fixture_free(&f);
}

static void
test_killing_the_whole_server_loses_at_most_the_last_batch(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	pid_t kids[512];
	int a, b, n;

	sl_fixture_make(&f, "store");
	/* Commits by count only: 20 batches of 50, and 25 left over. */
	s = start(&f, "--flood-rate 0 --db-batch 50 --db-delay 60000");
	REQUIRE(s);
	a = client(s);
	b = client(s);
	CHECK(burst(a, b, 1, 1025) == 0);
	CHECK(sl_sql_wait(f.db, "SELECT count(*) FROM messages", 1000,
			  T_WAIT_MS) == 0);
	/* Every process at once: none gets to clean up. */
	CHECK(kill(s->pid, SIGSTOP) == 0);
	n = ts_children(s->pid, kids, 512);
	for (int k = 0; k < n; k++)
		(void)kill(kids[k], SIGKILL);
	(void)ts_stop(s, SIGKILL, T_WAIT_MS);
	ts_free(s);
	tc_close(a);
	tc_close(b);
	check_stored_prefix(f.db, 1000);
	/* The database is whole and the next run goes on from it. */
	s = start(&f, "--history 2");
	REQUIRE(s);
	int c = tc_connect(s->port);
	CHECK(tc_expect(c, "> m 999", NULL, 0, T_WAIT_MS) > 0);
	CHECK(tc_expect(c, "> m 1000", NULL, 0, T_WAIT_MS) > 0);
	tc_close(c);
	ts_free(s);
	sl_fixture_free(&f);
}

/* ---- accounts ------------------------------------------------------------ */

struct step {
	int who; /* 0: a, 1: b */
	const char *send;
	const char *want; /* a line containing this follows */
};

static void
run_steps(int fds[2], const struct step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECKF(
		    say_expect(fds[steps[i].who], steps[i].send, steps[i].want),
		    "step %zu", i);
}

static void
test_register_log_in_out_change_password_unregister_and_protection(void)
{
	static const struct step steps[] = {
	    {0, "/nick alice", "is now known as alice"},
	    {0, "/register short", "a password is 8 to 128 characters"},
	    {0, "/register hunter22",
	     "-!- registered alice; you are logged in"},
	    {0, "/register hunter22", "you are already logged in as alice"},
	    {1, "/nick ALICE",
	     "nickname ALICE is registered; /login ALICE PASSWORD to use it"},
	    {1, "/login alice wrongpass", "login as alice failed"},
	    {1, "/login alice hunter22", "you are logged in as alice"},
	    {0, "/logout", "-!- you are logged out"},
	    {1, "/nick alice", "is now known as alice"},
	    {1, "/password wrongpass newpass99", "login as alice failed"},
	    {1, "/password hunter22 newpass99", "-!- password changed"},
	    {0, "/login alice hunter22", "login as alice failed"},
	    {0, "/login alice newpass99", "you are logged in as alice"},
	    {1, "/unregister hunter22", "login as alice failed"},
	    {1, "/unregister newpass99", "-!- alice is no longer registered"},
	    {0, "/logout", "-!- error: you are not logged in"},
	    {0, "/login alice newpass99", "login as alice failed"},
	};
	struct sl_fixture f;
	struct ts_server *s;
	int fds[2];

	sl_fixture_make(&f, "store");
	/* Debug lines too: no password is ever in the log. */
	s = start(&f, "--verbose");
	REQUIRE(s);
	fds[0] = client(s);
	fds[1] = client(s);
	run_steps(fds, steps, sizeof(steps) / sizeof(steps[0]));
	CHECK(sl_sql_int(f.db, "SELECT count(*) FROM accounts") == 0);
	CHECK(ts_log_count(s, "hunter22") == 0 &&
	      ts_log_count(s, "newpass99") == 0);
	tc_close(fds[0]);
	tc_close(fds[1]);
	ts_free(s);
	sl_fixture_free(&f);
}

static void
test_a_registered_nickname_stays_protected_after_a_restart(void)
{
	static const struct step steps[] = {
	    {0, "/nick bob", "-!- error: nickname bob is registered"},
	    {0, "/login bob hunter22", "is now known as bob"},
	    {1, "/nick Bob", "-!- error: nickname Bob is registered"},
	};
	struct sl_fixture f;
	struct ts_server *s;
	char hash[256];
	int fds[2];

	sl_fixture_make(&f, "store");
	s = start(&f, "");
	REQUIRE(s);
	fds[0] = client(s);
	CHECK(say_expect(fds[0], "/nick bob", "is now known as bob"));
	CHECK(say_expect(fds[0], "/register hunter22", "registered bob"));
	tc_close(fds[0]);
	CHECK(ts_stop(s, SIGTERM, T_WAIT_MS) == 0);
	ts_free(s);
	CHECK(sl_sql(f.db, "SELECT hash FROM accounts WHERE name = 'bob'", hash,
		     sizeof(hash)) == 0 &&
	      strncmp(hash, "$y$", 3) == 0);
	s = start(&f, "");
	REQUIRE(s);
	CHECK(ts_log_wait(s, "1 registered nickname", 0) == 0);
	fds[0] = client(s);
	fds[1] = client(s);
	run_steps(fds, steps, sizeof(steps) / sizeof(steps[0]));
	tc_close(fds[0]);
	tc_close(fds[1]);
	ts_free(s);
	sl_fixture_free(&f);
}

static void
test_failed_logins_are_rate_limited_per_account(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	int a, b;

	sl_fixture_make(&f, "store");
	s = start(&f, "");
	REQUIRE(s);
	a = client(s);
	b = client(s);
	CHECK(say_expect(a, "/nick carol", "is now known as carol"));
	CHECK(say_expect(a, "/register hunter22", "registered carol"));
	for (int i = 0; i < 5; i++)
		CHECK(say_expect(b, "/login carol wrongpass",
				 "login as carol failed"));
	/* Even the right password waits now, unchecked. */
	CHECK(say_expect(b, "/login carol hunter22",
			 "-!- error: too many failed logins; try again in "));
	CHECK(say_expect(a, "/logout", "you are logged out"));
	CHECK(say_expect(a, "/login carol hunter22", "too many failed logins"));
	CHECK(ts_log_wait(s, "login for carol from 127.0.0.1 refused",
			  T_WAIT_MS) == 0);
	tc_close(a);
	tc_close(b);
	ts_free(s);
	sl_fixture_free(&f);
}

/* ---- databases that cannot be used --------------------------------------- */

/* It exited 1 with exactly one warning, which says want (besides the
 * one a server started as root without --user gives). */
static void
check_refused(const char *what, int st, const char *err, const char *want)
{
	int warnings = 0;

	for (const char *p = err; (p = strstr(p, " WARN ")); p++) {
		const char *eol = strchr(p, '\n');
		const char *root = strstr(p, "running as root:");
		if (!root || (eol && root > eol))
			warnings++;
	}
	CHECKF(st == 1, "%s: exit status %d", what, st);
	CHECKF(warnings == 1 && strstr(err, want),
	       "%s: %d warnings, want one with \"%s\": %s", what, warnings,
	       want, err);
	CHECKF(!strstr(err, "listening on"), "%s: it listened", what);
}

enum bad_db { BAD_CORRUPT, BAD_FOREIGN, BAD_DIRECTORY, BAD_NEWER };

static void
bad_db_make(enum bad_db kind, const char *db)
{
	char out[256];
	int fd;

	switch (kind) {
	case BAD_CORRUPT:
		fd = open(db, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		for (int i = 0; fd >= 0 && i < 256; i++)
			CHECK(write(fd, "this is not an sqlite file. ", 28) ==
			      28);
		if (fd >= 0)
			close(fd);
		break;
	case BAD_FOREIGN:
		(void)sl_sql(db, "CREATE TABLE notes (x); SELECT 1", out,
			     sizeof(out));
		break;
	case BAD_DIRECTORY:
		CHECK(mkdir(db, 0755) == 0);
		break;
	case BAD_NEWER: {
		(void)sl_sql(db,
			     "PRAGMA application_id = 1349676153; PRAGMA "
			     "user_version = 99; CREATE TABLE t (x); SELECT 1",
			     out, sizeof(out));
		break;
	}
	}
}

static void
test_a_corrupt_or_foreign_database_is_one_line_and_exit_1(void)
{
	static const struct {
		enum bad_db kind;
		const char *what, *want;
	} rows[] = {
	    {BAD_CORRUPT, "corrupt", "is not a database"},
	    {BAD_FOREIGN, "foreign",
	     "is not a parley database (application id 0)"},
	    {BAD_DIRECTORY, "directory", "cannot be"},
	    {BAD_NEWER, "newer schema", "has schema version 99"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sl_fixture f;
		char err[8192];
		sl_fixture_make(&f, "store");
		bad_db_make(rows[i].kind, f.db);
		char args[512];
		snprintf(args, sizeof(args), "--db %s", f.db);
		int st = ts_run(args, err, sizeof(err));
		check_refused(rows[i].what, st, err, rows[i].want);
		CHECKF(strstr(err, f.db), "%s: the line names the file: %s",
		       rows[i].what, err);
		sl_fixture_free(&f);
	}
}

static void
test_a_read_only_directory_is_one_line_and_exit_1(void)
{
	static const struct {
		int existing;
		const char *what, *want;
	} rows[] = {
	    {0, "new database", "must be readable and writable"},
	    {1, "existing database", "must be"},
	};
	/* Root writes anywhere: run it as nobody then. */
	uid_t uid = (uid_t)-1;
	if (geteuid() == 0) {
		const struct passwd *pw = getpwnam("nobody");
		REQUIRE(pw);
		uid = pw->pw_uid;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sl_fixture f;
		char err[8192];
		sl_fixture_make(&f, "store");
		if (rows[i].existing) {
			struct ts_server *s = start(&f, "");
			CHECK(s && ts_stop(s, SIGTERM, T_WAIT_MS) == 0);
			if (s)
				ts_free(s);
		}
		CHECK(chmod(f.dir, 0555) == 0);
		char args[512];
		snprintf(args, sizeof(args), "--db %s", f.db);
		int st = ts_run_as(args, uid, err, sizeof(err));
		check_refused(rows[i].what, st, err, rows[i].want);
		sl_fixture_free(&f);
	}
}

/* ---- the store down ------------------------------------------------------ */

static int
move_db(const char *db, const char *from_suffix, const char *to_suffix)
{
	static const char *const parts[] = {"", "-wal", "-shm"};
	char from[256], to[256];

	for (size_t i = 0; i < 3; i++) {
		snprintf(from, sizeof(from), "%s%s%s", db, from_suffix,
			 parts[i]);
		snprintf(to, sizeof(to), "%s%s%s", db, to_suffix, parts[i]);
		if (rename(from, to) < 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}

static void
test_with_the_store_down_chat_goes_on_and_history_and_logins_fail(void)
{
	static const struct step down[] = {
	    {0, "/history", "history and accounts are unavailable right now"},
	    {1, "/login dave hunter22",
	     "history and accounts are unavailable right now"},
	    {1, "/nick dave", "-!- error: nickname dave is registered"},
	};
	struct sl_fixture f;
	struct ts_server *s;
	pid_t store;
	int fds[2];

	sl_fixture_make(&f, "store");
	s = start(&f, "--history 10");
	REQUIRE(s);
	fds[0] = client(s);
	fds[1] = client(s);
	CHECK(say_expect(fds[1], "/nick dave", "is now known as dave"));
	CHECK(say_expect(fds[1], "/register hunter22", "registered dave"));
	CHECK(say_expect(fds[1], "/logout", "you are logged out"));
	/* Its database goes away, so its respawns fail until it is back. */
	char away[16] = ".away";
	CHECK(move_db(f.db, "", away) == 0);
	CHECK(mkdir(f.db, 0755) == 0);
	store = sl_store_pid(s, f.db);
	if (store < 0) {
		/* It holds the moved file: find it by that name. */
		char moved[256];
		snprintf(moved, sizeof(moved), "%s%s", f.db, away);
		store = sl_store_pid(s, moved);
	}
	REQUIRE(store > 0);
	CHECK(kill(store, SIGKILL) == 0);
	CHECK(ts_log_wait(s, "cannot be opened", T_WAIT_MS) == 0 ||
	      ts_log_wait(s, "cannot be", T_WAIT_MS) == 0);
	/* The room hears fds[0] while the store is down; the history and
	 * the login fail with their line. */
	run_steps(fds, down, sizeof(down) / sizeof(down[0]));
	CHECK(tc_send(fds[0], "during the outage\n") == 0);
	CHECK(tc_expect(fds[1], "<guest1> during the outage", NULL, 0,
			T_WAIT_MS) > 0);
	CHECK(rmdir(f.db) == 0);
	CHECK(move_db(f.db, away, "") == 0);
	CHECK(ts_log_wait_count(s, "registered nickname", 2, T_WAIT_MS * 2) ==
	      0);
	/* Nothing said meanwhile is lost: it is in the history. */
	CHECK(say_expect(fds[1], "/login dave hunter22",
			 "you are logged in as dave"));
	int c = tc_connect(s->port);
	char line[512];
	CHECK(tc_expect(c, "<guest1> during the outage", line, sizeof(line),
			T_WAIT_MS) > 0 &&
	      strstr(line, "#lobby [history "));
	tc_close(c);
	tc_close(fds[0]);
	tc_close(fds[1]);
	ts_free(s);
	sl_fixture_free(&f);
}

/* A full disk, made with a file size limit the store inherits (its
 * writes then fail, as on a full disk) and lifted again with prlimit. */
static void
test_a_full_disk_stops_commits_until_it_has_room_and_loses_nothing(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	struct rlimit was, small;
	pid_t store;
	int a, b;

	sl_fixture_make(&f, "store");
	REQUIRE(getrlimit(RLIMIT_FSIZE, &was) == 0);
	small = was;
	small.rlim_cur = 256 * 1024;
	REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
	/* A store that cannot commit for --stall-timeout is declared
	 * stalled and skips what it missed (test_store_ops shows that):
	 * here the disk is full for less than that. */
	s = start(&f, "--flood-rate 0 --db-batch 4 --db-delay 1 --history 3 "
		      "--stall-timeout 600000");
	CHECK(setrlimit(RLIMIT_FSIZE, &was) == 0);
	REQUIRE(s);
	a = client(s);
	b = client(s);
	for (int i = 1; i <= 4000 && !ts_log_count(s, "retrying"); i++)
		CHECK(burst(a, b, i, 1) == 0);
	REQUIRE(ts_log_wait(s, "retrying", T_WAIT_MS) == 0);
	/* Chat goes on; history waits for the disk. */
	CHECK(tc_send(a, "while the disk is full\n") == 0);
	CHECK(tc_expect(b, "> while the disk is full", NULL, 0, T_WAIT_MS) > 0);
	CHECK(
	    say_expect(a, "/history", "history and accounts are unavailable"));
	store = sl_store_pid(s, f.db);
	REQUIRE(store > 0);
	CHECK(prlimit(store, RLIMIT_FSIZE, &was, NULL) == 0);
	CHECK(ts_log_wait(s, "commits work again", T_WAIT_MS * 2) == 0);
	int c = tc_connect(s->port);
	char line[512];
	CHECK(tc_expect(c, "while the disk is full", line, sizeof(line),
			T_WAIT_MS) > 0 &&
	      strstr(line, "[history "));
	tc_close(c);
	long long sent = sl_sql_int(f.db, "SELECT max(seq) FROM messages");
	tc_close(a);
	tc_close(b);
	CHECK(ts_stop(s, SIGTERM, T_WAIT_MS) == 0);
	ts_free(s);
	/* Every "m N" and the one line, each once, in order. */
	CHECK(sent > 1);
	CHECK(sl_sql_int(f.db, "SELECT count(*) FROM messages WHERE text = "
			       "'m ' || seq") == sent - 1);
	CHECK(sl_sql_int(f.db, "SELECT count(DISTINCT seq) FROM messages") ==
	      sent);
	sl_fixture_free(&f);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "store", model_args, sizeof(model_args), suite);
	RUN(test_messages_before_a_sigterm_restart_are_in_the_history_after_it);
	RUN(test_history_pages_back_oldest_first_until_there_is_no_more);
	RUN(test_messages_older_than_history_days_are_pruned);
	RUN(test_killing_the_store_under_load_leaves_no_gap_in_the_history);
	RUN(test_killing_the_whole_server_loses_at_most_the_last_batch);
	RUN(test_register_log_in_out_change_password_unregister_and_protection);
	RUN(test_a_registered_nickname_stays_protected_after_a_restart);
	RUN(test_failed_logins_are_rate_limited_per_account);
	RUN(test_a_corrupt_or_foreign_database_is_one_line_and_exit_1);
	RUN(test_a_read_only_directory_is_one_line_and_exit_1);
	RUN(test_with_the_store_down_chat_goes_on_and_history_and_logins_fail);
	RUN(test_a_full_disk_stops_commits_until_it_has_room_and_loses_nothing);
	return tl_summary(suite);
}
