/*
 * src/util/lock.c - the per-thread record of held mutexes behind
 * SA_ASSERT_HELD in -DSA_DEBUG_LOCKS builds (see lock.h).
 */
#include "util/lock.h"

#ifdef SA_DEBUG_LOCKS

/* The library nests at most five locks (sspi_int.h, LOCK ORDER); room for
 * more, so a deeper nesting is caught by the assertion, not by memory. */
enum { HELD_MAX = 16 };
static _Thread_local const pthread_mutex_t *held[HELD_MAX];
static _Thread_local unsigned nheld;

void sa__lock_taken(const pthread_mutex_t *m)
{
	assert(nheld < HELD_MAX && !sa__lock_held(m));
	held[nheld++] = m;
}

void sa__lock_dropped(const pthread_mutex_t *m)
{
	for (unsigned i = nheld; i-- > 0;) {
		if (held[i] == m) {
			for (unsigned k = i; k + 1 < nheld; k++)
				held[k] = held[k + 1];
			nheld--;
			return;
		}
	}
	assert(!"unlock of a mutex this thread does not hold");
}

int sa__lock_held(const pthread_mutex_t *m)
{
	for (unsigned i = 0; i < nheld; i++)
		if (held[i] == m)
			return 1;
	return 0;
}

#else
typedef int sa__lock_debug_off; /* ISO C: a translation unit declares something */
#endif
