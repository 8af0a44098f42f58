/*
 * irc_account: what the IRC front end's account files share with the
 * rest of it: irc_sasl.c (SASL PLAIN, PASS, the answers of account
 * operations), irc_services.c (NickServ and the service table) and
 * irc_chanserv.c (ChanServ).
 * Session processes; included by irc_int.h, after struct irc_state.
 */
#ifndef PARLEY_IRC_ACCOUNT_H
#define PARLEY_IRC_ACCOUNT_H

/* ---- irc_sasl.c ---- */

enum irc_sasl_step {
	IRC_SASL_NONE = 0,
	IRC_SASL_WAIT, /* AUTHENTICATE PLAIN said; its payload comes */
	IRC_SASL_BUSY, /* the login runs: registration waits for it */
};

/* Who asked for the account operation in progress. */
enum irc_acct_via {
	IRC_VIA_NONE = 0,
	IRC_VIA_SASL,
	IRC_VIA_PASS,
	IRC_VIA_SERVICE,
};

int irc_cmd_authenticate(struct pconn *pc, const struct irc_msg *m,
			 struct core_op *ops);

/* Registration is done, or the connection closes: frees (wiped) what
 * only registration needs, the SASL buffer and the PASS. */
void irc_login_free(struct irc_state *st);

/* PASS before registration: kept for the login registration runs. */
void irc_pass_keep(struct pconn *pc, struct core_str pass);

/* The PASS login, when one is due: its operation (1), else 0. */
int irc_pass_login(struct pconn *pc, struct core_op *ops);

/* The nickname nick was refused as registered before registration: with
 * a PASS to try, logs in to it (1 operation), else 0. */
int irc_pass_nick(struct pconn *pc, const char *nick, struct core_op *ops);

/* The REPLY of CORE_LOGIN, CORE_REGISTER or CORE_LOGOUT; returns the
 * operations to run next. */
int irc_account_reply(struct pconn *pc, const struct outbox_view *v,
		      struct core_op *ops);

/* The welcome is done: says what a lent nickname needs (NickServ). */
void irc_account_welcomed(struct pconn *pc);

/* 900 and 901, to the client itself. */
void irc_logged_in(struct pconn *pc, const char *account);
void irc_logged_out(struct pconn *pc);

/* ---- irc_services.c ---- */

/* One command of a service: words are the text after its name. run
 * returns 1 with *op filled, 0 when it answered itself, -1 for its usage. */
struct irc_service_cmd {
	const char *name;
	const char *usage; /* for HELP and a wrong use */
	int (*run)(struct pconn *pc, struct core_str words, struct core_op *op);
};

struct irc_service {
	const char *name;
	const struct irc_service_cmd *cmds;
	size_t ncmds;
	/* The REPLY of the account operation one of its commands asked for
	 * (NULL: its operations' replies are answered elsewhere). */
	void (*reply)(struct pconn *pc, const struct outbox_view *v);
};

/* ChanServ (irc_chanserv.c), a row of the service table. */
extern const struct irc_service irc_chanserv;

/* The next space-separated word of *s, which moves past it. */
struct core_str irc_service_word(struct core_str *s);

/* A PRIVMSG or NOTICE to target with text: if target is a service, it
 * answers (a NOTICE is swallowed) and may put an operation in *op
 * (*nops counts it). Returns 1 when target was a service. */
int irc_service_line(struct pconn *pc, struct core_str target,
		     struct core_str text, struct core_op *op, int *nops);

/* Whether name (n bytes) is a service's: no client may take it. */
int irc_service_named(const char *name, size_t n);

/* The REPLY of an operation a service asked for. */
void irc_service_reply(struct pconn *pc, const struct outbox_view *v);

/* Sends a NOTICE from the service named svc to the client. */
void irc_service_notice(struct pconn *pc, const char *svc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
