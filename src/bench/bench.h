/*
 * bench: the parley-bench load engine. One process, one epoll loop,
 * non-blocking sockets: N clients join one room, S of them send, and every
 * message must reach every other client. Speaks parley lines or IRC.
 */
#ifndef PARLEY_BENCH_BENCH_H
#define PARLEY_BENCH_BENCH_H

/* parley-bench's default closed-loop window: deliveries in flight in all,
 * and the most messages per sender (issue 17: bounded buffers). */
#define BENCH_IN_FLIGHT	 65536
#define BENCH_WINDOW_MAX 64

#include <stdint.h>
#include <sys/types.h>

#include "bench/hist.h"

enum bench_proto {
	BENCH_PROTO_PARLEY, /* parley's plain lines */
	BENCH_PROTO_IRC	    /* NICK/USER, JOIN, PRIVMSG, PING/PONG */
};

struct bench_config {
	enum bench_proto proto;
	int ws;	 /* over WebSocket (/ws, subprotocol parley) */
	int tls; /* TLS without verification (--tls) */
	char host[256];
	int port;
	unsigned int clients;
	unsigned int senders;
	unsigned int messages; /* per sender; 0: until duration_s */
	double duration_s;     /* 0: until messages */
	unsigned int window;   /* closed loop: messages in flight/sender */
	double rate;	       /* open loop: messages/s per sender; 0: off */
	unsigned int size;     /* payload bytes */
	char room[64];
	char irc_oper[128]; /* "NAME:PASSWORD" for OPER + MODE +F, or "" */
	pid_t server_pid;   /* 0: no server statistics */
	int progress;	    /* progress line on stderr once a second */
	unsigned int connect_parallel; /* clients not yet joined, at most */
	double connect_timeout_s;      /* every client joined within this */
	double drain_timeout_s; /* end after this long without progress */
	double timeout_s;	/* hard cap on the measured phase */
	/* Handshake mode (--handshakes N): N TLS handshakes, connect_parallel
	 * at once, each done when the server's first line arrives; resume:
	 * every one resumes the session of a first, unmeasured one. */
	unsigned int handshakes;
	int resume;
};

struct handshake_result {
	unsigned int done;    /* handshakes with the server's first line */
	unsigned int resumed; /* of which resumed a session */
	unsigned int failed;
	double duration_s;
	int has_server;
	uint64_t server_cpu_ns;
	uint64_t bench_cpu_ns;
	char error[256];
};

struct bench_result {
	uint64_t sent;	    /* messages sent */
	uint64_t expected;  /* sent * (clients - 1) */
	uint64_t delivered; /* unique deliveries */
	uint64_t lost;
	uint64_t dups;
	uint64_t reorders;
	uint64_t corrupt;
	uint64_t disconnects;
	double setup_s;		/* connect + join + settle */
	double duration_s;	/* first send to last delivery */
	double wall_s;		/* the measured phase, drain included */
	struct hist latency;	/* delivery latency, open loop: from the
				 * intended send time */
	int stalled;		/* ended by drain or hard timeout */
	unsigned int irc_opers; /* senders that became IRC operators */
	int has_server;		/* the server_* fields are valid */
	uint64_t server_cpu_ns;
	uint64_t server_hwm_kb; /* sum of VmHWM over the tree at the end */
	uint64_t server_pss_kb; /* sum of Pss at the end of the run */
	uint64_t server_ctxsw;	/* live processes only */
	unsigned int server_procs;
	uint64_t bench_cpu_ns;
	uint64_t bench_ctxsw;
	uint64_t machine_ctxsw;
	double machine_busy;	  /* 0..1 over all CPUs */
	uint64_t machine_busy_ns; /* CPU time of everything on the machine */
	uint64_t machine_irq_ns;  /* of which irq and softirq */
	char error[256];	  /* set when the run could not be done */
};

/* Runs one benchmark: connects, joins, measures, closes every socket it
 * opened. Blocks for the whole run. Returns 0 when a measurement was made
 * (check the counters), -errno with res->error set when it was not. */
int bench_run(const struct bench_config *cfg, struct bench_result *res)
    __attribute__((warn_unused_result));

/* Handshake mode (handshake.c): connects cfg->handshakes times over TLS
 * and counts how many handshakes a second the server completes. Returns 0
 * when a measurement was made, -errno with res->error set if not. */
int handshake_run(const struct bench_config *cfg, struct handshake_result *res)
    __attribute__((warn_unused_result));

#endif
