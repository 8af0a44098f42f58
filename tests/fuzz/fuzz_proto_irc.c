/*
 * fuzz_proto_irc: the IRC front end through struct proto. Lines are
 * sanitised by its own sanitiser and parsed for a client in 0-3 rooms,
 * registered or not, with some capabilities; a record is decoded and, if
 * valid, formatted for every variant and role and delivered after a
 * command that sets what the answer means. Invariants: at most
 * PROTO_OPS_MAX operations, none with a CR, LF, NUL or CTCP byte in a
 * text, valid room names for JOIN; every emitted line ends in CR LF, has
 * no other CR, LF or NUL and fits IRC's 512 bytes (broadcast lines: tags
 * aside); format writes nothing past PROTO_LINE_MAX (its buffer is
 * exactly that, on the ASan-checked heap).
 *
 * Input: a first byte below 0x20 is a selector (bits 0-1: how many
 * rooms, bit 2: registered, bit 3: a capabilities byte follows, bit 4: a
 * record follows), else the whole input is lines for a registered client
 * in #lobby. A record comes as [selector][caps?][pending operation]
 * [command][record bytes].
 */
#include "fuzzlib.h"
#include "lib/line.h"
#include "server/irc_int.h"
#include "server/names.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SEL_REGISTERED 0x04
#define FUZZ_SEL_CAPS	    0x08
#define FUZZ_SEL_RECORD	    0x10
#define FUZZ_SEL_DEFAULT    (0x01 | FUZZ_SEL_REGISTERED)
#define FUZZ_CLIENT_ID	    7

static const char *const fuzz_room_names[] = {"#lobby", "#Rust", "#a.b-c_9"};

/* Commands whose answers depend on what was asked. */
static const char *const fuzz_commands[] = {
    "LIST",
    "LIST #lobby,#x",
    "MODE #lobby",
    "WHO #lobby",
    "WHO b*",
    "WHOIS bob",
    "USERHOST bob",
    "ISON bob x",
    "NAMES #lobby",
    "NOTICE bob :x",
    "PRIVMSG bob :x",
    "AWAY :x",
    "AWAY",
    "MOTD",
    "JOIN #x",
    "TOPIC #lobby",
    "PRIVMSG NickServ :IDENTIFY bob pw345678",
    "PRIVMSG NickServ :LOGOUT",
    "AUTHENTICATE PLAIN",
    "PASS bob:pw345678",
    "CHATHISTORY LATEST #lobby * 10",
};

#define FUZZ_NCOMMANDS (sizeof(fuzz_commands) / sizeof(fuzz_commands[0]))

struct fuzz_conn {
	struct pconn pc;	    /* first: the emit callback casts back */
	struct proto_room rooms[4]; /* the last for a joined room */
};

static char *fuzz_out; /* PROTO_LINE_MAX bytes exactly */
/* Lines mode: input went through the sanitiser, so every emitted line is
 * valid UTF-8 (fuzzed records need not be). */
static int fuzz_utf8;
static struct config fuzz_cfg;
static struct outbox_shm fuzz_shm;
static struct proto_env fuzz_env = {.cfg = &fuzz_cfg, .shm = &fuzz_shm};

/* One line: CR LF at its end and nowhere else, no NUL, and at most max
 * bytes from from on. */
static void
fuzz_check_line(const char *line, size_t len, size_t from, size_t max)
{
	assert(len >= 2 && line[len - 1] == '\n' && line[len - 2] == '\r');
	assert(memchr(line, '\n', len - 1) == NULL);
	assert(memchr(line, '\r', len - 2) == NULL);
	assert(memchr(line, '\0', len) == NULL);
	assert(from < len && len - from <= max);
}

static void
fuzz_emit_cb(struct pconn *pc, const char *line, size_t len)
{
	(void)pc;
	fuzz_check_line(line, len, 0, IRC_LINELEN_MAX);
	if (fuzz_utf8)
		fuzz_check_utf8(line, len);
}

/* Checks the lines of a broadcast record: tags aside, each fits IRC's
 * line. */
static void
fuzz_check_lines(const char *buf, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t k, from = 0;
		assert(nl);
		k = (size_t)(nl - buf) + 1;
		if (buf[0] == '@') {
			const char *sp = memchr(buf, ' ', k);
			assert(sp);
			from = (size_t)(sp - buf) + 1;
		}
		fuzz_check_line(buf, k, from, IRC_LINELEN_MAX);
		buf += k;
		n -= k;
	}
}

/* Registers (if asked) as alice with caps, in the rooms sel chooses. */
static void
fuzz_conn_open(struct fuzz_conn *fc, unsigned sel, unsigned caps)
{
	struct core_op ops[PROTO_OPS_MAX];
	struct irc_state *st;
	unsigned nrooms = sel & 3;

	memset(fc, 0, sizeof(*fc));
	fc->pc.proto = &proto_irc;
	fc->pc.env = &fuzz_env;
	fc->pc.id = FUZZ_CLIENT_ID;
	memcpy(fc->pc.nick, "alice", 6);
	fc->pc.emit = fuzz_emit_cb;
	assert(proto_irc.open(&fc->pc, ops) == 0);
	st = irc_state(&fc->pc);
	st->caps = caps | IRC_CAP_SASL; /* AUTHENTICATE is always fuzzed */
	if (sel & FUZZ_SEL_REGISTERED) {
		st->nick_set = st->user_set = st->hello_sent = 1;
		st->registered = 1;
		memcpy(st->user, "~al", 4);
		memcpy(st->host, "a.b.parley", 11);
		fc->pc.variant = irc_variant(1, caps);
	}
	for (unsigned i = 0; i < nrooms; i++) {
		fc->rooms[i].id = 100 + i;
		snprintf(fc->rooms[i].name, sizeof(fc->rooms[i].name), "%s",
			 fuzz_room_names[i]);
		fc->pc.rooms[fc->pc.nrooms++] = &fc->rooms[i];
	}
}

/* ---- lines -------------------------------------------------------------- */

static void
fuzz_check_str(struct core_str s, int text)
{
	if (s.n == 0)
		return;
	assert(s.p != NULL);
	fuzz_touch(s.p, s.n);
	assert(!memchr(s.p, '\r', s.n) && !memchr(s.p, '\n', s.n) &&
	       !memchr(s.p, '\0', s.n));
	if (text)
		assert(!memchr(s.p, '\001', s.n));
}

static void
fuzz_check_op(const struct pconn *pc, const struct core_op *op)
{
	char room[OUTBOX_ROOM_MAX + 1];

	assert((op->kind > CORE_NONE && op->kind <= CORE_AWAY) ||
	       (op->kind >= CORE_HISTORY && op->kind <= CORE_LOGOUT) ||
	       (op->kind >= CORE_ROOM_REGISTER && op->kind <= CORE_ROOM_SAY) ||
	       (op->kind >= CORE_MODE && op->kind <= CORE_GLINE));
	fuzz_check_str(op->room, 0);
	fuzz_check_str(op->arg, 0);
	fuzz_check_str(op->text, 1);
	switch (op->kind) {
	case CORE_SAY:
		assert(proto_room_named(pc, op->room.p, op->room.n));
		assert(op->text.n > 0);
		break;
	case CORE_JOIN:
		assert(op->room.n >= 2 && op->room.n <= CONFIG_ROOM_MAX + 1);
		memcpy(room, op->room.p, op->room.n);
		room[op->room.n] = '\0';
		assert(names_room_valid(room));
		assert(!proto_room_named(pc, op->room.p, op->room.n));
		break;
	case CORE_PRIVMSG:
		assert(op->arg.n > 0 && op->text.n > 0);
		assert(!memchr(op->arg.p, ',', op->arg.n));
		break;
	case CORE_NICK:
		assert(op->arg.n > 0 && op->arg.n <= CONFIG_NICK_MAX);
		break;
	case CORE_TOPIC:
		assert(op->text.n <= CONFIG_TOPIC_MAX);
		break;
	case CORE_AWAY:
		assert(op->text.n <= CONFIG_AWAY_MAX);
		break;
	case CORE_HISTORY:
		/* CHATHISTORY: a room it is in, a reference that fits the
		 * channel message, a limit within ISUPPORT's. */
		assert(proto_room_named(pc, op->room.p, op->room.n));
		assert(op->arg.n > 0 && op->arg.n <= IRC_HISTREF_MAX);
		assert(op->text.n <= IRC_HISTREF_MAX);
		assert(CORE_HISTORY_SELECTOR(op->flags) <=
		       CORE_HISTORY_BETWEEN);
		assert(op->num >= 1 && op->num <= IRC_HISTORY_MAX);
		break;
	default:
		break;
	}
}

static void
fuzz_parse_line(struct fuzz_conn *fc, const uint8_t *raw, size_t raw_len)
{
	struct core_op ops[PROTO_OPS_MAX];
	size_t len;
	char *line =
	    fuzz_sanitized_copy(proto_irc.sanitize, raw, raw_len, &len);
	int n;

	memset(ops, 0xA5, sizeof(ops));
	n = proto_irc.parse(&fc->pc, line, len, ops);
	assert(n >= 0 && n <= PROTO_OPS_MAX);
	for (int i = 0; i < n; i++)
		fuzz_check_op(&fc->pc, &ops[i]);
	free(line);
}

static void
fuzz_lines(unsigned sel, unsigned caps, const uint8_t *data, size_t size)
{
	struct fuzz_conn fc;

	fuzz_conn_open(&fc, sel, caps);
	while (size > 0) {
		const uint8_t *lf = memchr(data, '\n', size);
		size_t n = lf ? (size_t)(lf - data) : size;
		size_t k = n > 0 && data[n - 1] == '\r' ? n - 1 : n;
		fuzz_parse_line(&fc, data, k);
		n += lf ? 1 : 0;
		data += n;
		size -= n;
	}
	proto_irc.close(&fc.pc);
}

/* ---- records ------------------------------------------------------------ */

static void
fuzz_record(unsigned sel, unsigned caps, const uint8_t *data, size_t size)
{
	struct core_op ops[PROTO_OPS_MAX];
	struct outbox_view v;
	struct fuzz_conn fc;
	void *copy;

	if (size < 2)
		return;
	unsigned pending = data[0], command = data[1];
	data += 2;
	size -= 2;
	copy = fuzz_record_copy(data, size, &v);
	if (!copy)
		return;
	for (unsigned variant = 0; variant <= 1 + IRC_CAPS_BROADCAST; variant++)
		for (int role = 0; role < PROTO_ROLE_COUNT; role++) {
			size_t n =
			    proto_irc.format(&fuzz_env, &v, variant,
					     (enum proto_role)role, fuzz_out);
			assert(n <= PROTO_LINE_MAX);
			fuzz_check_lines(fuzz_out, n);
		}
	fuzz_conn_open(&fc, sel, caps);
	proto_irc.parse(&fc.pc, fuzz_commands[command % FUZZ_NCOMMANDS],
			strlen(fuzz_commands[command % FUZZ_NCOMMANDS]), ops);
	/* Above 0x7f: the answer of an account operation; else 0 to
	 * CORE_AWAY as they are, and one more value: CORE_HISTORY. */
	if (pending & 0x80)
		fc.pc.pending =
		    (enum core_op_kind)(CORE_REGISTER + pending % 3);
	else if (pending % (CORE_AWAY + 2) == CORE_AWAY + 1)
		fc.pc.pending = CORE_HISTORY;
	else
		fc.pc.pending = (enum core_op_kind)(pending % (CORE_AWAY + 2));
	if (v.rec->kind >= OUTBOX_REPLY && v.rec->kind <= OUTBOX_MOTD) {
		int n = proto_irc.deliver(&fc.pc, &v, ops);
		assert(n >= 0 && n <= PROTO_OPS_MAX);
		for (int i = 0; i < n; i++)
			fuzz_check_op(&fc.pc, &ops[i]);
	}
	proto_irc.close(&fc.pc);
	free(copy);
}

_Static_assert(IRC_CAP_USERHOST_IN_NAMES == 0x40 << 2 &&
		   IRC_CAP_BATCH == 0x80 << 2 &&
		   IRC_CAP_CAP_NOTIFY == 0x80 << 3 &&
		   IRC_CAP_CHATHISTORY == 0x20 << 7,
	       "the caps byte reaches every capability");

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel = FUZZ_SEL_DEFAULT, caps = 0;

	if (!fuzz_out) {
		fuzz_out = malloc(PROTO_LINE_MAX);
		assert(fuzz_out);
		config_defaults(&fuzz_cfg);
		fuzz_cfg.server_name = "irc.test";
		assert(outbox_shm_create(&fuzz_shm, 2, 1u << 18, 1u << 18,
					 16) == 0);
	}
	if (size > 0 && data[0] < 0x20) {
		sel = data[0];
		data++;
		size--;
		if ((sel & FUZZ_SEL_CAPS) && size > 0) {
			/* Its top two bits also turn on userhost-in-names
			 * and batch, above a byte, its top bit cap-notify,
			 * and its account-tag bit draft/chathistory. */
			caps = data[0] | (unsigned)(data[0] & 0xc0) << 2 |
			       (unsigned)(data[0] & 0x80) << 3 |
			       (unsigned)(data[0] & 0x20) << 7;
			data++;
			size--;
		}
	}
	fuzz_utf8 = !(sel & FUZZ_SEL_RECORD);
	if (fuzz_utf8) {
		fuzz_lines(sel, caps, data, size);
		return 0;
	}
	fuzz_record(sel, caps, data, size);
	return 0;
}
