/*
 * sandbox: what a parleyd process may still do once it is set up. Session
 * processes (which parse untrusted bytes and run TLS on them) enter a
 * seccomp filter that allows only the system calls serving their clients
 * needs, the store one for its database; the supervisor, started as root, drops
 * to an unprivileged user once its ports are bound. Neither can be undone by
 * the process itself.
 */
#ifndef PARLEY_SANDBOX_H
#define PARLEY_SANDBOX_H

#include <stddef.h>

/* 0 if this kernel can run the filter (seccomp filters that kill the
 * process), else -errno. The supervisor checks it once at start-up. */
int sandbox_available(void) __attribute__((warn_unused_result));

/* Enters the filter for good: no new privileges, then seccomp. From then
 * on open/openat fail with EACCES and every call the filter does not list
 * (socket, connect, execve, fork, clone, ptrace, kill, mprotect, ...) kills
 * the process with SIGSYS. Returns 0 or -errno (nothing installed). */
int sandbox_enter(void) __attribute__((warn_unused_result));

/* The store's filter (sandbox.c lists it): what SQLite in WAL mode on
 * the files already open, yescrypt, its channel and the rings need. Like
 * sandbox_enter: open/openat fail with EACCES, anything not listed
 * (socket, execve, fork, ioctl, ...) kills it with SIGSYS. 0 or -errno. */
int sandbox_enter_store(void) __attribute__((warn_unused_result));

/* Drops from root to user name: its groups (initgroups), its gid, its
 * uid, and checks that root cannot be regained. Run as that user already:
 * nothing to do. Returns 0, or -1 with why (n bytes). */
int sandbox_drop_user(const char *name, char *why, size_t n)
    __attribute__((warn_unused_result));

#endif
