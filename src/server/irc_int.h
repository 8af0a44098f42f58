/*
 * irc_int: what the IRC front end's files share: proto_irc.c (the struct
 * proto, the command table, parsing, the format half, what each record
 * says), irc_write.c (how lines are written), irc_login.c (CAP, registration,
 * the welcome), irc_channel.c (rooms), irc_message.c (PRIVMSG, NOTICE, history
 * on join), irc_history.c (CHATHISTORY) and irc_info.c (who is who, the
 * server). Session processes; pure like every protocol: its only output
 * is pc->emit, and a client's state lives in pc->state.
 */
#ifndef PARLEY_IRC_INT_H
#define PARLEY_IRC_INT_H

#include "server/proto.h"

#include <stdarg.h>
#include <stddef.h>

#define IRC_PARAMS_MAX	 15   /* RFC 1459: at most 15 parameters */
#define IRC_TARGETS_MAX	 8    /* TARGMAX of JOIN, PART, PRIVMSG, NOTICE */
#define IRC_USERHOST_MAX 5    /* nicknames one USERHOST answers */
#define IRC_LINELEN_MAX	 512  /* RFC 1459's line, CR LF included */
#define IRC_TAGS_MAX	 4094 /* a client's tag data, without @ and space */
#define IRC_COLLECT_MAX	 1024 /* what one USERHOST or ISON answer holds */
#define IRC_TARGET_MAX	 256  /* what a client named, quoted back */
#define IRC_SASL_CHUNK	 400  /* SASL: base64 bytes per AUTHENTICATE */
#define IRC_SASL_MAX	 800  /* SASL: base64 bytes of one response */
#define IRC_PASS_MAX	 200  /* PASS [account:]password */
#define IRC_HISTORY_MAX	 100  /* ISUPPORT CHATHISTORY: a request's most */
#define IRC_HISTREF_MAX	 64   /* a CHATHISTORY reference (CHANNEL_REF_MAX) */

/* Capabilities. The first seven change what broadcast lines look like:
 * with registration they make the client's variant. */
enum irc_cap {
	IRC_CAP_SERVER_TIME = 0x01,
	IRC_CAP_MESSAGE_TAGS = 0x02,
	IRC_CAP_ECHO_MESSAGE = 0x04,
	IRC_CAP_AWAY_NOTIFY = 0x08,
	IRC_CAP_ACCOUNT_NOTIFY = 0x10,
	IRC_CAP_ACCOUNT_TAG = 0x20,
	IRC_CAP_EXTENDED_JOIN = 0x40, /* JOIN #room account :real name */
	IRC_CAP_MULTI_PREFIX = 0x80,
	IRC_CAP_USERHOST_IN_NAMES = 0x100,
	IRC_CAP_BATCH = 0x200,
	IRC_CAP_CAP_NOTIFY = 0x400,
	IRC_CAP_SASL = 0x800,	      /* only with a store (--db) */
	IRC_CAP_CHATHISTORY = 0x1000, /* draft/chathistory: no join replay */
};

#define IRC_CAPS_BROADCAST 0x7f
_Static_assert(1 + IRC_CAPS_BROADCAST < PROTO_VARIANTS,
	       "every IRC variant has its own formatting slot");
_Static_assert((IRC_CAPS_BROADCAST & (IRC_CAPS_BROADCAST + 1)) == 0 &&
		   IRC_CAP_EXTENDED_JOIN <= IRC_CAPS_BROADCAST &&
		   IRC_CAP_MULTI_PREFIX > IRC_CAPS_BROADCAST,
	       "the broadcast capabilities are the low bits, and only they");

/* Variant 0: not registered, gets no broadcast line; 1 + caps after. */
static inline unsigned
irc_variant(int registered, unsigned caps)
{
	return registered ? 1 + (caps & IRC_CAPS_BROADCAST) : 0;
}

static inline unsigned
irc_variant_caps(unsigned variant)
{
	return variant ? variant - 1 : 0;
}

/* Commands, one per row of the table in proto_irc.c. */
enum irc_cmd {
	IRC_CMD_NONE,
	IRC_CMD_CAP,
	IRC_CMD_NICK,
	IRC_CMD_USER,
	IRC_CMD_PASS,
	IRC_CMD_PING,
	IRC_CMD_PONG,
	IRC_CMD_QUIT,
	IRC_CMD_JOIN,
	IRC_CMD_PART,
	IRC_CMD_TOPIC,
	IRC_CMD_NAMES,
	IRC_CMD_LIST,
	IRC_CMD_MODE,
	IRC_CMD_KICK,
	IRC_CMD_PRIVMSG,
	IRC_CMD_NOTICE,
	IRC_CMD_TAGMSG,
	IRC_CMD_WHO,
	IRC_CMD_WHOIS,
	IRC_CMD_LUSERS,
	IRC_CMD_MOTD,
	IRC_CMD_VERSION,
	IRC_CMD_TIME,
	IRC_CMD_INFO,
	IRC_CMD_USERHOST,
	IRC_CMD_ISON,
	IRC_CMD_AWAY,
	IRC_CMD_INVITE,
	IRC_CMD_OPER,
	IRC_CMD_KILL,
	IRC_CMD_WALLOPS,
	IRC_CMD_GLINE,
	IRC_CMD_UNGLINE,
	IRC_CMD_AUTHENTICATE,
	IRC_CMD_CHATHISTORY,
};

/* One parsed line. Strings point into the line. */
struct irc_msg {
	struct core_str tags; /* without the '@'; empty: none */
	struct core_str cmd;
	struct core_str params[IRC_PARAMS_MAX];
	unsigned nparams;
	int trailing; /* the last parameter came after a ':' */
};

/* A client's state, from open to close. */
struct irc_state {
	unsigned caps;	 /* enum irc_cap bits enabled */
	int cap_302;	 /* said CAP LS 302: cap-notify is on for good */
	int negotiating; /* CAP LS or REQ before registration, until END */
	int nick_set;	 /* the server took a NICK of the client's */
	int user_set;	 /* USER seen */
	int hello_sent;	 /* registration asked for */
	int registered;	 /* welcomed: others see it */
	int oper;	 /* a server operator (user mode o) */
	char user[OUTBOX_USER_MAX + 1];
	char realname[CONFIG_REALNAME_MAX + 1];
	char host[OUTBOX_HOST_MAX + 1]; /* its cloak, once registered */

	/* The command whose operations are running, and what it named
	 * (a WHO mask, NAMES room, WHOIS nick, LIST filter). */
	enum irc_cmd cmd;
	char target[IRC_TARGET_MAX];
	int away_set; /* the AWAY in progress sets a message */
	int opened;   /* the LIST or MOTD in progress has its first line */
	char collect[IRC_COLLECT_MAX]; /* USERHOST, ISON answers so far */
	size_t collect_len;
	unsigned batch_seq; /* batches opened so far */
	int batch_open;	    /* a history batch is open: its number */
	int mode_list;	    /* the MODE in progress asks for the bans */

	/* Accounts (irc_sasl.c, irc_services.c). */
	int sasl;      /* enum irc_sasl_step */
	int sasl_done; /* logged in by SASL: 907 from now on */
	/* The base64 so far (400 a line): IRC_SASL_MAX + 1 bytes, only
	 * while an exchange has some (irc_sasl.c); NULL otherwise. */
	char *sasl_buf;
	size_t sasl_len;
	int acct_via; /* enum irc_acct_via: who asked the account op */
	int service;  /* the service (irc_services.c) that did */
	/* PASS (IRC_PASS_MAX + 1 bytes), from the PASS until its login is
	 * answered or registration is done; NULL otherwise. */
	char *pass;
	int pass_state; /* 0 none, 1 given, 2 tried */
	unsigned grace; /* seconds the nickname is lent for */
	char grace_nick[OUTBOX_NICK_MAX + 1]; /* the nickname lent */
	/* Refused as registered before registration: a login to its
	 * account before the welcome takes it after all. */
	char refused_nick[OUTBOX_NICK_MAX + 1];
	char hist_sub[8]; /* the CHATHISTORY subcommand in progress */
	struct irc_targets *targets; /* a CHATHISTORY TARGETS in progress */
};

struct irc_command {
	const char *name;
	enum irc_cmd cmd;
	int (*run)(struct pconn *pc, const struct irc_msg *m,
		   struct core_op *ops);
	unsigned min_params, max_params; /* more are ignored */
	unsigned flags;			 /* IRC_PRE */
};

#define IRC_PRE 0x1 /* allowed before registration */

static inline struct irc_state *
irc_state(const struct pconn *pc)
{
	return pc->state;
}

/* ---- irc_write.c ---- */

/* The client's name in numerics: its nick, or "*" before it chose one. */
const char *irc_client(const struct pconn *pc);

/* Sends ":SERVER NNN CLIENT ..." for a format of irc_numerics.h (its
 * first three characters are the numeric), cut to fit IRC's line. */
void irc_num(struct pconn *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends one line as formatted (CR LF added), cut to fit. */
void irc_send(struct pconn *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends prefix + items (separated by spaces) in as many lines as it
 * takes to keep each within IRC's line; prefix is a numeric's format
 * already filled in (e.g. "353 = #room :"). */
void irc_num_list(struct pconn *pc, const char *prefix, const char *items,
		  size_t len);

/* The line length the server promises both ways (ISUPPORT LINELEN). */
size_t irc_linelen(const struct config *cfg);

/* Copies a record's string into out (n bytes), cut on a character
 * boundary, NUL-terminated; returns out. */
char *irc_cstr(char *out, size_t n, struct outbox_str s);

/* Emits each line of the CR LF separated buf[0..n). */
void irc_emit_lines(struct pconn *pc, const char *buf, size_t n);

/* Formats ms (wall clock) as an IRCv3 server-time into out (25 bytes). */
size_t irc_time(long long ms, char *out);

/* ---- proto_irc.c ---- */

/* A copy of s[0..n) that lives until the next parse (operations' strings
 * point there), or NULL when the scratch space is full. */
char *irc_keep(const char *s, size_t n);

/* A NUL-terminated copy of s without CTCP bytes (it and its NUL fit
 * IRC_TARGET_MAX bytes, cut on a character boundary) until the next
 * parse, to quote it back. */
const char *irc_str(struct core_str s);

/* Builds the line(s) of a message record v (MSG, PRIVMSG, HISTORY) as a
 * client with caps sees it, tagged with batch (NULL: none), into out
 * (PROTO_LINE_MAX bytes). Returns the length. */
size_t irc_message_lines(const struct proto_env *env,
			 const struct outbox_view *v, unsigned caps,
			 const char *batch, char *out);

/* ---- irc_login.c ---- */

int irc_cmd_cap(struct pconn *pc, const struct irc_msg *m, struct core_op *ops);
int irc_cmd_nick(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_user(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_pass(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_ping(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_pong(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_quit(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);

/* Writes the 005 lines (registration and VERSION). */
void irc_isupport(struct pconn *pc);

/* The REPLY of the client's CORE_NICK or CORE_HELLO. Returns the
 * operations to run next (registration, then the welcome's). */
int irc_login_reply(struct pconn *pc, const struct outbox_view *v,
		    struct core_op *ops);

/* Asks for registration (CORE_HELLO, or first the PASS login) when
 * everything it waits for is there. Returns the operations (0 or 1). */
int irc_login_try(struct pconn *pc, struct core_op *ops);

/* ---- irc_channel.c ---- */

int irc_cmd_join(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_part(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_topic(struct pconn *pc, const struct irc_msg *m,
		  struct core_op *ops);
int irc_cmd_names(struct pconn *pc, const struct irc_msg *m,
		  struct core_op *ops);
int irc_cmd_list(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);

/* Records for this client about rooms: TOPIC_INFO, NAMES, ROOM_INFO,
 * ROOM_END. */
void irc_channel_deliver(struct pconn *pc, const struct outbox_view *v);

/* The REPLY of a room request (JOIN, PART, TOPIC, NAMES, ROOMS). */
void irc_channel_reply(struct pconn *pc, const struct outbox_view *v);

/* ---- irc_mode.c ---- */

int irc_cmd_mode(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_kick(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_invite(struct pconn *pc, const struct irc_msg *m,
		   struct core_op *ops);
int irc_cmd_oper(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_kill(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_wallops(struct pconn *pc, const struct irc_msg *m,
		    struct core_op *ops);
int irc_cmd_gline(struct pconn *pc, const struct irc_msg *m,
		  struct core_op *ops);

/* OUTBOX_INVITE and OUTBOX_BAN_INFO for this client. */
void irc_mode_deliver(struct pconn *pc, const struct outbox_view *v);

/* The REPLY of a moderation request (MODE, KICK, BANS, INVITE, OPER,
 * KILL, WALL, GLINE). */
void irc_mode_reply(struct pconn *pc, const struct outbox_view *v);

/* Emits the numeric of a moderation error (room r and name a quoted);
 * returns 0 when err is none of them. */
int irc_mode_error(struct pconn *pc, enum core_err err, const char *r,
		   const char *a);

/* ---- irc_message.c ---- */

/* irc_chanserv.c: the NOTICEs that answer ChanServ's operations'
 * replies, and the refusal of a banned connection with its reason (465
 * and ERROR). */
void irc_chanserv_reply(struct pconn *pc, const struct outbox_view *v);
size_t irc_refusal_reason(enum proto_refusal why, const char *reason, char *out,
			  size_t n);
/* The same from the server called server (NULL: no prefix): 465 has it
 * as its prefix, and comes for a ban without a reason too. */
size_t irc_refusal_server(const char *server, enum proto_refusal why,
			  const char *reason, char *out, size_t n);

int irc_cmd_privmsg(struct pconn *pc, const struct irc_msg *m,
		    struct core_op *ops);
int irc_cmd_tagmsg(struct pconn *pc, const struct irc_msg *m,
		   struct core_op *ops);

/* The REPLY of a private message's lookup. */
void irc_message_reply(struct pconn *pc, const struct outbox_view *v);

/* The answer to a message to a room the client is not in (404 unless it
 * was a NOTICE). */
void irc_outside_reply(struct pconn *pc, const struct outbox_view *v);

/* An OUTBOX_HISTORY record: the message as it was, for clients with
 * server-time (in a batch with batch); the REPLY closes the batch. */
void irc_history_deliver(struct pconn *pc, const struct outbox_view *v);
void irc_history_end(struct pconn *pc);

/* ---- irc_history.c ---- */

int irc_cmd_chathistory(struct pconn *pc, const struct irc_msg *m,
			struct core_op *ops);

/* An OUTBOX_HISTORY record of a CHATHISTORY: in its batch (with batch),
 * whatever the other caps. */
void irc_chathistory_deliver(struct pconn *pc, const struct outbox_view *v);

/* The REPLY of a CHATHISTORY: closes its batch (an empty one if no
 * message came), or one FAIL line; for TARGETS, the next room's request
 * (returned in ops) until the last, then the list. */
int irc_chathistory_reply(struct pconn *pc, const struct outbox_view *v,
			  struct core_op *ops);

/* Frees what a CHATHISTORY in progress holds (the connection closes). */
void irc_history_close(struct pconn *pc);

/* ---- irc_info.c ---- */

int irc_cmd_who(struct pconn *pc, const struct irc_msg *m, struct core_op *ops);
int irc_cmd_whois(struct pconn *pc, const struct irc_msg *m,
		  struct core_op *ops);
int irc_cmd_lusers(struct pconn *pc, const struct irc_msg *m,
		   struct core_op *ops);
int irc_cmd_motd(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_version(struct pconn *pc, const struct irc_msg *m,
		    struct core_op *ops);
int irc_cmd_time(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_info(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_userhost(struct pconn *pc, const struct irc_msg *m,
		     struct core_op *ops);
int irc_cmd_ison(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);
int irc_cmd_away(struct pconn *pc, const struct irc_msg *m,
		 struct core_op *ops);

/* Records for this client about clients and the server: USER_INFO,
 * USER_ROOMS, LUSERS, MOTD. */
void irc_info_deliver(struct pconn *pc, const struct outbox_view *v);

/* The REPLY of WHO, WHOIS, USERS, LUSERS, MOTD or AWAY. */
void irc_info_reply(struct pconn *pc, const struct outbox_view *v);

/* irc_sasl.c and irc_services.c */
#include "server/irc_account.h"

#endif
