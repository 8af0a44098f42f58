/*
 * supervisor: the parent process. Owns the listeners, the registry, the
 * signals and one channel per session process; turns marks into the
 * timeline and requests into records. Never blocks and never touches a
 * client socket after handing it over.
 */
#ifndef PARLEY_SUPERVISOR_H
#define PARLEY_SUPERVISOR_H

#include "server/config.h"
#include "server/config_file.h"

/* Binds every listener, prints "listening on HOST:PORT" for each, and
 * serves until SIGTERM or SIGINT; SIGHUP rebuilds cfg from src (the
 * command line and its --config file) and applies what may change.
 * Takes text (what cfg points into). Returns the process exit code (0
 * after a graceful shutdown, 1 when start-up fails). The caller has
 * blocked SIGCHLD, SIGTERM, SIGINT and SIGHUP. */
int supervisor_run(struct config *cfg, const struct config_source *src,
		   struct config_text *text);

#endif
