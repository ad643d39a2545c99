/*
 * src/async/async_int.h - private to src/async/: the engine and the
 * async-call context, their invariants and the library's lock order.
 */
#ifndef SSPIASYNC_ASYNC_ASYNC_INT_H
#define SSPIASYNC_ASYNC_ASYNC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <sspiasync/handles.h>

#include "async/async.h"

/* LOCK ORDER: runtime g_lock < engine.lock < ctx.lock < rt.buf_lock < htable.lock. None is held across a package leg or a user callback. */

enum sa_acall_state { SA_ACALL_IDLE = 1, SA_ACALL_PENDING, SA_ACALL_DONE };

/*
 * An async-call context (SspiAsyncContext).
 * A1 One call at a time: IDLE -> PENDING (submit) -> DONE (its job finished:
 *    outputs written, status recorded, queue released, callback queued) ->
 *    IDLE (reinit).  [test_async_status_*]
 * A2 A PENDING call's job holds a table reference on the context, released
 *    after its completion was delivered, so a freed context's memory lives
 *    until then and its handle fails at once.  [test_async_free_*]
 * A3 Freed while PENDING (abandoned): the job is cancelled if not started,
 *    nothing is published (no output written), no callback runs.
 *    [test_async_free_pending_*]
 * A4 The callback runs at most once per call, after the call's serial queue
 *    moved on, with no lock held, and never inside an API call other than
 *    sspiasync_run() (and shutdown's cancellations).  [test_async_callback_*]
 * A5 From DONE until its callback has returned (notify_queued, then
 *    notifying), reinit and submission are refused to every thread but the
 *    one running that callback, so a callback always sees its own call and a
 *    context is on the notify list at most once.
 *    [test_async_two_runner_threads_complete_each_call_once]
 * Key: [i] immutable after create, [E] engine lock.
 */
struct sa_acall {
	uint8_t state;             /* [E] enum sa_acall_state */
	uint8_t abandoned;         /* [E] freed while a call was pending or undelivered */
	uint8_t notify_queued;     /* [E] on the engine's notify list */
	uint8_t notifying;         /* [E] its callback is running (on the thread whose tl_notifying is it) */
	uint8_t published;         /* [E] the PENDING call published; DONE when its job finishes */
	int32_t status;            /* [E] the DONE call's status */
	void (*cb)(void);          /* [E] the registered callback, or NULL */
	void *cb_data;             /* [E] */
	void (*done_cb)(void);     /* [E] the callback captured when the call was published */
	void *done_data;           /* [E] */
	struct sa_handle self;     /* [i] */
	struct sa_engine *engine;  /* [i] */
	struct sa_acall *notify_next; /* [E] */
	struct sa_job status_job;  /* [E] the job of sa_engine_submit_status */
	int32_t status_job_status; /* [E] */
	void (*status_job_release)(void *owner); /* [E] */
};

/* Scratch room per worker for a package's output (copied out at publish). */
#define SA_WORKER_SCRATCH (64u * 1024u)

/*
 * A worker thread's own state.
 * W1 Its scratch serves one leg at a time, on this worker's thread only: a
 *    leg's output is copied out at publish, and the room given back when the
 *    job is released, before the worker runs anything else.
 *    [test_async_pool_scratch_*]
 * W2 Its counters are written by this worker only; sspiasync_stats() sums
 *    them with relaxed loads (a snapshot, exact once the pool is quiet).
 * Key: [i] immutable after start, [w] this worker's thread, [a] atomic.
 */
struct sa_worker {
	struct sa_engine *engine;               /* [i] */
	pthread_t thread;                       /* [i] */
	unsigned char *scratch;                 /* [i] SA_WORKER_SCRATCH bytes */
	uint8_t scratch_busy;                   /* [w] */
	_Atomic uint64_t counts[SA_ENGINE_NCOUNTS]; /* [a] written by this worker only (W2) */
	char pad[64];                           /* keeps two workers' counters off one line */
};

/*
 * The engine.
 * E1 A job is in exactly one place: a serial queue (queued), running (its
 *    queue's running flag set), or finished and released.
 * E2 Jobs of one serial queue run one at a time, in submission order.
 * E3 pending counts non-exempt jobs queued or running; a submission past
 *    max_pending is refused.  [test_async_bound_*]
 * E4 A serial queue is on the ready list at most once (its ready flag), and
 *    only while it has a queued job: a drain that empties it unlinks it, so
 *    a context freed afterwards is never reached through the list.
 * E5 The engine touches a job's queue only before calling its release(),
 *    which drops the references that keep the queue alive.
 * E6 Pool mode: a worker sleeps only when no job may start and no callback
 *    waits; whoever makes one ready signals work if a worker is idle, so none
 *    is lost and none polls.  [test_async_pool_*]
 * Key: [i] immutable after create, [E] lock.
 */
struct sa_engine {
	pthread_mutex_t lock;         /* LOCK ORDER #2 (async_int.h); guards [E] */
	pthread_cond_t changed;       /* a job finished (drain waits for a running one) */
	struct sa_htable *acalls;     /* [i] one-word handles */
	struct sa_engine_config cfg;  /* [i] */
	struct sa_serial *ready_head; /* [E] queues whose head may run */
	struct sa_serial *ready_tail; /* [E] */
	struct sa_acall *notify_head; /* [E] completions whose callbacks wait */
	struct sa_acall *notify_tail; /* [E] */
	pthread_cond_t work;          /* pool: a job or a callback waits for a worker */
	struct sa_worker *workers;    /* [i] pool mode: cfg.threads workers */
	unsigned nworkers;            /* [i] started */
	unsigned idle;                /* [E] workers waiting on work */
	uint8_t stopping;             /* [E] workers exit */
	uint32_t pending;             /* [E] non-exempt jobs queued or running */
	uint32_t calls;               /* [E] all jobs queued or running */
	uint32_t running;             /* [E] jobs running now */
	_Atomic uint64_t counts[SA_ENGINE_NCOUNTS]; /* [a] counted on threads that are not workers */
};

/* A1/A5: may @a take reinit or a submission from this thread now?
 * Context: engine lock held. */
int sa__acall_busy_locked(const struct sa_acall *a);

#endif /* SSPIASYNC_ASYNC_ASYNC_INT_H */
