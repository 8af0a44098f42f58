/*
 * supervisor_accept: listeners and admission. Accepts in batches, refuses
 * what the limits refuse (one line, then close), registers the rest and
 * hands each to a session process with its listener's protocol and
 * transport. Runs out of fds gracefully: pauses accepting, never spins.
 */
#include "lib/log.h"
#include "lib/net.h"
#include "server/proto.h"
#include "server/supervisor_int.h"
#include "server/transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SV_ACCEPT_BATCH	   64
#define SV_ACCEPT_PAUSE_MS 100

/* Tells a refused client why, in its listener's protocol, and closes it.
 * Only plaintext transports get the line: anything else would need a
 * handshake the supervisor never does. */
static void
sv_refuse(const struct sv_listener *l, int fd, enum proto_refusal why, long num)
{
	char line[256];
	size_t n = 0;

	l->sv->counts[METRICS_REFUSED + why]++;
	if (l->transport == TRANSPORT_TCP)
		n = proto_refusal_line(l->proto, why, num, line, sizeof(line));
	if (n)
		(void)send(fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* A client refused by a server-wide ban: told its reason too, from the
 * server by its name (the supervisor's config: no session has the client
 * yet). Two lines (IRC's 465 and ERROR) of up to 512 bytes each. */
static void
sv_refuse_banned(const struct sv_listener *l, int fd, const char *reason)
{
	char line[1024];
	size_t n = 0;

	l->sv->counts[METRICS_REFUSED + PROTO_REFUSE_BANNED]++;
	if (l->transport == TRANSPORT_TCP)
		n = proto_refusal_server_line(l->proto, l->sv->cfg->server_name,
					      PROTO_REFUSE_BANNED, reason, line,
					      sizeof(line));
	if (n)
		(void)send(fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* The host others see for an address: a keyed hash of it, the same for
 * every connection from it, whatever the protocol. */
static void
sv_cloak(const struct supervisor *sv, const char *host, char *out, size_t n)
{
	uint64_t h = siphash24(sv->cloak_key, host, strlen(host));

	snprintf(out, n, "%08x.%08x.parley", (unsigned)(h >> 32), (unsigned)h);
}

static void
sv_admit(struct supervisor *sv, const struct sv_listener *l, int fd,
	 const struct sockaddr_storage *ss)
{
	char addr[NET_ADDR_STRLEN], host[NET_ADDR_STRLEN];
	int exempt = net_is_loopback(ss) && !sv->cfg->limit_loopback;
	char cloak[OUTBOX_HOST_MAX + 1];
	const char *why;
	struct sv_session *s;
	struct reg_client *c;

	net_format_addr(ss, addr, sizeof(addr));
	net_format_host(ss, host, sizeof(host));
	sv_cloak(sv, host, cloak, sizeof(cloak));
	if ((why = sv_mod_gline_reason(sv, host, cloak))) {
		log_warn("refused %s: banned from this server%s%s", addr,
			 why[0] ? ": " : "", why);
		sv_refuse_banned(l, fd, why);
		return;
	}
	if (sv->reg.nclients >= (unsigned)sv->cfg->max_clients) {
		log_warn("refused %s: server full (%d %s)", addr,
			 sv->cfg->max_clients,
			 SV_PLURAL(sv->cfg->max_clients, "client"));
		sv_refuse(l, fd, PROTO_REFUSE_FULL, 0);
		return;
	}
	if (!exempt && sv->cfg->max_per_address > 0 &&
	    registry_host_count(&sv->reg, host) >= sv->cfg->max_per_address) {
		log_warn("refused %s: per-address limit %d", addr,
			 sv->cfg->max_per_address);
		sv_refuse(l, fd, PROTO_REFUSE_PER_ADDR,
			  sv->cfg->max_per_address);
		return;
	}
	s = sv_pick_session(sv);
	if (!s) {
		log_warn("refused %s: no session process available", addr);
		sv_refuse(l, fd, PROTO_REFUSE_BUSY, 0);
		return;
	}
	c = registry_client_add(&sv->reg, (int)s->index, addr,
				exempt ? "" : host,
				!proto_get(l->proto)->registers);
	if (!c) {
		sv_refuse(l, fd, PROTO_REFUSE_FULL, 0);
		return;
	}
	snprintf(c->user, sizeof(c->user), "%s", proto_get(l->proto)->name);
	c->secure = transport_get(l->transport)->secure;
	memcpy(c->cloak, cloak, sizeof(cloak));
	log_info("client %s connected from %s", c->nick, addr);
	sv->counts[METRICS_ACCEPTED]++;
	if (sv->cfg->workers == 0) {
		int err = sv_spawn(sv, s, fd, c, l->proto, l->transport);
		if (err < 0) {
			log_warn("cannot fork a session for %s: %s", addr,
				 strerror(-err));
			registry_client_remove(&sv->reg, c);
			sv_refuse(l, fd, PROTO_REFUSE_BUSY, 0);
		}
		return;
	}
	struct channel_client_new m;
	sv_client_new(c, l->proto, l->transport, &m);
	if (channel_send(&s->chan, CHANNEL_CLIENT_NEW, &m, sizeof(m), fd,
			 SV_CHANNEL_QUEUE) < 0) {
		registry_client_remove(&sv->reg, c);
		sv_session_bad(sv, s, "channel full");
		return;
	}
	s->nclients++;
}

/* Listeners are watched unless accepting is paused (no fds) or held (no
 * room in ring 0 for one more client's quit). */
static void
sv_listeners_watch(struct supervisor *sv)
{
	uint32_t ev = sv->accept_paused || sv->accept_held ? 0 : EPOLLIN;

	for (int i = 0; i < sv->nlisten; i++)
		(void)loop_mod(sv->loop, sv->listeners[i].fd, ev);
}

static void
sv_accept_pause(struct supervisor *sv, int err)
{
	if (sv->accept_paused)
		return;
	log_warn("accept: %s; pausing new connections for %d ms",
		 strerror(-err), SV_ACCEPT_PAUSE_MS);
	sv->accept_paused = 1;
	sv->accept_resume_ms = loop_now_ms() + SV_ACCEPT_PAUSE_MS;
	sv_listeners_watch(sv);
}

void
sv_accept_resume(struct supervisor *sv)
{
	if (!sv->accept_paused || loop_now_ms() < sv->accept_resume_ms)
		return;
	sv->accept_paused = 0;
	sv_listeners_watch(sv);
}

void
sv_accept_hold(struct supervisor *sv, int hold)
{
	if (sv->accept_held == hold)
		return;
	sv->accept_held = hold;
	log_debug("%s new connections: the supervisor's ring %s",
		  hold ? "holding" : "accepting",
		  hold ? "waits for its readers" : "has room again");
	sv_listeners_watch(sv);
	if (hold)
		sv_flow_update(sv);
}

static void
sv_on_listen(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct sv_listener *l = arg;
	struct supervisor *sv = l->sv;
	struct sockaddr_storage ss;

	(void)loop;
	(void)events;
	for (int i = 0; i < SV_ACCEPT_BATCH && !sv->stopping; i++) {
		/* Every client may quit, and its quit must fit in ring 0. */
		if (!sv_flow_fits(sv, 0, 0, 1)) {
			sv_accept_hold(sv, 1);
			return;
		}
		int cfd = net_accept(fd, &ss);
		if (cfd == -EAGAIN)
			return;
		if (cfd == -EMFILE || cfd == -ENFILE || cfd == -ENOBUFS ||
		    cfd == -ENOMEM) {
			sv_accept_pause(sv, cfd);
			return;
		}
		if (cfd < 0)
			continue; /* ECONNABORTED and friends: next one */
		sv_admit(sv, l, cfd, &ss);
	}
}

/* How to turn off a listener whose default address is taken. */
static const char *
sv_listen_off_hint(const struct config_listener *cl)
{
	if (cl->transport == TRANSPORT_WS)
		return ", --http-listen none turns HTTP off";
	if (cl->transport == TRANSPORT_WSS)
		return ", --https-listen none turns HTTPS off";
	if (cl->proto == PROTO_IRC && cl->transport == TRANSPORT_TCP)
		return ", --irc-listen none turns IRC off";
	if (cl->proto == PROTO_IRC && cl->transport == TRANSPORT_TLS)
		return ", --irc-listen-tls none turns IRC over TLS off";
	return "";
}

int
sv_listen(struct supervisor *sv)
{
	for (int i = 0; i < sv->cfg->nlisten; i++) {
		const struct config_listener *cl = &sv->cfg->listen[i];
		char host[256];
		int port, fd;
		if (net_parse_hostport(cl->addr, host, sizeof(host), &port,
				       NET_DEFAULT_PORT) < 0) {
			log_warn("bad listen address %s", cl->addr);
			return -1;
		}
		fd = net_listen(host, port, 1024);
		if (fd < 0 && cl->optional &&
		    (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT)) {
			log_warn("IPv6 unavailable: not listening on %s",
				 cl->addr);
			continue;
		}
		if (fd < 0 && cl->flag) {
			log_warn("cannot listen on %s: %s (--%s HOST:PORT sets "
				 "another address%s)",
				 cl->addr, strerror(-fd), cl->flag,
				 sv_listen_off_hint(cl));
			return -1;
		}
		if (fd < 0) {
			log_warn("cannot listen on %s: %s", cl->addr,
				 strerror(-fd));
			return -1;
		}
		sv->listeners[sv->nlisten++] = (struct sv_listener){
		    .sv = sv,
		    .fd = fd,
		    .proto = cl->proto,
		    .transport = cl->transport,
		};
	}
	return 0;
}

void
sv_announce(struct supervisor *sv)
{
	for (int i = 0; i < sv->nlisten; i++) {
		struct sv_listener *l = &sv->listeners[i];
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char addr[NET_ADDR_STRLEN];
		getsockname(l->fd, (struct sockaddr *)&ss, &len);
		net_format_addr(&ss, addr, sizeof(addr));
		if (l->proto == PROTO_PLAIN && l->transport == TRANSPORT_TCP)
			log_info("listening on %s", addr);
		else if (l->transport == TRANSPORT_WS ||
			 l->transport == TRANSPORT_WSS)
			log_info("listening on %s (%s: the web client, "
				 "WebSocket at /ws)",
				 addr,
				 l->transport == TRANSPORT_WSS ? "https"
							       : "http");
		else
			log_info("listening on %s (%s over %s)", addr,
				 proto_get(l->proto)->name,
				 transport_get(l->transport)->name);
		if (loop_add(sv->loop, l->fd, EPOLLIN, sv_on_listen, l) < 0)
			fatal("loop_add listener");
	}
}

void
sv_close_listeners(struct supervisor *sv)
{
	for (int i = 0; i < sv->nlisten; i++) {
		loop_del(sv->loop, sv->listeners[i].fd);
		close(sv->listeners[i].fd);
	}
	sv->nlisten = 0;
}
