/*
 * <security.h> for ported Windows code: forwards to <sspiasync/sspi.h> and
 * adds the package-name macros Windows' <security.h> defines (A forms only;
 * NTLMSP_NAME and MICROSOFT_KERBEROS_NAME are wide strings on Windows and so
 * are not defined).  Naming a package here does not mean this library
 * provides it: EnumerateSecurityPackagesA() says which ones exist.
 *
 * Only on the include path through sspiasync-compat.pc.  SECURITY_WIN32 may
 * be defined or not; it changes nothing here.
 */
#ifndef SSPIASYNC_COMPAT_SECURITY_H
#define SSPIASYNC_COMPAT_SECURITY_H

#include <sspiasync/sspi.h>

#ifndef NTLMSP_NAME_A
#define NTLMSP_NAME_A "NTLM"
#endif
#ifndef MICROSOFT_KERBEROS_NAME_A
#define MICROSOFT_KERBEROS_NAME_A "Kerberos"
#endif
#ifndef NEGOSSP_NAME_A
#define NEGOSSP_NAME_A "Negotiate"
#endif
#ifndef NEGOSSP_NAME
#define NEGOSSP_NAME NEGOSSP_NAME_A
#endif

#endif /* SSPIASYNC_COMPAT_SECURITY_H */
