/*
 * src/sspi/identity.c - every form of explicit credentials Windows callers
 * pass to AcquireCredentialsHandle as pAuthData, read into one normalised
 * UTF-8 identity (struct sa_pkg_identity) before any package sees it.
 *
 * The forms, told apart as Windows does:
 *   - the first word SEC_WINNT_AUTH_IDENTITY_VERSION: the EX layout (A or W
 *     by its Flags), with Length and PackageList;
 *   - the first word SEC_WINNT_AUTH_IDENTITY_VERSION_2: the packed EX2
 *     layout, refused (SEC_E_UNSUPPORTED_FUNCTION);
 *   - otherwise the legacy layout (its first word is the User pointer, which
 *     can never be 0x200 or 0x201), A or W by its Flags.
 * Flags and lengths are checked before anything is copied, a malformed
 * identity before one this library cannot honour; README "W forms and
 * identities" lists every answer, test/check_wide.c (test_identity_*) holds
 * each.
 */
#include "sspi/sspi_int.h"

#include "util/alloc.h"
#include "util/utf16.h"

#include <string.h>
#include <strings.h>

/* The fields every form has, with strings still in the caller's form. */
struct raw_identity {
	const void *str[3]; /* user, domain, password */
	unsigned long len[3];
	unsigned long flags;
	const void *list; /* EX only: PackageList, or NULL */
	unsigned long list_len;
};

/* The longest string an identity may hold, in bytes or UTF-16 units: a
 * UNICODE_STRING's (32,767 units), far above any Windows name or password
 * limit; a longer length is a caller's error, refused before its string is
 * read or its size computed (so no length can overflow the copy's size). */
#define SA_IDENTITY_MAX_LEN 32767u

/* Flags whose meaning cannot be honoured here: Windows' own protection of
 * the strings (CredProtect, RtlEncryptMemory), marshalled strings, identity
 * providers.  Accepted without effect: _ONLY (no logon is made), NULL_USER
 * and NULL_DOMAIN (the string is empty), the prompt-UI hints of the top
 * byte. */
#define FLAGS_UNSUPPORTED                                                                   \
	(SEC_WINNT_AUTH_IDENTITY_MARSHALLED | SEC_WINNT_AUTH_IDENTITY_FLAGS_PROCESS_ENCRYPTED | \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_PROTECTED |                                  \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_USER_PROTECTED |                                    \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_ENCRYPTED |                                  \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_ID_PROVIDER)
#define FLAGS_ACCEPTED                                                                     \
	(SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE |                  \
	 SEC_WINNT_AUTH_IDENTITY_ONLY | SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_USER |          \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_DOMAIN |                                       \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_VALID_SSPIPFC_FLAGS)

/* Read the layout of @auth into @r: SEC_E_OK, or the status refusing it. */
static SECURITY_STATUS identity_layout(const void *auth, struct raw_identity *r)
{
	unsigned long version;
	memcpy(&version, auth, sizeof version); /* the first word of every layout */
	if (version == SEC_WINNT_AUTH_IDENTITY_VERSION_2)
		return SEC_E_UNSUPPORTED_FUNCTION;
	if (version == SEC_WINNT_AUTH_IDENTITY_VERSION) {
		const SEC_WINNT_AUTH_IDENTITY_EXA *ex = auth; /* EXW: the same layout */
		if (ex->Length < sizeof *ex)
			return SEC_E_INVALID_PARAMETER;
		*r = (struct raw_identity){
			{ex->User, ex->Domain, ex->Password},
			{ex->UserLength, ex->DomainLength, ex->PasswordLength},
			ex->Flags, ex->PackageList, ex->PackageListLength};
	} else {
		const SEC_WINNT_AUTH_IDENTITY_A *id = auth; /* _W: the same layout */
		*r = (struct raw_identity){
			{id->User, id->Domain, id->Password},
			{id->UserLength, id->DomainLength, id->PasswordLength},
			id->Flags, NULL, 0};
	}
	/* A malformed identity is SEC_E_INVALID_PARAMETER whatever else its
	 * Flags say: the structure first (not exactly one of ANSI/UNICODE, a bit
	 * Microsoft does not define or _RESERVED, a NULL string with a length),
	 * then what this library cannot honour. */
	unsigned long form = r->flags & (SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE);
	if ((r->flags & ~(unsigned long)(FLAGS_ACCEPTED | FLAGS_UNSUPPORTED)) != 0 ||
	    (form != SEC_WINNT_AUTH_IDENTITY_ANSI && form != SEC_WINNT_AUTH_IDENTITY_UNICODE))
		return SEC_E_INVALID_PARAMETER;
	for (int i = 0; i < 3; i++)
		if ((r->len[i] != 0 && r->str[i] == NULL) || r->len[i] > SA_IDENTITY_MAX_LEN)
			return SEC_E_INVALID_PARAMETER;
	if ((r->list_len != 0 && r->list == NULL) || r->list_len > SA_IDENTITY_MAX_LEN)
		return SEC_E_INVALID_PARAMETER;
	if (r->flags & FLAGS_UNSUPPORTED)
		return SEC_E_UNSUPPORTED_FUNCTION;
	return SEC_E_OK;
}

/* A new UTF-8 copy of @len units of @s in the identity's form: SEC_E_OK, or
 * SEC_E_INVALID_PARAMETER for ill-formed UTF-16 or an embedded NUL. */
static SECURITY_STATUS copy_string(const void *s, unsigned long len, int wide, char **out)
{
	size_t n = len;
	if (wide) {
		n = sa__utf16_to_utf8(s, len, NULL, 0);
		if (n == (size_t)-1)
			return SEC_E_INVALID_PARAMETER;
	}
	char *p = sa__malloc(n + 1);
	if (p == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (wide)
		(void)sa__utf16_to_utf8(s, len, p, n);
	else if (n != 0)
		memcpy(p, s, n);
	p[n] = '\0';
	if (memchr(p, 0, n) != NULL) {
		sa__wipe(p, n); /* it may be the password */
		sa__free(p);
		return SEC_E_INVALID_PARAMETER;
	}
	*out = p;
	return SEC_E_OK;
}

/* Which of Kerberos and NTLM the PackageList @list (UTF-8) leaves. */
static unsigned list_mechs(const char *list, const char *pkg_name, int *names_pkg,
			   int *excludes_pkg)
{
	unsigned allowed = 0, denied = 0;
	int positive = 0;
	*names_pkg = *excludes_pkg = 0;
	for (const char *p = list; *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e != '\0' && *e != ',')
			e++;
		const char *end = e;
		while (end > p && end[-1] == ' ')
			end--;
		int neg = p < end && *p == '!';
		const char *name = p + neg;
		size_t n = (size_t)(end - name);
		unsigned mech = 0;
		if (n == 8 && strncasecmp(name, "Kerberos", 8) == 0)
			mech = SA_PKG_MECH_KERBEROS;
		else if (n == 4 && strncasecmp(name, "NTLM", 4) == 0)
			mech = SA_PKG_MECH_NTLM;
		int is_pkg = n != 0 && n == strlen(pkg_name) && strncasecmp(name, pkg_name, n) == 0;
		if (n != 0) {
			if (neg) {
				denied |= mech;
				*excludes_pkg |= is_pkg;
			} else {
				positive = 1;
				allowed |= mech;
				*names_pkg |= is_pkg;
			}
		}
		p = e;
	}
	if (!positive)
		allowed = SA_PKG_MECH_ALL;
	if (!positive)
		*names_pkg = 1;
	return allowed & ~denied;
}

SECURITY_STATUS sa__identity_copy(const void *auth, const struct sa_package *pkg,
				  struct sa_pkg_identity *out)
{
	struct raw_identity r;
	SECURITY_STATUS st = identity_layout(auth, &r);
	if (st != SEC_E_OK)
		return st;
	int wide = (r.flags & SEC_WINNT_AUTH_IDENTITY_UNICODE) != 0;
	char *s[4] = {NULL, NULL, NULL, NULL};
	for (int i = 0; i < 3 && st == SEC_E_OK; i++)
		st = copy_string(r.str[i], r.len[i], wide, &s[i]);
	if (st == SEC_E_OK)
		st = copy_string(r.list, r.list_len, wide, &s[3]);
	unsigned mechs = SA_PKG_MECH_ALL;
	if (st == SEC_E_OK) {
		int names_pkg, excludes_pkg;
		unsigned left = list_mechs(s[3], pkg->name, &names_pkg, &excludes_pkg);
		if (strcasecmp(pkg->name, "Negotiate") != 0) /* the list only admits the package */
			st = excludes_pkg || !names_pkg ? SEC_E_SECPKG_NOT_FOUND : SEC_E_OK;
		else if (left == 0) /* mechs is never 0 (package.h) */
			st = SEC_E_SECPKG_NOT_FOUND;
		else
			mechs = left;
	}
	sa__free(s[3]);
	*out = (struct sa_pkg_identity){s[0], s[1], s[2], mechs};
	if (st != SEC_E_OK)
		sa__identity_free(out);
	return st;
}

void sa__identity_free(struct sa_pkg_identity *pid)
{
	sa__free((void *)pid->user);
	sa__free((void *)pid->domain);
	if (pid->password != NULL) {
		sa__wipe((void *)pid->password, strlen(pid->password));
		sa__free((void *)pid->password);
	}
	pid->user = pid->domain = pid->password = NULL;
}
