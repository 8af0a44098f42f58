/*
 * parley.h: the state of the terminal client, one struct shared by its
 * files (parley.c the loop and start-up, screen.c what is shown, chat.c
 * what the lines mean). One process, one thread: no locking.
 */
#ifndef PARLEY_CLIENT_PARLEY_H
#define PARLEY_CLIENT_PARLEY_H

#include "client/editor.h"
#include "client/queue.h"

#define PARLEY_LINE_MAX	 (64 * 1024)  /* a longer server line is cut */
#define PARLEY_QUEUE_MAX (256 * 1024) /* stop reading the producer above */
#define PARLEY_GRACE_MS	 2000	      /* wait for the server after input ends */
#define PARLEY_TLS_PORT	 5051	      /* parley --tls HOST without a port */
#define PARLEY_NICK_MAX	 128
#define PARLEY_ROOM_MAX	 128

/* Exit codes (README and --help list them). */
#define PARLEY_EXIT_OK	  0
#define PARLEY_EXIT_CONN  1 /* no connection, or it broke */
#define PARLEY_EXIT_USAGE 2 /* bad option, argument or environment */
/* The server refused the connection, or (not on a terminal) --nick. */
#define PARLEY_EXIT_REFUSED 3

/* How far the greeting has come. Nothing typed or piped is sent before
 * PARLEY_READY, so no line goes out before the server has taken us in,
 * or under a name other than the one --nick asked for. */
enum parley_stage {
	PARLEY_GREETING, /* waiting for the server's welcome line */
	PARLEY_NAMING,	 /* /nick NAME sent, waiting for its answer */
	PARLEY_READY,	 /* input flows */
};

struct tls_link;

struct parley {
	int sock_fd, in_fd, out_fd, sig_fd;
	struct tls_link *tls;	 /* --tls: every byte to and from sock_fd */
	int in_flags, out_flags; /* to restore at exit */
	int interactive;	 /* stdin and stdout are terminals */
	int tty;		 /* terminal mode: editor, colour, echo */
	int colour;
	int cols;
	int out_is_tty;
	struct editor ed;
	int input_shown; /* the input line is on the screen */

	struct queue sendq;  /* to the server */
	struct queue outq;   /* to the terminal or stdout */
	struct queue sockin; /* server bytes not yet a whole line */
	struct queue errq;   /* our own lines for stderr, after outq */
	char last_in;	     /* last byte read from stdin (pipe mode) */

	char nick[PARLEY_NICK_MAX];
	char room[PARLEY_ROOM_MAX];

	enum parley_stage stage;
	char nick_want[PARLEY_NICK_MAX]; /* --nick NAME, "" for none */
	char refusal[256]; /* the last "-!- " notice before the welcome */
	struct queue held; /* lines entered before PARLEY_READY, LF-ended */
	int held_lines;

	/* The server's line limit is known only from its refusal, "-!- error:
	 * line too long (max N bytes)"; from then on longer lines are refused
	 * here. sent is the last line submitted, echo_rows the rows its echo
	 * takes while that echo is the last thing on the screen, else 0. */
	size_t line_max; /* 0 until the server has said */
	char sent[EDITOR_LINE_MAX];
	int sent_echoed;
	int echo_rows;

	int closing; /* no more input: half-close once sendq is empty */
	int shut_wr; /* shutdown(SHUT_WR) done */
	long long deadline_ms; /* after shut_wr: stop waiting for the server */
	int grace_ms;
	int sock_eof;  /* the server closed, or we stopped waiting */
	int sock_err;  /* errno that ended the connection, 0 for EOF */
	int out_dead;  /* stdout is gone: nothing more can be shown */
	int exit_code; /* non-zero: leave at once, with this code */
};

#endif
