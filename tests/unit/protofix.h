/*
 * protofix: a connection as a session holds it, for the unit tests of the
 * protocols through struct proto (test_proto_irc, test_proto_plain):
 * every emitted line collected and checked, the fixture rooms, records
 * written to a real ring and read back as sessions do. Runs in the test
 * process.
 */
#ifndef PARLEY_TEST_PROTOFIX_H
#define PARLEY_TEST_PROTOFIX_H

#include "server/proto.h"

#include <stddef.h>
#include <stdint.h>

#define PF_CLIENT_ID 7

/* Rooms the fixtures use; a room's id is its index + 1. */
extern const char *const pf_room_names[4];

struct pf_conn {
	struct pconn pc; /* first: the emit callback casts back */
	struct proto_room rooms[CONFIG_ROOMS_PER_CLIENT_MAX];
	char out[128 * 1024]; /* every emitted line, in order */
	size_t out_len;
	int lines;
	int bad_lines; /* lines line_ok said no to */
	int overflow;  /* out was full: lines were lost */
	/* The protocol's framing: whether one emitted line is well formed. */
	int (*line_ok)(const char *line, size_t len);
};

/* The configuration, ring and environment connections are opened with
 * (pc.env = &pf_env). */
extern struct config pf_cfg;
extern struct outbox_shm pf_shm;
extern struct proto_env pf_env;

/* Defaults in pf_cfg, and a ring with one writer. 0, or -1 (said on
 * stderr). */
int pf_init(void);

/* The emit callback: appends the line to out, counting it and whether
 * line_ok took it. */
void pf_emit_cb(struct pconn *pc, const char *line, size_t len);

/* Forgets what was emitted. */
void pf_clear(struct pf_conn *f);

/* The id of a fixture room, or 0. */
uint64_t pf_room_id(const char *name);

/* Writes rec to the ring and reads it back: a view valid until the next
 * call, or NULL after a failed check. */
const struct outbox_view *pf_rec_view(const struct outbox_new *rec);

/* A malloc'd copy of exactly len bytes of s (one byte when empty): ASan
 * sees any read past len. Aborts if out of memory. */
char *pf_exact_copy(const char *s, size_t len);

/* ---- IRC ---------------------------------------------------------------- */

/* Whether s matches the pattern p, where '*' stands for any run of bytes. */
int pf_match(const char *p, const char *s);

/* IRC's framing, for line_ok: one line ending in CR LF, no other CR, LF or
 * NUL, at most 512 bytes. */
int pf_irc_line_ok(const char *line, size_t len);

/* proto_irc's parse of one line (no CR LF); returns the ops it made. */
int pf_irc_parse(struct pf_conn *f, const char *line, struct core_op *ops);

/* The REPLY r of the request pending, delivered; returns its ops. */
int pf_irc_reply(struct pf_conn *f, enum core_op_kind pending,
		 const struct outbox_new *r, struct core_op *ops);

/* (Re)opens f as a new IRC connection named guest1 (closing what it was);
 * its welcome-less greeting, if any, is left in out. */
void pf_irc_open(struct pf_conn *f);

#endif
