/*
 * src/util/annotate.h - happens-before annotations for Helgrind and DRD on
 * the library's lock-free hand-offs (private; not installed).
 *
 * A release/acquire pair on an atomic word orders memory, but Valgrind's race
 * detectors only see locks: these macros tell them.  Opt-in: they expand to
 * Valgrind's client requests only in a build with -DSA_HELGRIND (`make
 * helgrind` and `make drd` build so, in build/hg), and to nothing otherwise,
 * so the installed library spends no instruction on them (a client request
 * runs natively too: 26 instructions per handle acquire and release).
 */
#ifndef SSPIASYNC_UTIL_ANNOTATE_H
#define SSPIASYNC_UTIL_ANNOTATE_H

#ifdef SA_HELGRIND
#include <valgrind/helgrind.h> /* valgrind's development header: Debian's valgrind package */
/* Everything this thread did before is visible to whoever does SA_HAPPENS_AFTER(@addr) later. */
#define SA_HAPPENS_BEFORE(addr) ANNOTATE_HAPPENS_BEFORE(addr)
#define SA_HAPPENS_AFTER(addr) ANNOTATE_HAPPENS_AFTER(addr)
/* @addr is an atomic word: its own accesses are not races (the ordering they
 * give is annotated with the two macros above). */
#define SA_ATOMIC_WORD(addr) ANNOTATE_BENIGN_RACE_SIZED(addr, sizeof *(addr), "sspiasync atomic word")
#endif

#ifndef SA_HAPPENS_BEFORE
#define SA_HAPPENS_BEFORE(addr) ((void)(addr))
#define SA_HAPPENS_AFTER(addr) ((void)(addr))
#define SA_ATOMIC_WORD(addr) ((void)(addr))
#endif

#endif /* SSPIASYNC_UTIL_ANNOTATE_H */
