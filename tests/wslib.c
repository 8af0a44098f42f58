/*
 * wslib: the WebSocket test client of wslib.h, over plain TCP or a
 * tlslib connection. Every wait has a deadline; nothing sleeps.
 */
#include "wslib.h"

#include "testlib.h"
#include "tlslib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int wc_rcvbuf;

/* A plain connection to 127.0.0.1:port with wc_rcvbuf set before the
 * connect (after, the window it leaves can be slower than the test). */
static int
wc_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd;

	if (!wc_rcvbuf)
		return tc_connect(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &wc_rcvbuf,
			 sizeof(wc_rcvbuf));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct wc *
wc_alloc(int fd, struct tt_conn *tls)
{
	struct wc *c = calloc(1, sizeof(*c));

	if (!c)
		abort();
	c->fd = fd;
	c->tls = tls;
	c->rd.msg = c->msg;
	c->rd.max_msg = sizeof(c->msg);
	c->rd.masked = 0; /* server frames are never masked */
	c->rd.binary_ok = 1;
	return c;
}

struct wc *
wc_new(int fd)
{
	return wc_alloc(fd, NULL);
}

struct wc *
wc_new_tls(struct tt_conn *tls)
{
	return wc_alloc(-1, tls);
}

void
wc_free(struct wc *c)
{
	if (!c)
		return;
	if (c->tls)
		tt_close(c->tls);
	else
		close(c->fd);
	free(c);
}

int
wc_send_raw(struct wc *c, const void *p, size_t n)
{
	size_t off = 0;

	if (c->tls)
		return tt_write(c->tls, p, n, WC_WAIT_MS);
	while (off < n) {
		ssize_t w =
		    send(c->fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

int
wc_read_more(struct wc *c, int timeout_ms)
{
	size_t room = sizeof(c->buf) - c->len;
	ssize_t r;

	if (c->eof)
		return 0;
	if (c->tls) {
		r = tt_read(c->tls, c->buf + c->len, room, timeout_ms);
	} else {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (timeout_ms <= 0 || poll(&p, 1, timeout_ms) <= 0)
			return -1;
		r = recv(c->fd, c->buf + c->len, room, 0);
	}
	if (r == -1 && c->tls)
		return -1;
	if (r <= 0) {
		c->eof = 1;
		return 0;
	}
	c->len += (size_t)r;
	return (int)r;
}

int
wc_read_head(struct wc *c, char *out, size_t n, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;

	for (;;) {
		uint8_t *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end) {
			size_t h = (size_t)(end - c->buf) + 4;
			size_t k = h < n - 1 ? h : n - 1;
			memcpy(out, c->buf, k);
			out[k] = '\0';
			memmove(c->buf, c->buf + h, c->len - h);
			c->len -= h;
			return (int)k;
		}
		if (wc_read_more(c, (int)(deadline - tl_now_ms())) <= 0)
			return -1;
	}
}

void
wc_request_on(struct wc *c, const char *request, char *head, size_t n)
{
	char req[4096];

	snprintf(req, sizeof(req), "%s\r\n", request);
	if (wc_send_raw(c, req, strlen(req)) < 0 ||
	    wc_read_head(c, head, n, WC_WAIT_MS) < 0)
		head[0] = '\0';
}

struct wc *
wc_request(int port, const char *request, char *head, size_t n)
{
	int fd = wc_connect(port);
	struct wc *c;

	if (fd < 0)
		return NULL;
	c = wc_new(fd);
	wc_request_on(c, request, head, n);
	return c;
}

void
wc_upgrade_on(struct wc *c, int port, const char *extra, char *head, size_t n)
{
	char req[2048];

	snprintf(req, sizeof(req),
		 "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: " WC_KEY "\r\n"
		 "Sec-WebSocket-Version: 13\r\n%s",
		 port, extra);
	wc_request_on(c, req, head, n);
}

struct wc *
wc_upgrade(int port, const char *extra, char *head, size_t n)
{
	int fd = wc_connect(port);
	struct wc *c;

	if (fd < 0)
		return NULL;
	c = wc_new(fd);
	wc_upgrade_on(c, port, extra, head, n);
	return c;
}

int
wc_join_on(struct wc *c, int port, const char *extra)
{
	char head[2048], line[512];

	wc_upgrade_on(c, port, extra, head, sizeof(head));
	if (strncmp(head, "HTTP/1.1 101 ", 13) != 0 ||
	    wc_expect(c, "-!- welcome to parley, ", line, sizeof(line)) < 0) {
		CHECKF(0, "no welcome; answer: %.200s", head);
		return -1;
	}
	const char *s = line + strlen("-!- welcome to parley, ");
	snprintf(c->nick, sizeof(c->nick), "%.*s", (int)strcspn(s, "!"), s);
	snprintf(line, sizeof(line), "-!- %s joined #lobby", c->nick);
	if (!CHECKF(wc_expect(c, line, NULL, 0) == 0, "no \"%s\"", line))
		return -1;
	return 0;
}

struct wc *
wc_join(int port, const char *extra)
{
	int fd = wc_connect(port);
	struct wc *c;

	if (fd < 0)
		return NULL;
	c = wc_new(fd);
	if (wc_join_on(c, port, extra) < 0) {
		wc_free(c);
		return NULL;
	}
	return c;
}

int
wc_frame(struct wc *c, unsigned b0, const void *p, size_t n, int unmasked,
	 uint64_t claim)
{
	static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	uint8_t *f;
	size_t len;
	int r;

	if (claim) {
		/* Only a header that claims a 64-bit length. */
		uint8_t h[WS_HEADER_MAX];
		h[0] = (uint8_t)b0;
		h[1] = 127 | (unmasked ? 0 : 0x80);
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)(claim >> (56 - 8 * i));
		memcpy(h + 10, mask, 4);
		return wc_send_raw(c, h, unmasked ? 10 : 14);
	}
	f = malloc(n + WS_HEADER_MAX);
	if (!f)
		abort();
	len = ws_frame_encode(f, b0 & 0x0F, p, n, unmasked ? NULL : mask);
	f[0] = (uint8_t)b0;
	r = wc_send_raw(c, f, len);
	free(f);
	return r;
}

int
wc_text(struct wc *c, const char *s)
{
	return wc_frame(c, 0x80 | WS_OP_TEXT, s, strlen(s), 0, 0);
}

int
wc_next(struct wc *c, struct ws_result *res, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;

	for (;;) {
		size_t used;
		ws_reader_next(&c->rd, c->buf, c->len, &used, res);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		if (res->ev != WS_EV_NEED_MORE)
			return 0;
		if (c->eof)
			return -2;
		if (wc_read_more(c, (int)(deadline - tl_now_ms())) < 0)
			return -1;
	}
}

int
wc_expect(struct wc *c, const char *want, char *out, size_t n)
{
	long long deadline = tl_now_ms() + WC_WAIT_MS;
	struct ws_result res;

	while (wc_next(c, &res, (int)(deadline - tl_now_ms())) == 0) {
		if (res.ev != WS_EV_MESSAGE)
			continue;
		if (memmem(res.data, res.len, want, strlen(want))) {
			if (out)
				snprintf(out, n, "%.*s", (int)res.len,
					 (const char *)res.data);
			return 0;
		}
	}
	return -1;
}

int
wc_expect_close(struct wc *c, char *reason, size_t n)
{
	long long deadline = tl_now_ms() + WC_WAIT_MS;
	struct ws_result res;

	while (wc_next(c, &res, (int)(deadline - tl_now_ms())) == 0) {
		if (res.ev != WS_EV_CLOSE)
			continue;
		if (reason)
			snprintf(reason, n, "%.*s", (int)res.len,
				 (const char *)res.data);
		return res.code == WS_CLOSE_NO_STATUS ? 0 : (int)res.code;
	}
	return -1;
}

int
wc_expect_eof(struct wc *c)
{
	long long deadline = tl_now_ms() + WC_WAIT_MS;

	while (!c->eof) {
		if (c->len == sizeof(c->buf))
			c->len = 0; /* nobody will read it: make room */
		if (wc_read_more(c, (int)(deadline - tl_now_ms())) < 0)
			return -1;
	}
	return 0;
}
