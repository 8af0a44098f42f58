/*
 * bench_int: what the load engine's files share (bench.c runs the loop and
 * the clients, bench_send.c the senders, bench_lines.c reads the servers'
 * lines and WebSocket frames). One process; no state outside struct
 * bench.
 */
#ifndef PARLEY_BENCH_BENCH_INT_H
#define PARLEY_BENCH_BENCH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bench/bench.h"
#include "bench/track.h"

#define BENCH_LINE_MAX	      2048	  /* longest line kept across reads */
#define BENCH_READ_MAX	      (64 * 1024) /* one read() per wake-up */
#define BENCH_EVENTS	      512
#define BENCH_NS	      1000000000LL
#define BENCH_SETTLE_QUIET_NS (300 * 1000000LL)
#define BENCH_SETTLE_MAX_NS   (20 * BENCH_NS)
#define BENCH_TICK_NS	      BENCH_NS

enum bench_state {
	BENCH_IDLE,	   /* not connected yet */
	BENCH_CONNECTING,  /* non-blocking connect in progress */
	BENCH_REGISTERING, /* waiting for the welcome (IRC: 001) */
	BENCH_JOINING,	   /* waiting for our own join */
	BENCH_READY,	   /* in the room */
	BENCH_CLOSED
};

struct bench_client {
	int fd;
	enum bench_state state;
	int sender; /* index into senders, or -1 */
	int queued; /* on the flush list */
	int pollout;
	unsigned int nick_len;
	char nick[32];
	unsigned int carry_len;
	char *carry; /* a partial line from the last read */
	char *out;
	size_t out_len, out_off, out_cap;
	int ws_open;	      /* --ws: the upgrade is done */
	struct ws_reader *rd; /* --ws: the server's frames */
	struct ssl_st *tls;   /* --tls */
	int handshaking;
};

struct bench_sender {
	unsigned int client;
	uint32_t sent;	    /* next sequence number */
	uint32_t completed; /* closed loop: all below reached everyone */
	uint32_t *reach;    /* closed loop: receivers reached, per window */
	int done;	    /* sent all its messages */
};

struct bench {
	const struct bench_config *cfg;
	struct bench_result *res;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int epfd;
	struct bench_client *clients;
	struct bench_sender *senders;
	unsigned int nclients, nsenders, receivers;
	unsigned int started, ready, closed_in_setup;
	unsigned int *flush;
	unsigned int nflush;
	unsigned int senders_done;
	struct track track;
	char *rbuf;
	uint8_t *wsbuf; /* --ws: frames being built */
	uint32_t ws_seed;
	int64_t now, t0, t_stop, t_last_delivery, t_last_activity;
	int64_t t_last_input, t_next_tick, period_ns;
	uint64_t ol_k;	   /* open loop: next message index ... */
	unsigned int ol_i; /* ... and sender */
	int measuring, sending_done, failed;
	unsigned int opers_refused; /* IRC: OPER answered 491 or 464 */
	uint64_t sent_total;
};

/* Queues s for client id; closes a client and says why; marks a client
 * joined; a closed-loop sender's message seq reached another receiver. */
void bench_out_str(struct bench *b, unsigned int id, const char *s);
void bench_client_close(struct bench *b, unsigned int id, const char *why);
void bench_client_ready(struct bench *b, unsigned int id);
void bench_closed_reached(struct bench *b, struct bench_sender *s,
			  uint32_t seq);

/* The monotonic clock in ns; appends len bytes to client id's output. */
int64_t bench_now(void);
/* Queues bytes as they are (no WebSocket framing: bench_out_append frames
 * them with --ws). */
void bench_out_raw(struct bench *b, unsigned int id, const char *s, size_t len);
void bench_out_append(struct bench *b, unsigned int id, const char *s,
		      size_t len);

/* Closed loop: sends what s's window allows. Open loop: when the next
 * message is due, and sends those that are. */
void bench_closed_fill(struct bench *b, struct bench_sender *s);
int64_t bench_open_next_due(const struct bench *b);
void bench_open_due(struct bench *b);

/* --ws: the response head, then frames; each text message is a line.
 * Returns the bytes of buf[0..len) left for next time. */
size_t bench_ws_input(struct bench *b, unsigned int id, char *buf, size_t len,
		      int64_t t);

/* One line from client id's server (without its newline), read at t. */
void bench_line(struct bench *b, unsigned int id, const char *s, size_t len,
		int64_t t);

#endif
