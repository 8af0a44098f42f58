/*
 * test_session_memory: what an idle fork-model session process keeps of
 * its own (issue 17). Its mallocs come from a heap of its own
 * (src/server/session_heap.c), so the glibc heap it inherited from the
 * supervisor stays shared: of that mapping it owns only the pages the
 * supervisor rewrote after the fork, not a copy of every page its
 * allocations would have landed in.
 */
#include "../testlib.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENTS 20
/* The last of 20 sessions owned 32 kB of [heap] before it had a heap of
 * its own, 16 kB (the supervisor's writes after the fork) since. */
#define HEAP_PRIVATE_MAX_KB 24

static char model_args[256];

#ifdef __SANITIZE_ADDRESS__
static const int sanitized = 1;
#else
static const int sanitized = 0;
#endif

/* Private_Dirty of pid's [heap] mapping(s), in kB, or -1. */
static long
heap_private_kb(pid_t pid)
{
	char path[64], line[512];
	int in_heap = 0;
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* A mapping's first line starts with its address ("start-end
		 * perms offset dev inode [name]"); its fields ("Key: value
		 * kB") with a capital. */
		if (!isupper((unsigned char)line[0]))
			in_heap = strstr(line, "[heap]") != NULL;
		else if (in_heap && strncmp(line, "Private_Dirty:", 14) == 0)
			kb = (kb < 0 ? 0 : kb) + strtol(line + 14, NULL, 10);
	}
	fclose(f);
	return kb < 0 ? 0 : kb;
}

static void
test_an_idle_session_owns_almost_none_of_the_heap_it_inherited(void)
{
	struct ts_server *s = ts_start_model(model_args, "--max-per-address 0");
	int fd[CLIENTS];
	pid_t kids[CLIENTS + 8];

	REQUIRE(s);
	for (int i = 0; i < CLIENTS; i++) {
		fd[i] = tc_join(s->port, NULL, 0);
		CHECKF(fd[i] >= 0, "client %d did not join", i);
	}
	/* The newest process is the last client's session. */
	int n = ts_children(s->pid, kids, CLIENTS + 8);
	pid_t newest = 0;
	for (int i = 0; i < n; i++)
		if (kids[i] > newest)
			newest = kids[i];
	REQUIRE(newest > 0);
	long kb = heap_private_kb(newest);
	CHECKF(kb >= 0 && kb <= HEAP_PRIVATE_MAX_KB,
	       "session %d owns %ld kB of [heap] (at most %d)", (int)newest, kb,
	       HEAP_PRIVATE_MAX_KB);
	for (int i = 0; i < CLIENTS; i++)
		tc_close(fd[i]);
	ts_free(s);
}

int
main(int argc, char **argv)
{
	char suite[64];
	int workers = tl_init(argc, argv, "session_memory", model_args,
			      sizeof(model_args), suite);

	/* A worker's heap is its own anyway; AddressSanitizer brings its
	 * own allocator, and parleyd then has no session heap. */
	if (!workers && !sanitized)
		RUN(test_an_idle_session_owns_almost_none_of_the_heap_it_inherited);
	return tl_summary(suite);
}
