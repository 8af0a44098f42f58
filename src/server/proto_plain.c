/*
 * proto_plain: the plain line protocol of the README (nc, telnet, the
 * parley client). Its whole surface reads in two places: the command table
 * (what a client may send) and the wording below (every line the server
 * sends; the lines of broadcast records are in proto_plain_format.c). Pure: run
 * by session processes and fuzzed; it keeps one piece of state per client, the
 * current room.
 */
#include "server/proto.h"

#include "lib/line.h"
#include "lib/log.h"
#include "server/names.h"
#include "server/proto_plain_int.h"
#include "server/proto_plain_mod.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- what a client may send --------------------------------------------- */

enum plain_cmd {
	PLAIN_NICK,
	PLAIN_JOIN,
	PLAIN_PART,
	PLAIN_ROOMS,
	PLAIN_WHO,
	PLAIN_TOPIC,
	PLAIN_MSG,
	PLAIN_ME,
	PLAIN_QUIT,
	PLAIN_HELP,
	PLAIN_STORE, /* and after: enum plain_store_cmd, proto_plain_store.c */
};

/* Argument shapes. */
enum plain_args {
	ARGS_NONE,	   /* nothing */
	ARGS_WORD,	   /* exactly one word */
	ARGS_OPT_WORD,	   /* zero or one word */
	ARGS_TEXT,	   /* free text, required */
	ARGS_OPT_TEXT,	   /* free text, optional */
	ARGS_WORD_TEXT,	   /* a word and required text */
	ARGS_OPT_ROOM_TEXT /* optional #room, optional text */
};

static const struct plain_command {
	const char *name;
	enum plain_cmd cmd;
	enum plain_args args;
	const char *usage;
	const char *help;
} plain_commands[] = {
    {"nick", PLAIN_NICK, ARGS_WORD, "usage: /nick NAME",
     "/nick NAME              change your nickname (letters, digits, "
     "-[]\\`^_{|}; max 30)"},
    {"join", PLAIN_JOIN, ARGS_OPT_ROOM_TEXT, "usage: /join #room [KEY]",
     "/join #room [KEY]       join a room (created on first join) or "
     "switch to it"},
    {"part", PLAIN_PART, ARGS_OPT_ROOM_TEXT, "usage: /part [#room] [reason]",
     "/part [#room] [reason]  leave a room (default: the current one)"},
    {"rooms", PLAIN_ROOMS, ARGS_NONE, "usage: /rooms",
     "/rooms                  list rooms with member count and topic"},
    {"who", PLAIN_WHO, ARGS_OPT_WORD, "usage: /who [#room]",
     "/who [#room]            list the members of a room"},
    {"topic", PLAIN_TOPIC, ARGS_OPT_ROOM_TEXT, "usage: /topic [#room] [text]",
     "/topic [#room] [text]   show or set a room's topic (- clears it)"},
    {"msg", PLAIN_MSG, ARGS_WORD_TEXT, "usage: /msg NICK text",
     "/msg NICK text          send a private message"},
    {"me", PLAIN_ME, ARGS_TEXT, "usage: /me action",
     "/me action              act in the current room"},
    {"quit", PLAIN_QUIT, ARGS_OPT_TEXT, "usage: /quit [reason]",
     "/quit [reason]          leave the server"},
    {"help", PLAIN_HELP, ARGS_NONE, "usage: /help",
     "/help                   this list"},
    {"history", PLAIN_STORE + PLAIN_STORE_HISTORY, ARGS_OPT_WORD,
     "usage: /history [N] (N from 1 to 1000)",
     "/history [N]            N earlier messages of the room (default 20)"},
    {"register", PLAIN_STORE + PLAIN_STORE_REGISTER, ARGS_WORD,
     "usage: /register PASSWORD",
     "/register PASSWORD      register your nickname"},
    {"login", PLAIN_STORE + PLAIN_STORE_LOGIN, ARGS_TEXT,
     "usage: /login [NICK] PASSWORD",
     "/login [NICK] PASSWORD  log in to a registered nickname"},
    {"logout", PLAIN_STORE + PLAIN_STORE_LOGOUT, ARGS_NONE, "usage: /logout",
     "/logout                 log out (a registered nickname is given up)"},
    {"password", PLAIN_STORE + PLAIN_STORE_PASSWORD, ARGS_WORD_TEXT,
     "usage: /password OLD NEW",
     "/password OLD NEW       change your password"},
    {"unregister", PLAIN_STORE + PLAIN_STORE_UNREGISTER, ARGS_WORD,
     "usage: /unregister PASSWORD",
     "/unregister PASSWORD    delete your account"},
};

#define PLAIN_NCOMMANDS (sizeof(plain_commands) / sizeof(plain_commands[0]))

static const char plain_help_text[] =
    "text                    a line without / goes to the current room; "
    "//text sends /text";

/* ---- what the server sends ---------------------------------------------- */

#define PLAIN_WELCOME "-!- welcome to parley, %s! /help lists the commands"
#define PLAIN_NO_ROOM "you are not in a room"

/* The wording of each core error: text before its parameter, which
 * parameter (core.h says which each error carries), text after. */
enum plain_param { P_NONE, P_NAME, P_NUM };

static const struct plain_wording {
	const char *before;
	enum plain_param param;
	const char *after;
} plain_errors[] = {
    [CORE_ERR_NICK_IN_USE] = {"nickname ", P_NAME, " is already taken"},
    [CORE_ERR_NICK_INVALID] = {"invalid nickname: 1-30 letters, digits or "
			       "-[]\\`^_{|}, not starting with a digit or -",
			       P_NONE, ""},
    [CORE_ERR_NICK_SAME] = {"you are already ", P_NAME, ""},
    [CORE_ERR_ROOM_INVALID] = {"invalid room name: # then 1-49 bytes "
			       "without spaces, commas, colons or control "
			       "characters",
			       P_NONE, ""},
    [CORE_ERR_NOT_IN_ROOM] = {"you are not in ", P_NAME, ""},
    [CORE_ERR_NO_SUCH_ROOM] = {"no such room ", P_NAME, ""},
    [CORE_ERR_NO_SUCH_NICK] = {"no such nick ", P_NAME, ""},
    [CORE_ERR_CLIENT_ROOMS] = {"you are in too many rooms (max ", P_NUM, ")"},
    [CORE_ERR_SERVER_ROOMS] = {"too many rooms on this server (max ", P_NUM,
			       ")"},
    [CORE_ERR_TOPIC_TOO_LONG] = {"topic too long (max ", P_NUM, " bytes)"},
    [CORE_ERR_NO_ROOM] = {PLAIN_NO_ROOM "; /join #room", P_NONE, ""},
    [CORE_ERR_NO_TEXT] = {"nothing to send", P_NONE, ""},
    [CORE_ERR_UNAVAILABLE] = {"the server cannot do that now", P_NONE, ""},
};

#define PLAIN_NERRORS (sizeof(plain_errors) / sizeof(plain_errors[0]))

/* ---- state -------------------------------------------------------------- */

static struct plain_state *
plain_state(const struct pconn *pc)
{
	return pc->state;
}

static struct proto_room *
plain_current(const struct pconn *pc)
{
	return proto_room_by_id(pc, plain_state(pc)->current);
}

/* ---- output helpers ----------------------------------------------------- */

static size_t plain_vformat(char *out, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Formats one line with its LF into out (cap bytes, at least 2). */
static size_t
plain_vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
	int n = vsnprintf(out, cap - 1, fmt, ap);
	size_t len = n < 0 ? 0 : line_utf8_cut(out, (size_t)n, cap - 2);

	out[len++] = '\n';
	return len;
}

void
plain_emitf(struct pconn *pc, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = plain_vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	pc->emit(pc, line, n);
}

void
plain_error_text(struct pconn *pc, const char *text)
{
	log_debug("client %s: refused: %s", pc->nick, text);
	plain_emitf(pc, "-!- error: %s", text);
}

/* ---- parse -------------------------------------------------------------- */

static size_t
plain_skip_spaces(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

static size_t
plain_word_end(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] != ' ')
		i++;
	return i;
}

static size_t
plain_trim_end(const char *s, size_t len)
{
	while (len > 0 && s[len - 1] == ' ')
		len--;
	return len;
}

/* Splits s[0..len) by shape into a word and text; returns 0 or -1 for a
 * usage error. */
static int
plain_args(enum plain_args shape, const char *s, size_t len,
	   struct core_str *word, struct core_str *text)
{
	size_t i = plain_skip_spaces(s, 0, len), end;

	len = plain_trim_end(s, len);
	if (i >= len)
		return (shape == ARGS_NONE || shape == ARGS_OPT_WORD ||
			shape == ARGS_OPT_TEXT || shape == ARGS_OPT_ROOM_TEXT)
			   ? 0
			   : -1;
	switch (shape) {
	case ARGS_NONE:
		return -1;
	case ARGS_TEXT:
	case ARGS_OPT_TEXT:
		*text = (struct core_str){s + i, len - i};
		return 0;
	case ARGS_OPT_ROOM_TEXT:
		if (s[i] != '#') {
			*text = (struct core_str){s + i, len - i};
			return 0;
		}
		/* fall through: a room word, then optional text */
	default:
		break;
	}
	end = plain_word_end(s, i, len);
	*word = (struct core_str){s + i, end - i};
	i = plain_skip_spaces(s, end, len);
	if (i < len) {
		if (shape == ARGS_WORD || shape == ARGS_OPT_WORD)
			return -1;
		*text = (struct core_str){s + i, len - i};
	} else if (shape == ARGS_WORD_TEXT) {
		return -1;
	}
	return 0;
}

static const struct plain_command *
plain_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < PLAIN_NCOMMANDS; i++)
		if (strlen(plain_commands[i].name) == len &&
		    strncasecmp(name, plain_commands[i].name, len) == 0)
			return &plain_commands[i];
	return NULL;
}

static struct core_str
plain_room_str(const struct proto_room *r)
{
	return (struct core_str){r->name, strlen(r->name)};
}

/* A message to the current room. */
static int
plain_say(struct pconn *pc, unsigned flags, struct core_str text,
	  struct core_op *op)
{
	struct proto_room *cur = plain_current(pc);
	size_t i = 0;

	/* Only spaces (a TAB is one after sanitising) says nothing. */
	while (i < text.n && text.p[i] == ' ')
		i++;
	if (i == text.n)
		return 0;
	if (!cur) {
		plain_error_text(pc, PLAIN_NO_ROOM "; /join #room");
		return 0;
	}
	*op = (struct core_op){.kind = CORE_SAY,
			       .flags = flags,
			       .room = plain_room_str(cur),
			       .text = text};
	return 1;
}

/* name is a valid room name; if not, says so and returns 0. */
static int
plain_room_name_ok(struct pconn *pc, struct core_str name)
{
	char room[OUTBOX_ROOM_MAX + 1];

	snprintf(room, sizeof(room), "%.*s", (int)name.n, name.p);
	if (name.n <= CONFIG_ROOM_MAX + 1 && names_room_valid(room))
		return 1;
	pc->proto->error(pc, CORE_ERR_ROOM_INVALID,
			 (struct outbox_str){name.p, name.n},
			 (struct outbox_str){"", 0}, 0);
	return 0;
}

static int
plain_join(struct pconn *pc, struct core_str room, struct core_str key,
	   struct core_op *op)
{
	struct proto_room *r;

	/* A word not starting with '#' came as text: an invalid name. */
	if (!room.n && key.n)
		room = key, key = (struct core_str){"", 0};
	if (!room.n || memchr(key.p, ' ', key.n)) {
		plain_error_text(pc, "usage: /join #room [KEY]");
		return 0;
	}
	if (!plain_room_name_ok(pc, room))
		return 0;
	r = proto_room_named(pc, room.p, room.n);
	if (r) {
		plain_state(pc)->current = r->id;
		plain_emitf(pc, "-!- now talking in %s", r->name);
		return 0;
	}
	*op = (struct core_op){.kind = CORE_JOIN,
			       .flags = CORE_WANT_TOPIC | CORE_WANT_HISTORY,
			       .room = room,
			       .arg = key};
	return 1;
}

/* The room a command names, or the current one when it names none; NULL,
 * with the error emitted, when the client is not in it. hint ends the
 * error for no current room. */
static const struct proto_room *
plain_named_or_current(struct pconn *pc, struct core_str room, const char *hint)
{
	const struct proto_room *r;

	if (!room.n) {
		r = plain_current(pc);
		if (!r)
			plain_emitf(pc, "-!- error: " PLAIN_NO_ROOM "; %s",
				    hint);
		return r;
	}
	if (!plain_room_name_ok(pc, room))
		return NULL;
	r = proto_room_named(pc, room.p, room.n);
	if (!r)
		pc->proto->error(pc, CORE_ERR_NOT_IN_ROOM,
				 (struct outbox_str){room.p, room.n},
				 (struct outbox_str){"", 0}, 0);
	return r;
}

static int
plain_topic(struct pconn *pc, struct core_str room, struct core_str text,
	    struct core_op *op)
{
	const struct proto_room *r =
	    plain_named_or_current(pc, room, "/join #room");

	if (!r)
		return 0;
	*op = (struct core_op){.kind = CORE_TOPIC, .room = plain_room_str(r)};
	if (text.n == 1 && text.p[0] == '-')
		op->flags = CORE_TOPIC_CLEAR;
	else if (text.n) {
		op->flags = CORE_TOPIC_SET;
		op->text = text;
	}
	return 1;
}

static int
plain_command(struct pconn *pc, const struct plain_command *c,
	      struct core_str word, struct core_str text, struct core_op *op)
{
	const struct proto_room *r;

	switch (c->cmd) {
	case PLAIN_NICK:
		*op = (struct core_op){.kind = CORE_NICK, .arg = word};
		return 1;
	case PLAIN_JOIN:
		return plain_join(pc, word, text, op);
	case PLAIN_PART:
		r = plain_named_or_current(pc, word, "/join #room");
		if (!r)
			return 0;
		*op = (struct core_op){
		    .kind = CORE_PART, .room = plain_room_str(r), .text = text};
		return 1;
	case PLAIN_ROOMS:
		*op = (struct core_op){.kind = CORE_ROOMS};
		return 1;
	case PLAIN_WHO:
		if (word.n) {
			if (!plain_room_name_ok(pc, word))
				return 0;
			*op =
			    (struct core_op){.kind = CORE_NAMES, .room = word};
			return 1;
		}
		r = plain_named_or_current(pc, word, "/who #room");
		if (!r)
			return 0;
		*op = (struct core_op){.kind = CORE_NAMES,
				       .room = plain_room_str(r)};
		return 1;
	case PLAIN_TOPIC:
		return plain_topic(pc, word, text, op);
	case PLAIN_MSG:
		*op = (struct core_op){
		    .kind = CORE_PRIVMSG, .arg = word, .text = text};
		return 1;
	case PLAIN_ME:
		return plain_say(pc, OUTBOX_MSG_ACTION, text, op);
	case PLAIN_QUIT:
		*op = (struct core_op){.kind = CORE_QUIT, .text = text};
		if (!text.n)
			op->text = (struct core_str){"quit", 4};
		return 1;
	case PLAIN_HELP:
		for (size_t i = 0; i < PLAIN_NCOMMANDS; i++)
			plain_emitf(pc, "-!- help: %s", plain_commands[i].help);
		plain_mod_help(pc);
		plain_emitf(pc, "-!- help: %s", plain_help_text);
		return 0;
	default:
		break;
	}
	return plain_store_command(pc,
				   (enum plain_store_cmd)(c->cmd - PLAIN_STORE),
				   word, text, c->usage, op);
}

static int
plain_parse(struct pconn *pc, const char *line, size_t len, struct core_op *ops)
{
	const struct plain_command *c;
	struct core_str word = {"", 0}, text = {"", 0};
	size_t name_end;

	if (len == 0 || line[0] != '/' || (len > 1 && line[1] == '/')) {
		size_t skip = len > 1 && line[0] == '/' ? 1 : 0;
		return plain_say(
		    pc, 0, (struct core_str){line + skip, len - skip}, ops);
	}
	name_end = plain_word_end(line, 1, len);
	c = plain_lookup(line + 1, name_end - 1);
	if (!c) {
		int n =
		    plain_mod_parse(pc, line + 1, name_end - 1, line + name_end,
				    len - name_end, plain_current(pc), ops);
		if (n >= 0)
			return n;
		plain_error_text(pc,
				 "unknown command; /help lists the commands");
		return 0;
	}
	if (plain_args(c->args, line + name_end, len - name_end, &word, &text) <
	    0) {
		plain_error_text(pc, c->usage);
		return 0;
	}
	return plain_command(pc, c, word, text, ops);
}

/* After the client's own join or part: the current room follows. */
static void
plain_self(struct pconn *pc, const struct outbox_view *v)
{
	struct plain_state *st = plain_state(pc);

	if (v->rec->kind == OUTBOX_JOIN) {
		st->current = v->rec->target;
		plain_store_joined(pc, v);
		return;
	}
	/* A kick reaches self for the one kicked: it left the room too. */
	if ((v->rec->kind != OUTBOX_PART && v->rec->kind != OUTBOX_KICK) ||
	    st->current != v->rec->target)
		return;
	st->current = pc->nrooms ? pc->rooms[pc->nrooms - 1]->id : 0;
	if (st->current)
		plain_emitf(pc, "-!- now talking in %s",
			    pc->rooms[pc->nrooms - 1]->name);
}

/* ---- lines for one client ----------------------------------------------- */

static void
plain_error(struct pconn *pc, enum core_err err, struct outbox_str room,
	    struct outbox_str arg, long num)
{
	const struct plain_wording *w =
	    (unsigned)err < PLAIN_NERRORS && plain_errors[err].before
		? &plain_errors[err]
		: NULL;
	const struct outbox_str *name = room.n ? &room : &arg;

	if (err >= CORE_ERR_STORE_DOWN && err <= CORE_ERR_LOGGED_IN) {
		plain_store_error(pc, err, room, arg, num);
		return;
	}
	if (!w) {
		if (!plain_mod_error(pc, err, room, arg, num))
			plain_error_text(pc, "the server refused that");
		return;
	}
	switch (w->param) {
	case P_NONE:
		plain_emitf(pc, "-!- error: %s%s", w->before, w->after);
		break;
	case P_NAME: {
		char q[NAMES_QUOTE_SIZE];
		names_quote(name->p, name->n, q);
		plain_emitf(pc, "-!- error: %s%s%s", w->before, q, w->after);
		break;
	}
	case P_NUM:
		plain_emitf(pc, "-!- error: %s%ld%s", w->before, num, w->after);
		break;
	}
}

static void
plain_names(struct pconn *pc, const struct outbox_view *v)
{
	char line[PROTO_LINE_MAX];
	size_t n =
	    (size_t)snprintf(line, sizeof(line),
			     "-!- members of %.*s:", (int)v->room.n, v->room.p);
	const char *p = v->text.p, *end = p + v->text.n;

	/* Each entry is FLAGS NICK!USER@HOST; plain shows the nick. */
	while (p < end) {
		const char *e = memchr(p, ' ', (size_t)(end - p));
		const char *bang;
		if (!e)
			e = end;
		bang = memchr(p, '!', (size_t)(e - p));
		if (!bang)
			bang = e;
		unsigned flags =
		    (unsigned)(*p >= 'a' ? *p - 'a' + 10 : *p - '0') & 0xf;
		const char *mark = flags & OUTBOX_MEMBER_OP	 ? "@"
				   : flags & OUTBOX_MEMBER_VOICE ? "+"
								 : "";
		if (p + 1 < bang && n + (size_t)(bang - p) + 3 < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      " %s%.*s", mark,
					      (int)(bang - p - 1), p + 1);
		p = e + 1;
	}
	if (n == (size_t)snprintf(NULL, 0, "-!- members of %.*s:",
				  (int)v->room.n, v->room.p))
		return; /* an empty last chunk */
	line[n++] = '\n';
	pc->emit(pc, line, n);
}

static void
plain_reply(struct pconn *pc, const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	uint64_t id = 0;

	if (r->nids)
		memcpy(&id, &v->ids[0], sizeof(id));
	if (r->aux != CORE_OK) {
		plain_error(pc, (enum core_err)r->aux, v->room, v->arg,
			    (long)id);
		return;
	}
	plain_store_reply(pc, v);
	/* A join makes the room current, even one the client was in. */
	if (pc->pending == CORE_JOIN || pc->pending == CORE_HELLO) {
		if (id && proto_room_by_id(pc, id))
			plain_state(pc)->current = id;
	}
}

static int
plain_deliver(struct pconn *pc, const struct outbox_view *v,
	      struct core_op *ops)
{
	const struct outbox_rec *r = v->rec;
	uint64_t n = 0;

	(void)ops;
	if (r->nids)
		memcpy(&n, &v->ids[0], sizeof(n));
	if (plain_mod_deliver(pc, v))
		return 0;
	switch (r->kind) {
	case OUTBOX_REPLY:
		plain_reply(pc, v);
		break;
	case OUTBOX_TOPIC_INFO:
		if (v->text.n)
			plain_emitf(pc, "-!- topic of %.*s: %.*s",
				    (int)v->room.n, v->room.p, (int)v->text.n,
				    v->text.p);
		else
			plain_emitf(pc, "-!- %.*s has no topic", (int)v->room.n,
				    v->room.p);
		break;
	case OUTBOX_NAMES:
		plain_names(pc, v);
		break;
	case OUTBOX_ROOM_INFO:
		plain_emitf(pc, "-!- %.*s: %llu member%s, %s%.*s",
			    (int)v->room.n, v->room.p, (unsigned long long)n,
			    n == 1 ? "" : "s",
			    v->text.n ? "topic: " : "no topic", (int)v->text.n,
			    v->text.p);
		break;
	case OUTBOX_ROOM_END:
		if (n == 0)
			plain_emitf(pc, "-!- no rooms");
		break;
	case OUTBOX_HISTORY:
		if (!(r->aux & OUTBOX_MSG_CTCP))
			plain_history(pc, v);
		plain_store_seen(pc, v);
		break;
	case OUTBOX_WARNING:
		plain_error(pc, (enum core_err)r->aux, v->room, v->arg,
			    (long)n);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- connection --------------------------------------------------------- */

static int
plain_open(struct pconn *pc, struct core_op *ops)
{
	struct plain_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	pc->state = st;
	pc->variant = 0;
	plain_emitf(pc, PLAIN_WELCOME, pc->nick);
	ops[0] = (struct core_op){.kind = CORE_HELLO,
				  .flags = CORE_HELLO_LOBBY | CORE_WANT_TOPIC |
					   CORE_WANT_HISTORY};
	return 1;
}

static void
plain_close(struct pconn *pc)
{
	free(pc->state);
	pc->state = NULL;
}

static void
plain_event(struct pconn *pc, enum proto_event ev, const char *text, long num)
{
	switch (ev) {
	case PROTO_EV_LINE_TOO_LONG:
		plain_emitf(pc,
			    "-!- error: line too long (max %ld bytes); "
			    "discarded",
			    num);
		break;
	case PROTO_EV_SHUTDOWN:
		plain_emitf(pc, "-!- server shutting down");
		break;
	case PROTO_EV_CLOSED:
		plain_emitf(pc, "-!- disconnected: %s", text);
		break;
	case PROTO_EV_PING:
		break; /* plain clients may stay silent as long as they like */
	}
}

static size_t
plain_refusal(enum proto_refusal why, long num, char *out, size_t n)
{
	int len = 0;

	switch (why) {
	case PROTO_REFUSE_FULL:
		len = snprintf(out, n, "-!- server full, try again later\n");
		break;
	case PROTO_REFUSE_PER_ADDR:
		len = snprintf(out, n,
			       "-!- too many connections from your address "
			       "(limit %ld)\n",
			       num);
		break;
	case PROTO_REFUSE_BUSY:
		len = snprintf(out, n, "-!- server busy, try again later\n");
		break;
	case PROTO_REFUSE_BANNED:
		len = snprintf(out, n, "-!- you are banned from this server\n");
		break;
	}
	if (len < 0 || n == 0)
		return 0;
	return (size_t)len < n ? (size_t)len : n - 1;
}

const struct proto proto_plain = {
    .name = "plain",
    .id = PROTO_PLAIN,
    .open = plain_open,
    .close = plain_close,
    .parse = plain_parse,
    .error = plain_error,
    .format = plain_format,
    .self = plain_self,
    .deliver = plain_deliver,
    .event = plain_event,
    .refusal = plain_refusal,
};
