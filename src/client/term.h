/*
 * term: the terminal and signal plumbing of the client: raw mode and its
 * restoration, window size, whether colour is wanted, and signals turned
 * into bytes on a self-pipe so they arrive through poll().
 */
#ifndef PARLEY_CLIENT_TERM_H
#define PARLEY_CLIENT_TERM_H

/* Puts the terminal on fd into raw mode (no echo, no line buffering, no
 * signal keys, no flow control; output processing kept) and saves the old
 * mode for term_restore. Returns 0 or -errno. */
int term_raw_enable(int fd) __attribute__((warn_unused_result));

/* Restores the mode saved by term_raw_enable; does nothing otherwise.
 * Safe to call more than once. */
void term_restore(void);

/* The width of the terminal on fd in columns, 80 when unknown. */
int term_columns(int fd);

/* The height of the terminal on fd in rows, 24 when unknown. */
int term_rows(int fd);

/* True when TERM is unset, empty or "dumb": a terminal that may not
 * understand any escape sequence (an Emacs shell buffer, for one). */
int term_is_dumb(void);

/* True unless NO_COLOR is set and non-empty, or TERM is unset or "dumb". */
int term_wants_colour(void);

/* Creates the self-pipe and installs handlers for SIGWINCH, SIGINT,
 * SIGTERM, SIGHUP and SIGTSTP (SIGPIPE is ignored). Returns the read end
 * (non-blocking, close-on-exec) or -errno. */
int term_signals_open(void) __attribute__((warn_unused_result));

/* Stops the process as SIGTSTP would without a handler, and returns once it
 * is continued. The kernel discards SIGTSTP in an orphaned process group
 * (no shell to continue it): then it returns at once. */
void term_stop(void);

/* Reads the next pending signal number from the self-pipe, 0 when none. */
int term_signals_next(int fd);

#endif
