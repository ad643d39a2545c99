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

/*
 * Every call of sa__malloc/sa__calloc is an allocation site with a static
 * record in the ELF section "sa_alloc_sites" (file, line, counts), so the
 * out-of-memory loops can list every site linked into a program and say
 * which were never failed (`make oomcheck`).  The macros below make the
 * record where they are used; the functions take it.
 */
struct sa_alloc_site {
	const char *file;
	unsigned line;
	_Atomic uint64_t calls;    /* allocations made here */
	_Atomic uint64_t injected; /* of those, failed by the injector */
};

#define SA__ALLOC_SITE()                                                                    \
	__extension__({                                                                     \
		static struct sa_alloc_site sa__site_                                       \
			__attribute__((used, section("sa_alloc_sites"), aligned(16))) = {   \
				__FILE__, __LINE__, 0, 0};                                  \
		&sa__site_;                                                                 \
	})

/* sa__malloc() - malloc(n); NULL on failure or when the fault injector fires.
 * n == 0 is treated as 1, so NULL always means failure. */
#define sa__malloc(n) sa__malloc_at(SA__ALLOC_SITE(), (n))
void *sa__malloc_at(struct sa_alloc_site *site, size_t n);

/* sa__calloc() - calloc(count, n) with overflow check; NULL as sa__malloc(). */
#define sa__calloc(count, n) sa__calloc_at(SA__ALLOC_SITE(), (count), (n))
void *sa__calloc_at(struct sa_alloc_site *site, size_t count, size_t n);

/* The sites linked into this program: [*begin, *end). */
void sa__alloc_sites(struct sa_alloc_site **begin, struct sa_alloc_site **end);

/* sa__strdup() - A copy of the NUL-terminated @s from sa__malloc; NULL as sa__malloc(). */
char *sa__strdup(const char *s);

/* sa__free() - Free a block from sa__malloc/sa__calloc; NULL is a no-op. */
void sa__free(void *p);

/* Overwrite @n bytes at @p with zeros (a secret going away); never optimised out. */
void sa__wipe(void *p, size_t n);

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

/*
 * sa__alloc_largest_reset() - The largest single request (bytes asked of
 * sa__malloc/sa__calloc, granted or not; UINT64_MAX for a calloc whose size
 * overflows) since the previous reset or the start, and a new period begins.
 * For tests that bound what a call asks for.  Context: any thread.
 */
uint64_t sa__alloc_largest_reset(void);

#endif /* SSPIASYNC_UTIL_ALLOC_H */
