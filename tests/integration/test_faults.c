/*
 * test_faults: fault injection against the real parleyd: session (or
 * worker) processes killed with SIGKILL mid-burst, a session stopped until
 * it is lapped, slow-loris input, non-chat protocols on the plain port, a
 * half-closed client and a client that never reads. Every test starts its
 * own server; the process model comes from PARLEY_TEST_ARGS.
 */
#include "../mesh.h"
#include "../testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char model_args[256];
static int workers_model;
static unsigned fault_seed;

static struct ts_server *
start(const char *args)
{
	return ts_start_model(model_args, args);
}

/* ---- a mesh pump that also counts server notices ------------------------ */

enum { FC_MAX = 16 };

struct fclient {
	struct mesh_client m;
	int quit_lost[FC_MAX];	/* "-!- NICK quit (connection lost)" */
	int quit_other[FC_MAX]; /* any other quit reason */
	char quit_why[FC_MAX][64];
	int lost_notice; /* "-!- disconnected: messages lost" */
	char who[2048];	 /* last "-!- members of" line */
	int who_seen;
};

struct fgroup {
	struct fclient *c;
	int n;
};

static int
fault_index_of(const struct fgroup *g, const char *nick, size_t len)
{
	for (int i = 0; i < g->n; i++)
		if (strlen(g->c[i].m.nick) == len &&
		    memcmp(g->c[i].m.nick, nick, len) == 0)
			return i;
	return -1;
}

static void
fault_line(struct fgroup *g, struct fclient *c, const char *line)
{
	const char *m = strstr(line, "> m "), *q;

	if (line[0] == '#' && m) {
		struct mesh_msg msg;
		if (sscanf(m + 4, "%d %d", &msg.sender, &msg.seq) != 2)
			return;
		if (c->m.ngot == c->m.got_cap) {
			c->m.got_cap = c->m.got_cap ? c->m.got_cap * 2 : 1024;
			c->m.got =
			    realloc(c->m.got, c->m.got_cap * sizeof(*c->m.got));
			if (!c->m.got)
				abort();
		}
		c->m.got[c->m.ngot++] = msg;
		return;
	}
	if (strncmp(line, "-!- members of ", 15) == 0) {
		snprintf(c->who, sizeof(c->who), "%.2000s", line);
		c->who_seen++;
		return;
	}
	if (strcmp(line, "-!- disconnected: messages lost") == 0)
		c->lost_notice++;
	if (strncmp(line, "-!- ", 4) == 0 && (q = strstr(line, " quit ("))) {
		int who = fault_index_of(g, line + 4, (size_t)(q - line - 4));
		if (who < 0)
			return;
		if (strcmp(q, " quit (connection lost)") == 0) {
			c->quit_lost[who]++;
		} else {
			c->quit_other[who]++;
			snprintf(c->quit_why[who], sizeof(c->quit_why[who]),
				 "%.60s", q + 7);
		}
	}
}

struct fault_line_arg {
	struct fgroup *g;
	struct fclient *c;
};

static void
fault_line_cb(void *arg, char *line)
{
	struct fault_line_arg *a = arg;

	fault_line(a->g, a->c, line);
}

static void
fault_read(struct fgroup *g, struct fclient *c)
{
	struct mesh_client *mc = &c->m;
	struct fault_line_arg a = {g, c};

	if (mesh_recv_lines(mc->fd, mc->in, sizeof(mc->in), &mc->in_len,
			    fault_line_cb, &a))
		mc->eof = 1;
}

/* Pumps every client that is not at EOF (skipping those in mask `frozen`)
 * until done(g) or the deadline. Returns 0 when done, -1 on timeout. */
static int
fault_pump(struct fgroup *g, int (*done)(struct fgroup *), unsigned frozen,
	   int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	struct pollfd pfd[FC_MAX];

	while (!done(g)) {
		long long left = deadline - tl_now_ms();
		if (left <= 0)
			return -1;
		for (int i = 0; i < g->n; i++) {
			struct mesh_client *mc = &g->c[i].m;
			int skip = mc->eof || (frozen & (1u << i));
			pfd[i].fd = skip ? -1 : mc->fd;
			pfd[i].events = POLLIN;
			if (mc->out_off < mc->out_len)
				pfd[i].events |= POLLOUT;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)g->n, (int)(left < 100 ? left : 100)) <
			0 &&
		    errno != EINTR)
			return -1;
		for (int i = 0; i < g->n; i++) {
			if (pfd[i].revents & POLLOUT)
				mesh_write(&g->c[i].m);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				fault_read(g, &g->c[i]);
		}
	}
	return 0;
}

static int
fault_join(struct fclient *c, int n, int port)
{
	struct mesh_client m[FC_MAX];

	if (mesh_join(m, n, port, 0) < 0) {
		for (int i = 0; i < n; i++)
			if (m[i].fd >= 0)
				tc_close(m[i].fd);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		memcpy(c[i].m.nick, m[i].nick, sizeof(m[i].nick));
		c[i].m.fd = m[i].fd;
	}
	return 0;
}

static void
fault_close(struct fclient *c, int n)
{
	for (int i = 0; i < n; i++) {
		tc_close(c[i].m.fd);
		free(c[i].m.out);
		free(c[i].m.got);
	}
}

static void
fault_queue_line(struct fclient *c, const char *text)
{
	struct mesh_client *m = &c->m;
	size_t n = strlen(text);
	char *p = realloc(m->out, m->out_len + n);

	if (!p)
		abort();
	m->out = p;
	memcpy(m->out + m->out_len, text, n);
	m->out_len += n;
}

/* Queues count lines "m SENDER SEQ xxx" for c, as mesh_queue does. */
static void
fault_queue_msgs(struct fclient *c, int sender, int count, size_t pad)
{
	char line[64 + 1024];

	if (pad > 1024)
		pad = 1024;
	for (int k = 0; k < count; k++) {
		int w = snprintf(line, sizeof(line), "m %d %d ", sender, k);
		memset(line + w, 'x', pad);
		line[(size_t)w + pad] = '\n';
		line[(size_t)w + pad + 1] = '\0';
		fault_queue_line(c, line);
	}
}

/* Messages from sender arrive in order from 0 without gaps or repeats;
 * returns how many, or -1. */
static long
fault_sender_count(const struct mesh_client *c, int sender)
{
	size_t n;

	return mesh_sender_in_order(c, sender, &n) == 0 ? (long)n : -1;
}

/* On a timeout: what each client got from each sender. */
static void
fault_dump(const struct fgroup *g)
{
	for (int i = 0; i < g->n; i++) {
		printf("  client %d (%s)%s:", i, g->c[i].m.nick,
		       g->c[i].m.eof ? " eof" : "");
		for (int snd = 0; snd < g->n; snd++)
			printf(" %zu", mesh_count_from(&g->c[i].m, snd));
		printf("\n");
	}
}

/* ---- the state a burst-with-faults test waits for ----------------------- */

struct burst {
	struct fgroup g;
	unsigned dead; /* clients whose process was killed or stopped */
	size_t each;   /* messages each sender sends */
	unsigned senders;
	int want_quits; /* survivors must see each dead one quit */
	int skip_eof;	/* ... without waiting for the dead to see EOF */
};

static struct burst *burst_now;

static int
burst_done(struct fgroup *g)
{
	struct burst *b = burst_now;

	for (int i = 0; i < g->n; i++) {
		struct fclient *c = &g->c[i];
		if (b->dead & (1u << i)) {
			/* Before the quits are due, dead ones may be stopped
			 * rather than gone. */
			if (b->want_quits && !b->skip_eof && !c->m.eof)
				return 0;
			continue;
		}
		for (int snd = 0; snd < g->n; snd++) {
			if (snd == i || (b->dead & (1u << snd)) ||
			    !(b->senders & (1u << snd)))
				continue;
			if (mesh_count_from(&c->m, snd) < b->each)
				return 0;
		}
		if (!b->want_quits)
			continue;
		for (int d = 0; d < g->n; d++)
			if ((b->dead & (1u << d)) &&
			    c->quit_lost[d] + c->quit_other[d] == 0)
				return 0;
	}
	return 1;
}

static int
who_done(struct fgroup *g)
{
	for (int i = 0; i < g->n; i++)
		if (!g->c[i].m.eof && !(burst_now->dead & (1u << i)) &&
		    !g->c[i].who_seen)
			return 0;
	return 1;
}

/* Every survivor asks /who; the member list is exactly the survivors. */
static void
check_who_is_survivors(struct burst *b)
{
	struct fgroup *g = &b->g;

	for (int i = 0; i < g->n; i++) {
		g->c[i].who_seen = 0;
		if (!(b->dead & (1u << i)))
			fault_queue_line(&g->c[i], "/who\n");
	}
	CHECKF(fault_pump(g, who_done, 0, 20000) == 0, "no /who reply");
	for (int i = 0; i < g->n; i++) {
		if (b->dead & (1u << i))
			continue;
		const char *list =
		    g->c[i].who + strlen("-!- members of #lobby:");
		int members = 0;
		for (const char *p = list; *p;) {
			while (*p == ' ')
				p++;
			const char *e = p;
			while (*e && *e != ' ')
				e++;
			if (e == p)
				break;
			int who = fault_index_of(g, p, (size_t)(e - p));
			CHECKF(who >= 0 && !(b->dead & (1u << who)),
			       "client %d: /who lists %.*s, not a live client "
			       "(%s)",
			       i, (int)(e - p), p, g->c[i].who);
			members++;
			p = e;
		}
		CHECKF(members == g->n - __builtin_popcount(b->dead),
		       "client %d: /who has %d members, %d are alive: %s", i,
		       members, g->n - __builtin_popcount(b->dead),
		       g->c[i].who);
	}
}

/* ---- tests -------------------------------------------------------------- */

static int
burst_third(struct fgroup *g)
{
	struct burst *b = burst_now;
	size_t want = 0;

	for (int snd = 1; snd < g->n; snd++)
		want += b->each;
	return g->c[0].m.ngot >= want / 3 || g->c[0].m.eof;
}

/* One round: N clients burst; mid-burst some session processes (fork
 * model: two clients' sessions; workers: one worker) get SIGKILL. */
static void
kill_round(int round)
{
	enum { N = 8, M = 1500 };
	struct ts_server *s = start("--flood-rate 0 --sendq 67108864");
	struct fclient c[N];
	struct burst b = {.g = {c, N}, .each = M, .want_quits = 1};
	pid_t pid_of[N], victims[N];
	int nvictims = 0;

	REQUIRE(s);
	REQUIRE(fault_join(c, N, s->port) == 0);
	for (int i = 0; i < N; i++) {
		pid_of[i] = ts_session_of(s, c[i].m.fd);
		/* Never kill(-1, ...): no pid, no test. */
		if (!CHECKF(pid_of[i] > 0, "round %d: no process for client %d",
			    round, i))
			goto out;
	}
	/* Client 0 times the kill, so its process stays alive. */
	for (int tries = 0; nvictims < (workers_model ? 1 : 2); tries++) {
		if (!CHECKF(tries < 10000, "round %d: no process to kill",
			    round))
			goto out;
		int pick = 1 + (int)(rand_r(&fault_seed) % (N - 1));
		if ((b.dead & (1u << pick)) || pid_of[pick] == pid_of[0])
			continue;
		victims[nvictims++] = pid_of[pick];
		for (int i = 0; i < N; i++)
			if (pid_of[i] == pid_of[pick])
				b.dead |= 1u << i;
	}
	REQUIRE(b.dead != 0 && !(b.dead & 1u));
	for (int i = 0; i < N; i++) {
		fault_queue_msgs(&c[i], i, M, 20);
		b.senders |= 1u << i;
	}
	burst_now = &b;
	REQUIRE(fault_pump(&b.g, burst_third, 0, 60000) == 0);
	for (int v = 0; v < nvictims; v++)
		CHECK(kill(victims[v], SIGKILL) == 0);
	if (!CHECKF(fault_pump(&b.g, burst_done, 0, 60000) == 0,
		    "round %d: survivors did not get everything (seed %u)",
		    round, fault_seed))
		fault_dump(&b.g);
	for (int i = 0; i < N; i++) {
		if (b.dead & (1u << i))
			continue;
		for (int snd = 0; snd < N; snd++) {
			if (snd == i)
				continue;
			long k = fault_sender_count(&c[i].m, snd);
			CHECKF(k >= 0,
			       "round %d: client %d: sender %d has a gap",
			       round, i, snd);
			if (!(b.dead & (1u << snd)))
				CHECKF(k == M,
				       "round %d: client %d got %ld of %d from "
				       "%d",
				       round, i, k, M, snd);
		}
	}
	check_who_is_survivors(&b);
	for (int i = 0; i < N; i++) {
		if (b.dead & (1u << i))
			continue;
		for (int d = 0; d < N; d++) {
			if (!(b.dead & (1u << d)))
				continue;
			CHECKF(c[i].quit_lost[d] == 1 &&
				   c[i].quit_other[d] == 0,
			       "round %d: client %d saw %s quit (connection "
			       "lost) %d times, other reasons %d (%s)",
			       round, i, c[d].m.nick, c[i].quit_lost[d],
			       c[i].quit_other[d], c[i].quit_why[d]);
		}
	}
	CHECK(ts_log_wait_count(s, "killed by signal 9", nvictims, 10000) == 0);
	CHECK(ts_log_count(s, "killed by signal 9") == nvictims);
out:
	fault_close(c, N);
	if (s)
		TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

static void
test_sigkilled_sessions_mid_burst_lose_nothing_and_are_announced_once(void)
{
	for (int round = 0; round < 3; round++)
		kill_round(round);
}

static int
lapped_done(struct fgroup *g)
{
	struct burst *b = burst_now;

	for (int i = 0; i < g->n; i++)
		if ((b->dead & (1u << i)) && !g->c[i].m.eof)
			return 0;
	for (int i = 0; i < g->n; i++) {
		if (b->dead & (1u << i))
			continue;
		for (int d = 0; d < g->n; d++)
			if ((b->dead & (1u << d)) &&
			    g->c[i].quit_lost[d] + g->c[i].quit_other[d] == 0)
				return 0;
	}
	return 1;
}

static void
test_stopped_session_is_lapped_then_disconnected_others_unaffected(void)
{
	enum { N = 6, M = 3000, PAD = 200 };
	/* The smallest rings: two senders write several rings' worth while
	 * the victim's process is stopped. Their input is held back until
	 * the victim is declared stalled (--stall-timeout), then it is
	 * lapped. test_flow.c does the same with no flood limit at all.
	 * PARLEY_FAULT_LAP_ARGS replaces these server flags. */
	const char *lap_args = getenv("PARLEY_FAULT_LAP_ARGS");
	struct ts_server *s =
	    start(lap_args ? lap_args
			   : "--outbox-size 262144 --flood-rate 5000 "
			     "--flood-burst 100 --sendq 67108864");
	struct fclient c[N];
	struct burst b = {.g = {c, N}, .each = M};
	pid_t pid_of[N];

	REQUIRE(s);
	REQUIRE(fault_join(c, N, s->port) == 0);
	for (int i = 0; i < N; i++) {
		pid_of[i] = ts_session_of(s, c[i].m.fd);
		if (!CHECKF(pid_of[i] > 0, "no process for client %d", i))
			goto out;
	}
	/* Client 0 is the victim; in the workers model every client of its
	 * worker is stopped with it. */
	pid_t victim = pid_of[0];
	for (int i = 0; i < N; i++)
		if (pid_of[i] == victim)
			b.dead |= 1u << i;
	int nsend = 0;
	for (int i = 0; i < N && nsend < 2; i++)
		if (!(b.dead & (1u << i))) {
			fault_queue_msgs(&c[i], i, M, PAD);
			b.senders |= 1u << i;
			nsend++;
		}
	REQUIRE(nsend >= 1 && __builtin_popcount(b.dead) < N - 1);
	REQUIRE(kill(victim, SIGSTOP) == 0);
	burst_now = &b;
	/* Everyone awake gets everything; the stopped ones are not read. */
	if (!CHECKF(fault_pump(&b.g, burst_done, b.dead, 20000) == 0,
		    "awake clients did not get the burst"))
		fault_dump(&b.g);
	REQUIRE(kill(victim, SIGCONT) == 0);
	b.want_quits = 1;
	CHECKF(fault_pump(&b.g, lapped_done, 0, 30000) == 0,
	       "lapped clients not disconnected and announced");
	for (int i = 0; i < N; i++) {
		if (!(b.dead & (1u << i)))
			continue;
		CHECKF(c[i].lost_notice == 1,
		       "lapped client %d got %d \"messages lost\" notices", i,
		       c[i].lost_notice);
	}
	for (int i = 0; i < N; i++) {
		if (b.dead & (1u << i))
			continue;
		CHECKF(!c[i].m.eof, "awake client %d was disconnected", i);
		for (int snd = 0; snd < N; snd++) {
			if (snd == i || !(b.senders & (1u << snd)))
				continue;
			CHECKF(fault_sender_count(&c[i].m, snd) == M,
			       "client %d got %ld of %d from %d", i,
			       fault_sender_count(&c[i].m, snd), M, snd);
		}
		for (int d = 0; d < N; d++)
			if (b.dead & (1u << d))
				CHECKF(c[i].quit_other[d] == 1 &&
					   c[i].quit_lost[d] == 0 &&
					   strcmp(c[i].quit_why[d],
						  "messages lost)") == 0,
				       "client %d: %s quit %d times as lost, "
				       "%d otherwise (last: %s)",
				       i, c[d].m.nick, c[i].quit_lost[d],
				       c[i].quit_other[d], c[i].quit_why[d]);
	}
	CHECK(ts_log_wait(s, "session fell behind", 10000) == 0);
	CHECK(ts_log_count(s, "killed by signal") == 0);
	check_who_is_survivors(&b);
out:
	if (pid_of[0] > 0)
		kill(pid_of[0], SIGCONT);
	fault_close(c, N);
	if (s)
		TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

/* Lines "> loris line" seen by expect_clean. */
static int loris_lines;
static int loris_count_fd = -1;

/* With the smallest rings and no flood limit, a plain burst from two
 * clients once lapped sessions that were merely descheduled. Writers are
 * now paced by the slowest live reader (DESIGN.md section 3): nobody who
 * keeps up is lapped. */
static void
test_awake_sessions_are_not_lapped_by_an_unthrottled_burst(void)
{
	enum { N = 6, M = 3000, PAD = 200 };
	struct ts_server *s = start("--outbox-size 262144 --flood-rate 0 "
				    "--sendq 67108864");
	struct fclient c[N];
	struct burst b = {.g = {c, N}, .each = M};

	REQUIRE(s);
	REQUIRE(fault_join(c, N, s->port) == 0);
	for (int i = 1; i <= 2; i++) {
		fault_queue_msgs(&c[i], i, M, PAD);
		b.senders |= 1u << i;
	}
	burst_now = &b;
	if (!CHECKF(fault_pump(&b.g, burst_done, 0, 20000) == 0,
		    "the burst was not delivered"))
		fault_dump(&b.g);
	for (int i = 0; i < N; i++)
		CHECKF(!c[i].m.eof, "client %d was disconnected", i);
	CHECKF(ts_log_count(s, "session fell behind") == 0,
	       "%d sessions fell behind, none was stalled",
	       ts_log_count(s, "session fell behind"));
	fault_close(c, N);
	if (s)
		TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

/* Reads lines on fd until one contains want; every line read must be
 * clean text (no control characters). */
static int
expect_clean(int fd, const char *want, int *dirty, int timeout_ms)
{
	char line[4096];
	long long deadline = tl_now_ms() + timeout_ms;

	for (;;) {
		long long left = deadline - tl_now_ms();
		if (left <= 0)
			return -1;
		int n = tc_readline(fd, line, sizeof(line), (int)left);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)line[i];
			if (ch < 0x20 || ch == 0x7F)
				(*dirty)++;
		}
		if (fd == loris_count_fd && strstr(line, "> loris line"))
			loris_lines++;
		if (strstr(line, want))
			return 0;
	}
}

static void
test_slow_loris_200_clients_do_not_stall_a_chat(void)
{
	enum { L = 200 };
	static const char text[] = "loris line\n";
	const int rounds = (int)sizeof(text) - 1;
	struct ts_server *s =
	    start("--flood-rate 0 --max-clients 512 --join-notices 0");
	int loris[L], a = -1, b = -1, dirty = 0;
	char want[64];

	for (int i = 0; i < L; i++)
		loris[i] = -1;
	REQUIRE(s);
	loris_lines = 0;
	a = tc_join(s->port, NULL, 0);
	b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	loris_count_fd = b;
	for (int i = 0; i < L; i++) {
		loris[i] = tc_connect(s->port);
		if (!CHECKF(loris[i] >= 0, "loris %d cannot connect", i))
			goto out;
	}
	/* A round: one byte from every loris, then a and b exchange a line;
	 * waiting for that line is the only pacing. */
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < L; i++)
			CHECK(send(loris[i], text + r, 1, MSG_NOSIGNAL) == 1);
		tc_send(a, "from a %d\n", r);
		snprintf(want, sizeof(want), "> from a %d", r);
		CHECKF(expect_clean(b, want, &dirty, 10000) == 0,
		       "round %d: b did not get a's line", r);
		tc_send(b, "from b %d\n", r);
		snprintf(want, sizeof(want), "> from b %d", r);
		CHECKF(expect_clean(a, want, &dirty, 10000) == 0,
		       "round %d: a did not get b's line", r);
	}
	/* Every loris line was framed whole from one-byte reads. Each loris
	 * has its own session (or share of a worker) reading at its own
	 * pace, so wait for them rather than for a marker from a. */
	int got_before = loris_lines;
	long long deadline = tl_now_ms() + 20000;
	while (loris_lines < L && tl_now_ms() < deadline)
		if (expect_clean(b, "> loris line", &dirty,
				 (int)(deadline - tl_now_ms()) + 1) < 0)
			break;
	CHECKF(loris_lines == L,
	       "b got %d of %d loris lines (%d by the last round)", loris_lines,
	       L, got_before);
	CHECK(dirty == 0);
	CHECK(ts_log_count(s, "killed by signal") == 0);
out:
	for (int i = 0; i < L; i++)
		if (loris[i] >= 0)
			tc_close(loris[i]);
	if (a >= 0)
		tc_close(a);
	if (b >= 0)
		tc_close(b);
	if (s)
		TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

/* Reads what the server says to a non-chat client until EOF or quiet;
 * counts unclean bytes. */
static int
drain_clean(int fd, int *dirty, int timeout_ms)
{
	char line[4096];
	int lines = 0, n;

	while ((n = tc_readline(fd, line, sizeof(line), timeout_ms)) >= 0) {
		lines++;
		for (int i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)line[i];
			if (ch < 0x20 || ch == 0x7F)
				(*dirty)++;
		}
	}
	return lines;
}

static void
test_tls_hello_and_http_on_plain_port_are_survived(void)
{
	/* A TLS 1.2 ClientHello record as browsers send it (truncated
	 * extensions), then an HTTP request. */
	static const unsigned char hello[] = {
	    0x16, 0x03, 0x01, 0x00, 0x6a, 0x01, 0x00, 0x00, 0x66, 0x03, 0x03,
	    0x5a, 0x0a, 0x1b, 0xff, 0x00, 0x0d, 0x0a, 0x7f, 0x80, 0xc0, 0xaf,
	    0xe2, 0x80, 0xae, 0x20, 0x00, 0x00, 0x00, 0x0a, 0x13, 0x01, 0x13,
	    0x02, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0x33,
	    0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x09, 0x6c, 0x6f,
	    0x63, 0x61, 0x6c, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x0b, 0x00, 0x04,
	    0x03, 0x00, 0x01, 0x02, 0xff, 0xfb, 0x01, 0xff, 0xfa, 0x18, 0x0a,
	    0x1b, 0x5b, 0x32, 0x4a, 0x0a,
	};
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct ts_server *s = start("");
	int a = -1, b = -1, tls = -1, web = -1, dirty = 0;

	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	b = tc_join(s->port, NULL, 0);
	tls = tc_connect(s->port);
	web = tc_connect(s->port);
	REQUIRE(a >= 0 && b >= 0 && tls >= 0 && web >= 0);
	CHECK(send(tls, hello, sizeof(hello), MSG_NOSIGNAL) ==
	      (ssize_t)sizeof(hello));
	CHECK(send(web, http, strlen(http), MSG_NOSIGNAL) ==
	      (ssize_t)strlen(http));
	/* The server replies with its normal lines, all clean; the TLS
	 * client on a plaintext port is closed (test_tls has the details). */
	tc_send(a, "after the junk\n");
	CHECK(expect_clean(b, "> after the junk", &dirty, 10000) == 0);
	CHECK(tc_wait_eof(tls, 10000) == 0);
	CHECK(expect_clean(web, "> after the junk", &dirty, 10000) == 0);
	tc_send(web, "/quit\n");
	tc_close(tls);
	tls = -1;
	drain_clean(web, &dirty, 5000);
	CHECK(dirty == 0);
	tc_send(b, "still serving\n");
	CHECK(expect_clean(a, "> still serving", &dirty, 10000) == 0);
	CHECK(dirty == 0);
	CHECK(ts_log_count(s, "killed by signal") == 0);
	CHECK(ts_log_count(s, "exited with code") ==
	      ts_log_count(s, "exited with code 0"));
	if (tls >= 0)
		tc_close(tls);
	if (web >= 0)
		tc_close(web);
	if (a >= 0)
		tc_close(a);
	if (b >= 0)
		tc_close(b);
	if (s)
		TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

static void
test_half_closed_client_line_is_delivered_then_it_is_announced_gone(void)
{
	struct ts_server *s = start("");
	char nick[64], want[128], line[512];
	int a = -1, h = -1;

	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	h = tc_join(s->port, nick, sizeof(nick));
	REQUIRE(a >= 0 && h >= 0);
	tc_send(h, "last words before eof\n");
	CHECK(shutdown(h, SHUT_WR) == 0);
	snprintf(want, sizeof(want), "#lobby <%s> last words before eof", nick);
	CHECK(tc_expect(a, want, line, sizeof(line), 10000) > 0);
	snprintf(want, sizeof(want), "-!- %s quit (", nick);
	CHECK(tc_expect(a, want, line, sizeof(line), 10000) > 0);
	CHECK(tc_wait_eof(h, 10000) == 0);
	tc_send(a, "/who\n");
	CHECK(tc_expect(a, "-!- members of #lobby:", line, sizeof(line),
			10000) > 0);
	CHECKF(strstr(line, nick) == NULL, "%s still listed: %s", nick, line);
	CHECK(ts_log_count(s, "killed by signal") == 0);
	tc_close(a);
	tc_close(h);
	if (s)
		TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

static void
test_client_that_never_reads_is_disconnected_others_unaffected(void)
{
	enum { N = 3, M = 3000, PAD = 900 };
	/* Paced so the test's readers keep up, with a send queue that
	 * outlasts a loaded machine's pauses in the test's one reading
	 * thread (256 kB once cut off all three readers at 2/3 of the
	 * burst); the non-reader still gets 8 MB. */
	struct ts_server *s = start("--flood-rate 5000 --flood-burst 100 "
				    "--sendq 1048576");
	struct fclient c[N + 1];
	struct burst b = {.g = {c, N + 1}, .each = M};
	int small = 4096;

	REQUIRE(s);
	/* Client N never reads: its process is not stopped, it just does
	 * not read, so the server's send queue for it fills. */
	REQUIRE(fault_join(c, N + 1, s->port) == 0);
	setsockopt(c[N].m.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	b.dead = 1u << N;
	for (int i = 0; i < N; i++) {
		fault_queue_msgs(&c[i], i, M, PAD);
		b.senders |= 1u << i;
	}
	burst_now = &b;
	/* The non-reader is frozen in the pump (never read) and counts as
	 * dead: nothing is expected of it until the quits are due. */
	if (!CHECKF(fault_pump(&b.g, burst_done, 1u << N, 60000) == 0,
		    "readers did not get everything"))
		fault_dump(&b.g);
	for (int i = 0; i < N; i++) {
		CHECKF(!c[i].m.eof, "reader %d disconnected", i);
		for (int snd = 0; snd < N; snd++)
			if (snd != i)
				CHECKF(fault_sender_count(&c[i].m, snd) == M,
				       "reader %d got %ld of %d from %d", i,
				       fault_sender_count(&c[i].m, snd), M,
				       snd);
	}
	CHECK(ts_log_wait(s, "send queue exceeded", 10000) == 0);
	CHECK(ts_log_wait(s, "left: send queue exceeded", 10000) == 0);
	CHECK(ts_log_count(s, "left: send queue exceeded") == 1);
	/* Everyone else was told why it left. (Its backlog in the kernel
	 * drains at the pace of a 4 kB receive window, far too slowly to
	 * wait for its EOF here.) */
	b.want_quits = 1;
	b.skip_eof = 1;
	if (!CHECK(fault_pump(&b.g, burst_done, 1u << N, 20000) == 0))
		fault_dump(&b.g);
	for (int i = 0; i < N; i++)
		CHECKF(c[i].quit_other[N] == 1 &&
			   strcmp(c[i].quit_why[N], "send queue exceeded)") ==
			       0,
		       "reader %d: %s quit %d times (%s)", i, c[N].m.nick,
		       c[i].quit_other[N], c[i].quit_why[N]);
	CHECK(ts_log_count(s, "killed by signal") == 0);
	fault_close(c, N + 1);
	if (s)
		TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

/* A stopped worker cannot read its channel: the clients handed to it wait
 * in the supervisor's queue for it, while the supervisor goes on admitting
 * and serving everyone else; once it runs again, they are all served. */
static void
test_stopped_worker_never_blocks_the_supervisor(void)
{
	enum { N = 300 };
	/* Not about stalled readers: the stopped worker is never declared
	 * stalled here, however long the machine takes. */
	struct ts_server *s =
	    ts_start("--workers 2 --flood-rate 0 --stall-timeout 3600000");
	int fds[N], a = -1, b = -1;
	char line[512];
	REQUIRE(s);
	a = tc_join(s->port, NULL, 0);
	b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	pid_t stopped = ts_session_of(s, a);
	REQUIRE(stopped > 0 && ts_session_of(s, b) != stopped);
	REQUIRE(kill(stopped, SIGSTOP) == 0);
	for (int i = 0; i < N; i++)
		REQUIRE((fds[i] = tc_connect(s->port)) >= 0);
	/* The supervisor admitted all of them, half into a channel nobody
	 * reads, and still answers b's requests on the other worker. */
	CHECK(ts_log_wait(s, "connected from", 1000) == 0);
	long long deadline = tl_now_ms() + 20000;
	while (ts_log_count(s, "connected from") < N + 2 &&
	       tl_now_ms() < deadline)
		ts_log_wait(s, "\x01never", 50);
	CHECK(ts_log_count(s, "connected from") == N + 2);
	tc_send(b, "/who\n");
	CHECK(tc_expect(b, "-!- members of #lobby:", line, sizeof(line),
			10000) > 0);
	kill(stopped, SIGCONT);
	for (int i = 0; i < N; i++)
		CHECKF(tc_expect(fds[i], " joined #lobby", line, sizeof(line),
				 20000) > 0,
		       "client %d never served", i);
	tc_send(fds[N - 1], "after the stall\n");
	CHECK(tc_expect(a, "> after the stall", line, sizeof(line), 10000) > 0);
	CHECK(ts_log_count(s, "killed by signal") == 0);
	for (int i = 0; i < N; i++)
		tc_close(fds[i]);
	tc_close(a);
	tc_close(b);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

/* A log reader that stops reading (a stuck journal, a paused pager) fills
 * the server's stderr pipe within a few hundred connections. Logging must
 * never block the supervisor or a session: clients keep being served and
 * chatting, and the dropped lines are counted and reported once the reader
 * is back. */
static void
test_stalled_log_reader_never_blocks_the_server(void)
{
	enum { CYCLES = 1500 }; /* 2-3 log lines each: several pipefuls */
	struct ts_server *s = start("");
	char na[64], want[256];
	REQUIRE(s);
	ts_log_hold(s, 1);
	for (int i = 0; i < CYCLES; i++) {
		int fd = tc_join(s->port, NULL, 0);
		REQUIRE(fd >= 0);
		tc_close(fd);
	}
	int a = tc_join(s->port, na, sizeof(na));
	int b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	tc_send(a, "still talking\n");
	snprintf(want, sizeof(want), "#lobby <%s> still talking", na);
	CHECK(tc_expect(b, want, NULL, 0, 10000) > 0);
	/* The report rides on the next line that fits: until the pipe has
	 * been drained, a client's coming and going may be dropped too. */
	ts_log_hold(s, 0);
	tc_close(a);
	long long deadline = tl_now_ms() + 10000;
	while (ts_log_wait(s, "log lines dropped: stderr was full", 100) < 0 &&
	       tl_now_ms() < deadline) {
		int fd = tc_join(s->port, NULL, 0);
		tc_close(fd);
	}
	CHECK(ts_log_count(s, "log lines dropped: stderr was full") > 0);
	tc_close(b);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "LeakSanitizer");
	ts_free(s);
}

int
main(int argc, char **argv)
{
	const char *seed = getenv("PARLEY_FAULT_SEED");
	char suite[64];

	workers_model = tl_init(argc, argv, "faults", model_args,
				sizeof(model_args), suite);
	fault_seed = seed ? (unsigned)strtoul(seed, NULL, 0)
			  : (unsigned)getpid() ^ (unsigned)tl_now_ms();
	printf("seed %u (PARLEY_FAULT_SEED repeats a run)\n", fault_seed);
	RUN(test_sigkilled_sessions_mid_burst_lose_nothing_and_are_announced_once);
	RUN(test_stopped_session_is_lapped_then_disconnected_others_unaffected);
	RUN(test_slow_loris_200_clients_do_not_stall_a_chat);
	RUN(test_tls_hello_and_http_on_plain_port_are_survived);
	RUN(test_half_closed_client_line_is_delivered_then_it_is_announced_gone);
	RUN(test_client_that_never_reads_is_disconnected_others_unaffected);
	RUN(test_stalled_log_reader_never_blocks_the_server);
	RUN(test_awake_sessions_are_not_lapped_by_an_unthrottled_burst);
	if (workers_model)
		RUN(test_stopped_worker_never_blocks_the_supervisor);
	return tl_summary(suite);
}
