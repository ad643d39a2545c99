/*
 * sspiasync/errors.h - the return codes of the library's inner modules.
 *
 * The handle table (handles.h) and later the async layer return int: SA_OK
 * (0) or one of the negative SA_E* codes below.  Only src/sspi/ maps them to
 * Microsoft's SECURITY_STATUS values, in one table.  No SSPI type here.
 */
#ifndef SSPIASYNC_ERRORS_H
#define SSPIASYNC_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

enum sa_error {
	SA_OK = 0,
	SA_EBADHANDLE = -1, /* zero, forged, stale, wrong-kind or other-table handle */
	SA_ENOMEM = -2,     /* an allocation failed; nothing changed */
	SA_ENOSPC = -3,     /* a configured maximum was reached; nothing changed */
	SA_EINVAL = -4,     /* a caller's argument is malformed; nothing changed */
	SA_EBUSY = -5,      /* the object is in use (live entries, reference count saturated) */
};

/*
 * sa_strerror() - The name of an SA_* code ("SA_EBADHANDLE"), or "SA_E?" for
 * a value that is not one.  Context: any thread; never fails.
 */
const char *sa_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_ERRORS_H */
