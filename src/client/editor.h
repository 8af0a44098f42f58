/*
 * editor: the client's line editor as a pure state machine. Terminal bytes
 * go in (keys, escape sequences, UTF-8), a buffer and a cursor come out,
 * and editor_render draws the input line into a string. No I/O, no tty:
 * the cursor is always on a character boundary of valid UTF-8.
 */
#ifndef PARLEY_CLIENT_EDITOR_H
#define PARLEY_CLIENT_EDITOR_H

#include <stddef.h>

/* Bytes of one input line, with its NUL: parleyd's default line limit is
 * 1024 bytes, and a longer line would only be refused. */
#define EDITOR_LINE_MAX	   1025
#define EDITOR_PROMPT_MAX  128 /* bytes of the prompt, with its NUL */
#define EDITOR_HISTORY_MAX 200 /* lines kept for up/down */
#define EDITOR_PEND_MAX	   32  /* an escape sequence or a partial char */
/* Room editor_render needs: the line, the prompt and a few sequences. */
#define EDITOR_RENDER_MAX (EDITOR_LINE_MAX + EDITOR_PROMPT_MAX + 64)

enum editor_event {
	EDITOR_NONE,	  /* nothing visible changed */
	EDITOR_CHANGED,	  /* the line or the cursor changed: render again */
	EDITOR_SUBMIT,	  /* Enter: the line is in editor_line() */
	EDITOR_EOF,	  /* Ctrl-D on an empty line: leave */
	EDITOR_INTERRUPT, /* Ctrl-C: leave */
	EDITOR_CLEAR,	  /* Ctrl-L: clear the screen, render again */
	EDITOR_SUSPEND,	  /* Ctrl-Z: stop like a shell job */
};

struct editor {
	char buf[EDITOR_LINE_MAX];  /* the line being edited, NUL-terminated */
	size_t len;		    /* bytes in buf */
	size_t pos;		    /* cursor, a byte offset into buf */
	char line[EDITOR_LINE_MAX]; /* the last submitted line */
	char prompt[EDITOR_PROMPT_MAX];
	unsigned char pend[EDITOR_PEND_MAX]; /* undecoded input */
	size_t pend_len;
	char *history[EDITOR_HISTORY_MAX]; /* oldest first, owned */
	int history_len;
	int history_pos;	     /* history_len while on the new line */
	char draft[EDITOR_LINE_MAX]; /* the new line, while browsing history */
};

/* Prepares an empty editor with an empty prompt. */
void editor_init(struct editor *ed);

/* Frees the history. The editor can be initialised again. */
void editor_free(struct editor *ed);

/* Sets the prompt (copied, truncated to fit; the caller sanitises it). */
void editor_set_prompt(struct editor *ed, const char *prompt);

/* Feeds one byte read from the terminal; returns what happened. After
 * EDITOR_SUBMIT the line is in editor_line() and the buffer is empty. */
enum editor_event editor_feed(struct editor *ed, unsigned char c);

/* Replaces the line being edited with s (valid UTF-8 without controls, as
 * editor_line gives; cut to fit), cursor at its end, off the history. */
void editor_set_line(struct editor *ed, const char *s);

/* 1 if line s carries a password (/login, /register, /password,
 * /unregister, /oper, a message to NickServ): the history never keeps it. */
int editor_line_is_secret(const char *s);

/* The last submitted line (NUL-terminated, valid UTF-8, no controls). */
const char *editor_line(const struct editor *ed);

/* The column of the cursor (0-based) when drawn cols wide. */
int editor_cursor_col(const struct editor *ed, int cols);

/* Draws the input line for a terminal cols wide into out (at least
 * EDITOR_RENDER_MAX bytes): carriage return, prompt, the visible part of the
 * line (scrolled so the cursor shows), erase to end of line, cursor
 * placement. Never writes the last column. Returns the length. */
size_t editor_render(const struct editor *ed, int cols, char *out,
		     size_t out_len);

#endif
