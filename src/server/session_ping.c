/*
 * session_ping: signs of life from the clients of protocols that ping
 * (IRC). A session process looks at its clients every quarter of
 * --ping-timeout: a client silent that long is asked (PROTO_EV_PING), one
 * silent as long again after that is closed. Invariant: clients of other
 * protocols are never pinged nor closed for silence, and a session with
 * no client that pings has no timer for it at all.
 */
#include "lib/log.h"
#include "server/session_int.h"

#include <stdio.h>

/* Looking four times per timeout is precise enough, and costs one pass
 * over the clients a quarter timeout. */
static long long
session_ping_every_ms(const struct session *s)
{
	long long every = (long long)s->cfg->ping_timeout_s * 250;

	return every < 100 ? 100 : every;
}

long long
session_ping_due_ms(const struct session *s)
{
	return s->npinging ? s->ping_check_ms : -1;
}

void
session_ping_idle(struct session *s)
{
	long long now = loop_time_ms(s->loop);
	long long timeout = (long long)s->cfg->ping_timeout_s * 1000;

	if (!s->npinging || now < s->ping_check_ms)
		return;
	s->ping_check_ms = now + session_ping_every_ms(s);
	for (struct client *c = s->clients; c; c = c->next) {
		char why[64];
		if (!c->pc.proto->pings || !c->opened || c->closing)
			continue;
		if (!c->ping_sent_ms && now - c->heard_ms >= timeout) {
			c->ping_sent_ms = now;
			c->pc.proto->event(&c->pc, PROTO_EV_PING, NULL,
					   s->cfg->ping_timeout_s);
		} else if (c->ping_sent_ms &&
			   now - c->ping_sent_ms >= timeout) {
			snprintf(why, sizeof(why), "ping timeout: %d seconds",
				 s->cfg->ping_timeout_s);
			log_info("client %s (%s): %s", c->pc.nick, c->addr,
				 why);
			session_client_close(s, c, CHANNEL_REASON_TIMEOUT, why);
		}
	}
}

void
session_ping_add(struct session *s, struct client *c)
{
	if (c->pc.proto->pings && s->npinging++ == 0)
		s->ping_check_ms = c->heard_ms + session_ping_every_ms(s);
}
