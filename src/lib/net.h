/*
 * net: socket helpers shared by server, client and bench (IPv4 and IPv6).
 * Pure wrappers: no process knowledge, no global state. Functions return 0
 * or an fd on success and -errno on failure.
 */
#ifndef PARLEY_NET_H
#define PARLEY_NET_H

#include <stddef.h>
#include <sys/socket.h>

#define NET_DEFAULT_PORT 5050
#define NET_ADDR_STRLEN	 64 /* "[ipv6]:port" fits */

/* Splits "HOST:PORT", "[V6]:PORT", "HOST", "[V6]" or ":PORT" into host and
 * port (default_port when absent). An empty host becomes "localhost".
 * Returns 0 or -EINVAL. */
int net_parse_hostport(const char *s, char *host, size_t host_len, int *port,
		       int default_port) __attribute__((warn_unused_result));

/* Resolves host (numeric or name) and connects a blocking TCP socket, trying
 * each address in turn. Sets TCP_NODELAY and close-on-exec. Returns the fd
 * or -errno of the last attempt. Blocks. */
int net_connect(const char *host, int port) __attribute__((warn_unused_result));

/* Binds and listens on host:port (numeric address; "::" and IPv6 literals
 * set IPV6_V6ONLY). Non-blocking, close-on-exec, SO_REUSEADDR. Returns the
 * fd or -errno. */
int net_listen(const char *host, int port, int backlog)
    __attribute__((warn_unused_result));

/* accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; sets TCP_NODELAY. Returns the
 * fd, -EAGAIN when none is pending, or -errno. */
int net_accept(int listen_fd, struct sockaddr_storage *ss)
    __attribute__((warn_unused_result));

/* Formats an address as "1.2.3.4:5" or "[::1]:5". */
void net_format_addr(const struct sockaddr_storage *ss, char *out,
		     size_t out_len);

/* Formats only the host part (no port, no brackets): the per-address key. */
void net_format_host(const struct sockaddr_storage *ss, char *out,
		     size_t out_len);

/* The local port a socket is bound to, or -errno. */
int net_local_port(int fd);

/* True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
int net_is_loopback(const struct sockaddr_storage *ss);

/* Sets O_NONBLOCK. Returns 0 or -errno. */
int net_set_nonblock(int fd);

#endif
