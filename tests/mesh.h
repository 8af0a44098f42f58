/*
 * mesh: drives many test clients at once from one poll loop: each has an
 * outgoing buffer written as the socket takes it, and incoming lines are
 * parsed into (sender, seq) pairs for loss/order checks. Used by the
 * integration tests that need real concurrency without threads.
 */
#ifndef PARLEY_TEST_MESH_H
#define PARLEY_TEST_MESH_H

#include <stddef.h>

struct mesh_msg {
	int sender;
	int seq;
};

struct mesh_client {
	int fd;
	char nick[64];
	char *out;
	size_t out_len, out_off;
	char in[65536];
	size_t in_len;
	struct mesh_msg *got;
	size_t ngot, got_cap;
	int eof;
	int shutdown_seen;
	char lines_seen[8][128]; /* substrings to look for */
	int nlines_seen;
	int seen_mask;
};

typedef void mesh_line_cb(void *arg, char *line);

/* Reads fd (non-blocking) until it would block, calling cb for each
 * complete line (its LF replaced by a NUL); a partial line stays in
 * in[0..*len). Returns 1 at EOF or error, else 0. */
int mesh_recv_lines(int fd, char *in, size_t cap, size_t *len, mesh_line_cb *cb,
		    void *arg);

/* Sends c's queued output as far as the socket takes it. */
void mesh_write(struct mesh_client *c);

/* Joins n clients to the server on port (IPv6 if v6); -1 on failure. */
int mesh_join(struct mesh_client *cl, int n, int port, int v6);

/* Queues count lines "m SENDER SEQ" (seq from first) for client i. */
void mesh_queue(struct mesh_client *cl, int i, int first, int count,
		size_t pad);

/* Pumps every client (write queued output, read and parse input) until
 * done(arg) returns non-zero or timeout_ms passes. Returns 0 or -1. */
int mesh_pump(struct mesh_client *cl, int n, int (*done)(void *), void *arg,
	      int timeout_ms);

/* Messages client i received from sender s. */
size_t mesh_count_from(const struct mesh_client *c, int sender);

/* Every message of sender reached c in order, without gaps or duplicates,
 * starting at 0: returns 0 and stores the count, or -1. */
int mesh_sender_in_order(const struct mesh_client *c, int sender,
			 size_t *count);

/* Clients a (index ia) and b (index ib) saw the messages of every other
 * sender in one order. */
int mesh_same_order(const struct mesh_client *a, const struct mesh_client *b,
		    int ia, int ib);

void mesh_close(struct mesh_client *cl, int n);

#endif
