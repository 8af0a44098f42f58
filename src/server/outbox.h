/*
 * outbox: the shared-memory data plane. Every producer (producer 0 is the
 * supervisor, producer s+1 is session s) owns a ring that only it writes;
 * the timeline is a ring of marks that only the supervisor writes and that
 * defines the one global order. Writers never wait; readers detect being
 * lapped and never deliver torn data. The mapping is anonymous MAP_SHARED,
 * created before any fork: nothing is named, nothing outlives the server.
 */
#ifndef PARLEY_OUTBOX_H
#define PARLEY_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Record kinds. Wire contract between processes of one server: bump
 * OUTBOX_VERSION on any change (all processes come from one binary, so the
 * version only guards against mistakes in this file). A record says what
 * happened, never how a protocol spells it (DESIGN.md section 9). */
#define OUTBOX_VERSION 7

enum outbox_kind {
	OUTBOX_PAD = 0, /* filler to the end of the ring; skipped */

	/* 1x: written by sessions, authored by client src (nick, user, host,
	 * acct: the author as it was when it spoke) */
	OUTBOX_MSG = 10,     /* to room target (room: its name); aux =
				OUTBOX_MSG_* flags */
	OUTBOX_PRIVMSG = 11, /* to client target; arg = the target's nick;
				aux = OUTBOX_MSG_* flags */

	/* 2x: written by the supervisor: events the members of rooms see */
	OUTBOX_JOIN = 20,     /* src joined room target; aux =
				 OUTBOX_ANNOUNCE when every member is told;
				 text = its away message (empty: none);
				 arg = its real name (empty: none);
				 ids[0] = the room's MODES_* flags, ids[1]
				 = the joiner's OUTBOX_MEMBER_* bits */
	OUTBOX_PART = 21,     /* src left room target; text = reason; aux as
				 for JOIN */
	OUTBOX_QUIT = 22,     /* src left the server; text = reason; ids =
				 rooms whose members are told */
	OUTBOX_NICK = 23,     /* src renamed from nick to arg; ids = rooms */
	OUTBOX_TOPIC = 24,    /* src set the topic of room target to text;
				 empty text: cleared */
	OUTBOX_SHUTDOWN = 25, /* to everyone: the server is stopping */
	OUTBOX_AWAY = 26,     /* src is away: text (empty: back again); ids
				 = rooms whose members are told */

	/* 30-39: moderation's events (supervisor_mod.c) */
	OUTBOX_MODE = 30,   /* src changed the modes of room target: text =
			       the changes as applied ("+o-v alice bob");
			       ids[0] = the room's MODES_* flags after, then
			       pairs of (client id, its OUTBOX_MEMBER_OP and
			       _VOICE bits after); src 0: the server */
	OUTBOX_KICK = 31,   /* src removed ids[0] (nick arg) from room
			       target; text = reason */
	OUTBOX_INVITE = 32, /* for client target: src invites it to room */
	OUTBOX_WALL = 33,   /* to everyone: server operator src says text */

	/* 4x: written by the supervisor for one client, target: answers to
	 * its requests. Each request ends with exactly one REPLY, after
	 * every other record it caused. */
	OUTBOX_REPLY = 40,	/* aux = enum core_err (0: done); room, arg and
				   ids[0] are the error's parameters, or on
				   success the room joined (ids[0] its id) or
				   the client resolved (ids[0], arg = nick,
				   text = its away message); for CORE_HELLO,
				   nick, user and host are the client as
				   others see it from now on */
	OUTBOX_TOPIC_INFO = 41, /* room's topic is text (empty: none), set by
				   arg at ids[0] (ms; 0: unknown) */
	OUTBOX_NAMES = 42,	/* members of room: text is a list of entries
				   (see OUTBOX_NAMES_*), aux = OUTBOX_LAST on
				   the last chunk */
	OUTBOX_ROOM_INFO = 43,	/* room has ids[0] members; text = topic;
				   ids[1] = when it was made (ms); arg =
				   its modes (modes_format; the key shown
				   to members only) */
	OUTBOX_ROOM_END = 44,	/* end of a room list of ids[0] rooms */
	OUTBOX_HISTORY = 45,	/* an earlier room message: nick, user, host,
				   acct, room and text as in the MSG, ts_ms its
				   time, aux its flags, arg its msgid; from the
				   store (the only kind it writes), ids[0] is
				   its sequence number in the room */

	/* 46-59: answers the IRC front end asks for (any protocol may) */
	OUTBOX_USER_INFO = 46,	/* a client: nick, user, host, acct; arg =
				   real name; text = away message (empty:
				   here); room = the room asked about (WHO
				   #room), else empty; aux = OUTBOX_MEMBER_*
				   bits (AWAY when away), and USER_SECURE
				   when it came over TLS; ids[0] = connected
				   at, ids[1] = last active (wall-clock ms) */
	OUTBOX_USER_ROOMS = 47, /* the rooms of client nick: text = their
				   names separated by spaces; ids[i] = its
				   OUTBOX_MEMBER_OP/_VOICE bits in the i-th */
	OUTBOX_LUSERS = 48,	/* ids[0] visible clients, ids[1] clients not
				   yet visible (registering), ids[2] rooms,
				   ids[3] the most visible clients at once */
	OUTBOX_MOTD = 49,	/* one line of the message of the day: text */

	/* 6x: the store and accounts, written by the supervisor */
	OUTBOX_ACCOUNT = 60, /* src is now logged in as acct (empty: logged
				out); ids = rooms whose members are told */
	OUTBOX_WARNING = 61, /* for client target: part of its request could
				not be done (the request goes on); aux = enum
				core_err, room and arg its parameters */
	/* 70-79: moderation's answers */
	OUTBOX_BAN_INFO = 70, /* a ban of room (empty room: server-wide): arg
				 = its mask, nick = who set it, text = the
				 reason (server-wide), ids[0] = when (ms) */
};

/* aux of OUTBOX_MSG, OUTBOX_PRIVMSG and OUTBOX_HISTORY */
#define OUTBOX_MSG_ACTION 0x1 /* an action ("/me waves") */
#define OUTBOX_MSG_NOTICE 0x2 /* a notice: never answered automatically */
#define OUTBOX_MSG_CTCP                                                        \
	0x4 /* a client-to-client query other than an                          \
	       action (text: "VERSION", "PING 123");                           \
	       protocols without CTCP show nothing */

/* aux of OUTBOX_JOIN and OUTBOX_PART */
#define OUTBOX_ANNOUNCE 0x1

/* aux of OUTBOX_NAMES */
#define OUTBOX_LAST 0x1

/* An OUTBOX_NAMES entry is FLAGS NICK '!' USER '@' HOST, entries separated
 * by one space. FLAGS is one hexadecimal digit of OUTBOX_MEMBER_* bits;
 * a nickname never starts with a digit, so the digit is unambiguous. */
#define OUTBOX_MEMBER_OP    0x1
#define OUTBOX_MEMBER_VOICE 0x2
#define OUTBOX_MEMBER_AWAY  0x4

/* aux of OUTBOX_USER_INFO, beside the OUTBOX_MEMBER_* bits: the client's
 * transport is encrypted (TLS). Above the bits a NAMES entry spells. */
#define OUTBOX_USER_SECURE 0x100
#define OUTBOX_USER_OPER   0x200 /* a server operator */

#define OUTBOX_NICK_MAX	 32
#define OUTBOX_USER_MAX	 16
#define OUTBOX_HOST_MAX	 64
#define OUTBOX_ACCT_MAX	 32
#define OUTBOX_ROOM_MAX	 64
#define OUTBOX_ARG_MAX	 255
#define OUTBOX_IDS_MAX	 64
#define OUTBOX_TEXT_MAX	 (32 * 1024)
#define OUTBOX_REC_ALIGN 8

/* Record header; followed by uint64 ids[nids], then nick, user, host,
 * acct, room, arg and text (no NULs), the whole padded to
 * OUTBOX_REC_ALIGN. */
struct outbox_rec {
	uint32_t len;  /* total bytes, header included, aligned */
	uint16_t kind; /* enum outbox_kind */
	uint16_t aux;
	uint64_t src;	 /* author's client id; 0 = the server */
	uint64_t target; /* room id or client id, by kind */
	int64_t ts_ms;	 /* wall-clock milliseconds */
	uint32_t text_len;
	uint16_t nids;
	uint8_t nick_len, user_len, host_len, acct_len, room_len, arg_len;
};

#define OUTBOX_REC_MAX                                                         \
	(sizeof(struct outbox_rec) + OUTBOX_IDS_MAX * 8 + OUTBOX_NICK_MAX +    \
	 OUTBOX_USER_MAX + OUTBOX_HOST_MAX + OUTBOX_ACCT_MAX +                 \
	 OUTBOX_ROOM_MAX + OUTBOX_ARG_MAX + OUTBOX_TEXT_MAX +                  \
	 OUTBOX_REC_ALIGN)

/* A string of a record: not NUL-terminated. */
struct outbox_str {
	const char *p;
	size_t n;
};

static inline struct outbox_str
outbox_str(const char *s)
{
	struct outbox_str r = {s ? s : "", s ? strlen(s) : 0};

	return r;
}

/* A decoded record: pointers into a caller's copy, and where it was. */
struct outbox_view {
	const struct outbox_rec *rec;
	const uint64_t *ids;
	struct outbox_str nick, user, host, acct, room, arg, text;
	unsigned producer; /* whose ring it came from */
	uint64_t pos;	   /* its position there: with the producer and the
			      mapping's boot id, a unique message id */
};

/* What a writer appends. Strings longer than their maxima are cut (on a
 * UTF-8 boundary), nids at most OUTBOX_IDS_MAX; ts_ms 0 means now. */
struct outbox_new {
	uint16_t kind, aux;
	uint64_t src, target;
	int64_t ts_ms;
	const uint64_t *ids;
	unsigned nids;
	struct outbox_str nick, user, host, acct, room, arg, text;
};

/* A timeline entry: "producer's records up to head are next in order". */
struct timeline_entry {
	uint32_t producer;
	uint32_t len; /* the mark covers [head - len, head) of its ring
			 (UINT32_MAX: longer, so a reader finds it lapped) */
	uint64_t head;
};

/* Shared control block of one producer, at the start of its region, on a
 * page of its own. head: written by the producer; mark_pending: set by the
 * producer, cleared by the supervisor; free_from: written by the
 * supervisor only (flow.h), on a cache line of its own. */
struct outbox_prod_sh {
	uint64_t head;
	uint32_t mark_pending;
	/* Every live reader has read this ring below free_from: the
	 * producer may write up to free_from + ring size - OUTBOX_REC_MAX.
	 * Monotonic; release-stored by the supervisor. */
	_Alignas(64) uint64_t free_from;
};

/* Shared timeline header, written by the supervisor only: head, and
 * flow_want (flow.h) on a cache line of its own. */
struct timeline_sh {
	uint64_t head;
	uint64_t cap;  /* entries, a power of two */
	uint64_t boot; /* set once at creation: this server run's id */
	/* A reader whose position crosses flow_want wakes the supervisor:
	 * a producer waits for that position (0: nobody waits). */
	_Alignas(64) uint64_t flow_want;
};

/* A timeline reader's slot in the reader table, on a page of its own:
 * written by its reader and by the supervisor (flow.h says how). pos is
 * the timeline position below which the reader has read every entry, or
 * has OUTBOX_READER_OUT set: the slot is free, or its reader stalled or
 * gone, and producers do not wait for it. */
#define OUTBOX_READER_OUT (1ull << 63)

struct outbox_reader_sh {
	uint64_t pos;
};

/* Process-local handle to the whole mapping (same addresses in every
 * forked process, since it is mapped before fork; the store, which execs,
 * maps it again from fd, elsewhere: nothing in it is a pointer). */
struct outbox_shm {
	void *base;
	size_t size;
	int fd;		   /* the memfd behind it (close-on-exec); -1: none */
	unsigned nprod;	   /* producers, supervisor included */
	unsigned nreaders; /* slots of the reader table */
	char *readers;	   /* the reader table: a page per slot */
	size_t page;
	size_t ring0_size; /* the supervisor's ring (producer 0) */
	size_t ring_size;  /* bytes per session ring, a power of two */
	size_t region0;	   /* control page + ring of producer 0 */
	size_t region;	   /* control page + ring of each session */
	struct timeline_sh *tl;
	struct timeline_entry *tl_ent;
};

/* Maps the shared memory for nprod producers and nreaders timeline
 * readers: the supervisor's ring of ring0_size bytes, sessions' rings of
 * ring_size bytes (powers of two, at least 4 * OUTBOX_REC_MAX), a reader
 * table of nreaders slots (every slot out: flow.h) and a timeline of
 * tl_cap entries (a power of two). Returns 0 or -errno. */
int outbox_shm_create_readers(struct outbox_shm *shm, unsigned nprod,
			      unsigned nreaders, size_t ring0_size,
			      size_t ring_size, size_t tl_cap)
    __attribute__((warn_unused_result));

/* Maps the shared memory another process created, from its memfd fd
 * (which the handle then owns), with the sizes it was created with.
 * Returns 0, -EINVAL when fd's size or timeline do not match them, or
 * -errno. */
int outbox_shm_attach(struct outbox_shm *shm, int fd, unsigned nprod,
		      unsigned nreaders, size_t ring0_size, size_t ring_size,
		      size_t tl_cap) __attribute__((warn_unused_result));

/* A memfd of size bytes (close-on-exec), for shared memory passed to a
 * process that execs. An fd or -errno. */
int outbox_memfd(const char *name, size_t size)
    __attribute__((warn_unused_result));

/* outbox_shm_create_readers with one reader slot per producer. */
int outbox_shm_create(struct outbox_shm *shm, unsigned nprod, size_t ring0_size,
		      size_t ring_size, size_t tl_cap)
    __attribute__((warn_unused_result));

/* Makes every page read-only for this process except producer own's region
 * and reader slot reader's page (pass -1 for none). Called by a session
 * after fork, so a bug in one session can never corrupt what the others
 * read. */
void outbox_shm_protect(struct outbox_shm *shm, int own, int reader);

/* Reader slot i of the table (i < nreaders). */
static inline struct outbox_reader_sh *
outbox_reader(const struct outbox_shm *shm, unsigned i)
{
	return (struct outbox_reader_sh *)(void *)(shm->readers +
						   (size_t)i * shm->page);
}

/* The shared control block of producer. */
struct outbox_prod_sh *outbox_producer_sh(const struct outbox_shm *shm,
					  unsigned producer);

/* Unmaps it and closes its fd. */
void outbox_shm_destroy(struct outbox_shm *shm);

/* ---- writing (one process per producer) ---- */

struct outbox_writer {
	struct outbox_shm *shm;
	unsigned producer;
	struct outbox_prod_sh *sh;
	char *ring;
	uint64_t head; /* local, published by outbox_publish */
};

/* Attaches as the writer of producer; continues from its published head. */
void outbox_writer_init(struct outbox_writer *w, struct outbox_shm *shm,
			unsigned producer);

/* Writes a record and stores the new head, so at most one record is ever
 * being written past the published head (the margin the readers' lap check
 * assumes). Readers take it only once it is marked. The writer must have
 * made sure, with outbox_put_size, that the ring has room (flow.h). */
void outbox_put(struct outbox_writer *w, const struct outbox_new *rec);

/* The bytes rec takes in a ring: its aligned length once strings are
 * cut to their maxima. */
size_t outbox_rec_size(const struct outbox_new *rec);

/* How far outbox_put(w, rec) would move the head: the record, and the
 * padding before it if it does not fit before the end of the ring. */
size_t outbox_put_size(const struct outbox_writer *w,
		       const struct outbox_new *rec);

/* The most a record with nids ids and text_len bytes of text takes,
 * whatever its other strings. */
static inline size_t
outbox_rec_bound(unsigned nids, size_t text_len)
{
	size_t n = sizeof(struct outbox_rec) + (size_t)nids * 8 +
		   OUTBOX_NICK_MAX + OUTBOX_USER_MAX + OUTBOX_HOST_MAX +
		   OUTBOX_ACCT_MAX + OUTBOX_ROOM_MAX + OUTBOX_ARG_MAX +
		   (text_len < OUTBOX_TEXT_MAX ? text_len : OUTBOX_TEXT_MAX);

	return (n + OUTBOX_REC_ALIGN - 1) & ~(size_t)(OUTBOX_REC_ALIGN - 1);
}

/* Ends a batch of appends. Returns 1 if the producer must now send a MARK
 * (none was pending), else 0. Sequentially consistent: the head store
 * precedes the pending test. */
int outbox_publish(struct outbox_writer *w);

/* ---- the supervisor's side of marks and the timeline ---- */

/* Gives producer's ring pages back to the kernel (the ring reads as zeros
 * until written again; the head and every position stay). Only for a ring
 * whose producer is gone and whose every record every reader has passed.
 * Returns 0 or -errno. */
int outbox_ring_discard(const struct outbox_shm *shm, unsigned producer);

/* Clears producer's pending flag, then reads its head (in that order, so no
 * record is ever left without a mark). */
uint64_t outbox_take_mark(struct outbox_shm *shm, unsigned producer);

/* Appends the mark of producer's records [from, head) to the timeline and
 * publishes it. Each entry says where its records start, so that a reader
 * needs no position per producer (DESIGN.md section 3: one reader's state
 * is its timeline position). */
void outbox_timeline_append(struct outbox_shm *shm, unsigned producer,
			    uint64_t from, uint64_t head);

static inline uint64_t
outbox_timeline_head(const struct outbox_shm *shm)
{
	return __atomic_load_n(&shm->tl->head, __ATOMIC_SEQ_CST);
}

/* The published head of producer. */
uint64_t outbox_producer_head(const struct outbox_shm *shm, unsigned producer);

/* ---- reading ---- */

/* Reads timeline entry pos into *out. Returns 1, 0 if pos is not yet
 * written, or -ESTALE if the reader was lapped. */
int outbox_timeline_read(const struct outbox_shm *shm, uint64_t pos,
			 struct timeline_entry *out);

/* Copies the record of producer at *pos (< limit; 8-aligned, as every
 * position a writer produces is) into buf (at least OUTBOX_REC_MAX bytes,
 * 8-aligned), skipping padding, and advances *pos.
 * Returns 1 and fills *view, 0 when *pos reached limit, -ESTALE if lapped,
 * -EBADMSG if the record is malformed (a writer bug). */
int outbox_read(const struct outbox_shm *shm, unsigned producer, uint64_t *pos,
		uint64_t limit, void *buf, struct outbox_view *view);

/* Checks a record copy's internal consistency. Returns 0 or -EBADMSG.
 * Leaves view->producer and view->pos alone. */
int outbox_decode(const void *buf, size_t len, struct outbox_view *view);

/* The longest message id, with its NUL. */
#define OUTBOX_MSGID_MAX 32

/* Writes the record's message id into out (OUTBOX_MSGID_MAX bytes): the
 * id an OUTBOX_HISTORY record carries in arg, else one made of the
 * server run, the producer and the position, unique for as long as the
 * ids of earlier runs are (the boot id is the run's start time in
 * microseconds). Returns its length. */
size_t outbox_msgid(const struct outbox_shm *shm, const struct outbox_view *v,
		    char *out);

/* The message id of the record of producer at pos (not a replay). */
size_t outbox_msgid_at(const struct outbox_shm *shm, unsigned producer,
		       uint64_t pos, char *out);

#endif
