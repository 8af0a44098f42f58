/*
 * payload: format and validate bench messages. Padding is a pattern that
 * depends on the sequence number, so a byte moved between messages is
 * caught by the pattern check even before the checksum.
 */
#include "bench/payload.h"

#include <stdio.h>
#include <string.h>

/* 26 letters repeated: the padding of seq starts at offset seq % 26. */
static const char payload_pattern[] =
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";

/* Fletcher-style sums over 8-byte words: the receive path checks every
 * delivery, so this must cost far less than the server's work per line,
 * yet still catch moved, dropped or swapped bytes. */
static uint32_t
payload_sum(const char *s, size_t len)
{
	uint64_t a = len, b = 0, w;

	while (len >= 8) {
		memcpy(&w, s, 8);
		a += w;
		b += a;
		s += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, s, len);
	a += w;
	b += a;
	a ^= b * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(a ^ (a >> 32));
}

size_t
payload_format(char *out, const struct payload *p, size_t size)
{
	size_t len, pad;
	int n;

	if (size > PAYLOAD_MAX_LEN)
		size = PAYLOAD_MAX_LEN;
	n = snprintf(out, PAYLOAD_MAX_LEN, "pb %u %u %016llx ", p->sender,
		     p->seq, (unsigned long long)p->t_ns);
	len = (size_t)n;
	/* Always at least one pad char, so the field count is fixed. */
	pad = size > len + 9 ? size - len - 9 : 1;
	memcpy(out + len, payload_pattern + p->seq % 26, pad);
	len += pad;
	snprintf(out + len, PAYLOAD_MAX_LEN - len, " %08x",
		 payload_sum(out, len));
	return len + 9;
}

/* Parses a decimal number ending at a space; advances *s past the space. */
static int
payload_number(const char **s, const char *end, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p >= end || *p != ' ')
		return -1;
	*s = p + 1;
	*v = x;
	return 0;
}

/* Lower-case hex digit values; 0xff for anything else. */
static unsigned char payload_hexval[256];

__attribute__((constructor)) static void
payload_init_hexval(void)
{
	int i;

	memset(payload_hexval, 0xff, sizeof(payload_hexval));
	for (i = 0; i < 10; i++)
		payload_hexval['0' + i] = (unsigned char)i;
	for (i = 0; i < 6; i++)
		payload_hexval['a' + i] = (unsigned char)(10 + i);
}

/* Parses exactly n (<= 16) hex digits; independent lookups, no chain. */
static int
payload_hex(const char *s, unsigned int n, uint64_t *v)
{
	unsigned char bad = 0, d;
	uint64_t x = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		d = payload_hexval[(unsigned char)s[i]];
		bad |= d;
		x |= (uint64_t)(d & 15) << (4 * (n - 1 - i));
	}
	if (bad & 0xf0)
		return -1;
	*v = x;
	return 0;
}

enum payload_result
payload_parse(const char *text, size_t len, struct payload *p)
{
	const char *s = text, *end;
	uint64_t sender, seq, t, sum;

	if (len < 3 || memcmp(text, "pb ", 3) != 0)
		return PAYLOAD_NOT_OURS;
	/* "pb S Q T16 X SUM8": at least 3+2+2+17+2+8 bytes. */
	if (len < 34 || text[len - 9] != ' ')
		return PAYLOAD_MALFORMED;
	end = text + len - 9;
	s += 3;
	if (payload_number(&s, end, &sender) < 0 ||
	    payload_number(&s, end, &seq) < 0)
		return PAYLOAD_MALFORMED;
	if (sender > UINT32_MAX || seq > UINT32_MAX || end - s < 18 ||
	    s[16] != ' ' || payload_hex(s, 16, &t) < 0)
		return PAYLOAD_MALFORMED;
	s += 17;
	if ((size_t)(end - s) > sizeof(payload_pattern) - 26 ||
	    memcmp(s, payload_pattern + seq % 26, (size_t)(end - s)) != 0)
		return PAYLOAD_MALFORMED;
	if (payload_hex(end + 1, 8, &sum) < 0)
		return PAYLOAD_MALFORMED;
	if (payload_sum(text, (size_t)(end - text)) != (uint32_t)sum)
		return PAYLOAD_BAD_CHECKSUM;
	p->sender = (uint32_t)sender;
	p->seq = (uint32_t)seq;
	p->t_ns = t;
	return PAYLOAD_OK;
}
