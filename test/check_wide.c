/*
 * test/check_wide.c - the W (UTF-16) forms, Windows' identity forms and the
 * dispatch tables: the UTF-16 <-> UTF-8 conversions (src/util/utf16.c),
 * every W call against its A twin (src/sspi/wide.c), every
 * SEC_WINNT_AUTH_IDENTITY form, flag and PackageList (src/sspi/identity.c)
 * through the test package, NTLM and Negotiate, sync and async, the
 * functions not implemented yet and both tables (src/sspi/tables.c), and at
 * compile time the unsuffixed names and the layouts identity.c relies on.
 * Expected statuses: sspi.h ("The W forms of the calls above", "Functions
 * this library does not implement yet") and README "W forms and identities".
 * Async calls run in no-thread mode (sspiasync_run), so nothing here sleeps
 * or waits on another thread.  Every test ends with sspiasync_shutdown() and
 * 0 live blocks.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "sspi/sspi_int.h" /* sa__identity_copy, for what reaches the packages */
#include "sspi_testlib.h"
#include "testlib.h"
#include "util/utf16.h"

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- compile time: the header under this build (no UNICODE) ------------------ */

#ifdef UNICODE
#error "check_wide.c asserts the A mapping of the unsuffixed names: build it without UNICODE"
#endif

#define SAME_TYPE(a, b) __builtin_types_compatible_p(a, b)
#define FN_TYPE(f) __typeof__(&(f))

/* SEC_WCHAR is one 16-bit UTF-16 unit, and u"..." literals are its strings. */
_Static_assert(sizeof(SEC_WCHAR) == 2, "SEC_WCHAR is 16 bits, as Windows' WCHAR");
_Static_assert(SAME_TYPE(SEC_WCHAR, uint16_t), "SEC_WCHAR is uint16_t in C");
_Static_assert(SAME_TYPE(__typeof__(u"x"[0]), SEC_WCHAR), "u\"...\" is a SEC_WCHAR string");
_Static_assert(SAME_TYPE(WCHAR, SEC_WCHAR) && SAME_TYPE(LPWSTR, SEC_WCHAR *), "WCHAR, LPWSTR");
_Static_assert(SAME_TYPE(unsigned short, SEC_WCHAR), "the _W identity's unsigned short * holds u\"\"");

/* Without UNICODE, SEC_TEXT is a narrow string and the unsuffixed names are the A forms. */
_Static_assert(SAME_TYPE(__typeof__(SEC_TEXT("x")[0]), char), "SEC_TEXT without UNICODE");
_Static_assert(SAME_TYPE(SECURITY_PSTR, SEC_CHAR *), "SECURITY_PSTR without UNICODE");
_Static_assert(SAME_TYPE(SecPkgInfo, SecPkgInfoA), "SecPkgInfo");
_Static_assert(SAME_TYPE(PSecPkgInfo, PSecPkgInfoA), "PSecPkgInfo");
_Static_assert(!SAME_TYPE(SecPkgInfoA, SecPkgInfoW), "the A and W structs are distinct types");
_Static_assert(SAME_TYPE(SecPkgCredentials_Names, SecPkgCredentials_NamesA), "");
_Static_assert(SAME_TYPE(SecPkgCredentials_SSIProvider, SecPkgCredentials_SSIProviderA), "");
_Static_assert(SAME_TYPE(SecPkgContext_Names, SecPkgContext_NamesA), "");
_Static_assert(SAME_TYPE(SecPkgContext_KeyInfo, SecPkgContext_KeyInfoA), "");
_Static_assert(SAME_TYPE(SecPkgContext_Authority, SecPkgContext_AuthorityA), "");
_Static_assert(SAME_TYPE(SecPkgContext_ProtoInfo, SecPkgContext_ProtoInfoA), "");
_Static_assert(SAME_TYPE(SecPkgContext_PackageInfo, SecPkgContext_PackageInfoA), "");
_Static_assert(SAME_TYPE(SecPkgContext_NegotiationInfo, SecPkgContext_NegotiationInfoA), "");
_Static_assert(SAME_TYPE(SecPkgContext_NativeNames, SecPkgContext_NativeNamesA), "");
_Static_assert(SAME_TYPE(SecPkgContext_CredentialName, SecPkgContext_CredentialNameA), "");
_Static_assert(SAME_TYPE(SEC_WINNT_AUTH_IDENTITY, SEC_WINNT_AUTH_IDENTITY_A), "");
_Static_assert(SAME_TYPE(PSEC_WINNT_AUTH_IDENTITY, PSEC_WINNT_AUTH_IDENTITY_A), "");
_Static_assert(SAME_TYPE(struct _SEC_WINNT_AUTH_IDENTITY, SEC_WINNT_AUTH_IDENTITY_A), "");
_Static_assert(SAME_TYPE(SEC_WINNT_AUTH_IDENTITY_EX, SEC_WINNT_AUTH_IDENTITY_EXA), "");
_Static_assert(SAME_TYPE(PSEC_WINNT_AUTH_IDENTITY_EX, PSEC_WINNT_AUTH_IDENTITY_EXA), "");
_Static_assert(SAME_TYPE(SecurityFunctionTable, SecurityFunctionTableA), "");
_Static_assert(SAME_TYPE(PSecurityFunctionTable, PSecurityFunctionTableA), "");
_Static_assert(SAME_TYPE(ENUMERATE_SECURITY_PACKAGES_FN, ENUMERATE_SECURITY_PACKAGES_FN_A), "");
_Static_assert(SAME_TYPE(QUERY_CREDENTIALS_ATTRIBUTES_FN, QUERY_CREDENTIALS_ATTRIBUTES_FN_A), "");
_Static_assert(SAME_TYPE(ACQUIRE_CREDENTIALS_HANDLE_FN, ACQUIRE_CREDENTIALS_HANDLE_FN_A), "");
_Static_assert(SAME_TYPE(ADD_CREDENTIALS_FN, ADD_CREDENTIALS_FN_A), "");
_Static_assert(SAME_TYPE(INITIALIZE_SECURITY_CONTEXT_FN, INITIALIZE_SECURITY_CONTEXT_FN_A), "");
_Static_assert(SAME_TYPE(QUERY_CONTEXT_ATTRIBUTES_FN, QUERY_CONTEXT_ATTRIBUTES_FN_A), "");
_Static_assert(SAME_TYPE(QUERY_CONTEXT_ATTRIBUTES_EX_FN, QUERY_CONTEXT_ATTRIBUTES_EX_FN_A), "");
_Static_assert(SAME_TYPE(SET_CONTEXT_ATTRIBUTES_FN, SET_CONTEXT_ATTRIBUTES_FN_A), "");
_Static_assert(SAME_TYPE(QUERY_CREDENTIALS_ATTRIBUTES_EX_FN, QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A), "");
_Static_assert(SAME_TYPE(SET_CREDENTIALS_ATTRIBUTES_FN, SET_CREDENTIALS_ATTRIBUTES_FN_A), "");
_Static_assert(SAME_TYPE(QUERY_SECURITY_PACKAGE_INFO_FN, QUERY_SECURITY_PACKAGE_INFO_FN_A), "");
_Static_assert(SAME_TYPE(IMPORT_SECURITY_CONTEXT_FN, IMPORT_SECURITY_CONTEXT_FN_A), "");
_Static_assert(SAME_TYPE(CHANGE_PASSWORD_FN, CHANGE_PASSWORD_FN_A), "");
_Static_assert(SAME_TYPE(INIT_SECURITY_INTERFACE, INIT_SECURITY_INTERFACE_A), "");
/* The unsuffixed functions have the A prototypes (A and W types differ). */
_Static_assert(!SAME_TYPE(ACQUIRE_CREDENTIALS_HANDLE_FN_A, ACQUIRE_CREDENTIALS_HANDLE_FN_W), "");
_Static_assert(SAME_TYPE(FN_TYPE(AcquireCredentialsHandle), ACQUIRE_CREDENTIALS_HANDLE_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(AddCredentials), ADD_CREDENTIALS_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(InitializeSecurityContext), INITIALIZE_SECURITY_CONTEXT_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(QueryContextAttributes), QUERY_CONTEXT_ATTRIBUTES_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(QueryContextAttributesEx), QUERY_CONTEXT_ATTRIBUTES_EX_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(SetContextAttributes), SET_CONTEXT_ATTRIBUTES_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(QueryCredentialsAttributes), QUERY_CREDENTIALS_ATTRIBUTES_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(QueryCredentialsAttributesEx),
			 QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(SetCredentialsAttributes), SET_CREDENTIALS_ATTRIBUTES_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(EnumerateSecurityPackages), ENUMERATE_SECURITY_PACKAGES_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(QuerySecurityPackageInfo), QUERY_SECURITY_PACKAGE_INFO_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(ImportSecurityContext), IMPORT_SECURITY_CONTEXT_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(ChangeAccountPassword), CHANGE_PASSWORD_FN_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(InitSecurityInterface), INIT_SECURITY_INTERFACE_A), "");
_Static_assert(SAME_TYPE(FN_TYPE(SspiAcquireCredentialsHandleAsync),
			 FN_TYPE(SspiAcquireCredentialsHandleAsyncA)), "");
_Static_assert(!SAME_TYPE(FN_TYPE(SspiAcquireCredentialsHandleAsyncA),
			  FN_TYPE(SspiAcquireCredentialsHandleAsyncW)), "");
_Static_assert(SAME_TYPE(FN_TYPE(SspiInitializeSecurityContextAsync),
			 FN_TYPE(SspiInitializeSecurityContextAsyncA)), "");
/* Every W function has its slot's W type. */
_Static_assert(SAME_TYPE(FN_TYPE(AcquireCredentialsHandleW), ACQUIRE_CREDENTIALS_HANDLE_FN_W), "");
_Static_assert(SAME_TYPE(FN_TYPE(InitializeSecurityContextW), INITIALIZE_SECURITY_CONTEXT_FN_W), "");
_Static_assert(SAME_TYPE(FN_TYPE(QuerySecurityPackageInfoW), QUERY_SECURITY_PACKAGE_INFO_FN_W), "");
_Static_assert(SAME_TYPE(FN_TYPE(InitSecurityInterfaceW), INIT_SECURITY_INTERFACE_W), "");

/* The layouts identity.c reads with one struct type for both forms. */
#define SAME_FIELD(A, B, f) \
	(offsetof(A, f) == offsetof(B, f) && sizeof(((A *)0)->f) == sizeof(((B *)0)->f))
#define LEGACY_SAME(f) SAME_FIELD(SEC_WINNT_AUTH_IDENTITY_A, SEC_WINNT_AUTH_IDENTITY_W, f)
#define EX_SAME(f) SAME_FIELD(SEC_WINNT_AUTH_IDENTITY_EXA, SEC_WINNT_AUTH_IDENTITY_EXW, f)
_Static_assert(sizeof(SEC_WINNT_AUTH_IDENTITY_A) == sizeof(SEC_WINNT_AUTH_IDENTITY_W), "A/W size");
_Static_assert(LEGACY_SAME(User) && LEGACY_SAME(UserLength), "A/W User");
_Static_assert(LEGACY_SAME(Domain) && LEGACY_SAME(DomainLength), "A/W Domain");
_Static_assert(LEGACY_SAME(Password) && LEGACY_SAME(PasswordLength), "A/W Password");
_Static_assert(LEGACY_SAME(Flags), "A/W Flags");
_Static_assert(sizeof(SEC_WINNT_AUTH_IDENTITY_EXA) == sizeof(SEC_WINNT_AUTH_IDENTITY_EXW), "EX size");
_Static_assert(EX_SAME(Version) && EX_SAME(Length), "EXA/EXW Version, Length");
_Static_assert(EX_SAME(User) && EX_SAME(UserLength), "EXA/EXW User");
_Static_assert(EX_SAME(Domain) && EX_SAME(DomainLength), "EXA/EXW Domain");
_Static_assert(EX_SAME(Password) && EX_SAME(PasswordLength), "EXA/EXW Password");
_Static_assert(EX_SAME(Flags), "EXA/EXW Flags");
_Static_assert(EX_SAME(PackageList) && EX_SAME(PackageListLength), "EXA/EXW PackageList");
/* identity.c tells the layouts apart by their first word: the legacy User
 * pointer, or the EX/EX2 Version, read as one unsigned long. */
_Static_assert(offsetof(SEC_WINNT_AUTH_IDENTITY_A, User) == 0, "legacy: User first");
_Static_assert(offsetof(SEC_WINNT_AUTH_IDENTITY_EXA, Version) == 0, "EX: Version first");
_Static_assert(offsetof(SEC_WINNT_AUTH_IDENTITY_EX2, Version) == 0, "EX2: Version first");
_Static_assert(sizeof(unsigned long) == sizeof(unsigned char *), "the first word is one word");
_Static_assert(sizeof(SEC_WINNT_AUTH_IDENTITY_EX2) >= sizeof(unsigned long), "EX2 has a first word");
_Static_assert(SEC_WINNT_AUTH_IDENTITY_VERSION == 0x200 && SEC_WINNT_AUTH_IDENTITY_VERSION_2 == 0x201,
	       "Microsoft's versions");

/* Windows' slots: slot i (after dwVersion) at word i + 1, in both tables. */
#define SLOT_AT(T, f, i) (offsetof(T, f) == ((size_t)(i) + 1) * sizeof(void *))
#define SLOTS_AT(fa, fw, i) \
	(SLOT_AT(SecurityFunctionTableA, fa, i) && SLOT_AT(SecurityFunctionTableW, fw, i))
_Static_assert(SLOTS_AT(EnumerateSecurityPackagesA, EnumerateSecurityPackagesW, 0), "slot 0");
_Static_assert(SLOTS_AT(QueryCredentialsAttributesA, QueryCredentialsAttributesW, 1), "slot 1");
_Static_assert(SLOTS_AT(AcquireCredentialsHandleA, AcquireCredentialsHandleW, 2), "slot 2");
_Static_assert(SLOTS_AT(FreeCredentialHandle, FreeCredentialsHandle, 3), "slot 3");
_Static_assert(SLOTS_AT(Reserved2, Reserved2, 4), "slot 4");
_Static_assert(SLOTS_AT(InitializeSecurityContextA, InitializeSecurityContextW, 5), "slot 5");
_Static_assert(SLOTS_AT(AcceptSecurityContext, AcceptSecurityContext, 6), "slot 6");
_Static_assert(SLOTS_AT(CompleteAuthToken, CompleteAuthToken, 7), "slot 7");
_Static_assert(SLOTS_AT(DeleteSecurityContext, DeleteSecurityContext, 8), "slot 8");
_Static_assert(SLOTS_AT(ApplyControlToken, ApplyControlToken, 9), "slot 9");
_Static_assert(SLOTS_AT(QueryContextAttributesA, QueryContextAttributesW, 10), "slot 10");
_Static_assert(SLOTS_AT(ImpersonateSecurityContext, ImpersonateSecurityContext, 11), "slot 11");
_Static_assert(SLOTS_AT(RevertSecurityContext, RevertSecurityContext, 12), "slot 12");
_Static_assert(SLOTS_AT(MakeSignature, MakeSignature, 13), "slot 13");
_Static_assert(SLOTS_AT(VerifySignature, VerifySignature, 14), "slot 14");
_Static_assert(SLOTS_AT(FreeContextBuffer, FreeContextBuffer, 15), "slot 15");
_Static_assert(SLOTS_AT(QuerySecurityPackageInfoA, QuerySecurityPackageInfoW, 16), "slot 16");
_Static_assert(SLOTS_AT(Reserved3, Reserved3, 17) && SLOTS_AT(Reserved4, Reserved4, 18), "17, 18");
_Static_assert(SLOTS_AT(ExportSecurityContext, ExportSecurityContext, 19), "slot 19");
_Static_assert(SLOTS_AT(ImportSecurityContextA, ImportSecurityContextW, 20), "slot 20");
_Static_assert(SLOTS_AT(AddCredentialsA, AddCredentialsW, 21), "slot 21");
_Static_assert(SLOTS_AT(Reserved8, Reserved8, 22), "slot 22");
_Static_assert(SLOTS_AT(QuerySecurityContextToken, QuerySecurityContextToken, 23), "slot 23");
_Static_assert(SLOTS_AT(EncryptMessage, EncryptMessage, 24), "slot 24");
_Static_assert(SLOTS_AT(DecryptMessage, DecryptMessage, 25), "slot 25");
_Static_assert(SLOTS_AT(SetContextAttributesA, SetContextAttributesW, 26), "slot 26");
_Static_assert(SLOTS_AT(SetCredentialsAttributesA, SetCredentialsAttributesW, 27), "slot 27");
_Static_assert(SLOTS_AT(ChangeAccountPasswordA, ChangeAccountPasswordW, 28), "slot 28");
_Static_assert(SLOTS_AT(QueryContextAttributesExA, QueryContextAttributesExW, 29), "slot 29");
_Static_assert(SLOTS_AT(QueryCredentialsAttributesExA, QueryCredentialsAttributesExW, 30),
	       "slot 30");
_Static_assert(sizeof(SecurityFunctionTableA) == 32 * sizeof(void *), "A table: 31 slots");
_Static_assert(sizeof(SecurityFunctionTableW) == 32 * sizeof(void *), "W table: 31 slots");
_Static_assert(sizeof(ENCRYPT_MESSAGE_FN) == sizeof(void *), "Reserved3 holds a function pointer");

/* ---- common --------------------------------------------------------------------- */

#define TOK_ROOM 4096 /* a leg's output room: Negotiate's NTLM tokens fit */
#define TARGET_NTLM u"HTTP/server.test"

static char ntlm_name[] = "NTLM", nego_name[] = "Negotiate";

/* Every test's last step. */
static void finish(void)
{
	sa__alloc_fail_at(0);
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
	ck_assert_uint_eq(s.async_contexts, 0);
	ck_assert_uint_eq(s.pending_calls, 0);
}

/* No-thread mode: async calls run in sspiasync_run(), on this thread. */
static void start_no_threads(void)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
	/* The async-context table's first page is made by its first insert and
	 * kept: make it now, so the calls' own block counts are exact. */
	SspiAsyncContext *warm = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(warm);
	SspiFreeAsyncContext(warm);
}

static size_t wlen(const SEC_WCHAR *s)
{
	size_t n = 0;
	while (s[n] != 0)
		n++;
	return n;
}

static int weq(const SEC_WCHAR *a, const SEC_WCHAR *b)
{
	size_t n = wlen(a);
	return n == wlen(b) && memcmp(a, b, n * sizeof *a) == 0;
}

/* UTF-8 of a W string the library returned (for comparisons and messages);
 * it must be valid UTF-16. */
static const char *w8(const SEC_WCHAR *w, char *buf, size_t cap)
{
	size_t n = sa__utf16_to_utf8(w, wlen(w), NULL, 0);
	ck_assert_uint_ne(n, (size_t)-1);
	ck_assert_uint_lt(n, cap);
	ck_assert_uint_eq(sa__utf16_to_utf8(w, wlen(w), buf, cap), n);
	buf[n] = '\0';
	return buf;
}

/* The UTF-16 form of the UTF-8 @s in @out (room for @cap units). */
static SEC_WCHAR *to_w(const char *s, SEC_WCHAR *out, size_t cap)
{
	size_t n = sa__utf8_to_utf16(s, NULL, 0);
	ck_assert_uint_le(n, cap);
	ck_assert_uint_eq(sa__utf8_to_utf16(s, out, cap), n);
	return out;
}

#define assert_wstr_utf8(w, utf8)                                                        \
	do {                                                                              \
		char w8buf_[512];                                                         \
		ck_assert_str_eq(w8((w), w8buf_, sizeof w8buf_), (utf8));                 \
	} while (0)

/* The W functions called directly, laid out as the dispatch table, so every
 * W helper runs through a table: this one or InitSecurityInterfaceW()'s. */
static const SecurityFunctionTableW direct_w = {
	.dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4,
	.EnumerateSecurityPackagesW = EnumerateSecurityPackagesW,
	.QueryCredentialsAttributesW = QueryCredentialsAttributesW,
	.AcquireCredentialsHandleW = AcquireCredentialsHandleW,
	.FreeCredentialsHandle = FreeCredentialsHandle,
	.InitializeSecurityContextW = InitializeSecurityContextW,
	.AcceptSecurityContext = AcceptSecurityContext,
	.DeleteSecurityContext = DeleteSecurityContext,
	.QueryContextAttributesW = QueryContextAttributesW,
	.MakeSignature = MakeSignature,
	.VerifySignature = VerifySignature,
	.FreeContextBuffer = FreeContextBuffer,
	.QuerySecurityPackageInfoW = QuerySecurityPackageInfoW,
};

/* _i == 0: direct calls; 1: InitSecurityInterfaceW()'s table. */
static const SecurityFunctionTableW *wapi(int i)
{
	if (i == 0)
		return &direct_w;
	PSecurityFunctionTableW t = InitSecurityInterfaceW();
	ck_assert_ptr_nonnull(t);
	return t;
}

/* ---- a handshake through the W calls ------------------------------------------- */

struct whs {
	const SecurityFunctionTableW *f;
	CredHandle cc, sc;
	CtxtHandle c, s;
	int have_c, have_s, done_c, done_s;
	int legs;
	unsigned long req_c, req_s;
	unsigned char tok[TOK_ROOM];
	unsigned long tok_len;
	int seen_ntlmssp; /* some token carried "NTLMSSP" */
};

static void whs_init(struct whs *h, const SecurityFunctionTableW *f)
{
	memset(h, 0, sizeof *h);
	h->f = f;
	handle_pat(&h->c);
	handle_pat(&h->s);
}

static int has_ntlmssp(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i++)
		if (memcmp(p + i, "NTLMSSP", 8) == 0)
			return 1;
	return 0;
}

/* One leg through InitializeSecurityContextW (@client) or
 * AcceptSecurityContext.  A failed leg must leave every output untouched. */
static SECURITY_STATUS whs_leg(struct whs *h, int client, SEC_WCHAR *target)
{
	static unsigned char out[TOK_ROOM];
	CtxtHandle *ctx = client ? &h->c : &h->s;
	int have = client ? h->have_c : h->have_s;
	CtxtHandle newh;
	unsigned long attrs = PAT_ATTR;
	TimeStamp ts;
	SECURITY_STATUS st;
	handle_pat(&newh);
	memset(out, PAT, sizeof out);
	ts.QuadPart = PAT_TIME;
	SecBuffer ob = {sizeof out, SECBUFFER_TOKEN, out};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	SecBuffer ib = {h->tok_len, SECBUFFER_TOKEN, h->tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	if (client)
		st = h->f->InitializeSecurityContextW(&h->cc, have ? ctx : NULL, target, h->req_c, 0,
						      SECURITY_NATIVE_DREP, have ? &id : NULL, 0,
						      have ? ctx : &newh, &od, &attrs, &ts);
	else
		st = h->f->AcceptSecurityContext(&h->sc, have ? ctx : NULL, &id, h->req_s,
						 SECURITY_NATIVE_DREP, have ? ctx : &newh, &od,
						 &attrs, &ts);
	if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) {
		if (!have) {
			ck_assert(!handle_is_pat(&newh));
			*ctx = newh;
			if (client)
				h->have_c = 1;
			else
				h->have_s = 1;
		}
		ck_assert_uint_ne(attrs, PAT_ATTR);
		ck_assert_int_ne(ts.QuadPart, PAT_TIME);
		ck_assert_uint_le(ob.cbBuffer, sizeof h->tok);
		memcpy(h->tok, out, ob.cbBuffer);
		h->tok_len = ob.cbBuffer;
		h->seen_ntlmssp |= has_ntlmssp(h->tok, h->tok_len);
		if (st == SEC_E_OK) {
			if (client)
				h->done_c = 1;
			else
				h->done_s = 1;
		}
		h->legs++;
	} else {
		ck_assert_msg(FAILED(st), "leg %d: 0x%08x", h->legs + 1, (unsigned)st);
		ck_assert(handle_is_pat(&newh));
		ck_assert_uint_eq(attrs, PAT_ATTR);
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		ck_assert_uint_eq(ob.cbBuffer, sizeof out);
		ck_assert(bytes_are(out, sizeof out, PAT));
	}
	return st;
}

/* Legs, client first, until one fails or a side is done with nothing to
 * send; returns the last leg's status. */
static SECURITY_STATUS whs_run(struct whs *h, SEC_WCHAR *target)
{
	SECURITY_STATUS st;
	int client = 1;
	do {
		st = whs_leg(h, client, target);
		client = !client;
	} while ((st == SEC_I_CONTINUE_NEEDED || (st == SEC_E_OK && h->tok_len > 0)) && h->legs < 12);
	return st;
}

static void whs_ok(struct whs *h, SEC_WCHAR *target)
{
	SECURITY_STATUS st = whs_run(h, target);
	ck_assert_msg(st == SEC_E_OK, "handshake ended 0x%08x after %d legs", (unsigned)st, h->legs);
	ck_assert(h->done_c && h->done_s);
}

static void whs_free(struct whs *h)
{
	if (h->have_c)
		ck_assert_int_eq(h->f->DeleteSecurityContext(&h->c), SEC_E_OK);
	if (h->have_s)
		ck_assert_int_eq(h->f->DeleteSecurityContext(&h->s), SEC_E_OK);
	h->have_c = h->have_s = 0;
	ck_assert_int_eq(h->f->FreeCredentialsHandle(&h->cc), SEC_E_OK);
	ck_assert_int_eq(h->f->FreeCredentialsHandle(&h->sc), SEC_E_OK);
}

/* A credential through AcquireCredentialsHandleW; outputs untouched on failure. */
static SECURITY_STATUS acquire_w(const SecurityFunctionTableW *f, SEC_WCHAR *pkg, unsigned long use,
				 void *auth, CredHandle *out)
{
	TimeStamp ts;
	ts.QuadPart = PAT_TIME;
	handle_pat(out);
	SECURITY_STATUS st = f->AcquireCredentialsHandleW(NULL, pkg, use, NULL, auth, NULL, NULL, out, &ts);
	if (st == SEC_E_OK) {
		ck_assert(!handle_is_pat(out));
		ck_assert_int_ne(ts.QuadPart, PAT_TIME);
	} else {
		ck_assert(handle_is_pat(out));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
	}
	return st;
}

/* ---- identities in every form ---------------------------------------------------- */

enum form { F_A_ANSI, F_A_UNICODE, F_W, F_EXA, F_EXW, F_COUNT };
static const char *const form_name[F_COUNT] = {"_A/ANSI", "_A/UNICODE", "_W", "EXA", "EXW"};

static int form_wide(enum form f)
{
	return f == F_A_UNICODE || f == F_W || f == F_EXW;
}

static int form_ex(enum form f)
{
	return f == F_EXA || f == F_EXW;
}

/* An identity in one form, with its own copies of the strings. */
struct ident {
	enum form form;
	union {
		SEC_WINNT_AUTH_IDENTITY_A a;
		SEC_WINNT_AUTH_IDENTITY_W w;
		SEC_WINNT_AUTH_IDENTITY_EXA exa;
		SEC_WINNT_AUTH_IDENTITY_EXW exw;
		SEC_WINNT_AUTH_IDENTITY_EX2 ex2;
	} u;
	char a[4][128];      /* user, domain, password, package list: UTF-8 */
	SEC_WCHAR w[4][128]; /* the same, UTF-16 */
};

/* Fill @id: each string UTF-8 (NULL: a NULL pointer, length 0); @list only
 * for the EX forms.  Flags: the form's ANSI or UNICODE. */
static void *ident_make(struct ident *id, enum form f, const char *user, const char *domain,
			const char *password, const char *list)
{
	const char *s[4] = {user, domain, password, list};
	void *p[4];
	unsigned long len[4];
	memset(id, 0, sizeof *id);
	id->form = f;
	for (int i = 0; i < 4; i++) {
		p[i] = NULL;
		len[i] = 0;
		if (s[i] == NULL)
			continue;
		ck_assert_uint_lt(strlen(s[i]), sizeof id->a[i]);
		strcpy(id->a[i], s[i]);
		to_w(s[i], id->w[i], sizeof id->w[i] / sizeof id->w[i][0]);
		p[i] = form_wide(f) ? (void *)id->w[i] : (void *)id->a[i];
		len[i] = form_wide(f) ? (unsigned long)wlen(id->w[i]) : (unsigned long)strlen(id->a[i]);
	}
	unsigned long flags = form_wide(f) ? SEC_WINNT_AUTH_IDENTITY_UNICODE : SEC_WINNT_AUTH_IDENTITY_ANSI;
	switch (f) {
	case F_A_ANSI:
	case F_A_UNICODE: /* Windows' habit: the A struct, UNICODE flag, UTF-16 strings */
		id->u.a = (SEC_WINNT_AUTH_IDENTITY_A){p[0], len[0], p[1], len[1], p[2], len[2], flags};
		break;
	case F_W:
		id->u.w = (SEC_WINNT_AUTH_IDENTITY_W){p[0], len[0], p[1], len[1], p[2], len[2], flags};
		break;
	case F_EXA:
		id->u.exa = (SEC_WINNT_AUTH_IDENTITY_EXA){
			SEC_WINNT_AUTH_IDENTITY_VERSION, sizeof id->u.exa, p[0], len[0], p[1], len[1],
			p[2], len[2], flags, p[3], len[3]};
		break;
	case F_EXW:
		id->u.exw = (SEC_WINNT_AUTH_IDENTITY_EXW){
			SEC_WINNT_AUTH_IDENTITY_VERSION, sizeof id->u.exw, p[0], len[0], p[1], len[1],
			p[2], len[2], flags, p[3], len[3]};
		break;
	default:
		ck_abort_msg("bad form");
	}
	return &id->u;
}

static unsigned long *ident_flags(struct ident *id)
{
	switch (id->form) {
	case F_A_ANSI:
	case F_A_UNICODE:
		return &id->u.a.Flags;
	case F_W:
		return &id->u.w.Flags;
	case F_EXA:
		return &id->u.exa.Flags;
	default:
		return &id->u.exw.Flags;
	}
}

/* String @i (0 user, 1 domain, 2 password, 3 list) of @id: its pointer and length fields. */
static void ident_field(struct ident *id, int i, void ***ptr, unsigned long **len)
{
	switch (id->form) {
	case F_A_ANSI:
	case F_A_UNICODE:
	case F_W: {
		SEC_WINNT_AUTH_IDENTITY_A *a = &id->u.a; /* _W: the same layout (asserted above) */
		ck_assert_int_lt(i, 3);
		void **p[3] = {(void **)&a->User, (void **)&a->Domain, (void **)&a->Password};
		unsigned long *l[3] = {&a->UserLength, &a->DomainLength, &a->PasswordLength};
		*ptr = p[i];
		*len = l[i];
		return;
	}
	default: {
		SEC_WINNT_AUTH_IDENTITY_EXA *x = &id->u.exa; /* EXW: the same layout */
		void **p[4] = {(void **)&x->User, (void **)&x->Domain, (void **)&x->Password,
			       (void **)&x->PackageList};
		unsigned long *l[4] = {&x->UserLength, &x->DomainLength, &x->PasswordLength,
				       &x->PackageListLength};
		*ptr = p[i];
		*len = l[i];
		return;
	}
	}
}

/* ---- acquiring through each entry point ------------------------------------------- */

enum via { VIA_SYNC_A, VIA_SYNC_W, VIA_ASYNC_A, VIA_ASYNC_W, VIA_COUNT };
static const char *const via_name[VIA_COUNT] = {"AcquireCredentialsHandleA",
						"AcquireCredentialsHandleW",
						"SspiAcquireCredentialsHandleAsyncA",
						"SspiAcquireCredentialsHandleAsyncW"};

/*
 * A credential of package @pkg (UTF-8) for @use with @auth through @v (the
 * async ones need no-thread mode).  Whatever the answer, asserts the
 * contract: on failure *@out and the expiry are untouched, no credential
 * exists and no block is left; a refused async call queued nothing and left
 * its async context IDLE; a queued one wrote nothing before it ran.
 */
static SECURITY_STATUS acquire_via(enum via v, const char *pkg, unsigned long use, void *auth,
				   CredHandle *out)
{
	char apkg[64];
	SEC_WCHAR wpkg[64];
	TimeStamp ts;
	SECURITY_STATUS st;
	ck_assert_uint_lt(strlen(pkg), sizeof apkg);
	strcpy(apkg, pkg);
	to_w(pkg, wpkg, 64);
	ts.QuadPart = PAT_TIME;
	handle_pat(out);
	uint64_t creds = stats().credentials, live = tl_live_blocks();
	switch (v) {
	case VIA_SYNC_A:
		st = AcquireCredentialsHandleA(NULL, apkg, use, NULL, auth, NULL, NULL, out, &ts);
		break;
	case VIA_SYNC_W:
		st = AcquireCredentialsHandleW(NULL, wpkg, use, NULL, auth, NULL, NULL, out, &ts);
		break;
	default: {
		SspiAsyncContext *ac = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(ac);
		if (v == VIA_ASYNC_A)
			st = SspiAcquireCredentialsHandleAsyncA(ac, NULL, apkg, use, NULL, auth, NULL,
								NULL, out, &ts);
		else
			st = SspiAcquireCredentialsHandleAsyncW(ac, NULL, wpkg, use, NULL, auth, NULL,
								NULL, out, &ts);
		/* What it copied at queueing is all it may use: wipe the names. */
		memset(apkg, 0x55, sizeof apkg);
		memset(wpkg, 0x55, sizeof wpkg);
		if (st == SEC_E_OK) {
			ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_I_ASYNC_CALL_PENDING);
			ck_assert(handle_is_pat(out));
			ck_assert_int_eq(ts.QuadPart, PAT_TIME);
			ck_assert_uint_eq(sspiasync_run(0), 1);
			st = SspiGetAsyncCallStatus(ac);
			ck_assert_int_ne(st, SEC_I_ASYNC_CALL_PENDING);
		} else {
			ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_E_INVALID_PARAMETER); /* IDLE */
			ck_assert_uint_eq(stats().pending_calls, 0);
			ck_assert_uint_eq(sspiasync_run(0), 0); /* nothing queued */
		}
		SspiFreeAsyncContext(ac);
		break;
	}
	}
	if (st == SEC_E_OK) {
		ck_assert(!handle_is_pat(out));
		ck_assert_int_ne(ts.QuadPart, PAT_TIME);
		ck_assert_uint_eq(stats().credentials, creds + 1);
	} else {
		ck_assert(handle_is_pat(out));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		ck_assert_uint_eq(stats().credentials, creds);
		ck_assert_msg(tl_live_blocks() == live, "%s refused 0x%08x: %llu blocks left",
			      via_name[v], (unsigned)st, (unsigned long long)(tl_live_blocks() - live));
	}
	return st;
}

/* The A name of a credential (QueryCredentialsAttributesA NAMES), in @buf. */
static const char *cred_name(CredHandle *c, char *buf, size_t cap)
{
	SecPkgCredentials_NamesA n;
	ck_assert_int_eq(QueryCredentialsAttributesA(c, SECPKG_CRED_ATTR_NAMES, &n), SEC_E_OK);
	ck_assert_uint_lt(strlen(n.sUserName), cap);
	strcpy(buf, n.sUserName);
	ck_assert_int_eq(FreeContextBuffer(n.sUserName), SEC_E_OK);
	return buf;
}

/* ---- fixtures ----------------------------------------------------------------------- */

/* Non-ASCII, with a character outside the BMP (a surrogate pair in UTF-16). */
#define U_USER "j\u00fcrgen\U0001F600"
#define U_DOMAIN "D\u00d6M"
#define U_PASSWORD "p\u00e4ssw\u00f6rd\U0001F511"
#define U_CLIENT U_DOMAIN "\\" U_USER

static char user_file[64], krb5_conf[64];

/* NTLM's user store for the acceptors; Kerberos kept away from any real
 * configuration, keytab, ccache and DNS, so Negotiate's choices are this
 * suite's and a realm is never looked for on the network. */
static void users_setup(void)
{
	static const char conf[] = "[libdefaults]\n"
				   "\tdns_lookup_kdc = false\n"
				   "\tdns_lookup_realm = false\n"
				   "\tdns_uri_lookup = false\n";
	tl_user_file_set(user_file, "DOM:alice:Secret1!\n" U_DOMAIN ":" U_USER ":" U_PASSWORD "\n");
	strcpy(krb5_conf, "/tmp/sa_test_krb5confXXXXXX");
	int fd = mkstemp(krb5_conf);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, conf, sizeof conf - 1), (ssize_t)(sizeof conf - 1));
	close(fd);
	ck_assert_int_eq(setenv("KRB5_CONFIG", krb5_conf, 1), 0);
	ck_assert_int_eq(setenv("KRB5_KTNAME", "FILE:/nonexistent/sspiasync-wide.keytab", 1), 0);
	ck_assert_int_eq(setenv("KRB5CCNAME", "FILE:/nonexistent/sspiasync-wide.ccache", 1), 0);
}

static void users_teardown(void)
{
	teardown();
	tl_user_file_unset(user_file);
	unsetenv("KRB5_CONFIG");
	unsetenv("KRB5_KTNAME");
	unsetenv("KRB5CCNAME");
	if (krb5_conf[0] != '\0')
		unlink(krb5_conf);
	krb5_conf[0] = '\0';
}

/* =================================================================================== */
/* 1. UTF-16 <-> UTF-8                                                                  */
/* =================================================================================== */

struct utf_case {
	const SEC_WCHAR *w;
	const char *u8;
};

static const struct utf_case utf_cases[] = {
	{u"", ""},
	{u"A", "A"},
	{u"NTLM", "NTLM"},
	{(const SEC_WCHAR[]){0x7f, 0x80, 0}, "\x7f\xc2\x80"},
	{u"\u00e9", "\xc3\xa9"},
	{u"\u07ff\u0800", "\xdf\xbf\xe0\xa0\x80"},
	{u"\u20ac", "\xe2\x82\xac"},
	{u"\ud7ff\ue000\uffff", "\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"},
	{u"\U00010000", "\xf0\x90\x80\x80"},
	{u"\U0001F600", "\xf0\x9f\x98\x80"},
	{u"\U0010FFFF", "\xf4\x8f\xbf\xbf"},
	{u"a\U0001F600b\u00e9\U00010437", "a\xf0\x9f\x98\x80" "b\xc3\xa9\xf0\x90\x90\xb7"},
};

START_TEST(test_wide_utf16_round_trips_bmp_and_non_bmp)
{
	for (size_t i = 0; i < sizeof utf_cases / sizeof utf_cases[0]; i++) {
		const struct utf_case *c = &utf_cases[i];
		size_t units = wlen(c->w), bytes = strlen(c->u8);
		ck_assert_uint_eq(sa__utf16_len(c->w), units);
		/* UTF-16 -> UTF-8: measure, then write exactly that much. */
		char out8[64];
		memset(out8, PAT, sizeof out8);
		ck_assert_uint_eq(sa__utf16_to_utf8(c->w, units, NULL, 0), bytes);
		ck_assert_uint_eq(sa__utf16_to_utf8(c->w, units, out8, bytes), bytes);
		ck_assert_msg(memcmp(out8, c->u8, bytes) == 0, "case %zu: UTF-8 differs", i);
		ck_assert(bytes_are((unsigned char *)out8 + bytes, sizeof out8 - bytes, PAT));
		/* UTF-8 -> UTF-16: units with the NUL, then the units themselves. */
		SEC_WCHAR out16[32];
		memset(out16, PAT, sizeof out16);
		ck_assert_uint_eq(sa__utf8_to_utf16(c->u8, NULL, 0), units + 1);
		ck_assert_uint_eq(sa__utf8_to_utf16(c->u8, out16, units + 1), units + 1);
		ck_assert_msg(memcmp(out16, c->w, (units + 1) * sizeof *out16) == 0,
			      "case %zu: UTF-16 differs", i);
		ck_assert(bytes_are((unsigned char *)(out16 + units + 1),
				    sizeof out16 - (units + 1) * sizeof *out16, PAT));
	}
	/* An embedded NUL unit is converted as it is (the identity code refuses it). */
	static const SEC_WCHAR nul[] = {'a', 0, 'b'};
	char out[4] = {1, 1, 1, 1};
	ck_assert_uint_eq(sa__utf16_to_utf8(nul, 3, out, sizeof out), 3);
	ck_assert(out[0] == 'a' && out[1] == 0 && out[2] == 'b' && out[3] == 1);
}
END_TEST

START_TEST(test_wide_utf16_partial_room_writes_whole_code_points_only)
{
	/* "a" then U+1F600 (4 bytes, 2 units): with room for 3 bytes only 'a' is written. */
	const SEC_WCHAR *w = u"a\U0001F600";
	char out8[8];
	memset(out8, PAT, sizeof out8);
	ck_assert_uint_eq(sa__utf16_to_utf8(w, 3, out8, 3), 5);
	ck_assert_int_eq(out8[0], 'a');
	ck_assert(bytes_are((unsigned char *)out8 + 1, sizeof out8 - 1, PAT));
	/* The other way a pair is never split: room for 2 units writes 'a' only. */
	SEC_WCHAR out16[8];
	memset(out16, PAT, sizeof out16);
	ck_assert_uint_eq(sa__utf8_to_utf16("a\xf0\x9f\x98\x80", out16, 2), 4);
	ck_assert_uint_eq(out16[0], 'a');
	ck_assert(bytes_are((unsigned char *)(out16 + 1), sizeof out16 - sizeof *out16, PAT));
}
END_TEST

/* Ill-formed UTF-16: lone high (at the end, before a BMP unit, before
 * another high), lone low, reversed pair. */
static const SEC_WCHAR bad_high_end[] = {'N', 'T', 0xD83D, 0};
static const SEC_WCHAR bad_high_mid[] = {'N', 0xD83D, 'T', 'L', 'M', 0};
static const SEC_WCHAR bad_high_high[] = {0xD83D, 0xD83D, 0xDE00, 0};
static const SEC_WCHAR bad_low[] = {'N', 0xDE00, 'T', 0};
static const SEC_WCHAR bad_reversed[] = {0xDE00, 0xD83D, 0};
static const SEC_WCHAR *const bad_w[] = {bad_high_end, bad_high_mid, bad_high_high, bad_low,
					 bad_reversed};
#define N_BAD_W (sizeof bad_w / sizeof bad_w[0])

START_TEST(test_wide_utf16_rejects_lone_and_reversed_surrogates)
{
	for (size_t i = 0; i < N_BAD_W; i++) {
		char out[32];
		ck_assert_uint_eq(sa__utf16_to_utf8(bad_w[i], wlen(bad_w[i]), NULL, 0), (size_t)-1);
		ck_assert_uint_eq(sa__utf16_to_utf8(bad_w[i], wlen(bad_w[i]), out, sizeof out),
				  (size_t)-1);
	}
	/* A high surrogate that is the last of @n units is alone, even if a low one follows. */
	ck_assert_uint_eq(sa__utf16_to_utf8(u"\U0001F600", 1, NULL, 0), (size_t)-1);
	ck_assert_uint_eq(sa__utf16_to_utf8(u"\U0001F600", 2, NULL, 0), 4);
}
END_TEST

/* Ill-formed UTF-8 in the library's output (names it got from a peer) comes
 * out as U+FFFD, so every W string returned is valid UTF-16: one U+FFFD per
 * maximal subpart of an ill-formed sequence (Unicode 3.9, "U+FFFD
 * Substitution of Maximal Subparts"), as WHATWG, ICU and Python decode. */
START_TEST(test_wide_utf8_ill_formed_becomes_replacement_character)
{
	static const struct {
		const char *u8;
		const SEC_WCHAR *w;
	} cases[] = {
		{"\x80", u"\ufffd"},                     /* a continuation byte first */
		{"a\xbf" "b", u"a\ufffd" "b"},
		{"\xc0\xaf", u"\ufffd\ufffd"},           /* overlong '/' (C0, C1 never lead) */
		{"\xc1\xbf", u"\ufffd\ufffd"},
		{"\xe0\x80\xaf", u"\ufffd\ufffd\ufffd"}, /* overlong, 3 bytes */
		{"\xf0\x80\x80\xaf", u"\ufffd\ufffd\ufffd\ufffd"},
		{"\xed\xa0\x80", u"\ufffd\ufffd\ufffd"}, /* an encoded surrogate */
		{"\xed\xbf\xbf", u"\ufffd\ufffd\ufffd"},
		{"\xf4\x90\x80\x80", u"\ufffd\ufffd\ufffd\ufffd"}, /* past U+10FFFF */
		{"\xf5\x80\x80\x80", u"\ufffd\ufffd\ufffd\ufffd"},
		{"\xfe\xff", u"\ufffd\ufffd"},
		{"\xe2\x82", u"\ufffd"},                 /* truncated by the end */
		{"\xe2\x82" "A", u"\ufffd" "A"},        /* truncated by an ASCII byte */
		{"\xf0\x9f\x98", u"\ufffd"},
		{"\xf0\x9f\x98" "\xf0\x9f\x98\x80", u"\ufffd\U0001F600"},
		{"\xc3" "\xc3\xa9", u"\ufffd\u00e9"},
		{"x\xe2\x82\xac" "\xe2" "y", u"x\u20ac\ufffd" "y"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		SEC_WCHAR out[16];
		size_t want = wlen(cases[i].w) + 1;
		ck_assert_msg(sa__utf8_to_utf16(cases[i].u8, NULL, 0) == want,
			      "case %zu: measured %zu units, expected %zu", i,
			      sa__utf8_to_utf16(cases[i].u8, NULL, 0), want);
		ck_assert_uint_eq(sa__utf8_to_utf16(cases[i].u8, out, want), want);
		ck_assert_msg(weq(out, cases[i].w), "case %zu", i);
		/* and what comes out is well-formed UTF-16 */
		ck_assert_uint_ne(sa__utf16_to_utf8(out, want - 1, NULL, 0), (size_t)-1);
	}
}
END_TEST

START_TEST(test_wide_ill_formed_strings_are_invalid_parameter_before_anything)
{
	start_no_threads();
	CredHandle cc;
	ck_assert_int_eq(acquire_w(&direct_w, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, NULL, &cc),
			 SEC_E_OK);
	for (size_t i = 0; i < N_BAD_W; i++) {
		SEC_WCHAR bad[16];
		memcpy(bad, bad_w[i], (wlen(bad_w[i]) + 1) * sizeof *bad);
		uint64_t live = tl_live_blocks();
		struct sspiasync_statistics s0 = stats();
		CredHandle c;
		/* the package name, then the principal */
		ck_assert_int_eq(acquire_w(&direct_w, bad, SECPKG_CRED_OUTBOUND, NULL, &c),
				 SEC_E_INVALID_PARAMETER);
		TimeStamp ts;
		ts.QuadPart = PAT_TIME;
		handle_pat(&c);
		ck_assert_int_eq(AcquireCredentialsHandleW(bad, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND,
							   NULL, NULL, NULL, NULL, &c, &ts),
				 SEC_E_INVALID_PARAMETER);
		ck_assert(handle_is_pat(&c));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		/* the target name of a first leg: no context made */
		struct leg_out o;
		leg_out_reset(&o);
		ck_assert_int_eq(InitializeSecurityContextW(&cc, NULL, bad, 0, 0, SECURITY_NATIVE_DREP,
							    NULL, 0, &o.newh, &o.od, &o.attrs, &o.ts),
				 SEC_E_INVALID_PARAMETER);
		assert_untouched(&o);
		/* QuerySecurityPackageInfoW */
		PSecPkgInfoW info = (PSecPkgInfoW)&info;
		ck_assert_int_eq(QuerySecurityPackageInfoW(bad, &info), SEC_E_INVALID_PARAMETER);
		ck_assert_ptr_eq(info, (PSecPkgInfoW)&info);
		/* the async forms: refused at queueing, nothing queued, context IDLE */
		SspiAsyncContext *ac = SspiCreateAsyncContext();
		ck_assert_ptr_nonnull(ac);
		handle_pat(&c);
		ts.QuadPart = PAT_TIME;
		ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncW(ac, NULL, bad, SECPKG_CRED_OUTBOUND,
								    NULL, NULL, NULL, NULL, &c, &ts),
				 SEC_E_INVALID_PARAMETER);
		ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncW(ac, bad, u"SspiAsyncTest",
								    SECPKG_CRED_OUTBOUND, NULL, NULL,
								    NULL, NULL, &c, &ts),
				 SEC_E_INVALID_PARAMETER);
		ck_assert(handle_is_pat(&c));
		ck_assert_int_eq(ts.QuadPart, PAT_TIME);
		ck_assert_int_eq(SspiInitializeSecurityContextAsyncW(ac, &cc, NULL, bad, 0, 0,
								     SECURITY_NATIVE_DREP, NULL, 0,
								     &o.newh, &o.od, &o.attrs, &o.ts),
				 SEC_E_INVALID_PARAMETER);
		assert_untouched(&o);
		ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_E_INVALID_PARAMETER); /* IDLE */
		ck_assert_uint_eq(stats().pending_calls, 0);
		ck_assert_uint_eq(sspiasync_run(0), 0);
		SspiFreeAsyncContext(ac);
		/* a NULL async context is refused first, as by the A forms */
		ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncW(NULL, NULL, bad, SECPKG_CRED_OUTBOUND,
								    NULL, NULL, NULL, NULL, &c, &ts),
				 SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(SspiInitializeSecurityContextAsyncW(NULL, &cc, NULL, bad, 0, 0,
								     SECURITY_NATIVE_DREP, NULL, 0,
								     &o.newh, &o.od, &o.attrs, &o.ts),
				 SEC_E_INVALID_HANDLE);
		assert_untouched(&o);
		ck_assert(handle_is_pat(&c));
		/* the identity's strings (UNICODE): each of user, domain, password */
		for (int k = 0; k < 3; k++) {
			SEC_WINNT_AUTH_IDENTITY_W id = {u"alice", 5, u"DOM", 3, u"pw", 2,
							SEC_WINNT_AUTH_IDENTITY_UNICODE};
			unsigned short **sp[3] = {&id.User, &id.Domain, &id.Password};
			unsigned long *lp[3] = {&id.UserLength, &id.DomainLength, &id.PasswordLength};
			*sp[k] = bad;
			*lp[k] = (unsigned long)wlen(bad);
			ck_assert_int_eq(acquire_w(&direct_w, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND,
						   &id, &c),
					 SEC_E_INVALID_PARAMETER);
		}
		/* the functions not implemented yet check their W strings too */
		SecBuffer packed = {0, SECBUFFER_EMPTY, NULL};
		CtxtHandle imp;
		handle_pat(&imp);
		ck_assert_int_eq(ImportSecurityContextW(bad, &packed, NULL, &imp),
				 SEC_E_INVALID_PARAMETER);
		ck_assert(handle_is_pat(&imp));
		ck_assert_int_eq(AddCredentialsW(&cc, NULL, bad, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
						 NULL),
				 SEC_E_INVALID_PARAMETER);
		ck_assert_int_eq(AddCredentialsW(&cc, bad, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, NULL,
						 NULL, NULL, NULL),
				 SEC_E_INVALID_PARAMETER);
		unsigned char pwo[16];
		SecBuffer pwb = {sizeof pwo, SECBUFFER_TOKEN, pwo};
		SecBufferDesc pwd = {SECBUFFER_VERSION, 1, &pwb};
		SEC_WCHAR *cap_args[5] = {u"SspiAsyncTest", u"DOM", u"alice", u"old", u"new"};
		for (int k = 0; k < 5; k++) {
			SEC_WCHAR *a[5];
			memcpy(a, cap_args, sizeof a);
			a[k] = bad;
			ck_assert_msg(ChangeAccountPasswordW(a[0], a[1], a[2], a[3], a[4], 0, 0, &pwd) ==
					      SEC_E_INVALID_PARAMETER,
				      "ChangeAccountPasswordW with ill-formed string %d", k);
		}
		/* nothing happened */
		struct sspiasync_statistics s1 = stats();
		ck_assert_uint_eq(s1.credentials, s0.credentials);
		ck_assert_uint_eq(s1.contexts, s0.contexts);
		ck_assert_uint_eq(tl_live_blocks(), live);
	}
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	finish();
}
END_TEST

/* =================================================================================== */
/* 2. The W calls                                                                       */
/* =================================================================================== */

/* The test package through the W calls (direct, and the W table): a 3-leg
 * handshake to a UTF-16 target whose options must arrive intact, both
 * credentials with explicit W identities (the acceptor admits only its own
 * user and password, so both must read the same), and every W attribute
 * against its A twin. */
START_TEST(test_wide_handshake_and_attributes_with_test_package)
{
	const SecurityFunctionTableW *f = wapi(_i);
	struct whs h;
	whs_init(&h, f);
	struct ident ic, is;
	ck_assert_int_eq(acquire_w(f, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND,
				   ident_make(&ic, F_EXW, U_USER, U_DOMAIN, U_PASSWORD, NULL), &h.cc),
			 SEC_E_OK);
	ck_assert_int_eq(acquire_w(f, u"sspiasynctest", SECPKG_CRED_INBOUND,
				   ident_make(&is, F_W, U_USER, U_DOMAIN, U_PASSWORD, NULL), &h.sc),
			 SEC_E_OK);
	whs_ok(&h, u"host/wide\u00e9;legs=3");
	ck_assert_int_eq(h.legs, 3); /* the legs= option was read from the converted target */

	/* NAMES: the client's user, UTF-16, on both sides */
	SecPkgContext_NamesW nw;
	SecPkgContext_NamesA na;
	for (int side = 0; side < 2; side++) {
		CtxtHandle *x = side ? &h.s : &h.c;
		nw.sUserName = (SEC_WCHAR *)&nw;
		ck_assert_int_eq(f->QueryContextAttributesW(x, SECPKG_ATTR_NAMES, &nw), SEC_E_OK);
		ck_assert(weq(nw.sUserName, u"D\u00d6M\\j\u00fcrgen\U0001F600"));
		ck_assert_int_eq(QueryContextAttributesA(x, SECPKG_ATTR_NAMES, &na), SEC_E_OK);
		ck_assert_str_eq(na.sUserName, U_CLIENT);
		ck_assert_int_eq(f->FreeContextBuffer(nw.sUserName), SEC_E_OK);
		ck_assert_int_eq(f->FreeContextBuffer(nw.sUserName), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(FreeContextBuffer(na.sUserName), SEC_E_OK);
	}

	/* PACKAGE_INFO: the A description converted */
	SecPkgContext_PackageInfoW pw;
	SecPkgContext_PackageInfoA pa;
	ck_assert_int_eq(f->QueryContextAttributesW(&h.c, SECPKG_ATTR_PACKAGE_INFO, &pw), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&h.c, SECPKG_ATTR_PACKAGE_INFO, &pa), SEC_E_OK);
	ck_assert(weq(pw.PackageInfo->Name, u"SspiAsyncTest"));
	assert_wstr_utf8(pw.PackageInfo->Comment, pa.PackageInfo->Comment);
	ck_assert_uint_eq(pw.PackageInfo->fCapabilities, pa.PackageInfo->fCapabilities);
	ck_assert_uint_eq(pw.PackageInfo->wVersion, pa.PackageInfo->wVersion);
	ck_assert_uint_eq(pw.PackageInfo->wRPCID, pa.PackageInfo->wRPCID);
	ck_assert_uint_eq(pw.PackageInfo->cbMaxToken, pa.PackageInfo->cbMaxToken);
	ck_assert_int_eq(f->FreeContextBuffer(pw.PackageInfo), SEC_E_OK);
	ck_assert_int_eq(FreeContextBuffer(pa.PackageInfo), SEC_E_OK);

	/* Not a negotiating package, no native names: refused, buffer untouched */
	SecPkgContext_NegotiationInfoW ng;
	memset(&ng, PAT, sizeof ng);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.c, SECPKG_ATTR_NEGOTIATION_INFO, &ng),
			 SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert(bytes_are((unsigned char *)&ng, sizeof ng, PAT));
	SecPkgContext_NativeNamesW nn;
	memset(&nn, PAT, sizeof nn);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, SECPKG_ATTR_NATIVE_NAMES, &nn),
			 SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert(bytes_are((unsigned char *)&nn, sizeof nn, PAT));

	/* The attributes without strings pass through: the A answers, byte for byte */
	SecPkgContext_Sizes zw, za;
	memset(&zw, PAT, sizeof zw);
	memset(&za, 0, sizeof za);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.c, SECPKG_ATTR_SIZES, &zw), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&h.c, SECPKG_ATTR_SIZES, &za), SEC_E_OK);
	ck_assert(memcmp(&zw, &za, sizeof zw) == 0);
	ck_assert_uint_eq(zw.cbMaxToken, 512);
	SecPkgContext_Lifespan lw, la;
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, SECPKG_ATTR_LIFESPAN, &lw), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&h.s, SECPKG_ATTR_LIFESPAN, &la), SEC_E_OK);
	ck_assert(memcmp(&lw, &la, sizeof lw) == 0);
	SecPkgContext_Flags fw, fa;
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, SECPKG_ATTR_FLAGS, &fw), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&h.s, SECPKG_ATTR_FLAGS, &fa), SEC_E_OK);
	ck_assert_uint_eq(fw.Flags, fa.Flags);
	unsigned char junk[64];
	memset(junk, PAT, sizeof junk);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, 0x7fff, junk), SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert(bytes_are(junk, sizeof junk, PAT));

	/* Arguments before handles; bad handles touch nothing */
	ck_assert_int_eq(f->QueryContextAttributesW(&h.c, SECPKG_ATTR_NAMES, NULL),
			 SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.c, SECPKG_ATTR_SIZES, NULL),
			 SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(f->QueryContextAttributesW(NULL, SECPKG_ATTR_NAMES, &nw),
			 SEC_E_INVALID_HANDLE);
	CtxtHandle forged = {0x1234, 0x5678};
	nw.sUserName = (SEC_WCHAR *)&nw;
	ck_assert_int_eq(f->QueryContextAttributesW(&forged, SECPKG_ATTR_NAMES, &nw),
			 SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.cc, SECPKG_ATTR_PACKAGE_INFO, &pw),
			 SEC_E_INVALID_HANDLE); /* a credential handle */
	ck_assert_ptr_eq(nw.sUserName, (SEC_WCHAR *)&nw);

	/* QueryCredentialsAttributesW NAMES: the A name converted */
	SecPkgCredentials_NamesW cw;
	char a8[128];
	ck_assert_int_eq(f->QueryCredentialsAttributesW(&h.cc, SECPKG_CRED_ATTR_NAMES, &cw), SEC_E_OK);
	assert_wstr_utf8(cw.sUserName, cred_name(&h.cc, a8, sizeof a8));
	ck_assert_str_eq(a8, U_CLIENT);
	ck_assert_int_eq(f->FreeContextBuffer(cw.sUserName), SEC_E_OK);
	cw.sUserName = (SEC_WCHAR *)&cw;
	ck_assert_int_eq(f->QueryCredentialsAttributesW(&h.cc, SECPKG_CRED_ATTR_NAMES, NULL),
			 SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(f->QueryCredentialsAttributesW(&h.cc, 0x77, &cw), SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert_int_eq(f->QueryCredentialsAttributesW(&h.c, SECPKG_CRED_ATTR_NAMES, &cw),
			 SEC_E_INVALID_HANDLE); /* a context handle */
	ck_assert_int_eq(f->QueryCredentialsAttributesW(NULL, SECPKG_CRED_ATTR_NAMES, &cw),
			 SEC_E_INVALID_HANDLE);
	ck_assert_ptr_eq(cw.sUserName, (SEC_WCHAR *)&cw);

	/* the contexts work: a signature made on one verifies on the other */
	unsigned char data[8] = "message", sig[SIG_LEN];
	SecBuffer mb[2] = {{sizeof data, SECBUFFER_DATA, data}, {sizeof sig, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	unsigned long qop;
	ck_assert_int_eq(f->MakeSignature(&h.c, 0, &md, 0), SEC_E_OK);
	ck_assert_int_eq(f->VerifySignature(&h.s, &md, 0, &qop), SEC_E_OK);

	whs_free(&h);
	finish();
}
END_TEST

/* The same user with another password in the acceptor's W identity: the
 * password was read (the handshake is refused at leg 2). */
START_TEST(test_wide_test_package_acceptor_refuses_other_password)
{
	struct whs h;
	whs_init(&h, &direct_w);
	struct ident ic, is;
	ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND,
				   ident_make(&ic, F_A_UNICODE, U_USER, U_DOMAIN, U_PASSWORD, NULL),
				   &h.cc),
			 SEC_E_OK);
	ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_INBOUND,
				   ident_make(&is, F_W, U_USER, U_DOMAIN, U_PASSWORD "!", NULL), &h.sc),
			 SEC_E_OK);
	ck_assert_int_eq(whs_run(&h, u"host/wide"), SEC_E_LOGON_DENIED);
	ck_assert_int_eq(h.legs, 1);
	whs_free(&h);
	finish();
}
END_TEST

START_TEST(test_wide_enumerate_packages_matches_a_names)
{
	const SecurityFunctionTableW *f = wapi(_i);
	unsigned long na = 0, nw = 0;
	PSecPkgInfoA a = NULL;
	PSecPkgInfoW w = NULL;
	ck_assert_int_eq(EnumerateSecurityPackagesA(&na, &a), SEC_E_OK);
	ck_assert_int_eq(f->EnumerateSecurityPackagesW(&nw, &w), SEC_E_OK);
	ck_assert_uint_eq(nw, na);
	ck_assert_uint_ge(nw, 2);
	ck_assert(weq(w[0].Name, u"SspiAsyncTest"));
	int saw_ntlm = 0, saw_nego = 0;
	for (unsigned long i = 0; i < nw; i++) {
		assert_wstr_utf8(w[i].Name, a[i].Name);
		assert_wstr_utf8(w[i].Comment, a[i].Comment);
		ck_assert_uint_eq(w[i].fCapabilities, a[i].fCapabilities);
		ck_assert_uint_eq(w[i].wVersion, a[i].wVersion);
		ck_assert_uint_eq(w[i].wRPCID, a[i].wRPCID);
		ck_assert_uint_eq(w[i].cbMaxToken, a[i].cbMaxToken);
		saw_ntlm |= weq(w[i].Name, u"NTLM");
		saw_nego |= weq(w[i].Name, u"Negotiate");
		/* QuerySecurityPackageInfoW of each name, and in other case, says the same */
		PSecPkgInfoW q = NULL;
		SEC_WCHAR lower[64];
		size_t n = wlen(w[i].Name);
		ck_assert_uint_lt(n, 64);
		for (size_t k = 0; k <= n; k++)
			lower[k] = (w[i].Name[k] >= 'A' && w[i].Name[k] <= 'Z') ? w[i].Name[k] + 32
										 : w[i].Name[k];
		for (int c = 0; c < 2; c++) {
			ck_assert_int_eq(f->QuerySecurityPackageInfoW(c ? lower : w[i].Name, &q), SEC_E_OK);
			ck_assert(weq(q->Name, w[i].Name));
			ck_assert(weq(q->Comment, w[i].Comment));
			ck_assert_uint_eq(q->cbMaxToken, w[i].cbMaxToken);
			ck_assert_uint_eq(q->fCapabilities, w[i].fCapabilities);
			ck_assert_int_eq(f->FreeContextBuffer(q), SEC_E_OK);
		}
	}
	ck_assert(saw_ntlm && saw_nego);
	/* One FreeContextBuffer frees the array and its strings; a second is refused. */
	ck_assert_int_eq(f->FreeContextBuffer(w), SEC_E_OK);
	ck_assert_int_eq(f->FreeContextBuffer(w), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(FreeContextBuffer(a), SEC_E_OK);
	/* Arguments */
	w = (PSecPkgInfoW)&w;
	nw = PAT_ATTR;
	ck_assert_int_eq(f->EnumerateSecurityPackagesW(NULL, &w), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(f->EnumerateSecurityPackagesW(&nw, NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(f->QuerySecurityPackageInfoW(u"NoSuchPackage", &w), SEC_E_SECPKG_NOT_FOUND);
	ck_assert_int_eq(f->QuerySecurityPackageInfoW(u"", &w), SEC_E_SECPKG_NOT_FOUND);
	ck_assert_int_eq(f->QuerySecurityPackageInfoW(NULL, &w), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(f->QuerySecurityPackageInfoW(u"NTLM", NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_ptr_eq(w, (PSecPkgInfoW)&w);
	ck_assert_uint_eq(nw, PAT_ATTR);
	finish();
}
END_TEST

/* Every allocation of the W conversions fails in turn: each run answers
 * SEC_E_INSUFFICIENT_MEMORY with its outputs untouched and nothing left,
 * until the call succeeds. */
enum oom_call { OOM_ENUM, OOM_QPI, OOM_QCA_NAMES, OOM_QCA_PKG, OOM_QCRED, OOM_ACH_EXW, OOM_ISC,
		OOM_COUNT };

static SECURITY_STATUS oom_one(enum oom_call which, struct whs *h, void **result)
{
	static SEC_WINNT_AUTH_IDENTITY_EXW ex = {SEC_WINNT_AUTH_IDENTITY_VERSION, sizeof ex,
						 u"j\u00fcrgen", 6, u"D\u00d6M", 3, u"pw", 2,
						 SEC_WINNT_AUTH_IDENTITY_UNICODE, u"SspiAsyncTest", 13};
	unsigned long n = PAT_ATTR;
	SECURITY_STATUS st;
	*result = NULL;
	switch (which) {
	case OOM_ENUM: {
		PSecPkgInfoW w = (PSecPkgInfoW)&w;
		st = EnumerateSecurityPackagesW(&n, &w);
		if (st != SEC_E_OK)
			ck_assert(w == (PSecPkgInfoW)&w && n == PAT_ATTR);
		else
			*result = w;
		return st;
	}
	case OOM_QPI: {
		PSecPkgInfoW w = (PSecPkgInfoW)&w;
		st = QuerySecurityPackageInfoW(u"Negotiate", &w);
		if (st != SEC_E_OK)
			ck_assert(w == (PSecPkgInfoW)&w);
		else
			*result = w;
		return st;
	}
	case OOM_QCA_NAMES: {
		SecPkgContext_NamesW nw = {(SEC_WCHAR *)&nw};
		st = QueryContextAttributesW(&h->s, SECPKG_ATTR_NAMES, &nw);
		if (st != SEC_E_OK)
			ck_assert(nw.sUserName == (SEC_WCHAR *)&nw);
		else
			*result = nw.sUserName;
		return st;
	}
	case OOM_QCA_PKG: {
		SecPkgContext_PackageInfoW pw = {(PSecPkgInfoW)&pw};
		st = QueryContextAttributesW(&h->c, SECPKG_ATTR_PACKAGE_INFO, &pw);
		if (st != SEC_E_OK)
			ck_assert(pw.PackageInfo == (PSecPkgInfoW)&pw);
		else
			*result = pw.PackageInfo;
		return st;
	}
	case OOM_QCRED: {
		SecPkgCredentials_NamesW cw = {(SEC_WCHAR *)&cw};
		st = QueryCredentialsAttributesW(&h->cc, SECPKG_CRED_ATTR_NAMES, &cw);
		if (st != SEC_E_OK)
			ck_assert(cw.sUserName == (SEC_WCHAR *)&cw);
		else
			*result = cw.sUserName;
		return st;
	}
	case OOM_ACH_EXW: {
		static CredHandle cred;
		st = acquire_w(&direct_w, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, &ex, &cred);
		if (st == SEC_E_OK)
			*result = &cred;
		return st;
	}
	default: {
		static CtxtHandle x;
		struct leg_out o;
		leg_out_reset(&o);
		st = InitializeSecurityContextW(&h->cc, NULL, u"host/oom\u00e9;legs=4", 0, 0,
						SECURITY_NATIVE_DREP, NULL, 0, &o.newh, &o.od, &o.attrs,
						&o.ts);
		if (st != SEC_I_CONTINUE_NEEDED) {
			assert_untouched(&o);
		} else {
			x = o.newh;
			*result = &x;
		}
		return st == SEC_I_CONTINUE_NEEDED ? SEC_E_OK : st;
	}
	}
}

START_TEST(test_wide_oom_every_allocation_untouched_and_leak_free)
{
	struct whs h;
	whs_init(&h, &direct_w);
	ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, NULL, &h.cc), SEC_E_OK);
	ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
	whs_ok(&h, u"host/oom");
	for (int c = 0; c < OOM_COUNT; c++) {
		int ok = 0;
		for (uint64_t k = 1; k < 64 && !ok; k++) {
			uint64_t live = tl_live_blocks();
			struct sspiasync_statistics s0 = stats();
			void *r;
			sa__alloc_fail_at(k);
			SECURITY_STATUS st = oom_one((enum oom_call)c, &h, &r);
			sa__alloc_fail_at(0);
			if (st == SEC_E_OK) {
				ok = 1;
				if (c == OOM_ACH_EXW)
					ck_assert_int_eq(FreeCredentialsHandle(r), SEC_E_OK);
				else if (c == OOM_ISC)
					ck_assert_int_eq(DeleteSecurityContext(r), SEC_E_OK);
				else
					ck_assert_int_eq(FreeContextBuffer(r), SEC_E_OK);
				ck_assert_uint_gt(k, 1); /* it allocates, so the first run failed */
			} else {
				ck_assert_msg(st == SEC_E_INSUFFICIENT_MEMORY,
					      "call %d, allocation %llu failed: 0x%08x", c,
					      (unsigned long long)k, (unsigned)st);
				ck_assert_uint_eq(stats().credentials, s0.credentials);
				ck_assert_uint_eq(stats().contexts, s0.contexts);
			}
			ck_assert_uint_eq(tl_live_blocks(), live);
		}
		ck_assert_msg(ok, "call %d never succeeded", c);
	}
	whs_free(&h);
	finish();
}
END_TEST

/* ---- the W async forms ----------------------------------------------------------- */

/* A heap copy of a W string, which the test frees right after the call. */
static SEC_WCHAR *wdup(const SEC_WCHAR *s)
{
	size_t n = (wlen(s) + 1) * sizeof *s;
	SEC_WCHAR *p = malloc(n);
	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	return p;
}

static void wfree(SEC_WCHAR *p)
{
	memset(p, 0x55, (wlen(p) + 1) * sizeof *p);
	free(p);
}

START_TEST(test_wide_async_forms_queue_complete_and_copy_their_strings)
{
	start_no_threads();
	SspiAsyncContext *ac = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(ac);
	CredHandle cc, sc;
	TimeStamp ts;
	struct ident id;
	for (int side = 0; side < 2; side++) {
		SEC_WCHAR *pkg = wdup(u"SspiAsyncTest"), *principal = wdup(u"svc\u00e9");
		CredHandle *out = side ? &sc : &cc;
		handle_pat(out);
		ts.QuadPart = PAT_TIME;
		ck_assert_int_eq(SspiAcquireCredentialsHandleAsyncW(
					 ac, principal, pkg, side ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND,
					 NULL,
					 side ? NULL : ident_make(&id, F_EXW, U_USER, U_DOMAIN, U_PASSWORD, NULL),
					 NULL, NULL, out, &ts),
				 SEC_E_OK);
		wfree(pkg);
		wfree(principal);
		memset(&id, 0x55, sizeof id); /* the identity was copied at queueing too */
		ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_I_ASYNC_CALL_PENDING);
		ck_assert(handle_is_pat(out));
		ck_assert_uint_eq(sspiasync_run(0), 1);
		ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_E_OK);
		ck_assert(!handle_is_pat(out));
		ck_assert_int_ne(ts.QuadPart, PAT_TIME);
		ck_assert_int_eq(SspiReinitAsyncContext(ac), STATUS_SUCCESS);
	}
	char name[128];
	ck_assert_str_eq(cred_name(&cc, name, sizeof name), U_CLIENT);
	ck_assert_str_eq(cred_name(&sc, name, sizeof name), "svc\u00e9");

	/* Legs: the client's through SspiInitializeSecurityContextAsyncW with a
	 * target freed right after queueing; its legs=3 must still count. */
	CtxtHandle c, s;
	unsigned char t1[MAX_TOKEN], t2[MAX_TOKEN], t3[MAX_TOKEN];
	unsigned long attrs;
	SecBuffer ob = {sizeof t1, SECBUFFER_TOKEN, t1};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	SEC_WCHAR *target = wdup(u"host/async\U0001F600;legs=3");
	handle_pat(&c);
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncW(ac, &cc, NULL, target, 0, 0,
							     SECURITY_NATIVE_DREP, NULL, 0, &c, &od,
							     &attrs, &ts),
			 SEC_E_OK);
	wfree(target);
	ck_assert(handle_is_pat(&c));
	ck_assert_uint_eq(sspiasync_run(0), 1);
	ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_I_CONTINUE_NEEDED);
	ck_assert_int_eq(SspiReinitAsyncContext(ac), STATUS_SUCCESS);
	/* leg 2 (acceptor) synchronously: OK and a token (legs=3 reached it) */
	SecBuffer ib = {ob.cbBuffer, SECBUFFER_TOKEN, t1};
	SecBufferDesc id2 = {SECBUFFER_VERSION, 1, &ib};
	SecBuffer ob2 = {sizeof t2, SECBUFFER_TOKEN, t2};
	SecBufferDesc od2 = {SECBUFFER_VERSION, 1, &ob2};
	ck_assert_int_eq(AcceptSecurityContext(&sc, NULL, &id2, 0, SECURITY_NATIVE_DREP, &s, &od2,
					       &attrs, &ts),
			 SEC_E_OK);
	ck_assert_uint_gt(ob2.cbBuffer, 0);
	/* leg 3: the client's last, async W again (a later leg, target given again) */
	SecBuffer ib3 = {ob2.cbBuffer, SECBUFFER_TOKEN, t2};
	SecBufferDesc id3 = {SECBUFFER_VERSION, 1, &ib3};
	SecBuffer ob3 = {sizeof t3, SECBUFFER_TOKEN, t3};
	SecBufferDesc od3 = {SECBUFFER_VERSION, 1, &ob3};
	target = wdup(u"host/async\U0001F600;legs=3");
	ck_assert_int_eq(SspiInitializeSecurityContextAsyncW(ac, NULL, &c, target, 0, 0,
							     SECURITY_NATIVE_DREP, &id3, 0, &c, &od3,
							     &attrs, &ts),
			 SEC_E_OK);
	wfree(target);
	ck_assert_uint_eq(sspiasync_run(0), 1);
	ck_assert_int_eq(SspiGetAsyncCallStatus(ac), SEC_E_OK);
	ck_assert_uint_eq(ob3.cbBuffer, 0);
	SecPkgContext_NamesW nw;
	ck_assert_int_eq(QueryContextAttributesW(&s, SECPKG_ATTR_NAMES, &nw), SEC_E_OK);
	ck_assert(weq(nw.sUserName, u"D\u00d6M\\j\u00fcrgen\U0001F600"));
	ck_assert_int_eq(FreeContextBuffer(nw.sUserName), SEC_E_OK);
	SspiFreeAsyncContext(ac);
	ck_assert_int_eq(DeleteSecurityContext(&c), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&s), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&sc), SEC_E_OK);
	finish();
}
END_TEST

/* ---- NTLM and Negotiate through the W calls ------------------------------------------ */

START_TEST(test_wide_ntlm_handshake_and_attributes)
{
	const SecurityFunctionTableW *f = wapi(_i);
	struct whs h;
	whs_init(&h, f);
	struct ident id;
	ck_assert_int_eq(acquire_w(f, u"NTLM", SECPKG_CRED_OUTBOUND,
				   ident_make(&id, F_W, U_USER, U_DOMAIN, U_PASSWORD, NULL), &h.cc),
			 SEC_E_OK);
	ck_assert_int_eq(acquire_w(f, u"ntlm", SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
	h.req_c = ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY;
	h.req_s = ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY;
	whs_ok(&h, TARGET_NTLM);
	ck_assert_int_eq(h.legs, 4);

	SecPkgContext_NamesW nw;
	for (int side = 0; side < 2; side++) {
		ck_assert_int_eq(f->QueryContextAttributesW(side ? &h.s : &h.c, SECPKG_ATTR_NAMES, &nw),
				 SEC_E_OK);
		ck_assert(weq(nw.sUserName, u"D\u00d6M\\j\u00fcrgen\U0001F600"));
		ck_assert_int_eq(f->FreeContextBuffer(nw.sUserName), SEC_E_OK);
	}
	SecPkgContext_NativeNamesW nn;
	SecPkgContext_NativeNamesA na;
	ck_assert_int_eq(f->QueryContextAttributesW(&h.c, SECPKG_ATTR_NATIVE_NAMES, &nn), SEC_E_OK);
	ck_assert(weq(nn.sClientName, u"D\u00d6M\\j\u00fcrgen\U0001F600"));
	ck_assert(weq(nn.sServerName, TARGET_NTLM));
	ck_assert_int_eq(f->FreeContextBuffer(nn.sClientName), SEC_E_OK);
	ck_assert_int_eq(f->FreeContextBuffer(nn.sServerName), SEC_E_OK);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, SECPKG_ATTR_NATIVE_NAMES, &nn), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&h.s, SECPKG_ATTR_NATIVE_NAMES, &na), SEC_E_OK);
	assert_wstr_utf8(nn.sClientName, na.sClientName);
	assert_wstr_utf8(nn.sServerName, na.sServerName);
	ck_assert_int_eq(f->FreeContextBuffer(nn.sClientName), SEC_E_OK);
	ck_assert_int_eq(f->FreeContextBuffer(nn.sServerName), SEC_E_OK);
	ck_assert_int_eq(FreeContextBuffer(na.sClientName), SEC_E_OK);
	ck_assert_int_eq(FreeContextBuffer(na.sServerName), SEC_E_OK);

	SecPkgContext_PackageInfoW pw;
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, SECPKG_ATTR_PACKAGE_INFO, &pw), SEC_E_OK);
	ck_assert(weq(pw.PackageInfo->Name, u"NTLM"));
	ck_assert(weq(pw.PackageInfo->Comment, u"NTLM Security Package"));
	ck_assert_int_eq(f->FreeContextBuffer(pw.PackageInfo), SEC_E_OK);
	SecPkgContext_NegotiationInfoW ng;
	memset(&ng, PAT, sizeof ng);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, SECPKG_ATTR_NEGOTIATION_INFO, &ng),
			 SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert(bytes_are((unsigned char *)&ng, sizeof ng, PAT));

	SecPkgContext_Sizes zw, za;
	ck_assert_int_eq(f->QueryContextAttributesW(&h.c, SECPKG_ATTR_SIZES, &zw), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&h.c, SECPKG_ATTR_SIZES, &za), SEC_E_OK);
	ck_assert(memcmp(&zw, &za, sizeof zw) == 0);
	ck_assert_uint_eq(zw.cbMaxToken, 2888);
	SecPkgContext_SessionKey kc, ks;
	ck_assert_int_eq(f->QueryContextAttributesW(&h.c, SECPKG_ATTR_SESSION_KEY, &kc), SEC_E_OK);
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, SECPKG_ATTR_SESSION_KEY, &ks), SEC_E_OK);
	ck_assert_uint_eq(kc.SessionKeyLength, 16);
	ck_assert(memcmp(kc.SessionKey, ks.SessionKey, 16) == 0);
	ck_assert_int_eq(f->FreeContextBuffer(kc.SessionKey), SEC_E_OK);
	ck_assert_int_eq(f->FreeContextBuffer(ks.SessionKey), SEC_E_OK);

	SecPkgCredentials_NamesW cw;
	ck_assert_int_eq(f->QueryCredentialsAttributesW(&h.cc, SECPKG_CRED_ATTR_NAMES, &cw), SEC_E_OK);
	char a8[128];
	assert_wstr_utf8(cw.sUserName, cred_name(&h.cc, a8, sizeof a8));
	ck_assert_int_eq(f->FreeContextBuffer(cw.sUserName), SEC_E_OK);
	whs_free(&h);
	finish();
}
END_TEST

/* Negotiate with "!Kerberos": SPNEGO carries NTLM, and NEGOTIATION_INFO
 * (W and A) names NTLM as the package chosen, COMPLETE. */
START_TEST(test_identity_negotiate_without_kerberos_runs_ntlm)
{
	const SecurityFunctionTableW *f = wapi(_i % 2);
	enum form fm = _i / 2 ? F_EXA : F_EXW;
	struct whs h;
	whs_init(&h, f);
	struct ident id;
	ck_assert_int_eq(acquire_w(f, u"Negotiate", SECPKG_CRED_OUTBOUND,
				   ident_make(&id, fm, U_USER, U_DOMAIN, U_PASSWORD, " !kerberos "),
				   &h.cc),
			 SEC_E_OK);
	ck_assert_int_eq(acquire_w(f, u"Negotiate", SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
	whs_ok(&h, TARGET_NTLM);
	ck_assert(h.seen_ntlmssp);
	for (int side = 0; side < 2; side++) {
		CtxtHandle *x = side ? &h.s : &h.c;
		SecPkgContext_NegotiationInfoW nw;
		SecPkgContext_NegotiationInfoA na;
		ck_assert_int_eq(f->QueryContextAttributesW(x, SECPKG_ATTR_NEGOTIATION_INFO, &nw),
				 SEC_E_OK);
		ck_assert(weq(nw.PackageInfo->Name, u"NTLM"));
		ck_assert_uint_eq(nw.NegotiationState, SECPKG_NEGOTIATION_COMPLETE);
		ck_assert_int_eq(QueryContextAttributesA(x, SECPKG_ATTR_NEGOTIATION_INFO, &na), SEC_E_OK);
		ck_assert_str_eq(na.PackageInfo->Name, "NTLM");
		assert_wstr_utf8(nw.PackageInfo->Comment, na.PackageInfo->Comment);
		ck_assert_int_eq(f->FreeContextBuffer(nw.PackageInfo), SEC_E_OK);
		ck_assert_int_eq(FreeContextBuffer(na.PackageInfo), SEC_E_OK);
		SecPkgContext_PackageInfoW pw;
		ck_assert_int_eq(f->QueryContextAttributesW(x, SECPKG_ATTR_PACKAGE_INFO, &pw), SEC_E_OK);
		ck_assert(weq(pw.PackageInfo->Name, u"NTLM"));
		ck_assert_int_eq(f->FreeContextBuffer(pw.PackageInfo), SEC_E_OK);
	}
	SecPkgContext_NamesW nm;
	ck_assert_int_eq(f->QueryContextAttributesW(&h.s, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
	ck_assert(weq(nm.sUserName, u"D\u00d6M\\j\u00fcrgen\U0001F600"));
	ck_assert_int_eq(f->FreeContextBuffer(nm.sUserName), SEC_E_OK);
	whs_free(&h);
	finish();
}
END_TEST

/* A context still negotiating: NEGOTIATION_INFO says so, and names the
 * package being tried. */
START_TEST(test_wide_negotiation_info_while_in_progress)
{
	struct whs h;
	whs_init(&h, &direct_w);
	struct ident id;
	ck_assert_int_eq(acquire_w(h.f, u"Negotiate", SECPKG_CRED_OUTBOUND,
				   ident_make(&id, F_EXW, "alice", "DOM", "Secret1!", "NTLM"), &h.cc),
			 SEC_E_OK);
	ck_assert_int_eq(acquire_w(h.f, u"Negotiate", SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
	ck_assert_int_eq(whs_leg(&h, 1, TARGET_NTLM), SEC_I_CONTINUE_NEEDED);
	SecPkgContext_NegotiationInfoW nw;
	ck_assert_int_eq(QueryContextAttributesW(&h.c, SECPKG_ATTR_NEGOTIATION_INFO, &nw), SEC_E_OK);
	ck_assert(weq(nw.PackageInfo->Name, u"NTLM"));
	ck_assert_uint_eq(nw.NegotiationState, SECPKG_NEGOTIATION_OPTIMISTIC);
	ck_assert_int_eq(FreeContextBuffer(nw.PackageInfo), SEC_E_OK);
	ck_assert_int_eq(whs_leg(&h, 0, NULL), SEC_I_CONTINUE_NEEDED);
	ck_assert_int_eq(QueryContextAttributesW(&h.s, SECPKG_ATTR_NEGOTIATION_INFO, &nw), SEC_E_OK);
	ck_assert(weq(nw.PackageInfo->Name, u"NTLM"));
	ck_assert_uint_eq(nw.NegotiationState, SECPKG_NEGOTIATION_IN_PROGRESS);
	ck_assert_int_eq(FreeContextBuffer(nw.PackageInfo), SEC_E_OK);
	whs_free(&h);
	finish();
}
END_TEST

/* =================================================================================== */
/* 3. Identities                                                                        */
/* =================================================================================== */

/*
 * The packages see one identity whatever the form: a test-package acceptor
 * with an explicit identity admits only its own user with its own password,
 * so a handshake between every pair of forms (25) proves user, domain and
 * password arrive byte for byte the same; the credential's name proves the
 * user and domain (a non-BMP user, so UNICODE lengths count units).
 */
START_TEST(test_identity_every_form_pair_is_one_identity_for_the_test_package)
{
	for (int cf = 0; cf < F_COUNT; cf++) {
		for (int sf = 0; sf < F_COUNT; sf++) {
			struct whs h;
			struct ident ic, is;
			char name[128];
			whs_init(&h, &direct_w);
			ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND,
						   ident_make(&ic, (enum form)cf, U_USER, U_DOMAIN,
							      U_PASSWORD, NULL),
						   &h.cc),
					 SEC_E_OK);
			ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_INBOUND,
						   ident_make(&is, (enum form)sf, U_USER, U_DOMAIN,
							      U_PASSWORD, NULL),
						   &h.sc),
					 SEC_E_OK);
			ck_assert_str_eq(cred_name(&h.cc, name, sizeof name), U_CLIENT);
			ck_assert_str_eq(cred_name(&h.sc, name, sizeof name), U_CLIENT);
			SECURITY_STATUS st = whs_run(&h, u"host/forms");
			ck_assert_msg(st == SEC_E_OK, "client %s, server %s: 0x%08x", form_name[cf],
				      form_name[sf], (unsigned)st);
			whs_free(&h);
		}
	}
	finish();
}
END_TEST

/* Lengths are honoured (bytes for ANSI, units for UNICODE): strings longer
 * than their lengths are cut there; length 0 with a NULL or a non-NULL
 * string is empty. */
START_TEST(test_identity_lengths_cut_the_strings)
{
	for (int f = 0; f < F_COUNT; f++) {
		struct ident id;
		CredHandle c;
		char name[128];
		void *auth = ident_make(&id, (enum form)f, U_USER "XYZ", U_DOMAIN "\\evil", "pw", NULL);
		void **p;
		unsigned long *len;
		ident_field(&id, 0, &p, &len);
		*len -= 3;
		ident_field(&id, 1, &p, &len);
		*len -= 5;
		ck_assert_int_eq(acquire_via(VIA_SYNC_A, pkg_name, SECPKG_CRED_OUTBOUND, auth, &c),
				 SEC_E_OK);
		ck_assert_str_eq(cred_name(&c, name, sizeof name), U_CLIENT);
		ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
		/* an empty domain: "user" alone; a NULL one with length 0 too */
		ident_field(&id, 1, &p, &len);
		*len = 0;
		ck_assert_int_eq(acquire_via(VIA_SYNC_W, pkg_name, SECPKG_CRED_OUTBOUND, auth, &c),
				 SEC_E_OK);
		ck_assert_str_eq(cred_name(&c, name, sizeof name), U_USER);
		ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
		*p = NULL;
		ck_assert_int_eq(acquire_via(VIA_SYNC_A, pkg_name, SECPKG_CRED_OUTBOUND, auth, &c),
				 SEC_E_OK);
		ck_assert_str_eq(cred_name(&c, name, sizeof name), U_USER);
		ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	}
	finish();
}
END_TEST

/* The answer to each Flags value, for every form and entry point. */
struct flag_case {
	unsigned long flags; /* ORed to the form's own ANSI/UNICODE bit, unless raw */
	int raw;             /* 1: flags replaces the form's bit */
	SECURITY_STATUS expect;
	const char *what;
};

static const struct flag_case flag_cases[] = {
	{0, 0, SEC_E_OK, "the form's bit alone"},
	{SEC_WINNT_AUTH_IDENTITY_ONLY, 0, SEC_E_OK, "_ONLY"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_USER, 0, SEC_E_OK, "_NULL_USER"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_DOMAIN, 0, SEC_E_OK, "_NULL_DOMAIN"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_SAVE, 0, SEC_E_OK, "DO_NOT_SAVE"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_SAVE_CRED_CHECKED, 0, SEC_E_OK, "SAVE_CRED_CHECKED"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_NO_CHECKBOX, 0, SEC_E_OK, "NO_CHECKBOX"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_LOAD, 0, SEC_E_OK, "DO_NOT_LOAD"},
	{SEC_WINNT_AUTH_IDENTITY_ONLY | SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_USER |
		 SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_DOMAIN |
		 SEC_WINNT_AUTH_IDENTITY_FLAGS_VALID_SSPIPFC_FLAGS,
	 0, SEC_E_OK, "every accepted bit"},
	{SEC_WINNT_AUTH_IDENTITY_MARSHALLED, 0, SEC_E_UNSUPPORTED_FUNCTION, "_MARSHALLED"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_PROCESS_ENCRYPTED, 0, SEC_E_UNSUPPORTED_FUNCTION,
	 "PROCESS_ENCRYPTED"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_PROTECTED, 0, SEC_E_UNSUPPORTED_FUNCTION,
	 "SYSTEM_PROTECTED"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_USER_PROTECTED, 0, SEC_E_UNSUPPORTED_FUNCTION,
	 "USER_PROTECTED"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_ENCRYPTED, 0, SEC_E_UNSUPPORTED_FUNCTION,
	 "SYSTEM_ENCRYPTED"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_ID_PROVIDER, 0, SEC_E_UNSUPPORTED_FUNCTION, "ID_PROVIDER"},
	{SEC_WINNT_AUTH_IDENTITY_ONLY | SEC_WINNT_AUTH_IDENTITY_FLAGS_USER_PROTECTED, 0,
	 SEC_E_UNSUPPORTED_FUNCTION, "accepted + unsupported"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_RESERVED, 0, SEC_E_INVALID_PARAMETER, "_RESERVED"},
	{0x100, 0, SEC_E_INVALID_PARAMETER, "unknown 0x100"},
	{0x8000, 0, SEC_E_INVALID_PARAMETER, "unknown 0x8000"},
	{0x100000, 0, SEC_E_INVALID_PARAMETER, "unknown 0x100000"},
	{0x01000000, 0, SEC_E_INVALID_PARAMETER, "an SSPIPFC_USE_MASK bit Microsoft does not name"},
	{SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE, 1, SEC_E_INVALID_PARAMETER,
	 "both ANSI and UNICODE"},
	{0, 1, SEC_E_INVALID_PARAMETER, "neither ANSI nor UNICODE"},
	{SEC_WINNT_AUTH_IDENTITY_ONLY, 1, SEC_E_INVALID_PARAMETER, "neither, with _ONLY"},
	/* malformed beats unsupported: the structure is checked first */
	{SEC_WINNT_AUTH_IDENTITY_MARSHALLED, 1, SEC_E_INVALID_PARAMETER, "neither, _MARSHALLED"},
	{SEC_WINNT_AUTH_IDENTITY_FLAGS_RESERVED | SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_PROTECTED, 0,
	 SEC_E_INVALID_PARAMETER, "_RESERVED + SYSTEM_PROTECTED"},
	{0x200 | SEC_WINNT_AUTH_IDENTITY_MARSHALLED, 0, SEC_E_INVALID_PARAMETER,
	 "unknown + _MARSHALLED"},
};

START_TEST(test_identity_flags_every_bit_every_form_every_entry_point)
{
	start_no_threads();
	for (int v = 0; v < VIA_COUNT; v++) {
		for (int f = 0; f < F_COUNT; f++) {
			for (size_t i = 0; i < sizeof flag_cases / sizeof flag_cases[0]; i++) {
				const struct flag_case *fc = &flag_cases[i];
				struct ident id;
				CredHandle c;
				void *auth = ident_make(&id, (enum form)f, "alice", "DOM", "pw", NULL);
				unsigned long *fl = ident_flags(&id);
				*fl = fc->raw ? fc->flags : *fl | fc->flags;
				SECURITY_STATUS st =
					acquire_via((enum via)v, pkg_name, SECPKG_CRED_OUTBOUND, auth, &c);
				ck_assert_msg(st == fc->expect, "%s, %s, Flags %s (0x%lx): 0x%08x, expected 0x%08x",
					      via_name[v], form_name[f], fc->what, *fl, (unsigned)st,
					      (unsigned)fc->expect);
				if (st == SEC_E_OK) {
					char name[64];
					ck_assert_str_eq(cred_name(&c, name, sizeof name), "DOM\\alice");
					ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
				}
			}
		}
	}
	finish();
}
END_TEST

/* NULL strings with a length, lengths past the limit, embedded NULs, the EX
 * Length and Version, an ill-formed UNICODE string: refused, through every
 * entry point. */
START_TEST(test_identity_malformed_strings_and_versions_are_refused)
{
	start_no_threads();
	for (int v = 0; v < VIA_COUNT; v++) {
		for (int f = 0; f < F_COUNT; f++) {
			int nstr = form_ex((enum form)f) ? 4 : 3;
			struct ident id;
			CredHandle c;
			void **p;
			unsigned long *len;
			for (int k = 0; k < nstr; k++) {
				/* a length with a NULL string */
				void *auth = ident_make(&id, (enum form)f, "alice", "DOM", "pw",
							k == 3 ? pkg_name : NULL);
				ident_field(&id, k, &p, &len);
				*p = NULL;
				if (*len == 0)
					*len = 1;
				ck_assert_msg(acquire_via((enum via)v, pkg_name, SECPKG_CRED_OUTBOUND, auth,
							  &c) == SEC_E_INVALID_PARAMETER,
					      "%s %s: string %d NULL with a length", via_name[v], form_name[f],
					      k);
				/* a length past the limit (32,767), however it is read: refused
				 * before the string is read, so nothing overflows */
				unsigned long huge[] = {32768, 0xFFFFFFFFul, (unsigned long)-1};
				for (size_t h = 0; h < sizeof huge / sizeof huge[0]; h++) {
					auth = ident_make(&id, (enum form)f, "alice", "DOM", "pw",
							  k == 3 ? pkg_name : NULL);
					ident_field(&id, k, &p, &len);
					*len = huge[h];
					ck_assert_msg(acquire_via((enum via)v, pkg_name,
								  SECPKG_CRED_OUTBOUND, auth, &c) ==
							      SEC_E_INVALID_PARAMETER,
						      "%s %s: string %d of length %lu", via_name[v],
						      form_name[f], k, huge[h]);
				}
				/* an embedded NUL, in the middle and at the end of the length */
				for (int at = 0; at < 2; at++) {
					auth = ident_make(&id, (enum form)f, "alice", "DOM", "pw",
							  k == 3 ? "SspiAsyncTest" : NULL);
					ident_field(&id, k, &p, &len);
					if (form_wide((enum form)f))
						((SEC_WCHAR *)*p)[at ? *len - 1 : 1] = 0;
					else
						((char *)*p)[at ? *len - 1 : 1] = 0;
					ck_assert_msg(acquire_via((enum via)v, pkg_name, SECPKG_CRED_OUTBOUND,
								  auth, &c) == SEC_E_INVALID_PARAMETER,
						      "%s %s: string %d with a NUL", via_name[v],
						      form_name[f], k);
				}
				/* ill-formed UTF-16 */
				if (form_wide((enum form)f)) {
					auth = ident_make(&id, (enum form)f, "alice", "DOM", "pw",
							  k == 3 ? "SspiAsyncTest" : NULL);
					ident_field(&id, k, &p, &len);
					((SEC_WCHAR *)*p)[0] = 0xDC00;
					ck_assert_msg(acquire_via((enum via)v, pkg_name, SECPKG_CRED_OUTBOUND,
								  auth, &c) == SEC_E_INVALID_PARAMETER,
						      "%s %s: string %d with a lone low surrogate",
						      via_name[v], form_name[f], k);
				}
			}
			if (!form_ex((enum form)f))
				continue;
			/* Length: too small is refused, larger is fine */
			unsigned long sizes[] = {0, 8, sizeof id.u.exa - 1, sizeof id.u.exa,
						 sizeof id.u.exa + 64};
			for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
				void *auth = ident_make(&id, (enum form)f, "alice", "DOM", "pw", NULL);
				id.u.exa.Length = sizes[i]; /* EXW: the same field */
				SECURITY_STATUS st =
					acquire_via((enum via)v, pkg_name, SECPKG_CRED_OUTBOUND, auth, &c);
				SECURITY_STATUS want = sizes[i] < sizeof id.u.exa ? SEC_E_INVALID_PARAMETER
										  : SEC_E_OK;
				ck_assert_msg(st == want, "%s %s: Length %lu: 0x%08x", via_name[v],
					      form_name[f], sizes[i], (unsigned)st);
				if (st == SEC_E_OK)
					ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
			}
		}
		/* EX2 (Version 0x201): not supported, whatever follows */
		SEC_WINNT_AUTH_IDENTITY_EX2 ex2;
		memset(&ex2, 0, sizeof ex2);
		ex2.Version = SEC_WINNT_AUTH_IDENTITY_VERSION_2;
		ex2.cbHeaderLength = sizeof ex2;
		ex2.cbStructureLength = sizeof ex2;
		ex2.Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
		CredHandle c;
		ck_assert_int_eq(acquire_via((enum via)v, pkg_name, SECPKG_CRED_OUTBOUND, &ex2, &c),
				 SEC_E_UNSUPPORTED_FUNCTION);
		/* the EX layout is chosen by Version alone: an EXA-sized struct whose
		 * Version is 0x201 is EX2 too */
		struct ident id;
		void *auth = ident_make(&id, F_EXA, "alice", "DOM", "pw", NULL);
		id.u.exa.Version = SEC_WINNT_AUTH_IDENTITY_VERSION_2;
		ck_assert_int_eq(acquire_via((enum via)v, pkg_name, SECPKG_CRED_OUTBOUND, auth, &c),
				 SEC_E_UNSUPPORTED_FUNCTION);
		/* an unknown package comes first: SEC_E_SECPKG_NOT_FOUND, not the identity's answer */
		ck_assert_int_eq(acquire_via((enum via)v, "NoSuchPackage", SECPKG_CRED_OUTBOUND, &ex2, &c),
				 SEC_E_SECPKG_NOT_FOUND);
	}
	finish();
}
END_TEST

/* PackageList for a package other than Negotiate: it must name the package
 * and not exclude it. */
struct list_case {
	const char *pkg;
	const char *list;
	SECURITY_STATUS expect;
};

static const struct list_case list_cases[] = {
	{ntlm_name, "Kerberos", SEC_E_SECPKG_NOT_FOUND},
	{ntlm_name, "!NTLM", SEC_E_SECPKG_NOT_FOUND},
	{ntlm_name, "!ntlm,Kerberos", SEC_E_SECPKG_NOT_FOUND},
	{ntlm_name, "NTLM,!NTLM", SEC_E_SECPKG_NOT_FOUND},
	{ntlm_name, "Negotiate", SEC_E_SECPKG_NOT_FOUND},
	{ntlm_name, "NTLM", SEC_E_OK},
	{ntlm_name, "ntlm", SEC_E_OK},
	{ntlm_name, "kerberos, ntlm", SEC_E_OK},
	{ntlm_name, " Kerberos , NTLM ,", SEC_E_OK},
	{ntlm_name, "!Kerberos", SEC_E_OK},
	{ntlm_name, "", SEC_E_OK},
	{ntlm_name, ",", SEC_E_OK},
	{ntlm_name, "NTLMX", SEC_E_SECPKG_NOT_FOUND},
	{ntlm_name, "NTL", SEC_E_SECPKG_NOT_FOUND},
	{pkg_name, "SspiAsyncTest", SEC_E_OK},
	{pkg_name, "NTLM", SEC_E_SECPKG_NOT_FOUND},
	{pkg_name, "!sspiasynctest", SEC_E_SECPKG_NOT_FOUND},
	{nego_name, "!NTLM,!Kerberos", SEC_E_SECPKG_NOT_FOUND},
	{nego_name, "!Kerberos, !NTLM", SEC_E_SECPKG_NOT_FOUND},
	{nego_name, "SspiAsyncTest", SEC_E_SECPKG_NOT_FOUND},
	{nego_name, "NTLM", SEC_E_OK},
	{nego_name, "!Kerberos", SEC_E_OK},
	{nego_name, "Kerberos,NTLM", SEC_E_OK},
	{nego_name, "", SEC_E_OK},
};

START_TEST(test_identity_package_list_every_form_every_entry_point)
{
	start_no_threads();
	for (int v = 0; v < VIA_COUNT; v++) {
		for (int f = F_EXA; f <= F_EXW; f++) {
			for (size_t i = 0; i < sizeof list_cases / sizeof list_cases[0]; i++) {
				const struct list_case *lc = &list_cases[i];
				struct ident id;
				CredHandle c;
				void *auth = ident_make(&id, (enum form)f, "alice", "DOM", "Secret1!",
							lc->list);
				SECURITY_STATUS st =
					acquire_via((enum via)v, lc->pkg, SECPKG_CRED_OUTBOUND, auth, &c);
				ck_assert_msg(st == lc->expect,
					      "%s %s: %s with PackageList \"%s\": 0x%08x, expected 0x%08x",
					      via_name[v], form_name[f], lc->pkg, lc->list, (unsigned)st,
					      (unsigned)lc->expect);
				if (st == SEC_E_OK)
					ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
			}
			/* PackageListLength is honoured: "NTLM" of "NTLM,!NTLM" */
			struct ident id;
			CredHandle c;
			void *auth = ident_make(&id, (enum form)f, "alice", "DOM", "pw", "NTLM,!NTLM");
			id.u.exa.PackageListLength = 4;
			ck_assert_int_eq(acquire_via((enum via)v, ntlm_name, SECPKG_CRED_OUTBOUND, auth, &c),
					 SEC_E_OK);
			ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
		}
	}
	finish();
}
END_TEST

/* NTLM: the same user and password in every form, acquired through every
 * entry point, authenticates against the acceptor's user store, which then
 * names the client as given; the same with a wrong password is refused. */
START_TEST(test_identity_every_form_authenticates_the_same_ntlm_user)
{
	start_no_threads();
	enum via v = (enum via)(_i / F_COUNT);
	enum form fm = (enum form)(_i % F_COUNT);
	for (int wrong = 0; wrong < 2; wrong++) {
		struct whs h;
		struct ident id;
		whs_init(&h, &direct_w);
		void *auth = ident_make(&id, fm, U_USER, U_DOMAIN, wrong ? U_PASSWORD "x" : U_PASSWORD,
					fm == F_EXA || fm == F_EXW ? "kerberos, ntlm" : NULL);
		ck_assert_int_eq(acquire_via(v, ntlm_name, SECPKG_CRED_OUTBOUND, auth, &h.cc), SEC_E_OK);
		ck_assert_int_eq(acquire_via(v, ntlm_name, SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
		SECURITY_STATUS st = whs_run(&h, TARGET_NTLM);
		if (wrong) {
			ck_assert_int_eq(st, SEC_E_LOGON_DENIED);
			ck_assert_int_eq(h.legs, 3);
		} else {
			ck_assert_msg(st == SEC_E_OK, "%s %s: 0x%08x", via_name[v], form_name[fm],
				      (unsigned)st);
			SecPkgContext_NamesA na;
			ck_assert_int_eq(QueryContextAttributesA(&h.s, SECPKG_ATTR_NAMES, &na), SEC_E_OK);
			ck_assert_str_eq(na.sUserName, U_CLIENT);
			ck_assert_int_eq(FreeContextBuffer(na.sUserName), SEC_E_OK);
			SecPkgContext_NamesW nw;
			ck_assert_int_eq(QueryContextAttributesW(&h.s, SECPKG_ATTR_NAMES, &nw), SEC_E_OK);
			ck_assert(weq(nw.sUserName, u"D\u00d6M\\j\u00fcrgen\U0001F600"));
			ck_assert_int_eq(FreeContextBuffer(nw.sUserName), SEC_E_OK);
		}
		whs_free(&h);
	}
	finish();
}
END_TEST

/* Negotiate with "!NTLM" and no Kerberos realm: Kerberos is all that is
 * left and it cannot work, so the handshake fails at once and NTLM is
 * never tried. */
START_TEST(test_identity_negotiate_without_ntlm_never_falls_back)
{
	start_no_threads();
	enum via v = (enum via)_i;
	struct whs h;
	struct ident id;
	whs_init(&h, &direct_w);
	void *auth = ident_make(&id, F_EXW, "alice", "DOM", "Secret1!", "!NTLM");
	SECURITY_STATUS st = acquire_via(v, nego_name, SECPKG_CRED_OUTBOUND, auth, &h.cc);
#ifdef SA_HAVE_KRB5
	/* Kerberos keeps the password for the first leg (its TGT request), so
	 * the credential exists; the first leg finds no KDC for the realm. */
	ck_assert_int_eq(st, SEC_E_OK);
	ck_assert_int_eq(acquire_via(v, nego_name, SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
	st = whs_leg(&h, 1, TARGET_NTLM); /* asserts every output untouched */
	/* Today SEC_E_NO_CREDENTIALS: MIT answers GSS_S_NO_CRED with minor
	 * KRB5_REALM_UNKNOWN, which src/packages/krb5/status.c does not map;
	 * mapped like KRB5_REALM_CANT_RESOLVE it would be
	 * SEC_E_NO_AUTHENTICATING_AUTHORITY.  Either way: no NTLM, no context. */
	ck_assert_msg(st == SEC_E_NO_CREDENTIALS || st == SEC_E_NO_AUTHENTICATING_AUTHORITY,
		      "first leg without NTLM: 0x%08x", (unsigned)st);
	ck_assert(!h.seen_ntlmssp);
	ck_assert_int_eq(h.legs, 0);
	ck_assert(!h.have_c);
	ck_assert_uint_eq(stats().contexts, 0);
	whs_free(&h);
#else
	/* No Kerberos in this build: nothing is left, the acquire fails. */
	ck_assert_int_eq(st, SEC_E_NO_CREDENTIALS);
#endif
	finish();
}
END_TEST

/* What reaches the package (white box, sa__identity_copy): the strings in
 * UTF-8 whatever the form, and for Negotiate the mechanisms its PackageList
 * leaves; never 0 mechanisms (package.h), also for other packages. */
START_TEST(test_identity_copy_gives_the_packages_one_utf8_identity)
{
	static const struct {
		const struct sa_package *pkg;
		const char *list;
		unsigned mechs;
	} cases[] = {
		{&sa__negotiate, NULL, SA_PKG_MECH_ALL},
		{&sa__negotiate, "", SA_PKG_MECH_ALL},
		{&sa__negotiate, "!Kerberos", SA_PKG_MECH_NTLM},
		{&sa__negotiate, "!NTLM", SA_PKG_MECH_KERBEROS},
		{&sa__negotiate, "NTLM", SA_PKG_MECH_NTLM},
		{&sa__negotiate, "kerberos", SA_PKG_MECH_KERBEROS},
		{&sa__negotiate, "Kerberos, NTLM", SA_PKG_MECH_ALL},
		{&sa__negotiate, "Kerberos,NTLM,!Kerberos", SA_PKG_MECH_NTLM},
		{&sa__ntlm, "NTLM", SA_PKG_MECH_ALL},
		{&sa__ntlm, "kerberos, ntlm", SA_PKG_MECH_ALL},
		{&sa__ntlm, "!Kerberos", SA_PKG_MECH_ALL},
		{&sa__testpkg, "SspiAsyncTest", SA_PKG_MECH_ALL},
	};
	for (int f = 0; f < F_COUNT; f++) {
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			if (cases[i].list != NULL && !form_ex((enum form)f))
				continue;
			struct ident id;
			struct sa_pkg_identity pid;
			uint64_t live = tl_live_blocks();
			void *auth = ident_make(&id, (enum form)f, U_USER, U_DOMAIN, U_PASSWORD,
						cases[i].list);
			ck_assert_int_eq(sa__identity_copy(auth, cases[i].pkg, &pid), SEC_E_OK);
			ck_assert_str_eq(pid.user, U_USER);
			ck_assert_str_eq(pid.domain, U_DOMAIN);
			ck_assert_str_eq(pid.password, U_PASSWORD);
			ck_assert_msg(pid.mechs == cases[i].mechs, "%s, %s, \"%s\": mechs %u, expected %u",
				      form_name[f], cases[i].pkg->name,
				      cases[i].list ? cases[i].list : "(none)", pid.mechs,
				      cases[i].mechs);
			sa__identity_free(&pid);
			ck_assert_ptr_null(pid.user);
			ck_assert_ptr_null(pid.password);
			ck_assert_uint_eq(tl_live_blocks(), live);
		}
		/* NULL strings are empty, never NULL */
		struct ident id;
		struct sa_pkg_identity pid;
		ck_assert_int_eq(sa__identity_copy(ident_make(&id, (enum form)f, NULL, NULL, NULL, NULL),
						   &sa__ntlm, &pid),
				 SEC_E_OK);
		ck_assert(pid.user != NULL && pid.domain != NULL && pid.password != NULL);
		ck_assert_str_eq(pid.user, "");
		ck_assert_str_eq(pid.password, "");
		sa__identity_free(&pid);
	}
	finish();
}
END_TEST

/* =================================================================================== */
/* 4. The functions not implemented yet                                                 */
/* =================================================================================== */

enum uf {
	UF_APPLY_CONTROL_TOKEN,
	UF_IMPERSONATE,
	UF_REVERT,
	UF_QUERY_TOKEN,
	UF_EXPORT,
	UF_IMPORT,
	UF_ADD_CREDENTIALS,
	UF_SET_CONTEXT_ATTRIBUTES,
	UF_QUERY_CONTEXT_ATTRIBUTES_EX,
	UF_SET_CREDENTIALS_ATTRIBUTES,
	UF_QUERY_CREDENTIALS_ATTRIBUTES_EX,
	UF_CHANGE_PASSWORD,
	UF_COUNT
};

enum uf_on { ON_CTX, ON_CRED, ON_NONE };

static const struct {
	const char *name;
	enum uf_on on;
	int n_required; /* pointers whose NULL is SEC_E_INVALID_PARAMETER */
	int has_pkg;
} uf_desc[UF_COUNT] = {
	[UF_APPLY_CONTROL_TOKEN] = {"ApplyControlToken", ON_CTX, 1, 0},
	[UF_IMPERSONATE] = {"ImpersonateSecurityContext", ON_CTX, 0, 0},
	[UF_REVERT] = {"RevertSecurityContext", ON_CTX, 0, 0},
	[UF_QUERY_TOKEN] = {"QuerySecurityContextToken", ON_CTX, 1, 0},
	[UF_EXPORT] = {"ExportSecurityContext", ON_CTX, 1, 0},
	[UF_IMPORT] = {"ImportSecurityContext", ON_NONE, 3, 1},
	[UF_ADD_CREDENTIALS] = {"AddCredentials", ON_CRED, 1, 1},
	[UF_SET_CONTEXT_ATTRIBUTES] = {"SetContextAttributes", ON_CTX, 1, 0},
	[UF_QUERY_CONTEXT_ATTRIBUTES_EX] = {"QueryContextAttributesEx", ON_CTX, 1, 0},
	[UF_SET_CREDENTIALS_ATTRIBUTES] = {"SetCredentialsAttributes", ON_CRED, 1, 0},
	[UF_QUERY_CREDENTIALS_ATTRIBUTES_EX] = {"QueryCredentialsAttributesEx", ON_CRED, 1, 0},
	[UF_CHANGE_PASSWORD] = {"ChangeAccountPassword", ON_NONE, 6, 1},
};

/* Everything these functions may write, and the inputs they must not. */
struct uf_io {
	HANDLE token;             /* QuerySecurityContextToken */
	SecBuffer packed;         /* ExportSecurityContext out, ImportSecurityContext in */
	unsigned char packed_bytes[32];
	void *ptoken;             /* ExportSecurityContext */
	unsigned char attr[64];   /* the attribute buffers */
	CtxtHandle imported;      /* ImportSecurityContext */
	TimeStamp ts;             /* AddCredentials */
	unsigned char pw_bytes[32];
	SecBuffer pw_b;           /* ChangeAccountPassword's output */
	SecBufferDesc pw_d;
	unsigned char ctl_bytes[16];
	SecBuffer ctl_b;          /* ApplyControlToken's input */
	SecBufferDesc ctl_d;
};

static void uf_io_reset(struct uf_io *o)
{
	o->token = (HANDLE)&o->token;
	memset(o->packed_bytes, PAT, sizeof o->packed_bytes);
	o->packed = (SecBuffer){sizeof o->packed_bytes, SECBUFFER_EMPTY, o->packed_bytes};
	o->ptoken = &o->ptoken;
	memset(o->attr, PAT, sizeof o->attr);
	handle_pat(&o->imported);
	o->ts.QuadPart = PAT_TIME;
	memset(o->pw_bytes, PAT, sizeof o->pw_bytes);
	o->pw_b = (SecBuffer){sizeof o->pw_bytes, SECBUFFER_TOKEN, o->pw_bytes};
	o->pw_d = (SecBufferDesc){SECBUFFER_VERSION, 1, &o->pw_b};
	memset(o->ctl_bytes, PAT, sizeof o->ctl_bytes);
	o->ctl_b = (SecBuffer){sizeof o->ctl_bytes, SECBUFFER_TOKEN, o->ctl_bytes};
	o->ctl_d = (SecBufferDesc){SECBUFFER_VERSION, 1, &o->ctl_b};
}

static const char *uf_io_changed(const struct uf_io *o)
{
	if (o->token != (HANDLE)&o->token)
		return "*Token";
	if (o->packed.cbBuffer != sizeof o->packed_bytes || o->packed.pvBuffer != o->packed_bytes ||
	    o->packed.BufferType != SECBUFFER_EMPTY || !bytes_are(o->packed_bytes, sizeof o->packed_bytes, PAT))
		return "the packed context";
	if (o->ptoken != &o->ptoken)
		return "*pToken";
	if (!bytes_are(o->attr, sizeof o->attr, PAT))
		return "the attribute buffer";
	if (!handle_is_pat(&o->imported))
		return "the imported context handle";
	if (o->ts.QuadPart != PAT_TIME)
		return "*ptsExpiry";
	if (o->pw_b.cbBuffer != sizeof o->pw_bytes || o->pw_b.pvBuffer != o->pw_bytes ||
	    !bytes_are(o->pw_bytes, sizeof o->pw_bytes, PAT) || o->pw_d.cBuffers != 1)
		return "ChangeAccountPassword's output";
	if (o->ctl_b.cbBuffer != sizeof o->ctl_bytes || !bytes_are(o->ctl_bytes, sizeof o->ctl_bytes, PAT))
		return "ApplyControlToken's input";
	return NULL;
}

/* How to call: @via 0 the A (or only) name, 1 InitSecurityInterfaceA's
 * slot, 2 the W (or only) name, 3 InitSecurityInterfaceW's slot. */
struct uf_args {
	int via;
	SecHandle *h;     /* the context or credential (ON_CTX, ON_CRED) */
	int pkg;          /* 0 the test package, 1 an unknown one, 2 ill-formed UTF-16 (W only) */
	int null_k;       /* 0 none, else the k-th required pointer is NULL */
	int bad_extra;    /* 1: the function's own structural error (flags, use, reserved, desc) */
};

#define DISPATCH(fn, ...)                                                                  \
	(a->via == 0 || a->via == 2 ? fn(__VA_ARGS__)                                      \
	 : a->via == 1              ? ta->fn(__VA_ARGS__)                                  \
				    : tw->fn(__VA_ARGS__))
#define DISPATCH_AW(fa, fw, aargs, wargs)                                                 \
	(a->via == 0 ? fa aargs : a->via == 1 ? ta->fa aargs : a->via == 2 ? fw wargs : tw->fw wargs)

static SECURITY_STATUS uf_call(enum uf f, const struct uf_args *a, struct uf_io *o)
{
	PSecurityFunctionTableA ta = InitSecurityInterfaceA();
	PSecurityFunctionTableW tw = InitSecurityInterfaceW();
	static char pa_known[] = "SspiAsyncTest", pa_unknown[] = "NoSuchPackage";
	static SEC_WCHAR pw_known[] = u"SspiAsyncTest", pw_unknown[] = u"NoSuchPackage",
			 pw_bad[] = {'S', 0xD800, 0};
	char *pa = a->pkg == 0 ? pa_known : pa_unknown;
	SEC_WCHAR *pw = a->pkg == 0 ? pw_known : a->pkg == 1 ? pw_unknown : pw_bad;
	int k = a->null_k;
	switch (f) {
	case UF_APPLY_CONTROL_TOKEN: {
		if (a->bad_extra)
			o->ctl_d.ulVersion = SECBUFFER_VERSION + 1;
		PSecBufferDesc in = k == 1 ? NULL : &o->ctl_d;
		SECURITY_STATUS st = DISPATCH(ApplyControlToken, a->h, in);
		o->ctl_d.ulVersion = SECBUFFER_VERSION;
		return st;
	}
	case UF_IMPERSONATE:
		return DISPATCH(ImpersonateSecurityContext, a->h);
	case UF_REVERT:
		return DISPATCH(RevertSecurityContext, a->h);
	case UF_QUERY_TOKEN:
		return DISPATCH(QuerySecurityContextToken, a->h, k == 1 ? NULL : &o->token);
	case UF_EXPORT:
		return DISPATCH(ExportSecurityContext, a->h, a->bad_extra ? 0x100u : 0u,
				k == 1 ? NULL : &o->packed, &o->ptoken);
	case UF_IMPORT: {
		char *p8 = k == 1 ? NULL : pa;
		SEC_WCHAR *p16 = k == 1 ? NULL : pw;
		PSecBuffer packed = k == 2 ? NULL : &o->packed;
		PCtxtHandle out = k == 3 ? NULL : &o->imported;
		return DISPATCH_AW(ImportSecurityContextA, ImportSecurityContextW,
				   (p8, packed, NULL, out), (p16, packed, NULL, out));
	}
	case UF_ADD_CREDENTIALS: {
		char *p8 = k == 1 ? NULL : pa;
		SEC_WCHAR *p16 = k == 1 ? NULL : pw;
		unsigned long use = a->bad_extra ? 0 : SECPKG_CRED_OUTBOUND;
		return DISPATCH_AW(AddCredentialsA, AddCredentialsW,
				   (a->h, NULL, p8, use, NULL, NULL, NULL, &o->ts),
				   (a->h, NULL, p16, use, NULL, NULL, NULL, &o->ts));
	}
	case UF_SET_CONTEXT_ATTRIBUTES: {
		void *b = k == 1 ? NULL : o->attr;
		return DISPATCH_AW(SetContextAttributesA, SetContextAttributesW,
				   (a->h, SECPKG_ATTR_NAMES, b, sizeof o->attr),
				   (a->h, SECPKG_ATTR_NAMES, b, sizeof o->attr));
	}
	case UF_QUERY_CONTEXT_ATTRIBUTES_EX: {
		void *b = k == 1 ? NULL : o->attr;
		return DISPATCH_AW(QueryContextAttributesExA, QueryContextAttributesExW,
				   (a->h, SECPKG_ATTR_SIZES, b, sizeof o->attr),
				   (a->h, SECPKG_ATTR_SIZES, b, sizeof o->attr));
	}
	case UF_SET_CREDENTIALS_ATTRIBUTES: {
		void *b = k == 1 ? NULL : o->attr;
		return DISPATCH_AW(SetCredentialsAttributesA, SetCredentialsAttributesW,
				   (a->h, SECPKG_CRED_ATTR_NAMES, b, sizeof o->attr),
				   (a->h, SECPKG_CRED_ATTR_NAMES, b, sizeof o->attr));
	}
	case UF_QUERY_CREDENTIALS_ATTRIBUTES_EX: {
		void *b = k == 1 ? NULL : o->attr;
		return DISPATCH_AW(QueryCredentialsAttributesExA, QueryCredentialsAttributesExW,
				   (a->h, SECPKG_CRED_ATTR_NAMES, b, sizeof o->attr),
				   (a->h, SECPKG_CRED_ATTR_NAMES, b, sizeof o->attr));
	}
	default: { /* UF_CHANGE_PASSWORD */
		static char d8[] = "DOM", u8[] = "alice", o8[] = "old", n8[] = "new";
		static SEC_WCHAR d16[] = u"DOM", u16[] = u"alice", o16[] = u"old", n16[] = u"new";
		char *s8[5] = {pa, d8, u8, o8, n8};
		SEC_WCHAR *s16[5] = {pw, d16, u16, o16, n16};
		if (k >= 1 && k <= 5)
			s8[k - 1] = NULL, s16[k - 1] = NULL;
		PSecBufferDesc out = k == 6 ? NULL : &o->pw_d;
		unsigned long reserved = a->bad_extra ? 1 : 0;
		return DISPATCH_AW(ChangeAccountPasswordA, ChangeAccountPasswordW,
				   (s8[0], s8[1], s8[2], s8[3], s8[4], 0, reserved, out),
				   (s16[0], s16[1], s16[2], s16[3], s16[4], 0, reserved, out));
	}
	}
}

static const char *const uf_via[4] = {"A name", "A table slot", "W name", "W table slot"};

/* One call: its status must be @want, with nothing written, allocated or
 * counted. */
static void uf_expect(enum uf f, const struct uf_args *a, SECURITY_STATUS want, const char *what)
{
	struct uf_io o;
	uf_io_reset(&o);
	uint64_t live = tl_live_blocks();
	struct sspiasync_statistics s0 = stats();
	SECURITY_STATUS st = uf_call(f, a, &o);
	ck_assert_msg(st == want, "%s (%s), %s: 0x%08x, expected 0x%08x", uf_desc[f].name,
		      uf_via[a->via], what, (unsigned)st, (unsigned)want);
	const char *changed = uf_io_changed(&o);
	ck_assert_msg(changed == NULL, "%s (%s), %s: wrote %s", uf_desc[f].name, uf_via[a->via], what,
		      changed);
	ck_assert_msg(tl_live_blocks() == live, "%s (%s), %s: left blocks", uf_desc[f].name,
		      uf_via[a->via], what);
	struct sspiasync_statistics s1 = stats();
	ck_assert_uint_eq(s1.credentials, s0.credentials);
	ck_assert_uint_eq(s1.contexts, s0.contexts);
}

START_TEST(test_unsupported_functions_check_handles_first)
{
	int via = _i;
	/* A complete pair of the test package, a deleted context and a freed credential. */
	struct whs h;
	whs_init(&h, &direct_w);
	ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, NULL, &h.cc), SEC_E_OK);
	ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
	whs_ok(&h, u"host/unsupported");
	struct whs g;
	whs_init(&g, &direct_w);
	ck_assert_int_eq(acquire_w(g.f, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, NULL, &g.cc), SEC_E_OK);
	ck_assert_int_eq(acquire_w(g.f, u"SspiAsyncTest", SECPKG_CRED_INBOUND, NULL, &g.sc), SEC_E_OK);
	whs_ok(&g, u"host/gone");
	CtxtHandle stale_ctx = g.c;
	CredHandle stale_cred = g.cc;
	whs_free(&g);
	CtxtHandle forged = {0x1234, 0x5678}, zeroed = {0, 0}, invalidated;
	SecInvalidateHandle(&invalidated);

	for (int f = 0; f < UF_COUNT; f++) {
		enum uf_on on = uf_desc[f].on;
		struct uf_args a = {via, NULL, 0, 0, 0};
		SecHandle *good = on == ON_CTX ? &h.c : on == ON_CRED ? &h.cc : NULL;
		if (on != ON_NONE) {
			SecHandle *bad[] = {NULL, on == ON_CTX ? &stale_ctx : &stale_cred, &forged, &zeroed,
					    &invalidated, on == ON_CTX ? &h.cc : &h.c};
			const char *bad_what[] = {"NULL handle", "stale handle", "forged handle",
						  "zeroed handle", "invalidated handle",
						  "wrong-kind handle"};
			for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
				a.h = bad[i];
				uf_expect((enum uf)f, &a, SEC_E_INVALID_HANDLE, bad_what[i]);
			}
		}
		/* a NULL required pointer: refused before the handle is looked at */
		for (int k = 1; k <= uf_desc[f].n_required; k++) {
			char what[64];
			snprintf(what, sizeof what, "required pointer %d NULL", k);
			a = (struct uf_args){via, good, 0, k, 0};
			uf_expect((enum uf)f, &a, SEC_E_INVALID_PARAMETER, what);
			if (on != ON_NONE) {
				a.h = &stale_ctx;
				uf_expect((enum uf)f, &a, SEC_E_INVALID_PARAMETER, what);
			}
		}
		/* the function's own structural errors */
		if (f == UF_APPLY_CONTROL_TOKEN || f == UF_EXPORT || f == UF_ADD_CREDENTIALS ||
		    f == UF_CHANGE_PASSWORD) {
			a = (struct uf_args){via, good, 0, 0, 1};
			uf_expect((enum uf)f, &a, SEC_E_INVALID_PARAMETER, "bad desc/flags/use/reserved");
			if (on != ON_NONE) {
				a.h = &forged;
				uf_expect((enum uf)f, &a, SEC_E_INVALID_PARAMETER,
					  "bad desc/flags/use/reserved, forged handle");
			}
		}
		/* the package: unknown, or ill-formed UTF-16 (the W forms) */
		if (uf_desc[f].has_pkg) {
			a = (struct uf_args){via, good, 1, 0, 0};
			uf_expect((enum uf)f, &a, SEC_E_SECPKG_NOT_FOUND, "unknown package");
			if (via >= 2) {
				a.pkg = 2;
				uf_expect((enum uf)f, &a, SEC_E_INVALID_PARAMETER, "ill-formed package");
			}
		}
		/* everything right: not implemented, nothing changed */
		a = (struct uf_args){via, good, 0, 0, 0};
		uf_expect((enum uf)f, &a, SEC_E_UNSUPPORTED_FUNCTION, "valid arguments");
	}
	/* the context and credentials are as they were: still usable */
	unsigned char data[8] = "message", sig[SIG_LEN];
	SecBuffer mb[2] = {{sizeof data, SECBUFFER_DATA, data}, {sizeof sig, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	unsigned long qop;
	ck_assert_int_eq(MakeSignature(&h.c, 0, &md, 0), SEC_E_OK);
	ck_assert_int_eq(VerifySignature(&h.s, &md, 0, &qop), SEC_E_OK);
	char name[64];
	ck_assert_str_eq(cred_name(&h.cc, name, sizeof name), "anonymous");
	whs_free(&h);
	finish();
}
END_TEST

/* AddCredentials reads its identity as AcquireCredentialsHandle does (after
 * the use, principal and package; before the handle), and
 * ImportSecurityContext refuses a packed buffer claiming bytes at NULL. */
START_TEST(test_unsupported_add_credentials_and_import_check_their_inputs)
{
	CredHandle cc;
	ck_assert_int_eq(acquire_w(&direct_w, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, NULL, &cc),
			 SEC_E_OK);
	CredHandle forged = {0x1234, 0x5678};
	static const struct {
		unsigned long flags;
		const char *list;
		SECURITY_STATUS expect; /* on a valid credential */
		int identity_ok;        /* 1: a forged credential is then what is refused */
	} cases[] = {
		{0, NULL, SEC_E_UNSUPPORTED_FUNCTION, 1},
		{SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE, NULL,
		 SEC_E_INVALID_PARAMETER, 0},
		{SEC_WINNT_AUTH_IDENTITY_FLAGS_RESERVED, NULL, SEC_E_INVALID_PARAMETER, 0},
		/* an identity it could never honour is an argument's answer, before the handle */
		{SEC_WINNT_AUTH_IDENTITY_MARSHALLED, NULL, SEC_E_UNSUPPORTED_FUNCTION, 0},
		{0, "NTLM", SEC_E_SECPKG_NOT_FOUND, 0},
		{0, "!SspiAsyncTest", SEC_E_SECPKG_NOT_FOUND, 0},
		{0, "SspiAsyncTest", SEC_E_UNSUPPORTED_FUNCTION, 1},
	};
	for (int f = 0; f < F_COUNT; f++) {
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			if (cases[i].list != NULL && !form_ex((enum form)f))
				continue;
			struct ident id;
			void *auth = ident_make(&id, (enum form)f, "alice", "DOM", "pw", cases[i].list);
			*ident_flags(&id) |= cases[i].flags;
			for (int wide = 0; wide < 2; wide++) {
				for (int good = 0; good < 2; good++) {
					TimeStamp ts;
					ts.QuadPart = PAT_TIME;
					uint64_t live = tl_live_blocks();
					CredHandle *h = good ? &cc : &forged;
					SECURITY_STATUS want = cases[i].expect;
					if (!good && cases[i].identity_ok)
						want = SEC_E_INVALID_HANDLE;
					SECURITY_STATUS st =
						wide ? AddCredentialsW(h, u"svc", u"SspiAsyncTest",
								       SECPKG_CRED_OUTBOUND, auth, NULL,
								       NULL, &ts)
						     : AddCredentialsA(h, "svc", pkg_name, SECPKG_CRED_OUTBOUND,
								       auth, NULL, NULL, &ts);
					ck_assert_msg(st == want,
						      "AddCredentials%s, %s, case %zu, %s credential: "
						      "0x%08x, expected 0x%08x",
						      wide ? "W" : "A", form_name[f], i,
						      good ? "valid" : "forged", (unsigned)st,
						      (unsigned)want);
					ck_assert_int_eq(ts.QuadPart, PAT_TIME);
					ck_assert_uint_eq(tl_live_blocks(), live);
				}
			}
		}
	}
	/* ImportSecurityContext: a packed context claiming bytes at NULL */
	SecBuffer packed = {16, SECBUFFER_EMPTY, NULL};
	CtxtHandle out;
	handle_pat(&out);
	ck_assert_int_eq(ImportSecurityContextA(pkg_name, &packed, NULL, &out), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(ImportSecurityContextW(u"SspiAsyncTest", &packed, NULL, &out),
			 SEC_E_INVALID_PARAMETER);
	packed.cbBuffer = 0;
	ck_assert_int_eq(ImportSecurityContextA(pkg_name, &packed, NULL, &out),
			 SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert(handle_is_pat(&out));
	ck_assert_int_eq(FreeCredentialsHandle(&cc), SEC_E_OK);
	finish();
}
END_TEST

/* The W attributes whose strings wide.c does not convert are refused by the
 * W call itself (arguments, then handle, then SEC_E_UNSUPPORTED_FUNCTION),
 * never passed through to an A answer holding UTF-8. */
START_TEST(test_wide_unconverted_string_attributes_are_refused)
{
	struct whs h;
	whs_init(&h, &direct_w);
	ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, NULL, &h.cc), SEC_E_OK);
	ck_assert_int_eq(acquire_w(h.f, u"SspiAsyncTest", SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
	whs_ok(&h, u"host/attrs");
	CtxtHandle stale = {0x1234, 0x5678};
	static const unsigned long attrs[] = {SECPKG_ATTR_KEY_INFO, SECPKG_ATTR_AUTHORITY,
					      SECPKG_ATTR_PROTO_INFO, SECPKG_ATTR_CREDENTIAL_NAME};
	unsigned char buf[64];
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		memset(buf, PAT, sizeof buf);
		ck_assert_int_eq(QueryContextAttributesW(&h.c, attrs[i], NULL), SEC_E_INVALID_PARAMETER);
		ck_assert_int_eq(QueryContextAttributesW(NULL, attrs[i], buf), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(QueryContextAttributesW(&stale, attrs[i], buf), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(QueryContextAttributesW(&h.cc, attrs[i], buf), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(QueryContextAttributesW(&h.c, attrs[i], buf), SEC_E_UNSUPPORTED_FUNCTION);
		ck_assert(bytes_are(buf, sizeof buf, PAT));
	}
	memset(buf, PAT, sizeof buf);
	ck_assert_int_eq(QueryCredentialsAttributesW(&h.cc, SECPKG_CRED_ATTR_SSI_PROVIDER, NULL),
			 SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(QueryCredentialsAttributesW(NULL, SECPKG_CRED_ATTR_SSI_PROVIDER, buf),
			 SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(QueryCredentialsAttributesW(&h.c, SECPKG_CRED_ATTR_SSI_PROVIDER, buf),
			 SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(QueryCredentialsAttributesW(&h.cc, SECPKG_CRED_ATTR_SSI_PROVIDER, buf),
			 SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert(bytes_are(buf, sizeof buf, PAT));
	whs_free(&h);
	finish();
}
END_TEST

/* =================================================================================== */
/* 5. The tables                                                                        */
/* =================================================================================== */

START_TEST(test_wide_tables_match_windows_slots)
{
	PSecurityFunctionTableA ta = InitSecurityInterfaceA();
	PSecurityFunctionTableW tw = InitSecurityInterfaceW();
	ck_assert_ptr_nonnull(ta);
	ck_assert_ptr_nonnull(tw);
	ck_assert_ptr_eq(ta, InitSecurityInterfaceA());
	ck_assert_ptr_eq(tw, InitSecurityInterfaceW());
	ck_assert_ptr_eq(InitSecurityInterface(), ta); /* no UNICODE: the A table */
	ck_assert_uint_eq(ta->dwVersion, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4);
	ck_assert_uint_eq(tw->dwVersion, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4);

	ck_assert(ta->EnumerateSecurityPackagesA == EnumerateSecurityPackagesA);
	ck_assert(ta->QueryCredentialsAttributesA == QueryCredentialsAttributesA);
	ck_assert(ta->AcquireCredentialsHandleA == AcquireCredentialsHandleA);
	ck_assert(ta->FreeCredentialHandle == FreeCredentialsHandle);
	ck_assert(ta->FreeCredentialsHandle == FreeCredentialsHandle);
	ck_assert_ptr_null(ta->Reserved2);
	ck_assert(ta->InitializeSecurityContextA == InitializeSecurityContextA);
	ck_assert(ta->AcceptSecurityContext == AcceptSecurityContext);
	ck_assert(ta->CompleteAuthToken == CompleteAuthToken);
	ck_assert(ta->DeleteSecurityContext == DeleteSecurityContext);
	ck_assert(ta->ApplyControlToken == ApplyControlToken);
	ck_assert(ta->QueryContextAttributesA == QueryContextAttributesA);
	ck_assert(ta->ImpersonateSecurityContext == ImpersonateSecurityContext);
	ck_assert(ta->RevertSecurityContext == RevertSecurityContext);
	ck_assert(ta->MakeSignature == MakeSignature);
	ck_assert(ta->VerifySignature == VerifySignature);
	ck_assert(ta->FreeContextBuffer == FreeContextBuffer);
	ck_assert(ta->QuerySecurityPackageInfoA == QuerySecurityPackageInfoA);
	ck_assert(ta->ExportSecurityContext == ExportSecurityContext);
	ck_assert(ta->ImportSecurityContextA == ImportSecurityContextA);
	ck_assert(ta->AddCredentialsA == AddCredentialsA);
	ck_assert_ptr_null(ta->Reserved8);
	ck_assert(ta->QuerySecurityContextToken == QuerySecurityContextToken);
	ck_assert(ta->EncryptMessage == EncryptMessage);
	ck_assert(ta->DecryptMessage == DecryptMessage);
	ck_assert(ta->SetContextAttributesA == SetContextAttributesA);
	ck_assert(ta->SetCredentialsAttributesA == SetCredentialsAttributesA);
	ck_assert(ta->ChangeAccountPasswordA == ChangeAccountPasswordA);
	ck_assert(ta->QueryContextAttributesExA == QueryContextAttributesExA);
	ck_assert(ta->QueryCredentialsAttributesExA == QueryCredentialsAttributesExA);

	ck_assert(tw->EnumerateSecurityPackagesW == EnumerateSecurityPackagesW);
	ck_assert(tw->QueryCredentialsAttributesW == QueryCredentialsAttributesW);
	ck_assert(tw->AcquireCredentialsHandleW == AcquireCredentialsHandleW);
	ck_assert(tw->FreeCredentialHandle == FreeCredentialsHandle);
	ck_assert(tw->FreeCredentialsHandle == FreeCredentialsHandle);
	ck_assert_ptr_null(tw->Reserved2);
	ck_assert(tw->InitializeSecurityContextW == InitializeSecurityContextW);
	ck_assert(tw->AcceptSecurityContext == AcceptSecurityContext);
	ck_assert(tw->CompleteAuthToken == CompleteAuthToken);
	ck_assert(tw->DeleteSecurityContext == DeleteSecurityContext);
	ck_assert(tw->ApplyControlToken == ApplyControlToken);
	ck_assert(tw->QueryContextAttributesW == QueryContextAttributesW);
	ck_assert(tw->ImpersonateSecurityContext == ImpersonateSecurityContext);
	ck_assert(tw->RevertSecurityContext == RevertSecurityContext);
	ck_assert(tw->MakeSignature == MakeSignature);
	ck_assert(tw->VerifySignature == VerifySignature);
	ck_assert(tw->FreeContextBuffer == FreeContextBuffer);
	ck_assert(tw->QuerySecurityPackageInfoW == QuerySecurityPackageInfoW);
	ck_assert(tw->ExportSecurityContext == ExportSecurityContext);
	ck_assert(tw->ImportSecurityContextW == ImportSecurityContextW);
	ck_assert(tw->AddCredentialsW == AddCredentialsW);
	ck_assert_ptr_null(tw->Reserved8);
	ck_assert(tw->QuerySecurityContextToken == QuerySecurityContextToken);
	ck_assert(tw->EncryptMessage == EncryptMessage);
	ck_assert(tw->DecryptMessage == DecryptMessage);
	ck_assert(tw->SetContextAttributesW == SetContextAttributesW);
	ck_assert(tw->SetCredentialsAttributesW == SetCredentialsAttributesW);
	ck_assert(tw->ChangeAccountPasswordW == ChangeAccountPasswordW);
	ck_assert(tw->QueryContextAttributesExW == QueryContextAttributesExW);
	ck_assert(tw->QueryCredentialsAttributesExW == QueryCredentialsAttributesExW);

	/* Reserved3/4: the old Seal/Unseal slots hold EncryptMessage/DecryptMessage */
	for (int t = 0; t < 2; t++) {
		void *const *r3 = t ? &tw->Reserved3 : &ta->Reserved3;
		void *const *r4 = t ? &tw->Reserved4 : &ta->Reserved4;
		ENCRYPT_MESSAGE_FN seal = NULL;
		DECRYPT_MESSAGE_FN unseal = NULL;
		ck_assert_ptr_nonnull(*r3);
		ck_assert_ptr_nonnull(*r4);
		memcpy(&seal, r3, sizeof seal);
		memcpy(&unseal, r4, sizeof unseal);
		ck_assert(seal == EncryptMessage);
		ck_assert(unseal == DecryptMessage);
	}

	/* FreeCredentialHandle and FreeCredentialsHandle both compile and free,
	 * in both tables; the second free of a handle is refused. */
	CredHandle c[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(acquire_w(tw, u"SspiAsyncTest", SECPKG_CRED_BOTH, NULL, &c[i]), SEC_E_OK);
	ck_assert_uint_eq(stats().credentials, 4);
	ck_assert_int_eq(ta->FreeCredentialHandle(&c[0]), SEC_E_OK);
	ck_assert_int_eq(ta->FreeCredentialsHandle(&c[1]), SEC_E_OK);
	ck_assert_int_eq(tw->FreeCredentialHandle(&c[2]), SEC_E_OK);
	ck_assert_int_eq(tw->FreeCredentialsHandle(&c[3]), SEC_E_OK);
	ck_assert_uint_eq(stats().credentials, 0);
	ck_assert_int_eq(ta->FreeCredentialHandle(&c[1]), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(tw->FreeCredentialsHandle(&c[0]), SEC_E_INVALID_HANDLE);
	finish();
}
END_TEST

/* Seal and unseal through the Reserved3/4 slots, as code written for the
 * old names does. */
START_TEST(test_wide_reserved_slots_seal_and_unseal)
{
	PSecurityFunctionTableW tw = InitSecurityInterfaceW();
	struct whs h;
	whs_init(&h, tw);
	ck_assert_int_eq(acquire_w(tw, u"SspiAsyncTest", SECPKG_CRED_OUTBOUND, NULL, &h.cc), SEC_E_OK);
	ck_assert_int_eq(acquire_w(tw, u"SspiAsyncTest", SECPKG_CRED_INBOUND, NULL, &h.sc), SEC_E_OK);
	whs_ok(&h, u"host/seal");
	ENCRYPT_MESSAGE_FN seal;
	DECRYPT_MESSAGE_FN unseal;
	memcpy(&seal, &tw->Reserved3, sizeof seal);
	memcpy(&unseal, &tw->Reserved4, sizeof unseal);
	unsigned char data[12] = "sealed text", sig[SIG_LEN];
	SecBuffer mb[2] = {{sizeof data, SECBUFFER_DATA, data}, {sizeof sig, SECBUFFER_TOKEN, sig}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	unsigned long qop = PAT_ATTR;
	ck_assert_int_eq(seal(&h.c, 0, &md, 1), SEC_E_OK);
	ck_assert(memcmp(data, "sealed text", sizeof data) != 0);
	ck_assert_int_eq(unseal(&h.s, &md, 1, &qop), SEC_E_OK);
	ck_assert(memcmp(data, "sealed text", sizeof data) == 0);
	whs_free(&h);
	finish();
}
END_TEST

/* ---- main ------------------------------------------------------------------------------ */

static Suite *wide_suite(void)
{
	Suite *s = suite_create("wide");
	TCase *tc = tcase(s, "utf16", 30);
	tcase_add_test(tc, test_wide_utf16_round_trips_bmp_and_non_bmp);
	tcase_add_test(tc, test_wide_utf16_partial_room_writes_whole_code_points_only);
	tcase_add_test(tc, test_wide_utf16_rejects_lone_and_reversed_surrogates);
	tcase_add_test(tc, test_wide_utf8_ill_formed_becomes_replacement_character);

	tc = tcase(s, "calls", 60);
	tcase_add_test(tc, test_wide_ill_formed_strings_are_invalid_parameter_before_anything);
	tcase_add_loop_test(tc, test_wide_handshake_and_attributes_with_test_package, 0, 2);
	tcase_add_test(tc, test_wide_test_package_acceptor_refuses_other_password);
	tcase_add_loop_test(tc, test_wide_enumerate_packages_matches_a_names, 0, 2);
	tcase_add_test(tc, test_wide_oom_every_allocation_untouched_and_leak_free);
	tcase_add_test(tc, test_wide_async_forms_queue_complete_and_copy_their_strings);

	tc = tcase(s, "identity", 120);
	tcase_add_test(tc, test_identity_every_form_pair_is_one_identity_for_the_test_package);
	tcase_add_test(tc, test_identity_lengths_cut_the_strings);
	tcase_add_test(tc, test_identity_flags_every_bit_every_form_every_entry_point);
	tcase_add_test(tc, test_identity_malformed_strings_and_versions_are_refused);
	tcase_add_test(tc, test_identity_copy_gives_the_packages_one_utf8_identity);

	/* NTLM and Negotiate: the user file, Kerberos kept out of the environment */
	tc = tcase_create("ntlm");
	tcase_add_checked_fixture(tc, users_setup, users_teardown);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(tc, test_wide_ntlm_handshake_and_attributes, 0, 2);
	tcase_add_loop_test(tc, test_identity_negotiate_without_kerberos_runs_ntlm, 0, 4);
	tcase_add_test(tc, test_wide_negotiation_info_while_in_progress);
	tcase_add_test(tc, test_identity_package_list_every_form_every_entry_point);
	tcase_add_loop_test(tc, test_identity_every_form_authenticates_the_same_ntlm_user, 0,
			    VIA_COUNT * F_COUNT);
	tcase_add_loop_test(tc, test_identity_negotiate_without_ntlm_never_falls_back, 0, VIA_COUNT);

	tc = tcase(s, "unsupported", 60);
	tcase_add_loop_test(tc, test_unsupported_functions_check_handles_first, 0, 4);
	tcase_add_test(tc, test_unsupported_add_credentials_and_import_check_their_inputs);
	tcase_add_test(tc, test_wide_unconverted_string_attributes_are_refused);

	tc = tcase(s, "tables", 30);
	tcase_add_test(tc, test_wide_tables_match_windows_slots);
	tcase_add_test(tc, test_wide_reserved_slots_seal_and_unseal);
	return s;
}

int main(void)
{
	return tl_run_suite(wide_suite());
}
