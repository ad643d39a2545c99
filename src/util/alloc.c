/*
 * src/util/alloc.c - the allocation wrapper (see alloc.h for the contract).
 *
 * Each block is preceded by a header of 16 bytes (max_align_t's alignment on
 * the platforms we target) that holds its size, so sa__free() can keep the
 * live byte count exact.  The fault injector is a countdown: 0 is off, k > 0
 * means "the k-th allocation from now fails".
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "util/alloc.h"

#include <string.h>

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

#define HDR_SIZE 16u
_Static_assert(HDR_SIZE >= sizeof(size_t), "header holds the size");
_Static_assert(HDR_SIZE % alignof(max_align_t) == 0, "header keeps malloc's alignment");

static _Atomic uint64_t fail_countdown; /* 0 = off */
static _Atomic uint64_t n_calls;
static _Atomic uint64_t n_failed;
static _Atomic uint64_t n_live_blocks;
static _Atomic uint64_t n_live_bytes;
static _Atomic uint64_t n_largest; /* since sa__alloc_largest_reset() */

/* Raise n_largest to @n if it is smaller. */
static void alloc_note_size(uint64_t n)
{
	uint64_t big = atomic_load_explicit(&n_largest, memory_order_relaxed);
	while (n > big && !atomic_compare_exchange_weak_explicit(&n_largest, &big, n,
								 memory_order_relaxed,
								 memory_order_relaxed))
		;
}

/* True when the injector says this allocation fails.  Only a thread that
 * takes the countdown from 1 to 0 fails, so one arming fails one call. */
static int alloc_injected_failure(void)
{
	uint64_t c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
	while (c != 0) {
		if (atomic_compare_exchange_weak_explicit(&fail_countdown, &c, c - 1,
							  memory_order_relaxed, memory_order_relaxed))
			return c == 1;
	}
	return 0;
}

void *sa__malloc_at(struct sa_alloc_site *site, size_t n)
{
	atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&site->calls, 1, memory_order_relaxed);
	if (n == 0)
		n = 1;
	alloc_note_size(n);
	unsigned char *p = NULL;
	if (alloc_injected_failure())
		atomic_fetch_add_explicit(&site->injected, 1, memory_order_relaxed);
	else if (n <= SIZE_MAX - HDR_SIZE)
		p = malloc(HDR_SIZE + n);
	if (p == NULL) {
		atomic_fetch_add_explicit(&n_failed, 1, memory_order_relaxed);
		return NULL;
	}
	*(size_t *)(void *)p = n;
	atomic_fetch_add_explicit(&n_live_blocks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&n_live_bytes, n, memory_order_relaxed);
	return p + HDR_SIZE;
}

void *sa__calloc_at(struct sa_alloc_site *site, size_t count, size_t n)
{
	if (n != 0 && count > SIZE_MAX / n) {
		atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&site->calls, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&n_failed, 1, memory_order_relaxed);
		alloc_note_size(UINT64_MAX);
		return NULL;
	}
	size_t total = count * n;
	unsigned char *p = sa__malloc_at(site, total);
	if (p != NULL) {
		for (size_t i = 0; i < total; i++)
			p[i] = 0;
	}
	return p;
}

void sa__free(void *p)
{
	if (p == NULL)
		return;
	unsigned char *base = (unsigned char *)p - HDR_SIZE;
	size_t n = *(size_t *)(void *)base;
	atomic_fetch_sub_explicit(&n_live_blocks, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&n_live_bytes, n, memory_order_relaxed);
	free(base);
}

void sa__alloc_fail_at(uint64_t k)
{
	atomic_store_explicit(&fail_countdown, k, memory_order_relaxed);
}

void sa__alloc_stats(struct sa_alloc_stats *out)
{
	out->calls = atomic_load_explicit(&n_calls, memory_order_relaxed);
	out->failed = atomic_load_explicit(&n_failed, memory_order_relaxed);
	out->live_blocks = atomic_load_explicit(&n_live_blocks, memory_order_relaxed);
	out->live_bytes = atomic_load_explicit(&n_live_bytes, memory_order_relaxed);
}

uint64_t sa__alloc_largest_reset(void)
{
	return atomic_exchange_explicit(&n_largest, 0, memory_order_relaxed);
}

/* The linker brackets a section whose name is a C identifier with these.
 * Weak: a program whose objects hold no allocation site (the SPNEGO
 * codec's replay without the oracle) has no such section, and both are
 * then NULL, an empty range. */
extern struct sa_alloc_site __start_sa_alloc_sites[] __attribute__((weak));
extern struct sa_alloc_site __stop_sa_alloc_sites[] __attribute__((weak));

void sa__alloc_sites(struct sa_alloc_site **begin, struct sa_alloc_site **end)
{
	*begin = __start_sa_alloc_sites;
	*end = __stop_sa_alloc_sites;
}

char *sa__strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = sa__malloc(n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void sa__wipe(void *p, size_t n)
{
	if (n != 0)
		explicit_bzero(p, n);
}
