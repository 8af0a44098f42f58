/*
 * test_editor: unit tests for the client's pure modules (line editor,
 * UTF-8 widths, rendering of server lines). No tty, no sockets: bytes go
 * in, buffers, cursor columns and strings are checked.
 */

/* Unit tests link the server and lib objects, not the client's: the pure
 * client modules are compiled into this test directly. */
#include "client/editor.c"
#include "client/render.c"
#include "client/utf8.c"

#include "../testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feeds a string of key bytes; returns the last event that was not NONE. */
static enum editor_event
t_keys(struct editor *ed, const char *keys)
{
	enum editor_event last = EDITOR_NONE;

	for (const char *k = keys; *k; k++) {
		enum editor_event ev = editor_feed(ed, (unsigned char)*k);
		if (ev != EDITOR_NONE)
			last = ev;
	}
	return last;
}

static void
test_typing_inserts_at_the_cursor(void)
{
	struct editor ed;

	editor_init(&ed);
	t_keys(&ed, "helo\x1b[Dl");
	CHECK(strcmp(ed.buf, "hello") == 0);
	CHECK(ed.pos == 4);
	t_keys(&ed, "\x01>\x05<");
	CHECK(strcmp(ed.buf, ">hello<") == 0);
	CHECK(ed.pos == 7);
	editor_free(&ed);
}

static void
test_kill_keys_cut_to_start_end_and_word(void)
{
	struct editor ed;

	editor_init(&ed);
	t_keys(&ed, "one two  three");
	t_keys(&ed, "\x17");
	CHECK(strcmp(ed.buf, "one two  ") == 0);
	t_keys(&ed, "\x17");
	CHECK(strcmp(ed.buf, "one ") == 0);
	t_keys(&ed, "abc\x02\x02\x0b");
	CHECK(strcmp(ed.buf, "one a") == 0);
	t_keys(&ed, "\x02\x15");
	CHECK(strcmp(ed.buf, "a") == 0 && ed.pos == 0);
	editor_free(&ed);
}

static void
test_backspace_and_delete_at_the_edges_do_nothing(void)
{
	struct editor ed;

	editor_init(&ed);
	CHECK(t_keys(&ed, "\x7f") == EDITOR_NONE);
	CHECK(t_keys(&ed, "\x1b[3~") == EDITOR_NONE);
	t_keys(&ed, "ab\x1b[3~");
	CHECK(strcmp(ed.buf, "ab") == 0);
	t_keys(&ed, "\x1b[1~\x1b[3~");
	CHECK(strcmp(ed.buf, "b") == 0);
	t_keys(&ed, "\x1b[4~\x08");
	CHECK(strcmp(ed.buf, "") == 0);
	editor_free(&ed);
}

static void
test_enter_submits_and_clears_the_line(void)
{
	struct editor ed;

	editor_init(&ed);
	CHECK(t_keys(&ed, "hi there\r") == EDITOR_SUBMIT);
	CHECK(strcmp(editor_line(&ed), "hi there") == 0);
	CHECK(ed.len == 0 && ed.pos == 0 && ed.buf[0] == '\0');
	editor_free(&ed);
}

static void
test_ctrl_c_and_ctrl_d_on_an_empty_line_leave(void)
{
	struct editor ed;

	editor_init(&ed);
	CHECK(t_keys(&ed, "\x03") == EDITOR_INTERRUPT);
	CHECK(t_keys(&ed, "\x04") == EDITOR_EOF);
	t_keys(&ed, "ab\x01");
	CHECK(t_keys(&ed, "\x04") == EDITOR_CHANGED);
	CHECK(strcmp(ed.buf, "b") == 0);
	editor_free(&ed);
}

static void
test_ctrl_z_suspends_and_keeps_the_line(void)
{
	struct editor ed;

	editor_init(&ed);
	t_keys(&ed, "draft");
	CHECK(t_keys(&ed, "\x1a") == EDITOR_SUSPEND);
	CHECK(strcmp(ed.buf, "draft") == 0 && ed.pos == 5);
	editor_free(&ed);
}

static void
test_utf8_input_moves_by_character_and_wide_chars_take_two_columns(void)
{
	struct editor ed;

	editor_init(&ed);
	editor_set_prompt(&ed, "> ");
	t_keys(&ed, "日本");
	CHECK(ed.len == 6 && ed.pos == 6);
	CHECK(editor_cursor_col(&ed, 80) == 2 + 4);
	t_keys(&ed, "\x1b[D");
	CHECK(ed.pos == 3);
	CHECK(editor_cursor_col(&ed, 80) == 2 + 2);
	t_keys(&ed, "\x1b[F😀");
	CHECK(editor_cursor_col(&ed, 80) == 2 + 6);
	t_keys(&ed, "\x7f");
	CHECK(strcmp(ed.buf, "日本") == 0);
	/* e + combining acute: one character for the cursor. */
	t_keys(&ed, "e\xcc\x81");
	CHECK(editor_cursor_col(&ed, 80) == 2 + 5);
	t_keys(&ed, "\x1b[D");
	CHECK(ed.pos == 6);
	t_keys(&ed, "\x1b[C\x7f");
	CHECK(strcmp(ed.buf, "日本") == 0);
	editor_free(&ed);
}

static void
test_invalid_utf8_and_controls_never_enter_the_buffer(void)
{
	struct editor ed;

	editor_init(&ed);
	t_keys(&ed, "a\xff\xc3(b\xe6\x97\t\x1a\xc2\x9b"
		    "c");
	CHECK(strcmp(ed.buf, "a(bc") == 0);
	/* An overlong "/" and a surrogate are refused. */
	t_keys(&ed, "\xc0\xaf\xed\xa0\x80");
	CHECK(strcmp(ed.buf, "a(bc") == 0);
	/* A character split across reads still arrives whole. */
	editor_feed(&ed, 0xe6);
	editor_feed(&ed, 0x97);
	CHECK(ed.len == 4);
	editor_feed(&ed, 0xa5);
	CHECK(strcmp(ed.buf, "a(bc日") == 0);
	editor_free(&ed);
}

static void
test_unknown_escape_sequences_are_swallowed_whole(void)
{
	struct editor ed;

	editor_init(&ed);
	t_keys(&ed, "x\x1b[1;2P\x1b[200~y\x1b[15~z");
	CHECK(strcmp(ed.buf, "xyz") == 0);
	/* Alt-b: the ESC is dropped, the key is kept. */
	t_keys(&ed, "\x1b"
		    "b");
	CHECK(strcmp(ed.buf, "xyzb") == 0);
	/* Ctrl-Left jumps a word. */
	t_keys(&ed, " two\x1b[1;5D");
	CHECK(ed.pos == 5);
	editor_free(&ed);
}

static void
test_history_walks_back_and_restores_the_draft(void)
{
	struct editor ed;

	editor_init(&ed);
	t_keys(&ed, "one\rtwo\rtwo\r\rdraft");
	CHECK(ed.history_len == 2); /* no duplicates, no empty lines */
	t_keys(&ed, "\x1b[A");
	CHECK(strcmp(ed.buf, "two") == 0);
	t_keys(&ed, "\x10");
	CHECK(strcmp(ed.buf, "one") == 0);
	CHECK(t_keys(&ed, "\x1b[A") == EDITOR_NONE);
	t_keys(&ed, "\x1b[B\x0e");
	CHECK(strcmp(ed.buf, "draft") == 0);
	CHECK(t_keys(&ed, "\x1b[B") == EDITOR_NONE);
	editor_free(&ed);
}

static const struct {
	const char *line;
	int secret;
} secret_rows[] = {
    {"/login hunter2", 1},
    {"/LOGIN alice hunter2", 1},
    {"/register hunter2", 1},
    {"/password old new", 1},
    {"/unregister pw", 1},
    {"/oper admin pw", 1},
    {"/msg NickServ IDENTIFY pw", 1},
    {"/loginx", 0},
    {"/msg bob hi", 0},
    {"hello /login pw", 0},
    {"/join #a", 0},
};

static void
test_lines_with_passwords_are_not_kept_in_the_history(void)
{
	struct editor ed;
	char keys[128];

	for (size_t i = 0; i < sizeof(secret_rows) / sizeof(secret_rows[0]);
	     i++) {
		editor_init(&ed);
		snprintf(keys, sizeof(keys), "%s\r", secret_rows[i].line);
		CHECK(t_keys(&ed, keys) == EDITOR_SUBMIT);
		CHECK(strcmp(editor_line(&ed), secret_rows[i].line) == 0);
		CHECK(editor_line_is_secret(secret_rows[i].line) ==
		      secret_rows[i].secret);
		CHECK(ed.history_len == !secret_rows[i].secret);
		t_keys(&ed, "\x1b[A");
		CHECK(secret_rows[i].secret
			  ? ed.buf[0] == '\0'
			  : strcmp(ed.buf, secret_rows[i].line) == 0);
		editor_free(&ed);
	}
}

static void
test_history_keeps_the_newest_lines(void)
{
	struct editor ed;
	char line[32];

	editor_init(&ed);
	for (int i = 0; i < EDITOR_HISTORY_MAX + 5; i++) {
		snprintf(line, sizeof(line), "line %d\r", i);
		t_keys(&ed, line);
	}
	CHECK(ed.history_len == EDITOR_HISTORY_MAX);
	CHECK(strcmp(ed.history[0], "line 5") == 0);
	editor_free(&ed);
}

static void
test_a_full_line_refuses_more_input(void)
{
	static struct editor ed;

	editor_init(&ed);
	for (int i = 0; i < EDITOR_LINE_MAX + 10; i++)
		editor_feed(&ed, 'x');
	CHECK(ed.len == EDITOR_LINE_MAX - 1);
	CHECK(editor_feed(&ed, 0xe6) == EDITOR_NONE);
	editor_feed(&ed, 0x97);
	editor_feed(&ed, 0xa5);
	CHECK(ed.len == EDITOR_LINE_MAX - 1);
	editor_free(&ed);
}

static void
test_render_draws_prompt_line_and_cursor(void)
{
	struct editor ed;
	char out[EDITOR_RENDER_MAX];

	editor_init(&ed);
	editor_set_prompt(&ed, "#lobby> ");
	t_keys(&ed, "hey\x1b[D");
	editor_render(&ed, 80, out, sizeof(out));
	CHECK(strcmp(out, "\r#lobby> hey\x1b[K\r\x1b[10C") == 0);
	editor_free(&ed);
}

static void
test_render_scrolls_a_long_line_to_keep_the_cursor_visible(void)
{
	struct editor ed;
	char out[EDITOR_RENDER_MAX], want[128];

	editor_init(&ed);
	editor_set_prompt(&ed, "> ");
	for (int i = 0; i < 50; i++)
		editor_feed(&ed, (unsigned char)('a' + i % 26));
	/* 20 columns: 2 for the prompt, 17 for text, the last one free. */
	CHECK(editor_cursor_col(&ed, 20) == 19);
	editor_render(&ed, 20, out, sizeof(out));
	snprintf(want, sizeof(want), "\r> %s\x1b[K\r\x1b[19C",
		 "hijklmnopqrstuvwx");
	CHECK(strcmp(out, want) == 0);
	t_keys(&ed, "\x01");
	CHECK(editor_cursor_col(&ed, 20) == 2);
	/* Wide characters are never cut in half at the edge. */
	editor_init(&ed);
	editor_set_prompt(&ed, "> ");
	for (int i = 0; i < 20; i++)
		t_keys(&ed, "日");
	CHECK(editor_cursor_col(&ed, 20) == 18);
	t_keys(&ed, "\x01");
	editor_render(&ed, 20, out, sizeof(out));
	CHECK(strcmp(out, "\r> 日日日日日日日日\x1b[K\r\x1b[2C") == 0);
	editor_free(&ed);
}

static void
test_widths_of_common_scripts(void)
{
	CHECK(utf8_width("abc", 3) == 3);
	CHECK(utf8_width("日本語", strlen("日本語")) == 6);
	CHECK(utf8_width("한국", strlen("한국")) == 4);
	CHECK(utf8_width("😀👍", strlen("😀👍")) == 4);
	CHECK(utf8_width("ｆｕｌｌ", strlen("ｆｕｌｌ")) == 8);
	CHECK(utf8_width("e\xcc\x81", 3) == 1);
	CHECK(utf8_width("é", strlen("é")) == 1);
	CHECK(utf8_cp_width(0x200d) == 0);
	CHECK(utf8_cp_width(0xfe0f) == 0);
	CHECK(utf8_cp_width(0x1b) == 0);
}

static void
test_decoder_round_trips_every_scalar_value_and_rejects_surrogates(void)
{
	char enc[4];
	uint32_t cp;
	size_t n, len;
	int bad = 0;

	for (uint32_t c = 0; c <= 0x10ffff; c++) {
		len = utf8_encode(c, enc);
		enum utf8_status st = utf8_decode(enc, len, &cp, &n);
		int surrogate = c >= 0xd800 && c <= 0xdfff;
		if (surrogate ? st != UTF8_INVALID
			      : (st != UTF8_OK || cp != c || n != len))
			bad++;
		/* Every proper prefix asks for more (or is already invalid
		 * for a surrogate), never decodes. */
		for (size_t k = 1; k < len && !surrogate; k++)
			if (utf8_decode(enc, k, &cp, &n) != UTF8_NEED_MORE)
				bad++;
	}
	CHECK(bad == 0);
	CHECK(utf8_decode("\xf4\x90\x80\x80", 4, &cp, &n) == UTF8_INVALID);
	CHECK(utf8_decode("\xe0\x80\x80", 3, &cp, &n) == UTF8_INVALID);
	CHECK(utf8_decode("\x80", 1, &cp, &n) == UTF8_INVALID);
}

static void
test_sanitize_strips_controls_and_replaces_invalid_utf8(void)
{
	const char in[] = "a\x1b[31mb\x07\x9b\xc2\x9b"
			  "c\td\xff\xe6\x97 日\x7f";
	char out[RENDER_OUT_MAX(sizeof(in))];

	render_sanitize(in, sizeof(in) - 1, out, sizeof(out));
	CHECK(strcmp(out, "a[31mb\xef\xbf\xbd"
			  "c d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd 日") == 0);
}

static void
test_nick_colours_are_stable_and_from_the_palette(void)
{
	int a = render_nick_colour("alice", 5);

	CHECK(a == render_nick_colour("alice", 5));
	CHECK((a >= 31 && a <= 36) || (a >= 91 && a <= 96));
	/* Not all the same colour. */
	int differ = 0;
	for (char c = 'a'; c <= 'z'; c++)
		differ |= render_nick_colour(&c, 1) != a;
	CHECK(differ);
}

static void
test_render_line_colours_room_nick_and_errors(void)
{
	const char *msg = "#lobby <bob> hi <there>";
	char out[RENDER_OUT_MAX(64)], want[128];
	int c = render_nick_colour("bob", 3);

	render_line(msg, strlen(msg), 1, out, sizeof(out));
	snprintf(want, sizeof(want),
		 "\x1b[1m#lobby\x1b[0m <\x1b[%dmbob\x1b[0m> hi <there>", c);
	CHECK(strcmp(out, want) == 0);
	render_line(msg, strlen(msg), 0, out, sizeof(out));
	CHECK(strcmp(out, msg) == 0);

	msg = "-!- error: no such room";
	render_line(msg, strlen(msg), 1, out, sizeof(out));
	CHECK(strstr(out, "\x1b[31m") && strstr(out, " no such room"));

	msg = "*bob* psst";
	render_line(msg, strlen(msg), 1, out, sizeof(out));
	snprintf(want, sizeof(want), "\x1b[%dmbob\x1b[0m", c);
	CHECK(strstr(out, want) && strstr(out, "*\x1b[0m psst"));

	msg = "#lobby [history 11:48:02Z] <bob> old";
	render_line(msg, strlen(msg), 1, out, sizeof(out));
	CHECK(strstr(out, want) && strstr(out, "[history 11:48:02Z]"));

	msg = "#lobby * bob waves";
	render_line(msg, strlen(msg), 1, out, sizeof(out));
	CHECK(strstr(out, want) && strstr(out, " waves"));

	/* A coloured line never carries the network's own escapes. */
	msg = "#lo\x1b[2Jbby <b\x1b>ob> x";
	render_line(msg, strlen(msg), 1, out, sizeof(out));
	CHECK(strstr(out, "\x1b[2J") == NULL);
}

int
main(void)
{
	RUN(test_typing_inserts_at_the_cursor);
	RUN(test_kill_keys_cut_to_start_end_and_word);
	RUN(test_backspace_and_delete_at_the_edges_do_nothing);
	RUN(test_enter_submits_and_clears_the_line);
	RUN(test_ctrl_c_and_ctrl_d_on_an_empty_line_leave);
	RUN(test_ctrl_z_suspends_and_keeps_the_line);
	RUN(test_utf8_input_moves_by_character_and_wide_chars_take_two_columns);
	RUN(test_invalid_utf8_and_controls_never_enter_the_buffer);
	RUN(test_unknown_escape_sequences_are_swallowed_whole);
	RUN(test_history_walks_back_and_restores_the_draft);
	RUN(test_history_keeps_the_newest_lines);
	RUN(test_lines_with_passwords_are_not_kept_in_the_history);
	RUN(test_a_full_line_refuses_more_input);
	RUN(test_render_draws_prompt_line_and_cursor);
	RUN(test_render_scrolls_a_long_line_to_keep_the_cursor_visible);
	RUN(test_widths_of_common_scripts);
	RUN(test_decoder_round_trips_every_scalar_value_and_rejects_surrogates);
	RUN(test_sanitize_strips_controls_and_replaces_invalid_utf8);
	RUN(test_nick_colours_are_stable_and_from_the_palette);
	RUN(test_render_line_colours_room_nick_and_errors);
	return tl_summary("unit_editor");
}
