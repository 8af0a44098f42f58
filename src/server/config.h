/*
 * config: every limit of parleyd, set by option parsing (config_file.c)
 * before any fork. Afterwards only a reload changes it: the supervisor
 * rewrites the fields of options marked OPTION_RELOADS, and sessions copy
 * them from the live block (live.h). Every other field never changes.
 */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stddef.h>

#define CONFIG_LISTEN_MAX 16
#define CONFIG_ORIGIN_MAX 16

/* One listening address and what it serves. */
struct config_listener {
	const char *addr;   /* HOST:PORT */
	unsigned proto;	    /* enum proto_id */
	unsigned transport; /* enum transport_id */
	int optional;	    /* a default that may be missing (no IPv6) */
	const char *flag;   /* the option that sets it ("listen"), named
			       when it cannot be bound */
};

#define CONFIG_OPERS_MAX     16
#define CONFIG_OPER_NAME_MAX 31

/* A server operator: "oper NAME HASH" (a crypt(3) hash, yescrypt). */
struct config_oper {
	char name[CONFIG_OPER_NAME_MAX + 1];
	const char *hash; /* points into the option's value */
};

struct config {
	struct config_listener listen[CONFIG_LISTEN_MAX];
	int nlisten;
	int listen_given;     /* --listen was given: no default listeners */
	int irc_listen_given; /* --irc-listen was given: no IRC defaults */
	int http_given;	      /* --http-listen was given (none included) */
	const char *http_origins[CONFIG_ORIGIN_MAX]; /* --http-origin */
	int nhttp_origins;
	int handshake_ms;    /* every transport handshake (TLS, HTTP,
				WebSocket) is done this long after the
				hand-over, or the connection closes */
	int workers;	     /* 0: one session process per client */
	int max_clients;     /* connected clients in all */
	int client_slots;    /* client slots allocated: max_clients at start;
				arrays have this many and reloads keep it */
	int max_per_address; /* per remote address; 0 = unlimited */
	int limit_loopback;  /* apply max_per_address to loopback too */
	size_t max_line;     /* bytes per input line, LF excluded */
	size_t sendq_bytes;  /* soft limit of a client's send queue */
	int sendq_seconds;   /* time a queue may stay over the soft limit */
	size_t sendq_hard_bytes; /* over this a client is cut off at once */
	int history;		 /* room messages replayed on join */
	int flood_burst;	 /* lines a client may send at once */
	double flood_rate;	 /* lines per second after the burst; 0 = off */
	int max_rooms;		 /* rooms on the server */
	int max_rooms_per_client; /* rooms one client can be in */
	int join_notices;	  /* announce joins/parts in rooms up to this */
	size_t outbox_bytes;	  /* ring per producer (power of two) */
	size_t timeline_entries;  /* marks in the timeline (power of two) */
	int shutdown_ms;	  /* grace before SIGKILL at shutdown */
	int stall_timeout_ms;	  /* a reader behind and not advancing this
				     long is no longer waited for */
	int wake_pace_us;	  /* per session process: least time between two
				     wake-ups of every session; 0 = at once */
	const char *default_room;
	int verbose;
	const char *config_path;    /* --config FILE, or NULL */
	const char *metrics_listen; /* HOST:PORT of /metrics, or NULL */
	/* TLS (transport_tls.c, tls_ctx.c): PEM files, read by the
	 * supervisor at start and at each reload; the key defaults to the
	 * certificate file. */
	const char *tls_cert;
	const char *tls_key;
	int listen_tls_given; /* --listen-tls was given: no default ones */
	int https_given;      /* --https-listen was given (none included) */
	const char *user;     /* started as root: become this user */
	/* The store (store.c): its database, opened before --user drops
	 * root (see sv_store_start). */
	const char *db_path;	  /* the store's database; "none": off */
	int store_private;	  /* archive private messages too */
	int history_days;	  /* prune stored messages older; 0 = keep */
	int db_batch;		  /* rows per transaction at most */
	int db_delay_ms;	  /* a row waits at most this for its commit */
	int irc_listen_tls_given; /* --irc-listen-tls was given: likewise */
	/* The IRC front end */
	const char *server_name; /* default: the host name */
	const char *network;	 /* ISUPPORT NETWORK */
	const char *motd_path;	 /* message of the day; NULL: none */
	int ping_timeout_s;	 /* silence before a ping, and after it */
	int nick_grace_s; /* a registered nickname is lent this long before
			     the login (0: refused) */
	/* Moderation */
	const char *room_modes; /* what a new room starts with (modes.h) */
	struct config_oper opers[CONFIG_OPERS_MAX];
	int nopers;
	int hash_password; /* --hash-password: print a hash and exit */
};

/* Fills the documented defaults. */
void config_defaults(struct config *cfg);

/* The store runs (a database was given, not "none"). */
int config_has_store(const struct config *cfg);

/* Adds a listener; returns 0, or -ENOSPC past CONFIG_LISTEN_MAX. */
int config_add_listener(struct config *cfg, const char *addr, unsigned proto,
			unsigned transport, int optional);

#define CONFIG_NICK_MAX		    30 /* bytes (OUTBOX_NICK_MAX is more) */
#define CONFIG_ROOM_MAX		    49 /* bytes after the '#' */
#define CONFIG_TOPIC_MAX	    300
#define CONFIG_REASON_MAX	    256 /* bytes of a quit, part or kick reason */
#define CONFIG_ROOMS_PER_CLIENT_MAX 32	/* ceiling of --max-rooms-per-client */
#define CONFIG_REALNAME_MAX	    100 /* bytes of an IRC real name */
#define CONFIG_AWAY_MAX		    CONFIG_REASON_MAX /* of an away message */
#define CONFIG_NAME_MAX		    63 /* --server-name, --network */

#endif
