/*
 * irc_chanserv: ChanServ, the IRC face of registered rooms: PRIVMSG
 * ChanServ :REGISTER|DROP|INFO #room, or HELP, turned into core
 * operations (a row of irc_services.c's table); every answer is a NOTICE
 * from ChanServ. Pure; session
 * processes. Invariant: nothing here answers a NOTICE.
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define IRC_CHANSERV "ChanServ"

/* REGISTER, DROP and INFO: one core operation on the #room named. */
static int
chanserv_room(struct core_str words, struct core_op *op, enum core_op_kind kind)
{
	struct core_str room = irc_service_word(&words);

	if (!room.n || room.p[0] != '#')
		return -1;
	*op = (struct core_op){.kind = kind, .room = room};
	return 1;
}

static int
chanserv_register(struct pconn *pc, struct core_str words, struct core_op *op)
{
	(void)pc;
	return chanserv_room(words, op, CORE_ROOM_REGISTER);
}

static int
chanserv_drop(struct pconn *pc, struct core_str words, struct core_op *op)
{
	(void)pc;
	return chanserv_room(words, op, CORE_ROOM_DROP);
}

static int
chanserv_info(struct pconn *pc, struct core_str words, struct core_op *op)
{
	(void)pc;
	return chanserv_room(words, op, CORE_ROOM_INFO);
}

static int chanserv_help(struct pconn *pc, struct core_str words,
			 struct core_op *op);

static const struct irc_service_cmd chanserv_cmds[] = {
    {"REGISTER", "REGISTER #room: register a room you run to your account",
     chanserv_register},
    {"DROP", "DROP #room: unregister your room", chanserv_drop},
    {"INFO", "INFO #room: who registered a room, and when", chanserv_info},
    {"HELP", "HELP", chanserv_help},
};

static int
chanserv_help(struct pconn *pc, struct core_str words, struct core_op *op)
{
	(void)words;
	(void)op;
	irc_service_notice(pc, IRC_CHANSERV,
			   "%s keeps registered rooms: their modes, bans, "
			   "topic and operators",
			   IRC_CHANSERV);
	for (size_t i = 0; i < sizeof(chanserv_cmds) / sizeof(chanserv_cmds[0]);
	     i++)
		irc_service_notice(pc, IRC_CHANSERV, "  %s",
				   chanserv_cmds[i].usage);
	irc_service_notice(pc, IRC_CHANSERV, "End of help");
	return 0;
}

/* Its operations' replies come through irc_chanserv_reply (proto_irc.c
 * sends CORE_ROOM_* there), not the service table's reply. */
const struct irc_service irc_chanserv = {
    IRC_CHANSERV, chanserv_cmds,
    sizeof(chanserv_cmds) / sizeof(chanserv_cmds[0]), NULL};

static int
irc_chanserv_error(struct pconn *pc, enum core_err err, const char *r,
		   const char *a)
{
	switch (err) {
	case CORE_ERR_ROOM_REGISTERED:
		irc_service_notice(pc, IRC_CHANSERV,
				   "%s is already registered to %s", r, a);
		return 1;
	case CORE_ERR_ROOM_UNREGISTERED:
		irc_service_notice(pc, IRC_CHANSERV, "%s is not registered", r);
		return 1;
	case CORE_ERR_NOT_FOUNDER:
		irc_service_notice(pc, IRC_CHANSERV,
				   "Access denied: only %s, the founder of "
				   "%s, may do that",
				   a, r);
		return 1;
	case CORE_ERR_ROOM_SERVERS:
		irc_service_notice(pc, IRC_CHANSERV, "%s belongs to the server",
				   r);
		return 1;
	case CORE_ERR_NOT_LOGGED_IN:
		irc_service_notice(pc, IRC_CHANSERV,
				   "You must be logged in to an account "
				   "(NickServ or /login) to do that");
		return 1;
	case CORE_ERR_CHANOP_NEEDED:
		irc_service_notice(pc, IRC_CHANSERV,
				   "You must be an operator of %s", r);
		return 1;
	case CORE_ERR_NO_SUCH_ROOM:
		irc_service_notice(pc, IRC_CHANSERV,
				   "%s does not exist; join it first", r);
		return 1;
	case CORE_ERR_NO_STORE:
		irc_service_notice(pc, IRC_CHANSERV,
				   "This server keeps no rooms (no "
				   "database)");
		return 1;
	case CORE_ERR_STORE_DOWN:
	case CORE_ERR_UNAVAILABLE:
		irc_service_notice(pc, IRC_CHANSERV, "Try again later");
		return 1;
	default:
		return 0;
	}
}

void
irc_chanserv_reply(struct pconn *pc, const struct outbox_view *v)
{
	char r[IRC_TARGET_MAX + 1], a[IRC_TARGET_MAX + 1], when[32];
	uint64_t at = 0;
	struct tm tm;
	time_t secs;

	irc_cstr(r, sizeof(r), v->room);
	irc_cstr(a, sizeof(a), v->arg);
	if (v->rec->aux != CORE_OK) {
		if (!irc_chanserv_error(pc, (enum core_err)v->rec->aux, r, a))
			pc->proto->error(pc, (enum core_err)v->rec->aux,
					 v->room, v->arg, 0);
		return;
	}
	if (v->rec->nids)
		memcpy(&at, &v->ids[0], sizeof(at));
	secs = (time_t)(at / 1000);
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	switch (pc->pending) {
	case CORE_ROOM_REGISTER:
		irc_service_notice(pc, IRC_CHANSERV,
				   "%s is now registered to %s", r, a);
		break;
	case CORE_ROOM_DROP:
		irc_service_notice(pc, IRC_CHANSERV, "%s has been dropped", r);
		break;
	default:
		irc_service_notice(pc, IRC_CHANSERV, "Information on %s:", r);
		irc_service_notice(pc, IRC_CHANSERV, "Founder    : %s", a);
		irc_service_notice(pc, IRC_CHANSERV, "Registered : %s", when);
		break;
	}
}

size_t
irc_refusal_server(const char *server, enum proto_refusal why,
		   const char *reason, char *out, size_t n)
{
	char text[512];
	int len;

	if (why != PROTO_REFUSE_BANNED)
		return proto_get(PROTO_IRC)->refusal(why, 0, out, n);
	if (reason[0])
		snprintf(text, sizeof(text), IRC_REFUSE_BANNED " (%.300s)",
			 reason);
	else
		snprintf(text, sizeof(text), IRC_REFUSE_BANNED);
	/* 465 like every numeric: from the server, when it is named. */
	len = snprintf(out, n, "%s%s%s465 * :%s\r\n" IRC_ERROR "\r\n",
		       server ? ":" : "", server ? server : "",
		       server ? " " : "", text, text);
	if (len < 0 || n == 0)
		return 0;
	return (size_t)len < n ? (size_t)len : n - 1;
}

size_t
irc_refusal_reason(enum proto_refusal why, const char *reason, char *out,
		   size_t n)
{
	if (why != PROTO_REFUSE_BANNED || !reason[0])
		return proto_get(PROTO_IRC)->refusal(why, 0, out, n);
	return irc_refusal_server(NULL, why, reason, out, n);
}
