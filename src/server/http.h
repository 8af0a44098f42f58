/*
 * http: the little HTTP/1.1 parleyd speaks on its --http-listen ports
 * (RFC 9110/9112, as much as a few fixed paths and the WebSocket opening
 * handshake of RFC 6455 section 4 need). Pure: parses a request head and
 * decides the answer; transport_ws.c does the I/O. Run in sessions.
 */
#ifndef PARLEY_HTTP_H
#define PARLEY_HTTP_H

#include "lib/ws.h"
#include "server/web_assets.h"

#include <stddef.h>

#define HTTP_REQUEST_MAX 8192 /* bytes of a request head */
#define HTTP_HEAD_MAX	 1536 /* bytes of a response head we write */

/* A piece of the request buffer. */
struct http_str {
	const char *p;
	size_t n;
};

/* What parleyd reads of a request; every string points into the buffer
 * given to http_parse. */
struct http_request {
	struct http_str method, target, path; /* path: target up to '?' */
	int minor;			      /* HTTP/1.minor */
	struct http_str host, upgrade, connection, key, version, protocol,
	    origin;
	int repeated; /* a header that must be single came twice */
};

enum http_parse_result {
	HTTP_NEED_MORE, /* no blank line yet */
	HTTP_OK,	/* a request head of *head_len bytes */
	HTTP_BAD,	/* malformed: answer 400 */
};

/* Parses the request head at buf[0..len). Control characters, a bare LF
 * end of line, a line without a colon or a request line that is not
 * "METHOD TARGET HTTP/1.x" are HTTP_BAD. */
enum http_parse_result http_parse(const char *buf, size_t len,
				  struct http_request *rq, size_t *head_len);

/* What the server allows (from the config). */
struct http_policy {
	const char *const *origins; /* also allowed besides our own; "*": any */
	int norigins;
	int secure; /* served over TLS: https and wss */
};

/* The answer to a request. */
struct http_answer {
	int status;		       /* 101, 200, 400, 403, 404, 405 or 426 */
	int head;		       /* a HEAD request: no body */
	const struct web_asset *asset; /* 200 */
	const char *subprotocol;       /* 101: the one chosen, or NULL */
	unsigned proto;		       /* 101: enum proto_id to speak */
	int binary;		       /* 101: binary messages */
	char accept[WS_ACCEPT_LEN + 1];
	const char *why; /* for the log and the body of an error */
};

/* Decides how to answer rq (after HTTP_OK) under pol. Pure. */
void http_answer(const struct http_request *rq, const struct http_policy *pol,
		 struct http_answer *ans);

/* Writes the status line and headers of ans (and the body of an error) to
 * out (HTTP_HEAD_MAX bytes). rq may be NULL (a request that did not
 * parse). Returns the length. */
size_t http_format(const struct http_answer *ans, const struct http_request *rq,
		   const struct http_policy *pol, char *out);

/* 1 if the comma-separated list has token, ASCII case-insensitively. */
int http_list_has(struct http_str list, const char *token);

#endif
