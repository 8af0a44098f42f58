/*
 * irc_services: the services an IRC client talks to with PRIVMSG, as on
 * networks with Atheme or Anope: NickServ (IDENTIFY, REGISTER, LOGOUT,
 * HELP) over the store's accounts, and ChanServ (irc_chanserv.c). One
 * table, service -> its commands; another service is one more row. Session
 * processes; pure like the rest of the front end: a service answers with
 * NOTICEs and core operations, and never echoes a password.
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void
irc_service_notice(struct pconn *pc, const char *svc, const char *fmt, ...)
{
	char text[IRC_LINELEN_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	irc_send(pc, IRC_SERVICE_NOTICE, svc, svc, irc_client(pc), text);
}

struct core_str
irc_service_word(struct core_str *s)
{
	size_t i = 0, k;

	while (i < s->n && s->p[i] == ' ')
		i++;
	k = i;
	while (k < s->n && s->p[k] != ' ')
		k++;
	struct core_str w = {s->p + i, k - i};
	s->p += k;
	s->n -= k;
	return w;
}

/* ---- NickServ ------------------------------------------------------------ */

#define NICKSERV "NickServ"

static int
nickserv_identify(struct pconn *pc, struct core_str words, struct core_op *op)
{
	struct core_str a = irc_service_word(&words);
	struct core_str b = irc_service_word(&words);

	(void)pc;
	if (a.n == 0)
		return -1;
	/* IDENTIFY password, or IDENTIFY account password. */
	*op = b.n ? (struct core_op){.kind = CORE_LOGIN, .arg = a, .text = b}
		  : (struct core_op){.kind = CORE_LOGIN, .text = a};
	return 1;
}

static int
nickserv_register(struct pconn *pc, struct core_str words, struct core_op *op)
{
	struct core_str pw = irc_service_word(&words);

	(void)pc;
	/* An e-mail address may follow: the server keeps none. */
	if (pw.n == 0)
		return -1;
	*op = (struct core_op){.kind = CORE_REGISTER, .text = pw};
	return 1;
}

static int
nickserv_logout(struct pconn *pc, struct core_str words, struct core_op *op)
{
	(void)pc;
	(void)words;
	*op = (struct core_op){.kind = CORE_LOGOUT};
	return 1;
}

static int nickserv_help(struct pconn *pc, struct core_str words,
			 struct core_op *op);

static const struct irc_service_cmd nickserv_cmds[] = {
    {"IDENTIFY", "IDENTIFY [account] password", nickserv_identify},
    {"REGISTER", "REGISTER password", nickserv_register},
    {"LOGOUT", "LOGOUT", nickserv_logout},
    {"HELP", "HELP", nickserv_help},
};

static int
nickserv_help(struct pconn *pc, struct core_str words, struct core_op *op)
{
	(void)words;
	(void)op;
	irc_service_notice(pc, NICKSERV,
			   "NickServ keeps nicknames for their accounts:");
	for (size_t i = 0; i < sizeof(nickserv_cmds) / sizeof(nickserv_cmds[0]);
	     i++)
		irc_service_notice(pc, NICKSERV, "  %s",
				   nickserv_cmds[i].usage);
	irc_service_notice(pc, NICKSERV, "End of help");
	return 0;
}

static void
nickserv_error(struct pconn *pc, enum core_err err, const char *a, long num)
{
	switch (err) {
	case CORE_ERR_STORE_DOWN:
		irc_service_notice(pc, NICKSERV,
				   "Accounts are unavailable right now; try "
				   "again soon");
		break;
	case CORE_ERR_NO_STORE:
		irc_service_notice(
		    pc, NICKSERV, "This server keeps no database: no accounts");
		break;
	case CORE_ERR_LOGIN_FAILED:
		irc_service_notice(pc, NICKSERV,
				   "Invalid password for %s (or no such "
				   "account)",
				   a);
		break;
	case CORE_ERR_LOGIN_LIMITED:
		irc_service_notice(pc, NICKSERV,
				   "Too many failed logins; try again in %ld s",
				   num);
		break;
	case CORE_ERR_ACCOUNT_EXISTS:
		irc_service_notice(pc, NICKSERV, "%s is already registered", a);
		break;
	case CORE_ERR_NOT_LOGGED_IN:
		irc_service_notice(pc, NICKSERV, "You are not logged in");
		break;
	case CORE_ERR_PASSWORD_INVALID:
		irc_service_notice(pc, NICKSERV,
				   "A password is %ld to 128 characters, "
				   "without spaces",
				   num);
		break;
	case CORE_ERR_LOGGED_IN:
		irc_service_notice(pc, NICKSERV,
				   "You are already logged in as %s; LOGOUT "
				   "first",
				   a);
		break;
	default:
		irc_service_notice(pc, NICKSERV, "The server refused that");
		break;
	}
}

static void
nickserv_reply(struct pconn *pc, const struct outbox_view *v)
{
	enum core_err err = (enum core_err)v->rec->aux;
	char a[OUTBOX_ARG_MAX + 1];
	uint64_t num = 0;

	if (v->rec->nids)
		memcpy(&num, &v->ids[0], sizeof(num));
	irc_cstr(a, sizeof(a), v->arg);
	if (err != CORE_OK) {
		nickserv_error(pc, err, a[0] ? a : "*", (long)num);
		return;
	}
	switch (pc->pending) {
	case CORE_LOGIN:
		irc_service_notice(pc, NICKSERV,
				   "You are now identified for %s", a);
		irc_logged_in(pc, a);
		break;
	case CORE_REGISTER:
		irc_service_notice(pc, NICKSERV,
				   "%s is now registered to you, and you are "
				   "logged in (next time: IDENTIFY password)",
				   a);
		irc_logged_in(pc, a);
		break;
	case CORE_LOGOUT:
		irc_service_notice(pc, NICKSERV, "You are now logged out");
		irc_logged_out(pc);
		break;
	default:
		break;
	}
}

/* ---- the table ----------------------------------------------------------- */

static const struct irc_service irc_nickserv = {
    NICKSERV, nickserv_cmds, sizeof(nickserv_cmds) / sizeof(nickserv_cmds[0]),
    nickserv_reply};

static const struct irc_service *const irc_services[] = {
    &irc_nickserv,
    &irc_chanserv,
};

#define IRC_NSERVICES (sizeof(irc_services) / sizeof(irc_services[0]))

static const struct irc_service *
irc_service_find(const char *name, size_t n)
{
	for (size_t i = 0; i < IRC_NSERVICES; i++)
		if (strlen(irc_services[i]->name) == n &&
		    strncasecmp(irc_services[i]->name, name, n) == 0)
			return irc_services[i];
	return NULL;
}

int
irc_service_named(const char *name, size_t n)
{
	return irc_service_find(name, n) != NULL;
}

int
irc_service_line(struct pconn *pc, struct core_str target, struct core_str text,
		 struct core_op *op, int *nops)
{
	const struct irc_service *svc = irc_service_find(target.p, target.n);
	struct irc_state *st = irc_state(pc);
	struct core_str words = text, name;
	int k;

	if (!svc)
		return 0;
	if (st->cmd == IRC_CMD_NOTICE || st->acct_via != IRC_VIA_NONE)
		return 1; /* a NOTICE is never answered; one service a line */
	name = irc_service_word(&words);
	for (size_t i = 0; i < svc->ncmds; i++) {
		const struct irc_service_cmd *c = &svc->cmds[i];
		if (strlen(c->name) != name.n ||
		    strncasecmp(c->name, name.p, name.n) != 0)
			continue;
		k = c->run(pc, words, op);
		if (k < 0)
			irc_service_notice(pc, svc->name, "Usage: %s",
					   c->usage);
		if (k > 0 && svc->reply) {
			/* An account operation: its answer comes back here. */
			st->acct_via = IRC_VIA_SERVICE;
			for (size_t j = 0; j < IRC_NSERVICES; j++)
				if (irc_services[j] == svc)
					st->service = (int)j;
		}
		if (k > 0)
			(*nops)++;
		return 1;
	}
	irc_service_notice(pc, svc->name, "Unknown command %s; try HELP",
			   irc_str(name));
	return 1;
}

void
irc_service_reply(struct pconn *pc, const struct outbox_view *v)
{
	int i = irc_state(pc)->service;

	if (i >= 0 && (size_t)i < IRC_NSERVICES && irc_services[i]->reply)
		irc_services[i]->reply(pc, v);
}
