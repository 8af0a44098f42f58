/*
 * Unit tests for src/server/channel over a real socketpair: every message
 * type, fd passing, queueing behind a full socket, the queue bound, a dead
 * peer and malformed messages crafted with raw sendmsg().
 */
#include "server/channel.h"
#include "server/core.h"

#include "../testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* ---- helpers ------------------------------------------------------------ */

static char t_rbuf[CHANNEL_MSG_MAX];

/* Two channels over a fresh pair; a is the "supervisor", b the "session". */
static int
pair_open(struct channel *a, struct channel *b)
{
	int fds[2];

	if (channel_pair(fds) < 0)
		return -1;
	channel_init(a, fds[0]);
	channel_init(b, fds[1]);
	return 0;
}

static int
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A request whose arg names its sequence number. */
static size_t
request_make(struct channel_request *r, unsigned seq)
{
	memset(r, 0, sizeof(*r));
	r->client = seq;
	r->op = CORE_JOIN;
	r->room_len =
	    (uint16_t)snprintf(r->data, sizeof(r->data), "#room%u", seq);
	return sizeof(*r);
}

/* Sends requests until one is queued rather than sent. Returns how many
 * were sent or queued, or -1. */
static int
fill_socket(struct channel *ch, unsigned *seq)
{
	struct channel_request r;

	for (int i = 0; i < 100000; i++) {
		size_t len = request_make(&r, (*seq)++);
		if (channel_send(ch, CHANNEL_REQUEST, &r, len, -1, 1 << 20) < 0)
			return -1;
		if (channel_has_queued(ch))
			return i + 1;
	}
	return -1;
}

/* Receives every waiting request, checking each is the next in order.
 * Returns how many, or -1. *fd_at gets the seq of a message that carried
 * an fd (closing the fd after writing "x" to it). */
static int
drain_requests(struct channel *ch, unsigned *next, long *fd_at)
{
	struct channel_hdr hdr;
	int n = 0, fd, rc;

	while ((rc = channel_recv(ch, &hdr, t_rbuf, &fd)) >= 0) {
		const struct channel_request *r = (const void *)t_rbuf;
		if (!CHECKF(hdr.type == CHANNEL_REQUEST &&
				rc == (int)sizeof(*r) && r->client == *next,
			    "message %u: type %u len %d client %llu", *next,
			    hdr.type, rc, (unsigned long long)r->client))
			return -1;
		if (fd >= 0) {
			*fd_at = (long)*next;
			CHECK(write(fd, "x", 1) == 1);
			close(fd);
		}
		(*next)++;
		n++;
	}
	if (!CHECKF(rc == -EAGAIN, "recv returned %d", rc))
		return -1;
	return n;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_pair_is_nonblocking_seqpacket_and_close_on_exec(void)
{
	int fds[2], type = 0;
	socklen_t len = sizeof(type);

	REQUIRE(channel_pair(fds) == 0);
	for (int i = 0; i < 2; i++) {
		CHECK(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
		CHECK(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		CHECK(getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &len) ==
		      0);
		CHECK(type == SOCK_SEQPACKET);
	}
	close(fds[0]);
	close(fds[1]);
}

static void
test_every_message_type_round_trips_with_its_payload(void)
{
	struct channel a, b;
	struct channel_hdr hdr;
	struct channel_request req;
	struct channel_client_closed cc;
	struct channel_client_new cn;
	struct channel_kick kick;
	int fd;

	REQUIRE(pair_open(&a, &b) == 0);
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == -EAGAIN);
	CHECK(fd == -1);

	memset(&req, 0, sizeof(req));
	req.client = 0x0102030405060708ull;
	req.op = CORE_TOPIC;
	req.flags = CORE_TOPIC_SET;
	req.room_len = 5;
	req.text_len = 8;
	memcpy(req.data, "#roomnew text", 13);
	memset(req.data + 13, 'z', sizeof(req.data) - 13);
	memset(&cc, 0, sizeof(cc));
	cc.client = 77;
	cc.reason = CHANNEL_REASON_QUIT;
	cc.text_len = 3;
	memcpy(cc.text, "bye", 3);
	memset(&cn, 0, sizeof(cn));
	cn.client = 78;
	cn.proto = 1;
	cn.transport = 2;
	snprintf(cn.nick, sizeof(cn.nick), "guest12");
	snprintf(cn.user, sizeof(cn.user), "plain");
	snprintf(cn.host, sizeof(cn.host), "a1b2.cloak");
	snprintf(cn.addr, sizeof(cn.addr), "[::1]:4242");
	memset(&kick, 0, sizeof(kick));
	kick.client = 79;
	snprintf(kick.text, sizeof(kick.text), "flooding");

	/* session -> supervisor */
	CHECK(channel_send(&b, CHANNEL_MARK, NULL, 0, -1, 0) == 0);
	CHECK(channel_send(&b, CHANNEL_REQUEST, &req, sizeof(req), -1, 0) == 0);
	CHECK(channel_send(&b, CHANNEL_CLIENT_CLOSED, &cc, sizeof(cc), -1, 0) ==
	      0);
	/* supervisor -> session */
	CHECK(channel_send(&a, CHANNEL_CLIENT_NEW, &cn, sizeof(cn), -1, 0) ==
	      0);
	CHECK(channel_send(&a, CHANNEL_KICK, &kick, sizeof(kick), -1, 0) == 0);
	CHECK(channel_send(&a, CHANNEL_SHUTDOWN, NULL, 0, -1, 0) == 0);
	CHECK(!channel_has_queued(&a) && !channel_has_queued(&b));

	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == 0);
	CHECK(hdr.type == CHANNEL_MARK && hdr.version == CHANNEL_VERSION &&
	      hdr.len == 0 && fd == -1);
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == (int)sizeof(req));
	CHECK(hdr.type == CHANNEL_REQUEST && hdr.len == sizeof(req));
	CHECK(memcmp(t_rbuf, &req, sizeof(req)) == 0);
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == (int)sizeof(cc));
	CHECK(hdr.type == CHANNEL_CLIENT_CLOSED);
	CHECK(memcmp(t_rbuf, &cc, sizeof(cc)) == 0);
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == -EAGAIN);

	CHECK(channel_recv(&b, &hdr, t_rbuf, &fd) == (int)sizeof(cn));
	CHECK(hdr.type == CHANNEL_CLIENT_NEW && fd == -1);
	CHECK(memcmp(t_rbuf, &cn, sizeof(cn)) == 0);
	CHECK(channel_recv(&b, &hdr, t_rbuf, &fd) == (int)sizeof(kick));
	CHECK(hdr.type == CHANNEL_KICK);
	CHECK(memcmp(t_rbuf, &kick, sizeof(kick)) == 0);
	CHECK(channel_recv(&b, &hdr, t_rbuf, &fd) == 0);
	CHECK(hdr.type == CHANNEL_SHUTDOWN && hdr.len == 0);
	CHECK(channel_recv(&b, &hdr, t_rbuf, &fd) == -EAGAIN);
	channel_close(&a);
	channel_close(&b);
}

static void
test_passed_fd_arrives_and_writes_reach_the_pipe(void)
{
	struct channel a, b;
	struct channel_hdr hdr;
	struct channel_client_new cn = {.client = 5};
	int p[2], fd = -1;
	char got[8];

	REQUIRE(pair_open(&a, &b) == 0);
	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	CHECK(channel_send(&a, CHANNEL_CLIENT_NEW, &cn, sizeof(cn), p[1], 0) ==
	      0);
	/* Sent: the channel closed its copy. */
	CHECK(!fd_is_open(p[1]));
	CHECK(channel_recv(&b, &hdr, t_rbuf, &fd) == (int)sizeof(cn));
	CHECK(hdr.type == CHANNEL_CLIENT_NEW);
	if (CHECK(fd >= 0)) {
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		CHECK(write(fd, "ping", 4) == 4);
		close(fd);
	}
	CHECK(read(p[0], got, sizeof(got)) == 4);
	CHECK(memcmp(got, "ping", 4) == 0);
	/* The passed fd was the last write end. */
	CHECK(read(p[0], got, sizeof(got)) == 0);
	close(p[0]);
	channel_close(&a);
	channel_close(&b);
}

static void
test_full_socket_queues_and_flush_delivers_everything_in_order(void)
{
	struct channel a, b;
	struct channel_request r;
	unsigned seq = 0, next = 0;
	long fd_at = -1;
	int p[2];
	char c;

	REQUIRE(pair_open(&a, &b) == 0);
	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	REQUIRE(fill_socket(&a, &seq) > 0);
	/* More while queued, one of them with an fd. */
	unsigned fd_seq = 0;
	for (int i = 0; i < 300; i++) {
		int pass = -1;
		if (i == 150) {
			pass = p[1];
			fd_seq = seq;
		}
		size_t len = request_make(&r, seq++);
		CHECK(channel_send(&a, CHANNEL_REQUEST, &r, len, pass,
				   1 << 20) == 0);
	}
	CHECK(channel_has_queued(&a));
	CHECK(a.q_bytes > 0);

	int rounds = 0, rc;
	do {
		if (!CHECK(drain_requests(&b, &next, &fd_at) >= 0))
			goto out;
		rc = channel_flush(&a);
		if (!CHECKF(rc == 0 || rc == -EAGAIN, "flush returned %d", rc))
			goto out;
	} while (rc != 0 && ++rounds < 10000);
	CHECK(rc == 0);
	CHECK(!channel_has_queued(&a));
	CHECK(a.q_bytes == 0);
	CHECK(drain_requests(&b, &next, &fd_at) >= 0);
	CHECKF(next == seq, "received %u of %u", next, seq);
	CHECKF(fd_at == (long)fd_seq, "fd came with message %ld, sent with %u",
	       fd_at, fd_seq);
	CHECK(read(p[0], &c, 1) == 1 && c == 'x');
	CHECK(read(p[0], &c, 1) == 0);
out:
	close(p[0]);
	channel_close(&a);
	channel_close(&b);
}

static void
test_queue_over_max_queued_gives_enobufs_and_closes_the_fd(void)
{
	struct channel a, b;
	struct channel_request r;
	unsigned seq = 0;
	size_t len = request_make(&r, 0);
	size_t max = 3 * (sizeof(struct channel_hdr) + len);
	int p[2], rc = 0, queued = 0;
	char c;

	REQUIRE(pair_open(&a, &b) == 0);
	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	REQUIRE(fill_socket(&a, &seq) > 0);
	/* fill_socket queued one already (under its larger bound). */
	for (int i = 0; i < 10; i++) {
		rc = channel_send(&a, CHANNEL_REQUEST, &r, len, -1, max);
		if (rc < 0)
			break;
		queued++;
	}
	CHECKF(rc == -ENOBUFS, "send returned %d", rc);
	CHECKF(queued == 2, "%d more queued under a 3-message bound", queued);
	CHECK(a.q_bytes <= max);
	/* A dropped message's fd is closed by the channel. */
	CHECK(channel_send(&a, CHANNEL_REQUEST, &r, len, p[1], max) ==
	      -ENOBUFS);
	CHECK(!fd_is_open(p[1]));
	CHECK(read(p[0], &c, 1) == 0);
	close(p[0]);
	channel_close(&a);
	channel_close(&b);
}

static void
test_oversized_payload_is_refused_and_its_fd_closed(void)
{
	struct channel a, b;
	int p[2];
	char c;

	REQUIRE(pair_open(&a, &b) == 0);
	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	CHECK(channel_send(&a, CHANNEL_REQUEST, t_rbuf, CHANNEL_MSG_MAX, p[1],
			   1 << 20) == -EMSGSIZE);
	/* Dropped, so closed, as for -ENOBUFS. */
	CHECK(read(p[0], &c, 1) == 0);
	if (!CHECK(!fd_is_open(p[1])))
		close(p[1]);
	CHECK(!channel_has_queued(&a));
	close(p[0]);
	channel_close(&a);
	channel_close(&b);
}

static void
test_peer_close_gives_epipe_to_send_recv_and_flush(void)
{
	struct channel a, b, c, d;
	struct channel_hdr hdr;
	unsigned seq = 0;
	int fd, rc;

	REQUIRE(pair_open(&a, &b) == 0);
	channel_close(&b);
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == -EPIPE);
	CHECK(channel_send(&a, CHANNEL_MARK, NULL, 0, -1, 1 << 20) == -EPIPE);
	CHECK(!channel_has_queued(&a));
	channel_close(&a);

	/* A queue left behind when the peer dies (with messages unread):
	 * flush reports an error; Linux says ECONNRESET rather than EPIPE
	 * when the dead peer had unread data. So does recv. */
	REQUIRE(pair_open(&c, &d) == 0);
	REQUIRE(fill_socket(&c, &seq) > 0);
	channel_close(&d);
	rc = channel_flush(&c);
	CHECKF(rc == -EPIPE || rc == -ECONNRESET, "flush returned %d", rc);
	CHECK(channel_has_queued(&c));
	rc = channel_recv(&c, &hdr, t_rbuf, &fd);
	CHECKF(rc == -EPIPE || rc == -ECONNRESET, "recv returned %d", rc);
	rc = channel_recv(&c, &hdr, t_rbuf, &fd);
	CHECKF(rc == -EPIPE, "recv again returned %d", rc);
	channel_close(&c);
}

static void
test_recv_after_peer_close_still_returns_waiting_messages_first(void)
{
	struct channel a, b;
	struct channel_hdr hdr;
	int fd;

	REQUIRE(pair_open(&a, &b) == 0);
	CHECK(channel_send(&b, CHANNEL_MARK, NULL, 0, -1, 0) == 0);
	channel_close(&b);
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == 0);
	CHECK(hdr.type == CHANNEL_MARK);
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == -EPIPE);
	channel_close(&a);
}

/* Sends raw bytes (and optionally an fd) on a channel's socket. */
static ssize_t
raw_send(int sock, const void *data, size_t len, int pass_fd)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

static void
test_malformed_messages_give_ebadmsg_and_later_ones_still_arrive(void)
{
	static char big[CHANNEL_MSG_MAX + 64];
	struct channel a, b;
	struct channel_hdr hdr, bad;
	char msg[64];
	int fd = 123;

	REQUIRE(pair_open(&a, &b) == 0);
	/* Wrong version. */
	bad = (struct channel_hdr){
	    .type = CHANNEL_MARK, .version = CHANNEL_VERSION + 1, .len = 0};
	CHECK(raw_send(b.fd, &bad, sizeof(bad), -1) == (ssize_t)sizeof(bad));
	/* Header says 10 payload bytes, 5 follow. */
	bad = (struct channel_hdr){
	    .type = CHANNEL_KICK, .version = CHANNEL_VERSION, .len = 10};
	memcpy(msg, &bad, sizeof(bad));
	memcpy(msg + sizeof(bad), "abcde", 5);
	CHECK(raw_send(b.fd, msg, sizeof(bad) + 5, -1) ==
	      (ssize_t)(sizeof(bad) + 5));
	/* Header says 0, 4 follow. */
	bad.len = 0;
	memcpy(msg, &bad, sizeof(bad));
	CHECK(raw_send(b.fd, msg, sizeof(bad) + 4, -1) ==
	      (ssize_t)(sizeof(bad) + 4));
	/* Shorter than a header. */
	CHECK(raw_send(b.fd, "abc", 3, -1) == 3);
	/* Longer than any message (truncated on receipt). */
	bad.len = (uint32_t)(sizeof(big) - sizeof(bad));
	memcpy(big, &bad, sizeof(bad));
	CHECK(raw_send(b.fd, big, sizeof(big), -1) == (ssize_t)sizeof(big));
	/* And a good one. */
	CHECK(channel_send(&b, CHANNEL_SHUTDOWN, NULL, 0, -1, 0) == 0);

	for (int i = 0; i < 5; i++) {
		int rc = channel_recv(&a, &hdr, t_rbuf, &fd);
		CHECKF(rc == -EBADMSG, "bad message %d: recv returned %d", i,
		       rc);
		CHECK(fd == -1);
	}
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == 0);
	CHECK(hdr.type == CHANNEL_SHUTDOWN);
	channel_close(&a);
	channel_close(&b);
}

static void
test_fd_sent_with_a_malformed_message_is_closed_by_the_receiver(void)
{
	struct channel a, b;
	struct channel_hdr hdr,
	    bad = {.type = CHANNEL_CLIENT_NEW, .version = 99, .len = 0};
	int p[2], fd = 123;
	char c;

	REQUIRE(pair_open(&a, &b) == 0);
	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	CHECK(raw_send(b.fd, &bad, sizeof(bad), p[1]) == (ssize_t)sizeof(bad));
	close(p[1]);
	CHECK(channel_recv(&a, &hdr, t_rbuf, &fd) == -EBADMSG);
	CHECK(fd == -1);
	/* No write end is left anywhere. */
	CHECK(read(p[0], &c, 1) == 0);
	close(p[0]);
	channel_close(&a);
	channel_close(&b);
}

static void
test_close_with_a_queue_closes_the_queued_fds(void)
{
	struct channel a, b;
	struct channel_request r;
	unsigned seq = 0;
	int p[2];
	char c;

	REQUIRE(pair_open(&a, &b) == 0);
	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	REQUIRE(fill_socket(&a, &seq) > 0);
	size_t len = request_make(&r, seq++);
	CHECK(channel_send(&a, CHANNEL_REQUEST, &r, len, p[1], 1 << 20) == 0);
	CHECK(fd_is_open(p[1]));
	channel_close(&a);
	CHECK(a.fd == -1 && !channel_has_queued(&a) && a.q_bytes == 0);
	CHECK(read(p[0], &c, 1) == 0);
	close(p[0]);
	channel_close(&b);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_pair_is_nonblocking_seqpacket_and_close_on_exec);
	RUN(test_every_message_type_round_trips_with_its_payload);
	RUN(test_passed_fd_arrives_and_writes_reach_the_pipe);
	RUN(test_full_socket_queues_and_flush_delivers_everything_in_order);
	RUN(test_queue_over_max_queued_gives_enobufs_and_closes_the_fd);
	RUN(test_oversized_payload_is_refused_and_its_fd_closed);
	RUN(test_peer_close_gives_epipe_to_send_recv_and_flush);
	RUN(test_recv_after_peer_close_still_returns_waiting_messages_first);
	RUN(test_malformed_messages_give_ebadmsg_and_later_ones_still_arrive);
	RUN(test_fd_sent_with_a_malformed_message_is_closed_by_the_receiver);
	RUN(test_close_with_a_queue_closes_the_queued_fds);
	return tl_summary("unit_channel");
}
