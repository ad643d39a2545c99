/*
 * src/util/filetime.h - now as a Windows FILETIME: 100 ns units since
 * 1601-01-01 UTC, what TimeStamp and the packages' expiries hold.  One
 * definition for the library's every clock reading of that kind.
 */
#ifndef SSPIASYNC_UTIL_FILETIME_H
#define SSPIASYNC_UTIL_FILETIME_H

#include <stdint.h>
#include <time.h>

/* 1601-01-01 to 1970-01-01: 11644473600 s. */
static inline int64_t sa__filetime_now(void)
{
	struct timespec ts = {0, 0};
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + INT64_C(11644473600)) * 10000000 + ts.tv_nsec / 100;
}

#endif /* SSPIASYNC_UTIL_FILETIME_H */
