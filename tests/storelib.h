/*
 * storelib: the store tests' fixture, in the test process: a fresh
 * temporary directory with a database path (and a config file path) in
 * it, parleyd started with --db on it, and the sqlite3 CLI to read what
 * the store wrote. Never sleeps to synchronise: sl_sql_wait polls.
 */
#ifndef PARLEY_TEST_STORELIB_H
#define PARLEY_TEST_STORELIB_H

#include "testlib.h"

#include <stddef.h>
#include <sys/types.h>

struct sl_fixture {
	char dir[64];	/* /tmp/parley-NAME.XXXXXX */
	char db[128];	/* dir/parley.db (not made) */
	char conf[128]; /* dir/parleyd.conf (not made) */
};

/* Makes the directory for name (a short word: the test's); aborts if it
 * cannot. */
void sl_fixture_make(struct sl_fixture *f, const char *name);

/* Removes the directory and all in it (made writable first). */
void sl_fixture_free(const struct sl_fixture *f);

/* ts_start_model(model, "--db DB args"). */
struct ts_server *sl_start(const struct sl_fixture *f, const char *model,
			   const char *args);

/* The first line the sqlite3 CLI prints for query against db, in out
 * (without its newline). Returns 0, or -1 if it printed nothing. */
int sl_sql(const char *db, const char *query, char *out, size_t n);

/* The number the query answers, or -1. */
long long sl_sql_int(const char *db, const char *query);

/* Polls until query answers want: 0, or -1 after timeout_ms. */
int sl_sql_wait(const char *db, const char *query, long long want,
		int timeout_ms);

/* The child of the server that has db open (the store), or -1. */
pid_t sl_store_pid(struct ts_server *s, const char *db);

#endif
