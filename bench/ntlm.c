/*
 * bench/ntlm.c - the "NTLM" package: handshakes per second, instructions per
 * handshake, memory per context.  Run by bench/ntlm.sh (`make bench`,
 * `make bench-ntlm`), which also runs the two baselines, each in its own
 * process (bench/ntlm_winpr.c: WinPR 2's NTLM; bench/ntlm_gss.c: gss-ntlmssp
 * through MIT GSSAPI), interleaves their rounds with ours and reports
 * medians and ratios.
 *
 * A handshake: client and server in this process, NTLMv2 with extended
 * session security, key exchange and the MIC (what the package speaks), the
 * same user, password and request flags as the baselines: 4 legs
 * (ISC -> NEGOTIATE, ASC -> CHALLENGE, ISC -> AUTHENTICATE, ASC -> done) and
 * both contexts deleted.  The client's credential is acquired once from an
 * explicit identity, the server's once from a user file (NTLM_USER_FILE,
 * written by this program with mkstemp and removed at exit); neither is
 * part of the time.
 *
 *   ntlm round MODE N       one timed round of N handshakes after a warm-up
 *                           of N/10; prints "ntlm-round MODE HANDSHAKES/S CPU_US"
 *                           (CPU_US: process CPU time, every thread, per handshake)
 *       direct   the package's legs called directly (src/packages/package.h),
 *                one thread: the floor the API adds to
 *       sync     InitializeSecurityContextA / AcceptSecurityContext /
 *                DeleteSecurityContext, one thread, no worker pool
 *       sync2    the sync API on two threads at once (the same credentials):
 *                what this machine gives two threads running handshakes, the
 *                ceiling of any two-worker figure (not a library mode)
 *       async-cb the async API with the default pool (2 workers),
 *                ASYNC_INFLIGHT handshakes in flight, callbacks on the
 *                workers taking each handshake to its next call
 *       async-cq the same, every async context bound to one completion
 *                queue whose fd is in epoll; the callbacks run inside
 *                sspiasync_cq_reap() on this thread (examples/demo.c's way)
 *                (both: see "the async API with the pool" below)
 *   ntlm mem N              memory, from the library's allocation wrapper
 *                           (util/alloc.h: requested bytes, no malloc overhead):
 *       held    live bytes with N complete client+server context pairs
 *               alive, minus before, / 2N (also split by side: the server's
 *               contexts are deleted first, then the client's); this
 *               includes the handle table's growth (its slot chunks double
 *               and are kept), so N pairs are made once more once the
 *               table is large enough: "objects" is the contexts alone
 *               (library context, package state, name), without a slot
 *       lost    live bytes after N handshakes with their deletes, minus
 *               before (sync API; and the async API with the pool and a
 *               completion queue, async contexts reused, after a warm-up):
 *               must be 0; and live bytes after sspiasync_shutdown
 *   ntlm --callgrind MODE N N handshakes of MODE (direct, sync, async-cb, async-cq) and
 *                           nothing else timed; prints "callgrind-ops N"
 *                           (bench/ntlm.sh takes Ir(2N) - Ir(N))
 *
 * Exit status 0, or 2 when a call fails unexpectedly (a benchmark, not a test).
 */
#define _GNU_SOURCE /* mkstemp, sched_yield */

#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "packages/package.h"
#include "util/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "bench/ntlm"
#include "ntlm_bench.h"

#define TOK 2888                /* NTLM's cbMaxToken */
#define ASYNC_INFLIGHT 256      /* handshakes in flight, async line */
#define REAP_N 256              /* records per sspiasync_cq_reap */
#define BENCH_TARGET "HTTP/server.test"
#define REQ_C (ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_REPLAY_DETECT | \
	       ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONNECTION)
#define REQ_S (ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY | ASC_REQ_REPLAY_DETECT | \
	       ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONNECTION)

static _Noreturn void die_status(const char *what, long st)
{
	fprintf(stderr, "bench/ntlm: %s: 0x%08lx\n", what, (unsigned long)st & 0xffffffffUL);
	exit(2);
}

/* One timed stretch: handshakes/s and CPU microseconds per handshake. */
struct timed {
	uint64_t t0;
	double c0;
};

static struct timed timed_start(void)
{
	struct timed t = {now_ns(), cpu_s()};
	return t;
}

static double g_cpu_us; /* of the last timed_end */

static double timed_end(struct timed t, unsigned long n)
{
	uint64_t t1 = now_ns();
	g_cpu_us = (cpu_s() - t.c0) * 1e6 / (double)n;
	return (double)n * 1e9 / (double)(t1 - t.t0);
}

static void sa_init(unsigned threads)
{
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = threads;
	SECURITY_STATUS st = sspiasync_init(&cfg);
	if (st != SEC_E_OK)
		die_status("sspiasync_init", st);
}

static void sa_shutdown(void)
{
	SECURITY_STATUS st = sspiasync_shutdown();
	if (st != SEC_E_OK)
		die_status("sspiasync_shutdown", st);
}

/* cred[0]: outbound, explicit identity; cred[1]: inbound, the user file. */
static void creds_acquire(CredHandle cred[2])
{
	char pkg[] = "NTLM";
	SEC_WINNT_AUTH_IDENTITY_A id = {
		.User = (unsigned char *)BENCH_USER,
		.UserLength = sizeof BENCH_USER - 1,
		.Domain = (unsigned char *)BENCH_DOMAIN,
		.DomainLength = sizeof BENCH_DOMAIN - 1,
		.Password = (unsigned char *)BENCH_PASSWORD,
		.PasswordLength = sizeof BENCH_PASSWORD - 1,
		.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI,
	};
	SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_OUTBOUND, NULL, &id,
						       NULL, NULL, &cred[0], NULL);
	if (st != SEC_E_OK)
		die_status("AcquireCredentialsHandleA (outbound)", st);
	st = AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
				       &cred[1], NULL);
	if (st != SEC_E_OK)
		die_status("AcquireCredentialsHandleA (inbound)", st);
}

static void creds_free(CredHandle cred[2])
{
	if (FreeCredentialsHandle(&cred[0]) != SEC_E_OK || FreeCredentialsHandle(&cred[1]) != SEC_E_OK)
		die("FreeCredentialsHandle");
}

/* --- direct package calls ------------------------------------------------------ */

static void hs_direct(unsigned long n)
{
	const struct sa_package *pkg = sa__pkg_find("NTLM");
	if (pkg == NULL)
		die("no NTLM package");
	struct sa_pkg_identity id = {BENCH_USER, BENCH_DOMAIN, BENCH_PASSWORD, SA_PKG_MECH_ALL};
	struct sa_pkg_cred_args oa = {NULL, SECPKG_CRED_OUTBOUND, &id};
	struct sa_pkg_cred_args ia = {NULL, SECPKG_CRED_INBOUND, NULL};
	void *cc, *sc;
	int64_t exp;
	if (pkg->cred_acquire(&oa, &cc, &exp) != SEC_E_OK || pkg->cred_acquire(&ia, &sc, &exp) != SEC_E_OK)
		die("package cred_acquire");
	static unsigned char t1[TOK], t2[TOK], t3[TOK], t4[TOK];
	for (unsigned long i = 0; i < n; i++) {
		void *c = NULL, *s = NULL;
		struct sa_pkg_leg l1 = {.target = BENCH_TARGET, .req = REQ_C, .out = t1, .out_cap = TOK};
		if (pkg->init_leg(cc, &c, &l1) != SEC_I_CONTINUE_NEEDED)
			die("direct leg 1");
		struct sa_pkg_leg l2 = {.in = t1, .in_len = l1.out_len, .req = REQ_S, .out = t2,
					.out_cap = TOK};
		if (pkg->accept_leg(sc, &s, &l2) != SEC_I_CONTINUE_NEEDED)
			die("direct leg 2");
		struct sa_pkg_leg l3 = {.in = t2, .in_len = l2.out_len, .target = BENCH_TARGET,
					.req = REQ_C, .out = t3, .out_cap = TOK};
		if (pkg->init_leg(cc, &c, &l3) != SEC_E_OK)
			die("direct leg 3");
		struct sa_pkg_leg l4 = {.in = t3, .in_len = l3.out_len, .req = REQ_S, .out = t4,
					.out_cap = TOK};
		if (pkg->accept_leg(sc, &s, &l4) != SEC_E_OK)
			die("direct leg 4");
		pkg->ctx_delete(c);
		pkg->ctx_delete(s);
	}
	pkg->cred_free(cc);
	pkg->cred_free(sc);
}

/* --- the synchronous API ---------------------------------------------------------- */

/* One handshake through the sync API; the contexts are left in *c, *s. */
static void hs_sync_one(CredHandle cred[2], CtxtHandle *c, CtxtHandle *s)
{
	static _Thread_local unsigned char t1[TOK], t2[TOK], t3[TOK], t4[TOK];
	char target[] = BENCH_TARGET;
	unsigned long attrs;
	SecBuffer o1 = {TOK, SECBUFFER_TOKEN, t1}, o2 = {TOK, SECBUFFER_TOKEN, t2},
		  o3 = {TOK, SECBUFFER_TOKEN, t3}, o4 = {TOK, SECBUFFER_TOKEN, t4};
	SecBufferDesc d1 = {SECBUFFER_VERSION, 1, &o1}, d2 = {SECBUFFER_VERSION, 1, &o2},
		      d3 = {SECBUFFER_VERSION, 1, &o3}, d4 = {SECBUFFER_VERSION, 1, &o4};
	SECURITY_STATUS st;
	st = InitializeSecurityContextA(&cred[0], NULL, target, REQ_C, 0, SECURITY_NATIVE_DREP, NULL,
					0, c, &d1, &attrs, NULL);
	if (st != SEC_I_CONTINUE_NEEDED)
		die_status("sync leg 1 (ISC)", st);
	SecBuffer i2 = {o1.cbBuffer, SECBUFFER_TOKEN, t1};
	SecBufferDesc id2 = {SECBUFFER_VERSION, 1, &i2};
	st = AcceptSecurityContext(&cred[1], NULL, &id2, REQ_S, SECURITY_NATIVE_DREP, s, &d2, &attrs,
				   NULL);
	if (st != SEC_I_CONTINUE_NEEDED)
		die_status("sync leg 2 (ASC)", st);
	SecBuffer i3 = {o2.cbBuffer, SECBUFFER_TOKEN, t2};
	SecBufferDesc id3 = {SECBUFFER_VERSION, 1, &i3};
	st = InitializeSecurityContextA(&cred[0], c, target, REQ_C, 0, SECURITY_NATIVE_DREP, &id3, 0,
					c, &d3, &attrs, NULL);
	if (st != SEC_E_OK)
		die_status("sync leg 3 (ISC)", st);
	SecBuffer i4 = {o3.cbBuffer, SECBUFFER_TOKEN, t3};
	SecBufferDesc id4 = {SECBUFFER_VERSION, 1, &i4};
	st = AcceptSecurityContext(&cred[1], s, &id4, REQ_S, SECURITY_NATIVE_DREP, s, &d4, &attrs,
				   NULL);
	if (st != SEC_E_OK)
		die_status("sync leg 4 (ASC)", st);
}

static void hs_sync(CredHandle cred[2], unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		CtxtHandle c, s;
		hs_sync_one(cred, &c, &s);
		if (DeleteSecurityContext(&c) != SEC_E_OK || DeleteSecurityContext(&s) != SEC_E_OK)
			die("DeleteSecurityContext");
	}
}

/* --- the async API with the pool -------------------------------------------------------
 * Two ways to learn of completions, both lines timed:
 *   cq   every async context bound to one completion queue whose fd is in
 *        epoll; the callbacks run inside sspiasync_cq_reap() on this thread
 *        (as examples/demo.c does)
 *   cb   no queue: the callbacks run on the pool's workers; this thread only
 *        waits for the last one
 * Either way the callback takes its handshake to the next step.  A slot has
 * one async context (an async context tracks one call at a time, of either
 * side, like README's quick example), so every call is submitted by the
 * callback of the one before it: 4 legs, then the client's delete, then the
 * server's.  (With one async context per side, a callback on one worker
 * submitting on the other side's context can be refused
 * SEC_E_INVALID_PARAMETER while that context's previous callback, which
 * already reinitialised it, has not yet returned on the other worker:
 * sa__acall_busy_locked, rule A5.) */

struct ahs;

struct arun {
	CredHandle *cred;
	int use_cq;
	struct sspiasync_cq *cq;
	int ep;
	_Atomic unsigned long started, finished;
	_Atomic unsigned in_callback; /* cb: callbacks running */
	unsigned long limit;
	pthread_mutex_t lock;      /* cb: the waiter's condition */
	pthread_cond_t all_done;
	struct ahs *hs;
	unsigned nhs;
};

/* One handshake slot, reused handshake after handshake. */
struct ahs {
	struct arun *run;
	SspiAsyncContext *ac;
	CtxtHandle ctx[2];         /* 0: client, 1: server */
	unsigned char tok[2][TOK];
	SecBuffer ob[2];
	SecBufferDesc od[2];
	unsigned long attrs[2];
	int step;                  /* 1..4: that leg in flight; 5, 6: client's, server's delete */
};

static void ahs_submit(struct ahs *h, int step)
{
	char target[] = BENCH_TARGET;
	CredHandle *cred = h->run->cred;
	SECURITY_STATUS st;
	h->step = step;
	if (step > 4) {
		st = SspiDeleteSecurityContextAsync(h->ac, &h->ctx[step - 5]);
		if (st != SEC_E_OK)
			die_status("SspiDeleteSecurityContextAsync", st);
		return;
	}
	int side = step % 2 == 0; /* legs 2 and 4: the server */
	h->ob[side] = (SecBuffer){TOK, SECBUFFER_TOKEN, h->tok[side]};
	h->od[side] = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->ob[side]};
	SecBuffer ib = {h->ob[!side].cbBuffer, SECBUFFER_TOKEN, h->tok[!side]};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}; /* copied at submission */
	if (side)
		st = SspiAcceptSecurityContextAsync(h->ac, &cred[1], step == 2 ? NULL : &h->ctx[1],
						    &id, REQ_S, SECURITY_NATIVE_DREP, &h->ctx[1],
						    &h->od[1], &h->attrs[1], NULL);
	else
		st = SspiInitializeSecurityContextAsyncA(h->ac, &cred[0],
							 step == 1 ? NULL : &h->ctx[0], target, REQ_C,
							 0, SECURITY_NATIVE_DREP,
							 step == 1 ? NULL : &id, 0, &h->ctx[0],
							 &h->od[0], &h->attrs[0], NULL);
	if (st != SEC_E_OK)
		die_status("async leg not queued", st);
}

/* Start the next handshake on @h if the round wants more. */
static void ahs_next(struct ahs *h)
{
	struct arun *r = h->run;
	if (atomic_fetch_add(&r->started, 1) < r->limit)
		ahs_submit(h, 1);
}

/* The slot's callback: check the step, submit the next. */
static void ahs_done(SspiAsyncContext *ac, void *data)
{
	static const SECURITY_STATUS want[7] = {0, SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED,
						SEC_E_OK, SEC_E_OK, SEC_E_OK, SEC_E_OK};
	struct ahs *h = data;
	struct arun *r = h->run;
	atomic_fetch_add(&r->in_callback, 1);
	SECURITY_STATUS st = SspiGetAsyncCallStatus(ac);
	if (SspiReinitAsyncContext(ac) != STATUS_SUCCESS)
		die("SspiReinitAsyncContext (callback)");
	if (st != want[h->step])
		die_status("async handshake step", st);
	if (h->step < 6) {
		ahs_submit(h, h->step + 1);
	} else {
		if (atomic_fetch_add(&r->finished, 1) + 1 == r->limit && !r->use_cq) {
			pthread_mutex_lock(&r->lock);
			pthread_cond_signal(&r->all_done);
			pthread_mutex_unlock(&r->lock);
		}
		ahs_next(h);
	}
	atomic_fetch_sub(&r->in_callback, 1);
}

/* ASYNC_INFLIGHT slots (and the queue); the runtime is initialised. */
static void arun_setup(struct arun *r, CredHandle cred[2], int use_cq)
{
	memset(r, 0, sizeof *r);
	r->cred = cred;
	r->use_cq = use_cq;
	if (pthread_mutex_init(&r->lock, NULL) != 0 || pthread_cond_init(&r->all_done, NULL) != 0)
		die("pthread init");
	if (use_cq) {
		SECURITY_STATUS st = sspiasync_cq_create(&r->cq);
		if (st != SEC_E_OK)
			die_status("sspiasync_cq_create", st);
		r->ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN};
		if (r->ep < 0 || epoll_ctl(r->ep, EPOLL_CTL_ADD, sspiasync_cq_fd(r->cq), &ev) != 0)
			die("epoll");
	}
	r->nhs = ASYNC_INFLIGHT;
	r->hs = calloc(r->nhs, sizeof *r->hs);
	if (r->hs == NULL)
		die("out of memory");
	for (unsigned i = 0; i < r->nhs; i++) {
		struct ahs *h = &r->hs[i];
		h->run = r;
		if ((h->ac = SspiCreateAsyncContext()) == NULL)
			die("SspiCreateAsyncContext");
		if (SspiSetAsyncNotifyCallback(h->ac, ahs_done, h) != SEC_E_OK ||
		    (use_cq && sspiasync_cq_bind(h->ac, r->cq) != SEC_E_OK))
			die("callback / bind");
	}
}

static void arun_teardown(struct arun *r)
{
	for (unsigned i = 0; i < r->nhs; i++)
		SspiFreeAsyncContext(r->hs[i].ac);
	if (r->use_cq) {
		close(r->ep);
		if (sspiasync_cq_destroy(r->cq) != SEC_E_OK)
			die("sspiasync_cq_destroy");
	}
	pthread_cond_destroy(&r->all_done);
	pthread_mutex_destroy(&r->lock);
	free(r->hs);
}

/* @n handshakes, up to ASYNC_INFLIGHT at once; returns when all are done
 * (every slot idle: its last callback has returned or is returning). */
static void arun_go(struct arun *r, unsigned long n)
{
	struct sspiasync_completion out[REAP_N];
	atomic_store(&r->started, 0);
	atomic_store(&r->finished, 0);
	r->limit = n;
	for (unsigned i = 0; i < r->nhs; i++)
		ahs_next(&r->hs[i]);
	if (!r->use_cq) {
		pthread_mutex_lock(&r->lock);
		while (atomic_load(&r->finished) < n)
			pthread_cond_wait(&r->all_done, &r->lock);
		pthread_mutex_unlock(&r->lock);
		/* Every callback has started; wait until the last ones have returned. */
		while (atomic_load(&r->in_callback) != 0)
			sched_yield();
		return;
	}
	while (atomic_load(&r->finished) < n) {
		int k = sspiasync_cq_reap(r->cq, out, REAP_N); /* the callbacks run here */
		if (k < 0)
			die_status("sspiasync_cq_reap", k);
		if (k > 0)
			continue;
		struct epoll_event ev;
		int e = epoll_wait(r->ep, &ev, 1, 30000);
		if (e == 0)
			die("no completion for 30 s");
		if (e < 0 && errno != EINTR)
			die("epoll_wait");
	}
}

/* --- timed rounds ------------------------------------------------------------------ */

static double round_direct(unsigned long n)
{
	hs_direct(n / 10 + 1);
	struct timed t = timed_start();
	hs_direct(n);
	return timed_end(t, n);
}

static double round_sync(unsigned long n)
{
	sa_init(0);
	CredHandle cred[2];
	creds_acquire(cred);
	hs_sync(cred, n / 10 + 1);
	struct timed t = timed_start();
	hs_sync(cred, n);
	double v = timed_end(t, n);
	creds_free(cred);
	sa_shutdown();
	return v;
}

/* The machine's ceiling for two workers: two threads, each running
 * handshakes through the sync API on the same two credentials. */
struct sync2_arg {
	CredHandle *cred;
	unsigned long n;
};

static void *sync2_main(void *p)
{
	struct sync2_arg *a = p;
	hs_sync(a->cred, a->n);
	return NULL;
}

static void sync2_go(CredHandle cred[2], unsigned long n)
{
	pthread_t t;
	struct sync2_arg a = {cred, n / 2};
	if (pthread_create(&t, NULL, sync2_main, &a) != 0)
		die("pthread_create");
	hs_sync(cred, n - n / 2);
	pthread_join(t, NULL);
}

static double round_sync2(unsigned long n)
{
	sa_init(0);
	CredHandle cred[2];
	creds_acquire(cred);
	sync2_go(cred, n / 10 + 2);
	struct timed t = timed_start();
	sync2_go(cred, n);
	double v = timed_end(t, n);
	creds_free(cred);
	sa_shutdown();
	return v;
}

static double round_async(unsigned long n, int use_cq)
{
	sa_init(SSPIASYNC_DEFAULT_THREADS);
	CredHandle cred[2];
	creds_acquire(cred);
	static struct arun r;
	arun_setup(&r, cred, use_cq);
	arun_go(&r, n / 10 + 1);
	struct timed t = timed_start();
	arun_go(&r, n);
	double v = timed_end(t, n);
	arun_teardown(&r);
	creds_free(cred);
	sa_shutdown();
	return v;
}

/* --- memory ------------------------------------------------------------------------- */

static struct sa_alloc_stats astats(void)
{
	struct sa_alloc_stats s;
	sa__alloc_stats(&s);
	return s;
}

static long long dbytes(const struct sa_alloc_stats *a, const struct sa_alloc_stats *b)
{
	return (long long)b->live_bytes - (long long)a->live_bytes;
}

static long long dblocks(const struct sa_alloc_stats *a, const struct sa_alloc_stats *b)
{
	return (long long)b->live_blocks - (long long)a->live_blocks;
}

static int mem_main(unsigned long n)
{
	/* Sync API, one thread. */
	sa_init(0);
	CredHandle cred[2];
	creds_acquire(cred);
	hs_sync(cred, 16); /* warm: anything made once is made */
	CtxtHandle *c = calloc(n, sizeof *c), *s = calloc(n, sizeof *s);
	if (c == NULL || s == NULL)
		die("out of memory");
	struct sa_alloc_stats a = astats();
	for (unsigned long i = 0; i < n; i++)
		hs_sync_one(cred, &c[i], &s[i]);
	struct sa_alloc_stats b = astats();
	for (unsigned long i = 0; i < n; i++)
		if (DeleteSecurityContext(&s[i]) != SEC_E_OK)
			die("DeleteSecurityContext (server)");
	struct sa_alloc_stats m = astats();
	for (unsigned long i = 0; i < n; i++)
		if (DeleteSecurityContext(&c[i]) != SEC_E_OK)
			die("DeleteSecurityContext (client)");
	struct sa_alloc_stats d = astats();
	/* Again, the handle table now large enough: the objects alone. */
	for (unsigned long i = 0; i < n; i++)
		hs_sync_one(cred, &c[i], &s[i]);
	struct sa_alloc_stats o = astats();
	for (unsigned long i = 0; i < n; i++)
		if (DeleteSecurityContext(&s[i]) != SEC_E_OK || DeleteSecurityContext(&c[i]) != SEC_E_OK)
			die("DeleteSecurityContext");
	printf("ntlm-mem pairs %lu\n", n);
	printf("ntlm-mem objects-per-context %.1f\n", (double)dbytes(&d, &o) / (2.0 * (double)n));
	printf("ntlm-mem held-per-context %.1f\n", (double)dbytes(&a, &b) / (2.0 * (double)n));
	printf("ntlm-mem held-per-server-context %.1f\n", (double)dbytes(&m, &b) / (double)n);
	printf("ntlm-mem held-per-client-context %.1f\n", (double)dbytes(&d, &m) / (double)n);
	printf("ntlm-mem blocks-per-context %.2f\n", (double)dblocks(&a, &b) / (2.0 * (double)n));
	printf("ntlm-mem kept-after-deletes-per-context %.1f\n",
	       (double)dbytes(&a, &d) / (2.0 * (double)n));

	struct sa_alloc_stats e = astats();
	hs_sync(cred, n);
	struct sa_alloc_stats f = astats();
	printf("ntlm-mem lost-sync-bytes %lld\n", dbytes(&e, &f));
	printf("ntlm-mem lost-sync-blocks %lld\n", dblocks(&e, &f));
	printf("ntlm-mem lost-sync-handshakes %lu\n", n);
	creds_free(cred);
	sa_shutdown();
	free(c);
	free(s);

	/* Async API, default pool, ASYNC_INFLIGHT in flight, async contexts reused. */
	sa_init(SSPIASYNC_DEFAULT_THREADS);
	creds_acquire(cred);
	static struct arun r;
	arun_setup(&r, cred, 1);
	arun_go(&r, ASYNC_INFLIGHT * 4);
	struct sa_alloc_stats g = astats();
	arun_go(&r, n);
	struct sa_alloc_stats h = astats();
	printf("ntlm-mem lost-async-bytes %lld\n", dbytes(&g, &h));
	printf("ntlm-mem lost-async-blocks %lld\n", dblocks(&g, &h));
	printf("ntlm-mem lost-async-handshakes %lu\n", n);
	arun_teardown(&r);
	creds_free(cred);
	sa_shutdown();
	struct sa_alloc_stats z = astats();
	printf("ntlm-mem live-after-shutdown-bytes %llu\n", (unsigned long long)z.live_bytes);
	return 0;
}

/* --- callgrind ---------------------------------------------------------------------- */

static int callgrind_main(const char *mode, unsigned long n)
{
	if (strcmp(mode, "direct") == 0) {
		hs_direct(n);
	} else if (strcmp(mode, "sync") == 0) {
		sa_init(0);
		CredHandle cred[2];
		creds_acquire(cred);
		hs_sync(cred, n);
		creds_free(cred);
		sa_shutdown();
	} else if (strcmp(mode, "async-cq") == 0 || strcmp(mode, "async-cb") == 0) {
		sa_init(SSPIASYNC_DEFAULT_THREADS);
		CredHandle cred[2];
		creds_acquire(cred);
		static struct arun r;
		arun_setup(&r, cred, mode[7] == 'q');
		arun_go(&r, n);
		arun_teardown(&r);
		creds_free(cred);
		sa_shutdown();
	} else {
		fprintf(stderr, "bench/ntlm: unknown callgrind mode %s\n", mode);
		return 2;
	}
	printf("callgrind-ops %lu\n", n);
	return 0;
}

static _Noreturn void usage(const char *prog)
{
	fprintf(stderr, "usage: %s round direct|sync|sync2|async-cq|async-cb N | mem N | --callgrind direct|sync|async-cq|async-cb N\n",
		prog);
	exit(2);
}

static unsigned long parse_n(const char *s, const char *prog)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || n == 0 || n > 100000000)
		usage(prog);
	return n;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	user_file_setup();
	if (argc == 4 && strcmp(argv[1], "--callgrind") == 0)
		return callgrind_main(argv[2], parse_n(argv[3], argv[0]));
	if (argc == 3 && strcmp(argv[1], "mem") == 0)
		return mem_main(parse_n(argv[2], argv[0]));
	if (argc != 4 || strcmp(argv[1], "round") != 0)
		usage(argv[0]);
	unsigned long n = parse_n(argv[3], argv[0]);
	double v;
	if (strcmp(argv[2], "direct") == 0)
		v = round_direct(n);
	else if (strcmp(argv[2], "sync") == 0)
		v = round_sync(n);
	else if (strcmp(argv[2], "sync2") == 0)
		v = round_sync2(n);
	else if (strcmp(argv[2], "async-cq") == 0)
		v = round_async(n, 1);
	else if (strcmp(argv[2], "async-cb") == 0)
		v = round_async(n, 0);
	else
		usage(argv[0]);
	printf("ntlm-round %s %.1f %.2f\n", argv[2], v, g_cpu_us);
	return 0;
}
