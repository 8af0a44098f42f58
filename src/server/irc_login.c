/*
 * irc_login: an IRC client's way in: capability negotiation (CAP LS 302,
 * REQ, ACK/NAK, LIST, END), NICK and USER, and the welcome (001-005;
 * LUSERS and MOTD follow as requests). Session processes. Invariant: the
 * client is registered, and so visible to others, only once it has a
 * nick the server took, a USER, and (if it started CAP) a CAP END; until
 * then only the commands marked IRC_PRE reach here.
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"
#include "server/modes.h"

#include "lib/line.h"
#include "server/names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- capabilities ------------------------------------------------------- */

/* Every capability the server has, as CAP LS lists them. */
static const struct {
	const char *name;
	unsigned bit;
} irc_caps[] = {
    {"account-notify", IRC_CAP_ACCOUNT_NOTIFY},
    {"account-tag", IRC_CAP_ACCOUNT_TAG},
    {"away-notify", IRC_CAP_AWAY_NOTIFY},
    {"batch", IRC_CAP_BATCH},
    {"cap-notify", IRC_CAP_CAP_NOTIFY},
    {"draft/chathistory", IRC_CAP_CHATHISTORY},
    {"echo-message", IRC_CAP_ECHO_MESSAGE},
    {"extended-join", IRC_CAP_EXTENDED_JOIN},
    {"message-tags", IRC_CAP_MESSAGE_TAGS},
    {"multi-prefix", IRC_CAP_MULTI_PREFIX},
    {"sasl", IRC_CAP_SASL},
    {"server-time", IRC_CAP_SERVER_TIME},
    {"userhost-in-names", IRC_CAP_USERHOST_IN_NAMES},
};

#define IRC_NCAPS (sizeof(irc_caps) / sizeof(irc_caps[0]))

static unsigned
irc_cap_bit(const char *name, size_t n)
{
	for (size_t i = 0; i < IRC_NCAPS; i++)
		if (strlen(irc_caps[i].name) == n &&
		    memcmp(irc_caps[i].name, name, n) == 0)
			return irc_caps[i].bit;
	return 0;
}

/* The capabilities this server offers the client: sasl only with
 * accounts (a store). */
static unsigned
irc_caps_offered(const struct pconn *pc)
{
	return config_has_store(pc->env->cfg) ? ~0u : ~(unsigned)IRC_CAP_SASL;
}

/* The names of the capabilities in bits, separated by spaces; with
 * values (CAP LS 302), sasl says its mechanism. */
static void
irc_cap_names(unsigned bits, int values, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < IRC_NCAPS; i++)
		if (bits & irc_caps[i].bit)
			len += (size_t)snprintf(
			    out + len, n - len, "%s%s%s", len ? " " : "",
			    irc_caps[i].name,
			    values && irc_caps[i].bit == IRC_CAP_SASL ? "=PLAIN"
								      : "");
}

/* The capabilities after the request list: each name, or -name to
 * drop it. Returns -1 when any is unknown (the whole list is refused),
 * or would drop cap-notify after CAP LS 302, which enabled it for good. */
static int
irc_cap_apply(const struct irc_state *st, struct core_str list,
	      unsigned offered, unsigned *out)
{
	unsigned caps = st->caps;
	size_t i = 0;

	while (i < list.n) {
		size_t k = 0, neg;
		unsigned bit;
		while (i + k < list.n && list.p[i + k] != ' ')
			k++;
		neg = k > 0 && list.p[i] == '-';
		bit = irc_cap_bit(list.p + i + neg, k - neg) & offered;
		if (k > 0 && !bit)
			return -1;
		if (neg && bit == IRC_CAP_CAP_NOTIFY && st->cap_302)
			return -1;
		caps = neg ? caps & ~bit : caps | bit;
		i += k + 1;
	}
	*out = caps;
	return 0;
}

/* The version of CAP LS VERSION: its leading digits. */
static long
irc_cap_version(struct core_str s)
{
	long v = 0;

	for (size_t i = 0; i < s.n && i < 6 && isdigit((unsigned char)s.p[i]);
	     i++)
		v = v * 10 + (s.p[i] - '0');
	return v;
}

/* Registration can finish: ask the server to make the client visible
 * (after the login of a PASS, if it gave one). */
int
irc_login_try(struct pconn *pc, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);

	if (st->registered || st->hello_sent || !st->nick_set ||
	    !st->user_set || st->negotiating || st->sasl != IRC_SASL_NONE ||
	    st->acct_via != IRC_VIA_NONE)
		return 0;
	if (irc_pass_login(pc, ops))
		return 1;
	st->hello_sent = 1;
	ops[0] = (struct core_op){
	    .kind = CORE_HELLO,
	    .arg = {st->user, strlen(st->user)},
	    .text = {st->realname, strlen(st->realname)},
	};
	return 1;
}

static void
irc_cap_reply(struct pconn *pc, const char *sub, const char *list)
{
	irc_send(pc, IRC_CAP, pc->env->cfg->server_name, irc_client(pc), sub,
		 list);
}

int
irc_cmd_cap(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	struct core_str sub = m->params[0];
	char names[256];
	unsigned caps;

	if (sub.n == 2 && strncasecmp(sub.p, "LS", 2) == 0) {
		st->negotiating |= !st->registered;
		if (m->nparams > 1 && irc_cap_version(m->params[1]) >= 302) {
			st->cap_302 = 1;
			st->caps |= IRC_CAP_CAP_NOTIFY;
		}
		irc_cap_names(irc_caps_offered(pc), st->cap_302, names,
			      sizeof(names));
		irc_cap_reply(pc, "LS", names);
	} else if (sub.n == 4 && strncasecmp(sub.p, "LIST", 4) == 0) {
		irc_cap_names(st->caps, 0, names, sizeof(names));
		irc_cap_reply(pc, "LIST", names);
	} else if (sub.n == 3 && strncasecmp(sub.p, "REQ", 3) == 0) {
		const char *asked = m->nparams > 1 ? irc_str(m->params[1]) : "";
		struct core_str list = {asked, strlen(asked)};
		st->negotiating |= !st->registered;
		if (irc_cap_apply(st, list, irc_caps_offered(pc), &caps) < 0) {
			irc_cap_reply(pc, "NAK", asked);
			return 0;
		}
		st->caps = caps;
		pc->variant = irc_variant(st->registered, caps);
		irc_cap_reply(pc, "ACK", asked);
	} else if (sub.n == 3 && strncasecmp(sub.p, "END", 3) == 0) {
		st->negotiating = 0;
		return irc_login_try(pc, ops);
	} else {
		irc_num(pc, ERR_INVALIDCAPCMD, irc_str(sub));
	}
	return 0;
}

/* ---- NICK, USER and the rest of the way in ------------------------------ */

int
irc_cmd_nick(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	struct core_str nick = m->nparams ? m->params[0] : (struct core_str){0};
	const char *name;

	if (nick.n == 0) {
		irc_num(pc, ERR_NONICKNAMEGIVEN);
		return 0;
	}
	name = irc_str(nick);
	if (nick.n > CONFIG_NICK_MAX || !names_nick_valid(name) ||
	    irc_service_named(nick.p, nick.n)) {
		irc_num(pc, ERR_ERRONEUSNICKNAME, name);
		return 0;
	}
	if (st->registered && strcmp(name, pc->nick) == 0)
		return 0;
	ops[0] = (struct core_op){.kind = CORE_NICK, .arg = nick};
	return 1;
}

int
irc_cmd_user(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	struct core_str user = m->params[0], real = m->params[3];
	size_t n = 1;

	if (st->registered) {
		irc_num(pc, ERR_ALREADYREGISTERED);
		return 0;
	}
	if (user.n == 0 || real.n == 0) {
		irc_num(pc, ERR_NEEDMOREPARAMS, "USER");
		return 0;
	}
	/* "~": the server has not checked it (no ident); then what is safe
	 * in a nick!user@host. */
	st->user[0] = '~';
	for (size_t i = 0; i < user.n && n < sizeof(st->user) - 1; i++) {
		unsigned char c = (unsigned char)user.p[i];
		if (isalnum(c) || c == '.' || c == '_' || c == '-')
			st->user[n++] = (char)c;
	}
	if (n == 1)
		st->user[n++] = 'u';
	st->user[n] = '\0';
	n = line_utf8_cut(real.p, real.n, CONFIG_REALNAME_MAX);
	for (size_t i = 0, o = 0; i <= n; i++)
		if (i == n)
			st->realname[o] = '\0';
		else if (real.p[i] != '\001')
			st->realname[o++] = real.p[i];
	st->user_set = 1;
	return irc_login_try(pc, ops);
}

int
irc_cmd_pass(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	(void)ops;
	/* The server has no password of its own: with accounts, PASS is
	 * [account:]password, tried at registration (irc_sasl.c). */
	if (irc_state(pc)->registered)
		irc_num(pc, ERR_ALREADYREGISTERED);
	else
		irc_pass_keep(pc, m->params[0]);
	return 0;
}

int
irc_cmd_ping(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	const char *server = pc->env->cfg->server_name;

	(void)ops;
	if (m->nparams == 0) {
		irc_num(pc, ERR_NOORIGIN);
		return 0;
	}
	irc_send(pc, IRC_PONG, server, server, irc_str(m->params[0]));
	return 0;
}

int
irc_cmd_pong(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	/* Any input is a sign of life; the session has seen it. */
	(void)pc;
	(void)m;
	(void)ops;
	return 0;
}

int
irc_cmd_quit(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct core_str why = m->nparams && m->params[0].n
				  ? m->params[0]
				  : (struct core_str){"quit", 4};

	irc_send(pc, IRC_ERROR, irc_str(why));
	ops[0] = (struct core_op){.kind = CORE_QUIT, .text = why};
	return 1;
}

/* ---- the welcome -------------------------------------------------------- */

void
irc_isupport(struct pconn *pc)
{
	const struct config *cfg = pc->env->cfg;
	char one[512], two[512];

	/* At most 13 tokens a line; each true of this server. */
	snprintf(one, sizeof(one),
		 "AWAYLEN=%d CASEMAPPING=ascii CHANLIMIT=#:%d "
		 "CHANMODES=" MODES_CHANMODES " CHANNELLEN=%d CHANTYPES=# "
		 "CLIENTTAGDENY=* LINELEN=%zu MODES=%d NETWORK=%s NICKLEN=%d "
		 "PREFIX=(ov)@+",
		 CONFIG_AWAY_MAX, cfg->max_rooms_per_client,
		 CONFIG_ROOM_MAX + 1, irc_linelen(cfg), MODES_MAX, cfg->network,
		 CONFIG_NICK_MAX);
	snprintf(two, sizeof(two),
		 "TARGMAX=JOIN:%d,PART:%d,PRIVMSG:%d,NOTICE:%d,NAMES:1,"
		 "WHOIS:1,LIST:%d,USERHOST:%d,KICK:%d TOPICLEN=%d KICKLEN=%d "
		 "MAXLIST=b:%d CHATHISTORY=%d MSGREFTYPES=msgid,timestamp",
		 IRC_TARGETS_MAX, IRC_TARGETS_MAX, IRC_TARGETS_MAX,
		 IRC_TARGETS_MAX, IRC_TARGETS_MAX, IRC_USERHOST_MAX,
		 IRC_TARGETS_MAX, CONFIG_TOPIC_MAX, CONFIG_REASON_MAX,
		 MODES_BANS_MAX, IRC_HISTORY_MAX);
	irc_num(pc, RPL_ISUPPORT, one);
	irc_num(pc, RPL_ISUPPORT, two);
}

static void
irc_welcome(struct pconn *pc)
{
	const struct config *cfg = pc->env->cfg;
	struct irc_state *st = irc_state(pc);
	char created[64] = "when it started";

	if (pc->env->shm) {
		/* The run's boot id is its start, in microseconds. */
		time_t t = (time_t)(pc->env->shm->tl->boot / 1000000);
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(created, sizeof(created),
				 "%a %b %d %Y at %H:%M:%S UTC", &tm);
	}
	irc_num(pc, RPL_WELCOME, cfg->network, pc->nick, st->user, st->host);
	irc_num(pc, RPL_YOURHOST, cfg->server_name, PARLEY_VERSION);
	irc_num(pc, RPL_CREATED, created);
	irc_num(pc, RPL_MYINFO, cfg->server_name, PARLEY_VERSION);
	irc_isupport(pc);
}

static void
irc_copy(char *out, size_t n, struct outbox_str s)
{
	size_t k = s.n < n - 1 ? s.n : n - 1;

	memcpy(out, s.p, k);
	out[k] = '\0';
}

int
irc_login_reply(struct pconn *pc, const struct outbox_view *v,
		struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	enum core_err err = (enum core_err)v->rec->aux;

	if (pc->pending == CORE_NICK) {
		if (err != CORE_OK && err != CORE_ERR_NICK_SAME) {
			char nick[OUTBOX_NICK_MAX + 1];
			irc_copy(nick, sizeof(nick), v->arg);
			if (err == CORE_ERR_NICK_REGISTERED &&
			    irc_pass_nick(pc, nick, ops))
				return 1;
			if (err == CORE_ERR_NICK_REGISTERED && !st->registered)
				memcpy(st->refused_nick, nick, sizeof(nick));
			if (err == CORE_ERR_NICK_IN_USE)
				irc_num(pc, ERR_NICKNAMEINUSE, nick);
			else if (err == CORE_ERR_NICK_REGISTERED)
				irc_num(pc, ERR_NICKNAMEREGISTERED, nick);
			else
				irc_num(pc, ERR_ERRONEUSNICKNAME, nick);
			return 0;
		}
		st->nick_set = 1;
		st->refused_nick[0] = '\0';
		/* A registered nickname, lent until the client logs in. */
		uint64_t grace = 0;
		if (err == CORE_OK && v->rec->nids)
			memcpy(&grace, &v->ids[0], sizeof(grace));
		if (grace && !st->registered) {
			st->grace = (unsigned)grace;
			snprintf(st->grace_nick, sizeof(st->grace_nick), "%s",
				 pc->nick);
		}
		return irc_login_try(pc, ops);
	}
	if (err != CORE_OK) {
		/* The server could not take it now: the client may try
		 * again with its next NICK, USER or CAP END. */
		st->hello_sent = 0;
		irc_num(pc, RPL_TRYAGAIN, "USER");
		return 0;
	}
	st->registered = 1;
	irc_login_free(st); /* SASL and PASS are done with */
	if (v->user.n)
		irc_copy(st->user, sizeof(st->user), v->user);
	irc_copy(st->host, sizeof(st->host), v->host);
	pc->variant = irc_variant(1, st->caps);
	irc_welcome(pc);
	irc_account_welcomed(pc);
	st->opened = 0;
	ops[0] = (struct core_op){.kind = CORE_LUSERS};
	ops[1] = (struct core_op){.kind = CORE_MOTD};
	return 2;
}
