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

/* ---- single process ----------------------------------------------------- */

static void
test_record_round_trips_with_every_field(void)
{
	struct outbox_shm shm;
	struct outbox_writer w;
	struct outbox_view v;
	const uint64_t ids[3] = {7, 0xFFFFFFFFFFFFull, 42};
	uint64_t pos = 0;

	REQUIRE(outbox_shm_create(&shm, 3, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 2);
	outbox_put(&w, &(struct outbox_new){
			   .kind = OUTBOX_PRIVMSG,
			   .aux = 9,
			   .src = 11,
			   .target = 22,
			   .ts_ms = 1234567890123LL,
			   .ids = ids,
			   .nids = 3,
			   .nick = outbox_str("alice"),
			   .user = outbox_str("al"),
			   .host = outbox_str("h.cloak"),
			   .acct = outbox_str("alice-acct"),
			   .room = outbox_str("#r"),
			   .arg = outbox_str("bob"),
			   .text = outbox_str("hello world"),
		       });
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
	CHECK(v.nick.n == 5 && memcmp(v.nick.p, "alice", 5) == 0);
	CHECK(v.user.n == 2 && memcmp(v.user.p, "al", 2) == 0);
	CHECK(v.host.n == 7 && memcmp(v.host.p, "h.cloak", 7) == 0);
	CHECK(v.acct.n == 10 && memcmp(v.acct.p, "alice-acct", 10) == 0);
	CHECK(v.room.n == 2 && memcmp(v.room.p, "#r", 2) == 0);
	CHECK(v.arg.n == 3 && memcmp(v.arg.p, "bob", 3) == 0);
	CHECK(v.text.n == 11 && memcmp(v.text.p, "hello world", 11) == 0);
	CHECK(v.rec->len % OUTBOX_REC_ALIGN == 0);
	CHECK(v.producer == 2 && v.pos == 0);

	CHECK(outbox_read(&shm, 2, &pos, w.head, t_rbuf, &v) == 1);
	CHECK(v.rec->kind == OUTBOX_SHUTDOWN && v.rec->ts_ms == 5);
	CHECK(v.rec->nids == 0 && v.nick.n == 0 && v.user.n == 0 &&
	      v.host.n == 0 && v.acct.n == 0 && v.room.n == 0 && v.arg.n == 0 &&
	      v.text.n == 0);
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
	CHECK(v.nick.n == OUTBOX_NICK_MAX && v.user.n == OUTBOX_USER_MAX);
	CHECK(v.host.n == OUTBOX_HOST_MAX && v.acct.n == OUTBOX_ACCT_MAX);
	CHECK(v.room.n == OUTBOX_ROOM_MAX && v.arg.n == OUTBOX_ARG_MAX);
	CHECK(v.text.n == OUTBOX_TEXT_MAX);
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
	struct outbox_shm shm;

	CHECK(outbox_shm_create(&shm, 2, RING + 8, RING, 16) == -EINVAL);
	CHECK(outbox_shm_create(&shm, 2, RING, 1u << 16, 16) == -EINVAL);
	CHECK(outbox_shm_create(&shm, 2, RING, RING, 12) == -EINVAL);
	CHECK(outbox_shm_create(&shm, 2, RING, RING, 0) == -EINVAL);
	CHECK(outbox_shm_create(&shm, 0, RING, RING, 16) == -EINVAL);
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
	struct outbox_view v;
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
		int rc;
		while ((rc = outbox_read(&shm, 0, &pos, w.head, t_rbuf, &v)) ==
		       1) {
			long long got = view_seq(&v);
			if (!CHECKF(got == (long long)next,
				    "record %llu read back as %lld",
				    (unsigned long long)next, got))
				goto out;
			next++;
		}
		if (!CHECKF(rc == 0, "read returned %d at %llu", rc,
			    (unsigned long long)pos))
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
		outbox_timeline_append(&shm, (unsigned)(i % 3), i * 1000);
	CHECK(outbox_timeline_head(&shm) == 10);
	for (uint64_t i = 0; i < 10; i++) {
		CHECK(outbox_timeline_read(&shm, i, &e) == 1);
		CHECK(e.producer == i % 3 && e.head == i * 1000);
	}
	CHECK(outbox_timeline_read(&shm, 10, &e) == 0);
	for (uint64_t i = 10; i < 30; i++)
		outbox_timeline_append(&shm, (unsigned)(i % 3), i * 1000);
	/* head 30, capacity 16: entries 15..29 are still there. */
	CHECK(outbox_timeline_read(&shm, 0, &e) == -ESTALE);
	CHECK(outbox_timeline_read(&shm, 14, &e) == -ESTALE);
	CHECK(outbox_timeline_read(&shm, 15, &e) == 1);
	CHECK(e.producer == 0 && e.head == 15000);
	CHECK(outbox_timeline_read(&shm, 29, &e) == 1);
	CHECK(e.producer == 2 && e.head == 29000);
	CHECK(outbox_timeline_read(&shm, 30, &e) == 0);
	outbox_shm_destroy(&shm);
}

static void
test_publish_asks_for_a_mark_once_until_the_supervisor_takes_it(void)
{
	struct outbox_shm shm;
	struct outbox_writer w;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	outbox_writer_init(&w, &shm, 1);
	append_seq(&w, 0);
	CHECK(outbox_publish(&w) == 1);
	append_seq(&w, 1);
	CHECK(outbox_publish(&w) == 0);
	CHECK(outbox_publish(&w) == 0);
	CHECK(outbox_take_mark(&shm, 1) == w.head);
	/* Producer 0's flag is its own. */
	CHECK(outbox_take_mark(&shm, 0) == 0);
	append_seq(&w, 2);
	CHECK(outbox_publish(&w) == 1);
	CHECK(outbox_publish(&w) == 0);
	CHECK(outbox_take_mark(&shm, 1) == w.head);
	CHECK(outbox_publish(&w) == 1);
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

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Child: writes n records in batches of 1..8, publishing each batch; when
 * paced, stays within half a ring of the reader, else runs free (yielding
 * now and then, so a reader on a busy machine gets turns too). */
static void __attribute__((noreturn))
fork_child(struct outbox_shm *shm, struct fork_ctl *ctl, uint64_t n, int paced)
{
	struct outbox_writer w;
	long long deadline = now_ms() + 20000;
	uint64_t seq = 0;

	outbox_writer_init(&w, shm, 1);
	while (seq < n) {
		unsigned batch = (unsigned)(seq % 8) + 1;
		while (paced && w.head - __atomic_load_n(&ctl->reader_pos,
							 __ATOMIC_ACQUIRE) >
				    RING / 2) {
			if (__atomic_load_n(&ctl->parent_done,
					    __ATOMIC_ACQUIRE) ||
			    now_ms() > deadline)
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

static pid_t
fork_writer(struct outbox_shm *shm, struct fork_ctl *ctl, uint64_t n, int paced)
{
	pid_t pid = fork();

	if (pid == 0)
		fork_child(shm, ctl, n, paced);
	return pid;
}

static int
fork_reap(pid_t pid, struct fork_ctl *ctl)
{
	int st = 0;

	__atomic_store_n(&ctl->parent_done, 1, __ATOMIC_RELEASE);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
test_child_writes_and_parent_reads_every_record_in_order_across_fork(void)
{
	const uint64_t n = 200000;
	struct outbox_shm shm;
	struct fork_ctl *ctl;
	struct outbox_view v;
	uint64_t pos = 0, next = 0;
	long long deadline = now_ms() + 20000;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(ctl != MAP_FAILED);
	pid_t pid = fork_writer(&shm, ctl, n, 1);
	if (!CHECK(pid > 0))
		goto out;
	while (next < n && now_ms() < deadline) {
		uint64_t head = outbox_producer_head(&shm, 1);
		int rc;
		while ((rc = outbox_read(&shm, 1, &pos, head, t_rbuf, &v)) ==
		       1) {
			long long got = view_seq(&v);
			if (!CHECKF(got == (long long)next,
				    "record %llu read as %lld",
				    (unsigned long long)next, got))
				goto reap;
			next++;
		}
		if (!CHECKF(rc == 0, "read returned %d after %llu records", rc,
			    (unsigned long long)next))
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
	CHECKF(fork_reap(pid, ctl) == 0, "child failed");
out:
	munmap(ctl, sizeof(*ctl));
	outbox_shm_destroy(&shm);
}

static void
test_lapped_reader_across_fork_sees_estale_never_torn_records(void)
{
	const uint64_t n = 300000;
	struct outbox_shm shm;
	struct fork_ctl *ctl;
	struct outbox_view v;
	uint64_t pos = 0;
	long long last = -1, deadline = now_ms() + 20000;
	int stale = 0, good = 0;

	REQUIRE(outbox_shm_create(&shm, 2, RING, RING, 16) == 0);
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(ctl != MAP_FAILED);
	pid_t pid = fork_writer(&shm, ctl, n, 0);
	if (!CHECK(pid > 0))
		goto out;
	/* Read one record per turn while the child runs free; after -ESTALE
	 * jump to the head, as a lapped session would (after dropping). */
	while (now_ms() < deadline) {
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
	CHECKF(now_ms() < deadline, "timed out");
	CHECKF(good > 0, "no record read (%d stale)", stale);
	CHECKF(fork_reap(pid, ctl) == 0, "child failed");
out:
	munmap(ctl, sizeof(*ctl));
	outbox_shm_destroy(&shm);
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
