/*
 * config_file: builds parleyd's config from its sources, in order: the
 * defaults, the file named by --config (one "key value" per line, the keys
 * are the options table's names), then the command line, which overrides
 * the file. The supervisor runs it at start and again at SIGHUP; the
 * options table is the only list of keys, so file and flags never differ.
 */
#ifndef PARLEY_CONFIG_FILE_H
#define PARLEY_CONFIG_FILE_H

#include "server/config.h"
#include "server/options.h"

#include <stdio.h>

#define CONFIG_FILE_MAX	     (1 << 20) /* bytes: a config file is small */
#define CONFIG_FILE_LINE_MAX 4096

/* One option given on the command line. */
struct config_arg {
	const struct option_def *d;
	const char *value; /* NULL for a flag; points into argv */
};

/* The command line, kept for every reload. The file is the last
 * --config among the args. */
struct config_source {
	const struct config_arg *args;
	int nargs;
};

/* What a built config points into: the file's text, and which values
 * each option was given (a reload compares them). */
struct config_text;

/* Builds cfg from the defaults, the file, the command line and
 * options_finish(). A file key that the command line also gives is
 * checked but not applied. Returns 0 and *text (free it with
 * config_text_free once cfg no longer points into it), or -1 with the
 * reason in err: "FILE:LINE: ..." or "--NAME: ...". Blocks on reading the
 * file (at start and at SIGHUP only). */
int config_build(struct config *cfg, const struct config_source *src,
		 struct config_text **text, char *err, size_t n)
    __attribute__((warn_unused_result));

void config_text_free(struct config_text *t);

/* Whether option d differs between a (built with ta) and b (with tb):
 * typed options by value, OPTION_CALL ones by the values given. */
int config_option_differs(const struct config *a, const struct config_text *ta,
			  const struct config *b, const struct config_text *tb,
			  const struct option_def *d);

/* Copies option d's field from src to dst. Typed options only (an
 * OPTION_CALL option has no single field); a string is copied as the
 * pointer. */
void config_option_copy(struct config *dst, const struct config *src,
			const struct option_def *d);

/* Spells option d's value in cfg as a config file would (typed options;
 * "(see the file)" for OPTION_CALL ones) into out. */
void config_option_format(const struct config *cfg, const struct option_def *d,
			  char *out, size_t n);

/* Writes the default config file: every key with its help, whether a
 * reload applies it, and its default value, commented out
 * (etc/parleyd.conf is this output). */
void config_file_write_defaults(FILE *f);

#endif
