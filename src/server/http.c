/*
 * http: request heads in, answers out, no I/O. Everything that is not one
 * of the fixed paths (the web client's files, /ws) is 404; a method other
 * than GET and HEAD is 405; anything malformed is 400. The WebSocket
 * handshake is checked as RFC 6455 section 4.2.1 says, and its Origin
 * against the policy (our own origin, plus --http-origin).
 */
#include "server/http.h"

#include "server/proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The subprotocols a client may ask for, in no order of ours: the
 * client's order decides. A row is offered only while a protocol of that
 * name is built in (IRC comes from its own module). */
static const struct http_subproto {
	const char *name;
	const char *proto; /* struct proto name */
	int binary;
} http_subprotos[] = {
    {"parley", "plain", 0},
    {"text.ircv3.net", "irc", 0},
    {"binary.ircv3.net", "irc", 1},
};

static int
http_is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int
http_eq(struct http_str s, const char *lit)
{
	return s.n == strlen(lit) && strncasecmp(s.p, lit, s.n) == 0;
}

int
http_list_has(struct http_str list, const char *token)
{
	size_t i = 0;

	while (i < list.n) {
		size_t start, end;
		while (i < list.n && (list.p[i] == ' ' || list.p[i] == '\t' ||
				      list.p[i] == ','))
			i++;
		start = i;
		while (i < list.n && list.p[i] != ',')
			i++;
		end = i;
		while (end > start &&
		       (list.p[end - 1] == ' ' || list.p[end - 1] == '\t'))
			end--;
		if (end > start &&
		    http_eq((struct http_str){list.p + start, end - start},
			    token))
			return 1;
	}
	return 0;
}

/* Splits the request line "METHOD TARGET HTTP/1.x". 0 or -1. */
static int
http_request_line(const char *p, size_t n, struct http_request *rq)
{
	const char *sp1 = memchr(p, ' ', n), *sp2;
	size_t i;

	if (!sp1 || sp1 == p)
		return -1;
	for (const char *q = p; q < sp1; q++)
		if (!http_is_tchar((unsigned char)*q))
			return -1;
	rq->method = (struct http_str){p, (size_t)(sp1 - p)};
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p));
	if (!sp2 || sp2 == sp1 + 1 || sp1[1] != '/')
		return -1;
	rq->target = (struct http_str){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
	for (i = 0; i < rq->target.n; i++)
		if ((unsigned char)rq->target.p[i] <= 0x20 ||
		    (unsigned char)rq->target.p[i] >= 0x7F)
			return -1;
	rq->path = rq->target;
	const char *q = memchr(rq->target.p, '?', rq->target.n);
	if (q)
		rq->path.n = (size_t)(q - rq->target.p);
	if ((size_t)(p + n - (sp2 + 1)) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] < '0' || sp2[8] > '9')
		return -1;
	rq->minor = sp2[8] - '0';
	return 0;
}

/* The headers parleyd reads, by name. */
static struct http_str *
http_field(struct http_request *rq, struct http_str name)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
	    {"host", offsetof(struct http_request, host)},
	    {"upgrade", offsetof(struct http_request, upgrade)},
	    {"connection", offsetof(struct http_request, connection)},
	    {"sec-websocket-key", offsetof(struct http_request, key)},
	    {"sec-websocket-version", offsetof(struct http_request, version)},
	    {"sec-websocket-protocol", offsetof(struct http_request, protocol)},
	    {"origin", offsetof(struct http_request, origin)},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (http_eq(name, fields[i].name))
			return (struct http_str *)(void *)((char *)rq +
							   fields[i].off);
	return NULL;
}

/* One "Name: value" line. 0 or -1. */
static int
http_header_line(const char *p, size_t n, struct http_request *rq)
{
	const char *colon = memchr(p, ':', n);
	struct http_str name, value, *f;

	if (!colon || colon == p)
		return -1; /* also an obsolete folded line */
	for (const char *q = p; q < colon; q++)
		if (!http_is_tchar((unsigned char)*q))
			return -1;
	name = (struct http_str){p, (size_t)(colon - p)};
	value.p = colon + 1;
	value.n = n - (size_t)(colon + 1 - p);
	while (value.n && (*value.p == ' ' || *value.p == '\t')) {
		value.p++;
		value.n--;
	}
	while (value.n &&
	       (value.p[value.n - 1] == ' ' || value.p[value.n - 1] == '\t'))
		value.n--;
	f = http_field(rq, name);
	if (!f)
		return 0;
	if (f->p)
		rq->repeated = 1;
	*f = value;
	if (!f->p)
		f->p = "";
	return 0;
}

enum http_parse_result
http_parse(const char *buf, size_t len, struct http_request *rq,
	   size_t *head_len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	size_t n, i;

	memset(rq, 0, sizeof(*rq));
	*head_len = 0;
	/* Refuse what no client sends as soon as it is seen. */
	n = end ? (size_t)(end - buf) + 2 : len;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return HTTP_BAD;
		if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') ||
		    c == 0x7F)
			return HTTP_BAD;
		if (c == '\r' && i + 1 < len && buf[i + 1] != '\n')
			return HTTP_BAD;
	}
	if (!end)
		return HTTP_NEED_MORE;
	*head_len = (size_t)(end - buf) + 4;
	const char *p = buf, *stop = end + 2;
	for (int first = 1; p < stop; first = 0) {
		const char *eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
		size_t ln = (size_t)(eol - p);
		if (first ? http_request_line(p, ln, rq)
			  : http_header_line(p, ln, rq))
			return HTTP_BAD;
		p = eol + 2;
	}
	return HTTP_OK;
}

/* A Host value parleyd will repeat in a header: a name, IPv4 or [IPv6]
 * literal, and an optional port. */
static int
http_host_ok(struct http_str h)
{
	if (h.n == 0 || h.n > 255)
		return 0;
	for (size_t i = 0; i < h.n; i++) {
		unsigned char c = (unsigned char)h.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(".-_:[]", c)))
			return 0;
	}
	return 1;
}

static int
http_origin_ok(const struct http_request *rq, const struct http_policy *pol)
{
	const char *scheme = pol->secure ? "https://" : "http://";
	size_t sn = strlen(scheme);

	for (int i = 0; i < pol->norigins; i++)
		if (strcmp(pol->origins[i], "*") == 0 ||
		    http_eq(rq->origin, pol->origins[i]))
			return 1;
	/* Our own origin: the page we served, at the host it was asked of. */
	return rq->host.n && rq->origin.n == sn + rq->host.n &&
	       strncasecmp(rq->origin.p, scheme, sn) == 0 &&
	       strncasecmp(rq->origin.p + sn, rq->host.p, rq->host.n) == 0;
}

/* A Sec-WebSocket-Key is the base64 of 16 bytes. */
static int
http_key_ok(struct http_str k)
{
	if (k.n != WS_KEY_LEN || k.p[22] != '=' || k.p[23] != '=')
		return 0;
	for (size_t i = 0; i < 22; i++) {
		unsigned char c = (unsigned char)k.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
	}
	return 1;
}

static void
http_refuse(struct http_answer *ans, int status, const char *why)
{
	ans->status = status;
	ans->why = why;
}

/* The subprotocol of the client's list (its order) that we speak. */
static const struct http_subproto *
http_pick_subprotocol(struct http_str list, const struct proto **proto)
{
	size_t i = 0;

	while (i < list.n) {
		size_t start, end;
		while (i < list.n && (list.p[i] == ' ' || list.p[i] == ','))
			i++;
		start = i;
		while (i < list.n && list.p[i] != ',' && list.p[i] != ' ')
			i++;
		end = i;
		for (size_t k = 0;
		     k < sizeof(http_subprotos) / sizeof(http_subprotos[0]);
		     k++) {
			const struct http_subproto *s = &http_subprotos[k];
			if (!http_eq(
				(struct http_str){list.p + start, end - start},
				s->name))
				continue;
			*proto = proto_get_by_name(s->proto);
			if (*proto)
				return s;
		}
	}
	return NULL;
}

static void
http_upgrade(const struct http_request *rq, const struct http_policy *pol,
	     struct http_answer *ans)
{
	const struct proto *proto = &proto_plain;

	if (rq->minor < 1) {
		http_refuse(ans, 400, "WebSocket needs HTTP/1.1");
		return;
	}
	if (!http_list_has(rq->upgrade, "websocket") ||
	    !http_list_has(rq->connection, "upgrade")) {
		http_refuse(ans, 400,
			    "not a WebSocket upgrade (no Upgrade: "
			    "websocket, Connection: Upgrade)");
		return;
	}
	if (!http_eq(rq->version, "13")) {
		http_refuse(ans, 426,
			    "unsupported Sec-WebSocket-Version "
			    "(13 only)");
		return;
	}
	if (!http_key_ok(rq->key)) {
		http_refuse(ans, 400, "bad Sec-WebSocket-Key");
		return;
	}
	if (rq->origin.p && !http_origin_ok(rq, pol)) {
		http_refuse(ans, 403, "origin not allowed (see --http-origin)");
		return;
	}
	if (rq->protocol.p) {
		const struct http_subproto *s =
		    http_pick_subprotocol(rq->protocol, &proto);
		if (!s) {
			http_refuse(ans, 400,
				    "no subprotocol this server "
				    "speaks");
			return;
		}
		ans->subprotocol = s->name;
		ans->binary = s->binary;
	}
	ans->proto = proto->id;
	ws_accept_key(rq->key.p, rq->key.n, ans->accept);
	ans->status = 101;
	ans->why = ans->subprotocol ? ans->subprotocol : "plain";
}

void
http_answer(const struct http_request *rq, const struct http_policy *pol,
	    struct http_answer *ans)
{
	int is_get = http_eq(rq->method, "GET");
	char path[64];

	memset(ans, 0, sizeof(*ans));
	ans->head = http_eq(rq->method, "HEAD");
	if (rq->repeated) {
		http_refuse(ans, 400, "a header came twice");
		return;
	}
	if (rq->minor >= 1 && !rq->host.p) {
		http_refuse(ans, 400, "no Host header");
		return;
	}
	if (rq->host.p && !http_host_ok(rq->host)) {
		http_refuse(ans, 400, "bad Host header");
		return;
	}
	if (http_eq(rq->path, "/ws")) {
		ans->head = 0;
		if (!is_get) {
			http_refuse(ans, 405, "method not allowed");
			return;
		}
		http_upgrade(rq, pol, ans);
		return;
	}
	snprintf(path, sizeof(path), "%.*s",
		 rq->path.n < sizeof(path) ? (int)rq->path.n : 0, rq->path.p);
	if (strcmp(path, "/") == 0)
		snprintf(path, sizeof(path), "/index.html");
	for (size_t i = 0; i < web_assets_count; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			ans->asset = &web_assets[i];
	if (!ans->asset) {
		http_refuse(ans, 404, "not found");
		return;
	}
	if (!is_get && !ans->head) {
		ans->asset = NULL;
		{
			http_refuse(ans, 405, "method not allowed");
			return;
		}
	}
	ans->status = 200;
	ans->why = "ok";
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 426:
		return "Upgrade Required";
	default:
		return "Bad Request";
	}
}

struct http_out {
	char *p;
	size_t n, cap;
};

static void http_put(struct http_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
http_put(struct http_out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->n >= o->cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k < o->cap - o->n ? (size_t)k : o->cap - o->n;
}

size_t
http_format(const struct http_answer *ans, const struct http_request *rq,
	    const struct http_policy *pol, char *out)
{
	struct http_out o = {out, 0, HTTP_HEAD_MAX - 1};
	int host = rq && rq->host.p && http_host_ok(rq->host);

	http_put(&o, "HTTP/1.1 %d %s\r\n", ans->status,
		 http_reason(ans->status));
	if (ans->status == 101) {
		http_put(&o,
			 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\n",
			 ans->accept);
		if (ans->subprotocol)
			http_put(&o, "Sec-WebSocket-Protocol: %s\r\n",
				 ans->subprotocol);
		http_put(&o, "\r\n");
		return o.n;
	}
	if (ans->asset)
		http_put(&o, "Content-Type: %s\r\nContent-Length: %zu\r\n",
			 ans->asset->type, ans->asset->len);
	else
		http_put(&o,
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n",
			 strlen(ans->why) + 1);
	if (ans->status == 405)
		http_put(&o, "Allow: GET, HEAD\r\n");
	if (ans->status == 426)
		http_put(&o, "Sec-WebSocket-Version: 13\r\n");
	/* Only the page's own scripts and styles, and its own WebSocket. */
	http_put(&o, "Content-Security-Policy: default-src 'none'; "
		     "script-src 'self'; style-src 'self'; img-src 'self'; "
		     "connect-src 'self'");
	if (host)
		http_put(&o, " %s://%.*s", pol->secure ? "wss" : "ws",
			 (int)rq->host.n, rq->host.p);
	http_put(&o, "; base-uri 'none'; form-action 'none'; "
		     "frame-ancestors 'none'\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "X-Frame-Options: DENY\r\n"
		     "Referrer-Policy: no-referrer\r\n"
		     "Cache-Control: no-cache\r\n"
		     "Connection: close\r\n\r\n");
	if (!ans->asset && !ans->head)
		http_put(&o, "%s\n", ans->why);
	return o.n;
}
