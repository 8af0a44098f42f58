/*
 * Unit tests for the IRC front end through struct proto only: lines
 * parsed into core operations or numerics, broadcast records (written to
 * a real ring and read back) formatted for each capability variant and
 * role, records for one client delivered as their numerics, the
 * sanitiser, server-time and the splitting of long messages. Tables of
 * rows; expected lines are patterns ('*' any run) where ids vary.
 */
#include "server/irc_int.h"

#include "../testlib.h"
#include "protofix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct pf_conn t_fake;
static char t_line[PROTO_LINE_MAX];

enum fixture {
	FX_REG,	  /* registered as alice, in #lobby and #rust */
	FX_UNREG, /* connected, nothing said yet */
};

/* A connection in the fixture's state, having asked for caps (space
 * separated; NULL none), with nothing emitted yet. */
static struct pf_conn *
fake_open(enum fixture fx, const char *caps)
{
	struct pf_conn *f = &t_fake;
	struct core_op ops[PROTO_OPS_MAX];
	char req[256];

	pf_irc_open(f);
	if (fx == FX_REG) {
		if (caps) {
			snprintf(req, sizeof(req), "CAP REQ :%s", caps);
			pf_irc_parse(f, req, ops);
		}
		CHECK(pf_irc_parse(f, "NICK alice", ops) == 1);
		snprintf(f->pc.nick, sizeof(f->pc.nick), "alice");
		CHECK(pf_irc_reply(f, CORE_NICK,
				   &(struct outbox_new){.kind = OUTBOX_REPLY,
							.target = PF_CLIENT_ID},
				   ops) == 0);
		CHECK(pf_irc_parse(f, "USER al 0 * :Alice", ops) == !caps);
		if (caps)
			CHECK(pf_irc_parse(f, "CAP END", ops) == 1);
		CHECK(pf_irc_reply(f, CORE_HELLO,
				   &(struct outbox_new){
				       .kind = OUTBOX_REPLY,
				       .target = PF_CLIENT_ID,
				       .nick = outbox_str("alice"),
				       .user = outbox_str("~al"),
				       .host = outbox_str("a.b.parley")},
				   ops) == 2);
		f->pc.pending = CORE_NONE;
		f->pc.nrooms = 0;
		for (int i = 0; i < 2; i++) {
			struct proto_room *r = &f->rooms[i];
			r->id = (uint64_t)i + 1;
			snprintf(r->name, sizeof(r->name), "%s",
				 pf_room_names[i]);
			f->pc.rooms[f->pc.nrooms++] = r;
		}
	}
	pf_clear(f);
	return f;
}

static int
str_is(struct core_str s, const char *want)
{
	want = want ? want : "";
	return s.n == strlen(want) && (s.n == 0 || memcmp(s.p, want, s.n) == 0);
}

/* ---- parse -------------------------------------------------------------- */

struct parse_row {
	enum fixture fx;
	const char *line;
	int n; /* operations */
	enum core_op_kind kind;
	unsigned flags;
	const char *room, *arg, *text; /* of the first; NULL: empty */
	const char *emitted;	       /* a pattern; NULL: nothing */
};

#define S	  ":irc.test "
#define JOIN_WANT (CORE_WANT_TOPIC | CORE_WANT_NAMES)

static const struct parse_row parse_rows[] = {
    {FX_REG, "PRIVMSG #lobby :hi", 1, CORE_SAY, 0, "#lobby", NULL, "hi", NULL},
    {FX_REG, "privmsg #LOBBY hi", 1, CORE_SAY, 0, "#lobby", NULL, "hi", NULL},
    {FX_REG, "@+x=y :me!u@h PRIVMSG bob :yo", 1, CORE_PRIVMSG, 0, NULL, "bob",
     "yo", NULL},
    {FX_REG, "PRIVMSG #lobby :\001ACTION waves\001", 1, CORE_SAY,
     OUTBOX_MSG_ACTION, "#lobby", NULL, "waves", NULL},
    {FX_REG, "PRIVMSG #lobby :\001ACTION waves", 1, CORE_SAY, OUTBOX_MSG_ACTION,
     "#lobby", NULL, "waves", NULL},
    {FX_REG, "PRIVMSG bob :\001VERSION\001", 1, CORE_PRIVMSG, OUTBOX_MSG_CTCP,
     NULL, "bob", "VERSION", NULL},
    {FX_REG, "PRIVMSG bob :a\001b\001", 1, CORE_PRIVMSG, 0, NULL, "bob", "ab",
     NULL},
    {FX_REG, "NOTICE bob :psst", 1, CORE_PRIVMSG, OUTBOX_MSG_NOTICE, NULL,
     "bob", "psst", NULL},
    {FX_REG, "PRIVMSG #rust,bob :both", 2, CORE_SAY, 0, "#rust", NULL, "both",
     NULL},
    /* A room the client is not in: the supervisor decides (-n). */
    {FX_REG, "PRIVMSG #nope :x", 1, CORE_ROOM_SAY, 0, "#nope", NULL, "x", NULL},
    {FX_REG, "NOTICE #nope :x", 1, CORE_ROOM_SAY, OUTBOX_MSG_NOTICE, "#nope",
     NULL, "x", NULL},
    {FX_REG, "PRIVMSG ChanServ :REGISTER #rust", 1, CORE_ROOM_REGISTER, 0,
     "#rust", NULL, NULL, NULL},
    {FX_REG, "PRIVMSG chanserv :info #rust", 1, CORE_ROOM_INFO, 0, "#rust",
     NULL, NULL, NULL},
    {FX_REG, "PRIVMSG ChanServ :DROP #rust", 1, CORE_ROOM_DROP, 0, "#rust",
     NULL, NULL, NULL},
    {FX_REG, "PRIVMSG ChanServ :DROP", 0, CORE_NONE, 0, NULL, NULL, NULL,
     ":ChanServ!ChanServ@services. NOTICE alice :Usage: DROP #room: "
     "unregister your room\r\n"},
    {FX_REG, "NOTICE ChanServ :REGISTER #rust", 0, CORE_NONE, 0, NULL, NULL,
     NULL, NULL},
    {FX_REG, "PRIVMSG #lobby :\001ACTION\001", 0, CORE_NONE, 0, NULL, NULL,
     NULL, NULL},
    {FX_REG, "PRIVMSG bob", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "412 alice :No text to send\r\n"},
    {FX_REG, "JOIN #a,#b key", 2, CORE_JOIN, JOIN_WANT, "#a", "key", NULL,
     NULL}, /* the keys pair with the rooms */
    {FX_REG, "JOIN #lobby", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "JOIN 0", 2, CORE_PART, 0, "#lobby", NULL, NULL, NULL},
    {FX_REG, "JOIN a", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "476 alice a :Bad Channel Mask\r\n"},
    {FX_REG, "PART #lobby :see you", 1, CORE_PART, 0, "#lobby", NULL, "see you",
     NULL},
    /* CTCP's byte is text only in PRIVMSG and NOTICE; elsewhere it goes. */
    {FX_REG, "PART #lobby :a\001b\001", 1, CORE_PART, 0, "#lobby", NULL, "ab",
     NULL},
    {FX_REG, "TOPIC #lobby :\001ACTION x", 1, CORE_TOPIC, CORE_TOPIC_SET,
     "#lobby", NULL, "ACTION x", NULL},
    {FX_REG, "TOPIC #lobby", 1, CORE_TOPIC, 0, "#lobby", NULL, NULL, NULL},
    {FX_REG, "TOPIC #lobby :", 1, CORE_TOPIC, CORE_TOPIC_CLEAR, "#lobby", NULL,
     NULL, NULL},
    {FX_REG, "TOPIC #lobby :rules", 1, CORE_TOPIC, CORE_TOPIC_SET, "#lobby",
     NULL, "rules", NULL},
    {FX_REG, "NAMES #rust,#c", 1, CORE_NAMES, 0, "#rust", NULL, NULL, NULL},
    {FX_REG, "NAMES", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "366 alice * :End of /NAMES list\r\n"},
    {FX_REG, "LIST", 1, CORE_ROOMS, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "MODE #lobby", 1, CORE_MODE, 0, "#lobby", NULL, NULL, NULL},
    {FX_REG, "MODE #lobby +b", 1, CORE_MODE, 0, "#lobby", NULL, "+b", NULL},
    {FX_REG, "MODE #lobby +ov-k a b", 1, CORE_MODE, 0, "#lobby", NULL,
     "+ov-k a b", NULL},
    {FX_REG, "MODE #lobby :+m", 1, CORE_MODE, 0, "#lobby", NULL, "+m", NULL},
    {FX_REG, "MODE #a,b +m", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "403 alice #a,b :No such channel\r\n"},
    {FX_REG, "INVITE bob #lobby", 1, CORE_INVITE, 0, "#lobby", "bob", NULL,
     NULL},
    {FX_REG, "INVITE bob lobby", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "403 alice lobby :No such channel\r\n"},
    {FX_REG, "OPER admin :pass word", 1, CORE_OPER, 0, NULL, "admin",
     "pass word", NULL},
    {FX_REG, "KILL bob :spam", 1, CORE_KILL, 0, NULL, "bob", "spam", NULL},
    {FX_REG, "WALLOPS :hello", 1, CORE_WALL, 0, NULL, NULL, "hello", NULL},
    {FX_REG, "GLINE 10.0.0.* :abuse", 1, CORE_GLINE, 0, NULL, "10.0.0.*",
     "abuse", NULL},
    {FX_REG, "GLINE", 1, CORE_GLINE, CORE_GLINE_LIST, NULL, NULL, NULL, NULL},
    {FX_REG, "UNGLINE 10.0.0.*", 1, CORE_GLINE, CORE_GLINE_REMOVE, NULL,
     "10.0.0.*", NULL, NULL},
    {FX_REG, "MODE ALICE", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "221 alice +w\r\n"},
    {FX_REG, "WHO #lobby", 1, CORE_WHO, 0, "#lobby", NULL, NULL, NULL},
    {FX_REG, "WHO bo*", 1, CORE_WHO, 0, NULL, "bo*", NULL, NULL},
    {FX_REG, "WHO", 1, CORE_WHO, 0, NULL, "*", NULL, NULL},
    {FX_REG, "WHO 0", 1, CORE_WHO, 0, NULL, "*", NULL, NULL},
    {FX_REG, "WHOIS irc.test bob", 1, CORE_WHOIS, 0, NULL, "bob", NULL, NULL},
    {FX_REG, "WHOIS bob,carol", 1, CORE_WHOIS, 0, NULL, "bob", NULL, NULL},
    {FX_REG, "USERHOST a b", 1, CORE_USERS, 0, NULL, NULL, "a b", NULL},
    {FX_REG, "ISON a b c", 1, CORE_USERS, 0, NULL, NULL, "a b c", NULL},
    {FX_REG, "ISON :a b", 1, CORE_USERS, 0, NULL, NULL, "a b", NULL},
    {FX_REG, "AWAY :gone \001fishing", 1, CORE_AWAY, 0, NULL, NULL,
     "gone fishing", NULL},
    {FX_REG, "AWAY", 1, CORE_AWAY, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "LUSERS", 1, CORE_LUSERS, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "MOTD", 1, CORE_MOTD, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "NICK bob", 1, CORE_NICK, 0, NULL, "bob", NULL, NULL},
    {FX_REG, "NICK alice", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "QUIT :bye", 1, CORE_QUIT, 0, NULL, NULL, "bye",
     "ERROR :Closing link: bye\r\n"},
    {FX_REG, "QUIT", 1, CORE_QUIT, 0, NULL, NULL, "quit",
     "ERROR :Closing link: quit\r\n"},
    {FX_REG, "PING :x y", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "PONG irc.test :x y\r\n"},
    {FX_REG, "VERSION", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "351 alice parley-* irc.test :*\r\n" S "005 *\r\n" S "005 *\r\n"},
    {FX_REG, "TIME", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "391 alice irc.test :* UTC\r\n"},
    {FX_REG, "KICK #lobby bob", 1, CORE_KICK, 0, "#lobby", "bob", "alice",
     NULL},
    {FX_REG, "KICK #lobby bob :go", 1, CORE_KICK, 0, "#lobby", "bob", "go",
     NULL},
    {FX_REG, "TAGMSG #lobby", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "PONG :x", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "   ", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_REG, ":only.a.source", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "FROB", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "421 alice FROB :Unknown command\r\n"},
    {FX_REG, "USER a b c :d", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "462 alice :You may not reregister\r\n"},
    {FX_UNREG, "JOIN #a", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "451 * :You have not registered\r\n"},
    {FX_UNREG, "NICK bob", 1, CORE_NICK, 0, NULL, "bob", NULL, NULL},
    {FX_UNREG, "NICK -x", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "432 * -x :Erroneous nickname\r\n"},
    {FX_UNREG, "USER u 0 * :R", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_UNREG, "USER u 0 *", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "461 * USER :Not enough parameters\r\n"},
    {FX_UNREG, "USER u 0 * :", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "461 * USER :Not enough parameters\r\n"},
    {FX_UNREG, "CAP LS 302", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "CAP * LS :account-notify account-tag away-notify batch cap-notify "
       "draft/chathistory echo-message extended-join message-tags multi-prefix "
       "sasl=PLAIN server-time userhost-in-names\r\n"},
    /* Accounts: NickServ's commands are core operations, a NOTICE to
     * it nothing; AUTHENTICATE needs the sasl capability. */
    {FX_REG, "PRIVMSG NickServ :IDENTIFY alice pw12345678", 1, CORE_LOGIN, 0,
     NULL, "alice", "pw12345678", NULL},
    {FX_REG, "PRIVMSG nickserv :identify pw12345678", 1, CORE_LOGIN, 0, NULL,
     "", "pw12345678", NULL},
    {FX_REG, "PRIVMSG NickServ :REGISTER pw12345678 a@example.com", 1,
     CORE_REGISTER, 0, NULL, "", "pw12345678", NULL},
    {FX_REG, "PRIVMSG NickServ :LOGOUT", 1, CORE_LOGOUT, 0, NULL, "", "", NULL},
    {FX_REG, "NOTICE NickServ :HELP", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_REG, "PRIVMSG NickServ :IDENTIFY", 0, CORE_NONE, 0, NULL, NULL, NULL,
     ":NickServ!NickServ@services. NOTICE alice :Usage: IDENTIFY "
     "[account] password\r\n"},
    {FX_REG, "NICK NickServ", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "432 alice NickServ :Erroneous nickname\r\n"},
    {FX_UNREG, "AUTHENTICATE PLAIN", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "904 * :SASL authentication failed\r\n"},
    {FX_UNREG, "PASS alice:pw12345678", 0, CORE_NONE, 0, NULL, NULL, NULL,
     NULL},
    {FX_UNREG, "CAP REQ :echo-message bogus", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "CAP * NAK :echo-message bogus\r\n"},
    {FX_UNREG, "CAP END", 0, CORE_NONE, 0, NULL, NULL, NULL, NULL},
    {FX_UNREG, "PING", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "409 * :No origin specified\r\n"},
    /* CHATHISTORY (irc_history.c): a CORE_HISTORY, or one FAIL line */
    {FX_REG, "CHATHISTORY LATEST #lobby * 10", 1, CORE_HISTORY,
     CORE_HISTORY_LATEST, "#lobby", "*", NULL, NULL},
    {FX_REG,
     "chathistory between #RUST msgid=a timestamp=2026-12-01T10:00:00Z 5", 1,
     CORE_HISTORY, CORE_HISTORY_BETWEEN, "#rust", "msgid=a",
     "timestamp=2026-12-01T10:00:00Z", NULL},
    {FX_REG, "CHATHISTORY AROUND #lobby timestamp=2026-12-01T10:00:00.5Z 1", 1,
     CORE_HISTORY, CORE_HISTORY_AROUND, "#lobby",
     "timestamp=2026-12-01T10:00:00.5Z", NULL, NULL},
    {FX_REG, "CHATHISTORY", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "FAIL CHATHISTORY NEED_MORE_PARAMS * :Missing parameters\r\n"},
    {FX_REG, "CHATHISTORY SOON #lobby * 1", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "FAIL CHATHISTORY UNKNOWN_COMMAND SOON :Unknown command\r\n"},
    {FX_REG, "CHATHISTORY BETWEEN #lobby * 1", 0, CORE_NONE, 0, NULL, NULL,
     NULL,
     S "FAIL CHATHISTORY NEED_MORE_PARAMS BETWEEN :Missing parameters\r\n"},
    {FX_REG, "CHATHISTORY BEFORE #lobby * 1", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "FAIL CHATHISTORY INVALID_PARAMS BEFORE * :Invalid message "
       "reference\r\n"},
    {FX_REG, "CHATHISTORY AFTER #lobby seq=3 1", 0, CORE_NONE, 0, NULL, NULL,
     NULL,
     S "FAIL CHATHISTORY INVALID_PARAMS AFTER seq=3 :Invalid message "
       "reference\r\n"},
    {FX_REG, "CHATHISTORY AFTER #lobby timestamp=2026-12-01 1", 0, CORE_NONE, 0,
     NULL, NULL, NULL,
     S "FAIL CHATHISTORY INVALID_PARAMS AFTER timestamp=2026-12-01 :Invalid "
       "message reference\r\n"},
    {FX_REG, "CHATHISTORY LATEST #lobby * 0", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "FAIL CHATHISTORY INVALID_PARAMS LATEST 0 :Invalid limit\r\n"},
    {FX_REG, "CHATHISTORY LATEST #lobby * -5", 0, CORE_NONE, 0, NULL, NULL,
     NULL, S "FAIL CHATHISTORY INVALID_PARAMS LATEST -5 :Invalid limit\r\n"},
    {FX_REG, "CHATHISTORY LATEST #nope * 5", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "FAIL CHATHISTORY INVALID_TARGET LATEST #nope :Messages could not be "
       "retrieved\r\n"},
    {FX_REG, "CHATHISTORY LATEST a,b * 5", 0, CORE_NONE, 0, NULL, NULL, NULL,
     S "FAIL CHATHISTORY INVALID_TARGET LATEST a,b :Messages could not be "
       "retrieved\r\n"},
    /* TARGETS: the first room's newest message before the later time */
    {FX_REG,
     "CHATHISTORY TARGETS timestamp=2026-01-01T00:00:00Z "
     "timestamp=2025-01-01T00:00:00.1Z 5",
     1, CORE_HISTORY, CORE_HISTORY_BEFORE, "#lobby",
     "timestamp=2026-01-01T00:00:00.000Z", NULL, NULL},
    {FX_REG, "CHATHISTORY TARGETS * timestamp=2025-01-01T00:00:00Z 5", 0,
     CORE_NONE, 0, NULL, NULL, NULL,
     S "FAIL CHATHISTORY INVALID_PARAMS TARGETS * :Invalid message "
       "reference\r\n"},
    /* A nickname: no private history is served; without batch, that
     * is nothing at all. */
    {FX_REG, "CHATHISTORY LATEST bob * 5", 0, CORE_NONE, 0, NULL, NULL, NULL,
     NULL},
    {FX_UNREG, "CHATHISTORY LATEST #lobby * 5", 0, CORE_NONE, 0, NULL, NULL,
     NULL, S "451 * :You have not registered\r\n"},
};

static void
run_parse_row(size_t i, const struct parse_row *row)
{
	struct pf_conn *f = fake_open(row->fx, NULL);
	size_t len = strlen(row->line);
	char *line = pf_exact_copy(row->line, len); /* ASan sees past */
	struct core_op ops[PROTO_OPS_MAX];
	int n, ok;

	memset(ops, 0x5a, sizeof(ops));
	n = proto_irc.parse(&f->pc, line, len, ops);
	ok = n == row->n && !f->bad_lines &&
	     pf_match(row->emitted ? row->emitted : "", f->out);
	if (ok && n > 0)
		ok = ops[0].kind == row->kind && ops[0].flags == row->flags &&
		     str_is(ops[0].room, row->room) &&
		     str_is(ops[0].arg, row->arg) &&
		     str_is(ops[0].text, row->text);
	CHECKF(ok,
	       "row %zu \"%s\": %d ops (kind %d flags %#x room \"%.*s\" arg "
	       "\"%.*s\" text \"%.*s\"), emitted \"%s\"",
	       i, row->line, n, n > 0 ? (int)ops[0].kind : -1,
	       n > 0 ? ops[0].flags : 0, n > 0 ? (int)ops[0].room.n : 0,
	       n > 0 ? ops[0].room.p : "", n > 0 ? (int)ops[0].arg.n : 0,
	       n > 0 ? ops[0].arg.p : "", n > 0 ? (int)ops[0].text.n : 0,
	       n > 0 ? ops[0].text.p : "", f->out);
	free(line);
}

static void
test_lines_parse_into_operations_or_numerics(void)
{
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++)
		run_parse_row(i, &parse_rows[i]);
}

static void
test_registration_needs_nick_user_and_cap_end_in_any_order(void)
{
	struct core_op ops[PROTO_OPS_MAX];
	struct pf_conn *f = fake_open(FX_UNREG, NULL);

	CHECK(pf_irc_parse(f, "CAP LS 302", ops) == 0);
	CHECK(pf_irc_parse(f, "USER u 0 * :Real Name", ops) == 0);
	CHECK(pf_irc_parse(f, "NICK zed", ops) == 1 &&
	      ops[0].kind == CORE_NICK);
	snprintf(f->pc.nick, sizeof(f->pc.nick), "zed");
	/* The nick is taken, but CAP is not over: no hello yet. */
	CHECK(pf_irc_reply(f, CORE_NICK,
			   &(struct outbox_new){.kind = OUTBOX_REPLY,
						.target = PF_CLIENT_ID},
			   ops) == 0);
	CHECK(f->pc.variant == 0);
	pf_clear(f);
	CHECK(pf_irc_parse(f, "CAP END", ops) == 1);
	CHECK(ops[0].kind == CORE_HELLO && str_is(ops[0].arg, "~u") &&
	      str_is(ops[0].text, "Real Name"));
	CHECK(
	    pf_irc_reply(f, CORE_HELLO,
			 &(struct outbox_new){.kind = OUTBOX_REPLY,
					      .target = PF_CLIENT_ID,
					      .user = outbox_str("~u"),
					      .host = outbox_str("c.d.parley")},
			 ops) == 2);
	CHECK(ops[0].kind == CORE_LUSERS && ops[1].kind == CORE_MOTD);
	CHECK(f->pc.variant == 1 + IRC_CAP_CAP_NOTIFY % 16);
	CHECKF(pf_match(S "001 zed :Welcome to the parley IRC Network "
			  "zed!~u@c.d.parley\r\n" S "002 *\r\n" S "003 *\r\n" S
			  "004 zed irc.test parley-* ow biklmnostv bklov\r\n" S
			  "005 zed AWAYLEN=256 *\r\n" S "005 zed TARGMAX=*\r\n",
			f->out),
	       "welcome: %s", f->out);
	CHECK(!f->bad_lines);
	/* A taken nick before registration: 433 to "*". */
	f = fake_open(FX_UNREG, NULL);
	CHECK(pf_irc_parse(f, "NICK bob", ops) == 1);
	pf_irc_reply(f, CORE_NICK,
		     &(struct outbox_new){.kind = OUTBOX_REPLY,
					  .aux = CORE_ERR_NICK_IN_USE,
					  .target = PF_CLIENT_ID,
					  .arg = outbox_str("bob")},
		     ops);
	CHECKF(strcmp(f->out, S "433 * bob :Nickname is already in use\r\n") ==
		   0,
	       "%s", f->out);
}

static void
test_tags_longer_than_4094_bytes_get_417(void)
{
	char line[5000];
	struct core_op ops[PROTO_OPS_MAX];
	struct pf_conn *f = fake_open(FX_REG, NULL);

	memset(line, 'a', sizeof(line));
	line[0] = '@';
	memcpy(line + 1 + 4094, " PRIVMSG bob :x", 16);
	CHECK(pf_irc_parse(f, line, ops) == 1);
	CHECK(f->out_len == 0);
	memset(line, 'a', sizeof(line));
	line[0] = '@';
	memcpy(line + 1 + 4095, " PRIVMSG bob :x", 16);
	CHECK(pf_irc_parse(f, line, ops) == 0);
	CHECK(strcmp(f->out, S "417 alice :Input line was too long\r\n") == 0);
}

/* ---- the sanitiser ------------------------------------------------------ */

static void
test_the_sanitiser_keeps_ctcp_and_drops_colours_whole(void)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
	    {"plain text", "plain text"},
	    {"\001ACTION x\001", "\001ACTION x\001"},
	    {"\002bold\002 \037under\037", "bold under"},
	    {"\00304red\003 and \0034,12both\003.", "red and both."},
	    {"\0031,2345", "45"},
	    {"\004ff00ffpink\004 \004FF00FF,00ff00x", "pink x"},
	    {"tab\there", "tab here"},
	    {"bad \xff byte", "bad \xEF\xBF\xBD byte"},
	    {"\003", ""},
	};
	char out[256];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n =
		    proto_irc.sanitize(rows[i].in, strlen(rows[i].in), out);
		out[n] = '\0';
		CHECKF(strcmp(out, rows[i].out) == 0, "row %zu: \"%s\"", i,
		       out);
	}
}

/* ---- format ------------------------------------------------------------- */

struct format_row {
	uint16_t kind, aux;
	const char *room, *arg, *text;
	unsigned caps;
	int registered;
	enum proto_role role;
	const char *want; /* a pattern; "" nothing */
};

#define BOB ":bob!~b@x.y.parley "
#define MEM PROTO_ROLE_MEMBER
#define AUT PROTO_ROLE_AUTHOR
#define ST  IRC_CAP_SERVER_TIME
#define MT  IRC_CAP_MESSAGE_TAGS
#define EM  IRC_CAP_ECHO_MESSAGE
#define AN  IRC_CAP_AWAY_NOTIFY

static const struct format_row format_rows[] = {
    {OUTBOX_MSG, 0, "#lobby", NULL, "hi", 0, 1, MEM,
     BOB "PRIVMSG #lobby :hi\r\n"},
    {OUTBOX_MSG, 0, "#lobby", NULL, "hi", 0, 1, AUT, ""},
    {OUTBOX_MSG, 0, "#lobby", NULL, "hi", EM, 1, AUT,
     BOB "PRIVMSG #lobby :hi\r\n"},
    {OUTBOX_MSG, 0, "#lobby", NULL, "hi", 0, 0, MEM, ""},
    {OUTBOX_MSG, OUTBOX_MSG_ACTION, "#lobby", NULL, "waves", 0, 1, MEM,
     BOB "PRIVMSG #lobby :\001ACTION waves\001\r\n"},
    {OUTBOX_MSG, OUTBOX_MSG_NOTICE, "#lobby", NULL, "note", 0, 1, MEM,
     BOB "NOTICE #lobby :note\r\n"},
    {OUTBOX_PRIVMSG, OUTBOX_MSG_CTCP, NULL, "alice", "VERSION", 0, 1, MEM,
     BOB "PRIVMSG alice :\001VERSION\001\r\n"},
    {OUTBOX_PRIVMSG, 0, NULL, "alice", "psst", ST, 1, MEM,
     "@time=2024-02-29T12:34:56.789Z " BOB "PRIVMSG alice :psst\r\n"},
    {OUTBOX_PRIVMSG, 0, NULL, "alice", "psst", MT, 1, MEM,
     "@msgid=* " BOB "PRIVMSG alice :psst\r\n"},
    {OUTBOX_PRIVMSG, 0, NULL, "alice", "psst", ST | MT, 1, MEM,
     "@time=2024-02-29T12:34:56.789Z;msgid=* " BOB "PRIVMSG alice :psst\r\n"},
    {OUTBOX_JOIN, 0, "#lobby", NULL, NULL, 0, 1, MEM, BOB "JOIN #lobby\r\n"},
    {OUTBOX_JOIN, 0, "#lobby", NULL, NULL, 0, 1, AUT, BOB "JOIN #lobby\r\n"},
    {OUTBOX_JOIN, 0, "#lobby", NULL, "lunch", AN, 1, MEM,
     BOB "JOIN #lobby\r\n" BOB "AWAY :lunch\r\n"},
    {OUTBOX_JOIN, 0, "#lobby", NULL, "lunch", AN, 1, AUT,
     BOB "JOIN #lobby\r\n"},
    {OUTBOX_JOIN, 0, "#lobby", NULL, "lunch", 0, 1, MEM, BOB "JOIN #lobby\r\n"},
    {OUTBOX_JOIN, 0, "#lobby", NULL, NULL, 0, 0, AUT, ""},
    {OUTBOX_PART, 0, "#lobby", NULL, NULL, 0, 1, MEM, BOB "PART #lobby\r\n"},
    {OUTBOX_PART, 0, "#lobby", NULL, "bye", 0, 1, MEM,
     BOB "PART #lobby :bye\r\n"},
    {OUTBOX_QUIT, 0, NULL, NULL, "connection lost", 0, 1, MEM,
     BOB "QUIT :connection lost\r\n"},
    {OUTBOX_NICK, 0, NULL, "robert", NULL, 0, 1, AUT, BOB "NICK :robert\r\n"},
    {OUTBOX_NICK, 0, NULL, "robert", NULL, 0, 0, AUT, ""},
    {OUTBOX_TOPIC, 0, "#lobby", NULL, "new", 0, 1, MEM,
     BOB "TOPIC #lobby :new\r\n"},
    {OUTBOX_TOPIC, 0, "#lobby", NULL, NULL, 0, 1, AUT,
     BOB "TOPIC #lobby :\r\n"},
    {OUTBOX_AWAY, 0, NULL, NULL, "gone", AN, 1, MEM, BOB "AWAY :gone\r\n"},
    {OUTBOX_AWAY, 0, NULL, NULL, NULL, AN, 1, MEM, BOB "AWAY\r\n"},
    {OUTBOX_AWAY, 0, NULL, NULL, "gone", AN, 1, AUT, ""},
    {OUTBOX_AWAY, 0, NULL, NULL, "gone", 0, 1, MEM, ""},
    {OUTBOX_SHUTDOWN, 0, NULL, NULL, NULL, 0, 1, MEM, ""},
};

static void
test_broadcast_records_are_formatted_per_variant_and_role(void)
{
	for (size_t i = 0; i < sizeof(format_rows) / sizeof(format_rows[0]);
	     i++) {
		const struct format_row *row = &format_rows[i];
		uint64_t room = row->room ? pf_room_id(row->room) : 0;
		const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
		    .kind = row->kind,
		    .aux = row->aux,
		    .src = 9,
		    .target = row->kind == OUTBOX_PRIVMSG ? PF_CLIENT_ID : room,
		    .ts_ms = 1709210096789LL,
		    .nick = outbox_str("bob"),
		    .user = outbox_str("~b"),
		    .host = outbox_str("x.y.parley"),
		    .room = outbox_str(row->room),
		    .arg = outbox_str(row->arg),
		    .text = outbox_str(row->text),
		});
		if (!v)
			continue;
		size_t n = proto_irc.format(
		    &pf_env, v, irc_variant(row->registered, row->caps),
		    row->role, t_line);
		t_line[n] = '\0';
		CHECKF(pf_match(row->want, t_line) &&
			   (n == 0 || t_line[n - 1] == '\n'),
		       "row %zu: \"%s\"", i, t_line);
	}
}

/* account-notify shows logins to those who asked; account-tag marks
 * what a logged-in client does; neither reaches the others. */
static void
test_accounts_show_with_account_notify_and_account_tag_only(void)
{
	static const struct {
		uint16_t kind;
		const char *acct, *text;
		unsigned caps;
		enum proto_role role;
		const char *want;
	} rows[] = {
	    {OUTBOX_ACCOUNT, "bob", NULL, IRC_CAP_ACCOUNT_NOTIFY, MEM,
	     BOB "ACCOUNT bob\r\n"},
	    {OUTBOX_ACCOUNT, "", NULL, IRC_CAP_ACCOUNT_NOTIFY, MEM,
	     BOB "ACCOUNT *\r\n"},
	    {OUTBOX_ACCOUNT, "bob", NULL, IRC_CAP_ACCOUNT_NOTIFY, AUT, ""},
	    {OUTBOX_ACCOUNT, "bob", NULL, ST | MT, MEM, ""},
	    {OUTBOX_MSG, "bob", "hi", IRC_CAP_ACCOUNT_TAG, MEM,
	     "@account=bob " BOB "PRIVMSG #lobby :hi\r\n"},
	    {OUTBOX_MSG, "b\\o;b", "hi", IRC_CAP_ACCOUNT_TAG | ST, MEM,
	     "@time=*;account=b\\\\o\\:b " BOB "PRIVMSG #lobby :hi\r\n"},
	    {OUTBOX_MSG, "", "hi", IRC_CAP_ACCOUNT_TAG, MEM,
	     BOB "PRIVMSG #lobby :hi\r\n"},
	    {OUTBOX_MSG, "bob", "hi", 0, MEM, BOB "PRIVMSG #lobby :hi\r\n"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
		    .kind = rows[i].kind,
		    .src = 9,
		    .target = 1,
		    .nick = outbox_str("bob"),
		    .user = outbox_str("~b"),
		    .host = outbox_str("x.y.parley"),
		    .acct = outbox_str(rows[i].acct),
		    .room = outbox_str("#lobby"),
		    .text = outbox_str(rows[i].text),
		});
		REQUIRE(v);
		size_t n =
		    proto_irc.format(&pf_env, v, irc_variant(1, rows[i].caps),
				     rows[i].role, t_line);
		t_line[n] = '\0';
		CHECKF(pf_match(rows[i].want, t_line), "row %zu: \"%s\"", i,
		       t_line);
	}
}

static void
test_long_messages_are_split_into_lines_that_fit(void)
{
	char text[3001];
	const char *p;
	size_t got = 0;
	int lines = 0;

	/* 1000 three-byte characters. */
	for (int i = 0; i < 1000; i++)
		memcpy(text + 3 * i, "\xE2\x82\xAC", 3);
	text[3000] = '\0';
	const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
	    .kind = OUTBOX_MSG,
	    .aux = OUTBOX_MSG_ACTION,
	    .src = 9,
	    .target = 1,
	    .nick = outbox_str("bob"),
	    .user = outbox_str("~b"),
	    .host = outbox_str("x.y.parley"),
	    .room = outbox_str("#lobby"),
	    .text = outbox_str(text),
	});
	REQUIRE(v);
	size_t n = proto_irc.format(&pf_env, v, irc_variant(1, ST | MT),
				    PROTO_ROLE_MEMBER, t_line);
	t_line[n] = '\0';
	for (p = t_line; *p; lines++) {
		const char *end = strstr(p, "\r\n"), *tags_end = strchr(p, ' ');
		const char *body = strstr(p, " :\001ACTION ");
		REQUIRE(end && tags_end && body && body < end);
		/* Within LINELEN once the tags are left out. */
		CHECKF(end + 2 - (tags_end + 1) <= 512, "line %d: %d bytes",
		       lines, (int)(end + 2 - (tags_end + 1)));
		body += strlen(" :\001ACTION ");
		CHECK(end[-1] == '\001');
		CHECK((end - 1 - body) % 3 == 0);
		CHECK(memcmp(body, text + got, (size_t)(end - 1 - body)) == 0);
		got += (size_t)(end - 1 - body);
		/* Each line has a message id of its own. */
		CHECK(lines == 0 || strstr(p, "msgid=") != NULL);
		p = end + 2;
	}
	CHECK(got == 3000 && lines >= 7);
}

static void
test_server_time_is_utc_with_milliseconds(void)
{
	static const struct {
		long long ms;
		const char *want;
	} rows[] = {
	    {0, "1970-01-01T00:00:00.000Z"},
	    {1709210096789LL, "2024-02-29T12:34:56.789Z"},
	    {946684799999LL, "1999-12-31T23:59:59.999Z"},
	    {4107542400000LL, "2100-03-01T00:00:00.000Z"},
	    {-5, "1970-01-01T00:00:00.000Z"},
	};
	char out[32];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = irc_time(rows[i].ms, out);
		CHECKF(n == 24 && strcmp(out, rows[i].want) == 0, "row %zu: %s",
		       i, out);
	}
}

/* ---- records for one client --------------------------------------------- */

struct deliver_row {
	const char *line; /* parsed first: the command in progress */
	enum core_op_kind pending;
	const char *caps;
	struct outbox_new rec;
	uint64_t ids[4];
	unsigned nids;
	const char *want; /* a pattern */
};

#define NAMES_LIST "0bob!~b@x.parley 1op!~o@y.parley 3ov!~v@z.parley"

static const struct deliver_row deliver_rows[] = {
    {"TOPIC #lobby",
     CORE_TOPIC,
     NULL,
     {.kind = OUTBOX_TOPIC_INFO,
      .room = {"#lobby", 6},
      .arg = {"bob", 3},
      .text = {"rules", 5}},
     {1709210096789ULL},
     1,
     S "332 alice #lobby :rules\r\n" S "333 alice #lobby bob 1709210096\r\n"},
    {"TOPIC #lobby",
     CORE_TOPIC,
     NULL,
     {.kind = OUTBOX_TOPIC_INFO, .room = {"#lobby", 6}},
     {0},
     1,
     S "331 alice #lobby :No topic is set\r\n"},
    {"NAMES #lobby",
     CORE_NAMES,
     NULL,
     {.kind = OUTBOX_NAMES,
      .aux = OUTBOX_LAST,
      .room = {"#lobby", 6},
      .text = {NAMES_LIST, sizeof(NAMES_LIST) - 1}},
     {0},
     0,
     S "353 alice = #lobby :bob @op @ov\r\n" S
       "366 alice #lobby :End of /NAMES list\r\n"},
    {"NAMES #lobby",
     CORE_NAMES,
     "multi-prefix userhost-in-names",
     {.kind = OUTBOX_NAMES,
      .room = {"#lobby", 6},
      .text = {NAMES_LIST, sizeof(NAMES_LIST) - 1}},
     {0},
     0,
     S "353 alice = #lobby :bob!~b@x.parley @op!~o@y.parley "
       "@+ov!~v@z.parley\r\n"},
    {"NAMES #nope",
     CORE_NAMES,
     NULL,
     {.kind = OUTBOX_REPLY, .aux = CORE_ERR_NO_SUCH_ROOM, .room = {"#nope", 5}},
     {0},
     0,
     S "366 alice #nope :End of /NAMES list\r\n"},
    {"LIST",
     CORE_ROOMS,
     NULL,
     {.kind = OUTBOX_ROOM_INFO, .room = {"#lobby", 6}, .text = {"t", 1}},
     {3, 5000},
     2,
     S "321 alice Channel :Users  Name\r\n" S "322 alice #lobby 3 :t\r\n"},
    {"LIST #rust",
     CORE_ROOMS,
     NULL,
     {.kind = OUTBOX_ROOM_INFO, .room = {"#lobby", 6}},
     {3, 5000},
     2,
     S "321 *\r\n"},
    {"LIST",
     CORE_ROOMS,
     NULL,
     {.kind = OUTBOX_ROOM_END},
     {0},
     1,
     S "321 *\r\n" S "323 alice :End of /LIST\r\n"},
    {"MODE #lobby",
     CORE_ROOMS,
     NULL,
     {.kind = OUTBOX_ROOM_INFO, .room = {"#lobby", 6}, .arg = {"+nt", 3}},
     {3, 5000},
     2,
     S "324 alice #lobby +nt\r\n" S "329 alice #lobby 5\r\n"},
    {"MODE #nope",
     CORE_ROOMS,
     NULL,
     {.kind = OUTBOX_REPLY, .aux = CORE_ERR_NO_SUCH_ROOM, .room = {"#nope", 5}},
     {0},
     0,
     S "403 alice #nope :No such channel\r\n"},
    {"WHO #lobby",
     CORE_WHO,
     NULL,
     {.kind = OUTBOX_USER_INFO,
      .aux = OUTBOX_MEMBER_AWAY,
      .nick = {"bob", 3},
      .user = {"~b", 2},
      .host = {"x.parley", 8},
      .room = {"#lobby", 6},
      .arg = {"Bob B", 5},
      .text = {"gone", 4}},
     {0, 0},
     2,
     S "352 alice #lobby ~b x.parley irc.test bob G :0 Bob B\r\n"},
    {"WHO #lobby",
     CORE_WHO,
     NULL,
     {.kind = OUTBOX_REPLY, .room = {"#lobby", 6}},
     {0},
     0,
     S "315 alice #lobby :End of WHO list\r\n"},
    {"WHOIS bob",
     CORE_WHOIS,
     NULL,
     {.kind = OUTBOX_USER_INFO,
      .nick = {"bob", 3},
      .user = {"plain", 5},
      .host = {"x.parley", 8},
      .text = {"gone", 4}},
     {1709210096789ULL, 1709210096789ULL},
     2,
     S "311 alice bob plain x.parley * :bob\r\n" S
       "312 alice bob irc.test :parley chat server\r\n" S
       "301 alice bob :gone\r\n" S
       "317 alice bob * 1709210096 :seconds idle, signon time\r\n"},
    {"WHOIS carol",
     CORE_WHOIS,
     NULL,
     {.kind = OUTBOX_USER_INFO,
      .aux = OUTBOX_USER_SECURE,
      .nick = {"carol", 5},
      .user = {"~c", 2},
      .host = {"y.parley", 8},
      .arg = {"Carol", 5}},
     {1709210096789ULL, 1709210096789ULL},
     2,
     S "311 alice carol ~c y.parley * :Carol\r\n" S
       "312 alice carol irc.test :parley chat server\r\n" S
       "671 alice carol :is using a secure connection\r\n" S
       "317 alice carol * 1709210096 :seconds idle, signon time\r\n"},
    {"WHOIS bob",
     CORE_WHOIS,
     NULL,
     {.kind = OUTBOX_USER_ROOMS, .nick = {"bob", 3}, .text = {"#a #b", 5}},
     {0},
     0,
     S "319 alice bob :#a #b\r\n"},
    {"WHOIS nobody",
     CORE_WHOIS,
     NULL,
     {.kind = OUTBOX_REPLY, .aux = CORE_ERR_NO_SUCH_NICK, .arg = {"nobody", 6}},
     {0},
     0,
     S "401 alice nobody :No such nick/channel\r\n" S
       "318 alice nobody :End of /WHOIS list\r\n"},
    {"PRIVMSG bob :hi",
     CORE_PRIVMSG,
     NULL,
     {.kind = OUTBOX_REPLY, .arg = {"bob", 3}, .text = {"lunch", 5}},
     {9},
     1,
     S "301 alice bob :lunch\r\n"},
    {"NOTICE bob :hi",
     CORE_PRIVMSG,
     NULL,
     {.kind = OUTBOX_REPLY, .arg = {"bob", 3}, .text = {"lunch", 5}},
     {9},
     1,
     ""},
    {"NOTICE bob :hi",
     CORE_PRIVMSG,
     NULL,
     {.kind = OUTBOX_REPLY, .aux = CORE_ERR_NO_SUCH_NICK, .arg = {"bob", 3}},
     {0},
     1,
     ""},
    {"JOIN #x",
     CORE_JOIN,
     NULL,
     {.kind = OUTBOX_REPLY, .aux = CORE_ERR_CLIENT_ROOMS, .room = {"#x", 2}},
     {16},
     1,
     S "405 alice #x :You have joined too many channels (max 16)\r\n"},
    {"PART #x",
     CORE_PART,
     NULL,
     {.kind = OUTBOX_REPLY, .aux = CORE_ERR_NOT_IN_ROOM, .room = {"#x", 2}},
     {0},
     1,
     S "442 alice #x :You're not on that channel\r\n"},
    {"LUSERS",
     CORE_LUSERS,
     NULL,
     {.kind = OUTBOX_LUSERS},
     {5, 2, 3, 9},
     4,
     S "251 alice :There are 5 users and 0 invisible on 1 servers\r\n" S
       "253 alice 2 :unknown connection(s)\r\n" S
       "254 alice 3 :channels formed\r\n" S
       "255 alice :I have 5 clients and 0 servers\r\n" S
       "265 alice 5 9 :Current local users 5, max 9\r\n" S
       "266 alice 5 9 :Current global users 5, max 9\r\n"},
    {"MOTD",
     CORE_MOTD,
     NULL,
     {.kind = OUTBOX_MOTD, .text = {"hello", 5}},
     {0},
     0,
     S "375 alice :- irc.test Message of the day -\r\n" S
       "372 alice :- hello\r\n"},
    {"MOTD",
     CORE_MOTD,
     NULL,
     {.kind = OUTBOX_REPLY},
     {0},
     0,
     S "376 alice :End of /MOTD command\r\n"},
    {"MOTD",
     CORE_MOTD,
     NULL,
     {.kind = OUTBOX_REPLY, .aux = CORE_ERR_NO_MOTD},
     {0},
     0,
     S "422 alice :MOTD File is missing\r\n"},
    {"USERHOST bob",
     CORE_USERS,
     NULL,
     {.kind = OUTBOX_USER_INFO,
      .nick = {"bob", 3},
      .user = {"~b", 2},
      .host = {"h", 1}},
     {0},
     0,
     ""},
    {"AWAY :x",
     CORE_AWAY,
     NULL,
     {.kind = OUTBOX_REPLY},
     {0},
     0,
     S "306 alice :You have been marked as being away\r\n"},
    {"AWAY",
     CORE_AWAY,
     NULL,
     {.kind = OUTBOX_REPLY},
     {0},
     0,
     S "305 alice :You are no longer marked as being away\r\n"},
    {"LIST",
     CORE_ROOMS,
     NULL,
     {.kind = OUTBOX_REPLY, .aux = CORE_ERR_UNAVAILABLE},
     {0},
     0,
     S "263 alice * :Please wait a while and try again\r\n"},
};

static void
test_records_for_one_client_emit_their_numerics(void)
{
	struct core_op ops[PROTO_OPS_MAX];

	for (size_t i = 0; i < sizeof(deliver_rows) / sizeof(deliver_rows[0]);
	     i++) {
		const struct deliver_row *row = &deliver_rows[i];
		struct pf_conn *f = fake_open(FX_REG, row->caps);
		struct outbox_new rec = row->rec;
		rec.target = PF_CLIENT_ID;
		rec.ids = row->ids;
		rec.nids = row->nids;
		pf_irc_parse(f, row->line, ops);
		pf_clear(f);
		f->pc.pending = row->pending;
		const struct outbox_view *v = pf_rec_view(&rec);
		if (!v)
			continue;
		CHECK(proto_irc.deliver(&f->pc, v, ops) == 0);
		CHECKF(pf_match(row->want, f->out) && !f->bad_lines,
		       "row %zu (%s): \"%s\"", i, row->line, f->out);
	}
}

static void
test_userhost_and_ison_collect_then_answer_on_the_reply(void)
{
	struct core_op ops[PROTO_OPS_MAX];
	struct pf_conn *f = fake_open(FX_REG, NULL);
	static const char *const users[] = {"bob", "carol"};

	for (int round = 0; round < 2; round++) {
		pf_irc_parse(
		    f, round ? "ISON bob carol x" : "USERHOST bob carol x",
		    ops);
		f->pc.pending = CORE_USERS;
		for (int i = 0; i < 2; i++) {
			const struct outbox_view *v =
			    pf_rec_view(&(struct outbox_new){
				.kind = OUTBOX_USER_INFO,
				.target = PF_CLIENT_ID,
				.nick = outbox_str(users[i]),
				.user = outbox_str("~u"),
				.host = outbox_str("h.parley"),
				.text = outbox_str(i ? "away" : NULL)});
			REQUIRE(v);
			proto_irc.deliver(&f->pc, v, ops);
		}
		pf_clear(f);
		pf_irc_reply(f, CORE_USERS,
			     &(struct outbox_new){.kind = OUTBOX_REPLY,
						  .target = PF_CLIENT_ID},
			     ops);
		CHECKF(strcmp(f->out, round ? S "303 alice :bob carol\r\n"
					    : S "302 alice :bob=+~u@h.parley "
						"carol=-~u@h.parley\r\n") == 0,
		       "round %d: %s", round, f->out);
	}
}

static void
test_history_comes_with_its_time_in_a_batch_only_for_those_who_asked(void)
{
	static const struct {
		const char *caps, *want;
	} rows[] = {
	    {NULL, ""},
	    {"server-time",
	     "@time=2024-02-29T12:34:56.789Z " BOB "PRIVMSG #lobby :old\r\n"},
	    {"server-time batch message-tags",
	     S "BATCH +h1 chathistory #lobby\r\n"
	       "@batch=h1;time=2024-02-29T12:34:56.789Z;msgid=m1d " BOB
	       "PRIVMSG #lobby :old\r\n" S "BATCH -h1\r\n"},
	};
	struct core_op ops[PROTO_OPS_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pf_conn *f = fake_open(FX_REG, rows[i].caps);
		pf_irc_parse(f, "JOIN #new", ops);
		f->pc.pending = CORE_JOIN;
		const struct outbox_view *v = pf_rec_view(
		    &(struct outbox_new){.kind = OUTBOX_HISTORY,
					 .target = PF_CLIENT_ID,
					 .ts_ms = 1709210096789LL,
					 .nick = outbox_str("bob"),
					 .user = outbox_str("~b"),
					 .host = outbox_str("x.y.parley"),
					 .room = outbox_str("#lobby"),
					 .arg = outbox_str("m1d"),
					 .text = outbox_str("old")});
		REQUIRE(v);
		proto_irc.deliver(&f->pc, v, ops);
		pf_irc_reply(f, CORE_JOIN,
			     &(struct outbox_new){.kind = OUTBOX_REPLY,
						  .target = PF_CLIENT_ID},
			     ops);
		CHECKF(strcmp(f->out, rows[i].want) == 0, "row %zu: %s", i,
		       f->out);
	}
}

/* ---- events and refusals ------------------------------------------------ */

static void
test_events_and_refusals_have_their_lines(void)
{
	struct pf_conn *f = fake_open(FX_REG, NULL);
	char out[256];

	proto_irc.event(&f->pc, PROTO_EV_LINE_TOO_LONG, NULL, 1024);
	proto_irc.event(&f->pc, PROTO_EV_PING, NULL, 120);
	proto_irc.event(&f->pc, PROTO_EV_CLOSED, "send queue exceeded", 0);
	proto_irc.event(&f->pc, PROTO_EV_SHUTDOWN, NULL, 0);
	CHECKF(strcmp(f->out, S "417 alice :Input line was too long\r\n"
				"PING :irc.test\r\n"
				"ERROR :Closing link: send queue exceeded\r\n"
				"ERROR :Closing link: server shutting "
				"down\r\n") == 0,
	       "%s", f->out);
	size_t n = proto_refusal_line(PROTO_IRC, PROTO_REFUSE_PER_ADDR, 16, out,
				      sizeof(out));
	CHECK(n == strlen(out) &&
	      strcmp(out, "ERROR :Closing link: too many connections from "
			  "your address (limit 16)\r\n") == 0);
	n = proto_refusal_line(PROTO_IRC, PROTO_REFUSE_FULL, 0, out,
			       sizeof(out));
	CHECK(strcmp(out, "ERROR :Closing link: server full, try again "
			  "later\r\n") == 0);
	proto_irc.close(&f->pc);
	CHECK(f->pc.state == NULL);
}

int
main(void)
{
	if (pf_init() < 0)
		return 1;
	pf_cfg.server_name = "irc.test";
	RUN(test_lines_parse_into_operations_or_numerics);
	RUN(test_registration_needs_nick_user_and_cap_end_in_any_order);
	RUN(test_tags_longer_than_4094_bytes_get_417);
	RUN(test_the_sanitiser_keeps_ctcp_and_drops_colours_whole);
	RUN(test_broadcast_records_are_formatted_per_variant_and_role);
	RUN(test_long_messages_are_split_into_lines_that_fit);
	RUN(test_accounts_show_with_account_notify_and_account_tag_only);
	RUN(test_server_time_is_utc_with_milliseconds);
	RUN(test_records_for_one_client_emit_their_numerics);
	RUN(test_userhost_and_ison_collect_then_answer_on_the_reply);
	RUN(test_history_comes_with_its_time_in_a_batch_only_for_those_who_asked);
	RUN(test_events_and_refusals_have_their_lines);
	if (t_fake.pc.state)
		proto_irc.close(&t_fake.pc);
	outbox_shm_destroy(&pf_shm);
	return tl_summary("unit_proto_irc");
}
