/*
 * src/sspi/async_api.c - the Sspi*Async family: async-call contexts and the
 * five asynchronous operations, on the engine of src/async/.
 *
 * What is checked when (sspi.h, "Common contract"): structural errors, the
 * async context and the package name at submission (nothing queued);
 * security-context and credential handles are resolved and referenced at
 * submission, and a bad one completes SEC_E_INVALID_HANDLE without the
 * package; admission (out of sequence, deleting) is decided when the call
 * reaches the head of its context's queue.  Inputs are copied at
 * submission; outputs are written under the engine's lock just before the
 * status is published, and never once the async context was freed.
 */
#include "sspi/sspi_int.h"

#include "util/alloc.h"

#include <stddef.h>
#include <string.h>


static uintptr_t acall_word(const SspiAsyncContext *c)
{
	return (uintptr_t)c;
}

/* The one mapping of the engine's submission results. */
static SECURITY_STATUS submit_status(int rc)
{
	switch (rc) {
	case SA_OK: return SEC_E_OK;
	case SA_EINVAL: return SEC_E_INVALID_PARAMETER;   /* PENDING or DONE without reinit */
	case SA_ENOSPC: return SEC_E_INSUFFICIENT_MEMORY; /* the pending-call bound */
	default: return sa__status_from_sa(rc);
	}
}

/* --- async-call contexts --------------------------------------------------- */

SspiAsyncContext *SspiCreateAsyncContext(void)
{
	struct sa_runtime *rt;
	if (sa__rt_enter(&rt) != SEC_E_OK)
		return NULL;
	uintptr_t w = 0;
	int rc = sa__acall_create(rt->engine, &w);
	sa__rt_exit(NULL, SEC_E_OK); /* managing async contexts is not a counted call */
	return rc == SA_OK ? (SspiAsyncContext *)w : NULL;
}

void SspiFreeAsyncContext(SspiAsyncContext *Handle)
{
	struct sa_rt_entry in;
	if (Handle == NULL || sa__rt_enter_acall(&in) != SEC_E_OK)
		return;
	int rc = sa__acall_free(in.rt->engine, acall_word(Handle));
	sa__rt_leave_acall(&in, rc == SA_EBADHANDLE);
}

NTSTATUS SspiReinitAsyncContext(SspiAsyncContext *Handle)
{
	struct sa_rt_entry in;
	if (sa__rt_enter_acall(&in) != SEC_E_OK)
		return STATUS_INVALID_HANDLE;
	int rc = sa__acall_reinit(in.rt->engine, acall_word(Handle));
	sa__rt_leave_acall(&in, rc == SA_EBADHANDLE);
	return rc == SA_OK ? STATUS_SUCCESS
			   : rc == SA_EBUSY ? STATUS_INVALID_DEVICE_STATE : STATUS_INVALID_HANDLE;
}

SECURITY_STATUS SspiSetAsyncNotifyCallback(SspiAsyncContext *Context, SspiAsyncNotifyCallback Callback,
					   void *CallbackData)
{
	struct sa_rt_entry in;
	SECURITY_STATUS st = sa__rt_enter_acall(&in);
	if (st != SEC_E_OK)
		return st;
	int rc = sa__acall_set_callback(in.rt->engine, acall_word(Context), (void (*)(void))Callback,
				       CallbackData);
	st = rc == SA_OK ? SEC_E_OK : rc == SA_EBUSY ? SEC_E_INVALID_PARAMETER : SEC_E_INVALID_HANDLE;
	sa__rt_leave_acall(&in, st == SEC_E_INVALID_HANDLE);
	return st;
}

BOOLEAN SspiAsyncContextRequiresNotify(SspiAsyncContext *AsyncContext)
{
	struct sa_rt_entry in;
	if (sa__rt_enter_acall(&in) != SEC_E_OK)
		return FALSE;
	int rc = sa__acall_requires_notify(in.rt->engine, acall_word(AsyncContext));
	sa__rt_leave_acall(&in, rc == SA_EBADHANDLE);
	return rc == 1 ? TRUE : FALSE;
}

SECURITY_STATUS SspiGetAsyncCallStatus(SspiAsyncContext *Handle)
{
	struct sa_rt_entry in;
	SECURITY_STATUS st = sa__rt_enter_acall(&in);
	if (st != SEC_E_OK)
		return st;
	int32_t status = SEC_E_INTERNAL_ERROR;
	int rc = sa__acall_status(in.rt->engine, acall_word(Handle), &status);
	st = rc == SA_OK ? status : rc == SA_EINVAL ? SEC_E_INVALID_PARAMETER : SEC_E_INVALID_HANDLE;
	sa__rt_leave_acall(&in, rc == SA_EBADHANDLE);
	return st;
}

/* The start of every submission: enter the runtime.  SEC_E_OK, or the
 * final status with nothing held.  Whether @ac can take the call is decided
 * by the submission itself, in one hold of the engine lock. */
static SECURITY_STATUS async_begin(SspiAsyncContext *ac, struct sa_runtime **rt)
{
	if (ac == NULL)
		return SEC_E_INVALID_HANDLE;
	return sa__rt_enter(rt);
}

/* A call with a bad handle: queued, completes SEC_E_INVALID_HANDLE without
 * the package (counted by the engine now: nothing can change that outcome). */
static SECURITY_STATUS stale_submit(struct sa_runtime *rt, uintptr_t w)
{
	int rc = sa__engine_submit_status(rt->engine, w, SEC_E_INVALID_HANDLE, NULL, NULL, NULL);
	if (rc != SA_OK)
		return sa__rt_exit(rt, submit_status(rc));
	return sa__rt_exit(NULL, SEC_E_OK);
}

/* The start of a call that claims its async context before it changes
 * anything (delete, free credentials: issue 19 #14): SEC_E_OK with *rt
 * entered and *res reserved, after which queueing cannot fail; or the final
 * status with nothing held and nothing done. */
static SECURITY_STATUS reserved_begin(SspiAsyncContext *ac, struct sa_runtime **rt,
				      struct sa_acall **res)
{
	if (ac == NULL)
		return SEC_E_INVALID_HANDLE;
	SECURITY_STATUS st = sa__rt_enter(rt);
	if (st != SEC_E_OK)
		return st;
	int rc = sa__engine_reserve((*rt)->engine, acall_word(ac), res);
	if (rc != SA_OK)
		return sa__rt_exit(*rt, submit_status(rc));
	return SEC_E_OK;
}

/* Complete the reserved call @res with @status, on @serial (NULL: on its
 * own; @release(@owner) when done), counted by the engine now. */
static SECURITY_STATUS reserved_status(struct sa_runtime *rt, struct sa_acall *res,
				       SECURITY_STATUS status, struct sa_serial *serial,
				       void (*release)(void *owner), void *owner)
{
	sa__engine_submit_status_reserved(rt->engine, res, status, serial, release, owner);
	return sa__rt_exit(NULL, SEC_E_OK);
}

/* --- ISC and ASC ------------------------------------------------------------- */

/* Input bytes (token, target name, channel bindings) a leg job carries in
 * its async context's room; more are copied to the heap. */
#define LEG_INLINE 64

/* A leg's job, in its async context's room (A8 in src/async/async_int.h).
 * Its inputs, copied at submission, are laid out token, target name (with
 * its NUL), bindings: in inl[] when they fit, else in heap; the leg's
 * pointers to them are set by run() (the job was copied into the room
 * after they were laid out). */
struct leg_job {
	struct sa_job job;
	struct sa_runtime *rt;
	struct sa_leg leg;
	unsigned char *heap;    /* the inputs, allocated, or NULL: in inl[] */
	uint32_t target_len;    /* bytes of the target name with its NUL, or 0 */
	unsigned char inl[LEG_INLINE];
};

static void leg_job_copy_out(struct sa_job *job)
{
	struct leg_job *j = CONTAINER_OF(job, struct leg_job, job);
	sa__leg_output(j->rt, &j->leg);
}

/* Point the leg at its inputs, where they are now. */
static void leg_job_inputs(struct leg_job *j)
{
	struct sa_leg *l = &j->leg;
	const unsigned char *base = j->heap != NULL ? j->heap : j->inl;
	l->in = l->in_len != 0 ? base : NULL;
	l->target = j->target_len != 0 ? (const char *)base + l->in_len : NULL;
	l->bindings = l->bindings_len != 0 ? base + l->in_len + j->target_len : NULL;
}

/* The leg, its output in the worker's scratch if @env has room (W1), kept
 * until release. */
static void leg_job_run(struct sa_job *job, const struct sa_job_env *env)
{
	struct leg_job *j = CONTAINER_OF(job, struct leg_job, job);
	struct sa_leg *l = &j->leg;
	leg_job_inputs(j);
	sa__leg_perform(j->rt, l, env);
	if (l->made && l->first)
		job->made = l->ctx->self; /* deleted by undo if the call is abandoned (A7) */
	sa__job_done(job, l->status, l->made); /* abandoned: the engine undoes what was made */
}

/* A7: the call was abandoned; the context its first leg made goes (the
 * caller may have learnt and deleted it already: then it is not found). */
static void leg_job_undo(void *owner, struct sa_handle made)
{
	CtxtHandle h;
	sa__handle_to(&h, made);
	SECURITY_STATUS st = sa__ctx_delete(owner, &h);
	(void)st;
}

static void leg_job_cancel(struct sa_job *job, int32_t status)
{
	struct leg_job *j = CONTAINER_OF(job, struct leg_job, job);
	if (status != 0)
		sa__job_done(job, status, 0);
	j->leg.made = 0;
}

/* On the engine's copy of the finished job (A8), after it is done with the
 * job's queue (E5): drop the context or credential reference and free the
 * inputs' copy. */
static void leg_job_release(struct sa_job *job)
{
	struct leg_job *j = CONTAINER_OF(job, struct leg_job, job);
	sa__leg_release(j->rt, &j->leg);
	sa__free(j->heap);
}

static const struct sa_job_ops leg_job_ops = {
	.run = leg_job_run,
	.cancel = leg_job_cancel,
	.copy_out = leg_job_copy_out,
	.release = leg_job_release,
	.undo = leg_job_undo,
	.flags = 0,
};

static void ctx_put_owner(void *owner);

/* A call on a context whose delete was accepted: it completes
 * SEC_E_INVALID_HANDLE in its turn on the context's queue, which the
 * reference @ctx carries (dropped when it completes) keeps alive; no memory,
 * exempt from the bound.  Returns the submission's status. */
static SECURITY_STATUS deleting_submit(struct sa_runtime *rt, uintptr_t w, struct sa_ctx *ctx)
{
	int rc = sa__engine_submit_status(rt->engine, w, SEC_E_INVALID_HANDLE, &ctx->serial,
					 ctx_put_owner, ctx);
	if (rc != SA_OK) {
		sa__ctx_put(rt, ctx);
		return sa__rt_exit(rt, submit_status(rc));
	}
	return sa__rt_exit(NULL, SEC_E_OK);
}

static SECURITY_STATUS leg_submit(SspiAsyncContext *ac, enum sa_side side, PCredHandle cred_h,
				  PCtxtHandle ctx_h, const char *target, unsigned long req,
				  PSecBufferDesc in, PCtxtHandle new_h, PSecBufferDesc out,
				  unsigned long *attrs, PTimeStamp expiry)
{
	if (ac == NULL)
		return SEC_E_INVALID_HANDLE;
	SecBuffer *out_tok;
	SECURITY_STATUS st = sa__leg_check(side, cred_h, ctx_h, req, in, new_h, out, attrs, &out_tok);
	if (st == SEC_E_INVALID_PARAMETER)
		return st;
	int no_cred = st == SEC_E_INVALID_HANDLE; /* a first leg without a credential */
	struct sa_runtime *rt;
	int rc;
	if ((st = async_begin(ac, &rt)) != SEC_E_OK)
		return st;

	if (no_cred)
		return stale_submit(rt, acall_word(ac)); /* a bad handle completes so (sspi.h) */
	/* Handles first, with no memory taken: a bad one completes
	 * SEC_E_INVALID_HANDLE, and so does a context whose delete was
	 * accepted, in its turn on the context's queue (exempt from the bound). */
	const SecBuffer *in_tok = in != NULL ? sa__desc_find(in, SECBUFFER_TOKEN) : NULL;
	size_t in_len = in_tok != NULL && in_tok->pvBuffer != NULL ? in_tok->cbBuffer : 0;
	/* The job is built where it is copied from (not zeroed whole: inl[]
	 * holds only what is copied in). */
	struct leg_job j;
	j.job = (struct sa_job){.ops = &leg_job_ops, .owner = rt};
	j.rt = rt;
	j.heap = NULL;
	struct sa_leg *leg = &j.leg;
	sa__leg_init(leg, side, NULL, in_len, NULL, req, out_tok, new_h, attrs, expiry);
	sa__leg_bindings(leg, in);
	const unsigned char *bind = leg->bindings;
	size_t bind_len = leg->bindings_len;
	if (sa__leg_resolve(rt, leg, cred_h, ctx_h) != SEC_E_OK)
		return stale_submit(rt, acall_word(ac));
	if (!leg->first && sa__ctx_deleting(leg->ctx))
		return deleting_submit(rt, acall_word(ac), leg->ctx); /* the reference goes with it */
	size_t target_len = target != NULL ? strlen(target) + 1 : 0;
	size_t total = in_len + target_len + bind_len;
	unsigned char *copy = j.inl;
	if (total > sizeof j.inl) {
		if ((j.heap = sa__malloc(total)) == NULL) {
			sa__leg_release(rt, &j.leg);
			return sa__rt_exit(rt, SEC_E_INSUFFICIENT_MEMORY);
		}
		copy = j.heap;
	}
	if (in_len != 0)
		memcpy(copy, in_tok->pvBuffer, in_len);
	if (target_len != 0)
		memcpy(copy + in_len, target, target_len);
	if (bind_len != 0)
		memcpy(copy + in_len + target_len, bind, bind_len);
	j.target_len = (uint32_t)target_len;
	j.leg.in = NULL; /* set by run() where the inputs are then (leg_job_inputs) */
	j.leg.target = NULL;
	j.leg.bindings = NULL;
	j.job.serial = j.leg.first ? NULL : &j.leg.ctx->serial;
	size_t size = j.heap != NULL ? offsetof(struct leg_job, inl) : offsetof(struct leg_job, inl) + total;
	rc = sa__engine_submit(rt->engine, acall_word(ac), &j.job, size);
	if (rc != SA_OK) {
		sa__leg_release(rt, &j.leg);
		sa__free(j.heap);
		return sa__rt_exit(rt, submit_status(rc));
	}
	return sa__rt_exit(NULL, SEC_E_OK); /* counted when it completes */
}

SECURITY_STATUS SspiInitializeSecurityContextAsyncA(SspiAsyncContext *AsyncContext,
						    PCredHandle phCredential, PCtxtHandle phContext,
						    LPSTR pszTargetName, unsigned long fContextReq,
						    unsigned long Reserved1, unsigned long TargetDataRep,
						    PSecBufferDesc pInput, unsigned long Reserved2,
						    PCtxtHandle phNewContext, PSecBufferDesc pOutput,
						    unsigned long *pfContextAttr, PTimeStamp ptsExpiry)
{
	(void)TargetDataRep;
	if (AsyncContext != NULL && (Reserved1 != 0 || Reserved2 != 0))
		return SEC_E_INVALID_PARAMETER;
	return leg_submit(AsyncContext, SA_SIDE_INITIATOR, phCredential, phContext, pszTargetName,
			  fContextReq, pInput, phNewContext, pOutput, pfContextAttr, ptsExpiry);
}

SECURITY_STATUS SspiAcceptSecurityContextAsync(SspiAsyncContext *AsyncContext,
					       PCredHandle phCredential, PCtxtHandle phContext,
					       PSecBufferDesc pInput, unsigned long fContextReq,
					       unsigned long TargetDataRep, PCtxtHandle phNewContext,
					       PSecBufferDesc pOutput, unsigned long *pfContextAttr,
					       PTimeStamp ptsExpiry)
{
	(void)TargetDataRep;
	return leg_submit(AsyncContext, SA_SIDE_ACCEPTOR, phCredential, phContext, NULL,
			  fContextReq, pInput, phNewContext, pOutput, pfContextAttr, ptsExpiry);
}

/* --- delete ------------------------------------------------------------------ */

/* A delete's job, in its async context's room (A8): tear down, then
 * publish.  It runs even when its async context was freed (fire-and-forget)
 * and at shutdown. */
struct delete_job {
	struct sa_job job;
	struct sa_ctx *ctx; /* referenced at submission */
};

static void delete_job_run(struct sa_job *job, const struct sa_job_env *env)
{
	struct delete_job *j = CONTAINER_OF(job, struct delete_job, job);
	(void)env;
	sa__ctx_teardown(job->owner, j->ctx);
	sa__job_done(job, SEC_E_OK, 0); /* abandoned: the delete happened all the same (counted so) */
}

static void ctx_put_owner(void *owner)
{
	struct sa_ctx *ctx = owner;
	sa__ctx_put(ctx->rt, ctx);
}

static void delete_job_cancel(struct sa_job *job, int32_t status)
{
	(void)status;
	delete_job_run(job, NULL);
}

static void delete_job_release(struct sa_job *job)
{
	/* Drops the reference taken at submission; may free the context. */
	struct delete_job *j = CONTAINER_OF(job, struct delete_job, job);
	sa__ctx_put(job->owner, j->ctx);
}

static const struct sa_job_ops delete_job_ops = {
	.run = delete_job_run,
	.cancel = delete_job_cancel,
	.release = delete_job_release,
	.flags = SA_JOB_EXEMPT,
};

/*
 * Every outcome says whether the context still exists (sspi.h): the async
 * context is claimed first, so once anything is done to the security
 * context the call is queued and cannot fail.  SEC_E_OK: queued; the
 * context is deleted (DELETING at once), or the handle was stale and the
 * call completes SEC_E_INVALID_HANDLE.  Any other status: nothing was done,
 * the context is as it was.
 */
SECURITY_STATUS SspiDeleteSecurityContextAsync(SspiAsyncContext *AsyncContext, PCtxtHandle phContext)
{
	struct sa_runtime *rt;
	struct sa_acall *res;
	SECURITY_STATUS st = reserved_begin(AsyncContext, &rt, &res);
	if (st != SEC_E_OK)
		return st;
	struct sa_ctx *ctx = NULL;
	if (sa__ctx_get(rt, phContext, &ctx) != SEC_E_OK)
		return reserved_status(rt, res, SEC_E_INVALID_HANDLE, NULL, NULL, NULL);
	/* DELETING from now on: later calls complete SEC_E_INVALID_HANDLE, and
	 * so do the legs queued before that have not started. */
	if (sa__ctx_mark_deleting(ctx) != SEC_E_OK) {
		/* Already being deleted: completes so in its turn on the
		 * context's queue, which the reference keeps alive. */
		return reserved_status(rt, res, SEC_E_INVALID_HANDLE, &ctx->serial, ctx_put_owner,
				       ctx);
	}
	struct delete_job j = {.job = {.ops = &delete_job_ops, .serial = &ctx->serial, .owner = rt},
			       .ctx = ctx};
	sa__engine_submit_reserved(rt->engine, res, &j.job, sizeof j);
	return sa__rt_exit(NULL, SEC_E_OK); /* counted when it completes */
}

/* --- credentials ------------------------------------------------------------- */

/* As the delete: the async context is claimed before the credential is
 * freed, so SEC_E_OK means queued (the completion says whether the handle
 * was live) and any other status means nothing was done. */
SECURITY_STATUS SspiFreeCredentialsHandleAsync(SspiAsyncContext *AsyncContext, PCredHandle phCredential)
{
	struct sa_runtime *rt;
	struct sa_acall *res;
	SECURITY_STATUS st = reserved_begin(AsyncContext, &rt, &res);
	if (st != SEC_E_OK)
		return st;
	/* Invalid at once, as the synchronous free; the completion reports it. */
	int rc = phCredential != NULL ? sa_htable_remove(rt->creds, sa__handle_from(phCredential))
				      : SA_EBADHANDLE;
	return reserved_status(rt, res, rc == SA_OK ? SEC_E_OK : SEC_E_INVALID_HANDLE, NULL, NULL,
			       NULL);
}

struct ach_job {
	struct sa_job job;
	struct sa_runtime *rt;
	const struct sa_package *pkg;
	char *principal;
	unsigned long use;
	int has_identity;
	struct sa_pkg_identity identity;
	PCredHandle out_h;
	PTimeStamp out_expiry;
	struct sa_handle h;
	int64_t expiry;
};

static void ach_job_copy_out(struct sa_job *job)
{
	struct ach_job *j = CONTAINER_OF(job, struct ach_job, job);
	sa__handle_to(j->out_h, j->h);
	sa__timestamp_set(j->out_expiry, j->expiry);
}

static void ach_job_run(struct sa_job *job, const struct sa_job_env *env)
{
	struct ach_job *j = CONTAINER_OF(job, struct ach_job, job);
	(void)env;
	SECURITY_STATUS st = sa__cred_acquire(j->rt, j->pkg, j->principal, j->use,
					      j->has_identity ? &j->identity : NULL, &j->h, &j->expiry);
	if (st == SEC_E_OK)
		job->made = j->h; /* freed by undo if the call is abandoned (A7) */
	sa__job_done(job, st, st == SEC_E_OK); /* counted with @st by the engine, abandoned or not */
}

/* A7: the call was abandoned; nobody can learn its credential's handle. */
static void ach_job_undo(void *owner, struct sa_handle made)
{
	struct sa_runtime *rt = owner;
	int rc = sa_htable_remove(rt->creds, made);
	(void)rc; /* already freed by a caller who read the output */
}

static void ach_job_cancel(struct sa_job *job, int32_t status)
{
	if (status != 0)
		sa__job_done(job, status, 0);
}

/* On the engine's copy of the finished job (A8), or on the prototype when
 * the submission failed. */
static void ach_job_release(struct sa_job *job)
{
	struct ach_job *j = CONTAINER_OF(job, struct ach_job, job);
	sa__free(j->principal);
	sa__identity_free(&j->identity);
}

static const struct sa_job_ops ach_job_ops = {
	.run = ach_job_run,
	.cancel = ach_job_cancel,
	.copy_out = ach_job_copy_out,
	.release = ach_job_release,
	.undo = ach_job_undo,
	.flags = 0,
};

SECURITY_STATUS SspiAcquireCredentialsHandleAsyncA(SspiAsyncContext *AsyncContext, LPSTR pszPrincipal,
						   LPSTR pszPackage, unsigned long fCredentialUse,
						   void *pvLogonId, void *pAuthData,
						   SEC_GET_KEY_FN pGetKeyFn, void *pvGetKeyArgument,
						   PCredHandle phCredential, PTimeStamp ptsExpiry)
{
	(void)pGetKeyFn;
	(void)pvGetKeyArgument;
	if (AsyncContext == NULL)
		return SEC_E_INVALID_HANDLE;
	if (phCredential == NULL)
		return SEC_E_INVALID_PARAMETER;
	const struct sa_package *pkg;
	unsigned long use;
	SECURITY_STATUS st = sa__cred_args_check(pszPackage, fCredentialUse, pvLogonId, &pkg, &use);
	if (st != SEC_E_OK)
		return st;
	struct sa_pkg_identity pid = {NULL, NULL, NULL, SA_PKG_MECH_ALL};
	if (pAuthData != NULL && (st = sa__identity_copy(pAuthData, pkg, &pid)) != SEC_E_OK)
		return st; /* an argument error: before the async context, like the others */
	struct sa_runtime *rt;
	int rc;
	if ((st = async_begin(AsyncContext, &rt)) != SEC_E_OK) {
		sa__identity_free(&pid);
		return st;
	}
	struct ach_job j = {.job = {.ops = &ach_job_ops, .owner = rt}, .rt = rt, .pkg = pkg,
			    .use = use, .out_h = phCredential, .out_expiry = ptsExpiry};
	if (pszPrincipal != NULL) {
		size_t n = strlen(pszPrincipal) + 1;
		if ((j.principal = sa__malloc(n)) == NULL)
			st = SEC_E_INSUFFICIENT_MEMORY;
		else
			memcpy(j.principal, pszPrincipal, n);
	}
	j.identity = pid; /* the job owns the copy from here */
	j.has_identity = pAuthData != NULL;
	if (st == SEC_E_OK) {
		rc = sa__engine_submit(rt->engine, acall_word(AsyncContext), &j.job, sizeof j);
		st = submit_status(rc);
	}
	if (st != SEC_E_OK) {
		ach_job_release(&j.job);
		return sa__rt_exit(rt, st);
	}
	return sa__rt_exit(NULL, SEC_E_OK); /* counted when it completes */
}

size_t sa__async_job_room(void)
{
	size_t n = sizeof(struct leg_job);
	if (n < sizeof(struct ach_job))
		n = sizeof(struct ach_job);
	if (n < sizeof(struct delete_job))
		n = sizeof(struct delete_job);
	return n;
}
