/*
 * store_db: parley's SQLite schema and every statement the store runs
 * (store_history.c runs the history queries).
 * Store process only. Writes go into one open transaction (the batch)
 * that store_db_commit ends together with the timeline position, so a
 * crash keeps either both or neither. Per-room sequence numbers come
 * from a cache of the rooms table, written back at each commit.
 */
#include "server/store_db.h"

#include "server/store_db_int.h"
#include "server/store_rooms.h"

#include "lib/strmap.h"
#include "server/core.h"
#include "server/names.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char store_db_schema[] =
    "CREATE TABLE rooms ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE," /* folded */
    " display TEXT NOT NULL,"
    " last_seq INTEGER NOT NULL DEFAULT 0,"
    " topic TEXT, topic_by TEXT, topic_ms INTEGER);"
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " room INTEGER NOT NULL REFERENCES rooms(id),"
    " seq INTEGER NOT NULL,"
    " msgid TEXT NOT NULL UNIQUE,"
    " ts_ms INTEGER NOT NULL,"
    " flags INTEGER NOT NULL,"
    " nick TEXT NOT NULL, account TEXT, user TEXT, host TEXT,"
    " text TEXT NOT NULL,"
    " UNIQUE (room, seq));"
    "CREATE INDEX messages_time ON messages (room, ts_ms);"
    "CREATE TABLE private_messages ("
    " id INTEGER PRIMARY KEY,"
    " msgid TEXT NOT NULL UNIQUE,"
    " ts_ms INTEGER NOT NULL,"
    " flags INTEGER NOT NULL,"
    " nick TEXT NOT NULL, account TEXT, user TEXT, host TEXT,"
    " target TEXT NOT NULL,"
    " text TEXT NOT NULL);"
    "CREATE TABLE accounts ("
    " name TEXT PRIMARY KEY," /* folded */
    " display TEXT NOT NULL,"
    " hash TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE position ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " boot INTEGER NOT NULL,"
    " tl_pos INTEGER NOT NULL,"
    " cursors BLOB NOT NULL,"
    " committed_ms INTEGER NOT NULL);";

static const char *const store_db_sql[ST_COUNT_ALL] = {
    [ST_INS_MSG] = "INSERT OR IGNORE INTO messages (room, seq, msgid, ts_ms,"
		   " flags, nick, account, user, host, text)"
		   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_INS_PRIV] = "INSERT OR IGNORE INTO private_messages (msgid, ts_ms,"
		    " flags, nick, account, user, host, target, text)"
		    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ROOM_GET] = "SELECT id, last_seq, display FROM rooms WHERE name = ?",
    [ST_ROOM_ADD] = "INSERT INTO rooms (name, display) VALUES (?, ?)",
    [ST_ROOM_SEQ] = "UPDATE rooms SET last_seq = ? WHERE id = ?",
    [ST_TOPIC] = "UPDATE rooms SET topic = ?, topic_by = ?, topic_ms = ?"
		 " WHERE id = ?",
    [ST_POS_GET] = "SELECT boot, tl_pos, cursors FROM position WHERE id = 1",
    [ST_POS_PUT] = "INSERT OR REPLACE INTO position (id, boot, tl_pos,"
		   " cursors, committed_ms) VALUES (1, ?, ?, ?, ?)",
    [ST_HIST_ASC] = "SELECT seq, msgid, ts_ms, flags, nick, account, user,"
		    " host, text FROM messages WHERE room = ?1 AND seq > ?2"
		    " AND seq < ?3 ORDER BY seq ASC LIMIT ?4",
    [ST_HIST_LOW] = "SELECT seq FROM messages WHERE room = ?1 AND seq > ?2"
		    " AND seq < ?3 ORDER BY seq DESC LIMIT 1 OFFSET ?4",
    [ST_BY_MSGID] = "SELECT seq FROM messages WHERE room = ? AND msgid = ?",
    [ST_TS_FIRST] = "SELECT min(seq) FROM messages WHERE room = ?"
		    " AND ts_ms >= ?",
    [ST_TS_LAST] = "SELECT max(seq) FROM messages WHERE room = ?"
		   " AND ts_ms <= ?",
    [ST_HIST_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM messages"
		      " WHERE room = ?1 AND seq > ?2 LIMIT ?3)",
    [ST_ACCT_GET] = "SELECT display, hash FROM accounts WHERE name = ?",
    [ST_ACCT_ADD] = "INSERT OR IGNORE INTO accounts (name, display, hash,"
		    " created_ms) VALUES (?, ?, ?, ?)",
    [ST_ACCT_SET] = "UPDATE accounts SET hash = ? WHERE name = ?",
    [ST_ACCT_DEL] = "DELETE FROM accounts WHERE name = ?",
    [ST_ACCT_ALL] = "SELECT display FROM accounts ORDER BY name",
    [ST_TOPICS] = "SELECT display, topic, topic_by, topic_ms FROM rooms"
		  " WHERE topic IS NOT NULL AND topic <> ''"
		  " ORDER BY topic_ms DESC LIMIT ?",
    [ST_COUNT] = "SELECT count(*) FROM messages",
    /* Rows are appended in time order (give or take the clocks of two
     * processes): the oldest are the lowest ids, and the first row that
     * is new enough bounds what may go. */
    [ST_PRUNE_BOUND] = "SELECT id FROM messages WHERE ts_ms >= ?"
		       " ORDER BY id LIMIT 1",
    [ST_PRUNE] = "DELETE FROM messages WHERE id < ?1 AND id <"
		 " (SELECT min(id) FROM messages) + ?2",
};

const char *
store_db_error(const struct store_db *db)
{
	return sqlite3_errmsg(db->db);
}

static int64_t
store_db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
store_db_rooms_reset(struct store_db *db)
{
	while (db->all) {
		struct store_droom *r = db->all;
		db->all = r->next;
		free(r);
	}
	strmap_free(&db->rooms);
	memset(&db->rooms, 0, sizeof(db->rooms));
}

/* ---- opening ------------------------------------------------------------- */

static int
store_db_exec(struct store_db *db, const char *sql)
{
	return sqlite3_exec(db->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0
									: -EIO;
}

/* The single integer a query returns, or -1 on error. */
static long long
store_db_int(struct store_db *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
store_db_create(struct store_db *db)
{
	char sql[128];

	snprintf(sql, sizeof(sql),
		 "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 STORE_DB_APP_ID, STORE_DB_SCHEMA);
	if (store_db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	if (store_db_exec(db, store_db_schema) < 0 ||
	    store_db_exec(db, store_rooms_schema) < 0 ||
	    store_db_exec(db, sql) < 0 || store_db_exec(db, "COMMIT") < 0) {
		(void)store_db_exec(db, "ROLLBACK");
		return -EIO;
	}
	return 0;
}

/* Schema 1 -> 2: the registered rooms' and server bans' tables. */
static int
store_db_migrate_1(struct store_db *db)
{
	if (store_db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	if (store_db_exec(db, store_rooms_schema) < 0 ||
	    store_db_exec(db, "PRAGMA user_version = 2") < 0 ||
	    store_db_exec(db, "COMMIT") < 0) {
		(void)store_db_exec(db, "ROLLBACK");
		return -EIO;
	}
	return 0;
}

/* Checks (or creates) the schema. Returns 0, or -1 with why filled. */
static int
store_db_check(struct store_db *db, const char *path, char *why, size_t n)
{
	long long app = store_db_int(db, "PRAGMA application_id");
	long long version = store_db_int(db, "PRAGMA user_version");
	long long tables =
	    store_db_int(db, "SELECT count(*) FROM sqlite_master");

	if (app < 0 || version < 0 || tables < 0) {
		snprintf(why, n,
			 "database %s cannot be read: %s (the file and its "
			 "directory must be readable and writable)",
			 path, store_db_error(db));
		return -1;
	}
	if (app == 0 && tables == 0) {
		if (store_db_create(db) == 0)
			return 0;
		snprintf(why, n, "database %s cannot be created: %s", path,
			 store_db_error(db));
		return -1;
	}
	if (app != STORE_DB_APP_ID) {
		snprintf(why, n,
			 "database %s is not a parley database (application "
			 "id %lld); give another --db FILE",
			 path, app);
		return -1;
	}
	if (version == 1 && store_db_migrate_1(db) < 0) {
		snprintf(why, n,
			 "database %s cannot be upgraded to schema %d: %s",
			 path, STORE_DB_SCHEMA, store_db_error(db));
		return -1;
	}
	if (version == 1)
		version = STORE_DB_SCHEMA;
	if (version != STORE_DB_SCHEMA) {
		snprintf(why, n,
			 "database %s has schema version %lld; this parleyd "
			 "reads version %d",
			 path, version, STORE_DB_SCHEMA);
		return -1;
	}
	return 0;
}

/* WAL mode and a write: a read-only file or directory fails here. */
static int
store_db_writable(struct store_db *db, const char *path, char *why, size_t n)
{
	sqlite3_stmt *st;
	int wal = 0;

	if (sqlite3_prepare_v2(db->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *m = sqlite3_column_text(st, 0);
			wal = m && strcmp((const char *)m, "wal") == 0;
		}
		sqlite3_finalize(st);
	}
	/* Checkpoints every 16384 pages (64 MiB of WAL) rather than 1000:
	 * at tens of thousands of rows a second the default copies pages
	 * back several times a second, on CPU the sessions need (A/B in
	 * BENCHMARKS.md: +4-7% deliveries/s with the store on). */
	if (wal && store_db_exec(db, "PRAGMA synchronous = NORMAL") == 0 &&
	    store_db_exec(db, "PRAGMA wal_autocheckpoint = 16384") == 0 &&
	    store_db_exec(db, "BEGIN IMMEDIATE") == 0 &&
	    store_db_exec(db, "UPDATE position SET id = 1 WHERE 0") == 0 &&
	    store_db_exec(db, "COMMIT") == 0)
		return 0;
	snprintf(why, n,
		 "database %s cannot be written (%s): the file and its "
		 "directory must be writable (WAL mode keeps %s-wal beside it)",
		 path, store_db_error(db), path);
	return -1;
}

struct store_db *
store_db_open(const char *path, char *why, size_t n)
{
	struct store_db *db = calloc(1, sizeof(*db));
	int rc;

	if (!db) {
		snprintf(why, n, "database %s: out of memory", path);
		return NULL;
	}
	rc = sqlite3_open_v2(path, &db->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, n,
			 "database %s cannot be opened: %s (the file and its "
			 "directory must be readable and writable)",
			 path,
			 db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
		goto err_close;
	}
	/* A backup (sqlite3 parley.db .backup) may hold a lock briefly. */
	sqlite3_busy_timeout(db->db, 2000);
	if (store_db_check(db, path, why, n) < 0 ||
	    store_db_writable(db, path, why, n) < 0)
		goto err_close;
	/* SQLite seeds its random numbers (new WAL salts) from /dev/urandom
	 * at their first use: now, before the store's sandbox, in which it
	 * could not open it. */
	unsigned char seed;
	sqlite3_randomness(1, &seed);
	for (int i = 0; i < ST_COUNT_ALL; i++) {
		if (sqlite3_prepare_v3(db->db, store_db_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &db->st[i],
				       NULL) != SQLITE_OK) {
			snprintf(why, n, "database %s: %s", path,
				 store_db_error(db));
			goto err_close;
		}
	}
	return db;
err_close:
	store_db_close(db);
	return NULL;
}

void
store_db_close(struct store_db *db)
{
	if (!db)
		return;
	store_db_rollback(db);
	for (int i = 0; i < ST_COUNT_ALL; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->db);
	store_db_rooms_reset(db);
	free(db);
}

/* ---- statements ---------------------------------------------------------- */

sqlite3_stmt *
store_db_stmt(struct store_db *db, enum store_stmt which)
{
	sqlite3_stmt *st = db->st[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void
store_db_bind_str(sqlite3_stmt *st, int i, struct outbox_str s)
{
	sqlite3_bind_text(st, i, s.p ? s.p : "", (int)s.n, SQLITE_TRANSIENT);
}

void
store_db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Steps a statement that returns no rows: 0, or -EIO. */
static int
store_db_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

struct outbox_str
store_db_col(sqlite3_stmt *st, int i)
{
	const unsigned char *p = sqlite3_column_text(st, i);

	return (struct outbox_str){p ? (const char *)p : "",
				   p ? (size_t)sqlite3_column_bytes(st, i) : 0};
}

/* ---- the batch ----------------------------------------------------------- */

int
store_db_begin(struct store_db *db)
{
	if (db->in_txn)
		return 0;
	if (store_db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	db->in_txn = 1;
	return 0;
}

void
store_db_rollback(struct store_db *db)
{
	if (db->in_txn && sqlite3_get_autocommit(db->db) == 0)
		(void)store_db_exec(db, "ROLLBACK");
	db->in_txn = 0;
	store_db_rooms_reset(db); /* its sequence numbers were not kept */
}

/* The cached room called name (any spelling), from its row or a new
 * one; create 0: NULL when there is none. */
struct store_droom *
store_db_room(struct store_db *db, struct outbox_str name, int create)
{
	char display[OUTBOX_ROOM_MAX + 1], folded[OUTBOX_ROOM_MAX + 1];
	size_t n = name.n < OUTBOX_ROOM_MAX ? name.n : OUTBOX_ROOM_MAX;
	struct store_droom *r;
	sqlite3_stmt *st;
	int rc;

	memcpy(display, name.p, n);
	display[n] = '\0';
	names_fold(display, folded, sizeof(folded));
	r = strmap_get(&db->rooms, folded);
	if (r)
		return r;
	st = store_db_stmt(db, ST_ROOM_GET);
	store_db_bind_text(st, 1, folded);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && (!create || rc != SQLITE_DONE))
		return NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		r->last_seq = r->stored_seq = sqlite3_column_int64(st, 1);
		struct outbox_str d = store_db_col(st, 2);
		snprintf(r->display, sizeof(r->display), "%.*s", (int)d.n, d.p);
	} else {
		sqlite3_reset(st);
		st = store_db_stmt(db, ST_ROOM_ADD);
		store_db_bind_text(st, 1, folded);
		store_db_bind_text(st, 2, display);
		if (store_db_done(st) < 0) {
			free(r);
			return NULL;
		}
		r->id = sqlite3_last_insert_rowid(db->db);
		snprintf(r->display, sizeof(r->display), "%s", display);
	}
	sqlite3_reset(db->st[ST_ROOM_GET]);
	if (strmap_put(&db->rooms, folded, r) < 0) {
		free(r);
		return NULL;
	}
	r->next = db->all;
	db->all = r;
	return r;
}

static void
store_db_bind_author(sqlite3_stmt *st, int at, const struct store_row *row)
{
	store_db_bind_str(st, at, row->nick);
	if (row->account.n)
		store_db_bind_str(st, at + 1, row->account);
	store_db_bind_str(st, at + 2, row->user);
	store_db_bind_str(st, at + 3, row->host);
}

int
store_db_add_message(struct store_db *db, struct store_row *row)
{
	struct store_droom *r = store_db_room(db, row->room, 1);
	sqlite3_stmt *st;

	if (!r)
		return -EIO;
	row->seq = r->last_seq + 1;
	st = store_db_stmt(db, ST_INS_MSG);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, row->seq);
	store_db_bind_str(st, 3, row->msgid);
	sqlite3_bind_int64(st, 4, row->ts_ms);
	sqlite3_bind_int(st, 5, (int)row->flags);
	store_db_bind_author(st, 6, row);
	store_db_bind_str(st, 10, row->text);
	if (store_db_done(st) < 0)
		return -EIO;
	if (sqlite3_changes(db->db) == 0)
		return 0;
	r->last_seq = row->seq;
	return 1;
}

int
store_db_add_private(struct store_db *db, const struct store_row *row)
{
	sqlite3_stmt *st = store_db_stmt(db, ST_INS_PRIV);

	store_db_bind_str(st, 1, row->msgid);
	sqlite3_bind_int64(st, 2, row->ts_ms);
	sqlite3_bind_int(st, 3, (int)row->flags);
	store_db_bind_author(st, 4, row);
	store_db_bind_str(st, 8, row->target);
	store_db_bind_str(st, 9, row->text);
	if (store_db_done(st) < 0)
		return -EIO;
	return sqlite3_changes(db->db) ? 1 : 0;
}

int
store_db_set_topic(struct store_db *db, struct outbox_str room,
		   struct outbox_str topic, struct outbox_str by, int64_t ts_ms)
{
	struct store_droom *r = store_db_room(db, room, 1);
	sqlite3_stmt *st;

	if (!r)
		return -EIO;
	st = store_db_stmt(db, ST_TOPIC);
	if (topic.n) {
		store_db_bind_str(st, 1, topic);
		store_db_bind_str(st, 2, by);
		sqlite3_bind_int64(st, 3, ts_ms);
	}
	sqlite3_bind_int64(st, 4, r->id);
	return store_db_done(st);
}

int
store_db_commit(struct store_db *db, uint64_t boot, uint64_t tl_pos,
		const uint64_t *cursors, unsigned nprod)
{
	sqlite3_stmt *st;
	int rc;

	if (store_db_begin(db) < 0)
		goto err;
	for (struct store_droom *r = db->all; r; r = r->next) {
		if (r->last_seq == r->stored_seq)
			continue;
		st = store_db_stmt(db, ST_ROOM_SEQ);
		sqlite3_bind_int64(st, 1, r->last_seq);
		sqlite3_bind_int64(st, 2, r->id);
		if (store_db_done(st) < 0)
			goto err;
	}
	st = store_db_stmt(db, ST_POS_PUT);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)boot);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)tl_pos);
	sqlite3_bind_blob(st, 3, cursors, (int)(nprod * sizeof(*cursors)),
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, store_db_now_ms());
	if (store_db_done(st) < 0)
		goto err;
	sqlite3_clear_bindings(st);
	if (store_db_exec(db, "COMMIT") < 0)
		goto err;
	db->in_txn = 0;
	for (struct store_droom *r = db->all; r; r = r->next)
		r->stored_seq = r->last_seq;
	return 0;
err:
	rc = sqlite3_errcode(db->db);
	sqlite3_clear_bindings(db->st[ST_POS_PUT]);
	store_db_rollback(db);
	return rc == SQLITE_FULL ? -ENOSPC : -EIO;
}

int
store_db_position(struct store_db *db, uint64_t boot, uint64_t *tl_pos,
		  uint64_t *cursors, unsigned nprod)
{
	sqlite3_stmt *st = store_db_stmt(db, ST_POS_GET);
	int rc = sqlite3_step(st), found = 0;

	if (rc == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) == boot &&
	    (size_t)sqlite3_column_bytes(st, 2) == nprod * sizeof(*cursors)) {
		*tl_pos = (uint64_t)sqlite3_column_int64(st, 1);
		memcpy(cursors, sqlite3_column_blob(st, 2),
		       nprod * sizeof(*cursors));
		found = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -EIO;
	return found;
}

int64_t
store_db_count(struct store_db *db)
{
	sqlite3_stmt *st = store_db_stmt(db, ST_COUNT);
	int64_t n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* ---- accounts ------------------------------------------------------------ */

int
store_db_account_get(struct store_db *db, const char *name, char *display,
		     size_t display_n, char *hash, size_t hash_n)
{
	char folded[OUTBOX_ACCT_MAX + 1];
	sqlite3_stmt *st = store_db_stmt(db, ST_ACCT_GET);
	int rc, found = 0;

	names_fold(name, folded, sizeof(folded));
	store_db_bind_text(st, 1, folded);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct outbox_str d = store_db_col(st, 0);
		struct outbox_str h = store_db_col(st, 1);
		snprintf(display, display_n, "%.*s", (int)d.n, d.p);
		snprintf(hash, hash_n, "%.*s", (int)h.n, h.p);
		found = 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -EIO;
}

int
store_db_account_add(struct store_db *db, const char *display, const char *hash,
		     int64_t ts_ms)
{
	char folded[OUTBOX_ACCT_MAX + 1];
	sqlite3_stmt *st = store_db_stmt(db, ST_ACCT_ADD);

	names_fold(display, folded, sizeof(folded));
	store_db_bind_text(st, 1, folded);
	store_db_bind_text(st, 2, display);
	store_db_bind_text(st, 3, hash);
	sqlite3_bind_int64(st, 4, ts_ms);
	if (store_db_done(st) < 0)
		return -EIO;
	return sqlite3_changes(db->db) ? 0 : -EEXIST;
}

int
store_db_account_set_hash(struct store_db *db, const char *name,
			  const char *hash)
{
	char folded[OUTBOX_ACCT_MAX + 1];
	sqlite3_stmt *st = store_db_stmt(db, ST_ACCT_SET);

	names_fold(name, folded, sizeof(folded));
	store_db_bind_text(st, 1, hash);
	store_db_bind_text(st, 2, folded);
	return store_db_done(st);
}

int
store_db_account_del(struct store_db *db, const char *name)
{
	char folded[OUTBOX_ACCT_MAX + 1];
	sqlite3_stmt *st = store_db_stmt(db, ST_ACCT_DEL);

	names_fold(name, folded, sizeof(folded));
	store_db_bind_text(st, 1, folded);
	if (store_db_done(st) < 0)
		return -EIO;
	return sqlite3_changes(db->db) ? 0 : -ENOENT;
}

int
store_db_accounts_each(struct store_db *db, store_db_name_cb *cb, void *arg)
{
	sqlite3_stmt *st = store_db_stmt(db, ST_ACCT_ALL);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 0);
		if (name)
			cb(arg, (const char *)name);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* ---- topics -------------------------------------------------------------- */

int
store_db_topics_each(struct store_db *db, unsigned max, store_db_topic_cb *cb,
		     void *arg)
{
	sqlite3_stmt *st = store_db_stmt(db, ST_TOPICS);
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_topic t = {
		    .room = store_db_col(st, 0),
		    .topic = store_db_col(st, 1),
		    .by = store_db_col(st, 2),
		    .ts_ms = sqlite3_column_int64(st, 3),
		};
		cb(arg, &t);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* ---- retention ----------------------------------------------------------- */

int
store_db_prune(struct store_db *db, int64_t cutoff_ms, unsigned max)
{
	sqlite3_stmt *st = store_db_stmt(db, ST_PRUNE_BOUND);
	int64_t bound;
	int rc, n;

	if (db->in_txn)
		return -EBUSY;
	sqlite3_bind_int64(st, 1, cutoff_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		bound = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		bound = INT64_MAX; /* every message is old */
	else
		bound = -1;
	sqlite3_reset(st);
	if (bound < 0)
		return -EIO;
	st = store_db_stmt(db, ST_PRUNE);
	sqlite3_bind_int64(st, 1, bound);
	sqlite3_bind_int64(st, 2, max);
	if (store_db_done(st) < 0)
		return -EIO;
	n = sqlite3_changes(db->db);
	return n;
}
