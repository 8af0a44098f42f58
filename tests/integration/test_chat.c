/*
 * test_chat: the chat protocol of the README, line by line, on the real
 * parleyd: nicknames, rooms, private messages, notices, history, help and
 * errors, input sanitising, flood control, the per-address limit and a
 * storm of random bytes. Every test starts its own server; the process
 * model comes from PARLEY_TEST_ARGS (empty: one process per client).
 */
#include "../testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long to wait for a line that should come: only reached on failure. */
#define CHAT_WAIT_MS 5000
#define CHAT_LINE    4096
#define CHAT_KEEP    64 /* lines kept for a failure report */

static char model_args[256];

static struct ts_server *
start(const char *args)
{
	return ts_start_model(model_args, args);
}

/* ---- helpers ------------------------------------------------------------ */

/* Lines read from one client, for assertions and failure reports. */
struct lines {
	char line[CHAT_KEEP][CHAT_LINE];
	int n;	   /* kept, at most CHAT_KEEP */
	int total; /* read */
};

static void
lines_add(struct lines *l, const char *s)
{
	if (l->n < CHAT_KEEP)
		snprintf(l->line[l->n++], CHAT_LINE, "%s", s);
	l->total++;
}

/* Copies s with control and non-ASCII bytes as \xNN, for messages. */
static const char *
escape(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s && o + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7F)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, n - o, "\\x%02X", c);
	}
	out[o] = '\0';
	return out;
}

static void
lines_report(const char *file, int line, const struct lines *l,
	     const char *what)
{
	char esc[CHAT_LINE * 4];

	tl_fail(file, line, "%s; received %d line(s)%s", what, l->total,
		l->total ? ":" : "");
	for (int i = 0; i < l->n; i++)
		fprintf(stderr, "      | %s\n",
			escape(l->line[i], esc, sizeof(esc)));
	if (l->total > l->n)
		fprintf(stderr, "      | ... (%d more)\n", l->total - l->n);
}

/* Reads lines until one contains substr (exact: equals it). Lines before
 * it go to seen (may be NULL); the match goes to out. Records a failure
 * with every line received when none matches in time. Returns 1 or 0. */
static int
wait_line(const char *file, int line, int fd, const char *substr, int exact,
	  struct lines *seen, char *out, size_t n)
{
	static struct lines scratch;
	struct lines *l = seen ? seen : &scratch;
	long long deadline = tl_now_ms() + CHAT_WAIT_MS;
	char buf[CHAT_LINE], what[CHAT_LINE + 128], esc[CHAT_LINE];

	if (!seen)
		l->n = l->total = 0;
	for (;;) {
		long long left = deadline - tl_now_ms();
		int r =
		    tc_readline(fd, buf, sizeof(buf), left > 0 ? (int)left : 0);
		if (r < 0) {
			snprintf(what, sizeof(what),
				 "wanted a line %s \"%s\", got %s",
				 exact ? "equal to" : "containing",
				 escape(substr, esc, sizeof(esc)),
				 r == -2 ? "EOF" : "a timeout");
			lines_report(file, line, l, what);
			return 0;
		}
		if (exact ? strcmp(buf, substr) == 0 : !!strstr(buf, substr)) {
			if (out)
				snprintf(out, n, "%s", buf);
			return 1;
		}
		lines_add(l, buf);
	}
}

#define EXPECT(fd, substr)                                                     \
	wait_line(__FILE__, __LINE__, fd, substr, 0, NULL, NULL, 0)
#define EXPECT_OUT(fd, substr, out)                                            \
	wait_line(__FILE__, __LINE__, fd, substr, 0, NULL, out, sizeof(out))
#define EXPECT_LINE(fd, exact)                                                 \
	wait_line(__FILE__, __LINE__, fd, exact, 1, NULL, NULL, 0)
/* Collects into l the lines before the one containing marker. */
#define COLLECT(fd, marker, l)                                                 \
	wait_line(__FILE__, __LINE__, fd, marker, 0, l, NULL, 0)

/* None of the collected lines contains bad. */
static int
lines_lack(const char *file, int line, const struct lines *l, const char *bad)
{
	char what[CHAT_LINE];

	for (int i = 0; i < l->n; i++) {
		if (strstr(l->line[i], bad)) {
			snprintf(what, sizeof(what),
				 "line %d contains \"%s\" but should not", i,
				 bad);
			lines_report(file, line, l, what);
			return 0;
		}
	}
	return 1;
}

#define LACKS(l, bad) lines_lack(__FILE__, __LINE__, l, bad)

/* How many collected lines contain s. */
static int
lines_count(const struct lines *l, const char *s)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		if (strstr(l->line[i], s))
			n++;
	return n;
}

/* Joins and renames the client to nick; -1 (after a failed check) if
 * either does not happen. */
static int
join_as(int port, const char *nick)
{
	char old[64], want[160];
	int fd = tc_join(port, old, sizeof(old));

	if (!CHECKF(fd >= 0, "cannot join as %s", nick))
		return -1;
	tc_send(fd, "/nick %s\n", nick);
	snprintf(want, sizeof(want), "-!- %s is now known as %s", old, nick);
	if (!EXPECT_LINE(fd, want)) {
		tc_close(fd);
		return -1;
	}
	return fd;
}

/* Joins room and waits for the client's own join notice. */
static int
join_room(int fd, const char *nick, const char *room)
{
	char want[160];

	tc_send(fd, "/join %s\n", room);
	snprintf(want, sizeof(want), "-!- %s joined %s", nick, room);
	return EXPECT_LINE(fd, want);
}

static int
send_raw(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n =
		    send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* prefix, count copies of unit, suffix: into out (n bytes). */
static const char *
repeat(char *out, size_t n, const char *prefix, const char *unit, int count,
       const char *suffix)
{
	size_t o = (size_t)snprintf(out, n, "%s", prefix);

	for (int i = 0; i < count && o + strlen(unit) < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s", unit);
	snprintf(out + o, n - o, "%s", suffix);
	return out;
}

/* A line ends the collection on fd that is certain to come after every
 * reply to what was sent before: an unknown command is answered by the
 * client's own session once its earlier commands are done. */
#define MARK_CMD  "/zz-end-of-reply\n"
#define MARK_LINE "-!- error: unknown command"

static void
close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		tc_close(fds[i]);
}

/* ---- nicknames ---------------------------------------------------------- */

static void
test_nick_change_is_seen_by_room_members_and_by_the_client_itself(void)
{
	struct ts_server *s = start("");
	char old[64], want[160];
	struct lines l;
	REQUIRE(s);
	int a = tc_join(s->port, old, sizeof(old));
	int b = join_as(s->port, "bob"), c = join_as(s->port, "carol");
	int d = join_as(s->port, "dave");
	REQUIRE(a >= 0 && b >= 0 && c >= 0 && d >= 0);
	/* dave shares no room with a. */
	tc_send(d, "/part\n");
	CHECK(EXPECT_LINE(d, "-!- dave left #lobby"));
	tc_send(a, "/nick alice\n");
	snprintf(want, sizeof(want), "-!- %s is now known as alice", old);
	CHECK(EXPECT_LINE(a, want));
	CHECK(EXPECT_LINE(b, want));
	CHECK(EXPECT_LINE(c, want));
	/* The new name is used from now on, even for a line sent in the
	 * same write as the /nick. */
	tc_send(a, "hello as alice\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> hello as alice"));
	tc_send(a, "/nick alicia\nhello as alicia\n");
	CHECK(EXPECT_LINE(b, "-!- alice is now known as alicia"));
	CHECK(EXPECT_LINE(b, "#lobby <alicia> hello as alicia"));
	/* bob shares two rooms with her and is told once. */
	REQUIRE(join_room(a, "alicia", "#den") && join_room(b, "bob", "#den"));
	tc_send(a, "/nick alice\n");
	CHECK(EXPECT_LINE(b, "-!- alicia is now known as alice"));
	tc_send(b, MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(b, MARK_LINE, &l));
	CHECK(LACKS(&l, "is now known as"));
	tc_send(d, MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(d, MARK_LINE, &l));
	CHECK(LACKS(&l, "is now known as alice"));
	int fds[] = {a, b, c, d};
	close_all(fds, 4);
	ts_free(s);
}

static void
test_taken_nick_is_refused_case_insensitively(void)
{
	struct ts_server *s = start("");
	char line[CHAT_LINE];
	REQUIRE(s);
	int a = join_as(s->port, "Alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	const char *tries[] = {"Alice", "alice", "ALICE", "aLiCe"};
	for (int i = 0; i < 4; i++) {
		tc_send(b, "/nick %s\n", tries[i]);
		if (CHECK(EXPECT_OUT(b, "-!- error: ", line)))
			CHECKF(strstr(line, "already taken"),
			       "/nick %s: got \"%s\"", tries[i], line);
	}
	/* bob is still bob and still talks. */
	tc_send(b, "still bob\n");
	CHECK(EXPECT_LINE(a, "#lobby <bob> still bob"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_invalid_nicks_are_refused(void)
{
	struct ts_server *s = start("");
	char line[CHAT_LINE];
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	const char *bad[] = {
	    "abcdefghijklmnopqrstuvwxyz01234", /* 31 bytes */
	    "1abc",			       /* leading digit */
	    "-abc",			       /* leading hyphen */
	    "bad!nick",
	    "bad.nick",
	    "bad#nick",
	    "b\xC3\xA4r",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tc_send(b, "/nick %s\n", bad[i]);
		CHECKF(EXPECT_OUT(b, "-!- error: ", line), "/nick %s accepted",
		       bad[i]);
	}
	/* No one saw a rename; RFC 2812's specials are letters here, and
	 * the longest valid name is accepted. */
	tc_send(b, "/nick [b]\\o`b^_{|}-9\n");
	CHECK(EXPECT_LINE(b, "-!- bob is now known as [b]\\o`b^_{|}-9"));
	tc_send(b, "/nick abcdefghijklmnopqrstuvwxyz0123\n");
	CHECK(EXPECT_LINE(b, "-!- [b]\\o`b^_{|}-9 is now known as "
			     "abcdefghijklmnopqrstuvwxyz0123"));
	l.n = l.total = 0;
	CHECK(COLLECT(a, "is now known as abcdefghijklmnopqrstuvwxyz0123", &l));
	/* Before it, of bob's renames only the one to the specials. */
	CHECK(lines_count(&l, "-!- bob is now known as ") == 1);
	CHECK(lines_count(&l, "-!- bob is now known as [b]") == 1);
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_nick_without_argument_gives_usage_error_and_connection_stays_usable(void)
{
	struct ts_server *s = start("");
	char line[CHAT_LINE];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	tc_send(b, "/nick\n");
	if (CHECK(EXPECT_OUT(b, "-!- error: ", line)))
		CHECKF(strstr(line, "/nick"), "no usage in \"%s\"", line);
	tc_send(b, "/nick   \n");
	CHECK(EXPECT(b, "-!- error: "));
	tc_send(b, "after the error\n");
	CHECK(EXPECT_LINE(a, "#lobby <bob> after the error"));
	tc_send(b, "/nick bobby\n");
	CHECK(EXPECT_LINE(a, "-!- bob is now known as bobby"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

/* Reads fd until its own rename to name or an error; 1 won, 0 refused,
 * -1 neither. */
static int
nick_outcome(int fd, const char *self, const char *name, char *err, size_t n)
{
	char buf[CHAT_LINE], won[160];
	long long deadline = tl_now_ms() + CHAT_WAIT_MS;

	snprintf(won, sizeof(won), "-!- %s is now known as %s", self, name);
	for (;;) {
		long long left = deadline - tl_now_ms();
		if (tc_readline(fd, buf, sizeof(buf),
				left > 0 ? (int)left : 0) < 0)
			return -1;
		if (strcmp(buf, won) == 0)
			return 1;
		if (strncmp(buf, "-!- error: ", 11) == 0) {
			snprintf(err, n, "%s", buf);
			return 0;
		}
	}
}

static void
test_simultaneous_nick_to_the_same_name_exactly_one_wins(void)
{
	enum { ROUNDS = 20 };
	struct ts_server *s = start("");
	char nick[2][64] = {"racer0", "racer1"}, name[64], err[2][CHAT_LINE];
	REQUIRE(s);
	int fd[2] = {join_as(s->port, nick[0]), join_as(s->port, nick[1])};
	REQUIRE(fd[0] >= 0 && fd[1] >= 0);
	for (int round = 0; round < ROUNDS; round++) {
		int res[2];
		snprintf(name, sizeof(name), "SameName%d", round);
		tc_send(fd[0], "/nick %s\n", name);
		tc_send(fd[1], "/nick %s\n", name);
		for (int i = 0; i < 2; i++) {
			err[i][0] = '\0';
			res[i] = nick_outcome(fd[i], nick[i], name, err[i],
					      sizeof(err[i]));
		}
		CHECKF(res[0] >= 0 && res[1] >= 0,
		       "round %d: no answer (%d, %d)", round, res[0], res[1]);
		CHECKF(res[0] + res[1] == 1,
		       "round %d: %d clients became %s (want exactly 1)", round,
		       res[0] + res[1], name);
		for (int i = 0; i < 2; i++) {
			if (res[i] == 1)
				snprintf(nick[i], sizeof(nick[i]), "%s", name);
			else if (res[i] == 0)
				CHECKF(strstr(err[i], "already taken"),
				       "round %d: loser got \"%s\"", round,
				       err[i]);
		}
		if (res[0] != 1 && res[1] != 1)
			break;
	}
	close_all(fd, 2);
	ts_free(s);
}

/* ---- rooms -------------------------------------------------------------- */

static void
test_join_creates_a_room_and_announces_to_its_members(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	tc_send(a, "/join #den\n");
	CHECK(EXPECT_LINE(a, "-!- alice joined #den"));
	tc_send(b, "/join #den\n");
	CHECK(EXPECT_LINE(b, "-!- bob joined #den"));
	CHECK(EXPECT_LINE(a, "-!- bob joined #den"));
	tc_send(a, "/rooms\n");
	CHECK(EXPECT(a, "-!- #den: 2 members"));
	/* carol, who is not in #den, hears of neither join. */
	tc_send(b, "/join #lobby\nback in lobby\n");
	CHECK(EXPECT_LINE(b, "-!- now talking in #lobby"));
	l.n = l.total = 0;
	CHECK(COLLECT(c, "#lobby <bob> back in lobby", &l));
	CHECK(LACKS(&l, "#den"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_room_message_reaches_only_members_and_names_the_room(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(a, "alice", "#den") && join_room(b, "bob", "#den"));
	tc_send(a, "hi den\n");
	CHECK(EXPECT_LINE(b, "#den <alice> hi den"));
	/* bob answers: alice gets that, and not her own line before it. */
	tc_send(b, "hi alice\n");
	l.n = l.total = 0;
	CHECK(COLLECT(a, "#den <bob> hi alice", &l));
	CHECK(LACKS(&l, "hi den"));
	/* alice's later line in #lobby reaches carol after the #den one
	 * would have. */
	tc_send(a, "/join #lobby\nin the lobby\n");
	l.n = l.total = 0;
	CHECK(COLLECT(c, "#lobby <alice> in the lobby", &l));
	CHECK(LACKS(&l, "hi den"));
	CHECK(LACKS(&l, "hi alice"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_client_in_two_rooms_hears_both_and_talks_in_the_room_joined_last(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(b, "bob", "#one") && join_room(c, "carol", "#two"));
	REQUIRE(join_room(a, "alice", "#one") && join_room(a, "alice", "#two"));
	tc_send(b, "from one\n");
	CHECK(EXPECT_LINE(a, "#one <bob> from one"));
	tc_send(c, "from two\n");
	CHECK(EXPECT_LINE(a, "#two <carol> from two"));
	tc_send(a, "to the last room\n");
	CHECK(EXPECT_LINE(c, "#two <alice> to the last room"));
	/* bob, in #one only, did not get it: alice's next line in #one
	 * comes after it. */
	tc_send(a, "/join #one\nnow in one\n");
	CHECK(EXPECT_LINE(a, "-!- now talking in #one"));
	l.n = l.total = 0;
	CHECK(COLLECT(b, "#one <alice> now in one", &l));
	CHECK(LACKS(&l, "to the last room"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_join_of_an_already_joined_room_switches_the_current_room(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(a, "alice", "#one") && join_room(b, "bob", "#one"));
	REQUIRE(join_room(a, "alice", "#two"));
	tc_send(a, "/join #one\n");
	CHECK(EXPECT_LINE(a, "-!- now talking in #one"));
	tc_send(a, "said in one\n");
	l.n = l.total = 0;
	CHECK(COLLECT(b, "#one <alice> said in one", &l));
	/* Switching is not joining again. */
	CHECK(LACKS(&l, "alice joined"));
	tc_send(a, "/join #lobby\n");
	CHECK(EXPECT_LINE(a, "-!- now talking in #lobby"));
	tc_send(a, "said in lobby\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> said in lobby"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_part_announces_and_an_empty_room_disappears_from_rooms(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(a, "alice", "#tmp") && join_room(b, "bob", "#tmp"));
	tc_send(b, "/part #tmp gone home\n");
	CHECK(EXPECT_LINE(b, "-!- bob left #tmp (gone home)"));
	CHECK(EXPECT_LINE(a, "-!- bob left #tmp (gone home)"));
	tc_send(a, "/rooms\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	CHECKF(lines_count(&l, "-!- #tmp: 1 member") == 1,
	       "/rooms does not list #tmp with 1 member");
	/* Without a room, /part leaves the current one (text that is not a
	 * room is the reason), and the current room becomes one alice is
	 * still in. */
	REQUIRE(join_room(a, "alice", "#tmp2") && join_room(b, "bob", "#tmp2"));
	tc_send(a, "/part see you\n");
	CHECK(EXPECT_LINE(b, "-!- alice left #tmp2 (see you)"));
	CHECK(EXPECT_LINE(a, "-!- alice left #tmp2 (see you)"));
	CHECK(EXPECT(a, "-!- now talking in #"));
	tc_send(a, "/join #tmp\n/part\n");
	CHECK(EXPECT_LINE(a, "-!- now talking in #tmp"));
	CHECK(EXPECT_LINE(a, "-!- alice left #tmp"));
	CHECK(EXPECT_LINE(a, "-!- now talking in #lobby"));
	tc_send(a, "back in the lobby\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> back in the lobby"));
	tc_send(a, "/rooms\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	CHECK(LACKS(&l, "-!- #tmp:"));
	CHECKF(lines_count(&l, "-!- #tmp2: 1 member") == 1,
	       "/rooms does not list #tmp2 (bob) with 1 member");
	CHECKF(lines_count(&l, "-!- #lobby: 2 members") == 1,
	       "/rooms does not list #lobby with 2 members");
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_rooms_lists_every_room_with_member_count_and_topic(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(a, "alice", "#den") && join_room(b, "bob", "#den"));
	tc_send(a, "/topic cosy corner\n");
	CHECK(EXPECT_LINE(a, "-!- alice set the topic of #den: cosy corner"));
	tc_send(c, "/rooms\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(c, MARK_LINE, &l));
	CHECKF(lines_count(&l, "-!- #den: 2 members, topic: cosy corner") == 1,
	       "no \"-!- #den: 2 members, topic: cosy corner\"");
	CHECKF(lines_count(&l, "-!- #lobby: 3 members, no topic") == 1,
	       "no \"-!- #lobby: 3 members, no topic\"");
	CHECKF(l.n == 2, "/rooms gave %d lines for 2 rooms", l.n);
	if (l.n != 2)
		lines_report(__FILE__, __LINE__, &l, "the /rooms reply");
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

/* The nicks of a "-!- members of ROOM:" reply, space separated. */
static int
who_has(const char *line, const char *nick)
{
	const char *p = strchr(line, ':');
	size_t n = strlen(nick);

	while (p && (p = strstr(p, nick)) != NULL) {
		/* @ and + mark operators and voiced members. */
		if ((p[-1] == ' ' || p[-1] == '@' || p[-1] == '+') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

static void
test_who_lists_the_members_of_a_room(void)
{
	struct ts_server *s = start("");
	char line[CHAT_LINE];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(a, "alice", "#den") && join_room(b, "bob", "#den"));
	tc_send(c, "/who\n");
	if (CHECK(EXPECT_OUT(c, "-!- members of #lobby:", line)))
		CHECKF(who_has(line, "alice") && who_has(line, "bob") &&
			   who_has(line, "carol"),
		       "/who: \"%s\"", line);
	tc_send(c, "/who #den\n");
	if (CHECK(EXPECT_OUT(c, "-!- members of #den:", line)))
		CHECKF(who_has(line, "alice") && who_has(line, "bob") &&
			   !who_has(line, "carol"),
		       "/who #den: \"%s\"", line);
	/* alice's current room is #den. */
	tc_send(a, "/who\n");
	CHECK(EXPECT(a, "-!- members of #den:"));
	tc_send(c, "/who #nowhere\n");
	CHECK(EXPECT(c, "-!- error: "));
	tc_send(c, "still here\n");
	CHECK(EXPECT_LINE(a, "#lobby <carol> still here"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_who_splits_a_long_member_list_over_several_lines(void)
{
	enum { N = 30 };
	struct ts_server *s = start("");
	int fd[N], seen[N] = {0}, lines = 0;
	char nick[32];
	struct lines l;
	REQUIRE(s);
	for (int i = 0; i < N; i++) {
		snprintf(nick, sizeof(nick), "longnick_member_%02d", i);
		fd[i] = join_as(s->port, nick);
		REQUIRE(fd[i] >= 0);
	}
	tc_send(fd[0], "/who\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(fd[0], MARK_LINE, &l));
	for (int k = 0; k < l.n; k++) {
		if (strncmp(l.line[k], "-!- members of #lobby:", 22) != 0)
			continue;
		lines++;
		for (int i = 0; i < N; i++) {
			snprintf(nick, sizeof(nick), "longnick_member_%02d", i);
			seen[i] += who_has(l.line[k], nick);
		}
	}
	CHECKF(lines >= 2, "%d /who lines for %d long nicks", lines, N);
	for (int i = 0; i < N; i++)
		CHECKF(seen[i] == 1, "member %d listed %d times", i, seen[i]);
	close_all(fd, N);
	ts_free(s);
}

static void
test_topic_is_shown_set_and_announced(void)
{
	/* Without +t: any member sets the topic. */
	struct ts_server *s = start("--room-modes +n");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(a, "alice", "#den") && join_room(b, "bob", "#den"));
	tc_send(a, "/topic\n");
	CHECK(EXPECT_LINE(a, "-!- #den has no topic"));
	tc_send(a, "/topic tea at five\n");
	CHECK(EXPECT_LINE(a, "-!- alice set the topic of #den: tea at five"));
	CHECK(EXPECT_LINE(b, "-!- alice set the topic of #den: tea at five"));
	tc_send(b, "/topic\n");
	CHECK(EXPECT_LINE(b, "-!- topic of #den: tea at five"));
	/* A new member is told the topic after joining. */
	tc_send(c, "/join #den\n");
	CHECK(EXPECT_LINE(c, "-!- carol joined #den"));
	CHECK(EXPECT_LINE(c, "-!- topic of #den: tea at five"));
	tc_send(b, "/topic tea at six\n");
	CHECK(EXPECT_LINE(c, "-!- bob set the topic of #den: tea at six"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_topic_takes_a_room_first_and_a_dash_clears_it(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(a, "alice", "#den"));
	/* alice talks in #den and sets the topic of #lobby. */
	tc_send(a, "/topic #lobby lobby talk\n");
	CHECK(EXPECT_LINE(b, "-!- alice set the topic of #lobby: lobby talk"));
	tc_send(a, "/topic\n");
	CHECK(EXPECT_LINE(a, "-!- #den has no topic"));
	tc_send(a, "/topic #LOBBY\n");
	CHECK(EXPECT_LINE(a, "-!- topic of #lobby: lobby talk"));
	/* A dash clears it; clearing no topic says so. */
	tc_send(b, "/topic -\n");
	CHECK(EXPECT_LINE(a, "-!- bob cleared the topic of #lobby"));
	CHECK(EXPECT_LINE(b, "-!- bob cleared the topic of #lobby"));
	tc_send(a, "/topic #lobby\n");
	CHECK(EXPECT_LINE(a, "-!- #lobby has no topic"));
	tc_send(a, "/topic #den -\n");
	CHECK(EXPECT_LINE(a, "-!- #den has no topic"));
	tc_send(a, "/rooms\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	CHECK(lines_count(&l, "-!- #lobby: 2 members, no topic") == 1);
	/* Only rooms one is in. */
	tc_send(b, "/topic #den hijack\n");
	CHECK(EXPECT_LINE(b, "-!- error: you are not in #den"));
	tc_send(a, "/topic\n");
	CHECK(EXPECT_LINE(a, "-!- #den has no topic"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_invalid_room_names_are_refused(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	const char *bad[] = {
	    "den",
	    "#",
	    "#bad,name",
	    "#bad:name",
	    "#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX", /* 50 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tc_send(a, "/join %s\n" MARK_CMD, bad[i]);
		l.n = l.total = 0;
		CHECK(COLLECT(a, MARK_LINE, &l));
		CHECKF(lines_count(&l, "-!- error: ") == 1 &&
			   lines_count(&l, "alice joined") == 0,
		       "/join %s was not refused", bad[i]);
	}
	/* 49 bytes and every allowed kind are fine. */
	tc_send(a,
		"/join #abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW\n");
	CHECK(EXPECT_LINE(
	    a, "-!- alice joined "
	       "#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"));
	tc_send(a, "/join #a-b_c.9!/\xC3\xA9t\xC3\xA9\n");
	CHECK(EXPECT_LINE(a, "-!- alice joined #a-b_c.9!/\xC3\xA9t\xC3\xA9"));
	tc_send(a, "/join ##\n");
	CHECK(EXPECT_LINE(a, "-!- alice joined ##"));
	tc_send(a, "/join #lobby\nusable\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> usable"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_room_names_are_case_insensitive(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(a, "alice", "#Den"));
	/* bob's #DEN is alice's #Den: one room, under its first spelling. */
	tc_send(b, "/join #DEN\n");
	CHECK(EXPECT(a, "-!- bob joined #"));
	CHECK(EXPECT(b, "-!- bob joined #"));
	tc_send(b, "one room\n");
	CHECK(EXPECT_LINE(a, "#Den <bob> one room"));
	tc_send(a, "/rooms\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	CHECKF(lines_count(&l, "-!- #Den: 2 members") == 1,
	       "/rooms does not list #Den with 2 members");
	if (lines_count(&l, "-!- #Den: 2 members") != 1)
		lines_report(__FILE__, __LINE__, &l, "the /rooms reply");
	/* /join of a joined room in another case switches to it. */
	tc_send(a, "/join #lobby\n/join #dEn\n");
	CHECK(EXPECT_LINE(a, "-!- now talking in #lobby"));
	CHECK(EXPECT_LINE(a, "-!- now talking in #Den"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_joins_and_parts_are_quiet_in_rooms_over_join_notices(void)
{
	struct ts_server *s = start("--join-notices 2");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(a, "alice", "#big") && join_room(b, "bob", "#big"));
	CHECK(EXPECT_LINE(a, "-!- bob joined #big"));
	/* The third member makes #big bigger than 2: only carol is told. */
	CHECK(join_room(c, "carol", "#big"));
	tc_send(c, "/part #big\n");
	CHECK(EXPECT_LINE(c, "-!- carol left #big"));
	tc_send(b, "after carol\n");
	l.n = l.total = 0;
	CHECK(COLLECT(a, "#big <bob> after carol", &l));
	CHECK(LACKS(&l, "carol joined"));
	CHECK(LACKS(&l, "carol left"));
	/* Nickname changes are always announced. */
	CHECK(join_room(c, "carol", "#big"));
	tc_send(c, "/nick caroline\n");
	CHECK(EXPECT_LINE(a, "-!- carol is now known as caroline"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_room_limits_are_enforced_per_client_and_per_server(void)
{
	struct ts_server *s = start("--max-rooms 3 --max-rooms-per-client 2");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(a, "alice", "#one"));
	tc_send(a, "/join #two\n");
	CHECK(EXPECT_LINE(a, "-!- error: you are in too many rooms (max 2)"));
	/* #lobby, #one, #two: the server is full of rooms. */
	REQUIRE(join_room(b, "bob", "#two"));
	tc_send(a, "/part #lobby\n");
	CHECK(EXPECT_LINE(a, "-!- alice left #lobby"));
	tc_send(a, "/join #three\n");
	CHECK(
	    EXPECT_LINE(a, "-!- error: too many rooms on this server (max 3)"));
	CHECK(join_room(a, "alice", "#two"));
	tc_send(a, "usable\n");
	CHECK(EXPECT_LINE(b, "#two <alice> usable"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_a_new_client_starts_in_the_lobby_even_when_rooms_are_full(void)
{
	struct ts_server *s = start("--max-rooms 2");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice");
	REQUIRE(a >= 0);
	REQUIRE(join_room(a, "alice", "#one"));
	tc_send(a, "/part #lobby\n");
	CHECK(EXPECT_LINE(a, "-!- alice left #lobby"));
	/* #lobby is gone and #one, #two fill the server. */
	REQUIRE(join_room(a, "alice", "#two"));
	int b = tc_connect(s->port);
	REQUIRE(b >= 0);
	CHECK(EXPECT(b, "-!- welcome to parley, "));
	tc_send(b, MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(b, MARK_LINE, &l));
	CHECKF(lines_count(&l, " joined #lobby") == 1, "not in #lobby");
	CHECK(LACKS(&l, "-!- error: "));
	/* Other rooms are still limited. */
	tc_send(b, "/join #three\n");
	CHECK(
	    EXPECT_LINE(b, "-!- error: too many rooms on this server (max 2)"));
	CHECK(join_room(a, "alice", "#lobby"));
	tc_send(b, "in the lobby\n");
	CHECK(EXPECT(a, "> in the lobby"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_topic_over_300_bytes_is_refused(void)
{
	struct ts_server *s = start("");
	char topic[400];
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	memset(topic, 't', 300);
	topic[300] = '\0';
	tc_send(a, "/topic %s\n", topic);
	CHECK(EXPECT(b, "-!- alice set the topic of #lobby: tttt"));
	tc_send(b, "/topic\n");
	char want[512];
	snprintf(want, sizeof(want), "-!- topic of #lobby: %s", topic);
	CHECK(EXPECT_LINE(b, want));
	/* The limits table: over 300 bytes is "-!- error: ...". */
	memset(topic, 'u', 301);
	topic[301] = '\0';
	tc_send(a, "/topic %s\n" MARK_CMD, topic);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	CHECKF(lines_count(&l, "-!- error: ") == 1,
	       "a 301-byte topic was not refused");
	if (lines_count(&l, "-!- error: ") != 1)
		lines_report(__FILE__, __LINE__, &l, "alice's lines");
	tc_send(b, "/topic\n");
	CHECK(EXPECT_LINE(b, want));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_rooms_are_listed_by_name_whatever_their_case(void)
{
	static const char *const want[] = {"#alpha", "#Beta", "#lobby",
					   "#zeta"};
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice");
	REQUIRE(a >= 0);
	REQUIRE(join_room(a, "alice", "#zeta") &&
		join_room(a, "alice", "#Beta") &&
		join_room(a, "alice", "#alpha"));
	tc_send(a, "/rooms\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	for (int i = 0; i < 4; i++) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "-!- %s: ", want[i]);
		if (!CHECKF(l.n == 4 &&
				strncmp(l.line[i], prefix, strlen(prefix)) == 0,
			    "line %d is not %s", i, want[i])) {
			lines_report(__FILE__, __LINE__, &l,
				     "the /rooms reply");
			break;
		}
	}
	tc_close(a);
	ts_free(s);
}

static void
test_rooms_says_no_rooms_when_there_are_none(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = join_as(s->port, "alice");
	REQUIRE(a >= 0);
	tc_send(a, "/part\n");
	CHECK(EXPECT_LINE(a, "-!- alice left #lobby"));
	tc_send(a, "/rooms\n");
	CHECK(EXPECT_LINE(a, "-!- no rooms"));
	/* Talking without a room is refused, and /join still works. */
	tc_send(a, "anyone?\n");
	CHECK(EXPECT(a, "-!- error: "));
	CHECK(join_room(a, "alice", "#lobby"));
	tc_close(a);
	ts_free(s);
}

static void
test_message_right_after_join_goes_to_the_new_room(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(b, "bob", "#new"));
	/* One write: the message waits for the join to complete. */
	tc_send(a, "/join #new\nfirst words\n/join #other\nsecond\n"
		   "/join #new\nthird\n");
	CHECK(EXPECT_LINE(b, "-!- alice joined #new"));
	CHECK(EXPECT_LINE(b, "#new <alice> first words"));
	CHECK(EXPECT_LINE(b, "#new <alice> third"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_part_of_a_room_you_are_not_in_is_refused(void)
{
	struct ts_server *s = start("");
	char line[CHAT_LINE];
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(b, "bob", "#den"));
	tc_send(a, "/part #nowhere\n");
	CHECK(EXPECT(a, "-!- error: "));
	/* #den exists, alice is not in it. */
	tc_send(a, "/part #den\n");
	if (CHECK(EXPECT_OUT(a, "-!- error: ", line)))
		CHECKF(strstr(line, "#den"), "\"%s\"", line);
	tc_send(b, "den still has bob\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(b, MARK_LINE, &l));
	CHECK(LACKS(&l, "alice left"));
	tc_send(a, "usable\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> usable"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

/* ---- private messages and actions --------------------------------------- */

static void
test_private_messages_go_both_ways(void)
{
	struct ts_server *s = start("");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	tc_send(a, "/msg bob psst, bob\n");
	CHECK(EXPECT_LINE(a, "-> *bob* psst, bob"));
	CHECK(EXPECT_LINE(b, "*alice* psst, bob"));
	tc_send(b, "/msg alice what is it\n");
	CHECK(EXPECT_LINE(b, "-> *alice* what is it"));
	CHECK(EXPECT_LINE(a, "*bob* what is it"));
	/* Private means carol saw neither. */
	tc_send(a, "public now\n");
	l.n = l.total = 0;
	CHECK(COLLECT(c, "#lobby <alice> public now", &l));
	CHECK(LACKS(&l, "psst"));
	CHECK(LACKS(&l, "what is it"));
	/* Nicknames match regardless of case; the echo names the real one. */
	tc_send(a, "/msg BoB loud\n");
	CHECK(EXPECT_LINE(a, "-> *bob* loud"));
	CHECK(EXPECT_LINE(b, "*alice* loud"));
	/* Sharing no room is no obstacle. */
	tc_send(c, "/part\n");
	CHECK(EXPECT_LINE(c, "-!- carol left #lobby"));
	tc_send(a, "/msg carol still there?\n");
	CHECK(EXPECT_LINE(c, "*alice* still there?"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_msg_to_an_unknown_nick_is_an_error(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	tc_send(a, "/msg nobody hello?\n");
	CHECK(EXPECT_LINE(a, "-!- error: no such nick nobody"));
	tc_send(a, "/msg bob\n");
	CHECK(EXPECT(a, "-!- error: "));
	tc_send(a, "/msg bob ok now\n");
	CHECK(EXPECT_LINE(b, "*alice* ok now"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_me_is_sent_as_an_action_in_the_current_room(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	tc_send(a, "/me waves hello\n");
	CHECK(EXPECT_LINE(b, "#lobby * alice waves hello"));
	REQUIRE(join_room(a, "alice", "#den") && join_room(b, "bob", "#den"));
	tc_send(a, "/me sits down\n");
	CHECK(EXPECT_LINE(b, "#den * alice sits down"));
	tc_send(a, "/me\n");
	CHECK(EXPECT(a, "-!- error: "));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_double_slash_sends_a_line_starting_with_a_slash(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	tc_send(a, "//join is how you join\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> /join is how you join"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

/* ---- notices ------------------------------------------------------------ */

static void
test_quit_with_a_reason_is_announced_and_closes_the_connection(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	int d = join_as(s->port, "dave");
	REQUIRE(d >= 0);
	tc_send(d, "/part\n");
	CHECK(EXPECT_LINE(d, "-!- dave left #lobby"));
	tc_send(a, "/quit gone fishing\n");
	CHECK(EXPECT_LINE(b, "-!- alice quit (gone fishing)"));
	/* dave shared no room with alice. */
	struct lines l = {.n = 0};
	tc_send(d, MARK_CMD);
	CHECK(COLLECT(d, MARK_LINE, &l));
	CHECK(LACKS(&l, "alice quit"));
	CHECK(tc_wait_eof(a, CHAT_WAIT_MS) == 0);
	tc_send(c, "/quit\n");
	CHECK(EXPECT_LINE(b, "-!- carol quit (quit)"));
	CHECK(tc_wait_eof(c, CHAT_WAIT_MS) == 0);
	/* The name is free again. */
	int a2 = join_as(s->port, "alice");
	CHECK(a2 >= 0);
	int fds[] = {a, b, c, a2, d};
	close_all(fds, 5);
	ts_free(s);
}

/* Reasons longer than the README's 256 bytes, and what bob sees: the
 * reason cut to the longest run of whole characters that fits. */
static const struct {
	const char *cmd, *notice;
} reason_rows[] = {
    {"/part #den x", "-!- alice left #den (x"},
    {"/quit x", "-!- alice quit (x"},
};

static void
test_part_and_quit_reasons_are_cut_at_256_bytes_on_a_character(void)
{
	struct ts_server *s = start("");
	char cmd[1024], want[1024], got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(a, "alice", "#den") && join_room(b, "bob", "#den"));
	for (size_t i = 0; i < sizeof(reason_rows) / sizeof(reason_rows[0]);
	     i++) {
		/* "x" and 127 of 300 e-acutes: 255 bytes; one more is 257. */
		repeat(cmd, sizeof(cmd), reason_rows[i].cmd, "\xC3\xA9", 300,
		       "");
		repeat(want, sizeof(want), reason_rows[i].notice, "\xC3\xA9",
		       127, ")");
		tc_send(a, "%s\n", cmd);
		if (CHECK(EXPECT_OUT(b, "-!- alice ", got)))
			CHECKF(strcmp(got, want) == 0, "row %zu: \"%s\"", i,
			       escape(got, esc, sizeof(esc)));
	}
	CHECK(tc_wait_eof(a, CHAT_WAIT_MS) == 0);
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

/* alice leaves without /quit, by closing (reset: with a RST); bob, who
 * shares two rooms with her, is told once with reason. */
static void
dropped_connection_is_announced(int reset, const char *reason)
{
	struct ts_server *s = start("");
	char want[128];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(join_room(a, "alice", "#den") && join_room(b, "bob", "#den"));
	struct lines l = {.n = 0};
	if (reset) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else {
		/* Closing with unread input would send a RST: read it all. */
		tc_send(a, MARK_CMD);
		CHECK(COLLECT(a, MARK_LINE, &l));
	}
	tc_close(a);
	l.n = l.total = 0;
	snprintf(want, sizeof(want), "-!- alice quit (%s)", reason);
	CHECK(EXPECT_LINE(b, want));
	tc_send(b, MARK_CMD);
	CHECK(COLLECT(b, MARK_LINE, &l));
	CHECK(LACKS(&l, "alice quit"));
	/* Her name is free again. */
	a = join_as(s->port, "alice");
	CHECK(a >= 0);
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_closed_connection_is_announced_as_connection_closed(void)
{
	dropped_connection_is_announced(0, "connection closed");
}

static void
test_reset_connection_is_announced_as_connection_lost(void)
{
	dropped_connection_is_announced(1, "connection lost");
}

/* ---- history ------------------------------------------------------------ */

/* "#room [history HH:MM:SSZ] <nick> text" with digits where they belong;
 * returns text, or NULL. */
static const char *
history_text(const char *line, const char *room, const char *nick)
{
	size_t rl = strlen(room), nl = strlen(nick);
	const char *p = line;

	if (strncmp(p, room, rl) != 0 || strncmp(p + rl, " [history ", 10))
		return NULL;
	p += rl + 10;
	for (int i = 0; i < 8; i++) {
		int colon = i == 2 || i == 5;
		if (colon ? p[i] != ':' : (p[i] < '0' || p[i] > '9'))
			return NULL;
	}
	p += 8;
	if (strncmp(p, "Z] <", 4) || strncmp(p + 4, nick, nl) ||
	    strncmp(p + 4 + nl, "> ", 2))
		return NULL;
	return p + 4 + nl + 2;
}

static void
test_history_replays_the_last_5_messages_in_order_before_live_ones(void)
{
	struct ts_server *s = start("--history 5");
	char want[64];
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(a, "alice", "#hist") && join_room(b, "bob", "#hist"));
	for (int i = 0; i < 8; i++)
		tc_send(a, "old message %d\n", i);
	CHECK(EXPECT_LINE(b, "#hist <alice> old message 7"));
	tc_send(c, "/join #hist\n");
	CHECK(EXPECT_LINE(b, "-!- carol joined #hist"));
	tc_send(a, "live message\n");
	l.n = l.total = 0;
	CHECK(COLLECT(c, "#hist <alice> live message", &l));
	int k = 0, joined = -1;
	for (int i = 0; i < l.n; i++) {
		if (strcmp(l.line[i], "-!- carol joined #hist") == 0)
			joined = i;
		if (!strstr(l.line[i], "[history"))
			continue;
		const char *text = history_text(l.line[i], "#hist", "alice");
		snprintf(want, sizeof(want), "old message %d", 3 + k);
		CHECKF(text && strcmp(text, want) == 0,
		       "history line %d is \"%s\", want ...<alice> %s", k,
		       l.line[i], want);
		CHECKF(joined >= 0, "history before the join notice");
		k++;
	}
	CHECKF(k == 5, "%d history lines, want 5", k);
	if (k != 5)
		lines_report(__FILE__, __LINE__, &l, "carol's lines");
	CHECK(LACKS(&l, "#hist <alice> old message"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_history_replays_actions_as_actions(void)
{
	struct ts_server *s = start("--history 5");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(a, "alice", "#hist") && join_room(b, "bob", "#hist"));
	tc_send(a, "said\n/me did\n");
	CHECK(EXPECT_LINE(b, "#hist * alice did"));
	CHECK(join_room(c, "carol", "#hist"));
	tc_send(a, "live\n");
	l.n = l.total = 0;
	CHECK(COLLECT(c, "#hist <alice> live", &l));
	int said = -1, did = -1;
	for (int i = 0; i < l.n; i++) {
		const char *t = history_text(l.line[i], "#hist", "alice");
		if (t && strcmp(t, "said") == 0)
			said = i;
		/* "#hist [history HH:MM:SSZ] * alice did" */
		if (strncmp(l.line[i], "#hist [history ", 15) == 0 &&
		    strlen(l.line[i]) == 15 + 11 + strlen("* alice did") &&
		    strcmp(l.line[i] + 26, "* alice did") == 0)
			did = i;
	}
	CHECKF(said >= 0 && did > said, "history: said at %d, did at %d", said,
	       did);
	if (!(said >= 0 && did > said))
		lines_report(__FILE__, __LINE__, &l, "carol's lines");
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_history_0_disables_the_replay(void)
{
	struct ts_server *s = start("--history 0");
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	REQUIRE(join_room(a, "alice", "#hist") && join_room(b, "bob", "#hist"));
	for (int i = 0; i < 3; i++)
		tc_send(a, "old message %d\n", i);
	CHECK(EXPECT_LINE(b, "#hist <alice> old message 2"));
	CHECK(join_room(c, "carol", "#hist"));
	CHECK(EXPECT_LINE(b, "-!- carol joined #hist"));
	tc_send(a, "live message\n");
	l.n = l.total = 0;
	CHECK(COLLECT(c, "#hist <alice> live message", &l));
	CHECK(LACKS(&l, "[history"));
	CHECK(LACKS(&l, "old message"));
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

/* ---- help and errors ---------------------------------------------------- */

static void
test_help_lists_every_command(void)
{
	struct ts_server *s = start("");
	const char *cmds[] = {"/nick",	"/join", "/part", "/rooms", "/who",
			      "/topic", "/msg",	 "/me",	  "/quit",  "/help"};
	char want[64];
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice");
	REQUIRE(a >= 0);
	tc_send(a, "/help\n" MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(want, sizeof(want), "-!- help: %s ", cmds[i]);
		CHECKF(lines_count(&l, want) == 1, "no \"%s...\" line", want);
	}
	for (int i = 0; i < l.n; i++)
		CHECKF(strncmp(l.line[i], "-!- help: ", 10) == 0,
		       "not a help line: \"%s\"", l.line[i]);
	/* The help names arguments as the usage errors and the README do. */
	CHECK(lines_count(&l, "-!- help: /part [#room] [reason] ") == 1);
	CHECK(lines_count(&l, "-!- help: /topic [#room] [text] ") == 1);
	tc_close(a);
	ts_free(s);
}

#define BAD_ROOM                                                               \
	"-!- error: invalid room name: # then 1-49 bytes without spaces, "     \
	"commas, colons or control characters"

/* What alice sends, in order, and the line she gets for it. */
static const struct {
	const char *send, *want;
} room_error_rows[] = {
    {"/who nope", BAD_ROOM},
    {"/part #bad,", BAD_ROOM},
    {"/topic #bad: text", BAD_ROOM},
    {"/who #nowhere", "-!- error: no such room #nowhere"},
    {"/part #nowhere", "-!- error: you are not in #nowhere"},
    {"/part", "-!- alice left #lobby"},
    {"/part", "-!- error: you are not in a room; /join #room"},
    {"/topic", "-!- error: you are not in a room; /join #room"},
    {"/who", "-!- error: you are not in a room; /who #room"},
    {"hello?", "-!- error: you are not in a room; /join #room"},
};

static void
test_room_errors_say_what_is_wrong_and_how_to_go_on(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = join_as(s->port, "alice");
	REQUIRE(a >= 0);
	for (size_t i = 0;
	     i < sizeof(room_error_rows) / sizeof(room_error_rows[0]); i++) {
		tc_send(a, "%s\n", room_error_rows[i].send);
		CHECKF(EXPECT_LINE(a, room_error_rows[i].want), "row %zu: %s",
		       i, room_error_rows[i].send);
	}
	tc_close(a);
	ts_free(s);
}

static void
test_unknown_command_is_an_error_and_the_connection_stays_usable(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	tc_send(a, "/frobnicate the widget\n");
	CHECK(EXPECT(a, "-!- error: "));
	tc_send(a, "/\n");
	CHECK(EXPECT(a, "-!- error: "));
	tc_send(a, "still usable\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> still usable"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_every_error_leaves_the_connection_usable(void)
{
	struct ts_server *s = start("");
	const char *bad[] = {
	    "/nick",	     "/nick 9lives", "/nick a b",
	    "/join",	     "/join nohash", "/part #nowhere",
	    "/who #nowhere", "/msg",	     "/msg nobody hi",
	    "/me",	     "/frobnicate",
	};
	enum { NBAD = sizeof(bad) / sizeof(bad[0]) };
	struct lines l;
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	for (int i = 0; i < NBAD; i++) {
		tc_send(a, "%s\n", bad[i]);
		tc_send(a, "after %d\n", i);
	}
	tc_send(a, "the end\n");
	/* Every command got exactly one error and every line went out. */
	l.n = l.total = 0;
	CHECK(COLLECT(b, "#lobby <alice> the end", &l));
	for (int i = 0; i < NBAD; i++) {
		char want[64];
		snprintf(want, sizeof(want), "#lobby <alice> after %d", i);
		CHECKF(l.n > i && strcmp(l.line[i], want) == 0,
		       "bob's line %d is not \"%s\"", i, want);
	}
	/* The help comes after every error; its last line ends the lot. */
	tc_send(a, "/help\n");
	l.n = l.total = 0;
	CHECK(COLLECT(a, "-!- help: /help ", &l));
	CHECKF(lines_count(&l, "-!- error: ") == NBAD,
	       "%d errors for %d bad commands", lines_count(&l, "-!- error: "),
	       NBAD);
	if (lines_count(&l, "-!- error: ") != NBAD)
		lines_report(__FILE__, __LINE__, &l, "alice's lines");
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

/* ---- bad input ---------------------------------------------------------- */

/* Sends raw bytes (a whole line) from a; returns bob's copy of it. */
static int
relay(int a, int b, const char *raw, size_t len, char *out, size_t n)
{
	if (!CHECK(send_raw(a, raw, len) == 0))
		return 0;
	/* The marker line right after tells when the line has come. */
	tc_send(a, "end of relay\n");
	struct lines l = {.n = 0};
	if (!COLLECT(b, "#lobby <alice> end of relay", &l))
		return 0;
	if (!CHECKF(l.n == 1 && strncmp(l.line[0], "#lobby <alice> ", 15) == 0,
		    "want one message before the marker, got %d", l.n)) {
		lines_report(__FILE__, __LINE__, &l, "bob's lines");
		return 0;
	}
	size_t take = strlen(l.line[0] + 15);
	if (take >= n)
		take = n - 1;
	memcpy(out, l.line[0] + 15, take);
	out[take] = '\0';
	return 1;
}

static int
has_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 1;
	return 0;
}

/* Checks that s is well-formed UTF-8 (no overlongs or surrogates). */
static int
utf8_valid(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80		      ? 1
			   : *s >= 0xC2 && *s <= 0xDF ? 2
			   : *s >= 0xE0 && *s <= 0xEF ? 3
			   : *s >= 0xF0 && *s <= 0xF4 ? 4
						      : 0;
		if (!n)
			return 0;
		for (size_t i = 1; i < n; i++)
			if ((s[i] & 0xC0) != 0x80)
				return 0;
		if ((n == 3 && s[0] == 0xE0 && s[1] < 0xA0) ||
		    (n == 3 && s[0] == 0xED && s[1] >= 0xA0) ||
		    (n == 4 && s[0] == 0xF0 && s[1] < 0x90) ||
		    (n == 4 && s[0] == 0xF4 && s[1] >= 0x90))
			return 0;
		s += n;
	}
	return 1;
}

/* The words appear in s in this order. */
static int
in_order(const char *s, const char *const *words, int n)
{
	for (int i = 0; i < n; i++) {
		const char *p = strstr(s, words[i]);
		if (!p)
			return 0;
		s = p + strlen(words[i]);
	}
	return 1;
}

static void
test_control_characters_and_escape_sequences_are_removed(void)
{
	struct ts_server *s = start("");
	char got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	static const char raw[] = "start \x1B[31mred\x1B[0m \x1B]0;title\x07"
				  "bell\x07 \x01\x02\x08\x0B\x0C\x1F\x7F"
				  "ctl lone\rcr \x1B"
				  "cend\r\n";
	if (relay(a, b, raw, sizeof(raw) - 1, got, sizeof(got))) {
		const char *words[] = {"start", "red", "bell", "ctl",
				       "lone",	"cr",  "end"};
		CHECKF(!has_controls(got), "controls left in \"%s\"",
		       escape(got, esc, sizeof(esc)));
		CHECKF(!strchr(got, 0x1B), "ESC left in \"%s\"",
		       escape(got, esc, sizeof(esc)));
		CHECKF(in_order(got, words, 7), "text lost: \"%s\"",
		       escape(got, esc, sizeof(esc)));
	}
	tc_send(a, "after controls\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> after controls"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_tabs_c1_controls_and_bidi_overrides_are_sanitised(void)
{
	struct ts_server *s = start("");
	char got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	/* TAB, C1 CSI (U+009B) and NEL (U+0085), RLO (U+202E), PDF
	 * (U+202C), LRI (U+2066), PDI (U+2069), RLM (U+200F), ALM
	 * (U+061C), LS (U+2028), PS (U+2029), BOM (U+FEFF); a ZWJ (U+200D)
	 * and an NBSP (U+00A0) are ordinary text and stay. */
	static const char raw[] =
	    "a\tb \xC2\x9B"
	    "31m c\xC2\x85 "
	    "\xE2\x80\xAE"
	    "evil\xE2\x80\xAC "
	    "\xE2\x81\xA6iso\xE2\x81\xA9 "
	    "\xE2\x80\x8Fm\xD8\x9Ck\xE2\x80\xA8l\xE2\x80\xA9"
	    "p\xEF\xBB\xBF "
	    "z\xE2\x80\x8Dj\xC2\xA0n\n";
	static const char want[] = "a b 31m c evil iso mklp "
				   "z\xE2\x80\x8Dj\xC2\xA0n";
	if (relay(a, b, raw, sizeof(raw) - 1, got, sizeof(got)))
		CHECKF(strcmp(got, want) == 0, "got \"%s\"",
		       escape(got, esc, sizeof(esc)));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_nul_bytes_are_removed(void)
{
	struct ts_server *s = start("");
	char got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	static const char raw[] = "nul\0in\0the\0\0middle\n";
	if (relay(a, b, raw, sizeof(raw) - 1, got, sizeof(got)))
		CHECKF(strcmp(got, "nulinthemiddle") == 0, "got \"%s\"",
		       escape(got, esc, sizeof(esc)));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_invalid_utf8_is_replaced_with_the_replacement_character(void)
{
	struct ts_server *s = start("");
	char got[CHAT_LINE], esc[CHAT_LINE * 4], wesc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	/* Bytes that are invalid one by one under every decoding policy: a
	 * lone continuation byte, a lead byte before ASCII, bytes that never
	 * occur in UTF-8 (C0 C1 F5-FE). */
	static const char raw[] = "v \x80 w \xC3( x \xC0\xAF y \xF8z \xC1!\n";
	static const char want[] = "v \xEF\xBF\xBD w \xEF\xBF\xBD( x "
				   "\xEF\xBF\xBD\xEF\xBF\xBD y \xEF\xBF\xBDz "
				   "\xEF\xBF\xBD!";
	if (relay(a, b, raw, sizeof(raw) - 1, got, sizeof(got))) {
		CHECKF(strcmp(got, want) == 0, "got \"%s\", want \"%s\"",
		       escape(got, esc, sizeof(esc)),
		       escape(want, wesc, sizeof(wesc)));
		CHECK(utf8_valid((const unsigned char *)got));
	}
	/* The README: every byte of an invalid sequence, overlong forms
	 * and surrogates included, becomes U+FFFD. A surrogate, an overlong
	 * '/', an overlong euro sign, a code point past U+10FFFF, and a
	 * sequence cut short by the end of the line. */
#define R "\xEF\xBF\xBD"
	static const char raw2[] = "s \xED\xA0\x80 o \xE0\x80\xAF e "
				   "\xF0\x82\x82\xAC p \xF4\x90\x80\x80 t "
				   "\xE2\x82\n";
	static const char want2[] =
	    "s " R R R " o " R R R " e " R R R R " p " R R R R " t " R R;
#undef R
	if (relay(a, b, raw2, sizeof(raw2) - 1, got, sizeof(got))) {
		CHECKF(strcmp(got, want2) == 0, "got \"%s\", want \"%s\"",
		       escape(got, esc, sizeof(esc)),
		       escape(want2, wesc, sizeof(wesc)));
		CHECK(utf8_valid((const unsigned char *)got));
	}
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_valid_utf8_cjk_and_emoji_pass_untouched(void)
{
	struct ts_server *s = start("");
	char got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	/* 你好世界, 日本語, 한국어, U+1F600, U+1F389, family ZWJ sequence,
	 * café with a precomposed é, Ω. */
	static const char text[] =
	    "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C "
	    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E "
	    "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 "
	    "\xF0\x9F\x98\x80\xF0\x9F\x8E\x89 "
	    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
	    "\xF0\x9F\x91\xA7 caf\xC3\xA9 \xCE\xA9";
	char raw[256];
	snprintf(raw, sizeof(raw), "%s\n", text);
	if (relay(a, b, raw, strlen(raw), got, sizeof(got)))
		CHECKF(strcmp(got, text) == 0, "got \"%s\"",
		       escape(got, esc, sizeof(esc)));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

#define E_ACUTE "\xC3\xA9"	   /* 2 bytes */
#define GRIN	"\xF0\x9F\x98\x80" /* 4 bytes */

/* Commands quoting a long name back, each long enough to reach a limit
 * of some buffer on the way, and the start of the error they get. */
static const struct {
	const char *prefix, *unit;
	int count;
	const char *suffix, *want;
	int elided; /* the name is quoted, shortened, ending in U+2026 */
} cut_rows[] = {
    {"/msg x", E_ACUTE, 505, " hi", "-!- error: no such nick x" E_ACUTE, 1},
    {"/msg ", GRIN, 300, " hi", "-!- error: no such nick " GRIN, 1},
    {"/who #", E_ACUTE, 505, "", "-!- error: ", 0},
    {"/part #", E_ACUTE, 1100, "", "-!- error: ", 0},
    {"/part #x", GRIN, 700, " why", "-!- error: ", 0},
};

static void
test_no_error_reply_is_cut_inside_a_character(void)
{
	struct ts_server *s = start("--max-line 4096");
	char cmd[4096 + 64], got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice");
	REQUIRE(a >= 0);
	for (size_t i = 0; i < sizeof(cut_rows) / sizeof(cut_rows[0]); i++) {
		repeat(cmd, sizeof(cmd), cut_rows[i].prefix, cut_rows[i].unit,
		       cut_rows[i].count, cut_rows[i].suffix);
		tc_send(a, "%s\n", cmd);
		if (!EXPECT_OUT(a, "-!- error: ", got))
			continue;
		CHECKF(utf8_valid((const unsigned char *)got),
		       "row %zu: invalid UTF-8: \"%s\"", i,
		       escape(got, esc, sizeof(esc)));
		CHECKF(strncmp(got, cut_rows[i].want,
			       strlen(cut_rows[i].want)) == 0,
		       "row %zu: \"%s\"", i, escape(got, esc, sizeof(esc)));
		size_t n = strlen(got);
		if (cut_rows[i].elided)
			CHECKF(n < 80 &&
				   strcmp(got + n - 3, "\xE2\x80\xA6") == 0,
			       "row %zu: not elided: \"%s\"", i,
			       escape(got, esc, sizeof(esc)));
	}
	tc_close(a);
	ts_free(s);
}

static void
test_telnet_negotiation_is_stripped_from_the_line(void)
{
	struct ts_server *s = start("");
	char got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	/* WILL ECHO, DO SUPPRESS-GO-AHEAD, and a terminal-type
	 * subnegotiation (SB TTYPE IS "XTERM" SE), mid-line. */
	static const char raw[] = "\xFF\xFB\x01he\xFF\xFD\x03llo "
				  "\xFF\xFA\x18\x00XTERM\xFF\xF0world\r\n";
	if (relay(a, b, raw, sizeof(raw) - 1, got, sizeof(got)))
		CHECKF(strcmp(got, "hello world") == 0, "got \"%s\"",
		       escape(got, esc, sizeof(esc)));
	/* A command split between two writes (the parser keeps state). */
	CHECK(send_raw(a, "sp\xFF", 3) == 0);
	if (relay(a, b, "\xFD\x01lit\n", 6, got, sizeof(got)))
		CHECKF(strcmp(got, "split") == 0, "got \"%s\"",
		       escape(got, esc, sizeof(esc)));
	/* Negotiation alone on a line sends nothing. */
	static const char raw2[] = "\xFF\xFD\x18\xFF\xFB\x1F\n";
	struct lines l = {.n = 0};
	CHECK(send_raw(a, raw2, sizeof(raw2) - 1) == 0);
	tc_send(a, "after negotiation\n");
	CHECK(COLLECT(b, "#lobby <alice> after negotiation", &l));
	CHECKF(l.n == 0, "negotiation alone gave %d line(s)", l.n);
	if (l.n)
		lines_report(__FILE__, __LINE__, &l, "bob's lines");
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

#define REPL "\xEF\xBF\xBD"

/* Lines with a 0xFF that is not telnet, and what bob gets of them. */
static const struct {
	const char *raw, *want;
} iac_rows[] = {
    {"a\xff"
     "b\n",
     "a" REPL "b"},
    /* Latin-1 y-diaeresis, then a letter. */
    {"\xff"
     "es\n",
     REPL "es"},
    {"two\xff\xff"
     "bytes\n",
     "two" REPL "bytes"},
    /* A subnegotiation never reaches past the line end. */
    {"x\xff\xfa"
     "abc\n",
     "x"},
};

static void
test_byte_0xff_is_data_unless_it_starts_a_telnet_command(void)
{
	struct ts_server *s = start("");
	char got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	for (size_t i = 0; i < sizeof(iac_rows) / sizeof(iac_rows[0]); i++)
		if (relay(a, b, iac_rows[i].raw, strlen(iac_rows[i].raw), got,
			  sizeof(got)))
			CHECKF(strcmp(got, iac_rows[i].want) == 0,
			       "row %zu: got \"%s\"", i,
			       escape(got, esc, sizeof(esc)));
	/* A 0xFF before the LF leaves the next line a line of its own. */
	static const char raw[] = "/part #x\xff\n/nick ab\n";
	CHECK(send_raw(a, raw, sizeof(raw) - 1) == 0);
	CHECK(EXPECT(a, "-!- error: "));
	CHECK(EXPECT_LINE(a, "-!- alice is now known as ab"));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

static void
test_empty_lines_are_ignored(void)
{
	struct ts_server *s = start("");
	struct lines l = {.n = 0};
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	/* Only spaces or tabs count as empty too. */
	tc_send(a, "\n\r\n\n   \n\t\t\n \t \r\n");
	tc_send(a, "after empty lines\n");
	CHECK(COLLECT(b, "#lobby <alice> after empty lines", &l));
	CHECKF(l.n == 0, "empty lines gave bob %d line(s)", l.n);
	if (l.n)
		lines_report(__FILE__, __LINE__, &l, "bob's lines");
	tc_send(a, MARK_CMD);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	CHECK(LACKS(&l, "-!- error: "));
	int fds[] = {a, b};
	close_all(fds, 2);
	ts_free(s);
}

/* ---- flood control ------------------------------------------------------ */

static void
test_flooder_is_throttled_not_dropped_and_others_are_not_blocked(void)
{
	enum { M = 200 };
	struct ts_server *s = start("--flood-burst 5 --flood-rate 50");
	char *burst = malloc(M * 16), buf[CHAT_LINE];
	size_t len = 0;
	REQUIRE(s && burst);
	int a = join_as(s->port, "flooder"), b = join_as(s->port, "bob");
	int c = join_as(s->port, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	for (int i = 0; i < M; i++)
		len += (size_t)sprintf(burst + len, "f %d\n", i);
	REQUIRE(send_raw(a, burst, len) == 0);
	tc_send(c, "not blocked\n");
	int next = 0, other_at = -1, bad = 0;
	long long deadline = tl_now_ms() + 30000;
	while (next < M && tl_now_ms() < deadline) {
		int r = tc_readline(b, buf, sizeof(buf),
				    (int)(deadline - tl_now_ms()));
		if (r < 0)
			break;
		int k;
		if (strcmp(buf, "#lobby <carol> not blocked") == 0)
			other_at = next;
		else if (sscanf(buf, "#lobby <flooder> f %d", &k) == 1 &&
			 k != next++) {
			CHECKF(0, "line %d arrived as line %d", k, next - 1);
			if (++bad > 5)
				break;
		}
	}
	CHECKF(next == M, "bob got %d of %d flood lines", next, M);
	if (other_at < 0)
		CHECK(EXPECT_LINE(b, "#lobby <carol> not blocked"));
	/* carol's line was not queued behind the flood. */
	CHECKF(other_at >= 0 && other_at < M,
	       "carol's line came only after all %d flood lines", M);
	free(burst);
	int fds[] = {a, b, c};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_flood_bucket_paces_commands_without_dropping_them(void)
{
	enum { M = 40 };
	struct ts_server *s = start("--flood-burst 5 --flood-rate 50");
	char *burst = malloc(M * 16);
	size_t len = 0;
	struct lines l;
	REQUIRE(s && burst);
	int a = join_as(s->port, "alice");
	REQUIRE(a >= 0);
	for (int i = 0; i < M; i++)
		len += (size_t)sprintf(burst + len, "/who\n");
	len += (size_t)sprintf(burst + len, MARK_CMD);
	REQUIRE(send_raw(a, burst, len) == 0);
	l.n = l.total = 0;
	CHECK(COLLECT(a, MARK_LINE, &l));
	CHECKF(lines_count(&l, "-!- members of #lobby: alice") == M,
	       "%d answers to %d /who", lines_count(&l, "-!- members of"), M);
	free(burst);
	tc_close(a);
	ts_free(s);
}

/* ---- per-address limit -------------------------------------------------- */

static void
test_third_loopback_connection_is_refused_with_limit_loopback(void)
{
	struct ts_server *s = start("--max-per-address 2 --limit-loopback");
	REQUIRE(s);
	int a = join_as(s->port, "alice"), b = join_as(s->port, "bob");
	REQUIRE(a >= 0 && b >= 0);
	int c = tc_connect(s->port);
	REQUIRE(c >= 0);
	CHECK(EXPECT_LINE(
	    c, "-!- too many connections from your address (limit 2)"));
	CHECK(tc_wait_eof(c, CHAT_WAIT_MS) == 0);
	tc_close(c);
	tc_send(a, "we two\n");
	CHECK(EXPECT_LINE(b, "#lobby <alice> we two"));
	tc_send(b, "still chat\n");
	CHECK(EXPECT_LINE(a, "#lobby <bob> still chat"));
	/* A place frees up when one leaves. */
	tc_send(b, "/quit\n");
	CHECK(EXPECT_LINE(a, "-!- bob quit (quit)"));
	int d = join_as(s->port, "dave");
	CHECK(d >= 0);
	int fds[] = {a, b, d};
	close_all(fds, 3);
	ts_free(s);
}

static void
test_loopback_is_exempt_from_the_per_address_limit_by_default(void)
{
	enum { N = 5 };
	struct ts_server *s = start("--max-per-address 2");
	int fd[N];
	char nick[16], want[64];
	REQUIRE(s);
	for (int i = 0; i < N; i++) {
		snprintf(nick, sizeof(nick), "user%d", i);
		fd[i] = join_as(s->port, nick);
		REQUIRE(fd[i] >= 0);
	}
	tc_send(fd[N - 1], "all of us\n");
	snprintf(want, sizeof(want), "#lobby <user%d> all of us", N - 1);
	for (int i = 0; i < N - 1; i++)
		CHECK(EXPECT_LINE(fd[i], want));
	close_all(fd, N);
	ts_free(s);
}

/* ---- 50 MB of random bytes ---------------------------------------------- */

struct noisy {
	int fd;
	uint64_t rng;
	size_t sent, total;
	char chunk[65536];
	size_t chunk_len, chunk_off;
};

static uint64_t
xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Writes what the socket takes; refills the chunk from the PRNG. */
static void
noisy_write(struct noisy *z)
{
	while (z->sent < z->total) {
		if (z->chunk_off == z->chunk_len) {
			size_t n = z->total - z->sent;
			if (n > sizeof(z->chunk))
				n = sizeof(z->chunk);
			for (size_t i = 0; i < n; i += 8) {
				uint64_t v = xorshift64(&z->rng);
				memcpy(z->chunk + i, &v, n - i < 8 ? n - i : 8);
			}
			z->chunk_len = n;
			z->chunk_off = 0;
		}
		ssize_t w = send(z->fd, z->chunk + z->chunk_off,
				 z->chunk_len - z->chunk_off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		z->chunk_off += (size_t)w;
		z->sent += (size_t)w;
	}
}

static int
drain(int fd)
{
	char junk[65536];

	for (;;) {
		ssize_t n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ? -1
									   : 0;
	}
}

/* Two clients take turns: each line of one is answered when it arrives.
 * Lines are "calm N"; got[i] counts what client i received, in order. */
struct calm {
	int fd[2];
	char nick[2][16];
	int sent, got[2], out_of_order;
};

static void
calm_send(struct calm *k)
{
	tc_send(k->fd[k->sent % 2], "calm %d\n", k->sent);
	k->sent++;
}

/* Reads what is buffered or ready for calm client i without blocking. */
static void
calm_read(struct calm *k, int i)
{
	char buf[CHAT_LINE], want[64];
	size_t wl = (size_t)snprintf(want, sizeof(want), "#lobby <%s> calm ",
				     k->nick[1 - i]);

	/* tc_readline reads the socket only while time is left: 2 ms is
	 * enough for bytes poll already reported. */
	while (tc_readline(k->fd[i], buf, sizeof(buf), 2) >= 0) {
		if (strncmp(buf, want, wl) != 0)
			continue;
		int n = atoi(buf + wl);
		if (n != k->sent - 1)
			k->out_of_order++;
		k->got[i]++;
		if (n == k->sent - 1)
			calm_send(k);
	}
}

static void
test_50_megabytes_of_random_bytes_leave_the_server_serving(void)
{
	enum { NZ = 5, SIZE = 10 << 20 };
	struct ts_server *s = start("--flood-rate 0");
	struct noisy *z = calloc(NZ, sizeof(*z));
	struct calm k = {.nick = {"calm0", "calm1"}};
	struct pollfd pfd[NZ + 2];
	char nick[32];
	int dead[NZ] = {0};
	REQUIRE(s && z);
	for (int i = 0; i < 2; i++)
		REQUIRE((k.fd[i] = join_as(s->port, k.nick[i])) >= 0);
	/* The noisy clients are in no room: each of their lines goes the
	 * whole way through framing, telnet stripping, sanitising and
	 * command parsing, and is refused. (As room messages, with the flood
	 * bucket off so that 10 MB can get in at all, they would lap every
	 * session's ring: see --outbox-size in the README.) */
	for (int i = 0; i < NZ; i++) {
		snprintf(nick, sizeof(nick), "noisy%d", i);
		REQUIRE((z[i].fd = join_as(s->port, nick)) >= 0);
		tc_send(z[i].fd, "/part #lobby\n");
		char want[64];
		snprintf(want, sizeof(want), "-!- %s left #lobby", nick);
		REQUIRE(EXPECT_LINE(z[i].fd, want));
		fcntl(z[i].fd, F_SETFL, O_NONBLOCK);
		z[i].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
		z[i].total = SIZE;
	}
	calm_send(&k);
	long long deadline = tl_now_ms() + 60000;
	size_t done = 0;
	while (tl_now_ms() < deadline) {
		done = 0;
		for (int i = 0; i < NZ; i++) {
			done += z[i].sent == z[i].total;
			pfd[i].fd = dead[i] ? -1 : z[i].fd;
			pfd[i].events = POLLIN;
			if (z[i].sent < z[i].total)
				pfd[i].events |= POLLOUT;
		}
		if (done == NZ)
			break;
		for (int i = 0; i < 2; i++)
			pfd[NZ + i] = (struct pollfd){k.fd[i], POLLIN, 0};
		if (poll(pfd, NZ + 2, 100) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < NZ; i++) {
			if (pfd[i].revents & POLLOUT)
				noisy_write(&z[i]);
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    drain(z[i].fd) < 0) {
				CHECKF(0,
				       "noisy%d was disconnected after %zu "
				       "bytes",
				       i, z[i].sent);
				dead[i] = 1;
				z[i].total = z[i].sent;
			}
		}
		for (int i = 0; i < 2; i++)
			if (pfd[NZ + i].revents)
				calm_read(&k, i);
	}
	CHECKF(done == NZ, "only %zu of %d noisy clients sent 10 MB", done, NZ);
	for (int i = 0; i < NZ; i++)
		CHECKF(z[i].sent == SIZE, "noisy%d sent %zu bytes", i,
		       z[i].sent);
	/* The conversation went on through the storm and still does. */
	CHECKF(k.sent > 1, "calm clients exchanged only %d lines", k.sent);
	char last[64];
	int from = (k.sent - 1) % 2;
	snprintf(last, sizeof(last), "#lobby <%s> calm %d", k.nick[from],
		 k.sent - 1);
	CHECK(EXPECT_LINE(k.fd[1 - from], last));
	CHECKF(k.out_of_order == 0, "%d calm lines out of order",
	       k.out_of_order);
	/* A newcomer can join and chat. */
	int n = join_as(s->port, "newcomer");
	if (CHECK(n >= 0)) {
		tc_send(n, "hello after the storm\n");
		CHECK(EXPECT_LINE(k.fd[0],
				  "#lobby <newcomer> hello after the storm"));
		tc_send(k.fd[1], "welcome\n");
		CHECK(EXPECT_LINE(n, "#lobby <calm1> welcome"));
	}
	CHECK(ts_log_count(s, "killed by signal") == 0);
	CHECK(ts_log_count(s, "exited with code 1") == 0);
	tc_close(n);
	for (int i = 0; i < NZ; i++)
		tc_close(z[i].fd);
	close_all(k.fd, 2);
	free(z);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "chat", model_args, sizeof(model_args), suite);
	RUN(test_nick_change_is_seen_by_room_members_and_by_the_client_itself);
	RUN(test_taken_nick_is_refused_case_insensitively);
	RUN(test_invalid_nicks_are_refused);
	RUN(test_nick_without_argument_gives_usage_error_and_connection_stays_usable);
	RUN(test_simultaneous_nick_to_the_same_name_exactly_one_wins);
	RUN(test_join_creates_a_room_and_announces_to_its_members);
	RUN(test_room_message_reaches_only_members_and_names_the_room);
	RUN(test_client_in_two_rooms_hears_both_and_talks_in_the_room_joined_last);
	RUN(test_join_of_an_already_joined_room_switches_the_current_room);
	RUN(test_part_announces_and_an_empty_room_disappears_from_rooms);
	RUN(test_rooms_lists_every_room_with_member_count_and_topic);
	RUN(test_who_lists_the_members_of_a_room);
	RUN(test_who_splits_a_long_member_list_over_several_lines);
	RUN(test_topic_is_shown_set_and_announced);
	RUN(test_topic_takes_a_room_first_and_a_dash_clears_it);
	RUN(test_invalid_room_names_are_refused);
	RUN(test_room_names_are_case_insensitive);
	RUN(test_joins_and_parts_are_quiet_in_rooms_over_join_notices);
	RUN(test_room_limits_are_enforced_per_client_and_per_server);
	RUN(test_a_new_client_starts_in_the_lobby_even_when_rooms_are_full);
	RUN(test_topic_over_300_bytes_is_refused);
	RUN(test_rooms_are_listed_by_name_whatever_their_case);
	RUN(test_rooms_says_no_rooms_when_there_are_none);
	RUN(test_message_right_after_join_goes_to_the_new_room);
	RUN(test_part_of_a_room_you_are_not_in_is_refused);
	RUN(test_private_messages_go_both_ways);
	RUN(test_msg_to_an_unknown_nick_is_an_error);
	RUN(test_me_is_sent_as_an_action_in_the_current_room);
	RUN(test_double_slash_sends_a_line_starting_with_a_slash);
	RUN(test_quit_with_a_reason_is_announced_and_closes_the_connection);
	RUN(test_part_and_quit_reasons_are_cut_at_256_bytes_on_a_character);
	RUN(test_closed_connection_is_announced_as_connection_closed);
	RUN(test_reset_connection_is_announced_as_connection_lost);
	RUN(test_history_replays_the_last_5_messages_in_order_before_live_ones);
	RUN(test_history_replays_actions_as_actions);
	RUN(test_history_0_disables_the_replay);
	RUN(test_help_lists_every_command);
	RUN(test_room_errors_say_what_is_wrong_and_how_to_go_on);
	RUN(test_unknown_command_is_an_error_and_the_connection_stays_usable);
	RUN(test_every_error_leaves_the_connection_usable);
	RUN(test_control_characters_and_escape_sequences_are_removed);
	RUN(test_tabs_c1_controls_and_bidi_overrides_are_sanitised);
	RUN(test_nul_bytes_are_removed);
	RUN(test_invalid_utf8_is_replaced_with_the_replacement_character);
	RUN(test_valid_utf8_cjk_and_emoji_pass_untouched);
	RUN(test_no_error_reply_is_cut_inside_a_character);
	RUN(test_telnet_negotiation_is_stripped_from_the_line);
	RUN(test_byte_0xff_is_data_unless_it_starts_a_telnet_command);
	RUN(test_empty_lines_are_ignored);
	RUN(test_flooder_is_throttled_not_dropped_and_others_are_not_blocked);
	RUN(test_flood_bucket_paces_commands_without_dropping_them);
	RUN(test_third_loopback_connection_is_refused_with_limit_loopback);
	RUN(test_loopback_is_exempt_from_the_per_address_limit_by_default);
	RUN(test_50_megabytes_of_random_bytes_leave_the_server_serving);
	return tl_summary(suite);
}
