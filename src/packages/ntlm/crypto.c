/*
 * src/packages/ntlm/crypto.c - the NTLM package's primitives: MD4, MD5,
 * HMAC-MD5 and RC4 from nettle, randomness from getrandom(2), a
 * constant-time compare and a wipe the compiler may not drop.
 *
 * What it is not: protocol.  Nothing here knows a message or a key's role
 * (keys.c does).  Every hash and cipher context that saw key material is
 * wiped before it goes out of scope.
 */
/* explicit_bzero is a glibc/BSD extension, hidden by _POSIX_C_SOURCE alone. */
#define _DEFAULT_SOURCE

#include "packages/ntlm/ntlm_int.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/hmac.h>
#include <nettle/md4.h>
#include <nettle/md5.h>
#include <nettle/memops.h>

void sa__ntlm_md4(const void *p, size_t n, uint8_t out[16])
{
	struct md4_ctx c;

	md4_init(&c);
	md4_update(&c, n, p);
	md4_digest(&c, MD4_DIGEST_SIZE, out);
	/* The input is a password: its last block may sit in the context. */
	sa__ntlm_wipe(&c, sizeof c);
}

void sa__ntlm_md5(const struct sa_ntlm_iov *v, size_t nv, uint8_t out[16])
{
	struct md5_ctx c;

	md5_init(&c);
	for (size_t i = 0; i < nv; i++)
		md5_update(&c, v[i].n, v[i].p);
	md5_digest(&c, MD5_DIGEST_SIZE, out);
	sa__ntlm_wipe(&c, sizeof c);
}

void sa__ntlm_hmac_md5_pre(const uint8_t *key, size_t key_len, const void *pre, size_t pre_len,
			  const struct sa_ntlm_iov *v, size_t nv, uint8_t out[16])
{
	struct hmac_md5_ctx c;

	hmac_md5_set_key(&c, key_len, key);
	if (pre_len != 0)
		hmac_md5_update(&c, pre_len, pre);
	for (size_t i = 0; i < nv; i++)
		hmac_md5_update(&c, v[i].n, v[i].p);
	hmac_md5_digest(&c, MD5_DIGEST_SIZE, out);
	/* The inner and outer states are the key in all but name. */
	sa__ntlm_wipe(&c, sizeof c);
}

void sa__ntlm_hmac_md5(const uint8_t *key, size_t key_len, const struct sa_ntlm_iov *v, size_t nv,
		      uint8_t out[16])
{
	sa__ntlm_hmac_md5_pre(key, key_len, NULL, 0, v, nv, out);
}

void sa__ntlm_rc4_init(struct sa_ntlm_rc4 *r, const uint8_t key[16])
{
	arcfour128_set_key(&r->s, key);
}

void sa__ntlm_rc4(struct sa_ntlm_rc4 *r, uint8_t *dst, const uint8_t *src, size_t n)
{
	/* nettle allows dst == src (in place), as SEAL does. */
	if (n != 0)
		arcfour_crypt(&r->s, n, dst, src);
}

void sa__ntlm_rc4_once(const uint8_t key[16], uint8_t *dst, const uint8_t *src, size_t n)
{
	struct sa_ntlm_rc4 r;

	sa__ntlm_rc4_init(&r, key);
	sa__ntlm_rc4(&r, dst, src, n);
	sa__ntlm_wipe(&r, sizeof r);
}

int sa__ntlm_random(void *p, size_t n)
{
	uint8_t *b = p;
	size_t got = 0;

	/* getrandom may return short (over 256 bytes, or on a signal) and
	 * fails with EINTR when interrupted before any byte: go on either way. */
	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int sa__ntlm_ct_equal(const void *a, const void *b, size_t n)
{
	return memeql_sec(a, b, n) != 0;
}

void sa__ntlm_wipe(void *p, size_t n)
{
	if (p != NULL && n != 0)
		explicit_bzero(p, n);
}
