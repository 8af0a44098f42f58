/*
 * store_rooms: the registered rooms' tables (store_rooms.h). Store
 * process only. Rooms are keyed by their folded name; masks compare
 * ASCII case-insensitively, as the supervisor compares them.
 */
#include "server/store_rooms.h"

#include "server/names.h"
#include "server/store_db_int.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>

const char store_rooms_schema[] = "CREATE TABLE registered_rooms ("
				  " name TEXT PRIMARY KEY," /* folded */
				  " display TEXT NOT NULL,"
				  " founder TEXT NOT NULL,"
				  " registered_ms INTEGER NOT NULL,"
				  " modes INTEGER NOT NULL DEFAULT 0,"
				  " room_key TEXT NOT NULL DEFAULT '',"
				  " max_members INTEGER NOT NULL DEFAULT 0);"
				  "CREATE TABLE room_operators ("
				  " room TEXT NOT NULL," /* folded */
				  " account TEXT NOT NULL COLLATE NOCASE,"
				  " PRIMARY KEY (room, account));"
				  "CREATE TABLE room_bans ("
				  " room TEXT NOT NULL," /* folded */
				  " mask TEXT NOT NULL COLLATE NOCASE,"
				  " set_by TEXT NOT NULL,"
				  " set_ms INTEGER NOT NULL,"
				  " PRIMARY KEY (room, mask));"
				  "CREATE TABLE server_bans ("
				  " mask TEXT PRIMARY KEY COLLATE NOCASE,"
				  " set_by TEXT NOT NULL,"
				  " reason TEXT NOT NULL,"
				  " set_ms INTEGER NOT NULL);";

/* The statements of each op: ?1 folded room, ?2 display room, ?3 who,
 * ?4 at_ms, ?5 modes, ?6 key, ?7 limit, ?8 mask, ?9 text. */
static const char *const store_rooms_sql[][4] = {
    [CHANNEL_ROOM_REGISTER] =
	{"DELETE FROM room_operators WHERE room = ?1",
	 "DELETE FROM room_bans WHERE room = ?1",
	 "INSERT OR REPLACE INTO registered_rooms (name, display, founder,"
	 " registered_ms) VALUES (?1, ?2, ?3, ?4)"},
    [CHANNEL_ROOM_DROP] = {"DELETE FROM room_operators WHERE room = ?1",
			   "DELETE FROM room_bans WHERE room = ?1",
			   "DELETE FROM registered_rooms WHERE name = ?1"},
    [CHANNEL_ROOM_STATE] = {"UPDATE registered_rooms SET modes = ?5,"
			    " room_key = ?6, max_members = ?7 WHERE name = ?1"},
    [CHANNEL_ROOM_OP_ADD] = {"INSERT OR IGNORE INTO room_operators (room,"
			     " account) SELECT ?1, ?3 WHERE EXISTS (SELECT 1"
			     " FROM registered_rooms WHERE name = ?1)"},
    [CHANNEL_ROOM_OP_DEL] = {"DELETE FROM room_operators WHERE room = ?1"
			     " AND account = ?3"},
    [CHANNEL_ROOM_BAN_ADD] = {"INSERT OR REPLACE INTO room_bans (room, mask,"
			      " set_by, set_ms) SELECT ?1, ?8, ?3, ?4 WHERE"
			      " EXISTS (SELECT 1 FROM registered_rooms WHERE"
			      " name = ?1)"},
    [CHANNEL_ROOM_BAN_DEL] = {"DELETE FROM room_bans WHERE room = ?1 AND"
			      " mask = ?8"},
    [CHANNEL_GLINE_ADD] = {"INSERT OR REPLACE INTO server_bans (mask,"
			   " set_by, reason, set_ms) VALUES (?8, ?3, ?9, ?4)"},
    [CHANNEL_GLINE_DEL] = {"DELETE FROM server_bans WHERE mask = ?8"},
    [CHANNEL_ROOMS_RESET] = {"DELETE FROM room_operators",
			     "DELETE FROM room_bans",
			     "DELETE FROM registered_rooms",
			     "DELETE FROM server_bans"},
};

static int
store_rooms_run(struct store_db *db, const char *sql,
		const struct channel_store_room *m, const char *folded)
{
	sqlite3_stmt *st;
	int rc, n;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	n = sqlite3_bind_parameter_count(st);
	/* ?N is parameter N. */
	for (int i = 1; i <= n; i++) {
		switch (i) {
		case 1:
			store_db_bind_text(st, i, folded);
			break;
		case 2:
			store_db_bind_text(st, i, m->room);
			break;
		case 3:
			store_db_bind_text(st, i, m->who);
			break;
		case 4:
			sqlite3_bind_int64(st, i, m->at_ms);
			break;
		case 5:
			sqlite3_bind_int64(st, i, m->modes);
			break;
		case 6:
			store_db_bind_text(st, i, m->key);
			break;
		case 7:
			sqlite3_bind_int64(st, i, m->limit);
			break;
		case 8:
			store_db_bind_text(st, i, m->mask);
			break;
		case 9:
			store_db_bind_text(st, i, m->text);
			break;
		default:
			break;
		}
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_rooms_apply(struct store_db *db, const struct channel_store_room *m)
{
	char room[CHANNEL_ROOM_MAX + 1], folded[CHANNEL_ROOM_MAX + 1];
	size_t nops = sizeof(store_rooms_sql) / sizeof(store_rooms_sql[0]);

	if (m->op == 0 || m->op >= nops || !store_rooms_sql[m->op][0])
		return -EINVAL;
	memcpy(room, m->room, sizeof(room));
	room[sizeof(room) - 1] = '\0';
	names_fold(room, folded, sizeof(folded));
	for (int i = 0; i < 4 && store_rooms_sql[m->op][i]; i++)
		if (store_rooms_run(db, store_rooms_sql[m->op][i], m, folded) <
		    0)
			return -EIO;
	return 0;
}

/* ---- reading back -------------------------------------------------------- */

static void
store_rooms_copy(char *out, size_t n, sqlite3_stmt *st, int col)
{
	struct outbox_str s = store_db_col(st, col);
	size_t k = s.n < n - 1 ? s.n : n - 1;

	memcpy(out, s.p, k);
	out[k] = '\0';
}

/* Runs a query, one struct channel_store_room of op per row: columns
 * room, who, at_ms, modes, key, limit, mask, text. */
static int
store_rooms_query(struct store_db *db, const char *sql, uint16_t op,
		  store_rooms_cb *cb, void *arg)
{
	struct channel_store_room m;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		m.op = op;
		store_rooms_copy(m.room, sizeof(m.room), st, 0);
		store_rooms_copy(m.who, sizeof(m.who), st, 1);
		m.at_ms = sqlite3_column_int64(st, 2);
		m.modes = (uint32_t)sqlite3_column_int64(st, 3);
		store_rooms_copy(m.key, sizeof(m.key), st, 4);
		m.limit = (uint32_t)sqlite3_column_int64(st, 5);
		store_rooms_copy(m.mask, sizeof(m.mask), st, 6);
		store_rooms_copy(m.text, sizeof(m.text), st, 7);
		cb(arg, &m);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_rooms_each(struct store_db *db, store_rooms_cb *cb, void *arg)
{
	static const struct {
		const char *sql;
		uint16_t op;
	} q[] = {
	    {"SELECT display, founder, registered_ms, 0, '', 0, '', ''"
	     " FROM registered_rooms ORDER BY name",
	     CHANNEL_ROOM_REGISTER},
	    {"SELECT display, '', 0, modes, room_key, max_members, '', ''"
	     " FROM registered_rooms ORDER BY name",
	     CHANNEL_ROOM_STATE},
	    {"SELECT r.display, o.account, 0, 0, '', 0, '', '' FROM"
	     " room_operators o JOIN registered_rooms r ON r.name = o.room"
	     " ORDER BY o.room, o.account",
	     CHANNEL_ROOM_OP_ADD},
	    {"SELECT r.display, b.set_by, b.set_ms, 0, '', 0, b.mask, '' FROM"
	     " room_bans b JOIN registered_rooms r ON r.name = b.room"
	     " ORDER BY b.room, b.set_ms",
	     CHANNEL_ROOM_BAN_ADD},
	    {"SELECT '', set_by, set_ms, 0, '', 0, mask, reason FROM"
	     " server_bans ORDER BY set_ms",
	     CHANNEL_GLINE_ADD},
	};

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (store_rooms_query(db, q[i].sql, q[i].op, cb, arg) < 0)
			return -EIO;
	return 0;
}
