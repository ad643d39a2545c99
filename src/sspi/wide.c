/*
 * src/sspi/wide.c - the W (UTF-16) forms of the calls that take or return
 * strings.  Each is its A twin behind a conversion at this edge: strings in
 * are converted to new UTF-8 copies first (ill-formed UTF-16 gives
 * SEC_E_INVALID_PARAMETER before anything happens), strings out are
 * converted into new context buffers and the A ones freed, so FreeContextBuffer
 * frees a W result as it frees an A one.  A failure leaves the caller's
 * outputs untouched, as the A forms do.  Tests: test/check_wide.c (test_wide_*).
 */
#include "sspi/sspi_int.h"

#include "util/alloc.h"
#include "util/utf16.h"

SECURITY_STATUS sa__wide_in(const SEC_WCHAR *w, char **out)
{
	*out = NULL;
	if (w == NULL)
		return SEC_E_OK;
	size_t units = sa__utf16_len(w);
	size_t n = sa__utf16_to_utf8(w, units, NULL, 0);
	if (n == (size_t)-1)
		return SEC_E_INVALID_PARAMETER;
	char *p = sa__malloc(n + 1);
	if (p == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	(void)sa__utf16_to_utf8(w, units, p, n);
	p[n] = '\0';
	*out = p;
	return SEC_E_OK;
}

/* A context buffer holding the UTF-16 form of @s, or NULL (no memory). */
static SEC_WCHAR *wide_out(struct sa_runtime *rt, const char *s)
{
	size_t units = sa__utf8_to_utf16(s, NULL, 0);
	SEC_WCHAR *p = sa__ctxbuf_alloc(rt, units * sizeof *p);
	if (p != NULL)
		(void)sa__utf8_to_utf16(s, p, units);
	return p;
}

/* @n package descriptions @a as SecPkgInfoW in one context buffer (the
 * structs, then their strings), as sa__pkginfo_alloc makes the A ones. */
static SECURITY_STATUS pkginfo_wide(struct sa_runtime *rt, const SecPkgInfoA *a, unsigned long n,
				    SecPkgInfoW **out)
{
	size_t size = (size_t)n * sizeof(SecPkgInfoW);
	for (unsigned long i = 0; i < n; i++)
		size += (sa__utf8_to_utf16(a[i].Name, NULL, 0) +
			 sa__utf8_to_utf16(a[i].Comment, NULL, 0)) * sizeof(SEC_WCHAR);
	SecPkgInfoW *w = sa__ctxbuf_alloc(rt, size);
	if (w == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	SEC_WCHAR *str = (SEC_WCHAR *)(void *)(w + n);
	for (unsigned long i = 0; i < n; i++) {
		w[i] = (SecPkgInfoW){a[i].fCapabilities, a[i].wVersion, a[i].wRPCID,
				     a[i].cbMaxToken, str, NULL};
		str += sa__utf8_to_utf16(a[i].Name, str, SIZE_MAX);
		w[i].Comment = str;
		str += sa__utf8_to_utf16(a[i].Comment, str, SIZE_MAX);
	}
	*out = w;
	return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleW(SEC_WCHAR *pszPrincipal, SEC_WCHAR *pszPackage,
						    unsigned long fCredentialUse, void *pvLogonId,
						    void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
						    void *pvGetKeyArgument, PCredHandle phCredential,
						    PTimeStamp ptsExpiry)
{
	char *principal = NULL, *package = NULL;
	SECURITY_STATUS st = sa__wide_in(pszPrincipal, &principal);
	if (st == SEC_E_OK)
		st = sa__wide_in(pszPackage, &package);
	if (st == SEC_E_OK)
		st = AcquireCredentialsHandleA(principal, package, fCredentialUse, pvLogonId,
					       pAuthData, pGetKeyFn, pvGetKeyArgument, phCredential,
					       ptsExpiry);
	sa__free(principal);
	sa__free(package);
	return st;
}

SECURITY_STATUS SEC_ENTRY InitializeSecurityContextW(PCredHandle phCredential, PCtxtHandle phContext,
						     SEC_WCHAR *pszTargetName,
						     unsigned long fContextReq,
						     unsigned long Reserved1,
						     unsigned long TargetDataRep,
						     PSecBufferDesc pInput, unsigned long Reserved2,
						     PCtxtHandle phNewContext,
						     PSecBufferDesc pOutput,
						     unsigned long *pfContextAttr,
						     PTimeStamp ptsExpiry)
{
	char *target = NULL;
	SECURITY_STATUS st = sa__wide_in(pszTargetName, &target);
	if (st == SEC_E_OK)
		st = InitializeSecurityContextA(phCredential, phContext, target, fContextReq,
						Reserved1, TargetDataRep, pInput, Reserved2,
						phNewContext, pOutput, pfContextAttr, ptsExpiry);
	sa__free(target);
	return st;
}

/* The A results whose strings QueryContextAttributesW converts. */
union ctx_attr_a {
	SecPkgContext_NamesA names;
	SecPkgContext_NativeNamesA native;
	SecPkgContext_PackageInfoA package;
	SecPkgContext_NegotiationInfoA nego;
};

/* Convert the A result @a of @attr into the W one at @buf, freeing @a's
 * buffers; @buf is written only on success. */
static SECURITY_STATUS ctx_attr_wide(struct sa_runtime *rt, unsigned long attr,
				     union ctx_attr_a *a, void *buf)
{
	SECURITY_STATUS st = SEC_E_OK;
	switch (attr) {
	case SECPKG_ATTR_NAMES: {
		SEC_WCHAR *user = wide_out(rt, a->names.sUserName);
		sa__ctxbuf_free(rt, a->names.sUserName);
		if (user == NULL)
			return SEC_E_INSUFFICIENT_MEMORY;
		((SecPkgContext_NamesW *)buf)->sUserName = user;
		return SEC_E_OK;
	}
	case SECPKG_ATTR_NATIVE_NAMES: {
		SEC_WCHAR *cl = wide_out(rt, a->native.sClientName);
		SEC_WCHAR *sv = cl != NULL ? wide_out(rt, a->native.sServerName) : NULL;
		sa__ctxbuf_free(rt, a->native.sClientName);
		sa__ctxbuf_free(rt, a->native.sServerName);
		if (sv == NULL) {
			sa__ctxbuf_free(rt, cl);
			return SEC_E_INSUFFICIENT_MEMORY;
		}
		((SecPkgContext_NativeNamesW *)buf)->sClientName = cl;
		((SecPkgContext_NativeNamesW *)buf)->sServerName = sv;
		return SEC_E_OK;
	}
	default: { /* SECPKG_ATTR_PACKAGE_INFO, SECPKG_ATTR_NEGOTIATION_INFO */
		SecPkgInfoA *info = attr == SECPKG_ATTR_PACKAGE_INFO ? a->package.PackageInfo
								     : a->nego.PackageInfo;
		SecPkgInfoW *w = NULL;
		st = pkginfo_wide(rt, info, 1, &w);
		sa__ctxbuf_free(rt, info);
		if (st != SEC_E_OK)
			return st;
		if (attr == SECPKG_ATTR_PACKAGE_INFO) {
			((SecPkgContext_PackageInfoW *)buf)->PackageInfo = w;
		} else {
			((SecPkgContext_NegotiationInfoW *)buf)->PackageInfo = w;
			((SecPkgContext_NegotiationInfoW *)buf)->NegotiationState =
				a->nego.NegotiationState;
		}
		return SEC_E_OK;
	}
	}
}

/*
 * The attributes whose W result holds strings this file does not convert
 * (yet): their A form would hand back UTF-8 where the W struct promises
 * UTF-16, so the W call refuses them itself, after the checks the A form
 * makes, rather than pass them through the day the A form learns them.
 * (SECPKG_ATTR_CLIENT_SPECIFIED_TARGET is UTF-16 in both forms.)
 */
static int ctx_attr_unconverted(unsigned long attr)
{
	return attr == SECPKG_ATTR_KEY_INFO || attr == SECPKG_ATTR_AUTHORITY ||
	       attr == SECPKG_ATTR_PROTO_INFO || attr == SECPKG_ATTR_CREDENTIAL_NAME;
}

SECURITY_STATUS SEC_ENTRY QueryContextAttributesW(PCtxtHandle phContext, unsigned long ulAttribute,
						  void *pBuffer)
{
	if (ctx_attr_unconverted(ulAttribute))
		return sa__unsupported_ctx_attr(phContext, pBuffer);
	if (ulAttribute != SECPKG_ATTR_NAMES && ulAttribute != SECPKG_ATTR_NATIVE_NAMES &&
	    ulAttribute != SECPKG_ATTR_PACKAGE_INFO && ulAttribute != SECPKG_ATTR_NEGOTIATION_INFO)
		return QueryContextAttributesA(phContext, ulAttribute, pBuffer); /* no strings */
	if (pBuffer == NULL)
		return SEC_E_INVALID_PARAMETER;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt); /* keeps the A buffers' runtime */
	if (st != SEC_E_OK)
		return st;
	union ctx_attr_a a;
	st = QueryContextAttributesA(phContext, ulAttribute, &a);
	if (st == SEC_E_OK)
		st = ctx_attr_wide(rt, ulAttribute, &a, pBuffer);
	return sa__rt_exit(NULL, st); /* counted by the A call */
}

SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesW(PCredHandle phCredential,
						      unsigned long ulAttribute, void *pBuffer)
{
	if (ulAttribute == SECPKG_CRED_ATTR_SSI_PROVIDER) /* a string not converted here */
		return sa__unsupported_cred_attr(phCredential, pBuffer);
	if (ulAttribute != SECPKG_CRED_ATTR_NAMES)
		return QueryCredentialsAttributesA(phCredential, ulAttribute, pBuffer);
	if (pBuffer == NULL)
		return SEC_E_INVALID_PARAMETER;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	SecPkgCredentials_NamesA a;
	st = QueryCredentialsAttributesA(phCredential, ulAttribute, &a);
	if (st == SEC_E_OK) {
		SEC_WCHAR *user = wide_out(rt, a.sUserName);
		sa__ctxbuf_free(rt, a.sUserName);
		if (user == NULL)
			st = SEC_E_INSUFFICIENT_MEMORY;
		else
			((SecPkgCredentials_NamesW *)pBuffer)->sUserName = user;
	}
	return sa__rt_exit(NULL, st);
}

SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesW(unsigned long *pcPackages,
						     PSecPkgInfoW *ppPackageInfo)
{
	if (pcPackages == NULL || ppPackageInfo == NULL)
		return SEC_E_INVALID_PARAMETER;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	unsigned long n = 0;
	SecPkgInfoA *a = NULL;
	SecPkgInfoW *w = NULL;
	st = EnumerateSecurityPackagesA(&n, &a);
	if (st == SEC_E_OK) {
		st = pkginfo_wide(rt, a, n, &w);
		sa__ctxbuf_free(rt, a);
	}
	if (st == SEC_E_OK) {
		*pcPackages = n;
		*ppPackageInfo = w;
	}
	return sa__rt_exit(NULL, st);
}

SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoW(SEC_WCHAR *pszPackageName,
						    PSecPkgInfoW *ppPackageInfo)
{
	if (pszPackageName == NULL || ppPackageInfo == NULL)
		return SEC_E_INVALID_PARAMETER;
	char *name;
	SECURITY_STATUS st = sa__wide_in(pszPackageName, &name);
	if (st != SEC_E_OK)
		return st;
	struct sa_runtime *rt;
	if ((st = sa__rt_enter(&rt)) != SEC_E_OK) {
		sa__free(name);
		return st;
	}
	SecPkgInfoA *a = NULL;
	SecPkgInfoW *w = NULL;
	st = QuerySecurityPackageInfoA(name, &a);
	sa__free(name);
	if (st == SEC_E_OK) {
		st = pkginfo_wide(rt, a, 1, &w);
		sa__ctxbuf_free(rt, a);
	}
	if (st == SEC_E_OK)
		*ppPackageInfo = w;
	return sa__rt_exit(NULL, st);
}

SECURITY_STATUS SspiAcquireCredentialsHandleAsyncW(SspiAsyncContext *AsyncContext,
						   LPWSTR pszPrincipal, LPWSTR pszPackage,
						   unsigned long fCredentialUse, void *pvLogonId,
						   void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
						   void *pvGetKeyArgument, PCredHandle phCredential,
						   PTimeStamp ptsExpiry)
{
	if (AsyncContext == NULL) /* the A form's first answer, before its strings */
		return SEC_E_INVALID_HANDLE;
	char *principal = NULL, *package = NULL;
	SECURITY_STATUS st = sa__wide_in(pszPrincipal, &principal);
	if (st == SEC_E_OK)
		st = sa__wide_in(pszPackage, &package);
	if (st == SEC_E_OK) /* the A form copies what it keeps */
		st = SspiAcquireCredentialsHandleAsyncA(AsyncContext, principal, package,
							fCredentialUse, pvLogonId, pAuthData,
							pGetKeyFn, pvGetKeyArgument, phCredential,
							ptsExpiry);
	sa__free(principal);
	sa__free(package);
	return st;
}

SECURITY_STATUS SspiInitializeSecurityContextAsyncW(SspiAsyncContext *AsyncContext,
						    PCredHandle phCredential, PCtxtHandle phContext,
						    LPWSTR pszTargetName, unsigned long fContextReq,
						    unsigned long Reserved1,
						    unsigned long TargetDataRep,
						    PSecBufferDesc pInput, unsigned long Reserved2,
						    PCtxtHandle phNewContext, PSecBufferDesc pOutput,
						    unsigned long *pfContextAttr,
						    PTimeStamp ptsExpiry)
{
	if (AsyncContext == NULL) /* as the A form */
		return SEC_E_INVALID_HANDLE;
	char *target = NULL;
	SECURITY_STATUS st = sa__wide_in(pszTargetName, &target);
	if (st == SEC_E_OK)
		st = SspiInitializeSecurityContextAsyncA(AsyncContext, phCredential, phContext,
							 target, fContextReq, Reserved1,
							 TargetDataRep, pInput, Reserved2,
							 phNewContext, pOutput, pfContextAttr,
							 ptsExpiry);
	sa__free(target);
	return st;
}
