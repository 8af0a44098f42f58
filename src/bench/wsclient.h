/*
 * wsclient: parley-bench's WebSocket client side (RFC 6455 as a client
 * must: masked frames, the upgrade request, the server's accept key).
 * Pure helpers over lib/ws; bench.c keeps the sockets.
 */
#ifndef PARLEY_BENCH_WSCLIENT_H
#define PARLEY_BENCH_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#define WSCLIENT_KEY "cGFybGV5LWJlbmNoLWtleQ==" /* 16 bytes, base64 */

/* The upgrade request for /ws with the plain subprotocol into out (n
 * bytes). Returns its length. */
size_t wsclient_request(char *out, size_t n, const char *host, int port);

/* Checks a response head: 0 if it is a 101 with the right accept key and
 * the parley subprotocol, -1 otherwise. */
int wsclient_check_head(const char *head, size_t len);

/* Frames the lines of s[0..n) (each ending in LF, CR LF allowed) as masked
 * text frames into out (n + 14 bytes per line). Returns the length. */
size_t wsclient_frame_lines(uint8_t *out, const char *s, size_t n,
			    uint32_t *seed);

#endif
