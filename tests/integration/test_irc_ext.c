/*
 * Integration tests of the IRC front end's round-4 extensions against the
 * real parleyd, with a database of the test's own where accounts are
 * needed: extended-join as clients with and without it, and plain
 * clients, see it; a G-lined IRC client's 465 from the server by name.
 */
#include "../irc.h"
#include "../storelib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS
#define PW   "hunter22"

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

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "irc_ext", t_model, sizeof(t_model), suite);
	RUN(test_extended_join_shows_account_and_real_name_only_to_who_asked);
	RUN(test_a_glined_irc_client_gets_465_from_the_server_by_name);
	return tl_summary(suite);
}
