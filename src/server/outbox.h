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

/* Record kinds. Wire contract between processes of one server: bump
 * OUTBOX_VERSION on any change (all processes come from one binary, so the
 * version only guards against mistakes in this file). */
#define OUTBOX_VERSION 1

enum outbox_kind {
	OUTBOX_PAD = 0, /* filler to the end of the ring; skipped */

	/* 1x: written by sessions, authored by client src */
	OUTBOX_MSG = 10,     /* room message to room target */
	OUTBOX_ACTION = 11,  /* /me in room target */
	OUTBOX_PRIVMSG = 12, /* to client target; room field = target's nick */

	/* 2x: written by the supervisor only (producer 0) */
	OUTBOX_JOIN = 20,     /* src joined room target; aux = announce */
	OUTBOX_PART = 21,     /* src left room target; text = reason;
				 aux = announce */
	OUTBOX_QUIT = 22,     /* src left the server; text = reason;
				 ids = rooms to tell */
	OUTBOX_NICK = 23,     /* src renamed from nick to text; ids = rooms */
	OUTBOX_TOPIC = 24,    /* src set the topic of room target to text;
				 empty text: cleared it */
	OUTBOX_TEXT = 25,     /* to client target: one server line, text */
	OUTBOX_HISTORY = 26,  /* to client target: an earlier message of room;
				 aux = OUTBOX_MSG or OUTBOX_ACTION */
	OUTBOX_REPLY = 27,    /* to client target: its request is done;
				 aux = status (0 ok), text = error; ids[0] and
				 room name: the room that becomes current, or
				 the resolved client and nick (RESOLVE) */
	OUTBOX_SHUTDOWN = 28, /* to everyone: the server is stopping */
};

#define OUTBOX_NICK_MAX	 32
#define OUTBOX_ROOM_MAX	 64
#define OUTBOX_IDS_MAX	 64
#define OUTBOX_TEXT_MAX	 (32 * 1024)
#define OUTBOX_REC_ALIGN 8

/* Record header; followed by uint64 ids[nids], nick, room, text (no NULs),
 * the whole padded to OUTBOX_REC_ALIGN. */
struct outbox_rec {
	uint32_t len;  /* total bytes, header included, aligned */
	uint16_t kind; /* enum outbox_kind */
	uint8_t nick_len;
	uint8_t room_len;
	uint64_t src;	 /* author's client id; 0 = the server */
	uint64_t target; /* room id or client id, by kind */
	int64_t ts_ms;	 /* wall-clock milliseconds */
	uint32_t text_len;
	uint16_t nids;
	uint16_t aux;
};

#define OUTBOX_REC_MAX                                                         \
	(sizeof(struct outbox_rec) + OUTBOX_IDS_MAX * 8 + OUTBOX_NICK_MAX +    \
	 OUTBOX_ROOM_MAX + OUTBOX_TEXT_MAX + OUTBOX_REC_ALIGN)

/* A decoded record: pointers into a caller's copy. */
struct outbox_view {
	const struct outbox_rec *rec;
	const uint64_t *ids;
	const char *nick, *room, *text;
};

/* A timeline entry: "producer's records up to head are next in order". */
struct timeline_entry {
	uint32_t producer;
	uint32_t reserved;
	uint64_t head;
};

/* Shared control block of one producer, at the start of its region, on a
 * page of its own. head: written by the producer; mark_pending: set by the
 * producer, cleared by the supervisor. */
struct outbox_prod_sh {
	uint64_t head;
	uint32_t mark_pending;
};

/* Shared timeline header; head is written by the supervisor only. */
struct timeline_sh {
	uint64_t head;
	uint64_t cap; /* entries, a power of two */
};

/* Process-local handle to the whole mapping (same addresses in every
 * process, since it is mapped before fork). */
struct outbox_shm {
	void *base;
	size_t size;
	unsigned nprod;	   /* producers, supervisor included */
	size_t ring0_size; /* the supervisor's ring (producer 0) */
	size_t ring_size;  /* bytes per session ring, a power of two */
	size_t region0;	   /* control page + ring of producer 0 */
	size_t region;	   /* control page + ring of each session */
	struct timeline_sh *tl;
	struct timeline_entry *tl_ent;
};

/* Maps the shared memory for nprod producers: the supervisor's ring of
 * ring0_size bytes, sessions' rings of ring_size bytes (powers of two, at
 * least 4 * OUTBOX_REC_MAX) and a timeline of tl_cap entries (a power of
 * two). Returns 0 or -errno. */
int outbox_shm_create(struct outbox_shm *shm, unsigned nprod, size_t ring0_size,
		      size_t ring_size, size_t tl_cap)
    __attribute__((warn_unused_result));

/* Makes every page read-only for this process except producer own's region
 * (pass -1 for none). Called by a session after fork, so a bug in one
 * session can never corrupt what the others read. */
void outbox_shm_protect(struct outbox_shm *shm, int own);

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

/* Writes a record stamped now and stores the new head, so at most one
 * record is ever being written past the published head (the margin the
 * readers' lap check assumes). Readers take it only once it is marked.
 * Strings are truncated to their maxima; nids at most OUTBOX_IDS_MAX. */
void outbox_append(struct outbox_writer *w, uint16_t kind, uint16_t aux,
		   uint64_t src, uint64_t target, const uint64_t *ids,
		   unsigned nids, const char *nick, const char *room,
		   const char *text, size_t text_len);

/* The same with an explicit timestamp (history replays keep theirs). */
void outbox_append_at(struct outbox_writer *w, int64_t ts_ms, uint16_t kind,
		      uint16_t aux, uint64_t src, uint64_t target,
		      const uint64_t *ids, unsigned nids, const char *nick,
		      const char *room, const char *text, size_t text_len);

/* Ends a batch of appends. Returns 1 if the producer must now send a MARK
 * (none was pending), else 0. Sequentially consistent: the head store
 * precedes the pending test. */
int outbox_publish(struct outbox_writer *w);

/* ---- the supervisor's side of marks and the timeline ---- */

/* Clears producer's pending flag, then reads its head (in that order, so no
 * record is ever left without a mark). */
uint64_t outbox_take_mark(struct outbox_shm *shm, unsigned producer);

/* Appends (producer, head) to the timeline and publishes it. */
void outbox_timeline_append(struct outbox_shm *shm, unsigned producer,
			    uint64_t head);

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

/* Checks a record copy's internal consistency. Returns 0 or -EBADMSG. */
int outbox_decode(const void *buf, size_t len, struct outbox_view *view);

#endif
