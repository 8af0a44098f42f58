/*
 * lineout: a protocol line built from pieces without printf, for the
 * formatting that runs once per record in every session. Pure. The caller
 * gives a buffer that holds what it puts (record strings are bounded, so
 * PROTO_LINE_MAX always does).
 */
#ifndef PARLEY_LINEOUT_H
#define PARLEY_LINEOUT_H

#include <stddef.h>
#include <string.h>

#include "server/outbox.h"

struct line_out {
	char *p;
	size_t n;
	size_t start; /* where the current line began (IRC: its prefix) */
};

static inline void
line_put(struct line_out *o, const char *s, size_t n)
{
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static inline void
line_puts(struct line_out *o, const char *s)
{
	line_put(o, s, strlen(s));
}

static inline void
line_put_str(struct line_out *o, struct outbox_str s)
{
	line_put(o, s.p, s.n);
}

#endif
