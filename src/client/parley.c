/*
 * parley: the terminal client. One process, one poll() loop over the
 * terminal (or stdin/stdout pipes), the server socket and a signal
 * self-pipe; all of them non-blocking, output queued and written when
 * ready. Server bytes are framed into whole lines before anything is shown.
 */
#include "client/chat.h"
#include "client/parley.h"
#include "client/screen.h"
#include "client/term.h"
#include "client/tls.h"
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long
parley_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- input --------------------------------------------------------------- */

static int parley_set_nonblock(int fd, int *saved);

/* Gives the terminal (or pipes) back as they were found: the input line
 * wiped, the shared file flags restored, what is queued written out in
 * full (blocking again), cooked mode. */
static void
parley_release_terminal(struct parley *p)
{
	screen_hide_input(p);
	if (p->out_flags >= 0)
		(void)fcntl(p->out_fd, F_SETFL, p->out_flags);
	if (!p->out_dead)
		(void)queue_flush(&p->outq, p->out_fd, 0);
	if (p->in_flags >= 0)
		(void)fcntl(p->in_fd, F_SETFL, p->in_flags);
	term_restore();
}

/* Ctrl-Z or SIGTSTP: hand the terminal back, stop like any shell job, and
 * take it again when continued (fg). */
static void
parley_suspend(struct parley *p)
{
	int err;

	if (!p->tty)
		return;
	parley_release_terminal(p);
	p->echo_rows = 0; /* the shell may write below it */
	term_stop();
	err = term_raw_enable(p->in_fd);
	if (err < 0) {
		fprintf(stderr, "parley: terminal: %s\n", strerror(-err));
		p->exit_code = PARLEY_EXIT_CONN;
		return;
	}
	(void)parley_set_nonblock(p->in_fd, &p->in_flags);
	(void)parley_set_nonblock(p->out_fd, &p->out_flags);
	p->cols = term_columns(p->out_fd);
	screen_show_input(p);
}

static void
parley_on_key(struct parley *p, unsigned char c)
{
	switch (editor_feed(&p->ed, c)) {
	case EDITOR_NONE:
		break;
	case EDITOR_CHANGED:
		screen_show_input(p);
		break;
	case EDITOR_SUBMIT:
		chat_submit(p, editor_line(&p->ed));
		screen_show_input(p);
		break;
	case EDITOR_EOF:
	case EDITOR_INTERRUPT:
		if (p->stage != PARLEY_GREETING) /* else nothing is sent */
			chat_send_line(p, "/quit");
		chat_leave(p);
		break;
	case EDITOR_CLEAR:
		queue_puts(&p->outq, "\x1b[H\x1b[2J");
		p->echo_rows = 0;
		screen_show_input(p);
		break;
	case EDITOR_SUSPEND:
		parley_suspend(p);
		break;
	}
}

static void
parley_read_input(struct parley *p)
{
	char buf[4096];
	ssize_t n;

	do {
		n = read(p->in_fd, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		/* End of input: finish a last line without its newline. */
		if (!p->tty && p->last_in && p->last_in != '\n')
			queue_append(&p->sendq, "\n", 1);
		chat_leave(p);
		return;
	}
	if (!p->tty) {
		queue_append(&p->sendq, buf, (size_t)n);
		p->last_in = buf[n - 1];
		return;
	}
	for (ssize_t i = 0; i < n && !p->closing; i++)
		parley_on_key(p, (unsigned char)buf[i]);
}

/* ---- the server socket --------------------------------------------------- */

static void
parley_frame_lines(struct parley *p)
{
	struct queue *b = &p->sockin;
	size_t start = 0;
	char *nl;

	while ((nl = memchr(b->data + start, '\n', b->len - start)) != NULL) {
		chat_on_server_line(p, b->data + start,
				    (size_t)(nl - (b->data + start)));
		start = (size_t)(nl - b->data) + 1;
	}
	queue_consume(b, start);
	if (b->len >= PARLEY_LINE_MAX) {
		/* Bounded memory beats a whole line this long. */
		chat_on_server_line(p, b->data, b->len);
		b->len = 0;
	}
}

/* The count, 0 at the end, -EAGAIN, or -errno. */
static ssize_t
parley_sock_read(struct parley *p, char *buf, size_t len)
{
	ssize_t n;

	if (p->tls)
		return tls_read(p->tls, buf, len);
	do {
		n = recv(p->sock_fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static void
parley_read_socket(struct parley *p)
{
	char buf[16384];
	ssize_t n;

	while (p->outq.len < PARLEY_QUEUE_MAX) {
		n = parley_sock_read(p, buf, sizeof(buf));
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			p->sock_err = n < 0 ? (int)-n : 0;
			p->sock_eof = 1;
			if (p->sockin.len > 0) /* a last line without LF */
				chat_on_server_line(p, p->sockin.data,
						    p->sockin.len);
			p->sockin.len = 0;
			return;
		}
		queue_append(&p->sockin, buf, (size_t)n);
		parley_frame_lines(p);
	}
}

/* Writes what the socket takes now. 0, or -errno when it is broken. */
static int
parley_sock_flush(struct parley *p)
{
	if (!p->tls)
		return queue_flush(&p->sendq, p->sock_fd, 1);
	while (p->sendq.len > 0) {
		ssize_t n = tls_write(p->tls, p->sendq.data, p->sendq.len);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		queue_consume(&p->sendq, (size_t)n);
	}
	return 0;
}

static void
parley_write_socket(struct parley *p)
{
	if (parley_sock_flush(p) < 0)
		p->sendq.len = 0; /* the read side will see why */
	if (p->closing && p->sendq.len == 0 && !p->shut_wr) {
		if (p->tls)
			(void)tls_shutdown(p->tls); /* close_notify, then FIN */
		(void)shutdown(p->sock_fd, SHUT_WR);
		p->shut_wr = 1;
		p->deadline_ms = parley_now_ms() + p->grace_ms;
	}
}

/* ---- the loop ------------------------------------------------------------ */

static void
parley_on_signal(struct parley *p)
{
	int sig;

	while ((sig = term_signals_next(p->sig_fd)) != 0) {
		if (sig == SIGWINCH) {
			p->cols = term_columns(p->out_fd);
			p->echo_rows = 0; /* the terminal may rewrap it */
			if (p->input_shown)
				screen_show_input(p);
		} else if (sig == SIGTSTP) {
			if (p->tty)
				parley_suspend(p);
			else
				term_stop();
		} else {
			p->exit_code = 128 + sig;
		}
	}
}

static void
parley_flush_out(struct parley *p)
{
	if (p->out_dead)
		p->outq.len = 0;
	else if (queue_flush(&p->outq, p->out_fd, 0) < 0) {
		p->out_dead = 1;
		p->exit_code = PARLEY_EXIT_CONN;
	}
	screen_flush_errors(p);
}

static int
parley_finished(const struct parley *p)
{
	/* A signal, or nowhere left to show anything. */
	if (p->exit_code || p->out_dead)
		return 1;
	return p->sock_eof && (p->outq.len == 0 || p->out_dead);
}

static int
parley_poll_timeout(const struct parley *p)
{
	long long left;

	if (!p->shut_wr || p->sock_eof)
		return -1;
	left = p->deadline_ms - parley_now_ms();
	return left > 0 ? (int)left : 0;
}

static void
parley_run(struct parley *p)
{
	struct pollfd pfd[4];
	int n, i_sock, i_in, i_out;

	while (!parley_finished(p)) {
		n = 0;
		i_sock = i_in = i_out = -1;
		pfd[n++] = (struct pollfd){.fd = p->sig_fd, .events = POLLIN};
		short ev = 0;
		/* Bytes the TLS library has already decrypted are not on
		 * the socket: poll would not say. */
		int buffered = p->tls && !p->sock_eof &&
			       p->outq.len < PARLEY_QUEUE_MAX &&
			       tls_has_pending(p->tls);
		if (!p->sock_eof && p->outq.len < PARLEY_QUEUE_MAX)
			ev |= POLLIN;
		if (!p->sock_eof &&
		    (p->sendq.len > 0 || (p->tls && tls_wants_write(p->tls))))
			ev |= POLLOUT;
		/* Not even polled while stdout is backed up: a hang-up would
		 * be reported again and again before we read it. */
		if (ev) {
			i_sock = n;
			pfd[n++] =
			    (struct pollfd){.fd = p->sock_fd, .events = ev};
		}
		/* Piped input waits in its pipe until the greeting is done;
		 * the editor holds what is entered meanwhile. */
		if (!p->closing && p->sendq.len < PARLEY_QUEUE_MAX &&
		    p->held.len < PARLEY_QUEUE_MAX &&
		    (p->tty || p->stage == PARLEY_READY)) {
			i_in = n;
			pfd[n++] =
			    (struct pollfd){.fd = p->in_fd, .events = POLLIN};
		}
		if (p->outq.len > 0 && !p->out_dead) {
			i_out = n;
			pfd[n++] =
			    (struct pollfd){.fd = p->out_fd, .events = POLLOUT};
		}
		if (poll(pfd, (nfds_t)n,
			 buffered ? 0 : parley_poll_timeout(p)) < 0) {
			if (errno == EINTR)
				continue;
			perror("parley: poll");
			p->exit_code = PARLEY_EXIT_CONN;
			break;
		}
		if (pfd[0].revents)
			parley_on_signal(p);
		if (i_in >= 0 && pfd[i_in].revents)
			parley_read_input(p);
		if (i_sock >= 0 &&
		    ((pfd[i_sock].revents & ~POLLOUT) || buffered ||
		     (p->tls && tls_wants_write(p->tls) &&
		      pfd[i_sock].revents))) {
			parley_read_socket(p);
			if (p->sock_eof)
				chat_on_end(p);
		}
		if (!p->sock_eof)
			parley_write_socket(p);
		if (p->shut_wr && !p->sock_eof &&
		    parley_now_ms() >= p->deadline_ms)
			p->sock_eof = 1; /* the grace period is over */
		if (!p->input_shown && !p->sock_eof)
			screen_show_input(p);
		/* Written directly; POLLOUT is asked for only while bytes
		 * remain. */
		if (p->outq.len > 0)
			parley_flush_out(p);
	}
}

/* ---- start and end ------------------------------------------------------- */

/* What the command line and the environment asked for. */
struct parley_args {
	const char *nick; /* NULL: keep the name the server gives */
	const char *addr;
	int tls;
	struct tls_opts tls_opts;
	char host[256];
	int port;
	int grace_ms;
};

static void
parley_usage(FILE *f)
{
	fprintf(f,
		"usage: parley [HOST[:PORT]] [--nick NAME]\n"
		"       parley --tls [--ca FILE | --insecure] [HOST[:PORT]] "
		"[--nick NAME]\n"
		"       parley --help | --version\n"
		"\n"
		"Connects to a parley chat server (default localhost:%d; "
		"IPv6 literals in\n"
		"brackets: [::1]:%d). On a terminal: a line editor; in a "
		"pipe: stdin lines\n"
		"are sent and the server's lines are printed as they are.\n"
		"\n"
		"  -n, --nick NAME  send /nick NAME after the welcome; "
		"input waits for the\n"
		"                   answer (refused in a pipe: exit 3, "
		"nothing sent)\n"
		"      --tls        connect with TLS (default port %d); the "
		"server's\n"
		"                   certificate and name are verified "
		"against the\n"
		"                   system's trusted CAs\n"
		"      --ca FILE    trust the CA certificates in FILE "
		"instead\n"
		"      --insecure   do not verify the certificate (and say "
		"so)\n"
		"  -h, --help       show this help\n"
		"  -V, --version    show the version\n"
		"\n"
		"Keys: Ctrl-Z suspends, Ctrl-C or Ctrl-D on an empty line "
		"quits.\n"
		"Environment: NO_COLOR (non-empty: no colour), TERM (unset "
		"or dumb: line\n"
		"by line, no escape sequences), PARLEY_GRACE_MS (how long "
		"to wait for the\n"
		"server after input ends, 0-600000, default %d).\n"
		"Exit status: 0 done; 1 no connection, or it, stdout or the "
		"terminal broke;\n"
		"2 usage error; 3 refused by the server (the connection, or "
		"--nick in a\n"
		"pipe); 128+N ended by signal N.\n",
		NET_DEFAULT_PORT, NET_DEFAULT_PORT, PARLEY_TLS_PORT,
		PARLEY_GRACE_MS);
}

/* Prints "parley: PROBLEM" on stderr; returns the usage exit code. */
static int parley_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
parley_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("parley: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PARLEY_EXIT_USAGE;
}

/* PARLEY_GRACE_MS: unset or empty means the default; else 0-600000, or
 * -1 for anything else. */
static int
parley_grace_ms(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return PARLEY_GRACE_MS;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno || v > 600000)
		return -1;
	return (int)v;
}

/* An unbracketed IPv6 address ending in ":DIGITS", such as "::1:5050", is
 * itself a valid address, but almost surely means [::1]:5050. Writes that
 * reading into out and returns 1 when addr looks like that. A bare "::1"
 * or "fe80::1" does not. */
static int
parley_v6_needs_brackets(const char *addr, char *out, size_t out_len)
{
	const char *colon = strrchr(addr, ':');
	char host[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	size_t hl;

	if (addr[0] == '[' || !colon || strchr(addr, ':') == colon)
		return 0;
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host) || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5)
		return 0;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET6, host, &a6) != 1 ||
	    strspn(host, ":") == hl) /* "::" then a group: "::1" */
		return 0;
	snprintf(out, out_len, "[%s]:%s", host, colon + 1);
	return 1;
}

/* Parses the command line and PARLEY_GRACE_MS into a. Returns -1 to go on,
 * or the exit code (0 after --help or --version, 2 for a usage error). */
static int
parley_parse_args(int argc, char **argv, struct parley_args *a)
{
	enum { OPT_TLS = 256, OPT_CA, OPT_INSECURE };
	static const struct option opts[] = {
	    {"nick", required_argument, NULL, 'n'},
	    {"tls", no_argument, NULL, OPT_TLS},
	    {"ca", required_argument, NULL, OPT_CA},
	    {"insecure", no_argument, NULL, OPT_INSECURE},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char fixed[300];
	int c;

	a->addr = "localhost";
	opterr = 0; /* our own messages, without the binary's path */
	while ((c = getopt_long(argc, argv, ":n:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			a->nick = optarg;
			break;
		case OPT_TLS:
			a->tls = 1;
			break;
		case OPT_CA:
			a->tls_opts.ca_file = optarg;
			break;
		case OPT_INSECURE:
			a->tls_opts.insecure = 1;
			break;
		case 'h':
			parley_usage(stdout);
			return 0;
		case 'V':
			printf("parley %s\n", PARLEY_VERSION);
			return 0;
		case ':':
			return parley_usage_error("option '%s' needs a value "
						  "(parley --help)",
						  argv[optind - 1]);
		default:
			if (optopt)
				return parley_usage_error(
				    "unknown option '-%c' (parley --help)",
				    optopt);
			return parley_usage_error(
			    "unknown option '%s' (parley --help)",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->addr = argv[optind++];
	if (optind < argc)
		return parley_usage_error("unexpected argument '%s' (parley "
					  "--help)",
					  argv[optind]);
	if ((a->tls_opts.ca_file || a->tls_opts.insecure) && !a->tls)
		return parley_usage_error("--ca and --insecure go with --tls");
	if (a->tls_opts.ca_file && a->tls_opts.insecure)
		return parley_usage_error("--ca and --insecure exclude each "
					  "other");
	if (a->nick && (a->nick[0] == '\0' || strpbrk(a->nick, " \r\n") ||
			strlen(a->nick) >= PARLEY_NICK_MAX))
		return parley_usage_error("bad nickname '%s'", a->nick);
	if (parley_v6_needs_brackets(a->addr, fixed, sizeof(fixed)))
		return parley_usage_error("ambiguous address '%s': IPv6 "
					  "addresses go in brackets: %s",
					  a->addr, fixed);
	if (net_parse_hostport(a->addr, a->host, sizeof(a->host), &a->port,
			       a->tls ? PARLEY_TLS_PORT : NET_DEFAULT_PORT) < 0)
		return parley_usage_error("bad address '%s' (HOST, HOST:PORT, "
					  "[IPV6] or [IPV6]:PORT)",
					  a->addr);
	a->grace_ms = parley_grace_ms(getenv("PARLEY_GRACE_MS"));
	if (a->grace_ms < 0)
		return parley_usage_error("PARLEY_GRACE_MS must be a whole "
					  "number of milliseconds, 0-600000, "
					  "not '%s'",
					  getenv("PARLEY_GRACE_MS"));
	return -1;
}

/* How the address is shown in messages: host:port, [v6]:port. */
static void
parley_shown(const char *host, int port, char *shown, size_t n)
{
	snprintf(shown, n, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

/* Connects to host and port; prints one line and returns -1 on failure. */
static int
parley_connect(const char *host, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	char shown[300];
	int fd, gai;

	parley_shown(host, port, shown, sizeof(shown));
	gai = getaddrinfo(host, NULL, &hints, &res);
	if (gai != 0) {
		fprintf(stderr, "parley: cannot resolve %s: %s\n", host,
			gai_strerror(gai));
		return -1;
	}
	freeaddrinfo(res);
	fd = net_connect(host, port);
	if (fd < 0) {
		fprintf(stderr, "parley: cannot connect to %s: %s\n", shown,
			strerror(-fd));
		return -1;
	}
	if (net_set_nonblock(fd) < 0) {
		fprintf(stderr, "parley: %s: %s\n", shown, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
parley_set_nonblock(int fd, int *saved)
{
	*saved = fcntl(fd, F_GETFL);
	if (*saved < 0)
		return -errno;
	if (fcntl(fd, F_SETFL, *saved | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int
parley_setup(struct parley *p, int sock_fd, const struct parley_args *a)
{
	memset(p, 0, sizeof(*p));
	p->sock_fd = sock_fd;
	p->in_fd = STDIN_FILENO;
	p->out_fd = STDOUT_FILENO;
	p->in_flags = p->out_flags = -1;
	p->grace_ms = a->grace_ms;
	p->out_is_tty = isatty(p->out_fd);
	/* A dumb terminal gets line mode, as a pipe does: its own echo, and
	 * no escape sequence it might print as garbage. */
	p->interactive = isatty(p->in_fd) && p->out_is_tty;
	p->tty = p->interactive && !term_is_dumb();
	editor_init(&p->ed);
	screen_update_prompt(p);
	p->sig_fd = term_signals_open();
	if (p->sig_fd < 0) {
		fprintf(stderr, "parley: signals: %s\n", strerror(-p->sig_fd));
		return -1;
	}
	if (p->tty) {
		p->colour = term_wants_colour();
		p->cols = term_columns(p->out_fd);
		int err = term_raw_enable(p->in_fd);
		if (err < 0) {
			fprintf(stderr, "parley: terminal: %s\n",
				strerror(-err));
			return -1;
		}
	}
	/* The flags are shared with whoever else holds these files (the
	 * shell, for a terminal): they are put back in parley_teardown. */
	(void)parley_set_nonblock(p->in_fd, &p->in_flags);
	(void)parley_set_nonblock(p->out_fd, &p->out_flags);
	if (a->nick) /* sent after the welcome line */
		snprintf(p->nick_want, sizeof(p->nick_want), "%s", a->nick);
	screen_show_input(p); /* the prompt at once, before the server speaks */
	return 0;
}

static void
parley_teardown(struct parley *p)
{
	parley_release_terminal(p);
	if (p->outq.len > 0)
		p->out_dead = 1; /* what stdout did not take is lost */
	screen_flush_errors(p);
	editor_free(&p->ed);
	tls_free(p->tls);
	p->tls = NULL;
	close(p->sock_fd);
	queue_free(&p->sendq);
	queue_free(&p->outq);
	queue_free(&p->sockin);
	queue_free(&p->errq);
}

int
main(int argc, char **argv)
{
	static struct parley p;
	struct parley_args a = {0};
	struct tls_link *tls = NULL;
	char why[512], shown[300];
	int fd, code;

	code = parley_parse_args(argc, argv, &a);
	if (code >= 0)
		return code;
	if (a.tls && !(tls = tls_new(&a.tls_opts, why, sizeof(why)))) {
		fprintf(stderr, "parley: %s\n", why);
		return PARLEY_EXIT_USAGE;
	}
	fd = parley_connect(a.host, a.port);
	if (fd < 0) {
		tls_free(tls);
		return PARLEY_EXIT_CONN;
	}
	parley_shown(a.host, a.port, shown, sizeof(shown));
	if (tls &&
	    tls_handshake(tls, fd, a.host, shown, why, sizeof(why)) < 0) {
		fprintf(stderr, "parley: %s\n", why);
		tls_free(tls);
		close(fd);
		return PARLEY_EXIT_CONN;
	}
	if (parley_setup(&p, fd, &a) < 0) {
		p.tls = tls;
		parley_teardown(&p);
		return PARLEY_EXIT_CONN;
	}
	p.tls = tls;
	if (a.tls_opts.insecure)
		screen_notice(&p, "warning: --insecure: the server's "
				  "certificate is not verified; anyone on the "
				  "way could read or change this chat");
	parley_run(&p);
	code = p.exit_code;
	parley_teardown(&p);
	return code;
}
