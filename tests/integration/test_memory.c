/*
 * test_memory: what a long-running parleyd keeps resident, on the real
 * server in the fork model: round after round of clients that connect,
 * chat and leave must not leave their rings' pages behind (issue 17: the
 * shared mapping is --max-clients rings, and every page a departed
 * session's ring touched used to stay resident).
 */
#include "../testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_WAIT_MS 20000

#define ROUNDS	40  /* rounds of clients that come and go */
#define PER	12  /* clients per round */
#define LINES	40  /* lines each of them sends */
#define PADDING 400 /* bytes of padding in each line */

static char model_args[256];

/* The value of key ("Pss", "Pss_Shmem") in /proc/PID/smaps_rollup, in
 * kB, or -1. */
static long
rollup_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			kb = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* key summed over the server and every process under it, in kB. */
static long
tree_kb(pid_t pid, const char *key)
{
	pid_t kids[64];
	int n = ts_children(pid, kids, 64);
	long sum = rollup_kb(pid, key);

	for (int i = 0; i < n && sum >= 0; i++) {
		long k = rollup_kb(kids[i], key);
		if (k > 0)
			sum += k;
	}
	return sum;
}

/* One round: PER clients join, each sends LINES padded private messages
 * to the watcher (so that nobody but the watcher has to read), then all
 * quit; returns 0 once the watcher saw every line and every quit. */
static int
chat_round(struct ts_server *s, int watcher, const char *wnick, int round)
{
	char nick[PER][64], want[512], pad[PADDING + 1];
	int fd[PER];

	memset(pad, 'm', PADDING);
	pad[PADDING] = '\0';
	for (int i = 0; i < PER; i++) {
		fd[i] = tc_join(s->port, nick[i], sizeof(nick[i]));
		if (fd[i] < 0)
			return -1;
		snprintf(want, sizeof(want), "-!- %.63s joined #lobby",
			 nick[i]);
		if (tc_expect(watcher, want, NULL, 0, T_WAIT_MS) < 0) {
			fprintf(stderr, "  (no \"%s\")\n", want);
			return -1;
		}
	}
	for (int l = 0; l < LINES; l++)
		for (int i = 0; i < PER; i++)
			tc_send(fd[i], "/msg %s r%d c%d l%d %s\n", wnick, round,
				i, l, pad);
	/* Each client's lines arrive in its order, the clients' in any:
	 * once every last line is here the watcher has read them all. */
	for (int seen = 0, got[PER] = {0}; seen < PER;) {
		char line[1024];
		if (tc_readline(watcher, line, sizeof(line), T_WAIT_MS) < 0) {
			fprintf(stderr, "  (round %d: %d of %d last lines)\n",
				round, seen, PER);
			return -1;
		}
		for (int i = 0; i < PER; i++) {
			snprintf(want, sizeof(want), "*%.63s* r%d c%d l%d ",
				 nick[i], round, i, LINES - 1);
			if (!got[i] && strstr(line, want)) {
				got[i] = 1;
				seen++;
			}
		}
	}
	for (int i = 0; i < PER; i++) {
		tc_send(fd[i], "/quit\n");
		tc_close(fd[i]);
		snprintf(want, sizeof(want), "-!- %.63s quit", nick[i]);
		if (tc_expect(watcher, want, NULL, 0, T_WAIT_MS) < 0) {
			fprintf(stderr, "  (no \"%s\")\n", want);
			return -1;
		}
	}
	return 0;
}

static void
test_rounds_of_clients_that_come_and_go_leave_no_ring_pages_behind(void)
{
	struct ts_server *s = ts_start_model(
	    model_args, "--verbose --flood-rate 0 --max-per-address 0");
	char wnick[64];
	int watcher = -1;
	long first = -1, last = -1, shm_first = -1, shm_last = -1;

	REQUIRE(s);
	watcher = tc_join(s->port, wnick, sizeof(wnick));
	REQUIRE(watcher >= 0);
	for (int r = 0; r < ROUNDS; r++) {
		if (chat_round(s, watcher, wnick, r) < 0) {
			CHECKF(0, "round %d did not complete", r);
			break;
		}
		/* Every session of the round has gone and every reader
		 * has passed its records: its ring is given back. */
		CHECKF(ts_log_wait_count(s, "gave its ring back", (r + 1) * PER,
					 T_WAIT_MS) == 0,
		       "round %d: rings given back: %d, want %d", r,
		       ts_log_count(s, "gave its ring back"), (r + 1) * PER);
		if (r == 0) {
			first = tree_kb(s->pid, "Pss");
			shm_first = tree_kb(s->pid, "Pss_Shmem");
		}
	}
	last = tree_kb(s->pid, "Pss");
	shm_last = tree_kb(s->pid, "Pss_Shmem");
	CHECK(first > 0 && last > 0 && shm_first > 0 && shm_last > 0);
	/* Each round writes about PER * LINES * PADDING = 190 kB to rings:
	 * kept, the forty rounds would be some 7 MB more than the first. The
	 * rings are the shared memory; the whole is what an operator sees. */
	CHECKF(shm_last < 2 * shm_first,
	       "shared memory %ld kB after the first round, %ld kB after %d",
	       shm_first, shm_last, ROUNDS);
#ifndef __SANITIZE_ADDRESS__
	/* (AddressSanitizer's allocator keeps what is freed for a while: the
	 * heap grows with every round there, whatever the rings do.) */
	CHECKF(last < 2 * first,
	       "PSS %ld kB after the first round, %ld kB "
	       "after %d",
	       first, last, ROUNDS);
#endif
	tc_close(watcher);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];
	int workers = tl_init(argc, argv, "memory", model_args,
			      sizeof(model_args), suite);

	/* Workers are never departed sessions: their rings are theirs for
	 * the server's life (--workers x --outbox-size at most). */
	if (!workers)
		RUN(test_rounds_of_clients_that_come_and_go_leave_no_ring_pages_behind);
	return tl_summary(suite);
}
