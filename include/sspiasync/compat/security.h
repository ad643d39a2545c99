/*
 * <security.h> for ported Windows code: forwards to <sspiasync/sspi.h> and
 * <secext.h>, and adds the package-name macros Windows' <security.h>
 * defines (the W ones as u"..." UTF-16 literals; the unsuffixed ones follow
 * UNICODE).  Naming a package here does not mean this library provides it:
 * EnumerateSecurityPackages() says which ones exist.
 *
 * Only on the include path through sspiasync-compat.pc.  SECURITY_WIN32 may
 * be defined or not; it changes nothing here.
 */
#ifndef SSPIASYNC_COMPAT_SECURITY_H
#define SSPIASYNC_COMPAT_SECURITY_H

#include <sspiasync/sspi.h>

#include "secext.h"

#ifndef NTLMSP_NAME_A
#define NTLMSP_NAME_A "NTLM"
#define NTLMSP_NAME u"NTLM"
#endif
#ifndef MICROSOFT_KERBEROS_NAME_A
#define MICROSOFT_KERBEROS_NAME_A "Kerberos"
#define MICROSOFT_KERBEROS_NAME_W u"Kerberos"
#define MICROSOFT_KERBEROS_NAME MICROSOFT_KERBEROS_NAME_W
#endif
#ifndef NEGOSSP_NAME
#define NEGOSSP_NAME_W u"Negotiate"
#define NEGOSSP_NAME_A "Negotiate"
#define NEGOSSP_NAME SA__AW(NEGOSSP_NAME_A, NEGOSSP_NAME_W)
#endif
#ifndef CLOUDAP_NAME
#define CLOUDAP_NAME_W u"CloudAP"
#define ClOUDAP_NAME_A "CloudAP" /* sic: Microsoft's spelling */
#define CLOUDAP_NAME SA__AW(ClOUDAP_NAME_A, CLOUDAP_NAME_W)
#endif

#endif /* SSPIASYNC_COMPAT_SECURITY_H */
