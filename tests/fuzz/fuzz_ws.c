/*
 * fuzz_ws: client bytes through the WebSocket frame reader (as a server
 * reads them) in chunks whose sizes come from the input, and the same
 * bytes through http_parse and http_answer. Invariants: chunked reading
 * gives the same events as one shot, consumption never passes the input,
 * messages stay within max_msg and text messages are valid UTF-8.
 */
#include "lib/ws.h"
#include "server/http.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_WS_EVENTS 256

struct fuzz_ws_run {
	int ev[FUZZ_WS_EVENTS];
	size_t len[FUZZ_WS_EVENTS];
	unsigned code[FUZZ_WS_EVENTS];
	int n;
};

static void
fuzz_ws_record(struct fuzz_ws_run *run, const struct ws_result *res,
	       size_t max_msg)
{
	if (res->ev == WS_EV_MESSAGE) {
		struct ws_utf8 u = {0};
		assert(res->len <= max_msg);
		if (res->op == WS_OP_TEXT)
			assert(ws_utf8_feed(&u, res->data, res->len) == 0 &&
			       ws_utf8_complete(&u));
	}
	if (run->n < FUZZ_WS_EVENTS) {
		run->ev[run->n] = res->ev;
		run->len[run->n] = res->len;
		run->code[run->n] = res->code;
		run->n++;
	}
}

static void
fuzz_ws_read(const uint8_t *in, size_t size, size_t max_msg, uint32_t seed,
	     int chunked, struct fuzz_ws_run *run)
{
	static uint8_t msg[4096], buf[8192];
	struct ws_reader r = {.msg = msg, .max_msg = max_msg, .masked = 1};
	struct ws_result res;
	size_t have = 0, i = 0, used;

	run->n = 0;
	while (i < size || have) {
		size_t chunk = size - i;
		if (chunked) {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % 40;
			if (chunk > size - i)
				chunk = size - i;
		}
		assert(have + chunk <= sizeof(buf));
		memcpy(buf + have, in + i, chunk);
		have += chunk;
		i += chunk;
		for (;;) {
			ws_reader_next(&r, buf, have, &used, &res);
			assert(used <= have);
			memmove(buf, buf + used, have - used);
			have -= used;
			if (res.ev == WS_EV_NEED_MORE) {
				assert(have < WS_HEADER_MAX);
				break;
			}
			fuzz_ws_record(run, &res, max_msg);
			if (res.ev == WS_EV_ERROR || res.ev == WS_EV_CLOSE)
				return;
		}
		if (i == size)
			return;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_ws_run a, b;
	struct http_request rq;
	struct http_answer ans;
	struct http_policy pol = {0};
	char head[HTTP_HEAD_MAX];
	size_t max_msg, hl;

	if (size < 2 || size > 4000)
		return 0;
	max_msg = 16 + data[0] * 8;
	fuzz_ws_read(data + 2, size - 2, max_msg, data[1], 0, &a);
	fuzz_ws_read(data + 2, size - 2, max_msg, data[1], 1, &b);
	assert(a.n == b.n);
	for (int i = 0; i < a.n; i++)
		assert(a.ev[i] == b.ev[i] && a.len[i] == b.len[i] &&
		       a.code[i] == b.code[i]);

	if (http_parse((const char *)data, size, &rq, &hl) == HTTP_OK) {
		assert(hl <= size);
		http_answer(&rq, &pol, &ans);
		assert(http_format(&ans, &rq, &pol, head) < HTTP_HEAD_MAX);
	}
	return 0;
}
