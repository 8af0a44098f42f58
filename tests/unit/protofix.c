/*
 * protofix: the protocol unit tests' connection fixture (protofix.h).
 * Runs in the test process; the ring is real shared memory.
 */
#include "protofix.h"

#include "../testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PF_RING (1u << 18)

const char *const pf_room_names[4] = {"#lobby", "#rust", "#c", "#new"};

struct config pf_cfg;
struct outbox_shm pf_shm;
struct proto_env pf_env = {.cfg = &pf_cfg, .shm = &pf_shm};
static struct outbox_writer pf_w;
static uint64_t pf_rbuf[OUTBOX_REC_MAX / 8 + 1];

int
pf_init(void)
{
	config_defaults(&pf_cfg);
	if (outbox_shm_create(&pf_shm, 2, PF_RING, PF_RING, 16) != 0) {
		fprintf(stderr, "outbox_shm_create failed\n");
		return -1;
	}
	outbox_writer_init(&pf_w, &pf_shm, 1);
	return 0;
}

void
pf_emit_cb(struct pconn *pc, const char *line, size_t len)
{
	struct pf_conn *f = (struct pf_conn *)pc;

	if (f->line_ok && !f->line_ok(line, len))
		f->bad_lines++;
	if (len >= sizeof(f->out) - f->out_len) {
		f->overflow = 1;
		return;
	}
	memcpy(f->out + f->out_len, line, len);
	f->out_len += len;
	f->out[f->out_len] = '\0';
	f->lines++;
}

void
pf_clear(struct pf_conn *f)
{
	f->out_len = 0;
	f->out[0] = '\0';
	f->lines = 0;
	f->bad_lines = 0;
	f->overflow = 0;
}

uint64_t
pf_room_id(const char *name)
{
	for (size_t i = 0; i < sizeof(pf_room_names) / sizeof(pf_room_names[0]);
	     i++)
		if (strcmp(pf_room_names[i], name) == 0)
			return i + 1;
	return 0;
}

const struct outbox_view *
pf_rec_view(const struct outbox_new *rec)
{
	static struct outbox_view v;
	uint64_t pos = pf_w.head;

	outbox_put(&pf_w, rec);
	if (!CHECKF(outbox_read(&pf_shm, 1, &pos, pf_w.head, pf_rbuf, &v) == 1,
		    "record of kind %u did not come back", rec->kind))
		return NULL;
	return &v;
}

char *
pf_exact_copy(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, s, len);
	return p;
}

/* ---- IRC ---------------------------------------------------------------- */

int
pf_match(const char *p, const char *s)
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

int
pf_irc_line_ok(const char *line, size_t len)
{
	return len >= 2 && len <= 512 && line[len - 1] == '\n' &&
	       line[len - 2] == '\r' && !memchr(line, '\n', len - 1) &&
	       !memchr(line, '\r', len - 2) && !memchr(line, '\0', len);
}

int
pf_irc_parse(struct pf_conn *f, const char *line, struct core_op *ops)
{
	return proto_irc.parse(&f->pc, line, strlen(line), ops);
}

int
pf_irc_reply(struct pf_conn *f, enum core_op_kind pending,
	     const struct outbox_new *r, struct core_op *ops)
{
	const struct outbox_view *v = pf_rec_view(r);

	f->pc.pending = pending;
	return v ? proto_irc.deliver(&f->pc, v, ops) : 0;
}

void
pf_irc_open(struct pf_conn *f)
{
	struct core_op ops[PROTO_OPS_MAX];

	if (f->pc.state)
		proto_irc.close(&f->pc);
	memset(&f->pc, 0, sizeof(f->pc));
	f->pc.proto = &proto_irc;
	f->pc.env = &pf_env;
	f->pc.id = PF_CLIENT_ID;
	f->pc.emit = pf_emit_cb;
	f->line_ok = pf_irc_line_ok;
	snprintf(f->pc.nick, sizeof(f->pc.nick), "guest1");
	CHECK(proto_irc.open(&f->pc, ops) == 0);
}
