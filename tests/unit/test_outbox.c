/*
 * Unit tests for src/server/outbox: records with every field, rings across
 * wrap-around, lapped readers, the timeline, the mark protocol, and a
 * writer and a reader in two processes after a real fork.
 */
#include "server/outbox.h"

#include "../testlib.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* ---- records derived from a sequence number ----------------------------- */

#define RING (1u << 18)

static uint64_t t_rbuf[OUTBOX_REC_MAX / 8 + 1];

struct seqrec {
	uint64_t ids[8];
	unsigned nids;
	char nick[OUTBOX_NICK_MAX + 1];
	char room[OUTBOX_ROOM_MAX + 1];
	char text[1024];
	size_t text_len;
};

static void
seqrec_make(struct seqrec *r, uint64_t seq)
{
	r->nids = (unsigned)(seq % 5);
	for (unsigned i = 0; i < r->nids; i++)
		r->ids[i] = seq * 100 + i;
	snprintf(r->nick, sizeof(r->nick), "n%llu", (unsigned long long)seq);
	snprintf(r->room, sizeof(r->room), "#r%llu",
		 (unsigned long long)(seq % 7));
	r->text_len = (size_t)(seq * 37 % 900) + 1;
	for (size_t i = 0; i < r->text_len; i++)
		r->text[i] = (char)('a' + (seq + i) % 26);
}

static void
append_seq(struct outbox_writer *w, uint64_t seq)
{
	struct seqrec r;

	seqrec_make(&r, seq);
	outbox_put(w, &(struct outbox_new){
			  .kind = OUTBOX_MSG,
			  .aux = (uint16_t)(seq & 0xffff),
			  .src = seq * 3 + 1,
			  .target = seq ^ 0xabc,
			  .ts_ms = (int64_t)(1000000 + seq),
			  .ids = r.ids,
			  .nids = r.nids,
			  .nick = outbox_str(r.nick),
			  .room = outbox_str(r.room),
			  .text = {r.text, r.text_len},
		      });
}

/* The sequence number of a record written by append_seq, or -1 if any
 * field is not what append_seq(seq) writes. */
static long long
view_seq(const struct outbox_view *v)
{
	const struct outbox_rec *rec = v->rec;
	struct seqrec r;
	uint64_t seq;

	if (rec->src == 0 || (rec->src - 1) % 3)
		return -1;
	seq = (rec->src - 1) / 3;
	seqrec_make(&r, seq);
	if (rec->kind != OUTBOX_MSG || rec->aux != (seq & 0xffff) ||
	    rec->target != (seq ^ 0xabc) ||
	    rec->ts_ms != (int64_t)(1000000 + seq) || rec->nids != r.nids ||
	    rec->nick_len != strlen(r.nick) ||
	    rec->room_len != strlen(r.room) || rec->text_len != r.text_len)
		return -1;
	if (memcmp(v->ids, r.ids, r.nids * 8) ||
	    memcmp(v->nick.p, r.nick, rec->nick_len) ||
	    memcmp(v->room.p, r.room, rec->room_len) ||
	    memcmp(v->text.p, r.text, r.text_len))
		return -1;
	return (long long)seq;
}

/* Reads producer's records from *pos up to head: each must be the one
 * append_seq(*next) wrote, and *next counts on. Returns 1, or 0 after a
 * failed check. */
static int
read_in_order(struct outbox_shm *shm, unsigned producer, uint64_t *pos,
	      uint64_t head, uint64_t *next)
{
	struct outbox_view v;
	int rc;

	while ((rc = outbox_read(shm, producer, pos, head, t_rbuf, &v)) == 1) {
		long long got = view_seq(&v);
		if (!CHECKF(got == (long long)*next, "record %llu read as %lld",
			    (unsigned long long)*next, got))
			return 0;
		(*next)++;
	}
	return CHECKF(rc == 0, "read returned %d at %llu, after %llu records",
		      rc, (unsigned long long)*pos, (unsigned long long)*next);
}

/* A record's strings: where a view and a new record hold each, its
 * maximum, and what the round trip sends in it. */
#define T_STRING(f, max, sample)                                               \
	{                                                                      \
#f, offsetof(struct outbox_view, f),                           \
		    offsetof(struct outbox_new, f), max, sample                \
	}

static const struct {
	const char *name;
	size_t view_at, new_at, max;
	const char *sample;
} t_strings[] = {
    T_STRING(nick, OUTBOX_NICK_MAX, "alice"),
    T_STRING(user, OUTBOX_USER_MAX, "al"),
    T_STRING(host, OUTBOX_HOST_MAX, "h.cloak"),
    T_STRING(acct, OUTBOX_ACCT_MAX, "alice-acct"),
    T_STRING(room, OUTBOX_ROOM_MAX, "#r"),
    T_STRING(arg, OUTBOX_ARG_MAX, "bob"),
    T_STRING(text, OUTBOX_TEXT_MAX, "hello world"),
};

#define T_NSTRINGS (sizeof(t_strings) / sizeof(t_strings[0]))

static const struct outbox_str *
view_string(const struct outbox_view *v, size_t i)
{
	return (const struct outbox_str *)((const char *)v +
					   t_strings[i].view_at);
}

static struct outbox_str *
new_string(struct outbox_new *n, size_t i)
{
	return (struct outbox_str *)((char *)n + t_strings[i].new_at);
}

/* ---- single process ----------------------------------------------------- */

static void
test_record_round_trips_with_every_field(void)
{
	struct outbox_shm shm;
	struct outbox_writer w;
	struct outbox_view v;
	const uint64_t ids[3] = {7, 0xFFFFFFFFFFFFull, 42};
	uint64_t pos = 0;

	struct outbox_new rec = {
	    .kind = OUTBOX_PRIVMSG,
	    .aux = 9,
	    .src = 11,
	    .target = 22,
	    .ts_ms = 1234567890123LL,
	    .ids = ids,
	    .nids = 3,
	};
	for (size_t i = 0; i < T_NSTRINGS; i++)
		*new_string(&rec, i) = outbox_str(t_strings[i].sample);

	REQUIRE(outbox_shm_create(&shm, 3, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 2);
	outbox_put(&w, &rec);
	outbox_put(&w,
		   &(struct outbox_new){.kind = OUTBOX_SHUTDOWN, .ts_ms = 5});
	/* Appending stores the head at once (at most one record is ever
	 * unpublished); publish decides whether a mark is due. */
	CHECK(outbox_producer_head(&shm, 2) == w.head);
	CHECK(outbox_publish(&w) == 1);
	CHECK(outbox_producer_head(&shm, 2) == w.head);
	CHECK(outbox_producer_head(&shm, 1) == 0);

	CHECK(outbox_read(&shm, 2, &pos, w.head, t_rbuf, &v) == 1);
	CHECK(v.rec->kind == OUTBOX_PRIVMSG && v.rec->aux == 9);
	CHECK(v.rec->src == 11 && v.rec->target == 22);
	CHECK(v.rec->ts_ms == 1234567890123LL);
	CHECK(v.rec->nids == 3 && v.ids[0] == 7 &&
	      v.ids[1] == 0xFFFFFFFFFFFFull && v.ids[2] == 42);
	for (size_t i = 0; i < T_NSTRINGS; i++) {
		const struct outbox_str *f = view_string(&v, i);
		const char *want = t_strings[i].sample;
		CHECKF(f->n == strlen(want) && memcmp(f->p, want, f->n) == 0,
		       "%s is \"%.*s\", want \"%s\"", t_strings[i].name,
		       (int)f->n, f->p, want);
	}
	CHECK(v.rec->len % OUTBOX_REC_ALIGN == 0);
	CHECK(v.producer == 2 && v.pos == 0);

	CHECK(outbox_read(&shm, 2, &pos, w.head, t_rbuf, &v) == 1);
	CHECK(v.rec->kind == OUTBOX_SHUTDOWN && v.rec->ts_ms == 5);
	CHECK(v.rec->nids == 0);
	for (size_t i = 0; i < T_NSTRINGS; i++)
		CHECKF(view_string(&v, i)->n == 0,
		       "%s of a SHUTDOWN: %zu bytes", t_strings[i].name,
		       view_string(&v, i)->n);
	CHECK(pos == w.head);
	CHECK(outbox_read(&shm, 2, &pos, w.head, t_rbuf, &v) == 0);
	outbox_shm_destroy(&shm);
}

static void
test_append_stamps_wall_clock_time(void)
{
	struct outbox_shm shm;
	struct outbox_writer w;
	struct outbox_view v;
	struct timespec a, b;
	uint64_t pos = 0;

	REQUIRE(outbox_shm_create(&shm, 1, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 0);
	clock_gettime(CLOCK_REALTIME, &a);
	outbox_put(&w, &(struct outbox_new){.kind = OUTBOX_REPLY,
					    .target = 1,
					    .text = outbox_str("x")});
	clock_gettime(CLOCK_REALTIME, &b);
	(void)outbox_publish(&w);
	REQUIRE(outbox_read(&shm, 0, &pos, w.head, t_rbuf, &v) == 1);
	CHECK(v.rec->ts_ms >= (int64_t)a.tv_sec * 1000 + a.tv_nsec / 1000000);
	CHECK(v.rec->ts_ms <= (int64_t)b.tv_sec * 1000 + b.tv_nsec / 1000000);
	outbox_shm_destroy(&shm);
}

static void
test_oversized_fields_are_truncated_to_their_maxima(void)
{
	static char text[OUTBOX_TEXT_MAX + 100];
	static uint64_t ids[OUTBOX_IDS_MAX + 10];
	char nick[100], room[300];
	struct outbox_shm shm;
	struct outbox_writer w;
	struct outbox_view v;
	uint64_t pos = 0;

	memset(text, 't', sizeof(text));
	memset(nick, 'n', sizeof(nick) - 1);
	nick[sizeof(nick) - 1] = '\0';
	memset(room, 'r', sizeof(room) - 1);
	room[sizeof(room) - 1] = '\0';
	for (size_t i = 0; i < OUTBOX_IDS_MAX + 10; i++)
		ids[i] = i + 1;
	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 1);
	outbox_put(&w, &(struct outbox_new){
			   .kind = OUTBOX_QUIT,
			   .src = 1,
			   .ts_ms = 1,
			   .ids = ids,
			   .nids = OUTBOX_IDS_MAX + 10,
			   .nick = outbox_str(nick),
			   .user = outbox_str(nick),
			   .host = outbox_str(room),
			   .acct = outbox_str(nick),
			   .room = outbox_str(room),
			   .arg = outbox_str(room),
			   .text = {text, sizeof(text)},
		       });
	(void)outbox_publish(&w);
	REQUIRE(outbox_read(&shm, 1, &pos, w.head, t_rbuf, &v) == 1);
	CHECK(v.rec->nids == OUTBOX_IDS_MAX);
	CHECK(v.ids[OUTBOX_IDS_MAX - 1] == OUTBOX_IDS_MAX);
	for (size_t i = 0; i < T_NSTRINGS; i++)
		CHECKF(view_string(&v, i)->n == t_strings[i].max,
		       "%s is %zu bytes, want its maximum %zu",
		       t_strings[i].name, view_string(&v, i)->n,
		       t_strings[i].max);
	CHECK(v.rec->len <= OUTBOX_REC_MAX);
	CHECK(v.text.p[OUTBOX_TEXT_MAX - 1] == 't');
	outbox_shm_destroy(&shm);
}

/* Every string cut to its maximum ends on a character boundary: a field
 * of two-byte characters loses the whole character that does not fit. */
static void
test_oversized_utf8_fields_are_cut_between_characters(void)
{
	static char text[OUTBOX_TEXT_MAX + 2];
	char nick[OUTBOX_NICK_MAX + 3];
	struct outbox_shm shm;
	struct outbox_writer w;
	struct outbox_view v;
	uint64_t pos = 0;

	/* 'x' then two-byte characters: the maximum falls mid-character. */
	nick[0] = 'x';
	for (size_t i = 1; i + 1 < sizeof(nick); i += 2)
		memcpy(nick + i, "\xC3\xA9", 2);
	nick[sizeof(nick) - 1] = '\0';
	text[0] = 'x';
	for (size_t i = 1; i + 1 < sizeof(text); i += 2)
		memcpy(text + i, "\xC3\xA9", 2);
	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 1);
	outbox_put(&w, &(struct outbox_new){
			   .kind = OUTBOX_MSG,
			   .nick = {nick, sizeof(nick) - 1},
			   .text = {text, sizeof(text) - 1},
		       });
	(void)outbox_publish(&w);
	REQUIRE(outbox_read(&shm, 1, &pos, w.head, t_rbuf, &v) == 1);
	CHECK(v.nick.n == OUTBOX_NICK_MAX - 1);
	CHECK((unsigned char)v.nick.p[v.nick.n - 1] == 0xA9);
	CHECK(v.text.n == OUTBOX_TEXT_MAX - 1);
	CHECK((unsigned char)v.text.p[v.text.n - 1] == 0xA9);
	outbox_shm_destroy(&shm);
}

/* Message ids differ between records and producers, are the same for
 * every reader of one record, and a history replay keeps the original's. */
static void
test_message_ids_are_unique_and_history_keeps_the_original(void)
{
	struct outbox_shm shm;
	struct outbox_writer w1, w2;
	struct outbox_view v;
	char a[OUTBOX_MSGID_MAX], b[OUTBOX_MSGID_MAX], c[OUTBOX_MSGID_MAX];
	char again[OUTBOX_MSGID_MAX];
	uint64_t p1 = 0, p2 = 0, p1b;

	REQUIRE(outbox_shm_create(&shm, 3, RING, RING, 16) == 0);
	outbox_writer_init(&w1, &shm, 1);
	outbox_writer_init(&w2, &shm, 2);
	outbox_put(&w1, &(struct outbox_new){.kind = OUTBOX_MSG});
	outbox_put(&w1, &(struct outbox_new){.kind = OUTBOX_MSG});
	outbox_put(&w2, &(struct outbox_new){.kind = OUTBOX_MSG});
	REQUIRE(outbox_read(&shm, 1, &p1, w1.head, t_rbuf, &v) == 1);
	CHECK(outbox_msgid(&shm, &v, a) > 0);
	p1b = 0;
	REQUIRE(outbox_read(&shm, 1, &p1b, w1.head, t_rbuf, &v) == 1);
	(void)outbox_msgid(&shm, &v, again);
	CHECK(strcmp(a, again) == 0);
	REQUIRE(outbox_read(&shm, 1, &p1, w1.head, t_rbuf, &v) == 1);
	(void)outbox_msgid(&shm, &v, b);
	REQUIRE(outbox_read(&shm, 2, &p2, w2.head, t_rbuf, &v) == 1);
	(void)outbox_msgid(&shm, &v, c);
	CHECK(strcmp(a, b) != 0 && strcmp(a, c) != 0 && strcmp(b, c) != 0);
	outbox_put(&w2, &(struct outbox_new){.kind = OUTBOX_HISTORY,
					     .arg = outbox_str(a)});
	REQUIRE(outbox_read(&shm, 2, &p2, w2.head, t_rbuf, &v) == 1);
	(void)outbox_msgid(&shm, &v, again);
	CHECK(strcmp(a, again) == 0);
	outbox_shm_destroy(&shm);
}

static void
test_shm_create_rejects_bad_sizes(void)
{
	static const struct {
		const char *why;
		unsigned nprod;
		size_t ring0, ring, tl_cap;
	} rows[] = {
	    {"a supervisor ring not a power of two", 2, RING + 8, RING, 16},
	    {"session rings under four records", 2, RING, 1u << 16, 16},
	    {"a timeline not a power of two", 2, RING, RING, 12},
	    {"no timeline", 2, RING, RING, 0},
	    {"no producer", 0, RING, RING, 16},
	};
	struct outbox_shm shm;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = outbox_shm_create(&shm, rows[i].nprod, rows[i].ring0,
					   rows[i].ring, rows[i].tl_cap);
		CHECKF(rc == -EINVAL, "rows[%zu] (%s): %d, want -EINVAL", i,
		       rows[i].why, rc);
		if (rc == 0)
			outbox_shm_destroy(&shm);
	}
}

/* outbox_put_size says exactly how far the head moves, padding included,
 * so flow control can check for room before it writes. */
static void
test_put_size_is_exactly_how_far_the_head_moves_across_wraps(void)
{
	struct outbox_shm shm;
	struct outbox_writer w;
	int wraps = 0;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 1);
	for (uint64_t seq = 0; wraps < 3; seq++) {
		struct seqrec r;
		seqrec_make(&r, seq);
		struct outbox_new m = {
		    .kind = OUTBOX_MSG,
		    .ids = r.ids,
		    .nids = r.nids,
		    .nick = outbox_str(r.nick),
		    .room = outbox_str(r.room),
		    .text = {r.text, r.text_len},
		};
		uint64_t before = w.head;
		size_t want = outbox_put_size(&w, &m);
		CHECK(outbox_rec_size(&m) <= want);
		CHECK(outbox_rec_size(&m) <=
		      outbox_rec_bound(r.nids, r.text_len));
		outbox_put(&w, &m);
		REQUIRE(w.head - before == want);
		if (want != outbox_rec_size(&m))
			wraps++;
	}
	outbox_shm_destroy(&shm);
}

static void
test_records_across_ring_wrap_read_back_in_order(void)
{
	struct outbox_shm shm;
	struct outbox_writer w;
	uint64_t pos = 0, next = 0, seq = 0;
	int pads_crossed = 0;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 0);
	while (w.head < 5ull * RING) {
		for (int i = 0; i < 7; i++) {
			uint64_t before = w.head;
			append_seq(&w, seq++);
			/* A record that starts a new lap after padding. */
			if ((before & (RING - 1)) != 0 &&
			    ((w.head - 1) / RING) != (before / RING))
				pads_crossed++;
		}
		(void)outbox_publish(&w);
		if (!read_in_order(&shm, 0, &pos, w.head, &next))
			goto out;
	}
	CHECK(next == seq);
	CHECK(pos == w.head);
	CHECKF(pads_crossed >= 4, "only %d pads", pads_crossed);
out:
	outbox_shm_destroy(&shm);
}

static void
test_reader_behind_by_more_than_the_ring_gets_estale_never_wrong_data(void)
{
	enum { NSTARTS = 4096 };
	static uint64_t starts[NSTARTS];
	struct outbox_shm shm;
	struct outbox_writer w;
	struct outbox_view v;
	uint64_t seq = 0;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 1);
	while (w.head < 2ull * RING + RING / 3 && seq < NSTARTS) {
		starts[seq] = w.head;
		append_seq(&w, seq++);
		(void)outbox_publish(&w);
	}
	REQUIRE(seq < NSTARTS);

	uint64_t pos = 0;
	CHECK(outbox_read(&shm, 1, &pos, w.head, t_rbuf, &v) == -ESTALE);
	CHECK(pos == 0);

	/* From every record start: the right record or -ESTALE. */
	int fresh = 0;
	for (uint64_t s = 0; s < seq; s++) {
		pos = starts[s];
		int rc = outbox_read(&shm, 1, &pos, w.head, t_rbuf, &v);
		if (w.head - starts[s] > RING)
			CHECKF(rc == -ESTALE, "start %llu: rc %d",
			       (unsigned long long)s, rc);
		if (rc == 1) {
			fresh++;
			CHECKF(view_seq(&v) == (long long)s,
			       "start %llu read as %lld", (unsigned long long)s,
			       view_seq(&v));
		} else {
			CHECKF(rc == -ESTALE, "start %llu: rc %d",
			       (unsigned long long)s, rc);
		}
	}
	CHECK(fresh > 0);
	outbox_shm_destroy(&shm);
}

static void
test_lagging_reader_never_gets_data_overwritten_by_an_unpublished_batch(void)
{
	struct outbox_shm shm;
	struct outbox_writer w;
	struct outbox_view v;
	uint64_t seq = 0, pos = 0;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 1);
	/* Publish as much as a reader at 0 may still safely trail. */
	while (w.head + 1024 + OUTBOX_REC_MAX < RING)
		append_seq(&w, seq++);
	(void)outbox_publish(&w);
	uint64_t published = w.head;
	/* A batch, appended but not yet published, that wraps over the
	 * reader's record at ring offset 0 (publish() comes after several
	 * appends in both the supervisor and the sessions). */
	while (w.head < RING + 2048)
		append_seq(&w, seq++);
	/* The writer's head is visible as it goes, so the reader can tell
	 * it has been lapped. */
	CHECK(outbox_producer_head(&shm, 1) == w.head);

	int rc = outbox_read(&shm, 1, &pos, published, t_rbuf, &v);
	CHECKF(rc == -ESTALE || (rc == 1 && view_seq(&v) == 0),
	       "rc %d, record 0 read as seq %lld", rc,
	       rc == 1 ? view_seq(&v) : -1LL);
	outbox_shm_destroy(&shm);
}

static void
test_timeline_entries_round_trip_and_lapping_gives_estale(void)
{
	struct outbox_shm shm;
	struct timeline_entry e;

	REQUIRE(outbox_shm_create(&shm, 3, RING, RING, 16) == 0);
	CHECK(outbox_timeline_head(&shm) == 0);
	CHECK(outbox_timeline_read(&shm, 0, &e) == 0);
	for (uint64_t i = 0; i < 10; i++)
		outbox_timeline_append(&shm, (unsigned)(i % 3), i * 1000 - i,
				       i * 1000);
	CHECK(outbox_timeline_head(&shm) == 10);
	for (uint64_t i = 0; i < 10; i++) {
		CHECK(outbox_timeline_read(&shm, i, &e) == 1);
		CHECK(e.producer == i % 3 && e.head == i * 1000 && e.len == i);
	}
	/* A mark longer than 32 bits says so (its reader is lapped). */
	outbox_timeline_append(&shm, 1, 0, 1ULL << 33);
	CHECK(outbox_timeline_read(&shm, 10, &e) == 1);
	CHECK(e.len == UINT32_MAX && e.head == 1ULL << 33);
	CHECK(outbox_timeline_read(&shm, 11, &e) == 0);
	for (uint64_t i = 11; i < 30; i++)
		outbox_timeline_append(&shm, (unsigned)(i % 3), i * 1000,
				       i * 1000);
	/* head 30, capacity 16: entries 15..29 are still there. */
	static const struct {
		uint64_t at;
		int rc;
		uint32_t producer;
		uint64_t head;
	} lapped[] = {
	    {0, -ESTALE, 0, 0},	 /* the first, overwritten */
	    {14, -ESTALE, 0, 0}, /* the last overwritten */
	    {15, 1, 0, 15000},	 /* the oldest kept */
	    {29, 1, 2, 29000},	 /* the newest */
	    {30, 0, 0, 0},	 /* not written yet */
	};
	for (size_t i = 0; i < sizeof(lapped) / sizeof(lapped[0]); i++) {
		int rc = outbox_timeline_read(&shm, lapped[i].at, &e);
		CHECKF(rc == lapped[i].rc,
		       "lapped[%zu]: entry %llu: %d, want %d", i,
		       (unsigned long long)lapped[i].at, rc, lapped[i].rc);
		if (lapped[i].rc == 1)
			CHECKF(e.producer == lapped[i].producer &&
				   e.head == lapped[i].head,
			       "lapped[%zu]: entry %llu is (%u, %llu), want "
			       "(%u, %llu)",
			       i, (unsigned long long)lapped[i].at, e.producer,
			       (unsigned long long)e.head, lapped[i].producer,
			       (unsigned long long)lapped[i].head);
	}
	outbox_shm_destroy(&shm);
}

/* What producer 1's writer or the supervisor does, in order, and what it
 * must return: publish says whether a mark is due; take_mark gives the
 * head it marks (HEAD: the writer's head now), or 0. */
enum mark_op { APPEND, PUBLISH, TAKE_MARK };
#define HEAD (-1)

static void
test_publish_asks_for_a_mark_once_until_the_supervisor_takes_it(void)
{
	static const char *const op_names[] = {"append", "publish",
					       "take_mark"};
	static const struct {
		enum mark_op op;
		unsigned producer;
		long long want;
	} rows[] = {
	    {APPEND, 1, 0},
	    {PUBLISH, 1, 1},
	    {APPEND, 1, 0},
	    {PUBLISH, 1, 0},
	    {PUBLISH, 1, 0},
	    {TAKE_MARK, 1, HEAD},
	    /* Producer 0's flag is its own. */
	    {TAKE_MARK, 0, 0},
	    {APPEND, 1, 0},
	    {PUBLISH, 1, 1},
	    {PUBLISH, 1, 0},
	    {TAKE_MARK, 1, HEAD},
	    {PUBLISH, 1, 1},
	};
	struct outbox_shm shm;
	struct outbox_writer w;
	uint64_t seq = 0;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 1);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long long got, want = rows[i].want;
		switch (rows[i].op) {
		case APPEND:
			append_seq(&w, seq++);
			continue;
		case PUBLISH:
			got = outbox_publish(&w);
			break;
		default:
			got =
			    (long long)outbox_take_mark(&shm, rows[i].producer);
			if (want == HEAD)
				want = (long long)w.head;
			break;
		}
		CHECKF(got == want,
		       "rows[%zu] (%s, producer %u): %lld, want %lld", i,
		       op_names[rows[i].op], rows[i].producer, got, want);
	}
	outbox_shm_destroy(&shm);
}

static void
test_writer_init_continues_from_the_published_head(void)
{
	struct outbox_shm shm;
	struct outbox_writer w, w2;
	struct outbox_view v;
	uint64_t pos = 0;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 1);
	append_seq(&w, 0);
	(void)outbox_publish(&w);
	outbox_writer_init(&w2, &shm, 1);
	CHECK(w2.head == w.head);
	append_seq(&w2, 1);
	(void)outbox_publish(&w2);
	CHECK(outbox_read(&shm, 1, &pos, w2.head, t_rbuf, &v) == 1);
	CHECK(view_seq(&v) == 0);
	CHECK(outbox_read(&shm, 1, &pos, w2.head, t_rbuf, &v) == 1);
	CHECK(view_seq(&v) == 1);
	outbox_shm_destroy(&shm);
}

/* ---- across a real fork ------------------------------------------------- */

struct fork_ctl {
	uint64_t reader_pos; /* parent's progress, for the child's pacing */
	int parent_done;     /* the parent gave up: child exits */
	int child_done;	     /* the child published its last record */
};

/* Child: writes n records in batches of 1..8, publishing each batch; when
 * paced, stays within half a ring of the reader, else runs free (yielding
 * now and then, so a reader on a busy machine gets turns too). */
static void __attribute__((noreturn))
fork_child(struct outbox_shm *shm, struct fork_ctl *ctl, uint64_t n, int paced)
{
	struct outbox_writer w;
	long long deadline = tl_now_ms() + 20000;
	uint64_t seq = 0;

	outbox_writer_init(&w, shm, 1);
	while (seq < n) {
		unsigned batch = (unsigned)(seq % 8) + 1;
		while (paced && w.head - __atomic_load_n(&ctl->reader_pos,
							 __ATOMIC_ACQUIRE) >
				    RING / 2) {
			if (__atomic_load_n(&ctl->parent_done,
					    __ATOMIC_ACQUIRE) ||
			    tl_now_ms() > deadline)
				_exit(3);
			sched_yield();
		}
		for (unsigned i = 0; i < batch && seq < n; i++)
			append_seq(&w, seq++);
		(void)outbox_publish(&w);
		if (!paced && seq % 64 < batch)
			sched_yield();
	}
	__atomic_store_n(&ctl->child_done, 1, __ATOMIC_RELEASE);
	_exit(0);
}

/* A ring for two producers and a control page shared with a child that
 * writes n records as producer 1. Returns the child's pid; or -1 after a
 * failed check, with nothing left. */
static pid_t
fork_start(struct outbox_shm *shm, struct fork_ctl **ctl, uint64_t n, int paced)
{
	if (!CHECK(outbox_shm_create(shm, 2, RING, RING, 16) == 0))
		return -1;
	*ctl = mmap(NULL, sizeof(**ctl), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(*ctl != MAP_FAILED)) {
		outbox_shm_destroy(shm);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		fork_child(shm, *ctl, n, paced);
	if (!CHECK(pid > 0)) {
		munmap(*ctl, sizeof(**ctl));
		outbox_shm_destroy(shm);
		return -1;
	}
	return pid;
}

/* Tells the child to stop, checks that it exited 0, and unmaps all. */
static void
fork_finish(pid_t pid, struct fork_ctl *ctl, struct outbox_shm *shm)
{
	int st = 0, rc = -1;

	__atomic_store_n(&ctl->parent_done, 1, __ATOMIC_RELEASE);
	if (waitpid(pid, &st, 0) == pid)
		rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	CHECKF(rc == 0, "child failed");
	munmap(ctl, sizeof(*ctl));
	outbox_shm_destroy(shm);
}

static void
test_child_writes_and_parent_reads_every_record_in_order_across_fork(void)
{
	const uint64_t n = 200000;
	struct outbox_shm shm;
	struct fork_ctl *ctl;
	uint64_t pos = 0, next = 0;
	long long deadline = tl_now_ms() + 20000;

	pid_t pid = fork_start(&shm, &ctl, n, 1);
	if (pid < 0)
		return;
	while (next < n && tl_now_ms() < deadline) {
		uint64_t head = outbox_producer_head(&shm, 1);
		if (!read_in_order(&shm, 1, &pos, head, &next))
			goto reap;
		__atomic_store_n(&ctl->reader_pos, pos, __ATOMIC_RELEASE);
		if (pos == head)
			sched_yield();
	}
	CHECKF(next == n, "read %llu of %llu records", (unsigned long long)next,
	       (unsigned long long)n);
	CHECK(pos == outbox_producer_head(&shm, 1));
	CHECK(pos > 4ull * RING);
reap:
	fork_finish(pid, ctl, &shm);
}

static void
test_lapped_reader_across_fork_sees_estale_never_torn_records(void)
{
	const uint64_t n = 300000;
	struct outbox_shm shm;
	struct fork_ctl *ctl;
	struct outbox_view v;
	uint64_t pos = 0;
	long long last = -1, deadline = tl_now_ms() + 20000;
	int stale = 0, good = 0;

	pid_t pid = fork_start(&shm, &ctl, n, 0);
	if (pid < 0)
		return;
	/* Read one record per turn while the child runs free; after -ESTALE
	 * jump to the head, as a lapped session would (after dropping). */
	while (tl_now_ms() < deadline) {
		uint64_t head = outbox_producer_head(&shm, 1);
		int rc = outbox_read(&shm, 1, &pos, head, t_rbuf, &v);
		if (rc == -ESTALE) {
			stale++;
			pos = outbox_producer_head(&shm, 1);
			continue;
		}
		if (rc == 0) {
			if (__atomic_load_n(&ctl->child_done,
					    __ATOMIC_ACQUIRE) &&
			    pos == outbox_producer_head(&shm, 1))
				break;
			sched_yield();
			continue;
		}
		if (!CHECKF(rc == 1, "read returned %d", rc))
			break;
		long long got = view_seq(&v);
		if (!CHECKF(got > last, "record after %lld read as %lld", last,
			    got))
			break;
		last = got;
		good++;
	}
	CHECKF(tl_now_ms() < deadline, "timed out");
	CHECKF(good > 0, "no record read (%d stale)", stale);
	fork_finish(pid, ctl, &shm);
}

int
main(void)
{
	RUN(test_record_round_trips_with_every_field);
	RUN(test_append_stamps_wall_clock_time);
	RUN(test_oversized_fields_are_truncated_to_their_maxima);
	RUN(test_oversized_utf8_fields_are_cut_between_characters);
	RUN(test_message_ids_are_unique_and_history_keeps_the_original);
	RUN(test_shm_create_rejects_bad_sizes);
	RUN(test_put_size_is_exactly_how_far_the_head_moves_across_wraps);
	RUN(test_records_across_ring_wrap_read_back_in_order);
	RUN(test_reader_behind_by_more_than_the_ring_gets_estale_never_wrong_data);
	RUN(test_lagging_reader_never_gets_data_overwritten_by_an_unpublished_batch);
	RUN(test_timeline_entries_round_trip_and_lapping_gives_estale);
	RUN(test_publish_asks_for_a_mark_once_until_the_supervisor_takes_it);
	RUN(test_writer_init_continues_from_the_published_head);
	RUN(test_child_writes_and_parent_reads_every_record_in_order_across_fork);
	RUN(test_lapped_reader_across_fork_sees_estale_never_torn_records);
	return tl_summary("unit_outbox");
}
