/*
 * src/sspi/runtime.c - the library's runtime: sspiasync_init, _shutdown,
 * _stats, and the implicit initialisation by the first SSPI call (the
 * context buffers FreeContextBuffer accepts are in ctxbuf.c).
 *
 * Invariants (tests in test/check_sspi_sync.c):
 * R1 g_rt is published only fully built, and freed only after every call
 *    that entered it has left (the g_active stripes sum to 0); calls
 *    starting meanwhile get SEC_E_SHUTDOWN_IN_PROGRESS.  The count is kept
 *    in stripes, a thread always on its own one, so callers on different
 *    threads do not contend for one cache line; each stripe is exact
 *    (seq_cst), so a sum of 0 read after g_shutting_down was set means no
 *    call is inside: a call entering after its stripe was read sees
 *    g_shutting_down and leaves without touching g_rt.
 * R2 After shutdown every handle issued before is invalid: the next runtime
 *    has new tables with their own check keys (and, until 2^24 - 1 tables
 *    later, other instance numbers and a higher one-word generation floor),
 *    so old handles fail their check (handles.h, "Reuse bound").
 * R3 Shutdown leaves 0 library allocations: contexts (package teardown
 *    included), credentials and context buffers are all freed.
 * R4 fork(): in the child the inherited runtime is abandoned (its workers
 *    do not exist there, its locks may be held by them): g_rt is cleared and
 *    the globals reset, so the child's next call initialises afresh; the
 *    old runtime's memory is kept reachable in g_abandoned, never touched.
 *    [test_fork_*]
 * R5 From the moment a shutdown starts until its engine is about to be
 *    destroyed (workers joined, every queued call cancelled or run, every
 *    callback delivered), the async-context functions (free, reinit, set or
 *    query the callback, status, completion queues) reach the dying runtime
 *    from every thread through g_dying: a free abandons a running call as
 *    at any other time, and a callback that shutdown runs, on a worker or on
 *    the shutdown thread, reads its own call's status.  Shutdown then closes
 *    that door (g_dying = NULL) and waits until those inside have left
 *    (g_dying_users == 0) before it frees anything.
 *    [test_shutdown_free_from_other_thread_abandons_running_leg,
 *     test_shutdown_worker_callbacks_read_their_status]
 * R6 A shutdown that finds another one running waits until that one has
 *    finished, then returns SEC_E_OK: when any sspiasync_shutdown() returns,
 *    the runtime is gone and sspiasync_init() works.
 *    [test_shutdown_second_caller_waits_for_teardown]
 * Key: [G] g_lock, [a] atomic.  Lock order: sspi_int.h, LOCK ORDER; g_lock
 * is #1, taken first or alone (stats holds it while it reads the engine).
 */
#include "sspi/sspi_int.h"

#include "util/alloc.h"
#include "util/lock.h"
#include "util/annotate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* LOCK ORDER #1 (sspi_int.h) */
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER; /* a call left, or g_dying_users reached 0, during shutdown */
static pthread_cond_t g_done = PTHREAD_COND_INITIALIZER; /* a shutdown finished (R6) */
static _Atomic(struct sa_runtime *) g_rt;              /* [a], written under [G] */
/* R1: calls inside g_rt, in stripes (a thread's is fixed at its first call). */
#define ACTIVE_STRIPES 16
static struct {
	_Atomic unsigned n;                            /* [a] */
	char pad[64 - sizeof(unsigned)];               /* one per cache line */
} g_active[ACTIVE_STRIPES];
static _Atomic unsigned g_active_next;                 /* [a] the next thread's stripe */
static _Thread_local _Atomic unsigned *tl_active;     /* this thread's stripe */
static char g_active_hb; /* Helgrind: the calls' work happens before shutdown sees them left */

/* This thread's stripe of the count of calls inside (R1). */
static _Atomic unsigned *active_stripe(void)
{
	_Atomic unsigned *c = tl_active;
	if (c == NULL) {
		unsigned i = atomic_fetch_add_explicit(&g_active_next, 1, memory_order_relaxed);
		c = tl_active = &g_active[i % ACTIVE_STRIPES].n;
		SA_ATOMIC_WORD(c); /* read by shutdown without a lock (its order: g_active_hb) */
	}
	return c;
}

/* Calls inside g_rt now (R1): the stripes' sum (exact modulo 2^32 even if a
 * call left on another stripe than it entered). */
static unsigned active_sum(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ACTIVE_STRIPES; i++)
		n += atomic_load(&g_active[i].n);
	return n;
}
static _Atomic int g_shutting_down;                    /* [a], written under [G] */
/* R5: the runtime a shutdown tears down, while its door is open, and the
 * async-context calls inside it. */
static _Atomic(struct sa_runtime *) g_dying;           /* [a], written under [G] */
static _Atomic unsigned g_dying_users;                 /* [a] */
static _Atomic unsigned g_shutdown_waiters;            /* [a] R6: shutdowns waiting for another */
/* R4: runtimes a fork left behind in this (child) process, newest first. */
static struct sa_runtime *g_abandoned;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* R4.  Context: the child, one thread, right after fork(). */
static void atfork_child(void)
{
	struct sa_runtime *rt = atomic_load(&g_rt);
	if (rt != NULL) {
		rt->abandoned_next = g_abandoned;
		g_abandoned = rt;
	}
	atomic_store(&g_rt, NULL);
	for (unsigned i = 0; i < ACTIVE_STRIPES; i++)
		atomic_store(&g_active[i].n, 0);
	atomic_store(&g_shutting_down, 0);
	atomic_store(&g_dying, NULL);
	atomic_store(&g_dying_users, 0);
	atomic_store(&g_shutdown_waiters, 0);
	pthread_mutex_init(&g_lock, NULL);
	pthread_cond_init(&g_cv, NULL);
	pthread_cond_init(&g_done, NULL);
}

static void atfork_register(void)
{
	int rc = pthread_atfork(NULL, NULL, atfork_child);
	(void)rc; /* ENOMEM: then a child keeps the parent's state (documented) */
}

/* Take g_lock where a thread may be the process's first to take it: the
 * fork handler that resets it in a child (R4) is registered first, so a
 * fork while another thread holds it, in the very first init too, leaves
 * the child a usable lock.  [test_fork_while_another_thread_inits_and_shuts_down] */
static void g_lock_take(void)
{
	pthread_once(&g_atfork_once, atfork_register);
	SA_LOCK(&g_lock);
}

static void cred_dtor(void *obj, void *arg)
{
	struct sa_cred *cred = obj;
	(void)arg;
	cred->pkg->cred_free(cred->pkg_cred);
	sa__free(cred);
}

static void ctx_dtor(void *obj, void *arg)
{
	struct sa_ctx *ctx = obj;
	(void)arg;
	pthread_cond_destroy(&ctx->idle);
	pthread_mutex_destroy(&ctx->lock);
	sa__free(ctx);
}

/* The engine's way to call an SspiAsyncNotifyCallback it stores opaquely. */
static void notify_callback(uintptr_t acall, void (*cb)(void), void *data)
{
	SspiAsyncNotifyCallback fn = (SspiAsyncNotifyCallback)cb;
	fn((SspiAsyncContext *)acall, data);
}

/* Worker threads: the config's, else SSPIASYNC_THREADS (a decimal number;
 * anything else is ignored), else SSPIASYNC_DEFAULT_THREADS; 0 is no-thread
 * mode; at most SSPIASYNC_MAX_THREADS. */
static unsigned runtime_threads(const struct sspiasync_config *cfg)
{
	unsigned long n = SSPIASYNC_DEFAULT_THREADS;
	if (cfg != NULL) {
		n = cfg->threads;
	} else {
		const char *env = getenv("SSPIASYNC_THREADS");
		char *end;
		if (env != NULL && env[0] >= '0' && env[0] <= '9') {
			unsigned long v = strtoul(env, &end, 10);
			if (*end == '\0')
				n = v;
		}
	}
	return n > SSPIASYNC_MAX_THREADS ? SSPIASYNC_MAX_THREADS : (unsigned)n;
}

/* Count a call that completed with @status: in completed_calls, and in
 * rejected_stale too for SEC_E_INVALID_HANDLE (0, an async call abandoned
 * before it started, counts as completed).  The one count of every call: a
 * synchronous one in sa__rt_exit(), an async one by the engine as its job
 * ends, or a status job's when it is queued (cfg.count).
 * Context: any thread, any lock; lock-free (relaxed atomics). */
static void count_call(struct sa_engine *e, int32_t status)
{
	sa__engine_count(e, SA_STAT_COMPLETED);
	if (status == SEC_E_INVALID_HANDLE)
		sa__engine_count(e, SA_STAT_STALE);
}

static SECURITY_STATUS runtime_create(const struct sspiasync_config *cfg, struct sa_runtime **out)
{
	struct sa_runtime *rt = sa__calloc(1, sizeof *rt);
	if (rt == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	struct sa_engine_config ec = {
		.max_async = cfg && cfg->max_async ? cfg->max_async : SSPIASYNC_DEFAULT_MAX_ENTRIES,
		.max_pending = cfg && cfg->max_pending ? cfg->max_pending : SSPIASYNC_DEFAULT_MAX_PENDING,
		.pending_status = SEC_I_ASYNC_CALL_PENDING,
		.notify = notify_callback,
		.count = count_call,
		.threads = runtime_threads(cfg),
		.job_room = (uint32_t)sa__async_job_room(),
	};
	if (sa__engine_create(&ec, &rt->engine) != SA_OK) {
		sa__free(rt);
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	struct sa_htable_config cc = {.kind = SA_KIND_CRED, .form = SA_HTABLE_TWO_WORD,
				      .max_entries = cfg ? cfg->max_credentials : 0, .dtor = cred_dtor};
	struct sa_htable_config xc = {.kind = SA_KIND_CTXT, .form = SA_HTABLE_TWO_WORD,
				      .max_entries = cfg ? cfg->max_contexts : 0, .dtor = ctx_dtor};
	int rc = sa_htable_create(&cc, &rt->creds);
	if (rc == SA_OK) {
		rc = sa_htable_create(&xc, &rt->ctxts);
		if (rc != SA_OK) {
			int destroyed = sa_htable_destroy(rt->creds);
			(void)destroyed; /* empty: cannot fail */
		}
	}
	if (rc == SA_OK && pthread_mutex_init(&rt->buf_lock, NULL) != 0) {
		int d1 = sa_htable_destroy(rt->creds), d2 = sa_htable_destroy(rt->ctxts);
		(void)d1;
		(void)d2;
		rc = SA_ENOMEM;
	}
	if (rc != SA_OK) {
		sa__engine_destroy(rt->engine);
		sa__free(rt);
		return rc == SA_EINVAL ? SEC_E_INVALID_PARAMETER : SEC_E_INSUFFICIENT_MEMORY;
	}
	atomic_init(&rt->next_ctx_id, 1);
	const char *trace = getenv("SSPIASYNC_TRACE");
	rt->trace = trace != NULL && trace[0] == '1';
	*out = rt;
	return SEC_E_OK;
}

/* R5: close the door of the dying runtime and wait until every
 * async-context call inside it has left.  Context: shutting down. */
static void dying_close(void)
{
	SA_LOCK(&g_lock);
	atomic_store(&g_dying, NULL);
	while (atomic_load(&g_dying_users) != 0)
		pthread_cond_wait(&g_cv, &g_lock);
	SA_HAPPENS_AFTER(&g_dying_users); /* their work happened before */
	SA_UNLOCK(&g_lock);
}

/* R5: an async-context call leaves the dying runtime. */
static void dying_leave(void)
{
	SA_HAPPENS_BEFORE(&g_dying_users);
	if (atomic_fetch_sub(&g_dying_users, 1) == 1 && atomic_load(&g_dying) == NULL) {
		SA_LOCK(&g_lock);
		pthread_cond_broadcast(&g_cv);
		SA_UNLOCK(&g_lock);
	}
}

/* Context: shutting down; no call inside rt but async-context calls (R5). */
static void runtime_destroy(struct sa_runtime *rt)
{
	/* Queued legs complete SHUTDOWN_IN_PROGRESS (their callbacks run now),
	 * queued deletes still tear down; then whatever is left goes. */
	sa__engine_stop(rt->engine); /* workers finish their jobs and callbacks */
	sa__engine_cancel_all(rt->engine, SEC_E_SHUTDOWN_IN_PROGRESS);
	dying_close(); /* nothing runs any more: async-context calls end here */
	sa__ctx_delete_all(rt);
	sa__engine_destroy(rt->engine);
	sa__ctxbuf_fini(rt); /* every context buffer still given out (R3) */
	int d1 = sa_htable_destroy(rt->ctxts), d2 = sa_htable_destroy(rt->creds);
	/* Both are empty now: every context was deleted and every credential
	 * released with it. */
	(void)d1;
	(void)d2;
	pthread_mutex_destroy(&rt->buf_lock);
	sa__free(rt);
	sa__pkg_unload_all(); /* no package call runs, none holds state: 0 bytes at exit */
}

SECURITY_STATUS sspiasync_init(const struct sspiasync_config *cfg)
{
	SECURITY_STATUS st;
	g_lock_take();
	if (atomic_load(&g_shutting_down)) {
		st = SEC_E_SHUTDOWN_IN_PROGRESS;
	} else if (atomic_load(&g_rt) != NULL) {
		st = SEC_E_INVALID_PARAMETER;
	} else {
		struct sa_runtime *rt;
		st = runtime_create(cfg, &rt);
		if (st == SEC_E_OK) {
			SA_HAPPENS_BEFORE(&g_rt); /* built before published */
			atomic_store(&g_rt, rt);
		}
	}
	SA_UNLOCK(&g_lock);
	return st;
}

SECURITY_STATUS sspiasync_shutdown(void)
{
	if (sa__engine_in_callback() || sa__engine_on_worker())
		return SEC_E_INVALID_PARAMETER; /* it would wait for its own caller */
	g_lock_take();
	if (atomic_load(&g_shutting_down)) {
		/* R6: another thread tears down; done when it has finished. */
		atomic_fetch_add(&g_shutdown_waiters, 1);
		while (atomic_load(&g_shutting_down))
			pthread_cond_wait(&g_done, &g_lock);
		atomic_fetch_sub(&g_shutdown_waiters, 1);
		SA_UNLOCK(&g_lock);
		return SEC_E_OK;
	}
	struct sa_runtime *rt = atomic_load(&g_rt);
	if (rt == NULL) {
		SA_UNLOCK(&g_lock);
		return SEC_E_OK;
	}
	/* New calls now wait; calls already inside finish first (R1); the
	 * async-context calls may still reach rt (R5). */
	atomic_store(&g_dying, rt);
	atomic_store(&g_shutting_down, 1);
	while (active_sum() != 0)
		pthread_cond_wait(&g_cv, &g_lock);
	SA_HAPPENS_AFTER(&g_active_hb); /* every call that was inside has left */
	atomic_store(&g_rt, NULL);
	/* Without g_lock: the callbacks of cancelled calls run meanwhile, and
	 * their API calls see g_shutting_down and return. */
	SA_UNLOCK(&g_lock);
	runtime_destroy(rt);
	SA_LOCK(&g_lock);
	atomic_store(&g_shutting_down, 0);
	pthread_cond_broadcast(&g_done);
	SA_UNLOCK(&g_lock);
	return SEC_E_OK;
}

unsigned sa__rt_test_shutdown_waiters(void)
{
	return atomic_load(&g_shutdown_waiters);
}

int sa__rt_test_engine_check(void)
{
	int rc = SA_OK;
	g_lock_take();
	struct sa_runtime *rt = atomic_load(&g_rt);
	if (rt != NULL && !atomic_load(&g_shutting_down))
		rc = sa__engine_check(rt->engine);
	SA_UNLOCK(&g_lock);
	return rc;
}

SECURITY_STATUS sa__rt_enter(struct sa_runtime **out)
{
	/* Fast path: announce the call, then look (seq_cst pairs with shutdown's
	 * store of g_shutting_down and load of the stripes: one sees the other). */
	atomic_fetch_add(active_stripe(), 1);
	struct sa_runtime *rt = atomic_load(&g_rt);
	if (rt != NULL && !atomic_load(&g_shutting_down)) {
		SA_HAPPENS_AFTER(&g_rt);
		*out = rt;
		return SEC_E_OK;
	}
	sa__rt_exit(NULL, SEC_E_OK);

	/* Slow path: refuse during a shutdown, initialise with defaults if needed. */
	SECURITY_STATUS st = SEC_E_OK;
	g_lock_take();
	rt = atomic_load(&g_rt);
	if (atomic_load(&g_shutting_down)) {
		st = SEC_E_SHUTDOWN_IN_PROGRESS;
	} else if (rt == NULL) {
		st = runtime_create(NULL, &rt);
		if (st == SEC_E_OK) {
			SA_HAPPENS_BEFORE(&g_rt); /* built before published */
			atomic_store(&g_rt, rt);
		}
	}
	if (st == SEC_E_OK) {
		atomic_fetch_add(active_stripe(), 1);
		*out = rt;
	}
	SA_UNLOCK(&g_lock);
	return st;
}

SECURITY_STATUS sa__rt_enter_acall(struct sa_rt_entry *in)
{
	in->dying = 0;
	SECURITY_STATUS st = sa__rt_enter(&in->rt);
	if (st != SEC_E_SHUTDOWN_IN_PROGRESS)
		return st;
	/* R5: the dying runtime while its door is open (seq_cst: pairs with
	 * dying_close's store of g_dying and load of g_dying_users). */
	atomic_fetch_add(&g_dying_users, 1);
	struct sa_runtime *rt = atomic_load(&g_dying);
	if (rt == NULL) {
		dying_leave(); /* closed: nothing runs any more */
		return SEC_E_SHUTDOWN_IN_PROGRESS;
	}
	SA_HAPPENS_AFTER(&g_rt);
	in->rt = rt;
	in->dying = 1;
	return SEC_E_OK;
}

void sa__rt_leave_acall(const struct sa_rt_entry *in, int stale)
{
	if (stale)
		sa__engine_count(in->rt->engine, SA_STAT_STALE);
	if (in->dying)
		dying_leave();
	else
		sa__rt_exit(NULL, SEC_E_OK);
}

void sa__rt_leave(struct sa_runtime *rt, int stale)
{
	if (stale)
		sa__engine_count(rt->engine, SA_STAT_STALE);
	sa__rt_exit(NULL, SEC_E_OK);
}

SECURITY_STATUS sa__rt_exit(struct sa_runtime *rt, SECURITY_STATUS status)
{
	if (rt != NULL)
		count_call(rt->engine, status);
	SA_HAPPENS_BEFORE(&g_active_hb); /* the call's work, before shutdown sees it left */
	atomic_fetch_sub(active_stripe(), 1);
	if (atomic_load(&g_shutting_down)) {
		/* The shutdown waits for the sum (R1): wake it to read it again. */
		SA_LOCK(&g_lock);
		pthread_cond_broadcast(&g_cv);
		SA_UNLOCK(&g_lock);
	}
	return status;
}

SECURITY_STATUS sspiasync_stats(struct sspiasync_statistics *out)
{
	if (out == NULL)
		return SEC_E_INVALID_PARAMETER;
	memset(out, 0, sizeof *out);
	g_lock_take();
	struct sa_runtime *rt = atomic_load(&g_rt);
	if (rt != NULL && !atomic_load(&g_shutting_down)) {
		out->credentials = sa_htable_live_count(rt->creds);
		out->contexts = sa_htable_live_count(rt->ctxts);
		out->async_contexts = sa__engine_live_acalls(rt->engine);
		out->pending_calls = sa__engine_pending(rt->engine);
		out->completed_calls = sa__engine_counted(rt->engine, SA_STAT_COMPLETED);
		out->rejected_stale = sa__engine_counted(rt->engine, SA_STAT_STALE);
		out->worker_threads = sa__engine_threads(rt->engine);
	}
	SA_UNLOCK(&g_lock);
	return SEC_E_OK;
}

unsigned sspiasync_run(unsigned max)
{
	if (sa__engine_in_callback())
		return 0;
	struct sa_runtime *rt;
	if (sa__rt_enter(&rt) != SEC_E_OK)
		return 0;
	unsigned n = sa__engine_run(rt->engine, max);
	sa__rt_exit(NULL, SEC_E_OK); /* not an SSPI call: not counted */
	return n;
}

