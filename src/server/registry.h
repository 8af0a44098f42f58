/*
 * registry: the supervisor's authoritative state: connected clients with
 * their nicknames and addresses, rooms with members, topics and history.
 * Lives only in the supervisor process; sessions learn of changes through
 * records in the timeline. Client and room ids are never reused: the low
 * bits are a slot, the high bits a sequence number.
 */
#ifndef PARLEY_REGISTRY_H
#define PARLEY_REGISTRY_H

#include "lib/mask.h"
#include "lib/net.h"
#include "lib/strmap.h"
#include "server/config.h"
#include "server/modes.h"
#include "server/outbox.h"

#include <stdint.h>

#define REGISTRY_SLOT_BITS 24
#define REGISTRY_SLOT(id)  ((unsigned)((id) & ((1u << REGISTRY_SLOT_BITS) - 1)))

/* A room message kept for replay on join: who said it and how. */
struct reg_hist {
	int64_t ts_ms;
	uint16_t flags; /* OUTBOX_MSG_* */
	char nick[OUTBOX_NICK_MAX + 1];
	char user[OUTBOX_USER_MAX + 1];
	char host[OUTBOX_HOST_MAX + 1];
	unsigned producer; /* where it was: its message id */
	uint64_t pos;
	char *text;
	size_t len, cap;
};

/* A ban of a room: a whole mask (lib/mask.h), who set it and when. */
struct reg_ban {
	char mask[MASK_MAX + 1];
	char by[CONFIG_NICK_MAX + 1];
	int64_t at_ms;
};

#define REGISTRY_BANS_MAX    MODES_BANS_MAX
#define REGISTRY_INVITES_MAX 16 /* open invitations per room */

/* A room's moderation state (supervisor_mod.c keeps it). */
struct reg_room_mod {
	unsigned modes; /* MODES_* */
	char key[MODES_KEY_MAX + 1];
	unsigned limit;
	struct reg_ban *bans; /* REGISTRY_BANS_MAX once the first is set */
	unsigned nbans;
	uint64_t invited[REGISTRY_INVITES_MAX]; /* client ids, oldest go */
	unsigned ninvited;
};

struct reg_room {
	uint64_t id;
	char name[CONFIG_ROOM_MAX + 2]; /* spelled as at creation */
	char topic[CONFIG_TOPIC_MAX + 1];
	char topic_by[CONFIG_NICK_MAX + 1]; /* who set it */
	int64_t topic_ms;		    /* when (wall clock) */
	int64_t created_ms;		    /* wall clock */
	unsigned *members;		    /* client slots */
	uint8_t *member_flags; /* per member: OUTBOX_MEMBER_OP, _VOICE */
	unsigned nmembers, members_cap;
	struct reg_hist *hist; /* ring of hist_cap entries */
	unsigned hist_cap;     /* cfg->history when it was made */
	unsigned hist_next, hist_count;
	struct reg_room_mod mod;
};

struct reg_client {
	uint64_t id; /* 0: slot free */
	int session; /* owning session index */
	char nick[CONFIG_NICK_MAX + 1];
	char account[OUTBOX_ACCT_MAX + 1]; /* logged in to; "" when none */
	char user[OUTBOX_USER_MAX + 1];	   /* what others see of it */
	char cloak[OUTBOX_HOST_MAX + 1];
	char addr[NET_ADDR_STRLEN]; /* for logs */
	char host[NET_ADDR_STRLEN]; /* per-address key; "" when exempt */
	struct reg_room *rooms[CONFIG_ROOMS_PER_CLIENT_MAX];
	unsigned nrooms;
	/* Others see it (in member lists, lookups, user counts): from the
	 * start, or once it registers (its protocol's CORE_HELLO). */
	int visible;
	char realname[CONFIG_REALNAME_MAX + 1];
	char away[CONFIG_AWAY_MAX + 1]; /* "": not away */
	int64_t signon_ms, active_ms;	/* wall clock */
	int secure;			/* its transport is encrypted (TLS) */
	char oper[CONFIG_OPER_NAME_MAX + 1]; /* server operator as; "": not */
	/* Its registered nickname is lent until then (supervisor_grace.c;
	 * loop_now_ms); 0: none is. */
	long long grace_due_ms;
};

struct registry {
	const struct config *cfg;
	struct reg_client *clients; /* cfg->client_slots slots */
	unsigned nclients;
	struct reg_room **rooms; /* room_slots slots */
	unsigned room_slots;	 /* cfg->max_rooms, and the default room */
	unsigned nrooms;
	struct strmap nicks;	/* folded nick -> client */
	struct strmap by_name;	/* folded room name -> room */
	struct strmap per_host; /* host -> count, as a pointer-sized int */
	/* Folded nicknames no new client is given (registered ones): the
	 * store's set, kept by supervisor_store.c. May be NULL. */
	const struct strmap *reserved;
	uint64_t seq;
	unsigned guest_seq;
	unsigned nvisible, max_visible; /* clients others see; their peak */
	unsigned client_hint, room_hint;
};

void registry_init(struct registry *reg, const struct config *cfg);
void registry_free(struct registry *reg);

/* Registers a new client with a free guestN nickname. host is the
 * per-address key ("" when the address is exempt); visible: others see it
 * at once (else once registry_client_show). Returns NULL when the server
 * is full. */
struct reg_client *registry_client_add(struct registry *reg, int session,
				       const char *addr, const char *host,
				       int visible);

/* Makes c visible to others (no-op if it is), counting it as a user. */
void registry_client_show(struct registry *reg, struct reg_client *c);

/* A free guestN nickname (not in use, not reserved) into out
 * (CONFIG_NICK_MAX + 1 bytes). */
void registry_guest_nick(struct registry *reg, char *out);

/* The live client with this id, or NULL. */
struct reg_client *registry_client_get(struct registry *reg, uint64_t id);

/* Leaves every room (removing rooms left empty), frees the nickname and
 * the slot. */
void registry_client_remove(struct registry *reg, struct reg_client *c);

/* Clients connected from host so far. */
int registry_host_count(struct registry *reg, const char *host);

/* Changes c's nickname. Returns 0, -EEXIST when another client has it
 * (case-insensitively), -EINVAL when it breaks the rules. */
int registry_nick_set(struct registry *reg, struct reg_client *c,
		      const char *nick) __attribute__((warn_unused_result));

struct reg_client *registry_nick_find(struct registry *reg, const char *nick);

struct reg_room *registry_room_find(struct registry *reg, const char *name);
struct reg_room *registry_room_get(struct registry *reg, uint64_t id);

/* Joins c to room name, creating it. Returns 0 (joined), 1 (already a
 * member), -EINVAL (bad name), -ENOSPC (too many rooms on the server:
 * never for the default room, which may be one more), -EMLINK (c is in
 * too many rooms). *out is the room on 0 and 1. */
int registry_join(struct registry *reg, struct reg_client *c, const char *name,
		  struct reg_room **out) __attribute__((warn_unused_result));

/* Removes c from room; frees the room when it becomes empty. Returns 0 or
 * -ENOENT when c was not a member. */
int registry_part(struct registry *reg, struct reg_client *c,
		  struct reg_room *room);

int registry_is_member(const struct reg_client *c, const struct reg_room *r);

/* c's OUTBOX_MEMBER_OP/_VOICE bits in r (to read or change), or NULL
 * when c is not a member. */
uint8_t *registry_member_flags(struct registry *reg, const struct reg_client *c,
			       struct reg_room *r);

/* Fills out (room for reg->nrooms) with every room, sorted by name
 * regardless of case. Returns the count. */
unsigned registry_rooms_by_name(struct registry *reg, struct reg_room **out);

/* Remembers a room message for history (no-op when history is 0). */
void registry_history_add(struct registry *reg, struct reg_room *room,
			  const struct outbox_view *v);

/* Fits every room's history to cfg->history (after a reload changed
 * it), keeping the newest messages. */
void registry_history_limit(struct registry *reg);

/* The i-th oldest remembered message of room (i < hist_count). */
const struct reg_hist *registry_history_get(const struct registry *reg,
					    const struct reg_room *room,
					    unsigned i);

#endif
