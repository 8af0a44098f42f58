/*
 * test_store_ops: the store as an operator runs it, against real SQLite
 * files in temporary directories: topics (with who set them and when)
 * across a real SIGTERM restart and across a room being empty, --user
 * (the database belongs to that user, and one it cannot write is one
 * line), settings a SIGHUP reload gives the running store, and the
 * store's /metrics. Stored rows are checked with the sqlite3 CLI; the
 * process model comes from PARLEY_TEST_ARGS.
 */
#include "../storelib.h"

#include <dirent.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define T_WAIT_MS 10000

static char model_args[256];

/* ---- fixtures ------------------------------------------------------------ */

static struct ts_server *
start(const struct sl_fixture *f, const char *args)
{
	return sl_start(f, model_args, args);
}

/* Writes the config file aside and renames it in, as an editor does. */
static void
conf_write(const struct sl_fixture *f, const char *text)
{
	char tmp[160];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.new", f->conf);
	fp = fopen(tmp, "w");
	if (!fp)
		abort();
	fputs(text, fp);
	fclose(fp);
	if (rename(tmp, f->conf) < 0)
		abort();
}

/* Connects as nick (after the join of #lobby). Returns the fd or -1. */
static int
client(struct ts_server *s, const char *nick)
{
	char want[64];
	int fd = tc_connect(s->port);

	snprintf(want, sizeof(want), "is now known as %s", nick);
	if (fd >= 0 &&
	    (tc_expect(fd, " joined #lobby", NULL, 0, T_WAIT_MS) < 0 ||
	     tc_send(fd, "/nick %s\n", nick) < 0 ||
	     tc_expect(fd, want, NULL, 0, T_WAIT_MS) < 0)) {
		tc_close(fd);
		return -1;
	}
	return fd;
}

/* Sends line and waits for a line containing want. */
static int
say_expect(int fd, const char *line, const char *want)
{
	if (tc_send(fd, "%s\n", line) < 0)
		return 0;
	if (tc_expect(fd, want, NULL, 0, T_WAIT_MS) < 0) {
		CHECKF(0, "after \"%s\": no line with \"%s\"", line, want);
		return 0;
	}
	return 1;
}

/* a says text in #lobby; b sees it. */
static int
say(int a, int b, const char *text)
{
	char want[300];

	snprintf(want, sizeof(want), "> %s", text);
	if (tc_send(a, "%s\n", text) < 0 ||
	    tc_expect(b, want, NULL, 0, T_WAIT_MS) < 0) {
		CHECKF(0, "\"%s\" did not arrive", text);
		return 0;
	}
	return 1;
}

/* SIGTERM, and a clean exit. */
static void
stop(struct ts_server *s)
{
	CHECK(ts_stop(s, SIGTERM, T_WAIT_MS) == 0);
	ts_free(s);
}

/* ---- topics -------------------------------------------------------------- */

/* What a room should show once the server has started again. */
static const struct {
	const char *room, *topic; /* topic NULL: none */
} topic_rows[] = {
    {"#den", "tea at five"},
    {"#Garden", "beans, tomatoes and everything green"},
    {"#attic", NULL}, /* set, then cleared */
};

static void
test_a_topic_survives_a_sigterm_restart_with_who_set_it_and_when(void)
{
	const size_t n = sizeof(topic_rows) / sizeof(topic_rows[0]);
	char line[512], want[512], when[32];
	long long ms[8];
	struct sl_fixture f;
	struct ts_server *s;
	int a, b;

	sl_fixture_make(&f, "store-ops");
	s = start(&f, "");
	REQUIRE(s);
	a = client(s, "alice");
	CHECK(a >= 0);
	for (size_t i = 0; a >= 0 && i < n; i++) {
		snprintf(line, sizeof(line), "/join %s", topic_rows[i].room);
		snprintf(want, sizeof(want), "alice joined %s",
			 topic_rows[i].room);
		CHECK(say_expect(a, line, want));
		snprintf(line, sizeof(line), "/topic %s",
			 topic_rows[i].topic ? topic_rows[i].topic
					     : "a passing thought");
		CHECK(say_expect(a, line, "alice set the topic of"));
		if (!topic_rows[i].topic)
			CHECK(say_expect(a, "/topic -",
					 "alice cleared the topic of"));
	}
	tc_close(a);
	stop(s);
	/* The store wrote them before it exited: who and when are known. */
	for (size_t i = 0; i < n; i++) {
		snprintf(line, sizeof(line),
			 "SELECT count(*) FROM rooms WHERE display = '%s' AND "
			 "topic_by %s",
			 topic_rows[i].room,
			 topic_rows[i].topic ? "= 'alice'" : "IS NULL");
		CHECKF(sl_sql_int(f.db, line) == 1,
		       "%s: stored as set by alice", topic_rows[i].room);
		snprintf(line, sizeof(line),
			 "SELECT coalesce(topic_ms, 0) FROM rooms WHERE "
			 "display = '%s'",
			 topic_rows[i].room);
		ms[i] = sl_sql_int(f.db, line);
	}

	s = start(&f, "--verbose");
	REQUIRE(s);
	b = client(s, "bob");
	CHECK(b >= 0);
	for (size_t i = 0; b >= 0 && i < n; i++) {
		const char *room = topic_rows[i].room;
		snprintf(line, sizeof(line), "/join %s", room);
		if (topic_rows[i].topic) {
			/* Told on joining, as for any topic. */
			snprintf(want, sizeof(want), "-!- topic of %s: %s",
				 room, topic_rows[i].topic);
			CHECK(say_expect(b, line, want));
			CHECK(say_expect(b, "/topic", want));
			time_t secs = (time_t)(ms[i] / 1000);
			struct tm tm;
			gmtime_r(&secs, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			snprintf(want, sizeof(want),
				 "%s has its topic again, set by alice at %s",
				 room, when);
			/* The client may hear the topic before the log
			 * thread has read the line. */
			CHECKF(ts_log_wait(s, want, 10000) == 0 &&
				   ts_log_count(s, want) == 1,
			       "log: %s", want);
		} else {
			snprintf(want, sizeof(want), "bob joined %s", room);
			CHECK(say_expect(b, line, want));
			snprintf(want, sizeof(want), "-!- %s has no topic",
				 room);
			CHECK(say_expect(b, "/topic", want));
		}
	}
	CHECK(ts_log_count(s, "2 stored topics") == 1);
	tc_close(b);
	stop(s);
	/* Nobody set them again: the database still says alice, then. */
	for (size_t i = 0; i < n; i++) {
		if (!topic_rows[i].topic)
			continue;
		snprintf(line, sizeof(line),
			 "SELECT count(*) FROM rooms WHERE display = '%s' AND "
			 "topic_by = 'alice' AND topic_ms = %lld",
			 topic_rows[i].room, ms[i]);
		CHECKF(sl_sql_int(f.db, line) == 1, "%s: still alice's",
		       topic_rows[i].room);
	}
	sl_fixture_free(&f);
}

static void
test_a_topic_outlives_its_room_being_empty(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	int a;

	sl_fixture_make(&f, "store-ops");
	s = start(&f, "");
	REQUIRE(s);
	a = client(s, "alice");
	REQUIRE(a >= 0);
	CHECK(say_expect(a, "/join #den", "alice joined #den"));
	CHECK(say_expect(a, "/topic tea at five", "alice set the topic of"));
	/* alice was its only member: the room is gone, and made again. */
	CHECK(say_expect(a, "/part #den", "alice left #den"));
	CHECK(say_expect(a, "/rooms", "-!- #lobby:"));
	CHECK(say_expect(a, "/join #den", "-!- topic of #den: tea at five"));
	tc_close(a);
	ts_free(s);
	sl_fixture_free(&f);
}

/* ---- --user -------------------------------------------------------------- */

/* The Uid: line of /proc/PID/status: "real effective saved fs". */
static void
proc_uid(pid_t pid, char *out, size_t n)
{
	char path[64], line[256];
	FILE *fp;

	snprintf(out, n, "?");
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(fp = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, "Uid:\t", 5) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, n, "%s", line + 5);
		}
	fclose(fp);
}
static void
test_with_user_the_store_opens_its_database_as_that_user(void)
{
	const struct passwd *pw;
	char uid[256], want[64], args[256], err[8192];
	struct sl_fixture f;
	struct ts_server *s;
	struct stat sb;
	int a, b;

	if (geteuid() != 0) {
		printf("  (not root: nothing to drop)\n");
		return;
	}
	pw = getpwnam("nobody");
	REQUIRE(pw);
	sl_fixture_make(&f, "store-ops");
	/* A state directory that belongs to the user, as systemd's
	 * StateDirectory= makes one. */
	REQUIRE(chown(f.dir, pw->pw_uid, pw->pw_gid) == 0);
	for (int run = 0; run < 2; run++) {
		s = start(&f, "--user nobody");
		REQUIRE(s);
		CHECK(ts_log_wait(s, "running as user nobody", T_WAIT_MS) == 0);
		a = client(s, run ? "carol" : "alice");
		b = client(s, "bob");
		CHECK(a >= 0 && b >= 0);
		if (a >= 0 && b >= 0 && run == 0)
			CHECK(say(a, b, "written as nobody"));
		/* The next run's joiners get it as history. */
		if (run == 1) {
			int c = tc_connect(s->port);
			CHECK(c >= 0 &&
			      tc_expect(c, "<alice> written as nobody", NULL, 0,
					T_WAIT_MS) >= 0);
			if (c >= 0)
				tc_close(c);
		}
		pid_t store = sl_store_pid(s, f.db);
		CHECK(store > 0);
		proc_uid(store, uid, sizeof(uid));
		snprintf(want, sizeof(want), "%u\t%u\t%u\t%u",
			 (unsigned)pw->pw_uid, (unsigned)pw->pw_uid,
			 (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
		CHECKF(strcmp(uid, want) == 0, "the store's Uid: %s", uid);
		if (a >= 0)
			tc_close(a);
		if (b >= 0)
			tc_close(b);
		stop(s);
		CHECK(stat(f.db, &sb) == 0 && sb.st_uid == pw->pw_uid);
	}
	/* A directory only root may write: one line that names the user. */
	CHECK(chown(f.dir, 0, 0) == 0 && chmod(f.dir, 0755) == 0);
	CHECK(unlink(f.db) == 0);
	snprintf(args, sizeof(args), "--user nobody --db %s", f.db);
	CHECK(ts_run(args, err, sizeof(err)) == 1);
	CHECKF(strstr(err, "the store runs as user nobody") &&
		   strstr(err, f.db),
	       "stderr: %s", err);
	CHECKF(!strstr(err, "listening on"), "it listened: %s", err);
	sl_fixture_free(&f);
}

/* ---- reload -------------------------------------------------------------- */

static void
test_a_reload_gives_the_running_store_history_days_and_store_private(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	char line[256];
	int a, b;

	sl_fixture_make(&f, "store-ops");
	conf_write(&f, "history-days 0\nflood-rate 0\n");
	snprintf(line, sizeof(line), "--config %s", f.conf);
	s = start(&f, line);
	REQUIRE(s);
	a = client(s, "alice");
	b = client(s, "bob");
	REQUIRE(a >= 0 && b >= 0);
	for (int i = 1; i <= 4; i++) {
		snprintf(line, sizeof(line), "m %d", i);
		CHECK(say(a, b, line));
	}
	CHECK(say_expect(a, "/msg bob before", "-> *bob* before"));
	CHECK(sl_sql_wait(f.db, "SELECT count(*) FROM messages", 4,
			  T_WAIT_MS) == 0);
	/* Two of them are made 40 days old: with history-days 0 they stay. */
	CHECK(sl_sql_int(f.db,
			 "UPDATE messages SET ts_ms = ts_ms - 40 * "
			 "86400000 WHERE seq <= 2; SELECT changes()") == 2);

	conf_write(&f, "history-days 30\nstore-private yes\nflood-rate 0\n");
	kill(s->pid, SIGHUP);
	CHECK(ts_log_wait(s, "reloaded: 2 settings changed", T_WAIT_MS) == 0);
	CHECK(ts_log_wait(s, "pruning messages older than 30 days",
			  T_WAIT_MS) == 0);
	CHECK(sl_sql_wait(f.db, "SELECT min(seq) FROM messages", 3,
			  T_WAIT_MS) == 0);
	CHECK(sl_sql_int(f.db, "SELECT count(*) FROM messages") == 2);
	CHECK(say_expect(a, "/msg bob after", "-> *bob* after"));
	CHECK(sl_sql_wait(f.db, "SELECT count(*) FROM private_messages", 1,
			  T_WAIT_MS) == 0);
	CHECK(sl_sql_int(f.db, "SELECT count(*) FROM private_messages WHERE "
			       "text = 'after'") == 1);
	tc_close(a);
	tc_close(b);
	stop(s);
	sl_fixture_free(&f);
}

/* ---- metrics ------------------------------------------------------------- */

static void
test_metrics_show_the_store_health_queue_rows_and_restarts(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	int a, b, port = -1;
	pid_t store;

	sl_fixture_make(&f, "store-ops");
	s = start(&f, "--metrics-listen 127.0.0.1:0");
	REQUIRE(s);
	port = ts_metrics_port(s);
	REQUIRE(port > 0);
	a = client(s, "alice");
	b = client(s, "bob");
	REQUIRE(a >= 0 && b >= 0);
	CHECK(say(a, b, "one"));
	CHECK(say(a, b, "two"));
	CHECK(ts_wait_sample(port, "parley_store_rows_total", 2) == 2);
	CHECK(ts_sample("parley_store_up") == 1);
	CHECK(ts_sample("parley_store_queue_requests") == 0);
	CHECK(ts_sample("parley_store_restarts_total") == 0);
	CHECK(ts_sample("parley_store_commits_total") >= 1);
	CHECK(
	    strstr(ts_scraped(), "# TYPE parley_store_queue_requests gauge\n"));
	/* A store killed is respawned, counted, and up again. */
	store = sl_store_pid(s, f.db);
	REQUIRE(store > 0);
	CHECK(kill(store, SIGKILL) == 0);
	CHECK(ts_wait_sample(port, "parley_store_restarts_total", 1) == 1);
	CHECK(ts_wait_sample(port, "parley_store_up", 1) == 1);
	CHECK(say(a, b, "three"));
	CHECK(ts_wait_sample(port, "parley_store_rows_total", 3) == 3);
	tc_close(a);
	tc_close(b);
	ts_free(s);
	sl_fixture_free(&f);
}

/* ---- flow control -------------------------------------------------------- */

/* A store that stops committing (here SIGSTOP; a full disk or a busy
 * database alike) holds writers back only until --stall-timeout: then it
 * is declared stalled, chat goes on (a sender's ring fills twice over
 * meanwhile), and once it runs again it logs how many messages it did not
 * archive, counts them, rejoins and archives what comes after. */
static void
test_a_stopped_store_is_declared_stalled_and_chat_goes_on_without_it(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	char line[512], want[64], pad[1001];
	const char *p;
	int a, b, port = -1;
	long long lost = -1;
	pid_t store = -1;

	sl_fixture_make(&f, "store-ops");
	s = start(&f, "--flood-rate 0 --outbox-size 262144 --stall-timeout 500 "
		      "--db-delay 5 --sendq 67108864 "
		      "--metrics-listen 127.0.0.1:0");
	REQUIRE(s);
	port = ts_metrics_port(s);
	a = client(s, "alice");
	b = client(s, "bob");
	if (!CHECK(port > 0 && a >= 0 && b >= 0))
		goto out;
	CHECK(say(a, b, "before the stop"));
	CHECK(sl_sql_wait(f.db,
			  "SELECT count(*) FROM messages WHERE text = 'before "
			  "the stop'",
			  1, T_WAIT_MS) == 0);
	store = sl_store_pid(s, f.db);
	if (!CHECK(store > 0) || !CHECK(kill(store, SIGSTOP) == 0))
		goto out;
	/* About 600 KB through a 256 KiB ring: alice's session must wait
	 * for the store until it is declared stalled. */
	memset(pad, 'x', 1000);
	pad[1000] = '\0';
	for (int i = 1; i <= 600; i++)
		if (!CHECK(tc_send(a, "%d %.990s\n", i, pad) == 0))
			break;
	CHECK(tc_expect(b, "> 600 xxx", NULL, 0, 6 * T_WAIT_MS) > 0);
	snprintf(want, sizeof(want), "store %d stalled: ", (int)store);
	CHECK(ts_log_wait(s, want, T_WAIT_MS) == 0);
	CHECK(kill(store, SIGCONT) == 0);
	store = -1;
	/* One line says what it lost, and the counter agrees. */
	if (CHECK(ts_log_wait(s, "not archived; archiving again", T_WAIT_MS) ==
		  0) &&
	    ts_log_line(s, "not archived; archiving again", line,
			sizeof(line)) == 0 &&
	    (p = strstr(line, "fell behind: ")) != NULL) {
		p += strlen("fell behind: ");
		if (strncmp(p, "at least ", 9) == 0)
			p += 9;
		lost = atoll(p);
	}
	CHECKF(lost > 0, "lost %lld", lost);
	CHECK(ts_log_count(s, "not archived; archiving again") == 1);
	CHECK(ts_wait_sample(port, "parley_store_unarchived_total", lost) ==
	      lost);
	CHECK(ts_sample("parley_stalled_readers_total") == 1);
	/* It archives again after its rejoin; what it had is still there. */
	CHECK(say(a, b, "after the rejoin"));
	CHECK(sl_sql_wait(f.db,
			  "SELECT count(*) FROM messages WHERE text = 'after "
			  "the rejoin'",
			  1, T_WAIT_MS) == 0);
	CHECK(sl_sql_int(f.db, "SELECT count(*) FROM messages WHERE text = "
			       "'before the stop'") == 1);
out:
	if (store > 0)
		kill(store, SIGCONT);
	tc_close(a);
	tc_close(b);
	ts_free(s);
	sl_fixture_free(&f);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "store_ops", model_args, sizeof(model_args), suite);
	RUN(test_a_topic_survives_a_sigterm_restart_with_who_set_it_and_when);
	RUN(test_a_topic_outlives_its_room_being_empty);
	RUN(test_with_user_the_store_opens_its_database_as_that_user);
	RUN(test_a_reload_gives_the_running_store_history_days_and_store_private);
	RUN(test_metrics_show_the_store_health_queue_rows_and_restarts);
	RUN(test_a_stopped_store_is_declared_stalled_and_chat_goes_on_without_it);
	return tl_summary(suite);
}
