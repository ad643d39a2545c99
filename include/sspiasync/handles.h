/*
 * sspiasync/handles.h - generation-counted handle tables.
 *
 * A table maps an opaque handle to an object pointer.  A handle is never a
 * pointer: it encodes (kind, table instance, slot, generation) plus a keyed
 * check word and a parity bit, so a stale, forged, zeroed, bit-flipped or
 * wrong-kind handle is rejected (SA_EBADHANDLE) and nothing behind it is read.
 * This header knows nothing of SSPI; the invariants live above struct
 * sa_htable in src/handles/htable.c, each naming its test.
 *
 * Two handle forms, chosen when the table is created:
 *
 *   two-word (CtxtHandle, CredHandle), 64-bit:
 *     lower = kind:8 | instance:24 | slot:32
 *     upper = generation:32 | check:31 | parity:1
 *
 *   one-word (SspiAsyncContext *), 64-bit, kind implied by the table:
 *     lower = slot:24 | generation:24 | check:15 | parity:1,  upper = 0
 *
 * check is a keyed mix of every other bit (per-process random key, mixed
 * with the table's serial number: every table in the process has its own
 * key); parity makes the total parity of the handle even, so every
 * single-bit flip is caught.  No word a table issues is ever 0, all-ones or
 * -2 (Microsoft's SEC_DELETED_HANDLE): generations 0 and all-ones are never
 * used.
 *
 * Reuse bound.  No use, however long, exhausts a table or the process, and a
 * released value comes back only this late:
 *  - Within a table, a slot's generation runs 1, 2, ..., L and then 1 again
 *    (L = 16,777,214 one-word, 4,294,967,294 two-word): a (slot, generation)
 *    value is issued again only at the L-th reuse of its slot.  Free slots
 *    are reused oldest first, so with n slots in turn that is n * L inserts.
 *  - Across tables: the check key comes from a 64-bit serial number that
 *    never repeats; two-word instances run 1 .. 2^24 - 1 and then start
 *    again, skipping instances of tables still alive (SA_ENOSPC only if all
 *    2^24 - 1 are alive at once); a one-word table starts above the highest
 *    generation issued by the one-word tables destroyed before it, at 1 once
 *    that passes L.  So a value of a destroyed table that a later table could
 *    issue again passes that table's check only with probability 2^-31
 *    (two-word) or 2^-15 (one-word), and is then accepted only if it names a
 *    live slot of that generation.
 * Measured (plain -O2, one thread of an AMD EPYC): ~20 M insert/remove
 * cycles per second on one slot, so one slot wraps every 0.8 s (one-word) or
 * 3.6 min (two-word) of nonstop churn; a year of it (~6e14 cycles), or of
 * table create/destroy (~10 M/s), leaves every table and sa_htable_create()
 * working.
 *
 * Why the one-word check is 15 bits, not 31 (issue 19, item 13): 64 bits
 * hold slot + generation + check + parity.  The slot needs 24 (2^23 async
 * contexts and 2^23 completion queues share one slot space, as one-word
 * handles carry no kind).  A 31-bit check would leave the generation 8 bits:
 * 254 generations, so a value would come back at the 254th reuse of its slot
 * (28 us of churn at 9 M SspiCreateAsyncContext/SspiFreeAsyncContext per
 * second), and then be the new entry's exact value: within one table no
 * check can tell a stale value from the live one, only the generation can.
 * So the generation keeps 24 bits (the reuse bound above) and the check 15,
 * which gives: a random word is accepted with probability at most 2^-16
 * (check and parity) times the fraction of (slot, generation) pairs that are
 * live (at most 2^24 of 2^48, so at most 2^-40 in all); every single-bit flip
 * is rejected (parity); a deliberate forgery of a value whose slot and
 * generation are known (a neighbour's) takes 2^14 guesses on average, 2^15 at
 * most (issue 19 found one in ~50,000), each wrong one rejected with
 * SA_EBADHANDLE and no side effect.  The check guards against mistakes
 * (stale, corrupted, random values), not against code in the same process,
 * which can read the objects directly.  Credential and context handles
 * (two-word) keep 31 bits: 2^30 guesses on average.
 */
#ifndef SSPIASYNC_HANDLES_H
#define SSPIASYNC_HANDLES_H

#include <stdint.h>
#include <sspiasync/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SA_MUST_CHECK __attribute__((warn_unused_result))
#else
#define SA_MUST_CHECK
#endif

/* A handle as two words, laid out like Microsoft's SecHandle {dwLower, dwUpper}. */
struct sa_handle {
	uintptr_t lower;
	uintptr_t upper;
};

struct sa_htable;

/* Runs exactly once per inserted object, when it is removed and its last
 * reference is released.  It must only free memory: it runs on whichever
 * thread drops the last reference (inside sa_htable_remove or
 * sa_htable_release), with no table lock held. */
typedef void (*sa_htable_dtor_fn)(void *obj, void *arg);

enum sa_htable_form {
	SA_HTABLE_TWO_WORD = 1, /* {lower, upper}: kind, instance, slot, generation */
	SA_HTABLE_ONE_WORD = 2, /* {lower, 0}: slot, generation; kind implied */
};

#define SA_HTABLE_DEFAULT_MAX (1u << 20)
#define SA_HTABLE_MAX_TWO_WORD 0xffffffffu /* slot field: 32 bits */
#define SA_HTABLE_MAX_ONE_WORD 0x00ffffffu /* slot field: 24 bits */

struct sa_htable_config {
	uint8_t kind;                /* 1..254, chosen by the creator; 0 and 255 are refused */
	enum sa_htable_form form;    /* SA_HTABLE_TWO_WORD or SA_HTABLE_ONE_WORD */
	uint32_t max_entries;        /* 0 = SA_HTABLE_DEFAULT_MAX; at most the form's maximum */
	sa_htable_dtor_fn dtor;      /* may be NULL (nothing to free) */
	void *dtor_arg;              /* passed to dtor */
	uint32_t slot_base;          /* one-word only: handles number slots from here
				      * (slot_base + max_entries <= SA_HTABLE_MAX_ONE_WORD + 1).
				      * One-word handles carry no kind, so two one-word
				      * tables alive together with disjoint ranges can
				      * never issue the same word; 0 for two-word tables */
	uint8_t dense;               /* 0: each slot on a cache line of its own (64 bytes), so
				      * handles used on different threads never share one;
				      * 1: slots packed (24 bytes): less memory, for a table
				      * whose handles are mostly used under one lock of the
				      * caller's (adjacent slots may then share a line) */
};

/*
 * sa_htable_create() - Make an empty table.
 * Returns SA_OK and sets *out; SA_EINVAL (NULL argument, kind 0 or 255,
 * unknown form, max_entries above the form's maximum, bad slot_base);
 * SA_ENOMEM; SA_ENOSPC only when 2^24 - 1 two-word tables are alive at once
 * (every instance in use).  Creating and destroying tables never uses
 * anything up: instances and the one-word generation floor wrap (see the
 * reuse bound above).  On failure *out is untouched.
 * Context: any thread; allocates; takes a process-wide lock (a leaf lock,
 * held across fork() so that a child can create tables at once).
 */
SA_MUST_CHECK int sa_htable_create(const struct sa_htable_config *cfg, struct sa_htable **out);

/*
 * sa_htable_destroy() - Free an empty table.
 * Returns SA_OK; SA_EBUSY, and the table stays usable and untouched, while it
 * has live entries (inserted and not yet destroyed: removed entries whose last
 * reference is still held count as live).  NULL is a no-op returning SA_OK.
 * Handles of a destroyed table stay invalid in any later table except with
 * the probability the reuse bound above states: the later table has its own
 * key, and a two-word instance is reused only once the counter has gone
 * round all 2^24 - 1 instances.
 * Context: no other thread may use the table during or after the call;
 * takes the process-wide lock.
 */
SA_MUST_CHECK int sa_htable_destroy(struct sa_htable *t);

/*
 * sa_htable_insert() - Add @obj (non-NULL) and return its new handle.
 * Returns SA_OK and sets *h; SA_EINVAL (NULL t, obj or h); SA_ENOSPC (the
 * table holds max_entries slots, none free); SA_ENOMEM (growing the slot
 * array failed).  On failure *h and the table are unchanged.  The oldest
 * free slot is reused first (FIFO), with its next generation (1 again after
 * the limit: a slot is never refused for its age).
 * Context: any thread; takes the table lock; O(1); may allocate a chunk.
 */
SA_MUST_CHECK int sa_htable_insert(struct sa_htable *t, void *obj, struct sa_handle *h);

/*
 * sa_htable_acquire() - Find the object behind @h and take a reference to it.
 * Returns SA_OK and sets *obj; or SA_EBADHANDLE (zero, forged, bit-flipped,
 * wrong-kind, other-table or removed handle) and leaves *obj
 * untouched; or SA_EBUSY if the entry already has 2^31 - 1 references.
 * A handle whose check, parity, kind, instance or reserved bits do not match
 * is rejected before any slot is read.  A rejection writes no shared memory.
 * Context: any thread; lock-free; never blocks, never allocates.
 * Ownership: *obj stays alive until the matching sa_htable_release().
 */
SA_MUST_CHECK int sa_htable_acquire(struct sa_htable *t, struct sa_handle h, void **obj);

/*
 * sa_htable_release() - Drop a reference taken by sa_htable_acquire(@h).
 * If the entry was removed and this was its last reference, runs the
 * destructor and recycles the slot (taking the table lock for that step).
 * Calling it without a matching successful acquire is a bug (asserted).
 * Context: any thread; lock-free unless it drops the last reference of a
 * removed entry.
 */
void sa_htable_release(struct sa_htable *t, struct sa_handle h);

/*
 * sa_htable_remove() - Make @h invalid at once.
 * Returns SA_OK; SA_EBADHANDLE if @h is not a live handle of @t (already
 * removed, stale, forged, ...).  Every acquire that starts after the call
 * returns fails.  The destructor runs exactly once: here if no reference is
 * held, else in the release that drops the last one.
 * Context: any thread, holding no lock the destructor needs; lock-free
 * itself, takes the table lock only to recycle the slot.
 */
SA_MUST_CHECK int sa_htable_remove(struct sa_htable *t, struct sa_handle h);

/*
 * sa_htable_next() - Iterate over live entries: find the first live (not
 * removed) entry at slot index >= *@cursor, set *@h to its handle and
 * *@cursor past it, and return 1; return 0 when there is none.  Start with
 * *@cursor = 0.  Entries inserted or removed meanwhile may or may not be seen.
 * Context: any thread; takes the table lock while scanning, not after.
 */
int sa_htable_next(struct sa_htable *t, uint32_t *cursor, struct sa_handle *h);

/*
 * sa_htable_live_count() - Entries inserted whose destructor has not run.
 * Context: any thread; a snapshot (exact when no other thread changes @t).
 */
uint32_t sa_htable_live_count(const struct sa_htable *t);

/*
 * sa_htable_kind() - The kind given at create.  Context: any thread.
 */
uint8_t sa_htable_kind(const struct sa_htable *t);

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_HANDLES_H */
