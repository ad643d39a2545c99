/*
 * src/async/engine.c - the engine itself: create and destroy, the worker
 * threads, submission and reservation (the pending-call bound), the run
 * loops (worker, sa__engine_run, drain, shutdown's cancel_all), stop, and
 * statistics.  Every loop runs a job through sa__job_execute() (job.c) and
 * delivers through sa__notify_deliver() (notify.c).  Async-call contexts
 * are in acall.c, completion queues in cq.c.  Invariants E1-E6: async_int.h.
 * One engine lock guards every queue and every async context; it is never
 * held while a job runs or a callback is called.
 */
#include "async/async_int.h"

#include "util/alloc.h"
#include "util/lock.h"
#include "util/annotate.h"
#include "util/queue.h"

#include <assert.h>
#include <stddef.h>

static _Thread_local struct sa_worker *tl_worker; /* this thread's, if it is a worker */

int sa__engine_on_worker(void)
{
	return tl_worker != NULL;
}

void sa__engine_count(struct sa_engine *e, unsigned which)
{
	struct sa_worker *w = tl_worker;
	_Atomic uint64_t *c = w != NULL && w->engine == e ? &w->counts[which] : &e->counts[which];
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

uint64_t sa__engine_counted(struct sa_engine *e, unsigned which)
{
	uint64_t n = atomic_load_explicit(&e->counts[which], memory_order_relaxed);
	for (unsigned i = 0; i < e->cfg.threads; i++)
		n += atomic_load_explicit(&e->workers[i].counts[which], memory_order_relaxed);
	return n;
}
/* A completion with no work (sa__engine_submit_status), in the room (A8). */
struct status_job {
	struct sa_job job;
	int32_t status;
	void (*release)(void *owner);
};

static void acall_dtor(void *obj, void *arg)
{
	(void)arg;
	sa__free(obj);
}

static void *worker_main(void *arg);

/* Start cfg.threads workers, each with its scratch; on failure stop those
 * started.  The array stays until destroy (stats read its counters). */
static int workers_start(struct sa_engine *e)
{
	e->workers = sa__calloc(e->cfg.threads, sizeof *e->workers);
	if (e->workers == NULL)
		return SA_ENOMEM;
	for (unsigned i = 0; i < e->cfg.threads; i++) {
		struct sa_worker *w = &e->workers[i];
		w->engine = e;
		for (unsigned k = 0; k < SA_ENGINE_NCOUNTS; k++)
			atomic_init(&w->counts[k], 0);
		if ((w->scratch = sa__malloc(SA_WORKER_SCRATCH)) == NULL)
			return SA_ENOMEM;
	}
	for (unsigned i = 0; i < e->cfg.threads; i++) {
		if (pthread_create(&e->workers[i].thread, NULL, worker_main, &e->workers[i]) != 0) {
			sa__engine_stop(e);
			return SA_ENOMEM;
		}
		e->nworkers++;
	}
	return SA_OK;
}

static void workers_free(struct sa_engine *e)
{
	if (e->workers == NULL)
		return;
	for (unsigned i = 0; i < e->cfg.threads; i++)
		sa__free(e->workers[i].scratch);
	sa__free(e->workers);
}

/* Free an engine whose cond work was never made. */
static void sa_engine_destroy_empty(struct sa_engine *e)
{
	int rc = sa_htable_destroy(e->acalls);
	(void)rc; /* empty */
	sa__cq_table_destroy(e);
	pthread_cond_destroy(&e->changed);
	pthread_mutex_destroy(&e->lock);
	sa__free(e);
}

int sa__engine_create(const struct sa_engine_config *cfg, struct sa_engine **out)
{
	struct sa_engine *e = sa__calloc(1, sizeof *e);
	if (e == NULL)
		return SA_ENOMEM;
	sa__queue_init(&e->ready);
	sa__queue_init(&e->notify);
	sa__queue_init(&e->cq_list);
	/* Dense: an async context is acquired only under the engine lock (and
	 * mostly released under it), so slots on lines of their own would buy
	 * little; packed, a pending call costs 40 bytes less. */
	struct sa_htable_config tc = {.kind = 0x41, .form = SA_HTABLE_ONE_WORD,
				      .max_entries = cfg->max_async, .dtor = acall_dtor, .dense = 1};
	if (tc.max_entries == 0 || tc.max_entries > SA_ACALL_SLOTS)
		tc.max_entries = SA_ACALL_SLOTS; /* the queues' handles take the slots above */
	int rc = sa_htable_create(&tc, &e->acalls);
	if (rc == SA_OK && (rc = sa__cq_table_create(e)) != SA_OK) {
		int d = sa_htable_destroy(e->acalls);
		(void)d; /* empty */
		e->acalls = NULL;
	}
	if (rc == SA_OK && pthread_mutex_init(&e->lock, NULL) != 0)
		rc = SA_ENOMEM;
	if (rc == SA_OK && pthread_cond_init(&e->changed, NULL) != 0) {
		pthread_mutex_destroy(&e->lock);
		rc = SA_ENOMEM;
	}
	if (rc != SA_OK) {
		if (e->acalls != NULL) {
			int d = sa_htable_destroy(e->acalls);
			(void)d; /* empty */
			sa__cq_table_destroy(e);
		}
		sa__free(e);
		return rc;
	}
	e->cfg = *cfg;
	if (e->cfg.job_room < sizeof(struct status_job))
		e->cfg.job_room = sizeof(struct status_job); /* the engine's own */
	assert(e->cfg.job_room <= SA_JOB_ROOM_MAX);
	atomic_init(&e->work_seq, 0);
	atomic_init(&e->releasing, 0);
	SA_ATOMIC_WORD(&e->releasing); /* lowered without the lock */
	SA_ATOMIC_WORD(&e->work_seq); /* a hint read without the lock (E6) */
	for (unsigned k = 0; k < SA_ENGINE_NCOUNTS; k++)
		atomic_init(&e->counts[k], 0);
	atomic_init(&e->notify_any, 0);
	SA_ATOMIC_WORD(&e->notify_any); /* a hint read without the lock */
	if (pthread_cond_init(&e->work, NULL) != 0) {
		sa_engine_destroy_empty(e);
		return SA_ENOMEM;
	}
	if (cfg->threads != 0 && (rc = workers_start(e)) != SA_OK) {
		sa__engine_destroy(e);
		return rc;
	}
	*out = e;
	return SA_OK;
}

void sa__engine_destroy(struct sa_engine *e)
{
	sa__engine_stop(e);
	/* Every job finished (sa__engine_cancel_all): only idle or done contexts
	 * are left, with no reference but the table's own. */
	uint32_t cursor = 0;
	struct sa_handle h;
	while (sa_htable_next(e->acalls, &cursor, &h)) {
		int rc = sa_htable_remove(e->acalls, h);
		(void)rc;
	}
	int rc = sa_htable_destroy(e->acalls);
	assert(rc == SA_OK);
	(void)rc;
	sa__cq_table_destroy(e);
	workers_free(e);
	pthread_cond_destroy(&e->work);
	pthread_cond_destroy(&e->changed);
	pthread_mutex_destroy(&e->lock);
	sa__free(e);
}

/* Claim @a, which the caller acquired, for one call (A1): PENDING from
 * now, its reference the call's; a non-exempt call counts against the
 * bound (E3).  Context: e->lock held. */
static int reserve_locked(struct sa_engine *e, struct sa_acall *a, int exempt)
{
	SA_ASSERT_HELD(&e->lock);
	if (a->state != SA_ACALL_IDLE || sa__acall_busy_locked(a))
		return SA_EINVAL;
	if (!exempt && e->pending >= e->cfg.max_pending)
		return SA_ENOSPC;
	a->state = SA_ACALL_PENDING;
	a->done_cb = NULL;
	if (!exempt)
		e->pending++;
	e->calls++;
	return SA_OK;
}

int sa__engine_submit(struct sa_engine *e, uintptr_t w, const struct sa_job *proto, size_t size)
{
	struct sa_handle h = {w, 0};
	void *obj;
	SA_LOCK(&e->lock);
	int rc = sa_htable_acquire(e->acalls, h, &obj);
	if (rc == SA_OK) {
		rc = reserve_locked(e, obj, (proto->ops->flags & SA_JOB_EXEMPT) != 0);
		if (rc == SA_OK)
			sa__job_enqueue_locked(e, obj, proto, size); /* the reference passes to the job */
		else
			sa_htable_release(e->acalls, h);
	}
	SA_UNLOCK(&e->lock);
	return rc;
}

int sa__engine_reserve(struct sa_engine *e, uintptr_t w, struct sa_acall **res)
{
	struct sa_handle h = {w, 0};
	void *obj;
	SA_LOCK(&e->lock);
	int rc = sa_htable_acquire(e->acalls, h, &obj);
	if (rc == SA_OK && (rc = reserve_locked(e, obj, 1)) != SA_OK)
		sa_htable_release(e->acalls, h);
	SA_UNLOCK(&e->lock);
	if (rc == SA_OK)
		*res = obj;
	return rc;
}

void sa__engine_submit_reserved(struct sa_engine *e, struct sa_acall *res,
				const struct sa_job *proto, size_t size)
{
	assert(proto->ops->flags & SA_JOB_EXEMPT); /* a reservation is exempt */
	SA_LOCK(&e->lock);
	assert(res->state == SA_ACALL_PENDING);
	sa__job_enqueue_locked(e, res, proto, size);
	SA_UNLOCK(&e->lock);
}

static void status_job_run(struct sa_job *job, const struct sa_job_env *env)
{
	(void)env;
	sa__job_done(job, ((struct status_job *)(void *)job)->status, 0);
}

static void status_job_cancel(struct sa_job *job, int32_t status)
{
	/* A completion with no work: delivering it is all there is to do, so
	 * even shutdown lets it complete with its own status. */
	(void)status;
	status_job_run(job, NULL);
}

static void status_job_release(struct sa_job *job)
{
	struct status_job *j = (struct status_job *)(void *)job;
	if (j->release != NULL)
		j->release(job->owner);
}

static const struct sa_job_ops status_job_ops = {
	.run = status_job_run,
	.cancel = status_job_cancel,
	.release = status_job_release,
	.flags = SA_JOB_EXEMPT | SA_JOB_COUNTED, /* counted when submitted */
};

static struct status_job status_job_make(int32_t status, struct sa_serial *serial,
					 void (*release)(void *owner), void *owner)
{
	return (struct status_job){
		.job = {.ops = &status_job_ops, .serial = serial, .owner = owner},
		.status = status,
		.release = release,
	};
}

int sa__engine_submit_status(struct sa_engine *e, uintptr_t w, int32_t status,
			    struct sa_serial *serial, void (*release)(void *owner), void *owner)
{
	struct status_job j = status_job_make(status, serial, release, owner);
	int rc = sa__engine_submit(e, w, &j.job, sizeof j);
	if (rc == SA_OK)
		sa__job_count(e, status); /* nothing can change its outcome */
	return rc;
}

void sa__engine_submit_status_reserved(struct sa_engine *e, struct sa_acall *res, int32_t status,
				      struct sa_serial *serial, void (*release)(void *owner),
				      void *owner)
{
	struct status_job j = status_job_make(status, serial, release, owner);
	sa__engine_submit_reserved(e, res, &j.job, sizeof j);
	sa__job_count(e, status);
}

unsigned sa__engine_run(struct sa_engine *e, unsigned max)
{
	if (sa__engine_in_callback() || e->nworkers != 0)
		return 0;
	unsigned n = 0;
	for (;;) {
		/* Callbacks first: also those of calls that synchronous calls
		 * ran, whose callbacks may queue more work for this run. */
		sa__notify_deliver(e);
		if (max != 0 && n >= max)
			break;
		int abandoned = 0;
		SA_LOCK(&e->lock);
		struct sa_job *job = sa__job_take_locked(e, &abandoned);
		int more = !sa__queue_empty(&e->notify);
		SA_UNLOCK(&e->lock);
		if (job == NULL) {
			if (more)
				continue;
			break;
		}
		(void)sa__job_execute(e, job, abandoned, 0, NULL, NULL);
		n++;
	}
	return n;
}

void sa__engine_drain(struct sa_engine *e, struct sa_serial *q)
{
	SA_LOCK(&e->lock);
	for (;;) {
		if (q->running) { /* another thread runs its head: wait (E2) */
			e->changed_waiters++;
			pthread_cond_wait(&e->changed, &e->lock);
			e->changed_waiters--;
			continue;
		}
		if (sa__queue_empty(&q->jobs))
			break;
		int abandoned;
		struct sa_job *job = sa__job_take_from_locked(e, q, &abandoned);
		SA_UNLOCK(&e->lock);
		/* its callback waits for sspiasync_run() */
		(void)sa__job_execute(e, job, abandoned, 0, NULL, NULL);
		SA_LOCK(&e->lock);
	}
	SA_UNLOCK(&e->lock);
}

/* How long a worker that found no work spins (pause instructions) on the
 * unlocked hint before it sleeps (E6): a few microseconds, about a round
 * trip of a caller that reaps and resubmits. */
#define SPIN_ROUNDS 256

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* A searching worker took work (E6): it no longer searches, and if more may
 * be ready another idle worker is signalled (the baton).  Context: e->lock
 * held; the caller was counted in e->searching. */
static void baton_locked(struct sa_engine *e)
{
	SA_ASSERT_HELD(&e->lock);
	assert(e->searching > 0);
	e->searching--;
	if (!sa__queue_empty(&e->ready) || !sa__queue_empty(&e->notify))
		sa__engine_signal_locked(e); /* its rule: an idle worker, none searching */
}

/* Spin on the hint until work may have turned ready or SPIN_ROUNDS pass;
 * returns with e->lock held again (the caller re-checks under it).
 * Context: e->lock held; the caller counted in e->searching. */
static void spin_locked(struct sa_engine *e)
{
	uint32_t seen = atomic_load_explicit(&e->work_seq, memory_order_relaxed);
	SA_UNLOCK(&e->lock);
	for (unsigned i = 0; i < SPIN_ROUNDS; i++) {
		if (atomic_load_explicit(&e->work_seq, memory_order_relaxed) != seen)
			break;
		cpu_relax();
	}
	SA_LOCK(&e->lock);
}

/* A worker: run jobs, each handed the scratch (W1), taking the next one in
 * the same hold that finishes the last while no callback waits, and deliver
 * callbacks until stopped; when there is neither, spin briefly, then sleep
 * (E6). */
static void *worker_main(void *arg)
{
	struct sa_worker *self = arg;
	struct sa_engine *e = self->engine;
	const struct sa_job_env env = {self->scratch, SA_WORKER_SCRATCH};
	int searching = 0; /* counted in e->searching */
	int spun = 0;
	tl_worker = self;
	SA_LOCK(&e->lock);
	while (!e->stopping) {
		int abandoned = 0;
		struct sa_job *job = sa__job_take_locked(e, &abandoned);
		int notify = !sa__queue_empty(&e->notify);
		if ((job != NULL || notify) && searching) {
			searching = 0;
			baton_locked(e);
		}
		if (job != NULL || notify) {
			spun = 0;
			SA_UNLOCK(&e->lock);
			while (job != NULL)
				job = sa__job_execute(e, job, abandoned, 0, &env, &abandoned);
			sa__notify_deliver(e);
			SA_LOCK(&e->lock);
		} else if (!spun) {
			if (!searching) {
				searching = 1;
				e->searching++;
			}
			spun = 1;
			spin_locked(e);
		} else {
			if (searching) {
				searching = 0;
				e->searching--;
			}
			spun = 0;
			e->idle++;
			pthread_cond_wait(&e->work, &e->lock);
			e->idle--;
			searching = 1;
			if (e->signalled > 0)
				e->signalled--; /* the signaller counted us searching */
			else
				e->searching++;
		}
	}
	if (searching)
		e->searching--;
	SA_UNLOCK(&e->lock);
	return NULL;
}

void sa__engine_stop(struct sa_engine *e)
{
	SA_LOCK(&e->lock);
	e->stopping = 1;
	pthread_cond_broadcast(&e->work);
	SA_UNLOCK(&e->lock);
	for (unsigned i = 0; i < e->nworkers; i++)
		pthread_join(e->workers[i].thread, NULL);
	e->nworkers = 0;
}

void sa__engine_cancel_all(struct sa_engine *e, int32_t status)
{
	for (;;) {
		int abandoned = 0;
		SA_LOCK(&e->lock);
		struct sa_job *job = sa__job_take_locked(e, &abandoned);
		if (job == NULL && e->running != 0) {
			e->changed_waiters++;
			pthread_cond_wait(&e->changed, &e->lock);
			e->changed_waiters--;
			SA_UNLOCK(&e->lock);
			continue;
		}
		SA_UNLOCK(&e->lock);
		if (job == NULL)
			break;
		(void)sa__job_execute(e, job, abandoned, status, NULL, NULL);
		sa__notify_deliver(e);
	}
	sa__notify_deliver(e);
	sa__cq_flush_all(e); /* completions nobody reaped: their callbacks run here */
}

uint32_t sa__engine_live_acalls(struct sa_engine *e)
{
	return sa_htable_live_count(e->acalls);
}

uint32_t sa__engine_pending(struct sa_engine *e)
{
	SA_LOCK(&e->lock);
	uint32_t n = e->calls + atomic_load_explicit(&e->releasing, memory_order_acquire);
	SA_UNLOCK(&e->lock);
	SA_HAPPENS_AFTER(&e->releasing);
	return n;
}

unsigned sa__engine_threads(struct sa_engine *e)
{
	return e->cfg.threads;
}
