/*
 * test_wss: the web client over TLS (--https-listen) on the real parleyd,
 * in both process models: the page over https and a wss client chatting
 * with a plain one, plaintext on the https port, the Origin check over wss
 * as over ws, the one handshake deadline for TLS and the upgrade, and
 * certificate reload. TLS clients are tlslib's, WebSocket framing wslib's;
 * certificates are made at run time in a temporary directory.
 */
#include "../testlib.h"
#include "../tlslib.h"
#include "../wslib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define W_WAIT_MS 10000

static char model_args[256];
static struct tt_pki pki; /* the CA, a and b (tlslib.h) */

/* parleyd with an https port (and the extra args), its port in *port. */
static struct ts_server *
start_https(const char *cert, const char *key, const char *extra, int *port)
{
	char args[2048];
	struct ts_server *s;

	snprintf(args, sizeof(args),
		 "--https-listen 127.0.0.1:0 --tls-cert %s --tls-key %s %s",
		 cert, key, extra ? extra : "");
	s = ts_start_model(model_args, args);
	if (!s)
		return NULL;
	*port = s->https_port;
	if (!CHECKF(*port > 0, "no https port")) {
		ts_free(s);
		return NULL;
	}
	return s;
}

/* A verified TLS connection to the https port, as a WebSocket client. */
static struct wc *
wss_connect(int port)
{
	struct tt_opts o = {.ca_file = pki.ca_pem, .host = "localhost"};
	char why[256];
	struct tt_conn *t = tt_connect(port, &o, why, sizeof(why), W_WAIT_MS);

	if (!CHECKF(t, "TLS connect: %s", why))
		return NULL;
	return wc_new_tls(t);
}

/* A wss client that has joined the lobby from its own https page. */
static struct wc *
wss_join(int port)
{
	char origin[128];
	struct wc *c = wss_connect(port);

	if (!c)
		return NULL;
	snprintf(origin, sizeof(origin), "Origin: https://127.0.0.1:%d\r\n",
		 port);
	if (wc_join_on(c, port, origin) < 0) {
		wc_free(c);
		return NULL;
	}
	return c;
}

/* ---- the page and the chat ----------------------------------------------- */

static void
test_the_page_over_https_then_wss_chat_with_a_plain_client(void)
{
	char head[4096], want[256], line[1024];
	int port = 0, p = -1;
	struct ts_server *s = start_https(pki.a_pem, pki.a_key, "", &port);
	struct wc *page = NULL, *w = NULL;

	REQUIRE(s);
	/* The page, over TLS: its CSP lets it open its WebSocket with wss
	 * to the host and port it came from, and nothing else. */
	page = wss_connect(port);
	if (!CHECK(page))
		goto out;
	wc_request_on(page, "GET / HTTP/1.1\r\nHost: 127.0.0.1:1443\r\n", head,
		      sizeof(head));
	CHECKF(strncmp(head, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.60s", head);
	CHECKF(strstr(head, "connect-src 'self' wss://127.0.0.1:1443;"), "%s",
	       head);
	const char *cl = strstr(head, "Content-Length: ");
	size_t body = cl ? (size_t)atol(cl + 16) : 0;
	while (page->len < body && wc_read_more(page, W_WAIT_MS) > 0)
		;
	CHECKF(body > 0 && page->len == body, "body %zu of %zu", page->len,
	       body);
	CHECK(memmem(page->buf, page->len, "<!doctype html>", 15) != NULL);
	CHECK(wc_expect_eof(page) == 0);
	CHECK(ts_log_wait(s, "left: https GET /: 200 ok", W_WAIT_MS) == 0);

	/* Its WebSocket, and an nc-style client in the same room. */
	w = wss_join(port);
	p = tc_join(s->port, NULL, 0);
	if (!CHECK(w && p >= 0))
		goto out;
	CHECK(wc_text(w, "/join #tls") == 0);
	snprintf(want, sizeof(want), "-!- %s joined #tls", w->nick);
	CHECK(wc_expect(w, want, NULL, 0) == 0);
	tc_send(p, "/join #tls\n");
	CHECK(wc_expect(w, " joined #tls", line, sizeof(line)) == 0 &&
	      !strstr(line, w->nick));
	CHECK(wc_text(w, "hello over wss\r\n") == 0);
	snprintf(want, sizeof(want), "#tls <%s> hello over wss", w->nick);
	CHECK(tc_expect(p, want, line, sizeof(line), W_WAIT_MS) >= 0 &&
	      strcmp(line, want) == 0);
	tc_send(p, "hi from nc\n");
	CHECK(wc_expect(w, "> hi from nc", line, sizeof(line)) == 0);
	CHECKF(line[strlen(line) - 1] == 'c', "frame ends in \"%s\"", line);
	/* The end: a close frame, close_notify, then the connection. */
	CHECK(wc_text(w, "/quit bye") == 0);
	CHECK(wc_expect_close(w, NULL, 0) == 1000);
	CHECK(wc_expect_eof(w) == 0);
	snprintf(want, sizeof(want), "-!- %s quit (bye)", w->nick);
	CHECK(tc_expect(p, want, NULL, 0, W_WAIT_MS) >= 0);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
out:
	wc_free(page);
	wc_free(w);
	tc_close(p);
	ts_free(s);
}

/* ---- plaintext on the https port ----------------------------------------- */

static void
test_plaintext_http_on_the_https_port_is_closed_with_one_log_line(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char line[512], addr[64];
	int port = 0, fd = -1;
	struct ts_server *s = start_https(pki.a_pem, pki.a_key, "", &port);

	REQUIRE(s);
	fd = tc_connect(port);
	if (!CHECK(fd >= 0) ||
	    !CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0))
		goto out;
	snprintf(addr, sizeof(addr), "(127.0.0.1:%d)", ntohs(sa.sin_port));
	CHECK(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) ==
	      (ssize_t)sizeof(req) - 1);
	/* Nothing comes back: no HTTP answer, no TLS alert. */
	int got = tc_readline(fd, line, sizeof(line), W_WAIT_MS);
	CHECKF(got == -2, "got %d: %s", got, got >= 0 ? line : "");
	CHECK(ts_log_wait(s, "left: plaintext on a TLS port", W_WAIT_MS) == 0);
	/* After its "connected" line, the connection has one line: why. */
	CHECK(ts_log_line(s, addr, line, sizeof(line)) == 0 &&
	      strstr(line, " left: plaintext on a TLS port"));
	CHECKF(ts_log_count(s, addr) == 1, "%d lines name %s",
	       ts_log_count(s, addr), addr);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
out:
	tc_close(fd);
	ts_free(s);
}

/* ---- the Origin check ---------------------------------------------------- */

/* An origin ("%s" is the port's own scheme, "%o" the other one, "%d" the
 * port) and whether an upgrade from it is accepted, on ws and on wss. */
static const struct {
	const char *origin;
	int ok;
} origin_rows[] = {
    {"%s://127.0.0.1:%d", 1},	  /* the page we served */
    {"%o://127.0.0.1:%d", 0},	  /* the same host, the other scheme */
    {"%s://localhost:%d", 0},	  /* another host */
    {"https://kiwi.test", 1},	  /* --http-origin */
    {"https://kiwi.test:444", 0}, /* another port */
    {"http://evil.example", 0},	  {"null", 0},
};

/* The row's origin for a port with scheme (http or https). */
static void
origin_make(const char *tmpl, const char *scheme, int port, char *out, size_t n)
{
	const char *other = strcmp(scheme, "https") == 0 ? "http" : "https";
	size_t o = 0;

	for (const char *t = tmpl; *t && o + 16 < n; t++) {
		if (t[0] != '%' || !t[1]) {
			out[o++] = *t;
			continue;
		}
		t++;
		if (*t == 's')
			o += (size_t)snprintf(out + o, n - o, "%s", scheme);
		else if (*t == 'o')
			o += (size_t)snprintf(out + o, n - o, "%s", other);
		else if (*t == 'd')
			o += (size_t)snprintf(out + o, n - o, "%d", port);
	}
	out[o] = '\0';
}

static void
test_a_bad_origin_is_refused_over_wss_as_over_ws(void)
{
	int port = 0;
	struct ts_server *s =
	    start_https(pki.a_pem, pki.a_key,
			"--http-listen 127.0.0.1:0 --http-origin "
			"https://kiwi.test",
			&port);

	REQUIRE(s);
	REQUIRE(s->http_port > 0 && s->http_port != port);
	for (int secure = 0; secure <= 1; secure++) {
		const char *scheme = secure ? "https" : "http";
		int p = secure ? port : s->http_port;
		for (size_t i = 0;
		     i < sizeof(origin_rows) / sizeof(origin_rows[0]); i++) {
			char origin[128], extra[192], head[4096];
			origin_make(origin_rows[i].origin, scheme, p, origin,
				    sizeof(origin));
			snprintf(extra, sizeof(extra), "Origin: %s\r\n",
				 origin);
			struct wc *c = NULL;
			if (secure) {
				c = wss_connect(p);
			} else {
				int fd = tc_connect(p);
				c = fd >= 0 ? wc_new(fd) : NULL;
			}
			if (!CHECK(c))
				continue;
			wc_upgrade_on(c, p, extra, head, sizeof(head));
			CHECKF(
			    strncmp(head + 9, origin_rows[i].ok ? "101" : "403",
				    3) == 0,
			    "%s page, origin %s: %.40s", scheme, origin, head);
			wc_free(c);
		}
	}
	CHECK(ts_log_wait(s, "left: https GET /ws: 403 origin not allowed",
			  W_WAIT_MS) == 0);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
	ts_free(s);
}

/* ---- one deadline -------------------------------------------------------- */

static void
test_one_deadline_covers_the_tls_handshake_and_the_upgrade(void)
{
	static const unsigned char half_record[] = {0x16, 0x03, 0x01};
	static const char half_request[] = "GET /ws HTTP/1.1\r\nHost: x";
	int port = 0;
	struct ts_server *s = start_https(pki.a_pem, pki.a_key,
					  "--handshake-timeout 1000", &port);
	struct wc *joined = NULL, *in_http = NULL;
	int silent = -1, in_tls = -1;

	REQUIRE(s);
	joined = wss_join(port);
	silent = tc_connect(port);
	in_tls = tc_connect(port);
	in_http = wss_connect(port);
	if (!CHECK(joined && silent >= 0 && in_tls >= 0 && in_http))
		goto out;
	/* Stuck in the TLS handshake: nothing, or half a record. */
	CHECK(send(in_tls, half_record, sizeof(half_record), MSG_NOSIGNAL) ==
	      (ssize_t)sizeof(half_record));
	/* TLS done, stuck in the HTTP request. */
	CHECK(wc_send_raw(in_http, half_request, strlen(half_request)) == 0);
	CHECK(tc_wait_eof(silent, W_WAIT_MS) == 0);
	CHECK(tc_wait_eof(in_tls, W_WAIT_MS) == 0);
	CHECK(wc_expect_eof(in_http) == 0);
	CHECK(ts_log_wait_count(s,
				"left: TLS handshake timed out after 1000 ms",
				2, W_WAIT_MS) == 0);
	CHECK(ts_log_wait(s, "left: handshake timed out after 1000 ms",
			  W_WAIT_MS) == 0);
	/* The client whose handshakes were done goes on. */
	CHECK(wc_text(joined, "/nick still") == 0);
	CHECK(wc_expect(joined, "now known as still", NULL, 0) == 0);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
out:
	wc_free(joined);
	wc_free(in_http);
	tc_close(silent);
	tc_close(in_tls);
	ts_free(s);
}

/* ---- reload -------------------------------------------------------------- */

static void
test_reload_gives_new_https_connections_the_new_certificate(void)
{
	char cur_pem[512], cur_key[512], cn[64], want[256];
	struct wc *w1 = NULL, *w2 = NULL;
	struct ts_server *s = NULL;
	int port = 0;

	tt_path(pki.dir, "cur.pem", cur_pem, sizeof(cur_pem));
	tt_path(pki.dir, "cur.key", cur_key, sizeof(cur_key));
	REQUIRE(tt_cert_install(cur_pem, cur_key, pki.a_pem, pki.a_key) == 0);
	s = start_https(cur_pem, cur_key, "", &port);
	REQUIRE(s);
	w1 = wss_join(port);
	if (!CHECK(w1))
		goto out;
	tt_peer_cn(w1->tls, cn, sizeof(cn));
	CHECKF(strcmp(cn, "first") == 0, "before: %s", cn);
	CHECK(tt_cert_install(cur_pem, cur_key, pki.b_pem, pki.b_key) == 0);
	kill(s->pid, SIGHUP);
	CHECK(ts_log_wait(s, "TLS certificate reloaded: CN=second",
			  W_WAIT_MS) == 0);
	w2 = wss_join(port);
	if (!CHECK(w2))
		goto out;
	tt_peer_cn(w2->tls, cn, sizeof(cn));
	CHECKF(strcmp(cn, "second") == 0, "after: %s", cn);
	/* The connection from before keeps its own and goes on. */
	CHECK(wc_text(w1, "from the old one") == 0);
	snprintf(want, sizeof(want), "#lobby <%s> from the old one", w1->nick);
	CHECK(wc_expect(w2, want, NULL, 0) == 0);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
out:
	wc_free(w1);
	wc_free(w2);
	ts_free(s);
}

/* ---- start-up ------------------------------------------------------------ */

static void
test_https_needs_a_certificate_and_a_taken_port_names_the_flag(void)
{
	char args[1280], err[4096];
	int port = 0;

	CHECK(ts_run("--https-listen 127.0.0.1:0", err, sizeof(err)) == 2);
	CHECKF(strstr(err, "parleyd: TLS listener 127.0.0.1:0 needs "
			   "--tls-cert FILE"),
	       "stderr: %s", err);

	struct ts_server *hold = start_https(pki.a_pem, pki.a_key, "", &port);
	REQUIRE(hold);
	snprintf(args, sizeof(args),
		 "--listen-tls none --tls-cert %s --tls-key %s --https-listen "
		 "127.0.0.1:%d",
		 pki.a_pem, pki.a_key, port);
	CHECK(ts_run(args, err, sizeof(err)) == 1);
	CHECKF(strstr(err, "Address already in use (--https-listen HOST:PORT "
			   "sets another address, --https-listen none turns "
			   "HTTPS off)"),
	       "stderr: %s", err);
	ts_free(hold);
}

/* ---- main ---------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "wss", model_args, sizeof(model_args), suite);
	if (!CHECK(tt_pki_make(&pki) == 0)) {
		tt_dir_remove(pki.dir);
		return tl_summary(suite);
	}
	RUN(test_the_page_over_https_then_wss_chat_with_a_plain_client);
	RUN(test_plaintext_http_on_the_https_port_is_closed_with_one_log_line);
	RUN(test_a_bad_origin_is_refused_over_wss_as_over_ws);
	RUN(test_one_deadline_covers_the_tls_handshake_and_the_upgrade);
	RUN(test_reload_gives_new_https_connections_the_new_certificate);
	RUN(test_https_needs_a_certificate_and_a_taken_port_names_the_flag);
	tt_dir_remove(pki.dir);
	return tl_summary(suite);
}
