/*
 * irc_chanserv: ChanServ, the IRC face of registered rooms: PRIVMSG
 * ChanServ :REGISTER|DROP|INFO #room, or HELP, turned into core
 * operations; every answer is a NOTICE from ChanServ. Pure; session
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

static void irc_chanserv_say(struct pconn *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
irc_chanserv_say(struct pconn *pc, const char *fmt, ...)
{
	char text[IRC_LINELEN_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	irc_send(pc, ":%s!%s@%s NOTICE %s :%s", IRC_CHANSERV, IRC_CHANSERV,
		 pc->env->cfg->server_name, irc_client(pc), text);
}

int
irc_chanserv_is(struct core_str target)
{
	return target.n == strlen(IRC_CHANSERV) &&
	       strncasecmp(target.p, IRC_CHANSERV, target.n) == 0;
}

/* The commands ChanServ knows, each one core operation on a #room. */
static const struct irc_chanserv_cmd {
	const char *name;
	enum core_op_kind op;
	const char *help;
} irc_chanserv_cmds[] = {
    {"REGISTER", CORE_ROOM_REGISTER,
     "REGISTER #room: register a room you run to your account"},
    {"DROP", CORE_ROOM_DROP, "DROP #room: unregister your room"},
    {"INFO", CORE_ROOM_INFO, "INFO #room: who registered a room, and when"},
};

#define IRC_CHANSERV_NCMDS                                                     \
	(sizeof(irc_chanserv_cmds) / sizeof(irc_chanserv_cmds[0]))

static struct core_str
irc_chanserv_word(const char *s, size_t n, size_t *at)
{
	size_t i = *at, start;

	while (i < n && s[i] == ' ')
		i++;
	start = i;
	while (i < n && s[i] != ' ')
		i++;
	*at = i;
	return (struct core_str){s + start, i - start};
}

int
irc_chanserv_line(struct pconn *pc, const char *text, size_t n,
		  struct core_op *ops)
{
	size_t at = 0;
	struct core_str cmd = irc_chanserv_word(text, n, &at);
	struct core_str room = irc_chanserv_word(text, n, &at);
	const struct irc_chanserv_cmd *c = NULL;

	for (size_t i = 0; i < IRC_CHANSERV_NCMDS && !c; i++)
		if (cmd.n == strlen(irc_chanserv_cmds[i].name) &&
		    strncasecmp(cmd.p, irc_chanserv_cmds[i].name, cmd.n) == 0)
			c = &irc_chanserv_cmds[i];
	if (!c) {
		if (cmd.n &&
		    (cmd.n != 4 || strncasecmp(cmd.p, "HELP", 4) != 0)) {
			irc_chanserv_say(pc, "Unknown command %s; /msg %s HELP",
					 irc_str(cmd), IRC_CHANSERV);
			return 0;
		}
		irc_chanserv_say(pc,
				 "%s keeps registered rooms: their "
				 "modes, bans, topic and operators",
				 IRC_CHANSERV);
		for (size_t i = 0; i < IRC_CHANSERV_NCMDS; i++)
			irc_chanserv_say(pc, "%s", irc_chanserv_cmds[i].help);
		return 0;
	}
	if (!room.n || room.p[0] != '#') {
		irc_chanserv_say(pc, "Syntax: %s", c->help);
		return 0;
	}
	ops[0] = (struct core_op){.kind = c->op, .room = room};
	return 1;
}

static int
irc_chanserv_error(struct pconn *pc, enum core_err err, const char *r,
		   const char *a)
{
	switch (err) {
	case CORE_ERR_ROOM_REGISTERED:
		irc_chanserv_say(pc, "%s is already registered to %s", r, a);
		return 1;
	case CORE_ERR_ROOM_UNREGISTERED:
		irc_chanserv_say(pc, "%s is not registered", r);
		return 1;
	case CORE_ERR_NOT_FOUNDER:
		irc_chanserv_say(pc,
				 "Access denied: only %s, the founder of "
				 "%s, may do that",
				 a, r);
		return 1;
	case CORE_ERR_ROOM_SERVERS:
		irc_chanserv_say(pc, "%s belongs to the server", r);
		return 1;
	case CORE_ERR_NOT_LOGGED_IN:
		irc_chanserv_say(pc, "You must be logged in to an account "
				     "(NickServ or /login) to do that");
		return 1;
	case CORE_ERR_CHANOP_NEEDED:
		irc_chanserv_say(pc, "You must be an operator of %s", r);
		return 1;
	case CORE_ERR_NO_SUCH_ROOM:
		irc_chanserv_say(pc, "%s does not exist; join it first", r);
		return 1;
	case CORE_ERR_NO_STORE:
		irc_chanserv_say(pc, "This server keeps no rooms (no "
				     "database)");
		return 1;
	case CORE_ERR_STORE_DOWN:
	case CORE_ERR_UNAVAILABLE:
		irc_chanserv_say(pc, "Try again later");
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
		irc_chanserv_say(pc, "%s is now registered to %s", r, a);
		break;
	case CORE_ROOM_DROP:
		irc_chanserv_say(pc, "%s has been dropped", r);
		break;
	default:
		irc_chanserv_say(pc, "Information on %s:", r);
		irc_chanserv_say(pc, "Founder    : %s", a);
		irc_chanserv_say(pc, "Registered : %s", when);
		break;
	}
}

size_t
irc_refusal_reason(enum proto_refusal why, const char *reason, char *out,
		   size_t n)
{
	char text[512];
	int len;

	if (why != PROTO_REFUSE_BANNED || !reason[0])
		return proto_get(PROTO_IRC)->refusal(why, 0, out, n);
	snprintf(text, sizeof(text), IRC_REFUSE_BANNED " (%.300s)", reason);
	len = snprintf(out, n, "465 * :%s\r\n" IRC_ERROR "\r\n", text, text);
	if (len < 0 || n == 0)
		return 0;
	return (size_t)len < n ? (size_t)len : n - 1;
}
