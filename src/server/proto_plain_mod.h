/*
 * proto_plain_mod: the plain protocol's moderation commands and lines
 * (/op, /kick, /ban, /mode, /oper, /kill, /wall, /gline...), kept apart
 * from proto_plain.c, which calls in here. Pure, as every protocol: run
 * by session processes and fuzzed with proto_plain.
 */
#ifndef PARLEY_PROTO_PLAIN_MOD_H
#define PARLEY_PROTO_PLAIN_MOD_H

#include "server/proto.h"

/* The command name[0..nlen) with its arguments args[0..alen), in the
 * current room cur (NULL: none): the operations (at most one), or 0 with
 * its usage error emitted; -1 when it is no moderation command. */
int plain_mod_parse(struct pconn *pc, const char *name, size_t nlen,
		    const char *args, size_t alen, const struct proto_room *cur,
		    struct core_op *ops);

/* Emits the help lines of the moderation commands. */
void plain_mod_help(struct pconn *pc);

/* The line of a moderation event (OUTBOX_MODE, KICK, WALL) into out;
 * its length, 0 for other kinds. */
size_t plain_mod_format(const struct outbox_view *v, enum proto_role role,
			char *out);

/* A record for this client about moderation (INVITE, BAN_INFO, a
 * ROOM_INFO answering /mode, a successful REPLY to a moderation request):
 * emits its lines. Returns 1 if it was one, else 0. */
int plain_mod_deliver(struct pconn *pc, const struct outbox_view *v);

/* Emits the wording of a moderation error; returns 0 if err is none. */
int plain_mod_error(struct pconn *pc, enum core_err err, struct outbox_str room,
		    struct outbox_str arg, long num);

#endif
