/*
 * store_db: the store's SQLite database: its schema (checked by
 * application id and version), the batched writes of room messages,
 * private messages and topics, the committed timeline position, history
 * queries, accounts and pruning. Store process only; one connection, one
 * transaction at a time, which sees its own rows before they commit.
 */
#ifndef PARLEY_STORE_DB_H
#define PARLEY_STORE_DB_H

#include "server/outbox.h"

#include <stddef.h>
#include <stdint.h>

/* "Prly": PRAGMA application_id of every parley database. */
#define STORE_DB_APP_ID 0x50726c79
#define STORE_DB_SCHEMA 2 /* PRAGMA user_version; bump with a migration */

struct store_db;

/* A stored message: strings point into a record or a result row. */
struct store_row {
	struct outbox_str room; /* as spelled when it was created */
	int64_t seq;		/* in its room, from 1 */
	struct outbox_str msgid;
	int64_t ts_ms;
	unsigned flags; /* OUTBOX_MSG_* */
	struct outbox_str nick, account, user, host, text;
	struct outbox_str target; /* private messages: the recipient */
};

/* Opens path (creating it with its schema if it is new or empty) in WAL
 * mode and checks that it is parley's and writable. Returns the handle,
 * or NULL with one line in why (n bytes) saying what is wrong. Blocks. */
struct store_db *store_db_open(const char *path, char *why, size_t n);

void store_db_close(struct store_db *db);

/* The last SQLite error of db, for logs. */
const char *store_db_error(const struct store_db *db);

/* The committed timeline position of server run boot: tl_pos and
 * cursors[nprod]. Returns 1 when it is there, 0 when the database holds
 * another run's (or none), -EIO on error. */
int store_db_position(struct store_db *db, uint64_t boot, uint64_t *tl_pos,
		      uint64_t *cursors, unsigned nprod);

/* Starts the batch's transaction unless one is open. 0 or -EIO. */
int store_db_begin(struct store_db *db) __attribute__((warn_unused_result));

/* Appends a room message to the open transaction (row->seq is assigned:
 * the room's next). A message id already stored is skipped (returns 0,
 * not 1). Returns 1, 0 or -EIO. */
int store_db_add_message(struct store_db *db, struct store_row *row)
    __attribute__((warn_unused_result));

/* Appends a private message (row->target set). Returns 1, 0 or -EIO. */
int store_db_add_private(struct store_db *db, const struct store_row *row)
    __attribute__((warn_unused_result));

/* Sets room's topic (empty: cleared), who set it and when. 0 or -EIO. */
int store_db_set_topic(struct store_db *db, struct outbox_str room,
		       struct outbox_str topic, struct outbox_str by,
		       int64_t ts_ms) __attribute__((warn_unused_result));

/* Records the position (boot, tl_pos, cursors[nprod]) and commits.
 * Returns 0, or -ENOSPC (disk full) / -EIO after rolling back: nothing
 * of the batch is stored then, and the room cache is reset. */
int store_db_commit(struct store_db *db, uint64_t boot, uint64_t tl_pos,
		    const uint64_t *cursors, unsigned nprod)
    __attribute__((warn_unused_result));

/* Drops the open transaction, if any. */
void store_db_rollback(struct store_db *db);

/* ---- history ---- */

typedef void store_db_row_cb(void *arg, const struct store_row *row);

/* A parsed history reference (CORE_HISTORY's arg and text). */
enum store_ref_kind {
	STORE_REF_NONE, /* "*": no bound */
	STORE_REF_SEQ,	/* "seq=N" */
	STORE_REF_MSGID,
	STORE_REF_TIME, /* "timestamp=ISO-8601" or "ms=N" */
};

struct store_ref {
	enum store_ref_kind kind;
	int64_t value; /* seq or ms */
	char msgid[OUTBOX_MSGID_MAX];
};

/* Parses a reference. Pure. Returns 0, or -EINVAL. */
int store_ref_parse(const char *s, struct store_ref *out)
    __attribute__((warn_unused_result));

/* Calls cb for each message of room (any spelling) that selector
 * (CORE_HISTORY_*) picks by ref and ref2, oldest first, at most limit.
 * Returns how many, -ENOENT for a message id (ref) not in the room,
 * -ENXIO when it is ref2's, or -EIO. */
int store_db_history(struct store_db *db, const char *room, unsigned selector,
		     const struct store_ref *ref, const struct store_ref *ref2,
		     unsigned limit, store_db_row_cb *cb, void *arg);

/* Rooms, stored messages (both for logs and tests). */
int64_t store_db_count(struct store_db *db);

/* ---- accounts ---- */

/* The account name (folded) as registered and its password hash.
 * Returns 1, 0 when there is none, or -EIO. */
int store_db_account_get(struct store_db *db, const char *name, char *display,
			 size_t display_n, char *hash, size_t hash_n);

/* Adds an account (in the open transaction). 0, -EEXIST or -EIO. */
int store_db_account_add(struct store_db *db, const char *display,
			 const char *hash, int64_t ts_ms)
    __attribute__((warn_unused_result));

/* Replaces the hash (0 or -EIO) / deletes the account (0, -ENOENT or
 * -EIO), in the open transaction. */
int store_db_account_set_hash(struct store_db *db, const char *name,
			      const char *hash)
    __attribute__((warn_unused_result));
int store_db_account_del(struct store_db *db, const char *name)
    __attribute__((warn_unused_result));

typedef void store_db_name_cb(void *arg, const char *name);

/* Calls cb with every account's name as registered. 0 or -EIO. */
int store_db_accounts_each(struct store_db *db, store_db_name_cb *cb,
			   void *arg);

/* ---- topics ---- */

/* A room's stored topic: strings point into a result row. */
struct store_topic {
	struct outbox_str room; /* as spelled when it was created */
	struct outbox_str topic, by;
	int64_t ts_ms; /* when it was set (wall clock) */
};

typedef void store_db_topic_cb(void *arg, const struct store_topic *t);

/* Calls cb with every room's topic (cleared ones are not there), the most
 * recently set first, at most max. 0 or -EIO. */
int store_db_topics_each(struct store_db *db, unsigned max,
			 store_db_topic_cb *cb, void *arg);

/* ---- retention ---- */

/* Deletes at most max messages older than cutoff_ms (oldest first), in
 * its own transaction (none may be open). Returns how many, or -EIO. */
int store_db_prune(struct store_db *db, int64_t cutoff_ms, unsigned max);

#endif
