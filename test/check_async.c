/*
 * test/check_async.c - the asynchronous SSPI family (async-call contexts,
 * Sspi*Async, sspiasync_run) driven through the built-in package
 * "SspiAsyncTest" in explicit no-thread mode (threads = 0): nothing runs
 * until sspiasync_run() or a synchronous call on the same context, so every
 * test is deterministic and asserts only on its own thread.  Callbacks only
 * record what they see; the test asserts afterwards.
 * Covered: Microsoft's documented flow, the IDLE/PENDING/DONE status table,
 * bad async contexts and bad security-context/credential handles, delete
 * ordering, free while pending, callbacks re-entering the API, input copying,
 * the pending-call bound, shutdown with calls queued, allocation failure.
 * Expected statuses: the async section of include/sspiasync/sspi.h and
 * ARCHITECTURE.md "src/async/"; readings of open points are marked "Reading:".
 * Every test ends with sspiasync_shutdown() and 0 live blocks.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "sspi/sspi_int.h"
#include "sspi_testlib.h"
#include "testlib.h"

#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- common -------------------------------------------------------------- */

#define POISON 0xEE
#define ACTX_BITS ((unsigned)(sizeof(uintptr_t) * CHAR_BIT))
#define OOM_MAX_K 200








/* Status a leg of an @n-leg handshake returns (N-1 and N: SEC_E_OK). */
static SECURITY_STATUS leg_expected(int n, int leg)
{
	return leg < n - 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK;
}

/* --- runtime: explicit no-thread mode ------------------------------------ */

static int g_in_run;   /* > 0 while the test is inside sspiasync_run() or shutdown */
static unsigned g_seq; /* completion order across callbacks */

static void start(uint32_t max_pending)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	cfg.max_pending = max_pending;
	g_in_run = 0;
	g_seq = 0;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
}

static unsigned run(unsigned max)
{
	g_in_run++;
	unsigned n = sspiasync_run(max);
	g_in_run--;
	return n;
}

/* Every test's last step. */
static void finish(void)
{
	sa__alloc_fail_at(0);
	ck_assert_int_eq(sa__rt_test_engine_check(), SA_OK); /* quiet or not, it holds */
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
	ck_assert_uint_eq(s.async_contexts, 0);
	ck_assert_uint_eq(s.pending_calls, 0);
}

/* --- async contexts and callbacks ----------------------------------------- */

/* What a recording callback saw.  CallbackData is the record itself, so a
 * wrong CallbackData shows as a record that never counts up. */
struct cb_rec {
	int calls;                /* callbacks run */
	int outside_run;          /* of those, not inside sspiasync_run()/shutdown */
	SspiAsyncContext *handle; /* Handle of the last one */
	SECURITY_STATUS status;   /* SspiGetAsyncCallStatus(Handle) inside it */
	unsigned order;           /* g_seq when it ran */
};

static void record_cb(SspiAsyncContext *handle, PVOID data)
{
	struct cb_rec *r = data;
	r->calls++;
	if (g_in_run == 0)
		r->outside_run++;
	r->handle = handle;
	r->status = SspiGetAsyncCallStatus(handle);
	r->order = ++g_seq;
}

/* A new IDLE async context; with @rec, record_cb registered on it. */
static SspiAsyncContext *actx_new(struct cb_rec *rec)
{
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	ck_assert(!SspiAsyncContextRequiresNotify(a));
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_PARAMETER);
	if (rec != NULL) {
		memset(rec, 0, sizeof *rec);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, record_cb, rec), SEC_E_OK);
		ck_assert(SspiAsyncContextRequiresNotify(a));
	}
	return a;
}

static void actx_reinit(SspiAsyncContext *a)
{
	ck_assert_int_eq(SspiReinitAsyncContext(a), STATUS_SUCCESS);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_PARAMETER);
}

/* @a's call completed with @expect, and its callback has run @calls times in
 * all, the last inside sspiasync_run(), with Handle @a. */
static void check_done(SspiAsyncContext *a, const struct cb_rec *rec, int calls,
		       SECURITY_STATUS expect)
{
	SECURITY_STATUS st = SspiGetAsyncCallStatus(a);
	ck_assert_msg(st == expect, "status 0x%08x, expected 0x%08x", (unsigned)st,
		      (unsigned)expect);
	ck_assert_int_eq(rec->calls, calls);
	ck_assert_int_eq(rec->outside_run, 0);
	ck_assert_ptr_eq(rec->handle, a);
	ck_assert_msg(rec->status == expect, "callback saw 0x%08x, expected 0x%08x",
		      (unsigned)rec->status, (unsigned)expect);
}

/* @a's call is queued: PENDING, callback not run; run everything; it must
 * have completed with @expect and its callback run once. */
static void run_expect(SspiAsyncContext *a, const struct cb_rec *rec, SECURITY_STATUS expect)
{
	int calls = rec->calls;
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
	ck_assert_int_eq(rec->calls, calls);
	run(0);
	check_done(a, rec, calls + 1, expect);
}

/* --- synchronous helpers ---------------------------------------------------- */

static CredHandle acquire(unsigned long use)
{
	CredHandle c;
	TimeStamp ts;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, use, NULL, NULL, NULL, NULL, &c,
						   &ts),
			 SEC_E_OK);
	return c;
}

static void identity(SEC_WINNT_AUTH_IDENTITY_A *id, char *user, char *domain, char *password)
{
	id->User = (unsigned char *)user;
	id->UserLength = (unsigned long)strlen(user);
	id->Domain = (unsigned char *)domain;
	id->DomainLength = (unsigned long)strlen(domain);
	id->Password = (unsigned char *)password;
	id->PasswordLength = (unsigned long)strlen(password);
	id->Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
}

/* Sign on @a and verify on @b; seal on @a and unseal on @b. */
static void msg_roundtrip(CtxtHandle *a, CtxtHandle *b, unsigned long seq)
{
	unsigned char data[29], plain[29], sig[SIG_LEN];
	unsigned long qop;
	for (size_t i = 0; i < sizeof data; i++)
		plain[i] = (unsigned char)(i * 11u + seq * 3u + 5u);
	memcpy(data, plain, sizeof data);
	SecBuffer mb[2] = {{sizeof data, SECBUFFER_DATA, data}, {SIG_LEN, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(MakeSignature(a, 0, &md, seq), SEC_E_OK);
	ck_assert_int_eq(VerifySignature(b, &md, seq, &qop), SEC_E_OK);
	data[3] ^= 1;
	ck_assert_int_eq(VerifySignature(b, &md, seq, &qop), SEC_E_MESSAGE_ALTERED);
	data[3] ^= 1;
	mb[1].cbBuffer = SIG_LEN;
	ck_assert_int_eq(EncryptMessage(a, 0, &md, seq + 1), SEC_E_OK);
	ck_assert(memcmp(data, plain, sizeof data) != 0);
	ck_assert_int_eq(DecryptMessage(b, &md, seq + 1, &qop), SEC_E_OK);
	ck_assert(memcmp(data, plain, sizeof data) == 0);
}

static void msg_both_ways(CtxtHandle *c, CtxtHandle *s, unsigned long seq)
{
	msg_roundtrip(c, s, seq);
	msg_roundtrip(s, c, seq + 100);
}

/* Queue a first ISC leg (legs=2 unless @target says otherwise) into @o. */
static SECURITY_STATUS submit_isc_first(SspiAsyncContext *a, CredHandle *cc, const char *target,
					struct leg_out *o)
{
	char t[128];
	snprintf(t, sizeof t, "%s", target);
	leg_out_reset(o);
	return SspiInitializeSecurityContextAsyncA(a, cc, NULL, t, 0, 0, SECURITY_NATIVE_DREP, NULL,
						   0, &o->newh, &o->od, &o->attrs, &o->ts);
}

/* --- the async handshake driver ------------------------------------------- */

/* One handshake over async calls: leg 1 = first ISC, leg 2 = first ASC,
 * leg 3 = second ISC...  Holds the submitted leg's memory, so it must not
 * move while a leg is queued. */
struct ahs {
	CredHandle cc, sc;
	int own_creds;
	char target[128];
	CtxtHandle c, s;
	int have_c, have_s;
	int leg;                      /* legs completed successfully */
	unsigned char tok[MAX_TOKEN]; /* the token for the next leg */
	unsigned long tok_len;
	/* The submitted leg (valid until it completes). */
	int client;
	CtxtHandle saved;             /* its context handle before the leg */
	char tgt[128];                /* its copy of target (poisoned by one test) */
	unsigned char in[MAX_TOKEN];
	SecBuffer ib;
	SecBufferDesc id;
	struct leg_out o;
};

static void ahs_setup(struct ahs *h, const char *target)
{
	memset(h, 0, sizeof *h);
	snprintf(h->target, sizeof h->target, "%s", target);
	handle_pat(&h->c);
	handle_pat(&h->s);
}

static void ahs_init(struct ahs *h, const char *target)
{
	ahs_setup(h, target);
	h->cc = acquire(SECPKG_CRED_OUTBOUND);
	h->sc = acquire(SECPKG_CRED_INBOUND);
	h->own_creds = 1;
}

static CtxtHandle *ahs_ctx(struct ahs *h, int client)
{
	return client ? &h->c : &h->s;
}

static int ahs_have(const struct ahs *h, int client)
{
	return client ? h->have_c : h->have_s;
}

/* Queue the next leg on @a; returns the queueing status. */
static SECURITY_STATUS ahs_submit(struct ahs *h, SspiAsyncContext *a)
{
	h->client = h->leg % 2 == 0;
	int have = ahs_have(h, h->client);
	CtxtHandle *ctx = ahs_ctx(h, h->client);
	h->saved = *ctx;
	leg_out_reset(&h->o);
	snprintf(h->tgt, sizeof h->tgt, "%s", h->target);
	memcpy(h->in, h->tok, h->tok_len);
	h->ib = (SecBuffer){h->tok_len, SECBUFFER_TOKEN, h->in};
	h->id = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->ib};
	if (h->client)
		return SspiInitializeSecurityContextAsyncA(
			a, &h->cc, have ? ctx : NULL, h->tgt, 0, 0, SECURITY_NATIVE_DREP,
			h->leg == 0 ? NULL : &h->id, 0, have ? ctx : &h->o.newh, &h->o.od,
			&h->o.attrs, &h->o.ts);
	return SspiAcceptSecurityContextAsync(a, &h->sc, have ? ctx : NULL, &h->id, 0,
					      SECURITY_NATIVE_DREP, have ? ctx : &h->o.newh,
					      &h->o.od, &h->o.attrs, &h->o.ts);
}

/* The submitted leg completed with @st: take its outputs (success) or check
 * that none was written (failure).  NULL when fine, else what is wrong.
 * Asserts nothing, so callbacks may use it. */
static const char *ahs_complete(struct ahs *h, SECURITY_STATUS st)
{
	CtxtHandle *ctx = ahs_ctx(h, h->client);
	if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
		if (!handle_eq(ctx, &h->saved))
			return "context handle changed by a failed leg";
		return leg_out_changed(&h->o);
	}
	if (!ahs_have(h, h->client)) {
		if (handle_is_pat(&h->o.newh) || !SecIsValidHandle(&h->o.newh) ||
		    h->o.newh.dwLower == 0 || h->o.newh.dwUpper == 0)
			return "no new context handle written";
		*ctx = h->o.newh;
		if (h->client)
			h->have_c = 1;
		else
			h->have_s = 1;
	} else if (!handle_eq(ctx, &h->saved)) {
		return "context handle changed by a later leg";
	}
	if (h->o.attrs == PAT_ATTR)
		return "*pfContextAttr not written";
	if (h->o.ts.QuadPart == PAT_TIME)
		return "*ptsExpiry not written";
	if (h->o.ob.pvBuffer != h->o.out || h->o.ob.cbBuffer > sizeof h->o.out)
		return "output SecBuffer not the caller's";
	if (h->o.ob.cbBuffer > 0 && bytes_are(h->o.out, h->o.ob.cbBuffer, PAT))
		return "output token length set but bytes not written";
	memcpy(h->tok, h->o.out, h->o.ob.cbBuffer);
	h->tok_len = h->o.ob.cbBuffer;
	h->leg++;
	return NULL;
}

/* Microsoft's documented step: submit on @a (IDLE, record_cb with @rec),
 * PENDING until sspiasync_run(), then the leg's status, the callback once,
 * the outputs written; reinit for the next leg. */
static void ahs_leg(struct ahs *h, SspiAsyncContext *a, struct cb_rec *rec,
		    SECURITY_STATUS expect)
{
	int calls = rec->calls;
	int leg = h->leg + 1;
	ck_assert_int_eq(ahs_submit(h, a), SEC_E_OK);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
	ck_assert_int_eq(stats().pending_calls, 1);
	assert_untouched(&h->o);
	ck_assert_int_eq(rec->calls, calls);
	ck_assert_uint_eq(run(0), 1);
	ck_assert_int_eq(stats().pending_calls, 0);
	check_done(a, rec, calls + 1, expect);
	const char *err = ahs_complete(h, expect);
	ck_assert_msg(err == NULL, "leg %d: %s", leg, err);
	actx_reinit(a);
	ck_assert_int_eq(rec->calls, calls + 1);
}

/* Legs until @n of @total have run, each on the side's async context. */
static void ahs_run_to(struct ahs *h, SspiAsyncContext *ac, struct cb_rec *rc,
		       SspiAsyncContext *as, struct cb_rec *rs, int total, int n)
{
	while (h->leg < n) {
		int leg = h->leg + 1, client = leg % 2 == 1;
		ahs_leg(h, client ? ac : as, client ? rc : rs, leg_expected(total, leg));
		if (leg < total)
			ck_assert_uint_gt(h->tok_len, 0);
		else
			ck_assert_uint_eq(h->tok_len, 0);
	}
}

/* Run legs 1..@n of a @total-leg handshake with async contexts of its own. */
static void ahs_handshake(struct ahs *h, int total, int n)
{
	struct cb_rec rc, rs;
	SspiAsyncContext *ac = actx_new(&rc), *as = actx_new(&rs);
	ahs_run_to(h, ac, &rc, as, &rs, total, n);
	SspiFreeAsyncContext(ac);
	SspiFreeAsyncContext(as);
}

/* A complete @legs-leg pair with its credentials. */
static void ahs_complete_pair(struct ahs *h, int legs)
{
	char target[64];
	snprintf(target, sizeof target, "host/test;legs=%d", legs);
	ahs_init(h, target);
	ahs_handshake(h, legs, legs);
}

static void ahs_free(struct ahs *h)
{
	if (h->have_c)
		ck_assert_int_eq(DeleteSecurityContext(&h->c), SEC_E_OK);
	if (h->have_s)
		ck_assert_int_eq(DeleteSecurityContext(&h->s), SEC_E_OK);
	h->have_c = h->have_s = 0;
	if (h->own_creds) {
		ck_assert_int_eq(FreeCredentialsHandle(&h->cc), SEC_E_OK);
		ck_assert_int_eq(FreeCredentialsHandle(&h->sc), SEC_E_OK);
		h->own_creds = 0;
	}
}

/* A world of live objects that bad-handle probes must not harm: a complete
 * pair, a legs=3 pair after leg 2, and a valid first-leg token. */
struct world {
	struct ahs live, partial;
	CtxtHandle probe_c;          /* the client context that made probe_tok */
	unsigned char probe_tok[MAX_TOKEN];
	unsigned long probe_len;
	struct sspiasync_statistics before;
};

static void world_make(struct world *w)
{
	ahs_complete_pair(&w->live, 2);
	ahs_init(&w->partial, "host/test;legs=3");
	ahs_handshake(&w->partial, 3, 2);
	struct ahs p;
	ahs_setup(&p, "host/probe");
	p.cc = w->live.cc;
	ahs_handshake(&p, 2, 1);
	w->probe_c = p.c;
	memcpy(w->probe_tok, p.tok, p.tok_len);
	w->probe_len = p.tok_len;
	w->before = stats();
	ck_assert_uint_eq(w->before.credentials, 4);
	ck_assert_uint_eq(w->before.contexts, 5);
	ck_assert_uint_eq(w->before.pending_calls, 0);
}

/* Nothing was harmed: counts unchanged, every context still works. */
static void world_check_and_free(struct world *w)
{
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, w->before.credentials);
	ck_assert_uint_eq(s.contexts, w->before.contexts);
	ck_assert_uint_eq(s.pending_calls, 0);
	msg_both_ways(&w->live.c, &w->live.s, 11);
	ahs_handshake(&w->partial, 3, 3);
	msg_both_ways(&w->partial.c, &w->partial.s, 21);
	/* The probe token is still accepted with a good credential. */
	struct ahs p;
	ahs_setup(&p, "host/probe");
	p.cc = w->live.cc;
	p.sc = w->live.sc;
	p.c = w->probe_c;
	p.have_c = 1;
	p.leg = 1;
	memcpy(p.tok, w->probe_tok, w->probe_len);
	p.tok_len = w->probe_len;
	ahs_handshake(&p, 2, 2);
	msg_both_ways(&p.c, &p.s, 31);
	ahs_free(&p);
	ahs_free(&w->live);
	ahs_free(&w->partial);
	s = stats();
	ck_assert_uint_eq(s.contexts, 0);
	ck_assert_uint_eq(s.credentials, 0);
}

/* --- bad-handle probes (async ops) ------------------------------------------ */

/* The call just queued on @a with a bad handle: SEC_E_OK at submission,
 * PENDING, then SEC_E_INVALID_HANDLE, callback once, nothing written. */
static void expect_queued_then_invalid(SECURITY_STATUS queued, SspiAsyncContext *a,
				       struct cb_rec *rec, const struct leg_out *o,
				       const char *what)
{
	ck_assert_msg(queued == SEC_E_OK, "%s: queueing status 0x%08x, expected SEC_E_OK", what,
		      (unsigned)queued);
	ck_assert_uint_eq(stats().pending_calls, 1);
	run_expect(a, rec, SEC_E_INVALID_HANDLE);
	ck_assert_uint_eq(stats().pending_calls, 0);
	if (o != NULL)
		assert_untouched(o);
	actx_reinit(a);
}

/* Every async op taking a CtxtHandle, with @bad.  Returns the calls made. */
static unsigned probe_async_bad_ctx(SspiAsyncContext *a, struct cb_rec *rec, CtxtHandle bad,
				    struct world *w)
{
	CtxtHandle copy = bad;
	unsigned char in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	SecBuffer ib = {sizeof in, SECBUFFER_TOKEN, in};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	char target[] = "host/x";
	struct leg_out o;
	SECURITY_STATUS st;

	/* Later legs: phNewContext a separate handle, then the same one. */
	for (int same = 0; same < 2; same++) {
		leg_out_reset(&o);
		st = SspiInitializeSecurityContextAsyncA(a, &w->live.cc, &copy, target, 0, 0,
							 SECURITY_NATIVE_DREP, &id, 0,
							 same ? &copy : &o.newh, &o.od, &o.attrs,
							 &o.ts);
		expect_queued_then_invalid(st, a, rec, &o, "ISC later leg");
		ck_assert(handle_eq(&copy, &bad));
		leg_out_reset(&o);
		st = SspiAcceptSecurityContextAsync(a, &w->live.sc, &copy, &id, 0,
						    SECURITY_NATIVE_DREP, same ? &copy : &o.newh,
						    &o.od, &o.attrs, &o.ts);
		expect_queued_then_invalid(st, a, rec, &o, "ASC later leg");
		ck_assert(handle_eq(&copy, &bad));
	}
	st = SspiDeleteSecurityContextAsync(a, &copy);
	expect_queued_then_invalid(st, a, rec, NULL, "delete");
	ck_assert(handle_eq(&copy, &bad));
	for (unsigned i = 0; i < sizeof in; i++)
		ck_assert_uint_eq(in[i], i + 1); /* inputs are never written */
	return 5;
}

/* Every async op taking a CredHandle, with @bad; the ASC gets a valid first
 * token, so only the handle can be what fails.  Returns the calls made. */
static unsigned probe_async_bad_cred(SspiAsyncContext *a, struct cb_rec *rec, CredHandle bad,
				     struct world *w)
{
	CredHandle copy = bad;
	unsigned char in[MAX_TOKEN];
	memcpy(in, w->probe_tok, w->probe_len);
	SecBuffer ib = {w->probe_len, SECBUFFER_TOKEN, in};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	char target[] = "host/x";
	struct leg_out o;
	SECURITY_STATUS st;
	uint64_t contexts = stats().contexts;

	leg_out_reset(&o);
	st = SspiInitializeSecurityContextAsyncA(a, &copy, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						 NULL, 0, &o.newh, &o.od, &o.attrs, &o.ts);
	expect_queued_then_invalid(st, a, rec, &o, "ISC first leg");
	leg_out_reset(&o);
	st = SspiAcceptSecurityContextAsync(a, &copy, NULL, &id, 0, SECURITY_NATIVE_DREP, &o.newh,
					    &o.od, &o.attrs, &o.ts);
	expect_queued_then_invalid(st, a, rec, &o, "ASC first leg");
	ck_assert(memcmp(in, w->probe_tok, w->probe_len) == 0);
	ck_assert_uint_eq(stats().contexts, contexts);
	st = SspiFreeCredentialsHandleAsync(a, &copy);
	expect_queued_then_invalid(st, a, rec, NULL, "free credentials");
	ck_assert(handle_eq(&copy, &bad));
	return 3;
}

/* --- flow ------------------------------------------------------------------- */

/* Microsoft's flow: create, set callback, ACH/ISC/ASC async until done (PENDING
 * before sspiasync_run(), the final status after, reinit between legs), then
 * delete and free credentials async, and free.  _i: 2 or 3 legs. */
START_TEST(test_async_documented_flow_handshake)
{
	int legs = 2 + _i;
	char target[64];
	snprintf(target, sizeof target, "host/test;legs=%d", legs);
	start(0);
	struct cb_rec rc, rs;
	SspiAsyncContext *ac = actx_new(&rc), *as = actx_new(&rs);
	ck_assert_ptr_ne(ac, as);
	ck_assert_uint_eq(stats().async_contexts, 2);
	struct ahs h;
	ahs_setup(&h, target);

	for (int side = 0; side < 2; side++) {
		SspiAsyncContext *a = side == 0 ? ac : as;
		struct cb_rec *r = side == 0 ? &rc : &rs;
		CredHandle *cred = side == 0 ? &h.cc : &h.sc;
		unsigned long use = side == 0 ? SECPKG_CRED_OUTBOUND : SECPKG_CRED_INBOUND;
		TimeStamp ts;
		handle_pat(cred);
		ts.QuadPart = PAT_TIME;
		ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, use, NULL, NULL,
								    NULL, NULL, cred, &ts),
				 SEC_E_OK);
		ck_assert(handle_is_pat(cred));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		ck_assert_uint_eq(stats().credentials, (uint64_t)side);
		ck_assert_uint_eq(stats().pending_calls, 1);
		run_expect(a, r, SEC_E_OK);
		ck_assert(!handle_is_pat(cred));
		ck_assert(SecIsValidHandle(cred));
		ck_assert_int_ne(ts.QuadPart, PAT_TIME);
		ck_assert_uint_eq(stats().credentials, (uint64_t)side + 1);
		actx_reinit(a);
	}

	ahs_run_to(&h, ac, &rc, as, &rs, legs, legs);
	ck_assert(!handle_eq(&h.c, &h.s));
	ck_assert_uint_eq(stats().contexts, 2);
	ck_assert_int_eq(rc.calls, 1 + (legs + 1) / 2);
	ck_assert_int_eq(rs.calls, 1 + legs / 2);
	msg_both_ways(&h.c, &h.s, 1);

	CtxtHandle c = h.c, s = h.s;
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ac, &c), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(as, &s), SEC_E_OK);
	ck_assert_uint_eq(stats().pending_calls, 2);
	ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_I_ASYNC_CALL_PENDING);
	ck_assert_uint_eq(run(0), 2);
	check_done(ac, &rc, 2 + (legs + 1) / 2, SEC_E_OK);
	check_done(as, &rs, 2 + legs / 2, SEC_E_OK);
	ck_assert_uint_eq(stats().contexts, 0);
	ck_assert(handle_eq(&c, &h.c) && handle_eq(&s, &h.s));
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_INVALID_HANDLE);
	actx_reinit(ac);
	actx_reinit(as);

	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(ac, &h.cc), SEC_E_OK);
	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(as, &h.sc), SEC_E_OK);
	ck_assert_uint_eq(run(0), 2);
	check_done(ac, &rc, 3 + (legs + 1) / 2, SEC_E_OK);
	check_done(as, &rs, 3 + legs / 2, SEC_E_OK);
	ck_assert_uint_eq(stats().credentials, 0);
	ck_assert_int_eq(FreeCredentialsHandle(&h.cc), SEC_E_INVALID_HANDLE);

	SspiFreeAsyncContext(ac);
	ck_assert_uint_eq(stats().async_contexts, 1);
	SspiFreeAsyncContext(as);
	ck_assert_uint_eq(stats().async_contexts, 0);
	finish();
}
END_TEST

/* sspiasync_run(max) runs at most max calls; 0 runs all. */
START_TEST(test_async_run_runs_at_most_max_calls)
{
	start(0);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND);
	struct cb_rec r[3];
	SspiAsyncContext *a[3];
	struct leg_out o[3];
	for (int i = 0; i < 3; i++) {
		a[i] = actx_new(&r[i]);
		ck_assert_int_eq(submit_isc_first(a[i], &cc, "host/test", &o[i]), SEC_E_OK);
	}
	ck_assert_uint_eq(stats().pending_calls, 3);
	ck_assert_uint_eq(run(1), 1);
	ck_assert_uint_eq(stats().pending_calls, 2);
	ck_assert_int_eq(r[0].calls + r[1].calls + r[2].calls, 1);
	ck_assert_uint_eq(run(0), 2);
	ck_assert_uint_eq(run(0), 0);
	for (int i = 0; i < 3; i++) {
		check_done(a[i], &r[i], 1, SEC_E_OK);
		ck_assert(!handle_is_pat(&o[i].newh));
		ck_assert_uint_gt(o[i].ob.cbBuffer, 0);
		ck_assert_int_eq(DeleteSecurityContext(&o[i].newh), SEC_E_OK);
		SspiFreeAsyncContext(a[i]);
	}
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	finish();
}
END_TEST

/* Inputs are copied when queued: token, target, input descriptors, and an
 * acquire's principal, package name and identity strings are poisoned right
 * after each submission; the handshake (a strict acceptor that checks the
 * password) still succeeds. */
START_TEST(test_async_inputs_copied_at_submission)
{
	start(0);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	struct ahs h;
	ahs_setup(&h, "host/test;legs=3");
	for (int side = 0; side < 2; side++) {
		char user[] = "alice", domain[] = "EXAMPLE", pw[] = "secret";
		char principal[] = "me", pkg[sizeof pkg_name];
		memcpy(pkg, pkg_name, sizeof pkg);
		SEC_WINNT_AUTH_IDENTITY_A id;
		identity(&id, user, domain, pw);
		TimeStamp ts;
		CredHandle *cred = side == 0 ? &h.cc : &h.sc;
		ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(
					 a, principal, pkg,
					 side == 0 ? SECPKG_CRED_OUTBOUND : SECPKG_CRED_INBOUND,
					 NULL, &id, NULL, NULL, cred, &ts),
				 SEC_E_OK);
		memset(user, POISON, sizeof user - 1);
		memset(domain, POISON, sizeof domain - 1);
		memset(pw, POISON, sizeof pw - 1);
		memset(principal, POISON, sizeof principal - 1);
		memset(pkg, POISON, sizeof pkg - 1);
		memset(&id, POISON, sizeof id);
		run_expect(a, &r, SEC_E_OK);
		actx_reinit(a);
	}
	h.own_creds = 1;
	for (int leg = 1; leg <= 3; leg++) {
		ck_assert_int_eq(ahs_submit(&h, a), SEC_E_OK);
		memset(h.in, POISON, sizeof h.in);
		memset(h.tgt, POISON, sizeof h.tgt - 1);
		h.tgt[sizeof h.tgt - 1] = '\0';
		memset(&h.ib, POISON, sizeof h.ib);
		memset(&h.id, POISON, sizeof h.id);
		run_expect(a, &r, leg_expected(3, leg));
		const char *err = ahs_complete(&h, leg_expected(3, leg));
		ck_assert_msg(err == NULL, "leg %d: %s", leg, err);
		actx_reinit(a);
	}
	/* The acceptor saw the identity given at submission. */
	SecPkgContext_NamesA n = {NULL};
	ck_assert_int_eq(QueryContextAttributesA(&h.s, SECPKG_ATTR_NAMES, &n), SEC_E_OK);
	ck_assert_ptr_nonnull(n.sUserName);
	ck_assert_str_eq(n.sUserName, "EXAMPLE\\alice");
	ck_assert_int_eq(FreeContextBuffer(n.sUserName), SEC_E_OK);
	msg_both_ways(&h.c, &h.s, 1);
	ahs_free(&h);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* stats: async_contexts (+1 create, -1 free when not pending, freed while
 * pending counts until the call ends) and pending_calls (queued, 0 after run). */
START_TEST(test_async_stats_count_async_contexts_and_pending_calls)
{
	start(0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.async_contexts, 0);
	ck_assert_uint_eq(s.pending_calls, 0);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND);
	struct cb_rec r[3];
	SspiAsyncContext *a[3];
	struct leg_out o[3];
	for (int i = 0; i < 3; i++) {
		a[i] = actx_new(&r[i]);
		ck_assert_uint_eq(stats().async_contexts, (uint64_t)i + 1);
	}
	ck_assert_uint_eq(stats().pending_calls, 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(submit_isc_first(a[i], &cc, "host/test", &o[i]), SEC_E_OK);
		ck_assert_uint_eq(stats().pending_calls, (uint64_t)i + 1);
	}
	ck_assert_uint_eq(stats().contexts, 0); /* nothing ran yet */
	SspiFreeAsyncContext(a[2]); /* pending: counted until its call ends */
	ck_assert_uint_eq(stats().async_contexts, 3);
	uint64_t completed = stats().completed_calls;
	run(0);
	s = stats();
	ck_assert_uint_eq(s.pending_calls, 0);
	ck_assert_uint_eq(s.async_contexts, 2);
	ck_assert_uint_eq(s.contexts, 2);
	ck_assert_uint_ge(s.completed_calls, completed + 2);
	assert_untouched(&o[2]);
	ck_assert_int_eq(r[2].calls, 0);
	for (int i = 0; i < 2; i++) {
		check_done(a[i], &r[i], 1, SEC_E_OK);
		SspiFreeAsyncContext(a[i]); /* DONE: gone at once */
		ck_assert_uint_eq(stats().async_contexts, 1 - (uint64_t)i);
		ck_assert_int_eq(DeleteSecurityContext(&o[i].newh), SEC_E_OK);
	}
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	finish();
}
END_TEST

/* threads != 0 is refused until the worker pool exists (sspiasync.h). */
START_TEST(test_async_init_twice_is_refused)
{
	start(0);
	struct sspiasync_config again = {0};
	ck_assert_int_eq(sspiasync_init(&again), SEC_E_INVALID_PARAMETER); /* already */
	finish();
}
END_TEST

/* ISC/ASC_REQ_ALLOCATE_MEMORY: the library's token reaches the caller's
 * SecBuffer at completion and goes back with FreeContextBuffer(). */
START_TEST(test_async_allocate_memory_tokens)
{
	start(0);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND), sc = acquire(SECPKG_CRED_INBOUND);
	struct ahs warm; /* grows the tables first: their chunks stay until shutdown */
	ahs_complete_pair(&warm, 2);
	ahs_free(&warm);
	uint64_t blocks = tl_live_blocks();
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	CtxtHandle c, sv;
	unsigned long attrs;
	TimeStamp ts;
	char target[] = "host/test;legs=2";
	SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target,
							     ISC_REQ_ALLOCATE_MEMORY, 0,
							     SECURITY_NATIVE_DREP, NULL, 0, &c, &od,
							     &attrs, &ts),
			 SEC_E_OK);
	ck_assert_ptr_null(ob.pvBuffer);
	run_expect(a, &r, SEC_E_OK);
	ck_assert_ptr_nonnull(ob.pvBuffer);
	ck_assert_uint_gt(ob.cbBuffer, 0);
	ck_assert(attrs & ISC_RET_ALLOCATED_MEMORY);
	actx_reinit(a);
	unsigned char tok[MAX_TOKEN];
	ck_assert_uint_le(ob.cbBuffer, sizeof tok);
	memcpy(tok, ob.pvBuffer, ob.cbBuffer);
	SecBuffer ib = {ob.cbBuffer, SECBUFFER_TOKEN, tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	ck_assert_int_eq(FreeContextBuffer(ob.pvBuffer), SEC_E_OK);
	ob = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
	ck_assert_int_eq(SspiAcceptSecurityContextAsync(a, &sc, NULL, &id, ASC_REQ_ALLOCATE_MEMORY,
							SECURITY_NATIVE_DREP, &sv, &od, &attrs, &ts),
			 SEC_E_OK);
	run_expect(a, &r, SEC_E_OK);
	ck_assert_uint_eq(ob.cbBuffer, 0); /* the last leg has no token */
	if (ob.pvBuffer != NULL)
		ck_assert_int_eq(FreeContextBuffer(ob.pvBuffer), SEC_E_OK);
	msg_both_ways(&c, &sv, 1);
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&sv), SEC_E_OK);
	SspiFreeAsyncContext(a);
	ck_assert_uint_eq(tl_live_blocks(), blocks);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	finish();
}
END_TEST

/* --- status table ------------------------------------------------------------ */

static void acquire_async_ok(SspiAsyncContext *a, struct cb_rec *r, CredHandle *out)
{
	TimeStamp ts;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_BOTH, NULL,
							    NULL, NULL, NULL, out, &ts),
			 SEC_E_OK);
	run_expect(a, r, SEC_E_OK);
}

START_TEST(test_async_status_is_invalid_parameter_when_idle)
{
	start(0);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r); /* asserts IDLE -> SEC_E_INVALID_PARAMETER */
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_PARAMETER);
	/* Reinit of an IDLE context is allowed and leaves it IDLE. */
	actx_reinit(a);
	CredHandle c;
	acquire_async_ok(a, &r, &c);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK); /* DONE, readable again */
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	actx_reinit(a);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_PARAMETER);
	run(0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* Each of the five ops on a busy @a: SEC_E_INVALID_PARAMETER, nothing queued,
 * outputs untouched, nothing changed.  @p: a legs=4 pair after leg 2. */
static void refuse_every_op(SspiAsyncContext *a, struct ahs *p, CtxtHandle *victim,
			    CredHandle *victim_cred)
{
	struct sspiasync_statistics before = stats();
	SECURITY_STATUS held = SspiGetAsyncCallStatus(a);
	struct leg_out o;
	CredHandle cred;
	TimeStamp ts;
	SecBuffer ib = {p->tok_len, SECBUFFER_TOKEN, p->tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	char target[] = "host/test;legs=4";

	handle_pat(&cred);
	ts.QuadPart = PAT_TIME;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_BOTH, NULL,
							    NULL, NULL, NULL, &cred, &ts),
			 SEC_E_INVALID_PARAMETER);
	ck_assert(handle_is_pat(&cred));
	ck_assert_int_eq(ts.QuadPart, PAT_TIME);
	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(a, victim_cred), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(submit_isc_first(a, &p->cc, "host/test", &o), SEC_E_INVALID_PARAMETER);
	assert_untouched(&o);
	leg_out_reset(&o);
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, &p->cc, &p->c, target, 0, 0,
							     SECURITY_NATIVE_DREP, &id, 0, &o.newh,
							     &o.od, &o.attrs, &o.ts),
			 SEC_E_INVALID_PARAMETER);
	assert_untouched(&o);
	leg_out_reset(&o);
	ck_assert_int_eq(SspiAcceptSecurityContextAsync(a, &p->sc, NULL, &id, 0, SECURITY_NATIVE_DREP,
							&o.newh, &o.od, &o.attrs, &o.ts),
			 SEC_E_INVALID_PARAMETER);
	assert_untouched(&o);
	leg_out_reset(&o);
	ck_assert_int_eq(SspiAcceptSecurityContextAsync(a, &p->sc, &p->s, &id, 0,
							SECURITY_NATIVE_DREP, &o.newh, &o.od,
							&o.attrs, &o.ts),
			 SEC_E_INVALID_PARAMETER);
	assert_untouched(&o);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a, victim), SEC_E_INVALID_PARAMETER);

	struct sspiasync_statistics after = stats();
	ck_assert_uint_eq(after.pending_calls, before.pending_calls);
	ck_assert_uint_eq(after.contexts, before.contexts);
	ck_assert_uint_eq(after.credentials, before.credentials);
	ck_assert_uint_eq(after.async_contexts, before.async_contexts);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), held);
}

/* Sspi*Async on a PENDING or a DONE-not-reinit context: refused, nothing
 * queued; the held call completes as it would have. */
START_TEST(test_async_submission_refused_when_pending_or_done)
{
	start(0);
	struct ahs q, p;
	ahs_complete_pair(&q, 2);
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	for (int done = 0; done < 2; done++) {
		struct leg_out o0;
		ck_assert_int_eq(submit_isc_first(a, &q.cc, "host/test", &o0), SEC_E_OK);
		if (done) {
			run(0);
			check_done(a, &r, done + 1, SEC_E_OK);
		} else {
			ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
		}
		refuse_every_op(a, &p, &q.c, &q.cc);
		ck_assert_uint_eq(run(0), done ? 0 : 1); /* only the held call */
		check_done(a, &r, done + 1, SEC_E_OK);
		ck_assert_int_eq(DeleteSecurityContext(&o0.newh), SEC_E_OK);
		actx_reinit(a);
	}
	/* Nothing refused ran: p continues at leg 3, q and its credential live. */
	ahs_handshake(&p, 4, 4);
	msg_both_ways(&p.c, &p.s, 1);
	msg_both_ways(&q.c, &q.s, 3);
	ahs_free(&p);
	ahs_free(&q);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

START_TEST(test_async_reinit_refused_when_pending)
{
	start(0);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	CredHandle c;
	TimeStamp ts;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_BOTH, NULL,
							    NULL, NULL, NULL, &c, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(SspiReinitAsyncContext(a), STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
	ck_assert_uint_eq(stats().pending_calls, 1);
	run_expect(a, &r, SEC_E_OK);
	actx_reinit(a);
	ck_assert(SspiAsyncContextRequiresNotify(a)); /* the registration is kept */
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* Every function of the family with one bad async context: the statuses of
 * the table, nothing queued, nothing written, nothing changed. */
static void probe_bad_actx(SspiAsyncContext *bad, struct world *w)
{
	struct sspiasync_statistics before = stats();
	struct cb_rec r;
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(SspiGetAsyncCallStatus(bad), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(SspiReinitAsyncContext(bad), STATUS_INVALID_HANDLE);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(bad), FALSE);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(bad, record_cb, &r), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(bad, NULL, NULL), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(bad), FALSE);

	CredHandle cred;
	TimeStamp ts;
	handle_pat(&cred);
	ts.QuadPart = PAT_TIME;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(bad, NULL, pkg_name, SECPKG_CRED_BOTH,
							    NULL, NULL, NULL, NULL, &cred, &ts),
			 SEC_E_INVALID_HANDLE);
	ck_assert(handle_is_pat(&cred));
	ck_assert_int_eq(ts.QuadPart, PAT_TIME);
	CredHandle cc = w->live.cc;
	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(bad, &cc), SEC_E_INVALID_HANDLE);

	struct leg_out o;
	ck_assert_int_eq(submit_isc_first(bad, &w->live.cc, "host/test", &o), SEC_E_INVALID_HANDLE);
	assert_untouched(&o);
	char target[] = "host/test;legs=3";
	SecBuffer ib = {w->partial.tok_len, SECBUFFER_TOKEN, w->partial.tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	CtxtHandle pc = w->partial.c;
	leg_out_reset(&o);
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(bad, &w->partial.cc, &pc, target, 0, 0,
							     SECURITY_NATIVE_DREP, &id, 0, &pc, &o.od,
							     &o.attrs, &o.ts),
			 SEC_E_INVALID_HANDLE);
	assert_untouched(&o);
	ck_assert(handle_eq(&pc, &w->partial.c));
	SecBuffer pb = {w->probe_len, SECBUFFER_TOKEN, w->probe_tok};
	SecBufferDesc pd = {SECBUFFER_VERSION, 1, &pb};
	leg_out_reset(&o);
	ck_assert_int_eq(SspiAcceptSecurityContextAsync(bad, &w->live.sc, NULL, &pd, 0,
							SECURITY_NATIVE_DREP, &o.newh, &o.od,
							&o.attrs, &o.ts),
			 SEC_E_INVALID_HANDLE);
	assert_untouched(&o);
	CtxtHandle ps = w->partial.s;
	leg_out_reset(&o);
	ck_assert_int_eq(SspiAcceptSecurityContextAsync(bad, &w->partial.sc, &ps, &id, 0,
							SECURITY_NATIVE_DREP, &ps, &o.od, &o.attrs,
							&o.ts),
			 SEC_E_INVALID_HANDLE);
	assert_untouched(&o);
	CtxtHandle lc = w->live.c;
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(bad, &lc), SEC_E_INVALID_HANDLE);

	SspiFreeAsyncContext(bad);
	SspiFreeAsyncContext(bad);
	ck_assert_uint_eq(run(0), 0);
	ck_assert_int_eq(r.calls, 0);
	struct sspiasync_statistics after = stats();
	ck_assert_uint_eq(after.pending_calls, before.pending_calls);
	ck_assert_uint_eq(after.async_contexts, before.async_contexts);
	ck_assert_uint_eq(after.contexts, before.contexts);
	ck_assert_uint_eq(after.credentials, before.credentials);
}

START_TEST(test_async_bad_async_context_is_invalid_everywhere)
{
	start(0);
	struct world w;
	world_make(&w);
	struct cb_rec r;
	SspiAsyncContext *live = actx_new(&r);
	SspiAsyncContext *freed_idle = actx_new(NULL);
	SspiFreeAsyncContext(freed_idle);
	SspiAsyncContext *freed_done = actx_new(&r);
	CredHandle c;
	acquire_async_ok(freed_done, &r, &c);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	SspiFreeAsyncContext(freed_done);
	SspiAsyncContext *reuse = actx_new(NULL); /* may take a freed slot */
	ck_assert_uint_eq(stats().async_contexts, 2);
	unsigned char *heap = malloc(64);
	ck_assert_ptr_nonnull(heap);
	memset(heap, PAT, 64);

	SspiAsyncContext *bad[8 + ACTX_BITS + 16];
	size_t nb = 0;
	bad[nb++] = freed_idle;
	bad[nb++] = freed_done;
	bad[nb++] = (SspiAsyncContext *)(uintptr_t)1;
	bad[nb++] = (SspiAsyncContext *)heap;
	bad[nb++] = (SspiAsyncContext *)&w;
	bad[nb++] = (SspiAsyncContext *)UINTPTR_MAX;
	bad[nb++] = NULL; /* Reading: a NULL handle pointer is an invalid handle */
	for (unsigned b = 0; b < ACTX_BITS; b++)
		bad[nb++] = (SspiAsyncContext *)((uintptr_t)live ^ ((uintptr_t)1 << b));
	uint64_t seed = 0x243f6a8885a308d3u;
	while (nb < sizeof bad / sizeof bad[0])
		bad[nb++] = (SspiAsyncContext *)(uintptr_t)tl_rand(&seed);
	for (size_t i = 0; i < nb; i++) {
		if (bad[i] == live || bad[i] == reuse)
			continue; /* a random value hit a live one: not a forgery */
		probe_bad_actx(bad[i], &w);
	}
	ck_assert(bytes_are(heap, 64, PAT));
	free(heap);

	/* The live ones are unharmed. */
	ck_assert_int_eq(SspiGetAsyncCallStatus(live), SEC_E_INVALID_PARAMETER);
	ck_assert(SspiAsyncContextRequiresNotify(live));
	ck_assert(!SspiAsyncContextRequiresNotify(reuse));
	acquire_async_ok(live, &r, &c);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	SspiFreeAsyncContext(live);
	SspiFreeAsyncContext(reuse);
	ck_assert_uint_eq(stats().async_contexts, 0);
	world_check_and_free(&w);
	finish();
}
END_TEST

START_TEST(test_async_requires_notify_iff_callback_set)
{
	start(0);
	struct cb_rec r;
	memset(&r, 0, sizeof r);
	SspiAsyncContext *a = actx_new(NULL);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), FALSE);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, record_cb, &r), SEC_E_OK);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), TRUE);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, NULL, NULL), SEC_E_OK);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), FALSE);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, record_cb, NULL), SEC_E_OK); /* data optional */
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), TRUE);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, record_cb, &r), SEC_E_OK);
	CredHandle c;
	TimeStamp ts;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_BOTH, NULL,
							    NULL, NULL, NULL, &c, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), TRUE); /* PENDING */
	run_expect(a, &r, SEC_E_OK);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), TRUE); /* DONE */
	actx_reinit(a);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), TRUE); /* kept by reinit */
	/* No callback: the caller polls. */
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, NULL, NULL), SEC_E_OK);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), FALSE);
	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(a, &c), SEC_E_OK);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
	run(0);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_uint_eq(stats().credentials, 0);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* Setting a callback while PENDING is refused (the old one stays); clearing
 * it is allowed and suppresses the pending call's callback. */
START_TEST(test_async_set_callback_refused_when_pending_except_clear)
{
	start(0);
	struct cb_rec r1, r2;
	memset(&r2, 0, sizeof r2);
	SspiAsyncContext *a = actx_new(&r1);
	CredHandle c, d;
	TimeStamp ts;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_BOTH, NULL,
							    NULL, NULL, NULL, &c, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, record_cb, &r2), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, record_cb, &r1), SEC_E_INVALID_PARAMETER);
	ck_assert(SspiAsyncContextRequiresNotify(a));
	run_expect(a, &r1, SEC_E_OK);
	ck_assert_int_eq(r2.calls, 0);
	actx_reinit(a);

	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_BOTH, NULL,
							    NULL, NULL, NULL, &d, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, NULL, NULL), SEC_E_OK);
	ck_assert(!SspiAsyncContextRequiresNotify(a));
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
	run(0);
	ck_assert_int_eq(r1.calls, 1); /* suppressed */
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	ck_assert_uint_eq(stats().credentials, 2);
	/* DONE: setting is allowed again, and no callback runs for the past call. */
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, record_cb, &r2), SEC_E_OK);
	run(0);
	ck_assert_int_eq(r2.calls, 0);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&d), SEC_E_OK);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* Structural errors are queueing errors: refused, the context stays IDLE,
 * nothing queued, outputs untouched; a good submission then works. */
START_TEST(test_async_structural_errors_refused_nothing_queued)
{
	start(0);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND), sc = acquire(SECPKG_CRED_INBOUND);
	char target[] = "host/test", unknown[] = "NoSuchPackage";
	struct leg_out o;
	unsigned char tok[8] = {0};
	SecBuffer ib = {sizeof tok, SECBUFFER_TOKEN, tok};
	SecBufferDesc bad_version = {SECBUFFER_VERSION + 1, 1, &ib};
	SecBufferDesc no_array = {SECBUFFER_VERSION, 1, NULL};
	CredHandle cred;
	TimeStamp ts;
	for (int k = 0; k < 8; k++) {
		SECURITY_STATUS st, want = SEC_E_INVALID_PARAMETER;
		leg_out_reset(&o);
		handle_pat(&cred);
		ts.QuadPart = PAT_TIME;
		switch (k) {
		case 0: /* NULL pfContextAttr */
			st = SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 0,
								 SECURITY_NATIVE_DREP, NULL, 0,
								 &o.newh, &o.od, NULL, &o.ts);
			break;
		case 1: /* Reserved1 != 0 */
			st = SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 1,
								 SECURITY_NATIVE_DREP, NULL, 0,
								 &o.newh, &o.od, &o.attrs, &o.ts);
			break;
		case 2: /* Reserved2 != 0 */
			st = SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 0,
								 SECURITY_NATIVE_DREP, NULL, 7,
								 &o.newh, &o.od, &o.attrs, &o.ts);
			break;
		case 3: /* input of another version */
			st = SspiAcceptSecurityContextAsync(a, &sc, NULL, &bad_version, 0,
							    SECURITY_NATIVE_DREP, &o.newh, &o.od,
							    &o.attrs, &o.ts);
			break;
		case 4: /* input with no buffer array */
			st = SspiAcceptSecurityContextAsync(a, &sc, NULL, &no_array, 0,
							    SECURITY_NATIVE_DREP, &o.newh, &o.od,
							    &o.attrs, &o.ts);
			break;
		case 5: /* NULL phCredential out */
			st = SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_BOTH,
								NULL, NULL, NULL, NULL, NULL, &ts);
			break;
		case 6: /* unknown package */
			want = SEC_E_SECPKG_NOT_FOUND;
			st = SspiAcquireCredentialsHandleAsyncA(a, NULL, unknown, SECPKG_CRED_BOTH,
								NULL, NULL, NULL, NULL, &cred, &ts);
			break;
		default: /* first leg without phNewContext */
			st = SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 0,
								 SECURITY_NATIVE_DREP, NULL, 0, NULL,
								 &o.od, &o.attrs, &o.ts);
			break;
		}
		ck_assert_msg(st == want, "case %d: 0x%08x, expected 0x%08x", k, (unsigned)st,
			      (unsigned)want);
		assert_untouched(&o);
		ck_assert(handle_is_pat(&cred));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_PARAMETER);
		ck_assert_uint_eq(stats().pending_calls, 0);
	}
	ck_assert_uint_eq(run(0), 0);
	ck_assert_int_eq(r.calls, 0);
	ck_assert_uint_eq(stats().contexts, 0);
	ck_assert_int_eq(submit_isc_first(a, &cc, "host/test", &o), SEC_E_OK);
	run_expect(a, &r, SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&o.newh), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* Reading: a NULL security-context or credential handle pointer is a bad
 * handle (sspi.h conventions), and a bad handle is not a queueing error: the
 * call is queued and completes SEC_E_INVALID_HANDLE. */
START_TEST(test_async_null_handle_pointers_complete_invalid_handle)
{
	start(0);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	struct leg_out o;
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a, NULL), SEC_E_OK);
	run_expect(a, &r, SEC_E_INVALID_HANDLE);
	actx_reinit(a);
	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(a, NULL), SEC_E_OK);
	run_expect(a, &r, SEC_E_INVALID_HANDLE);
	actx_reinit(a);
	ck_assert_int_eq(submit_isc_first(a, NULL, "host/test", &o), SEC_E_OK);
	run_expect(a, &r, SEC_E_INVALID_HANDLE);
	assert_untouched(&o);
	ck_assert_uint_eq(stats().contexts, 0);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* --- stale: bad security-context and credential handles -------------------- */

START_TEST(test_async_stale_handles_complete_invalid_handle)
{
	start(0);
	struct world w;
	world_make(&w);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	struct ahs d;
	ahs_complete_pair(&d, 3);
	CtxtHandle dc = d.c, ds = d.s;
	CredHandle fc = d.cc, fs = d.sc;
	ahs_free(&d);
	probe_async_bad_ctx(a, &r, dc, &w);
	probe_async_bad_ctx(a, &r, ds, &w);
	probe_async_bad_cred(a, &r, fc, &w);
	probe_async_bad_cred(a, &r, fs, &w);
	/* Still stale after their slots are reused. */
	struct ahs re;
	ahs_complete_pair(&re, 2);
	ck_assert(!handle_eq(&re.c, &dc) && !handle_eq(&re.s, &ds));
	probe_async_bad_ctx(a, &r, dc, &w);
	probe_async_bad_ctx(a, &r, ds, &w);
	probe_async_bad_cred(a, &r, fc, &w);
	msg_both_ways(&re.c, &re.s, 1);
	ahs_free(&re);
	SspiFreeAsyncContext(a);
	world_check_and_free(&w);
	finish();
}
END_TEST

START_TEST(test_async_zeroed_invalidated_forged_handles_complete_invalid_handle)
{
	start(0);
	struct world w;
	world_make(&w);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	SecHandle bad[16 + 24];
	size_t nb = 0;
	bad[nb++] = (SecHandle){0, 0};
	SecInvalidateHandle(&bad[nb]);
	nb++;
	bad[nb++] = (SecHandle){SEC_DELETED_HANDLE, SEC_DELETED_HANDLE};
	bad[nb++] = (SecHandle){w.live.c.dwLower, 0};
	bad[nb++] = (SecHandle){0, w.live.c.dwUpper};
	bad[nb++] = (SecHandle){w.live.c.dwLower, w.live.s.dwUpper};
	bad[nb++] = (SecHandle){w.live.s.dwLower, w.live.c.dwUpper};
	bad[nb++] = (SecHandle){w.live.c.dwUpper, w.live.c.dwLower};
	bad[nb++] = (SecHandle){w.live.cc.dwLower, w.live.c.dwUpper};
	bad[nb++] = (SecHandle){(ULONG_PTR)&w, (ULONG_PTR)&w}; /* a pointer */
	bad[nb++] = (SecHandle){1, 1};
	uint64_t seed = 0x9e3779b97f4a7c15u;
	while (nb < sizeof bad / sizeof bad[0])
		bad[nb++] = (SecHandle){(ULONG_PTR)tl_rand(&seed), (ULONG_PTR)tl_rand(&seed)};
	for (size_t i = 0; i < nb; i++) {
		probe_async_bad_ctx(a, &r, bad[i], &w);
		probe_async_bad_cred(a, &r, bad[i], &w);
	}
	SspiFreeAsyncContext(a);
	world_check_and_free(&w);
	finish();
}
END_TEST

START_TEST(test_async_bit_flipped_handles_complete_invalid_handle)
{
	start(0);
	struct world w;
	world_make(&w);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	SecHandle live[5] = {w.live.c, w.live.s, w.partial.c, w.live.cc, w.partial.sc};
	unsigned wbits = (unsigned)(sizeof(ULONG_PTR) * CHAR_BIT);
	for (int which = 0; which < 5; which++) {
		for (unsigned b = 0; b < HANDLE_BITS; b++) {
			SecHandle x = live[which];
			if (b < wbits)
				x.dwLower ^= (ULONG_PTR)1 << b;
			else
				x.dwUpper ^= (ULONG_PTR)1 << (b - wbits);
			if (which < 3)
				probe_async_bad_ctx(a, &r, x, &w);
			else
				probe_async_bad_cred(a, &r, x, &w);
		}
	}
	SspiFreeAsyncContext(a);
	world_check_and_free(&w);
	finish();
}
END_TEST

START_TEST(test_async_wrong_kind_handles_complete_invalid_handle)
{
	start(0);
	struct world w;
	world_make(&w);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	/* Credentials as contexts (delete must not free them)... */
	probe_async_bad_ctx(a, &r, w.live.cc, &w);
	probe_async_bad_ctx(a, &r, w.live.sc, &w);
	probe_async_bad_ctx(a, &r, w.partial.cc, &w);
	/* ...and contexts as credentials (free must not delete them). */
	probe_async_bad_cred(a, &r, w.live.c, &w);
	probe_async_bad_cred(a, &r, w.live.s, &w);
	probe_async_bad_cred(a, &r, w.partial.c, &w);
	probe_async_bad_cred(a, &r, w.probe_c, &w);
	SspiFreeAsyncContext(a);
	world_check_and_free(&w);
	finish();
}
END_TEST

/* stats: each async call that completes SEC_E_INVALID_HANDLE is a completed
 * call answered SEC_E_INVALID_HANDLE (rejected_stale), as a sync one is.
 * Reading: sspiasync.h "completed_calls: context and credential calls
 * completed since init; rejected_stale: of those, answered
 * SEC_E_INVALID_HANDLE" covers async completions. */
START_TEST(test_async_stale_completions_counted_in_stats)
{
	start(0);
	struct world w;
	world_make(&w);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	struct ahs d;
	ahs_complete_pair(&d, 2);
	CtxtHandle dc = d.c;
	CredHandle fc = d.cc;
	ahs_free(&d);
	struct sspiasync_statistics before = stats();
	unsigned n = probe_async_bad_ctx(a, &r, dc, &w);
	n += probe_async_bad_cred(a, &r, fc, &w);
	struct sspiasync_statistics after = stats();
	ck_assert_msg(after.rejected_stale == before.rejected_stale + n,
		      "rejected_stale %llu -> %llu after %u stale completions",
		      (unsigned long long)before.rejected_stale,
		      (unsigned long long)after.rejected_stale, n);
	ck_assert_uint_ge(after.completed_calls, before.completed_calls + n);
	SspiFreeAsyncContext(a);
	world_check_and_free(&w);
	finish();
}
END_TEST

/* Handles are resolved at submission: a queued first leg keeps its
 * credential alive through a FreeCredentialsHandle() that follows. */
START_TEST(test_async_queued_first_leg_keeps_its_credential)
{
	start(0);
	struct cb_rec rc, rs;
	SspiAsyncContext *ac = actx_new(&rc), *as = actx_new(&rs);
	struct ahs h;
	ahs_init(&h, "host/test;legs=3");
	ck_assert_int_eq(ahs_submit(&h, ac), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.cc), SEC_E_OK);
	run_expect(ac, &rc, SEC_I_CONTINUE_NEEDED);
	ck_assert_ptr_null(ahs_complete(&h, SEC_I_CONTINUE_NEEDED));
	actx_reinit(ac);
	ck_assert_int_eq(ahs_submit(&h, as), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.sc), SEC_E_OK);
	run_expect(as, &rs, SEC_E_OK);
	ck_assert_ptr_null(ahs_complete(&h, SEC_E_OK));
	actx_reinit(as);
	h.own_creds = 0;
	ahs_run_to(&h, ac, &rc, as, &rs, 3, 3);
	msg_both_ways(&h.c, &h.s, 1);
	ahs_free(&h);
	ck_assert_uint_eq(stats().credentials, 0);
	SspiFreeAsyncContext(ac);
	SspiFreeAsyncContext(as);
	finish();
}
END_TEST

/* --- delete -------------------------------------------------------------------- */

/* A second delete, sync or async, completes SEC_E_INVALID_HANDLE. */
START_TEST(test_async_double_delete_completes_invalid_handle)
{
	start(0);
	struct ahs nb, h, g;
	ahs_complete_pair(&nb, 2);
	ahs_complete_pair(&h, 3);
	ahs_complete_pair(&g, 2);
	struct cb_rec r1, r2;
	SspiAsyncContext *a1 = actx_new(&r1), *a2 = actx_new(&r2);

	/* Sync, then async. */
	CtxtHandle c = h.c;
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a1, &c), SEC_E_OK);
	run_expect(a1, &r1, SEC_E_INVALID_HANDLE);
	actx_reinit(a1);
	/* Async, then async, both queued before the run. */
	CtxtHandle s = h.s;
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a1, &s), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a2, &s), SEC_E_OK);
	ck_assert_uint_eq(run(0), 2);
	check_done(a1, &r1, 2, SEC_E_OK);
	check_done(a2, &r2, 1, SEC_E_INVALID_HANDLE);
	ck_assert_uint_lt(r1.order, r2.order);
	h.have_c = h.have_s = 0;
	ck_assert_uint_eq(stats().contexts, 4);
	actx_reinit(a1);
	actx_reinit(a2);
	/* Async (queued), then sync: the handle is DELETING, so the sync one
	 * is refused; whether it ran the queued delete on its way (DONE) or not
	 * (PENDING), the async one's callback waits for the next run. */
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a1, &g.c), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&g.c), SEC_E_INVALID_HANDLE);
	SECURITY_STATUS mid = SspiGetAsyncCallStatus(a1);
	ck_assert_msg(mid == SEC_E_OK || mid == SEC_I_ASYNC_CALL_PENDING, "0x%08x", (unsigned)mid);
	ck_assert_int_eq(r1.calls, 2);
	run(0);
	check_done(a1, &r1, 3, SEC_E_OK);
	g.have_c = 0;
	ck_assert_uint_eq(stats().contexts, 3);
	/* A double async free of a credential. */
	actx_reinit(a1);
	actx_reinit(a2);
	CredHandle x = acquire(SECPKG_CRED_BOTH);
	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(a1, &x), SEC_E_OK);
	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(a2, &x), SEC_E_OK);
	run(0);
	check_done(a1, &r1, 4, SEC_E_OK);
	check_done(a2, &r2, 2, SEC_E_INVALID_HANDLE);

	msg_both_ways(&nb.c, &nb.s, 1);
	ahs_free(&nb);
	ahs_free(&h);
	ahs_free(&g);
	SspiFreeAsyncContext(a1);
	SspiFreeAsyncContext(a2);
	finish();
}
END_TEST

/* Legs queued before a delete and not started complete SEC_E_INVALID_HANDLE
 * without running; the delete completes SEC_E_OK after them. */
START_TEST(test_async_delete_fails_legs_queued_before_it)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2); /* both PARTIAL; leg 3 is the client's */
	struct cb_rec rl, rd;
	SspiAsyncContext *al = actx_new(&rl), *ad = actx_new(&rd);
	uint64_t contexts = stats().contexts;
	ck_assert_int_eq(ahs_submit(&p, al), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ad, &p.c), SEC_E_OK);
	ck_assert_uint_eq(stats().pending_calls, 2);
	ck_assert_uint_eq(run(0), 2);
	check_done(al, &rl, 1, SEC_E_INVALID_HANDLE);
	check_done(ad, &rd, 1, SEC_E_OK);
	ck_assert_uint_lt(rl.order, rd.order);
	assert_untouched(&p.o);
	ck_assert(handle_eq(&p.c, &p.saved));
	ck_assert_uint_eq(stats().contexts, contexts - 1);
	ck_assert_int_eq(DeleteSecurityContext(&p.c), SEC_E_INVALID_HANDLE);
	p.have_c = 0;
	/* The server side is unaffected: still PARTIAL, deletable. */
	SecPkgContext_Sizes sz;
	ck_assert_int_ne(QueryContextAttributesA(&p.s, SECPKG_ATTR_SIZES, &sz), SEC_E_INVALID_HANDLE);
	ahs_free(&p);
	SspiFreeAsyncContext(al);
	SspiFreeAsyncContext(ad);
	finish();
}
END_TEST

/* From the moment a delete is queued the handle admits no new call: each
 * call queued after it on that handle completes SEC_E_INVALID_HANDLE
 * (here the handle goes stale between queueing and running). */
START_TEST(test_async_calls_queued_after_delete_complete_invalid_handle)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	struct cb_rec rd, rl, rq, rs;
	SspiAsyncContext *ad = actx_new(&rd), *al = actx_new(&rl), *aq = actx_new(&rq),
			 *as = actx_new(&rs);
	uint64_t contexts = stats().contexts;
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ad, &p.c), SEC_E_OK);
	ck_assert_int_eq(ahs_submit(&p, al), SEC_E_OK); /* leg 3 on the doomed client */
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(aq, &p.c), SEC_E_OK);
	/* The server's own queue is independent: its delete works. */
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(as, &p.s), SEC_E_OK);
	ck_assert_uint_eq(stats().pending_calls, 4);
	run(0);
	check_done(ad, &rd, 1, SEC_E_OK);
	check_done(al, &rl, 1, SEC_E_INVALID_HANDLE);
	check_done(aq, &rq, 1, SEC_E_INVALID_HANDLE);
	check_done(as, &rs, 1, SEC_E_OK);
	ck_assert_uint_lt(rd.order, rl.order);
	ck_assert_uint_lt(rd.order, rq.order);
	assert_untouched(&p.o);
	ck_assert_uint_eq(stats().contexts, contexts - 2);
	p.have_c = p.have_s = 0;
	ahs_free(&p);
	SspiFreeAsyncContext(ad);
	SspiFreeAsyncContext(al);
	SspiFreeAsyncContext(aq);
	SspiFreeAsyncContext(as);
	finish();
}
END_TEST

/* Fire-and-forget: delete with no callback, free the async context at once;
 * the delete still happens at the next run. */
START_TEST(test_async_fire_and_forget_delete)
{
	start(0);
	struct ahs q;
	ahs_complete_pair(&q, 2);
	uint64_t contexts = stats().contexts;
	SspiAsyncContext *a = actx_new(NULL);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a, &q.c), SEC_E_OK);
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_HANDLE);
	ck_assert_uint_eq(stats().pending_calls, 1);
	run(0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.contexts, contexts - 1);
	ck_assert_uint_eq(s.pending_calls, 0);
	ck_assert_uint_eq(s.async_contexts, 0);
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(&q.c, SECPKG_ATTR_SIZES, &sz), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(DeleteSecurityContext(&q.c), SEC_E_INVALID_HANDLE);
	SspiFreeAsyncContext(a); /* double free: no-op */
	q.have_c = 0;
	ahs_free(&q);
	finish();
}
END_TEST

/* Reading: a sync delete "runs after the calls already queued on it" the way
 * an async delete does: it makes the context DELETING first, so a leg queued
 * before it and not started completes SEC_E_INVALID_HANDLE without the
 * package (nothing written), at once; its callback waits for the next run. */
START_TEST(test_async_sync_delete_fails_queued_leg_like_async_delete)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=3");
	ahs_handshake(&p, 3, 2);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	uint64_t contexts = stats().contexts;
	ck_assert_int_eq(ahs_submit(&p, a), SEC_E_OK); /* leg 3 */
	ck_assert_int_eq(DeleteSecurityContext(&p.c), SEC_E_OK);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(r.calls, 0);
	assert_untouched(&p.o);
	ck_assert_uint_eq(stats().contexts, contexts - 1);
	ck_assert_uint_eq(stats().pending_calls, 0);
	run(0);
	check_done(a, &r, 1, SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(DeleteSecurityContext(&p.c), SEC_E_INVALID_HANDLE);
	p.have_c = 0;
	ahs_free(&p);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* Completions of calls on one security context are delivered in submission
 * order, also when the handle is DELETING: delete, leg, delete. */
START_TEST(test_async_completions_on_one_context_in_submission_order)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	struct cb_rec rd, rl, rq;
	SspiAsyncContext *ad = actx_new(&rd), *al = actx_new(&rl), *aq = actx_new(&rq);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ad, &p.c), SEC_E_OK);
	ck_assert_int_eq(ahs_submit(&p, al), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(aq, &p.c), SEC_E_OK);
	run(0);
	check_done(ad, &rd, 1, SEC_E_OK);
	check_done(al, &rl, 1, SEC_E_INVALID_HANDLE);
	check_done(aq, &rq, 1, SEC_E_INVALID_HANDLE);
	ck_assert_msg(rd.order < rl.order && rl.order < rq.order,
		      "callback order: delete %u, leg %u, second delete %u", rd.order, rl.order,
		      rq.order);
	p.have_c = 0;
	ahs_free(&p);
	SspiFreeAsyncContext(ad);
	SspiFreeAsyncContext(al);
	SspiFreeAsyncContext(aq);
	finish();
}
END_TEST

/* --- free while pending ------------------------------------------------------------ */

/* A freed pending first leg: the context it would create never appears, no
 * callback, the output memory untouched. */
START_TEST(test_async_free_pending_first_leg_creates_nothing)
{
	start(0);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND), sc = acquire(SECPKG_CRED_INBOUND);
	struct sspiasync_statistics before = stats();
	for (int side = 0; side < 2; side++) {
		struct cb_rec r;
		SspiAsyncContext *a = actx_new(&r);
		struct ahs h;
		ahs_setup(&h, "host/test;legs=3");
		h.cc = cc;
		h.sc = sc;
		if (side == 1) {
			ahs_handshake(&h, 3, 1); /* the client exists; the ASC first leg is next */
			before = stats();
		}
		ck_assert_int_eq(ahs_submit(&h, a), SEC_E_OK);
		SspiFreeAsyncContext(a);
		ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_HANDLE);
		run(0);
		ck_assert_int_eq(r.calls, 0);
		assert_untouched(&h.o);
		struct sspiasync_statistics s = stats();
		ck_assert_uint_eq(s.contexts, before.contexts);
		ck_assert_uint_eq(s.pending_calls, 0);
		ck_assert_uint_eq(s.async_contexts, 0);
		ahs_free(&h);
		before = stats();
	}
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	finish();
}
END_TEST

/* A freed pending later leg never reaches the package: the context is
 * unchanged, so the same leg submitted again on a new async context works
 * (had it run, the context would be complete: SEC_E_OUT_OF_SEQUENCE). */
START_TEST(test_async_free_pending_later_leg_skips_package)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=3");
	ahs_handshake(&p, 3, 2);
	struct cb_rec r, r2;
	SspiAsyncContext *a = actx_new(&r);
	ck_assert_int_eq(ahs_submit(&p, a), SEC_E_OK); /* leg 3 */
	SspiFreeAsyncContext(a);
	run(0);
	ck_assert_int_eq(r.calls, 0);
	assert_untouched(&p.o);
	ck_assert(handle_eq(&p.c, &p.saved));
	ck_assert_uint_eq(stats().async_contexts, 0);
	SspiAsyncContext *b = actx_new(&r2);
	ahs_leg(&p, b, &r2, SEC_E_OK);
	msg_both_ways(&p.c, &p.s, 1);
	ahs_free(&p);
	SspiFreeAsyncContext(b);
	finish();
}
END_TEST

/* A queued delete whose async context is freed still tears down, with no
 * callback. */
START_TEST(test_async_free_pending_delete_still_deletes)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	uint64_t contexts = stats().contexts;
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a, &p.s), SEC_E_OK);
	SspiFreeAsyncContext(a);
	run(0);
	ck_assert_int_eq(r.calls, 0);
	ck_assert_uint_eq(stats().contexts, contexts - 1);
	ck_assert_int_eq(DeleteSecurityContext(&p.s), SEC_E_INVALID_HANDLE);
	p.have_s = 0;
	ahs_free(&p);
	finish();
}
END_TEST

/* Free of an IDLE or DONE context is immediate; a second free is a no-op. */
START_TEST(test_async_free_done_context_then_double_free)
{
	start(0);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r), *b = actx_new(NULL);
	CredHandle c;
	acquire_async_ok(a, &r, &c);
	ck_assert_uint_eq(stats().async_contexts, 2);
	SspiFreeAsyncContext(a);
	ck_assert_uint_eq(stats().async_contexts, 1);
	SspiFreeAsyncContext(a);
	SspiFreeAsyncContext(NULL);
	ck_assert_uint_eq(stats().async_contexts, 1);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(SspiGetAsyncCallStatus(b), SEC_E_INVALID_PARAMETER);
	SspiFreeAsyncContext(b);
	ck_assert_uint_eq(stats().async_contexts, 0);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	run(0);
	ck_assert_int_eq(r.calls, 1);
	finish();
}
END_TEST

/* --- callbacks ------------------------------------------------------------------- */

struct self_free {
	int calls;
	SECURITY_STATUS status; /* before the free */
	SECURITY_STATUS after;  /* after it */
};

static void free_self_cb(SspiAsyncContext *handle, PVOID data)
{
	struct self_free *f = data;
	f->calls++;
	f->status = SspiGetAsyncCallStatus(handle);
	SspiFreeAsyncContext(handle);
	f->after = SspiGetAsyncCallStatus(handle);
}

START_TEST(test_async_callback_frees_its_own_context)
{
	start(0);
	struct ahs q;
	ahs_complete_pair(&q, 2);
	struct self_free f[3];
	SspiAsyncContext *a[3];
	CredHandle c[2];
	TimeStamp ts;
	memset(f, 0, sizeof f);
	for (int i = 0; i < 3; i++) {
		a[i] = actx_new(NULL);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a[i], free_self_cb, &f[i]), SEC_E_OK);
	}
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a[i], NULL, pkg_name,
								    SECPKG_CRED_BOTH, NULL, NULL,
								    NULL, NULL, &c[i], &ts),
				 SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[2], &q.s), SEC_E_OK);
	ck_assert_uint_eq(run(0), 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(f[i].calls, 1);
		ck_assert_int_eq(f[i].status, SEC_E_OK);
		ck_assert_int_eq(f[i].after, SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(SspiGetAsyncCallStatus(a[i]), SEC_E_INVALID_HANDLE);
	}
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.async_contexts, 0);
	ck_assert_uint_eq(s.pending_calls, 0);
	ck_assert_uint_eq(s.contexts, 1);
	ck_assert_uint_eq(run(0), 0);
	q.have_s = 0;
	ahs_free(&q);
	ck_assert_int_eq(FreeCredentialsHandle(&c[0]), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&c[1]), SEC_E_OK);
	finish();
}
END_TEST

/* A handshake driven entirely from its callback: each completion takes the
 * outputs, reinits and submits the next leg on the same async context. */
struct driver {
	struct ahs h;
	int total;
	int callbacks;
	int done;
	unsigned run_inside;  /* what sspiasync_run(0) returned inside callbacks */
	char err[160];        /* the first thing that went wrong */
};

static void driver_fail(struct driver *d, const char *what, int leg, SECURITY_STATUS st)
{
	if (d->err[0] == '\0')
		snprintf(d->err, sizeof d->err, "leg %d: %s (0x%08x)", leg, what, (unsigned)st);
}

static void drive_cb(SspiAsyncContext *a, PVOID data)
{
	struct driver *d = data;
	int leg = d->h.leg + 1;
	d->callbacks++;
	if (g_in_run == 0)
		driver_fail(d, "callback outside sspiasync_run()", leg, 0);
	d->run_inside += sspiasync_run(0);
	SECURITY_STATUS st = SspiGetAsyncCallStatus(a);
	if (st != leg_expected(d->total, leg)) {
		driver_fail(d, "unexpected status", leg, st);
		return;
	}
	const char *e = ahs_complete(&d->h, st);
	if (e != NULL) {
		driver_fail(d, e, leg, st);
		return;
	}
	if (d->h.leg == d->total) {
		d->done = 1;
		return;
	}
	NTSTATUS nt = SspiReinitAsyncContext(a);
	if (nt != STATUS_SUCCESS) {
		driver_fail(d, "reinit", leg, nt);
		return;
	}
	st = ahs_submit(&d->h, a);
	if (st != SEC_E_OK)
		driver_fail(d, "submission of the next leg", leg + 1, st);
}

START_TEST(test_async_handshake_driven_from_callbacks)
{
	int legs = 2 + _i; /* 2..4 */
	char target[64];
	snprintf(target, sizeof target, "host/test;legs=%d", legs);
	start(0);
	struct driver d;
	memset(&d, 0, sizeof d);
	ahs_init(&d.h, target);
	d.total = legs;
	SspiAsyncContext *a = actx_new(NULL);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, drive_cb, &d), SEC_E_OK);
	ck_assert_int_eq(ahs_submit(&d.h, a), SEC_E_OK);
	ck_assert_uint_eq(run(0), (unsigned)legs); /* one call: every leg */
	ck_assert_msg(d.err[0] == '\0', "%s", d.err);
	ck_assert(d.done);
	ck_assert_int_eq(d.callbacks, legs);
	ck_assert_uint_eq(d.run_inside, 0);
	ck_assert_int_eq(d.h.leg, legs);
	ck_assert_uint_eq(stats().pending_calls, 0);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	msg_both_ways(&d.h.c, &d.h.s, 1);
	ahs_free(&d.h);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* A callback calls sync functions on the context its call just made. */
struct sync_in_cb {
	CtxtHandle *ctx;
	CredHandle *cred;
	int calls;
	SECURITY_STATUS leg, query, del, del_again, free_cred;
	unsigned long max_token;
};

static void sync_cb(SspiAsyncContext *a, PVOID data)
{
	struct sync_in_cb *s = data;
	SecPkgContext_Sizes sz;
	memset(&sz, 0, sizeof sz);
	s->calls++;
	s->leg = SspiGetAsyncCallStatus(a);
	s->query = QueryContextAttributesA(s->ctx, SECPKG_ATTR_SIZES, &sz);
	s->max_token = sz.cbMaxToken;
	s->del = DeleteSecurityContext(s->ctx);
	s->del_again = DeleteSecurityContext(s->ctx);
	s->free_cred = FreeCredentialsHandle(s->cred);
}

START_TEST(test_async_callback_calls_sync_functions_on_its_context)
{
	start(0);
	struct ahs h;
	ahs_init(&h, "host/test;legs=2");
	ahs_handshake(&h, 2, 1);
	struct sync_in_cb s;
	memset(&s, 0, sizeof s);
	s.ctx = &h.o.newh; /* the ASC first leg writes the server context here */
	s.cred = &h.sc;
	SspiAsyncContext *a = actx_new(NULL);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, sync_cb, &s), SEC_E_OK);
	ck_assert_int_eq(ahs_submit(&h, a), SEC_E_OK);
	run(0);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(s.leg, SEC_E_OK);
	ck_assert_int_eq(s.query, SEC_E_OK);
	ck_assert_uint_gt(s.max_token, 0);
	ck_assert_int_eq(s.del, SEC_E_OK);
	ck_assert_int_eq(s.del_again, SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(s.free_cred, SEC_E_OK);
	struct sspiasync_statistics st = stats();
	ck_assert_uint_eq(st.contexts, 1);
	ck_assert_uint_eq(st.credentials, 1);
	ck_assert_int_eq(DeleteSecurityContext(&h.c), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.cc), SEC_E_OK);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* A sync call first runs the calls queued before it on its own context (and
 * only there): the queued leg is DONE with its outputs written, but its
 * callback waits for the next sspiasync_run(). */
START_TEST(test_async_sync_call_runs_queued_calls_first_callback_deferred)
{
	start(0);
	struct ahs p, other;
	ahs_init(&p, "host/test;legs=3");
	ahs_handshake(&p, 3, 2);
	ahs_init(&other, "host/test;legs=4");
	ahs_handshake(&other, 4, 2);
	struct cb_rec r, ro;
	SspiAsyncContext *a = actx_new(&r), *ao = actx_new(&ro);
	ck_assert_int_eq(ahs_submit(&p, a), SEC_E_OK);         /* leg 3 on p.c */
	ck_assert_int_eq(ahs_submit(&other, ao), SEC_E_OK);    /* leg 3 on other.c */
	SecPkgContext_Sizes sz;
	memset(&sz, 0, sizeof sz);
	ck_assert_int_eq(QueryContextAttributesA(&p.c, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	ck_assert_uint_gt(sz.cbMaxToken, 0);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	ck_assert_int_eq(r.calls, 0);
	/* README: reinit waits for the callback too. */
	ck_assert_int_eq(SspiReinitAsyncContext(a), STATUS_INVALID_DEVICE_STATE);
	const char *err = ahs_complete(&p, SEC_E_OK);
	ck_assert_msg(err == NULL, "%s", err);
	/* The other context's leg did not run. */
	ck_assert_int_eq(SspiGetAsyncCallStatus(ao), SEC_I_ASYNC_CALL_PENDING);
	assert_untouched(&other.o);
	ck_assert_uint_eq(stats().pending_calls, 1);
	msg_both_ways(&p.c, &p.s, 1); /* p.c is complete */
	ck_assert_int_eq(r.calls, 0);
	run(0);
	check_done(a, &r, 1, SEC_E_OK);
	check_done(ao, &ro, 1, leg_expected(4, 3));
	ck_assert_ptr_null(ahs_complete(&other, leg_expected(4, 3)));
	ahs_handshake(&other, 4, 4);
	msg_both_ways(&other.c, &other.s, 5);
	ahs_free(&p);
	ahs_free(&other);
	SspiFreeAsyncContext(a);
	SspiFreeAsyncContext(ao);
	finish();
}
END_TEST

/* A call that a sync call ran on its way is DONE with its callback waiting;
 * freeing the async context then suppresses that callback. */
START_TEST(test_async_free_suppresses_callback_deferred_by_sync_call)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=3");
	ahs_handshake(&p, 3, 2);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	ck_assert_int_eq(ahs_submit(&p, a), SEC_E_OK);
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(&p.c, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	ck_assert_ptr_null(ahs_complete(&p, SEC_E_OK)); /* written before the status */
	SspiFreeAsyncContext(a);
	run(0);
	ck_assert_int_eq(r.calls, 0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.async_contexts, 0);
	ck_assert_uint_eq(s.pending_calls, 0);
	msg_both_ways(&p.c, &p.s, 1);
	ahs_free(&p);
	finish();
}
END_TEST

/* Reading: clearing the callback is allowed once DONE (only PENDING refuses a
 * new one), and a callback cleared before it ran does not run, whether the
 * call was PENDING or DONE with its callback deferred by a sync call: after
 * SspiAsyncContextRequiresNotify() says FALSE the caller may free the data. */
START_TEST(test_async_clear_callback_suppresses_deferred_callback)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=3");
	ahs_handshake(&p, 3, 2);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	ck_assert_int_eq(ahs_submit(&p, a), SEC_E_OK);
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(&p.c, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK); /* DONE, callback deferred */
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, NULL, NULL), SEC_E_OK);
	ck_assert_int_eq(SspiAsyncContextRequiresNotify(a), FALSE);
	run(0);
	ck_assert_int_eq(r.calls, 0);
	actx_reinit(a);
	ck_assert_ptr_null(ahs_complete(&p, SEC_E_OK));
	msg_both_ways(&p.c, &p.s, 1);
	ahs_free(&p);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* A callback frees another async context whose call is queued behind its
 * own: that call never runs, writes nothing, and gets no callback. */
struct free_other {
	int calls;
	SspiAsyncContext *victim;
};

static void free_other_cb(SspiAsyncContext *handle, PVOID data)
{
	struct free_other *f = data;
	(void)handle;
	f->calls++;
	SspiFreeAsyncContext(f->victim);
}

START_TEST(test_async_callback_frees_a_queued_call)
{
	start(0);
	struct ahs p;
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	struct cb_rec rv;
	struct free_other f = {0, NULL};
	SspiAsyncContext *a = actx_new(NULL), *v = actx_new(&rv);
	f.victim = v;
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, free_other_cb, &f), SEC_E_OK);
	ck_assert_int_eq(ahs_submit(&p, a), SEC_E_OK); /* leg 3 on p.c */
	/* Behind it on p.c: another client leg (were it to run: OUT_OF_SEQUENCE). */
	struct leg_out o;
	leg_out_reset(&o);
	char target[] = "host/test;legs=4";
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(v, &p.cc, &p.c, target, 0, 0,
							     SECURITY_NATIVE_DREP, NULL, 0, &p.c,
							     &o.od, &o.attrs, &o.ts),
			 SEC_E_OK);
	ck_assert_uint_eq(run(1), 1); /* leg 3 and its callback, which frees v */
	ck_assert_int_eq(f.calls, 1);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), leg_expected(4, 3));
	run(0);
	ck_assert_int_eq(rv.calls, 0);
	assert_untouched(&o);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.async_contexts, 1);
	ck_assert_uint_eq(s.pending_calls, 0);
	ck_assert_ptr_null(ahs_complete(&p, leg_expected(4, 3)));
	ahs_handshake(&p, 4, 4);
	msg_both_ways(&p.c, &p.s, 1);
	ahs_free(&p);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* From a callback: sspiasync_shutdown() is refused (ARCHITECTURE "Runtime"),
 * sspiasync_init() too (already initialised); the library keeps working. */
struct reentry {
	int calls;
	SECURITY_STATUS shutdown, init;
};

static void reentry_cb(SspiAsyncContext *handle, PVOID data)
{
	struct reentry *r = data;
	struct sspiasync_config cfg = {0};
	(void)handle;
	r->calls++;
	r->shutdown = sspiasync_shutdown();
	r->init = sspiasync_init(&cfg);
}

START_TEST(test_async_callback_cannot_shut_down_or_init)
{
	start(0);
	struct reentry re = {0, 0, 0};
	SspiAsyncContext *a = actx_new(NULL);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, reentry_cb, &re), SEC_E_OK);
	CredHandle c;
	TimeStamp ts;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a, NULL, pkg_name, SECPKG_CRED_BOTH, NULL,
							    NULL, NULL, NULL, &c, &ts),
			 SEC_E_OK);
	run(0);
	ck_assert_int_eq(re.calls, 1);
	ck_assert_int_eq(re.shutdown, SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(re.init, SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	ck_assert_uint_eq(stats().credentials, 1);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* --- the pending-call bound -------------------------------------------------------- */

/* max_pending = 4: the 5th bounded submission of every kind is refused with
 * SEC_E_INSUFFICIENT_MEMORY and nothing queued; delete and free-credentials
 * are exempt; after a run the bound admits again. */
START_TEST(test_async_bound_refuses_submission_when_max_pending_reached)
{
	enum { BOUND = 4 };
	start(BOUND);
	struct ahs q, p;
	ahs_complete_pair(&q, 2);
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	CredHandle x = acquire(SECPKG_CRED_BOTH);
	struct cb_rec r[BOUND + 3];
	SspiAsyncContext *a[BOUND + 3];
	struct leg_out o[BOUND];
	for (int i = 0; i < BOUND + 3; i++)
		a[i] = actx_new(&r[i]);
	for (int i = 0; i < BOUND; i++)
		ck_assert_int_eq(submit_isc_first(a[i], &q.cc, "host/test", &o[i]), SEC_E_OK);
	struct sspiasync_statistics before = stats();
	ck_assert_uint_eq(before.pending_calls, BOUND);

	/* Each bounded kind at the bound: refused, a[BOUND] stays IDLE. */
	SspiAsyncContext *e = a[BOUND];
	struct leg_out lo;
	ck_assert_int_eq(submit_isc_first(e, &q.cc, "host/test", &lo), SEC_E_INSUFFICIENT_MEMORY);
	assert_untouched(&lo);
	ck_assert_int_eq(SspiGetAsyncCallStatus(e), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(ahs_submit(&p, e), SEC_E_INSUFFICIENT_MEMORY); /* ISC later leg */
	assert_untouched(&p.o);
	ck_assert_int_eq(SspiGetAsyncCallStatus(e), SEC_E_INVALID_PARAMETER);
	SecBuffer ib = {p.tok_len, SECBUFFER_TOKEN, p.tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	leg_out_reset(&lo);
	ck_assert_int_eq(SspiAcceptSecurityContextAsync(e, &p.sc, &p.s, &id, 0, SECURITY_NATIVE_DREP,
							&p.s, &lo.od, &lo.attrs, &lo.ts),
			 SEC_E_INSUFFICIENT_MEMORY);
	assert_untouched(&lo);
	CredHandle y;
	TimeStamp ts;
	handle_pat(&y);
	ts.QuadPart = PAT_TIME;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(e, NULL, pkg_name, SECPKG_CRED_BOTH, NULL,
							    NULL, NULL, NULL, &y, &ts),
			 SEC_E_INSUFFICIENT_MEMORY);
	ck_assert(handle_is_pat(&y));
	ck_assert_int_eq(ts.QuadPart, PAT_TIME);
	ck_assert_int_eq(SspiGetAsyncCallStatus(e), SEC_E_INVALID_PARAMETER);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.pending_calls, BOUND);
	ck_assert_uint_eq(s.contexts, before.contexts);

	/* Exempt: delete and free-credentials queue at (and past) the bound. */
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[BOUND + 1], &q.c), SEC_E_OK);
	ck_assert_int_eq(SspiFreeCredentialsHandleAsync(a[BOUND + 2], &x), SEC_E_OK);
	ck_assert_uint_eq(stats().pending_calls, BOUND + 2);
	run(0);
	for (int i = 0; i < BOUND; i++) {
		check_done(a[i], &r[i], 1, SEC_E_OK);
		ck_assert_int_eq(DeleteSecurityContext(&o[i].newh), SEC_E_OK);
	}
	check_done(a[BOUND + 1], &r[BOUND + 1], 1, SEC_E_OK);
	check_done(a[BOUND + 2], &r[BOUND + 2], 1, SEC_E_OK);
	ck_assert_int_eq(r[BOUND].calls, 0);
	q.have_c = 0;
	s = stats();
	ck_assert_uint_eq(s.pending_calls, 0);
	ck_assert_uint_eq(s.credentials, 4);

	/* Below the bound again: the refused leg now queues and p completes. */
	ahs_leg(&p, e, &r[BOUND], leg_expected(4, 3));
	ahs_handshake(&p, 4, 4);
	msg_both_ways(&p.c, &p.s, 1);
	ahs_free(&p);
	ahs_free(&q);
	for (int i = 0; i < BOUND + 3; i++)
		SspiFreeAsyncContext(a[i]);
	finish();
}
END_TEST

/* max_async = 3: a 4th SspiCreateAsyncContext() returns NULL; freeing one
 * makes room (a pending one only when its call ends). */
START_TEST(test_async_bound_create_returns_null_when_table_full)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	cfg.max_async = 3;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	SspiAsyncContext *a[3];
	for (int i = 0; i < 3; i++)
		a[i] = actx_new(NULL);
	uint64_t blocks = tl_live_blocks();
	ck_assert_ptr_null(SspiCreateAsyncContext());
	ck_assert_uint_eq(tl_live_blocks(), blocks);
	ck_assert_uint_eq(stats().async_contexts, 3);
	CredHandle c;
	TimeStamp ts;
	ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a[0], NULL, pkg_name, SECPKG_CRED_BOTH,
							    NULL, NULL, NULL, NULL, &c, &ts),
			 SEC_E_OK);
	SspiFreeAsyncContext(a[0]); /* pending: its slot is busy until the call ends */
	ck_assert_uint_eq(stats().async_contexts, 3);
	run(0);
	ck_assert_uint_eq(stats().async_contexts, 2);
	ck_assert_uint_eq(stats().credentials, 0); /* abandoned acquire: removed */
	a[0] = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a[0]);
	ck_assert_ptr_null(SspiCreateAsyncContext());
	for (int i = 0; i < 3; i++)
		SspiFreeAsyncContext(a[i]);
	finish();
}
END_TEST

/* --- shutdown -------------------------------------------------------------------- */

/* A callback run by shutdown: records its status and tries to queue more. */
struct at_shutdown {
	int calls;
	SECURITY_STATUS status;   /* SspiGetAsyncCallStatus(Handle) */
	SECURITY_STATUS reinit;   /* SspiReinitAsyncContext(Handle) (NTSTATUS) */
	SECURITY_STATUS resubmit; /* an ACH on Handle after the reinit */
	CredHandle cred;
};

static void at_shutdown_cb(SspiAsyncContext *handle, PVOID data)
{
	struct at_shutdown *s = data;
	TimeStamp ts;
	s->calls++;
	if (g_in_run == 0)
		s->calls += 1000; /* outside shutdown: counted as wrong */
	s->status = SspiGetAsyncCallStatus(handle);
	s->reinit = SspiReinitAsyncContext(handle);
	handle_pat(&s->cred);
	s->resubmit = SspiAcquireCredentialsHandleAsyncA(handle, NULL, pkg_name, SECPKG_CRED_BOTH,
							 NULL, NULL, NULL, NULL, &s->cred, &ts);
}

/* Shutdown with calls queued: every queued leg's callback runs with
 * SEC_E_SHUTDOWN_IN_PROGRESS before shutdown returns (and a submission from
 * it is refused so); after re-init every old handle and async context is
 * invalid and a new handshake works. */
START_TEST(test_async_shutdown_cancels_queued_legs_then_reinit)
{
	enum { LEGS = 3, N = LEGS + 1 };
	start(0);
	struct ahs q, p;
	ahs_complete_pair(&q, 2);
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	CredHandle old_cc = q.cc;
	struct at_shutdown s[N];
	SspiAsyncContext *a[N];
	struct leg_out o[LEGS];
	memset(s, 0, sizeof s);
	for (int i = 0; i < N; i++) {
		a[i] = actx_new(NULL);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a[i], at_shutdown_cb, &s[i]), SEC_E_OK);
	}
	for (int i = 0; i < LEGS; i++)
		ck_assert_int_eq(submit_isc_first(a[i], &q.cc, "host/test", &o[i]), SEC_E_OK);
	ck_assert_int_eq(ahs_submit(&p, a[LEGS]), SEC_E_OK); /* a later leg */
	SspiAsyncContext *quiet = actx_new(NULL); /* no callback: nothing to see */
	struct leg_out qo;
	ck_assert_int_eq(submit_isc_first(quiet, &q.cc, "host/test", &qo), SEC_E_OK);
	struct cb_rec rg; /* abandoned before shutdown: no callback at all */
	SspiAsyncContext *gone = actx_new(&rg);
	struct leg_out go;
	ck_assert_int_eq(submit_isc_first(gone, &q.cc, "host/test", &go), SEC_E_OK);
	SspiFreeAsyncContext(gone);
	ck_assert_uint_eq(stats().pending_calls, N + 2);

	g_in_run++; /* callbacks legitimately run inside shutdown */
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	g_in_run--;
	ck_assert_uint_eq(tl_live_blocks(), 0);
	for (int i = 0; i < N; i++) {
		SECURITY_STATUS want = SEC_E_SHUTDOWN_IN_PROGRESS;
		ck_assert_msg(s[i].calls == 1, "call %d: %d callbacks", i, s[i].calls);
		ck_assert_msg(s[i].status == want, "call %d: status 0x%08x, expected 0x%08x", i,
			      (unsigned)s[i].status, (unsigned)want);
		ck_assert_msg(s[i].resubmit == SEC_E_SHUTDOWN_IN_PROGRESS,
			      "call %d: submission during shutdown 0x%08x", i,
			      (unsigned)s[i].resubmit);
		ck_assert(handle_is_pat(&s[i].cred));
	}
	for (int i = 0; i < LEGS; i++)
		assert_untouched(&o[i]);
	assert_untouched(&p.o);
	assert_untouched(&qo);
	assert_untouched(&go);
	ck_assert_int_eq(rg.calls, 0);

	/* Re-init: old async contexts and handles are invalid. */
	start(0);
	struct sspiasync_statistics st = stats();
	ck_assert_uint_eq(st.async_contexts, 0);
	ck_assert_uint_eq(st.contexts, 0);
	ck_assert_uint_eq(st.credentials, 0);
	CredHandle cred;
	TimeStamp ts;
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(SspiGetAsyncCallStatus(a[i]), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(SspiReinitAsyncContext(a[i]), STATUS_INVALID_HANDLE);
		ck_assert_int_eq(SspiAsyncContextRequiresNotify(a[i]), FALSE);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a[i], NULL, NULL), SEC_E_INVALID_HANDLE);
		handle_pat(&cred);
		ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncA(a[i], NULL, pkg_name,
								    SECPKG_CRED_BOTH, NULL, NULL,
								    NULL, NULL, &cred, &ts),
				 SEC_E_INVALID_HANDLE);
		ck_assert(handle_is_pat(&cred));
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[i], &p.s), SEC_E_INVALID_HANDLE);
		SspiFreeAsyncContext(a[i]);
	}
	ck_assert_int_eq(SspiGetAsyncCallStatus(quiet), SEC_E_INVALID_HANDLE);
	SspiFreeAsyncContext(quiet);
	ck_assert_uint_eq(stats().pending_calls, 0);
	/* Old security handles through a new async context: queued, invalid. */
	struct cb_rec r;
	SspiAsyncContext *b = actx_new(&r);
	CtxtHandle old_ctx[4] = {q.c, q.s, p.c, p.s};
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(b, &old_ctx[i]), SEC_E_OK);
		run_expect(b, &r, SEC_E_INVALID_HANDLE);
		actx_reinit(b);
	}
	struct leg_out lo;
	ck_assert_int_eq(submit_isc_first(b, &old_cc, "host/test", &lo), SEC_E_OK);
	run_expect(b, &r, SEC_E_INVALID_HANDLE);
	assert_untouched(&lo);
	actx_reinit(b);
	ck_assert_uint_eq(stats().async_contexts, 1);
	/* A new handshake works. */
	struct ahs n;
	ahs_complete_pair(&n, 3);
	msg_both_ways(&n.c, &n.s, 1);
	ahs_free(&n);
	SspiFreeAsyncContext(b);
	finish();
}
END_TEST

/* Queued deletes are not cancelled by shutdown: they tear down, and their
 * callbacks (run before shutdown returns) read SEC_E_OK; a leg queued on the
 * same context before the delete reads SEC_E_SHUTDOWN_IN_PROGRESS.
 * Reading: SspiGetAsyncCallStatus() in a callback that shutdown runs reports
 * the call's own status (the status table: deletes "still tear down"), not
 * the SEC_E_SHUTDOWN_IN_PROGRESS that sspi.h gives calls made meanwhile. */
START_TEST(test_async_shutdown_runs_queued_deletes)
{
	start(0);
	struct ahs q, p;
	ahs_complete_pair(&q, 2);
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	struct at_shutdown s[4];
	SspiAsyncContext *a[4];
	memset(s, 0, sizeof s);
	for (int i = 0; i < 4; i++) {
		a[i] = actx_new(NULL);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(a[i], at_shutdown_cb, &s[i]), SEC_E_OK);
	}
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[0], &q.c), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[1], &q.s), SEC_E_OK);
	ck_assert_int_eq(ahs_submit(&p, a[2]), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[3], &p.c), SEC_E_OK);
	g_in_run++;
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	g_in_run--;
	ck_assert_uint_eq(tl_live_blocks(), 0);
	static const SECURITY_STATUS want[4] = {SEC_E_OK, SEC_E_OK, SEC_E_SHUTDOWN_IN_PROGRESS,
						SEC_E_OK};
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(s[i].calls == 1, "call %d: %d callbacks", i, s[i].calls);
		ck_assert_msg(s[i].status == want[i] ||
				      (i == 2 && s[i].status == SEC_E_INVALID_HANDLE),
			      "call %d: status 0x%08x, expected 0x%08x", i, (unsigned)s[i].status,
			      (unsigned)want[i]);
	}
	assert_untouched(&p.o);
	finish();
}
END_TEST

/* --- allocation failure -------------------------------------------------------------- */

START_TEST(test_async_create_context_oom_every_k)
{
	start(0);
	int ok = 0;
	for (uint64_t k = 1; k <= OOM_MAX_K && !ok; k++) {
		uint64_t blocks = tl_live_blocks();
		sa__alloc_fail_at(k);
		SspiAsyncContext *a = SspiCreateAsyncContext();
		sa__alloc_fail_at(0);
		if (a != NULL) {
			ok = 1;
			ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_PARAMETER);
			ck_assert_uint_eq(stats().async_contexts, 1);
			SspiFreeAsyncContext(a);
			/* The table may keep a chunk it grew; shutdown frees it. */
			ck_assert_uint_eq(stats().async_contexts, 0);
			break;
		}
		ck_assert_msg(tl_live_blocks() == blocks, "k=%llu: %llu blocks, was %llu",
			      (unsigned long long)k, (unsigned long long)tl_live_blocks(),
			      (unsigned long long)blocks);
		ck_assert_uint_eq(stats().async_contexts, 0);
	}
	ck_assert(ok);
	finish();
}
END_TEST

/* The k-th allocation of a submission fails, k = 1, 2, ... until it queues:
 * SEC_E_INSUFFICIENT_MEMORY, nothing queued, no leak, the context IDLE; the
 * next attempt works.  _i: 0 ACH, 1 ISC first leg, 2 ASC first leg, 3 ISC
 * later leg, 4 ASC later leg (a 4-leg handshake). */
START_TEST(test_async_submission_oom_every_k)
{
	int kind = _i;
	start(0);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	struct ahs h;
	ahs_init(&h, "host/test;legs=4");
	if (kind > 0)
		ahs_handshake(&h, 4, kind - 1);
	CredHandle cred;
	TimeStamp ts;
	char principal[] = "someone";
	int ok = 0;
	for (uint64_t k = 1; k <= OOM_MAX_K; k++) {
		struct sspiasync_statistics before = stats();
		uint64_t blocks = tl_live_blocks();
		SECURITY_STATUS st;
		handle_pat(&cred);
		ts.QuadPart = PAT_TIME;
		sa__alloc_fail_at(k);
		if (kind == 0)
			st = SspiAcquireCredentialsHandleAsyncA(a, principal, pkg_name,
								SECPKG_CRED_BOTH, NULL, NULL, NULL,
								NULL, &cred, &ts);
		else
			st = ahs_submit(&h, a);
		sa__alloc_fail_at(0);
		if (st == SEC_E_OK) {
			ok = 1;
			break;
		}
		ck_assert_msg(st == SEC_E_INSUFFICIENT_MEMORY, "k=%llu: 0x%08x",
			      (unsigned long long)k, (unsigned)st);
		ck_assert_msg(tl_live_blocks() == blocks, "k=%llu: %llu blocks, was %llu",
			      (unsigned long long)k, (unsigned long long)tl_live_blocks(),
			      (unsigned long long)blocks);
		ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_PARAMETER);
		struct sspiasync_statistics s = stats();
		ck_assert_uint_eq(s.pending_calls, before.pending_calls);
		ck_assert_uint_eq(s.contexts, before.contexts);
		ck_assert_uint_eq(s.credentials, before.credentials);
		ck_assert_uint_eq(s.async_contexts, before.async_contexts);
		ck_assert(handle_is_pat(&cred));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		if (kind > 0) {
			assert_untouched(&h.o);
			ck_assert(handle_eq(ahs_ctx(&h, h.client), &h.saved));
		}
		ck_assert_uint_eq(run(0), 0);
		ck_assert_int_eq(r.calls, 0);
	}
	ck_assert(ok);
	ck_assert_uint_eq(stats().pending_calls, 1);
	if (kind == 0) {
		run_expect(a, &r, SEC_E_OK);
		ck_assert(!handle_is_pat(&cred));
		ck_assert_int_eq(FreeCredentialsHandle(&cred), SEC_E_OK);
	} else {
		SECURITY_STATUS want = leg_expected(4, kind);
		run_expect(a, &r, want);
		const char *err = ahs_complete(&h, want);
		ck_assert_msg(err == NULL, "%s", err);
		ahs_handshake(&h, 4, 4);
		msg_both_ways(&h.c, &h.s, 1);
	}
	ahs_free(&h);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* The k-th allocation after submission fails inside the leg (the package or
 * the library while running it): the call completes SEC_E_INSUFFICIENT_MEMORY
 * (retryable: nothing written, nothing changed), until k is past the leg's
 * allocations; the resubmitted leg then works.  _i: leg 1..4 of 4. */
START_TEST(test_async_leg_oom_while_running_every_k)
{
	int leg = 1 + _i;
	start(0);
	struct cb_rec r;
	SspiAsyncContext *a = actx_new(&r);
	struct ahs h, warm;
	/* A handshake made and deleted first, so the handle tables' first
	 * chunks (kept for good) exist before blocks are counted. */
	ahs_init(&warm, "host/test;legs=4");
	ahs_handshake(&warm, 4, 4);
	ahs_free(&warm);
	ahs_init(&h, "host/test;legs=4");
	ahs_handshake(&h, 4, leg - 1);
	int ok = 0;
	for (uint64_t k = 1; k <= OOM_MAX_K && !ok; k++) {
		struct sspiasync_statistics before = stats();
		ck_assert_int_eq(ahs_submit(&h, a), SEC_E_OK);
		uint64_t blocks = tl_live_blocks();
		int calls = r.calls;
		sa__alloc_fail_at(k);
		run(0);
		sa__alloc_fail_at(0);
		SECURITY_STATUS st = SspiGetAsyncCallStatus(a);
		ck_assert_int_eq(r.calls, calls + 1);
		ck_assert_int_eq(r.status, st);
		if (st != SEC_E_INSUFFICIENT_MEMORY) {
			ck_assert_msg(st == leg_expected(4, leg), "leg %d k=%llu: 0x%08x", leg,
				      (unsigned long long)k, (unsigned)st);
			ck_assert_ptr_null(ahs_complete(&h, st));
			ok = 1;
		} else {
			assert_untouched(&h.o);
			ck_assert(handle_eq(ahs_ctx(&h, h.client), &h.saved));
			ck_assert_uint_eq(stats().contexts, before.contexts);
			ck_assert_msg(tl_live_blocks() <= blocks, "leg %d k=%llu: %llu blocks, was %llu",
				      leg, (unsigned long long)k,
				      (unsigned long long)tl_live_blocks(),
				      (unsigned long long)blocks);
		}
		actx_reinit(a);
	}
	ck_assert(ok);
	ahs_handshake(&h, 4, 4);
	msg_both_ways(&h.c, &h.s, 1);
	ahs_free(&h);
	SspiFreeAsyncContext(a);
	finish();
}
END_TEST

/* Delete and free-credentials submissions, freeing async contexts (also a
 * pending one) and the run that executes queued deletes and frees allocate
 * nothing, so they work with allocation failing. */
START_TEST(test_async_delete_free_and_run_never_allocate)
{
	start(0);
	struct ahs h, p;
	ahs_complete_pair(&h, 2);
	ahs_init(&p, "host/test;legs=4");
	ahs_handshake(&p, 4, 2);
	CredHandle x = acquire(SECPKG_CRED_BOTH);
	struct cb_rec r[5];
	SspiAsyncContext *a[5];
	for (int i = 0; i < 5; i++)
		a[i] = actx_new(&r[i]);
	uint64_t calls = alloc_calls();

	sa__alloc_fail_at(1);
	SECURITY_STATUS st[5];
	st[0] = SspiDeleteSecurityContextAsync(a[0], &h.c);
	st[1] = SspiDeleteSecurityContextAsync(a[1], &p.s); /* a PARTIAL context */
	st[2] = SspiFreeCredentialsHandleAsync(a[2], &x);
	st[3] = SspiDeleteSecurityContextAsync(a[3], &h.s);
	SspiFreeAsyncContext(a[3]); /* pending: fire and forget */
	st[4] = SspiFreeCredentialsHandleAsync(a[4], &p.cc);
	sa__alloc_fail_at(0);
	ck_assert_uint_eq(alloc_calls(), calls);
	for (int i = 0; i < 5; i++)
		ck_assert_msg(st[i] == SEC_E_OK, "submission %d: 0x%08x", i, (unsigned)st[i]);
	ck_assert_uint_eq(stats().pending_calls, 5);

	sa__alloc_fail_at(1);
	unsigned ran = run(0);
	sa__alloc_fail_at(0);
	ck_assert_uint_eq(alloc_calls(), calls);
	ck_assert_uint_eq(ran, 5);
	for (int i = 0; i < 5; i++)
		if (i != 3)
			check_done(a[i], &r[i], 1, SEC_E_OK);
	ck_assert_int_eq(r[3].calls, 0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.contexts, 1);   /* p.c */
	ck_assert_uint_eq(s.credentials, 4); /* h's two, p.sc, and p.cc (freed, used by p.c) */
	ck_assert_uint_eq(s.pending_calls, 0);

	sa__alloc_fail_at(1);
	for (int i = 0; i < 5; i++)
		SspiFreeAsyncContext(a[i]);
	sa__alloc_fail_at(0);
	ck_assert_uint_eq(alloc_calls(), calls);
	ck_assert_uint_eq(stats().async_contexts, 0);
	h.have_c = h.have_s = 0;
	p.have_s = 0;
	ck_assert_int_eq(DeleteSecurityContext(&p.c), SEC_E_OK);
	p.have_c = 0;
	ck_assert_int_eq(FreeCredentialsHandle(&p.sc), SEC_E_OK);
	p.own_creds = 0;
	ahs_free(&h);
	finish();
}
END_TEST

/* ------------------------------------------------------------------------- */

/* --- threads ------------------------------------------------------------------
 * No-thread mode still allows several application threads: here two threads
 * run sspiasync_run() in a loop while the test's thread submits.  Every call
 * must complete exactly once with its status, and its callback run once;
 * under `make tsan` this is the race gate for the engine's publish, finish,
 * reinit and resubmit protocol.  Worker threads only count; the test's thread
 * asserts.  Waits are condition waits with a 30 s bound, never sleeps. */

enum { MT_SLOTS = 8 };

struct mt {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int *seen;          /* [lock] callbacks per submission id */
	int done;           /* [lock] callbacks in all */
	int bad;            /* [lock] a wrong status or a second callback */
	int32_t expect;     /* the status every call completes with */
	_Atomic int stop;
};

struct mt_slot {
	struct mt *m;
	SspiAsyncContext *call;
	int id;             /* the submission this slot's call belongs to; -1: none */
	unsigned char out[64];
	SecBuffer ob;
	SecBufferDesc od;
	unsigned long attrs;
};

static void mt_cb(SspiAsyncContext *handle, PVOID data)
{
	struct mt_slot *slot = data;
	struct mt *m = slot->m;
	SECURITY_STATUS st = SspiGetAsyncCallStatus(handle);
	pthread_mutex_lock(&m->lock);
	if (st != m->expect || slot->id < 0 || m->seen[slot->id]++ != 0)
		m->bad++;
	m->done++;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->lock);
}

/* A thread that runs the engine's self-check over and over while the test
 * runs, so it sees the engine at arbitrary moments between two lock
 * holders; it only counts, the test's thread asserts (checker_stop). */
struct checker {
	pthread_t tid;
	_Atomic int stop;
	_Atomic unsigned runs, failed;
};

/* Between two checks the thread yields a few times: a check walks every
 * live context under the engine lock, and run back to back it starves the
 * workers it watches under TSan and Valgrind.  (No timed wait: Helgrind
 * reports glibc's own pthread_cond_timedwait timeout path.) */
static void *checker_main(void *arg)
{
	struct checker *c = arg;
	while (!atomic_load(&c->stop)) {
		if (sa__rt_test_engine_check() != SA_OK)
			atomic_fetch_add(&c->failed, 1);
		atomic_fetch_add(&c->runs, 1);
		for (int i = 0; i < 32 && !atomic_load(&c->stop); i++)
			sched_yield();
	}
	return NULL;
}

static void checker_start(struct checker *c)
{
	atomic_init(&c->stop, 0);
	atomic_init(&c->runs, 0);
	atomic_init(&c->failed, 0);
	ck_assert_int_eq(pthread_create(&c->tid, NULL, checker_main, c), 0);
}

static void checker_stop(struct checker *c)
{
	atomic_store(&c->stop, 1);
	pthread_join(c->tid, NULL);
	ck_assert_uint_eq(atomic_load(&c->failed), 0);
	ck_assert_uint_gt(atomic_load(&c->runs), 0);
}

static void *mt_runner(void *arg)
{
	struct mt *m = arg;
	while (!atomic_load(&m->stop))
		sspiasync_run(0);
	return NULL;
}

/* Wait until at least @n callbacks ran (@id < 0), or until the callback of
 * submission @id ran; 0 if 30 s passed first. */
static int mt_wait(struct mt *m, int n, int id)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	int ok = 1;
	pthread_mutex_lock(&m->lock);
	while ((id < 0 ? m->done < n : m->seen[id] == 0) && ok)
		ok = pthread_cond_timedwait(&m->cv, &m->lock, &deadline) == 0;
	ok = id < 0 ? m->done >= n : m->seen[id] != 0;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

/* Poll until @call is no longer PENDING, then reinit it as soon as that is
 * allowed; 0 if 30 s passed first. */
static int mt_spin_reinit(SspiAsyncContext *call)
{
	time_t deadline = time(NULL) + 30;
	while (SspiGetAsyncCallStatus(call) == SEC_I_ASYNC_CALL_PENDING)
		if (sched_yield(), time(NULL) > deadline)
			return 0;
	while (SspiReinitAsyncContext(call) != STATUS_SUCCESS)
		if (sched_yield(), time(NULL) > deadline)
			return 0;
	return 1;
}

START_TEST(test_async_two_runner_threads_complete_each_call_once)
{
	start(0);
	const int n = tl_race_detector() ? 60 : tl_slow() ? 300 : 3000;
	struct mt m = {.seen = calloc((size_t)n, sizeof(int)), .expect = SEC_I_CONTINUE_NEEDED};
	ck_assert_ptr_nonnull(m.seen);
	ck_assert_int_eq(pthread_mutex_init(&m.lock, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&m.cv, NULL), 0);

	/* A context whose legs continue forever (the test package's noop mode). */
	CredHandle cred;
	CtxtHandle ctx;
	unsigned char tok[64];
	unsigned long attrs;
	SecBuffer ob = {sizeof tok, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	char target[] = "host/mt;noop";
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &cred, NULL), SEC_E_OK);
	ck_assert_int_eq(InitializeSecurityContextA(&cred, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 0, &ctx, &od, &attrs, NULL),
			 SEC_I_CONTINUE_NEEDED);

	struct mt_slot slot[MT_SLOTS];
	for (int i = 0; i < MT_SLOTS; i++) {
		slot[i] = (struct mt_slot){.m = &m, .id = -1};
		slot[i].call = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(slot[i].call);
		ck_assert_int_eq(SspiSetAsyncNotifyCallback(slot[i].call, mt_cb, &slot[i]), SEC_E_OK);
	}
	pthread_t runner[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&runner[i], NULL, mt_runner, &m), 0);
	struct checker chk;
	checker_start(&chk);

	/* Legs on one context from 8 async contexts, each reused once its
	 * previous call's callback ran. */
	int submitted = 0, refused = 0;
	unsigned char in_byte = 0x5a;
	SecBuffer ib = {1, SECBUFFER_TOKEN, &in_byte};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	for (int i = 0; i < n; i++) {
		struct mt_slot *sl = &slot[i % MT_SLOTS];
		if (i >= MT_SLOTS && (!mt_wait(&m, 0, i - MT_SLOTS) || !mt_spin_reinit(sl->call)))
			break; /* this slot's previous call never called back */
		sl->id = i;
		sl->ob = (SecBuffer){sizeof sl->out, SECBUFFER_TOKEN, sl->out};
		sl->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &sl->ob};
		if (SspiInitializeSecurityContextAsyncA(sl->call, NULL, &ctx, NULL, 0, 0,
							SECURITY_NATIVE_DREP, &id, 0, NULL, &sl->od,
							&sl->attrs, NULL) != SEC_E_OK)
			refused++;
		else
			submitted++;
	}
	int all_done = mt_wait(&m, submitted, -1);

	/* The same with completions that carry no work (a stale handle), one
	 * async context resubmitted as soon as its callback ran. */
	int stale = tl_race_detector() ? 40 : tl_slow() ? 200 : 2000;
	CtxtHandle bogus = {1, 2};
	struct mt_slot *sl = &slot[0];
	pthread_mutex_lock(&m.lock);
	int base = m.done;
	m.expect = SEC_E_INVALID_HANDLE;
	pthread_mutex_unlock(&m.lock);
	int *seen2 = calloc((size_t)stale, sizeof(int));
	ck_assert_ptr_nonnull(seen2);
	pthread_mutex_lock(&m.lock);
	int *seen1 = m.seen;
	m.seen = seen2;
	pthread_mutex_unlock(&m.lock);
	all_done = all_done && mt_spin_reinit(sl->call); /* reusable once its callback returned */
	/* A polling user: as soon as the status is no longer PENDING, reinit
	 * (refused until the callback ran) and resubmit.  A DONE visible before
	 * the engine queued the callback would lose or double callbacks here. */
	for (int i = 0; i < stale && all_done; i++) {
		sl->id = i;
		if (SspiDeleteSecurityContextAsync(sl->call, &bogus) != SEC_E_OK)
			refused++;
		all_done = mt_spin_reinit(sl->call);
	}
	all_done = all_done && mt_wait(&m, base + stale, -1);

	atomic_store(&m.stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(runner[i], NULL);
	checker_stop(&chk);
	sspiasync_run(0);

	ck_assert(all_done);
	ck_assert_int_eq(refused, 0);
	ck_assert_int_eq(submitted, n);
	ck_assert_int_eq(m.bad, 0);
	ck_assert_int_eq(m.done, n + stale);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(seen1[i], 1);
	for (int i = 0; i < stale; i++)
		ck_assert_int_eq(seen2[i], 1);

	for (int i = 0; i < MT_SLOTS; i++)
		SspiFreeAsyncContext(slot[i].call);
	ck_assert_int_eq(DeleteSecurityContext(&ctx), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cred), SEC_E_OK);
	free(seen1);
	free(seen2);
	pthread_cond_destroy(&m.cv);
	pthread_mutex_destroy(&m.lock);
	finish();
}
END_TEST

/* --- pool ---------------------------------------------------------------------
 * threads > 0: worker threads run the calls and their callbacks; nobody calls
 * sspiasync_run().  Workers and callbacks only count; the test's threads
 * assert.  Every wait is a condition wait bounded at 30 s. */

struct pool_sync {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int done;  /* [lock] callbacks */
	int bad;   /* [lock] unexpected statuses, or refused calls inside callbacks */
};

static void pool_sync_init(struct pool_sync *p)
{
	memset(p, 0, sizeof *p);
	ck_assert_int_eq(pthread_mutex_init(&p->lock, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&p->cv, NULL), 0);
}

static void pool_sync_fini(struct pool_sync *p)
{
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->lock);
}

static void pool_note(struct pool_sync *p, int bad)
{
	pthread_mutex_lock(&p->lock);
	p->done++;
	p->bad += bad;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
}

/* Wait until @n callbacks were noted; 0 if 30 s passed first. */
static int pool_wait(struct pool_sync *p, int n)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	int ok = 1;
	pthread_mutex_lock(&p->lock);
	while (p->done < n && ok)
		ok = pthread_cond_timedwait(&p->cv, &p->lock, &deadline) == 0;
	ok = p->done >= n;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

static void start_pool(unsigned threads)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = threads;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
}

static void pool_cb(SspiAsyncContext *handle, PVOID data)
{
	/* A callback on a worker: shutdown and run are refused here. */
	int bad = sspiasync_shutdown() != SEC_E_INVALID_PARAMETER || sspiasync_run(0) != 0;
	(void)handle;
	pool_note(data, bad);
}

/* Issue 23: a later leg on a worker allocates nothing per call when its
 * input fits the async context's room (64 bytes: the job and its input live
 * there, A8 in src/async/async_int.h; the output goes through the worker's
 * scratch), and one block, its input's copy, when it does not.  The test
 * package's noop legs allocate nothing themselves. */
static SECURITY_STATUS noop_leg(SspiAsyncContext *a, CredHandle *cc, CtxtHandle *c,
				unsigned char *in, unsigned long in_len)
{
	unsigned char tok[16];
	SecBuffer ib = {in_len, SECBUFFER_TOKEN, in}, ob = {sizeof tok, SECBUFFER_TOKEN, tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
	unsigned long attrs;
	SECURITY_STATUS st = SspiInitializeSecurityContextAsyncA(a, cc, c, NULL, 0, 0,
								 SECURITY_NATIVE_DREP, &id, 0, NULL,
								 &od, &attrs, NULL);
	if (st != SEC_E_OK)
		return st;
	time_t until = time(NULL) + 30;
	while ((st = SspiGetAsyncCallStatus(a)) == SEC_I_ASYNC_CALL_PENDING && time(NULL) <= until)
		sched_yield();
	ck_assert_int_eq(SspiReinitAsyncContext(a), STATUS_SUCCESS);
	return st;
}

START_TEST(test_async_pool_leg_allocates_nothing_per_call)
{
	start_pool(1);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND);
	char target[] = "host/test;noop";
	unsigned char tok[16], in[100];
	memset(in, 'N', sizeof in);
	SecBuffer ob = {sizeof tok, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	unsigned long attrs;
	CtxtHandle c;
	ck_assert_int_eq(InitializeSecurityContextA(&cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 0, &c, &od, &attrs, NULL),
			 SEC_I_CONTINUE_NEEDED);
	SspiAsyncContext *a = actx_new(NULL);
	/* A first call grows what grows once (the worker's first use). */
	ck_assert_int_eq(noop_leg(a, &cc, &c, in, 1), SEC_I_CONTINUE_NEEDED);
	enum { N = 50 };
	uint64_t before = alloc_calls();
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(noop_leg(a, &cc, &c, in, 1 + (unsigned long)i % 64),
				 SEC_I_CONTINUE_NEEDED);
	ck_assert_uint_eq(alloc_calls() - before, 0);
	before = alloc_calls();
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(noop_leg(a, &cc, &c, in, sizeof in), SEC_I_CONTINUE_NEEDED);
	ck_assert_uint_eq(alloc_calls() - before, N); /* the input's copy, one block each */
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}
END_TEST

/* A 3-leg handshake whose legs the workers run: no sspiasync_run(). */
START_TEST(test_async_pool_handshake_completes_without_run)
{
	start_pool(2);
	struct pool_sync p;
	pool_sync_init(&p);
	CredHandle cc, sc;
	CtxtHandle c, sv;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &cc, NULL), SEC_E_OK);
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_INBOUND, NULL, NULL,
						   NULL, NULL, &sc, NULL), SEC_E_OK);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, pool_cb, &p), SEC_E_OK);
	unsigned char t1[MAX_TOKEN], t2[MAX_TOKEN], t3[MAX_TOKEN];
	unsigned long attrs;
	SecBuffer o1 = {sizeof t1, SECBUFFER_TOKEN, t1}, o2 = {sizeof t2, SECBUFFER_TOKEN, t2},
		  o3 = {sizeof t3, SECBUFFER_TOKEN, t3};
	SecBufferDesc d1 = {SECBUFFER_VERSION, 1, &o1}, d2 = {SECBUFFER_VERSION, 1, &o2},
		      d3 = {SECBUFFER_VERSION, 1, &o3};
	char target[] = "host/pool;legs=3";

	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 0, 0, NULL, 0,
							     &c, &d1, &attrs, NULL), SEC_E_OK);
	ck_assert(pool_wait(&p, 1));
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_CONTINUE_NEEDED);
	while (SspiReinitAsyncContext(a) != STATUS_SUCCESS)
		sched_yield(); /* until its callback returned (bounded by the test's timeout) */
	ck_assert_int_eq(SspiAcceptSecurityContextAsync(a, &sc, NULL, &d1, 0, 0, &sv, &d2, &attrs,
							NULL), SEC_E_OK);
	ck_assert(pool_wait(&p, 2));
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	while (SspiReinitAsyncContext(a) != STATUS_SUCCESS)
		sched_yield();
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, &cc, &c, NULL, 0, 0, 0, &d2, 0, &c,
							     &d3, &attrs, NULL), SEC_E_OK);
	ck_assert(pool_wait(&p, 3));
	ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_OK);
	ck_assert_uint_eq(o3.cbBuffer, 0);
	ck_assert_int_eq(sspiasync_run(0), 0); /* pool mode: nothing to run here */
	ck_assert_int_eq(p.bad, 0);
	msg_both_ways(&c, &sv, 1);

	/* Fire-and-forget delete: the workers still tear the context down. */
	SspiAsyncContext *d = SspiCreateAsyncContext();
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(d, pool_cb, &p), SEC_E_OK);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(d, &c), SEC_E_OK);
	ck_assert(pool_wait(&p, 4));
	ck_assert_int_eq(SspiGetAsyncCallStatus(d), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_INVALID_HANDLE);
	SspiFreeAsyncContext(d);
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(DeleteSecurityContext(&sv), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	finish(); /* workers stopped: nobody is inside the lock any more */
	pool_sync_fini(&p);
}
END_TEST

/* One worker, and its callback makes synchronous calls on its own context:
 * a sync call never waits for a free worker, so nothing deadlocks. */
struct own_ctx {
	struct pool_sync *p;
	CtxtHandle *c;
};

static void own_ctx_cb(SspiAsyncContext *handle, PVOID data)
{
	struct own_ctx *o = data;
	SecPkgContext_Sizes sz;
	int bad = QueryContextAttributesA(o->c, SECPKG_ATTR_SIZES, &sz) != SEC_E_OK;
	bad |= DeleteSecurityContext(o->c) != SEC_E_OK;
	(void)handle;
	pool_note(o->p, bad);
}

START_TEST(test_async_pool_of_one_callback_calls_sync_on_its_context)
{
	start_pool(1);
	struct pool_sync p;
	pool_sync_init(&p);
	CredHandle cc;
	CtxtHandle c;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &cc, NULL), SEC_E_OK);
	unsigned char tok[MAX_TOKEN];
	unsigned long attrs;
	SecBuffer ob = {sizeof tok, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	char target[] = "host/one;legs=3";
	struct own_ctx o = {&p, &c};
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, own_ctx_cb, &o), SEC_E_OK);
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncA(a, &cc, NULL, target, 0, 0, 0, NULL, 0,
							     &c, &od, &attrs, NULL), SEC_E_OK);
	ck_assert(pool_wait(&p, 1));
	ck_assert_int_eq(p.bad, 0);
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_INVALID_HANDLE); /* the callback did */
	SspiFreeAsyncContext(a);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	finish(); /* workers stopped: nobody is inside the lock any more */
	pool_sync_fini(&p);
}
END_TEST

/* Stress: 2 workers, 2 submitting threads; each round a thread makes a
 * context, queues 4 legs on it from 4 async contexts, queues a
 * fire-and-forget delete racing them, then one more leg on the deleted
 * handle, a leg on the last round's (stale) context, and a leg whose async
 * context it frees at once.  Every call must complete exactly once with an
 * allowed status (legs: CONTINUE or, once the delete won, INVALID_HANDLE, in
 * that order; the leg after the delete and the stale one: INVALID_HANDLE),
 * and nothing may be left alive. */
enum { POOL_DEPTH = 4, POOL_CALLS = POOL_DEPTH + 2 }; /* + the leg after the delete, a stale use */

struct pool_th {
	CredHandle *cred;
	int rounds;
	struct pool_sync p;
	int refused;  /* submissions or sync calls that failed */
	int timeouts;
	int disorder; /* rounds whose legs' statuses broke submission order */
};

struct pool_slot {
	struct pool_th *t;
	int must_be_invalid;
	SECURITY_STATUS st; /* [t->p.lock] */
};

static void pool_leg_cb(SspiAsyncContext *handle, PVOID data)
{
	struct pool_slot *sl = data;
	SECURITY_STATUS st = SspiGetAsyncCallStatus(handle);
	int bad = sl->must_be_invalid ? st != SEC_E_INVALID_HANDLE
				      : st != SEC_I_CONTINUE_NEEDED && st != SEC_E_INVALID_HANDLE;
	pthread_mutex_lock(&sl->t->p.lock);
	sl->st = st;
	pthread_mutex_unlock(&sl->t->p.lock);
	pool_note(&sl->t->p, bad);
}

/* Per-context order, seen from outside: the delete marked the context
 * between two of the legs queued before it, so the legs' statuses read
 * CONTINUE...CONTINUE INVALID...INVALID in submission order. */
static int pool_legs_in_order(struct pool_th *t, const struct pool_slot *slot)
{
	int invalid_seen = 0, bad = 0;
	pthread_mutex_lock(&t->p.lock);
	for (int i = 0; i < POOL_DEPTH; i++) {
		if (slot[i].st == SEC_E_INVALID_HANDLE)
			invalid_seen = 1;
		else if (invalid_seen)
			bad = 1;
	}
	pthread_mutex_unlock(&t->p.lock);
	return !bad;
}

static void *pool_submitter(void *arg)
{
	struct pool_th *t = arg;
	SspiAsyncContext *call[POOL_CALLS];
	struct pool_slot slot[POOL_CALLS];
	unsigned char out[POOL_CALLS + 1][MAX_TOKEN];
	SecBuffer ob[POOL_CALLS + 1];
	SecBufferDesc od[POOL_CALLS + 1];
	unsigned long attrs[POOL_CALLS + 1];
	CtxtHandle prev = {0, 0}; /* the last round's context: stale (or being deleted) */
	unsigned char in_byte = 1;
	SecBuffer ib = {1, SECBUFFER_TOKEN, &in_byte};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	char target[] = "host/stress;noop";
	for (int i = 0; i < POOL_CALLS; i++) {
		call[i] = SspiCreateAsyncContext();
		slot[i] = (struct pool_slot){t, i >= POOL_DEPTH, 0};
		if (call[i] == NULL || SspiSetAsyncNotifyCallback(call[i], pool_leg_cb, &slot[i]) != SEC_E_OK)
			t->refused++;
	}
	int expected = 0;
	for (int r = 0; r < t->rounds && t->refused == 0 && t->timeouts == 0; r++) {
		CtxtHandle c;
		unsigned long a0;
		SecBuffer b0 = {MAX_TOKEN, SECBUFFER_TOKEN, out[0]};
		SecBufferDesc d0 = {SECBUFFER_VERSION, 1, &b0};
		if (InitializeSecurityContextA(t->cred, NULL, target, 0, 0, 0, NULL, 0, &c, &d0, &a0,
					       NULL) != SEC_I_CONTINUE_NEEDED) {
			t->refused++;
			break;
		}
		for (int i = 0; i < POOL_DEPTH; i++) {
			ob[i] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, out[i]};
			od[i] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[i]};
			t->refused += SspiInitializeSecurityContextAsyncA(call[i], NULL, &c, NULL, 0, 0, 0,
									  &id, 0, NULL, &od[i],
									  &attrs[i], NULL) != SEC_E_OK;
		}
		SspiAsyncContext *del = SspiCreateAsyncContext();
		t->refused += del == NULL || SspiDeleteSecurityContextAsync(del, &c) != SEC_E_OK;
		SspiFreeAsyncContext(del); /* fire and forget */
		ob[POOL_DEPTH] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, out[POOL_DEPTH]};
		od[POOL_DEPTH] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[POOL_DEPTH]};
		t->refused += SspiInitializeSecurityContextAsyncA(call[POOL_DEPTH], NULL, &c, NULL, 0, 0,
								  0, &id, 0, NULL, &od[POOL_DEPTH],
								  &attrs[POOL_DEPTH], NULL) != SEC_E_OK;
		/* A stale use: the last round's context. */
		ob[POOL_DEPTH + 1] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, out[POOL_DEPTH + 1]};
		od[POOL_DEPTH + 1] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[POOL_DEPTH + 1]};
		t->refused += SspiInitializeSecurityContextAsyncA(call[POOL_DEPTH + 1], NULL, &prev, NULL,
								  0, 0, 0, &id, 0, NULL,
								  &od[POOL_DEPTH + 1],
								  &attrs[POOL_DEPTH + 1], NULL) != SEC_E_OK;
		prev = c;
		/* A leg whose async context is freed while it is pending: no
		 * output written, no callback, nothing left behind. */
		SspiAsyncContext *f = SspiCreateAsyncContext();
		ob[POOL_CALLS] = (SecBuffer){MAX_TOKEN, SECBUFFER_TOKEN, out[POOL_CALLS]};
		od[POOL_CALLS] = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob[POOL_CALLS]};
		t->refused += f == NULL ||
			      SspiInitializeSecurityContextAsyncA(f, NULL, &c, NULL, 0, 0, 0, &id, 0,
								  NULL, &od[POOL_CALLS],
								  &attrs[POOL_CALLS], NULL) != SEC_E_OK;
		SspiFreeAsyncContext(f);
		expected += POOL_CALLS;
		if (!pool_wait(&t->p, expected)) {
			t->timeouts++;
			break;
		}
		t->disorder += !pool_legs_in_order(t, slot);
		for (int i = 0; i < POOL_CALLS; i++) {
			time_t deadline = time(NULL) + 30;
			while (SspiReinitAsyncContext(call[i]) != STATUS_SUCCESS)
				if (sched_yield(), time(NULL) > deadline) {
					t->timeouts++;
					break;
				}
		}
	}
	for (int i = 0; i < POOL_CALLS; i++)
		SspiFreeAsyncContext(call[i]);
	return NULL;
}

START_TEST(test_async_pool_stress_two_submitters_deletes_racing_legs)
{
	start_pool(2);
	CredHandle cred;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &cred, NULL), SEC_E_OK);
	struct pool_th th[2];
	pthread_t tid[2];
	for (int i = 0; i < 2; i++) {
		th[i] = (struct pool_th){.cred = &cred, .rounds = tl_slow() ? 100 : 4000};
		pool_sync_init(&th[i].p);
	}
	struct checker chk;
	checker_start(&chk);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, pool_submitter, &th[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	checker_stop(&chk);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(th[i].refused, 0);
		ck_assert_int_eq(th[i].timeouts, 0);
		ck_assert_int_eq(th[i].p.bad, 0);
		ck_assert_int_eq(th[i].disorder, 0);
		ck_assert_int_eq(th[i].p.done, th[i].rounds * POOL_CALLS);
	}
	/* A fire-and-forget delete has no callback to wait for: wait (bounded)
	 * until the workers have finished every call. */
	struct sspiasync_statistics st = stats();
	time_t deadline = time(NULL) + 30;
	while ((st.pending_calls != 0 || st.async_contexts != 0) && time(NULL) <= deadline) {
		sched_yield();
		st = stats();
	}
	ck_assert_uint_eq(st.contexts, 0);
	ck_assert_uint_eq(st.pending_calls, 0);
	ck_assert_uint_eq(st.async_contexts, 0);
	ck_assert_int_eq(FreeCredentialsHandle(&cred), SEC_E_OK);
	finish();
	for (int i = 0; i < 2; i++)
		pool_sync_fini(&th[i].p); /* after the workers stopped */
}
END_TEST

static Suite *async_suite(void)
{
	Suite *s = suite_create("async");
	TCase *tc;

	tc = tcase(s, "flow", 60);
	tcase_add_loop_test(tc, test_async_documented_flow_handshake, 0, 2);
	tcase_add_test(tc, test_async_run_runs_at_most_max_calls);
	tcase_add_test(tc, test_async_inputs_copied_at_submission);
	tcase_add_test(tc, test_async_stats_count_async_contexts_and_pending_calls);
	tcase_add_test(tc, test_async_init_twice_is_refused);
	tcase_add_test(tc, test_async_allocate_memory_tokens);

	tc = tcase(s, "status", 60);
	tcase_add_test(tc, test_async_status_is_invalid_parameter_when_idle);
	tcase_add_test(tc, test_async_submission_refused_when_pending_or_done);
	tcase_add_test(tc, test_async_reinit_refused_when_pending);
	tcase_add_test(tc, test_async_bad_async_context_is_invalid_everywhere);
	tcase_add_test(tc, test_async_requires_notify_iff_callback_set);
	tcase_add_test(tc, test_async_set_callback_refused_when_pending_except_clear);
	tcase_add_test(tc, test_async_structural_errors_refused_nothing_queued);
	tcase_add_test(tc, test_async_null_handle_pointers_complete_invalid_handle);

	tc = tcase(s, "stale", 300);
	tcase_add_test(tc, test_async_stale_handles_complete_invalid_handle);
	tcase_add_test(tc, test_async_zeroed_invalidated_forged_handles_complete_invalid_handle);
	tcase_add_test(tc, test_async_bit_flipped_handles_complete_invalid_handle);
	tcase_add_test(tc, test_async_wrong_kind_handles_complete_invalid_handle);
	tcase_add_test(tc, test_async_queued_first_leg_keeps_its_credential);
	tcase_add_test(tc, test_async_stale_completions_counted_in_stats);

	tc = tcase(s, "delete", 60);
	tcase_add_test(tc, test_async_double_delete_completes_invalid_handle);
	tcase_add_test(tc, test_async_delete_fails_legs_queued_before_it);
	tcase_add_test(tc, test_async_calls_queued_after_delete_complete_invalid_handle);
	tcase_add_test(tc, test_async_fire_and_forget_delete);
	tcase_add_test(tc, test_async_sync_delete_fails_queued_leg_like_async_delete);
	tcase_add_test(tc, test_async_completions_on_one_context_in_submission_order);

	tc = tcase(s, "free", 60);
	tcase_add_test(tc, test_async_free_pending_first_leg_creates_nothing);
	tcase_add_test(tc, test_async_free_pending_later_leg_skips_package);
	tcase_add_test(tc, test_async_free_pending_delete_still_deletes);
	tcase_add_test(tc, test_async_free_done_context_then_double_free);

	tc = tcase(s, "pool", 300);
	tcase_add_test(tc, test_async_pool_handshake_completes_without_run);
	tcase_add_test(tc, test_async_pool_leg_allocates_nothing_per_call);
	tcase_add_test(tc, test_async_pool_of_one_callback_calls_sync_on_its_context);
	tcase_add_test(tc, test_async_pool_stress_two_submitters_deletes_racing_legs);

	tc = tcase(s, "threads", 300);
	tcase_add_test(tc, test_async_two_runner_threads_complete_each_call_once);

	tc = tcase(s, "callbacks", 60);
	tcase_add_test(tc, test_async_callback_frees_its_own_context);
	tcase_add_loop_test(tc, test_async_handshake_driven_from_callbacks, 0, 3);
	tcase_add_test(tc, test_async_callback_calls_sync_functions_on_its_context);
	tcase_add_test(tc, test_async_sync_call_runs_queued_calls_first_callback_deferred);
	tcase_add_test(tc, test_async_free_suppresses_callback_deferred_by_sync_call);
	tcase_add_test(tc, test_async_clear_callback_suppresses_deferred_callback);
	tcase_add_test(tc, test_async_callback_frees_a_queued_call);
	tcase_add_test(tc, test_async_callback_cannot_shut_down_or_init);

	tc = tcase(s, "bound", 60);
	tcase_add_test(tc, test_async_bound_refuses_submission_when_max_pending_reached);
	tcase_add_test(tc, test_async_bound_create_returns_null_when_table_full);

	tc = tcase(s, "shutdown", 60);
	tcase_add_test(tc, test_async_shutdown_cancels_queued_legs_then_reinit);
	tcase_add_test(tc, test_async_shutdown_runs_queued_deletes);

	tc = tcase(s, "oom", 300);
	tcase_add_test(tc, test_async_create_context_oom_every_k);
	tcase_add_loop_test(tc, test_async_submission_oom_every_k, 0, 5);
	tcase_add_loop_test(tc, test_async_leg_oom_while_running_every_k, 0, 4);
	tcase_add_test(tc, test_async_delete_free_and_run_never_allocate);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(async_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
