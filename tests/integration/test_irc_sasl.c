/*
 * Integration tests of the store's IRC faces, against the real parleyd
 * with a database of the test's own: SASL PLAIN (900-908), PASS
 * [account:]password, NickServ (REGISTER, IDENTIFY, LOGOUT, HELP),
 * account-notify, account-tag and WHOIS 330 as other clients see them,
 * --nick-grace renaming a client that does not log in, and the store
 * down failing logins with words that say so.
 */
#include "../irc.h"
#include "../storelib.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS
#define PW   "hunter22"
#define NS   ":NickServ!NickServ@services. NOTICE "

#define IRC_SASL_LINE 400 /* the most base64 one AUTHENTICATE carries */

static char t_model[256];

/* ---- fixtures ------------------------------------------------------------ */

/* A fresh database in its own directory; db_free removes it. */
struct db {
	char dir[64];
	char path[96];
	char args[256];
};

static int
db_make(struct db *d, const char *extra)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/parley-ircsasl.XXXXXX");
	if (!mkdtemp(d->dir))
		return 0;
	snprintf(d->path, sizeof(d->path), "%s/parley.db", d->dir);
	snprintf(d->args, sizeof(d->args), "--db %s %s", d->path,
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

/* The PLAIN response authzid NUL authcid NUL password, in base64. */
static void
plain(const char *z, const char *c, const char *p, char *out)
{
	char raw[256];
	size_t n =
	    (size_t)snprintf(raw, sizeof(raw), "%s%c%s%c%s", z, 0, c, 0, p);

	tl_base64(raw, n, out);
}

/* An IRC client registers nick with NickServ, then logs out, which gives
 * the nickname up at once (for a guest one), and leaves. */
static int
register_nick(const struct ts_server *s, const char *nick)
{
	char want[128];
	int fd = irc_login(s, nick, NULL);

	if (fd < 0)
		return 0;
	irc_send(fd, "PRIVMSG NickServ :REGISTER " PW " %s@example.com", nick);
	snprintf(want, sizeof(want),
		 ":NickServ!NickServ@services. NOTICE %s :%s is now "
		 "registered*",
		 nick, nick);
	int ok = IRC_UNTIL(fd, want);
	irc_send(fd, "PRIVMSG NickServ :LOGOUT");
	ok = ok && IRC_UNTIL(fd, NS "guest* :You are now logged out");
	irc_send(fd, "QUIT");
	ok = ok && IRC_UNTIL(fd, "ERROR :*");
	tc_close(fd);
	return ok;
}

/* ---- SASL ---------------------------------------------------------------- */

/* One connection's way in: lines sent in order, each followed by the
 * lines wanted (skipping others) before the next is sent. */
struct sasl_step {
	const char *send; /* "%R": the row's response goes there */
	const char *want[4];
};

struct sasl_row {
	const char *name;
	const char *response; /* for %R */
	struct sasl_step steps[8];
};

#define CAPS_IN                                                                \
	{"CAP LS 302", {S "CAP * LS :*sasl=PLAIN*"}},                          \
	{                                                                      \
		"CAP REQ :sasl",                                               \
		{                                                              \
			S "CAP * ACK :sasl"                                    \
		}                                                              \
	}

static void
run_sasl_row(const struct ts_server *s, const struct sasl_row *row)
{
	int fd = irc_connect(s);
	char line[1024];

	if (!CHECKF(fd >= 0, "%s: cannot connect", row->name))
		return;
	for (size_t i = 0; i < 8 && row->steps[i].send; i++) {
		const struct sasl_step *st = &row->steps[i];
		if (strcmp(st->send, "%R") == 0)
			snprintf(line, sizeof(line), "AUTHENTICATE %s",
				 row->response);
		else
			snprintf(line, sizeof(line), "%s", st->send);
		irc_send(fd, "%s", line);
		for (size_t k = 0; k < 4 && st->want[k]; k++)
			if (!CHECKF(irc_until_at(__FILE__, __LINE__, fd,
						 st->want[k], NULL, 0),
				    "%s: after %s", row->name, st->send)) {
				tc_close(fd);
				return;
			}
	}
	tc_close(fd);
}

static void
test_sasl_plain_logs_in_fails_aborts_and_refuses_as_the_spec_says(void)
{
	static char ok[512], wrong[512], other[512], zero[512];
	static char chunk[IRC_SASL_LINE + 1], longer[IRC_SASL_LINE + 2];
	struct db d;

	plain("", "alice", PW, ok);
	plain("", "alice", "wrong-password", wrong);
	plain("bob", "alice", PW, other);
	plain("alice", "alice", PW, zero);
	memset(chunk, 'A', IRC_SASL_LINE);
	memset(longer, 'A', IRC_SASL_LINE + 1);
	const struct sasl_row rows[] = {
	    {"a login before registration, then 907",
	     ok,
	     {CAPS_IN,
	      {"NICK alice", {NULL}},
	      {"USER a 0 * :A", {NULL}},
	      {"AUTHENTICATE PLAIN", {"AUTHENTICATE +"}},
	      {"%R",
	       {S "900 alice alice!*@* alice :You are now logged in as alice",
		S "903 alice :SASL authentication successful"}},
	      {"CAP END", {S "001 alice :*"}},
	      {"AUTHENTICATE PLAIN",
	       {S "907 alice :You have already authenticated using SASL"}}}},
	    {"authzid equal to authcid",
	     zero,
	     {CAPS_IN,
	      {"NICK alice2", {NULL}},
	      {"AUTHENTICATE plain", {"AUTHENTICATE +"}},
	      {"%R", {S "900 alice2 alice2!*@* alice :*", S "903 alice2 :*"}},
	      {"USER a 0 * :A", {NULL}},
	      {"CAP END", {S "001 alice2 :*"}}}},
	    {"a wrong password: 904, and registration goes on",
	     wrong,
	     {CAPS_IN,
	      {"NICK carol3", {NULL}},
	      {"USER c 0 * :C", {NULL}},
	      {"AUTHENTICATE PLAIN", {"AUTHENTICATE +"}},
	      {"%R", {S "904 carol3 :SASL authentication failed"}},
	      {"CAP END", {S "001 carol3 :*"}}}},
	    {"another authorization identity: 904",
	     other,
	     {CAPS_IN,
	      {"NICK carol4", {NULL}},
	      {"AUTHENTICATE PLAIN", {"AUTHENTICATE +"}},
	      {"%R", {S "904 carol4 :*"}}}},
	    {"an abort: 906",
	     ok,
	     {CAPS_IN,
	      {"NICK carol5", {NULL}},
	      {"AUTHENTICATE PLAIN", {"AUTHENTICATE +"}},
	      {"AUTHENTICATE *", {S "906 carol5 :SASL authentication aborted"}},
	      {"USER c 0 * :C", {NULL}},
	      {"CAP END", {S "001 carol5 :*"}}}},
	    {"bad base64: 904",
	     "!!not*base64",
	     {CAPS_IN,
	      {"NICK carol6", {NULL}},
	      {"AUTHENTICATE PLAIN", {"AUTHENTICATE +"}},
	      {"%R", {S "904 carol6 :*"}}}},
	    {"a line over 400 bytes: 905",
	     longer,
	     {CAPS_IN,
	      {"NICK carol7", {NULL}},
	      {"AUTHENTICATE PLAIN", {"AUTHENTICATE +"}},
	      {"%R", {S "905 carol7 :SASL message too long"}}}},
	    {"a full 400-byte line waits for more: + ends it",
	     chunk,
	     {CAPS_IN,
	      {"NICK carol8", {NULL}},
	      {"AUTHENTICATE PLAIN", {"AUTHENTICATE +"}},
	      {"%R", {NULL}},
	      {"PING :between", {S "PONG " IRC_SERVER " :between"}},
	      {"AUTHENTICATE +", {S "904 carol8 :*"}}}},
	    {"another mechanism: 908 and 904",
	     ok,
	     {CAPS_IN,
	      {"NICK carol9", {NULL}},
	      {"AUTHENTICATE EXTERNAL",
	       {S "908 carol9 PLAIN :are available SASL mechanisms",
		S "904 carol9 :*"}}}},
	    {"without the capability: 904",
	     ok,
	     {{"NICK carol10", {NULL}},
	      {"AUTHENTICATE PLAIN", {S "904 carol10 :*"}}}},
	};

	REQUIRE(db_make(&d, NULL));
	struct ts_server *s = irc_start(t_model, d.args);
	REQUIRE(s);
	REQUIRE(register_nick(s, "alice"));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_sasl_row(s, &rows[i]);
	/* A CAP END during the exchange: the welcome waits for its end. */
	int fd = irc_connect(s), early = -1;
	REQUIRE(fd >= 0);
	irc_send(fd, "CAP LS 302");
	irc_send(fd, "CAP REQ :sasl");
	irc_send(fd, "NICK lee");
	irc_send(fd, "USER l 0 * :L");
	irc_send(fd, "AUTHENTICATE PLAIN");
	CHECK(IRC_UNTIL(fd, "AUTHENTICATE +"));
	irc_send(fd, "CAP END");
	CHECK(IRC_SYNC_AT_MATCHING(fd, S "001 *", &early) >= 0 && early == 0);
	irc_send(fd, "AUTHENTICATE %s", ok);
	CHECK(IRC_NEXT(fd, S "900 lee lee!~l@* alice :*"));
	CHECK(IRC_NEXT(fd, S "903 lee :*"));
	CHECK(IRC_NEXT(fd, S "001 lee :*"));
	tc_close(fd);
	/* The login of the first row is in the log, its password nowhere. */
	CHECK(ts_log_wait(s, "logged in as alice", WAIT) == 0);
	CHECK(ts_log_count(s, PW) == 0);
	ts_free(s);
	db_free(&d);
}

/* ---- PASS ---------------------------------------------------------------- */

static void
test_pass_logs_in_at_registration_or_says_464_and_goes_on(void)
{
	static const struct {
		const char *name;
		const char *lines[3];
		const char *want[3];
	} rows[] = {
	    {"PASS account:password, the nickname refused until then",
	     {"PASS alice:" PW, "NICK alice", "USER a 0 * :A"},
	     {S "900 alice alice!*@* alice :*", S "001 alice :*"}},
	    {"PASS password for the NICK's account",
	     {"PASS " PW, "NICK amy", "USER a 0 * :A"},
	     {S "900 amy amy!*@* amy :*", S "001 amy :*"}},
	    {"PASS for an account with another nickname",
	     {"PASS alice:" PW, "NICK dave", "USER d 0 * :D"},
	     {S "900 dave dave!*@* alice :*", S "001 dave :*"}},
	    {"a wrong password: a NOTICE, 464, and the welcome",
	     {"PASS alice:nope-nope", "NICK carol", "USER c 0 * :C"},
	     {":NickServ!NickServ@services. NOTICE carol :Login failed: *",
	      S "464 carol :Password incorrect", S "001 carol :*"}},
	};
	struct db d;

	/* --nick-grace 0: a registered nickname is refused as before. */
	REQUIRE(db_make(&d, "--nick-grace 0"));
	struct ts_server *s = irc_start(t_model, d.args);
	REQUIRE(s);
	REQUIRE(register_nick(s, "alice"));
	REQUIRE(register_nick(s, "amy"));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int fd = irc_connect(s);
		if (!CHECKF(fd >= 0, "%s: cannot connect", rows[i].name))
			continue;
		for (size_t k = 0; k < 3; k++)
			irc_send(fd, "%s", rows[i].lines[k]);
		for (size_t k = 0; k < 3 && rows[i].want[k]; k++)
			if (!CHECKF(irc_until_at(__FILE__, __LINE__, fd,
						 rows[i].want[k], NULL, 0),
				    "%s", rows[i].name))
				break;
		tc_close(fd);
	}
	/* SASL after the nickname's 433: the welcome gives it after all. */
	char ok[512];
	plain("", "alice", PW, ok);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	irc_send(fd, "CAP LS 302");
	irc_send(fd, "CAP REQ :sasl");
	irc_send(fd, "NICK alice");
	irc_send(fd, "USER a 0 * :A");
	CHECK(IRC_UNTIL(fd, S "433 * alice :*"));
	irc_send(fd, "AUTHENTICATE PLAIN");
	CHECK(IRC_UNTIL(fd, "AUTHENTICATE +"));
	irc_send(fd, "AUTHENTICATE %s", ok);
	CHECK(IRC_UNTIL(fd, S "903 * :*"));
	irc_send(fd, "CAP END");
	CHECK(IRC_UNTIL(fd, S "001 alice :*"));
	tc_close(fd);
	ts_free(s);
	db_free(&d);
}

/* ---- NickServ ------------------------------------------------------------ */

static void
test_nickserv_registers_identifies_from_another_connection_and_logs_out(void)
{
	struct db d;

	REQUIRE(db_make(&d, NULL));
	struct ts_server *s = irc_start(t_model, d.args);
	REQUIRE(s);
	int a = irc_login(s, "erin", NULL);
	REQUIRE(a >= 0);
	int b = irc_login(s, "frank", NULL);
	REQUIRE(b >= 0);
	int fds[] = {a, b};
	static const struct irc_step steps[] = {
	    {0,
	     "PRIVMSG NickServ :HELP",
	     {{0, NS "erin :NickServ keeps nicknames for their accounts:"},
	      {0, NS "erin :  IDENTIFY [account] password"},
	      {0, NS "erin :  REGISTER password"},
	      {0, NS "erin :  LOGOUT"},
	      {0, NS "erin :  HELP"},
	      {0, NS "erin :End of help"}}},
	    {0,
	     "PRIVMSG NickServ :FROB",
	     {{0, NS "erin :Unknown command FROB*"}}},
	    {0,
	     "PRIVMSG NickServ :REGISTER",
	     {{0, NS "erin :Usage: REGISTER*"}}},
	    {0,
	     "PRIVMSG NickServ :REGISTER " PW " erin@example.com",
	     {{0, NS "erin :erin is now registered to you*"},
	      {0, S "900 erin erin!*@* erin :You are now logged in as erin"}}},
	    {0,
	     "PRIVMSG NickServ :REGISTER " PW,
	     {{0, NS "erin :You are already logged in as erin*"}}},
	    /* A NOTICE to a service is never answered. */
	    {0, "NOTICE NickServ :HELP", {{0, NULL}}},
	    /* The registered nickname goes with the account. */
	    {0,
	     "PRIVMSG NickServ :LOGOUT",
	     {{0, ":erin!*@* NICK :guest*"},
	      {0, NS "guest* :You are now logged out"},
	      {0, S "901 guest* guest*!*@* :You are now logged out"}}},
	    {1,
	     "PRIVMSG NickServ :IDENTIFY erin wrong-password",
	     {{1, NS "frank :Invalid password for erin*"}}},
	    {1,
	     "PRIVMSG NickServ :IDENTIFY erin " PW,
	     {{1, ":frank!*@* NICK :erin"},
	      {1, NS "erin :You are now identified for erin"},
	      {1, S "900 erin erin!*@* erin :*"}}},
	    {1,
	     "PRIVMSG NickServ :IDENTIFY erin " PW,
	     {{1, NS "erin :You are already logged in as erin*"}}},
	    {1, "NICK NickServ", {{1, S "432 erin NickServ :*"}}},
	};
	CHECK(IRC_EXCHANGE(fds, steps));
	/* Nothing of erin's went to frank; no password to anyone. */
	int seen = 0;
	CHECK(IRC_SYNC_AT_MATCHING(b, "*" PW "*", &seen) >= 0);
	CHECK(seen == 0);
	CHECK(ts_log_count(s, PW) == 0);
	tc_close(a);
	tc_close(b);
	ts_free(s);
	db_free(&d);
}

/* ---- what others see ----------------------------------------------------- */

static void
test_others_see_logins_with_account_notify_account_tag_and_whois(void)
{
	struct db d;
	char plain_nick[64];

	REQUIRE(db_make(&d, NULL));
	struct ts_server *s = irc_start(t_model, d.args);
	REQUIRE(s);
	REQUIRE(register_nick(s, "gina"));
	int w = irc_login(s, "watch", "account-notify account-tag");
	REQUIRE(w >= 0);
	int o = irc_login(s, "old", "");
	REQUIRE(o >= 0);
	int g = irc_login(s, "gina_", NULL);
	REQUIRE(g >= 0);
	int p = tc_join(s->port, plain_nick, sizeof(plain_nick));
	REQUIRE(p >= 0);
	int fds[] = {w, o, g};
	for (int i = 0; i < 3; i++) {
		irc_send(fds[i], "JOIN #lobby");
		CHECK(IRC_UNTIL(fds[i], S "366 * #lobby :*"));
	}
	CHECK(IRC_UNTIL(w, ":gina_!* JOIN #lobby"));
	CHECK(IRC_UNTIL(o, ":gina_!* JOIN #lobby"));
	static const struct irc_step steps[] = {
	    /* The login, then the account's nickname with it. */
	    {2,
	     "PRIVMSG NickServ :IDENTIFY gina " PW,
	     {{0, "@account=gina :gina_!*@* ACCOUNT gina"},
	      {0, "@account=gina :gina_!*@* NICK :gina"},
	      {1, ":gina_!*@* NICK :gina"},
	      {2, ":gina_!*@* NICK :gina"},
	      {2, NS "gina :You are now identified for gina"},
	      {2, S "900 gina gina!*@* gina :*"}}},
	    {2,
	     "PRIVMSG #lobby :hello",
	     {{0, "@account=gina :gina!* PRIVMSG #lobby :hello"},
	      {1, ":gina!* PRIVMSG #lobby :hello"}}},
	    {0,
	     "WHOIS gina",
	     {{0, S "311 watch gina *"},
	      {0, S "312 watch gina *"},
	      {0, S "330 watch gina gina :is logged in as"},
	      {0, S "317 watch gina *"},
	      {0, S "319 watch gina :*"},
	      {0, S "318 watch gina :*"}}},
	    {2,
	     "PRIVMSG NickServ :LOGOUT",
	     {{0, ":gina!*@* ACCOUNT *"}, {0, ":gina!*@* NICK :guest*"}}},
	};
	CHECK(IRC_EXCHANGE(fds, steps));
	/* The plain client heard the message as ever, without tags. */
	CHECK(tc_expect(p, "<gina> hello", NULL, 0, WAIT) > 0);
	/* The client without the capabilities saw no ACCOUNT at all. */
	int accounts = 0;
	CHECK(IRC_SYNC_AT_MATCHING(o, "* ACCOUNT *", &accounts) >= 0);
	CHECK(accounts == 0);
	tc_close(w);
	tc_close(o);
	tc_close(g);
	tc_close(p);
	ts_free(s);
	db_free(&d);
}

/* ---- --nick-grace -------------------------------------------------------- */

static void
test_a_registered_nickname_is_lent_then_taken_back_after_nick_grace(void)
{
	struct db d;

	REQUIRE(db_make(&d, "--nick-grace 1"));
	struct ts_server *s = irc_start(t_model, d.args);
	REQUIRE(s);
	REQUIRE(register_nick(s, "hana"));
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	irc_send(fd, "NICK hana");
	irc_send(fd, "USER h 0 * :H");
	CHECK(IRC_UNTIL(fd, S "001 hana :*"));
	CHECK(IRC_UNTIL(fd, NS "hana :This nickname is registered. Log in "
			       "within 1 s*"));
	CHECK(IRC_UNTIL(fd, ":hana!*@* NICK :guest*"));
	CHECK(ts_log_wait(s, "did not log in to registered nickname hana",
			  WAIT) == 0);
	/* A client that logs in meanwhile keeps it. */
	int k = irc_connect(s);
	REQUIRE(k >= 0);
	irc_send(k, "NICK hana");
	irc_send(k, "USER h 0 * :H");
	irc_send(k, "PRIVMSG NickServ :IDENTIFY " PW);
	CHECK(IRC_UNTIL(k, NS "hana :You are now identified for hana"));
	tc_close(fd);
	tc_close(k);
	ts_free(s);
	db_free(&d);
}

/* A config file of nick-grace S in d's directory; its path in path. */
static int
grace_conf(const struct db *d, int seconds, char *path, size_t n)
{
	char tmp[160];
	FILE *f;

	snprintf(path, n, "%s/parleyd.conf", d->dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (!(f = fopen(tmp, "w")))
		return -1;
	fprintf(f, "nick-grace %d\n", seconds);
	/* Renamed into place, as an editor does. */
	return fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : -1;
}

static void
test_nick_grace_reloads_from_refused_to_lent(void)
{
	struct db d;
	char conf[160], args[512];

	REQUIRE(db_make(&d, NULL));
	REQUIRE(grace_conf(&d, 0, conf, sizeof(conf)) == 0);
	snprintf(args, sizeof(args), "%s --config %s", d.args, conf);
	struct ts_server *s = irc_start(t_model, args);
	REQUIRE(s);
	REQUIRE(register_nick(s, "kim"));
	int a = irc_connect(s);
	REQUIRE(a >= 0);
	irc_send(a, "NICK kim");
	CHECK(IRC_UNTIL(a, S "433 * kim :Nickname is registered*"));
	REQUIRE(grace_conf(&d, 1, conf, sizeof(conf)) == 0);
	kill(s->pid, SIGHUP);
	CHECK(ts_log_wait(s, "reloaded: 1 setting changed", WAIT) == 0);
	irc_send(a, "NICK kim");
	irc_send(a, "USER k 0 * :K");
	CHECK(IRC_UNTIL(a, S "001 kim :*"));
	CHECK(IRC_UNTIL(a, ":kim!*@* NICK :guest*"));
	tc_close(a);
	ts_free(s);
	db_free(&d);
}

/* ---- the store down ------------------------------------------------------ */

static void
test_with_the_store_down_sasl_and_nickserv_say_accounts_are_unavailable(void)
{
	struct db d;
	char ok[512], away[128];

	REQUIRE(db_make(&d, NULL));
	struct ts_server *s = irc_start(t_model, d.args);
	REQUIRE(s);
	REQUIRE(register_nick(s, "ivy"));
	pid_t store = sl_store_pid(s, d.path);
	REQUIRE(store > 0);
	/* Its database goes, so its respawns fail until the test ends. */
	snprintf(away, sizeof(away), "%s.away", d.path);
	CHECK(rename(d.path, away) == 0);
	CHECK(mkdir(d.path, 0755) == 0);
	CHECK(kill(store, SIGKILL) == 0);
	CHECK(ts_log_wait(s, "killed by signal", WAIT) == 0);
	plain("", "ivy", PW, ok);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	irc_send(fd, "CAP LS 302");
	irc_send(fd, "CAP REQ :sasl");
	irc_send(fd, "NICK jay");
	irc_send(fd, "USER j 0 * :J");
	irc_send(fd, "AUTHENTICATE PLAIN");
	CHECK(IRC_UNTIL(fd, "AUTHENTICATE +"));
	irc_send(fd, "AUTHENTICATE %s", ok);
	CHECK(IRC_UNTIL(fd, NS "jay :Accounts are unavailable right now*"));
	CHECK(IRC_UNTIL(fd, S "904 jay :*"));
	irc_send(fd, "CAP END");
	CHECK(IRC_UNTIL(fd, S "001 jay :*"));
	irc_send(fd, "PRIVMSG NickServ :IDENTIFY ivy " PW);
	CHECK(IRC_UNTIL(fd, NS "jay :Accounts are unavailable right now*"));
	tc_close(fd);
	ts_free(s);
	db_free(&d);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "irc_sasl", t_model, sizeof(t_model), suite);
	RUN(test_sasl_plain_logs_in_fails_aborts_and_refuses_as_the_spec_says);
	RUN(test_pass_logs_in_at_registration_or_says_464_and_goes_on);
	RUN(test_nickserv_registers_identifies_from_another_connection_and_logs_out);
	RUN(test_others_see_logins_with_account_notify_account_tag_and_whois);
	RUN(test_a_registered_nickname_is_lent_then_taken_back_after_nick_grace);
	RUN(test_nick_grace_reloads_from_refused_to_lent);
	RUN(test_with_the_store_down_sasl_and_nickserv_say_accounts_are_unavailable);
	return tl_summary(suite);
}
