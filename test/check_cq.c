/*
 * test/check_cq.c - completion queues (sspiasync.h): handles, the fd's
 * level, callbacks only in reap on the reaping thread, frees before reap,
 * refusals, shutdown with completions unreaped, and one epoll loop driving
 * 10,000 concurrent handshakes (client and server sides, injected failures)
 * with two workers, and in no-thread mode with level- and edge-triggered
 * epoll.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "sspi/sspi_int.h"
#include "sspi_testlib.h"
#include "testlib.h"

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static void start(unsigned threads)
{
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = threads;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
}

static void finish(void)
{
	ck_assert_int_eq(sa__rt_test_engine_check(), SA_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}

/* 1 if @fd is readable within @ms milliseconds. */
static int readable(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static _Thread_local int tl_reaping;  /* this thread is inside sspiasync_cq_reap */
static pthread_t reaper;              /* the thread that reaps */

struct seen {
	int calls;      /* callbacks run */
	int outside;    /* ... not inside reap, or on another thread */
	int refused;    /* nested reaps refused as they must be */
	SspiAsyncContext *last;
};

static void seen_cb(SspiAsyncContext *ac, PVOID data)
{
	struct seen *s = data;
	s->calls++;
	s->outside += !tl_reaping || !pthread_equal(pthread_self(), reaper);
	struct sspiasync_completion c;
	s->refused += sspiasync_cq_reap(NULL, &c, 1) == SEC_E_INVALID_HANDLE;
	s->last = ac;
}

static int reap(struct sspiasync_cq *cq, struct sspiasync_completion *out, unsigned n)
{
	tl_reaping = 1;
	int k = sspiasync_cq_reap(cq, out, n);
	tl_reaping = 0;
	return k;
}

/* Outputs of async calls are written when they complete: they live here,
 * not on a stack frame that returns first. */
static unsigned long leg_attrs[64];
static int leg_next;

/* A first leg through @ac (3 legs: SEC_I_CONTINUE_NEEDED with a token). */
static SECURITY_STATUS first_leg(SspiAsyncContext *ac, CredHandle *cc, CtxtHandle *c,
				 SecBufferDesc *od)
{
	char target[] = "host/cq;legs=3";
	return SspiInitializeSecurityContextAsyncA(ac, cc, NULL, target, 0, 0, 0, NULL, 0, c, od,
						   &leg_attrs[leg_next++ % 64], NULL);
}

static void outbound(CredHandle *cc)
{
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, cc, NULL), SEC_E_OK);
}

START_TEST(test_cq_handles_and_fd)
{
	start(0);
	struct sspiasync_cq *cq = NULL, *other = NULL;
	ck_assert_int_eq(sspiasync_cq_create(NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_create(&other), SEC_E_OK);
	ck_assert_ptr_ne(cq, other);
	int fd = sspiasync_cq_fd(cq);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sspiasync_cq_fd(cq), fd); /* the same for its life */
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert(!readable(fd, 0));
	struct sspiasync_completion c[2];
	ck_assert_int_eq(sspiasync_cq_reap(cq, c, 2), 0);
	ck_assert_int_eq(sspiasync_cq_reap(cq, NULL, 1), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(sspiasync_cq_reap(cq, NULL, 0), 0);
	/* Forged, NULL, flipped: rejected everywhere. */
	struct sspiasync_cq *forged = (struct sspiasync_cq *)((uintptr_t)cq ^ 0x10);
	ck_assert_int_eq(sspiasync_cq_fd(forged), -1);
	ck_assert_int_eq(sspiasync_cq_fd(NULL), -1);
	ck_assert_int_eq(sspiasync_cq_reap(forged, c, 2), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_reap(NULL, c, 2), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_destroy(forged), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_destroy(NULL), SEC_E_INVALID_HANDLE);
	SspiAsyncContext *ac = SspiCreateAsyncContext();
	ck_assert_int_eq(sspiasync_cq_bind(ac, forged), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_bind(NULL, cq), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_bind((SspiAsyncContext *)cq, cq), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_bind(ac, (struct sspiasync_cq *)ac), SEC_E_INVALID_HANDLE);
	/* K1: a queue is never taken for an async context or the reverse, by
	 * construction (disjoint slot ranges), not by luck of a 15-bit check. */
	ck_assert_int_eq(SspiGetAsyncCallStatus((SspiAsyncContext *)cq), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_fd((struct sspiasync_cq *)ac), -1);
	ck_assert_uint_lt((uintptr_t)ac >> 40 & 0xffffffu, 1u << 23);
	ck_assert_uint_ge((uintptr_t)cq >> 40 & 0xffffffu, 1u << 23);
	/* Destroyed: stale. */
	ck_assert_int_eq(sspiasync_cq_destroy(other), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_destroy(other), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_fd(other), -1);
	ck_assert_int_eq(sspiasync_cq_reap(other, c, 2), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_reap(other, c, 0), SEC_E_INVALID_HANDLE); /* K3 */
	ck_assert_int_eq(sspiasync_cq_reap(other, NULL, 0), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(sspiasync_cq_bind(ac, other), SEC_E_INVALID_HANDLE);
	/* Bound: destroy refused until unbound. */
	ck_assert_int_eq(sspiasync_cq_bind(ac, cq), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(sspiasync_cq_fd(cq), fd);
	ck_assert_int_eq(sspiasync_cq_bind(ac, NULL), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* closed */
	SspiFreeAsyncContext(ac);
	ck_assert_int_eq(sspiasync_cq_bind(ac, NULL), SEC_E_INVALID_HANDLE);
	finish();
	ck_assert_int_eq(sspiasync_cq_fd(cq), -1); /* after shutdown and re-init too */
}
END_TEST

/* No-thread mode: the fd says "work queued", then "completion"; the
 * callback runs in reap only, on this thread; the record is right. */
START_TEST(test_cq_no_thread_level_and_record)
{
	start(0);
	reaper = pthread_self();
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	int fd = sspiasync_cq_fd(cq);
	CredHandle cc;
	CtxtHandle c;
	outbound(&cc);
	struct seen s = {0};
	SspiAsyncContext *ac = SspiCreateAsyncContext();
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(ac, seen_cb, &s), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_bind(ac, cq), SEC_E_OK);
	unsigned char tok[MAX_TOKEN];
	SecBuffer ob = {sizeof tok, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(first_leg(ac, &cc, &c, &od), SEC_E_OK);
	ck_assert(readable(fd, 0)); /* work queued: call sspiasync_run() */
	ck_assert_int_eq(sspiasync_cq_bind(ac, NULL), SEC_E_INVALID_PARAMETER); /* pending */
	ck_assert_int_eq(sspiasync_run(0), 1);
	ck_assert_int_eq(s.calls, 0); /* not in run: the context is bound */
	ck_assert(readable(fd, 0)); /* a completion waits */
	ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_I_CONTINUE_NEEDED);
	ck_assert_int_eq(SspiReinitAsyncContext(ac), STATUS_INVALID_DEVICE_STATE); /* not reaped */
	struct sspiasync_completion out[4];
	memset(out, 0, sizeof out);
	ck_assert_int_eq(reap(cq, out, 4), 1);
	ck_assert_ptr_eq(out[0].context, ac);
	ck_assert_ptr_eq(out[0].data, &s);
	ck_assert_int_eq(out[0].status, SEC_I_CONTINUE_NEEDED);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(s.outside, 0);
	ck_assert_int_eq(s.refused, 1); /* reap inside its callback: refused */
	ck_assert_ptr_eq(s.last, ac);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(reap(cq, out, 4), 0);
	ck_assert_int_eq(SspiReinitAsyncContext(ac), STATUS_SUCCESS);

	/* Without a callback: a record all the same, data NULL. */
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(ac, NULL, NULL), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ac, &c), SEC_E_OK);
	ck_assert_int_eq(sspiasync_run(0), 1);
	ck_assert_int_eq(reap(cq, out, 4), 1);
	ck_assert_ptr_eq(out[0].context, ac);
	ck_assert_ptr_null(out[0].data);
	ck_assert_int_eq(out[0].status, SEC_E_OK);
	ck_assert_int_eq(s.calls, 1);
	ck_assert(!readable(fd, 0));

	/* Unbound again: callbacks go back to sspiasync_run(). */
	ck_assert_int_eq(SspiReinitAsyncContext(ac), STATUS_SUCCESS);
	ck_assert_int_eq(sspiasync_cq_bind(ac, NULL), SEC_E_OK);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(ac, seen_cb, &s), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ac, &c), SEC_E_OK); /* stale now */
	ck_assert(readable(fd, 0)); /* no-thread: work queued, any queue says so */
	ck_assert_int_eq(sspiasync_run(0), 1);
	ck_assert_int_eq(s.calls, 2);
	ck_assert_int_eq(s.outside, 1); /* ran in sspiasync_run, as it should unbound */
	ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_E_INVALID_HANDLE);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(reap(cq, out, 4), 0);
	SspiFreeAsyncContext(ac);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	finish();
}
END_TEST

/* Pool mode: the workers finish the call; the fd wakes this thread, and the
 * callback runs here, inside reap. */
START_TEST(test_cq_pool_callback_runs_in_reap_on_this_thread)
{
	start(2);
	reaper = pthread_self();
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	int fd = sspiasync_cq_fd(cq);
	CredHandle cc;
	outbound(&cc);
	enum { N = 16 };
	struct seen s = {0};
	SspiAsyncContext *ac[N];
	CtxtHandle c[N];
	unsigned char tok[N][MAX_TOKEN];
	SecBuffer ob[N];
	SecBufferDesc od[N];
	for (int i = 0; i < N; i++) {
		ac[i] = SspiCreateAsyncContext();
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(ac[i], seen_cb, &s), SEC_E_OK);
		ck_assert_int_eq(sspiasync_cq_bind(ac[i], cq), SEC_E_OK);
		ob[i] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, tok[i]};
		od[i] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[i]};
		ck_assert_int_eq(first_leg(ac[i], &cc, &c[i], &od[i]), SEC_E_OK);
	}
	int got = 0, seen[N] = {0};
	while (got < N) {
		ck_assert(readable(fd, 30000));
		struct sspiasync_completion out[N];
		int k = reap(cq, out, N);
		ck_assert_int_gt(k, 0); /* readable means something to reap */
		for (int j = 0; j < k; j++) {
			int i = 0;
			while (i < N && ac[i] != out[j].context)
				i++;
			ck_assert_int_lt(i, N);
			ck_assert_int_eq(seen[i], 0); /* once */
			seen[i] = 1;
			ck_assert_int_eq(out[j].status, SEC_I_CONTINUE_NEEDED);
		}
		got += k;
	}
	ck_assert_int_eq(s.calls, N);
	ck_assert_int_eq(s.outside, 0);
	ck_assert_int_eq(s.refused, N);
	ck_assert(!readable(fd, 0));
	for (int i = 0; i < N; i++) {
		SspiFreeAsyncContext(ac[i]);
		ck_assert_int_eq(DeleteSecurityContext(&c[i]), SEC_E_OK);
	}
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK); /* freeing unbound them */
	finish();
}
END_TEST

/* A6: a context freed while its completion waits is dropped from the queue:
 * the fd goes down, reap returns nothing, no callback runs; freeing one of
 * two keeps the other. */
START_TEST(test_cq_free_before_reap_drops_the_record)
{
	start(0);
	reaper = pthread_self();
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	int fd = sspiasync_cq_fd(cq);
	CredHandle cc;
	outbound(&cc);
	struct seen s = {0};
	SspiAsyncContext *a1 = SspiCreateAsyncContext(), *a2 = SspiCreateAsyncContext();
	CtxtHandle c1, c2;
	unsigned char t1[MAX_TOKEN], t2[MAX_TOKEN];
	SecBuffer o1 = {MAX_TOKEN, SECBUFFER_TOKEN, t1}, o2 = {MAX_TOKEN, SECBUFFER_TOKEN, t2};
	SecBufferDesc d1 = {SECBUFFER_VERSION, 1, &o1}, d2 = {SECBUFFER_VERSION, 1, &o2};
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a1, seen_cb, &s), SEC_E_OK);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a2, seen_cb, &s), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_bind(a1, cq), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_bind(a2, cq), SEC_E_OK);
	ck_assert_int_eq(first_leg(a1, &cc, &c1, &d1), SEC_E_OK);
	ck_assert_int_eq(first_leg(a2, &cc, &c2, &d2), SEC_E_OK);
	ck_assert_int_eq(sspiasync_run(0), 2);
	ck_assert(readable(fd, 0));
	SspiFreeAsyncContext(a1);
	ck_assert(readable(fd, 0)); /* a2's record still waits */
	struct sspiasync_completion out[4];
	ck_assert_int_eq(reap(cq, out, 4), 1);
	ck_assert_ptr_eq(out[0].context, a2);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_ptr_eq(s.last, a2);
	ck_assert_int_eq(SspiReinitAsyncContext(a2), STATUS_SUCCESS);
	/* The last record freed: the fd goes down at once. */
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a2, &c2), SEC_E_OK);
	ck_assert_int_eq(sspiasync_run(0), 1);
	ck_assert(readable(fd, 0));
	SspiFreeAsyncContext(a2);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(reap(cq, out, 4), 0);
	ck_assert_int_eq(s.calls, 1);
	/* The free unbound both: the queue can go. */
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	/* a1 was freed before its record told anyone: its context went with it
	 * (A7); c2 was deleted above. */
	ck_assert_int_eq(DeleteSecurityContext(&c1), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(DeleteSecurityContext(&c2), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_uint_eq(stats().async_contexts, 0);
	finish();
}
END_TEST

/* A user who reads the fd (told not to) confuses the level until the next
 * change, and nothing worse: no crash, reap still returns the completion. */
START_TEST(test_cq_user_reading_the_fd_breaks_nothing)
{
	start(0);
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	int fd = sspiasync_cq_fd(cq);
	CtxtHandle stale = {1, 2};
	SspiAsyncContext *ac = SspiCreateAsyncContext();
	ck_assert_int_eq(sspiasync_cq_bind(ac, cq), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ac, &stale), SEC_E_OK);
	uint64_t v;
	ck_assert_int_eq(read(fd, &v, sizeof v), (ssize_t)sizeof v); /* stolen */
	ck_assert_int_eq(sspiasync_run(0), 1);
	struct sspiasync_completion out[2];
	ck_assert_int_eq(sspiasync_cq_reap(cq, out, 2), 1); /* drains: read gets EAGAIN */
	ck_assert_int_eq(out[0].status, SEC_E_INVALID_HANDLE);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(SspiReinitAsyncContext(ac), STATUS_SUCCESS);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ac, &stale), SEC_E_OK);
	ck_assert(readable(fd, 0)); /* the level works again from here */
	ck_assert_int_eq(sspiasync_run(0), 1);
	ck_assert_int_eq(sspiasync_cq_reap(cq, out, 2), 1);
	ck_assert(!readable(fd, 0));
	SspiFreeAsyncContext(ac);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	finish();
}
END_TEST

/* A callback inside reap frees the context whose record is next: that record
 * is dropped, its callback never runs, reap does not return it (the model's
 * REAP_NO_RECHECK, verify/sspiasync.pml). */
struct pair {
	SspiAsyncContext *other;
	int calls;
};

static void free_other_cb(SspiAsyncContext *ac, PVOID data)
{
	struct pair *p = data;
	(void)ac;
	p->calls++;
	if (p->other != NULL) {
		SspiFreeAsyncContext(p->other);
		p->other = NULL;
	}
}

START_TEST(test_cq_callback_frees_the_next_record_inside_reap)
{
	start(0);
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	CtxtHandle stale = {1, 2};
	SspiAsyncContext *a1 = SspiCreateAsyncContext(), *a2 = SspiCreateAsyncContext();
	struct pair p1 = {a2, 0}, p2 = {NULL, 0};
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a1, free_other_cb, &p1), SEC_E_OK);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a2, free_other_cb, &p2), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_bind(a1, cq), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_bind(a2, cq), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a1, &stale), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a2, &stale), SEC_E_OK);
	ck_assert_uint_eq(sspiasync_run(0), 2);
	struct sspiasync_completion out[4];
	ck_assert_int_eq(sspiasync_cq_reap(cq, out, 4), 1);
	ck_assert_ptr_eq(out[0].context, a1);
	ck_assert_int_eq(p1.calls, 1);
	ck_assert_int_eq(p2.calls, 0); /* freed before its turn */
	ck_assert(!readable(sspiasync_cq_fd(cq), 0));
	SspiFreeAsyncContext(a1);
	ck_assert_uint_eq(stats().async_contexts, 0);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	finish();
}
END_TEST

/* Issue 23: reap takes records without a callback in batches (one hold),
 * but a record with a callback ends its batch: records 0 and 1 have none,
 * record 2's callback frees record 4's context, record 3 has none.  Reap(8)
 * returns 0, 1, 2, 3 in order, not 4: nothing past the callback was taken
 * before it ran (A6).  A second reap finds nothing; the fd is low. */
START_TEST(test_cq_reap_batches_stop_at_a_callback)
{
	start(0);
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	CtxtHandle stale = {1, 2};
	SspiAsyncContext *a[5];
	for (int i = 0; i < 5; i++) {
		a[i] = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(a[i]);
		ck_assert_int_eq(sspiasync_cq_bind(a[i], cq), SEC_E_OK);
	}
	struct pair p = {a[4], 0};
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a[2], free_other_cb, &p), SEC_E_OK);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[i], &stale), SEC_E_OK);
	ck_assert_uint_eq(sspiasync_run(0), 5);
	struct sspiasync_completion out[8];
	ck_assert_int_eq(sspiasync_cq_reap(cq, out, 8), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_ptr_eq(out[i].context, a[i]);
		ck_assert_int_eq(out[i].status, SEC_E_INVALID_HANDLE);
	}
	ck_assert_int_eq(p.calls, 1);
	ck_assert_int_eq(sspiasync_cq_reap(cq, out, 8), 0);
	ck_assert(!readable(sspiasync_cq_fd(cq), 0));
	for (int i = 0; i < 4; i++)
		SspiFreeAsyncContext(a[i]);
	ck_assert_uint_eq(stats().async_contexts, 0);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	finish();
}
END_TEST

/* A callback that frees its own context, inside reap. */
static void free_self_cb(SspiAsyncContext *ac, PVOID data)
{
	int *n = data;
	(*n)++;
	SspiFreeAsyncContext(ac);
}

START_TEST(test_cq_callback_frees_its_context_inside_reap)
{
	start(2);
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	CtxtHandle stale = {1, 2};
	int n = 0;
	SspiAsyncContext *ac = SspiCreateAsyncContext();
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(ac, free_self_cb, &n), SEC_E_OK);
	ck_assert_int_eq(sspiasync_cq_bind(ac, cq), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ac, &stale), SEC_E_OK);
	ck_assert(readable(sspiasync_cq_fd(cq), 30000));
	struct sspiasync_completion out[2];
	ck_assert_int_eq(sspiasync_cq_reap(cq, out, 2), 1);
	ck_assert_int_eq(out[0].status, SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_E_INVALID_HANDLE); /* the handle is gone */
	ck_assert_uint_eq(stats().async_contexts, 0);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	finish();
}
END_TEST

/* Shutdown with completions nobody reaped: their callbacks run in shutdown
 * (every call completes once), every queue goes, nothing leaks. */
START_TEST(test_cq_shutdown_delivers_unreaped_completions)
{
	start(0);
	reaper = pthread_self();
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	int fd = sspiasync_cq_fd(cq);
	CtxtHandle stale = {1, 2};
	struct seen s = {0};
	SspiAsyncContext *ac[3];
	for (int i = 0; i < 3; i++) {
		ac[i] = SspiCreateAsyncContext();
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(ac[i], seen_cb, &s), SEC_E_OK);
		ck_assert_int_eq(sspiasync_cq_bind(ac[i], cq), SEC_E_OK);
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(ac[i], &stale), SEC_E_OK);
	}
	ck_assert_int_eq(sspiasync_run(2), 2); /* two completed, one still queued */
	finish();
	ck_assert_int_eq(s.calls, 3);
	ck_assert_int_eq(s.outside, 3); /* in shutdown, not in a reap */
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
}
END_TEST

/* --- one epoll loop, 10,000 handshakes ------------------------------------ */

enum { HS_BATCH = 256 };

#define INJECTED ((SECURITY_STATUS)0x8009030CL) /* SEC_E_LOGON_DENIED */

struct loop;

/* One handshake: both sides' async contexts, bound to the loop's queue. */
struct hs {
	struct loop *l;
	SspiAsyncContext *side[2];  /* 0: client, 1: server */
	CtxtHandle ctx[2];
	int have[2];                /* that side has a context */
	unsigned char tok[2][MAX_TOKEN];
	SecBuffer ob[2];            /* written at completion: they outlive the call */
	SecBufferDesc od[2];
	unsigned long attrs[2];
	int legs, fail_at;          /* fail_at 0: none */
	int leg;                    /* the leg in flight (1-based); 0 once deleting */
	int outstanding;            /* calls submitted, not reaped */
	char target[64];
};

struct loop {
	CredHandle cred[2];
	struct hs *hs;
	int n, finished, succeeded, failed_as_injected;
	int bad, doubled, callbacks, cb_outside;
	long records;
};

static void hs_cb(SspiAsyncContext *ac, PVOID data)
{
	struct hs *h = data;
	(void)ac;
	h->l->callbacks++;
	h->l->cb_outside += !tl_reaping || !pthread_equal(pthread_self(), reaper);
}

/* Submit leg h->leg on its side; the input is the other side's last token. */
static void hs_submit_leg(struct hs *h)
{
	struct loop *l = h->l;
	int side = (h->leg - 1) % 2;
	SecBuffer ib = {h->ob[!side].cbBuffer, SECBUFFER_TOKEN, h->tok[!side]};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	h->ob[side] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, h->tok[side]};
	h->od[side] = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->ob[side]};
	SECURITY_STATUS st;
	if (side == 0)
		st = SspiInitializeSecurityContextAsyncA(h->side[0], &l->cred[0],
							 h->have[0] ? &h->ctx[0] : NULL, h->target,
							 0, 0, 0, h->leg == 1 ? NULL : &id, 0,
							 &h->ctx[0], &h->od[0], &h->attrs[0], NULL);
	else
		st = SspiAcceptSecurityContextAsync(h->side[1], &l->cred[1],
						    h->have[1] ? &h->ctx[1] : NULL, &id, 0, 0,
						    &h->ctx[1], &h->od[1], &h->attrs[1], NULL);
	l->bad += st != SEC_E_OK;
	h->outstanding++;
}

/* The handshake is over: delete what each side made (async, through the
 * same contexts), or finish if nothing was made. */
static void hs_end(struct hs *h)
{
	h->leg = 0;
	for (int s = 0; s < 2; s++) {
		if (!h->have[s])
			continue;
		h->l->bad += SspiDeleteSecurityContextAsync(h->side[s], &h->ctx[s]) != SEC_E_OK;
		h->outstanding++;
	}
	if (h->outstanding == 0) {
		SspiFreeAsyncContext(h->side[0]);
		SspiFreeAsyncContext(h->side[1]);
		h->l->finished++;
	}
}

static void hs_complete(struct loop *l, const struct sspiasync_completion *c)
{
	struct hs *h = c->data;
	l->records++;
	if (--h->outstanding < 0) {
		l->doubled++;
		return;
	}
	int side = c->context == h->side[0] ? 0 : 1;
	l->bad += SspiReinitAsyncContext(c->context) != STATUS_SUCCESS; /* reaped: idle again */
	if (h->leg == 0) { /* a delete */
		l->bad += c->status != SEC_E_OK;
		h->have[side] = 0;
		if (h->outstanding == 0) {
			SspiFreeAsyncContext(h->side[0]);
			SspiFreeAsyncContext(h->side[1]);
			l->finished++;
		}
		return;
	}
	SECURITY_STATUS want = h->leg == h->fail_at ? INJECTED
			       : h->leg >= h->legs - 1 ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
	if (c->status != want || side != (h->leg - 1) % 2) {
		l->bad++;
		hs_end(h);
		return;
	}
	if (want != INJECTED)
		h->have[side] = 1;
	if (want == INJECTED) {
		l->failed_as_injected++;
		hs_end(h);
	} else if (h->leg == h->legs) {
		l->succeeded++;
		hs_end(h);
	} else {
		h->leg++;
		hs_submit_leg(h);
	}
}

/*
 * Drive @n handshakes at once from this thread through one queue: the fd in
 * epoll (edge-triggered if @et), reap in batches, each completion starting
 * the next leg or the deletes.  In no-thread mode (@threads 0) the loop also
 * calls sspiasync_run().  Asserts every handshake ended as designed, every
 * call completed exactly once, nothing left alive.
 */
static void epoll_handshakes(unsigned threads, int n, int et)
{
	start(threads);
	reaper = pthread_self();
	struct loop l = {.n = n};
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &l.cred[0], NULL), SEC_E_OK);
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_INBOUND, NULL, NULL,
						   NULL, NULL, &l.cred[1], NULL), SEC_E_OK);
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(ep, 0);
	struct epoll_event ev = {.events = EPOLLIN | (et ? EPOLLET : 0u)};
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, sspiasync_cq_fd(cq), &ev), 0);
	l.hs = calloc((size_t)n, sizeof *l.hs);
	ck_assert_ptr_nonnull(l.hs);
	int expect_ok = 0, expect_fail = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		struct hs *h = &l.hs[i];
		h->l = &l;
		h->legs = 2 + i % 3;
		h->fail_at = i % 7 == 3 ? 1 + (i / 7) % h->legs : 0;
		if (h->fail_at != 0)
			snprintf(h->target, sizeof h->target, "host/hs%d;legs=%d;fail=%d;status=0x%08X", i,
				 h->legs, h->fail_at, (unsigned)INJECTED);
		else
			snprintf(h->target, sizeof h->target, "host/hs%d;legs=%d", i, h->legs);
		expect_ok += h->fail_at == 0;
		expect_fail += h->fail_at != 0;
		for (int s = 0; s < 2; s++) {
			h->side[s] = SspiCreateAsyncContext();
			ck_assert_ptr_nonnull(h->side[s]);
			ck_assert_int_eq(SspiSetAsyncNotifyCallback(h->side[s], hs_cb, h), SEC_E_OK);
			ck_assert_int_eq(sspiasync_cq_bind(h->side[s], cq), SEC_E_OK);
		}
		h->leg = 1;
		hs_submit_leg(h);
	}
	int timeouts = 0, unsound = 0;
	unsigned rounds = 0;
	struct sspiasync_completion out[HS_BATCH];
	while (l.finished < n && l.bad == 0 && l.doubled == 0) {
		struct epoll_event got;
		/* Mid-run, with workers busy (or work queued): the engine's
		 * invariants hold whenever its lock is free. */
		if (rounds++ % 64 == 0 && sa__rt_test_engine_check() != SA_OK)
			unsound++;
		if (epoll_wait(ep, &got, 1, 30000) != 1) {
			timeouts++; /* lost: nothing woke the loop for 30 s */
			break;
		}
		/* Edge-triggered: reap until short, and in no-thread mode run until
		 * nothing is queued, so the fd was drained before the next wait. */
		unsigned ran;
		int k;
		do {
			ran = threads == 0 ? sspiasync_run(0) : 0;
			k = reap(cq, out, HS_BATCH);
			ck_assert_int_ge(k, 0);
			for (int j = 0; j < k; j++)
				hs_complete(&l, &out[j]);
		} while (k == HS_BATCH || ran != 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "cq epoll (%s, %u workers): %d handshakes, %ld completions, %.2f s\n",
		et ? "edge" : "level", threads, n, l.records, secs);
	ck_assert_int_eq(timeouts, 0);
	ck_assert_int_eq(unsound, 0);
	ck_assert_int_eq(l.bad, 0);
	ck_assert_int_eq(l.doubled, 0);
	ck_assert_int_eq(l.finished, n);
	ck_assert_int_eq(l.succeeded, expect_ok);
	ck_assert_int_eq(l.failed_as_injected, expect_fail);
	ck_assert_int_eq(l.callbacks, l.records);
	ck_assert_int_eq(l.cb_outside, 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(l.hs[i].outstanding, 0);
	struct sspiasync_statistics st = stats();
	ck_assert_uint_eq(st.contexts, 0);
	ck_assert_uint_eq(st.async_contexts, 0);
	ck_assert_uint_eq(st.pending_calls, 0);
	ck_assert(!readable(sspiasync_cq_fd(cq), 0));
	close(ep);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&l.cred[0]), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&l.cred[1]), SEC_E_OK);
	free(l.hs);
	finish();
}

static int hs_count(void)
{
	return tl_slow() ? 300 : 10000;
}

START_TEST(test_cq_epoll_10000_handshakes_two_workers)
{
	epoll_handshakes(2, hs_count(), 0);
}
END_TEST

START_TEST(test_cq_epoll_10000_handshakes_two_workers_edge_triggered)
{
	epoll_handshakes(2, hs_count(), 1);
}
END_TEST

START_TEST(test_cq_epoll_10000_handshakes_no_thread)
{
	epoll_handshakes(0, hs_count(), 0);
}
END_TEST

START_TEST(test_cq_epoll_10000_handshakes_no_thread_edge_triggered)
{
	epoll_handshakes(0, hs_count(), 1);
}
END_TEST

static Suite *cq_suite(void)
{
	Suite *s = suite_create("cq");
	TCase *tc;

	tc = tcase(s, "api", 60);
	tcase_add_test(tc, test_cq_handles_and_fd);
	tcase_add_test(tc, test_cq_no_thread_level_and_record);
	tcase_add_test(tc, test_cq_free_before_reap_drops_the_record);
	tcase_add_test(tc, test_cq_shutdown_delivers_unreaped_completions);
	tcase_add_test(tc, test_cq_user_reading_the_fd_breaks_nothing);
	tcase_add_test(tc, test_cq_callback_frees_the_next_record_inside_reap);
	tcase_add_test(tc, test_cq_reap_batches_stop_at_a_callback);

	tc = tcase(s, "pool", 120);
	tcase_add_test(tc, test_cq_pool_callback_runs_in_reap_on_this_thread);
	tcase_add_test(tc, test_cq_callback_frees_its_context_inside_reap);

	tc = tcase(s, "epoll", 300);
	tcase_add_test(tc, test_cq_epoll_10000_handshakes_two_workers);
	tcase_add_test(tc, test_cq_epoll_10000_handshakes_two_workers_edge_triggered);
	tcase_add_test(tc, test_cq_epoll_10000_handshakes_no_thread);
	tcase_add_test(tc, test_cq_epoll_10000_handshakes_no_thread_edge_triggered);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
