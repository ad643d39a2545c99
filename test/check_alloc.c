/*
 * test/check_alloc.c - the allocation wrapper's suite: the fault injector
 * fails exactly the k-th allocation once, and the live counters are exact.
 */
#include "testlib.h"
#include "util/alloc.h"
#include "util/lock.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

START_TEST(test_alloc_fail_at_fails_exactly_the_kth)
{
	struct sa_alloc_stats before, after;
	sa__alloc_stats(&before);
	void *p[5];
	sa__alloc_fail_at(3);
	for (int i = 0; i < 5; i++)
		p[i] = sa__malloc(10);
	ck_assert_ptr_nonnull(p[0]);
	ck_assert_ptr_nonnull(p[1]);
	ck_assert_ptr_null(p[2]);
	ck_assert_ptr_nonnull(p[3]); /* once only */
	ck_assert_ptr_nonnull(p[4]);
	sa__alloc_stats(&after);
	ck_assert_uint_eq(after.calls - before.calls, 5);
	ck_assert_uint_eq(after.failed - before.failed, 1);
	ck_assert_uint_eq(after.live_blocks - before.live_blocks, 4);
	ck_assert_uint_eq(after.live_bytes - before.live_bytes, 40);
	for (int i = 0; i < 5; i++)
		sa__free(p[i]);
	sa__alloc_stats(&after);
	ck_assert_uint_eq(after.live_blocks, before.live_blocks);
	ck_assert_uint_eq(after.live_bytes, before.live_bytes);
}
END_TEST

START_TEST(test_alloc_fail_at_zero_disarms)
{
	sa__alloc_fail_at(2);
	sa__alloc_fail_at(0);
	void *a = sa__malloc(1), *b = sa__malloc(1);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	sa__free(a);
	sa__free(b);
}
END_TEST

START_TEST(test_alloc_calloc_zeroes_and_checks_overflow)
{
	unsigned char *p = sa__calloc(7, 9);
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 63; i++)
		ck_assert_uint_eq(p[i], 0);
	sa__free(p);
	ck_assert_ptr_null(sa__calloc(SIZE_MAX / 2, 3));
	ck_assert_ptr_null(sa__malloc(SIZE_MAX - 4));
	sa__free(NULL);
	void *z = sa__malloc(0); /* 0 means 1: NULL only on failure */
	ck_assert_ptr_nonnull(z);
	sa__free(z);
}
END_TEST

/* SA_LOCK/SA_UNLOCK lock and unlock in every build; with SA_DEBUG_LOCKS
 * (make asan, make tsan) the thread's record says what it holds, which is
 * what SA_ASSERT_HELD asserts in every _locked helper. */
START_TEST(test_lock_record_follows_the_thread_s_mutexes)
{
	pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
	SA_LOCK(&a);
	SA_LOCK(&b);
	ck_assert_int_eq(pthread_mutex_trylock(&a), EBUSY);
	SA_ASSERT_HELD(&a);
	SA_ASSERT_HELD(&b);
#ifdef SA_DEBUG_LOCKS
	ck_assert(sa__lock_held(&a) && sa__lock_held(&b));
	SA_UNLOCK(&a); /* out of order: the record keeps b */
	ck_assert(!sa__lock_held(&a) && sa__lock_held(&b));
#else
	SA_UNLOCK(&a);
#endif
	ck_assert_int_eq(pthread_mutex_trylock(&a), 0);
	SA_UNLOCK(&b);
	pthread_mutex_unlock(&a);
#ifdef SA_DEBUG_LOCKS
	ck_assert(!sa__lock_held(&a) && !sa__lock_held(&b));
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("inject");
	tcase_add_test(tc, test_alloc_fail_at_fails_exactly_the_kth);
	tcase_add_test(tc, test_alloc_fail_at_zero_disarms);
	tcase_add_test(tc, test_alloc_calloc_zeroes_and_checks_overflow);
	suite_add_tcase(s, tc);
	tc = tcase_create("locks");
	tcase_add_test(tc, test_lock_record_follows_the_thread_s_mutexes);
	suite_add_tcase(s, tc);
	return tl_run_suite(s);
}
