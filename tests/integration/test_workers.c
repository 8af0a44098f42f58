/*
 * test_workers: the worker-pool process model (--workers N) on the real
 * parleyd: 5000 clients on two workers, a worker killed mid-burst and
 * respawned, accept paused (not spun) when the supervisor runs out of file
 * descriptors, and a worker respawned once fds come back. Every test passes
 * its own --workers and ignores PARLEY_TEST_ARGS, so both runs of
 * tests/run.sh test the same thing.
 */
#include "../mesh.h"
#include "../testlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static int
is_in(pid_t pid, const pid_t *set, int n)
{
	for (int i = 0; i < n; i++)
		if (set[i] == pid)
			return 1;
	return 0;
}

/* The lowest fd number pid does not have open: the next one it gets. */
static int
lowest_free_fd(pid_t pid)
{
	enum { MAXFD = 4096 };
	static unsigned char used[MAXFD];
	char path[64];
	DIR *d;
	struct dirent *de;

	memset(used, 0, sizeof(used));
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd < MAXFD)
			used[fd] = 1;
	}
	closedir(d);
	for (int fd = 0; fd < MAXFD; fd++)
		if (!used[fd])
			return fd;
	return -1;
}

/* ---- many light clients: 5000 on one epoll ------------------------------ */

enum { LC_CONNECTING, LC_WELCOMED, LC_IN_ROOM };

struct lc {
	int fd;
	int state;
	int eof;
	char nick[32];
	char in[2048];
	size_t in_len;
	unsigned got_mask; /* bit k: message "w K" from sender k arrived */
	int dups;	   /* a sender's message arrived twice */
	int own;	   /* a sender got its own message back */
	int sender;	   /* index of this client among the senders, or -1 */
};

struct lc_set {
	struct lc *c;
	int n;
	int epfd;
	int joined; /* clients that saw their own join line */
};

static void
lc_line(struct lc *c, char *line, int *joined)
{
	static const char welcome[] = "-!- welcome to parley, ";
	char want[80];

	if (line[0] == '#') {
		const char *w = strstr(line, "> w ");
		int k;
		if (strncmp(line, "#lobby <", 8) != 0 || !w ||
		    sscanf(w + 4, "%d", &k) != 1 || k < 0 || k > 31)
			return;
		if (k == c->sender)
			c->own++;
		if (c->got_mask & (1u << k))
			c->dups++;
		c->got_mask |= 1u << k;
		return;
	}
	if (c->state == LC_CONNECTING &&
	    strncmp(line, welcome, sizeof(welcome) - 1) == 0) {
		const char *s = line + sizeof(welcome) - 1;
		snprintf(c->nick, sizeof(c->nick), "%.*s", (int)strcspn(s, "!"),
			 s);
		c->state = LC_WELCOMED;
		return;
	}
	snprintf(want, sizeof(want), "-!- %s joined #lobby", c->nick);
	if (c->state == LC_WELCOMED && strcmp(line, want) == 0) {
		c->state = LC_IN_ROOM;
		(*joined)++;
	}
}

struct lc_line_arg {
	struct lc *c;
	int *joined;
};

static void
lc_line_cb(void *arg, char *line)
{
	struct lc_line_arg *a = arg;

	lc_line(a->c, line, a->joined);
}

static void
lc_read(struct lc_set *set, struct lc *c)
{
	struct lc_line_arg a = {c, &set->joined};

	if (mesh_recv_lines(c->fd, c->in, sizeof(c->in), &c->in_len, lc_line_cb,
			    &a))
		c->eof = 1;
	if (c->in_len == sizeof(c->in))
		c->in_len = 0; /* no line here is that long: drop it */
}

static int
lc_start(struct lc_set *set, int i, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
	struct lc *c = &set->c[i];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	if (epoll_ctl(set->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	return 0;
}

/* Handles whatever is readable within timeout_ms; -1 if a client died. */
static int
lc_poll(struct lc_set *set, int timeout_ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(set->epfd, ev, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		struct lc *c = &set->c[ev[i].data.u32];
		lc_read(set, c);
		if (c->eof)
			return -1;
	}
	return 0;
}

/* Connects set->n clients, at most `parallel` joining at once, and waits
 * until each has its welcome and its own "-!- NICK joined #lobby". */
static int
lc_connect_all(struct lc_set *set, int port, int parallel, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	int started = 0;

	while (set->joined < set->n) {
		while (started < set->n && started - set->joined < parallel)
			if (lc_start(set, started++, port) < 0)
				return -1;
		if (tl_now_ms() >= deadline || lc_poll(set, 100) < 0)
			return -1;
	}
	return 0;
}

/* Clients that have every other sender's message. */
static int
lc_complete(const struct lc_set *set, unsigned all)
{
	int n = 0;

	for (int i = 0; i < set->n; i++) {
		const struct lc *c = &set->c[i];
		unsigned want = c->sender >= 0 ? all & ~(1u << c->sender) : all;
		if ((c->got_mask & want) == want)
			n++;
	}
	return n;
}

static void
lc_close_all(struct lc_set *set)
{
	for (int i = 0; i < set->n; i++)
		if (set->c[i].fd >= 0)
			close(set->c[i].fd);
	if (set->epfd >= 0)
		close(set->epfd);
	free(set->c);
}

/* ---- mesh helpers -------------------------------------------------------- */

/* The worker-kill test: 40 clients send 10 rounds of 100 messages; the
 * kill lands in round 4, while the dead worker's clients are sending. */
enum {
	KW_N = 40,
	KW_ROUND = 100,
	KW_ROUNDS = 10,
	KW_M = KW_ROUND * KW_ROUNDS,
	KW_KILL_ROUND = 4,
	KW_WATCH = 8,
};

/* What the worker-kill test waits for. count[i][s] caches how many
 * messages client i has from sender s (scanned from scanned[i] on). */
struct kill_want {
	struct mesh_client *cl;
	size_t count[KW_N][KW_N + 1];
	size_t scanned[KW_N];
	size_t first_until; /* client 0 has this many messages in all */
	size_t until;	    /* each live client has this many from each
			     * other live sender... */
	int ndead;	    /* ...and this many clients saw EOF */
};

static void
kill_want_scan(struct kill_want *w)
{
	for (int i = 0; i < KW_N; i++) {
		const struct mesh_client *c = &w->cl[i];
		for (; w->scanned[i] < c->ngot; w->scanned[i]++) {
			int snd = c->got[w->scanned[i]].sender;
			if (snd >= 0 && snd <= KW_N)
				w->count[i][snd]++;
		}
	}
}

static int
kill_first_has(void *arg)
{
	struct kill_want *w = arg;

	return w->cl[0].ngot >= w->first_until;
}

static int
kill_round_done(void *arg)
{
	struct kill_want *w = arg;
	int eofs = 0;

	kill_want_scan(w);
	for (int i = 0; i < KW_N; i++)
		eofs += w->cl[i].eof;
	if (eofs < w->ndead)
		return 0;
	for (int i = 0; i < KW_N; i++)
		for (int snd = 0; snd < KW_N && !w->cl[i].eof; snd++)
			if (snd != i && !w->cl[snd].eof &&
			    w->count[i][snd] < w->until)
				return 0;
	return 1;
}

struct from_want {
	struct mesh_client *cl;
	int sender;
};

/* Every client that is still connected has a message from sender. */
static int
all_have_one_from(void *arg)
{
	struct from_want *w = arg;

	for (int i = 0; i < KW_N; i++)
		if (!w->cl[i].eof && mesh_count_from(&w->cl[i], w->sender) < 1)
			return 0;
	return 1;
}

/* The client has written everything queued for it. */
static int
out_flushed(void *arg)
{
	const struct mesh_client *c = arg;

	return c->out_off == c->out_len;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_5000_clients_on_2_workers_each_get_10_senders_messages(void)
{
	enum { N = 5000, SENDERS = 10 };
	const unsigned all = (1u << SENDERS) - 1;
	struct rlimit rl;
	struct lc_set set = {.n = N, .epfd = -1};
	char line[8192];

	/* 5000 sockets here, 2500 in each worker: raise to the hard limit
	 * (parleyd inherits it). */
	REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	rl.rlim_cur = rl.rlim_max;
	REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	REQUIRE(rl.rlim_cur >= N + 100);
	/* Rooms over 100 members do not announce joins: otherwise 5000
	 * joins cost 12.5M notice lines. */
	struct ts_server *s = ts_start("--workers 2 --max-clients 6000 "
				       "--flood-rate 0 --join-notices 100");
	REQUIRE(s);
	set.c = calloc(N, sizeof(*set.c));
	set.epfd = epoll_create1(EPOLL_CLOEXEC);
	REQUIRE(set.c && set.epfd >= 0);
	for (int i = 0; i < N; i++) {
		set.c[i].fd = -1;
		set.c[i].sender = -1;
	}
	/* Senders spread over the join order, so over both workers. */
	for (int k = 0; k < SENDERS; k++)
		set.c[k * (N / SENDERS) + k].sender = k;
	CHECKF(lc_connect_all(&set, s->port, 64, 120000) == 0,
	       "only %d of %d clients joined #lobby", set.joined, N);
	if (set.joined < N)
		goto out;
	/* The log trails the clients: its lines come through a pipe. */
	CHECK(ts_log_wait_count(s, "connected from", N, 10000) == 0);
	CHECK(ts_log_count(s, "connected from") == N);

	for (int i = 0; i < N; i++) {
		if (set.c[i].sender < 0)
			continue;
		int len =
		    snprintf(line, sizeof(line), "w %d\n", set.c[i].sender);
		CHECK(send(set.c[i].fd, line, (size_t)len, MSG_NOSIGNAL) ==
		      len);
	}
	long long deadline = tl_now_ms() + 60000;
	int complete = 0;
	while ((complete = lc_complete(&set, all)) < N &&
	       tl_now_ms() < deadline)
		if (lc_poll(&set, 100) < 0)
			break;
	CHECKF(complete == N, "%d of %d clients got every message", complete,
	       N);
	for (int i = 0, reported = 0; i < N && reported < 5; i++) {
		const struct lc *c = &set.c[i];
		unsigned want = c->sender >= 0 ? all & ~(1u << c->sender) : all;
		if ((c->got_mask & want) == want && !c->dups && !c->own &&
		    !c->eof)
			continue;
		reported++;
		CHECKF(0,
		       "client %d (%s): got mask %#x of %#x, %d dups, %d own, "
		       "eof %d",
		       i, c->nick, c->got_mask, want, c->dups, c->own, c->eof);
	}

	/* Everyone leaves; the registry must end up empty. */
	int connected = ts_log_count(s, "connected from");
	for (int i = 0; i < N; i++) {
		close(set.c[i].fd);
		set.c[i].fd = -1;
	}
	CHECKF(ts_log_wait_count(s, " left: ", connected, 60000) == 0,
	       "%d of %d clients left the registry", ts_log_count(s, " left: "),
	       connected);
	char nick[64], want[128];
	int fresh = tc_join(s->port, nick, sizeof(nick));
	REQUIRE(fresh >= 0);
	tc_send(fresh, "/who #lobby\n");
	CHECK(tc_expect(fresh, "-!- members of #lobby:", line, sizeof(line),
			10000) > 0);
	snprintf(want, sizeof(want), "-!- members of #lobby: %s", nick);
	CHECKF(strcmp(line, want) == 0, "registry not empty: %.200s", line);
	CHECK(ts_log_wait_count(s, "connected from", connected + 1, 10000) ==
	      0);
	CHECK(ts_log_wait_count(s, " left: ", connected, 10000) == 0);
	CHECK(ts_log_count(s, " left: ") == connected);
	CHECK(ts_log_count(s, "connected from") == connected + 1);
	tc_close(fresh);
out:
	lc_close_all(&set);
	ts_free(s);
}

static void
test_killed_worker_is_respawned_and_others_lose_nothing(void)
{
	struct mesh_client *cl = calloc(KW_N, sizeof(*cl));
	struct kill_want *w = calloc(1, sizeof(*w));
	pid_t kids[8], now[8];
	char line[512];
	/* One test process reads for all 40 clients: a deep send queue
	 * keeps the slow-reader policy out of a test about loss. */
	struct ts_server *s = ts_start("--workers 2 --flood-rate 0 "
				       "--max-clients 128 --sendq 67108864");
	REQUIRE(cl && w);
	REQUIRE(s);
	REQUIRE(mesh_join(cl, KW_N, s->port, 0) == 0);
	int nk = ts_children(s->pid, kids, 8);
	REQUIRE(nk == 2);
	/* Each client watches the quit notices of the next eight: with the
	 * clients spread over both workers, every dead client has watchers
	 * among the survivors. */
	for (int i = 0; i < KW_N; i++) {
		for (int k = 0; k < KW_WATCH; k++)
			snprintf(cl[i].lines_seen[k],
				 sizeof(cl[i].lines_seen[k]),
				 "-!- %s quit (connection lost)",
				 cl[(i + 1 + k) % KW_N].nick);
		cl[i].nlines_seen = KW_WATCH;
	}
	w->cl = cl;
	pid_t victim = kids[0], other = kids[1];
	for (int r = 0; r < KW_ROUNDS; r++) {
		for (int i = 0; i < KW_N; i++)
			if (!cl[i].eof)
				mesh_queue(cl, i, r * KW_ROUND, KW_ROUND, 20);
		if (r == KW_KILL_ROUND) {
			/* Mid-burst: as soon as client 0 hears the first
			 * line of the round, while the rest is on its way
			 * in (the dead worker's clients are then cut off
			 * somewhere in their 100: a prefix gets through). */
			w->first_until = cl[0].ngot + 1;
			REQUIRE(mesh_pump(cl, KW_N, kill_first_has, w, 60000) ==
				0);
			REQUIRE(kill(victim, SIGKILL) == 0);
			CHECK(ts_wait_gone(victim, 10000) == 0);
			CHECK(ts_log_wait(s, "killed by signal 9", 10000) == 0);
			CHECK(ts_log_wait(s, "respawned", 10000) == 0);
			/* The supervisor drops all the dead worker's
			 * clients at once, before it respawns the worker. */
			w->ndead = ts_log_count(s, "left: connection lost");
			CHECKF(w->ndead == KW_N / 2,
			       "%d clients lost with the worker", w->ndead);
		}
		w->until = (size_t)(r + 1) * KW_ROUND;
		CHECKF(mesh_pump(cl, KW_N, kill_round_done, w, 60000) == 0,
		       "round %d: survivors did not get every survivor's "
		       "messages",
		       r);
	}
	int eofs = 0, first = -1;
	for (int i = 0; i < KW_N; i++) {
		eofs += cl[i].eof;
		if (!cl[i].eof && first < 0)
			first = i;
	}
	CHECKF(eofs == w->ndead, "%d clients saw EOF, %d were lost", eofs,
	       w->ndead);
	REQUIRE(first >= 0);

	size_t prefix[KW_N];
	for (int snd = 0; snd < KW_N; snd++)
		prefix[snd] = (size_t)-1;
	for (int i = 0; i < KW_N; i++) {
		if (cl[i].eof)
			continue;
		for (int snd = 0; snd < KW_N; snd++) {
			size_t k = 0;
			if (snd == i)
				continue;
			/* A dead sender's messages may stop early, never
			 * skip: what arrived is a prefix. */
			CHECKF(mesh_sender_in_order(&cl[i], snd, &k) == 0,
			       "client %d: sender %d has a gap or reorder", i,
			       snd);
			if (!cl[snd].eof) {
				CHECKF(k == KW_M,
				       "client %d got %zu of %d from %d", i, k,
				       KW_M, snd);
				continue;
			}
			CHECKF(k >= KW_KILL_ROUND * KW_ROUND && k < KW_M,
			       "client %d got %zu from dead sender %d", i, k,
			       snd);
			if (prefix[snd] == (size_t)-1)
				prefix[snd] = k;
			CHECKF(k == prefix[snd],
			       "survivors disagree on dead sender %d: %zu, %zu",
			       snd, k, prefix[snd]);
		}
		CHECKF(i == first ||
			   mesh_same_order(&cl[first], &cl[i], first, i),
		       "clients %d and %d disagree on the order", first, i);
		CHECKF(mesh_count_from(&cl[i], i) == 0,
		       "client %d got its own lines back", i);
	}
	/* Survivors are told that each dead client quit. */
	for (int i = 0; i < KW_N; i++) {
		if (cl[i].eof)
			continue;
		for (int k = 0; k < KW_WATCH; k++) {
			if (!cl[(i + 1 + k) % KW_N].eof)
				continue;
			CHECKF(cl[i].seen_mask & (1 << k),
			       "client %d not told that %s quit", i,
			       cl[(i + 1 + k) % KW_N].nick);
		}
	}

	/* Two workers again: the survivor and a new one. */
	int nn = ts_children(s->pid, now, 8);
	CHECKF(nn == 2, "%d workers after the respawn", nn);
	CHECK(is_in(other, now, nn) && !is_in(victim, now, nn));
	pid_t fresh_pid = now[0] == other ? now[1] : now[0];
	REQUIRE(nn == 2 && fresh_pid != other);
	int fds_before = ts_fd_count(fresh_pid);
	/* The least-loaded worker, the new one, takes the next client. */
	char nick[64];
	int fd = tc_join(s->port, nick, sizeof(nick));
	REQUIRE(fd >= 0);
	CHECKF(ts_fd_count(fresh_pid) == fds_before + 1,
	       "new client not on the respawned worker (%d fds, was %d)",
	       ts_fd_count(fresh_pid), fds_before);
	tc_send(fd, "m %d 0 from the new worker\n", KW_N);
	struct from_want fw = {cl, KW_N};
	CHECKF(mesh_pump(cl, KW_N, all_have_one_from, &fw, 10000) == 0,
	       "survivors did not hear the new client");
	/* And the new client hears a survivor. */
	mesh_queue(cl, first, KW_M, 1, 0);
	CHECK(mesh_pump(cl, KW_N, out_flushed, &cl[first], 10000) == 0);
	char want[64];
	snprintf(want, sizeof(want), "> m %d %d", first, KW_M);
	CHECK(tc_expect(fd, want, line, sizeof(line), 10000) > 0);
	tc_close(fd);
	mesh_close(cl, KW_N);
	free(cl);
	free(w);
	ts_free(s);
}

/* args picks the process model. In the fork model a client leaving frees
 * its session's channel in the supervisor, so there b stays until the
 * limit is back (a freed fd would admit one client whose fork then has no
 * fds for its channel: "server busy"). */
static void
fd_exhaustion(const char *args, int workers)
{
	enum { PENDING = 5 };
	struct ts_server *s = ts_start(args);
	struct rlimit old, low;
	int pending[PENDING];
	char line[512];
	REQUIRE(s);
	int a = tc_join(s->port, NULL, 0), b = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0 && b >= 0);
	REQUIRE(prlimit(s->pid, RLIMIT_NOFILE, NULL, &old) == 0);
	/* In the worker model the supervisor closes each client's fd once it
	 * has passed it on, so a spare fd or two would never run out: leave
	 * it none, so that its next accept() fails with EMFILE. */
	int next_fd = lowest_free_fd(s->pid);
	REQUIRE(next_fd > 0);
	low.rlim_cur = (rlim_t)next_fd;
	low.rlim_max = old.rlim_max;
	REQUIRE(prlimit(s->pid, RLIMIT_NOFILE, &low, NULL) == 0);
	for (int i = 0; i < PENDING; i++)
		REQUIRE((pending[i] = tc_connect(s->port)) >= 0);
	CHECK(ts_log_wait(s, "pausing new connections", 10000) == 0);
	/* Nobody was admitted meanwhile. */
	for (int i = 0; i < PENDING; i++)
		CHECK(recv(pending[i], line, sizeof(line), MSG_DONTWAIT) < 0 &&
		      errno == EAGAIN);
	/* The clients already connected still chat. */
	tc_send(a, "still chatting\n");
	CHECK(tc_expect(b, "> still chatting", line, sizeof(line), 10000) > 0);
	tc_send(b, "me too\n");
	CHECK(tc_expect(a, "> me too", line, sizeof(line), 10000) > 0);
	/* It retries after its pause, and pauses again: a few log lines,
	 * not a busy loop of failing accepts. */
	CHECK(ts_log_wait_count(s, "pausing new connections", 3, 10000) == 0);
	CHECK(ts_log_count(s, "accept") < 1000);
	CHECK(ts_log_count(s, "connected from") == 2);

	/* With workers a client leaving frees nothing in the supervisor;
	 * giving the limit back does. */
	if (workers) {
		tc_close(b);
		CHECK(ts_log_wait(s, " left: ", 10000) == 0);
	}
	REQUIRE(prlimit(s->pid, RLIMIT_NOFILE, &old, NULL) == 0);
	for (int i = 0; i < PENDING; i++)
		CHECKF(tc_expect(pending[i], "-!- welcome to parley, ", line,
				 sizeof(line), 10000) > 0,
		       "pending client %d not accepted after recovery", i);
	int c = tc_join(s->port, NULL, 0);
	CHECK(c >= 0);
	tc_send(pending[0], "after recovery\n");
	CHECK(tc_expect(a, "> after recovery", line, sizeof(line), 10000) > 0);
	CHECK(ts_log_wait_count(s, "connected from", 2 + PENDING + 1, 10000) ==
	      0);
	CHECK(ts_log_count(s, "connected from") == 2 + PENDING + 1);
	CHECK(ts_log_count(s, "accept") < 1000);
	for (int i = 0; i < PENDING; i++)
		tc_close(pending[i]);
	tc_close(a);
	if (!workers)
		tc_close(b);
	tc_close(c);
	ts_free(s);
}

static void
test_fd_exhaustion_pauses_accept_without_spinning_and_recovers(void)
{
	fd_exhaustion("--workers 1 --flood-rate 0", 1);
}

static void
test_fd_exhaustion_in_the_fork_model_pauses_accept_and_recovers(void)
{
	fd_exhaustion("--flood-rate 0", 0);
}

static void
test_worker_killed_while_supervisor_has_no_fds_is_respawned_later(void)
{
	struct ts_server *s = ts_start("--workers 1 --flood-rate 0");
	struct rlimit old, low;
	pid_t kids[8];
	char line[512] = "";
	REQUIRE(s);
	int a = tc_join(s->port, NULL, 0);
	REQUIRE(a >= 0);
	REQUIRE(ts_children(s->pid, kids, 8) == 1);
	REQUIRE(prlimit(s->pid, RLIMIT_NOFILE, NULL, &old) == 0);
	int next_fd = lowest_free_fd(s->pid);
	REQUIRE(next_fd > 0);
	low.rlim_cur = (rlim_t)next_fd;
	low.rlim_max = old.rlim_max;
	REQUIRE(prlimit(s->pid, RLIMIT_NOFILE, &low, NULL) == 0);
	/* The worker dies while the supervisor cannot open a channel for
	 * its replacement (the dead one's channel frees one fd; a socketpair
	 * needs two). */
	REQUIRE(kill(kids[0], SIGKILL) == 0);
	CHECK(ts_wait_gone(kids[0], 10000) == 0);
	CHECK(tc_wait_eof(a, 10000) == 0);
	CHECK(ts_log_wait(s, "killed by signal 9", 10000) == 0);
	REQUIRE(prlimit(s->pid, RLIMIT_NOFILE, &old, NULL) == 0);
	/* Once fds are back, the pool must be whole again: "crashed workers
	 * are respawned" (DESIGN.md section 2), not only when the first try
	 * works. */
	CHECKF(ts_log_wait(s, "respawned", 5000) == 0,
	       "no worker respawned after the fd limit came back");
	int b = tc_connect(s->port);
	REQUIRE(b >= 0);
	CHECKF(tc_expect(b, "-!- ", line, sizeof(line), 10000) > 0 &&
		   strstr(line, "-!- welcome to parley, ") != NULL,
	       "new client after the respawn window got: %s", line);
	CHECK(ts_children(s->pid, kids, 8) == 1);
	tc_close(a);
	tc_close(b);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1) {
		/* Run only the tests whose names contain argv[1]. */
		tl_filter = argv[1];
	}
	/* PARLEY_TEST_ARGS is ignored: every test here chooses --workers. */
	RUN(test_5000_clients_on_2_workers_each_get_10_senders_messages);
	RUN(test_killed_worker_is_respawned_and_others_lose_nothing);
	RUN(test_fd_exhaustion_pauses_accept_without_spinning_and_recovers);
	RUN(test_fd_exhaustion_in_the_fork_model_pauses_accept_and_recovers);
	RUN(test_worker_killed_while_supervisor_has_no_fds_is_respawned_later);
	return tl_summary("workers");
}
