/*
 * proto_plain_int: what the plain protocol's two files share:
 * proto_plain.c (the command table, parsing, the wording of the chat),
 * proto_plain_format.c (broadcast lines) and proto_plain_store.c (the history
 * and account commands and their wording). Pure; run by sessions.
 */
#ifndef PARLEY_PROTO_PLAIN_INT_H
#define PARLEY_PROTO_PLAIN_INT_H

#include "server/proto.h"

/* Where /history goes on from in one room: before the oldest stored
 * message shown, or before the join. */
struct plain_page {
	uint64_t room; /* 0: unused */
	int64_t seq;   /* oldest shown; 0: none yet */
	int64_t ms;    /* when the client joined */
};

struct plain_state {
	uint64_t current; /* room id; 0: none */
	char reason[16];  /* the default quit reason */
	struct plain_page pages[CONFIG_ROOMS_PER_CLIENT_MAX];
};

/* The commands of proto_plain_store.c, in the order of their rows. */
enum plain_store_cmd {
	PLAIN_STORE_HISTORY,
	PLAIN_STORE_REGISTER,
	PLAIN_STORE_LOGIN,
	PLAIN_STORE_LOGOUT,
	PLAIN_STORE_PASSWORD,
	PLAIN_STORE_UNREGISTER,
};

/* The line of broadcast record v for a member (or, role AUTHOR, its
 * author) into out (PROTO_LINE_MAX); returns its length, 0 for none. */
size_t plain_format(const struct proto_env *env, const struct outbox_view *v,
		    unsigned variant, enum proto_role role, char *out);

void plain_emitf(struct pconn *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void plain_error_text(struct pconn *pc, const char *text);

/* A history or account command with its word and text: fills op and
 * returns 1, or emits a usage error and returns 0. usage is its row's. */
int plain_store_command(struct pconn *pc, enum plain_store_cmd cmd,
			struct core_str word, struct core_str text,
			const char *usage, struct core_op *op);

/* Emits the line of an OUTBOX_HISTORY record. */
void plain_history(struct pconn *pc, const struct outbox_view *v);

/* Emits the line of a store error (CORE_ERR_STORE_DOWN and after). */
void plain_store_error(struct pconn *pc, enum core_err err,
		       struct outbox_str room, struct outbox_str arg, long num);

/* The success line of a history or account request, if pc->pending is
 * one. */
void plain_store_reply(struct pconn *pc, const struct outbox_view *v);

/* A stored message was shown / pc joined a room: where /history goes
 * on from. */
void plain_store_seen(struct pconn *pc, const struct outbox_view *v);
void plain_store_joined(struct pconn *pc, const struct outbox_view *v);

#endif
