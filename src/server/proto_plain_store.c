/*
 * proto_plain_store: the plain protocol's history and account commands
 * (/history, /register, /login, /logout, /password, /unregister), the
 * lines that answer them and the wording of the store's errors. Pure: run
 * by sessions. Passwords only pass through into core operations; nothing
 * here logs or echoes them.
 */
#include "lib/log.h"
#include "server/names.h"
#include "server/proto_plain_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PLAIN_HISTORY_PAGE 20	/* /history without N */
#define PLAIN_HISTORY_MAX  1000 /* STORE_HISTORY_MAX */

static struct plain_state *
plain_store_state(const struct pconn *pc)
{
	return pc->state;
}

/* The page of room, made if need be (reusing one of a room left). */
static struct plain_page *
plain_store_page(struct pconn *pc, uint64_t room)
{
	struct plain_state *st = plain_store_state(pc);
	struct plain_page *free_page = NULL;

	for (unsigned i = 0; i < CONFIG_ROOMS_PER_CLIENT_MAX; i++) {
		struct plain_page *p = &st->pages[i];
		if (p->room == room)
			return p;
		if (!free_page && (!p->room || !proto_room_by_id(pc, p->room)))
			free_page = p;
	}
	if (free_page)
		*free_page = (struct plain_page){.room = room};
	return free_page;
}

void
plain_store_joined(struct pconn *pc, const struct outbox_view *v)
{
	struct plain_page *p = plain_store_page(pc, v->rec->target);

	if (p)
		*p = (struct plain_page){v->rec->target, 0, v->rec->ts_ms};
}

void
plain_store_seen(struct pconn *pc, const struct outbox_view *v)
{
	const struct proto_room *r = proto_room_named(pc, v->room.p, v->room.n);
	struct plain_page *p;
	uint64_t seq;

	if (!r || !v->rec->nids)
		return;
	memcpy(&seq, &v->ids[0], sizeof(seq));
	p = plain_store_page(pc, r->id);
	if (p && (!p->seq || (int64_t)seq < p->seq))
		p->seq = (int64_t)seq;
}

/* /history [N]: the N messages before what the client has seen of its
 * current room. */
static int
plain_store_history(struct pconn *pc, struct core_str word, const char *usage,
		    struct core_op *op)
{
	static char ref[32];
	const struct proto_room *r =
	    proto_room_by_id(pc, plain_store_state(pc)->current);
	struct plain_page *p;
	unsigned n = PLAIN_HISTORY_PAGE;

	if (word.n) {
		char num[8];
		unsigned v = 0;
		if (word.n >= sizeof(num)) {
			plain_error_text(pc, usage);
			return 0;
		}
		memcpy(num, word.p, word.n);
		num[word.n] = '\0';
		if (sscanf(num, "%u", &v) != 1 || v < 1 ||
		    v > PLAIN_HISTORY_MAX ||
		    strspn(num, "0123456789") != word.n) {
			plain_error_text(pc, usage);
			return 0;
		}
		n = v;
	}
	if (!r) {
		plain_error_text(pc, "you are not in a room; /join #room");
		return 0;
	}
	p = plain_store_page(pc, r->id);
	if (p && p->seq)
		snprintf(ref, sizeof(ref), "seq=%lld", (long long)p->seq);
	else if (p && p->ms)
		snprintf(ref, sizeof(ref), "ms=%lld", (long long)p->ms);
	else
		snprintf(ref, sizeof(ref), "*");
	*op = (struct core_op){.kind = CORE_HISTORY,
			       .flags = CORE_HISTORY_BEFORE,
			       .room = {r->name, strlen(r->name)},
			       .arg = {ref, strlen(ref)},
			       .num = n};
	return 1;
}

/* One word, no spaces in it: text as the plain parser splits it. */
static int
plain_store_one_word(struct core_str s)
{
	return s.n > 0 && !memchr(s.p, ' ', s.n);
}

int
plain_store_command(struct pconn *pc, enum plain_store_cmd cmd,
		    struct core_str word, struct core_str text,
		    const char *usage, struct core_op *op)
{
	const char *sp;

	switch (cmd) {
	case PLAIN_STORE_HISTORY:
		return plain_store_history(pc, word, usage, op);
	case PLAIN_STORE_REGISTER:
		*op = (struct core_op){.kind = CORE_REGISTER, .text = word};
		return 1;
	case PLAIN_STORE_UNREGISTER:
		*op = (struct core_op){.kind = CORE_UNREGISTER, .text = word};
		return 1;
	case PLAIN_STORE_LOGOUT:
		*op = (struct core_op){.kind = CORE_LOGOUT};
		return 1;
	case PLAIN_STORE_PASSWORD:
		if (!plain_store_one_word(text))
			break;
		*op = (struct core_op){
		    .kind = CORE_PASSWORD, .arg = word, .text = text};
		return 1;
	case PLAIN_STORE_LOGIN:
		/* PASSWORD, or NICK PASSWORD. */
		sp = memchr(text.p, ' ', text.n);
		*op = (struct core_op){.kind = CORE_LOGIN, .text = text};
		if (!sp)
			return 1;
		op->arg = (struct core_str){text.p, (size_t)(sp - text.p)};
		while (sp < text.p + text.n && *sp == ' ')
			sp++;
		op->text =
		    (struct core_str){sp, (size_t)(text.p + text.n - sp)};
		if (plain_store_one_word(op->text))
			return 1;
		break;
	}
	plain_error_text(pc, usage);
	return 0;
}

/* ---- what the server says ----------------------------------------------- */

void
plain_history(struct pconn *pc, const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	time_t t = (time_t)(r->ts_ms / 1000);
	char line[PROTO_LINE_MAX], when[16];
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%SZ", &tm);
	if (r->aux & OUTBOX_MSG_ACTION)
		n = (size_t)snprintf(
		    line, sizeof(line) - 1, "%.*s [history %s] * %.*s %.*s",
		    (int)v->room.n, v->room.p, when, (int)v->nick.n, v->nick.p,
		    (int)v->text.n, v->text.p);
	else
		n = (size_t)snprintf(
		    line, sizeof(line) - 1, "%.*s [history %s] <%.*s> %.*s",
		    (int)v->room.n, v->room.p, when, (int)v->nick.n, v->nick.p,
		    (int)v->text.n, v->text.p);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	pc->emit(pc, line, n);
}

void
plain_store_error(struct pconn *pc, enum core_err err, struct outbox_str room,
		  struct outbox_str arg, long num)
{
	char q[NAMES_QUOTE_SIZE];

	names_quote(arg.p, arg.n, q);
	switch (err) {
	case CORE_ERR_STORE_DOWN:
		plain_error_text(pc, "history and accounts are unavailable "
				     "right now; try again soon");
		break;
	case CORE_ERR_NO_STORE:
		plain_error_text(pc, "this server keeps no database: no stored "
				     "history and no accounts");
		break;
	case CORE_ERR_NICK_REGISTERED:
		plain_emitf(pc,
			    "-!- error: nickname %s is registered; /login %s "
			    "PASSWORD to use it",
			    q, q);
		break;
	case CORE_ERR_LOGIN_FAILED:
		plain_emitf(pc,
			    "-!- error: login as %s failed: wrong password or "
			    "no such account",
			    q);
		break;
	case CORE_ERR_LOGIN_LIMITED:
		plain_emitf(pc,
			    "-!- error: too many failed logins; try again in "
			    "%ld s",
			    num);
		break;
	case CORE_ERR_ACCOUNT_EXISTS:
		plain_emitf(pc, "-!- error: nickname %s is already registered",
			    q);
		break;
	case CORE_ERR_NOT_LOGGED_IN:
		plain_error_text(pc, "you are not logged in");
		break;
	case CORE_ERR_PASSWORD_INVALID:
		plain_emitf(pc,
			    "-!- error: a password is %ld to 128 characters, "
			    "without spaces",
			    num);
		break;
	case CORE_ERR_HISTORY_REF:
		plain_emitf(pc, "-!- error: unknown message %s in %.*s", q,
			    (int)room.n, room.p);
		break;
	case CORE_ERR_LOGGED_IN:
		plain_emitf(pc,
			    "-!- error: you are already logged in as %s; "
			    "/logout first",
			    q);
		break;
	default:
		plain_error_text(pc, "the server refused that");
		break;
	}
}

void
plain_store_reply(struct pconn *pc, const struct outbox_view *v)
{
	uint64_t n = 0;

	if (v->rec->nids)
		memcpy(&n, &v->ids[0], sizeof(n));
	switch (pc->pending) {
	case CORE_HISTORY:
		if (n == 0)
			plain_emitf(pc, "-!- no earlier messages in %.*s",
				    (int)v->room.n, v->room.p);
		else
			plain_emitf(pc,
				    "-!- history of %.*s: %llu message%s, "
				    "oldest first; /history for earlier ones",
				    (int)v->room.n, v->room.p,
				    (unsigned long long)n, n == 1 ? "" : "s");
		break;
	case CORE_REGISTER:
		plain_emitf(pc,
			    "-!- registered %.*s; you are logged in (next "
			    "time: /login %.*s PASSWORD)",
			    (int)v->arg.n, v->arg.p, (int)v->arg.n, v->arg.p);
		break;
	case CORE_LOGIN:
		plain_emitf(pc, "-!- you are logged in as %.*s", (int)v->arg.n,
			    v->arg.p);
		break;
	case CORE_LOGOUT:
		plain_emitf(pc, "-!- you are logged out");
		break;
	case CORE_PASSWORD:
		plain_emitf(pc, "-!- password changed");
		break;
	case CORE_UNREGISTER:
		plain_emitf(pc, "-!- %.*s is no longer registered",
			    (int)v->arg.n, v->arg.p);
		break;
	default:
		break;
	}
}
