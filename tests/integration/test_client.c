/*
 * test_client: drives build/parley against the real parleyd, in pipe mode
 * (stdin and stdout are pipes) and in terminal mode (a pseudo-terminal read
 * through a small screen emulator, so checks are on what a user would see).
 * Every wait is a poll with a deadline; spawned clients die with each test.
 */
#include "../testlib.h"

#include "lib/net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define T_WAIT_MS 10000
#define T_ROWS	  24
#define T_COLS	  80
#define T_MAXCOLS 200

/* ---- a screen emulator: enough of xterm for what parley sends ------------ */

#define SCR_TAIL 0xffffffffu /* right half of a wide character */

struct scr {
	int rows, cols;
	uint32_t cell[T_ROWS][T_MAXCOLS];
	int row, col;
	int wrap; /* the cursor is past the last column */
	unsigned char esc[64];
	size_t esc_len;
	unsigned char u8[4];
	size_t u8_len, u8_need;
};

/* Width as a terminal sees it, for what the tests type (independent of
 * the client's own table on purpose). */
static int
scr_width(uint32_t cp)
{
	if ((cp >= 0x0300 && cp <= 0x036f) || cp == 0x200d ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

static void
scr_clear_row(struct scr *s, int r, int from, int to)
{
	for (int c = from; c < to && c < s->cols; c++)
		s->cell[r][c] = ' ';
}

static void
scr_init(struct scr *s, int rows, int cols)
{
	memset(s, 0, sizeof(*s));
	s->rows = rows;
	s->cols = cols;
	for (int r = 0; r < rows; r++)
		scr_clear_row(s, r, 0, T_MAXCOLS);
}

static void
scr_linefeed(struct scr *s)
{
	if (s->row < s->rows - 1) {
		s->row++;
		return;
	}
	memmove(s->cell[0], s->cell[1],
		sizeof(s->cell[0]) * (size_t)(s->rows - 1));
	scr_clear_row(s, s->rows - 1, 0, T_MAXCOLS);
}

static void
scr_put(struct scr *s, uint32_t cp)
{
	int w = scr_width(cp);

	if (w == 0)
		return;
	if (s->wrap || s->col + w > s->cols) {
		s->col = 0;
		s->wrap = 0;
		scr_linefeed(s);
	}
	s->cell[s->row][s->col] = cp;
	if (w == 2)
		s->cell[s->row][s->col + 1] = SCR_TAIL;
	s->col += w;
	if (s->col >= s->cols) {
		s->col = s->cols - 1;
		s->wrap = 1;
	}
}

static int
scr_param(const struct scr *s, int idx, int def)
{
	const char *p = (const char *)s->esc + 2;
	int i = 0, v = -1;

	for (; *p && i <= idx; p++) {
		if (*p >= '0' && *p <= '9') {
			v = (v < 0 ? 0 : v * 10) + (*p - '0');
		} else if (*p == ';') {
			if (i == idx)
				break;
			i++;
			v = -1;
		} else if (*p >= 0x40) {
			break;
		}
	}
	return (i == idx && v > 0) ? v : def;
}

static void
scr_csi(struct scr *s, char final)
{
	int n = scr_param(s, 0, 1);

	s->wrap = 0;
	switch (final) {
	case 'A':
		s->row = s->row - n < 0 ? 0 : s->row - n;
		break;
	case 'B':
		s->row = s->row + n >= s->rows ? s->rows - 1 : s->row + n;
		break;
	case 'C':
		s->col = s->col + n >= s->cols ? s->cols - 1 : s->col + n;
		break;
	case 'D':
		s->col = s->col - n < 0 ? 0 : s->col - n;
		break;
	case 'G':
		s->col = n - 1 < s->cols ? n - 1 : s->cols - 1;
		break;
	case 'H':
	case 'f':
		s->row = scr_param(s, 0, 1) - 1;
		s->col = scr_param(s, 1, 1) - 1;
		break;
	case 'K':
		n = scr_param(s, 0, 0);
		if (n == 0)
			scr_clear_row(s, s->row, s->col, s->cols);
		else if (n == 1)
			scr_clear_row(s, s->row, 0, s->col + 1);
		else
			scr_clear_row(s, s->row, 0, s->cols);
		break;
	case 'J':
		n = scr_param(s, 0, 0);
		if (n == 0) {
			scr_clear_row(s, s->row, s->col, s->cols);
			for (int r = s->row + 1; r < s->rows; r++)
				scr_clear_row(s, r, 0, s->cols);
		} else {
			for (int r = 0; r < s->rows; r++)
				scr_clear_row(s, r, 0, s->cols);
		}
		break;
	default:
		break; /* m (colours), h/l (modes): no effect on text */
	}
}

static void
scr_feed_byte(struct scr *s, unsigned char c)
{
	if (s->esc_len > 0) {
		if (s->esc_len == 1 && c != '[') {
			s->esc_len = 0; /* ESC x: two-byte sequence, ignored */
			return;
		}
		if (s->esc_len < sizeof(s->esc) - 1)
			s->esc[s->esc_len++] = c;
		s->esc[s->esc_len] = 0;
		if (s->esc_len > 2 && c >= 0x40 && c <= 0x7e) {
			scr_csi(s, (char)c);
			s->esc_len = 0;
		}
		return;
	}
	if (s->u8_need > 0) {
		s->u8[s->u8_len++] = c;
		if (s->u8_len < s->u8_need)
			return;
		uint32_t cp = s->u8[0] & (0xff >> (s->u8_need + 1));
		for (size_t i = 1; i < s->u8_len; i++)
			cp = (cp << 6) | (s->u8[i] & 0x3f);
		s->u8_need = 0;
		scr_put(s, cp);
		return;
	}
	if (c == 0x1b) {
		s->esc[0] = c;
		s->esc_len = 1;
	} else if (c == '\r') {
		s->col = 0;
		s->wrap = 0;
	} else if (c == '\n') {
		s->wrap = 0;
		scr_linefeed(s);
	} else if (c == '\b') {
		s->col = s->col > 0 ? s->col - 1 : 0;
		s->wrap = 0;
	} else if (c >= 0xc0) {
		s->u8[0] = c;
		s->u8_len = 1;
		s->u8_need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	} else if (c >= 0x20 && c < 0x7f) {
		scr_put(s, c);
	}
}

/* Row r as UTF-8, trailing blanks removed. */
static void
scr_row(const struct scr *s, int r, char *out, size_t n)
{
	size_t len = 0, keep = 0;

	for (int c = 0; c < s->cols && len + 5 < n; c++) {
		uint32_t cp = s->cell[r][c];
		if (cp == SCR_TAIL)
			continue;
		if (cp < 0x80) {
			out[len++] = (char)cp;
		} else if (cp < 0x800) {
			out[len++] = (char)(0xc0 | (cp >> 6));
			out[len++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[len++] = (char)(0xe0 | (cp >> 12));
			out[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[len++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[len++] = (char)(0xf0 | (cp >> 18));
			out[len++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			out[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[len++] = (char)(0x80 | (cp & 0x3f));
		}
		if (cp != ' ')
			keep = len;
	}
	out[keep] = '\0';
}

static int
scr_find(const struct scr *s, const char *substr)
{
	char row[T_MAXCOLS * 4 + 1];

	for (int r = 0; r < s->rows; r++) {
		scr_row(s, r, row, sizeof(row));
		if (strstr(row, substr))
			return r;
	}
	return -1;
}

static void
scr_dump(const struct scr *s)
{
	char row[T_MAXCOLS * 4 + 1];

	fprintf(stderr, "  screen (cursor %d,%d):\n", s->row, s->col);
	for (int r = 0; r < s->rows; r++) {
		scr_row(s, r, row, sizeof(row));
		fprintf(stderr, "  |%s\n", row);
	}
}

/* ---- spawned clients ----------------------------------------------------- */

struct tbuf {
	char *data;
	size_t len;
};

struct tcl {
	pid_t pid;
	int in_fd, out_fd, err_fd; /* pipe mode */
	int pty_fd;		   /* terminal mode: the master */
	int pty_eof;		   /* the slave side is closed by all */
	struct tbuf out, err;	   /* all bytes read so far */
	struct scr scr;
	int status;
};

#define T_MAX_CLIENTS 8
static struct tcl *t_clients[T_MAX_CLIENTS];
static struct ts_server *t_srv;
static int t_fds[16];
static int t_nfds;

static void
tbuf_add(struct tbuf *b, const char *s, size_t n)
{
	b->data = realloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static int
t_track_fd(int fd)
{
	if (fd >= 0 && t_nfds < (int)(sizeof(t_fds) / sizeof(t_fds[0])))
		t_fds[t_nfds++] = fd;
	return fd;
}

static const char *
t_client_path(void)
{
	static char path[512];
	const char *build = getenv("PARLEY_BUILD");

	snprintf(path, sizeof(path), "%s/parley", build ? build : "build");
	return path;
}

/* env entries: "NAME=VALUE" sets, "NAME" unsets. */
static void
t_child_exec(const char *const *args, const char *const *env)
{
	char *argv[16];
	int argc = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	unsetenv("NO_COLOR");
	setenv("TERM", "xterm-256color", 1);
	for (; env && *env; env++) {
		const char *eq = strchr(*env, '=');
		if (eq) {
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)(eq - *env),
				 *env);
			setenv(name, eq + 1, 1);
		} else {
			unsetenv(*env);
		}
	}
	argv[argc++] = (char *)t_client_path();
	for (; args && *args && argc < 15; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static struct tcl *
tcl_register(struct tcl *c)
{
	for (int i = 0; i < T_MAX_CLIENTS; i++) {
		if (!t_clients[i]) {
			t_clients[i] = c;
			return c;
		}
	}
	abort();
}

/* A client on pipes; with merged set, stderr goes to the stdout pipe (as
 * with 2>&1: one open file, so one O_NONBLOCK flag) and err stays empty. */
static struct tcl *
tcl_spawn_pipe_as(const char *const *args, const char *const *env, int merged)
{
	int in[2], out[2], err[2];
	struct tcl *c = calloc(1, sizeof(*c));

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC))
		abort();
	c->pty_fd = -1;
	c->pid = fork();
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(merged ? out[1] : err[1], 2);
		t_child_exec(args, env);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	c->in_fd = in[1];
	c->out_fd = out[0];
	c->err_fd = err[0];
	return tcl_register(c);
}

static struct tcl *
tcl_spawn_pipe(const char *const *args, const char *const *env)
{
	return tcl_spawn_pipe_as(args, env, 0);
}

/* In the child of tcl_spawn_pty with job control: act as a minimal shell.
 * The client runs in a process group of its own, in the foreground of the
 * terminal, with this process (its parent, in the same session) keeping
 * the group from being orphaned, so SIGTSTP stops it as it would under a
 * shell. Exits with the client's status. */
static void
t_job_shell(int tty, const char *const *args, const char *const *env)
{
	int go[2], st;
	pid_t pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pipe(go) < 0)
		_exit(127);
	pid = fork();
	if (pid == 0) {
		char b;
		close(go[1]);
		/* Wait until the group is in the foreground. */
		if (read(go[0], &b, 1) != 1)
			_exit(127);
		close(go[0]);
		t_child_exec(args, env);
	}
	if (pid < 0 || setpgid(pid, pid) < 0 || tcsetpgrp(tty, pid) < 0 ||
	    write(go[1], "x", 1) != 1)
		_exit(127);
	close(go[0]);
	close(go[1]);
	/* Let the client hold the terminal alone, so its end shows as EOF. */
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* A client on a new pseudo-terminal; with job set, under t_job_shell
 * (c->pid is then the shell's pid). */
static struct tcl *
tcl_spawn_pty_as(const char *const *args, const char *const *env, int rows,
		 int cols, int job)
{
	struct winsize ws = {.ws_row = (unsigned short)rows,
			     .ws_col = (unsigned short)cols};
	struct tcl *c = calloc(1, sizeof(*c));
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		abort();
	ioctl(m, TIOCSWINSZ, &ws);
	scr_init(&c->scr, rows, cols);
	c->in_fd = c->out_fd = c->err_fd = -1;
	c->pty_fd = m;
	c->pid = fork();
	if (c->pid == 0) {
		setsid();
		int s = open(ptsname(m), O_RDWR);
		if (s < 0)
			_exit(127);
		ioctl(s, TIOCSCTTY, 0);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		if (s > 2)
			close(s);
		if (job)
			t_job_shell(0, args, env);
		t_child_exec(args, env);
	}
	return tcl_register(c);
}

static struct tcl *
tcl_spawn_pty(const char *const *args, const char *const *env, int rows,
	      int cols)
{
	return tcl_spawn_pty_as(args, env, rows, cols, 0);
}

static int
tcl_read_fd(int *fd, struct tbuf *b, struct scr *scr)
{
	char buf[8192];
	ssize_t n;

	do {
		n = read(*fd, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		/* EOF, or EIO on a master whose slave is closed by all;
		 * the master stays open so its termios can be read. */
		if (!scr) {
			close(*fd);
			*fd = -1;
		}
		return 0;
	}
	tbuf_add(b, buf, (size_t)n);
	if (scr)
		for (ssize_t i = 0; i < n; i++)
			scr_feed_byte(scr, (unsigned char)buf[i]);
	return 1;
}

/* Reads whatever arrives within timeout_ms. Returns 1 if something was
 * read or an fd closed, 0 on timeout, -1 when every output is closed. */
static int
tcl_pump(struct tcl *c, int timeout_ms)
{
	struct pollfd pfd[3];
	int n = 0, r;

	if (c->pty_fd >= 0 && !c->pty_eof)
		pfd[n++] = (struct pollfd){.fd = c->pty_fd, .events = POLLIN};
	if (c->out_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = c->out_fd, .events = POLLIN};
	if (c->err_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
	if (n == 0)
		return -1;
	r = poll(pfd, (nfds_t)n, timeout_ms);
	if (r <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == c->pty_fd) {
			if (!tcl_read_fd(&c->pty_fd, &c->out, &c->scr))
				c->pty_eof = 1;
		} else if (pfd[i].fd == c->out_fd)
			tcl_read_fd(&c->out_fd, &c->out, NULL);
		else
			tcl_read_fd(&c->err_fd, &c->err, NULL);
	}
	return 1;
}

/* Waits until the client's stdout (pipe) or raw terminal output holds
 * substr. 0 or -1. */
static int
tcl_wait_out(struct tcl *c, const char *substr, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;

	while (!c->out.data || !strstr(c->out.data, substr)) {
		long long left = deadline - tl_now_ms();
		if (left <= 0 || tcl_pump(c, (int)left) < 0)
			return -1;
	}
	return 0;
}

static int
tcl_wait_err(struct tcl *c, const char *substr, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;

	while (!c->err.data || !strstr(c->err.data, substr)) {
		long long left = deadline - tl_now_ms();
		if (left <= 0 || tcl_pump(c, (int)left) < 0)
			return -1;
	}
	return 0;
}

/* Waits until a screen row contains substr; returns the row or -1. */
static int
tcl_wait_screen(struct tcl *c, const char *substr, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	int r;

	while ((r = scr_find(&c->scr, substr)) < 0) {
		long long left = deadline - tl_now_ms();
		if (left <= 0 || tcl_pump(c, (int)left) < 0) {
			fprintf(stderr, "  waiting for \"%s\" on screen\n",
				substr);
			scr_dump(&c->scr);
			return -1;
		}
	}
	return r;
}

/* Waits until the cursor row reads exactly text with the cursor at col. */
static int
tcl_wait_input(struct tcl *c, const char *text, int col, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	char row[T_MAXCOLS * 4 + 1];

	for (;;) {
		scr_row(&c->scr, c->scr.row, row, sizeof(row));
		if (strcmp(row, text) == 0 && (col < 0 || c->scr.col == col))
			return 0;
		long long left = deadline - tl_now_ms();
		if (left <= 0 || tcl_pump(c, (int)left) < 0) {
			fprintf(stderr,
				"  waiting for input line \"%s\" cursor %d\n",
				text, col);
			scr_dump(&c->scr);
			return -1;
		}
	}
}

static void
tcl_type(struct tcl *c, const char *s)
{
	int fd = c->pty_fd >= 0 ? c->pty_fd : c->in_fd;
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

static void
tcl_close_stdin(struct tcl *c)
{
	if (c->in_fd >= 0)
		close(c->in_fd);
	c->in_fd = -1;
}

/* Reads until every output closes, then reaps. Returns the wait status,
 * or -1 on timeout. */
static int
tcl_wait_exit(struct tcl *c, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;

	for (;;) {
		long long left = deadline - tl_now_ms();
		if (left <= 0)
			return -1;
		if (tcl_pump(c, (int)left) < 0)
			break;
	}
	/* All of its outputs are closed: it has exited (or is exiting). */
	if (waitpid(c->pid, &c->status, 0) != c->pid)
		return -1;
	c->pid = 0;
	return c->status;
}

static void
tcl_free(struct tcl *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	int fds[] = {c->in_fd, c->out_fd, c->err_fd, c->pty_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(c->out.data);
	free(c->err.data);
	free(c);
}

/* Frees c now, before the end of the test. */
static void
tcl_release(struct tcl *c)
{
	for (int i = 0; i < T_MAX_CLIENTS; i++)
		if (t_clients[i] == c)
			t_clients[i] = NULL;
	tcl_free(c);
}

static void
t_cleanup(void)
{
	for (int i = 0; i < T_MAX_CLIENTS; i++) {
		if (t_clients[i]) {
			tcl_free(t_clients[i]);
			t_clients[i] = NULL;
		}
	}
	for (int i = 0; i < t_nfds; i++)
		tc_close(t_fds[i]);
	t_nfds = 0;
	if (t_srv) {
		ts_free(t_srv);
		t_srv = NULL;
	}
}

static void
t_run(const char *name, void (*fn)(void))
{
	tl_run(name, fn);
	t_cleanup();
}

#define T_RUN(fn) t_run(#fn, fn)

static int
t_exited_zero(int status)
{
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The pid of the only child of pid (the client under t_job_shell). */
static pid_t
t_only_child(pid_t pid)
{
	char path[64];
	long child = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &child) != 1)
		child = -1;
	fclose(f);
	return (pid_t)child;
}

/* The state letter of pid in /proc/PID/stat ('T' when stopped). */
static char
t_proc_state(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Pumps c's output until pid's state is want or the deadline passes. */
static int
t_wait_state(struct tcl *c, pid_t pid, char want, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;

	while (t_proc_state(pid) != want) {
		if (tl_now_ms() >= deadline)
			return -1;
		(void)tcl_pump(c, 10);
	}
	return 0;
}

/* ---- helpers for the server side ----------------------------------------- */

static struct ts_server *
t_server(void)
{
	/* PARLEY_TEST_ARGS picks the process model, as for test_server. */
	const char *args = getenv("PARLEY_TEST_ARGS");

	t_srv = ts_start(args ? args : "");
	return t_srv;
}

/* The test server with extra parleyd options after the model's. */
static struct ts_server *
t_server_with(const char *extra)
{
	const char *model = getenv("PARLEY_TEST_ARGS");

	t_srv = ts_start_model(model ? model : "", extra);
	return t_srv;
}

/* Reads fd's lines until one contains until; returns 1 if a line before
 * it contained bad, 0 if none did, -1 if until never came. */
static int
t_seen_before(int fd, const char *bad, const char *until)
{
	char line[2048];
	int seen = 0;

	for (;;) {
		if (tc_readline(fd, line, sizeof(line), T_WAIT_MS) < 0)
			return -1;
		if (strstr(line, until))
			return seen;
		if (strstr(line, bad))
			seen = 1;
	}
}

/* True when s is exactly one line, want. */
static int
t_is_line(const char *s, const char *want)
{
	size_t n = strlen(want);

	return s && strncmp(s, want, n) == 0 && s[n] == '\n' && s[n + 1] == 0;
}

static int
t_exited_with(int status, int code)
{
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* A watching client, joined to the default room. */
static int
t_watcher(char *nick, size_t n)
{
	return t_track_fd(tc_join(t_srv->port, nick, n));
}

static void
t_port_arg(char *buf, size_t n, int port)
{
	snprintf(buf, n, "127.0.0.1:%d", port);
}

/* Reads the nickname from the welcome line in s. */
static int
t_nick_from(const char *s, char *nick, size_t n)
{
	const char *w = s ? strstr(s, "welcome to parley, ") : NULL;

	if (!w)
		return -1;
	w += strlen("welcome to parley, ");
	snprintf(nick, n, "%.*s", (int)strcspn(w, "!"), w);
	return 0;
}

/* A listening socket standing in for the server, for byte-exact input. */
static int
t_fake_listen(int *port)
{
	int fd = net_listen("127.0.0.1", 0, 4);

	if (fd < 0)
		return -1;
	*port = net_local_port(fd);
	return t_track_fd(fd);
}

static int
t_fake_accept(int lfd)
{
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	struct sockaddr_storage ss;
	int fd;

	if (poll(&pfd, 1, T_WAIT_MS) != 1)
		return -1;
	fd = net_accept(lfd, &ss);
	if (fd < 0)
		return -1;
	/* tc_* helpers expect a blocking socket. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return t_track_fd(fd);
}

/* Starts a terminal-mode client against the test server and waits for its
 * prompt in #lobby; stores its nickname. */
static struct tcl *
t_pty_client(const char *const *extra_env, char *nick, size_t n)
{
	char addr[64];
	const char *args[] = {addr, NULL};

	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pty(args, extra_env, T_ROWS, T_COLS);
	if (tcl_wait_input(c, "#lobby>", 8, T_WAIT_MS) < 0)
		return NULL;
	if (t_nick_from(c->out.data, nick, n) < 0)
		return NULL;
	return c;
}

/* True when s holds an SGR (colour) sequence: ESC [ digits/; m. */
static int
t_has_sgr(const char *s)
{
	if (!s)
		return 0;
	while ((s = strstr(s, "\x1b[")) != NULL) {
		s += 2;
		s += strspn(s, "0123456789;");
		if (*s == 'm')
			return 1;
	}
	return 0;
}

/* ---- command line -------------------------------------------------------- */

static void
test_help_and_version_print_and_exit_zero(void)
{
	const char *help[] = {"--help", NULL};
	const char *version[] = {"--version", NULL};
	struct tcl *c = tcl_spawn_pipe(help, NULL);

	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	CHECK(c->out.data && strstr(c->out.data, "usage: parley"));
	CHECK(c->out.data && strstr(c->out.data, "Exit status: 0 done"));
	c = tcl_spawn_pipe(version, NULL);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	CHECK(c->out.data &&
	      strcmp(c->out.data, "parley " PARLEY_VERSION "\n") == 0);
}

static void
test_connection_refused_is_one_clear_line_and_nonzero_exit(void)
{
	char addr[64];
	const char *args[] = {addr, NULL};
	int port, st;
	int lfd = net_listen("127.0.0.1", 0, 1);

	/* A port that was just free: nothing listens there now. */
	REQUIRE(lfd >= 0);
	port = net_local_port(lfd);
	close(lfd);
	t_port_arg(addr, sizeof(addr), port);
	struct tcl *c = tcl_spawn_pipe(args, NULL);
	st = tcl_wait_exit(c, T_WAIT_MS);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1);
	REQUIRE(c->err.data != NULL);
	CHECKF(strstr(c->err.data, "cannot connect") &&
		   strchr(c->err.data, '\n') == c->err.data + c->err.len - 1,
	       "stderr: %s", c->err.data);
	CHECK(c->out.len == 0);
}

/* A usage error: exit 2, nothing on stdout, and stderr starting with one
 * "parley: " line that names the problem (never the binary's path). */
static void
test_usage_errors_exit_2_with_one_clear_line_first(void)
{
	static const struct {
		const char *args[4];
		const char *env;
		const char *want; /* in the first stderr line */
	} rows[] = {
	    {{"--bogus"}, NULL, "unknown option '--bogus'"},
	    {{"-x"}, NULL, "unknown option '-x'"},
	    {{"--nick"}, NULL, "option '--nick' needs a value"},
	    {{"host1", "host2"}, NULL, "unexpected argument 'host2'"},
	    {{"--nick", "two words"}, NULL, "bad nickname 'two words'"},
	    {{"[::1"}, NULL, "bad address '[::1'"},
	    {{"localhost:99999"}, NULL, "bad address 'localhost:99999'"},
	    /* Itself an IPv6 address, but surely meant with a port. */
	    {{"::1:5050"}, NULL, "IPv6 addresses go in brackets: [::1]:5050"},
	    {{"2001:db8::7:80"},
	     NULL,
	     "IPv6 addresses go in brackets: [2001:db8::7]:80"},
	    {{NULL}, "PARLEY_GRACE_MS=soon", "PARLEY_GRACE_MS"},
	    {{NULL}, "PARLEY_GRACE_MS=-5", "PARLEY_GRACE_MS"},
	    {{NULL}, "PARLEY_GRACE_MS=2000ms", "PARLEY_GRACE_MS"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *env[] = {rows[i].env, NULL};
		struct tcl *c = tcl_spawn_pipe(rows[i].args, env);
		int st = tcl_wait_exit(c, T_WAIT_MS);
		const char *err = c->err.data ? c->err.data : "";
		size_t first = strcspn(err, "\n");

		CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2,
		       "row %zu: status %d", i, st);
		CHECKF(strncmp(err, "parley: ", 8) == 0 &&
			   memmem(err, first, rows[i].want,
				  strlen(rows[i].want)) != NULL,
		       "row %zu: stderr: %s", i, err);
		CHECKF(c->out.len == 0, "row %zu: stdout: %s", i, c->out.data);
		tcl_release(c);
	}
}

/* ---- pipe mode ----------------------------------------------------------- */

static void
test_pipe_mode_sends_stdin_lines_and_prints_server_lines_exactly(void)
{
	char addr[64], nick[64], wnick[64], want[256];
	const char *args[] = {addr, NULL};

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pipe(args, NULL);
	REQUIRE(tcl_wait_out(c, "-!- welcome to parley, ", T_WAIT_MS) == 0);
	REQUIRE(t_nick_from(c->out.data, nick, sizeof(nick)) == 0);
	snprintf(want, sizeof(want), "-!- %s joined #lobby", nick);
	REQUIRE(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);

	tc_send(w, "hello from %s\n", wnick);
	snprintf(want, sizeof(want), "\n#lobby <%s> hello from %s\n", wnick,
		 wnick);
	CHECK(tcl_wait_out(c, want, T_WAIT_MS) == 0);

	tcl_type(c, "hello from the pipe\n");
	snprintf(want, sizeof(want), "#lobby <%s> hello from the pipe", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);

	tcl_close_stdin(c);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	REQUIRE(c->out.data != NULL);
	CHECKF(strncmp(c->out.data, "-!- welcome to parley, ", 23) == 0,
	       "first line: %s", c->out.data);
	CHECK(memchr(c->out.data, 0x1b, c->out.len) == NULL);
	CHECK(memchr(c->out.data, '\r', c->out.len) == NULL);
	CHECK(strstr(c->out.data, "hello from the pipe") == NULL);
	CHECK(c->out.data[c->out.len - 1] == '\n');
}

static void
test_pipe_mode_a_burst_in_odd_chunks_arrives_whole_and_in_order(void)
{
	char addr[64], want[128];
	const char *args[] = {addr, NULL};
	enum { N = 3000 };
	size_t len = 0, off = 0, step = 1;
	char *all = malloc((size_t)N * 64);
	int port, lfd = t_fake_listen(&port);

	REQUIRE(lfd >= 0 && all);
	t_port_arg(addr, sizeof(addr), port);
	struct tcl *c = tcl_spawn_pipe(args, NULL);
	int s = t_fake_accept(lfd);
	REQUIRE(s >= 0);
	len = (size_t)sprintf(all, "-!- welcome to parley, me! hi\n");
	for (int i = 0; i < N; i++)
		len +=
		    (size_t)sprintf(all + len, "#lobby <a> burst line %d\n", i);
	/* Chunks of 1, 2, 3 ... bytes: every split offset is hit. */
	while (off < len) {
		size_t n = step < len - off ? step : len - off;
		tc_send(s, "%.*s", (int)n, all + off);
		off += n;
		step = step % 997 + 1;
	}
	shutdown(s, SHUT_WR);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	CHECK(c->out.len == len && memcmp(c->out.data, all, len) == 0);
	snprintf(want, sizeof(want), "burst line %d\n", N - 1);
	CHECK(c->out.data && strstr(c->out.data, want));
	free(all);
}

static void
test_pipe_mode_nick_option_renames_right_after_connecting(void)
{
	char addr[64], wnick[64];
	const char *args[] = {addr, "--nick", "zed", NULL};

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pipe(args, NULL);
	CHECK(tc_expect(w, "is now known as zed", NULL, 0, T_WAIT_MS) >= 0);
	CHECK(tcl_wait_out(c, "is now known as zed\n", T_WAIT_MS) == 0);
	tcl_type(c, "hi, I am zed\n");
	CHECK(tc_expect(w, "#lobby <zed> hi, I am zed", NULL, 0, T_WAIT_MS) >=
	      0);
	tcl_close_stdin(c);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
}

static void
test_pipe_mode_stdin_eof_sends_last_line_and_exits_zero(void)
{
	char addr[64], wnick[64];
	const char *args[] = {addr, "--nick", "eve", NULL};

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pipe(args, NULL);
	/* Input ends at once, the last line without its newline. */
	tcl_type(c, "first\nlast words");
	tcl_close_stdin(c);
	CHECK(tc_expect(w, "#lobby <eve> first", NULL, 0, T_WAIT_MS) >= 0);
	CHECK(tc_expect(w, "#lobby <eve> last words", NULL, 0, T_WAIT_MS) >= 0);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	CHECK(c->out.data && strstr(c->out.data, "-!- welcome to parley, "));
	CHECKF(c->err.len == 0, "stderr: %s", c->err.data);
}

static void
test_pipe_mode_server_shutdown_is_shown_and_the_client_exits(void)
{
	char addr[64];
	const char *args[] = {addr, NULL};

	REQUIRE(t_server());
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pipe(args, NULL);
	REQUIRE(tcl_wait_out(c, " joined #lobby\n", T_WAIT_MS) == 0);
	CHECK(ts_stop(t_srv, SIGTERM, T_WAIT_MS) >= 0);
	/* stdin stays open: the client leaves because the server did. */
	CHECK(tcl_wait_out(c, "-!- server shutting down\n", T_WAIT_MS) == 0);
	CHECK(tcl_wait_err(c, "connection closed by server", T_WAIT_MS) == 0);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
}

static void
test_pipe_mode_reports_the_close_after_the_servers_last_lines(void)
{
	char addr[64];
	const char *args[] = {addr, NULL};
	const char *notice, *closed;

	REQUIRE(t_server());
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pipe_as(args, NULL, 1);
	REQUIRE(tcl_wait_out(c, " joined #lobby\n", T_WAIT_MS) == 0);
	/* Stopped while the server shuts down: when it goes on, the notice
	 * and the end of the connection are there together. */
	kill(c->pid, SIGSTOP);
	REQUIRE(t_wait_state(c, c->pid, 'T', T_WAIT_MS) == 0);
	CHECK(ts_stop(t_srv, SIGTERM, T_WAIT_MS) >= 0);
	kill(c->pid, SIGCONT);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	REQUIRE(c->out.data != NULL);
	notice = strstr(c->out.data, "-!- server shutting down\n");
	closed = strstr(c->out.data, "parley: connection closed by server\n");
	CHECKF(notice && closed && notice < closed, "2>&1 output: %s",
	       c->out.data);
}

/* A connection the server refuses: exit 3, stdout has the server's line
 * exactly, stderr one line saying why, and nothing was sent. */
static void
test_pipe_mode_a_refused_connection_exits_3_with_one_line_on_stderr(void)
{
	static const struct {
		const char *server; /* parleyd's options; NULL: a stand-in */
		const char *line;   /* what it says before closing */
	} rows[] = {
	    {"--max-clients 1", "-!- server full, try again later"},
	    {"--max-per-address 1 --limit-loopback",
	     "-!- too many connections from your address (limit 1)"},
	    /* parleyd says this when it cannot fork a session or every
	     * worker is restarting; a stand-in says it here. */
	    {NULL, "-!- server busy, try again later"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char addr[64], want[256], line[256];
		const char *args[] = {addr, "--nick", "x", NULL};
		int port, lfd = -1, s;

		if (rows[i].server) {
			REQUIRE(t_server_with(rows[i].server));
			REQUIRE(t_watcher(NULL, 0) >= 0); /* takes the place */
			port = t_srv->port;
		} else {
			REQUIRE((lfd = t_fake_listen(&port)) >= 0);
		}
		t_port_arg(addr, sizeof(addr), port);
		struct tcl *c = tcl_spawn_pipe(args, NULL);
		tcl_type(c, "hello\n");
		tcl_close_stdin(c);
		if (lfd >= 0) {
			REQUIRE((s = t_fake_accept(lfd)) >= 0);
			tc_send(s, "%s\n", rows[i].line);
			shutdown(s, SHUT_WR);
			CHECKF(tc_readline(s, line, sizeof(line), T_WAIT_MS) ==
				   -2,
			       "row %zu: the client sent: %s", i, line);
		}
		int st = tcl_wait_exit(c, T_WAIT_MS);
		CHECKF(t_exited_with(st, 3), "row %zu: status %d", i, st);
		CHECKF(t_is_line(c->out.data, rows[i].line), "row %zu: out: %s",
		       i, c->out.data);
		snprintf(want, sizeof(want),
			 "parley: refused by the server: %s", rows[i].line + 4);
		CHECKF(t_is_line(c->err.data, want), "row %zu: err: %s", i,
		       c->err.data);
		t_cleanup();
	}
}

/* --nick NAME refused by the real server: exit 3 with the reason on
 * stderr, and not one stdin line posted under the guest name. */
static void
test_pipe_mode_a_refused_nick_exits_3_and_posts_nothing(void)
{
	static const struct {
		const char *nick, *error;
	} rows[] = {
	    {"taken", "nickname taken is already taken"},
	    {"TAKEN", "nickname TAKEN is already taken"},
	    {"9lives", "invalid nickname"},
	};
	char wnick[64];

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	tc_send(w, "/nick taken\n");
	REQUIRE(tc_expect(w, "is now known as taken", NULL, 0, T_WAIT_MS) >= 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char addr[64], nick[64], want[256];
		const char *args[] = {addr, "--nick", rows[i].nick, NULL};

		t_port_arg(addr, sizeof(addr), t_srv->port);
		struct tcl *c = tcl_spawn_pipe(args, NULL);
		tcl_type(c, "hello from a guest\n");
		tcl_close_stdin(c);
		int st = tcl_wait_exit(c, T_WAIT_MS);
		CHECKF(t_exited_with(st, 3), "row %zu: status %d", i, st);
		snprintf(want, sizeof(want), "-!- error: %s", rows[i].error);
		CHECKF(c->out.data && strstr(c->out.data, want),
		       "row %zu: out: %s", i, c->out.data);
		snprintf(want, sizeof(want), "parley: --nick %s refused: %s",
			 rows[i].nick, rows[i].error);
		CHECKF(c->err.data &&
			   strncmp(c->err.data, want, strlen(want)) == 0 &&
			   strchr(c->err.data, '\n') ==
			       c->err.data + c->err.len - 1,
		       "row %zu: err: %s", i, c->err.data);
		REQUIRE(t_nick_from(c->out.data, nick, sizeof(nick)) == 0);
		snprintf(want, sizeof(want), "-!- %s quit", nick);
		CHECKF(t_seen_before(w, "hello from a guest", want) == 0,
		       "row %zu: posted as %s, or no quit", i, nick);
		tcl_release(c);
	}
}

/* Against a stand-in server: nothing is sent before the welcome, /nick
 * right after it (unless the welcome gave that name already), and stdin
 * only once the answer is in. */
static void
test_pipe_mode_stdin_waits_for_the_welcome_and_the_nick_answer(void)
{
	static const struct {
		const char *welcome; /* the name the server gives */
		const char *answer;  /* its answer to /nick zed, if asked */
		const char *next;    /* the line it gets next; NULL: EOF */
		int code;
	} rows[] = {
	    {"me", "-!- me is now known as zed", "hello", 0},
	    {"me", "-!- error: nickname zed is already taken", NULL, 3},
	    {"zed", NULL, "hello", 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char addr[64], line[256];
		const char *args[] = {addr, "--nick", "zed", NULL};
		int port, lfd = t_fake_listen(&port), r;

		REQUIRE(lfd >= 0);
		t_port_arg(addr, sizeof(addr), port);
		struct tcl *c = tcl_spawn_pipe(args, NULL);
		int s = t_fake_accept(lfd);
		REQUIRE(s >= 0);
		tcl_type(c, "hello\n");
		tcl_close_stdin(c);
		tc_send(s, "-!- welcome to parley, %s! hi\n-!- %s joined #x\n",
			rows[i].welcome, rows[i].welcome);
		if (rows[i].answer) {
			r = tc_readline(s, line, sizeof(line), T_WAIT_MS);
			CHECKF(r >= 0 && strcmp(line, "/nick zed") == 0,
			       "row %zu: first line: %s", i, line);
			tc_send(s, "%s\n", rows[i].answer);
		}
		r = tc_readline(s, line, sizeof(line), T_WAIT_MS);
		if (rows[i].next)
			CHECKF(r >= 0 && strcmp(line, rows[i].next) == 0 &&
				   tc_readline(s, line, sizeof(line),
					       T_WAIT_MS) == -2,
			       "row %zu: got %d: %s", i, r, line);
		else
			CHECKF(r == -2, "row %zu: got %d: %s", i, r, line);
		shutdown(s, SHUT_WR);
		int st = tcl_wait_exit(c, T_WAIT_MS);
		CHECKF(t_exited_with(st, rows[i].code), "row %zu: status %d", i,
		       st);
		t_cleanup();
	}
}

static void
test_pipe_mode_partial_lines_are_joined_never_split(void)
{
	char addr[64];
	const char *args[] = {addr, NULL};
	int port, lfd = t_fake_listen(&port);

	REQUIRE(lfd >= 0);
	t_port_arg(addr, sizeof(addr), port);
	struct tcl *c = tcl_spawn_pipe(args, NULL);
	int s = t_fake_accept(lfd);
	REQUIRE(s >= 0);
	tc_send(s, "-!- welcome to parley, x! hi\r\n#lobby <a> hel");
	REQUIRE(tcl_wait_out(c, "-!- welcome to parley, x! hi\n", T_WAIT_MS) ==
		0);
	CHECK(strstr(c->out.data, "hel") == NULL);
	tc_send(s, "lo wor");
	tc_send(s, "ld\n#lobby <b> ");
	CHECK(tcl_wait_out(c, "\n#lobby <a> hello world\n", T_WAIT_MS) == 0);
	CHECK(strstr(c->out.data, "<b>") == NULL);
	/* A last line without its newline is still shown, completed. */
	tc_send(s, "bye");
	shutdown(s, SHUT_WR);
	CHECK(tcl_wait_out(c, "\n#lobby <b> bye\n", T_WAIT_MS) == 0);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
}

static void
test_pipe_mode_half_closes_then_gives_up_on_a_silent_server(void)
{
	char addr[64], line[256];
	const char *args[] = {addr, NULL};
	const char *env[] = {"PARLEY_GRACE_MS=100", NULL};
	int port, lfd = t_fake_listen(&port);

	REQUIRE(lfd >= 0);
	t_port_arg(addr, sizeof(addr), port);
	struct tcl *c = tcl_spawn_pipe(args, env);
	int s = t_fake_accept(lfd);
	REQUIRE(s >= 0);
	tcl_type(c, "only line\n");
	tcl_close_stdin(c);
	tc_send(s, "-!- welcome to parley, me! hi\n");
	/* The server sees the line, then EOF (SHUT_WR), and never closes. */
	CHECK(tc_readline(s, line, sizeof(line), T_WAIT_MS) >= 0 &&
	      strcmp(line, "only line") == 0);
	CHECK(tc_readline(s, line, sizeof(line), T_WAIT_MS) == -2);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
}

static void
test_pipe_mode_connects_to_a_bracketed_ipv6_literal(void)
{
	char addr[64];
	const char *args[] = {addr, NULL};

	t_srv = ts_start("--listen [::1]:0");
	REQUIRE(t_srv && t_srv->port6 > 0);
	snprintf(addr, sizeof(addr), "[::1]:%d", t_srv->port6);
	struct tcl *c = tcl_spawn_pipe(args, NULL);
	CHECK(tcl_wait_out(c, "-!- welcome to parley, ", T_WAIT_MS) == 0);
	tcl_close_stdin(c);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
}

/* ---- terminal mode ------------------------------------------------------- */

static void
test_terminal_typed_line_is_sent_and_shown_locally(void)
{
	char nick[64], wnick[64], want[256];

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "hello there\r");
	snprintf(want, sizeof(want), "#lobby <%s> hello there", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
	CHECK(tcl_wait_screen(c, want, T_WAIT_MS) >= 0);
	CHECK(tcl_wait_input(c, "#lobby>", 8, T_WAIT_MS) == 0);
}

/* A screen row "HH:MM " followed by want, at the start of the row. */
static int
t_row_is_stamped(const struct scr *s, const char *want)
{
	char row[T_MAXCOLS * 4 + 1];
	int r = scr_find(s, want);

	if (r < 0)
		return 0;
	scr_row(s, r, row, sizeof(row));
	return strlen(row) > 6 && row[0] >= '0' && row[0] <= '2' &&
	       row[1] >= '0' && row[1] <= '9' && row[2] == ':' &&
	       row[3] >= '0' && row[3] <= '5' && row[4] >= '0' &&
	       row[4] <= '9' && row[5] == ' ' &&
	       strncmp(row + 6, want, strlen(want)) == 0;
}

static void
test_terminal_lines_carry_the_local_time_and_pipes_do_not(void)
{
	char nick[64], wnick[64], want[256], addr[64];
	const char *args[] = {addr, NULL};

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tc_send(w, "what time is it\n");
	snprintf(want, sizeof(want), "#lobby <%s> what time is it", wnick);
	REQUIRE(tcl_wait_screen(c, want, T_WAIT_MS) >= 0);
	CHECKF(t_row_is_stamped(&c->scr, want), "no HH:MM before: %s", want);
	tcl_type(c, "half past\r");
	snprintf(want, sizeof(want), "#lobby <%s> half past", nick);
	REQUIRE(tcl_wait_screen(c, want, T_WAIT_MS) >= 0);
	CHECK(t_row_is_stamped(&c->scr, want));
	/* In a pipe, the server's lines exactly. */
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *p = tcl_spawn_pipe(args, NULL);
	REQUIRE(tcl_wait_out(p, "-!- welcome to parley, ", T_WAIT_MS) == 0);
	/* In the room once its join is shown (it may follow the welcome by
	 * a few milliseconds). */
	REQUIRE(tcl_wait_out(p, " joined #lobby\n", T_WAIT_MS) == 0);
	tc_send(w, "and in a pipe\n");
	snprintf(want, sizeof(want), "\n#lobby <%s> and in a pipe\n", wnick);
	CHECK(tcl_wait_out(p, want, T_WAIT_MS) == 0);
}

static void
test_terminal_incoming_message_leaves_half_typed_line_intact(void)
{
	char nick[64], wnick[64], want[256];

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "half typed");
	REQUIRE(tcl_wait_input(c, "#lobby> half typed", 18, T_WAIT_MS) == 0);
	int input_row = c->scr.row;

	tc_send(w, "interrupting you\n");
	snprintf(want, sizeof(want), "#lobby <%s> interrupting you", wnick);
	int r = tcl_wait_screen(c, want, T_WAIT_MS);
	CHECK(r >= 0);
	/* The message is above the input line, which is unchanged. */
	CHECK(tcl_wait_input(c, "#lobby> half typed", 18, T_WAIT_MS) == 0);
	CHECK(r < c->scr.row);
	CHECK(c->scr.row >= input_row);
	CHECK(scr_find(&c->scr, "half typed") == c->scr.row);

	tcl_type(c, ", now done\r");
	snprintf(want, sizeof(want), "#lobby <%s> half typed, now done", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
}

static void
test_terminal_prompt_and_echo_follow_rooms_and_nick_changes(void)
{
	char nick[64], wnick[64];

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "/nick neo\r");
	CHECK(tcl_wait_screen(c, "is now known as neo", T_WAIT_MS) >= 0);
	tcl_type(c, "/join #side\r");
	CHECK(tcl_wait_input(c, "#side>", 7, T_WAIT_MS) == 0);
	tcl_type(c, "in the side room\r");
	CHECK(tcl_wait_screen(c, "#side <neo> in the side room", T_WAIT_MS) >=
	      0);
	/* Back to a room we are already in: the server says "now talking". */
	tcl_type(c, "/join #lobby\r");
	CHECK(tcl_wait_input(c, "#lobby>", 8, T_WAIT_MS) == 0);
	tcl_type(c, "/me waves\r");
	CHECK(tc_expect(w, "#lobby * neo waves", NULL, 0, T_WAIT_MS) >= 0);
	CHECK(tcl_wait_screen(c, "#lobby * neo waves", T_WAIT_MS) >= 0);
	tcl_type(c, "//slash\r");
	CHECK(tc_expect(w, "#lobby <neo> /slash", NULL, 0, T_WAIT_MS) >= 0);
	CHECK(tcl_wait_screen(c, "#lobby <neo> /slash", T_WAIT_MS) >= 0);
	/* Commands are not echoed as messages. */
	CHECK(scr_find(&c->scr, "<neo> /join") < 0);
}

static void
test_terminal_editing_keys_insert_move_and_delete(void)
{
	char nick[64], wnick[64], want[256];

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "helo");
	tcl_type(c, "\x1b[D");	/* Left */
	tcl_type(c, "l");	/* insert in the middle */
	tcl_type(c, "\x01X");	/* Ctrl-A, insert at the start */
	tcl_type(c, "\x1b[F!"); /* End */
	CHECK(tcl_wait_input(c, "#lobby> Xhello!", 15, T_WAIT_MS) == 0);
	tcl_type(c, "\x1b[H\x1b[3~"); /* Home, Delete */
	tcl_type(c, "\x05\x7f");      /* Ctrl-E, Backspace */
	CHECK(tcl_wait_input(c, "#lobby> hello", 13, T_WAIT_MS) == 0);
	tcl_type(c, " big world\x17"); /* Ctrl-W deletes "world" */
	CHECK(tcl_wait_input(c, "#lobby> hello big", 18, T_WAIT_MS) == 0);
	tcl_type(c, "\x02\x02\x02\x0b"); /* back 3, Ctrl-K */
	CHECK(tcl_wait_input(c, "#lobby> hello b", 15, T_WAIT_MS) == 0);
	tcl_type(c, "\x15"); /* Ctrl-U */
	CHECK(tcl_wait_input(c, "#lobby>", 8, T_WAIT_MS) == 0);
	tcl_type(c, "edited fine\x1bOH>\r"); /* SS3 Home */
	snprintf(want, sizeof(want), "#lobby <%s> >edited fine", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
}

static void
test_terminal_wide_characters_take_two_columns(void)
{
	char nick[64], wnick[64], want[256];

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "日本");
	CHECK(tcl_wait_input(c, "#lobby> 日本", 8 + 4, T_WAIT_MS) == 0);
	tcl_type(c, "\x1b[D"); /* back over one wide character */
	CHECK(tcl_wait_input(c, "#lobby> 日本", 8 + 2, T_WAIT_MS) == 0);
	tcl_type(c, "x");
	CHECK(tcl_wait_input(c, "#lobby> 日x本", 8 + 3, T_WAIT_MS) == 0);
	tcl_type(c, "\x1b[F😀é");
	CHECK(tcl_wait_input(c, "#lobby> 日x本😀é", 8 + 8, T_WAIT_MS) == 0);
	tcl_type(c, "\x7f\x7f"); /* Backspace removes whole characters */
	CHECK(tcl_wait_input(c, "#lobby> 日x本", 8 + 5, T_WAIT_MS) == 0);
	tcl_type(c, "\r");
	snprintf(want, sizeof(want), "#lobby <%s> 日x本", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
}

static void
test_terminal_history_recalls_earlier_lines(void)
{
	char nick[64], wnick[64], want[256];

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "first\rsecond\r");
	snprintf(want, sizeof(want), "#lobby <%s> second", nick);
	REQUIRE(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
	tcl_type(c, "draft\x1b[A");
	CHECK(tcl_wait_input(c, "#lobby> second", 14, T_WAIT_MS) == 0);
	tcl_type(c, "\x1b[A");
	CHECK(tcl_wait_input(c, "#lobby> first", 13, T_WAIT_MS) == 0);
	tcl_type(c, "\x1b[B\x1b[B");
	CHECK(tcl_wait_input(c, "#lobby> draft", 13, T_WAIT_MS) == 0);
	tcl_type(c, "\x15\x1b[A\x1b[A again\r");
	snprintf(want, sizeof(want), "#lobby <%s> first again", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
}

static void
test_terminal_ctrl_d_quits_and_restores_the_terminal(void)
{
	char nick[64], wnick[64], want[256];
	struct termios t;

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	REQUIRE(tcgetattr(c->pty_fd, &t) == 0);
	CHECK((t.c_lflag & (ICANON | ECHO)) == 0);
	tcl_type(c, "abc\x04\x04"); /* not on a non-empty line */
	CHECK(tcl_wait_input(c, "#lobby> abc", 11, T_WAIT_MS) == 0);
	tcl_type(c, "\x15\x04"); /* on an empty line it leaves */
	snprintf(want, sizeof(want), "-!- %s quit", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	/* The terminal was put back in cooked mode. */
	CHECK(tcgetattr(c->pty_fd, &t) == 0 && (t.c_lflag & ICANON) &&
	      (t.c_lflag & ECHO));
}

static void
test_terminal_ctrl_z_stops_like_a_job_and_fg_resumes_the_line(void)
{
	char addr[64], nick[64], wnick[64], want[256];
	const char *args[] = {addr, NULL};
	struct termios t;

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pty_as(args, NULL, T_ROWS, T_COLS, 1);
	REQUIRE(tcl_wait_input(c, "#lobby>", 8, T_WAIT_MS) == 0);
	REQUIRE(t_nick_from(c->out.data, nick, sizeof(nick)) == 0);
	pid_t pid = t_only_child(c->pid);
	REQUIRE(pid > 0);
	tcl_type(c, "half");
	REQUIRE(tcl_wait_input(c, "#lobby> half", 12, T_WAIT_MS) == 0);
	tcl_type(c, "\x1a");
	CHECKF(t_wait_state(c, pid, 'T', T_WAIT_MS) == 0,
	       "Ctrl-Z did not stop the client (state %c)", t_proc_state(pid));
	/* Stopped: the terminal is as the shell left it, the line wiped. */
	CHECK(tcgetattr(c->pty_fd, &t) == 0 && (t.c_lflag & ICANON) &&
	      (t.c_lflag & ECHO));
	(void)tcl_pump(c, 100);
	CHECK(scr_find(&c->scr, "half") < 0);
	kill(pid, SIGCONT);
	/* Continued: raw mode again, the half-typed line back. */
	CHECK(tcl_wait_input(c, "#lobby> half", 12, T_WAIT_MS) == 0);
	CHECK(tcgetattr(c->pty_fd, &t) == 0 && (t.c_lflag & ICANON) == 0);
	tcl_type(c, " done\r");
	snprintf(want, sizeof(want), "#lobby <%s> half done", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
}

static void
test_terminal_dumb_is_line_mode_without_escape_sequences(void)
{
	char addr[64], nick[64], wnick[64], want[256];
	const char *args[] = {addr, NULL};
	const char *dumb[] = {"TERM=dumb", NULL};
	struct termios t;

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pty(args, dumb, T_ROWS, T_COLS);
	REQUIRE(tcl_wait_screen(c, "-!- welcome to parley, ", T_WAIT_MS) >= 0);
	REQUIRE(t_nick_from(c->out.data, nick, sizeof(nick)) == 0);
	/* The terminal stays cooked: it echoes and edits the line itself. */
	REQUIRE(tcgetattr(c->pty_fd, &t) == 0);
	CHECK((t.c_lflag & ICANON) && (t.c_lflag & ECHO));
	tcl_type(c, "plain words\r");
	snprintf(want, sizeof(want), "#lobby <%s> plain words", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
	tc_send(w, "back to you\n");
	snprintf(want, sizeof(want), "#lobby <%s> back to you", wnick);
	CHECK(tcl_wait_screen(c, want, T_WAIT_MS) >= 0);
	CHECKF(memchr(c->out.data, 0x1b, c->out.len) == NULL,
	       "an escape sequence reached a dumb terminal: %s", c->out.data);
}

static void
test_terminal_ctrl_c_quits(void)
{
	char nick[64], wnick[64], want[256];

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "never sent\x03");
	snprintf(want, sizeof(want), "-!- %s quit", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	CHECK(strstr(c->out.data, "never sent") != NULL); /* it was typed */
}

static void
test_terminal_nick_colours_are_stable_and_no_color_turns_them_off(void)
{
	char nick[64], wnick[64], want[256], *first, *second;
	const char *no_colour[] = {"NO_COLOR=1", NULL};

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tc_send(w, "one\n");
	tc_send(w, "two\n");
	snprintf(want, sizeof(want), "#lobby <%s> two", wnick);
	REQUIRE(tcl_wait_screen(c, want, T_WAIT_MS) >= 0);
	/* The raw bytes: the nick is wrapped in the same SGR both times. */
	snprintf(want, sizeof(want), "%s\x1b[0m> one", wnick);
	first = strstr(c->out.data, want);
	snprintf(want, sizeof(want), "%s\x1b[0m> two", wnick);
	second = strstr(c->out.data, want);
	REQUIRE(first && second && first - c->out.data > 5);
	CHECK(first[-1] == 'm' && memcmp(first - 5, "\x1b[", 2) == 0);
	CHECK(memcmp(first - 5, second - 5, 5) == 0);

	struct tcl *plain = t_pty_client(no_colour, nick, sizeof(nick));
	REQUIRE(plain);
	tc_send(w, "three\n");
	snprintf(want, sizeof(want), "#lobby <%s> three", wnick);
	REQUIRE(tcl_wait_screen(plain, want, T_WAIT_MS) >= 0);
	CHECK(!t_has_sgr(plain->out.data));

	snprintf(want, sizeof(want), "<%s>", wnick);
	CHECK(strstr(plain->out.data, want) != NULL);
}

static void
test_terminal_resize_keeps_the_cursor_on_screen(void)
{
	char nick[64], wnick[64], want[256], typed[100];
	struct winsize ws = {.ws_row = T_ROWS, .ws_col = 40};

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	for (int i = 0; i < 60; i++)
		typed[i] = (char)('a' + i % 26);
	typed[60] = '\0';
	tcl_type(c, typed);
	CHECK(tcl_wait_screen(c, "#lobby> abcdefghijklmnopqrstuvwxyzabcd",
			      T_WAIT_MS) >= 0);
	/* The kernel sends SIGWINCH to the client on a size change. */
	scr_init(&c->scr, T_ROWS, 40);
	REQUIRE(ioctl(c->pty_fd, TIOCSWINSZ, &ws) == 0);
	/* Scrolled so the cursor, after the last character, stays inside
	 * 40 columns: 31 columns of text after the 8-column prompt. */
	snprintf(want, sizeof(want), "#lobby> %s", typed + 60 - 31);
	CHECK(tcl_wait_input(c, want, 39, T_WAIT_MS) == 0);
	tcl_type(c, "\x01");
	CHECK(tcl_wait_input(c, "#lobby> abcdefghijklmnopqrstuvwxyzabcde", 8,
			     T_WAIT_MS) == 0);
	tcl_type(c, "\r");
	snprintf(want, sizeof(want), "#lobby <%s> %s", nick, typed);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
}

static void
test_terminal_sigterm_restores_the_terminal_and_exits(void)
{
	char nick[64];
	struct termios t;

	REQUIRE(t_server());
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "typed");
	REQUIRE(tcl_wait_input(c, "#lobby> typed", 13, T_WAIT_MS) == 0);
	kill(c->pid, SIGTERM);
	int st = tcl_wait_exit(c, T_WAIT_MS);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM);
	CHECK(tcgetattr(c->pty_fd, &t) == 0 && (t.c_lflag & ICANON));
	/* The half-typed line was wiped, not left behind. */
	CHECK(scr_find(&c->scr, "typed") < 0);
}

static void
test_terminal_server_close_is_a_clear_line_and_exit(void)
{
	char nick[64];

	REQUIRE(t_server());
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	tcl_type(c, "unsent");
	REQUIRE(tcl_wait_input(c, "#lobby> unsent", 14, T_WAIT_MS) == 0);
	CHECK(ts_stop(t_srv, SIGTERM, T_WAIT_MS) >= 0);
	CHECK(tcl_wait_screen(c, "-!- server shutting down", T_WAIT_MS) >= 0);
	CHECK(tcl_wait_screen(c, "connection closed by server", T_WAIT_MS) >=
	      0);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
}

static void
test_terminal_ctrl_c_before_the_welcome_sends_nothing_and_exits_0(void)
{
	char addr[64], line[256];
	const char *args[] = {addr, NULL};
	int port, lfd = t_fake_listen(&port);

	REQUIRE(lfd >= 0);
	t_port_arg(addr, sizeof(addr), port);
	struct tcl *c = tcl_spawn_pty(args, NULL, T_ROWS, T_COLS);
	int s = t_fake_accept(lfd);
	REQUIRE(s >= 0);
	REQUIRE(tcl_wait_input(c, ">", 2, T_WAIT_MS) == 0);
	tcl_type(c, "\x03");
	CHECKF(tc_readline(s, line, sizeof(line), T_WAIT_MS) == -2,
	       "the server got: %s", line);
	shutdown(s, SHUT_WR);
	CHECK(t_exited_zero(tcl_wait_exit(c, T_WAIT_MS)));
	CHECK(scr_find(&c->scr, "refused") < 0);
}

static void
test_terminal_a_refused_connection_is_shown_and_exits_3(void)
{
	char addr[64];
	const char *args[] = {addr, NULL};

	REQUIRE(t_server_with("--max-clients 1"));
	REQUIRE(t_watcher(NULL, 0) >= 0);
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pty(args, NULL, T_ROWS, T_COLS);
	CHECK(tcl_wait_screen(c, "-!- server full, try again later",
			      T_WAIT_MS) >= 0);
	CHECK(tcl_wait_screen(c,
			      "-!- parley: refused by the server: server "
			      "full",
			      T_WAIT_MS) >= 0);
	CHECK(t_exited_with(tcl_wait_exit(c, T_WAIT_MS), 3));
}

static void
test_terminal_a_refused_nick_is_shown_and_the_session_goes_on(void)
{
	char addr[64], nick[64], wnick[64], want[256];
	const char *args[] = {addr, "--nick", "taken", NULL};

	REQUIRE(t_server());
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	tc_send(w, "/nick taken\n");
	REQUIRE(tc_expect(w, "is now known as taken", NULL, 0, T_WAIT_MS) >= 0);
	t_port_arg(addr, sizeof(addr), t_srv->port);
	struct tcl *c = tcl_spawn_pty(args, NULL, T_ROWS, T_COLS);
	CHECK(tcl_wait_screen(c, "-!- error: nickname taken is already taken",
			      T_WAIT_MS) >= 0);
	REQUIRE(t_nick_from(c->out.data, nick, sizeof(nick)) == 0);
	snprintf(want, sizeof(want),
		 "-!- parley: --nick taken refused; you "
		 "are %s",
		 nick);
	CHECK(tcl_wait_screen(c, want, T_WAIT_MS) >= 0);
	CHECK(tcl_wait_input(c, "#lobby>", 8, T_WAIT_MS) == 0);
	tcl_type(c, "still here\r");
	snprintf(want, sizeof(want), "#lobby <%s> still here", nick);
	CHECK(tc_expect(w, want, NULL, 0, T_WAIT_MS) >= 0);
}

/* Against a stand-in server: a line entered before the answer to --nick
 * waits for it; it goes out under the new name, or not at all. */
static void
test_terminal_lines_entered_before_the_nick_answer_wait_for_it(void)
{
	static const struct {
		const char *answer;
		const char *shown; /* on the screen after the answer */
		const char *next;  /* the next line the server gets */
	} rows[] = {
	    {"-!- me is now known as zed", "#x <zed> early", "early"},
	    {"-!- error: nickname zed is already taken",
	     "not sent: 1 line entered meanwhile (Up recalls it)", "after"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char addr[64], line[256];
		const char *args[] = {addr, "--nick", "zed", NULL};
		int port, lfd = t_fake_listen(&port);

		REQUIRE(lfd >= 0);
		t_port_arg(addr, sizeof(addr), port);
		struct tcl *c = tcl_spawn_pty(args, NULL, T_ROWS, T_COLS);
		int s = t_fake_accept(lfd);
		REQUIRE(s >= 0);
		tc_send(s, "-!- welcome to parley, me! hi\n-!- me joined #x\n");
		CHECK(tc_readline(s, line, sizeof(line), T_WAIT_MS) >= 0 &&
		      strcmp(line, "/nick zed") == 0);
		REQUIRE(tcl_wait_input(c, "#x>", 4, T_WAIT_MS) == 0);
		tcl_type(c, "early");
		REQUIRE(tcl_wait_input(c, "#x> early", 9, T_WAIT_MS) == 0);
		tcl_type(c, "\r");
		REQUIRE(tcl_wait_input(c, "#x>", 4, T_WAIT_MS) == 0);
		tc_send(s, "%s\n", rows[i].answer);
		CHECKF(tcl_wait_screen(c, rows[i].shown, T_WAIT_MS) >= 0,
		       "row %zu", i);
		tcl_type(c, "after\r");
		CHECKF(tc_readline(s, line, sizeof(line), T_WAIT_MS) >= 0 &&
			   strcmp(line, rows[i].next) == 0,
		       "row %zu: the server got: %s", i, line);
		t_cleanup();
	}
}

/* n letters a-z, repeated, then a NUL. */
static void
t_letters(char *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = (char)('a' + i % 26);
	out[n] = '\0';
}

/* parleyd --max-line 100: a 150-byte line is refused by the server. Its
 * echo is replaced by the error and the line comes back to the input line;
 * from then on the client refuses longer lines itself. */
static void
test_terminal_a_line_the_server_finds_too_long_is_not_shown_as_said(void)
{
	char nick[64], wnick[64], want[512], typed[151], shorter[121];

	REQUIRE(t_server_with("--max-line 100"));
	int w = t_watcher(wnick, sizeof(wnick));
	REQUIRE(w >= 0);
	struct tcl *c = t_pty_client(NULL, nick, sizeof(nick));
	REQUIRE(c);
	t_letters(typed, 150);
	tcl_type(c, typed);
	tcl_type(c, "\r");
	CHECK(tcl_wait_screen(
		  c, "-!- error: line too long (max 100 bytes); discarded",
		  T_WAIT_MS) >= 0);
	snprintf(want, sizeof(want), "#lobby <%s>", nick);
	CHECKF(scr_find(&c->scr, want) < 0, "the echo stayed");
	/* Back in the input line, scrolled to its end (71 columns shown). */
	snprintf(want, sizeof(want), "#lobby> %s", typed + 150 - 71);
	CHECK(tcl_wait_input(c, want, 79, T_WAIT_MS) == 0);
	/* Shortened, but not enough: refused here, never sent. */
	tcl_type(c, "\x15");
	t_letters(shorter, 120);
	tcl_type(c, shorter);
	tcl_type(c, "\r");
	CHECK(tcl_wait_screen(c,
			      "-!- parley: line too long for this server "
			      "(120 bytes, max 100); not sent",
			      T_WAIT_MS) >= 0);
	snprintf(want, sizeof(want), "#lobby> %s", shorter + 120 - 71);
	CHECK(tcl_wait_input(c, want, 79, T_WAIT_MS) == 0);
	tcl_type(c, "\x15short enough\r");
	snprintf(want, sizeof(want), "#lobby <%s> short enough", nick);
	CHECK(tcl_wait_screen(c, want, T_WAIT_MS) >= 0);
	CHECK(t_seen_before(w, "abcdefghijklmnopqrst", "short enough") == 0);
}

/* Against a stand-in server: when another line came between the echo and
 * the error, the echo stays, and a notice says that line was not sent. */
static void
test_terminal_a_too_long_line_whose_echo_is_not_last_is_marked(void)
{
	char addr[64], line[256], typed[151];
	const char *args[] = {addr, NULL};
	int port, lfd = t_fake_listen(&port);

	REQUIRE(lfd >= 0);
	t_port_arg(addr, sizeof(addr), port);
	struct tcl *c = tcl_spawn_pty(args, NULL, T_ROWS, T_COLS);
	int s = t_fake_accept(lfd);
	REQUIRE(s >= 0);
	tc_send(s, "-!- welcome to parley, me! hi\n-!- me joined #x\n");
	REQUIRE(tcl_wait_input(c, "#x>", 4, T_WAIT_MS) == 0);
	t_letters(typed, 150);
	tcl_type(c, typed);
	tcl_type(c, "\r");
	REQUIRE(tc_readline(s, line, sizeof(line), T_WAIT_MS) == 150);
	tc_send(s, "#x <bob> meanwhile\n-!- error: line too long (max 100 "
		   "bytes); discarded\n");
	CHECK(tcl_wait_screen(c,
			      "-!- parley: not sent (too long): "
			      "\"abcdefghijklmnopqrstuvwxyzabcd...\"",
			      T_WAIT_MS) >= 0);
	CHECK(scr_find(&c->scr, "#x <me> abcdefghij") >= 0);
	CHECK(scr_find(&c->scr, "#x <bob> meanwhile") >= 0);
}

static void
test_terminal_control_characters_from_the_network_are_stripped(void)
{
	char addr[64];
	const char *args[] = {addr, NULL};
	int port, lfd = t_fake_listen(&port);

	REQUIRE(lfd >= 0);
	t_port_arg(addr, sizeof(addr), port);
	struct tcl *c = tcl_spawn_pty(args, NULL, T_ROWS, T_COLS);
	int s = t_fake_accept(lfd);
	REQUIRE(s >= 0);
	tc_send(s, "-!- welcome to parley, me! hi\n-!- me joined #x\n");
	REQUIRE(tcl_wait_input(c, "#x>", 4, T_WAIT_MS) == 0);
	tc_send(s, "#x <evil> a\x1b[2Jb\x07"
		   "c\x1b]0;title\x07"
		   "d\xc2\x9b"
		   "31me\xff!\n");
	CHECK(tcl_wait_screen(c, "#x <evil> a[2Jbc]0;titled31me\xef\xbf\xbd!",
			      T_WAIT_MS) >= 0);
	CHECK(strstr(c->out.data, "\x1b[2J") == NULL);
	CHECK(strstr(c->out.data, "\x1b]") == NULL);
	CHECK(strstr(c->out.data, "\x07") == NULL);
	CHECK(strstr(c->out.data, "\xc2\x9b") == NULL);
	CHECK(tcl_wait_input(c, "#x>", 4, T_WAIT_MS) == 0);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		tl_filter = argv[1]; /* run only tests whose names hold it */
	T_RUN(test_help_and_version_print_and_exit_zero);
	T_RUN(test_connection_refused_is_one_clear_line_and_nonzero_exit);
	T_RUN(test_usage_errors_exit_2_with_one_clear_line_first);
	T_RUN(test_pipe_mode_partial_lines_are_joined_never_split);
	T_RUN(test_pipe_mode_half_closes_then_gives_up_on_a_silent_server);
	T_RUN(test_terminal_control_characters_from_the_network_are_stripped);
	T_RUN(test_pipe_mode_sends_stdin_lines_and_prints_server_lines_exactly);
	T_RUN(test_pipe_mode_a_burst_in_odd_chunks_arrives_whole_and_in_order);
	T_RUN(test_pipe_mode_nick_option_renames_right_after_connecting);
	T_RUN(test_pipe_mode_stdin_eof_sends_last_line_and_exits_zero);
	T_RUN(test_pipe_mode_server_shutdown_is_shown_and_the_client_exits);
	T_RUN(test_pipe_mode_reports_the_close_after_the_servers_last_lines);
	T_RUN(
	    test_pipe_mode_a_refused_connection_exits_3_with_one_line_on_stderr);
	T_RUN(test_pipe_mode_a_refused_nick_exits_3_and_posts_nothing);
	T_RUN(test_pipe_mode_stdin_waits_for_the_welcome_and_the_nick_answer);
	T_RUN(test_pipe_mode_connects_to_a_bracketed_ipv6_literal);
	T_RUN(test_terminal_typed_line_is_sent_and_shown_locally);
	T_RUN(test_terminal_lines_carry_the_local_time_and_pipes_do_not);
	T_RUN(test_terminal_incoming_message_leaves_half_typed_line_intact);
	T_RUN(test_terminal_prompt_and_echo_follow_rooms_and_nick_changes);
	T_RUN(test_terminal_editing_keys_insert_move_and_delete);
	T_RUN(test_terminal_wide_characters_take_two_columns);
	T_RUN(test_terminal_history_recalls_earlier_lines);
	T_RUN(test_terminal_ctrl_d_quits_and_restores_the_terminal);
	T_RUN(test_terminal_ctrl_z_stops_like_a_job_and_fg_resumes_the_line);
	T_RUN(test_terminal_dumb_is_line_mode_without_escape_sequences);
	T_RUN(test_terminal_ctrl_c_quits);
	T_RUN(
	    test_terminal_nick_colours_are_stable_and_no_color_turns_them_off);
	T_RUN(test_terminal_resize_keeps_the_cursor_on_screen);
	T_RUN(test_terminal_sigterm_restores_the_terminal_and_exits);
	T_RUN(test_terminal_server_close_is_a_clear_line_and_exit);
	T_RUN(
	    test_terminal_ctrl_c_before_the_welcome_sends_nothing_and_exits_0);
	T_RUN(test_terminal_a_refused_connection_is_shown_and_exits_3);
	T_RUN(test_terminal_a_refused_nick_is_shown_and_the_session_goes_on);
	T_RUN(test_terminal_lines_entered_before_the_nick_answer_wait_for_it);
	T_RUN(
	    test_terminal_a_line_the_server_finds_too_long_is_not_shown_as_said);
	T_RUN(test_terminal_a_too_long_line_whose_echo_is_not_last_is_marked);
	return tl_summary("test_client");
}
