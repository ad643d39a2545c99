/*
 * src/handles/htable_int.h - private to the library: the handle table's
 * consistency check and its test hooks.  Not installed.
 *
 * The hooks exist so the tests can reach states that would otherwise take
 * 2^32 operations (a generation about to wrap, a saturated reference count).
 * Nothing in the library calls them.
 */
#ifndef SSPIASYNC_HANDLES_HTABLE_INT_H
#define SSPIASYNC_HANDLES_HTABLE_INT_H

#include <stdint.h>
#include <sspiasync/handles.h>

/* The highest generation a slot of each form may carry; the next reuse retires it. */
#define SA_HTABLE_GEN_LIMIT_TWO_WORD 0xfffffffeu
#define SA_HTABLE_GEN_LIMIT_ONE_WORD 0x00fffffeu

/*
 * sa__htable_check() - Walk @t and verify its invariants: every slot is free
 * (on the free list exactly once), live, removed-but-held or retired, and the
 * counts add up.  Returns SA_OK or SA_EINVAL (and the table is corrupt).
 * Context: takes the table lock; for tests and asserts.
 */
int sa__htable_check(struct sa_htable *t);

/* Slots allocated so far, and slots retired for good. Context: takes the lock. */
uint32_t sa__htable_nslots(struct sa_htable *t);
uint32_t sa__htable_retired(struct sa_htable *t);

/*
 * sa__htable_test_set_free_generation() - Give every slot now on the free
 * list generation @gen (1..the form's limit), as if each had been reused
 * gen - 1 times.  Context: tests only; takes the table lock.
 */
void sa__htable_test_set_free_generation(struct sa_htable *t, uint32_t gen);

/*
 * sa__htable_test_add_refs() - Add @delta (may be negative) to the reference
 * count of the live entry @h, without any other effect.  Returns SA_OK or
 * SA_EBADHANDLE.  Context: tests only (saturating the count).
 */
int sa__htable_test_add_refs(struct sa_htable *t, struct sa_handle h, int64_t delta);

/*
 * sa__htable_test_set_oneword_floor() - Set the generation the next one-word
 * table starts at, returning the old floor.  Tests that drive a one-word
 * table to the generation limit put the floor back afterwards, so that suites
 * run in one process (CK_FORK=no) stay independent.  Context: tests only.
 */
uint32_t sa__htable_test_set_oneword_floor(uint32_t floor);

#endif /* SSPIASYNC_HANDLES_HTABLE_INT_H */
