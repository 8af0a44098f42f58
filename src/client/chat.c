/*
 * chat: what the server's lines mean to the client, and what becomes of
 * the lines it sends. Invariant: p->nick and p->room are what the server
 * last said they are, sanitised, never longer than their buffers.
 */
#include "client/chat.h"

#include "client/render.h"
#include "client/screen.h"

#include <stdio.h>
#include <string.h>

#define CHAT_WELCOME "-!- welcome to parley, "
/* After /join of a room we are already in. */
#define CHAT_TALKING "-!- now talking in #"

/* Copies a nick or room name (sanitised, no spaces) into out. */
static void
chat_copy_name(char *out, size_t out_len, const char *s, size_t len)
{
	char clean[3 * PARLEY_ROOM_MAX + 1];
	size_t n;

	if (len > PARLEY_ROOM_MAX)
		len = PARLEY_ROOM_MAX;
	n = render_sanitize(s, len, clean, sizeof(clean));
	if (n >= out_len) {
		n = out_len - 1;
		while (n > 0 && ((unsigned char)clean[n] & 0xc0) == 0x80)
			n--; /* cut at a character boundary */
	}
	memcpy(out, clean, n);
	out[n] = '\0';
}

static int
chat_is_me(const struct parley *p, const char *s, size_t len)
{
	return p->nick[0] && strlen(p->nick) == len &&
	       memcmp(p->nick, s, len) == 0;
}

/* Follows our nickname and current room from "-!- ..." notices. */
static void
chat_track(struct parley *p, const char *line, size_t len)
{
	char copy[512], *s, *word, *rest;
	size_t wl = strlen(CHAT_WELCOME);

	if (len >= sizeof(copy) || len < 4 || memcmp(line, "-!- ", 4) != 0)
		return;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (len > wl && memcmp(copy, CHAT_WELCOME, wl) == 0) {
		s = copy + wl;
		chat_copy_name(p->nick, sizeof(p->nick), s, strcspn(s, "!"));
		return;
	}
	if (strncmp(copy, CHAT_TALKING, strlen(CHAT_TALKING)) == 0) {
		s = copy + strlen(CHAT_TALKING) - 1;
		chat_copy_name(p->room, sizeof(p->room), s, strcspn(s, " "));
		screen_update_prompt(p);
		return;
	}
	word = copy + 4;
	rest = strchr(word, ' ');
	if (!rest || !chat_is_me(p, word, (size_t)(rest - word)))
		return;
	rest++;
	if (strncmp(rest, "is now known as ", 16) == 0) {
		s = rest + 16;
		chat_copy_name(p->nick, sizeof(p->nick), s, strcspn(s, " "));
	} else if (strncmp(rest, "joined #", 8) == 0) {
		s = rest + 7;
		chat_copy_name(p->room, sizeof(p->room), s, strcspn(s, " "));
		screen_update_prompt(p);
	} else if (strncmp(rest, "left #", 6) == 0) {
		s = rest + 5;
		size_t rl = strcspn(s, " ");
		if (strlen(p->room) == rl && memcmp(p->room, s, rl) == 0) {
			p->room[0] = '\0';
			screen_update_prompt(p);
		}
	}
}

void
chat_on_server_line(struct parley *p, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	chat_track(p, line, len);
	screen_print(p, line, len);
}

void
chat_send_line(struct parley *p, const char *s)
{
	queue_puts(&p->sendq, s);
	queue_append(&p->sendq, "\n", 1);
}

void
chat_leave(struct parley *p)
{
	screen_hide_input(p);
	p->closing = 1;
}

void
chat_submit(struct parley *p, const char *line)
{
	if (line[0] == '\0')
		return;
	screen_echo(p, line);
	chat_send_line(p, line);
	if (strcmp(line, "/quit") == 0 || strncmp(line, "/quit ", 6) == 0)
		chat_leave(p);
}
