/*
 * test_tls: TLS on the real parleyd, in both process models: chat between
 * TLS and plaintext clients, the wrong protocol on each kind of port, a
 * stalled handshake, certificate reload (good and bad), resumption across
 * processes, the terminal client's verification, and send-queue limits
 * on a TLS client that does not read. Certificates are
 * made at run time with the openssl command in a temporary directory.
 */
#include "../testlib.h"
#include "../tlslib.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define T_WAIT_MS 10000

static char model_args[256];
static int workers;

/* The files every test uses (made once in main). */
static struct tt_pki pki; /* the CA, a and b (tlslib.h) */
static char self_pem[512], other_pem[512], other_key[512];
static char chain_pem[512], leafmid_key[512];

static struct ts_server *
start_tls(const char *cert, const char *key, const char *extra, int *tls_port)
{
	char args[2048];
	struct ts_server *s;

	snprintf(args, sizeof(args),
		 "--listen-tls 127.0.0.1:0 --tls-cert %s --tls-key %s %s", cert,
		 key, extra ? extra : "");
	s = ts_start_model(model_args, args);
	if (!s)
		return NULL;
	*tls_port = ts_listen_port(s, "plain over tls", T_WAIT_MS);
	if (!CHECK(*tls_port > 0)) {
		ts_free(s);
		return NULL;
	}
	return s;
}

/* A verified TLS client that has joined the lobby; its nick in nick. */
static struct tt_conn *
tls_join(int port, char *nick, size_t n)
{
	struct tt_opts o = {.ca_file = pki.ca_pem, .host = "localhost"};
	char why[256], line[512], want[256];
	struct tt_conn *c = tt_connect(port, &o, why, sizeof(why), T_WAIT_MS);

	if (!CHECKF(c, "TLS connect: %s", why))
		return NULL;
	if (!CHECK(tt_expect(c, "-!- welcome to parley, ", line, sizeof(line),
			     T_WAIT_MS) > 0)) {
		tt_close(c);
		return NULL;
	}
	const char *s = line + strlen("-!- welcome to parley, ");
	snprintf(nick, n, "%.*s", (int)strcspn(s, "!"), s);
	snprintf(want, sizeof(want), "-!- %s joined ", nick);
	if (!CHECK(tt_expect(c, want, NULL, 0, T_WAIT_MS) > 0)) {
		tt_close(c);
		return NULL;
	}
	return c;
}

/* ---- chat ---------------------------------------------------------------- */

static void
test_tls_and_plaintext_clients_chat_in_one_room(void)
{
	char tnick[64], pnick[64], want[256];
	int port = 0;
	struct ts_server *s = start_tls(pki.a_pem, pki.a_key, "", &port);
	struct tt_conn *t = NULL;
	int p = -1;

	REQUIRE(s);
	p = tc_join(s->port, pnick, sizeof(pnick));
	t = tls_join(port, tnick, sizeof(tnick));
	if (!CHECK(p >= 0 && t))
		goto out;
	snprintf(want, sizeof(want), "-!- %s joined #lobby", tnick);
	CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_send(t, "hello over tls\n") == 0);
	snprintf(want, sizeof(want), "#lobby <%s> hello over tls", tnick);
	CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0);
	tc_send(p, "hello in plaintext\n");
	snprintf(want, sizeof(want), "#lobby <%s> hello in plaintext", pnick);
	CHECK(tt_expect(t, want, NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_send(t, "/msg %s psst\n", pnick) == 0);
	snprintf(want, sizeof(want), "*%s* psst", tnick);
	CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0);
	/* p is in #ops before t joins it, so p hears of t's join (the two
	 * requests may come from two processes, in either order). */
	tc_send(p, "/join #ops\n");
	snprintf(want, sizeof(want), "-!- %s joined #ops", pnick);
	CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_send(t, "/join #ops\n") == 0);
	snprintf(want, sizeof(want), "-!- %s joined #ops", tnick);
	CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_send(t, "/quit bye\n") == 0);
	snprintf(want, sizeof(want), "-!- %s quit (bye)", tnick);
	CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_wait_eof(t, T_WAIT_MS) == 0);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
out:
	tt_close(t);
	tc_close(p);
	ts_free(s);
}

static void
test_a_chain_in_the_certificate_file_verifies_up_to_the_root(void)
{
	char nick[64], cn[64];
	int port = 0;
	struct ts_server *s = start_tls(chain_pem, leafmid_key, "", &port);
	struct tt_conn *t = NULL;

	REQUIRE(s);
	/* The client trusts only the root: the server must send the
	 * intermediate from its certificate file. */
	t = tls_join(port, nick, sizeof(nick));
	if (CHECK(t)) {
		tt_peer_cn(t, cn, sizeof(cn));
		CHECKF(strcmp(cn, "leafmid") == 0, "cn %s", cn);
	}
	tt_close(t);
	ts_free(s);
}

/* ---- IRC over TLS -------------------------------------------------------- */

/* Reads t's lines up to the end of a WHOIS (318): 1 if one of them was
 * 671 (a secure connection), 0 if none, -1 if the end never came. */
static int
whois_says_secure(struct tt_conn *t)
{
	char line[1024];
	int secure = 0;

	while (tt_expect(t, "", line, sizeof(line), T_WAIT_MS) >= 0) {
		if (strstr(line, " 671 "))
			secure = 1;
		if (strstr(line, " 318 "))
			return secure;
	}
	return -1;
}

static void
test_an_irc_client_over_tls_registers_and_talks_with_a_plain_client(void)
{
	struct tt_opts o = {.ca_file = pki.ca_pem, .host = "localhost"};
	char pnick[64], why[256], want[256];
	int port = 0;
	struct ts_server *s = start_tls(pki.a_pem, pki.a_key,
					"--irc-listen-tls 127.0.0.1:0", &port);
	struct tt_conn *t = NULL;
	int p = -1;

	REQUIRE(s);
	int irc_port = ts_listen_port(s, "irc over tls", T_WAIT_MS);
	REQUIRE(irc_port > 0 && irc_port != port);
	p = tc_join(s->port, pnick, sizeof(pnick));
	t = tt_connect(irc_port, &o, why, sizeof(why), T_WAIT_MS);
	if (!CHECKF(p >= 0 && t, "TLS connect: %s", why))
		goto out;
	/* Registration is the client's move, as on the plaintext port. */
	CHECK(tt_send(t, "NICK tlsirc\r\nUSER tu 0 * :over TLS\r\n") == 0);
	CHECK(tt_expect(t, " 001 tlsirc :", NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_expect(t, " 422 tlsirc ", NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_send(t, "JOIN #lobby\r\n") == 0);
	CHECK(tt_expect(t, " 366 tlsirc #lobby ", NULL, 0, T_WAIT_MS) > 0);
	CHECK(tc_expect(p, "-!- tlsirc joined #lobby", NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_send(t, "PRIVMSG #lobby :hello over tls\r\n") == 0);
	CHECK(tc_expect(p, "#lobby <tlsirc> hello over tls", NULL, 0,
			T_WAIT_MS) > 0);
	tc_send(p, "hello in plaintext\n");
	snprintf(want, sizeof(want), ":%s!plain@", pnick);
	char line[512];
	CHECK(tt_expect(t, "PRIVMSG #lobby :hello in plaintext", line,
			sizeof(line), T_WAIT_MS) > 0 &&
	      strstr(line, want));
	tc_send(p, "/msg tlsirc psst\n");
	CHECK(tt_expect(t, "PRIVMSG tlsirc :psst", NULL, 0, T_WAIT_MS) > 0);
	/* WHOIS tells who came over TLS (671) and who did not. */
	CHECK(tt_send(t, "WHOIS tlsirc\r\n") == 0);
	CHECK(whois_says_secure(t) == 1);
	CHECK(tt_send(t, "WHOIS %s\r\n", pnick) == 0);
	CHECK(whois_says_secure(t) == 0);
	char unick[64];
	struct tt_conn *u = tls_join(port, unick, sizeof(unick));
	if (CHECK(u)) { /* a plain client over TLS is secure too */
		CHECK(tt_send(t, "WHOIS %s\r\n", unick) == 0);
		CHECK(whois_says_secure(t) == 1);
	}
	tt_close(u);
	CHECK(tt_send(t, "QUIT :bye\r\n") == 0);
	CHECK(tc_expect(p, "-!- tlsirc quit (bye)", NULL, 0, T_WAIT_MS) > 0);
	CHECK(tt_wait_eof(t, T_WAIT_MS) == 0);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
out:
	tt_close(t);
	tc_close(p);
	ts_free(s);
}

/* ---- the wrong protocol -------------------------------------------------- */

/* The ports of the wrong-protocol test. */
enum wrong_port { ON_PLAIN, ON_TLS, ON_IRC, ON_IRC_TLS, ON_PORTS };

struct wrong_row {
	const char *name;
	enum wrong_port on;
	const char *text; /* bytes to send; NULL: a real ClientHello */
	const char *log;  /* the reason in the one log line */
};

static const struct wrong_row wrong_rows[] = {
    {"a plaintext line on the TLS port", ON_TLS, "hello\n",
     "left: plaintext on a TLS port"},
    {"an HTTP request on the TLS port", ON_TLS,
     "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "left: plaintext on a TLS port"},
    {"a ClientHello on the plaintext port", ON_PLAIN, NULL,
     "left: TLS handshake on a plaintext port"},
    {"a ClientHello on the IRC plaintext port", ON_IRC, NULL,
     "left: TLS handshake on a plaintext port"},
    {"a plaintext IRC registration on the IRC TLS port", ON_IRC_TLS,
     "NICK plainirc\r\nUSER u 0 * :x\r\n", "left: plaintext on a TLS port"},
};

/* Sends the row's bytes on a fresh connection that the server accepts
 * only afterwards (the supervisor is stopped meanwhile), so they are there
 * when its session first looks, as with any client that speaks first.
 * Returns the fd or -1. */
static int
wrong_connect(struct ts_server *s, int port, const struct wrong_row *r)
{
	unsigned char hello[4096];
	int n = r->text ? (int)strlen(r->text)
			: tt_client_hello(hello, sizeof(hello));
	int fd;

	if (!CHECK(n > 0))
		return -1;
	kill(s->pid, SIGSTOP);
	fd = tc_connect(port); /* the kernel completes it meanwhile */
	if (fd >= 0 && send(fd, r->text ? (const void *)r->text : hello,
			    (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		fd = -1;
	}
	kill(s->pid, SIGCONT);
	return fd;
}

static void
test_the_wrong_protocol_on_each_port_is_closed_with_one_log_line(void)
{
	char wnick[64], line[512];
	int ports[ON_PORTS] = {0};
	struct ts_server *s =
	    start_tls(pki.a_pem, pki.a_key,
		      "--irc-listen 127.0.0.1:0 --irc-listen-tls 127.0.0.1:0",
		      &ports[ON_TLS]);
	int watcher = -1;

	REQUIRE(s);
	ports[ON_PLAIN] = s->port;
	ports[ON_IRC] = s->irc_port;
	ports[ON_IRC_TLS] = ts_listen_port(s, "irc over tls", T_WAIT_MS);
	REQUIRE(ports[ON_IRC] > 0 && ports[ON_IRC_TLS] > 0);
	watcher = tc_join(s->port, wnick, sizeof(wnick));
	REQUIRE(watcher >= 0);
	for (size_t i = 0; i < sizeof(wrong_rows) / sizeof(wrong_rows[0]);
	     i++) {
		const struct wrong_row *r = &wrong_rows[i];
		int before = ts_log_count(s, r->log);
		int fd = wrong_connect(s, ports[r->on], r);
		if (!CHECKF(fd >= 0, "%s: connect", r->name))
			continue;
		/* Nothing comes back: no greeting, no TLS alert. */
		int got = tc_readline(fd, line, sizeof(line), T_WAIT_MS);
		CHECKF(got == -2, "%s: got %d: %s", r->name, got,
		       got >= 0 ? line : "");
		CHECKF(ts_log_wait_count(s, r->log, before + 1, T_WAIT_MS) == 0,
		       "%s: no log line '%s'", r->name, r->log);
		tc_close(fd);
	}
	/* Nothing happened in the room: the next line the watcher sees is
	 * the join of a client that came after them all. */
	char nick[64], want[256];
	int after = tc_join(s->port, nick, sizeof(nick));
	CHECK(after >= 0);
	snprintf(want, sizeof(want), "-!- %s joined #lobby", nick);
	for (;;) {
		int got = tc_readline(watcher, line, sizeof(line), T_WAIT_MS);
		if (!CHECKF(got >= 0, "watcher: %d", got) || strstr(line, want))
			break;
		CHECKF(!strstr(line, " joined ") && !strstr(line, " quit"),
		       "watcher saw '%s'", line);
	}
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
	tc_close(after);
	tc_close(watcher);
	ts_free(s);
}

/* After the plaintext port's sniff (its first bytes, or 3 ms), a client
 * has joined and been seen: a ClientHello then is not a chat line either,
 * it closes the connection at its first read, as a lost connection. */
static void
test_a_client_hello_after_the_join_closes_at_the_first_read(void)
{
	unsigned char hello[4096];
	char wnick[64], nick[64], want[256];
	int port = 0, n = tt_client_hello(hello, sizeof(hello));
	struct ts_server *s = start_tls(pki.a_pem, pki.a_key, "", &port);
	int watcher = -1, late = -1;

	REQUIRE(s);
	REQUIRE(n > 0);
	watcher = tc_join(s->port, wnick, sizeof(wnick));
	late = tc_join(s->port, nick, sizeof(nick));
	REQUIRE(watcher >= 0 && late >= 0);
	snprintf(want, sizeof(want), "-!- %s joined #lobby", nick);
	CHECK(tc_expect(watcher, want, NULL, 0, T_WAIT_MS) > 0);
	CHECK(send(late, hello, (size_t)n, MSG_NOSIGNAL) == n);
	CHECK(tc_wait_eof(late, T_WAIT_MS) == 0);
	snprintf(want, sizeof(want), "-!- %s quit (connection lost)", nick);
	CHECK(tc_expect(watcher, want, NULL, 0, T_WAIT_MS) > 0);
	/* The reason is the session's log line; its rooms saw a lost
	 * connection. */
	char line[512];
	snprintf(want, sizeof(want), "client %s (127.0.0.1:", nick);
	CHECK(ts_log_wait(s, "): TLS handshake on a plaintext port",
			  T_WAIT_MS) == 0);
	CHECK(ts_log_line(s, "TLS handshake on a plaintext port", line,
			  sizeof(line)) == 0 &&
	      strstr(line, want));
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
	tc_close(late);
	tc_close(watcher);
	ts_free(s);
}

static void
test_a_stalled_handshake_is_closed_while_others_chat(void)
{
	static const unsigned char half[] = {0x16, 0x03, 0x01, 0x02, 0x00};
	char nick[64], pnick[64], want[256];
	int port = 0;
	struct ts_server *s =
	    start_tls(pki.a_pem, pki.a_key, "--handshake-timeout 1500", &port);
	struct tt_conn *t = NULL;
	int silent = -1, stalled = -1, p = -1;

	REQUIRE(s);
	silent = tc_connect(port);
	stalled = tc_connect(port);
	REQUIRE(silent >= 0 && stalled >= 0);
	/* Half a record header: the handshake starts, then nothing. */
	CHECK(send(stalled, half, sizeof(half), MSG_NOSIGNAL) ==
	      (ssize_t)sizeof(half));
	CHECK(ts_log_wait_count(s, " connected from ", 2, T_WAIT_MS) == 0);
	p = tc_join(s->port, pnick, sizeof(pnick));
	if (CHECK(p >= 0)) {
		/* The two waiting for their handshake came first: guest1
		 * and guest2. A private message does not reach (or end)
		 * a client that has not been greeted. */
		CHECKF(strcmp(pnick, "guest3") == 0, "nick %s", pnick);
		tc_send(p, "/msg guest1 hello\n/msg guest2 hello\n");
		CHECK(tc_expect(p, "-> *guest2* hello", NULL, 0, T_WAIT_MS) >
		      0);
	}
	t = tls_join(port, nick, sizeof(nick));
	if (CHECK(t && p >= 0)) {
		CHECK(tt_send(t, "not held up\n") == 0);
		snprintf(want, sizeof(want), "#lobby <%s> not held up", nick);
		CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0);
	}
	CHECK(tc_wait_eof(silent, T_WAIT_MS) == 0);
	CHECK(tc_wait_eof(stalled, T_WAIT_MS) == 0);
	CHECK(ts_log_wait_count(s,
				"left: TLS handshake timed out after 1500 ms",
				2, T_WAIT_MS) == 0);
	if (t) {
		CHECK(tt_send(t, "still here\n") == 0);
		snprintf(want, sizeof(want), "#lobby <%s> still here", nick);
		CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0);
	}
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
	tt_close(t);
	tc_close(p);
	tc_close(silent);
	tc_close(stalled);
	ts_free(s);
}

static void
test_tls_1_1_is_refused(void)
{
	struct tt_opts o = {.min_version = TLS1_VERSION,
			    .max_version = TLS1_1_VERSION};
	char why[256];
	int port = 0;
	struct ts_server *s = start_tls(pki.a_pem, pki.a_key, "", &port);

	REQUIRE(s);
	struct tt_conn *t = tt_connect(port, &o, why, sizeof(why), T_WAIT_MS);
	CHECK(t == NULL);
	CHECK(ts_log_wait(s, "left: TLS handshake failed: unsupported protocol",
			  T_WAIT_MS) == 0);
	tt_close(t);
	ts_free(s);
}

/* ---- reload -------------------------------------------------------------- */

static void
reload(struct ts_server *s, const char *log)
{
	int before = ts_log_count(s, log);

	kill(s->pid, SIGHUP);
	CHECKF(ts_log_wait_count(s, log, before + 1, T_WAIT_MS) == 0,
	       "no '%s' after SIGHUP", log);
}

static void
test_reload_gives_new_connections_the_new_certificate(void)
{
	char cur_pem[512], cur_key[512], n1[64], n2[64], cn[64], want[256];
	struct tt_conn *t1 = NULL, *t2 = NULL;
	struct ts_server *s = NULL;
	int port = 0;

	tt_path(pki.dir, "cur.pem", cur_pem, sizeof(cur_pem));
	tt_path(pki.dir, "cur.key", cur_key, sizeof(cur_key));
	REQUIRE(tt_cert_install(cur_pem, cur_key, pki.a_pem, pki.a_key) == 0);
	s = start_tls(cur_pem, cur_key, "", &port);
	REQUIRE(s);
	t1 = tls_join(port, n1, sizeof(n1));
	REQUIRE(t1);
	tt_peer_cn(t1, cn, sizeof(cn));
	CHECKF(strcmp(cn, "first") == 0, "before: %s", cn);
	CHECK(tt_cert_install(cur_pem, cur_key, pki.b_pem, pki.b_key) == 0);
	reload(s, "TLS certificate reloaded: CN=second");
	t2 = tls_join(port, n2, sizeof(n2));
	if (CHECK(t2)) {
		tt_peer_cn(t2, cn, sizeof(cn));
		CHECKF(strcmp(cn, "second") == 0, "after: %s", cn);
		/* The old connection keeps its own and goes on. */
		CHECK(tt_send(t1, "from the old one\n") == 0);
		snprintf(want, sizeof(want), "#lobby <%s> from the old one",
			 n1);
		CHECK(tt_expect(t2, want, NULL, 0, T_WAIT_MS) > 0);
		CHECK(tt_send(t2, "from the new one\n") == 0);
		snprintf(want, sizeof(want), "#lobby <%s> from the new one",
			 n2);
		CHECK(tt_expect(t1, want, NULL, 0, T_WAIT_MS) > 0);
	}
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
	tt_close(t1);
	tt_close(t2);
	ts_free(s);
}

struct bad_row {
	const char *name;
	const char *cert, *key; /* what the files become (NULL: removed) */
	const char *why;	/* in the log line */
};

static void
test_a_bad_certificate_at_reload_keeps_the_current_one(void)
{
	char cur_pem[512], cur_key[512], junk[512], nick[64], cn[64];
	struct ts_server *s = NULL;
	int port = 0;

	tt_path(pki.dir, "cur.pem", cur_pem, sizeof(cur_pem));
	tt_path(pki.dir, "cur.key", cur_key, sizeof(cur_key));
	tt_path(pki.dir, "junk.txt", junk, sizeof(junk));
	const struct bad_row rows[] = {
	    {"junk for a certificate", junk, pki.a_key,
	     "no certificate in the certificate file"},
	    {"the key of another certificate", pki.b_pem, pki.a_key,
	     "the key does not match the certificate"},
	    {"junk for a key", pki.a_pem, junk,
	     "no private key in the key file, or an encrypted one"},
	    {"no files", NULL, NULL, "cannot read"},
	};
	FILE *f = fopen(junk, "w");
	REQUIRE(f);
	fputs("not a certificate\n", f);
	fclose(f);
	REQUIRE(tt_cert_install(cur_pem, cur_key, pki.a_pem, pki.a_key) == 0);
	s = start_tls(cur_pem, cur_key, "", &port);
	REQUIRE(s);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct bad_row *r = &rows[i];
		if (r->cert) {
			CHECK(tt_cert_install(cur_pem, cur_key, r->cert,
					      r->key) == 0);
		} else {
			unlink(cur_pem);
			unlink(cur_key);
		}
		reload(s, r->why);
		CHECK(ts_log_count(s, "keeping CN=first") >= (int)i + 1);
		struct tt_conn *t = tls_join(port, nick, sizeof(nick));
		if (CHECKF(t, "%s: no new connection", r->name)) {
			tt_peer_cn(t, cn, sizeof(cn));
			CHECKF(strcmp(cn, "first") == 0, "%s: %s", r->name, cn);
		}
		tt_close(t);
	}
	CHECK(ts_log_count(s, "TLS certificate reloaded") == 0);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
	ts_free(s);
	unlink(junk);
}

/* ---- resumption ---------------------------------------------------------- */

static void
test_a_ticket_resumes_in_another_session_process(void)
{
	static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
	char why[256];
	int port = 0;
	struct ts_server *s = start_tls(pki.a_pem, pki.a_key, "", &port);

	REQUIRE(s);
	for (size_t i = 0; i < 2; i++) {
		struct tt_opts o = {.ca_file = pki.ca_pem,
				    .host = "localhost",
				    .max_version = versions[i]};
		struct tt_conn *first =
		    tt_connect(port, &o, why, sizeof(why), T_WAIT_MS);
		if (!CHECKF(first, "%s", why))
			continue;
		CHECK(tt_expect(first, "welcome", NULL, 0, T_WAIT_MS) > 0);
		o.session = tt_session(first);
		CHECK(o.session != NULL);
		/* The first stays connected: with workers the second goes
		 * to the other one; in the fork model it is a new process
		 * anyway. */
		struct tt_conn *again =
		    tt_connect(port, &o, why, sizeof(why), T_WAIT_MS);
		if (CHECKF(again, "%s", why)) {
			CHECKF(tt_resumed(again), "TLS 1.%d not resumed",
			       versions[i] == TLS1_3_VERSION ? 3 : 2);
			CHECK(tt_expect(again, "welcome", NULL, 0, T_WAIT_MS) >
			      0);
		}
		tt_close(again);
		tt_close(first);
		tt_session_free(o.session);
	}
	ts_free(s);
}

/* ---- the terminal client ------------------------------------------------- */

struct client_row {
	const char *name;
	const char *args; /* before the address */
	const char *host; /* localhost or 127.0.0.1 */
	int plain_port;	  /* connect to the plaintext port */
	int code;	  /* exit status */
	const char *out;  /* in stdout */
	const char *err;  /* in stderr, "" for nothing at all */
};

static const struct client_row client_rows[] = {
    {"trusting the CA", "--ca CA", "localhost", 0, 0, "welcome to parley", ""},
    {"checking an address", "--ca CA", "127.0.0.1", 0, 0, "welcome to parley",
     ""},
    {"with the system's CAs only", "", "localhost", 0, 1, "",
     "parley: cannot verify the certificate of localhost:"},
    {"trusting another CA", "--ca SELF", "localhost", 0, 1, "",
     "unable to get local issuer certificate"},
    {"insecure", "--insecure", "127.0.0.1", 0, 0, "welcome to parley",
     "parley: warning: --insecure: the server's certificate is not "
     "verified"},
    /* The server closes before greeting, or greets at once (the client
     * reads plaintext): either way one line that says what it may be. */
    {"at a plaintext port", "--insecure", "127.0.0.1", 1, 1, "",
     "(not a TLS port?)"},
};

/* Runs build/parley --tls with args (CA and SELF replaced by the files)
 * and "/quit" on stdin. */
static int
run_client(const char *args, const char *addr, char *out, char *err, size_t n)
{
	const char *build = getenv("PARLEY_BUILD");
	char path[512], buf[1024];
	char *argv[16];
	int argc = 0;

	snprintf(path, sizeof(path), "%s/parley", build ? build : "build");
	snprintf(buf, sizeof(buf), "%s", args);
	argv[argc++] = path;
	argv[argc++] = "--tls";
	for (char *tok = strtok(buf, " "); tok && argc < 12;
	     tok = strtok(NULL, " "))
		argv[argc++] = strcmp(tok, "CA") == 0	  ? pki.ca_pem
			       : strcmp(tok, "SELF") == 0 ? self_pem
							  : tok;
	argv[argc++] = (char *)addr;
	argv[argc] = NULL;
	return tt_run(argv, "/quit\n", out, err, n, 2 * T_WAIT_MS);
}

static int
lines_in(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
test_the_client_verifies_the_server(void)
{
	char out[8192], err[8192], addr[128];
	int port = 0;
	struct ts_server *s = start_tls(pki.a_pem, pki.a_key, "", &port);

	REQUIRE(s);
	setenv("PARLEY_GRACE_MS", "5000", 1);
	for (size_t i = 0; i < sizeof(client_rows) / sizeof(client_rows[0]);
	     i++) {
		const struct client_row *r = &client_rows[i];
		snprintf(addr, sizeof(addr), "%s:%d", r->host,
			 r->plain_port ? s->port : port);
		int code = run_client(r->args, addr, out, err, sizeof(out));
		CHECKF(code == r->code, "%s: exit %d, want %d; stderr: %s",
		       r->name, code, r->code, err);
		CHECKF(strstr(out, r->out) != NULL, "%s: stdout: %s", r->name,
		       out);
		if (r->err[0]) {
			CHECKF(strstr(err, r->err) != NULL, "%s: stderr: %s",
			       r->name, err);
			/* One clear line, nothing else. */
			CHECKF(r->code == 0 || lines_in(err) == 1,
			       "%s: stderr: %s", r->name, err);
		} else {
			CHECKF(err[0] == '\0', "%s: stderr: %s", r->name, err);
		}
	}
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
	ts_free(s);
}

static void
test_the_client_refuses_a_certificate_for_another_name(void)
{
	char out[8192], err[8192], addr[128];
	int port = 0;
	struct ts_server *s = start_tls(other_pem, other_key, "", &port);

	REQUIRE(s);
	setenv("PARLEY_GRACE_MS", "5000", 1);
	snprintf(addr, sizeof(addr), "localhost:%d", port);
	int code = run_client("--ca CA", addr, out, err, sizeof(out));
	CHECKF(code == 1, "exit %d; stderr: %s", code, err);
	CHECKF(strstr(err, "cannot verify the certificate of localhost:") &&
		   strstr(err, "hostname mismatch") && lines_in(err) == 1,
	       "stderr: %s", err);
	CHECK(out[0] == '\0');
	ts_free(s);
}

/* ---- start-up ------------------------------------------------------------ */

static void
test_a_tls_listener_without_a_certificate_is_a_usage_error(void)
{
	char args[1280], err[4096];

	CHECK(ts_run("--listen-tls 127.0.0.1:0", err, sizeof(err)) == 2);
	CHECKF(strstr(err, "parleyd: TLS listener 127.0.0.1:0 needs "
			   "--tls-cert FILE"),
	       "stderr: %s", err);
	snprintf(args, sizeof(args),
		 "--listen-tls 127.0.0.1:0 --tls-cert %s --tls-key %s",
		 pki.b_pem, pki.a_key);
	CHECK(ts_run(args, err, sizeof(err)) == 1);
	CHECKF(strstr(err, "the key does not match the certificate"),
	       "stderr: %s", err);
}

/* ---- send queues --------------------------------------------------------- */

/* A TLS client that does not read is cut off by the same send-queue
 * limits as a plaintext one, by either limit: the bytes OpenSSL holds for
 * it count like the bytes a plain client has not taken. What it has been
 * sent is then whole lines, the notice last, then the end. */
static const struct tls_sendq_row {
	const char *name;
	const char *args;
	const char *why; /* in the log line that cuts it off */
} tls_sendq_rows[] = {
    {"over --sendq-hard",
     "--flood-rate 0 --sendq 65536 --sendq-seconds 3600 "
     "--sendq-hard 262144",
     "over --sendq-hard"},
    {"over --sendq for --sendq-seconds",
     "--flood-rate 0 --sendq 65536 --sendq-seconds 1 "
     "--sendq-hard 1073741824",
     "over --sendq too long"},
};

enum { TLS_SENDQ_LINES = 4000, TLS_SENDQ_PAD = 1000 };

/* Reads what t was sent: returns the lines of p's that came whole; *torn
 * counts those that did not, *notice whether the last line was the
 * notice, *eof whether the end followed. */
static int
tls_sendq_drain(struct tt_conn *t, const char *pnick, int *torn, int *notice,
		int *eof)
{
	char line[8192], head[128];
	int whole = 0, len;
	size_t hl = (size_t)snprintf(head, sizeof(head), "#lobby <%s> ", pnick);

	*torn = *notice = *eof = 0;
	while ((len = tt_expect(t, "", line, sizeof(line), T_WAIT_MS)) >= 0) {
		*notice = strcmp(line, "-!- disconnected: send queue "
				       "exceeded") == 0;
		if (strncmp(line, head, hl) != 0)
			continue;
		if ((size_t)len == hl + TLS_SENDQ_PAD &&
		    strspn(line + hl, "x") == TLS_SENDQ_PAD)
			whole++;
		else
			(*torn)++;
	}
	*eof = len == -2;
	return whole;
}

static void
tls_sendq_run(const struct tls_sendq_row *k)
{
	char tnick[64], pnick[64], want[256], pad[TLS_SENDQ_PAD + 1];
	struct tt_opts o = {
	    .ca_file = pki.ca_pem, .host = "localhost", .rcvbuf = 4096};
	int port = 0, p = -1, torn, notice, eof, whole;
	struct ts_server *s = start_tls(pki.a_pem, pki.a_key, k->args, &port);
	struct tt_conn *t = NULL;
	char why[256], line[512];

	REQUIRE(s);
	p = tc_join(s->port, pnick, sizeof(pnick));
	t = tt_connect(port, &o, why, sizeof(why), T_WAIT_MS);
	if (!CHECKF(p >= 0 && t, "%s: %s", k->name, why) ||
	    !CHECK(tt_expect(t, "-!- welcome to parley, ", line, sizeof(line),
			     T_WAIT_MS) > 0))
		goto out;
	snprintf(tnick, sizeof(tnick), "%.*s", (int)strcspn(line + 23, "!"),
		 line + 23);
	snprintf(want, sizeof(want), "-!- %s joined #lobby", tnick);
	if (!CHECK(tc_expect(p, want, NULL, 0, T_WAIT_MS) > 0))
		goto out;
	/* t reads nothing more: 4 MB later it must be gone. */
	memset(pad, 'x', TLS_SENDQ_PAD);
	pad[TLS_SENDQ_PAD] = '\0';
	for (int i = 0; i < TLS_SENDQ_LINES; i++)
		if (tc_send(p, "%s\n", pad) < 0)
			break;
	snprintf(want, sizeof(want), "-!- %s quit (send queue exceeded)",
		 tnick);
	CHECKF(tc_expect(p, want, NULL, 0, 30000) > 0, "%s: not cut off",
	       k->name);
	whole = tls_sendq_drain(t, pnick, &torn, &notice, &eof);
	/* Past the hard limit it may be cut off before anything was
	 * written to it: no whole line is fine, a torn one is not. */
	CHECKF(whole < TLS_SENDQ_LINES && torn == 0,
	       "%s: %d whole lines, %d torn", k->name, whole, torn);
	if (!CHECKF(notice && eof, "%s: the notice %s last, %s end", k->name,
		    notice ? "came" : "did not come",
		    eof ? "then the" : "no") &&
	    ts_log_line(s, " left: ", line, sizeof(line)) == 0)
		printf("  %s\n", line);
	/* The client may hear of it before the log thread has read the
	 * supervisor's line: wait for the line, then count. */
	CHECKF(ts_log_wait(s, k->why, T_WAIT_MS) == 0 &&
		   ts_log_count(s, k->why) == 1,
	       "%s: not cut off for %s", k->name, k->why);
	CHECK(ts_log_count(s, "send queue exceeded (") == 1);
	TS_CHECK_NO_SANITIZER_REPORTS(s, "killed by");
out:
	tt_close(t);
	tc_close(p);
	ts_free(s);
}

static void
test_a_tls_client_that_does_not_read_is_cut_off_for_its_send_queue(void)
{
	for (size_t i = 0;
	     i < sizeof(tls_sendq_rows) / sizeof(tls_sendq_rows[0]); i++)
		tls_sendq_run(&tls_sendq_rows[i]);
}

/* ---- main ---------------------------------------------------------------- */

static int
make_certs(void)
{
	if (tt_pki_make(&pki) < 0 ||
	    tt_cert_make(pki.dir, "other", "other.example", "DNS:other.example",
			 "ca", 0) < 0 ||
	    tt_cert_make(pki.dir, "self", "localhost", "DNS:localhost", NULL,
			 1) < 0 ||
	    tt_cert_make(pki.dir, "mid", "parley test intermediate", NULL, "ca",
			 1) < 0 ||
	    tt_cert_make(pki.dir, "leafmid", "leafmid", "DNS:localhost", "mid",
			 0) < 0)
		return -1;
	tt_path(pki.dir, "self.pem", self_pem, sizeof(self_pem));
	tt_path(pki.dir, "other.pem", other_pem, sizeof(other_pem));
	tt_path(pki.dir, "other.key", other_key, sizeof(other_key));
	tt_path(pki.dir, "leafmid.key", leafmid_key, sizeof(leafmid_key));
	tt_path(pki.dir, "chain.pem", chain_pem, sizeof(chain_pem));
	char leafmid[512], mid[512];
	tt_path(pki.dir, "leafmid.pem", leafmid, sizeof(leafmid));
	tt_path(pki.dir, "mid.pem", mid, sizeof(mid));
	const char *const chain[] = {leafmid, mid, NULL};
	return tt_cat(chain_pem, chain);
}

int
main(int argc, char **argv)
{
	char suite[64];

	workers =
	    tl_init(argc, argv, "tls", model_args, sizeof(model_args), suite);
	if (!CHECK(make_certs() == 0)) {
		tt_dir_remove(pki.dir);
		return tl_summary(suite);
	}
	RUN(test_tls_and_plaintext_clients_chat_in_one_room);
	RUN(test_a_chain_in_the_certificate_file_verifies_up_to_the_root);
	RUN(test_an_irc_client_over_tls_registers_and_talks_with_a_plain_client);
	RUN(test_the_wrong_protocol_on_each_port_is_closed_with_one_log_line);
	RUN(test_a_client_hello_after_the_join_closes_at_the_first_read);
	RUN(test_a_stalled_handshake_is_closed_while_others_chat);
	RUN(test_tls_1_1_is_refused);
	RUN(test_reload_gives_new_connections_the_new_certificate);
	RUN(test_a_bad_certificate_at_reload_keeps_the_current_one);
	RUN(test_a_ticket_resumes_in_another_session_process);
	RUN(test_the_client_verifies_the_server);
	RUN(test_the_client_refuses_a_certificate_for_another_name);
	RUN(test_a_tls_listener_without_a_certificate_is_a_usage_error);
	RUN(test_a_tls_client_that_does_not_read_is_cut_off_for_its_send_queue);
	tt_dir_remove(pki.dir);
	return tl_summary(suite);
}
