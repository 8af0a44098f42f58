/*
 * parleyd: the chat server's entry point. Parses options into the config,
 * sets up signals and the fd limit, and hands over to the supervisor.
 */
#include "lib/log.h"
#include "server/config.h"
#include "server/supervisor.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void
parleyd_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: parleyd [options]\n"
	    "\n"
	    "  --listen HOST:PORT        listen here (repeatable; [::1]:PORT "
	    "for IPv6;\n"
	    "                            port 0 picks a free port; default "
	    "127.0.0.1:5050\n"
	    "                            and [::1]:5050)\n"
	    "  --workers N|auto          N worker processes (auto: one per "
	    "CPU);\n"
	    "                            default 0: one process per client\n"
	    "  --max-clients N           clients in all (default 1024)\n"
	    "  --max-per-address N       clients per remote address, 0 = no "
	    "limit\n"
	    "                            (default 16; loopback exempt)\n"
	    "  --limit-loopback          apply --max-per-address to "
	    "loopback too\n"
	    "  --max-line BYTES          longest input line (default 1024)\n"
	    "  --sendq BYTES             send queue per client before it is\n"
	    "                            disconnected (default 1048576)\n"
	    "  --history N               messages replayed on join "
	    "(default 20)\n"
	    "  --flood-burst N           lines a client may send at once "
	    "(default 20)\n"
	    "  --flood-rate N            lines per second after that, 0 = "
	    "off\n"
	    "                            (default 10)\n"
	    "  --max-rooms N             rooms on the server (default 1000)\n"
	    "  --max-rooms-per-client N  rooms one client may join "
	    "(default 16, max 32)\n"
	    "  --join-notices N          announce joins and parts in rooms "
	    "of up to N\n"
	    "                            members (default 200)\n"
	    "  --outbox-size BYTES       shared-memory ring per session "
	    "(power of two;\n"
	    "                            default 1 MiB per client, 32 MiB "
	    "per worker)\n"
	    "  --shutdown-timeout MS     grace before SIGKILL at shutdown "
	    "(default 3000)\n"
	    "  --wake-pace US            under load, wake each session at "
	    "most once per\n"
	    "                            US microseconds times the session "
	    "processes\n"
	    "                            (default 25: 25 ms for 1000; 0 = "
	    "at once)\n"
	    "  --verbose                 also log requests, refusals, input "
	    "pauses and\n"
	    "                            wake-ups (debug level)\n"
	    "  --help, --version\n");
}

static long
parleyd_number(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
			"parleyd: %s: expected a number from %ld to %ld, "
			"got '%s'\n",
			opt, min, max, s);
		exit(2);
	}
	return v;
}

enum {
	OPT_LISTEN = 256,
	OPT_WORKERS,
	OPT_MAX_CLIENTS,
	OPT_MAX_PER_ADDRESS,
	OPT_LIMIT_LOOPBACK,
	OPT_MAX_LINE,
	OPT_SENDQ,
	OPT_HISTORY,
	OPT_FLOOD_BURST,
	OPT_FLOOD_RATE,
	OPT_MAX_ROOMS,
	OPT_MAX_ROOMS_PER_CLIENT,
	OPT_JOIN_NOTICES,
	OPT_OUTBOX_SIZE,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_WAKE_PACE,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option parleyd_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
    {"max-per-address", required_argument, NULL, OPT_MAX_PER_ADDRESS},
    {"limit-loopback", no_argument, NULL, OPT_LIMIT_LOOPBACK},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"sendq", required_argument, NULL, OPT_SENDQ},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"flood-burst", required_argument, NULL, OPT_FLOOD_BURST},
    {"flood-rate", required_argument, NULL, OPT_FLOOD_RATE},
    {"max-rooms", required_argument, NULL, OPT_MAX_ROOMS},
    {"max-rooms-per-client", required_argument, NULL, OPT_MAX_ROOMS_PER_CLIENT},
    {"join-notices", required_argument, NULL, OPT_JOIN_NOTICES},
    {"outbox-size", required_argument, NULL, OPT_OUTBOX_SIZE},
    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"wake-pace", required_argument, NULL, OPT_WAKE_PACE},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* getopt_long's own messages would start with argv[0], a path: these
 * start "parleyd: " like every other. opt is '?' or ':'. */
static void __attribute__((noreturn)) parleyd_bad_option(int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		fprintf(stderr, "parleyd: option '%s' needs an argument\n",
			arg);
	else if (optopt > 0 && optopt < 256)
		fprintf(stderr, "parleyd: unknown option '-%c'\n", optopt);
	else
		fprintf(stderr, "parleyd: unknown option '%.*s'\n",
			(int)strcspn(arg, "="), arg);
	parleyd_usage(stderr);
	exit(2);
}

static void
parleyd_parse(int argc, char **argv, struct config *cfg)
{
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", parleyd_options, NULL)) !=
	       -1) {
		switch (opt) {
		case OPT_LISTEN:
			if (cfg->nlisten == CONFIG_LISTEN_MAX) {
				fprintf(stderr,
					"parleyd: at most %d --listen\n",
					CONFIG_LISTEN_MAX);
				exit(2);
			}
			cfg->listen[cfg->nlisten++] = optarg;
			break;
		case OPT_WORKERS:
			if (strcmp(optarg, "auto") == 0)
				cfg->workers =
				    (int)sysconf(_SC_NPROCESSORS_ONLN);
			else
				cfg->workers = (int)parleyd_number(
				    "--workers", optarg, 0, 256);
			break;
		case OPT_MAX_CLIENTS:
			cfg->max_clients = (int)parleyd_number(
			    "--max-clients", optarg, 1, 1 << 20);
			break;
		case OPT_MAX_PER_ADDRESS:
			cfg->max_per_address = (int)parleyd_number(
			    "--max-per-address", optarg, 0, 1 << 20);
			break;
		case OPT_LIMIT_LOOPBACK:
			cfg->limit_loopback = 1;
			break;
		case OPT_MAX_LINE:
			cfg->max_line = (size_t)parleyd_number(
			    "--max-line", optarg, 16, 8192);
			break;
		case OPT_SENDQ:
			cfg->sendq_bytes = (size_t)parleyd_number(
			    "--sendq", optarg, 4096, 1L << 30);
			break;
		case OPT_HISTORY:
			cfg->history =
			    (int)parleyd_number("--history", optarg, 0, 1000);
			break;
		case OPT_FLOOD_BURST:
			cfg->flood_burst = (int)parleyd_number(
			    "--flood-burst", optarg, 1, 100000);
			break;
		case OPT_FLOOD_RATE:
			cfg->flood_rate = (double)parleyd_number(
			    "--flood-rate", optarg, 0, 1000000);
			break;
		case OPT_MAX_ROOMS:
			cfg->max_rooms = (int)parleyd_number(
			    "--max-rooms", optarg, 1, 1 << 20);
			break;
		case OPT_MAX_ROOMS_PER_CLIENT:
			cfg->max_rooms_per_client = (int)parleyd_number(
			    "--max-rooms-per-client", optarg, 1,
			    CONFIG_ROOMS_PER_CLIENT_MAX);
			break;
		case OPT_JOIN_NOTICES:
			cfg->join_notices = (int)parleyd_number(
			    "--join-notices", optarg, 0, 1 << 24);
			break;
		case OPT_OUTBOX_SIZE:
			cfg->outbox_bytes = (size_t)parleyd_number(
			    "--outbox-size", optarg, 1 << 18, 1L << 30);
			if (cfg->outbox_bytes & (cfg->outbox_bytes - 1)) {
				fprintf(stderr, "parleyd: --outbox-size must "
						"be a power of two\n");
				exit(2);
			}
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			cfg->shutdown_ms = (int)parleyd_number(
			    "--shutdown-timeout", optarg, 0, 600000);
			break;
		case OPT_WAKE_PACE:
			cfg->wake_pace_us = (int)parleyd_number(
			    "--wake-pace", optarg, 0, 1000000);
			break;
		case OPT_VERBOSE:
			cfg->verbose = 1;
			break;
		case OPT_HELP:
			parleyd_usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("parleyd %s\n", PARLEY_VERSION);
			exit(0);
		default:
			parleyd_bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "parleyd: unexpected argument '%s'\n",
			argv[optind]);
		parleyd_usage(stderr);
		exit(2);
	}
	if (cfg->outbox_bytes == 0)
		cfg->outbox_bytes = cfg->workers > 0 ? 32u << 20 : 1u << 20;
}

/* Raises the open-file limit as far as allowed: each client costs the
 * supervisor nothing after hand-over but a worker one fd per client. */
static void
parleyd_raise_nofile(const struct config *cfg)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	log_info("open file limit %llu", (unsigned long long)rl.rlim_cur);
	if (cfg->workers > 0 &&
	    rl.rlim_cur < (rlim_t)cfg->max_clients / (rlim_t)cfg->workers + 64)
		log_warn("open file limit %llu may not fit %d client%s on %d "
			 "worker%s",
			 (unsigned long long)rl.rlim_cur, cfg->max_clients,
			 cfg->max_clients == 1 ? "" : "s", cfg->workers,
			 cfg->workers == 1 ? "" : "s");
}

int
main(int argc, char **argv)
{
	struct config cfg;
	sigset_t mask;

	config_defaults(&cfg);
	parleyd_parse(argc, argv, &cfg);
	log_init("supervisor", cfg.verbose ? LOG_DEBUG : LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	parleyd_raise_nofile(&cfg);
	return supervisor_run(&cfg);
}
