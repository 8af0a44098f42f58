/*
 * test_ops: operating the real parleyd: the --config file at start and at
 * SIGHUP (limits that then apply to real clients, in running sessions of
 * both process models; a broken file that changes nothing), the service
 * manager's notify datagrams on a real unix socket, and /metrics scraped
 * over HTTP after a known workload.
 */
#include "../testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char model_args[256];
static int t_workers;
static char t_dir[] = "/tmp/parley-ops-XXXXXX";
static char t_conf[256];

static void
conf_write(const char *text)
{
	char tmp[300];
	FILE *f;

	/* Written aside and renamed, as an editor or a deploy tool does. */
	snprintf(tmp, sizeof(tmp), "%s.new", t_conf);
	f = fopen(tmp, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	if (rename(tmp, t_conf) < 0)
		abort();
}

/* Starts parleyd with the test's config file and extra flags. */
static struct ts_server *
start(const char *extra)
{
	char args[1024];

	snprintf(args, sizeof(args), "--config %s %s", t_conf, extra);
	return ts_start_model(model_args, args);
}

/* SIGHUP, then waits for the count-th reload's outcome line. */
static int
reload(struct ts_server *s, const char *outcome, int count)
{
	kill(s->pid, SIGHUP);
	return ts_log_wait_count(s, outcome, count, 10000);
}

/* A client connects; returns its fd if it was refused with a line
 * containing refusal, else -1 (closed). */
static int
refused(int port, const char *refusal)
{
	int fd = tc_connect(port), r;

	if (fd < 0)
		return 0;
	r = tc_expect(fd, refusal, NULL, 0, 10000);
	tc_close(fd);
	return r >= 0;
}

/* ---- the config file ---------------------------------------------------- */

static void
test_config_file_limits_apply_and_flags_override_them(void)
{
	struct ts_server *s;
	int a, b, c;

	conf_write("# a per-address limit, for loopback too\n"
		   "max-per-address 1\nlimit-loopback yes\n");
	s = start("");
	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	CHECK(a >= 0);
	CHECK(refused(s->port, "too many connections from your address "
			       "(limit 1)"));
	tc_close(a);
	ts_free(s);

	s = start("--max-per-address 2");
	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	b = tc_join(s->port, NULL, 0);
	CHECK(a >= 0 && b >= 0);
	CHECK(refused(s->port, "(limit 2)"));
	c = -1;
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
}

static const struct {
	const char *text, *first; /* first: after "parleyd: PATH" */
} bad_file_rows[] = {
    {"max-clients 10\nbogus yes\n", ":2: unknown key 'bogus'\n"},
    {"flood-rate fast\n", ":1: flood-rate: expected a number from 0 to "},
    {"listen\n", ":1: listen needs a value (HOST:PORT)\n"},
};

static void
test_a_bad_config_file_names_its_line_and_exits_2(void)
{
	char out[8192], want[512], args[512];

	snprintf(args, sizeof(args), "--config %s", t_conf);
	for (size_t i = 0; i < sizeof(bad_file_rows) / sizeof(bad_file_rows[0]);
	     i++) {
		conf_write(bad_file_rows[i].text);
		int st = ts_run(args, out, sizeof(out));
		snprintf(want, sizeof(want), "parleyd: %s%s", t_conf,
			 bad_file_rows[i].first);
		CHECKF(st == 2, "%s: exit %d", bad_file_rows[i].text, st);
		CHECKF(strncmp(out, want, strlen(want)) == 0, "\"%s\" for %s",
		       out, bad_file_rows[i].text);
	}
	CHECK(ts_run("--config /nonexistent/parleyd.conf", out, sizeof(out)) ==
	      2);
	CHECKF(strcmp(out, "parleyd: cannot read /nonexistent/parleyd.conf: "
			   "No such file or directory\n") == 0,
	       "%s", out);
}

/* ---- reload -------------------------------------------------------------- */

static void
test_sighup_raises_the_per_address_limit_for_new_clients(void)
{
	struct ts_server *s;
	int a, b, c;
	char nick[64], line[512];

	conf_write("max-per-address 1\nlimit-loopback yes\n");
	s = start("");
	REQUIRE(s);
	a = tc_join(s->port, nick, sizeof(nick));
	REQUIRE(a >= 0);
	CHECK(refused(s->port, "(limit 1)"));
	conf_write("max-per-address 3\nlimit-loopback yes\n");
	CHECK(reload(s, "reloaded: 1 setting changed", 1) == 0);
	CHECK(ts_log_wait(s, "reload: max-per-address is now 3 (was 1)", 1) ==
	      0);
	b = tc_join(s->port, NULL, 0);
	c = tc_join(s->port, NULL, 0);
	CHECK(b >= 0 && c >= 0);
	CHECK(refused(s->port, "(limit 3)"));
	/* The client from before the reload is still there and heard. */
	CHECK(tc_send(a, "still here\n") == 0);
	snprintf(line, sizeof(line), "#lobby <%s> still here", nick);
	CHECK(tc_expect(b, line, NULL, 0, 10000) >= 0);
	tc_close(a);
	tc_close(b);
	tc_close(c);
	ts_free(s);
}

/* A flood limit read by the sessions: lowered by a reload, it holds back
 * the very next burst of a client connected before it. */
static void
test_sighup_lowers_the_flood_burst_in_running_sessions(void)
{
	struct ts_server *s;
	int a, b;

	conf_write("flood-burst 100\nflood-rate 5\n");
	s = start("--verbose");
	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	for (int i = 0; i < 20; i++)
		CHECK(tc_send(a, "before %d\n", i) == 0);
	CHECK(tc_expect(b, "> before 19", NULL, 0, 10000) >= 0);
	CHECK(ts_log_count(s, "flood limit") == 0);

	conf_write("flood-burst 3\nflood-rate 5\n");
	CHECK(reload(s, "reloaded: 1 setting changed", 1) == 0);
	for (int i = 0; i < 10; i++)
		CHECK(tc_send(a, "after %d\n", i) == 0);
	CHECK(ts_log_wait(s, "flood limit: input paused", 10000) == 0);
	/* Slowed, never dropped: every line arrives. */
	CHECK(tc_expect(b, "> after 9", NULL, 0, 20000) >= 0);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_a_broken_file_at_reload_keeps_the_running_config(void)
{
	struct ts_server *s;
	int a, b;
	char want[512];

	conf_write("max-per-address 1\nlimit-loopback yes\n");
	s = start("");
	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	b = tc_join(s->port, NULL, 0);
	CHECK(a >= 0);
	CHECK(b < 0);
	conf_write("max-per-address lots\nlimit-loopback yes\n");
	snprintf(want, sizeof(want),
		 "reload failed: %s:1: max-per-address: expected a number "
		 "from 0 to 1048576, got 'lots'; keeping the running "
		 "configuration",
		 t_conf);
	CHECK(reload(s, want, 1) == 0);
	CHECK(refused(s->port, "(limit 1)"));
	CHECK(tc_send(a, "/rooms\n") == 0);
	CHECK(tc_expect(a, "-!- #lobby: 1 member", NULL, 0, 10000) >= 0);
	/* Fixed, the next reload applies. */
	conf_write("max-per-address 2\nlimit-loopback yes\n");
	CHECK(reload(s, "reloaded: 1 setting changed", 1) == 0);
	b = tc_join(s->port, NULL, 0);
	CHECK(b >= 0);
	tc_close(a);
	tc_close(b);
	CHECK(ts_stop(s, SIGTERM, 10000) == 0);
	ts_free(s);
}

static void
test_reload_logs_what_needs_a_restart_and_keeps_it(void)
{
	struct ts_server *s;
	int a;
	char line[300];

	conf_write("max-line 1024\n");
	s = start("");
	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0);
	conf_write("max-line 100\nlisten 127.0.0.1:1\n");
	CHECK(reload(s, "reloaded: 0 settings changed, 1 needs a restart", 1) ==
	      0);
	CHECK(ts_log_wait(s,
			  "reload: max-line changed to 100: needs a "
			  "restart; still 1024",
			  1) == 0);
	/* --listen on the command line wins over the file's listen. */
	CHECK(ts_log_count(s, "reload: listen") == 0);
	memset(line, 'x', 200);
	line[200] = '\0';
	CHECK(tc_send(a, "%s\n/rooms\n", line) == 0);
	CHECK(tc_expect(a, "-!- #lobby: 1 member", NULL, 0, 10000) >= 0);
	CHECK(ts_log_count(s, "line over") == 0);
	tc_close(a);
	ts_free(s);
}

/* History is the supervisor's: a shorter one applies to the next join. */
static void
test_sighup_shortens_the_history_replayed_on_join(void)
{
	struct ts_server *s;
	int a, b, got = 0;
	char line[1024];

	conf_write("history 5\n");
	s = start("");
	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0);
	for (int i = 0; i < 5; i++)
		CHECK(tc_send(a, "old %d\n", i) == 0);
	CHECK(tc_send(a, "/rooms\n") == 0); /* after the messages */
	CHECK(tc_expect(a, "-!- #lobby:", NULL, 0, 10000) >= 0);
	conf_write("history 2\n");
	CHECK(reload(s, "reloaded: 1 setting changed", 1) == 0);
	b = tc_join(s->port, NULL, 0);
	REQUIRE(b >= 0);
	CHECK(tc_send(a, "new\n") == 0);
	for (;;) {
		if (tc_readline(b, line, sizeof(line), 10000) < 0)
			break;
		if (strstr(line, "> new"))
			break;
		if (strstr(line, "[history "))
			got++;
		if (strstr(line, "[history ") && got == 1)
			CHECKF(strstr(line, "old 3"), "%s", line);
	}
	CHECK(got == 2);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

/* Writes text to path (aside and renamed); 0 or -1. */
static int
file_put(const char *path, const char *text)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	return rename(tmp, path);
}

/* SIGHUP reads the message of the day again (a file that cannot be read
 * keeps the current one) and gives running IRC clients a new ping
 * timeout. */
static void
test_sighup_rereads_the_motd_and_changes_the_ping_timeout(void)
{
	char motd[300], conf[700];
	struct ts_server *s;
	int i = -1;

	snprintf(motd, sizeof(motd), "%s/motd", t_dir);
	REQUIRE(file_put(motd, "first day\n") == 0);
	snprintf(conf, sizeof(conf), "motd %s\nping-timeout 600\n", motd);
	conf_write(conf);
	s = start("--irc-listen 127.0.0.1:0");
	REQUIRE(s && s->irc_port > 0);
	i = tc_connect(s->irc_port);
	REQUIRE(i >= 0);
	CHECK(tc_send(i, "NICK motd\r\nUSER m 0 * :m\r\n") == 0);
	CHECK(tc_expect(i, " 372 motd :- first day", NULL, 0, 10000) >= 0);
	CHECK(tc_expect(i, " 376 motd ", NULL, 0, 10000) >= 0);

	REQUIRE(file_put(motd, "second day\nand more\n") == 0);
	snprintf(conf, sizeof(conf), "motd %s\nping-timeout 1\n", motd);
	conf_write(conf);
	CHECK(reload(s, "reloaded: 1 setting changed", 1) == 0);
	CHECK(ts_log_count(s, "reload: message of the day: 2 lines from ") ==
	      1);
	CHECK(tc_send(i, "MOTD\r\n") == 0);
	CHECK(tc_expect(i, " 372 motd :- second day", NULL, 0, 10000) >= 0);
	CHECK(tc_expect(i, " 372 motd :- and more", NULL, 0, 10000) >= 0);
	/* Silent now: pinged after a second, not ten minutes. */
	CHECK(tc_expect(i, "PING ", NULL, 0, 10000) >= 0);
	CHECK(tc_send(i, "PONG :x\r\n") == 0);

	conf_write("motd /nonexistent/motd\nping-timeout 1\n");
	CHECK(reload(s, "reloaded: 1 setting changed", 2) == 0);
	CHECK(ts_log_count(s, "reload: cannot read the message of the day "
			      "/nonexistent/motd") == 1);
	CHECK(tc_send(i, "MOTD\r\n") == 0);
	CHECK(tc_expect(i, " 372 motd :- second day", NULL, 0, 10000) >= 0);
	tc_close(i);
	ts_free(s);
	unlink(motd);
}

/* ---- notify -------------------------------------------------------------- */

/* Receives one datagram within timeout_ms into buf; its length or -1. */
static int
dgram_recv(int fd, char *buf, size_t n, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t r;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	r = recv(fd, buf, n - 1, 0);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return (int)r;
}

/* Waits for a datagram containing want, skipping others. */
static int
dgram_expect(int fd, const char *want, char *buf, size_t n)
{
	long long deadline = tl_now_ms() + 10000;

	while (tl_now_ms() < deadline)
		if (dgram_recv(fd, buf, n, (int)(deadline - tl_now_ms())) >=
			0 &&
		    strstr(buf, want))
			return 0;
	return -1;
}

static const struct {
	const char *what;
	int abstract;
} notify_rows[] = {
    {"a socket file", 0},
    {"an abstract socket", 1},
};

static void
test_notify_datagrams_reach_a_real_notify_socket(void)
{
	for (size_t r = 0; r < sizeof(notify_rows) / sizeof(notify_rows[0]);
	     r++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		char name[108], buf[1024];
		socklen_t len;
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), a;
		struct ts_server *s;

		REQUIRE(fd >= 0);
		if (notify_rows[r].abstract) {
			snprintf(name, sizeof(name), "@parley-test-%d",
				 (int)getpid());
			memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
			len =
			    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
					strlen(name));
		} else {
			snprintf(name, sizeof(name), "%s/notify", t_dir);
			memcpy(sa.sun_path, name, strlen(name) + 1);
			len = sizeof(sa);
		}
		REQUIRE(bind(fd, (struct sockaddr *)&sa, len) == 0);
		conf_write("history 5\n");
		setenv("NOTIFY_SOCKET", name, 1);
		s = start("");
		unsetenv("NOTIFY_SOCKET");
		REQUIRE(s);
		CHECKF(dgram_expect(fd, "READY=1", buf, sizeof(buf)) == 0,
		       "%s: no READY=1", notify_rows[r].what);
		a = tc_join(s->port, NULL, 0);
		CHECK(a >= 0);
		CHECKF(dgram_expect(fd, "STATUS=1 client connected", buf,
				    sizeof(buf)) == 0,
		       "%s: no STATUS", notify_rows[r].what);

		kill(s->pid, SIGHUP);
		CHECK(dgram_expect(fd, "RELOADING=1", buf, sizeof(buf)) == 0);
		CHECKF(strstr(buf, "\nMONOTONIC_USEC=") &&
			   atoll(strstr(buf, "USEC=") + 5) > 0,
		       "%s", buf);
		CHECK(dgram_expect(fd, "READY=1", buf, sizeof(buf)) == 0);
		CHECK(strstr(buf, "STATUS=1 client connected") != NULL);

		CHECK(ts_stop(s, SIGTERM, 10000) == 0);
		CHECK(dgram_expect(fd, "STOPPING=1", buf, sizeof(buf)) == 0);
		tc_close(a);
		ts_free(s);
		close(fd);
		if (!notify_rows[r].abstract)
			unlink(name);
	}
}

/* ---- metrics ------------------------------------------------------------- */

/* A client whose every received byte is counted. */
struct counted {
	int fd;
	size_t bytes;
	char buf[65536];
	size_t len;
	char nick[64];
};

/* Reads until a line containing want; counts what arrives. */
static int
counted_expect(struct counted *c, const char *want)
{
	long long deadline = tl_now_ms() + 10000;

	for (;;) {
		char *nl;
		while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			*nl = '\0';
			int hit = strstr(c->buf, want) != NULL;
			if (hit && !c->nick[0] &&
			    strncmp(c->buf, "-!- welcome to parley, ", 23) == 0)
				snprintf(c->nick, sizeof(c->nick), "%.*s",
					 (int)strcspn(c->buf + 23, "!"),
					 c->buf + 23);
			size_t used = (size_t)(nl - c->buf) + 1;
			memmove(c->buf, nl + 1, c->len - used);
			c->len -= used;
			if (hit)
				return 0;
		}
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (tl_now_ms() >= deadline ||
		    poll(&p, 1, (int)(deadline - tl_now_ms())) != 1)
			return -1;
		ssize_t r =
		    recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
		c->bytes += (size_t)r;
	}
}

/* Reads until each of want[0..n) has been in a line, in any order (a
 * line counts for the first it contains that is still missing). */
static int
counted_expect_all(struct counted *c, const char **want, int n)
{
	int seen[8] = {0}, left = n;

	while (left > 0) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (!nl) {
			struct pollfd p = {.fd = c->fd, .events = POLLIN};
			if (poll(&p, 1, 10000) != 1)
				return -1;
			ssize_t r = recv(c->fd, c->buf + c->len,
					 sizeof(c->buf) - c->len, 0);
			if (r <= 0)
				return -1;
			c->len += (size_t)r;
			c->bytes += (size_t)r;
			continue;
		}
		*nl = '\0';
		for (int i = 0; i < n; i++)
			if (!seen[i] && strstr(c->buf, want[i])) {
				seen[i] = 1;
				left--;
				break;
			}
		size_t used = (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->len - used);
		c->len -= used;
	}
	return 0;
}

/* Reads what has arrived on every client; returns the bytes in all. */
static size_t
counted_drain(struct counted *cl, int n)
{
	size_t all = 0;

	for (int i = 0; i < n; i++) {
		ssize_t r;
		while (cl[i].len < sizeof(cl[i].buf) &&
		       (r = recv(cl[i].fd, cl[i].buf + cl[i].len,
				 sizeof(cl[i].buf) - cl[i].len, MSG_DONTWAIT)) >
			   0) {
			cl[i].len += (size_t)r;
			cl[i].bytes += (size_t)r;
		}
		all += cl[i].bytes;
	}
	return all;
}

static int
counted_send(struct counted *c, size_t *sent, const char *line)
{
	*sent += strlen(line);
	return tc_send(c->fd, "%s", line);
}

static void
test_a_scrape_after_a_known_workload_counts_what_was_sent(void)
{
	static struct counted cl[3];
	struct ts_server *s;
	size_t sent = 0, received = 0;
	char line[256], want[256];
	int port;

	conf_write("metrics-listen 127.0.0.1:0\n");
	s = start("");
	REQUIRE(s);
	port = ts_metrics_port(s);
	REQUIRE(port > 0);
	for (int i = 0; i < 3; i++) {
		memset(&cl[i], 0, sizeof(cl[i]));
		cl[i].fd = tc_connect(s->port);
		REQUIRE(cl[i].fd >= 0);
		REQUIRE(counted_expect(&cl[i], "-!- welcome to parley, ") == 0);
		snprintf(want, sizeof(want), "-!- %s joined #lobby",
			 cl[i].nick);
		REQUIRE(counted_expect(&cl[i], want) == 0);
		/* Everyone sees the later ones join. */
		for (int j = 0; j < i; j++)
			REQUIRE(counted_expect(&cl[j], want) == 0);
	}
	/* 5 room messages from 0 (2 deliveries each), 2 private ones from
	 * 1 to 2 (one to 2, one echo to 1). */
	for (int m = 0; m < 5; m++) {
		snprintf(line, sizeof(line), "room message %d\n", m);
		CHECK(counted_send(&cl[0], &sent, line) == 0);
	}
	for (int m = 0; m < 2; m++) {
		snprintf(line, sizeof(line), "/msg %s private %d\n", cl[2].nick,
			 m);
		CHECK(counted_send(&cl[1], &sent, line) == 0);
	}
	/* The room and the private messages may interleave. */
	const char *to1[] = {"> room message 4", "-> *", "* private 1"};
	const char *to2[] = {"> room message 4", "* private 0", "* private 1"};
	CHECK(counted_expect_all(&cl[1], to1, 3) == 0);
	CHECK(counted_expect_all(&cl[2], to2, 3) == 0);
	CHECK(ts_wait_sample(port, "parley_deliveries_total", 14) == 14);
	/* Every byte written is one the clients read (all arrive). */
	long long out = -1, deadline = tl_now_ms() + 10000;
	do {
		received = counted_drain(cl, 3);
		if (ts_scrape(port) > 0)
			out = ts_sample("parley_bytes_out_total");
	} while (out != (long long)received && tl_now_ms() < deadline &&
		 poll(NULL, 0, 20) == 0);
	CHECKF(out == (long long)received, "bytes out %lld, received %zu", out,
	       received);
	CHECK(ts_wait_sample(port, "parley_bytes_in_total", (long long)sent) ==
	      (long long)sent);
	CHECK(ts_sample("parley_messages_in_total{kind=\"room\"}") == 5);
	CHECK(ts_sample("parley_messages_in_total{kind=\"private\"}") == 2);
	CHECK(ts_sample(
		  "parley_clients{protocol=\"plain\",transport=\"tcp\"}") == 3);
	CHECK(ts_sample("parley_rooms") == 1);
	CHECK(ts_sample("parley_connections_total") == 3);
	CHECK(ts_sample("parley_session_processes") == (t_workers ? 2 : 3));
	CHECK(ts_sample("parley_disconnects_total{reason=\"quit\"}") == 0);
	CHECK(ts_sample("parley_timeline_lag_entries") >= 0);
	CHECK(strncmp(ts_scraped(), "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(strstr(ts_scraped(),
		     "\r\nContent-Type: text/plain; version=0.0.4"));
	CHECK(strstr(ts_scraped(), "# TYPE parley_deliveries_total counter\n"));

	/* Leaving: one /quit, one closed socket. The fork model's session
	 * processes exit: their counts must not go back. */
	CHECK(tc_send(cl[2].fd, "/quit bye\n") == 0);
	tc_close(cl[1].fd);
	CHECK(ts_wait_sample(port, "parley_disconnects_total{reason=\"quit\"}",
			     1) == 1);
	CHECK(ts_wait_sample(port, "parley_disconnects_total{reason=\"lost\"}",
			     1) == 1);
	CHECK(ts_wait_sample(
		  port, "parley_clients{protocol=\"plain\",transport=\"tcp\"}",
		  1) == 1);
	CHECK(ts_wait_sample(port, "parley_session_processes",
			     t_workers ? 2 : 1) == (t_workers ? 2 : 1));
	CHECK(ts_sample("parley_deliveries_total") >= 14);
	CHECK(ts_sample("parley_messages_in_total{kind=\"room\"}") == 5);
	CHECK(ts_sample("parley_bytes_in_total") >= (long long)sent);
	close(cl[2].fd);
	close(cl[0].fd);
	ts_free(s);
}

/* Clients are counted by protocol and transport; an IRC client that
 * never answers its ping is a ping_timeout disconnect. */
static void
test_clients_are_counted_by_protocol_and_ping_timeouts_by_reason(void)
{
	const char *plain =
	    "parley_clients{protocol=\"plain\",transport=\"tcp\"}";
	const char *irc = "parley_clients{protocol=\"irc\",transport=\"tcp\"}";
	const char *timeouts =
	    "parley_disconnects_total{reason=\"ping_timeout\"}";
	struct ts_server *s;
	int port, p = -1, i = -1;

	conf_write("metrics-listen 127.0.0.1:0\n");
	s = start("--irc-listen 127.0.0.1:0 --ping-timeout 1");
	REQUIRE(s);
	port = ts_metrics_port(s);
	REQUIRE(port > 0 && s->irc_port > 0);
	p = tc_join(s->port, NULL, 0);
	i = tc_connect(s->irc_port);
	REQUIRE(p >= 0 && i >= 0);
	CHECK(tc_send(i, "NICK quiet\r\nUSER q 0 * :q\r\n") == 0);
	CHECK(tc_expect(i, " 001 quiet ", NULL, 0, 10000) >= 0);
	CHECK(ts_wait_sample(port, irc, 1) == 1);
	CHECK(ts_sample(plain) == 1);
	CHECK(ts_sample("parley_clients{protocol=\"irc\",transport=\"tls\"}") ==
	      0);
	CHECK(ts_sample(timeouts) == 0);
	/* It never answers: a ping after a second, closed after another. */
	CHECK(tc_expect(i, "PING ", NULL, 0, 10000) >= 0);
	CHECK(tc_wait_eof(i, 10000) == 0);
	CHECK(ts_wait_sample(port, timeouts, 1) == 1);
	CHECK(ts_wait_sample(port, irc, 0) == 0);
	CHECK(ts_sample(plain) == 1);
	tc_close(i);
	tc_close(p);
	ts_free(s);
}

static void
test_a_client_cut_off_for_its_send_queue_is_counted(void)
{
	struct ts_server *s;
	int a, b, port, small = 4096;
	char nick[64], want[128], big[1001];

	conf_write("metrics-listen 127.0.0.1:0\nsendq 8192\nflood-rate 0\n");
	s = start("");
	REQUIRE(s);
	port = ts_metrics_port(s);
	REQUIRE(port > 0);
	a = tc_join(s->port, NULL, 0);
	b = tc_connect(s->port);
	REQUIRE(a >= 0 && b >= 0);
	setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	REQUIRE(tc_expect(b, "-!- welcome to parley, ", want, sizeof(want),
			  10000) >= 0);
	snprintf(nick, sizeof(nick), "%.*s", (int)strcspn(want + 23, "!"),
		 want + 23);
	/* b is in the lobby once a sees it join. */
	snprintf(want, sizeof(want), "-!- %s joined #lobby", nick);
	REQUIRE(tc_expect(a, want, NULL, 0, 10000) >= 0);
	snprintf(want, sizeof(want), "-!- %s quit (send queue exceeded)", nick);
	memset(big, 'x', 1000);
	big[1000] = '\0';
	/* b reads nothing more: 4 MB later it must be gone. */
	for (int i = 0; i < 4000; i++)
		if (tc_send(a, "%s\n", big) < 0)
			break;
	CHECK(tc_expect(a, want, NULL, 0, 30000) >= 0);
	CHECK(ts_wait_sample(port, "parley_sendq_cutoffs_total", 1) == 1);
	CHECK(ts_sample("parley_disconnects_total{reason=\"sendq\"}") == 1);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

static void
test_killed_sessions_count_as_failures_and_workers_as_restarts(void)
{
	struct ts_server *s;
	pid_t kids[8];
	int a, b, port;

	conf_write("metrics-listen 127.0.0.1:0\n");
	s = start("");
	REQUIRE(s);
	port = ts_metrics_port(s);
	REQUIRE(port > 0);
	a = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0);
	CHECK(ts_scrape(port) > 0 &&
	      ts_sample("parley_session_failures_total") == 0);
	REQUIRE(ts_children(s->pid, kids, 8) >= 1);
	kill(kids[0], SIGKILL);
	CHECK(ts_wait_sample(port, "parley_session_failures_total", 1) == 1);
	CHECK(ts_wait_sample(port, "parley_worker_restarts_total",
			     t_workers ? 1 : 0) == (t_workers ? 1 : 0));
	b = tc_join(s->port, NULL, 0);
	CHECK(b >= 0);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

/* Requests other than GET /metrics, and the status each gets. */
static const struct {
	const char *request;
	const char *status;
} http_rows[] = {
    {"GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n"},
    {"GET /metrics?x=1 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n"},
    {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
     "HTTP/1.1 405 Method Not Allowed\r\n"},
    {"HEAD /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n"},
    {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"},
    {"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"},
    {"GET /metrics\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
    {"hello\n\n", "HTTP/1.1 400 Bad Request\r\n"},
    {"GET /metrics SPDY/3\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
};

static void
test_metrics_answers_anything_but_get_metrics_with_an_error(void)
{
	struct ts_server *s;
	static char out[65536], big[8192];
	int port;

	conf_write("metrics-listen 127.0.0.1:0\n");
	s = start("");
	REQUIRE(s);
	port = ts_metrics_port(s);
	REQUIRE(port > 0);
	for (size_t i = 0; i < sizeof(http_rows) / sizeof(http_rows[0]); i++) {
		CHECK(ts_http(port, http_rows[i].request, -1, out,
			      sizeof(out)) > 0);
		CHECKF(strncmp(out, http_rows[i].status,
			       strlen(http_rows[i].status)) == 0,
		       "%s: got %.60s", http_rows[i].request, out);
	}
	/* A request head over 4 KiB. */
	snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nX-Pad: ");
	memset(big + strlen(big), 'a', 6000);
	big[6100] = '\0';
	CHECK(ts_http(port, big, 6100, out, sizeof(out)) > 0);
	CHECKF(strncmp(out, "HTTP/1.1 431 ", 13) == 0, "%.60s", out);
	/* A request that never ends: closed at the deadline. */
	CHECK(ts_http(port, "GET /metr", -1, out, sizeof(out)) >= 0);
	CHECKF(strncmp(out, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0,
	       "%.60s", out);
	/* More connections than it serves at once: the extra ones are
	 * closed, the server goes on. */
	int fds[12];
	for (int i = 0; i < 12; i++)
		fds[i] = tc_connect(port);
	for (int i = 0; i < 12; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	CHECK(ts_wait_sample(port, "parley_rooms", 0) == 0);
	ts_free(s);
}

/* A scrape reads the sessions' shared pages: a stopped session never
 * holds it up. */
static void
test_a_scrape_never_waits_for_a_stopped_session(void)
{
	struct ts_server *s;
	pid_t kids[8];
	int a, port, n;

	conf_write("metrics-listen 127.0.0.1:0\n");
	s = start("");
	REQUIRE(s);
	port = ts_metrics_port(s);
	REQUIRE(port > 0);
	a = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0);
	CHECK(ts_wait_sample(
		  port, "parley_clients{protocol=\"plain\",transport=\"tcp\"}",
		  1) == 1);
	n = ts_children(s->pid, kids, 8);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGSTOP);
	CHECK(ts_scrape(port) > 0);
	CHECK(ts_sample(
		  "parley_clients{protocol=\"plain\",transport=\"tcp\"}") == 1);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGCONT);
	tc_close(a);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];

	t_workers =
	    tl_init(argc, argv, "ops", model_args, sizeof(model_args), suite);
	if (!mkdtemp(t_dir))
		return 1;
	snprintf(t_conf, sizeof(t_conf), "%s/parleyd.conf", t_dir);
	RUN(test_config_file_limits_apply_and_flags_override_them);
	RUN(test_a_bad_config_file_names_its_line_and_exits_2);
	RUN(test_sighup_raises_the_per_address_limit_for_new_clients);
	RUN(test_sighup_lowers_the_flood_burst_in_running_sessions);
	RUN(test_a_broken_file_at_reload_keeps_the_running_config);
	RUN(test_reload_logs_what_needs_a_restart_and_keeps_it);
	RUN(test_sighup_shortens_the_history_replayed_on_join);
	RUN(test_sighup_rereads_the_motd_and_changes_the_ping_timeout);
	RUN(test_notify_datagrams_reach_a_real_notify_socket);
	RUN(test_a_scrape_after_a_known_workload_counts_what_was_sent);
	RUN(test_clients_are_counted_by_protocol_and_ping_timeouts_by_reason);
	RUN(test_a_client_cut_off_for_its_send_queue_is_counted);
	RUN(test_killed_sessions_count_as_failures_and_workers_as_restarts);
	RUN(test_metrics_answers_anything_but_get_metrics_with_an_error);
	RUN(test_a_scrape_never_waits_for_a_stopped_session);
	unlink(t_conf);
	rmdir(t_dir);
	return tl_summary(suite);
}
