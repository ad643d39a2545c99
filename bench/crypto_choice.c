/*
 * bench/crypto_choice.c - why the NTLM package takes its primitives from
 * nettle, not OpenSSL 3 (make bench-crypto-choice; needs nettle-dev and
 * libssl-dev, a bench-only dependency not installed by CI).
 *
 * Times, in one process and one run, the three operations an NTLM handshake
 * and its messages are made of, at their real sizes: HMAC-MD5 with a
 * 16-byte key over 64 bytes, MD4 of a 16-byte password, an RC4 key schedule
 * plus 16 bytes.  OpenSSL 3 keeps MD4 and RC4 in its legacy provider, loaded
 * here into a private library context, as the package would have to (never
 * the process's default one).  Prints ns per operation and the ratio.
 */
#define _POSIX_C_SOURCE 200809L
#include <nettle/arcfour.h>
#include <nettle/hmac.h>
#include <nettle/md4.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <stdio.h>
#include <time.h>

#define N 500000

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	unsigned char key[16] = {1}, msg[64] = {2}, out[64];
	double ns[2][3];

	double t = now();
	for (int i = 0; i < N; i++) {
		struct hmac_md5_ctx c;
		hmac_md5_set_key(&c, 16, key);
		hmac_md5_update(&c, 64, msg);
		hmac_md5_digest(&c, 16, out);
	}
	ns[0][0] = (now() - t) / N * 1e9;
	t = now();
	for (int i = 0; i < N; i++) {
		struct md4_ctx c;
		md4_init(&c);
		md4_update(&c, 16, msg);
		md4_digest(&c, 16, out);
	}
	ns[0][1] = (now() - t) / N * 1e9;
	t = now();
	for (int i = 0; i < N; i++) {
		struct arcfour_ctx c;
		arcfour_set_key(&c, 16, key);
		arcfour_crypt(&c, 16, out, msg);
	}
	ns[0][2] = (now() - t) / N * 1e9;

	OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *legacy = OSSL_PROVIDER_load(lc, "legacy");
	OSSL_PROVIDER *deflt = OSSL_PROVIDER_load(lc, "default");
	EVP_MAC *mac = EVP_MAC_fetch(lc, "HMAC", NULL);
	EVP_MD *md4 = EVP_MD_fetch(lc, "MD4", NULL);
	EVP_CIPHER *rc4 = EVP_CIPHER_fetch(lc, "RC4", NULL);
	if (legacy == NULL || deflt == NULL || mac == NULL || md4 == NULL || rc4 == NULL) {
		fprintf(stderr, "crypto_choice: OpenSSL's legacy provider is not available\n");
		return 1;
	}
	char digest[] = "MD5";
	OSSL_PARAM p[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
			   OSSL_PARAM_construct_end()};
	t = now();
	for (int i = 0; i < N; i++) {
		EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
		size_t l;
		EVP_MAC_init(c, key, 16, p);
		EVP_MAC_update(c, msg, 64);
		EVP_MAC_final(c, out, &l, sizeof out);
		EVP_MAC_CTX_free(c);
	}
	ns[1][0] = (now() - t) / N * 1e9;
	t = now();
	for (int i = 0; i < N; i++) {
		unsigned int l;
		EVP_Digest(msg, 16, out, &l, md4, NULL);
	}
	ns[1][1] = (now() - t) / N * 1e9;
	t = now();
	for (int i = 0; i < N; i++) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
		int l;
		EVP_EncryptInit_ex2(c, rc4, key, NULL, NULL);
		EVP_EncryptUpdate(c, out, &l, msg, 16);
		EVP_CIPHER_CTX_free(c);
	}
	ns[1][2] = (now() - t) / N * 1e9;

	static const char *const what[3] = {"HMAC-MD5 (16-byte key, 64 bytes)", "MD4 (16 bytes)",
					    "RC4 key schedule + 16 bytes"};
	printf("%-34s %10s %10s %8s\n", "ns per operation", "nettle", "OpenSSL 3", "ratio");
	for (int k = 0; k < 3; k++)
		printf("%-34s %10.0f %10.0f %7.2fx\n", what[k], ns[0][k], ns[1][k], ns[1][k] / ns[0][k]);
	EVP_CIPHER_free(rc4);
	EVP_MD_free(md4);
	EVP_MAC_free(mac);
	OSSL_PROVIDER_unload(deflt);
	OSSL_PROVIDER_unload(legacy);
	OSSL_LIB_CTX_free(lc);
	return 0;
}
