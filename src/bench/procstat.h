/*
 * procstat: what a server process tree and this machine have spent, read
 * from /proc, so parley-bench can report server CPU per delivery, memory
 * and context switches. Used by the bench process only; holds no state.
 */
#ifndef PARLEY_BENCH_PROCSTAT_H
#define PARLEY_BENCH_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct procstat_tree {
	uint64_t cpu_ns;     /* root utime+stime+cutime+cstime, plus the
			      * utime+stime of every live descendant */
	uint64_t hwm_kb;     /* sum of VmHWM (peak RSS) over the tree */
	uint64_t pss_kb;     /* sum of Pss now (0 if smaps_rollup is absent) */
	uint64_t ctxsw;	     /* voluntary + involuntary, live processes only */
	unsigned int nprocs; /* processes in the tree */
};

struct procstat_machine {
	uint64_t busy_ticks; /* /proc/stat cpu: all but idle and iowait */
	uint64_t irq_ticks;  /* irq + softirq: kernel work (loopback TCP among
			      * it)  that no process is charged for */
	uint64_t total_ticks;
	uint64_t ctxt; /* context switches since boot, all CPUs */
};

/* Reads the tree rooted at pid. with_memory adds hwm_kb and pss_kb (costs
 * one smaps_rollup read per process). Returns 0 or -errno (-ESRCH when pid
 * is gone). Does not block beyond /proc reads. */
int procstat_read_tree(pid_t pid, int with_memory, struct procstat_tree *t)
    __attribute__((warn_unused_result));

/* Clock ticks per second of /proc/stat and /proc/PID/stat (USER_HZ). */
long procstat_tick_hz(void);

/* Reads machine-wide CPU ticks and context switches. Returns 0 or -errno. */
int procstat_read_machine(struct procstat_machine *m)
    __attribute__((warn_unused_result));

#endif
