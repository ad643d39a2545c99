/*
 * src/sspi/pkginfo.c - what callers learn about packages:
 * EnumerateSecurityPackagesA and QuerySecurityPackageInfoA (the W forms:
 * wide.c; the dispatch tables: tables.c).
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
