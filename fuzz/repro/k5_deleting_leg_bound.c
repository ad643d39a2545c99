/*
 * K5: a leg submitted on a context whose async delete is queued (DELETING)
 * is refused with SEC_E_INSUFFICIENT_MEMORY at the pending-call bound,
 * although sspi.h and README say SEC_E_INSUFFICIENT_MEMORY is "never for
 * delete and free, nor for a call with a bad handle, which completes
 * SEC_E_INVALID_HANDLE and takes no memory", and that from the moment a
 * delete is queued "the handle admits no new call (each completes
 * SEC_E_INVALID_HANDLE)".  The same leg on a context whose delete already
 * ran is queued (SEC_E_OK, completes SEC_E_INVALID_HANDLE).
 *
 * Cause: SspiInitializeSecurityContextAsync/SspiAcceptSecurityContextAsync
 * resolve the context handle with sa_htable_acquire, which succeeds for a
 * DELETING context (still in the table until its delete runs), so the call
 * becomes an ordinary leg job (allocated, not exempt) instead of a status
 * job; the bound then refuses it.
 *
 * Build: cc -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude \
 *          fuzz/repro/k5_deleting_leg_bound.c build/libsspiasync.a -pthread
 * Exit 0 when the library behaves as documented, 1 when the issue shows.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>
#include <stdio.h>

int main(void)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;      /* no-thread mode: deterministic */
	cfg.max_pending = 1;  /* the pending-call bound */
	char pkg[] = "SspiAsyncTest", target[] = "host/x;legs=3";
	CredHandle cred;
	CtxtHandle ctx;
	unsigned char tok[512];
	SecBuffer ob = {sizeof tok, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	unsigned long attrs;
	if (sspiasync_init(&cfg) != SEC_E_OK ||
	    AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_BOTH, NULL, NULL, NULL, NULL, &cred,
				      NULL) != SEC_E_OK ||
	    InitializeSecurityContextA(&cred, NULL, target, 0, 0, 0, NULL, 0, &ctx, &od, &attrs,
				       NULL) != SEC_I_CONTINUE_NEEDED)
		return 2;
	SspiAsyncContext *del = SspiCreateAsyncContext(), *busy = SspiCreateAsyncContext(),
			 *leg = SspiCreateAsyncContext();
	/* 1. The delete is queued: ctx is DELETING. */
	SECURITY_STATUS d = SspiDeleteSecurityContextAsync(del, &ctx);
	/* 2. One bounded call fills the pending-call bound (max_pending = 1). */
	CtxtHandle other;
	unsigned char tok2[512];
	SecBuffer ob2 = {sizeof tok2, SECBUFFER_TOKEN, tok2};
	SecBufferDesc od2 = {SECBUFFER_VERSION, 1, &ob2};
	unsigned long attrs2;
	SECURITY_STATUS b = SspiInitializeSecurityContextAsyncA(busy, &cred, NULL, target, 0, 0, 0,
								NULL, 0, &other, &od2, &attrs2, NULL);
	/* 3. A leg on the DELETING handle: documented SEC_E_OK, then
	 *    completion SEC_E_INVALID_HANDLE. */
	unsigned char tok3[512];
	SecBuffer ob3 = {sizeof tok3, SECBUFFER_TOKEN, tok3};
	SecBufferDesc od3 = {SECBUFFER_VERSION, 1, &ob3};
	unsigned long attrs3;
	SECURITY_STATUS l = SspiInitializeSecurityContextAsyncA(leg, NULL, &ctx, target, 0, 0, 0, NULL,
								0, &ctx, &od3, &attrs3, NULL);
	sspiasync_run(0);
	SECURITY_STATUS lc = SspiGetAsyncCallStatus(leg);
	printf("async delete queued: 0x%08x; bounded call: 0x%08x\n", (unsigned)d, (unsigned)b);
	printf("leg on the DELETING handle at the bound: submission 0x%08x (documented 0x00000000), "
	       "then status 0x%08x (documented 0x80090301)\n", (unsigned)l, (unsigned)lc);
	int bug = l == SEC_E_INSUFFICIENT_MEMORY;
	puts(bug ? "K5 REPRODUCED: refused with SEC_E_INSUFFICIENT_MEMORY" : "as documented");
	SspiFreeAsyncContext(del);
	SspiFreeAsyncContext(busy);
	SspiFreeAsyncContext(leg);
	sspiasync_shutdown();
	return bug;
}
