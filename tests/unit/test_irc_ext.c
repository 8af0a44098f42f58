/*
 * Unit tests for the IRC front end's round-4 extensions, through struct
 * proto only: extended-join's JOIN (account and real name) per variant
 * and role, the capability list that offers it, the refusal of a
 * banned client from the server by its name, and the SASL and PASS
 * buffers that exist only while registration needs them. Tables of rows;
 * expected lines are patterns ('*' any run). Runs in the test process.
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
t_reply_ok(struct pf_conn *f, enum core_op_kind pending, const char *arg,
	   struct core_op *ops)
{
	return pf_irc_reply(
	    f, pending,
	    &(struct outbox_new){.kind = OUTBOX_REPLY,
				 .target = PF_CLIENT_ID,
				 .nick = outbox_str(f->pc.nick),
				 .user = outbox_str("~u"),
				 .host = outbox_str("c.d.parley"),
				 .arg = outbox_str(arg)},
	    ops);
}

static int
str_is(struct core_str s, const char *want)
{
	return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

/* A connection that has said nothing yet, nothing emitted. */
static struct pf_conn *
t_open(void)
{
	struct pf_conn *f = &t_fake;

	pf_irc_open(f);
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
		CHECKF(pf_match(rows[i].want, t_line), "row %zu: \"%s\"", i,
		       t_line);
		CHECKF(n > 0 &&
			   pf_irc_line_ok(t_line, strcspn(t_line, "\n") + 1),
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
	CHECKF(pf_irc_line_ok(t_line, n), "%zu bytes: %s", n, t_line);
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

	pf_irc_parse(f, "CAP LS 302", ops);
	CHECKF(pf_match(S "CAP * LS :*echo-message extended-join message-tags*",
			f->out),
	       "%s", f->out);
	pf_clear(f);
	pf_irc_parse(f, "CAP REQ :extended-join", ops);
	CHECKF(pf_match(S "CAP * ACK :extended-join\r\n", f->out), "%s",
	       f->out);
	CHECK(irc_state(&f->pc)->caps & IRC_CAP_EXTENDED_JOIN);
	pf_clear(f);
	pf_irc_parse(f, "CAP LIST", ops);
	CHECKF(pf_match("*extended-join*", f->out), "%s", f->out);
	pf_clear(f);
	pf_irc_parse(f, "CAP REQ :-extended-join", ops);
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
	CHECKF(pf_irc_line_ok(out, (size_t)(second - out)), "%s", out);
	CHECKF(pf_irc_line_ok(second, strlen(second)), "%s", second);
	CHECK(strncmp(second, "ERROR :", 7) == 0 && out[0] == ':');
}

/* ---- SASL and PASS buffers on demand ------------------------------------- */

/* NICK nick taken and USER said, under CAP negotiation (sasl asked). */
static struct pf_conn *
t_sasl_open(const char *nick)
{
	struct core_op ops[PROTO_OPS_MAX];
	char line[64];
	struct pf_conn *f = t_open();

	pf_irc_parse(f, "CAP LS 302", ops);
	pf_irc_parse(f, "CAP REQ :sasl", ops);
	snprintf(line, sizeof(line), "NICK %s", nick);
	CHECK(pf_irc_parse(f, line, ops) == 1 && ops[0].kind == CORE_NICK);
	snprintf(f->pc.nick, sizeof(f->pc.nick), "%s", nick);
	CHECK(t_reply_ok(f, CORE_NICK, NULL, ops) == 0);
	CHECK(pf_irc_parse(f, "USER u 0 * :U", ops) == 0);
	pf_clear(f);
	return f;
}

/* Registration ends: nothing of SASL or PASS is left. */
static void
t_welcome(struct pf_conn *f, struct core_op *ops)
{
	CHECK(t_reply_ok(f, CORE_HELLO, NULL, ops) == 2);
	CHECK(irc_state(&f->pc)->registered);
	CHECK(!irc_state(&f->pc)->sasl_buf && !irc_state(&f->pc)->pass);
}

/* A response over one 400-byte line (a 296-byte password: 404 bytes of
 * base64) comes whole to the login; the buffer exists only from its
 * first line to its last. */
static void
test_a_chunked_sasl_response_is_kept_only_while_it_comes(void)
{
	struct core_op ops[PROTO_OPS_MAX];
	char raw[400], b64[600], line[512], pw[297];
	struct pf_conn *f = t_sasl_open("alice");
	struct irc_state *st = irc_state(&f->pc);

	memset(pw, 'p', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	size_t n =
	    (size_t)snprintf(raw, sizeof(raw), "%c%s%c%s", 0, "alice", 0, pw);
	tl_base64(raw, n, b64);
	REQUIRE(strlen(b64) == 404);
	CHECK(!st->sasl_buf && !st->pass);
	CHECK(pf_irc_parse(f, "AUTHENTICATE PLAIN", ops) == 0);
	CHECKF(strcmp(f->out, "AUTHENTICATE +\r\n") == 0, "%s", f->out);
	CHECK(!st->sasl_buf); /* nothing to keep yet */
	snprintf(line, sizeof(line), "AUTHENTICATE %.400s", b64);
	CHECK(pf_irc_parse(f, line, ops) == 0);
	CHECK(st->sasl_buf && st->sasl_len == 400);
	snprintf(line, sizeof(line), "AUTHENTICATE %s", b64 + 400);
	CHECK(pf_irc_parse(f, line, ops) == 1);
	CHECK(ops[0].kind == CORE_LOGIN && str_is(ops[0].arg, "alice") &&
	      str_is(ops[0].text, pw));
	CHECK(!st->sasl_buf && st->sasl_len == 0);
	pf_clear(f);
	CHECK(t_reply_ok(f, CORE_LOGIN, "alice", ops) == 0);
	CHECKF(pf_match(S "900 alice *" S "903 alice :*", f->out), "%s",
	       f->out);
	CHECK(pf_irc_parse(f, "CAP END", ops) == 1 &&
	      ops[0].kind == CORE_HELLO);
	t_welcome(f, ops);
	CHECK(!f->bad_lines);
}

/* Every way an exchange ends without a login frees the buffer: after
 * full (400-byte) lines of base64 that is not PLAIN's, the last line. */
static void
test_an_aborted_or_refused_sasl_exchange_frees_its_buffer(void)
{
	static char full[IRC_SASL_CHUNK + 1];
	static const struct {
		int full_lines;
		const char *last, *want;
	} rows[] = {
	    {1, "AUTHENTICATE *", S "906 bob :*"},
	    {1, "AUTHENTICATE +", S "904 bob :*"},
	    {2, "AUTHENTICATE +", S "904 bob :*"},
	    {2, "AUTHENTICATE AAAA", S "905 bob :*"}, /* over 800 bytes */
	};
	struct core_op ops[PROTO_OPS_MAX];
	char line[512];

	memset(full, 'A', IRC_SASL_CHUNK);
	snprintf(line, sizeof(line), "AUTHENTICATE %s", full);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pf_conn *f = t_sasl_open("bob");
		struct irc_state *st = irc_state(&f->pc);
		pf_irc_parse(f, "AUTHENTICATE PLAIN", ops);
		for (int k = 0; k < rows[i].full_lines; k++)
			CHECKF(pf_irc_parse(f, line, ops) == 0 && st->sasl_buf,
			       "row %zu", i);
		pf_clear(f);
		pf_irc_parse(f, rows[i].last, ops);
		CHECKF(pf_match(rows[i].want, f->out), "row %zu: %s", i,
		       f->out);
		CHECKF(!st->sasl_buf && st->sasl == IRC_SASL_NONE, "row %zu",
		       i);
		/* Registration goes on, and a new exchange starts afresh. */
		CHECK(pf_irc_parse(f, "AUTHENTICATE PLAIN", ops) == 0);
		CHECK(!st->sasl_buf && st->sasl == IRC_SASL_WAIT);
		pf_irc_parse(f, "AUTHENTICATE *", ops);
		CHECK(pf_irc_parse(f, "CAP END", ops) == 1);
		t_welcome(f, ops);
	}
}

/* PASS is kept from its line until its login is answered, or until the
 * welcome when a SASL login made it needless. */
static void
test_pass_is_kept_only_until_its_login_or_the_welcome(void)
{
	struct core_op ops[PROTO_OPS_MAX];
	char resp[128], raw[64];
	struct pf_conn *f = t_open();
	struct irc_state *st = irc_state(&f->pc);

	CHECK(!st->pass);
	CHECK(pf_irc_parse(f,
			   "PASS alice:"
			   "hunter22",
			   ops) == 0);
	CHECK(st->pass && st->pass_state == 1);
	CHECK(pf_irc_parse(f, "NICK amy", ops) == 1);
	snprintf(f->pc.nick, sizeof(f->pc.nick), "amy");
	CHECK(t_reply_ok(f, CORE_NICK, NULL, ops) == 0);
	CHECK(pf_irc_parse(f, "USER a 0 * :A", ops) == 1);
	CHECK(ops[0].kind == CORE_LOGIN && str_is(ops[0].arg, "alice") &&
	      str_is(ops[0].text, "hunter22"));
	CHECK(st->pass); /* the login's strings are in it */
	CHECK(t_reply_ok(f, CORE_LOGIN, "alice", ops) == 1);
	CHECK(ops[0].kind == CORE_HELLO);
	CHECK(!st->pass);
	t_welcome(f, ops);
	/* After registration PASS is refused, and nothing is kept. */
	pf_clear(f);
	pf_irc_parse(f, "PASS again", ops);
	CHECKF(pf_match(S "462 *", f->out), "%s", f->out);
	CHECK(!st->pass);

	/* PASS, then a SASL login: PASS is never tried, and gone at the
	 * welcome. */
	f = t_open();
	st = irc_state(&f->pc);
	pf_irc_parse(f,
		     "PASS alice:"
		     "hunter22",
		     ops);
	pf_irc_parse(f, "CAP LS 302", ops);
	pf_irc_parse(f, "CAP REQ :sasl", ops);
	pf_irc_parse(f, "NICK alice", ops);
	snprintf(f->pc.nick, sizeof(f->pc.nick), "alice");
	t_reply_ok(f, CORE_NICK, NULL, ops);
	pf_irc_parse(f, "USER a 0 * :A", ops);
	pf_irc_parse(f, "AUTHENTICATE PLAIN", ops);
	size_t n = (size_t)snprintf(raw, sizeof(raw), "%c%s%c%s", 0, "alice", 0,
				    "hunter22");
	char line[160];
	tl_base64(raw, n, resp);
	snprintf(line, sizeof(line), "AUTHENTICATE %s", resp);
	CHECK(pf_irc_parse(f, line, ops) == 1 && ops[0].kind == CORE_LOGIN);
	snprintf(f->pc.account, sizeof(f->pc.account), "alice");
	CHECK(t_reply_ok(f, CORE_LOGIN, "alice", ops) == 0);
	CHECK(st->pass && st->pass_state == 1);
	CHECK(pf_irc_parse(f, "CAP END", ops) == 1 &&
	      ops[0].kind == CORE_HELLO);
	t_welcome(f, ops);
	CHECK(st->pass_state == 0);
	CHECK(!f->bad_lines);
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
	RUN(test_a_chunked_sasl_response_is_kept_only_while_it_comes);
	RUN(test_an_aborted_or_refused_sasl_exchange_frees_its_buffer);
	RUN(test_pass_is_kept_only_until_its_login_or_the_welcome);
	if (t_fake.pc.state)
		proto_irc.close(&t_fake.pc);
	outbox_shm_destroy(&pf_shm);
	return tl_summary("unit_irc_ext");
}
