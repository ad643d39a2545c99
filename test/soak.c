/*
 * test/soak.c - the soak (`make soak`; SOAK_OPS operations, default 400,000;
 * CI runs a shorter one): two submitting threads on a pool of two workers,
 * each round a full async handshake on contexts it reuses via reinit, a
 * delete racing the last leg (every third round) or after it, a stale use
 * of the last round's context, and a leg whose async context is freed
 * while pending.  At the end:
 *   - every call that was waited for completed exactly once, with an
 *     allowed status (its callback ran once: counted per async context);
 *   - the library's completed-call count grew by exactly the calls made
 *     (so the abandoned ones completed once too, without a callback);
 *   - contexts, credentials, async contexts and pending calls are 0, and
 *     the allocation wrapper's live bytes equal their value after warm-up;
 *   - shutdown leaves 0 blocks.
 * Prints the figures; exit status 0 when all held.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "util/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOK 512

static char pkg[] = "SspiAsyncTest";
static CredHandle g_client, g_server;

/* One async context and what its callback saw. */
struct call {
	SspiAsyncContext *ac;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	long done;               /* [lock] callbacks so far */
	SECURITY_STATUS status;  /* [lock] the last one's status */
	unsigned char tok[TOK];  /* outputs live here: written at completion */
	SecBuffer ob;
	SecBufferDesc od;
	unsigned long attrs;
};

struct worker {
	unsigned seed;
	long rounds;
	long waited;       /* calls waited for */
	long made;         /* calls submitted (waited, fire-and-forget, freed) */
	long bad;          /* wrong statuses, refusals, timeouts, doubles */
	long raced;        /* rounds with a delete racing the last leg */
	long leg_lost;     /* ... where the delete won */
};

static void on_done(SspiAsyncContext *ac, PVOID data)
{
	struct call *c = data;
	SECURITY_STATUS st = SspiGetAsyncCallStatus(ac);
	pthread_mutex_lock(&c->lock);
	c->done++;
	c->status = st;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->lock);
}

static void call_init(struct worker *w, struct call *c)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->ac = SspiCreateAsyncContext();
	if (c->ac == NULL || SspiSetAsyncNotifyCallback(c->ac, on_done, c) != SEC_E_OK)
		w->bad++;
}

static void call_fini(struct call *c)
{
	SspiFreeAsyncContext(c->ac);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->lock);
}

static SecBufferDesc *call_out(struct call *c)
{
	c->ob = (SecBuffer){TOK, SECBUFFER_TOKEN, c->tok};
	c->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &c->ob};
	return &c->od;
}

/* Wait (30 s at most) for @c's next callback; its status, or a mark. */
static SECURITY_STATUS call_wait(struct worker *w, struct call *c, long before)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	pthread_mutex_lock(&c->lock);
	while (c->done == before && pthread_cond_timedwait(&c->cv, &c->lock, &deadline) == 0)
		;
	long done = c->done;
	SECURITY_STATUS st = c->status;
	pthread_mutex_unlock(&c->lock);
	w->waited++;
	if (done != before + 1) { /* lost (timeout) or doubled */
		w->bad++;
		return SEC_E_INTERNAL_ERROR;
	}
	/* Reuse: reinit once the callback has returned (it may still be
	 * unwinding on its worker: bounded retry). */
	time_t until = time(NULL) + 30;
	while (SspiReinitAsyncContext(c->ac) != STATUS_SUCCESS)
		if (time(NULL) > until) {
			w->bad++;
			break;
		}
	return st;
}

static long call_done(struct call *c)
{
	pthread_mutex_lock(&c->lock);
	long n = c->done;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Submit and check: @st the submission's status must be SEC_E_OK. */
static void submitted(struct worker *w, SECURITY_STATUS st)
{
	w->made++;
	if (st != SEC_E_OK)
		w->bad++;
}

static void expect(struct worker *w, SECURITY_STATUS got, SECURITY_STATUS a, SECURITY_STATUS b)
{
	if (got != a && got != b)
		w->bad++;
}

static void round_once(struct worker *w, struct call *cl, struct call *sv, CtxtHandle *prev)
{
	char target[] = "host/soak;legs=3";
	CtxtHandle c, s;
	SecBuffer ib;
	SecBufferDesc id;
	long n;

	n = call_done(cl);
	submitted(w, SspiInitializeSecurityContextAsyncA(cl->ac, &g_client, NULL, target, 0, 0, 0,
							 NULL, 0, &c, call_out(cl), &cl->attrs,
							 NULL));
	expect(w, call_wait(w, cl, n), SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED);

	ib = (SecBuffer){cl->ob.cbBuffer, SECBUFFER_TOKEN, cl->tok};
	id = (SecBufferDesc){SECBUFFER_VERSION, 1, &ib};
	n = call_done(sv);
	submitted(w, SspiAcceptSecurityContextAsync(sv->ac, &g_server, NULL, &id, 0, 0, &s,
						    call_out(sv), &sv->attrs, NULL));
	expect(w, call_wait(w, sv, n), SEC_E_OK, SEC_E_OK);

	/* Leg 3; every third round a fire-and-forget delete races it. */
	ib = (SecBuffer){sv->ob.cbBuffer, SECBUFFER_TOKEN, sv->tok};
	id = (SecBufferDesc){SECBUFFER_VERSION, 1, &ib};
	int race = rand_r(&w->seed) % 3 == 0;
	n = call_done(cl);
	submitted(w, SspiInitializeSecurityContextAsyncA(cl->ac, &g_client, &c, NULL, 0, 0, 0, &id,
							 0, &c, call_out(cl), &cl->attrs, NULL));
	if (race) {
		SspiAsyncContext *d = SspiCreateAsyncContext();
		if (d == NULL)
			w->bad++;
		submitted(w, SspiDeleteSecurityContextAsync(d, &c));
		SspiFreeAsyncContext(d); /* fire and forget */
		SECURITY_STATUS st = call_wait(w, cl, n);
		expect(w, st, SEC_E_OK, SEC_E_INVALID_HANDLE);
		w->raced++;
		w->leg_lost += st == SEC_E_INVALID_HANDLE;
	} else {
		expect(w, call_wait(w, cl, n), SEC_E_OK, SEC_E_OK);
		n = call_done(cl);
		submitted(w, SspiDeleteSecurityContextAsync(cl->ac, &c));
		expect(w, call_wait(w, cl, n), SEC_E_OK, SEC_E_OK);
	}

	/* A stale use: the last round's client context. */
	n = call_done(cl);
	submitted(w, SspiInitializeSecurityContextAsyncA(cl->ac, &g_client, prev, NULL, 0, 0, 0, &id,
							 0, prev, call_out(cl), &cl->attrs, NULL));
	expect(w, call_wait(w, cl, n), SEC_E_INVALID_HANDLE, SEC_E_INVALID_HANDLE);
	*prev = c;

	/* A leg whose async context is freed while it is pending. */
	static _Thread_local struct call f; /* outputs: written only before the free */
	f.ac = SspiCreateAsyncContext(); /* no callback: one could be running as we free */
	if (f.ac == NULL)
		w->bad++;
	submitted(w, SspiAcceptSecurityContextAsync(f.ac, &g_server, &s, &id, 0, 0, &s, call_out(&f),
						    &f.attrs, NULL));
	SspiFreeAsyncContext(f.ac); /* abandoned: it completes, nothing is written after this */

	n = call_done(sv);
	submitted(w, SspiDeleteSecurityContextAsync(sv->ac, &s));
	expect(w, call_wait(w, sv, n), SEC_E_OK, SEC_E_OK);
}

static void *submitter(void *arg)
{
	struct worker *w = arg;
	struct call cl, sv;
	call_init(w, &cl);
	call_init(w, &sv);
	CtxtHandle prev = {0, 0};
	for (long r = 0; r < w->rounds && w->bad == 0; r++)
		round_once(w, &cl, &sv, &prev);
	call_fini(&cl);
	call_fini(&sv);
	return NULL;
}

/* Run @rounds rounds on each of two threads; adds into *@sum. */
static void phase(long rounds, unsigned seed, struct worker *sum)
{
	struct worker w[2];
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].seed = seed + (unsigned)i;
		w[i].rounds = rounds;
		if (pthread_create(&t[i], NULL, submitter, &w[i]) != 0)
			sum->bad++;
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		sum->rounds += w[i].rounds;
		sum->waited += w[i].waited;
		sum->made += w[i].made;
		sum->bad += w[i].bad;
		sum->raced += w[i].raced;
		sum->leg_lost += w[i].leg_lost;
	}
}

/* Wait (bounded) until nothing is pending and no async context lives:
 * fire-and-forget deletes and abandoned legs finish on their own. */
static struct sspiasync_statistics quiet(void)
{
	struct sspiasync_statistics st;
	time_t until = time(NULL) + 30;
	do
		sspiasync_stats(&st);
	while ((st.pending_calls != 0 || st.async_contexts != 0 || st.contexts != 0) &&
	       time(NULL) <= until);
	return st;
}

static uint64_t live_bytes(void)
{
	struct sa_alloc_stats a;
	sa__alloc_stats(&a);
	return a.live_bytes;
}

int main(void)
{
	const char *env = getenv("SOAK_OPS");
	long ops = env != NULL ? atol(env) : 400000;
	enum { CALLS_PER_ROUND = 8 }; /* about: legs, deletes, stale, abandoned */
	long rounds = ops / CALLS_PER_ROUND / 2;
	if (rounds < 1)
		rounds = 1;
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT; /* 2 workers */
	int bad = 0;
	bad += sspiasync_init(&cfg) != SEC_E_OK;
	bad += AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
					 &g_client, NULL) != SEC_E_OK;
	bad += AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
					 &g_server, NULL) != SEC_E_OK;
	struct worker warm = {0}, sum = {0};
	phase(200, 1, &warm); /* grows the tables to their working size */
	quiet();
	uint64_t bytes0 = live_bytes();
	struct sspiasync_statistics s0;
	sspiasync_stats(&s0);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	phase(rounds, 7, &sum);
	struct sspiasync_statistics s1 = quiet();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	uint64_t bytes1 = live_bytes();

	printf("soak: %ld rounds on 2 threads x 2 workers, %.1f s\n", sum.rounds, secs);
	printf("soak: calls made %ld (waited %ld), completed (library count) %llu\n", sum.made,
	       sum.waited, (unsigned long long)(s1.completed_calls - s0.completed_calls));
	printf("soak: deletes raced the last leg %ld times, won %ld\n", sum.raced, sum.leg_lost);
	printf("soak: live bytes after warm-up %llu, at the end %llu\n",
	       (unsigned long long)bytes0, (unsigned long long)bytes1);
	printf("soak: wrong or lost completions %ld\n", sum.bad + warm.bad);
	bad += sum.bad != 0 || warm.bad != 0;
	bad += s1.completed_calls - s0.completed_calls != (uint64_t)sum.made;
	bad += s1.pending_calls != 0 || s1.async_contexts != 0 || s1.contexts != 0;
	bad += bytes1 != bytes0;
	bad += FreeCredentialsHandle(&g_client) != SEC_E_OK;
	bad += FreeCredentialsHandle(&g_server) != SEC_E_OK;
	bad += sspiasync_shutdown() != SEC_E_OK;
	struct sa_alloc_stats a;
	sa__alloc_stats(&a);
	printf("soak: blocks after shutdown %llu\n", (unsigned long long)a.live_blocks);
	bad += a.live_blocks != 0;
	printf("soak: %s\n", bad == 0 ? "ok" : "FAILED");
	return bad != 0;
}
