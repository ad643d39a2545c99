/*
 * test/check_ntlm_async.c - the "NTLM" package through the asynchronous API
 * (SspiInitializeSecurityContextAsync, SspiAcceptSecurityContextAsync,
 * SspiDeleteSecurityContextAsync): full handshakes (ISC, ASC, ISC, ASC) on
 * the worker pool, several at once from two application threads, and in
 * no-thread mode (sspiasync_run), then messages both ways with the
 * synchronous message calls; the same through a completion queue; delete,
 * async and synchronous, while a leg is queued, held before it starts (the
 * engine's test hook) and held inside the package (the server's user-store
 * callback, an async leg or a synchronous one on another thread): statuses
 * as check_async.c asserts them for the test package, contexts back to 0,
 * nothing leaked; a wrong password and an unknown user answered
 * SEC_E_LOGON_DENIED through SspiGetAsyncCallStatus and the callback; and
 * channel bindings copied at submission.  Every test ends with no context
 * left, sspiasync_shutdown() and 0 live blocks.
 *
 * Threads other than the test's own (workers, callbacks, the two
 * submitters, a deleting thread, a leg's thread) never call ck_assert
 * (CK_FORK=no): they record under g_mu, the test's thread asserts.  Every
 * wait is bounded.  Pool mode orders the runs of one context's calls, not
 * the start of their callbacks on two workers: there the statuses tell the
 * order; callback order is asserted in no-thread mode only.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "async/async.h"   /* sa__engine_test_hook: hold a job before it runs */
#include "sspi/sspi_int.h" /* sa__ctx_deleting: has a synchronous delete begun? */
#define TOK 2888          /* NTLM's cbMaxToken */
#define LEG_OUT_ROOM TOK /* a leg's output room in sspi_testlib.h */
#include "sspi_testlib.h"
#include "testlib.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LEGS 4   /* NEGOTIATE, CHALLENGE, AUTHENTICATE, the server's last */
#define WAIT_MS 30000 /* a bound, never reached when the code is right */
#define REQ_C (ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_REPLAY_DETECT | \
	       ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONNECTION)
#define REQ_S (ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY | ASC_REQ_REPLAY_DETECT | \
	       ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONNECTION)

static char ntlm[] = "NTLM";

/* --- bounded waits on flags under one lock --------------------------------- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;

static void deadline_in(struct timespec *dl, long ms)
{
	clock_gettime(CLOCK_REALTIME, dl);
	dl->tv_sec += ms / 1000;
}

/* Wait until *@flag != 0 (written under g_mu); 1, or 0 at the bound. */
static int wait_flag(const int *flag)
{
	struct timespec dl;
	deadline_in(&dl, WAIT_MS);
	pthread_mutex_lock(&g_mu);
	int rc = 0;
	while (*flag == 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&g_cv, &g_mu, &dl);
	int ok = *flag != 0;
	pthread_mutex_unlock(&g_mu);
	return ok;
}

static void set_flag(int *flag, int v)
{
	pthread_mutex_lock(&g_mu);
	*flag = v;
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

static int get_flag(const int *flag)
{
	pthread_mutex_lock(&g_mu);
	int v = *flag;
	pthread_mutex_unlock(&g_mu);
	return v;
}

/* Wait for @pred, a state only the library can tell, yielding; its last answer. */
static int wait_until(int (*pred)(void))
{
	time_t end = time(NULL) + WAIT_MS / 1000;
	while (!pred() && time(NULL) <= end)
		sched_yield();
	return pred();
}

/* --- holds: a job before it runs (engine hook), a leg inside NTLM ----------- */

static struct {
	_Atomic uintptr_t acall; /* whose job to hold (0: none) */
	_Atomic int point;
	int reached, released;   /* [g_mu] */
} g_hold;

static void hold_hook(enum sa_engine_point point, uintptr_t acall)
{
	if (acall != atomic_load(&g_hold.acall) || (int)point != atomic_load(&g_hold.point))
		return;
	set_flag(&g_hold.reached, 1);
	int ok = wait_flag(&g_hold.released);
	(void)ok; /* the test's thread asserts */
}

static void hold_at(SspiAsyncContext *a, enum sa_engine_point point)
{
	set_flag(&g_hold.reached, 0);
	set_flag(&g_hold.released, 0);
	atomic_store(&g_hold.point, (int)point);
	atomic_store(&g_hold.acall, (uintptr_t)a);
	atomic_store(&sa__engine_test_hook, hold_hook);
}

static void hold_off(void)
{
	atomic_store(&sa__engine_test_hook, NULL);
	atomic_store(&g_hold.acall, 0);
}

/* The server's user store while a test holds its AUTHENTICATE leg inside the
 * package: it says it was reached, waits for the release, then answers for
 * STORE\dave, password "Password" (MD4 of its UTF-16LE form, [MS-NLMP]
 * 4.2.2.1.2).  It calls nothing of the library (sspiasync.h). */
static struct {
	int reached, released, calls; /* [g_mu] */
} g_store;

static const unsigned char dave_hash[16] = {0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
					    0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52};

static SECURITY_STATUS held_store(void *arg, const char *domain, const char *user,
				  unsigned char nt_hash[16])
{
	(void)arg;
	pthread_mutex_lock(&g_mu);
	g_store.calls++;
	pthread_mutex_unlock(&g_mu);
	set_flag(&g_store.reached, 1);
	int ok = wait_flag(&g_store.released);
	(void)ok;
	if (strcmp(user, "dave") != 0 || strcmp(domain, "STORE") != 0)
		return SEC_E_LOGON_DENIED;
	memcpy(nt_hash, dave_hash, 16);
	return SEC_E_OK;
}

static void store_arm(int held)
{
	pthread_mutex_lock(&g_mu);
	g_store.reached = g_store.calls = 0;
	g_store.released = !held;
	pthread_mutex_unlock(&g_mu);
}

/* --- the user file and the runtime ------------------------------------------ */

static char g_user_file[64];
static int g_pool; /* the runtime has workers (set before any thread starts) */

/* NTLM_USER_FILE for every test: its first entry is a NULL-identity
 * client's; a server takes every entry. */
static void users_setup(void)
{
	tl_user_file_set(g_user_file, "DOM:alice:Secret1!\n"
				      "OTHER:bob:pw:with:colons\n");
}

/* Also after a failed assertion: let every held job go, then shut down. */
static void users_teardown(void)
{
	set_flag(&g_hold.released, 1);
	set_flag(&g_store.released, 1);
	hold_off();
	teardown();
	tl_user_file_unset(g_user_file);
}

static TCase *tcase_ntlm(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, users_setup, users_teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

/* @threads workers (0: no-thread mode, calls run in sspiasync_run()). */
static void start(unsigned threads)
{
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = threads;
	g_pool = threads > 0;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	ck_assert_uint_eq(stats().worker_threads, threads);
}

static int no_pending(void)
{
	struct sspiasync_statistics s;
	return sspiasync_stats(&s) == SEC_E_OK && s.pending_calls == 0;
}

/* No call queued or running, no async context left: a freed one counts
 * until its last callback (on a worker) has returned. */
static int quiet(void)
{
	struct sspiasync_statistics s;
	return sspiasync_stats(&s) == SEC_E_OK && s.pending_calls == 0 && s.async_contexts == 0;
}

/* Nothing left: no context, credential, async context or call; then
 * shutdown and not one block left. */
static void finish(void)
{
	ck_assert(wait_until(quiet));
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.contexts, 0);
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.async_contexts, 0);
	ck_assert_uint_eq(s.pending_calls, 0);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
}

/* An "NTLM" credential: explicit identity, or (@user NULL) the user file. */
static SECURITY_STATUS acquire_id(unsigned long use, const char *user, const char *domain,
				  const char *password, CredHandle *out)
{
	SEC_WINNT_AUTH_IDENTITY_A id = tl_identity(user, domain, password);
	TimeStamp ts;
	return AcquireCredentialsHandleA(NULL, ntlm, use, NULL, user ? &id : NULL, NULL, NULL, out,
					 &ts);
}

static CredHandle acquire(unsigned long use, const char *user, const char *domain,
			  const char *password)
{
	CredHandle c;
	ck_assert_int_eq(acquire_id(use, user, domain, password, &c), SEC_E_OK);
	return c;
}

/* --- async contexts and what their callbacks saw ----------------------------- */

struct rec {
	int calls;                /* [g_mu] callbacks run */
	SECURITY_STATUS status;   /* [g_mu] SspiGetAsyncCallStatus inside the last one */
	SspiAsyncContext *handle; /* [g_mu] its Handle */
	unsigned order;           /* [g_mu] g_order when it ran */
};

static unsigned g_order; /* [g_mu] callbacks in all */

static void rec_cb(SspiAsyncContext *handle, PVOID data)
{
	struct rec *r = data;
	SECURITY_STATUS st = SspiGetAsyncCallStatus(handle);
	pthread_mutex_lock(&g_mu);
	r->calls++;
	r->status = st;
	r->handle = handle;
	r->order = ++g_order;
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

static SspiAsyncContext *actx_new(struct rec *r)
{
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	pthread_mutex_lock(&g_mu);
	memset(r, 0, sizeof *r);
	pthread_mutex_unlock(&g_mu);
	ck_assert_int_eq(SspiSetAsyncNotifyCallback(a, rec_cb, r), SEC_E_OK);
	return a;
}

static struct rec rec_get(const struct rec *r)
{
	pthread_mutex_lock(&g_mu);
	struct rec v = *r;
	pthread_mutex_unlock(&g_mu);
	return v;
}

/* Until @r's callback has run @n times: no-thread mode runs what is queued
 * first; pool mode waits for the workers.  0 at the bound. */
static int rec_wait(struct rec *r, int n)
{
	if (!g_pool)
		sspiasync_run(0);
	struct timespec dl;
	deadline_in(&dl, WAIT_MS);
	pthread_mutex_lock(&g_mu);
	int rc = 0;
	while (r->calls < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&g_cv, &g_mu, &dl);
	int ok = r->calls >= n;
	pthread_mutex_unlock(&g_mu);
	return ok;
}

/* Reinit as soon as allowed (pool mode: once the callback returned). */
static int reinit_when_allowed(SspiAsyncContext *a)
{
	time_t end = time(NULL) + WAIT_MS / 1000;
	while (SspiReinitAsyncContext(a) != STATUS_SUCCESS)
		if (sched_yield(), time(NULL) > end)
			return 0;
	return 1;
}

/* @a's call completed with @expect and its callback has run @calls times
 * in all, the last with Handle @a seeing @expect. */
static void check_done(SspiAsyncContext *a, const struct rec *r, int calls, SECURITY_STATUS expect)
{
	SECURITY_STATUS st = SspiGetAsyncCallStatus(a);
	ck_assert_msg(st == expect, "status 0x%08x, expected 0x%08x", (unsigned)st, (unsigned)expect);
	struct rec v = rec_get(r);
	ck_assert_int_eq(v.calls, calls);
	ck_assert_ptr_eq(v.handle, a);
	ck_assert_msg(v.status == expect, "callback saw 0x%08x, expected 0x%08x", (unsigned)v.status,
		      (unsigned)expect);
}

/* --- an NTLM handshake over async calls ---------------------------------------- */

/* Leg 1 = first ISC, 2 = first ASC, 3 = second ISC, 4 = second ASC.  Holds
 * the submitted leg's memory: it must not move while a leg is queued. */
struct nhs {
	CredHandle cc, sc;
	int own_creds;
	char target[64];
	CtxtHandle c, s;
	int have_c, have_s;
	int leg;                  /* legs completed successfully */
	unsigned char tok[TOK];   /* the token for the next leg */
	unsigned long tok_len;
	SecBuffer cb[2];          /* channel bindings the client [0] / server [1] pass, if typed so */
	/* The submitted leg (valid until it completes). */
	int client;
	CtxtHandle saved;         /* its context handle before the leg */
	char tgt[64];
	unsigned char in[TOK];
	SecBuffer ib[2];
	SecBufferDesc id;
	struct leg_out o;
};

static SECURITY_STATUS leg_expected(int leg)
{
	return leg < LEGS - 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK;
}

static struct nhs *nhs_new(const char *target)
{
	struct nhs *h = calloc(1, sizeof *h);
	if (h != NULL) {
		snprintf(h->target, sizeof h->target, "%s", target);
		handle_pat(&h->c);
		handle_pat(&h->s);
	}
	return h;
}

/* Set up the next leg's memory; whether it has an input description. */
static int nhs_prepare(struct nhs *h)
{
	h->client = h->leg % 2 == 0;
	CtxtHandle *ctx = h->client ? &h->c : &h->s;
	const SecBuffer *cb = &h->cb[h->client ? 0 : 1];
	h->saved = *ctx;
	leg_out_reset(&h->o);
	snprintf(h->tgt, sizeof h->tgt, "%s", h->target);
	memcpy(h->in, h->tok, h->tok_len);
	h->ib[0] = (SecBuffer){h->tok_len, SECBUFFER_TOKEN, h->leg == 0 ? NULL : h->in};
	h->ib[1] = *cb;
	h->id = (SecBufferDesc){SECBUFFER_VERSION,
				cb->BufferType == SECBUFFER_CHANNEL_BINDINGS ? 2 : 1, h->ib};
	return h->leg != 0 || h->id.cBuffers == 2;
}

/* Queue the next leg on @a; returns the queueing status.  Asserts nothing. */
static SECURITY_STATUS nhs_submit(struct nhs *h, SspiAsyncContext *a)
{
	int with_in = nhs_prepare(h);
	int have = h->client ? h->have_c : h->have_s;
	CtxtHandle *ctx = h->client ? &h->c : &h->s;
	if (h->client)
		return SspiInitializeSecurityContextAsyncA(
			a, &h->cc, have ? ctx : NULL, h->tgt, REQ_C, 0, SECURITY_NATIVE_DREP,
			with_in ? &h->id : NULL, 0, have ? ctx : &h->o.newh, &h->o.od, &h->o.attrs,
			&h->o.ts);
	return SspiAcceptSecurityContextAsync(a, &h->sc, have ? ctx : NULL, &h->id, REQ_S,
					      SECURITY_NATIVE_DREP, have ? ctx : &h->o.newh,
					      &h->o.od, &h->o.attrs, &h->o.ts);
}

/* The next leg, synchronously; its status.  Asserts nothing. */
static SECURITY_STATUS nhs_sync(struct nhs *h)
{
	int with_in = nhs_prepare(h);
	int have = h->client ? h->have_c : h->have_s;
	CtxtHandle *ctx = h->client ? &h->c : &h->s;
	if (h->client)
		return InitializeSecurityContextA(&h->cc, have ? ctx : NULL, h->tgt, REQ_C, 0,
						  SECURITY_NATIVE_DREP, with_in ? &h->id : NULL, 0,
						  have ? ctx : &h->o.newh, &h->o.od, &h->o.attrs,
						  &h->o.ts);
	return AcceptSecurityContext(&h->sc, have ? ctx : NULL, &h->id, REQ_S, SECURITY_NATIVE_DREP,
				     have ? ctx : &h->o.newh, &h->o.od, &h->o.attrs, &h->o.ts);
}

/* The submitted leg completed with @st: take its outputs (success) or check
 * that none was written (failure).  NULL when fine, else what is wrong.
 * Asserts nothing, so any thread may use it. */
static const char *nhs_complete(struct nhs *h, SECURITY_STATUS st)
{
	CtxtHandle *ctx = h->client ? &h->c : &h->s;
	int have = h->client ? h->have_c : h->have_s;
	if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
		if (!handle_eq(ctx, &h->saved))
			return "context handle changed by a failed leg";
		return leg_out_changed(&h->o);
	}
	int leg = h->leg + 1;
	if (!have) {
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
	if (leg < LEGS && h->o.ob.cbBuffer == 0)
		return "no token from a leg before the last";
	if (leg == LEGS && h->o.ob.cbBuffer != 0)
		return "a token from the last leg";
	if (st == SEC_E_OK) {
		unsigned long want = h->client ? ISC_RET_INTEGRITY | ISC_RET_CONFIDENTIALITY
					       : ASC_RET_INTEGRITY | ASC_RET_CONFIDENTIALITY;
		if ((h->o.attrs & want) != want)
			return "integrity and confidentiality not granted";
	}
	memcpy(h->tok, h->o.out, h->o.ob.cbBuffer);
	h->tok_len = h->o.ob.cbBuffer;
	h->leg++;
	return NULL;
}

/* One leg on @a (its callback records into @r), asserting on this thread:
 * PENDING until it runs (no-thread mode: nothing written before), then
 * @expect from SspiGetAsyncCallStatus and the callback, the outputs taken
 * or untouched; @a reinitialised. */
static void nhs_leg(struct nhs *h, SspiAsyncContext *a, struct rec *r, SECURITY_STATUS expect)
{
	int calls = rec_get(r).calls, leg = h->leg + 1;
	ck_assert_int_eq(nhs_submit(h, a), SEC_E_OK);
	if (!g_pool) {
		ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_I_ASYNC_CALL_PENDING);
		ck_assert_uint_eq(stats().pending_calls, 1);
		assert_untouched(&h->o);
	}
	ck_assert_msg(rec_wait(r, calls + 1), "leg %d never completed", leg);
	check_done(a, r, calls + 1, expect);
	const char *err = nhs_complete(h, expect);
	ck_assert_msg(err == NULL, "leg %d: %s", leg, err);
	ck_assert(reinit_when_allowed(a));
}

/* Legs until @n have run, each on its side's async context. */
static void nhs_run_to(struct nhs *h, SspiAsyncContext *a[2], struct rec r[2], int n)
{
	while (h->leg < n) {
		int side = h->leg % 2; /* 0: client */
		nhs_leg(h, a[side], &r[side], leg_expected(h->leg + 1));
	}
}

static void nhs_free(struct nhs *h)
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
	free(h);
}

/* A handshake with its own credentials: the client @user (NULL: the file's
 * first entry), the server from the file. */
static struct nhs *nhs_with_creds(const char *target, const char *user, const char *domain,
				  const char *password)
{
	struct nhs *h = nhs_new(target);
	ck_assert_ptr_nonnull(h);
	h->cc = acquire(SECPKG_CRED_OUTBOUND, user, domain, password);
	h->sc = acquire(SECPKG_CRED_INBOUND, NULL, NULL, NULL);
	h->own_creds = 1;
	return h;
}

/* --- messages with the synchronous calls (any thread: asserts nothing) ------- */

/* Sign on @a, verify on @b; seal on @a, unseal on @b; a changed byte of the
 * data or the signature is MESSAGE_ALTERED and changes nothing.  NULL when
 * all is well, else what is not. */
static const char *msg_check(CtxtHandle *a, CtxtHandle *b, unsigned seed)
{
	unsigned char data[41], plain[41], sig[SIG_LEN];
	unsigned long qop = PAT_ATTR;
	for (size_t i = 0; i < sizeof data; i++)
		plain[i] = (unsigned char)(i * 13u + seed * 7u + 3u);
	memcpy(data, plain, sizeof data);
	SecBuffer mb[2] = {{SIG_LEN, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	if (MakeSignature(a, 0, &md, 0) != SEC_E_OK || mb[0].cbBuffer != SIG_LEN)
		return "MakeSignature";
	if (memcmp(data, plain, sizeof data) != 0)
		return "MakeSignature changed the data";
	data[7] ^= 1;
	if (VerifySignature(b, &md, 0, &qop) != SEC_E_MESSAGE_ALTERED || qop != PAT_ATTR)
		return "changed data verified";
	data[7] ^= 1;
	if (VerifySignature(b, &md, 0, &qop) != SEC_E_OK || qop != 0)
		return "VerifySignature";
	if (EncryptMessage(a, 0, &md, 0) != SEC_E_OK)
		return "EncryptMessage";
	if (memcmp(data, plain, sizeof data) == 0)
		return "EncryptMessage left the data in clear";
	unsigned char sealed[sizeof data];
	memcpy(sealed, data, sizeof data);
	sig[9] ^= 0x40;
	if (DecryptMessage(b, &md, 0, &qop) != SEC_E_MESSAGE_ALTERED)
		return "a changed signature decrypted";
	if (memcmp(data, sealed, sizeof data) != 0)
		return "a failed DecryptMessage changed the data";
	sig[9] ^= 0x40;
	if (DecryptMessage(b, &md, 0, &qop) != SEC_E_OK || qop != 0)
		return "DecryptMessage";
	if (memcmp(data, plain, sizeof data) != 0)
		return "DecryptMessage: not the plaintext";
	return NULL;
}

static const char *msg_both_ways(CtxtHandle *c, CtxtHandle *s, unsigned seed)
{
	const char *e = msg_check(c, s, seed);
	return e != NULL ? e : msg_check(s, c, seed + 1);
}

/* NULL when the server's context names @who and both sides hold one session key. */
static const char *names_and_keys(CtxtHandle *c, CtxtHandle *s, const char *who)
{
	SecPkgContext_NamesA nm;
	if (QueryContextAttributesA(s, SECPKG_ATTR_NAMES, &nm) != SEC_E_OK)
		return "server's NAMES";
	int same = strcmp(nm.sUserName, who) == 0;
	FreeContextBuffer(nm.sUserName);
	if (!same)
		return "server's NAMES: not the client's user";
	SecPkgContext_SessionKey kc, ks;
	if (QueryContextAttributesA(c, SECPKG_ATTR_SESSION_KEY, &kc) != SEC_E_OK)
		return "client's SESSION_KEY";
	if (QueryContextAttributesA(s, SECPKG_ATTR_SESSION_KEY, &ks) != SEC_E_OK) {
		FreeContextBuffer(kc.SessionKey);
		return "server's SESSION_KEY";
	}
	same = kc.SessionKeyLength == 16 && ks.SessionKeyLength == 16 &&
	       memcmp(kc.SessionKey, ks.SessionKey, 16) == 0;
	FreeContextBuffer(kc.SessionKey);
	FreeContextBuffer(ks.SessionKey);
	return same ? NULL : "session keys differ";
}

/* --- no-thread mode: several handshakes at once, in lockstep -------------------- */

enum { NT_PAR = 3 };

START_TEST(test_ntlm_async_no_thread_handshakes_then_messages)
{
	start(0);
	static const char *const who[NT_PAR][4] = {
		{NULL, NULL, NULL, "DOM\\alice"}, /* the file's first entry */
		{"bob", "OTHER", "pw:with:colons", "OTHER\\bob"},
		{"ALICE", "dom", "Secret1!", "dom\\ALICE"},
	};
	struct nhs *h[NT_PAR];
	SspiAsyncContext *a[NT_PAR][2];
	struct rec r[NT_PAR][2];
	for (int k = 0; k < NT_PAR; k++) {
		char target[64];
		snprintf(target, sizeof target, "HTTP/nothread%d.test", k);
		h[k] = nhs_with_creds(target, who[k][0], who[k][1], who[k][2]);
		a[k][0] = actx_new(&r[k][0]);
		a[k][1] = actx_new(&r[k][1]);
	}
	for (int leg = 1; leg <= LEGS; leg++) {
		int side = (leg - 1) % 2;
		for (int k = 0; k < NT_PAR; k++) {
			ck_assert_int_eq(nhs_submit(h[k], a[k][side]), SEC_E_OK);
			ck_assert_int_eq(SspiGetAsyncCallStatus(a[k][side]), SEC_I_ASYNC_CALL_PENDING);
		}
		ck_assert_uint_eq(stats().pending_calls, NT_PAR);
		for (int k = 0; k < NT_PAR; k++) {
			assert_untouched(&h[k]->o); /* nothing runs before sspiasync_run() */
			ck_assert_int_eq(rec_get(&r[k][side]).calls, (leg - 1) / 2);
		}
		ck_assert_uint_eq(sspiasync_run(0), NT_PAR);
		ck_assert_uint_eq(stats().pending_calls, 0);
		for (int k = 0; k < NT_PAR; k++) {
			check_done(a[k][side], &r[k][side], (leg + 1) / 2, leg_expected(leg));
			const char *err = nhs_complete(h[k], leg_expected(leg));
			ck_assert_msg(err == NULL, "handshake %d leg %d: %s", k, leg, err);
			ck_assert_int_eq(SspiReinitAsyncContext(a[k][side]), STATUS_SUCCESS);
		}
	}
	ck_assert_uint_eq(stats().contexts, 2 * NT_PAR);
	for (int k = 0; k < NT_PAR; k++) {
		const char *err = names_and_keys(&h[k]->c, &h[k]->s, who[k][3]);
		ck_assert_msg(err == NULL, "handshake %d: %s", k, err);
		for (unsigned i = 0; i < 3; i++) {
			err = msg_both_ways(&h[k]->c, &h[k]->s, 10 * k + 2 * i);
			ck_assert_msg(err == NULL, "handshake %d, message %u: %s", k, i, err);
		}
	}
	/* Clients deleted async (in the next run), servers synchronously. */
	for (int k = 0; k < NT_PAR; k++) {
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(a[k][0], &h[k]->c), SEC_E_OK);
		ck_assert_int_eq(DeleteSecurityContext(&h[k]->s), SEC_E_OK);
		h[k]->have_s = 0;
	}
	ck_assert_uint_eq(stats().contexts, NT_PAR); /* the async deletes wait for the run */
	ck_assert_uint_eq(sspiasync_run(0), NT_PAR);
	for (int k = 0; k < NT_PAR; k++) {
		check_done(a[k][0], &r[k][0], 3, SEC_E_OK);
		ck_assert_int_eq(DeleteSecurityContext(&h[k]->c), SEC_E_INVALID_HANDLE);
		h[k]->have_c = 0;
		SspiFreeAsyncContext(a[k][0]);
		SspiFreeAsyncContext(a[k][1]);
		nhs_free(h[k]);
	}
	ck_assert_uint_eq(stats().contexts, 0);
	finish();
}
END_TEST

/* --- the pool: handshakes from two submitting threads --------------------------- */

enum { POOL_PAR = 4 }; /* handshakes in flight per submitting thread */

struct pslot {
	struct nhs *h;
	SspiAsyncContext *a[2];
	struct rec r[2];
};

struct submitter {
	int id;
	CredHandle cc, *sc;
	const char *who;       /* the server's name of the client */
	int rounds;
	int handshakes;        /* completed with messages and deleted */
	char err[200];         /* the first thing that went wrong */
};

/* Record the first failure; 0. */
static int sub_fail(struct submitter *t, int k, int leg, const char *what, SECURITY_STATUS st)
{
	if (t->err[0] == '\0')
		snprintf(t->err, sizeof t->err, "thread %d, handshake %d, leg %d: %s (0x%08x)", t->id,
			 k, leg, what, (unsigned)st);
	return 0;
}

/* POOL_PAR handshakes at a time, leg by leg; then names, keys and messages
 * both ways; then deletes, synchronous for even slots, async for odd. */
static int submitter_rounds(struct submitter *t, struct pslot *sl)
{
	for (int round = 0; round < t->rounds; round++) {
		for (int k = 0; k < POOL_PAR; k++) {
			char target[64];
			snprintf(target, sizeof target, "HTTP/t%d-%d.test", t->id, k);
			sl[k].h = nhs_new(target);
			if (sl[k].h == NULL)
				return sub_fail(t, k, 0, "no memory", 0);
			sl[k].h->cc = t->cc;
			sl[k].h->sc = *t->sc;
		}
		for (int leg = 1; leg <= LEGS; leg++) {
			int side = (leg - 1) % 2;
			int base[POOL_PAR];
			for (int k = 0; k < POOL_PAR; k++) {
				base[k] = rec_get(&sl[k].r[side]).calls;
				SECURITY_STATUS st = nhs_submit(sl[k].h, sl[k].a[side]);
				if (st != SEC_E_OK)
					return sub_fail(t, k, leg, "submission refused", st);
			}
			for (int k = 0; k < POOL_PAR; k++) {
				if (!rec_wait(&sl[k].r[side], base[k] + 1))
					return sub_fail(t, k, leg, "no completion", 0);
				SECURITY_STATUS st = SspiGetAsyncCallStatus(sl[k].a[side]);
				struct rec v = rec_get(&sl[k].r[side]);
				if (st != leg_expected(leg) || v.status != st ||
				    v.handle != sl[k].a[side])
					return sub_fail(t, k, leg, "status", st);
				const char *e = nhs_complete(sl[k].h, st);
				if (e != NULL)
					return sub_fail(t, k, leg, e, st);
				if (!reinit_when_allowed(sl[k].a[side]))
					return sub_fail(t, k, leg, "reinit refused", 0);
			}
		}
		for (int k = 0; k < POOL_PAR; k++) {
			struct nhs *h = sl[k].h;
			const char *e = names_and_keys(&h->c, &h->s, t->who);
			if (e == NULL)
				e = msg_both_ways(&h->c, &h->s, (unsigned)(round * POOL_PAR + k));
			if (e != NULL)
				return sub_fail(t, k, LEGS, e, 0);
		}
		for (int k = 0; k < POOL_PAR; k++) {
			struct nhs *h = sl[k].h;
			CtxtHandle *ctx[2] = {&h->c, &h->s};
			for (int side = 0; side < 2; side++) {
				if (k % 2 == 0) {
					SECURITY_STATUS st = DeleteSecurityContext(ctx[side]);
					if (st != SEC_E_OK)
						return sub_fail(t, k, 0, "DeleteSecurityContext", st);
					continue;
				}
				int base = rec_get(&sl[k].r[side]).calls;
				SECURITY_STATUS st = SspiDeleteSecurityContextAsync(sl[k].a[side], ctx[side]);
				if (st != SEC_E_OK)
					return sub_fail(t, k, 0, "async delete refused", st);
				if (!rec_wait(&sl[k].r[side], base + 1))
					return sub_fail(t, k, 0, "no delete completion", 0);
				st = SspiGetAsyncCallStatus(sl[k].a[side]);
				if (st != SEC_E_OK)
					return sub_fail(t, k, 0, "async delete", st);
				if (!reinit_when_allowed(sl[k].a[side]))
					return sub_fail(t, k, 0, "reinit refused", 0);
			}
			if (DeleteSecurityContext(&h->c) != SEC_E_INVALID_HANDLE ||
			    DeleteSecurityContext(&h->s) != SEC_E_INVALID_HANDLE)
				return sub_fail(t, k, 0, "a deleted context deleted again", 0);
			free(h);
			sl[k].h = NULL;
			t->handshakes++;
		}
	}
	return 1;
}

static void *submitter_main(void *arg)
{
	struct submitter *t = arg;
	struct pslot *sl = calloc(POOL_PAR, sizeof *sl);
	int made = 0;
	if (sl == NULL) {
		(void)sub_fail(t, 0, 0, "no memory", 0);
		return NULL;
	}
	for (; made < POOL_PAR; made++) {
		struct pslot *s = &sl[made];
		s->a[0] = SspiCreateAsyncContext();
		s->a[1] = SspiCreateAsyncContext();
		if (s->a[0] == NULL || s->a[1] == NULL ||
		    SspiSetAsyncNotifyCallback(s->a[0], rec_cb, &s->r[0]) != SEC_E_OK ||
		    SspiSetAsyncNotifyCallback(s->a[1], rec_cb, &s->r[1]) != SEC_E_OK) {
			(void)sub_fail(t, made, 0, "async context", 0);
			made++;
			break;
		}
	}
	if (t->err[0] == '\0')
		(void)submitter_rounds(t, sl);
	/* Abandons whatever a failure left pending, before its memory goes. */
	for (int k = 0; k < made; k++) {
		SspiFreeAsyncContext(sl[k].a[0]);
		SspiFreeAsyncContext(sl[k].a[1]);
		free(sl[k].h);
	}
	free(sl);
	return NULL;
}

START_TEST(test_ntlm_async_pool_handshakes_from_two_threads)
{
	start(2);
	CredHandle sc = acquire(SECPKG_CRED_INBOUND, NULL, NULL, NULL);
	struct submitter t[2];
	memset(t, 0, sizeof t);
	int rounds = tl_race_detector() ? 1 : tl_slow() ? 2 : 12;
	t[0] = (struct submitter){.id = 0, .sc = &sc, .who = "DOM\\alice", .rounds = rounds};
	t[0].cc = acquire(SECPKG_CRED_OUTBOUND, NULL, NULL, NULL); /* the file's first entry */
	t[1] = (struct submitter){.id = 1, .sc = &sc, .who = "OTHER\\bob", .rounds = rounds};
	t[1].cc = acquire(SECPKG_CRED_OUTBOUND, "bob", "OTHER", "pw:with:colons");
	pthread_t tid[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, submitter_main, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(t[i].err[0] == '\0', "%s", t[i].err);
		ck_assert_int_eq(t[i].handshakes, rounds * POOL_PAR);
	}
	ck_assert_uint_eq(stats().contexts, 0);
	ck_assert_int_eq(FreeCredentialsHandle(&t[0].cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&t[1].cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	finish();
}
END_TEST

/* --- a completion queue: _i 0 on two workers, 1 in no-thread mode ------------------ */

enum { CQ_PAR = 4 };

START_TEST(test_ntlm_async_cq_handshakes_then_messages)
{
	start(_i == 0 ? 2 : 0);
	struct sspiasync_cq *cq;
	ck_assert_int_eq(sspiasync_cq_create(&cq), SEC_E_OK);
	int fd = sspiasync_cq_fd(cq);
	ck_assert_int_ge(fd, 0);
	CredHandle cc = acquire(SECPKG_CRED_OUTBOUND, NULL, NULL, NULL);
	CredHandle sc = acquire(SECPKG_CRED_INBOUND, NULL, NULL, NULL);
	struct pslot sl[CQ_PAR];
	for (int k = 0; k < CQ_PAR; k++) {
		char target[64];
		snprintf(target, sizeof target, "HTTP/cq%d.test", k);
		sl[k].h = nhs_new(target);
		ck_assert_ptr_nonnull(sl[k].h);
		sl[k].h->cc = cc;
		sl[k].h->sc = sc;
		for (int side = 0; side < 2; side++) {
			sl[k].a[side] = actx_new(&sl[k].r[side]); /* its callback: only in reap */
			ck_assert_int_eq(sspiasync_cq_bind(sl[k].a[side], cq), SEC_E_OK);
		}
		ck_assert_int_eq(nhs_submit(sl[k].h, sl[k].a[0]), SEC_E_OK);
	}
	/* The loop: wait for the fd, run (no-thread mode), reap, next legs. */
	int legs = 0, deletes = 0, idle = 0;
	while (deletes < 2 * CQ_PAR && idle < 3) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 10000) != 1) {
			idle++;
			continue;
		}
		if (!g_pool)
			sspiasync_run(0);
		struct sspiasync_completion done[8];
		int n = sspiasync_cq_reap(cq, done, 8);
		ck_assert_int_ge(n, 0);
		for (int i = 0; i < n; i++) {
			int k = 0, side = -1;
			for (; k < CQ_PAR && side < 0; k++)
				for (int s = 0; s < 2; s++)
					if (done[i].context == sl[k].a[s])
						side = s;
			k--;
			ck_assert_msg(side >= 0, "a record of no context of ours");
			struct nhs *h = sl[k].h;
			ck_assert_ptr_eq(done[i].data, &sl[k].r[side]);
			ck_assert_int_eq(SspiGetAsyncCallStatus(done[i].context), done[i].status);
			if (legs == LEGS * CQ_PAR) { /* the deletes */
				check_done(done[i].context, &sl[k].r[side], 3, SEC_E_OK);
				deletes++;
				continue;
			}
			int leg = h->leg + 1;
			ck_assert_msg(done[i].status == leg_expected(leg),
				      "handshake %d leg %d: 0x%08x", k, leg, (unsigned)done[i].status);
			check_done(done[i].context, &sl[k].r[side], (leg + 1) / 2, leg_expected(leg));
			const char *err = nhs_complete(h, done[i].status);
			ck_assert_msg(err == NULL, "handshake %d leg %d: %s", k, leg, err);
			ck_assert_int_eq(SspiReinitAsyncContext(done[i].context), STATUS_SUCCESS);
			if (++legs == LEGS * CQ_PAR) {
				/* Every handshake done: names, messages, then async deletes. */
				for (int j = 0; j < CQ_PAR; j++) {
					err = names_and_keys(&sl[j].h->c, &sl[j].h->s, "DOM\\alice");
					if (err == NULL)
						err = msg_both_ways(&sl[j].h->c, &sl[j].h->s, (unsigned)j);
					ck_assert_msg(err == NULL, "handshake %d: %s", j, err);
					ck_assert_int_eq(SspiDeleteSecurityContextAsync(sl[j].a[0], &sl[j].h->c),
							 SEC_E_OK);
					ck_assert_int_eq(SspiDeleteSecurityContextAsync(sl[j].a[1], &sl[j].h->s),
							 SEC_E_OK);
				}
			} else if (h->leg < LEGS) {
				ck_assert_int_eq(nhs_submit(h, sl[k].a[h->leg % 2]), SEC_E_OK);
			}
		}
	}
	ck_assert_int_eq(legs, LEGS * CQ_PAR);
	ck_assert_int_eq(deletes, 2 * CQ_PAR);
	ck_assert_uint_eq(stats().contexts, 0);
	for (int k = 0; k < CQ_PAR; k++) {
		ck_assert_int_eq(DeleteSecurityContext(&sl[k].h->c), SEC_E_INVALID_HANDLE);
		SspiFreeAsyncContext(sl[k].a[0]); /* unbinds */
		SspiFreeAsyncContext(sl[k].a[1]);
		free(sl[k].h);
	}
	ck_assert_int_eq(sspiasync_cq_destroy(cq), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	finish();
}
END_TEST

/* --- delete while a leg is in flight -------------------------------------------------- */

/* A leg queued and not started (no-thread mode), then a delete of its
 * context.  _i / 2 picks the leg: 0 the client's AUTHENTICATE (leg 3), 1
 * the server's last (leg 4); _i % 2 the delete: 0 SspiDeleteSecurityContextAsync
 * (then a second delete queued after it), 1 DeleteSecurityContext.  As for
 * the test package (check_async.c): the leg completes SEC_E_INVALID_HANDLE
 * without the package and writes nothing, the delete SEC_E_OK after it, a
 * call queued after the delete SEC_E_INVALID_HANDLE; the other side is
 * unharmed. */
START_TEST(test_ntlm_async_delete_fails_queued_leg)
{
	int server = _i / 2, sync = _i % 2;
	start(0);
	struct nhs *p = nhs_with_creds("HTTP/queued.test", NULL, NULL, NULL);
	SspiAsyncContext *a[2];
	struct rec r[2], rl, rd, rq;
	a[0] = actx_new(&r[0]);
	a[1] = actx_new(&r[1]);
	nhs_run_to(p, a, r, server ? 3 : 2);
	SspiAsyncContext *al = actx_new(&rl), *ad = actx_new(&rd), *aq = actx_new(&rq);
	CtxtHandle *victim = server ? &p->s : &p->c, *other = server ? &p->c : &p->s;
	uint64_t contexts = stats().contexts;
	ck_assert_uint_eq(contexts, 2);
	ck_assert_int_eq(nhs_submit(p, al), SEC_E_OK);
	if (!sync) {
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(ad, victim), SEC_E_OK);
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(aq, victim), SEC_E_OK);
		ck_assert_uint_eq(stats().pending_calls, 3);
		ck_assert_uint_eq(stats().contexts, contexts); /* not before the run */
		ck_assert_uint_eq(sspiasync_run(0), 3);
		check_done(al, &rl, 1, SEC_E_INVALID_HANDLE);
		check_done(ad, &rd, 1, SEC_E_OK);
		check_done(aq, &rq, 1, SEC_E_INVALID_HANDLE);
		ck_assert_msg(rl.order < rd.order && rd.order < rq.order,
			      "order: leg %u, delete %u, second delete %u", rl.order, rd.order, rq.order);
	} else {
		ck_assert_int_eq(DeleteSecurityContext(victim), SEC_E_OK);
		/* Failed at once; its callback waits for the next run. */
		ck_assert_int_eq(SspiGetAsyncCallStatus(al), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(rec_get(&rl).calls, 0);
		ck_assert_uint_eq(stats().pending_calls, 0);
		sspiasync_run(0);
		check_done(al, &rl, 1, SEC_E_INVALID_HANDLE);
	}
	const char *err = nhs_complete(p, SEC_E_INVALID_HANDLE);
	ck_assert_msg(err == NULL, "%s", err);
	ck_assert_uint_eq(stats().contexts, contexts - 1);
	ck_assert_int_eq(DeleteSecurityContext(victim), SEC_E_INVALID_HANDLE);
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(victim, SECPKG_ATTR_SIZES, &sz),
			 SEC_E_INVALID_HANDLE);
	if (server)
		p->have_s = 0;
	else
		p->have_c = 0;
	/* The other side: the server PARTIAL after leg 2, the client COMPLETE
	 * after leg 3; either is queryable and deletable. */
	ck_assert_int_eq(QueryContextAttributesA(other, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	ck_assert_uint_eq(sz.cbMaxToken, TOK);
	SspiFreeAsyncContext(al);
	SspiFreeAsyncContext(ad);
	SspiFreeAsyncContext(aq);
	SspiFreeAsyncContext(a[0]);
	SspiFreeAsyncContext(a[1]);
	nhs_free(p);
	ck_assert_uint_eq(stats().contexts, 0);
	finish();
}
END_TEST

/* A synchronous delete on its own thread: it returns only once the leg
 * running on the context has finished. */
struct deleter {
	pthread_t t;
	CtxtHandle h;
	SECURITY_STATUS st;
	int returned; /* [g_mu] */
};

static void *deleter_main(void *arg)
{
	struct deleter *d = arg;
	SECURITY_STATUS st = DeleteSecurityContext(&d->h);
	pthread_mutex_lock(&g_mu);
	d->st = st;
	d->returned = 1;
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

static CtxtHandle g_victim;

/* Has the delete of g_victim begun (the context is DELETING)? */
static int victim_deleting(void)
{
	struct sa_runtime *rt;
	if (sa__rt_enter(&rt) != SEC_E_OK)
		return 0;
	struct sa_ctx *ctx = NULL;
	int yes = 0;
	if (sa__ctx_get(rt, &g_victim, &ctx) == SEC_E_OK) {
		yes = sa__ctx_deleting(ctx);
		sa__ctx_put(rt, ctx);
	}
	sa__rt_exit(NULL, SEC_E_OK);
	return yes;
}

/* The server's last leg, synchronously, on its own thread. */
struct sync_leg {
	pthread_t t;
	struct nhs *p;
	SECURITY_STATUS st;
	int returned; /* [g_mu] */
};

static void *sync_leg_main(void *arg)
{
	struct sync_leg *l = arg;
	SECURITY_STATUS st = nhs_sync(l->p);
	pthread_mutex_lock(&g_mu);
	l->st = st;
	l->returned = 1;
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

/*
 * Two workers; the server's last leg (AUTHENTICATE in) is held while the
 * server's context is deleted.  _i / 3: the leg and where it is held:
 *  0  async, on its worker before it starts (the engine's hook): not
 *     admitted yet, it completes SEC_E_INVALID_HANDLE without the package
 *     and writes nothing;
 *  1  async, inside NTLM (in the server's user-store callback): it finishes
 *     with its own status (SEC_E_OK, outputs written), then the context is
 *     torn down;
 *  2  synchronous AcceptSecurityContext on another thread, inside NTLM: as 1.
 * _i % 3: the delete: 0 SspiDeleteSecurityContextAsync (SEC_E_OK after the
 * leg; a second one queued after it SEC_E_INVALID_HANDLE), 1
 * DeleteSecurityContext on another thread (returns SEC_E_OK once the leg is
 * done), 2 a fire-and-forget async delete.  Either way the context goes,
 * the client is unharmed, nothing leaks.
 */
START_TEST(test_ntlm_async_delete_while_leg_held)
{
	int where = _i / 3, how = _i % 3, in_package = where != 0;
	start(2);
	struct nhs *p = nhs_new("HTTP/held.test");
	ck_assert_ptr_nonnull(p);
	p->cc = acquire(SECPKG_CRED_OUTBOUND, "dave", "STORE", "Password");
	p->sc = acquire(SECPKG_CRED_INBOUND, NULL, NULL, NULL);
	p->own_creds = 1;
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(&p->sc, held_store, NULL), SEC_E_OK);
	store_arm(in_package);
	SspiAsyncContext *a[2];
	struct rec r[2], rl, rd, rq;
	a[0] = actx_new(&r[0]);
	a[1] = actx_new(&r[1]);
	nhs_run_to(p, a, r, 3);
	SspiAsyncContext *al = actx_new(&rl), *ad = NULL, *aq = NULL;
	struct sync_leg sl = {.p = p, .st = SEC_E_INTERNAL_ERROR};
	if (where == 0)
		hold_at(al, SA_ENGINE_POINT_RUN);
	if (where == 2)
		ck_assert_int_eq(pthread_create(&sl.t, NULL, sync_leg_main, &sl), 0);
	else
		ck_assert_int_eq(nhs_submit(p, al), SEC_E_OK);
	ck_assert(wait_flag(in_package ? &g_store.reached : &g_hold.reached));
	if (where != 2)
		ck_assert_int_eq(SspiGetAsyncCallStatus(al), SEC_I_ASYNC_CALL_PENDING);
	ck_assert_uint_eq(stats().contexts, 2);

	struct deleter d = {.h = p->s, .st = SEC_E_INTERNAL_ERROR};
	switch (how) {
	case 0:
		ad = actx_new(&rd);
		aq = actx_new(&rq);
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(ad, &p->s), SEC_E_OK);
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(aq, &p->s), SEC_E_OK);
		ck_assert_int_eq(SspiGetAsyncCallStatus(ad), SEC_I_ASYNC_CALL_PENDING);
		break;
	case 1:
		g_victim = p->s;
		ck_assert_int_eq(pthread_create(&d.t, NULL, deleter_main, &d), 0);
		ck_assert(wait_until(victim_deleting));
		break;
	default: {
		SspiAsyncContext *f = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(SspiDeleteSecurityContextAsync(f, &p->s), SEC_E_OK);
		SspiFreeAsyncContext(f);
		break;
	}
	}
	/* Whatever the delete, the held leg still runs (or fails) first. */
	ck_assert_uint_eq(stats().contexts, 2);
	ck_assert_int_eq(rec_get(&rl).calls, 0);
	ck_assert_int_eq(get_flag(&sl.returned), 0);
	if (how == 1)
		ck_assert_int_eq(get_flag(&d.returned), 0);
	set_flag(in_package ? &g_store.released : &g_hold.released, 1);

	SECURITY_STATUS leg_st = in_package ? SEC_E_OK : SEC_E_INVALID_HANDLE;
	if (where == 2) {
		ck_assert_int_eq(pthread_join(sl.t, NULL), 0);
		ck_assert_msg(sl.st == leg_st, "the held leg: 0x%08x", (unsigned)sl.st);
	} else {
		ck_assert(rec_wait(&rl, 1));
		check_done(al, &rl, 1, leg_st);
	}
	const char *err = nhs_complete(p, leg_st);
	ck_assert_msg(err == NULL, "the held leg: %s", err);
	switch (how) {
	case 0:
		ck_assert(rec_wait(&rd, 1));
		ck_assert(rec_wait(&rq, 1));
		/* The statuses tell the order the calls ran in; callbacks on two
		 * workers may start in either order (only the runs are ordered). */
		check_done(ad, &rd, 1, SEC_E_OK);
		check_done(aq, &rq, 1, SEC_E_INVALID_HANDLE);
		break;
	case 1:
		ck_assert_int_eq(pthread_join(d.t, NULL), 0);
		ck_assert_int_eq(d.st, SEC_E_OK);
		break;
	default:
		break;
	}
	ck_assert(wait_until(no_pending));
	hold_off();
	pthread_mutex_lock(&g_mu);
	int store_calls = g_store.calls;
	pthread_mutex_unlock(&g_mu);
	ck_assert_int_eq(store_calls, in_package);
	ck_assert_uint_eq(stats().contexts, 1);
	ck_assert_int_eq(DeleteSecurityContext(&p->s), SEC_E_INVALID_HANDLE);
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(&p->s, SECPKG_ATTR_SIZES, &sz), SEC_E_INVALID_HANDLE);
	p->have_s = 0;
	/* The client is complete and unharmed: it still signs. */
	unsigned char sig[SIG_LEN], data[8] = "payload";
	SecBuffer mb[2] = {{SIG_LEN, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(MakeSignature(&p->c, 0, &md, 0), SEC_E_OK);
	SspiFreeAsyncContext(al);
	SspiFreeAsyncContext(ad);
	SspiFreeAsyncContext(aq);
	SspiFreeAsyncContext(a[0]);
	SspiFreeAsyncContext(a[1]);
	nhs_free(p);
	ck_assert_uint_eq(stats().contexts, 0);
	finish();
}
END_TEST

/* --- failures through the async path ------------------------------------------------- */

/* A wrong password (_i / 2 == 0) or an unknown user (1), in no-thread mode
 * (_i % 2 == 0) or on two workers (1): the server's last leg completes
 * SEC_E_LOGON_DENIED, seen by SspiGetAsyncCallStatus and the callback, with
 * nothing written; its context is REJECTED (no name, no key, no messages,
 * no further leg) and deletable, async. */
START_TEST(test_ntlm_async_wrong_password_is_logon_denied)
{
	static const char *const who[2][3] = {{"alice", "DOM", "wrong"},
					      {"mallory", "DOM", "Secret1!"}};
	const char *const *w = who[_i / 2];
	start(_i % 2 ? 2 : 0);
	struct nhs *p = nhs_with_creds("HTTP/denied.test", w[0], w[1], w[2]);
	SspiAsyncContext *a[2];
	struct rec r[2], rd;
	a[0] = actx_new(&r[0]);
	a[1] = actx_new(&r[1]);
	nhs_run_to(p, a, r, 3); /* the client cannot tell: its leg 3 is SEC_E_OK */
	nhs_leg(p, a[1], &r[1], SEC_E_LOGON_DENIED);
	ck_assert_int_eq(p->leg, 3);
	ck_assert(p->have_s);
	ck_assert_uint_eq(stats().contexts, 2);
	/* Rejected. */
	SecPkgContext_NamesA nm;
	SecPkgContext_SessionKey key;
	ck_assert_int_eq(QueryContextAttributesA(&p->s, SECPKG_ATTR_NAMES, &nm), SEC_E_OUT_OF_SEQUENCE);
	ck_assert_int_eq(QueryContextAttributesA(&p->s, SECPKG_ATTR_SESSION_KEY, &key),
			 SEC_E_OUT_OF_SEQUENCE);
	unsigned char sig[SIG_LEN], data[4] = "abc";
	SecBuffer mb[2] = {{SIG_LEN, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(MakeSignature(&p->s, 0, &md, 0), SEC_E_OUT_OF_SEQUENCE);
	/* The same AUTHENTICATE again: refused by the lifecycle, nothing written. */
	nhs_leg(p, a[1], &r[1], SEC_E_OUT_OF_SEQUENCE);
	/* Deleted through the async path. */
	SspiAsyncContext *ad = actx_new(&rd);
	ck_assert_int_eq(SspiDeleteSecurityContextAsync(ad, &p->s), SEC_E_OK);
	ck_assert(rec_wait(&rd, 1));
	check_done(ad, &rd, 1, SEC_E_OK);
	ck_assert(wait_until(no_pending));
	ck_assert_uint_eq(stats().contexts, 1);
	ck_assert_int_eq(DeleteSecurityContext(&p->s), SEC_E_INVALID_HANDLE);
	p->have_s = 0;
	SspiFreeAsyncContext(ad);
	SspiFreeAsyncContext(a[0]);
	SspiFreeAsyncContext(a[1]);
	nhs_free(p);
	ck_assert_uint_eq(stats().contexts, 0);
	finish();
}
END_TEST

/* Channel bindings (a SEC_CHANNEL_BINDINGS header, then application data)
 * written into @room. */
static unsigned long bindings(unsigned char *room, const char *app)
{
	SEC_CHANNEL_BINDINGS hd;
	memset(&hd, 0, sizeof hd);
	hd.cbApplicationDataLength = (unsigned long)strlen(app);
	hd.dwApplicationDataOffset = sizeof hd;
	memcpy(room, &hd, sizeof hd);
	memcpy(room + sizeof hd, app, strlen(app));
	return (unsigned long)(sizeof hd + strlen(app));
}

#define CB_ROOM 128
#define CB_A "tls-server-end-point:AAAAAAAA"
#define CB_B "tls-server-end-point:BBBBBBBB"

/*
 * The async call copies the SECBUFFER_CHANNEL_BINDINGS buffer at submission:
 * once a leg is queued the caller may rewrite and free it.  Three
 * handshakes: the client submits A for its AUTHENTICATE, then its buffer
 * becomes B and is freed, the server holds A: SEC_E_OK; the same on the
 * server's side: SEC_E_OK; the client submits B, then its buffer becomes A
 * (the server's): SEC_E_LOGON_DENIED, so what was submitted counts.  _i 0:
 * no-thread mode (nothing runs before sspiasync_run()); 1: two workers, the
 * leg held by the engine's hook while the buffer changes.
 */
START_TEST(test_ntlm_async_channel_bindings_copied_at_submission)
{
	start(_i ? 2 : 0);
	static const struct {
		int server;               /* whose buffer changes after submitting */
		const char *sent, *later; /* its contents then and after */
		SECURITY_STATUS result;   /* the server's last leg */
	} cases[3] = {
		{0, CB_A, CB_B, SEC_E_OK},
		{1, CB_A, CB_B, SEC_E_OK},
		{0, CB_B, CB_A, SEC_E_LOGON_DENIED},
	};
	unsigned char fixed[CB_ROOM];
	unsigned long fixed_len = bindings(fixed, CB_A);
	for (int c = 0; c < 3; c++) {
		int side = cases[c].server;
		struct nhs *p = nhs_with_creds("HTTP/bound.test", NULL, NULL, NULL);
		SspiAsyncContext *a[2];
		struct rec r[2];
		a[0] = actx_new(&r[0]);
		a[1] = actx_new(&r[1]);
		unsigned char *room = malloc(CB_ROOM);
		ck_assert_ptr_nonnull(room);
		unsigned long len = bindings(room, cases[c].sent);
		p->cb[side] = (SecBuffer){len, SECBUFFER_CHANNEL_BINDINGS, room};
		p->cb[!side] = (SecBuffer){fixed_len, SECBUFFER_CHANNEL_BINDINGS, fixed};
		/* Up to the changing side's last leg: client 3, server 4. */
		nhs_run_to(p, a, r, side ? 3 : 2);
		int calls = rec_get(&r[side]).calls;
		if (g_pool)
			hold_at(a[side], SA_ENGINE_POINT_RUN);
		ck_assert_int_eq(nhs_submit(p, a[side]), SEC_E_OK);
		if (g_pool)
			ck_assert(wait_flag(&g_hold.reached));
		ck_assert_int_eq(SspiGetAsyncCallStatus(a[side]), SEC_I_ASYNC_CALL_PENDING);
		bindings(room, cases[c].later); /* the same length */
		free(room);                     /* and gone: Valgrind sees any read */
		p->cb[side] = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
		if (g_pool)
			set_flag(&g_hold.released, 1);
		SECURITY_STATUS want = side ? cases[c].result : SEC_E_OK;
		ck_assert(rec_wait(&r[side], calls + 1));
		check_done(a[side], &r[side], calls + 1, want);
		hold_off();
		const char *err = nhs_complete(p, want);
		ck_assert_msg(err == NULL, "case %d: %s", c, err);
		ck_assert(reinit_when_allowed(a[side]));
		if (!side)
			nhs_leg(p, a[1], &r[1], cases[c].result);
		if (cases[c].result == SEC_E_OK) {
			err = msg_both_ways(&p->c, &p->s, (unsigned)c);
			ck_assert_msg(err == NULL, "case %d: %s", c, err);
		}
		SspiFreeAsyncContext(a[0]);
		SspiFreeAsyncContext(a[1]);
		nhs_free(p);
		ck_assert_uint_eq(stats().contexts, 0);
	}
	finish();
}
END_TEST

static Suite *ntlm_async_suite(void)
{
	Suite *s = suite_create("ntlm_async");
	TCase *tc;

	tc = tcase_ntlm(s, "nothread", 60);
	tcase_add_test(tc, test_ntlm_async_no_thread_handshakes_then_messages);

	tc = tcase_ntlm(s, "pool", 300);
	tcase_add_test(tc, test_ntlm_async_pool_handshakes_from_two_threads);

	tc = tcase_ntlm(s, "cq", 120);
	tcase_add_loop_test(tc, test_ntlm_async_cq_handshakes_then_messages, 0, 2);

	tc = tcase_ntlm(s, "delete", 120);
	tcase_add_loop_test(tc, test_ntlm_async_delete_fails_queued_leg, 0, 4);
	tcase_add_loop_test(tc, test_ntlm_async_delete_while_leg_held, 0, 9);

	tc = tcase_ntlm(s, "failures", 120);
	tcase_add_loop_test(tc, test_ntlm_async_wrong_password_is_logon_denied, 0, 4);
	tcase_add_loop_test(tc, test_ntlm_async_channel_bindings_copied_at_submission, 0, 2);
	return s;
}

int main(void)
{
	(void)pkg_name; /* sspi_testlib.h's, for the test package */
	return tl_run_suite(ntlm_async_suite()) == 0 ? 0 : 1;
}
