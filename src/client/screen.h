/*
 * screen: what the client shows. On a terminal, server lines go above the
 * input line (timestamped, rendered), which is wiped and drawn again
 * around them; in a pipe, stdout gets the server's bytes exactly. All
 * output is queued in p->outq; nothing here writes to a file.
 */
#ifndef PARLEY_CLIENT_SCREEN_H
#define PARLEY_CLIENT_SCREEN_H

#include "client/parley.h"

#include <stddef.h>

/* Wipes the input line from the terminal, if it is shown. */
void screen_hide_input(struct parley *p);

/* Draws the input line (terminal mode, unless leaving). */
void screen_show_input(struct parley *p);

/* Shows one server line (without its newline): above the input line on a
 * terminal, as is on stdout in a pipe. */
void screen_print(struct parley *p, const char *line, size_t len);

/* A line of parley's own: "-!- parley: TEXT" on a terminal, "parley:
 * TEXT" on stderr otherwise, written only after everything queued for
 * stdout before it (see screen_flush_errors). */
void screen_notice(struct parley *p, const char *text);

/* Writes the queued stderr lines once stdout has taken everything queued
 * before them (or is gone); waits for a full stderr, which may share its
 * non-blocking file with stdout (2>&1). */
void screen_flush_errors(struct parley *p);

/* Sets the prompt from p->room and redraws the input line if shown. */
void screen_update_prompt(struct parley *p);

/* Terminal mode: shows a line we said as the server shows it to others
 * (it does not echo our own room messages); commands are not shown.
 * Returns 1 if it showed the line. */
int screen_echo(struct parley *p, const char *line);

/* Takes the echo of the last line said off the screen, if it is still the
 * last thing there and wholly on the screen: the cursor goes up over its
 * rows, which are cleared, and the next line shown takes its place.
 * Returns 1 if it did. */
int screen_unsay(struct parley *p);

#endif
