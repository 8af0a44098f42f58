/*
 * channel: the control plane between the supervisor and one session
 * process, over a SOCK_SEQPACKET socketpair. Each message is a fixed header
 * and a fixed-width payload; fds travel with SCM_RIGHTS. Both ends are
 * non-blocking and queue what the socket cannot take, so neither side ever
 * blocks on the other. A malformed message is a bug: the receiver logs it
 * and ends that session.
 */
#ifndef PARLEY_CHANNEL_H
#define PARLEY_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

/* Bump on any change to the types or payloads below, or to the values of
 * enum core_op_kind that requests carry. */
#define CHANNEL_VERSION 8

enum channel_type {
	/* 1xx: session -> supervisor */
	CHANNEL_MARK = 100,	     /* no payload: my outbox has new records */
	CHANNEL_REQUEST = 101,	     /* struct channel_request */
	CHANNEL_CLIENT_CLOSED = 102, /* struct channel_client_closed */
	CHANNEL_FLOW = 103, /* struct channel_flow: my ring is filling */

	/* 2xx: supervisor -> session */
	CHANNEL_CLIENT_NEW = 200, /* struct channel_client_new + the fd */
	CHANNEL_KICK = 201,	  /* struct channel_kick: close a client */
	CHANNEL_SHUTDOWN = 202,	  /* no payload: flush and exit (the store:
				     archive the whole timeline, then exit) */
	/* struct channel_tls_context + a sealed memfd: the TLS certificate,
	 * key and ticket keys after a reload (workers only: a fork-model
	 * session is forked with the current context). */
	CHANNEL_TLS_CONTEXT = 203,
	CHANNEL_FLOW_GO = 204, /* no payload: free_from reached what the
				  last CHANNEL_FLOW asked for */
	CHANNEL_STALLED = 205, /* no payload: your reader was marked out
				  (flow.h): you have been lapped */

	/* 3xx: supervisor -> store */
	CHANNEL_STORE_HISTORY = 300, /* struct channel_store_history */
	CHANNEL_STORE_ACCOUNT = 301, /* struct channel_store_account */
	CHANNEL_STORE_ROOM = 304,    /* struct channel_store_room: a change
					to a registered room or a server ban,
					to write (no answer) */
	/* struct channel_store_settings: a reload's new settings */
	CHANNEL_STORE_SETTINGS = 312,

	/* 4xx: store -> supervisor */
	CHANNEL_STORE_READY = 400,     /* no payload: the database is open and
					  every registered nickname was sent */
	CHANNEL_STORE_FAILED = 401,    /* struct channel_store_text: it cannot
					  be opened; the store exits */
	CHANNEL_STORE_DONE = 402,      /* struct channel_store_done: the oldest
					  request is answered (its records are
					  published in the store's outbox) */
	CHANNEL_STORE_NICKS = 403,     /* struct channel_store_nicks */
	CHANNEL_STORE_HEALTH = 404,    /* struct channel_store_text: empty when
					  commits work (again), else why not */
	CHANNEL_STORE_TOPIC = 405,     /* struct channel_store_topic: a stored
					  topic (the first store of a run
					  only, before its READY) */
	CHANNEL_STORE_ROOM_LOAD = 408, /* struct channel_store_room: stored
					  registered-room state and server
					  bans (the first store of a run
					  only, before its READY) */
};

#define CHANNEL_DATA_MAX   1536 /* room, arg and text of one request */
#define CHANNEL_NICK_MAX   32
#define CHANNEL_USER_MAX   16
#define CHANNEL_HOST_MAX   64
#define CHANNEL_ADDR_MAX   64
#define CHANNEL_REASON_MAX 256

struct channel_hdr {
	uint16_t type;
	uint16_t version;
	uint32_t len; /* payload bytes after the header */
};

/* A core operation a session asks of the supervisor for one client (a
 * struct core_op); answered by an OUTBOX_REPLY record in the timeline
 * after any records the request caused. data holds room, arg and text,
 * in that order, without NULs. */
struct channel_request {
	uint64_t client;
	uint16_t op;	/* enum core_op_kind */
	uint16_t flags; /* the op's flags */
	uint16_t room_len, arg_len;
	uint32_t text_len;
	uint32_t num; /* the op's num */
	char data[CHANNEL_DATA_MAX];
};

/* Why a session closed a client. */
enum channel_reason {
	CHANNEL_REASON_QUIT = 1,     /* /quit; text = the client's reason */
	CHANNEL_REASON_LOST = 2,     /* EOF, reset, error */
	CHANNEL_REASON_SENDQ = 3,    /* send queue exceeded */
	CHANNEL_REASON_LAPPED = 4,   /* messages lost: the reader lapped */
	CHANNEL_REASON_SHUTDOWN = 5, /* server shutting down */
	CHANNEL_REASON_KICKED = 6,   /* the supervisor asked */
	CHANNEL_REASON_TIMEOUT = 7,  /* silent for --ping-timeout after a
					ping; text says so */
	CHANNEL_REASON_KILLED = 8,   /* a server operator's /kill; text
					says who and why */
};

struct channel_client_closed {
	uint64_t client;
	uint16_t reason; /* enum channel_reason */
	uint16_t text_len;
	uint32_t reserved;
	char text[CHANNEL_REASON_MAX];
};

/* A new client for a worker (the fork model starts with one). */
struct channel_client_new {
	uint64_t client;
	uint16_t proto;	    /* enum proto_id: what its listener serves */
	uint16_t transport; /* enum transport_id */
	uint32_t reserved;
	char nick[CHANNEL_NICK_MAX + 1];
	char user[CHANNEL_USER_MAX + 1];
	char host[CHANNEL_HOST_MAX + 1]; /* what others see: no address */
	char addr[CHANNEL_ADDR_MAX];	 /* for logs only */
};

/* Sandboxed sessions cannot open files: the supervisor reads and checks
 * the certificate and key and passes their PEM bytes in a memfd (sealed:
 * it cannot change under the reader), followed by the ticket keys every
 * process shares, so a ticket issued by one worker resumes in another.
 * The worker builds its context from it and closes the fd. */
struct channel_tls_context {
	uint32_t generation; /* 1 at start, +1 per successful reload */
	uint32_t cert_len;   /* bytes 0..cert_len: certificate and chain */
	uint32_t key_len;    /* then the private key */
	uint32_t ticket_len; /* then the ticket keys (TLS_TICKET_KEYS_LEN) */
};

/* A producer asks to be told (CHANNEL_FLOW_GO) once every live reader
 * has read its ring up to target (a ring position); the supervisor
 * publishes free_from meanwhile. One outstanding per session; a new one
 * replaces it. */
struct channel_flow {
	uint64_t target;
};

struct channel_kick {
	uint64_t client;
	char text[CHANNEL_REASON_MAX];
	uint16_t reason; /* enum channel_reason; 0: CHANNEL_REASON_KICKED */
	uint16_t reserved[3];
};

/* ---- the store's channel ---- */

#define CHANNEL_ROOM_MAX  64  /* OUTBOX_ROOM_MAX */
#define CHANNEL_REF_MAX	  64  /* a history reference */
#define CHANNEL_PASS_MAX  128 /* a password */
#define CHANNEL_TOPIC_MAX 300 /* CONFIG_TOPIC_MAX */

/* History for one client: the store first archives the timeline up to
 * tl_pos (where the request was made), then writes the messages as
 * OUTBOX_HISTORY records for client. */
struct channel_store_history {
	uint64_t tag; /* the supervisor's request number */
	uint64_t client;
	uint64_t tl_pos;
	uint16_t selector; /* CORE_HISTORY_* */
	uint16_t limit;
	uint32_t reserved;
	char room[CHANNEL_ROOM_MAX + 1];
	char ref[CHANNEL_REF_MAX + 1];
	char ref2[CHANNEL_REF_MAX + 1];
};

/* An account operation (op: CORE_REGISTER, LOGIN, PASSWORD, UNREGISTER),
 * or a server operator's password check (CORE_OPER: name = the operator,
 * pass2 = its hash). The only place passwords travel: never in the
 * rings, never logged. */
struct channel_store_account {
	uint64_t tag;
	uint64_t client;
	uint16_t op;
	uint16_t reserved;
	uint32_t reserved2;
	char name[CHANNEL_NICK_MAX + 1]; /* the account (a nickname) */
	char addr[CHANNEL_ADDR_MAX];	 /* the client's address (rate limit) */
	char pass[CHANNEL_PASS_MAX + 1];
	char pass2[CHANNEL_PASS_MAX + 1]; /* CORE_PASSWORD: the new one */
};

/* The answer to the oldest outstanding request. */
struct channel_store_done {
	uint64_t tag;
	uint16_t err; /* enum core_err */
	uint16_t reserved;
	uint32_t count;			 /* history: messages written */
	uint64_t num;			 /* the error's number */
	char name[CHANNEL_NICK_MAX + 1]; /* the account, as registered */
	char arg[CHANNEL_REF_MAX + 1];	 /* the error's name parameter */
};

/* Registered nicknames: added, removed, or (at start) the whole set. */
enum channel_nicks_op {
	CHANNEL_NICKS_ADD = 1, /* registered; at start: one of the set */
	CHANNEL_NICKS_DEL = 2, /* no longer registered */
};

struct channel_store_nicks {
	uint16_t op; /* enum channel_nicks_op */
	uint16_t count;
	uint32_t len;
	char names[CHANNEL_DATA_MAX]; /* nicknames, each ended by a space */
};

struct channel_store_text {
	char text[CHANNEL_REASON_MAX];
};

/* The store's reloadable settings (struct config's fields of the same
 * names): it has no config of its own, and no live block. */
struct channel_store_settings {
	int32_t db_batch;
	int32_t db_delay_ms;
	int32_t history_days;
	int32_t store_private;
	int32_t stall_timeout_ms;
	int32_t verbose;
};

/* A room's topic as the database has it, for the supervisor to give the
 * room whenever it exists. */
struct channel_store_topic {
	int64_t ts_ms; /* when it was set (wall clock) */
	char room[CHANNEL_ROOM_MAX + 1];
	char by[CHANNEL_NICK_MAX + 1]; /* who set it */
	char topic[CHANNEL_TOPIC_MAX + 1];
};

/* What a struct channel_store_room says. */
enum channel_room_op {
	CHANNEL_ROOM_REGISTER = 1, /* room, who = founder, at_ms */
	CHANNEL_ROOM_DROP = 2,	   /* room: forget it and all it had */
	CHANNEL_ROOM_STATE = 3,	   /* room, modes, key, limit */
	CHANNEL_ROOM_OP_ADD = 4,   /* room, who = an operator account */
	CHANNEL_ROOM_OP_DEL = 5,   /* room, who */
	CHANNEL_ROOM_BAN_ADD = 6,  /* room, mask, who = set by, at_ms */
	CHANNEL_ROOM_BAN_DEL = 7,  /* room, mask */
	CHANNEL_GLINE_ADD = 8,	   /* mask, who, text = reason, at_ms */
	CHANNEL_GLINE_DEL = 9,	   /* mask */
	CHANNEL_ROOMS_RESET = 10,  /* forget every registered room and
				      server ban (a respawned store: the
				      supervisor sends them all again) */
};

#define CHANNEL_MASK_MAX 120 /* MASK_MAX */
#define CHANNEL_KEY_MAX	 23  /* MODES_KEY_MAX */

/* A registered room's state, one change at a time (the supervisor to
 * the store as it happens; the store to the supervisor at start). */
struct channel_store_room {
	uint16_t op; /* enum channel_room_op */
	uint16_t reserved;
	uint32_t modes; /* MODES_* */
	uint32_t limit;
	uint32_t reserved2;
	int64_t at_ms; /* wall clock */
	char room[CHANNEL_ROOM_MAX + 1];
	char who[CHANNEL_NICK_MAX + 1];
	char key[CHANNEL_KEY_MAX + 1];
	char mask[CHANNEL_MASK_MAX + 1];
	char text[CHANNEL_REASON_MAX + 1];
};

#define CHANNEL_MSG_MAX                                                        \
	(sizeof(struct channel_hdr) + sizeof(struct channel_request))

/* One queued outgoing message (with an optional fd to pass). */
struct channel_msg;

struct channel {
	int fd;
	struct channel_msg *q_head, *q_tail;
	size_t q_bytes; /* queued payload bytes, to bound a stalled peer */
};

/* Creates a SOCK_SEQPACKET socketpair, close-on-exec and non-blocking.
 * Returns 0 or -errno. */
int channel_pair(int fds[2]) __attribute__((warn_unused_result));

void channel_init(struct channel *ch, int fd);

/* Sends a message now if the socket takes it, else queues it (and the fd,
 * which the channel then owns and closes once sent or dropped). Returns 0,
 * or -ENOBUFS once more than max_queued bytes wait (the peer is stalled),
 * or -errno for a dead peer. Never blocks. */
int channel_send(struct channel *ch, uint16_t type, const void *payload,
		 size_t len, int pass_fd, size_t max_queued)
    __attribute__((warn_unused_result));

/* Sends what is queued. Returns 0 when the queue is empty, -EAGAIN when
 * bytes remain (wait for EPOLLOUT), or -errno. */
int channel_flush(struct channel *ch);

static inline int
channel_has_queued(const struct channel *ch)
{
	return ch->q_head != NULL;
}

/* Receives one message into buf (CHANNEL_MSG_MAX bytes). Returns the
 * payload length with *hdr filled and *fd_out set to a passed fd (or -1),
 * -EAGAIN when none is waiting, -EPIPE at EOF, -EBADMSG for a malformed
 * message, or -errno. */
int channel_recv(struct channel *ch, struct channel_hdr *hdr, void *buf,
		 int *fd_out) __attribute__((warn_unused_result));

/* Frees the queue (closing queued fds) and closes the socket. */
void channel_close(struct channel *ch);

#endif
