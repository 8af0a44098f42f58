/*
 * test_store_sandbox: the store's seccomp filter. On the real parleyd
 * (both process models): the store runs filtered, and a store dying of
 * SIGSYS is logged as killed by the sandbox and respawned. And the filter
 * itself (sandbox_enter_store, the function the store calls) in forked
 * children of this test: SQLite in WAL mode and yescrypt work in it, and
 * each forbidden thing kills.
 */
#include "../storelib.h"

#include "server/sandbox.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_WAIT_MS 10000

static char model_args[256];

/* The value of "Key:" in /proc/PID/status into out, or "" if none. */
static void
proc_status(pid_t pid, const char *key, char *out, size_t n)
{
	char path[64], line[512];
	size_t kl = strlen(key);
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			v += strspn(v, " \t");
			snprintf(out, n, "%.*s", (int)strcspn(v, "\n"), v);
			break;
		}
	fclose(f);
}

/* ---- the real server ----------------------------------------------------- */

static void
test_the_store_runs_with_its_own_seccomp_filter(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	char v[64];
	pid_t store;

	sl_fixture_make(&f, "storesb");
	s = sl_start(&f, model_args, "");
	REQUIRE(s);
	store = sl_store_pid(s, f.db);
	REQUIRE(store > 0);
	proc_status(store, "Seccomp", v, sizeof(v));
	CHECKF(strcmp(v, "2") == 0, "store: Seccomp: %s", v);
	proc_status(store, "NoNewPrivs", v, sizeof(v));
	CHECKF(strcmp(v, "1") == 0, "store: NoNewPrivs: %s", v);
	proc_status(s->pid, "Seccomp", v, sizeof(v));
	CHECKF(strcmp(v, "0") == 0, "supervisor: Seccomp: %s", v);
	ts_free(s);
	sl_fixture_free(&f);
}

static void
test_a_store_killed_by_sigsys_is_logged_as_such_and_respawned(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	pid_t store, again;
	int a;

	sl_fixture_make(&f, "storesb");
	s = sl_start(&f, model_args, "--history 3");
	REQUIRE(s);
	a = tc_connect(s->port);
	REQUIRE(a >= 0);
	CHECK(tc_expect(a, " joined #lobby", NULL, 0, T_WAIT_MS) > 0);
	store = sl_store_pid(s, f.db);
	REQUIRE(store > 0);
	s->sandbox_kill_expected = 1;
	/* What a forbidden call does to the store (the filter's own test
	 * below checks that it does): SIGSYS. */
	CHECK(kill(store, SIGSYS) == 0);
	CHECK(ts_log_wait(s, "killed by the sandbox (SIGSYS", T_WAIT_MS) == 0);
	CHECK(ts_log_wait(s, "store respawned as pid", T_WAIT_MS) == 0);
	CHECK(ts_log_wait_count(s, "database ", 2, T_WAIT_MS) == 0);
	again = sl_store_pid(s, f.db);
	CHECK(again > 0 && again != store);
	/* The new one archives again. */
	CHECK(tc_send(a, "after the kill\n") == 0);
	CHECK(sl_sql_wait(f.db,
			  "SELECT count(*) FROM messages WHERE text = 'after "
			  "the kill'",
			  1, T_WAIT_MS) == 0);
	tc_close(a);
	ts_free(s);
	sl_fixture_free(&f);
}

/* ---- the filter itself --------------------------------------------------- */

/* A probe runs in a filtered child and returns its exit code: 0 when
 * what it tried worked, 3 when it failed with EACCES, 4 on any other
 * failure. dir: a fresh directory; db: a WAL database opened in it
 * before the filter, as the store opens its own. */
typedef int probe_fn(const char *dir, sqlite3 *db);

static int
probe_result(long r)
{
	if (r >= 0)
		return 0;
	return errno == EACCES ? 3 : 4;
}

static int
probe_socket(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	return probe_result(socket(AF_UNIX, SOCK_STREAM, 0));
}

static int
probe_connect(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	return probe_result(connect(-1, NULL, 0));
}

static int
probe_execve(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	return probe_result(execl("/bin/true", "true", (char *)NULL));
}

static int
probe_fork(const char *dir, sqlite3 *db)
{
	pid_t pid = fork();

	(void)dir;
	(void)db;
	if (pid == 0)
		_exit(0);
	return probe_result(pid);
}

static int
probe_clone3(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	return probe_result(syscall(SYS_clone3, NULL, 0));
}

static int
probe_ptrace(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	return probe_result(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static int
probe_kill_parent(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	return probe_result(kill(getppid(), 0));
}

static int
probe_setuid(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	return probe_result(syscall(SYS_setuid, 0));
}

static int
probe_mmap_exec(const char *dir, sqlite3 *db)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)dir;
	(void)db;
	return p == MAP_FAILED ? probe_result(-1) : 0;
}

static int
probe_ioctl(const char *dir, sqlite3 *db)
{
	int n;

	(void)dir;
	(void)db;
	return probe_result(ioctl(0, FIONREAD, &n));
}

static int
probe_rename(const char *dir, sqlite3 *db)
{
	char from[256], to[256];

	(void)db;
	snprintf(from, sizeof(from), "%s/p.db", dir);
	snprintf(to, sizeof(to), "%s/q.db", dir);
	return probe_result(rename(from, to));
}

static int
probe_openat(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	return probe_result(openat(AT_FDCWD, "/etc/hostname", O_RDONLY));
}

static int
probe_abort(const char *dir, sqlite3 *db)
{
	(void)dir;
	(void)db;
	abort();
}

static int
probe_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* What the store does all day: transactions in WAL mode, reads, a
 * checkpoint that resets the WAL, and the close that removes it. */
static int
probe_sqlite_wal(const char *dir, sqlite3 *db)
{
	char wal[256];
	struct stat sb;

	snprintf(wal, sizeof(wal), "%s/p.db-wal", dir);
	for (int i = 0; i < 50; i++)
		if (probe_sql(db, "BEGIN; INSERT INTO t(v) VALUES "
				  "(randomblob(3000)); COMMIT") < 0)
			return 4;
	if (probe_sql(db, "SELECT count(*), sum(length(v)) FROM t "
			  "ORDER BY 1") < 0 ||
	    probe_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)") < 0 ||
	    probe_sql(db, "INSERT INTO t(v) VALUES ('after')") < 0)
		return 4;
	if (sqlite3_close(db) != SQLITE_OK)
		return 4;
	/* The last connection's close checkpoints and removes the WAL. */
	return stat(wal, &sb) < 0 && errno == ENOENT ? 0 : 4;
}

/* A registration and a login: yescrypt's salt and hashes. */
static int
probe_yescrypt(const char *dir, sqlite3 *db)
{
	static struct crypt_data cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], hash[CRYPT_OUTPUT_SIZE];
	const char *h;

	(void)dir;
	(void)db;
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) ||
	    !(h = crypt_r("hunter22", salt, &cd)) || h[0] == '*')
		return 4;
	snprintf(hash, sizeof(hash), "%s", h);
	h = crypt_r("hunter22", hash, &cd);
	return h && strcmp(h, hash) == 0 ? 0 : 4;
}

struct probe_row {
	const char *name;
	probe_fn *fn;
	int sig;  /* the signal it must die of, or 0 */
	int code; /* else its exit code */
};

static const struct probe_row probe_rows[] = {
    {"socket", probe_socket, SIGSYS, 0},
    {"connect", probe_connect, SIGSYS, 0},
    {"execve", probe_execve, SIGSYS, 0},
    {"fork", probe_fork, SIGSYS, 0},
    {"clone3", probe_clone3, SIGSYS, 0},
    {"ptrace", probe_ptrace, SIGSYS, 0},
    {"kill another process", probe_kill_parent, SIGSYS, 0},
    {"setuid", probe_setuid, SIGSYS, 0},
    {"mmap executable", probe_mmap_exec, SIGSYS, 0},
    {"ioctl", probe_ioctl, SIGSYS, 0},
    {"rename", probe_rename, SIGSYS, 0},
    {"openat: EACCES", probe_openat, 0, 3},
    {"abort after a failed assert", probe_abort, SIGABRT, 0},
    {"SQLite in WAL mode", probe_sqlite_wal, 0, 0},
    {"yescrypt", probe_yescrypt, 0, 0},
};

/* A fresh WAL database in dir, as store_db_open leaves its own. */
static sqlite3 *
probe_db(const char *dir)
{
	char path[256];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/p.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    probe_sql(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = "
			  "NORMAL; CREATE TABLE t(v)") < 0 ||
	    probe_sql(db, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1); "
			  "COMMIT") < 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static void
test_in_the_store_filter_sqlite_and_yescrypt_work_and_the_rest_kills(void)
{
	for (size_t i = 0; i < sizeof(probe_rows) / sizeof(probe_rows[0]);
	     i++) {
		const struct probe_row *r = &probe_rows[i];
		struct sl_fixture f;
		int st;
		pid_t pid;

		sl_fixture_make(&f, "storesb");
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			sqlite3 *db = probe_db(f.dir);
			signal(SIGABRT, SIG_DFL);
			if (!db)
				_exit(98);
			if (sandbox_enter_store() < 0)
				_exit(99);
			_exit(r->fn(f.dir, db));
		}
		if (!CHECKF(ts_wait_gone(pid, T_WAIT_MS) == 0, "%s: hangs",
			    r->name))
			kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (r->sig)
			CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == r->sig,
			       "%s: want signal %d, got %s %d", r->name, r->sig,
			       WIFSIGNALED(st) ? "signal" : "exit",
			       WIFSIGNALED(st) ? WTERMSIG(st)
					       : WEXITSTATUS(st));
		else
			CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == r->code,
			       "%s: want exit %d, got %s %d", r->name, r->code,
			       WIFSIGNALED(st) ? "signal" : "exit",
			       WIFSIGNALED(st) ? WTERMSIG(st)
					       : WEXITSTATUS(st));
		sl_fixture_free(&f);
	}
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "store_sandbox", model_args, sizeof(model_args),
		suite);
	RUN(test_the_store_runs_with_its_own_seccomp_filter);
	RUN(test_a_store_killed_by_sigsys_is_logged_as_such_and_respawned);
	RUN(test_in_the_store_filter_sqlite_and_yescrypt_work_and_the_rest_kills);
	return tl_summary(suite);
}
