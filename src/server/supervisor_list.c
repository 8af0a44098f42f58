/*
 * supervisor_list: the room list (CORE_ROOMS without a name): the rooms
 * that exist and the registered rooms that are empty now (0 members, the
 * topic and modes they keep), merged in one order by name, each only if
 * the asking client may see it. Supervisor only. Invariant: it writes at
 * most a ROOM_INFO per room and registered room, one ROOM_END and the
 * reply, as sv_request_worst bounds CORE_ROOMS (supervisor_bound.c).
 */
#include "server/modes.h"
#include "server/supervisor_int.h"

#include <stdlib.h>
#include <strings.h>

static int
sv_list_cmp(const void *a, const void *b)
{
	const struct sv_room_listed *x = a, *y = b;

	return strcasecmp(x->name, y->name);
}

/* A registered room that is empty now: its ROOM_INFO, as sv_room_info's
 * for a room that exists (0 members; made when it was registered). */
static void
sv_list_empty_info(struct supervisor *sv, const struct reg_client *c,
		   const struct sv_room_listed *e)
{
	uint64_t ids[2] = {0, (uint64_t)e->at_ms};
	char modes[MODES_TEXT_MAX];

	/* No one is a member: the key shows to operators alone. */
	modes_format(e->modes, e->key, e->limit, c->oper[0] != '\0', modes);
	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_ROOM_INFO,
		       .target = c->id,
		       .ids = ids,
		       .nids = 2,
		       .room = outbox_str(e->name),
		       .arg = outbox_str(modes),
		       .text = outbox_str(sv_store_topic_kept(sv, e->name)),
		   });
}

void
sv_list_rooms(struct supervisor *sv, struct reg_client *c)
{
	struct reg_room **all = malloc((sv->reg.nrooms + 1) * sizeof(*all));
	struct sv_room_listed *empty =
	    malloc((sv_rooms_count(sv) + 1) * sizeof(*empty));
	unsigned n, m, i = 0, j = 0;
	uint64_t count = 0;

	if (!all || !empty) {
		free(all);
		free(empty);
		sv_reply(sv, c, CORE_ERR_UNAVAILABLE, NULL, NULL, 0);
		return;
	}
	n = registry_rooms_by_name(&sv->reg, all);
	m = sv_rooms_empty(sv, empty);
	qsort(empty, m, sizeof(*empty), sv_list_cmp);
	while (i < n || j < m) {
		if (j == m ||
		    (i < n && strcasecmp(all[i]->name, empty[j].name) <= 0)) {
			if (sv_mod_sees_room(sv, c, all[i])) {
				sv_room_info(sv, c, all[i]);
				count++;
			}
			i++;
			continue;
		}
		/* +s hides it from everyone but operators: no one is in
		 * it. */
		if (!(empty[j].modes & MODES_SECRET) || c->oper[0]) {
			sv_list_empty_info(sv, c, &empty[j]);
			count++;
		}
		j++;
	}
	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_ROOM_END,
		       .target = c->id,
		       .ids = &count,
		       .nids = 1,
		   });
	free(all);
	free(empty);
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}
