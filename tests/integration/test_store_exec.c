/*
 * test_store_exec: the store is an exec of parleyd, not a fork of the
 * supervisor: its /proc/PID/exe and cmdline say so, its private memory
 * holds no copy of the TLS private key that the supervisor's does (the
 * same search finds it there), and a store killed and respawned is an
 * exec again that answers history and logins, of the binary the
 * supervisor runs even after an upgrade replaced it on disk. Runs in the test
 * process, against a real parleyd with TLS and a database (both process
 * models).
 */
#include "../storelib.h"
#include "../tlslib.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_WAIT_MS  10000
#define KEY_BYTES  32		/* a P-256 private scalar */
#define SCAN_CHUNK (1u << 20)	/* bytes read at once */
#define SCAN_MAX   (1ull << 30) /* larger mappings: ASan's shadow */

static char model_args[256];
static struct tt_pki pki;

/* ---- the key and a search for it ----------------------------------------- */

/* The private scalar of the key file: big-endian (as written in the
 * file's DER) and little-endian (as a BIGNUM's words hold it). */
struct key_bytes {
	unsigned char be[KEY_BYTES], le[KEY_BYTES];
};

static int
key_load(const char *path, struct key_bytes *k)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pkey = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	BIGNUM *d = NULL;
	int ok;

	if (f)
		fclose(f);
	ok = pkey &&
	     EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
	     BN_bn2binpad(d, k->be, KEY_BYTES) == KEY_BYTES &&
	     BN_bn2lebinpad(d, k->le, KEY_BYTES) == KEY_BYTES;
	BN_clear_free(d);
	EVP_PKEY_free(pkey);
	return ok ? 0 : -1;
}

/* Copies of the scalar (either order) in pid's readable private
 * mappings, read through /proc/PID/mem; the shared ones (the rings, the
 * counters) are left out: reading their untouched pages would allocate
 * them. Sets *scanned to the bytes read. -1 if nothing could be read. */
static int
key_count(pid_t pid, const struct key_bytes *k, unsigned long long *scanned)
{
	static unsigned char buf[SCAN_CHUNK + KEY_BYTES];
	char path[64], line[512];
	FILE *maps;
	int mem, found = 0;

	*scanned = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (!(maps = fopen(path, "r")))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if ((mem = open(path, O_RDONLY)) < 0) {
		fclose(maps);
		return -1;
	}
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long lo, hi;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || perms[3] != 'p' || hi - lo > SCAN_MAX ||
		    strstr(line, "[vvar") || strstr(line, "[vsyscall]"))
			continue;
		size_t carry = 0;
		for (unsigned long long at = lo; at < hi;) {
			size_t want = hi - at > SCAN_CHUNK ? SCAN_CHUNK
							   : (size_t)(hi - at);
			ssize_t n = pread(mem, buf + carry, want, (off_t)at);
			if (n <= 0)
				break;
			size_t len = carry + (size_t)n;
			for (size_t i = 0; i + KEY_BYTES <= len; i++)
				if ((buf[i] == k->be[0] &&
				     !memcmp(buf + i, k->be, KEY_BYTES)) ||
				    (buf[i] == k->le[0] &&
				     !memcmp(buf + i, k->le, KEY_BYTES)))
					found++;
			/* A copy across two reads is found in the next. */
			carry = len < KEY_BYTES - 1 ? len : KEY_BYTES - 1;
			memmove(buf, buf + len - carry, carry);
			at += (unsigned long long)n;
			*scanned += (unsigned long long)n;
		}
	}
	close(mem);
	fclose(maps);
	return *scanned ? found : -1;
}

/* ---- the process --------------------------------------------------------- */

/* /proc/PID/exe's target in out. */
static int
exe_of(pid_t pid, char *out, size_t n)
{
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	len = readlink(path, out, n - 1);
	if (len < 0)
		return -1;
	out[len] = '\0';
	return 0;
}

/* Whether pid's argv is exactly parleyd --store-process db. */
static int
is_store_exec(pid_t pid, const char *db)
{
	char path[64], argv[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	n = read(fd, argv, sizeof(argv) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	argv[n] = '\0';
	const char *a1 = argv + strlen(argv) + 1;
	const char *a2 = a1 + strlen(a1) + 1;
	CHECKF(strcmp(argv, "parleyd") == 0 &&
		   strcmp(a1, "--store-process") == 0 && strcmp(a2, db) == 0,
	       "store %d: argv %s %s %s", (int)pid, argv, a1, a2);
	return strcmp(a1, "--store-process") == 0 && strcmp(a2, db) == 0;
}

static struct ts_server *
start(const struct sl_fixture *f, const char *extra)
{
	char args[2048];

	snprintf(args, sizeof(args),
		 "--listen-tls 127.0.0.1:0 --tls-cert %s --tls-key %s %s",
		 pki.a_pem, pki.a_key, extra);
	return sl_start(f, model_args, args);
}

/* Connects and waits for the join of #lobby. */
static int
client(struct ts_server *s)
{
	int fd = tc_connect(s->port);

	if (fd >= 0 &&
	    tc_expect(fd, " joined #lobby", NULL, 0, T_WAIT_MS) < 0) {
		tc_close(fd);
		return -1;
	}
	return fd;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_the_store_is_an_exec_of_parleyd_without_the_tls_private_key(void)
{
	char sv_exe[512], st_exe[512];
	struct key_bytes k;
	unsigned long long st_bytes, sv_bytes;
	struct sl_fixture f;
	struct ts_server *s;
	pid_t store;

	REQUIRE(key_load(pki.a_key, &k) == 0);
	sl_fixture_make(&f, "storeexec");
	s = start(&f, "");
	REQUIRE(s);
	store = sl_store_pid(s, f.db);
	REQUIRE(store > 0);
	CHECK(exe_of(s->pid, sv_exe, sizeof(sv_exe)) == 0 &&
	      exe_of(store, st_exe, sizeof(st_exe)) == 0 &&
	      strcmp(sv_exe, st_exe) == 0);
	CHECK(is_store_exec(store, f.db));
	/* The search can fail: the supervisor holds the key (its TLS
	 * context), and the same search finds it there. */
	int in_sv = key_count(s->pid, &k, &sv_bytes);
	int in_st = key_count(store, &k, &st_bytes);
	CHECKF(in_sv > 0, "the supervisor: %d copies in %llu bytes", in_sv,
	       sv_bytes);
	CHECKF(in_st == 0, "the store: %d copies in %llu bytes", in_st,
	       st_bytes);
	ts_free(s);
	sl_fixture_free(&f);
}

static void
test_a_respawned_store_is_an_exec_again_and_answers_history_and_logins(void)
{
	struct sl_fixture f;
	struct ts_server *s;
	pid_t store, again;
	int a, b;

	sl_fixture_make(&f, "storeexec");
	s = start(&f, "--history 5");
	REQUIRE(s);
	a = client(s);
	b = client(s);
	REQUIRE(a >= 0 && b >= 0);
	CHECK(tc_send(a, "/nick alice\n/register hunter22\n") == 0);
	CHECK(tc_expect(a, "-!- registered alice", NULL, 0, T_WAIT_MS) > 0);
	CHECK(tc_send(a, "before the kill\n") == 0);
	CHECK(tc_expect(b, "<alice> before the kill", NULL, 0, T_WAIT_MS) > 0);
	CHECK(sl_sql_wait(f.db, "SELECT count(*) FROM messages", 1,
			  T_WAIT_MS) == 0);
	store = sl_store_pid(s, f.db);
	REQUIRE(store > 0);
	CHECK(kill(store, SIGKILL) == 0);
	CHECK(ts_log_wait(s, "store respawned as pid", T_WAIT_MS) == 0);
	CHECK(ts_log_wait_count(s, "database ", 2, T_WAIT_MS) == 0);
	again = sl_store_pid(s, f.db);
	CHECK(again > 0 && again != store);
	CHECK(again > 0 && is_store_exec(again, f.db));
	/* A login runs yescrypt in the new store; history comes from it. */
	CHECK(tc_send(b, "/login alice hunter22\n") == 0);
	CHECK(tc_expect(b, "you are logged in as alice", NULL, 0, T_WAIT_MS) >
	      0);
	char line[512] = "";
	int c = client(s);
	CHECK(c >= 0 && tc_expect(c, "before the kill", line, sizeof(line),
				  T_WAIT_MS) > 0);
	CHECKF(strstr(line, "[history "), "%s", line);
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
	sl_fixture_free(&f);
}

/* Copies the file from to to (mode 0755). 0 or -1. */
static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n = 0;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	if (out < 0 || close(out) < 0 || n < 0)
		return -1;
	return 0;
}

static void
test_a_store_respawned_after_an_upgrade_runs_the_supervisor_s_binary(void)
{
	const char *build = getenv("PARLEY_BUILD");
	char was[512], bin[256], other[256], exe[512];
	struct sl_fixture f;
	struct ts_server *s;
	pid_t store, again;
	int a;

	/* parleyd started from a copy in the fixture's directory, which an
	 * "upgrade" then replaces (a rename over it, as package managers
	 * do) with a file that is no parleyd at all. */
	sl_fixture_make(&f, "storeexec");
	snprintf(was, sizeof(was), "%s", build ? build : "build");
	snprintf(bin, sizeof(bin), "%s/parleyd", f.dir);
	snprintf(other, sizeof(other), "%s/parleyd.new", f.dir);
	REQUIRE(copy_file(strcat(was, "/parleyd"), bin) == 0);
	REQUIRE(copy_file("/bin/true", other) == 0);
	REQUIRE(setenv("PARLEY_BUILD", f.dir, 1) == 0);
	s = start(&f, "--history 3");
	if (build)
		(void)setenv("PARLEY_BUILD", build, 1);
	else
		(void)unsetenv("PARLEY_BUILD");
	REQUIRE(s);
	REQUIRE(rename(other, bin) == 0);
	store = sl_store_pid(s, f.db);
	REQUIRE(store > 0);
	CHECK(kill(store, SIGKILL) == 0);
	CHECK(ts_log_wait(s, "store respawned as pid", T_WAIT_MS) == 0);
	CHECK(ts_log_wait_count(s, "database ", 2, T_WAIT_MS) == 0);
	again = sl_store_pid(s, f.db);
	CHECK(again > 0 && is_store_exec(again, f.db));
	/* The old binary, which only the running processes still have. */
	CHECKF(again > 0 && exe_of(again, exe, sizeof(exe)) == 0 &&
		   strstr(exe, "(deleted)"),
	       "exe: %s", exe);
	a = client(s);
	CHECK(a >= 0 && tc_send(a, "after the upgrade\n") == 0);
	CHECK(sl_sql_wait(f.db,
			  "SELECT count(*) FROM messages WHERE text = 'after "
			  "the upgrade'",
			  1, T_WAIT_MS) == 0);
	tc_close(a);
	ts_free(s);
	sl_fixture_free(&f);
}

static void
test_store_process_by_hand_is_refused_with_exit_2(void)
{
	const char *build = getenv("PARLEY_BUILD");
	char cmd[512], out[1024] = "";
	size_t len;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd),
		 "exec %s/parleyd --store-process /tmp/x.db 2>&1 </dev/null",
		 build ? build : "build");
	REQUIRE((p = popen(cmd, "r")) != NULL);
	len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	st = pclose(p);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 2 &&
		   strstr(out, "--store-process is for the store"),
	       "status %d: %s", st, out);
}

int
main(int argc, char **argv)
{
	char suite[64];
	int rc;

	tl_init(argc, argv, "store_exec", model_args, sizeof(model_args),
		suite);
	if (tt_pki_make(&pki) < 0) {
		fprintf(stderr, "cannot make the test certificates\n");
		return 1;
	}
	RUN(test_the_store_is_an_exec_of_parleyd_without_the_tls_private_key);
	RUN(test_a_respawned_store_is_an_exec_again_and_answers_history_and_logins);
	RUN(test_a_store_respawned_after_an_upgrade_runs_the_supervisor_s_binary);
	RUN(test_store_process_by_hand_is_refused_with_exit_2);
	rc = tl_summary(suite);
	tt_dir_remove(pki.dir);
	return rc;
}
