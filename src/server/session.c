/*
 * session: the child process that serves clients. Each loop iteration reads
 * input (bounded per client, throttled by a token bucket, paused while a
 * request is outstanding), publishes its outbox once, delivers the timeline
 * in order, writes each client's accumulated output once, and only then
 * frees clients that were closed during the iteration.
 */
#include "server/session.h"

#include "lib/buf.h"
#include "lib/idmap.h"
#include "lib/line.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "server/channel.h"
#include "server/command.h"
#include "server/names.h"
#include "server/registry.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SESSION_READ_CHUNK     16384
#define SESSION_LINES_PER_TURN 64 /* fairness between clients */
#define SESSION_LINGER_MS      2000
#define SESSION_CHANNEL_QUEUE  (8u << 20)
#define SESSION_KEEP_OUT_BYTES 1024
#define SESSION_LINE_MAX       (OUTBOX_REC_MAX + 256)
#define SESSION_DEBUG_EVERY_MS 1000 /* at most one summary line a second */

_Static_assert(CONFIG_REASON_MAX <= CHANNEL_REASON_MAX,
	       "a reason fits a channel message");

struct sroom {
	uint64_t id;
	char name[OUTBOX_ROOM_MAX + 1];
	struct client **members;
	unsigned n, cap;
};

struct client {
	struct session *s;
	uint64_t id;
	int fd;
	char nick[OUTBOX_NICK_MAX + 1];
	char addr[CHANNEL_ADDR_MAX];
	struct line_reader lr;
	struct buf in, out;
	struct sroom *rooms[CONFIG_ROOMS_PER_CLIENT_MAX];
	unsigned nrooms;
	struct sroom *current;

	int waiting; /* a request is outstanding: input paused */
	uint16_t pending_op;
	char *pending_text; /* /msg text awaiting its RESOLVE reply */
	size_t pending_len;

	int readable; /* edge-triggered: the socket may have input */
	int writable;
	int eof;
	int closing; /* enum channel_reason; 0 while open */
	int wr_shut; /* SHUT_WR done: draining input until EOF */
	long long linger_until_ms;

	double tokens;
	long long tokens_ms;
	long long throttled_until_ms; /* 0 when not throttled */
	uint64_t stamp;		      /* dedupes QUIT/NICK notices */

	int in_ready, in_dirty, in_throttled;
	struct client *ready_next, *dirty_next, *throttled_next;
	struct client *closing_next;
	struct client *next, *prev; /* every client */
};

struct session {
	const struct config *cfg;
	struct outbox_shm *shm;
	struct outbox_writer w;
	uint64_t published;
	struct loop *loop;
	struct channel chan;
	int wake_fd, sig_fd;
	int worker;

	uint64_t tl_pos;
	uint64_t *cursors;
	void *recbuf;
	char *line;    /* formatted outgoing line */
	char *scratch; /* sanitised input line */

	struct client **by_slot; /* cfg->max_clients */
	struct client *clients;
	unsigned nclients;
	struct idmap rooms;
	uint64_t stamp;

	struct client *ready, *dirty;
	int input_paused;	  /* ready clients wait: outbox backlogged */
	struct client *throttled; /* waiting for flood tokens */
	struct client *closing;	  /* closed, finishing in session_reap */
	int linger_poll;	  /* a closing client waits for its unsent
				     bytes: look again soon */
	int had_client;
	int shutting_down;
	long long shutdown_deadline_ms;
	int channel_dead;

	/* Flow control seen since the last debug line about it. */
	unsigned pauses, throttles;
	long long pauses_logged_ms, throttles_logged_ms;
};

/* ---- lists --------------------------------------------------------------- */

static void
session_mark_ready(struct session *s, struct client *c)
{
	if (c->in_ready)
		return;
	c->in_ready = 1;
	c->ready_next = s->ready;
	s->ready = c;
}

static void
session_mark_dirty(struct session *s, struct client *c)
{
	if (c->in_dirty)
		return;
	c->in_dirty = 1;
	c->dirty_next = s->dirty;
	s->dirty = c;
}

/* ---- output -------------------------------------------------------------- */

static void session_client_close(struct session *s, struct client *c,
				 int reason, const char *text);

/* Queues one line (with its LF) for c; a full queue closes c. */
static void
session_send(struct session *s, struct client *c, const char *line, size_t len)
{
	if (c->closing)
		return;
	if (buf_used(&c->out) + len > s->cfg->sendq_bytes ||
	    buf_append(&c->out, line, len) < 0) {
		log_info("client %s (%s): send queue exceeded (%zu bytes)",
			 c->nick, c->addr, buf_used(&c->out));
		session_client_close(s, c, CHANNEL_REASON_SENDQ,
				     "send queue exceeded");
		return;
	}
	session_mark_dirty(s, c);
}

static void __attribute__((format(printf, 3, 4)))
session_sendf(struct session *s, struct client *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	size_t len;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = line_utf8_cut(line, (size_t)n, sizeof(line) - 2);
	line[len++] = '\n';
	session_send(s, c, line, len);
}

/* Writes what has accumulated. Returns 0, or -1 if the client is gone. */
static int
session_write(struct client *c)
{
	while (buf_used(&c->out) > 0) {
		ssize_t n = send(c->fd, c->out.data + c->out.off,
				 buf_used(&c->out), MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->writable = 0;
			return 0;
		}
		if (n < 0)
			return -1;
		buf_consume(&c->out, (size_t)n);
	}
	if (c->out.cap > SESSION_KEEP_OUT_BYTES)
		buf_free(&c->out);
	return 0;
}

static void
session_flush(struct session *s)
{
	struct client *c = s->dirty;

	s->dirty = NULL;
	while (c) {
		struct client *next = c->dirty_next;
		c->in_dirty = 0;
		c->dirty_next = NULL;
		if (c->writable && !c->closing && session_write(c) < 0)
			session_client_close(s, c, CHANNEL_REASON_LOST,
					     "connection lost");
		c = next;
	}
}

/* ---- rooms --------------------------------------------------------------- */

static struct sroom *
session_room_get(struct session *s, uint64_t id)
{
	return idmap_get(&s->rooms, id);
}

static int
session_room_is_member(const struct client *c, const struct sroom *r)
{
	for (unsigned i = 0; i < c->nrooms; i++)
		if (c->rooms[i] == r)
			return 1;
	return 0;
}

static void
session_room_add(struct session *s, struct client *c, uint64_t id,
		 const char *name, size_t name_len)
{
	struct sroom *r = session_room_get(s, id);

	if (r && session_room_is_member(c, r)) {
		c->current = r;
		return;
	}
	if (c->nrooms >= CONFIG_ROOMS_PER_CLIENT_MAX)
		fatalx("client %s in more rooms than the supervisor allows",
		       c->nick);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || idmap_put(&s->rooms, id, r) < 0)
			fatal("session_room_add");
		r->id = id;
		memcpy(r->name, name, name_len);
		r->name[name_len] = '\0';
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4;
		r->members = realloc(r->members, r->cap * sizeof(*r->members));
		if (!r->members)
			fatal("session_room_add");
	}
	r->members[r->n++] = c;
	c->rooms[c->nrooms++] = r;
	c->current = r;
}

static void
session_room_remove(struct session *s, struct client *c, struct sroom *r)
{
	unsigned i;

	for (i = 0; i < c->nrooms && c->rooms[i] != r; i++)
		;
	if (i == c->nrooms)
		return;
	memmove(&c->rooms[i], &c->rooms[i + 1],
		(c->nrooms - i - 1) * sizeof(c->rooms[0]));
	c->nrooms--;
	if (c->current == r)
		c->current = c->nrooms ? c->rooms[c->nrooms - 1] : NULL;
	for (i = 0; i < r->n; i++) {
		if (r->members[i] == c) {
			r->members[i] = r->members[--r->n];
			break;
		}
	}
	if (r->n == 0) {
		idmap_del(&s->rooms, r->id);
		free(r->members);
		free(r);
	}
}

/* ---- requests ------------------------------------------------------------ */

static void session_publish(struct session *s);

static void
session_request(struct session *s, struct client *c, uint16_t op,
		const char *arg, size_t arg_len)
{
	struct channel_request req = {.client = c->id, .op = op};

	log_debug("client %s (%s): request %s", c->nick, c->addr,
		  channel_op_name(op));
	/* Mark first: what the client said before the request stays before
	 * its effects in the timeline. */
	session_publish(s);

	arg_len = line_utf8_cut(arg, arg_len, CHANNEL_ARG_MAX);
	memcpy(req.arg, arg, arg_len);
	req.arg_len = (uint16_t)arg_len;
	if (channel_send(&s->chan, CHANNEL_REQUEST, &req,
			 offsetof(struct channel_request, arg) + arg_len, -1,
			 SESSION_CHANNEL_QUEUE) < 0) {
		session_client_close(s, c, CHANNEL_REASON_LOST,
				     "server unavailable");
		return;
	}
	c->waiting = 1;
	c->pending_op = op;
}

/* Sends op with "#room" or "#room text" as its argument. */
static void
session_request_room(struct session *s, struct client *c, uint16_t op,
		     const char *room, size_t room_len, const char *text,
		     size_t text_len)
{
	char arg[CHANNEL_ARG_MAX];
	int n = snprintf(arg, sizeof(arg), "%.*s%s%.*s", (int)room_len, room,
			 text_len ? " " : "", (int)text_len, text);

	session_request(s, c, op, arg,
			n < 0 ? 0
			      : line_utf8_cut(arg, (size_t)n, sizeof(arg) - 1));
}

/* ---- commands ------------------------------------------------------------ */

static void
session_error(struct session *s, struct client *c, const char *text)
{
	log_debug("client %s (%s): refused: %s", c->nick, c->addr, text);
	session_sendf(s, c, "-!- error: %s", text);
}

static void
session_say(struct session *s, struct client *c, uint16_t kind,
	    const char *text, size_t len)
{
	if (len == 0)
		return;
	if (!c->current) {
		session_error(s, c, "you are not in a room; /join #room");
		return;
	}
	outbox_append(&s->w, kind, 0, c->id, c->current->id, NULL, 0, c->nick,
		      c->current->name, text, len);
}

static struct sroom *
session_room_named(struct client *c, const char *name, size_t len)
{
	char folded[OUTBOX_ROOM_MAX + 1], want[OUTBOX_ROOM_MAX + 1];

	if (len > OUTBOX_ROOM_MAX)
		return NULL;
	snprintf(want, sizeof(want), "%.*s", (int)len, name);
	names_fold(want, want, sizeof(want));
	for (unsigned i = 0; i < c->nrooms; i++) {
		names_fold(c->rooms[i]->name, folded, sizeof(folded));
		if (strcmp(folded, want) == 0)
			return c->rooms[i];
	}
	return NULL;
}

/* name[0..len) is a valid room name; if not, says so and returns 0. */
static int
session_room_name_ok(struct session *s, struct client *c, const char *name,
		     size_t len)
{
	char room[OUTBOX_ROOM_MAX + 1];

	snprintf(room, sizeof(room), "%.*s", (int)len, name);
	if (len <= CONFIG_ROOM_MAX + 1 && names_room_valid(room))
		return 1;
	session_error(s, c,
		      "invalid room name: # then 1-32 letters, digits, _ - "
		      "or .");
	return 0;
}

/* The room a command names (arg), or the current one when it names none;
 * NULL, with the error sent, when c is not in it. */
static struct sroom *
session_room_arg(struct session *s, struct client *c, const struct command *cmd)
{
	char q[NAMES_QUOTE_SIZE], why[NAMES_QUOTE_SIZE + 32];
	struct sroom *r;

	if (!cmd->arg_len) {
		if (!c->current)
			session_error(s, c,
				      "you are not in a room; /join #room");
		return c->current;
	}
	if (!session_room_name_ok(s, c, cmd->arg, cmd->arg_len))
		return NULL;
	r = session_room_named(c, cmd->arg, cmd->arg_len);
	if (!r) {
		names_quote(cmd->arg, cmd->arg_len, q);
		snprintf(why, sizeof(why), "you are not in %s", q);
		session_error(s, c, why);
	}
	return r;
}

static void
session_cmd_join(struct session *s, struct client *c, const struct command *cmd)
{
	struct sroom *r;

	if (!session_room_name_ok(s, c, cmd->arg, cmd->arg_len))
		return;
	r = session_room_named(c, cmd->arg, cmd->arg_len);
	if (r) {
		c->current = r;
		session_sendf(s, c, "-!- now talking in %s", r->name);
		return;
	}
	session_request(s, c, CHANNEL_OP_JOIN, cmd->arg, cmd->arg_len);
}

static void
session_cmd_part(struct session *s, struct client *c, const struct command *cmd)
{
	struct sroom *r = session_room_arg(s, c, cmd);

	if (!r)
		return;
	session_request_room(
	    s, c, CHANNEL_OP_PART, r->name, strlen(r->name), cmd->text,
	    line_utf8_cut(cmd->text, cmd->text_len, CONFIG_REASON_MAX));
}

static void
session_cmd_msg(struct session *s, struct client *c, const struct command *cmd)
{
	char *copy = malloc(cmd->text_len);

	if (!copy) {
		session_error(s, c, "out of memory");
		return;
	}
	memcpy(copy, cmd->text, cmd->text_len);
	c->pending_text = copy;
	c->pending_len = cmd->text_len;
	session_request(s, c, CHANNEL_OP_RESOLVE, cmd->arg, cmd->arg_len);
}

static void
session_cmd_topic(struct session *s, struct client *c,
		  const struct command *cmd)
{
	struct sroom *r = session_room_arg(s, c, cmd);

	if (r)
		session_request_room(s, c, CHANNEL_OP_TOPIC, r->name,
				     strlen(r->name), cmd->text, cmd->text_len);
}

static void
session_handle_line(struct session *s, struct client *c, const char *raw,
		    size_t raw_len)
{
	size_t len = line_sanitize(raw, raw_len, s->scratch);
	struct command cmd;

	command_parse(s->scratch, len, &cmd);
	switch (cmd.kind) {
	case COMMAND_MESSAGE:
		session_say(s, c, OUTBOX_MSG, cmd.text, cmd.text_len);
		break;
	case COMMAND_ME:
		session_say(s, c, OUTBOX_ACTION, cmd.text, cmd.text_len);
		break;
	case COMMAND_NICK:
		session_request(s, c, CHANNEL_OP_NICK, cmd.arg, cmd.arg_len);
		break;
	case COMMAND_JOIN:
		session_cmd_join(s, c, &cmd);
		break;
	case COMMAND_PART:
		session_cmd_part(s, c, &cmd);
		break;
	case COMMAND_ROOMS:
		session_request(s, c, CHANNEL_OP_ROOMS, "", 0);
		break;
	case COMMAND_WHO:
		if (!cmd.arg_len && !c->current)
			session_error(s, c,
				      "you are not in a room; /who #room");
		else if (!cmd.arg_len)
			session_request(s, c, CHANNEL_OP_WHO, c->current->name,
					strlen(c->current->name));
		else if (session_room_name_ok(s, c, cmd.arg, cmd.arg_len))
			session_request(s, c, CHANNEL_OP_WHO, cmd.arg,
					cmd.arg_len);
		break;
	case COMMAND_TOPIC:
		session_cmd_topic(s, c, &cmd);
		break;
	case COMMAND_MSG:
		session_cmd_msg(s, c, &cmd);
		break;
	case COMMAND_QUIT: {
		char why[CONFIG_REASON_MAX + 1];
		size_t n =
		    line_utf8_cut(cmd.text, cmd.text_len, CONFIG_REASON_MAX);
		memcpy(why, cmd.text, n);
		why[n] = '\0';
		session_client_close(s, c, CHANNEL_REASON_QUIT,
				     n ? why : "quit");
		break;
	}
	case COMMAND_HELP:
		for (int i = 0; command_help[i]; i++)
			session_sendf(s, c, "-!- help: %s", command_help[i]);
		break;
	case COMMAND_ERROR:
		session_error(s, c, cmd.error);
		break;
	}
}

/* ---- input --------------------------------------------------------------- */

/* Takes a flood token; returns 0, or -1 (and schedules a retry) when the
 * client must wait. */
static int
session_take_token(struct session *s, struct client *c)
{
	double rate = s->cfg->flood_rate;
	long long now = loop_time_ms(s->loop);

	if (rate <= 0)
		return 0;
	double elapsed = (double)(now - c->tokens_ms) / 1000.0;
	c->tokens += elapsed * rate;
	if (c->tokens > s->cfg->flood_burst)
		c->tokens = s->cfg->flood_burst;
	c->tokens_ms = now;
	if (c->tokens >= 1) {
		c->tokens -= 1;
		return 0;
	}
	c->throttled_until_ms =
	    now + (long long)((1 - c->tokens) * 1000 / rate) + 1;
	s->throttles++;
	if (now - s->throttles_logged_ms >= SESSION_DEBUG_EVERY_MS) {
		log_debug("flood limit: input paused %u time%s since the "
			  "last report, last for %s (%s)",
			  s->throttles, s->throttles == 1 ? "" : "s", c->nick,
			  c->addr);
		s->throttles = 0;
		s->throttles_logged_ms = now;
	}
	if (!c->in_throttled) {
		c->in_throttled = 1;
		c->throttled_next = s->throttled;
		s->throttled = c;
	}
	return -1;
}

/* Reads once into c->in. Returns 1 if bytes arrived, 0 if none. */
static int
session_read(struct session *s, struct client *c)
{
	/* One spare byte: telnet stripping may give one more than it got. */
	char *p = buf_reserve(&c->in, SESSION_READ_CHUNK + 1);
	ssize_t n;

	if (!p) {
		session_client_close(s, c, CHANNEL_REASON_LOST,
				     "out of memory");
		return 0;
	}
	do {
		n = recv(c->fd, p, SESSION_READ_CHUNK, 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		size_t kept = line_strip_telnet(&c->lr, p, (size_t)n);
		buf_commit(&c->in, kept);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->readable = 0;
		return 0;
	}
	c->eof = n == 0 ? 1 : 2; /* 2: reset or error */
	c->readable = 0;
	return 0;
}

/* The session's own records that have not yet come back through the
 * timeline fill half its ring: it takes no more input until they do, so a
 * burst never runs further ahead of the global order than a reader that
 * keeps up with the timeline can follow. This waits for the supervisor's
 * marks, never for any particular reader. */
static int
session_backlogged(const struct session *s)
{
	return s->w.head - s->cursors[s->w.producer] > s->shm->ring_size / 2;
}

static void
session_pause_input(struct session *s)
{
	long long now = loop_time_ms(s->loop);

	if (s->input_paused)
		return;
	s->input_paused = 1;
	s->pauses++;
	if (now - s->pauses_logged_ms < SESSION_DEBUG_EVERY_MS)
		return;
	log_debug("input paused %u time%s since the last report: own records "
		  "%llu bytes ahead of the timeline",
		  s->pauses, s->pauses == 1 ? "" : "s",
		  (unsigned long long)(s->w.head - s->cursors[s->w.producer]));
	s->pauses = 0;
	s->pauses_logged_ms = now;
}

/* Processes c's input until it must wait. Returns 1 if c has more to do
 * right away (it used up its turn, or the outbox is backlogged). */
static int
session_input(struct session *s, struct client *c)
{
	int lines = 0;

	while (!c->closing && !c->waiting) {
		size_t off, len, consumed = 0;
		enum line_result r = LINE_NEED_MORE;

		if (buf_used(&c->in) > 0)
			r = line_next(&c->lr, c->in.data + c->in.off,
				      buf_used(&c->in), &off, &len, &consumed);
		if (r == LINE_TOO_LONG) {
			buf_consume(&c->in, consumed);
			session_sendf(
			    s, c,
			    "-!- error: line too long (max %zu bytes);"
			    " discarded",
			    s->cfg->max_line);
			log_info(
			    "client %s (%s): line over %zu bytes discarded",
			    c->nick, c->addr, s->cfg->max_line);
			continue;
		}
		if (r == LINE_OK) {
			if (lines >= SESSION_LINES_PER_TURN)
				return 1;
			if (session_backlogged(s)) {
				session_pause_input(s);
				return 1;
			}
			if (session_take_token(s, c) < 0)
				return 0;
			lines++;
			session_handle_line(s, c, c->in.data + c->in.off + off,
					    len);
			buf_consume(&c->in, consumed);
			continue;
		}
		buf_consume(&c->in, consumed);
		if (c->eof) {
			session_client_close(s, c, CHANNEL_REASON_LOST,
					     c->eof > 1 ? "connection lost"
							: "connection closed");
			break;
		}
		if (!c->readable)
			break;
		if (lines >= SESSION_LINES_PER_TURN)
			return 1;
		session_read(s, c);
	}
	if (buf_used(&c->in) == 0)
		buf_free(&c->in);
	return 0;
}

static void
session_process_input(struct session *s)
{
	struct client *c = s->ready, *again = NULL;

	s->ready = NULL;
	s->input_paused = 0;
	while (c) {
		struct client *next = c->ready_next;
		c->in_ready = 0;
		c->ready_next = NULL;
		if (session_input(s, c)) {
			c->in_ready = 1;
			c->ready_next = again;
			again = c;
		}
		c = next;
	}
	/* Clients that used up their turn go again next iteration. */
	while (again) {
		struct client *next = again->ready_next;
		again->in_ready = 0;
		session_mark_ready(s, again);
		again = next;
	}
}

static void
session_publish(struct session *s)
{
	if (s->w.head == s->published || s->channel_dead)
		return;
	s->published = s->w.head;
	if (outbox_publish(&s->w) &&
	    channel_send(&s->chan, CHANNEL_MARK, NULL, 0, -1,
			 SESSION_CHANNEL_QUEUE) < 0)
		fatalx("cannot send a mark to the supervisor");
}

/* ---- delivery ------------------------------------------------------------ */

static size_t session_format(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
session_format(struct session *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	size_t len;

	va_start(ap, fmt);
	n = vsnprintf(s->line, SESSION_LINE_MAX - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len = line_utf8_cut(s->line, (size_t)n, SESSION_LINE_MAX - 2);
	s->line[len++] = '\n';
	return len;
}

static struct client *
session_client_get(struct session *s, uint64_t id)
{
	unsigned slot = REGISTRY_SLOT(id);
	struct client *c;

	if (slot >= (unsigned)s->cfg->max_clients)
		return NULL;
	c = s->by_slot[slot];
	return c && c->id == id ? c : NULL;
}

static void
session_to_room(struct session *s, struct sroom *r, uint64_t skip, size_t len)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->members[i]->id != skip)
			session_send(s, r->members[i], s->line, len);
}

/* Sends the formatted line to every local member of the listed rooms (and
 * to also, if local), each client once. */
static void
session_to_rooms(struct session *s, const struct outbox_view *v,
		 struct client *also, size_t len)
{
	s->stamp++;
	if (also) {
		also->stamp = s->stamp;
		session_send(s, also, s->line, len);
	}
	for (unsigned i = 0; i < v->rec->nids; i++) {
		uint64_t id;
		memcpy(&id, &v->ids[i], sizeof(id));
		struct sroom *r = session_room_get(s, id);
		for (unsigned j = 0; r && j < r->n; j++) {
			struct client *m = r->members[j];
			if (m->stamp == s->stamp)
				continue;
			m->stamp = s->stamp;
			session_send(s, m, s->line, len);
		}
	}
}

static void
session_deliver_msg(struct session *s, const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	struct sroom *room = session_room_get(s, r->target);
	size_t len;

	if (!room)
		return;
	if (r->kind == OUTBOX_MSG)
		len =
		    session_format(s, "%s <%.*s> %.*s", room->name, r->nick_len,
				   v->nick, (int)r->text_len, v->text);
	else
		len =
		    session_format(s, "%s * %.*s %.*s", room->name, r->nick_len,
				   v->nick, (int)r->text_len, v->text);
	session_to_room(s, room, r->src, len);
}

static void
session_deliver_privmsg(struct session *s, const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	struct client *to = session_client_get(s, r->target);
	struct client *from = session_client_get(s, r->src);
	size_t len;

	if (to) {
		len = session_format(s, "*%.*s* %.*s", r->nick_len, v->nick,
				     (int)r->text_len, v->text);
		session_send(s, to, s->line, len);
	}
	if (from) {
		len = session_format(s, "-> *%.*s* %.*s", r->room_len, v->room,
				     (int)r->text_len, v->text);
		session_send(s, from, s->line, len);
	}
}

static void
session_deliver_join(struct session *s, const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	struct client *c = session_client_get(s, r->src);
	struct sroom *room;
	size_t len;

	if (c)
		session_room_add(s, c, r->target, v->room, r->room_len);
	room = session_room_get(s, r->target);
	if (!room)
		return;
	len = session_format(s, "-!- %.*s joined %s", r->nick_len, v->nick,
			     room->name);
	if (r->aux)
		session_to_room(s, room, 0, len);
	else if (c)
		session_send(s, c, s->line, len);
}

static void
session_deliver_part(struct session *s, const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	struct client *c = session_client_get(s, r->src);
	struct sroom *room = session_room_get(s, r->target);
	size_t len;

	if (!room)
		return;
	if (r->text_len)
		len = session_format(s, "-!- %.*s left %s (%.*s)", r->nick_len,
				     v->nick, room->name, (int)r->text_len,
				     v->text);
	else
		len = session_format(s, "-!- %.*s left %s", r->nick_len,
				     v->nick, room->name);
	if (r->aux)
		session_to_room(s, room, 0, len);
	else if (c)
		session_send(s, c, s->line, len);
	if (c) {
		struct sroom *was = c->current;
		session_room_remove(s, c, room);
		if (was == room && c->current)
			session_sendf(s, c, "-!- now talking in %s",
				      c->current->name);
	}
}

static void
session_deliver_nick(struct session *s, const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	struct client *c = session_client_get(s, r->src);
	size_t len =
	    session_format(s, "-!- %.*s is now known as %.*s", r->nick_len,
			   v->nick, (int)r->text_len, v->text);

	if (c) {
		size_t n = r->text_len < OUTBOX_NICK_MAX ? r->text_len
							 : OUTBOX_NICK_MAX;
		memcpy(c->nick, v->text, n);
		c->nick[n] = '\0';
	}
	session_to_rooms(s, v, c, len);
}

static void
session_deliver_history(struct session *s, struct client *c,
			const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	time_t t = (time_t)(r->ts_ms / 1000);
	struct tm tm;
	char when[16];
	size_t len;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%SZ", &tm);
	if (r->aux == OUTBOX_ACTION)
		len = session_format(s, "%.*s [history %s] * %.*s %.*s",
				     r->room_len, v->room, when, r->nick_len,
				     v->nick, (int)r->text_len, v->text);
	else
		len = session_format(s, "%.*s [history %s] <%.*s> %.*s",
				     r->room_len, v->room, when, r->nick_len,
				     v->nick, (int)r->text_len, v->text);
	session_send(s, c, s->line, len);
}

static void
session_deliver_reply(struct session *s, struct client *c,
		      const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	uint64_t id = 0;

	if (r->nids)
		memcpy(&id, &v->ids[0], sizeof(id));
	if (r->aux != 0) {
		session_sendf(s, c, "-!- error: %.*s", (int)r->text_len,
			      v->text);
	} else if (c->pending_op == CHANNEL_OP_RESOLVE && c->pending_text) {
		outbox_append(&s->w, OUTBOX_PRIVMSG, 0, c->id, id, NULL, 0,
			      c->nick, v->room, c->pending_text,
			      c->pending_len);
	} else if (id && session_room_get(s, id)) {
		struct sroom *room = session_room_get(s, id);
		if (session_room_is_member(c, room))
			c->current = room;
	}
	free(c->pending_text);
	c->pending_text = NULL;
	c->waiting = 0;
	c->pending_op = 0;
	session_mark_ready(s, c);
}

static void session_begin_shutdown(struct session *s, const char *line);

static void
session_deliver_targeted(struct session *s, const struct outbox_view *v)
{
	struct client *c = session_client_get(s, v->rec->target);
	size_t len;

	if (!c)
		return;
	switch (v->rec->kind) {
	case OUTBOX_TEXT:
		len = session_format(s, "%.*s", (int)v->rec->text_len, v->text);
		session_send(s, c, s->line, len);
		break;
	case OUTBOX_HISTORY:
		session_deliver_history(s, c, v);
		break;
	case OUTBOX_REPLY:
		session_deliver_reply(s, c, v);
		break;
	}
}

static void
session_deliver(struct session *s, unsigned producer,
		const struct outbox_view *v)
{
	const struct outbox_rec *r = v->rec;
	size_t len;

	if (r->kind >= OUTBOX_JOIN && producer != 0)
		fatalx("producer %u wrote a supervisor record (kind %u)",
		       producer, r->kind);
	switch (r->kind) {
	case OUTBOX_MSG:
	case OUTBOX_ACTION:
		session_deliver_msg(s, v);
		break;
	case OUTBOX_PRIVMSG:
		session_deliver_privmsg(s, v);
		break;
	case OUTBOX_JOIN:
		session_deliver_join(s, v);
		break;
	case OUTBOX_PART:
		session_deliver_part(s, v);
		break;
	case OUTBOX_QUIT:
		len = session_format(s, "-!- %.*s quit (%.*s)", r->nick_len,
				     v->nick, (int)r->text_len, v->text);
		session_to_rooms(s, v, NULL, len);
		break;
	case OUTBOX_NICK:
		session_deliver_nick(s, v);
		break;
	case OUTBOX_TOPIC: {
		struct sroom *room = session_room_get(s, r->target);
		if (!room)
			break;
		if (r->text_len)
			len = session_format(
			    s, "-!- %.*s set the topic of %s: %.*s",
			    r->nick_len, v->nick, room->name, (int)r->text_len,
			    v->text);
		else
			len = session_format(s,
					     "-!- %.*s cleared the topic of %s",
					     r->nick_len, v->nick, room->name);
		session_to_room(s, room, 0, len);
		break;
	}
	case OUTBOX_TEXT:
	case OUTBOX_HISTORY:
	case OUTBOX_REPLY:
		session_deliver_targeted(s, v);
		break;
	case OUTBOX_SHUTDOWN:
		session_begin_shutdown(s, "-!- server shutting down");
		break;
	default:
		fatalx("unknown record kind %u from producer %u", r->kind,
		       producer);
	}
}

/* Every client of this session missed messages: say so, disconnect them,
 * and start over at the present. */
static void
session_lapped(struct session *s)
{
	log_warn("session fell behind the timeline: messages lost, "
		 "disconnecting its %u client%s",
		 s->nclients, s->nclients == 1 ? "" : "s");
	for (struct client *c = s->clients; c; c = c->next) {
		if (c->closing)
			continue;
		buf_free(&c->out);
		session_client_close(s, c, CHANNEL_REASON_LAPPED,
				     "messages lost");
	}
	s->tl_pos = outbox_timeline_head(s->shm);
	for (unsigned p = 0; p < s->shm->nprod; p++)
		s->cursors[p] = outbox_producer_head(s->shm, p);
}

static void
session_read_timeline(struct session *s)
{
	struct timeline_entry e;
	struct outbox_view v;
	int r;

	while ((r = outbox_timeline_read(s->shm, s->tl_pos, &e)) == 1) {
		if (e.producer >= s->shm->nprod)
			fatalx("timeline names producer %u", e.producer);
		while ((r = outbox_read(s->shm, e.producer,
					&s->cursors[e.producer], e.head,
					s->recbuf, &v)) == 1)
			session_deliver(s, e.producer, &v);
		if (r < 0)
			break;
		s->tl_pos++;
	}
	if (r == -EBADMSG)
		log_warn("malformed record in the outbox; treating as lost");
	if (r < 0)
		session_lapped(s);
}

/* ---- clients ------------------------------------------------------------- */

static void
session_client_event(struct session *s, struct client *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		c->readable = 1;
		session_mark_ready(s, c);
	}
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		c->writable = 1;
		if (buf_used(&c->out) > 0)
			session_mark_dirty(s, c);
	}
}

static void
session_on_client(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct client *c = arg;

	(void)loop;
	(void)fd;
	session_client_event(c->s, c, events);
}

static void
session_client_add(struct session *s, int fd, uint64_t id, const char *nick,
		   const char *addr)
{
	unsigned slot = REGISTRY_SLOT(id);
	struct client *c;

	if (slot >= (unsigned)s->cfg->max_clients || s->by_slot[slot])
		fatalx("supervisor handed over client %llu twice",
		       (unsigned long long)id);
	c = calloc(1, sizeof(*c));
	if (!c)
		fatal("session_client_add");
	c->s = s;
	c->id = id;
	c->fd = fd;
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->lr.max_len = s->cfg->max_line;
	c->tokens = s->cfg->flood_burst;
	c->tokens_ms = loop_time_ms(s->loop);
	c->readable = 1;
	c->writable = 1;
	if (loop_add(s->loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		     session_on_client, c) < 0)
		fatal("loop_add client");
	s->by_slot[slot] = c;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
	s->had_client = 1;
	session_sendf(s, c,
		      "-!- welcome to parley, %s! /help lists the "
		      "commands",
		      c->nick);
	session_request(s, c, CHANNEL_OP_HELLO, "", 0);
}

/* Appends "-!- disconnected: TEXT" past the send-queue limit: the last
 * line a closed client gets. */
static void
session_append_notice(struct client *c, const char *text, size_t len)
{
	char line[CONFIG_REASON_MAX + 32];
	int n = snprintf(line, sizeof(line), "-!- disconnected: %.*s\n",
			 (int)len, text);

	if (n > 0 && buf_append(&c->out, line, (size_t)n) < 0)
		log_warn("no memory for the last line to %s", c->nick);
}

static void
session_client_close(struct session *s, struct client *c, int reason,
		     const char *text)
{
	struct channel_client_closed msg = {.client = c->id,
					    .reason = (uint16_t)reason};
	size_t n = strlen(text);

	if (c->closing)
		return;
	c->closing = reason;
	session_publish(s); /* its last words precede its quit */
	n = line_utf8_cut(text, n, CONFIG_REASON_MAX);
	memcpy(msg.text, text, n);
	msg.text_len = (uint16_t)n;
	if (!s->channel_dead &&
	    channel_send(&s->chan, CHANNEL_CLIENT_CLOSED, &msg,
			 offsetof(struct channel_client_closed, text) + n, -1,
			 SESSION_CHANNEL_QUEUE) < 0)
		log_warn("cannot tell the supervisor that %s left", c->nick);
	c->closing_next = s->closing;
	s->closing = c;
	c->linger_until_ms = loop_time_ms(s->loop) + SESSION_LINGER_MS;
	switch (reason) {
	case CHANNEL_REASON_SENDQ:
	case CHANNEL_REASON_LAPPED:
		buf_free(&c->out);
		/* fall through */
	case CHANNEL_REASON_KICKED:
		session_append_notice(c, text, n);
		break;
	case CHANNEL_REASON_LOST:
		c->linger_until_ms = 0;
		break;
	default:
		break;
	}
}

/* Unlinks c from the ready, dirty and throttled lists (rarely long). */
static void
session_unlist(struct session *s, struct client *c)
{
	struct client **pp;

	for (pp = &s->ready; c->in_ready && *pp; pp = &(*pp)->ready_next)
		if (*pp == c) {
			*pp = c->ready_next;
			break;
		}
	for (pp = &s->dirty; c->in_dirty && *pp; pp = &(*pp)->dirty_next)
		if (*pp == c) {
			*pp = c->dirty_next;
			break;
		}
	for (pp = &s->throttled; c->in_throttled && *pp;
	     pp = &(*pp)->throttled_next)
		if (*pp == c) {
			*pp = c->throttled_next;
			break;
		}
	c->in_ready = c->in_dirty = c->in_throttled = 0;
}

static void
session_client_free(struct session *s, struct client *c)
{
	session_unlist(s, c);
	while (c->nrooms)
		session_room_remove(s, c, c->rooms[c->nrooms - 1]);
	loop_del(s->loop, c->fd);
	close(c->fd);
	s->by_slot[REGISTRY_SLOT(c->id)] = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->pending_text);
	free(c);
}

/* Finishes closing clients: flush, half-close, drain input, close. Runs
 * after delivery, so no fan-out ever sees a freed client. */
static int
session_reap_one(struct session *s, struct client *c)
{
	char sink[4096];
	ssize_t n;

	if (loop_time_ms(s->loop) >= c->linger_until_ms)
		return 1;
	if (buf_used(&c->out) > 0 && session_write(c) < 0)
		return 1;
	if (buf_used(&c->out) > 0)
		return 0;
	if (!c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = 1;
	}
	/* Discard input (a peer that closes ends the linger), and close only
	 * once the kernel has sent everything: closing with unread input sends
	 * an RST, which would drop data still in our send queue. */
	while ((n = recv(c->fd, sink, sizeof(sink), 0)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		return 1;
	int unsent = 0;
	if (ioctl(c->fd, SIOCOUTQ, &unsent) < 0 || unsent == 0)
		return 1;
	s->linger_poll = 1;
	return 0;
}

static void
session_reap(struct session *s)
{
	struct client **pp = &s->closing;

	s->linger_poll = 0;
	while (*pp) {
		struct client *c = *pp;
		if (session_reap_one(s, c)) {
			*pp = c->closing_next;
			session_client_free(s, c);
		} else {
			pp = &c->closing_next;
		}
	}
}

/* ---- control ------------------------------------------------------------- */

static void
session_begin_shutdown(struct session *s, const char *line)
{
	if (s->shutting_down)
		return;
	s->shutting_down = 1;
	s->shutdown_deadline_ms = loop_time_ms(s->loop) + SESSION_LINGER_MS;
	for (struct client *c = s->clients; c; c = c->next) {
		if (c->closing)
			continue;
		session_sendf(s, c, "%s", line);
		session_client_close(s, c, CHANNEL_REASON_SHUTDOWN,
				     "server shutting down");
	}
}

static void
session_handle_message(struct session *s, const struct channel_hdr *h,
		       const void *payload, int len, int fd)
{
	switch (h->type) {
	case CHANNEL_CLIENT_NEW: {
		struct channel_client_new m;
		if (fd < 0 || (size_t)len != sizeof(m))
			fatalx("malformed CLIENT_NEW");
		memcpy(&m, payload, sizeof(m));
		m.nick[sizeof(m.nick) - 1] = '\0';
		m.addr[sizeof(m.addr) - 1] = '\0';
		if (s->shutting_down) {
			log_debug("client %s (%s) handed over during shutdown: "
				  "closed",
				  m.nick, m.addr);
			close(fd);
			break;
		}
		session_client_add(s, fd, m.client, m.nick, m.addr);
		break;
	}
	case CHANNEL_KICK: {
		struct channel_kick m;
		if ((size_t)len != sizeof(m))
			fatalx("malformed KICK");
		memcpy(&m, payload, sizeof(m));
		m.text[sizeof(m.text) - 1] = '\0';
		struct client *c = session_client_get(s, m.client);
		if (c)
			session_client_close(s, c, CHANNEL_REASON_KICKED,
					     m.text);
		break;
	}
	case CHANNEL_SHUTDOWN:
		session_begin_shutdown(s, "-!- server shutting down");
		break;
	default:
		fatalx("unexpected channel message type %u", h->type);
	}
}

static void
session_on_channel(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct session *s = arg;
	char payload[CHANNEL_MSG_MAX];
	struct channel_hdr h;
	int passed, n;

	(void)loop;
	(void)fd;
	if (events & EPOLLOUT)
		(void)channel_flush(&s->chan);
	for (;;) {
		n = channel_recv(&s->chan, &h, payload, &passed);
		if (n == -EAGAIN)
			return;
		if (n < 0)
			break;
		session_handle_message(s, &h, payload, n, passed);
	}
	if (n == -EBADMSG)
		fatalx("malformed channel message");
	/* EOF or error: the supervisor is gone. */
	loop_del(s->loop, s->chan.fd);
	s->channel_dead = 1;
	session_begin_shutdown(s, "-!- disconnected: server stopped");
}

static void
session_on_wake(struct loop *loop, int fd, uint32_t events, void *arg)
{
	/* Nothing to do: every iteration reads the timeline. */
	(void)loop;
	(void)fd;
	(void)events;
	(void)arg;
}

static void
session_on_signal(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct session *s = arg;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM)
			session_begin_shutdown(s, "-!- server shutting down");
	}
}

static int
session_timeout(struct session *s)
{
	long long next = -1, now;

	/* Paused input resumes when the timeline brings our records back,
	 * which the wake eventfd announces. */
	if (s->ready && (!s->input_paused || !session_backlogged(s)))
		return 0;
	if (s->linger_poll)
		return 10; /* no event says "send queue empty": poll */
	for (struct client *c = s->throttled; c; c = c->throttled_next)
		if (next < 0 || c->throttled_until_ms < next)
			next = c->throttled_until_ms;
	for (struct client *c = s->closing; c; c = c->closing_next)
		if (next < 0 || c->linger_until_ms < next)
			next = c->linger_until_ms;
	if (s->shutting_down && (next < 0 || s->shutdown_deadline_ms < next))
		next = s->shutdown_deadline_ms;
	if (next < 0)
		return -1;
	now = loop_time_ms(s->loop);
	return next <= now ? 0 : (int)(next - now);
}

static void
session_wake_throttled(struct session *s)
{
	struct client **pp = &s->throttled;

	while (*pp) {
		struct client *c = *pp;
		if (c->throttled_until_ms <= loop_time_ms(s->loop) ||
		    c->closing) {
			*pp = c->throttled_next;
			c->in_throttled = 0;
			c->throttled_until_ms = 0;
			session_mark_ready(s, c);
		} else {
			pp = &c->throttled_next;
		}
	}
}

static int
session_done(struct session *s)
{
	if (s->shutting_down &&
	    loop_time_ms(s->loop) >= s->shutdown_deadline_ms)
		return 1;
	if (s->nclients > 0)
		return 0;
	return s->shutting_down || s->channel_dead ||
	       (!s->worker && s->had_client);
}

static void
session_setup(struct session *s, const struct session_start *st)
{
	sigset_t mask;

	memset(s, 0, sizeof(*s));
	s->cfg = st->cfg;
	s->shm = st->shm;
	s->worker = st->worker;
	s->wake_fd = st->wake_fd;
	outbox_shm_protect(s->shm, (int)st->producer);
	outbox_writer_init(&s->w, s->shm, st->producer);
	s->published = s->w.head;
	s->tl_pos = st->tl_pos;
	s->cursors = malloc(s->shm->nprod * sizeof(*s->cursors));
	s->recbuf =
	    aligned_alloc(OUTBOX_REC_ALIGN, (OUTBOX_REC_MAX + 7) & ~(size_t)7);
	s->line = malloc(SESSION_LINE_MAX);
	s->scratch = malloc(LINE_SANITIZED_MAX(s->cfg->max_line) + 1);
	s->by_slot = calloc((size_t)s->cfg->max_clients, sizeof(*s->by_slot));
	if (!s->cursors || !s->recbuf || !s->line || !s->scratch || !s->by_slot)
		fatal("session_setup");
	memcpy(s->cursors, st->cursors, s->shm->nprod * sizeof(*s->cursors));
	s->loop = loop_new();
	channel_init(&s->chan, st->channel_fd);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	s->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sig_fd < 0)
		fatal("signalfd");
	if (loop_add(s->loop, s->chan.fd, EPOLLIN | EPOLLOUT | EPOLLET,
		     session_on_channel, s) < 0 ||
	    loop_add(s->loop, s->wake_fd, EPOLLIN | EPOLLET, session_on_wake,
		     s) < 0 ||
	    loop_add(s->loop, s->sig_fd, EPOLLIN, session_on_signal, s) < 0)
		fatal("session loop");
}

void
session_main(const struct session_start *st)
{
	struct session s;
	char tag[32];

	snprintf(tag, sizeof(tag), "%s %d", st->worker ? "worker" : "session",
		 (int)getpid());
	log_set_tag(tag);
	signal(SIGINT, SIG_IGN); /* Ctrl-C is the supervisor's to handle */
	session_setup(&s, st);
	if (st->client_fd >= 0)
		session_client_add(&s, st->client_fd, st->client_id,
				   st->client_nick, st->client_addr);
	for (;;) {
		session_process_input(&s);
		session_publish(&s);
		session_read_timeline(&s);
		session_publish(&s);
		session_flush(&s);
		session_reap(&s);
		if (!s.channel_dead)
			(void)channel_flush(&s.chan);
		if (session_done(&s))
			break;
		if (loop_run_once(s.loop, session_timeout(&s)) < 0)
			fatal("epoll_wait");
		session_wake_throttled(&s);
	}
	for (struct client *c = s.clients, *next; c; c = next) {
		next = c->next;
		session_client_free(&s, c);
	}
	/* Let the supervisor read our last messages before we go. */
	long long deadline = loop_now_ms() + 1000;
	while (!s.channel_dead && channel_flush(&s.chan) == -EAGAIN &&
	       loop_now_ms() < deadline) {
		struct pollfd pfd = {.fd = s.chan.fd, .events = POLLOUT};
		(void)poll(&pfd, 1, 100);
	}
	_exit(0);
}
