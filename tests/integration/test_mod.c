/*
 * Integration tests of moderation against the real parleyd, in both
 * protocols: room operators and voice, every mode, bans by mask, keys,
 * limits, invitations, kicks; server operators with /oper, /kill, /wall
 * and server-wide bans; plain and IRC users in one moderated room seeing
 * each other's actions. Privileged commands are tables, each row refused
 * to a member who is no operator.
 */
#include "../irc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS

/* parleyd --hash-password for "secret" (yescrypt). */
#define OPER_HASH                                                              \
	"$y$j9T$DCK4CeYpeL5hTRFN173hA/$OISrJD4iyquoQqAcpUhR09nuE9spAE.BIisVJS/eRf4"
#define OPER_ARGS "--oper admin:" OPER_HASH

static char t_model[256];

static struct ts_server *
start(const char *extra)
{
	return irc_start(t_model, extra);
}

/* alice makes #ops (its operator), bob joins; both see bob join. */
static int
plain_pair(const struct ts_server *s, int *a, int *b)
{
	*a = irc_plain_as(s, "alice");
	*b = irc_plain_as(s, "bob");
	if (*a < 0 || *b < 0)
		return 0;
	return IRC_PLAIN_DO(*a, "/join #ops", "-!- alice joined #ops") &&
	       IRC_PLAIN_DO(*b, "/join #ops", "-!- bob joined #ops") &&
	       IRC_PLAIN_GETS(*a, "-!- bob joined #ops");
}

/* ---- room operators ----------------------------------------------------- */

/* What a member who is no operator may not do, in the plain protocol. */
static const char *const plain_privileged[] = {
    "/op bob",	    "/deop alice",    "/voice bob",	    "/devoice alice",
    "/kick alice",  "/kick alice go", "/ban carol",	    "/unban carol",
    "/mode +m",	    "/mode -t",	      "/mode +i",	    "/mode +s",
    "/mode +n",	    "/mode +k key",   "/mode +l 5",	    "/mode -l",
    "/mode +o bob", "/mode +b x!*@*", "/topic a new topic",
};

static const char *const plain_oper_only[] = {
    "/kill alice",     "/kill alice why",   "/wall hello",
    "/gline 10.1.2.3", "/ungline 10.1.2.3", "/glines",
};

static void
test_a_plain_member_who_is_no_operator_is_refused_each_privileged_command(void)
{
	struct ts_server *s = start("");
	int a, b;
	REQUIRE(s);
	REQUIRE(plain_pair(s, &a, &b));
	CHECK(IRC_PLAIN_DO(a, "/who", "-!- members of #ops: "));
	for (size_t i = 0;
	     i < sizeof(plain_privileged) / sizeof(plain_privileged[0]); i++)
		CHECKF(
		    IRC_PLAIN_DO(b, plain_privileged[i],
				 "-!- error: you are not an operator of #ops"),
		    "%s", plain_privileged[i]);
	for (size_t i = 0;
	     i < sizeof(plain_oper_only) / sizeof(plain_oper_only[0]); i++)
		CHECKF(IRC_PLAIN_DO(b, plain_oper_only[i],
				    "-!- error: only server operators may do "
				    "that"),
		       "%s", plain_oper_only[i]);
	/* Listing is for everyone; nothing changed. */
	CHECK(IRC_PLAIN_DO(b, "/bans", "-!- end of the bans of #ops"));
	CHECK(IRC_PLAIN_DO(b, "/mode", "-!- modes of #ops: +nt"));
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_who_shows_operators_and_voice_and_the_lobby_has_no_operator(void)
{
	struct ts_server *s = start("");
	int a, b;
	char line[512];
	REQUIRE(s);
	REQUIRE(plain_pair(s, &a, &b));
	CHECK(IRC_PLAIN_DO(a, "/voice bob",
			   "-!- alice sets mode +v bob on #ops"));
	CHECK(IRC_PLAIN_GETS(b, "-!- alice sets mode +v bob on #ops"));
	tc_send(a, "/who\n");
	CHECK(tc_expect(a, "-!- members of #ops:", line, sizeof(line), WAIT) >
	      0);
	CHECKF(strstr(line, "@alice") && strstr(line, "+bob"), "%s", line);
	/* The default room belongs to the server: nobody runs it, anyone
	 * sets its topic. */
	tc_send(a, "/who #lobby\n");
	CHECK(tc_expect(a, "-!- members of #lobby:", line, sizeof(line), WAIT) >
	      0);
	CHECKF(!strchr(line, '@'), "%s", line);
	CHECK(IRC_PLAIN_DO(b, "/topic #lobby hello all",
			   "-!- bob set the topic of #lobby: hello all"));
	CHECK(IRC_PLAIN_DO(b, "/mode #lobby", "-!- modes of #lobby: +n"));
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_a_moderated_room_hears_only_voice_and_operators(void)
{
	struct ts_server *s = start("");
	int a, b;
	REQUIRE(s);
	REQUIRE(plain_pair(s, &a, &b));
	CHECK(IRC_PLAIN_DO(a, "/mode +m", "-!- alice sets mode +m on #ops"));
	CHECK(IRC_PLAIN_GETS(b, "-!- alice sets mode +m on #ops"));
	CHECK(IRC_PLAIN_DO(b, "quiet please",
			   "-!- error: you cannot speak in #ops (+m"));
	CHECK(IRC_PLAIN_DO(a, "/voice bob",
			   "-!- alice sets mode +v bob on #ops"));
	CHECK(IRC_PLAIN_GETS(b, "-!- alice sets mode +v bob on #ops"));
	tc_send(b, "now I may\n");
	CHECK(IRC_PLAIN_GETS(a, "#ops <bob> now I may"));
	CHECK(IRC_PLAIN_DO(a, "/devoice bob",
			   "-!- alice sets mode -v bob on #ops"));
	CHECK(IRC_PLAIN_GETS(b, "-!- alice sets mode -v bob on #ops"));
	CHECK(IRC_PLAIN_DO(b, "again", "-!- error: you cannot speak in #ops"));
	/* An operator speaks; a new operator may set modes. */
	CHECK(IRC_PLAIN_DO(a, "/op bob", "-!- alice sets mode +o bob on #ops"));
	CHECK(IRC_PLAIN_GETS(b, "-!- alice sets mode +o bob on #ops"));
	tc_send(b, "op speaks\n");
	CHECK(IRC_PLAIN_GETS(a, "#ops <bob> op speaks"));
	CHECK(IRC_PLAIN_DO(b, "/deop alice",
			   "-!- bob sets mode -o alice on #ops"));
	CHECK(IRC_PLAIN_DO(a, "/mode -m",
			   "-!- error: you are not an operator of #ops"));
	/* +t: only operators set the topic. */
	CHECK(IRC_PLAIN_DO(a, "/topic mine",
			   "-!- error: you are not an operator of #ops"));
	CHECK(IRC_PLAIN_DO(b, "/mode -t+s", "-!- bob sets mode -t+s on #ops"));
	CHECK(
	    IRC_PLAIN_DO(a, "/topic mine", "-!- alice set the topic of #ops"));
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

/* ---- bans, kicks, keys, limits, invitations ----------------------------- */

static void
test_a_kicked_client_is_told_why_and_a_banned_one_cannot_rejoin(void)
{
	struct ts_server *s = start("");
	int a, b;
	REQUIRE(s);
	REQUIRE(plain_pair(s, &a, &b));
	CHECK(IRC_PLAIN_DO(a, "/ban bob",
			   "-!- alice sets mode +b bob!*@* on #ops"));
	CHECK(IRC_PLAIN_DO(a, "/kick bob flooding",
			   "-!- alice kicked bob from #ops (flooding)"));
	CHECK(IRC_PLAIN_GETS(b, "-!- alice kicked bob from #ops (flooding)"));
	CHECK(IRC_PLAIN_GETS(b, "-!- now talking in #lobby"));
	CHECK(IRC_PLAIN_DO(b, "/join #ops",
			   "-!- error: you are banned from #ops"));
	CHECK(IRC_PLAIN_DO(a, "/bans",
			   "-!- ban on #ops: bob!*@* (set by alice)"));
	CHECK(IRC_PLAIN_GETS(a, "-!- end of the bans of #ops"));
	/* Bad masks and a second kick of someone gone. */
	CHECK(IRC_PLAIN_DO(a, "/ban a!b!c", "-!- error: invalid mask"));
	CHECK(IRC_PLAIN_DO(a, "/kick bob", "-!- error: bob is not in #ops"));
	CHECK(
	    IRC_PLAIN_DO(a, "/kick nobody", "-!- error: no such nick nobody"));
	CHECK(IRC_PLAIN_DO(a, "/unban nobody", "-!- error: no such ban"));
	/* An account mask parses and matches no one without an account. */
	CHECK(IRC_PLAIN_DO(a, "/ban $a:bob",
			   "-!- alice sets mode +b $a:bob on #ops"));
	CHECK(IRC_PLAIN_DO(a, "/unban bob",
			   "-!- alice sets mode -b bob!*@* on #ops"));
	CHECK(IRC_PLAIN_DO(b, "/join #ops", "-!- bob joined #ops"));
	/* A ban by the cloak everyone from this address shares. */
	CHECK(IRC_PLAIN_DO(a, "/kick bob", "-!- alice kicked bob from #ops"));
	CHECK(IRC_PLAIN_GETS(b, "-!- alice kicked bob from #ops"));
	CHECK(IRC_PLAIN_DO(a, "/ban *!*@*.parley",
			   "-!- alice sets mode +b *!*@*.parley on #ops"));
	CHECK(IRC_PLAIN_DO(b, "/join #ops",
			   "-!- error: you are banned from #ops"));
	/* Nothing a moderator did closed bob's connection. */
	tc_send(b, "/msg alice still here\n");
	CHECK(IRC_PLAIN_GETS(a, "*bob* still here"));
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

/* Account bans against real accounts (the store, a database of the
 * test's own): bob registers and is logged in, carol is a guest. */
static const struct {
	const char *mask;
	int bob_refused, carol_refused;
} t_account_bans[] = {
    {"$a:bob", 1, 0},
    {"$a:BOB", 1, 0}, /* account names fold case as nicknames do */
    {"$a", 1, 0},     /* anyone logged in */
    {"$a:carol", 0, 0},
};

static void
test_an_account_ban_refuses_the_logged_in_account_it_names(void)
{
	char dir[] = "/tmp/parley-mod.XXXXXX", args[256], cmd[300];
	char line[128];
	int a, b, c;

	REQUIRE(mkdtemp(dir));
	snprintf(args, sizeof(args), "--db %s/parley.db", dir);
	struct ts_server *s = start(args);
	REQUIRE(s);
	REQUIRE(plain_pair(s, &a, &b));
	c = irc_plain_as(s, "carol");
	REQUIRE(c >= 0);
	CHECK(IRC_PLAIN_DO(b, "/register hunter22", "-!- registered bob"));
	for (size_t i = 0;
	     i < sizeof(t_account_bans) / sizeof(t_account_bans[0]); i++) {
		const char *m = t_account_bans[i].mask;
		snprintf(line, sizeof(line), "/ban %s", m);
		CHECKF(IRC_PLAIN_DO(a, line, "-!- alice sets mode +b"),
		       "row %zu", i);
		CHECKF(IRC_PLAIN_DO(a, "/kick bob",
				    "-!- alice kicked bob from #ops"),
		       "row %zu", i);
		CHECK(IRC_PLAIN_GETS(b, "-!- alice kicked bob from #ops"));
		CHECKF(IRC_PLAIN_DO(b, "/join #ops",
				    t_account_bans[i].bob_refused
					? "-!- error: you are banned from #ops"
					: "-!- bob joined #ops"),
		       "row %zu (%s): bob", i, m);
		CHECKF(IRC_PLAIN_DO(c, "/join #ops",
				    t_account_bans[i].carol_refused
					? "-!- error: you are banned from #ops"
					: "-!- carol joined #ops"),
		       "row %zu (%s): carol", i, m);
		/* Back to the start: no ban, bob in, carol out. */
		snprintf(line, sizeof(line), "/unban %s", m);
		CHECKF(IRC_PLAIN_DO(a, line, "-!- alice sets mode -b"),
		       "row %zu", i);
		if (!t_account_bans[i].bob_refused)
			CHECK(
			    IRC_PLAIN_DO(b, "/part #ops", "-!- bob left #ops"));
		CHECK(IRC_PLAIN_DO(b, "/join #ops", "-!- bob joined #ops"));
		if (!t_account_bans[i].carol_refused)
			CHECK(IRC_PLAIN_DO(c, "/part #ops",
					   "-!- carol left #ops"));
	}
	/* Logged out, bob is no account: its ban passes him. */
	CHECK(IRC_PLAIN_DO(a, "/ban $a:bob", "-!- alice sets mode +b $a:bob"));
	CHECK(IRC_PLAIN_DO(a, "/kick bob", "-!- alice kicked bob from #ops"));
	CHECK(IRC_PLAIN_DO(b, "/logout", "-!- you are logged out"));
	CHECK(IRC_PLAIN_DO(b, "/join #ops", "joined #ops"));
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

static void
test_a_key_and_a_limit_keep_a_room_closed(void)
{
	struct ts_server *s = start("");
	int a, b, c;
	REQUIRE(s);
	REQUIRE(plain_pair(s, &a, &b));
	c = irc_plain_as(s, "carol");
	REQUIRE(c >= 0);
	CHECK(
	    IRC_PLAIN_DO(a, "/mode +k", "-!- error: mode k needs a parameter"));
	CHECK(IRC_PLAIN_DO(a, "/mode +kl sesame 2",
			   "-!- alice sets mode +kl sesame 2 on #ops"));
	CHECK(IRC_PLAIN_DO(a, "/mode", "-!- modes of #ops: +klnt sesame 2"));
	/* Who is not in the room sees that it has a key, not the key. */
	CHECK(IRC_PLAIN_DO(c, "/mode #ops", "-!- modes of #ops: +klnt * 2"));
	CHECK(IRC_PLAIN_DO(c, "/join #ops", "-!- error: #ops needs its key"));
	CHECK(IRC_PLAIN_DO(c, "/join #ops wrong",
			   "-!- error: #ops needs its key"));
	CHECK(IRC_PLAIN_DO(c, "/join #ops sesame",
			   "-!- error: #ops is full (+l)"));
	CHECK(
	    IRC_PLAIN_DO(a, "/mode +l 3", "-!- alice sets mode +l 3 on #ops"));
	CHECK(IRC_PLAIN_DO(c, "/join #ops sesame", "-!- carol joined #ops"));
	CHECK(
	    IRC_PLAIN_DO(a, "/mode -kl", "-!- alice sets mode -kl * on #ops"));
	CHECK(IRC_PLAIN_DO(a, "/mode +l 0",
			   "-!- error: mode l needs a parameter"));
	CHECK(IRC_PLAIN_DO(a, "/mode +x", "-!- error: unknown mode x"));
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
}

static void
test_an_invite_only_room_admits_whom_an_operator_invited(void)
{
	struct ts_server *s = start("");
	int a, b, c;
	REQUIRE(s);
	REQUIRE(plain_pair(s, &a, &b));
	c = irc_plain_as(s, "carol");
	REQUIRE(c >= 0);
	CHECK(IRC_PLAIN_DO(a, "/mode +i", "-!- alice sets mode +i on #ops"));
	CHECK(IRC_PLAIN_DO(c, "/join #ops", "-!- error: #ops is invite only"));
	CHECK(IRC_PLAIN_DO(b, "/invite carol",
			   "-!- error: you are not an operator of #ops"));
	CHECK(IRC_PLAIN_DO(a, "/invite bob",
			   "-!- error: bob is already in #ops"));
	CHECK(IRC_PLAIN_DO(a, "/invite carol", "-!- invited carol to #ops"));
	CHECK(IRC_PLAIN_GETS(c, "-!- alice invites you to #ops; /join #ops"));
	CHECK(IRC_PLAIN_DO(c, "/join #ops", "-!- carol joined #ops"));
	/* The invitation is used up. */
	CHECK(
	    IRC_PLAIN_DO(a, "/kick carol", "-!- alice kicked carol from #ops"));
	CHECK(IRC_PLAIN_GETS(c, "-!- alice kicked carol from #ops"));
	CHECK(IRC_PLAIN_DO(c, "/join #ops", "-!- error: #ops is invite only"));
	/* +s hides the room from who is not in it. */
	CHECK(IRC_PLAIN_DO(a, "/mode +s", "-!- alice sets mode +s on #ops"));
	CHECK(IRC_PLAIN_DO(c, "/who #ops", "-!- error: no such room #ops"));
	CHECK(IRC_PLAIN_DO(a, "/rooms", "-!- #ops: 2 members"));
	tc_send(c, "/rooms\n");
	CHECK(IRC_PLAIN_GETS(c, "-!- #lobby:"));
	tc_send(c, "/who #lobby\n");
	char line[512];
	CHECK(tc_expect(c, "-!- members of #lobby", line, sizeof(line), WAIT) >
	      0);
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
}

/* ---- server operators --------------------------------------------------- */

static void
test_a_server_operator_kills_walls_and_bans_an_address(void)
{
	struct ts_server *s = start(OPER_ARGS);
	int a, b, c, d;
	REQUIRE(s);
	REQUIRE(plain_pair(s, &a, &b));
	c = irc_plain_as(s, "carol");
	REQUIRE(c >= 0);
	CHECK(IRC_PLAIN_DO(c, "/oper admin wrong",
			   "-!- error: wrong operator password"));
	CHECK(IRC_PLAIN_DO(c, "/oper nobody secret",
			   "-!- error: no such operator nobody"));
	CHECK(IRC_PLAIN_DO(c, "/oper admin secret",
			   "-!- you are now a server operator"));
	CHECK(ts_log_wait(s, "carol (127.0.0.1:", WAIT) == 0);
	CHECK(ts_log_wait(s, "is now server operator admin", WAIT) == 0);
	/* An operator of the server acts as one in any room. */
	CHECK(
	    IRC_PLAIN_DO(c, "/mode #ops +m", "-!- carol sets mode +m on #ops"));
	CHECK(IRC_PLAIN_GETS(a, "-!- carol sets mode +m on #ops"));
	CHECK(IRC_PLAIN_DO(c, "/wall maintenance at noon",
			   "-!- wall from carol: maintenance at noon"));
	CHECK(IRC_PLAIN_GETS(a, "-!- wall from carol: maintenance at noon"));
	CHECK(IRC_PLAIN_GETS(b, "-!- wall from carol: maintenance at noon"));
	CHECK(IRC_PLAIN_DO(c, "/kill bob spamming", "-!- killed bob"));
	CHECK(
	    IRC_PLAIN_GETS(b, "-!- disconnected: Killed by carol (spamming)"));
	CHECK(tc_wait_eof(b, WAIT) == 0);
	CHECK(IRC_PLAIN_GETS(a, "-!- bob quit (Killed by carol (spamming))"));
	CHECK(ts_log_wait(s, "moderation: carol (oper admin) killed bob",
			  WAIT) == 0);
	/* A server-wide ban refuses new connections from the address,
	 * and no one already here. */
	CHECK(IRC_PLAIN_DO(c, "/gline 127.0.0.* abuse",
			   "-!- server ban on 127.0.0.* set"));
	CHECK(IRC_PLAIN_DO(c, "/glines",
			   "-!- server ban: 127.0.0.* (set by carol: "
			   "abuse)"));
	d = tc_connect(s->port);
	REQUIRE(d >= 0);
	CHECK(IRC_PLAIN_GETS(d, "-!- you are banned from this server (abuse)"));
	CHECK(tc_wait_eof(d, WAIT) == 0);
	tc_close(d);
	d = irc_connect(s);
	REQUIRE(d >= 0);
	CHECK(IRC_NEXT(d, S "465 * :You are banned from this server (abuse)"));
	CHECK(IRC_NEXT(d, "ERROR :Closing link: You are banned from this "
			  "server (abuse)"));
	tc_close(d);
	tc_send(a, "/msg carol still here\n");
	CHECK(IRC_PLAIN_GETS(c, "*alice* still here"));
	CHECK(IRC_PLAIN_DO(c, "/ungline 127.0.0.*",
			   "-!- server ban on 127.0.0.* lifted"));
	d = irc_plain_as(s, "dave");
	CHECK(d >= 0);
	tc_close(d);
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
}

static void
test_hash_password_makes_a_hash_oper_accepts(void)
{
	char cmd[512], hash[256] = "";
	const char *build = getenv("PARLEY_BUILD");
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "echo 'open sesame' | %s/parleyd --hash-password",
		 build ? build : "build");
	p = popen(cmd, "r");
	REQUIRE(p);
	CHECK(fgets(hash, sizeof(hash), p) != NULL);
	CHECK(pclose(p) == 0);
	hash[strcspn(hash, "\n")] = '\0';
	CHECKF(strncmp(hash, "$y$", 3) == 0, "%s", hash);
	snprintf(cmd, sizeof(cmd), "--oper root:%s", hash);
	struct ts_server *s = start(cmd);
	REQUIRE(s);
	int a = irc_plain_as(s, "alice");
	REQUIRE(a >= 0);
	CHECK(IRC_PLAIN_DO(a, "/oper root", "-!- error: usage: /oper"));
	CHECK(IRC_PLAIN_DO(a, "/oper root sesame",
			   "-!- error: wrong operator password"));
	/* The password is the rest of the line: spaces included. */
	CHECK(IRC_PLAIN_DO(a, "/oper root open sesame",
			   "-!- you are now a server operator"));
	tc_close(a);
	ts_free(s);
}

/* ---- IRC ---------------------------------------------------------------- */

/* As IRC_EXCHANGE, but each wanted line may come after others (names,
 * topics, joins a step does not name): the first line matching it. */
static int
mod_exchange(int line, const int *fds, const struct irc_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct irc_step *st = &steps[i];
		if (st->send)
			irc_send(fds[st->who], "%s", st->send);
		for (int k = 0; k < IRC_WANTS_MAX && st->want[k].pattern; k++)
			if (!irc_until_at(__FILE__, line, fds[st->want[k].who],
					  st->want[k].pattern, NULL, 0)) {
				tl_fail(__FILE__, line, "in step %zu (%s)", i,
					st->send ? st->send : "-");
				return 0;
			}
	}
	return 1;
}

/* A member who is no operator, over IRC: each line and its numeric. */
static const struct {
	const char *send, *want;
} irc_privileged[] = {
    {"MODE #ops +o bob", S "482 bob #ops :You're not channel operator"},
    {"MODE #ops +m", S "482 bob #ops :*"},
    {"MODE #ops +b x", S "482 bob #ops :*"},
    {"MODE #ops -b x", S "482 bob #ops :*"},
    {"MODE #ops +k key", S "482 bob #ops :*"},
    {"MODE #ops +l 9", S "482 bob #ops :*"},
    {"MODE #ops +i", S "482 bob #ops :*"},
    {"MODE #ops -t", S "482 bob #ops :*"},
    {"MODE #ops +s", S "482 bob #ops :*"},
    {"MODE #ops -n", S "482 bob #ops :*"},
    {"MODE #ops +v bob", S "482 bob #ops :*"},
    {"KICK #ops alice :bye", S "482 bob #ops :*"},
    {"TOPIC #ops :mine", S "482 bob #ops :*"},
    {"KILL alice :bye", S "481 bob :Permission Denied*"},
    {"WALLOPS :hello", S "481 bob :*"},
    {"GLINE 10.0.0.1 :x", S "481 bob :*"},
    {"UNGLINE 10.0.0.1", S "481 bob :*"},
    {"MODE #ops +z", S "472 bob z :is unknown mode char to me"},
    {"MODE #nope", S "403 bob #nope :No such channel"},
    {"KICK #ops", S "461 bob KICK :Not enough parameters"},
    {"OPER admin secret", S "491 bob :No O-lines for your host"},
};

static void
test_an_irc_member_who_is_no_operator_gets_482_and_481(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int fds[2] = {irc_login(s, "alice", NULL), irc_login(s, "bob", NULL)};
	REQUIRE(fds[0] >= 0 && fds[1] >= 0);
	irc_send(fds[0], "JOIN #ops");
	CHECK(IRC_UNTIL(fds[0], S "353 alice = #ops :@alice"));
	CHECK(IRC_UNTIL(fds[0], S "366 alice #ops *"));
	irc_send(fds[1], "JOIN #ops");
	CHECK(IRC_UNTIL(fds[1], S "366 bob #ops *"));
	for (size_t i = 0;
	     i < sizeof(irc_privileged) / sizeof(irc_privileged[0]); i++) {
		irc_send(fds[1], "%s", irc_privileged[i].send);
		CHECKF(IRC_NEXT(fds[1], irc_privileged[i].want), "%s",
		       irc_privileged[i].send);
	}
	/* Queries are for everyone. */
	static const struct irc_step steps[] = {
	    {1,
	     "MODE #ops",
	     {{1, S "324 bob #ops +nt"}, {1, S "329 bob #ops *"}}},
	    {1,
	     "MODE #ops b",
	     {{1, S "368 bob #ops :End of channel ban list"}}},
	};
	CHECK(IRC_EXCHANGE(fds, steps));
	/* alice saw only bob come in. */
	CHECK(IRC_NEXT(fds[0], ":bob!*@* JOIN #ops"));
	CHECK(IRC_SYNC(fds[0]) == 0);
	tc_close(fds[0]);
	tc_close(fds[1]);
	ts_free(s);
}

static void
test_irc_operators_set_modes_ban_invite_and_kick(void)
{
	struct ts_server *s = start(OPER_ARGS);
	REQUIRE(s);
	int fds[3] = {irc_login(s, "alice", NULL), irc_login(s, "bob", NULL),
		      irc_login(s, "carol", "multi-prefix")};
	REQUIRE(fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0);
	static const struct irc_step steps[] = {
	    {0,
	     "JOIN #ops",
	     {{0, ":alice!*@* JOIN #ops"}, {0, S "353 alice = #ops :@alice"}}},
	    {1,
	     "JOIN #ops",
	     {{1, ":bob!*@* JOIN #ops"}, {0, ":bob!*@* JOIN #ops"}}},
	    {0,
	     "MODE #ops +ov bob bob",
	     {{0, ":alice!*@* MODE #ops +ov bob bob"},
	      {1, ":alice!*@* MODE #ops +ov bob bob"}}},
	    {2, "JOIN #ops", {{2, S "353 carol = #ops :*@+bob*"}}},
	    {0,
	     "MODE #ops -v+im bob",
	     {{0, ":alice!*@* MODE #ops -v+im bob"},
	      {2, ":alice!*@* MODE #ops -v+im bob"}}},
	    {2,
	     "PRIVMSG #ops :hi",
	     {{2, S "404 carol #ops :Cannot send to channel (+m)"}}},
	    {0,
	     "MODE #ops +b carol",
	     {{0, ":alice!*@* MODE #ops +b carol!*@*"}}},
	    {0,
	     "MODE #ops b",
	     {{0, S "367 alice #ops carol!*@* alice *"},
	      {0, S "368 alice #ops :End of channel ban list"}}},
	    {0,
	     "KICK #ops carol :be nice",
	     {{0, ":alice!*@* KICK #ops carol :be nice"},
	      {1, ":alice!*@* KICK #ops carol :be nice"},
	      {2, ":alice!*@* KICK #ops carol :be nice"}}},
	    {2,
	     "JOIN #ops",
	     {{2, S "474 carol #ops :Cannot join channel (+b)"}}},
	    {0,
	     "KICK #ops carol",
	     {{0, S "441 alice carol #ops :They aren't on "
		    "that channel"}}},
	    {0,
	     "INVITE bob #ops",
	     {{0, S "443 alice bob #ops :is already on channel"}}},
	    {0,
	     "INVITE carol #ops",
	     {{0, S "341 alice carol #ops"},
	      {2, ":alice!*@* INVITE carol #ops"}}},
	    /* An invitation passes the ban and +i. */
	    {2, "JOIN #ops", {{2, ":carol!*@* JOIN #ops"}}},
	    {0,
	     "MODE #ops -ib+k carol!*@* sesame",
	     {{0, ":alice!*@* MODE #ops -ib+k carol!*@* sesame"}}},
	    {0, "MODE #ops +l 3", {{0, ":alice!*@* MODE #ops +l 3"}}},
	    {0, "MODE #ops", {{0, S "324 alice #ops +klmnt sesame 3"}}},
	    {2, "PART #ops", {{2, ":carol!*@* PART #ops"}}},
	    {2,
	     "JOIN #ops",
	     {{2, S "475 carol #ops :Cannot join channel (+k)"}}},
	    {2, "JOIN #ops sesame", {{2, ":carol!*@* JOIN #ops"}}},
	    {2, "PART #ops", {{2, ":carol!*@* PART #ops"}}},
	    {0, "MODE #ops +l 2", {{0, ":alice!*@* MODE #ops +l 2"}}},
	    {2,
	     "JOIN #ops sesame",
	     {{2, S "471 carol #ops :Cannot join channel (+l)"}}},
	    {0, "MODE #ops +x", {{0, S "472 alice x :*"}}},
	    {0, "MODE #ops +o nobody", {{0, S "401 alice nobody :*"}}},
	    {2, "OPER admin wrong", {{2, S "464 carol :Password incorrect"}}},
	    {2,
	     "OPER admin secret",
	     {{2, S "381 carol :You are now an IRC operator"}}},
	    {2, "JOIN #ops", {{2, ":carol!*@* JOIN #ops"}}},
	    {2,
	     "WALLOPS :hello all",
	     {{0, ":carol!*@* WALLOPS :hello all"},
	      {1, ":carol!*@* WALLOPS :hello all"},
	      {2, ":carol!*@* WALLOPS :hello all"}}},
	    {2,
	     "KILL bob :enough",
	     {{1, "ERROR :Closing link: Killed by carol (enough)"},
	      {0, ":bob!*@* QUIT :Killed by carol (enough)"}}},
	};
	CHECK(mod_exchange(__LINE__, fds, steps,
			   sizeof(steps) / sizeof(steps[0])));
	tc_close(fds[0]);
	tc_close(fds[1]);
	tc_close(fds[2]);
	ts_free(s);
}

/* ---- both protocols in one room ----------------------------------------- */

static void
test_irc_and_plain_users_see_each_others_moderation(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int irc = irc_login(s, "ivan", NULL);
	int p = irc_plain_as(s, "paula");
	REQUIRE(irc >= 0 && p >= 0);
	CHECK(IRC_PLAIN_DO(p, "/join #mix", "-!- paula joined #mix"));
	irc_send(irc, "JOIN #mix");
	CHECK(IRC_UNTIL(irc, S "353 ivan = #mix :*@paula*"));
	CHECK(IRC_PLAIN_GETS(p, "-!- ivan joined #mix"));
	/* Plain acts, IRC sees it. */
	CHECK(
	    IRC_PLAIN_DO(p, "/op ivan", "-!- paula sets mode +o ivan on #mix"));
	CHECK(IRC_UNTIL(irc, ":paula!*@* MODE #mix +o ivan"));
	CHECK(IRC_PLAIN_DO(p, "/mode +m", "-!- paula sets mode +m on #mix"));
	CHECK(IRC_UNTIL(irc, ":paula!*@* MODE #mix +m"));
	/* IRC acts, plain sees it. */
	irc_send(irc, "MODE #mix -o paula");
	CHECK(IRC_PLAIN_GETS(p, "-!- ivan sets mode -o paula on #mix"));
	CHECK(IRC_PLAIN_DO(p, "muted?", "-!- error: you cannot speak in #mix"));
	irc_send(irc, "MODE #mix +v paula");
	CHECK(IRC_PLAIN_GETS(p, "-!- ivan sets mode +v paula on #mix"));
	tc_send(p, "voiced\n");
	CHECK(IRC_UNTIL(irc, ":paula!*@* PRIVMSG #mix :voiced"));
	tc_send(p, "/who\n");
	CHECK(IRC_PLAIN_GETS(p, "-!- members of #mix:"));
	irc_send(irc, "KICK #mix paula :out");
	CHECK(IRC_PLAIN_GETS(p, "-!- ivan kicked paula from #mix (out)"));
	CHECK(IRC_UNTIL(irc, ":ivan!*@* KICK #mix paula :out"));
	irc_send(irc, "MODE #mix +b paula");
	CHECK(IRC_UNTIL(irc, ":ivan!*@* MODE #mix +b paula!*@*"));
	CHECK(IRC_PLAIN_DO(p, "/join #mix",
			   "-!- error: you are banned from #mix"));
	tc_close(irc);
	tc_close(p);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "mod", t_model, sizeof(t_model), suite);
	RUN(test_a_plain_member_who_is_no_operator_is_refused_each_privileged_command);
	RUN(test_who_shows_operators_and_voice_and_the_lobby_has_no_operator);
	RUN(test_a_moderated_room_hears_only_voice_and_operators);
	RUN(test_a_kicked_client_is_told_why_and_a_banned_one_cannot_rejoin);
	RUN(test_an_account_ban_refuses_the_logged_in_account_it_names);
	RUN(test_a_key_and_a_limit_keep_a_room_closed);
	RUN(test_an_invite_only_room_admits_whom_an_operator_invited);
	RUN(test_a_server_operator_kills_walls_and_bans_an_address);
	RUN(test_hash_password_makes_a_hash_oper_accepts);
	RUN(test_an_irc_member_who_is_no_operator_gets_482_and_481);
	RUN(test_irc_operators_set_modes_ban_invite_and_kick);
	RUN(test_irc_and_plain_users_see_each_others_moderation);
	return tl_summary(suite);
}
