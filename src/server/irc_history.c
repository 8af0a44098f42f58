/*
 * irc_history: IRCv3 CHATHISTORY (draft/chathistory): LATEST, BEFORE,
 * AFTER, AROUND and BETWEEN by msgid or timestamp, answered from the
 * store as a chathistory batch; TARGETS (the client's rooms by their
 * latest message, one store request a room); the FAIL replies. Session
 * processes; pure like the rest of the front end. Invariant: every
 * CHATHISTORY gets exactly one answer, a batch (empty when nothing
 * matched, if the client has batch) or one FAIL line.
 */
#include "server/irc_int.h"
#include "server/irc_numerics.h"

#include "server/names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IRC_HIST_TARGETS 99 /* not a selector: CHATHISTORY TARGETS */
#define IRC_HIST_TIME	 25 /* "YYYY-MM-DDThh:mm:ss.sssZ" and its NUL */

/* A CHATHISTORY TARGETS in progress: the rooms asked so far and the
 * time of each one's latest message in the window. */
struct irc_targets {
	unsigned next;	/* the room (of pc->rooms) asked now */
	unsigned limit; /* the most lines */
	char lo[IRC_HIST_TIME], hi[IRC_HIST_TIME];
	char hi_ref[IRC_HISTREF_MAX + 1]; /* "timestamp=" hi */
	unsigned n;
	struct {
		char room[OUTBOX_ROOM_MAX + 1];
		char time[IRC_HIST_TIME];
	} found[PROTO_OPS_MAX];
};

/* A subcommand: its selector and how many references it takes. */
static const struct irc_hist_sub {
	const char *name;
	unsigned selector;
	unsigned refs;
	int star; /* "*" is a reference it takes */
} irc_hist_subs[] = {
    {"LATEST", CORE_HISTORY_LATEST, 1, 1},
    {"BEFORE", CORE_HISTORY_BEFORE, 1, 0},
    {"AFTER", CORE_HISTORY_AFTER, 1, 0},
    {"AROUND", CORE_HISTORY_AROUND, 1, 0},
    {"BETWEEN", CORE_HISTORY_BETWEEN, 2, 0},
    {"TARGETS", IRC_HIST_TARGETS, 1, 0}, /* two times, not a target */
};

#define IRC_HIST_NSUBS (sizeof(irc_hist_subs) / sizeof(irc_hist_subs[0]))

static const struct irc_hist_sub *
irc_hist_sub(struct core_str s)
{
	for (size_t i = 0; i < IRC_HIST_NSUBS; i++)
		if (strlen(irc_hist_subs[i].name) == s.n &&
		    strncasecmp(irc_hist_subs[i].name, s.p, s.n) == 0)
			return &irc_hist_subs[i];
	return NULL;
}

/* "FAIL CHATHISTORY code sub [target] :text". */
static void
irc_hist_fail(struct pconn *pc, const char *code, const char *sub,
	      const char *target, const char *text)
{
	irc_send(pc, IRC_FAIL_CHATHISTORY, pc->env->cfg->server_name, code, sub,
		 target ? " " : "", target ? target : "", text);
}

static int
irc_hist_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static int
irc_hist_two(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "YYYY-MM-DDThh:mm:ss[.fraction]Z", UTC, from 1970 on. */
static int
irc_hist_time_ok(const char *p, size_t n)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t k = sizeof(shape) - 1;
	int mo, d;

	if (n < k + 1 || p[n - 1] != 'Z')
		return 0;
	for (size_t i = 0; i < k; i++)
		if (shape[i] == 'd' ? !irc_hist_digits(p + i, 1)
				    : p[i] != shape[i])
			return 0;
	mo = irc_hist_two(p + 5);
	d = irc_hist_two(p + 8);
	if (p[0] < '1' || (p[0] == '1' && irc_hist_two(p + 1) < 97) || mo < 1 ||
	    mo > 12 || d < 1 || d > 31 || irc_hist_two(p + 11) > 23 ||
	    irc_hist_two(p + 14) > 59 || irc_hist_two(p + 17) > 60)
		return 0;
	if (n == k + 1)
		return 1;
	return p[k] == '.' && n > k + 2 &&
	       irc_hist_digits(p + k + 1, n - k - 2);
}

/* A valid time t[0..n) as irc_time writes it (milliseconds, Z), into out
 * (IRC_HIST_TIME bytes): such times compare as strings. */
static void
irc_hist_time_norm(const char *t, size_t n, char *out)
{
	size_t k = 0, at = 19;

	memcpy(out, t, 19);
	out[19] = '.';
	if (n > 20 && t[19] == '.')
		for (at = 20; at < n - 1 && k < 3; at++, k++)
			out[20 + k] = t[at];
	for (; k < 3; k++)
		out[20 + k] = '0';
	out[23] = 'Z';
	out[24] = '\0';
}

/* A reference the store understands: "msgid=ID" or "timestamp=T", or
 * "*" where sub takes it. */
static int
irc_hist_ref_ok(const struct irc_hist_sub *sub, struct core_str r)
{
	if (r.n == 1 && r.p[0] == '*')
		return sub->star;
	if (r.n > IRC_HISTREF_MAX)
		return 0;
	if (r.n > 6 && memcmp(r.p, "msgid=", 6) == 0) {
		for (size_t i = 6; i < r.n; i++)
			if (r.p[i] <= ' ' || r.p[i] == ';' || r.p[i] == '\\')
				return 0;
		return r.n - 6 < OUTBOX_MSGID_MAX;
	}
	if (r.n > 10 && memcmp(r.p, "timestamp=", 10) == 0)
		return irc_hist_time_ok(r.p + 10, r.n - 10);
	return 0;
}

/* The limit: 1 or more (more than IRC_HISTORY_MAX asks for that many). */
static unsigned
irc_hist_limit(struct core_str s)
{
	unsigned v = 0;

	if (s.n == 0 || s.n > 9 || !irc_hist_digits(s.p, s.n))
		return 0;
	for (size_t i = 0; i < s.n; i++)
		v = v * 10 + (unsigned)(s.p[i] - '0');
	return v > IRC_HISTORY_MAX ? IRC_HISTORY_MAX : v;
}

/* Opens the client's batch for target unless one is open; its tag. */
static const char *
irc_hist_open(struct pconn *pc, const char *target)
{
	static char ref[16];
	struct irc_state *st = irc_state(pc);

	if (!(st->caps & IRC_CAP_BATCH))
		return NULL;
	if (!st->batch_open) {
		st->batch_open = (int)++st->batch_seq;
		snprintf(ref, sizeof(ref), "h%d", st->batch_open);
		irc_send(pc, IRC_BATCH_START, pc->env->cfg->server_name, ref,
			 target);
	}
	snprintf(ref, sizeof(ref), "h%d", st->batch_open);
	return ref;
}

/* A batch with nothing in it: the answer when there is no history. */
static void
irc_hist_empty(struct pconn *pc, const char *target)
{
	if (irc_hist_open(pc, target))
		irc_history_end(pc);
}

/* ---- TARGETS ------------------------------------------------------------ */

/* The request for the room after the last asked (0: none left). */
static int
irc_targets_next(struct pconn *pc, struct core_op *ops)
{
	struct irc_targets *t = irc_state(pc)->targets;

	if (t->next >= pc->nrooms)
		return 0;
	const char *name = pc->rooms[t->next]->name;
	/* Its newest message before the window's end. */
	ops[0] = (struct core_op){
	    .kind = CORE_HISTORY,
	    .flags = CORE_HISTORY_BEFORE,
	    .room = {name, strlen(name)},
	    .arg = {t->hi_ref, strlen(t->hi_ref)},
	    .num = 1,
	};
	return 1;
}

/* The rooms in the window, by their latest message, oldest first. */
static void
irc_targets_end(struct pconn *pc)
{
	struct irc_state *st = irc_state(pc);
	struct irc_targets *t = st->targets;
	char ref[16] = "";

	for (unsigned i = 1; i < t->n; i++)
		for (unsigned j = i; j > 0 && strcmp(t->found[j - 1].time,
						     t->found[j].time) > 0;
		     j--) {
			char room[sizeof(t->found[0].room)];
			char time[IRC_HIST_TIME];
			memcpy(room, t->found[j].room, sizeof(room));
			memcpy(time, t->found[j].time, sizeof(time));
			memcpy(t->found[j].room, t->found[j - 1].room,
			       sizeof(room));
			memcpy(t->found[j].time, t->found[j - 1].time,
			       sizeof(time));
			memcpy(t->found[j - 1].room, room, sizeof(room));
			memcpy(t->found[j - 1].time, time, sizeof(time));
		}
	if (st->caps & IRC_CAP_BATCH) {
		snprintf(ref, sizeof(ref), "h%u", ++st->batch_seq);
		irc_send(pc, IRC_BATCH_TARGETS, pc->env->cfg->server_name, ref);
	}
	for (unsigned i = 0; i < t->n && i < t->limit; i++)
		irc_send(pc, IRC_TARGETS_LINE, ref[0] ? "@batch=" : "", ref,
			 ref[0] ? " " : "", pc->env->cfg->server_name,
			 t->found[i].room, t->found[i].time);
	if (ref[0])
		irc_send(pc, IRC_BATCH_END, pc->env->cfg->server_name, ref);
	free(st->targets);
	st->targets = NULL;
}

static int
irc_targets_start(struct pconn *pc, const struct irc_msg *m,
		  struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	struct irc_targets *t;
	struct core_str a = m->params[1], b = m->params[2];
	unsigned limit = irc_hist_limit(m->params[3]);

	for (int i = 0; i < 2; i++) {
		struct core_str r = i ? b : a;
		if (r.n <= 10 || memcmp(r.p, "timestamp=", 10) != 0 ||
		    !irc_hist_time_ok(r.p + 10, r.n - 10)) {
			irc_hist_fail(pc, "INVALID_PARAMS", "TARGETS",
				      irc_str(r), "Invalid message reference");
			return 0;
		}
	}
	if (!limit) {
		irc_hist_fail(pc, "INVALID_PARAMS", "TARGETS",
			      irc_str(m->params[3]), "Invalid limit");
		return 0;
	}
	free(st->targets);
	st->targets = t = calloc(1, sizeof(*t));
	if (!t) {
		irc_hist_fail(pc, "MESSAGE_ERROR", "TARGETS", NULL,
			      "Messages could not be retrieved");
		return 0;
	}
	t->limit = limit;
	irc_hist_time_norm(a.p + 10, a.n - 10, t->lo);
	irc_hist_time_norm(b.p + 10, b.n - 10, t->hi);
	if (strcmp(t->lo, t->hi) > 0) {
		char swap[IRC_HIST_TIME];
		memcpy(swap, t->lo, sizeof(swap));
		memcpy(t->lo, t->hi, sizeof(swap));
		memcpy(t->hi, swap, sizeof(swap));
	}
	snprintf(t->hi_ref, sizeof(t->hi_ref), "timestamp=%s", t->hi);
	if (irc_targets_next(pc, ops))
		return 1;
	irc_targets_end(pc); /* in no room: an empty list */
	return 0;
}

/* A room's newest message before the window's end: kept if it is in
 * the window. */
static void
irc_targets_found(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_targets *t = irc_state(pc)->targets;
	char time[IRC_HIST_TIME];

	irc_time(v->rec->ts_ms, time);
	if (t->n >= PROTO_OPS_MAX || t->next >= pc->nrooms ||
	    strcmp(time, t->lo) <= 0)
		return;
	snprintf(t->found[t->n].room, sizeof(t->found[0].room), "%s",
		 pc->rooms[t->next]->name);
	memcpy(t->found[t->n].time, time, sizeof(time));
	t->n++;
}

void
irc_history_close(struct pconn *pc)
{
	struct irc_state *st = irc_state(pc);

	if (st) {
		free(st->targets);
		st->targets = NULL;
	}
}

/* ---- the history of one target ------------------------------------------ */

int
irc_cmd_chathistory(struct pconn *pc, const struct irc_msg *m,
		    struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	const struct irc_hist_sub *sub;
	const char *name = m->nparams ? irc_str(m->params[0]) : "*";
	struct core_str target;
	const struct proto_room *r;
	unsigned limit;

	if (m->nparams == 0) {
		irc_hist_fail(pc, "NEED_MORE_PARAMS", "*", NULL,
			      "Missing parameters");
		return 0;
	}
	sub = irc_hist_sub(m->params[0]);
	if (!sub) {
		irc_hist_fail(pc, "UNKNOWN_COMMAND", name, NULL,
			      "Unknown command");
		return 0;
	}
	if (m->nparams < 3 + sub->refs) {
		irc_hist_fail(pc, "NEED_MORE_PARAMS", sub->name, NULL,
			      "Missing parameters");
		return 0;
	}
	target = m->params[1];
	snprintf(st->hist_sub, sizeof(st->hist_sub), "%s", sub->name);
	if (sub->selector == IRC_HIST_TARGETS)
		return irc_targets_start(pc, m, ops);
	for (unsigned i = 0; i < sub->refs; i++)
		if (!irc_hist_ref_ok(sub, m->params[2 + i])) {
			irc_hist_fail(pc, "INVALID_PARAMS", sub->name,
				      irc_str(m->params[2 + i]),
				      "Invalid message reference");
			return 0;
		}
	limit = irc_hist_limit(m->params[2 + sub->refs]);
	if (!limit) {
		irc_hist_fail(pc, "INVALID_PARAMS", sub->name,
			      irc_str(m->params[2 + sub->refs]),
			      "Invalid limit");
		return 0;
	}
	if (target.n == 0 || target.p[0] != '#') {
		/* Private messages are not served (the store keeps them
		 * only with --store-private, and not for reading back):
		 * a nickname has no history to show. */
		char nick[CONFIG_NICK_MAX + 2];
		int ok = target.n == 1 && target.p[0] == '*';
		if (!ok && target.n <= CONFIG_NICK_MAX) {
			memcpy(nick, target.p, target.n);
			nick[target.n] = '\0';
			ok = names_nick_valid(nick);
		}
		if (ok)
			irc_hist_empty(pc, irc_str(target));
		else
			irc_hist_fail(pc, "INVALID_TARGET", sub->name,
				      irc_str(target),
				      "Messages could not be retrieved");
		return 0;
	}
	/* Only the rooms it is in (the supervisor checks again). */
	r = proto_room_named(pc, target.p, target.n);
	if (!r) {
		irc_hist_fail(pc, "INVALID_TARGET", sub->name, irc_str(target),
			      "Messages could not be retrieved");
		return 0;
	}
	snprintf(st->target, sizeof(st->target), "%s", r->name);
	ops[0] = (struct core_op){
	    .kind = CORE_HISTORY,
	    .flags = sub->selector,
	    .room = {r->name, strlen(r->name)},
	    .arg = m->params[2],
	    .text = sub->refs > 1 ? m->params[3] : (struct core_str){"", 0},
	    .num = limit,
	};
	return 1;
}

static char irc_hist_buf[PROTO_LINE_MAX];

void
irc_chathistory_deliver(struct pconn *pc, const struct outbox_view *v)
{
	struct irc_state *st = irc_state(pc);
	const char *batch;
	size_t n;

	if (st->targets) {
		irc_targets_found(pc, v);
		return;
	}
	batch = irc_hist_open(pc, st->target);

	/* Asked for: sent whatever the caps, with the tags they allow. */
	n = irc_message_lines(pc->env, v, st->caps, batch, irc_hist_buf);
	irc_emit_lines(pc, irc_hist_buf, n);
}

int
irc_chathistory_reply(struct pconn *pc, const struct outbox_view *v,
		      struct core_op *ops)
{
	struct irc_state *st = irc_state(pc);
	char ref[IRC_HISTREF_MAX + 1];
	const char *why = "Messages could not be retrieved";
	enum core_err err = (enum core_err)v->rec->aux;

	if (st->targets) {
		/* A room it left meanwhile has nothing to add; the store
		 * down ends it. */
		if (err == CORE_OK || err == CORE_ERR_NOT_IN_ROOM ||
		    err == CORE_ERR_HISTORY_REF) {
			st->targets->next++;
			if (irc_targets_next(pc, ops))
				return 1;
			irc_targets_end(pc);
			return 0;
		}
		free(st->targets);
		st->targets = NULL;
		snprintf(st->target, sizeof(st->target), "*");
	}
	switch (err) {
	case CORE_OK:
		irc_hist_empty(pc, st->target);
		return 0;
	case CORE_ERR_NOT_IN_ROOM:
	case CORE_ERR_NO_SUCH_ROOM:
		irc_history_end(pc);
		irc_hist_fail(pc, "INVALID_TARGET", st->hist_sub, st->target,
			      why);
		return 0;
	case CORE_ERR_HISTORY_REF:
		irc_history_end(pc);
		irc_cstr(ref, sizeof(ref), v->arg);
		irc_send(pc, IRC_FAIL_CHATHISTORY_REF,
			 pc->env->cfg->server_name, st->hist_sub, st->target,
			 ref[0] ? ref : "*");
		return 0;
	case CORE_ERR_STORE_DOWN:
		why = "History is unavailable right now; try again soon";
		break;
	case CORE_ERR_NO_STORE:
		why = "This server keeps no history";
		break;
	default:
		break;
	}
	irc_history_end(pc);
	irc_hist_fail(pc, "MESSAGE_ERROR", st->hist_sub, st->target, why);
	return 0;
}
