/*
 * log: formats "2026-11-27T11:48:02.123Z INFO  supervisor: text" and writes
 * it with a single write(2) on stderr (atomic for lines under PIPE_BUF).
 * Below error level the write must not block: pwritev2(RWF_NOWAIT) where
 * the kernel supports it for the file, else a poll() for room first; a
 * line that does not fit is counted in log_dropped instead.
 */
#include "lib/log.h"

#include "lib/line.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static char log_tag[48] = "parleyd";
static enum log_level log_min = LOG_INFO;
static unsigned long log_dropped;
/* How stderr is written: unknown yet, a regular file (plain write), with
 * RWF_NOWAIT, or after a poll() when RWF_NOWAIT is not supported. */
static enum { LOG_FD_UNKNOWN, LOG_FD_FILE, LOG_FD_NOWAIT, LOG_FD_POLL } log_fd;

static void
log_fd_probe(void)
{
	struct stat st;

	log_fd = fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode)
		     ? LOG_FD_FILE
		     : LOG_FD_NOWAIT;
}

/* Writes the whole line or nothing. Returns 0, or -1 when it was dropped
 * because stderr is full (or gone) and must_block is 0. */
static int
log_write(const char *line, size_t n, int must_block)
{
	struct iovec iov = {.iov_base = (void *)line, .iov_len = n};
	ssize_t w;

	if (log_fd == LOG_FD_UNKNOWN)
		log_fd_probe();
	if (!must_block && log_fd == LOG_FD_NOWAIT) {
		do {
			w = pwritev2(STDERR_FILENO, &iov, 1, -1, RWF_NOWAIT);
		} while (w < 0 && errno == EINTR);
		if (w > 0)
			return 0; /* a stream socket may take part of it */
		if (w == 0 || errno == EAGAIN)
			return -1;
		if (errno != EOPNOTSUPP && errno != EINVAL)
			return -1;
		log_fd = LOG_FD_POLL;
	}
	if (!must_block && log_fd == LOG_FD_POLL) {
		struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};
		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
			return -1;
	}
	do {
		w = write(STDERR_FILENO, line, n);
	} while (w < 0 && errno == EINTR);
	return w < 0 ? -1 : 0;
}

void
log_init(const char *tag, enum log_level min)
{
	log_set_tag(tag);
	log_min = min;
}

void
log_set_level(enum log_level min)
{
	log_min = min;
}

void
log_set_tag(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
	log_dropped = 0; /* a forked child: the parent reports its own drops */
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
	n = line_utf8_cut(line, n, sizeof(line) - 2);
	line[n++] = '\n';
	int must_block = level >= LOG_ERROR;
	if (log_dropped) {
		char note[96];
		int k = snprintf(note, sizeof(note),
				 "%.24s WARN  %s: %lu log lines dropped: "
				 "stderr was full\n",
				 line, log_tag, log_dropped);
		if (k > 0 && (size_t)k < sizeof(note) &&
		    log_write(note, (size_t)k, must_block) == 0)
			log_dropped = 0;
		else if (!must_block) {
			log_dropped++;
			return;
		}
	}
	if (log_write(line, n, must_block) < 0)
		log_dropped++;
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
