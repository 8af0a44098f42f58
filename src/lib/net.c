/*
 * net: listen/connect/accept helpers over getaddrinfo, IPv4 and IPv6.
 * Used by every process; holds no state.
 */
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
net_parse_hostport(const char *s, char *host, size_t host_len, int *port,
		   int default_port)
{
	const char *h = s, *p = NULL;
	size_t hl;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(end - h);
		if (end[1] == ':')
			p = end + 2;
		else if (end[1] != '\0')
			return -EINVAL;
	} else {
		const char *colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL; /* a bare IPv6 literal: no port */
		hl = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			p = colon + 1;
	}
	if (hl == 0) {
		h = "localhost";
		hl = strlen(h);
	}
	if (hl >= host_len)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = default_port;
	if (p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (*p == '\0' || *end != '\0' || v < 0 || v > 65535)
			return -EINVAL;
		*port = (int)v;
	}
	return 0;
}

static void
net_nodelay(int fd)
{
	int one = 1;

	/* Without it Nagle plus delayed ACKs add 5-40 ms to quiet messages. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
net_connect(const char *host, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char portstr[16];
	int fd = -1, err = -EHOSTUNREACH;

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err;
	net_nodelay(fd);
	return fd;
}

int
net_listen(const char *host, int port, int backlog)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
	struct addrinfo *res;
	char portstr[16];
	int fd, one = 1, err;

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		return -EINVAL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				 sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, backlog) < 0) {
		err = -errno;
		goto err_close_fd;
	}
	freeaddrinfo(res);
	return fd;

err_close_fd:
	close(fd);
err_free:
	freeaddrinfo(res);
	return err;
}

int
net_accept(int listen_fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);
	int fd;

	do {
		fd = accept4(listen_fd, (struct sockaddr *)ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	net_nodelay(fd);
	return fd;
}

void
net_format_host(const struct sockaddr_storage *ss, char *out, size_t out_len)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)out_len);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)out_len);
	} else {
		snprintf(out, out_len, "?");
	}
}

void
net_format_addr(const struct sockaddr_storage *ss, char *out, size_t out_len)
{
	char host[INET6_ADDRSTRLEN];
	int port = 0;

	net_format_host(ss, host, sizeof(host));
	if (ss->ss_family == AF_INET6) {
		port = ntohs(
		    ((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
		snprintf(out, out_len, "[%s]:%d", host, port);
	} else {
		if (ss->ss_family == AF_INET)
			port =
			    ntohs(((const struct sockaddr_in *)(const void *)ss)
				      ->sin_port);
		snprintf(out, out_len, "%s:%d", host, port);
	}
}

int
net_local_port(int fd)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	socklen_t len = sizeof(u);

	memset(&u, 0, sizeof(u));
	if (getsockname(fd, &u.sa, &len) < 0)
		return -errno;
	if (u.sa.sa_family == AF_INET6)
		return ntohs(u.sin6.sin6_port);
	return ntohs(u.sin.sin_port);
}

int
net_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			return s6->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

int
net_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}
