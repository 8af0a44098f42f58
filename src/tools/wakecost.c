/*
 * wakecost: what one wake-up of a sleeping process costs on this machine,
 * the unit price of the fork model (BENCHMARKS.md, "The fork model's
 * open-loop latency"). N forked children each block in epoll_wait on one
 * shared eventfd, edge-triggered, as parleyd's sessions do; the parent
 * writes the eventfd RATE times a second for SECONDS and reports the CPU
 * the children spent per wake-up (their start-up included: negligible at
 * 1000 50 3, which is 150,000 wake-ups) and its own CPU per process woken.
 *
 *     make build/wakecost && build/wakecost 1000 50 3
 *
 * Kills only the children it forked, by pid.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
cpu_seconds(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) +
	       (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e6;
}

static void
child(int efd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	int ep = epoll_create1(0);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0)
		_exit(1);
	for (;;)
		if (epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR)
			_exit(1);
}

static long
arg(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "wakecost: '%s': expected %ld..%ld\n", s, min,
			max);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: wakecost PROCESSES RATE SECONDS\n");
		return 2;
	}
	long n = arg(argv[1], 1, 10000), rate = arg(argv[2], 1, 10000);
	long writes = rate * arg(argv[3], 1, 600);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	struct rusage c0, c1, s0, s1;
	struct timespec gap = {0, 1000000000L / rate};
	uint64_t one = 1;
	long forked = 0;

	if (efd < 0 || !pids) {
		perror("wakecost");
		free(pids);
		return 2;
	}
	for (; forked < n; forked++) {
		pid_t p = fork();
		if (p == 0)
			child(efd);
		if (p < 0)
			break;
		pids[forked] = p;
	}
	if (forked == n) {
		/* Let every child reach epoll_wait before measuring. */
		struct timespec settle = {1, 0};
		nanosleep(&settle, NULL);
		getrusage(RUSAGE_CHILDREN, &c0);
		getrusage(RUSAGE_SELF, &s0);
		for (long i = 0; i < writes; i++) {
			if (write(efd, &one, sizeof(one)) < 0)
				perror("write");
			nanosleep(&gap, NULL);
		}
		getrusage(RUSAGE_SELF, &s1);
	} else {
		perror("fork");
	}
	for (long i = 0; i < forked; i++)
		kill(pids[i], SIGKILL);
	for (long i = 0; i < forked; i++)
		waitpid(pids[i], NULL, 0);
	free(pids);
	if (forked < n)
		return 2;
	getrusage(RUSAGE_CHILDREN, &c1);
	double woken = (double)writes * (double)n;
	printf("wakecost: processes=%ld wakeups=%.0f woken_us_per_wakeup=%.2f "
	       "waker_us_per_process=%.2f\n",
	       n, woken, (cpu_seconds(&c1) - cpu_seconds(&c0)) * 1e6 / woken,
	       (cpu_seconds(&s1) - cpu_seconds(&s0)) * 1e6 / woken);
	return 0;
}
