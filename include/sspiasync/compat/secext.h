/*
 * <secext.h> for ported Windows code (brought in by <security.h>, as on
 * Windows): the EXTENDED_NAME_FORMAT enumeration, with Microsoft's values.
 * GetUserNameExA/W, GetComputerObjectNameA/W and TranslateNameA/W are not
 * provided: they query a Windows domain's directory, which Linux has no
 * equivalent of (README, "Census").
 */
#ifndef SSPIASYNC_COMPAT_SECEXT_H
#define SSPIASYNC_COMPAT_SECEXT_H

#include <sspiasync/sspi.h>

typedef enum {
	NameUnknown = 0,
	NameFullyQualifiedDN = 1,
	NameSamCompatible = 2,
	NameDisplay = 3,
	NameUniqueId = 6,
	NameCanonical = 7,
	NameUserPrincipal = 8,
	NameCanonicalEx = 9,
	NameServicePrincipal = 10,
	NameDnsDomain = 12,
	NameGivenName = 13,
	NameSurname = 14
} EXTENDED_NAME_FORMAT, *PEXTENDED_NAME_FORMAT;

#endif /* SSPIASYNC_COMPAT_SECEXT_H */
