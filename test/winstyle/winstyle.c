/*
 * winstyle.c - a Windows-style SSPI client fragment, compiled only
 * (-fsyntax-only) by test/header_selfcontained.sh with the compat directory
 * on the include path.  It is never linked or run: it proves that code
 * written against Windows' <security.h> compiles unchanged (SECURITY_WIN32,
 * unsigned long flags, SAL annotations, unsuffixed names, the dispatch table).
 */
#define SECURITY_WIN32
#include <security.h>
#include <sspi.h>
#include <string.h>

static SECURITY_STATUS SEC_ENTRY first_leg(
	_In_ PCredHandle phCred,
	_In_opt_z_ SEC_CHAR *pszTarget,
	_Inout_ PCtxtHandle phCtx,
	_Out_writes_bytes_(cbOut) void *pvOut,
	_In_ unsigned long cbOut,
	_Out_ unsigned long *pfAttrs,
	_Reserved_ void *pvReserved)
{
	SecBuffer out = { cbOut, SECBUFFER_TOKEN, pvOut };
	SecBufferDesc outDesc = { SECBUFFER_VERSION, 1, &out };
	TimeStamp expiry;

	(void)pvReserved;
	return InitializeSecurityContext(phCred, NULL, pszTarget,
		ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_CONNECTION,
		0, SECURITY_NATIVE_DREP, NULL, 0, phCtx, &outDesc, pfAttrs, &expiry);
}

static void CALLBACK_like(_In_ SspiAsyncContext *Handle, _In_opt_ PVOID CallbackData)
{
	SECURITY_STATUS status = SspiGetAsyncCallStatus(Handle);

	(void)CallbackData;
	if (status != SEC_I_ASYNC_CALL_PENDING)
		SspiFreeAsyncContext(Handle);
}

int main(void)
{
	unsigned long attrs;
	TimeStamp ts;
	CredHandle cred;
	CtxtHandle ctx;
	SEC_WINNT_AUTH_IDENTITY identity;
	PSecurityFunctionTable table = InitSecurityInterface();
	SspiAsyncContext *async = SspiCreateAsyncContext();
	SspiAsyncNotifyCallback cb = CALLBACK_like;
	SECURITY_STATUS ss;
	char token[256];

	SecInvalidateHandle(&cred);
	SecInvalidateHandle(&ctx);
	memset(&identity, 0, sizeof(identity));
	identity.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;

	ss = AcquireCredentialsHandle(NULL, NEGOSSP_NAME_A, SECPKG_CRED_OUTBOUND,
		NULL, &identity, NULL, NULL, &cred, &ts);
	if (FAILED(ss))
		return 1;
	ss = first_leg(&cred, "HTTP/example.test", &ctx, token, sizeof(token), &attrs, NULL);
	if (ss == SEC_I_CONTINUE_NEEDED && (attrs & ISC_RET_MUTUAL_AUTH))
		ss = SEC_E_OK;
	if (SecIsValidHandle(&ctx))
		table->DeleteSecurityContext(&ctx);
	table->FreeCredentialHandle(&cred);
	if (SspiSetAsyncNotifyCallback(async, cb, NULL) == SEC_E_OK &&
	    SspiReinitAsyncContext(async) == STATUS_SUCCESS &&
	    SspiAsyncContextRequiresNotify(async))
		SspiFreeAsyncContext(async);
	return SEC_SUCCESS(ss) ? 0 : 1;
}
