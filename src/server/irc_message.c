/*
 * irc_message: PRIVMSG and NOTICE (to rooms and nicknames, several
 * targets a line, CTCP actions and queries), TAGMSG, the answer to a
 * private message's lookup (301 for an away target) and room history on
 * join. Session processes. Invariant: a NOTICE is never answered, not
 * even with an error; no text reaches a record with a CTCP byte in it.
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include <stdio.h>
#include <string.h>

/* The body of a CTCP query (\001BODY\001, the closing byte optional):
 * ACTION text is an action, anything else a query. Other text loses any
 * stray \001. Returns 0 when nothing is left to send. */
static int
irc_ctcp(struct core_str *text, unsigned *flags)
{
	const char *p = text->p, *end = p + text->n, *close;
	char *copy;
	size_t n = 0;

	if (text->n && p[0] == '\001') {
		p++;
		close = memchr(p, '\001', (size_t)(end - p));
		end = close ? close : end;
		if (end - p >= 6 && memcmp(p, "ACTION", 6) == 0 &&
		    (end - p == 6 || p[6] == ' ')) {
			*flags |= OUTBOX_MSG_ACTION;
			p += end - p == 6 ? 6 : 7;
		} else {
			*flags |= OUTBOX_MSG_CTCP;
		}
		*text = (struct core_str){p, (size_t)(end - p)};
		return text->n > 0;
	}
	if (!memchr(p, '\001', text->n))
		return text->n > 0;
	copy = irc_keep(p, text->n);
	if (!copy)
		return 0;
	for (size_t i = 0; i < text->n; i++)
		if (p[i] != '\001')
			copy[n++] = p[i];
	*text = (struct core_str){copy, n};
	return n > 0;
}

int
irc_cmd_privmsg(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	int notice = irc_state(pc)->cmd == IRC_CMD_NOTICE;
	unsigned flags = notice ? OUTBOX_MSG_NOTICE : 0;
	struct core_str list, text;
	size_t at = 0;
	int n = 0, targets = 0;

	if (m->nparams == 0 || m->params[0].n == 0) {
		if (!notice)
			irc_num(pc, ERR_NORECIPIENT, "PRIVMSG");
		return 0;
	}
	if (m->nparams < 2 || m->params[1].n == 0) {
		if (!notice)
			irc_num(pc, ERR_NOTEXTTOSEND);
		return 0;
	}
	list = m->params[0];
	text = m->params[1];
	if (!irc_ctcp(&text, &flags))
		return 0;
	while (at < list.n) {
		size_t i = at, k = 0;
		struct core_str t;
		while (i + k < list.n && list.p[i + k] != ',')
			k++;
		at = i + k + 1;
		t = (struct core_str){list.p + i, k};
		if (t.n == 0)
			continue;
		if (++targets > IRC_TARGETS_MAX) {
			if (!notice)
				irc_num(pc, ERR_TOOMANYTARGETS, irc_str(t),
					IRC_TARGETS_MAX);
			break;
		}
		if (irc_service_line(pc, t, text, &ops[n], &n))
			continue;
		if (t.p[0] != '#') {
			ops[n++] = (struct core_op){.kind = CORE_PRIVMSG,
						    .flags = flags,
						    .arg = t,
						    .text = text};
			continue;
		}
		/* A room the client is not in takes it only if it is -n:
		 * the supervisor knows. */
		const struct proto_room *r = proto_room_named(pc, t.p, t.n);
		if (!r) {
			ops[n++] = (struct core_op){.kind = CORE_ROOM_SAY,
						    .flags = flags,
						    .room = t,
						    .text = text};
			continue;
		}
		ops[n++] = (struct core_op){.kind = CORE_SAY,
					    .flags = flags,
					    .room = {r->name, strlen(r->name)},
					    .text = text};
	}
	return n;
}

int
irc_cmd_tagmsg(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	/* CLIENTTAGDENY=*: no client tag is relayed, so a TAGMSG, which is
	 * only tags, has nothing to carry. */
	(void)pc;
	(void)m;
	(void)ops;
	return 0;
}

void
irc_message_reply(struct pconn *pc, const struct outbox_view *v)
{
	char nick[OUTBOX_NICK_MAX + 1], away[IRC_LINELEN_MAX];

	if (irc_state(pc)->cmd == IRC_CMD_NOTICE)
		return;
	if (v->rec->aux != CORE_OK) {
		pc->proto->error(pc, (enum core_err)v->rec->aux, v->room,
				 v->arg, 0);
		return;
	}
	if (v->text.n)
		irc_num(pc, RPL_AWAY, irc_cstr(nick, sizeof(nick), v->arg),
			irc_cstr(away, sizeof(away), v->text));
}

/* ---- history ------------------------------------------------------------ */

static char irc_history_buf[PROTO_LINE_MAX];

void
irc_history_deliver(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	char ref[16], room[OUTBOX_ROOM_MAX + 1];
	const char *batch = NULL;
	size_t n;

	/* Asked for only with server-time: the lines keep their time. */
	if (!(st->caps & IRC_CAP_SERVER_TIME))
		return;
	if (st->caps & IRC_CAP_BATCH) {
		if (!st->batch_open) {
			st->batch_open = (int)++st->batch_seq;
			snprintf(ref, sizeof(ref), "h%d", st->batch_open);
			irc_send(pc, IRC_BATCH_START, pc->env->cfg->server_name,
				 ref, irc_cstr(room, sizeof(room), v->room));
		}
		snprintf(ref, sizeof(ref), "h%d", st->batch_open);
		batch = ref;
	}
	n = irc_message_lines(pc->env, v, st->caps, batch, irc_history_buf);
	irc_emit_lines(pc, irc_history_buf, n);
}

void
irc_history_end(struct pconn *pc)
{
	struct irc_state *st = irc_state(pc);
	char ref[16];

	if (!st->batch_open)
		return;
	snprintf(ref, sizeof(ref), "h%d", st->batch_open);
	irc_send(pc, IRC_BATCH_END, pc->env->cfg->server_name, ref);
	st->batch_open = 0;
}

void
irc_outside_reply(struct pconn *pc, const struct outbox_view *v)
{
	char room[IRC_TARGET_MAX + 1];

	if (irc_state(pc)->cmd == IRC_CMD_NOTICE || v->rec->aux == CORE_OK)
		return;
	if (v->rec->aux == CORE_ERR_NOT_IN_ROOM)
		irc_num(pc, ERR_CANNOTSENDTOCHAN,
			irc_cstr(room, sizeof(room), v->room));
	else
		pc->proto->error(pc, (enum core_err)v->rec->aux, v->room,
				 v->arg, 0);
}
