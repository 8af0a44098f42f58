/*
 * supervisor_bound: the most each request may write to the supervisor's
 * ring (ring 0), and the size of that ring. Supervisor only; pure but for
 * reading the registry. Every request the supervisor runs has a case in
 * sv_request_worst: flow control defers a request until ring 0 has room
 * for its worst case, so an underestimate could lap a live reader.
 */
#include "lib/line.h"
#include "server/core.h"
#include "server/supervisor_int.h"

/* OUTBOX_NAMES records for members: a chunk closes past SV_NAMES_CHUNK
 * bytes of nicknames, so it holds at least this many of them. */
static size_t
sv_names_bound(unsigned members)
{
	unsigned per =
	    (SV_NAMES_CHUNK + CONFIG_NICK_MAX) / (CONFIG_NICK_MAX + 1);

	return (members / per + 2) * outbox_rec_bound(0, SV_NAMES_TEXT);
}

size_t
sv_join_bound(unsigned want, unsigned members, unsigned hist, size_t hist_text)
{
	size_t n = outbox_rec_bound(0, 0) + outbox_rec_bound(1, 0);

	if (want & CORE_WANT_TOPIC)
		n += outbox_rec_bound(1, CONFIG_TOPIC_MAX);
	if (want & CORE_WANT_NAMES)
		n += sv_names_bound(members);
	if (want & CORE_WANT_HISTORY)
		n += hist * outbox_rec_bound(0, hist_text);
	return n;
}

/* The records of a message of the day of lines lines: its text is at most
 * what sv_motd_read keeps (three times the file, sanitised). */
static size_t
sv_motd_bound(unsigned lines)
{
	return ((size_t)lines + 1) *
		   (outbox_rec_bound(0, 0) + OUTBOX_REC_ALIGN) +
	       3 * SV_MOTD_BYTES + SV_MOTD_LINE_MAX;
}

size_t
sv_ring0_size(const struct config *cfg)
{
	unsigned all = (unsigned)cfg->client_slots; /* a reload's ceiling */
	size_t need =
	    all * SV_QUIT_BOUND + 4 * OUTBOX_REC_MAX +
	    sv_join_bound(CORE_WANT_TOPIC | CORE_WANT_NAMES | CORE_WANT_HISTORY,
			  all, (unsigned)cfg->history,
			  LINE_SANITIZED_MAX(cfg->max_line));
	size_t size = 16u << 20;

	if (cfg->outbox_bytes > size)
		size = cfg->outbox_bytes;
	while (size < 2 * need && size < (1u << 30))
		size *= 2;
	return size;
}

/* What joining room name may write, as the registry is now. */
static size_t
sv_join_worst(struct supervisor *sv, const char *name, unsigned want)
{
	struct reg_room *r = registry_room_find(&sv->reg, name);
	size_t n;

	if (!r)
		return sv_join_bound(want, 1, 0, 0) + outbox_rec_bound(0, 0);
	n = sv_join_bound(want & ~(unsigned)CORE_WANT_HISTORY, r->nmembers + 1,
			  0, 0);
	if (want & CORE_WANT_HISTORY)
		for (unsigned i = 0; i < r->hist_count; i++)
			n += outbox_rec_bound(
			    0, registry_history_get(&sv->reg, r, i)->len);
	/* With a store, history is its records; the supervisor's is at most
	 * a warning that it is down (sv_store_join). */
	if ((want & CORE_WANT_HISTORY) && sv->store.state != SV_STORE_OFF)
		n += outbox_rec_bound(0, 0);
	return n;
}

size_t
sv_request_worst(struct supervisor *sv, const struct sv_req *q)
{
	size_t reply = outbox_rec_bound(1, 0);
	struct reg_room *r;

	switch (q->op) {
	case CORE_HELLO:
		if (q->flags & CORE_HELLO_LOBBY)
			return sv_join_worst(sv, sv->cfg->default_room,
					     q->flags);
		return reply;
	case CORE_JOIN:
		return sv_join_worst(sv, q->room, q->flags);
	case CORE_NICK:
		return outbox_rec_bound(CONFIG_ROOMS_PER_CLIENT_MAX, 0) + reply;
	case CORE_PART:
		return outbox_rec_bound(0, CONFIG_REASON_MAX) + reply;
	case CORE_ROOMS:
		/* A ROOM_INFO (two ids) per room and registered room (those
		 * empty now are listed too, sv_list_rooms), and the
		 * ROOM_END. */
		return (sv->reg.nrooms + sv_rooms_count(sv) + 1) *
			   outbox_rec_bound(2, CONFIG_TOPIC_MAX) +
		       reply;
	case CORE_NAMES:
		r = registry_room_find(&sv->reg, q->room);
		return sv_names_bound(r ? r->nmembers : 0) + reply;
	case CORE_TOPIC:
		return 2 * outbox_rec_bound(1, CONFIG_TOPIC_MAX) + reply;
	case CORE_LOGOUT:
		/* The account record, and a guest nickname instead of a
		 * registered one. */
		return 2 * outbox_rec_bound(CONFIG_ROOMS_PER_CLIENT_MAX, 0) +
		       reply;
	case CORE_WHO:
		/* One record per client it may list (a mask: anyone), its
		 * text the away message, its arg (within the record's
		 * bound) the real name. */
		return (sv->reg.nclients + 1) *
			   outbox_rec_bound(2, CONFIG_AWAY_MAX) +
		       reply;
	case CORE_WHOIS:
		/* The client's record and its rooms. */
		return outbox_rec_bound(2, CONFIG_AWAY_MAX) +
		       outbox_rec_bound(CONFIG_ROOMS_PER_CLIENT_MAX,
					CONFIG_ROOMS_PER_CLIENT_MAX *
					    (CONFIG_ROOM_MAX + 2)) +
		       reply;
	case CORE_USERS:
		/* A record per nickname it looks up. */
		return SV_USERS_MAX * outbox_rec_bound(2, CONFIG_AWAY_MAX) +
		       reply;
	case CORE_LUSERS:
		return outbox_rec_bound(4, 0) + reply;
	case CORE_MOTD:
		return sv_motd_bound(sv->motd_lines) + reply;
	case CORE_AWAY:
		return outbox_rec_bound(CONFIG_ROOMS_PER_CLIENT_MAX,
					OUTBOX_TEXT_MAX) +
		       reply;
	case CORE_BANS:
		return (REGISTRY_BANS_MAX + 1) *
			   outbox_rec_bound(2, OUTBOX_TEXT_MAX) +
		       reply;
	case CORE_MODE:
	case CORE_KICK:
	case CORE_INVITE:
	case CORE_OPER:
	case CORE_WALL:
	case CORE_GLINE:
		/* An event or two (a mode change with its member list, a kick,
		 * an invitation and its answer) and the reply; a mode query
		 * is its ban list at most. */
		return (REGISTRY_BANS_MAX + 4) *
			   outbox_rec_bound(2 * CONFIG_ROOMS_PER_CLIENT_MAX + 1,
					    OUTBOX_TEXT_MAX) +
		       reply;
	case CORE_ROOM_SAY:
		return outbox_rec_bound(0, OUTBOX_TEXT_MAX) + reply;
	case CORE_KILL:
		return SV_QUIT_BOUND +
		       2 * outbox_rec_bound(2, OUTBOX_TEXT_MAX) + reply;
	case CORE_HISTORY:
	case CORE_REGISTER:
	case CORE_LOGIN:
	case CORE_PASSWORD:
	case CORE_UNREGISTER:
		/* A refusal now; the rest comes with the store's answer,
		 * which waits for room itself (sv_store_done). */
	default:
		return reply;
	}
}
