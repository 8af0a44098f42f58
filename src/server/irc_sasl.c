/*
 * irc_sasl: an IRC client's account logins: SASL PLAIN (IRCv3 SASL 3.1:
 * AUTHENTICATE, 900-908), PASS [account:]password at registration, and
 * what the answers to the account operations say (900/901, 464). Session
 * processes; pure like the rest of the front end. Invariant: a password
 * is never echoed or logged, and is wiped from the client's state once
 * its operation has been answered; the buffers that hold one exist only
 * while they do (a client that is in has none).
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include "server/names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- base64 -------------------------------------------------------------- */

static int
irc_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes in[0..n) (RFC 4648, padded) into out (n / 4 * 3 bytes).
 * Returns the length, or -1 when it is not base64. */
static long
irc_b64_decode(const char *in, size_t n, char *out)
{
	size_t o = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			if (c == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = irc_b64_value(c)) < 0)
				return -1;
		}
		unsigned bits = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
				(unsigned)v[2] << 6 | (unsigned)v[3];
		out[o++] = (char)(bits >> 16);
		if (pad < 2)
			out[o++] = (char)(bits >> 8 & 0xff);
		if (pad < 1)
			out[o++] = (char)(bits & 0xff);
	}
	return (long)o;
}

/* ---- the buffers --------------------------------------------------------- */

/* Wipes the n bytes of *p, frees it and forgets it. */
static void
irc_secret_free(char **p, size_t n)
{
	if (!*p)
		return;
	explicit_bzero(*p, n);
	free(*p);
	*p = NULL;
}

static void
irc_sasl_buf_free(struct irc_state *st)
{
	irc_secret_free(&st->sasl_buf, IRC_SASL_MAX + 1);
	st->sasl_len = 0;
}

void
irc_login_free(struct irc_state *st)
{
	irc_sasl_buf_free(st);
	irc_secret_free(&st->pass, IRC_PASS_MAX + 1);
	if (st->pass_state == 1)
		st->pass_state = 0; /* never tried (a SASL login came first) */
}

/* ---- SASL PLAIN ---------------------------------------------------------- */

static void
irc_sasl_reset(struct irc_state *st)
{
	irc_sasl_buf_free(st);
	st->sasl = IRC_SASL_NONE;
}

/* The exchange ended without a login (904, 905 or 906); registration
 * may go on. */
static int
irc_sasl_fail(struct pconn *pc, int numeric, struct core_op *ops)
{
	irc_sasl_reset(irc_state(pc));
	if (numeric == 905)
		irc_num(pc, ERR_SASLTOOLONG);
	else if (numeric == 906)
		irc_num(pc, ERR_SASLABORTED);
	else
		irc_num(pc, ERR_SASLFAIL);
	return irc_login_try(pc, ops);
}

/* Whether s[0..n) has a control byte (no account or password has). */
static int
irc_sasl_controls(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* authzid NUL authcid NUL password: the login it asks for, or -1. */
static int
irc_sasl_plain(const char *msg, size_t n, struct core_op *ops)
{
	const char *z = msg, *c, *p, *end = msg + n;
	size_t zn, cn;
	char *keep;

	c = memchr(z, '\0', n);
	if (!c++)
		return -1;
	p = memchr(c, '\0', (size_t)(end - c));
	if (!p++)
		return -1;
	zn = (size_t)(c - 1 - z);
	cn = (size_t)(p - 1 - c);
	if (cn == 0 || cn > CONFIG_NICK_MAX || p == end ||
	    irc_sasl_controls(c, cn) || irc_sasl_controls(p, (size_t)(end - p)))
		return -1;
	/* Only itself: an authorization identity is the account or none. */
	if (zn && (zn != cn || strncasecmp(z, c, cn) != 0))
		return -1;
	if (!(keep = irc_keep(c, (size_t)(end - c))))
		return -1;
	ops[0] = (struct core_op){
	    .kind = CORE_LOGIN,
	    .flags = CORE_LOGIN_KEEP_NICK,
	    .arg = {keep, cn},
	    .text = {keep + cn + 1, (size_t)(end - p)},
	};
	return 1;
}

/* The whole response is in: decode it and log in. */
static int
irc_sasl_finish(struct pconn *pc, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	char msg[IRC_SASL_MAX / 4 * 3 + 1];
	long n =
	    irc_b64_decode(st->sasl_buf ? st->sasl_buf : "", st->sasl_len, msg);
	int k = n < 0 ? -1 : irc_sasl_plain(msg, (size_t)n, ops);

	explicit_bzero(msg, sizeof(msg));
	if (k < 0)
		return irc_sasl_fail(pc, 904, ops);
	irc_sasl_buf_free(st); /* the login's strings are copies */
	st->sasl = IRC_SASL_BUSY;
	st->acct_via = IRC_VIA_SASL;
	return k;
}

int
irc_cmd_authenticate(struct pconn *pc, const struct irc_msg *m,
		     struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	struct core_str a = m->params[0];

	if (!(st->caps & IRC_CAP_SASL)) {
		irc_num(pc, ERR_SASLFAIL);
		return 0;
	}
	if (st->sasl == IRC_SASL_BUSY)
		return 0; /* the login is running: its answer comes */
	if (a.n == 1 && a.p[0] == '*')
		return irc_sasl_fail(pc, 906, ops);
	if (st->sasl == IRC_SASL_NONE) {
		if (pc->account[0]) {
			irc_num(pc, ERR_SASLALREADY);
			return 0;
		}
		if (a.n != 5 || strncasecmp(a.p, "PLAIN", 5) != 0) {
			irc_num(pc, RPL_SASLMECHS);
			return irc_sasl_fail(pc, 904, ops);
		}
		st->sasl = IRC_SASL_WAIT;
		st->sasl_len = 0;
		irc_send(pc, IRC_AUTHENTICATE);
		return 0;
	}
	/* The response, in lines of 400; "+" is an empty one or the end
	 * of one that filled its last line (none of its bytes: a response
	 * of IRC_SASL_MAX bytes ends with it). */
	int end = a.n == 1 && a.p[0] == '+';
	if (a.n > IRC_SASL_CHUNK || (!end && st->sasl_len + a.n > IRC_SASL_MAX))
		return irc_sasl_fail(pc, 905, ops);
	if (!end) {
		if (!st->sasl_buf && !(st->sasl_buf = malloc(IRC_SASL_MAX + 1)))
			return irc_sasl_fail(pc, 904, ops);
		memcpy(st->sasl_buf + st->sasl_len, a.p, a.n);
		st->sasl_len += a.n;
		if (a.n == IRC_SASL_CHUNK)
			return 0;
	}
	return irc_sasl_finish(pc, ops);
}

/* ---- PASS ---------------------------------------------------------------- */

void
irc_pass_keep(struct pconn *pc, struct core_str pass)
{
	struct irc_state *st = irc_state(pc);
	size_t n = pass.n < IRC_PASS_MAX ? pass.n : IRC_PASS_MAX;

	if (!config_has_store(pc->env->cfg) || n == 0)
		return; /* no accounts: the password is not needed */
	if (!st->pass && !(st->pass = malloc(IRC_PASS_MAX + 1)))
		return; /* out of memory: as if no PASS came */
	explicit_bzero(st->pass, IRC_PASS_MAX + 1);
	memcpy(st->pass, pass.p, n);
	st->pass_state = 1;
}

/* The login of PASS as account (NULL: what PASS names, else the nick). */
static int
irc_pass_op(struct pconn *pc, const char *account, unsigned flags,
	    struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	const char *colon = strchr(st->pass, ':');
	const char *pw = colon ? colon + 1 : st->pass;
	size_t an = colon ? (size_t)(colon - st->pass) : 0;

	st->pass_state = 2;
	st->acct_via = IRC_VIA_PASS;
	ops[0] = (struct core_op){.kind = CORE_LOGIN,
				  .flags = flags,
				  .arg = {st->pass, an},
				  .text = {pw, strlen(pw)}};
	if (account)
		ops[0].arg = (struct core_str){account, strlen(account)};
	return 1;
}

int
irc_pass_login(struct pconn *pc, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);

	if (st->pass_state != 1 || pc->account[0])
		return 0;
	return irc_pass_op(pc, NULL, CORE_LOGIN_KEEP_NICK, ops);
}

int
irc_pass_nick(struct pconn *pc, const char *nick, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	const char *colon;
	char *keep;

	if (st->pass_state != 1 || pc->account[0] || st->registered)
		return 0;
	colon = strchr(st->pass, ':');
	/* PASS names another account: the nickname is not its to take. */
	if (colon && ((size_t)(colon - st->pass) != strlen(nick) ||
		      strncasecmp(st->pass, nick, strlen(nick)) != 0))
		return 0;
	if (!(keep = irc_keep(nick, strlen(nick) + 1)))
		return 0;
	/* Without KEEP_NICK: the login brings the nickname. */
	return irc_pass_op(pc, keep, 0, ops);
}

/* ---- answers ------------------------------------------------------------- */

static const char *
irc_or_star(const char *s)
{
	return s[0] ? s : "*";
}

void
irc_logged_in(struct pconn *pc, const char *account)
{
	struct irc_state *st = irc_state(pc);

	irc_num(pc, RPL_LOGGEDIN, irc_client(pc), irc_or_star(st->user),
		irc_or_star(st->host), account, account);
}

void
irc_logged_out(struct pconn *pc)
{
	struct irc_state *st = irc_state(pc);

	irc_num(pc, RPL_LOGGEDOUT, irc_client(pc), irc_or_star(st->user),
		irc_or_star(st->host));
}

/* Why a login failed, for the NOTICE that goes with 904 or 464. */
static const char *
irc_login_why(enum core_err err)
{
	switch (err) {
	case CORE_ERR_STORE_DOWN:
		return "Accounts are unavailable right now; try again soon";
	case CORE_ERR_NO_STORE:
		return "This server has no accounts";
	case CORE_ERR_LOGIN_LIMITED:
		return "Too many failed logins; try again later";
	default:
		return "Wrong password or no such account";
	}
}

/* Logged in to account before the welcome: the nickname refused as
 * registered to it is the client's now (1 operation), else 0. */
static int
irc_refused_nick(struct pconn *pc, const char *account, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	char a[OUTBOX_NICK_MAX + 1], n[OUTBOX_NICK_MAX + 1];

	if (st->registered || !st->refused_nick[0])
		return 0;
	names_fold(account, a, sizeof(a));
	names_fold(st->refused_nick, n, sizeof(n));
	if (strcmp(a, n) != 0)
		return 0;
	ops[0] = (struct core_op){
	    .kind = CORE_NICK,
	    .arg = {st->refused_nick, strlen(st->refused_nick)}};
	return 1;
}

int
irc_account_reply(struct pconn *pc, const struct outbox_view *v,
		  struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	enum core_err err = (enum core_err)v->rec->aux;
	char account[OUTBOX_ACCT_MAX + 1];
	int via = st->acct_via;

	st->acct_via = IRC_VIA_NONE;
	irc_cstr(account, sizeof(account), v->arg);
	if (via == IRC_VIA_SERVICE) {
		irc_service_reply(pc, v);
		return 0;
	}
	if (via == IRC_VIA_PASS) {
		irc_secret_free(&st->pass, IRC_PASS_MAX + 1);
		/* A login for a refused nickname brought it: it is set. */
		if (err == CORE_OK && !st->registered)
			st->nick_set = 1;
		if (err == CORE_OK) {
			irc_logged_in(pc, account);
		} else {
			irc_service_notice(pc, "NickServ", "Login failed: %s",
					   irc_login_why(err));
			irc_num(pc, ERR_PASSWDMISMATCH);
			/* It was asked for a nickname refused meanwhile. */
			if (!st->nick_set && !st->registered)
				irc_num(pc, ERR_NICKNAMEREGISTERED,
					irc_or_star(account));
		}
		return irc_login_try(pc, ops);
	}
	if (via != IRC_VIA_SASL)
		return 0;
	irc_sasl_reset(st);
	if (err != CORE_OK) {
		if (err != CORE_ERR_LOGIN_FAILED)
			irc_service_notice(pc, "NickServ", "%s",
					   irc_login_why(err));
		irc_num(pc, ERR_SASLFAIL);
	} else {
		st->sasl_done = 1;
		irc_logged_in(pc, account);
		irc_num(pc, RPL_SASLSUCCESS);
		if (irc_refused_nick(pc, account, ops))
			return 1;
	}
	return irc_login_try(pc, ops);
}

void
irc_account_welcomed(struct pconn *pc)
{
	struct irc_state *st = irc_state(pc);
	char a[OUTBOX_ACCT_MAX + 1], n[OUTBOX_NICK_MAX + 1];

	if (!st->grace || strcmp(st->grace_nick, pc->nick) != 0)
		return;
	names_fold(pc->account, a, sizeof(a));
	names_fold(pc->nick, n, sizeof(n));
	if (pc->account[0] && strcmp(a, n) == 0)
		return; /* logged in to it meanwhile */
	irc_service_notice(pc, "NickServ",
			   "This nickname is registered. Log in within %u s "
			   "(/msg NickServ IDENTIFY password) or it will be "
			   "changed.",
			   st->grace);
}
