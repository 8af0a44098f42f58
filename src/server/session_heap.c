/*
 * session_heap: malloc for a fork-model session process, from a private
 * mapping (see session_heap.h). Every process runs these functions; they
 * forward to glibc until session_heap_enter(), which only a fork-model
 * session calls. Invariant: a block is ours iff the word before it is
 * SH_MAGIC (glibc's chunk size there never is); anything else is glibc's
 * and goes back to glibc. Single-threaded once entered.
 */
#include "server/session_heap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SH_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SH_SANITIZED 1
#endif

#ifndef SH_SANITIZED

/* glibc's own allocator, under the names it exports for replacements. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

/* Address space only: a page costs memory once written. */
#define SH_RESERVE   ((size_t)256 << 20)
#define SH_MIN_SHIFT 5	/* 32-byte blocks, header included */
#define SH_MAX_SHIFT 15 /* 32 KiB; larger blocks are mappings of their own */
#define SH_CLASSES   (SH_MAX_SHIFT - SH_MIN_SHIFT + 1)
#define SH_MAGIC     0x7061726c65796865ull /* no chunk is this large */
#define SH_PAGE	     4096

/* Before every block; 16 bytes, so the block stays 16-aligned. */
struct sh_hdr {
	uint64_t size; /* the block's bytes, header included */
	uint64_t magic;
};

struct sh_free {
	struct sh_free *next;
};

static int sh_on;
static char *sh_next, *sh_end;
static struct sh_free *sh_lists[SH_CLASSES];

int
session_heap_enter(void)
{
	void *p = mmap(NULL, SH_RESERVE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	sh_next = p;
	sh_end = sh_next + SH_RESERVE;
	sh_on = 1;
	return 0;
}

static struct sh_hdr *
sh_hdr_of(void *p)
{
	struct sh_hdr *h = (struct sh_hdr *)p - 1;

	return h->magic == SH_MAGIC ? h : NULL;
}

/* A block of at least n usable bytes; *fresh: never written (zero). */
static void *
sh_alloc(size_t n, int *fresh)
{
	struct sh_hdr *h;
	unsigned c = 0;

	if (n > ((size_t)1 << SH_MAX_SHIFT) - sizeof(*h)) {
		if (n > SIZE_MAX / 2) {
			errno = ENOMEM;
			return NULL;
		}
		size_t len =
		    (n + sizeof(*h) + SH_PAGE - 1) & ~(size_t)(SH_PAGE - 1);
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		h = m;
		h->size = len;
		*fresh = 1;
	} else {
		while (((size_t)1 << (c + SH_MIN_SHIFT)) - sizeof(*h) < n)
			c++;
		size_t size = (size_t)1 << (c + SH_MIN_SHIFT);
		if (sh_lists[c]) {
			struct sh_free *f = sh_lists[c];
			sh_lists[c] = f->next;
			*fresh = 0;
			return f;
		}
		if ((size_t)(sh_end - sh_next) < size) {
			/* Out of reserve: glibc's heap serves the rest. */
			*fresh = 0;
			return __libc_malloc(n);
		}
		h = (struct sh_hdr *)sh_next;
		sh_next += size;
		h->size = size;
		*fresh = 1;
	}
	h->magic = SH_MAGIC;
	return h + 1;
}

void *
malloc(size_t n)
{
	int fresh;

	if (!sh_on)
		return __libc_malloc(n);
	return sh_alloc(n, &fresh);
}

void *
calloc(size_t n, size_t size)
{
	int fresh;
	void *p;

	if (!sh_on)
		return __libc_calloc(n, size);
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	p = sh_alloc(n * size, &fresh);
	if (p && !fresh) /* fresh pages are zero: leave them untouched */
		memset(p, 0, n * size);
	return p;
}

void
free(void *p)
{
	struct sh_hdr *h;

	if (!p)
		return;
	h = sh_hdr_of(p);
	if (!h) {
		__libc_free(p);
		return;
	}
	if (h->size > ((size_t)1 << SH_MAX_SHIFT)) {
		(void)munmap(h, h->size);
		return;
	}
	unsigned c = 0;
	while (((size_t)1 << (c + SH_MIN_SHIFT)) < h->size)
		c++;
	struct sh_free *f = p;
	f->next = sh_lists[c];
	sh_lists[c] = f;
}

void *
realloc(void *p, size_t n)
{
	struct sh_hdr *h;
	int fresh;

	if (!p)
		return malloc(n);
	h = sh_hdr_of(p);
	if (!h)
		return __libc_realloc(p, n);
	if (n == 0) { /* as glibc does */
		free(p);
		return NULL;
	}
	size_t usable = h->size - sizeof(*h);
	if (n <= usable)
		return p;
	void *q = sh_alloc(n, &fresh);
	if (!q)
		return NULL;
	memcpy(q, p, usable);
	free(p);
	return q;
}

#else /* AddressSanitizer brings its own malloc: leave it alone. */

int
session_heap_enter(void)
{
	return -ENOSYS;
}

#endif
