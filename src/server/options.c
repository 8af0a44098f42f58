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
	cfg->listen_given = 1;
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

	if (options_number(value, 1 << 18, 1LL << 30, &v) < 0 ||
	    (v & (v - 1))) {
		snprintf(why, n,
			 "expected a power of two from 262144 to 1073741824");
		return -1;
	}
	cfg->outbox_bytes = (size_t)v;
	return 0;
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
    {"workers", "N|auto", OPTION_CALL, 0, 0, 0, options_workers, 0,
     "N worker processes (auto: one per CPU);\n"
     "default 0: one process per client"},
    {"max-clients", "N", OPTION_INT, FIELD(max_clients), 1, 1 << 20, NULL, 0,
     "clients in all (default 1024)"},
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
     "send queue per client before it is\n"
     "disconnected (default 1048576)"},
    {"history", "N", OPTION_INT, FIELD(history), 0, 1000, NULL, 0,
     "messages replayed on join (default 20)"},
    {"flood-burst", "N", OPTION_INT, FIELD(flood_burst), 1, 100000, NULL,
     OPTION_RELOADS, "lines a client may send at once (default 20)"},
    {"flood-rate", "N", OPTION_DOUBLE, FIELD(flood_rate), 0, 1000000, NULL,
     OPTION_RELOADS,
     "lines per second after that, 0 = off\n"
     "(default 10)"},
    {"max-rooms", "N", OPTION_INT, FIELD(max_rooms), 1, 1 << 20, NULL, 0,
     "rooms on the server (default 1000)"},
    {"max-rooms-per-client", "N", OPTION_INT, FIELD(max_rooms_per_client), 1,
     CONFIG_ROOMS_PER_CLIENT_MAX, NULL, OPTION_RELOADS,
     "rooms one client may join (default 16, max 32)"},
    {"join-notices", "N", OPTION_INT, FIELD(join_notices), 0, 1 << 24, NULL,
     OPTION_RELOADS,
     "announce joins and parts in rooms of up to N\n"
     "members (default 200)"},
    {"outbox-size", "BYTES", OPTION_CALL, 0, 0, 0, options_outbox, 0,
     "shared-memory ring per session (power of two;\n"
     "default 1 MiB per client, 32 MiB per worker)"},
    {"shutdown-timeout", "MS", OPTION_INT, FIELD(shutdown_ms), 0, 600000, NULL,
     OPTION_RELOADS, "grace before SIGKILL at shutdown (default 3000)"},
    {"wake-pace", "US", OPTION_INT, FIELD(wake_pace_us), 0, 1000000, NULL,
     OPTION_RELOADS,
     "under load, wake each session at most once per\n"
     "US microseconds times the session processes\n"
     "(default 25: 25 ms for 1000; 0 = at once)"},
    {"verbose", NULL, OPTION_FLAG, FIELD(verbose), 0, 1, NULL, OPTION_RELOADS,
     "also log requests, refusals, input pauses and\n"
     "wake-ups (debug level)"},
    {"irc-listen", "HOST:PORT", OPTION_CALL, 0, 0, 0, options_irc_listen,
     OPTION_REPEATS,
     "serve IRC here (repeatable; default 127.0.0.1:6667\n"
     "and [::1]:6667; none: no IRC)"},
    {"server-name", "NAME", OPTION_CALL, 0, 0, 0, options_server_name, 0,
     "the IRC server name (default: the host name)"},
    {"network", "NAME", OPTION_CALL, 0, 0, 0, options_network, 0,
     "the IRC network name (default parley)"},
    {"motd", "FILE", OPTION_STRING, FIELD(motd_path), 0, 0, NULL, 0,
     "IRC message of the day, read at start"},
    {"ping-timeout", "S", OPTION_INT, FIELD(ping_timeout_s), 1, 86400, NULL, 0,
     "ping IRC clients silent for S seconds; close\n"
     "them after S more (default 120)"},
    {"room-modes", "MODES", OPTION_CALL, 0, 0, 0, options_room_modes, 0,
     "modes a new room starts with, of i m n s t\n"
     "(default +nt)"},
    {"oper", "NAME HASH", OPTION_CALL, 0, 0, 0, options_oper, OPTION_REPEATS,
     "a server operator and its password's hash\n"
     "(repeatable; --hash-password makes one)"},
    {"hash-password", NULL, OPTION_FLAG, FIELD(hash_password), 0, 1, NULL, 0,
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
		*(int *)(void *)field = 1;
		return 0;
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
	}
	if (!cfg->irc_listen_given) {
		(void)config_add_listener(cfg, "127.0.0.1:6667", PROTO_IRC,
					  TRANSPORT_TCP, 0);
		(void)config_add_listener(cfg, "[::1]:6667", PROTO_IRC,
					  TRANSPORT_TCP, 1);
	}
	if (cfg->outbox_bytes == 0)
		cfg->outbox_bytes = cfg->workers > 0 ? 32u << 20 : 1u << 20;
	if (!cfg->server_name)
		cfg->server_name = options_host_name();
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
		/* First line beside the flag, the rest under it. */
		for (int line = 0; *h; line++) {
			const char *nl = strchr(h, '\n');
			int len = nl ? (int)(nl - h) : (int)strlen(h);
			fprintf(f, "  %-26s%.*s\n", line ? "" : head, len, h);
			h += len + (nl ? 1 : 0);
		}
	}
	fprintf(f, "  --help, --version\n");
}
