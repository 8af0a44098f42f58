/*
 * irc_channel: IRC's room commands (JOIN, PART, TOPIC, NAMES, LIST) and
 * what the server's answers about rooms look like (332/333, 353/366, 322,
 * 324/329; irc_mode.c has MODE and KICK). Session processes.
 * Invariant: every operation names a room by a valid name, spelled as the
 * client did; the supervisor decides the rest (and spells it as made).
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include "lib/line.h"
#include "server/names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The next comma-separated item of list from *at; empty at the end. */
static struct core_str
irc_next_item(struct core_str list, size_t *at)
{
	size_t i = *at, k = 0;

	while (i + k < list.n && list.p[i + k] != ',')
		k++;
	*at = i + k + 1;
	return (struct core_str){list.p + i, k};
}

/* name is a valid room name (copied, NUL-terminated, into out). */
static int
irc_room_ok(struct core_str name, char out[CONFIG_ROOM_MAX + 2])
{
	if (name.n < 2 || name.n > CONFIG_ROOM_MAX + 1)
		return 0;
	memcpy(out, name.p, name.n);
	out[name.n] = '\0';
	return names_room_valid(out);
}

/* ---- commands ----------------------------------------------------------- */

/* JOIN 0: every room the client is in, left. */
static int
irc_join_zero(struct pconn *pc, struct core_op *ops)
{
	unsigned n = 0;

	for (unsigned i = 0; i < pc->nrooms && n < PROTO_OPS_MAX; i++) {
		const char *name = pc->rooms[i]->name;
		ops[n++] = (struct core_op){.kind = CORE_PART,
					    .room = {name, strlen(name)}};
	}
	return (int)n;
}

int
irc_cmd_join(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct core_str list = m->params[0];
	struct core_str keys =
	    m->nparams > 1 ? m->params[1] : (struct core_str){0};
	unsigned want = CORE_WANT_TOPIC | CORE_WANT_NAMES;
	char name[CONFIG_ROOM_MAX + 2];
	size_t at = 0, key_at = 0;
	int n = 0, targets = 0;

	if (list.n == 1 && list.p[0] == '0')
		return irc_join_zero(pc, ops);
	/* History only where its time can be told: others would take old
	 * lines for new ones; with draft/chathistory the client asks. */
	if ((irc_state(pc)->caps &
	     (IRC_CAP_SERVER_TIME | IRC_CAP_CHATHISTORY)) ==
	    IRC_CAP_SERVER_TIME)
		want |= CORE_WANT_HISTORY;
	while (at < list.n) {
		struct core_str r = irc_next_item(list, &at);
		/* The keys pair with the rooms in order. */
		struct core_str key = key_at < keys.n
					  ? irc_next_item(keys, &key_at)
					  : (struct core_str){"", 0};
		if (r.n == 0)
			continue;
		if (++targets > IRC_TARGETS_MAX) {
			irc_num(pc, ERR_TOOMANYTARGETS, irc_str(r),
				IRC_TARGETS_MAX);
			break;
		}
		/* Longer than CHANNELLEN: no such channel can be (RFC 2812's
		 * 403 is for an invalid name; irctest testChannellen). */
		if (r.n > 1 + CONFIG_ROOM_MAX && r.p[0] == '#') {
			irc_num(pc, ERR_NOSUCHCHANNEL, irc_str(r));
			continue;
		}
		if (!irc_room_ok(r, name)) {
			irc_num(pc, ERR_BADCHANMASK, irc_str(r));
			continue;
		}
		/* Already there: nothing to say (as RFC 2812 allows). */
		if (proto_room_named(pc, r.p, r.n))
			continue;
		ops[n++] = (struct core_op){
		    .kind = CORE_JOIN, .flags = want, .room = r, .arg = key};
	}
	return n;
}

int
irc_cmd_part(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct core_str list = m->params[0];
	struct core_str why =
	    m->nparams > 1 ? m->params[1] : (struct core_str){0};
	char name[CONFIG_ROOM_MAX + 2];
	size_t at = 0;
	int n = 0, targets = 0;

	while (at < list.n) {
		struct core_str r = irc_next_item(list, &at);
		if (r.n == 0)
			continue;
		if (++targets > IRC_TARGETS_MAX) {
			irc_num(pc, ERR_TOOMANYTARGETS, irc_str(r),
				IRC_TARGETS_MAX);
			break;
		}
		if (!irc_room_ok(r, name)) {
			irc_num(pc, ERR_NOSUCHCHANNEL, irc_str(r));
			continue;
		}
		ops[n++] =
		    (struct core_op){.kind = CORE_PART, .room = r, .text = why};
	}
	return n;
}

int
irc_cmd_topic(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct core_str r = m->params[0], text;
	char name[CONFIG_ROOM_MAX + 2];

	if (!irc_room_ok(r, name)) {
		irc_num(pc, ERR_NOSUCHCHANNEL, irc_str(r));
		return 0;
	}
	ops[0] = (struct core_op){.kind = CORE_TOPIC, .room = r};
	if (m->nparams < 2)
		return 1;
	text = m->params[1];
	if (text.n == 0) {
		ops[0].flags = CORE_TOPIC_CLEAR;
		return 1;
	}
	/* TOPICLEN says how long a topic may be: a longer one is cut, as
	 * IRC servers do. */
	text.n = line_utf8_cut(text.p, text.n, CONFIG_TOPIC_MAX);
	ops[0].flags = CORE_TOPIC_SET;
	ops[0].text = text;
	return 1;
}

int
irc_cmd_names(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	char name[CONFIG_ROOM_MAX + 2];
	size_t at = 0;
	struct core_str r;

	if (m->nparams == 0) {
		irc_num(pc, RPL_ENDOFNAMES, "*");
		return 0;
	}
	r = irc_next_item(m->params[0], &at);
	snprintf(st->target, sizeof(st->target), "%s", irc_str(r));
	if (!irc_room_ok(r, name)) {
		irc_num(pc, RPL_ENDOFNAMES, st->target);
		return 0;
	}
	ops[0] = (struct core_op){.kind = CORE_NAMES, .room = r};
	return 1;
}

int
irc_cmd_list(struct pconn *pc, const struct irc_msg *m, struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);

	/* A list of rooms (or masks) filters what the server lists. */
	if (m->nparams)
		snprintf(st->target, sizeof(st->target), "%s",
			 irc_str(m->params[0]));
	ops[0] = (struct core_op){.kind = CORE_ROOMS};
	return 1;
}

/* ---- what the server says about rooms ----------------------------------- */

static uint64_t
irc_id(const struct outbox_view *v, unsigned i)
{
	uint64_t x = 0;

	if (i < v->rec->nids)
		memcpy(&x, &v->ids[i], sizeof(x));
	return x;
}

static void
irc_topic_info(struct pconn *pc, const struct outbox_view *v)
{
	char room[OUTBOX_ROOM_MAX + 1], text[IRC_LINELEN_MAX],
	    who[OUTBOX_NICK_MAX + 1];

	irc_cstr(room, sizeof(room), v->room);
	if (!v->text.n) {
		irc_num(pc, RPL_NOTOPIC, room);
		return;
	}
	irc_num(pc, RPL_TOPIC, room, irc_cstr(text, sizeof(text), v->text));
	if (irc_id(v, 0))
		irc_num(pc, RPL_TOPICWHOTIME, room,
			v->arg.n ? irc_cstr(who, sizeof(who), v->arg) : "*",
			(long long)(irc_id(v, 0) / 1000));
}

/* Each entry is FLAGS NICK!USER@HOST (outbox.h): the prefixes its flags
 * give (all with multi-prefix, else the highest), then the nick, or the
 * whole mask with userhost-in-names. */
static void
irc_names(struct pconn *pc, const struct outbox_view *v)
{
	unsigned caps = irc_state(pc)->caps;
	char items[2 * OUTBOX_TEXT_MAX / 8], room[OUTBOX_ROOM_MAX + 1];
	char prefix[OUTBOX_ROOM_MAX + 16];
	const char *p = v->text.p, *end = p + v->text.n;
	size_t n = 0;

	irc_cstr(room, sizeof(room), v->room);
	while (p < end && n + OUTBOX_NICK_MAX + 128 < sizeof(items)) {
		const char *e = memchr(p, ' ', (size_t)(end - p)), *bang;
		unsigned flags;
		if (!e)
			e = end;
		bang = memchr(p, '!', (size_t)(e - p));
		flags = (unsigned)(*p >= 'a' ? *p - 'a' + 10 : *p - '0') & 0xf;
		if (e - p > 1) {
			size_t k =
			    (size_t)(((caps & IRC_CAP_USERHOST_IN_NAMES) ||
					      !bang
					  ? e
					  : bang) -
				     (p + 1));
			if (n)
				items[n++] = ' ';
			if (flags & OUTBOX_MEMBER_OP)
				items[n++] = '@';
			if ((flags & OUTBOX_MEMBER_VOICE) &&
			    (!(flags & OUTBOX_MEMBER_OP) ||
			     (caps & IRC_CAP_MULTI_PREFIX)))
				items[n++] = '+';
			if (k > sizeof(items) - n - 4)
				k = sizeof(items) - n - 4;
			memcpy(items + n, p + 1, k);
			n += k;
		}
		p = e + 1;
	}
	snprintf(prefix, sizeof(prefix), RPL_NAMREPLY, room);
	irc_num_list(pc, prefix, items, n);
	if (v->rec->aux & OUTBOX_LAST)
		irc_num(pc, RPL_ENDOFNAMES, room);
}

/* Whether LIST's filter (comma-separated names or masks) takes room. */
static int
irc_list_wants(const struct irc_state *st, const char *room)
{
	char item[IRC_TARGET_MAX];
	const char *p = st->target;

	if (!*p)
		return 1;
	while (*p) {
		size_t k = strcspn(p, ",");
		snprintf(item, sizeof(item), "%.*s", (int)k, p);
		if (k && names_mask_match(item, room))
			return 1;
		p += k + (p[k] == ',');
	}
	return 0;
}

static void
irc_room_info(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	char room[OUTBOX_ROOM_MAX + 1], topic[IRC_LINELEN_MAX];

	irc_cstr(room, sizeof(room), v->room);
	if (st->cmd == IRC_CMD_MODE) {
		char modes[OUTBOX_ARG_MAX + 1];
		irc_num(pc, RPL_CHANNELMODEIS, room,
			irc_cstr(modes, sizeof(modes), v->arg));
		irc_num(pc, RPL_CREATIONTIME, room,
			(long long)(irc_id(v, 1) / 1000));
		return;
	}
	if (!st->opened++)
		irc_num(pc, RPL_LISTSTART);
	if (irc_list_wants(st, room))
		irc_num(pc, RPL_LIST, room, (unsigned long long)irc_id(v, 0),
			irc_cstr(topic, sizeof(topic), v->text));
}

void
irc_channel_deliver(struct pconn *pc, const struct outbox_view *v)
{
	switch (v->rec->kind) {
	case OUTBOX_TOPIC_INFO:
		irc_topic_info(pc, v);
		break;
	case OUTBOX_NAMES:
		irc_names(pc, v);
		break;
	case OUTBOX_ROOM_INFO:
		irc_room_info(pc, v);
		break;
	case OUTBOX_ROOM_END:
		if (!irc_state(pc)->opened++)
			irc_num(pc, RPL_LISTSTART);
		irc_num(pc, RPL_LISTEND);
		break;
	default:
		break;
	}
}

void
irc_channel_reply(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	enum core_err err = (enum core_err)v->rec->aux;

	if (err == CORE_OK)
		return;
	/* NAMES of a room that is not there: only its end, as Modern says. */
	if (pc->pending == CORE_NAMES) {
		irc_num(pc, RPL_ENDOFNAMES, st->target);
		return;
	}
	pc->proto->error(pc, err, v->room, v->arg, (long)irc_id(v, 0));
}
