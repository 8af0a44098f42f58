/*
 * Unit tests for src/lib/line: framing at every split offset, over-long
 * lines, telnet stripping across reads and the sanitising rule.
 */
#include "lib/line.h"

#include "../testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- a caller that frames a stream fed in chunks ------------------------ */

#define FR_BUF	 4096
#define FR_LINES 64

/* What a stream produced: lines ("" entries allowed) and TOO_LONG reports
 * (stored as the string "<TOO_LONG>"). */
struct framed {
	char lines[FR_LINES][256];
	int n;
	int overflow; /* more results than fit */
};

struct framer {
	struct line_reader lr;
	char buf[FR_BUF];
	size_t len;
	struct framed out;
};

static void
framer_init(struct framer *f, size_t max_len)
{
	memset(f, 0, sizeof(*f));
	f->lr.max_len = max_len;
}

static void
framer_emit(struct framer *f, const char *s, size_t n)
{
	if (f->out.n >= FR_LINES || n >= sizeof(f->out.lines[0])) {
		f->out.overflow = 1;
		return;
	}
	memcpy(f->out.lines[f->out.n], s, n);
	f->out.lines[f->out.n][n] = '\0';
	f->out.n++;
}

/* The caller pattern: append, then line_next until NEED_MORE with nothing
 * consumed, dropping consumed bytes after every call. */
static void
framer_feed(struct framer *f, const char *data, size_t n)
{
	if (f->len + n > sizeof(f->buf)) {
		f->out.overflow = 1;
		return;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	for (;;) {
		size_t off = 0, ll = 0, consumed = 0;
		enum line_result r =
		    line_next(&f->lr, f->buf, f->len, &off, &ll, &consumed);
		if (consumed > f->len) {
			f->out.overflow = 1;
			return;
		}
		if (r == LINE_OK)
			framer_emit(f, f->buf + off, ll);
		else if (r == LINE_TOO_LONG)
			framer_emit(f, "<TOO_LONG>", 10);
		memmove(f->buf, f->buf + consumed, f->len - consumed);
		f->len -= consumed;
		if (r == LINE_NEED_MORE && consumed == 0)
			return;
	}
}

static int
framed_equal(const struct framed *a, const struct framed *b)
{
	if (a->overflow || b->overflow || a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->lines[i], b->lines[i]) != 0)
			return 0;
	return 1;
}

static void
framed_dump(const char *what, const struct framed *f)
{
	fprintf(stderr, "    %s: %d lines%s:", what, f->n,
		f->overflow ? " (overflow)" : "");
	for (int i = 0; i < f->n; i++)
		fprintf(stderr, " [%s]", f->lines[i]);
	fputc('\n', stderr);
}

/* Frames stream whole, then split in two at every offset, then byte by
 * byte, and checks all three agree with the expected lines. */
static void
check_every_split(const char *stream, size_t len, size_t max_len,
		  const char *const *want, int nwant)
{
	struct framer f;
	struct framed expect = {.n = 0};

	for (int i = 0; i < nwant; i++) {
		snprintf(expect.lines[i], sizeof(expect.lines[i]), "%s",
			 want[i]);
		expect.n++;
	}

	framer_init(&f, max_len);
	framer_feed(&f, stream, len);
	if (!CHECKF(framed_equal(&f.out, &expect), "whole stream")) {
		framed_dump("want", &expect);
		framed_dump("got", &f.out);
	}

	for (size_t cut = 0; cut <= len; cut++) {
		framer_init(&f, max_len);
		framer_feed(&f, stream, cut);
		framer_feed(&f, stream + cut, len - cut);
		if (!CHECKF(framed_equal(&f.out, &expect), "split at %zu",
			    cut)) {
			framed_dump("want", &expect);
			framed_dump("got", &f.out);
			return;
		}
	}

	framer_init(&f, max_len);
	for (size_t i = 0; i < len; i++)
		framer_feed(&f, stream + i, 1);
	if (!CHECKF(framed_equal(&f.out, &expect), "byte by byte")) {
		framed_dump("want", &expect);
		framed_dump("got", &f.out);
	}
}

/* ---- framing ------------------------------------------------------------ */

static void
test_lf_and_crlf_lines_are_framed_without_terminators(void)
{
	struct line_reader lr = {.max_len = 100};
	const char buf[] = "hello\r\nworld\n";
	size_t off = 99, ll = 99, consumed = 99;

	CHECK(line_next(&lr, buf, strlen(buf), &off, &ll, &consumed) ==
	      LINE_OK);
	CHECK(off == 0 && ll == 5 && consumed == 7);
	CHECK(memcmp(buf + off, "hello", 5) == 0);
	CHECK(line_next(&lr, buf + 7, strlen(buf) - 7, &off, &ll, &consumed) ==
	      LINE_OK);
	CHECK(off == 0 && ll == 5 && consumed == 6);
	CHECK(memcmp(buf + 7 + off, "world", 5) == 0);
}

static void
test_partial_line_needs_more_and_consumes_nothing(void)
{
	struct line_reader lr = {.max_len = 100};
	size_t off, ll, consumed = 99;

	CHECK(line_next(&lr, "partial", 7, &off, &ll, &consumed) ==
	      LINE_NEED_MORE);
	CHECK(consumed == 0);
	CHECK(line_next(&lr, "", 0, &off, &ll, &consumed) == LINE_NEED_MORE);
	CHECK(consumed == 0);
}

static void
test_empty_lines_are_delivered(void)
{
	static const char *const want[] = {"", "", "a", ""};
	const char s[] = "\n\r\na\n\r\n";

	check_every_split(s, strlen(s), 10, want, 4);
}

static void
test_line_of_exactly_max_len_is_accepted_and_one_more_is_too_long(void)
{
	struct line_reader lr = {.max_len = 8};
	size_t off, ll, consumed;

	CHECK(line_next(&lr, "12345678\n", 9, &off, &ll, &consumed) == LINE_OK);
	CHECK(ll == 8 && consumed == 9);
	CHECK(line_next(&lr, "12345678\r\n", 10, &off, &ll, &consumed) ==
	      LINE_OK);
	CHECK(ll == 8 && consumed == 10);
	CHECK(line_next(&lr, "123456789\n", 10, &off, &ll, &consumed) ==
	      LINE_TOO_LONG);
	CHECK(consumed == 10);
	CHECK(!lr.discarding);
	CHECK(line_next(&lr, "123456789\r\n", 11, &off, &ll, &consumed) ==
	      LINE_TOO_LONG);
	CHECK(consumed == 11);
}

static void
test_max_len_line_with_crlf_waits_for_lf_after_cr(void)
{
	struct line_reader lr = {.max_len = 8};
	size_t off, ll, consumed;

	/* max_len bytes and a CR: the LF may still come, so no verdict. */
	CHECK(line_next(&lr, "12345678\r", 9, &off, &ll, &consumed) ==
	      LINE_NEED_MORE);
	CHECK(consumed == 0);
}

static void
test_over_long_line_is_reported_once_and_next_line_delivered(void)
{
	static const char *const want[] = {"ok",       "<TOO_LONG>", "next",
					   "12345678", "<TOO_LONG>", "last"};
	char s[512];
	size_t n = 0;

	n += (size_t)snprintf(s + n, sizeof(s) - n, "ok\n");
	for (int i = 0; i < 100; i++)
		s[n++] = 'x';
	n += (size_t)snprintf(s + n, sizeof(s) - n, "\nnext\r\n12345678\n");
	for (int i = 0; i < 9; i++)
		s[n++] = 'y';
	n += (size_t)snprintf(s + n, sizeof(s) - n, "\r\nlast\n");
	check_every_split(s, n, 8, want, 6);
}

static void
test_over_long_line_without_lf_switches_to_discarding(void)
{
	struct line_reader lr = {.max_len = 4};
	size_t off, ll, consumed;

	CHECK(line_next(&lr, "abcdefgh", 8, &off, &ll, &consumed) ==
	      LINE_TOO_LONG);
	CHECK(consumed == 8);
	CHECK(lr.discarding);
	/* More of the same line: dropped silently. */
	CHECK(line_next(&lr, "ijklmnop", 8, &off, &ll, &consumed) ==
	      LINE_NEED_MORE);
	CHECK(consumed == 8);
	/* The end of it, and a good line in the same read. */
	CHECK(line_next(&lr, "qr\nok\n", 6, &off, &ll, &consumed) == LINE_OK);
	CHECK(off == 3 && ll == 2 && consumed == 6);
	CHECK(!lr.discarding);
}

static void
test_stream_of_mixed_lines_framed_identically_at_every_split(void)
{
	static const char *const want[] = {
	    "first",	  "",	"second line", "third", "<TOO_LONG>",
	    "after long", "\r", "x\ry",	       "tail",
	};
	char s[512];
	size_t n = 0;

	n += (size_t)snprintf(s + n, sizeof(s) - n,
			      "first\r\n\nsecond line\nthird\r\n");
	for (int i = 0; i < 40; i++)
		s[n++] = (char)('a' + i % 26);
	/* A bare CR inside a line stays (sanitising removes it later); only
	 * the one before LF is part of the terminator. */
	n += (size_t)snprintf(s + n, sizeof(s) - n,
			      "\r\nafter long\n\r\r\nx\ry\ntail\n");
	check_every_split(s, n, 16, want, 9);
}

/* ---- telnet ------------------------------------------------------------- */

static void
test_telnet_negotiations_are_removed(void)
{
	struct line_reader lr = {.max_len = 100};
	char buf[] = "a\xff\xfb\x01"
		     "b\xff\xfd\x03"
		     "c\xff\xfc\x18"
		     "d\xff\xfe\x1f"
		     "e";
	size_t n = line_strip_telnet(&lr, buf, sizeof(buf) - 1);

	CHECK(n == 5);
	CHECK(memcmp(buf, "abcde", 5) == 0);
}

static void
test_telnet_subnegotiation_is_removed(void)
{
	struct line_reader lr = {.max_len = 100};
	char buf[] = "hi\xff\xfa\x18\x00xterm\xff\xf0there";
	size_t n = line_strip_telnet(&lr, buf, sizeof(buf) - 1);

	CHECK(n == 7);
	CHECK(memcmp(buf, "hithere", 7) == 0);
}

static void
test_telnet_iac_iac_becomes_one_ff_byte(void)
{
	struct line_reader lr = {.max_len = 100};
	char buf[] = "a\xff\xff"
		     "b";
	size_t n = line_strip_telnet(&lr, buf, 4);

	CHECK(n == 3);
	CHECK(memcmp(buf,
		     "a\xff"
		     "b",
		     3) == 0);
}

static void
test_telnet_iac_iac_inside_subnegotiation_does_not_end_it(void)
{
	struct line_reader lr = {.max_len = 100};
	/* IAC SB 24 IAC IAC SE-byte(data) IAC SE: the escaped 0xFF is data
	 * and the 0xF0 after it is data too; only IAC SE ends the SB. */
	char buf[] = "a\xff\xfa\x18\xff\xff\xf0x\xff\xf0"
		     "b";
	size_t n = line_strip_telnet(&lr, buf, sizeof(buf) - 1);

	CHECKF(n == 2 && memcmp(buf, "ab", 2) == 0, "got %zu bytes", n);
}

static void
test_telnet_sequences_split_across_reads_are_removed(void)
{
	const char s[] = "x\xff\xfb\x01y\xff\xfa\x18\x01\xff\xf0z\xff\xff"
			 "w";
	size_t len = sizeof(s) - 1;

	for (size_t cut = 0; cut <= len; cut++) {
		struct line_reader lr = {.max_len = 100};
		char a[32], b[32], out[64];
		size_t na, nb;

		memcpy(a, s, cut);
		memcpy(b, s + cut, len - cut);
		na = line_strip_telnet(&lr, a, cut);
		nb = line_strip_telnet(&lr, b, len - cut);
		memcpy(out, a, na);
		memcpy(out + na, b, nb);
		if (!CHECKF(na + nb == 5 && memcmp(out,
						   "xyz\xff"
						   "w",
						   5) == 0,
			    "split at %zu: %zu bytes", cut, na + nb))
			return;
	}
	struct line_reader lr = {.max_len = 100};
	char out[64];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		out[n] = s[i];
		n += line_strip_telnet(&lr, out + n, 1);
	}
	CHECK(n == 5 && memcmp(out,
			       "xyz\xff"
			       "w",
			       5) == 0);
}

/* Strips s[0..len) fed in pieces of chunk bytes (0: whole) into out, each
 * piece in a buffer with the one spare byte the contract asks for. */
static size_t
strip_in_pieces(const char *s, size_t len, size_t cut, int bytewise, char *out)
{
	struct line_reader lr = {.max_len = 100};
	size_t n = 0, i = 0;

	while (i < len) {
		size_t k = bytewise   ? 1
			   : i < cut  ? cut - i
			   : cut == 0 ? len
				      : len - i;
		char piece[128];
		memcpy(piece, s + i, k);
		size_t kept = line_strip_telnet(&lr, piece, k);
		memcpy(out + n, piece, kept);
		n += kept;
		i += k;
	}
	return n;
}

/* What is telnet and what is not: every row at every split and byte by
 * byte. A 0xFF that starts no command is kept with the byte after it. */
static const struct {
	const char *in, *out;
	size_t in_len, out_len;
} telnet_rows[] = {
#define ROW(in, out)                                                           \
	{                                                                      \
		in, out, sizeof(in) - 1, sizeof(out) - 1                       \
	}
    ROW("a\xff"
	"b",
	"a\xff"
	"b"),
    ROW("/part #x\xff\n/nick ab\n", "/part #x\xff\n/nick ab\n"),
    ROW("caf\xff"
	"e\xff\n",
	"caf\xff"
	"e\xff\n"),
    ROW("a\xff\xff"
	"b",
	"a\xff"
	"b"),
    ROW("a\xff\xfb\x01"
	"b\xff\xfe\x1f"
	"c",
	"abc"),
    ROW("a\xff\xf1"
	"b\xff\xf9"
	"c\xff\xf0"
	"d",
	"abcd"),
    ROW("x\xff\xfa\x18\x01\xff\xf0y", "xy"),
    /* A line end ends any telnet state and is kept. */
    ROW("\xff\xfahello\nworld\n", "\nworld\n"),
    ROW("a\xff\xfa\x18\xff\ndone\n", "a\ndone\n"),
    ROW("a\xff\xfb\nb\n", "a\nb\n"),
    ROW("a\xff\n", "a\xff\n"),
#undef ROW
};

static void
test_telnet_takes_only_real_commands_at_every_split(void)
{
	for (size_t r = 0; r < sizeof(telnet_rows) / sizeof(telnet_rows[0]);
	     r++) {
		const char *in = telnet_rows[r].in;
		size_t len = telnet_rows[r].in_len;
		char out[256];
		for (size_t cut = 0; cut <= len + 1; cut++) {
			int bytewise = cut == len + 1;
			size_t n = strip_in_pieces(in, len, cut, bytewise, out);
			if (!CHECKF(n == telnet_rows[r].out_len &&
					memcmp(out, telnet_rows[r].out, n) == 0,
				    "row %zu, %s %zu: %zu bytes", r,
				    bytewise ? "byte by byte" : "split at", cut,
				    n))
				break;
		}
	}
}

static void
test_telnet_subnegotiation_is_bounded(void)
{
	char in[200], out[256];

	/* IAC SB and 100 bytes with no IAC SE and no line end: the first 64
	 * are dropped as telnet, the rest is data. */
	in[0] = '\xff';
	in[1] = '\xfa';
	memset(in + 2, 'q', 100);
	size_t n = strip_in_pieces(in, 102, 0, 0, out);
	CHECKF(n == 100 - 64, "%zu bytes kept", n);
	n = strip_in_pieces(in, 102, 0, 1, out);
	CHECKF(n == 100 - 64, "%zu bytes kept byte by byte", n);
}

/* ---- sanitising --------------------------------------------------------- */

static size_t
sanitize(const char *in, size_t len, char *out)
{
	return line_sanitize(in, len, out);
}

#define CHECK_SANITIZE(in, want)                                               \
	do {                                                                   \
		char out_[LINE_SANITIZED_MAX(sizeof(in))];                     \
		size_t n_ = sanitize(in, sizeof(in) - 1, out_);                \
		CHECKF(n_ == sizeof(want) - 1 &&                               \
			   memcmp(out_, want, sizeof(want) - 1) == 0,          \
		       "sanitize(%s): got %zu bytes", #in, n_);                \
	} while (0)

static void
test_tab_becomes_space(void)
{
	CHECK_SANITIZE("a\tb\t", "a b ");
}

static void
test_c0_controls_del_nul_and_lone_cr_are_removed(void)
{
	CHECK_SANITIZE("a\x01\x02\x07\x08"
		       "b\x7f"
		       "c\rd\0e\x1f"
		       "f\n",
		       "abcdef");
}

static void
test_escape_sequence_loses_its_esc(void)
{
	CHECK_SANITIZE("\x1b[31mred\x1b[0m", "[31mred[0m");
}

static void
test_c1_controls_are_removed(void)
{
	CHECK_SANITIZE("a\xc2\x80"
		       "b\xc2\x9b"
		       "c\xc2\x9f"
		       "d\xc2\xa0"
		       "e",
		       "abcd\xc2\xa0"
		       "e");
}

static void
test_bidi_overrides_and_isolates_are_removed(void)
{
	CHECK_SANITIZE("a\xe2\x80\xaa"
		       "b\xe2\x80\xae"
		       "c\xe2\x81\xa6"
		       "d\xe2\x81\xa9"
		       "e",
		       "abcde");
	/* Neighbours of the ranges stay: U+2027, U+202F, U+2065, U+206A. */
	CHECK_SANITIZE("\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa",
		       "\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
}

static void
test_direction_marks_line_separators_and_bom_are_removed(void)
{
	/* U+200E LRM, U+200F RLM, U+061C ALM, U+2028 LS, U+2029 PS and
	 * U+FEFF (BOM, zero-width no-break space). */
	CHECK_SANITIZE("a\xe2\x80\x8e"
		       "b\xe2\x80\x8f"
		       "c\xd8\x9c"
		       "d\xe2\x80\xa8"
		       "e\xe2\x80\xa9"
		       "f\xef\xbb\xbf"
		       "g",
		       "abcdefg");
	/* Their neighbours stay: U+200D ZWJ (emoji sequences), U+2010,
	 * U+061B, U+FEFC. */
	CHECK_SANITIZE("\xe2\x80\x8d\xe2\x80\x90\xd8\x9b\xef\xbb\xbc",
		       "\xe2\x80\x8d\xe2\x80\x90\xd8\x9b\xef\xbb\xbc");
}

static void
test_invalid_bytes_become_one_replacement_each(void)
{
	CHECK_SANITIZE("a\xff"
		       "b",
		       "a\xef\xbf\xbd"
		       "b");
	/* Lone continuation bytes. */
	CHECK_SANITIZE("\x80\xbf", "\xef\xbf\xbd\xef\xbf\xbd");
	/* A truncated 3-byte sequence: two invalid bytes. */
	CHECK_SANITIZE("\xe4\xb8", "\xef\xbf\xbd\xef\xbf\xbd");
	/* A lead byte followed by ASCII: the ASCII survives. */
	CHECK_SANITIZE("\xe4"
		       "A",
		       "\xef\xbf\xbd"
		       "A");
}

static void
test_overlong_encodings_and_surrogates_are_invalid(void)
{
	/* Overlong '/' in 2 and 3 bytes. */
	CHECK_SANITIZE("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_SANITIZE("\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Overlong 4-byte U+FFFF. */
	CHECK_SANITIZE("\xf0\x8f\xbf\xbf", "\xef\xbf\xbd\xef\xbf\xbd"
					   "\xef\xbf\xbd\xef\xbf\xbd");
	/* Surrogate U+D800. */
	CHECK_SANITIZE("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Past U+10FFFF. */
	CHECK_SANITIZE("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd"
					   "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK(line_utf8_len((const unsigned char *)"\xed\xa0\x80", 3) == 0);
	CHECK(line_utf8_len((const unsigned char *)"\xed\x9f\xbf", 3) == 3);
}

static void
test_valid_cjk_and_emoji_pass_through_untouched(void)
{
	CHECK_SANITIZE("\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80!",
		       "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80!");
	CHECK_SANITIZE("caf\xc3\xa9 \xf4\x8f\xbf\xbf",
		       "caf\xc3\xa9 \xf4\x8f\xbf\xbf");
	CHECK(line_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4) == 4);
}

static void
test_all_invalid_input_fits_in_sanitized_max(void)
{
	char in[64], out[LINE_SANITIZED_MAX(64) + 1];

	memset(in, 0xff, sizeof(in));
	out[LINE_SANITIZED_MAX(64)] = 'Z';
	CHECK(line_sanitize(in, sizeof(in), out) == LINE_SANITIZED_MAX(64));
	CHECK(out[LINE_SANITIZED_MAX(64)] == 'Z');
}

/* ---- cutting ------------------------------------------------------------ */

/* s[0..n) is whole UTF-8 characters. */
static int
whole_chars(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = line_utf8_len((const unsigned char *)s + i, n - i);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

static void
test_utf8_cut_keeps_whole_characters_at_every_limit(void)
{
	/* 1-, 2-, 3- and 4-byte characters, in both orders. */
	static const char s[] = "a\xc3\xa9\xe4\xbd\xa0\xf0\x9f\x98\x80"
				"b\xf0\x9f\x98\x80\xe4\xbd\xa0\xc3\xa9z";
	size_t len = sizeof(s) - 1;

	for (size_t max = 0; max <= len + 1; max++) {
		char cut[sizeof(s)];
		size_t n = line_utf8_cut(s, len, max);
		if (!CHECKF(n <= max || (max >= len && n == len),
			    "max %zu: %zu bytes", max, n) ||
		    !CHECKF(whole_chars(s, n), "max %zu: cut inside at %zu",
			    max, n))
			return;
		/* The longest: the next character would not fit. */
		if (n < len)
			CHECKF(n + line_utf8_len((const unsigned char *)s + n,
						 len - n) >
				   max,
			       "max %zu: %zu bytes is not the longest", max, n);
		/* What follows max is never read: a buffer vsnprintf cut. */
		memcpy(cut, s, sizeof(s));
		if (max < len)
			memset(cut + max, 0, sizeof(s) - max);
		CHECKF(line_utf8_cut(cut, len, max) == n,
		       "max %zu: reads past the limit", max);
	}
	CHECK(line_utf8_cut("abc", 3, 3) == 3);
	CHECK(line_utf8_cut("", 0, 0) == 0);
}

int
main(void)
{
	RUN(test_lf_and_crlf_lines_are_framed_without_terminators);
	RUN(test_partial_line_needs_more_and_consumes_nothing);
	RUN(test_empty_lines_are_delivered);
	RUN(test_line_of_exactly_max_len_is_accepted_and_one_more_is_too_long);
	RUN(test_max_len_line_with_crlf_waits_for_lf_after_cr);
	RUN(test_over_long_line_is_reported_once_and_next_line_delivered);
	RUN(test_over_long_line_without_lf_switches_to_discarding);
	RUN(test_stream_of_mixed_lines_framed_identically_at_every_split);
	RUN(test_telnet_negotiations_are_removed);
	RUN(test_telnet_subnegotiation_is_removed);
	RUN(test_telnet_iac_iac_becomes_one_ff_byte);
	RUN(test_telnet_iac_iac_inside_subnegotiation_does_not_end_it);
	RUN(test_telnet_sequences_split_across_reads_are_removed);
	RUN(test_telnet_takes_only_real_commands_at_every_split);
	RUN(test_telnet_subnegotiation_is_bounded);
	RUN(test_tab_becomes_space);
	RUN(test_c0_controls_del_nul_and_lone_cr_are_removed);
	RUN(test_escape_sequence_loses_its_esc);
	RUN(test_c1_controls_are_removed);
	RUN(test_bidi_overrides_and_isolates_are_removed);
	RUN(test_direction_marks_line_separators_and_bom_are_removed);
	RUN(test_invalid_bytes_become_one_replacement_each);
	RUN(test_overlong_encodings_and_surrogates_are_invalid);
	RUN(test_valid_cjk_and_emoji_pass_through_untouched);
	RUN(test_all_invalid_input_fits_in_sanitized_max);
	RUN(test_utf8_cut_keeps_whole_characters_at_every_limit);
	return tl_summary("unit_line");
}
