/*
 * check_sspi_header.c - the declarations of include/sspiasync/sspi.h: sizes,
 * the exact value of the status codes and flags (expected values written by
 * hand from the design's SSPI reference, sections 8-9, and Microsoft's
 * winerror.h/sspi.h numbering), the handle macros and the layout of
 * SecurityFunctionTableA.  Header only: it calls no library function, and the
 * prototype checks use _Generic, whose operand is never evaluated, so no
 * symbol of the library is referenced.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <sspiasync/sspi.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* 1 iff expression @e has exactly type @T (the operand is not evaluated). */
#define HAS_TYPE(e, T) _Generic((e), T: 1, default: 0)

/* Prototypes agree with the dispatch-table slot types, so the library can
 * fill the table with its real functions and ported `unsigned long` code
 * passes &attrs without a cast. */
_Static_assert(HAS_TYPE(EnumerateSecurityPackagesA, ENUMERATE_SECURITY_PACKAGES_FN_A), "");
_Static_assert(HAS_TYPE(QueryCredentialsAttributesA, QUERY_CREDENTIALS_ATTRIBUTES_FN_A), "");
_Static_assert(HAS_TYPE(AcquireCredentialsHandleA, ACQUIRE_CREDENTIALS_HANDLE_FN_A), "");
_Static_assert(HAS_TYPE(FreeCredentialsHandle, FREE_CREDENTIALS_HANDLE_FN), "");
_Static_assert(HAS_TYPE(InitializeSecurityContextA, INITIALIZE_SECURITY_CONTEXT_FN_A), "");
_Static_assert(HAS_TYPE(AcceptSecurityContext, ACCEPT_SECURITY_CONTEXT_FN), "");
_Static_assert(HAS_TYPE(CompleteAuthToken, COMPLETE_AUTH_TOKEN_FN), "");
_Static_assert(HAS_TYPE(DeleteSecurityContext, DELETE_SECURITY_CONTEXT_FN), "");
_Static_assert(HAS_TYPE(QueryContextAttributesA, QUERY_CONTEXT_ATTRIBUTES_FN_A), "");
_Static_assert(HAS_TYPE(MakeSignature, MAKE_SIGNATURE_FN), "");
_Static_assert(HAS_TYPE(VerifySignature, VERIFY_SIGNATURE_FN), "");
_Static_assert(HAS_TYPE(FreeContextBuffer, FREE_CONTEXT_BUFFER_FN), "");
_Static_assert(HAS_TYPE(QuerySecurityPackageInfoA, QUERY_SECURITY_PACKAGE_INFO_FN_A), "");
_Static_assert(HAS_TYPE(EncryptMessage, ENCRYPT_MESSAGE_FN), "");
_Static_assert(HAS_TYPE(DecryptMessage, DECRYPT_MESSAGE_FN), "");
_Static_assert(HAS_TYPE(InitSecurityInterfaceA, INIT_SECURITY_INTERFACE_A), "");
/* The unsuffixed names are the A forms. */
_Static_assert(HAS_TYPE(AcquireCredentialsHandle, ACQUIRE_CREDENTIALS_HANDLE_FN_A), "");
_Static_assert(HAS_TYPE(InitializeSecurityContext, INITIALIZE_SECURITY_CONTEXT_FN_A), "");
/* The async family, in Microsoft's form. */
_Static_assert(HAS_TYPE(SspiCreateAsyncContext, SspiAsyncContext *(*)(void)), "");
_Static_assert(HAS_TYPE(SspiFreeAsyncContext, void (*)(SspiAsyncContext *)), "");
_Static_assert(HAS_TYPE(SspiReinitAsyncContext, NTSTATUS (*)(SspiAsyncContext *)), "");
_Static_assert(HAS_TYPE(SspiSetAsyncNotifyCallback,
	SECURITY_STATUS (*)(SspiAsyncContext *, SspiAsyncNotifyCallback, void *)), "");
_Static_assert(HAS_TYPE(SspiAsyncContextRequiresNotify, BOOLEAN (*)(SspiAsyncContext *)), "");
_Static_assert(HAS_TYPE(SspiGetAsyncCallStatus, SECURITY_STATUS (*)(SspiAsyncContext *)), "");
_Static_assert(HAS_TYPE((SspiAsyncNotifyCallback)0, void (*)(SspiAsyncContext *, PVOID)), "");
_Static_assert(HAS_TYPE(SspiDeleteSecurityContextAsync,
	SECURITY_STATUS (*)(SspiAsyncContext *, PCtxtHandle)), "");
_Static_assert(HAS_TYPE(SspiFreeCredentialsHandleAsync,
	SECURITY_STATUS (*)(SspiAsyncContext *, PCredHandle)), "");
_Static_assert(HAS_TYPE(SspiAcquireCredentialsHandleAsync,
	SECURITY_STATUS (*)(SspiAsyncContext *, LPSTR, LPSTR, unsigned long, void *, void *,
		SEC_GET_KEY_FN, void *, PCredHandle, PTimeStamp)), "");
_Static_assert(HAS_TYPE(SspiInitializeSecurityContextAsync,
	SECURITY_STATUS (*)(SspiAsyncContext *, PCredHandle, PCtxtHandle, LPSTR,
		unsigned long, unsigned long, unsigned long, PSecBufferDesc, unsigned long,
		PCtxtHandle, PSecBufferDesc, unsigned long *, PTimeStamp)), "");
_Static_assert(HAS_TYPE(SspiAcceptSecurityContextAsync,
	SECURITY_STATUS (*)(SspiAsyncContext *, PCredHandle, PCtxtHandle, PSecBufferDesc,
		unsigned long, unsigned long, PCtxtHandle, PSecBufferDesc, unsigned long *,
		PTimeStamp)), "");

/* --- types ---------------------------------------------------------------- */

START_TEST(test_header_sizes_match_windows_where_fixed)
{
	SecBuffer b;
	SecBufferDesc d;
	SecPkgInfoA pi;

	ck_assert_uint_eq(sizeof(LARGE_INTEGER), 8);
	ck_assert_uint_eq(sizeof(TimeStamp), 8);
	ck_assert_uint_eq(sizeof(SecHandle), 2 * sizeof(uintptr_t));
	ck_assert_uint_eq(sizeof(CredHandle), sizeof(SecHandle));
	ck_assert_uint_eq(sizeof(CtxtHandle), sizeof(SecHandle));
	ck_assert_uint_eq(sizeof(SECURITY_STATUS), 4);
	ck_assert_uint_eq(sizeof(NTSTATUS), 4);
	ck_assert_uint_eq(sizeof(LONG), 4);
	ck_assert_uint_eq(sizeof(DWORD), 4);
	ck_assert_uint_eq(sizeof(BOOLEAN), 1);
	ck_assert_uint_eq(sizeof(ULONG), sizeof(unsigned long));
	ck_assert_uint_eq(sizeof(ULONG_PTR), sizeof(void *));
	ck_assert_int_eq((SECURITY_STATUS)-1 < 0, 1);
	ck_assert_int_eq((NTSTATUS)-1 < 0, 1);
	ck_assert_int_eq(HAS_TYPE(b.cbBuffer, unsigned long), 1);
	ck_assert_int_eq(HAS_TYPE(b.BufferType, unsigned long), 1);
	ck_assert_int_eq(HAS_TYPE(b.pvBuffer, void *), 1);
	ck_assert_int_eq(HAS_TYPE(d.ulVersion, unsigned long), 1);
	ck_assert_int_eq(HAS_TYPE(d.cBuffers, unsigned long), 1);
	ck_assert_int_eq(HAS_TYPE(d.pBuffers, PSecBuffer), 1);
	ck_assert_int_eq(HAS_TYPE(pi.fCapabilities, unsigned long), 1);
	ck_assert_int_eq(HAS_TYPE(pi.cbMaxToken, unsigned long), 1);
	ck_assert_int_eq(HAS_TYPE(pi.Name, SEC_CHAR *), 1);
	ck_assert_uint_eq(offsetof(SecHandle, dwLower), 0);
	ck_assert_uint_eq(offsetof(SecHandle, dwUpper), sizeof(uintptr_t));
	ck_assert_uint_eq(offsetof(SecPkgContext_Lifespan, tsExpiry), 8);
	ck_assert_uint_eq(sizeof(SecPkgContext_Sizes), 4 * sizeof(unsigned long));
}
END_TEST

START_TEST(test_header_large_integer_halves_alias_quadpart)
{
	LARGE_INTEGER li;

	li.QuadPart = (LONGLONG)0x0000000180000002LL;
	ck_assert_uint_eq(li.LowPart, 0x80000002u);
	ck_assert_int_eq(li.HighPart, 1);
	ck_assert_uint_eq(li.u.LowPart, 0x80000002u);
	ck_assert_int_eq(li.u.HighPart, 1);
	li.QuadPart = -1;
	ck_assert_uint_eq(li.LowPart, 0xFFFFFFFFu);
	ck_assert_int_eq(li.HighPart, -1);
	li.LowPart = 5;
	li.HighPart = -2;
	ck_assert_int_eq(li.QuadPart, -2LL * 4294967296LL + 5);
}
END_TEST

START_TEST(test_header_unsuffixed_names_map_to_a_forms)
{
	ck_assert_str_eq(STR(AcquireCredentialsHandle), "AcquireCredentialsHandleA");
	ck_assert_str_eq(STR(InitializeSecurityContext), "InitializeSecurityContextA");
	ck_assert_str_eq(STR(QueryContextAttributes), "QueryContextAttributesA");
	ck_assert_str_eq(STR(QueryCredentialsAttributes), "QueryCredentialsAttributesA");
	ck_assert_str_eq(STR(EnumerateSecurityPackages), "EnumerateSecurityPackagesA");
	ck_assert_str_eq(STR(QuerySecurityPackageInfo), "QuerySecurityPackageInfoA");
	ck_assert_str_eq(STR(InitSecurityInterface), "InitSecurityInterfaceA");
	ck_assert_str_eq(STR(SspiAcquireCredentialsHandleAsync), "SspiAcquireCredentialsHandleAsyncA");
	ck_assert_str_eq(STR(SspiInitializeSecurityContextAsync), "SspiInitializeSecurityContextAsyncA");
	ck_assert_str_eq(SECURITY_ENTRYPOINT, "InitSecurityInterfaceA");
	ck_assert_int_eq(HAS_TYPE((SecPkgInfo *)0, SecPkgInfoA *), 1);
	ck_assert_int_eq(HAS_TYPE((SEC_WINNT_AUTH_IDENTITY *)0, SEC_WINNT_AUTH_IDENTITY_A *), 1);
	ck_assert_int_eq(HAS_TYPE((PSecurityFunctionTable)0, PSecurityFunctionTableA), 1);
}
END_TEST

/* --- status codes --------------------------------------------------------- */

/* Each constant: type SECURITY_STATUS, exact bit pattern, sign by severity. */
#define CHECK_ERR(name, hex) do { \
		ck_assert_int_eq(HAS_TYPE(name, SECURITY_STATUS), 1); \
		ck_assert_uint_eq((uint32_t)(name), hex); \
		ck_assert_msg(FAILED(name) && !SUCCEEDED(name) && (name) < 0, \
			"%s must be negative", #name); \
	} while (0)
#define CHECK_INFO(name, hex) do { \
		ck_assert_int_eq(HAS_TYPE(name, SECURITY_STATUS), 1); \
		ck_assert_uint_eq((uint32_t)(name), hex); \
		ck_assert_msg(SUCCEEDED(name) && !FAILED(name) && (name) > 0, \
			"%s must be positive", #name); \
	} while (0)

START_TEST(test_header_sec_i_values_exact_and_positive)
{
	ck_assert_int_eq(HAS_TYPE(SEC_E_OK, SECURITY_STATUS), 1);
	ck_assert_uint_eq((uint32_t)SEC_E_OK, 0x00000000u);
	ck_assert(SUCCEEDED(SEC_E_OK) && !FAILED(SEC_E_OK) && SEC_SUCCESS(SEC_E_OK));
	CHECK_INFO(SEC_I_CONTINUE_NEEDED, 0x00090312u);
	CHECK_INFO(SEC_I_COMPLETE_NEEDED, 0x00090313u);
	CHECK_INFO(SEC_I_COMPLETE_AND_CONTINUE, 0x00090314u);
	CHECK_INFO(SEC_I_LOCAL_LOGON, 0x00090315u);
	CHECK_INFO(SEC_I_GENERIC_EXTENSION_RECEIVED, 0x00090316u);
	CHECK_INFO(SEC_I_CONTEXT_EXPIRED, 0x00090317u);
	CHECK_INFO(SEC_I_INCOMPLETE_CREDENTIALS, 0x00090320u);
	CHECK_INFO(SEC_I_RENEGOTIATE, 0x00090321u);
	CHECK_INFO(SEC_I_NO_LSA_CONTEXT, 0x00090323u);
	CHECK_INFO(SEC_I_SIGNATURE_NEEDED, 0x0009035Cu);
	CHECK_INFO(SEC_I_NO_RENEGOTIATION, 0x00090360u);
	CHECK_INFO(SEC_I_MESSAGE_FRAGMENT, 0x00090364u);
	CHECK_INFO(SEC_I_CONTINUE_NEEDED_MESSAGE_OK, 0x00090366u);
	CHECK_INFO(SEC_I_ASYNC_CALL_PENDING, 0x00090368u);
	ck_assert_int_eq(SEC_I_ASYNC_CALL_PENDING, 590696);
}
END_TEST

START_TEST(test_header_sec_e_values_exact_and_negative)
{
	CHECK_ERR(SEC_E_INSUFFICIENT_MEMORY, 0x80090300u);
	CHECK_ERR(SEC_E_INVALID_HANDLE, 0x80090301u);
	CHECK_ERR(SEC_E_UNSUPPORTED_FUNCTION, 0x80090302u);
	CHECK_ERR(SEC_E_TARGET_UNKNOWN, 0x80090303u);
	CHECK_ERR(SEC_E_INTERNAL_ERROR, 0x80090304u);
	CHECK_ERR(SEC_E_SECPKG_NOT_FOUND, 0x80090305u);
	CHECK_ERR(SEC_E_NOT_OWNER, 0x80090306u);
	CHECK_ERR(SEC_E_CANNOT_INSTALL, 0x80090307u);
	CHECK_ERR(SEC_E_INVALID_TOKEN, 0x80090308u);
	CHECK_ERR(SEC_E_CANNOT_PACK, 0x80090309u);
	CHECK_ERR(SEC_E_QOP_NOT_SUPPORTED, 0x8009030Au);
	CHECK_ERR(SEC_E_NO_IMPERSONATION, 0x8009030Bu);
	CHECK_ERR(SEC_E_LOGON_DENIED, 0x8009030Cu);
	CHECK_ERR(SEC_E_UNKNOWN_CREDENTIALS, 0x8009030Du);
	CHECK_ERR(SEC_E_NO_CREDENTIALS, 0x8009030Eu);
	CHECK_ERR(SEC_E_MESSAGE_ALTERED, 0x8009030Fu);
	CHECK_ERR(SEC_E_OUT_OF_SEQUENCE, 0x80090310u);
	CHECK_ERR(SEC_E_NO_AUTHENTICATING_AUTHORITY, 0x80090311u);
	CHECK_ERR(SEC_E_BAD_PKGID, 0x80090316u);
	CHECK_ERR(SEC_E_CONTEXT_EXPIRED, 0x80090317u);
	CHECK_ERR(SEC_E_INCOMPLETE_MESSAGE, 0x80090318u);
	CHECK_ERR(SEC_E_INCOMPLETE_CREDENTIALS, 0x80090320u);
	CHECK_ERR(SEC_E_BUFFER_TOO_SMALL, 0x80090321u);
	CHECK_ERR(SEC_E_WRONG_PRINCIPAL, 0x80090322u);
	CHECK_ERR(SEC_E_TIME_SKEW, 0x80090324u);
	CHECK_ERR(SEC_E_UNTRUSTED_ROOT, 0x80090325u);
	CHECK_ERR(SEC_E_ILLEGAL_MESSAGE, 0x80090326u);
	CHECK_ERR(SEC_E_CERT_UNKNOWN, 0x80090327u);
	CHECK_ERR(SEC_E_CERT_EXPIRED, 0x80090328u);
	CHECK_ERR(SEC_E_ENCRYPT_FAILURE, 0x80090329u);
	CHECK_ERR(SEC_E_DECRYPT_FAILURE, 0x80090330u);
	CHECK_ERR(SEC_E_ALGORITHM_MISMATCH, 0x80090331u);
	CHECK_ERR(SEC_E_SECURITY_QOS_FAILED, 0x80090332u);
	CHECK_ERR(SEC_E_UNFINISHED_CONTEXT_DELETED, 0x80090333u);
	CHECK_ERR(SEC_E_NO_TGT_REPLY, 0x80090334u);
	CHECK_ERR(SEC_E_NO_IP_ADDRESSES, 0x80090335u);
	CHECK_ERR(SEC_E_WRONG_CREDENTIAL_HANDLE, 0x80090336u);
	CHECK_ERR(SEC_E_CRYPTO_SYSTEM_INVALID, 0x80090337u);
	CHECK_ERR(SEC_E_MAX_REFERRALS_EXCEEDED, 0x80090338u);
	CHECK_ERR(SEC_E_MUST_BE_KDC, 0x80090339u);
	CHECK_ERR(SEC_E_STRONG_CRYPTO_NOT_SUPPORTED, 0x8009033Au);
	CHECK_ERR(SEC_E_TOO_MANY_PRINCIPALS, 0x8009033Bu);
	CHECK_ERR(SEC_E_NO_PA_DATA, 0x8009033Cu);
	CHECK_ERR(SEC_E_PKINIT_NAME_MISMATCH, 0x8009033Du);
	CHECK_ERR(SEC_E_SMARTCARD_LOGON_REQUIRED, 0x8009033Eu);
	CHECK_ERR(SEC_E_SHUTDOWN_IN_PROGRESS, 0x8009033Fu);
	CHECK_ERR(SEC_E_KDC_INVALID_REQUEST, 0x80090340u);
	CHECK_ERR(SEC_E_KDC_UNABLE_TO_REFER, 0x80090341u);
	CHECK_ERR(SEC_E_KDC_UNKNOWN_ETYPE, 0x80090342u);
	CHECK_ERR(SEC_E_UNSUPPORTED_PREAUTH, 0x80090343u);
	CHECK_ERR(SEC_E_DELEGATION_REQUIRED, 0x80090345u);
	CHECK_ERR(SEC_E_BAD_BINDINGS, 0x80090346u);
	CHECK_ERR(SEC_E_MULTIPLE_ACCOUNTS, 0x80090347u);
	CHECK_ERR(SEC_E_NO_KERB_KEY, 0x80090348u);
	CHECK_ERR(SEC_E_CERT_WRONG_USAGE, 0x80090349u);
	CHECK_ERR(SEC_E_DOWNGRADE_DETECTED, 0x80090350u);
	CHECK_ERR(SEC_E_SMARTCARD_CERT_REVOKED, 0x80090351u);
	CHECK_ERR(SEC_E_ISSUING_CA_UNTRUSTED, 0x80090352u);
	CHECK_ERR(SEC_E_REVOCATION_OFFLINE_C, 0x80090353u);
	CHECK_ERR(SEC_E_PKINIT_CLIENT_FAILURE, 0x80090354u);
	CHECK_ERR(SEC_E_SMARTCARD_CERT_EXPIRED, 0x80090355u);
	CHECK_ERR(SEC_E_NO_S4U_PROT_SUPPORT, 0x80090356u);
	CHECK_ERR(SEC_E_CROSSREALM_DELEGATION_FAILURE, 0x80090357u);
	CHECK_ERR(SEC_E_REVOCATION_OFFLINE_KDC, 0x80090358u);
	CHECK_ERR(SEC_E_ISSUING_CA_UNTRUSTED_KDC, 0x80090359u);
	CHECK_ERR(SEC_E_KDC_CERT_EXPIRED, 0x8009035Au);
	CHECK_ERR(SEC_E_KDC_CERT_REVOKED, 0x8009035Bu);
	CHECK_ERR(SEC_E_INVALID_PARAMETER, 0x8009035Du);
	CHECK_ERR(SEC_E_DELEGATION_POLICY, 0x8009035Eu);
	CHECK_ERR(SEC_E_POLICY_NLTM_ONLY, 0x8009035Fu);
	CHECK_ERR(SEC_E_NO_CONTEXT, 0x80090361u);
	CHECK_ERR(SEC_E_PKU2U_CERT_FAILURE, 0x80090362u);
	CHECK_ERR(SEC_E_MUTUAL_AUTH_FAILED, 0x80090363u);
	CHECK_ERR(SEC_E_ONLY_HTTPS_ALLOWED, 0x80090365u);
	CHECK_ERR(SEC_E_APPLICATION_PROTOCOL_MISMATCH, 0x80090367u);
	CHECK_ERR(SEC_E_INVALID_UPN_NAME, 0x80090369u);
	CHECK_ERR(SEC_E_EXT_BUFFER_TOO_SMALL, 0x8009036Au);
	CHECK_ERR(SEC_E_INSUFFICIENT_BUFFERS, 0x8009036Bu);
	/* Aliases. */
	CHECK_ERR(SEC_E_NOT_SUPPORTED, 0x80090302u);
	CHECK_ERR(SEC_E_NO_SPM, 0x80090304u);
	/* Not SCARD_E_INVALID_HANDLE, which some Microsoft pages print. */
	ck_assert_uint_ne((uint32_t)SEC_E_INVALID_HANDLE, 0x80100003u);
}
END_TEST

START_TEST(test_header_status_usable_in_switch_and_static_assert)
{
	SECURITY_STATUS s = SEC_E_INVALID_HANDLE;
	int hit = 0;

	_Static_assert(SEC_E_INVALID_HANDLE < 0, "");
	_Static_assert(SEC_I_ASYNC_CALL_PENDING > 0, "");
	switch (s) {
	case SEC_E_OK:
		break;
	case SEC_E_INVALID_HANDLE:
		hit = 1;
		break;
	default:
		break;
	}
	ck_assert_int_eq(hit, 1);
	ck_assert_int_eq(s, (SECURITY_STATUS)0x80090301L);
	ck_assert_int_eq(s, -2146893055);
}
END_TEST

START_TEST(test_header_ntstatus_values_exact)
{
	ck_assert_int_eq(HAS_TYPE(STATUS_SUCCESS, NTSTATUS), 1);
	ck_assert_int_eq(HAS_TYPE(STATUS_INVALID_HANDLE, NTSTATUS), 1);
	ck_assert_int_eq(HAS_TYPE(STATUS_INVALID_DEVICE_STATE, NTSTATUS), 1);
	ck_assert_uint_eq((uint32_t)STATUS_SUCCESS, 0x00000000u);
	ck_assert_uint_eq((uint32_t)STATUS_INVALID_HANDLE, 0xC0000008u);
	ck_assert_uint_eq((uint32_t)STATUS_INVALID_DEVICE_STATE, 0xC0000184u);
	ck_assert(NT_SUCCESS(STATUS_SUCCESS));
	ck_assert(!NT_SUCCESS(STATUS_INVALID_HANDLE));
	ck_assert(!NT_SUCCESS(STATUS_INVALID_DEVICE_STATE));
}
END_TEST

/* --- handles -------------------------------------------------------------- */

START_TEST(test_header_invalidate_sets_both_words_all_ones)
{
	CredHandle cred = { 1, 2 };
	CtxtHandle ctx = { 3, 4 };

	ck_assert(SecIsValidHandle(&cred));
	SecInvalidateHandle(&cred);
	ck_assert_uint_eq(cred.dwLower, UINTPTR_MAX);
	ck_assert_uint_eq(cred.dwUpper, UINTPTR_MAX);
	ck_assert(!SecIsValidHandle(&cred));

	/* One expression: usable as an unbraced if/else body. */
	if (ctx.dwLower == 3)
		SecInvalidateHandle(&ctx);
	else
		ck_abort_msg("unreachable");
	ck_assert(!SecIsValidHandle(&ctx));
}
END_TEST

START_TEST(test_header_valid_iff_neither_word_all_ones)
{
	SecHandle h;

	h.dwLower = UINTPTR_MAX;
	h.dwUpper = 7;
	ck_assert(!SecIsValidHandle(&h));
	h.dwLower = 7;
	h.dwUpper = UINTPTR_MAX;
	ck_assert(!SecIsValidHandle(&h));
	/* A sentinel test only: zero and "deleted" words pass it. */
	h.dwLower = 0;
	h.dwUpper = 0;
	ck_assert(SecIsValidHandle(&h));
	h.dwLower = SEC_DELETED_HANDLE;
	h.dwUpper = SEC_DELETED_HANDLE;
	ck_assert(SecIsValidHandle(&h));
	ck_assert_uint_eq(SEC_DELETED_HANDLE, UINTPTR_MAX - 1);
}
END_TEST

/* --- flags and attribute numbers ----------------------------------------- */

START_TEST(test_header_secbuffer_values_exact)
{
	ck_assert_int_eq(SECBUFFER_VERSION, 0);
	ck_assert_int_eq(SECBUFFER_EMPTY, 0);
	ck_assert_int_eq(SECBUFFER_DATA, 1);
	ck_assert_int_eq(SECBUFFER_TOKEN, 2);
	ck_assert_int_eq(SECBUFFER_PKG_PARAMS, 3);
	ck_assert_int_eq(SECBUFFER_MISSING, 4);
	ck_assert_int_eq(SECBUFFER_EXTRA, 5);
	ck_assert_int_eq(SECBUFFER_STREAM_TRAILER, 6);
	ck_assert_int_eq(SECBUFFER_STREAM_HEADER, 7);
	ck_assert_int_eq(SECBUFFER_NEGOTIATION_INFO, 8);
	ck_assert_int_eq(SECBUFFER_PADDING, 9);
	ck_assert_int_eq(SECBUFFER_STREAM, 10);
	ck_assert_int_eq(SECBUFFER_MECHLIST, 11);
	ck_assert_int_eq(SECBUFFER_MECHLIST_SIGNATURE, 12);
	ck_assert_int_eq(SECBUFFER_TARGET, 13);
	ck_assert_int_eq(SECBUFFER_CHANNEL_BINDINGS, 14);
	ck_assert_int_eq(SECBUFFER_CHANGE_PASS_RESPONSE, 15);
	ck_assert_int_eq(SECBUFFER_TARGET_HOST, 16);
	ck_assert_int_eq(SECBUFFER_ALERT, 17);
	ck_assert_int_eq(SECBUFFER_APPLICATION_PROTOCOLS, 18);
	ck_assert_int_eq(SECBUFFER_CERTIFICATE_REQUEST_CONTEXT, 29);
	ck_assert_uint_eq(SECBUFFER_ATTRMASK, 0xF0000000u);
	ck_assert_uint_eq(SECBUFFER_READONLY, 0x80000000u);
	ck_assert_uint_eq(SECBUFFER_READONLY_WITH_CHECKSUM, 0x10000000u);
	ck_assert_uint_eq(SECBUFFER_RESERVED, 0x60000000u);
	ck_assert_uint_eq((SECBUFFER_TOKEN | SECBUFFER_READONLY) & ~SECBUFFER_ATTRMASK,
		SECBUFFER_TOKEN);
}
END_TEST

START_TEST(test_header_cred_drep_qop_identity_values_exact)
{
	ck_assert_uint_eq(SECPKG_CRED_INBOUND, 0x1u);
	ck_assert_uint_eq(SECPKG_CRED_OUTBOUND, 0x2u);
	ck_assert_uint_eq(SECPKG_CRED_BOTH, 0x3u);
	ck_assert_uint_eq(SECURITY_NATIVE_DREP, 0x10u);
	ck_assert_uint_eq(SECURITY_NETWORK_DREP, 0x0u);
	ck_assert_uint_eq(SECQOP_WRAP_NO_ENCRYPT, 0x80000001u);
	ck_assert_uint_eq(SEC_WINNT_AUTH_IDENTITY_ANSI, 0x1u);
	ck_assert_uint_eq(SEC_WINNT_AUTH_IDENTITY_UNICODE, 0x2u);
	ck_assert_uint_eq(SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION, 1u);
	ck_assert_uint_eq(SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2, 2u);
	ck_assert_uint_eq(SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_3, 3u);
	ck_assert_uint_eq(SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4, 4u);
	ck_assert_uint_eq(SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_5, 5u);
}
END_TEST

START_TEST(test_header_isc_flag_values_exact)
{
	ck_assert_uint_eq(ISC_REQ_DELEGATE, 0x1u);
	ck_assert_uint_eq(ISC_REQ_MUTUAL_AUTH, 0x2u);
	ck_assert_uint_eq(ISC_REQ_REPLAY_DETECT, 0x4u);
	ck_assert_uint_eq(ISC_REQ_SEQUENCE_DETECT, 0x8u);
	ck_assert_uint_eq(ISC_REQ_CONFIDENTIALITY, 0x10u);
	ck_assert_uint_eq(ISC_REQ_USE_SESSION_KEY, 0x20u);
	ck_assert_uint_eq(ISC_REQ_PROMPT_FOR_CREDS, 0x40u);
	ck_assert_uint_eq(ISC_REQ_USE_SUPPLIED_CREDS, 0x80u);
	ck_assert_uint_eq(ISC_REQ_ALLOCATE_MEMORY, 0x100u);
	ck_assert_uint_eq(ISC_REQ_USE_DCE_STYLE, 0x200u);
	ck_assert_uint_eq(ISC_REQ_DATAGRAM, 0x400u);
	ck_assert_uint_eq(ISC_REQ_CONNECTION, 0x800u);
	ck_assert_uint_eq(ISC_REQ_CALL_LEVEL, 0x1000u);
	ck_assert_uint_eq(ISC_REQ_FRAGMENT_SUPPLIED, 0x2000u);
	ck_assert_uint_eq(ISC_REQ_EXTENDED_ERROR, 0x4000u);
	ck_assert_uint_eq(ISC_REQ_STREAM, 0x8000u);
	ck_assert_uint_eq(ISC_REQ_INTEGRITY, 0x10000u);
	ck_assert_uint_eq(ISC_REQ_IDENTIFY, 0x20000u);
	ck_assert_uint_eq(ISC_REQ_NULL_SESSION, 0x40000u);
	ck_assert_uint_eq(ISC_REQ_MANUAL_CRED_VALIDATION, 0x80000u);
	ck_assert_uint_eq(ISC_REQ_FRAGMENT_TO_FIT, 0x200000u);
	ck_assert_uint_eq(ISC_REQ_FORWARD_CREDENTIALS, 0x400000u);
	ck_assert_uint_eq(ISC_REQ_NO_INTEGRITY, 0x800000u);
	ck_assert_uint_eq(ISC_REQ_USE_HTTP_STYLE, 0x1000000u);
	ck_assert_uint_eq(ISC_REQ_UNVERIFIED_TARGET_NAME, 0x20000000u);
	ck_assert_uint_eq(ISC_REQ_CONFIDENTIALITY_ONLY, 0x40000000u);
	ck_assert_uint_eq(ISC_REQ_MESSAGES, 0x100000000ull);
	ck_assert_uint_eq(ISC_REQ_DEFERRED_CRED_VALIDATION, 0x200000000ull);
	ck_assert_uint_eq(ISC_REQ_NO_POST_HANDSHAKE_AUTH, 0x400000000ull);

	ck_assert_uint_eq(ISC_RET_DELEGATE, 0x1u);
	ck_assert_uint_eq(ISC_RET_MUTUAL_AUTH, 0x2u);
	ck_assert_uint_eq(ISC_RET_REPLAY_DETECT, 0x4u);
	ck_assert_uint_eq(ISC_RET_SEQUENCE_DETECT, 0x8u);
	ck_assert_uint_eq(ISC_RET_CONFIDENTIALITY, 0x10u);
	ck_assert_uint_eq(ISC_RET_USE_SESSION_KEY, 0x20u);
	ck_assert_uint_eq(ISC_RET_USED_COLLECTED_CREDS, 0x40u);
	ck_assert_uint_eq(ISC_RET_USED_SUPPLIED_CREDS, 0x80u);
	ck_assert_uint_eq(ISC_RET_ALLOCATED_MEMORY, 0x100u);
	ck_assert_uint_eq(ISC_RET_USED_DCE_STYLE, 0x200u);
	ck_assert_uint_eq(ISC_RET_DATAGRAM, 0x400u);
	ck_assert_uint_eq(ISC_RET_CONNECTION, 0x800u);
	ck_assert_uint_eq(ISC_RET_INTERMEDIATE_RETURN, 0x1000u);
	ck_assert_uint_eq(ISC_RET_CALL_LEVEL, 0x2000u);
	ck_assert_uint_eq(ISC_RET_EXTENDED_ERROR, 0x4000u);
	ck_assert_uint_eq(ISC_RET_STREAM, 0x8000u);
	ck_assert_uint_eq(ISC_RET_INTEGRITY, 0x10000u);
	ck_assert_uint_eq(ISC_RET_IDENTIFY, 0x20000u);
	ck_assert_uint_eq(ISC_RET_NULL_SESSION, 0x40000u);
	ck_assert_uint_eq(ISC_RET_MANUAL_CRED_VALIDATION, 0x80000u);
	ck_assert_uint_eq(ISC_RET_FRAGMENT_ONLY, 0x200000u);
	ck_assert_uint_eq(ISC_RET_FORWARD_CREDENTIALS, 0x400000u);
	ck_assert_uint_eq(ISC_RET_USED_HTTP_STYLE, 0x1000000u);
	ck_assert_uint_eq(ISC_RET_NO_ADDITIONAL_TOKEN, 0x2000000u);
	ck_assert_uint_eq(ISC_RET_REAUTHENTICATION, 0x8000000u);
	ck_assert_uint_eq(ISC_RET_CONFIDENTIALITY_ONLY, 0x40000000u);
}
END_TEST

START_TEST(test_header_asc_flag_values_exact)
{
	ck_assert_uint_eq(ASC_REQ_DELEGATE, 0x1u);
	ck_assert_uint_eq(ASC_REQ_MUTUAL_AUTH, 0x2u);
	ck_assert_uint_eq(ASC_REQ_REPLAY_DETECT, 0x4u);
	ck_assert_uint_eq(ASC_REQ_SEQUENCE_DETECT, 0x8u);
	ck_assert_uint_eq(ASC_REQ_CONFIDENTIALITY, 0x10u);
	ck_assert_uint_eq(ASC_REQ_USE_SESSION_KEY, 0x20u);
	ck_assert_uint_eq(ASC_REQ_SESSION_TICKET, 0x40u);
	ck_assert_uint_eq(ASC_REQ_ALLOCATE_MEMORY, 0x100u);
	ck_assert_uint_eq(ASC_REQ_USE_DCE_STYLE, 0x200u);
	ck_assert_uint_eq(ASC_REQ_DATAGRAM, 0x400u);
	ck_assert_uint_eq(ASC_REQ_CONNECTION, 0x800u);
	ck_assert_uint_eq(ASC_REQ_CALL_LEVEL, 0x1000u);
	ck_assert_uint_eq(ASC_REQ_FRAGMENT_SUPPLIED, 0x2000u);
	ck_assert_uint_eq(ASC_REQ_EXTENDED_ERROR, 0x8000u);
	ck_assert_uint_eq(ASC_REQ_STREAM, 0x10000u);
	ck_assert_uint_eq(ASC_REQ_INTEGRITY, 0x20000u);
	ck_assert_uint_eq(ASC_REQ_LICENSING, 0x40000u);
	ck_assert_uint_eq(ASC_REQ_IDENTIFY, 0x80000u);
	ck_assert_uint_eq(ASC_REQ_ALLOW_NULL_SESSION, 0x100000u);
	ck_assert_uint_eq(ASC_REQ_ALLOW_NON_USER_LOGONS, 0x200000u);
	ck_assert_uint_eq(ASC_REQ_ALLOW_CONTEXT_REPLAY, 0x400000u);
	ck_assert_uint_eq(ASC_REQ_FRAGMENT_TO_FIT, 0x800000u);
	ck_assert_uint_eq(ASC_REQ_NO_TOKEN, 0x1000000u);
	ck_assert_uint_eq(ASC_REQ_PROXY_BINDINGS, 0x4000000u);
	ck_assert_uint_eq(ASC_REQ_ALLOW_MISSING_BINDINGS, 0x10000000u);
	ck_assert_uint_eq(ASC_REQ_MESSAGES, 0x100000000ull);

	ck_assert_uint_eq(ASC_RET_DELEGATE, 0x1u);
	ck_assert_uint_eq(ASC_RET_MUTUAL_AUTH, 0x2u);
	ck_assert_uint_eq(ASC_RET_REPLAY_DETECT, 0x4u);
	ck_assert_uint_eq(ASC_RET_SEQUENCE_DETECT, 0x8u);
	ck_assert_uint_eq(ASC_RET_CONFIDENTIALITY, 0x10u);
	ck_assert_uint_eq(ASC_RET_USE_SESSION_KEY, 0x20u);
	ck_assert_uint_eq(ASC_RET_SESSION_TICKET, 0x40u);
	ck_assert_uint_eq(ASC_RET_ALLOCATED_MEMORY, 0x100u);
	ck_assert_uint_eq(ASC_RET_USED_DCE_STYLE, 0x200u);
	ck_assert_uint_eq(ASC_RET_DATAGRAM, 0x400u);
	ck_assert_uint_eq(ASC_RET_CONNECTION, 0x800u);
	ck_assert_uint_eq(ASC_RET_CALL_LEVEL, 0x2000u);
	ck_assert_uint_eq(ASC_RET_THIRD_LEG_FAILED, 0x4000u);
	ck_assert_uint_eq(ASC_RET_EXTENDED_ERROR, 0x8000u);
	ck_assert_uint_eq(ASC_RET_STREAM, 0x10000u);
	ck_assert_uint_eq(ASC_RET_INTEGRITY, 0x20000u);
	ck_assert_uint_eq(ASC_RET_LICENSING, 0x40000u);
	ck_assert_uint_eq(ASC_RET_IDENTIFY, 0x80000u);
	ck_assert_uint_eq(ASC_RET_NULL_SESSION, 0x100000u);
	ck_assert_uint_eq(ASC_RET_ALLOW_NON_USER_LOGONS, 0x200000u);
	ck_assert_uint_eq(ASC_RET_ALLOW_CONTEXT_REPLAY, 0x400000u);
	ck_assert_uint_eq(ASC_RET_FRAGMENT_ONLY, 0x800000u);
	ck_assert_uint_eq(ASC_RET_NO_TOKEN, 0x1000000u);
	ck_assert_uint_eq(ASC_RET_NO_ADDITIONAL_TOKEN, 0x2000000u);
}
END_TEST

START_TEST(test_header_secpkg_attr_and_flag_values_exact)
{
	ck_assert_uint_eq(SECPKG_ATTR_SIZES, 0u);
	ck_assert_uint_eq(SECPKG_ATTR_NAMES, 1u);
	ck_assert_uint_eq(SECPKG_ATTR_LIFESPAN, 2u);
	ck_assert_uint_eq(SECPKG_ATTR_DCE_INFO, 3u);
	ck_assert_uint_eq(SECPKG_ATTR_STREAM_SIZES, 4u);
	ck_assert_uint_eq(SECPKG_ATTR_KEY_INFO, 5u);
	ck_assert_uint_eq(SECPKG_ATTR_AUTHORITY, 6u);
	ck_assert_uint_eq(SECPKG_ATTR_SESSION_KEY, 9u);
	ck_assert_uint_eq(SECPKG_ATTR_PACKAGE_INFO, 10u);
	ck_assert_uint_eq(SECPKG_ATTR_NEGOTIATION_INFO, 12u);
	ck_assert_uint_eq(SECPKG_ATTR_NATIVE_NAMES, 13u);
	ck_assert_uint_eq(SECPKG_ATTR_FLAGS, 14u);
	ck_assert_uint_eq(SECPKG_ATTR_TARGET_INFORMATION, 17u);
	ck_assert_uint_eq(SECPKG_ATTR_ACCESS_TOKEN, 18u);
	ck_assert_uint_eq(SECPKG_ATTR_PROMPTING_NEEDED, 24u);
	ck_assert_uint_eq(SECPKG_ATTR_ENDPOINT_BINDINGS, 26u);
	ck_assert_uint_eq(SECPKG_ATTR_APPLICATION_PROTOCOL, 35u);
	ck_assert_uint_eq(SECPKG_CRED_ATTR_NAMES, 1u);

	ck_assert_uint_eq(SECPKG_FLAG_INTEGRITY, 0x1u);
	ck_assert_uint_eq(SECPKG_FLAG_PRIVACY, 0x2u);
	ck_assert_uint_eq(SECPKG_FLAG_TOKEN_ONLY, 0x4u);
	ck_assert_uint_eq(SECPKG_FLAG_DATAGRAM, 0x8u);
	ck_assert_uint_eq(SECPKG_FLAG_CONNECTION, 0x10u);
	ck_assert_uint_eq(SECPKG_FLAG_MULTI_REQUIRED, 0x20u);
	ck_assert_uint_eq(SECPKG_FLAG_CLIENT_ONLY, 0x40u);
	ck_assert_uint_eq(SECPKG_FLAG_EXTENDED_ERROR, 0x80u);
	ck_assert_uint_eq(SECPKG_FLAG_IMPERSONATION, 0x100u);
	ck_assert_uint_eq(SECPKG_FLAG_ACCEPT_WIN32_NAME, 0x200u);
	ck_assert_uint_eq(SECPKG_FLAG_STREAM, 0x400u);
	ck_assert_uint_eq(SECPKG_FLAG_NEGOTIABLE, 0x800u);
	ck_assert_uint_eq(SECPKG_FLAG_GSS_COMPATIBLE, 0x1000u);
	ck_assert_uint_eq(SECPKG_FLAG_LOGON, 0x2000u);
	ck_assert_uint_eq(SECPKG_FLAG_ASCII_BUFFERS, 0x4000u);
	ck_assert_uint_eq(SECPKG_FLAG_FRAGMENT, 0x8000u);
	ck_assert_uint_eq(SECPKG_FLAG_MUTUAL_AUTH, 0x10000u);
	ck_assert_uint_eq(SECPKG_FLAG_DELEGATION, 0x20000u);
	ck_assert_uint_eq(SECPKG_FLAG_READONLY_WITH_CHECKSUM, 0x40000u);
	ck_assert_uint_eq(SECPKG_FLAG_RESTRICTED_TOKENS, 0x80000u);
	ck_assert_uint_eq(SECPKG_FLAG_NEGO_EXTENDER, 0x100000u);
	ck_assert_uint_eq(SECPKG_FLAG_NEGOTIABLE2, 0x200000u);
	ck_assert_uint_eq(SECPKG_FLAG_APPCONTAINER_PASSTHROUGH, 0x400000u);
	ck_assert_uint_eq(SECPKG_FLAG_APPCONTAINER_CHECKS, 0x800000u);
	ck_assert_uint_eq(SECPKG_FLAG_CREDENTIAL_ISOLATION_ENABLED, 0x1000000u);
	ck_assert_uint_eq(SECPKG_FLAG_APPLY_LOOPBACK, 0x2000000u);
}
END_TEST

/* --- SecurityFunctionTableA layout ---------------------------------------- */

/* Byte offset of pointer slot @i (0 = EnumerateSecurityPackagesA). */
static size_t slot_offset(size_t i)
{
	size_t ptr = sizeof(void (*)(void));
	size_t first = (sizeof(unsigned long) + ptr - 1) / ptr * ptr;

	return first + i * ptr;
}

#define CHECK_SLOT(field, i) \
	ck_assert_uint_eq(offsetof(SecurityFunctionTableA, field), slot_offset(i))

START_TEST(test_header_function_table_slots_in_microsoft_order)
{
	ck_assert_uint_eq(offsetof(SecurityFunctionTableA, dwVersion), 0);
	ck_assert_uint_eq(sizeof(((SecurityFunctionTableA *)0)->dwVersion), sizeof(unsigned long));
	CHECK_SLOT(EnumerateSecurityPackagesA, 0);
	CHECK_SLOT(QueryCredentialsAttributesA, 1);
	CHECK_SLOT(AcquireCredentialsHandleA, 2);
	CHECK_SLOT(FreeCredentialHandle, 3);
	CHECK_SLOT(Reserved2, 4);
	CHECK_SLOT(InitializeSecurityContextA, 5);
	CHECK_SLOT(AcceptSecurityContext, 6);
	CHECK_SLOT(CompleteAuthToken, 7);
	CHECK_SLOT(DeleteSecurityContext, 8);
	CHECK_SLOT(ApplyControlToken, 9);
	CHECK_SLOT(QueryContextAttributesA, 10);
	CHECK_SLOT(ImpersonateSecurityContext, 11);
	CHECK_SLOT(RevertSecurityContext, 12);
	CHECK_SLOT(MakeSignature, 13);
	CHECK_SLOT(VerifySignature, 14);
	CHECK_SLOT(FreeContextBuffer, 15);
	CHECK_SLOT(QuerySecurityPackageInfoA, 16);
	CHECK_SLOT(Reserved3, 17);
	CHECK_SLOT(Reserved4, 18);
	CHECK_SLOT(ExportSecurityContext, 19);
	CHECK_SLOT(ImportSecurityContextA, 20);
	CHECK_SLOT(AddCredentialsA, 21);
	CHECK_SLOT(Reserved8, 22);
	CHECK_SLOT(QuerySecurityContextToken, 23);
	CHECK_SLOT(EncryptMessage, 24);
	CHECK_SLOT(DecryptMessage, 25);
	CHECK_SLOT(SetContextAttributesA, 26);
	CHECK_SLOT(SetCredentialsAttributesA, 27);
	CHECK_SLOT(ChangeAccountPasswordA, 28);
	CHECK_SLOT(QueryContextAttributesExA, 29);
	CHECK_SLOT(QueryCredentialsAttributesExA, 30);
	ck_assert_uint_eq(sizeof(SecurityFunctionTableA), slot_offset(31));
}
END_TEST

START_TEST(test_header_function_table_slot_types)
{
	SecurityFunctionTableA t;

	ck_assert_int_eq(HAS_TYPE(t.InitializeSecurityContextA, INITIALIZE_SECURITY_CONTEXT_FN_A), 1);
	ck_assert_int_eq(HAS_TYPE(t.AcceptSecurityContext, ACCEPT_SECURITY_CONTEXT_FN), 1);
	ck_assert_int_eq(HAS_TYPE(t.DeleteSecurityContext, DELETE_SECURITY_CONTEXT_FN), 1);
	ck_assert_int_eq(HAS_TYPE(t.QueryContextAttributesA, QUERY_CONTEXT_ATTRIBUTES_FN_A), 1);
	ck_assert_int_eq(HAS_TYPE(t.EncryptMessage, ENCRYPT_MESSAGE_FN), 1);
	ck_assert_int_eq(HAS_TYPE(t.DecryptMessage, DECRYPT_MESSAGE_FN), 1);
	ck_assert_int_eq(HAS_TYPE(t.FreeCredentialHandle, FREE_CREDENTIALS_HANDLE_FN), 1);
	ck_assert_int_eq(HAS_TYPE(t.Reserved2, void *), 1);
	ck_assert_int_eq(HAS_TYPE(t.Reserved8, void *), 1);
}
END_TEST

static Suite *sspi_header_suite(void)
{
	Suite *s = suite_create("sspi_header");
	TCase *types = tcase_create("types");
	TCase *status = tcase_create("status");
	TCase *handles = tcase_create("handles");
	TCase *flags = tcase_create("flags");
	TCase *table = tcase_create("table");

	tcase_add_test(types, test_header_sizes_match_windows_where_fixed);
	tcase_add_test(types, test_header_large_integer_halves_alias_quadpart);
	tcase_add_test(types, test_header_unsuffixed_names_map_to_a_forms);
	suite_add_tcase(s, types);

	tcase_add_test(status, test_header_sec_i_values_exact_and_positive);
	tcase_add_test(status, test_header_sec_e_values_exact_and_negative);
	tcase_add_test(status, test_header_status_usable_in_switch_and_static_assert);
	tcase_add_test(status, test_header_ntstatus_values_exact);
	suite_add_tcase(s, status);

	tcase_add_test(handles, test_header_invalidate_sets_both_words_all_ones);
	tcase_add_test(handles, test_header_valid_iff_neither_word_all_ones);
	suite_add_tcase(s, handles);

	tcase_add_test(flags, test_header_secbuffer_values_exact);
	tcase_add_test(flags, test_header_cred_drep_qop_identity_values_exact);
	tcase_add_test(flags, test_header_isc_flag_values_exact);
	tcase_add_test(flags, test_header_asc_flag_values_exact);
	tcase_add_test(flags, test_header_secpkg_attr_and_flag_values_exact);
	suite_add_tcase(s, flags);

	tcase_add_test(table, test_header_function_table_slots_in_microsoft_order);
	tcase_add_test(table, test_header_function_table_slot_types);
	suite_add_tcase(s, table);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sspi_header_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
