/*
 * proto_plain_mod: moderation in the plain protocol (proto_plain_mod.h):
 * its command table, what each command asks of the core, and every line
 * the server sends about operators, modes, kicks, bans and server
 * operators. Pure; session processes. Room commands act on the current
 * room unless their first word is a #room.
 */
#include "server/proto_plain_mod.h"

#include "lib/line.h"
#include "lib/log.h"
#include "server/modes.h"
#include "server/names.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum plain_mod_cmd {
	PM_OP,
	PM_DEOP,
	PM_VOICE,
	PM_DEVOICE,
	PM_KICK,
	PM_BAN,
	PM_UNBAN,
	PM_BANS,
	PM_INVITE,
	PM_MODE,
	PM_OPER,
	PM_KILL,
	PM_WALL,
	PM_GLINE,
	PM_UNGLINE,
	PM_GLINES,
	PM_REGISTER_ROOM,
	PM_DROP_ROOM,
	PM_ROOM_INFO,
};

/* What a command takes after its optional #room: a word (a nick or a
 * mask), then text; need: the word is required. */
static const struct plain_mod_command {
	const char *name;
	enum plain_mod_cmd cmd;
	int room;	  /* acts on a room: an optional #room first */
	int need_word;	  /* a word is required */
	int need_text;	  /* text is required */
	const char *mode; /* for /op and friends: the change it makes */
	const char *usage;
	const char *help;
} plain_mod_commands[] = {
    {"op", PM_OP, 1, 1, 0, "+o", "usage: /op [#room] NICK",
     "/op [#room] NICK        make NICK an operator of the room"},
    {"deop", PM_DEOP, 1, 1, 0, "-o", "usage: /deop [#room] NICK",
     "/deop [#room] NICK      take operator status away"},
    {"voice", PM_VOICE, 1, 1, 0, "+v", "usage: /voice [#room] NICK",
     "/voice [#room] NICK     let NICK speak in a moderated (+m) room"},
    {"devoice", PM_DEVOICE, 1, 1, 0, "-v", "usage: /devoice [#room] NICK",
     "/devoice [#room] NICK   take voice away"},
    {"kick", PM_KICK, 1, 1, 0, NULL, "usage: /kick [#room] NICK [reason]",
     "/kick [#room] NICK [reason]  remove NICK from the room"},
    {"ban", PM_BAN, 1, 1, 0, "+b", "usage: /ban [#room] MASK",
     "/ban [#room] MASK       ban nick, nick!user@host or $a:account"},
    {"unban", PM_UNBAN, 1, 1, 0, "-b", "usage: /unban [#room] MASK",
     "/unban [#room] MASK     lift a ban"},
    {"bans", PM_BANS, 1, 0, 0, NULL, "usage: /bans [#room]",
     "/bans [#room]           list the room's bans"},
    {"invite", PM_INVITE, 1, 1, 0, NULL, "usage: /invite [#room] NICK",
     "/invite [#room] NICK    invite NICK (lets it into a +i room)"},
    {"mode", PM_MODE, 1, 0, 0, NULL, "usage: /mode [#room] [+-modes [args]]",
     "/mode [#room] [+-modes [args]]  show or change modes: +i +m +n +s "
     "+t +k KEY +l N +o/+v NICK +b MASK"},
    {"oper", PM_OPER, 0, 1, 1, NULL, "usage: /oper NAME PASSWORD",
     "/oper NAME PASSWORD     become a server operator"},
    {"kill", PM_KILL, 0, 1, 0, NULL, "usage: /kill NICK [reason]",
     "/kill NICK [reason]     disconnect NICK (server operators)"},
    {"wall", PM_WALL, 0, 0, 1, NULL, "usage: /wall text",
     "/wall text              tell everyone (server operators)"},
    {"gline", PM_GLINE, 0, 1, 0, NULL, "usage: /gline ADDRESS [reason]",
     "/gline ADDRESS [reason] refuse connections from an address mask "
     "(server operators)"},
    {"ungline", PM_UNGLINE, 0, 1, 0, NULL, "usage: /ungline ADDRESS",
     "/ungline ADDRESS        lift a server ban"},
    {"glines", PM_GLINES, 0, 0, 0, NULL, "usage: /glines",
     "/glines                 list the server bans"},
    {"register-room", PM_REGISTER_ROOM, 1, 0, 0, NULL,
     "usage: /register-room [#room]",
     "/register-room [#room]  register a room you run to your account: it "
     "keeps its modes, bans, topic and operators"},
    {"unregister-room", PM_DROP_ROOM, 1, 0, 0, NULL,
     "usage: /unregister-room [#room]",
     "/unregister-room [#room]  unregister your room (also /drop-room)"},
    {"drop-room", PM_DROP_ROOM, 1, 0, 0, NULL, "usage: /drop-room [#room]",
     "/drop-room [#room]      the same as /unregister-room"},
    {"room-info", PM_ROOM_INFO, 1, 0, 0, NULL, "usage: /room-info [#room]",
     "/room-info [#room]      who registered a room, and when"},
};

#define PM_NCOMMANDS                                                           \
	(sizeof(plain_mod_commands) / sizeof(plain_mod_commands[0]))

/* The text of a change (/op NICK -> "+o NICK") lives here until the next
 * parse, as the operation's strings must. */
static char plain_mod_scratch[8 + 2 * 1024];

static void plain_mod_emitf(struct pconn *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
plain_mod_emitf(struct pconn *pc, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;
	size_t len;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	len = n < 0 ? 0 : line_utf8_cut(line, (size_t)n, sizeof(line) - 2);
	line[len++] = '\n';
	pc->emit(pc, line, len);
}

/* ---- parse -------------------------------------------------------------- */

static struct core_str
plain_mod_word(const char *s, size_t len, size_t *at)
{
	size_t i = *at, start;

	while (i < len && s[i] == ' ')
		i++;
	start = i;
	while (i < len && s[i] != ' ')
		i++;
	*at = i;
	return (struct core_str){s + start, i - start};
}

static struct core_str
plain_mod_rest(const char *s, size_t len, size_t at)
{
	while (at < len && s[at] == ' ')
		at++;
	while (len > at && s[len - 1] == ' ')
		len--;
	return (struct core_str){s + at, len - at};
}

/* The room a command names (word, when it starts with '#': the
 * supervisor says what it is), else the current one; empty with the
 * error emitted. */
static struct core_str
plain_mod_room(struct pconn *pc, struct core_str word,
	       const struct proto_room *cur)
{
	char room[OUTBOX_ROOM_MAX + 1];

	if (!word.n) {
		if (!cur) {
			plain_mod_emitf(pc, "-!- error: you are not in a room; "
					    "name one: #room");
			return (struct core_str){"", 0};
		}
		return (struct core_str){cur->name, strlen(cur->name)};
	}
	snprintf(room, sizeof(room), "%.*s", (int)word.n, word.p);
	if (word.n > CONFIG_ROOM_MAX + 1 || !names_room_valid(room)) {
		pc->proto->error(pc, CORE_ERR_ROOM_INVALID,
				 (struct outbox_str){word.p, word.n},
				 (struct outbox_str){"", 0}, 0);
		return (struct core_str){"", 0};
	}
	return word;
}

/* "+o NICK": the change a shortcut makes. */
static struct core_str
plain_mod_change(const char *mode, struct core_str word)
{
	int n = snprintf(plain_mod_scratch, sizeof(plain_mod_scratch),
			 "%s %.*s", mode, (int)word.n, word.p);

	return (struct core_str){plain_mod_scratch, n < 0 ? 0 : (size_t)n};
}

/* From word to the end of text (the words after it), as one string. */
static struct core_str
plain_mod_span(struct core_str word, struct core_str text)
{
	if (!text.n)
		return word;
	return (struct core_str){word.p, (size_t)(text.p - word.p) + text.n};
}

static int
plain_mod_room_op(const struct plain_mod_command *c, struct core_str room,
		  struct core_str word, struct core_str text,
		  struct core_op *op)
{
	if (c->mode) {
		*op = (struct core_op){.kind = CORE_MODE,
				       .room = room,
				       .text = plain_mod_change(c->mode, word)};
		return 1;
	}
	switch (c->cmd) {
	case PM_KICK:
		*op = (struct core_op){
		    .kind = CORE_KICK, .room = room, .arg = word, .text = text};
		return 1;
	case PM_BANS:
		*op = (struct core_op){.kind = CORE_BANS, .room = room};
		return 1;
	case PM_INVITE:
		*op = (struct core_op){
		    .kind = CORE_INVITE, .room = room, .arg = word};
		return 1;
	case PM_REGISTER_ROOM:
		*op =
		    (struct core_op){.kind = CORE_ROOM_REGISTER, .room = room};
		return 1;
	case PM_DROP_ROOM:
		*op = (struct core_op){.kind = CORE_ROOM_DROP, .room = room};
		return 1;
	case PM_ROOM_INFO:
		*op = (struct core_op){.kind = CORE_ROOM_INFO, .room = room};
		return 1;
	default: /* PM_MODE: the word and the text are the changes */
		if (word.n)
			text = plain_mod_span(word, text);
		*op = (struct core_op){
		    .kind = CORE_MODE, .room = room, .text = text};
		return 1;
	}
}

static int
plain_mod_server_op(const struct plain_mod_command *c, struct core_str word,
		    struct core_str text, struct core_op *op)
{
	switch (c->cmd) {
	case PM_OPER:
		*op = (struct core_op){
		    .kind = CORE_OPER, .arg = word, .text = text};
		return 1;
	case PM_KILL:
		*op = (struct core_op){
		    .kind = CORE_KILL, .arg = word, .text = text};
		return 1;
	case PM_WALL:
		if (word.n)
			text = plain_mod_span(word, text);
		*op = (struct core_op){.kind = CORE_WALL, .text = text};
		return 1;
	case PM_GLINE:
		*op = (struct core_op){
		    .kind = CORE_GLINE, .arg = word, .text = text};
		return 1;
	case PM_UNGLINE:
		*op = (struct core_op){.kind = CORE_GLINE,
				       .flags = CORE_GLINE_REMOVE,
				       .arg = word};
		return 1;
	default:
		*op = (struct core_op){.kind = CORE_GLINE,
				       .flags = CORE_GLINE_LIST};
		return 1;
	}
}

int
plain_mod_parse(struct pconn *pc, const char *name, size_t nlen,
		const char *args, size_t alen, const struct proto_room *cur,
		struct core_op *ops)
{
	const struct plain_mod_command *c = NULL;
	struct core_str first, word, text;
	size_t at = 0, before;

	for (size_t i = 0; i < PM_NCOMMANDS && !c; i++)
		if (strlen(plain_mod_commands[i].name) == nlen &&
		    strncasecmp(name, plain_mod_commands[i].name, nlen) == 0)
			c = &plain_mod_commands[i];
	if (!c)
		return -1;
	first = plain_mod_word(args, alen, &at);
	if (c->room) {
		/* /invite NICK #room, as IRC has it, is fine too. */
		struct core_str room = {"", 0};
		if (first.n && first.p[0] == '#') {
			room = first;
			before = at;
			word = plain_mod_word(args, alen, &at);
		} else {
			word = first;
			before = at;
			struct core_str second =
			    plain_mod_word(args, alen, &at);
			if (c->cmd == PM_INVITE && second.n &&
			    second.p[0] == '#')
				room = second;
			else
				at = before;
		}
		text = plain_mod_rest(args, alen, at);
		if ((c->need_word && !word.n) ||
		    ((c->mode || c->cmd == PM_INVITE) && text.n) ||
		    (c->cmd >= PM_REGISTER_ROOM && (word.n || text.n))) {
			plain_mod_emitf(pc, "-!- error: %s", c->usage);
			return 0;
		}
		room = plain_mod_room(pc, room, cur);
		if (!room.n)
			return 0;
		return plain_mod_room_op(c, room, word, text, ops);
	}
	word = first;
	text = plain_mod_rest(args, alen, at);
	if ((c->need_word && !word.n) || (c->need_text && !word.n) ||
	    (c->need_word && c->need_text && !text.n) ||
	    ((c->cmd == PM_UNGLINE || c->cmd == PM_GLINES) && text.n) ||
	    (c->cmd == PM_GLINES && word.n)) {
		plain_mod_emitf(pc, "-!- error: %s", c->usage);
		return 0;
	}
	return plain_mod_server_op(c, word, text, ops);
}

void
plain_mod_help(struct pconn *pc)
{
	for (size_t i = 0; i < PM_NCOMMANDS; i++)
		plain_mod_emitf(pc, "-!- help: %s", plain_mod_commands[i].help);
}

/* ---- format ------------------------------------------------------------- */

struct plain_mod_line {
	char *p;
	size_t n;
};

static void
plain_mod_put(struct plain_mod_line *l, struct outbox_str s)
{
	memcpy(l->p + l->n, s.p, s.n);
	l->n += s.n;
}

static void
plain_mod_puts(struct plain_mod_line *l, const char *s)
{
	plain_mod_put(l, outbox_str(s));
}

size_t
plain_mod_format(const struct outbox_view *v, enum proto_role role, char *out)
{
	struct plain_mod_line l = {out, 0};

	(void)role;
	switch (v->rec->kind) {
	case OUTBOX_MODE:
		plain_mod_puts(&l, "-!- ");
		plain_mod_put(&l, v->nick.n ? v->nick : outbox_str("server"));
		plain_mod_puts(&l, " sets mode ");
		plain_mod_put(&l, v->text);
		plain_mod_puts(&l, " on ");
		plain_mod_put(&l, v->room);
		break;
	case OUTBOX_KICK:
		plain_mod_puts(&l, "-!- ");
		plain_mod_put(&l, v->nick);
		plain_mod_puts(&l, " kicked ");
		plain_mod_put(&l, v->arg);
		plain_mod_puts(&l, " from ");
		plain_mod_put(&l, v->room);
		if (v->text.n) {
			plain_mod_puts(&l, " (");
			plain_mod_put(&l, v->text);
			plain_mod_puts(&l, ")");
		}
		break;
	case OUTBOX_WALL:
		plain_mod_puts(&l, "-!- wall from ");
		plain_mod_put(&l, v->nick);
		plain_mod_puts(&l, ": ");
		plain_mod_put(&l, v->text);
		break;
	default:
		return 0;
	}
	l.p[l.n++] = '\n';
	return l.n;
}

/* ---- lines for one client ----------------------------------------------- */

static uint64_t
plain_mod_id(const struct outbox_view *v)
{
	uint64_t x = 0;

	if (v->rec->nids)
		memcpy(&x, &v->ids[0], sizeof(x));
	return x;
}

static void
plain_mod_ban_info(struct pconn *pc, const struct outbox_view *v)
{
	if (v->room.n)
		plain_mod_emitf(pc, "-!- ban on %.*s: %.*s (set by %.*s)",
				(int)v->room.n, v->room.p, (int)v->arg.n,
				v->arg.p, (int)v->nick.n, v->nick.p);
	else
		plain_mod_emitf(pc, "-!- server ban: %.*s (set by %.*s%s%.*s)",
				(int)v->arg.n, v->arg.p, (int)v->nick.n,
				v->nick.p, v->text.n ? ": " : "",
				(int)v->text.n, v->text.p);
}

static void
plain_mod_room_info(struct pconn *pc, const struct outbox_view *v)
{
	time_t secs = (time_t)(plain_mod_id(v) / 1000);
	char when[32];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	plain_mod_emitf(pc, "-!- %.*s is registered to %.*s since %s",
			(int)v->room.n, v->room.p, (int)v->arg.n, v->arg.p,
			when);
}

/* The success of a moderation request, where the client would not see
 * otherwise that it worked. */
static void
plain_mod_done(struct pconn *pc, const struct outbox_view *v)
{
	int rn = (int)v->room.n, an = (int)v->arg.n;

	switch (pc->pending) {
	case CORE_BANS:
		plain_mod_emitf(pc, "-!- end of the bans of %.*s", rn,
				v->room.p);
		break;
	case CORE_INVITE:
		plain_mod_emitf(pc, "-!- invited %.*s to %.*s", an, v->arg.p,
				rn, v->room.p);
		break;
	case CORE_OPER:
		plain_mod_emitf(pc, "-!- you are now a server operator");
		break;
	case CORE_KILL:
		plain_mod_emitf(pc, "-!- killed %.*s", an, v->arg.p);
		break;
	case CORE_ROOM_REGISTER:
		plain_mod_emitf(pc, "-!- %.*s is now registered to %.*s", rn,
				v->room.p, an, v->arg.p);
		break;
	case CORE_ROOM_DROP:
		plain_mod_emitf(pc, "-!- %.*s is no longer registered", rn,
				v->room.p);
		break;
	case CORE_ROOM_INFO:
		plain_mod_room_info(pc, v);
		break;
	case CORE_GLINE:
		if (!an)
			plain_mod_emitf(pc, "-!- end of the server bans");
		else if (plain_mod_id(v) == CORE_GLINE_REMOVE)
			plain_mod_emitf(pc, "-!- server ban on %.*s lifted", an,
					v->arg.p);
		else
			plain_mod_emitf(pc, "-!- server ban on %.*s set", an,
					v->arg.p);
		break;
	default:
		break;
	}
}

int
plain_mod_deliver(struct pconn *pc, const struct outbox_view *v)
{
	switch (v->rec->kind) {
	case OUTBOX_INVITE:
		plain_mod_emitf(pc, "-!- %.*s invites you to %.*s; /join %.*s",
				(int)v->nick.n, v->nick.p, (int)v->room.n,
				v->room.p, (int)v->room.n, v->room.p);
		return 1;
	case OUTBOX_BAN_INFO:
		plain_mod_ban_info(pc, v);
		return 1;
	case OUTBOX_ROOM_INFO:
		if (pc->pending != CORE_MODE)
			return 0;
		plain_mod_emitf(pc, "-!- modes of %.*s: %.*s", (int)v->room.n,
				v->room.p, (int)v->arg.n, v->arg.p);
		return 1;
	case OUTBOX_REPLY:
		/* The protocol's own reply handling goes on after this. */
		if (v->rec->aux == CORE_OK)
			plain_mod_done(pc, v);
		return 0;
	default:
		return 0;
	}
}

/* The wording of each moderation error: before the room or name, the
 * name, between, the room, after (NULL parts: none). */
static const struct plain_mod_wording {
	enum core_err err;
	const char *text; /* %R: the room, %A: the name, %N: the number */
} plain_mod_errors[] = {
    {CORE_ERR_CHANOP_NEEDED, "you are not an operator of %R"},
    {CORE_ERR_USER_NOT_IN, "%A is not in %R"},
    {CORE_ERR_USER_ON_ROOM, "%A is already in %R"},
    {CORE_ERR_UNKNOWN_MODE, "unknown mode %A; modes: b i k l m n o s t v"},
    {CORE_ERR_ROOM_FULL, "%R is full (+l)"},
    {CORE_ERR_INVITE_ONLY, "%R is invite only (+i); ask an operator to "
			   "/invite you"},
    {CORE_ERR_BANNED, "you are banned from %R"},
    {CORE_ERR_BAD_KEY, "%R needs its key: /join %R KEY"},
    {CORE_ERR_CANNOT_SEND, "you cannot speak in %R (+m: only voiced "
			   "members and operators)"},
    {CORE_ERR_OPER_FAILED, "wrong operator password"},
    {CORE_ERR_NO_OPER_NAME, "no such operator %A"},
    {CORE_ERR_NOT_OPER, "only server operators may do that; /oper first"},
    {CORE_ERR_MODE_ARG, "mode %A needs a parameter: +k KEY (1-23 "
			"characters), +l N (1-65535), +o/+v NICK, +b MASK"},
    {CORE_ERR_BAD_MASK, "invalid mask %A: nick, nick!user@host, "
			"$a:account or an address"},
    {CORE_ERR_BAN_LIST_FULL, "too many bans (max %N)"},
    {CORE_ERR_NO_SUCH_BAN, "no such ban: %A"},
    {CORE_ERR_ROOM_REGISTERED, "%R is already registered to %A"},
    {CORE_ERR_ROOM_UNREGISTERED, "%R is not registered"},
    {CORE_ERR_NOT_FOUNDER, "only %A, the founder of %R, may do that"},
    {CORE_ERR_ROOM_SERVERS, "%R belongs to the server: it cannot be "
			    "registered"},
};

int
plain_mod_error(struct pconn *pc, enum core_err err, struct outbox_str room,
		struct outbox_str arg, long num)
{
	const struct plain_mod_wording *w = NULL;
	char line[512], r[NAMES_QUOTE_SIZE], a[NAMES_QUOTE_SIZE];
	size_t n = 0;

	for (size_t i = 0;
	     i < sizeof(plain_mod_errors) / sizeof(plain_mod_errors[0]); i++)
		if (plain_mod_errors[i].err == err)
			w = &plain_mod_errors[i];
	if (!w)
		return 0;
	/* An operation's empty strings may have no bytes behind them. */
	names_quote(room.n ? room.p : "", room.n, r);
	names_quote(arg.n ? arg.p : "", arg.n, a);
	for (const char *p = w->text;
	     *p && n + NAMES_QUOTE_SIZE + 24 < sizeof(line); p++) {
		if (p[0] == '%' &&
		    (p[1] == 'R' || p[1] == 'A' || p[1] == 'N')) {
			int k = p[1] == 'N'
				    ? snprintf(line + n, sizeof(line) - n,
					       "%ld", num)
				    : snprintf(line + n, sizeof(line) - n, "%s",
					       p[1] == 'R' ? r : a);
			n += k > 0 ? (size_t)k : 0;
			p++;
			continue;
		}
		line[n++] = *p;
	}
	line[n] = '\0';
	log_debug("client %s: refused: %s", pc->nick, line);
	plain_mod_emitf(pc, "-!- error: %s", line);
	return 1;
}
