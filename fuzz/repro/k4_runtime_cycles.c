/*
 * K4: a process can initialise the library only 4,194,303 times.  After
 * that many sspiasync_init()/sspiasync_shutdown() cycles (explicit or
 * implicit, by the first SSPI call after a shutdown) every sspiasync_init()
 * and every call that would initialise the library answer
 * SEC_E_INSUFFICIENT_MEMORY, for the rest of the process.  Found when
 * README only said the next SSPI call or sspiasync_init() after a shutdown
 * "starts afresh" (handles.h documents 2^24 - 2 table instances per process;
 * each runtime makes 4 tables: credentials, contexts, async contexts,
 * completion queues).  Documented since 614a379 (sspiasync_init in
 * sspiasync.h): a limit by design, so this program keeps exiting 1.
 *
 * A long-running service that shuts the library down and restarts it (for
 * example on reconfiguration, or a fuzzer) hits it; at 10^6 cycles per
 * second it takes 4 seconds.  Exit 1 when reproduced (about 3 s).
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>
#include <stdio.h>

int main(void)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	for (unsigned long i = 0; i < 5000000; i++) {
		SECURITY_STATUS st = sspiasync_init(&cfg);
		if (st != SEC_E_OK) {
			CredHandle c;
			char pkg[] = "SspiAsyncTest";
			SECURITY_STATUS st2 = AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_BOTH, NULL,
									NULL, NULL, NULL, &c, NULL);
			printf("cycle %lu: sspiasync_init = 0x%08x; an implicitly initialising "
			       "AcquireCredentialsHandleA = 0x%08x\n", i, (unsigned)st, (unsigned)st2);
			puts("K4 REPRODUCED");
			return 1;
		}
		sspiasync_shutdown();
	}
	puts("no limit reached");
	return 0;
}
