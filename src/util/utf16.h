/*
 * src/util/utf16.h - strict UTF-16 <-> UTF-8 conversion for the W forms
 * (private to the library; not installed).
 *
 * What it is: the two conversions the SSPI facade needs at its edge, with
 * no locale, no iconv and no allocation of their own (the caller sizes and
 * owns every buffer).  UTF-16 input must be well formed: a lone or reversed
 * surrogate is an error, never replaced.  UTF-8 input is the library's own
 * (package names, user names the packages produced, possibly from a peer):
 * each maximal subpart of an ill-formed sequence is replaced by one U+FFFD
 * (Unicode 3.9), so a returned W string is always valid UTF-16.
 * Tests: test/check_wide.c (test_wide_utf16_*, test_wide_utf8_*).
 * Thread safety: pure functions.
 */
#ifndef SSPIASYNC_UTIL_UTF16_H
#define SSPIASYNC_UTIL_UTF16_H

#include <stddef.h>
#include <stdint.h>

/* sa__utf16_len() - Units of the NUL-terminated @s before its NUL. */
size_t sa__utf16_len(const uint16_t *s);

/*
 * sa__utf16_to_utf8() - Convert @n units of @s (NULs included as they are)
 * to UTF-8 at @dst, which has room for @cap bytes.  Returns the bytes the
 * whole conversion needs (without a NUL; at most 3 * @n), of which it
 * writes the code points that fit whole in @cap; or (size_t)-1 when @s is
 * not well-formed UTF-16.  Call it with @cap 0 to measure, then again with
 * the measured room to write.
 */
size_t sa__utf16_to_utf8(const uint16_t *s, size_t n, char *dst, size_t cap);

/*
 * sa__utf8_to_utf16() - Convert the NUL-terminated @s to UTF-16 at @dst
 * (room for @cap units), U+FFFD for each maximal subpart of an ill-formed
 * sequence.  Returns the units needed including the terminating NUL, of
 * which it writes those that fit in @cap, never half a surrogate pair
 * (measure with @cap 0, then write with the measured room).
 */
size_t sa__utf8_to_utf16(const char *s, uint16_t *dst, size_t cap);

#endif /* SSPIASYNC_UTIL_UTF16_H */
