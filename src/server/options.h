/*
 * options: every setting of parleyd in one table: its flag (--NAME), its
 * config-file key (NAME), its type and range, its help text and whether a
 * reload may change it. parleyd.c parses the command line with it; a
 * config file uses the same table, so the two never disagree. Run by the
 * supervisor before any fork; pure but for the usage text.
 */
#ifndef PARLEY_OPTIONS_H
#define PARLEY_OPTIONS_H

#include "server/config.h"

#include <stddef.h>
#include <stdio.h>

enum option_kind {
	OPTION_INT,    /* int field, min..max */
	OPTION_SIZE,   /* size_t field, min..max */
	OPTION_DOUBLE, /* double field, min..max (whole numbers) */
	OPTION_STRING, /* const char * field: the value itself (kept) */
	OPTION_FLAG,   /* int field set to 1; takes no value */
	OPTION_CALL,   /* call() decides */
};

/* flags of an option */
#define OPTION_RELOADS	    0x1 /* a reload applies a new value at once */
#define OPTION_REPEATS	    0x2 /* may be given more than once */
#define OPTION_COMMAND_LINE 0x4 /* not a config-file key (--config) */

struct option_def {
	const char *name;
	const char *meta; /* what the value is ("N", "BYTES"); NULL: flag */
	enum option_kind kind;
	size_t offset; /* of the field in struct config */
	long long min, max;
	/* OPTION_CALL: sets the value; returns 0, or -1 with why filled. */
	int (*call)(struct config *cfg, const char *value, char *why, size_t n);
	unsigned flags;
	const char *help; /* lines separated by '\n' */
};

extern const struct option_def options_table[];
extern const size_t options_count;

/* The option called name, or NULL. */
const struct option_def *options_find(const char *name);

/* Sets the option from value (NULL for a flag on the command line; a
 * config file's flag says yes or no). Returns 0, or -1 with a
 * reason in why (n bytes) naming what was expected. The config keeps
 * pointers to value for OPTION_STRING and listeners: it must outlive cfg. */
int options_set(struct config *cfg, const struct option_def *d,
		const char *value, char *why, size_t n)
    __attribute__((warn_unused_result));

/* Fills what the options left unset and depends on others (default
 * listeners, ring sizes by process model). */
void options_finish(struct config *cfg);

/* Checks what no single option can: settings that need each other (a
 * TLS listener needs a certificate). Returns 0, or -1 with why filled. */
int options_check(const struct config *cfg, char *why, size_t n)
    __attribute__((warn_unused_result));

/* Prints the usage text: every option with its help. */
void options_usage(FILE *f);

#endif
