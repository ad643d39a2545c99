/*
 * src/packages/ntlm/users.c - text encodings (UTF-8 <-> UTF-16LE, OEM as
 * Latin-1) and the user file (NTLM_USER_FILE, gss-ntlmssp's format).
 *
 * Decoding is strict both ways: overlong forms, surrogates encoded in UTF-8,
 * lone UTF-16 surrogates, code points past U+10FFFF and NULs are refused, so
 * one name has one spelling on the wire.  The user file is read whole into
 * one buffer (sa__malloc), parsed, and that buffer, which held passwords,
 * is wiped before it is freed; only NT hashes are kept.
 */
#include "packages/ntlm/ntlm_int.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* ---- encodings ------------------------------------------------------------- */

/* The code point at *ps (NUL-terminated UTF-8), *ps moved past it; or -1.
 * A NUL inside a sequence is not a continuation byte, so nothing past the
 * terminator is ever read. */
static long utf8_next(const unsigned char **ps)
{
	const unsigned char *s = *ps;
	uint32_t c = s[0], min;
	int more;

	if (c < 0x80) {
		*ps = s + 1;
		return (long)c;
	}
	if (c >= 0xc2 && c <= 0xdf) { /* 0xc0, 0xc1 only start overlongs */
		more = 1;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		more = 2;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		more = 3;
		c &= 0x07;
		min = 0x10000;
	} else {
		return -1; /* a continuation byte first, or past U+10FFFF */
	}
	for (int i = 1; i <= more; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*ps = s + 1 + more;
	return (long)c;
}

long sa__ntlm_utf16(const char *s, int upper, uint8_t *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	if (s == NULL)
		return -1;
	/* The count is returned as a long. */
	if (cap > LONG_MAX)
		cap = LONG_MAX;
	while (*p != 0) {
		long c = utf8_next(&p);
		if (c < 0)
			return -1;
		/* ASCII only: Windows upper-cases with its own table, which
		 * no portable function reproduces beyond ASCII (README). */
		if (upper && c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c < 0x10000) {
			if (cap - n < 2)
				return -1;
			out[n] = (uint8_t)c;
			out[n + 1] = (uint8_t)(c >> 8);
			n += 2;
		} else {
			uint32_t v = (uint32_t)c - 0x10000;
			uint32_t hi = 0xd800 | v >> 10, lo = 0xdc00 | (v & 0x3ff);
			if (cap - n < 4)
				return -1;
			out[n] = (uint8_t)hi;
			out[n + 1] = (uint8_t)(hi >> 8);
			out[n + 2] = (uint8_t)lo;
			out[n + 3] = (uint8_t)(lo >> 8);
			n += 4;
		}
	}
	return (long)n;
}

/* The code point at unit *i of nu units, *i moved past it; or -1 (a NUL,
 * a lone surrogate). */
static long utf16_next(const uint8_t *p, size_t nu, size_t *i)
{
	uint32_t u = sa_ntlm_le16(p + 2 * *i);

	if (u == 0 || (u >= 0xdc00 && u <= 0xdfff))
		return -1;
	if (u >= 0xd800 && u <= 0xdbff) {
		uint32_t lo;
		if (*i + 1 >= nu)
			return -1;
		lo = sa_ntlm_le16(p + 2 * (*i + 1));
		if (lo < 0xdc00 || lo > 0xdfff)
			return -1;
		*i += 2;
		return (long)(0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
	}
	*i += 1;
	return (long)u;
}

static size_t utf8_len(uint32_t c)
{
	return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

static char *utf8_put(char *o, uint32_t c)
{
	if (c < 0x80) {
		*o++ = (char)c;
	} else if (c < 0x800) {
		*o++ = (char)(0xc0 | c >> 6);
		*o++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*o++ = (char)(0xe0 | c >> 12);
		*o++ = (char)(0x80 | (c >> 6 & 0x3f));
		*o++ = (char)(0x80 | (c & 0x3f));
	} else {
		*o++ = (char)(0xf0 | c >> 18);
		*o++ = (char)(0x80 | (c >> 12 & 0x3f));
		*o++ = (char)(0x80 | (c >> 6 & 0x3f));
		*o++ = (char)(0x80 | (c & 0x3f));
	}
	return o;
}

char *sa__ntlm_utf8(const uint8_t *p, size_t len)
{
	size_t nu = len / 2, need = 1, i;
	char *r, *o;

	if (len % 2 != 0 || (p == NULL && len != 0))
		return NULL;
	/* A unit gives at most 3 bytes (a pair 4 for 2): no overflow below. */
	if (nu > (SIZE_MAX - 1) / 3)
		return NULL;
	/* Measure and validate first, so a bad string allocates nothing. */
	for (i = 0; i < nu;) {
		long c = utf16_next(p, nu, &i);
		if (c < 0)
			return NULL;
		need += utf8_len((uint32_t)c);
	}
	r = sa__malloc(need);
	if (r == NULL)
		return NULL;
	o = r;
	for (i = 0; i < nu;)
		o = utf8_put(o, (uint32_t)utf16_next(p, nu, &i));
	*o = 0;
	return r;
}

int sa__ntlm_utf16_ok(const uint8_t *p, size_t len)
{
	size_t nu = len / 2;
	if (len % 2 != 0 || (p == NULL && len != 0))
		return 0;
	for (size_t i = 0; i < nu;)
		if (utf16_next(p, nu, &i) < 0)
			return 0;
	return 1;
}

char *sa__ntlm_oem(const uint8_t *p, size_t len)
{
	size_t need = 1;
	char *r, *o;

	if ((p == NULL && len != 0) || len > (SIZE_MAX - 1) / 2)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == 0)
			return NULL; /* as in UTF-16: a NUL would cut the name short */
		need += p[i] < 0x80 ? 1 : 2;
	}
	r = sa__malloc(need);
	if (r == NULL)
		return NULL;
	o = r;
	for (size_t i = 0; i < len; i++)
		o = utf8_put(o, p[i]);
	*o = 0;
	return r;
}

/* ---- the user file --------------------------------------------------------- */

/* Whole file into a new buffer: 0; -1 (errno kept), -2 no memory.  Each
 * time it grows, the old buffer is wiped: it may hold passwords. */
static int read_all(const char *path, uint8_t **out, size_t *out_len)
{
	size_t cap = 4096, len = 0;
	uint8_t *b;
	int fd, e, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	b = sa__malloc(cap);
	if (b == NULL) {
		ret = -2;
		goto out_close;
	}
	for (;;) {
		ssize_t r;
		if (len == cap) {
			uint8_t *nb = cap <= SIZE_MAX / 2 ? sa__malloc(cap * 2) : NULL;
			if (nb == NULL) {
				ret = -2;
				goto out_free;
			}
			memcpy(nb, b, len);
			sa__ntlm_wipe(b, len);
			sa__free(b);
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -1;
			goto out_free;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*out = b;
	*out_len = len;
	goto out_close;

out_free:
	e = errno;
	sa__ntlm_wipe(b, len);
	sa__free(b);
	errno = e;
out_close:
	e = errno;
	close(fd);
	errno = e;
	return ret;
}

/* UTF-8 of a password of SA_NTLM_NAME_MAX units is at most 3 bytes a unit. */
#define PASSWORD_UTF8_MAX (3 * SA_NTLM_NAME_MAX)

/* A name usable on the wire: valid UTF-8, within SA_NTLM_NAME_MAX units. */
static int name_ok(const char *s)
{
	uint8_t u[2 * SA_NTLM_NAME_MAX];

	return sa__ntlm_utf16(s, 0, u, sizeof u) >= 0;
}

/*
 * One line [p, e) (no '\n', "\r" already stripped) into *u: 1 taken, 0
 * skipped (comment, blank, malformed, unusable name or password), -2 no
 * memory.  Domain and user share one block: u->domain, then u->user.
 */
static int parse_line(const uint8_t *p, const uint8_t *e, struct sa_ntlm_user *u)
{
	const uint8_t *c1, *c2;
	size_t dlen, ulen, plen;
	char pw[PASSWORD_UTF8_MAX + 1];
	char *block;
	int ok;

	if (p == e || *p == '#' || memchr(p, 0, (size_t)(e - p)) != NULL)
		return 0;
	c1 = memchr(p, ':', (size_t)(e - p));
	if (c1 == NULL)
		return 0;
	c2 = memchr(c1 + 1, ':', (size_t)(e - c1 - 1));
	if (c2 == NULL)
		return 0;
	dlen = (size_t)(c1 - p);
	ulen = (size_t)(c2 - c1 - 1);
	plen = (size_t)(e - c2 - 1);
	/* An empty user would match an anonymous logon's empty name. */
	if (ulen == 0 || plen > PASSWORD_UTF8_MAX)
		return 0;

	block = sa__malloc(dlen + 1 + ulen + 1);
	if (block == NULL)
		return -2;
	memcpy(block, p, dlen);
	block[dlen] = 0;
	memcpy(block + dlen + 1, c1 + 1, ulen);
	block[dlen + 1 + ulen] = 0;

	memcpy(pw, c2 + 1, plen);
	pw[plen] = 0;
	ok = name_ok(block) && name_ok(block + dlen + 1) && sa__ntlm_nt_hash(pw, u->nt_hash) == 0;
	sa__ntlm_wipe(pw, sizeof pw);
	if (!ok) {
		sa__ntlm_wipe(u->nt_hash, sizeof u->nt_hash);
		sa__free(block);
		return 0;
	}
	u->domain = block;
	u->user = block + dlen + 1;
	return 1;
}

static void users_free_n(struct sa_ntlm_user *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sa__free(v[i].domain); /* the block holds the user too */
		sa__ntlm_wipe(&v[i], sizeof v[i]);
	}
	sa__free(v);
}

int sa__ntlm_users_load(const char *path, struct sa_ntlm_users *out)
{
	uint8_t *buf = NULL;
	size_t len = 0, lines = 1, n = 0;
	struct sa_ntlm_user *v;
	const uint8_t *p, *end;
	int ret;

	if (path == NULL || out == NULL) {
		errno = EINVAL;
		return -1;
	}
	ret = read_all(path, &buf, &len);
	if (ret != 0)
		return ret;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	v = sa__calloc(lines, sizeof *v);
	if (v == NULL) {
		ret = -2;
		goto out_wipe;
	}
	for (p = buf, end = buf + len; p < end;) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *e = nl != NULL ? nl : end;
		const uint8_t *le = e > p && e[-1] == '\r' ? e - 1 : e;
		int r = parse_line(p, le, &v[n]);
		if (r < 0) {
			users_free_n(v, n);
			ret = -2;
			goto out_wipe;
		}
		n += (size_t)r;
		p = e + (nl != NULL);
	}
	out->v = v;
	out->n = n;
	ret = 0;

out_wipe:
	sa__ntlm_wipe(buf, len);
	sa__free(buf);
	return ret;
}

/* Equal, folding ASCII letters only (as the upper-casing of NTOWFv2). */
static int ascii_case_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'a' && x <= 'z')
			x -= 'a' - 'A';
		if (y >= 'a' && y <= 'z')
			y -= 'a' - 'A';
		if (x != y)
			return 0;
		if (x == 0)
			return 1;
	}
}

const struct sa_ntlm_user *sa__ntlm_users_find(const struct sa_ntlm_users *u, const char *domain,
					      const char *user)
{
	if (u == NULL || user == NULL)
		return NULL;
	for (size_t i = 0; i < u->n; i++) {
		const struct sa_ntlm_user *e = &u->v[i];
		if (!ascii_case_eq(e->user, user))
			continue;
		if (domain == NULL || e->domain[0] == 0 || ascii_case_eq(e->domain, domain))
			return e;
	}
	return NULL;
}

void sa__ntlm_users_free(struct sa_ntlm_users *u)
{
	if (u == NULL)
		return;
	users_free_n(u->v, u->n);
	u->v = NULL;
	u->n = 0;
}
