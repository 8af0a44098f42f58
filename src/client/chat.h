/*
 * chat: the client's side of the conversation, line by line: what the
 * server's lines tell us (our nickname, our room) and what happens to a
 * line we send. Works on struct parley's queues; does no I/O itself.
 */
#ifndef PARLEY_CLIENT_CHAT_H
#define PARLEY_CLIENT_CHAT_H

#include "client/parley.h"

#include <stddef.h>

/* Takes one whole server line (without its LF; a CR before it is
 * dropped): follows what it says about us, shows it, and moves the
 * greeting on (sends --nick's /nick after the welcome; decides, on its
 * answer, whether input may flow or, in a pipe, parley must leave). */
void chat_on_server_line(struct parley *p, const char *line, size_t len);

/* The server closed the connection (sock_eof, sock_err set): says why.
 * Closed before its welcome line: refused (exit 3, with the server's last
 * notice as the reason). */
void chat_on_end(struct parley *p);

/* Queues s and a newline for the server. */
void chat_send_line(struct parley *p, const char *s);

/* Terminal mode: a line the user entered. Shown and sent; /quit leaves.
 * Before PARLEY_READY it is held, and submitted when the stage is reached
 * (or dropped if --nick is refused). */
void chat_submit(struct parley *p, const char *line);

/* No more input: wipes the input line; the connection is half-closed once
 * everything queued has been sent. */
void chat_leave(struct parley *p);

#endif
