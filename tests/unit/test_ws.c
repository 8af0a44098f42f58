/*
 * Unit tests for lib/ws (framing, the reader at every split offset, UTF-8,
 * close codes, the accept key of RFC 6455 section 1.3) and server/http
 * (request heads and the answers they get), as tables.
 */
#include "lib/sha1.h"
#include "lib/ws.h"
#include "server/http.h"
#include "server/proto.h"

#include "../testlib.h"

#include <stdio.h>
#include <string.h>

static void
test_accept_key_is_the_rfc_example(void)
{
	char out[WS_ACCEPT_LEN + 1];

	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
	CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

static void
test_sha1_of_known_strings(void)
{
	static const struct {
		const char *in, *hex;
	} rows[] = {
	    {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	    {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t d[SHA1_DIGEST_LEN];
		char hex[41];
		struct sha1 s;
		sha1_init(&s);
		sha1_update(&s, rows[i].in, strlen(rows[i].in));
		sha1_final(&s, d);
		for (int k = 0; k < 20; k++)
			snprintf(hex + 2 * k, 3, "%02x", d[k]);
		CHECKF(strcmp(hex, rows[i].hex) == 0, "%s: %s", rows[i].in,
		       hex);
	}
}

static const struct {
	const char *s;
	int ok;
} utf8_rows[] = {
    {"plain ascii", 1},
    {"caf\xc3\xa9", 1},
    {"\xf0\x9f\x91\x8b", 1},
    {"\xef\xbf\xbd", 1},
    {"\xf4\x8f\xbf\xbf", 1},
    {"\xc0\xaf", 0},
    {"\xe0\x80\xaf", 0},
    {"\xed\xa0\x80", 0},
    {"\xf4\x90\x80\x80", 0},
    {"\xff", 0},
    {"\xc3", 0},
    {"\x80", 0},
};

static void
test_utf8_check_at_every_split(void)
{
	for (size_t i = 0; i < sizeof(utf8_rows) / sizeof(utf8_rows[0]); i++) {
		const uint8_t *s = (const uint8_t *)utf8_rows[i].s;
		size_t n = strlen(utf8_rows[i].s);
		for (size_t cut = 0; cut <= n; cut++) {
			struct ws_utf8 u = {0};
			int ok = ws_utf8_feed(&u, s, cut) == 0 &&
				 ws_utf8_feed(&u, s + cut, n - cut) == 0 &&
				 ws_utf8_complete(&u);
			CHECKF(ok == utf8_rows[i].ok, "row %zu cut %zu", i,
			       cut);
		}
	}
}

/* A masked fragmented message with a ping between, fed at every split:
 * the same events come out. */
static void
test_reader_gives_the_same_events_at_every_split(void)
{
	static const uint8_t mask[4] = {1, 2, 3, 4};
	uint8_t in[256], msg[64];
	size_t n = 0;

	n += ws_frame_encode(in + n, WS_OP_TEXT, "hel", 3, mask);
	in[0] &= 0x7F; /* not the last fragment */
	n += ws_frame_encode(in + n, WS_OP_PING, "p", 1, mask);
	n += ws_frame_encode(in + n, WS_OP_CONT, "lo", 2, mask);
	for (size_t cut = 0; cut <= n; cut++) {
		struct ws_reader r = {
		    .msg = msg, .max_msg = sizeof(msg), .masked = 1};
		struct ws_result res;
		size_t used, pos = 0, avail = cut;
		int ping = 0, message = 0;
		for (int guard = 0; guard < 20; guard++) {
			ws_reader_next(&r, in + pos, avail - pos, &used, &res);
			pos += used;
			if (res.ev == WS_EV_PING)
				ping = res.len == 1 && res.data[0] == 'p';
			if (res.ev == WS_EV_MESSAGE)
				message = res.len == 5 &&
					  memcmp(res.data, "hello", 5) == 0;
			CHECK(res.ev != WS_EV_ERROR);
			if (res.ev == WS_EV_NEED_MORE) {
				if (avail == n)
					break;
				avail = n;
			}
		}
		CHECKF(ping && message, "cut %zu: ping %d message %d", cut,
		       ping, message);
	}
}

static void
test_close_codes(void)
{
	static const struct {
		unsigned code;
		int ok;
	} rows[] = {{1000, 1}, {1001, 1}, {1003, 1}, {1004, 0}, {1005, 0},
		    {1006, 0}, {1007, 1}, {1011, 1}, {1015, 0}, {2999, 0},
		    {3000, 1}, {4999, 1}, {5000, 0}, {0, 0},	{999, 0}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKF(ws_close_code_valid(rows[i].code) == rows[i].ok, "%u",
		       rows[i].code);
}

/* ---- http --------------------------------------------------------------- */

#define UP                                                                     \
	"GET /ws HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\n"              \
	"Connection: keep-alive, Upgrade\r\n"                                  \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                      \
	"Sec-WebSocket-Version: 13\r\n"

static const struct {
	const char *req;
	int status;
	const char *subprotocol; /* 101 */
} answer_rows[] = {
    {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 200, NULL},
    {"GET /app.js HTTP/1.1\r\nHost: h\r\n\r\n", 200, NULL},
    {"GET /x HTTP/1.1\r\nHost: h\r\n\r\n", 404, NULL},
    {"PUT / HTTP/1.1\r\nHost: h\r\n\r\n", 405, NULL},
    {UP "\r\n", 101, NULL},
    {UP "Sec-WebSocket-Protocol: parley\r\n\r\n", 101, "parley"},
    {UP "Origin: http://h:1\r\n\r\n", 101, NULL},
    {UP "Origin: http://other\r\n\r\n", 403, NULL},
    {UP "Origin: http://allowed.test\r\n\r\n", 101, NULL},
};

static void
test_http_answers(void)
{
	const char *origins[] = {"http://allowed.test"};
	struct http_policy pol = {.origins = origins, .norigins = 1};

	for (size_t i = 0; i < sizeof(answer_rows) / sizeof(answer_rows[0]);
	     i++) {
		struct http_request rq;
		struct http_answer ans;
		size_t head;
		const char *req = answer_rows[i].req;
		REQUIRE(http_parse(req, strlen(req), &rq, &head) == HTTP_OK);
		CHECK(head == strlen(req));
		http_answer(&rq, &pol, &ans);
		CHECKF(ans.status == answer_rows[i].status, "row %zu: %d", i,
		       ans.status);
		CHECK(
		    !answer_rows[i].subprotocol ||
		    (ans.subprotocol &&
		     strcmp(ans.subprotocol, answer_rows[i].subprotocol) == 0));
	}
}

/* IRC over WebSocket exists exactly when a protocol named irc does. */
static void
test_ircv3_subprotocol_follows_the_irc_protocol(void)
{
	const char *req = UP "Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n";
	struct http_policy pol = {0};
	struct http_request rq;
	struct http_answer ans;
	size_t head;
	const struct proto *irc = proto_get_by_name("irc");

	REQUIRE(http_parse(req, strlen(req), &rq, &head) == HTTP_OK);
	http_answer(&rq, &pol, &ans);
	if (irc) {
		CHECK(ans.status == 101 && ans.proto == irc->id);
		CHECK(strcmp(ans.subprotocol, "text.ircv3.net") == 0);
	} else {
		CHECK(ans.status == 400);
	}
	CHECK(proto_get_by_name("plain") == &proto_plain);
}

/* Served over TLS (wss): the page's own origin is https, and its CSP
 * names wss; plain http pages are the other way round. */
static const struct {
	int secure;
	const char *origin;
	int status;
} secure_rows[] = {
    {1, "https://h:1", 101}, {1, "http://h:1", 403}, {1, "HTTPS://H:1", 101},
    {1, "https://h:2", 403}, {0, "http://h:1", 101}, {0, "https://h:1", 403},
};

static void
test_https_pages_have_https_origins_and_a_wss_policy(void)
{
	char req[512], head[HTTP_HEAD_MAX];

	for (size_t i = 0; i < sizeof(secure_rows) / sizeof(secure_rows[0]);
	     i++) {
		struct http_policy pol = {.secure = secure_rows[i].secure};
		struct http_request rq;
		struct http_answer ans;
		size_t hl;
		snprintf(req, sizeof(req), UP "Origin: %s\r\n\r\n",
			 secure_rows[i].origin);
		REQUIRE(http_parse(req, strlen(req), &rq, &hl) == HTTP_OK);
		http_answer(&rq, &pol, &ans);
		CHECKF(ans.status == secure_rows[i].status, "row %zu: %d", i,
		       ans.status);
	}
	for (int secure = 0; secure <= 1; secure++) {
		const char *page = "GET / HTTP/1.1\r\nHost: h:1\r\n\r\n";
		struct http_policy pol = {.secure = secure};
		struct http_request rq;
		struct http_answer ans;
		size_t hl, n;
		REQUIRE(http_parse(page, strlen(page), &rq, &hl) == HTTP_OK);
		http_answer(&rq, &pol, &ans);
		n = http_format(&ans, &rq, &pol, head);
		head[n < sizeof(head) ? n : sizeof(head) - 1] = '\0';
		CHECKF(strstr(head, secure ? "connect-src 'self' wss://h:1;"
					   : "connect-src 'self' ws://h:1;"),
		       "secure %d: %s", secure, head);
	}
}

static const char *const bad_heads[] = {
    "GET / HTTP/1.1\nHost: h\r\n\r\n",	"GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n",
    "GET / HTTP/1.1\r\nHost h\r\n\r\n", "GET /\x7f HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\n\r\r\n",
};

static void
test_malformed_heads_are_bad(void)
{
	for (size_t i = 0; i < sizeof(bad_heads) / sizeof(bad_heads[0]); i++) {
		struct http_request rq;
		size_t head;
		CHECKF(http_parse(bad_heads[i], strlen(bad_heads[i]), &rq,
				  &head) == HTTP_BAD,
		       "row %zu", i);
	}
}

int
main(int argc, char **argv)
{
	char model[8], suite[64];

	tl_init(argc, argv, "test_ws_unit", model, sizeof(model), suite);
	RUN(test_accept_key_is_the_rfc_example);
	RUN(test_sha1_of_known_strings);
	RUN(test_utf8_check_at_every_split);
	RUN(test_reader_gives_the_same_events_at_every_split);
	RUN(test_close_codes);
	RUN(test_http_answers);
	RUN(test_ircv3_subprotocol_follows_the_irc_protocol);
	RUN(test_https_pages_have_https_origins_and_a_wss_policy);
	RUN(test_malformed_heads_are_bad);
	return tl_summary("test_ws_unit");
}
