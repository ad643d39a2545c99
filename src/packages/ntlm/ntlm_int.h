/*
 * src/packages/ntlm/ntlm_int.h - the NTLM package's private pieces
 * ([MS-NLMP], connection-oriented, NTLMv2 with extended session security).
 *
 * One concept per file:
 *   crypto.c   the primitives, all from nettle (MD4, MD5, HMAC-MD5, RC4),
 *              randomness from getrandom, constant-time compare, wiping
 *   keys.c     NTOWFv2, NTLMv2 proofs, session keys, the MIC, signing and
 *              sealing keys and the message signature ([MS-NLMP] 3.3.2, 3.4)
 *   msg.c      the three messages and AV pairs: parse (every field by its
 *              offset/length pair, bounds-checked) and write
 *   users.c    the user file (NTLM_USER_FILE, gss-ntlmssp's format) and
 *              UTF-8 <-> UTF-16LE
 * and the package itself, which meets package.h (ntlm_pkg.h: ntlm.c,
 * cred.c, client.c, server.c, protect.c).
 *
 * Nothing here knows the library's handles or state machine, nor SSPI's
 * types.  Secrets (passwords, hashes, keys, RC4 states) are wiped
 * with sa__ntlm_wipe before their memory is freed and never traced.
 */
#ifndef SSPIASYNC_PACKAGES_NTLM_INT_H
#define SSPIASYNC_PACKAGES_NTLM_INT_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/arcfour.h>

/* ---- wire constants ([MS-NLMP] 2.2) -------------------------------------- */

#define SA_NTLM_SIG_LEN 8                 /* "NTLMSSP\0" */
#define SA_NTLM_NEGOTIATE 1u
#define SA_NTLM_CHALLENGE 2u
#define SA_NTLM_AUTHENTICATE 3u

/* NegotiateFlags. */
#define SA_NTLM_F_UNICODE 0x00000001u
#define SA_NTLM_F_OEM 0x00000002u
#define SA_NTLM_F_REQUEST_TARGET 0x00000004u
#define SA_NTLM_F_SIGN 0x00000010u
#define SA_NTLM_F_SEAL 0x00000020u
#define SA_NTLM_F_DATAGRAM 0x00000040u
#define SA_NTLM_F_LM_KEY 0x00000080u
#define SA_NTLM_F_NTLM 0x00000200u
#define SA_NTLM_F_ANONYMOUS 0x00000800u
#define SA_NTLM_F_OEM_DOMAIN 0x00001000u
#define SA_NTLM_F_OEM_WORKSTATION 0x00002000u
#define SA_NTLM_F_ALWAYS_SIGN 0x00008000u
#define SA_NTLM_F_TARGET_DOMAIN 0x00010000u
#define SA_NTLM_F_TARGET_SERVER 0x00020000u
#define SA_NTLM_F_ESS 0x00080000u         /* EXTENDED_SESSIONSECURITY */
#define SA_NTLM_F_IDENTIFY 0x00100000u
#define SA_NTLM_F_NON_NT_KEY 0x00400000u
#define SA_NTLM_F_TARGET_INFO 0x00800000u
#define SA_NTLM_F_VERSION 0x02000000u
#define SA_NTLM_F_128 0x20000000u
#define SA_NTLM_F_KEY_EXCH 0x40000000u
#define SA_NTLM_F_56 0x80000000u

/* AV pair ids ([MS-NLMP] 2.2.2.1). */
#define SA_NTLM_AV_EOL 0
#define SA_NTLM_AV_NB_COMPUTER 1
#define SA_NTLM_AV_NB_DOMAIN 2
#define SA_NTLM_AV_DNS_COMPUTER 3
#define SA_NTLM_AV_DNS_DOMAIN 4
#define SA_NTLM_AV_DNS_TREE 5
#define SA_NTLM_AV_FLAGS 6
#define SA_NTLM_AV_TIMESTAMP 7
#define SA_NTLM_AV_SINGLE_HOST 8
#define SA_NTLM_AV_TARGET_NAME 9
#define SA_NTLM_AV_CHANNEL_BINDINGS 10
#define SA_NTLM_AVF_MIC 0x00000002u        /* MsvAvFlags: the MIC field is filled */

/* Fixed layout offsets. */
#define SA_NTLM_NEG_MIN 32                /* NEGOTIATE without Version (curl) */
#define SA_NTLM_CHAL_MIN 48               /* CHALLENGE up to TargetInfoFields */
#define SA_NTLM_CHAL_HDR 56               /* ... with Version */
#define SA_NTLM_AUTH_MIN 64               /* AUTHENTICATE up to NegotiateFlags */
#define SA_NTLM_AUTH_MIC_OFF 72           /* the MIC, after the Version */
#define SA_NTLM_AUTH_HDR 88               /* ... with Version and MIC */

#define SA_NTLM_KEY_LEN 16
#define SA_NTLM_CHAL_LEN 8                /* server and client challenges */
#define SA_NTLM_PROOF_LEN 16              /* NTProofStr */
#define SA_NTLM_V2_BLOB_FIXED 28          /* resp types, Z(6), time, cc, Z(4) */
#define SA_NTLM_MAC_LEN 16                /* a message signature */

/* Limits on what we accept and send (the token stays under cbMaxToken). */
#define SA_NTLM_MAX_TOKEN 2888            /* Microsoft's cbMaxToken for NTLM */
#define SA_NTLM_NAME_MAX 256              /* UTF-16 code units: user, domain, target */
#define SA_NTLM_TARGET_INFO_MAX 1024      /* bytes of the server's AV pairs we take */

/* ---- crypto.c -------------------------------------------------------------- */

struct sa_ntlm_iov {
	const void *p;
	size_t n;
};

void sa__ntlm_md4(const void *p, size_t n, uint8_t out[16]);
void sa__ntlm_md5(const struct sa_ntlm_iov *v, size_t nv, uint8_t out[16]);
void sa__ntlm_hmac_md5(const uint8_t *key, size_t key_len, const struct sa_ntlm_iov *v, size_t nv,
		      uint8_t out[16]);
/* The same with pre (pre_len bytes) hashed before the pieces: a message
 * signature's sequence number ahead of the caller's buffers. */
void sa__ntlm_hmac_md5_pre(const uint8_t *key, size_t key_len, const void *pre, size_t pre_len,
			  const struct sa_ntlm_iov *v, size_t nv, uint8_t out[16]);
/* An RC4 stream (nettle's arcfour). */
struct sa_ntlm_rc4 {
	struct arcfour_ctx s;
};
void sa__ntlm_rc4_init(struct sa_ntlm_rc4 *r, const uint8_t key[16]);
void sa__ntlm_rc4(struct sa_ntlm_rc4 *r, uint8_t *dst, const uint8_t *src, size_t n);
/* One-shot RC4 of n bytes under key (EncryptedRandomSessionKey). */
void sa__ntlm_rc4_once(const uint8_t key[16], uint8_t *dst, const uint8_t *src, size_t n);
/* 0 and n random bytes at p, or -1 (getrandom failed). */
int sa__ntlm_random(void *p, size_t n);
/* 1 when equal; time depends on n only. */
int sa__ntlm_ct_equal(const void *a, const void *b, size_t n);
/* Overwrite n bytes at p with zeros; not optimised away. */
void sa__ntlm_wipe(void *p, size_t n);

/* ---- keys.c ---------------------------------------------------------------- */

/* One direction's message keys: signing key, sealing stream, sequence. */
struct sa_ntlm_dir {
	uint8_t sign_key[16];
	struct sa_ntlm_rc4 seal;
	uint32_t seq;
};

/* NT hash = MD4(UTF-16LE(password)).  password is UTF-8; -1 when it is not
 * valid UTF-8 or longer than SA_NTLM_NAME_MAX units (nothing written). */
int sa__ntlm_nt_hash(const char *password, uint8_t out[16]);
/* NTOWFv2 = HMAC_MD5(nt_hash, UTF-16LE(upper(user) || domain)); -1 on bad UTF-8. */
int sa__ntlm_ntowfv2(const uint8_t nt_hash[16], const char *user, const char *domain,
		    uint8_t out[16]);
/* NTProofStr = HMAC_MD5(key, server_challenge || blob). */
void sa__ntlm_v2_proof(const uint8_t key[16], const uint8_t sc[8], const uint8_t *blob,
		      size_t blob_len, uint8_t proof[16]);
/* LMv2 = HMAC_MD5(key, sc || cc) || cc (24 bytes). */
void sa__ntlm_lmv2(const uint8_t key[16], const uint8_t sc[8], const uint8_t cc[8],
		  uint8_t out[24]);
/* SessionBaseKey = HMAC_MD5(key, proof). */
void sa__ntlm_session_base_key(const uint8_t key[16], const uint8_t proof[16], uint8_t out[16]);
/* MIC = HMAC_MD5(exported, negotiate || challenge || authenticate); the
 * AUTHENTICATE bytes are given with their MIC field already zeroed. */
void sa__ntlm_mic(const uint8_t exported[16], const uint8_t *neg, size_t neg_len,
		 const uint8_t *chal, size_t chal_len, const uint8_t *auth, size_t auth_len,
		 uint8_t out[16]);
/* The two directions' keys from ExportedSessionKey (128-bit sealing):
 * client: send = client-to-server, recv = server-to-client; server: the reverse. */
void sa__ntlm_derive(const uint8_t exported[16], int client, struct sa_ntlm_dir *send,
		    struct sa_ntlm_dir *recv);
/* The 16-byte signature of msg (several pieces) with extended session
 * security: version 1, HMAC_MD5(sign_key, seq || msg)[0..8] (RC4'd through
 * d->seal when key_exch), seq.  Uses d->seq as given; the caller advances it. */
void sa__ntlm_sign(struct sa_ntlm_dir *d, int key_exch, uint32_t seq, const struct sa_ntlm_iov *msg,
		  size_t nmsg, uint8_t sig[16]);
/* sa__ntlm_sign in two halves, for sealing, whose data runs through the
 * stream between them: the HMAC over seq || msg (the plaintext), then the
 * signature from it (mac is wiped). */
void sa__ntlm_mac(const struct sa_ntlm_dir *d, uint32_t seq, const struct sa_ntlm_iov *msg,
		 size_t nmsg, uint8_t mac[16]);
void sa__ntlm_sig_close(struct sa_ntlm_dir *d, int key_exch, uint32_t seq, uint8_t mac[16],
		       uint8_t sig[16]);

/* ---- users.c --------------------------------------------------------------- */

/* UTF-8 (NUL-terminated) to UTF-16LE at out (room for cap bytes); returns
 * the bytes written, or -1 (not UTF-8, a NUL, or no room).  upper: ASCII
 * letters upper-cased (only ASCII is folded; see README). */
long sa__ntlm_utf16(const char *s, int upper, uint8_t *out, size_t cap);
/* UTF-16LE (len bytes) to a new NUL-terminated UTF-8 string (sa__malloc), or
 * NULL (odd length, lone surrogate, a NUL, no memory). */
char *sa__ntlm_utf8(const uint8_t *p, size_t len);
/* 1 when sa__ntlm_utf8 would take p (so its NULL meant no memory), else 0. */
int sa__ntlm_utf16_ok(const uint8_t *p, size_t len);
/* OEM (taken as Latin-1 / ASCII) bytes to a new UTF-8 string, or NULL. */
char *sa__ntlm_oem(const uint8_t *p, size_t len);

/* One user: names as given (UTF-8), the NT hash of the password. */
struct sa_ntlm_user {
	char *domain; /* "" matches any domain */
	char *user;
	uint8_t nt_hash[16];
};
/* The user file, read once. */
struct sa_ntlm_users {
	struct sa_ntlm_user *v;
	size_t n;
};
/* Read path into *out: 0; -1 when it cannot be read (errno kept), -2 on no
 * memory.  Lines: "DOMAIN:user:password" (password is the rest of the line,
 * may hold ':'); blank lines and lines starting with '#' are skipped; a line
 * without two ':' is skipped. */
int sa__ntlm_users_load(const char *path, struct sa_ntlm_users *out);
/* First entry whose user matches (ASCII case-insensitively) and whose domain
 * matches (case-insensitively; an entry's empty domain or a NULL domain
 * matches any); NULL when none. */
const struct sa_ntlm_user *sa__ntlm_users_find(const struct sa_ntlm_users *u, const char *domain,
					      const char *user);
/* Wipe and free every entry. */
void sa__ntlm_users_free(struct sa_ntlm_users *u);

/* ---- msg.c ----------------------------------------------------------------- */

/* A field of a received message: bytes inside that message. */
struct sa_ntlm_field {
	const uint8_t *p;
	size_t len;
};

struct sa_ntlm_negotiate {
	uint32_t flags;
	struct sa_ntlm_field domain, workstation; /* as sent (OEM) */
};
struct sa_ntlm_challenge {
	uint32_t flags;
	uint8_t server_challenge[8];
	struct sa_ntlm_field target_name, target_info;
};
struct sa_ntlm_authenticate {
	uint32_t flags;
	struct sa_ntlm_field lm, nt, domain, user, workstation, enc_key;
	int has_mic; /* the payload starts at or after 88: bytes 72..88 can be a MIC */
};

/* Parsers: 0, or -1 for anything malformed (wrong signature or type, a
 * field outside the message, a truncated header).  They never read outside
 * [m, m + n). */
int sa__ntlm_parse_negotiate(const uint8_t *m, size_t n, struct sa_ntlm_negotiate *out);
int sa__ntlm_parse_challenge(const uint8_t *m, size_t n, struct sa_ntlm_challenge *out);
int sa__ntlm_parse_authenticate(const uint8_t *m, size_t n, struct sa_ntlm_authenticate *out);

/* AV pairs: 0 when info is a well-formed list (every pair inside, ending
 * with MsvAvEOL), else -1.  find: the first pair with that id, 1 found, 0 not. */
int sa__ntlm_av_check(const uint8_t *info, size_t n);
int sa__ntlm_av_find(const uint8_t *info, size_t n, uint16_t id, struct sa_ntlm_field *out);

/* A message writer: header of hdr bytes, payload appended after it, each
 * field's (len, maxlen, offset) written at its place in the header.  No
 * write ever passes cap; overflow is remembered (check wr.err at the end). */
struct sa_ntlm_wr {
	uint8_t *buf;
	size_t cap, len; /* len: end of the payload so far */
	int err;         /* 1: something did not fit */
};
void sa__ntlm_wr_init(struct sa_ntlm_wr *w, uint8_t *buf, size_t cap, uint32_t type, size_t hdr);
void sa__ntlm_wr_u16(struct sa_ntlm_wr *w, size_t off, uint16_t v);
void sa__ntlm_wr_u32(struct sa_ntlm_wr *w, size_t off, uint32_t v);
void sa__ntlm_wr_bytes(struct sa_ntlm_wr *w, size_t off, const void *p, size_t n);
/* Append n bytes to the payload and point the field header at off to them. */
void sa__ntlm_wr_field(struct sa_ntlm_wr *w, size_t off, const void *p, size_t n);
/* Append an AV pair to the payload (no field header). */
void sa__ntlm_wr_av(struct sa_ntlm_wr *w, uint16_t id, const void *p, size_t n);

static inline uint16_t sa_ntlm_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t sa_ntlm_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void sa_ntlm_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif /* SSPIASYNC_PACKAGES_NTLM_INT_H */
