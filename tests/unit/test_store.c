/*
 * Unit tests for the store's pure parts and its database module on a
 * real SQLite file: history references, password rules, the failed-login
 * buckets, yescrypt hashes, and store_db's selectors (LATEST, BEFORE,
 * AFTER, AROUND, BETWEEN by sequence number, message id and time), its
 * position round trip and its duplicate message ids, registered rooms
 * and server bans (store_rooms) and the schema 1 -> 2 migration, as
 * tables.
 */
#include "server/core.h"
#include "server/store_accounts.h"
#include "server/store_db.h"
#include "server/store_rooms.h"

#include "../testlib.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
test_history_references_parse_as_irc_and_plain_write_them(void)
{
	static const struct {
		const char *in;
		int ok;
		enum store_ref_kind kind;
		long long value;
	} rows[] = {
	    {"*", 1, STORE_REF_NONE, 0},
	    {"", 1, STORE_REF_NONE, 0},
	    {"seq=42", 1, STORE_REF_SEQ, 42},
	    {"ms=1704109682345", 1, STORE_REF_TIME, 1704109682345LL},
	    {"timestamp=2024-01-01T11:48:02.345Z", 1, STORE_REF_TIME,
	     1704109682345LL},
	    {"timestamp=2024-01-01T11:48:02Z", 1, STORE_REF_TIME,
	     1704109682000LL},
	    {"timestamp=2024-02-29T00:00:00.5Z", 1, STORE_REF_TIME,
	     1709164800500LL},
	    {"msgid=abc123", 1, STORE_REF_MSGID, 0},
	    {"seq=", 0, 0, 0},
	    {"seq=-1", 0, 0, 0},
	    {"seq=12x", 0, 0, 0},
	    {"timestamp=2024-01-01 11:48:02Z", 0, 0, 0},
	    {"timestamp=2024-13-01T11:48:02Z", 0, 0, 0},
	    {"timestamp=2024-01-01T11:48:02", 0, 0, 0},
	    {"msgid=", 0, 0, 0},
	    {"bogus", 0, 0, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct store_ref r;
		int err = store_ref_parse(rows[i].in, &r);
		CHECKF((err == 0) == rows[i].ok, "\"%s\": %d", rows[i].in, err);
		if (err || !rows[i].ok)
			continue;
		CHECKF(r.kind == rows[i].kind &&
			   (r.kind == STORE_REF_MSGID
				? strcmp(r.msgid, rows[i].in + 6) == 0
				: r.value == rows[i].value),
		       "\"%s\": kind %d value %lld", rows[i].in, r.kind,
		       (long long)r.value);
	}
}

static void
test_passwords_are_8_to_128_printable_characters_without_spaces(void)
{
	char longest[STORE_PASS_MAX + 2];
	static const struct {
		const char *p;
		int ok;
	} rows[] = {
	    {"hunter22", 1},	{"short", 0},	 {"with space", 0},
	    {"tab\tinside", 0}, {"ünïcødé!", 1}, {"", 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKF(store_password_ok(rows[i].p) == rows[i].ok, "\"%s\"",
		       rows[i].p);
	memset(longest, 'x', sizeof(longest));
	longest[STORE_PASS_MAX] = '\0';
	CHECK(store_password_ok(longest));
	longest[STORE_PASS_MAX] = 'x';
	longest[STORE_PASS_MAX + 1] = '\0';
	CHECK(!store_password_ok(longest));
}

static void
test_a_bucket_allows_its_burst_then_one_try_per_interval(void)
{
	struct store_limiter l;
	long long t = 1000000;

	store_limiter_init(&l, (struct store_limit_rule){3, 10000});
	CHECK(store_limiter_wait(&l, "k", t) == 0);
	for (int i = 0; i < 3; i++) {
		CHECKF(store_limiter_wait(&l, "k", t) == 0, "try %d", i);
		store_limiter_fail(&l, "k", t);
	}
	CHECK(store_limiter_wait(&l, "k", t) == 10);
	CHECK(store_limiter_wait(&l, "k", t + 4000) == 6);
	CHECK(store_limiter_wait(&l, "other", t) == 0);
	CHECK(store_limiter_wait(&l, "k", t + 10000) == 0);
	store_limiter_fail(&l, "k", t + 10000);
	CHECK(store_limiter_wait(&l, "k", t + 10000) == 10);
	store_limiter_clear(&l, "k");
	CHECK(store_limiter_wait(&l, "k", t + 10000) == 0);
	store_limiter_free(&l);
}

static void
test_a_hash_is_yescrypt_and_checks_only_its_password(void)
{
	char h1[STORE_HASH_MAX], h2[STORE_HASH_MAX];

	REQUIRE(store_hash("hunter22", h1, sizeof(h1)) == 0);
	REQUIRE(store_hash("hunter22", h2, sizeof(h2)) == 0);
	CHECK(strncmp(h1, "$y$", 3) == 0);
	CHECK(strcmp(h1, h2) != 0); /* a fresh salt each time */
	CHECK(store_verify("hunter22", h1));
	CHECK(store_verify("hunter22", h2));
	CHECK(!store_verify("hunter23", h1));
	CHECK(!store_verify("", h1));
	CHECK(!store_verify("hunter22", "*"));
}

/* ---- the database -------------------------------------------------------- */

struct t_db {
	char dir[64], path[128];
	struct store_db *db;
};

static int
t_db_open(struct t_db *t)
{
	char why[512];

	snprintf(t->dir, sizeof(t->dir), "/tmp/parley-unit.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/u.db", t->dir);
	t->db = store_db_open(t->path, why, sizeof(why));
	CHECKF(t->db != NULL, "%s", why);
	return t->db ? 0 : -1;
}

static void
t_db_close(struct t_db *t)
{
	char cmd[128];

	store_db_close(t->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
}

/* Messages 1..n in #r, "t<seq>", 1000 ms apart, msgids "id<seq>". */
static void
t_db_fill(struct store_db *db, int n)
{
	REQUIRE(store_db_begin(db) == 0);
	for (int i = 1; i <= n; i++) {
		char msgid[16], text[16];
		snprintf(msgid, sizeof(msgid), "id%d", i);
		snprintf(text, sizeof(text), "t%d", i);
		struct store_row row = {
		    .room = outbox_str("#R"),
		    .msgid = outbox_str(msgid),
		    .ts_ms = 1000LL * i,
		    .nick = outbox_str("alice"),
		    .text = outbox_str(text),
		};
		CHECK(store_db_add_message(db, &row) == 1 && row.seq == i);
	}
}

struct t_got {
	char seqs[256];
	size_t n;
};

static void
t_got_cb(void *arg, const struct store_row *row)
{
	struct t_got *g = arg;

	g->n +=
	    (size_t)snprintf(g->seqs + g->n, sizeof(g->seqs) - g->n, "%s%lld",
			     g->n ? " " : "", (long long)row->seq);
}

static void
test_history_selectors_pick_their_messages_oldest_first(void)
{
	static const struct {
		unsigned selector;
		const char *ref, *ref2;
		unsigned limit;
		const char *want; /* sequence numbers; "ENOENT" or "ENXIO": an
				     unknown first or second reference */
	} rows[] = {
	    {CORE_HISTORY_LATEST, "*", "", 3, "8 9 10"},
	    {CORE_HISTORY_LATEST, "seq=8", "", 5, "9 10"},
	    {CORE_HISTORY_LATEST, "*", "", 50, "1 2 3 4 5 6 7 8 9 10"},
	    {CORE_HISTORY_BEFORE, "seq=5", "", 2, "3 4"},
	    {CORE_HISTORY_BEFORE, "seq=2", "", 5, "1"},
	    {CORE_HISTORY_BEFORE, "seq=1", "", 5, ""},
	    {CORE_HISTORY_BEFORE, "msgid=id6", "", 2, "4 5"},
	    {CORE_HISTORY_BEFORE, "ms=5500", "", 2, "4 5"},
	    {CORE_HISTORY_BEFORE, "timestamp=1970-01-01T00:00:05.000Z", "", 9,
	     "1 2 3 4"},
	    {CORE_HISTORY_AFTER, "seq=7", "", 2, "8 9"},
	    {CORE_HISTORY_AFTER, "ms=7000", "", 9, "8 9 10"},
	    {CORE_HISTORY_AROUND, "seq=5", "", 4, "3 4 5 6"},
	    {CORE_HISTORY_AROUND, "msgid=id1", "", 3, "1 2 3"},
	    /* Near the newest end the earlier side makes up the limit. */
	    {CORE_HISTORY_AROUND, "seq=10", "", 4, "7 8 9 10"},
	    {CORE_HISTORY_AROUND, "seq=9", "", 5, "6 7 8 9 10"},
	    {CORE_HISTORY_AROUND, "ms=10500", "", 3, "8 9 10"},
	    {CORE_HISTORY_AROUND, "ms=4500", "", 2, "4 5"},
	    {CORE_HISTORY_AROUND, "seq=5", "", 1, "5"},
	    {CORE_HISTORY_LATEST, "ms=10000", "", 5, ""},
	    {CORE_HISTORY_BETWEEN, "ms=5000", "ms=2000", 9, "3 4"},
	    {CORE_HISTORY_BETWEEN, "seq=2", "seq=6", 9, "3 4 5"},
	    {CORE_HISTORY_BETWEEN, "seq=2", "seq=6", 2, "3 4"},
	    {CORE_HISTORY_BETWEEN, "seq=6", "seq=2", 2, "4 5"},
	    {CORE_HISTORY_BETWEEN, "ms=2000", "ms=5000", 9, "3 4"},
	    {CORE_HISTORY_BEFORE, "msgid=nope", "", 2, "ENOENT"},
	    {CORE_HISTORY_BETWEEN, "msgid=id2", "msgid=nope", 2, "ENXIO"},
	};
	struct t_db t;

	REQUIRE(t_db_open(&t) == 0);
	t_db_fill(t.db, 10);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct store_ref r1, r2;
		struct t_got got = {.n = 0};
		got.seqs[0] = '\0';
		CHECK(store_ref_parse(rows[i].ref, &r1) == 0 &&
		      store_ref_parse(rows[i].ref2, &r2) == 0);
		/* Rooms are found whatever their case. */
		int n = store_db_history(t.db, "#r", rows[i].selector, &r1, &r2,
					 rows[i].limit, t_got_cb, &got);
		if (strcmp(rows[i].want, "ENOENT") == 0)
			CHECKF(n == -ENOENT, "row %zu: %d", i, n);
		else if (strcmp(rows[i].want, "ENXIO") == 0)
			CHECKF(n == -ENXIO, "row %zu: %d", i, n);
		else
			CHECKF(n >= 0 && strcmp(got.seqs, rows[i].want) == 0,
			       "row %zu (%u %s %s %u): got \"%s\", want \"%s\"",
			       i, rows[i].selector, rows[i].ref, rows[i].ref2,
			       rows[i].limit, got.seqs, rows[i].want);
	}
	t_db_close(&t);
}

static void
test_a_commit_keeps_its_position_and_a_stored_msgid_is_skipped(void)
{
	uint64_t cursors[3] = {8, 16, 24}, back[3] = {0}, tl = 0;
	struct t_db t;
	char why[512];

	REQUIRE(t_db_open(&t) == 0);
	t_db_fill(t.db, 3);
	CHECK(store_db_commit(t.db, 77, 5, cursors, 3) == 0);
	CHECK(store_db_position(t.db, 77, &tl, back, 3) == 1 && tl == 5 &&
	      memcmp(back, cursors, sizeof(back)) == 0);
	CHECK(store_db_position(t.db, 78, &tl, back, 3) == 0);
	/* The same message again (a resumed read) is not stored twice. */
	REQUIRE(store_db_begin(t.db) == 0);
	struct store_row dup = {.room = outbox_str("#r"),
				.msgid = outbox_str("id2"),
				.nick = outbox_str("bob"),
				.text = outbox_str("again")};
	CHECK(store_db_add_message(t.db, &dup) == 0);
	/* A rolled-back batch leaves no trace, sequence numbers included. */
	t_db_fill(t.db, 0);
	struct store_row lost = {.room = outbox_str("#r"),
				 .msgid = outbox_str("gone"),
				 .nick = outbox_str("bob"),
				 .text = outbox_str("gone")};
	CHECK(store_db_add_message(t.db, &lost) == 1 && lost.seq == 4);
	store_db_rollback(t.db);
	CHECK(store_db_count(t.db) == 3);
	store_db_close(t.db);
	t.db = store_db_open(t.path, why, sizeof(why));
	REQUIRE(t.db);
	CHECK(store_db_position(t.db, 77, &tl, back, 3) == 1 && tl == 5);
	REQUIRE(store_db_begin(t.db) == 0);
	CHECK(store_db_add_message(t.db, &lost) == 1 && lost.seq == 4);
	t_db_close(&t);
}

struct t_topics {
	char got[512];
	size_t n;
};

static void
t_topic_cb(void *arg, const struct store_topic *t)
{
	struct t_topics *g = arg;

	g->n += (size_t)snprintf(
	    g->got + g->n, sizeof(g->got) - g->n, "%s%.*s=%.*s/%.*s@%lld",
	    g->n ? " " : "", (int)t->room.n, t->room.p, (int)t->topic.n,
	    t->topic.p, (int)t->by.n, t->by.p, (long long)t->ts_ms);
}

static void
test_stored_topics_come_back_newest_first_without_cleared_ones(void)
{
	static const struct {
		const char *room, *topic, *by;
		long long ms;
	} sets[] = {
	    {"#den", "tea", "alice", 1000},
	    {"#attic", "dust", "bob", 2000},
	    {"#Garden", "beans", "carol", 3000},
	    {"#attic", "", "bob", 4000}, /* cleared */
	    {"#den", "tea at five", "dave", 5000},
	};
	static const struct {
		unsigned max;
		const char *want;
	} rows[] = {
	    {10, "#den=tea at five/dave@5000 #Garden=beans/carol@3000"},
	    {1, "#den=tea at five/dave@5000"},
	    {0, ""},
	};
	struct t_db t;

	REQUIRE(t_db_open(&t) == 0);
	REQUIRE(store_db_begin(t.db) == 0);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		CHECK(store_db_set_topic(t.db, outbox_str(sets[i].room),
					 outbox_str(sets[i].topic),
					 outbox_str(sets[i].by),
					 sets[i].ms) == 0);
	for (int pass = 0; pass < 2; pass++) {
		/* In the open batch, then committed and read again. */
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct t_topics g = {.n = 0};
			g.got[0] = '\0';
			CHECK(store_db_topics_each(t.db, rows[i].max,
						   t_topic_cb, &g) == 0);
			CHECKF(strcmp(g.got, rows[i].want) == 0,
			       "pass %d, max %u: got \"%s\", want \"%s\"", pass,
			       rows[i].max, g.got, rows[i].want);
		}
		uint64_t cursors[1] = {0};
		CHECK(store_db_commit(t.db, 1, 0, cursors, 1) == 0);
	}
	t_db_close(&t);
}

/* ---- registered rooms ---------------------------------------------------- */

struct t_rooms {
	char got[1024];
	size_t n;
};

/* Each stored change as "op:room:who:modes/key/limit:mask:text". */
static void
t_rooms_cb(void *arg, const struct channel_store_room *m)
{
	struct t_rooms *g = arg;

	g->n += (size_t)snprintf(g->got + g->n, sizeof(g->got) - g->n,
				 "%s%u:%s:%s:%u/%s/%u:%s:%s", g->n ? " " : "",
				 m->op, m->room, m->who, m->modes, m->key,
				 m->limit, m->mask, m->text);
}

static void
t_room_apply(struct store_db *db, uint16_t op, const char *room,
	     const char *who, unsigned modes, const char *key, unsigned limit,
	     const char *mask, const char *text)
{
	struct channel_store_room m;

	memset(&m, 0, sizeof(m));
	m.op = op;
	m.modes = modes;
	m.limit = limit;
	m.at_ms = 1000;
	snprintf(m.room, sizeof(m.room), "%s", room);
	snprintf(m.who, sizeof(m.who), "%s", who);
	snprintf(m.key, sizeof(m.key), "%s", key);
	snprintf(m.mask, sizeof(m.mask), "%s", mask);
	snprintf(m.text, sizeof(m.text), "%s", text);
	CHECKF(store_rooms_apply(db, &m) == 0, "op %u on %s", op, room);
}

/* The changes, in order, and what reading back gives after each step. */
static const struct {
	uint16_t op;
	const char *room, *who;
	unsigned modes;
	const char *key;
	unsigned limit;
	const char *mask, *text, *want;
} t_room_rows[] = {
    {CHANNEL_ROOM_REGISTER, "#Keep", "alice", 0, "", 0, "", "",
     "1:#Keep:alice:0//0:: 3:#Keep::0//0::"},
    {CHANNEL_ROOM_STATE, "#keep", "", 0x62, "sesame", 5, "", "",
     "1:#Keep:alice:0//0:: 3:#Keep::98/sesame/5::"},
    {CHANNEL_ROOM_OP_ADD, "#KEEP", "carol", 0, "", 0, "", "",
     "1:#Keep:alice:0//0:: 3:#Keep::98/sesame/5:: 4:#Keep:carol:0//0::"},
    {CHANNEL_ROOM_BAN_ADD, "#keep", "alice", 0, "", 0, "spam!*@*", "",
     "1:#Keep:alice:0//0:: 3:#Keep::98/sesame/5:: 4:#Keep:carol:0//0:: "
     "6:#Keep:alice:0//0:spam!*@*:"},
    /* A mask in another case is the same ban. */
    {CHANNEL_ROOM_BAN_DEL, "#keep", "", 0, "", 0, "SPAM!*@*", "",
     "1:#Keep:alice:0//0:: 3:#Keep::98/sesame/5:: 4:#Keep:carol:0//0::"},
    {CHANNEL_ROOM_OP_DEL, "#keep", "Carol", 0, "", 0, "", "",
     "1:#Keep:alice:0//0:: 3:#Keep::98/sesame/5::"},
    /* Nothing is kept for a room that is not registered. */
    {CHANNEL_ROOM_OP_ADD, "#other", "dave", 0, "", 0, "", "",
     "1:#Keep:alice:0//0:: 3:#Keep::98/sesame/5::"},
    {CHANNEL_GLINE_ADD, "", "oper", 0, "", 0, "10.0.0.*", "go away",
     "1:#Keep:alice:0//0:: 3:#Keep::98/sesame/5:: 8::oper:0//0:10.0.0.*:go "
     "away"},
    {CHANNEL_ROOM_BAN_ADD, "#keep", "alice", 0, "", 0, "x!*@*", "",
     "1:#Keep:alice:0//0:: 3:#Keep::98/sesame/5:: "
     "6:#Keep:alice:0//0:x!*@*: 8::oper:0//0:10.0.0.*:go away"},
    {CHANNEL_ROOM_DROP, "#keep", "", 0, "", 0, "", "",
     "8::oper:0//0:10.0.0.*:go away"},
    {CHANNEL_GLINE_DEL, "", "", 0, "", 0, "10.0.0.*", "", ""},
};

static void
test_registered_rooms_and_server_bans_are_kept_change_by_change(void)
{
	struct channel_store_room bad;
	struct t_db t;

	REQUIRE(t_db_open(&t) == 0);
	for (int batch = 0; batch < 2; batch++) {
		/* Outside a batch, then inside one (committed at the end). */
		if (batch)
			REQUIRE(store_db_begin(t.db) == 0);
		for (size_t i = 0;
		     i < sizeof(t_room_rows) / sizeof(t_room_rows[0]); i++) {
			struct t_rooms g = {.n = 0};
			t_room_apply(t.db, t_room_rows[i].op,
				     t_room_rows[i].room, t_room_rows[i].who,
				     t_room_rows[i].modes, t_room_rows[i].key,
				     t_room_rows[i].limit, t_room_rows[i].mask,
				     t_room_rows[i].text);
			g.got[0] = '\0';
			CHECK(store_rooms_each(t.db, t_rooms_cb, &g) == 0);
			CHECKF(strcmp(g.got, t_room_rows[i].want) == 0,
			       "batch %d row %zu: got \"%s\", want \"%s\"",
			       batch, i, g.got, t_room_rows[i].want);
		}
		if (batch) {
			uint64_t cursors[1] = {0};
			CHECK(store_db_commit(t.db, 1, 0, cursors, 1) == 0);
		}
	}
	memset(&bad, 0, sizeof(bad));
	bad.op = 42;
	CHECK(store_rooms_apply(t.db, &bad) == -EINVAL);
	t_db_close(&t);
}

static long long
t_sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static void
test_a_schema_1_database_is_migrated_and_keeps_its_accounts(void)
{
	char why[256];
	struct t_db t;

	REQUIRE(t_db_open(&t) == 0);
	REQUIRE(store_db_begin(t.db) == 0);
	CHECK(store_db_account_add(t.db, "alice", "$y$hash", 1000) == 0);
	uint64_t cursors[1] = {0};
	CHECK(store_db_commit(t.db, 1, 0, cursors, 1) == 0);
	store_db_close(t.db);
	/* As schema 1 left it: without the new tables. */
	CHECK(t_sql_int(t.path, "SELECT count(*) FROM accounts") == 1);
	t_sql_int(t.path, "DROP TABLE registered_rooms");
	t_sql_int(t.path, "DROP TABLE room_operators");
	t_sql_int(t.path, "DROP TABLE room_bans");
	t_sql_int(t.path, "DROP TABLE server_bans");
	t_sql_int(t.path, "PRAGMA user_version = 1");
	CHECK(t_sql_int(t.path, "PRAGMA user_version") == 1);
	t.db = store_db_open(t.path, why, sizeof(why));
	CHECKF(t.db != NULL, "%s", why);
	REQUIRE(t.db != NULL);
	CHECK(t_sql_int(t.path, "PRAGMA user_version") == STORE_DB_SCHEMA);
	CHECK(t_sql_int(t.path, "SELECT count(*) FROM accounts") == 1);
	t_room_apply(t.db, CHANNEL_ROOM_REGISTER, "#new", "alice", 0, "", 0, "",
		     "");
	CHECK(t_sql_int(t.path, "SELECT count(*) FROM registered_rooms") == 1);
	t_db_close(&t);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		tl_filter = argv[1];
	RUN(test_history_references_parse_as_irc_and_plain_write_them);
	RUN(test_passwords_are_8_to_128_printable_characters_without_spaces);
	RUN(test_a_bucket_allows_its_burst_then_one_try_per_interval);
	RUN(test_a_hash_is_yescrypt_and_checks_only_its_password);
	RUN(test_history_selectors_pick_their_messages_oldest_first);
	RUN(test_a_commit_keeps_its_position_and_a_stored_msgid_is_skipped);
	RUN(test_stored_topics_come_back_newest_first_without_cleared_ones);
	RUN(test_registered_rooms_and_server_bans_are_kept_change_by_change);
	RUN(test_a_schema_1_database_is_migrated_and_keeps_its_accounts);
	return tl_summary("unit_store");
}
