/*
 * src/sspi/pkginfo.c - what callers learn about packages:
 * EnumerateSecurityPackagesA, QuerySecurityPackageInfoA, and
 * InitSecurityInterfaceA's dispatch table.
 */
#include "sspi/sspi_int.h"

#include <string.h>

/* An array of @n package descriptions in one context buffer: the structs,
 * then their strings, so one FreeContextBuffer frees it all. */
SECURITY_STATUS sa__pkginfo_alloc(struct sa_runtime *rt, const struct sa_package *const *pkgs,
				  unsigned n, SecPkgInfoA **out);

SECURITY_STATUS sa__pkginfo_alloc(struct sa_runtime *rt, const struct sa_package *const *pkgs,
				  unsigned n, SecPkgInfoA **out)
{
	size_t size = (size_t)n * sizeof(SecPkgInfoA);
	for (unsigned i = 0; i < n; i++)
		size += strlen(pkgs[i]->name) + 1 + strlen(pkgs[i]->comment) + 1;
	SecPkgInfoA *info = sa__ctxbuf_alloc(rt, size);
	if (info == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	char *str = (char *)(info + n);
	for (unsigned i = 0; i < n; i++) {
		const struct sa_package *p = pkgs[i];
		info[i].fCapabilities = p->caps;
		info[i].wVersion = p->version;
		info[i].wRPCID = p->rpcid;
		info[i].cbMaxToken = p->max_token;
		size_t ln = strlen(p->name) + 1, lc = strlen(p->comment) + 1;
		info[i].Name = memcpy(str, p->name, ln);
		str += ln;
		info[i].Comment = memcpy(str, p->comment, lc);
		str += lc;
	}
	*out = info;
	return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesA(unsigned long *pcPackages,
						     PSecPkgInfoA *ppPackageInfo)
{
	if (pcPackages == NULL || ppPackageInfo == NULL)
		return SEC_E_INVALID_PARAMETER;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	enum { MAX_PACKAGES = 8 };
	const struct sa_package *pkgs[MAX_PACKAGES];
	unsigned n = sa__pkg_count();
	for (unsigned i = 0; i < n && i < MAX_PACKAGES; i++)
		pkgs[i] = sa__pkg_at(i);
	SecPkgInfoA *info;
	st = sa__pkginfo_alloc(rt, pkgs, n < MAX_PACKAGES ? n : MAX_PACKAGES, &info);
	if (st == SEC_E_OK) {
		*pcPackages = n < MAX_PACKAGES ? n : MAX_PACKAGES;
		*ppPackageInfo = info;
	}
	return sa__rt_exit(rt, st);
}

SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoA(LPSTR pszPackageName, PSecPkgInfoA *ppPackageInfo)
{
	if (pszPackageName == NULL || ppPackageInfo == NULL)
		return SEC_E_INVALID_PARAMETER;
	const struct sa_package *pkg = sa__pkg_find(pszPackageName);
	if (pkg == NULL)
		return SEC_E_SECPKG_NOT_FOUND;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	SecPkgInfoA *info;
	st = sa__pkginfo_alloc(rt, &pkg, 1, &info);
	if (st == SEC_E_OK)
		*ppPackageInfo = info;
	return sa__rt_exit(rt, st);
}

/* The functions this library does not provide answer in their table slots. */
static SECURITY_STATUS SEC_ENTRY unsupported_ctxt(PCtxtHandle h)
{
	(void)h;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

static SECURITY_STATUS SEC_ENTRY unsupported_apply_control_token(PCtxtHandle h, PSecBufferDesc in)
{
	(void)h;
	(void)in;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

static SECURITY_STATUS SEC_ENTRY unsupported_export(PCtxtHandle h, ULONG flags, PSecBuffer packed,
						     void **token)
{
	(void)h, (void)flags, (void)packed, (void)token;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

static SECURITY_STATUS SEC_ENTRY unsupported_import(SEC_CHAR *pkg, PSecBuffer packed, void *token,
						     PCtxtHandle h)
{
	(void)pkg, (void)packed, (void)token, (void)h;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

static SECURITY_STATUS SEC_ENTRY unsupported_add_credentials(PCredHandle h, SEC_CHAR *principal,
							      SEC_CHAR *pkg, unsigned long use,
							      void *auth, SEC_GET_KEY_FN fn, void *arg,
							      PTimeStamp expiry)
{
	(void)h, (void)principal, (void)pkg, (void)use, (void)auth, (void)fn, (void)arg, (void)expiry;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

static SECURITY_STATUS SEC_ENTRY unsupported_context_token(PCtxtHandle h, HANDLE *token)
{
	(void)h, (void)token;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

/* SetContextAttributesA and QueryContextAttributesExA share a signature. */
static SECURITY_STATUS SEC_ENTRY unsupported_ctxt_attr(PCtxtHandle h, unsigned long attr, void *buf,
						       unsigned long len)
{
	(void)h, (void)attr, (void)buf, (void)len;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

/* SetCredentialsAttributesA and QueryCredentialsAttributesExA likewise. */
static SECURITY_STATUS SEC_ENTRY unsupported_cred_attr(PCredHandle h, unsigned long attr, void *buf,
						       unsigned long len)
{
	(void)h, (void)attr, (void)buf, (void)len;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

static SECURITY_STATUS SEC_ENTRY unsupported_change_password(SEC_CHAR *pkg, SEC_CHAR *domain,
							      SEC_CHAR *account, SEC_CHAR *old_pw,
							      SEC_CHAR *new_pw, BOOLEAN impersonating,
							      unsigned long reserved, PSecBufferDesc out)
{
	(void)pkg, (void)domain, (void)account, (void)old_pw, (void)new_pw, (void)impersonating;
	(void)reserved, (void)out;
	return SEC_E_UNSUPPORTED_FUNCTION;
}

static const SecurityFunctionTableA function_table = {
	.dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION,
	.EnumerateSecurityPackagesA = EnumerateSecurityPackagesA,
	.QueryCredentialsAttributesA = QueryCredentialsAttributesA,
	.AcquireCredentialsHandleA = AcquireCredentialsHandleA,
	.FreeCredentialHandle = FreeCredentialsHandle,
	.InitializeSecurityContextA = InitializeSecurityContextA,
	.AcceptSecurityContext = AcceptSecurityContext,
	.CompleteAuthToken = CompleteAuthToken,
	.DeleteSecurityContext = DeleteSecurityContext,
	.ApplyControlToken = unsupported_apply_control_token,
	.QueryContextAttributesA = QueryContextAttributesA,
	.ImpersonateSecurityContext = unsupported_ctxt,
	.RevertSecurityContext = unsupported_ctxt,
	.MakeSignature = MakeSignature,
	.VerifySignature = VerifySignature,
	.FreeContextBuffer = FreeContextBuffer,
	.QuerySecurityPackageInfoA = QuerySecurityPackageInfoA,
	.ExportSecurityContext = unsupported_export,
	.ImportSecurityContextA = unsupported_import,
	.AddCredentialsA = unsupported_add_credentials,
	.QuerySecurityContextToken = unsupported_context_token,
	.EncryptMessage = EncryptMessage,
	.DecryptMessage = DecryptMessage,
	.SetContextAttributesA = unsupported_ctxt_attr,
	.SetCredentialsAttributesA = unsupported_cred_attr,
	.ChangeAccountPasswordA = unsupported_change_password,
	.QueryContextAttributesExA = unsupported_ctxt_attr,
	.QueryCredentialsAttributesExA = unsupported_cred_attr,
};

PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA(void)
{
	/* Callers get a non-const pointer (Microsoft's prototype); the table is
	 * never written through it by this library. */
	return (PSecurityFunctionTableA)&function_table;
}
