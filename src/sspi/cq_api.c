/*
 * src/sspi/cq_api.c - completion queues (sspiasync.h): the SSPI face of the
 * engine's queues in src/async/cq.c.  A queue's handle is its engine
 * one-word handle, as SspiAsyncContext is.
 */
#include "sspi/sspi_int.h"

#include <limits.h>

static uintptr_t cq_word(const struct sspiasync_cq *cq)
{
	return (uintptr_t)cq;
}

SECURITY_STATUS sspiasync_cq_create(struct sspiasync_cq **out)
{
	if (out == NULL)
		return SEC_E_INVALID_PARAMETER;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	uintptr_t w;
	int rc = sa__cq_create(rt->engine, &w);
	if (rc == SA_OK)
		*out = (struct sspiasync_cq *)w;
	return sa__rt_exit(NULL, rc == SA_OK ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY);
}

SECURITY_STATUS sspiasync_cq_destroy(struct sspiasync_cq *cq)
{
	struct sa_rt_entry in;
	if (cq == NULL)
		return SEC_E_INVALID_HANDLE;
	SECURITY_STATUS st = sa__rt_enter_acall(&in);
	if (st != SEC_E_OK)
		return st;
	int rc = sa__cq_destroy(in.rt->engine, cq_word(cq));
	st = rc == SA_OK ? SEC_E_OK : rc == SA_EBUSY ? SEC_E_INVALID_PARAMETER : SEC_E_INVALID_HANDLE;
	sa__rt_leave_acall(&in, st == SEC_E_INVALID_HANDLE);
	return st;
}

int sspiasync_cq_fd(struct sspiasync_cq *cq)
{
	struct sa_rt_entry in;
	if (cq == NULL || sa__rt_enter_acall(&in) != SEC_E_OK)
		return -1;
	int fd = sa__cq_fd(in.rt->engine, cq_word(cq));
	sa__rt_leave_acall(&in, fd < 0);
	return fd;
}

SECURITY_STATUS sspiasync_cq_bind(SspiAsyncContext *context, struct sspiasync_cq *cq)
{
	struct sa_rt_entry in;
	if (context == NULL)
		return SEC_E_INVALID_HANDLE;
	SECURITY_STATUS st = sa__rt_enter_acall(&in);
	if (st != SEC_E_OK)
		return st;
	int rc = sa__acall_bind(in.rt->engine, (uintptr_t)context, cq_word(cq));
	st = rc == SA_OK ? SEC_E_OK : rc == SA_EBUSY ? SEC_E_INVALID_PARAMETER : SEC_E_INVALID_HANDLE;
	sa__rt_leave_acall(&in, st == SEC_E_INVALID_HANDLE);
	return st;
}

/* What the engine's records become: the same three fields. */
_Static_assert(sizeof(struct sspiasync_completion) == sizeof(struct sa_cq_record),
	       "completion records match");

int sspiasync_cq_reap(struct sspiasync_cq *cq, struct sspiasync_completion *out, unsigned n)
{
	if (cq == NULL)
		return SEC_E_INVALID_HANDLE;
	if ((out == NULL && n != 0) || sa__engine_in_callback())
		return SEC_E_INVALID_PARAMETER;
	if (n > INT_MAX)
		n = INT_MAX;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	int got = 0;
	do { /* at least once: with n == 0 it still checks the queue */
		struct sa_cq_record rec[32];
		unsigned want = n - (unsigned)got < 32 ? n - (unsigned)got : 32;
		long k = sa__cq_reap(rt->engine, cq_word(cq), rec, want);
		if (k < 0) {
			sa__rt_leave(rt, got == 0);
			return got != 0 ? got : SEC_E_INVALID_HANDLE;
		}
		for (long i = 0; i < k; i++)
			out[got + i] = (struct sspiasync_completion){
				(SspiAsyncContext *)rec[i].acall, rec[i].data, rec[i].status};
		got += (int)k;
		if ((unsigned)k < want)
			break;
	} while ((unsigned)got < n);
	sa__rt_exit(NULL, SEC_E_OK);
	return got;
}
