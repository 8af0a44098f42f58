/*
 * irc_mode: IRC's moderation commands (MODE, KICK, INVITE, OPER, KILL,
 * WALLOPS, GLINE, UNGLINE) and what the server says about them (324,
 * 341, 367/368, 381, the 4xx errors). Session processes; pure like every
 * protocol. The supervisor decides (supervisor_mod.c): these only shape
 * what the client typed into operations and the answers into lines.
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include "lib/line.h"
#include "server/modes.h"
#include "server/names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
irc_mode_room_ok(struct core_str name)
{
	char room[CONFIG_ROOM_MAX + 2];

	if (name.n < 2 || name.n > CONFIG_ROOM_MAX + 1)
		return 0;
	memcpy(room, name.p, name.n);
	room[name.n] = '\0';
	return names_room_valid(room);
}

/* Parameters from..nparams joined by spaces, in scratch space (whose
 * pieces, kept one after another, are contiguous). */
static struct core_str
irc_mode_join(const struct irc_msg *m, unsigned from)
{
	char *start = NULL;
	size_t n = 0;

	for (unsigned i = from; i < m->nparams; i++) {
		char *sep = i > from ? irc_keep(" ", 1) : NULL;
		char *p = irc_keep(m->params[i].p, m->params[i].n);
		if (!p || (i > from && !sep))
			return (struct core_str){"", 0};
		if (!start)
			start = p;
		n += m->params[i].n + (i > from);
	}
	return start ? (struct core_str){start, n} : (struct core_str){"", 0};
}

/* MODE of a room: a query (324, 329), the ban list (367, 368) or
 * changes, which the supervisor checks and announces. */
static int
irc_mode_room(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	struct core_str r = m->params[0], text;

	snprintf(st->target, sizeof(st->target), "%s", irc_str(r));
	if (!irc_mode_room_ok(r)) {
		irc_num(pc, ERR_NOSUCHCHANNEL, st->target);
		return 0;
	}
	text = irc_mode_join(m, 1);
	st->opened = 0;
	/* "b" or "+b" alone asks for the list. */
	st->mode_list =
	    m->nparams == 2 && ((text.n == 1 && text.p[0] == 'b') ||
				(text.n == 2 && memcmp(text.p, "+b", 2) == 0));
	ops[0] = (struct core_op){.kind = CORE_MODE, .room = r, .text = text};
	return 1;
}

int
irc_cmd_mode(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct core_str t = m->params[0];
	int add = 1, wall = !pc->no_wall, unknown = 0;

	if (t.n > 0 && t.p[0] == '#')
		return irc_mode_room(pc, m, ops);
	/* A user: the client itself. Its modes are o (a server operator,
	 * which only OPER gives: MODE +o and -o are ignored, as Modern IRC
	 * says of +o) and w (it gets WALLOPS; on until it asks otherwise). */
	if (t.n != strlen(pc->nick) || strncasecmp(t.p, pc->nick, t.n) != 0) {
		irc_num(pc, ERR_USERSDONTMATCH);
		return 0;
	}
	if (m->nparams < 2) {
		irc_num(pc, RPL_UMODEIS, irc_state(pc)->oper ? "o" : "",
			pc->no_wall ? "" : "w");
		return 0;
	}
	for (size_t i = 0; i < m->params[1].n; i++) {
		char f = m->params[1].p[i];
		if (f == '+' || f == '-')
			add = f == '+';
		else if (f == 'w')
			wall = add;
		else if (f != 'o')
			unknown = 1;
	}
	if (unknown)
		irc_num(pc, ERR_UMODEUNKNOWNFLAG);
	if (wall == !pc->no_wall)
		return 0;
	pc->no_wall = !wall;
	irc_send(pc, ":%s MODE %s :%cw", pc->nick, pc->nick, wall ? '+' : '-');
	return 0;
}

/* The i-th item (from 0) of a comma-separated list; n 0 when none. */
static struct core_str
irc_mode_item(struct core_str list, unsigned i)
{
	size_t at = 0;

	for (;;) {
		size_t k = 0;
		while (at + k < list.n && list.p[at + k] != ',')
			k++;
		if (!i--)
			return (struct core_str){list.p + at, k};
		if (at + k >= list.n)
			return (struct core_str){list.p + list.n, 0};
		at += k + 1;
	}
}

/* KICK #room[,#room...] nick[,nick...] [:reason]: one room for every
 * nick, or the i-th room for the i-th nick (RFC 2812). */
int
irc_cmd_kick(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct core_str rooms = m->params[0], list = m->params[1];
	struct core_str why =
	    m->nparams > 2 ? m->params[2]
			   : (struct core_str){pc->nick, strlen(pc->nick)};
	int one = !memchr(rooms.p, ',', rooms.n);
	int n = 0;

	for (unsigned i = 0; n < IRC_TARGETS_MAX; i++) {
		struct core_str nick = irc_mode_item(list, i);
		struct core_str r = one ? rooms : irc_mode_item(rooms, i);
		if (!nick.n && nick.p == list.p + list.n)
			break;
		if (!nick.n)
			continue;
		if (!irc_mode_room_ok(r)) {
			irc_num(pc, ERR_NOSUCHCHANNEL, irc_str(r));
			if (one)
				return 0;
			continue;
		}
		ops[n++] = (struct core_op){
		    .kind = CORE_KICK, .room = r, .arg = nick, .text = why};
	}
	return n;
}

/* INVITE nick #room */
int
irc_cmd_invite(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	if (!irc_mode_room_ok(m->params[1])) {
		irc_num(pc, ERR_NOSUCHCHANNEL, irc_str(m->params[1]));
		return 0;
	}
	ops[0] = (struct core_op){
	    .kind = CORE_INVITE, .room = m->params[1], .arg = m->params[0]};
	return 1;
}

int
irc_cmd_oper(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)pc;
	ops[0] = (struct core_op){
	    .kind = CORE_OPER, .arg = m->params[0], .text = m->params[1]};
	return 1;
}

int
irc_cmd_kill(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)pc;
	ops[0] = (struct core_op){
	    .kind = CORE_KILL,
	    .arg = m->params[0],
	    .text = m->nparams > 1 ? m->params[1] : (struct core_str){"", 0}};
	return 1;
}

int
irc_cmd_wallops(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)pc;
	ops[0] = (struct core_op){.kind = CORE_WALL, .text = m->params[0]};
	return 1;
}

/* GLINE (list), GLINE mask [:reason], UNGLINE mask. */
int
irc_cmd_gline(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	int remove = irc_state(pc)->cmd == IRC_CMD_UNGLINE;

	if (m->nparams == 0) {
		if (remove) {
			irc_num(pc, ERR_NEEDMOREPARAMS, "UNGLINE");
			return 0;
		}
		ops[0] = (struct core_op){.kind = CORE_GLINE,
					  .flags = CORE_GLINE_LIST};
		return 1;
	}
	ops[0] = (struct core_op){.kind = CORE_GLINE,
				  .flags = remove ? CORE_GLINE_REMOVE : 0,
				  .arg = m->params[0],
				  .text = m->nparams > 1 && !remove
					      ? m->params[1]
					      : (struct core_str){"", 0}};
	return 1;
}

/* ---- what the server says ----------------------------------------------- */

static uint64_t
irc_mode_id(const struct outbox_view *v)
{
	uint64_t x = 0;

	if (v->rec->nids)
		memcpy(&x, &v->ids[0], sizeof(x));
	return x;
}

void
irc_mode_deliver(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	char room[OUTBOX_ROOM_MAX + 1], mask[OUTBOX_ARG_MAX + 1],
	    by[OUTBOX_NICK_MAX + 1];

	irc_cstr(room, sizeof(room), v->room);
	irc_cstr(mask, sizeof(mask), v->arg);
	irc_cstr(by, sizeof(by), v->nick);
	if (v->rec->kind == OUTBOX_INVITE) {
		irc_send(pc, ":%.*s!%.*s@%.*s INVITE %s %s", (int)v->nick.n,
			 v->nick.p, (int)v->user.n, v->user.p, (int)v->host.n,
			 v->host.p, pc->nick, room);
		return;
	}
	if (v->rec->kind != OUTBOX_BAN_INFO)
		return;
	st->opened = 1;
	if (v->room.n)
		irc_num(pc, RPL_BANLIST, room, mask, by,
			(long long)(irc_mode_id(v) / 1000));
	else
		irc_send(pc, ":%s NOTICE %s :G-line %s set by %s: %.*s",
			 pc->env->cfg->server_name, pc->nick, mask, by,
			 (int)v->text.n, v->text.p);
}

void
irc_mode_reply(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	char room[OUTBOX_ROOM_MAX + 1], arg[OUTBOX_ARG_MAX + 1];

	if (v->rec->aux != CORE_OK) {
		pc->proto->error(pc, (enum core_err)v->rec->aux, v->room,
				 v->arg, (long)irc_mode_id(v));
		return;
	}
	irc_cstr(room, sizeof(room), v->room);
	irc_cstr(arg, sizeof(arg), v->arg);
	switch (pc->pending) {
	case CORE_MODE:
	case CORE_BANS:
		/* A ban list ends, even an empty one. */
		if (st->opened || pc->pending == CORE_BANS || st->mode_list)
			irc_num(pc, RPL_ENDOFBANLIST,
				room[0] ? room : st->target);
		break;
	case CORE_INVITE:
		irc_num(pc, RPL_INVITING, arg, room);
		break;
	case CORE_OPER:
		st->oper = 1;
		irc_num(pc, RPL_YOUREOPER);
		/* Modern IRC: the new user mode follows 381. */
		irc_send(pc, ":%s MODE %s :+o", pc->nick, pc->nick);
		break;
	case CORE_GLINE:
		if (!arg[0])
			irc_send(pc, ":%s NOTICE %s :End of G-lines",
				 pc->env->cfg->server_name, pc->nick);
		else
			irc_send(pc, ":%s NOTICE %s :G-line on %s %s",
				 pc->env->cfg->server_name, pc->nick, arg,
				 irc_mode_id(v) == CORE_GLINE_REMOVE ? "lifted"
								     : "set");
		break;
	default:
		break;
	}
}

int
irc_mode_error(struct pconn *pc, enum core_err err, const char *r,
	       const char *a)
{
	switch (err) {
	case CORE_ERR_CHANOP_NEEDED:
		irc_num(pc, ERR_CHANOPRIVSNEEDED, r);
		break;
	case CORE_ERR_USER_NOT_IN:
		irc_num(pc, ERR_USERNOTINCHANNEL, a, r);
		break;
	case CORE_ERR_USER_ON_ROOM:
		irc_num(pc, ERR_USERONCHANNEL, a, r);
		break;
	case CORE_ERR_UNKNOWN_MODE:
		irc_num(pc, ERR_UNKNOWNMODE, a);
		break;
	case CORE_ERR_ROOM_FULL:
		irc_num(pc, ERR_CHANNELISFULL, r);
		break;
	case CORE_ERR_INVITE_ONLY:
		irc_num(pc, ERR_INVITEONLYCHAN, r);
		break;
	case CORE_ERR_BANNED:
		irc_num(pc, ERR_BANNEDFROMCHAN, r);
		break;
	case CORE_ERR_BAD_KEY:
		irc_num(pc, ERR_BADCHANNELKEY, r);
		break;
	case CORE_ERR_CANNOT_SEND:
		irc_num(pc, ERR_CANNOTSENDTOMOD, r);
		break;
	case CORE_ERR_OPER_FAILED:
		irc_num(pc, ERR_PASSWDMISMATCH);
		break;
	case CORE_ERR_NO_OPER_NAME:
		irc_num(pc, ERR_NOOPERHOST);
		break;
	case CORE_ERR_NOT_OPER:
		irc_num(pc, ERR_NOPRIVILEGES);
		break;
	case CORE_ERR_MODE_ARG:
		irc_num(pc, ERR_INVALIDMODEPARAM, r, a);
		break;
	case CORE_ERR_BAD_MASK:
		irc_num(pc, ERR_INVALIDMODEPARAM, r, "b");
		break;
	case CORE_ERR_BAN_LIST_FULL:
		irc_num(pc, ERR_BANLISTFULL, r);
		break;
	case CORE_ERR_NO_SUCH_BAN:
		break; /* lifting what is not there: nothing to say */
	default:
		return 0;
	}
	return 1;
}
