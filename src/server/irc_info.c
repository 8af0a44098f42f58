/*
 * irc_info: what IRC clients ask about others and the server: WHO,
 * WHOIS, USERHOST, ISON, LUSERS, MOTD, VERSION, TIME, and AWAY, and the
 * numerics that answer them. Session processes. Invariant: every request
 * ends in exactly its end numeric (315, 318, 302, 303, 376 or 422, 305 or
 * 306), sent on the REPLY, after whatever records it brought.
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include "server/names.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t
irc_id(const struct outbox_view *v, unsigned i)
{
	uint64_t x = 0;

	if (i < v->rec->nids)
		memcpy(&x, &v->ids[i], sizeof(x));
	return x;
}

static long long
irc_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* What the client named, kept to quote it back at the end. */
static void
irc_remember(struct pconn *pc, struct core_str s)
{
	struct irc_state *st = irc_state(pc);

	snprintf(st->target, sizeof(st->target), "%s", irc_str(s));
}

/* Joins params[first..] with spaces into scratch (the nicknames of
 * USERHOST and ISON, which may come as several or in one). */
static struct core_str
irc_join_params(const struct irc_msg *m, unsigned first, unsigned max)
{
	size_t len = 0;
	char *p = NULL;

	for (unsigned i = first; i < m->nparams && i < first + max; i++) {
		char *q = irc_keep(i == first ? "" : " ", i == first ? 0 : 1);
		char *r = irc_keep(m->params[i].p, m->params[i].n);
		if (!q || !r)
			break;
		if (!p)
			p = q;
		len += (i == first ? 0 : 1) + m->params[i].n;
	}
	return (struct core_str){p ? p : "", p ? len : 0};
}

/* ---- commands ----------------------------------------------------------- */

int
irc_cmd_who(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct core_str mask = m->nparams && m->params[0].n
				   ? m->params[0]
				   : (struct core_str){"*", 1};

	irc_remember(pc, mask);
	if (mask.n == 1 && mask.p[0] == '0')
		mask = (struct core_str){"*", 1}; /* RFC 1459: everyone */
	if (mask.p[0] == '#')
		ops[0] = (struct core_op){.kind = CORE_WHO, .room = mask};
	else
		ops[0] = (struct core_op){.kind = CORE_WHO, .arg = mask};
	return 1;
}

int
irc_cmd_whois(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	/* WHOIS [server] nick: the nick comes last; of a list, the first. */
	struct core_str nick = m->params[m->nparams - 1];

	const char *comma = memchr(nick.p, ',', nick.n);

	if (comma)
		nick.n = (size_t)(comma - nick.p);
	irc_remember(pc, nick);
	ops[0] = (struct core_op){.kind = CORE_WHOIS, .arg = nick};
	return 1;
}

int
irc_cmd_userhost(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)pc;
	ops[0] =
	    (struct core_op){.kind = CORE_USERS,
			     .text = irc_join_params(m, 0, IRC_USERHOST_MAX)};
	return 1;
}

int
irc_cmd_ison(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)pc;
	ops[0] = (struct core_op){
	    .kind = CORE_USERS, .text = irc_join_params(m, 0, IRC_PARAMS_MAX)};
	return 1;
}

int
irc_cmd_lusers(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)pc;
	(void)m;
	ops[0] = (struct core_op){.kind = CORE_LUSERS};
	return 1;
}

int
irc_cmd_motd(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)pc;
	(void)m;
	ops[0] = (struct core_op){.kind = CORE_MOTD};
	return 1;
}

int
irc_cmd_version(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)m;
	(void)ops;
	irc_num(pc, RPL_VERSION, PARLEY_VERSION, pc->env->cfg->server_name);
	irc_isupport(pc);
	return 0;
}

int
irc_cmd_time(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	char when[64];
	time_t t = time(NULL);
	struct tm tm;

	(void)m;
	(void)ops;
	if (!gmtime_r(&t, &tm) ||
	    !strftime(when, sizeof(when), "%A %B %d %Y -- %H:%M:%S UTC", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)t);
	irc_num(pc, RPL_TIME, pc->env->cfg->server_name, when);
	return 0;
}

/* INFO [server]: a few 371 lines and 374; 402 for another server. */
int
irc_cmd_info(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	const char *server = pc->env->cfg->server_name;

	(void)ops;
	if (m->nparams && m->params[0].n) {
		const char *target = irc_str(m->params[0]);
		if (!names_mask_match(target, server)) {
			irc_num(pc, ERR_NOSUCHSERVER, target);
			return 0;
		}
	}
	irc_num(pc, RPL_INFO, "parley-" PARLEY_VERSION);
	irc_num(pc, RPL_INFO, "a chat server for plain, IRC and web clients");
	irc_num(pc, RPL_ENDOFINFO);
	return 0;
}

int
irc_cmd_away(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	struct core_str text = m->nparams ? m->params[0] : (struct core_str){0};
	char *copy;
	size_t n = 0;

	/* AWAYLEN is the limit; a CTCP byte is no text. */
	if (text.n > CONFIG_AWAY_MAX)
		text.n = CONFIG_AWAY_MAX;
	copy = irc_keep(text.p, text.n);
	for (size_t i = 0; copy && i < text.n; i++)
		if (text.p[i] != '\001')
			copy[n++] = text.p[i];
	st->away_set = n > 0;
	ops[0] = (struct core_op){.kind = CORE_AWAY, .text = {copy, n}};
	return 1;
}

/* ---- what the server says about clients --------------------------------- */

/* The room prefixes of member bits (@, +; both with multi-prefix). */
static size_t
irc_member_prefix(const struct pconn *pc, unsigned aux, char *out)
{
	unsigned caps = irc_state(pc)->caps;
	size_t n = 0;

	if (aux & OUTBOX_MEMBER_OP)
		out[n++] = '@';
	if ((aux & OUTBOX_MEMBER_VOICE) &&
	    (!(aux & OUTBOX_MEMBER_OP) || (caps & IRC_CAP_MULTI_PREFIX)))
		out[n++] = '+';
	out[n] = '\0';
	return n;
}

/* WHO's flags: H(ere) or G(one), * for a server operator (Modern IRC),
 * then the room prefixes. */
static void
irc_who_flags(const struct pconn *pc, unsigned aux, char *out)
{
	size_t n = 0;

	out[n++] = aux & OUTBOX_MEMBER_AWAY ? 'G' : 'H';
	if (aux & OUTBOX_USER_OPER)
		out[n++] = '*';
	irc_member_prefix(pc, aux, out + n);
}

/* 319's list: each room with the client's prefix in it (ids[i]). */
static void
irc_whois_rooms(struct pconn *pc, const struct outbox_view *v)
{
	char nick[OUTBOX_NICK_MAX + 1], prefix[OUTBOX_NICK_MAX + 16];
	char list[CONFIG_ROOMS_PER_CLIENT_MAX * (OUTBOX_ROOM_MAX + 4)];
	size_t len = 0, i = 0;

	for (unsigned k = 0; i < v->text.n && len + 4 < sizeof(list); k++) {
		size_t w = 0;
		while (i + w < v->text.n && v->text.p[i + w] != ' ')
			w++;
		if (len)
			list[len++] = ' ';
		len +=
		    irc_member_prefix(pc, (unsigned)irc_id(v, k), list + len);
		if (w > sizeof(list) - 1 - len)
			w = sizeof(list) - 1 - len;
		memcpy(list + len, v->text.p + i, w);
		len += w;
		i += w + 1;
	}
	snprintf(prefix, sizeof(prefix), RPL_WHOISCHANNELS,
		 irc_cstr(nick, sizeof(nick), v->nick));
	irc_num_list(pc, prefix, list, len);
}

static void
irc_collect(struct irc_state *st, const char *item)
{
	size_t n = strlen(item);

	if (st->collect_len + n + 2 > sizeof(st->collect))
		return;
	if (st->collect_len)
		st->collect[st->collect_len++] = ' ';
	memcpy(st->collect + st->collect_len, item, n + 1);
	st->collect_len += n;
}

static void
irc_user_info(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	const char *server = pc->env->cfg->server_name;
	char nick[OUTBOX_NICK_MAX + 1], user[OUTBOX_USER_MAX + 1],
	    host[OUTBOX_HOST_MAX + 1], room[OUTBOX_ROOM_MAX + 1];
	char real[IRC_LINELEN_MAX], away[IRC_LINELEN_MAX], item[256];
	unsigned aux = v->rec->aux;
	long long idle;

	irc_cstr(nick, sizeof(nick), v->nick);
	irc_cstr(user, sizeof(user), v->user);
	irc_cstr(host, sizeof(host), v->host);
	/* Clients of protocols without real names (plain) go by nick. */
	irc_cstr(real, sizeof(real), v->arg.n ? v->arg : v->nick);
	irc_cstr(away, sizeof(away), v->text);
	switch (st->cmd) {
	case IRC_CMD_WHO:
		irc_who_flags(pc, aux, item);
		irc_num(pc, RPL_WHOREPLY,
			v->room.n ? irc_cstr(room, sizeof(room), v->room) : "*",
			user, host, server, nick, item, real);
		break;
	case IRC_CMD_WHOIS:
		irc_num(pc, RPL_WHOISUSER, nick, user, host, real);
		irc_num(pc, RPL_WHOISSERVER, nick, server, IRC_SERVER_INFO);
		if (aux & OUTBOX_USER_OPER)
			irc_num(pc, RPL_WHOISOPERATOR, nick);
		if (aux & OUTBOX_USER_SECURE)
			irc_num(pc, RPL_WHOISSECURE, nick);
		if (v->acct.n)
			irc_num(pc, RPL_WHOISACCOUNT, nick,
				irc_cstr(item, sizeof(item), v->acct));
		if (v->text.n)
			irc_num(pc, RPL_AWAY, nick, away);
		idle = (irc_now_ms() - (long long)irc_id(v, 1)) / 1000;
		irc_num(pc, RPL_WHOISIDLE, nick, idle < 0 ? 0 : idle,
			(long long)(irc_id(v, 0) / 1000));
		break;
	case IRC_CMD_USERHOST:
		/* nick*=+user@host: * for a server operator. */
		snprintf(item, sizeof(item), "%s%s=%c%s@%s", nick,
			 aux & OUTBOX_USER_OPER ? "*" : "",
			 v->text.n ? '-' : '+', user, host);
		irc_collect(st, item);
		break;
	case IRC_CMD_ISON:
		irc_collect(st, nick);
		break;
	default:
		break;
	}
}

static void
irc_lusers(struct pconn *pc, const struct outbox_view *v)
{
	unsigned long long users = irc_id(v, 0), unknown = irc_id(v, 1);
	unsigned long long rooms = irc_id(v, 2), most = irc_id(v, 3);

	/* One server: its clients are all the network's. */
	irc_num(pc, RPL_LUSERCLIENT, users);
	if (unknown)
		irc_num(pc, RPL_LUSERUNKNOWN, unknown);
	irc_num(pc, RPL_LUSERCHANNELS, rooms);
	irc_num(pc, RPL_LUSERME, users);
	irc_num(pc, RPL_LOCALUSERS, users, most, users, most);
	irc_num(pc, RPL_GLOBALUSERS, users, most, users, most);
}

void
irc_info_deliver(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	char line[IRC_LINELEN_MAX];

	switch (v->rec->kind) {
	case OUTBOX_USER_INFO:
		irc_user_info(pc, v);
		break;
	case OUTBOX_USER_ROOMS:
		if (v->text.n)
			irc_whois_rooms(pc, v);
		break;
	case OUTBOX_LUSERS:
		irc_lusers(pc, v);
		break;
	case OUTBOX_MOTD:
		if (!st->opened++)
			irc_num(pc, RPL_MOTDSTART, pc->env->cfg->server_name);
		irc_num(pc, RPL_MOTD, irc_cstr(line, sizeof(line), v->text));
		break;
	default:
		break;
	}
}

void
irc_info_reply(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	enum core_err err = (enum core_err)v->rec->aux;

	switch (pc->pending) {
	case CORE_WHO:
		irc_num(pc, RPL_ENDOFWHO, st->target);
		break;
	case CORE_WHOIS:
		if (err != CORE_OK)
			irc_num(pc, ERR_NOSUCHNICK, st->target);
		irc_num(pc, RPL_ENDOFWHOIS, st->target);
		break;
	case CORE_USERS:
		if (st->cmd == IRC_CMD_ISON)
			irc_num(pc, RPL_ISON,
				st->collect_len ? st->collect : "");
		else
			irc_num(pc, RPL_USERHOST,
				st->collect_len ? st->collect : "");
		break;
	case CORE_MOTD:
		if (err != CORE_OK)
			irc_num(pc, ERR_NOMOTD);
		else
			irc_num(pc, RPL_ENDOFMOTD);
		break;
	case CORE_AWAY:
		if (st->away_set)
			irc_num(pc, RPL_NOWAWAY);
		else
			irc_num(pc, RPL_UNAWAY);
		break;
	default:
		break;
	}
}
