/*
 * src/packages/registry.c - the list of security packages, in the order
 * EnumerateSecurityPackages reports them: the built-in test package first.
 */
#include "packages/package.h"

#include <strings.h>

static const struct sa_package *const packages[] = {
	&sa__testpkg,
	&sa__ntlm,
#ifdef SA_HAVE_KRB5
	&sa__krb5,
#endif
#ifdef SA_HAVE_NEGOTIATE
	&sa__negotiate,
#endif
};

unsigned sa__pkg_count(void)
{
	return (unsigned)(sizeof packages / sizeof packages[0]);
}

const struct sa_package *sa__pkg_at(unsigned i)
{
	return i < sa__pkg_count() ? packages[i] : NULL;
}

const struct sa_package *sa__pkg_find(const char *name)
{
	for (unsigned i = 0; name != NULL && i < sa__pkg_count(); i++)
		if (strcasecmp(packages[i]->name, name) == 0)
			return packages[i];
	return NULL;
}

void sa__pkg_unload_all(void)
{
	for (unsigned i = 0; i < sa__pkg_count(); i++)
		if (packages[i]->unload != NULL)
			packages[i]->unload();
}
