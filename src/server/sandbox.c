/*
 * sandbox: seccomp filters for session processes and for the store,
 * written as classic BPF programs here (no library: the whole policy is
 * this file), and the supervisor's drop from root. A filter checks the
 * architecture, then the system call number against its process's allow
 * list; a few calls are allowed only with harmless arguments. Anything
 * else kills the process.
 */
#include "server/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The filter reads the low word of an argument at its offset: little
 * endian only. Elsewhere there is no filter, and parleyd does not start
 * (sandbox_available). */
#if defined(__x86_64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#else
#define SANDBOX_ARCH 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

#define SANDBOX_KILL  SECCOMP_RET_KILL_PROCESS
#define SANDBOX_ALLOW SECCOMP_RET_ALLOW
#define SANDBOX_MAX   256 /* instructions */

/* Allowed with any arguments: what the session loop, its client and
 * channel sockets, malloc, OpenSSL and the log need. The filter compares
 * in this order, so the calls of every loop iteration come first. */
static const int sandbox_allowed[] = {
/* the loop; client sockets (recv, send; OpenSSL reads and writes),
 * the wake eventfd and the signalfd (read), the channel (sendmsg,
 * recvmsg with SCM_RIGHTS) */
#ifdef SYS_epoll_wait
    SYS_epoll_wait,
#endif
    SYS_epoll_pwait,
    SYS_recvfrom,
    SYS_sendto,
    SYS_read,
    SYS_write,
    SYS_sendmsg,
    SYS_recvmsg,
    SYS_epoll_ctl,
    SYS_getpid,
    SYS_readv,
    SYS_writev,
    SYS_shutdown,
    SYS_close,
    /* time (the vDSO, or these when it falls back) */
    SYS_clock_gettime,
    SYS_gettimeofday,
    /* the log; the TLS context a worker receives in a memfd */
    SYS_pwritev2,
    SYS_pread64,
#ifdef SYS_poll
    SYS_poll,
#endif
    SYS_ppoll,
    /* memory: malloc and OpenSSL's buffers, and a fork-model session's
     * own heap (session_heap.c: a block over 32 KiB is a mapping of its
     * own); never executable: mmap is checked below, mprotect is not
     * allowed at all */
    SYS_brk,
    SYS_munmap,
    SYS_mremap,
    SYS_madvise,
    /* OpenSSL's random numbers (and its fork check: getpid, above);
     * glibc's locks, qsort */
    SYS_getrandom,
    SYS_gettid,
    SYS_futex,
    SYS_sysinfo,
    /* signals: signalfd's mask, abort() */
    SYS_rt_sigprocmask,
    SYS_rt_sigreturn,
    SYS_rt_sigaction,
    SYS_restart_syscall,
    /* the end */
    SYS_exit,
    SYS_exit_group,
#ifdef SANDBOX_ASAN
    /* AddressSanitizer's runtime (the asan build only; mprotect too,
     * below): its allocator and its reports. */
    SYS_sigaltstack,
    SYS_sched_yield,
    SYS_getppid,
#endif
};

/* Fail with EACCES instead of killing: libraries may try an optional
 * file and must get a plain error (as in OpenSSH's sandbox). */
static const int sandbox_eacces[] = {
#ifdef SYS_open
    SYS_open,
#endif
    SYS_openat,
#ifdef SYS_openat2
    SYS_openat2,
#endif
};

/* The store (store.c), once its database is open: SQLite in WAL mode on
 * the files it has open, libcrypt's yescrypt, its channel, the rings and
 * its loop. Found with strace -f on the store's tests (history, accounts
 * and logins, CHATHISTORY, registered rooms, reloads, kills, respawns, the
 * checkpoint at the end): one row per call, with why. No sockets, no
 * processes, no exec, no ioctl, no new files: open fails (SQLite's
 * optional ones: the directory it syncs once, temporary files). */
static const int sandbox_store_allowed[] = {
/* the loop, the signalfd and the eventfds, the channel */
#ifdef SYS_epoll_wait
    SYS_epoll_wait,
#endif
    SYS_epoll_pwait,
    SYS_epoll_ctl, /* the channel's EPOLLOUT, on and off */
    SYS_read,	   /* signalfd, wake eventfd */
    SYS_write,	   /* the flow eventfd; the log to a file */
    SYS_recvmsg,   /* requests from the supervisor */
    SYS_sendmsg,   /* answers */
    SYS_pwritev2,  /* the log (RWF_NOWAIT on a pipe) */
    /* SQLite on the database, its -wal and -shm */
    SYS_pread64,   /* pages */
    SYS_pwrite64,  /* pages, WAL frames, -shm growth */
    SYS_fdatasync, /* checkpoints (synchronous = NORMAL) */
    SYS_ftruncate, /* the database after a checkpoint */
#ifdef SYS_fstat
    SYS_fstat, /* file sizes */
#endif
#ifdef SYS_newfstatat
    SYS_newfstatat, /* the same, and stat(db): "has it moved?" */
#endif
#ifdef SYS_unlink
    SYS_unlink, /* -wal, -shm at the last close */
#endif
    SYS_unlinkat,	 /* the same where there is no unlink */
    SYS_clock_nanosleep, /* the busy handler: another process's lock */
    SYS_nanosleep,	 /* the same, older glibc */
    SYS_getpid,		 /* SQLite's fork check; the abort rule */
    SYS_close,		 /* the database at the end */
    /* time (the vDSO, or these when it falls back) */
    SYS_clock_gettime,
    SYS_gettimeofday,
    /* memory: malloc, SQLite's page cache, yescrypt's 16 MiB (mmap,
     * munmap), a -shm region mapped shared when the WAL index grows;
     * mmap is checked below: never executable */
    SYS_brk,
    SYS_munmap,
    SYS_mremap,	   /* realloc of a large block */
    SYS_madvise,   /* free of a large block */
    SYS_getrandom, /* crypt_gensalt: salts for new passwords */
#ifdef SYS_poll
    SYS_poll, /* the last flush of the channel */
#endif
    SYS_ppoll,
    /* signals: abort() (gettid, then tgkill: the rule below), and a
     * call interrupted by SIGSTOP/SIGCONT */
    SYS_gettid,
    SYS_rt_sigprocmask,
    SYS_rt_sigaction,
    SYS_rt_sigreturn,
    SYS_restart_syscall,
    SYS_exit,
    SYS_exit_group,
#ifdef SANDBOX_ASAN
    /* AddressSanitizer's runtime, as for sessions */
    SYS_sigaltstack,
    SYS_sched_yield,
    SYS_getppid,
    SYS_futex,
#endif
};

struct sandbox_prog {
	struct sock_filter f[SANDBOX_MAX];
	unsigned n;
};

static void
sandbox_put(struct sandbox_prog *p, struct sock_filter ins)
{
	if (p->n < SANDBOX_MAX)
		p->f[p->n] = ins;
	p->n++; /* counted past the end: sandbox_enter refuses it */
}

#define SB_STMT(code, k)       ((struct sock_filter)BPF_STMT(code, k))
#define SB_JUMP(code, k, t, f) ((struct sock_filter)BPF_JUMP(code, k, t, f))
#define SB_LD(off)	       SB_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define SB_RET(v)	       SB_STMT(BPF_RET | BPF_K, (v))
#define SB_JEQ(k, t, f)	       SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define SB_NR		       offsetof(struct seccomp_data, nr)
#define SB_ARG_LO(i)	       offsetof(struct seccomp_data, args[i])

/* nr -> ret. */
static void
sandbox_rule(struct sandbox_prog *p, int nr, uint32_t ret)
{
	sandbox_put(p, SB_JEQ((uint32_t)nr, 0, 1));
	sandbox_put(p, SB_RET(ret));
}

/* nr is allowed when the low word of argument arg is one of vals (the
 * kernel reads these arguments as 32-bit ints), else kills. */
static void
sandbox_rule_arg_in(struct sandbox_prog *p, int nr, unsigned arg,
		    const uint32_t *vals, unsigned nvals)
{
	sandbox_put(p, SB_JEQ((uint32_t)nr, 0, (uint8_t)(nvals + 3)));
	sandbox_put(p, SB_LD(SB_ARG_LO(arg)));
	for (unsigned i = 0; i < nvals; i++)
		sandbox_put(p, SB_JEQ(vals[i], (uint8_t)(nvals - i), 0));
	sandbox_put(p, SB_RET(SANDBOX_KILL));
	sandbox_put(p, SB_RET(SANDBOX_ALLOW));
}

/* nr is allowed unless argument arg has a bit of mask set. */
static void
sandbox_rule_arg_clear(struct sandbox_prog *p, int nr, unsigned arg,
		       uint32_t mask)
{
	sandbox_put(p, SB_JEQ((uint32_t)nr, 0, 4));
	sandbox_put(p, SB_LD(SB_ARG_LO(arg)));
	sandbox_put(p, SB_JUMP(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1));
	sandbox_put(p, SB_RET(SANDBOX_KILL));
	sandbox_put(p, SB_RET(SANDBOX_ALLOW));
}

/* tgkill(own pid, any thread, SIGABRT) only: abort() after a failed
 * assert. Signals to any other process are refused. */
static void
sandbox_rule_abort(struct sandbox_prog *p, uint32_t pid)
{
	sandbox_put(p, SB_JEQ(SYS_tgkill, 0, 6));
	sandbox_put(p, SB_LD(SB_ARG_LO(0)));
	sandbox_put(p, SB_JEQ(pid, 0, 2));
	sandbox_put(p, SB_LD(SB_ARG_LO(2)));
	sandbox_put(p, SB_JEQ(SIGABRT, 1, 0));
	sandbox_put(p, SB_RET(SANDBOX_KILL));
	sandbox_put(p, SB_RET(SANDBOX_ALLOW));
}

/* One process's filter: its allow list and the ioctl and fcntl commands
 * it may use. */
struct sandbox_policy {
	const int *allowed;
	size_t nallowed;
	const uint32_t *ioctls;
	unsigned nioctls;
	const uint32_t *fcntls;
	unsigned nfcntls;
};

/* SIOCOUTQ (unsent bytes of a closing client) is TIOCOUTQ. */
static const uint32_t sandbox_ioctls[] = {TIOCOUTQ, FIONREAD};
static const uint32_t sandbox_fcntls[] = {F_GETFL, F_SETFL, F_GETFD, F_SETFD};
/* SQLite's POSIX locks on the database and the -shm file (never a
 * blocking F_SETLKW: it polls with its busy handler). */
static const uint32_t sandbox_store_fcntls[] = {F_SETLK, F_GETLK};

#define SB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct sandbox_policy sandbox_session = {
    sandbox_allowed, SB_COUNT(sandbox_allowed),
    sandbox_ioctls,  SB_COUNT(sandbox_ioctls),
    sandbox_fcntls,  SB_COUNT(sandbox_fcntls),
};

static const struct sandbox_policy sandbox_store = {
    sandbox_store_allowed, SB_COUNT(sandbox_store_allowed), NULL, 0,
    sandbox_store_fcntls,  SB_COUNT(sandbox_store_fcntls),
};

static void
sandbox_build(struct sandbox_prog *p, const struct sandbox_policy *pol)
{
	p->n = 0;
	sandbox_put(p, SB_LD(offsetof(struct seccomp_data, arch)));
	sandbox_put(p, SB_JEQ(SANDBOX_ARCH, 1, 0));
	sandbox_put(p, SB_RET(SANDBOX_KILL));
	sandbox_put(p, SB_LD(SB_NR));
#if defined(__x86_64__)
	/* The x32 ABI's numbers alias the ones below: none of it. */
	sandbox_put(p, SB_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
	sandbox_put(p, SB_RET(SANDBOX_KILL));
#endif
	for (size_t i = 0; i < pol->nallowed; i++)
		sandbox_rule(p, pol->allowed[i], SANDBOX_ALLOW);
	for (size_t i = 0; i < sizeof(sandbox_eacces) / sizeof(int); i++)
		sandbox_rule(p, sandbox_eacces[i],
			     SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA));
	sandbox_rule_arg_clear(p, SYS_mmap, 2, PROT_EXEC);
#ifdef SANDBOX_ASAN
	sandbox_rule_arg_clear(p, SYS_mprotect, 2, PROT_EXEC);
#endif
	if (pol->nioctls)
		sandbox_rule_arg_in(p, SYS_ioctl, 1, pol->ioctls, pol->nioctls);
	sandbox_rule_arg_in(p, SYS_fcntl, 1, pol->fcntls, pol->nfcntls);
	sandbox_rule_abort(p, (uint32_t)getpid());
	sandbox_put(p, SB_RET(SANDBOX_KILL));
}

int
sandbox_available(void)
{
	uint32_t action = SECCOMP_RET_KILL_PROCESS;

	if (SANDBOX_ARCH == 0)
		return -ENOSYS; /* no filter written for this architecture */
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		return -errno;
	return 0;
}

static int
sandbox_install(const struct sandbox_policy *pol)
{
	struct sandbox_prog p;
	struct sock_fprog prog;

	if (SANDBOX_ARCH == 0)
		return -ENOSYS;
	sandbox_build(&p, pol);
	if (p.n > SANDBOX_MAX)
		return -E2BIG;
	prog.len = (unsigned short)p.n;
	prog.filter = p.f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

int
sandbox_enter(void)
{
	return sandbox_install(&sandbox_session);
}

int
sandbox_enter_store(void)
{
	return sandbox_install(&sandbox_store);
}

/* ---- dropping root ------------------------------------------------------- */

int
sandbox_drop_user(const char *name, char *why, size_t n)
{
	struct passwd *pw = getpwnam(name);
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (!pw) {
		snprintf(why, n, "no user %s", name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(why, n, "user %s is root: that drops nothing", name);
		return -1;
	}
	if (geteuid() != 0) {
		if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
			return 0;
		snprintf(why, n, "only root can become user %s", name);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		snprintf(why, n, "cannot become user %s: %s", name,
			 strerror(errno));
		return -1;
	}
	/* Root must be gone for good: real, effective and saved ids. */
	if (setuid(0) == 0 || seteuid(0) == 0 ||
	    (pw->pw_gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) ||
	    getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != pw->pw_uid || eu != pw->pw_uid || su != pw->pw_uid ||
	    rg != pw->pw_gid || eg != pw->pw_gid || sg != pw->pw_gid) {
		snprintf(why, n, "still able to regain root after becoming %s",
			 name);
		return -1;
	}
	return 0;
}
