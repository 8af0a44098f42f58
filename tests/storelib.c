/*
 * storelib: the store tests' fixture (storelib.h). Runs in the test
 * process; what the store wrote is read with the sqlite3 CLI, never with
 * the server's own code.
 */
#include "storelib.h"

#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
sl_fixture_make(struct sl_fixture *f, const char *name)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/parley-%s.XXXXXX", name);
	if (!mkdtemp(f->dir))
		abort();
	snprintf(f->db, sizeof(f->db), "%s/parley.db", f->dir);
	snprintf(f->conf, sizeof(f->conf), "%s/parleyd.conf", f->dir);
}

void
sl_fixture_free(const struct sl_fixture *f)
{
	char cmd[256];

	(void)chmod(f->dir, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", f->dir);
}

struct ts_server *
sl_start(const struct sl_fixture *f, const char *model, const char *args)
{
	char all[1024];

	snprintf(all, sizeof(all), "--db %s %s", f->db, args ? args : "");
	return ts_start_model(model, all);
}

int
sl_sql(const char *db, const char *query, char *out, size_t n)
{
	char cmd[1024];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "sqlite3 -batch '%s' \"%s\" 2>&1", db,
		 query);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fgets(out, (int)n, p) != NULL;
	pclose(p);
	if (ok)
		out[strcspn(out, "\n")] = '\0';
	return ok ? 0 : -1;
}

long long
sl_sql_int(const char *db, const char *query)
{
	char out[256];

	return sl_sql(db, query, out, sizeof(out)) == 0 ? atoll(out) : -1;
}

int
sl_sql_wait(const char *db, const char *query, long long want, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;

	while (tl_now_ms() < deadline) {
		if (sl_sql_int(db, query) == want)
			return 0;
		(void)poll(NULL, 0, 50); /* polls the file for the event */
	}
	return -1;
}

/* Whether one of pid's fds is the file path. */
static int
sl_pid_has_open(pid_t pid, const char *path)
{
	char dir[64], link[256], p[512];
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(dir)))
		return 0;
	while (!found && (de = readdir(d))) {
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		ssize_t len = readlink(p, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		found = strcmp(link, path) == 0;
	}
	closedir(d);
	return found;
}

pid_t
sl_store_pid(struct ts_server *s, const char *db)
{
	pid_t kids[512];
	int n = ts_children(s->pid, kids, 512);

	for (int k = 0; k < n; k++)
		if (sl_pid_has_open(kids[k], db))
			return kids[k];
	return -1;
}
