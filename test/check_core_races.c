/*
 * test/check_core_races.c - regression tests of issue 19: promises the core
 * broke under hostile or careless use, each forced deterministically where
 * the bug is an interleaving (the engine's test hook holds a job at a named
 * point; threads wait on conditions with a bound) or as a bounded stress.
 * Covered: a free during a concurrent shutdown (R5), callbacks that shutdown
 * runs on workers (R5), a second concurrent shutdown (R6), reinit while the
 * next call's callback runs (A5), a free between publish and DONE (A7), a
 * completion record's data after the callback was cleared, stale counts of
 * free and requires-notify, and the outcome of a delete that races a free.
 * Worker threads only record; the test's thread asserts (CK_FORK=no safe).
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "async/async.h"
#include "sspi/sspi_int.h"
#include "sspi_testlib.h"
#include "testlib.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- a bounded wait on a condition ---------------------------------------- */

#define WAIT_MS 10000 /* a bound, never reached when the code is right */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;

/* Wait until *@flag != 0 (written under g_mu); 1, or 0 at the bound. */
static int wait_flag(const int *flag)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&g_mu);
	int rc = 0;
	while (*flag == 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&g_cv, &g_mu, &dl);
	int ok = *flag != 0;
	pthread_mutex_unlock(&g_mu);
	return ok;
}

static void set_flag(int *flag)
{
	pthread_mutex_lock(&g_mu);
	*flag = 1;
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

/* Milliseconds since an arbitrary start (for bounds, never for asserts). */
static long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait for @pred, a state only the library can tell (no condition variable
 * of ours to wait on), yielding the CPU, with a bound; its last answer. */
static int wait_until(int (*pred)(void))
{
	long end = ms_now() + WAIT_MS;
	while (!pred() && ms_now() < end)
		sched_yield();
	return pred();
}

/* --- the engine hook: hold one async context's job at one point ----------- */

static struct {
	_Atomic uintptr_t acall;           /* whose job to hold (0: none) */
	_Atomic int point;                 /* where */
	int reached, released;             /* [g_mu] */
} g_hold;

static void hold_hook(enum sa_engine_point point, uintptr_t acall)
{
	if (acall != atomic_load(&g_hold.acall) || (int)point != atomic_load(&g_hold.point))
		return;
	set_flag(&g_hold.reached);
	int ok = wait_flag(&g_hold.released);
	(void)ok; /* the test thread asserts */
}

static void hold_at(SspiAsyncContext *a, enum sa_engine_point point)
{
	pthread_mutex_lock(&g_mu);
	g_hold.reached = g_hold.released = 0;
	pthread_mutex_unlock(&g_mu);
	atomic_store(&g_hold.point, (int)point);
	atomic_store(&g_hold.acall, (uintptr_t)a);
	atomic_store(&sa__engine_test_hook, hold_hook);
}

static void hold_release(void)
{
	set_flag(&g_hold.released);
}

static void hold_off(void)
{
	atomic_store(&sa__engine_test_hook, NULL);
	atomic_store(&g_hold.acall, 0);
}

static void teardown_races(void)
{
	hold_release();
	hold_off();
	teardown();
}

static TCase *tcase_races(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, NULL, teardown_races);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

/* --- set-up ---------------------------------------------------------------- */

static void start_pool(unsigned threads)
{
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = threads;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
}

static CredHandle acquire(unsigned long use)
{
	CredHandle c;
	TimeStamp ts;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, use, NULL, NULL, NULL, NULL, &c,
						   &ts),
			 SEC_E_OK);
	return c;
}

/* The caller's memory of one first ISC leg, patterned so a write shows. */
struct first_leg {
	CtxtHandle newh;
	unsigned char tok[MAX_TOKEN];
	SecBuffer ob;
	SecBufferDesc od;
	unsigned long attrs;
	TimeStamp ts;
};

static SECURITY_STATUS submit_first(SspiAsyncContext *a, CredHandle *cc, struct first_leg *o)
{
	static char target[] = "host/races;legs=3";
	handle_pat(&o->newh);
	memset(o->tok, PAT, sizeof o->tok);
	o->ob = (SecBuffer){sizeof o->tok, SECBUFFER_TOKEN, o->tok};
	o->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &o->ob};
	o->attrs = PAT_ATTR;
	o->ts.QuadPart = PAT_TIME;
	return SspiInitializeSecurityContextAsyncA(a, cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						   NULL, 0, &o->newh, &o->od, &o->attrs, &o->ts);
}

static int first_leg_untouched(const struct first_leg *o)
{
	return handle_is_pat(&o->newh) && o->ob.cbBuffer == sizeof o->tok &&
	       bytes_are(o->tok, sizeof o->tok, PAT) && o->attrs == PAT_ATTR &&
	       o->ts.QuadPart == PAT_TIME;
}

static int shutting_down(void)
{
	/* init answers so only while a shutdown runs. */
	return sspiasync_init(NULL) == SEC_E_SHUTDOWN_IN_PROGRESS;
}

static int no_pending(void)
{
	struct sspiasync_statistics s;
	return sspiasync_stats(&s) == SEC_E_OK && s.pending_calls == 0;
}

static void *shutdown_thread(void *arg)
{
	SECURITY_STATUS *st = arg;
	*st = sspiasync_shutdown();
	return NULL;
}

/* A shutdown on another thread, held in its teardown by a held job. */
struct bg_shutdown {
	pthread_t t;
	SECURITY_STATUS st;
};

/* Start it and wait until it runs. */
static void bg_shutdown_start(struct bg_shutdown *s)
{
	s->st = SEC_E_INTERNAL_ERROR;
	ck_assert_int_eq(pthread_create(&s->t, NULL, shutdown_thread, &s->st), 0);
	ck_assert(wait_until(shutting_down));
}

/* Release the held job and wait for the shutdown to end, successfully. */
static void bg_shutdown_finish(struct bg_shutdown *s)
{
	hold_release();
	ck_assert_int_eq(pthread_join(s->t, NULL), 0);
	hold_off();
	ck_assert_int_eq(s->st, SEC_E_OK);
}

/* What a callback saw: it records, the test asserts. */
struct seen {
	int calls;
	SECURITY_STATUS status;
	NTSTATUS reinit;
};

static void seen_cb(SspiAsyncContext *a, PVOID data)
{
	struct seen *s = data;
	s->calls++;
	s->status = SspiGetAsyncCallStatus(a);
	s->reinit = SspiReinitAsyncContext(a);
}

/* A credential, and a first ISC leg submitted on a new async context with
 * @cb(@data) (NULL: none), held at @point on its worker (the caller
 * started the pool); returns the context. */
static SspiAsyncContext *held_first_leg(enum sa_engine_point point, SspiAsyncNotifyCallback cb,
					void *data, struct first_leg *o, CredHandle *cc)
{
	*cc = acquire(SECPKG_CRED_OUTBOUND);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	if (cb != NULL)
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, cb, data), SEC_E_OK);
	hold_at(a, point);
	ck_assert_int_eq(submit_first(a, cc, o), SEC_E_OK);
	ck_assert(wait_flag(&g_hold.reached));
	return a;
}

/* --- R5: free during a concurrent shutdown --------------------------------- */

/* Issue 19 #1: a leg runs on a worker; another thread shuts down; a third
 * frees the async context meanwhile.  The free abandons the call: nothing is
 * written to the caller's memory, no callback runs (was: the free was
 * ignored, the leg wrote into freed memory and the callback ran). */
START_TEST(test_shutdown_free_from_other_thread_abandons_running_leg)
{
	CredHandle cc;
	struct first_leg *o = malloc(sizeof *o);
	ck_assert_ptr_nonnull(o);
	struct seen seen = {0};
	start_pool(2);
	SspiAsyncContext *a = held_first_leg(SA_ENGINE_POINT_RUN, seen_cb, &seen, o, &cc);
	struct bg_shutdown sd;
	bg_shutdown_start(&sd);
	SspiFreeAsyncContext(a); /* reaches the dying runtime (R5) */
	bg_shutdown_finish(&sd);
	ck_assert_msg(first_leg_untouched(o), "a freed call wrote the caller's outputs");
	ck_assert_int_eq(seen.calls, 0);
	free(o);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* Issue 19 #3: the callback of a call that completes while shutdown runs is
 * delivered on the worker; it reads its own status (was:
 * SEC_E_SHUTDOWN_IN_PROGRESS) and may reinit its context (was:
 * STATUS_INVALID_HANDLE). */
START_TEST(test_shutdown_worker_callbacks_read_their_status)
{
	CredHandle cc;
	struct first_leg o;
	struct seen seen = {0};
	start_pool(2);
	SspiAsyncContext *a = held_first_leg(SA_ENGINE_POINT_RUN, seen_cb, &seen, &o, &cc);
	(void)a;
	struct bg_shutdown sd;
	bg_shutdown_start(&sd);
	bg_shutdown_finish(&sd); /* the leg runs to completion; the worker delivers */
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.status, SEC_I_CONTINUE_NEEDED);
	ck_assert_int_eq(seen.reinit, STATUS_SUCCESS);
	ck_assert(!handle_is_pat(&o.newh)); /* the completed call wrote its outputs */
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* --- R6: a second, concurrent shutdown ------------------------------------ */

struct second {
	SECURITY_STATUS shutdown, init;
	int returned; /* [g_mu] */
};

static void *second_shutdown_thread(void *arg)
{
	struct second *s = arg;
	s->shutdown = sspiasync_shutdown();
	s->init = sspiasync_init(NULL); /* the runtime is gone: init works */
	set_flag(&s->returned);
	return NULL;
}

static struct second *g_second;

static int second_waits_or_returned(void)
{
	pthread_mutex_lock(&g_mu);
	int back = g_second->returned;
	pthread_mutex_unlock(&g_mu);
	return back || sa__rt_test_shutdown_waiters() == 1;
}

/* Issue 19 #4: while one shutdown is held in its teardown, a second returns
 * only when the first has finished (was: SEC_E_OK at once, ~900 ms early,
 * and an init right after it got SEC_E_SHUTDOWN_IN_PROGRESS). */
START_TEST(test_shutdown_second_caller_waits_for_teardown)
{
	start_pool(1);
	CredHandle cc;
	struct first_leg o;
	SspiAsyncContext *a = held_first_leg(SA_ENGINE_POINT_RUN, NULL, NULL, &o, &cc);
	(void)a;
	pthread_t t2;
	struct bg_shutdown sd;
	struct second sec = {SEC_E_INTERNAL_ERROR, SEC_E_INTERNAL_ERROR, 0};
	bg_shutdown_start(&sd);
	ck_assert_int_eq(pthread_create(&t2, NULL, second_shutdown_thread, &sec), 0);
	/* Either the second caller waits for the first, or (the bug) returned. */
	g_second = &sec;
	ck_assert(wait_until(second_waits_or_returned));
	pthread_mutex_lock(&g_mu);
	int early = sec.returned;
	pthread_mutex_unlock(&g_mu);
	bg_shutdown_finish(&sd);
	ck_assert_int_eq(pthread_join(t2, NULL), 0);
	ck_assert_msg(!early, "the second shutdown returned while the first still tore down");
	ck_assert_int_eq(sec.shutdown, SEC_E_OK);
	ck_assert_int_eq(sec.init, SEC_E_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* --- A5: reinit while the next call's callback runs ------------------------ */

struct chain {
	SspiAsyncContext *a;
	CredHandle cc;
	struct first_leg o[2];
	atomic_int n;                      /* callbacks started */
	int second_started, first_returned, second_returned; /* [g_mu] */
	NTSTATUS first_reinit, first_late_reinit;
	SECURITY_STATUS resubmit;
	SECURITY_STATUS second_status;
};

static void chain_cb(SspiAsyncContext *a, PVOID data)
{
	struct chain *c = data;
	int k = atomic_fetch_add(&c->n, 1);
	if (k == 0) {
		/* Callback 1: reinit and resubmit its own context (its right:
		 * it runs the latest callback), then stay until callback 2 runs
		 * on the other worker; a reinit now is no longer its right. */
		c->first_reinit = SspiReinitAsyncContext(a);
		c->resubmit = submit_first(a, &c->cc, &c->o[1]);
		int ok = wait_flag(&c->second_started);
		c->first_late_reinit = ok ? SspiReinitAsyncContext(a) : STATUS_SUCCESS;
		set_flag(&c->first_returned);
	} else {
		/* Callback 2: stays until the test thread has tried a reinit. */
		set_flag(&c->second_started);
		int ok = wait_flag(&g_hold.released);
		(void)ok;
		c->second_status = SspiGetAsyncCallStatus(a);
		set_flag(&c->second_returned);
	}
}

/* Issue 19 #2: callback 1 reinits and resubmits; callback 2 starts on the
 * other worker; callback 1 returns.  A reinit from another thread (and from
 * callback 1 once callback 2 started) is refused until callback 2 returned
 * (was: STATUS_SUCCESS once callback 1 returned, so a third call could
 * change the status callback 2 reads). */
START_TEST(test_async_reinit_refused_while_next_callback_runs)
{
	start_pool(2);
	struct chain *c = calloc(1, sizeof *c);
	ck_assert_ptr_nonnull(c);
	pthread_mutex_lock(&g_mu);
	g_hold.released = 0;
	pthread_mutex_unlock(&g_mu);
	c->cc = acquire(SECPKG_CRED_OUTBOUND);
	c->a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(c->a);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(c->a, chain_cb, c), SEC_E_OK);
	ck_assert_int_eq(submit_first(c->a, &c->cc, &c->o[0]), SEC_E_OK);
	ck_assert(wait_flag(&c->first_returned));
	NTSTATUS other = SspiReinitAsyncContext(c->a); /* callback 2 still runs */
	SECURITY_STATUS again = submit_first(c->a, &c->cc, &c->o[0]);
	hold_release(); /* callback 2 returns */
	ck_assert(wait_flag(&c->second_returned));
	ck_assert_int_eq(c->first_reinit, STATUS_SUCCESS);
	ck_assert_int_eq(c->resubmit, SEC_E_OK);
	ck_assert_int_eq(c->first_late_reinit, STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(other, STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(again, SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(c->second_status, SEC_I_CONTINUE_NEEDED);
	ck_assert_int_eq(atomic_load(&c->n), 2);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	free(c);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* --- A7: free between run and the finish hold ------------------------------ */

/* Issue 19 #7: a first leg has run (it made a context) and is held before
 * its finish hold, which writes the outputs and makes the call DONE, so its
 * status still says PENDING; a free now abandons the call: nothing is
 * written (issue 23: outputs and DONE are one step) and the context it made
 * is deleted (was: it survived, nobody's to delete). */
START_TEST(test_async_free_after_run_deletes_first_leg_context)
{
	CredHandle cc;
	struct first_leg o;
	struct seen seen = {0};
	start_pool(2);
	SspiAsyncContext *a = held_first_leg(SA_ENGINE_POINT_RAN, seen_cb, &seen, &o, &cc);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
	ck_assert(handle_is_pat(&o.newh)); /* not published yet */
	ck_assert_uint_eq(stats().contexts, 1); /* made */
	SspiFreeAsyncContext(a);
	hold_release();
	ck_assert(wait_until(no_pending));
	hold_off();
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(stats().contexts, 0);
	ck_assert(handle_is_pat(&o.newh)); /* abandoned: never written */
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* The same for an acquired credential: freed before DONE, it goes, and its
 * handle was never written. */
START_TEST(test_async_free_after_run_frees_acquired_credential)
{
	start_pool(2);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	CredHandle c;
	TimeStamp ts;
	handle_pat(&c);
	hold_at(a, SA_ENGINE_POINT_RAN);
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_OUTBOUND,
							    NULL, NULL, NULL, NULL, &c, &ts),
			 SEC_E_OK);
	ck_assert(wait_flag(&g_hold.reached));
	ck_assert(handle_is_pat(&c)); /* not published yet */
	ck_assert_uint_eq(stats().credentials, 1); /* acquired */
	SspiFreeAsyncContext(a);
	hold_release();
	ck_assert(wait_until(no_pending));
	hold_off();
	ck_assert_uint_eq(stats().credentials, 0);
	ck_assert(handle_is_pat(&c)); /* abandoned: never written */
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* A first leg run to DONE in no-thread mode on a new async context (with
 * @cb, or none); returns the context, its outputs in @o. */
static SspiAsyncContext *done_first_leg(CredHandle *cc, struct first_leg *o,
					SspiAsyncNotifyCallback cb, void *data)
{
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	if (cb != NULL)
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, cb, data), SEC_E_OK);
	ck_assert_int_eq(submit_first(a, cc, o), SEC_E_OK);
	return a;
}

/* Issue 19 #7, the rest of it: DONE, but nobody was told (no callback, no
 * status read, no reinit): the free abandons the call and the context it
 * made goes (was: it survived, although the caller's last word from the
 * library was PENDING). */
START_TEST(test_async_free_after_done_before_told_deletes_context)
{
	start_pool(0);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND);
	struct first_leg o;
	SspiAsyncContext *a = done_first_leg(&cc, &o, NULL, NULL);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
	ck_assert_uint_eq(sspiasync_run(0), 1); /* DONE now; nobody looked */
	ck_assert(!handle_is_pat(&o.newh));
	ck_assert_uint_eq(stats().contexts, 1);
	SspiFreeAsyncContext(a);
	ck_assert_uint_eq(stats().contexts, 0);
	ck_assert_int_eq(DeleteSecurityContext(&o.newh), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

static void count_cb(SspiAsyncContext *a, PVOID data)
{
	(void)a;
	++*(int *)data;
}

/* Told, in each of the four ways (its status read, its callback run, the
 * context reinit, its record reaped): the context is the caller's, and a
 * free leaves it alone. */
START_TEST(test_async_free_after_told_leaves_context_to_caller)
{
	start_pool(0);
	struct sspiasync_cq *q = NULL;
	ck_assert_int_eq(sspiasync_cq_create(&q), SEC_E_OK);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND);
	struct first_leg o[4];
	int calls = 0;
	SspiAsyncContext *a[4];
	a[0] = done_first_leg(&cc, &o[0], NULL, NULL);
	a[1] = done_first_leg(&cc, &o[1], count_cb, &calls);
	a[2] = done_first_leg(&cc, &o[2], NULL, NULL);
	a[3] = SspiCreateAsyncContext();
	ck_assert_int_eq(sspiasync_cq_bind(a[3], q), SEC_E_OK);
	ck_assert_int_eq(submit_first(a[3], &cc, &o[3]), SEC_E_OK);
	ck_assert_uint_eq(sspiasync_run(0), 4); /* and a[1]'s callback */
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a[0]), SEC_I_CONTINUE_NEEDED);
	ck_assert_int_eq(SspiReinitAsyncContext(a[2]), STATUS_SUCCESS);
	struct sspiasync_completion rec;
	ck_assert_int_eq(sspiasync_cq_reap(q, &rec, 1), 1);
	for (int i = 0; i < 4; i++)
		SspiFreeAsyncContext(a[i]);
	ck_assert_uint_eq(stats().contexts, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(DeleteSecurityContext(&o[i].newh), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_destroy(q), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* --- completion records, stale counts -------------------------------------- */

static void never_cb(SspiAsyncContext *a, PVOID data)
{
	(void)a;
	(void)data;
	ck_abort_msg("a cleared callback ran");
}

/* Issue 19 #11: after the callback is cleared, the waiting record's data is
 * NULL, as sspiasync.h says of a completion without a callback (was: the old
 * pointer). */
START_TEST(test_cq_record_data_null_after_callback_cleared)
{
	start_pool(0);
	struct sspiasync_cq *q = NULL;
	ck_assert_int_eq(sspiasync_cq_create(&q), SEC_E_OK);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND);
	struct first_leg o;
	int data;
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(sspiasync_cq_bind(a, q), SEC_E_OK);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, never_cb, &data), SEC_E_OK);
	ck_assert_int_eq(submit_first(a, &cc, &o), SEC_E_OK);
	ck_assert_uint_eq(sspiasync_run(0), 1);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, NULL, NULL), SEC_E_OK);
	struct sspiasync_completion rec;
	memset(&rec, 0xA5, sizeof rec);
	ck_assert_int_eq(sspiasync_cq_reap(q, &rec, 1), 1);
	ck_assert_ptr_eq(rec.context, a);
	ck_assert_ptr_null(rec.data);
	ck_assert_int_eq(rec.status, SEC_I_CONTINUE_NEEDED);
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* Issue 19 #12: stale async contexts given to SspiFreeAsyncContext and
 * SspiAsyncContextRequiresNotify count in rejected_stale (were missed). */
START_TEST(test_stats_count_stale_free_and_requires_notify)
{
	start_pool(0);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	SspiFreeAsyncContext(a);
	uint64_t before = stats().rejected_stale;
	SspiFreeAsyncContext(a);
	ck_assert_uint_eq(stats().rejected_stale, before + 1);
	ck_assert(!SspiAsyncContextRequiresNotify(a));
	ck_assert_uint_eq(stats().rejected_stale, before + 2);
	SspiAsyncContext *live = SspiCreateAsyncContext();
	ck_assert(!SspiAsyncContextRequiresNotify(live)); /* live: not stale */
	SspiFreeAsyncContext(live);
	ck_assert_uint_eq(stats().rejected_stale, before + 2);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* --- 14: the outcome of a delete that races a free ------------------------- */

/* A racer on another thread: each round, between two barriers, it frees
 * the round's async context (even rounds) or submits a call on it (odd
 * rounds: a stale FreeCredentialsHandleAsync, which takes it). */
struct race {
	pthread_barrier_t go;
	SspiAsyncContext *a;
	int rounds;
};

static void *racer_thread(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < r->rounds; i++) {
		pthread_barrier_wait(&r->go);
		if (i % 2 == 0) {
			SspiFreeAsyncContext(r->a);
		} else {
			CredHandle stale = {1, 2};
			SECURITY_STATUS st = SspiFreeCredentialsHandleAsync(r->a, &stale);
			(void)st; /* queued, or refused: the test thread's call won */
		}
		pthread_barrier_wait(&r->go);
	}
	return NULL;
}

/* What one round raced for: made before it, the racing call, and whether
 * the object it names still exists afterwards (deleting it if so). */
struct race_ops {
	void (*make)(void *obj, CredHandle *cc);
	SECURITY_STATUS (*call)(SspiAsyncContext *a, void *obj);
	int (*alive_then_drop)(void *obj);
};

static void race_rounds(const struct race_ops *ops, void *obj)
{
	start_pool(2);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND);
	struct race r;
	r.rounds = tl_slow() || tl_race_detector() ? 200 : 3000;
	ck_assert_int_eq(pthread_barrier_init(&r.go, NULL, 2), 0);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, racer_thread, &r), 0);
	int queued = 0, refused = 0, wrong = 0;
	for (int i = 0; i < r.rounds; i++) {
		ops->make(obj, &cc);
		r.a = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(r.a);
		pthread_barrier_wait(&r.go);
		SECURITY_STATUS st = ops->call(r.a, obj);
		pthread_barrier_wait(&r.go);
		ck_assert(wait_until(no_pending));
		if (i % 2 == 1)
			SspiFreeAsyncContext(r.a);
		int alive = ops->alive_then_drop(obj);
		if (st == SEC_E_OK) {
			queued++;
			wrong += alive;
		} else {
			refused++;
			wrong += !alive || (st != SEC_E_INVALID_HANDLE && st != SEC_E_INVALID_PARAMETER);
		}
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	pthread_barrier_destroy(&r.go);
	ck_assert_msg(wrong == 0, "%d of %d outcomes did not match the status (%d queued)", wrong,
		      queued + refused, queued);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.contexts, 0);
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}

static void ctx_make(void *obj, CredHandle *cc)
{
	struct first_leg *o = obj;
	static char target[] = "host/delete-race;legs=3";
	o->ob = (SecBuffer){sizeof o->tok, SECBUFFER_TOKEN, o->tok};
	o->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &o->ob};
	ck_assert_int_eq(InitializeSecurityContextA(cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP, NULL,
						    0, &o->newh, &o->od, &o->attrs, &o->ts),
			 SEC_I_CONTINUE_NEEDED);
}

static SECURITY_STATUS ctx_delete_async(SspiAsyncContext *a, void *obj)
{
	return SspiDeleteSecurityContextAsync(a, &((struct first_leg *)obj)->newh);
}

static int ctx_alive_then_drop(void *obj)
{
	return DeleteSecurityContext(&((struct first_leg *)obj)->newh) == SEC_E_OK;
}

/* Issue 19 #14: SspiDeleteSecurityContextAsync racing a free of its async
 * context, or another submission on it: SEC_E_OK means the delete is queued
 * and happens; any other status means nothing was done and the context is
 * still there (was: an error status with the context deleted all the same). */
START_TEST(test_async_delete_racing_free_says_whether_context_exists)
{
	static const struct race_ops ops = {ctx_make, ctx_delete_async, ctx_alive_then_drop};
	struct first_leg o;
	race_rounds(&ops, &o);
}
END_TEST

static void cred_make(void *obj, CredHandle *cc)
{
	(void)cc;
	*(CredHandle *)obj = acquire(SECPKG_CRED_OUTBOUND);
}

static SECURITY_STATUS cred_free_async(SspiAsyncContext *a, void *obj)
{
	return SspiFreeCredentialsHandleAsync(a, obj);
}

static int cred_alive_then_drop(void *obj)
{
	return FreeCredentialsHandle(obj) == SEC_E_OK;
}

/* The same for SspiFreeCredentialsHandleAsync: SEC_E_OK means the
 * credential was freed, anything else that it is still there. */
START_TEST(test_async_free_credentials_racing_free_says_whether_credential_exists)
{
	static const struct race_ops ops = {cred_make, cred_free_async, cred_alive_then_drop};
	CredHandle c;
	race_rounds(&ops, &c);
}
END_TEST

/* --- a free while a leg runs, outside shutdown ----------------------------- */

/* The leg is held on its worker; the free abandons it: nothing written, no
 * callback, no context left. */
START_TEST(test_async_free_while_leg_runs_abandons_it)
{
	CredHandle cc;
	struct first_leg o;
	struct seen seen = {0};
	start_pool(2);
	SspiAsyncContext *a = held_first_leg(SA_ENGINE_POINT_RUN, seen_cb, &seen, &o, &cc);
	SspiFreeAsyncContext(a);
	hold_release();
	ck_assert(wait_until(no_pending));
	hold_off();
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK); /* joins the workers: seen is final */
	ck_assert_msg(first_leg_untouched(&o), "a freed call wrote the caller's outputs");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* --- a callback that shutdown runs uses its context and queues ------------- */

struct busy_cb {
	struct sspiasync_cq *q;
	int calls, fd;
	SECURITY_STATUS status, unbind;
};

static void free_self_in_shutdown_cb(SspiAsyncContext *a, PVOID data)
{
	struct busy_cb *b = data;
	b->calls++;
	b->status = SspiGetAsyncCallStatus(a);
	b->fd = sspiasync_cq_fd(b->q);
	b->unbind = sspiasync_cq_bind(a, NULL);
	SspiFreeAsyncContext(a);
}

/* R5: a callback that shutdown runs on a worker reads its status, uses the
 * completion-queue functions and frees its own context; nothing is left. */
START_TEST(test_shutdown_worker_callback_frees_its_context_and_uses_queues)
{
	struct busy_cb b = {NULL, 0, -1, SEC_E_INTERNAL_ERROR, SEC_E_INTERNAL_ERROR};
	start_pool(2);
	ck_assert_int_eq(sspiasync_cq_create(&b.q), SEC_E_OK);
	CredHandle cc;
	struct first_leg o;
	SspiAsyncContext *a = held_first_leg(SA_ENGINE_POINT_RUN, free_self_in_shutdown_cb, &b, &o,
					     &cc);
	(void)a;
	struct bg_shutdown sd;
	bg_shutdown_start(&sd);
	bg_shutdown_finish(&sd);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(b.status, SEC_I_CONTINUE_NEEDED);
	ck_assert_int_ge(b.fd, 0);
	ck_assert_int_eq(b.unbind, SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* --- fork while another thread inits and shuts down ------------------------ */

/* ASan's and TSan's runtimes are not fork-safe: a child forked while the
 * cycling thread is inside their allocator can hang in it, whatever the
 * library does.  Under either, only the parent side runs. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FORK_SAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FORK_SAN 1
#endif
#endif
#ifndef FORK_SAN
#define FORK_SAN 0
#endif

static atomic_int g_cycling;

static void *cycle_thread(void *arg)
{
	(void)arg;
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = 0;
	while (atomic_load(&g_cycling)) {
		SECURITY_STATUS st = sspiasync_init(&cfg);
		(void)st;
		SspiAsyncContext *a = SspiCreateAsyncContext();
		SspiFreeAsyncContext(a);
		st = sspiasync_shutdown();
		(void)st;
	}
	return NULL;
}

/* In the child: the library works at once (no lock the fork caught held). */
static int fork_child(void)
{
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = 0; /* the child makes no thread (TSan cannot in a fork's child) */
	unsigned long n = 0;
	PSecPkgInfoA pkgs = NULL;
	int bad = sspiasync_init(&cfg) != SEC_E_OK;
	bad += EnumerateSecurityPackagesA(&n, &pkgs) != SEC_E_OK || n == 0;
	bad += FreeContextBuffer(pkgs) != SEC_E_OK;
	bad += sspiasync_shutdown() != SEC_E_OK;
	return bad;
}

/* Issue 19 #5: forks while another thread cycles sspiasync_init/_shutdown;
 * every child initialises and answers within a bound (was: about 1 child in
 * 1-19 hung forever on the handle tables' process-wide lock).  Under ASan
 * and TSan (FORK_SAN) the test only checks the parent side;
 * test_htable_fork_child_can_create_tables_while_parent_cycles holds the
 * lock itself there, through a hook that does not allocate. */
START_TEST(test_fork_while_another_thread_inits_and_shuts_down)
{
	int forks = FORK_SAN ? 0 : tl_slow() || tl_race_detector() ? 20 : 500;
	atomic_store(&g_cycling, 1);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, cycle_thread, NULL), 0);
	int hung = 0, failed = 0;
	for (int i = 0; i < forks; i++) {
		int p[2];
		ck_assert_int_eq(pipe(p), 0);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			char verdict = (char)fork_child();
			ssize_t w = write(p[1], &verdict, 1);
			_exit(w == 1 ? 0 : 1);
		}
		close(p[1]);
		struct pollfd pf = {p[0], POLLIN, 0};
		char verdict = 1;
		int ready = poll(&pf, 1, tl_slow() || tl_race_detector() ? 30000 : 5000);
		if (ready == 1 && read(p[0], &verdict, 1) == 1) {
			failed += verdict != 0;
		} else {
			hung++;
			kill(pid, SIGKILL);
		}
		close(p[0]);
		int ws;
		ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	}
	atomic_store(&g_cycling, 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(hung == 0, "%d of %d children hung", hung, forks);
	ck_assert_msg(failed == 0, "%d of %d children failed", failed, forks);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

static Suite *races_suite(void)
{
	Suite *s = suite_create("core_races");
	TCase *tc = tcase_races(s, "shutdown", 60);
	tcase_add_test(tc, test_shutdown_free_from_other_thread_abandons_running_leg);
	tcase_add_test(tc, test_shutdown_worker_callbacks_read_their_status);
	tcase_add_test(tc, test_shutdown_second_caller_waits_for_teardown);
	tcase_add_test(tc, test_shutdown_worker_callback_frees_its_context_and_uses_queues);
	tc = tcase_races(s, "callbacks", 60);
	tcase_add_test(tc, test_async_reinit_refused_while_next_callback_runs);
	tc = tcase_races(s, "abandon", 120);
	tcase_add_test(tc, test_async_free_after_run_deletes_first_leg_context);
	tcase_add_test(tc, test_async_free_after_run_frees_acquired_credential);
	tcase_add_test(tc, test_async_free_while_leg_runs_abandons_it);
	tc = tcase_races(s, "records", 30);
	tcase_add_test(tc, test_cq_record_data_null_after_callback_cleared);
	tcase_add_test(tc, test_async_free_after_done_before_told_deletes_context);
	tcase_add_test(tc, test_async_free_after_told_leaves_context_to_caller);
	tcase_add_test(tc, test_stats_count_stale_free_and_requires_notify);
	tc = tcase_races(s, "delete_race", 120);
	tcase_add_test(tc, test_async_delete_racing_free_says_whether_context_exists);
	tcase_add_test(tc, test_async_free_credentials_racing_free_says_whether_credential_exists);
	tc = tcase_races(s, "fork", 180);
	tcase_add_test(tc, test_fork_while_another_thread_inits_and_shuts_down);
	return s;
}

int main(void)
{
	return tl_run_suite(races_suite());
}
