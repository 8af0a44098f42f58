/*
 * Unit tests for src/server/session_heap: once entered, malloc, calloc,
 * realloc and free serve blocks of every size class and the large ones,
 * keep contents, zero what calloc gives back even when it reuses a
 * block, and still free what glibc allocated before. (Under
 * AddressSanitizer there is no private heap: the tests check nothing.)
 */
#include "server/session_heap.h"

#include "../testlib.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const size_t sizes[] = {
    0,	  1,	15,    16,    17,    100,   1000,
    4080, 4096, 16368, 32752, 32753, 40000, 1u << 20,
};

#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static char *before; /* glibc's, allocated before the heap was entered */
static int entered;

static void
test_blocks_of_every_size_are_aligned_and_keep_their_bytes(void)
{
	char *p[NSIZES];

	if (!entered)
		return;
	for (size_t i = 0; i < NSIZES; i++) {
		p[i] = malloc(sizes[i]);
		CHECKF(p[i] != NULL, "malloc(%zu)", sizes[i]);
		CHECKF(((uintptr_t)p[i] & 15) == 0, "malloc(%zu) aligned",
		       sizes[i]);
		memset(p[i], (int)(i + 1), sizes[i]);
	}
	for (size_t i = 0; i < NSIZES; i++) {
		size_t bad = 0;
		for (size_t j = 0; j < sizes[i]; j++)
			bad += (unsigned char)p[i][j] != (unsigned char)(i + 1);
		CHECKF(bad == 0, "block of %zu: %zu bytes changed", sizes[i],
		       bad);
	}
	for (size_t i = 0; i < NSIZES; i++)
		free(p[i]);
}

static void
test_calloc_zeroes_a_reused_block(void)
{
	if (!entered)
		return;
	for (size_t i = 0; i < NSIZES; i++) {
		char *p = malloc(sizes[i]);
		memset(p, 0xab, sizes[i]);
		free(p);
		char *q = calloc(1, sizes[i]);
		size_t dirty = 0;
		for (size_t j = 0; q && j < sizes[i]; j++)
			dirty += q[j] != 0;
		CHECKF(q && dirty == 0, "calloc(%zu): %zu bytes not zero",
		       sizes[i], dirty);
		free(q);
	}
	volatile size_t huge = SIZE_MAX / 2; /* hidden from the compiler */
	CHECK(calloc(huge, 4) == NULL);
}

static void
test_realloc_grows_and_keeps_the_contents(void)
{
	char *p = NULL;
	size_t n = 0;

	if (!entered)
		return;
	for (size_t i = 1; i < NSIZES; i++) {
		p = realloc(p, sizes[i]);
		REQUIRE(p != NULL);
		for (size_t j = 0; j < n; j++)
			if ((unsigned char)p[j] != (unsigned char)j) {
				CHECKF(0, "realloc to %zu lost byte %zu",
				       sizes[i], j);
				break;
			}
		for (size_t j = n; j < sizes[i]; j++)
			p[j] = (char)j;
		n = sizes[i];
	}
	free(p);
}

static void
test_what_glibc_allocated_before_is_still_freed_and_grown(void)
{
	if (!entered)
		return;
	CHECK(strcmp(before, "from before") == 0);
	before = realloc(before, 100000);
	REQUIRE(before != NULL);
	CHECK(strcmp(before, "from before") == 0);
	free(before);
}

int
main(void)
{
	before = malloc(64);
	strcpy(before, "from before");
	entered = session_heap_enter() == 0;
	RUN(test_blocks_of_every_size_are_aligned_and_keep_their_bytes);
	RUN(test_calloc_zeroes_a_reused_block);
	RUN(test_realloc_grows_and_keeps_the_contents);
	RUN(test_what_glibc_allocated_before_is_still_freed_and_grown);
	return tl_summary("unit_session_heap");
}
