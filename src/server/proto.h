/*
 * proto: the interface every client protocol implements (plain lines in
 * proto_plain.c, IRC in proto_irc.c). A protocol has two pure halves: parse
 * (one framed, sanitised input line -> core operations, or replies of its own)
 * and format (a record -> the bytes of one line). Run in session processes.
 * Protocols do no I/O: they hand lines to their connection's emit callback,
 * which queues them for the client (or, under a fuzzer, collects them).
 */
#ifndef PARLEY_PROTO_H
#define PARLEY_PROTO_H

#include "server/config.h"
#include "server/core.h"
#include "server/outbox.h"

#include <stddef.h>
#include <stdint.h>

/* Which protocol a listener serves; travels in CHANNEL_CLIENT_NEW. */
enum proto_id {
	PROTO_PLAIN = 0,
	PROTO_IRC = 1,
	PROTO_COUNT,
};

/* A room a client is in, as its protocol sees it. The session's own room
 * object begins with one, so protocols can name and find rooms. */
struct proto_room {
	uint64_t id;
	char name[OUTBOX_ROOM_MAX + 1];
};

/* Server-wide facts a protocol may use, read-only. */
struct proto_env {
	const struct config *cfg;
	const struct outbox_shm *shm; /* message ids */
};

/* The protocol-visible part of a client connection. The session keeps id,
 * nick, account, rooms and pending true; the protocol owns state and variant.
 */
struct pconn {
	const struct proto *proto;
	const struct proto_env *env;
	uint64_t id;
	char nick[OUTBOX_NICK_MAX + 1];
	char account[OUTBOX_ACCT_MAX + 1]; /* logged in to; "" when none */
	struct proto_room *rooms[CONFIG_ROOMS_PER_CLIENT_MAX]; /* newest last */
	unsigned nrooms;
	enum core_op_kind pending; /* the request awaiting its reply */
	/* Broadcast records are formatted once per (protocol, variant,
	 * role): clients of one protocol that must see different bytes (IRC
	 * capabilities) have different variants, below PROTO_VARIANTS. */
	unsigned variant;
	int no_wall; /* asked not to get WALLOPS (IRC's user mode -w) */
	void *state; /* the protocol's own, from open to close */
	/* Queues one finished line (terminator included) for the client. */
	void (*emit)(struct pconn *pc, const char *line, size_t len);
};

#define PROTO_VARIANTS 256
/* Operations one line or record may yield: enough to leave every room
 * at once (IRC's JOIN 0). */
#define PROTO_OPS_MAX  CONFIG_ROOMS_PER_CLIENT_MAX
#define PROTO_LINE_MAX (OUTBOX_REC_MAX + 512) /* a formatted line */

/* Who a broadcast record goes to. */
enum proto_role {
	PROTO_ROLE_MEMBER = 0, /* a member of its room, or its target */
	PROTO_ROLE_AUTHOR = 1, /* the client that caused it */
	PROTO_ROLE_COUNT
};

/* What a session tells a client of its own accord. */
enum proto_event {
	PROTO_EV_LINE_TOO_LONG, /* num: the limit; the line was discarded */
	PROTO_EV_SHUTDOWN,	/* the server is stopping */
	PROTO_EV_CLOSED,	/* the server closes the connection: text */
	PROTO_EV_PING,		/* silent for --ping-timeout (num: seconds):
				   ask for a sign of life (only protocols
				   with pings set) */
};

/* Why the supervisor refuses a connection before any session has it. */
enum proto_refusal {
	PROTO_REFUSE_FULL,     /* --max-clients reached */
	PROTO_REFUSE_PER_ADDR, /* num: --max-per-address */
	PROTO_REFUSE_BUSY,     /* no session process can take it */
	PROTO_REFUSE_BANNED,   /* a server-wide ban (/gline) matches it */
};

struct proto {
	const char *name;
	enum proto_id id;
	/* Its clients stay invisible to others (no member lists, lookups
	 * or counts as users) until their CORE_HELLO: they register. */
	int registers;
	/* Its silent clients get PROTO_EV_PING after --ping-timeout, and
	 * are closed (CHANNEL_REASON_TIMEOUT) after as long again. */
	int pings;
	/* Sanitises one framed line into out (LINE_SANITIZED_MAX(len)
	 * bytes) before parse; returns its length. NULL: line_sanitize. */
	size_t (*sanitize)(const char *in, size_t len, char *out);
	/* The connection is ready (its transport too): set up state, greet.
	 * Returns how many operations it put in ops (PROTO_OPS_MAX). */
	int (*open)(struct pconn *pc, struct core_op *ops);
	/* Frees state. */
	void (*close)(struct pconn *pc);
	/* One sanitised line (without its terminator) -> operations; errors
	 * and protocol-local answers are emitted. Returns the count. The
	 * operations' strings point into line, the client's rooms, its
	 * state or static storage: valid until the next call. */
	int (*parse)(struct pconn *pc, const char *line, size_t len,
		     struct core_op *ops);
	/* An operation failed (in the session or the supervisor): emit it. */
	void (*error)(struct pconn *pc, enum core_err err,
		      struct outbox_str room, struct outbox_str arg, long num);
	/* Formats a broadcast record (MSG, PRIVMSG, JOIN, PART, QUIT, NICK,
	 * TOPIC, AWAY) for a recipient of this variant and role into out
	 * (at least PROTO_LINE_MAX bytes): its line, or lines where the
	 * protocol needs several. Pure. Returns the length; 0 when such a
	 * recipient gets nothing. */
	size_t (*format)(const struct proto_env *env,
			 const struct outbox_view *v, unsigned variant,
			 enum proto_role role, char *out);
	/* After the line of a broadcast record this client caused, and
	 * after the session has applied it (membership, nick): may update
	 * state and emit. May be NULL. */
	void (*self)(struct pconn *pc, const struct outbox_view *v);
	/* A record for this client alone (kinds 4x): emit what it says.
	 * Only for OUTBOX_REPLY may it return operations (to run once the
	 * request is done); otherwise it returns 0. */
	int (*deliver)(struct pconn *pc, const struct outbox_view *v,
		       struct core_op *ops);
	/* Emits the line for a session event (text and num as documented
	 * for each). */
	void (*event)(struct pconn *pc, enum proto_event ev, const char *text,
		      long num);
	/* Pure: the line that refuses a connection (proto_refusal_line). */
	size_t (*refusal)(enum proto_refusal why, long num, char *out,
			  size_t n);
	/* Pure, optional: the refusal with a reason (a server ban's);
	 * NULL: the refusal's line with " (reason)" before its end. */
	size_t (*refusal_reason)(enum proto_refusal why, const char *reason,
				 char *out, size_t n);
	/* Pure, optional: refusal_reason from the server called server,
	 * for protocols whose lines name it (IRC's numerics); NULL:
	 * refusal_reason. */
	size_t (*refusal_server)(const char *server, enum proto_refusal why,
				 const char *reason, char *out, size_t n);
};

/* The protocol with this id, or NULL. */
const struct proto *proto_get(unsigned id);

/* The protocol called name ("plain", "irc"), or NULL when none is built
 * in: how a WebSocket subprotocol names the protocol it speaks. */
const struct proto *proto_get_by_name(const char *name);

/* The line (terminator included) that tells a client of protocol id why
 * it is refused, into out (n bytes). Returns its length. Pure: used by the
 * supervisor, which writes it on a plaintext connection before closing. */
size_t proto_refusal_line(unsigned id, enum proto_refusal why, long num,
			  char *out, size_t n);

/* As proto_refusal_line, with the reason the client is refused for
 * (empty: none), as the protocol says it. Pure. */
size_t proto_refusal_reason_line(unsigned id, enum proto_refusal why,
				 const char *reason, char *out, size_t n);

/* The line(s) that refuse a client of protocol id for why with reason
 * ("" none), from the server called server (its --server-name, which
 * IRC's numerics name), into out (n bytes); returns the length. Pure: the
 * supervisor writes them before closing a refused connection. */
size_t proto_refusal_server_line(unsigned id, const char *server,
				 enum proto_refusal why, const char *reason,
				 char *out, size_t n);

/* The room of pc with this name (ASCII case-insensitively), or NULL. */
struct proto_room *proto_room_named(const struct pconn *pc, const char *name,
				    size_t len);

/* The room of pc with this id, or NULL. */
struct proto_room *proto_room_by_id(const struct pconn *pc, uint64_t id);

extern const struct proto proto_plain;
extern const struct proto proto_irc;

#endif
