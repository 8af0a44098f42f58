/*
 * Integration tests of the web front end: parleyd's HTTP paths and errors,
 * the WebSocket handshake and its Origin check, and RFC 6455 conformance
 * in the style of the Autobahn test suite's cases 1-7 and 9 (framing,
 * ping/pong, reserved bits, opcodes, fragmentation, UTF-8, close, limits),
 * as tables, against the real parleyd over real sockets, in both process
 * models. The client (tests/wslib.h) is written from the RFC too.
 */
#include "../testlib.h"
#include "../wslib.h"
#include "lib/ws.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char model[256];
static struct ts_server *srv; /* shared by the tests that need no options */

#define WAIT_MS WC_WAIT_MS
#define KEY	WC_KEY

/* ---- HTTP --------------------------------------------------------------- */

/* Requests and what the answer's head must contain (and not). */
static const struct {
	const char *request; /* lines; "Host: H" is added when has_host */
	int has_host;
	const char *status, *want, *absent;
} http_rows[] = {
    {"GET / HTTP/1.1", 1, "200 OK", "Content-Type: text/html", NULL},
    {"GET / HTTP/1.1", 1, "200 OK",
     "Content-Security-Policy: default-src 'none'; script-src 'self'; "
     "style-src 'self'",
     NULL},
    {"GET /index.html HTTP/1.1", 1, "200 OK", "X-Content-Type-Options", NULL},
    {"GET /app.js HTTP/1.1", 1, "200 OK", "Content-Type: text/javascript",
     NULL},
    {"GET /app.css HTTP/1.1", 1, "200 OK", "Content-Type: text/css", NULL},
    {"GET /?x=1 HTTP/1.1", 1, "200 OK", "text/html", NULL},
    {"HEAD / HTTP/1.1", 1, "200 OK", "Content-Length", NULL},
    {"GET / HTTP/1.0", 0, "200 OK", "text/html", NULL},
    {"GET /nope HTTP/1.1", 1, "404 Not Found", "not found", NULL},
    {"GET /../etc/passwd HTTP/1.1", 1, "404 Not Found", NULL, NULL},
    {"POST / HTTP/1.1", 1, "405 Method Not Allowed", "Allow: GET, HEAD", NULL},
    {"DELETE /ws HTTP/1.1", 1, "405 Method Not Allowed", NULL, NULL},
    {"GET /ws HTTP/1.1", 1, "400 Bad Request", "not a WebSocket upgrade", NULL},
    {"GET / HTTP/1.1", 0, "400 Bad Request", "no Host header", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b", 0, "400 Bad Request",
     "a header came twice", NULL},
    {"GET / HTTP/1.1\r\nHost: <script>", 0, "400 Bad Request", NULL,
     "<script>"},
    {"GET / HTTP/2.0", 1, "400 Bad Request", NULL, NULL},
    {"GET  / HTTP/1.1", 1, "400 Bad Request", NULL, NULL},
    {"hello", 0, "400 Bad Request", NULL, NULL},
    {"GET / HTTP/1.1\r\nX-No-Colon", 1, "400 Bad Request", NULL, NULL},
    {"GET / HTTP/1.1\r\n folded: line", 1, "400 Bad Request", NULL, NULL},
};

static void
test_http_paths_are_served_and_everything_else_is_404_405_or_400(void)
{
	REQUIRE(srv);
	for (size_t i = 0; i < sizeof(http_rows) / sizeof(http_rows[0]); i++) {
		char req[1024], head[4096];
		snprintf(req, sizeof(req), "%s\r\n%s", http_rows[i].request,
			 http_rows[i].has_host ? "Host: 127.0.0.1\r\n" : "");
		struct wc *c =
		    wc_request(srv->http_port, req, head, sizeof(head));
		REQUIRE(c);
		/* An error's body is in the head buffer's remainder. */
		size_t got = strlen(head);
		if (c->len && got + c->len < sizeof(head)) {
			memcpy(head + got, c->buf, c->len);
			head[got + c->len] = '\0';
		}
		CHECKF(strncmp(head, "HTTP/1.1 ", 9) == 0 &&
			   strstr(head, http_rows[i].status) == head + 9,
		       "%s: %.60s", http_rows[i].request, head);
		CHECKF(!http_rows[i].want || strstr(head, http_rows[i].want),
		       "%s: no \"%s\"", http_rows[i].request,
		       http_rows[i].want);
		CHECKF(!http_rows[i].absent ||
			   !strstr(head, http_rows[i].absent),
		       "%s: \"%s\" repeated", http_rows[i].request,
		       http_rows[i].absent);
		CHECKF(wc_expect_eof(c) == 0, "%s: not closed",
		       http_rows[i].request);
		wc_free(c);
	}
}

static void
test_page_is_the_whole_body_and_is_logged_as_a_page_not_a_chat(void)
{
	char head[4096];
	REQUIRE(srv);
	struct wc *c =
	    wc_request(srv->http_port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n",
		       head, sizeof(head));
	REQUIRE(c);
	const char *cl = strstr(head, "Content-Length: ");
	REQUIRE(cl);
	size_t want = (size_t)atol(cl + 16);
	/* Everything after the head, to EOF, is the page. */
	while (c->len < want && wc_read_more(c, WAIT_MS) > 0)
		;
	CHECKF(c->len == want, "body %zu of %zu bytes", c->len, want);
	CHECK(memmem(c->buf, c->len, "<!doctype html>", 15) != NULL);
	CHECK(memmem(c->buf, c->len, "app.js", 6) != NULL);
	CHECK(ts_log_wait(srv, "left: http GET /: 200", WAIT_MS) == 0);
	wc_free(c);
}

/* ---- the handshake ------------------------------------------------------ */

static const struct {
	const char *extra; /* header lines after the usual ones */
	const char *status, *want;
} upgrade_rows[] = {
    {"", "101 Switching Protocols",
     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
    {"Sec-WebSocket-Protocol: parley\r\n", "101",
     "Sec-WebSocket-Protocol: parley"},
    {"Sec-WebSocket-Protocol: x-unknown, parley\r\n", "101",
     "Sec-WebSocket-Protocol: parley"},
    {"Sec-WebSocket-Protocol: x-unknown\r\n", "400",
     "no subprotocol this server speaks"},
    {"Sec-WebSocket-Protocol: x-unknown, text.ircv3.net, parley\r\n", "101",
     "Sec-WebSocket-Protocol: text.ircv3.net"},
    {"Sec-WebSocket-Protocol: binary.ircv3.net\r\n", "101",
     "Sec-WebSocket-Protocol: binary.ircv3.net"},
    {"Origin: http://evil.example\r\n", "403", "origin not allowed"},
    {"Origin: null\r\n", "403", NULL},
};

static void
test_upgrade_table(void)
{
	REQUIRE(srv);
	for (size_t i = 0; i < sizeof(upgrade_rows) / sizeof(upgrade_rows[0]);
	     i++) {
		char head[4096];
		struct wc *c = wc_upgrade(srv->http_port, upgrade_rows[i].extra,
					  head, sizeof(head));
		REQUIRE(c);
		CHECKF(strstr(head, upgrade_rows[i].status) == head + 9,
		       "%s: %.60s", upgrade_rows[i].extra, head);
		CHECKF(!upgrade_rows[i].want ||
			   strstr(head, upgrade_rows[i].want) ||
			   memmem(c->buf, c->len, upgrade_rows[i].want,
				  strlen(upgrade_rows[i].want)),
		       "%s: no \"%s\" in %.300s", upgrade_rows[i].extra,
		       upgrade_rows[i].want, head);
		wc_free(c);
	}
}

/* Bad handshakes, each refused before any chat. */
static const struct {
	const char *request, *status;
} bad_upgrade_rows[] = {
    {"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: "
     "Upgrade\r\nSec-WebSocket-Version: 13\r\n",
     "400"},
    {"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: "
     "Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n",
     "400"},
    {"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: "
     "Upgrade\r\nSec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 8\r\n",
     "426"},
    {"GET /ws HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\nConnection: "
     "Upgrade\r\nSec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n",
     "400"},
    {"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: "
     "Upgrade\r\nSec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n",
     "400"},
};

static void
test_bad_handshakes_are_refused_with_400_or_426(void)
{
	REQUIRE(srv);
	for (size_t i = 0;
	     i < sizeof(bad_upgrade_rows) / sizeof(bad_upgrade_rows[0]); i++) {
		char head[4096];
		struct wc *c =
		    wc_request(srv->http_port, bad_upgrade_rows[i].request,
			       head, sizeof(head));
		REQUIRE(c);
		CHECKF(strstr(head, bad_upgrade_rows[i].status) == head + 9,
		       "row %zu: %.60s", i, head);
		if (strcmp(bad_upgrade_rows[i].status, "426") == 0)
			CHECK(strstr(head, "Sec-WebSocket-Version: 13"));
		CHECK(wc_expect_eof(c) == 0);
		wc_free(c);
	}
}

static void
test_origin_is_checked_against_our_own_and_http_origin(void)
{
	struct ts_server *s = ts_start_model(
	    model, "--http-listen 127.0.0.1:0 --http-origin http://kiwi.test");
	char extra[256], head[4096];
	REQUIRE(s);
	const struct {
		const char *origin;
		int with_port; /* our port follows */
		int ok;
	} rows[] = {
	    {"http://kiwi.test", 0, 1},	   {"HTTP://KIWI.TEST", 0, 1},
	    {"http://kiwi.test:81", 0, 0}, {"https://kiwi.test", 0, 0},
	    {"http://127.0.0.1:", 1, 1}, /* the page we served */
	    {"http://localhost:", 1, 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char origin[128];
		if (rows[i].with_port)
			snprintf(origin, sizeof(origin), "%s%d", rows[i].origin,
				 s->http_port);
		else
			snprintf(origin, sizeof(origin), "%s", rows[i].origin);
		snprintf(extra, sizeof(extra), "Origin: %s\r\n", origin);
		struct wc *c =
		    wc_upgrade(s->http_port, extra, head, sizeof(head));
		REQUIRE(c);
		CHECKF(strstr(head, rows[i].ok ? "101" : "403") == head + 9,
		       "%s: %.40s", origin, head);
		wc_free(c);
	}
	ts_free(s);
}

/* ---- plain and WebSocket users see each other --------------------------- */

static void
test_websocket_and_tcp_users_talk_in_one_room(void)
{
	char line[1024], want[256];
	REQUIRE(srv);
	struct wc *w = wc_join(srv->http_port, "");
	REQUIRE(w);
	int t = tc_join(srv->port, NULL, 0);
	REQUIRE(t >= 0);
	REQUIRE(wc_text(w, "/join #both") == 0);
	REQUIRE(wc_expect(w, "joined #both", NULL, 0) == 0);
	REQUIRE(tc_send(t, "/join #both\n") == 0);
	REQUIRE(wc_expect(w, "joined #both", line, sizeof(line)) == 0);
	/* One message per frame; a trailing CR LF in a frame is no part of
	 * it, and each server line is one frame without its LF. */
	REQUIRE(wc_text(w, "hello from a browser\r\n") == 0);
	snprintf(want, sizeof(want), "#both <%s> hello from a browser",
		 w->nick);
	CHECK(tc_expect(t, want, line, sizeof(line), WAIT_MS) >= 0);
	CHECK(strcmp(line, want) == 0);
	REQUIRE(tc_send(t, "hi from nc\n") == 0);
	CHECK(wc_expect(w, "> hi from nc", line, sizeof(line)) == 0);
	CHECKF(line[strlen(line) - 1] == 'c', "frame ends in \"%s\"", line);
	tc_close(t);
	wc_free(w);
}

/* A client that asks for text.ircv3.net speaks IRC (one message per
 * frame, no CR LF), talks with a TCP client, and is pinged like any IRC
 * client once silent for --ping-timeout. */
static void
test_an_ircv3_subprotocol_speaks_irc_and_is_pinged(void)
{
	char head[2048], line[1024];
	struct ts_server *s =
	    ts_start_model(model, "--http-listen 127.0.0.1:0 --ping-timeout 1");
	REQUIRE(s);
	struct wc *w = wc_upgrade(s->http_port,
				  "Sec-WebSocket-Protocol: text.ircv3.net\r\n",
				  head, sizeof(head));
	int t = tc_join(s->port, NULL, 0);
	REQUIRE(w && t >= 0);
	CHECKF(strncmp(head, "HTTP/1.1 101 ", 13) == 0, "%.100s", head);
	/* No plain welcome: IRC waits for its registration. */
	REQUIRE(wc_text(w, "NICK wsirc") == 0);
	REQUIRE(wc_text(w, "USER w 0 * :over a WebSocket") == 0);
	CHECK(wc_expect(w, " 001 wsirc :", line, sizeof(line)) == 0);
	CHECKF(line[0] == ':' && line[strlen(line) - 1] != '\n', "frame \"%s\"",
	       line);
	REQUIRE(wc_text(w, "JOIN #lobby") == 0);
	CHECK(wc_expect(w, " 366 wsirc #lobby ", NULL, 0) == 0);
	REQUIRE(wc_text(w, "PRIVMSG #lobby :hello from ircv3") == 0);
	CHECK(tc_expect(t, "#lobby <wsirc> hello from ircv3", NULL, 0,
			WAIT_MS) >= 0);
	REQUIRE(tc_send(t, "hi over tcp\n") == 0);
	CHECK(wc_expect(w, "PRIVMSG #lobby :hi over tcp", NULL, 0) == 0);
	/* Silent for a second: it counts among the pinging clients. */
	CHECK(wc_expect(w, "PING ", line, sizeof(line)) == 0);
	CHECK(wc_text(w, "PONG :x") == 0);
	REQUIRE(wc_text(w, "QUIT :done") == 0);
	CHECK(tc_expect(t, "-!- wsirc quit (done)", NULL, 0, WAIT_MS) >= 0);
	tc_close(t);
	wc_free(w);
	ts_free(s);
}

/* ---- RFC 6455 conformance, after Autobahn's cases ----------------------- */

#define FIN 0x80

/* One frame of a case. p "@" is replaced by a private message to
 * ourselves padded with x to pad bytes. */
struct wf {
	unsigned b0;
	const char *p;
	int n;		/* -1: strlen(p) */
	int unmasked;	/* a client frame without a mask */
	uint64_t claim; /* a 64-bit length claimed, no payload sent */
	size_t pad;	/* "@": the payload's total length */
};

enum want { WANT_TEXT, WANT_PONG, WANT_CLOSE };

struct ws_case {
	const char *name;
	struct wf send[12];
	enum want want;
	const char *text; /* WANT_TEXT: in a message; WANT_PONG: payload */
	int code;	  /* WANT_CLOSE: the close code */
};

#define T(s)                                                                   \
	{                                                                      \
		FIN | WS_OP_TEXT, s, -1, 0, 0, 0                               \
	}
#define TF(s)                                                                  \
	{                                                                      \
		WS_OP_TEXT, s, -1, 0, 0, 0                                     \
	}
#define C(s)                                                                   \
	{                                                                      \
		FIN | WS_OP_CONT, s, -1, 0, 0, 0                               \
	}
#define CF(s)                                                                  \
	{                                                                      \
		WS_OP_CONT, s, -1, 0, 0, 0                                     \
	}
#define PING(s)                                                                \
	{                                                                      \
		FIN | WS_OP_PING, s, -1, 0, 0, 0                               \
	}
#define PONG(s)                                                                \
	{                                                                      \
		FIN | WS_OP_PONG, s, -1, 0, 0, 0                               \
	}
#define PAD(n)                                                                 \
	{                                                                      \
		FIN | WS_OP_TEXT, "@", -1, 0, 0, n                             \
	}
#define RAW(b, s, n)                                                           \
	{                                                                      \
		b, s, n, 0, 0, 0                                               \
	}

static const char c125[] =
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901234";
static const char c126[] =
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "01234567890123456789012345678901234567890123456789012345";

static const struct ws_case ws_cases[] = {
    /* 1: framing */
    {"1.1.1 empty text message",
     {T(""), T("/nick c111")},
     WANT_TEXT,
     "now known as c111",
     0},
    {"1.1.2 125 bytes", {PAD(125)}, WANT_TEXT, "xxxxx", 0},
    {"1.1.3 126 bytes (16-bit length)", {PAD(126)}, WANT_TEXT, "xxxxx", 0},
    {"1.1.4 1000 bytes", {PAD(1000)}, WANT_TEXT, "xxxxx", 0},
    {"1.1.5 the line limit exactly", {PAD(1024)}, WANT_TEXT, "xxxxx", 0},
    {"1.1.6 two messages in one write",
     {T("/nick c116a"), T("/nick c116")},
     WANT_TEXT,
     "c116a is now known as c116",
     0},
    /* 2: ping and pong */
    {"2.1 ping without payload", {PING("")}, WANT_PONG, "", 0},
    {"2.2 ping with text",
     {PING("Hello, world!")},
     WANT_PONG,
     "Hello, world!",
     0},
    {"2.3 ping with binary",
     {RAW(FIN | WS_OP_PING, "\x00\xff\xfe\xfd", 4)},
     WANT_PONG,
     "\x00\xff\xfe\xfd",
     0},
    {"2.4 ping with 125 bytes", {PING(c125)}, WANT_PONG, c125, 0},
    {"2.5 ping with 126 bytes", {PING(c126)}, WANT_CLOSE, NULL, 1002},
    {"2.6 unsolicited pong",
     {PONG("unasked"), T("/nick c26")},
     WANT_TEXT,
     "now known as c26",
     0},
    {"2.7 ten pings: the last gets its pong",
     {PING("1"), PING("2"), PING("3"), PING("4"), PING("5"), PING("6"),
      PING("7"), PING("8"), PING("9"), PING("10")},
     WANT_PONG,
     "10",
     0},
    /* 3: reserved bits */
    {"3.1 RSV1 on a text frame",
     {RAW(FIN | 0x40 | WS_OP_TEXT, "x", 1)},
     WANT_CLOSE,
     NULL,
     1002},
    {"3.2 RSV2 after a good message",
     {T("/nick c32"), RAW(FIN | 0x20 | WS_OP_TEXT, "x", 1)},
     WANT_CLOSE,
     NULL,
     1002},
    {"3.3 RSV3 on a ping",
     {RAW(FIN | 0x10 | WS_OP_PING, "x", 1)},
     WANT_CLOSE,
     NULL,
     1002},
    {"3.4 all RSV bits",
     {RAW(FIN | 0x70 | WS_OP_TEXT, "", 0)},
     WANT_CLOSE,
     NULL,
     1002},
    /* 4: opcodes */
    {"4.1.1 reserved data opcode 3",
     {RAW(FIN | 0x3, "", 0)},
     WANT_CLOSE,
     NULL,
     1002},
    {"4.1.5 reserved data opcode 7",
     {RAW(FIN | 0x7, "x", 1)},
     WANT_CLOSE,
     NULL,
     1002},
    {"4.2.1 reserved control opcode 11",
     {RAW(FIN | 0xB, "", 0)},
     WANT_CLOSE,
     NULL,
     1002},
    {"4.2.5 reserved control opcode 15",
     {RAW(FIN | 0xF, "x", 1)},
     WANT_CLOSE,
     NULL,
     1002},
    {"binary message on the plain protocol",
     {RAW(FIN | WS_OP_BINARY, "hi", 2)},
     WANT_CLOSE,
     NULL,
     1003},
    /* 5: fragmentation */
    {"5.1 fragmented ping", {RAW(WS_OP_PING, "x", 1)}, WANT_CLOSE, NULL, 1002},
    {"5.3 text in two fragments",
     {TF("/nick c5"), C("3")},
     WANT_TEXT,
     "now known as c53",
     0},
    {"5.4 text in many fragments",
     {TF("/n"), CF("i"), CF("c"), CF("k"), CF(" "), CF("c"), CF("5"), C("4")},
     WANT_TEXT,
     "now known as c54",
     0},
    {"5.6 ping between fragments: pong first",
     {TF("/nick c5"), PING("mid"), C("6")},
     WANT_PONG,
     "mid",
     0},
    {"5.7 ping between fragments: the message is whole",
     {TF("/nick c5"), PING("mid"), C("7")},
     WANT_TEXT,
     "now known as c57",
     0},
    {"5.9 continuation without a message", {C("x")}, WANT_CLOSE, NULL, 1002},
    {"5.15 text inside a fragmented message",
     {TF("/ni"), T("ck x")},
     WANT_CLOSE,
     NULL,
     1002},
    {"5.18 empty fragments", {TF(""), CF(""), C("")}, WANT_PONG, NULL, 0},
    /* 6: UTF-8 */
    {"6.2.1 valid multi-byte text",
     {PAD(40), T("@ h\xc3\xa9llo \xf0\x9f\x91\x8b")},
     WANT_TEXT,
     "h\xc3\xa9llo \xf0\x9f\x91\x8b",
     0},
    {"6.2.3 a character split between fragments",
     {TF("@ caf\xc3"), C("\xa9")},
     WANT_TEXT,
     "caf\xc3\xa9",
     0},
    {"6.3.1 invalid byte", {T("bad \xff byte")}, WANT_CLOSE, NULL, 1007},
    {"6.3.2 invalid in the first fragment (fail fast)",
     {TF("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")},
     WANT_CLOSE,
     NULL,
     1007},
    {"6.4.1 overlong slash", {T("\xc0\xaf")}, WANT_CLOSE, NULL, 1007},
    {"6.4.2 surrogate", {T("\xed\xa0\x80")}, WANT_CLOSE, NULL, 1007},
    {"6.4.3 past U+10FFFF", {T("\xf4\x90\x80\x80")}, WANT_CLOSE, NULL, 1007},
    {"6.4.4 message ends inside a character",
     {T("ok \xe2\x82")},
     WANT_CLOSE,
     NULL,
     1007},
    /* 7: close */
    {"7.1.1 close 1000 is echoed",
     {RAW(FIN | WS_OP_CLOSE, "\x03\xe8", 2)},
     WANT_CLOSE,
     NULL,
     1000},
    {"7.3.1 close without a code",
     {RAW(FIN | WS_OP_CLOSE, "", 0)},
     WANT_CLOSE,
     NULL,
     0},
    {"7.3.2 close of one byte",
     {RAW(FIN | WS_OP_CLOSE, "\x03", 1)},
     WANT_CLOSE,
     NULL,
     1002},
    {"7.3.3 close with a reason",
     {RAW(FIN | WS_OP_CLOSE,
	  "\x03\xe8"
	  "bye",
	  5)},
     WANT_CLOSE,
     NULL,
     1000},
    {"7.5.1 close reason not UTF-8",
     {RAW(FIN | WS_OP_CLOSE, "\x03\xe8\xff", 3)},
     WANT_CLOSE,
     NULL,
     1007},
    {"7.7.1 close 1001 is echoed",
     {RAW(FIN | WS_OP_CLOSE, "\x03\xe9", 2)},
     WANT_CLOSE,
     NULL,
     1001},
    {"7.7.10 close 3000 is echoed",
     {RAW(FIN | WS_OP_CLOSE, "\x0b\xb8", 2)},
     WANT_CLOSE,
     NULL,
     3000},
    {"7.7.13 close 4999 is echoed",
     {RAW(FIN | WS_OP_CLOSE, "\x13\x87", 2)},
     WANT_CLOSE,
     NULL,
     4999},
    {"7.9.1 close code 0",
     {RAW(FIN | WS_OP_CLOSE, "\x00\x00", 2)},
     WANT_CLOSE,
     NULL,
     1002},
    {"7.9.2 close code 999",
     {RAW(FIN | WS_OP_CLOSE, "\x03\xe7", 2)},
     WANT_CLOSE,
     NULL,
     1002},
    {"7.9.3 close code 1004",
     {RAW(FIN | WS_OP_CLOSE, "\x03\xec", 2)},
     WANT_CLOSE,
     NULL,
     1002},
    {"7.9.4 close code 1005",
     {RAW(FIN | WS_OP_CLOSE, "\x03\xed", 2)},
     WANT_CLOSE,
     NULL,
     1002},
    {"7.9.5 close code 1006",
     {RAW(FIN | WS_OP_CLOSE, "\x03\xee", 2)},
     WANT_CLOSE,
     NULL,
     1002},
    {"7.9.9 close code 1015",
     {RAW(FIN | WS_OP_CLOSE, "\x03\xf7", 2)},
     WANT_CLOSE,
     NULL,
     1002},
    {"7.9.11 close code 5000",
     {RAW(FIN | WS_OP_CLOSE, "\x13\x88", 2)},
     WANT_CLOSE,
     NULL,
     1002},
    /* masking */
    {"an unmasked client frame",
     {{FIN | WS_OP_TEXT, "hi", -1, 1, 0, 0}},
     WANT_CLOSE,
     NULL,
     1002},
    /* 9: limits (the frame limit is the line limit, 1024 bytes) */
    {"9.1 a message one byte over the line limit",
     {PAD(1025)},
     WANT_CLOSE,
     NULL,
     1009},
    {"9.2 a frame over the limit", {PAD(4000)}, WANT_CLOSE, NULL, 1009},
    {"9.3 fragments that add up to over the limit",
     {TF(c125), CF(c125), CF(c125), CF(c125), CF(c125), CF(c125), CF(c125),
      CF(c125), C(c125)},
     WANT_CLOSE,
     NULL,
     1009},
    {"9.4 a 2^40-byte frame is refused at its header",
     {{FIN | WS_OP_TEXT, "", 0, 0, 1ull << 40, 0}},
     WANT_CLOSE,
     NULL,
     1009},
    {"9.5 a length with its top bit set",
     {{FIN | WS_OP_TEXT, "", 0, 0, 1ull << 63, 0}},
     WANT_CLOSE,
     NULL,
     1002},
};

/* Sends one frame of a case. */
static int
ws_case_send(struct wc *c, const struct wf *f)
{
	char buf[8192];
	const char *p = f->p;
	size_t n = f->n < 0 ? strlen(f->p) : (size_t)f->n;

	if (p[0] == '@') {
		/* A private message to ourselves, padded with x. */
		size_t len = (size_t)snprintf(buf, sizeof(buf), "/msg %s %s",
					      c->nick, p + 1);
		while (len < f->pad && len < sizeof(buf))
			buf[len++] = 'x';
		if (f->pad == 0 && f->p[1] == '\0')
			len = (size_t)snprintf(buf, sizeof(buf), "/msg %s ping",
					       c->nick);
		p = buf;
		n = len;
	}
	return wc_frame(c, f->b0, p, n, f->unmasked, f->claim);
}

static void
ws_case_run(int port, const struct ws_case *k)
{
	struct ws_result res;
	char reason[256];
	struct wc *c = wc_join(port, "");
	int r;

	REQUIRE(c);
	for (size_t i = 0;
	     i < sizeof(k->send) / sizeof(k->send[0]) && k->send[i].p; i++)
		REQUIRE(ws_case_send(c, &k->send[i]) == 0);
	switch (k->want) {
	case WANT_TEXT:
		CHECKF(wc_expect(c, k->text, NULL, 0) == 0, "%s: no \"%s\"",
		       k->name, k->text);
		break;
	case WANT_PONG:
		if (!k->text) {
			/* Nothing to see: the connection is still good. */
			REQUIRE(wc_frame(c, FIN | WS_OP_PING, "alive", 5, 0,
					 0) == 0);
		}
		const char *want = k->text ? k->text : "alive";
		size_t wn = strcmp(k->name, "2.3 ping with binary") == 0
				? 4
				: strlen(want);
		int found = 0;
		/* Earlier pings may get their pongs first (5.5.3). */
		while (!found && wc_next(c, &res, WAIT_MS) == 0 &&
		       res.ev != WS_EV_CLOSE)
			found = res.ev == WS_EV_PONG && res.len == wn &&
				memcmp(res.data, want, wn) == 0;
		CHECKF(found, "%s: no pong \"%s\"", k->name, want);
		break;
	case WANT_CLOSE:
		r = wc_expect_close(c, reason, sizeof(reason));
		CHECKF(r == k->code, "%s: close code %d, not %d (%s)", k->name,
		       r, k->code, reason);
		CHECKF(wc_expect_eof(c) == 0, "%s: TCP not closed", k->name);
		break;
	}
	wc_free(c);
}

static void
test_rfc6455_cases_after_autobahn_1_to_7_and_9(void)
{
	REQUIRE(srv);
	for (size_t i = 0; i < sizeof(ws_cases) / sizeof(ws_cases[0]); i++)
		ws_case_run(srv->http_port, &ws_cases[i]);
}

static void
test_closing_from_our_side_ends_in_a_close_frame_and_eof(void)
{
	char line[512];
	REQUIRE(srv);
	struct wc *c = wc_join(srv->http_port, "");
	REQUIRE(c);
	REQUIRE(wc_text(c, "/quit enough") == 0);
	CHECK(wc_expect_close(c, line, sizeof(line)) == 1000);
	/* Our close answers theirs, then the server closes TCP. */
	static const uint8_t close1000[] = {0x03, 0xe8};
	(void)wc_frame(c, FIN | WS_OP_CLOSE, close1000, 2, 0, 0);
	CHECK(wc_expect_eof(c) == 0);
	CHECK(ts_log_wait(srv, "left: enough", WAIT_MS) == 0);
	wc_free(c);
}

static void
test_message_too_big_is_logged_and_others_see_connection_lost(void)
{
	char line[512], want[128];
	REQUIRE(srv);
	struct wc *c = wc_join(srv->http_port, "");
	REQUIRE(c);
	int t = tc_join(srv->port, NULL, 0);
	REQUIRE(t >= 0);
	char big[2000];
	memset(big, 'y', sizeof(big));
	REQUIRE(wc_frame(c, FIN | WS_OP_TEXT, big, sizeof(big), 0, 0) == 0);
	CHECK(wc_expect_close(c, line, sizeof(line)) == 1009);
	CHECKF(strstr(line, "1024"), "reason \"%s\"", line);
	snprintf(want, sizeof(want), "-!- %s quit (connection lost)", c->nick);
	CHECK(tc_expect(t, want, NULL, 0, WAIT_MS) >= 0);
	CHECK(ts_log_wait(srv, "message too big (max 1024 bytes)", WAIT_MS) ==
	      0);
	tc_close(t);
	wc_free(c);
}

/* ---- deadlines and limits ----------------------------------------------- */

static void
test_slow_or_half_open_handshakes_are_closed(void)
{
	struct ts_server *s = ts_start_model(
	    model, "--http-listen 127.0.0.1:0 --handshake-timeout 300");
	REQUIRE(s);
	static const char *const starts[] = {
	    "",				   /* connects, says nothing */
	    "GET /ws HTTP/1.1\r\nHost: x", /* half a request */
	};
	for (size_t i = 0; i < 2; i++) {
		int fd = tc_connect(s->http_port);
		REQUIRE(fd >= 0);
		struct wc *c = wc_new(fd);
		if (starts[i][0])
			REQUIRE(wc_send_raw(c, starts[i], strlen(starts[i])) ==
				0);
		CHECKF(wc_expect_eof(c) == 0, "row %zu not closed", i);
		wc_free(c);
	}
	CHECK(ts_log_wait_count(s, "left: handshake timed out after 300 ms", 2,
				WAIT_MS) == 0);
	/* A client that completed its handshake is not affected. */
	struct wc *w = wc_join(s->http_port, "");
	REQUIRE(w);
	struct ws_result res;
	CHECK(wc_next(w, &res, 800) == -1); /* no close meanwhile */
	REQUIRE(wc_text(w, "/nick still") == 0);
	CHECK(wc_expect(w, "now known as still", NULL, 0) == 0);
	wc_free(w);
	ts_free(s);
}

static void
test_max_clients_counts_websocket_clients_too(void)
{
	struct ts_server *s =
	    ts_start_model(model, "--http-listen 127.0.0.1:0 --max-clients 1");
	REQUIRE(s);
	struct wc *w = wc_join(s->http_port, "");
	REQUIRE(w);
	int t = tc_connect(s->port);
	REQUIRE(t >= 0);
	CHECK(tc_expect(t, "-!- server full", NULL, 0, WAIT_MS) >= 0);
	tc_close(t);
	wc_free(w);
	ts_free(s);
}

/* A WebSocket client that does not read is cut off by the same send-queue
 * limits as a plaintext one (the frame the transport holds counts like
 * the bytes a plain client has not taken): what it got is whole lines,
 * the notice last, then the close. */
static void
test_a_websocket_client_that_does_not_read_is_cut_off_for_its_send_queue(void)
{
	struct ts_server *s = ts_start_model(
	    model, "--http-listen 127.0.0.1:0 --flood-rate 0 --sendq 65536 "
		   "--sendq-seconds 1 --sendq-hard 1073741824");
	char pnick[64], want[256], head[128], pad[1001];
	int torn = 0, notice = 0;
	struct ws_result res;
	size_t hl;

	REQUIRE(s);
	wc_rcvbuf = 4096; /* it reads nothing more: a small window */
	struct wc *w = wc_join(s->http_port, "");
	wc_rcvbuf = 0;
	int p = tc_join(s->port, pnick, sizeof(pnick));
	if (!CHECK(w && p >= 0))
		goto out;
	memset(pad, 'x', 1000);
	pad[1000] = '\0';
	for (int i = 0; i < 4000; i++)
		if (tc_send(p, "%s\n", pad) < 0)
			break;
	snprintf(want, sizeof(want), "-!- %s quit (send queue exceeded)",
		 w->nick);
	CHECK(tc_expect(p, want, NULL, 0, 30000) >= 0);
	hl = (size_t)snprintf(head, sizeof(head), "#lobby <%s> ", pnick);
	while (wc_next(w, &res, WAIT_MS) == 0 && res.ev == WS_EV_MESSAGE) {
		notice =
		    res.len == 37 &&
		    memcmp(res.data, "-!- disconnected: send queue exceeded",
			   37) == 0;
		if (res.len >= hl && memcmp(res.data, head, hl) == 0 &&
		    res.len != hl + 1000)
			torn++;
	}
	CHECKF(torn == 0, "%d torn lines", torn);
	CHECK(notice && res.ev == WS_EV_CLOSE);
	CHECK(ts_log_count(s, "over --sendq too long") == 1);
out:
	tc_close(p);
	wc_free(w);
	ts_free(s);
}

static void
test_shutdown_tells_websocket_clients_and_closes_with_a_frame(void)
{
	struct ts_server *s =
	    ts_start_model(model, "--http-listen 127.0.0.1:0");
	REQUIRE(s);
	struct wc *w = wc_join(s->http_port, "");
	REQUIRE(w);
	kill(s->pid, SIGTERM);
	CHECK(wc_expect(w, "-!- server shutting down", NULL, 0) == 0);
	CHECK(wc_expect_close(w, NULL, 0) == 1000);
	CHECK(wc_expect_eof(w) == 0);
	int st = ts_stop(s, SIGTERM, WAIT_MS);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	wc_free(w);
	ts_free(s);
}

static void
test_a_taken_default_http_port_names_the_flag_and_exits_1(void)
{
	/* Hold a port, then ask parleyd for it as --http-listen. */
	struct ts_server *hold =
	    ts_start_model(model, "--http-listen 127.0.0.1:0");
	char args[64], out[4096];
	REQUIRE(hold);
	snprintf(args, sizeof(args), "--http-listen 127.0.0.1:%d",
		 hold->http_port);
	int st = ts_run(args, out, sizeof(out));
	CHECKF(st == 1, "exit %d", st);
	CHECKF(strstr(out, "Address already in use (--http-listen HOST:PORT "
			   "sets another address, --http-listen none turns "
			   "HTTP off)"),
	       "%s", out);
	ts_free(hold);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "test_ws", model, sizeof(model), suite);
	srv = ts_start_model(model, "--http-listen 127.0.0.1:0");
	RUN(test_http_paths_are_served_and_everything_else_is_404_405_or_400);
	RUN(test_page_is_the_whole_body_and_is_logged_as_a_page_not_a_chat);
	RUN(test_upgrade_table);
	RUN(test_bad_handshakes_are_refused_with_400_or_426);
	RUN(test_origin_is_checked_against_our_own_and_http_origin);
	RUN(test_websocket_and_tcp_users_talk_in_one_room);
	RUN(test_an_ircv3_subprotocol_speaks_irc_and_is_pinged);
	RUN(test_rfc6455_cases_after_autobahn_1_to_7_and_9);
	RUN(test_a_websocket_client_that_does_not_read_is_cut_off_for_its_send_queue);
	RUN(test_closing_from_our_side_ends_in_a_close_frame_and_eof);
	RUN(test_message_too_big_is_logged_and_others_see_connection_lost);
	RUN(test_slow_or_half_open_handshakes_are_closed);
	RUN(test_max_clients_counts_websocket_clients_too);
	RUN(test_shutdown_tells_websocket_clients_and_closes_with_a_frame);
	RUN(test_a_taken_default_http_port_names_the_flag_and_exits_1);
	ts_free(srv);
	return tl_summary(suite);
}
