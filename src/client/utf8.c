/*
 * utf8: a strict UTF-8 decoder and a small, locale-free width table.
 * Used by the line editor and the renderer of the terminal client; the
 * tables cover the common ranges, not every corner of Unicode.
 */
#include "client/utf8.h"

struct utf8_range {
	uint32_t first, last;
};

/* Zero-width: combining marks, zero-width space/joiners, variation
 * selectors. Sorted. */
static const struct utf8_range utf8_zero[] = {
    {0x0300, 0x036f},	{0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},
    {0x064b, 0x065f},	{0x0e31, 0x0e31}, {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e},
    {0x1ab0, 0x1aff},	{0x1dc0, 0x1dff}, {0x200b, 0x200f}, {0x2028, 0x202e},
    {0x2060, 0x2064},	{0x20d0, 0x20ff}, {0x302a, 0x302d}, {0x3099, 0x309a},
    {0xfe00, 0xfe0f},	{0xfe20, 0xfe2f}, {0xfeff, 0xfeff}, {0x1f3fb, 0x1f3ff},
    {0xe0000, 0xe0fff},
};

/* Wide: East Asian Wide/Fullwidth and emoji presentation. Sorted. */
static const struct utf8_range utf8_wide[] = {
    {0x1100, 0x115f},	{0x231a, 0x231b},   {0x2329, 0x232a},
    {0x23e9, 0x23ec},	{0x23f0, 0x23f0},   {0x23f3, 0x23f3},
    {0x25fd, 0x25fe},	{0x2614, 0x2615},   {0x2648, 0x2653},
    {0x267f, 0x267f},	{0x2693, 0x2693},   {0x26a1, 0x26a1},
    {0x26aa, 0x26ab},	{0x26bd, 0x26be},   {0x26c4, 0x26c5},
    {0x26ce, 0x26ce},	{0x26d4, 0x26d4},   {0x26ea, 0x26ea},
    {0x26f2, 0x26f3},	{0x26f5, 0x26f5},   {0x26fa, 0x26fa},
    {0x26fd, 0x26fd},	{0x2705, 0x2705},   {0x270a, 0x270b},
    {0x2728, 0x2728},	{0x274c, 0x274c},   {0x274e, 0x274e},
    {0x2753, 0x2755},	{0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27b0, 0x27b0},	{0x27bf, 0x27bf},   {0x2b1b, 0x2b1c},
    {0x2b50, 0x2b50},	{0x2b55, 0x2b55},   {0x2e80, 0x303e},
    {0x3041, 0x3247},	{0x3250, 0x4dbf},   {0x4e00, 0xa4cf},
    {0xa960, 0xa97f},	{0xac00, 0xd7a3},   {0xf900, 0xfaff},
    {0xfe10, 0xfe19},	{0xfe30, 0xfe6f},   {0xff00, 0xff60},
    {0xffe0, 0xffe6},	{0x16fe0, 0x16fe4}, {0x17000, 0x18cff},
    {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
    {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f202},
    {0x1f210, 0x1f23b}, {0x1f240, 0x1f248}, {0x1f250, 0x1f251},
    {0x1f260, 0x1f265}, {0x1f300, 0x1f320}, {0x1f32d, 0x1f335},
    {0x1f337, 0x1f37c}, {0x1f37e, 0x1f393}, {0x1f3a0, 0x1f3ca},
    {0x1f3cf, 0x1f3d3}, {0x1f3e0, 0x1f3f0}, {0x1f3f4, 0x1f3f4},
    {0x1f3f8, 0x1f3fa}, {0x1f400, 0x1f43e}, {0x1f440, 0x1f440},
    {0x1f442, 0x1f4fc}, {0x1f4ff, 0x1f53d}, {0x1f54b, 0x1f54e},
    {0x1f550, 0x1f567}, {0x1f57a, 0x1f57a}, {0x1f595, 0x1f596},
    {0x1f5a4, 0x1f5a4}, {0x1f5fb, 0x1f64f}, {0x1f680, 0x1f6c5},
    {0x1f6cc, 0x1f6cc}, {0x1f6d0, 0x1f6d2}, {0x1f6d5, 0x1f6d7},
    {0x1f6dc, 0x1f6df}, {0x1f6eb, 0x1f6ec}, {0x1f6f4, 0x1f6fc},
    {0x1f7e0, 0x1f7eb}, {0x1f7f0, 0x1f7f0}, {0x1f90c, 0x1f93a},
    {0x1f93c, 0x1f945}, {0x1f947, 0x1f9ff}, {0x1fa70, 0x1faff},
    {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

static int
utf8_in_table(uint32_t cp, const struct utf8_range *t, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < t[mid].first)
			hi = mid;
		else if (cp > t[mid].last)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

enum utf8_status
utf8_decode(const char *s, size_t len, uint32_t *cp, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c = u[0], min;
	size_t need;

	if (c < 0x80) {
		*cp = c;
		*n = 1;
		return UTF8_OK;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return UTF8_INVALID;
	}
	for (size_t i = 1; i < need; i++) {
		if (i >= len)
			return UTF8_NEED_MORE;
		if ((u[i] & 0xc0) != 0x80)
			return UTF8_INVALID;
		c = (c << 6) | (u[i] & 0x3f);
		/* Reject overlongs, surrogates and > U+10FFFF as early as the
		 * second byte, so a prefix is never NEED_MORE when no
		 * continuation could make it valid. */
		if (i == 1 && need == 3 &&
		    (c < 0x20 || (c >= 0x360 && c < 0x380)))
			return UTF8_INVALID;
		if (i == 1 && need == 4 && (c < 0x10 || c > 0x10f))
			return UTF8_INVALID;
	}
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return UTF8_INVALID;
	*cp = c;
	*n = need;
	return UTF8_OK;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *u = (unsigned char *)out;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

int
utf8_cp_width(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 0;
	if (cp < 0x300)
		return 1;
	if (utf8_in_table(cp, utf8_zero,
			  sizeof(utf8_zero) / sizeof(*utf8_zero)))
		return 0;
	if (utf8_in_table(cp, utf8_wide,
			  sizeof(utf8_wide) / sizeof(*utf8_wide)))
		return 2;
	return 1;
}

size_t
utf8_width(const char *s, size_t len)
{
	size_t off = 0, cols = 0, n;
	uint32_t cp;

	while (off < len) {
		if (utf8_decode(s + off, len - off, &cp, &n) != UTF8_OK) {
			cols++;
			off++;
			continue;
		}
		cols += (size_t)utf8_cp_width(cp);
		off += n;
	}
	return cols;
}
