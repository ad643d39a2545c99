/*
 * src/util/utf16.c - strict UTF-16 <-> UTF-8 conversion (see utf16.h).
 */
#include "util/utf16.h"

size_t sa__utf16_len(const uint16_t *s)
{
	size_t n = 0;
	while (s[n] != 0)
		n++;
	return n;
}

/* Write the UTF-8 form of code point @cp at @dst + @at when it fits in
 * @cap; return its length. */
static size_t put_utf8(uint32_t cp, char *dst, size_t cap, size_t at)
{
	unsigned char b[4];
	size_t len;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 4;
	}
	if (at + len <= cap)
		for (size_t i = 0; i < len; i++)
			dst[at + i] = (char)b[i];
	return len;
}

size_t sa__utf16_to_utf8(const uint16_t *s, size_t n, char *dst, size_t cap)
{
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t cp = s[i];
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return (size_t)-1; /* a low surrogate first */
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (i + 1 == n || s[i + 1] < 0xDC00 || s[i + 1] > 0xDFFF)
				return (size_t)-1; /* a high surrogate alone */
			cp = 0x10000 + ((cp - 0xD800) << 10) + (uint32_t)(s[i + 1] - 0xDC00);
			i++;
		}
		out += put_utf8(cp, dst, cap, out);
	}
	return out;
}

/*
 * Decode one code point of the NUL-terminated UTF-8 @s at *@i (advanced past
 * what it used).  An ill-formed sequence gives one U+FFFD for its maximal
 * subpart: the lead byte and the continuation bytes that could still have
 * begun a well-formed sequence, as Unicode 3.9 ("U+FFFD Substitution of
 * Maximal Subparts") recommends and WHATWG, ICU and Python decode; so "E2 82"
 * cut short is one U+FFFD, while an overlong "C0 AF" or an encoded surrogate
 * "ED A0 80" is one per byte (no well-formed sequence starts that way).
 * The second byte's range excludes overlongs, surrogates and code points past
 * U+10FFFF (Table 3-7), so every sequence accepted is well formed.
 */
static uint32_t get_utf8(const unsigned char *s, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp;
	size_t more;
	unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		cp = c & 0x1F;
		more = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		cp = c & 0x0F;
		more = 2;
		if (c == 0xE0)
			lo = 0xA0; /* below: overlong */
		else if (c == 0xED)
			hi = 0x9F; /* above: a surrogate */
	} else if (c >= 0xF0 && c <= 0xF4) {
		cp = c & 0x07;
		more = 3;
		if (c == 0xF0)
			lo = 0x90; /* below: overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above: past U+10FFFF */
	} else {
		(*i)++; /* a continuation byte, C0, C1, F5..FF: never a lead */
		return 0xFFFD;
	}
	size_t k;
	for (k = 1; k <= more; k++) {
		unsigned char d = s[*i + k]; /* the NUL stops a truncated sequence */
		if (k == 1 ? (d < lo || d > hi) : (d & 0xC0) != 0x80)
			break;
		cp = (cp << 6) | (d & 0x3F);
	}
	*i += k; /* the whole sequence, or the maximal subpart before the bad byte */
	return k > more ? cp : 0xFFFD;
}

size_t sa__utf8_to_utf16(const char *s, uint16_t *dst, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, out = 0;
	while (u[i] != 0) {
		uint32_t cp = get_utf8(u, &i);
		if (cp >= 0x10000) {
			if (out + 2 <= cap) {
				dst[out] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
				dst[out + 1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
			}
			out += 2;
		} else {
			if (out + 1 <= cap)
				dst[out] = (uint16_t)cp;
			out++;
		}
	}
	if (out + 1 <= cap)
		dst[out] = 0;
	return out + 1;
}
