/*
 * src/sspi/ctxbuf.c - context buffers: the memory the library hands to
 * callers (package lists, names, ISC_REQ_ALLOCATE_MEMORY tokens) and takes
 * back in FreeContextBuffer.
 *
 * What it is: a hash set, per runtime, of the buffers given out, keyed by the
 * address the caller holds, so FreeContextBuffer tells ours from any other
 * pointer in O(1) without ever reading that pointer.  What it is not: an
 * allocator (each buffer is one sa__malloc block).  Invariants: C1-C5 above
 * struct sa_ctxbuf; tests in test/check_ctxbuf.c.
 */
#include "sspi/sspi_int.h"

#include "util/alloc.h"
#include "util/lock.h"

#include <limits.h>
#include <string.h>

/*
 * A context buffer: our header, then the caller's bytes.  The header's only
 * field links the buffer into its bucket's chain in rt->bufs.
 *
 * C1 Every buffer given out and not yet freed is in exactly one chain, the
 *    one its data address hashes to under the set's current bits, and count
 *    is their number.  [test_ctxbuf_every_buffer_is_freed_once]
 * C2 A lookup hashes the pointer's value and compares it with the data
 *    address of our own headers in that one chain; the pointer itself is
 *    never read or written.  A pointer that is not a live buffer's start
 *    (foreign, one byte inside, already freed, from before a shutdown) is
 *    SEC_E_INVALID_HANDLE and changes nothing.
 *    [test_ctxbuf_foreign_pointer_is_invalid_and_never_read,
 *     test_ctxbuf_pointer_inside_a_buffer_is_invalid,
 *     test_ctxbuf_double_free_is_invalid]
 * C3 The array grows only in sa__ctxbuf_alloc: it doubles before an insert
 *    would make count exceed the bucket count.  While growth succeeds the
 *    load is <= 1, so a lookup compares about 1.5 of our headers on average
 *    for a buffer of ours and at most about 1 for a pointer that is not: the
 *    work of a free does not grow with the number outstanding.
 *    [test_ctxbuf_free_compares_few_headers_when_50000_outstanding]
 * C4 Freeing never allocates (FreeContextBuffer, sa__ctxbuf_free), and the
 *    array never shrinks.  The first array (2^SA_CTXBUF_INLINE_BITS buckets)
 *    is inside the runtime, so an insert needs no memory but the buffer's
 *    own; a growth that fails keeps the current array: still correct (C1),
 *    with longer chains, retried at the next allocation.
 *    [test_ctxbuf_growth_failure_keeps_every_buffer,
 *     test_ctxbuf_free_never_allocates]
 * C5 Runtime teardown (sa__ctxbuf_fini) frees every buffer still given out
 *    and the array (R3, runtime.c); the next runtime's set starts empty, so
 *    a pointer from before a shutdown is not ours (until the C library
 *    reissues its address, as for any freed pointer).
 *    [test_ctxbuf_shutdown_frees_outstanding_buffers,
 *     test_ctxbuf_buffers_from_before_shutdown_are_invalid_after_reinit]
 *
 * Key: [B] rt->buf_lock, LOCK ORDER #4 (sspi_int.h: after g_lock,
 * engine.lock and ctx.lock, before htable.lock).  In practice a leaf: no other library lock is taken under
 * it; only sa__calloc and sa__free run under it, when the array grows (C3).
 */
struct sa_ctxbuf {
	struct sa_ctxbuf *chain; /* [B] next in its bucket */
	_Alignas(16) unsigned char data[];
};

/* Bits beyond which the array does not grow (C3): its size stays far from
 * SIZE_MAX, and the hash's shift within 64. */
#define CTXBUF_MAX_BITS ((unsigned)(sizeof(size_t) * CHAR_BIT) - 8u)

/* Headers the calling thread's last lookup compared (the test hook). */
static _Thread_local size_t tl_compared;

/* The bucket of address @p: the top @bits bits of a Fibonacci hash
 * (2^64 / golden ratio), which spreads the evenly spaced addresses malloc
 * returns over every bucket. */
static size_t ctxbuf_bucket(const void *p, unsigned bits)
{
	uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);
	return (size_t)(h >> (64u - bits));
}

/* C3, C4: a bigger array if an insert would overload the set; on failure
 * the current one stays.  Context: rt->buf_lock held. */
static void ctxbuf_grow_locked(struct sa_ctxbuf_set *s)
{
	SA_ASSERT_HELD(&CONTAINER_OF(s, struct sa_runtime, bufs)->buf_lock);
	if (s->bucket == NULL) { /* the runtime's first buffer: the inline array */
		s->bucket = s->inline_bucket;
		s->bits = SA_CTXBUF_INLINE_BITS;
	}
	size_t n = (size_t)1 << s->bits;
	if (s->count < n || s->bits >= CTXBUF_MAX_BITS)
		return;
	unsigned bits = s->bits + 1;
	while (((size_t)1 << bits) <= s->count && bits < CTXBUF_MAX_BITS)
		bits++; /* after failed growths: room for all at once */
	struct sa_ctxbuf **nb = sa__calloc((size_t)1 << bits, sizeof *nb);
	if (nb == NULL)
		return; /* C4: the current array stays, chains get longer */
	for (size_t i = 0; i < n; i++) {
		struct sa_ctxbuf *b = s->bucket[i];
		while (b != NULL) {
			struct sa_ctxbuf *next = b->chain;
			size_t j = ctxbuf_bucket(b->data, bits);
			b->chain = nb[j];
			nb[j] = b;
			b = next;
		}
	}
	if (s->bucket != s->inline_bucket)
		sa__free(s->bucket);
	s->bucket = nb;
	s->bits = bits;
}

void *sa__ctxbuf_alloc(struct sa_runtime *rt, size_t n)
{
	if (n > SIZE_MAX - sizeof(struct sa_ctxbuf))
		return NULL;
	struct sa_ctxbuf *b = sa__malloc(sizeof *b + n);
	if (b == NULL)
		return NULL;
	struct sa_ctxbuf_set *s = &rt->bufs;
	SA_LOCK(&rt->buf_lock);
	ctxbuf_grow_locked(s);
	struct sa_ctxbuf **head = &s->bucket[ctxbuf_bucket(b->data, s->bits)];
	b->chain = *head;
	*head = b;
	s->count++;
	SA_UNLOCK(&rt->buf_lock);
	return b->data;
}

char *sa__ctxbuf_strdup(struct sa_runtime *rt, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = sa__ctxbuf_alloc(rt, n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

/* Take @p out of the set if it is one of ours (C2); returns its block to
 * free, or NULL.  Never allocates (C4). */
static struct sa_ctxbuf *ctxbuf_unlink(struct sa_runtime *rt, const void *p)
{
	struct sa_ctxbuf_set *s = &rt->bufs;
	struct sa_ctxbuf *found = NULL;
	size_t compared = 0;
	SA_LOCK(&rt->buf_lock);
	if (s->bucket != NULL) {
		struct sa_ctxbuf **link = &s->bucket[ctxbuf_bucket(p, s->bits)];
		for (struct sa_ctxbuf *b; (b = *link) != NULL; link = &b->chain) {
			compared++;
			if ((const void *)b->data == p) { /* addresses only: p is not read */
				*link = b->chain;
				s->count--;
				found = b;
				break;
			}
		}
	}
	SA_UNLOCK(&rt->buf_lock);
	tl_compared = compared;
	return found;
}

void sa__ctxbuf_free(struct sa_runtime *rt, void *p)
{
	if (p != NULL)
		sa__free(ctxbuf_unlink(rt, p));
}

size_t sa__ctxbuf_test_compared(void)
{
	return tl_compared;
}

void sa__ctxbuf_fini(struct sa_runtime *rt)
{
	struct sa_ctxbuf_set *s = &rt->bufs;
	SA_LOCK(&rt->buf_lock);
	if (s->bucket != NULL) {
		for (size_t i = 0; i < (size_t)1 << s->bits; i++) {
			struct sa_ctxbuf *b = s->bucket[i];
			while (b != NULL) {
				struct sa_ctxbuf *next = b->chain;
				sa__free(b);
				b = next;
			}
			s->bucket[i] = NULL;
		}
		if (s->bucket != s->inline_bucket)
			sa__free(s->bucket);
	}
	s->bucket = NULL;
	s->bits = 0;
	s->count = 0;
	SA_UNLOCK(&rt->buf_lock);
}

SECURITY_STATUS SEC_ENTRY FreeContextBuffer(PVOID pvContextBuffer)
{
	if (pvContextBuffer == NULL)
		return SEC_E_OK;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	struct sa_ctxbuf *b = ctxbuf_unlink(rt, pvContextBuffer);
	sa__free(b);
	/* Not ours, already freed, or from before a shutdown: refused, untouched (C2). */
	return sa__rt_exit(rt, b != NULL ? SEC_E_OK : SEC_E_INVALID_HANDLE);
}
