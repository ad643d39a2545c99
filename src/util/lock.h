/*
 * src/util/lock.h - the library's mutex operations, and SA_ASSERT_HELD for
 * the helpers that must run under a lock (their names end in _locked):
 * SQLite's sqlite3_mutex_held habit (private; not installed).
 *
 * In a build with -DSA_DEBUG_LOCKS (`make asan`, `make tsan`) each thread
 * keeps the mutexes it holds and SA_ASSERT_HELD(m) asserts that the calling
 * thread holds @m (an unlock of a mutex the thread does not hold asserts
 * too); everywhere else the operations are pthread's and the assertion is
 * nothing.  The lock order itself is one tree: src/sspi/sspi_int.h, LOCK
 * ORDER.  Thread safety: per thread (the record is thread-local).
 */
#ifndef SSPIASYNC_UTIL_LOCK_H
#define SSPIASYNC_UTIL_LOCK_H

#include <pthread.h>

#ifdef SA_DEBUG_LOCKS
#include <assert.h>
/* Record that this thread took / is about to drop @m; is @m held by it? */
void sa__lock_taken(const pthread_mutex_t *m);
void sa__lock_dropped(const pthread_mutex_t *m);
int sa__lock_held(const pthread_mutex_t *m);
#define SA_LOCK(m) ((void)pthread_mutex_lock(m), sa__lock_taken(m))
#define SA_UNLOCK(m) (sa__lock_dropped(m), (void)pthread_mutex_unlock(m))
#define SA_ASSERT_HELD(m) assert(sa__lock_held(m))
#else
#define SA_LOCK(m) ((void)pthread_mutex_lock(m))
#define SA_UNLOCK(m) ((void)pthread_mutex_unlock(m))
#define SA_ASSERT_HELD(m) ((void)(m))
#endif

#endif /* SSPIASYNC_UTIL_LOCK_H */
