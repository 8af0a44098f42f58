/*
 * parleyd: the chat server's entry point. Parses the command line with the
 * options table, builds the config from it and the --config file, sets up
 * signals and the fd limit, and hands over to the supervisor (which keeps
 * the command line to rebuild the config at SIGHUP).
 */
#include "lib/log.h"
#include "server/config.h"
#include "server/config_file.h"
#include "server/options.h"
#include "server/store_exec.h"
#include "server/supervisor.h"

#include <crypt.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { PARLEYD_HELP = 1000, PARLEYD_VERSION };

/* getopt_long's table, made from the options table. */
static struct option *
parleyd_getopt_table(void)
{
	struct option *o = calloc(options_count + 3, sizeof(*o));

	if (!o)
		fatal("options");
	for (size_t i = 0; i < options_count; i++)
		o[i] = (struct option){options_table[i].name,
				       options_table[i].meta ? required_argument
							     : no_argument,
				       NULL, (int)i};
	o[options_count] =
	    (struct option){"help", no_argument, NULL, PARLEYD_HELP};
	o[options_count + 1] =
	    (struct option){"version", no_argument, NULL, PARLEYD_VERSION};
	return o;
}

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
	options_usage(stderr);
	exit(2);
}

/* Parses the command line into src (each value checked on the way, so a
 * bad flag is reported first), then builds cfg from it and the file. */
static void
parleyd_parse(int argc, char **argv, struct config *cfg,
	      struct config_source *src, struct config_text **text)
{
	struct option *longopts = parleyd_getopt_table();
	struct config_arg *args = calloc((size_t)argc + 1, sizeof(*args));
	struct config scratch;
	char why[512];
	int opt;

	if (!args)
		fatal("options");
	config_defaults(&scratch);
	opterr = 0; /* our own messages, all starting "parleyd:" */
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (opt == PARLEYD_HELP) {
			options_usage(stdout);
			exit(0);
		}
		if (opt == PARLEYD_VERSION) {
			printf("parleyd %s\n", PARLEY_VERSION);
			exit(0);
		}
		if (opt == '?' || opt == ':')
			parleyd_bad_option(opt, argv);
		const struct option_def *d = &options_table[opt];
		if (options_set(&scratch, d, optarg, why, sizeof(why)) < 0) {
			fprintf(stderr, "parleyd: --%s: %s, got '%s'\n",
				d->name, why, optarg ? optarg : "");
			exit(2);
		}
		args[src->nargs++] = (struct config_arg){d, optarg};
	}
	free(longopts);
	if (optind < argc) {
		fprintf(stderr, "parleyd: unexpected argument '%s'\n",
			argv[optind]);
		options_usage(stderr);
		exit(2);
	}
	src->args = args;
	if (config_build(cfg, src, text, why, sizeof(why)) < 0) {
		fprintf(stderr, "parleyd: %s\n", why);
		exit(2);
	}
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

/* --hash-password: a password on stdin (one line) -> its yescrypt hash
 * on stdout, for an "oper NAME HASH" line. */
static int
parleyd_hash_password(void)
{
	char pw[512], *salt, *hash;
	size_t n;

	if (!fgets(pw, sizeof(pw), stdin)) {
		fprintf(stderr, "parleyd: --hash-password: no password on "
				"stdin\n");
		return 2;
	}
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "parleyd: --hash-password: empty password\n");
		return 2;
	}
	salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
	hash = salt ? crypt(pw, salt) : NULL;
	explicit_bzero(pw, sizeof(pw));
	free(salt);
	if (!hash || hash[0] == '*') {
		fprintf(stderr, "parleyd: --hash-password: crypt failed\n");
		return 1;
	}
	printf("%s\n", hash);
	return 0;
}

int
main(int argc, char **argv)
{
	struct config_source src = {0};
	struct config_text *text;
	struct config cfg;
	sigset_t mask;
	int rc;

	/* Run as the store (store_exec.c): before any option is parsed. */
	if (argc > 1 && strcmp(argv[1], STORE_EXEC_ARG) == 0)
		store_exec_main(argc, argv);
	parleyd_parse(argc, argv, &cfg, &src, &text);
	if (cfg.hash_password) {
		free((void *)src.args);
		config_text_free(text);
		return parleyd_hash_password();
	}
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
	rc = supervisor_run(&cfg, &src, text);
	free((void *)src.args);
	return rc;
}
