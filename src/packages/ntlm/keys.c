/*
 * src/packages/ntlm/keys.c - NTLMv2's keys and proofs ([MS-NLMP] 3.3.2) and
 * the message keys and signature with extended session security (3.4.4,
 * 3.4.5).  Pure functions of their inputs, on top of crypto.c.
 *
 * What it is not: the choice of which key to use when (ntlm.c) or any
 * NTLMv1 path: only NTLMv2 with ESS and 128-bit keys is spoken.  Every
 * intermediate that holds a password or key is wiped before return.
 * Known answers: test/check_ntlm_kat.c, [MS-NLMP] 4.2.4.
 */
#include "packages/ntlm/ntlm_int.h"

#include <string.h>

/* UTF-16 of a name or password: SA_NTLM_NAME_MAX code units. */
#define NAME_BYTES (2 * SA_NTLM_NAME_MAX)

int sa__ntlm_nt_hash(const char *password, uint8_t out[16])
{
	uint8_t u[NAME_BYTES];
	long n;

	if (password == NULL)
		return -1;
	n = sa__ntlm_utf16(password, 0, u, sizeof u);
	if (n >= 0)
		sa__ntlm_md4(u, (size_t)n, out);
	sa__ntlm_wipe(u, sizeof u);
	return n >= 0 ? 0 : -1;
}

int sa__ntlm_ntowfv2(const uint8_t nt_hash[16], const char *user, const char *domain,
		    uint8_t out[16])
{
	/* Only the user is upper-cased; the domain goes as given (3.3.2). */
	uint8_t u[2 * NAME_BYTES];
	long nu, nd;

	if (user == NULL)
		return -1;
	nu = sa__ntlm_utf16(user, 1, u, NAME_BYTES);
	if (nu < 0)
		return -1;
	nd = sa__ntlm_utf16(domain != NULL ? domain : "", 0, u + nu, NAME_BYTES);
	if (nd < 0)
		return -1;
	struct sa_ntlm_iov v = {u, (size_t)(nu + nd)};
	sa__ntlm_hmac_md5(nt_hash, 16, &v, 1, out);
	return 0;
}

void sa__ntlm_v2_proof(const uint8_t key[16], const uint8_t sc[8], const uint8_t *blob,
		      size_t blob_len, uint8_t proof[16])
{
	struct sa_ntlm_iov v[2] = {{sc, SA_NTLM_CHAL_LEN}, {blob, blob_len}};

	sa__ntlm_hmac_md5(key, 16, v, 2, proof);
}

void sa__ntlm_lmv2(const uint8_t key[16], const uint8_t sc[8], const uint8_t cc[8],
		  uint8_t out[24])
{
	struct sa_ntlm_iov v[2] = {{sc, SA_NTLM_CHAL_LEN}, {cc, SA_NTLM_CHAL_LEN}};

	sa__ntlm_hmac_md5(key, 16, v, 2, out);
	memcpy(out + 16, cc, SA_NTLM_CHAL_LEN);
}

void sa__ntlm_session_base_key(const uint8_t key[16], const uint8_t proof[16], uint8_t out[16])
{
	struct sa_ntlm_iov v = {proof, SA_NTLM_PROOF_LEN};

	sa__ntlm_hmac_md5(key, 16, &v, 1, out);
}

void sa__ntlm_mic(const uint8_t exported[16], const uint8_t *neg, size_t neg_len,
		 const uint8_t *chal, size_t chal_len, const uint8_t *auth, size_t auth_len,
		 uint8_t out[16])
{
	struct sa_ntlm_iov v[3] = {{neg, neg_len}, {chal, chal_len}, {auth, auth_len}};

	sa__ntlm_hmac_md5(exported, 16, v, 3, out);
}

/*
 * The magic constants of SIGNKEY and SEALKEY (3.4.5.2, 3.4.5.3).  The
 * specification's MD5 input includes each string's terminating NUL, so
 * sizeof (not strlen) is the length hashed.
 */
static const char c2s_sign[] = "session key to client-to-server signing key magic constant";
static const char s2c_sign[] = "session key to server-to-client signing key magic constant";
static const char c2s_seal[] = "session key to client-to-server sealing key magic constant";
static const char s2c_seal[] = "session key to server-to-client sealing key magic constant";

/* MD5(ExportedSessionKey || magic): a 128-bit key (NTLMSSP_NEGOTIATE_128). */
static void key_derive(const uint8_t exported[16], const char *magic, size_t magic_len,
		       uint8_t out[16])
{
	struct sa_ntlm_iov v[2] = {{exported, SA_NTLM_KEY_LEN}, {magic, magic_len}};

	sa__ntlm_md5(v, 2, out);
}

static void dir_init(struct sa_ntlm_dir *d, const uint8_t exported[16], const char *sign,
		     size_t sign_len, const char *seal, size_t seal_len)
{
	uint8_t seal_key[16];

	key_derive(exported, sign, sign_len, d->sign_key);
	key_derive(exported, seal, seal_len, seal_key);
	sa__ntlm_rc4_init(&d->seal, seal_key);
	sa__ntlm_wipe(seal_key, sizeof seal_key);
	d->seq = 0;
}

void sa__ntlm_derive(const uint8_t exported[16], int client, struct sa_ntlm_dir *send,
		    struct sa_ntlm_dir *recv)
{
	struct sa_ntlm_dir *c2s = client ? send : recv;
	struct sa_ntlm_dir *s2c = client ? recv : send;

	dir_init(c2s, exported, c2s_sign, sizeof c2s_sign, c2s_seal, sizeof c2s_seal);
	dir_init(s2c, exported, s2c_sign, sizeof s2c_sign, s2c_seal, sizeof s2c_seal);
}

void sa__ntlm_mac(const struct sa_ntlm_dir *d, uint32_t seq, const struct sa_ntlm_iov *msg,
		 size_t nmsg, uint8_t mac[16])
{
	uint8_t seq_le[4];
	sa_ntlm_put32(seq_le, seq);
	sa__ntlm_hmac_md5_pre(d->sign_key, 16, seq_le, sizeof seq_le, msg, nmsg, mac);
}

void sa__ntlm_sig_close(struct sa_ntlm_dir *d, int key_exch, uint32_t seq, uint8_t mac[16],
		       uint8_t sig[16])
{
	/* 3.4.4.2: Version 1, HMAC_MD5(SigningKey, SeqNum || Message)[0..7],
	 * SeqNum.  With key exchange the checksum goes through the
	 * direction's sealing stream, right after any sealed data. */
	sa_ntlm_put32(sig, 1);
	if (key_exch)
		sa__ntlm_rc4(&d->seal, sig + 4, mac, 8);
	else
		memcpy(sig + 4, mac, 8);
	sa_ntlm_put32(sig + 12, seq);
	sa__ntlm_wipe(mac, 16);
}

void sa__ntlm_sign(struct sa_ntlm_dir *d, int key_exch, uint32_t seq, const struct sa_ntlm_iov *msg,
		  size_t nmsg, uint8_t sig[16])
{
	uint8_t mac[16];
	sa__ntlm_mac(d, seq, msg, nmsg, mac);
	sa__ntlm_sig_close(d, key_exch, seq, mac, sig);
}
