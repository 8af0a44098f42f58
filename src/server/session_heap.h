/*
 * session_heap: a private heap for a fork-model session process. parleyd
 * replaces malloc, calloc, realloc and free; until session_heap_enter()
 * they are glibc's, afterwards (in that session process only) new blocks
 * come from a mapping of its own, so the session never writes the heap
 * pages it shares copy-on-write with the supervisor. Blocks allocated
 * before stay glibc's and are freed there.
 */
#ifndef PARLEY_SESSION_HEAP_H
#define PARLEY_SESSION_HEAP_H

/* Switches this process's malloc to a private heap. Call once, in a
 * single-threaded child right after fork, before it allocates. Returns 0,
 * or -errno (then malloc stays glibc's, which is correct, only larger). */
int session_heap_enter(void);

#endif
