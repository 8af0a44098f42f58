/*
 * test_chat: the chat protocol of the README, line by line, on the real
 * parleyd: nicknames, rooms, private messages, notices, history, help and
 * errors, input sanitising, flood control, the per-address limit and a
 * storm of random bytes. Every test starts its own server; the process
 * model comes from PARLEY_TEST_ARGS (empty: one process per client).
 * Where tests share a shape they are tables: a conversation is rows of
 * struct step, raw input and its copy rows of struct relay_row.
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
#define MARK_SEND "/zz-end-of-reply"
#define MARK_CMD  MARK_SEND "\n"
#define MARK_LINE "-!- error: unknown command"

/* ---- a server, its clients, and conversations as tables ----------------- */

/* A test's clients, as bits: the first nick given to chat_open is A. */
enum { A = 1, B = 2, C = 4, D = 8, E = 16 };
#define CHAT_CLIENTS 5

struct chat {
	struct ts_server *s;
	int n;
	int fd[CHAT_CLIENTS];
	char nick[CHAT_CLIENTS][32];
	struct lines seen; /* what the last wait read before its match */
};

static void
chat_close(struct chat *c)
{
	tc_close_all(c->fd, c->n);
	ts_free(c->s);
	c->s = NULL;
	c->n = 0;
}

/* Starts a server with args and joins a client per space-separated nick,
 * in order ("*" keeps the name the server gives). Returns 1; or 0 after a
 * failed check, with everything closed again. */
static int
chat_open(struct chat *c, const char *args, const char *nicks)
{
	char buf[256], *save = NULL;
	int ok = 1;

	c->n = 0;
	c->seen.n = c->seen.total = 0;
	c->s = start(args);
	if (!CHECKF(c->s, "parleyd did not start with \"%s\"", args))
		return 0;
	snprintf(buf, sizeof(buf), "%s", nicks);
	for (char *t = strtok_r(buf, " ", &save); t && c->n < CHAT_CLIENTS;
	     t = strtok_r(NULL, " ", &save)) {
		int i = c->n++;
		if (strcmp(t, "*") == 0) {
			c->fd[i] =
			    tc_join(c->s->port, c->nick[i], sizeof(c->nick[i]));
		} else {
			c->fd[i] = join_as(c->s->port, t);
			snprintf(c->nick[i], sizeof(c->nick[i]), "%s", t);
		}
		ok &= c->fd[i] >= 0;
	}
	if (!CHECKF(ok, "not every one of \"%s\" joined", nicks)) {
		chat_close(c);
		return 0;
	}
	return 1;
}

/* Adds a client that has only connected (no welcome read yet) as the next
 * bit; its nick is "?" until a test says otherwise. 1, or 0 if refused. */
static int
chat_connect(struct chat *c)
{
	int i = c->n;

	if (!CHECK(i < CHAT_CLIENTS))
		return 0;
	c->fd[i] = tc_connect(c->s->port);
	snprintf(c->nick[i], sizeof(c->nick[i]), "?");
	c->n++;
	return CHECK(c->fd[i] >= 0);
}

/* Each client in who joins room and sees its own join, in bit order.
 * Returns 1; or 0 at the first that does not, with everything closed, as
 * chat_open: REQUIRE(chat_open(...) && chat_join(...)) leaves nothing. */
static int
chat_join(struct chat *c, const char *room, int who)
{
	for (int i = 0; i < c->n; i++) {
		if ((who & 1 << i) && !join_room(c->fd[i], c->nick[i], room)) {
			chat_close(c);
			return 0;
		}
	}
	return 1;
}

/* One row of a conversation. Client from (a bit; 0: nobody) sends send, a
 * line or several joined by \n; then each client in to (bits) reads up to
 * a line equal to want, or containing it when contains is set (IS, HAS),
 * or sees its connection closed (CLOSED). The line that matched also
 * contains also; of the lines before it, none contains any of lacks, and
 * exactly one contains each of once. A row with must set ends the table
 * when it fails, as a join the conversation needs does (JOIN). */
struct step {
	int from;
	const char *send;
	int to;
	const char *want;
	int contains, closed;
	const char *also;
	const char *lacks[2];
	const char *once[3];
	int must; /* the table stops here if this row fails */
};

#define IS(line)  .want = (line)
#define HAS(part) .want = (part), .contains = 1
#define CLOSED	  .closed = 1

/* Client who, called nick, joins room: the table needs it to go on. */
#define JOIN(who, nick, room)                                                  \
	{                                                                      \
		(who), "/join " room, (who), IS("-!- " nick " joined " room),  \
		    .must = 1                                                  \
	}

static int
chat_index(const struct chat *c, int bit)
{
	for (int i = 0; i < c->n; i++)
		if (bit == 1 << i)
			return i;
	return -1;
}

/* Runs one row: every check names the table and the row. Returns 1 if
 * every check held. */
static int
chat_step(struct chat *c, const char *table, size_t k, const struct step *st)
{
	char got[CHAT_LINE], esc[CHAT_LINE * 4], row[CHAT_LINE * 4 + 256];
	int ok = 1;

	if (st->from) {
		int i = chat_index(c, st->from);
		snprintf(row, sizeof(row), "%s[%zu] (%s: \"%s\")", table, k,
			 i >= 0 ? c->nick[i] : "nobody",
			 escape(st->send, esc, sizeof(esc)));
		ok &= CHECKF(i >= 0 && tc_send(c->fd[i], "%s\n", st->send) == 0,
			     "%s: not sent", row);
	} else {
		snprintf(row, sizeof(row), "%s[%zu]", table, k);
	}
	for (int i = 0; i < c->n; i++) {
		if (!(st->to & 1 << i))
			continue;
		if (st->closed) {
			ok &= CHECKF(tc_wait_eof(c->fd[i], CHAT_WAIT_MS) == 0,
				     "%s: %s's connection is still open", row,
				     c->nick[i]);
			continue;
		}
		if (!st->want) { /* a mistake in the table, not the server */
			tl_fail(__FILE__, __LINE__, "%s: no line to wait for",
				row);
			return 0;
		}
		c->seen.n = c->seen.total = 0;
		int hit = wait_line(__FILE__, __LINE__, c->fd[i], st->want,
				    !st->contains, &c->seen, got, sizeof(got));
		ok &=
		    CHECKF(hit, "%s: %s wants a line %s \"%s\"", row,
			   c->nick[i], st->contains ? "containing" : "equal to",
			   escape(st->want, esc, sizeof(esc)));
		if (hit && st->also)
			ok &= CHECKF(strstr(got, st->also),
				     "%s: %s got \"%s\", without \"%s\"", row,
				     c->nick[i], escape(got, esc, sizeof(esc)),
				     st->also);
		for (size_t j = 0; j < 2 && st->lacks[j]; j++)
			ok &= CHECKF(LACKS(&c->seen, st->lacks[j]),
				     "%s: %s got \"%s\" before it", row,
				     c->nick[i], st->lacks[j]);
		for (size_t j = 0; j < 3 && st->once[j]; j++) {
			int n = lines_count(&c->seen, st->once[j]);
			if (CHECKF(n == 1,
				   "%s: %d of %s's lines contain \"%s\", "
				   "want 1",
				   row, n, c->nick[i], st->once[j]))
				continue;
			lines_report(__FILE__, __LINE__, &c->seen,
				     "the lines before it");
			ok = 0;
		}
	}
	return ok;
}

/* Runs every row of a table, on through failed checks (each recorded)
 * but for a failed must row, which ends it. Returns 0 if one did, else 1:
 * what comes after the table can go on. */
static int
chat_steps(struct chat *c, const char *table, const struct step *st, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!chat_step(c, table, k, &st[k]) && st[k].must)
			return 0;
	return 1;
}

#define STEPS(c, table)                                                        \
	chat_steps(c, #table, table, sizeof(table) / sizeof(table[0]))

/* A whole test: a server started with args, clients called nicks, and
 * the conversation the table holds. */
static void
chat_converse(const char *args, const char *nicks, const char *table,
	      const struct step *st, size_t n)
{
	struct chat c;

	if (!chat_open(&c, args, nicks))
		return;
	chat_steps(&c, table, st, n);
	chat_close(&c);
}

#define CONVERSE(args, nicks, table)                                           \
	chat_converse(args, nicks, #table, table,                              \
		      sizeof(table) / sizeof(table[0]))

/* ---- nicknames ---------------------------------------------------------- */

static void
test_nick_change_is_seen_by_room_members_and_by_the_client_itself(void)
{
	struct chat c;
	char want[160];
	REQUIRE(chat_open(&c, "", "* bob carol dave"));
	snprintf(want, sizeof(want), "-!- %s is now known as alice", c.nick[0]);
	const struct step steps[] = {
	    /* dave shares no room with the one who renames. */
	    {D, "/part", D, IS("-!- dave left #lobby")},
	    {A, "/nick alice", A | B | C, IS(want)},
	    /* The new name is used from now on, even for a line sent in the
	     * same write as the /nick. */
	    {A, "hello as alice", B, IS("#lobby <alice> hello as alice")},
	    {A, "/nick alicia\nhello as alicia", B,
	     IS("-!- alice is now known as alicia")},
	    {0, NULL, B, IS("#lobby <alicia> hello as alicia")},
	    /* bob shares two rooms with her and is told once; dave not at
	     * all. */
	    JOIN(A, "alicia", "#den"),
	    JOIN(B, "bob", "#den"),
	    {A, "/nick alice", B, IS("-!- alicia is now known as alice")},
	    {B, MARK_SEND, B, HAS(MARK_LINE), .lacks = {"is now known as"}},
	    {D, MARK_SEND, D, HAS(MARK_LINE),
	     .lacks = {"is now known as alice"}},
	};
	STEPS(&c, steps);
	chat_close(&c);
}

static void
test_taken_nick_is_refused_case_insensitively(void)
{
	static const struct step steps[] = {
	    {B, "/nick Alice", B, HAS("-!- error: "), .also = "already taken"},
	    {B, "/nick alice", B, HAS("-!- error: "), .also = "already taken"},
	    {B, "/nick ALICE", B, HAS("-!- error: "), .also = "already taken"},
	    {B, "/nick aLiCe", B, HAS("-!- error: "), .also = "already taken"},
	    /* bob is still bob and still talks. */
	    {B, "still bob", A, IS("#lobby <bob> still bob")},
	};
	CONVERSE("", "Alice bob", steps);
}

static void
test_invalid_nicks_are_refused(void)
{
	static const struct step steps[] = {
	    /* 31 bytes */
	    {B, "/nick abcdefghijklmnopqrstuvwxyz01234", B, HAS("-!- error: ")},
	    /* a leading digit or hyphen */
	    {B, "/nick 1abc", B, HAS("-!- error: ")},
	    {B, "/nick -abc", B, HAS("-!- error: ")},
	    {B, "/nick bad!nick", B, HAS("-!- error: ")},
	    {B, "/nick bad.nick", B, HAS("-!- error: ")},
	    {B, "/nick bad#nick", B, HAS("-!- error: ")},
	    {B, "/nick b\xC3\xA4r", B, HAS("-!- error: ")},
	    /* RFC 2812's specials are letters here, and the longest valid
	     * name is accepted. */
	    {B, "/nick [b]\\o`b^_{|}-9", B,
	     IS("-!- bob is now known as [b]\\o`b^_{|}-9")},
	    {B, "/nick abcdefghijklmnopqrstuvwxyz0123", B,
	     IS("-!- [b]\\o`b^_{|}-9 is now known as "
		"abcdefghijklmnopqrstuvwxyz0123")},
	    /* No one saw a refused rename: of bob's, only the one to the
	     * specials. */
	    {0, NULL, A, HAS("is now known as abcdefghijklmnopqrstuvwxyz0123"),
	     .once = {"-!- bob is now known as ",
		      "-!- bob is now known as [b]"}},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_nick_without_argument_gives_usage_error_and_connection_stays_usable(void)
{
	static const struct step steps[] = {
	    {B, "/nick", B, HAS("-!- error: "), .also = "/nick"},
	    {B, "/nick   ", B, HAS("-!- error: ")},
	    {B, "after the error", A, IS("#lobby <bob> after the error")},
	    {B, "/nick bobby", A, IS("-!- bob is now known as bobby")},
	};
	CONVERSE("", "alice bob", steps);
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
	struct chat c;
	char name[32], err[2][CHAT_LINE];
	REQUIRE(chat_open(&c, "", "racer0 racer1"));
	int *fd = c.fd;
	char(*nick)[32] = c.nick;
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
	chat_close(&c);
}

/* ---- rooms -------------------------------------------------------------- */

static void
test_join_creates_a_room_and_announces_to_its_members(void)
{
	static const struct step steps[] = {
	    {A, "/join #den", A, IS("-!- alice joined #den")},
	    {B, "/join #den", A | B, IS("-!- bob joined #den")},
	    {A, "/rooms", A, HAS("-!- #den: 2 members")},
	    /* carol, who is not in #den, hears of neither join. */
	    {B, "/join #lobby\nback in lobby", B,
	     IS("-!- now talking in #lobby")},
	    {0, NULL, C, HAS("#lobby <bob> back in lobby"), .lacks = {"#den"}},
	};
	CONVERSE("", "alice bob carol", steps);
}

static void
test_room_message_reaches_only_members_and_names_the_room(void)
{
	static const struct step steps[] = {
	    JOIN(A, "alice", "#den"),
	    JOIN(B, "bob", "#den"),
	    {A, "hi den", B, IS("#den <alice> hi den")},
	    /* bob answers: alice gets that, and not her own line before it. */
	    {B, "hi alice", A, HAS("#den <bob> hi alice"), .lacks = {"hi den"}},
	    /* alice's later line in #lobby reaches carol after the #den one
	     * would have. */
	    {A, "/join #lobby\nin the lobby", C,
	     HAS("#lobby <alice> in the lobby"),
	     .lacks = {"hi den", "hi alice"}},
	};
	CONVERSE("", "alice bob carol", steps);
}

static void
test_client_in_two_rooms_hears_both_and_talks_in_the_room_joined_last(void)
{
	static const struct step steps[] = {
	    JOIN(B, "bob", "#one"),
	    JOIN(C, "carol", "#two"),
	    JOIN(A, "alice", "#one"),
	    JOIN(A, "alice", "#two"),
	    {B, "from one", A, IS("#one <bob> from one")},
	    {C, "from two", A, IS("#two <carol> from two")},
	    {A, "to the last room", C, IS("#two <alice> to the last room")},
	    /* bob, in #one only, did not get it: alice's next line in #one
	     * comes after it. */
	    {A, "/join #one\nnow in one", A, IS("-!- now talking in #one")},
	    {0, NULL, B, HAS("#one <alice> now in one"),
	     .lacks = {"to the last room"}},
	};
	CONVERSE("", "alice bob carol", steps);
}

static void
test_join_of_an_already_joined_room_switches_the_current_room(void)
{
	static const struct step steps[] = {
	    JOIN(A, "alice", "#one"),
	    JOIN(B, "bob", "#one"),
	    JOIN(A, "alice", "#two"),
	    {A, "/join #one", A, IS("-!- now talking in #one")},
	    /* Switching is not joining again. */
	    {A, "said in one", B, HAS("#one <alice> said in one"),
	     .lacks = {"alice joined"}},
	    {A, "/join #lobby", A, IS("-!- now talking in #lobby")},
	    {A, "said in lobby", B, IS("#lobby <alice> said in lobby")},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_part_announces_and_an_empty_room_disappears_from_rooms(void)
{
	static const struct step steps[] = {
	    JOIN(A, "alice", "#tmp"),
	    JOIN(B, "bob", "#tmp"),
	    {B, "/part #tmp gone home", A | B,
	     IS("-!- bob left #tmp (gone home)")},
	    {A, "/rooms\n" MARK_SEND, A, HAS(MARK_LINE),
	     .once = {"-!- #tmp: 1 member"}},
	    /* Without a room, /part leaves the current one (text that is not
	     * a room is the reason), and the current room becomes one alice
	     * is still in. */
	    JOIN(A, "alice", "#tmp2"),
	    JOIN(B, "bob", "#tmp2"),
	    {A, "/part see you", A | B, IS("-!- alice left #tmp2 (see you)")},
	    {0, NULL, A, HAS("-!- now talking in #")},
	    {A, "/join #tmp\n/part", A, IS("-!- now talking in #tmp")},
	    {0, NULL, A, IS("-!- alice left #tmp")},
	    {0, NULL, A, IS("-!- now talking in #lobby")},
	    {A, "back in the lobby", B, IS("#lobby <alice> back in the lobby")},
	    /* #tmp is gone; #tmp2 has bob. */
	    {A, "/rooms\n" MARK_SEND, A, HAS(MARK_LINE), .lacks = {"-!- #tmp:"},
	     .once = {"-!- #tmp2: 1 member", "-!- #lobby: 2 members"}},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_rooms_lists_every_room_with_member_count_and_topic(void)
{
	static const struct step steps[] = {
	    {A, "/topic cosy corner", A,
	     IS("-!- alice set the topic of #den: cosy corner")},
	    {C, "/rooms\n" MARK_SEND, C, HAS(MARK_LINE),
	     .once = {"-!- #den: 2 members, topic: cosy corner",
		      "-!- #lobby: 3 members, no topic"}},
	};
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice bob carol") &&
		chat_join(&c, "#den", A | B));
	STEPS(&c, steps);
	if (!CHECKF(c.seen.n == 2, "/rooms gave %d lines for 2 rooms",
		    c.seen.n))
		lines_report(__FILE__, __LINE__, &c.seen, "the /rooms reply");
	chat_close(&c);
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

/* Who asks what, the start of the reply, who is listed and who is not. */
static const struct {
	int from;
	const char *send, *reply;
	const char *in[3], *out[1];
} who_rows[] = {
    {C, "/who", "-!- members of #lobby:", {"alice", "bob", "carol"}, {NULL}},
    {C, "/who #den", "-!- members of #den:", {"alice", "bob"}, {"carol"}},
    /* alice's current room is #den. */
    {A, "/who", "-!- members of #den:", {NULL}, {NULL}},
};

static void
test_who_lists_the_members_of_a_room(void)
{
	static const struct step steps[] = {
	    {C, "/who #nowhere", C, HAS("-!- error: ")},
	    {C, "still here", A, IS("#lobby <carol> still here")},
	};
	struct chat c;
	char line[CHAT_LINE];
	REQUIRE(chat_open(&c, "", "alice bob carol") &&
		chat_join(&c, "#den", A | B));
	for (size_t i = 0; i < sizeof(who_rows) / sizeof(who_rows[0]); i++) {
		int fd = c.fd[chat_index(&c, who_rows[i].from)];
		tc_send(fd, "%s\n", who_rows[i].send);
		if (!CHECKF(EXPECT_OUT(fd, who_rows[i].reply, line),
			    "who_rows[%zu]: no reply to %s", i,
			    who_rows[i].send))
			continue;
		for (size_t j = 0; j < 3 && who_rows[i].in[j]; j++)
			CHECKF(who_has(line, who_rows[i].in[j]),
			       "who_rows[%zu]: %s not in \"%s\"", i,
			       who_rows[i].in[j], line);
		for (size_t j = 0; j < 1 && who_rows[i].out[j]; j++)
			CHECKF(!who_has(line, who_rows[i].out[j]),
			       "who_rows[%zu]: %s in \"%s\"", i,
			       who_rows[i].out[j], line);
	}
	STEPS(&c, steps);
	chat_close(&c);
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
	tc_close_all(fd, N);
	ts_free(s);
}

static void
test_topic_is_shown_set_and_announced(void)
{
	/* Without +t: any member sets the topic. */
	static const struct step steps[] = {
	    JOIN(A, "alice", "#den"),
	    JOIN(B, "bob", "#den"),
	    {A, "/topic", A, IS("-!- #den has no topic")},
	    {A, "/topic tea at five", A | B,
	     IS("-!- alice set the topic of #den: tea at five")},
	    {B, "/topic", B, IS("-!- topic of #den: tea at five")},
	    /* A new member is told the topic after joining. */
	    {C, "/join #den", C, IS("-!- carol joined #den")},
	    {0, NULL, C, IS("-!- topic of #den: tea at five")},
	    {B, "/topic tea at six", C,
	     IS("-!- bob set the topic of #den: tea at six")},
	};
	CONVERSE("--room-modes +n", "alice bob carol", steps);
}

static void
test_topic_takes_a_room_first_and_a_dash_clears_it(void)
{
	static const struct step steps[] = {
	    JOIN(A, "alice", "#den"),
	    /* alice talks in #den and sets the topic of #lobby. */
	    {A, "/topic #lobby lobby talk", B,
	     IS("-!- alice set the topic of #lobby: lobby talk")},
	    {A, "/topic", A, IS("-!- #den has no topic")},
	    {A, "/topic #LOBBY", A, IS("-!- topic of #lobby: lobby talk")},
	    /* A dash clears it; clearing no topic says so. */
	    {B, "/topic -", A | B, IS("-!- bob cleared the topic of #lobby")},
	    {A, "/topic #lobby", A, IS("-!- #lobby has no topic")},
	    {A, "/topic #den -", A, IS("-!- #den has no topic")},
	    {A, "/rooms\n" MARK_SEND, A, HAS(MARK_LINE),
	     .once = {"-!- #lobby: 2 members, no topic"}},
	    /* Only rooms one is in. */
	    {B, "/topic #den hijack", B, IS("-!- error: you are not in #den")},
	    {A, "/topic", A, IS("-!- #den has no topic")},
	};
	CONVERSE("", "alice bob", steps);
}

/* alice's /join of a bad name gets one error and no join. */
#define BAD_JOIN(room)                                                         \
	{                                                                      \
		.from = A, .send = "/join " room "\n" MARK_SEND, .to = A,      \
		HAS(MARK_LINE), .lacks[0] = "alice joined",                    \
		.once[0] = "-!- error: "                                       \
	}

static void
test_invalid_room_names_are_refused(void)
{
	static const struct step steps[] = {
	    BAD_JOIN("den"),
	    BAD_JOIN("#"),
	    BAD_JOIN("#bad,name"),
	    BAD_JOIN("#bad:name"),
	    /* 50 bytes after the # */
	    BAD_JOIN("#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"),
	    /* 49 bytes and every allowed kind are fine. */
	    {A, "/join #abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW", A,
	     IS("-!- alice joined "
		"#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW")},
	    {A, "/join #a-b_c.9!/\xC3\xA9t\xC3\xA9", A,
	     IS("-!- alice joined #a-b_c.9!/\xC3\xA9t\xC3\xA9")},
	    {A, "/join ##", A, IS("-!- alice joined ##")},
	    {A, "/join #lobby\nusable", B, IS("#lobby <alice> usable")},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_room_names_are_case_insensitive(void)
{
	static const struct step steps[] = {
	    JOIN(A, "alice", "#Den"),
	    /* bob's #DEN is alice's #Den: one room, under its first
	     * spelling. */
	    {B, "/join #DEN", A | B, HAS("-!- bob joined #")},
	    {B, "one room", A, IS("#Den <bob> one room")},
	    {A, "/rooms\n" MARK_SEND, A, HAS(MARK_LINE),
	     .once = {"-!- #Den: 2 members"}},
	    /* /join of a joined room in another case switches to it. */
	    {A, "/join #lobby\n/join #dEn", A, IS("-!- now talking in #lobby")},
	    {0, NULL, A, IS("-!- now talking in #Den")},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_joins_and_parts_are_quiet_in_rooms_over_join_notices(void)
{
	static const struct step steps[] = {
	    JOIN(A, "alice", "#big"),
	    JOIN(B, "bob", "#big"),
	    {0, NULL, A, IS("-!- bob joined #big")},
	    /* The third member makes #big bigger than 2: only carol is
	     * told. */
	    {C, "/join #big", C, IS("-!- carol joined #big")},
	    {C, "/part #big", C, IS("-!- carol left #big")},
	    {B, "after carol", A, HAS("#big <bob> after carol"),
	     .lacks = {"carol joined", "carol left"}},
	    /* Nickname changes are always announced. */
	    {C, "/join #big", C, IS("-!- carol joined #big")},
	    {C, "/nick caroline", A, IS("-!- carol is now known as caroline")},
	};
	CONVERSE("--join-notices 2", "alice bob carol", steps);
}

static void
test_room_limits_are_enforced_per_client_and_per_server(void)
{
	static const struct step steps[] = {
	    JOIN(A, "alice", "#one"),
	    {A, "/join #two", A,
	     IS("-!- error: you are in too many rooms (max 2)")},
	    /* #lobby, #one, #two: the server is full of rooms. */
	    JOIN(B, "bob", "#two"),
	    {A, "/part #lobby", A, IS("-!- alice left #lobby")},
	    {A, "/join #three", A,
	     IS("-!- error: too many rooms on this server (max 3)")},
	    {A, "/join #two", A, IS("-!- alice joined #two")},
	    {A, "usable", B, IS("#two <alice> usable")},
	};
	CONVERSE("--max-rooms 3 --max-rooms-per-client 2", "alice bob", steps);
}

static void
test_a_new_client_starts_in_the_lobby_even_when_rooms_are_full(void)
{
	static const struct step full[] = {
	    JOIN(A, "alice", "#one"),
	    {A, "/part #lobby", A, IS("-!- alice left #lobby")},
	    /* #lobby is gone and #one, #two fill the server. */
	    JOIN(A, "alice", "#two"),
	};
	static const struct step newcomer[] = {
	    {0, NULL, B, HAS("-!- welcome to parley, ")},
	    {B, MARK_SEND, B, HAS(MARK_LINE), .lacks = {"-!- error: "},
	     .once = {" joined #lobby"}},
	    /* Other rooms are still limited. */
	    {B, "/join #three", B,
	     IS("-!- error: too many rooms on this server (max 2)")},
	    {A, "/join #lobby", A, IS("-!- alice joined #lobby")},
	    {B, "in the lobby", A, HAS("> in the lobby")},
	};
	struct chat c;
	REQUIRE(chat_open(&c, "--max-rooms 2", "alice"));
	if (STEPS(&c, full) && chat_connect(&c))
		STEPS(&c, newcomer);
	chat_close(&c);
}

static void
test_topic_over_300_bytes_is_refused(void)
{
	char at[400], over[400], want[512];
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice bob"));
	repeat(at, sizeof(at), "/topic ", "t", 300, "");
	repeat(over, sizeof(over), "/topic ", "u", 301, "\n" MARK_SEND);
	snprintf(want, sizeof(want), "-!- topic of #lobby: %s", at + 7);
	const struct step steps[] = {
	    {A, at, B, HAS("-!- alice set the topic of #lobby: tttt")},
	    {B, "/topic", B, IS(want)},
	    /* The limits table: over 300 bytes is "-!- error: ...". */
	    {A, over, A, HAS(MARK_LINE), .once = {"-!- error: "}},
	    {B, "/topic", B, IS(want)},
	};
	STEPS(&c, steps);
	chat_close(&c);
}

static void
test_rooms_are_listed_by_name_whatever_their_case(void)
{
	static const char *const want[] = {"#alpha", "#Beta", "#lobby",
					   "#zeta"};
	static const struct step steps[] = {
	    {A, "/rooms\n" MARK_SEND, A, HAS(MARK_LINE)},
	};
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice") && chat_join(&c, "#zeta", A) &&
		chat_join(&c, "#Beta", A) && chat_join(&c, "#alpha", A));
	STEPS(&c, steps);
	for (int i = 0; i < 4; i++) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "-!- %s: ", want[i]);
		if (!CHECKF(c.seen.n == 4 && strncmp(c.seen.line[i], prefix,
						     strlen(prefix)) == 0,
			    "line %d is not %s", i, want[i])) {
			lines_report(__FILE__, __LINE__, &c.seen,
				     "the /rooms reply");
			break;
		}
	}
	chat_close(&c);
}

static void
test_rooms_says_no_rooms_when_there_are_none(void)
{
	static const struct step steps[] = {
	    {A, "/part", A, IS("-!- alice left #lobby")},
	    {A, "/rooms", A, IS("-!- no rooms")},
	    /* Talking without a room is refused, and /join still works. */
	    {A, "anyone?", A, HAS("-!- error: ")},
	    {A, "/join #lobby", A, IS("-!- alice joined #lobby")},
	};
	CONVERSE("", "alice", steps);
}

static void
test_message_right_after_join_goes_to_the_new_room(void)
{
	static const struct step steps[] = {
	    JOIN(B, "bob", "#new"),
	    /* One write: the message waits for the join to complete. */
	    {A,
	     "/join #new\nfirst words\n/join #other\nsecond\n/join #new\nthird",
	     B, IS("-!- alice joined #new")},
	    {0, NULL, B, IS("#new <alice> first words")},
	    {0, NULL, B, IS("#new <alice> third")},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_part_of_a_room_you_are_not_in_is_refused(void)
{
	static const struct step steps[] = {
	    JOIN(B, "bob", "#den"),
	    {A, "/part #nowhere", A, HAS("-!- error: ")},
	    /* #den exists, alice is not in it. */
	    {A, "/part #den", A, HAS("-!- error: "), .also = "#den"},
	    {B, "den still has bob\n" MARK_SEND, B, HAS(MARK_LINE),
	     .lacks = {"alice left"}},
	    {A, "usable", B, IS("#lobby <alice> usable")},
	};
	CONVERSE("", "alice bob", steps);
}

/* ---- private messages and actions --------------------------------------- */

static void
test_private_messages_go_both_ways(void)
{
	static const struct step steps[] = {
	    {A, "/msg bob psst, bob", A, IS("-> *bob* psst, bob")},
	    {0, NULL, B, IS("*alice* psst, bob")},
	    {B, "/msg alice what is it", B, IS("-> *alice* what is it")},
	    {0, NULL, A, IS("*bob* what is it")},
	    /* Private means carol saw neither. */
	    {A, "public now", C, HAS("#lobby <alice> public now"),
	     .lacks = {"psst", "what is it"}},
	    /* Nicknames match regardless of case; the echo names the real
	     * one. */
	    {A, "/msg BoB loud", A, IS("-> *bob* loud")},
	    {0, NULL, B, IS("*alice* loud")},
	    /* Sharing no room is no obstacle. */
	    {C, "/part", C, IS("-!- carol left #lobby")},
	    {A, "/msg carol still there?", C, IS("*alice* still there?")},
	};
	CONVERSE("", "alice bob carol", steps);
}

static void
test_msg_to_an_unknown_nick_is_an_error(void)
{
	static const struct step steps[] = {
	    {A, "/msg nobody hello?", A, IS("-!- error: no such nick nobody")},
	    {A, "/msg bob", A, HAS("-!- error: ")},
	    {A, "/msg bob ok now", B, IS("*alice* ok now")},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_me_is_sent_as_an_action_in_the_current_room(void)
{
	static const struct step steps[] = {
	    {A, "/me waves hello", B, IS("#lobby * alice waves hello")},
	    JOIN(A, "alice", "#den"),
	    JOIN(B, "bob", "#den"),
	    {A, "/me sits down", B, IS("#den * alice sits down")},
	    {A, "/me", A, HAS("-!- error: ")},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_double_slash_sends_a_line_starting_with_a_slash(void)
{
	static const struct step steps[] = {
	    {A, "//join is how you join", B,
	     IS("#lobby <alice> /join is how you join")},
	};
	CONVERSE("", "alice bob", steps);
}

/* ---- notices ------------------------------------------------------------ */

static void
test_quit_with_a_reason_is_announced_and_closes_the_connection(void)
{
	static const struct step steps[] = {
	    {D, "/part", D, IS("-!- dave left #lobby")},
	    {A, "/quit gone fishing", B, IS("-!- alice quit (gone fishing)")},
	    /* dave shared no room with alice. */
	    {D, MARK_SEND, D, HAS(MARK_LINE), .lacks = {"alice quit"}},
	    {0, NULL, A, CLOSED},
	    {C, "/quit", B, IS("-!- carol quit (quit)")},
	    {0, NULL, C, CLOSED},
	};
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice bob carol dave"));
	STEPS(&c, steps);
	/* The name is free again. */
	int a2 = join_as(c.s->port, "alice");
	CHECK(a2 >= 0);
	tc_close(a2);
	chat_close(&c);
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
	char cmd[1024], want[1024], got[CHAT_LINE], esc[CHAT_LINE * 4];
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice bob") && chat_join(&c, "#den", A | B));
	int a = c.fd[0], b = c.fd[1];
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
	chat_close(&c);
}

/* alice leaves without /quit, by closing (reset: with a RST); bob, who
 * shares two rooms with her, is told once with reason. */
static void
dropped_connection_is_announced(int reset, const char *reason)
{
	static const struct step drain[] = {
	    /* Closing with unread input would send a RST: read it all. */
	    {A, MARK_SEND, A, HAS(MARK_LINE)},
	};
	struct chat c;
	char want[128];
	REQUIRE(chat_open(&c, "", "alice bob") && chat_join(&c, "#den", A | B));
	if (reset) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(c.fd[0], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else {
		STEPS(&c, drain);
	}
	tc_close(c.fd[0]);
	snprintf(want, sizeof(want), "-!- alice quit (%s)", reason);
	const struct step told[] = {
	    {0, NULL, B, IS(want)},
	    {B, MARK_SEND, B, HAS(MARK_LINE), .lacks = {"alice quit"}},
	};
	STEPS(&c, told);
	/* Her name is free again. */
	c.fd[0] = join_as(c.s->port, "alice");
	CHECK(c.fd[0] >= 0);
	chat_close(&c);
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
	static const struct step steps[] = {
	    {C, "/join #hist", B, IS("-!- carol joined #hist")},
	    /* No old message comes again as a live one. */
	    {A, "live message", C, HAS("#hist <alice> live message"),
	     .lacks = {"#hist <alice> old message"}},
	};
	struct chat c;
	char want[64];
	REQUIRE(chat_open(&c, "--history 5", "alice bob carol") &&
		chat_join(&c, "#hist", A | B));
	for (int i = 0; i < 8; i++)
		tc_send(c.fd[0], "old message %d\n", i);
	CHECK(EXPECT_LINE(c.fd[1], "#hist <alice> old message 7"));
	STEPS(&c, steps);
	const struct lines *l = &c.seen;
	int k = 0, joined = -1;
	for (int i = 0; i < l->n; i++) {
		if (strcmp(l->line[i], "-!- carol joined #hist") == 0)
			joined = i;
		if (!strstr(l->line[i], "[history"))
			continue;
		const char *text = history_text(l->line[i], "#hist", "alice");
		snprintf(want, sizeof(want), "old message %d", 3 + k);
		CHECKF(text && strcmp(text, want) == 0,
		       "history line %d is \"%s\", want ...<alice> %s", k,
		       l->line[i], want);
		CHECKF(joined >= 0, "history before the join notice");
		k++;
	}
	CHECKF(k == 5, "%d history lines, want 5", k);
	if (k != 5)
		lines_report(__FILE__, __LINE__, l, "carol's lines");
	chat_close(&c);
}

static void
test_history_replays_actions_as_actions(void)
{
	static const struct step steps[] = {
	    {A, "said\n/me did", B, IS("#hist * alice did")},
	    {C, "/join #hist", C, IS("-!- carol joined #hist")},
	    {A, "live", C, HAS("#hist <alice> live")},
	};
	struct chat c;
	REQUIRE(chat_open(&c, "--history 5", "alice bob carol") &&
		chat_join(&c, "#hist", A | B));
	STEPS(&c, steps);
	const struct lines *l = &c.seen;
	int said = -1, did = -1;
	for (int i = 0; i < l->n; i++) {
		const char *t = history_text(l->line[i], "#hist", "alice");
		if (t && strcmp(t, "said") == 0)
			said = i;
		/* "#hist [history HH:MM:SSZ] * alice did" */
		if (strncmp(l->line[i], "#hist [history ", 15) == 0 &&
		    strlen(l->line[i]) == 15 + 11 + strlen("* alice did") &&
		    strcmp(l->line[i] + 26, "* alice did") == 0)
			did = i;
	}
	CHECKF(said >= 0 && did > said, "history: said at %d, did at %d", said,
	       did);
	if (!(said >= 0 && did > said))
		lines_report(__FILE__, __LINE__, l, "carol's lines");
	chat_close(&c);
}

static void
test_history_0_disables_the_replay(void)
{
	static const struct step steps[] = {
	    {C, "/join #hist", B | C, IS("-!- carol joined #hist")},
	    {A, "live message", C, HAS("#hist <alice> live message"),
	     .lacks = {"[history", "old message"}},
	};
	struct chat c;
	REQUIRE(chat_open(&c, "--history 0", "alice bob carol") &&
		chat_join(&c, "#hist", A | B));
	for (int i = 0; i < 3; i++)
		tc_send(c.fd[0], "old message %d\n", i);
	CHECK(EXPECT_LINE(c.fd[1], "#hist <alice> old message 2"));
	STEPS(&c, steps);
	chat_close(&c);
}

/* ---- help and errors ---------------------------------------------------- */

static void
test_help_lists_every_command(void)
{
	static const char *const cmds[] = {"/nick", "/join",  "/part", "/rooms",
					   "/who",  "/topic", "/msg",  "/me",
					   "/quit", "/help"};
	/* The help names arguments as the usage errors and the README do. */
	static const struct step steps[] = {
	    {A, "/help\n" MARK_SEND, A, HAS(MARK_LINE),
	     .once = {"-!- help: /part [#room] [reason] ",
		      "-!- help: /topic [#room] [text] "}},
	};
	struct chat c;
	char want[64];
	REQUIRE(chat_open(&c, "", "alice"));
	STEPS(&c, steps);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(want, sizeof(want), "-!- help: %s ", cmds[i]);
		CHECKF(lines_count(&c.seen, want) == 1, "no \"%s...\" line",
		       want);
	}
	for (int i = 0; i < c.seen.n; i++)
		CHECKF(strncmp(c.seen.line[i], "-!- help: ", 10) == 0,
		       "not a help line: \"%s\"", c.seen.line[i]);
	chat_close(&c);
}

#define BAD_ROOM                                                               \
	"-!- error: invalid room name: # then 1-49 bytes without spaces, "     \
	"commas, colons or control characters"

static void
test_room_errors_say_what_is_wrong_and_how_to_go_on(void)
{
	/* What alice sends, in order, and the line she gets for it. */
	static const struct step steps[] = {
	    {A, "/who nope", A, IS(BAD_ROOM)},
	    {A, "/part #bad,", A, IS(BAD_ROOM)},
	    {A, "/topic #bad: text", A, IS(BAD_ROOM)},
	    {A, "/who #nowhere", A, IS("-!- error: no such room #nowhere")},
	    {A, "/part #nowhere", A, IS("-!- error: you are not in #nowhere")},
	    {A, "/part", A, IS("-!- alice left #lobby")},
	    {A, "/part", A,
	     IS("-!- error: you are not in a room; /join #room")},
	    {A, "/topic", A,
	     IS("-!- error: you are not in a room; /join #room")},
	    {A, "/who", A, IS("-!- error: you are not in a room; /who #room")},
	    {A, "hello?", A,
	     IS("-!- error: you are not in a room; /join #room")},
	};
	CONVERSE("", "alice", steps);
}

static void
test_unknown_command_is_an_error_and_the_connection_stays_usable(void)
{
	static const struct step steps[] = {
	    {A, "/frobnicate the widget", A, HAS("-!- error: ")},
	    {A, "/", A, HAS("-!- error: ")},
	    {A, "still usable", B, IS("#lobby <alice> still usable")},
	};
	CONVERSE("", "alice bob", steps);
}

static void
test_every_error_leaves_the_connection_usable(void)
{
	static const char *const bad[] = {
	    "/nick",	     "/nick 9lives", "/nick a b",
	    "/join",	     "/join nohash", "/part #nowhere",
	    "/who #nowhere", "/msg",	     "/msg nobody hi",
	    "/me",	     "/frobnicate",
	};
	enum { NBAD = sizeof(bad) / sizeof(bad[0]) };
	struct chat c;
	struct lines *l = &c.seen;
	REQUIRE(chat_open(&c, "", "alice bob"));
	int a = c.fd[0], b = c.fd[1];
	for (int i = 0; i < NBAD; i++) {
		tc_send(a, "%s\n", bad[i]);
		tc_send(a, "after %d\n", i);
	}
	tc_send(a, "the end\n");
	/* Every command got exactly one error and every line went out. */
	l->n = l->total = 0;
	CHECK(COLLECT(b, "#lobby <alice> the end", l));
	for (int i = 0; i < NBAD; i++) {
		char want[64];
		snprintf(want, sizeof(want), "#lobby <alice> after %d", i);
		CHECKF(l->n > i && strcmp(l->line[i], want) == 0,
		       "bob's line %d is not \"%s\"", i, want);
	}
	/* The help comes after every error; its last line ends the lot. */
	tc_send(a, "/help\n");
	l->n = l->total = 0;
	CHECK(COLLECT(a, "-!- help: /help ", l));
	CHECKF(lines_count(l, "-!- error: ") == NBAD,
	       "%d errors for %d bad commands", lines_count(l, "-!- error: "),
	       NBAD);
	if (lines_count(l, "-!- error: ") != NBAD)
		lines_report(__FILE__, __LINE__, l, "alice's lines");
	chat_close(&c);
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
	static const char raw[] = "start \x1B[31mred\x1B[0m \x1B]0;title\x07"
				  "bell\x07 \x01\x02\x08\x0B\x0C\x1F\x7F"
				  "ctl lone\rcr \x1B"
				  "cend\r\n";
	static const char *const words[] = {"start", "red", "bell", "ctl",
					    "lone",  "cr",  "end"};
	static const struct step after[] = {
	    {A, "after controls", B, IS("#lobby <alice> after controls")},
	};
	struct chat c;
	char got[CHAT_LINE], esc[CHAT_LINE * 4];
	REQUIRE(chat_open(&c, "", "alice bob"));
	if (relay(c.fd[0], c.fd[1], raw, sizeof(raw) - 1, got, sizeof(got))) {
		CHECKF(!has_controls(got), "controls left in \"%s\"",
		       escape(got, esc, sizeof(esc)));
		CHECKF(!strchr(got, 0x1B), "ESC left in \"%s\"",
		       escape(got, esc, sizeof(esc)));
		CHECKF(in_order(got, words, 7), "text lost: \"%s\"",
		       escape(got, esc, sizeof(esc)));
	}
	STEPS(&c, after);
	chat_close(&c);
}

/* Raw bytes alice sends, as one line, and bob's copy of it byte for byte.
 * first: bytes sent in a write of their own before the rest. want NULL:
 * bob gets nothing, and alice no error. utf8: the copy is checked to be
 * well-formed UTF-8 as well. */
struct relay_row {
	const char *name, *raw;
	size_t len, first;
	const char *want;
	int utf8;
};

#define RAW(s) s, sizeof(s) - 1

static void
relay_rows(struct chat *c, const char *table, const struct relay_row *rows,
	   size_t n)
{
	static const struct step no_error = {A, MARK_SEND, A, HAS(MARK_LINE),
					     .lacks = {"-!- error: "}};
	char got[CHAT_LINE], esc[CHAT_LINE * 4], wesc[CHAT_LINE * 4];
	int a = c->fd[0], b = c->fd[1];

	for (size_t i = 0; i < n; i++) {
		const struct relay_row *r = &rows[i];
		if (r->first)
			CHECKF(send_raw(a, r->raw, r->first) == 0,
			       "%s[%zu] (%s): first write not sent", table, i,
			       r->name);
		if (!r->want) {
			struct lines *l = &c->seen;
			CHECKF(send_raw(a, r->raw, r->len) == 0,
			       "%s[%zu] (%s): not sent", table, i, r->name);
			tc_send(a, "end of relay\n");
			l->n = l->total = 0;
			CHECKF(COLLECT(b, "#lobby <alice> end of relay", l),
			       "%s[%zu] (%s): no end", table, i, r->name);
			if (!CHECKF(l->n == 0,
				    "%s[%zu] (%s): gave bob %d line(s)", table,
				    i, r->name, l->n))
				lines_report(__FILE__, __LINE__, l,
					     "bob's lines");
			chat_step(c, table, i, &no_error);
			continue;
		}
		if (!CHECKF(relay(a, b, r->raw + r->first, r->len - r->first,
				  got, sizeof(got)),
			    "%s[%zu] (%s): no copy", table, i, r->name))
			continue;
		CHECKF(strcmp(got, r->want) == 0,
		       "%s[%zu] (%s): got \"%s\", want \"%s\"", table, i,
		       r->name, escape(got, esc, sizeof(esc)),
		       escape(r->want, wesc, sizeof(wesc)));
		if (r->utf8)
			CHECKF(utf8_valid((const unsigned char *)got),
			       "%s[%zu] (%s): not UTF-8: \"%s\"", table, i,
			       r->name, escape(got, esc, sizeof(esc)));
	}
}

#define RELAY(c, table)                                                        \
	relay_rows(c, #table, table, sizeof(table) / sizeof(table[0]))

#define REPL "\xEF\xBF\xBD"

/* 你好世界, 日本語, 한국어, U+1F600, U+1F389, family ZWJ sequence, café
 * with a precomposed é, Ω. */
#define CJK_AND_EMOJI                                                          \
	"\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C "                    \
	"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E "                                \
	"\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 "                                \
	"\xF0\x9F\x98\x80\xF0\x9F\x8E\x89 "                                    \
	"\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"             \
	"\xF0\x9F\x91\xA7 caf\xC3\xA9 \xCE\xA9"

static const struct relay_row sanitised_rows[] = {
    /* TAB, C1 CSI (U+009B) and NEL (U+0085), RLO (U+202E), PDF
     * (U+202C), LRI (U+2066), PDI (U+2069), RLM (U+200F), ALM (U+061C),
     * LS (U+2028), PS (U+2029), BOM (U+FEFF); a ZWJ (U+200D) and an
     * NBSP (U+00A0) are ordinary text and stay. */
    {"tabs, C1 controls and bidi overrides are sanitised",
     RAW("a\tb \xC2\x9B"
	 "31m c\xC2\x85 "
	 "\xE2\x80\xAE"
	 "evil\xE2\x80\xAC "
	 "\xE2\x81\xA6iso\xE2\x81\xA9 "
	 "\xE2\x80\x8Fm\xD8\x9Ck\xE2\x80\xA8l\xE2\x80\xA9"
	 "p\xEF\xBB\xBF "
	 "z\xE2\x80\x8Dj\xC2\xA0n\n"),
     0, "a b 31m c evil iso mklp z\xE2\x80\x8Dj\xC2\xA0n", 0},
    {"NUL bytes are removed", RAW("nul\0in\0the\0\0middle\n"), 0,
     "nulinthemiddle", 0},
    /* Bytes that are invalid one by one under every decoding policy: a
     * lone continuation byte, a lead byte before ASCII, bytes that never
     * occur in UTF-8 (C0 C1 F5-FE). */
    {"invalid UTF-8 is replaced with the replacement character",
     RAW("v \x80 w \xC3( x \xC0\xAF y \xF8z \xC1!\n"), 0,
     "v " REPL " w " REPL "( x " REPL REPL " y " REPL "z " REPL "!", 1},
    /* The README: every byte of an invalid sequence, overlong forms and
     * surrogates included, becomes U+FFFD. A surrogate, an overlong '/',
     * an overlong euro sign, a code point past U+10FFFF, and a sequence
     * cut short by the end of the line. */
    {"every byte of an overlong, a surrogate or a cut sequence is replaced",
     RAW("s \xED\xA0\x80 o \xE0\x80\xAF e \xF0\x82\x82\xAC p "
	 "\xF4\x90\x80\x80 t \xE2\x82\n"),
     0,
     "s " REPL REPL REPL " o " REPL REPL REPL " e " REPL REPL REPL REPL
     " p " REPL REPL REPL REPL " t " REPL REPL,
     1},
    {"valid UTF-8, CJK and emoji pass untouched", RAW(CJK_AND_EMOJI "\n"), 0,
     CJK_AND_EMOJI, 0},
};

static void
test_lines_reach_the_room_sanitised_byte_for_byte(void)
{
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice bob"));
	RELAY(&c, sanitised_rows);
	chat_close(&c);
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
	char cmd[4096 + 64], got[CHAT_LINE], esc[CHAT_LINE * 4];
	struct chat c;
	REQUIRE(chat_open(&c, "--max-line 4096", "alice"));
	int a = c.fd[0];
	for (size_t i = 0; i < sizeof(cut_rows) / sizeof(cut_rows[0]); i++) {
		repeat(cmd, sizeof(cmd), cut_rows[i].prefix, cut_rows[i].unit,
		       cut_rows[i].count, cut_rows[i].suffix);
		tc_send(a, "%s\n", cmd);
		if (!CHECKF(EXPECT_OUT(a, "-!- error: ", got),
			    "row %zu: no error", i))
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
	chat_close(&c);
}

static const struct relay_row telnet_rows[] = {
    /* WILL ECHO, DO SUPPRESS-GO-AHEAD, and a terminal-type
     * subnegotiation (SB TTYPE IS "XTERM" SE), mid-line. */
    {"negotiation mid-line is stripped",
     RAW("\xFF\xFB\x01he\xFF\xFD\x03llo "
	 "\xFF\xFA\x18\x00XTERM\xFF\xF0world\r\n"),
     0, "hello world", 0},
    /* The parser keeps its state from one read to the next. */
    {"a command split between two writes is stripped",
     RAW("sp\xFF\xFD\x01lit\n"), 3, "split", 0},
    {"negotiation alone on a line sends nothing",
     RAW("\xFF\xFD\x18\xFF\xFB\x1F\n"), 0, NULL, 0},
};

static void
test_telnet_negotiation_is_stripped_from_the_line(void)
{
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice bob"));
	RELAY(&c, telnet_rows);
	chat_close(&c);
}

/* Lines with a 0xFF that is not telnet, and what bob gets of them. */
static const struct relay_row iac_rows[] = {
    {"0xFF before a letter is data",
     RAW("a\xff"
	 "b\n"),
     0, "a" REPL "b", 0},
    /* Latin-1 y-diaeresis, then a letter. */
    {"0xFF before a letter at the start is data",
     RAW("\xff"
	 "es\n"),
     0, REPL "es", 0},
    {"IAC IAC is one 0xFF of data",
     RAW("two\xff\xff"
	 "bytes\n"),
     0, "two" REPL "bytes", 0},
    /* A subnegotiation never reaches past the line end. */
    {"a subnegotiation ends at the line end",
     RAW("x\xff\xfa"
	 "abc\n"),
     0, "x", 0},
};

static void
test_byte_0xff_is_data_unless_it_starts_a_telnet_command(void)
{
	/* A 0xFF before the LF leaves the next line a line of its own. */
	static const struct step next_line[] = {
	    {A, "/part #x\xff\n/nick ab", A, HAS("-!- error: ")},
	    {0, NULL, A, IS("-!- alice is now known as ab")},
	};
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice bob"));
	RELAY(&c, iac_rows);
	STEPS(&c, next_line);
	chat_close(&c);
}

static const struct relay_row empty_rows[] = {
    /* Only spaces or tabs count as empty too. */
    {"empty lines, with CR, spaces or tabs", RAW("\n\r\n\n   \n\t\t\n \t \r\n"),
     0, NULL, 0},
};

static void
test_empty_lines_are_ignored(void)
{
	struct chat c;
	REQUIRE(chat_open(&c, "", "alice bob"));
	RELAY(&c, empty_rows);
	chat_close(&c);
}

/* ---- flood control ------------------------------------------------------ */

static void
test_flooder_is_throttled_not_dropped_and_others_are_not_blocked(void)
{
	enum { M = 200 };
	struct chat c;
	char *burst = malloc(M * 16), buf[CHAT_LINE];
	size_t len = 0;
	REQUIRE(burst);
	if (!chat_open(&c, "--flood-burst 5 --flood-rate 50",
		       "flooder bob carol")) {
		free(burst);
		return;
	}
	int a = c.fd[0], b = c.fd[1];
	for (int i = 0; i < M; i++)
		len += (size_t)sprintf(burst + len, "f %d\n", i);
	if (!CHECK(send_raw(a, burst, len) == 0)) {
		free(burst);
		chat_close(&c);
		return;
	}
	tc_send(c.fd[2], "not blocked\n");
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
	chat_close(&c);
}

static void
test_flood_bucket_paces_commands_without_dropping_them(void)
{
	enum { M = 40 };
	struct chat c;
	char *burst = malloc(M * 16);
	size_t len = 0;
	REQUIRE(burst);
	if (!chat_open(&c, "--flood-burst 5 --flood-rate 50", "alice")) {
		free(burst);
		return;
	}
	for (int i = 0; i < M; i++)
		len += (size_t)sprintf(burst + len, "/who\n");
	len += (size_t)sprintf(burst + len, MARK_CMD);
	if (CHECK(send_raw(c.fd[0], burst, len) == 0)) {
		struct lines *l = &c.seen;
		l->n = l->total = 0;
		CHECK(COLLECT(c.fd[0], MARK_LINE, l));
		CHECKF(lines_count(l, "-!- members of #lobby: alice") == M,
		       "%d answers to %d /who",
		       lines_count(l, "-!- members of"), M);
	}
	free(burst);
	chat_close(&c);
}

/* ---- per-address limit -------------------------------------------------- */

static void
test_third_loopback_connection_is_refused_with_limit_loopback(void)
{
	static const struct step steps[] = {
	    {0, NULL, C,
	     IS("-!- too many connections from your address (limit 2)")},
	    {0, NULL, C, CLOSED},
	    {A, "we two", B, IS("#lobby <alice> we two")},
	    {B, "still chat", A, IS("#lobby <bob> still chat")},
	    /* A place frees up when one leaves. */
	    {B, "/quit", A, IS("-!- bob quit (quit)")},
	};
	struct chat c;
	REQUIRE(
	    chat_open(&c, "--max-per-address 2 --limit-loopback", "alice bob"));
	if (chat_connect(&c)) {
		STEPS(&c, steps);
		int d = join_as(c.s->port, "dave");
		CHECK(d >= 0);
		tc_close(d);
	}
	chat_close(&c);
}

static void
test_loopback_is_exempt_from_the_per_address_limit_by_default(void)
{
	static const struct step steps[] = {
	    {E, "all of us", A | B | C | D, IS("#lobby <user4> all of us")},
	};
	CONVERSE("--max-per-address 2", "user0 user1 user2 user3 user4", steps);
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
	tc_close_all(k.fd, 2);
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
	RUN(test_lines_reach_the_room_sanitised_byte_for_byte);
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
