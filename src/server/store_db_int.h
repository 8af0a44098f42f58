/*
 * store_db_int: what store_db.c (the schema, the batch, accounts) and
 * store_history.c (history queries) share: the connection, its prepared
 * statements and the room cache. Store process only.
 */
#ifndef PARLEY_STORE_DB_INT_H
#define PARLEY_STORE_DB_INT_H

#include "lib/strmap.h"
#include "server/store_db.h"

#include <sqlite3.h>

enum store_stmt {
	ST_INS_MSG,
	ST_INS_PRIV,
	ST_ROOM_GET,
	ST_ROOM_ADD,
	ST_ROOM_SEQ,
	ST_TOPIC,
	ST_POS_GET,
	ST_POS_PUT,
	ST_HIST_ASC,
	ST_HIST_LOW,
	ST_BY_MSGID,
	ST_TS_FIRST,
	ST_TS_LAST,
	ST_HIST_COUNT,
	ST_ACCT_GET,
	ST_ACCT_ADD,
	ST_ACCT_SET,
	ST_ACCT_DEL,
	ST_ACCT_ALL,
	ST_TOPICS,
	ST_COUNT,
	ST_PRUNE_BOUND,
	ST_PRUNE,
	ST_COUNT_ALL
};

/* A room as the batch sees it: its row and its last sequence number. */
struct store_droom {
	int64_t id, last_seq, stored_seq;
	struct store_droom *next;
	char display[OUTBOX_ROOM_MAX + 1];
};

struct store_db {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT_ALL];
	int in_txn;
	struct strmap rooms; /* folded name -> struct store_droom */
	struct store_droom *all;
};

/* The statement which, reset and unbound. */
sqlite3_stmt *store_db_stmt(struct store_db *db, enum store_stmt which);

void store_db_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Column i of the current row as a string (empty for NULL). */
struct outbox_str store_db_col(sqlite3_stmt *st, int i);

/* The cached room called name (any spelling), from its row or, with
 * create, a new one; NULL when there is none (or on error). */
struct store_droom *store_db_room(struct store_db *db, struct outbox_str name,
				  int create);

#endif
