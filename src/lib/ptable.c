/*
 * ptable: zeroed, fork-private tables (see ptable.h). A table is whole
 * pages of its own mapping; the pages cost memory only once written.
 */
#include "lib/ptable.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

static size_t
ptable_len(size_t n, size_t size)
{
	size_t bytes = n * size;

	if (bytes == 0)
		bytes = 1;
	return (bytes + 4095) & ~(size_t)4095;
}

void *
ptable_alloc(size_t n, size_t size)
{
	if (size && n > (SIZE_MAX - 4096) / size) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = ptable_len(n, size);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Without it the table is merely shared with children as before. */
	(void)madvise(p, len, MADV_DONTFORK);
	return p;
}

void
ptable_free(void *p, size_t n, size_t size)
{
	if (p)
		(void)munmap(p, ptable_len(n, size));
}

void *
ptable_calloc(size_t n, size_t size)
{
	if (size == 0 || n >= PTABLE_MIN / size)
		return ptable_alloc(n, size);
	return calloc(n, size);
}

void
ptable_cfree(void *p, size_t n, size_t size)
{
	if (size == 0 || n >= PTABLE_MIN / size)
		ptable_free(p, n, size);
	else
		free(p);
}
