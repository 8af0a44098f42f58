/*
 * fuzz_channel: arbitrary SEQPACKET messages (some carrying fds) written
 * into a channel_pair, received with channel_recv until -EAGAIN, then EOF.
 * Invariants: no crash, results are a payload length within bounds or one
 * of the documented errors, and no fd is left open afterwards.
 *
 * Input: records of [flags][len lo][len hi][len bytes]; flags & 3 is the
 * number of fds to pass with the message (each a fresh /dev/null).
 *
 * tests/fuzz/regressions/fuzz_channel/ holds the inputs of two fixed bugs:
 * a zero-length message read as EOF (leaking its fd), and a message with
 * several fds leaking all but one.
 */
#include "server/channel.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHANNEL_FDS_MAX 3

#define FUZZ_CHANNEL_FD_SCAN 64

static int fuzz_channel_lowest_fd = -1;
static char fuzz_channel_was_open[FUZZ_CHANNEL_FD_SCAN];

/* The lowest free fd at start; every fd from there up must be closed
 * again after each input. */
static int
fuzz_channel_next_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert(fd >= 0);
	close(fd);
	return fd;
}

static int
fuzz_channel_send_raw(int sock, const uint8_t *p, size_t len, int nfds)
{
	struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
	union {
		char buf[CMSG_SPACE(FUZZ_CHANNEL_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[FUZZ_CHANNEL_FDS_MAX];
	ssize_t n;

	for (int i = 0; i < nfds; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert(fds[i] >= 0);
	}
	if (nfds) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* In flight, the kernel holds its own references. */
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return n < 0 ? -errno : 0;
}

static void
fuzz_channel_drain(struct channel *ch)
{
	static char buf[CHANNEL_MSG_MAX];
	struct channel_hdr hdr;
	int fd, r;

	for (;;) {
		r = channel_recv(ch, &hdr, buf, &fd);
		if (r == -EAGAIN) {
			assert(fd == -1);
			return;
		}
		if (r == -EBADMSG) {
			assert(fd == -1);
			continue;
		}
		assert(r >= 0);
		assert((size_t)r == hdr.len);
		assert((size_t)r + sizeof(hdr) <= CHANNEL_MSG_MAX);
		assert(hdr.version == CHANNEL_VERSION);
		if (fd >= 0) {
			assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
			close(fd);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct channel ch;
	int fds[2], r, fd;
	struct channel_hdr hdr;
	static char buf[CHANNEL_MSG_MAX];

	if (fuzz_channel_lowest_fd < 0) {
		/* fds inherited open (from whoever started us) are not ours. */
		fuzz_channel_lowest_fd = fuzz_channel_next_fd();
		for (int i = 0; i < FUZZ_CHANNEL_FD_SCAN; i++)
			fuzz_channel_was_open[i] =
			    fcntl(fuzz_channel_lowest_fd + i, F_GETFD) >= 0;
	}
	assert(channel_pair(fds) == 0);
	channel_init(&ch, fds[1]);
	while (size >= 3) {
		int nfds = data[0] & 3;
		size_t len = data[1] | (size_t)data[2] << 8;
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		r = fuzz_channel_send_raw(fds[0], data, len, nfds);
		if (r == -EAGAIN || r == -ENOBUFS) {
			fuzz_channel_drain(&ch);
			r = fuzz_channel_send_raw(fds[0], data, len, nfds);
		}
		/* Messages over the socket's limit are refused; fine. */
		assert(r == 0 || r == -EMSGSIZE);
		data += len;
		size -= len;
		fuzz_channel_drain(&ch);
	}
	close(fds[0]);
	r = channel_recv(&ch, &hdr, buf, &fd);
	assert(r == -EPIPE && fd == -1);
	channel_close(&ch);
	assert(ch.fd == -1);
	for (int i = 0; i < FUZZ_CHANNEL_FD_SCAN; i++)
		assert((fuzz_channel_was_open[i] ||
			fcntl(fuzz_channel_lowest_fd + i, F_GETFD) < 0) &&
		       "fd leaked");
	return 0;
}
