/*
 * test_flow: flow control and send-queue limits against the real parleyd
 * (issue 13). With the flood limits off and the smallest rings, writers
 * are paced by the slowest live reader: readers that keep up lose nothing
 * and are never disconnected; a stopped reader holds writers back only
 * until --stall-timeout and is then lapped, never handed torn or skipped
 * data; a send queue is cut off over --sendq for --sendq-seconds, or over
 * --sendq-hard at once; the supervisor's own ring makes requests wait
 * for a stopped reader instead of lapping it. Every test starts its own
 * server; the process model comes from PARLEY_TEST_ARGS.
 */
#include "../mesh.h"
#include "../testlib.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char model_args[256];
static int workers_model;

static struct ts_server *
start(const char *args)
{
	return ts_start_model(model_args, args);
}

enum { FL_MAX = 32 };

/* One test client: the mesh's buffers, and what it saw. Markers are room
 * messages "m SENDER SEQ " and pad 'x's, from the client SENDER. */
struct fl_client {
	struct mesh_client m;
	int frozen;		/* never read: its queue in the server grows */
	long sent;		/* markers queued so far */
	long from[FL_MAX];	/* markers received from each sender */
	int disorder;		/* a marker out of order: lost or repeated */
	int torn;		/* a marker line that is not whole */
	int lost;		/* "-!- disconnected: messages lost" */
	int cut;		/* "-!- disconnected: send queue exceeded" */
	int quit_sendq[FL_MAX]; /* "-!- NICK quit (send queue exceeded)" */
	long room_lines;	/* "-!- #room: N members, ..." (/rooms) */
	int who;		/* "-!- members of ..." (/who) */
};

struct fl_group {
	struct fl_client *c;
	int n;
	size_t pad; /* 'x's after each marker */
};

static int
fl_index_of(const struct fl_group *g, const char *nick, size_t len)
{
	for (int i = 0; i < g->n; i++)
		if (strlen(g->c[i].m.nick) == len &&
		    memcmp(g->c[i].m.nick, nick, len) == 0)
			return i;
	return -1;
}

/* A marker's text: "m S Q " and exactly pad 'x's. Returns 1 and fills
 * *seq if text is one from sender, 0 if it is no marker, -1 if it starts
 * like one from sender but is not whole. */
static int
fl_marker(const char *text, int sender, size_t pad, long *seq)
{
	int snd, used = 0;
	long q;

	if (strncmp(text, "m ", 2) != 0)
		return 0;
	if (sscanf(text, "m %d %ld %n", &snd, &q, &used) != 2 || used == 0)
		return -1;
	if (snd != sender)
		return -1;
	if (strlen(text + used) != pad || strspn(text + used, "x") != pad)
		return -1;
	*seq = q;
	return 1;
}

static void
fl_line(struct fl_group *g, struct fl_client *c, const char *line)
{
	const char *gt, *q;

	if (strncmp(line, "#lobby <", 8) == 0 && (gt = strchr(line + 8, '>'))) {
		int snd = fl_index_of(g, line + 8, (size_t)(gt - line - 8));
		long seq;
		if (snd < 0 || gt[1] != ' ')
			return;
		switch (fl_marker(gt + 2, snd, g->pad, &seq)) {
		case 1:
			if (seq != c->from[snd])
				c->disorder++;
			c->from[snd] = seq + 1;
			break;
		case -1:
			c->torn++;
			break;
		default:
			break; /* a sprayer's garbage */
		}
		return;
	}
	if (strncmp(line, "-!- #", 5) == 0 && strstr(line, " member"))
		c->room_lines++;
	else if (strncmp(line, "-!- members of ", 15) == 0)
		c->who++;
	else if (strcmp(line, "-!- disconnected: messages lost") == 0)
		c->lost++;
	else if (strcmp(line, "-!- disconnected: send queue exceeded") == 0)
		c->cut++;
	else if (strncmp(line, "-!- ", 4) == 0 &&
		 (q = strstr(line, " quit (send queue exceeded)"))) {
		int who = fl_index_of(g, line + 4, (size_t)(q - line - 4));
		if (who >= 0)
			c->quit_sendq[who]++;
	}
}

struct fl_line_arg {
	struct fl_group *g;
	struct fl_client *c;
};

static void
fl_line_cb(void *arg, char *line)
{
	struct fl_line_arg *a = arg;

	fl_line(a->g, a->c, line);
}

static void
fl_queue(struct fl_client *c, const char *p, size_t n)
{
	struct mesh_client *m = &c->m;
	char *out = realloc(m->out, m->out_len + n);

	if (!out)
		abort();
	m->out = out;
	memcpy(m->out + m->out_len, p, n);
	m->out_len += n;
}

/* Queues count more markers from client i. */
static void
fl_queue_markers(struct fl_group *g, int i, long count)
{
	char line[64 + 1024];
	size_t pad = g->pad < 1024 ? g->pad : 1024;

	for (long k = 0; k < count; k++) {
		int w = snprintf(line, sizeof(line), "m %d %ld ", i,
				 g->c[i].sent++);
		memset(line + w, 'x', pad);
		line[(size_t)w + pad] = '\n';
		fl_queue(&g->c[i], line, (size_t)w + pad + 1);
	}
}

/* Called before each poll: tops up what clients send. */
typedef void fl_feed_cb(struct fl_group *g);

/* Pumps every client (frozen ones are written to, never read) until
 * done(g) or timeout_ms. Returns 0 when done, -1 on timeout. */
static int
fl_pump(struct fl_group *g, int (*done)(struct fl_group *), fl_feed_cb *feed,
	int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	struct pollfd pfd[FL_MAX];

	while (!done(g)) {
		long long left = deadline - tl_now_ms();
		if (left <= 0)
			return -1;
		if (feed)
			feed(g);
		for (int i = 0; i < g->n; i++) {
			struct mesh_client *m = &g->c[i].m;
			pfd[i].fd = m->eof ? -1 : m->fd;
			pfd[i].events = g->c[i].frozen ? 0 : POLLIN;
			if (m->out_off < m->out_len)
				pfd[i].events |= POLLOUT;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)g->n, (int)(left < 100 ? left : 100)) <
			0 &&
		    errno != EINTR)
			return -1;
		for (int i = 0; i < g->n; i++) {
			struct mesh_client *m = &g->c[i].m;
			struct fl_line_arg a = {g, &g->c[i]};
			if (pfd[i].revents & POLLOUT)
				mesh_write(m);
			if (g->c[i].frozen ||
			    !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (mesh_recv_lines(m->fd, m->in, sizeof(m->in),
					    &m->in_len, fl_line_cb, &a))
				m->eof = 1;
		}
	}
	return 0;
}

static int
fl_join(struct fl_group *g, struct fl_client *c, int n, int port)
{
	struct mesh_client m[FL_MAX];

	memset(c, 0, (size_t)n * sizeof(*c));
	g->c = c;
	g->n = n;
	if (mesh_join(m, n, port, 0) < 0) {
		for (int i = 0; i < n; i++)
			if (m[i].fd >= 0)
				tc_close(m[i].fd);
		for (int i = 0; i < n; i++)
			c[i].m.fd = -1;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		memcpy(c[i].m.nick, m[i].nick, sizeof(m[i].nick));
		c[i].m.fd = m[i].fd;
	}
	return 0;
}

static void
fl_close(struct fl_group *g)
{
	for (int i = 0; i < g->n; i++) {
		if (g->c[i].m.fd >= 0)
			tc_close(g->c[i].m.fd);
		free(g->c[i].m.out);
	}
}

/* On a timeout: what each client got from each sender. */
static void
fl_dump(const struct fl_group *g)
{
	for (int i = 0; i < g->n; i++) {
		printf("  client %d (%s)%s%s:", i, g->c[i].m.nick,
		       g->c[i].m.eof ? " eof" : "",
		       g->c[i].frozen ? " frozen" : "");
		for (int snd = 0; snd < g->n; snd++)
			printf(" %ld/%ld", g->c[i].from[snd], g->c[snd].sent);
		printf("\n");
	}
}

/* Everyone in mask got every marker of every sender in senders (but its
 * own). */
static unsigned fl_readers, fl_senders;

static int
fl_all_delivered(struct fl_group *g)
{
	for (int i = 0; i < g->n; i++) {
		if (!(fl_readers & (1u << i)))
			continue;
		for (int snd = 0; snd < g->n; snd++)
			if (snd != i && (fl_senders & (1u << snd)) &&
			    g->c[i].from[snd] < g->c[snd].sent)
				return 0;
		if (g->c[i].m.eof)
			return 1; /* it will not get more: the checks say so */
	}
	for (int snd = 0; snd < g->n; snd++)
		if ((fl_senders & (1u << snd)) &&
		    g->c[snd].m.out_off < g->c[snd].m.out_len)
			return 0;
	return 1;
}

/* Every reader got every marker, in order, whole, and stayed connected. */
static void
check_readers_lossless(const struct fl_group *g, const char *what)
{
	for (int i = 0; i < g->n; i++) {
		const struct fl_client *c = &g->c[i];
		if (!(fl_readers & (1u << i)))
			continue;
		CHECKF(!c->m.eof && c->lost == 0 && c->cut == 0,
		       "%s: reader %d disconnected (lost %d, send queue %d)",
		       what, i, c->lost, c->cut);
		CHECKF(c->disorder == 0 && c->torn == 0,
		       "%s: reader %d: %d markers out of order, %d torn", what,
		       i, c->disorder, c->torn);
		for (int snd = 0; snd < g->n; snd++)
			if (snd != i && (fl_senders & (1u << snd)))
				CHECKF(c->from[snd] == g->c[snd].sent,
				       "%s: reader %d got %ld of %ld from %d",
				       what, i, c->from[snd], g->c[snd].sent,
				       snd);
	}
}

/* ---- garbage sprayers beside fast readers ------------------------------- */

/* A line of random bytes (no LF, no IAC so no telnet command can eat a
 * marker, never '/' or 'm' first so it is never a command or a marker);
 * most are valid messages once sanitised, some are over --max-line. */
static size_t
fl_garbage_line(unsigned *seed, char *out, size_t max)
{
	size_t n = (size_t)(rand_r(seed) % 1200);

	if (n > max - 1)
		n = max - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char b;
		do
			b = (unsigned char)(rand_r(seed) & 0xff);
		while (b == '\n' || b == 0xff);
		out[i] = (char)b;
	}
	if (n > 0 && (out[0] == '/' || out[0] == 'm'))
		out[0] = '#';
	out[n] = '\n';
	return n + 1;
}

static void
test_garbage_sprayers_beside_fast_readers_lose_and_disconnect_nothing(void)
{
	enum { SPRAYERS = 8, READERS = 10, N = SPRAYERS + READERS };
	const char *env = getenv("PARLEY_FLOW_SPRAY_KB");
	long kb = env ? atol(env) : 512;
	/* No flood limit and the smallest rings: several rings' worth from
	 * every sprayer. The send queues are out of the way here (a slow
	 * test process must not be mistaken for a slow client). */
	struct ts_server *s = start("--flood-rate 0 --outbox-size 262144 "
				    "--sendq 67108864 --join-notices 0");
	struct fl_client c[N];
	struct fl_group g = {.pad = 8};
	unsigned seed = 13;
	char line[1300];

	REQUIRE(s);
	if (!CHECK(fl_join(&g, c, N, s->port) == 0))
		goto out;
	fl_readers = fl_senders = 0;
	for (int i = 0; i < SPRAYERS; i++) {
		size_t bytes = 0;
		fl_senders |= 1u << i;
		/* Garbage with a marker every eighth line, so every reader can
		 * tell that nothing of it was lost. */
		for (int k = 0; bytes < (size_t)kb * 1024; k++) {
			if (k % 8 == 7) {
				fl_queue_markers(&g, i, 1);
				continue;
			}
			size_t n = fl_garbage_line(&seed, line, sizeof(line));
			fl_queue(&c[i], line, n);
			bytes += n;
		}
	}
	for (int i = SPRAYERS; i < N; i++)
		fl_readers |= 1u << i;
	if (!CHECKF(fl_pump(&g, fl_all_delivered, NULL, 180000) == 0,
		    "the sprayers' markers did not all arrive"))
		fl_dump(&g);
	check_readers_lossless(&g, "sprayers");
	CHECK(ts_log_count(s, "session fell behind") == 0);
	CHECK(ts_log_count(s, "stalled") == 0);
	CHECK(ts_log_count(s, "send queue exceeded") == 0);
	CHECK(ts_log_count(s, "killed by signal") == 0);
out:
	fl_close(&g);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

/* ---- a burst with a small soft limit ------------------------------------ */

enum { BURST_N = 10, BURST_M = 3000, BURST_WINDOW = 64 };

/* Each sender keeps at most BURST_WINDOW markers in flight: sent, and
 * not yet received by the slowest reader. So no reader's queue in the
 * server can pass (BURST_N - 1) x BURST_WINDOW markers, about 130 KiB:
 * over the 64 KiB soft limit, never near the 256 KiB hard one, however
 * late a session process runs (bounding only what the next client has
 * received let a session that was off the CPU for a few milliseconds
 * find a quarter of a megabyte to deliver at once, and be cut off). */
static void
fl_burst_feed(struct fl_group *g)
{
	for (int i = 0; i < BURST_N; i++) {
		long least = g->c[i].sent;
		for (int r = 0; r < BURST_N; r++)
			if (r != i && !g->c[r].m.eof && g->c[r].from[i] < least)
				least = g->c[r].from[i];
		long room = BURST_WINDOW - (g->c[i].sent - least);
		if (room > BURST_M - g->c[i].sent)
			room = BURST_M - g->c[i].sent;
		if (room > 0)
			fl_queue_markers(g, i, room);
	}
}

static int
fl_burst_done(struct fl_group *g)
{
	for (int i = 0; i < BURST_N; i++)
		if (g->c[i].m.eof)
			return 1; /* a reader is gone: the checks say so */
	for (int i = 0; i < BURST_N; i++)
		if (g->c[i].sent < BURST_M)
			return 0;
	return fl_all_delivered(g);
}

static void
test_burst_over_a_small_sendq_cuts_off_no_reader_that_keeps_up(void)
{
	/* Ten clients, each 3,000 messages of 200 bytes, 64 in flight to
	 * the slowest reader: the readers' queues may pass the 64 KiB soft
	 * limit during the burst and drain again; an eleventh client never
	 * reads and is the only one cut off. */
	struct ts_server *s = start("--flood-rate 0 --sendq 65536");
	struct fl_client c[BURST_N + 1];
	struct fl_group g = {.pad = 200};
	int small = 4096;

	REQUIRE(s);
	if (!CHECK(fl_join(&g, c, BURST_N + 1, s->port) == 0))
		goto out;
	setsockopt(c[BURST_N].m.fd, SOL_SOCKET, SO_RCVBUF, &small,
		   sizeof(small));
	c[BURST_N].frozen = 1;
	fl_readers = (1u << BURST_N) - 1;
	fl_senders = (1u << BURST_N) - 1;
	if (!CHECKF(fl_pump(&g, fl_burst_done, fl_burst_feed, 180000) == 0,
		    "the burst was not delivered"))
		fl_dump(&g);
	check_readers_lossless(&g, "burst");
	CHECK(ts_log_wait(s, "left: send queue exceeded", 30000) == 0);
	if (!CHECKF(ts_log_count(s, "left: send queue exceeded") == 1,
		    "%d clients cut off, only the one that never reads "
		    "should be",
		    ts_log_count(s, "left: send queue exceeded"))) {
		char why[512];
		if (ts_log_line(s, "send queue exceeded (", why, sizeof(why)) ==
		    0)
			printf("  first: %s\n", why);
	}
	CHECK(ts_log_count(s, "session fell behind") == 0);
out:
	fl_close(&g);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

/* ---- a client that never reads ------------------------------------------ */

struct sendq_case {
	const char *name;
	const char *args;
	const char *why; /* in the log line that cuts it off */
};

static const struct sendq_case sendq_cases[] = {
    /* Over the soft limit, under the hard one: cut off once it has been
     * over for --sendq-seconds (and not for the hard limit). */
    {"over --sendq for --sendq-seconds",
     "--flood-rate 0 --sendq 65536 --sendq-seconds 1 "
     "--sendq-hard 1073741824",
     "over --sendq too long"},
    /* Over the hard limit: at once, long before --sendq-seconds. */
    {"over --sendq-hard",
     "--flood-rate 0 --sendq 65536 --sendq-seconds 3600 "
     "--sendq-hard 262144",
     "over --sendq-hard"},
};

enum { SENDQ_N = 4, SENDQ_SENDERS = 3, SENDQ_M = 3000, SENDQ_WINDOW = 16 };

static int sendq_victim;

/* The senders keep SENDQ_WINDOW markers in flight to the slowest reader:
 * the readers' queues stay small (they keep up), the victim's grows. */
static void
fl_sendq_feed(struct fl_group *g)
{
	for (int i = 0; i < SENDQ_SENDERS; i++) {
		long least = g->c[i].sent;
		for (int r = 0; r < g->n; r++)
			if (r != i && (fl_readers & (1u << r)) &&
			    g->c[r].from[i] < least)
				least = g->c[r].from[i];
		long room = SENDQ_WINDOW - (g->c[i].sent - least);
		if (room > SENDQ_M - g->c[i].sent)
			room = SENDQ_M - g->c[i].sent;
		if (room > 0)
			fl_queue_markers(g, i, room);
	}
}

static int
fl_victim_announced(struct fl_group *g)
{
	for (int i = 0; i < SENDQ_SENDERS; i++)
		if (g->c[i].sent < SENDQ_M)
			return 0;
	if (!fl_all_delivered(g))
		return 0;
	for (int i = 0; i < g->n; i++)
		if ((fl_readers & (1u << i)) &&
		    g->c[i].quit_sendq[sendq_victim] == 0)
			return 0;
	return 1;
}

static void
sendq_run(const struct sendq_case *k)
{
	struct ts_server *s = start(k->args);
	struct fl_client c[SENDQ_N];
	struct fl_group g = {.pad = 1000};
	int small = 4096;

	REQUIRE(s);
	if (!CHECK(fl_join(&g, c, SENDQ_N, s->port) == 0))
		goto out;
	/* The last client never reads; three send 3,000 x 1,000 bytes (more
	 * than the kernel's socket buffers take) and everyone else reads. */
	sendq_victim = SENDQ_N - 1;
	setsockopt(c[sendq_victim].m.fd, SOL_SOCKET, SO_RCVBUF, &small,
		   sizeof(small));
	c[sendq_victim].frozen = 1;
	fl_readers = (1u << sendq_victim) - 1;
	fl_senders = (1u << SENDQ_SENDERS) - 1;
	if (!CHECKF(fl_pump(&g, fl_victim_announced, fl_sendq_feed, 120000) ==
			0,
		    "%s: not cut off, or not announced", k->name))
		fl_dump(&g);
	check_readers_lossless(&g, k->name);
	/* The others may hear of it before its session's log line is read:
	 * wait for the line, then count. */
	(void)ts_log_wait(s, "left: send queue exceeded", 10000);
	CHECKF(ts_log_count(s, "send queue exceeded (") == 1, "%s: %d cut off",
	       k->name, ts_log_count(s, "send queue exceeded ("));
	CHECKF(ts_log_count(s, k->why) == 1, "%s: not cut off for %s", k->name,
	       k->why);
	CHECK(ts_log_count(s, "left: send queue exceeded") == 1);
out:
	fl_close(&g);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

static void
test_client_that_never_reads_is_cut_off_by_time_or_at_once_others_lose_nothing(
    void)
{
	for (size_t i = 0; i < sizeof(sendq_cases) / sizeof(sendq_cases[0]);
	     i++)
		sendq_run(&sendq_cases[i]);
}

/* ---- a stopped reader --------------------------------------------------- */

static unsigned fl_stopped;

static int
fl_stopped_gone(struct fl_group *g)
{
	for (int i = 0; i < g->n; i++)
		if ((fl_stopped & (1u << i)) && !g->c[i].m.eof)
			return 0;
	return 1;
}

static void
test_stopped_reader_holds_writers_back_until_the_stall_timeout_then_is_lapped(
    void)
{
	enum { N = 6, M = 3000 };
	/* Two senders write about seven of these rings while the victim's
	 * process is stopped: their input is not read until it is declared
	 * stalled (the default --stall-timeout), then everyone else flows. */
	struct ts_server *s = start("--flood-rate 0 --outbox-size 262144 "
				    "--sendq 67108864 "
				    "--metrics-listen 127.0.0.1:0");
	struct fl_client c[N];
	struct fl_group g = {.pad = 200};
	pid_t pid_of[N], victim = -1;
	int nsend = 0;

	REQUIRE(s);
	if (!CHECK(fl_join(&g, c, N, s->port) == 0))
		goto out;
	for (int i = 0; i < N; i++) {
		pid_of[i] = ts_session_of(s, c[i].m.fd);
		if (!CHECKF(pid_of[i] > 0, "no process for client %d", i))
			goto out;
	}
	/* Client 0's process is the victim; in the workers model every
	 * client of that worker is stopped with it. */
	victim = pid_of[0];
	fl_stopped = fl_readers = fl_senders = 0;
	for (int i = 0; i < N; i++) {
		if (pid_of[i] == victim) {
			fl_stopped |= 1u << i;
			c[i].frozen = 1;
			continue;
		}
		fl_readers |= 1u << i;
		if (nsend < 2) {
			fl_senders |= 1u << i;
			fl_queue_markers(&g, i, M);
			nsend++;
		}
	}
	REQUIRE(nsend == 2 && __builtin_popcount(fl_readers) > 2);
	REQUIRE(kill(victim, SIGSTOP) == 0);
	if (!CHECKF(fl_pump(&g, fl_all_delivered, NULL, 120000) == 0,
		    "the others did not flow again"))
		fl_dump(&g);
	check_readers_lossless(&g, "while stopped");
	CHECK(ts_log_count(s, "stalled: ") == 1);
	/* The operator sees it: one stall, and the senders' sessions paused
	 * for room in their outbox and waited (the stall timeout, at
	 * least, in all: only that it was counted is checked). */
	CHECK(ts_metric(s, "parley_stalled_readers_total") == 1);
	CHECK(ts_metric(s, "parley_input_pauses_total{cause=\"outbox\"}") >= 1);
	CHECK(ts_metric(s, "parley_flow_wait_seconds_total") > 0);
	/* Resumed, it finds itself lapped at once: its clients are told and
	 * disconnected; what they got before is whole and in order. */
	REQUIRE(kill(victim, SIGCONT) == 0);
	for (int i = 0; i < N; i++)
		if (fl_stopped & (1u << i))
			c[i].frozen = 0;
	CHECKF(fl_pump(&g, fl_stopped_gone, NULL, 60000) == 0,
	       "the stopped clients were not disconnected");
	for (int i = 0; i < N; i++) {
		if (!(fl_stopped & (1u << i)))
			continue;
		CHECKF(c[i].lost == 1, "stopped client %d: %d notices", i,
		       c[i].lost);
		CHECKF(c[i].disorder == 0 && c[i].torn == 0,
		       "stopped client %d: %d markers out of order, %d torn", i,
		       c[i].disorder, c[i].torn);
		for (int snd = 0; snd < N; snd++)
			CHECKF(c[i].from[snd] < M ||
				   !(fl_senders & (1u << snd)),
			       "stopped client %d got all of %d's markers", i,
			       snd);
	}
	CHECK(ts_log_wait(s, "session fell behind", 10000) == 0);
	CHECK(ts_log_count(s, "killed by signal") == 0);
	victim = -1;
out:
	if (victim > 0)
		kill(victim, SIGCONT);
	fl_close(&g);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

/* ---- the supervisor's ring ----------------------------------------------- */

enum { RING0_OWNERS = 28, RING0_ROOMS = 31, RING0_ASKS = 80 };

static int
fl_owners_done(struct fl_group *g)
{
	for (int i = 0; i < RING0_OWNERS; i++)
		if (!g->c[i].who || g->c[i].m.eof)
			return g->c[i].m.eof;
	return 1;
}

static long ring0_want;
static int ring0_asker;
static struct ts_server *ring0_server;

static int
fl_deferred(struct fl_group *g)
{
	(void)g;
	return ts_log_count(ring0_server, "deferred since the last report") > 0;
}

static int
fl_rooms_done(struct fl_group *g)
{
	return g->c[ring0_asker].room_lines >= ring0_want ||
	       g->c[ring0_asker].m.eof;
}

static void
test_supervisor_ring_waits_for_a_stopped_reader_instead_of_lapping_it(void)
{
	enum { N = RING0_OWNERS + 2 };
	/* Writers wait for the stopped reader as long as it takes here: the
	 * replies to /rooms fill the supervisor's ring (16 MiB with the
	 * smallest session rings, in both models), and then the requests
	 * wait, never the supervisor's loop. */
	struct ts_server *s =
	    start("--flood-rate 0 --stall-timeout 3600000 --join-notices 0 "
		  "--max-rooms-per-client 32 --outbox-size 262144 --verbose");
	struct fl_client c[N];
	struct fl_group g = {.pad = 0};
	/* Each owner is in #lobby and RING0_ROOMS more: 32, the most. */
	long rooms = RING0_OWNERS * RING0_ROOMS + 1;
	pid_t victim = -1, asker_pid;
	char line[512], topic[251];
	int asker = N - 2, stopped = N - 1;

	REQUIRE(s);
	if (!CHECK(fl_join(&g, c, N, s->port) == 0))
		goto out;
	/* Many rooms with long topics: each /rooms answer is about 300
	 * kB. */
	memset(topic, 'y', sizeof(topic) - 1);
	topic[sizeof(topic) - 1] = '\0';
	for (int i = 0; i < RING0_OWNERS; i++) {
		for (int r = 0; r < RING0_ROOMS; r++) {
			int n =
			    snprintf(line, sizeof(line),
				     "/join #r%02d_%02d\n/topic #r%02d_%02d "
				     "%s\n",
				     i, r, i, r, topic);
			fl_queue(&c[i], line, (size_t)n);
		}
		fl_queue(&c[i], "/who\n", 5);
	}
	if (!CHECKF(fl_pump(&g, fl_owners_done, NULL, 120000) == 0,
		    "the rooms were not set up"))
		goto out;
	pid_t stop_pid = ts_session_of(s, c[stopped].m.fd);
	asker_pid = ts_session_of(s, c[asker].m.fd);
	if (!CHECK(stop_pid > 0 && asker_pid > 0))
		goto out;
	victim = stop_pid;
	if (victim == asker_pid) { /* one worker has both: swap roles */
		for (int i = 0; i < RING0_OWNERS; i++)
			if (ts_session_of(s, c[i].m.fd) != victim) {
				asker = i;
				break;
			}
		if (!CHECK(asker != N - 2))
			goto out;
	}
	ring0_asker = asker;
	for (int i = 0; i < N; i++)
		if (ts_session_of(s, c[i].m.fd) == victim)
			c[i].frozen = 1;
	c[asker].room_lines = 0;
	if (!CHECK(kill(victim, SIGSTOP) == 0))
		goto out;
	for (int k = 0; k < RING0_ASKS; k++)
		fl_queue(&c[asker], "/rooms\n", 7);
	/* The supervisor defers the requests once its ring lacks room for
	 * the next answer: the asker is left waiting. */
	ring0_server = s;
	CHECK(fl_pump(&g, fl_deferred, NULL, 120000) == 0);
	ring0_want = rooms * RING0_ASKS;
	CHECKF(c[asker].room_lines < ring0_want,
	       "all %ld /rooms lines arrived while a reader was stopped",
	       c[asker].room_lines);
	/* Once it reads again, every answer comes, and nobody was lapped. */
	CHECK(kill(victim, SIGCONT) == 0);
	victim = -1;
	for (int i = 0; i < N; i++)
		c[i].frozen = 0;
	CHECKF(fl_pump(&g, fl_rooms_done, NULL, 120000) == 0,
	       "the asker got %ld of %ld /rooms lines", c[asker].room_lines,
	       ring0_want);
	CHECK(c[asker].room_lines == ring0_want);
	for (int i = 0; i < N; i++)
		CHECKF(!c[i].m.eof && c[i].lost == 0,
		       "client %d disconnected (%d)", i, c[i].lost);
	CHECK(ts_log_count(s, "session fell behind") == 0);
	CHECK(ts_log_count(s, "stalled: ") == 0);
out:
	if (victim > 0)
		kill(victim, SIGCONT);
	fl_close(&g);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];

	workers_model =
	    tl_init(argc, argv, "flow", model_args, sizeof(model_args), suite);
	RUN(test_garbage_sprayers_beside_fast_readers_lose_and_disconnect_nothing);
	RUN(test_burst_over_a_small_sendq_cuts_off_no_reader_that_keeps_up);
	RUN(test_client_that_never_reads_is_cut_off_by_time_or_at_once_others_lose_nothing);
	RUN(test_stopped_reader_holds_writers_back_until_the_stall_timeout_then_is_lapped);
	RUN(test_supervisor_ring_waits_for_a_stopped_reader_instead_of_lapping_it);
	return tl_summary(suite);
}
