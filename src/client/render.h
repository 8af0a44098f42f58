/*
 * render: turns server lines into text that is safe and readable on a
 * terminal (control characters removed, invalid UTF-8 replaced, rooms,
 * nicknames and notices coloured). Pure functions, no I/O.
 */
#ifndef PARLEY_CLIENT_RENDER_H
#define PARLEY_CLIENT_RENDER_H

#include <stddef.h>

/* Bytes render_line may need for an input of len bytes: every byte may
 * become a 3-byte U+FFFD, plus the colour sequences. */
#define RENDER_OUT_MAX(len) (3 * (len) + 256)

/* Copies in[0..len) to out for a terminal: drops C0 controls (ESC
 * included), DEL and C1 controls, replaces invalid UTF-8 with U+FFFD. out
 * (at least 3 * len + 1 bytes) is NUL-terminated; returns its length. */
size_t render_sanitize(const char *in, size_t len, char *out, size_t out_len);

/* The SGR colour number of a nickname: a hash of the name picks one of a
 * fixed palette, so a nick has the same colour in every session. */
int render_nick_colour(const char *nick, size_t len);

/* Formats one server line (without its newline) for the terminal into out
 * (RENDER_OUT_MAX(len) bytes): sanitised, and with colour set, the room,
 * the nicknames, server notices and errors coloured. Returns the length. */
size_t render_line(const char *line, size_t len, int colour, char *out,
		   size_t out_len);

#endif
