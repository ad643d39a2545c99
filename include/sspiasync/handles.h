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
 * with the table instance); parity makes the total parity of the handle
 * even, so every single-bit flip is caught.  No word a table issues is ever
 * 0, all-ones or -2 (Microsoft's SEC_DELETED_HANDLE).
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
};

/*
 * sa_htable_create() - Make an empty table.
 * Returns SA_OK and sets *out; SA_EINVAL (NULL argument, kind 0 or 255,
 * unknown form, max_entries above the form's maximum); SA_ENOMEM; SA_ENOSPC
 * when the process has used up its 2^24 - 2 table instances (two-word) or the
 * one-word generation space.  On failure *out is untouched.
 * Context: any thread; allocates.
 */
SA_MUST_CHECK int sa_htable_create(const struct sa_htable_config *cfg, struct sa_htable **out);

/*
 * sa_htable_destroy() - Free an empty table.
 * Returns SA_OK; SA_EBUSY, and the table stays usable and untouched, while it
 * has live entries (inserted and not yet destroyed: removed entries whose last
 * reference is still held count as live).  NULL is a no-op returning SA_OK.
 * The instance number (two-word) or the highest generation used (one-word)
 * is never issued again, so handles of a destroyed table stay invalid in any
 * later table.
 * Context: no other thread may use the table during or after the call.
 */
SA_MUST_CHECK int sa_htable_destroy(struct sa_htable *t);

/*
 * sa_htable_insert() - Add @obj (non-NULL) and return its new handle.
 * Returns SA_OK and sets *h; SA_EINVAL (NULL t, obj or h); SA_ENOSPC (the
 * table holds max_entries slots, none free); SA_ENOMEM (growing the slot
 * array failed).  On failure *h and the table are unchanged.  The oldest
 * free slot is reused first (FIFO).
 * Context: any thread; takes the table lock; O(1); may allocate a chunk.
 */
SA_MUST_CHECK int sa_htable_insert(struct sa_htable *t, void *obj, struct sa_handle *h);

/*
 * sa_htable_acquire() - Find the object behind @h and take a reference to it.
 * Returns SA_OK and sets *obj; or SA_EBADHANDLE (zero, forged, bit-flipped,
 * wrong-kind, other-table, removed or retired handle) and leaves *obj
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
