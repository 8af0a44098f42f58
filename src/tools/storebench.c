/*
 * storebench: what the store costs, against a running parleyd with a
 * database and --metrics-listen (bench/store.sh starts one). Two figures
 * for BENCHMARKS.md: the archiving rate for a burst of messages (senders
 * in rooms of their own, so nothing is delivered: the time from the first
 * line sent until parley_store_rows_total has counted them all), and the
 * latency of a join that replays 20 lines of history (from "/join" sent
 * to the 20th history line, repeated).
 *
 *     storebench [--messages N] [--senders K] [--joins J] \
 *         --metrics HOST:PORT HOST:PORT
 *
 * A client of parleyd like any other; talks to loopback only as the
 * scripts run it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SB_MAX_SENDERS 64
#define SB_HISTORY     20

static long long
sb_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
sb_connect(const char *hostport)
{
	char host[128];
	const char *colon = strrchr(hostport, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd, one = 1;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host))
		return -1;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* A connection with a line buffer. */
struct sb_conn {
	int fd;
	char in[65536];
	size_t len;
};

/* Reads until a line containing want arrives (within timeout_ms); counts
 * lines containing count_what in *count if given. Returns 0 or -1. */
static int
sb_expect(struct sb_conn *c, const char *want, int timeout_ms)
{
	long long deadline = sb_now_us() + (long long)timeout_ms * 1000;

	for (;;) {
		char *nl;
		while ((nl = memchr(c->in, '\n', c->len))) {
			*nl = '\0';
			int hit = strstr(c->in, want) != NULL;
			size_t used = (size_t)(nl - c->in) + 1;
			memmove(c->in, nl + 1, c->len - used);
			c->len -= used;
			if (hit)
				return 0;
		}
		if (c->len == sizeof(c->in))
			c->len = 0; /* a line longer than we care for */
		int left = (int)((deadline - sb_now_us()) / 1000);
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		ssize_t n = read(c->fd, c->in + c->len, sizeof(c->in) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

static int
sb_send(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			(void)poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* parley_store_rows_total from GET /metrics, or -1. */
static long long
sb_rows(const char *metrics)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	static char buf[1 << 16];
	size_t len = 0;
	int fd = sb_connect(metrics);
	const char *p;

	if (fd < 0)
		return -1;
	if (sb_send(fd, req, sizeof(req) - 1) < 0) {
		close(fd);
		return -1;
	}
	for (ssize_t n; len < sizeof(buf) - 1 &&
			(n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0;)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	p = strstr(buf, "\nparley_store_rows_total ");
	return p ? atoll(p + 25) : -1;
}

static int
sb_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Senders join rooms of their own, then send n lines between them as
 * fast as the server reads; returns the first send's time or -1. */
static long long
sb_burst(const char *target, struct sb_conn *s, int k, long long n)
{
	static char chunk[1 << 16];
	long long t0 = 0, sent = 0;

	for (int i = 0; i < k; i++) {
		char line[64];
		int len = snprintf(line, sizeof(line), "/join #sb%d\n", i);
		s[i].fd = sb_connect(target);
		s[i].len = 0;
		if (s[i].fd < 0 || sb_send(s[i].fd, line, (size_t)len) < 0 ||
		    sb_expect(&s[i], " joined #sb", 10000) < 0)
			return -1;
	}
	t0 = sb_now_us();
	while (sent < n) {
		for (int i = 0; i < k && sent < n; i++) {
			size_t len = 0;
			while (len + 64 < sizeof(chunk) && sent < n)
				len += (size_t)snprintf(chunk + len, 64,
							"archived message %lld "
							"of the burst\n",
							++sent);
			if (sb_send(s[i].fd, chunk, len) < 0)
				return -1;
		}
	}
	return t0;
}

static int
sb_joins(const char *target, int joins)
{
	struct sb_conn c = {.fd = sb_connect(target)};
	long long *us = calloc((size_t)joins, sizeof(*us));

	if (c.fd < 0 || !us || sb_expect(&c, " joined #lobby", 10000) < 0) {
		free(us);
		return -1;
	}
	for (int j = 0; j < joins; j++) {
		if (j && (sb_send(c.fd, "/part #sb0\n", 11) < 0 ||
			  sb_expect(&c, " left #sb0", 10000) < 0))
			goto fail;
		long long t = sb_now_us();
		if (sb_send(c.fd, "/join #sb0\n", 11) < 0)
			goto fail;
		for (int h = 0; h < SB_HISTORY; h++)
			if (sb_expect(&c, "#sb0 [history ", 10000) < 0)
				goto fail;
		us[j] = sb_now_us() - t;
	}
	qsort(us, (size_t)joins, sizeof(*us), sb_cmp);
	int p50 = joins / 2, p99 = joins * 99 / 100;
	printf("join with %d lines of history: %d joins, p50 %.2f ms, p99 "
	       "%.2f ms, max %.2f ms\n",
	       SB_HISTORY, joins, (double)us[p50] / 1000.0,
	       (double)us[p99] / 1000.0, (double)us[joins - 1] / 1000.0);
	free(us);
	close(c.fd);
	return 0;
fail:
	free(us);
	close(c.fd);
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"messages", required_argument, NULL, 'm'},
	    {"senders", required_argument, NULL, 's'},
	    {"joins", required_argument, NULL, 'j'},
	    {"metrics", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct sb_conn senders[SB_MAX_SENDERS];
	long long n = 1000000, base, rows = -1, t0, t_sent;
	int k = 4, joins = 50, c;
	const char *metrics = NULL, *target;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			n = atoll(optarg);
			break;
		case 's':
			k = atoi(optarg);
			break;
		case 'j':
			joins = atoi(optarg);
			break;
		case 'M':
			metrics = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: storebench [--messages N] [--senders "
				"K] [--joins J] --metrics HOST:PORT "
				"HOST:PORT\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc || !metrics || n < SB_HISTORY || k < 1 ||
	    k > SB_MAX_SENDERS || joins < 1) {
		fprintf(stderr, "storebench: bad arguments (--help)\n");
		return 2;
	}
	target = argv[optind];
	if ((base = sb_rows(metrics)) < 0) {
		fprintf(stderr,
			"storebench: no parley_store_rows_total at "
			"%s (is --db set?)\n",
			metrics);
		return 1;
	}
	if ((t0 = sb_burst(target, senders, k, n)) < 0) {
		fprintf(stderr, "storebench: the burst failed\n");
		return 1;
	}
	t_sent = sb_now_us();
	while ((rows = sb_rows(metrics)) >= 0 && rows - base < n &&
	       sb_now_us() - t_sent < 600LL * 1000000)
		(void)poll(NULL, 0, 20);
	long long t1 = sb_now_us();
	if (rows - base < n) {
		fprintf(stderr, "storebench: only %lld of %lld archived\n",
			rows - base, n);
		return 1;
	}
	printf("archived %lld messages from %d senders in %.3f s: %.0f "
	       "rows/s (sent in %.3f s)\n",
	       n, k, (t1 - t0) / 1e6, n / ((t1 - t0) / 1e6),
	       (t_sent - t0) / 1e6);
	for (int i = 0; i < k; i++)
		close(senders[i].fd);
	return sb_joins(target, joins) < 0 ? 1 : 0;
}
