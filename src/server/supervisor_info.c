/*
 * supervisor_info: the supervisor's answers about clients and the server
 * (who is who, who is on, how many, the message of the day) and away
 * status. Supervisor only. Clients that are not yet visible (registering)
 * are never named in an answer: no lookup, count of users or match finds
 * them.
 */
#include "lib/line.h"
#include "lib/log.h"
#include "server/names.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Clients one WHO mask lists at most: an answer is records in the
 * supervisor's ring, and one question must not fill it. */
#define SV_WHO_MAX 256

/* ---- the message of the day ---------------------------------------------- */

/* Appends one line of the file, sanitised and cut, to motd. */
static void
sv_motd_add(char *motd, size_t *used, unsigned *lines, const char *line,
	    size_t len)
{
	char clean[LINE_SANITIZED_MAX(SV_MOTD_LINE_MAX) + 1];
	size_t n;

	if (len > SV_MOTD_LINE_MAX)
		len = line_utf8_cut(line, len, SV_MOTD_LINE_MAX);
	n = line_sanitize(line, len, clean);
	n = line_utf8_cut(clean, n, SV_MOTD_LINE_MAX);
	memcpy(motd + *used, clean, n);
	motd[*used + n] = '\0';
	*used += n + 1;
	(*lines)++;
}

/* Reads the file at path into a new *motd of *lines lines. Returns 0, or
 * -errno when it cannot be read (nothing allocated). */
static int
sv_motd_read(const char *path, char **motd, unsigned *lines)
{
	char *data;
	size_t len, used = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return errno ? -errno : -EIO;
	data = malloc(SV_MOTD_BYTES);
	/* Sanitising makes a line at most three times longer (U+FFFD for
	 * each bad byte), and its LF becomes the NUL. */
	*motd = malloc(3 * SV_MOTD_BYTES + SV_MOTD_LINE_MAX + 2);
	if (!data || !*motd)
		fatal("sv_motd_read");
	*lines = 0;
	len = fread(data, 1, SV_MOTD_BYTES, f);
	if (len == SV_MOTD_BYTES && fgetc(f) != EOF)
		log_warn("message of the day %s: only its first %d bytes are "
			 "shown",
			 path, SV_MOTD_BYTES);
	fclose(f);
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) : len, n = end - i;
		if (n > 0 && data[i + n - 1] == '\r')
			n--;
		sv_motd_add(*motd, &used, lines, data + i, n);
		i = end + 1;
	}
	free(data);
	return 0;
}

int
sv_motd_load(struct supervisor *sv)
{
	const char *path = sv->cfg->motd_path;
	int err;

	if (!path)
		return 0;
	err = sv_motd_read(path, &sv->motd, &sv->motd_lines);
	if (err < 0) {
		log_warn("cannot read the message of the day %s: %s", path,
			 strerror(-err));
		return -1;
	}
	log_info("message of the day: %u line%s from %s", sv->motd_lines,
		 sv->motd_lines == 1 ? "" : "s", path);
	return 0;
}

void
sv_motd_reload(struct supervisor *sv, const struct config *old)
{
	const char *path = sv->cfg->motd_path;
	unsigned lines = 0;
	char *motd = NULL;
	int err;

	(void)old;
	if (!path) {
		if (sv->motd_lines)
			log_info("reload: no message of the day any more");
		free(sv->motd);
		sv->motd = NULL;
		sv->motd_lines = 0;
		return;
	}
	err = sv_motd_read(path, &motd, &lines);
	if (err < 0) {
		log_warn("reload: cannot read the message of the day %s: %s; "
			 "keeping the current one",
			 path, strerror(-err));
		return;
	}
	free(sv->motd);
	sv->motd = motd;
	sv->motd_lines = lines;
	log_info("reload: message of the day: %u line%s from %s", lines,
		 lines == 1 ? "" : "s", path);
}

static void
sv_motd(struct supervisor *sv, const struct reg_client *c)
{
	const char *line = sv->motd;

	if (!sv->motd_lines) {
		sv_reply(sv, c, CORE_ERR_NO_MOTD, NULL, NULL, 0);
		return;
	}
	for (unsigned i = 0; i < sv->motd_lines; i++) {
		sv_put(sv, &(struct outbox_new){
			       .kind = OUTBOX_MOTD,
			       .target = c->id,
			       .text = outbox_str(line),
			   });
		line += strlen(line) + 1;
	}
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

/* ---- clients ------------------------------------------------------------- */

/* Tells asker about client m (in room r, or none). */
static void
sv_user_info(struct supervisor *sv, const struct reg_client *asker,
	     const struct reg_client *m, const struct reg_room *r)
{
	uint64_t ids[2] = {(uint64_t)m->signon_ms, (uint64_t)m->active_ms};

	sv_put(sv,
	       &(struct outbox_new){
		   .kind = OUTBOX_USER_INFO,
		   .aux = (uint16_t)((m->away[0] ? OUTBOX_MEMBER_AWAY : 0) |
				     (m->secure ? OUTBOX_USER_SECURE : 0) |
				     (m->oper[0] ? OUTBOX_USER_OPER : 0) |
				     (r ? sv_mod_member_bits(sv, m, r) : 0)),
		   .target = asker->id,
		   .ids = ids,
		   .nids = 2,
		   .nick = outbox_str(m->nick),
		   .user = outbox_str(m->user),
		   .host = outbox_str(m->cloak),
		   .acct = outbox_str(m->account),
		   .room = outbox_str(r ? r->name : NULL),
		   .arg = outbox_str(m->realname),
		   .text = outbox_str(m->away),
	       });
}

/* The visible client called nick, or NULL. */
static struct reg_client *
sv_visible(struct supervisor *sv, const char *nick)
{
	struct reg_client *m = registry_nick_find(&sv->reg, nick);

	return m && m->visible ? m : NULL;
}

static void
sv_who(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	const struct reg_room *r;
	struct reg_client *m;

	if (q->room[0]) {
		r = registry_room_find(&sv->reg, q->room);
		for (unsigned i = 0; r && i < r->nmembers; i++)
			sv_user_info(sv, c, &sv->reg.clients[r->members[i]], r);
	} else if (!names_is_mask(q->arg)) {
		m = sv_visible(sv, q->arg);
		if (m)
			sv_user_info(sv, c, m, NULL);
	} else {
		unsigned found = 0;
		for (unsigned i = 0;
		     i < (unsigned)sv->cfg->max_clients && found < SV_WHO_MAX;
		     i++) {
			m = &sv->reg.clients[i];
			if (m->id && m->visible &&
			    names_mask_match(q->arg, m->nick)) {
				sv_user_info(sv, c, m, NULL);
				found++;
			}
		}
	}
	sv_reply(sv, c, CORE_OK, q->room, q->arg, 0);
}

static void
sv_whois(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	struct reg_client *m = sv_visible(sv, q->arg);
	char rooms[CONFIG_ROOMS_PER_CLIENT_MAX * (CONFIG_ROOM_MAX + 2)];
	uint64_t bits[CONFIG_ROOMS_PER_CLIENT_MAX];
	size_t len = 0;
	unsigned n = 0;

	if (!m) {
		sv_reply(sv, c, CORE_ERR_NO_SUCH_NICK, NULL, q->arg, 0);
		return;
	}
	sv_user_info(sv, c, m, NULL);
	/* A secret room (+s) only for who may know of it. */
	for (unsigned i = 0; i < m->nrooms; i++) {
		if (!sv_mod_sees_room(sv, c, m->rooms[i]))
			continue;
		len +=
		    (size_t)snprintf(rooms + len, sizeof(rooms) - len, "%s%s",
				     len ? " " : "", m->rooms[i]->name);
		bits[n++] = sv_mod_member_bits(sv, m, m->rooms[i]);
	}
	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_USER_ROOMS,
		       .target = c->id,
		       .ids = bits,
		       .nids = n,
		       .nick = outbox_str(m->nick),
		       .text = {rooms, len},
		   });
	sv_reply(sv, c, CORE_OK, NULL, m->nick, 0);
}

/* Each nickname of q->text (separated by spaces) that is on. */
static void
sv_users(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	char nick[CONFIG_NICK_MAX + 1];
	const char *p = q->text;
	unsigned looked = 0;

	while (*p && looked < SV_USERS_MAX) {
		size_t n = strcspn(p, " ");
		if (n > 0 && n <= CONFIG_NICK_MAX) {
			struct reg_client *m;
			memcpy(nick, p, n);
			nick[n] = '\0';
			m = sv_visible(sv, nick);
			if (m)
				sv_user_info(sv, c, m, NULL);
		}
		looked += n > 0;
		p += n;
		p += strspn(p, " ");
	}
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

static void
sv_lusers(struct supervisor *sv, const struct reg_client *c)
{
	const struct registry *reg = &sv->reg;
	uint64_t ids[4] = {reg->nvisible, reg->nclients - reg->nvisible,
			   reg->nrooms, reg->max_visible};

	sv_put(sv, &(struct outbox_new){
		       .kind = OUTBOX_LUSERS,
		       .target = c->id,
		       .ids = ids,
		       .nids = 4,
		   });
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

/* Sets or clears c's away message; the members of its rooms are told
 * when it changes. */
static void
sv_away(struct supervisor *sv, struct reg_client *c, const struct sv_req *q)
{
	uint64_t ids[CONFIG_ROOMS_PER_CLIENT_MAX];
	size_t n = line_utf8_cut(q->text, strlen(q->text), CONFIG_AWAY_MAX);
	unsigned nids = 0;

	if (strlen(c->away) != n || memcmp(c->away, q->text, n) != 0) {
		memcpy(c->away, q->text, n);
		c->away[n] = '\0';
		for (unsigned i = 0; i < c->nrooms; i++)
			ids[nids++] = c->rooms[i]->id;
		sv_put(sv, &(struct outbox_new){
			       .kind = OUTBOX_AWAY,
			       .src = c->id,
			       .ids = ids,
			       .nids = nids,
			       .nick = outbox_str(c->nick),
			       .user = outbox_str(c->user),
			       .host = outbox_str(c->cloak),
			       .text = outbox_str(c->away),
			   });
	}
	sv_reply(sv, c, CORE_OK, NULL, NULL, 0);
}

void
sv_info_request(struct supervisor *sv, struct reg_client *c,
		const struct sv_req *q)
{
	switch (q->op) {
	case CORE_WHO:
		sv_who(sv, c, q);
		break;
	case CORE_WHOIS:
		sv_whois(sv, c, q);
		break;
	case CORE_USERS:
		sv_users(sv, c, q);
		break;
	case CORE_LUSERS:
		sv_lusers(sv, c);
		break;
	case CORE_MOTD:
		sv_motd(sv, c);
		break;
	case CORE_AWAY:
		sv_away(sv, c, q);
		break;
	default:
		sv_reply(sv, c, CORE_ERR_UNAVAILABLE, NULL, NULL, 0);
		break;
	}
}
