/*
 * src/handles/htable.c - the generation-counted handle table.
 *
 * What it is: a slot array that grows in chunks that never move, one packed
 * atomic word per slot (generation | LIVE | reference count), a FIFO free
 * list under a mutex, and the handle encoding of handles.h.  Acquire and
 * release are lock-free; insert, and the recycling of a slot after its last
 * reference, take the table lock.  What it is not: a map from user keys, or
 * an owner of the objects (the destructor given at create frees them).
 * The invariants are listed above struct sa_htable, each with its test.
 */
#include <sspiasync/handles.h>

#include "handles/htable_int.h"
#include "util/alloc.h"
#include "util/lock.h"
#include "util/annotate.h"
#include "util/queue.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

_Static_assert(UINTPTR_MAX == UINT64_MAX,
	       "sspiasync's handle encoding packs 64-bit words: a 64-bit platform is required");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the slot word must be a lock-free 64-bit atomic");

/*
 * The slot word: one atomic 64-bit value per slot.
 *
 *   63                32   31   30                              0
 *  +--------------------+------+--------------------------------+
 *  |     generation     | LIVE |        reference count         |
 *  +--------------------+------+--------------------------------+
 *
 * States (read at the CASes in acquire/remove and the RMW in release):
 *   free        LIVE=0 rc=0  gen = the generation the next insert issues; on the free list
 *   live        LIVE=1 rc=n  n references taken by acquire and not yet released
 *   held        LIVE=0 rc>0  removed; the last release finalizes
 *   finalizing  LIVE=0 rc=0  the thread that made it so runs the destructor, then recycles
 * Recycling moves gen to gen + 1, and from the form's limit back to 1 (I4).
 * Only insert (under the lock) sets LIVE; only remove clears it.
 */
#define WORD_GEN_SHIFT 32
#define WORD_LIVE ((uint64_t)1 << 31)
#define WORD_RC_MASK ((uint64_t)0x7fffffff)
#define WORD_GEN(w) ((uint32_t)((w) >> WORD_GEN_SHIFT))

/* Two-word handle fields (see handles.h). */
#define TW_KIND_SHIFT 56
#define TW_INSTANCE_SHIFT 32
#define TW_SLOT_MASK ((uint64_t)0xffffffff)
#define TW_GEN_SHIFT 32
#define TW_CHECK_SHIFT 1
#define TW_CHECK_MASK ((uint64_t)0x7fffffff)

/* One-word handle fields. */
#define OW_SLOT_SHIFT 40
#define OW_GEN_SHIFT 16
#define OW_GEN_MASK ((uint64_t)0xffffff)
#define OW_CHECK_SHIFT 1
#define OW_CHECK_MASK ((uint64_t)0x7fff)

#define PARITY_BIT ((uint64_t)1)
#define INSTANCE_MAX 0xffffffu /* two-word instances run 1..INSTANCE_MAX, then wrap */

/* Chunk k holds slots [64 * (2^k - 1), 64 * (2^(k+1) - 1)): 27 chunks cover 2^32. */
#define CHUNK0_SHIFT 6
#define NCHUNKS 27
#define CACHE_LINE 64
#define FREE_NONE UINT32_MAX

struct slot {
	_Atomic uint64_t word; /* [a] the slot word above */
	void *obj;             /* [L] set before LIVE is published; read by holders of a reference */
	uint32_t next_free;    /* [L] free-list link, FREE_NONE at the tail */
	uint32_t on_free_list; /* [L] 1 while linked (for sa__htable_check) */
};
/* Slots sit one per cache line (no false sharing between handles used on
 * different threads), or packed in a dense table (cfg.dense: its caller
 * serialises every acquire and release under a lock of its own). */
_Static_assert(sizeof(struct slot) <= CACHE_LINE, "a slot fits a cache line");
_Static_assert(sizeof(struct slot) % _Alignof(struct slot) == 0, "packed slots stay aligned");

/*
 * Invariants (each one a test in test/check_handles.c):
 * I1  A handle is never a pointer; nothing derived from an unvalidated handle
 *     is read except a bounds-checked slot of this table.
 *     [test_htable_garbage_handles_are_invalid]
 * I2  A handle whose kind, instance, reserved word, check or parity does not
 *     match is rejected before any slot is read, with no atomic write.
 *     [test_htable_every_bit_flip_is_invalid, test_htable_wrong_kind_is_invalid]
 * I3  No issued word is 0, all-ones or -2 (SEC_DELETED_HANDLE): generation 0
 *     and the all-ones generation are never used, also across a wrap.
 *     [test_htable_issued_words_avoid_reserved_values]
 * I4  Reuse is bounded, never refused.  A slot's generation runs 1, 2, ...,
 *     the form's limit L (one-word 16,777,214; two-word 4,294,967,294), then
 *     1 again, so within a table a (slot, generation) comes back only at the
 *     L-th reuse of that slot after it was issued.  Across tables: every table
 *     gets its check key from a 64-bit serial that never repeats; two-word
 *     instances run 1..2^24-1 and then wrap, skipping instances of tables
 *     still alive (so no two live tables share one); a one-word table starts
 *     above the highest generation its predecessors issued, and at 1 past L.
 *     A value of a destroyed table that a later table could issue again
 *     passes that table's check with probability 2^-31 (two-word) or 2^-15
 *     (one-word), and must then still name a live slot of that generation.
 *     [test_htable_slot_generation_wraps_at_limit,
 *      test_htable_slot_at_limit_still_inserts_after_remove,
 *      test_htable_wrapped_slots_are_reused_in_place,
 *      test_htable_one_word_floor_wraps_at_limit,
 *      test_htable_instance_wraps_skipping_live_tables,
 *      test_htable_values_unique_across_tables]
 * I5  After remove returns, every acquire of that handle fails; the destructor
 *     runs exactly once, when the last reference goes.
 *     [test_htable_acquire_fails_after_remove, test_htable_dtor_runs_at_last_release,
 *      test_htable_stress_acquire_release_remove]
 * I6  A slot is reused only after its destructor ran, oldest free slot first.
 *     [test_htable_reuse_is_fifo]
 * I7  Chunks never move and are published initialised (release store), so an
 *     acquire racing growth is safe.  [test_htable_stress_acquire_release_remove]
 * I8  At most max_entries slots exist; insert past them fails with SA_ENOSPC
 *     and changes nothing; a failed allocation leaves the table unchanged.
 *     [test_htable_insert_fails_at_max, test_htable_insert_oom_every_k]
 * I9  live == inserted entries whose destructor has not run; destroy with
 *     live entries is refused.  [test_htable_destroy_refused_while_live]
 * I10 fork() never leaves the process-wide lock held in the child: the
 *     atfork handlers take it before the fork and release it on both sides,
 *     so the child inherits consistent counters and can make tables at once.
 *     [test_htable_fork_child_can_create_tables_while_parent_cycles]
 *
 * Key: [i] immutable after create, [a] atomic, [L] t->lock, [P] g_lock.
 * The table lock is the innermost lock of the library (src/async/async_int.h).
 */
struct sa_htable {
	/* Read by every acquire: its own cache line, never written after create. */
	uint64_t key0, key1;          /* [i] per-table check key (process key mixed with instance) */
	uint64_t lower_prefix;        /* [i] two-word: kind:8 | instance:24, the top of lower */
	uint32_t max;                 /* [i] max_entries */
	uint32_t slot_base;           /* [i] one-word: the first slot number handles carry */
	uint8_t kind;                 /* [i] */
	uint8_t form;                 /* [i] enum sa_htable_form */
	uint32_t instance;            /* [i] two-word: 1..INSTANCE_MAX; one-word: 0 (none) */
	uint32_t gen_floor;           /* [i] the generation a new slot starts at */
	uint32_t gen_limit;           /* [i] the highest generation a slot may carry */
	sa_htable_dtor_fn dtor;       /* [i] */
	void *dtor_arg;               /* [i] */
	_Atomic(struct slot *) chunks[NCHUNKS]; /* [a] written under L, once each */
	uint32_t stride;              /* [i] bytes from a slot to the next: CACHE_LINE, or dense */

	/* Written by insert and recycling. */
	_Alignas(CACHE_LINE) pthread_mutex_t lock; /* LOCK ORDER #5 (src/sspi/sspi_int.h); guards [L] */
	void *chunk_mem[NCHUNKS];     /* [L] raw allocations behind chunks[] */
	uint32_t nslots;              /* [L] slots allocated */
	uint32_t nchunks;             /* [L] */
	uint32_t free_head, free_tail;/* [L] FIFO of free slot indexes */
	uint32_t nfree;               /* [L] */
	uint32_t wraps;               /* [L] recyclings that went from the limit back to 1 */
	uint32_t gen_high;            /* [L] highest generation issued */
	_Atomic uint32_t live;        /* [a] written under L */
	void *self_mem;               /* [i] the raw allocation this struct sits in */
	uint64_t serial;              /* [i] this table's number in the process; the key comes from it */
	struct sa_queue live_node;    /* [P] two-word: linked on g_live_two_word */
};

/* --- process-wide state ---------------------------------------------------
 * Key: [P] g_lock.  g_key is written once under pthread_once, then read-only. */
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static uint64_t g_key[2];
/* LOCK ORDER #6 (src/sspi/sspi_int.h): g_lock is a leaf: nothing is locked or allocated under it (held across fork: I10). */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_serial;                 /* [P] tables created in this process */
static uint32_t g_next_instance = 1;      /* [P] the instance the next two-word table tries first */
static bool g_instance_wrapped;           /* [P] instances are being reused: skip live ones */
/* [P] the live two-word tables, newest first (sa_htable.live_node); an empty list */
static struct sa_queue g_live_two_word = {&g_live_two_word, &g_live_two_word};
static uint32_t g_nlive_two_word;         /* [P] */
static uint32_t g_oneword_floor = 1;      /* [P] first generation of the next one-word table */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* I10: whoever forks waits until no thread is inside g_lock, and the
 * child gets the lock free with the counters as the parent left them. */
static void atfork_prepare(void)
{
	SA_LOCK(&g_lock);
}

static void atfork_release(void)
{
	SA_UNLOCK(&g_lock);
}

/* Once per process: the key, and the fork handlers (I10). */
static void key_init_once(void)
{
	uint64_t seed[2] = {0, 0};
	if (getrandom(seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) { /* LCOV_EXCL_BR_LINE: old kernels */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)getpid();
		seed[1] = (uint64_t)(uintptr_t)&seed ^ (uint64_t)(uintptr_t)&g_key;
	}
	uint64_t s = seed[0] ^ (seed[1] << 1);
	g_key[0] = splitmix64(&s);
	g_key[1] = splitmix64(&s) | 1;
	int rc = pthread_atfork(atfork_prepare, atfork_release, atfork_release);
	(void)rc; /* ENOMEM: then a fork during a create or destroy can hang the child, as before */
}

/* Is @instance the instance of a live two-word table?  Context: g_lock held. */
static bool instance_live_locked(uint32_t instance)
{
	SA_ASSERT_HELD(&g_lock);
	for (struct sa_queue *n = sa__queue_head(&g_live_two_word); n != &g_live_two_word;
	     n = sa__queue_next(n))
		if (SA_QUEUE_DATA(n, struct sa_htable, live_node)->instance == instance)
			return true;
	return false;
}

/* I4: the next two-word instance, 1..INSTANCE_MAX in turn; once the counter
 * has wrapped, instances of live tables are skipped (the list is walked
 * only then: O(live two-word tables) per candidate).
 * Context: g_lock held.  Returns SA_OK, or SA_ENOSPC when every instance
 * belongs to a live table. */
static int instance_take_locked(uint32_t *instance)
{
	SA_ASSERT_HELD(&g_lock);
	if (g_nlive_two_word >= INSTANCE_MAX) /* LCOV_EXCL_BR_LINE: 2^24 - 1 live tables, ~8 GiB */
		return SA_ENOSPC;
	for (;;) {
		uint32_t i = g_next_instance;
		if (i >= INSTANCE_MAX) {
			g_next_instance = 1;
			g_instance_wrapped = true;
		} else {
			g_next_instance = i + 1;
		}
		if (!g_instance_wrapped || !instance_live_locked(i)) {
			*instance = i;
			return SA_OK;
		}
	}
}

/* Context: g_lock held; @t is a two-word table. */
static void live_list_add_locked(struct sa_htable *t)
{
	SA_ASSERT_HELD(&g_lock);
	sa__queue_insert_head(&g_live_two_word, &t->live_node);
	g_nlive_two_word++;
}

/* Context: g_lock held; @t is on the list. */
static void live_list_del_locked(struct sa_htable *t)
{
	SA_ASSERT_HELD(&g_lock);
	sa__queue_remove(&t->live_node);
	g_nlive_two_word--;
}

/* The keyed check: two multiplies over the handle's other bits. */
static inline uint64_t check_mix(const struct sa_htable *t, uint64_t a, uint64_t b)
{
	uint64_t h = (a ^ t->key0) * 0x9e3779b97f4a7c15u;
	h ^= h >> 32;
	h = (h ^ b ^ t->key1) * 0xd6e8feb86659fd93u;
	return h ^ (h >> 29);
}

static inline uint64_t parity64(uint64_t x)
{
	return (uint64_t)__builtin_parityll(x);
}

static struct sa_handle handle_encode(const struct sa_htable *t, uint32_t idx, uint32_t gen)
{
	struct sa_handle h;
	if (t->form == SA_HTABLE_TWO_WORD) {
		uint64_t lower = t->lower_prefix | idx;
		uint64_t check = (check_mix(t, lower, gen) >> 33) & TW_CHECK_MASK;
		uint64_t upper = ((uint64_t)gen << TW_GEN_SHIFT) | (check << TW_CHECK_SHIFT);
		upper |= parity64(lower ^ upper);
		h.lower = (uintptr_t)lower;
		h.upper = (uintptr_t)upper;
	} else {
		uint64_t body = ((uint64_t)(idx + t->slot_base) << OW_SLOT_SHIFT) |
				((uint64_t)gen << OW_GEN_SHIFT);
		uint64_t check = (check_mix(t, body, 0) >> 49) & OW_CHECK_MASK;
		uint64_t w = body | (check << OW_CHECK_SHIFT);
		w |= parity64(w);
		h.lower = (uintptr_t)w;
		h.upper = 0;
	}
	return h;
}

/* Validate @h's encoding against @t without touching any slot (I2). */
static inline bool handle_decode(const struct sa_htable *t, struct sa_handle h, uint32_t *idx,
				 uint32_t *gen)
{
	uint64_t lower = h.lower, upper = h.upper;
	uint32_t i, g;
	if (t->form == SA_HTABLE_TWO_WORD) {
		if ((lower & ~TW_SLOT_MASK) != t->lower_prefix || parity64(lower ^ upper) != 0)
			return false;
		g = (uint32_t)(upper >> TW_GEN_SHIFT);
		if (((upper >> TW_CHECK_SHIFT) & TW_CHECK_MASK) !=
		    ((check_mix(t, lower, g) >> 33) & TW_CHECK_MASK))
			return false;
		i = (uint32_t)(lower & TW_SLOT_MASK);
	} else {
		if (upper != 0 || parity64(lower) != 0)
			return false;
		uint64_t body = lower & ~((OW_CHECK_MASK << OW_CHECK_SHIFT) | PARITY_BIT);
		if (((lower >> OW_CHECK_SHIFT) & OW_CHECK_MASK) !=
		    ((check_mix(t, body, 0) >> 49) & OW_CHECK_MASK))
			return false;
		i = (uint32_t)(lower >> OW_SLOT_SHIFT) - t->slot_base; /* below the base: huge */
		g = (uint32_t)((lower >> OW_GEN_SHIFT) & OW_GEN_MASK);
	}
	if (g == 0 || g > t->gen_limit || i >= t->max)
		return false;
	*idx = i;
	*gen = g;
	return true;
}

static inline void chunk_locate(uint32_t idx, unsigned *k, uint64_t *off)
{
	uint64_t x = (uint64_t)idx + ((uint64_t)1 << CHUNK0_SHIFT);
	unsigned top = 63u - (unsigned)__builtin_clzll(x);
	*k = top - CHUNK0_SHIFT;
	*off = x - ((uint64_t)1 << top);
}

/* Slot @i of the chunk @c whose slots are @stride bytes apart. */
static inline struct slot *slot_in(struct slot *c, uint64_t i, uint32_t stride)
{
	return (struct slot *)(void *)((unsigned char *)c + i * stride);
}

/* The slot behind a validated index, or NULL if its chunk does not exist yet. */
static inline struct slot *slot_lookup(struct sa_htable *t, uint32_t idx)
{
	unsigned k;
	uint64_t off;
	chunk_locate(idx, &k, &off);
	struct slot *c = atomic_load_explicit(&t->chunks[k], memory_order_acquire);
	return c == NULL ? NULL : slot_in(c, off, t->stride);
}

/* Context: t->lock held; @idx < t->nslots. */
static inline struct slot *slot_at_locked(struct sa_htable *t, uint32_t idx)
{
	SA_ASSERT_HELD(&t->lock);
	struct slot *s = slot_lookup(t, idx);
	assert(s != NULL);
	return s;
}

static inline void free_list_push_locked(struct sa_htable *t, uint32_t idx, struct slot *s)
{
	SA_ASSERT_HELD(&t->lock);
	s->next_free = FREE_NONE;
	s->on_free_list = 1;
	if (t->free_tail == FREE_NONE)
		t->free_head = idx;
	else
		slot_at_locked(t, t->free_tail)->next_free = idx;
	t->free_tail = idx;
	t->nfree++;
}

static inline uint32_t free_list_pop_locked(struct sa_htable *t)
{
	SA_ASSERT_HELD(&t->lock);
	uint32_t idx = t->free_head;
	struct slot *s = slot_at_locked(t, idx);
	t->free_head = s->next_free;
	if (t->free_head == FREE_NONE)
		t->free_tail = FREE_NONE;
	s->on_free_list = 0;
	t->nfree--;
	return idx;
}

/* Over-allocate so the result is cache-line aligned; *raw gets what to free. */
static void *alloc_aligned(size_t n, void **raw)
{
	unsigned char *p = sa__malloc(n + CACHE_LINE - 1);
	if (p == NULL)
		return NULL;
	*raw = p;
	return (void *)(((uintptr_t)p + CACHE_LINE - 1) & ~(uintptr_t)(CACHE_LINE - 1));
}

/* Add the next chunk and append its slots to the free list (I7, I8).
 * Context: t->lock held.  Returns SA_OK, SA_ENOSPC or SA_ENOMEM. */
static int table_grow_locked(struct sa_htable *t)
{
	SA_ASSERT_HELD(&t->lock);
	if (t->nslots >= t->max)
		return SA_ENOSPC;
	unsigned k = t->nchunks;
	assert(k < NCHUNKS);
	uint64_t size = (uint64_t)1 << (CHUNK0_SHIFT + k);
	if (size > (uint64_t)t->max - t->nslots)
		size = (uint64_t)t->max - t->nslots;
	void *raw;
	struct slot *c = alloc_aligned((size_t)size * t->stride, &raw);
	if (c == NULL)
		return SA_ENOMEM;
	for (uint64_t i = 0; i < size; i++) {
		struct slot *si = slot_in(c, i, t->stride);
		atomic_init(&si->word, (uint64_t)t->gen_floor << WORD_GEN_SHIFT);
		SA_ATOMIC_WORD(&si->word);
		si->obj = NULL;
		si->next_free = FREE_NONE;
		si->on_free_list = 0;
	}
	t->chunk_mem[k] = raw;
	atomic_store_explicit(&t->chunks[k], c, memory_order_release);
	uint32_t first = t->nslots;
	t->nchunks = k + 1;
	t->nslots += (uint32_t)size;
	for (uint64_t i = 0; i < size; i++)
		free_list_push_locked(t, first + (uint32_t)i, slot_in(c, i, t->stride));
	return SA_OK;
}

int sa_htable_create(const struct sa_htable_config *cfg, struct sa_htable **out)
{
	if (cfg == NULL || out == NULL || cfg->kind == 0 || cfg->kind == 0xff)
		return SA_EINVAL;
	uint32_t form_max;
	if (cfg->form == SA_HTABLE_TWO_WORD)
		form_max = SA_HTABLE_MAX_TWO_WORD;
	else if (cfg->form == SA_HTABLE_ONE_WORD)
		form_max = SA_HTABLE_MAX_ONE_WORD;
	else
		return SA_EINVAL;
	uint32_t max = cfg->max_entries == 0 ? SA_HTABLE_DEFAULT_MAX : cfg->max_entries;
	if (max > form_max)
		return SA_EINVAL;
	if (cfg->slot_base != 0 &&
	    (cfg->form != SA_HTABLE_ONE_WORD || (uint64_t)cfg->slot_base + max > (uint64_t)form_max + 1))
		return SA_EINVAL;
	pthread_once(&g_key_once, key_init_once);

	void *raw;
	struct sa_htable *t = alloc_aligned(sizeof *t, &raw);
	if (t == NULL)
		return SA_ENOMEM;
	if (pthread_mutex_init(&t->lock, NULL) != 0) { /* LCOV_EXCL_BR_LINE: cannot fail */
		sa__free(raw);
		return SA_ENOMEM;
	}

	int rc = SA_OK;
	uint32_t instance = 0, floor = 1;
	uint32_t gen_limit = cfg->form == SA_HTABLE_TWO_WORD ? SA_HTABLE_GEN_LIMIT_TWO_WORD
							     : SA_HTABLE_GEN_LIMIT_ONE_WORD;
	SA_LOCK(&g_lock);
	if (cfg->form == SA_HTABLE_TWO_WORD) {
		rc = instance_take_locked(&instance);
		if (rc == SA_OK) { /* LCOV_EXCL_BR_LINE: see instance_take_locked */
			t->instance = instance; /* before other creates can see it on the list */
			live_list_add_locked(t);
		}
	} else {
		t->instance = 0; /* one-word handles carry no instance */
		floor = g_oneword_floor;
	}
	uint64_t serial = ++g_serial;
	SA_UNLOCK(&g_lock);
	if (rc != SA_OK) { /* LCOV_EXCL_BR_LINE: see instance_take_locked */
		pthread_mutex_destroy(&t->lock);
		sa__free(raw);
		return rc;
	}

	/* I4: a key of its own for every table ever made in the process. */
	uint64_t s = g_key[0] ^ serial;
	t->key0 = splitmix64(&s);
	t->key1 = splitmix64(&s) ^ g_key[1];
	t->serial = serial;
	t->kind = cfg->kind;
	t->form = (uint8_t)cfg->form;
	t->lower_prefix = ((uint64_t)cfg->kind << TW_KIND_SHIFT) | ((uint64_t)instance << TW_INSTANCE_SHIFT);
	t->max = max;
	t->stride = cfg->dense ? (uint32_t)sizeof(struct slot) : CACHE_LINE;
	t->slot_base = cfg->slot_base;
	t->gen_floor = floor;
	t->gen_limit = gen_limit;
	t->dtor = cfg->dtor;
	t->dtor_arg = cfg->dtor_arg;
	for (unsigned k = 0; k < NCHUNKS; k++) {
		atomic_init(&t->chunks[k], NULL);
		SA_ATOMIC_WORD(&t->chunks[k]); /* slot_lookup loads it lock-free while insert grows */
		t->chunk_mem[k] = NULL;
	}
	t->nslots = t->nchunks = 0;
	t->free_head = t->free_tail = FREE_NONE;
	t->nfree = t->wraps = 0;
	t->gen_high = 0;
	atomic_init(&t->live, 0);
	SA_ATOMIC_WORD(&t->live); /* written under the lock, read lock-free by live_count and destroy */
	t->self_mem = raw;
	*out = t;
	return SA_OK;
}

int sa_htable_destroy(struct sa_htable *t)
{
	if (t == NULL)
		return SA_OK;
	if (atomic_load_explicit(&t->live, memory_order_acquire) != 0)
		return SA_EBUSY;
	SA_LOCK(&g_lock);
	if (t->form == SA_HTABLE_TWO_WORD) {
		live_list_del_locked(t); /* its instance may be taken again */
	} else if (t->gen_high >= t->gen_limit) {
		g_oneword_floor = 1; /* I4: past the limit the floor wraps */
	} else if (t->gen_high >= g_oneword_floor) {
		g_oneword_floor = t->gen_high + 1;
	}
	SA_UNLOCK(&g_lock);
	for (unsigned k = 0; k < t->nchunks; k++)
		sa__free(t->chunk_mem[k]);
	pthread_mutex_destroy(&t->lock);
	sa__free(t->self_mem);
	return SA_OK;
}

int sa_htable_insert(struct sa_htable *t, void *obj, struct sa_handle *h)
{
	if (t == NULL || obj == NULL || h == NULL)
		return SA_EINVAL;
	int rc = SA_OK;
	SA_LOCK(&t->lock);
	if (t->free_head == FREE_NONE) {
		rc = table_grow_locked(t);
		if (rc != SA_OK)
			goto out_unlock;
	}
	uint32_t idx = free_list_pop_locked(t);
	struct slot *s = slot_at_locked(t, idx);
	uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
	uint32_t gen = WORD_GEN(w);
	assert((w & (WORD_LIVE | WORD_RC_MASK)) == 0 && gen >= 1 && gen <= t->gen_limit);
	s->obj = obj;
	/* Publish: obj is visible to whoever sees LIVE with this generation. */
	SA_HAPPENS_BEFORE(&s->word);
	atomic_store_explicit(&s->word, ((uint64_t)gen << WORD_GEN_SHIFT) | WORD_LIVE,
			      memory_order_release);
	atomic_store_explicit(&t->live, atomic_load_explicit(&t->live, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (gen > t->gen_high)
		t->gen_high = gen;
	*h = handle_encode(t, idx, gen);
out_unlock:
	SA_UNLOCK(&t->lock);
	return rc;
}

/* The entry behind @s just reached (not LIVE, rc 0): this thread owns it.
 * Run the destructor with no lock held, then recycle the slot with the next
 * generation, from the limit back to 1 (I4-I6). */
static void slot_finalize(struct sa_htable *t, struct slot *s, uint32_t idx, uint32_t gen)
{
	void *obj = s->obj;
	if (t->dtor != NULL)
		t->dtor(obj, t->dtor_arg);
	SA_LOCK(&t->lock);
	s->obj = NULL;
	uint32_t next = gen + 1;
	if (gen >= t->gen_limit) {
		next = 1; /* never 0, never past the limit (I3) */
		t->wraps++;
	}
	atomic_store_explicit(&s->word, (uint64_t)next << WORD_GEN_SHIFT, memory_order_relaxed);
	free_list_push_locked(t, idx, s);
	atomic_store_explicit(&t->live, atomic_load_explicit(&t->live, memory_order_relaxed) - 1,
			      memory_order_release);
	SA_UNLOCK(&t->lock);
}

int sa_htable_acquire(struct sa_htable *t, struct sa_handle h, void **obj)
{
	uint32_t idx, gen;
	if (t == NULL || obj == NULL || !handle_decode(t, h, &idx, &gen))
		return SA_EBADHANDLE;
	struct slot *s = slot_lookup(t, idx);
	if (s == NULL)
		return SA_EBADHANDLE;
	const uint64_t want = ((uint64_t)gen << WORD_GEN_SHIFT) | WORD_LIVE;
	uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
	for (;;) {
		/* Only state "live" with this generation may be referenced. */
		if ((w & ~WORD_RC_MASK) != want)
			return SA_EBADHANDLE;
		if ((w & WORD_RC_MASK) == WORD_RC_MASK)
			return SA_EBUSY;
		if (atomic_compare_exchange_weak_explicit(&s->word, &w, w + 1, memory_order_acquire,
							  memory_order_relaxed))
			break;
	}
	SA_HAPPENS_AFTER(&s->word);
	*obj = s->obj;
	return SA_OK;
}

/* Slot and generation of a handle that a successful acquire already
 * validated: release's contract, so no keyed check on this path.  The
 * fields are still bounds-checked, so a broken caller cannot index out of
 * the table. */
static inline bool handle_fields(const struct sa_htable *t, struct sa_handle h, uint32_t *idx,
				 uint32_t *gen)
{
	uint64_t lower = h.lower, upper = h.upper;
	if (t->form == SA_HTABLE_TWO_WORD) {
		*idx = (uint32_t)(lower & TW_SLOT_MASK);
		*gen = (uint32_t)(upper >> TW_GEN_SHIFT);
	} else {
		*idx = (uint32_t)(lower >> OW_SLOT_SHIFT) - t->slot_base;
		*gen = (uint32_t)((lower >> OW_GEN_SHIFT) & OW_GEN_MASK);
	}
	return *idx < t->max;
}

void sa_htable_release(struct sa_htable *t, struct sa_handle h)
{
	uint32_t idx, gen;
	struct slot *s;
	if (!handle_fields(t, h, &idx, &gen) || (s = slot_lookup(t, idx)) == NULL) {
		assert(!"sa_htable_release() without a matching acquire");
		return;
	}
	SA_HAPPENS_BEFORE(&s->word);
	uint64_t old = atomic_fetch_sub_explicit(&s->word, 1, memory_order_acq_rel);
	assert((old & WORD_RC_MASK) != 0 && WORD_GEN(old) == gen);
	/* States: live (rc n -> n-1) or held (rc 1 -> 0: this thread finalizes). */
	if ((old & (WORD_LIVE | WORD_RC_MASK)) == 1) {
		SA_HAPPENS_AFTER(&s->word); /* every holder's work happened before */
		slot_finalize(t, s, idx, gen);
	}
}

int sa_htable_remove(struct sa_htable *t, struct sa_handle h)
{
	uint32_t idx, gen;
	if (t == NULL || !handle_decode(t, h, &idx, &gen))
		return SA_EBADHANDLE;
	struct slot *s = slot_lookup(t, idx);
	if (s == NULL)
		return SA_EBADHANDLE;
	const uint64_t want = ((uint64_t)gen << WORD_GEN_SHIFT) | WORD_LIVE;
	uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
	SA_HAPPENS_BEFORE(&s->word);
	for (;;) {
		if ((w & ~WORD_RC_MASK) != want)
			return SA_EBADHANDLE;
		if (atomic_compare_exchange_weak_explicit(&s->word, &w, w & ~WORD_LIVE,
							  memory_order_acq_rel, memory_order_relaxed))
			break;
	}
	/* live -> finalizing (no reference held) or live -> held. */
	if ((w & WORD_RC_MASK) == 0) {
		SA_HAPPENS_AFTER(&s->word);
		slot_finalize(t, s, idx, gen);
	}
	return SA_OK;
}

int sa_htable_next(struct sa_htable *t, uint32_t *cursor, struct sa_handle *h)
{
	int found = 0;
	SA_LOCK(&t->lock);
	for (uint32_t idx = *cursor; idx < t->nslots; idx++) {
		uint64_t w = atomic_load_explicit(&slot_at_locked(t, idx)->word, memory_order_acquire);
		if (w & WORD_LIVE) {
			*h = handle_encode(t, idx, WORD_GEN(w));
			*cursor = idx + 1;
			found = 1;
			break;
		}
	}
	if (!found)
		*cursor = t->nslots;
	SA_UNLOCK(&t->lock);
	return found;
}

uint32_t sa_htable_live_count(const struct sa_htable *t)
{
	return atomic_load_explicit(&t->live, memory_order_acquire);
}

uint8_t sa_htable_kind(const struct sa_htable *t)
{
	return t->kind;
}

/* --- consistency check and test hooks (htable_int.h) ---------------------- */

int sa__htable_check(struct sa_htable *t)
{
	int rc = SA_OK;
	uint32_t nfree = 0, nlive = 0, nheld = 0, walked = 0;
	/* I4: a two-word table is on the live list once, and no other live
	 * table has its instance.  (g_lock and t->lock are never held together.) */
	if (t->form == SA_HTABLE_TWO_WORD) {
		uint32_t self = 0, same_instance = 0, n = 0;
		SA_LOCK(&g_lock);
		for (struct sa_queue *q = sa__queue_head(&g_live_two_word);
		     q != &g_live_two_word && n <= g_nlive_two_word; q = sa__queue_next(q), n++) {
			const struct sa_htable *u = SA_QUEUE_DATA(q, struct sa_htable, live_node);
			self += u == t;
			same_instance += u != t && u->instance == t->instance;
		}
		if (self != 1 || same_instance != 0 || n != g_nlive_two_word)
			rc = SA_EINVAL;
		SA_UNLOCK(&g_lock);
		if (rc != SA_OK)
			return rc;
	}
	SA_LOCK(&t->lock);
	for (uint32_t idx = t->free_head; idx != FREE_NONE; idx = slot_at_locked(t, idx)->next_free) {
		struct slot *s = slot_at_locked(t, idx);
		uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
		if (!s->on_free_list || (w & (WORD_LIVE | WORD_RC_MASK)) != 0 || ++walked > t->nslots)
			rc = SA_EINVAL;
		if (rc != SA_OK)
			break;
	}
	for (uint32_t idx = 0; rc == SA_OK && idx < t->nslots; idx++) {
		struct slot *s = slot_at_locked(t, idx);
		uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
		uint32_t gen = WORD_GEN(w);
		if (gen == 0 || gen > t->gen_limit) /* below the floor is fine after a wrap (I4) */
			rc = SA_EINVAL;
		else if (w & WORD_LIVE)
			nlive++;
		else if (w & WORD_RC_MASK)
			nheld++;
		else if (s->on_free_list)
			nfree++;
		else
			nheld++; /* finalizing: its owner is between the destructor and recycling */
	}
	if (rc == SA_OK && (nfree != t->nfree || walked != t->nfree ||
			    nfree + nlive + nheld != t->nslots ||
			    nlive + nheld != atomic_load_explicit(&t->live, memory_order_relaxed)))
		rc = SA_EINVAL;
	SA_UNLOCK(&t->lock);
	return rc;
}

uint32_t sa__htable_nslots(struct sa_htable *t)
{
	SA_LOCK(&t->lock);
	uint32_t n = t->nslots;
	SA_UNLOCK(&t->lock);
	return n;
}

uint32_t sa__htable_wraps(struct sa_htable *t)
{
	SA_LOCK(&t->lock);
	uint32_t n = t->wraps;
	SA_UNLOCK(&t->lock);
	return n;
}

void sa__htable_test_set_free_generation(struct sa_htable *t, uint32_t gen)
{
	assert(gen >= 1 && gen <= t->gen_limit);
	SA_LOCK(&t->lock);
	for (uint32_t idx = t->free_head; idx != FREE_NONE; idx = slot_at_locked(t, idx)->next_free)
		atomic_store_explicit(&slot_at_locked(t, idx)->word, (uint64_t)gen << WORD_GEN_SHIFT,
				      memory_order_relaxed);
	SA_UNLOCK(&t->lock);
}

int sa__htable_test_add_refs(struct sa_htable *t, struct sa_handle h, int64_t delta)
{
	uint32_t idx, gen;
	if (!handle_decode(t, h, &idx, &gen))
		return SA_EBADHANDLE;
	struct slot *s = slot_lookup(t, idx);
	if (s == NULL)
		return SA_EBADHANDLE;
	uint64_t w = atomic_load(&s->word);
	if (WORD_GEN(w) != gen || !(w & WORD_LIVE))
		return SA_EBADHANDLE; /* only a live entry's count */
	atomic_fetch_add(&s->word, (uint64_t)delta);
	return SA_OK;
}

uint32_t sa__htable_test_set_oneword_floor(uint32_t floor)
{
	assert(floor >= 1 && floor <= SA_HTABLE_GEN_LIMIT_ONE_WORD);
	SA_LOCK(&g_lock);
	uint32_t old = g_oneword_floor;
	g_oneword_floor = floor;
	SA_UNLOCK(&g_lock);
	return old;
}

uint32_t sa__htable_test_set_next_instance(uint32_t next)
{
	assert(next >= 1 && next <= INSTANCE_MAX);
	SA_LOCK(&g_lock);
	uint32_t old = g_next_instance;
	g_next_instance = next;
	g_instance_wrapped = true; /* moved by hand: live instances may lie ahead */
	SA_UNLOCK(&g_lock);
	return old;
}

struct sa_handle sa__htable_test_encode(struct sa_htable *t, uint32_t slot, uint32_t gen)
{
	return handle_encode(t, slot, gen);
}

void sa__htable_test_corrupt(struct sa_htable *t, int how, int undo)
{
	static uint64_t saved_word; /* tests only: one corruption at a time */
	int d = undo ? -1 : 1;
	if (how == SA_HTABLE_CORRUPT_UNLISTED) {
		SA_LOCK(&g_lock);
		if (undo)
			live_list_add_locked(t);
		else
			live_list_del_locked(t);
		SA_UNLOCK(&g_lock);
		return;
	}
	SA_LOCK(&t->lock);
	struct slot *head = t->free_head != FREE_NONE ? slot_at_locked(t, t->free_head) : NULL;
	struct slot *tail = t->free_tail != FREE_NONE ? slot_at_locked(t, t->free_tail) : NULL;
	switch (how) {
	case SA_HTABLE_CORRUPT_NFREE:
		t->nfree += (uint32_t)d;
		break;
	case SA_HTABLE_CORRUPT_LIVE:
		atomic_fetch_add(&t->live, (uint32_t)d);
		break;
	case SA_HTABLE_CORRUPT_FREE_FLAG:
		head->on_free_list = (uint8_t)undo;
		break;
	case SA_HTABLE_CORRUPT_FREE_WORD:
		atomic_fetch_xor(&head->word, WORD_LIVE);
		break;
	case SA_HTABLE_CORRUPT_FREE_LOOP:
		tail->next_free = undo ? FREE_NONE : t->free_head;
		break;
	case SA_HTABLE_CORRUPT_GEN:
	case SA_HTABLE_CORRUPT_GEN_HIGH:
		if (!undo) {
			saved_word = atomic_load(&head->word);
			atomic_store(&head->word, how == SA_HTABLE_CORRUPT_GEN
							  ? 0
							  : (uint64_t)(t->gen_limit + 1) << WORD_GEN_SHIFT);
		} else {
			atomic_store(&head->word, saved_word);
		}
		break;
	}
	SA_UNLOCK(&t->lock);
}
