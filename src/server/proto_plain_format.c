/*
 * proto_plain_format: the plain protocol's lines for broadcast records
 * (messages, joins, parts, quits, renames, topics; moderation's in
 * proto_plain_mod.c). Pure; run once per record and variant by every
 * session (in the fork model, once per delivery), so without printf.
 */
#include "server/lineout.h"
#include "server/proto_plain_int.h"
#include "server/proto_plain_mod.h"

/* ---- format: lines every member of a room gets -------------------------- */

static size_t
plain_end(struct line_out *l)
{
	line_put(l, "\n", 1);
	return l->n;
}

size_t
plain_format(const struct proto_env *env, const struct outbox_view *v,
	     unsigned variant, enum proto_role role, char *out)
{
	const struct outbox_rec *r = v->rec;
	struct line_out l = {out, 0, 0};

	(void)env;
	(void)variant;
	/* CTCP queries (an IRC client's VERSION, PING) are not for people. */
	if ((r->kind == OUTBOX_MSG || r->kind == OUTBOX_PRIVMSG) &&
	    (r->aux & OUTBOX_MSG_CTCP))
		return 0;
	switch (r->kind) {
	case OUTBOX_MSG:
		if (role == PROTO_ROLE_AUTHOR)
			return 0; /* the client shows what it said itself */
		line_put_str(&l, v->room);
		line_puts(&l, r->aux & OUTBOX_MSG_ACTION ? " * " : " <");
		line_put_str(&l, v->nick);
		line_puts(&l, r->aux & OUTBOX_MSG_ACTION ? " " : "> ");
		break;
	case OUTBOX_PRIVMSG:
		if (role == PROTO_ROLE_AUTHOR) {
			line_puts(&l, "-> *");
			line_put_str(&l, v->arg);
		} else {
			line_puts(&l, "*");
			line_put_str(&l, v->nick);
		}
		line_puts(&l, "* ");
		break;
	case OUTBOX_JOIN:
	case OUTBOX_PART:
		line_puts(&l, "-!- ");
		line_put_str(&l, v->nick);
		line_puts(&l, r->kind == OUTBOX_JOIN ? " joined " : " left ");
		line_put_str(&l, v->room);
		if (r->kind == OUTBOX_JOIN || !v->text.n)
			return plain_end(&l);
		line_puts(&l, " (");
		line_put_str(&l, v->text);
		line_puts(&l, ")");
		return plain_end(&l);
	case OUTBOX_QUIT:
		line_puts(&l, "-!- ");
		line_put_str(&l, v->nick);
		line_puts(&l, " quit (");
		line_put_str(&l, v->text);
		line_puts(&l, ")");
		return plain_end(&l);
	case OUTBOX_NICK:
		line_puts(&l, "-!- ");
		line_put_str(&l, v->nick);
		line_puts(&l, " is now known as ");
		line_put_str(&l, v->arg);
		return plain_end(&l);
	case OUTBOX_TOPIC:
		line_puts(&l, "-!- ");
		line_put_str(&l, v->nick);
		line_puts(&l, v->text.n ? " set the topic of "
					: " cleared the "
					  "topic of ");
		line_put_str(&l, v->room);
		if (!v->text.n)
			return plain_end(&l);
		line_puts(&l, ": ");
		break;
	default:
		return plain_mod_format(v, role, out);
	}
	line_put_str(&l, v->text);
	return plain_end(&l);
}
