/*
 * src/sspi/tables.c - the functions this library does not implement yet
 * (each checks its arguments and handles, then answers
 * SEC_E_UNSUPPORTED_FUNCTION), and the dispatch tables of
 * InitSecurityInterfaceA/W, slot for slot as Windows fills them.
 * The order of the checks: structure (SEC_E_INVALID_PARAMETER, W strings
 * included), the package named (SEC_E_SECPKG_NOT_FOUND), the identity, then
 * the handle (SEC_E_INVALID_HANDLE).  Tests: test/check_wide.c
 * (test_unsupported_functions_check_handles_first,
 * test_wide_tables_match_windows_slots).
 */
#include "sspi/sspi_int.h"

#include "util/alloc.h"
#include "util/utf16.h"

#include <pthread.h>
#include <string.h>

/* A call on a context that is not implemented: the handle's answer first. */
static SECURITY_STATUS unsupported_on_ctx(const CtxtHandle *ph)
{
	if (ph == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	struct sa_ctx *ctx = NULL;
	SECURITY_STATUS st = sa__ctx_call_begin(ph, &rt, &ctx);
	if (st != SEC_E_OK)
		return st;
	return sa__ctx_call_end(rt, ctx, SEC_E_UNSUPPORTED_FUNCTION);
}

/* Likewise on a credential. */
static SECURITY_STATUS unsupported_on_cred(const CredHandle *ph)
{
	if (ph == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	struct sa_handle h;
	struct sa_cred *cred = NULL;
	SECURITY_STATUS st = sa__cred_call_begin(ph, &rt, &h, &cred);
	if (st != SEC_E_OK)
		return st;
	return sa__cred_call_end(rt, h, SEC_E_UNSUPPORTED_FUNCTION);
}

/* A W string argument (NULL allowed) is well-formed UTF-16: every W string
 * the library takes is checked, also those it would not use (sspi.h). */
static int wide_valid(const void *w)
{
	return w == NULL || sa__utf16_to_utf8(w, sa__utf16_len(w), NULL, 0) != (size_t)-1;
}

/* The package a call names (UTF-8, or UTF-16 when @wide): SEC_E_OK and
 * *@pkg, or SEC_E_INVALID_PARAMETER (NULL, ill-formed), SEC_E_SECPKG_NOT_FOUND,
 * SEC_E_INSUFFICIENT_MEMORY. */
static SECURITY_STATUS package_of(const void *name, int wide, const struct sa_package **pkg)
{
	if (name == NULL)
		return SEC_E_INVALID_PARAMETER;
	char *utf8 = NULL;
	SECURITY_STATUS st = SEC_E_OK;
	if (wide && (st = sa__wide_in(name, &utf8)) != SEC_E_OK)
		return st;
	*pkg = sa__pkg_find(wide ? utf8 : name);
	sa__free(utf8);
	return *pkg == NULL ? SEC_E_SECPKG_NOT_FOUND : SEC_E_OK;
}

/* Likewise for a call naming a package: the package's answer first. */
static SECURITY_STATUS unsupported_on_package(const void *name, int wide)
{
	const struct sa_package *pkg;
	SECURITY_STATUS st = package_of(name, wide, &pkg);
	return st != SEC_E_OK ? st : SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS SEC_ENTRY ApplyControlToken(PCtxtHandle phContext, PSecBufferDesc pInput)
{
	SECURITY_STATUS st = sa__desc_check(pInput, 0);
	return st != SEC_E_OK ? st : unsupported_on_ctx(phContext);
}

SECURITY_STATUS SEC_ENTRY ImpersonateSecurityContext(PCtxtHandle phContext)
{
	return unsupported_on_ctx(phContext);
}

SECURITY_STATUS SEC_ENTRY RevertSecurityContext(PCtxtHandle phContext)
{
	return unsupported_on_ctx(phContext);
}

SECURITY_STATUS SEC_ENTRY QuerySecurityContextToken(PCtxtHandle phContext, HANDLE *Token)
{
	return Token == NULL ? SEC_E_INVALID_PARAMETER : unsupported_on_ctx(phContext);
}

SECURITY_STATUS SEC_ENTRY ExportSecurityContext(PCtxtHandle phContext, ULONG fFlags,
						PSecBuffer pPackedContext, void **pToken)
{
	const ULONG known = SECPKG_CONTEXT_EXPORT_RESET_NEW | SECPKG_CONTEXT_EXPORT_DELETE_OLD |
			    SECPKG_CONTEXT_EXPORT_TO_KERNEL;
	(void)pToken; /* optional */
	if (pPackedContext == NULL || (fFlags & ~known) != 0)
		return SEC_E_INVALID_PARAMETER;
	return unsupported_on_ctx(phContext);
}

static SECURITY_STATUS import_context(const void *pkg, int wide, PSecBuffer packed, PCtxtHandle ph)
{
	if (packed == NULL || ph == NULL || (packed->pvBuffer == NULL && packed->cbBuffer != 0))
		return SEC_E_INVALID_PARAMETER;
	return unsupported_on_package(pkg, wide);
}

SECURITY_STATUS SEC_ENTRY ImportSecurityContextA(SEC_CHAR *pszPackage, PSecBuffer pPackedContext,
						 void *Token, PCtxtHandle phContext)
{
	(void)Token;
	return import_context(pszPackage, 0, pPackedContext, phContext);
}

SECURITY_STATUS SEC_ENTRY ImportSecurityContextW(SEC_WCHAR *pszPackage, PSecBuffer pPackedContext,
						 void *Token, PCtxtHandle phContext)
{
	(void)Token;
	return import_context(pszPackage, 1, pPackedContext, phContext);
}

/* AddCredentials: the use, the principal (W: well-formed), the package,
 * the identity (as AcquireCredentialsHandle reads it, identity.c), then the
 * credential. */
static SECURITY_STATUS add_credentials(PCredHandle h, const void *principal, const void *pkg_name,
				       int wide, unsigned long use, void *auth)
{
	unsigned long u = use & ~(unsigned long)SECPKG_CRED_RESERVED;
	if (u != SECPKG_CRED_INBOUND && u != SECPKG_CRED_OUTBOUND && u != SECPKG_CRED_BOTH)
		return SEC_E_INVALID_PARAMETER;
	if (wide && !wide_valid(principal))
		return SEC_E_INVALID_PARAMETER;
	const struct sa_package *pkg;
	SECURITY_STATUS st = package_of(pkg_name, wide, &pkg);
	if (st != SEC_E_OK)
		return st;
	if (auth != NULL) {
		struct sa_pkg_identity pid;
		if ((st = sa__identity_copy(auth, pkg, &pid)) != SEC_E_OK)
			return st;
		sa__identity_free(&pid);
	}
	return unsupported_on_cred(h);
}

SECURITY_STATUS SEC_ENTRY AddCredentialsA(PCredHandle hCredentials, SEC_CHAR *pszPrincipal,
					  SEC_CHAR *pszPackage, unsigned long fCredentialUse,
					  void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
					  void *pvGetKeyArgument, PTimeStamp ptsExpiry)
{
	(void)pGetKeyFn, (void)pvGetKeyArgument, (void)ptsExpiry;
	return add_credentials(hCredentials, pszPrincipal, pszPackage, 0, fCredentialUse, pAuthData);
}

SECURITY_STATUS SEC_ENTRY AddCredentialsW(PCredHandle hCredentials, SEC_WCHAR *pszPrincipal,
					  SEC_WCHAR *pszPackage, unsigned long fCredentialUse,
					  void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
					  void *pvGetKeyArgument, PTimeStamp ptsExpiry)
{
	(void)pGetKeyFn, (void)pvGetKeyArgument, (void)ptsExpiry;
	return add_credentials(hCredentials, pszPrincipal, pszPackage, 1, fCredentialUse, pAuthData);
}

/* Set/QueryContextAttributesEx*: a buffer is required; then the handle. */
SECURITY_STATUS sa__unsupported_ctx_attr(const CtxtHandle *ph, const void *buf)
{
	return buf == NULL ? SEC_E_INVALID_PARAMETER : unsupported_on_ctx(ph);
}

SECURITY_STATUS sa__unsupported_cred_attr(const CredHandle *ph, const void *buf)
{
	return buf == NULL ? SEC_E_INVALID_PARAMETER : unsupported_on_cred(ph);
}

SECURITY_STATUS SEC_ENTRY SetContextAttributesA(PCtxtHandle phContext, unsigned long ulAttribute,
						void *pBuffer, unsigned long cbBuffer)
{
	(void)ulAttribute, (void)cbBuffer;
	return sa__unsupported_ctx_attr(phContext, pBuffer);
}

SECURITY_STATUS SEC_ENTRY SetContextAttributesW(PCtxtHandle phContext, unsigned long ulAttribute,
						void *pBuffer, unsigned long cbBuffer)
{
	(void)ulAttribute, (void)cbBuffer;
	return sa__unsupported_ctx_attr(phContext, pBuffer);
}

SECURITY_STATUS SEC_ENTRY QueryContextAttributesExA(PCtxtHandle phContext, unsigned long ulAttribute,
						    void *pBuffer, unsigned long cbBuffer)
{
	(void)ulAttribute, (void)cbBuffer;
	return sa__unsupported_ctx_attr(phContext, pBuffer);
}

SECURITY_STATUS SEC_ENTRY QueryContextAttributesExW(PCtxtHandle phContext, unsigned long ulAttribute,
						    void *pBuffer, unsigned long cbBuffer)
{
	(void)ulAttribute, (void)cbBuffer;
	return sa__unsupported_ctx_attr(phContext, pBuffer);
}

SECURITY_STATUS SEC_ENTRY SetCredentialsAttributesA(PCredHandle phCredential,
						    unsigned long ulAttribute, void *pBuffer,
						    unsigned long cbBuffer)
{
	(void)ulAttribute, (void)cbBuffer;
	return sa__unsupported_cred_attr(phCredential, pBuffer);
}

SECURITY_STATUS SEC_ENTRY SetCredentialsAttributesW(PCredHandle phCredential,
						    unsigned long ulAttribute, void *pBuffer,
						    unsigned long cbBuffer)
{
	(void)ulAttribute, (void)cbBuffer;
	return sa__unsupported_cred_attr(phCredential, pBuffer);
}

SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesExA(PCredHandle phCredential,
							unsigned long ulAttribute, void *pBuffer,
							unsigned long cbBuffer)
{
	(void)ulAttribute, (void)cbBuffer;
	return sa__unsupported_cred_attr(phCredential, pBuffer);
}

SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesExW(PCredHandle phCredential,
							unsigned long ulAttribute, void *pBuffer,
							unsigned long cbBuffer)
{
	(void)ulAttribute, (void)cbBuffer;
	return sa__unsupported_cred_attr(phCredential, pBuffer);
}

/* ChangeAccountPassword: every string is required (W: well-formed), then
 * the package. */
static SECURITY_STATUS change_password(const void *const s[5], int wide, PSecBufferDesc out,
				       unsigned long reserved)
{
	for (int i = 0; i < 5; i++)
		if (s[i] == NULL || (wide && !wide_valid(s[i])))
			return SEC_E_INVALID_PARAMETER;
	SECURITY_STATUS st = sa__desc_check(out, 0);
	if (st != SEC_E_OK || reserved != 0)
		return st != SEC_E_OK ? st : SEC_E_INVALID_PARAMETER;
	return unsupported_on_package(s[0], wide);
}

SECURITY_STATUS SEC_ENTRY ChangeAccountPasswordA(SEC_CHAR *pszPackageName, SEC_CHAR *pszDomainName,
						 SEC_CHAR *pszAccountName, SEC_CHAR *pszOldPassword,
						 SEC_CHAR *pszNewPassword, BOOLEAN bImpersonating,
						 unsigned long dwReserved, PSecBufferDesc pOutput)
{
	const void *const s[5] = {pszPackageName, pszDomainName, pszAccountName, pszOldPassword,
				  pszNewPassword};
	(void)bImpersonating;
	return change_password(s, 0, pOutput, dwReserved);
}

SECURITY_STATUS SEC_ENTRY ChangeAccountPasswordW(SEC_WCHAR *pszPackageName,
						 SEC_WCHAR *pszDomainName,
						 SEC_WCHAR *pszAccountName,
						 SEC_WCHAR *pszOldPassword,
						 SEC_WCHAR *pszNewPassword, BOOLEAN bImpersonating,
						 unsigned long dwReserved, PSecBufferDesc pOutput)
{
	const void *const s[5] = {pszPackageName, pszDomainName, pszAccountName, pszOldPassword,
				  pszNewPassword};
	(void)bImpersonating;
	return change_password(s, 1, pOutput, dwReserved);
}

/*
 * The tables.  Reserved3/Reserved4 are void * in Microsoft's layout and
 * hold EncryptMessage/DecryptMessage on Windows (the old Seal/Unseal
 * slots): ISO C cannot initialise an object pointer with a function
 * pointer, so tables_fill copies the pointers' bytes (POSIX guarantees the
 * two have one representation), once, before the first caller sees them.
 * After that the tables are never written.
 */
static SecurityFunctionTableA table_a = {
	.dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4,
	.EnumerateSecurityPackagesA = EnumerateSecurityPackagesA,
	.QueryCredentialsAttributesA = QueryCredentialsAttributesA,
	.AcquireCredentialsHandleA = AcquireCredentialsHandleA,
	.FreeCredentialHandle = FreeCredentialsHandle, /* Microsoft's spelling, a macro */
	.InitializeSecurityContextA = InitializeSecurityContextA,
	.AcceptSecurityContext = AcceptSecurityContext,
	.CompleteAuthToken = CompleteAuthToken,
	.DeleteSecurityContext = DeleteSecurityContext,
	.ApplyControlToken = ApplyControlToken,
	.QueryContextAttributesA = QueryContextAttributesA,
	.ImpersonateSecurityContext = ImpersonateSecurityContext,
	.RevertSecurityContext = RevertSecurityContext,
	.MakeSignature = MakeSignature,
	.VerifySignature = VerifySignature,
	.FreeContextBuffer = FreeContextBuffer,
	.QuerySecurityPackageInfoA = QuerySecurityPackageInfoA,
	.ExportSecurityContext = ExportSecurityContext,
	.ImportSecurityContextA = ImportSecurityContextA,
	.AddCredentialsA = AddCredentialsA,
	.QuerySecurityContextToken = QuerySecurityContextToken,
	.EncryptMessage = EncryptMessage,
	.DecryptMessage = DecryptMessage,
	.SetContextAttributesA = SetContextAttributesA,
	.SetCredentialsAttributesA = SetCredentialsAttributesA,
	.ChangeAccountPasswordA = ChangeAccountPasswordA,
	.QueryContextAttributesExA = QueryContextAttributesExA,
	.QueryCredentialsAttributesExA = QueryCredentialsAttributesExA,
};

static SecurityFunctionTableW table_w = {
	.dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4,
	.EnumerateSecurityPackagesW = EnumerateSecurityPackagesW,
	.QueryCredentialsAttributesW = QueryCredentialsAttributesW,
	.AcquireCredentialsHandleW = AcquireCredentialsHandleW,
	.FreeCredentialsHandle = FreeCredentialsHandle,
	.InitializeSecurityContextW = InitializeSecurityContextW,
	.AcceptSecurityContext = AcceptSecurityContext,
	.CompleteAuthToken = CompleteAuthToken,
	.DeleteSecurityContext = DeleteSecurityContext,
	.ApplyControlToken = ApplyControlToken,
	.QueryContextAttributesW = QueryContextAttributesW,
	.ImpersonateSecurityContext = ImpersonateSecurityContext,
	.RevertSecurityContext = RevertSecurityContext,
	.MakeSignature = MakeSignature,
	.VerifySignature = VerifySignature,
	.FreeContextBuffer = FreeContextBuffer,
	.QuerySecurityPackageInfoW = QuerySecurityPackageInfoW,
	.ExportSecurityContext = ExportSecurityContext,
	.ImportSecurityContextW = ImportSecurityContextW,
	.AddCredentialsW = AddCredentialsW,
	.QuerySecurityContextToken = QuerySecurityContextToken,
	.EncryptMessage = EncryptMessage,
	.DecryptMessage = DecryptMessage,
	.SetContextAttributesW = SetContextAttributesW,
	.SetCredentialsAttributesW = SetCredentialsAttributesW,
	.ChangeAccountPasswordW = ChangeAccountPasswordW,
	.QueryContextAttributesExW = QueryContextAttributesExW,
	.QueryCredentialsAttributesExW = QueryCredentialsAttributesExW,
};

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_fill(void)
{
	ENCRYPT_MESSAGE_FN seal = EncryptMessage;
	DECRYPT_MESSAGE_FN unseal = DecryptMessage;
	_Static_assert(sizeof seal == sizeof table_a.Reserved3, "function and object pointers");
	memcpy(&table_a.Reserved3, &seal, sizeof seal);
	memcpy(&table_a.Reserved4, &unseal, sizeof unseal);
	memcpy(&table_w.Reserved3, &seal, sizeof seal);
	memcpy(&table_w.Reserved4, &unseal, sizeof unseal);
}

PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA(void)
{
	int rc = pthread_once(&tables_once, tables_fill);
	(void)rc; /* cannot fail: tables_fill neither fails nor cancels */
	return &table_a;
}

PSecurityFunctionTableW SEC_ENTRY InitSecurityInterfaceW(void)
{
	int rc = pthread_once(&tables_once, tables_fill);
	(void)rc;
	return &table_w;
}
