/*
 * proto_irc: the IRC front end (RFC 1459/2812 as the Modern IRC documents
 * describe them, with IRCv3 capabilities). Its surface reads in two
 * places: the command table below (what a client may send, and when) and
 * irc_numerics.h (every line the server sends). Run by session processes
 * and fuzzed: parse and format are pure, a client's state is pc->state.
 * This file holds the table, parsing, the format half (broadcast records,
 * built without printf: formatting runs once per delivery in the fork
 * model) and which family answers each record for one client.
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include "lib/line.h"
#include "server/lineout.h"
#include "server/names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- what a client may send --------------------------------------------- */

/* PRIVMSG first: it is most of the traffic. */
static const struct irc_command irc_commands[] = {
    {"PRIVMSG", IRC_CMD_PRIVMSG, irc_cmd_privmsg, 0, 2, 0},
    {"NOTICE", IRC_CMD_NOTICE, irc_cmd_privmsg, 0, 2, 0},
    {"PING", IRC_CMD_PING, irc_cmd_ping, 0, 2, IRC_PRE},
    {"PONG", IRC_CMD_PONG, irc_cmd_pong, 0, 2, IRC_PRE},
    {"CAP", IRC_CMD_CAP, irc_cmd_cap, 1, 2, IRC_PRE},
    {"NICK", IRC_CMD_NICK, irc_cmd_nick, 0, 1, IRC_PRE},
    {"USER", IRC_CMD_USER, irc_cmd_user, 4, 4, IRC_PRE},
    {"PASS", IRC_CMD_PASS, irc_cmd_pass, 1, 1, IRC_PRE},
    {"QUIT", IRC_CMD_QUIT, irc_cmd_quit, 0, 1, IRC_PRE},
    {"JOIN", IRC_CMD_JOIN, irc_cmd_join, 1, 2, 0},
    {"PART", IRC_CMD_PART, irc_cmd_part, 1, 2, 0},
    {"TOPIC", IRC_CMD_TOPIC, irc_cmd_topic, 1, 2, 0},
    {"NAMES", IRC_CMD_NAMES, irc_cmd_names, 0, 1, 0},
    {"LIST", IRC_CMD_LIST, irc_cmd_list, 0, 1, 0},
    {"MODE", IRC_CMD_MODE, irc_cmd_mode, 1, IRC_PARAMS_MAX, 0},
    {"KICK", IRC_CMD_KICK, irc_cmd_kick, 2, 3, 0},
    {"TAGMSG", IRC_CMD_TAGMSG, irc_cmd_tagmsg, 1, 1, 0},
    {"WHO", IRC_CMD_WHO, irc_cmd_who, 0, 2, 0},
    {"WHOIS", IRC_CMD_WHOIS, irc_cmd_whois, 1, 2, 0},
    {"LUSERS", IRC_CMD_LUSERS, irc_cmd_lusers, 0, 2, 0},
    {"MOTD", IRC_CMD_MOTD, irc_cmd_motd, 0, 1, 0},
    {"VERSION", IRC_CMD_VERSION, irc_cmd_version, 0, 1, 0},
    {"TIME", IRC_CMD_TIME, irc_cmd_time, 0, 1, 0},
    {"INFO", IRC_CMD_INFO, irc_cmd_info, 0, 1, 0},
    {"USERHOST", IRC_CMD_USERHOST, irc_cmd_userhost, 1, IRC_USERHOST_MAX, 0},
    {"ISON", IRC_CMD_ISON, irc_cmd_ison, 1, IRC_PARAMS_MAX, 0},
    {"AWAY", IRC_CMD_AWAY, irc_cmd_away, 0, 1, 0},
    {"INVITE", IRC_CMD_INVITE, irc_cmd_invite, 2, 2, 0},
    {"OPER", IRC_CMD_OPER, irc_cmd_oper, 2, 2, 0},
    {"KILL", IRC_CMD_KILL, irc_cmd_kill, 1, 2, 0},
    {"WALLOPS", IRC_CMD_WALLOPS, irc_cmd_wallops, 1, 1, 0},
    {"GLINE", IRC_CMD_GLINE, irc_cmd_gline, 0, 2, 0},
    {"UNGLINE", IRC_CMD_UNGLINE, irc_cmd_gline, 0, 1, 0},
    {"AUTHENTICATE", IRC_CMD_AUTHENTICATE, irc_cmd_authenticate, 1, 1, IRC_PRE},
    {"CHATHISTORY", IRC_CMD_CHATHISTORY, irc_cmd_chathistory, 0, 5, 0},
};

#define IRC_NCOMMANDS (sizeof(irc_commands) / sizeof(irc_commands[0]))

static const struct irc_command *
irc_lookup(struct core_str name)
{
	for (size_t i = 0; i < IRC_NCOMMANDS; i++)
		if (strlen(irc_commands[i].name) == name.n &&
		    strncasecmp(irc_commands[i].name, name.p, name.n) == 0)
			return &irc_commands[i];
	return NULL;
}

/* ---- scratch for operations' strings ------------------------------------ */

/* Copies a line's pieces may need (text without stray CTCP bytes, a list
 * of nicknames) for as long as the operations of one parse run: at most
 * twice the longest sanitised line. */
#define IRC_SCRATCH (2 * LINE_SANITIZED_MAX(8192) + 256)

static char irc_scratch[IRC_SCRATCH];
static size_t irc_scratch_used;

char *
irc_keep(const char *s, size_t n)
{
	char *p;

	if (n > IRC_SCRATCH - irc_scratch_used)
		return NULL;
	p = irc_scratch + irc_scratch_used;
	if (n)
		memcpy(p, s, n);
	irc_scratch_used += n;
	return p;
}

const char *
irc_str(struct core_str s)
{
	size_t n = line_utf8_cut(s.p, s.n, IRC_TARGET_MAX - 1), k = 0;
	char *p = irc_keep(s.p, n), *end = irc_keep("", 1);

	if (!p || !end)
		return "";
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\001')
			p[k++] = p[i];
	p[k] = '\0';
	return p;
}

/* ---- parse -------------------------------------------------------------- */

/* The IRC sanitiser: the documented rule (line_sanitize), except that
 * the bytes which delimit CTCP (0x01) are kept for the parser, and the
 * mIRC colour codes are removed with their digits, so no stray numbers
 * remain where colours were. */
static size_t
irc_sanitize(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, seg = 0, i = 0;

	while (i < len) {
		unsigned char c = s[i];
		if (c != 0x01 && c != 0x03 && c != 0x04) {
			i++;
			continue;
		}
		o += line_sanitize(in + seg, i - seg, out + o);
		i++;
		if (c == 0x01) {
			out[o++] = 0x01;
		} else {
			/* \x03 fg[,bg] with 1-2 digits each; \x04 with
			 * 6 hex digits each. */
			int hex = c == 0x04, max = hex ? 6 : 2;
			for (int part = 0; part < 2; part++) {
				int k = 0;
				if (part && (i + 1 >= len || s[i] != ','))
					break;
				if (part)
					i++;
				while (k < max && i < len &&
				       (hex ? isxdigit(s[i]) : isdigit(s[i]))) {
					i++;
					k++;
				}
			}
		}
		seg = i;
	}
	return o + line_sanitize(in + seg, len - seg, out + o);
}

static size_t
irc_skip_spaces(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

static size_t
irc_word_end(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] != ' ')
		i++;
	return i;
}

/* Splits a line into tags, command and parameters (the source a client
 * may send is ignored). Returns 0, or -1 when the tags are too long. */
static int
irc_split(const char *s, size_t len, struct irc_msg *m)
{
	size_t i = 0, end;

	memset(m, 0, sizeof(*m));
	if (len > 0 && s[0] == '@') {
		end = irc_word_end(s, 1, len);
		m->tags = (struct core_str){s + 1, end - 1};
		if (m->tags.n > IRC_TAGS_MAX)
			return -1;
		i = end;
	}
	i = irc_skip_spaces(s, i, len);
	if (i < len && s[i] == ':')
		i = irc_skip_spaces(s, irc_word_end(s, i, len), len);
	end = irc_word_end(s, i, len);
	m->cmd = (struct core_str){s + i, end - i};
	i = end;
	while ((i = irc_skip_spaces(s, i, len)) < len) {
		if (s[i] == ':' || m->nparams == IRC_PARAMS_MAX - 1) {
			m->trailing = s[i] == ':';
			i += (size_t)m->trailing;
			m->params[m->nparams++] =
			    (struct core_str){s + i, len - i};
			break;
		}
		end = irc_word_end(s, i, len);
		m->params[m->nparams++] = (struct core_str){s + i, end - i};
		i = end;
	}
	return 0;
}

/* The sanitiser kept CTCP's \001 for PRIVMSG and NOTICE texts; anywhere
 * else it is a control byte like the others, and goes. */
static void
irc_unctcp(struct core_str *s)
{
	char *copy;
	size_t n = 0;

	if (!s->n || !memchr(s->p, '\001', s->n))
		return;
	copy = irc_keep(s->p, s->n);
	if (!copy) {
		s->n = 0;
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i] != '\001')
			copy[n++] = s->p[i];
	*s = (struct core_str){copy, n};
}

static int
irc_parse(struct pconn *pc, const char *line, size_t len, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	const struct irc_command *c;
	struct irc_msg m;

	irc_scratch_used = 0;
	if (irc_split(line, len, &m) < 0) {
		irc_num(pc, ERR_INPUTTOOLONG);
		return 0;
	}
	if (m.cmd.n == 0)
		return 0;
	c = irc_lookup(m.cmd);
	if (!c) {
		irc_num(pc, ERR_UNKNOWNCOMMAND, irc_str(m.cmd));
		return 0;
	}
	if (!(c->flags & IRC_PRE) && !st->registered) {
		irc_num(pc, ERR_NOTREGISTERED);
		return 0;
	}
	if (m.nparams < c->min_params) {
		irc_num(pc, ERR_NEEDMOREPARAMS, c->name);
		return 0;
	}
	if (m.nparams > c->max_params)
		m.nparams = c->max_params;
	for (unsigned i = 0; i < m.nparams; i++)
		if (i != 1 ||
		    (c->cmd != IRC_CMD_PRIVMSG && c->cmd != IRC_CMD_NOTICE))
			irc_unctcp(&m.params[i]);
	st->cmd = c->cmd;
	st->target[0] = '\0';
	st->opened = 0;
	st->collect_len = 0;
	return c->run(pc, &m, ops);
}

/* ---- format: the lines of broadcast records ----------------------------- */

/* Puts s cut so that the line (tags aside) stays within IRC's line. */
static void
irc_put_cut(struct line_out *o, struct outbox_str s)
{
	size_t used = o->n - o->start, room = IRC_LINELEN_MAX - 2;

	line_put(o, s.p,
		 line_utf8_cut(s.p, s.n, used < room ? room - used : 0));
}

static void
irc_end(struct line_out *o)
{
	line_put(o, "\r\n", 2);
}

/* The most the tags of one server line take: batch, time, msgid and
 * account (escaped: twice its length). */
#define IRC_TAGS_OUT (128 + 9 + 2 * OUTBOX_ACCT_MAX)

/* "@batch=B;time=T;msgid=M " as caps ask; piece > 0 numbers the further
 * lines of one record, each of which needs a message id of its own. */
static void
irc_put_tags(struct line_out *o, const struct proto_env *env,
	     const struct outbox_view *v, unsigned caps, const char *batch,
	     unsigned piece)
{
	char buf[OUTBOX_MSGID_MAX + 8];
	const char *sep = "@";

	if (batch) {
		line_puts(o, "@batch=");
		line_puts(o, batch);
		sep = ";";
	}
	if (caps & IRC_CAP_SERVER_TIME) {
		line_puts(o, sep);
		size_t n = irc_time(v->rec->ts_ms, buf);
		line_puts(o, "time=");
		line_put(o, buf, n);
		sep = ";";
	}
	if ((caps & IRC_CAP_MESSAGE_TAGS) && env->shm) {
		line_puts(o, sep);
		size_t n = outbox_msgid(env->shm, v, buf);
		line_puts(o, "msgid=");
		line_put(o, buf, n);
		if (piece) {
			char *end = buf + sizeof(buf), *p = end;
			do
				*--p = (char)('0' + piece % 10);
			while ((piece /= 10) && p > buf);
			line_puts(o, "-");
			line_put(o, p, (size_t)(end - p));
		}
		sep = ";";
	}
	if ((caps & IRC_CAP_ACCOUNT_TAG) && v->acct.n &&
	    (v->rec->src || v->rec->kind == OUTBOX_HISTORY)) {
		/* A nickname's \\ and ; are what a tag value escapes. A
		 * stored message (history) has no live author but keeps its
		 * account. */
		line_puts(o, sep);
		line_puts(o, "account=");
		for (size_t i = 0; i < v->acct.n; i++)
			if (v->acct.p[i] == '\\')
				line_puts(o, "\\\\");
			else if (v->acct.p[i] == ';')
				line_puts(o, "\\:");
			else
				line_put(o, v->acct.p + i, 1);
		sep = ";";
	}
	if (sep[0] == ';')
		line_puts(o, " ");
}

/* Starts a line: tags, then ":nick!user@host " of the record's author. */
static void
irc_start(struct line_out *o, const struct proto_env *env,
	  const struct outbox_view *v, unsigned caps, const char *batch,
	  unsigned piece)
{
	irc_put_tags(o, env, v, caps, batch, piece);
	o->start = o->n;
	line_puts(o, ":");
	line_put_str(o, v->nick);
	line_puts(o, "!");
	line_put_str(o, v->user);
	line_puts(o, "@");
	line_put_str(o, v->host);
	line_puts(o, " ");
}

size_t
irc_message_lines(const struct proto_env *env, const struct outbox_view *v,
		  unsigned caps, const char *batch, char *out)
{
	const struct outbox_rec *r = v->rec;
	struct line_out o = {out, 0, 0};
	const char *cmd = r->aux & OUTBOX_MSG_NOTICE ? "NOTICE " : "PRIVMSG ";
	struct outbox_str target = r->kind == OUTBOX_PRIVMSG ? v->arg : v->room;
	const char *open = "", *close = "";
	size_t head, wrap, cap, off = 0;
	size_t linelen = irc_linelen(env->cfg);
	unsigned piece = 0;

	if (r->aux & OUTBOX_MSG_ACTION)
		open = "\001ACTION ", close = "\001";
	else if (r->aux & OUTBOX_MSG_CTCP)
		open = close = "\001";
	head =
	    4 + v->nick.n + v->user.n + v->host.n + strlen(cmd) + target.n + 2;
	wrap = strlen(open) + strlen(close) + 2;
	/* Text that does not fit one line goes on in more, each cut on a
	 * character boundary; each carries some text however small the
	 * limit. */
	cap = linelen > head + wrap + 64 ? linelen - head - wrap : 64;
	do {
		size_t take =
		    line_utf8_cut(v->text.p + off, v->text.n - off, cap);
		if (o.n + IRC_TAGS_OUT + head + wrap + take > PROTO_LINE_MAX ||
		    (take == 0 && off < v->text.n))
			break;
		irc_start(&o, env, v, caps, batch, piece++);
		line_puts(&o, cmd);
		line_put_str(&o, target);
		line_puts(&o, " :");
		line_puts(&o, open);
		line_put(&o, v->text.p + off, take);
		line_puts(&o, close);
		irc_end(&o);
		off += take;
	} while (off < v->text.n);
	return o.n;
}

static size_t
irc_format(const struct proto_env *env, const struct outbox_view *v,
	   unsigned variant, enum proto_role role, char *out)
{
	const struct outbox_rec *r = v->rec;
	unsigned caps = irc_variant_caps(variant);
	struct line_out o = {out, 0, 0};

	if (!variant)
		return 0; /* not registered: nothing yet */
	switch (r->kind) {
	case OUTBOX_MSG:
	case OUTBOX_PRIVMSG:
		if (role == PROTO_ROLE_AUTHOR && !(caps & IRC_CAP_ECHO_MESSAGE))
			return 0; /* the client shows what it said itself */
		return irc_message_lines(env, v, caps, NULL, out);
	case OUTBOX_JOIN:
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "JOIN ");
		line_put_str(&o, v->room);
		if (caps & IRC_CAP_EXTENDED_JOIN) {
			/* extended-join: the account (* for none) and the
			 * real name. */
			line_puts(&o, " ");
			if (v->acct.n)
				line_put_str(&o, v->acct);
			else
				line_puts(&o, "*");
			line_puts(&o, " :");
			irc_put_cut(&o, v->arg);
		}
		irc_end(&o);
		if (role == PROTO_ROLE_AUTHOR || !v->text.n ||
		    !(caps & IRC_CAP_AWAY_NOTIFY))
			return o.n;
		/* Someone away joined: away-notify says so at once. */
		irc_start(&o, env, v, caps, NULL, 1);
		line_puts(&o, "AWAY :");
		irc_put_cut(&o, v->text);
		break;
	case OUTBOX_PART:
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "PART ");
		line_put_str(&o, v->room);
		if (v->text.n) {
			line_puts(&o, " :");
			irc_put_cut(&o, v->text);
		}
		break;
	case OUTBOX_QUIT:
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "QUIT :");
		irc_put_cut(&o, v->text);
		break;
	case OUTBOX_NICK:
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "NICK :");
		line_put_str(&o, v->arg);
		break;
	case OUTBOX_TOPIC:
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "TOPIC ");
		line_put_str(&o, v->room);
		line_puts(&o, " :");
		irc_put_cut(&o, v->text);
		break;
	case OUTBOX_MODE:
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "MODE ");
		line_put_str(&o, v->room);
		line_puts(&o, " ");
		irc_put_cut(&o, v->text);
		break;
	case OUTBOX_KICK:
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "KICK ");
		line_put_str(&o, v->room);
		line_puts(&o, " ");
		line_put_str(&o, v->arg);
		line_puts(&o, " :");
		irc_put_cut(&o, v->text.n ? v->text : v->nick);
		break;
	case OUTBOX_WALL:
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "WALLOPS :");
		irc_put_cut(&o, v->text);
		break;
	case OUTBOX_ACCOUNT:
		/* The client itself has had 900 or 901. */
		if (role == PROTO_ROLE_AUTHOR ||
		    !(caps & IRC_CAP_ACCOUNT_NOTIFY))
			return 0;
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "ACCOUNT ");
		if (v->acct.n)
			line_put_str(&o, v->acct);
		else
			line_puts(&o, "*");
		break;
	case OUTBOX_AWAY:
		if (role == PROTO_ROLE_AUTHOR || !(caps & IRC_CAP_AWAY_NOTIFY))
			return 0;
		irc_start(&o, env, v, caps, NULL, 0);
		line_puts(&o, "AWAY");
		if (v->text.n) {
			line_puts(&o, " :");
			irc_put_cut(&o, v->text);
		}
		break;
	default:
		return 0;
	}
	irc_end(&o);
	return o.n;
}

/* ---- lines for one client ----------------------------------------------- */

static void
irc_error(struct pconn *pc, enum core_err err, struct outbox_str room,
	  struct outbox_str arg, long num)
{
	struct irc_state *st = irc_state(pc);
	int rn = (int)(room.n < IRC_TARGET_MAX ? room.n : IRC_TARGET_MAX);
	int an = (int)(arg.n < IRC_TARGET_MAX ? arg.n : IRC_TARGET_MAX);
	char r[IRC_TARGET_MAX + 1], a[IRC_TARGET_MAX + 1];

	if (st->cmd == IRC_CMD_NOTICE)
		return; /* never answered automatically, errors included */
	snprintf(r, sizeof(r), "%.*s", rn, room.n ? room.p : "*");
	snprintf(a, sizeof(a), "%.*s", an, arg.n ? arg.p : "*");
	switch (err) {
	case CORE_OK:
	case CORE_ERR_NICK_SAME:
		break;
	case CORE_ERR_NICK_IN_USE:
		irc_num(pc, ERR_NICKNAMEINUSE, a);
		break;
	case CORE_ERR_NICK_REGISTERED:
		irc_num(pc, ERR_NICKNAMEREGISTERED, a);
		break;
	case CORE_ERR_NICK_INVALID:
		irc_num(pc, ERR_ERRONEUSNICKNAME, a);
		break;
	case CORE_ERR_ROOM_INVALID:
		irc_num(pc, ERR_BADCHANMASK, r);
		break;
	case CORE_ERR_NOT_IN_ROOM:
	case CORE_ERR_NO_ROOM:
		irc_num(pc, ERR_NOTONCHANNEL, r);
		break;
	case CORE_ERR_NO_SUCH_ROOM:
		irc_num(pc, ERR_NOSUCHCHANNEL, r);
		break;
	case CORE_ERR_NO_SUCH_NICK:
		irc_num(pc, ERR_NOSUCHNICK, a);
		break;
	case CORE_ERR_CLIENT_ROOMS:
		irc_num(pc, ERR_TOOMANYCHANNELS, r, num);
		break;
	case CORE_ERR_SERVER_ROOMS:
		irc_num(pc, ERR_SERVERCHANNELS, r, num);
		break;
	case CORE_ERR_TOPIC_TOO_LONG:
		irc_num(pc, ERR_INPUTTOOLONG);
		break;
	case CORE_ERR_NO_TEXT:
		irc_num(pc, ERR_NOTEXTTOSEND);
		break;
	case CORE_ERR_NO_MOTD:
		irc_num(pc, ERR_NOMOTD);
		break;
	default:
		if (!irc_mode_error(pc, err, r, a))
			irc_num(pc, RPL_TRYAGAIN, "*");
		break;
	}
}

/* The end of the client's request: what it asked for decides. */
static int
irc_reply(struct pconn *pc, const struct outbox_view *v, struct core_op *ops)
{
	switch (pc->pending) {
	case CORE_NICK:
	case CORE_HELLO:
		return irc_login_reply(pc, v, ops);
	case CORE_JOIN:
		irc_history_end(pc);
		/* fall through */
	case CORE_PART:
	case CORE_TOPIC:
	case CORE_NAMES:
	case CORE_ROOMS:
		irc_channel_reply(pc, v);
		return 0;
	case CORE_PRIVMSG:
		irc_message_reply(pc, v);
		return 0;
	case CORE_LOGIN:
	case CORE_REGISTER:
	case CORE_LOGOUT:
		return irc_account_reply(pc, v, ops);
	case CORE_HISTORY:
		return irc_chathistory_reply(pc, v, ops);
	case CORE_MODE:
	case CORE_KICK:
	case CORE_BANS:
	case CORE_INVITE:
	case CORE_OPER:
	case CORE_KILL:
	case CORE_WALL:
	case CORE_GLINE:
		irc_mode_reply(pc, v);
		return 0;
	case CORE_WHO:
	case CORE_WHOIS:
	case CORE_USERS:
	case CORE_LUSERS:
	case CORE_MOTD:
	case CORE_AWAY:
		irc_info_reply(pc, v);
		return 0;
	case CORE_ROOM_REGISTER:
	case CORE_ROOM_DROP:
	case CORE_ROOM_INFO:
		irc_chanserv_reply(pc, v);
		return 0;
	case CORE_ROOM_SAY:
		irc_outside_reply(pc, v);
		return 0;
	default:
		if (v->rec->aux != CORE_OK)
			irc_error(pc, (enum core_err)v->rec->aux, v->room,
				  v->arg, 0);
		return 0;
	}
}

static int
irc_deliver(struct pconn *pc, const struct outbox_view *v, struct core_op *ops)
{
	switch (v->rec->kind) {
	case OUTBOX_REPLY:
		return irc_reply(pc, v, ops);
	case OUTBOX_TOPIC_INFO:
	case OUTBOX_NAMES:
	case OUTBOX_ROOM_INFO:
	case OUTBOX_ROOM_END:
		irc_channel_deliver(pc, v);
		break;
	case OUTBOX_HISTORY:
		if (pc->pending == CORE_HISTORY)
			irc_chathistory_deliver(pc, v);
		else
			irc_history_deliver(pc, v);
		break;
	case OUTBOX_INVITE:
	case OUTBOX_BAN_INFO:
		irc_mode_deliver(pc, v);
		break;
	case OUTBOX_USER_INFO:
	case OUTBOX_USER_ROOMS:
	case OUTBOX_LUSERS:
	case OUTBOX_MOTD:
		irc_info_deliver(pc, v);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- connection --------------------------------------------------------- */

static int
irc_open(struct pconn *pc, struct core_op *ops)
{
	struct irc_state *st = calloc(1, sizeof(*st));

	(void)ops;
	if (!st)
		return -1;
	pc->state = st;
	pc->variant = irc_variant(0, 0);
	/* Nothing until the client speaks: registration is its move. */
	return 0;
}

static void
irc_close(struct pconn *pc)
{
	irc_history_close(pc);
	if (pc->state)
		irc_login_free(pc->state);
	free(pc->state);
	pc->state = NULL;
}

static void
irc_event(struct pconn *pc, enum proto_event ev, const char *text, long num)
{
	(void)num;
	switch (ev) {
	case PROTO_EV_LINE_TOO_LONG:
		irc_num(pc, ERR_INPUTTOOLONG);
		break;
	case PROTO_EV_SHUTDOWN:
		irc_send(pc, IRC_ERROR, IRC_SHUTDOWN);
		break;
	case PROTO_EV_CLOSED:
		irc_send(pc, IRC_ERROR, text ? text : "");
		break;
	case PROTO_EV_PING:
		irc_send(pc, IRC_PING, pc->env->cfg->server_name);
		break;
	}
}

static size_t
irc_refusal(enum proto_refusal why, long num, char *out, size_t n)
{
	char text[128];
	int len;

	switch (why) {
	case PROTO_REFUSE_FULL:
		snprintf(text, sizeof(text), IRC_REFUSE_FULL);
		break;
	case PROTO_REFUSE_PER_ADDR:
		snprintf(text, sizeof(text), IRC_REFUSE_PER_ADDR, num);
		break;
	case PROTO_REFUSE_BANNED:
		snprintf(text, sizeof(text), IRC_REFUSE_BANNED);
		break;
	default:
		snprintf(text, sizeof(text), IRC_REFUSE_BUSY);
		break;
	}
	len = snprintf(out, n, IRC_ERROR "\r\n", text);
	if (len < 0 || n == 0)
		return 0;
	return (size_t)len < n ? (size_t)len : n - 1;
}

const struct proto proto_irc = {
    .name = "irc",
    .id = PROTO_IRC,
    .registers = 1,
    .pings = 1,
    .sanitize = irc_sanitize,
    .open = irc_open,
    .close = irc_close,
    .parse = irc_parse,
    .error = irc_error,
    .format = irc_format,
    .self = NULL,
    .deliver = irc_deliver,
    .event = irc_event,
    .refusal = irc_refusal,
    .refusal_reason = irc_refusal_reason,
    .refusal_server = irc_refusal_server,
};
