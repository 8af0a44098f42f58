/*
 * supervisor_reload: SIGHUP. Builds a new config from the same sources
 * as at start (the --config file, then the command line), copies every
 * setting marked OPTION_RELOADS that changed into the running config,
 * logs the others as needing a restart, and runs the reload steps below.
 * A file that does not parse changes nothing. Never exits, never
 * disconnects a client. Supervisor only.
 */
#include "lib/log.h"
#include "server/supervisor_int.h"

#include <stdio.h>
#include <string.h>

/* A reload step: runs after the new settings are in sv->cfg (old is the
 * config before the reload). It logs what it changes; a step that cannot
 * do its part logs why and leaves that part as it was, and the reload
 * goes on. Add steps to the table below (TLS certificates, MOTD, ...). */
struct sv_reload_step {
	const char *name;
	void (*run)(struct supervisor *sv, const struct config *old);
};

static void
sv_reload_log_level(struct supervisor *sv, const struct config *old)
{
	if (sv->cfg->verbose != old->verbose)
		log_set_level(sv->cfg->verbose ? LOG_DEBUG : LOG_INFO);
}

/* Arrays sized at start stay that size: say so when a limit outgrows
 * them (the limit still applies up to there). */
static void
sv_reload_capacity(struct supervisor *sv, const struct config *old)
{
	const struct config *cfg = sv->cfg;

	if (cfg->max_clients > cfg->client_slots &&
	    cfg->max_clients != old->max_clients)
		log_warn("reload: max-clients %d: this server has room for %d "
			 "until a restart",
			 cfg->max_clients, cfg->client_slots);
	if (cfg->max_rooms + 1 > (int)sv->reg.room_slots &&
	    cfg->max_rooms != old->max_rooms)
		log_warn("reload: max-rooms %d: this server has room for %u "
			 "until a restart",
			 cfg->max_rooms, sv->reg.room_slots - 1);
}

static void
sv_reload_history(struct supervisor *sv, const struct config *old)
{
	if (sv->cfg->history != old->history)
		registry_history_limit(&sv->reg);
}

/* Flow control: a new --stall-timeout sets the period of the liveness
 * check, so run it now; ring 0 was sized at start for the history of
 * then, so a longer one may make the largest join outgrow it. */
static void
sv_reload_flow(struct supervisor *sv, const struct config *old)
{
	size_t need;

	if (sv->cfg->stall_timeout_ms != old->stall_timeout_ms)
		sv->flow_due_ms = loop_now_ms();
	if (sv->cfg->history == old->history)
		return;
	need = sv_ring0_size(sv->cfg);
	if (need > sv->shm.ring0_size)
		log_warn("reload: history %d: the supervisor's ring has %zu "
			 "bytes, %zu needed for the largest join; such joins "
			 "wait for it to empty until a restart",
			 sv->cfg->history, sv->shm.ring0_size, need);
}

/* Last: the sessions take the new settings from the live block. */
static void
sv_reload_live(struct supervisor *sv, const struct config *old)
{
	(void)old;
	if (live_publish(&sv->settings, sv->cfg) < 0)
		log_warn("reload: string settings too long for the sessions; "
			 "they keep the old ones");
}

static const struct sv_reload_step sv_reload_steps[] = {
    {"log level", sv_reload_log_level},
    {"capacity", sv_reload_capacity},
    {"history", sv_reload_history},
    {"flow control", sv_reload_flow},
    {"message of the day", sv_motd_reload},
    /* new steps go here, before the live block is published */
    {"live settings", sv_reload_live},
    /* After it: the store gets its settings over its channel. */
    {"store", sv_store_reload},
};

/* Copies what changed and may change; returns how many settings changed,
 * and in *restart how many need a restart. */
static unsigned
sv_reload_apply(struct supervisor *sv, const struct config *next,
		const struct config_text *text, unsigned *restart)
{
	unsigned changed = 0;

	*restart = 0;
	for (size_t i = 0; i < options_count; i++) {
		const struct option_def *d = &options_table[i];
		char was[256], now[256];
		if (d->flags & OPTION_COMMAND_LINE)
			continue;
		/* Only typed options reload, so what runs of the others is
		 * what started: compare with the start-up values. */
		if (!config_option_differs(sv->cfg, sv->boot_text, next, text,
					   d))
			continue;
		config_option_format(sv->cfg, d, was, sizeof(was));
		config_option_format(next, d, now, sizeof(now));
		if (d->kind == OPTION_CALL) {
			log_warn("reload: %s changed: needs a restart",
				 d->name);
			(*restart)++;
			continue;
		}
		if (!(d->flags & OPTION_RELOADS)) {
			log_warn("reload: %s changed to %s: needs a restart; "
				 "still %s",
				 d->name, now, was);
			(*restart)++;
			continue;
		}
		config_option_copy(sv->cfg_rw, next, d);
		log_info("reload: %s is now %s (was %s)", d->name, now, was);
		changed++;
	}
	return changed;
}

void
sv_reload(struct supervisor *sv)
{
	const char *path = sv->cfg->config_path;
	struct config next, old = *sv->cfg;
	struct config_text *text;
	unsigned changed, restart;
	char err[512];

	notify_reloading(&sv->notify);
	log_info("SIGHUP: reloading %s", path ? path : "(no --config file)");
	if (config_build(&next, sv->src, &text, err, sizeof(err)) < 0) {
		sv->counts[METRICS_RELOAD_FAILURES]++;
		log_warn("reload failed: %s; keeping the running configuration",
			 err);
		notify_send(&sv->notify, "READY=1\nSTATUS=reload failed: %s",
			    err);
		return;
	}
	changed = sv_reload_apply(sv, &next, text, &restart);
	for (size_t i = 0;
	     i < sizeof(sv_reload_steps) / sizeof(sv_reload_steps[0]); i++)
		sv_reload_steps[i].run(sv, &old);
	/* The running config's reloaded strings now point into text. */
	config_text_free(sv->reload_text);
	sv->reload_text = text;
	sv->counts[METRICS_RELOADS]++;
	log_info("reloaded: %u %s changed, %u %s a restart", changed,
		 SV_PLURAL(changed, "setting"), restart,
		 restart == 1 ? "needs" : "need");
	notify_send(&sv->notify, "READY=1\nSTATUS=%u %s connected",
		    sv->reg.nclients, SV_PLURAL(sv->reg.nclients, "client"));
}
