/*
 * K1: an async-context handle (SspiAsyncContext *) and a completion-queue
 * handle (struct sspiasync_cq *) can be the very same word, so a queue
 * handle passed where an async context is expected (or the reverse) is
 * accepted and acts on an unrelated object.  README ("Every bad handle gets
 * one answer ... a handle of another kind ... or of another table") and
 * sspi.h ("a freed or forged one is detected") say it is rejected.
 *
 * Cause: both are one-word handles (slot:24 | generation:24 | check:15 |
 * parity:1) with no kind bits; the async-context table and the queue table
 * of one runtime are created with the same generation floor, so their first
 * entries share (slot 0, generation F) and differ only in the 15-bit keyed
 * check: the words are equal with probability 2^-15 per runtime (observed:
 * about 1 in 40,000 init/shutdown cycles).  g_oneword_floor separates only
 * tables destroyed before, not tables alive together.
 *
 * This program repeats init / create one of each / shutdown until the two
 * words are equal (usually well under 200,000 cycles, a few seconds), then
 * shows the queue handle accepted as an async context.
 * Exit 1 when reproduced, 0 if no collision in 2,000,000 cycles.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	for (unsigned long i = 0; i < 2000000; i++) {
		if (sspiasync_init(&cfg) != SEC_E_OK)
			return 2;
		SspiAsyncContext *a = SspiCreateAsyncContext();
		struct sspiasync_cq *q;
		if (a == NULL || sspiasync_cq_create(&q) != SEC_E_OK)
			return 2;
		if ((uintptr_t)a == (uintptr_t)q) {
			SspiAsyncContext *q_as_a = (SspiAsyncContext *)(uintptr_t)q;
			SECURITY_STATUS st = SspiGetAsyncCallStatus(q_as_a);
			printf("cycle %lu: async context %p and queue %p are the same word\n", i,
			       (void *)a, (void *)q);
			printf("SspiGetAsyncCallStatus(queue handle) = 0x%08x (SEC_E_INVALID_PARAMETER: "
			       "an IDLE async context), documented SEC_E_INVALID_HANDLE 0x80090301\n",
			       (unsigned)st);
			/* Freeing "the queue handle" as an async context frees the async context. */
			SspiFreeAsyncContext(q_as_a);
			printf("after SspiFreeAsyncContext(queue handle): status of the async context = "
			       "0x%08x (it is gone), queue fd = %d (the queue lives)\n",
			       (unsigned)SspiGetAsyncCallStatus(a), sspiasync_cq_fd(q));
			sspiasync_cq_destroy(q);
			sspiasync_shutdown();
			puts("K1 REPRODUCED");
			return 1;
		}
		SspiFreeAsyncContext(a);
		sspiasync_cq_destroy(q);
		sspiasync_shutdown();
	}
	puts("no collision");
	return 0;
}
