/*
 * irc_write: how the IRC front end's lines are written: numerics with the
 * server's name and the client's, long lists over several lines, and the
 * IRCv3 server-time. Session processes; pure but for pc->emit. Invariant:
 * every line it emits is at most IRC's 512 bytes, CR LF included, cut on
 * a character boundary.
 */
#include "server/irc_int.h"

#include "lib/line.h"

#include <stdio.h>
#include <string.h>

char *
irc_cstr(char *out, size_t n, struct outbox_str s)
{
	size_t k = line_utf8_cut(s.p, s.n, n - 1);

	if (k)
		memcpy(out, s.p, k);
	out[k] = '\0';
	return out;
}

const char *
irc_client(const struct pconn *pc)
{
	return irc_state(pc)->nick_set ? pc->nick : "*";
}

size_t
irc_linelen(const struct config *cfg)
{
	/* What a client may send (the framing's limit and its CR LF), but
	 * no more than RFC 1459's line, which every client can take. */
	size_t n = cfg->max_line + 2;

	return n < IRC_LINELEN_MAX ? n : IRC_LINELEN_MAX;
}

/* Ends the line at out[0..n) (cut to fit IRC's line on a character
 * boundary) with CR LF and emits it. */
static void
irc_finish(struct pconn *pc, char *out, size_t n)
{
	n = line_utf8_cut(out, n, IRC_LINELEN_MAX - 2);
	out[n++] = '\r';
	out[n++] = '\n';
	pc->emit(pc, out, n);
}

static void irc_vnum(struct pconn *pc, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
irc_vnum(struct pconn *pc, const char *fmt, va_list ap)
{
	char line[2 * IRC_LINELEN_MAX];
	int head = snprintf(line, sizeof(line), ":%s %.3s %s ",
			    pc->env->cfg->server_name, fmt, irc_client(pc));
	int body = vsnprintf(line + head, sizeof(line) - (size_t)head - 2,
			     fmt + 4, ap);
	size_t n = (size_t)head + (body < 0 ? 0 : (size_t)body);

	if (n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	irc_finish(pc, line, n);
}

void
irc_num(struct pconn *pc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	irc_vnum(pc, fmt, ap);
	va_end(ap);
}

void
irc_send(struct pconn *pc, const char *fmt, ...)
{
	char line[2 * IRC_LINELEN_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	irc_finish(pc, line,
		   (size_t)n < sizeof(line) - 3 ? (size_t)n : sizeof(line) - 3);
}

void
irc_num_list(struct pconn *pc, const char *prefix, const char *items,
	     size_t len)
{
	char line[IRC_LINELEN_MAX];
	size_t head = (size_t)snprintf(line, sizeof(line), ":%s %.3s %s %s",
				       pc->env->cfg->server_name, prefix,
				       irc_client(pc), prefix + 4);
	size_t n = head, i = 0;

	if (head >= sizeof(line) - 64)
		return;
	while (i < len) {
		size_t k = 0;
		while (i + k < len && items[i + k] != ' ')
			k++;
		if (n > head && n + 1 + k > sizeof(line) - 2) {
			irc_finish(pc, line, n);
			n = head;
		}
		if (n > head)
			line[n++] = ' ';
		k = line_utf8_cut(items + i, k, sizeof(line) - 2 - n);
		memcpy(line + n, items + i, k);
		n += k;
		while (i < len && items[i] != ' ')
			i++;
		i++;
	}
	if (n > head)
		irc_finish(pc, line, n);
}

void
irc_emit_lines(struct pconn *pc, const char *buf, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t k = nl ? (size_t)(nl - buf) + 1 : n;
		pc->emit(pc, buf, k);
		buf += k;
		n -= k;
	}
}

static char *
irc_digits(char *p, unsigned long long v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

size_t
irc_time(long long ms, char *out)
{
	long long secs, days, era, doe, yoe, doy, mp, y, m, d, rem;
	char *p = out;

	if (ms < 0)
		ms = 0;
	secs = ms / 1000;
	days = secs / 86400;
	rem = secs % 86400;
	/* Days since 1970-01-01 to a civil date (proleptic Gregorian, in
	 * 400-year eras of 146097 days counted from 0000-03-01). */
	days += 719468;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	p = irc_digits(p, (unsigned long long)y, 4);
	*p++ = '-';
	p = irc_digits(p, (unsigned long long)m, 2);
	*p++ = '-';
	p = irc_digits(p, (unsigned long long)d, 2);
	*p++ = 'T';
	p = irc_digits(p, (unsigned long long)(rem / 3600), 2);
	*p++ = ':';
	p = irc_digits(p, (unsigned long long)(rem / 60 % 60), 2);
	*p++ = ':';
	p = irc_digits(p, (unsigned long long)(rem % 60), 2);
	*p++ = '.';
	p = irc_digits(p, (unsigned long long)(ms % 1000), 3);
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - out);
}
