/*
 * test/check_sspi_sync.c - the synchronous SSPI facade (src/sspi/) driven
 * through the built-in package "SspiAsyncTest": handshakes of 2..8 legs and
 * message round trips (direct calls and InitSecurityInterfaceA's table),
 * every function against stale, zeroed, invalidated, forged, bit-flipped and
 * wrong-kind handles (with the "NTLM", "Kerberos" and "Negotiate" packages
 * too: TCases "stale_ntlm", "stale_krb5", "stale_nego", the last two
 * against a throw-away realm, test/krb5_realm.h),
 * lifecycle (double delete, leg after completion, free while contexts live,
 * injected failures, tampered tokens), allocation
 * failure at every allocation of every leg, output rooms bounded by
 * cbMaxToken whatever cbBuffer claims (sync and async), and shutdown/re-init.
 * Expected statuses come from the contracts in include/sspiasync/sspi.h; the
 * ones sspi.h leaves open are in the table "Choices" below.  Every test ends
 * with sspiasync_shutdown() and 0 live blocks.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "krb5_realm.h"
#include "sspi_testlib.h"
#include "testlib.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* RLIMIT_AS is unusable under ASan and TSan (their shadow memory is
 * terabytes of address space) and under Valgrind (checked at run time). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RLIMIT_AS_USABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define RLIMIT_AS_USABLE 0
#endif
#endif
#ifndef RLIMIT_AS_USABLE
#define RLIMIT_AS_USABLE 1
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef ON_VALGRIND
#define ON_VALGRIND() 0
#endif

/* --- Choices: statuses sspi.h does not spell out ----------------------------
 * One place to adjust.  Rule used: a NULL or bad handle (pointer) is
 * SEC_E_INVALID_HANDLE; any other structural argument error is
 * SEC_E_INVALID_PARAMETER (as the Sspi*Async common contract lists); what
 * package.h assigns to the package (finding message buffers, room for a
 * token) is the package's status. */
#define EXP_NULL_HANDLE_PTR SEC_E_INVALID_HANDLE        /* Delete/FreeCreds/QCA/msg calls with NULL handle pointer */
#define EXP_FIRST_LEG_NULL_CRED SEC_E_INVALID_HANDLE    /* ISC/ASC first leg, phCredential NULL */
#define EXP_NULL_REQUIRED_PTR SEC_E_INVALID_PARAMETER   /* pfContextAttr, pBuffer, pMessage, phCredential (ACH out), pszPackage... */
#define EXP_FIRST_LEG_NULL_NEWCTX SEC_E_INVALID_PARAMETER /* first leg with phNewContext NULL */
#define EXP_BAD_DESC_VERSION SEC_E_INVALID_PARAMETER    /* any SecBufferDesc with ulVersion != SECBUFFER_VERSION */
#define EXP_NULL_PBUFFERS SEC_E_INVALID_PARAMETER       /* cBuffers > 0, pBuffers NULL */
#define EXP_NONZERO_RESERVED SEC_E_INVALID_PARAMETER    /* ISC Reserved1 / Reserved2 != 0 */
#define EXP_ACH_BAD_USE SEC_E_INVALID_PARAMETER         /* fCredentialUse not INBOUND/OUTBOUND/BOTH */
#define EXP_ACH_BAD_FLAGS SEC_E_INVALID_PARAMETER /* identity Flags with both _ANSI and _UNICODE */
#define EXP_PKG_NAME_OTHER_CASE SEC_E_OK               /* sspi.h: package names compare case-insensitively */
#define EXP_MSG_NO_TOKEN_BUF SEC_E_INVALID_TOKEN        /* package.h: missing message token buffer */
#define EXP_MSG_SHORT_TOKEN_BUF SEC_E_BUFFER_TOO_SMALL  /* package.h: no room for the signature (sign, encrypt) */
#define EXP_MSG_SHORT_SIGNATURE SEC_E_INVALID_TOKEN     /* a short signature to check (verify, decrypt) */
#define EXP_LEG_OUT_TOO_SMALL SEC_E_BUFFER_TOO_SMALL    /* ISC/ASC output token buffer too small (sspi.h) */
#define EXP_COMPLETE_AUTH_TOKEN SEC_E_UNSUPPORTED_FUNCTION /* valid context, test package */
#define EXP_QCRED_UNKNOWN_ATTR SEC_E_UNSUPPORTED_FUNCTION
#define EXP_MSG_ON_PARTIAL SEC_E_OUT_OF_SEQUENCE        /* message call on a PARTIAL or REJECTED context */
/* Synchronous calls rejected for a bad handle are counted in
 * sspiasync_stats().rejected_stale (1), or only async calls are (0). */
#define EXP_SYNC_REJECTS_COUNTED 1

/* --- common -------------------------------------------------------------- */



/* The functions called directly, laid out as the dispatch table, so every
 * helper runs through a table: this one or InitSecurityInterfaceA()'s. */
static const SecurityFunctionTableA direct_api = {
	.dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION,
	.EnumerateSecurityPackagesA = EnumerateSecurityPackagesA,
	.QueryCredentialsAttributesA = QueryCredentialsAttributesA,
	.AcquireCredentialsHandleA = AcquireCredentialsHandleA,
	.FreeCredentialHandle = FreeCredentialsHandle,
	.InitializeSecurityContextA = InitializeSecurityContextA,
	.AcceptSecurityContext = AcceptSecurityContext,
	.CompleteAuthToken = CompleteAuthToken,
	.DeleteSecurityContext = DeleteSecurityContext,
	.QueryContextAttributesA = QueryContextAttributesA,
	.MakeSignature = MakeSignature,
	.VerifySignature = VerifySignature,
	.FreeContextBuffer = FreeContextBuffer,
	.QuerySecurityPackageInfoA = QuerySecurityPackageInfoA,
	.EncryptMessage = EncryptMessage,
	.DecryptMessage = DecryptMessage,
};

/* _i == 0: direct calls; _i == 1: InitSecurityInterfaceA()'s table. */
static const SecurityFunctionTableA *api(int i)
{
	if (i == 0)
		return &direct_api;
	PSecurityFunctionTableA t = InitSecurityInterfaceA();
	ck_assert_ptr_nonnull(t);
	return t;
}







/* Every test's last step. */
static void finish(void)
{
	sa__alloc_fail_at(0);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
}

/* A credential of package @pkg; outputs untouched on failure. */
static SECURITY_STATUS acquire_pkg_id(const SecurityFunctionTableA *f, char *pkg,
				      unsigned long use, SEC_WINNT_AUTH_IDENTITY_A *id,
				      CredHandle *out)
{
	TimeStamp ts;
	ts.QuadPart = PAT_TIME;
	handle_pat(out);
	SECURITY_STATUS st =
		f->AcquireCredentialsHandleA(NULL, pkg, use, NULL, id, NULL, NULL, out, &ts);
	if (st == SEC_E_OK) {
		ck_assert(!handle_is_pat(out));
		ck_assert(SecIsValidHandle(out));
		ck_assert(out->dwLower != 0 && out->dwUpper != 0);
		ck_assert_int_ne(ts.QuadPart, PAT_TIME);
	} else {
		ck_assert(handle_is_pat(out));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
	}
	return st;
}

static SECURITY_STATUS acquire_id(const SecurityFunctionTableA *f, unsigned long use,
				  SEC_WINNT_AUTH_IDENTITY_A *id, CredHandle *out)
{
	return acquire_pkg_id(f, pkg_name, use, id, out);
}

static CredHandle acquire_pkg(const SecurityFunctionTableA *f, char *pkg, unsigned long use)
{
	CredHandle c;
	ck_assert_int_eq(acquire_pkg_id(f, pkg, use, NULL, &c), SEC_E_OK);
	return c;
}

static CredHandle acquire(const SecurityFunctionTableA *f, unsigned long use)
{
	return acquire_pkg(f, pkg_name, use);
}

static void identity(SEC_WINNT_AUTH_IDENTITY_A *id, const char *user, const char *domain,
		     const char *password)
{
	*id = tl_identity(user, domain, password);
}

/* --- the handshake driver ------------------------------------------------ */

/* Where the driver stores tokens: room for the largest any package here
 * sends (a Negotiate NegTokenInit around a Kerberos AP-REQ, ~800 bytes).
 * What a leg may write is h->room: MAX_TOKEN, the test package's and
 * NTLM's bound, unless a bad-handle package case raises it. */
#define HS_TOKEN_ROOM 2048

/* One handshake: leg 1 = first ISC, leg 2 = first ASC, leg 3 = second ISC... */
struct hs {
	const SecurityFunctionTableA *f;
	CredHandle cc, sc;      /* client (OUTBOUND) and server (INBOUND) credentials */
	int own_creds;          /* hs_free() frees them */
	char target[160];
	int alloc;              /* ISC/ASC_REQ_ALLOCATE_MEMORY */
	unsigned long req_c, req_s; /* more fContextReq: ISC_REQ_*, ASC_REQ_* (0) */
	unsigned long room;     /* output room of a leg, and the bound on its token (MAX_TOKEN) */
	CtxtHandle c, s;
	int have_c, have_s, done_c, done_s;
	int leg;                /* legs run successfully so far */
	unsigned char tok[HS_TOKEN_ROOM]; /* the token to pass to the next leg */
	unsigned long tok_len;
};

static void hs_setup(struct hs *h, const SecurityFunctionTableA *f, const char *target, int alloc)
{
	memset(h, 0, sizeof *h);
	h->f = f;
	h->alloc = alloc;
	h->room = MAX_TOKEN;
	snprintf(h->target, sizeof h->target, "%s", target);
	handle_pat(&h->c);
	handle_pat(&h->s);
}

/* hs_setup() plus a client and a server credential of the test package. */
static void hs_init(struct hs *h, const SecurityFunctionTableA *f, const char *target, int alloc)
{
	hs_setup(h, f, target, alloc);
	h->cc = acquire(f, SECPKG_CRED_OUTBOUND);
	h->sc = acquire(f, SECPKG_CRED_INBOUND);
	h->own_creds = 1;
}

/* Status a leg of an @n-leg handshake returns. */
static SECURITY_STATUS leg_expected(int n, int leg)
{
	return leg < n - 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK;
}

/*
 * Run the next leg with @out_cap bytes of output room.  On success it
 * records the context and the token; on any failure it asserts that every
 * output is untouched and changes nothing in @h.
 */
static SECURITY_STATUS hs_step_cap(struct hs *h, unsigned long out_cap)
{
	int client = h->leg % 2 == 0;
	CtxtHandle *ctx = client ? &h->c : &h->s;
	int have = client ? h->have_c : h->have_s;
	CtxtHandle newh, saved = *ctx;
	unsigned char outb[HS_TOKEN_ROOM];
	unsigned long req = h->alloc ? (client ? ISC_REQ_ALLOCATE_MEMORY : ASC_REQ_ALLOCATE_MEMORY) : 0;
	req |= client ? h->req_c : h->req_s;
	unsigned long attrs = PAT_ATTR;
	TimeStamp ts;
	SECURITY_STATUS st;

	ck_assert_uint_le(out_cap, sizeof outb);
	ck_assert_uint_le(h->room, sizeof h->tok);
	handle_pat(&newh);
	memset(outb, PAT, sizeof outb);
	ts.QuadPart = PAT_TIME;
	SecBuffer ob = {h->alloc ? 0 : out_cap, SECBUFFER_TOKEN, h->alloc ? NULL : outb};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	SecBuffer ib = {h->tok_len, SECBUFFER_TOKEN, h->tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	unsigned char tok_before[HS_TOKEN_ROOM];
	unsigned long tok_len_before = h->tok_len;
	memcpy(tok_before, h->tok, sizeof tok_before);

	if (client)
		st = h->f->InitializeSecurityContextA(&h->cc, have ? ctx : NULL, h->target, req, 0,
						      SECURITY_NATIVE_DREP, h->leg == 0 ? NULL : &id,
						      0, have ? ctx : &newh, &od, &attrs, &ts);
	else
		st = h->f->AcceptSecurityContext(&h->sc, have ? ctx : NULL, &id, req,
						 SECURITY_NATIVE_DREP, have ? ctx : &newh, &od,
						 &attrs, &ts);

	/* Inputs are never written. */
	ck_assert_uint_eq(ib.cbBuffer, tok_len_before);
	ck_assert_uint_eq(ib.BufferType, SECBUFFER_TOKEN);
	ck_assert(memcmp(tok_before, h->tok, sizeof tok_before) == 0);

	if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) {
		if (!have) {
			ck_assert(!handle_is_pat(&newh));
			ck_assert(SecIsValidHandle(&newh));
			ck_assert(newh.dwLower != 0 && newh.dwUpper != 0);
			*ctx = newh;
			if (client)
				h->have_c = 1;
			else
				h->have_s = 1;
		} else {
			ck_assert(handle_eq(ctx, &saved));
		}
		ck_assert_uint_ne(attrs, PAT_ATTR);
		ck_assert_int_ne(ts.QuadPart, PAT_TIME);
		ck_assert_uint_le(ob.cbBuffer, h->room);
		if (h->alloc) {
			if (ob.cbBuffer > 0) {
				ck_assert_ptr_nonnull(ob.pvBuffer);
				memcpy(h->tok, ob.pvBuffer, ob.cbBuffer);
			}
			ck_assert_int_eq(h->f->FreeContextBuffer(ob.pvBuffer), SEC_E_OK);
		} else {
			ck_assert_uint_le(ob.cbBuffer, out_cap);
			ck_assert_ptr_eq(ob.pvBuffer, outb);
			memcpy(h->tok, outb, ob.cbBuffer);
		}
		h->tok_len = ob.cbBuffer;
		if (st == SEC_E_OK) {
			if (client)
				h->done_c = 1;
			else
				h->done_s = 1;
		}
		h->leg++;
	} else {
		ck_assert_msg(FAILED(st), "leg %d: unexpected success status 0x%08x", h->leg + 1,
			      (unsigned)st);
		ck_assert(handle_is_pat(&newh));
		ck_assert(handle_eq(ctx, &saved));
		ck_assert_uint_eq(attrs, PAT_ATTR);
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		if (h->alloc) {
			ck_assert_uint_eq(ob.cbBuffer, 0);
			ck_assert_ptr_null(ob.pvBuffer);
		} else {
			ck_assert_uint_eq(ob.cbBuffer, out_cap);
			ck_assert_ptr_eq(ob.pvBuffer, outb);
		}
		ck_assert(bytes_are(outb, sizeof outb, PAT));
	}
	return st;
}

static SECURITY_STATUS hs_step(struct hs *h)
{
	return hs_step_cap(h, h->room);
}

/* Run legs until @n have run, asserting each status and token. */
static void hs_run_to(struct hs *h, int total, int n)
{
	while (h->leg < n) {
		int leg = h->leg + 1;
		SECURITY_STATUS st = hs_step(h);
		ck_assert_msg(st == leg_expected(total, leg),
			      "leg %d of %d: status 0x%08x, expected 0x%08x", leg, total,
			      (unsigned)st, (unsigned)leg_expected(total, leg));
		if (leg < total)
			ck_assert_uint_gt(h->tok_len, 0);
		else
			ck_assert_uint_eq(h->tok_len, 0);
	}
}

static void hs_run(struct hs *h, int total)
{
	hs_run_to(h, total, total);
	ck_assert(h->done_c && h->done_s);
}

static void hs_free(struct hs *h)
{
	if (h->have_c)
		ck_assert_int_eq(h->f->DeleteSecurityContext(&h->c), SEC_E_OK);
	if (h->have_s)
		ck_assert_int_eq(h->f->DeleteSecurityContext(&h->s), SEC_E_OK);
	h->have_c = h->have_s = 0;
	if (h->own_creds) {
		ck_assert_int_eq(h->f->FreeCredentialHandle(&h->cc), SEC_E_OK);
		ck_assert_int_eq(h->f->FreeCredentialHandle(&h->sc), SEC_E_OK);
		h->own_creds = 0;
	}
}

/* --- messages ------------------------------------------------------------ */

/* The token room of a message call on @a: SIG_LEN, or more when @a's SIZES
 * say its signatures or trailers are longer (Kerberos: 28 and 60). */
#define MSG_TOKEN_ROOM 128
static unsigned long msg_token_room(const SecurityFunctionTableA *f, CtxtHandle *a,
				    SecPkgContext_Sizes *sz)
{
	memset(sz, PAT, sizeof *sz);
	ck_assert_int_eq(f->QueryContextAttributesA(a, SECPKG_ATTR_SIZES, sz), SEC_E_OK);
	ck_assert_uint_gt(sz->cbMaxSignature, 0);
	unsigned long room = SIG_LEN;
	if (sz->cbMaxSignature > room)
		room = sz->cbMaxSignature;
	if (sz->cbSecurityTrailer > room)
		room = sz->cbSecurityTrailer;
	ck_assert_uint_le(room, MSG_TOKEN_ROOM);
	return room;
}

/* Sign on @a, verify on @b; seal on @a, unseal on @b; altered -> MESSAGE_ALTERED. */
static void msg_roundtrip(const SecurityFunctionTableA *f, CtxtHandle *a, CtxtHandle *b,
			  unsigned long seq)
{
	unsigned char data[37], plain[37], sig[MSG_TOKEN_ROOM];
	unsigned long qop;
	SecPkgContext_Sizes sz;
	unsigned long room = msg_token_room(f, a, &sz);
	for (size_t i = 0; i < sizeof data; i++)
		plain[i] = (unsigned char)(i * 7u + seq * 13u + 1u);
	memcpy(data, plain, sizeof data);
	memset(sig, 0, sizeof sig);
	SecBuffer mb[2] = {{sizeof data, SECBUFFER_DATA, data}, {room, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};

	ck_assert_int_eq(f->MakeSignature(a, 0, &md, seq), SEC_E_OK);
	ck_assert(memcmp(data, plain, sizeof data) == 0);
	ck_assert_uint_le(mb[1].cbBuffer, sz.cbMaxSignature);
	ck_assert_uint_gt(mb[1].cbBuffer, 0);
	data[5] ^= 0x20;
	qop = PAT_ATTR;
	ck_assert_int_eq(f->VerifySignature(b, &md, seq, &qop), SEC_E_MESSAGE_ALTERED);
	ck_assert_uint_eq(qop, PAT_ATTR);
	data[5] ^= 0x20;
	ck_assert_int_eq(f->VerifySignature(b, &md, seq, &qop), SEC_E_OK);
	ck_assert_uint_ne(qop, PAT_ATTR);

	mb[1].cbBuffer = room;
	memset(sig, 0, sizeof sig);
	ck_assert_int_eq(f->EncryptMessage(a, 0, &md, seq + 1), SEC_E_OK);
	ck_assert(memcmp(data, plain, sizeof data) != 0);
	ck_assert_uint_eq(mb[0].cbBuffer, sizeof data);
	ck_assert_uint_gt(mb[1].cbBuffer, 0);
	ck_assert_uint_le(mb[1].cbBuffer, sz.cbSecurityTrailer);
	unsigned char sealed[37];
	unsigned long sig_len = mb[1].cbBuffer;
	memcpy(sealed, data, sizeof data);
	data[0] ^= 1;
	qop = PAT_ATTR;
	SECURITY_STATUS st = f->DecryptMessage(b, &md, seq + 1, &qop);
	ck_assert_msg(st == SEC_E_MESSAGE_ALTERED, "DecryptMessage of an altered message: 0x%08x",
		      (unsigned)st);
	ck_assert_uint_eq(qop, PAT_ATTR);
	data[0] ^= 1;
	ck_assert(memcmp(data, sealed, sizeof data) == 0); /* failure leaves the buffer alone */
	ck_assert_uint_eq(mb[1].cbBuffer, sig_len);
	ck_assert_int_eq(f->DecryptMessage(b, &md, seq + 1, &qop), SEC_E_OK);
	ck_assert(memcmp(data, plain, sizeof data) == 0);
	ck_assert_uint_eq(qop, 0);
}

static void msg_both_ways(const SecurityFunctionTableA *f, struct hs *h, unsigned long seq)
{
	msg_roundtrip(f, &h->c, &h->s, seq);
	msg_roundtrip(f, &h->s, &h->c, seq + 100);
}

/* A complete 2-leg pair plus its credentials. */
static void hs_complete(struct hs *h, const SecurityFunctionTableA *f)
{
	hs_init(h, f, "host/neighbour", 0);
	hs_run(h, 2);
}

/* --- bad-handle probes ---------------------------------------------------- */

/* Every function taking a CtxtHandle, with @bad: SEC_E_INVALID_HANDLE and
 * every output untouched.  @cred is any credential (used where a call needs
 * one besides the context).  Returns the number of calls made. */
static unsigned probe_bad_ctx(const SecurityFunctionTableA *f, CtxtHandle bad, CredHandle *cred)
{
	unsigned calls = 0;
	CtxtHandle copy = bad, newh;
	unsigned char in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, outb[64];
	unsigned long attrs;
	TimeStamp ts;
	char target[] = "host/x";
	SecBuffer ib = {sizeof in, SECBUFFER_TOKEN, in};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	SecBuffer ob;
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};

#define RESET_OUT()                                                                               \
	do {                                                                                      \
		handle_pat(&newh);                                                                \
		memset(outb, PAT, sizeof outb);                                                   \
		ob.cbBuffer = sizeof outb;                                                        \
		ob.BufferType = SECBUFFER_TOKEN;                                                  \
		ob.pvBuffer = outb;                                                               \
		attrs = PAT_ATTR;                                                                 \
		ts.QuadPart = PAT_TIME;                                                           \
	} while (0)
#define CHECK_OUT()                                                                               \
	do {                                                                                      \
		ck_assert(handle_is_pat(&newh));                                                  \
		ck_assert(bytes_are(outb, sizeof outb, PAT));                                     \
		ck_assert_uint_eq(ob.cbBuffer, sizeof outb);                                      \
		ck_assert_ptr_eq(ob.pvBuffer, outb);                                              \
		ck_assert_uint_eq(attrs, PAT_ATTR);                                               \
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);                                          \
		ck_assert(handle_eq(&copy, &bad));                                                \
	} while (0)

	/* Later legs: phNewContext a separate handle, then the same one. */
	RESET_OUT();
	ck_assert_int_eq(f->InitializeSecurityContextA(cred, &copy, target, 0, 0, SECURITY_NATIVE_DREP,
						       &id, 0, &newh, &od, &attrs, &ts),
			 SEC_E_INVALID_HANDLE);
	CHECK_OUT();
	RESET_OUT();
	ck_assert_int_eq(f->InitializeSecurityContextA(cred, &copy, target, 0, 0, SECURITY_NATIVE_DREP,
						       &id, 0, &copy, &od, &attrs, &ts),
			 SEC_E_INVALID_HANDLE);
	CHECK_OUT();
	RESET_OUT();
	ck_assert_int_eq(f->AcceptSecurityContext(cred, &copy, &id, 0, SECURITY_NATIVE_DREP, &newh,
						  &od, &attrs, &ts),
			 SEC_E_INVALID_HANDLE);
	CHECK_OUT();
	RESET_OUT();
	ck_assert_int_eq(f->AcceptSecurityContext(cred, &copy, &id, 0, SECURITY_NATIVE_DREP, &copy,
						  &od, &attrs, &ts),
			 SEC_E_INVALID_HANDLE);
	CHECK_OUT();
	calls += 4;

	RESET_OUT();
	ck_assert_int_eq(f->CompleteAuthToken(&copy, &od), SEC_E_INVALID_HANDLE);
	CHECK_OUT();
	calls++;
#undef RESET_OUT
#undef CHECK_OUT

	/* Queries: the buffer untouched, for supported and unsupported attributes. */
	static const unsigned long attrs_list[] = {SECPKG_ATTR_SIZES, SECPKG_ATTR_NAMES,
						   SECPKG_ATTR_LIFESPAN, SECPKG_ATTR_PACKAGE_INFO,
						   SECPKG_ATTR_STREAM_SIZES, 9999};
	for (size_t i = 0; i < sizeof attrs_list / sizeof attrs_list[0]; i++) {
		unsigned char qbuf[64];
		memset(qbuf, PAT, sizeof qbuf);
		ck_assert_int_eq(f->QueryContextAttributesA(&copy, attrs_list[i], qbuf),
				 SEC_E_INVALID_HANDLE);
		ck_assert(bytes_are(qbuf, sizeof qbuf, PAT));
		calls++;
	}

	/* Message calls: data, token and *pfQOP untouched. */
	unsigned char data[24], sig[SIG_LEN];
	unsigned long qop;
	SecBuffer mb[2];
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	for (int op = 0; op < 4; op++) {
		memset(data, PAT, sizeof data);
		memset(sig, PAT, sizeof sig);
		mb[0] = (SecBuffer){sizeof data, SECBUFFER_DATA, data};
		mb[1] = (SecBuffer){SIG_LEN, SECBUFFER_TOKEN, sig};
		qop = PAT_ATTR;
		SECURITY_STATUS st;
		switch (op) {
		case 0: st = f->MakeSignature(&copy, 0, &md, 0); break;
		case 1: st = f->VerifySignature(&copy, &md, 0, &qop); break;
		case 2: st = f->EncryptMessage(&copy, 0, &md, 0); break;
		default: st = f->DecryptMessage(&copy, &md, 0, &qop); break;
		}
		ck_assert_msg(st == SEC_E_INVALID_HANDLE, "message op %d: 0x%08x", op, (unsigned)st);
		ck_assert(bytes_are(data, sizeof data, PAT));
		ck_assert(bytes_are(sig, sizeof sig, PAT));
		ck_assert_uint_eq(mb[0].cbBuffer, sizeof data);
		ck_assert_uint_eq(mb[1].cbBuffer, SIG_LEN);
		ck_assert_uint_eq(qop, PAT_ATTR);
		calls++;
	}

	ck_assert_int_eq(f->DeleteSecurityContext(&copy), SEC_E_INVALID_HANDLE);
	ck_assert(handle_eq(&copy, &bad));
	calls++;
	return calls;
}

/* Every function taking a CredHandle, with @bad.  @tok is a valid first-leg
 * token for the ASC probe, so only the handle can be what fails. */
static unsigned probe_bad_cred(const SecurityFunctionTableA *f, CredHandle bad,
			       const unsigned char *tok, unsigned long tok_len)
{
	CredHandle copy = bad;
	CtxtHandle newh;
	unsigned char outb[MAX_TOKEN], in[HS_TOKEN_ROOM];
	unsigned long attrs = PAT_ATTR;
	TimeStamp ts;
	char target[] = "host/x";
	ck_assert_uint_le(tok_len, sizeof in);
	memcpy(in, tok, tok_len);
	SecBuffer ib = {tok_len, SECBUFFER_TOKEN, in};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	SecBuffer ob = {sizeof outb, SECBUFFER_TOKEN, outb};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};

	for (int side = 0; side < 2; side++) {
		handle_pat(&newh);
		memset(outb, PAT, sizeof outb);
		ob.cbBuffer = sizeof outb;
		attrs = PAT_ATTR;
		ts.QuadPart = PAT_TIME;
		SECURITY_STATUS st =
			side == 0 ? f->InitializeSecurityContextA(&copy, NULL, target, 0, 0,
								  SECURITY_NATIVE_DREP, NULL, 0,
								  &newh, &od, &attrs, &ts)
				  : f->AcceptSecurityContext(&copy, NULL, &id, 0,
							     SECURITY_NATIVE_DREP, &newh, &od,
							     &attrs, &ts);
		ck_assert_msg(st == SEC_E_INVALID_HANDLE, "%s first leg: 0x%08x",
			      side == 0 ? "ISC" : "ASC", (unsigned)st);
		ck_assert(handle_is_pat(&newh));
		ck_assert(bytes_are(outb, sizeof outb, PAT));
		ck_assert_uint_eq(ob.cbBuffer, sizeof outb);
		ck_assert_uint_eq(attrs, PAT_ATTR);
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		ck_assert(memcmp(in, tok, tok_len) == 0);
	}

	SecPkgCredentials_NamesA names;
	memset(&names, PAT, sizeof names);
	ck_assert_int_eq(f->QueryCredentialsAttributesA(&copy, SECPKG_CRED_ATTR_NAMES, &names),
			 SEC_E_INVALID_HANDLE);
	ck_assert(bytes_are((unsigned char *)&names, sizeof names, PAT));
	ck_assert_int_eq(f->FreeCredentialHandle(&copy), SEC_E_INVALID_HANDLE);
	ck_assert(handle_eq(&copy, &bad));
	return 4;
}

/* A first-leg token (at most @room bytes, fContextReq @req) from a fresh
 * client context for @target, whose first leg answers @expect (the test
 * package's "host/probe", legs=2: SEC_E_OK + token; NTLM: CONTINUE +
 * NEGOTIATE; Kerberos with mutual authentication: CONTINUE + AP-REQ). */
static void first_token_to(const SecurityFunctionTableA *f, CredHandle *cc, const char *target,
			   unsigned long req, unsigned long room, SECURITY_STATUS expect,
			   CtxtHandle *c, unsigned char *tok, unsigned long *tok_len)
{
	unsigned long attrs;
	TimeStamp ts;
	char t[64];
	snprintf(t, sizeof t, "%s", target);
	SecBuffer ob = {room, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	ck_assert_int_eq(f->InitializeSecurityContextA(cc, NULL, t, req, 0, SECURITY_NATIVE_DREP,
						       NULL, 0, c, &od, &attrs, &ts),
			 expect);
	ck_assert_uint_gt(ob.cbBuffer, 0);
	ck_assert_uint_le(ob.cbBuffer, room);
	*tok_len = ob.cbBuffer;
}

/* A first-leg token from a fresh client context (legs=2: SEC_E_OK + token). */
static void first_token(const SecurityFunctionTableA *f, CredHandle *cc, CtxtHandle *c,
			unsigned char *tok, unsigned long *tok_len)
{
	first_token_to(f, cc, "host/probe", 0, MAX_TOKEN, SEC_E_OK, c, tok, tok_len);
}

/* --- handshakes ------------------------------------------------------------ */

START_TEST(test_sspi_handshake_2_and_3_legs_with_messages)
{
	const SecurityFunctionTableA *f = api(_i);
	for (int legs = 2; legs <= 3; legs++) {
		for (int alloc = 0; alloc < 2; alloc++) {
			struct hs h;
			char target[64];
			snprintf(target, sizeof target, "host/test;legs=%d", legs);
			hs_init(&h, f, target, alloc);
			hs_run(&h, legs);
			ck_assert(!handle_eq(&h.c, &h.s));
			msg_both_ways(f, &h, 1);
			msg_both_ways(f, &h, 7);
			hs_free(&h);
		}
	}
	finish();
}
END_TEST

START_TEST(test_sspi_handshake_every_leg_count)
{
	int legs = 2 + _i; /* 2..8 */
	char target[64];
	struct hs h;
	snprintf(target, sizeof target, "host/test;legs=%d", legs);
	hs_init(&h, &direct_api, target, 0);
	hs_run(&h, legs);
	msg_both_ways(&direct_api, &h, 3);
	hs_free(&h);
	finish();
}
END_TEST

START_TEST(test_sspi_handshake_with_latency_and_options_order)
{
	struct hs h;
	hs_init(&h, &direct_api, "host/test;latency_us=1000;legs=3", 0);
	hs_run(&h, 3);
	msg_both_ways(&direct_api, &h, 1);
	hs_free(&h);
	finish();
}
END_TEST

START_TEST(test_sspi_noop_mode_continues_forever)
{
	struct hs h;
	hs_init(&h, &direct_api, "host/test;noop", 0);
	for (int leg = 1; leg <= 12; leg++)
		ck_assert_int_eq(hs_step(&h), SEC_I_CONTINUE_NEEDED);
	ck_assert(!h.done_c && !h.done_s);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.contexts, 2);
	hs_free(&h);
	finish();
}
END_TEST

START_TEST(test_sspi_table_shape)
{
	PSecurityFunctionTableA t = InitSecurityInterfaceA();
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_eq(t, InitSecurityInterfaceA());
	ck_assert_ptr_null(t->Reserved2);
	ck_assert_ptr_null(t->Reserved8);
	/* Reserved3/4: the old Seal/Unseal slots hold Encrypt/DecryptMessage, as on Windows. */
	ENCRYPT_MESSAGE_FN seal;
	DECRYPT_MESSAGE_FN unseal;
	memcpy(&seal, &t->Reserved3, sizeof seal);
	memcpy(&unseal, &t->Reserved4, sizeof unseal);
	ck_assert(seal == EncryptMessage && unseal == DecryptMessage);
	ck_assert_uint_eq(t->dwVersion, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4);
	ck_assert(t->FreeCredentialsHandle == FreeCredentialsHandle); /* Windows' macro spelling */
	ck_assert(t->EnumerateSecurityPackagesA != NULL && t->QueryCredentialsAttributesA != NULL);
	ck_assert(t->AcquireCredentialsHandleA != NULL && t->FreeCredentialHandle != NULL);
	ck_assert(t->InitializeSecurityContextA != NULL && t->AcceptSecurityContext != NULL);
	ck_assert(t->CompleteAuthToken != NULL && t->DeleteSecurityContext != NULL);
	ck_assert(t->QueryContextAttributesA != NULL && t->FreeContextBuffer != NULL);
	ck_assert(t->MakeSignature != NULL && t->VerifySignature != NULL);
	ck_assert(t->EncryptMessage != NULL && t->DecryptMessage != NULL);
	ck_assert(t->QuerySecurityPackageInfoA != NULL);

	/* Stubs answer SEC_E_UNSUPPORTED_FUNCTION. */
	struct hs h;
	hs_complete(&h, t);
	ck_assert(t->ImpersonateSecurityContext != NULL);
	ck_assert_int_eq(t->ImpersonateSecurityContext(&h.s), SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert_int_eq(t->RevertSecurityContext(&h.s), SEC_E_UNSUPPORTED_FUNCTION);
	SecBuffer ctb = {0, SECBUFFER_TOKEN, NULL};
	SecBufferDesc ctd = {SECBUFFER_VERSION, 1, &ctb};
	ck_assert_int_eq(t->ApplyControlToken(&h.c, &ctd), SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert_int_eq(t->ApplyControlToken(&h.c, NULL), SEC_E_INVALID_PARAMETER);
	HANDLE tokh = (HANDLE)&tokh;
	ck_assert_int_eq(t->QuerySecurityContextToken(&h.s, &tokh), SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert_ptr_eq(tokh, (HANDLE)&tokh);
	msg_both_ways(t, &h, 1);
	hs_free(&h);
	finish();
}
END_TEST

/* --- packages, attributes -------------------------------------------------- */

START_TEST(test_sspi_enumerate_and_query_packages)
{
	unsigned long n = PAT_ATTR;
	PSecPkgInfoA info = (PSecPkgInfoA)&n;
	ck_assert_int_eq(EnumerateSecurityPackagesA(&n, &info), SEC_E_OK);
	ck_assert_uint_ge(n, 1);
	ck_assert_ptr_nonnull(info);
	ck_assert_str_eq(info[0].Name, "SspiAsyncTest");
	ck_assert_ptr_nonnull(info[0].Comment);
	ck_assert_uint_gt(info[0].cbMaxToken, 0);
	ck_assert_uint_le(info[0].cbMaxToken, MAX_TOKEN);
	unsigned long max_token = info[0].cbMaxToken;
	ck_assert_int_eq(FreeContextBuffer(info), SEC_E_OK);
	ck_assert_int_eq(FreeContextBuffer(NULL), SEC_E_OK);

	PSecPkgInfoA one = NULL;
	ck_assert_int_eq(QuerySecurityPackageInfoA(pkg_name, &one), SEC_E_OK);
	ck_assert_ptr_nonnull(one);
	ck_assert_str_eq(one->Name, "SspiAsyncTest");
	ck_assert_uint_eq(one->cbMaxToken, max_token);
	ck_assert_int_eq(FreeContextBuffer(one), SEC_E_OK);

	char unknown[] = "NoSuchPackage", empty[] = "";
	one = (PSecPkgInfoA)&one;
	ck_assert_int_eq(QuerySecurityPackageInfoA(unknown, &one), SEC_E_SECPKG_NOT_FOUND);
	ck_assert_int_eq(QuerySecurityPackageInfoA(empty, &one), SEC_E_SECPKG_NOT_FOUND);
	ck_assert_ptr_eq(one, (PSecPkgInfoA)&one);
	ck_assert_int_eq(QuerySecurityPackageInfoA(NULL, &one), EXP_NULL_REQUIRED_PTR);
	ck_assert_int_eq(QuerySecurityPackageInfoA(pkg_name, NULL), EXP_NULL_REQUIRED_PTR);
	ck_assert_int_eq(EnumerateSecurityPackagesA(NULL, &info), EXP_NULL_REQUIRED_PTR);
	ck_assert_int_eq(EnumerateSecurityPackagesA(&n, NULL), EXP_NULL_REQUIRED_PTR);
	ck_assert_ptr_eq(one, (PSecPkgInfoA)&one);
	finish();
}
END_TEST

START_TEST(test_sspi_query_context_attributes_on_complete_context)
{
	const SecurityFunctionTableA *f = api(_i);
	struct hs h;
	hs_complete(&h, f);
	CtxtHandle *sides[2] = {&h.c, &h.s};
	for (int i = 0; i < 2; i++) {
		SecPkgContext_Sizes sz;
		memset(&sz, PAT, sizeof sz);
		ck_assert_int_eq(f->QueryContextAttributesA(sides[i], SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
		ck_assert_uint_gt(sz.cbMaxToken, 0);
		ck_assert_uint_le(sz.cbMaxToken, MAX_TOKEN);
		ck_assert_uint_gt(sz.cbMaxSignature, 0);
		ck_assert_uint_le(sz.cbMaxSignature, SIG_LEN);
		ck_assert_uint_le(sz.cbSecurityTrailer, SIG_LEN);

		SecPkgContext_NamesA names = {NULL};
		ck_assert_int_eq(f->QueryContextAttributesA(sides[i], SECPKG_ATTR_NAMES, &names),
				 SEC_E_OK);
		ck_assert_ptr_nonnull(names.sUserName);
		ck_assert_int_eq(f->FreeContextBuffer(names.sUserName), SEC_E_OK);

		SecPkgContext_Lifespan life;
		memset(&life, PAT, sizeof life);
		ck_assert_int_eq(f->QueryContextAttributesA(sides[i], SECPKG_ATTR_LIFESPAN, &life),
				 SEC_E_OK);
		ck_assert_int_le(life.tsStart.QuadPart, life.tsExpiry.QuadPart);
		ck_assert_int_ne(life.tsStart.QuadPart, PAT_TIME);

		SecPkgContext_PackageInfoA pi = {NULL};
		ck_assert_int_eq(f->QueryContextAttributesA(sides[i], SECPKG_ATTR_PACKAGE_INFO, &pi),
				 SEC_E_OK);
		ck_assert_ptr_nonnull(pi.PackageInfo);
		ck_assert_str_eq(pi.PackageInfo->Name, "SspiAsyncTest");
		ck_assert_int_eq(f->FreeContextBuffer(pi.PackageInfo), SEC_E_OK);

		/* FLAGS: every package, the ISC_RET_/ASC_RET_ of the last leg (no
		 * ALLOCATED_MEMORY: that one belongs to the call, not the context). */
		SecPkgContext_Flags fl;
		memset(&fl, 0xff, sizeof fl);
		ck_assert_int_eq(f->QueryContextAttributesA(sides[i], SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
		ck_assert_uint_ne(fl.Flags, (unsigned long)-1);
		ck_assert_uint_eq(fl.Flags & ISC_RET_ALLOCATED_MEMORY, 0);

		static const unsigned long unsupported[] = {
			SECPKG_ATTR_DCE_INFO,   SECPKG_ATTR_STREAM_SIZES, SECPKG_ATTR_KEY_INFO,
			SECPKG_ATTR_AUTHORITY,  SECPKG_ATTR_SESSION_KEY,  SECPKG_ATTR_NATIVE_NAMES,
			SECPKG_ATTR_TARGET,     SECPKG_ATTR_IS_LOOPBACK,  1000,
			(unsigned long)-1};
		for (size_t k = 0; k < sizeof unsupported / sizeof unsupported[0]; k++) {
			unsigned char buf[128];
			memset(buf, PAT, sizeof buf);
			ck_assert_int_eq(f->QueryContextAttributesA(sides[i], unsupported[k], buf),
					 SEC_E_UNSUPPORTED_FUNCTION);
			ck_assert(bytes_are(buf, sizeof buf, PAT));
		}
		ck_assert_int_eq(f->QueryContextAttributesA(sides[i], SECPKG_ATTR_SIZES, NULL),
				 EXP_NULL_REQUIRED_PTR);
	}
	unsigned char buf[16];
	memset(buf, PAT, sizeof buf);
	ck_assert_int_eq(f->QueryContextAttributesA(NULL, SECPKG_ATTR_SIZES, buf), EXP_NULL_HANDLE_PTR);
	ck_assert(bytes_are(buf, sizeof buf, PAT));

	/* Credential names. */
	SecPkgCredentials_NamesA cn = {NULL};
	ck_assert_int_eq(f->QueryCredentialsAttributesA(&h.cc, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
	ck_assert_ptr_nonnull(cn.sUserName);
	ck_assert_int_eq(f->FreeContextBuffer(cn.sUserName), SEC_E_OK);
	cn.sUserName = (SEC_CHAR *)&cn;
	ck_assert_int_eq(f->QueryCredentialsAttributesA(&h.sc, 77, &cn), EXP_QCRED_UNKNOWN_ATTR);
	ck_assert_ptr_eq(cn.sUserName, (SEC_CHAR *)&cn);
	ck_assert_int_eq(f->QueryCredentialsAttributesA(&h.sc, SECPKG_CRED_ATTR_NAMES, NULL),
			 EXP_NULL_REQUIRED_PTR);
	ck_assert_int_eq(f->QueryCredentialsAttributesA(NULL, SECPKG_CRED_ATTR_NAMES, &cn),
			 EXP_NULL_HANDLE_PTR);
	ck_assert_ptr_eq(cn.sUserName, (SEC_CHAR *)&cn);

	/* CompleteAuthToken: the test package has nothing to complete. */
	unsigned char t[8] = {0};
	SecBuffer tb = {sizeof t, SECBUFFER_TOKEN, t};
	SecBufferDesc td = {SECBUFFER_VERSION, 1, &tb};
	ck_assert_int_eq(f->CompleteAuthToken(&h.c, &td), EXP_COMPLETE_AUTH_TOKEN);
	ck_assert_int_eq(f->CompleteAuthToken(NULL, &td), EXP_NULL_HANDLE_PTR);
	msg_both_ways(f, &h, 1);
	hs_free(&h);
	finish();
}
END_TEST

/* sspi.h: "Package names compare exactly as written". */
START_TEST(test_sspi_package_name_compares_exactly)
{
	char lower[] = "sspiasynctest", upper[] = "SSPIASYNCTEST";
	char *names[2] = {lower, upper};
	for (int i = 0; i < 2; i++) {
		PSecPkgInfoA one = (PSecPkgInfoA)&one;
		SECURITY_STATUS st = QuerySecurityPackageInfoA(names[i], &one);
		if (st == SEC_E_OK)
			FreeContextBuffer(one);
		else
			ck_assert_ptr_eq(one, (PSecPkgInfoA)&one);
		CredHandle c;
		SECURITY_STATUS st2 = AcquireCredentialsHandleA(NULL, names[i], SECPKG_CRED_BOTH, NULL,
								NULL, NULL, NULL, &c, NULL);
		if (st2 == SEC_E_OK)
			FreeCredentialsHandle(&c);
		ck_assert_msg(st == EXP_PKG_NAME_OTHER_CASE && st2 == EXP_PKG_NAME_OTHER_CASE,
			      "\"%s\": QuerySecurityPackageInfoA 0x%08x, AcquireCredentialsHandleA "
			      "0x%08x, expected 0x%08x",
			      names[i], (unsigned)st, (unsigned)st2, (unsigned)EXP_PKG_NAME_OTHER_CASE);
	}
	finish();
}
END_TEST

/* --- argument checking ----------------------------------------------------- */

START_TEST(test_sspi_acquire_rejects_bad_arguments_output_untouched)
{
	CredHandle cred;
	TimeStamp ts;
	char unknown[] = "Kerberos5x";
	struct {
		char *pkg;
		unsigned long use;
		int identity; /* 0 none, 1 both forms flagged */
		int null_out;
		SECURITY_STATUS expect;
	} cases[] = {
		{unknown, SECPKG_CRED_OUTBOUND, 0, 0, SEC_E_SECPKG_NOT_FOUND},
		{NULL, SECPKG_CRED_OUTBOUND, 0, 0, EXP_NULL_REQUIRED_PTR},
		{pkg_name, SECPKG_CRED_OUTBOUND, 0, 1, EXP_NULL_REQUIRED_PTR},
		{pkg_name, 0, 0, 0, EXP_ACH_BAD_USE},
		{pkg_name, 0x10, 0, 0, EXP_ACH_BAD_USE},
		{pkg_name, SECPKG_CRED_OUTBOUND, 1, 0, EXP_ACH_BAD_FLAGS},
	};
	SEC_WINNT_AUTH_IDENTITY_A id;
	identity(&id, "alice", "EXAMPLE", "secret");
	id.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		handle_pat(&cred);
		ts.QuadPart = PAT_TIME;
		SECURITY_STATUS st = AcquireCredentialsHandleA(
			NULL, cases[i].pkg, cases[i].use, NULL, cases[i].identity ? &id : NULL, NULL,
			NULL, cases[i].null_out ? NULL : &cred, &ts);
		ck_assert_msg(st == cases[i].expect, "case %zu: 0x%08x, expected 0x%08x", i,
			      (unsigned)st, (unsigned)cases[i].expect);
		if (st != SEC_E_OK) {
			ck_assert(handle_is_pat(&cred));
			ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		} else {
			ck_assert_int_eq(FreeCredentialsHandle(&cred), SEC_E_OK);
		}
	}
	ck_assert_uint_eq(stats().credentials, 0);
	/* BOTH works, ptsExpiry may be NULL. */
	handle_pat(&cred);
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_BOTH, NULL, NULL, NULL,
						   NULL, &cred, NULL),
			 SEC_E_OK);
	ck_assert_uint_eq(stats().credentials, 1);
	ck_assert_int_eq(FreeCredentialsHandle(&cred), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(NULL), EXP_NULL_HANDLE_PTR);
	ck_assert_int_eq(DeleteSecurityContext(NULL), EXP_NULL_HANDLE_PTR);
	finish();
}
END_TEST

/* Structural errors on the first leg create nothing; on a later leg they
 * change nothing, and the handshake then continues. */
START_TEST(test_sspi_leg_structural_errors_change_nothing)
{
	struct hs h;
	hs_init(&h, &direct_api, "host/test;legs=4", 0);
	unsigned char outb[MAX_TOKEN];
	unsigned long attrs;
	TimeStamp ts;
	CtxtHandle newh;
	SecBuffer ob;
	SecBufferDesc od;
	char target[] = "host/test;legs=4";

#define RESET()                                                                                   \
	do {                                                                                      \
		handle_pat(&newh);                                                                \
		memset(outb, PAT, sizeof outb);                                                   \
		ob = (SecBuffer){sizeof outb, SECBUFFER_TOKEN, outb};                             \
		od = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob};                                  \
		attrs = PAT_ATTR;                                                                 \
		ts.QuadPart = PAT_TIME;                                                           \
	} while (0)
#define UNTOUCHED()                                                                               \
	do {                                                                                      \
		ck_assert(handle_is_pat(&newh));                                                  \
		ck_assert(bytes_are(outb, sizeof outb, PAT));                                     \
		ck_assert_uint_eq(ob.cbBuffer, sizeof outb);                                      \
		ck_assert_uint_eq(attrs, PAT_ATTR);                                               \
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);                                          \
	} while (0)

	/* First ISC leg. */
	RESET();
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, NULL, target, 0, 1, SECURITY_NATIVE_DREP,
						    NULL, 0, &newh, &od, &attrs, &ts),
			 EXP_NONZERO_RESERVED);
	UNTOUCHED();
	RESET();
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 1, &newh, &od, &attrs, &ts),
			 EXP_NONZERO_RESERVED);
	UNTOUCHED();
	RESET();
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 0, &newh, &od, NULL, &ts),
			 EXP_NULL_REQUIRED_PTR);
	ck_assert(handle_is_pat(&newh));
	ck_assert(bytes_are(outb, sizeof outb, PAT));
	RESET();
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 0, NULL, &od, &attrs, &ts),
			 EXP_FIRST_LEG_NULL_NEWCTX);
	UNTOUCHED();
	RESET();
	ck_assert_int_eq(InitializeSecurityContextA(NULL, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 0, &newh, &od, &attrs, &ts),
			 EXP_FIRST_LEG_NULL_CRED);
	UNTOUCHED();
	RESET();
	od.ulVersion = 1;
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 0, &newh, &od, &attrs, &ts),
			 EXP_BAD_DESC_VERSION);
	UNTOUCHED();
	RESET();
	od.pBuffers = NULL;
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 0, &newh, &od, &attrs, &ts),
			 EXP_NULL_PBUFFERS);
	ck_assert(handle_is_pat(&newh));
	ck_assert_uint_eq(attrs, PAT_ATTR);
	/* Output room too small: retryable, nothing created. */
	RESET();
	ob.cbBuffer = 1;
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP,
						    NULL, 0, &newh, &od, &attrs, &ts),
			 EXP_LEG_OUT_TOO_SMALL);
	ck_assert(handle_is_pat(&newh));
	ck_assert(bytes_are(outb, sizeof outb, PAT));
	ck_assert_uint_eq(ob.cbBuffer, 1);
	ck_assert_uint_eq(attrs, PAT_ATTR);
	ck_assert_uint_eq(stats().contexts, 0);

	ck_assert_int_eq(hs_step(&h), SEC_I_CONTINUE_NEEDED); /* leg 1 */

	/* First ASC leg, with the real token. */
	SecBuffer ib = {h.tok_len, SECBUFFER_TOKEN, h.tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	RESET();
	ck_assert_int_eq(AcceptSecurityContext(&h.sc, NULL, &id, 0, SECURITY_NATIVE_DREP, &newh, &od,
					       NULL, &ts),
			 EXP_NULL_REQUIRED_PTR);
	ck_assert(handle_is_pat(&newh));
	RESET();
	ck_assert_int_eq(AcceptSecurityContext(NULL, NULL, &id, 0, SECURITY_NATIVE_DREP, &newh, &od,
					       &attrs, &ts),
			 EXP_FIRST_LEG_NULL_CRED);
	UNTOUCHED();
	RESET();
	ck_assert_int_eq(AcceptSecurityContext(&h.sc, NULL, &id, 0, SECURITY_NATIVE_DREP, NULL, &od,
					       &attrs, &ts),
			 EXP_FIRST_LEG_NULL_NEWCTX);
	UNTOUCHED();
	RESET();
	id.ulVersion = 2;
	ck_assert_int_eq(AcceptSecurityContext(&h.sc, NULL, &id, 0, SECURITY_NATIVE_DREP, &newh, &od,
					       &attrs, &ts),
			 EXP_BAD_DESC_VERSION);
	UNTOUCHED();
	id.ulVersion = SECBUFFER_VERSION;
	RESET();
	id.pBuffers = NULL;
	ck_assert_int_eq(AcceptSecurityContext(&h.sc, NULL, &id, 0, SECURITY_NATIVE_DREP, &newh, &od,
					       &attrs, &ts),
			 EXP_NULL_PBUFFERS);
	UNTOUCHED();
	id.pBuffers = &ib;
	ck_assert_uint_eq(stats().contexts, 1);

	ck_assert_int_eq(hs_step(&h), SEC_I_CONTINUE_NEEDED); /* leg 2 */

	/* Leg 3 (a later ISC leg): refused calls leave the PARTIAL context as it is. */
	ib = (SecBuffer){h.tok_len, SECBUFFER_TOKEN, h.tok};
	CtxtHandle c_before = h.c;
	RESET();
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, &h.c, target, 0, 7, SECURITY_NATIVE_DREP,
						    &id, 0, &h.c, &od, &attrs, &ts),
			 EXP_NONZERO_RESERVED);
	ck_assert(handle_eq(&h.c, &c_before));
	ck_assert(bytes_are(outb, sizeof outb, PAT));
	ck_assert_uint_eq(attrs, PAT_ATTR);
	RESET();
	id.ulVersion = 3;
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, &h.c, target, 0, 0, SECURITY_NATIVE_DREP,
						    &id, 0, &h.c, &od, &attrs, &ts),
			 EXP_BAD_DESC_VERSION);
	id.ulVersion = SECBUFFER_VERSION;
	ck_assert(handle_eq(&h.c, &c_before));
	ck_assert(bytes_are(outb, sizeof outb, PAT));
	RESET();
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, &h.c, target, 0, 0, SECURITY_NATIVE_DREP,
						    &id, 0, &h.c, &od, NULL, &ts),
			 EXP_NULL_REQUIRED_PTR);
	ck_assert(handle_eq(&h.c, &c_before));
	/* Output too small on a later leg: retryable. */
	ck_assert_int_eq(hs_step_cap(&h, 1), EXP_LEG_OUT_TOO_SMALL);
	/* Messages on a PARTIAL context. */
	unsigned char data[8] = {0}, sig[SIG_LEN];
	SecBuffer mb[2] = {{sizeof data, SECBUFFER_DATA, data}, {SIG_LEN, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	memset(sig, PAT, sizeof sig);
	ck_assert_int_eq(MakeSignature(&h.c, 0, &md, 0), EXP_MSG_ON_PARTIAL);
	ck_assert_int_eq(EncryptMessage(&h.s, 0, &md, 0), EXP_MSG_ON_PARTIAL);
	ck_assert(bytes_are(sig, sizeof sig, PAT));
	ck_assert(bytes_are(data, sizeof data, 0));

	hs_run(&h, 4); /* legs 3 and 4 still work */
	msg_both_ways(&direct_api, &h, 1);
	hs_free(&h);
#undef RESET
#undef UNTOUCHED
	finish();
}
END_TEST

START_TEST(test_sspi_message_calls_reject_malformed_buffers)
{
	struct hs h;
	hs_complete(&h, &direct_api);
	unsigned char data[16], sig[SIG_LEN];
	unsigned long qop;
	SecBuffer mb[2];
	SecBufferDesc md;
	for (int op = 0; op < 4; op++) {
		for (int c = 0; c < 5; c++) {
			if (c == 4 && !_i)
				continue; /* the short token buffer: loop 1 only */
			memset(data, PAT, sizeof data);
			memset(sig, PAT, sizeof sig);
			mb[0] = (SecBuffer){sizeof data, SECBUFFER_DATA, data};
			mb[1] = (SecBuffer){SIG_LEN, SECBUFFER_TOKEN, sig};
			md = (SecBufferDesc){SECBUFFER_VERSION, 2, mb};
			SECURITY_STATUS expect;
			SecBufferDesc *pmd = &md;
			switch (c) {
			case 0: pmd = NULL; expect = EXP_NULL_REQUIRED_PTR; break;
			case 1: md.ulVersion = 1; expect = EXP_BAD_DESC_VERSION; break;
			case 2: md.pBuffers = NULL; expect = EXP_NULL_PBUFFERS; break;
			case 3: md.cBuffers = 1; expect = EXP_MSG_NO_TOKEN_BUF; break;
			default:
				mb[1].cbBuffer = 2;
				expect = op % 2 == 0 ? EXP_MSG_SHORT_TOKEN_BUF : EXP_MSG_SHORT_SIGNATURE;
				break;
			}
			qop = PAT_ATTR;
			SECURITY_STATUS st;
			switch (op) {
			case 0: st = MakeSignature(&h.c, 0, pmd, 0); break;
			case 1: st = VerifySignature(&h.c, pmd, 0, &qop); break;
			case 2: st = EncryptMessage(&h.c, 0, pmd, 0); break;
			default: st = DecryptMessage(&h.c, pmd, 0, &qop); break;
			}
			ck_assert_msg(st == expect, "op %d case %d: 0x%08x, expected 0x%08x", op, c,
				      (unsigned)st, (unsigned)expect);
			ck_assert(bytes_are(data, sizeof data, PAT));
			ck_assert(bytes_are(sig, sizeof sig, PAT));
			ck_assert_uint_eq(qop, PAT_ATTR);
		}
	}
	/* VerifySignature's pfQOP is required; DecryptMessage's is optional. */
	memset(data, 3, sizeof data);
	mb[0] = (SecBuffer){sizeof data, SECBUFFER_DATA, data};
	mb[1] = (SecBuffer){SIG_LEN, SECBUFFER_TOKEN, sig};
	md = (SecBufferDesc){SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(MakeSignature(&h.c, 0, &md, 5), SEC_E_OK);
	ck_assert_int_eq(VerifySignature(&h.s, &md, 5, NULL), EXP_NULL_REQUIRED_PTR);
	ck_assert_int_eq(VerifySignature(&h.s, &md, 5, &qop), SEC_E_OK);
	mb[1].cbBuffer = SIG_LEN;
	ck_assert_int_eq(EncryptMessage(&h.c, 0, &md, 6), SEC_E_OK);
	ck_assert_int_eq(DecryptMessage(&h.s, &md, 6, NULL), SEC_E_OK);
	ck_assert(bytes_are(data, sizeof data, 3));
	msg_both_ways(&direct_api, &h, 9);
	hs_free(&h);
	finish();
}
END_TEST

/* sspi.h: arguments are checked before anything happens, handles next: a
 * bad handle with a malformed argument as well is SEC_E_INVALID_PARAMETER,
 * and nothing is touched. */
START_TEST(test_sspi_arguments_checked_before_handles)
{
	struct hs h;
	hs_complete(&h, &direct_api);
	CtxtHandle bad = h.c;
	bad.dwUpper ^= 1;
	SecBuffer b = {4, SECBUFFER_DATA, NULL};
	SecBufferDesc v1 = {1, 1, &b};
	unsigned long attrs = PAT_ATTR;
	CtxtHandle newh;
	handle_pat(&newh);
	char target[] = "host/x";
	char failed[512] = "";
	/* Each call is checked; the ones answering otherwise are listed together. */
#define EXPECT_INVALID(call)                                                                      \
	do {                                                                                      \
		SECURITY_STATUS st_ = (call);                                                     \
		if (st_ != SEC_E_INVALID_PARAMETER) {                                                \
			size_t l_ = strlen(failed);                                               \
			snprintf(failed + l_, sizeof failed - l_, " [line %d: 0x%08x]", __LINE__, \
				 (unsigned)st_);                                                  \
		}                                                                                 \
	} while (0)
	EXPECT_INVALID(MakeSignature(&bad, 0, NULL, 0));
	EXPECT_INVALID(EncryptMessage(&bad, 0, &v1, 0));
	EXPECT_INVALID(VerifySignature(&bad, &v1, 0, NULL));
	EXPECT_INVALID(DecryptMessage(&bad, NULL, 0, NULL));
	EXPECT_INVALID(QueryContextAttributesA(&bad, SECPKG_ATTR_SIZES, NULL));
	EXPECT_INVALID(InitializeSecurityContextA(&h.cc, &bad, target, 0, 1, SECURITY_NATIVE_DREP,
						    &v1, 0, &newh, &v1, &attrs, NULL));
	EXPECT_INVALID(AcceptSecurityContext(&h.sc, &bad, &v1, 0, SECURITY_NATIVE_DREP, &newh, &v1,
					       NULL, NULL));
	CredHandle badc = h.cc;
	badc.dwLower ^= 2;
	EXPECT_INVALID(QueryCredentialsAttributesA(&badc, SECPKG_CRED_ATTR_NAMES, NULL));
	EXPECT_INVALID(InitializeSecurityContextA(&badc, NULL, target, 0, 1, SECURITY_NATIVE_DREP,
						    NULL, 0, &newh, &v1, &attrs, NULL));
#undef EXPECT_INVALID
	ck_assert_msg(failed[0] == '\0', "not SEC_E_INVALID_PARAMETER:%s", failed);
	ck_assert(handle_is_pat(&newh));
	ck_assert_uint_eq(attrs, PAT_ATTR);
	msg_both_ways(&direct_api, &h, 1);
	hs_free(&h);
	finish();
}
END_TEST

/* --- bad handles ------------------------------------------------------------- */

/*
 * The packages the bad-handle tests run with.  _i % 2 picks the API (direct
 * calls or InitSecurityInterfaceA()'s table), _i / 2 the package: 0 the test
 * package (TCase "stale"), 1 "NTLM" (TCase "stale_ntlm", whose fixture makes
 * the user file both sides' credentials come from), 2 "Kerberos" (TCase
 * "stale_krb5", whose fixture starts a realm: the client is alice with her
 * password, the server the keytab's), 3 "Negotiate" (TCase "stale_nego": a
 * realm, and a user file for NTLM inside it; it chooses Kerberos for these
 * targets).  Each names its targets and how many legs a handshake to them
 * takes: the test package's come from the legs= option; NTLM's are always 4
 * (NEGOTIATE, CHALLENGE, AUTHENTICATE, the server's last), so NTLM's
 * "partial" pair (after leg 2) has both sides PARTIAL and its probe token is
 * a NEGOTIATE; Kerberos' and Negotiate's are 3 with mutual authentication
 * (AP-REQ, AP-REP, the client's check of it), so their partial pair has the
 * server COMPLETE and the client PARTIAL, as the test package's legs=3, and
 * their probe token is an AP-REQ (in a NegTokenInit).  NTLM's tokens fit
 * MAX_TOKEN: an AUTHENTICATE to these targets is 294 + 10 * (host name
 * length) bytes, at most 444 (a NetBIOS name has 15 characters); Kerberos'
 * (~700 bytes, cbMaxToken 48000) do not, so those cases give legs
 * HS_TOKEN_ROOM.  Each Kerberos target is a service of the realm's keytab.
 */
static char ntlm_name[] = "NTLM", krb5_name[] = "Kerberos", nego_name[] = "Negotiate";

#define KRB_REQ_C (ISC_REQ_MUTUAL_AUTH | ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY)
#define KRB_REQ_S (ASC_REQ_MUTUAL_AUTH | ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY)

struct pkg_case {
	char *name;
	const char *neighbour; /* the complete pair's target (legs_short) */
	const char *short_t;   /* a legs_short handshake's */
	const char *long_t;    /* a legs_long handshake's */
	const char *probe;     /* the probe token's (legs_short) */
	int legs_short, legs_long;
	const char *user, *domain, *password; /* the client's identity (NULL: none) */
	unsigned long req_c, req_s;           /* fContextReq of every leg */
	unsigned long room;                   /* a leg's output room */
	int needs_realm;                      /* 1: TCase "stale_krb5", 2: "stale_nego" */
};

static const struct pkg_case pkg_cases[4] = {
	{pkg_name, "host/neighbour", "host/test;legs=2", "host/test;legs=3", "host/probe", 2, 3,
	 NULL, NULL, NULL, 0, 0, MAX_TOKEN, 0},
	{ntlm_name, "HTTP/neighbour.test", "HTTP/short.test", "HTTP/long.test", "HTTP/probe.test",
	 4, 4, NULL, NULL, NULL, 0, 0, MAX_TOKEN, 0},
	{krb5_name, "HTTP/host.test", "host/host.test", "HTTP/peer.test", "HTTP/host.test", 3, 3,
	 TL_REALM_ALICE, TL_REALM_NAME, TL_REALM_ALICE_PW, KRB_REQ_C, KRB_REQ_S, HS_TOKEN_ROOM, 1},
	{nego_name, "HTTP/host.test", "host/host.test", "HTTP/peer.test", "HTTP/host.test", 3, 3,
	 TL_REALM_ALICE, TL_REALM_NAME, TL_REALM_ALICE_PW, KRB_REQ_C, KRB_REQ_S, HS_TOKEN_ROOM, 2},
};

static const struct pkg_case *pkg_case(int i)
{
	return &pkg_cases[i / 2];
}

/* The realm of TCases "stale_krb5" and "stale_nego" (their fixtures), and
 * which of them it serves (pkg_case.needs_realm): 0 when there is none, so
 * their tests skip. */
static struct tl_realm g_realm;
static int g_realm_for;

/* 1 when @pc can run here; else a note, and the test passes. */
static int pkg_case_ready(const struct pkg_case *pc)
{
	if (pc->needs_realm == 0 || pc->needs_realm == g_realm_for)
		return 1;
	printf("check_sspi_sync: \"%s\" bad-handle test skipped (no KDC tools, or no %s in this "
	       "build)\n",
	       pc->name, pc->needs_realm == 1 ? "Kerberos" : "Kerberos or Negotiate");
	return 0;
}

/* hs_setup() with @pc's requests and room. */
static void pc_hs_setup(struct hs *h, const SecurityFunctionTableA *f, const struct pkg_case *pc,
			const char *target)
{
	hs_setup(h, f, target, 0);
	h->req_c = pc->req_c;
	h->req_s = pc->req_s;
	h->room = pc->room;
}

/* pc_hs_setup() plus a client credential of @pc's identity (none: "NTLM"
 * takes it from NTLM_USER_FILE) and a server one (the keytab, the user
 * file). */
static void pc_hs_init(struct hs *h, const SecurityFunctionTableA *f, const struct pkg_case *pc,
		       const char *target)
{
	SEC_WINNT_AUTH_IDENTITY_A id = tl_identity(pc->user, pc->domain, pc->password);
	pc_hs_setup(h, f, pc, target);
	ck_assert_int_eq(acquire_pkg_id(f, pc->name, SECPKG_CRED_OUTBOUND,
					pc->user != NULL ? &id : NULL, &h->cc),
			 SEC_E_OK);
	h->sc = acquire_pkg(f, pc->name, SECPKG_CRED_INBOUND);
	h->own_creds = 1;
}

struct world {
	const struct pkg_case *pc;
	struct hs live;      /* complete pair: the neighbour */
	struct hs partial;   /* legs_long pair after leg 2 (see pkg_cases: which side is PARTIAL) */
	CtxtHandle probe_c;  /* client context that made probe_tok */
	SECURITY_STATUS probe_st; /* its first leg's status */
	unsigned char probe_tok[HS_TOKEN_ROOM];
	unsigned long probe_len;
	struct sspiasync_statistics before;
};

static void world_make(struct world *w, const SecurityFunctionTableA *f, const struct pkg_case *pc)
{
	w->pc = pc;
	pc_hs_init(&w->live, f, pc, pc->neighbour);
	hs_run(&w->live, pc->legs_short);
	pc_hs_init(&w->partial, f, pc, pc->long_t);
	hs_run_to(&w->partial, pc->legs_long, 2);
	ck_assert(!w->partial.done_c); /* PARTIAL in every case: its probes mean that */
	w->probe_st = leg_expected(pc->legs_short, 1);
	first_token_to(f, &w->live.cc, pc->probe, pc->req_c, pc->room, w->probe_st, &w->probe_c,
		       w->probe_tok, &w->probe_len);
	w->before = stats();
	ck_assert_uint_eq(w->before.credentials, 4);
	ck_assert_uint_eq(w->before.contexts, 5);
}

/* Nothing was harmed: counts unchanged, every context still works. */
static void world_check_and_free(struct world *w, const SecurityFunctionTableA *f,
				 unsigned rejected)
{
	const struct pkg_case *pc = w->pc;
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, w->before.credentials);
	ck_assert_uint_eq(s.contexts, w->before.contexts);
	if (EXP_SYNC_REJECTS_COUNTED)
		ck_assert_uint_ge(s.rejected_stale, w->before.rejected_stale + rejected);
	msg_both_ways(f, &w->live, 11);
	hs_run(&w->partial, pc->legs_long);
	msg_both_ways(f, &w->partial, 21);
	/* The probe token is still acceptable with a good credential: the
	 * probe's handshake runs to its end. */
	struct hs p;
	pc_hs_setup(&p, f, pc, pc->probe);
	p.cc = w->live.cc;
	p.sc = w->live.sc;
	p.c = w->probe_c;
	p.have_c = 1;
	p.done_c = w->probe_st == SEC_E_OK;
	p.leg = 1;
	memcpy(p.tok, w->probe_tok, w->probe_len);
	p.tok_len = w->probe_len;
	hs_run(&p, pc->legs_short);
	msg_both_ways(f, &p, 31);
	hs_free(&p);
	/* The credentials still make new handshakes. */
	struct hs n;
	pc_hs_setup(&n, f, pc, pc->long_t);
	n.cc = w->partial.cc;
	n.sc = w->live.sc;
	hs_run(&n, pc->legs_long);
	msg_both_ways(f, &n, 41);
	hs_free(&n);
	hs_free(&w->live);
	hs_free(&w->partial);
	ck_assert_uint_eq(stats().contexts, 0);
	ck_assert_uint_eq(stats().credentials, 0);
}

START_TEST(test_sspi_stale_handles_are_invalid)
{
	const SecurityFunctionTableA *f = api(_i % 2);
	const struct pkg_case *pc = pkg_case(_i);
	if (!pkg_case_ready(pc))
		return;
	struct world w;
	world_make(&w, f, pc);
	unsigned n = 0;
	/* A deleted context (client and server side), a freed credential. */
	struct hs d;
	pc_hs_init(&d, f, pc, pc->long_t);
	hs_run(&d, pc->legs_long);
	CtxtHandle dc = d.c, ds = d.s;
	CredHandle fc = d.cc, fs = d.sc;
	hs_free(&d);
	n += probe_bad_ctx(f, dc, &w.live.cc);
	n += probe_bad_ctx(f, ds, &w.live.sc);
	n += probe_bad_cred(f, fc, w.probe_tok, w.probe_len);
	n += probe_bad_cred(f, fs, w.probe_tok, w.probe_len);
	/* Stale handles stay stale after their slots are reused. */
	struct hs r;
	pc_hs_init(&r, f, pc, pc->short_t);
	hs_run(&r, pc->legs_short);
	ck_assert(!handle_eq(&r.c, &dc) && !handle_eq(&r.c, &ds));
	ck_assert(!handle_eq(&r.s, &dc) && !handle_eq(&r.s, &ds));
	ck_assert(!handle_eq(&r.cc, &fc) && !handle_eq(&r.sc, &fs));
	n += probe_bad_ctx(f, dc, &w.live.cc);
	n += probe_bad_ctx(f, ds, &w.live.sc);
	n += probe_bad_cred(f, fc, w.probe_tok, w.probe_len);
	msg_both_ways(f, &r, 1);
	hs_free(&r);
	world_check_and_free(&w, f, n);
	finish();
}
END_TEST

START_TEST(test_sspi_zeroed_invalidated_forged_handles_are_invalid)
{
	const SecurityFunctionTableA *f = api(_i % 2);
	const struct pkg_case *pc = pkg_case(_i);
	if (!pkg_case_ready(pc))
		return;
	struct world w;
	world_make(&w, f, pc);
	unsigned n = 0;
	SecHandle bad[16 + 64];
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
	bad[nb++] = (SecHandle){w.live.c.dwLower, (ULONG_PTR)-1};
	bad[nb++] = (SecHandle){(ULONG_PTR)-1, w.live.c.dwUpper};
	bad[nb++] = (SecHandle){(ULONG_PTR)&w, (ULONG_PTR)&w}; /* a pointer */
	bad[nb++] = (SecHandle){1, 1};
	uint64_t seed = 0x9e3779b97f4a7c15u;
	while (nb < sizeof bad / sizeof bad[0])
		bad[nb++] = (SecHandle){(ULONG_PTR)tl_rand(&seed), (ULONG_PTR)tl_rand(&seed)};
	for (size_t i = 0; i < nb; i++) {
		n += probe_bad_ctx(f, bad[i], &w.live.cc);
		n += probe_bad_cred(f, bad[i], w.probe_tok, w.probe_len);
	}
	world_check_and_free(&w, f, n);
	finish();
}
END_TEST

START_TEST(test_sspi_every_bit_flip_is_invalid)
{
	const SecurityFunctionTableA *f = api(_i % 2);
	const struct pkg_case *pc = pkg_case(_i);
	if (!pkg_case_ready(pc))
		return;
	struct world w;
	world_make(&w, f, pc);
	unsigned n = 0;
	SecHandle live[5] = {w.live.c, w.live.s, w.partial.c, w.live.cc, w.partial.sc};
	for (int which = 0; which < 5; which++) {
		for (unsigned b = 0; b < HANDLE_BITS; b++) {
			SecHandle x = live[which];
			unsigned wbits = (unsigned)(sizeof(ULONG_PTR) * CHAR_BIT);
			if (b < wbits)
				x.dwLower ^= (ULONG_PTR)1 << b;
			else
				x.dwUpper ^= (ULONG_PTR)1 << (b - wbits);
			if (which < 3)
				n += probe_bad_ctx(f, x, &w.live.cc);
			else
				n += probe_bad_cred(f, x, w.probe_tok, w.probe_len);
		}
	}
	world_check_and_free(&w, f, n);
	finish();
}
END_TEST

START_TEST(test_sspi_wrong_kind_handles_are_invalid)
{
	const SecurityFunctionTableA *f = api(_i % 2);
	const struct pkg_case *pc = pkg_case(_i);
	if (!pkg_case_ready(pc))
		return;
	struct world w;
	world_make(&w, f, pc);
	unsigned n = 0;
	/* Credentials as contexts. */
	n += probe_bad_ctx(f, w.live.cc, &w.live.cc);
	n += probe_bad_ctx(f, w.live.sc, &w.live.sc);
	n += probe_bad_ctx(f, w.partial.cc, &w.live.cc);
	/* Contexts (complete, partial, probe) as credentials. */
	n += probe_bad_cred(f, w.live.c, w.probe_tok, w.probe_len);
	n += probe_bad_cred(f, w.live.s, w.probe_tok, w.probe_len);
	n += probe_bad_cred(f, w.partial.c, w.probe_tok, w.probe_len);
	n += probe_bad_cred(f, w.probe_c, w.probe_tok, w.probe_len);
	world_check_and_free(&w, f, n);
	finish();
}
END_TEST

/* The user file of TCase "stale_ntlm" (NTLM_USER_FILE names it): its first
 * entry is every NULL-identity client's, all of it the servers'. */
static char g_user_file[64];

static void ntlm_users_setup(void)
{
	tl_user_file_set(g_user_file, "DOM:alice:Secret1!\nOTHER:bob:pw:with:colons\n");
}

static void ntlm_users_teardown(void)
{
	tl_user_file_unset(g_user_file);
}

/* TCases "stale_krb5" (@which 1) and "stale_nego" (2): a realm per test,
 * when the KDC tools are installed and the build has the package; else
 * g_realm_for stays 0 and the tests skip.  Tools there but no realm: the
 * test fails. */
static void realm_setup(int which)
{
	int built = 0;
#ifdef SA_HAVE_KRB5
	built = 1;
#ifndef SA_HAVE_NEGOTIATE
	if (which == 2)
		built = 0;
#endif
#endif
	g_realm_for = 0;
	if (!built || !tl_realm_available())
		return;
	memset(&g_realm, 0, sizeof g_realm);
	ck_assert_msg(tl_realm_start(&g_realm) == 0, "the realm would not start");
	g_realm_for = which;
}

static void realm_teardown(void)
{
	tl_realm_stop(&g_realm);
	g_realm_for = 0;
}

static void krb5_realm_setup(void)
{
	realm_setup(1);
}

/* Negotiate: also the user file of NTLM inside it (alice, as the realm has her). */
static void nego_realm_setup(void)
{
	realm_setup(2);
	tl_user_file_set(g_user_file, TL_REALM_NAME ":" TL_REALM_ALICE ":" TL_REALM_ALICE_PW "\n");
}

static void nego_realm_teardown(void)
{
	tl_user_file_unset(g_user_file);
	realm_teardown();
}

/* --- lifecycle --------------------------------------------------------------- */

START_TEST(test_sspi_double_delete_is_invalid_handle)
{
	const SecurityFunctionTableA *f = api(_i);
	struct hs h, nb;
	hs_complete(&nb, f);
	hs_init(&h, f, "host/test;legs=3", 0);
	hs_run(&h, 3);
	CtxtHandle c = h.c, c2 = h.c;
	ck_assert_int_eq(f->DeleteSecurityContext(&c), SEC_E_OK);
	ck_assert(handle_eq(&c, &c2)); /* the caller's words are not rewritten */
	ck_assert_int_eq(f->DeleteSecurityContext(&c), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(f->DeleteSecurityContext(&c2), SEC_E_INVALID_HANDLE);
	h.have_c = 0;
	ck_assert_uint_eq(stats().contexts, 3);
	/* The peer of a deleted context is unaffected. */
	unsigned char d[4] = {1, 2, 3, 4}, sig[SIG_LEN];
	SecBuffer mb[2] = {{sizeof d, SECBUFFER_DATA, d}, {SIG_LEN, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(f->MakeSignature(&h.s, 0, &md, 0), SEC_E_OK);
	hs_free(&h);
	CtxtHandle s = h.s;
	ck_assert_int_eq(f->DeleteSecurityContext(&s), SEC_E_INVALID_HANDLE);
	/* Double free of a credential. */
	CredHandle cr = acquire(f, SECPKG_CRED_BOTH);
	ck_assert_int_eq(f->FreeCredentialHandle(&cr), SEC_E_OK);
	ck_assert_int_eq(f->FreeCredentialHandle(&cr), SEC_E_INVALID_HANDLE);
	msg_both_ways(f, &nb, 1);
	hs_free(&nb);
	finish();
}
END_TEST

START_TEST(test_sspi_leg_after_completion_is_out_of_sequence)
{
	const SecurityFunctionTableA *f = api(_i);
	for (int legs = 2; legs <= 3; legs++) {
		struct hs h;
		char target[64];
		snprintf(target, sizeof target, "host/test;legs=%d", legs);
		hs_init(&h, f, target, 0);
		hs_run(&h, legs);
		/* Both sides, with an old token and with none; both step() orders. */
		unsigned char old[4] = {9, 9, 9, 9};
		for (int side = 0; side < 2; side++) {
			for (int withtok = 0; withtok < 2; withtok++) {
				h.leg = 2 + side; /* the next leg runs on this side */
				h.tok_len = withtok ? sizeof old : 0;
				memcpy(h.tok, old, sizeof old);
				int leg_before = h.leg;
				ck_assert_int_eq(hs_step(&h), SEC_E_OUT_OF_SEQUENCE);
				ck_assert_int_eq(h.leg, leg_before);
			}
		}
		/* Still complete: messages and queries work. */
		msg_both_ways(f, &h, 1);
		SecPkgContext_Sizes sz;
		ck_assert_int_eq(f->QueryContextAttributesA(&h.c, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
		ck_assert_uint_eq(stats().contexts, 2);
		hs_free(&h);
	}
	finish();
}
END_TEST

START_TEST(test_sspi_free_credentials_while_contexts_live)
{
	const SecurityFunctionTableA *f = api(_i);
	struct hs h, done;
	hs_init(&h, f, "host/test;legs=3", _i);
	hs_run_to(&h, 3, 2); /* PARTIAL client, COMPLETE server */
	hs_init(&done, f, "host/test;legs=2", 0);
	hs_run(&done, 2);
	CredHandle cc = h.cc, sc = h.sc;
	ck_assert_uint_eq(stats().credentials, 4);
	ck_assert_int_eq(f->FreeCredentialHandle(&h.cc), SEC_E_OK);
	ck_assert_int_eq(f->FreeCredentialHandle(&h.sc), SEC_E_OK);
	ck_assert_int_eq(f->FreeCredentialHandle(&done.cc), SEC_E_OK);
	ck_assert_int_eq(f->FreeCredentialHandle(&done.sc), SEC_E_OK);
	done.own_creds = 0;
	h.own_creds = 0;
	/* The credentials still count while their contexts use them. */
	ck_assert_uint_eq(stats().credentials, 4);
	/* Invalid at once: every use, a second free. */
	unsigned char tok[MAX_TOKEN];
	unsigned long tok_len;
	CredHandle other = acquire(f, SECPKG_CRED_OUTBOUND);
	CtxtHandle pc;
	first_token(f, &other, &pc, tok, &tok_len);
	probe_bad_cred(f, cc, tok, tok_len);
	probe_bad_cred(f, sc, tok, tok_len);
	probe_bad_cred(f, done.cc, tok, tok_len);
	/* The contexts finish the handshake, exchange messages and delete. */
	hs_run(&h, 3);
	msg_both_ways(f, &h, 1);
	msg_both_ways(f, &done, 1);
	SecPkgContext_NamesA names = {NULL};
	ck_assert_int_eq(f->QueryContextAttributesA(&h.s, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
	ck_assert_int_eq(f->FreeContextBuffer(names.sUserName), SEC_E_OK);
	ck_assert_int_eq(f->DeleteSecurityContext(&h.c), SEC_E_OK);
	h.have_c = 0;
	ck_assert_uint_eq(stats().credentials, 4); /* h.cc went with its last context */
	ck_assert_int_eq(f->DeleteSecurityContext(&h.s), SEC_E_OK);
	h.have_s = 0;
	ck_assert_uint_eq(stats().credentials, 3);
	hs_free(&done);
	ck_assert_uint_eq(stats().credentials, 1);
	ck_assert_int_eq(f->DeleteSecurityContext(&pc), SEC_E_OK);
	ck_assert_int_eq(f->FreeCredentialHandle(&other), SEC_E_OK);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
	finish();
}
END_TEST

START_TEST(test_sspi_stats_count_credentials_and_contexts)
{
	struct sspiasync_statistics s = stats(); /* not initialised: all 0 */
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
	ck_assert_int_eq(sspiasync_stats(NULL), SEC_E_INVALID_PARAMETER);
	struct hs h;
	hs_setup(&h, &direct_api, "host/test;legs=3", 0);
	h.cc = acquire(&direct_api, SECPKG_CRED_OUTBOUND);
	ck_assert_uint_eq(stats().credentials, 1);
	h.sc = acquire(&direct_api, SECPKG_CRED_INBOUND);
	h.own_creds = 1;
	s = stats();
	ck_assert_uint_eq(s.credentials, 2);
	ck_assert_uint_eq(s.contexts, 0);
	ck_assert_int_eq(hs_step(&h), SEC_I_CONTINUE_NEEDED);
	ck_assert_uint_eq(stats().contexts, 1);
	ck_assert_int_eq(hs_step(&h), SEC_E_OK);
	ck_assert_uint_eq(stats().contexts, 2);
	ck_assert_int_eq(hs_step(&h), SEC_E_OK);
	ck_assert_uint_eq(stats().contexts, 2);
	ck_assert_int_eq(DeleteSecurityContext(&h.c), SEC_E_OK);
	h.have_c = 0;
	ck_assert_uint_eq(stats().contexts, 1);
	uint64_t rej = stats().rejected_stale;
	ck_assert_int_eq(DeleteSecurityContext(&h.c), SEC_E_INVALID_HANDLE);
	if (EXP_SYNC_REJECTS_COUNTED)
		ck_assert_uint_eq(stats().rejected_stale, rej + 1);
	ck_assert_uint_eq(stats().contexts, 1);
	hs_free(&h);
	s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
	ck_assert_uint_eq(s.async_contexts, 0);
	ck_assert_uint_eq(s.pending_calls, 0);
	if (EXP_SYNC_REJECTS_COUNTED)
		ck_assert_uint_ge(s.completed_calls, 8);
	finish();
}
END_TEST

/* fail=K at each leg of a 3-leg handshake; the status option. */
START_TEST(test_sspi_injected_failure_at_each_leg)
{
	static const struct {
		int fail;
		const char *status_opt;
		SECURITY_STATUS expect;
	} cases[] = {
		{1, "", SEC_E_INTERNAL_ERROR},
		{2, "", SEC_E_INTERNAL_ERROR},
		{3, "", SEC_E_INTERNAL_ERROR},
		{2, ";status=0x8009030C", SEC_E_LOGON_DENIED},
		{3, ";status=0x80090322", SEC_E_WRONG_PRINCIPAL},
		{1, ";status=0x80090311", SEC_E_NO_AUTHENTICATING_AUTHORITY},
	};
	const SecurityFunctionTableA *f = api(_i % 2);
	int ci = _i / 2;
	struct hs nb;
	hs_complete(&nb, f);
	char target[96];
	snprintf(target, sizeof target, "host/test;legs=3;fail=%d%s", cases[ci].fail,
		 cases[ci].status_opt);
	struct hs h;
	hs_init(&h, f, target, 0);
	hs_run_to(&h, 3, cases[ci].fail - 1);
	struct sspiasync_statistics before = stats();
	ck_assert_int_eq(hs_step(&h), cases[ci].expect); /* outputs untouched: asserted there */
	struct sspiasync_statistics after = stats();
	ck_assert_uint_eq(after.contexts, before.contexts); /* a failed first leg creates nothing */
	switch (cases[ci].fail) {
	case 1:
		ck_assert(!h.have_c && !h.have_s);
		break;
	case 2:
		ck_assert(h.have_c && !h.have_s);
		break;
	default:
		/* The client is REJECTED: legs are out of sequence, messages too. */
		ck_assert(h.have_c && h.have_s && h.done_s && !h.done_c);
		ck_assert_int_eq(hs_step(&h), SEC_E_OUT_OF_SEQUENCE);
		unsigned char d[4] = {0}, sig[SIG_LEN];
		SecBuffer mb[2] = {{sizeof d, SECBUFFER_DATA, d}, {SIG_LEN, SECBUFFER_TOKEN, sig}};
		SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
		ck_assert_int_eq(f->MakeSignature(&h.c, 0, &md, 0), EXP_MSG_ON_PARTIAL);
		break;
	}
	if (h.have_c && !h.done_c && cases[ci].fail == 2) {
		/* A PARTIAL client whose peer never answered: messages are out of sequence. */
		unsigned char d[4] = {0}, sig[SIG_LEN];
		SecBuffer mb[2] = {{sizeof d, SECBUFFER_DATA, d}, {SIG_LEN, SECBUFFER_TOKEN, sig}};
		SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
		ck_assert_int_eq(f->MakeSignature(&h.c, 0, &md, 0), EXP_MSG_ON_PARTIAL);
	}
	hs_free(&h); /* delete works in every state */
	ck_assert_uint_eq(stats().contexts, 2);
	msg_both_ways(f, &nb, 1);
	hs_free(&nb);
	/* The next handshake works. */
	hs_init(&h, f, "host/test;legs=3", 0);
	hs_run(&h, 3);
	hs_free(&h);
	finish();
}
END_TEST

START_TEST(test_sspi_explicit_credentials_and_wrong_password)
{
	const SecurityFunctionTableA *f = api(_i);
	SEC_WINNT_AUTH_IDENTITY_A server_id, ok_id, bad_pw, bad_user;
	identity(&server_id, "alice", "EXAMPLE", "secret");
	identity(&ok_id, "alice", "EXAMPLE", "secret");
	identity(&bad_pw, "alice", "EXAMPLE", "secreT");
	identity(&bad_user, "bob", "EXAMPLE", "secret");
	CredHandle strict, open;
	ck_assert_int_eq(acquire_id(f, SECPKG_CRED_INBOUND, &server_id, &strict), SEC_E_OK);
	ck_assert_int_eq(acquire_id(f, SECPKG_CRED_INBOUND, NULL, &open), SEC_E_OK);

	/* Client identities against the strict server: only alice/secret. */
	SEC_WINNT_AUTH_IDENTITY_A *clients[4] = {&ok_id, &bad_pw, &bad_user, NULL};
	for (int i = 0; i < 4; i++) {
		for (int srv = 0; srv < 2; srv++) {
			struct hs h;
			hs_setup(&h, f, "host/test;legs=2", 0);
			ck_assert_int_eq(acquire_id(f, SECPKG_CRED_OUTBOUND, clients[i], &h.cc),
					 SEC_E_OK);
			h.sc = srv == 0 ? strict : open;
			ck_assert_int_eq(hs_step(&h), SEC_E_OK);
			int should_pass = srv == 1 || i == 0;
			SECURITY_STATUS st = hs_step(&h);
			if (should_pass) {
				ck_assert_msg(st == SEC_E_OK, "client %d server %d: 0x%08x", i, srv,
					      (unsigned)st);
				SecPkgContext_NamesA n = {NULL};
				ck_assert_int_eq(f->QueryContextAttributesA(&h.s, SECPKG_ATTR_NAMES, &n),
						 SEC_E_OK);
				ck_assert_ptr_nonnull(n.sUserName);
				if (i == 0)
					ck_assert_str_eq(n.sUserName, "EXAMPLE\\alice");
				else if (i == 2)
					ck_assert_str_eq(n.sUserName, "EXAMPLE\\bob");
				ck_assert_int_eq(f->FreeContextBuffer(n.sUserName), SEC_E_OK);
				msg_both_ways(f, &h, 1);
			} else {
				ck_assert_msg(st == SEC_E_LOGON_DENIED, "client %d: 0x%08x", i,
					      (unsigned)st);
				ck_assert(!h.have_s); /* newctx untouched: asserted in step */
				ck_assert_uint_eq(stats().contexts, 1);
			}
			hs_free(&h);
			ck_assert_int_eq(f->FreeCredentialHandle(&h.cc), SEC_E_OK);
		}
	}
	/* Credential names. */
	CredHandle named;
	ck_assert_int_eq(acquire_id(f, SECPKG_CRED_OUTBOUND, &ok_id, &named), SEC_E_OK);
	SecPkgCredentials_NamesA cn = {NULL};
	ck_assert_int_eq(f->QueryCredentialsAttributesA(&named, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
	ck_assert_ptr_nonnull(cn.sUserName);
	ck_assert_ptr_nonnull(strstr(cn.sUserName, "alice"));
	ck_assert_int_eq(f->FreeContextBuffer(cn.sUserName), SEC_E_OK);
	ck_assert_int_eq(f->FreeCredentialHandle(&named), SEC_E_OK);
	ck_assert_int_eq(f->FreeCredentialHandle(&strict), SEC_E_OK);
	ck_assert_int_eq(f->FreeCredentialHandle(&open), SEC_E_OK);
	finish();
}
END_TEST

/* A tampered token fails with SEC_E_INVALID_TOKEN at the receiving leg: leg 2
 * (no acceptor context yet), leg 3 (client REJECTED), leg 4 (server REJECTED). */
START_TEST(test_sspi_tampered_token_is_invalid_and_rejects)
{
	const SecurityFunctionTableA *f = api(_i % 2);
	int recv_leg = 2 + _i / 2; /* 2, 3, 4 */
	struct hs nb, h;
	hs_complete(&nb, f);
	hs_init(&h, f, "host/test;legs=4", 0);
	hs_run_to(&h, 4, recv_leg - 1);
	unsigned char good[MAX_TOKEN];
	unsigned long good_len = h.tok_len;
	memcpy(good, h.tok, good_len);
	ck_assert_uint_gt(good_len, 0);
	int had_ctx = recv_leg % 2 == 1 ? h.have_c : h.have_s;
	uint64_t contexts = stats().contexts;
	/* Flip one bit in each of a few positions, and truncate. */
	size_t positions[3] = {0, good_len / 2, good_len - 1};
	for (int p = 0; p < 4 && !(had_ctx && p > 0); p++) {
		memcpy(h.tok, good, good_len);
		h.tok_len = good_len;
		if (p < 3)
			h.tok[positions[p]] ^= 0x04;
		else
			h.tok_len = good_len - 1;
		ck_assert_int_eq(hs_step(&h), SEC_E_INVALID_TOKEN);
		ck_assert_uint_eq(stats().contexts, contexts);
	}
	memcpy(h.tok, good, good_len);
	h.tok_len = good_len;
	if (had_ctx) {
		/* REJECTED: the good token comes too late. */
		ck_assert_int_eq(hs_step(&h), SEC_E_OUT_OF_SEQUENCE);
		CtxtHandle *r = recv_leg % 2 == 1 ? &h.c : &h.s;
		unsigned char d[4] = {0}, sig[SIG_LEN];
		SecBuffer mb[2] = {{sizeof d, SECBUFFER_DATA, d}, {SIG_LEN, SECBUFFER_TOKEN, sig}};
		SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
		ck_assert_int_eq(f->MakeSignature(r, 0, &md, 0), EXP_MSG_ON_PARTIAL);
	} else {
		/* No acceptor context was made: the good token still works. */
		hs_run(&h, 4);
		msg_both_ways(f, &h, 1);
	}
	hs_free(&h);
	msg_both_ways(f, &nb, 1);
	hs_free(&nb);
	finish();
}
END_TEST

/* --- allocation failure ---------------------------------------------------- */

#define OOM_MAX_K 2000

/* The lazy initialisation by a first call, then ACH itself, fail cleanly. */
START_TEST(test_sspi_acquire_oom_every_k)
{
	int lazy = _i; /* 1: the library is not initialised before each try */
	if (!lazy)
		ck_assert_int_eq(sspiasync_init(NULL), SEC_E_OK);
	uint64_t blocks = tl_live_blocks();
	struct sspiasync_statistics before = stats();
	int ok = 0;
	for (uint64_t k = 1; k <= OOM_MAX_K && !ok; k++) {
		CredHandle c;
		TimeStamp ts;
		handle_pat(&c);
		ts.QuadPart = PAT_TIME;
		sa__alloc_fail_at(k);
		SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND,
							       NULL, NULL, NULL, NULL, &c, &ts);
		sa__alloc_fail_at(0);
		if (st == SEC_E_OK) {
			ok = 1;
			ck_assert_uint_eq(stats().credentials, before.credentials + 1);
			ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
			break;
		}
		ck_assert_msg(st == SEC_E_INSUFFICIENT_MEMORY, "k=%llu: 0x%08x",
			      (unsigned long long)k, (unsigned)st);
		ck_assert(handle_is_pat(&c));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		if (!lazy) /* lazily: the library itself may stay initialised */
			ck_assert_uint_eq(tl_live_blocks(), blocks);
		struct sspiasync_statistics s = stats();
		ck_assert_uint_eq(s.credentials, before.credentials);
		ck_assert_uint_eq(s.contexts, before.contexts);
		if (lazy) {
			ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
			ck_assert_uint_eq(tl_live_blocks(), 0);
		}
	}
	ck_assert(ok);
	struct hs h;
	hs_init(&h, &direct_api, "host/test;legs=3", 0);
	hs_run(&h, 3);
	msg_both_ways(&direct_api, &h, 1);
	hs_free(&h);
	finish();
}
END_TEST

START_TEST(test_sspi_init_oom_every_k_and_twice)
{
	int ok = 0;
	for (uint64_t k = 1; k <= OOM_MAX_K && !ok; k++) {
		sa__alloc_fail_at(k);
		SECURITY_STATUS st = sspiasync_init(NULL);
		sa__alloc_fail_at(0);
		if (st == SEC_E_OK) {
			ok = 1;
			break;
		}
		ck_assert_int_eq(st, SEC_E_INSUFFICIENT_MEMORY);
		ck_assert_uint_eq(tl_live_blocks(), 0);
	}
	ck_assert(ok);
	ck_assert_int_eq(sspiasync_init(NULL), SEC_E_INVALID_PARAMETER);
	struct sspiasync_config cfg = {.max_credentials = 4, .max_contexts = 4};
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_INVALID_PARAMETER);
	CredHandle c = acquire(&direct_api, SECPKG_CRED_BOTH);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
	/* A first SSPI call initialises; init after it is refused too. */
	c = acquire(&direct_api, SECPKG_CRED_BOTH);
	ck_assert_int_eq(sspiasync_init(NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK); /* not initialised: still OK */
	finish();
}
END_TEST

START_TEST(test_sspi_table_limits_refuse_cleanly)
{
	struct sspiasync_config cfg = {.max_credentials = 2, .max_contexts = 2};
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	struct hs h;
	hs_init(&h, &direct_api, "host/test;legs=2", 0);
	CredHandle third;
	ck_assert_int_eq(acquire_id(&direct_api, SECPKG_CRED_BOTH, NULL, &third),
			 SEC_E_INSUFFICIENT_MEMORY);
	hs_run(&h, 2);
	/* A third context: the first leg fails, nothing is created. */
	struct hs x;
	hs_setup(&x, &direct_api, "host/test;legs=2", 0);
	x.cc = h.cc;
	x.sc = h.sc;
	ck_assert_int_eq(hs_step(&x), SEC_E_INSUFFICIENT_MEMORY);
	ck_assert_uint_eq(stats().contexts, 2);
	msg_both_ways(&direct_api, &h, 1);
	ck_assert_int_eq(DeleteSecurityContext(&h.s), SEC_E_OK);
	h.have_s = 0;
	ck_assert_int_eq(hs_step(&x), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&x.c), SEC_E_OK);
	hs_free(&h);
	ck_assert_int_eq(acquire_id(&direct_api, SECPKG_CRED_BOTH, NULL, &third), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&third), SEC_E_OK);
	finish();
}
END_TEST

/* Fail the k-th allocation of leg L, k = 1, 2, ... until the leg succeeds.
 * _i: bit 0 -> 2 or 3 legs, bit 1 -> ALLOCATE_MEMORY, bit 2 -> table. */
START_TEST(test_sspi_leg_oom_every_k)
{
	int legs = 2 + (_i & 1), alloc = (_i >> 1) & 1;
	const SecurityFunctionTableA *f = api((_i >> 2) & 1);
	char target[64];
	snprintf(target, sizeof target, "host/test;legs=%d", legs);
	for (int fail_leg = 1; fail_leg <= legs; fail_leg++) {
		struct hs nb, h;
		hs_complete(&nb, f);
		hs_init(&h, f, target, alloc);
		hs_run_to(&h, legs, fail_leg - 1);
		int ok = 0;
		for (uint64_t k = 1; k <= OOM_MAX_K; k++) {
			uint64_t blocks = tl_live_blocks();
			struct sspiasync_statistics before = stats();
			CtxtHandle c = h.c, s = h.s;
			sa__alloc_fail_at(k);
			SECURITY_STATUS st = hs_step(&h);
			sa__alloc_fail_at(0);
			if (st != SEC_E_INSUFFICIENT_MEMORY) {
				ck_assert_msg(st == leg_expected(legs, fail_leg),
					      "leg %d k=%llu: 0x%08x", fail_leg,
					      (unsigned long long)k, (unsigned)st);
				ok = 1;
				break;
			}
			/* hs_step asserted the outputs untouched; now the state. */
			ck_assert_msg(tl_live_blocks() == blocks, "leg %d k=%llu: %llu blocks, was %llu",
				      fail_leg, (unsigned long long)k,
				      (unsigned long long)tl_live_blocks(), (unsigned long long)blocks);
			struct sspiasync_statistics s2 = stats();
			ck_assert_uint_eq(s2.contexts, before.contexts);
			ck_assert_uint_eq(s2.credentials, before.credentials);
			ck_assert(handle_eq(&c, &h.c) && handle_eq(&s, &h.s));
			ck_assert_int_eq(h.leg, fail_leg - 1);
		}
		ck_assert(ok);
		hs_run(&h, legs);
		msg_both_ways(f, &h, 1);
		hs_free(&h);
		msg_both_ways(f, &nb, 1);
		hs_free(&nb);
	}
	/* The next handshake works. */
	struct hs h;
	hs_init(&h, f, target, alloc);
	hs_run(&h, legs);
	hs_free(&h);
	finish();
}
END_TEST

START_TEST(test_sspi_query_and_enumerate_oom_every_k)
{
	struct hs h;
	hs_complete(&h, &direct_api);
	for (int what = 0; what < 5; what++) {
		int ok = 0;
		for (uint64_t k = 1; k <= OOM_MAX_K && !ok; k++) {
			uint64_t blocks = tl_live_blocks();
			SecPkgContext_NamesA n = {(SEC_CHAR *)&h};
			SecPkgContext_PackageInfoA pi = {(PSecPkgInfoA)&h};
			SecPkgCredentials_NamesA cn = {(SEC_CHAR *)&h};
			unsigned long cnt = PAT_ATTR;
			PSecPkgInfoA info = (PSecPkgInfoA)&h;
			void *result = NULL;
			SECURITY_STATUS st;
			sa__alloc_fail_at(k);
			switch (what) {
			case 0:
				st = QueryContextAttributesA(&h.s, SECPKG_ATTR_NAMES, &n);
				result = n.sUserName;
				break;
			case 1:
				st = QueryContextAttributesA(&h.c, SECPKG_ATTR_PACKAGE_INFO, &pi);
				result = pi.PackageInfo;
				break;
			case 2:
				st = QueryCredentialsAttributesA(&h.cc, SECPKG_CRED_ATTR_NAMES, &cn);
				result = cn.sUserName;
				break;
			case 3:
				st = EnumerateSecurityPackagesA(&cnt, &info);
				result = info;
				break;
			default:
				st = QuerySecurityPackageInfoA(pkg_name, &info);
				result = info;
				break;
			}
			sa__alloc_fail_at(0);
			if (st == SEC_E_OK) {
				ok = 1;
				ck_assert_ptr_ne(result, (void *)&h);
				ck_assert_int_eq(FreeContextBuffer(result), SEC_E_OK);
				ck_assert_uint_eq(tl_live_blocks(), blocks);
				break;
			}
			ck_assert_msg(st == SEC_E_INSUFFICIENT_MEMORY, "what %d k=%llu: 0x%08x",
				      what, (unsigned long long)k, (unsigned)st);
			ck_assert_ptr_eq(result, (void *)&h);
			if (what == 3)
				ck_assert_uint_eq(cnt, PAT_ATTR);
			ck_assert_uint_eq(tl_live_blocks(), blocks);
		}
		ck_assert(ok);
	}
	msg_both_ways(&direct_api, &h, 1);
	hs_free(&h);
	finish();
}
END_TEST

/* Delete and free allocate nothing, so they work with allocation failing. */
START_TEST(test_sspi_delete_and_free_never_allocate)
{
	const SecurityFunctionTableA *f = api(_i);
	struct hs h, p;
	hs_init(&h, f, "host/test;legs=2", 0);
	hs_run(&h, 2);
	hs_init(&p, f, "host/test;legs=3;fail=3", 0);
	hs_run_to(&p, 3, 2);
	ck_assert_int_eq(hs_step(&p), SEC_E_INTERNAL_ERROR); /* p.c REJECTED, p.s COMPLETE */
	struct hs q;
	hs_init(&q, f, "host/test;legs=4", 0);
	hs_run_to(&q, 4, 2); /* both PARTIAL */

	CtxtHandle *ctxs[6] = {&h.c, &h.s, &p.c, &p.s, &q.c, &q.s};
	CredHandle *creds[6] = {&h.cc, &h.sc, &p.cc, &p.sc, &q.cc, &q.sc};
	/* Free the credentials first (contexts still use them), then delete. */
	for (int i = 0; i < 6; i++) {
		uint64_t calls = alloc_calls();
		sa__alloc_fail_at(1);
		ck_assert_int_eq(f->FreeCredentialHandle(creds[i]), SEC_E_OK);
		sa__alloc_fail_at(0);
		ck_assert_uint_eq(alloc_calls(), calls);
	}
	h.own_creds = p.own_creds = q.own_creds = 0;
	for (int i = 0; i < 6; i++) {
		uint64_t calls = alloc_calls();
		sa__alloc_fail_at(1);
		ck_assert_int_eq(f->DeleteSecurityContext(ctxs[i]), SEC_E_OK);
		sa__alloc_fail_at(0);
		ck_assert_uint_eq(alloc_calls(), calls);
	}
	h.have_c = h.have_s = p.have_c = p.have_s = q.have_c = q.have_s = 0;
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
	/* Rejections allocate nothing either. */
	uint64_t calls = alloc_calls();
	ck_assert_int_eq(f->DeleteSecurityContext(&h.c), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(f->FreeCredentialHandle(&h.cc), SEC_E_INVALID_HANDLE);
	ck_assert_uint_eq(alloc_calls(), calls);
	/* Free a credential with no context. */
	CredHandle c = acquire(f, SECPKG_CRED_BOTH);
	calls = alloc_calls();
	ck_assert_int_eq(f->FreeCredentialHandle(&c), SEC_E_OK);
	ck_assert_uint_eq(alloc_calls(), calls);
	finish();
}
END_TEST

/* --- output room (issue 19, item 10) ---------------------------------------------- */

/* An output token buffer that claims 4 GiB - 1 bytes. */
#define HUGE_CB 0xFFFFFFFFul
/* The most one leg asks of the allocator at once, the library's tables
 * grown: the room for the token, at most cbMaxToken bytes (plus a context
 * buffer's 16-byte header with ISC_REQ_ALLOCATE_MEMORY); the library's and
 * the package's objects for a context are smaller. */
#define LEG_ALLOC_MAX (MAX_TOKEN + 16)

enum room_mode { ROOM_SYNC, ROOM_ASYNC_RUN, ROOM_ASYNC_POOL };

static void room_done(SspiAsyncContext *h, void *sem)
{
	(void)h;
	sem_post(sem);
}

/* Wait (bounded) until @sem is posted. */
static void room_wait(sem_t *sem)
{
	struct timespec dl;
	ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &dl), 0);
	dl.tv_sec += 60;
	int rc;
	while ((rc = sem_timedwait(sem, &dl)) != 0 && errno == EINTR)
		;
	ck_assert_int_eq(rc, 0);
}

/*
 * One leg of the client (@client) or the server, synchronous or through the
 * async call (completed by sspiasync_run(), or by the pool with a callback
 * posting @sem), with an output token buffer that claims @cb bytes at @out.
 * Returns the leg's status; *out_len is the buffer's cbBuffer afterwards.
 */
static SECURITY_STATUS room_leg(enum room_mode mode, sem_t *sem, int client, CredHandle *cred,
				CtxtHandle *ctx, int have, char *target, unsigned char *in,
				unsigned long in_len, unsigned char *out, unsigned long cb,
				unsigned long *out_len)
{
	SecBuffer ob = {cb, SECBUFFER_TOKEN, out};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	SecBuffer ib = {in_len, SECBUFFER_TOKEN, in};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	PSecBufferDesc pin = in_len != 0 ? &id : NULL;
	unsigned long attrs = PAT_ATTR;
	TimeStamp ts;
	SECURITY_STATUS st;
	if (mode == ROOM_SYNC) {
		st = client ? InitializeSecurityContextA(cred, have ? ctx : NULL, target, 0, 0,
							 SECURITY_NATIVE_DREP, pin, 0, ctx, &od,
							 &attrs, &ts)
			    : AcceptSecurityContext(cred, have ? ctx : NULL, pin, 0,
						    SECURITY_NATIVE_DREP, ctx, &od, &attrs, &ts);
	} else {
		SspiAsyncContext *ac = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(ac);
		/* The async context (its room for a call's job, a fixed size) is
		 * not the leg's: the largest allocation is counted from here. */
		(void)sa__alloc_largest_reset();
		if (mode == ROOM_ASYNC_POOL)
			ck_assert_int_eq(SspiSetAsyncNotifyCallback(ac, room_done, sem), SEC_E_OK);
		st = client ? SspiInitializeSecurityContextAsyncA(ac, cred, have ? ctx : NULL, target,
								  0, 0, SECURITY_NATIVE_DREP, pin,
								  0, ctx, &od, &attrs, &ts)
			    : SspiAcceptSecurityContextAsync(ac, cred, have ? ctx : NULL, pin, 0,
							     SECURITY_NATIVE_DREP, ctx, &od,
							     &attrs, &ts);
		ck_assert_int_eq(st, SEC_E_OK);
		if (mode == ROOM_ASYNC_RUN)
			ck_assert_uint_eq(sspiasync_run(0), 1);
		else
			room_wait(sem);
		st = SspiGetAsyncCallStatus(ac);
		SspiFreeAsyncContext(ac);
	}
	*out_len = ob.cbBuffer;
	return st;
}

/*
 * An output token buffer's cbBuffer no longer sizes an allocation: with
 * 0xFFFFFFFF (over a real buffer of cbMaxToken bytes and a guard) every leg
 * of a 4-leg handshake succeeds, writes its token and nothing past it, and
 * the library asks for no more than cbMaxToken (+ a header) at once; it
 * asked for 4 GiB.  A capacity below the token still reaches the package
 * (SEC_E_BUFFER_TOO_SMALL, nothing written).  _i: synchronous; async in
 * no-thread mode (sspiasync_run); async on a pool of one worker (its
 * scratch room).  Round 0 (cbBuffer = cbMaxToken) grows the tables first.
 */
START_TEST(test_sspi_leg_room_is_bounded_by_max_token_when_cbbuffer_is_huge)
{
	enum room_mode mode = (enum room_mode)_i;
	sem_t sem;
	ck_assert_int_eq(sem_init(&sem, 0, 0), 0);
	if (mode != ROOM_SYNC) {
		struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
		cfg.threads = mode == ROOM_ASYNC_RUN ? 0 : 1;
		ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	}
	const SecurityFunctionTableA *f = api(0);
	CredHandle cc = acquire(f, SECPKG_CRED_OUTBOUND), sc = acquire(f, SECPKG_CRED_INBOUND);
	char target[] = "host/test;legs=4";
	enum { GUARD = 64 };
	unsigned char out[MAX_TOKEN + GUARD], in[MAX_TOKEN];
	for (int round = 0; round < 2; round++) {
		unsigned long cb = round == 0 ? MAX_TOKEN : HUGE_CB;
		CtxtHandle c, s;
		handle_pat(&c);
		handle_pat(&s);
		unsigned long n, in_len = 0;
		if (round == 1) {
			memset(out, PAT, sizeof out);
			ck_assert_int_eq(room_leg(mode, &sem, 1, &cc, &c, 0, target, NULL, 0, out, 1, &n),
					 EXP_LEG_OUT_TOO_SMALL);
			ck_assert_uint_eq(n, 1);
			ck_assert(bytes_are(out, sizeof out, PAT));
			ck_assert(handle_is_pat(&c));
		}
		for (int leg = 1; leg <= 4; leg++) {
			int client = leg % 2 == 1;
			memset(out, PAT, sizeof out);
			(void)sa__alloc_largest_reset();
			SECURITY_STATUS st = room_leg(mode, &sem, client, client ? &cc : &sc,
						      client ? &c : &s, leg > 2, target, in, in_len,
						      out, cb, &n);
			uint64_t largest = sa__alloc_largest_reset();
			ck_assert_int_eq(st, leg_expected(4, leg));
			ck_assert_uint_le(n, MAX_TOKEN);
			if (leg < 4)
				ck_assert_uint_gt(n, 0);
			else
				ck_assert_uint_eq(n, 0);
			ck_assert(bytes_are(out + n, sizeof out - n, PAT)); /* nothing past the token */
			if (round == 1)
				ck_assert_msg(largest <= LEG_ALLOC_MAX,
					      "leg %d: the library asked for %llu bytes at once "
					      "(cbBuffer 0x%lx, cbMaxToken %d)",
					      leg, (unsigned long long)largest, cb, MAX_TOKEN);
			memcpy(in, out, n);
			in_len = n;
		}
		ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_OK);
		ck_assert_int_eq(DeleteSecurityContext(&s), SEC_E_OK);
	}
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	sem_destroy(&sem);
	finish();
}
END_TEST

#if RLIMIT_AS_USABLE
/* The child of the test below: 0, or what went wrong. */
enum { ROOM_CHILD_OK, ROOM_CHILD_ENOMEM, ROOM_CHILD_WRONG, ROOM_CHILD_CONTROL, ROOM_CHILD_SETUP };

static int room_child(void)
{
	/* 1 GiB of address space beyond what the process maps already. */
	FILE *fp = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (fp == NULL || fscanf(fp, "%lu", &pages) != 1)
		return ROOM_CHILD_SETUP;
	fclose(fp);
	rlim_t lim = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
	struct rlimit rl = {lim, lim};
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = 0;
	CredHandle cc;
	TimeStamp ts;
	if (setrlimit(RLIMIT_AS, &rl) != 0 || sspiasync_init(&cfg) != SEC_E_OK ||
	    AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
				      &cc, &ts) != SEC_E_OK)
		return ROOM_CHILD_SETUP;
	char target[] = "host/test;legs=3";
	unsigned char out[MAX_TOKEN];
	for (int huge = 0; huge < 2; huge++) {
		SecBuffer ob = {huge ? HUGE_CB : MAX_TOKEN, SECBUFFER_TOKEN, out};
		SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
		CtxtHandle c;
		unsigned long attrs;
		SECURITY_STATUS st = InitializeSecurityContextA(&cc, NULL, target, 0, 0,
								SECURITY_NATIVE_DREP, NULL, 0, &c,
								&od, &attrs, &ts);
		if (!huge && st != SEC_I_CONTINUE_NEEDED)
			return ROOM_CHILD_CONTROL;
		if (st == SEC_E_INSUFFICIENT_MEMORY)
			return ROOM_CHILD_ENOMEM;
		if (st != SEC_I_CONTINUE_NEEDED || ob.cbBuffer == 0 || ob.cbBuffer > MAX_TOKEN)
			return ROOM_CHILD_WRONG;
		if (DeleteSecurityContext(&c) != SEC_E_OK)
			return ROOM_CHILD_WRONG;
	}
	return ROOM_CHILD_OK;
}
#endif

/*
 * The symptom: under an address-space limit of 1 GiB (beyond what the
 * process maps), a first ISC leg whose output buffer claims 0xFFFFFFFF bytes
 * writes its 75-byte token; it failed SEC_E_INSUFFICIENT_MEMORY.  In a
 * child process; skipped where RLIMIT_AS is unusable (ASan, TSan, Valgrind;
 * the test above holds the same promise there).
 */
START_TEST(test_sspi_leg_succeeds_under_1gib_address_limit_when_cbbuffer_is_huge)
{
#if RLIMIT_AS_USABLE
	if (!ON_VALGRIND()) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(room_child());
		int ws;
		ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
		ck_assert_msg(WIFEXITED(ws), "the child did not exit (status 0x%x)", (unsigned)ws);
		static const char *const why[] = {
			[ROOM_CHILD_ENOMEM] = "SEC_E_INSUFFICIENT_MEMORY with cbBuffer 0xFFFFFFFF",
			[ROOM_CHILD_WRONG] = "a wrong status or token with cbBuffer 0xFFFFFFFF",
			[ROOM_CHILD_CONTROL] = "the control leg (cbBuffer = cbMaxToken) failed",
			[ROOM_CHILD_SETUP] = "setup (limit, init, credential) failed",
		};
		int code = WEXITSTATUS(ws);
		ck_assert_msg(code == ROOM_CHILD_OK, "the child: %s",
			      code > 0 && code <= ROOM_CHILD_SETUP ? why[code] : "unknown exit");
	}
#endif
	finish();
}
END_TEST

/* --- shutdown ---------------------------------------------------------------- */

START_TEST(test_sspi_shutdown_invalidates_everything_then_reinit)
{
	const SecurityFunctionTableA *f = api(_i);
	struct hs a, b;
	hs_complete(&a, f);
	hs_init(&b, f, "host/test;legs=3", 0);
	hs_run_to(&b, 3, 2);
	unsigned char tok[MAX_TOKEN];
	unsigned long tok_len = b.tok_len;
	memcpy(tok, b.tok, tok_len);
	PSecPkgInfoA info; /* a buffer never given back: shutdown frees it */
	unsigned long n;
	ck_assert_int_eq(f->EnumerateSecurityPackagesA(&n, &info), SEC_E_OK);
	SecHandle ctxs[4] = {a.c, a.s, b.c, b.s};
	SecHandle creds[4] = {a.cc, a.sc, b.cc, b.sc};

	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);

	/* Every old handle is invalid (the calls initialise the library again). */
	CredHandle fresh = acquire(f, SECPKG_CRED_BOTH);
	for (int i = 0; i < 4; i++) {
		ck_assert(!handle_eq(&fresh, &creds[i]));
		probe_bad_ctx(f, ctxs[i], &fresh);
		probe_bad_cred(f, creds[i], tok, tok_len);
	}
	ck_assert_int_eq(f->FreeCredentialHandle(&fresh), SEC_E_OK);
	s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);

	/* A new handshake works and issues handles never seen before. */
	struct hs c;
	hs_init(&c, f, "host/test;legs=3", 0);
	hs_run(&c, 3);
	for (int i = 0; i < 4; i++) {
		ck_assert(!handle_eq(&c.c, &ctxs[i]) && !handle_eq(&c.s, &ctxs[i]));
		ck_assert(!handle_eq(&c.cc, &creds[i]) && !handle_eq(&c.sc, &creds[i]));
	}
	msg_both_ways(f, &c, 1);
	ck_assert_uint_eq(stats().contexts, 2);
	hs_free(&c);
	s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
	/* Shutdown and explicit re-init. */
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
	ck_assert_int_eq(sspiasync_init(NULL), SEC_E_OK);
	hs_init(&c, f, "host/test;legs=2", 1);
	hs_run(&c, 2);
	msg_both_ways(f, &c, 2);
	hs_free(&c);
	finish();
}
END_TEST

/* ------------------------------------------------------------------------- */

/* --- trace ----------------------------------------------------------------- */

/* SSPIASYNC_TRACE=1 prints every step of the lifecycle table, in order:
 * capture stderr around a 3-leg handshake and its deletes. */
START_TEST(test_sspi_trace_prints_every_transition)
{
	ck_assert_int_eq(setenv("SSPIASYNC_TRACE", "1", 1), 0);
	char path[] = "/tmp/sspiasync_trace_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);

	struct hs h;
	hs_init(&h, &direct_api, "host/test;legs=3", 0); /* the runtime reads the variable now */
	hs_run(&h, 3);
	CtxtHandle c = h.c;
	hs_free(&h); /* deletes the client's context, then the server's */
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_INVALID_HANDLE); /* rejected: no step */

	fflush(stderr);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	unsetenv("SSPIASYNC_TRACE");
	char buf[2048] = "";
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	close(fd);
	unlink(path);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	const char *want =
		"sspiasync: context 1 NEW --LEG_CONTINUE--> PARTIAL SEC_I_CONTINUE_NEEDED\n"
		"sspiasync: context 2 NEW --LEG_OK--> COMPLETE SEC_E_OK\n"
		"sspiasync: context 1 PARTIAL --ADMIT_LEG--> PARTIAL SEC_E_OK\n"
		"sspiasync: context 1 PARTIAL --LEG_OK--> COMPLETE SEC_E_OK\n"
		"sspiasync: context 1 COMPLETE --DELETE--> DELETING SEC_E_OK\n"
		"sspiasync: context 1 DELETING --TEARDOWN_DONE--> INVALID SEC_E_OK\n"
		"sspiasync: context 2 COMPLETE --DELETE--> DELETING SEC_E_OK\n"
		"sspiasync: context 2 DELETING --TEARDOWN_DONE--> INVALID SEC_E_OK\n";
	ck_assert_str_eq(buf, want);
	finish();
}
END_TEST

static Suite *sspi_sync_suite(void)
{
	Suite *s = suite_create("sspi_sync");
	TCase *tc;

	tc = tcase(s, "handshake", 60);
	tcase_add_loop_test(tc, test_sspi_handshake_2_and_3_legs_with_messages, 0, 2);
	tcase_add_loop_test(tc, test_sspi_handshake_every_leg_count, 0, 7);
	tcase_add_test(tc, test_sspi_handshake_with_latency_and_options_order);
	tcase_add_test(tc, test_sspi_noop_mode_continues_forever);
	tcase_add_test(tc, test_sspi_table_shape);

	tc = tcase(s, "attributes", 60);
	tcase_add_test(tc, test_sspi_enumerate_and_query_packages);
	tcase_add_test(tc, test_sspi_package_name_compares_exactly);
	tcase_add_loop_test(tc, test_sspi_query_context_attributes_on_complete_context, 0, 2);

	tc = tcase(s, "arguments", 60);
	tcase_add_test(tc, test_sspi_acquire_rejects_bad_arguments_output_untouched);
	tcase_add_test(tc, test_sspi_leg_structural_errors_change_nothing);
	tcase_add_loop_test(tc, test_sspi_message_calls_reject_malformed_buffers, 0, 2);
	tcase_add_test(tc, test_sspi_arguments_checked_before_handles);

	/* _i 0, 1: the test package; 2, 3: "NTLM"; 4, 5: "Kerberos"; 6, 7:
	 * "Negotiate" (pkg_cases). */
	tc = tcase(s, "stale", 300);
	tcase_add_loop_test(tc, test_sspi_stale_handles_are_invalid, 0, 2);
	tcase_add_loop_test(tc, test_sspi_zeroed_invalidated_forged_handles_are_invalid, 0, 2);
	tcase_add_loop_test(tc, test_sspi_every_bit_flip_is_invalid, 0, 2);
	tcase_add_loop_test(tc, test_sspi_wrong_kind_handles_are_invalid, 0, 2);

	tc = tcase(s, "stale_ntlm", 300);
	tcase_add_checked_fixture(tc, ntlm_users_setup, ntlm_users_teardown);
	tcase_add_loop_test(tc, test_sspi_stale_handles_are_invalid, 2, 4);
	tcase_add_loop_test(tc, test_sspi_zeroed_invalidated_forged_handles_are_invalid, 2, 4);
	tcase_add_loop_test(tc, test_sspi_every_bit_flip_is_invalid, 2, 4);
	tcase_add_loop_test(tc, test_sspi_wrong_kind_handles_are_invalid, 2, 4);

	tc = tcase(s, "stale_krb5", 300);
	tcase_add_checked_fixture(tc, krb5_realm_setup, realm_teardown);
	tcase_add_loop_test(tc, test_sspi_stale_handles_are_invalid, 4, 6);
	tcase_add_loop_test(tc, test_sspi_zeroed_invalidated_forged_handles_are_invalid, 4, 6);
	tcase_add_loop_test(tc, test_sspi_every_bit_flip_is_invalid, 4, 6);
	tcase_add_loop_test(tc, test_sspi_wrong_kind_handles_are_invalid, 4, 6);

	tc = tcase(s, "stale_nego", 300);
	tcase_add_checked_fixture(tc, nego_realm_setup, nego_realm_teardown);
	tcase_add_loop_test(tc, test_sspi_stale_handles_are_invalid, 6, 8);
	tcase_add_loop_test(tc, test_sspi_zeroed_invalidated_forged_handles_are_invalid, 6, 8);
	tcase_add_loop_test(tc, test_sspi_every_bit_flip_is_invalid, 6, 8);
	tcase_add_loop_test(tc, test_sspi_wrong_kind_handles_are_invalid, 6, 8);

	tc = tcase(s, "lifecycle", 60);
	tcase_add_loop_test(tc, test_sspi_double_delete_is_invalid_handle, 0, 2);
	tcase_add_loop_test(tc, test_sspi_leg_after_completion_is_out_of_sequence, 0, 2);
	tcase_add_loop_test(tc, test_sspi_free_credentials_while_contexts_live, 0, 2);
	tcase_add_test(tc, test_sspi_stats_count_credentials_and_contexts);
	tcase_add_loop_test(tc, test_sspi_injected_failure_at_each_leg, 0, 12);
	tcase_add_loop_test(tc, test_sspi_explicit_credentials_and_wrong_password, 0, 2);
	tcase_add_loop_test(tc, test_sspi_tampered_token_is_invalid_and_rejects, 0, 6);

	tc = tcase(s, "oom", 300);
	tcase_add_loop_test(tc, test_sspi_acquire_oom_every_k, 0, 2);
	tcase_add_test(tc, test_sspi_init_oom_every_k_and_twice);
	tcase_add_test(tc, test_sspi_table_limits_refuse_cleanly);
	tcase_add_loop_test(tc, test_sspi_leg_oom_every_k, 0, 8);
	tcase_add_test(tc, test_sspi_query_and_enumerate_oom_every_k);
	tcase_add_loop_test(tc, test_sspi_delete_and_free_never_allocate, 0, 2);
	tcase_add_loop_test(tc, test_sspi_leg_room_is_bounded_by_max_token_when_cbbuffer_is_huge, 0,
			    3);
	tcase_add_test(tc, test_sspi_leg_succeeds_under_1gib_address_limit_when_cbbuffer_is_huge);

	tc = tcase(s, "trace", 60);
	tcase_add_test(tc, test_sspi_trace_prints_every_transition);

	tc = tcase(s, "shutdown", 60);
	tcase_add_loop_test(tc, test_sspi_shutdown_invalidates_everything_then_reinit, 0, 2);
	return s;
}

int main(void)
{
	return tl_run_suite(sspi_sync_suite());
}
