/*
 * log: formats "2026-11-27T11:48:02.123Z INFO  supervisor: text" and writes
 * it with a single write(2) on stderr (atomic for lines under PIPE_BUF).
 */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char log_tag[48] = "parleyd";
static enum log_level log_min = LOG_INFO;

void
log_init(const char *tag, enum log_level min)
{
	log_set_tag(tag);
	log_min = min;
}

void
log_set_tag(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
}

static void __attribute__((format(printf, 2, 0)))
log_emit(enum log_level level, const char *fmt, va_list ap, int err)
{
	static const char *names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (level < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n,
			      ".%03ldZ %s %s: ", ts.tv_nsec / 1000000,
			      names[level], log_tag);
	if (n < sizeof(line)) {
		int k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		n = k < 0 ? n : n + (size_t)k;
	}
	if (err && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, ": %s",
				      strerror(err));
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w;
	do {
		w = write(STDERR_FILENO, line, n);
	} while (w < 0 && errno == EINTR);
}

#define LOG_FN(name, level)                                                    \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_emit(level, fmt, ap, 0);                                   \
		va_end(ap);                                                    \
	}

LOG_FN(log_debug, LOG_DEBUG)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_warn, LOG_WARN)

void
fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERROR, fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERROR, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
