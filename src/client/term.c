/*
 * term: raw mode, window size and the signal self-pipe of the client.
 * The handlers only save errno and write one byte; everything else runs
 * in the poll loop.
 */
#include "client/term.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static struct termios term_saved;
static int term_saved_fd = -1;
static int term_signal_fd = -1;

int
term_raw_enable(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &term_saved) < 0)
		return -errno;
	t = term_saved;
	t.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
	t.c_cflag |= CS8;
	t.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSAFLUSH, &t) < 0)
		return -errno;
	term_saved_fd = fd;
	return 0;
}

void
term_restore(void)
{
	if (term_saved_fd < 0)
		return;
	(void)tcsetattr(term_saved_fd, TCSAFLUSH, &term_saved);
	term_saved_fd = -1;
}

int
term_columns(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return 80;
	return ws.ws_col;
}

int
term_rows(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
		return 24;
	return ws.ws_row;
}

int
term_is_dumb(void)
{
	const char *term = getenv("TERM");

	return !term || term[0] == '\0' || strcmp(term, "dumb") == 0;
}

int
term_wants_colour(void)
{
	const char *no = getenv("NO_COLOR");

	if (no && no[0] != '\0')
		return 0;
	return !term_is_dumb();
}

static void
term_on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	/* A full pipe already holds a wake-up: dropping this byte is fine. */
	ssize_t n = write(term_signal_fd, &b, 1);

	(void)n;
	errno = saved;
}

int
term_signals_open(void)
{
	static const int sigs[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGTSTP};
	struct sigaction sa;
	int p[2];

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	term_signal_fd = p[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = term_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) < 0) {
			int err = -errno;
			close(p[0]);
			close(p[1]);
			term_signal_fd = -1;
			return err;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	return p[0];
}

void
term_stop(void)
{
	struct sigaction dfl, saved;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (sigaction(SIGTSTP, &dfl, &saved) < 0)
		return;
	(void)raise(SIGTSTP); /* stops here until SIGCONT */
	(void)sigaction(SIGTSTP, &saved, NULL);
}

int
term_signals_next(int fd)
{
	unsigned char b;
	ssize_t n;

	do {
		n = read(fd, &b, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? b : 0;
}
