/*
 * test_irc_clients: real IRC clients against parleyd's IRC front end. Each
 * row of clients[] is one program (irssi under a pty, in plaintext and
 * over TLS; weechat-headless fed through its FIFO) that joins a room,
 * hears a plain client and is heard by it (weechat also logged in to an
 * account with SASL PLAIN). Runs in the test process;
 * every client (and ngircd, in the development mode) is a child of it,
 * ended by pid when its test ends.
 *
 *   PARLEY_IRC_CLIENTS_SERVER=ngircd  test the harness against ngircd, with
 *                                     a second IRC connection as the "plain"
 *                                     client (default: parleyd)
 *   PARLEY_TEST_KEEP=1                keep each test's directory (clients'
 *                                     homes and logs) and print its path
 */
#include "../testlib.h"
#include "../tlslib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define ROOM "#clients"
#define NET  "parleytest" /* the network's name in the clients' configs */

/* One step (start, join, one message) may take this long: clients start
 * slowly on a loaded machine, and nothing here measures speed. */
#define STEP_MS 30000

static char model[128];

/* ---- children ----------------------------------------------------------- */

#define KIDS_MAX 8

static pid_t kids[KIDS_MAX];

static void
kids_kill_all(void)
{
	for (int i = 0; i < KIDS_MAX; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
}

static void
kids_add(pid_t pid)
{
	static int registered;

	if (!registered) {
		registered = 1;
		atexit(kids_kill_all);
	}
	for (int i = 0; i < KIDS_MAX; i++) {
		if (kids[i] == 0) {
			kids[i] = pid;
			return;
		}
	}
	abort(); /* a test started more children than it ends */
}

/* Gives pid grace_ms to leave by itself (after its quit command), then
 * SIGKILLs it; reaps it either way. */
static void
kids_end(pid_t pid, int grace_ms)
{
	if (pid <= 0)
		return;
	if (ts_wait_gone(pid, grace_ms) < 0)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < KIDS_MAX; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

struct spawn {
	const char *const *argv;
	const char *const *envp; /* the child's whole environment */
	const char *out_path;	 /* stdout and stderr, when not on a pty */
	int on_pty;		 /* stdin, stdout, stderr: a new pty */
	int as_nobody;		 /* drop root first (ngircd does anyway) */
	int pty_fd;		 /* out: the pty's master side */
};

/* The child's half of spawn(): never returns. Its files are opened
 * before it drops root, and the parent-death signal is set after, since a
 * change of user clears it. */
static void
spawn_child(struct spawn *sp, const char *pty_name, pid_t parent)
{
	int fd, in_fd;

	if (sp->on_pty) {
		setsid();
		fd = open(pty_name, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
			_exit(126);
		in_fd = fd;
	} else {
		fd = open(sp->out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		in_fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || in_fd < 0)
			_exit(126);
	}
	dup2(in_fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (sp->as_nobody && geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");
		if (!pw || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
		    setuid(pw->pw_uid) < 0)
			_exit(126);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	execve(sp->argv[0], (char *const *)sp->argv, (char *const *)sp->envp);
	fprintf(stderr, "exec %s: %s\n", sp->argv[0], strerror(errno));
	_exit(127);
}

/* Starts sp->argv; returns its pid (registered for the exit clean-up) or
 * -1. With on_pty, sp->pty_fd is the master side, 120x40, which the
 * caller must keep draining. */
static pid_t
spawn(struct spawn *sp)
{
	char pty_name[128] = "";
	pid_t parent = getpid(), pid;

	sp->pty_fd = -1;
	if (sp->on_pty) {
		struct winsize ws = {.ws_row = 40, .ws_col = 120};
		sp->pty_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (sp->pty_fd < 0 || grantpt(sp->pty_fd) < 0 ||
		    unlockpt(sp->pty_fd) < 0 ||
		    ptsname_r(sp->pty_fd, pty_name, sizeof(pty_name)) != 0 ||
		    ioctl(sp->pty_fd, TIOCSWINSZ, &ws) < 0) {
			if (sp->pty_fd >= 0)
				close(sp->pty_fd);
			sp->pty_fd = -1;
			return -1;
		}
	}
	pid = fork();
	if (pid == 0)
		spawn_child(sp, pty_name, parent);
	if (pid < 0) {
		if (sp->pty_fd >= 0)
			close(sp->pty_fd);
		sp->pty_fd = -1;
		return -1;
	}
	kids_add(pid);
	return pid;
}

/* Reads a pty's master side until the terminal goes away, so that the
 * program on it never blocks on a full screen: what it shows there is in
 * its own logs. */
struct pty_drain {
	int fd;
	int stop;
	int running;
	pthread_t thread;
};

static void *
pty_drain_run(void *arg)
{
	struct pty_drain *d = arg;
	char buf[4096];

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = {.fd = d->fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = read(d->fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break; /* EIO: every process on the terminal is gone */
	}
	return NULL;
}

static void
pty_drain_start(struct pty_drain *d, int fd)
{
	d->fd = fd;
	d->stop = 0;
	d->running = pthread_create(&d->thread, NULL, pty_drain_run, d) == 0;
}

static void
pty_drain_stop(struct pty_drain *d)
{
	if (!d->running)
		return;
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->thread, NULL);
	d->running = 0;
}

/* ---- files -------------------------------------------------------------- */

/* The whole file, NUL-terminated (malloc'd), or NULL if it cannot be read. */
static char *
file_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *s;

	if (fd < 0)
		return NULL;
	s = malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			s = realloc(s, cap *= 2);
		ssize_t n = read(fd, s + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	s[len] = '\0';
	return s;
}

static int
file_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Does a complete line of the file hold every needle (a NULL-terminated
 * list)? The first such line goes to out. */
static int
file_has_line(const char *path, const char *const *needles, char *out, size_t n)
{
	char *s = file_read(path), *line, *nl;
	int found = 0;

	if (!s)
		return 0;
	for (line = s; !found && (nl = strchr(line, '\n')) != NULL;
	     line = nl + 1) {
		*nl = '\0';
		found = 1;
		for (int i = 0; needles[i] && found; i++)
			found = strstr(line, needles[i]) != NULL;
		if (found && out)
			snprintf(out, n, "%s", line);
	}
	free(s);
	return found;
}

/* Waits until the file at path has a line holding every needle: 0, or -1
 * after timeout_ms, or -2 once pid (if > 0) has exited without writing it.
 * inotify on the file's directory wakes the wait; the 500 ms tick only
 * guards against a missed event. */
static int
file_wait_line(const char *path, const char *const *needles, pid_t pid,
	       int timeout_ms, char *out, size_t n)
{
	long long deadline = tl_now_ms() + timeout_ms;
	char dir[512];
	int ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	int pid_fd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	int r = -1, gone = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (ino_fd >= 0)
		inotify_add_watch(ino_fd, slash ? dir : ".",
				  IN_CREATE | IN_MODIFY | IN_MOVED_TO |
				      IN_CLOSE_WRITE);
	for (;;) {
		if (file_has_line(path, needles, out, n)) {
			r = 0;
			break;
		}
		long long left = deadline - tl_now_ms();
		if (gone || left <= 0) {
			r = gone ? -2 : -1;
			break;
		}
		struct pollfd pfd[2] = {{.fd = ino_fd, .events = POLLIN},
					{.fd = pid_fd, .events = POLLIN}};
		if (poll(pfd, 2, left < 500 ? (int)left : 500) > 0) {
			char ev[4096];
			while (ino_fd >= 0 && read(ino_fd, ev, sizeof(ev)) > 0)
				;
			/* One more look at the file before giving up. */
			gone = pfd[1].revents != 0;
		}
	}
	if (ino_fd >= 0)
		close(ino_fd);
	if (pid_fd >= 0)
		close(pid_fd);
	return r;
}

/* Prints the last lines of a file, to show what a client saw. */
static void
file_show_tail(const char *title, const char *text, int lines)
{
	const char *s;
	int seen = 0;

	if (!text)
		return;
	s = text + strlen(text);
	while (s > text && seen <= lines)
		if (*--s == '\n')
			seen++;
	if (s > text)
		s++;
	fprintf(stderr, "  --- %s (last %d lines)\n", title, lines);
	while (*s) {
		size_t len = strcspn(s, "\n");
		fprintf(stderr, "  | %.*s\n", (int)len, s);
		s += len + (s[len] == '\n');
	}
}

static void
file_show(const char *path)
{
	char *s = file_read(path);

	if (!s) {
		fprintf(stderr, "  --- %s: %s\n", path, strerror(errno));
		return;
	}
	file_show_tail(path, s, 30);
	free(s);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* ---- the server: parleyd, or ngircd to develop against ------------------ */

enum target_kind { TARGET_PARLEYD, TARGET_NGIRCD };

struct target {
	enum target_kind kind;
	int irc_port;
	int plain_port;	      /* parleyd's plain listener */
	struct ts_server *ts; /* parleyd */
	pid_t ngircd_pid;
	char ngircd_log[512];
};

static enum target_kind
target_kind_chosen(void)
{
	const char *s = getenv("PARLEY_IRC_CLIENTS_SERVER");

	return s && strcmp(s, "ngircd") == 0 ? TARGET_NGIRCD : TARGET_PARLEYD;
}

static const char *
parleyd_path(char *buf, size_t n)
{
	const char *build = getenv("PARLEY_BUILD");

	snprintf(buf, n, "%s/parleyd", build ? build : "build");
	return buf;
}

/* Does `parleyd --help` list --irc-listen? */
static int
parleyd_has_irc(void)
{
	char path[512], cmd[600], line[1024];
	int found = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' --help 2>&1",
		 parleyd_path(path, sizeof(path)));
	f = popen(cmd, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, "--irc-listen") != NULL;
	pclose(f);
	return found;
}

/* Reads both ports from parleyd's "listening on 127.0.0.1:PORT" lines: the
 * one that ends "(irc over tcp)" is IRC's, the other the plain port. */
static void
parleyd_ports(struct target *t)
{
	static char log[1 << 16];
	const char *key = "listening on 127.0.0.1:";

	ts_log_copy(t->ts, log, sizeof(log));
	for (const char *s = log; (s = strstr(s, key)) != NULL;) {
		s += strlen(key);
		int port = atoi(s);
		size_t len = strcspn(s, "\n");
		if (memmem(s, len, "(irc over tcp)", 14))
			t->irc_port = t->irc_port ? t->irc_port : port;
		else if (!memmem(s, len, "irc", 3) && !t->plain_port)
			t->plain_port = port;
	}
}

/* With tls, a self-signed certificate made in dir, and t->irc_port is
 * the IRC TLS listener's. */
/* The account the SASL rows log in to: a plain client registers it. */
#define SASL_PASSWORD "parley-test-pw"

static int
target_start_parleyd(struct target *t, const char *dir, int tls, int sasl)
{
	char args[1536];

	if (!parleyd_has_irc()) {
		CHECKF(0, "parleyd --help lists no --irc-listen: the IRC "
			  "front end (issue 12) is missing, so no IRC client "
			  "can join parleyd");
		return -1;
	}
	snprintf(args, sizeof(args), "--irc-listen 127.0.0.1:0");
	if (tls) {
		if (!CHECKF(tt_cert_make(dir, "server", "localhost",
					 "DNS:localhost,IP:127.0.0.1", NULL,
					 0) == 0,
			    "no certificate for parleyd"))
			return -1;
		snprintf(
		    args, sizeof(args),
		    "--irc-listen 127.0.0.1:0 --irc-listen-tls 127.0.0.1:0 "
		    "--tls-cert %s/server.pem --tls-key %s/server.key",
		    dir, dir);
	}
	if (sasl) {
		size_t n = strlen(args);
		snprintf(args + n, sizeof(args) - n, " --db %s/parley.db", dir);
	}
	t->ts = ts_start_model(model, args);
	if (!t->ts)
		return -1;
	int listening =
	    ts_log_wait(t->ts, "(irc over tcp)", 10000) == 0 &&
	    ts_log_wait_count(t->ts, "listening on ", 2, 10000) == 0;
	if (!CHECKF(listening, "parleyd logged no \"listening on "
			       "127.0.0.1:PORT (irc over tcp)\" line"))
		return -1;
	parleyd_ports(t);
	if (tls)
		t->irc_port = ts_listen_port(t->ts, "irc over tls", 10000);
	if (!CHECKF(t->irc_port > 0 && t->plain_port > 0,
		    "no IRC%s (%d) or plain (%d) port in parleyd's log",
		    tls ? " over TLS" : "", t->irc_port, t->plain_port))
		return -1;
	return 0;
}

/* A port that was free a moment ago: ngircd cannot take port 0. */
static int
free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static const char ngircd_conf[] = "[Global]\n"
				  "\tName = irc.parley.test\n"
				  "\tInfo = parley's reference IRC server\n"
				  "\tAdminInfo1 = parley tests\n"
				  "\tAdminInfo2 = localhost\n"
				  "\tAdminEMail = root@localhost\n"
				  "\tListen = 127.0.0.1\n"
				  "\tPorts = %d\n"
				  "\tMotdPhrase = \"parley tests\"\n"
				  "[Limits]\n"
				  "\tMaxConnectionsIP = 0\n"
				  "\tMaxNickLength = 30\n"
				  "\tMaxPenaltyTime = 0\n"
				  "\tPingTimeout = 600\n"
				  "\tPongTimeout = 600\n"
				  "[Options]\n"
				  "\tDNS = no\n"
				  "\tIdent = no\n"
				  "\tPAM = no\n";

/* ngircd in the foreground on 127.0.0.1 and a free port, its config and
 * log under dir (which must let "nobody" in: ngircd never runs as root). */
static int
target_start_ngircd(struct target *t, const char *dir)
{
	char conf_path[512], conf[1024], want[64];
	const char *envp[] = {"PATH=/usr/sbin:/usr/bin:/bin", NULL};
	const char *ready[] = {"Server \"", "ready", NULL};

	snprintf(conf_path, sizeof(conf_path), "%s/ngircd.conf", dir);
	snprintf(t->ngircd_log, sizeof(t->ngircd_log), "%s/ngircd.log", dir);
	for (int try = 0; try < 5; try++) {
		int port = free_port();
		snprintf(conf, sizeof(conf), ngircd_conf, port);
		if (port < 0 || file_write(conf_path, conf) < 0)
			break;
		const char *argv[] = {"/usr/sbin/ngircd", "--nodaemon",
				      "--config", conf_path, NULL};
		struct spawn sp = {.argv = argv,
				   .envp = envp,
				   .out_path = t->ngircd_log,
				   .as_nobody = 1};
		t->ngircd_pid = spawn(&sp);
		snprintf(want, sizeof(want), "Now listening on [127.0.0.1]:%d",
			 port);
		const char *listening[] = {want, NULL};
		if (t->ngircd_pid > 0 &&
		    file_wait_line(t->ngircd_log, ready, t->ngircd_pid, 10000,
				   NULL, 0) == 0 &&
		    file_has_line(t->ngircd_log, listening, NULL, 0)) {
			t->irc_port = port;
			return 0;
		}
		kids_end(t->ngircd_pid, 0);
		t->ngircd_pid = 0;
	}
	CHECKF(0, "ngircd did not start");
	file_show(t->ngircd_log);
	return -1;
}

static int
target_start(struct target *t, const char *dir, int tls, int sasl)
{
	memset(t, 0, sizeof(*t));
	t->kind = target_kind_chosen();
	if (t->kind == TARGET_NGIRCD)
		return target_start_ngircd(t, dir);
	return target_start_parleyd(t, dir, tls, sasl);
}

/* A plain client registers nick as an account and leaves it (the
 * nickname is free again); its connection stays open in *fd. */
static int
target_account(const struct target *t, const char *nick, int *fd)
{
	char guest[64], want[128];

	*fd = tc_join(t->plain_port, guest, sizeof(guest));
	if (!CHECKF(*fd >= 0, "no plain client to register %s", nick))
		return -1;
	snprintf(want, sizeof(want), "is now known as %s", nick);
	tc_send(*fd, "/nick %s\n", nick);
	if (!CHECK(tc_expect(*fd, want, NULL, 0, STEP_MS) > 0))
		return -1;
	tc_send(*fd, "/register " SASL_PASSWORD "\n");
	snprintf(want, sizeof(want), "-!- registered %s", nick);
	if (!CHECK(tc_expect(*fd, want, NULL, 0, STEP_MS) > 0))
		return -1;
	tc_send(*fd, "/logout\n");
	return CHECK(tc_expect(*fd, "you are logged out", NULL, 0, STEP_MS) > 0)
		   ? 0
		   : -1;
}

static void
target_show(const struct target *t)
{
	static char log[1 << 16];

	if (t->ts) {
		ts_log_copy(t->ts, log, sizeof(log));
		file_show_tail("parleyd's log", log, 30);
	}
	if (t->ngircd_pid > 0)
		file_show(t->ngircd_log);
}

static void
target_stop(struct target *t)
{
	if (t->ts)
		ts_free(t->ts);
	t->ts = NULL;
	kids_end(t->ngircd_pid, 0);
	t->ngircd_pid = 0;
}

/* ---- the plain client: a socket of the test ------------------------------ */

/* In the default mode the other side is a plain-protocol client of
 * parleyd; against ngircd it is a second IRC connection. Both speak
 * through one row of peers[]. */
struct peer {
	int fd;
	char nick[64];
};

struct peer_kind {
	int (*join)(struct peer *p, const struct target *t);
	int (*say)(struct peer *p, const char *text);
	/* Waits for a room message from nick with exactly text. */
	int (*heard)(struct peer *p, const char *nick, const char *text);
};

static int
plain_join(struct peer *p, const struct target *t)
{
	char want[128];

	p->fd = tc_join(t->plain_port, p->nick, sizeof(p->nick));
	if (p->fd < 0)
		return -1;
	snprintf(want, sizeof(want), "-!- %s joined " ROOM, p->nick);
	if (tc_send(p->fd, "/join " ROOM "\n") < 0 ||
	    tc_expect(p->fd, want, NULL, 0, STEP_MS) < 0)
		return -1;
	return 0;
}

static int
plain_say(struct peer *p, const char *text)
{
	return tc_send(p->fd, "%s\n", text);
}

static int
plain_heard(struct peer *p, const char *nick, const char *text)
{
	char want[512], line[1024];

	snprintf(want, sizeof(want), ROOM " <%s> %s", nick, text);
	if (tc_expect(p->fd, text, line, sizeof(line), STEP_MS) < 0)
		return -1;
	if (!CHECKF(strcmp(line, want) == 0,
		    "plain client got \"%s\", not \"%s\"", line, want))
		return -1;
	return 0;
}

/* Reads IRC lines until one starts with prefix and holds substr (answering
 * PINGs meanwhile); 0 or -1. */
static int
irc_expect(struct peer *p, const char *prefix, const char *substr)
{
	long long deadline = tl_now_ms() + STEP_MS;
	char line[1024];

	for (;;) {
		long long left = deadline - tl_now_ms();
		if (left <= 0 ||
		    tc_readline(p->fd, line, sizeof(line), (int)left) < 0)
			return -1;
		line[strcspn(line, "\r")] = '\0';
		if (strncmp(line, "PING ", 5) == 0)
			tc_send(p->fd, "PONG %s\r\n", line + 5);
		else if (strncmp(line, prefix, strlen(prefix)) == 0 &&
			 strstr(line, substr))
			return 0;
	}
}

static int
irc_join(struct peer *p, const struct target *t)
{
	char me[80];

	snprintf(p->nick, sizeof(p->nick), "plainpeer");
	snprintf(me, sizeof(me), ":%s!", p->nick);
	p->fd = tc_connect(t->irc_port);
	if (p->fd < 0 ||
	    tc_send(p->fd, "NICK %s\r\nUSER peer 0 * :plain side\r\n",
		    p->nick) < 0 ||
	    irc_expect(p, ":", " 001 ") < 0 ||
	    tc_send(p->fd, "JOIN " ROOM "\r\n") < 0 ||
	    irc_expect(p, me, " JOIN ") < 0 || irc_expect(p, ":", " 366 ") < 0)
		return -1;
	return 0;
}

static int
irc_say(struct peer *p, const char *text)
{
	return tc_send(p->fd, "PRIVMSG " ROOM " :%s\r\n", text);
}

static int
irc_heard(struct peer *p, const char *nick, const char *text)
{
	char from[80], want[512];

	snprintf(from, sizeof(from), ":%s!", nick);
	snprintf(want, sizeof(want), " PRIVMSG " ROOM " :%s", text);
	return irc_expect(p, from, want);
}

static const struct peer_kind peers[] = {
    [TARGET_PARLEYD] = {plain_join, plain_say, plain_heard},
    [TARGET_NGIRCD] = {irc_join, irc_say, irc_heard},
};

/* ---- the IRC clients ---------------------------------------------------- */

struct client;

/* One real IRC client: how to start it (connected and joining ROOM on the
 * target's IRC port), how to say something in ROOM, how to leave, and the
 * log file where it writes what it shows of ROOM. */
struct client_kind {
	const char *test; /* the test's name */
	const char *name; /* the client's directory under the test's */
	const char *binary;
	const char *nick;
	int (*start)(struct client *c, const struct target *t);
	int (*say)(struct client *c, const char *text);
	int (*quit)(struct client *c);
	int tls; /* to the IRC TLS port, its certificate not verified */
	/* Logs in with SASL PLAIN to an account its nick names (parleyd
	 * only); what the server log shows once it has. */
	const char *sasl;
	const char *room_log; /* relative to the client's home */
	const char *joined;   /* what room_log shows when the client joined */
	const char *show[4];  /* logs to show when the test fails */
};

struct client {
	const struct client_kind *kind;
	char home[512];
	pid_t pid;
	int pty_fd;
	struct pty_drain drain;
};

static void
client_path(const struct client *c, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", c->home, rel);
}

/* Writes a file of the client's home from a format; 0 or -1. */
static int __attribute__((format(printf, 3, 4)))
client_write(const struct client *c, const char *rel, const char *fmt, ...)
{
	char path[640], text[4096];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(text))
		return -1;
	client_path(c, rel, path, sizeof(path));
	return file_write(path, text);
}

/* Waits until the client's room log has a line with every needle. */
static int
client_wait(struct client *c, const char *const *needles, char *out, size_t n)
{
	char path[640];

	client_path(c, c->kind->room_log, path, sizeof(path));
	return file_wait_line(path, needles, c->pid, STEP_MS, out, n);
}

static int
pty_type(struct client *c, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t w = write(c->pty_fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* irssi: a --home of its own with a config (the network, its server on
 * the target's port, ROOM to join, logs of every window), on a pty. Its
 * flood control holds back the sixth command on and sends one per 2.2 s:
 * ten at once let the JOIN and the MODE and WHO after it go out at once. */
static const char irssi_config[] =
    "settings = {\n"
    "  core = {\n"
    "    real_name = \"irssi in parley's tests\";\n"
    "    user_name = \"irssi1\";\n"
    "    nick = \"irssi1\";\n"
    "    settings_autosave = \"no\";\n"
    "  };\n"
    "  \"irc/core\" = {\n"
    "    cmds_max_at_once = \"10\";\n"
    "  };\n"
    "  \"fe-common/core\" = {\n"
    "    autolog = \"yes\";\n"
    "    autolog_path = \"%s/logs/$tag.$0.log\";\n"
    "  };\n"
    "};\n"
    "chatnets = {\n"
    "  " NET " = {\n"
    "    type = \"IRC\";\n"
    "    autosendcmd = \"/rawlog open %s/logs/raw.log\";\n"
    "  };\n"
    "};\n"
    "servers = (\n"
    "  { address = \"127.0.0.1\"; chatnet = \"" NET "\"; port = \"%d\";\n"
    "    use_tls = \"%s\"; tls_verify = \"no\"; autoconnect = \"no\"; }\n"
    ");\n"
    "channels = (\n"
    "  { name = \"" ROOM "\"; chatnet = \"" NET "\"; autojoin = \"yes\"; }\n"
    ");\n";

static int
irssi_start(struct client *c, const struct target *t)
{
	char path[640], home_arg[600], env_home[600];
	const char *opened[] = {"Log opened", NULL};

	/* The startup file runs once irssi has its terminal: the log it
	 * opens says that irssi reads what is typed. */
	if (client_write(c, "config", irssi_config, c->home, c->home,
			 t->irc_port, c->kind->tls ? "yes" : "no") < 0 ||
	    client_write(c, "startup", "/log open %s/logs/all.log ALL\n",
			 c->home) < 0)
		return -1;
	snprintf(home_arg, sizeof(home_arg), "--home=%s", c->home);
	snprintf(env_home, sizeof(env_home), "HOME=%s", c->home);
	const char *argv[] = {c->kind->binary, home_arg, NULL};
	const char *envp[] = {env_home, "TERM=xterm", "LANG=C.UTF-8",
			      "PATH=/usr/bin:/bin", NULL};
	struct spawn sp = {.argv = argv, .envp = envp, .on_pty = 1};
	c->pid = spawn(&sp);
	if (c->pid < 0)
		return -1;
	c->pty_fd = sp.pty_fd;
	pty_drain_start(&c->drain, c->pty_fd);
	client_path(c, "logs/all.log", path, sizeof(path));
	if (!CHECKF(file_wait_line(path, opened, c->pid, STEP_MS, NULL, 0) == 0,
		    "irssi did not start (no %s)", path))
		return -1;
	return pty_type(c, "/connect " NET "\r");
}

static int
irssi_say(struct client *c, const char *text)
{
	char line[600];

	snprintf(line, sizeof(line), "/msg " ROOM " %s\r", text);
	return pty_type(c, line);
}

static int
irssi_quit(struct client *c)
{
	return pty_type(c, "/quit\r");
}

/* weechat-headless: a --dir of its own whose config loads only the irc,
 * logger and fifo plugins; commands go in through the FIFO. */
static int
weechat_start(struct client *c, const struct target *t)
{
	char out[640], run[512];

	if (client_write(c, "weechat.conf",
			 "[plugin]\nautoload = \"irc,logger,fifo\"\n") < 0 ||
	    client_write(c, "logger.conf",
			 "[file]\nflush_delay = 0\npath = \"%s/logs\"\n",
			 c->home) < 0 ||
	    client_write(c, "fifo.conf",
			 "[file]\nenabled = on\npath = \"%s/fifo\"\n",
			 c->home) < 0)
		return -1;
	char sasl[256] = "";
	if (c->kind->sasl)
		snprintf(sasl, sizeof(sasl),
			 " -sasl_mechanism=plain -sasl_username=%s "
			 "-sasl_password=" SASL_PASSWORD,
			 c->kind->nick);
	snprintf(run, sizeof(run),
		 "/server add " NET " 127.0.0.1/%d -notls -nicks=%s "
		 "-username=%s -realname=weechat -autojoin=" ROOM "%s"
		 ";/connect " NET,
		 t->irc_port, c->kind->nick, c->kind->nick, sasl);
	client_path(c, "stdout.log", out, sizeof(out));
	char env_home[600];
	snprintf(env_home, sizeof(env_home), "HOME=%s", c->home);
	const char *argv[] = {c->kind->binary, "--dir", c->home,
			      "--run-command", run,	NULL};
	const char *envp[] = {env_home, "TERM=dumb", "LANG=C.UTF-8",
			      "PATH=/usr/bin:/bin", NULL};
	struct spawn sp = {.argv = argv, .envp = envp, .out_path = out};
	c->pid = spawn(&sp);
	return c->pid < 0 ? -1 : 0;
}

static int
weechat_fifo(struct client *c, const char *line)
{
	char path[640];
	size_t len = strlen(line);
	int fd;
	ssize_t w;

	client_path(c, "fifo", path, sizeof(path));
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (!CHECKF(fd >= 0, "weechat's FIFO %s: %s", path, strerror(errno)))
		return -1;
	/* One write of less than PIPE_BUF bytes is never split. */
	w = write(fd, line, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

static int
weechat_say(struct client *c, const char *text)
{
	char line[600];

	snprintf(line, sizeof(line), "irc." NET "." ROOM " *%s\n", text);
	return weechat_fifo(c, line);
}

static int
weechat_quit(struct client *c)
{
	return weechat_fifo(c, "core.weechat */quit\n");
}

static const struct client_kind clients[] = {
    {
	.test = "test_irssi_joins_a_room_and_talks_with_a_plain_client",
	.name = "irssi",
	.binary = "/usr/bin/irssi",
	.nick = "irssi1",
	.start = irssi_start,
	.say = irssi_say,
	.quit = irssi_quit,
	.room_log = "logs/" NET "." ROOM ".log",
	.joined = "has joined " ROOM,
	.show = {"logs/all.log", "logs/raw.log"},
    },
    {
	.test =
	    "test_irssi_over_tls_joins_a_room_and_talks_with_a_plain_client",
	.name = "irssi",
	.binary = "/usr/bin/irssi",
	.nick = "irssi1",
	.start = irssi_start,
	.say = irssi_say,
	.quit = irssi_quit,
	.tls = 1,
	.room_log = "logs/" NET "." ROOM ".log",
	.joined = "has joined " ROOM,
	.show = {"logs/all.log", "logs/raw.log"},
    },
    {
	.test = "test_weechat_joins_a_room_and_talks_with_a_plain_client",
	.name = "weechat",
	.binary = "/usr/bin/weechat-headless",
	.nick = "weechat1",
	.start = weechat_start,
	.say = weechat_say,
	.quit = weechat_quit,
	.room_log = "logs/irc." NET "." ROOM ".weechatlog",
	.joined = "has joined " ROOM,
	.show = {"logs/irc.server." NET ".weechatlog", "weechat.log",
		 "stdout.log"},
    },
    {
	.test = "test_weechat_logs_in_with_sasl_joins_and_talks",
	.name = "weechat",
	.binary = "/usr/bin/weechat-headless",
	.nick = "weechat2",
	.start = weechat_start,
	.say = weechat_say,
	.quit = weechat_quit,
	.sasl = "SASL authentication successful",
	.room_log = "logs/irc." NET "." ROOM ".weechatlog",
	.joined = "has joined " ROOM,
	.show = {"logs/irc.server." NET ".weechatlog", "weechat.log",
		 "stdout.log"},
    },
};

static void
client_show(const struct client *c)
{
	char path[640];

	client_path(c, c->kind->room_log, path, sizeof(path));
	file_show(path);
	for (int i = 0; i < 4 && c->kind->show[i]; i++) {
		client_path(c, c->kind->show[i], path, sizeof(path));
		file_show(path);
	}
}

static void
client_stop(struct client *c)
{
	if (c->pid <= 0)
		return;
	kids_end(c->pid, c->kind->quit(c) == 0 ? 5000 : 0);
	c->pid = 0;
	pty_drain_stop(&c->drain);
	if (c->pty_fd >= 0)
		close(c->pty_fd);
	c->pty_fd = -1;
}

/* ---- the test ----------------------------------------------------------- */

/* The client joins ROOM, hears the plain client's message there, and says
 * one that the plain client hears. */
static void
client_talks(const struct client_kind *k, const char *dir)
{
	const struct peer_kind *pk;
	struct target t;
	struct peer p = {.fd = -1};
	struct client c = {.kind = k, .pty_fd = -1};
	char text[256], line[1024];
	int acct_fd = -1;
	int failed = tl_failed_checks;

	if (!CHECKF(access(k->binary, X_OK) == 0,
		    "%s is not installed (sh tools/deps.sh test installs it)",
		    k->binary))
		return;
	if (target_start(&t, dir, k->tls, k->sasl != NULL) < 0)
		goto out;
	if (k->sasl && target_account(&t, k->nick, &acct_fd) < 0)
		goto out;
	pk = &peers[t.kind];
	if (!CHECKF(pk->join(&p, &t) == 0, "the plain client did not join"))
		goto out;
	snprintf(c.home, sizeof(c.home), "%s/%s", dir, k->name);
	client_path(&c, "logs", line, sizeof(line));
	if (mkdir(c.home, 0700) < 0 || mkdir(line, 0700) < 0 ||
	    !CHECKF(k->start(&c, &t) == 0, "%s did not start", k->name))
		goto out;

	const char *joined[] = {k->nick, k->joined, NULL};
	if (!CHECKF(client_wait(&c, joined, NULL, 0) == 0,
		    "%s did not join " ROOM, k->name))
		goto out;
	if (k->sasl) {
		/* The server buffer says so, and the server logged it. */
		const char *in[] = {k->sasl, NULL};
		char log[640];
		client_path(&c, k->show[0], log, sizeof(log));
		CHECKF(file_wait_line(log, in, c.pid, STEP_MS, NULL, 0) == 0,
		       "%s did not say \"%s\"", k->name, k->sasl);
		CHECK(ts_log_wait(t.ts, "logged in as weechat2", STEP_MS) == 0);
	}

	snprintf(text, sizeof(text), "hello %s, %s here", k->nick, p.nick);
	const char *heard[] = {p.nick, text, NULL};
	CHECKF(pk->say(&p, text) == 0 &&
		   client_wait(&c, heard, line, sizeof(line)) == 0,
	       "%s did not show <%s> %s", k->name, p.nick, text);

	snprintf(text, sizeof(text), "hi %s, this is %s", p.nick, k->name);
	CHECKF(k->say(&c, text) == 0 && pk->heard(&p, k->nick, text) == 0,
	       "the plain client did not get <%s> %s", k->nick, text);
out:
	if (tl_failed_checks > failed) {
		if (c.pid > 0)
			client_show(&c);
		target_show(&t);
	}
	client_stop(&c);
	tc_close(p.fd);
	tc_close(acct_fd);
	target_stop(&t);
}

static const struct client_kind *current;

static void
test_client_talks(void)
{
	char dir[256];
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/parley-ircc-XXXXXX", tmp ? tmp : "/tmp");
	REQUIRE(mkdtemp(dir) != NULL);
	/* ngircd runs as "nobody": it must be able to reach its config. */
	chmod(dir, 0711);
	client_talks(current, dir);
	if (getenv("PARLEY_TEST_KEEP"))
		fprintf(stderr, "  kept %s\n", dir);
	else
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "irc_clients", model, sizeof(model), suite);
	if (target_kind_chosen() == TARGET_NGIRCD)
		printf("# against ngircd (PARLEY_IRC_CLIENTS_SERVER=ngircd), "
		       "not parleyd\n");
	for (size_t i = 0; i < sizeof(clients) / sizeof(*clients); i++) {
		/* The harness's ngircd has no TLS port. */
		if ((clients[i].tls || clients[i].sasl) &&
		    target_kind_chosen() == TARGET_NGIRCD)
			continue;
		current = &clients[i];
		tl_run(clients[i].test, test_client_talks);
	}
	return tl_summary(suite);
}
