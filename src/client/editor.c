/*
 * editor: line editing keys, UTF-8 input and history for the terminal
 * client, as a pure state machine (no I/O). Invariant: buf holds valid
 * UTF-8 without control characters, and pos sits on a character boundary.
 */
#include "client/editor.h"

#include "client/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EDITOR_CTRL(c) ((c)&0x1f)
#define EDITOR_ESC     0x1b
#define EDITOR_DEL     0x7f

void
editor_init(struct editor *ed)
{
	memset(ed, 0, sizeof(*ed));
}

void
editor_free(struct editor *ed)
{
	for (int i = 0; i < ed->history_len; i++)
		free(ed->history[i]);
	ed->history_len = 0;
	ed->history_pos = 0;
}

void
editor_set_prompt(struct editor *ed, const char *prompt)
{
	snprintf(ed->prompt, sizeof(ed->prompt), "%s", prompt);
}

const char *
editor_line(const struct editor *ed)
{
	return ed->line;
}

static uint32_t
editor_cp_at(const char *s, size_t len, size_t pos, size_t *n)
{
	uint32_t cp;

	if (utf8_decode(s + pos, len - pos, &cp, n) != UTF8_OK) {
		*n = 1;
		return UTF8_REPLACEMENT;
	}
	return cp;
}

/* The boundary after the character at pos, with its combining marks. */
static size_t
editor_next(const char *s, size_t len, size_t pos)
{
	size_t n;

	if (pos >= len)
		return len;
	editor_cp_at(s, len, pos, &n);
	pos += n;
	while (pos < len) {
		uint32_t cp = editor_cp_at(s, len, pos, &n);
		if (utf8_cp_width(cp) != 0)
			break;
		pos += n;
	}
	return pos;
}

static size_t
editor_prev_cp(const char *s, size_t pos)
{
	do {
		pos--;
	} while (pos > 0 && ((unsigned char)s[pos] & 0xc0) == 0x80);
	return pos;
}

/* The boundary before pos: one base character and its combining marks. */
static size_t
editor_prev(const char *s, size_t len, size_t pos)
{
	size_t n;

	while (pos > 0) {
		pos = editor_prev_cp(s, pos);
		if (utf8_cp_width(editor_cp_at(s, len, pos, &n)) != 0)
			break;
	}
	return pos;
}

static void
editor_delete(struct editor *ed, size_t from, size_t to)
{
	memmove(ed->buf + from, ed->buf + to, ed->len - to + 1);
	ed->len -= to - from;
	if (ed->pos >= to)
		ed->pos -= to - from;
	else if (ed->pos > from)
		ed->pos = from;
}

static enum editor_event
editor_insert(struct editor *ed, const char *s, size_t n)
{
	if (ed->len + n >= sizeof(ed->buf))
		return EDITOR_NONE;
	memmove(ed->buf + ed->pos + n, ed->buf + ed->pos,
		ed->len - ed->pos + 1);
	memcpy(ed->buf + ed->pos, s, n);
	ed->len += n;
	ed->pos += n;
	return EDITOR_CHANGED;
}

static void
editor_load(struct editor *ed, const char *s)
{
	snprintf(ed->buf, sizeof(ed->buf), "%s", s);
	ed->len = strlen(ed->buf);
	ed->pos = ed->len;
}

void
editor_set_line(struct editor *ed, const char *s)
{
	size_t n = strlen(s);

	if (n >= sizeof(ed->buf)) {
		n = sizeof(ed->buf) - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--; /* cut at a character boundary */
	}
	memcpy(ed->buf, s, n);
	ed->buf[n] = '\0';
	ed->len = ed->pos = n;
	ed->history_pos = ed->history_len;
}

static int
editor_is_space(const struct editor *ed, size_t pos)
{
	return ed->buf[pos] == ' ';
}

static size_t
editor_word_left(const struct editor *ed)
{
	size_t p = ed->pos;

	while (p > 0 && editor_is_space(ed, p - 1))
		p--;
	while (p > 0 && !editor_is_space(ed, p - 1))
		p--;
	return p;
}

static size_t
editor_word_right(const struct editor *ed)
{
	size_t p = ed->pos;

	while (p < ed->len && editor_is_space(ed, p))
		p++;
	while (p < ed->len && !editor_is_space(ed, p))
		p++;
	return p;
}

static enum editor_event
editor_move(struct editor *ed, size_t pos)
{
	if (pos == ed->pos)
		return EDITOR_NONE;
	ed->pos = pos;
	return EDITOR_CHANGED;
}

static enum editor_event
editor_history_step(struct editor *ed, int dir)
{
	int to = ed->history_pos + dir;

	if (to < 0 || to > ed->history_len)
		return EDITOR_NONE;
	if (ed->history_pos == ed->history_len)
		snprintf(ed->draft, sizeof(ed->draft), "%s", ed->buf);
	ed->history_pos = to;
	editor_load(ed, to == ed->history_len ? ed->draft : ed->history[to]);
	return EDITOR_CHANGED;
}

/* Commands whose line carries a password: never kept in the history, so
 * that the up arrow cannot show it to someone at the keyboard later. */
static const char *const editor_secret_cmds[] = {
    "/login", "/register", "/password", "/unregister", "/oper", "/msg nickserv",
};

int
editor_line_is_secret(const char *s)
{
	for (size_t i = 0;
	     i < sizeof(editor_secret_cmds) / sizeof(editor_secret_cmds[0]);
	     i++) {
		size_t n = strlen(editor_secret_cmds[i]);
		if (strncasecmp(s, editor_secret_cmds[i], n) == 0 &&
		    (s[n] == ' ' || s[n] == '\0'))
			return 1;
	}
	return 0;
}

static void
editor_history_add(struct editor *ed, const char *s)
{
	if (s[0] == '\0' || editor_line_is_secret(s))
		return;
	if (ed->history_len > 0 &&
	    strcmp(ed->history[ed->history_len - 1], s) == 0)
		return;
	if (ed->history_len == EDITOR_HISTORY_MAX) {
		free(ed->history[0]);
		memmove(ed->history, ed->history + 1,
			sizeof(ed->history[0]) * (EDITOR_HISTORY_MAX - 1));
		ed->history_len--;
	}
	char *copy = strdup(s);
	if (copy)
		ed->history[ed->history_len++] = copy;
}

static enum editor_event
editor_submit(struct editor *ed)
{
	memcpy(ed->line, ed->buf, ed->len + 1);
	editor_history_add(ed, ed->line);
	ed->history_pos = ed->history_len;
	ed->buf[0] = '\0';
	ed->len = 0;
	ed->pos = 0;
	return EDITOR_SUBMIT;
}

static enum editor_event
editor_key_delete(struct editor *ed)
{
	if (ed->pos >= ed->len)
		return EDITOR_NONE;
	editor_delete(ed, ed->pos, editor_next(ed->buf, ed->len, ed->pos));
	return EDITOR_CHANGED;
}

static enum editor_event
editor_key_backspace(struct editor *ed)
{
	if (ed->pos == 0)
		return EDITOR_NONE;
	editor_delete(ed, editor_prev(ed->buf, ed->len, ed->pos), ed->pos);
	return EDITOR_CHANGED;
}

static enum editor_event
editor_key_kill(struct editor *ed, size_t from, size_t to)
{
	if (from == to)
		return EDITOR_NONE;
	editor_delete(ed, from, to);
	return EDITOR_CHANGED;
}

static enum editor_event
editor_control(struct editor *ed, unsigned char c)
{
	switch (c) {
	case '\r':
	case '\n':
		return editor_submit(ed);
	case EDITOR_CTRL('C'):
		return EDITOR_INTERRUPT;
	case EDITOR_CTRL('D'):
		if (ed->len == 0)
			return EDITOR_EOF;
		return editor_key_delete(ed);
	case EDITOR_CTRL('A'):
		return editor_move(ed, 0);
	case EDITOR_CTRL('E'):
		return editor_move(ed, ed->len);
	case EDITOR_CTRL('B'):
		return editor_move(ed, editor_prev(ed->buf, ed->len, ed->pos));
	case EDITOR_CTRL('F'):
		return editor_move(ed, editor_next(ed->buf, ed->len, ed->pos));
	case EDITOR_CTRL('H'):
	case EDITOR_DEL:
		return editor_key_backspace(ed);
	case EDITOR_CTRL('U'):
		return editor_key_kill(ed, 0, ed->pos);
	case EDITOR_CTRL('K'):
		return editor_key_kill(ed, ed->pos, ed->len);
	case EDITOR_CTRL('W'):
		return editor_key_kill(ed, editor_word_left(ed), ed->pos);
	case EDITOR_CTRL('P'):
		return editor_history_step(ed, -1);
	case EDITOR_CTRL('N'):
		return editor_history_step(ed, 1);
	case EDITOR_CTRL('L'):
		return EDITOR_CLEAR;
	case EDITOR_CTRL('Z'):
		return EDITOR_SUSPEND;
	default:
		return EDITOR_NONE; /* Tab and the rest: ignored */
	}
}

/* Dispatches a complete "ESC [ params final" or "ESC O final" sequence. */
static enum editor_event
editor_sequence(struct editor *ed)
{
	unsigned char final = ed->pend[ed->pend_len - 1];
	const char *params = (const char *)ed->pend + 2;
	size_t plen = ed->pend_len - 3;
	/* "1;5C" and "5C" are Ctrl-arrows in xterm and rxvt. */
	int ctrl = plen >= 1 && params[plen - 1] == '5';

	switch (final) {
	case 'A':
		return editor_history_step(ed, -1);
	case 'B':
		return editor_history_step(ed, 1);
	case 'C':
		if (ctrl)
			return editor_move(ed, editor_word_right(ed));
		return editor_move(ed, editor_next(ed->buf, ed->len, ed->pos));
	case 'D':
		if (ctrl)
			return editor_move(ed, editor_word_left(ed));
		return editor_move(ed, editor_prev(ed->buf, ed->len, ed->pos));
	case 'H':
		return editor_move(ed, 0);
	case 'F':
		return editor_move(ed, ed->len);
	case '~':
		if (plen == 1 && (params[0] == '1' || params[0] == '7'))
			return editor_move(ed, 0);
		if (plen == 1 && (params[0] == '4' || params[0] == '8'))
			return editor_move(ed, ed->len);
		if (plen == 1 && params[0] == '3')
			return editor_key_delete(ed);
		return EDITOR_NONE;
	default:
		return EDITOR_NONE;
	}
}

static enum editor_event
editor_feed_escape(struct editor *ed, unsigned char c)
{
	if (ed->pend_len == 1) {
		if (c == '[' || c == 'O') {
			ed->pend[ed->pend_len++] = c;
			return EDITOR_NONE;
		}
		/* A lone ESC (or Alt-key): drop the ESC, take the key. */
		ed->pend_len = 0;
		return editor_feed(ed, c);
	}
	if (c < 0x20 || c > 0x7e) {
		/* Not part of any sequence: drop the sequence. */
		ed->pend_len = 0;
		return editor_feed(ed, c);
	}
	if (ed->pend_len == sizeof(ed->pend)) {
		ed->pend_len = 0; /* absurdly long: discard */
		return EDITOR_NONE;
	}
	ed->pend[ed->pend_len++] = c;
	if (ed->pend[1] == 'O' || (c >= 0x40 && c <= 0x7e)) {
		enum editor_event ev = editor_sequence(ed);
		ed->pend_len = 0;
		return ev;
	}
	return EDITOR_NONE;
}

static enum editor_event
editor_feed_utf8(struct editor *ed, unsigned char c)
{
	uint32_t cp;
	size_t n, had = ed->pend_len;

	ed->pend[ed->pend_len++] = c;
	switch (utf8_decode((const char *)ed->pend, ed->pend_len, &cp, &n)) {
	case UTF8_NEED_MORE:
		return EDITOR_NONE;
	case UTF8_OK:
		ed->pend_len = 0;
		if (utf8_cp_width(cp) == 0 && cp < 0xa0)
			return EDITOR_NONE; /* C1 controls */
		return editor_insert(ed, (const char *)ed->pend, n);
	case UTF8_INVALID:
	default:
		ed->pend_len = 0;
		/* The byte that broke the sequence may start a new one. */
		if (had > 0 && (c & 0xc0) != 0x80)
			return editor_feed(ed, c);
		return EDITOR_NONE;
	}
}

enum editor_event
editor_feed(struct editor *ed, unsigned char c)
{
	if (ed->pend_len > 0 && ed->pend[0] == EDITOR_ESC)
		return editor_feed_escape(ed, c);
	if (ed->pend_len > 0)
		return editor_feed_utf8(ed, c);
	if (c == EDITOR_ESC) {
		ed->pend[ed->pend_len++] = c;
		return EDITOR_NONE;
	}
	if (c < 0x20 || c == EDITOR_DEL)
		return editor_control(ed, c);
	if (c >= 0x80)
		return editor_feed_utf8(ed, c);
	return editor_insert(ed, (const char *)&c, 1);
}

/* What fits on the input line: buf[start..end) after a prompt of pw
 * columns, with the cursor at column col. */
struct editor_view {
	size_t start, end;
	int pw, col;
};

static void
editor_view(const struct editor *ed, int cols, struct editor_view *v)
{
	size_t room;

	v->pw = (int)utf8_width(ed->prompt, strlen(ed->prompt));
	if (cols < 2)
		cols = 2;
	/* On a narrow terminal the line matters more than the prompt. */
	if (cols - 1 - v->pw < 8)
		v->pw = 0;
	room = (size_t)(cols - 1 - v->pw);
	v->start = 0;
	if (utf8_width(ed->buf, ed->pos) > room) {
		v->start = ed->pos;
		while (v->start > 0) {
			size_t p = editor_prev(ed->buf, ed->len, v->start);
			if (utf8_width(ed->buf + p, ed->pos - p) > room)
				break;
			v->start = p;
		}
	}
	v->end = v->start;
	while (v->end < ed->len) {
		size_t p = editor_next(ed->buf, ed->len, v->end);
		if (utf8_width(ed->buf + v->start, p - v->start) > room)
			break;
		v->end = p;
	}
	v->col =
	    v->pw + (int)utf8_width(ed->buf + v->start, ed->pos - v->start);
}

int
editor_cursor_col(const struct editor *ed, int cols)
{
	struct editor_view v;

	editor_view(ed, cols, &v);
	return v.col;
}

size_t
editor_render(const struct editor *ed, int cols, char *out, size_t out_len)
{
	struct editor_view v;
	int n;

	editor_view(ed, cols, &v);
	n = snprintf(out, out_len, "\r%s%.*s\x1b[K\r", v.pw ? ed->prompt : "",
		     (int)(v.end - v.start), ed->buf + v.start);
	if (n < 0 || (size_t)n >= out_len)
		return 0;
	if (v.col > 0) {
		int m =
		    snprintf(out + n, out_len - (size_t)n, "\x1b[%dC", v.col);
		if (m < 0 || (size_t)(n + m) >= out_len)
			return 0;
		n += m;
	}
	return (size_t)n;
}
