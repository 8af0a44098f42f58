/*
 * Integration tests of the IRC front end against the real parleyd: a
 * scripted IRC client (tests/irc.h) registers with and without CAP, runs
 * each command and every bad input, and chats with plain clients in both
 * directions; pings, idle timeouts, cloaks, history and capabilities.
 * Exchanges are tables of lines each client must get next.
 */
#include "../irc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS

static char t_model[256];

static struct ts_server *
start(const char *extra)
{
	return irc_start(t_model, extra);
}

/* ---- registration ------------------------------------------------------- */

static void
test_registration_without_cap_gets_the_whole_welcome_in_order(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	static const struct irc_step steps[] = {
	    {0, "NICK alice", {{0, NULL}}},
	    {0,
	     "USER al 0 * :Alice Liddell",
	     {{0, S "001 alice :Welcome to the parley IRC Network "
		    "alice!~al@*.parley"},
	      {0, S "002 alice :Your host is " IRC_SERVER
		    ", running version parley-*"},
	      {0, S "003 alice :This server was created *"},
	      {0, S "004 alice " IRC_SERVER " parley-* ow biklmnostv bklov"},
	      {0, S "005 alice AWAYLEN=256 CASEMAPPING=ascii CHANLIMIT=#:16 "
		    "CHANMODES=b,k,l,imnst CHANNELLEN=50 CHANTYPES=# "
		    "CLIENTTAGDENY=* LINELEN=512 MODES=8 NETWORK=parley "
		    "NICKLEN=30 PREFIX=(ov)@+ :are supported by this server"},
	      {0,
	       S "005 alice TARGMAX=JOIN:8,PART:8,PRIVMSG:8,NOTICE:8,"
		 "NAMES:1,WHOIS:1,LIST:8,USERHOST:5,KICK:8 TOPICLEN=300 "
		 "KICKLEN=256 MAXLIST=b:64 CHATHISTORY=100 "
		 "MSGREFTYPES=msgid,timestamp :are supported by this server"},
	      {0, S "251 alice :There are 1 users and 0 invisible on 1 "
		    "servers"},
	      {0, S "254 alice 0 :channels formed"},
	      {0, S "255 alice :I have 1 clients and 0 servers"},
	      {0, S "265 alice 1 1 :Current local users 1, max 1"},
	      {0, S "266 alice 1 1 :Current global users 1, max 1"},
	      {0, S "422 alice :MOTD File is missing"}}},
	};
	CHECK(IRC_EXCHANGE(&fd, steps));
	CHECK(IRC_SYNC(fd) == 0);
	tc_close(fd);
	ts_free(s);
}

static void
test_registration_with_cap_waits_for_cap_end(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	static const struct irc_step steps[] = {
	    {0,
	     "CAP LS 302",
	     {{0,
	       S "CAP * LS :account-notify account-tag away-notify batch "
		 "cap-notify draft/chathistory echo-message extended-join "
		 "message-tags multi-prefix server-time userhost-in-names"}}},
	    {0, "NICK bob", {{0, NULL}}},
	    {0, "USER bob 0 * :Bob", {{0, NULL}}},
	    /* Nothing yet: the PING is answered, no 001 before it. */
	    {0, "PING :early", {{0, S "PONG " IRC_SERVER " :early"}}},
	    {0, "CAP REQ :server-time", {{0, S "CAP bob ACK :server-time"}}},
	    {0, "CAP LIST", {{0, S "CAP bob LIST :cap-notify server-time"}}},
	    {0, "CAP END", {{0, S "001 bob :Welcome *"}}},
	};
	CHECK(IRC_EXCHANGE(&fd, steps));
	CHECK(IRC_UNTIL(fd, S "422 bob :*"));
	tc_close(fd);
	ts_free(s);
}

static void
test_cap_requests_sent_before_the_ls_reply_all_work(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	/* One write: the client does not wait for the LS reply. */
	tc_send(fd, "CAP LS 302\r\nCAP REQ :multi-prefix echo-message\r\n"
		    "NICK carol\r\nUSER c 0 * :Carol\r\nCAP END\r\n");
	static const struct irc_step steps[] = {
	    {0,
	     NULL,
	     {{0, S "CAP * LS :*"},
	      {0, S "CAP * ACK :multi-prefix echo-message"},
	      {0, S "001 carol :*"}}},
	};
	CHECK(IRC_EXCHANGE(&fd, steps));
	tc_close(fd);
	ts_free(s);
}

/* CAP subcommands and their answers (before registration: "*"). */
static const struct irc_step cap_steps[] = {
    {0, "CAP LIST", {{0, S "CAP * LIST :"}}},
    {0,
     "CAP LS",
     {{0, S "CAP * LS :account-notify account-tag away-notify batch *"}}},
    {0, "CAP REQ :foo", {{0, S "CAP * NAK :foo"}}},
    /* An unknown capability refuses the whole request, in its words. */
    {0,
     "CAP REQ :foo multi-prefix bar",
     {{0, S "CAP * NAK :foo multi-prefix bar"}}},
    {0, "CAP LIST", {{0, S "CAP * LIST :"}}},
    {0,
     "CAP REQ :multi-prefix server-time",
     {{0, S "CAP * ACK :multi-prefix server-time"}}},
    {0, "CAP REQ :-server-time", {{0, S "CAP * ACK :-server-time"}}},
    {0, "CAP LIST", {{0, S "CAP * LIST :multi-prefix"}}},
    {0, "CAP LS 302", {{0, S "CAP * LS :*"}}},
    /* CAP LS 302 turns cap-notify on for good. */
    {0, "CAP LIST", {{0, S "CAP * LIST :cap-notify multi-prefix"}}},
    {0, "CAP REQ :-cap-notify", {{0, S "CAP * NAK :-cap-notify"}}},
    {0, "CAP FROB", {{0, S "410 * FROB :Invalid CAP command"}}},
    {0, "NICK dave", {{0, NULL}}},
    {0, "USER d 0 * :Dave", {{0, NULL}}},
    {0, "CAP END", {{0, S "001 dave :*"}}},
};

static void
test_cap_subcommands_answer_as_ircv3_says(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	CHECK(IRC_EXCHANGE(&fd, cap_steps));
	CHECK(IRC_UNTIL(fd, S "422 dave *"));
	/* After registration the client is named. */
	irc_send(fd, "CAP LIST");
	CHECK(IRC_NEXT(fd, S "CAP dave LIST :cap-notify multi-prefix"));
	tc_close(fd);
	ts_free(s);
}

/* What an unregistered client may not do yet. */
static const char *const before_rows[] = {
    "JOIN #x", "PRIVMSG bob :hi", "WHO *", "LIST", "MODE #x", "AWAY :x",
};

static void
test_commands_before_registration_get_451(void)
{
	struct ts_server *s = start("");
	char want[128];
	REQUIRE(s);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	for (size_t i = 0; i < sizeof(before_rows) / sizeof(before_rows[0]);
	     i++) {
		irc_send(fd, "%s", before_rows[i]);
		CHECKF(IRC_NEXT(fd, S "451 * :You have not registered"), "%s",
		       before_rows[i]);
	}
	/* PASS, PING and an unknown command are fine or 421. */
	irc_send(fd, "PASS secret");
	irc_send(fd, "FROB");
	CHECK(IRC_NEXT(fd, S "421 * FROB :Unknown command"));
	snprintf(want, sizeof(want), S "PONG " IRC_SERVER " :x");
	irc_send(fd, "PING x");
	CHECK(IRC_NEXT(fd, want));
	tc_close(fd);
	ts_free(s);
}

static void
test_a_taken_or_bad_nick_is_refused_and_registration_goes_on(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL), b = irc_connect(s);
	REQUIRE(a >= 0 && b >= 0);
	int fds[] = {a, b};
	static const struct irc_step steps[] = {
	    {1, "NICK", {{1, S "431 * :No nickname given"}}},
	    {1, "NICK 9lives", {{1, S "432 * 9lives :Erroneous nickname"}}},
	    {1,
	     "NICK abcdefghijklmnopqrstuvwxyz01234",
	     {{1, S "432 * abcdefghijklmnopqrstuvwxyz01234 :Erroneous "
		    "nickname"}}},
	    {1,
	     "NICK ALICE",
	     {{1, S "433 * ALICE :Nickname is already in use"}}},
	    {1, "USER b 0 * :B", {{1, NULL}}},
	    {1, "NICK [b]\\o`b^_{|}-9", {{1, S "001 [b]\\o`b^_{|}-9 :*"}}},
	};
	CHECK(IRC_EXCHANGE(fds, steps));
	tc_close_all(fds, 2);
	ts_free(s);
}

static void
test_the_motd_is_sent_at_welcome_and_on_request(void)
{
	char path[] = "/tmp/parley-motd-XXXXXX";
	int mfd = mkstemp(path);
	REQUIRE(mfd >= 0);
	const char text[] = "Welcome to the test server.\n\nbe kind\r\n";
	REQUIRE(write(mfd, text, sizeof(text) - 1) ==
		(ssize_t)sizeof(text) - 1);
	close(mfd);
	char extra[128];
	snprintf(extra, sizeof(extra), "--motd %s", path);
	struct ts_server *s = start(extra);
	unlink(path);
	REQUIRE(s);
	int fd = irc_connect(s);
	REQUIRE(fd >= 0);
	static const struct irc_step steps[] = {
	    {0, "NICK erin", {{0, NULL}}},
	    {0, "USER e 0 * :Erin", {{0, S "001 erin :*"}}},
	};
	REQUIRE(IRC_EXCHANGE(&fd, steps));
	CHECK(
	    IRC_UNTIL(fd, S "375 erin :- " IRC_SERVER " Message of the day -"));
	static const struct irc_step motd[] = {
	    {0,
	     NULL,
	     {{0, S "372 erin :- Welcome to the test server."},
	      {0, S "372 erin :- "},
	      {0, S "372 erin :- be kind"},
	      {0, S "376 erin :End of /MOTD command"}}},
	    {0,
	     "MOTD",
	     {{0, S "375 erin :*"},
	      {0, S "372 erin :- Welcome to the test server."},
	      {0, S "372 erin :- "},
	      {0, S "372 erin :- be kind"},
	      {0, S "376 erin :End of /MOTD command"}}},
	};
	CHECK(IRC_EXCHANGE(&fd, motd));
	tc_close(fd);
	ts_free(s);
}

/* ---- commands and their replies ----------------------------------------- */

/* alice and bob (IRC) and carol (plain) are in #room, joined in that
 * order; carol is also in #lobby. */
struct trio {
	struct ts_server *s;
	int fds[3];
};

static int
trio_start(struct trio *t, const char *extra, const char *caps)
{
	memset(t, 0, sizeof(*t));
	t->fds[0] = t->fds[1] = t->fds[2] = -1;
	t->s = start(extra);
	if (!t->s)
		return 0;
	t->fds[0] = irc_login(t->s, "alice", caps);
	t->fds[1] = irc_login(t->s, "bob", caps);
	t->fds[2] = irc_plain_as(t->s, "carol");
	if (t->fds[0] < 0 || t->fds[1] < 0 || t->fds[2] < 0)
		return 0;
	irc_send(t->fds[0], "JOIN #room");
	if (!IRC_UNTIL(t->fds[0], S "366 alice #room :*"))
		return 0;
	irc_send(t->fds[1], "JOIN #room");
	if (!IRC_UNTIL(t->fds[1], S "366 bob #room :*") ||
	    !IRC_NEXT(t->fds[0], ":bob!~bob@*.parley JOIN #room"))
		return 0;
	tc_send(t->fds[2], "/join #room\n");
	return IRC_PLAIN_GETS(t->fds[2], "-!- carol joined #room") &&
	       IRC_NEXT(t->fds[0], ":carol!plain@*.parley JOIN #room") &&
	       IRC_NEXT(t->fds[1], ":carol!plain@*.parley JOIN #room");
}

static void
trio_free(struct trio *t)
{
	tc_close_all(t->fds, 3);
	ts_free(t->s);
}

static const struct irc_step command_steps[] = {
    {0, "TOPIC #room", {{0, S "331 alice #room :No topic is set"}}},
    {0,
     "TOPIC #room :the topic",
     {{0, ":alice!~alice@*.parley TOPIC #room :the topic"},
      {1, ":alice!~alice@*.parley TOPIC #room :the topic"}}},
    {0,
     "TOPIC #ROOM",
     {{0, S "332 alice #room :the topic"}, {0, S "333 alice #room alice *"}}},
    {0,
     "NAMES #room",
     {{0, S "353 alice = #room :@alice bob carol"},
      {0, S "366 alice #room :End of /NAMES list"}}},
    {0,
     "WHO #room",
     {{0, S "352 alice #room ~alice *.parley " IRC_SERVER
	    " alice H@ :0 alice's real name"},
      {0, S "352 alice #room ~bob *.parley " IRC_SERVER
	    " bob H :0 bob's real name"},
      {0, S "352 alice #room plain *.parley " IRC_SERVER " carol H :0 carol"},
      {0, S "315 alice #room :End of WHO list"}}},
    {0,
     "WHO BOB",
     {{0,
       S "352 alice * ~bob *.parley " IRC_SERVER " bob H :0 bob's real name"},
      {0, S "315 alice BOB :End of WHO list"}}},
    {0,
     "WHO c*",
     {{0, S "352 alice * plain * " IRC_SERVER " carol H :0 carol"},
      {0, S "315 alice c* :End of WHO list"}}},
    {0, "WHO nobody", {{0, S "315 alice nobody :End of WHO list"}}},
    {0,
     "WHOIS carol",
     {{0, S "311 alice carol plain *.parley * :carol"},
      {0, S "312 alice carol " IRC_SERVER " :parley chat server"},
      {0, S "317 alice carol * * :seconds idle, signon time"},
      {0, S "319 alice carol :#lobby #room"},
      {0, S "318 alice carol :End of /WHOIS list"}}},
    {0,
     "WHOIS " IRC_SERVER " bob",
     {{0, S "311 alice bob ~bob *.parley * :bob's real name"},
      {0, S "312 *"},
      {0, S "317 *"},
      {0, S "319 alice bob :#room"},
      {0, S "318 alice bob :End of /WHOIS list"}}},
    {0,
     "LIST",
     {{0, S "321 alice Channel :Users  Name"},
      {0, S "322 alice #lobby 1 :"},
      {0, S "322 alice #room 3 :the topic"},
      {0, S "323 alice :End of /LIST"}}},
    {0,
     "LIST #ROOM,#nowhere",
     {{0, S "321 *"},
      {0, S "322 alice #room 3 :the topic"},
      {0, S "323 alice :End of /LIST"}}},
    {0,
     "MODE #room",
     {{0, S "324 alice #room +nt"}, {0, S "329 alice #room *"}}},
    {0, "MODE #room b", {{0, S "368 alice #room :End of channel ban list"}}},
    /* bob is no operator of alice's room. */
    {1, "MODE #room +t", {{1, S "482 bob #room :You're not channel operator"}}},
    {1,
     "KICK #room carol",
     {{1, S "482 bob #room :You're not channel operator"}}},
    {0, "MODE alice", {{0, S "221 alice +w"}}},
    {0, "MODE alice +i", {{0, S "501 alice :Unknown MODE flag"}}},
    {0, "MODE bob +i", {{0, S "502 alice :Cant change mode for other users"}}},
    {1,
     "AWAY :gone fishing",
     {{1, S "306 bob :You have been marked as being away"}}},
    {0,
     "PRIVMSG bob :are you there?",
     {{0, S "301 alice bob :gone fishing"},
      {1, ":alice!~alice@*.parley PRIVMSG bob :are you there?"}}},
    {0,
     "NOTICE bob :notices get no answer",
     {{1, ":alice!~alice@*.parley NOTICE bob :notices get no answer"}}},
    {0,
     "WHO bob",
     {{0, S "352 alice * ~bob * " IRC_SERVER " bob G :0 *"},
      {0, S "315 alice bob :*"}}},
    {0,
     "WHOIS bob",
     {{0, S "311 *"},
      {0, S "312 *"},
      {0, S "301 alice bob :gone fishing"},
      {0, S "317 *"},
      {0, S "319 *"},
      {0, S "318 *"}}},
    {0,
     "USERHOST bob carol nobody",
     {{0, S "302 alice :bob=-~bob@*.parley carol=+plain@*.parley"}}},
    {0, "ISON carol nobody bob", {{0, S "303 alice :carol bob"}}},
    {0, "ISON :nobody", {{0, S "303 alice :"}}},
    {1, "AWAY", {{1, S "305 bob :You are no longer marked as being away"}}},
    {0,
     "LUSERS",
     {{0, S "251 alice :There are 3 users and 0 invisible on 1 servers"},
      {0, S "254 alice 2 :channels formed"},
      {0, S "255 alice :I have 3 clients and 0 servers"},
      {0, S "265 alice 3 3 :Current local users 3, max 3"},
      {0, S "266 alice 3 3 :Current global users 3, max 3"}}},
    {0, "MOTD", {{0, S "422 alice :MOTD File is missing"}}},
    {0,
     "VERSION",
     {{0, S "351 alice parley-* " IRC_SERVER " :the parley chat server"},
      {0, S "005 alice AWAYLEN=256 *"},
      {0, S "005 alice TARGMAX=*"}}},
    {0, "TIME", {{0, S "391 alice " IRC_SERVER " :* UTC"}}},
    {0, "PING :are you there", {{0, S "PONG " IRC_SERVER " :are you there"}}},
    {0, "PONG :" IRC_SERVER, {{0, NULL}}},
    {0, "TAGMSG #room", {{0, NULL}}},
};

static void
test_each_command_gets_its_replies(void)
{
	struct trio t;

	if (trio_start(&t, "--flood-burst 100", NULL)) {
		CHECK(IRC_EXCHANGE(t.fds, command_steps));
		/* No answer to the NOTICE, nothing for the PONG or TAGMSG. */
		CHECK(IRC_SYNC(t.fds[0]) == 0);
		CHECK(IRC_SYNC(t.fds[1]) == 0);
	}
	trio_free(&t);
}

/* What alice sends and the one line she gets back; then she is still
 * connected and usable. */
static const struct {
	const char *send, *want;
} bad_rows[] = {
    {"PRIVMSG nobody :hi", S "401 alice nobody :No such nick/channel"},
    {"PRIVMSG #lobby :hi",
     S "404 alice #lobby :Cannot send to channel (join it first)"},
    {"PRIVMSG", S "411 alice :No recipient given (PRIVMSG)"},
    {"PRIVMSG bob", S "412 alice :No text to send"},
    {"PRIVMSG bob :", S "412 alice :No text to send"},
    {"FROBNICATE now", S "421 alice FROBNICATE :Unknown command"},
    {"NICK", S "431 alice :No nickname given"},
    {"NICK 1x", S "432 alice 1x :Erroneous nickname"},
    {"NICK a,b", S "432 alice a,b :Erroneous nickname"},
    {"NICK BOB", S "433 alice BOB :Nickname is already in use"},
    {"PART #lobby", S "442 alice #lobby :You're not on that channel"},
    {"TOPIC #lobby :mine", S "442 alice #lobby :You're not on that channel"},
    {"PART #nowhere", S "403 alice #nowhere :No such channel"},
    {"TOPIC #nowhere", S "403 alice #nowhere :No such channel"},
    {"MODE #nowhere", S "403 alice #nowhere :No such channel"},
    {"JOIN", S "461 alice JOIN :Not enough parameters"},
    {"USER", S "461 alice USER :Not enough parameters"},
    {"WHOIS", S "461 alice WHOIS :Not enough parameters"},
    {"USER a 0 * :x", S "462 alice :You may not reregister"},
    {"PASS again", S "462 alice :You may not reregister"},
    {"JOIN lobby", S "476 alice lobby :Bad Channel Mask"},
    {"JOIN #a:b", S "476 alice #a:b :Bad Channel Mask"},
    {"JOIN #abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX",
     S "403 alice #abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX :No "
       "such channel"},
    {"PING", S "409 alice :No origin specified"},
    {"CAP FROB", S "410 alice FROB :Invalid CAP command"},
    {"NAMES #nowhere", S "366 alice #nowhere :End of /NAMES list"},
};

static void
test_every_bad_input_gets_its_numeric_and_the_connection_stays_usable(void)
{
	struct ts_server *s = start("--flood-burst 100");
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL), b = irc_login(s, "bob", NULL);
	int c = irc_plain_as(s, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		irc_send(a, "%s", bad_rows[i].send);
		CHECKF(IRC_NEXT(a, bad_rows[i].want), "row %zu: %s", i,
		       bad_rows[i].send);
	}
	/* WHOIS of nobody: 401, then its end. */
	irc_send(a, "WHOIS nobody");
	CHECK(IRC_NEXT(a, S "401 alice nobody :No such nick/channel"));
	CHECK(IRC_NEXT(a, S "318 alice nobody :End of /WHOIS list"));
	/* A NOTICE is never answered, not even with an error. */
	irc_send(a, "NOTICE nobody :x");
	irc_send(a, "NOTICE #lobby :x");
	irc_send(a, "NOTICE bob");
	irc_send(a, "NOTICE");
	CHECK(IRC_SYNC(a) == 0);
	/* Still usable. */
	irc_send(a, "PRIVMSG bob :still here");
	CHECK(IRC_NEXT(b, ":alice!~alice@*.parley PRIVMSG bob :still here"));
	int fds[] = {a, b, c};
	tc_close_all(fds, 3);
	ts_free(s);
}

static void
test_too_many_targets_get_407_after_the_first_eight(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL), b = irc_login(s, "bob", NULL);
	REQUIRE(a >= 0 && b >= 0);
	irc_send(a, "JOIN #1,#2,#3,#4,#5,#6,#7,#8,#9,#10");
	CHECK(IRC_NEXT(a, S "407 alice #9 :Too many targets (max 8)"));
	for (int i = 1; i <= 8; i++) {
		char want[64];
		snprintf(want, sizeof(want), ":alice!* JOIN #%d", i);
		CHECKF(IRC_UNTIL(a, want), "join %d", i);
	}
	/* Several targets at once, rooms and nicks. */
	irc_send(b, "JOIN #1");
	CHECK(IRC_UNTIL(b, S "366 bob #1 :*"));
	CHECK(IRC_UNTIL(a, ":bob!~bob@*.parley JOIN #1"));
	irc_send(a, "PRIVMSG #1,bob :twice");
	CHECK(IRC_NEXT(b, ":alice!~alice@*.parley PRIVMSG #1 :twice"));
	CHECK(IRC_NEXT(b, ":alice!~alice@*.parley PRIVMSG bob :twice"));
	/* JOIN 0 leaves every room. */
	irc_send(a, "JOIN 0");
	for (int i = 1; i <= 8; i++) {
		char want[64];
		snprintf(want, sizeof(want), ":alice!* PART #%d", i);
		CHECKF(IRC_UNTIL(a, want), "part %d", i);
	}
	CHECK(IRC_NEXT(b, ":alice!~alice@*.parley PART #1"));
	irc_send(a, "LIST");
	CHECK(IRC_NEXT(a, S "321 *"));
	CHECK(IRC_NEXT(a, S "322 alice #1 1 :"));
	CHECK(IRC_NEXT(a, S "323 *"));
	int fds[] = {a, b};
	tc_close_all(fds, 2);
	ts_free(s);
}

static void
test_over_long_lines_and_tags_get_417_and_nothing_is_relayed(void)
{
	struct ts_server *s = start("--max-line 8192");
	char *big = malloc(9000);
	REQUIRE(s && big);
	int a = irc_login(s, "alice", "message-tags"),
	    b = irc_login(s, "bob", "message-tags");
	REQUIRE(a >= 0 && b >= 0);
	/* Client tags over 4094 bytes ("+x=" and 4092); then a line over
	 * --max-line. */
	memset(big, 'a', 4092);
	big[4092] = '\0';
	irc_send(a, "@+x=%s PRIVMSG bob :hi", big);
	CHECK(IRC_NEXT(a, S "417 alice :Input line was too long"));
	big[4091] = '\0';
	irc_send(a, "@+x=%s PRIVMSG bob :tags are not relayed", big);
	CHECK(IRC_NEXT(b, "@msgid=* :alice!~alice@*.parley PRIVMSG bob :tags "
			  "are not relayed"));
	memset(big, 'b', 8999);
	big[8999] = '\0';
	irc_send(a, "PRIVMSG bob :%s", big);
	CHECK(IRC_NEXT(a, S "417 alice :Input line was too long"));
	CHECK(IRC_SYNC(b) == 0);
	irc_send(a, "PRIVMSG bob :after");
	CHECK(IRC_NEXT(b, "@msgid=* :alice!* PRIVMSG bob :after"));
	free(big);
	int fds[] = {a, b};
	tc_close_all(fds, 2);
	ts_free(s);
}

/* ---- IRC and plain clients together ------------------------------------- */

static void
test_irc_and_plain_clients_chat_both_ways(void)
{
	/* Without +t, so that the plain member sets the topic too. */
	struct ts_server *s = start("--room-modes +n");
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL), c = irc_plain_as(s, "carol");
	REQUIRE(a >= 0 && c >= 0);
	irc_send(a, "JOIN #ops");
	REQUIRE(IRC_UNTIL(a, S "366 alice #ops :End of /NAMES list"));
	/* plain -> IRC: join, message, action, private message */
	tc_send(c,
		"/join #ops\nhello from plain\n/me waves\n/msg alice psst\n");
	CHECK(IRC_NEXT(a, ":carol!plain@*.parley JOIN #ops"));
	CHECK(IRC_NEXT(a, ":carol!plain@*.parley PRIVMSG #ops :hello from "
			  "plain"));
	CHECK(IRC_NEXT(a, ":carol!plain@*.parley PRIVMSG #ops :\001ACTION "
			  "waves\001"));
	CHECK(IRC_NEXT(a, ":carol!plain@*.parley PRIVMSG alice :psst"));
	CHECK(IRC_PLAIN_GETS(c, "-> *alice* psst"));
	/* IRC -> plain: message, action, private message, notice */
	irc_send(a, "PRIVMSG #ops :hi carol");
	CHECK(IRC_PLAIN_GETS(c, "#ops <alice> hi carol"));
	irc_send(a, "PRIVMSG #ops :\001ACTION bows\001");
	CHECK(IRC_PLAIN_GETS(c, "#ops * alice bows"));
	irc_send(a, "PRIVMSG carol :psst back");
	CHECK(IRC_PLAIN_GETS(c, "*alice* psst back"));
	irc_send(a, "NOTICE carol :a notice");
	CHECK(IRC_PLAIN_GETS(c, "*alice* a notice"));
	/* A CTCP query is for IRC clients only: the next line carol gets
	 * is the one after it. */
	irc_send(a, "PRIVMSG carol :\001VERSION\001");
	irc_send(a, "PRIVMSG carol :after the query");
	char next[512];
	CHECK(tc_readline(c, next, sizeof(next), WAIT) > 0 &&
	      strcmp(next, "*alice* after the query") == 0);
	/* nick changes, topics, both ways */
	irc_send(a, "NICK alicia");
	CHECK(IRC_NEXT(a, ":alice!~alice@*.parley NICK :alicia"));
	CHECK(IRC_PLAIN_GETS(c, "-!- alice is now known as alicia"));
	tc_send(c, "/nick caroline\n");
	CHECK(IRC_NEXT(a, ":carol!plain@*.parley NICK :caroline"));
	tc_send(c, "/topic #ops plain topic\n");
	CHECK(IRC_NEXT(a, ":caroline!plain@*.parley TOPIC #ops :plain topic"));
	irc_send(a, "TOPIC #ops :irc topic");
	CHECK(IRC_NEXT(a, ":alicia!~alice@*.parley TOPIC #ops :irc topic"));
	CHECK(IRC_PLAIN_GETS(c, "-!- alicia set the topic of #ops: irc topic"));
	irc_send(a, "TOPIC #ops :");
	CHECK(IRC_NEXT(a, ":alicia!~alice@*.parley TOPIC #ops :"));
	CHECK(IRC_PLAIN_GETS(c, "-!- alicia cleared the topic of #ops"));
	/* parts and joins, both ways */
	irc_send(a, "PART #ops :later");
	CHECK(IRC_NEXT(a, ":alicia!~alice@*.parley PART #ops :later"));
	CHECK(IRC_PLAIN_GETS(c, "-!- alicia left #ops (later)"));
	irc_send(a, "JOIN #ops");
	CHECK(IRC_NEXT(a, ":alicia!~alice@*.parley JOIN #ops"));
	CHECK(IRC_NEXT(a, S "353 alicia = #ops :caroline alicia"));
	CHECK(IRC_NEXT(a, S "366 alicia #ops :End of /NAMES list"));
	CHECK(IRC_PLAIN_GETS(c, "-!- alicia joined #ops"));
	tc_send(c, "/part #ops bye all\n");
	CHECK(IRC_NEXT(a, ":caroline!plain@*.parley PART #ops :bye all"));
	/* quits, both ways */
	tc_send(c, "/join #ops\n/quit see you\n");
	CHECK(IRC_NEXT(a, ":caroline!plain@*.parley JOIN #ops"));
	CHECK(IRC_NEXT(a, ":caroline!plain@*.parley QUIT :see you"));
	tc_close(c);
	c = irc_plain_as(s, "dan");
	REQUIRE(c >= 0);
	tc_send(c, "/join #ops\n");
	CHECK(IRC_NEXT(a, ":dan!plain@*.parley JOIN #ops"));
	irc_send(a, "QUIT :so long");
	CHECK(IRC_NEXT(a, "ERROR :Closing link: so long"));
	CHECK(tc_wait_eof(a, WAIT) == 0);
	CHECK(IRC_PLAIN_GETS(c, "-!- alicia quit (so long)"));
	int fds[] = {a, c};
	tc_close_all(fds, 2);
	ts_free(s);
}

/* Short nicknames make NAMES entries long for their nickname bytes (the
 * user and the cloak come with each): a big room of them still comes
 * whole, each member once, in chunks that fit their buffer. */
#define BIG_ROOM 150

static void
test_a_big_room_of_short_nicknames_is_named_whole(void)
{
	static int fds[BIG_ROOM];
	char nick[8], line[4096];
	int made = 0, seen = 0, got = 0;
	struct ts_server *s = start("");
	REQUIRE(s);
	for (; made < BIG_ROOM; made++) {
		snprintf(nick, sizeof(nick), "%c%d", 'a' + made / 10,
			 made % 10);
		if ((fds[made] = irc_plain_as(s, nick)) < 0)
			break;
	}
	int a = made == BIG_ROOM ? irc_login(s, "watcher", NULL) : -1;
	if (!CHECKF(a >= 0, "%d of %d plain clients, no IRC client", made,
		    BIG_ROOM))
		goto out;
	irc_send(a, "JOIN #lobby");
	while ((got = irc_read(a, line, sizeof(line), WAIT)) == 0 &&
	       !strstr(line, " 366 watcher #lobby ")) {
		const char *names = strstr(line, " 353 watcher = #lobby :");
		if (!names)
			continue;
		names += strlen(" 353 watcher = #lobby :");
		for (const char *p = names; *p; p += strspn(p, " "))
			seen++, p += strcspn(p, " ");
	}
	CHECKF(got == 0, "no 366 after %d names", seen);
	CHECKF(seen == BIG_ROOM + 1, "%d names, want %d", seen, BIG_ROOM + 1);
	CHECK(ts_log_count(s, "killed by") == 0);
	tc_close(a);
out:
	tc_close_all(fds, made);
	ts_free(s);
}

static void
test_long_plain_lines_reach_irc_clients_split_on_character_boundaries(void)
{
	struct ts_server *s = start("--max-line 4096");
	char text[3000], got[8192], joined[4096] = "";
	size_t n = 0;
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL), c = irc_plain_as(s, "carol");
	REQUIRE(a >= 0 && c >= 0);
	irc_send(a, "JOIN #lobby");
	REQUIRE(IRC_UNTIL(a, S "366 alice #lobby :*"));
	/* 900 three-byte characters: 2700 bytes. */
	for (int i = 0; i < 900; i++)
		memcpy(text + 3 * i, "\xE2\x82\xAC", 3);
	text[2700] = '\0';
	tc_send(c, "%s\n", text);
	while (n < 2700) {
		const char *head = ":carol!plain@";
		if (!CHECK(irc_read(a, got, sizeof(got), WAIT) == 0))
			break;
		const char *body = strstr(got, " PRIVMSG #lobby :");
		REQUIRE(strncmp(got, head, strlen(head)) == 0 && body);
		CHECKF(strlen(got) + 2 <= 512, "a line of %zu bytes",
		       strlen(got) + 2);
		body += strlen(" PRIVMSG #lobby :");
		CHECK(strlen(body) % 3 == 0); /* whole characters only */
		strcat(joined, body);
		n += strlen(body);
	}
	CHECK(strcmp(joined, text) == 0);
	int fds[] = {a, c};
	tc_close_all(fds, 2);
	ts_free(s);
}

static void
test_cloaks_hide_addresses_and_are_the_same_for_both_protocols(void)
{
	struct ts_server *s = start("");
	char welcome[512], whois[512];
	REQUIRE(s);
	int c = irc_plain_as(s, "carol"), a = irc_connect(s);
	REQUIRE(a >= 0 && c >= 0);
	irc_send(a, "NICK alice");
	irc_send(a, "USER a 0 * :A");
	CHECK(IRC_NEXT_OUT(a, S "001 alice :*!~a@*.parley", welcome));
	irc_send(a, "WHOIS carol");
	CHECK(IRC_UNTIL(a, S "311 alice carol plain *"));
	/* ... the same line again, to keep it */
	irc_send(a, "WHOIS carol");
	CHECK(IRC_UNTIL(a, S "318 *"));
	CHECK(irc_read(a, whois, sizeof(whois), WAIT) == 0);
	CHECK(strstr(whois, S "311 alice carol plain ") == whois);
	const char *host = strchr(welcome, '@') + 1;
	const char *host2 = whois + strlen(S "311 alice carol plain ");
	CHECKF(strncmp(host, host2, strlen(host)) == 0 &&
		   host2[strlen(host)] == ' ',
	       "cloaks differ: %s / %s", host, host2);
	CHECK(!strstr(welcome, "127.0.0.1") && !strstr(whois, "127.0.0.1"));
	/* The server's log keeps the real address. */
	CHECK(ts_log_wait(s, "connected from 127.0.0.1:", WAIT) == 0);
	int fds[] = {a, c};
	tc_close_all(fds, 2);
	ts_free(s);
}

static void
test_clients_that_have_not_registered_are_invisible(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL), g = irc_connect(s);
	int c = irc_plain_as(s, "carol");
	REQUIRE(a >= 0 && g >= 0 && c >= 0);
	irc_send(g, "NICK ghost");
	CHECK(IRC_SYNC(g) == 0);
	static const struct irc_step steps[] = {
	    {0, "WHOIS ghost", {{0, S "401 alice ghost :*"}, {0, S "318 *"}}},
	    {0, "WHO ghost", {{0, S "315 alice ghost :*"}}},
	    {0, "ISON ghost", {{0, S "303 alice :"}}},
	    {0, "PRIVMSG ghost :boo", {{0, S "401 alice ghost :*"}}},
	    /* Its nick is taken all the same. */
	    {0, "NICK ghost", {{0, S "433 alice ghost :*"}}},
	    {0,
	     "LUSERS",
	     {{0, S "251 alice :There are 2 users and 0 invisible on 1 "
		    "servers"},
	      {0, S "253 alice 1 :unknown connection(s)"},
	      {0, S "254 *"},
	      {0, S "255 alice :I have 2 clients and 0 servers"},
	      {0, S "265 *"},
	      {0, S "266 *"}}},
	    /* A nick change before registration is nobody's business. */
	    {1, "NICK spook", {{1, NULL}}},
	};
	int fds[] = {a, g};
	CHECK(IRC_EXCHANGE(fds, steps));
	tc_send(c, "/msg spook hello\n");
	CHECK(IRC_PLAIN_GETS(c, "-!- error: no such nick spook"));
	CHECK(IRC_SYNC(g) == 0);
	/* Registered, it shows up. */
	irc_send(g, "USER g 0 * :G");
	CHECK(IRC_UNTIL(g, S "422 spook :*"));
	irc_send(a, "ISON spook");
	CHECK(IRC_NEXT(a, S "303 alice :spook"));
	int all[] = {a, g, c};
	tc_close_all(all, 3);
	ts_free(s);
}

/* ---- capabilities ------------------------------------------------------- */

static void
test_capabilities_change_what_each_client_gets(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	/* bare: none; tags: server-time message-tags; echo: echo-message
	 * away-notify userhost-in-names. */
	int bare = irc_login(s, "bare", ""),
	    tags = irc_login(s, "tags",
			     "server-time "
			     "message-tags"),
	    echo = irc_login(s, "echo",
			     "echo-message away-notify userhost-in-names");
	REQUIRE(bare >= 0 && tags >= 0 && echo >= 0);
	int fds[] = {bare, tags, echo};
	for (int i = 0; i < 3; i++) {
		irc_send(fds[i], "JOIN #caps");
		CHECK(IRC_UNTIL(fds[i], S "366 * #caps :*"));
	}
	/* The later joins, each as soon as its session has read it (a
	 * PING is answered at once, so it cannot mark their end). */
	CHECK(IRC_NEXT(bare, ":tags!* JOIN #caps"));
	CHECK(IRC_NEXT(bare, ":echo!* JOIN #caps"));
	CHECK(IRC_NEXT(tags, "@* :echo!* JOIN #caps"));
	CHECK(IRC_SYNC(bare) == 0 && IRC_SYNC(tags) == 0);
	static const struct irc_step steps[] = {
	    {2,
	     "PRIVMSG #caps :hello",
	     {{2, ":echo!~echo@*.parley PRIVMSG #caps :hello"},
	      {0, ":echo!~echo@*.parley PRIVMSG #caps :hello"},
	      {1, "@time=2*-*-*T*:*:*.*Z;msgid=?* :echo!~echo@*.parley "
		  "PRIVMSG #caps :hello"}}},
	    {0, "AWAY :out", {{0, S "306 *"}, {2, ":bare!~bare@* AWAY :out"}}},
	    {0, "AWAY", {{0, S "305 *"}, {2, ":bare!~bare@* AWAY"}}},
	    {2,
	     "NAMES #caps",
	     {{2, S "353 echo = #caps :@bare!~bare@*.parley "
		    "tags!~tags@*.parley echo!~echo@*.parley"},
	      {2, S "366 *"}}},
	    {1,
	     "NAMES #caps",
	     {{1, S "353 tags = #caps :@bare tags echo"}, {1, S "366 *"}}},
	    {1, "AWAY :busy", {{1, S "306 *"}, {2, ":tags!* AWAY :busy"}}},
	    {1,
	     "PART #caps",
	     {{1, "@* :tags!* PART #caps"},
	      {0, ":tags!* PART #caps"},
	      {2, ":tags!* PART #caps"}}},
	    /* Someone away joins: away-notify tells at once. */
	    {1,
	     "JOIN #caps",
	     {{1, "@* :tags!* JOIN #caps"},
	      {0, ":tags!~tags@*.parley JOIN #caps"},
	      {2, ":tags!~tags@*.parley JOIN #caps"},
	      {2, ":tags!~tags@*.parley AWAY :busy"}}},
	};
	CHECK(IRC_EXCHANGE(fds, steps));
	/* Nothing else: no echo without echo-message, no AWAY without
	 * away-notify. */
	CHECK(IRC_SYNC(bare) == 0);
	CHECK(IRC_SYNC(echo) == 0);
	tc_close_all(fds, 3);
	ts_free(s);
}

static void
test_history_on_join_reaches_only_clients_that_can_tell_its_time(void)
{
	struct ts_server *s = start("");
	int m;
	REQUIRE(s);
	int c = irc_plain_as(s, "carol");
	REQUIRE(c >= 0);
	tc_send(c, "/join #h\nfirst\n/me second\n");
	CHECK(IRC_PLAIN_GETS(c, "-!- carol joined #h"));
	/* Mark the end of what carol said with her own /who. */
	tc_send(c, "/who\n");
	CHECK(IRC_PLAIN_GETS(c, "-!- members of #h: @carol"));
	int plainirc = irc_login(s, "old", "");
	int timed = irc_login(s, "timed", "server-time");
	int batched = irc_login(s, "batched", "server-time batch");
	REQUIRE(plainirc >= 0 && timed >= 0 && batched >= 0);
	irc_send(plainirc, "JOIN #h");
	CHECK(IRC_UNTIL(plainirc, S "366 old #h :*"));
	CHECK(IRC_SYNC_AT_MATCHING(plainirc, "*PRIVMSG*", &m) == 0);
	CHECK(m == 0);
	static const struct irc_step steps[] = {
	    {1,
	     "JOIN #h",
	     {{1, "@time=* :timed!~timed@*.parley JOIN #h"},
	      {1, S "353 timed = #h :*"},
	      {1, S "366 *"},
	      {1, "@time=2*-*-*T*Z :carol!plain@*.parley PRIVMSG #h :first"},
	      {1, "@time=* :carol!plain@*.parley PRIVMSG #h :\001ACTION "
		  "second\001"}}},
	    {2,
	     "JOIN #h",
	     {{2, "@time=* :batched!* JOIN #h"},
	      {2, S "353 *"},
	      {2, S "366 *"},
	      {2, S "BATCH +h1 chathistory #h"},
	      {2, "@batch=h1;time=* :carol!* PRIVMSG #h :first"},
	      {2,
	       "@batch=h1;time=* :carol!* PRIVMSG #h :\001ACTION second\001"},
	      {2, S "BATCH -h1"}}},
	};
	int fds[] = {plainirc, timed, batched};
	CHECK(IRC_EXCHANGE(fds, steps));
	tc_close_all(fds, 3);
	tc_close(c);
	ts_free(s);
}

/* ---- pings and timeouts ------------------------------------------------- */

static void
test_silent_clients_are_pinged_and_closed_with_error_when_dead(void)
{
	struct ts_server *s = start("--ping-timeout 1");
	char got[512];
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL), b = irc_login(s, "bob", NULL);
	int c = irc_plain_as(s, "carol");
	REQUIRE(a >= 0 && b >= 0 && c >= 0);
	irc_send(a, "JOIN #lobby");
	REQUIRE(IRC_UNTIL(a, S "366 *"));
	tc_send(c, "/join #lobby\n");
	/* bob answers his pings; alice does not. */
	CHECK(IRC_UNTIL(b, "PING :" IRC_SERVER));
	irc_send(b, "PONG :" IRC_SERVER);
	CHECK(IRC_UNTIL(a, "PING :" IRC_SERVER));
	CHECK(IRC_NEXT(a, "ERROR :Closing link: ping timeout: 1 seconds"));
	CHECK(tc_wait_eof(a, WAIT) == 0);
	CHECK(IRC_PLAIN_GETS(c, "-!- alice quit (ping timeout: 1 seconds)"));
	/* bob is pinged again and still there; carol (plain) never is. */
	CHECK(IRC_UNTIL(b, "PING :" IRC_SERVER));
	irc_send(b, "PRIVMSG carol :alive");
	CHECK(IRC_PLAIN_GETS(c, "*bob* alive"));
	tc_send(c, "/msg bob me too\n");
	CHECK(IRC_UNTIL(b, ":carol!plain@*.parley PRIVMSG bob :me too"));
	(void)got;
	int fds[] = {a, b, c};
	tc_close_all(fds, 3);
	ts_free(s);
}

static void
test_an_irc_flooder_is_slowed_never_disconnected(void)
{
	struct ts_server *s =
	    start("--flood-burst 5 --flood-rate 50 --verbose");
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL);
	REQUIRE(a >= 0);
	char burst[64 * 16] = "";
	for (int i = 0; i < 60; i++) {
		char line[32];
		snprintf(line, sizeof(line), "PING :%d\r\n", i);
		strcat(burst, line);
	}
	tc_send(a, "%s", burst);
	for (int i = 0; i < 60; i++) {
		char want[64];
		snprintf(want, sizeof(want), S "PONG " IRC_SERVER " :%d", i);
		CHECKF(IRC_NEXT(a, want), "pong %d", i);
	}
	CHECK(ts_log_wait(s, "flood limit: input paused", WAIT) == 0);
	tc_close(a);
	ts_free(s);
}

/* ---- start-up and refusals ---------------------------------------------- */

static const struct {
	const char *args;
	int status;
	const char *says;
} option_rows[] = {
    {"--server-name 'bad name'", 2,
     "parleyd: --server-name: expected letters, digits, . - or _, got "
     "'bad name'"},
    {"--network ''", 2, "parleyd: --network: expected 1-63 characters"},
    {"--ping-timeout 0", 2, "parleyd: --ping-timeout: expected a number"},
    {"--irc-listen none --motd /nonexistent/motd", 1,
     "cannot read the message of the day /nonexistent/motd"},
};

/* A worker keeps one formatted line per kind of recipient (protocol,
 * capabilities, role) for each record, in a bounded table: 40 IRC clients
 * with 40 different sets of the capabilities that change a line, all in
 * one worker, are more kinds than it holds, and each must still get the
 * line of its own kind. */
static void
test_more_kinds_of_irc_client_than_a_worker_keeps_lines_for_each_get_theirs(
    void)
{
	enum { N = 40 };
	static const char *const caps[] = {"server-time",    "message-tags",
					   "echo-message",   "away-notify",
					   "account-notify", "account-tag"};
	struct ts_server *s = irc_start("--workers 1", "");
	int fds[N], sender = -1;
	char nick[32], want[256];

	REQUIRE(s);
	for (int i = 0; i < N; i++)
		fds[i] = -1;
	for (int i = 0; i < N; i++) {
		char list[256] = "";
		for (size_t b = 0; b < sizeof(caps) / sizeof(caps[0]); b++)
			if (i & (1 << b))
				snprintf(list + strlen(list),
					 sizeof(list) - strlen(list), "%s%s",
					 list[0] ? " " : "", caps[b]);
		snprintf(nick, sizeof(nick), "k%02d", i);
		fds[i] = irc_login(s, nick, list);
		if (!CHECK(fds[i] >= 0))
			goto out;
		irc_send(fds[i], "JOIN #kinds");
		snprintf(want, sizeof(want), "*:%s!* JOIN #kinds", nick);
		if (!CHECK(IRC_UNTIL(fds[i], want)))
			goto out;
	}
	sender = irc_plain_as(s, "plainsender");
	if (!CHECK(sender >= 0))
		goto out;
	tc_send(sender, "/join #kinds\n");
	if (!CHECK(IRC_PLAIN_GETS(sender, "-!- plainsender joined #kinds")))
		goto out;
	tc_send(sender, "one line for every kind\n");
	for (int i = 0; i < N; i++) {
		int tagged = (i & 1) || (i & 2); /* server-time, message-tags */
		/* A line of the wrong kind is skipped, and then the right
		 * one never comes. */
		snprintf(want, sizeof(want),
			 "%s:plainsender!plain@* PRIVMSG #kinds :one line for "
			 "every kind",
			 tagged ? "@* " : "");
		CHECKF(IRC_UNTIL(fds[i], want), "client k%02d", i);
	}
out:
	tc_close(sender);
	tc_close_all(fds, N);
	ts_free(s);
}

static void
test_irc_options_are_checked_at_start(void)
{
	char out[8192];

	for (size_t i = 0; i < sizeof(option_rows) / sizeof(option_rows[0]);
	     i++) {
		int st = ts_run(option_rows[i].args, out, sizeof(out));
		CHECKF(st == option_rows[i].status &&
			   strstr(out, option_rows[i].says),
		       "%s: exit %d, \"%.200s\"", option_rows[i].args, st, out);
	}
}

static void
test_a_refused_irc_client_is_told_why_with_error(void)
{
	struct ts_server *s = start("--max-clients 1");
	REQUIRE(s);
	int c = irc_plain_as(s, "carol"), a = irc_connect(s);
	REQUIRE(c >= 0 && a >= 0);
	CHECK(IRC_NEXT(a, "ERROR :Closing link: server full, try again later"));
	CHECK(tc_wait_eof(a, WAIT) == 0);
	int fds[] = {a, c};
	tc_close_all(fds, 2);
	ts_free(s);
}

static void
test_shutdown_tells_irc_clients_with_error(void)
{
	struct ts_server *s = start("");
	REQUIRE(s);
	int a = irc_login(s, "alice", NULL);
	REQUIRE(a >= 0);
	kill(s->pid, SIGTERM);
	CHECK(IRC_NEXT(a, "ERROR :Closing link: server shutting down"));
	CHECK(tc_wait_eof(a, WAIT) == 0);
	int st = ts_stop(s, SIGTERM, WAIT);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	tc_close(a);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "irc", t_model, sizeof(t_model), suite);
	RUN(test_registration_without_cap_gets_the_whole_welcome_in_order);
	RUN(test_registration_with_cap_waits_for_cap_end);
	RUN(test_cap_requests_sent_before_the_ls_reply_all_work);
	RUN(test_cap_subcommands_answer_as_ircv3_says);
	RUN(test_commands_before_registration_get_451);
	RUN(test_a_taken_or_bad_nick_is_refused_and_registration_goes_on);
	RUN(test_the_motd_is_sent_at_welcome_and_on_request);
	RUN(test_each_command_gets_its_replies);
	RUN(test_every_bad_input_gets_its_numeric_and_the_connection_stays_usable);
	RUN(test_too_many_targets_get_407_after_the_first_eight);
	RUN(test_over_long_lines_and_tags_get_417_and_nothing_is_relayed);
	RUN(test_irc_and_plain_clients_chat_both_ways);
	RUN(test_long_plain_lines_reach_irc_clients_split_on_character_boundaries);
	RUN(test_a_big_room_of_short_nicknames_is_named_whole);
	RUN(test_cloaks_hide_addresses_and_are_the_same_for_both_protocols);
	RUN(test_clients_that_have_not_registered_are_invisible);
	RUN(test_capabilities_change_what_each_client_gets);
	RUN(test_history_on_join_reaches_only_clients_that_can_tell_its_time);
	RUN(test_silent_clients_are_pinged_and_closed_with_error_when_dead);
	RUN(test_an_irc_flooder_is_slowed_never_disconnected);
	RUN(test_more_kinds_of_irc_client_than_a_worker_keeps_lines_for_each_get_theirs);
	RUN(test_irc_options_are_checked_at_start);
	RUN(test_a_refused_irc_client_is_told_why_with_error);
	RUN(test_shutdown_tells_irc_clients_with_error);
	return tl_summary(suite);
}
