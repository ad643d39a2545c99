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
	struct sa_job delete_job;     /* reserved at creation: a delete never allocates */
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

/* Enter the runtime (initialising it with defaults if needed): SEC_E_OK and
 * *rt set, or SEC_E_INSUFFICIENT_MEMORY.  Pair with sa__rt_exit(). */
SECURITY_STATUS sa__rt_enter(struct sa_runtime **rt);
/* Leave it, counting @status among the completed calls (rt NULL: not a
 * completed call, e.g. a queued submission). Returns @status. */
SECURITY_STATUS sa__rt_exit(struct sa_runtime *rt, SECURITY_STATUS status);
/* Count an async call's completion with @status. */
void sa__rt_count(struct sa_runtime *rt, SECURITY_STATUS status);
/* Leave it after a function that is not a counted call (the async-context
 * and completion-queue functions), counting in rejected_stale the stale
 * handle it was given if @stale. */
void sa__rt_leave(struct sa_runtime *rt, int stale);
/* An entry into the runtime by an async-context or completion-queue
 * function: the runtime, and whether it is the one a shutdown tears down. */
struct sa_rt_entry {
	struct sa_runtime *rt;
	int dying;
};
/* For the async-context functions (free, reinit, callback, status) and the
 * completion-queue ones: like sa__rt_enter, but while a shutdown runs they
 * reach the runtime it tears down, from every thread, until nothing runs
 * there any more (R5 in runtime.c): a free still abandons a running call
 * and a callback that shutdown runs reads its own status.  SEC_E_OK and
 * @in filled (leave with sa__rt_leave_acall), or the status to return. */
SECURITY_STATUS sa__rt_enter_acall(struct sa_rt_entry *in);
/* Leave, counting in rejected_stale the stale handle it was given if @stale. */
void sa__rt_leave_acall(const struct sa_rt_entry *in, int stale);
/* Tests only: threads inside sspiasync_shutdown() waiting for another
 * thread's shutdown to finish (R6). */
unsigned sa__rt_test_shutdown_waiters(void);

/* --- ctxbuf.c ------------------------------------------------------------- */

/* Context buffers (FreeContextBuffer): allocate @n bytes given to the caller.
 * NULL when out of memory. */
void *sa__ctxbuf_alloc(struct sa_runtime *rt, size_t n);
/* Free one given out earlier (or not yet given out, on an error path); never
 * allocates (C4). */
void sa__ctxbuf_free(struct sa_runtime *rt, void *p);
/* Copy @s into a new context buffer; NULL when out of memory. */
char *sa__ctxbuf_strdup(struct sa_runtime *rt, const char *s);
/* Free every context buffer still given out, and the set's array (C5).
 * Context: runtime teardown, no call inside @rt. */
void sa__ctxbuf_fini(struct sa_runtime *rt);
/* Test hook: how many of our headers the calling thread's last lookup
 * (FreeContextBuffer, sa__ctxbuf_free) compared with the pointer (C3). */
size_t sa__ctxbuf_test_compared(void);

/* --- cred.c ---------------------------------------------------------------- */

/* Make a credential: SEC_E_OK with *h and *expiry set, or an error and
 * nothing made.  @identity: copied strings or NULL. */
SECURITY_STATUS sa__cred_acquire(struct sa_runtime *rt, const struct sa_package *pkg,
				 const char *principal, unsigned long use,
				 const struct sa_pkg_identity *identity, struct sa_handle *h,
				 int64_t *expiry);
/* A call on a credential, like sa__ctx_call_begin/end for contexts: enter
 * the runtime and reference the credential @ph (not NULL) names.  SEC_E_OK
 * (finish with sa__cred_call_end, which releases, leaves the runtime and
 * returns @st), or the status to return, with nothing held.
 * Context: any thread, no library lock held. */
SECURITY_STATUS sa__cred_call_begin(const CredHandle *ph, struct sa_runtime **rt,
				    struct sa_handle *h, struct sa_cred **cred);
SECURITY_STATUS sa__cred_call_end(struct sa_runtime *rt, struct sa_handle h, SECURITY_STATUS st);

/* --- wide.c ---------------------------------------------------------------- */

/* A new UTF-8 copy at *@out of the NUL-terminated UTF-16 @w (NULL gives
 * NULL).  SEC_E_OK; SEC_E_INVALID_PARAMETER (ill-formed UTF-16);
 * SEC_E_INSUFFICIENT_MEMORY.  Free with sa__free.  Context: any thread. */
SECURITY_STATUS sa__wide_in(const SEC_WCHAR *w, char **out);

/* --- identity.c ------------------------------------------------------------ */

/* Read the caller's @auth (any SEC_WINNT_AUTH_IDENTITY form) for package
 * @pkg into new UTF-8 copies at @out (all or none).  Returns SEC_E_OK;
 * SEC_E_INVALID_PARAMETER (bad Flags, Length, NULL string with a length,
 * ill-formed UTF-16, embedded NUL); SEC_E_UNSUPPORTED_FUNCTION (protected,
 * marshalled or EX2 identities); SEC_E_SECPKG_NOT_FOUND (a PackageList that
 * leaves @pkg nothing); SEC_E_INSUFFICIENT_MEMORY.
 * Context: any thread, no lock held. */
SECURITY_STATUS sa__identity_copy(const void *auth, const struct sa_package *pkg,
				  struct sa_pkg_identity *out);
/* Release (and wipe the password of) an identity sa__identity_copy made;
 * a zeroed one is a no-op.  Context: any thread. */
void sa__identity_free(struct sa_pkg_identity *pid);
/* Check AcquireCredentialsHandle's arguments but the identity (which
 * sa__identity_copy reads): SEC_E_OK and *pkg, *use set. */
SECURITY_STATUS sa__cred_args_check(const char *package, unsigned long use_in, const void *logon_id,
				    const struct sa_package **pkg, unsigned long *use);

/* --- status.c -------------------------------------------------------------- */

/* The one table from the inner modules' SA_* codes to SECURITY_STATUS. */
SECURITY_STATUS sa__status_from_sa(int code);

/* --- buffers.c ------------------------------------------------------------- */

/* Check a SecBufferDesc the caller passed: version, buffer array, and that
 * no buffer claims bytes at NULL.  SEC_E_OK or SEC_E_INVALID_PARAMETER.
 * NULL @desc is SEC_E_OK when @optional. */
SECURITY_STATUS sa__desc_check(const SecBufferDesc *desc, int optional);
/* The same for an ISC/ASC output description (NULL allowed), except that a
 * SECBUFFER_TOKEN may claim bytes at NULL: that is the leg's to answer
 * (*_REQ_ALLOCATE_MEMORY: ignored; without: SEC_E_INTERNAL_ERROR). */
SECURITY_STATUS sa__desc_check_leg_out(const SecBufferDesc *desc);
/* The first buffer of @type (attributes masked off) in @desc, or NULL. */
SecBuffer *sa__desc_find(const SecBufferDesc *desc, unsigned long type);

/* --- context.c ------------------------------------------------------------- */

/* Resolve a context handle pointer: acquire its entry.  SEC_E_OK and *ctx
 * set (pair with sa__ctx_put), or SEC_E_INVALID_HANDLE. */
SECURITY_STATUS sa__ctx_get(struct sa_runtime *rt, const CtxtHandle *h, struct sa_ctx **ctx);
void sa__ctx_put(struct sa_runtime *rt, struct sa_ctx *ctx);
/* Begin a call on an acquired context: wait until it is not busy, ask the
 * fsm to admit @ev; on SEC_E_OK the context is busy (end with sa__ctx_end). */
SECURITY_STATUS sa__ctx_begin(struct sa_ctx *ctx, enum sa_fsm_event ev);
/* End a call: apply @ev (if not SA_FSM_NEVENTS) with @status, clear busy.
 * Returns the status the fsm reports. */
SECURITY_STATUS sa__ctx_end(struct sa_ctx *ctx, enum sa_fsm_event ev, SECURITY_STATUS status);

/* For synchronous calls: sa__ctx_get, then run the async calls queued on
 * the context before this call (their callbacks wait for sspiasync_run). */
SECURITY_STATUS sa__ctx_get_sync(struct sa_runtime *rt, const CtxtHandle *h, struct sa_ctx **ctx);

/* The delete path: move an acquired context to DELETING (SEC_E_OK), or say
 * why not (SEC_E_INVALID_HANDLE: already deleting or deleted). */
SECURITY_STATUS sa__ctx_mark_deleting(struct sa_ctx *ctx);
/* 1 while the handshake is complete (COMPLETE): message calls can run. */
int sa__ctx_complete(struct sa_ctx *ctx);
/* 1 once a delete was accepted (DELETING or INVALID): no call is admitted. */
int sa__ctx_deleting(struct sa_ctx *ctx);
/* Tear down a DELETING context: handle removed, package state freed,
 * INVALID, credential released.  Never allocates. */
void sa__ctx_teardown(struct sa_runtime *rt, struct sa_ctx *ctx);
/* Every synchronous call on an existing context but the legs and delete:
 * enter the runtime, resolve @h, run the async calls queued before, have the
 * fsm admit a query-like call.  SEC_E_OK: the context is busy, end with
 * sa__ctx_call_end (which returns its status, left and counted).  Otherwise
 * the final status, with nothing held. */
SECURITY_STATUS sa__ctx_call_begin(const CtxtHandle *h, struct sa_runtime **rt, struct sa_ctx **ctx);
SECURITY_STATUS sa__ctx_call_end(struct sa_runtime *rt, struct sa_ctx *ctx, SECURITY_STATUS st);
/* The synchronous delete. */
SECURITY_STATUS sa__ctx_delete(struct sa_runtime *rt, const CtxtHandle *h);

/* Tear down every context and credential left (sspiasync_shutdown). */
void sa__ctx_delete_all(struct sa_runtime *rt);

/* Handle conversions between Microsoft's SecHandle and the table's form. */
static inline struct sa_handle sa__handle_from(const SecHandle *h)
{
	struct sa_handle r = {h->dwLower, h->dwUpper};
	return r;
}

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
				    * worker's scratch (W1, async_int.h) or allocated */
	int scratch;               /* room is the worker's scratch */
};

/* Fill @l's inputs and output pointers (results cleared). */
void sa__leg_init(struct sa_leg *l, enum sa_side side, const unsigned char *in, size_t in_len,
		  const char *target, unsigned long req, SecBuffer *out_tok, PCtxtHandle new_h,
		  unsigned long *attrs, PTimeStamp expiry);
/* Point @l at @in's SECBUFFER_CHANNEL_BINDINGS buffer, if it has one. */
void sa__leg_bindings(struct sa_leg *l, const SecBufferDesc *in);
/* Structural checks of one call's arguments (SEC_E_INVALID_PARAMETER, then
 * SEC_E_INVALID_HANDLE for a first leg without a credential); sets *out_tok
 * to the output's first SECBUFFER_TOKEN, NULL when it has none. */
SECURITY_STATUS sa__leg_check(enum sa_side side, const CredHandle *cred_h, const CtxtHandle *ctx_h,
			      unsigned long req, const SecBufferDesc *in, const CtxtHandle *new_h,
			      const SecBufferDesc *out, const unsigned long *attrs, SecBuffer **out_tok);
/* Resolve the handles: SEC_E_OK (release with sa__leg_release) or SEC_E_INVALID_HANDLE. */
SECURITY_STATUS sa__leg_resolve(struct sa_runtime *rt, struct sa_leg *l, const CredHandle *cred_h,
				const CtxtHandle *ctx_h);
/* Run the leg: admission or creation, the package, the fsm step. */
void sa__leg_perform(struct sa_runtime *rt, struct sa_leg *l);
/* Write a made leg's outputs. */
void sa__leg_output(struct sa_runtime *rt, struct sa_leg *l);
/* Drop what the leg holds; a first leg that made no context takes it out again. */
void sa__leg_release(struct sa_runtime *rt, struct sa_leg *l);

static inline void sa__timestamp_set(PTimeStamp ts, int64_t filetime)
{
	if (ts != NULL)
		ts->QuadPart = filetime;
}

#endif /* SSPIASYNC_SSPI_SSPI_INT_H */
