/*
 * src/util/annotate.h - happens-before annotations for Helgrind and DRD on
 * the library's lock-free hand-offs (private; not installed).
 *
 * A release/acquire pair on an atomic word orders memory, but Valgrind's race
 * detectors only see locks: these macros tell them.  They expand to
 * Valgrind's client requests when <valgrind/helgrind.h> is there at build
 * time (a few instructions, no effect outside Valgrind) and to nothing
 * otherwise, so the installed library is Helgrind-clean for users' programs.
 */
#ifndef SSPIASYNC_UTIL_ANNOTATE_H
#define SSPIASYNC_UTIL_ANNOTATE_H

#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
/* Everything this thread did before is visible to whoever does SA_HAPPENS_AFTER(@addr) later. */
#define SA_HAPPENS_BEFORE(addr) ANNOTATE_HAPPENS_BEFORE(addr)
#define SA_HAPPENS_AFTER(addr) ANNOTATE_HAPPENS_AFTER(addr)
/* @addr is an atomic word: its own accesses are not races (the ordering they
 * give is annotated with the two macros above). */
#define SA_ATOMIC_WORD(addr) ANNOTATE_BENIGN_RACE_SIZED(addr, sizeof *(addr), "sspiasync atomic word")
#endif
#endif

#ifndef SA_HAPPENS_BEFORE
#define SA_HAPPENS_BEFORE(addr) ((void)(addr))
#define SA_HAPPENS_AFTER(addr) ((void)(addr))
#define SA_ATOMIC_WORD(addr) ((void)(addr))
#endif

#endif /* SSPIASYNC_UTIL_ANNOTATE_H */
