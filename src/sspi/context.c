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
#include "util/annotate.h"
#include "util/lock.h"

#include <assert.h>
#include <stdio.h>
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
	SA_ASSERT_HELD(&ctx->lock);
	while (ctx->busy)
		pthread_cond_wait(&ctx->idle, &ctx->lock);
}

/*
 * SSPIASYNC_TRACE=1: every step of the lifecycle table is printed to stderr
 * as "sspiasync: context ID FROM --EVENT--> TO STATUS".  Steps happen under
 * ctx->lock, so the fsm's trace hook only records them (per thread); they
 * are printed by ctx_unlock(), with no lock held.
 */
struct trace_rec {
	uint64_t id;
	enum sa_fsm_state from, to;
	enum sa_fsm_event ev;
	int32_t status;
};

enum { TRACE_MAX = 4 }; /* steps one call makes under one hold of the lock */
static _Thread_local struct trace_rec tl_trace[TRACE_MAX];
static _Thread_local unsigned tl_ntrace;

static void trace_record(uint64_t id, enum sa_fsm_state from, enum sa_fsm_event ev,
			 enum sa_fsm_state to, int32_t status, void *arg)
{
	(void)arg;
	if (tl_ntrace < TRACE_MAX)
		tl_trace[tl_ntrace++] = (struct trace_rec){id, from, to, ev, status};
}

static const struct sa_fsm_tracer trace_hook = {trace_record, NULL};

static void trace_flush(void)
{
	for (unsigned i = 0; i < tl_ntrace; i++) {
		const struct trace_rec *r = &tl_trace[i];
		const char *st = sa_fsm_status_name(r->status);
		char num[16];
		if (st == NULL) {
			snprintf(num, sizeof num, "0x%08x", (unsigned)r->status);
			st = num;
		}
		fprintf(stderr, "sspiasync: context %llu %s --%s--> %s %s\n", (unsigned long long)r->id,
			sa_fsm_state_name(r->from), sa_fsm_event_name(r->ev), sa_fsm_state_name(r->to), st);
	}
	tl_ntrace = 0;
}

/* Context: ctx->lock held. */
static SECURITY_STATUS ctx_step_locked(struct sa_ctx *ctx, enum sa_fsm_event ev, int32_t status)
{
	SA_ASSERT_HELD(&ctx->lock);
	enum sa_fsm_state s = (enum sa_fsm_state)ctx->state;
	int32_t st = sa_fsm_step(ctx->rt->trace ? &trace_hook : NULL, ctx->id, &s, ev, status);
	ctx->state = (uint8_t)s;
	atomic_store_explicit(&ctx->deleting, s == SA_FSM_DELETING || s == SA_FSM_INVALID,
			      memory_order_relaxed);
	return st;
}

/* Drop ctx->lock, then print what was traced under it. */
static void ctx_unlock(struct sa_ctx *ctx)
{
	SA_UNLOCK(&ctx->lock);
	if (tl_ntrace != 0)
		trace_flush();
}

SECURITY_STATUS sa__ctx_begin(struct sa_ctx *ctx, enum sa_fsm_event ev)
{
	SA_LOCK(&ctx->lock);
	ctx_wait_idle_locked(ctx);
	SECURITY_STATUS st = ctx_step_locked(ctx, ev, SEC_E_OK);
	if (st == SEC_E_OK)
		ctx->busy = 1;
	ctx_unlock(ctx);
	return st;
}

SECURITY_STATUS sa__ctx_end(struct sa_ctx *ctx, enum sa_fsm_event ev, SECURITY_STATUS status)
{
	SA_LOCK(&ctx->lock);
	assert(ctx->busy);
	if (ev != SA_FSM_NEVENTS)
		status = ctx_step_locked(ctx, ev, status);
	ctx->busy = 0;
	pthread_cond_broadcast(&ctx->idle);
	ctx_unlock(ctx);
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
	atomic_init(&ctx->deleting, 0);
	SA_ATOMIC_WORD(&ctx->deleting); /* read without the lock (sa__ctx_deleting) */
	ctx->busy = 1;
	ctx->side = (uint8_t)side;
	ctx->pkg = cred->pkg;
	ctx->cred = cred;
	ctx->cred_h = cred_h;
	ctx->id = atomic_fetch_add_explicit(&rt->next_ctx_id, 1, memory_order_relaxed);
	ctx->rt = rt;
	sa__serial_init(&ctx->serial);
	return ctx;
}

void sa__leg_init(struct sa_leg *l, enum sa_side side, const unsigned char *in, size_t in_len,
		  const char *target, unsigned long req, SecBuffer *out_tok, PCtxtHandle new_h,
		  unsigned long *attrs, PTimeStamp expiry)
{
	*l = (struct sa_leg){
		.side = side,
		.in = in,
		.in_len = in_len,
		.target = target,
		.req = req,
		.out_tok = out_tok,
		.out_cap = out_tok != NULL ? out_tok->cbBuffer : 0,
		.allocate = out_tok != NULL && (req & ISC_REQ_ALLOCATE_MEMORY) != 0,
		.out_at_null = out_tok != NULL && !(req & ISC_REQ_ALLOCATE_MEMORY) &&
			       out_tok->pvBuffer == NULL && out_tok->cbBuffer != 0,
		.new_h = new_h,
		.attrs = attrs,
		.expiry = expiry,
	};
}

void sa__leg_bindings(struct sa_leg *l, const SecBufferDesc *in)
{
	const SecBuffer *b = in != NULL ? sa__desc_find(in, SECBUFFER_CHANNEL_BINDINGS) : NULL;
	if (b != NULL && b->pvBuffer != NULL && b->cbBuffer != 0) {
		l->bindings = b->pvBuffer;
		l->bindings_len = b->cbBuffer;
	}
}

/*
 * The order of a leg's checks, sync and async alike (README, "Windows'
 * statuses for arguments and buffers"):
 *  1. structure, here: NULL pfContextAttr, a first leg without phNewContext,
 *     a bad SecBufferDesc (version, NULL pBuffers, a buffer but the output
 *     token claiming bytes at NULL), ISC's Reserved1/2: SEC_E_INVALID_PARAMETER;
 *  2. handles (sa__leg_resolve): SEC_E_INVALID_HANDLE; an async call is
 *     queued and completes so;
 *  3. admission by the lifecycle table (sa__leg_perform): a complete or
 *     rejected context is SEC_E_OUT_OF_SEQUENCE;
 *  4. the output token buffer (sa__leg_perform): claiming bytes at NULL
 *     without *_REQ_ALLOCATE_MEMORY is SEC_E_INTERNAL_ERROR before the
 *     package runs (what Windows' NTLM answers); none at all (pOutput NULL,
 *     no buffers, no SECBUFFER_TOKEN) is no room, as is a short one: the
 *     package answers SEC_E_BUFFER_TOO_SMALL when it has a token to send
 *     (Windows' NTLM does), SEC_E_OK or SEC_I_CONTINUE_NEEDED when it has
 *     none.  A refused leg writes nothing and changes nothing, so the
 *     caller grows its buffer and calls again.
 *     [test_win_leg_checks_structure_then_handle_then_state_then_buffers]
 */
SECURITY_STATUS sa__leg_check(enum sa_side side, const CredHandle *cred_h, const CtxtHandle *ctx_h,
			      unsigned long req, const SecBufferDesc *in, const CtxtHandle *new_h,
			      const SecBufferDesc *out, const unsigned long *attrs, SecBuffer **out_tok)
{
	SECURITY_STATUS st;
	(void)side;
	(void)req;
	if (attrs == NULL || (ctx_h == NULL && new_h == NULL))
		return SEC_E_INVALID_PARAMETER;
	if ((st = sa__desc_check(in, 1)) != SEC_E_OK || (st = sa__desc_check_leg_out(out)) != SEC_E_OK)
		return st;
	*out_tok = sa__desc_find(out, SECBUFFER_TOKEN);
	if (ctx_h == NULL && cred_h == NULL)
		return SEC_E_INVALID_HANDLE; /* a first leg needs a credential */
	return SEC_E_OK;
}

SECURITY_STATUS sa__leg_resolve(struct sa_runtime *rt, struct sa_leg *l, const CredHandle *cred_h,
				const CtxtHandle *ctx_h)
{
	l->first = ctx_h == NULL;
	l->ctx = NULL;
	if (l->first) {
		void *obj;
		l->cred_h = sa__handle_from(cred_h);
		int rc = sa_htable_acquire(rt->creds, l->cred_h, &obj);
		if (rc != SA_OK)
			return sa__status_from_sa(rc);
		l->cred = obj;
		return SEC_E_OK;
	}
	SECURITY_STATUS st = sa__ctx_get(rt, ctx_h, &l->ctx);
	if (st != SEC_E_OK)
		return st;
	if (l->ctx->side != l->side) { /* an acceptor's context passed to ISC, or the reverse */
		sa__ctx_put(rt, l->ctx);
		l->ctx = NULL;
		return SEC_E_INVALID_HANDLE;
	}
	l->cred = l->ctx->cred;
	return SEC_E_OK;
}

/* First leg: make the context and put it in the table (unpublished: its
 * handle is not given out yet), busy.  Everything that can fail for memory
 * happens before the package runs. */
static SECURITY_STATUS leg_create(struct sa_runtime *rt, struct sa_leg *l)
{
	struct sa_ctx *ctx = ctx_new(rt, l->side, l->cred, l->cred_h);
	if (ctx == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	int rc = sa_htable_insert(rt->ctxts, ctx, &ctx->self);
	if (rc != SA_OK) {
		pthread_cond_destroy(&ctx->idle);
		pthread_mutex_destroy(&ctx->lock);
		sa__free(ctx);
		return sa__status_from_sa(rc);
	}
	l->ctx = ctx;
	return SEC_E_OK;
}

void sa__leg_perform(struct sa_runtime *rt, struct sa_leg *l, const struct sa_job_env *env)
{
	l->made = 0;
	l->room = NULL;
	l->scratch = 0;
	/* Steps 3 and 4 of the checks (above sa__leg_check): a first leg has no
	 * state to admit, and is refused before anything is made. */
	SECURITY_STATUS st;
	if (l->first)
		st = l->out_at_null ? SEC_E_INTERNAL_ERROR : leg_create(rt, l);
	else
		st = sa__ctx_begin(l->ctx, SA_FSM_EV_ADMIT_LEG);
	if (st != SEC_E_OK) {
		l->status = st; /* refused: nothing ran, nothing changed */
		return;
	}
	struct sa_ctx *ctx = l->ctx;
	if (l->out_at_null) {
		l->status = sa__ctx_end(ctx, SA_FSM_EV_REFUSED, SEC_E_INTERNAL_ERROR);
		return;
	}
	const struct sa_package *pkg = ctx->pkg;
	/* The room is never larger than the package can fill: package.h's
	 * contract (no leg writes more than max_token bytes) is relied upon, so
	 * a cbBuffer of 0xFFFFFFFF costs max_token bytes, not 4 GiB.  A smaller
	 * capacity reaches the package as it is, so a short buffer is still its
	 * SEC_E_BUFFER_TOO_SMALL.
	 * [test_sspi_leg_room_is_bounded_by_max_token_when_cbbuffer_is_huge] */
	size_t cap = pkg->max_token;
	if (!l->allocate && l->out_cap < cap)
		cap = l->out_cap;
	l->scratch = 0;
	if (l->allocate) {
		l->room = sa__ctxbuf_alloc(rt, cap);
	} else if (env != NULL && env->scratch != NULL && cap <= env->cap) {
		l->room = env->scratch; /* a worker's (W1): copied out at publish */
		l->scratch = 1;
	} else {
		l->room = sa__malloc(cap);
	}
	if (l->room == NULL) {
		l->status = sa__ctx_end(ctx, SA_FSM_EV_REFUSED, SEC_E_INSUFFICIENT_MEMORY);
		return;
	}
	l->pkg_leg = (struct sa_pkg_leg){
		.in = l->in_len != 0 ? l->in : NULL,
		.in_len = l->in_len,
		.target = l->side == SA_SIDE_INITIATOR ? l->target : NULL,
		.bindings = l->bindings,
		.bindings_len = l->bindings_len,
		.req = l->req,
		.out = l->room,
		.out_cap = cap,
	};
	void *pkg_ctx = ctx->pkg_ctx; /* NULL on the first leg; this call's while busy */
	sa_pkg_leg_fn fn = l->side == SA_SIDE_INITIATOR ? pkg->init_leg : pkg->accept_leg;
	int32_t pst = fn(l->cred->pkg_cred, &pkg_ctx, &l->pkg_leg);
	enum sa_fsm_event ev = sa_fsm_classify(pst);
	int made = ev == SA_FSM_EV_LEG_CONTINUE || ev == SA_FSM_EV_LEG_OK;

	SA_LOCK(&ctx->lock);
	assert(ctx->state == SA_FSM_NEW ? (pkg_ctx != NULL) == made : pkg_ctx == ctx->pkg_ctx);
	ctx->pkg_ctx = pkg_ctx;
	l->status = ctx_step_locked(ctx, ev, pst);
	/* A leg that ran while a delete was queued reports its own status. */
	l->made = made && ctx->state != SA_FSM_NEW;
	if (l->made) {
		ctx->expiry = l->pkg_leg.expiry;
		ctx->flags = l->pkg_leg.attrs;
	}
	ctx->busy = 0;
	pthread_cond_broadcast(&ctx->idle);
	ctx_unlock(ctx);
}

void sa__leg_output(struct sa_runtime *rt, struct sa_leg *l)
{
	unsigned long attrs = l->pkg_leg.attrs;
	size_t n = l->pkg_leg.out_len;
	if (l->out_tok != NULL) {
		if (l->allocate) {
			if (n == 0) {
				sa__ctxbuf_free(rt, l->room);
			} else {
				attrs |= ISC_RET_ALLOCATED_MEMORY;
				l->out_tok->pvBuffer = l->room;
			}
			if (n == 0)
				l->out_tok->pvBuffer = NULL;
			l->room = NULL; /* the caller's now, or freed */
		} else if (n != 0) {
			memcpy(l->out_tok->pvBuffer, l->room, n);
		}
		l->out_tok->cbBuffer = (unsigned long)n;
	}
	*l->attrs = attrs;
	sa__timestamp_set(l->expiry, l->pkg_leg.expiry);
	if (l->new_h != NULL)
		sa__handle_to(l->new_h, l->ctx->self);
}

void sa__leg_release(struct sa_runtime *rt, struct sa_leg *l)
{
	if (l->allocate)
		sa__ctxbuf_free(rt, l->room);
	else if (!l->scratch)
		sa__free(l->room); /* scratch is the engine's: nothing to give back (W1) */
	l->room = NULL;
	l->scratch = 0;
	if (!l->first) {
		sa__ctx_put(rt, l->ctx);
		return;
	}
	if (l->ctx != NULL && !l->made) {
		/* The first leg made no context: take the unpublished entry out
		 * again (its destructor frees it). */
		int rc = sa_htable_remove(rt->ctxts, l->ctx->self);
		assert(rc == SA_OK);
		(void)rc;
	}
	if (l->ctx == NULL || !l->made)
		sa_htable_release(rt->creds, l->cred_h); /* else the context holds it */
}

static SECURITY_STATUS leg_sync(enum sa_side side, PCredHandle cred_h, PCtxtHandle ctx_h,
				const char *target, unsigned long req, PSecBufferDesc in,
				PCtxtHandle new_h, PSecBufferDesc out, unsigned long *attrs,
				PTimeStamp expiry)
{
	SecBuffer *out_tok;
	SECURITY_STATUS st = sa__leg_check(side, cred_h, ctx_h, req, in, new_h, out, attrs, &out_tok);
	if (st != SEC_E_OK)
		return st;
	const SecBuffer *in_tok = in != NULL ? sa__desc_find(in, SECBUFFER_TOKEN) : NULL;
	struct sa_leg l;
	sa__leg_init(&l, side, in_tok != NULL ? in_tok->pvBuffer : NULL,
		     in_tok != NULL && in_tok->pvBuffer != NULL ? in_tok->cbBuffer : 0, target, req,
		     out_tok, new_h, attrs, expiry);
	sa__leg_bindings(&l, in);
	struct sa_runtime *rt;
	if ((st = sa__rt_enter(&rt)) != SEC_E_OK)
		return st;
	if ((st = sa__leg_resolve(rt, &l, cred_h, ctx_h)) != SEC_E_OK)
		return sa__rt_exit(rt, st);
	if (!l.first) /* after the async calls queued before this one */
		sa__engine_drain(rt->engine, &l.ctx->serial);
	sa__leg_perform(rt, &l, NULL); /* no scratch: not a job */
	if (l.made)
		sa__leg_output(rt, &l);
	sa__leg_release(rt, &l);
	return sa__rt_exit(rt, l.status);
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
	return leg_sync(SA_SIDE_INITIATOR, phCredential, phContext, pszTargetName, fContextReq,
			pInput, phNewContext, pOutput, pfContextAttr, ptsExpiry);
}

SECURITY_STATUS SEC_ENTRY AcceptSecurityContext(PCredHandle phCredential, PCtxtHandle phContext,
						PSecBufferDesc pInput, unsigned long fContextReq,
						unsigned long TargetDataRep, PCtxtHandle phNewContext,
						PSecBufferDesc pOutput, unsigned long *pfContextAttr,
						PTimeStamp ptsExpiry)
{
	(void)TargetDataRep;
	return leg_sync(SA_SIDE_ACCEPTOR, phCredential, phContext, NULL, fContextReq, pInput,
			phNewContext, pOutput, pfContextAttr, ptsExpiry);
}

SECURITY_STATUS sa__ctx_get_sync(struct sa_runtime *rt, const CtxtHandle *h, struct sa_ctx **ctx)
{
	SECURITY_STATUS st = sa__ctx_get(rt, h, ctx);
	if (st == SEC_E_OK)
		sa__engine_drain(rt->engine, &(*ctx)->serial);
	return st;
}

SECURITY_STATUS sa__ctx_call_begin(const CtxtHandle *h, struct sa_runtime **rt, struct sa_ctx **ctx)
{
	SECURITY_STATUS st = sa__rt_enter(rt);
	if (st != SEC_E_OK)
		return st;
	if ((st = sa__ctx_get_sync(*rt, h, ctx)) != SEC_E_OK)
		return sa__rt_exit(*rt, st);
	if ((st = sa__ctx_begin(*ctx, SA_FSM_EV_ADMIT_QUERY)) != SEC_E_OK) {
		sa__ctx_put(*rt, *ctx);
		return sa__rt_exit(*rt, st);
	}
	return SEC_E_OK;
}

SECURITY_STATUS sa__ctx_call_end(struct sa_runtime *rt, struct sa_ctx *ctx, SECURITY_STATUS st)
{
	st = sa__ctx_end(ctx, SA_FSM_NEVENTS, st);
	sa__ctx_put(rt, ctx);
	return sa__rt_exit(rt, st);
}

int sa__ctx_complete(struct sa_ctx *ctx)
{
	SA_LOCK(&ctx->lock);
	int yes = ctx->state == SA_FSM_COMPLETE;
	SA_UNLOCK(&ctx->lock);
	return yes;
}

int sa__ctx_deleting(struct sa_ctx *ctx)
{
	/* A hint, no lock (issue 23: a submission's lock hold less): a delete
	 * accepted just after this read still refuses the leg at admission
	 * (ADMIT_LEG), SEC_E_INVALID_HANDLE either way. */
	return atomic_load_explicit(&ctx->deleting, memory_order_relaxed);
}

SECURITY_STATUS sa__ctx_mark_deleting(struct sa_ctx *ctx)
{
	SA_LOCK(&ctx->lock);
	SECURITY_STATUS st = ctx_step_locked(ctx, SA_FSM_EV_DELETE, SEC_E_OK);
	ctx_unlock(ctx);
	return st;
}

void sa__ctx_teardown(struct sa_runtime *rt, struct sa_ctx *ctx)
{
	SA_LOCK(&ctx->lock);
	ctx_wait_idle_locked(ctx); /* a leg that was running finishes first */
	assert(ctx->state == SA_FSM_DELETING);
	ctx->busy = 1;
	void *pkg_ctx = ctx->pkg_ctx;
	ctx_unlock(ctx);

	int rc = sa_htable_remove(rt->ctxts, ctx->self);
	assert(rc == SA_OK); /* only the teardown of a DELETING context removes it */
	(void)rc;
	if (pkg_ctx != NULL)
		ctx->pkg->ctx_delete(pkg_ctx);

	SA_LOCK(&ctx->lock);
	ctx->pkg_ctx = NULL;
	SECURITY_STATUS st = ctx_step_locked(ctx, SA_FSM_EV_TEARDOWN_DONE, SEC_E_OK);
	assert(st == SEC_E_OK);
	(void)st;
	ctx->busy = 0;
	pthread_cond_broadcast(&ctx->idle);
	ctx_unlock(ctx);
	sa_htable_release(rt->creds, ctx->cred_h);
}

SECURITY_STATUS sa__ctx_delete(struct sa_runtime *rt, const CtxtHandle *h)
{
	struct sa_ctx *ctx = NULL;
	SECURITY_STATUS st = sa__ctx_get(rt, h, &ctx);
	if (st != SEC_E_OK)
		return st;
	/* DELETING first, so the calls queued before it complete
	 * SEC_E_INVALID_HANDLE without the package, then tear down. */
	if ((st = sa__ctx_mark_deleting(ctx)) == SEC_E_OK) {
		sa__engine_drain(rt->engine, &ctx->serial);
		sa__ctx_teardown(rt, ctx);
	}
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
		unsigned long sig, block, trailer;
		if (pkg->ctx_sizes != NULL &&
		    pkg->ctx_sizes(ctx->pkg_ctx, &sig, &block, &trailer) == SEC_E_OK) {
			s->cbMaxSignature = sig;
			s->cbBlockSize = block;
			s->cbSecurityTrailer = trailer;
		}
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
	case SECPKG_ATTR_NATIVE_NAMES: {
		char *cl = NULL, *sv = NULL, *co = NULL, *so = NULL;
		if (pkg->ctx_native_names == NULL)
			return SEC_E_UNSUPPORTED_FUNCTION;
		st = pkg->ctx_native_names(ctx->pkg_ctx, &cl, &sv);
		if (st == SEC_E_OK) {
			co = sa__ctxbuf_strdup(rt, cl);
			so = co != NULL ? sa__ctxbuf_strdup(rt, sv) : NULL;
			if (so == NULL) {
				if (co != NULL)
					(void)FreeContextBuffer(co);
				st = SEC_E_INSUFFICIENT_MEMORY;
			} else {
				((SecPkgContext_NativeNamesA *)buf)->sClientName = co;
				((SecPkgContext_NativeNamesA *)buf)->sServerName = so;
			}
		}
		sa__free(cl);
		sa__free(sv);
		return st;
	}
	case SECPKG_ATTR_FLAGS: {
		SA_LOCK(&ctx->lock);
		((SecPkgContext_Flags *)buf)->Flags = ctx->flags;
		SA_UNLOCK(&ctx->lock);
		return SEC_E_OK;
	}
	case SECPKG_ATTR_SESSION_KEY: {
		unsigned char key[32];
		size_t n = 0;
		if (pkg->ctx_session_key == NULL)
			return SEC_E_UNSUPPORTED_FUNCTION;
		st = pkg->ctx_session_key(ctx->pkg_ctx, key, &n);
		if (st == SEC_E_OK) {
			unsigned char *out = sa__ctxbuf_alloc(rt, n);
			if (out == NULL) {
				st = SEC_E_INSUFFICIENT_MEMORY;
			} else {
				memcpy(out, key, n);
				((SecPkgContext_SessionKey *)buf)->SessionKey = out;
				((SecPkgContext_SessionKey *)buf)->SessionKeyLength = (unsigned long)n;
			}
		}
		sa__wipe(key, sizeof key);
		return st;
	}
	case SECPKG_ATTR_PACKAGE_INFO:
	case SECPKG_ATTR_NEGOTIATION_INFO: {
		SecPkgInfoA *info;
		unsigned long state = SECPKG_NEGOTIATION_COMPLETE;
		const struct sa_package *chosen = pkg->ctx_mech != NULL ? pkg->ctx_mech(ctx->pkg_ctx, &state)
								       : pkg;
		if (attr == SECPKG_ATTR_NEGOTIATION_INFO && pkg->ctx_mech == NULL)
			return SEC_E_UNSUPPORTED_FUNCTION;
		if (chosen == NULL)
			chosen = pkg; /* nothing chosen yet: the negotiator itself */
		st = sa__pkginfo_alloc(rt, &chosen, 1, &info);
		if (st == SEC_E_OK && attr == SECPKG_ATTR_PACKAGE_INFO) {
			((SecPkgContext_PackageInfoA *)buf)->PackageInfo = info;
		} else if (st == SEC_E_OK) {
			((SecPkgContext_NegotiationInfoA *)buf)->PackageInfo = info;
			((SecPkgContext_NegotiationInfoA *)buf)->NegotiationState = state;
		}
		return st;
	}
	default:
		return SEC_E_UNSUPPORTED_FUNCTION;
	}
}

SECURITY_STATUS SEC_ENTRY QueryContextAttributesA(PCtxtHandle phContext, unsigned long ulAttribute,
						  void *pBuffer)
{
	if (pBuffer == NULL) /* arguments first, then the handle (sspi.h) */
		return SEC_E_INVALID_PARAMETER;
	if (phContext == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	struct sa_ctx *ctx = NULL;
	SECURITY_STATUS st = sa__ctx_call_begin(phContext, &rt, &ctx);
	if (st != SEC_E_OK)
		return st;
	return sa__ctx_call_end(rt, ctx, ctx_query(rt, ctx, ulAttribute, pBuffer));
}

SECURITY_STATUS SEC_ENTRY CompleteAuthToken(PCtxtHandle phContext, PSecBufferDesc pToken)
{
	SECURITY_STATUS st = sa__desc_check(pToken, 0); /* arguments first (sspi.h) */
	if (st != SEC_E_OK)
		return st;
	if (phContext == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	struct sa_ctx *ctx = NULL;
	if ((st = sa__ctx_call_begin(phContext, &rt, &ctx)) != SEC_E_OK)
		return st;
	/* No package of this library returns SEC_I_COMPLETE_NEEDED yet. */
	return sa__ctx_call_end(rt, ctx, SEC_E_UNSUPPORTED_FUNCTION);
}
