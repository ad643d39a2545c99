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

/* Copy @len bytes of @s (not NUL-terminated) into a new string. */
static char *str_copy(const unsigned char *s, unsigned long len)
{
	char *p = sa__malloc((size_t)len + 1);
	if (p != NULL) {
		if (len != 0)
			memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Check an identity before any side effect: strings present where a length
 * says so, the ANSI (UTF-8) form, no embedded NUL. */
static SECURITY_STATUS identity_check(const SEC_WINNT_AUTH_IDENTITY_A *id)
{
	if (id->Flags != SEC_WINNT_AUTH_IDENTITY_ANSI)
		return SEC_E_INVALID_PARAMETER;
	const unsigned char *s[3] = {id->User, id->Domain, id->Password};
	const unsigned long n[3] = {id->UserLength, id->DomainLength, id->PasswordLength};
	for (int i = 0; i < 3; i++) {
		if (n[i] != 0 && s[i] == NULL)
			return SEC_E_INVALID_PARAMETER;
		if (n[i] != 0 && memchr(s[i], 0, n[i]) != NULL)
			return SEC_E_INVALID_PARAMETER;
	}
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
	if (phCredential == NULL || pszPackage == NULL || pvLogonId != NULL)
		return SEC_E_INVALID_PARAMETER;
	unsigned long use = fCredentialUse & ~(unsigned long)SECPKG_CRED_RESERVED;
	if (use != SECPKG_CRED_INBOUND && use != SECPKG_CRED_OUTBOUND && use != SECPKG_CRED_BOTH)
		return SEC_E_INVALID_PARAMETER;
	const SEC_WINNT_AUTH_IDENTITY_A *id = pAuthData;
	if (id != NULL && identity_check(id) != SEC_E_OK)
		return SEC_E_INVALID_PARAMETER;
	const struct sa_package *pkg = sa__pkg_find(pszPackage);
	if (pkg == NULL)
		return SEC_E_SECPKG_NOT_FOUND;

	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;

	struct sa_pkg_identity pid = {NULL, NULL, NULL};
	struct sa_pkg_cred_args args = {.principal = pszPrincipal, .use = use, .identity = NULL};
	struct sa_cred *cred = NULL;
	if (id != NULL) {
		pid.user = str_copy(id->User, id->UserLength);
		pid.domain = str_copy(id->Domain, id->DomainLength);
		pid.password = str_copy(id->Password, id->PasswordLength);
		if (pid.user == NULL || pid.domain == NULL || pid.password == NULL) {
			st = SEC_E_INSUFFICIENT_MEMORY;
			goto out_free_identity;
		}
		args.identity = &pid;
	}
	cred = sa__calloc(1, sizeof *cred);
	if (cred == NULL) {
		st = SEC_E_INSUFFICIENT_MEMORY;
		goto out_free_identity;
	}
	cred->pkg = pkg;
	cred->use = use;
	st = pkg->cred_acquire(&args, &cred->pkg_cred, &cred->expiry);
	if (st != SEC_E_OK)
		goto out_free_cred;
	struct sa_handle h;
	int rc = sa_htable_insert(rt->creds, cred, &h);
	if (rc != SA_OK) {
		pkg->cred_free(cred->pkg_cred);
		st = sa__status_from_sa(rc);
		goto out_free_cred;
	}
	sa__handle_to(phCredential, h);
	sa__timestamp_set(ptsExpiry, cred->expiry);
	cred = NULL; /* the table owns it now */
out_free_cred:
	sa__free(cred);
out_free_identity:
	/* The package copied what it keeps. */
	sa__free((void *)pid.user);
	sa__free((void *)pid.domain);
	sa__free((void *)pid.password);
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

SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesA(PCredHandle phCredential,
						      unsigned long ulAttribute, void *pBuffer)
{
	if (phCredential == NULL)
		return SEC_E_INVALID_HANDLE;
	if (pBuffer == NULL)
		return SEC_E_INVALID_PARAMETER;
	struct sa_runtime *rt;
	SECURITY_STATUS st = sa__rt_enter(&rt);
	if (st != SEC_E_OK)
		return st;
	struct sa_handle h = sa__handle_from(phCredential);
	void *obj;
	int rc = sa_htable_acquire(rt->creds, h, &obj);
	if (rc != SA_OK)
		return sa__rt_exit(rt, sa__status_from_sa(rc));
	struct sa_cred *cred = obj;
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
	sa_htable_release(rt->creds, h);
	return sa__rt_exit(rt, st);
}
