/*
 * src/handles/htable_int.h - private to the library: the handle table's
 * consistency check and its test hooks.  Not installed.
 *
 * The hooks exist so the tests can reach states that would otherwise take
 * 2^32 operations (a generation about to wrap, a saturated reference count,
 * the instance counter or the one-word floor at their limits).  Nothing in
 * the library calls them.
 */
#ifndef SSPIASYNC_HANDLES_HTABLE_INT_H
#define SSPIASYNC_HANDLES_HTABLE_INT_H

#include <stdint.h>
#include <sspiasync/handles.h>

/* The highest generation a slot of each form may carry; the next reuse of
 * the slot issues generation 1 (handles.h: the reuse bound). */
#define SA_HTABLE_GEN_LIMIT_TWO_WORD 0xfffffffeu
#define SA_HTABLE_GEN_LIMIT_ONE_WORD 0x00fffffeu

/*
 * sa__htable_check() - Walk @t and verify its invariants: every slot is free
 * (on the free list exactly once), live or removed-but-held, with a
 * generation in 1..the limit, and the counts add up; a two-word table is on
 * the process's list of live tables, and no other live table has its
 * instance.  Returns SA_OK or SA_EINVAL (and the table is corrupt).
 * Context: takes the process-wide lock, then the table lock (never both);
 * for tests and asserts.
 */
int sa__htable_check(struct sa_htable *t);

/* Slots allocated so far, and recyclings whose generation went from the
 * limit back to 1. Context: takes the lock. */
uint32_t sa__htable_nslots(struct sa_htable *t);
uint32_t sa__htable_wraps(struct sa_htable *t);

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
 * table starts at (1..SA_HTABLE_GEN_LIMIT_ONE_WORD), returning the old floor.
 * Tests that drive a one-word table to the generation limit put the floor
 * back afterwards, so that suites run in one process (CK_FORK=no) stay
 * independent.  Context: tests only; takes the process-wide lock.
 */
uint32_t sa__htable_test_set_oneword_floor(uint32_t floor);

/*
 * sa__htable_test_set_next_instance() - Set the instance the next two-word
 * table tries first (1..2^24 - 1), returning the old value.  From then on
 * the counter counts as wrapped: create skips instances of live tables.
 * Context: tests only; takes the process-wide lock.
 */
uint32_t sa__htable_test_set_next_instance(uint32_t next);

/*
 * sa__htable_test_encode() - A well-formed handle of @t for any @slot and
 * @gen (checks included), as a forger with the key would make: for the
 * tests of the bounds that only such a handle reaches (slot beyond max or
 * beyond the slots made, generation 0 or past the limit).  Context: tests only.
 */
struct sa_handle sa__htable_test_encode(struct sa_htable *t, uint32_t slot, uint32_t gen);

/*
 * sa__htable_test_corrupt() - Break one invariant of @t on purpose, so the
 * tests can show sa__htable_check() notices each kind of damage; @how:
 * SA_HTABLE_CORRUPT_*; the same call with @undo set repairs it.
 * Context: tests only; takes the lock.
 */
enum {
	SA_HTABLE_CORRUPT_NFREE = 1,   /* the free count off by one */
	SA_HTABLE_CORRUPT_UNLISTED,    /* a two-word table missing from the list of live tables */
	SA_HTABLE_CORRUPT_LIVE,        /* the live count off by one */
	SA_HTABLE_CORRUPT_FREE_FLAG,   /* the free list's head not flagged as free */
	SA_HTABLE_CORRUPT_FREE_WORD,   /* the free list's head marked live */
	SA_HTABLE_CORRUPT_FREE_LOOP,   /* the free list's tail pointing at its head */
	SA_HTABLE_CORRUPT_GEN,         /* the free list's head below the generation floor */
	SA_HTABLE_CORRUPT_GEN_HIGH,    /* the free list's head past the generation limit */
};
void sa__htable_test_corrupt(struct sa_htable *t, int how, int undo);

#endif /* SSPIASYNC_HANDLES_HTABLE_INT_H */
