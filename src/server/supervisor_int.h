/*
 * supervisor_int: the supervisor's state, shared by its modules:
 * supervisor.c (set-up, the loop, signals, shutdown), supervisor_accept.c
 * (listeners and admission), supervisor_proc.c (the process table: spawn,
 * channels, reap, respawn), supervisor_chat.c (requests against the
 * registry, marks) with supervisor_bound.c (what they may write),
 * supervisor_wake.c (wake pacing), supervisor_ops.c
 * (live settings, stats, notify, metrics), supervisor_reload.c (SIGHUP),
 * supervisor_store.c (the store process and its requests) and
 * supervisor_flow.c (flow control: readers, room, stalls).
 * Supervisor only.
 */
#ifndef PARLEY_SUPERVISOR_INT_H
#define PARLEY_SUPERVISOR_INT_H

#include "lib/idmap.h"
#include "lib/loop.h"
#include "lib/siphash.h"
#include "server/channel.h"
#include "server/config.h"
#include "server/config_file.h"
#include "server/core.h"
#include "server/live.h"
#include "server/metrics.h"
#include "server/notify.h"
#include "server/flow.h"
#include "server/outbox.h"
#include "server/registry.h"
#include "server/stats.h"
#include "server/store.h"

#include <limits.h>
#include <sys/types.h>
#include <time.h>

#define SV_MOTD_BYTES	  (64 * 1024) /* more of --motd is not read */
#define SV_MOTD_LINE_MAX  400	      /* bytes of one of its lines */
#define SV_USERS_MAX	  64	      /* nicknames one CORE_USERS looks up */
#define SV_CHANNEL_QUEUE  (4u << 20)  /* a session this far behind is stuck */
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

/* A request the store has yet to answer (they are answered in order). */
struct sv_store_req {
	uint64_t tag, client;
	uint16_t op;	/* CORE_JOIN (its history), CORE_HISTORY, accounts */
	uint16_t flags; /* the op's */
	uint64_t room;	/* CORE_JOIN: the room joined */
	char room_name[OUTBOX_ROOM_MAX + 1];
};

enum sv_store_state {
	SV_STORE_OFF,	   /* --db none */
	SV_STORE_STARTING, /* spawned, not yet READY */
	SV_STORE_UP,
	SV_STORE_DOWN,	 /* dead (respawn due) */
	SV_STORE_FAILED, /* could not open the database at start-up */
};

struct sv_topic;
struct sv_rooms;

/* The store process (supervisor_store.c). */
struct sv_store {
	enum sv_store_state state;
	pid_t pid; /* 0: none */
	int reaped, chan_open;
	struct channel chan;
	unsigned producer;
	struct sv_store_req *q; /* ring of q_cap */
	unsigned q_cap, q_head, q_len;
	uint64_t next_tag;
	/* Registered nicknames (folded -> (void *)1), and the set a
	 * starting store sends, which replaces it at READY. */
	struct strmap registered, staging;
	long long grace_due_ms; /* the first lent nickname's end; 0: none */
	char health[CHANNEL_REASON_MAX]; /* "" while commits work */
	char failed[CHANNEL_REASON_MAX]; /* why it could not start */
	long long respawn_due_ms;
	long long respawn_delay_ms;
	long long started_ms;
	int booting; /* sv_store_start is waiting for the first READY */
	int told_stop;
	unsigned stop_respawns; /* respawns at shutdown (one at most) */
	long long stop_deadline_ms;
	/* Where the first store of this run started reading: a store that
	 * dies before its first commit starts over from here. */
	uint64_t start_tl;
	uint64_t *start_cursors;
	struct store_stats_sh *stats; /* its shared page */
	size_t stats_bytes;
	int stats_fd; /* the page's memfd, passed to each store */
	int exe_fd;   /* the running binary, which each store execs */
	/* Topics by folded room name (struct sv_topic), for rooms that do
	 * not exist now: a room gets its own when it is made again. Loaded
	 * from the run's first store, then kept by sv_store_topic_set. */
	struct strmap topics;
	struct sv_topic *topic_list; /* every entry, to free them */
	int topics_loaded;	     /* the first store was READY */
	int topics_full_said;	     /* STORE_TOPICS_MAX was logged */
};

/* Liveness of one reader slot, as the supervisor last saw it. */
struct sv_reader {
	uint64_t last;	    /* its position then */
	long long since_ms; /* behind without advancing since; 0: not */
};

/* A request that waits for room in the supervisor's ring, or an answer
 * of the store's (session SV_DEFER_STORE). */
struct sv_deferred {
	struct sv_deferred *next;
	unsigned session; /* index of the asking session */
	int len;
	char payload[];
};

#define SV_DEFER_STORE UINT_MAX

#define SV_NAMES_CHUNK 360  /* nickname bytes per OUTBOX_NAMES record */
#define SV_NAMES_TEXT  4096 /* the most text of one OUTBOX_NAMES record */

/* The most a QUIT record takes (a client's last record; the supervisor
 * always keeps room for every connected client's). */
#define SV_QUIT_BOUND                                                          \
	outbox_rec_bound(CONFIG_ROOMS_PER_CLIENT_MAX, CHANNEL_REASON_MAX)

struct sv_listener {
	struct supervisor *sv;
	int fd;
	unsigned proto, transport; /* what it serves */
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
	pid_t zygote_pid;	 /* fork model: sessions' origin; 0: none */
	int zygote_fd;		 /* its socket (SOCK_SEQPACKET) */
	long long zygote_due_ms; /* when to fork a new one after a loss */

	/* Operations (supervisor_ops.c, supervisor_reload.c). */
	struct config *cfg_rw;		 /* *cfg: only a reload writes it */
	const struct config_source *src; /* the command line, for reloads */
	struct config_text *boot_text;	 /* what the start-up config uses */
	struct config_text *reload_text; /* the last reload's strings */
	struct live settings;		 /* reloadable settings, for sessions */
	struct stats stats;		 /* the sessions' counters */
	struct notify notify;		 /* the service manager, if any */
	struct metrics *metrics;	 /* GET /metrics, if listening */
	uint64_t counts[METRICS_COUNTS]; /* events only the supervisor sees */
	time_t start_time;
	unsigned status_clients; /* clients in the last STATUS= */
	long long status_sent_ms;
	long long ops_due_ms; /* when sv_ops_tick wants to run; 0: never */
	/* Flow control (supervisor_flow.c). Reader slot i is session i's;
	 * slot nsessions is kept for the store (DESIGN.md section 10). */
	int flow_fd;		    /* eventfd: a reader crossed flow_want */
	unsigned char *reader_open; /* per reader slot: a reader attached */
	struct sv_reader *readers;  /* per reader slot */
	struct flow_fifo *fifo;	    /* per producer: its unread marks */
	uint64_t *flow_target;	    /* per producer: CHANNEL_FLOW's target */
	unsigned flow_waiting;	    /* producers with a target */
	unsigned char *mark_owed;   /* per producer: a mark waits for room in
				       the timeline */
	unsigned nowed;
	struct sv_deferred *deferred, **deferred_tail;
	unsigned ndeferred;
	uint64_t tl_min; /* least live reader position, last seen */
	/* Rings of departed sessions (supervisor_ring.c): per producer, 0
	 * or one past the timeline head when it left. */
	uint64_t *retired_at;
	unsigned nretired;
	long long ring_due_ms; /* next look at them; 0: none left */
	uint64_t free0;	 /* every live reader has read ring 0 below this */
	int accept_held; /* no room for one more client's quit */
	int flow_updating, flow_again; /* sv_flow_update is running */
	long long flow_due_ms;	       /* next liveness check; 0: none due */
	unsigned deferrals; /* requests deferred since the debug line */
	long long deferrals_logged_ms;

	/* The IRC front end (supervisor_info.c). */
	uint8_t cloak_key[SIPHASH_KEY_BYTES]; /* drawn at start, never shown */
	char *motd;		 /* --motd's lines, each NUL-terminated */
	unsigned motd_lines;	 /* 0: no message of the day */
	struct sv_gline *glines; /* server-wide bans (supervisor_mod.c) */
	unsigned nglines;
	struct sv_rooms *rooms; /* registered rooms (supervisor_rooms.c) */

	struct sv_store store;
};

/* A parsed request: NUL-terminated copies of its strings. */
struct sv_req {
	enum core_op_kind op;
	unsigned flags;
	unsigned num;
	char room[CHANNEL_DATA_MAX + 1];
	char arg[CHANNEL_DATA_MAX + 1];
	char text[CHANNEL_DATA_MAX + 1];
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

/* In a freshly forked child: closes every fd but the n (at most 16) in
 * keep. */
void sv_child_close_fds(const int *keep, int n);

/* In a freshly forked child: becomes the session (or worker) of slot
 * index, reading the timeline from tl_pos, with the client m on client_fd
 * if any. Never returns. */
void sv_child(struct supervisor *sv, unsigned index, int chan_fd, int client_fd,
	      const struct channel_client_new *m, uint64_t tl_pos,
	      int store_producer) __attribute__((noreturn));

/* ---- supervisor_zygote.c ---- */

/* Forks the fork model's zygote (nothing for workers). 0 or -errno. */
int sv_zygote_start(struct supervisor *sv);

/* Ends the zygote and reaps it; sessions forked from it live on. */
void sv_zygote_stop(struct supervisor *sv);

/* A reload: a new zygote from the reloaded supervisor. */
void sv_zygote_restart(struct supervisor *sv);

/* Whether pid was the zygote (then handled). */
int sv_zygote_reaped(struct supervisor *sv, pid_t pid, int status);

/* The session of slot index, cloned by the zygote: its pid, 0 when the
 * zygote cannot serve (the caller forks), or -errno from the clone. */
pid_t sv_zygote_spawn(struct supervisor *sv, unsigned index, int chan_fd,
		      int client_fd, const struct channel_client_new *m,
		      uint64_t tl_pos, int store_producer);

/* Ends a session that broke the channel protocol. */
void sv_session_bad(struct supervisor *sv, struct sv_session *s,
		    const char *why);

/* A free fork-model slot, or the least-loaded live worker; NULL if none. */
struct sv_session *sv_pick_session(struct supervisor *sv);

/* Once the listeners are bound: checks that sessions can be sandboxed
 * and drops root for --user (or says once that it runs as root). Returns
 * 0 or -1 (logged). */
int sv_privileges(struct supervisor *sv);

/* Tells every session to shut down. */
void sv_shutdown_sessions(struct supervisor *sv);

/* SIGKILLs every session process not yet reaped; returns how many. */
unsigned sv_kill_sessions(struct supervisor *sv);

/* ---- supervisor_chat.c ---- */

/* A session's request (payload of len bytes) for one of its clients. */
void sv_request(struct supervisor *sv, struct sv_session *s,
		const void *payload, int len);

/* The ids of c's rooms whose size allows notices (all: every room), for
 * QUIT and NICK; ids has room for CONFIG_ROOMS_PER_CLIENT_MAX. */
unsigned sv_room_ids(struct supervisor *sv, const struct reg_client *c,
		     uint64_t *ids, int all);

/* ---- supervisor_timeline.c ---- */

/* A session closed one of its clients. */
void sv_client_closed(struct supervisor *sv, struct sv_session *s,
		      const void *payload, int len);

/* c is gone (closed, or its session died): tell its rooms, free it. */
void sv_client_gone(struct supervisor *sv, struct reg_client *c,
		    const char *why);

/* Producer has new records: put them in the timeline (or, while the
 * timeline has no room, owe the mark until it has). */
void sv_mark(struct supervisor *sv, unsigned producer);

/* ---- supervisor_chat.c: records ---- */

/* A record about c (author c, as others see it). */
struct outbox_new sv_by(const struct reg_client *c, uint16_t kind);

/* Ends c's request with err and its parameters (one OUTBOX_REPLY). */
void sv_reply(struct supervisor *sv, const struct reg_client *c,
	      enum core_err err, const char *room, const char *arg,
	      uint64_t num);

/* Renames c (checked: valid, free) and tells its rooms; no reply.
 * Returns 0 or the registry's -errno. */
int sv_nick_change(struct supervisor *sv, struct reg_client *c,
		   const char *nick);

/* The ids of c's rooms, for records every member of them sees. */
unsigned sv_room_ids_all(const struct reg_client *c, uint64_t *ids);

/* The in-memory history of r for c (--db none). */
void sv_history(struct supervisor *sv, const struct reg_client *c,
		const struct reg_room *r);

/* ---- supervisor_ops.c ---- */

/* Maps the live block and the stats pages and opens the notify socket:
 * before any fork. */
void sv_ops_setup(struct supervisor *sv);

/* Binds the metrics listener, if any. Returns 0 or -1 (logged). */
int sv_ops_listen(struct supervisor *sv);

/* Listening: starts serving metrics and tells the service manager. */
void sv_ops_ready(struct supervisor *sv);

/* Each loop iteration: STATUS= (at most once a second), metrics
 * deadlines. Sets ops_due_ms. */
void sv_ops_tick(struct supervisor *sv);

/* Shutdown begins: STOPPING=1, metrics stop. */
void sv_ops_stopping(struct supervisor *sv);

/* Slot s is free again (its process and channel gone): its counters
 * join the retired totals. */
void sv_ops_release(struct supervisor *sv, struct sv_session *s);

void sv_ops_teardown(struct supervisor *sv);

/* ---- supervisor_reload.c ---- */

/* SIGHUP: rebuilds the config from the file and the command line and
 * applies what can change at run time; a file that does not parse
 * changes nothing. Never exits, never disconnects anyone. */
void sv_reload(struct supervisor *sv);

/* ---- supervisor_tls.c ---- */

/* Loads the TLS certificate and key, if configured, as the context new
 * connections get. Returns 0 or -1 (logged). */
int sv_tls_start(struct supervisor *sv);

/* SIGHUP: reloads them; a pair that does not load or match keeps the
 * current one (logged). Workers get the new one over their channels. */
void sv_tls_reload(struct supervisor *sv);
/* Puts producer's records in the timeline now, owed or not (before its
 * clients' quits, which must come after their last words). */
void sv_mark_now(struct supervisor *sv, unsigned producer);

/* Queues payload (len bytes) as deferred for session (an index, or
 * SV_DEFER_STORE), behind any others; sv_run_deferred runs it. */
void sv_defer_push(struct supervisor *sv, unsigned session, const void *payload,
		   int len);

/* Runs deferred requests while they fit. Returns the worst case of the
 * first that does not (0: none waits). */
size_t sv_run_deferred(struct supervisor *sv);

/* The most ring 0 bytes a JOIN with want (CORE_WANT_*) takes, for a room
 * of members members (after the join) and hist messages of hist_text
 * bytes each. Pure. */
size_t sv_join_bound(unsigned want, unsigned members, unsigned hist,
		     size_t hist_text);

/* The most request q may write to the supervisor's ring, as the registry
 * is now (supervisor_bound.c). */
size_t sv_request_worst(struct supervisor *sv, const struct sv_req *q);

/* The supervisor's ring for cfg: room for every client's quit and the
 * largest request, twice over, and at least 16 MiB. Pure. */
size_t sv_ring0_size(const struct config *cfg);

/* ---- supervisor_flow.c ---- */

/* ---- supervisor_ring.c ---- */

/* The session of producer has gone: its ring is given back once every
 * live reader has passed the timeline's present head, unless a new
 * session takes the producer first. */
void sv_ring_retire(struct supervisor *sv, unsigned producer);

/* Gives back the rings every reader has passed. Cheap when none wait. */
void sv_ring_tick(struct supervisor *sv);

void sv_flow_setup(struct supervisor *sv);
void sv_flow_teardown(struct supervisor *sv);

/* A reader starts in slot at pos / the reader of slot is gone. Any slot
 * of the table: session i's is i; one past the sessions' is for a reader
 * that is no session (the store), which opens it at the timeline head
 * before its process starts, as sv_spawn does. Every open slot is waited
 * for and may be declared stalled. */
void sv_flow_open(struct supervisor *sv, unsigned slot, uint64_t pos);
void sv_flow_close(struct supervisor *sv, unsigned slot);

/* Producer's records up to head are timeline entry tl. */
void sv_flow_marked(struct supervisor *sv, unsigned producer, uint64_t tl,
		    uint64_t head);

/* A session's CHANNEL_FLOW. */
void sv_flow_ask(struct supervisor *sv, struct sv_session *s,
		 const void *payload, int len);

/* Producer's CHANNEL_FLOW (a session's or the store's): answered with
 * CHANNEL_FLOW_GO once every live reader has read its ring up to the
 * target. Returns 0, or -1 if it is malformed or past producer's head. */
int sv_flow_want(struct supervisor *sv, unsigned producer, const void *payload,
		 int len);

/* Whether ring 0 has room for bytes more and the timeline for entries
 * more, keeping room for the quits of every connected client and of
 * clients more. Never blocks. */
int sv_flow_fits(struct supervisor *sv, size_t bytes, unsigned entries,
		 unsigned clients);

/* Answers producers that wait, runs what was deferred, and publishes what
 * the supervisor waits for next (flow_want). */
void sv_flow_update(struct supervisor *sv);

/* The liveness check when due: declares stalled the readers that are
 * behind and have not advanced for --stall-timeout. */
void sv_flow_tick(struct supervisor *sv);

/* ---- supervisor_accept.c (flow) ---- */

/* Stops (hold 1) or resumes accepting while ring 0 lacks room for one
 * more client's quit. */
void sv_accept_hold(struct supervisor *sv, int hold);

/* ---- supervisor_store.c, supervisor_store_req.c ---- */

/* Before any fork: the store's producer slot and counters page (when
 * config_has_store). Sets sv->store.state. */
void sv_store_setup(struct supervisor *sv);

/* Forks the store and waits for its database to open, before anything
 * is served. Returns 0, or -1 when it cannot be used (the one line that
 * says why is logged). */
int sv_store_start(struct supervisor *sv);

/* pid exited with status st: returns 1 if it was the store. */
int sv_store_reaped(struct supervisor *sv, pid_t pid, int st);

/* Each loop iteration: respawns it when due; at shutdown, once every
 * session is gone, tells it to finish (and kills it past a deadline). */
void sv_store_tick(struct supervisor *sv);

/* The next deadline sv_store_tick has (0: none). */
long long sv_store_due(const struct supervisor *sv);

/* ---- supervisor_grace.c ---- */

/* Whether c may borrow a registered nickname it is not logged in to: an
 * IRC client before registration, with --nick-grace. */
int sv_grace_allows(const struct supervisor *sv, const struct reg_client *c);

/* c has just taken its nickname: lends it when it is registered to an
 * account c is not logged in to. Returns the seconds lent (0: none). */
uint64_t sv_grace_start(struct supervisor *sv, struct reg_client *c);

/* Renames to a guest nickname every client whose loan is over without
 * a login to it; called by sv_store_tick. */
void sv_grace_tick(struct supervisor *sv);

/* The store process has not been reaped yet. */
int sv_store_running(const struct supervisor *sv);

/* A join of c to r asks for history: returns 1 when the store will
 * send it (and the reply is the store's to finish), 0 when the caller
 * replies (history from memory with --db none, or none: the store is
 * down, and c was told). */
int sv_store_join(struct supervisor *sv, struct reg_client *c,
		  struct reg_room *r);

/* CORE_HISTORY and the account operations: answered now (errors,
 * logout) or once the store is done. */
void sv_store_request(struct supervisor *sv, struct reg_client *c,
		      const struct sv_req *q);

/* The most sv_store_finish(r, d) writes to ring 0. */
size_t sv_store_finish_worst(const struct supervisor *sv,
			     const struct sv_store_req *r,
			     const struct channel_store_done *d);

/* Finishes request r with the store's answer d (supervisor_store_req.c). */
void sv_store_finish(struct supervisor *sv, const struct sv_store_req *r,
		     const struct channel_store_done *d);

/* A store answer deferred by sv_store_done (payload of len bytes): the
 * most it writes to ring 0, and running it (its records' mark, then
 * sv_store_finish). */
size_t sv_store_answer_worst(struct supervisor *sv, const void *payload,
			     int len);
void sv_store_answer_run(struct supervisor *sv, const void *payload, int len);

/* Sends the store CHANNEL_FLOW_GO (sv_flow_want). */
void sv_store_flow_go(struct supervisor *sv);

/* Ends a store that broke the channel protocol (it is respawned). */
void sv_store_bad(struct supervisor *sv, const char *why);

/* Reload step, once the live block is published: wakes the store, which
 * takes its reloadable settings (--history-days, --db-batch, --db-delay,
 * --store-private) from there. */
void sv_store_reload(struct supervisor *sv, const struct config *old);

/* A room was just made: gives it the topic it had (set by whom and
 * when), in this run or one before, if any. */
void sv_store_room_made(struct supervisor *sv, struct reg_room *r);

/* r's topic was set or cleared: kept for when r is made again. */
void sv_store_topic_set(struct supervisor *sv, const struct reg_room *r);

/* The topic kept for the room called room while it does not exist (""
 * when none). */
const char *sv_store_topic_kept(struct supervisor *sv, const char *room);

/* Asks the store to check server operator name's password pass against
 * hash (it runs yescrypt, not the supervisor); sv_oper_checked has the
 * answer. Returns 1 if asked, 0 when the store cannot (the caller
 * checks it itself). */
int sv_store_oper(struct supervisor *sv, struct reg_client *c, const char *name,
		  const char *pass, const char *hash);

/* 1 if nick is registered to an account c is not logged in to. */
int sv_store_nick_taken(const struct supervisor *sv, const struct reg_client *c,
			const char *nick);

void sv_store_teardown(struct supervisor *sv);
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

/* The check of c's /oper as server operator name came to err (CORE_OK:
 * the password matched): c becomes one, or is told; logged. */
void sv_oper_checked(struct supervisor *sv, struct reg_client *c,
		     const char *name, enum core_err err);

/* Whether a server-wide ban matches the address host or its cloak. */
int sv_mod_glined(const struct supervisor *sv, const char *host,
		  const char *cloak);

/* Frees the server-wide bans. */
void sv_mod_free(struct supervisor *sv);

/* Adds (or renews) the server-wide ban on mask, as the store had it.
 * Returns 0, or -1 when there is no room for it. */
int sv_mod_gline_put(struct supervisor *sv, const char *mask, const char *by,
		     const char *reason, int64_t at_ms);

/* The reason of the server-wide ban matching host or cloak ("" when it
 * has none), or NULL when none matches. */
const char *sv_mod_gline_reason(const struct supervisor *sv, const char *host,
				const char *cloak);

/* Tells the store every server-wide ban (sv_rooms_resync). */
void sv_mod_gline_resync(struct supervisor *sv);

/* ---- supervisor_rooms.c ---- */

/* Answers CORE_ROOM_REGISTER, _DROP, _INFO and _SAY. */
void sv_rooms_request(struct supervisor *sv, struct reg_client *c,
		      const struct sv_req *q);

/* c has just joined r: if r is registered, a room made anew gets its
 * kept state, and c (through *f) operator status when logged in to its
 * founder's or an operator account. Returns 1 if r is registered. */
int sv_rooms_joined(struct supervisor *sv, const struct reg_client *c,
		    struct reg_room *r, uint8_t *f);

/* Whether c is logged in to the founder's or an operator account of the
 * registered room called name: it runs it, and passes its bans, +i, +k
 * and +l as an invited client does. */
int sv_rooms_trusted(struct supervisor *sv, const struct reg_client *c,
		     const char *name);

/* Whether c may join the registered room called name, which does not
 * exist now, by the state it keeps (bans, +i, +k); if not, replies with
 * why and returns 0. 1 for a room that is not registered. */
int sv_rooms_may_join(struct supervisor *sv, struct reg_client *c,
		      const char *name, const char *key);

/* r's modes or bans may have changed: a registered room keeps (and the
 * store is told) what did. */
void sv_rooms_sync(struct supervisor *sv, const struct reg_room *r);

/* t's operator status in r changed (sign '+' or '-'): a registered room
 * keeps t's account as one of its operator accounts, or no longer. */
void sv_rooms_status(struct supervisor *sv, const struct reg_room *r,
		     const struct reg_client *t, char sign);

/* c has just logged in: it becomes an operator (announced as set by
 * ChanServ) of the registered rooms it is in that its account runs. */
void sv_rooms_logged_in(struct supervisor *sv, struct reg_client *c);

/* Whether a room called name is registered. */
int sv_rooms_registered(struct supervisor *sv, const char *name);

/* A CHANNEL_STORE_ROOM_LOAD from the run's first store. */
void sv_rooms_load(struct supervisor *sv, const void *payload, int len);

/* How many rooms are registered. */
size_t sv_rooms_count(const struct supervisor *sv);

/* A registered room as a room list shows it while it has no members. */
struct sv_room_listed {
	const char *name;
	unsigned modes; /* MODES_* it keeps */
	const char *key;
	unsigned limit;
	int64_t at_ms; /* when it was registered */
};

/* The registered rooms that do not exist now, into out (room for
 * sv_rooms_count of them), valid until the table changes; returns how
 * many. */
unsigned sv_rooms_empty(struct supervisor *sv, struct sv_room_listed *out);

/* ---- supervisor_list.c ---- */

/* Answers c's CORE_ROOMS without a name: every room c may see, those
 * that exist and the registered ones that are empty, by name, then
 * ROOM_END and the reply. */
void sv_list_rooms(struct supervisor *sv, struct reg_client *c);

/* Tells the store a server-wide ban was set (add) or lifted. */
void sv_rooms_gline_tell(struct supervisor *sv, int add, const char *mask,
			 const char *by, const char *reason, int64_t at_ms);

/* A respawned store is READY: it is told the whole state again (what
 * changed while it was down is in it then). */
void sv_rooms_resync(struct supervisor *sv);

/* The account was deleted: rooms it founded are dropped, its operator
 * entries removed. */
void sv_rooms_account_gone(struct supervisor *sv, const char *account);

void sv_rooms_free(struct supervisor *sv);

/* ---- supervisor_info.c ---- */

/* Reads --motd (if given) into sv->motd. Returns 0, or -1 (logged). */
int sv_motd_load(struct supervisor *sv);

/* Reload step: reads --motd again (a new path, or the same file with new
 * lines); a file that cannot be read keeps the current message (logged). */
void sv_motd_reload(struct supervisor *sv, const struct config *old);

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
