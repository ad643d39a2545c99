/*
 * K6: sspiasync_run(0) can return with a call still queued that a callback
 * queued during that very run; sspiasync.h says run(0) runs "all that are
 * queued, including those queued by callbacks meanwhile".  It returns 0, so
 * a loop such as `while (sspiasync_run(0) > 0)` stops with work queued.
 *
 * When: the callback is one that a synchronous call deferred (the sync
 * call ran the queued call on its way, "their callbacks wait for the next
 * sspiasync_run()").  sa__engine_run() delivers such callbacks only in its
 * final notify_deliver(), after its job loop ended, so a call the callback
 * submits is never taken.  (Callbacks of calls run by the loop itself are
 * delivered inside the loop, and what they submit does run.)
 *
 * Exit 1 when reproduced.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>
#include <stdio.h>

static CredHandle g_new_cred;
static int g_calls;

/* Reinit and queue one more call on the same async context. */
static void resubmit(SspiAsyncContext *a, void *data)
{
	char pkg[] = "SspiAsyncTest";
	(void)data;
	if (g_calls++ > 0)
		return;
	SspiReinitAsyncContext(a);
	SECURITY_STATUS st = SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg, SECPKG_CRED_BOTH, NULL,
								NULL, NULL, NULL, &g_new_cred, NULL);
	printf("callback (in sspiasync_run): resubmitted, 0x%08x\n", (unsigned)st);
}

int main(void)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	char pkg[] = "SspiAsyncTest", target[] = "host/x;legs=3";
	CredHandle cred;
	CtxtHandle ctx;
	unsigned char tok[512], tok2[512];
	SecBuffer ob = {sizeof tok, SECBUFFER_TOKEN, tok}, ob2 = {sizeof tok2, SECBUFFER_TOKEN, tok2};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, od2 = {SECBUFFER_VERSION, 1, &ob2};
	unsigned long attrs, attrs2;
	if (sspiasync_init(&cfg) != SEC_E_OK ||
	    AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_BOTH, NULL, NULL, NULL, NULL, &cred,
				      NULL) != SEC_E_OK ||
	    InitializeSecurityContextA(&cred, NULL, target, 0, 0, 0, NULL, 0, &ctx, &od, &attrs,
				       NULL) != SEC_I_CONTINUE_NEEDED)
		return 2;
	SspiAsyncContext *a = SspiCreateAsyncContext();
	SspiSetAsyncNotifyCallback(a, resubmit, NULL);
	/* A leg queued on ctx (it will fail: no input token; any status will do). */
	SspiInitializeSecurityContextAsyncA(a, NULL, &ctx, target, 0, 0, 0, NULL, 0, &ctx, &od2,
					    &attrs2, NULL);
	/* A synchronous call on ctx runs the queued leg first; its callback waits. */
	SecPkgContext_Sizes sz;
	QueryContextAttributesA(&ctx, SECPKG_ATTR_SIZES, &sz);
	printf("after the sync call: async call status 0x%08x (done, callback deferred)\n",
	       (unsigned)SspiGetAsyncCallStatus(a));
	unsigned n = sspiasync_run(0);
	struct sspiasync_statistics s;
	sspiasync_stats(&s);
	SECURITY_STATUS st = SspiGetAsyncCallStatus(a);
	printf("sspiasync_run(0) returned %u; then status 0x%08x, pending_calls %llu\n", n,
	       (unsigned)st, (unsigned long long)s.pending_calls);
	int bug = st == SEC_I_ASYNC_CALL_PENDING;
	unsigned n2 = sspiasync_run(0);
	printf("a second sspiasync_run(0) ran %u; status 0x%08x\n", n2,
	       (unsigned)SspiGetAsyncCallStatus(a));
	puts(bug ? "K6 REPRODUCED: run(0) left the callback's call queued" : "as documented");
	SspiFreeAsyncContext(a);
	sspiasync_shutdown();
	return bug;
}
