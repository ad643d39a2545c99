/*
 * src/sspi/context.c - security contexts: InitializeSecurityContextA,
 * AcceptSecurityContext, DeleteSecurityContext, QueryContextAttributesA,
 * CompleteAuthToken, and the one lifecycle path they share.
 *
 * Every state change goes through sa_fsm_step (the lifecycle table); every
 * lifetime through the context table (a removed handle fails at once, the
 * object goes with its last reference).  Invariants: sspi_int.h, struct
 * sa_ctx.  A call on a context: acquire the handle, wait until the context is
 * not busy, ask the fsm to admit the call, mark it busy, drop the lock, call
 * the package, take the lock, step the fsm with the result, clear busy.
 */
#include "sspi/sspi_int.h"

#include "util/alloc.h"

#include <assert.h>
#include <string.h>

/* ISC_REQ_ALLOCATE_MEMORY and ASC_REQ_ALLOCATE_MEMORY, ISC_RET_/ASC_RET_ALLOCATED_MEMORY. */
_Static_assert(ISC_REQ_ALLOCATE_MEMORY == ASC_REQ_ALLOCATE_MEMORY, "one bit for both sides");
_Static_assert(ISC_RET_ALLOCATED_MEMORY == ASC_RET_ALLOCATED_MEMORY, "one bit for both sides");

SECURITY_STATUS sa__ctx_get(struct sa_runtime *rt, const CtxtHandle *h, struct sa_ctx **ctx)
{
	if (h == NULL)
		return SEC_E_INVALID_HANDLE;
	void *obj;
	int rc = sa_htable_acquire(rt->ctxts, sa__handle_from(h), &obj);
	if (rc != SA_OK)
		return sa__status_from_sa(rc);
	*ctx = obj;
	return SEC_E_OK;
}

void sa__ctx_put(struct sa_runtime *rt, struct sa_ctx *ctx)
{
	sa_htable_release(rt->ctxts, ctx->self);
}

/* Context: ctx->lock held.  Returns with it held and the context not busy. */
static void ctx_wait_idle_locked(struct sa_ctx *ctx)
{
	while (ctx->busy)
		pthread_cond_wait(&ctx->idle, &ctx->lock);
}

/* Context: ctx->lock held. */
static SECURITY_STATUS ctx_step_locked(struct sa_ctx *ctx, enum sa_fsm_event ev, int32_t status)
{
	enum sa_fsm_state s = (enum sa_fsm_state)ctx->state;
	int32_t st = sa_fsm_step(NULL, ctx->id, &s, ev, status);
	ctx->state = (uint8_t)s;
	return st;
}

SECURITY_STATUS sa__ctx_begin(struct sa_ctx *ctx, enum sa_fsm_event ev)
{
	pthread_mutex_lock(&ctx->lock);
	ctx_wait_idle_locked(ctx);
	SECURITY_STATUS st = ctx_step_locked(ctx, ev, SEC_E_OK);
	if (st == SEC_E_OK)
		ctx->busy = 1;
	pthread_mutex_unlock(&ctx->lock);
	return st;
}

SECURITY_STATUS sa__ctx_end(struct sa_ctx *ctx, enum sa_fsm_event ev, SECURITY_STATUS status)
{
	pthread_mutex_lock(&ctx->lock);
	assert(ctx->busy);
	if (ev != SA_FSM_NEVENTS)
		status = ctx_step_locked(ctx, ev, status);
	ctx->busy = 0;
	pthread_cond_broadcast(&ctx->idle);
	pthread_mutex_unlock(&ctx->lock);
	return status;
}

/* A new context object, busy (its first leg is about to run), state NEW
 * until that leg's result is stepped; not yet in the table. */
static struct sa_ctx *ctx_new(struct sa_runtime *rt, enum sa_side side, struct sa_cred *cred,
			      struct sa_handle cred_h)
{
	struct sa_ctx *ctx = sa__calloc(1, sizeof *ctx);
	if (ctx == NULL)
		return NULL;
	if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
		sa__free(ctx);
		return NULL;
	}
	if (pthread_cond_init(&ctx->idle, NULL) != 0) {
		pthread_mutex_destroy(&ctx->lock);
		sa__free(ctx);
		return NULL;
	}
	ctx->state = SA_FSM_NEW;
	ctx->busy = 1;
	ctx->side = (uint8_t)side;
	ctx->pkg = cred->pkg;
	ctx->cred = cred;
	ctx->cred_h = cred_h;
	ctx->id = atomic_fetch_add_explicit(&rt->next_ctx_id, 1, memory_order_relaxed);
	return ctx;
}

/* The arguments of one ISC or ASC call. */
struct leg_call {
	enum sa_side side;
	PCredHandle cred_h;
	PCtxtHandle ctx_h;
	const char *target;
	unsigned long req;
	PSecBufferDesc in;
	PCtxtHandle new_h;
	PSecBufferDesc out;
	unsigned long *attrs;
	PTimeStamp expiry;
};

/* Structural checks, before any side effect. */
static SECURITY_STATUS leg_check(const struct leg_call *c, SecBuffer **out_tok)
{
	SECURITY_STATUS st;
	if (c->ctx_h == NULL && c->cred_h == NULL)
		return SEC_E_INVALID_HANDLE; /* a first leg needs a credential */
	if (c->attrs == NULL || (c->ctx_h == NULL && c->new_h == NULL))
		return SEC_E_INVALID_PARAMETER;
	if ((st = sa__desc_check(c->in, 1)) != SEC_E_OK || (st = sa__desc_check(c->out, 1)) != SEC_E_OK)
		return st;
	*out_tok = NULL;
	if (c->out != NULL) {
		*out_tok = sa__desc_find(c->out, SECBUFFER_TOKEN);
		if (*out_tok == NULL)
			return SEC_E_INVALID_PARAMETER; /* an output description without a token buffer */
		if (!(c->req & ISC_REQ_ALLOCATE_MEMORY) && (*out_tok)->cbBuffer != 0 &&
		    (*out_tok)->pvBuffer == NULL)
			return SEC_E_INVALID_PARAMETER;
	}
	return SEC_E_OK;
}

/* Write a successful leg's outputs.  @room is the memory the package wrote
 * into: the caller's context buffer (ALLOCATE_MEMORY) or scratch. */
static void leg_outputs(struct sa_runtime *rt, const struct leg_call *c, SecBuffer *out_tok,
			const struct sa_pkg_leg *leg, unsigned char *room, int allocated)
{
	unsigned long attrs = leg->attrs;
	if (out_tok != NULL) {
		if (allocated) {
			if (leg->out_len == 0) {
				sa__ctxbuf_free(rt, room);
				room = NULL;
			} else {
				attrs |= ISC_RET_ALLOCATED_MEMORY;
			}
			out_tok->pvBuffer = room;
		} else if (leg->out_len != 0) {
			memcpy(out_tok->pvBuffer, room, leg->out_len);
		}
		out_tok->cbBuffer = (unsigned long)leg->out_len;
	}
	*c->attrs = attrs;
	sa__timestamp_set(c->expiry, leg->expiry);
}

/* First leg: reference the credential, make the context and put it in the
 * table (unpublished: its handle is not given out yet), busy.  Everything
 * that can fail for memory happens here, before the package runs.  On
 * failure nothing remains. */
static SECURITY_STATUS leg_first_setup(struct sa_runtime *rt, const struct leg_call *c,
				       struct sa_ctx **out)
{
	struct sa_handle cred_h = sa__handle_from(c->cred_h);
	void *obj;
	int rc = sa_htable_acquire(rt->creds, cred_h, &obj);
	if (rc != SA_OK)
		return sa__status_from_sa(rc);
	struct sa_ctx *ctx = ctx_new(rt, c->side, obj, cred_h);
	if (ctx == NULL) {
		rc = SA_ENOMEM;
	} else if ((rc = sa_htable_insert(rt->ctxts, ctx, &ctx->self)) != SA_OK) {
		pthread_cond_destroy(&ctx->idle);
		pthread_mutex_destroy(&ctx->lock);
		sa__free(ctx);
	}
	if (rc != SA_OK) {
		sa_htable_release(rt->creds, cred_h);
		return sa__status_from_sa(rc);
	}
	*out = ctx;
	return SEC_E_OK;
}

/* Later leg: reference the context, check its side, and have the fsm admit
 * the leg (busy on success).  On failure nothing remains. */
static SECURITY_STATUS leg_later_setup(struct sa_runtime *rt, const struct leg_call *c,
				       struct sa_ctx **out)
{
	struct sa_ctx *ctx = NULL;
	SECURITY_STATUS st = sa__ctx_get(rt, c->ctx_h, &ctx);
	if (st != SEC_E_OK)
		return st;
	if (ctx->side != c->side) /* an acceptor's context passed to ISC, or the reverse */
		st = SEC_E_INVALID_HANDLE;
	else
		st = sa__ctx_begin(ctx, SA_FSM_EV_ADMIT_LEG);
	if (st != SEC_E_OK) {
		sa__ctx_put(rt, ctx);
		return st;
	}
	*out = ctx;
	return SEC_E_OK;
}

/* Run the package's leg on a busy context and step the fsm with its result;
 * the context is no longer busy on return.  *@published: the leg left a
 * context (continue or done), so its outputs were written. */
static SECURITY_STATUS leg_execute(struct sa_runtime *rt, const struct leg_call *c,
				   struct sa_ctx *ctx, SecBuffer *out_tok, int *published)
{
	const struct sa_package *pkg = ctx->pkg;
	const SecBuffer *in_tok = c->in != NULL ? sa__desc_find(c->in, SECBUFFER_TOKEN) : NULL;
	const int allocate = (c->req & ISC_REQ_ALLOCATE_MEMORY) != 0;
	size_t cap = allocate ? pkg->max_token : (out_tok != NULL ? out_tok->cbBuffer : 0);
	unsigned char *room = allocate ? sa__ctxbuf_alloc(rt, cap) : sa__malloc(cap);
	*published = 0;
	if (room == NULL) /* refused before the package ran: nothing changes */
		return sa__ctx_end(ctx, SA_FSM_EV_REFUSED, SEC_E_INSUFFICIENT_MEMORY);

	struct sa_pkg_leg leg = {
		.in = in_tok != NULL && in_tok->cbBuffer != 0 ? in_tok->pvBuffer : NULL,
		.in_len = in_tok != NULL && in_tok->pvBuffer != NULL ? in_tok->cbBuffer : 0,
		.target = c->side == SA_SIDE_INITIATOR ? c->target : NULL,
		.req = c->req,
		.out = room,
		.out_cap = cap,
	};
	void *pkg_ctx = ctx->pkg_ctx; /* NULL on the first leg; this call's while busy */
	sa_pkg_leg_fn fn = c->side == SA_SIDE_INITIATOR ? pkg->init_leg : pkg->accept_leg;
	int32_t pst = fn(ctx->cred->pkg_cred, &pkg_ctx, &leg);
	enum sa_fsm_event ev = sa_fsm_classify(pst);
	int made = ev == SA_FSM_EV_LEG_CONTINUE || ev == SA_FSM_EV_LEG_OK;

	pthread_mutex_lock(&ctx->lock);
	assert(ctx->state == SA_FSM_NEW ? (pkg_ctx != NULL) == made : pkg_ctx == ctx->pkg_ctx);
	ctx->pkg_ctx = pkg_ctx;
	SECURITY_STATUS st = ctx_step_locked(ctx, ev, pst);
	*published = made && ctx->state != SA_FSM_NEW && ctx->state != SA_FSM_DELETING;
	if (*published)
		ctx->expiry = leg.expiry;
	ctx->busy = 0;
	pthread_cond_broadcast(&ctx->idle);
	pthread_mutex_unlock(&ctx->lock);

	if (*published) {
		leg_outputs(rt, c, out_tok, &leg, room, allocate);
		if (c->new_h != NULL)
			sa__handle_to(c->new_h, ctx->self);
		if (allocate)
			room = NULL; /* the caller's now, or freed by leg_outputs */
	}
	if (allocate)
		sa__ctxbuf_free(rt, room);
	else
		sa__free(room);
	return st;
}

static SECURITY_STATUS leg_run(const struct leg_call *c)
{
	SecBuffer *out_tok;
	SECURITY_STATUS st = leg_check(c, &out_tok);
	if (st != SEC_E_OK)
		return st;
	const int first = c->ctx_h == NULL;
	struct sa_runtime *rt;
	struct sa_ctx *ctx = NULL;
	int published;
	if ((st = sa__rt_enter(&rt)) != SEC_E_OK)
		return st;
	st = first ? leg_first_setup(rt, c, &ctx) : leg_later_setup(rt, c, &ctx);
	if (st != SEC_E_OK)
		return sa__rt_exit(rt, st);
	st = leg_execute(rt, c, ctx, out_tok, &published);
	if (!first) {
		sa__ctx_put(rt, ctx);
	} else if (!published) {
		/* The first leg made no context: take the unpublished entry out
		 * again and drop the credential reference it would have held. */
		struct sa_handle cred_h = ctx->cred_h;
		int rc = sa_htable_remove(rt->ctxts, ctx->self);
		assert(rc == SA_OK);
		(void)rc;
		sa_htable_release(rt->creds, cred_h);
	}
	return sa__rt_exit(rt, st);
}

SECURITY_STATUS SEC_ENTRY InitializeSecurityContextA(PCredHandle phCredential, PCtxtHandle phContext,
						     SEC_CHAR *pszTargetName, unsigned long fContextReq,
						     unsigned long Reserved1, unsigned long TargetDataRep,
						     PSecBufferDesc pInput, unsigned long Reserved2,
						     PCtxtHandle phNewContext, PSecBufferDesc pOutput,
						     unsigned long *pfContextAttr, PTimeStamp ptsExpiry)
{
	(void)TargetDataRep;
	if (Reserved1 != 0 || Reserved2 != 0)
		return SEC_E_INVALID_PARAMETER;
	struct leg_call c = {SA_SIDE_INITIATOR, phCredential, phContext, pszTargetName, fContextReq,
			     pInput, phNewContext, pOutput, pfContextAttr, ptsExpiry};
	return leg_run(&c);
}

SECURITY_STATUS SEC_ENTRY AcceptSecurityContext(PCredHandle phCredential, PCtxtHandle phContext,
						PSecBufferDesc pInput, unsigned long fContextReq,
						unsigned long TargetDataRep, PCtxtHandle phNewContext,
						PSecBufferDesc pOutput, unsigned long *pfContextAttr,
						PTimeStamp ptsExpiry)
{
	(void)TargetDataRep;
	struct leg_call c = {SA_SIDE_ACCEPTOR, phCredential, phContext, NULL, fContextReq,
			     pInput, phNewContext, pOutput, pfContextAttr, ptsExpiry};
	return leg_run(&c);
}

/* The delete path: DELETING at once (no new call is admitted), the handle
 * removed from the table, the package torn down with no lock held, then
 * INVALID.  Allocates nothing. */
static SECURITY_STATUS ctx_delete_acquired(struct sa_runtime *rt, struct sa_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx_wait_idle_locked(ctx);
	SECURITY_STATUS st = ctx_step_locked(ctx, SA_FSM_EV_DELETE, SEC_E_OK);
	if (st != SEC_E_OK) { /* already deleting or deleted */
		pthread_mutex_unlock(&ctx->lock);
		return st;
	}
	ctx->busy = 1;
	void *pkg_ctx = ctx->pkg_ctx;
	pthread_mutex_unlock(&ctx->lock);

	int rc = sa_htable_remove(rt->ctxts, ctx->self);
	assert(rc == SA_OK); /* only the call that moved it to DELETING removes it */
	(void)rc;
	if (pkg_ctx != NULL)
		ctx->pkg->ctx_delete(pkg_ctx);

	pthread_mutex_lock(&ctx->lock);
	ctx->pkg_ctx = NULL;
	st = ctx_step_locked(ctx, SA_FSM_EV_TEARDOWN_DONE, SEC_E_OK);
	ctx->busy = 0;
	pthread_cond_broadcast(&ctx->idle);
	pthread_mutex_unlock(&ctx->lock);
	sa_htable_release(rt->creds, ctx->cred_h);
	return st;
}

SECURITY_STATUS sa__ctx_delete(struct sa_runtime *rt, const CtxtHandle *h)
{
	struct sa_ctx *ctx = NULL;
	SECURITY_STATUS st = sa__ctx_get(rt, h, &ctx);
	if (st != SEC_E_OK)
		return st;
	st = ctx_delete_acquired(rt, ctx);
	sa__ctx_put(rt, ctx);
	return st;
}

void sa__ctx_delete_all(struct sa_runtime *rt)
{
	uint32_t cursor = 0;
	struct sa_handle h;
	while (sa_htable_next(rt->ctxts, &cursor, &h)) {
		CtxtHandle ch;
		sa__handle_to(&ch, h);
		SECURITY_STATUS st = sa__ctx_delete(rt, &ch);
		(void)st; /* no call runs during shutdown: every delete succeeds */
	}
	cursor = 0;
	while (sa_htable_next(rt->creds, &cursor, &h)) {
		int rc = sa_htable_remove(rt->creds, h);
		(void)rc;
	}
}

SECURITY_STATUS SEC_ENTRY DeleteSecurityContext(PCtxtHandle phContext)
{
	if (phContext == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	return sa__rt_exit(rt, sa__ctx_delete(rt, phContext));
}

/* A package description in one context buffer (struct, then the strings). */
SECURITY_STATUS sa__pkginfo_alloc(struct sa_runtime *rt, const struct sa_package *const *pkgs,
				  unsigned n, SecPkgInfoA **out);

static SECURITY_STATUS ctx_query(struct sa_runtime *rt, struct sa_ctx *ctx, unsigned long attr,
				 void *buf)
{
	const struct sa_package *pkg = ctx->pkg;
	SECURITY_STATUS st;
	switch (attr) {
	case SECPKG_ATTR_SIZES: {
		SecPkgContext_Sizes *s = buf;
		s->cbMaxToken = pkg->max_token;
		s->cbMaxSignature = pkg->max_signature;
		s->cbBlockSize = pkg->block_size;
		s->cbSecurityTrailer = pkg->security_trailer;
		return SEC_E_OK;
	}
	case SECPKG_ATTR_NAMES: {
		char *user = NULL;
		st = pkg->ctx_names(ctx->pkg_ctx, &user);
		if (st == SEC_E_OK) {
			char *out = sa__ctxbuf_strdup(rt, user);
			if (out == NULL)
				st = SEC_E_INSUFFICIENT_MEMORY;
			else
				((SecPkgContext_NamesA *)buf)->sUserName = out;
		}
		sa__free(user);
		return st;
	}
	case SECPKG_ATTR_LIFESPAN: {
		int64_t start, expiry;
		st = pkg->ctx_lifespan(ctx->pkg_ctx, &start, &expiry);
		if (st == SEC_E_OK) {
			((SecPkgContext_Lifespan *)buf)->tsStart.QuadPart = start;
			((SecPkgContext_Lifespan *)buf)->tsExpiry.QuadPart = expiry;
		}
		return st;
	}
	case SECPKG_ATTR_PACKAGE_INFO: {
		SecPkgInfoA *info;
		st = sa__pkginfo_alloc(rt, &pkg, 1, &info);
		if (st == SEC_E_OK)
			((SecPkgContext_PackageInfoA *)buf)->PackageInfo = info;
		return st;
	}
	default:
		return SEC_E_UNSUPPORTED_FUNCTION;
	}
}

SECURITY_STATUS SEC_ENTRY QueryContextAttributesA(PCtxtHandle phContext, unsigned long ulAttribute,
						  void *pBuffer)
{
	if (phContext == NULL)
		return SEC_E_INVALID_HANDLE;
	if (pBuffer == NULL)
		return SEC_E_INVALID_PARAMETER;
	struct sa_runtime *rt;
	struct sa_ctx *ctx = NULL;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	if ((st = sa__ctx_get(rt, phContext, &ctx)) != SEC_E_OK)
		return sa__rt_exit(rt, st);
	if ((st = sa__ctx_begin(ctx, SA_FSM_EV_ADMIT_QUERY)) == SEC_E_OK)
		st = sa__ctx_end(ctx, SA_FSM_NEVENTS, ctx_query(rt, ctx, ulAttribute, pBuffer));
	sa__ctx_put(rt, ctx);
	return sa__rt_exit(rt, st);
}

SECURITY_STATUS SEC_ENTRY CompleteAuthToken(PCtxtHandle phContext, PSecBufferDesc pToken)
{
	if (phContext == NULL)
		return SEC_E_INVALID_HANDLE;
	SECURITY_STATUS st = sa__desc_check(pToken, 0);
	if (st != SEC_E_OK)
		return st;
	struct sa_runtime *rt;
	struct sa_ctx *ctx = NULL;
	if ((st = sa__rt_enter(&rt)) != SEC_E_OK)
		return st;
	if ((st = sa__ctx_get(rt, phContext, &ctx)) != SEC_E_OK)
		return sa__rt_exit(rt, st);
	/* No package of this library returns SEC_I_COMPLETE_NEEDED yet. */
	if ((st = sa__ctx_begin(ctx, SA_FSM_EV_ADMIT_QUERY)) == SEC_E_OK)
		st = sa__ctx_end(ctx, SA_FSM_NEVENTS, SEC_E_UNSUPPORTED_FUNCTION);
	sa__ctx_put(rt, ctx);
	return sa__rt_exit(rt, st);
}
