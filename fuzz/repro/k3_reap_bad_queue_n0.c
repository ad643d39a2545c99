/*
 * K3: sspiasync_cq_reap(bad_queue, out, 0) returns 0, as for a good queue
 * with nothing waiting; sspiasync.h says it "Returns how many (0 when none
 * waits), or a negative status: SEC_E_INVALID_HANDLE for a bad queue".
 * With n > 0 the same queue gives SEC_E_INVALID_HANDLE.
 *
 * Cause: sspiasync_cq_reap (src/sspi/cq_api.c) validates the queue only in
 * its reap loop, which does not run when n == 0.
 * Exit 1 when reproduced.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	struct sspiasync_cq *q;
	struct sspiasync_completion c[4];
	if (sspiasync_init(&cfg) != SEC_E_OK || sspiasync_cq_create(&q) != SEC_E_OK)
		return 2;
	if (sspiasync_cq_destroy(q) != SEC_E_OK)
		return 2;
	struct sspiasync_cq *forged = (struct sspiasync_cq *)(uintptr_t)0x1234567;
	int a = sspiasync_cq_reap(q, c, 0), b = sspiasync_cq_reap(q, NULL, 0),
	    f = sspiasync_cq_reap(forged, c, 0), n1 = sspiasync_cq_reap(q, c, 1);
	printf("reap(destroyed queue, out, 0)  = %d (documented %d)\n", a, (int)SEC_E_INVALID_HANDLE);
	printf("reap(destroyed queue, NULL, 0) = %d (documented %d)\n", b, (int)SEC_E_INVALID_HANDLE);
	printf("reap(forged queue, out, 0)     = %d (documented %d)\n", f, (int)SEC_E_INVALID_HANDLE);
	printf("reap(destroyed queue, out, 1)  = %d\n", n1);
	sspiasync_shutdown();
	int bug = a == 0 || b == 0 || f == 0;
	puts(bug ? "K3 REPRODUCED" : "as documented");
	return bug;
}
