/*
 * test/sspi_testlib.h - helpers shared by the SSPI suites (check_sspi_sync.c,
 * check_async.c): the output patterns that prove "untouched", handle and
 * byte comparisons, statistics and allocation counts.
 */
#ifndef SSPIASYNC_TEST_SSPI_TESTLIB_H
#define SSPIASYNC_TEST_SSPI_TESTLIB_H

#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "util/alloc.h"

#define MAX_TOKEN 512
#define SIG_LEN 16
#define PAT 0xA5
#define PAT_WORD ((ULONG_PTR)UINT64_C(0x5A5A5A5A5A5A5A5A))
#define PAT_TIME INT64_C(0x5A5A5A5A5A5A5A5A)
#define PAT_ATTR ((unsigned long)0x5A5A5A5Au)
#define HANDLE_BITS ((unsigned)(sizeof(SecHandle) * CHAR_BIT))

static char pkg_name[] = "SspiAsyncTest";

static inline int handle_eq(const SecHandle *a, const SecHandle *b)
{
	return a->dwLower == b->dwLower && a->dwUpper == b->dwUpper;
}

static inline void handle_pat(SecHandle *h)
{
	h->dwLower = PAT_WORD;
	h->dwUpper = PAT_WORD;
}

static inline int handle_is_pat(const SecHandle *h)
{
	return h->dwLower == PAT_WORD && h->dwUpper == PAT_WORD;
}

static inline int bytes_are(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static inline struct sspiasync_statistics stats(void)
{
	struct sspiasync_statistics s;
	memset(&s, 0xff, sizeof s);
	ck_assert_int_eq(sspiasync_stats(&s), SEC_E_OK);
	return s;
}

/* Allocations the library attempted so far (zero-allocation checks). */
static inline uint64_t alloc_calls(void)
{
	struct sa_alloc_stats st;
	sa__alloc_stats(&st);
	return st.calls;
}

/* Every TCase's teardown: injection off, library shut down (also after a
 * failed assertion, so the next test starts clean). */
static inline void teardown(void)
{
	sa__alloc_fail_at(0);
	sspiasync_shutdown();
}

/* A TCase with that teardown and a timeout (enforced in fork mode). */
static inline TCase *tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

#endif /* SSPIASYNC_TEST_SSPI_TESTLIB_H */
