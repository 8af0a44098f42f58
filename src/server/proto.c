/*
 * proto: the table of protocols a listener can name, and the helpers every
 * protocol shares. Pure; used by sessions (and the supervisor, for the
 * line that refuses a connection).
 */
#include "server/proto.h"

#include "server/names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct proto *
proto_get(unsigned id)
{
	static const struct proto *const all[PROTO_COUNT] = {
	    [PROTO_PLAIN] = &proto_plain,
	    [PROTO_IRC] = &proto_irc,
	};

	return id < PROTO_COUNT ? all[id] : NULL;
}

const struct proto *
proto_get_by_name(const char *name)
{
	for (unsigned id = 0; id < PROTO_COUNT; id++) {
		const struct proto *p = proto_get(id);
		if (p && strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

size_t
proto_refusal_line(unsigned id, enum proto_refusal why, long num, char *out,
		   size_t n)
{
	const struct proto *p = proto_get(id);

	return p ? p->refusal(why, num, out, n) : 0;
}

size_t
proto_refusal_reason_line(unsigned id, enum proto_refusal why,
			  const char *reason, char *out, size_t n)
{
	const struct proto *p = proto_get(id);
	char line[256];
	size_t len, end;

	if (!p)
		return 0;
	if (p->refusal_reason)
		return p->refusal_reason(why, reason, out, n);
	len = p->refusal(why, 0, line, sizeof(line));
	if (!reason[0] || len == 0)
		return len < n ? (memcpy(out, line, len), len) : 0;
	end = len;
	while (end > 0 && (line[end - 1] == '\n' || line[end - 1] == '\r'))
		end--;
	int k =
	    snprintf(out, n, "%.*s (%s)%s", (int)end, line, reason, line + end);
	if (k < 0 || n == 0)
		return 0;
	return (size_t)k < n ? (size_t)k : n - 1;
}

size_t
proto_refusal_server_line(unsigned id, const char *server,
			  enum proto_refusal why, const char *reason, char *out,
			  size_t n)
{
	const struct proto *p = proto_get(id);

	if (p && p->refusal_server)
		return p->refusal_server(server, why, reason, out, n);
	return proto_refusal_reason_line(id, why, reason, out, n);
}

struct proto_room *
proto_room_named(const struct pconn *pc, const char *name, size_t len)
{
	for (unsigned i = 0; i < pc->nrooms; i++) {
		const char *have = pc->rooms[i]->name;
		if (strlen(have) == len && strncasecmp(have, name, len) == 0)
			return pc->rooms[i];
	}
	return NULL;
}

struct proto_room *
proto_room_by_id(const struct pconn *pc, uint64_t id)
{
	for (unsigned i = 0; i < pc->nrooms; i++)
		if (pc->rooms[i]->id == id)
			return pc->rooms[i];
	return NULL;
}
