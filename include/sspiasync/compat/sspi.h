/*
 * <sspi.h> for ported Windows code: forwards to <sspiasync/sspi.h>.
 *
 * Only on the include path through sspiasync-compat.pc
 * (-I${includedir}/sspiasync/compat).  SECURITY_WIN32 (or SECURITY_KERNEL)
 * may be defined or not; it changes nothing here.  UNICODE selects the W
 * (UTF-16) forms for the unsuffixed names, as on Windows.
 */
#ifndef SSPIASYNC_COMPAT_SSPI_H
#define SSPIASYNC_COMPAT_SSPI_H

#include <sspiasync/sspi.h>

#endif /* SSPIASYNC_COMPAT_SSPI_H */
