/*
 * irc: the tests' IRC client: pattern matching, line reading with
 * deadlines (CR LF framing, on testlib's buffered reader), registration,
 * and tables of exchanges. Runs in the test process; never sleeps.
 */
#include "irc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ts_server *
irc_start(const char *model, const char *extra)
{
	char args[2048];
	struct ts_server *s;

	snprintf(args, sizeof(args),
		 "--irc-listen 127.0.0.1:0 --server-name " IRC_SERVER " %s",
		 extra ? extra : "");
	s = ts_start_model(model, args);
	if (s)
		CHECKF(s->irc_port > 0, "no IRC port in the log");
	return s;
}

int
irc_match(const char *p, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*p == '*') {
			star = ++p;
			retry = s;
		} else if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++retry;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int
irc_send(int fd, const char *fmt, ...)
{
	char line[16384];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return -1;
	return tc_send(fd, "%s\r\n", line);
}

int
irc_read(int fd, char *out, size_t n, int timeout_ms)
{
	int r = tc_readline(fd, out, n, timeout_ms);

	if (r < 0)
		return -1;
	if (r > 0 && out[r - 1] == '\r')
		out[r - 1] = '\0';
	return 0;
}

int
irc_next_at(const char *file, int line, int fd, const char *pattern, char *out,
	    size_t n)
{
	char got[8192];

	if (irc_read(fd, got, sizeof(got), IRC_WAIT_MS) < 0) {
		tl_fail(file, line, "wanted \"%s\", got a timeout or EOF",
			pattern);
		return 0;
	}
	if (!irc_match(pattern, got)) {
		tl_fail(file, line, "wanted \"%s\", got \"%s\"", pattern, got);
		return 0;
	}
	if (out)
		snprintf(out, n, "%s", got);
	return 1;
}

int
irc_until_at(const char *file, int line, int fd, const char *pattern, char *out,
	     size_t n)
{
	long long deadline = tl_now_ms() + IRC_WAIT_MS;
	char got[8192];

	for (;;) {
		long long left = deadline - tl_now_ms();
		if (left <= 0 ||
		    irc_read(fd, got, sizeof(got), (int)left) < 0) {
			tl_fail(file, line, "no line like \"%s\" came",
				pattern);
			return 0;
		}
		if (irc_match(pattern, got)) {
			if (out)
				snprintf(out, n, "%s", got);
			return 1;
		}
	}
}

int
irc_sync_at(const char *file, int line, int fd, const char *pattern,
	    int *matching)
{
	static unsigned seq;
	char token[32], want[64], got[8192];
	int before = 0;

	snprintf(token, sizeof(token), "sync%u", ++seq);
	snprintf(want, sizeof(want), ":" IRC_SERVER " PONG " IRC_SERVER " :%s",
		 token);
	if (matching)
		*matching = 0;
	irc_send(fd, "PING :%s", token);
	for (;;) {
		if (irc_read(fd, got, sizeof(got), IRC_WAIT_MS) < 0) {
			tl_fail(file, line, "no PONG :%s", token);
			return -1;
		}
		if (strcmp(got, want) == 0)
			return before;
		before++;
		if (pattern && matching && irc_match(pattern, got))
			(*matching)++;
	}
}

int
irc_connect(const struct ts_server *s)
{
	return tc_connect(s->irc_port);
}

int
irc_login(const struct ts_server *s, const char *nick, const char *caps)
{
	int fd = irc_connect(s);
	char want[256], end1[256], end2[256], got[8192];
	long long deadline = tl_now_ms() + IRC_WAIT_MS;

	if (!CHECKF(fd >= 0, "cannot connect to the IRC port"))
		return -1;
	if (caps) {
		irc_send(fd, "CAP LS 302");
		if (*caps)
			irc_send(fd, "CAP REQ :%s", caps);
	}
	irc_send(fd, "NICK %s", nick);
	irc_send(fd, "USER %s 0 * :%s's real name", nick, nick);
	if (caps)
		irc_send(fd, "CAP END");
	snprintf(want, sizeof(want), ":" IRC_SERVER " 001 %s :*", nick);
	snprintf(end1, sizeof(end1), ":" IRC_SERVER " 376 %s :*", nick);
	snprintf(end2, sizeof(end2), ":" IRC_SERVER " 422 %s :*", nick);
	if (!IRC_UNTIL(fd, want)) {
		tc_close(fd);
		return -1;
	}
	/* The welcome ends with the MOTD's end, or its absence. */
	for (;;) {
		long long left = deadline - tl_now_ms();
		if (left <= 0 ||
		    irc_read(fd, got, sizeof(got), (int)left) < 0) {
			CHECKF(0, "%s: the welcome did not end", nick);
			tc_close(fd);
			return -1;
		}
		if (irc_match(end1, got) || irc_match(end2, got))
			return fd;
	}
}

int
irc_exchange_at(const char *file, int line, const int *fds,
		const struct irc_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct irc_step *st = &steps[i];
		if (st->send)
			irc_send(fds[st->who], "%s", st->send);
		for (int k = 0; k < IRC_WANTS_MAX && st->want[k].pattern; k++)
			if (!irc_next_at(file, line, fds[st->want[k].who],
					 st->want[k].pattern, NULL, 0)) {
				tl_fail(file, line, "in step %zu (%s)", i,
					st->send ? st->send : "-");
				return 0;
			}
	}
	return 1;
}

int
irc_plain_as(const struct ts_server *s, const char *nick)
{
	char old[64], want[160];
	int fd = tc_join(s->port, old, sizeof(old));

	if (!CHECKF(fd >= 0, "plain client cannot join"))
		return -1;
	tc_send(fd, "/nick %s\n", nick);
	snprintf(want, sizeof(want), "-!- %s is now known as %s", old, nick);
	if (!CHECKF(tc_expect(fd, want, NULL, 0, IRC_WAIT_MS) > 0,
		    "plain client: no \"%s\"", want)) {
		tc_close(fd);
		return -1;
	}
	return fd;
}

int
irc_plain_gets_at(const char *file, int line, int fd, const char *want)
{
	char got[4096];

	return tl_check(tc_expect(fd, want, got, sizeof(got), IRC_WAIT_MS) > 0,
			file, line, "plain client: no line with \"%s\"", want);
}

int
irc_plain_do_at(const char *file, int line, int fd, const char *send,
		const char *want)
{
	tc_send(fd, "%s\n", send);
	return irc_plain_gets_at(file, line, fd, want);
}
