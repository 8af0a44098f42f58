/*
 * bench_lines: what the load engine makes of a server's lines: parley's
 * notices and messages, IRC's numerics and PRIVMSGs, and the deliveries
 * they carry (checked against what was sent). Runs in parley-bench only.
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench_int.h"
#include "bench/payload.h"
#include "bench/wsclient.h"
#include "lib/ws.h"

/* --- receiving ---------------------------------------------------------- */

static void
bench_deliver(struct bench *b, unsigned int id, const char *nick,
	      size_t nick_len, const char *text, size_t len, int64_t t)
{
	struct bench_sender *s;
	struct bench_client *from;
	struct payload p;

	if (!b->measuring)
		return;
	if (payload_parse(text, len, &p) != PAYLOAD_OK ||
	    p.sender >= b->nsenders) {
		b->res->corrupt++;
		return;
	}
	s = &b->senders[p.sender];
	from = &b->clients[s->client];
	if (p.seq >= s->sent || s->client == id || from->nick_len != nick_len ||
	    memcmp(from->nick, nick, nick_len) != 0) {
		b->res->corrupt++;
		return;
	}
	if (track_record(&b->track, id, p.sender, p.seq) == TRACK_DUP)
		return;
	hist_record(&b->res->latency, t - (int64_t)p.t_ns);
	b->t_last_delivery = t;
	b->t_last_activity = t;
	if (b->cfg->rate <= 0)
		bench_closed_reached(b, s, p.seq);
}

static int
bench_has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* "-!- NICK joined ROOM" for this client's own nick. */
static int
bench_parley_is_own_join(const struct bench_client *c, const char *room,
			 const char *s, size_t len)
{
	size_t rl = strlen(room);

	return len == 4 + c->nick_len + 8 + rl && c->nick_len > 0 &&
	       memcmp(s + 4, c->nick, c->nick_len) == 0 &&
	       memcmp(s + 4 + c->nick_len, " joined ", 8) == 0 &&
	       memcmp(s + 12 + c->nick_len, room, rl) == 0;
}

static void
bench_parley_notice(struct bench *b, unsigned int id, const char *s, size_t len)
{
	static const char welcome[] = "-!- welcome to parley, ";
	struct bench_client *c = &b->clients[id];
	const char *bang;
	char line[96];

	if (bench_has_prefix(s, len, "-!- disconnected:") ||
	    bench_has_prefix(s, len, "-!- server full")) {
		snprintf(line, sizeof(line), "%.*s", (int)len, s);
		bench_client_close(b, id, line);
		return;
	}
	if (c->state == BENCH_REGISTERING &&
	    bench_has_prefix(s, len, welcome)) {
		bang = memchr(s + sizeof(welcome) - 1, '!',
			      len - (sizeof(welcome) - 1));
		if (!bang || (size_t)(bang - s) - (sizeof(welcome) - 1) >=
				 sizeof(c->nick)) {
			bench_client_close(b, id, "bad welcome line");
			return;
		}
		c->nick_len = (unsigned int)(bang - s - (sizeof(welcome) - 1));
		memcpy(c->nick, s + sizeof(welcome) - 1, c->nick_len);
		c->state = BENCH_JOINING;
		return;
	}
	if (c->state != BENCH_JOINING || !bench_has_prefix(s, len, "-!- "))
		return;
	if (bench_parley_is_own_join(c, b->cfg->room, s, len)) {
		bench_client_ready(b, id);
	} else if (bench_parley_is_own_join(c, "#lobby", s, len)) {
		snprintf(line, sizeof(line), "/join %s\n", b->cfg->room);
		bench_out_str(b, id, line);
	}
}

/* "#room <nick> text"; anything else is ignored or a notice. */
static void
bench_parley_line(struct bench *b, unsigned int id, const char *s, size_t len,
		  int64_t t)
{
	size_t rl = strlen(b->cfg->room);
	const char *nick, *gt;

	if (len > 0 && s[0] == '-') {
		bench_parley_notice(b, id, s, len);
		return;
	}
	if (len == 0 || s[0] != '#' || !b->measuring)
		return;
	if (len < rl + 4 || memcmp(s, b->cfg->room, rl) != 0 || s[rl] != ' ' ||
	    s[rl + 1] != '<') {
		b->res->corrupt++;
		return;
	}
	nick = s + rl + 2;
	gt = memchr(nick, '>', len - rl - 2);
	if (!gt || (size_t)(gt - s) + 2 > len || gt[1] != ' ') {
		b->res->corrupt++;
		return;
	}
	bench_deliver(b, id, nick, (size_t)(gt - nick), gt + 2,
		      len - (size_t)(gt + 2 - s), t);
}

static void
bench_irc_registered(struct bench *b, unsigned int id)
{
	struct bench_client *c = &b->clients[id];
	char line[512];
	const char *colon;

	c->state = BENCH_JOINING;
	colon = strchr(b->cfg->irc_oper, ':');
	if (c->sender >= 0 && colon) {
		snprintf(line, sizeof(line), "OPER %.*s %s\r\nMODE %s +F\r\n",
			 (int)(colon - b->cfg->irc_oper), b->cfg->irc_oper,
			 colon + 1, c->nick);
		bench_out_str(b, id, line);
	}
	snprintf(line, sizeof(line), "JOIN %s\r\n", b->cfg->room);
	bench_out_str(b, id, line);
}

/* Numeric errors that stop a client from registering or joining; others
 * (a refused OPER or MODE +F, say) only cost the relaxed flood limits. */
static int
bench_irc_is_fatal(enum bench_state state, const char *numeric)
{
	static const char *const registering[] = {"431", "432", "433", "436",
						  "437", "465", NULL};
	static const char *const joining[] = {"403", "405", "471", "473",
					      "474", "475", "476", NULL};
	const char *const *p;

	if (state == BENCH_REGISTERING)
		p = registering;
	else if (state == BENCH_JOINING)
		p = joining;
	else
		return 0;
	for (; *p; p++)
		if (memcmp(*p, numeric, 3) == 0)
			return 1;
	return 0;
}

/* ":prefix COMMAND params"; only what the workload needs is understood. */
static void
bench_irc_line(struct bench *b, unsigned int id, const char *s, size_t len,
	       int64_t t)
{
	const char *prefix = NULL, *cmd, *sp, *end = s + len, *bang;
	size_t prefix_len = 0, cmd_len, rl;
	char line[600];

	if (len > 0 && s[0] == ':') {
		sp = memchr(s, ' ', len);
		if (!sp)
			return;
		prefix = s + 1;
		prefix_len = (size_t)(sp - prefix);
		s = sp + 1;
	}
	cmd = s;
	sp = memchr(s, ' ', (size_t)(end - s));
	cmd_len = (size_t)((sp ? sp : end) - cmd);
	s = sp ? sp + 1 : end;
	if (cmd_len == 7 && memcmp(cmd, "PRIVMSG", 7) == 0 && prefix) {
		rl = strlen(b->cfg->room);
		if ((size_t)(end - s) < rl + 2 || s[rl] != ' ' ||
		    s[rl + 1] != ':') {
			if (b->measuring)
				b->res->corrupt++;
			return;
		}
		bang = memchr(prefix, '!', prefix_len);
		bench_deliver(b, id, prefix,
			      bang ? (size_t)(bang - prefix) : prefix_len,
			      s + rl + 2, (size_t)(end - s) - rl - 2, t);
	} else if (cmd_len == 4 && memcmp(cmd, "PING", 4) == 0) {
		snprintf(line, sizeof(line), "PONG %.*s\r\n", (int)(end - s),
			 s);
		bench_out_str(b, id, line);
	} else if (cmd_len == 3 && memcmp(cmd, "001", 3) == 0 &&
		   b->clients[id].state == BENCH_REGISTERING) {
		bench_irc_registered(b, id);
	} else if (cmd_len == 3 && memcmp(cmd, "366", 3) == 0 &&
		   b->clients[id].state == BENCH_JOINING) {
		bench_client_ready(b, id);
	} else if (cmd_len == 3 && memcmp(cmd, "381", 3) == 0) {
		b->res->irc_opers++;
	} else if (cmd_len == 3 &&
		   (memcmp(cmd, "491", 3) == 0 || memcmp(cmd, "464", 3) == 0)) {
		b->opers_refused++;
	} else if (cmd_len == 3 &&
		   bench_irc_is_fatal(b->clients[id].state, cmd)) {
		snprintf(line, sizeof(line), "IRC error %.*s", (int)(end - cmd),
			 cmd);
		bench_client_close(b, id, line);
	} else if (cmd_len == 5 && memcmp(cmd, "ERROR", 5) == 0) {
		snprintf(line, sizeof(line), "%.*s", (int)(end - cmd), cmd);
		bench_client_close(b, id, line);
	}
}

void
bench_line(struct bench *b, unsigned int id, const char *s, size_t len,
	   int64_t t)
{
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (b->cfg->proto == BENCH_PROTO_IRC)
		bench_irc_line(b, id, s, len, t);
	else
		bench_parley_line(b, id, s, len, t);
}

/* --ws: the response head, then frames; each text message is a line.
 * Returns the bytes of buf[0..len) left for next time. */
size_t
bench_ws_input(struct bench *b, unsigned int id, char *buf, size_t len,
	       int64_t t)
{
	struct bench_client *c = &b->clients[id];
	size_t pos = 0, used;
	struct ws_result res;
	char *end;

	if (!c->ws_open) {
		end = memmem(buf, len, "\r\n\r\n", 4);
		if (!end)
			return len;
		if (wsclient_check_head(buf, (size_t)(end - buf) + 4) < 0) {
			bench_client_close(b, id, "WebSocket upgrade refused");
			return 0;
		}
		c->ws_open = 1;
		pos = (size_t)(end - buf) + 4;
	}
	while (c->state != BENCH_CLOSED) {
		ws_reader_next(c->rd, (uint8_t *)buf + pos, len - pos, &used,
			       &res);
		pos += used;
		if (res.ev == WS_EV_NEED_MORE)
			break;
		if (res.ev == WS_EV_MESSAGE) {
			bench_line(b, id, (const char *)res.data, res.len, t);
		} else if (res.ev == WS_EV_PING) {
			uint8_t pong[WS_CONTROL_MAX + WS_HEADER_MAX];
			uint8_t mask[4] = {1, 2, 3, 4};
			size_t n = ws_frame_encode(pong, WS_OP_PONG, res.data,
						   res.len, mask);
			bench_out_raw(b, id, (const char *)pong, n);
		} else if (res.ev != WS_EV_PONG) {
			bench_client_close(b, id,
					   res.ev == WS_EV_CLOSE
					       ? "WebSocket closed"
					       : "bad WebSocket frame");
		}
	}
	return len - pos;
}
