/*
 * log: timestamped log lines on stderr, one write(2) per line so lines from
 * different processes never interleave. Every process uses it; the only
 * state is the level, a per-process tag ("supervisor", "session 1234") and
 * a count of dropped lines.
 *
 * Logging never blocks the server: when stderr is a pipe or a socket that
 * is full (a stalled log reader), a line below error level is dropped and
 * counted, and the next line that gets through is preceded by "N log lines
 * dropped". Regular files and errors (fatal) are written as usual.
 */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the tag printed after the level (copied) and the minimum level. */
void log_init(const char *tag, enum log_level min);
/* Changes the minimum level (a reload of --verbose). */
void log_set_level(enum log_level min);
/* Sets the tag of a freshly forked process; lines its parent dropped are
 * not counted again in it. */
void log_set_tag(const char *tag);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log at error level and exit(1); fatal appends strerror(errno). */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
