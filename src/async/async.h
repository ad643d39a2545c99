/*
 * src/async/async.h - the async layer's interface to src/sspi/ (private).
 *
 * The engine knows nothing of SSPI: it owns async-call contexts (one-word
 * handles in a table of their own: IDLE -> PENDING -> DONE), per-security-
 * context serial queues of jobs, the order jobs run in, the pending-call
 * bound, and the delivery of completions (status, then callback).  What a
 * job does is the caller's (src/sspi/async_api.c).  Invariants and the lock
 * order are in async_int.h.
 */
#ifndef SSPIASYNC_ASYNC_ASYNC_H
#define SSPIASYNC_ASYNC_ASYNC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sspiasync/handles.h>

#include "util/queue.h"

struct sa_engine;
struct sa_job;

/*
 * What the engine hands a job's run(): @scratch, @cap bytes of room that
 * are the job's from run() until its release() returns (its worker's own,
 * W1 in async_int.h), e.g. for a package's output copied out at publish.
 * NULL and 0 unless a worker's run loop runs the job: in sa__engine_run, a
 * drain, shutdown, or a job run inside another job's run() or undo().
 */
struct sa_job_env {
	unsigned char *scratch;
	size_t cap;
};

/*
 * What a job does.  A job lives in its async context's room (cfg.job_room
 * bytes): sa__engine_submit() copies the caller's prototype there, so a call
 * allocates nothing in the engine.  run() does the work with no lock held
 * and ends by recording its outcome with sa__job_done(): the status, whether
 * copy_out() writes outputs, and before that job->made, the handle of what
 * it made for the caller, if anything; @env (never NULL) is what the engine
 * hands it.  cancel() is called instead of run() when the job will not run:
 * its async context was freed before it started (status 0: record nothing)
 * or shutdown cancels it (@status SHUTDOWN_IN_PROGRESS: record it).  When
 * run() or cancel() returns, the engine counts the call (cfg.count) with the
 * status recorded, or 0 if none; then, in one hold of the engine lock, it
 * publishes the outcome unless the context was freed meanwhile (copy_out(),
 * then the status: A1, A7), frees the job's queue for its next job and
 * queues the completion.  copy_out() (may be NULL) runs under the engine
 * lock, so it takes only locks below it (LOCK ORDER), must not block or call
 * into the engine, and allocates nothing.  release() (may be NULL) then runs
 * with no lock held on a copy of the job made in that hold (the room may be
 * reused by the next call as soon as the hold ends; release() must not touch
 * memory inside the room the copy points to): it drops the job's
 * references and frees what the job allocated.  undo() (may be NULL) runs
 * after release() when the call was abandoned, i.e. its async context freed
 * before the call turned DONE (A7): it deletes @made, which nobody can learn
 * of any more; @owner is job->owner.  It also runs in sa__acall_free() when
 * the context is freed after DONE but before the caller was told (A7).
 * Context: run(), cancel(), release() and undo() run with no library lock
 * held, on the thread that runs the job (a worker, or one in sa__engine_run,
 * sa__engine_drain or sa__engine_cancel_all), release() and undo() right
 * after the finish (undo() else on the thread freeing the context); they may
 * block and allocate, but must not drain the job's own queue (it would wait
 * for them).
 */
struct sa_job_ops {
	void (*run)(struct sa_job *job, const struct sa_job_env *env);
	void (*cancel)(struct sa_job *job, int32_t status);
	void (*copy_out)(struct sa_job *job);
	void (*release)(struct sa_job *job);
	void (*undo)(void *owner, struct sa_handle made);
	unsigned flags; /* SA_JOB_* */
};

/* Delete-like: exempt from the pending-call bound, and run (not cancelled)
 * at shutdown. */
#define SA_JOB_EXEMPT 1u

/* A per-security-context FIFO, embedded in the context (not moved while a
 * job is queued: util/queue.h, U4).  Key: [E] engine lock. */
struct sa_serial {
	struct sa_queue jobs;         /* [E] queued, not started: sa_job.node, oldest first */
	struct sa_queue ready_node;   /* [E] linked: on the engine's ready list (E4) */
	uint8_t running;              /* [E] a job of this queue is running */
};

/* Key: [i] set before submission, [E] engine lock, [r] run() or cancel(). */
struct sa_job {
	const struct sa_job_ops *ops; /* [i] */
	struct sa_serial *serial;     /* [i] the context's queue; NULL: runs on its own */
	struct sa_serial own;         /* [E] the queue of a job that runs on its own */
	struct sa_queue node;         /* [E] linked: on its queue's jobs (not started) */
	struct sa_acall *acall;       /* [i] set by the engine at submission, referenced */
	void *owner;                  /* [i] free for the caller (its runtime) */
	struct sa_handle made;        /* [r] what run() made for the caller; {0, 0}: nothing */
	int32_t status;               /* [r] the status to publish (sa__job_done); 0: none;
				       * counted when run() or cancel() returns */
	uint8_t publish;              /* [r] publish status at the finish (unless abandoned) */
	uint8_t out;                  /* [r] ... and call copy_out() first */
	uint16_t size;                /* [i] bytes of the job in the room, set by the engine */
};

/*
 * sa__job_done() - What @job's run() or cancel() records as its outcome:
 * @status, published when the job finishes unless the call was abandoned
 * meanwhile, with the outputs written by ops->copy_out() first if @out.
 * Never fails; takes no lock (the engine publishes in the finish hold).
 * Context: inside @job's run() or cancel().
 */
static inline void sa__job_done(struct sa_job *job, int32_t status, int out)
{
	job->status = status;
	job->publish = 1;
	job->out = out != 0;
}

/* Calls the user's callback; the engine stores it as an opaque function. */
typedef void (*sa_notify_fn)(uintptr_t acall, void (*cb)(void), void *data);
/* Counts one call that ended with @status (0: abandoned before it started),
 * e.g. with sa__engine_count().  Context: any thread, no engine lock held;
 * must not block or call into the engine but sa__engine_count(). */
typedef void (*sa_count_fn)(struct sa_engine *e, int32_t status);

struct sa_engine_config {
	uint32_t max_async;     /* async contexts at most */
	uint32_t max_pending;   /* non-exempt jobs queued or running at most */
	int32_t pending_status; /* what sa__acall_status reports while PENDING */
	sa_notify_fn notify;    /* runs a callback */
	sa_count_fn count;      /* counts every call once as it ends (NULL: not counted):
				 * a job when its run() or cancel() returns, a status job
				 * when it is submitted (sa__engine_submit_status) */
	unsigned threads;       /* 0: no-thread mode (sa__engine_run); else worker threads */
	uint32_t job_room;      /* bytes of room for a call's job in each async context: the
				 * largest job submitted, at most SA_JOB_ROOM_MAX (raised
				 * to what the engine's own status jobs take) */
};

/* The most room a job may take (cfg.job_room). */
#define SA_JOB_ROOM_MAX 1024u

/*
 * sa__serial_init() - Make @q an empty serial queue: nothing queued or
 * running, not on the ready list; a zeroed one is not (util/queue.h, U1).
 * Never fails; allocates nothing.  Never on a queue in use: its lists would
 * be cut (U4).
 * Context: any thread, no lock, while the engine cannot reach @q yet (a
 * security context not yet in its table); the engine also calls it under
 * its lock for a job's own queue.
 */
void sa__serial_init(struct sa_serial *q);

/*
 * sa__engine_create() - Make an engine configured by @cfg (copied) and, if
 * cfg->threads is not 0, start that many worker threads.  A max_async of 0
 * or above SA_ACALL_SLOTS means SA_ACALL_SLOTS; a max_pending of 0 refuses
 * every non-exempt job.  Returns SA_OK and sets *out; or SA_ENOMEM (memory,
 * a mutex or condvar, a worker thread that would not start) with *out
 * untouched and nothing left allocated or running.
 * Context: any thread, under g_lock or no lock (the runtime holds g_lock,
 * LOCK ORDER #1); allocates; starts threads; takes the handle tables'
 * process-wide lock.
 */
int sa__engine_create(const struct sa_engine_config *cfg, struct sa_engine **out);
/*
 * sa__engine_destroy() - Stop and join the workers (sa__engine_stop), free
 * every async context and completion queue left (closing their eventfds),
 * then the engine.  Never fails.  Requires every job finished and every
 * callback and record delivered (sa__engine_cancel_all): a reference still
 * held is a bug (asserted; a release build leaks that table).
 * Context: not a worker of @e; no library lock held; no other thread may use
 * @e during or after the call; blocks until the workers exit.
 */
void sa__engine_destroy(struct sa_engine *e);

/*
 * Async-call contexts, named by their one-word handle: each sa__acall_*()
 * function returns SA_EBADHANDLE for a freed or forged handle, changing
 * nothing.
 *
 * sa__acall_create() - Make an IDLE async context, with no callback and no
 * completion queue.  Returns SA_OK and sets *out to its handle (never 0);
 * SA_ENOMEM; SA_ENOSPC (max_async contexts alive).  On failure *out is
 * untouched and nothing stays allocated.
 * Context: any thread; engine lock not held (takes it, and the table's
 * lock under it); allocates.
 */
int sa__acall_create(struct sa_engine *e, uintptr_t *out);
/*
 * sa__acall_free() - Free the async context @w: its handle fails at once.  A
 * PENDING call is abandoned (A3: cancelled if not started, nothing
 * published, no callback); an undelivered completion is dropped (its queue
 * record unlinked, A6); a binding to a queue ends.  The memory lives until
 * the job's reference goes (A2).  If a DONE call's caller was never told
 * (A7), the job's undo() deletes what it made, here, after the lock is
 * dropped (the SSPI layer: sa__ctx_delete() of a first leg's context, which
 * runs the calls queued on it and waits for one running; or the removal of
 * an acquired credential).  Returns SA_OK or SA_EBADHANDLE.
 * Context: any thread, a callback included; no library lock held; allocates
 * nothing; may block and run package teardown in that undo(), never a user
 * callback.
 */
int sa__acall_free(struct sa_engine *e, uintptr_t w);
/*
 * sa__acall_reinit() - Make @w IDLE again, ready for a new call; what its
 * DONE call made is the caller's from now (A7).  An IDLE context stays so
 * (SA_OK).  Returns SA_OK; SA_EBUSY, nothing changed, while a call is
 * PENDING, its completion is queued (not yet delivered or reaped) or its
 * callback runs on another thread (A5); SA_EBADHANDLE.
 * Context: any thread, the context's own callback included; engine lock not
 * held (takes it); allocates nothing.
 */
int sa__acall_reinit(struct sa_engine *e, uintptr_t w);
/*
 * sa__acall_set_callback() - Register @cb(@data) for @w's calls (NULL: none,
 * and @data is dropped).  A call's callback is the one registered when it
 * turns DONE: a non-NULL @cb does not replace the one a DONE completion
 * already captured, but NULL suppresses that one too (an undelivered
 * callback; a queue record then carries NULL data).  Returns SA_OK;
 * SA_EBUSY, nothing changed, for a non-NULL @cb while a call is PENDING
 * (NULL then suppresses the pending call's callback); SA_EBADHANDLE.
 * Context: any thread, a callback included; engine lock not held (takes
 * it); allocates nothing.
 */
int sa__acall_set_callback(struct sa_engine *e, uintptr_t w, void (*cb)(void), void *data);
/*
 * sa__acall_requires_notify() - Whether @w has a callback registered: 1 or 0;
 * or SA_EBADHANDLE.  Changes nothing.
 * Context: any thread; engine lock not held (takes it); allocates nothing.
 */
int sa__acall_requires_notify(struct sa_engine *e, uintptr_t w);
/*
 * sa__acall_status() - The status of @w's call: SA_OK and *status
 * (cfg.pending_status while PENDING, even once its outputs are written; the
 * recorded status once DONE, and reading it tells the caller: what the call
 * made is the caller's from now, A7); SA_EINVAL while IDLE; SA_EBADHANDLE.
 * On failure *status is untouched.
 * Context: any thread, a callback included; engine lock not held (takes
 * it); allocates nothing.
 */
int sa__acall_status(struct sa_engine *e, uintptr_t w, int32_t *status);

/*
 * sa__engine_submit() - Queue a copy of the job @proto (@size bytes, at most
 * cfg.job_room: asserted) as the call of the async context @w, on
 * @proto->serial (after the jobs queued there) or on its own: in one hold of
 * the engine lock the context is validated, claimed (IDLE -> PENDING), the
 * job copied into its room and queued.  Returns SA_OK (the context is PENDING
 * and referenced by the job); SA_EBADHANDLE; SA_EINVAL (the context is not
 * IDLE, or its completion or callback is in progress, A5); SA_ENOSPC (the
 * pending-call bound, for a non-exempt job); SA_EBUSY (the context's
 * reference count is saturated).  On failure nothing is queued and what
 * @proto holds is still the caller's.  On SA_OK what @proto holds is the
 * job's (its release() gives it back), a worker may run the job before this
 * returns, and @proto->serial must live until release() (E5).  Never runs
 * the job itself.
 * Context: any thread, a callback included (resubmitting its own context,
 * A5); engine lock not held (takes it); allocates nothing.
 */
int sa__engine_submit(struct sa_engine *e, uintptr_t w, const struct sa_job *proto, size_t size);

/*
 * sa__engine_reserve() - Claim the async context @w for one exempt call
 * whose job is not made yet: SA_OK and *@res (the context is PENDING and
 * referenced by the reservation); SA_EBADHANDLE; SA_EINVAL (not IDLE, or
 * its completion or callback in progress, A5); SA_EBUSY (reference count
 * saturated).  On failure *@res and the context are untouched.
 * A reserved call is then queued by sa__engine_submit_reserved() or
 * sa__engine_submit_status_reserved(), which cannot fail, so a caller can
 * claim the context before it does something it cannot take back (mark a
 * security context DELETING, free a credential).  A reservation cannot be
 * given back: unless it is queued, the context stays PENDING (and counted by
 * sa__engine_pending) for good.  A free meanwhile abandons the call as usual.
 * Context: any thread; engine lock not held (takes it); allocates nothing.
 */
int sa__engine_reserve(struct sa_engine *e, uintptr_t w, struct sa_acall **res);
/*
 * sa__engine_submit_reserved() - Queue a copy of the exempt job @proto
 * (asserted; @size bytes as for sa__engine_submit) as the call @res that
 * sa__engine_reserve() claimed, using the reservation up: its reference
 * passes to the job.  Never fails; as after sa__engine_submit(), what @proto
 * holds is the job's from here.
 * Context: any thread; engine lock not held (takes it); allocates nothing.
 */
void sa__engine_submit_reserved(struct sa_engine *e, struct sa_acall *res,
				const struct sa_job *proto, size_t size);
/*
 * sa__engine_submit_status_reserved() - Queue a completion with @status as
 * the reserved call @res, using it up: as sa__engine_submit_status() (@serial,
 * @release and @owner alike, counted here too), but it never fails.
 * Context: any thread; engine lock not held (takes it); allocates nothing.
 */
void sa__engine_submit_status_reserved(struct sa_engine *e, struct sa_acall *res, int32_t status,
				      struct sa_serial *serial, void (*release)(void *owner),
				      void *owner);

/*
 * sa__engine_submit_status() - Queue a completion with @status and no work
 * (a stale handle, a free that already happened), on @serial (NULL: on its
 * own).  @release (may be NULL) runs with @owner when the completion is
 * finished: it drops what kept @serial alive.  Allocates nothing: the async
 * context carries the job.  Exempt from the pending-call bound, and at
 * shutdown it completes with its own @status, not the cancelling one.
 * Returns as sa__engine_submit() but never SA_ENOSPC.  On failure nothing is
 * queued and @release is not called: what @owner holds is still the caller's.
 * On SA_OK the call is counted (cfg.count, @status) here, before this
 * returns: nothing can change its outcome.
 * Context: any thread; engine lock not held (takes it; counts after dropping
 * it); @release runs later on the thread that finishes the completion, with
 * no lock held.
 */
int sa__engine_submit_status(struct sa_engine *e, uintptr_t w, int32_t status,
			    struct sa_serial *serial, void (*release)(void *owner), void *owner);

/*
 * sa__engine_run() - No-thread mode: run up to @max queued jobs (0: until
 * none may start), delivering the waiting callbacks before each job and
 * after the last, so callbacks of the jobs it ran (and of jobs synchronous
 * calls ran) are delivered too.  Returns the jobs run (cancelled ones
 * included); 0 and no effect while workers run (pool mode) or inside a
 * callback.  Never fails.
 * Context: any thread not inside a callback (several may run it at once);
 * no library lock held; runs package legs and user callbacks on this
 * thread, with no lock held: may block and allocate as they do.
 */
unsigned sa__engine_run(struct sa_engine *e, unsigned max);

/*
 * sa__engine_drain() - Run the jobs queued on @q now, on this thread, in
 * order, waiting for one that is running elsewhere; returns when none is
 * queued or running there.  Their callbacks are not delivered here: a
 * worker delivers them, or in no-thread mode the next sa__engine_run().
 * Never fails.  @q must stay alive (the caller holds its owner).
 * Context: any thread, a callback included; no library lock held; not inside
 * the run() of a job of @q (it would wait for itself); may block; runs the
 * jobs (package legs) and their release() here; no user callback.
 */
void sa__engine_drain(struct sa_engine *e, struct sa_serial *q);

/*
 * sa__engine_stop() - Pool mode: stop the workers (each finishes the job it
 * runs and the callbacks it delivers; queued jobs stay queued, for
 * sa__engine_cancel_all) and join them.  For good: no worker starts again,
 * and sa__engine_run() then runs jobs on its caller.  No-op in no-thread
 * mode.  Never fails.
 * Context: not a worker (it would join itself); no library lock held; blocks
 * until the workers' jobs and callbacks return.
 */
void sa__engine_stop(struct sa_engine *e);

/*
 * sa__engine_on_worker() - 1 on a worker thread (of any engine), else 0.
 * Context: any thread, any lock; reads a thread-local.
 */
int sa__engine_on_worker(void);

/* Statistics counters, kept per worker (W2) and summed when read; what each
 * counts is the caller's. */
#define SA_ENGINE_NCOUNTS 2
/*
 * sa__engine_count() - Add 1 to counter @which (below SA_ENGINE_NCOUNTS; not
 * checked): this worker's own (W2) on a worker of @e, else the engine's.
 * Never fails.
 * Context: any thread, any lock; lock-free (a relaxed atomic add).
 */
void sa__engine_count(struct sa_engine *e, unsigned which);
/*
 * sa__engine_counted() - Counter @which summed over the engine and its
 * workers: a snapshot (relaxed loads), exact once the engine is quiet.
 * Context: any thread, any lock; lock-free; @e not destroyed.
 */
uint64_t sa__engine_counted(struct sa_engine *e, unsigned which);

/*
 * sa__engine_cancel_all() - Shutdown: cancel every queued non-exempt job
 * with @status (its cancel() publishes it), run the exempt ones, cancel
 * abandoned ones with 0, and wait for jobs running on other threads; then
 * deliver every waiting callback and every queue record's
 * (sa__cq_flush_all).  Returns when no job is queued or running, provided
 * the callbacks it runs submit nothing (the runtime refuses submissions
 * during shutdown); it does not wait for a callback another thread runs.
 * Never fails.
 * Context: the shutdown thread, after sa__engine_stop() (else workers run
 * what it would cancel); no library lock held; not inside a callback; may
 * block; runs jobs (package legs, teardown) and user callbacks here.
 */
void sa__engine_cancel_all(struct sa_engine *e, int32_t status);

/*
 * Counts for sspiasync_stats().
 *
 * sa__engine_live_acalls() - Async contexts not yet destroyed: a snapshot
 * that counts freed ones a job or a record still references (A2).
 * Context: any thread, any lock; lock-free.
 */
uint32_t sa__engine_live_acalls(struct sa_engine *e);
/*
 * sa__engine_pending() - Calls queued or running, exempt ones included, with
 * reserved calls not queued yet, abandoned ones still in their undo(), and
 * finished ones whose job's release() has not returned (what it held, a
 * security context or a credential, and its async context's reference, not
 * yet let go): a snapshot.  So once it reads 0 nothing a finished call held
 * is still held.
 * Context: any thread; takes the engine lock, so callable under g_lock, not
 * under the engine lock.
 */
uint32_t sa__engine_pending(struct sa_engine *e);
/*
 * sa__engine_threads() - The workers @e was configured with (0: no-thread
 * mode), also after sa__engine_stop().
 * Context: any thread, any lock; lock-free.
 */
unsigned sa__engine_threads(struct sa_engine *e);

/*
 * Completion queues (A6, Q1-Q3 in async_int.h), named by one-word handles
 * (never an async context's).  A record, as sa__cq_reap() hands it out: the
 * async context's handle, the callback data and the status of a DONE call.
 */
struct sa_cq_record {
	uintptr_t acall;
	void *data;
	int32_t status;
};
/*
 * sa__cq_create() - Make an empty completion queue with its eventfd
 * (nonblocking, close-on-exec; in no-thread mode raised at once if work
 * waits, Q2).  Returns SA_OK and sets *out (never 0); SA_ENOMEM; SA_ENOSPC
 * (no eventfd: a descriptor limit; or 2^16 queues alive).  On failure *out
 * is untouched and nothing stays open or allocated.
 * Context: any thread; engine lock not held (takes it); allocates.
 */
int sa__cq_create(struct sa_engine *e, uintptr_t *out);
/*
 * sa__cq_destroy() - Destroy queue @q: its handle fails at once.  Returns
 * SA_OK; SA_EBADHANDLE; SA_EBUSY, nothing changed, while contexts are bound
 * to it (Q3; with none bound it holds no record).  Its memory and eventfd go
 * with its last reference: at once, or when a reap that holds it returns.
 * Context: any thread, a callback included; engine lock not held (takes
 * it); allocates nothing.
 */
int sa__cq_destroy(struct sa_engine *e, uintptr_t q);
/*
 * sa__cq_fd() - Queue @q's eventfd, for the caller to poll (never to read),
 * or -1 for a bad handle.  The fd stays the queue's: destroy closes it.
 * Context: any thread; engine lock not held (takes it); allocates nothing.
 */
int sa__cq_fd(struct sa_engine *e, uintptr_t q);
/*
 * sa__acall_bind() - Bind async context @w to queue @q (0: unbind): its later
 * completions become records there (A6).  Returns SA_OK; SA_EBADHANDLE for
 * either handle; SA_EBUSY while @w has a call pending, a completion
 * undelivered or its callback running on another thread (A5), or when its
 * reference count is saturated.  On failure nothing changes.
 * Context: any thread; engine lock not held (takes it); allocates nothing.
 */
int sa__acall_bind(struct sa_engine *e, uintptr_t w, uintptr_t q);
/*
 * sa__cq_reap() - Take up to @n records off queue @q, oldest first, into
 * @out: each is written and tells its caller (A7); those without a callback
 * in batches, one hold of the engine lock each; a record with a callback
 * ends its batch, and its callback runs on this thread with no lock held
 * before the next record is taken.  Returns how many
 * (0: none waits; @n 0 only checks @q); SA_EBADHANDLE or SA_EBUSY (inside a
 * callback), both negative, with nothing taken.  A callback that frees a
 * context whose record is next takes that record off first (A6).
 * Context: any thread not inside a callback; no library lock held; runs user
 * callbacks; allocates nothing.
 */
long sa__cq_reap(struct sa_engine *e, uintptr_t q, struct sa_cq_record *out, unsigned n);

/*
 * Test hooks (tests only; NULL otherwise): called with no lock held at these
 * points of a job's life, so a test can hold a job there and force an
 * interleaving, as the model in verify/ explores them.  @acall is the
 * job's async-context handle.
 */
enum sa_engine_point {
	SA_ENGINE_POINT_RUN = 1, /* on the job's thread, before run() or cancel() */
	SA_ENGINE_POINT_RAN,     /* run() or cancel() returned, before the finish hold
				  * (outputs written, DONE: A7) */
};
typedef void (*sa_engine_test_hook_fn)(enum sa_engine_point point, uintptr_t acall);
extern _Atomic(sa_engine_test_hook_fn) sa__engine_test_hook;

/*
 * sa__engine_check() - Verify, under the engine lock, the invariants of
 * async_int.h that its state shows: the ready list holds queues with a
 * queued job, each job there PENDING on its own queue (E1, E4); the counts
 * bound each other and what the lists hold (running, queued <= calls;
 * queued non-exempt <= pending <= calls: E1, E3); idle <= workers (E6); the
 * notify list holds DONE contexts bound to no queue, notify_any mirroring it
 * (A5); each queue's records are DONE live contexts bound to it, no more
 * than it has bound, and its readable flag is its level (Q1-Q3); every live
 * context is in a known state, linked only when DONE, keeps what it made
 * only while DONE and not told (A7), is bound only to a live queue, and the
 * bindings add up to the queues' counts (Q3).  Lists are walked with a bound,
 * so a damaged one ends the walk.  Returns SA_OK, or SA_EINVAL (the engine is
 * corrupt; nothing changed).  Never aborts; allocates nothing.
 * Context: any thread, any moment (the invariants hold whenever the lock is
 * free); no engine lock held (takes it, then the handle tables' locks under
 * it); for tests and asserts: O(contexts x queues + queued jobs).
 */
int sa__engine_check(struct sa_engine *e);
/*
 * sa__engine_test_corrupt() - Break one invariant of @e on purpose
 * (SA_ENGINE_CORRUPT_*), so a test can show sa__engine_check() notices; the
 * same call with @undo set repairs it.  Nothing must change the engine in
 * between (a quiet engine).
 * Context: tests only; takes the engine lock.
 */
enum {
	SA_ENGINE_CORRUPT_PENDING = 1, /* pending above calls (E3) */
	SA_ENGINE_CORRUPT_RUNNING,     /* running above calls (E1) */
	SA_ENGINE_CORRUPT_IDLE,        /* more workers idle than started (E6) */
	SA_ENGINE_CORRUPT_NOTIFY_ANY,  /* notify_any not mirroring the notify list (A5) */
	SA_ENGINE_CORRUPT_READABLE,    /* the newest queue's readable flag off its level (Q2) */
};
void sa__engine_test_corrupt(struct sa_engine *e, int how, int undo);

/*
 * sa__engine_in_callback() - 1 while this thread runs a callback an engine
 * delivered (notify.c: the notify list, a reap, shutdown's flush; nested
 * ones included), else 0.
 * Context: any thread, any lock; reads a thread-local.
 */
int sa__engine_in_callback(void);

#endif /* SSPIASYNC_ASYNC_ASYNC_H */
