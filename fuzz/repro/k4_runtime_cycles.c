/*
 * K4: a process could initialise the library only 4,194,303 times.  After
 * that many sspiasync_init()/sspiasync_shutdown() cycles (explicit or
 * implicit) every sspiasync_init() and every call that would initialise the
 * library answered SEC_E_INSUFFICIENT_MEMORY, for the rest of the process:
 * each runtime used two-word table instances, of which a process had 2^24 - 2,
 * never reused.  Issue 19 (item 6) found the same end by async-context
 * churn: with max_async = 1, 16,777,214 SspiCreateAsyncContext /
 * SspiFreeAsyncContext cycles ran the one slot to its last generation, and
 * after the next shutdown no one-word table could be made again.
 *
 * Fixed in issue 19: generations, two-word instances and the one-word
 * generation floor wrap instead of running out; a released value comes back
 * only within the bound include/sspiasync/handles.h states ("Reuse bound"),
 * and each table has its own check key, so a value of an earlier runtime is
 * still rejected except with probability 2^-31 (two-word) or 2^-15
 * (one-word).
 *
 * This program runs 4,400,000 init/shutdown cycles (past the old limit),
 * then 2^24 + 2 create/free cycles of one async context with max_async = 1
 * (past the old generation limit) followed by shutdown and init, checking
 * that init and an implicitly initialising call work throughout.
 * Exit 1 when reproduced, 0 when the library keeps working (5-40 s: about
 * 200,000 init/shutdown cycles per second, fewer on a loaded machine).
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>
#include <stdio.h>

static int reproduced(const char *when, unsigned long i, SECURITY_STATUS st)
{
	CredHandle c;
	char pkg[] = "SspiAsyncTest";
	SECURITY_STATUS st2 = AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_BOTH, NULL, NULL,
							NULL, NULL, &c, NULL);
	printf("%s %lu: sspiasync_init = 0x%08x; an implicitly initialising "
	       "AcquireCredentialsHandleA = 0x%08x\n", when, i, (unsigned)st, (unsigned)st2);
	puts("K4 REPRODUCED");
	return 1;
}

int main(void)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	for (unsigned long i = 0; i < 4400000; i++) {
		SECURITY_STATUS st = sspiasync_init(&cfg);
		if (st != SEC_E_OK)
			return reproduced("init/shutdown cycle", i, st);
		sspiasync_shutdown();
	}
	puts("4,400,000 init/shutdown cycles: init still works");

	cfg.max_async = 1;
	SECURITY_STATUS st = sspiasync_init(&cfg);
	if (st != SEC_E_OK)
		return reproduced("before the churn", 0, st);
	const unsigned long churn = (1ul << 24) + 2;
	for (unsigned long i = 0; i < churn; i++) {
		SspiAsyncContext *a = SspiCreateAsyncContext();
		if (a == NULL) {
			printf("async-context cycle %lu: SspiCreateAsyncContext = NULL\n", i);
			puts("K4 REPRODUCED");
			return 1;
		}
		SspiFreeAsyncContext(a);
	}
	sspiasync_shutdown();
	st = sspiasync_init(&cfg);
	if (st != SEC_E_OK)
		return reproduced("after async-context churn of", churn, st);
	sspiasync_shutdown();
	printf("%lu async-context cycles with max_async = 1, then shutdown: init still works\n",
	       churn);
	puts("no limit reached");
	return 0;
}
