/*
 * options: the table of parleyd's settings and the code that applies one
 * to a struct config. Adding a setting is one row here (and its field in
 * config.h, its default in config.c, its line in the README).
 */
#include "server/options.h"

#include "server/modes.h"
#include "server/proto.h"
#include "server/transport.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIELD(f) offsetof(struct config, f)

static int
options_listen(struct config *cfg, const char *value, char *why, size_t n)
{
	if (config_add_listener(cfg, value, PROTO_PLAIN, TRANSPORT_TCP, 0) <
	    0) {
		snprintf(why, n, "at most %d listeners", CONFIG_LISTEN_MAX);
		return -1;
	}
	cfg->listen[cfg->nlisten - 1].flag = "listen";
	cfg->listen_given = 1;
	return 0;
}

/* --listen-tls: the plain protocol over TLS; "none" for no TLS listener
 * at all (not even the default one a certificate brings). */
static int
options_listen_tls(struct config *cfg, const char *value, char *why, size_t n)
{
	cfg->listen_tls_given = 1;
	if (strcmp(value, "none") == 0)
		return 0;
	if (config_add_listener(cfg, value, PROTO_PLAIN, TRANSPORT_TLS, 0) <
	    0) {
		snprintf(why, n, "at most %d listeners", CONFIG_LISTEN_MAX);
		return -1;
	}
	cfg->listen[cfg->nlisten - 1].flag = "listen-tls";
	return 0;
}

static int
options_http_listen(struct config *cfg, const char *value, char *why, size_t n)
{
	cfg->http_given = 1;
	if (strcmp(value, "none") == 0)
		return 0;
	if (config_add_listener(cfg, value, PROTO_PLAIN, TRANSPORT_WS, 0) < 0) {
		snprintf(why, n, "at most %d listeners", CONFIG_LISTEN_MAX);
		return -1;
	}
	cfg->listen[cfg->nlisten - 1].flag = "http-listen";
	return 0;
}

/* --https-listen: the web client over TLS; "none" for none at all (not
 * even the default ones a certificate brings). */
static int
options_https_listen(struct config *cfg, const char *value, char *why, size_t n)
{
	cfg->https_given = 1;
	if (strcmp(value, "none") == 0)
		return 0;
	if (config_add_listener(cfg, value, PROTO_PLAIN, TRANSPORT_WSS, 0) <
	    0) {
		snprintf(why, n, "at most %d listeners", CONFIG_LISTEN_MAX);
		return -1;
	}
	cfg->listen[cfg->nlisten - 1].flag = "https-listen";
	return 0;
}

static int
options_http_origin(struct config *cfg, const char *value, char *why, size_t n)
{
	size_t len = strlen(value);

	if (cfg->nhttp_origins >= CONFIG_ORIGIN_MAX) {
		snprintf(why, n, "at most %d origins", CONFIG_ORIGIN_MAX);
		return -1;
	}
	if (strcmp(value, "*") != 0 && ((strncmp(value, "http://", 7) != 0 &&
					 strncmp(value, "https://", 8) != 0) ||
					len < 9 || value[len - 1] == '/')) {
		snprintf(why, n,
			 "expected SCHEME://HOST[:PORT] (no path) or *");
		return -1;
	}
	cfg->http_origins[cfg->nhttp_origins++] = value;
	return 0;
}

static int
options_irc_listen(struct config *cfg, const char *value, char *why, size_t n)
{
	cfg->irc_listen_given = 1;
	if (strcmp(value, "none") == 0)
		return 0;
	if (config_add_listener(cfg, value, PROTO_IRC, TRANSPORT_TCP, 0) < 0) {
		snprintf(why, n, "at most %d listeners", CONFIG_LISTEN_MAX);
		return -1;
	}
	cfg->listen[cfg->nlisten - 1].flag = "irc-listen";
	return 0;
}

/* --irc-listen-tls: IRC over TLS, as --listen-tls is for the plain
 * protocol; "none" for no IRC TLS listener at all. */
static int
options_irc_listen_tls(struct config *cfg, const char *value, char *why,
		       size_t n)
{
	cfg->irc_listen_tls_given = 1;
	if (strcmp(value, "none") == 0)
		return 0;
	if (config_add_listener(cfg, value, PROTO_IRC, TRANSPORT_TLS, 0) < 0) {
		snprintf(why, n, "at most %d listeners", CONFIG_LISTEN_MAX);
		return -1;
	}
	cfg->listen[cfg->nlisten - 1].flag = "irc-listen-tls";
	return 0;
}

/* A server or network name: what IRC puts in prefixes and ISUPPORT. */
static int
options_name_ok(const char *value, char *why, size_t n)
{
	size_t len = strlen(value);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (!isalnum(c) && c != '.' && c != '-' && c != '_') {
			snprintf(why, n, "expected letters, digits, . - or _");
			return -1;
		}
	}
	if (len == 0 || len > CONFIG_NAME_MAX || value[0] == '.' ||
	    value[0] == '-') {
		snprintf(why, n,
			 "expected 1-%d characters, not starting with "
			 ". or -",
			 CONFIG_NAME_MAX);
		return -1;
	}
	return 0;
}

static int
options_server_name(struct config *cfg, const char *value, char *why, size_t n)
{
	if (options_name_ok(value, why, n) < 0)
		return -1;
	cfg->server_name = value;
	return 0;
}

static int
options_network(struct config *cfg, const char *value, char *why, size_t n)
{
	if (options_name_ok(value, why, n) < 0)
		return -1;
	cfg->network = value;
	return 0;
}

static int
options_number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
options_workers(struct config *cfg, const char *value, char *why, size_t n)
{
	long long v;

	if (strcmp(value, "auto") == 0) {
		cfg->workers = (int)sysconf(_SC_NPROCESSORS_ONLN);
		return 0;
	}
	if (options_number(value, 0, 256, &v) < 0) {
		snprintf(why, n, "expected auto or a number from 0 to 256");
		return -1;
	}
	cfg->workers = (int)v;
	return 0;
}

static int
options_outbox(struct config *cfg, const char *value, char *why, size_t n)
{
	long long v;

	if (strcmp(value, "auto") == 0) {
		cfg->outbox_bytes = 0; /* by process model: options_finish */
		return 0;
	}
	if (options_number(value, 1 << 18, 1LL << 30, &v) < 0 ||
	    (v & (v - 1))) {
		snprintf(why, n,
			 "expected auto or a power of two from 262144 to "
			 "1073741824");
		return -1;
	}
	cfg->outbox_bytes = (size_t)v;
	return 0;
}

/* A flag: no value (the command line) sets it; a config file may say
 * yes or no. */
static int
options_flag(const char *value, int *field, char *why, size_t n)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	if (!value) {
		*field = 1;
		return 0;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(value, yes[i]) == 0) {
			*field = 1;
			return 0;
		}
		if (strcmp(value, no[i]) == 0) {
			*field = 0;
			return 0;
		}
	}
	snprintf(why, n, "expected yes or no");
	return -1;
}

static int
options_room_modes(struct config *cfg, const char *value, char *why, size_t n)
{
	unsigned flags;

	if (modes_simple(value, &flags) < 0) {
		snprintf(why, n, "expected modes of i m n s t, such as +nt");
		return -1;
	}
	cfg->room_modes = value;
	return 0;
}

/* "NAME HASH" (or NAME:HASH, easier on a command line): a server
 * operator and its password's crypt(3) hash, which has neither. */
static int
options_oper(struct config *cfg, const char *value, char *why, size_t n)
{
	const char *sp = value + strcspn(value, " :");
	size_t len = (size_t)(sp - value);
	struct config_oper *o;

	if (!*sp || len == 0 || len > CONFIG_OPER_NAME_MAX || sp[1] == '\0' ||
	    strpbrk(sp + 1, " :")) {
		snprintf(why, n,
			 "expected NAME HASH (parleyd --hash-password "
			 "prints a hash)");
		return -1;
	}
	if (cfg->nopers >= CONFIG_OPERS_MAX) {
		snprintf(why, n, "at most %d operators", CONFIG_OPERS_MAX);
		return -1;
	}
	o = &cfg->opers[cfg->nopers++];
	memcpy(o->name, value, len);
	o->name[len] = '\0';
	o->hash = sp + 1;
	return 0;
}

const struct option_def options_table[] = {
    {"listen", "HOST:PORT", OPTION_CALL, 0, 0, 0, options_listen,
     OPTION_REPEATS,
     "listen here (repeatable; [::1]:PORT for IPv6;\n"
     "port 0 picks a free port; default 127.0.0.1:5050\n"
     "and [::1]:5050)"},
    {"listen-tls", "HOST:PORT", OPTION_CALL, 0, 0, 0, options_listen_tls,
     OPTION_REPEATS,
     "listen here with TLS (repeatable; none: not at\n"
     "all; default with --tls-cert: 127.0.0.1:5051\n"
     "and [::1]:5051)"},
    {"tls-cert", "FILE", OPTION_STRING, FIELD(tls_cert), 0, 0, NULL,
     OPTION_RELOADS,
     "TLS certificate, then its chain (PEM); SIGHUP\n"
     "reloads it"},
    {"tls-key", "FILE", OPTION_STRING, FIELD(tls_key), 0, 0, NULL,
     OPTION_RELOADS,
     "its private key (PEM, unencrypted; default:\n"
     "in the --tls-cert file); SIGHUP reloads it"},
    {"http-listen", "HOST:PORT", OPTION_CALL, 0, 0, 0, options_http_listen,
     OPTION_REPEATS,
     "serve the web client and WebSocket here\n"
     "(repeatable; default 127.0.0.1:5080 and\n"
     "[::1]:5080; none: no HTTP)"},
    {"https-listen", "HOST:PORT", OPTION_CALL, 0, 0, 0, options_https_listen,
     OPTION_REPEATS,
     "serve the web client and WebSocket over TLS\n"
     "here (repeatable; none: not at all; default\n"
     "with --tls-cert: 127.0.0.1:5443 and [::1]:5443)"},
    {"http-origin", "ORIGIN", OPTION_CALL, 0, 0, 0, options_http_origin,
     OPTION_REPEATS,
     "also accept WebSocket upgrades from pages of\n"
     "ORIGIN (http://host:port; * for any); the\n"
     "server's own origin is always accepted"},
    {"handshake-timeout", "MS", OPTION_INT, FIELD(handshake_ms), 100, 600000,
     NULL, 0,
     "close a connection whose handshake (TLS, HTTP,\n"
     "WebSocket: all of them, from the connect) is not\n"
     "done by then (default 10000)"},
    {"user", "NAME", OPTION_STRING, FIELD(user), 0, 0, NULL, 0,
     "started as root: bind the ports, then run as\n"
     "this user and its groups"},
    {"workers", "N|auto", OPTION_CALL, 0, 0, 0, options_workers, 0,
     "N worker processes (auto: one per CPU);\n"
     "default 0: one process per client"},
    {"max-clients", "N", OPTION_INT, FIELD(max_clients), 1, 1 << 20, NULL,
     OPTION_RELOADS,
     "clients in all (default 1024; a reload may\n"
     "raise it only up to its value at start)"},
    {"max-per-address", "N", OPTION_INT, FIELD(max_per_address), 0, 1 << 20,
     NULL, OPTION_RELOADS,
     "clients per remote address, 0 = no limit\n"
     "(default 16; loopback exempt)"},
    {"limit-loopback", NULL, OPTION_FLAG, FIELD(limit_loopback), 0, 1, NULL,
     OPTION_RELOADS, "apply --max-per-address to loopback too"},
    {"max-line", "BYTES", OPTION_SIZE, FIELD(max_line), 16, 8192, NULL, 0,
     "longest input line (default 1024)"},
    {"sendq", "BYTES", OPTION_SIZE, FIELD(sendq_bytes), 4096, 1LL << 30, NULL,
     OPTION_RELOADS,
     "soft limit of a client's send queue: over it\n"
     "for --sendq-seconds, it is disconnected\n"
     "(default 1048576)"},
    {"sendq-seconds", "S", OPTION_INT, FIELD(sendq_seconds), 0, 86400, NULL,
     OPTION_RELOADS,
     "how long a send queue may stay over --sendq\n"
     "(default 10; 0: not at all)"},
    {"sendq-hard", "BYTES", OPTION_SIZE, FIELD(sendq_hard_bytes), 4096,
     1LL << 32, NULL, OPTION_RELOADS,
     "a send queue over this is disconnected at once\n"
     "(default 4 x --sendq; at least --sendq)"},
    {"history", "N", OPTION_INT, FIELD(history), 0, 1000, NULL, OPTION_RELOADS,
     "messages replayed on join (default 20)"},
    {"nick-grace", "S", OPTION_INT, FIELD(nick_grace_s), 0, 3600, NULL,
     OPTION_RELOADS,
     "an IRC client registering with a registered\n"
     "nickname keeps it S seconds to log in, then\n"
     "becomes a guest (0: refused with 433; default 30)"},
    {"flood-burst", "N", OPTION_INT, FIELD(flood_burst), 1, 100000, NULL,
     OPTION_RELOADS, "lines a client may send at once (default 20)"},
    {"flood-rate", "N", OPTION_DOUBLE, FIELD(flood_rate), 0, 1000000, NULL,
     OPTION_RELOADS,
     "lines per second after that, 0 = off\n"
     "(default 10)"},
    {"max-rooms", "N", OPTION_INT, FIELD(max_rooms), 1, 1 << 20, NULL,
     OPTION_RELOADS,
     "rooms on the server (default 1000; a reload\n"
     "may raise it only up to its value at start)"},
    {"max-rooms-per-client", "N", OPTION_INT, FIELD(max_rooms_per_client), 1,
     CONFIG_ROOMS_PER_CLIENT_MAX, NULL, OPTION_RELOADS,
     "rooms one client may join (default 16, max 32)"},
    {"join-notices", "N", OPTION_INT, FIELD(join_notices), 0, 1 << 24, NULL,
     OPTION_RELOADS,
     "announce joins and parts in rooms of up to N\n"
     "members (default 200)"},
    {"outbox-size", "BYTES|auto", OPTION_CALL, 0, 0, 0, options_outbox, 0,
     "shared-memory ring per session (power of two;\n"
     "default auto: 1 MiB per client, 32 MiB per\n"
     "worker)"},
    {"stall-timeout", "MS", OPTION_INT, FIELD(stall_timeout_ms), 100, 3600000,
     NULL, OPTION_RELOADS,
     "writers wait at most this long for a reader\n"
     "that is behind and does not advance; then it\n"
     "is disconnected, messages lost (default 2000)"},
    {"shutdown-timeout", "MS", OPTION_INT, FIELD(shutdown_ms), 0, 600000, NULL,
     OPTION_RELOADS, "grace before SIGKILL at shutdown (default 3000)"},
    {"wake-pace", "US", OPTION_INT, FIELD(wake_pace_us), 0, 1000000, NULL,
     OPTION_RELOADS,
     "under load, wake each session at most once per\n"
     "US microseconds times the session processes\n"
     "(default 50: 50 ms for 1000; 0 = at once)"},
    {"verbose", NULL, OPTION_FLAG, FIELD(verbose), 0, 1, NULL, OPTION_RELOADS,
     "also log requests, refusals, input pauses and\n"
     "wake-ups (debug level)"},
    {"config", "FILE", OPTION_STRING, FIELD(config_path), 0, 0, NULL,
     OPTION_COMMAND_LINE,
     "read settings from FILE first (flags given\n"
     "here override it); SIGHUP reads it again"},
    {"metrics-listen", "HOST:PORT", OPTION_STRING, FIELD(metrics_listen), 0, 0,
     NULL, 0,
     "serve Prometheus metrics at GET /metrics over\n"
     "HTTP here (default none: off)"},
    {"db", "FILE|none", OPTION_STRING, FIELD(db_path), 0, 0, NULL, 0,
     "the store's SQLite database: history, topics\n"
     "and accounts (default parley.db in the working\n"
     "directory; none: keep nothing, history in\n"
     "memory only)"},
    {"store-private", NULL, OPTION_FLAG, FIELD(store_private), 0, 1, NULL,
     OPTION_RELOADS, "archive private messages too"},
    {"history-days", "N", OPTION_INT, FIELD(history_days), 0, 100000, NULL,
     OPTION_RELOADS,
     "delete stored messages older than N days\n"
     "(default 30; 0 = keep them)"},
    {"db-batch", "ROWS", OPTION_INT, FIELD(db_batch), 1, 1000000, NULL,
     OPTION_RELOADS,
     "the store commits at most ROWS messages per\n"
     "transaction (default 1000)"},
    {"db-delay", "MS", OPTION_INT, FIELD(db_delay_ms), 0, 60000, NULL,
     OPTION_RELOADS,
     "and at most MS ms after a message arrives\n"
     "(default 100; at most half --stall-timeout)"},
    {"irc-listen", "HOST:PORT", OPTION_CALL, 0, 0, 0, options_irc_listen,
     OPTION_REPEATS,
     "serve IRC here (repeatable; default 127.0.0.1:6667\n"
     "and [::1]:6667; none: no IRC)"},
    {"irc-listen-tls", "HOST:PORT", OPTION_CALL, 0, 0, 0,
     options_irc_listen_tls, OPTION_REPEATS,
     "serve IRC over TLS here (repeatable; none: not\n"
     "at all; default with --tls-cert: 127.0.0.1:6697\n"
     "and [::1]:6697)"},
    {"server-name", "NAME", OPTION_CALL, 0, 0, 0, options_server_name, 0,
     "the IRC server name (default: the host name)"},
    {"network", "NAME", OPTION_CALL, 0, 0, 0, options_network, 0,
     "the IRC network name (default parley)"},
    {"motd", "FILE", OPTION_STRING, FIELD(motd_path), 0, 0, NULL,
     OPTION_RELOADS,
     "IRC message of the day, read at start and\n"
     "again at each SIGHUP"},
    {"ping-timeout", "S", OPTION_INT, FIELD(ping_timeout_s), 1, 86400, NULL,
     OPTION_RELOADS,
     "ping IRC clients silent for S seconds; close\n"
     "them after S more (default 120)"},
    {"room-modes", "MODES", OPTION_CALL, 0, 0, 0, options_room_modes, 0,
     "modes a new room starts with, of i m n s t\n"
     "(default +nt)"},
    {"oper", "NAME HASH", OPTION_CALL, 0, 0, 0, options_oper, OPTION_REPEATS,
     "a server operator and its password's hash\n"
     "(repeatable; --hash-password makes one)"},
    {"hash-password", NULL, OPTION_FLAG, FIELD(hash_password), 0, 1, NULL,
     OPTION_COMMAND_LINE,
     "read a password on stdin, print its hash for\n"
     "oper, and exit"},
};

const size_t options_count = sizeof(options_table) / sizeof(options_table[0]);

const struct option_def *
options_find(const char *name)
{
	for (size_t i = 0; i < options_count; i++)
		if (strcmp(options_table[i].name, name) == 0)
			return &options_table[i];
	return NULL;
}

int
options_set(struct config *cfg, const struct option_def *d, const char *value,
	    char *why, size_t n)
{
	char *field = (char *)cfg + d->offset;
	long long v;

	switch (d->kind) {
	case OPTION_FLAG:
		return options_flag(value, (int *)(void *)field, why, n);
	case OPTION_STRING:
		*(const char **)(void *)field = value;
		return 0;
	case OPTION_CALL:
		return d->call(cfg, value, why, n);
	default:
		break;
	}
	if (options_number(value, d->min, d->max, &v) < 0) {
		snprintf(why, n, "expected a number from %lld to %lld", d->min,
			 d->max);
		return -1;
	}
	if (d->kind == OPTION_INT)
		*(int *)(void *)field = (int)v;
	else if (d->kind == OPTION_SIZE)
		*(size_t *)(void *)field = (size_t)v;
	else
		*(double *)(void *)field = (double)v;
	return 0;
}

/* The host name, as a server name ("localhost" if it has none or no
 * usable one). */
static const char *
options_host_name(void)
{
	static char host[CONFIG_NAME_MAX + 1];
	char why[64];

	if (gethostname(host, sizeof(host)) < 0 ||
	    options_name_ok(host, why, sizeof(why)) < 0)
		snprintf(host, sizeof(host), "localhost");
	return host;
}

void
options_finish(struct config *cfg)
{
	if (!cfg->listen_given) {
		(void)config_add_listener(cfg, "127.0.0.1:5050", PROTO_PLAIN,
					  TRANSPORT_TCP, 0);
		(void)config_add_listener(cfg, "[::1]:5050", PROTO_PLAIN,
					  TRANSPORT_TCP, 1);
		cfg->listen[cfg->nlisten - 2].flag = "listen";
		cfg->listen[cfg->nlisten - 1].flag = "listen";
	}
	if (!cfg->http_given &&
	    config_add_listener(cfg, "127.0.0.1:5080", PROTO_PLAIN,
				TRANSPORT_WS, 0) == 0) {
		cfg->listen[cfg->nlisten - 1].flag = "http-listen";
		if (config_add_listener(cfg, "[::1]:5080", PROTO_PLAIN,
					TRANSPORT_WS, 1) == 0)
			cfg->listen[cfg->nlisten - 1].flag = "http-listen";
	}
	if (cfg->tls_cert && !cfg->tls_key)
		cfg->tls_key = cfg->tls_cert;
	if (cfg->tls_cert && !cfg->listen_tls_given &&
	    config_add_listener(cfg, "127.0.0.1:5051", PROTO_PLAIN,
				TRANSPORT_TLS, 0) == 0) {
		cfg->listen[cfg->nlisten - 1].flag = "listen-tls";
		if (config_add_listener(cfg, "[::1]:5051", PROTO_PLAIN,
					TRANSPORT_TLS, 1) == 0)
			cfg->listen[cfg->nlisten - 1].flag = "listen-tls";
	}
	if (cfg->tls_cert && !cfg->https_given &&
	    config_add_listener(cfg, "127.0.0.1:5443", PROTO_PLAIN,
				TRANSPORT_WSS, 0) == 0) {
		cfg->listen[cfg->nlisten - 1].flag = "https-listen";
		if (config_add_listener(cfg, "[::1]:5443", PROTO_PLAIN,
					TRANSPORT_WSS, 1) == 0)
			cfg->listen[cfg->nlisten - 1].flag = "https-listen";
	}
	if (!cfg->irc_listen_given &&
	    config_add_listener(cfg, "127.0.0.1:6667", PROTO_IRC, TRANSPORT_TCP,
				0) == 0) {
		cfg->listen[cfg->nlisten - 1].flag = "irc-listen";
		if (config_add_listener(cfg, "[::1]:6667", PROTO_IRC,
					TRANSPORT_TCP, 1) == 0)
			cfg->listen[cfg->nlisten - 1].flag = "irc-listen";
	}
	if (cfg->tls_cert && !cfg->irc_listen_tls_given &&
	    config_add_listener(cfg, "127.0.0.1:6697", PROTO_IRC, TRANSPORT_TLS,
				0) == 0) {
		cfg->listen[cfg->nlisten - 1].flag = "irc-listen-tls";
		if (config_add_listener(cfg, "[::1]:6697", PROTO_IRC,
					TRANSPORT_TLS, 1) == 0)
			cfg->listen[cfg->nlisten - 1].flag = "irc-listen-tls";
	}
	if (cfg->outbox_bytes == 0)
		cfg->outbox_bytes = cfg->workers > 0 ? 32u << 20 : 1u << 20;
	if (!cfg->server_name)
		cfg->server_name = options_host_name();
	if (cfg->client_slots == 0)
		cfg->client_slots = cfg->max_clients;
	if (cfg->sendq_hard_bytes == 0)
		cfg->sendq_hard_bytes = 4 * cfg->sendq_bytes;
	if (cfg->sendq_hard_bytes < cfg->sendq_bytes)
		cfg->sendq_hard_bytes = cfg->sendq_bytes;
}

int
options_check(const struct config *cfg, char *why, size_t n)
{
	for (int i = 0; i < cfg->nlisten; i++)
		if ((cfg->listen[i].transport == TRANSPORT_TLS ||
		     cfg->listen[i].transport == TRANSPORT_WSS) &&
		    !cfg->tls_cert) {
			snprintf(why, n,
				 "TLS listener %s needs --tls-cert FILE",
				 cfg->listen[i].addr);
			return -1;
		}
	if (cfg->tls_key && !cfg->tls_cert) {
		snprintf(why, n, "--tls-key needs --tls-cert FILE");
		return -1;
	}
	return 0;
}

void
options_usage(FILE *f)
{
	fprintf(f, "usage: parleyd [options]\n\n");
	for (size_t i = 0; i < options_count; i++) {
		const struct option_def *d = &options_table[i];
		const char *h = d->help;
		char head[64];
		snprintf(head, sizeof(head), "--%s%s%s", d->name,
			 d->meta ? " " : "", d->meta ? d->meta : "");
		/* First line beside the flag, the rest under it; a flag too
		 * long for its column gets a line of its own. */
		if (strlen(head) >= 26)
			fprintf(f, "  %s\n", head);
		for (int line = strlen(head) >= 26; *h; line++) {
			const char *nl = strchr(h, '\n');
			int len = nl ? (int)(nl - h) : (int)strlen(h);
			fprintf(f, "  %-26s%.*s\n", line ? "" : head, len, h);
			h += len + (nl ? 1 : 0);
		}
	}
	fprintf(f, "  --help, --version\n");
}
