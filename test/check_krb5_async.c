/*
 * test/check_krb5_async.c - the async promise with a network package:
 * Kerberos legs that wait on a KDC run only on workers, so an event loop
 * driving many handshakes through one completion queue keeps serving its
 * other work while the KDC is slow.
 *
 * main() starts a throw-away realm (test/krb5_realm.h) and a delaying TCP
 * proxy in front of its KDC; KRB5_CONFIG points the clients at the proxy.
 *  - 100 Kerberos (and 100 Negotiate) handshakes at once through one queue
 *    polled by epoll next to a 5 ms timer: every submission returns at once
 *    (all 100 first legs are still pending after the last is submitted:
 *    none ran on the loop's thread), the timer keeps firing while they wait
 *    (its longest gap is printed), and every handshake completes with the
 *    client's name on the server.
 *  - freeing the async context while its leg waits on the KDC: the call is
 *    abandoned, its late result dropped (outputs untouched, no callback),
 *    and nothing is left once the worker comes back.
 * Threads other than the test's never call ck_assert (CK_FORK=no).
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "async/async.h" /* sa__engine_test_hook: see a job start */
#define TOK 48256
#define LEG_OUT_ROOM TOK
#include "krb5_realm.h"
#include "sspi_testlib.h"
#include "testlib.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define N_MAX 100
#define KDC_DELAY_MS 200
#define WAIT_MS 60000 /* a bound, never reached when the code is right */
#define REQ_C (ISC_REQ_MUTUAL_AUTH | ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_CONNECTION)
#define REQ_S (ASC_REQ_MUTUAL_AUTH | ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY | ASC_REQ_CONNECTION)
#define TARGET "HTTP/host.test"

static int g_n = N_MAX; /* handshakes at once; 10 under a race detector (same paths) */
static struct tl_realm realm;
static struct tl_proxy proxy;
static char slow_conf[TL_REALM_PATH_MAX + 16];
static char user_file[64];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static CredHandle acquire(const char *pkg, unsigned long use, int with_password)
{
	SEC_WINNT_AUTH_IDENTITY_A id = tl_identity(TL_REALM_ALICE, TL_REALM_NAME, TL_REALM_ALICE_PW);
	CredHandle h;
	TimeStamp ts;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, (SEC_CHAR *)pkg, use, NULL,
						   with_password ? &id : NULL, NULL, NULL, &h, &ts),
			 SEC_E_OK);
	return h;
}

/* One handshake: its two ends, each with an async context on the queue. */
struct hs {
	CtxtHandle c, s;
	SspiAsyncContext *ac, *as;
	unsigned char ctok[TOK], stok[TOK];
	SecBuffer cob, sob, in;
	SecBufferDesc cod, sod, ind;
	unsigned long cattr, sattr;
	int cleg, sleg, done, failed;
	SECURITY_STATUS last;
};

static SECURITY_STATUS submit_client(struct hs *h, CredHandle *cc)
{
	int first = h->cleg == 0;
	h->cob = (SecBuffer){TOK, SECBUFFER_TOKEN, h->ctok};
	h->cod = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->cob};
	h->in = (SecBuffer){h->sob.cbBuffer, SECBUFFER_TOKEN, h->stok};
	h->ind = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->in};
	SspiReinitAsyncContext(h->ac);
	h->cleg++;
	return SspiInitializeSecurityContextAsync(h->ac, cc, first ? NULL : &h->c, (SEC_CHAR *)TARGET,
						  REQ_C, 0, SECURITY_NATIVE_DREP,
						  first ? NULL : &h->ind, 0, &h->c, &h->cod, &h->cattr,
						  NULL);
}

static SECURITY_STATUS submit_server(struct hs *h, CredHandle *sc)
{
	int first = h->sleg == 0;
	h->sob = (SecBuffer){TOK, SECBUFFER_TOKEN, h->stok};
	h->sod = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->sob};
	h->in = (SecBuffer){h->cob.cbBuffer, SECBUFFER_TOKEN, h->ctok};
	h->ind = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->in};
	SspiReinitAsyncContext(h->as);
	h->sleg++;
	return SspiAcceptSecurityContextAsync(h->as, sc, first ? NULL : &h->s, &h->ind, REQ_S,
					      SECURITY_NATIVE_DREP, &h->s, &h->sod, &h->sattr, NULL);
}

/*
 * The loop: epoll over the queue's fd and a 5 ms timer.  A completion of a
 * client leg with a token goes to the server, and back, until the client
 * says SEC_E_OK and the server has too.  Returns the handshakes done.
 */
static int run_loop(struct sspiasync_cq *cq, CredHandle *cc, CredHandle *sc,
		    unsigned *ticks, int64_t *max_gap)
{
	int ep = epoll_create1(0), tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	ck_assert_int_ge(ep, 0);
	ck_assert_int_ge(tfd, 0);
	struct itimerspec it = {{0, 5000000}, {0, 5000000}};
	ck_assert_int_eq(timerfd_settime(tfd, 0, &it, NULL), 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = sspiasync_cq_fd(cq)};
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev), 0);
	ev.data.fd = tfd;
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev), 0);
	int done = 0, failed = 0;
	int64_t end = now_ms() + WAIT_MS, last = now_ms();
	while (done + failed < g_n && now_ms() < end) {
		struct epoll_event evs[2];
		int n = epoll_wait(ep, evs, 2, 100);
		int64_t t = now_ms();
		if (t - last > *max_gap)
			*max_gap = t - last;
		last = t;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == tfd) {
				uint64_t x;
				if (read(tfd, &x, sizeof x) == (ssize_t)sizeof x)
					(*ticks)++;
				continue;
			}
			struct sspiasync_completion c[32];
			int k = sspiasync_cq_reap(cq, c, 32);
			ck_assert_int_ge(k, 0);
			for (int j = 0; j < k; j++) {
				struct hs *x = c[j].data;
				int client = c[j].context == x->ac;
				SECURITY_STATUS st = c[j].status;
				x->last = st;
				if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
					x->failed = 1;
					failed++;
				} else if (client && st == SEC_E_OK && x->sleg > 0) {
					x->done = 1;
					done++;
				} else if (client) {
					ck_assert_int_eq(submit_server(x, sc), SEC_E_OK);
				} else {
					ck_assert_int_eq(submit_client(x, cc), SEC_E_OK);
				}
			}
		}
	}
	close(tfd);
	close(ep);
	return done;
}

/* A callback, so each completion carries its handshake as data; it runs in
 * sspiasync_cq_reap() on the loop's thread. */
static void noop_cb(SspiAsyncContext *a, PVOID data)
{
	(void)a;
	(void)data;
}

static void many_handshakes(const char *pkg)
{
	if (tl_race_detector())
		g_n = 10;
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = 4;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	ck_assert_int_eq(setenv("KRB5_CONFIG", slow_conf, 1), 0);
	CredHandle cc = acquire(pkg, SECPKG_CRED_OUTBOUND, 1), sc = acquire(pkg, SECPKG_CRED_INBOUND, 0);
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	struct hs *h = calloc(g_n, sizeof *h);
	ck_assert_ptr_nonnull(h);
	for (int i = 0; i < g_n; i++) {
		h[i].ac = SspiCreateAsyncContext();
		h[i].as = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(h[i].ac);
		ck_assert_ptr_nonnull(h[i].as);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(h[i].ac, noop_cb, &h[i]), SEC_E_OK);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(h[i].as, noop_cb, &h[i]), SEC_E_OK);
		ck_assert_int_eq(sspiasync_cq_bind(h[i].ac, cq), SEC_E_OK);
		ck_assert_int_eq(sspiasync_cq_bind(h[i].as, cq), SEC_E_OK);
	}
	int64_t t0 = now_ms();
	for (int i = 0; i < g_n; i++)
		ck_assert_int_eq(submit_client(&h[i], &cc), SEC_E_OK);
	int64_t submit_ms = now_ms() - t0;
	/* Every first leg needs the KDC (through the proxy: >= 2 x 200 ms):
	 * none can be done yet, so none ran on this thread. */
	int pending = 0;
	for (int i = 0; i < g_n; i++)
		pending += SspiGetAsyncCallStatus(h[i].ac) == SEC_I_ASYNC_CALL_PENDING;
	ck_assert_int_eq(pending, g_n);
	unsigned ticks = 0;
	int64_t max_gap = 0, t1 = now_ms();
	int done = run_loop(cq, &cc, &sc, &ticks, &max_gap);
	int64_t total = now_ms() - t1;
	for (int i = 0; i < g_n; i++)
		ck_assert_msg(h[i].done, "handshake %d: last status 0x%08lx after %d+%d legs", i,
			      (unsigned long)(uint32_t)h[i].last, h[i].cleg, h[i].sleg);
	ck_assert_int_eq(done, g_n);
	ck_assert_uint_gt(ticks, 0); /* the loop served its timer meanwhile */
	printf("check_krb5_async: %s: %d handshakes, KDC +%d ms each way: submitting took %lld ms, "
	       "all done in %lld ms; the loop's timer fired %u times, longest gap %lld ms\n",
	       pkg, g_n, KDC_DELAY_MS, (long long)submit_ms, (long long)total, ticks,
	       (long long)max_gap);
	SecPkgContext_NamesA nm;
	ck_assert_int_eq(QueryContextAttributesA(&h[g_n - 1].s, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
	ck_assert_str_eq(nm.sUserName, "alice@" TL_REALM_NAME);
	FreeContextBuffer(nm.sUserName);
	for (int i = 0; i < g_n; i++) {
		ck_assert_int_eq(DeleteSecurityContext(&h[i].c), SEC_E_OK);
		ck_assert_int_eq(DeleteSecurityContext(&h[i].s), SEC_E_OK);
		SspiFreeAsyncContext(h[i].ac);
		SspiFreeAsyncContext(h[i].as);
	}
	free(h);
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	ck_assert_uint_eq(contexts_settled(0), 0);
	ck_assert_int_eq(setenv("KRB5_CONFIG", realm.krb5_conf, 1), 0);
}

START_TEST(test_krb5_async_100_handshakes_through_a_slow_kdc)
{
	if (realm.kdc_pid == 0)
		return;
	many_handshakes("Kerberos");
}
END_TEST

START_TEST(test_nego_async_100_handshakes_through_a_slow_kdc)
{
	if (realm.kdc_pid == 0)
		return;
	many_handshakes("Negotiate");
}
END_TEST

/* --- free while the leg waits on the KDC ----------------------------------- */

static _Atomic uintptr_t g_watch;
static _Atomic int g_started, g_ran, g_callbacks;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;

static void watch_hook(enum sa_engine_point point, uintptr_t acall)
{
	if (acall != atomic_load(&g_watch))
		return;
	pthread_mutex_lock(&g_mu);
	atomic_store(point == SA_ENGINE_POINT_RUN ? &g_started : &g_ran, 1);
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

static void count_cb(SspiAsyncContext *a, PVOID data)
{
	(void)a;
	(void)data;
	atomic_fetch_add(&g_callbacks, 1);
}

/* Wait, at most WAIT_MS, until the hook set *flag. */
static int wait_for(_Atomic int *flag)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&g_mu);
	while (!atomic_load(flag) && pthread_cond_timedwait(&g_cv, &g_mu, &dl) == 0)
		;
	int v = atomic_load(flag);
	pthread_mutex_unlock(&g_mu);
	return v;
}

START_TEST(test_krb5_async_free_while_leg_waits_on_the_kdc)
{
	if (realm.kdc_pid == 0)
		return;
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	ck_assert_int_eq(setenv("KRB5_CONFIG", slow_conf, 1), 0);
	CredHandle cc = acquire("Kerberos", SECPKG_CRED_OUTBOUND, 1);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, count_cb, NULL), SEC_E_OK);
	static struct leg_out o;
	leg_out_reset(&o);
	atomic_store(&g_started, 0);
	atomic_store(&g_ran, 0);
	atomic_store(&g_callbacks, 0);
	atomic_store(&g_watch, (uintptr_t)a);
	atomic_store(&sa__engine_test_hook, watch_hook);
	ck_assert_int_eq(SspiInitializeSecurityContextAsync(a, &cc, NULL, (SEC_CHAR *)TARGET, REQ_C, 0,
							    SECURITY_NATIVE_DREP, NULL, 0, &o.newh,
							    &o.od, &o.attrs, &o.ts),
			 SEC_E_OK);
	ck_assert(wait_for(&g_started)); /* on a worker, now in GSSAPI, waiting on the proxy */
	ck_assert_int_eq(atomic_load(&g_ran), 0);
	SspiFreeAsyncContext(a); /* abandons the call; returns without waiting for the KDC */
	ck_assert_int_eq(atomic_load(&g_ran), 0);
	ck_assert(wait_for(&g_ran)); /* the leg came back from the KDC ... */
	int64_t end = now_ms() + WAIT_MS;
	while (stats().pending_calls != 0 && now_ms() < end)
		sched_yield();
	ck_assert_uint_eq(stats().pending_calls, 0);
	assert_untouched(&o); /* ... and its result was dropped */
	ck_assert_int_eq(atomic_load(&g_callbacks), 0);
	ck_assert_uint_eq(stats().contexts, 0); /* the context it made was deleted */
	atomic_store(&sa__engine_test_hook, NULL);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(setenv("KRB5_CONFIG", realm.krb5_conf, 1), 0);
}
END_TEST

static void users_setup(void)
{
	tl_user_file_set(user_file, TL_REALM_NAME ":alice:" TL_REALM_ALICE_PW "\n");
}

static void users_teardown(void)
{
	atomic_store(&sa__engine_test_hook, NULL);
	teardown();
	tl_user_file_unset(user_file);
}

static Suite *suite(void)
{
	Suite *s = suite_create("krb5_async");
	TCase *tc = tcase_create("slow_kdc");
	tcase_add_checked_fixture(tc, users_setup, users_teardown);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_krb5_async_100_handshakes_through_a_slow_kdc);
	tcase_add_test(tc, test_nego_async_100_handshakes_through_a_slow_kdc);
	tcase_add_test(tc, test_krb5_async_free_while_leg_waits_on_the_kdc);
	return s;
}

int main(void)
{
	(void)pkg_name; /* sspi_testlib.h's, for the test package */
#if defined(SA_HAVE_KRB5) && defined(SA_HAVE_NEGOTIATE)
	if (tl_realm_available()) {
		if (tl_realm_start(&realm) != 0 || tl_proxy_start(&proxy, realm.port, KDC_DELAY_MS) != 0)
			return 1;
		snprintf(slow_conf, sizeof slow_conf, "%s/slow.conf", realm.dir);
		if (tl_realm_write_conf(&realm, proxy.port, slow_conf) != 0)
			return 1;
	}
#endif
	if (realm.kdc_pid == 0)
		printf("check_krb5_async: skipped (no KDC tools or no Kerberos in this build)\n");
	int failed = tl_run_suite(suite());
	tl_proxy_stop(&proxy);
	tl_realm_stop(&realm);
	return failed;
}
