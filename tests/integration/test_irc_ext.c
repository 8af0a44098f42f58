/*
 * Integration tests of the IRC front end's round-4 extensions against the
 * real parleyd, with a database of the test's own where accounts are
 * needed: extended-join as clients with and without it, and plain
 * clients, see it; a G-lined IRC client's 465 from the server by name;
 * registered rooms listed by LIST and /rooms while empty; SASL (a
 * response over several AUTHENTICATE lines) and PASS logins with their
 * buffers made on demand.
 */
#include "../irc.h"
#include "../storelib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS
#define PW   "hunter22"
#define NS   ":NickServ!NickServ@services. NOTICE "

/* parleyd --hash-password for "secret" (yescrypt). */
#define OPER_HASH                                                              \
	"$y$j9T$DCK4CeYpeL5hTRFN173hA/$OISrJD4iyquoQqAcpUhR09nuE9spAE.BIisVJS/eRf4"

static char t_model[256];

/* The next JOIN to room by nick that fd gets (skipping other lines) must
 * be exactly want (a pattern): 1, or 0 after a failed check. */
static int
join_seen_at(const char *file, int line, int fd, const char *nick,
	     const char *room, const char *want)
{
	char pat[128], got[1024];

	snprintf(pat, sizeof(pat), ":%s!* JOIN %s*", nick, room);
	if (!irc_until_at(file, line, fd, pat, got, sizeof(got)))
		return 0;
	return tl_check(irc_match(want, got), file, line,
			"JOIN of %s: \"%s\", not \"%s\"", nick, got, want);
}
#define JOIN_SEEN(fd, nick, room, want)                                        \
	join_seen_at(__FILE__, __LINE__, fd, nick, room, want)

/* parleyd with plain and IRC listeners on the fixture's database. */
static struct ts_server *
start_db(const struct sl_fixture *f, const char *extra)
{
	char args[1024];

	snprintf(args, sizeof(args), "--db %s --nick-grace 0 %s", f->db,
		 extra ? extra : "");
	return irc_start(t_model, args);
}

/* A plain client renamed to nick and registered (logged in). */
static int
plain_account(const struct ts_server *s, const char *nick)
{
	char want[64];
	int fd = irc_plain_as(s, nick);

	if (fd < 0)
		return -1;
	snprintf(want, sizeof(want), "-!- registered %s", nick);
	if (!IRC_PLAIN_DO(fd, "/register " PW, want)) {
		tc_close(fd);
		return -1;
	}
	return fd;
}

/* The SASL PLAIN response for account with password, in base64. */
static void
plain_response(const char *account, const char *password, char *out)
{
	char raw[512];
	size_t n = (size_t)snprintf(raw, sizeof(raw), "%c%s%c%s", 0, account, 0,
				    password);

	tl_base64(raw, n, out);
}

/* ---- extended-join ------------------------------------------------------- */

/* alice asked for extended-join, carol did not, dave speaks plain: each
 * sees joins as its own protocol and capabilities spell them, for a
 * joiner logged in by NickServ (bob), one not logged in (eve), and a
 * plain client logged in (dave). */
static void
test_extended_join_shows_account_and_real_name_only_to_who_asked(void)
{
	struct sl_fixture f;

	sl_fixture_make(&f, "ircext");
	struct ts_server *s = start_db(&f, NULL);
	REQUIRE(s);
	int a = irc_login(s, "alice", "extended-join");
	int c = irc_login(s, "carol", "");
	int d = irc_plain_as(s, "dave");
	REQUIRE(a >= 0 && c >= 0 && d >= 0);
	irc_send(a, "CAP LIST");
	CHECK(IRC_UNTIL(a, S "CAP alice LIST :*extended-join*"));
	/* Its own JOIN too, not logged in: the account is "*". */
	irc_send(a, "JOIN #ext");
	CHECK(JOIN_SEEN(a, "alice", "#ext",
			":alice!*@* JOIN #ext * :alice's real name"));
	CHECK(IRC_UNTIL(a, S "366 alice #ext :*"));
	irc_send(c, "JOIN #ext");
	CHECK(JOIN_SEEN(c, "carol", "#ext", ":carol!*@* JOIN #ext"));
	CHECK(IRC_UNTIL(c, S "366 carol #ext :*"));
	CHECK(JOIN_SEEN(a, "carol", "#ext",
			":carol!*@* JOIN #ext * :carol's real name"));
	CHECK(IRC_PLAIN_DO(d, "/join #ext", "-!- dave joined #ext"));
	CHECK(JOIN_SEEN(a, "dave", "#ext", ":dave!*@* JOIN #ext * :"));
	CHECK(JOIN_SEEN(c, "dave", "#ext", ":dave!*@* JOIN #ext"));

	/* bob logs in (registering with NickServ), then joins. */
	int b = irc_login(s, "bob", NULL);
	REQUIRE(b >= 0);
	irc_send(b, "PRIVMSG NickServ :REGISTER " PW " bob@example.com");
	CHECK(IRC_UNTIL(b, S "900 bob bob!*@* bob :*"));
	irc_send(b, "JOIN #ext");
	CHECK(IRC_UNTIL(b, S "366 bob #ext :*"));
	CHECK(JOIN_SEEN(a, "bob", "#ext",
			":bob!*@* JOIN #ext bob :bob's real name"));
	CHECK(JOIN_SEEN(c, "bob", "#ext", ":bob!*@* JOIN #ext"));
	CHECK(IRC_PLAIN_GETS(d, "-!- bob joined #ext"));

	/* eve, not logged in. */
	int e = irc_login(s, "eve", "extended-join");
	REQUIRE(e >= 0);
	irc_send(e, "JOIN #ext");
	CHECK(JOIN_SEEN(e, "eve", "#ext",
			":eve!*@* JOIN #ext * :eve's real name"));
	CHECK(JOIN_SEEN(a, "eve", "#ext",
			":eve!*@* JOIN #ext * :eve's real name"));
	CHECK(JOIN_SEEN(c, "eve", "#ext", ":eve!*@* JOIN #ext"));
	CHECK(IRC_PLAIN_GETS(d, "-!- eve joined #ext"));

	/* dave logs in (a plain /register) and joins another room. */
	CHECK(IRC_PLAIN_DO(d, "/register " PW, "-!- registered dave"));
	irc_send(a, "JOIN #ext2");
	CHECK(IRC_UNTIL(a, S "366 alice #ext2 :*"));
	CHECK(IRC_PLAIN_DO(d, "/join #ext2", "-!- dave joined #ext2"));
	CHECK(JOIN_SEEN(a, "dave", "#ext2", ":dave!*@* JOIN #ext2 dave :"));

	tc_close(a);
	tc_close(b);
	tc_close(c);
	tc_close(d);
	tc_close(e);
	ts_free(s);
	sl_fixture_free(&f);
}

/* ---- 465 ----------------------------------------------------------------- */

static void
test_a_glined_irc_client_gets_465_from_the_server_by_name(void)
{
	struct ts_server *s = irc_start(t_model, "--oper admin:" OPER_HASH);
	REQUIRE(s);
	int c = irc_plain_as(s, "carol");
	REQUIRE(c >= 0);
	CHECK(IRC_PLAIN_DO(c, "/oper admin secret",
			   "-!- you are now a server operator"));
	CHECK(IRC_PLAIN_DO(c, "/gline 127.0.0.* abuse",
			   "-!- server ban on 127.0.0.* set"));
	int d = irc_connect(s);
	REQUIRE(d >= 0);
	CHECK(IRC_NEXT(d, S "465 * :You are banned from this server (abuse)"));
	CHECK(IRC_NEXT(d, "ERROR :Closing link: You are banned from this "
			  "server (abuse)"));
	CHECK(tc_wait_eof(d, WAIT) == 0);
	tc_close(d);
	/* The plain protocol's refusal is as it was. */
	d = tc_connect(s->port);
	REQUIRE(d >= 0);
	CHECK(IRC_PLAIN_GETS(d, "-!- you are banned from this server (abuse)"));
	tc_close(d);
	CHECK(IRC_PLAIN_DO(c, "/ungline 127.0.0.*",
			   "-!- server ban on 127.0.0.* lifted"));
	tc_close(c);
	ts_free(s);
}

/* ---- registered rooms in the room list ----------------------------------- */

/* The lines of a LIST, 321 to 323, must be want[0..n) in order. */
static int
list_is_at(int line, int fd, const char *nick, const char *const *want,
	   size_t n)
{
	char pat[128];
	int ok;

	irc_send(fd, "LIST");
	snprintf(pat, sizeof(pat), S "321 %s *", nick);
	ok = irc_next_at(__FILE__, line, fd, pat, NULL, 0);
	for (size_t i = 0; ok && i < n; i++)
		ok = irc_next_at(__FILE__, line, fd, want[i], NULL, 0);
	snprintf(pat, sizeof(pat), S "323 %s :End of /LIST", nick);
	return ok && irc_next_at(__FILE__, line, fd, pat, NULL, 0);
}
#define LIST_IS(fd, nick, ...)                                                 \
	list_is_at(__LINE__, fd, nick, (const char *const[]){__VA_ARGS__},     \
		   sizeof((const char *const[]){__VA_ARGS__}) /                \
		       sizeof(char *))

/* #kept (registered, with a topic) and #hidden (registered, +s) are
 * empty, #gone (not registered) is no more: LIST and /rooms show #kept
 * with 0 users and its topic, by name among the rooms that exist, once
 * (not twice when someone is in it), and again after a restart; #hidden
 * only to a server operator, #gone never. */
static void
test_an_empty_registered_room_is_listed_with_0_users_and_its_topic(void)
{
	struct sl_fixture f;

	sl_fixture_make(&f, "ircextlist");
	struct ts_server *s = start_db(&f, NULL);
	REQUIRE(s);
	int a = plain_account(s, "alice");
	REQUIRE(a >= 0);
	CHECK(IRC_PLAIN_DO(a, "/join #kept", "-!- alice joined #kept"));
	CHECK(IRC_PLAIN_DO(a, "/register-room",
			   "-!- #kept is now registered to alice"));
	CHECK(IRC_PLAIN_DO(a, "/topic #kept tea at five",
			   "-!- alice set the topic of #kept: tea at five"));
	CHECK(IRC_PLAIN_DO(a, "/join #hidden", "-!- alice joined #hidden"));
	CHECK(IRC_PLAIN_DO(a, "/register-room",
			   "-!- #hidden is now registered to alice"));
	CHECK(IRC_PLAIN_DO(a, "/mode +s", "-!- alice sets mode +s on #hidden"));
	CHECK(IRC_PLAIN_DO(a, "/join #gone", "-!- alice joined #gone"));
	CHECK(IRC_PLAIN_DO(a, "/part #kept", "-!- alice left #kept"));
	CHECK(IRC_PLAIN_DO(a, "/part #hidden", "-!- alice left #hidden"));
	CHECK(IRC_PLAIN_DO(a, "/part #gone", "-!- alice left #gone"));

	int i = irc_login(s, "ivy", NULL);
	REQUIRE(i >= 0);
	CHECK(LIST_IS(i, "ivy", S "322 ivy #kept 0 :tea at five",
		      S "322 ivy #lobby 1 :"));
	/* LIST with a mask filters them alike. */
	irc_send(i, "LIST #k*");
	CHECK(IRC_NEXT(i, S "321 ivy *"));
	CHECK(IRC_NEXT(i, S "322 ivy #kept 0 :tea at five"));
	CHECK(IRC_NEXT(i, S "323 ivy :*"));
	CHECK(IRC_PLAIN_DO(a, "/rooms",
			   "-!- #kept: 0 members, topic: tea at five"));
	CHECK(IRC_PLAIN_GETS(a, "-!- #lobby: 1 member, no topic"));
	/* Someone in it: listed as the room it is, once. */
	irc_send(i, "JOIN #kept");
	CHECK(IRC_UNTIL(i, S "366 ivy #kept :*"));
	CHECK(LIST_IS(i, "ivy", S "322 ivy #kept 1 :tea at five",
		      S "322 ivy #lobby 1 :"));
	irc_send(i, "PART #kept");
	CHECK(IRC_UNTIL(i, ":ivy!*@* PART #kept"));
	tc_close(i);
	tc_close(a);
	CHECK(ts_stop(s, SIGTERM, WAIT) == 0);
	ts_free(s);

	/* After a restart, from what the store kept. */
	s = start_db(&f, "--oper admin:" OPER_HASH);
	REQUIRE(s);
	CHECK(ts_log_wait(s, "2 registered rooms", WAIT) == 0);
	i = irc_login(s, "ivy", NULL);
	REQUIRE(i >= 0);
	/* No one is in #lobby (an IRC client joins no room of itself). */
	CHECK(LIST_IS(i, "ivy", S "322 ivy #kept 0 :tea at five"));
	/* A server operator sees the +s one too. */
	irc_send(i, "OPER admin secret");
	CHECK(IRC_UNTIL(i, S "381 ivy :*"));
	CHECK(IRC_NEXT(i, ":ivy MODE ivy :+o"));
	CHECK(LIST_IS(i, "ivy", S "322 ivy #hidden 0 :",
		      S "322 ivy #kept 0 :tea at five"));
	tc_close(i);
	ts_free(s);
	sl_fixture_free(&f);
}

/* ---- SASL and PASS ------------------------------------------------------- */

/* A response over more than one AUTHENTICATE line reaches the store
 * whole (a password too long to be anyone's: 904), and the next exchange
 * of the connection starts afresh and logs in; PASS logs in at
 * registration. */
static void
test_sasl_over_several_lines_and_pass_still_log_in(void)
{
	struct sl_fixture f;
	char resp[1024], pw[297];

	sl_fixture_make(&f, "ircextsasl");
	struct ts_server *s = start_db(&f, NULL);
	REQUIRE(s);
	int a = plain_account(s, "alice");
	REQUIRE(a >= 0);
	tc_close(a);

	memset(pw, 'p', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	plain_response("alice", pw, resp);
	REQUIRE(strlen(resp) == 404);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	irc_send(fd, "CAP LS 302");
	irc_send(fd, "CAP REQ :sasl");
	CHECK(IRC_UNTIL(fd, S "CAP * ACK :sasl"));
	irc_send(fd, "NICK lee");
	irc_send(fd, "USER l 0 * :L");
	irc_send(fd, "AUTHENTICATE PLAIN");
	CHECK(IRC_UNTIL(fd, "AUTHENTICATE +"));
	irc_send(fd, "AUTHENTICATE %.400s", resp);
	irc_send(fd, "AUTHENTICATE %s", resp + 400);
	CHECK(IRC_UNTIL(fd, S "904 lee :SASL authentication failed"));
	plain_response("alice", PW, resp);
	irc_send(fd, "AUTHENTICATE PLAIN");
	CHECK(IRC_UNTIL(fd, "AUTHENTICATE +"));
	irc_send(fd, "AUTHENTICATE %s", resp);
	CHECK(IRC_NEXT(fd, S "900 lee lee!*@* alice :*"));
	CHECK(IRC_NEXT(fd, S "903 lee :SASL authentication successful"));
	irc_send(fd, "CAP END");
	CHECK(IRC_UNTIL(fd, S "001 lee :*"));
	irc_send(fd, "WHOIS lee");
	CHECK(IRC_UNTIL(fd, S "330 lee lee alice :*"));
	tc_close(fd);

	fd = irc_connect(s);
	REQUIRE(fd >= 0);
	irc_send(fd, "PASS alice:" PW);
	irc_send(fd, "NICK amy");
	irc_send(fd, "USER a 0 * :A");
	CHECK(IRC_UNTIL(fd, S "900 amy amy!*@* alice :*"));
	CHECK(IRC_UNTIL(fd, S "001 amy :*"));
	tc_close(fd);
	/* A wrong one says so, and registration goes on. */
	fd = irc_connect(s);
	REQUIRE(fd >= 0);
	irc_send(fd, "PASS alice:wrong-password");
	irc_send(fd, "NICK zed");
	irc_send(fd, "USER z 0 * :Z");
	CHECK(IRC_UNTIL(fd, NS "zed :Login failed: *"));
	CHECK(IRC_NEXT(fd, S "464 zed :Password incorrect"));
	CHECK(IRC_UNTIL(fd, S "001 zed :*"));
	tc_close(fd);
	CHECK(ts_log_count(s, PW) == 0);
	ts_free(s);
	sl_fixture_free(&f);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "irc_ext", t_model, sizeof(t_model), suite);
	RUN(test_extended_join_shows_account_and_real_name_only_to_who_asked);
	RUN(test_a_glined_irc_client_gets_465_from_the_server_by_name);
	RUN(test_an_empty_registered_room_is_listed_with_0_users_and_its_topic);
	RUN(test_sasl_over_several_lines_and_pass_still_log_in);
	return tl_summary(suite);
}
