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

SECURITY_STATUS sa__cred_args_check(const char *package, unsigned long use_in, const void *logon_id,
				    const void *auth, const struct sa_package **pkg,
				    unsigned long *use)
{
	if (package == NULL || logon_id != NULL)
		return SEC_E_INVALID_PARAMETER;
	unsigned long u = use_in & ~(unsigned long)SECPKG_CRED_RESERVED;
	if (u != SECPKG_CRED_INBOUND && u != SECPKG_CRED_OUTBOUND && u != SECPKG_CRED_BOTH)
		return SEC_E_INVALID_PARAMETER;
	if (auth != NULL && identity_check(auth) != SEC_E_OK)
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

SECURITY_STATUS sa__identity_copy(const SEC_WINNT_AUTH_IDENTITY_A *id, struct sa_pkg_identity *out)
{
	out->user = str_copy(id->User, id->UserLength);
	out->domain = str_copy(id->Domain, id->DomainLength);
	out->password = str_copy(id->Password, id->PasswordLength);
	if (out->user == NULL || out->domain == NULL || out->password == NULL) {
		sa__identity_free(out);
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	return SEC_E_OK;
}

void sa__identity_free(struct sa_pkg_identity *pid)
{
	sa__free((void *)pid->user);
	sa__free((void *)pid->domain);
	sa__free((void *)pid->password);
	pid->user = pid->domain = pid->password = NULL;
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
	SECURITY_STATUS st = sa__cred_args_check(pszPackage, fCredentialUse, pvLogonId, pAuthData,
						 &pkg, &use);
	if (st != SEC_E_OK)
		return st;
	struct sa_runtime *rt;
	if ((st = sa__rt_enter(&rt)) != SEC_E_OK)
		return st;
	struct sa_pkg_identity pid = {NULL, NULL, NULL};
	if (pAuthData != NULL && (st = sa__identity_copy(pAuthData, &pid)) != SEC_E_OK)
		return sa__rt_exit(rt, st);
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

/* A call on a credential, like sa__ctx_call_begin/end for contexts: enter
 * the runtime and reference the credential @ph names.  SEC_E_OK (finish
 * with cred_call_end), or the status to return (nothing held). */
static SECURITY_STATUS cred_call_begin(const CredHandle *ph, struct sa_runtime **rt,
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

static SECURITY_STATUS cred_call_end(struct sa_runtime *rt, struct sa_handle h, SECURITY_STATUS st)
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
	SECURITY_STATUS st = cred_call_begin(phCredential, &rt, &h, &cred);
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
	return cred_call_end(rt, h, st);
}

SECURITY_STATUS sspiasync_ntlm_set_lookup(PCredHandle cred, sspiasync_ntlm_lookup_fn fn, void *arg)
{
	if (cred == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	struct sa_handle h;
	struct sa_cred *c = NULL;
	SECURITY_STATUS st = cred_call_begin(cred, &rt, &h, &c);
	if (st != SEC_E_OK)
		return st;
	st = c->pkg->cred_set_lookup != NULL ? c->pkg->cred_set_lookup(c->pkg_cred, fn, arg)
					     : SEC_E_UNSUPPORTED_FUNCTION;
	return cred_call_end(rt, h, st);
}
