/*
 * fuzz_proto_plain: the plain protocol through struct proto. Lines are
 * sanitised as a session does and parsed for a client in 0-3 rooms; a
 * record is decoded and, if valid, formatted for both roles and delivered.
 * Invariants: at most PROTO_OPS_MAX operations, whose strings are empty or
 * lie inside the line, a room of the client's or the default quit reason;
 * every line ends in one LF and holds no other LF, CR or NUL; format
 * writes nothing past PROTO_LINE_MAX (its buffer is exactly that, on the
 * ASan-checked heap).
 *
 * Input: a first byte below 0x20 is a selector (bits 0-1: how many rooms,
 * 2-3: which is current, none if past the last; bit 4: a record follows),
 * else the whole input is lines for a client in #lobby. A record comes as
 * [selector][pending operation][record bytes].
 */
#include "fuzzlib.h"
#include "lib/line.h"
#include "server/names.h"
#include "server/proto.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SEL_RECORD	 0x10
#define FUZZ_SEL_DEFAULT 0x01 /* one room, current */
#define FUZZ_CLIENT_ID	 7

static const char *const fuzz_room_names[] = {"#lobby", "#Rust", "#a.b-c_9"};

struct fuzz_conn {
	struct pconn pc;	    /* first: the emit callback casts back */
	struct proto_room rooms[4]; /* the last for a joined room */
	int check_utf8; /* emitted lines must be valid UTF-8 (lines mode) */
};

static char *fuzz_out; /* PROTO_LINE_MAX bytes exactly */
static struct config fuzz_cfg;
static const struct proto_env fuzz_env = {.cfg = &fuzz_cfg};

/* One line as a client gets it: LF-terminated, no other LF, no CR, no
 * NUL. */
static void
fuzz_check_line(const char *line, size_t len)
{
	assert(len >= 1 && len <= PROTO_LINE_MAX);
	assert(line[len - 1] == '\n');
	assert(memchr(line, '\n', len - 1) == NULL);
	assert(memchr(line, '\r', len) == NULL);
	assert(memchr(line, '\0', len) == NULL);
}

static void
fuzz_emit_cb(struct pconn *pc, const char *line, size_t len)
{
	const struct fuzz_conn *fc = (const struct fuzz_conn *)pc;

	fuzz_check_line(line, len);
	/* plain_emitf cuts lines at 2048 bytes without regard for UTF-8
	 * (reported); look only for other breakage. */
	if (fc->check_utf8 && len < 2000)
		fuzz_check_utf8(line, len);
}

/* Opens a client of nick "fuzzer" in the rooms sel chooses. */
static void
fuzz_conn_open(struct fuzz_conn *fc, unsigned sel)
{
	struct core_op ops[PROTO_OPS_MAX];
	unsigned nrooms = sel & 3, current = (sel >> 2) & 3;

	memset(fc, 0, sizeof(*fc));
	fc->pc.proto = &proto_plain;
	fc->pc.env = &fuzz_env;
	fc->pc.id = FUZZ_CLIENT_ID;
	memcpy(fc->pc.nick, "fuzzer", 7);
	fc->pc.emit = fuzz_emit_cb;
	assert(proto_plain.open(&fc->pc, ops) == 1);
	assert(ops[0].kind == CORE_HELLO);
	for (unsigned i = 0; i < nrooms; i++) {
		fc->rooms[i].id = 100 + i;
		snprintf(fc->rooms[i].name, sizeof(fc->rooms[i].name), "%s",
			 fuzz_room_names[i]);
		fc->pc.rooms[fc->pc.nrooms++] = &fc->rooms[i];
	}
	if (current < nrooms) {
		struct outbox_rec rec = {.len = sizeof(rec),
					 .kind = OUTBOX_JOIN,
					 .src = FUZZ_CLIENT_ID,
					 .target = fc->rooms[current].id};
		struct outbox_view v;
		assert(outbox_decode(&rec, sizeof(rec), &v) == 0);
		proto_plain.self(&fc->pc, &v);
	}
}

/* ---- lines -------------------------------------------------------------- */

/* The room of the client's that s is exactly the name of, or NULL. */
static const struct proto_room *
fuzz_room_of(const struct pconn *pc, struct core_str s)
{
	for (unsigned i = 0; i < pc->nrooms; i++)
		if (s.p == pc->rooms[i]->name &&
		    s.n == strlen(pc->rooms[i]->name))
			return pc->rooms[i];
	return NULL;
}

static void
fuzz_check_str(const struct pconn *pc, const struct core_op *op,
	       struct core_str s, const char *line, size_t len)
{
	if (s.n == 0)
		return;
	assert(s.p != NULL);
	int in_line = s.p >= line && s.p <= line + len &&
		      s.n <= (size_t)(line + len - s.p);
	int in_room = 0;
	for (unsigned i = 0; i < pc->nrooms; i++) {
		const char *name = pc->rooms[i]->name;
		if (s.p >= name && s.p + s.n <= name + strlen(name))
			in_room = 1;
	}
	int quit_reason = op->kind == CORE_QUIT && s.p == op->text.p &&
			  s.n == 4 && memcmp(s.p, "quit", 4) == 0;
	/* /op NICK and friends make their change ("+o NICK"). */
	int change = op->kind == CORE_MODE && s.p == op->text.p &&
		     (s.p[0] == '+' || s.p[0] == '-');
	/* /history names where the last page ended ("seq=N", "ms=N", "*"). */
	int history_ref = op->kind == CORE_HISTORY && s.p == op->arg.p &&
			  (s.p[0] == '*' || memcmp(s.p, "seq=", 4) == 0 ||
			   memcmp(s.p, "ms=", 3) == 0);
	assert(in_line || in_room || quit_reason || change || history_ref);
	fuzz_touch(s.p, s.n);
}

static int
fuzz_has_space(struct core_str s)
{
	return s.n && memchr(s.p, ' ', s.n) != NULL;
}

static int
fuzz_trimmed(struct core_str s)
{
	return s.n == 0 || (s.p[0] != ' ' && s.p[s.n - 1] != ' ');
}

static void
fuzz_check_op(const struct pconn *pc, const struct core_op *op,
	      const char *line, size_t len)
{
	char room[OUTBOX_ROOM_MAX + 1];

	assert((op->kind > CORE_NONE && op->kind <= CORE_HELLO) ||
	       (op->kind >= CORE_HISTORY && op->kind <= CORE_ROOM_INFO) ||
	       (op->kind >= CORE_MODE && op->kind <= CORE_GLINE));
	fuzz_check_str(pc, op, op->room, line, len);
	fuzz_check_str(pc, op, op->arg, line, len);
	fuzz_check_str(pc, op, op->text, line, len);
	/* Only a message keeps its text verbatim. */
	if (op->kind != CORE_SAY || (op->flags & OUTBOX_MSG_ACTION))
		assert(fuzz_trimmed(op->text));
	switch (op->kind) {
	case CORE_SAY:
		assert(fuzz_room_of(pc, op->room) && op->text.n > 0);
		assert((op->flags & ~(unsigned)OUTBOX_MSG_ACTION) == 0);
		break;
	case CORE_PART:
	case CORE_TOPIC:
		assert(fuzz_room_of(pc, op->room));
		break;
	case CORE_JOIN:
		assert(op->room.n >= 2 && op->room.n <= OUTBOX_ROOM_MAX);
		memcpy(room, op->room.p, op->room.n);
		room[op->room.n] = '\0';
		assert(names_room_valid(room));
		assert(!proto_room_named(pc, op->room.p, op->room.n));
		break;
	case CORE_NICK:
	case CORE_NAMES:
		assert(op->arg.n + op->room.n > 0);
		assert(!fuzz_has_space(op->arg) && !fuzz_has_space(op->room));
		assert(op->text.n == 0);
		break;
	case CORE_PRIVMSG:
		assert(op->arg.n > 0 && !fuzz_has_space(op->arg));
		assert(op->text.n > 0);
		break;
	case CORE_QUIT:
		assert(op->text.n > 0);
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
	char *line = fuzz_sanitized_copy(line_sanitize, raw, raw_len, &len);
	int n;

	memset(ops, 0xA5, sizeof(ops));
	n = proto_plain.parse(&fc->pc, line, len, ops);
	assert(n >= 0 && n <= PROTO_OPS_MAX);
	for (int i = 0; i < n; i++)
		fuzz_check_op(&fc->pc, &ops[i], line, len);
	free(line);
}

static void
fuzz_lines(unsigned sel, const uint8_t *data, size_t size)
{
	struct fuzz_conn fc;

	fuzz_conn_open(&fc, sel);
	fc.check_utf8 = 1;
	while (size > 0) {
		const uint8_t *lf = memchr(data, '\n', size);
		size_t n = lf ? (size_t)(lf - data) : size;
		fuzz_parse_line(&fc, data, n);
		n += lf ? 1 : 0;
		data += n;
		size -= n;
	}
	proto_plain.close(&fc.pc);
}

/* ---- records ------------------------------------------------------------ */

/* What the session does before self(): the client's rooms change. */
static void
fuzz_apply_move(struct fuzz_conn *fc, const struct outbox_view *v)
{
	struct pconn *pc = &fc->pc;
	struct proto_room *r = proto_room_by_id(pc, v->rec->target);

	if (v->rec->kind == OUTBOX_JOIN && !r && pc->nrooms < 4) {
		r = &fc->rooms[3];
		r->id = v->rec->target;
		memcpy(r->name, v->room.p, v->room.n);
		r->name[v->room.n] = '\0';
		pc->rooms[pc->nrooms++] = r;
	} else if (v->rec->kind == OUTBOX_PART && r) {
		unsigned i = 0;
		while (pc->rooms[i] != r)
			i++;
		memmove(&pc->rooms[i], &pc->rooms[i + 1],
			(pc->nrooms - i - 1) * sizeof(pc->rooms[0]));
		pc->nrooms--;
	}
}

static void
fuzz_record(unsigned sel, unsigned pending, const uint8_t *data, size_t size)
{
	struct core_op ops[PROTO_OPS_MAX];
	struct outbox_view v;
	struct fuzz_conn fc;
	void *copy = fuzz_record_copy(data, size, &v);

	if (!copy)
		return;
	for (int role = 0; role < PROTO_ROLE_COUNT; role++) {
		size_t n = proto_plain.format(&fuzz_env, &v, 0,
					      (enum proto_role)role, fuzz_out);
		assert(n <= PROTO_LINE_MAX);
		if (n)
			fuzz_check_line(fuzz_out, n);
	}
	fuzz_conn_open(&fc, sel);
	fc.pc.pending = (enum core_op_kind)(pending % (CORE_HELLO + 1));
	if (v.rec->kind >= OUTBOX_REPLY && v.rec->kind <= OUTBOX_HISTORY) {
		int n = proto_plain.deliver(&fc.pc, &v, ops);
		assert(n >= 0 && n <= PROTO_OPS_MAX);
	}
	if ((v.rec->kind == OUTBOX_JOIN || v.rec->kind == OUTBOX_PART) &&
	    v.rec->src == FUZZ_CLIENT_ID) {
		fuzz_apply_move(&fc, &v);
		proto_plain.self(&fc.pc, &v);
	}
	proto_plain.close(&fc.pc);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel = FUZZ_SEL_DEFAULT;

	if (!fuzz_out) {
		fuzz_out = malloc(PROTO_LINE_MAX);
		assert(fuzz_out);
		config_defaults(&fuzz_cfg);
	}
	if (size > 0 && data[0] < 0x20) {
		sel = data[0];
		data++;
		size--;
	}
	if (!(sel & FUZZ_SEL_RECORD)) {
		fuzz_lines(sel, data, size);
		return 0;
	}
	if (size < 1)
		return 0;
	fuzz_record(sel, data[0], data + 1, size - 1);
	return 0;
}
