/*
 * notify: the service manager's readiness protocol (sd_notify(3)) without
 * libsystemd: one datagram of "KEY=VALUE" lines to the unix socket named
 * by $NOTIFY_SOCKET (a path, or '@' for the abstract namespace). Without
 * that variable every call does nothing. Supervisor only; never blocks.
 */
#ifndef PARLEY_NOTIFY_H
#define PARLEY_NOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

struct notify {
	int fd; /* -1: no service manager */
	struct sockaddr_un addr;
	socklen_t addr_len;
	int warned; /* a failed send was logged */
};

/* Reads $NOTIFY_SOCKET and opens the socket (close-on-exec). A bad value
 * is logged and ignored. */
void notify_init(struct notify *n);

/* Sends one datagram made of the formatted text (lines separated by
 * '\n'). Failures are logged once and otherwise ignored. */
void notify_send(struct notify *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "RELOADING=1" with MONOTONIC_USEC, as systemd wants it before a
 * reload's "READY=1". */
void notify_reloading(struct notify *n);

void notify_close(struct notify *n);

#endif
