/*
 * irc: a scripted IRC client for the tests, on top of testlib. It starts
 * parleyd with an IRC listener, registers clients, sends lines (CR LF
 * added) and waits, with deadlines, for lines matching patterns ('*' is
 * any run of bytes, '?' any one byte). Runs in the test process.
 */
#ifndef PARLEY_TESTS_IRC_H
#define PARLEY_TESTS_IRC_H

#include "testlib.h"

#include <stddef.h>

#define IRC_SERVER  "irc.test" /* the --server-name tests give */
#define IRC_WAIT_MS 10000

/* ts_start_model with an IRC listener on 127.0.0.1:0 (its port in
 * irc_port), --server-name irc.test, and extra. */
struct ts_server *irc_start(const char *model, const char *extra);

/* Whether line matches pattern. */
int irc_match(const char *pattern, const char *line);

/* Sends one line with CR LF. 0 or -1. */
int irc_send(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reads the next line (CR LF removed) into out; 0, or -1 on timeout or
 * EOF. */
int irc_read(int fd, char *out, size_t n, int timeout_ms);

/* The next line must match pattern: 1, or 0 after a failed check that
 * says what came instead (file and line are the caller's). */
int irc_next_at(const char *file, int line, int fd, const char *pattern,
		char *out, size_t n);
#define IRC_NEXT(fd, pat) irc_next_at(__FILE__, __LINE__, fd, pat, NULL, 0)
#define IRC_NEXT_OUT(fd, pat, out)                                             \
	irc_next_at(__FILE__, __LINE__, fd, pat, out, sizeof(out))

/* Skips lines until one matches pattern: 1, or 0 after a failed check. */
int irc_until_at(const char *file, int line, int fd, const char *pattern,
		 char *out, size_t n);
#define IRC_UNTIL(fd, pat) irc_until_at(__FILE__, __LINE__, fd, pat, NULL, 0)

/* Sends a PING and reads up to its PONG: every line before it is
 * counted, and those matching pattern (NULL: none) too. Returns how many
 * lines came before the PONG, or -1 (after a failed check). */
int irc_sync_at(const char *file, int line, int fd, const char *pattern,
		int *matching);
#define IRC_SYNC(fd) irc_sync_at(__FILE__, __LINE__, fd, NULL, NULL)
#define IRC_SYNC_AT_MATCHING(fd, pat, matching)                                \
	irc_sync_at(__FILE__, __LINE__, fd, pat, matching)

/* Connects to the server's IRC port; the fd, or -1. */
int irc_connect(const struct ts_server *s);

/* Connects and registers as nick, asking for caps first (space
 * separated; NULL: no CAP at all), and reads the welcome to its end (376
 * or 422). Returns the fd, or -1 after a failed check. */
int irc_login(const struct ts_server *s, const char *nick, const char *caps);

/* A plain client (tc_join on the server's port) renamed to nick, its
 * rename seen. Returns the fd, or -1 after a failed check. */
int irc_plain_as(const struct ts_server *s, const char *nick);

/* Reads the plain client's lines until one contains want, within
 * IRC_WAIT_MS: 1, or 0 after a failed check (at the caller's file and
 * line). IRC_PLAIN_DO sends send (LF added) first. */
int irc_plain_gets_at(const char *file, int line, int fd, const char *want);
int irc_plain_do_at(const char *file, int line, int fd, const char *send,
		    const char *want);
#define IRC_PLAIN_GETS(fd, want) irc_plain_gets_at(__FILE__, __LINE__, fd, want)
#define IRC_PLAIN_DO(fd, send, want)                                           \
	irc_plain_do_at(__FILE__, __LINE__, fd, send, want)

/* One step of an exchange: client who sends send (NULL: nothing), then
 * each client named in want gets the next line matching its pattern,
 * in order. */
struct irc_want {
	int who;
	const char *pattern;
};

#define IRC_WANTS_MAX 12

struct irc_step {
	int who;
	const char *send;
	struct irc_want want[IRC_WANTS_MAX];
};

/* Runs steps (n of them) on the clients fds; returns 1 if every line
 * came as wanted. */
int irc_exchange_at(const char *file, int line, const int *fds,
		    const struct irc_step *steps, size_t n);
#define IRC_EXCHANGE(fds, steps)                                               \
	irc_exchange_at(__FILE__, __LINE__, fds, steps,                        \
			sizeof(steps) / sizeof(steps[0]))

#endif
