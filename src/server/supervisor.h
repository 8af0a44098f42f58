/*
 * supervisor: the parent process. Owns the listeners, the registry, the
 * signals and one channel per session process; turns marks into the
 * timeline and requests into records. Never blocks and never touches a
 * client socket after handing it over.
 */
#ifndef PARLEY_SUPERVISOR_H
#define PARLEY_SUPERVISOR_H

#include "server/config.h"

/* Binds every listener, prints "listening on HOST:PORT" for each, and
 * serves until SIGTERM or SIGINT. Returns the process exit code (0 after a
 * graceful shutdown, 1 when start-up fails). The caller has blocked
 * SIGCHLD, SIGTERM, SIGINT and SIGHUP. */
int supervisor_run(const struct config *cfg);

#endif
