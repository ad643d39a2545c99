/*
 * test/testlib.h - helpers shared by the Check suites.
 *
 * A deterministic PRNG (so "every run" means the same run), the allocation
 * wrapper's live-block probe for leak assertions, and the rule for threads:
 * with CK_FORK=no (memcheck, tsan) only the test's own thread may call
 * ck_assert, so worker threads count failures in a struct the test asserts.
 */
#ifndef SSPIASYNC_TEST_TESTLIB_H
#define SSPIASYNC_TEST_TESTLIB_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/alloc.h"

/* xorshift64*: fixed seeds, so each test sees the same sequence every run. */
static inline uint64_t tl_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1du;
}

/* Blocks the library holds right now (leak checks compare before/after). */
static inline uint64_t tl_live_blocks(void)
{
	struct sa_alloc_stats st;
	sa__alloc_stats(&st);
	return st.live_blocks;
}

/* True under Valgrind or another slow runner (set by `make memcheck`): stress
 * tests then do fewer iterations, asserting the same things. */
static inline int tl_slow(void)
{
	const char *v = getenv("SA_TEST_SLOW");
	return v != NULL && v[0] == '1';
}

/* True under Helgrind or DRD (set by test/helgrind.sh): a race detector
 * reports an unordered pair once both accesses ran, however rarely, so
 * spin-heavy stress tests do fewer rounds still, on the same code paths. */
static inline int tl_race_detector(void)
{
	const char *v = getenv("SA_TEST_RACE_DETECTOR");
	return v != NULL && v[0] == '1';
}

/* Hex digits (either case; spaces skipped) into out, room for cap bytes;
 * returns the bytes written.  A bad digit, an odd count or no room fails
 * the test. */
static inline size_t tl_unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t k = 0;
	int hi = -1;
	for (; *s != 0; s++) {
		int d;
		if (*s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			ck_abort_msg("bad hex digit '%c'", *s);
		if (hi < 0) {
			hi = d;
			continue;
		}
		ck_assert_uint_lt(k, cap);
		out[k++] = (uint8_t)(hi << 4 | d);
		hi = -1;
	}
	ck_assert_int_eq(hi, -1);
	return k;
}

/* Run a suite; main returns the failure count. */
static inline int tl_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

#endif /* SSPIASYNC_TEST_TESTLIB_H */
