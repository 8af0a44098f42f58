/*
 * Integration tests of IRCv3 CHATHISTORY against the real parleyd with a
 * database of the test's own: every selector by msgid and by timestamp
 * (one table), the limit and its ISUPPORT bound, empty batches, the FAIL
 * replies, history read back after a SIGTERM restart, and the batch a
 * join replays (--history) to clients with batch and server-time.
 */
#include "../irc.h"
#include "../storelib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS
#define CAPS "batch server-time message-tags echo-message draft/chathistory"

static char t_model[256];

/* ---- fixtures ------------------------------------------------------------ */

/* A fresh database in its own directory; db_free removes it. */
struct db {
	char dir[64];
	char args[256];
};

static int
db_make(struct db *d, const char *extra)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/parley-chathist.XXXXXX");
	if (!mkdtemp(d->dir))
		return 0;
	snprintf(d->args, sizeof(d->args), "--db %s/parley.db %s", d->dir,
		 extra ? extra : "");
	return 1;
}

static void
db_free(const struct db *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	CHECK(system(cmd) == 0);
}

/* A message as its author saw it come back (echo-message). */
struct said {
	char msgid[64];
	char time[40];
	long long ms;
};

#define N_SAID 10

/* The value of tag name= in line (up to ';' or ' '), into out. */
static int
tag_of(const char *line, const char *name, char *out, size_t n)
{
	char key[32];
	const char *p, *end;

	snprintf(key, sizeof(key), "%s=", name);
	if (line[0] != '@' || !(p = strstr(line, key)))
		return 0;
	p += strlen(key);
	end = p + strcspn(p, "; ");
	snprintf(out, n, "%.*s", (int)(end - p), p);
	return 1;
}

/* "YYYY-MM-DDThh:mm:ss.sssZ" as ms since 1970; -1 if it is not. */
static long long
time_ms(const char *s)
{
	struct tm tm = {0};
	int ms;

	if (sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Says m1..mN, one wall-clock millisecond apart: the server stamps a
 * message when it reads it, on the same clock, so once the clock shows
 * a later millisecond than message k's time, k+1 is stamped later (a
 * wait for the clock, not a sleep standing in for an event). */
static int
say_all(int fd, const char *room, struct said *said, int n)
{
	char want[128], got[1024];

	for (int k = 1; k <= n; k++) {
		irc_send(fd, "PRIVMSG %s :m%d", room, k);
		snprintf(want, sizeof(want),
			 "@time=*;msgid=* :alice!* PRIVMSG %s :m%d", room, k);
		if (!irc_until_at(__FILE__, __LINE__, fd, want, got,
				  sizeof(got)))
			return 0;
		if (!CHECK(tag_of(got, "msgid", said[k].msgid,
				  sizeof(said[k].msgid)) &&
			   tag_of(got, "time", said[k].time,
				  sizeof(said[k].time)) &&
			   (said[k].ms = time_ms(said[k].time)) > 0))
			return 0;
		/* At most a millisecond: spin on the clock itself. */
		while (wall_ms() <= said[k].ms)
			continue;
	}
	return 1;
}

/* Sends line and reads its batch: the message numbers in it, in order,
 * into got ("3 4 5"); each line must be in the batch, with the msgid and
 * time its message had when it was said. Returns 1, or 0 after a failed
 * check. */
static int
fetch(int fd, const char *line, const char *room, const struct said *said,
      int nsaid, char *got, size_t n)
{
	char want[256], in[1024], ref[32], end[64], tag[64];
	size_t used = 0;

	got[0] = '\0';
	irc_send(fd, "%s", line);
	snprintf(want, sizeof(want), S "BATCH +* chathistory %s", room);
	if (!IRC_NEXT_OUT(fd, want, in))
		return 0;
	snprintf(ref, sizeof(ref), "%s", strchr(in, '+') + 1);
	*strchr(ref, ' ') = '\0';
	snprintf(end, sizeof(end), S "BATCH -%s", ref);
	snprintf(want, sizeof(want),
		 "@batch=%s;time=*;msgid=* :alice!* PRIVMSG %s :m*", ref, room);
	for (;;) {
		int k;
		if (!IRC_NEXT_OUT(fd, "*", in))
			return 0;
		if (strcmp(in, end) == 0)
			return 1;
		if (!CHECKF(irc_match(want, in), "%s: \"%s\" is not \"%s\"",
			    line, in, want))
			return 0;
		k = atoi(strrchr(in, ':') + 2);
		if (!CHECKF(k >= 1 && k <= nsaid, "%s: m%d?", line, k))
			return 0;
		CHECKF(tag_of(in, "msgid", tag, sizeof(tag)) &&
			   strcmp(tag, said[k].msgid) == 0,
		       "%s: m%d has msgid %s, was %s", line, k, tag,
		       said[k].msgid);
		CHECKF(tag_of(in, "time", tag, sizeof(tag)) &&
			   strcmp(tag, said[k].time) == 0,
		       "%s: m%d has time %s, was %s", line, k, tag,
		       said[k].time);
		used += (size_t)snprintf(got + used, n - used, "%s%d",
					 used ? " " : "", k);
		if (used >= n)
			return CHECKF(0, "%s: too many lines", line);
	}
}

/* alice (CAPS) in #h, on a server with a database and extra. */
static struct ts_server *
start_with_alice(struct db *d, const char *extra, int *alice)
{
	struct ts_server *s;

	if (!CHECK(db_make(d, extra)))
		return NULL;
	s = irc_start(t_model, d->args);
	if (!CHECK(s)) {
		db_free(d);
		return NULL;
	}
	*alice = irc_login(s, "alice", CAPS);
	if (!CHECK(*alice >= 0)) {
		ts_free(s);
		db_free(d);
		return NULL;
	}
	irc_send(*alice, "JOIN #h");
	if (!IRC_UNTIL(*alice, S "366 alice #h :*")) {
		tc_close(*alice);
		ts_free(s);
		db_free(d);
		return NULL;
	}
	return s;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_each_selector_picks_its_messages_by_msgid_and_by_timestamp(void)
{
	/* refs: message numbers (0: "*"; -1: none); want: message numbers,
	 * oldest first. The same rows hold for timestamps, since every
	 * message has a time of its own. */
	static const struct {
		const char *sub;
		int ref, ref2;
		unsigned limit;
		const char *want;
	} rows[] = {
	    {"LATEST", 0, -1, 3, "8 9 10"},
	    {"LATEST", 0, -1, 100, "1 2 3 4 5 6 7 8 9 10"},
	    {"LATEST", 7, -1, 10, "8 9 10"},
	    {"LATEST", 7, -1, 2, "9 10"},
	    {"LATEST", 10, -1, 5, ""},
	    {"BEFORE", 5, -1, 2, "3 4"},
	    {"BEFORE", 2, -1, 5, "1"},
	    {"BEFORE", 1, -1, 5, ""},
	    {"AFTER", 7, -1, 2, "8 9"},
	    {"AFTER", 3, -1, 100, "4 5 6 7 8 9 10"},
	    {"AFTER", 10, -1, 5, ""},
	    {"AROUND", 5, -1, 4, "3 4 5 6"},
	    {"AROUND", 5, -1, 5, "3 4 5 6 7"},
	    {"AROUND", 5, -1, 1, "5"},
	    {"AROUND", 1, -1, 3, "1 2 3"},
	    {"AROUND", 10, -1, 4, "7 8 9 10"},
	    {"BETWEEN", 2, 6, 10, "3 4 5"},
	    {"BETWEEN", 2, 6, 2, "3 4"},
	    {"BETWEEN", 6, 2, 2, "4 5"},
	    {"BETWEEN", 6, 2, 10, "3 4 5"},
	    {"BETWEEN", 3, 4, 10, ""},
	    {"BETWEEN", 4, 4, 10, ""},
	};
	struct said said[N_SAID + 1];
	struct db d;
	int a;
	struct ts_server *s = start_with_alice(&d, NULL, &a);

	REQUIRE(s);
	if (say_all(a, "#h", said, N_SAID)) {
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			for (int by_time = 0; by_time < 2; by_time++) {
				char r1[80], r2[80] = "", line[256], got[256];
				int k1 = rows[i].ref, k2 = rows[i].ref2;
				if (k1 == 0 && by_time)
					continue; /* "*" is neither */
				if (k1 == 0)
					snprintf(r1, sizeof(r1), "*");
				else if (by_time)
					snprintf(r1, sizeof(r1), "timestamp=%s",
						 said[k1].time);
				else
					snprintf(r1, sizeof(r1), "msgid=%s",
						 said[k1].msgid);
				if (k2 > 0 && by_time)
					snprintf(r2, sizeof(r2),
						 " timestamp=%s",
						 said[k2].time);
				else if (k2 > 0)
					snprintf(r2, sizeof(r2), " msgid=%s",
						 said[k2].msgid);
				snprintf(line, sizeof(line),
					 "CHATHISTORY %s #h %s%s %u",
					 rows[i].sub, r1, r2, rows[i].limit);
				if (!fetch(a, line, "#h", said, N_SAID, got,
					   sizeof(got)))
					break;
				CHECKF(strcmp(got, rows[i].want) == 0,
				       "row %zu (%s): got \"%s\", want \"%s\"",
				       i, line, got, rows[i].want);
			}
		}
		/* A msgid and a timestamp together; lower case. */
		char line[256], got[256];
		snprintf(line, sizeof(line),
			 "chathistory between #H msgid=%s timestamp=%s 10",
			 said[8].msgid, said[4].time);
		if (fetch(a, line, "#h", said, N_SAID, got, sizeof(got)))
			CHECKF(strcmp(got, "5 6 7") == 0, "%s: got \"%s\"",
			       line, got);
	}
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

static void
test_the_limit_is_bounded_by_the_isupport_chathistory_token(void)
{
	struct said said[106];
	struct db d;
	int a;
	struct ts_server *s =
	    start_with_alice(&d, "--flood-rate 0 --flood-burst 1000", &a);
	char want[64], got[1024];

	REQUIRE(s);
	/* The welcome said how much one request may ask for. */
	int b = tc_connect(s->irc_port);
	CHECK(b >= 0);
	irc_send(b, "NICK bob");
	irc_send(b, "USER bob 0 * :Bob");
	CHECK(IRC_UNTIL(b, S "005 bob TARGMAX=* CHATHISTORY=100 "
			     "MSGREFTYPES=msgid,timestamp :*"));
	tc_close(b);
	for (int k = 1; k <= 105; k++)
		irc_send(a, "PRIVMSG #h :m%d", k);
	for (int k = 1; k <= 105; k++) {
		snprintf(want, sizeof(want),
			 "@time=*;msgid=* :alice!* "
			 "PRIVMSG #h :m%d",
			 k);
		if (!irc_until_at(__FILE__, __LINE__, a, want, got,
				  sizeof(got)))
			break;
		CHECK(tag_of(got, "msgid", said[k].msgid,
			     sizeof(said[k].msgid)) &&
		      tag_of(got, "time", said[k].time, sizeof(said[k].time)));
	}
	/* More than the bound is that many (not an error). */
	char list[1024], expect[1024];
	size_t used = 0;
	for (int k = 6; k <= 105; k++)
		used += (size_t)snprintf(expect + used, sizeof(expect) - used,
					 "%s%d", used ? " " : "", k);
	if (fetch(a, "CHATHISTORY LATEST #h * 5000", "#h", said, 105, list,
		  sizeof(list)))
		CHECKF(strcmp(list, expect) == 0, "got \"%s\"", list);
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

static void
test_a_room_without_messages_or_a_nickname_gives_an_empty_batch(void)
{
	struct db d;
	int a;
	struct ts_server *s = start_with_alice(&d, NULL, &a);

	REQUIRE(s);
	int fds[] = {a};
	static const struct irc_step steps[] = {
	    {0,
	     "CHATHISTORY LATEST #h * 10",
	     {{0, S "BATCH +h1 chathistory #h"}, {0, S "BATCH -h1"}}},
	    {0,
	     "CHATHISTORY BEFORE #h timestamp=2020-01-01T00:00:00.000Z 10",
	     {{0, S "BATCH +h2 chathistory #h"}, {0, S "BATCH -h2"}}},
	    /* Private messages are not served back. */
	    {0,
	     "CHATHISTORY LATEST bob * 10",
	     {{0, S "BATCH +h3 chathistory bob"}, {0, S "BATCH -h3"}}},
	    {0, "PING :done", {{0, S "PONG " IRC_SERVER " :done"}}},
	};
	CHECK(IRC_EXCHANGE(fds, steps));
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

static void
test_bad_requests_get_one_fail_line_each(void)
{
	struct said said[3];
	struct db d;
	int a;
	struct ts_server *s = start_with_alice(&d, NULL, &a);

	REQUIRE(s);
	/* #other exists, but alice is not in it. */
	int b = irc_login(s, "bob", NULL);
	CHECK(b >= 0);
	irc_send(b, "JOIN #other");
	CHECK(IRC_UNTIL(b, S "366 bob #other :*"));
	CHECK(say_all(a, "#h", said, 2));
	static const struct {
		const char *send, *want;
	} rows[] = {
	    {"CHATHISTORY", S "FAIL CHATHISTORY NEED_MORE_PARAMS * :*"},
	    {"CHATHISTORY LATEST #h *",
	     S "FAIL CHATHISTORY NEED_MORE_PARAMS LATEST :Missing parameters"},
	    {"CHATHISTORY NEWEST #h * 10",
	     S "FAIL CHATHISTORY UNKNOWN_COMMAND NEWEST :Unknown command"},
	    {"CHATHISTORY LATEST #h * 0",
	     S "FAIL CHATHISTORY INVALID_PARAMS LATEST 0 :Invalid limit"},
	    {"CHATHISTORY LATEST #h * many",
	     S "FAIL CHATHISTORY INVALID_PARAMS LATEST many :Invalid limit"},
	    {"CHATHISTORY BEFORE #h * 10",
	     S "FAIL CHATHISTORY INVALID_PARAMS BEFORE * :Invalid message "
	       "reference"},
	    {"CHATHISTORY AFTER #h id=abc 10",
	     S "FAIL CHATHISTORY INVALID_PARAMS AFTER id=abc :Invalid message "
	       "reference"},
	    {"CHATHISTORY AFTER #h timestamp=yesterday 10",
	     S "FAIL CHATHISTORY INVALID_PARAMS AFTER timestamp=yesterday "
	       ":Invalid message reference"},
	    {"CHATHISTORY AFTER #h timestamp=2026-13-01T00:00:00.000Z 10",
	     S "FAIL CHATHISTORY INVALID_PARAMS AFTER "
	       "timestamp=2026-13-01T00:00:00.000Z :Invalid message reference"},
	    {"CHATHISTORY BEFORE #h msgid=nosuchmessage 10",
	     S "FAIL CHATHISTORY MESSAGE_ERROR BEFORE #h msgid=nosuchmessage "
	       ":Unknown message reference"},
	    {"CHATHISTORY BETWEEN #h timestamp=2026-01-01T00:00:00Z "
	     "msgid=nosuchmessage 10",
	     S "FAIL CHATHISTORY MESSAGE_ERROR BETWEEN #h msgid=nosuchmessage "
	       ":Unknown message reference"},
	    {"CHATHISTORY LATEST #other * 10",
	     S "FAIL CHATHISTORY INVALID_TARGET LATEST #other :Messages could "
	       "not be retrieved"},
	    {"CHATHISTORY LATEST #nosuch * 10",
	     S "FAIL CHATHISTORY INVALID_TARGET LATEST #nosuch :Messages could "
	       "not be retrieved"},
	    {"CHATHISTORY LATEST bad!nick * 10", S
	     "FAIL CHATHISTORY INVALID_TARGET LATEST bad!nick :Messages could "
	     "not be retrieved"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int batches = 0;
		irc_send(a, "%s", rows[i].send);
		CHECKF(
		    irc_next_at(__FILE__, __LINE__, a, rows[i].want, NULL, 0),
		    "row %zu: %s", i, rows[i].send);
		/* Nothing else: no batch, no second line. */
		CHECKF(IRC_SYNC_AT_MATCHING(a, "*", &batches) == 0,
		       "row %zu: %d more lines", i, batches);
	}
	tc_close(b);
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

static void
test_without_a_database_chathistory_fails_with_words_that_say_why(void)
{
	struct ts_server *s = irc_start(t_model, "--db none");
	REQUIRE(s);
	int a = irc_login(s, "alice", CAPS);
	REQUIRE(a >= 0);
	irc_send(a, "JOIN #h");
	CHECK(IRC_UNTIL(a, S "366 alice #h :*"));
	irc_send(a, "CHATHISTORY LATEST #h * 10");
	CHECK(IRC_NEXT(a, S "FAIL CHATHISTORY MESSAGE_ERROR LATEST #h :This "
			    "server keeps no history"));
	tc_close(a);
	ts_free(s);
}

static void
test_history_survives_a_sigterm_restart_and_reads_back_by_old_msgids(void)
{
	struct said said[4];
	struct db d;
	int a;
	struct ts_server *s = start_with_alice(&d, NULL, &a);
	char got[256];

	REQUIRE(s);
	CHECK(say_all(a, "#h", said, 3));
	tc_close(a);
	CHECK(ts_stop(s, SIGTERM, WAIT) == 0);
	ts_free(s);
	s = irc_start(t_model, d.args);
	if (CHECK(s)) {
		a = irc_login(s, "alice", CAPS);
		CHECK(a >= 0);
		irc_send(a, "JOIN #h");
		CHECK(IRC_UNTIL(a, S "366 alice #h :*"));
		if (fetch(a, "CHATHISTORY LATEST #h * 10", "#h", said, 3, got,
			  sizeof(got)))
			CHECKF(strcmp(got, "1 2 3") == 0, "got \"%s\"", got);
		char line[128];
		snprintf(line, sizeof(line),
			 "CHATHISTORY BEFORE #h msgid=%s 10", said[3].msgid);
		if (fetch(a, line, "#h", said, 3, got, sizeof(got)))
			CHECKF(strcmp(got, "1 2") == 0, "got \"%s\"", got);
		tc_close(a);
		ts_free(s);
	}
	db_free(&d);
}

static void
test_a_join_replays_history_in_a_batch_with_the_original_times(void)
{
	struct said said[6];
	struct db d;
	int a;
	struct ts_server *s = start_with_alice(&d, "--history 3", &a);
	char want[256], line[1024], ref[32], tag[64];

	REQUIRE(s);
	CHECK(say_all(a, "#h", said, 5));
	/* batch and server-time: the newest three, as they were said. */
	int b = irc_login(s, "bob", "batch server-time message-tags");
	REQUIRE(b >= 0);
	irc_send(b, "JOIN #h");
	CHECK(IRC_UNTIL(b, "*:bob!*@* JOIN #h"));
	if (irc_until_at(__FILE__, __LINE__, b, S "BATCH +* chathistory #h",
			 line, sizeof(line))) {
		snprintf(ref, sizeof(ref), "%s", strchr(line, '+') + 1);
		*strchr(ref, ' ') = '\0';
		for (int k = 3; k <= 5; k++) {
			snprintf(want, sizeof(want),
				 "@batch=%s;time=%s;msgid=%s :alice!* PRIVMSG "
				 "#h :m%d",
				 ref, said[k].time, said[k].msgid, k);
			CHECK(IRC_NEXT(b, want));
		}
		snprintf(want, sizeof(want), S "BATCH -%s", ref);
		CHECK(IRC_NEXT(b, want));
	}
	/* server-time alone: the same lines, not in a batch. */
	int c = irc_login(s, "carol", "server-time");
	REQUIRE(c >= 0);
	irc_send(c, "JOIN #h");
	if (CHECK(IRC_UNTIL(c, "@time=* :alice!* PRIVMSG #h :m3"))) {
		CHECK(IRC_NEXT_OUT(c, "@time=* :alice!* PRIVMSG #h :m4", line));
		CHECK(tag_of(line, "time", tag, sizeof(tag)) &&
		      strcmp(tag, said[4].time) == 0);
	}
	/* draft/chathistory: none (the client asks, with CHATHISTORY);
	 * no caps: none (old lines would look new). */
	const char *none[] = {CAPS, NULL};
	const char *nicks[] = {"dave", "erin"};
	for (int i = 0; i < 2; i++) {
		int fd = irc_login(s, nicks[i], none[i]);
		int said_lines = 0;
		if (!CHECK(fd >= 0))
			continue;
		irc_send(fd, "JOIN #h");
		CHECK(IRC_SYNC_AT_MATCHING(fd, "*PRIVMSG #h*", &said_lines) >
		      0);
		CHECKF(said_lines == 0, "%s got %d old lines", nicks[i],
		       said_lines);
		tc_close(fd);
	}
	tc_close(c);
	tc_close(b);
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

static void
test_targets_lists_the_rooms_by_their_latest_message_in_the_window(void)
{
	struct said hs[3], is[2];
	struct db d;
	int a;
	struct ts_server *s = start_with_alice(&d, NULL, &a);
	char line[256], want[256];

	REQUIRE(s);
	irc_send(a, "JOIN #i,#quiet");
	CHECK(IRC_UNTIL(a, S "366 alice #quiet :*"));
	CHECK(say_all(a, "#i", is, 1));
	CHECK(say_all(a, "#h", hs, 2));
	/* rows: the window (message times; NULL: far away) and the rooms
	 * in it, oldest latest message first. */
	const struct {
		const char *lo, *hi;
		unsigned limit;
		const char *want[3];
	} rows[] = {
	    {NULL, NULL, 10, {"#i", "#h", NULL}},
	    {NULL, NULL, 1, {"#i", NULL}},
	    {is[1].time, NULL, 10, {"#h", NULL}},
	    {NULL, hs[1].time, 10, {"#i", NULL}},
	    {NULL, is[1].time, 10, {NULL}},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *times[3] = {is[1].time, hs[2].time, NULL};
		snprintf(line, sizeof(line),
			 "CHATHISTORY TARGETS timestamp=%s timestamp=%s %u",
			 rows[i].hi ? rows[i].hi : "2999-01-01T00:00:00Z",
			 rows[i].lo ? rows[i].lo : "2000-01-01T00:00:00.0Z",
			 rows[i].limit);
		irc_send(a, "%s", line);
		CHECKF(IRC_NEXT(a, S "BATCH +* draft/chathistory-targets"),
		       "row %zu", i);
		for (int k = 0; rows[i].want[k]; k++) {
			const char *time = strcmp(rows[i].want[k], "#i") == 0
					       ? times[0]
					       : times[1];
			snprintf(want, sizeof(want),
				 "@batch=* " S "CHATHISTORY TARGETS %s %s",
				 rows[i].want[k], time);
			CHECKF(IRC_NEXT(a, want), "row %zu: %s", i, line);
		}
		CHECKF(IRC_NEXT(a, S "BATCH -*"), "row %zu: %s", i, line);
	}
	irc_send(a, "CHATHISTORY TARGETS timestamp=now * 10");
	CHECK(IRC_NEXT(a, S "FAIL CHATHISTORY INVALID_PARAMS TARGETS "
			    "timestamp=now :Invalid message reference"));
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

static void
test_notices_and_actions_come_back_as_they_were_sent(void)
{
	struct db d;
	int a;
	struct ts_server *s = start_with_alice(&d, NULL, &a);

	REQUIRE(s);
	int fds[] = {a};
	static const struct irc_step steps[] = {
	    {0,
	     "NOTICE #h :heads up",
	     {{0, "@* :alice!* NOTICE #h :heads up"}}},
	    {0,
	     "PRIVMSG #h :\001ACTION waves\001",
	     {{0, "@* :alice!* PRIVMSG #h :\001ACTION waves\001"}}},
	    {0,
	     "CHATHISTORY LATEST #h * 10",
	     {{0, S "BATCH +h1 chathistory #h"},
	      {0,
	       "@batch=h1;time=*;msgid=* :alice!~alice@* NOTICE #h :heads up"},
	      {0, "@batch=h1;time=*;msgid=* :alice!~alice@* PRIVMSG #h "
		  ":\001ACTION waves\001"},
	      {0, S "BATCH -h1"}}},
	};
	CHECK(IRC_EXCHANGE(fds, steps));
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

static void
test_with_the_store_down_chathistory_fails_and_chat_goes_on(void)
{
	struct db d;
	int a;
	struct ts_server *s = start_with_alice(&d, NULL, &a);
	char db[128], away[160];

	REQUIRE(s);
	snprintf(db, sizeof(db), "%s/parley.db", d.dir);
	snprintf(away, sizeof(away), "%s/parley.away", d.dir);
	pid_t store = sl_store_pid(s, db);
	CHECK(store > 0);
	/* Its database gone (a directory in its place), its respawns fail
	 * until it is back. */
	if (store > 0 && CHECK(rename(db, away) == 0) &&
	    CHECK(mkdir(db, 0755) == 0)) {
		CHECK(kill(store, SIGKILL) == 0);
		CHECK(ts_log_wait(s, "cannot be", WAIT) == 0);
		int fds[] = {a};
		static const struct irc_step steps[] = {
		    {0,
		     "CHATHISTORY LATEST #h * 10",
		     {{0, S "FAIL CHATHISTORY MESSAGE_ERROR LATEST #h :History "
			    "is unavailable right now; try again soon"}}},
		    {0,
		     "PRIVMSG #h :still here",
		     {{0, "@* :alice!* PRIVMSG #h :still here"}}},
		};
		CHECK(IRC_EXCHANGE(fds, steps));
		CHECK(rmdir(db) == 0);
		CHECK(rename(away, db) == 0);
	}
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "irc_chathistory", t_model, sizeof(t_model), suite);
	RUN(test_each_selector_picks_its_messages_by_msgid_and_by_timestamp);
	RUN(test_the_limit_is_bounded_by_the_isupport_chathistory_token);
	RUN(test_a_room_without_messages_or_a_nickname_gives_an_empty_batch);
	RUN(test_bad_requests_get_one_fail_line_each);
	RUN(test_without_a_database_chathistory_fails_with_words_that_say_why);
	RUN(test_history_survives_a_sigterm_restart_and_reads_back_by_old_msgids);
	RUN(test_a_join_replays_history_in_a_batch_with_the_original_times);
	RUN(test_targets_lists_the_rooms_by_their_latest_message_in_the_window);
	RUN(test_notices_and_actions_come_back_as_they_were_sent);
	RUN(test_with_the_store_down_chathistory_fails_and_chat_goes_on);
	return tl_summary(suite);
}
