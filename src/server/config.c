/*
 * config: the documented defaults (README "Limits" lists each).
 */
#include "server/config.h"

#include <errno.h>
#include <string.h>

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 0;
	cfg->max_clients = 1024;
	cfg->max_per_address = 16;
	cfg->limit_loopback = 0;
	cfg->max_line = 1024;
	cfg->sendq_bytes = 1024 * 1024;
	cfg->sendq_seconds = 10;
	cfg->sendq_hard_bytes = 0; /* 4 x sendq_bytes, in options_finish */
	cfg->history = 20;
	cfg->flood_burst = 20;
	cfg->flood_rate = 10;
	cfg->max_rooms = 1000;
	cfg->max_rooms_per_client = 16;
	cfg->join_notices = 200;
	cfg->outbox_bytes = 0; /* chosen by process model in parleyd.c */
	cfg->timeline_entries = 1u << 20;
	cfg->shutdown_ms = 3000;
	cfg->stall_timeout_ms = 2000;
	cfg->wake_pace_us = 50;
	cfg->handshake_ms = 10000;
	cfg->default_room = "#lobby";
	cfg->network = "parley";
	cfg->ping_timeout_s = 120;
	cfg->room_modes = "+nt";
	cfg->db_path = "parley.db";
	cfg->history_days = 30;
	cfg->nick_grace_s = 30;
	cfg->db_batch = 1000;
	cfg->db_delay_ms = 100;
}

int
config_has_store(const struct config *cfg)
{
	return cfg->db_path && cfg->db_path[0] &&
	       strcmp(cfg->db_path, "none") != 0;
}

int
config_add_listener(struct config *cfg, const char *addr, unsigned proto,
		    unsigned transport, int optional)
{
	if (cfg->nlisten >= CONFIG_LISTEN_MAX)
		return -ENOSPC;
	cfg->listen[cfg->nlisten++] = (struct config_listener){
	    .addr = addr,
	    .proto = proto,
	    .transport = transport,
	    .optional = optional,
	};
	return 0;
}
