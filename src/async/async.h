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

struct sa_engine;
struct sa_job;

/*
 * What a job does.  run() does the work with no engine lock held and ends by
 * calling sa__job_publish() exactly once; before that it sets job->made to
 * the handle of what it made for the caller, if anything.  cancel() is
 * called instead of run() when the job will not run: its async context was
 * freed before it started (status 0: publish nothing) or shutdown cancels it
 * (@status SHUTDOWN_IN_PROGRESS: publish it).  release() frees the job once
 * it is finished (NULL: nothing to free) and drops its references.  undo()
 * (may be NULL) runs after release() when the call was abandoned, i.e. its
 * async context freed before the call turned DONE (A7): it deletes @made,
 * which nobody can learn of any more; @owner is job->owner.
 */
struct sa_job_ops {
	void (*run)(struct sa_job *job);
	void (*cancel)(struct sa_job *job, int32_t status);
	void (*release)(struct sa_job *job);
	void (*undo)(void *owner, struct sa_handle made);
	unsigned flags; /* SA_JOB_* */
};

/* Delete-like: exempt from the pending-call bound, and run (not cancelled)
 * at shutdown. */
#define SA_JOB_EXEMPT 1u

/* A per-security-context FIFO, embedded in the context.  Key: [E] engine lock. */
struct sa_serial {
	struct sa_job *head, *tail;   /* [E] queued, not started */
	struct sa_serial *next_ready; /* [E] links in the engine's ready list */
	struct sa_serial *prev_ready; /* [E] */
	uint8_t running;              /* [E] a job of this queue is running */
	uint8_t ready;                /* [E] on the ready list */
};

/* Key: [i] set before submission, [E] engine lock. */
struct sa_job {
	const struct sa_job_ops *ops; /* [i] */
	struct sa_serial *serial;     /* [i] the context's queue; NULL: runs on its own */
	struct sa_serial own;         /* [E] the queue of a job that runs on its own */
	struct sa_job *next;          /* [E] */
	struct sa_acall *acall;       /* [i] set by sa__engine_submit, referenced */
	void *owner;                  /* [i] free for the caller (its runtime) */
	struct sa_handle made;        /* set by run() before it publishes; {0, 0}: nothing */
};

/* Calls the user's callback; the engine stores it as an opaque function. */
typedef void (*sa_notify_fn)(uintptr_t acall, void (*cb)(void), void *data);

struct sa_engine_config {
	uint32_t max_async;     /* async contexts at most */
	uint32_t max_pending;   /* non-exempt jobs queued or running at most */
	int32_t pending_status; /* what sa__acall_status reports while PENDING */
	sa_notify_fn notify;    /* runs a callback */
	unsigned threads;       /* 0: no-thread mode (sa__engine_run); else worker threads */
};

void sa__serial_init(struct sa_serial *q);

/* Create / destroy; destroy requires every job finished (sa__engine_cancel_all)
 * and frees every async context left. */
int sa__engine_create(const struct sa_engine_config *cfg, struct sa_engine **out);
void sa__engine_destroy(struct sa_engine *e);

/* Async-call contexts, named by their one-word handle.  Each returns
 * SA_EBADHANDLE for a freed or forged handle. */
int sa__acall_create(struct sa_engine *e, uintptr_t *out);
int sa__acall_free(struct sa_engine *e, uintptr_t w); /* abandons a pending call */
int sa__acall_reinit(struct sa_engine *e, uintptr_t w); /* SA_EBUSY while PENDING */
/* SA_EBUSY while PENDING unless @cb is NULL (which suppresses the pending call's callback). */
int sa__acall_set_callback(struct sa_engine *e, uintptr_t w, void (*cb)(void), void *data);
int sa__acall_requires_notify(struct sa_engine *e, uintptr_t w); /* 1, 0 or SA_EBADHANDLE */
/* SA_OK and *status (pending_status while PENDING); SA_EINVAL while IDLE. */
int sa__acall_status(struct sa_engine *e, uintptr_t w, int32_t *status);

/* SA_OK if @w names an async context that could take a call now (IDLE, its
 * last callback delivered); else what sa__engine_submit would say. */
int sa__acall_check_idle(struct sa_engine *e, uintptr_t w);

/*
 * sa__engine_submit() - Queue @job for the async context @w, on @job->serial
 * (after the jobs queued there) or on its own.  Returns SA_OK (the context is
 * PENDING and referenced by the job); SA_EBADHANDLE; SA_EINVAL (the context
 * is not IDLE); SA_ENOSPC (the pending-call bound, for a non-exempt job).
 * On failure nothing is queued and the job is untouched.
 */
int sa__engine_submit(struct sa_engine *e, uintptr_t w, struct sa_job *job);

/*
 * sa__engine_reserve() - Claim the async context @w for one exempt call
 * whose job is not made yet: SA_OK and *@res (the context is PENDING and
 * referenced by the reservation); SA_EBADHANDLE; SA_EINVAL (not IDLE).
 * A reserved call is then queued by sa__engine_submit_reserved() or
 * sa__engine_submit_status_reserved(), which cannot fail, so a caller can
 * claim the context before it does something it cannot take back (mark a
 * security context DELETING, free a credential).  A free meanwhile abandons
 * the call as usual.  Context: any thread; allocates nothing.
 */
int sa__engine_reserve(struct sa_engine *e, uintptr_t w, struct sa_acall **res);
/* Queue exempt @job as the reserved call @res. */
void sa__engine_submit_reserved(struct sa_engine *e, struct sa_acall *res, struct sa_job *job);
/* Queue a completion with @status as the reserved call @res (as
 * sa__engine_submit_status()). */
void sa__engine_submit_status_reserved(struct sa_engine *e, struct sa_acall *res, int32_t status,
				      struct sa_serial *serial, void (*release)(void *owner),
				      void *owner);

/*
 * sa__engine_submit_status() - Queue a completion with @status and no work
 * (a stale handle, a free that already happened), on @serial (NULL: on its
 * own).  @release (may be NULL) runs with @owner when the completion is
 * finished: it drops what kept @serial alive.  Allocates nothing: the async
 * context carries the job.  Exempt from the pending-call bound.
 * Returns as sa__engine_submit().
 */
int sa__engine_submit_status(struct sa_engine *e, uintptr_t w, int32_t status,
			    struct sa_serial *serial, void (*release)(void *owner), void *owner);

/*
 * sa__job_publish() - Called by a job's run() or cancel() once: unless the
 * async context was freed meanwhile, call @copy_out(@job) (write the caller's
 * outputs) and record @status, under the engine lock (so a concurrent free
 * either happens before, and nothing is written, or after).  The context
 * becomes DONE when the job is finished (its queue released, its callback
 * queued), so nobody can reinit it in between.  Returns 1 if published, 0 if
 * the call was abandoned.  run() and cancel() keep every reference the job
 * holds: release() drops them, after the engine is done with the job's queue.
 */
int sa__job_publish(struct sa_job *job, int32_t status, void (*copy_out)(struct sa_job *job));

/* No-thread mode: run up to @max queued jobs (0: until none is queued) and
 * deliver completions.  Returns the jobs run; 0 and no effect in pool mode. */
unsigned sa__engine_run(struct sa_engine *e, unsigned max);

/* Run the jobs queued on @q now, on this thread, in order, waiting for one
 * that is running elsewhere; their callbacks wait for the next run. */
void sa__engine_drain(struct sa_engine *e, struct sa_serial *q);

/* Pool mode: stop the workers (each finishes its job and delivers its
 * callbacks) and join them; no-op in no-thread mode.  Context: not a worker. */
void sa__engine_stop(struct sa_engine *e);

/* 1 on one of the engine's worker threads. */
int sa__engine_on_worker(void);

/* The calling worker's scratch room if @n bytes fit and it is free (W1),
 * marked in use; NULL elsewhere (then the caller allocates).  Give it back
 * with sa__engine_scratch_put() on the same thread. */
void *sa__engine_scratch_get(size_t n);
void sa__engine_scratch_put(void *room);

/* Statistics counters, kept per worker (W2) and summed when read; what each
 * counts is the caller's. */
#define SA_ENGINE_NCOUNTS 2
void sa__engine_count(struct sa_engine *e, unsigned which);
uint64_t sa__engine_counted(struct sa_engine *e, unsigned which);

/* Shutdown: cancel every queued non-exempt job with @status, run the exempt
 * ones, and deliver every completion; returns when nothing is queued. */
void sa__engine_cancel_all(struct sa_engine *e, int32_t status);

/* Counts for sspiasync_stats(): live async contexts; calls queued or running. */
uint32_t sa__engine_live_acalls(struct sa_engine *e);
uint32_t sa__engine_pending(struct sa_engine *e);
unsigned sa__engine_threads(struct sa_engine *e); /* workers; 0 in no-thread mode */

/*
 * Completion queues (A6, Q1-Q3 in async_int.h), named by one-word handles.
 * sa__cq_create: SA_OK, SA_ENOMEM, or SA_ENOSPC (no eventfd).
 * sa__cq_destroy: SA_OK; SA_EBADHANDLE; SA_EBUSY while contexts are bound.
 * sa__cq_fd: the eventfd, or -1 for a bad handle.
 * sa__acall_bind: bind @w to queue @q (0: unbind); SA_EBADHANDLE for either;
 *   SA_EBUSY while @w has a call pending or a completion undelivered.
 * sa__cq_reap: up to @n records into @out (context handle, callback data,
 *   status), running their callbacks on this thread; returns how many, or
 *   SA_EBADHANDLE, or SA_EBUSY inside a callback (both negative).
 */
struct sa_cq_record {
	uintptr_t acall;
	void *data;
	int32_t status;
};
int sa__cq_create(struct sa_engine *e, uintptr_t *out);
int sa__cq_destroy(struct sa_engine *e, uintptr_t q);
int sa__cq_fd(struct sa_engine *e, uintptr_t q);
int sa__acall_bind(struct sa_engine *e, uintptr_t w, uintptr_t q);
long sa__cq_reap(struct sa_engine *e, uintptr_t q, struct sa_cq_record *out, unsigned n);

/*
 * Test hooks (tests only; NULL otherwise): called with no lock held at these
 * points of a job's life, so a test can hold a job there and force an
 * interleaving, as the model in verify/ explores them.  @acall is the
 * job's async-context handle.
 */
enum sa_engine_point {
	SA_ENGINE_POINT_RUN = 1, /* on the job's thread, before run() or cancel() */
	SA_ENGINE_POINT_RAN,     /* run() or cancel() returned (outputs written if it
				  * published), before the call's DONE step (A7) */
};
typedef void (*sa_engine_test_hook_fn)(enum sa_engine_point point, uintptr_t acall);
extern _Atomic(sa_engine_test_hook_fn) sa__engine_test_hook;

/* 1 while this thread runs a callback delivered by the engine. */
int sa__engine_in_callback(void);

#endif /* SSPIASYNC_ASYNC_ASYNC_H */
