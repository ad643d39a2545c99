/*
 * src/util/alloc.h - the one allocation wrapper every allocation in the
 * library goes through (private to the library; not installed).
 *
 * What it is: malloc/calloc/free with a 16-byte header that records the
 * size, so the library can report its live blocks and bytes, and a fault
 * injector that fails the k-th allocation from now (for the OOM loops of the
 * tests).  What it is not: a pool or a cache; it calls the C library.
 * Thread safety: every function may be called from any thread; the counters
 * are relaxed atomics (exact once the threads that allocate have joined).
 */
#ifndef SSPIASYNC_UTIL_ALLOC_H
#define SSPIASYNC_UTIL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* sa__malloc() - malloc(n); NULL on failure or when the fault injector fires.
 * n == 0 is treated as 1, so NULL always means failure. */
void *sa__malloc(size_t n);

/* sa__calloc() - calloc(count, n) with overflow check; NULL as sa__malloc(). */
void *sa__calloc(size_t count, size_t n);

/* sa__free() - Free a block from sa__malloc/sa__calloc; NULL is a no-op. */
void sa__free(void *p);

/*
 * sa__alloc_fail_at() - Make the k-th allocation from now fail (k >= 1), once;
 * k == 0 turns the injector off.  Failures counted by sa__alloc_stats().
 * Context: tests; the count is process-wide, so arm it only while one thread
 * allocates, or accept that any thread's allocation may be the k-th.
 */
void sa__alloc_fail_at(uint64_t k);

struct sa_alloc_stats {
	uint64_t calls;       /* allocations attempted since start */
	uint64_t failed;      /* of those, failed by the injector or the C library */
	uint64_t live_blocks; /* blocks allocated and not yet freed */
	uint64_t live_bytes;  /* their requested sizes, summed */
};

/* sa__alloc_stats() - A snapshot of the counters. Context: any thread. */
void sa__alloc_stats(struct sa_alloc_stats *out);

#endif /* SSPIASYNC_UTIL_ALLOC_H */
