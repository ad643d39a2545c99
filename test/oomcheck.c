/*
 * test/oomcheck.c - allocation-failure injection over every public function
 * (`make oomcheck`, and `make oomcheck-valgrind`).
 *
 * Each scenario runs once per k = 1, 2, ... with the k-th allocation from
 * its start failing, until a run completes without the injector firing.  In
 * every run each call must return its normal status or
 * SEC_E_INSUFFICIENT_MEMORY (then the scenario stops there, as a caller
 * would); afterwards, with the injector off, a full handshake (sync and
 * async) must succeed in the same runtime, and shutdown must leave 0 blocks.
 * Delete, free and shutdown must make no allocation at all.  At the end every
 * allocation site linked into the library (the "sa_alloc_sites" section, see
 * src/util/alloc.h) must have been failed at least once:
 *   allocation sites failed: N of M
 * Exit status 0 when all held, 1 otherwise (each problem printed).
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "krb5_realm.h"
#include "packages/ntlm/ntlm_int.h"
#include "util/alloc.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OOM SEC_E_INSUFFICIENT_MEMORY
#define TOK 512

static int problems;
static const char *scenario;
static unsigned long run_k;

/* Inside a scenario: the call must give @want or run out of memory. */
#define STEP(call, want)                                                                   \
	do {                                                                               \
		SECURITY_STATUS st_ = (call);                                              \
		if (st_ == OOM)                                                            \
			return 1;                                                          \
		if (st_ != (SECURITY_STATUS)(want)) {                                      \
			fprintf(stderr, "oomcheck: %s k=%lu line %d: %s gave 0x%08x, not 0x%08x\n", \
				scenario, run_k, __LINE__, #call, (unsigned)st_,            \
				(unsigned)(want));                                          \
			problems++;                                                        \
			return 2;                                                          \
		}                                                                          \
	} while (0)

/* The same for a call that must never allocate. */
#define NOALLOC(call, want)                                                                \
	do {                                                                               \
		uint64_t before_ = alloc_calls();                                          \
		SECURITY_STATUS st_ = (call);                                              \
		if (alloc_calls() != before_) {                                            \
			fprintf(stderr, "oomcheck: %s line %d: %s allocated\n", scenario,   \
				__LINE__, #call);                                           \
			problems++;                                                        \
		}                                                                          \
		if (st_ != (SECURITY_STATUS)(want)) {                                      \
			fprintf(stderr, "oomcheck: %s line %d: %s gave 0x%08x\n", scenario, \
				__LINE__, #call, (unsigned)st_);                            \
			problems++;                                                        \
			return 2;                                                          \
		}                                                                          \
	} while (0)

static uint64_t alloc_calls(void)
{
	struct sa_alloc_stats st;
	sa__alloc_stats(&st);
	return st.calls;
}

static uint64_t injected_total(void)
{
	struct sa_alloc_site *b, *e;
	sa__alloc_sites(&b, &e);
	uint64_t n = 0;
	for (struct sa_alloc_site *s = b; s < e; s++)
		n += atomic_load(&s->injected);
	return n;
}

static char pkg[] = "SspiAsyncTest";

/* Storage for async outputs: written when calls complete. */
struct io {
	CredHandle cc, sc;
	CtxtHandle c, s;
	unsigned char tok[4][TOK];
	SecBuffer ob[4];
	SecBufferDesc od[4];
	unsigned long attrs[4];
	TimeStamp exp[4];
};

static SecBufferDesc *out_buf(struct io *io, int i)
{
	io->ob[i] = (SecBuffer){TOK, SECBUFFER_TOKEN, io->tok[i]};
	io->od[i] = (SecBufferDesc){SECBUFFER_VERSION, 1, &io->ob[i]};
	return &io->od[i];
}

static SecBufferDesc *in_buf(struct io *io, int i, SecBuffer *b, SecBufferDesc *d)
{
	*b = (SecBuffer){io->ob[i].cbBuffer, SECBUFFER_TOKEN, io->tok[i]};
	*d = (SecBufferDesc){SECBUFFER_VERSION, 1, b};
	return d;
}

/* The calls of an async context: wait for its completion (pool: poll the
 * queue's fd; no-thread: run), reap it, return its status. */
static SECURITY_STATUS await(struct sspiasync_cq *cq)
{
	struct sspiasync_statistics st;
	sspiasync_stats(&st); /* the runtime's mode, whoever made it */
	struct sspiasync_completion c;
	for (int tries = 0; tries < 3; tries++) {
		if (st.worker_threads == 0)
			sspiasync_run(0);
		if (sspiasync_cq_reap(cq, &c, 1) == 1)
			return SspiReinitAsyncContext(c.context) == STATUS_SUCCESS ? c.status
										: SEC_E_INTERNAL_ERROR;
		struct pollfd p = {sspiasync_cq_fd(cq), POLLIN, 0};
		if (poll(&p, 1, 30000) != 1)
			break;
	}
	return SEC_E_INTERNAL_ERROR; /* lost */
}

/* A 3-leg synchronous handshake, every context and message call on it,
 * package queries, then deletes and frees. */
static int sync_calls(void)
{
	struct io io;
	SecBuffer ib;
	SecBufferDesc id;
	unsigned long a;
	char target[] = "host/oom;legs=3";
	char principal[] = "svc/oom";
	unsigned char user[] = "alice", dom[] = "LAB", pw[] = "secret";
	SEC_WINNT_AUTH_IDENTITY_A ident = {user, 5, dom, 3, pw, 6, SEC_WINNT_AUTH_IDENTITY_ANSI};
	STEP(AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_OUTBOUND, NULL, &ident, NULL, NULL,
				       &io.cc, NULL), SEC_E_OK);
	STEP(AcquireCredentialsHandleA(principal, pkg, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
				       &io.sc, NULL), SEC_E_OK);
	/* Leg 1 with ISC_REQ_ALLOCATE_MEMORY: the token is a context buffer. */
	SecBuffer ab = {0, SECBUFFER_TOKEN, NULL};
	SecBufferDesc ad = {SECBUFFER_VERSION, 1, &ab};
	STEP(InitializeSecurityContextA(&io.cc, NULL, target, ISC_REQ_ALLOCATE_MEMORY, 0, 0, NULL, 0,
					&io.c, &ad, &a, NULL), SEC_I_CONTINUE_NEEDED);
	memcpy(io.tok[0], ab.pvBuffer, ab.cbBuffer);
	io.ob[0].cbBuffer = ab.cbBuffer;
	STEP(FreeContextBuffer(ab.pvBuffer), SEC_E_OK);
	STEP(AcceptSecurityContext(&io.sc, NULL, in_buf(&io, 0, &ib, &id), 0, 0, &io.s,
				   out_buf(&io, 1), &a, NULL), SEC_E_OK);
	STEP(InitializeSecurityContextA(&io.cc, &io.c, NULL, 0, 0, 0, in_buf(&io, 1, &ib, &id), 0,
					&io.c, out_buf(&io, 2), &a, NULL), SEC_E_OK);
	SecPkgContext_NamesA names;
	STEP(QueryContextAttributesA(&io.s, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
	STEP(FreeContextBuffer(names.sUserName), SEC_E_OK);
	SecPkgContext_PackageInfoA pinfo;
	STEP(QueryContextAttributesA(&io.c, SECPKG_ATTR_PACKAGE_INFO, &pinfo), SEC_E_OK);
	STEP(FreeContextBuffer(pinfo.PackageInfo), SEC_E_OK);
	SecPkgContext_Sizes sz;
	STEP(QueryContextAttributesA(&io.c, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	unsigned char msg[32] = "attack at dawn", sig[64];
	SecBuffer mb[2] = {{sizeof msg, SECBUFFER_DATA, msg}, {sizeof sig, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	unsigned long qop;
	STEP(MakeSignature(&io.c, 0, &md, 0), SEC_E_OK);
	STEP(VerifySignature(&io.s, &md, 0, &qop), SEC_E_OK);
	STEP(EncryptMessage(&io.s, 0, &md, 1), SEC_E_OK);
	STEP(DecryptMessage(&io.c, &md, 1, &qop), SEC_E_OK);
	unsigned long npkg;
	PSecPkgInfoA pkgs, one;
	STEP(EnumerateSecurityPackagesA(&npkg, &pkgs), SEC_E_OK);
	STEP(FreeContextBuffer(pkgs), SEC_E_OK);
	STEP(QuerySecurityPackageInfoA(pkg, &one), SEC_E_OK);
	STEP(FreeContextBuffer(one), SEC_E_OK);
	/* More buffers at once than the set's inline buckets: it grows (a
	 * failed growth is no error: the call succeeds, ctxbuf.c C4). */
	PSecPkgInfoA held[20];
	for (int i = 0; i < 20; i++)
		STEP(QuerySecurityPackageInfoA(pkg, &held[i]), SEC_E_OK);
	for (int i = 0; i < 20; i++)
		NOALLOC(FreeContextBuffer(held[i]), SEC_E_OK);
	NOALLOC(DeleteSecurityContext(&io.c), SEC_E_OK);
	NOALLOC(DeleteSecurityContext(&io.s), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&io.cc), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&io.sc), SEC_E_OK);
	return 0;
}

/* The async family through a completion queue: async credentials, a 3-leg
 * handshake, an async delete and free, a leg freed while pending. */
static int async_calls(void)
{
	static struct io io; /* outputs outlive a scenario stopped early */
	SecBuffer ib;
	SecBufferDesc id;
	char target[] = "host/oom-async;legs=3";
	char principal[] = "svc/async";
	struct sspiasync_cq *cq;
	STEP(sspiasync_cq_create(&cq), SEC_E_OK);
	SspiAsyncContext *ac = SspiCreateAsyncContext();
	if (ac == NULL)
		return 1; /* the documented way it runs out of memory */
	STEP(sspiasync_cq_bind(ac, cq), SEC_E_OK);
	STEP(SspiAcquireCredentialsHandleAsyncA(ac, principal, pkg, SECPKG_CRED_INBOUND, NULL, NULL,
						NULL, NULL, &io.sc, &io.exp[0]), SEC_E_OK);
	STEP(await(cq), SEC_E_OK);
	STEP(AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
				       &io.cc, NULL), SEC_E_OK);
	STEP(SspiInitializeSecurityContextAsyncA(ac, &io.cc, NULL, target, 0, 0, 0, NULL, 0, &io.c,
						 out_buf(&io, 0), &io.attrs[0], NULL), SEC_E_OK);
	STEP(await(cq), SEC_I_CONTINUE_NEEDED);
	STEP(SspiAcceptSecurityContextAsync(ac, &io.sc, NULL, in_buf(&io, 0, &ib, &id), 0, 0, &io.s,
					    out_buf(&io, 1), &io.attrs[1], NULL), SEC_E_OK);
	STEP(await(cq), SEC_E_OK);
	STEP(SspiInitializeSecurityContextAsyncA(ac, &io.cc, &io.c, NULL, 0, 0, 0,
						 in_buf(&io, 1, &ib, &id), 0, &io.c,
						 out_buf(&io, 2), &io.attrs[2], NULL), SEC_E_OK);
	STEP(await(cq), SEC_E_OK);
	/* A leg freed while pending (it may run or not), then deletes. */
	SspiAsyncContext *f = SspiCreateAsyncContext();
	if (f == NULL)
		return 1;
	STEP(SspiInitializeSecurityContextAsyncA(f, &io.cc, &io.c, NULL, 0, 0, 0,
						 in_buf(&io, 1, &ib, &id), 0, &io.c,
						 out_buf(&io, 3), &io.attrs[3], NULL), SEC_E_OK);
	uint64_t before = alloc_calls();
	SspiFreeAsyncContext(f);
	NOALLOC(SspiDeleteSecurityContextAsync(ac, &io.c), SEC_E_OK);
	if (alloc_calls() != before) {
		fprintf(stderr, "oomcheck: %s: SspiFreeAsyncContext allocated\n", scenario);
		problems++;
	}
	STEP(await(cq), SEC_E_OK);
	NOALLOC(SspiDeleteSecurityContextAsync(ac, &io.s), SEC_E_OK);
	STEP(await(cq), SEC_E_OK);
	NOALLOC(SspiFreeCredentialsHandleAsync(ac, &io.cc), SEC_E_OK);
	STEP(await(cq), SEC_E_OK);
	NOALLOC(SspiFreeCredentialsHandleAsync(ac, &io.sc), SEC_E_OK);
	STEP(await(cq), SEC_E_OK);
	SspiFreeAsyncContext(ac);
	STEP(sspiasync_cq_destroy(cq), SEC_E_OK);
	return 0;
}

/* The W forms and the identity forms: UTF-16 names, targets and identities
 * in, UTF-16 buffers out, a handshake through the W table, async W calls,
 * the unimplemented functions' package lookup. */
static int wide_calls(void)
{
	static struct io io; /* outputs outlive a scenario stopped early */
	SecBuffer ib;
	SecBufferDesc id;
	SEC_WCHAR wpkg[] = u"SspiAsyncTest", target[] = u"host/oom-w;legs=3";
	SEC_WCHAR principal[] = u"svc/w", user[] = u"alice", dom[] = u"LAB", pw[] = u"secret";
	SEC_WCHAR list[] = u"SspiAsyncTest";
	SEC_WINNT_AUTH_IDENTITY_EXW ex = {SEC_WINNT_AUTH_IDENTITY_VERSION, sizeof ex,
					  user, 5, dom, 3, pw, 6,
					  SEC_WINNT_AUTH_IDENTITY_UNICODE, list, 13};
	PSecurityFunctionTableW t = InitSecurityInterfaceW();
	unsigned long a;
	STEP(t->AcquireCredentialsHandleW(NULL, wpkg, SECPKG_CRED_OUTBOUND, NULL, &ex, NULL, NULL,
					  &io.cc, NULL), SEC_E_OK);
	STEP(t->AcquireCredentialsHandleW(principal, wpkg, SECPKG_CRED_INBOUND, NULL, NULL, NULL,
					  NULL, &io.sc, NULL), SEC_E_OK);
	STEP(t->InitializeSecurityContextW(&io.cc, NULL, target, 0, 0, 0, NULL, 0, &io.c,
					   out_buf(&io, 0), &a, NULL), SEC_I_CONTINUE_NEEDED);
	STEP(t->AcceptSecurityContext(&io.sc, NULL, in_buf(&io, 0, &ib, &id), 0, 0, &io.s,
				      out_buf(&io, 1), &a, NULL), SEC_E_OK);
	STEP(t->InitializeSecurityContextW(&io.cc, &io.c, NULL, 0, 0, 0, in_buf(&io, 1, &ib, &id),
					   0, &io.c, out_buf(&io, 2), &a, NULL), SEC_E_OK);
	SecPkgContext_NamesW names;
	STEP(t->QueryContextAttributesW(&io.s, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
	STEP(FreeContextBuffer(names.sUserName), SEC_E_OK);
	SecPkgContext_PackageInfoW pinfo;
	STEP(t->QueryContextAttributesW(&io.c, SECPKG_ATTR_PACKAGE_INFO, &pinfo), SEC_E_OK);
	STEP(FreeContextBuffer(pinfo.PackageInfo), SEC_E_OK);
	SecPkgCredentials_NamesW cnames;
	STEP(t->QueryCredentialsAttributesW(&io.cc, SECPKG_CRED_ATTR_NAMES, &cnames), SEC_E_OK);
	STEP(FreeContextBuffer(cnames.sUserName), SEC_E_OK);
	unsigned long npkg;
	PSecPkgInfoW pkgs, one;
	STEP(t->EnumerateSecurityPackagesW(&npkg, &pkgs), SEC_E_OK);
	STEP(FreeContextBuffer(pkgs), SEC_E_OK);
	STEP(t->QuerySecurityPackageInfoW(wpkg, &one), SEC_E_OK);
	STEP(FreeContextBuffer(one), SEC_E_OK);
	SecBuffer packed = {0, 0, NULL};
	STEP(t->ImportSecurityContextW(wpkg, &packed, NULL, &io.c), SEC_E_UNSUPPORTED_FUNCTION);
	NOALLOC(DeleteSecurityContext(&io.c), SEC_E_OK);
	NOALLOC(DeleteSecurityContext(&io.s), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&io.cc), SEC_E_OK);
	/* The async W forms copy their strings when queued. */
	struct sspiasync_cq *cq;
	STEP(sspiasync_cq_create(&cq), SEC_E_OK);
	SspiAsyncContext *ac = SspiCreateAsyncContext();
	if (ac == NULL)
		return 1;
	STEP(sspiasync_cq_bind(ac, cq), SEC_E_OK);
	STEP(SspiAcquireCredentialsHandleAsyncW(ac, NULL, wpkg, SECPKG_CRED_OUTBOUND, NULL, &ex,
						NULL, NULL, &io.cc, NULL), SEC_E_OK);
	STEP(await(cq), SEC_E_OK);
	STEP(SspiInitializeSecurityContextAsyncW(ac, &io.cc, NULL, target, 0, 0, 0, NULL, 0, &io.c,
						 out_buf(&io, 0), &io.attrs[0], NULL), SEC_E_OK);
	STEP(await(cq), SEC_I_CONTINUE_NEEDED);
	SspiFreeAsyncContext(ac);
	STEP(sspiasync_cq_destroy(cq), SEC_E_OK);
	NOALLOC(DeleteSecurityContext(&io.c), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&io.cc), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&io.sc), SEC_E_OK);
	return 0;
}

/* The NTLM package: credentials from an identity, the user file and a
 * principal; a 4-leg handshake; names, session key, messages; the package's
 * own helpers that no handshake of ours reaches (OEM names: our client
 * always speaks Unicode). */
static int ntlm_calls(void)
{
	struct io io;
	SecBuffer ib;
	SecBufferDesc id;
	unsigned long a;
	static char ntlm[] = "NTLM", target[] = "HTTP/oom.test", who[] = "LAB\\alice";
	/* No domain: the server matches any entry for alice (and makes an empty name). */
	unsigned char user[] = "alice", dom[] = "", pw[] = "secret";
	SEC_WINNT_AUTH_IDENTITY_A ident = {user, 5, dom, 0, pw, 6, SEC_WINNT_AUTH_IDENTITY_ANSI};
	CredHandle from_file;
	STEP(AcquireCredentialsHandleA(who, ntlm, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
				       &from_file, NULL), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&from_file), SEC_E_OK);
	STEP(AcquireCredentialsHandleA(NULL, ntlm, SECPKG_CRED_OUTBOUND, NULL, &ident, NULL, NULL,
				       &io.cc, NULL), SEC_E_OK);
	STEP(AcquireCredentialsHandleA(NULL, ntlm, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
				       &io.sc, NULL), SEC_E_OK);
	STEP(InitializeSecurityContextA(&io.cc, NULL, target, 0, 0, 0, NULL, 0, &io.c,
					out_buf(&io, 0), &a, NULL), SEC_I_CONTINUE_NEEDED);
	STEP(AcceptSecurityContext(&io.sc, NULL, in_buf(&io, 0, &ib, &id), 0, 0, &io.s,
				   out_buf(&io, 1), &a, NULL), SEC_I_CONTINUE_NEEDED);
	STEP(InitializeSecurityContextA(&io.cc, &io.c, target, 0, 0, 0, in_buf(&io, 1, &ib, &id), 0,
					&io.c, out_buf(&io, 2), &a, NULL), SEC_E_OK);
	STEP(AcceptSecurityContext(&io.sc, &io.s, in_buf(&io, 2, &ib, &id), 0, 0, &io.s,
				   out_buf(&io, 3), &a, NULL), SEC_E_OK);
	SecPkgContext_NamesA names;
	STEP(QueryContextAttributesA(&io.s, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
	STEP(FreeContextBuffer(names.sUserName), SEC_E_OK);
	SecPkgContext_NativeNamesA nn;
	STEP(QueryContextAttributesA(&io.c, SECPKG_ATTR_NATIVE_NAMES, &nn), SEC_E_OK);
	STEP(FreeContextBuffer(nn.sClientName), SEC_E_OK);
	STEP(FreeContextBuffer(nn.sServerName), SEC_E_OK);
	SecPkgContext_SessionKey key;
	STEP(QueryContextAttributesA(&io.c, SECPKG_ATTR_SESSION_KEY, &key), SEC_E_OK);
	STEP(FreeContextBuffer(key.SessionKey), SEC_E_OK);
	SecPkgCredentials_NamesA cn;
	STEP(QueryCredentialsAttributesA(&io.cc, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
	STEP(FreeContextBuffer(cn.sUserName), SEC_E_OK);
	unsigned char msg[16] = "attack at dawn", sig[16];
	SecBuffer mb[2] = {{sizeof sig, SECBUFFER_TOKEN, sig}, {sizeof msg, SECBUFFER_DATA, msg}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	unsigned long qop;
	/* The first message call of each side makes its message keys; later
	 * ones allocate nothing. */
	STEP(MakeSignature(&io.c, 0, &md, 0), SEC_E_OK);
	STEP(VerifySignature(&io.s, &md, 0, &qop), SEC_E_OK);
	NOALLOC(EncryptMessage(&io.s, 0, &md, 0), SEC_E_OK);
	NOALLOC(DecryptMessage(&io.c, &md, 0, &qop), SEC_E_OK);
	NOALLOC(DeleteSecurityContext(&io.c), SEC_E_OK);
	NOALLOC(DeleteSecurityContext(&io.s), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&io.cc), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&io.sc), SEC_E_OK);
	/* OEM names (curl's and older clients' AUTHENTICATE) through the helper. */
	static const uint8_t oem[] = "ALICE";
	char *s = sa__ntlm_oem(oem, 5);
	if (s == NULL)
		return 1;
	sa__free(s);
	return 0;
}

#if defined(SA_HAVE_KRB5)
/* Kerberos and Negotiate against the realm main() started (test/krb5_realm.h):
 * alice's password credential and the keytab; a 3-leg Kerberos handshake
 * with every attribute and message call; the same through Negotiate, then a
 * Negotiate handshake that falls back to NTLM (5 legs, the user file's
 * SSPIASYNC.TEST:alice) and a bare NTLM client to a Negotiate server. */
#define KTOK 4096
struct kio {
	CredHandle cc, sc;
	CtxtHandle c, s;
	unsigned char tok[2][KTOK];
	SecBuffer ob, ib;
	SecBufferDesc od, id;
	unsigned long a;
};

/* One leg: side 0 the client (its input: the server's last token). */
static SECURITY_STATUS kleg(struct kio *k, int server, int first, const char *target)
{
	unsigned char *in = k->tok[!server], *out = k->tok[server];
	k->id = (SecBufferDesc){SECBUFFER_VERSION, 1, &k->ib};
	k->ib = (SecBuffer){k->ob.cbBuffer, SECBUFFER_TOKEN, in};
	k->ob = (SecBuffer){KTOK, SECBUFFER_TOKEN, out};
	k->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &k->ob};
	unsigned long req = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY;
	if (server)
		return AcceptSecurityContext(&k->sc, first ? NULL : &k->s, &k->id, 0, 0, &k->s,
					     &k->od, &k->a, NULL);
	return InitializeSecurityContextA(&k->cc, first ? NULL : &k->c, (SEC_CHAR *)target, req, 0,
					  0, first ? NULL : &k->id, 0, &k->c, &k->od, &k->a, NULL);
}

/* legs: 3 (Kerberos), 5 (NTLM in SPNEGO) or 4 (bare NTLM); the statuses in turn. */
static int khandshake(struct kio *k, const char *target, int legs)
{
	static const SECURITY_STATUS want[4][5] = {
		[3] = {SEC_I_CONTINUE_NEEDED, SEC_E_OK, SEC_E_OK},
		[0] = {SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED, SEC_E_OK,
		       SEC_E_OK},
		[2] = {SEC_I_CONTINUE_NEEDED, SEC_I_CONTINUE_NEEDED, SEC_E_OK, SEC_E_OK},
	};
	const SECURITY_STATUS *w = want[legs % 4 == 1 ? 0 : legs % 4 == 0 ? 2 : 3];
	k->ob.cbBuffer = 0;
	for (int i = 0; i < legs; i++)
		STEP(kleg(k, i % 2, i < 2, target), w[i]);
	return 0;
}

static int krb5_messages(struct kio *k)
{
	unsigned char msg[16] = "attack at dawn", sig[64];
	SecBuffer mb[2] = {{sizeof msg, SECBUFFER_DATA, msg}, {sizeof sig, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	unsigned long qop;
	STEP(MakeSignature(&k->c, 0, &md, 0), SEC_E_OK);
	STEP(VerifySignature(&k->s, &md, 0, &qop), SEC_E_OK);
	mb[1].cbBuffer = sizeof sig;
	STEP(EncryptMessage(&k->s, 0, &md, 0), SEC_E_OK);
	STEP(DecryptMessage(&k->c, &md, 0, &qop), SEC_E_OK);
	return 0;
}

static int krb5_queries(struct kio *k)
{
	SecPkgContext_NamesA names;
	STEP(QueryContextAttributesA(&k->s, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
	STEP(FreeContextBuffer(names.sUserName), SEC_E_OK);
	SecPkgContext_NativeNamesA nn;
	STEP(QueryContextAttributesA(&k->s, SECPKG_ATTR_NATIVE_NAMES, &nn), SEC_E_OK);
	STEP(FreeContextBuffer(nn.sClientName), SEC_E_OK);
	STEP(FreeContextBuffer(nn.sServerName), SEC_E_OK);
	SecPkgContext_SessionKey key;
	STEP(QueryContextAttributesA(&k->c, SECPKG_ATTR_SESSION_KEY, &key), SEC_E_OK);
	STEP(FreeContextBuffer(key.SessionKey), SEC_E_OK);
	SecPkgContext_NegotiationInfoA ni;
	if (QueryContextAttributesA(&k->c, SECPKG_ATTR_NEGOTIATION_INFO, &ni) == SEC_E_OK)
		STEP(FreeContextBuffer(ni.PackageInfo), SEC_E_OK);
	SecPkgCredentials_NamesA cn;
	STEP(QueryCredentialsAttributesA(&k->cc, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
	STEP(FreeContextBuffer(cn.sUserName), SEC_E_OK);
	return 0;
}

static int krb5_pkg_calls(const char *pkg_name, const char *client_pkg, const char *target,
			  int legs, int all)
{
	static struct kio k;
	unsigned char user[] = "alice", dom[] = "SSPIASYNC.TEST", pw[] = "alice-pw";
	SEC_WINNT_AUTH_IDENTITY_A ident = {user, 5, dom, 14, pw, 8, SEC_WINNT_AUTH_IDENTITY_ANSI};
	memset(&k, 0, sizeof k);
	STEP(AcquireCredentialsHandleA(NULL, (SEC_CHAR *)client_pkg, SECPKG_CRED_OUTBOUND, NULL,
				       &ident, NULL, NULL, &k.cc, NULL), SEC_E_OK);
	STEP(AcquireCredentialsHandleA(NULL, (SEC_CHAR *)pkg_name, SECPKG_CRED_INBOUND, NULL, NULL,
				       NULL, NULL, &k.sc, NULL), SEC_E_OK);
	int r = khandshake(&k, target, legs);
	if (r == 0 && all)
		r = krb5_queries(&k);
	if (r == 0)
		r = krb5_messages(&k);
	if (r != 0)
		return r;
	NOALLOC(DeleteSecurityContext(&k.c), SEC_E_OK);
	NOALLOC(DeleteSecurityContext(&k.s), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&k.cc), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&k.sc), SEC_E_OK);
	return 0;
}

/* A credential from the ccache main() filled with kinit: its name comes from GSS. */
static int krb5_ccache_calls(void)
{
	CredHandle h;
	SecPkgCredentials_NamesA cn;
	static char kerberos[] = "Kerberos";
	STEP(AcquireCredentialsHandleA(NULL, kerberos, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
				       &h, NULL), SEC_E_OK);
	STEP(QueryCredentialsAttributesA(&h, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
	STEP(FreeContextBuffer(cn.sUserName), SEC_E_OK);
	NOALLOC(FreeCredentialsHandle(&h), SEC_E_OK);
	return 0;
}

static int krb5_calls(void)
{
	int r = krb5_ccache_calls();
	if (r == 0)
		r = krb5_pkg_calls("Kerberos", "Kerberos", "HTTP/host.test", 3, 1);
	if (r == 0)
		r = krb5_pkg_calls("Negotiate", "Negotiate", "HTTP/host.test", 3, 1);
	if (r == 0) /* no such service: NTLM inside SPNEGO */
		r = krb5_pkg_calls("Negotiate", "Negotiate", "HTTP/absent.host.test", 5, 0);
	if (r == 0) /* a bare NTLM client to a Negotiate server */
		r = krb5_pkg_calls("Negotiate", "NTLM", "HTTP/host.test", 4, 0);
	return r;
}
#endif

static unsigned scenario_threads;

static int scenario_init(void)
{
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = scenario_threads;
	STEP(sspiasync_init(&cfg), SEC_E_OK);
	return 0;
}

static int scenario_sync(void)
{
	int r = scenario_init();
	return r != 0 ? r : sync_calls();
}

static int scenario_async(void)
{
	int r = scenario_init();
	return r != 0 ? r : async_calls();
}

static int scenario_wide(void)
{
	int r = scenario_init();
	return r != 0 ? r : wide_calls();
}

static int scenario_ntlm(void)
{
	int r = scenario_init();
	return r != 0 ? r : ntlm_calls();
}

#if defined(SA_HAVE_KRB5)
static int scenario_krb5(void)
{
	int r = scenario_init();
	return r != 0 ? r : krb5_calls();
}
#endif

/* With the injector off, in whatever runtime is there (or a new one). */
static void healthy(void)
{
	const char *saved = scenario;
	scenario = "full handshake after the fault";
	unsigned long k = run_k;
	run_k = 0;
	int r = sync_calls();
	if (r == 0)
		r = async_calls();
	if (r != 0) {
		fprintf(stderr, "oomcheck: %s: the library did not recover after the fault at k=%lu\n",
			saved, k);
		problems++;
	}
	scenario = saved;
	run_k = k;
}

/* Run @fn for k = 1, 2, ... until the injector no longer fires. */
static void oom_loop(const char *name, int (*fn)(void), unsigned threads)
{
	scenario = name;
	scenario_threads = threads;
	unsigned long k;
	for (k = 1; k < 100000; k++) {
		run_k = k;
		uint64_t fired = injected_total();
		sa__alloc_fail_at(k);
		int r = fn();
		sa__alloc_fail_at(0);
		int hit = injected_total() != fired;
		if (r == 1 && !hit) {
			fprintf(stderr, "oomcheck: %s k=%lu: ran out of memory with no fault\n", name, k);
			problems++;
		}
		if (r != 2)
			healthy();
		uint64_t before = alloc_calls();
		if (sspiasync_shutdown() != SEC_E_OK) {
			fprintf(stderr, "oomcheck: %s k=%lu: shutdown failed\n", name, k);
			problems++;
		}
		if (alloc_calls() != before) {
			fprintf(stderr, "oomcheck: %s k=%lu: shutdown allocated\n", name, k);
			problems++;
		}
		struct sa_alloc_stats st;
		sa__alloc_stats(&st);
		if (st.live_blocks != 0) {
			fprintf(stderr, "oomcheck: %s k=%lu: %llu blocks left after shutdown\n", name, k,
				(unsigned long long)st.live_blocks);
			problems++;
		}
		if (!hit || problems > 20)
			break;
	}
	printf("oomcheck: %-22s %5lu runs\n", name, k);
}

int main(void)
{
	setenv("SSPIASYNC_THREADS", "0", 1); /* an implicit init is deterministic too */
	char users[] = "/tmp/sa_oom_usersXXXXXX";
	int fd = mkstemp(users);
	static const char text[] = "# oomcheck\nLAB:alice:secret\nLAB:bob:other\n"
				   "SSPIASYNC.TEST:alice:alice-pw\n";
	if (fd < 0 || write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1)) {
		perror("oomcheck: user file");
		return 1;
	}
	/* Longer than the reader's first buffer, so it grows. */
	for (int i = 0; i < 100; i++)
		if (write(fd, "# padding padding padding padding padding padding padding padding\n", 67) != 67)
			return 1;
	close(fd);
	setenv("NTLM_USER_FILE", users, 1);
	oom_loop("sync, no-thread", scenario_sync, 0);
	oom_loop("async, no-thread", scenario_async, 0);
	oom_loop("sync, pool of 2", scenario_sync, 2);
	oom_loop("async, pool of 2", scenario_async, 2);
	oom_loop("async, pool of 1", scenario_async, 1);
	oom_loop("ntlm, no-thread", scenario_ntlm, 0);
	oom_loop("W forms, no-thread", scenario_wide, 0);
	/* Kerberos and Negotiate need a realm; without one (or without the
	 * package) their sites are not counted below. */
	static struct tl_realm realm;
	int krb5 = 0;
#if defined(SA_HAVE_KRB5)
	if (tl_realm_available()) {
		if (tl_realm_start(&realm) != 0 ||
		    tl_realm_kinit(&realm, TL_REALM_ALICE, TL_REALM_ALICE_PW, NULL) != 0)
			return 1;
		krb5 = 1;
		oom_loop("kerberos+negotiate", scenario_krb5, 0);
	}
#endif
	if (!krb5)
		printf("oomcheck: no realm: Kerberos and Negotiate sites not counted\n");

	struct sa_alloc_site *b, *e;
	sa__alloc_sites(&b, &e);
	unsigned n = 0, failed = 0;
	for (struct sa_alloc_site *s = b; s < e; s++) {
		if (strncmp(s->file, "src/", 4) != 0)
			continue; /* the library's sites only */
		if (!krb5 && (strncmp(s->file, "src/packages/krb5/", 18) == 0 ||
			      strncmp(s->file, "src/packages/negotiate/", 23) == 0))
			continue;
		n++;
		if (atomic_load(&s->injected) != 0)
			failed++;
		else
			printf("oomcheck: never failed: %s:%u (%llu calls)\n", s->file, s->line,
			       (unsigned long long)atomic_load(&s->calls));
	}
	printf("allocation sites failed: %u of %u\n", failed, n);
	if (failed != n || n == 0)
		problems++;
	if (problems != 0)
		printf("oomcheck: %d problem(s)\n", problems);
	unlink(users);
	tl_realm_stop(&realm);
	return problems != 0;
}
