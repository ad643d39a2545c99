/*
 * src/sspi/sspi_int.h - private to src/sspi/: the runtime, the credential and
 * security-context objects, and the helpers the SSPI entry points share.
 *
 * src/sspi/ is the only place that sees everything: Microsoft's types
 * (sspi.h), the handle tables (handles.h), the lifecycle table (fsm.h) and
 * the packages (packages/package.h).  The invariants of the objects are
 * listed above their structs; the runtime's are in runtime.c.
 */
#ifndef SSPIASYNC_SSPI_SSPI_INT_H
#define SSPIASYNC_SSPI_SSPI_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sspiasync/fsm.h>
#include <sspiasync/handles.h>
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "async/async.h"

/*
 * LOCK ORDER - every mutex of the library, in the one order they nest (a
 * tree that is a single chain): a thread takes a lock only while every lock
 * it holds is above it here.  No lock is held across a package leg or a
 * user callback.  `make asan`/`make tsan` assert at the top of every
 * _locked helper that its lock is held (src/util/lock.h, SA_ASSERT_HELD).
 *
 *   #1 runtime g_lock                 src/sspi/runtime.c (init, shutdown, stats)
 *    `-- #2 engine lock               src/async/async_int.h, struct sa_engine
 *         `-- #3 security-context lock    struct sa_ctx below
 *              `-- #4 context-buffer lock struct sa_runtime below (buf_lock)
 *                   `-- #5 handle-table lock  src/handles/htable.c, struct sa_htable
 *                        `-- #6 htable's process-wide g_lock: a leaf; nothing is
 *                            locked or allocated under it; the fork handlers
 *                            take it alone
 */

/* The struct of type @type whose member @member is at @p. */
#define CONTAINER_OF(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))
#include "packages/package.h"

/* The kinds the SSPI layer gives its tables (handles.h: 1..254). */
enum sa_kind {
	SA_KIND_CRED = 0x43,  /* 'C' */
	SA_KIND_CTXT = 0x58,  /* 'X' */
	SA_KIND_ASYNC = 0x41, /* 'A' (the async layer) */
};

/*
 * A credential (CredHandle).
 * I1 The credential table owns it: the entry's destructor frees it, package
 *    state included, when the handle was freed and no context holds it.
 * I2 Every context made from it holds one table reference (acquired at
 *    creation, released at delete), so FreeCredentialsHandle invalidates the
 *    handle at once while the object lives on.
 * Key: [i] immutable after AcquireCredentialsHandle returned.
 */
struct sa_cred {
	const struct sa_package *pkg; /* [i] */
	void *pkg_cred;               /* [i] the package's state */
	unsigned long use;            /* [i] SECPKG_CRED_* */
	int64_t expiry;               /* [i] FILETIME */
};

enum sa_side { SA_SIDE_INITIATOR = 1, SA_SIDE_ACCEPTOR = 2 };

/*
 * A security context (CtxtHandle).
 * I1 state is a fsm state other than NEW, changed only by sa_fsm_step under
 *    lock: every transition goes through the lifecycle table.
 * I2 At most one call runs on the context at a time: a call sets busy under
 *    lock, runs with the lock dropped (package legs hold no library lock),
 *    and clears busy and signals idle when done.
 * I3 The package state is torn down exactly once, by the delete path, after
 *    the handle was removed from the table (so no new call can start).
 * I4 The context holds one reference on its credential's table entry,
 *    released by the delete path after teardown.
 * Key: [i] immutable after creation, [L] lock.
 */
struct sa_ctx {
	pthread_mutex_t lock;         /* LOCK ORDER #3 (above); guards [L] */
	pthread_cond_t idle;          /* signalled when busy goes 0 */
	uint8_t state;                /* [L] enum sa_fsm_state */
	uint8_t busy;                 /* [L] a call is running on the context */
	_Atomic uint8_t deleting;     /* [a] state is DELETING or INVALID; written with state under
				       * [L], read without it as a hint (sa__ctx_deleting) */
	uint8_t side;                 /* [i] enum sa_side */
	const struct sa_package *pkg; /* [i] */
	struct sa_cred *cred;         /* [i] referenced through cred_h */
	struct sa_handle cred_h;      /* [i] */
	struct sa_handle self;        /* [i] */
	uint64_t id;                  /* [i] for traces */
	struct sa_runtime *rt;        /* [i] */
	void *pkg_ctx;                /* [L] while not busy; the running call's while busy */
	int64_t expiry;               /* [L] */
	unsigned long flags;          /* [L] ISC_RET_/ASC_RET_ of the last leg that made a step */
	struct sa_serial serial;      /* the engine's: async calls queued on this context */
};

/*
 * The context buffers a runtime gave out and not yet took back: a hash set
 * keyed by the buffer's address, chained through our headers.  Zeroed is
 * empty.  Invariants C1-C5: src/sspi/ctxbuf.c, above struct sa_ctxbuf.
 * Key: [B] the runtime's buf_lock.
 */
#define SA_CTXBUF_INLINE_BITS 3u
struct sa_ctxbuf_set {
	struct sa_ctxbuf **bucket; /* [B] 1 << bits chains: inline_bucket or allocated; NULL
				    * until the runtime's first buffer */
	unsigned bits;             /* [B] */
	size_t count;              /* [B] buffers in the set */
	struct sa_ctxbuf *inline_bucket[1u << SA_CTXBUF_INLINE_BITS]; /* [B] the first array (C4) */
};

/*
 * The runtime: everything sspiasync_init() makes and sspiasync_shutdown()
 * frees.  Key: [i] immutable while the runtime is published, [a] atomic,
 * [B] buf_lock.
 */
struct sa_runtime {
	struct sa_engine *engine;         /* [i] async calls */
	struct sa_htable *creds;          /* [i] */
	struct sa_htable *ctxts;          /* [i] */
	pthread_mutex_t buf_lock;         /* LOCK ORDER #4 (above); guards [B] */
	struct sa_ctxbuf_set bufs;        /* [B] context buffers given out, not yet freed */
	_Atomic uint64_t next_ctx_id;     /* [a] */
	int trace;                        /* [i] SSPIASYNC_TRACE=1: print every transition */
	struct sa_runtime *abandoned_next; /* a fork's child: the list of runtimes left behind */
};

/* The engine's statistics counters (sa__engine_count), as the runtime uses them. */
enum { SA_STAT_COMPLETED = 0, SA_STAT_STALE = 1 };

/* --- runtime.c ------------------------------------------------------------- */

/*
 * sa__rt_enter() - Enter the runtime, creating it with the defaults
 * (SSPIASYNC_THREADS, SSPIASYNC_TRACE) if none exists.  Returns SEC_E_OK and
 * sets *rt: the call is inside until its one sa__rt_exit() or sa__rt_leave(),
 * and a shutdown waits for it (R1); SEC_E_SHUTDOWN_IN_PROGRESS while a
 * shutdown runs; SEC_E_INSUFFICIENT_MEMORY (creating the runtime failed).  On
 * failure *rt is untouched and the call is not inside.
 * Context: any thread, a callback included; no library lock held (takes
 * g_lock when no runtime is published); creating one allocates and starts
 * the worker threads.
 */
SECURITY_STATUS sa__rt_enter(struct sa_runtime **rt);
/*
 * sa__rt_exit() - Leave the runtime entered by sa__rt_enter(), counting
 * @status among the completed calls unless @rt is NULL (not a completed
 * call, e.g. a queued submission).  Returns @status; never fails.  From here
 * a shutdown may proceed (R1): the caller uses the runtime no more.
 * Context: the call that entered, any thread; no library lock held (may take
 * g_lock to wake a waiting shutdown); allocates nothing.
 */
SECURITY_STATUS sa__rt_exit(struct sa_runtime *rt, SECURITY_STATUS status);
/*
 * sa__rt_leave() - Leave the runtime after a function that is not a counted
 * call (the async-context and completion-queue functions), counting in
 * rejected_stale the stale handle it was given if @stale.  Never fails.
 * Context: as sa__rt_exit().
 */
void sa__rt_leave(struct sa_runtime *rt, int stale);
/* An entry into the runtime by an async-context or completion-queue
 * function: the runtime, and whether it is the one a shutdown tears down. */
struct sa_rt_entry {
	struct sa_runtime *rt;
	int dying;
};
/*
 * sa__rt_enter_acall() - For the async-context functions (free, reinit,
 * callback, status) and the completion-queue ones: like sa__rt_enter, but
 * while a shutdown runs they reach the runtime it tears down, from every
 * thread, until nothing runs there any more (R5 in runtime.c): a free still
 * abandons a running call and a callback that shutdown runs reads its own
 * status.  SEC_E_OK and @in filled (leave with sa__rt_leave_acall), or the
 * status to return with nothing held: SEC_E_SHUTDOWN_IN_PROGRESS (the dying
 * runtime's door is closed) or SEC_E_INSUFFICIENT_MEMORY.
 * Context: any thread, a callback included; no library lock held; like
 * sa__rt_enter it creates the runtime if none exists (allocates, starts
 * workers), even for a free.
 */
SECURITY_STATUS sa__rt_enter_acall(struct sa_rt_entry *in);
/*
 * sa__rt_leave_acall() - Leave through the door sa__rt_enter_acall() used,
 * counting in rejected_stale the stale handle it was given if @stale.  Never
 * fails.
 * Context: the call that entered; no library lock held (may take g_lock to
 * wake a waiting shutdown).
 */
void sa__rt_leave_acall(const struct sa_rt_entry *in, int stale);
/*
 * sa__rt_test_shutdown_waiters() - Tests only: threads inside
 * sspiasync_shutdown() waiting for another thread's shutdown to finish (R6);
 * a snapshot.  Context: any thread; lock-free.
 */
unsigned sa__rt_test_shutdown_waiters(void);
/*
 * sa__rt_test_engine_check() - Tests only: sa__engine_check() of the
 * published runtime's engine (SA_OK or SA_EINVAL); SA_OK when there is no
 * runtime or a shutdown runs (nothing to check).  Creates nothing.
 * Context: any thread, a callback included; no library lock held (takes
 * g_lock, then the engine lock under it).
 */
int sa__rt_test_engine_check(void);

/* --- ctxbuf.c ------------------------------------------------------------- */

/*
 * sa__ctxbuf_alloc() - A context buffer of @n bytes (16-byte aligned) to give
 * the caller, who frees it with FreeContextBuffer.  NULL when out of memory
 * (or @n too large), nothing changed.  A failed growth of the set only makes
 * its chains longer (C4).
 * Context: any thread inside @rt; takes buf_lock (LOCK ORDER #4): callable
 * under the engine lock or a context lock, not a handle table's; allocates.
 */
void *sa__ctxbuf_alloc(struct sa_runtime *rt, size_t n);
/*
 * sa__ctxbuf_free() - Free the context buffer @p, given out earlier (or not
 * yet given out, on an error path); NULL is a no-op.  A pointer that is not a
 * live buffer of @rt is ignored silently (FreeContextBuffer reports it).
 * Never fails, never allocates (C4).
 * Context: any thread inside @rt; takes buf_lock (#4): callable under the
 * engine lock (an async leg's copy-out) or a context lock.
 */
void sa__ctxbuf_free(struct sa_runtime *rt, void *p);
/*
 * sa__ctxbuf_strdup() - Copy the string @s (not NULL) into a new context
 * buffer; NULL when out of memory, nothing changed.
 * Context: as sa__ctxbuf_alloc().
 */
char *sa__ctxbuf_strdup(struct sa_runtime *rt, const char *s);
/*
 * sa__ctxbuf_fini() - Free every context buffer still given out, and the
 * set's array (C5); the set is empty after it, so FreeContextBuffer of a
 * pointer from before is refused.  Never fails.
 * Context: runtime teardown, no call inside @rt; takes buf_lock.
 */
void sa__ctxbuf_fini(struct sa_runtime *rt);
/*
 * sa__ctxbuf_test_compared() - Test hook: how many of our headers the calling
 * thread's last lookup (FreeContextBuffer, sa__ctxbuf_free) compared with the
 * pointer (C3).  Context: any thread; reads a thread-local.
 */
size_t sa__ctxbuf_test_compared(void);

/* --- cred.c ---------------------------------------------------------------- */

/*
 * sa__cred_acquire() - Make a credential of @pkg (the package's cred_acquire
 * with @principal, @use and @identity: copied strings or NULL) and insert it
 * in @rt's credential table.  Returns SEC_E_OK with *h and *expiry set; the
 * package's failure status; or SEC_E_INSUFFICIENT_MEMORY (memory, or the
 * table full).  On failure *h and *expiry are untouched and nothing is made.
 * Context: any thread inside @rt (a synchronous caller, or the worker running
 * an async acquire); no library lock held; allocates; runs the package,
 * which may block.
 */
SECURITY_STATUS sa__cred_acquire(struct sa_runtime *rt, const struct sa_package *pkg,
				 const char *principal, unsigned long use,
				 const struct sa_pkg_identity *identity, struct sa_handle *h,
				 int64_t *expiry);
/*
 * sa__cred_call_begin() - A call on a credential, like sa__ctx_call_begin/end
 * for contexts: enter the runtime and reference the credential @ph (not
 * NULL) names.  SEC_E_OK (finish with sa__cred_call_end, which releases,
 * leaves the runtime and returns @st), or the status to return, with
 * nothing held: SEC_E_SHUTDOWN_IN_PROGRESS or SEC_E_INSUFFICIENT_MEMORY
 * (entering), SEC_E_INVALID_HANDLE (stale or forged), SEC_E_INSUFFICIENT_MEMORY
 * (reference count saturated); a bad handle is counted as a completed call.
 * On failure *cred is untouched but *rt and *h may be written.
 * Context: any thread, no library lock held; may create the runtime.
 */
SECURITY_STATUS sa__cred_call_begin(const CredHandle *ph, struct sa_runtime **rt,
				    struct sa_handle *h, struct sa_cred **cred);
/*
 * sa__cred_call_end() - End a call sa__cred_call_begin() began: release the
 * credential @h (the last reference of a freed handle frees it: the
 * package's cred_free), then leave @rt counting @st.  Returns @st; never
 * fails.
 * Context: any thread; no library lock held; allocates nothing.
 */
SECURITY_STATUS sa__cred_call_end(struct sa_runtime *rt, struct sa_handle h, SECURITY_STATUS st);

/* --- tables.c -------------------------------------------------------------- */

/* What a not-implemented attribute call answers: SEC_E_INVALID_PARAMETER
 * for a NULL @buf, else SEC_E_INVALID_HANDLE for a bad handle (a context
 * one as any query-like call, running the calls queued on it first), else
 * SEC_E_UNSUPPORTED_FUNCTION.  Nothing else changes.  Shared by the
 * Set/Query*AttributesEx stubs and the W queries of attributes whose
 * strings are not converted.  Context: any thread, no library lock held. */
SECURITY_STATUS sa__unsupported_ctx_attr(const CtxtHandle *ph, const void *buf);
SECURITY_STATUS sa__unsupported_cred_attr(const CredHandle *ph, const void *buf);

/* --- wide.c ---------------------------------------------------------------- */

/*
 * sa__wide_in() - A new UTF-8 copy at *@out of the NUL-terminated UTF-16 @w
 * (NULL gives NULL).  SEC_E_OK; SEC_E_INVALID_PARAMETER (ill-formed UTF-16);
 * SEC_E_INSUFFICIENT_MEMORY.  On failure *out is NULL and nothing is
 * allocated.  Free with sa__free.
 * Context: any thread, no runtime needed; allocates.
 */
SECURITY_STATUS sa__wide_in(const SEC_WCHAR *w, char **out);

/* --- identity.c ------------------------------------------------------------ */

/*
 * sa__identity_copy() - Read the caller's @auth (any SEC_WINNT_AUTH_IDENTITY
 * form) for package @pkg into new UTF-8 copies at @out (all or none).
 * Returns SEC_E_OK; SEC_E_INVALID_PARAMETER (bad Flags, Length, NULL string
 * with a length, ill-formed UTF-16, embedded NUL); SEC_E_UNSUPPORTED_FUNCTION
 * (protected, marshalled or EX2 identities); SEC_E_SECPKG_NOT_FOUND (a
 * PackageList that leaves @pkg nothing); SEC_E_INSUFFICIENT_MEMORY.  On
 * failure nothing stays allocated and @out holds no string (untouched when
 * the layout is refused, else NULL strings): sa__identity_free on it is safe.
 * Context: any thread, no lock held, no runtime needed; allocates.
 */
SECURITY_STATUS sa__identity_copy(const void *auth, const struct sa_package *pkg,
				  struct sa_pkg_identity *out);
/*
 * sa__identity_free() - Release (and wipe the password of) an identity
 * sa__identity_copy made, leaving its strings NULL; a zeroed one is a no-op.
 * Never fails.  Context: any thread.
 */
void sa__identity_free(struct sa_pkg_identity *pid);
/*
 * sa__cred_args_check() - Check AcquireCredentialsHandle's arguments but the
 * identity (which sa__identity_copy reads): SEC_E_OK and *pkg, *use set
 * (@use_in without SECPKG_CRED_RESERVED); SEC_E_INVALID_PARAMETER (NULL
 * @package, non-NULL @logon_id, a use other than INBOUND, OUTBOUND or BOTH)
 * with *pkg and *use untouched; SEC_E_SECPKG_NOT_FOUND, *pkg set to NULL.
 * Context: any thread, no runtime needed; allocates nothing.
 */
SECURITY_STATUS sa__cred_args_check(const char *package, unsigned long use_in, const void *logon_id,
				    const struct sa_package **pkg, unsigned long *use);

/* --- status.c -------------------------------------------------------------- */

/*
 * sa__status_from_sa() - The one table from the inner modules' SA_* codes to
 * SECURITY_STATUS: SA_ENOSPC and SA_EBUSY (a full table, a saturated
 * reference count) are SEC_E_INSUFFICIENT_MEMORY; a code not in the table is
 * SEC_E_INTERNAL_ERROR.  Context: any thread; pure.
 */
SECURITY_STATUS sa__status_from_sa(int code);

/* --- buffers.c ------------------------------------------------------------- */

/*
 * sa__desc_check() - Check a SecBufferDesc the caller passed: version, buffer
 * array, and that no buffer but a SECBUFFER_MISSING claims bytes at NULL.
 * SEC_E_OK or SEC_E_INVALID_PARAMETER.  NULL @desc is SEC_E_OK when
 * @optional; no buffers (cBuffers 0) is SEC_E_OK.
 * Context: any thread, no runtime needed; reads @desc and its array, never a
 * buffer's bytes.
 */
SECURITY_STATUS sa__desc_check(const SecBufferDesc *desc, int optional);
/*
 * sa__desc_check_leg_out() - The same for an ISC/ASC output description (NULL
 * allowed), except that a SECBUFFER_TOKEN may claim bytes at NULL: that is
 * the leg's to answer (*_REQ_ALLOCATE_MEMORY: ignored; without:
 * SEC_E_INTERNAL_ERROR).  Context: as sa__desc_check().
 */
SECURITY_STATUS sa__desc_check_leg_out(const SecBufferDesc *desc);
/*
 * sa__desc_find() - The first buffer of @type (attributes masked off) in
 * @desc, a pointer into the caller's array; NULL if none, or @desc or its
 * array is NULL.  The version is not checked (sa__desc_check first).
 * Context: any thread; pure.
 */
SecBuffer *sa__desc_find(const SecBufferDesc *desc, unsigned long type);

/* --- context.c ------------------------------------------------------------- */

/*
 * sa__ctx_get() - Resolve a context handle pointer: acquire its entry.
 * SEC_E_OK and *ctx set (pair with sa__ctx_put); SEC_E_INVALID_HANDLE (NULL
 * @h, stale, forged or another kind; a context being deleted is found until
 * its teardown removes the handle); SEC_E_INSUFFICIENT_MEMORY (reference
 * count saturated).  On failure *ctx is untouched.
 * Context: any thread inside @rt; lock-free; never blocks, allocates nothing.
 */
SECURITY_STATUS sa__ctx_get(struct sa_runtime *rt, const CtxtHandle *h, struct sa_ctx **ctx);
/*
 * sa__ctx_put() - Drop a reference sa__ctx_get() took.  The last one of a
 * removed context frees it (lock and condvar destroyed), its embedded
 * delete job with it.  Never fails.
 * Context: any thread; @ctx->lock not held; may take the context table's
 * lock.
 */
void sa__ctx_put(struct sa_runtime *rt, struct sa_ctx *ctx);
/*
 * sa__ctx_begin() - Begin a call on an acquired context: wait until it is not
 * busy, ask the fsm to admit @ev; on SEC_E_OK the context is busy (end with
 * sa__ctx_end).  Otherwise the fsm's refusal, state unchanged (fsm I5):
 * SEC_E_OUT_OF_SEQUENCE (a leg on a COMPLETE or REJECTED context, a query on
 * a REJECTED one) or SEC_E_INVALID_HANDLE (DELETING, INVALID).  A NEW
 * context admits only a leg: other events are IMPOSSIBLE cells (asserted;
 * SEC_E_INTERNAL_ERROR in a release build).
 * Context: any thread holding a reference; no library lock held; blocks
 * while another call runs on the context; allocates nothing; prints the
 * step to stderr under SSPIASYNC_TRACE=1.
 */
SECURITY_STATUS sa__ctx_begin(struct sa_ctx *ctx, enum sa_fsm_event ev);
/*
 * sa__ctx_end() - End a call sa__ctx_begin() began (busy, asserted): apply
 * @ev (if not SA_FSM_NEVENTS) with @status, clear busy and wake the calls
 * waiting.  Returns the status the fsm reports (@status for SA_FSM_NEVENTS);
 * never fails.
 * Context: any thread; no library lock held; takes @ctx->lock; allocates
 * nothing.
 */
SECURITY_STATUS sa__ctx_end(struct sa_ctx *ctx, enum sa_fsm_event ev, SECURITY_STATUS status);

/*
 * sa__ctx_get_sync() - For synchronous calls: sa__ctx_get, then run the async
 * calls queued on the context before this call, on this thread
 * (sa__engine_drain; their callbacks are delivered by a worker, or in
 * no-thread mode wait for sspiasync_run).  Returns as sa__ctx_get(); on
 * failure nothing ran.
 * Context: any thread inside @rt, a callback included; no library lock held;
 * may block (a queued call running elsewhere) and runs package legs here.
 */
SECURITY_STATUS sa__ctx_get_sync(struct sa_runtime *rt, const CtxtHandle *h, struct sa_ctx **ctx);

/*
 * sa__ctx_mark_deleting() - The delete path: move an acquired context to
 * DELETING (SEC_E_OK), or say why not (SEC_E_INVALID_HANDLE: already deleting
 * or deleted; nothing changed).  It does not wait for a running call: a leg
 * already running finishes and reports its own status, calls not yet
 * admitted are refused.  Exactly one caller gets SEC_E_OK and must tear the
 * context down (sa__ctx_teardown).  @ctx must not be NEW (IMPOSSIBLE:
 * asserted; SEC_E_INTERNAL_ERROR in a release build).
 * Context: any thread holding a reference; no library lock held; takes
 * @ctx->lock; never waits; allocates nothing.
 */
SECURITY_STATUS sa__ctx_mark_deleting(struct sa_ctx *ctx);
/*
 * sa__ctx_complete() - 1 while the handshake is complete (COMPLETE): message
 * calls can run; else 0.  A snapshot: a delete may follow at once.
 * Context: any thread holding a reference; no library lock held; takes
 * @ctx->lock.
 */
int sa__ctx_complete(struct sa_ctx *ctx);
/*
 * sa__ctx_deleting() - 1 once a delete was accepted (DELETING or INVALID): no
 * call is admitted; else 0, a snapshot (a delete may be accepted at once,
 * or have been an instant ago: admission decides again).
 * Context: any thread holding a reference; any lock; lock-free (a relaxed
 * load).
 */
int sa__ctx_deleting(struct sa_ctx *ctx);
/*
 * sa__ctx_teardown() - Tear down a DELETING context (asserted), once, by the
 * caller whose sa__ctx_mark_deleting() succeeded: wait until no call runs on
 * it (a running leg finishes first), remove the handle, free the package
 * state, step to INVALID, release the credential (the last reference of a
 * freed credential frees it).  The caller's reference keeps @ctx's memory
 * until its sa__ctx_put().  Never fails, never allocates.
 * Context: any thread inside @rt (a synchronous delete, the delete job,
 * shutdown); no library lock held; may block; runs the package's ctx_delete
 * with no lock held.
 */
void sa__ctx_teardown(struct sa_runtime *rt, struct sa_ctx *ctx);
/*
 * sa__ctx_call_begin() - Every synchronous call on an existing context but
 * the legs and delete: enter the runtime, resolve @h, run the async calls
 * queued before, have the fsm admit a query-like call.  SEC_E_OK: the
 * context is busy, end with sa__ctx_call_end (which returns its status, left
 * and counted).  Otherwise the final status, with nothing held:
 * SEC_E_SHUTDOWN_IN_PROGRESS or SEC_E_INSUFFICIENT_MEMORY (entering);
 * SEC_E_INVALID_HANDLE (stale, forged, deleting); SEC_E_OUT_OF_SEQUENCE
 * (REJECTED); SEC_E_INSUFFICIENT_MEMORY (reference count saturated).  A
 * failure after entering is counted as a completed call, and *rt may be
 * written even then.
 * Context: any thread, a callback included; no library lock held; may create
 * the runtime; may block (queued calls, a call running on the context) and
 * runs queued package legs here.
 */
SECURITY_STATUS sa__ctx_call_begin(const CtxtHandle *h, struct sa_runtime **rt, struct sa_ctx **ctx);
/*
 * sa__ctx_call_end() - End a call sa__ctx_call_begin() began: clear busy (no
 * fsm step), drop the reference, leave @rt counting @st.  Returns @st; never
 * fails.
 * Context: any thread; no library lock held; allocates nothing.
 */
SECURITY_STATUS sa__ctx_call_end(struct sa_runtime *rt, struct sa_ctx *ctx, SECURITY_STATUS st);
/*
 * sa__ctx_delete() - The synchronous delete of @h, inside @rt (the caller
 * entered it): mark it DELETING, run the calls queued on it here (legs
 * complete SEC_E_INVALID_HANDLE without the package), tear it down.  Returns
 * SEC_E_OK (deleted); SEC_E_INVALID_HANDLE (NULL, stale or forged @h, or a
 * delete already accepted: it returns at once, without waiting for that
 * one); SEC_E_INSUFFICIENT_MEMORY (reference count saturated).  On failure
 * nothing is done.
 * Context: any thread inside @rt, an async call's undo() included; no
 * library lock held; may block (a call running on the context); allocates
 * nothing; runs the package's ctx_delete.
 */
SECURITY_STATUS sa__ctx_delete(struct sa_runtime *rt, const CtxtHandle *h);

/*
 * sa__ctx_delete_all() - Shutdown: delete every context left in @rt's table
 * (sa__ctx_delete) and remove every credential handle left (each freed with
 * its last reference).  Never fails.
 * Context: sspiasync_shutdown, after the engine ran or cancelled every call
 * and with no call inside @rt; no library lock held; runs package teardown.
 */
void sa__ctx_delete_all(struct sa_runtime *rt);

/*
 * sa__handle_from() - Handle conversions between Microsoft's SecHandle and
 * the table's form: the table's form of @h (not NULL).  Never fails.
 * Context: any thread; pure.
 */
static inline struct sa_handle sa__handle_from(const SecHandle *h)
{
	struct sa_handle r = {h->dwLower, h->dwUpper};
	return r;
}

/*
 * sa__handle_to() - Write @h in Microsoft's form at @out (not NULL).  Never
 * fails.  Context: any thread; writes only *@out.
 */
static inline void sa__handle_to(SecHandle *out, struct sa_handle h)
{
	out->dwLower = h.lower;
	out->dwUpper = h.upper;
}

/* --- context.c: the one leg path (sync and async) ------------------------- */

/* One ISC/ASC leg, its handles resolved.  Inputs point at memory that stays
 * put while the leg runs (the caller's for sync calls, the job's copies for
 * async ones); outputs are written only by sa__leg_output. */
struct sa_leg {
	enum sa_side side;
	int first;                 /* NEW: no context yet */
	struct sa_cred *cred;      /* first leg: referenced through cred_h */
	struct sa_handle cred_h;
	struct sa_ctx *ctx;        /* later leg: referenced; first leg: made by sa__leg_perform */
	const unsigned char *in;
	size_t in_len;
	const char *target;
	const unsigned char *bindings; /* SECBUFFER_CHANNEL_BINDINGS contents, or NULL */
	size_t bindings_len;
	unsigned long req;
	SecBuffer *out_tok;        /* the caller's token buffer, or NULL (no room) */
	size_t out_cap;            /* its room when the call was made */
	int allocate;              /* *_REQ_ALLOCATE_MEMORY, and a token buffer to fill */
	int out_at_null;           /* the token buffer claims bytes at NULL without
				    * allocate: the leg answers SEC_E_INTERNAL_ERROR */
	PCtxtHandle new_h;
	unsigned long *attrs;
	PTimeStamp expiry;
	/* results */
	SECURITY_STATUS status;
	int made;                  /* the leg left a context: outputs to write */
	struct sa_pkg_leg pkg_leg;
	unsigned char *room;       /* the package's output: a context buffer (allocate), the
				    * job's scratch (sa_job_env, W1 in async_int.h) or allocated */
	int scratch;               /* room is the job's scratch: not ours to free */
};

/*
 * sa__leg_init() - Fill @l's inputs and output pointers (results cleared);
 * @out_tok (may be NULL) is read now: its room and pvBuffer as of the call.
 * Never fails.  Context: any thread, no runtime needed.
 */
void sa__leg_init(struct sa_leg *l, enum sa_side side, const unsigned char *in, size_t in_len,
		  const char *target, unsigned long req, SecBuffer *out_tok, PCtxtHandle new_h,
		  unsigned long *attrs, PTimeStamp expiry);
/*
 * sa__leg_bindings() - Point @l at @in's SECBUFFER_CHANNEL_BINDINGS buffer,
 * if it has a non-empty one: not copied, so it must stay put while @l is
 * used (an async submission copies it).  Never fails.
 * Context: any thread, no runtime needed.
 */
void sa__leg_bindings(struct sa_leg *l, const SecBufferDesc *in);
/*
 * sa__leg_check() - Structural checks of one call's arguments
 * (SEC_E_INVALID_PARAMETER: NULL @attrs, neither @ctx_h nor @new_h, a bad @in
 * or @out; then SEC_E_INVALID_HANDLE for a first leg without a credential);
 * sets *out_tok to the output's first SECBUFFER_TOKEN, NULL when it has none,
 * for SEC_E_OK and SEC_E_INVALID_HANDLE (untouched otherwise).  ISC's
 * Reserved1/2 are the callers' to check; @side and @req are not looked at.
 * Context: any thread, no runtime needed; reads the caller's structures,
 * changes nothing.
 */
SECURITY_STATUS sa__leg_check(enum sa_side side, const CredHandle *cred_h, const CtxtHandle *ctx_h,
			      unsigned long req, const SecBufferDesc *in, const CtxtHandle *new_h,
			      const SecBufferDesc *out, const unsigned long *attrs, SecBuffer **out_tok);
/*
 * sa__leg_resolve() - Resolve the handles: a first leg (@ctx_h NULL)
 * references the credential @cred_h (not NULL: sa__leg_check), a later leg
 * the context @ctx_h, which must be of @l's side.  SEC_E_OK (release with
 * sa__leg_release); SEC_E_INVALID_HANDLE (stale, forged, wrong side) or
 * SEC_E_INSUFFICIENT_MEMORY (reference count saturated), with nothing held
 * (though @l's handle fields are written): then no sa__leg_release.
 * Context: any thread inside @rt; lock-free; never blocks, allocates nothing.
 */
SECURITY_STATUS sa__leg_resolve(struct sa_runtime *rt, struct sa_leg *l, const CredHandle *cred_h,
				const CtxtHandle *ctx_h);
/*
 * sa__leg_perform() - Run the leg: admission (a later leg waits until no call
 * runs on the context) or creation (a first leg's context, in the table but
 * unpublished, busy), the output room (@env's scratch when it has room and
 * the buffer is the caller's, else allocated; @env NULL: none), the package
 * with no lock held, the fsm step.  Never fails as a call: l->status is the leg's status, l->made
 * whether it left a context whose outputs to write (sa__leg_output).  A
 * refused leg (out of sequence, deleting, no memory, a token buffer claiming
 * bytes at NULL) changes nothing.
 * Context: any thread inside @rt (a synchronous caller, a worker, a thread in
 * sspiasync_run or a drain); no library lock held; may block (waiting, the
 * package; NTLM may call the user's lookup function); allocates; follow with
 * sa__leg_release while @env's scratch is still the job's (before its
 * release() returns, W1).
 */
void sa__leg_perform(struct sa_runtime *rt, struct sa_leg *l, const struct sa_job_env *env);
/*
 * sa__leg_output() - Write a made leg's outputs (call only when l->made):
 * the token (copied to the caller's buffer, or the context buffer handed over
 * with *_RET_ALLOCATED_MEMORY; with nothing to send an allocated room is
 * freed and pvBuffer set to NULL), cbBuffer, *attrs, and *expiry and *new_h
 * when not NULL.  Never fails; allocates nothing.
 * Context: any thread; no lock needed, or under the engine lock (an async
 * call's copy-out, in the engine's finish hold): it takes only buf_lock (#4).
 */
void sa__leg_output(struct sa_runtime *rt, struct sa_leg *l);
/*
 * sa__leg_release() - Drop what the leg holds: its room (freed, a context
 * buffer not handed over included; a job's scratch stays the engine's), a later
 * leg's context reference; a first leg that made no context takes it out
 * again (freed), and its credential reference goes unless the made context
 * now holds it.  Never fails; allocates nothing.
 * Context: after a successful sa__leg_resolve, any thread; no library lock
 * held (the last references it drops run destructors: a package's
 * cred_free).
 */
void sa__leg_release(struct sa_runtime *rt, struct sa_leg *l);

/*
 * sa__timestamp_set() - Set *@ts to @filetime unless @ts is NULL.  Never
 * fails.  Context: any thread; writes only *@ts.
 */
static inline void sa__timestamp_set(PTimeStamp ts, int64_t filetime)
{
	if (ts != NULL)
		ts->QuadPart = filetime;
}

/* --- async_api.c ------------------------------------------------------------ */

/*
 * sa__async_job_room() - The room the largest job of the Sspi*Async family
 * takes in an async context (sa_engine_config.job_room): a leg's job with
 * its inline input bytes.  Never fails.
 * Context: any thread, any lock.
 */
size_t sa__async_job_room(void);

#endif /* SSPIASYNC_SSPI_SSPI_INT_H */
