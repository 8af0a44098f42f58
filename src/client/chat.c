/*
 * chat: what the server's lines mean to the client, and what becomes of
 * the lines it sends. Invariant: p->nick and p->room are what the server
 * last said they are, sanitised, never longer than their buffers.
 */
#include "client/chat.h"

#include "client/render.h"
#include "client/screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#define CHAT_WELCOME  "-!- welcome to parley, "
#define CHAT_ERROR    "-!- error: "
#define CHAT_TOO_LONG "-!- error: line too long (max "
/* After /join of a room we are already in. */
#define CHAT_TALKING "-!- now talking in #"

/* Copies s[0..len) sanitised into out, cut at a character boundary to
 * fit; only the first 256 bytes of s are looked at. */
static void
chat_copy_clean(char *out, size_t out_len, const char *s, size_t len)
{
	char clean[3 * 256 + 1];
	size_t n;

	if (len > 256)
		len = 256;
	n = render_sanitize(s, len, clean, sizeof(clean));
	if (n >= out_len) {
		n = out_len - 1;
		while (n > 0 && ((unsigned char)clean[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, clean, n);
	out[n] = '\0';
}

static int
chat_starts(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

static int
chat_is_me(const struct parley *p, const char *s, size_t len)
{
	return p->nick[0] && strlen(p->nick) == len &&
	       memcmp(p->nick, s, len) == 0;
}

/* Follows our nickname and current room from "-!- ..." notices. */
static void
chat_track(struct parley *p, const char *line, size_t len)
{
	char copy[512], *s, *word, *rest;
	size_t wl = strlen(CHAT_WELCOME);

	if (len >= sizeof(copy) || len < 4 || memcmp(line, "-!- ", 4) != 0)
		return;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (len > wl && memcmp(copy, CHAT_WELCOME, wl) == 0) {
		s = copy + wl;
		chat_copy_clean(p->nick, sizeof(p->nick), s, strcspn(s, "!"));
		return;
	}
	if (strncmp(copy, CHAT_TALKING, strlen(CHAT_TALKING)) == 0) {
		s = copy + strlen(CHAT_TALKING) - 1;
		chat_copy_clean(p->room, sizeof(p->room), s, strcspn(s, " "));
		screen_update_prompt(p);
		return;
	}
	word = copy + 4;
	rest = strchr(word, ' ');
	if (!rest || !chat_is_me(p, word, (size_t)(rest - word)))
		return;
	rest++;
	if (strncmp(rest, "is now known as ", 16) == 0) {
		s = rest + 16;
		chat_copy_clean(p->nick, sizeof(p->nick), s, strcspn(s, " "));
	} else if (strncmp(rest, "joined #", 8) == 0) {
		s = rest + 7;
		chat_copy_clean(p->room, sizeof(p->room), s, strcspn(s, " "));
		screen_update_prompt(p);
	} else if (strncmp(rest, "left #", 6) == 0) {
		s = rest + 5;
		size_t rl = strcspn(s, " ");
		if (strlen(p->room) == rl && memcmp(p->room, s, rl) == 0) {
			p->room[0] = '\0';
			screen_update_prompt(p);
		}
	}
}

/* Input may flow: the lines entered meanwhile go out now, in order. */
static void
chat_ready(struct parley *p)
{
	struct queue held = p->held;
	size_t start = 0;
	char *nl;

	p->stage = PARLEY_READY;
	p->held = (struct queue){0};
	p->held_lines = 0;
	while (!p->closing && start < held.len &&
	       (nl = memchr(held.data + start, '\n', held.len - start))) {
		*nl = '\0';
		chat_submit(p, held.data + start);
		start = (size_t)(nl - held.data) + 1;
	}
	queue_free(&held);
}

/* What was entered before the answer is not sent: held lines (they stay
 * in the history), or what a dumb terminal has buffered. Says so. */
static void
chat_drop_early_input(struct parley *p)
{
	char text[128];
	int typed = 0;

	if (p->held_lines > 0) {
		snprintf(text, sizeof(text),
			 "not sent: %d line%s entered meanwhile (Up recalls "
			 "%s)",
			 p->held_lines, p->held_lines == 1 ? "" : "s",
			 p->held_lines == 1 ? "it" : "them");
		screen_notice(p, text);
	}
	queue_free(&p->held);
	p->held_lines = 0;
	if (p->tty)
		return;
	if (ioctl(p->in_fd, FIONREAD, &typed) == 0 && typed > 0)
		screen_notice(p, "not sent: what was typed meanwhile");
	(void)tcflush(p->in_fd, TCIFLUSH);
}

/* The server's answer to /nick was an error (why: the text after
 * "-!- error: "). In a pipe nothing is sent and parley leaves with exit
 * 3; on a terminal the session goes on under the name it has. */
static void
chat_nick_refused(struct parley *p, const char *why, size_t why_len)
{
	char clean[256], text[768];

	chat_copy_clean(clean, sizeof(clean), why, why_len);
	if (!p->interactive) {
		snprintf(text, sizeof(text), "--nick %s refused: %s",
			 p->nick_want, clean);
		screen_notice(p, text);
		p->exit_code = PARLEY_EXIT_REFUSED;
		return;
	}
	snprintf(text, sizeof(text), "--nick %s refused; you are %s",
		 p->nick_want, p->nick);
	screen_notice(p, text);
	chat_drop_early_input(p);
	chat_ready(p);
}

/* Moves the greeting on after a line was shown; renamed says whether the
 * line changed our nickname. The server answers requests in order and,
 * after its welcome, sends nothing unasked that could be taken for an
 * answer (the join of the default room is a join notice), so the first
 * error or rename of ours after /nick is its answer. */
static void
chat_greet(struct parley *p, const char *line, size_t len, int renamed)
{
	if (p->stage == PARLEY_GREETING) {
		if (!chat_starts(line, len, CHAT_WELCOME)) {
			if (chat_starts(line, len, "-!- "))
				chat_copy_clean(p->refusal, sizeof(p->refusal),
						line + 4, len - 4);
			return;
		}
		if (p->nick_want[0] && strcmp(p->nick, p->nick_want) != 0) {
			queue_puts(&p->sendq, "/nick ");
			chat_send_line(p, p->nick_want);
			p->stage = PARLEY_NAMING;
			return;
		}
		chat_ready(p);
	} else if (p->stage == PARLEY_NAMING) {
		if (renamed)
			chat_ready(p);
		else if (chat_starts(line, len, CHAT_ERROR))
			chat_nick_refused(p, line + strlen(CHAT_ERROR),
					  len - strlen(CHAT_ERROR));
	}
}

/* What "-!- error: line too long (max N bytes)" did to the last line
 * submitted. */
enum chat_refusal {
	CHAT_NOT_OURS,	  /* not that error, or not about the last line sent */
	CHAT_UNSAID,	  /* that line's echo was taken off the screen */
	CHAT_STILL_SHOWN, /* its echo stays: a notice must mark it */
	CHAT_NOT_SHOWN,	  /* it was never echoed (a command) */
};

/* Before the line is shown: learns the server's limit from its refusal
 * and, when the last line sent is longer (the one refused: the server
 * answers right after reading it), takes that line's echo off the screen
 * if it is still the last thing there. */
static enum chat_refusal
chat_refused_before(struct parley *p, const char *line, size_t len)
{
	char copy[128], *num, *end;
	unsigned long max;

	if (len >= sizeof(copy) || !chat_starts(line, len, CHAT_TOO_LONG))
		return CHAT_NOT_OURS;
	memcpy(copy, line, len);
	copy[len] = '\0';
	num = copy + strlen(CHAT_TOO_LONG);
	if (*num < '0' || *num > '9')
		return CHAT_NOT_OURS;
	max = strtoul(num, &end, 10);
	if (max == 0 || strncmp(end, " bytes)", 7) != 0)
		return CHAT_NOT_OURS;
	p->line_max = max;
	if (!p->tty || strlen(p->sent) <= max)
		return CHAT_NOT_OURS;
	if (!p->sent_echoed)
		return CHAT_NOT_SHOWN;
	return screen_unsay(p) ? CHAT_UNSAID : CHAT_STILL_SHOWN;
}

/* After the error is shown: a notice marks an echo that had to stay, and
 * the refused line comes back to an empty input line to be shortened. */
static void
chat_refused_after(struct parley *p, enum chat_refusal r)
{
	char text[128];

	if (r == CHAT_NOT_OURS)
		return;
	if (r == CHAT_STILL_SHOWN) {
		size_t len = strlen(p->sent), n = len < 30 ? len : 30;
		while (n > 0 && n < len &&
		       ((unsigned char)p->sent[n] & 0xc0) == 0x80)
			n--; /* cut at a character boundary */
		snprintf(text, sizeof(text), "not sent (too long): \"%.*s%s\"",
			 (int)n, p->sent, n < len ? "..." : "");
		screen_notice(p, text);
	}
	if (p->ed.len == 0)
		editor_set_line(&p->ed, p->sent);
	p->sent[0] = '\0';
	screen_show_input(p);
}

void
chat_on_server_line(struct parley *p, const char *line, size_t len)
{
	char before[PARLEY_NICK_MAX];
	enum chat_refusal r;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	r = chat_refused_before(p, line, len);
	memcpy(before, p->nick, sizeof(before));
	chat_track(p, line, len);
	screen_print(p, line, len);
	chat_refused_after(p, r);
	chat_greet(p, line, len, strcmp(before, p->nick) != 0);
}

void
chat_on_end(struct parley *p)
{
	char text[320];

	if (p->stage == PARLEY_GREETING && !p->closing &&
	    (p->refusal[0] || !p->sock_err)) {
		snprintf(text, sizeof(text), "refused by the server: %s",
			 p->refusal[0] ? p->refusal
				       : "closed before its welcome line");
		screen_notice(p, text);
		p->exit_code = PARLEY_EXIT_REFUSED;
	} else if (p->sock_err && !p->closing) {
		snprintf(text, sizeof(text), "connection lost: %s",
			 strerror(p->sock_err));
		screen_notice(p, text);
		p->exit_code = PARLEY_EXIT_CONN;
	} else if (!p->closing) {
		screen_notice(p, "connection closed by server");
	}
}

void
chat_send_line(struct parley *p, const char *s)
{
	queue_puts(&p->sendq, s);
	queue_append(&p->sendq, "\n", 1);
}

void
chat_leave(struct parley *p)
{
	screen_hide_input(p);
	p->closing = 1;
}

void
chat_submit(struct parley *p, const char *line)
{
	if (line[0] == '\0')
		return;
	if (p->stage != PARLEY_READY) {
		queue_puts(&p->held, line);
		queue_append(&p->held, "\n", 1);
		p->held_lines++;
		return;
	}
	if (p->line_max > 0 && strlen(line) > p->line_max) {
		char text[128];
		snprintf(text, sizeof(text),
			 "line too long for this server (%zu bytes, max %zu); "
			 "not sent",
			 strlen(line), p->line_max);
		screen_notice(p, text);
		if (p->ed.len == 0)
			editor_set_line(&p->ed, line);
		return;
	}
	snprintf(p->sent, sizeof(p->sent), "%s", line);
	p->sent_echoed = screen_echo(p, line);
	/* Not shown (a command): an earlier echo is no longer the last said. */
	if (!p->sent_echoed)
		p->echo_rows = 0;
	chat_send_line(p, line);
	if (strcmp(line, "/quit") == 0 || strncmp(line, "/quit ", 6) == 0)
		chat_leave(p);
}
