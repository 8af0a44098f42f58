/*
 * Unit tests for the IRC front end's round-4 extensions, through struct
 * proto only: extended-join's JOIN (account and real name) per variant
 * and role, the capability list that offers it, and the refusal of a
 * banned client from the server by its name. Tables of rows; expected
 * lines are patterns ('*' any run). Runs in the test process.
 */
#include "server/irc_int.h"

#include "../testlib.h"
#include "protofix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S   ":irc.test "
#define BOB ":bob!~b@x.y.parley "
#define MEM PROTO_ROLE_MEMBER
#define AUT PROTO_ROLE_AUTHOR
#define EJ  IRC_CAP_EXTENDED_JOIN
#define AN  IRC_CAP_AWAY_NOTIFY

static struct pf_conn t_fake;
static char t_line[PROTO_LINE_MAX];

static int
t_match(const char *p, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*p == '*') {
			star = ++p;
			retry = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++retry;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Every line a client gets ends in CR LF, holds no other CR, LF or NUL,
 * and fits IRC's 512 bytes. */
static int
t_line_ok(const char *line, size_t len)
{
	return len >= 2 && len <= 512 && line[len - 1] == '\n' &&
	       line[len - 2] == '\r' && !memchr(line, '\n', len - 1) &&
	       !memchr(line, '\r', len - 2) && !memchr(line, '\0', len);
}

static int
t_parse(struct pf_conn *f, const char *line, struct core_op *ops)
{
	return proto_irc.parse(&f->pc, line, strlen(line), ops);
}

/* A connection that has said nothing yet, nothing emitted. */
static struct pf_conn *
t_open(void)
{
	struct pf_conn *f = &t_fake;
	struct core_op ops[PROTO_OPS_MAX];

	if (f->pc.state)
		proto_irc.close(&f->pc);
	memset(&f->pc, 0, sizeof(f->pc));
	f->pc.proto = &proto_irc;
	f->pc.env = &pf_env;
	f->pc.id = PF_CLIENT_ID;
	f->pc.emit = pf_emit_cb;
	f->line_ok = t_line_ok;
	snprintf(f->pc.nick, sizeof(f->pc.nick), "guest1");
	CHECK(proto_irc.open(&f->pc, ops) == 0);
	pf_clear(f);
	return f;
}

/* ---- extended-join ------------------------------------------------------- */

static void
test_extended_join_adds_the_account_and_real_name_to_join_only_when_asked(void)
{
	static const char long_name[] =
	    "A real name that is as long as a real name may be, one hundred "
	    "bytes of it, and then a few more.";
	static const struct {
		const char *acct, *realname, *away;
		unsigned caps;
		enum proto_role role;
		const char *want;
	} rows[] = {
	    {"bob", "Bob Smith", NULL, EJ, MEM,
	     BOB "JOIN #lobby bob :Bob Smith\r\n"},
	    {"bob", "Bob Smith", NULL, EJ, AUT,
	     BOB "JOIN #lobby bob :Bob Smith\r\n"},
	    {"", "Bob Smith", NULL, EJ, MEM,
	     BOB "JOIN #lobby * :Bob Smith\r\n"},
	    /* A plain client has no real name: an empty last parameter. */
	    {"", "", NULL, EJ, MEM, BOB "JOIN #lobby * :\r\n"},
	    {"bob", "Bob Smith", NULL, 0, MEM, BOB "JOIN #lobby\r\n"},
	    {"bob", "Bob Smith", NULL, IRC_CAP_ACCOUNT_TAG, MEM,
	     "@account=bob " BOB "JOIN #lobby\r\n"},
	    {"bob", "Bob Smith", "lunch", EJ | AN, MEM,
	     BOB "JOIN #lobby bob :Bob Smith\r\n" BOB "AWAY :lunch\r\n"},
	    {"", long_name, NULL, EJ, MEM, BOB "JOIN #lobby * :A real name *"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
		    .kind = OUTBOX_JOIN,
		    .aux = OUTBOX_ANNOUNCE,
		    .src = 9,
		    .target = 1,
		    .nick = outbox_str("bob"),
		    .user = outbox_str("~b"),
		    .host = outbox_str("x.y.parley"),
		    .acct = outbox_str(rows[i].acct),
		    .room = outbox_str("#lobby"),
		    .arg = outbox_str(rows[i].realname),
		    .text = outbox_str(rows[i].away),
		});
		REQUIRE(v);
		size_t n =
		    proto_irc.format(&pf_env, v, irc_variant(1, rows[i].caps),
				     rows[i].role, t_line);
		t_line[n] = '\0';
		CHECKF(t_match(rows[i].want, t_line), "row %zu: \"%s\"", i,
		       t_line);
		CHECKF(n > 0 && t_line_ok(t_line, strcspn(t_line, "\n") + 1),
		       "row %zu: a bad line", i);
	}
	/* An unregistered client gets nothing, extended-join or not. */
	const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
	    .kind = OUTBOX_JOIN,
	    .src = 9,
	    .target = 1,
	    .nick = outbox_str("bob"),
	    .room = outbox_str("#lobby"),
	    .arg = outbox_str("Bob"),
	});
	REQUIRE(v);
	CHECK(proto_irc.format(&pf_env, v, irc_variant(0, EJ), MEM, t_line) ==
	      0);
}

/* With the longest strings a record holds (a real name as long as its
 * argument may be: more than CONFIG_REALNAME_MAX), the JOIN still fits
 * IRC's line whole. */
static void
test_an_extended_join_with_the_longest_strings_fits_the_line(void)
{
	char nick[OUTBOX_NICK_MAX + 1], user[OUTBOX_USER_MAX + 1];
	char host[OUTBOX_HOST_MAX + 1], acct[OUTBOX_ACCT_MAX + 1];
	char room[OUTBOX_ROOM_MAX + 1], real[OUTBOX_ARG_MAX + 1];

	memset(nick, 'n', sizeof(nick) - 1);
	memset(user, 'u', sizeof(user) - 1);
	memset(host, 'h', sizeof(host) - 1);
	memset(acct, 'a', sizeof(acct) - 1);
	memset(room, 'r', sizeof(room) - 1);
	room[0] = '#';
	/* Two-byte characters: a cut between their bytes would show. */
	for (size_t i = 0; i + 1 < sizeof(real); i += 2)
		memcpy(real + i, "\xC3\xA9", 2);
	nick[sizeof(nick) - 1] = user[sizeof(user) - 1] = '\0';
	host[sizeof(host) - 1] = acct[sizeof(acct) - 1] = '\0';
	room[sizeof(room) - 1] = '\0';
	real[sizeof(real) - 2] = '\0';
	const struct outbox_view *v = pf_rec_view(&(struct outbox_new){
	    .kind = OUTBOX_JOIN,
	    .src = 9,
	    .target = 1,
	    .nick = outbox_str(nick),
	    .user = outbox_str(user),
	    .host = outbox_str(host),
	    .acct = outbox_str(acct),
	    .room = outbox_str(room),
	    .arg = outbox_str(real),
	});
	REQUIRE(v);
	size_t n =
	    proto_irc.format(&pf_env, v, irc_variant(1, EJ), MEM, t_line);
	t_line[n] = '\0';
	CHECKF(t_line_ok(t_line, n), "%zu bytes: %s", n, t_line);
	const char *colon = strstr(t_line, " :");
	REQUIRE(colon);
	size_t kept = n - 2 - (size_t)(colon + 2 - t_line);
	CHECKF(kept == strlen(real), "%zu bytes of the real name", kept);
}

static void
test_cap_ls_offers_extended_join_and_req_turns_it_on(void)
{
	struct core_op ops[PROTO_OPS_MAX];
	struct pf_conn *f = t_open();

	t_parse(f, "CAP LS 302", ops);
	CHECKF(t_match(S "CAP * LS :*echo-message extended-join message-tags*",
		       f->out),
	       "%s", f->out);
	pf_clear(f);
	t_parse(f, "CAP REQ :extended-join", ops);
	CHECKF(t_match(S "CAP * ACK :extended-join\r\n", f->out), "%s", f->out);
	CHECK(irc_state(&f->pc)->caps & IRC_CAP_EXTENDED_JOIN);
	pf_clear(f);
	t_parse(f, "CAP LIST", ops);
	CHECKF(t_match("*extended-join*", f->out), "%s", f->out);
	pf_clear(f);
	t_parse(f, "CAP REQ :-extended-join", ops);
	CHECK(!(irc_state(&f->pc)->caps & IRC_CAP_EXTENDED_JOIN));
	CHECK(!f->bad_lines);
}

/* The seven capabilities that change broadcast lines each make their own
 * variant, every one below PROTO_VARIANTS; the others make none. */
static void
test_every_set_of_broadcast_capabilities_is_a_variant_of_its_own(void)
{
	static unsigned char seen[PROTO_VARIANTS];

	memset(seen, 0, sizeof(seen));
	CHECK(irc_variant(0, IRC_CAPS_BROADCAST) == 0);
	for (unsigned caps = 0; caps <= IRC_CAPS_BROADCAST; caps++) {
		unsigned v = irc_variant(1, caps);
		REQUIRE(v > 0 && v < PROTO_VARIANTS);
		CHECKF(!seen[v]++, "caps %#x share variant %u", caps, v);
		CHECK(irc_variant_caps(v) == caps);
		CHECK(irc_variant(1, caps | IRC_CAP_MULTI_PREFIX |
					 IRC_CAP_BATCH | IRC_CAP_SASL) == v);
	}
	CHECK(irc_variant_caps(irc_variant(1, EJ)) == EJ);
}

/* ---- refusals ------------------------------------------------------------ */

/* A banned client's 465 comes from the server, like every numeric; the
 * other refusals and the plain protocol's are as they were. */
static void
test_a_banned_irc_client_gets_465_from_the_server_by_name(void)
{
	static const struct {
		unsigned proto;
		const char *server, *reason;
		enum proto_refusal why;
		const char *want;
	} rows[] = {
	    {PROTO_IRC, "irc.test", "abuse", PROTO_REFUSE_BANNED,
	     S "465 * :You are banned from this server (abuse)\r\n"
	       "ERROR :Closing link: You are banned from this server "
	       "(abuse)\r\n"},
	    {PROTO_IRC, "irc.test", "", PROTO_REFUSE_BANNED,
	     S "465 * :You are banned from this server\r\n"
	       "ERROR :Closing link: You are banned from this server\r\n"},
	    {PROTO_IRC, "irc.test", "", PROTO_REFUSE_FULL,
	     "ERROR :Closing link: server full, try again later\r\n"},
	    {PROTO_PLAIN, "irc.test", "abuse", PROTO_REFUSE_BANNED,
	     "-!- you are banned from this server (abuse)\n"},
	};
	char out[1024], reason[CONFIG_REASON_MAX + 1];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = proto_refusal_server_line(
		    rows[i].proto, rows[i].server, rows[i].why, rows[i].reason,
		    out, sizeof(out));
		out[n < sizeof(out) ? n : sizeof(out) - 1] = '\0';
		CHECKF(strcmp(out, rows[i].want) == 0, "row %zu: \"%s\"", i,
		       out);
	}
	/* Without the server's name (proto_refusal_reason_line): as before. */
	size_t n = proto_refusal_reason_line(PROTO_IRC, PROTO_REFUSE_BANNED,
					     "abuse", out, sizeof(out));
	out[n] = '\0';
	CHECKF(strncmp(out, "465 * :", 7) == 0, "%s", out);
	/* The longest reason and server name: two whole lines, each within
	 * IRC's 512 bytes. */
	char server[CONFIG_NAME_MAX + 1];
	memset(server, 's', sizeof(server) - 1);
	server[sizeof(server) - 1] = '\0';
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	n = proto_refusal_server_line(PROTO_IRC, server, PROTO_REFUSE_BANNED,
				      reason, out, sizeof(out));
	REQUIRE(n < sizeof(out));
	out[n] = '\0';
	const char *second = strstr(out, "\r\n");
	REQUIRE(second);
	second += 2;
	CHECKF(t_line_ok(out, (size_t)(second - out)), "%s", out);
	CHECKF(t_line_ok(second, strlen(second)), "%s", second);
	CHECK(strncmp(second, "ERROR :", 7) == 0 && out[0] == ':');
}

int
main(void)
{
	if (pf_init() < 0)
		return 1;
	pf_cfg.server_name = "irc.test";
	RUN(test_extended_join_adds_the_account_and_real_name_to_join_only_when_asked);
	RUN(test_an_extended_join_with_the_longest_strings_fits_the_line);
	RUN(test_cap_ls_offers_extended_join_and_req_turns_it_on);
	RUN(test_every_set_of_broadcast_capabilities_is_a_variant_of_its_own);
	RUN(test_a_banned_irc_client_gets_465_from_the_server_by_name);
	if (t_fake.pc.state)
		proto_irc.close(&t_fake.pc);
	outbox_shm_destroy(&pf_shm);
	return tl_summary("unit_irc_ext");
}
