/*
 * src/async/job.c - jobs: their serial queues and the engine's ready list,
 * taking the next job that may start, running (or cancelling) it with what
 * the engine hands it (sa_job_env, W1), its publish, counting the call, and
 * finishing it (queue released, job released, call DONE, its completion
 * handed to notify.c or a completion queue).  Every run loop of engine.c
 * runs a job through sa__job_execute().  Not here: the loops themselves,
 * submission's checks and the bound (engine.c).  Invariants E1-E5, A1-A3,
 * A7 and W1: async_int.h.
 */
#include "async/async_int.h"

#include "util/annotate.h"
#include "util/lock.h"
#include "util/queue.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

_Atomic(sa_engine_test_hook_fn) sa__engine_test_hook;

/* Call the test hook, if a test set one. */
static inline void test_point(enum sa_engine_point point, uintptr_t acall)
{
	sa_engine_test_hook_fn fn = atomic_load_explicit(&sa__engine_test_hook, memory_order_acquire);
	if (fn != NULL)
		fn(point, acall);
}

void sa__serial_init(struct sa_serial *q)
{
	sa__queue_init(&q->jobs);
	sa__queue_init(&q->ready_node);
	q->running = 0;
}

/* Put @q on the ready list (E4), and signal a worker (E6) if @signal: a
 * worker that takes the next job in the same hold passes 0 and signals
 * after its take if work is left.  Context: e->lock held. */
static void ready_push_locked(struct sa_engine *e, struct sa_serial *q, int signal)
{
	SA_ASSERT_HELD(&e->lock);
	if (sa__queue_linked(&q->ready_node))
		return; /* E4: once */
	sa__queue_insert_tail(&e->ready, &q->ready_node);
	if (signal)
		sa__engine_signal_locked(e);
}

/* Take @q off the ready list if it is on it.  Context: e->lock held. */
static void ready_unlink_locked(struct sa_engine *e, struct sa_serial *q)
{
	SA_ASSERT_HELD(&e->lock);
	sa__queue_remove(&q->ready_node); /* nothing if unlinked (queue.h, U3) */
}

/* Take the oldest job off @q, which has one.  Context: e->lock held. */
static struct sa_job *serial_pop_locked(struct sa_engine *e, struct sa_serial *q)
{
	SA_ASSERT_HELD(&e->lock);
	struct sa_queue *n = sa__queue_head(&q->jobs);
	sa__queue_remove(n);
	return SA_QUEUE_DATA(n, struct sa_job, node);
}

struct sa_job *sa__job_take_locked(struct sa_engine *e, int *abandoned)
{
	SA_ASSERT_HELD(&e->lock);
	while (!sa__queue_empty(&e->ready)) {
		struct sa_serial *q = SA_QUEUE_DATA(sa__queue_head(&e->ready), struct sa_serial,
						    ready_node);
		ready_unlink_locked(e, q);
		if (q->running || sa__queue_empty(&q->jobs))
			continue; /* running elsewhere: re-queued when that job finishes */
		struct sa_job *job = serial_pop_locked(e, q);
		q->running = 1;
		e->running++;
		*abandoned = job->acall->abandoned;
		sa__cq_levels_locked(e);
		return job;
	}
	sa__cq_levels_locked(e);
	return NULL;
}

struct sa_job *sa__job_take_from_locked(struct sa_engine *e, struct sa_serial *q, int *abandoned)
{
	SA_ASSERT_HELD(&e->lock);
	assert(!q->running && !sa__queue_empty(&q->jobs));
	struct sa_job *job = serial_pop_locked(e, q);
	if (sa__queue_empty(&q->jobs)) {
		ready_unlink_locked(e, q); /* E4: nothing left to run here */
		sa__cq_levels_locked(e);
	}
	q->running = 1;
	e->running++;
	*abandoned = job->acall->abandoned;
	return job;
}

void sa__job_enqueue_locked(struct sa_engine *e, struct sa_acall *a, const struct sa_job *proto,
			    size_t size)
{
	SA_ASSERT_HELD(&e->lock);
	assert(size >= sizeof *proto && size <= e->cfg.job_room);
	struct sa_job *job = (struct sa_job *)(void *)a->room; /* A8: ours until the finish hold */
	memcpy(job, proto, size);
	job->size = (uint16_t)size;
	job->acall = a;
	sa__queue_init(&job->node);
	if (job->serial == NULL)
		sa__serial_init(&job->own);
	struct sa_serial *q = sa__job_queue(job);
	sa__queue_insert_tail(&q->jobs, &job->node);
	if (!q->running)
		ready_push_locked(e, q, 1);
	sa__cq_levels_locked(e);
}

/* Run @job with @env, or cancel it if its call was abandoned before it
 * started (A3: @abandoned, read under the lock when the job was taken) or
 * @cancel_status says so.  Context: no lock held. */
static void job_run_or_cancel(struct sa_job *job, int abandoned, int32_t cancel_status,
			      const struct sa_job_env *env)
{
	test_point(SA_ENGINE_POINT_RUN, job->acall->self.lower);
	job->status = 0; /* none until run() or cancel() records one (an abandoned call's cancel) */
	job->publish = 0;
	job->out = 0;
	if (abandoned)
		job->ops->cancel(job, 0);
	else if (cancel_status != 0 && !(job->ops->flags & SA_JOB_EXEMPT))
		job->ops->cancel(job, cancel_status);
	else
		job->ops->run(job, env);
}

void sa__job_count(struct sa_engine *e, int32_t status)
{
	if (e->cfg.count != NULL)
		e->cfg.count(e, status);
}

/* A call is no longer queued or running (E3).  Context: e->lock held. */
static void call_ended_locked(struct sa_engine *e, int exempt)
{
	SA_ASSERT_HELD(&e->lock);
	e->calls--;
	if (!exempt)
		e->pending--;
}

/* A copy of a finished job for its release() (A8): the job itself lives in
 * its async context's room, which the next call may fill as soon as the
 * finish hold ends. */
union job_copy {
	struct sa_job job;
	max_align_t align;
	unsigned char bytes[SA_JOB_ROOM_MAX];
};

/* Publish @job's outcome unless its call was abandoned (A7), then make the
 * call DONE with its callback captured.  Returns whether it published.
 * Context: e->lock held; @job finished running. */
static int publish_locked(struct sa_acall *a, struct sa_job *job)
{
	SA_ASSERT_HELD(&a->engine->lock);
	if (!job->publish || a->abandoned)
		return 0;
	if (job->out && job->ops->copy_out != NULL)
		job->ops->copy_out(job); /* outputs first, then the status (A1) */
	a->status = job->status;
	a->state = SA_ACALL_DONE;
	/* Clearing the callback while PENDING suppressed it. */
	a->done_cb = a->cb;
	a->done_data = a->cb_data;
	a->told = 0; /* A7: what it made is the caller's once told */
	a->made = job->ops->undo != NULL ? job->made : (struct sa_handle){0, 0};
	a->undo = job->ops->undo;
	a->undo_owner = job->owner;
	return 1;
}

/* Finish @job in one hold of the engine lock: publish (DONE) unless the call
 * was abandoned, free its queue for the next job, queue the completion as a
 * record or a callback, and take the next job if @next asks and no callback
 * waits; copy the job for its release() (A8).  DONE is the call's
 * linearization point (A7): a free before it abandoned the call, and what the
 * call made (job->made) is undone here, after the lock is dropped and the
 * job released. */
static struct sa_job *job_finish(struct sa_engine *e, struct sa_job *job, int *next)
{
	struct sa_acall *a = job->acall; /* alive: the job's reference (A2) */
	struct sa_handle ah = a->self;
	int exempt = (job->ops->flags & SA_JOB_EXEMPT) != 0;
	union job_copy copy;
	struct sa_job *taken = NULL;
	test_point(SA_ENGINE_POINT_RAN, ah.lower);
	SA_LOCK(&e->lock);
	int published = publish_locked(a, job);
	/* A7: an abandoned call's undo is the end of its call: counted pending
	 * until it is done. */
	int undoing = !published && a->abandoned && job->ops->undo != NULL && job->made.lower != 0;
	struct sa_serial *q = sa__job_queue(job);
	q->running = 0;
	/* Not once stopping: what is queued then is shutdown's to cancel. */
	int take = next != NULL && sa__queue_empty(&e->notify) && !e->stopping;
	if (!sa__queue_empty(&q->jobs) && q != &job->own)
		ready_push_locked(e, q, !take);
	e->running--;
	if (!undoing)
		call_ended_locked(e, exempt);
	int keep_ref = 0;
	if (published && a->cq != NULL) {
		sa__cq_push_locked(a->cq, a); /* A6: the job's reference goes with the record */
		keep_ref = 1;
	} else if (published && a->done_cb != NULL) {
		/* the job's reference now the entry's (A5); a worker delivers it
		 * itself next (it then takes no job in this hold) */
		sa__notify_push_locked(e, a, next == NULL);
		keep_ref = 1;
	}
	if (e->changed_waiters != 0)
		pthread_cond_broadcast(&e->changed); /* a drain or shutdown waits for this job */
	memcpy(&copy, job, job->size); /* A8: the room is the next call's from the unlock */
	atomic_fetch_add_explicit(&e->releasing, 1, memory_order_relaxed); /* pending till released */
	if (take && sa__queue_empty(&e->notify)) {
		taken = sa__job_take_locked(e, next); /* also levels the fds (Q2) */
		if (!sa__queue_empty(&e->ready) || !sa__queue_empty(&e->notify))
			sa__engine_signal_locked(e); /* E6: what this worker leaves */
	} else {
		if (take && !sa__queue_empty(&e->ready))
			sa__engine_signal_locked(e); /* a callback came first: not taking (E6) */
		sa__cq_levels_locked(e);
	}
	SA_UNLOCK(&e->lock);

	if (copy.job.ops->release != NULL)
		copy.job.ops->release(&copy.job);
	if (undoing) {
		copy.job.ops->undo(copy.job.owner, copy.job.made); /* A7 (no lock held) */
		SA_LOCK(&e->lock);
		call_ended_locked(e, exempt);
		SA_UNLOCK(&e->lock);
	}
	if (!keep_ref)
		sa_htable_release(e->acalls, ah);
	SA_HAPPENS_BEFORE(&e->releasing); /* what release() did, before a reader of pending */
	atomic_fetch_sub_explicit(&e->releasing, 1, memory_order_release);
	return taken;
}

struct sa_job *sa__job_execute(struct sa_engine *e, struct sa_job *job, int abandoned,
			       int32_t cancel_status, const struct sa_job_env *env, int *next)
{
	static const struct sa_job_env none = {NULL, 0};
	job_run_or_cancel(job, abandoned, cancel_status, env != NULL ? env : &none);
	/* Every call counts once, abandoned or not, with the status it ended
	 * with. */
	if (!(job->ops->flags & SA_JOB_COUNTED))
		sa__job_count(e, job->status);
	return job_finish(e, job, next);
}
