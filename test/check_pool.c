/*
 * test/check_pool.c - the worker pool's suite: how many workers start
 * (config, SSPIASYNC_THREADS, default), the per-worker scratch room (W1) and
 * counters (W2), and the engine's per-queue order (E2) under two workers and
 * two submitting threads.
 *
 * The engine tests drive src/async/ directly with jobs of their own, so the
 * order they check is the engine's, with nothing of SSPI in between.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include <sspiasync/errors.h>

#include "async/async.h"
#include "sspi/sspi_int.h"
#include "sspi_testlib.h"
#include "testlib.h"

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void finish(void)
{
	ck_assert_int_eq(sa__rt_test_engine_check(), SA_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}

/* The pool an implicit initialisation (the first SSPI call) starts. */
static uint64_t implicit_workers(const char *env)
{
	if (env != NULL)
		ck_assert_int_eq(setenv("SSPIASYNC_THREADS", env, 1), 0);
	else
		ck_assert_int_eq(unsetenv("SSPIASYNC_THREADS"), 0);
	SspiAsyncContext *a = SspiCreateAsyncContext(); /* initialises */
	ck_assert_ptr_nonnull(a);
	uint64_t n = stats().worker_threads;
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_int_eq(unsetenv("SSPIASYNC_THREADS"), 0);
	return n;
}

START_TEST(test_pool_default_is_two_workers)
{
	ck_assert_uint_eq(implicit_workers(NULL), SSPIASYNC_DEFAULT_THREADS);
	ck_assert_uint_eq(SSPIASYNC_DEFAULT_THREADS, 2);
	ck_assert_int_eq(sspiasync_init(NULL), SEC_E_OK);
	ck_assert_uint_eq(stats().worker_threads, 2);
	finish();
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	ck_assert_uint_eq(stats().worker_threads, 2);
	finish();
}
END_TEST

START_TEST(test_pool_environment_variable_chooses_workers)
{
	ck_assert_uint_eq(implicit_workers("0"), 0);
	ck_assert_uint_eq(implicit_workers("1"), 1);
	ck_assert_uint_eq(implicit_workers("3"), 3);
	ck_assert_uint_eq(implicit_workers("65"), SSPIASYNC_MAX_THREADS);
	ck_assert_uint_eq(implicit_workers("99999999999999999999999"), SSPIASYNC_MAX_THREADS);
	/* Not a number: ignored, the default stands. */
	ck_assert_uint_eq(implicit_workers(""), 2);
	ck_assert_uint_eq(implicit_workers("two"), 2);
	ck_assert_uint_eq(implicit_workers("-1"), 2);
	ck_assert_uint_eq(implicit_workers("4x"), 2);
	finish();
}
END_TEST

START_TEST(test_pool_config_threads_taken_as_given)
{
	struct sspiasync_config cfg = {0};
	ck_assert_int_eq(setenv("SSPIASYNC_THREADS", "5", 1), 0); /* a config wins */
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	ck_assert_uint_eq(stats().worker_threads, 0);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	cfg.threads = SSPIASYNC_MAX_THREADS + 1;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	ck_assert_uint_eq(stats().worker_threads, SSPIASYNC_MAX_THREADS);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_int_eq(unsetenv("SSPIASYNC_THREADS"), 0);
	finish();
}
END_TEST

/* --- scratch and counters ------------------------------------------------- */

struct done {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int n;
	uint64_t allocs; /* allocation calls counted when the callback ran */
};

static void done_cb(SspiAsyncContext *handle, PVOID data)
{
	struct done *d = data;
	(void)handle;
	pthread_mutex_lock(&d->lock);
	d->allocs = alloc_calls();
	d->n++;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->lock);
}

/* Wait (30 s at most) for @n callbacks; 1 if they came. */
static int done_wait(struct done *d, int n)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	pthread_mutex_lock(&d->lock);
	while (d->n < n && pthread_cond_timedwait(&d->cv, &d->lock, &deadline) == 0)
		;
	int ok = d->n >= n;
	pthread_mutex_unlock(&d->lock);
	return ok;
}

/* Allocations one async first leg costs, with @threads workers (0: run here). */
static uint64_t first_leg_allocs(unsigned threads, unsigned char *tok, unsigned long *len)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = threads;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	struct done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	CredHandle cc;
	CtxtHandle c;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &cc, NULL), SEC_E_OK);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, done_cb, &d), SEC_E_OK);
	SecBuffer ob = {MAX_TOKEN, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	unsigned long attrs;
	char target[] = "host/scratch;legs=3";
	uint64_t before = alloc_calls();
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 0, 0, NULL, 0,
							     &c, &od, &attrs, NULL), SEC_E_OK);
	if (threads == 0)
		ck_assert_uint_eq(sspiasync_run(0), 1);
	ck_assert(done_wait(&d, 1));
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_CONTINUE_NEEDED);
	*len = ob.cbBuffer;
	uint64_t n = d.allocs - before;
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	finish();
	return n;
}

/* W1: on a worker the package writes into the worker's scratch, so the leg
 * allocates exactly one block fewer than the same leg run by
 * sspiasync_run() on the caller's thread, and the token copied out is the
 * same. */
START_TEST(test_pool_scratch_spares_the_output_allocation)
{
	unsigned char here[MAX_TOKEN], pooled[MAX_TOKEN];
	unsigned long here_len, pooled_len;
	memset(here, 0, sizeof here);
	memset(pooled, 0, sizeof pooled);
	uint64_t run_here = first_leg_allocs(0, here, &here_len);
	uint64_t on_worker = first_leg_allocs(1, pooled, &pooled_len);
	ck_assert_uint_eq(on_worker + 1, run_here);
	ck_assert_uint_gt(here_len, 0);
	ck_assert_uint_eq(here_len, pooled_len);
}
END_TEST

/* W1 with nesting: a callback on the only worker runs a synchronous leg
 * (not a job: it gets no scratch and takes room of its own), and the async
 * leg after it, in the scratch again, still gets the right token: the
 * handshake completes. */
struct nest {
	struct done d;
	CredHandle *sc;
	CtxtHandle sv;
	SecBuffer *in;
	unsigned char out[MAX_TOKEN];
	unsigned long out_len;
	SECURITY_STATUS st;
};

static void nest_cb(SspiAsyncContext *handle, PVOID data)
{
	struct nest *n = data;
	if (SspiGetAsyncCallStatus(handle) == SEC_I_CONTINUE_NEEDED) {
		SecBufferDesc id = {SECBUFFER_VERSION, 1, n->in};
		SecBuffer ob = {MAX_TOKEN, SECBUFFER_TOKEN, n->out};
		SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
		unsigned long attrs;
		n->st = AcceptSecurityContext(n->sc, NULL, &id, 0, 0, &n->sv, &od, &attrs, NULL);
		n->out_len = ob.cbBuffer;
	}
	done_cb(handle, &n->d);
}

START_TEST(test_pool_scratch_sync_leg_in_a_callback_on_the_worker)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 1;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	CredHandle cc, sc;
	CtxtHandle c;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &cc, NULL), SEC_E_OK);
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_INBOUND, NULL, NULL,
						   NULL, NULL, &sc, NULL), SEC_E_OK);
	unsigned char t1[MAX_TOKEN], t3[MAX_TOKEN];
	SecBuffer o1 = {sizeof t1, SECBUFFER_TOKEN, t1}, o3 = {sizeof t3, SECBUFFER_TOKEN, t3};
	SecBufferDesc d1 = {SECBUFFER_VERSION, 1, &o1}, d3 = {SECBUFFER_VERSION, 1, &o3};
	struct nest n = {.d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0},
			 .sc = &sc, .in = &o1, .st = -1};
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, nest_cb, &n), SEC_E_OK);
	unsigned long attrs;
	char target[] = "host/nest;legs=3";
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 0, 0, NULL, 0,
							     &c, &d1, &attrs, NULL), SEC_E_OK);
	ck_assert(done_wait(&n.d, 1));
	ck_assert_int_eq(n.st, SEC_E_OK);
	ck_assert_uint_gt(n.out_len, 0);
	time_t deadline = time(NULL) + 30;
	while (SspiReinitAsyncContext(a) != STATUS_SUCCESS && time(NULL) <= deadline)
		sched_yield(); /* until its callback returned */
	SecBuffer ib = {n.out_len, SECBUFFER_TOKEN, n.out};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, &cc, &c, NULL, 0, 0, 0, &id, 0, &c,
							     &d3, &attrs, NULL), SEC_E_OK);
	ck_assert(done_wait(&n.d, 2));
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&n.sv), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	finish();
}
END_TEST

/* W2: completions counted on two workers and on this thread add up. */
START_TEST(test_pool_counters_summed_over_workers)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 2;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	enum { N = 64 };
	struct done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	SspiAsyncContext *a[N];
	CtxtHandle stale = {0x1234, 0x5678};
	uint64_t before = stats().completed_calls;
	uint64_t stale_before = stats().rejected_stale;
	for (int i = 0; i < N; i++) {
		a[i] = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(a[i]);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a[i], done_cb, &d), SEC_E_OK);
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[i], &stale), SEC_E_OK);
	}
	ck_assert(done_wait(&d, N));
	ck_assert_int_eq(DeleteSecurityContext(&stale), SEC_E_INVALID_HANDLE); /* counted here */
	struct sspiasync_statistics st = stats();
	ck_assert_uint_eq(st.completed_calls - before, N + 1);
	ck_assert_uint_eq(st.rejected_stale - stale_before, N + 1);
	for (int i = 0; i < N; i++)
		SspiFreeAsyncContext(a[i]);
	finish();
}
END_TEST

/* Every call counts once in completed_calls: also one freed while pending
 * (cancelled before it ran). */
START_TEST(test_pool_counters_count_abandoned_calls_once)
{
	struct sspiasync_config cfg = {0}; /* no-thread: nothing runs until run() */
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	CredHandle cc;
	CtxtHandle c[2];
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &cc, NULL), SEC_E_OK);
	static unsigned char tok[2][MAX_TOKEN];
	static SecBuffer ob[2];
	static SecBufferDesc od[2];
	static unsigned long attrs[2];
	char target[] = "host/count;legs=3";
	uint64_t before = stats().completed_calls;
	SspiAsyncContext *a[2];
	for (int i = 0; i < 2; i++) {
		a[i] = SspiCreateAsyncContext();
		ob[i] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, tok[i]};
		od[i] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[i]};
		ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a[i], &cc, NULL, target, 0, 0, 0,
								     NULL, 0, &c[i], &od[i],
								     &attrs[i], NULL), SEC_E_OK);
	}
	SspiFreeAsyncContext(a[0]); /* abandoned before it started */
	ck_assert_uint_eq(stats().completed_calls, before);
	ck_assert_uint_eq(sspiasync_run(0), 2); /* a[1]'s runs, a[0]'s ends cancelled */
	ck_assert_uint_eq(stats().completed_calls, before + 2);
	ck_assert_uint_eq(stats().contexts, 1);
	SspiAsyncContext *late = SspiCreateAsyncContext();
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(late, &cc, NULL, target, 0, 0, 0, NULL,
							     0, &c[0], &od[0], &attrs[0], NULL),
			 SEC_E_OK);
	/* Read: the context a[1]'s call made is ours now (A7). */
	ck_assert_int_eq(SspiGetAsyncCallStatus(a[1]), SEC_I_CONTINUE_NEEDED);
	SspiFreeAsyncContext(a[1]);
	SspiFreeAsyncContext(late);
	ck_assert_int_eq(DeleteSecurityContext(&c[1]), SEC_E_OK);
	ck_assert_uint_eq(stats().completed_calls, before + 3);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	finish(); /* cancels the queued leg of "late" */
}
END_TEST

/* A stale async context or queue counts in rejected_stale, not as a call. */
START_TEST(test_pool_counters_stale_async_context_and_queue)
{
	struct sspiasync_config cfg = {0};
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	struct sspiasync_statistics s0 = stats();
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(SspiReinitAsyncContext(a), STATUS_INVALID_HANDLE);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, done_cb, NULL), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_bind(a, NULL), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_fd(cq), -1);
	struct sspiasync_completion c;
	ck_assert_int_eq(sspiasync_cq_reap(cq, &c, 1), SEC_E_INVALID_HANDLE);
	struct sspiasync_statistics s1 = stats();
	ck_assert_uint_eq(s1.rejected_stale - s0.rejected_stale, 7);
	ck_assert_uint_eq(s1.completed_calls, s0.completed_calls);
	finish();
}
END_TEST

/* --- the engine's per-queue order (E2), with workers ----------------------- */

enum { ORDER_QUEUES = 32, ORDER_SUBMITTERS = 2, ORDER_BURST = 8 }; /* jobs queued on one queue at a time */

struct order {
	struct sa_engine *e;
	struct sa_serial q[ORDER_QUEUES];
	_Atomic unsigned next[ORDER_QUEUES];    /* the sequence number due next */
	_Atomic int inside[ORDER_QUEUES];       /* a job of that queue is running */
	_Atomic unsigned out_of_order, overlapped, ran, cancelled, refused;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	unsigned released; /* [lock] */
	unsigned rounds;
	_Atomic int check_stop;
	_Atomic unsigned checks, unsound; /* sa__engine_check() runs, and failures */
};

/* Check the engine over and over while the submitters and workers run. */
/* The self-check while the submitters and workers run, paced by the jobs:
 * once more each time another 1/64 of them was released, because a check
 * walks every live context under the engine lock and, run back to back,
 * starves the workers it watches (under TSan the test then missed its 60 s
 * bound: CI found it).  The test's thread sets check_stop under o->lock and
 * broadcasts, so the untimed wait ends (no timed wait: Helgrind reports
 * glibc's own pthread_cond_timedwait timeout path). */
static void *order_checker(void *arg)
{
	struct order *o = arg;
	unsigned step = o->rounds * ORDER_QUEUES / 64 + 1, seen = 0;
	while (!atomic_load(&o->check_stop)) {
		if (sa__engine_check(o->e) != SA_OK)
			atomic_fetch_add(&o->unsound, 1);
		atomic_fetch_add(&o->checks, 1);
		pthread_mutex_lock(&o->lock);
		while (!atomic_load(&o->check_stop) && o->released < seen + step)
			pthread_cond_wait(&o->cv, &o->lock);
		seen = o->released;
		pthread_mutex_unlock(&o->lock);
	}
	return NULL;
}

struct ojob {
	struct sa_job job;
	struct order *o;
	unsigned q, seq;
};

/* A job of queue q starts: it must be q's next, and alone. */
static void ojob_record(struct ojob *j)
{
	struct order *o = j->o;
	if (atomic_exchange(&o->inside[j->q], 1) != 0)
		atomic_fetch_add(&o->overlapped, 1);
	if (atomic_load(&o->next[j->q]) != j->seq)
		atomic_fetch_add(&o->out_of_order, 1);
	atomic_store(&o->next[j->q], j->seq + 1);
	sched_yield(); /* widen the window in which a second job of q would overlap */
	atomic_store(&o->inside[j->q], 0);
}

static void ojob_run(struct sa_job *job, const struct sa_job_env *env)
{
	struct ojob *j = (struct ojob *)job;
	(void)env;
	ojob_record(j);
	atomic_fetch_add(&j->o->ran, 1);
	sa__job_done(job, 0, 0); /* its async context may be freed already */
}

static void ojob_cancel(struct sa_job *job, int32_t status)
{
	struct ojob *j = (struct ojob *)job;
	ojob_record(j); /* cancelled in its turn too */
	atomic_fetch_add(&j->o->cancelled, 1);
	if (status != 0)
		sa__job_done(job, status, 0);
}

static void ojob_release(struct sa_job *job)
{
	struct ojob *j = (struct ojob *)job; /* the engine's copy (A8) */
	struct order *o = j->o;
	pthread_mutex_lock(&o->lock);
	o->released++;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->lock);
}

static const struct sa_job_ops ojob_ops = {.run = ojob_run, .cancel = ojob_cancel, .release = ojob_release};

static void no_notify(uintptr_t acall, void (*cb)(void), void *data)
{
	(void)acall;
	(void)cb;
	(void)data;
}

struct order_th {
	struct order *o;
	unsigned first; /* this thread's queues: first, first + SUBMITTERS, ... */
};

/* Submit rounds x (queues of this thread) jobs, in bursts of ORDER_BURST per
 * queue (so queues are deep while workers take from them), each on a fresh async
 * context freed right away (fire and forget: the job runs, or is cancelled
 * if the free comes first; either way in its turn). */
static void *order_submitter(void *arg)
{
	struct order_th *t = arg;
	struct order *o = t->o;
	for (unsigned r0 = 0; r0 < o->rounds; r0 += ORDER_BURST) {
		for (unsigned q = t->first; q < ORDER_QUEUES; q += ORDER_SUBMITTERS)
		for (unsigned r = r0; r < r0 + ORDER_BURST && r < o->rounds; r++) {
			uintptr_t w;
			if (sa__acall_create(o->e, &w) != SA_OK) {
				atomic_fetch_add(&o->refused, 1);
				continue;
			}
			struct ojob j = {.job = {.ops = &ojob_ops, .serial = &o->q[q]}, .o = o,
					 .q = q, .seq = r};
			if (sa__engine_submit(o->e, w, &j.job, sizeof j) != SA_OK)
				atomic_fetch_add(&o->refused, 1);
			sa__acall_free(o->e, w);
		}
	}
	return NULL;
}

START_TEST(test_pool_engine_runs_each_queue_in_order_with_two_workers)
{
	static struct order o; /* large; zeroed */
	memset(&o, 0, sizeof o);
	o.rounds = tl_slow() ? 30 : 300;
	pthread_mutex_init(&o.lock, NULL);
	pthread_cond_init(&o.cv, NULL);
	for (unsigned q = 0; q < ORDER_QUEUES; q++)
		sa__serial_init(&o.q[q]);
	struct sa_engine_config cfg = {.max_async = 1u << 16, .max_pending = 1u << 20,
				       .pending_status = 1, .notify = no_notify, .threads = 2,
				       .job_room = sizeof(struct ojob)};
	ck_assert_int_eq(sa__engine_create(&cfg, &o.e), SA_OK);
	pthread_t tid[ORDER_SUBMITTERS], checker;
	struct order_th th[ORDER_SUBMITTERS];
	ck_assert_int_eq(pthread_create(&checker, NULL, order_checker, &o), 0);
	for (unsigned i = 0; i < ORDER_SUBMITTERS; i++) {
		th[i] = (struct order_th){&o, i};
		ck_assert_int_eq(pthread_create(&tid[i], NULL, order_submitter, &th[i]), 0);
	}
	for (unsigned i = 0; i < ORDER_SUBMITTERS; i++)
		pthread_join(tid[i], NULL);
	unsigned total = o.rounds * ORDER_QUEUES;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	pthread_mutex_lock(&o.lock);
	while (o.released < total && pthread_cond_timedwait(&o.cv, &o.lock, &deadline) == 0)
		;
	unsigned released = o.released;
	atomic_store(&o.check_stop, 1);
	pthread_cond_broadcast(&o.cv); /* the checker's wait ends */
	pthread_mutex_unlock(&o.lock);
	pthread_join(checker, NULL);
	ck_assert_uint_gt(atomic_load(&o.checks), 0);
	ck_assert_uint_eq(atomic_load(&o.unsound), 0);
	ck_assert_uint_eq(atomic_load(&o.refused), 0);
	ck_assert_uint_eq(released, total);
	ck_assert_uint_eq(atomic_load(&o.ran) + atomic_load(&o.cancelled), total);
	ck_assert_uint_eq(atomic_load(&o.out_of_order), 0);
	ck_assert_uint_eq(atomic_load(&o.overlapped), 0);
	for (unsigned q = 0; q < ORDER_QUEUES; q++)
		ck_assert_uint_eq(atomic_load(&o.next[q]), o.rounds);
	/* A job is released before the engine counts it finished and drops
	 * its async context: wait (bounded) for the last of those steps. */
	time_t until = time(NULL) + 30;
	while ((sa__engine_pending(o.e) != 0 || sa__engine_live_acalls(o.e) != 0) &&
	       time(NULL) <= until)
		sched_yield();
	ck_assert_uint_eq(sa__engine_pending(o.e), 0);
	ck_assert_uint_eq(sa__engine_live_acalls(o.e), 0);
	ck_assert_int_eq(sa__engine_check(o.e), SA_OK);
	sa__engine_cancel_all(o.e, 0);
	sa__engine_destroy(o.e);
	pthread_cond_destroy(&o.cv);
	pthread_mutex_destroy(&o.lock);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* E2, deterministically: two workers; job A1 holds queue A (blocked on a
 * gate), A2 waits behind it, B1 on queue B is submitted last.  The ready
 * list is FIFO, so once B1 has run the second worker has passed A2 by: A2
 * must not have started while A1 runs, and runs once the gate opens.  W1
 * too: A1 and B1, running at once, were each handed a scratch of their own. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int a1_running, open, a2_ran, b1_ran, a2_during_a1, released;
	const unsigned char *a1_scratch, *b1_scratch;
	size_t a1_cap, b1_cap;
};

struct gjob {
	struct sa_job job;
	struct gate *g;
	char name; /* 'A' first job of A, 'a' second, 'B' */
};

static void gjob_run(struct sa_job *job, const struct sa_job_env *env)
{
	struct gjob *j = (struct gjob *)job;
	struct gate *g = j->g;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	pthread_mutex_lock(&g->lock);
	if (j->name == 'A') {
		g->a1_scratch = env->scratch;
		g->a1_cap = env->cap;
		g->a1_running = 1;
		pthread_cond_broadcast(&g->cv);
		while (!g->open && pthread_cond_timedwait(&g->cv, &g->lock, &deadline) == 0)
			;
		g->a1_running = 0;
	} else if (j->name == 'a') {
		g->a2_during_a1 |= g->a1_running;
		g->a2_ran = 1;
	} else {
		g->b1_scratch = env->scratch;
		g->b1_cap = env->cap;
		g->b1_ran = 1;
	}
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->lock);
	sa__job_done(job, 0, 0);
}

static void gjob_cancel(struct sa_job *job, int32_t status)
{
	(void)job;
	(void)status;
}

static void gjob_release(struct sa_job *job)
{
	struct gate *g = ((struct gjob *)job)->g;
	pthread_mutex_lock(&g->lock);
	g->released++;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->lock);
}

static const struct sa_job_ops gjob_ops = {.run = gjob_run, .cancel = gjob_cancel, .release = gjob_release};

/* Wait (30 s at most) until *@flag >= @v under g->lock; 1 if it did. */
static int gate_wait(struct gate *g, const int *flag, int v)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	pthread_mutex_lock(&g->lock);
	while (*flag < v && pthread_cond_timedwait(&g->cv, &g->lock, &deadline) == 0)
		;
	int ok = *flag >= v;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

START_TEST(test_pool_engine_second_job_of_a_queue_waits_while_a_worker_is_free)
{
	struct sa_engine_config cfg = {.max_async = 64, .max_pending = 64, .pending_status = 1,
				       .notify = no_notify, .threads = 2,
				       .job_room = sizeof(struct gjob)};
	struct sa_engine *e;
	ck_assert_int_eq(sa__engine_create(&cfg, &e), SA_OK);
	struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0, 0,
			 NULL, NULL, 0, 0};
	struct sa_serial qa, qb;
	sa__serial_init(&qa);
	sa__serial_init(&qb);
	struct gjob j[3] = {{.job = {.ops = &gjob_ops, .serial = &qa}, .g = &g, .name = 'A'},
			    {.job = {.ops = &gjob_ops, .serial = &qa}, .g = &g, .name = 'a'},
			    {.job = {.ops = &gjob_ops, .serial = &qb}, .g = &g, .name = 'B'}};
	uintptr_t w[3];
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(sa__acall_create(e, &w[i]), SA_OK);
	ck_assert_int_eq(sa__engine_submit(e, w[0], &j[0].job, sizeof j[0]), SA_OK);
	ck_assert(gate_wait(&g, &g.a1_running, 1)); /* a worker holds A */
	ck_assert_int_eq(sa__engine_submit(e, w[1], &j[1].job, sizeof j[1]), SA_OK);
	ck_assert_int_eq(sa__engine_submit(e, w[2], &j[2].job, sizeof j[2]), SA_OK);
	ck_assert(gate_wait(&g, &g.b1_ran, 1)); /* the other worker passed A2 by */
	ck_assert_int_eq(sa__engine_check(e), SA_OK); /* A running, A2 queued behind it */
	pthread_mutex_lock(&g.lock);
	int a2_early = g.a2_ran;
	g.open = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.lock);
	ck_assert_int_eq(a2_early, 0);
	ck_assert_ptr_nonnull(g.a1_scratch); /* W1: a worker's, one per running job */
	ck_assert_ptr_nonnull(g.b1_scratch);
	ck_assert_ptr_ne(g.a1_scratch, g.b1_scratch);
	ck_assert_uint_gt(g.a1_cap, 0);
	ck_assert_uint_eq(g.a1_cap, g.b1_cap);
	ck_assert(gate_wait(&g, &g.a2_ran, 1));
	ck_assert(gate_wait(&g, &g.released, 3));
	ck_assert_int_eq(g.a2_during_a1, 0);
	for (int i = 0; i < 3; i++) {
		int32_t st = -1;
		time_t until = time(NULL) + 30; /* DONE comes just after release */
		while ((sa__acall_status(e, w[i], &st) != SA_OK || st == cfg.pending_status) &&
		       time(NULL) <= until)
			sched_yield();
		ck_assert_int_eq(st, 0);
		sa__acall_free(e, w[i]);
	}
	ck_assert_int_eq(sa__engine_check(e), SA_OK);
	sa__engine_destroy(e);
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.lock);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* sa__engine_check() notices each kind of damage sa__engine_test_corrupt()
 * does, and accepts the engine once it is repaired: on an engine with a
 * worker (idle), a queued job (no-thread: nothing runs it), a DONE call
 * whose callback waits, and a completion queue with a record. */
static void check_notify(uintptr_t acall, void (*cb)(void), void *data)
{
	(void)acall;
	(void)cb;
	(void)data;
}

static void check_job_run(struct sa_job *job, const struct sa_job_env *env)
{
	(void)env;
	sa__job_done(job, 0, 0);
}

static void check_job_cancel(struct sa_job *job, int32_t status)
{
	if (status != 0)
		sa__job_done(job, status, 0);
}

static const struct sa_job_ops check_job_ops = {.run = check_job_run, .cancel = check_job_cancel};

static void check_cb(void)
{
}

START_TEST(test_pool_engine_check_notices_each_corruption)
{
	struct sa_engine_config cfg = {.max_async = 64, .max_pending = 64, .pending_status = 1,
				       .notify = check_notify, .threads = 0};
	struct sa_engine *e;
	ck_assert_int_eq(sa__engine_create(&cfg, &e), SA_OK);
	ck_assert_int_eq(sa__engine_check(e), SA_OK); /* empty */
	uintptr_t cq, w[3];
	ck_assert_int_eq(sa__cq_create(e, &cq), SA_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(sa__acall_create(e, &w[i]), SA_OK);
	ck_assert_int_eq(sa__acall_set_callback(e, w[0], check_cb, NULL), SA_OK);
	ck_assert_int_eq(sa__acall_bind(e, w[1], cq), SA_OK);
	struct sa_serial q0, q;
	sa__serial_init(&q0);
	sa__serial_init(&q);
	struct sa_job j[3];
	for (int i = 0; i < 3; i++)
		j[i] = (struct sa_job){.ops = &check_job_ops, .serial = i == 2 ? &q : &q0};
	ck_assert_int_eq(sa__engine_submit(e, w[0], &j[0], sizeof j[0]), SA_OK);
	ck_assert_int_eq(sa__engine_submit(e, w[1], &j[1], sizeof j[1]), SA_OK);
	sa__engine_drain(e, &q0); /* w[0]: its callback waits; w[1]: a record */
	ck_assert_int_eq(sa__engine_submit(e, w[2], &j[2], sizeof j[2]), SA_OK); /* queued */
	ck_assert_int_eq(sa__engine_check(e), SA_OK);
	static const int how[] = {SA_ENGINE_CORRUPT_PENDING, SA_ENGINE_CORRUPT_RUNNING,
				  SA_ENGINE_CORRUPT_IDLE, SA_ENGINE_CORRUPT_NOTIFY_ANY,
				  SA_ENGINE_CORRUPT_READABLE};
	for (size_t i = 0; i < sizeof how / sizeof how[0]; i++) {
		sa__engine_test_corrupt(e, how[i], 0);
		ck_assert_msg(sa__engine_check(e) == SA_EINVAL, "corruption %d not noticed", how[i]);
		sa__engine_test_corrupt(e, how[i], 1);
		ck_assert_msg(sa__engine_check(e) == SA_OK, "repair of %d not accepted", how[i]);
	}
	sa__engine_cancel_all(e, 7); /* runs the callback, flushes the record */
	ck_assert_int_eq(sa__engine_check(e), SA_OK);
	ck_assert_int_eq(sa__acall_bind(e, w[1], 0), SA_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(sa__acall_free(e, w[i]), SA_OK);
	ck_assert_int_eq(sa__cq_destroy(e, cq), SA_OK);
	ck_assert_int_eq(sa__engine_check(e), SA_OK);
	sa__engine_destroy(e);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* --- regressions the API fuzzer found (fuzz/repro/) ------------------------ */

/* K5: a leg on a context whose async delete is queued takes no memory and is
 * exempt from the bound: queued, it completes SEC_E_INVALID_HANDLE. */
START_TEST(test_regress_leg_on_deleting_context_exempt_from_bound)
{
	struct sspiasync_config cfg = {0};
	cfg.max_pending = 1;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	CredHandle cred;
	CtxtHandle ctx, other;
	static unsigned char tok[3][MAX_TOKEN];
	static SecBuffer ob[3];
	static SecBufferDesc od[3];
	static unsigned long attrs[3];
	for (int i = 0; i < 3; i++) {
		ob[i] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, tok[i]};
		od[i] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[i]};
	}
	char target[] = "host/k5;legs=3";
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_BOTH, NULL, NULL, NULL,
						   NULL, &cred, NULL), SEC_E_OK);
	ck_assert_int_eq(InitializeSecurityContextA(&cred, NULL, target, 0, 0, 0, NULL, 0, &ctx,
						    &od[0], &attrs[0], NULL), SEC_I_CONTINUE_NEEDED);
	SspiAsyncContext *del = SspiCreateAsyncContext(), *busy = SspiCreateAsyncContext(),
			 *leg = SspiCreateAsyncContext();
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(del, &ctx), SEC_E_OK);
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(busy, &cred, NULL, target, 0, 0, 0, NULL,
							     0, &other, &od[1], &attrs[1], NULL),
			 SEC_E_OK); /* the bound is full now */
	uint64_t allocs = alloc_calls();
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(leg, NULL, &ctx, target, 0, 0, 0, NULL, 0,
							     &ctx, &od[2], &attrs[2], NULL),
			 SEC_E_OK);
	ck_assert_uint_eq(alloc_calls(), allocs);
	ck_assert_uint_eq(sspiasync_run(0), 3);
	ck_assert_int_eq(SspiGetAsyncCallStatus(leg), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(SspiGetAsyncCallStatus(del), SEC_E_OK);
	ck_assert_int_eq(SspiGetAsyncCallStatus(busy), SEC_I_CONTINUE_NEEDED); /* ours (A7) */
	SspiFreeAsyncContext(del);
	SspiFreeAsyncContext(busy);
	SspiFreeAsyncContext(leg);
	ck_assert_int_eq(DeleteSecurityContext(&other), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cred), SEC_E_OK);
	finish();
}
END_TEST

/* K6: run(0) also runs what a callback deferred by a synchronous call
 * submits during that run. */
static CredHandle k6_cred;

static void k6_resubmit(SspiAsyncContext *a, PVOID data)
{
	char pkg[] = "SspiAsyncTest";
	int *once = data;
	if ((*once)++ == 0 && SspiReinitAsyncContext(a) == STATUS_SUCCESS)
		(void)SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg, SECPKG_CRED_BOTH, NULL, NULL, NULL,
							 NULL, &k6_cred, NULL);
}

START_TEST(test_regress_run_runs_work_queued_by_deferred_callbacks)
{
	struct sspiasync_config cfg = {0};
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	CredHandle cred;
	CtxtHandle ctx;
	static unsigned char tok[2][MAX_TOKEN];
	static SecBuffer ob[2];
	static SecBufferDesc od[2];
	static unsigned long attrs[2];
	for (int i = 0; i < 2; i++) {
		ob[i] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, tok[i]};
		od[i] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[i]};
	}
	char target[] = "host/k6;legs=3";
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_BOTH, NULL, NULL, NULL,
						   NULL, &cred, NULL), SEC_E_OK);
	ck_assert_int_eq(InitializeSecurityContextA(&cred, NULL, target, 0, 0, 0, NULL, 0, &ctx,
						    &od[0], &attrs[0], NULL), SEC_I_CONTINUE_NEEDED);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	int once = 0;
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, k6_resubmit, &once), SEC_E_OK);
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, NULL, &ctx, target, 0, 0, 0, NULL, 0,
							     &ctx, &od[1], &attrs[1], NULL),
			 SEC_E_OK);
	SecPkgContext_Sizes sz; /* runs the queued leg first (whatever it answers) */
	(void)QueryContextAttributesA(&ctx, SECPKG_ATTR_SIZES, &sz);
	ck_assert_int_ne(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING); /* callback waits */
	ck_assert_uint_eq(sspiasync_run(0), 1); /* the callback's submission, in the same run */
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	ck_assert_int_eq(once, 2); /* both callbacks ran in that run */
	ck_assert_uint_eq(stats().pending_calls, 0);
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(FreeCredentialsHandle(&k6_cred), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&ctx), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cred), SEC_E_OK);
	finish();
}
END_TEST

/* K2: arguments are checked before handles, also with a NULL handle. */
START_TEST(test_regress_arguments_before_null_handles)
{
	SecBufferDesc v1 = {1 /* not SECBUFFER_VERSION */, 0, NULL};
	unsigned long qop;
	ck_assert_int_eq(QueryContextAttributesA(NULL, SECPKG_ATTR_SIZES, NULL),
			 SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(QueryCredentialsAttributesA(NULL, SECPKG_CRED_ATTR_NAMES, NULL),
			 SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(CompleteAuthToken(NULL, NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(MakeSignature(NULL, 0, NULL, 0), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(EncryptMessage(NULL, 0, &v1, 0), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(DecryptMessage(NULL, NULL, 0, NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(VerifySignature(NULL, NULL, 0, &qop), SEC_E_INVALID_PARAMETER);
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(NULL, SECPKG_ATTR_SIZES, &sz), SEC_E_INVALID_HANDLE);
	finish();
}
END_TEST

/* --- fork (R4 in src/sspi/runtime.c) -------------------------------------- */

/* TSan cannot start threads in the child of a multithreaded process (it
 * aborts with "dup thread"), so under TSan the child's fresh runtime runs in
 * no-thread mode; everywhere else it starts its own pool of 2. */
#if defined(__SANITIZE_THREAD__)
#define CHILD_THREADS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CHILD_THREADS 0
#endif
#endif
#ifndef CHILD_THREADS
#define CHILD_THREADS 2
#endif

/* ASan's allocator (gcc 12's libasan) is not fork-safe: a child forked
 * while a worker is inside malloc can block forever on the allocator's
 * lock.  Under ASan the parent lets its calls finish before it forks (the
 * workers idle on their condition variable); everywhere else (plain, TSan,
 * Valgrind) it forks with calls in flight. */
#if defined(__SANITIZE_ADDRESS__)
#define FORK_IN_FLIGHT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FORK_IN_FLIGHT 0
#endif
#endif
#ifndef FORK_IN_FLIGHT
#define FORK_IN_FLIGHT 1
#endif

/* In the child: the parent's handles are stale, a fresh runtime starts
 * (with its own pool), and an async leg works there.  Returns 0 when all held. */
static int child_checks(CtxtHandle *parents, CredHandle *parent_cred)
{
	int bad = 0;
	if (CHILD_THREADS == 0)
		bad += setenv("SSPIASYNC_THREADS", "0", 1) != 0;
	struct sspiasync_statistics st;
	bad += sspiasync_stats(&st) != SEC_E_OK || st.contexts != 0 || st.worker_threads != 0;
	bad += DeleteSecurityContext(parents) != SEC_E_INVALID_HANDLE;
	bad += FreeCredentialsHandle(parent_cred) != SEC_E_INVALID_HANDLE;
	struct done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	CredHandle cc;
	CtxtHandle c;
	bad += AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
					 NULL, &cc, NULL) != SEC_E_OK;
	bad += sspiasync_stats(&st) != SEC_E_OK || st.worker_threads != CHILD_THREADS ||
	       st.credentials != 1;
	SspiAsyncContext *a = SspiCreateAsyncContext();
	bad += a == NULL || SspiSetAsyncNotifyCallback(a, done_cb, &d) != SEC_E_OK;
	unsigned char tok[MAX_TOKEN];
	SecBuffer ob = {MAX_TOKEN, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	static unsigned long attrs;
	char target[] = "host/child;legs=3";
	bad += SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 0, 0, NULL, 0, &c, &od,
						   &attrs, NULL) != SEC_E_OK;
	if (CHILD_THREADS == 0)
		bad += sspiasync_run(0) != 1;
	bad += !done_wait(&d, 1) || SspiGetAsyncCallStatus(a) != SEC_I_CONTINUE_NEEDED;
	SspiFreeAsyncContext(a);
	bad += DeleteSecurityContext(&c) != SEC_E_OK;
	bad += FreeCredentialsHandle(&cc) != SEC_E_OK;
	bad += sspiasync_shutdown() != SEC_E_OK;
	return bad;
}

/* fork() with calls in flight on two workers: the child abandons them and
 * starts afresh; the parent's calls all complete as if nothing happened. */
START_TEST(test_fork_child_starts_afresh_parent_unaffected)
{
	ck_assert_int_eq(unsetenv("SSPIASYNC_THREADS"), 0);
	enum { N = 32 };
	struct done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	CredHandle cc;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &cc, NULL), SEC_E_OK);
	SspiAsyncContext *a[N];
	CtxtHandle c[N];
	unsigned char tok[N][MAX_TOKEN];
	SecBuffer ob[N];
	SecBufferDesc od[N];
	static unsigned long attrs[N];
	char target[] = "host/fork;legs=3;latency_us=2000";
	for (int i = 0; i < N; i++) {
		a[i] = SspiCreateAsyncContext();
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a[i], done_cb, &d), SEC_E_OK);
		ob[i] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, tok[i]};
		od[i] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[i]};
		ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a[i], &cc, NULL, target, 0, 0, 0,
								     NULL, 0, &c[i], &od[i],
								     &attrs[i], NULL), SEC_E_OK);
	}
	ck_assert(done_wait(&d, FORK_IN_FLIGHT ? 1 : N)); /* c[0] exists; the rest in flight */
	/* The child reports through a pipe, not its exit status: under Valgrind
	 * the child's leak check (the abandoned runtime, kept on purpose) would
	 * replace its status (`make memcheck` silences children after fork). */
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char verdict = child_checks(&c[0], &cc) == 0 ? 'y' : 'n';
		_exit(write(p[1], &verdict, 1) == 1 ? 0 : 1);
	}
	close(p[1]);
	char verdict = 0;
	ck_assert_int_eq(read(p[0], &verdict, 1), 1);
	close(p[0]);
	int wst = 0;
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert(WIFEXITED(wst));
	ck_assert_int_eq(verdict, 'y');
	ck_assert(done_wait(&d, N));
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(SspiGetAsyncCallStatus(a[i]), SEC_I_CONTINUE_NEEDED);
		SspiFreeAsyncContext(a[i]);
		ck_assert_int_eq(DeleteSecurityContext(&c[i]), SEC_E_OK);
	}
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	finish();
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc;

	tc = tcase(s, "config", 60);
	tcase_add_test(tc, test_pool_default_is_two_workers);
	tcase_add_test(tc, test_pool_environment_variable_chooses_workers);
	tcase_add_test(tc, test_pool_config_threads_taken_as_given);

	tc = tcase(s, "scratch", 60);
	tcase_add_test(tc, test_pool_scratch_spares_the_output_allocation);
	tcase_add_test(tc, test_pool_scratch_sync_leg_in_a_callback_on_the_worker);
	tcase_add_test(tc, test_pool_counters_summed_over_workers);
	tcase_add_test(tc, test_pool_counters_count_abandoned_calls_once);
	tcase_add_test(tc, test_pool_counters_stale_async_context_and_queue);

	tc = tcase(s, "order", 300);
	tcase_add_test(tc, test_pool_engine_second_job_of_a_queue_waits_while_a_worker_is_free);
	tcase_add_test(tc, test_pool_engine_runs_each_queue_in_order_with_two_workers);
	tcase_add_test(tc, test_pool_engine_check_notices_each_corruption);

	tc = tcase(s, "regress", 60);
	tcase_add_test(tc, test_regress_leg_on_deleting_context_exempt_from_bound);
	tcase_add_test(tc, test_regress_run_runs_work_queued_by_deferred_callbacks);
	tcase_add_test(tc, test_regress_arguments_before_null_handles);

	tc = tcase(s, "fork", 60);
	tcase_add_test(tc, test_fork_child_starts_afresh_parent_unaffected);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pool_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
