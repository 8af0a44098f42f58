/*
 * parley-bench: load generator for parley and IRC servers. Parses options,
 * raises the fd limit, runs one benchmark (bench.c) and prints a one-line
 * key=value summary (or JSON). Exits 0 only if every message reached every
 * other client exactly once, in order, intact; 1 if not; 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/payload.h"
#include "lib/net.h"

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "dev"
#endif

enum {
	OPT_SIZE = 256,
	OPT_ROOM,
	OPT_IRC_OPER,
	OPT_SERVER_PID,
	OPT_CONNECT_PARALLEL,
	OPT_CONNECT_TIMEOUT,
	OPT_DRAIN_TIMEOUT,
	OPT_TIMEOUT,
	OPT_LABEL,
	OPT_JSON,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_WS,
	OPT_TLS,
	OPT_HANDSHAKES,
	OPT_RESUME
};

static const struct option parley_bench_options[] = {
    {"proto", required_argument, NULL, 'p'},
    {"clients", required_argument, NULL, 'c'},
    {"senders", required_argument, NULL, 's'},
    {"messages", required_argument, NULL, 'm'},
    {"duration", required_argument, NULL, 'd'},
    {"window", required_argument, NULL, 'w'},
    {"rate", required_argument, NULL, 'r'},
    {"size", required_argument, NULL, OPT_SIZE},
    {"room", required_argument, NULL, OPT_ROOM},
    {"irc-oper", required_argument, NULL, OPT_IRC_OPER},
    {"server-pid", required_argument, NULL, OPT_SERVER_PID},
    {"connect-parallel", required_argument, NULL, OPT_CONNECT_PARALLEL},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"label", required_argument, NULL, OPT_LABEL},
    {"json", no_argument, NULL, OPT_JSON},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"ws", no_argument, NULL, OPT_WS},
    {"tls", no_argument, NULL, OPT_TLS},
    {"handshakes", required_argument, NULL, OPT_HANDSHAKES},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

static void
parley_bench_usage(FILE *f)
{
	fputs(
	    "usage: parley-bench [options] [HOST:PORT]   (default 127.0.0.1:5050)\n"
	    "  -p, --proto parley|irc   protocol (default parley)\n"
	    "      --ws                 parley over WebSocket: HOST:PORT is\n"
	    "                           parleyd's --http-listen\n"
	    "  -c, --clients N          clients in the room (default 10)\n"
	    "  -s, --senders S          clients that send (default: all)\n"
	    "  -m, --messages M         messages per sender (default 1000)\n"
	    "  -d, --duration SEC       send for SEC seconds instead\n"
	    "  -w, --window W           closed loop: messages in flight per\n"
	    "                           sender, until every receiver has them\n"
	    "                           (default: about 65536 deliveries in\n"
	    "                           flight in all, at most 64 per sender)\n"
	    "  -r, --rate R             open loop: R messages/s per sender;\n"
	    "                           latency counts from the intended time\n"
	    "      --size BYTES         payload bytes (default 64, 48..400)\n"
	    "      --room NAME          room (default #lobby; irc: #bench)\n"
	    "      --irc-oper NAME:PASS senders send OPER and MODE +F\n"
	    "      --server-pid PID     report the CPU, memory and context\n"
	    "                           switches of PID and its children\n"
	    "      --connect-parallel N clients joining at once (default 8)\n"
	    "      --connect-timeout S  all clients joined within S (60)\n"
	    "      --drain-timeout S    stop after S without progress (5)\n"
	    "      --timeout S          cap on the measured phase (600)\n"
	    "      --label TEXT         add label=TEXT to the summary\n"
	    "      --json               print the summary as JSON\n"
	    "      --progress, --no-progress  progress line (default: if\n"
	    "                           stderr is a terminal)\n"
	    "      --tls                connect with TLS (not verified);\n"
	    "                           with --ws: wss to --https-listen\n"
	    "      --handshakes N       instead: N TLS handshakes, each done\n"
	    "                           at the server's first line, with\n"
	    "                           --connect-parallel in flight;\n"
	    "                           reports handshakes per second\n"
	    "      --resume             with --handshakes: each resumes the\n"
	    "                           session of a first, unmeasured one\n"
	    "Exit: 0 nothing lost, duplicated, reordered, corrupted or\n"
	    "disconnected; 1 otherwise; 2 the run could not be done.\n",
	    f);
}

static int
parley_bench_uint(const char *s, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int
parley_bench_double(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *s == '\0' || *end != '\0' || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static void
parley_bench_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

struct parley_bench_out {
	int json;
	int first;
};

static void parley_bench_kv(struct parley_bench_out *o, int quote,
			    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
parley_bench_kv(struct parley_bench_out *o, int quote, const char *key,
		const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		printf("%s\"%s\": %s", o->first ? "{" : ", ", key,
		       quote ? "\"" : "");
	else
		printf("%s%s=", o->first ? "parley-bench: " : " ", key);
	o->first = 0;
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false alarm */
	vprintf(fmt, ap);
	va_end(ap);
	if (o->json && quote)
		putchar('"');
}

static double
parley_bench_us(const struct bench_result *r, double q)
{
	return (double)hist_quantile(&r->latency, q) / 1000.0;
}

/* CPU seconds spent by neither the server nor this process while measuring:
 * other load on the machine that the figures had to share it with. */
static double
parley_bench_other_s(const struct bench_result *r)
{
	double other = (double)r->machine_busy_ns - (double)r->server_cpu_ns -
		       (double)r->bench_cpu_ns;

	return other > 0 ? other / 1e9 : 0;
}

static int
parley_bench_failed(const struct bench_result *r)
{
	return r->lost || r->dups || r->reorders || r->corrupt ||
	       r->disconnects || r->sent == 0;
}

/* What ran and what arrived. */
static void
parley_bench_print_counts(struct parley_bench_out *o,
			  const struct bench_config *cfg,
			  const struct bench_result *r)
{
	parley_bench_kv(o, 1, "proto", "%s",
			cfg->proto == BENCH_PROTO_IRC ? "irc" : "parley");
	parley_bench_kv(o, 1, "transport", "%s",
			cfg->ws ? (cfg->tls ? "wss" : "ws")
				: (cfg->tls ? "tls" : "tcp"));
	parley_bench_kv(o, 0, "clients", "%u", cfg->clients);
	parley_bench_kv(o, 0, "senders", "%u", cfg->senders);
	parley_bench_kv(o, 1, "mode", "%s", cfg->rate > 0 ? "open" : "closed");
	if (cfg->rate > 0)
		parley_bench_kv(o, 0, "rate", "%g", cfg->rate);
	else
		parley_bench_kv(o, 0, "window", "%u", cfg->window);
	parley_bench_kv(o, 0, "size", "%u", cfg->size);
	parley_bench_kv(o, 0, "sent", "%llu", (unsigned long long)r->sent);
	parley_bench_kv(o, 0, "expected", "%llu",
			(unsigned long long)r->expected);
	parley_bench_kv(o, 0, "delivered", "%llu",
			(unsigned long long)r->delivered);
	parley_bench_kv(o, 0, "lost", "%llu", (unsigned long long)r->lost);
	parley_bench_kv(o, 0, "dup", "%llu", (unsigned long long)r->dups);
	parley_bench_kv(o, 0, "reorder", "%llu",
			(unsigned long long)r->reorders);
	parley_bench_kv(o, 0, "corrupt", "%llu",
			(unsigned long long)r->corrupt);
	parley_bench_kv(o, 0, "disconnects", "%llu",
			(unsigned long long)r->disconnects);
}

/* How fast, and at what latency. */
static void
parley_bench_print_speed(struct parley_bench_out *o,
			 const struct bench_result *r)
{
	double dur = r->duration_s > 0 ? r->duration_s : 1e-9;

	parley_bench_kv(o, 0, "setup_s", "%.2f", r->setup_s);
	parley_bench_kv(o, 0, "duration_s", "%.3f", r->duration_s);
	parley_bench_kv(o, 0, "deliveries_per_s", "%.0f",
			(double)r->delivered / dur);
	parley_bench_kv(o, 0, "p50_us", "%.1f", parley_bench_us(r, 0.50));
	parley_bench_kv(o, 0, "p90_us", "%.1f", parley_bench_us(r, 0.90));
	parley_bench_kv(o, 0, "p99_us", "%.1f", parley_bench_us(r, 0.99));
	parley_bench_kv(o, 0, "p999_us", "%.1f", parley_bench_us(r, 0.999));
	parley_bench_kv(o, 0, "max_us", "%.1f", parley_bench_us(r, 1.0));
}

/* What it cost the server, this process and the rest of the machine. */
static void
parley_bench_print_cost(struct parley_bench_out *o,
			const struct bench_result *r)
{
	double wall = r->wall_s > 0 ? r->wall_s : 1e-9;
	double dl = r->delivered ? (double)r->delivered : 1;

	if (r->has_server) {
		parley_bench_kv(o, 0, "server_cpu_s", "%.3f",
				(double)r->server_cpu_ns / 1e9);
		parley_bench_kv(o, 0, "server_cpu_ns_per_delivery", "%.0f",
				(double)r->server_cpu_ns / dl);
		parley_bench_kv(o, 0, "server_cpu_pct", "%.0f",
				100.0 * (double)r->server_cpu_ns / 1e9 / wall);
		parley_bench_kv(o, 0, "server_hwm_kb", "%llu",
				(unsigned long long)r->server_hwm_kb);
		parley_bench_kv(o, 0, "server_pss_kb", "%llu",
				(unsigned long long)r->server_pss_kb);
		parley_bench_kv(o, 0, "server_procs", "%u", r->server_procs);
		parley_bench_kv(o, 0, "server_ctxsw", "%llu",
				(unsigned long long)r->server_ctxsw);
	}
	parley_bench_kv(o, 0, "bench_cpu_s", "%.3f",
			(double)r->bench_cpu_ns / 1e9);
	parley_bench_kv(o, 0, "bench_cpu_pct", "%.0f",
			100.0 * (double)r->bench_cpu_ns / 1e9 / wall);
	parley_bench_kv(o, 0, "machine_busy_pct", "%.0f",
			100.0 * r->machine_busy);
	parley_bench_kv(o, 0, "softirq_cpu_pct", "%.0f",
			100.0 * (double)r->machine_irq_ns / 1e9 / wall);
	parley_bench_kv(o, 0, "other_cpu_pct", "%.0f",
			100.0 * parley_bench_other_s(r) / wall);
	parley_bench_kv(o, 0, "ctxsw_per_1k_deliveries", "%.2f",
			1000.0 * (double)r->machine_ctxsw / dl);
}

static void
parley_bench_print(const struct bench_config *cfg, const char *label, int json,
		   const struct bench_result *r)
{
	struct parley_bench_out o = {.json = json, .first = 1};

	if (label[0])
		parley_bench_kv(&o, 1, "label", "%s", label);
	parley_bench_print_counts(&o, cfg, r);
	parley_bench_print_speed(&o, r);
	parley_bench_print_cost(&o, r);
	if (cfg->proto == BENCH_PROTO_IRC && cfg->irc_oper[0])
		parley_bench_kv(&o, 0, "irc_opers", "%u", r->irc_opers);
	parley_bench_kv(&o, 0, "stalled", "%d", r->stalled);
	parley_bench_kv(&o, 1, "result", "%s",
			parley_bench_failed(r) ? "FAIL" : "ok");
	puts(json ? "}" : "");
	fflush(stdout);
}

struct parley_bench_opts {
	struct bench_config cfg;
	char label[128];
	int json;
	int senders_set, messages_set, room_set, window_set;
};

/* The options with a number or a word after them. */
static int
parley_bench_value(struct parley_bench_opts *o, int c, const char *arg)
{
	struct bench_config *cfg = &o->cfg;
	unsigned int pid = 0;
	int err;

	switch (c) {
	case 'p':
		if (strcmp(arg, "irc") != 0 && strcmp(arg, "parley") != 0)
			return -EINVAL;
		cfg->proto =
		    arg[0] == 'i' ? BENCH_PROTO_IRC : BENCH_PROTO_PARLEY;
		return 0;
	case 'c':
		return parley_bench_uint(arg, 1000000, &cfg->clients);
	case 's':
		o->senders_set = 1;
		return parley_bench_uint(arg, 1000000, &cfg->senders);
	case 'm':
		o->messages_set = 1;
		return parley_bench_uint(arg, 1u << 30, &cfg->messages);
	case 'd':
		return parley_bench_double(arg, &cfg->duration_s);
	case 'w':
		o->window_set = 1;
		return parley_bench_uint(arg, 1u << 20, &cfg->window);
	case 'r':
		return parley_bench_double(arg, &cfg->rate);
	case OPT_SIZE:
		return parley_bench_uint(arg, PAYLOAD_MAX_LEN, &cfg->size);
	case OPT_SERVER_PID:
		err = parley_bench_uint(arg, 1u << 30, &pid);
		cfg->server_pid = (pid_t)pid;
		return err;
	case OPT_CONNECT_PARALLEL:
		return parley_bench_uint(arg, 100000, &cfg->connect_parallel);
	case OPT_CONNECT_TIMEOUT:
		return parley_bench_double(arg, &cfg->connect_timeout_s);
	case OPT_DRAIN_TIMEOUT:
		return parley_bench_double(arg, &cfg->drain_timeout_s);
	case OPT_TIMEOUT:
		return parley_bench_double(arg, &cfg->timeout_s);
	}
	return -EINVAL;
}

/* One option; exits for --help and --version. */
static int
parley_bench_option(struct parley_bench_opts *o, int c, const char *arg)
{
	struct bench_config *cfg = &o->cfg;

	switch (c) {
	case OPT_ROOM:
		snprintf(cfg->room, sizeof(cfg->room), "%s", arg);
		o->room_set = 1;
		return 0;
	case OPT_IRC_OPER:
		snprintf(cfg->irc_oper, sizeof(cfg->irc_oper), "%s", arg);
		return strchr(cfg->irc_oper, ':') ? 0 : -EINVAL;
	case OPT_LABEL:
		snprintf(o->label, sizeof(o->label), "%s", arg);
		return 0;
	case OPT_WS:
		cfg->ws = 1;
		return 0;
	case OPT_JSON:
		o->json = 1;
		return 0;
	case OPT_PROGRESS:
	case OPT_NO_PROGRESS:
		cfg->progress = c == OPT_PROGRESS;
		return 0;
	case OPT_TLS:
		cfg->tls = 1;
		return 0;
	case OPT_RESUME:
		cfg->resume = 1;
		return 0;
	case OPT_HANDSHAKES:
		cfg->tls = 1;
		return parley_bench_uint(arg, 100000000, &cfg->handshakes) <
				   0 ||
			       cfg->handshakes == 0
			   ? -EINVAL
			   : 0;
	case 'h':
		parley_bench_usage(stdout);
		exit(0);
	case 'V':
		printf("parley-bench %s\n", PARLEY_VERSION);
		exit(0);
	}
	return parley_bench_value(o, c, arg);
}

/* Defaults that depend on other options, and what must hold together. */
static int
parley_bench_check(struct parley_bench_opts *o, const char *target)
{
	struct bench_config *cfg = &o->cfg;

	if (net_parse_hostport(target, cfg->host, sizeof(cfg->host), &cfg->port,
			       5050) < 0) {
		fprintf(stderr, "parley-bench: bad address %s\n", target);
		return -EINVAL;
	}
	if (cfg->resume && !cfg->handshakes) {
		fprintf(stderr, "parley-bench: --resume goes with "
				"--handshakes\n");
		return -EINVAL;
	}
	if (!o->senders_set)
		cfg->senders = cfg->clients;
	if (!o->messages_set && cfg->duration_s > 0)
		cfg->messages = 0;
	if (!o->window_set && cfg->clients >= 2) {
		/* Bounded buffers, not stretched batches: about
		 * BENCH_IN_FLIGHT deliveries outstanding in all, at most
		 * BENCH_WINDOW_MAX messages per sender, at least one. */
		unsigned long long per =
		    (unsigned long long)cfg->senders * (cfg->clients - 1);
		unsigned long long w = per ? BENCH_IN_FLIGHT / per : 1;
		cfg->window = w < 1		     ? 1
			      : w > BENCH_WINDOW_MAX ? BENCH_WINDOW_MAX
						     : (unsigned)w;
	}
	if (!o->room_set && cfg->proto == BENCH_PROTO_IRC)
		snprintf(cfg->room, sizeof(cfg->room), "#bench");
	if (cfg->size < PAYLOAD_MIN_LEN)
		cfg->size = PAYLOAD_MIN_LEN;
	if (cfg->clients < 2 || cfg->senders < 1 ||
	    cfg->senders > cfg->clients || cfg->window < 1 ||
	    cfg->connect_parallel < 1 ||
	    (cfg->messages == 0 && cfg->duration_s <= 0)) {
		fprintf(stderr, "parley-bench: need clients >= 2, 1 <= senders "
				"<= clients, window >= 1, and messages or "
				"duration\n");
		return -EINVAL;
	}
	if ((unsigned long long)cfg->clients * cfg->senders > 64ull << 20) {
		fprintf(stderr, "parley-bench: clients * senders too large\n");
		return -EINVAL;
	}
	return 0;
}

static int
parley_bench_parse(int argc, char **argv, struct parley_bench_opts *o)
{
	const char *target = "127.0.0.1:5050";
	int c;

	while ((c = getopt_long(argc, argv, "p:c:s:m:d:w:r:hV",
				parley_bench_options, NULL)) != -1) {
		if (c == '?')
			return -EINVAL;
		if (parley_bench_option(o, c, optarg) < 0) {
			fprintf(stderr, "parley-bench: bad value: %s\n",
				optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (optind < argc)
		target = argv[optind++];
	if (optind < argc)
		return -EINVAL;
	return parley_bench_check(o, target);
}

/* Handshake mode: how many a second, and what each cost the server. */
static int
parley_bench_handshakes(const struct parley_bench_opts *o)
{
	const struct bench_config *cfg = &o->cfg;
	struct parley_bench_out out = {.json = o->json, .first = 1};
	struct handshake_result r;
	double dur, done;

	if (handshake_run(cfg, &r) < 0) {
		fprintf(stderr, "parley-bench: %s\n", r.error);
		return 2;
	}
	dur = r.duration_s > 0 ? r.duration_s : 1e-9;
	done = r.done ? (double)r.done : 1;
	if (o->label[0])
		parley_bench_kv(&out, 1, "label", "%s", o->label);
	parley_bench_kv(&out, 1, "mode", "%s",
			cfg->resume ? "handshakes-resumed" : "handshakes");
	parley_bench_kv(&out, 0, "parallel", "%u", cfg->connect_parallel);
	parley_bench_kv(&out, 0, "handshakes", "%u", r.done);
	parley_bench_kv(&out, 0, "resumed", "%u", r.resumed);
	parley_bench_kv(&out, 0, "failed", "%u", r.failed);
	parley_bench_kv(&out, 0, "duration_s", "%.3f", r.duration_s);
	parley_bench_kv(&out, 0, "handshakes_per_s", "%.0f",
			(double)r.done / dur);
	if (r.has_server)
		parley_bench_kv(&out, 0, "server_cpu_us_per_handshake", "%.1f",
				(double)r.server_cpu_ns / 1e3 / done);
	parley_bench_kv(&out, 0, "bench_cpu_us_per_handshake", "%.1f",
			(double)r.bench_cpu_ns / 1e3 / done);
	int ok = r.failed == 0 && r.done == cfg->handshakes &&
		 (!cfg->resume || r.resumed == r.done);
	parley_bench_kv(&out, 1, "result", "%s", ok ? "ok" : "FAIL");
	puts(o->json ? "}" : "");
	fflush(stdout);
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct parley_bench_opts o = {
	    .cfg =
		{
		    .proto = BENCH_PROTO_PARLEY,
		    .clients = 10,
		    .messages = 1000,
		    .window = 8,
		    .size = 64,
		    .room = "#lobby",
		    .connect_parallel = 8,
		    .connect_timeout_s = 60,
		    .drain_timeout_s = 5,
		    .timeout_s = 600,
		    .progress = isatty(STDERR_FILENO),
		},
	};
	struct bench_result *res;
	int err;

	if (parley_bench_parse(argc, argv, &o) < 0) {
		fprintf(stderr, "parley-bench: see parley-bench --help\n");
		return 2;
	}
	parley_bench_raise_nofile();
	if (o.cfg.handshakes)
		return parley_bench_handshakes(&o);
	res = calloc(1, sizeof(*res));
	if (!res)
		return 2;
	err = bench_run(&o.cfg, res);
	if (err < 0) {
		fprintf(stderr, "parley-bench: %s\n", res->error);
		free(res);
		return 2;
	}
	parley_bench_print(&o.cfg, o.label, o.json, res);
	err = parley_bench_failed(res) ? 1 : 0;
	free(res);
	return err;
}
