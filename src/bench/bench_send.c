/*
 * bench_send: what the load engine's senders send and when: the closed
 * loop's window (a message in flight until every receiver has it) and
 * the open loop's schedule. Runs in parley-bench only.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench_int.h"
#include "bench/payload.h"

/* --- sending ------------------------------------------------------------ */

static void
bench_send(struct bench *b, struct bench_sender *s, int64_t t_ns)
{
	char line[PAYLOAD_MAX_LEN + 128];
	struct payload p = {.sender = (uint32_t)(s - b->senders),
			    .seq = s->sent,
			    .t_ns = (uint64_t)t_ns};
	size_t len = 0;

	if (b->cfg->proto == BENCH_PROTO_IRC)
		len = (size_t)snprintf(line, sizeof(line),
				       "PRIVMSG %s :", b->cfg->room);
	len += payload_format(line + len, &p, b->cfg->size);
	if (b->cfg->proto == BENCH_PROTO_IRC)
		line[len++] = '\r';
	line[len++] = '\n';
	bench_out_append(b, s->client, line, len);
	s->sent++;
	b->sent_total++;
	b->t_last_activity = b->now;
}

static int
bench_may_send(const struct bench *b, const struct bench_sender *s)
{
	if (b->cfg->messages && s->sent >= b->cfg->messages)
		return 0;
	if (b->t_stop && b->now >= b->t_stop)
		return 0;
	return b->clients[s->client].state == BENCH_READY;
}

/* Closed loop: keep window messages in flight; in flight means not yet
 * received by every other client. */
void
bench_closed_fill(struct bench *b, struct bench_sender *s)
{
	int64_t t = bench_now();

	while (s->sent - s->completed < b->cfg->window) {
		if (!bench_may_send(b, s)) {
			if (b->cfg->messages && s->sent >= b->cfg->messages &&
			    !s->done) {
				s->done = 1;
				b->senders_done++;
			}
			return;
		}
		bench_send(b, s, t);
	}
}

void
bench_closed_reached(struct bench *b, struct bench_sender *s, uint32_t seq)
{
	uint32_t w = b->cfg->window;

	if (seq < s->completed || seq >= s->sent)
		return;
	if (++s->reach[seq % w] < b->receivers)
		return;
	while (s->completed < s->sent &&
	       s->reach[s->completed % w] >= b->receivers) {
		s->reach[s->completed % w] = 0;
		s->completed++;
	}
	bench_closed_fill(b, s);
}

/* When message ol_k of sender ol_i is due (see bench_open_due()). */
int64_t
bench_open_next_due(const struct bench *b)
{
	assert(b->nsenders > 0);
	return b->t0 + (int64_t)b->ol_k * b->period_ns +
	       (int64_t)b->ol_i * b->period_ns / b->nsenders;
}

/* Open loop: message k of sender i is due at t0 + k*period + i*period/S,
 * so the whole schedule is one cursor. The payload carries the due time:
 * a late send (ours or a blocked socket) shows up as latency. */
void
bench_open_due(struct bench *b)
{
	int64_t due;

	for (;;) {
		struct bench_sender *s = &b->senders[b->ol_i];

		due = bench_open_next_due(b);
		if ((b->cfg->messages && b->ol_k >= b->cfg->messages) ||
		    (b->t_stop && due >= b->t_stop)) {
			b->sending_done = 1;
			return;
		}
		if (due > b->now)
			return;
		if (b->clients[s->client].state == BENCH_READY)
			bench_send(b, s, due);
		else
			s->sent++; /* a gone sender: its seq is skipped */
		if (++b->ol_i == b->nsenders) {
			b->ol_i = 0;
			b->ol_k++;
		}
	}
}
