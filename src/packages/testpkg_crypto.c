/*
 * src/packages/testpkg_crypto.c - the test package's keyed hash: SipHash-2-4
 * written from its specification (Aumasson & Bernstein, "SipHash: a fast
 * short-input PRF", 2012), a two-block key derivation on top of it, and the
 * nonce source (getrandom(2), else a counter mixed with the clocks).
 *
 * What it is not: cryptography for real use; the package's keys are public.
 * Checked against the paper's test vector in test/check_testpkg.c.
 */
#include "packages/testpkg_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>

#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t sip_load64le(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void sip_round(struct sa_tp_sip *s)
{
	s->v0 += s->v1;
	s->v1 = SIP_ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = SIP_ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = SIP_ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = SIP_ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = SIP_ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = SIP_ROTL(s->v2, 32);
}

/* Two compression rounds on one message word m. */
static void sip_compress(struct sa_tp_sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

void sa__tp_sip_init(struct sa_tp_sip *s, const unsigned char *key)
{
	uint64_t k0 = sip_load64le(key), k1 = sip_load64le(key + 8);
	s->v0 = k0 ^ 0x736f6d6570736575u;
	s->v1 = k1 ^ 0x646f72616e646f6du;
	s->v2 = k0 ^ 0x6c7967656e657261u;
	s->v3 = k1 ^ 0x7465646279746573u;
	s->tail = 0;
	s->len = 0;
}

void sa__tp_sip_update(struct sa_tp_sip *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	/* Finish a partial word byte by byte, then whole words, then the rest. */
	while (n > 0 && (s->len & 7) != 0) {
		s->tail |= (uint64_t)*p++ << (8 * (s->len & 7));
		s->len++;
		n--;
		if ((s->len & 7) == 0) {
			sip_compress(s, s->tail);
			s->tail = 0;
		}
	}
	while (n >= 8) {
		sip_compress(s, sip_load64le(p));
		p += 8;
		s->len += 8;
		n -= 8;
	}
	while (n > 0) {
		s->tail |= (uint64_t)*p++ << (8 * (s->len & 7));
		s->len++;
		n--;
	}
}

uint64_t sa__tp_sip_final(struct sa_tp_sip *s)
{
	sip_compress(s, s->tail | (s->len << 56));
	s->v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t sa__tp_siphash(const unsigned char *key, const void *data, size_t n)
{
	struct sa_tp_sip s;
	sa__tp_sip_init(&s, key);
	sa__tp_sip_update(&s, data, n);
	return sa__tp_sip_final(&s);
}

void sa__tp_kdf(const unsigned char *key, unsigned char label, const void *data, size_t n,
		unsigned char *out)
{
	for (unsigned char half = 0; half < 2; half++) {
		struct sa_tp_sip s;
		unsigned char prefix[2] = {label, half};
		sa__tp_sip_init(&s, key);
		sa__tp_sip_update(&s, prefix, sizeof prefix);
		sa__tp_sip_update(&s, data, n);
		tp_put64le(out + 8 * half, sa__tp_sip_final(&s));
	}
}

/* Fallback nonces: distinct per call in this process (the counter), and
 * across processes (the clocks, the counter's address under ASLR). */
static _Atomic uint64_t nonce_counter;

void sa__tp_nonce(unsigned char *out)
{
	size_t got = 0;
	while (got < SA_TP_NONCE_LEN) {
		ssize_t r = getrandom(out + got, SA_TP_NONCE_LEN - got, GRND_NONBLOCK);
		if (r > 0)
			got += (size_t)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	if (got == SA_TP_NONCE_LEN)
		return;

	static const unsigned char nonce_key[SA_TP_KEY_LEN] = "sspiasync-nonce";
	struct timespec rt = {0, 0}, mono = {0, 0};
	(void)clock_gettime(CLOCK_REALTIME, &rt);
	(void)clock_gettime(CLOCK_MONOTONIC, &mono);
	uint64_t seed[5] = {
		atomic_fetch_add_explicit(&nonce_counter, 1, memory_order_relaxed),
		(uint64_t)rt.tv_sec, (uint64_t)rt.tv_nsec, (uint64_t)mono.tv_nsec,
		(uint64_t)(uintptr_t)&nonce_counter,
	};
	sa__tp_kdf(nonce_key, 'N', seed, sizeof seed, out);
}
