/*
 * wsclient: the client half of parley-bench's --ws mode. Masks every frame
 * with a key from a cheap generator: the mask protects proxies, not
 * secrets (RFC 6455 section 10.3), and a benchmark must not spend its CPU
 * on randomness.
 */
#include "bench/wsclient.h"

#include "lib/ws.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

size_t
wsclient_request(char *out, size_t n, const char *host, int port)
{
	int k = snprintf(out, n,
			 "GET /ws HTTP/1.1\r\nHost: %s:%d\r\n"
			 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: " WSCLIENT_KEY "\r\n"
			 "Sec-WebSocket-Version: 13\r\n"
			 "Sec-WebSocket-Protocol: parley\r\n\r\n",
			 host, port);

	return k > 0 && (size_t)k < n ? (size_t)k : 0;
}

int
wsclient_check_head(const char *head, size_t len)
{
	char accept[WS_ACCEPT_LEN + 1], want[64];

	if (len < 13 || strncmp(head, "HTTP/1.1 101 ", 13) != 0)
		return -1;
	ws_accept_key(WSCLIENT_KEY, strlen(WSCLIENT_KEY), accept);
	snprintf(want, sizeof(want), "Sec-WebSocket-Accept: %s\r\n", accept);
	if (!memmem(head, len, want, strlen(want)))
		return -1;
	return memmem(head, len, "Sec-WebSocket-Protocol: parley\r\n", 32) ? 0
									   : -1;
}

size_t
wsclient_frame_lines(uint8_t *out, const char *s, size_t n, uint32_t *seed)
{
	size_t o = 0, i = 0;

	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - s) : n, len = end - i;
		uint8_t mask[4];
		if (len && s[i + len - 1] == '\r')
			len--;
		*seed = *seed * 1103515245u + 12345u;
		memcpy(mask, seed, 4);
		o += ws_frame_encode(out + o, WS_OP_TEXT, s + i, len, mask);
		i = end + 1;
	}
	return o;
}
