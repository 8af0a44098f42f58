/*
 * supervisor_int: the supervisor's state, shared by its modules:
 * supervisor.c (set-up, the loop, signals, shutdown), supervisor_accept.c
 * (listeners and admission), supervisor_proc.c (the process table: spawn,
 * channels, reap, respawn), supervisor_chat.c (requests against the
 * registry, marks) and supervisor_wake.c (wake pacing). Supervisor only.
 */
#ifndef PARLEY_SUPERVISOR_INT_H
#define PARLEY_SUPERVISOR_INT_H

#include "lib/idmap.h"
#include "lib/loop.h"
#include "lib/siphash.h"
#include "server/channel.h"
#include "server/config.h"
#include "server/core.h"
#include "server/outbox.h"
#include "server/registry.h"

#include <sys/types.h>

#define SV_CHANNEL_QUEUE  (4u << 20) /* a session this far behind is stuck */
#define SV_WAKE_GROUPS	  8
#define SV_DEBUG_EVERY_MS 1000 /* at most one summary line a second */

/* Log lines count in the singular for one. */
#define SV_PLURAL(n, word) ((n) == 1 ? word : word "s")
#define SV_PROCESSES(n)	   ((n) == 1 ? "process" : "processes")

struct supervisor;

/* One slot of the process table. */
struct sv_session {
	pid_t pid; /* 0: slot free */
	unsigned index;
	struct channel chan;
	int chan_open;
	int reaped;
	unsigned nclients;
	uint64_t client_id; /* fork model: the one client */
	struct supervisor *sv;
};

struct sv_listener {
	struct supervisor *sv;
	int fd;
	unsigned proto, transport; /* what it serves */
};

/* A parsed request: NUL-terminated copies of its strings. */
struct sv_req {
	enum core_op_kind op;
	unsigned flags;
	char room[CHANNEL_DATA_MAX + 1];
	char arg[CHANNEL_DATA_MAX + 1];
	char text[CHANNEL_DATA_MAX + 1];
};

struct supervisor {
	const struct config *cfg;
	struct loop *loop;
	struct outbox_shm shm;
	struct outbox_writer w;
	struct registry reg;
	uint64_t *marked; /* per producer: head last put in the timeline */
	void *recbuf;
	struct sv_listener listeners[CONFIG_LISTEN_MAX];
	int nlisten;
	int sig_fd;
	/* Session slot i watches wake_fds[i % nwake]: under load the groups
	 * are woken in turn, so no more than a group's worth of processes
	 * queue for the CPUs at once. */
	int wake_fds[SV_WAKE_GROUPS];
	unsigned nwake;
	uint64_t woken_tl[SV_WAKE_GROUPS]; /* timeline head at its last wake */
	unsigned wake_members[SV_WAKE_GROUPS]; /* live session processes */
	unsigned wake_next; /* the group whose turn is next */
	struct sv_session *sessions;
	unsigned nsessions;
	unsigned live; /* slots with a process not yet reaped */
	struct idmap by_pid;
	int tl_dirty;	/* a group has not seen the timeline's head */
	unsigned wakes; /* group wake-ups since the last debug line */
	long long wakes_logged_ms;
	unsigned nkilled, abandoned; /* at shutdown, for the last log line */
	long long wake_last_ms;	     /* when any group was last woken */
	long long wake_due_ms;	     /* the next group's turn, if one is owed */
	int stopping, killed;
	long long deadline_ms;
	int accept_paused;
	long long accept_resume_ms;
	long long respawn_due_ms; /* a worker could not be forked: retry */
	pid_t pid;
	uint8_t cloak_key[SIPHASH_KEY_BYTES]; /* drawn at start, never shown */
	char *motd;		 /* --motd's lines, each NUL-terminated */
	unsigned motd_lines;	 /* 0: no message of the day */
	struct sv_gline *glines; /* server-wide bans (supervisor_mod.c) */
	unsigned nglines;
};

/* ---- supervisor.c ---- */

/* Publishes the supervisor's new records and puts them in the timeline. */
void sv_commit(struct supervisor *sv);

/* Appends one record to the supervisor's outbox (committed later). */
void sv_put(struct supervisor *sv, const struct outbox_new *rec);

/* ---- supervisor_accept.c ---- */

/* Binds every configured listener. Returns 0 or -1 (logged). */
int sv_listen(struct supervisor *sv);

/* Logs each listener's address and starts accepting. */
void sv_announce(struct supervisor *sv);

/* Stops accepting for good (shutdown) and closes the listeners. */
void sv_close_listeners(struct supervisor *sv);

/* Resumes accepting after a pause for lack of fds, once it is due. */
void sv_accept_resume(struct supervisor *sv);

/* ---- supervisor_proc.c ---- */

/* Forks the session for slot s, with the client c on client_fd (fork
 * model) or none (worker). Returns 0 or -errno; closes client_fd in the
 * parent. */
int sv_spawn(struct supervisor *sv, struct sv_session *s, int client_fd,
	     const struct reg_client *c, unsigned proto, unsigned transport);

/* Fills the hand-over of client c (of a listener serving proto over
 * transport) for its session. */
void sv_client_new(const struct reg_client *c, unsigned proto,
		   unsigned transport, struct channel_client_new *m);

/* Forks a worker for every empty worker slot, retrying later on failure. */
void sv_respawn(struct supervisor *sv);

/* Reaps every exited child. */
void sv_reap(struct supervisor *sv);

/* Ends a session that broke the channel protocol. */
void sv_session_bad(struct supervisor *sv, struct sv_session *s,
		    const char *why);

/* A free fork-model slot, or the least-loaded live worker; NULL if none. */
struct sv_session *sv_pick_session(struct supervisor *sv);

/* Tells every session to shut down. */
void sv_shutdown_sessions(struct supervisor *sv);

/* SIGKILLs every session process not yet reaped; returns how many. */
unsigned sv_kill_sessions(struct supervisor *sv);

/* ---- supervisor_chat.c ---- */

/* A session's request (payload of len bytes) for one of its clients. */
void sv_request(struct supervisor *sv, struct sv_session *s,
		const void *payload, int len);

/* A session closed one of its clients. */
void sv_client_closed(struct supervisor *sv, struct sv_session *s,
		      const void *payload, int len);

/* c is gone (closed, or its session died): tell its rooms, free it. */
void sv_client_gone(struct supervisor *sv, struct reg_client *c,
		    const char *why);

/* Producer has new records: put them in the timeline. */
void sv_mark(struct supervisor *sv, unsigned producer);

/* Ends c's request with err and its parameters (supervisor_chat.c). */
void sv_reply(struct supervisor *sv, const struct reg_client *c,
	      enum core_err err, const char *room, const char *arg,
	      uint64_t num);

/* Tells c about room r: an OUTBOX_ROOM_INFO (supervisor_chat.c). */
void sv_room_info(struct supervisor *sv, const struct reg_client *c,
		  const struct reg_room *r);

/* ---- supervisor_mod.c ---- */

/* Answers c's CORE_MODE .. CORE_GLINE request q. */
void sv_mod_request(struct supervisor *sv, struct reg_client *c,
		    const struct sv_req *q);

/* Whether c may join the existing room r with key ("" for none): bans,
 * +i, +k, +l. If not, replies with why and returns 0. */
int sv_mod_may_join(struct supervisor *sv, struct reg_client *c,
		    struct reg_room *r, const char *key);

/* c has just joined r (a new room when c is its only member): sets its
 * status and a new room's modes; returns c's OUTBOX_MEMBER_* bits. */
unsigned sv_mod_joined(struct supervisor *sv, struct reg_client *c,
		       struct reg_room *r);

/* Whether c may set or clear r's topic (+t). */
int sv_mod_may_topic(struct supervisor *sv, const struct reg_client *c,
		     struct reg_room *r);

/* Whether c may know of r (+s: members and server operators only). */
int sv_mod_sees_room(struct supervisor *sv, const struct reg_client *c,
		     const struct reg_room *r);

/* c's OUTBOX_MEMBER_OP/_VOICE bits in r (0 when not a member). */
unsigned sv_mod_member_bits(struct supervisor *sv, const struct reg_client *c,
			    const struct reg_room *r);

/* r's modes as c may see them (modes_format) into out (MODES_TEXT_MAX
 * bytes); returns the length. */
size_t sv_mod_modes(struct supervisor *sv, const struct reg_client *c,
		    const struct reg_room *r, char *out);

/* Wall-clock milliseconds. */
int64_t sv_mod_now_ms(void);

/* "alice" or "alice (oper admin)": who did it, for the log (static
 * storage, valid until the next call). */
const char *sv_mod_who(const struct reg_client *c);

/* ---- supervisor_oper.c ---- */

/* Answers CORE_OPER, CORE_KILL, CORE_WALL and CORE_GLINE. */
void sv_oper_request(struct supervisor *sv, struct reg_client *c,
		     const struct sv_req *q);

/* Whether a server-wide ban matches the address host or its cloak. */
int sv_mod_glined(const struct supervisor *sv, const char *host,
		  const char *cloak);

/* Frees the server-wide bans. */
void sv_mod_free(struct supervisor *sv);

/* ---- supervisor_info.c ---- */

/* Reads --motd (if given) into sv->motd. Returns 0, or -1 (logged). */
int sv_motd_load(struct supervisor *sv);

/* Answers c's CORE_WHO, CORE_WHOIS, CORE_USERS, CORE_LUSERS, CORE_MOTD
 * or CORE_AWAY request q (records, then the REPLY). */
void sv_info_request(struct supervisor *sv, struct reg_client *c,
		     const struct sv_req *q);

/* ---- supervisor_wake.c ---- */

/* Wakes the sessions that have not seen the timeline's head, paced. */
void sv_wake(struct supervisor *sv);

/* Sets up the wake groups for nsessions slots. */
void sv_wake_setup(struct supervisor *sv);

#endif
