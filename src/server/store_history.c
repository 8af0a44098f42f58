/*
 * store_history: history queries on the store's database. A reference
 * (a sequence number, a message id or a time) becomes two bounds on the
 * room's sequence numbers; each selector is then one or two range
 * queries, always sent oldest first. Store process only.
 */
#include "server/core.h"
#include "server/store_db.h"
#include "server/store_db_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
store_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DDThh:mm:ss[.sss]Z" -> ms; -1 if it is not that. */
static int64_t
store_parse_time(const char *s)
{
	int y, mo, d, h, mi, sec, used = 0;
	int64_t ms = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
		   &used) != 6 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || h < 0 || mi < 0 || sec < 0 || y < 1970)
		return -1;
	s += used;
	if (*s == '.') {
		int digits = 0;
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*s - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(s, "Z") != 0)
		return -1;
	return ((store_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) *
		    60 +
		mi) *
		   60000 +
	       (int64_t)sec * 1000 + ms;
}

static int
store_parse_number(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int
store_ref_parse(const char *s, struct store_ref *out)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(s, "*") == 0 || !*s)
		return 0;
	if (strncmp(s, "seq=", 4) == 0) {
		out->kind = STORE_REF_SEQ;
		return store_parse_number(s + 4, &out->value);
	}
	if (strncmp(s, "ms=", 3) == 0) {
		out->kind = STORE_REF_TIME;
		return store_parse_number(s + 3, &out->value);
	}
	if (strncmp(s, "timestamp=", 10) == 0) {
		out->kind = STORE_REF_TIME;
		out->value = store_parse_time(s + 10);
		return out->value < 0 ? -EINVAL : 0;
	}
	if (strncmp(s, "msgid=", 6) == 0 && s[6] &&
	    strlen(s + 6) < sizeof(out->msgid)) {
		out->kind = STORE_REF_MSGID;
		snprintf(out->msgid, sizeof(out->msgid), "%s", s + 6);
		return 0;
	}
	return -EINVAL;
}

/* A sequence number from a one-value query (NULL: none). Returns 1, 0 or
 * -EIO. */
static int
store_db_seq_of(sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st), found = 0;

	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -EIO;
}

/* A reference as two bounds: messages with seq < *before are before it,
 * those with seq > *after after it. 0, -ENOENT or -EIO. */
static int
store_db_bounds(struct store_db *db, int64_t room, const struct store_ref *ref,
		int64_t *before, int64_t *after)
{
	sqlite3_stmt *st;
	int r;

	switch (ref->kind) {
	case STORE_REF_NONE:
		*before = INT64_MAX;
		*after = 0;
		return 0;
	case STORE_REF_SEQ:
		*before = *after = ref->value;
		return 0;
	case STORE_REF_MSGID:
		st = store_db_stmt(db, ST_BY_MSGID);
		sqlite3_bind_int64(st, 1, room);
		store_db_bind_text(st, 2, ref->msgid);
		r = store_db_seq_of(st, before);
		if (r <= 0)
			return r < 0 ? r : -ENOENT;
		*after = *before;
		return 0;
	case STORE_REF_TIME:
		st = store_db_stmt(db, ST_TS_FIRST);
		sqlite3_bind_int64(st, 1, room);
		sqlite3_bind_int64(st, 2, ref->value);
		if ((r = store_db_seq_of(st, before)) < 0)
			return r;
		if (r == 0)
			*before = INT64_MAX;
		st = store_db_stmt(db, ST_TS_LAST);
		sqlite3_bind_int64(st, 1, room);
		sqlite3_bind_int64(st, 2, ref->value);
		if ((r = store_db_seq_of(st, after)) < 0)
			return r;
		if (r == 0)
			*after = 0;
		return 0;
	}
	return -ENOENT;
}

struct store_db_range {
	int64_t room;
	const char *display;
	store_db_row_cb *cb;
	void *arg;
};

/* Sends the rows with lo < seq < hi, oldest first, at most limit; newest
 * 1: the newest of them, else the oldest. Returns how many or -EIO. */
static int
store_db_range(struct store_db *db, const struct store_db_range *q, int64_t lo,
	       int64_t hi, unsigned limit, int newest)
{
	struct store_row row = {.room = outbox_str(q->display)};
	sqlite3_stmt *st;
	int n = 0, rc;

	if (limit == 0 || lo + 1 >= hi)
		return 0;
	if (newest) {
		int64_t low;
		st = store_db_stmt(db, ST_HIST_LOW);
		sqlite3_bind_int64(st, 1, q->room);
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
		sqlite3_bind_int64(st, 4, limit - 1);
		if ((rc = store_db_seq_of(st, &low)) < 0)
			return rc;
		if (rc == 1)
			lo = low - 1;
	}
	st = store_db_stmt(db, ST_HIST_ASC);
	sqlite3_bind_int64(st, 1, q->room);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	sqlite3_bind_int64(st, 4, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.seq = sqlite3_column_int64(st, 0);
		row.msgid = store_db_col(st, 1);
		row.ts_ms = sqlite3_column_int64(st, 2);
		row.flags = (unsigned)sqlite3_column_int(st, 3);
		row.nick = store_db_col(st, 4);
		row.account = store_db_col(st, 5);
		row.user = store_db_col(st, 6);
		row.host = store_db_col(st, 7);
		row.text = store_db_col(st, 8);
		q->cb(q->arg, &row);
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : -EIO;
}

/* How many rows have seq >= from, counting to at most limit; or -EIO. */
static int
store_db_count_from(struct store_db *db, int64_t room, int64_t from,
		    unsigned limit)
{
	sqlite3_stmt *st = store_db_stmt(db, ST_HIST_COUNT);
	int64_t n = 0;
	int rc;

	sqlite3_bind_int64(st, 1, room);
	sqlite3_bind_int64(st, 2, from - 1);
	sqlite3_bind_int64(st, 3, limit);
	if ((rc = store_db_seq_of(st, &n)) < 0)
		return rc;
	return (int)n;
}

int
store_db_history(struct store_db *db, const char *room, unsigned selector,
		 const struct store_ref *ref, const struct store_ref *ref2,
		 unsigned limit, store_db_row_cb *cb, void *arg)
{
	struct store_droom *r = store_db_room(db, outbox_str(room), 0);
	struct store_db_range q = {0, NULL, cb, arg};
	int64_t b1, a1, b2, a2;
	unsigned half;
	int err, n;

	if (!r)
		return ref->kind == STORE_REF_MSGID ? -ENOENT : 0;
	q.room = r->id;
	q.display = r->display;
	if ((err = store_db_bounds(db, r->id, ref, &b1, &a1)) < 0)
		return err;
	switch (selector) {
	case CORE_HISTORY_LATEST:
		return store_db_range(db, &q, a1, INT64_MAX, limit, 1);
	case CORE_HISTORY_BEFORE:
		return store_db_range(db, &q, 0, b1, limit, 1);
	case CORE_HISTORY_AFTER:
		return store_db_range(db, &q, a1, INT64_MAX, limit, 0);
	case CORE_HISTORY_AROUND:
		/* Half before, the rest from the reference on; a side with
		 * fewer leaves its share to the other. */
		if ((n = store_db_count_from(db, r->id, b1, limit)) < 0)
			return n;
		half = limit - limit / 2;
		half = (unsigned)n < half ? (unsigned)n : half;
		n = store_db_range(db, &q, 0, b1, limit - half, 1);
		if (n < 0)
			return n;
		err = store_db_range(db, &q, b1 - 1, INT64_MAX,
				     limit - (unsigned)n, 0);
		return err < 0 ? err : n + err;
	case CORE_HISTORY_BETWEEN:
		if ((err = store_db_bounds(db, r->id, ref2, &b2, &a2)) < 0)
			return err == -ENOENT ? -ENXIO : err;
		if (a1 <= a2)
			return store_db_range(db, &q, a1, b2, limit, 0);
		return store_db_range(db, &q, a2, b1, limit, 1);
	default:
		return 0;
	}
}
