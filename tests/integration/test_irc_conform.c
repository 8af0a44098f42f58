/*
 * Integration tests of where parleyd's IRC once differed from what an IRC
 * conformance suite (irctest's server tests, after the Modern IRC
 * documents) expects: each row is a line a client sends, the lines it or
 * another client must get next, and a line that must not come before the
 * server answers a PING. Runs the real parleyd in both process models.
 */
#include "../irc.h"

#include <stdio.h>
#include <string.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS

/* parleyd --hash-password for "secret" (yescrypt). */
#define OPER_HASH                                                              \
	"$y$j9T$DCK4CeYpeL5hTRFN173hA/$OISrJD4iyquoQqAcpUhR09nuE9spAE.BIisVJS/eRf4"
#define OPER_ARGS "--oper operuser:" OPER_HASH

static char t_model[256];

/* A room name at CHANNELLEN (50) with its '#'. */
#define FORTY_NINE "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* One row: who sends send; then each want (client, pattern) comes next,
 * in order; then, up to the PONG of a PING, no line of client never_who
 * matches never (NULL: not checked). */
struct conform_row {
	const char *irctest; /* the irctest case it stands for */
	int who;
	const char *send;
	struct irc_want want[6];
	int never_who;
	const char *never;
};

static int
conform_run(const int *fds, const struct conform_row *rows, size_t n)
{
	int ok = 1;

	for (size_t i = 0; i < n; i++) {
		const struct conform_row *r = &rows[i];
		struct irc_step step = {.who = r->who, .send = r->send};
		int matching = 0;

		memcpy(step.want, r->want, sizeof(r->want));
		if (!CHECKF(irc_exchange_at(__FILE__, __LINE__, fds, &step, 1),
			    "%s: %s", r->irctest, r->send)) {
			ok = 0;
			continue;
		}
		if (!r->never)
			continue;
		if (!CHECKF(irc_sync_at(__FILE__, __LINE__, fds[r->never_who],
					r->never, &matching) >= 0 &&
				matching == 0,
			    "%s: %s: \"%s\" came %d time(s)", r->irctest,
			    r->send, r->never, matching))
			ok = 0;
	}
	return ok;
}

/* coolNick (user myusernam) makes #chan, otherNick joins it; both are
 * then quiet. */
static int
conform_pair(struct ts_server *s, int *fds)
{
	fds[0] = irc_connect(s);
	fds[1] = fds[0] >= 0 ? irc_login(s, "otherNick", NULL) : -1;
	if (!CHECK(fds[0] >= 0 && fds[1] >= 0))
		return 0;
	irc_send(fds[0], "NICK coolNick");
	irc_send(fds[0], "USER myusernam 0 * :My UniqueReal Name");
	irc_send(fds[0], "JOIN #chan");
	if (!CHECK(IRC_UNTIL(fds[0], S "366 coolNick #chan *")))
		return 0;
	irc_send(fds[1], "JOIN #chan");
	return CHECK(IRC_UNTIL(fds[1], S "366 otherNick #chan *")) &&
	       CHECK(IRC_UNTIL(fds[0], ":otherNick!*@* JOIN #chan")) &&
	       CHECK(IRC_SYNC(fds[0]) >= 0) && CHECK(IRC_SYNC(fds[1]) >= 0);
}

static void
test_whois_lists_each_room_with_the_clients_prefix(void)
{
	struct ts_server *s = irc_start(t_model, "");
	int fds[2] = {-1, -1};
	static const struct conform_row rows[] = {
	    {"whois.py testWhoisNumerics[normal]: 319 is @#chan",
	     1,
	     "WHOIS coolNick",
	     {{1, S "311 otherNick coolNick ~myusernam *.parley * "
		    ":My UniqueReal Name"},
	      {1, S "312 otherNick coolNick " IRC_SERVER " :*"},
	      {1, S "317 otherNick coolNick * * :*"},
	      {1, S "319 otherNick coolNick :@#chan"},
	      {1, S "318 otherNick coolNick :End of /WHOIS list"}},
	     1,
	     S "313 *"},
	    {"whois.py: a member without status has no prefix",
	     0,
	     "WHOIS otherNick",
	     {{0, S "311 coolNick otherNick *"},
	      {0, S "312 *"},
	      {0, S "317 *"},
	      {0, S "319 coolNick otherNick :#chan"},
	      {0, S "318 coolNick otherNick :*"}},
	     0,
	     NULL},
	    {"multi_prefix.py: voice shows +",
	     0,
	     "MODE #chan +v otherNick",
	     {{0, ":coolNick!*@* MODE #chan +v otherNick"},
	      {1, ":coolNick!*@* MODE #chan +v otherNick"}},
	     0,
	     NULL},
	    {"whois.py: a voiced member is +#chan",
	     0,
	     "WHOIS otherNick",
	     {{0, S "311 *"},
	      {0, S "312 *"},
	      {0, S "317 *"},
	      {0, S "319 coolNick otherNick :+#chan"},
	      {0, S "318 *"}},
	     0,
	     NULL},
	    {"secret.py: a +s room",
	     0,
	     "JOIN #sec",
	     {{0, ":coolNick!*@* JOIN #sec"}, {0, S "353 *"}, {0, S "366 *"}},
	     0,
	     NULL},
	    {"secret.py",
	     0,
	     "MODE #sec +s",
	     {{0, ":coolNick!*@* MODE #sec +s"}},
	     0,
	     NULL},
	    {"RFC 2812 WHOIS: a secret room is not shown to others",
	     1,
	     "WHOIS coolNick",
	     {{1, S "311 *"},
	      {1, S "312 *"},
	      {1, S "317 *"},
	      {1, S "319 otherNick coolNick :@#chan"},
	      {1, S "318 *"}},
	     1,
	     "*#sec*"},
	    {"RFC 2812 WHOIS: but to its members",
	     0,
	     "WHOIS coolNick",
	     {{0, S "311 *"},
	      {0, S "312 *"},
	      {0, S "317 *"},
	      {0, S "319 coolNick coolNick :@#chan @#sec"},
	      {0, S "318 *"}},
	     0,
	     NULL},
	};

	REQUIRE(s);
	if (conform_pair(s, fds))
		CHECK(conform_run(fds, rows, sizeof(rows) / sizeof(rows[0])));
	tc_close(fds[0]);
	tc_close(fds[1]);
	ts_free(s);
}

static void
test_a_server_operator_is_told_and_shown_as_modern_irc_says(void)
{
	struct ts_server *s = irc_start(t_model, OPER_ARGS);
	int fds[2] = {-1, -1};
	static const struct conform_row rows[] = {
	    {"oper.py testOperSuccess: 381, then one MODE +o",
	     0,
	     "OPER operuser secret",
	     {{0, S "381 coolNick :You are now an IRC operator"},
	      {0, ":coolNick MODE coolNick :+o"}},
	     0,
	     "* MODE *"},
	    {"oper.py testOperFailure: no 381",
	     1,
	     "OPER operuser wrong",
	     {{1, S "464 otherNick :*"}},
	     1,
	     "* 381 *"},
	    {"Modern MODE: 221 shows o after OPER",
	     0,
	     "MODE coolNick",
	     {{0, S "221 coolNick +ow"}},
	     0,
	     NULL},
	    {"Modern MODE: +o and -o are ignored",
	     0,
	     "MODE coolNick -o+o",
	     {{0, NULL}},
	     0,
	     "* MODE *"},
	    {"who.py testWhoNickOper: H*",
	     1,
	     "WHO coolNick",
	     {{1, S "352 otherNick * ~myusernam *.parley " IRC_SERVER
		    " coolNick H* :0 My UniqueReal Name"},
	      {1, S "315 otherNick coolNick :End of WHO list"}},
	     0,
	     NULL},
	    {"who.py testWhoNickOper[mask]",
	     1,
	     "WHO coolni*",
	     {{1, S "352 otherNick * * coolNick H* :*"}, {1, S "315 *"}},
	     0,
	     NULL},
	    {"whois.py testWhoisNumerics[oper]: 313",
	     1,
	     "WHOIS coolNick",
	     {{1, S "311 *"},
	      {1, S "312 *"},
	      {1, S "313 otherNick coolNick :is an IRC operator"},
	      {1, S "317 *"},
	      {1, S "319 otherNick coolNick :@#chan"},
	      {1, S "318 *"}},
	     0,
	     NULL},
	    {"away.py",
	     0,
	     "AWAY :be right back",
	     {{0, S "306 coolNick :*"}},
	     0,
	     NULL},
	    {"who.py testWhoNickAwayAndOper: G*@ in the room",
	     1,
	     "WHO #chan",
	     {{1, S "352 otherNick #chan ~myusernam * " IRC_SERVER
		    " coolNick G*@ :0 My UniqueReal Name"},
	      {1, S "352 otherNick #chan * otherNick H :0 *"},
	      {1, S "315 otherNick #chan :End of WHO list"}},
	     0,
	     NULL},
	    {"Modern USERHOST: * for an operator, - when away",
	     1,
	     "USERHOST coolNick otherNick",
	     {{1, S "302 otherNick :coolNick*=-~myusernam@*.parley "
		    "otherNick=+*"}},
	     0,
	     NULL},
	};

	REQUIRE(s);
	if (conform_pair(s, fds))
		CHECK(conform_run(fds, rows, sizeof(rows) / sizeof(rows[0])));
	tc_close(fds[0]);
	tc_close(fds[1]);
	ts_free(s);
}

static void
test_info_and_over_long_room_names_get_what_modern_irc_says(void)
{
	struct ts_server *s = irc_start(t_model, "");
	int fd;
	static const struct conform_row rows[] = {
	    {"info.py testInfo",
	     0,
	     "INFO",
	     {{0, S "371 nick :parley-*"},
	      {0, S "371 nick :*"},
	      {0, S "374 nick :End of INFO list"}},
	     0,
	     S "421 *"},
	    {"info.py: a mask that is not this server",
	     0,
	     "INFO *Little*." IRC_SERVER,
	     {{0, S "402 nick *Little*." IRC_SERVER " :No such server"}},
	     0,
	     NULL},
	    {"info.py testInfoTarget[target-server]",
	     0,
	     "INFO " IRC_SERVER,
	     {{0, S "371 *"}, {0, S "371 *"}, {0, S "374 *"}},
	     0,
	     NULL},
	    {"info.py testInfoTarget, a mask",
	     0,
	     "INFO irc.*",
	     {{0, S "371 *"}, {0, S "371 *"}, {0, S "374 *"}},
	     0,
	     NULL},
	    {"isupport_limits.py testChannellen: CHANNELLEN=50 joins",
	     0,
	     "JOIN #" FORTY_NINE,
	     {{0, ":nick!*@* JOIN #" FORTY_NINE},
	      {0, S "353 nick = #" FORTY_NINE " :@nick"},
	      {0, S "366 nick #" FORTY_NINE " :*"}},
	     0,
	     NULL},
	    {"isupport_limits.py testChannellen: one more is 403",
	     0,
	     "JOIN #" FORTY_NINE "b",
	     {{0, S "403 nick #" FORTY_NINE "b :No such channel"}},
	     0,
	     "* 476 *"},
	    {"info.py testInfoNosuchserver",
	     0,
	     "INFO invalidserver",
	     {{0, S "402 nick invalidserver :No such server"}},
	     0,
	     S "37? *"},
	};

	REQUIRE(s);
	fd = irc_login(s, "nick", NULL);
	if (CHECK(fd >= 0))
		CHECK(conform_run(&fd, rows, sizeof(rows) / sizeof(rows[0])));
	tc_close(fd);
	ts_free(s);
}

static void
test_kick_pairs_each_room_of_a_list_with_its_nick(void)
{
	struct ts_server *s = irc_start(t_model, "");
	int fds[3] = {-1, -1, -1};
	static const char *const nicks[] = {"foo", "bar", "baz"};
	static const struct conform_row rows[] = {
	    {"kick.py testDoubleKickMessages[multiple_targets]",
	     0,
	     "KICK #chan,#chan bar,baz :bye",
	     {{0, ":foo!*@* KICK #chan bar :bye"},
	      {0, ":foo!*@* KICK #chan baz :bye"},
	      {1, ":foo!*@* KICK #chan bar :bye"},
	      {2, ":foo!*@* KICK #chan bar :bye"},
	      {2, ":foo!*@* KICK #chan baz :bye"}},
	     0,
	     S "403 *"},
	    {"RFC 2812 KICK: the i-th room for the i-th nick",
	     1,
	     "JOIN #chan",
	     {{1, ":bar!*@* JOIN #chan"}, {0, ":bar!*@* JOIN #chan"}},
	     0,
	     NULL},
	    {"RFC 2812 KICK: a bad room refuses only its nick",
	     0,
	     "KICK #nope,#chan baz,bar",
	     {{0, S "403 foo #nope :No such channel"},
	      {0, ":foo!*@* KICK #chan bar :foo"}},
	     0,
	     "* KICK * baz *"},
	};
	int ok = 1;

	REQUIRE(s);
	for (int i = 0; i < 3 && ok; i++) {
		fds[i] = irc_login(s, nicks[i], NULL);
		ok = CHECK(fds[i] >= 0);
		if (ok)
			irc_send(fds[i], "JOIN #chan");
		ok = ok && CHECK(IRC_UNTIL(fds[i], S "366 * #chan *"));
	}
	/* Each sees the last join before the rows start. */
	ok = ok && CHECK(IRC_UNTIL(fds[0], ":baz!*@* JOIN #chan")) &&
	     CHECK(IRC_UNTIL(fds[1], ":baz!*@* JOIN #chan"));
	if (ok)
		CHECK(conform_run(fds, rows, sizeof(rows) / sizeof(rows[0])));
	for (int i = 0; i < 3; i++)
		tc_close(fds[i]);
	ts_free(s);
}

static void
test_wallops_reach_only_clients_with_user_mode_w(void)
{
	struct ts_server *s = irc_start(t_model, OPER_ARGS);
	int fds[3] = {-1, -1, -1};
	static const char *const nicks[] = {"nick1", "nick2", "nick3"};
	static const struct conform_row rows[] = {
	    {"wallops.py testWallops: -w is told",
	     1,
	     "MODE nick2 -w",
	     {{1, ":nick2 MODE nick2 :-w"}},
	     1,
	     NULL},
	    {"wallops.py testWallops: +w is already so",
	     2,
	     "MODE nick3 +w",
	     {{0, NULL}},
	     2,
	     "* MODE *"},
	    {"Modern 221", 1, "MODE nick2", {{1, S "221 nick2 +"}}, 1, NULL},
	    {"Modern 221: w by default",
	     2,
	     "MODE nick3",
	     {{2, S "221 nick3 +w"}},
	     2,
	     NULL},
	    {"wallops.py testWallops: OPER",
	     0,
	     "OPER operuser secret",
	     {{0, S "381 nick1 :*"}, {0, ":nick1 MODE nick1 :+o"}},
	     0,
	     NULL},
	    {"wallops.py testWallops: not to nick2 (-w)",
	     0,
	     "WALLOPS :hi everyone",
	     {{0, ":nick1!*@* WALLOPS :hi everyone"},
	      {2, ":nick1!*@* WALLOPS :hi everyone"}},
	     1,
	     "* WALLOPS *"},
	    {"Modern MODE: an unknown user mode is 501, w still applies",
	     1,
	     "MODE nick2 +iw",
	     {{1, S "501 nick2 :*"}, {1, ":nick2 MODE nick2 :+w"}},
	     1,
	     NULL},
	    {"wallops.py: +w again gets WALLOPS",
	     0,
	     "WALLOPS :again",
	     {{0, ":nick1!*@* WALLOPS :again"},
	      {1, ":nick1!*@* WALLOPS :again"},
	      {2, ":nick1!*@* WALLOPS :again"}},
	     0,
	     NULL},
	};
	int ok = 1;

	REQUIRE(s);
	for (int i = 0; i < 3 && ok; i++) {
		fds[i] = irc_login(s, nicks[i], NULL);
		ok = CHECK(fds[i] >= 0);
	}
	if (ok)
		CHECK(conform_run(fds, rows, sizeof(rows) / sizeof(rows[0])));
	for (int i = 0; i < 3; i++)
		tc_close(fds[i]);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "irc_conform", t_model, sizeof(t_model), suite);
	RUN(test_whois_lists_each_room_with_the_clients_prefix);
	RUN(test_a_server_operator_is_told_and_shown_as_modern_irc_says);
	RUN(test_info_and_over_long_room_names_get_what_modern_irc_says);
	RUN(test_kick_pairs_each_room_of_a_list_with_its_nick);
	RUN(test_wallops_reach_only_clients_with_user_mode_w);
	return tl_summary(suite);
}
