/*
 * procstat: /proc readers. The tree is found by scanning /proc for parent
 * pids (task/TID/children is not always built in). Reaped children are in
 * the root's cutime+cstime; live processes are read from schedstat (ns): on
 * some kernels the tick-based utime+stime of bursty processes lags behind.
 */
#include "bench/procstat.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct procstat_entry {
	pid_t pid;
	pid_t ppid;
	uint64_t self_ticks;  /* utime + stime */
	uint64_t child_ticks; /* cutime + cstime */
};

static ssize_t
procstat_slurp(const char *path, char *buf, size_t len)
{
	ssize_t n, total = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < len - 1) {
		n = read(fd, buf + total, len - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* Parses /proc/PID/stat; the command name may hold spaces and parens. */
static int
procstat_read_entry(pid_t pid, struct procstat_entry *e)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	long long cut, cst;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (procstat_slurp(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* Fields after the name: state ppid pgrp session tty tpgid flags
	 * minflt cminflt majflt cmajflt utime stime cutime cstime. */
	if (sscanf(
		p + 2,
		"%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
		&ppid, &ut, &st, &cut, &cst) != 5)
		return -EINVAL;
	e->pid = pid;
	e->ppid = ppid;
	e->self_ticks = ut + st;
	e->child_ticks = (uint64_t)(cut + cst);
	return 0;
}

/* Every process on the machine, for the ppid walk. */
static int
procstat_scan(struct procstat_entry **out, size_t *n_out)
{
	struct procstat_entry *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		if (procstat_read_entry((pid_t)atoi(de->d_name), &v[n]) == 0)
			n++;
	}
	closedir(d);
	*out = v;
	*n_out = n;
	return 0;
}

static void
procstat_read_status(pid_t pid, struct procstat_tree *t, int with_memory)
{
	char path[64], buf[4096], *p;
	unsigned long long v;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (procstat_slurp(path, buf, sizeof(buf)) < 0)
		return;
	if (with_memory && (p = strstr(buf, "VmHWM:")) &&
	    sscanf(p + 6, "%llu", &v) == 1)
		t->hwm_kb += v;
	if ((p = strstr(buf, "voluntary_ctxt_switches:")) &&
	    sscanf(p + 24, "%llu", &v) == 1)
		t->ctxsw += v;
	if ((p = strstr(buf, "nonvoluntary_ctxt_switches:")) &&
	    sscanf(p + 27, "%llu", &v) == 1)
		t->ctxsw += v;
	if (!with_memory)
		return;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (procstat_slurp(path, buf, sizeof(buf)) < 0)
		return;
	if ((p = strstr(buf, "\nPss:")) && sscanf(p + 5, "%llu", &v) == 1)
		t->pss_kb += v;
}

/* Nanoseconds on CPU of every thread of pid, from schedstat; fallback_ns
 * when schedstat is missing or reads zero. */
static uint64_t
procstat_run_ns(pid_t pid, uint64_t fallback_ns)
{
	char path[96], buf[128];
	struct dirent *de;
	uint64_t sum = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return fallback_ns;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat",
			 (int)pid, de->d_name);
		if (procstat_slurp(path, buf, sizeof(buf)) > 0)
			sum += strtoull(buf, NULL, 10);
	}
	closedir(d);
	return sum ? sum : fallback_ns;
}

static int
procstat_in_tree(const struct procstat_entry *v, size_t n, pid_t root,
		 const struct procstat_entry *e)
{
	unsigned int depth;
	size_t i;
	pid_t p = e->ppid;

	for (depth = 0; depth < 32 && p > 1; depth++) {
		if (p == root)
			return 1;
		for (i = 0; i < n && v[i].pid != p; i++)
			;
		if (i == n)
			return 0;
		p = v[i].ppid;
	}
	return 0;
}

int
procstat_read_tree(pid_t pid, int with_memory, struct procstat_tree *t)
{
	struct procstat_entry root, *v = NULL;
	uint64_t tick_ns = 1000000000ull / (uint64_t)procstat_tick_hz();
	size_t i, n = 0;
	int err;

	memset(t, 0, sizeof(*t));
	err = procstat_read_entry(pid, &root);
	if (err < 0)
		return err;
	err = procstat_scan(&v, &n);
	if (err < 0)
		return err;
	t->cpu_ns = root.child_ticks * tick_ns +
		    procstat_run_ns(pid, root.self_ticks * tick_ns);
	procstat_read_status(pid, t, with_memory);
	t->nprocs = 1;
	for (i = 0; i < n; i++) {
		/* Children of the root are the common case: skip the walk. */
		if (v[i].ppid != pid && !procstat_in_tree(v, n, pid, &v[i]))
			continue;
		t->cpu_ns +=
		    procstat_run_ns(v[i].pid, v[i].self_ticks * tick_ns);
		procstat_read_status(v[i].pid, t, with_memory);
		t->nprocs++;
	}
	free(v);
	return 0;
}

long
procstat_tick_hz(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? hz : 100;
}

int
procstat_read_machine(struct procstat_machine *m)
{
	/* The intr line alone can be many kilobytes. */
	static char buf[1 << 16];
	unsigned long long f[8] = {0};
	char *p;
	int i;

	if (procstat_slurp("/proc/stat", buf, sizeof(buf)) < 0)
		return -errno;
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0],
		   &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]) < 4)
		return -EINVAL;
	m->total_ticks = 0;
	for (i = 0; i < 8; i++)
		m->total_ticks += f[i];
	m->busy_ticks = m->total_ticks - f[3] - f[4];
	m->irq_ticks = f[5] + f[6];
	p = strstr(buf, "\nctxt ");
	m->ctxt = p ? strtoull(p + 6, NULL, 10) : 0;
	return 0;
}
