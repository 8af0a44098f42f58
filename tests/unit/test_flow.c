/*
 * Unit tests for src/server/flow: the room rule, the FIFO of marks (never
 * frees a record early, stays small), the reader table (publish, marked
 * out by the supervisor, rejoin, the least position), the wake-up when a
 * reader crosses flow_want, and a reader racing the supervisor's stall
 * mark across a real fork.
 */
#include "server/flow.h"

#include "../testlib.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define RING (1u << 18)

static void
test_room_keeps_a_record_of_margin_below_what_readers_have_read(void)
{
	static const struct {
		uint64_t free_from, head;
		size_t bytes;
		int room;
	} rows[] = {
	    {0, 0, RING - OUTBOX_REC_MAX, 1},
	    {0, 0, RING - OUTBOX_REC_MAX + 1, 0},
	    {1000, RING, 1, 0},
	    {OUTBOX_REC_MAX + 1000, RING, 1000, 1},
	    {OUTBOX_REC_MAX + 1000, RING, 1001, 0},
	    {RING, RING, RING - OUTBOX_REC_MAX, 1},
	    {5 * RING, 5 * RING + 100, RING - OUTBOX_REC_MAX - 100, 1},
	    {5 * RING, 5 * RING + 100, RING - OUTBOX_REC_MAX - 99, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKF(flow_room(rows[i].free_from, RING, rows[i].head,
				 rows[i].bytes) == rows[i].room,
		       "row %zu", i);
}

static void
test_fifo_frees_a_mark_only_once_every_reader_has_passed_its_entry(void)
{
	struct flow_fifo f;

	memset(&f, 0, sizeof(f));
	flow_fifo_push(&f, 10, 1000, 100);
	flow_fifo_push(&f, 20, 2000, 100);
	flow_fifo_push(&f, 30, 3000, 100);
	CHECK(flow_fifo_free(&f, 10) == 0);    /* entry 10 not yet read */
	CHECK(flow_fifo_free(&f, 11) == 1000); /* read: its records free */
	CHECK(flow_fifo_free(&f, 25) == 2000);
	CHECK(flow_fifo_need(&f, 2000) == 0); /* already free */
	CHECK(flow_fifo_need(&f, 2500) == 31);
	CHECK(flow_fifo_need(&f, 3001) == 0); /* not marked yet */
	CHECK(flow_fifo_free(&f, 1000) == 3000);
	CHECK(f.n == 0);
}

static void
test_fifo_merges_close_marks_into_the_newest_never_freeing_early(void)
{
	struct flow_fifo f;
	uint64_t tl = 0, head = 0;

	memset(&f, 0, sizeof(f));
	/* A mark every 10 bytes, grain 1000: the FIFO holds a few marks
	 * per grain, however many come. */
	for (int i = 0; i < 100000; i++)
		flow_fifo_push(&f, tl++, head += 10, 1000);
	CHECK(f.n <= 2 * (head / 1000) + 2 || f.n == FLOW_FIFO_MAX);
	CHECK(f.n <= FLOW_FIFO_MAX);
	/* Whatever was merged, a mark is freed no earlier than its entry
	 * is passed: the bytes free at position t are at most those of
	 * marks below t. */
	for (uint64_t t = 0; t <= tl; t += 997) {
		uint64_t ff = flow_fifo_free(&f, t);
		CHECKF(ff <= t * 10, "freed %llu bytes at entry %llu",
		       (unsigned long long)ff, (unsigned long long)t);
	}
	CHECK(flow_fifo_free(&f, tl) == head - 10 || f.n <= 1);
	CHECK(flow_fifo_free(&f, tl + 1) == head);
}

static int
t_shm(struct outbox_shm *shm, unsigned nreaders)
{
	return outbox_shm_create_readers(shm, 3, nreaders, RING, RING, 16);
}

static void
t_advance_timeline(struct outbox_shm *shm, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		outbox_timeline_append(shm, 1, i ? (i - 1) * 8 : 0, i * 8);
}

static void
test_readers_publish_and_the_least_live_one_counts(void)
{
	struct outbox_shm shm;
	struct flow_reader a, b;
	unsigned char open[4] = {1, 1, 0, 0};

	REQUIRE(t_shm(&shm, 4) == 0);
	t_advance_timeline(&shm, 10);
	/* Every slot starts out: nobody is waited for. */
	CHECK(flow_min(&shm, open) == 10);
	flow_slot_open(&shm, 0, 4);
	flow_slot_open(&shm, 1, 6);
	flow_reader_init(&a, &shm, 0, -1);
	flow_reader_init(&b, &shm, 1, -1);
	CHECK(flow_min(&shm, open) == 4);
	CHECK(flow_reader_publish(&a, 9) == 0);
	CHECK(flow_min(&shm, open) == 6);
	/* A slot the supervisor does not count is not waited for. */
	open[1] = 0;
	CHECK(flow_min(&shm, open) == 9);
	open[1] = 1;
	/* Marked out only if it has not moved since it was seen. */
	CHECK(flow_slot_stall(&shm, 1, 5) == 0);
	CHECK(flow_slot_stall(&shm, 1, 6) == 1);
	CHECK(flow_min(&shm, open) == 9);
	CHECK(flow_reader_is_out(&b));
	/* Once out, it cannot publish itself back in... */
	CHECK(flow_reader_publish(&b, 7) == -ESTALE);
	CHECK(flow_reader_publish(&b, 6) == -ESTALE);
	CHECK(flow_min(&shm, open) == 9);
	/* ... only rejoin at the present. */
	CHECK(flow_reader_rejoin(&b) == 10);
	CHECK(!flow_reader_is_out(&b));
	CHECK(flow_min(&shm, open) == 9);
	flow_reader_leave(&a);
	CHECK(flow_min(&shm, open) == 10);
	flow_slot_close(&shm, 1);
	CHECK(flow_reader_publish(&b, 10) == -ESTALE);
	outbox_shm_destroy(&shm);
}

static int
t_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

static void
test_a_reader_crossing_flow_want_wakes_the_supervisor_once(void)
{
	struct outbox_shm shm;
	struct flow_reader r;
	int fd = eventfd(0, EFD_NONBLOCK);
	uint64_t n;

	REQUIRE(fd >= 0);
	REQUIRE(t_shm(&shm, 1) == 0);
	t_advance_timeline(&shm, 100);
	flow_slot_open(&shm, 0, 0);
	flow_reader_init(&r, &shm, 0, fd);
	flow_want_set(&shm, 50);
	CHECK(flow_reader_publish(&r, 49) == 0);
	CHECK(!t_readable(fd)); /* below the want */
	CHECK(flow_reader_publish(&r, 60) == 0);
	CHECK(t_readable(fd)); /* crossed it */
	CHECK(read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n) && n == 1);
	CHECK(flow_reader_publish(&r, 70) == 0);
	CHECK(!t_readable(fd)); /* past it already */
	flow_want_set(&shm, 0);
	CHECK(flow_reader_publish(&r, 90) == 0);
	CHECK(!t_readable(fd)); /* nobody waits */
	close(fd);
	outbox_shm_destroy(&shm);
}

/* A child publishes 1, 2, 3, ... while this process marks it out when it
 * sees it; exactly one of them wins, and what the child last published is
 * exactly what the mark saw. */
static void
test_a_reader_racing_the_stall_mark_across_fork_loses_cleanly(void)
{
	struct outbox_shm shm;
	int fds[2];

	REQUIRE(t_shm(&shm, 1) == 0);
	REQUIRE(pipe(fds) == 0);
	flow_slot_open(&shm, 0, 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct flow_reader r;
		uint64_t last = 0;
		flow_reader_init(&r, &shm, 0, -1);
		for (uint64_t p = 1; p < (1ull << 40); p++) {
			if (flow_reader_publish(&r, p) < 0)
				break;
			last = p;
		}
		(void)!write(fds[1], &last, sizeof(last));
		_exit(0);
	}
	uint64_t seen = 0, last = 0;
	/* Let it run a little, then mark it out at what it shows. */
	while ((seen = flow_slot_load(&shm, 0)) < 100000)
		;
	while (!flow_slot_stall(&shm, 0, seen = flow_slot_load(&shm, 0)))
		;
	CHECK(read(fds[0], &last, sizeof(last)) == (ssize_t)sizeof(last));
	CHECKF(last == seen, "child published %llu, the mark saw %llu",
	       (unsigned long long)last, (unsigned long long)seen);
	CHECK(flow_slot_load(&shm, 0) == (seen | OUTBOX_READER_OUT));
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	close(fds[0]);
	close(fds[1]);
	outbox_shm_destroy(&shm);
}

int
main(void)
{
	RUN(test_room_keeps_a_record_of_margin_below_what_readers_have_read);
	RUN(test_fifo_frees_a_mark_only_once_every_reader_has_passed_its_entry);
	RUN(test_fifo_merges_close_marks_into_the_newest_never_freeing_early);
	RUN(test_readers_publish_and_the_least_live_one_counts);
	RUN(test_a_reader_crossing_flow_want_wakes_the_supervisor_once);
	RUN(test_a_reader_racing_the_stall_mark_across_fork_loses_cleanly);
	return tl_summary("unit_flow");
}
