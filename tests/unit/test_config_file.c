/*
 * Unit tests for src/server/config_file: every key of the options table
 * applies from a file, the command line overrides the file, each error
 * names the file and the line, and etc/parleyd.conf is exactly what the
 * table generates (and its commented values are the defaults).
 */
#include "server/config_file.h"
#include "server/proto.h"
#include "server/transport.h"

#include "../testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char t_dir[] = "/tmp/parley-config-XXXXXX";
static char t_path[256];

/* Writes text (len bytes; -1: strlen) as the test's config file. */
static void
t_write(const char *text, long len)
{
	FILE *f = fopen(t_path, "w");

	if (!f)
		abort();
	fwrite(text, 1, len < 0 ? strlen(text) : (size_t)len, f);
	fclose(f);
}

/* Builds a config from the test's file (if with_file) and args, given as
 * "name" / "value" pairs ending in NULL. */
static int
t_build(struct config *cfg, struct config_text **text, char *err, size_t n,
	int with_file, ...)
{
	struct config_arg args[16];
	struct config_source src = {args, 0};
	va_list ap;
	const char *name;

	if (with_file)
		args[src.nargs++] =
		    (struct config_arg){options_find("config"), t_path};
	va_start(ap, with_file);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		args[src.nargs++] =
		    (struct config_arg){options_find(name), value};
	}
	va_end(ap);
	err[0] = '\0';
	return config_build(cfg, &src, text, err, n);
}

/* ---- every key ---------------------------------------------------------- */

/* A value other than the default for each OPTION_CALL option, and how to
 * see that it applied. A new OPTION_CALL option needs a row here. */
/* The listeners of cfg that the option flag made, in order, into out;
 * returns how many. */
static int
t_listeners(const struct config *cfg, const char *flag,
	    const struct config_listener **out)
{
	int n = 0;

	for (int i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].flag &&
		    strcmp(cfg->listen[i].flag, flag) == 0)
			out[n++] = &cfg->listen[i];
	return n;
}

static int
t_call_applied(const struct config *cfg, const char *name)
{
	const struct config_listener *l[CONFIG_LISTEN_MAX];

	if (strcmp(name, "listen") == 0)
		return t_listeners(cfg, "listen", l) == 1 &&
		       strcmp(l[0]->addr, "127.0.0.1:7000") == 0;
	if (strcmp(name, "http-listen") == 0)
		return t_listeners(cfg, "http-listen", l) == 1 &&
		       strcmp(l[0]->addr, "127.0.0.1:7080") == 0;
	if (strcmp(name, "listen-tls") == 0)
		return t_listeners(cfg, "listen-tls", l) == 1 &&
		       strcmp(l[0]->addr, "127.0.0.1:7051") == 0;
	if (strcmp(name, "https-listen") == 0)
		return t_listeners(cfg, "https-listen", l) == 1 &&
		       strcmp(l[0]->addr, "127.0.0.1:7443") == 0;
	if (strcmp(name, "irc-listen") == 0)
		return t_listeners(cfg, "irc-listen", l) == 1 &&
		       strcmp(l[0]->addr, "127.0.0.1:7667") == 0 &&
		       l[0]->proto == PROTO_IRC &&
		       l[0]->transport == TRANSPORT_TCP;
	if (strcmp(name, "irc-listen-tls") == 0)
		return t_listeners(cfg, "irc-listen-tls", l) == 1 &&
		       strcmp(l[0]->addr, "127.0.0.1:7697") == 0 &&
		       l[0]->proto == PROTO_IRC &&
		       l[0]->transport == TRANSPORT_TLS;
	if (strcmp(name, "server-name") == 0)
		return strcmp(cfg->server_name, "irc.chat.test") == 0;
	if (strcmp(name, "network") == 0)
		return strcmp(cfg->network, "TestNet") == 0;
	if (strcmp(name, "http-origin") == 0)
		return cfg->nhttp_origins == 1 &&
		       strcmp(cfg->http_origins[0], "http://chat.test") == 0;
	if (strcmp(name, "workers") == 0)
		return cfg->workers == 3;
	if (strcmp(name, "outbox-size") == 0)
		return cfg->outbox_bytes == 524288;
	if (strcmp(name, "room-modes") == 0)
		return strcmp(cfg->room_modes, "+mst") == 0;
	if (strcmp(name, "oper") == 0)
		return cfg->nopers == 1 &&
		       strcmp(cfg->opers[0].name, "admin") == 0 &&
		       strcmp(cfg->opers[0].hash, "$y$j9T$salt$hash") == 0;
	return -1;
}

static const char *
t_call_value(const char *name)
{
	if (strcmp(name, "listen") == 0)
		return "127.0.0.1:7000";
	if (strcmp(name, "http-listen") == 0)
		return "127.0.0.1:7080";
	if (strcmp(name, "listen-tls") == 0)
		return "127.0.0.1:7051";
	if (strcmp(name, "https-listen") == 0)
		return "127.0.0.1:7443";
	if (strcmp(name, "irc-listen") == 0)
		return "127.0.0.1:7667";
	if (strcmp(name, "irc-listen-tls") == 0)
		return "127.0.0.1:7697";
	if (strcmp(name, "server-name") == 0)
		return "irc.chat.test";
	if (strcmp(name, "network") == 0)
		return "TestNet";
	if (strcmp(name, "http-origin") == 0)
		return "http://chat.test";
	if (strcmp(name, "workers") == 0)
		return "3";
	if (strcmp(name, "outbox-size") == 0)
		return "524288";
	if (strcmp(name, "room-modes") == 0)
		return "+mst";
	if (strcmp(name, "oper") == 0)
		return "admin $y$j9T$salt$hash";
	return NULL;
}

/* What a key needs beside it in the file to be valid (a TLS listener or
 * key needs a certificate), or "". */
static const char *
t_needs(const char *name)
{
	static const char *const need_cert[] = {"listen-tls", "irc-listen-tls",
						"tls-key", "https-listen"};

	for (size_t i = 0; i < sizeof(need_cert) / sizeof(need_cert[0]); i++)
		if (strcmp(name, need_cert[i]) == 0)
			return "tls-cert /nonexistent/cert.pem\n";
	return "";
}

/* A valid value that differs from the default of a typed option. */
static void
t_typed_value(const struct option_def *d, const struct config *def, char *out,
	      size_t n)
{
	char now[256];

	switch (d->kind) {
	case OPTION_FLAG:
		snprintf(out, n, "yes");
		return;
	case OPTION_STRING:
		snprintf(out, n, "127.0.0.1:0");
		return;
	default:
		break;
	}
	config_option_format(def, d, now, sizeof(now));
	snprintf(out, n, "%lld", atoll(now) == d->max ? d->min : d->max);
}

static void
test_every_key_of_the_table_applies_from_a_file(void)
{
	struct config def, cfg;
	struct config_text *text;
	char err[512], line[512];
	int keys = 0;

	config_defaults(&def);
	for (size_t i = 0; i < options_count; i++) {
		const struct option_def *d = &options_table[i];
		char value[256];
		if (d->flags & OPTION_COMMAND_LINE)
			continue;
		if (d->kind == OPTION_CALL) {
			const char *v = t_call_value(d->name);
			CHECKF(v, "no test value for option %s", d->name);
			if (!v)
				continue;
			snprintf(value, sizeof(value), "%s", v);
		} else {
			t_typed_value(d, &def, value, sizeof(value));
		}
		snprintf(line, sizeof(line), "# %s\n%s%s %s\n", d->name,
			 t_needs(d->name), d->name, value);
		t_write(line, -1);
		if (!CHECKF(t_build(&cfg, &text, err, sizeof(err), 1, NULL) ==
				0,
			    "%s %s: %s", d->name, value, err))
			continue;
		keys++;
		if (d->kind == OPTION_CALL) {
			CHECKF(t_call_applied(&cfg, d->name) == 1,
			       "%s %s did not apply", d->name, value);
		} else {
			char got[256];
			config_option_format(&cfg, d, got, sizeof(got));
			if (d->kind == OPTION_FLAG)
				CHECKF(strcmp(got, "yes") == 0, "%s: %s",
				       d->name, got);
			else
				CHECKF(strcmp(got, value) == 0,
				       "%s %s applied as %s", d->name, value,
				       got);
		}
		config_text_free(text);
	}
	CHECK(keys >= 17);
}

static void
test_blank_lines_comments_and_crlf_are_ignored(void)
{
	struct config cfg;
	struct config_text *text;
	char err[512];

	t_write("\n   \n# a comment\n\t# another\r\n"
		"max-clients 7 # trailing comment\r\n"
		"  sendq\t\t65536  \n"
		"verbose\n"
		"limit-loopback no\n"
		"listen [::1]:0\nlisten 127.0.0.1:0",
		-1);
	REQUIRE(t_build(&cfg, &text, err, sizeof(err), 1, NULL) == 0);
	CHECK(cfg.max_clients == 7);
	CHECK(cfg.client_slots == 7);
	CHECK(cfg.sendq_bytes == 65536);
	CHECK(cfg.verbose == 1);
	CHECK(cfg.limit_loopback == 0);
	const struct config_listener *l[CONFIG_LISTEN_MAX];
	CHECK(t_listeners(&cfg, "listen", l) == 2 &&
	      strcmp(l[0]->addr, "[::1]:0") == 0 &&
	      strcmp(l[1]->addr, "127.0.0.1:0") == 0);
	CHECK(strcmp(cfg.config_path, t_path) == 0);
	config_text_free(text);
}

static void
test_command_line_flags_override_the_file(void)
{
	struct config cfg;
	struct config_text *text;
	char err[512];

	t_write("max-clients 100\nlisten 127.0.0.1:7001\nlisten "
		"127.0.0.1:7002\nhistory 3\n",
		-1);
	REQUIRE(t_build(&cfg, &text, err, sizeof(err), 1, "max-clients", "200",
			"listen", "127.0.0.1:7003", NULL) == 0);
	CHECK(cfg.max_clients == 200);
	CHECK(cfg.history == 3);
	/* A repeatable flag replaces the file's values, not adds to them. */
	const struct config_listener *l[CONFIG_LISTEN_MAX];
	CHECK(t_listeners(&cfg, "listen", l) == 1 &&
	      strcmp(l[0]->addr, "127.0.0.1:7003") == 0);
	config_text_free(text);

	/* The order on the command line does not matter: flags win. */
	struct config_arg args[] = {
	    {options_find("history"), "9"},
	    {options_find("config"), t_path},
	};
	struct config_source src = {args, 2};
	REQUIRE(config_build(&cfg, &src, &text, err, sizeof(err)) == 0);
	CHECK(cfg.history == 9);
	config_text_free(text);
}

static void
test_no_file_gives_the_defaults_and_the_default_listeners(void)
{
	struct config cfg, def;
	struct config_text *text;
	char err[512];

	REQUIRE(t_build(&cfg, &text, err, sizeof(err), 0, NULL) == 0);
	config_defaults(&def);
	CHECK(cfg.max_clients == def.max_clients);
	const struct config_listener *l[CONFIG_LISTEN_MAX];
	CHECK(t_listeners(&cfg, "listen", l) == 2 && l[1]->optional);
	CHECK(t_listeners(&cfg, "http-listen", l) == 2 && l[1]->optional);
	CHECK(t_listeners(&cfg, "irc-listen", l) == 2 && l[1]->optional &&
	      strcmp(l[0]->addr, "127.0.0.1:6667") == 0 &&
	      l[0]->proto == PROTO_IRC);
	/* No certificate, no TLS listener of either protocol. */
	CHECK(t_listeners(&cfg, "listen-tls", l) == 0);
	CHECK(t_listeners(&cfg, "irc-listen-tls", l) == 0);
	CHECK(cfg.outbox_bytes == 1u << 20);
	CHECK(cfg.config_path == NULL && cfg.metrics_listen == NULL);
	config_text_free(text);
}

/* A certificate brings TLS and HTTPS listeners on loopback, unless their
 * flag says otherwise; without one, asking for either is an error. */
static const struct {
	const char *file;
	int ok, tls, https; /* listeners made by --listen-tls, --https-listen */
	const char *first;  /* the first https one, if any */
} t_cert_rows[] = {
    {"", 1, 0, 0, NULL},
    {"tls-cert /c.pem\n", 1, 2, 2, "127.0.0.1:5443"},
    {"tls-cert /c.pem\nhttps-listen none\n", 1, 2, 0, NULL},
    {"tls-cert /c.pem\nlisten-tls none\n", 1, 0, 2, "127.0.0.1:5443"},
    {"tls-cert /c.pem\nhttps-listen [::1]:8443\n", 1, 2, 1, "[::1]:8443"},
    {"https-listen none\n", 1, 0, 0, NULL},
    {"https-listen 127.0.0.1:8443\n", 0, 0, 0, NULL},
};

static void
test_a_certificate_brings_default_tls_and_https_listeners(void)
{
	const struct config_listener *l[CONFIG_LISTEN_MAX];
	struct config cfg;
	struct config_text *text;
	char err[512];

	for (size_t i = 0; i < sizeof(t_cert_rows) / sizeof(t_cert_rows[0]);
	     i++) {
		t_write(t_cert_rows[i].file, -1);
		int r = t_build(&cfg, &text, err, sizeof(err), 1, NULL);
		if (!t_cert_rows[i].ok) {
			CHECKF(r == -1 && strstr(err, "needs --tls-cert"),
			       "row %zu: %s", i, err);
			continue;
		}
		if (!CHECKF(r == 0, "row %zu: %s", i, err))
			continue;
		CHECKF(t_listeners(&cfg, "listen-tls", l) == t_cert_rows[i].tls,
		       "row %zu: tls", i);
		int n = t_listeners(&cfg, "https-listen", l);
		CHECKF(n == t_cert_rows[i].https, "row %zu: https %d", i, n);
		CHECKF(!t_cert_rows[i].first ||
			   (n > 0 &&
			    strcmp(l[0]->addr, t_cert_rows[i].first) == 0 &&
			    l[0]->transport == TRANSPORT_WSS),
		       "row %zu: %s", i, n > 0 ? l[0]->addr : "none");
		CHECKF(n < 2 || l[1]->optional, "row %zu: IPv6 optional", i);
		config_text_free(text);
	}
}

/* A certificate brings the TLS listeners of both protocols (5051, 6697);
 * each flag's none, or an address of its own, replaces only its own. */
static const struct {
	const char *name, *value; /* beside --tls-cert; NULL: nothing */
	int plain_tls, irc_tls;	  /* listeners of each flag */
	const char *irc_tls_addr; /* the first one's address */
} t_tls_rows[] = {
    {NULL, NULL, 2, 2, "127.0.0.1:6697"},
    {"irc-listen-tls", "none", 2, 0, NULL},
    {"listen-tls", "none", 0, 2, "127.0.0.1:6697"},
    {"irc-listen-tls", "127.0.0.1:7000", 2, 1, "127.0.0.1:7000"},
    {"irc-listen", "none", 2, 2, "127.0.0.1:6697"},
};

static void
test_a_certificate_brings_tls_listeners_for_plain_and_irc(void)
{
	const struct config_listener *l[CONFIG_LISTEN_MAX];
	struct config cfg;
	struct config_text *text;
	char err[512];

	for (size_t i = 0; i < sizeof(t_tls_rows) / sizeof(t_tls_rows[0]);
	     i++) {
		const char *name = t_tls_rows[i].name;
		int r =
		    name ? t_build(&cfg, &text, err, sizeof(err), 0, "tls-cert",
				   "/nonexistent/cert.pem", name,
				   t_tls_rows[i].value, NULL)
			 : t_build(&cfg, &text, err, sizeof(err), 0, "tls-cert",
				   "/nonexistent/cert.pem", NULL);
		if (!CHECKF(r == 0, "row %zu: %s", i, err))
			continue;
		int plain = t_listeners(&cfg, "listen-tls", l);
		CHECKF(plain == t_tls_rows[i].plain_tls,
		       "row %zu: %d plain TLS listeners", i, plain);
		int irc = t_listeners(&cfg, "irc-listen-tls", l);
		CHECKF(irc == t_tls_rows[i].irc_tls,
		       "row %zu: %d IRC TLS listeners", i, irc);
		if (irc > 0)
			CHECKF(l[0]->proto == PROTO_IRC &&
				   l[0]->transport == TRANSPORT_TLS &&
				   strcmp(l[0]->addr,
					  t_tls_rows[i].irc_tls_addr) == 0,
			       "row %zu: %s", i, l[0]->addr);
		if (irc == 2)
			CHECKF(strcmp(l[1]->addr, "[::1]:6697") == 0 &&
				   l[1]->optional,
			       "row %zu: %s", i, l[1]->addr);
		config_text_free(text);
	}
}

/* ---- errors ------------------------------------------------------------- */

static const struct {
	const char *text;
	const char *err; /* after "PATH" */
} t_errors[] = {
    {"bogus 1\n", ":1: unknown key 'bogus'"},
    {"\n# x\nmax-clients lots\n",
     ":3: max-clients: expected a number from 1 to 1048576, got 'lots'"},
    {"max-clients 0\n", ":1: max-clients: expected a number from 1"},
    {"history 1001\n", ":1: history: expected a number from 0 to 1000"},
    {"max-clients\n", ":1: max-clients needs a value (N)"},
    {"verbose maybe\n", ":1: verbose: expected yes or no, got 'maybe'"},
    {"workers -1\n", ":1: workers: expected auto or a number"},
    {"outbox-size 1000000\n", ":1: outbox-size: expected auto or a power"},
    {"history 5\nsendq 8192\nhistory 6\n",
     ":3: history given twice (first on line 1)"},
    {"config /etc/other.conf\n",
     ":1: unknown key 'config' (only a command-line flag)"},
    {"--max-clients 5\n", ":1: unknown key '--max-clients'"},
    {"max-clients=5\n", ":1: unknown key 'max-clients=5'"},
};

static void
test_each_error_names_the_file_and_the_line(void)
{
	struct config cfg;
	struct config_text *text = NULL;
	char err[512], want[512];

	for (size_t i = 0; i < sizeof(t_errors) / sizeof(t_errors[0]); i++) {
		t_write(t_errors[i].text, -1);
		snprintf(want, sizeof(want), "%s%s", t_path, t_errors[i].err);
		CHECKF(t_build(&cfg, &text, err, sizeof(err), 1, NULL) == -1,
		       "accepted %s", t_errors[i].text);
		CHECKF(strncmp(err, want, strlen(want)) == 0,
		       "%s: got \"%s\", want \"%s...\"", t_errors[i].text, err,
		       want);
	}
}

static void
test_unreadable_nul_and_overlong_files_are_errors(void)
{
	struct config cfg;
	struct config_text *text;
	char err[512], want[512], *big;
	struct config_arg arg = {options_find("config"), "/nonexistent/p.conf"};
	struct config_source src = {&arg, 1};

	CHECK(config_build(&cfg, &src, &text, err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "cannot read /nonexistent/p.conf: No such file or "
			   "directory") == 0,
	       "%s", err);

	t_write("max-clients 5\0\n", 15);
	CHECK(t_build(&cfg, &text, err, sizeof(err), 1, NULL) == -1);
	snprintf(want, sizeof(want), "%s: contains a NUL byte", t_path);
	CHECKF(strcmp(err, want) == 0, "%s", err);

	big = malloc(CONFIG_FILE_LINE_MAX + 64);
	REQUIRE(big);
	memcpy(big, "sendq 4096\n# ", 13);
	memset(big + 13, 'x', CONFIG_FILE_LINE_MAX);
	big[13 + CONFIG_FILE_LINE_MAX] = '\0';
	t_write(big, -1);
	free(big);
	CHECK(t_build(&cfg, &text, err, sizeof(err), 1, NULL) == -1);
	snprintf(want, sizeof(want), "%s:2: line over %d bytes", t_path,
		 CONFIG_FILE_LINE_MAX);
	CHECKF(strcmp(err, want) == 0, "%s", err);
}

static void
test_a_bad_value_is_an_error_even_where_a_flag_overrides_it(void)
{
	struct config cfg;
	struct config_text *text;
	char err[512], want[512];

	t_write("sendq 12\n", -1);
	CHECK(t_build(&cfg, &text, err, sizeof(err), 1, "sendq", "8192",
		      NULL) == -1);
	snprintf(want, sizeof(want), "%s:1: sendq: expected a number", t_path);
	CHECKF(strncmp(err, want, strlen(want)) == 0, "%s", err);
	CHECK(t_build(&cfg, &text, err, sizeof(err), 0, "sendq", "12", NULL) ==
	      -1);
	CHECKF(strncmp(err, "--sendq: expected a number", 26) == 0, "%s", err);
}

/* ---- reloads ------------------------------------------------------------ */

static void
test_reloadable_options_have_one_field_to_copy(void)
{
	/* A reload copies a field per option; an OPTION_CALL option has
	 * none, so it cannot be marked as reloading. */
	for (size_t i = 0; i < options_count; i++)
		CHECKF(!(options_table[i].kind == OPTION_CALL &&
			 (options_table[i].flags & OPTION_RELOADS)),
		       "%s", options_table[i].name);
	CHECK(options_find("flood-burst")->flags & OPTION_RELOADS);
	CHECK(options_find("max-clients")->flags & OPTION_RELOADS);
	CHECK(!(options_find("listen")->flags & OPTION_RELOADS));
	CHECK(!(options_find("max-line")->flags & OPTION_RELOADS));
}

static void
test_differences_are_seen_by_value_and_by_what_was_given(void)
{
	struct config a, b;
	struct config_text *ta, *tb;
	char err[512];

	t_write("listen 127.0.0.1:7001\nmax-clients 10\n", -1);
	REQUIRE(t_build(&a, &ta, err, sizeof(err), 1, NULL) == 0);
	t_write("listen 127.0.0.1:7002\nmax-clients 10\nsendq 8192\n", -1);
	REQUIRE(t_build(&b, &tb, err, sizeof(err), 1, NULL) == 0);
	CHECK(config_option_differs(&a, ta, &b, tb, options_find("listen")));
	CHECK(config_option_differs(&a, ta, &b, tb, options_find("sendq")));
	CHECK(!config_option_differs(&a, ta, &b, tb,
				     options_find("max-clients")));
	CHECK(!config_option_differs(&a, ta, &b, tb, options_find("workers")));
	config_option_copy(&a, &b, options_find("sendq"));
	CHECK(a.sendq_bytes == 8192);
	config_text_free(ta);
	config_text_free(tb);
}

/* sendq-hard is derived from sendq unless given, and never below it; a
 * reload that changes sendq alone changes the derived value too. */
static const struct {
	const char *text;
	size_t sendq, hard;
} t_sendq_rows[] = {
    {"", 1048576, 4194304},
    {"sendq 65536\n", 65536, 262144},
    {"sendq 65536\nsendq-hard 1000000\n", 65536, 1000000},
    {"sendq 65536\nsendq-hard 8192\n", 65536, 65536},
};

static void
test_sendq_hard_follows_sendq_unless_given(void)
{
	struct config cfg, first;
	struct config_text *text, *ftext = NULL;
	char err[512];

	for (size_t i = 0; i < sizeof(t_sendq_rows) / sizeof(t_sendq_rows[0]);
	     i++) {
		t_write(t_sendq_rows[i].text, -1);
		if (!CHECKF(t_build(&cfg, &text, err, sizeof(err), 1, NULL) ==
				0,
			    "%s: %s", t_sendq_rows[i].text, err))
			continue;
		CHECKF(cfg.sendq_bytes == t_sendq_rows[i].sendq &&
			   cfg.sendq_hard_bytes == t_sendq_rows[i].hard,
		       "%s: sendq %zu, sendq-hard %zu", t_sendq_rows[i].text,
		       cfg.sendq_bytes, cfg.sendq_hard_bytes);
		if (i == 0) {
			first = cfg;
			ftext = text;
			continue;
		}
		if (i == 1)
			CHECK(
			    config_option_differs(&first, ftext, &cfg, text,
						  options_find("sendq-hard")));
		config_text_free(text);
	}
	config_text_free(ftext);
}

/* ---- the default file --------------------------------------------------- */

static char *
t_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *s;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	s = malloc(*len + 1);
	if (s && fread(s, 1, *len, f) != *len) {
		free(s);
		s = NULL;
	}
	if (s)
		s[*len] = '\0';
	fclose(f);
	return s;
}

static void
test_the_installed_default_config_is_what_the_table_generates(void)
{
	char *gen = NULL, *file;
	size_t gen_len = 0, file_len;
	FILE *f = open_memstream(&gen, &gen_len);

	REQUIRE(f);
	config_file_write_defaults(f);
	fclose(f);
	file = t_slurp("etc/parleyd.conf", &file_len);
	CHECKF(file, "etc/parleyd.conf is missing");
	CHECKF(file && file_len == gen_len && memcmp(file, gen, gen_len) == 0,
	       "etc/parleyd.conf differs from the options table: run `make "
	       "conf`");
	free(file);
	free(gen);
}

static void
test_every_commented_default_in_the_config_is_the_default(void)
{
	char *gen = NULL, *out = NULL, *p;
	size_t gen_len = 0, out_len = 0;
	FILE *f = open_memstream(&gen, &gen_len);
	struct config cfg, def;
	struct config_text *text, *dtext;
	char err[512];
	int keys = 0;

	REQUIRE(f);
	config_file_write_defaults(f);
	fclose(f);
	/* Uncomment each "#key value" whose value is not a placeholder. */
	f = open_memstream(&out, &out_len);
	REQUIRE(f);
	for (p = strtok(gen, "\n"); p; p = strtok(NULL, "\n")) {
		char key[64], value[256];
		if (p[0] != '#' || p[1] == ' ' ||
		    sscanf(p + 1, "%63s %255[^\n]", key, value) != 2)
			continue;
		const struct option_def *d = options_find(key);
		if (!d || (d->meta && strcmp(value, d->meta) == 0))
			continue;
		fprintf(f, "%s %s\n", key, value);
		keys++;
	}
	fclose(f);
	t_write(out, -1);
	REQUIRE(t_build(&cfg, &text, err, sizeof(err), 1, NULL) == 0);
	REQUIRE(t_build(&def, &dtext, err, sizeof(err), 0, NULL) == 0);
	CHECK(keys >= 17);
	for (size_t i = 0; i < options_count; i++) {
		const struct option_def *d = &options_table[i];
		if (d->kind == OPTION_CALL || (d->flags & OPTION_COMMAND_LINE))
			continue;
		CHECKF(!config_option_differs(&cfg, text, &def, dtext, d),
		       "the commented value of %s is not its default", d->name);
	}
	CHECK(cfg.workers == def.workers);
	CHECK(cfg.outbox_bytes == def.outbox_bytes);
	CHECK(cfg.nlisten == def.nlisten);
	for (int i = 0; i < cfg.nlisten && i < def.nlisten; i++)
		CHECK(strcmp(cfg.listen[i].addr, def.listen[i].addr) == 0);
	config_text_free(text);
	config_text_free(dtext);
	free(gen);
	free(out);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		tl_filter = argv[1];
	if (!mkdtemp(t_dir))
		return 1;
	snprintf(t_path, sizeof(t_path), "%s/parleyd.conf", t_dir);
	RUN(test_every_key_of_the_table_applies_from_a_file);
	RUN(test_blank_lines_comments_and_crlf_are_ignored);
	RUN(test_command_line_flags_override_the_file);
	RUN(test_no_file_gives_the_defaults_and_the_default_listeners);
	RUN(test_a_certificate_brings_default_tls_and_https_listeners);
	RUN(test_a_certificate_brings_tls_listeners_for_plain_and_irc);
	RUN(test_each_error_names_the_file_and_the_line);
	RUN(test_unreadable_nul_and_overlong_files_are_errors);
	RUN(test_a_bad_value_is_an_error_even_where_a_flag_overrides_it);
	RUN(test_reloadable_options_have_one_field_to_copy);
	RUN(test_differences_are_seen_by_value_and_by_what_was_given);
	RUN(test_sendq_hard_follows_sendq_unless_given);
	RUN(test_the_installed_default_config_is_what_the_table_generates);
	RUN(test_every_commented_default_in_the_config_is_the_default);
	unlink(t_path);
	rmdir(t_dir);
	return tl_summary("unit_config_file");
}
