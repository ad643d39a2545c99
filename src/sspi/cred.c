/*
 * src/sspi/cred.c - credentials: AcquireCredentialsHandleA,
 * FreeCredentialsHandle, QueryCredentialsAttributesA.
 *
 * A credential is an entry of the runtime's credential table (sspi_int.h,
 * struct sa_cred): freeing the handle removes the entry at once, and the
 * object goes when the last context made from it is deleted.
 */
#include "sspi/sspi_int.h"

#include "util/alloc.h"

#include <string.h>

SECURITY_STATUS sa__cred_args_check(const char *package, unsigned long use_in, const void *logon_id,
				    const struct sa_package **pkg, unsigned long *use)
{
	if (package == NULL || logon_id != NULL)
		return SEC_E_INVALID_PARAMETER;
	unsigned long u = use_in & ~(unsigned long)SECPKG_CRED_RESERVED;
	if (u != SECPKG_CRED_INBOUND && u != SECPKG_CRED_OUTBOUND && u != SECPKG_CRED_BOTH)
		return SEC_E_INVALID_PARAMETER;
	*pkg = sa__pkg_find(package);
	if (*pkg == NULL)
		return SEC_E_SECPKG_NOT_FOUND;
	*use = u;
	return SEC_E_OK;
}

SECURITY_STATUS sa__cred_acquire(struct sa_runtime *rt, const struct sa_package *pkg,
				 const char *principal, unsigned long use,
				 const struct sa_pkg_identity *identity, struct sa_handle *h,
				 int64_t *expiry)
{
	struct sa_cred *cred = sa__calloc(1, sizeof *cred);
	if (cred == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	cred->pkg = pkg;
	cred->use = use;
	struct sa_pkg_cred_args args = {.principal = principal, .use = use, .identity = identity};
	SECURITY_STATUS st = pkg->cred_acquire(&args, &cred->pkg_cred, &cred->expiry);
	if (st != SEC_E_OK) {
		sa__free(cred);
		return st;
	}
	int rc = sa_htable_insert(rt->creds, cred, h);
	if (rc != SA_OK) {
		pkg->cred_free(cred->pkg_cred);
		sa__free(cred);
		return sa__status_from_sa(rc);
	}
	*expiry = cred->expiry;
	return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleA(LPSTR pszPrincipal, LPSTR pszPackage,
						    unsigned long fCredentialUse, void *pvLogonId,
						    void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
						    void *pvGetKeyArgument, PCredHandle phCredential,
						    PTimeStamp ptsExpiry)
{
	(void)pGetKeyFn;
	(void)pvGetKeyArgument;
	const struct sa_package *pkg;
	unsigned long use;
	if (phCredential == NULL)
		return SEC_E_INVALID_PARAMETER;
	SECURITY_STATUS st = sa__cred_args_check(pszPackage, fCredentialUse, pvLogonId, &pkg, &use);
	if (st != SEC_E_OK)
		return st;
	struct sa_pkg_identity pid = {NULL, NULL, NULL, SA_PKG_MECH_ALL};
	if (pAuthData != NULL && (st = sa__identity_copy(pAuthData, pkg, &pid)) != SEC_E_OK)
		return st; /* an argument error: before the runtime, like the others */
	struct sa_runtime *rt;
	if ((st = sa__rt_enter(&rt)) != SEC_E_OK) {
		sa__identity_free(&pid);
		return st;
	}
	struct sa_handle h;
	int64_t expiry;
	st = sa__cred_acquire(rt, pkg, pszPrincipal, use, pAuthData != NULL ? &pid : NULL, &h,
			      &expiry);
	sa__identity_free(&pid); /* the package copied what it keeps */
	if (st == SEC_E_OK) {
		sa__handle_to(phCredential, h);
		sa__timestamp_set(ptsExpiry, expiry);
	}
	return sa__rt_exit(rt, st);
}

SECURITY_STATUS SEC_ENTRY FreeCredentialsHandle(PCredHandle phCredential)
{
	if (phCredential == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	/* Contexts made from it keep their references; the object goes with the last. */
	int rc = sa_htable_remove(rt->creds, sa__handle_from(phCredential));
	return sa__rt_exit(rt, sa__status_from_sa(rc));
}

SECURITY_STATUS sa__cred_call_begin(const CredHandle *ph, struct sa_runtime **rt,
				    struct sa_handle *h, struct sa_cred **cred)
{
	SECURITY_STATUS st = sa__rt_enter(rt);
	if (st != SEC_E_OK)
		return st;
	*h = sa__handle_from(ph);
	void *obj;
	int rc = sa_htable_acquire((*rt)->creds, *h, &obj);
	if (rc != SA_OK)
		return sa__rt_exit(*rt, sa__status_from_sa(rc));
	*cred = obj;
	return SEC_E_OK;
}

SECURITY_STATUS sa__cred_call_end(struct sa_runtime *rt, struct sa_handle h, SECURITY_STATUS st)
{
	sa_htable_release(rt->creds, h);
	return sa__rt_exit(rt, st);
}

SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesA(PCredHandle phCredential,
						      unsigned long ulAttribute, void *pBuffer)
{
	if (pBuffer == NULL) /* arguments first, then the handle (sspi.h) */
		return SEC_E_INVALID_PARAMETER;
	if (phCredential == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	struct sa_handle h;
	struct sa_cred *cred = NULL;
	SECURITY_STATUS st = sa__cred_call_begin(phCredential, &rt, &h, &cred);
	if (st != SEC_E_OK)
		return st;
	if (ulAttribute != SECPKG_CRED_ATTR_NAMES) {
		st = SEC_E_UNSUPPORTED_FUNCTION;
	} else {
		char *name = NULL, *out = NULL;
		st = cred->pkg->cred_name(cred->pkg_cred, &name);
		if (st == SEC_E_OK) {
			out = sa__ctxbuf_strdup(rt, name);
			if (out == NULL)
				st = SEC_E_INSUFFICIENT_MEMORY;
			else
				((SecPkgCredentials_NamesA *)pBuffer)->sUserName = out;
		}
		sa__free(name);
	}
	return sa__cred_call_end(rt, h, st);
}

SECURITY_STATUS sspiasync_ntlm_set_lookup(PCredHandle cred, sspiasync_ntlm_lookup_fn fn, void *arg)
{
	if (cred == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	struct sa_handle h;
	struct sa_cred *c = NULL;
	SECURITY_STATUS st = sa__cred_call_begin(cred, &rt, &h, &c);
	if (st != SEC_E_OK)
		return st;
	st = c->pkg->cred_set_lookup != NULL ? c->pkg->cred_set_lookup(c->pkg_cred, fn, arg)
					     : SEC_E_UNSUPPORTED_FUNCTION;
	return sa__cred_call_end(rt, h, st);
}
