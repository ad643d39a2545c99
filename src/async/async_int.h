/*
 * src/async/async_int.h - private to src/async/: the engine, the async-call
 * context, the completion queue and their invariants, and the functions the
 * files of src/async/ call in one another, grouped by the file that defines
 * them.  The files call one another in one direction only (no cycle):
 *
 *   cq <- acall <- notify <- job <- engine        (X <- Y: Y calls X, never
 *                                                   the reverse)
 *   cq <- check                                    (the self-check, a leaf)
 *
 *   cq.c      completion queues, their fds' levels (Q2), their records
 *   acall.c   async-call contexts; binding one to a queue; busy/told (A5, A7)
 *   notify.c  delivering completions: the notify list, reap, shutdown flush
 *   job.c     serial queues, the ready list, taking, running and finishing a job
 *   engine.c  create/destroy, workers, submission, the run loops, stats
 *   check.c   sa__engine_check() (reads every structure; calls cq.c only)
 *
 * Inline helpers below (sa__job_queue, sa__engine_signal_locked) belong to
 * no file.
 */
#ifndef SSPIASYNC_ASYNC_ASYNC_INT_H
#define SSPIASYNC_ASYNC_ASYNC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sspiasync/handles.h>

#include "async/async.h"
#include "util/lock.h"

/* The library's lock order, with this layer's lock #2: src/sspi/sspi_int.h, LOCK ORDER. */

enum sa_acall_state { SA_ACALL_IDLE = 1, SA_ACALL_PENDING, SA_ACALL_DONE };

/*
 * An async-call context (SspiAsyncContext).
 * A1 One call at a time: IDLE -> PENDING (submit) -> DONE (its job finished:
 *    in one hold, outputs written, status recorded, queue released, callback
 *    queued) -> IDLE (reinit).  [test_async_status_*]
 * A2 A PENDING call's job holds a table reference on the context, released
 *    after its completion was delivered, so a freed context's memory lives
 *    until then and its handle fails at once.  [test_async_free_*]
 * A3 Freed while PENDING (abandoned): the job is cancelled if not started,
 *    nothing is published (no output written), no callback runs.
 *    [test_async_free_pending_*]
 * A4 The callback runs at most once per call, after the call's serial queue
 *    moved on, with no lock held, and never inside an API call other than
 *    sspiasync_run() (and shutdown's cancellations).  [test_async_callback_*]
 * A5 From DONE until its callback has returned (notify_node linked, then
 *    notifying), reinit and submission are refused to every thread but the
 *    one running that callback, so a callback always sees its own call and a
 *    context is on the notify list at most once.  Each delivery gets a
 *    number (notify_seq); notifying holds the number of the latest callback
 *    started and is cleared only by that callback's end, so a callback that
 *    resubmitted its own context and returns late does not open the door
 *    while the next call's callback runs on another thread.
 *    [test_async_two_runner_threads_complete_each_call_once,
 *     test_async_reinit_refused_while_next_callback_runs]
 * A6 Bound to a completion queue, a DONE call's completion becomes a record
 *    on that queue (callback or not) instead of a notify entry; its
 *    callback runs only in reap.  A free unlinks a waiting record at once,
 *    so reap never returns a freed context.  [test_cq_free_*]
 * A7 What a call made (job->made: a first leg's security context, a
 *    credential) becomes the caller's only once the caller was told of the
 *    completion: its callback popped for delivery, its record reaped, its
 *    final status read (sa__acall_status), or the context reinit (told).  A
 *    free before that abandons the call and deletes what it made, even
 *    when the outputs naming it were already written: before the DONE step
 *    job_finish runs the job's undo, after it the free does (a->made, kept
 *    from DONE until told), in both cases with no lock held.  A free after
 *    the caller was told only suppresses an undelivered callback.  (The
 *    outputs are written in the same hold that makes the call DONE, so a
 *    free sees either neither or both.)
 *    [test_async_free_after_run_deletes_first_leg_context,
 *     test_async_free_after_run_frees_acquired_credential,
 *     test_async_free_after_done_before_told_deletes_context,
 *     test_async_free_after_told_leaves_context_to_caller]
 * A8 The room holds the job of the current call, copied there at
 *    submission (a call allocates nothing in the engine); it is not written
 *    again until the next submission, which A1 and A5 order after the
 *    finish hold of this one: so whatever the job's release() needs is
 *    copied out of the room in that hold.  [test_pool_*]
 * Key: [i] immutable after create, [E] engine lock.
 */
struct sa_acall {
	uint8_t state;             /* [E] enum sa_acall_state */
	uint8_t abandoned;         /* [E] freed while a call was pending or undelivered */
	uint8_t told;              /* [E] the caller learnt of the DONE call (A7) */
	uint32_t notifying;        /* [E] number of the latest callback started, running; 0: none (A5) */
	uint32_t notify_seq;       /* [E] deliveries numbered so far (0 is never a number) */
	int32_t status;            /* [E] the DONE call's status */
	void (*cb)(void);          /* [E] the registered callback, or NULL */
	void *cb_data;             /* [E] */
	void (*done_cb)(void);     /* [E] the callback captured when the call was published */
	void *done_data;           /* [E] */
	struct sa_handle self;     /* [i] */
	struct sa_engine *engine;  /* [i] */
	struct sa_queue notify_node;  /* [E] linked: on the engine's notify list, or, bound, on its
				       * queue's records (a free unlinks a record) (A5, A6) */
	struct sa_cq *cq;             /* [E] the completion queue it is bound to, or NULL */
	struct sa_handle made;     /* [E] what the DONE call made, until the caller is told (A7) */
	void (*undo)(void *owner, struct sa_handle made); /* [E] how to delete it */
	void *undo_owner;          /* [E] */
	max_align_t room[];        /* [E] cfg.job_room bytes: the job of the PENDING call (A8) */
};

/* One-word handle space: async contexts in slots [0, SA_ACALL_SLOTS),
 * completion queues above (their tables never issue the same word). */
#define SA_ACALL_SLOTS (1u << 23)

/* Scratch room per worker for a package's output (copied out at publish). */
#define SA_WORKER_SCRATCH (64u * 1024u)

/*
 * A worker thread's own state.
 * W1 Its scratch serves one job at a time, on this worker's thread only:
 *    worker_main hands it (sa_job_env) to the job it takes, from run() until
 *    that job's release() returns, before the worker runs anything else;
 *    a job run meanwhile inside it (a drain in run() or undo()) and every
 *    other run loop get none.  A leg's output there is copied out at
 *    publish.  [test_pool_scratch_*]
 * W2 Its counters are written by this worker only; sspiasync_stats() sums
 *    them with relaxed loads (a snapshot, exact once the pool is quiet).
 * Key: [i] immutable after start, [w] this worker's thread, [a] atomic.
 */
struct sa_worker {
	struct sa_engine *engine;               /* [i] */
	pthread_t thread;                       /* [i] */
	unsigned char *scratch;                 /* [i] SA_WORKER_SCRATCH bytes (W1) */
	_Atomic uint64_t counts[SA_ENGINE_NCOUNTS]; /* [a] written by this worker only (W2) */
	char pad[64];                           /* keeps two workers' counters off one line */
};

/*
 * A completion queue (sspiasync_cq), in the engine's table of queues.
 * Q1 Its records are DONE calls of bound async contexts, each holding the
 *    job's reference on its context, in completion order; a context is on
 *    it at most once (its notify_node, A5).
 * Q2 readable == (the eventfd's counter is non-zero) == (records non-empty, or in
 *    no-thread mode the engine has a job that may start or a callback that
 *    waits for sspiasync_run); kept so under the engine lock at every change.
 *    So in no-thread mode a change of the engine's work moves every queue's
 *    fd: O(queues) system calls, the documented cost of that mode
 *    (sspiasync.h, "Completion queues").
 * Q3 bound counts the async contexts bound to it; destroy is refused while
 *    it is non-zero, so a context's cq pointer never dangles.
 * Key: [i] immutable after create, [E] engine lock.
 */
struct sa_cq {
	struct sa_handle self;      /* [i] */
	struct sa_engine *engine;   /* [i] */
	int fd;                     /* [i] eventfd, EFD_NONBLOCK | EFD_CLOEXEC */
	struct sa_queue records;    /* [E] sa_acall.notify_node, oldest first (Q1) */
	uint32_t bound;             /* [E] (Q3) */
	uint8_t readable;           /* [E] (Q2) */
	struct sa_queue node;       /* [E] linked: on the engine's cq_list (until destroy) */
};

/*
 * The engine.
 * E1 A job is in exactly one place: a serial queue (queued), running (its
 *    queue's running flag set), or finished and released.
 * E2 Jobs of one serial queue run one at a time, in submission order.
 * E3 pending counts non-exempt jobs queued or running; a submission past
 *    max_pending is refused.  [test_async_bound_*]
 * E4 A serial queue is on the ready list at most once (its ready_node), and
 *    only while it has a queued job: a drain that empties it unlinks it, so
 *    a context freed afterwards is never reached through the list.
 * E5 The engine touches a job's queue only before calling its release(),
 *    which drops the references that keep the queue alive.
 * E6 Pool mode: a worker sleeps only when no job may start and no callback
 *    waits.  Whoever makes one ready signals work if a worker is idle and
 *    none is searching (awake and looking for work: spinning before it
 *    sleeps, or signalled and not yet back under the lock); a searcher that
 *    takes work passes the signal on if more is ready (sa__engine_baton_locked),
 *    and a spinner re-checks under the lock before it sleeps.  So no wakeup
 *    is lost, none polls, and one submission wakes at most one worker.
 *    searching <= nworkers, signalled <= idle.  [test_async_pool_*,
 *    verify/sspiasync.pml]
 * Key: [i] immutable after create, [E] lock.
 */
struct sa_engine {
	pthread_mutex_t lock;         /* LOCK ORDER #2 (src/sspi/sspi_int.h); guards [E] */
	pthread_cond_t changed;       /* a job finished (drain waits for a running one) */
	struct sa_htable *acalls;     /* [i] one-word handles */
	struct sa_engine_config cfg;  /* [i] */
	struct sa_queue ready;        /* [E] queues whose head may run: sa_serial.ready_node (E4) */
	struct sa_queue notify;       /* [E] completions whose callbacks wait: sa_acall.notify_node */
	_Atomic uint8_t notify_any;   /* [a] notify non-empty, written under [E]; read unlocked as a hint */
	uint32_t changed_waiters;     /* [E] threads waiting on changed (drain, shutdown) */
	pthread_cond_t work;          /* pool: a job or a callback waits for a worker */
	struct sa_worker *workers;    /* [i] pool mode: cfg.threads workers */
	unsigned nworkers;            /* [i] started */
	unsigned idle;                /* [E] workers waiting on work */
	unsigned searching;           /* [E] workers awake and looking for work (E6) */
	unsigned signalled;           /* [E] signals of work sent, not yet taken by a waking worker */
	_Atomic uint32_t work_seq;    /* [a] bumped under [E] when a job or callback turns ready:
				       * a spinning worker's unlocked hint (E6) */
	uint8_t stopping;             /* [E] workers exit */
	uint32_t pending;             /* [E] non-exempt jobs queued or running */
	uint32_t calls;               /* [E] all jobs queued or running */
	uint32_t running;             /* [E] jobs running now */
	_Atomic uint32_t releasing;   /* [a] finished jobs whose release() has not returned yet:
				       * raised in the finish hold, lowered after release()
				       * (and undo()), so a call counts as pending until its
				       * job let go of what it held (sa__engine_pending) */
	struct sa_htable *cqs;        /* [i] completion queues, one-word handles */
	struct sa_queue cq_list;      /* [E] every live queue, newest first: sa_cq.node (no-thread
				       * levels, shutdown) */
	_Atomic uint64_t counts[SA_ENGINE_NCOUNTS]; /* [a] counted on threads that are not workers */
};

/* sa_job_ops.flags bit of the engine's own (async.h has the callers'): the
 * call was counted when submitted (a status job), not when it ends. */
#define SA_JOB_COUNTED 2u

/* --- inline: belong to no file ------------------------------------------- */

/* The serial queue @job runs on: its context's, or its own (E2). */
static inline struct sa_serial *sa__job_queue(struct sa_job *job)
{
	return job->serial != NULL ? job->serial : &job->own;
}

/* Pool mode: a job or a callback is ready; wake a worker unless one is
 * searching already or every idle one was signalled (E6).  Also the hint for
 * spinners.  Context: e->lock held. */
static inline void sa__engine_signal_locked(struct sa_engine *e)
{
	SA_ASSERT_HELD(&e->lock);
	atomic_store_explicit(&e->work_seq,
			      atomic_load_explicit(&e->work_seq, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (e->idle > e->signalled && e->searching == 0) {
		e->signalled++;
		e->searching++; /* on the woken worker's behalf */
		pthread_cond_signal(&e->work);
	}
}

/* --- cq.c: calls nothing else in src/async/ ------------------------------ */

/*
 * sa__cq_table_create() - Make the engine's table of queues (e->cqs), whose
 * handles take the one-word slots above the async contexts'.  Returns SA_OK
 * or sa_htable_create()'s error (SA_ENOMEM), e->cqs then untouched.
 * Context: engine creation, no engine lock; allocates; takes the handle
 * tables' process-wide lock.
 */
int sa__cq_table_create(struct sa_engine *e);
/*
 * sa__cq_table_destroy() - Remove every queue left, bound or not (each is
 * freed and its eventfd closed), and free the table.  Never fails; a
 * reference still held on a queue is a bug (asserted).
 * Context: engine creation's failure or destruction: no other thread uses
 * the engine; no lock held.
 */
void sa__cq_table_destroy(struct sa_engine *e);
/*
 * sa__cq_wants_fd_locked() - The level @q's eventfd must have (Q2): 1 while
 * it holds a record or, in no-thread mode, a job may start or a callback
 * waits; else 0.  Changes nothing.
 * Context: engine lock held.
 */
int sa__cq_wants_fd_locked(const struct sa_cq *q);
/*
 * sa__cq_level_locked() - Bring @q's eventfd to its level (Q2): one
 * nonblocking write or read when the level changes, errors ignored.  Never
 * fails, never blocks; allocates nothing.
 * Context: engine lock held.
 */
void sa__cq_level_locked(struct sa_cq *q);
/*
 * sa__cq_levels_locked() - No-thread mode: bring every queue's fd to its
 * level (Q2) after a change of the engine's work: O(queues), a system call
 * for each queue whose level moves.  No-op in pool mode.  Never fails.
 * Context: engine lock held.
 */
void sa__cq_levels_locked(struct sa_engine *e);
/*
 * sa__cq_push_locked() - Append @a's completion to its queue @q (A6, Q1): @a
 * is DONE, bound to @q and on no list; the job's reference passes to the
 * record, and the fd is raised (Q2).  Never fails; allocates nothing.
 * Context: engine lock held.
 */
void sa__cq_push_locked(struct sa_cq *q, struct sa_acall *a);
/*
 * sa__cq_unlink_locked() - Take @a's waiting record off its queue @q (a free,
 * a reap); @a must be on @q (asserted).  The caller then owns the record's
 * reference.  Lowers the fd when @q empties (Q2).  Never fails.
 * Context: engine lock held.
 */
void sa__cq_unlink_locked(struct sa_cq *q, struct sa_acall *a);
/*
 * sa__cq_take_locked() - Take @q's oldest record off it (A6, Q1) and return
 * its async context; the caller then owns the record's reference.  Lowers
 * the fd when @q empties (Q2).  @q must hold a record (not checked).  Never
 * fails; allocates nothing.
 * Context: engine lock held.
 */
struct sa_acall *sa__cq_take_locked(struct sa_cq *q);
/*
 * sa__cq_acquire_locked() - The queue named @w, referenced (release with
 * sa_htable_release(e->cqs, q->self)); NULL for a bad handle.  Allocates
 * nothing.
 * Context: engine lock held.
 */
struct sa_cq *sa__cq_acquire_locked(struct sa_engine *e, uintptr_t w);

/* --- acall.c: calls cq.c ------------------------------------------------- */

/*
 * sa__acall_busy_locked() - 1 if @a must refuse reinit, binding or a
 * submission from this thread now (A1, A5): a call PENDING, its completion
 * queued, or its latest callback running other than on this thread; else 0.
 * Context: engine lock held; reads this thread's delivery (thread-local).
 */
int sa__acall_busy_locked(const struct sa_acall *a);
/*
 * sa__acall_told_locked() - The caller learnt of @a's DONE call: what it made
 * is the caller's, no free undoes it (A7).  Never fails.
 * Context: engine lock held.
 */
void sa__acall_told_locked(struct sa_acall *a);
/*
 * sa__acall_notifying_locked() - Number a delivery of @a's callback and mark
 * it running (A5); returns the number (never 0) for the delivery (notify.c).
 * Never fails.
 * Context: engine lock held.
 */
uint32_t sa__acall_notifying_locked(struct sa_acall *a);
/* The delivery a thread runs (A5): whose callback, and its number. */
struct sa_acall_delivery {
	const struct sa_acall *a;
	uint32_t seq;
};
/*
 * sa__acall_delivery_enter() - From now this thread runs delivery @seq of
 * @a's callback (A5: sa__acall_busy_locked lets it reinit and resubmit @a);
 * the delivery it ran before, if any, is saved in *@outer for
 * sa__acall_delivery_exit() (deliveries nest).  Never fails.
 * Context: the delivering thread, no lock needed (thread-local).
 */
void sa__acall_delivery_enter(const struct sa_acall *a, uint32_t seq,
			      struct sa_acall_delivery *outer);
/*
 * sa__acall_delivery_exit() - The callback returned: this thread runs the
 * delivery saved in *@outer again (none, or the one it nests in).
 * Context: the thread of the matching sa__acall_delivery_enter().
 */
void sa__acall_delivery_exit(const struct sa_acall_delivery *outer);

/* --- notify.c: calls acall.c, cq.c --------------------------------------- */

/*
 * sa__notify_push_locked() - Queue @a's callback for delivery (A5): @a is
 * DONE with a captured callback, bound to no queue and on no list; the job's
 * reference passes to the entry, and if @signal, in pool mode, an idle
 * worker is woken (E6; a worker that delivers it itself next passes 0).
 * Never fails; allocates nothing.
 * Context: engine lock held.
 */
void sa__notify_push_locked(struct sa_engine *e, struct sa_acall *a, int signal);
/*
 * sa__notify_deliver() - Run every queued callback on this thread, each with
 * no lock held (A4), and drop each entry's reference.  The unlocked look at
 * notify_any is a hint: a callback queued by another thread after it is
 * run by that thread's own delivery or by a worker it woke (E6).  Never
 * fails.
 * Context: any thread; no library lock held; runs user callbacks.
 */
void sa__notify_deliver(struct sa_engine *e);
/*
 * sa__cq_flush_all() - Shutdown: take every queue's records (each tells its
 * caller, A7), run their callbacks on this thread with no lock held, and
 * drop the records' references.  Never fails.
 * Context: the shutdown thread (sa__engine_cancel_all); no library lock
 * held; runs user callbacks; allocates nothing.
 */
void sa__cq_flush_all(struct sa_engine *e);

/* --- job.c: calls notify.c, cq.c ----------------------------------------- */

/*
 * sa__job_enqueue_locked() - Copy the job @proto (@size bytes, at most
 * cfg.job_room: asserted) into @a's room (A8) and queue it as the call @a
 * was reserved for (the reference passes to the job, A2): after the jobs on
 * its serial queue (or on its own queue), its queue made ready unless a job
 * of it runs (E4), the fds levelled (Q2).  Never fails; allocates nothing.
 * Context: e->lock held.
 */
void sa__job_enqueue_locked(struct sa_engine *e, struct sa_acall *a, const struct sa_job *proto,
			    size_t size);
/*
 * sa__job_take_locked() - The next job that may start, taken off its queue
 * and marked running (E1, E2), and in *@abandoned whether its call was
 * abandoned before it started (A3); NULL, *@abandoned untouched, when none.
 * Context: e->lock held.
 */
struct sa_job *sa__job_take_locked(struct sa_engine *e, int *abandoned);
/*
 * sa__job_take_from_locked() - As sa__job_take_locked(), but the oldest job
 * of @q, which has one and runs none (asserted): a drain.  Unlinks @q from
 * the ready list when it empties (E4).  Never fails.
 * Context: e->lock held.
 */
struct sa_job *sa__job_take_from_locked(struct sa_engine *e, struct sa_serial *q, int *abandoned);
/*
 * sa__job_execute() - Run the taken @job on this thread, handing run() @env
 * (NULL: none, W1), or cancel it: with 0 if its call was abandoned before it
 * started (@abandoned, A3), with @cancel_status if that is not 0 and the job
 * is not exempt (shutdown); count the call (cfg.count) with its final
 * status, unless it was counted at submission (SA_JOB_COUNTED); then finish
 * it in one hold of the engine lock: the outcome published unless the call
 * was abandoned (A7), its queue released (E2), the call DONE with its
 * completion queued for delivery or as a record (A1, A6), and, if @next is
 * not NULL and no callback waits on the notify list, the next job that may
 * start taken (its abandoned flag in *@next) and returned; after the hold,
 * the job released (on a copy, A8; E5) and what an abandoned call made
 * undone (A7).  The one way every run loop runs a job.  Returns the next
 * job, or NULL (always NULL when @next is NULL).  Never fails.
 * Context: no library lock held; runs package legs, the count hook and
 * release()/undo() here; no user callback.
 */
struct sa_job *sa__job_execute(struct sa_engine *e, struct sa_job *job, int abandoned,
			       int32_t cancel_status, const struct sa_job_env *env, int *next);
/*
 * sa__job_count() - Count one call that ended with @status (cfg.count; no-op
 * without one).  Never fails.
 * Context: no engine lock held; allocates nothing.
 */
void sa__job_count(struct sa_engine *e, int32_t status);
#endif /* SSPIASYNC_ASYNC_ASYNC_INT_H */
