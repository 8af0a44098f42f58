/*
 * Integration tests of registered rooms against the real parleyd with a
 * database of the test's own: a room registered by its logged-in
 * operator keeps its modes, key, limit, bans, topic and operator
 * accounts across a real SIGTERM restart, its founder is its operator
 * again on joining, and only the founder drops it; server-wide bans
 * survive a restart and tell the refused client why; -n lets outsiders
 * speak; ChanServ answers IRC clients; a room of plain and IRC members
 * keeps what either set.
 */
#include "../irc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS
#define CS   ":ChanServ!ChanServ@services. NOTICE "

/* parleyd --hash-password for "secret" (yescrypt). */
#define OPER_HASH                                                              \
	"$y$j9T$DCK4CeYpeL5hTRFN173hA/$OISrJD4iyquoQqAcpUhR09nuE9spAE.BIisVJS/eRf4"
#define OPER_ARGS "--oper admin:" OPER_HASH

static char t_model[256];

/* ---- fixtures ------------------------------------------------------------ */

/* A fresh directory with the database in it. */
struct fixture {
	char dir[64];
	char db[128];
};

static void
fixture_make(struct fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/parley-rooms.XXXXXX");
	if (!mkdtemp(f->dir))
		abort();
	snprintf(f->db, sizeof(f->db), "%s/parley.db", f->dir);
}

static void
fixture_free(struct fixture *f)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", f->dir);
}

/* parleyd with plain and IRC listeners on the fixture's database. */
static struct ts_server *
start(const struct fixture *f, const char *args)
{
	char all[1024];

	snprintf(all, sizeof(all), "--db %s %s", f->db, args);
	return irc_start(t_model, all);
}

/* SIGTERM, and a clean exit. */
static void
stop(struct ts_server *s)
{
	CHECK(ts_stop(s, SIGTERM, WAIT) == 0);
	ts_free(s);
}

/* The plain client's next line containing want. */
#define GETS(fd, want) plain_gets_at(__LINE__, fd, want, NULL, 0)

static int
plain_gets_at(int line, int fd, const char *want, char *out, size_t n)
{
	char got[4096];

	return CHECKF(tc_expect(fd, want, out ? out : got,
				out ? n : sizeof(got), WAIT) > 0,
		      "line %d: plain client: no line with \"%s\"", line, want);
}

/* Sends a plain line and waits for a line containing want. */
#define DO(fd, send, want) plain_do_at(__LINE__, fd, send, want)

static int
plain_do_at(int line, int fd, const char *send, const char *want)
{
	tc_send(fd, "%s\n", send);
	return plain_gets_at(line, fd, want, NULL, 0);
}

/* A plain client renamed to nick; -1 after a failed check. */
static int
plain_as(const struct ts_server *s, const char *nick)
{
	char old[64], want[160];
	int fd = tc_join(s->port, old, sizeof(old));

	if (!CHECKF(fd >= 0, "plain client cannot join"))
		return -1;
	snprintf(want, sizeof(want), "%s", nick);
	if (strcmp(old, nick) != 0) {
		char cmd[96];
		snprintf(cmd, sizeof(cmd), "/nick %s", nick);
		snprintf(want, sizeof(want), "-!- %s is now known as %s", old,
			 nick);
		if (!DO(fd, cmd, want)) {
			tc_close(fd);
			return -1;
		}
	}
	return fd;
}

/* A plain client logged in to account nick (registered first, with
 * password "password-NICK", when new); -1 after a failed check. */
static int
plain_account(const struct ts_server *s, const char *nick, int new)
{
	char cmd[128], want[128];
	int fd;

	if (new) {
		fd = plain_as(s, nick);
		if (fd < 0)
			return -1;
		snprintf(cmd, sizeof(cmd), "/register password-%s", nick);
		snprintf(want, sizeof(want), "-!- registered %s", nick);
	} else {
		fd = tc_join(s->port, NULL, 0);
		if (!CHECKF(fd >= 0, "plain client cannot join"))
			return -1;
		snprintf(cmd, sizeof(cmd), "/login %s password-%s", nick, nick);
		snprintf(want, sizeof(want), "-!- you are logged in as %s",
			 nick);
	}
	if (!DO(fd, cmd, want)) {
		tc_close(fd);
		return -1;
	}
	return fd;
}

/* The line /who ROOM shows. */
static int
members(int fd, const char *room, char *out, size_t n)
{
	char cmd[96], want[96];

	snprintf(cmd, sizeof(cmd), "/who %s", room);
	snprintf(want, sizeof(want), "-!- members of %s:", room);
	tc_send(fd, "%s\n", cmd);
	return tc_expect(fd, want, out, n, WAIT) > 0;
}

/* ---- a registered room across a restart --------------------------------- */

static void
test_a_registered_room_keeps_modes_key_bans_topic_and_operators_across_a_restart(
    void)
{
	struct fixture f;
	struct ts_server *s;
	char line[1024];
	int a, c, b;

	fixture_make(&f);
	s = start(&f, "");
	REQUIRE(s);
	a = plain_account(s, "alice", 1);
	c = plain_account(s, "carol", 1);
	REQUIRE(a >= 0 && c >= 0);
	CHECK(DO(a, "/join #keep", "-!- alice joined #keep"));
	CHECK(DO(c, "/join #keep", "-!- carol joined #keep"));
	CHECK(DO(a, "/register-room", "-!- #keep is now registered to alice"));
	CHECK(DO(a, "/mode +mk sesame",
		 "-!- alice sets mode +mk sesame on "
		 "#keep"));
	CHECK(DO(a, "/mode +l 5", "-!- alice sets mode +l 5 on #keep"));
	CHECK(DO(a, "/ban spammer", "-!- alice sets mode +b spammer!*@*"));
	CHECK(DO(a, "/ban *!*@bad.example", "sets mode +b *!*@bad.example"));
	CHECK(DO(a, "/unban *!*@bad.example", "sets mode -b *!*@bad.example"));
	CHECK(DO(a, "/topic #keep tea at five",
		 "-!- alice set the topic of #keep: tea at five"));
	CHECK(DO(a, "/op carol", "-!- alice sets mode +o carol on #keep"));
	CHECK(DO(a, "/room-info", "-!- #keep is registered to alice since "));
	tc_close(a);
	tc_close(c);
	stop(s);

	s = start(&f, "");
	REQUIRE(s);
	CHECK(ts_log_wait(s, "1 registered room", WAIT) == 0);
	/* The room does not exist yet: its state waits for a join. */
	b = plain_as(s, "bob");
	REQUIRE(b >= 0);
	CHECK(DO(b, "/join #keep", "-!- error: #keep needs its key"));
	CHECK(DO(b, "/join #keep sesame", "-!- bob joined #keep"));
	CHECK(GETS(b, "tea at five"));
	CHECK(DO(b, "/mode", "-!- modes of #keep: +klmnt sesame 5"));
	tc_send(b, "/bans\n");
	CHECK(tc_expect(b, "-!- ban on #keep: ", line, sizeof(line), WAIT) > 0);
	CHECKF(strstr(line, "spammer!*@*") && strstr(line, "alice"), "%s",
	       line);
	CHECK(GETS(b, "-!- end of the bans of #keep"));
	CHECK(DO(b, "/register-room",
		 "-!- error: #keep is already registered "
		 "to alice"));
	/* bob made it, yet does not run it: its founder and operator
	 * accounts do. */
	CHECK(members(b, "#keep", line, sizeof(line)));
	CHECKF(strstr(line, " bob") && !strstr(line, "@bob"), "%s", line);
	CHECK(DO(b, "/mode -m", "-!- error: you are not an operator of #keep"));
	a = plain_account(s, "alice", 0);
	c = plain_account(s, "carol", 0);
	REQUIRE(a >= 0 && c >= 0);
	CHECK(DO(a, "/join #keep sesame", "-!- alice joined #keep"));
	CHECK(DO(c, "/join #keep sesame", "-!- carol joined #keep"));
	CHECK(members(b, "#keep", line, sizeof(line)));
	CHECKF(strstr(line, "@alice") && strstr(line, "@carol") &&
		   !strstr(line, "@bob"),
	       "%s", line);
	CHECK(DO(a, "/voice bob", "-!- alice sets mode +v bob on #keep"));
	/* Logged out and in again while in the room: operator again. */
	CHECK(DO(a, "/deop alice", "-!- alice sets mode -o alice on #keep"));
	CHECK(DO(a, "/logout", "-!- you are logged out"));
	CHECK(DO(a, "/login alice password-alice",
		 "-!- ChanServ sets mode +o alice on #keep"));
	CHECK(GETS(b, "-!- ChanServ sets mode +o alice on #keep"));
	CHECK(members(b, "#keep", line, sizeof(line)));
	CHECKF(strstr(line, "@alice"), "%s", line);
	tc_close(a);
	tc_close(b);
	tc_close(c);
	stop(s);
	fixture_free(&f);
}

/* A change made while the room is empty of... nobody: a room is made
 * again after it emptied, with what it had. */
static void
test_a_registered_room_keeps_its_state_while_it_is_empty(void)
{
	struct fixture f;
	struct ts_server *s;
	int a, b;

	fixture_make(&f);
	s = start(&f, "");
	REQUIRE(s);
	a = plain_account(s, "alice", 1);
	REQUIRE(a >= 0);
	CHECK(DO(a, "/join #quiet", "-!- alice joined #quiet"));
	CHECK(DO(a, "/register-room", "is now registered to alice"));
	CHECK(DO(a, "/mode +si", "-!- alice sets mode +si on #quiet"));
	CHECK(DO(a, "/part #quiet", "-!- alice left #quiet"));
	b = plain_as(s, "bob");
	REQUIRE(b >= 0);
	CHECK(DO(b, "/join #quiet", "-!- error: #quiet is invite only"));
	CHECK(DO(a, "/join #quiet", "-!- alice joined #quiet"));
	CHECK(DO(a, "/mode", "-!- modes of #quiet: +inst"));
	tc_close(a);
	tc_close(b);
	stop(s);
	fixture_free(&f);
}

/* The store's pid, from its "store N: database ... open" line. */
static pid_t
store_pid(struct ts_server *s, int nth)
{
	char line[512];
	const char *p;

	if (ts_log_wait_count(s, ": database ", nth, WAIT) != 0 ||
	    ts_log_line(s, "open, ", line, sizeof(line)) != 0)
		return -1;
	p = strstr(line, "store ");
	return p ? (pid_t)atoi(p + 6) : -1;
}

static void
test_changes_made_while_the_store_is_down_are_kept_once_it_is_back(void)
{
	struct fixture f;
	struct ts_server *s;
	pid_t pid;
	int a, b;

	fixture_make(&f);
	s = start(&f, "");
	REQUIRE(s);
	a = plain_account(s, "alice", 1);
	REQUIRE(a >= 0);
	CHECK(DO(a, "/join #back", "-!- alice joined #back"));
	CHECK(DO(a, "/register-room", "is now registered to alice"));
	pid = store_pid(s, 1);
	REQUIRE(pid > 0);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(ts_log_wait(s, "killed by signal 9", WAIT) == 0);
	CHECK(DO(a, "/ban late!*@*", "-!- alice sets mode +b late!*@*"));
	CHECK(DO(a, "/mode +m", "-!- alice sets mode +m on #back"));
	CHECK(ts_log_wait(s, "store respawned as pid", WAIT) == 0);
	CHECK(ts_log_wait_count(s, ": database ", 2, WAIT) == 0);
	tc_close(a);
	stop(s);

	s = start(&f, "");
	REQUIRE(s);
	b = plain_as(s, "bob");
	REQUIRE(b >= 0);
	CHECK(DO(b, "/join #back", "-!- bob joined #back"));
	CHECK(DO(b, "/mode", "-!- modes of #back: +mnt"));
	CHECK(DO(b, "/bans", "-!- ban on #back: late!*@*"));
	tc_close(b);
	stop(s);
	fixture_free(&f);
}

static void
test_a_room_is_unregistered_when_its_founders_account_is_deleted(void)
{
	struct fixture f;
	struct ts_server *s;
	int a;

	fixture_make(&f);
	s = start(&f, "");
	REQUIRE(s);
	a = plain_account(s, "alice", 1);
	REQUIRE(a >= 0);
	CHECK(DO(a, "/join #gone", "-!- alice joined #gone"));
	CHECK(DO(a, "/register-room", "is now registered to alice"));
	CHECK(DO(a, "/unregister password-alice", "-!- "));
	CHECK(ts_log_wait(s, "#gone is no longer registered: account alice",
			  WAIT) == 0);
	CHECK(DO(a, "/room-info #gone", "-!- error: #gone is not registered"));
	tc_close(a);
	stop(s);
	s = start(&f, "");
	REQUIRE(s);
	CHECK(ts_log_wait(s, "0 registered rooms", WAIT) == 0);
	stop(s);
	fixture_free(&f);
}

/* ---- who may register and drop ------------------------------------------ */

/* Each row: who sends what, and the line that answers it. Clients: 0
 * alice (logged in, runs #mine, registered), 1 bob (logged in, a member
 * of #mine, no operator), 2 dave (no account, runs #free). */
static const struct {
	int who;
	const char *send, *want;
} refusal_rows[] = {
    {2, "/register-room #free", "-!- error: you are not logged in"},
    {1, "/register-room #mine",
     "-!- error: #mine is already registered "
     "to alice"},
    {1, "/drop-room #mine",
     "-!- error: only alice, the founder of #mine, "
     "may do that"},
    {2, "/unregister-room #mine",
     "-!- error: only alice, the founder of "
     "#mine, may do that"},
    {1, "/register-room #free",
     "-!- error: you are not an operator of "
     "#free"},
    {0, "/register-room #lobby", "-!- error: #lobby belongs to the server"},
    {0, "/room-info #free", "-!- error: #free is not registered"},
    {0, "/drop-room #nowhere", "-!- error: #nowhere is not registered"},
    {0, "/register-room #mine now", "-!- error: usage: /register-room"},
    {1, "/room-info #mine", "-!- #mine is registered to alice since "},
    {0, "/drop-room #mine", "-!- #mine is no longer registered"},
    {0, "/room-info #mine", "-!- error: #mine is not registered"},
};

static void
test_only_a_logged_in_operator_registers_and_only_the_founder_drops(void)
{
	struct fixture f;
	struct ts_server *s;
	int fds[3];

	fixture_make(&f);
	s = start(&f, "");
	REQUIRE(s);
	fds[0] = plain_account(s, "alice", 1);
	fds[1] = plain_account(s, "bob", 1);
	fds[2] = plain_as(s, "dave");
	REQUIRE(fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0);
	CHECK(DO(fds[0], "/join #mine", "-!- alice joined #mine"));
	CHECK(DO(fds[0], "/register-room", "is now registered to alice"));
	CHECK(DO(fds[1], "/join #mine", "-!- bob joined #mine"));
	CHECK(DO(fds[2], "/join #free", "-!- dave joined #free"));
	CHECK(DO(fds[1], "/join #free", "-!- bob joined #free"));
	for (size_t i = 0; i < sizeof(refusal_rows) / sizeof(refusal_rows[0]);
	     i++)
		CHECKF(DO(fds[refusal_rows[i].who], refusal_rows[i].send,
			  refusal_rows[i].want),
		       "row %zu: %s", i, refusal_rows[i].send);
	for (int i = 0; i < 3; i++)
		tc_close(fds[i]);
	stop(s);
	fixture_free(&f);
}

static void
test_without_a_database_rooms_cannot_be_registered(void)
{
	struct ts_server *s = irc_start(t_model, "--db none");
	int a;

	REQUIRE(s);
	a = plain_as(s, "alice");
	REQUIRE(a >= 0);
	CHECK(DO(a, "/join #here", "-!- alice joined #here"));
	CHECK(DO(a, "/register-room", "-!- error: "));
	tc_close(a);
	stop(s);
}

/* ---- server-wide bans ---------------------------------------------------- */

static void
test_a_server_ban_survives_a_restart_and_the_refused_client_sees_its_reason(
    void)
{
	struct fixture f;
	struct ts_server *s;
	char line[512];
	int c, fd;

	fixture_make(&f);
	s = start(&f, OPER_ARGS);
	REQUIRE(s);
	c = plain_as(s, "carol");
	REQUIRE(c >= 0);
	CHECK(DO(c, "/oper admin secret", "-!- you are now a server operator"));
	CHECK(DO(c, "/gline 10.9.8.7 old news", "server ban on 10.9.8.7 set"));
	CHECK(DO(c, "/ungline 10.9.8.7", "server ban on 10.9.8.7 lifted"));
	CHECK(DO(c, "/gline 127.0.0.* go away", "server ban on 127.0.0.* set"));
	/* Refused now, with the reason. */
	fd = tc_connect(s->port);
	CHECK(fd >= 0 &&
	      tc_expect(fd, "-!- you are banned from this server (go away)",
			NULL, 0, WAIT) > 0);
	tc_close(fd);
	tc_close(c);
	stop(s);

	s = start(&f, OPER_ARGS);
	REQUIRE(s);
	CHECK(ts_log_wait(s, "1 server ban", WAIT) == 0);
	fd = tc_connect(s->port);
	CHECK(fd >= 0 &&
	      tc_expect(fd, "-!- you are banned from this server (go away)",
			line, sizeof(line), WAIT) > 0);
	tc_close(fd);
	fd = irc_connect(s);
	CHECK(fd >= 0);
	CHECK(
	    IRC_NEXT(fd, S "465 * :You are banned from this server (go away)"));
	CHECK(IRC_NEXT(fd, "ERROR :Closing link: You are banned from this "
			   "server (go away)"));
	tc_close(fd);
	CHECK(ts_log_wait(s, "banned from this server: go away", WAIT) == 0);
	CHECK(ts_log_count(s, "10.9.8.7") == 0);
	stop(s);
	fixture_free(&f);
}

/* With a store, /oper's password is checked there (yescrypt blocks for
 * tens of ms, the supervisor never does): the answers are the same. */
static const struct {
	const char *send, *want, *log;
} oper_rows[] = {
    {"/oper admin wrong", "-!- error: wrong operator password",
     "failed to become server operator admin: wrong password"},
    {"/oper nobody secret", "-!- error: no such operator nobody",
     "failed to become server operator: no operator nobody"},
    {"/oper admin secret", "-!- you are now a server operator",
     "is now server operator admin"},
};

static void
test_oper_passwords_are_checked_by_the_store(void)
{
	struct fixture f;
	struct ts_server *s;
	int c;

	fixture_make(&f);
	s = start(&f, OPER_ARGS);
	REQUIRE(s);
	c = plain_as(s, "carol");
	REQUIRE(c >= 0);
	for (size_t i = 0; i < sizeof(oper_rows) / sizeof(oper_rows[0]); i++) {
		CHECKF(DO(c, oper_rows[i].send, oper_rows[i].want), "row %zu",
		       i);
		CHECKF(ts_log_wait(s, oper_rows[i].log, WAIT) == 0, "row %zu",
		       i);
	}
	CHECK(DO(c, "/wall hello", "-!- wall from carol: hello"));
	tc_close(c);
	stop(s);
	fixture_free(&f);
}

/* ---- -n ------------------------------------------------------------------ */

/* Whether a message from outside reaches the room, by its modes. */
static const struct {
	const char *modes; /* set by the operator first */
	int reaches;
} outside_rows[] = {
    {"-n", 1},
    {"+m", 0}, /* -n, but moderated: nobody outside has voice */
    {"-m", 1},
    {"+n", 0},
};

static void
test_minus_n_lets_a_client_outside_the_room_send_to_it(void)
{
	struct fixture f;
	struct ts_server *s;
	char send[128], want[128];
	int a, b;

	fixture_make(&f);
	s = start(&f, "");
	REQUIRE(s);
	a = irc_login(s, "alice", NULL);
	b = irc_login(s, "bob", NULL);
	REQUIRE(a >= 0 && b >= 0);
	irc_send(a, "JOIN #open");
	CHECK(IRC_UNTIL(a, S "366 alice #open *"));
	for (size_t i = 0; i < sizeof(outside_rows) / sizeof(outside_rows[0]);
	     i++) {
		irc_send(a, "MODE #open %s", outside_rows[i].modes);
		CHECK(IRC_UNTIL(a, ":alice!* MODE #open *"));
		snprintf(send, sizeof(send), "PRIVMSG #open :row %zu", i);
		irc_send(b, "%s", send);
		if (outside_rows[i].reaches) {
			snprintf(want, sizeof(want),
				 ":bob!* PRIVMSG #open :row %zu", i);
			CHECKF(IRC_NEXT(a, want), "row %zu", i);
		} else {
			CHECKF(IRC_NEXT(b, S "404 bob #open :*"), "row %zu", i);
		}
	}
	/* A room that does not exist. */
	irc_send(b, "PRIVMSG #nowhere :hello");
	CHECK(IRC_NEXT(b, S "403 bob #nowhere :*"));
	tc_close(a);
	tc_close(b);
	stop(s);
	fixture_free(&f);
}

/* ---- ChanServ ------------------------------------------------------------ */

/* What an IRC client (not logged in) is told, in order. */
static const struct {
	const char *send, *want;
} chanserv_rows[] = {
    {"PRIVMSG ChanServ :INFO #club", CS "ivy :Information on #club:"},
    {NULL, CS "ivy :Founder    : alice"},
    {NULL, CS "ivy :Registered : 2*UTC"},
    {"PRIVMSG ChanServ :REGISTER #ivy", CS "ivy :You must be logged in *"},
    {"PRIVMSG chanserv :DROP #club", CS "ivy :Access denied: only alice, "
					"the founder of #club, may do that"},
    {"PRIVMSG ChanServ :REGISTER #club", CS "ivy :#club is already "
					    "registered to alice"},
    {"PRIVMSG ChanServ :INFO #ivy", CS "ivy :#ivy is not registered"},
    {"PRIVMSG ChanServ :REGISTER", CS "ivy :Usage: REGISTER #room*"},
    {"PRIVMSG ChanServ :HELP", CS "ivy :ChanServ keeps registered rooms*"},
    {NULL, CS "ivy :  REGISTER #room*"},
    {NULL, CS "ivy :  DROP #room*"},
    {NULL, CS "ivy :  INFO #room*"},
    {NULL, CS "ivy :  HELP"},
    {NULL, CS "ivy :End of help"},
    {"PRIVMSG ChanServ :FOO", CS "ivy :Unknown command FOO*"},
};

static void
test_chanserv_answers_register_info_drop_and_help_with_notices(void)
{
	struct fixture f;
	struct ts_server *s;
	int a, i;

	fixture_make(&f);
	s = start(&f, "");
	REQUIRE(s);
	a = plain_account(s, "alice", 1);
	REQUIRE(a >= 0);
	CHECK(DO(a, "/join #club", "-!- alice joined #club"));
	CHECK(DO(a, "/register-room", "is now registered to alice"));
	i = irc_login(s, "ivy", NULL);
	REQUIRE(i >= 0);
	irc_send(i, "JOIN #ivy");
	CHECK(IRC_UNTIL(i, S "366 ivy #ivy *"));
	for (size_t k = 0; k < sizeof(chanserv_rows) / sizeof(chanserv_rows[0]);
	     k++) {
		if (chanserv_rows[k].send)
			irc_send(i, "%s", chanserv_rows[k].send);
		CHECKF(IRC_NEXT(i, chanserv_rows[k].want), "row %zu", k);
	}
	/* A NOTICE to ChanServ is never answered. */
	irc_send(i, "NOTICE ChanServ :INFO #club");
	CHECK(IRC_SYNC(i) == 0);
	/* The founder drops it; ChanServ knows. */
	CHECK(DO(a, "/unregister-room #club",
		 "-!- #club is no longer "
		 "registered"));
	irc_send(i, "PRIVMSG ChanServ :INFO #club");
	CHECK(IRC_NEXT(i, CS "ivy :#club is not registered"));
	/* Logged in through NickServ, the IRC operator of #ivy registers
	 * it with ChanServ. */
	irc_send(i, "PRIVMSG NickServ :REGISTER password-ivy");
	CHECK(IRC_UNTIL(i, S "900 ivy *"));
	irc_send(i, "PRIVMSG ChanServ :REGISTER #ivy");
	CHECK(IRC_UNTIL(i, CS "ivy :#ivy is now registered to ivy"));
	irc_send(i, "PRIVMSG ChanServ :INFO #ivy");
	CHECK(IRC_NEXT(i, CS "ivy :Information on #ivy:"));
	CHECK(IRC_NEXT(i, CS "ivy :Founder    : ivy"));
	tc_close(a);
	tc_close(i);
	stop(s);
	fixture_free(&f);
}

/* ---- plain and IRC in one room ------------------------------------------ */

static void
test_a_room_of_plain_and_irc_members_keeps_what_either_set(void)
{
	struct fixture f;
	struct ts_server *s;
	char line[512];
	int a, i;

	fixture_make(&f);
	s = start(&f, "");
	REQUIRE(s);
	a = plain_account(s, "alice", 1);
	REQUIRE(a >= 0);
	CHECK(DO(a, "/join #mix", "-!- alice joined #mix"));
	CHECK(DO(a, "/register-room", "is now registered to alice"));
	i = irc_login(s, "ivy", NULL);
	REQUIRE(i >= 0);
	irc_send(i, "JOIN #mix");
	CHECK(IRC_UNTIL(i, S "366 ivy #mix *"));
	CHECK(GETS(a, "-!- ivy joined #mix"));
	CHECK(DO(a, "/op ivy", "-!- alice sets mode +o ivy on #mix"));
	CHECK(IRC_UNTIL(i, ":alice!* MODE #mix +o ivy"));
	/* ivy has no account: its operator status is not kept. */
	irc_send(i, "MODE #mix +sb troll!*@*");
	CHECK(IRC_NEXT(i, ":ivy!* MODE #mix +sb troll!*@*"));
	CHECK(GETS(a, "-!- ivy sets mode +sb troll!*@* on #mix"));
	irc_send(i, "TOPIC #mix :plain and irc");
	CHECK(IRC_NEXT(i, ":ivy!* TOPIC #mix :plain and irc"));
	CHECK(GETS(a, "plain and irc"));
	tc_close(a);
	tc_close(i);
	stop(s);

	s = start(&f, "");
	REQUIRE(s);
	i = irc_login(s, "ivy", NULL);
	REQUIRE(i >= 0);
	irc_send(i, "JOIN #mix");
	CHECK(IRC_UNTIL(i, S "332 ivy #mix :plain and irc"));
	CHECK(IRC_UNTIL(i, S "353 ivy * #mix :ivy"));
	irc_send(i, "MODE #mix");
	CHECK(IRC_UNTIL(i, S "324 ivy #mix +nst"));
	irc_send(i, "MODE #mix b");
	CHECK(IRC_UNTIL(i, S "367 ivy #mix troll!*@* ivy *"));
	CHECK(IRC_NEXT(i, S "368 ivy #mix :*"));
	/* alice joins as a guest, then logs in: ChanServ makes her an
	 * operator, as IRC sees it too. */
	a = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0);
	CHECK(DO(a, "/join #mix", " joined #mix"));
	CHECK(IRC_UNTIL(i, ":guest* JOIN #mix*"));
	CHECK(DO(a, "/login alice password-alice",
		 "-!- ChanServ sets mode +o alice on #mix"));
	CHECK(IRC_UNTIL(i, ":ChanServ!ChanServ@" IRC_SERVER " MODE #mix +o "
			   "alice"));
	CHECK(members(a, "#mix", line, sizeof(line)));
	CHECKF(strstr(line, "@alice") && !strstr(line, "@ivy"), "%s", line);
	tc_close(a);
	tc_close(i);
	stop(s);
	fixture_free(&f);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "rooms", t_model, sizeof(t_model), suite);
	RUN(test_a_registered_room_keeps_modes_key_bans_topic_and_operators_across_a_restart);
	RUN(test_a_registered_room_keeps_its_state_while_it_is_empty);
	RUN(test_changes_made_while_the_store_is_down_are_kept_once_it_is_back);
	RUN(test_a_room_is_unregistered_when_its_founders_account_is_deleted);
	RUN(test_only_a_logged_in_operator_registers_and_only_the_founder_drops);
	RUN(test_without_a_database_rooms_cannot_be_registered);
	RUN(test_a_server_ban_survives_a_restart_and_the_refused_client_sees_its_reason);
	RUN(test_oper_passwords_are_checked_by_the_store);
	RUN(test_minus_n_lets_a_client_outside_the_room_send_to_it);
	RUN(test_chanserv_answers_register_info_drop_and_help_with_notices);
	RUN(test_a_room_of_plain_and_irc_members_keeps_what_either_set);
	return tl_summary(suite);
}
