/*
 * core: the protocol-neutral vocabulary between front ends and the chat
 * core. A protocol's parser turns a line into core operations; sessions
 * carry them out (locally or as a request to the supervisor); failures
 * come back as a core error with its parameters, which each protocol
 * spells. Nothing here knows how any protocol looks on the wire.
 */
#ifndef PARLEY_CORE_H
#define PARLEY_CORE_H

#include <stddef.h>
#include <stdint.h>

/* What a client asks for. Bump CHANNEL_VERSION on any change: the values
 * travel in channel requests. */
enum core_op_kind {
	CORE_NONE = 0,	  /* nothing to do */
	CORE_SAY = 1,	  /* room, text; flags: OUTBOX_MSG_* */
	CORE_PRIVMSG = 2, /* arg = nickname, text; flags: OUTBOX_MSG_* */
	CORE_NICK = 3,	  /* arg = new nickname */
	CORE_JOIN = 4,	  /* room; flags: CORE_WANT_* (what to send back) */
	CORE_PART = 5,	  /* room, text = reason */
	CORE_TOPIC = 6,	  /* room; flags CORE_TOPIC_SET (text) or _CLEAR,
			     none: show it */
	CORE_NAMES = 7,	  /* room: its members */
	CORE_ROOMS = 8,	  /* every room, with counts and topics; room
			     given: that room's OUTBOX_ROOM_INFO alone */
	CORE_QUIT = 9,	  /* text = reason */
	CORE_HELLO = 10,  /* the client is ready to chat: others can see
			     it from now on; arg = its user name and text =
			     its real name, if it gave them; flags
			     CORE_HELLO_LOBBY: join the default room, with
			     CORE_WANT_* for it */

	/* 11-29: asked for by the IRC front end (any protocol may) */
	CORE_WHO = 11,	  /* room: its members; else arg = a nickname or a
			     mask (* and ?) matched against nicknames: every
			     visible client it matches. An OUTBOX_USER_INFO
			     each; no error when none */
	CORE_WHOIS = 12,  /* arg = nickname: OUTBOX_USER_INFO, then
			     OUTBOX_USER_ROOMS */
	CORE_USERS = 13,  /* text = nicknames separated by spaces: an
			     OUTBOX_USER_INFO for each one that is connected,
			     in order */
	CORE_LUSERS = 14, /* OUTBOX_LUSERS: how many clients and rooms */
	CORE_MOTD = 15,	  /* OUTBOX_MOTD, one per line of --motd */
	CORE_AWAY = 16,	  /* text = away message (empty: back); members of
			     the client's rooms get OUTBOX_AWAY */

	/* 3x: the store (history, accounts); answered by the supervisor
	 * once the store is done, or at once when it is down */
	CORE_HISTORY = 30,    /* room; flags: a CORE_HISTORY_* selector; arg
				 (and text, for BETWEEN) a reference: "*",
				 "msgid=ID", "timestamp=ISO-8601", "seq=N" or
				 "ms=N"; num: at most this many (OUTBOX_HISTORY
				 records, oldest first, then the REPLY with
				 ids[0] = how many) */
	CORE_REGISTER = 31,   /* text = password: registers the client's
				 nickname as an account and logs in to it */
	CORE_LOGIN = 32,      /* arg = account (empty: the client's nickname),
				 text = password; flags CORE_LOGIN_KEEP_NICK */
	CORE_LOGOUT = 33,     /* leaves the account; a registered nickname
				 is given up for a guest one */
	CORE_PASSWORD = 34,   /* arg = the old password, text = the new */
	CORE_UNREGISTER = 35, /* text = password: deletes the account */
	/* 36-39: registered rooms (supervisor_rooms.c) */
	CORE_ROOM_REGISTER = 36, /* room: registers it to the client's account
				    (a logged-in operator of it); REPLY arg =
				    the founder */
	CORE_ROOM_DROP = 37,	 /* room: unregisters it (its founder, or a
				    server operator) */
	CORE_ROOM_INFO = 38,	 /* room: REPLY arg = its founder, num =
				    when it was registered (ms) */
	CORE_ROOM_SAY = 39,	 /* room, text; flags OUTBOX_MSG_*: a message
				    to a room the client is not in: refused
				    with CORE_ERR_NOT_IN_ROOM when it is +n,
				    CORE_ERR_CANNOT_SEND when +m or banned */
	/* 40-59: moderation (supervisor_mod.c) */
	CORE_MODE = 40,	  /* room; text = changes ("+o-v alice bob", modes.h);
			     empty: OUTBOX_ROOM_INFO with its modes */
	CORE_KICK = 41,	  /* room, arg = nickname, text = reason */
	CORE_BANS = 42,	  /* room: an OUTBOX_BAN_INFO per ban */
	CORE_INVITE = 43, /* room, arg = nickname: it may join (+i) */
	CORE_OPER = 44,	  /* arg = operator name, text = password */
	CORE_KILL = 45,	  /* arg = nickname, text = reason (server operator) */
	CORE_WALL = 46,	  /* text: OUTBOX_WALL to everyone (server operator) */
	CORE_GLINE = 47,  /* arg = address mask, text = reason; flags
			     CORE_GLINE_REMOVE lifts it, CORE_GLINE_LIST (no
			     arg) lists them as OUTBOX_BAN_INFO (server
			     operator) */
};

/* flags of CORE_JOIN (and CORE_HELLO): what the joiner gets besides the
 * join itself, before the reply */
#define CORE_WANT_TOPIC	  0x1 /* OUTBOX_TOPIC_INFO when a topic is set */
#define CORE_WANT_NAMES	  0x2 /* OUTBOX_NAMES */
#define CORE_WANT_HISTORY 0x4 /* OUTBOX_HISTORY, oldest first */
#define CORE_HELLO_LOBBY  0x8

/* flags of CORE_HISTORY: which messages, relative to the references */
#define CORE_HISTORY_LATEST 0 /* the newest num (after arg, unless "*") */
#define CORE_HISTORY_BEFORE 1 /* the num just before arg */
#define CORE_HISTORY_AFTER  2 /* the num just after arg */
#define CORE_HISTORY_AROUND 3 /* num centred on arg */
#define CORE_HISTORY_BETWEEN                                                   \
	4 /* between arg and text (exclusive), num                             \
	     nearest arg */
#define CORE_HISTORY_SELECTOR(flags) ((flags)&0x7)

/* flags of CORE_LOGIN */
#define CORE_LOGIN_KEEP_NICK 0x1 /* do not take the account's nickname */
/* flags of CORE_GLINE */
#define CORE_GLINE_REMOVE 0x1
#define CORE_GLINE_LIST	  0x2

/* flags of CORE_TOPIC */
#define CORE_TOPIC_SET	 0x1
#define CORE_TOPIC_CLEAR 0x2

/* A string of an operation: not NUL-terminated, points into the line it
 * was parsed from. */
struct core_str {
	const char *p;
	size_t n;
};

struct core_op {
	enum core_op_kind kind;
	unsigned flags;
	struct core_str room; /* empty: none given */
	struct core_str arg;
	struct core_str text;
	unsigned num; /* a count (CORE_HISTORY: the limit); 0: none */
};

/* Why an operation failed. Parameters travel with it: the room (room),
 * a nickname (arg) and a number (num); each error names which it uses.
 * The values travel in OUTBOX_REPLY records: bump OUTBOX_VERSION on any
 * change. */
enum core_err {
	CORE_OK = 0,
	CORE_ERR_NICK_IN_USE = 1,     /* arg */
	CORE_ERR_NICK_INVALID = 2,    /* arg */
	CORE_ERR_NICK_SAME = 3,	      /* arg: already the client's nick */
	CORE_ERR_ROOM_INVALID = 4,    /* room */
	CORE_ERR_NOT_IN_ROOM = 5,     /* room */
	CORE_ERR_NO_SUCH_ROOM = 6,    /* room */
	CORE_ERR_NO_SUCH_NICK = 7,    /* arg */
	CORE_ERR_CLIENT_ROOMS = 8,    /* num: --max-rooms-per-client */
	CORE_ERR_SERVER_ROOMS = 9,    /* num: --max-rooms */
	CORE_ERR_TOPIC_TOO_LONG = 10, /* num: bytes allowed */
	CORE_ERR_NO_ROOM = 11,	      /* the client is in no room at all */
	CORE_ERR_NO_TEXT = 12,	      /* nothing to send */
	CORE_ERR_UNAVAILABLE = 13,    /* the server cannot answer now */

	/* 14-39: the IRC front end's */
	CORE_ERR_NO_MOTD = 14, /* no message of the day (--motd) */

	/* 4x: the store and accounts */
	CORE_ERR_STORE_DOWN = 40,	/* the store is not running (or cannot
					   write its database) right now */
	CORE_ERR_NO_STORE = 41,		/* the server runs with --db none */
	CORE_ERR_NICK_REGISTERED = 42,	/* arg: registered to an account the
					   client is not logged in to */
	CORE_ERR_LOGIN_FAILED = 43,	/* arg: no such account, or a wrong
					   password */
	CORE_ERR_LOGIN_LIMITED = 44,	/* num: seconds before another try */
	CORE_ERR_ACCOUNT_EXISTS = 45,	/* arg: already registered */
	CORE_ERR_NOT_LOGGED_IN = 46,	/* the client has no account */
	CORE_ERR_PASSWORD_INVALID = 47, /* num: the shortest allowed */
	CORE_ERR_HISTORY_REF = 48,	/* arg: an unknown message reference */
	CORE_ERR_LOGGED_IN = 49,	/* arg: already logged in to it */
	/* 50-69: moderation's */
	CORE_ERR_CHANOP_NEEDED = 50,   /* room: not its operator */
	CORE_ERR_USER_NOT_IN = 51,     /* room, arg: that nick is not in it */
	CORE_ERR_USER_ON_ROOM = 52,    /* room, arg: already in it (invite) */
	CORE_ERR_UNKNOWN_MODE = 53,    /* room, arg = the letter */
	CORE_ERR_ROOM_FULL = 54,       /* room (+l) */
	CORE_ERR_INVITE_ONLY = 55,     /* room (+i) */
	CORE_ERR_BANNED = 56,	       /* room: a ban matches the client */
	CORE_ERR_BAD_KEY = 57,	       /* room (+k) */
	CORE_ERR_CANNOT_SEND = 58,     /* room: +m without voice, or +n */
	CORE_ERR_OPER_FAILED = 59,     /* wrong operator password */
	CORE_ERR_NO_OPER_NAME = 60,    /* no such operator name */
	CORE_ERR_NOT_OPER = 61,	       /* only server operators may */
	CORE_ERR_MODE_ARG = 62,	       /* room, arg = the letter: its parameter
					  is missing or malformed */
	CORE_ERR_BAD_MASK = 63,	       /* arg: not a usable mask */
	CORE_ERR_BAN_LIST_FULL = 64,   /* room, num: the most bans a room has */
	CORE_ERR_NO_SUCH_BAN = 65,     /* room (or none: server-wide), arg */
	CORE_ERR_ROOM_REGISTERED = 66, /* room, arg = its founder */
	CORE_ERR_ROOM_UNREGISTERED = 67, /* room: not registered */
	CORE_ERR_NOT_FOUNDER = 68,	 /* room, arg = its founder */
	CORE_ERR_ROOM_SERVERS = 69,	 /* room: the default room is the
					    server's */
};

/* Names for logs ("join", "no such nick"; "unknown" for other values). */
const char *core_op_name(enum core_op_kind op);
const char *core_err_name(enum core_err err);

#endif
