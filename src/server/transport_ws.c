/*
 * transport_ws: HTTP and WebSocket (RFC 6455) as a transport of session
 * processes, over a lower transport: TCP (ws), or TLS (wss: https pages,
 * whose own origin is https and whose WebSocket is wss). ready() runs the
 * lower handshake, then reads one request head: /ws upgrades (http.c
 * decides), anything else is answered here and the connection ends. Once open,
 * each incoming message becomes one line (LF added) and each outgoing line one
 * frame, so the session above sees the byte stream of lines it sees on TCP and
 * applies the same limits. No message over --max-line bytes is ever buffered.
 */
#include "lib/ws.h"
#include "server/config.h"
#include "server/http.h"
#include "server/transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_SCRATCH   (96 * 1024) /* one batch of frames or input */
#define WS_BATCH_MAX 512	 /* frames per batch */
#define WS_SLACK     2		 /* a message may end in CR LF */
#define WS_WHY_MAX   128
#define WS_HOLD_TAIL 1 /* input bytes left unconsumed while holding */

enum ws_phase {
	WSP_REQUEST, /* reading the request head */
	WSP_RESPOND, /* writing the answer */
	WSP_OPEN,    /* frames */
	WSP_DONE,    /* answered over HTTP: only the close is left */
};

struct ws_conn {
	struct xconn lower;
	const struct config *cfg;
	enum ws_phase phase;
	int upgrade; /* the answer is a 101 */
	uint8_t *in; /* raw bytes not yet taken */
	size_t in_len;
	char head[HTTP_HEAD_MAX];
	size_t head_len, head_off;
	const unsigned char *body; /* an asset, never freed */
	size_t body_len, body_off;
	struct ws_reader rd;
	unsigned out_op; /* WS_OP_TEXT or WS_OP_BINARY */
	uint8_t *held;	 /* the rest of a frame the lower took part of */
	size_t held_len, held_off;
	int held_tail; /* that line's last byte is still the session's */
	uint8_t ctl[WS_CLOSE_FRAME_MAX + 8]; /* a pong or close to send */
	size_t ctl_len, ctl_off;
	int close_queued, close_seen;
	int eof_next, err_next; /* what the next read returns */
	char why[WS_WHY_MAX];
};

static uint8_t ws_scratch[WS_SCRATCH];

static struct ws_conn *
ws_of(struct xconn *x)
{
	return x->state;
}

/* Writes p[*off..n) to the lower transport: 0 once all is written,
 * -EAGAIN (wants copied) or -errno. */
static int
ws_send(struct xconn *x, const void *p, size_t n, size_t *off)
{
	struct ws_conn *w = ws_of(x);

	while (*off < n) {
		ssize_t k = w->lower.t->write(&w->lower, (const char *)p + *off,
					      n - *off);
		if (k == -EAGAIN) {
			x->wants = w->lower.wants;
			return -EAGAIN;
		}
		if (k < 0)
			return (int)k;
		*off += (size_t)k;
	}
	return 0;
}

/* Sends what is held: the rest of a data frame, then a control frame. */
static int
ws_flush(struct xconn *x)
{
	struct ws_conn *w = ws_of(x);
	int r;

	if (w->held_len) {
		r = ws_send(x, w->held, w->held_len, &w->held_off);
		if (r < 0)
			return r;
		free(w->held);
		w->held = NULL;
		w->held_len = w->held_off = 0;
	}
	if (w->ctl_len) {
		r = ws_send(x, w->ctl, w->ctl_len, &w->ctl_off);
		if (r < 0)
			return r;
		w->ctl_len = w->ctl_off = 0;
	}
	return 0;
}

/* Queues a close frame (replacing a pong not yet sent) and tries to send
 * it now: the session may close the socket right after. */
static void
ws_close_now(struct xconn *x, unsigned code, const char *reason)
{
	struct ws_conn *w = ws_of(x);

	if (w->close_queued)
		return;
	w->close_queued = 1;
	if (w->ctl_off == 0)
		w->ctl_len = ws_close_encode(w->ctl, code, reason, NULL);
	(void)ws_flush(x);
}

/* ---- the handshake ------------------------------------------------------- */

/* How the log names this connection's requests. */
static const char *
ws_scheme(const struct xconn *x)
{
	return x->t->secure ? "https" : "http";
}

static void
ws_policy(const struct xconn *x, struct http_policy *pol)
{
	const struct config *cfg = ws_of((struct xconn *)x)->cfg;

	pol->origins = cfg->http_origins;
	pol->norigins = cfg->nhttp_origins;
	pol->secure = x->t->secure;
}

/* Decides the answer to the request head in w->in (or to a malformed one
 * when rq is NULL) and prepares it. */
static void
ws_prepare(struct xconn *x, const struct http_request *rq, size_t head_len)
{
	struct ws_conn *w = ws_of(x);
	struct http_answer ans = {.status = 400, .why = "malformed request"};
	struct http_policy pol;

	ws_policy(x, &pol);
	if (rq)
		http_answer(rq, &pol, &ans);
	w->head_len = http_format(&ans, rq, &pol, w->head);
	if (ans.asset && !ans.head) {
		w->body = ans.asset->data;
		w->body_len = ans.asset->len;
	}
	if (rq)
		snprintf(w->why, sizeof(w->why), "%s %.*s %.*s: %d %s",
			 ws_scheme(x),
			 (int)(rq->method.n < 8 ? rq->method.n : 8),
			 rq->method.p, (int)(rq->path.n < 48 ? rq->path.n : 48),
			 rq->path.p, ans.status, ans.why);
	else
		snprintf(w->why, sizeof(w->why), "%s: 400 %s", ws_scheme(x),
			 ans.why);
	w->phase = WSP_RESPOND;
	if (ans.status != 101)
		return;
	w->upgrade = 1;
	x->proto = ans.proto;
	w->out_op = ans.binary ? WS_OP_BINARY : WS_OP_TEXT;
	w->rd.max_msg = w->cfg->max_line + WS_SLACK;
	w->rd.masked = 1;
	w->rd.binary_ok = ans.binary;
	w->rd.msg = malloc(w->rd.max_msg);
	/* What came after the head is frames already: keep it. */
	memmove(w->in, w->in + head_len, w->in_len - head_len);
	w->in_len -= head_len;
}

/* Reads the request head. 1 when the answer is prepared, 0 for more,
 * -errno. */
static int
ws_read_request(struct xconn *x)
{
	struct ws_conn *w = ws_of(x);
	struct http_request rq;
	size_t head_len;

	if (!w->in && !(w->in = malloc(HTTP_REQUEST_MAX)))
		return -ENOMEM;
	for (;;) {
		if (w->in_len == HTTP_REQUEST_MAX) {
			ws_prepare(x, NULL, 0);
			snprintf(w->why, sizeof(w->why),
				 "%s: 400 request head over %d bytes",
				 ws_scheme(x), HTTP_REQUEST_MAX);
			return 1;
		}
		ssize_t n =
		    w->lower.t->read(&w->lower, (char *)w->in + w->in_len,
				     HTTP_REQUEST_MAX - w->in_len);
		if (n == -EAGAIN) {
			x->wants = w->lower.wants;
			return 0;
		}
		if (n == 0) {
			snprintf(w->why, sizeof(w->why),
				 "closed during the handshake");
			x->why = w->why;
			return -ECONNRESET;
		}
		if (n < 0) {
			x->why = w->lower.why;
			return (int)n;
		}
		w->in_len += (size_t)n;
		switch (http_parse((const char *)w->in, w->in_len, &rq,
				   &head_len)) {
		case HTTP_NEED_MORE:
			continue;
		case HTTP_BAD:
			ws_prepare(x, NULL, 0);
			return 1;
		case HTTP_OK:
			ws_prepare(x, &rq, head_len);
			return 1;
		}
	}
}

static int
ws_ready(struct xconn *x)
{
	struct ws_conn *w = ws_of(x);
	int r;

	if (w->phase == WSP_OPEN)
		return 1;
	if (w->phase == WSP_DONE)
		return XCONN_DONE;
	if (w->phase == WSP_REQUEST) {
		/* The lower transport's own handshake first (TLS), by the
		 * same deadline: it decides too once it is late. */
		w->lower.late = x->late;
		r = w->lower.t->ready(&w->lower);
		if (r < 0) {
			x->why = w->lower.why;
			return r;
		}
		if (r != 1) {
			x->wants = w->lower.wants;
			return 0; /* an HTTP request comes first anyway */
		}
		if ((r = ws_read_request(x)) <= 0)
			return r;
	}
	if (w->upgrade && !w->rd.msg)
		return -ENOMEM;
	r = ws_send(x, w->head, w->head_len, &w->head_off);
	if (r == 0)
		r = ws_send(x, w->body, w->body_len, &w->body_off);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	x->why = w->why;
	if (!w->upgrade) {
		w->phase = WSP_DONE;
		return XCONN_DONE;
	}
	w->phase = WSP_OPEN;
	if (w->in_len == 0) {
		free(w->in);
		w->in = NULL;
	}
	return 1;
}

/* ---- reading frames ------------------------------------------------------ */

/* A message, as one line for the session: without a trailing CR LF (the
 * IRCv3 WebSocket rule; tolerated from clients), with an LF. 0, or -1
 * when it is over the line limit. */
static int
ws_message(struct xconn *x, const struct ws_result *res, char *buf, size_t *out)
{
	struct ws_conn *w = ws_of(x);
	size_t n = res->len;

	if (n && res->data[n - 1] == '\n')
		n--;
	if (n && res->data[n - 1] == '\r')
		n--;
	if (n > w->cfg->max_line) {
		snprintf(w->why, sizeof(w->why),
			 "message too big (max %zu bytes)", w->cfg->max_line);
		ws_close_now(x, WS_CLOSE_TOO_BIG, w->why);
		return -1;
	}
	memcpy(buf + *out, res->data, n);
	buf[*out + n] = '\n';
	*out += n + 1;
	return 0;
}

/* Feeds src[0..len) to the reader, appending lines to buf at *out. Returns
 * the bytes taken; sets w->eof_next or w->err_next when the connection
 * ends. */
static size_t
ws_take(struct xconn *x, const uint8_t *src, size_t len, char *buf, size_t *out)
{
	struct ws_conn *w = ws_of(x);
	size_t pos = 0, used;
	struct ws_result res;

	while (!w->eof_next && !w->err_next) {
		ws_reader_next(&w->rd, src + pos, len - pos, &used, &res);
		pos += used;
		switch (res.ev) {
		case WS_EV_NEED_MORE:
			return pos;
		case WS_EV_MESSAGE:
			if (ws_message(x, &res, buf, out) < 0)
				w->err_next = 1;
			break;
		case WS_EV_PING:
			/* Only the latest ping needs its pong (5.5.3). */
			if (!w->close_queued && w->ctl_off == 0)
				w->ctl_len =
				    ws_frame_encode(w->ctl, WS_OP_PONG,
						    res.data, res.len, NULL);
			break;
		case WS_EV_PONG:
			break;
		case WS_EV_CLOSE:
			w->close_seen = 1;
			if (res.code == WS_CLOSE_NO_STATUS)
				ws_close_now(x, 0, NULL);
			else
				ws_close_now(x, res.code, NULL);
			w->eof_next = 1;
			break;
		case WS_EV_ERROR:
			if (res.code == WS_CLOSE_TOO_BIG)
				snprintf(w->why, sizeof(w->why),
					 "message too big (max %zu bytes)",
					 w->cfg->max_line);
			else
				snprintf(w->why, sizeof(w->why),
					 "websocket: %s (%u)", res.why,
					 res.code);
			ws_close_now(x, res.code,
				     res.code == WS_CLOSE_TOO_BIG ? w->why
								  : res.why);
			w->err_next = 1;
			break;
		}
	}
	return pos;
}

/* Keeps src[0..len) for the next read. 0 or -ENOMEM. */
static int
ws_keep(struct ws_conn *w, const uint8_t *src, size_t len)
{
	uint8_t *p;

	if (len == 0)
		return 0;
	p = realloc(w->in, w->in_len + len);
	if (!p)
		return -ENOMEM;
	memmove(p + w->in_len, src, len);
	w->in = p;
	w->in_len += len;
	return 0;
}

static ssize_t
ws_read(struct xconn *x, char *buf, size_t n)
{
	struct ws_conn *w = ws_of(x);
	size_t out = 0;

	if (w->phase != WSP_OPEN)
		return w->lower.t->read(&w->lower, buf, n); /* draining */
	if (w->held_len == 0 && w->ctl_len)
		(void)ws_flush(x);
	/* Room for a whole message (it may have begun in an earlier read)
	 * plus what the input can add: each frame header is longer than
	 * the LF its message gets. */
	while (!w->eof_next && !w->err_next && n - out > w->rd.max_msg + 2) {
		size_t budget = n - out - w->rd.max_msg - 2, len, taken;
		const uint8_t *src = ws_scratch;
		int from_in = w->in_len > 0;
		if (from_in) {
			src = w->in;
			len = w->in_len < budget ? w->in_len : budget;
		} else {
			ssize_t k = w->lower.t->read(
			    &w->lower, (char *)ws_scratch,
			    budget < WS_SCRATCH ? budget : WS_SCRATCH);
			if (k == -EAGAIN) {
				x->wants = w->lower.wants;
				if (w->ctl_len)
					x->wants |= XCONN_WANT_WRITE;
				return out ? (ssize_t)out : -EAGAIN;
			}
			if (k <= 0) {
				if (out == 0)
					return k;
				w->eof_next = 1;
				break;
			}
			len = (size_t)k;
		}
		taken = ws_take(x, src, len, buf, &out);
		if (from_in) {
			memmove(w->in, w->in + taken, w->in_len - taken);
			w->in_len -= taken;
			if (w->in_len == 0) {
				free(w->in);
				w->in = NULL;
			}
		} else if (ws_keep(w, src + taken, len - taken) < 0) {
			return -ENOMEM;
		}
		/* A pong goes out now: no event will ask for it later. */
		if (w->ctl_len && !w->held_len)
			(void)ws_flush(x);
	}
	if (out)
		return (ssize_t)out;
	if (w->err_next) {
		x->why = w->why;
		return -EPROTO;
	}
	return 0;
}

/* ---- writing frames ------------------------------------------------------ */

/* Frames whole lines of buf[0..n) into ws_scratch: fills ends[] with the
 * end of each frame in the scratch and lines[] with the end of its line in
 * buf. Returns the number of frames. */
static int
ws_batch(const struct ws_conn *w, const char *buf, size_t n, size_t *ends,
	 size_t *lines)
{
	size_t in = 0, o = 0;
	int k = 0;

	while (in < n && k < WS_BATCH_MAX) {
		const char *nl = memchr(buf + in, '\n', n - in);
		size_t end = nl ? (size_t)(nl - buf) + 1 : n;
		size_t len = (nl ? (size_t)(nl - buf) : n) - in;
		if (len && buf[in + len - 1] == '\r')
			len--;
		if (o + len + WS_HEADER_MAX > WS_SCRATCH)
			break;
		o += ws_frame_encode(ws_scratch + o, w->out_op, buf + in, len,
				     NULL);
		ends[k] = o;
		lines[k] = end;
		k++;
		in = end;
	}
	return k;
}

static ssize_t
ws_write(struct xconn *x, const char *buf, size_t n)
{
	struct ws_conn *w = ws_of(x);
	size_t done = 0, ends[WS_BATCH_MAX], lines[WS_BATCH_MAX];
	int r;

	if (w->phase != WSP_OPEN || w->close_queued)
		return (ssize_t)n; /* nobody to say it to */
	if ((r = ws_flush(x)) < 0)
		return r;
	if (w->held_tail) {
		/* The session gives the held line's last byte again, unless
		 * it dropped its queue meanwhile. */
		w->held_tail = 0;
		if (n && buf[0] == '\n')
			done = 1;
	}
	while (done < n) {
		int k = ws_batch(w, buf + done, n - done, ends, lines);
		size_t sent = 0;
		int i = 0;
		if (k == 0)
			break; /* a line longer than a batch: never made */
		r = ws_send(x, ws_scratch, ends[k - 1], &sent);
		if (r < 0 && r != -EAGAIN)
			return done ? (ssize_t)done : r;
		while (i < k && ends[i] <= sent)
			i++;
		if (i == k) {
			done += lines[k - 1];
			continue;
		}
		/* Frame i went out in part: hold its rest. */
		size_t start = i ? ends[i - 1] : 0;
		if (sent > start) {
			w->held_len = ends[i] - sent;
			w->held_off = 0;
			w->held = malloc(w->held_len);
			if (!w->held)
				return -ENOMEM;
			memcpy(w->held, ws_scratch + sent, w->held_len);
			w->held_tail = 1;
			done += lines[i] - WS_HOLD_TAIL;
		} else if (i) {
			done += lines[i - 1];
		}
		break;
	}
	if (done == 0 && n > 0)
		return -EAGAIN;
	return (ssize_t)done;
}

/* ---- the rest ------------------------------------------------------------ */

static int
ws_open(struct xconn *x)
{
	struct ws_conn *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->cfg = x->cfg;
	/* One deadline for the lower handshake and ours (ws_ready). */
	w->lower = (struct xconn){.t = x->t->lower,
				  .fd = x->fd,
				  .cfg = x->cfg,
				  .proto = x->proto,
				  .ready_by_ms = x->ready_by_ms};
	r = w->lower.t->open(&w->lower);
	if (r < 0) {
		free(w);
		return r;
	}
	x->state = w;
	x->wants = 0;
	x->why = NULL;
	return 0;
}

static int
ws_shutdown(struct xconn *x)
{
	struct ws_conn *w = ws_of(x);
	int r;

	if (w->phase == WSP_OPEN && !w->close_queued) {
		w->close_queued = 1;
		if (w->ctl_off == 0)
			w->ctl_len = ws_close_encode(w->ctl, WS_CLOSE_NORMAL,
						     NULL, NULL);
	}
	if (w->phase == WSP_OPEN && (r = ws_flush(x)) < 0)
		return r;
	return w->lower.t->shutdown(&w->lower);
}

static int
ws_unsent(struct xconn *x)
{
	struct ws_conn *w = ws_of(x);
	int r = w->lower.t->unsent(&w->lower);

	if (r < 0)
		return r;
	return r + (int)(w->held_len - w->held_off) +
	       (int)(w->ctl_len - w->ctl_off);
}

static void
ws_close(struct xconn *x)
{
	struct ws_conn *w = ws_of(x);

	w->lower.t->close(&w->lower);
	free(w->in);
	free(w->held);
	free(w->rd.msg);
	free(w);
	x->state = NULL;
	x->fd = -1;
}

const struct transport transport_ws = {
    .name = "ws",
    .id = TRANSPORT_WS,
    .open = ws_open,
    .ready = ws_ready,
    .read = ws_read,
    .write = ws_write,
    .shutdown = ws_shutdown,
    .unsent = ws_unsent,
    .close = ws_close,
    .lower = &transport_tcp,
};

/* The same over TLS: pages served over https, WebSocket over wss. */
const struct transport transport_wss = {
    .name = "wss",
    .id = TRANSPORT_WSS,
    .open = ws_open,
    .ready = ws_ready,
    .read = ws_read,
    .write = ws_write,
    .shutdown = ws_shutdown,
    .unsent = ws_unsent,
    .close = ws_close,
    .lower = &transport_tls,
    .secure = 1,
};
