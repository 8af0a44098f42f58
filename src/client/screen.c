/*
 * screen: the client's output side, on a terminal or a pipe. Invariant: on
 * a terminal every server line is written with the input line wiped first,
 * and input_shown says whether the input line is on the screen now.
 */
#include "client/screen.h"

#include "client/render.h"
#include "client/term.h"
#include "client/utf8.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void
screen_hide_input(struct parley *p)
{
	if (p->tty && p->input_shown) {
		queue_puts(&p->outq, "\r\x1b[K");
		p->input_shown = 0;
	}
}

void
screen_show_input(struct parley *p)
{
	char out[EDITOR_RENDER_MAX];
	size_t n;

	if (!p->tty || p->closing)
		return;
	n = editor_render(&p->ed, p->cols, out, sizeof(out));
	queue_append(&p->outq, out, n);
	p->input_shown = 1;
}

/* On a terminal every line starts with the local time it arrived, "14:05 "
 * (dim in colour); pipes get the server's bytes only. */
static void
screen_timestamp(struct parley *p)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) ||
	    strftime(stamp, sizeof(stamp), "%H:%M ", &tm) == 0)
		return;
	if (p->colour)
		queue_puts(&p->outq, "\x1b[2m");
	queue_puts(&p->outq, stamp);
	if (p->colour)
		queue_puts(&p->outq, "\x1b[0m");
}

/* Rows that text of s[0..len) takes on a terminal cols wide when it
 * starts at column col: as a terminal wraps, a wide character that does
 * not fit in the last column goes to the next row. */
static int
screen_rows(const char *s, size_t len, int col, int cols)
{
	int rows = 1;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (utf8_decode(s + i, len - i, &cp, &n) != UTF8_OK) {
			cp = UTF8_REPLACEMENT;
			n = 1;
		}
		int w = utf8_cp_width(cp);
		if (col + w > cols) {
			rows++;
			col = 0;
		}
		col += w;
		i += n;
	}
	return rows;
}

void
screen_print(struct parley *p, const char *line, size_t len)
{
	size_t cap = RENDER_OUT_MAX(len);
	char stackbuf[4096], *out = stackbuf;
	size_t n;

	p->echo_rows = 0; /* whatever was said last is no longer last */

	if (!p->tty && !p->out_is_tty) {
		/* Scriptable: exactly the server's bytes. */
		queue_append(&p->outq, line, len);
		queue_append(&p->outq, "\n", 1);
		return;
	}
	if (cap > sizeof(stackbuf)) {
		out = malloc(cap);
		if (!out)
			return;
	}
	n = render_line(line, len, p->colour, out, cap);
	screen_hide_input(p);
	if (p->tty)
		screen_timestamp(p);
	queue_append(&p->outq, out, n);
	queue_puts(&p->outq, p->tty ? "\r\n" : "\n");
	if (out != stackbuf)
		free(out);
}

void
screen_notice(struct parley *p, const char *text)
{
	char line[1024];
	int n;

	if (!p->tty) {
		queue_puts(&p->errq, "parley: ");
		queue_puts(&p->errq, text);
		queue_append(&p->errq, "\n", 1);
		screen_flush_errors(p);
		return;
	}
	n = snprintf(line, sizeof(line), "-!- parley: %s", text);
	if (n > 0)
		screen_print(p, line, strlen(line));
}

void
screen_flush_errors(struct parley *p)
{
	struct pollfd pfd = {.fd = STDERR_FILENO, .events = POLLOUT};

	if (p->outq.len > 0 && !p->out_dead)
		return;
	while (p->errq.len > 0) {
		if (queue_flush(&p->errq, STDERR_FILENO, 0) < 0 ||
		    (p->errq.len > 0 && poll(&pfd, 1, -1) < 0 &&
		     errno != EINTR)) {
			p->errq.len = 0; /* stderr is gone: nowhere to say it */
			return;
		}
	}
}

void
screen_update_prompt(struct parley *p)
{
	char prompt[PARLEY_ROOM_MAX + 4];

	snprintf(prompt, sizeof(prompt), "%s> ", p->room);
	editor_set_prompt(&p->ed, prompt);
	if (p->input_shown)
		screen_show_input(p);
}

int
screen_echo(struct parley *p, const char *line)
{
	char echo[EDITOR_LINE_MAX + 2 * PARLEY_ROOM_MAX + 16];
	int n;

	if (!p->room[0] || !p->nick[0])
		return 0;
	if (strncmp(line, "/me ", 4) == 0)
		n = snprintf(echo, sizeof(echo), "%s * %s %s", p->room, p->nick,
			     line + 4);
	else if (line[0] == '/' && line[1] != '/')
		return 0; /* a command: the server answers it */
	else
		n = snprintf(echo, sizeof(echo), "%s <%s> %s", p->room, p->nick,
			     line[0] == '/' ? line + 1 : line);
	if (n <= 0)
		return 0;
	screen_print(p, echo, strlen(echo));
	/* Every terminal line starts with "HH:MM ". */
	p->echo_rows = screen_rows(echo, strlen(echo), 6, p->cols);
	return 1;
}

int
screen_unsay(struct parley *p)
{
	char up[32];
	int rows = p->echo_rows;

	/* Rows scrolled off the top could not be cleared. */
	if (!p->tty || rows <= 0 || rows >= term_rows(p->out_fd))
		return 0;
	screen_hide_input(p);
	/* The cursor is at the start of the row below the echo. */
	snprintf(up, sizeof(up), "\x1b[%dA\x1b[J", rows);
	queue_puts(&p->outq, up);
	p->echo_rows = 0;
	return 1;
}
