/*
 * config_file: the config file on top of the options table. A line is a
 * key and its value (the rest of the line), or blank, or a comment ('#'
 * at its start or after a blank). Values are cut out of the file's text
 * in place, so the text lives as long as a config points into it.
 * Supervisor only, before any fork and at SIGHUP.
 */
#include "server/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct config_given {
	const struct option_def *d;
	const char *value;
};

struct config_text {
	char *data; /* the file, NUL-terminated; values point into it */
	struct config_given *given;
	int ngiven, cap;
};

/* One file being read. */
struct config_reader {
	const char *path;
	struct config *cfg;
	struct config_text *text;
	const unsigned char *on_command_line; /* per option: flags win */
	int *first_line;		      /* per option: where it was */
	char *err;
	size_t n;
};

static int config_fail(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
config_fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t
config_index(const struct option_def *d)
{
	return (size_t)(d - options_table);
}

static int
config_remember(struct config_text *t, const struct option_def *d,
		const char *value)
{
	if (t->ngiven == t->cap) {
		int cap = t->cap ? t->cap * 2 : 32;
		struct config_given *g =
		    realloc(t->given, (size_t)cap * sizeof(*g));
		if (!g)
			return -1;
		t->given = g;
		t->cap = cap;
	}
	t->given[t->ngiven++] = (struct config_given){d, value};
	return 0;
}

/* Reads the whole file into t->data. */
static int
config_slurp(const char *path, struct config_text *t, char *err, size_t n)
{
	struct stat st;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return config_fail(err, n, "cannot read %s: %s", path,
				   strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_FILE_MAX) {
		close(fd);
		return config_fail(err, n,
				   "%s: not a regular file of at most "
				   "%d bytes",
				   path, CONFIG_FILE_MAX);
	}
	t->data = malloc((size_t)st.st_size + 1);
	if (!t->data) {
		close(fd);
		return config_fail(err, n, "%s: out of memory", path);
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, t->data + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return config_fail(err, n, "cannot read %s: %s", path,
					   strerror(e));
		}
		if (r == 0)
			break; /* shrank meanwhile: take what is there */
		len += (size_t)r;
	}
	close(fd);
	t->data[len] = '\0';
	if (strlen(t->data) != len)
		return config_fail(err, n, "%s: contains a NUL byte", path);
	return 0;
}

static int
config_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Cuts a comment ('#' at the start or after a blank) and trailing blanks
 * off s, in place. */
static void
config_trim(char *s)
{
	char *end;

	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || config_blank(p[-1]))) {
			*p = '\0';
			break;
		}
	end = s + strlen(s);
	while (end > s && config_blank(end[-1]))
		*--end = '\0';
}

/* Applies one "key value" line (key and value NUL-terminated). */
static int
config_line(struct config_reader *r, int line, char *key, char *value)
{
	const struct option_def *d = options_find(key);
	const char *v = *value ? value : NULL;
	char why[256];
	size_t i;

	if (!d || (d->flags & OPTION_COMMAND_LINE))
		return config_fail(r->err, r->n, "%s:%d: unknown key '%s'%s",
				   r->path, line, key,
				   d ? " (only a command-line flag)" : "");
	i = config_index(d);
	if (d->meta && !v)
		return config_fail(r->err, r->n, "%s:%d: %s needs a value (%s)",
				   r->path, line, key, d->meta);
	if (r->first_line[i] && !(d->flags & OPTION_REPEATS))
		return config_fail(r->err, r->n,
				   "%s:%d: %s given twice (first on line %d)",
				   r->path, line, key, r->first_line[i]);
	if (!r->first_line[i])
		r->first_line[i] = line;
	if (r->on_command_line[i]) {
		/* The command line wins, but a bad value is still an error:
		 * check it against a scratch config. */
		struct config scratch;
		config_defaults(&scratch);
		if (options_set(&scratch, d, v, why, sizeof(why)) < 0)
			goto bad;
		return 0;
	}
	if (options_set(r->cfg, d, v, why, sizeof(why)) < 0)
		goto bad;
	if (config_remember(r->text, d, v) < 0)
		return config_fail(r->err, r->n, "%s: out of memory", r->path);
	return 0;
bad:
	return config_fail(r->err, r->n, "%s:%d: %s: %s, got '%s'", r->path,
			   line, key, why, value);
}

static int
config_read_file(struct config_reader *r)
{
	char *p = r->text->data;

	for (int line = 1; p && *p; line++) {
		char *nl = strchr(p, '\n'), *key, *value;
		if (nl)
			*nl = '\0';
		if (strlen(p) > CONFIG_FILE_LINE_MAX)
			return config_fail(r->err, r->n,
					   "%s:%d: line over %d bytes", r->path,
					   line, CONFIG_FILE_LINE_MAX);
		config_trim(p);
		key = p + strspn(p, " \t");
		if (*key) {
			value = key + strcspn(key, " \t");
			if (*value)
				*value++ = '\0';
			value += strspn(value, " \t");
			if (config_line(r, line, key, value) < 0)
				return -1;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

static const char *
config_path_of(const struct config_source *src)
{
	const char *path = NULL;

	for (int i = 0; i < src->nargs; i++)
		if (strcmp(src->args[i].d->name, "config") == 0)
			path = src->args[i].value;
	return path;
}

static int
config_apply_args(struct config *cfg, const struct config_source *src,
		  struct config_text *t, char *err, size_t n)
{
	char why[256];

	for (int i = 0; i < src->nargs; i++) {
		const struct config_arg *a = &src->args[i];
		if (options_set(cfg, a->d, a->value, why, sizeof(why)) < 0)
			return config_fail(err, n, "--%s: %s, got '%s'",
					   a->d->name, why,
					   a->value ? a->value : "");
		if (config_remember(t, a->d, a->value) < 0)
			return config_fail(err, n, "out of memory");
	}
	return 0;
}

int
config_build(struct config *cfg, const struct config_source *src,
	     struct config_text **text, char *err, size_t n)
{
	struct config_text *t = calloc(1, sizeof(*t));
	unsigned char *flagged = calloc(options_count, 1);
	int *first = calloc(options_count, sizeof(*first));
	const char *path = config_path_of(src);
	int rc = -1;

	config_defaults(cfg);
	if (!t || !flagged || !first) {
		config_fail(err, n, "out of memory");
		goto out;
	}
	for (int i = 0; i < src->nargs; i++)
		flagged[config_index(src->args[i].d)] = 1;
	if (path) {
		struct config_reader r = {path, cfg, t, flagged, first, err, n};
		if (config_slurp(path, t, err, n) < 0 ||
		    config_read_file(&r) < 0)
			goto out;
	}
	if (config_apply_args(cfg, src, t, err, n) < 0)
		goto out;
	options_finish(cfg);
	if (options_check(cfg, err, n) < 0)
		goto out;
	rc = 0;
out:
	free(flagged);
	free(first);
	if (rc == 0)
		*text = t;
	else
		config_text_free(t);
	return rc;
}

void
config_text_free(struct config_text *t)
{
	if (!t)
		return;
	free(t->data);
	free(t->given);
	free(t);
}

/* ---- comparing and copying options ------------------------------------- */

static size_t
config_field_size(const struct option_def *d)
{
	switch (d->kind) {
	case OPTION_INT:
	case OPTION_FLAG:
		return sizeof(int);
	case OPTION_SIZE:
		return sizeof(size_t);
	case OPTION_DOUBLE:
		return sizeof(double);
	case OPTION_STRING:
		return sizeof(const char *);
	default:
		return 0;
	}
}

static int
config_given_same(const struct config_text *ta, const struct config_text *tb,
		  const struct option_def *d)
{
	int i = 0, j = 0;

	for (;;) {
		while (i < ta->ngiven && ta->given[i].d != d)
			i++;
		while (j < tb->ngiven && tb->given[j].d != d)
			j++;
		if (i == ta->ngiven || j == tb->ngiven)
			return i == ta->ngiven && j == tb->ngiven;
		const char *x = ta->given[i].value, *y = tb->given[j].value;
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
			return 0;
		i++;
		j++;
	}
}

int
config_option_differs(const struct config *a, const struct config_text *ta,
		      const struct config *b, const struct config_text *tb,
		      const struct option_def *d)
{
	const char *fa = (const char *)a + d->offset;
	const char *fb = (const char *)b + d->offset;

	if (d->kind == OPTION_CALL)
		return !config_given_same(ta, tb, d);
	if (d->kind == OPTION_STRING) {
		const char *x = *(const char *const *)(const void *)fa;
		const char *y = *(const char *const *)(const void *)fb;
		if (!x || !y)
			return x != y;
		return strcmp(x, y) != 0;
	}
	return memcmp(fa, fb, config_field_size(d)) != 0;
}

void
config_option_copy(struct config *dst, const struct config *src,
		   const struct option_def *d)
{
	size_t size = config_field_size(d);

	if (size)
		memcpy((char *)dst + d->offset, (const char *)src + d->offset,
		       size);
}

void
config_option_format(const struct config *cfg, const struct option_def *d,
		     char *out, size_t n)
{
	const char *field = (const char *)cfg + d->offset;

	switch (d->kind) {
	case OPTION_INT:
		snprintf(out, n, "%d", *(const int *)(const void *)field);
		break;
	case OPTION_SIZE:
		snprintf(out, n, "%zu", *(const size_t *)(const void *)field);
		break;
	case OPTION_DOUBLE:
		snprintf(out, n, "%.15g", *(const double *)(const void *)field);
		break;
	case OPTION_FLAG:
		snprintf(out, n, "%s",
			 *(const int *)(const void *)field ? "yes" : "no");
		break;
	case OPTION_STRING: {
		const char *v = *(const char *const *)(const void *)field;
		snprintf(out, n, "%s", v ? v : "(none)");
		break;
	}
	case OPTION_CALL:
		snprintf(out, n, "(see the file)");
		break;
	}
}

/* ---- the default file --------------------------------------------------- */

/* How OPTION_CALL options spell their defaults (options_finish's). */
static const struct {
	const char *name, *value;
} config_call_defaults[] = {
    {"listen", "127.0.0.1:5050\n[::1]:5050"},
    {"http-listen", "127.0.0.1:5080\n[::1]:5080"},
    {"workers", "0"},
    {"outbox-size", "auto"},
    {"room-modes", "+nt"},
};

static void
config_write_value(FILE *f, const struct option_def *d,
		   const struct config *def)
{
	const char *field = (const char *)def + d->offset;
	const char *s = d->meta;

	switch (d->kind) {
	case OPTION_INT:
		fprintf(f, "#%s %d\n", d->name,
			*(const int *)(const void *)field);
		return;
	case OPTION_SIZE:
		/* Below its range: options_finish derives it from another
		 * setting (sendq-hard from sendq), which the help says. */
		if (*(const size_t *)(const void *)field < (size_t)d->min)
			break;
		fprintf(f, "#%s %zu\n", d->name,
			*(const size_t *)(const void *)field);
		return;
	case OPTION_DOUBLE:
		fprintf(f, "#%s %.15g\n", d->name,
			*(const double *)(const void *)field);
		return;
	case OPTION_FLAG:
		fprintf(f, "#%s %s\n", d->name,
			*(const int *)(const void *)field ? "yes" : "no");
		return;
	case OPTION_STRING:
		if (*(const char *const *)(const void *)field)
			s = *(const char *const *)(const void *)field;
		break;
	case OPTION_CALL:
		for (size_t i = 0; i < sizeof(config_call_defaults) /
					   sizeof(config_call_defaults[0]);
		     i++)
			if (strcmp(config_call_defaults[i].name, d->name) == 0)
				s = config_call_defaults[i].value;
		break;
	}
	/* One line per value (a repeatable option may have several). */
	while (s && *s) {
		size_t len = strcspn(s, "\n");
		fprintf(f, "#%s %.*s\n", d->name, (int)len, s);
		s += len + (s[len] == '\n');
	}
}

void
config_file_write_defaults(FILE *f)
{
	struct config def;

	config_defaults(&def);
	fprintf(f,
		"# parleyd.conf: settings of parleyd(8), one per line: a key "
		"(the name of\n"
		"# a flag without its dashes) and its value, the rest of the "
		"line. A '#' at\n"
		"# the start of a line or after a blank begins a comment. A "
		"flag given on\n"
		"# the command line overrides the file. SIGHUP reads the file "
		"again and\n"
		"# applies at once every key marked \"reload: yes\"; the "
		"others are logged\n"
		"# as needing a restart. Every key is listed below with its "
		"default,\n"
		"# commented out. Made by `make conf` from the options table; "
		"do not edit\n"
		"# this copy in the source tree by hand.\n");
	for (size_t i = 0; i < options_count; i++) {
		const struct option_def *d = &options_table[i];
		const char *h = d->help;
		if (d->flags & OPTION_COMMAND_LINE)
			continue;
		fprintf(f, "\n# %s%s%s (reload: %s%s)\n", d->name,
			d->meta ? " " : "", d->meta ? d->meta : "",
			d->flags & OPTION_RELOADS ? "yes" : "no, restart",
			d->flags & OPTION_REPEATS ? "; may repeat" : "");
		while (*h) {
			size_t len = strcspn(h, "\n");
			fprintf(f, "#   %.*s\n", (int)len, h);
			h += len + (h[len] == '\n');
		}
		config_write_value(f, d, &def);
	}
}
