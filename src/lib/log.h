/*
 * log: timestamped log lines on stderr, one write(2) per line so lines from
 * different processes never interleave. Every process uses it; the only
 * state is the level and a per-process tag ("supervisor", "session 1234").
 */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the tag printed after the level (copied) and the minimum level. */
void log_init(const char *tag, enum log_level min);
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
