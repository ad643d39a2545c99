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

#include "util/lock.h"
#include "util/queue.h"

#include <assert.h>
#include <stddef.h>

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

/* Context: e->lock held. */
static void ready_push_locked(struct sa_engine *e, struct sa_serial *q)
{
	SA_ASSERT_HELD(&e->lock);
	if (sa__queue_linked(&q->ready_node))
		return; /* E4: once */
	sa__queue_insert_tail(&e->ready, &q->ready_node);
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

void sa__job_enqueue_locked(struct sa_engine *e, struct sa_acall *a, struct sa_job *job)
{
	SA_ASSERT_HELD(&e->lock);
	job->acall = a;
	if (job->serial == NULL)
		sa__serial_init(&job->own);
	struct sa_serial *q = sa__job_queue(job);
	sa__queue_insert_tail(&q->jobs, &job->node);
	if (!q->running)
		ready_push_locked(e, q);
	sa__cq_levels_locked(e);
}

int sa__job_publish(struct sa_job *job, int32_t status, void (*copy_out)(struct sa_job *job))
{
	struct sa_acall *a = job->acall;
	struct sa_engine *e = a->engine;
	job->status = status; /* the call's final status, counted either way */
	SA_LOCK(&e->lock);
	int published = !a->abandoned;
	if (published) {
		if (copy_out != NULL)
			copy_out(job); /* outputs first, then the status (A1) */
		a->status = status;
		a->published = 1;
	}
	SA_UNLOCK(&e->lock);
	return published;
}

/* Run @job with @env, or cancel it if its call was abandoned before it
 * started (A3: @abandoned, read under the lock when the job was taken) or
 * @cancel_status says so.  Context: no lock held. */
static void job_run_or_cancel(struct sa_job *job, int abandoned, int32_t cancel_status,
			      const struct sa_job_env *env)
{
	test_point(SA_ENGINE_POINT_RUN, job->acall->self.lower);
	job->status = 0; /* none until it publishes: an abandoned call's cancel */
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

/* After a job ran, in this order: free its queue for the next job; release
 * the job (E5: its references go, an embedded job is free for reuse); then
 * make the call DONE and queue its callback, or drop the job's reference on
 * the async context.  DONE comes last, so nobody can reinit the context and
 * reuse its embedded job before the job is released (A1, A5).  DONE is the
 * call's linearization point (A7): a free before it abandoned the call, and
 * what the call made (job->made) is undone here, after the lock is dropped. */
static void job_finish(struct sa_engine *e, struct sa_job *job)
{
	struct sa_acall *a = job->acall; /* alive: the job's reference (A2) */
	struct sa_handle ah = a->self;
	int exempt = (job->ops->flags & SA_JOB_EXEMPT) != 0;
	/* The job may be gone after release(): what undo needs, now. */
	void (*undo)(void *owner, struct sa_handle made) = job->ops->undo;
	struct sa_handle made = job->made;
	void *owner = job->owner;
	test_point(SA_ENGINE_POINT_RAN, ah.lower);
	SA_LOCK(&e->lock);
	struct sa_serial *q = sa__job_queue(job);
	q->running = 0;
	if (!sa__queue_empty(&q->jobs) && q != &job->own) {
		ready_push_locked(e, q);
		sa__cq_levels_locked(e); /* Q2 at every change (no-thread mode) */
	}
	SA_UNLOCK(&e->lock);

	if (job->ops->release != NULL)
		job->ops->release(job); /* the job may be gone after this */

	int keep_ref = 0;
	SA_LOCK(&e->lock);
	int abandoned = a->abandoned; /* A7: decided here, for good */
	/* An undo is the end of its call: counted pending until it is done. */
	int undoing = abandoned && undo != NULL && made.lower != 0;
	e->running--;
	if (!undoing)
		call_ended_locked(e, exempt);
	if (a->published && !abandoned) {
		/* Clearing the callback while PENDING suppressed it. */
		a->published = 0;
		a->state = SA_ACALL_DONE;
		a->done_cb = a->cb;
		a->done_data = a->cb_data;
		a->told = 0; /* A7: what it made is the caller's once told */
		a->made = undo != NULL ? made : (struct sa_handle){0, 0};
		a->undo = undo;
		a->undo_owner = owner;
	}
	if (a->state == SA_ACALL_DONE && !abandoned && a->cq != NULL) {
		sa__cq_push_locked(a->cq, a); /* A6: the job's reference goes with the record */
		keep_ref = 1;
	} else if (a->state == SA_ACALL_DONE && !abandoned && a->done_cb != NULL) {
		sa__notify_push_locked(e, a); /* the job's reference now the entry's (A5) */
		keep_ref = 1;
	}
	sa__cq_levels_locked(e);
	if (e->changed_waiters != 0)
		pthread_cond_broadcast(&e->changed); /* a drain or shutdown waits for this job */
	SA_UNLOCK(&e->lock);
	if (undoing) {
		undo(owner, made); /* A7: what nobody can learn of goes (no lock held) */
		SA_LOCK(&e->lock);
		call_ended_locked(e, exempt);
		SA_UNLOCK(&e->lock);
	}
	if (!keep_ref)
		sa_htable_release(e->acalls, ah);
}

void sa__job_execute(struct sa_engine *e, struct sa_job *job, int abandoned, int32_t cancel_status,
		     const struct sa_job_env *env)
{
	static const struct sa_job_env none = {NULL, 0};
	job_run_or_cancel(job, abandoned, cancel_status, env != NULL ? env : &none);
	/* Every call counts once, abandoned or not, with the status it ended
	 * with; before the job is released (it may be gone after). */
	if (!(job->ops->flags & SA_JOB_COUNTED))
		sa__job_count(e, job->status);
	job_finish(e, job);
}
