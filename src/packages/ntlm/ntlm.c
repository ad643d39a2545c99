/*
 * src/packages/ntlm/ntlm.c - the "NTLM" package ([MS-NLMP],
 * connection-oriented): its table, contexts and attributes.  Credentials,
 * legs and message protection are in their own files (ntlm_pkg.h).
 *
 * What it speaks: NTLMv2 responses with extended session security, 128-bit
 * keys, key exchange, the MIC, target-info AV pairs, channel bindings.
 * What it refuses, in both directions (README, "NTLM"):
 *  - LM and NTLMv1 responses: an AUTHENTICATE whose NtChallengeResponse is
 *    24 bytes or shorter gets SEC_E_LOGON_DENIED; we never send them.
 *  - a peer without extended session security or without target info (an
 *    NTLMv1-only peer): SEC_E_UNSUPPORTED_FUNCTION from the leg that sees it.
 *  - anonymous logons: SEC_E_LOGON_DENIED.
 *  - sealing below 128 bits: the server grants SEAL only with 128.
 *
 * State of a context (struct ntlm_ctx), by step:
 *   client: SENT_NEGOTIATE -> DONE (after CHALLENGE in, AUTHENTICATE out)
 *   server: SENT_CHALLENGE -> DONE (after AUTHENTICATE in)
 * The NEGOTIATE and CHALLENGE bytes are kept (msgs) until DONE, for the
 * MIC; then freed, so a complete context holds only its keys and name.
 * A failed leg leaves step FAILED: every later call is refused.
 */
#include "packages/ntlm/ntlm_pkg.h"
#include "util/alloc.h"

#include <string.h>
#include <time.h>

const uint8_t sa__ntlm_version[8] = {10, 0, 0, 0, 0, 0, 0, 15};

/* ---- contexts ------------------------------------------------------------- */

struct ntlm_ctx *sa__ntlm_ctx_new(struct ntlm_cred *c, int client)
{
	struct ntlm_ctx *x = sa__calloc(1, sizeof *x);
	if (x != NULL) {
		x->cred = c;
		x->client = client;
	}
	return x;
}

void sa__ntlm_ctx_delete(void *xv)
{
	struct ntlm_ctx *x = xv;
	if (x->msgs != NULL) {
		sa__ntlm_wipe(x->msgs, x->neg_len + x->chal_len);
		sa__free(x->msgs);
	}
	if (x->keys != NULL) {
		sa__ntlm_wipe(x->keys, sizeof *x->keys);
		sa__free(x->keys);
	}
	sa__free(x->name);
	sa__free(x->server);
	sa__ntlm_wipe(x, sizeof *x);
	sa__free(x);
}

/* Keep a copy of the message just sent or received, after those before it. */
int sa__ntlm_keep_msg(struct ntlm_ctx *x, const uint8_t *m, size_t n, int is_challenge)
{
	size_t have = x->neg_len + x->chal_len;
	uint8_t *p = sa__malloc(have + n);
	if (p == NULL)
		return -1;
	if (have != 0)
		memcpy(p, x->msgs, have);
	memcpy(p + have, m, n);
	if (x->msgs != NULL) {
		sa__ntlm_wipe(x->msgs, have);
		sa__free(x->msgs);
	}
	x->msgs = p;
	if (is_challenge)
		x->chal_len = n;
	else
		x->neg_len = n;
	return 0;
}

void sa__ntlm_drop_msgs(struct ntlm_ctx *x)
{
	if (x->msgs != NULL) {
		sa__ntlm_wipe(x->msgs, x->neg_len + x->chal_len);
		sa__free(x->msgs);
	}
	x->msgs = NULL;
}

/* The ISC_RET_ / ASC_RET_ flags a complete context reports: what was asked
 * for and negotiated (the REQ and RET bits of these coincide). */
unsigned long sa__ntlm_ret_flags(const struct ntlm_ctx *x, unsigned long req)
{
	unsigned long integ = x->client ? ISC_REQ_INTEGRITY : ASC_REQ_INTEGRITY;
	unsigned long got = ISC_REQ_CONNECTION & req;
	if (x->flags & (SA_NTLM_F_SIGN | SA_NTLM_F_SEAL))
		got |= req & (integ | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT);
	if (x->flags & SA_NTLM_F_SEAL)
		got |= req & ISC_REQ_CONFIDENTIALITY;
	return got;
}

void sa__ntlm_ctx_done(struct ntlm_ctx *x, struct sa_pkg_leg *leg, const uint8_t exported[16],
		      char *name, char *server, size_t out_len)
{
	x->name = name;
	x->server = server;
	memcpy(x->exported, exported, 16);
	sa__ntlm_drop_msgs(x);
	x->step = DONE;
	x->start = sa__filetime_now();
	leg->out_len = out_len;
	leg->attrs = sa__ntlm_ret_flags(x, leg->req);
	leg->expiry = SA_NTLM_NEVER;
}

/* MD5 of the channel bindings as [MS-NLMP] 3.1.5.1.2 hashes them (the
 * gss_channel_bindings_struct layout); zeros when there are none.  -1 when
 * the buffer is malformed. */
int sa__ntlm_bindings_hash(const unsigned char *b, size_t n, uint8_t out[16])
{
	memset(out, 0, 16);
	if (b == NULL)
		return 0;
	SEC_CHANNEL_BINDINGS h;
	if (n < sizeof h)
		return -1;
	memcpy(&h, b, sizeof h);
	const unsigned long len[3] = {h.cbInitiatorLength, h.cbAcceptorLength,
				      h.cbApplicationDataLength};
	unsigned long off[3] = {h.dwInitiatorOffset, h.dwAcceptorOffset,
				h.dwApplicationDataOffset};
	for (int i = 0; i < 3; i++) {
		if (len[i] == 0)
			off[i] = 0; /* an empty blob's offset is anything: b + off must stay inside */
		else if (off[i] > n || len[i] > n - off[i])
			return -1;
	}
	uint8_t w[5][4];
	sa_ntlm_put32(w[0], (uint32_t)h.dwInitiatorAddrType);
	sa_ntlm_put32(w[1], (uint32_t)len[0]);
	sa_ntlm_put32(w[2], (uint32_t)h.dwAcceptorAddrType);
	sa_ntlm_put32(w[3], (uint32_t)len[1]);
	sa_ntlm_put32(w[4], (uint32_t)len[2]);
	struct sa_ntlm_iov v[8] = {
		{w[0], 4}, {w[1], 4}, {b + off[0], len[0]}, {w[2], 4},
		{w[3], 4}, {b + off[1], len[1]}, {w[4], 4}, {b + off[2], len[2]},
	};
	sa__ntlm_md5(v, 8, out);
	return 0;
}

/* A name for the AUTHENTICATE: UTF-16LE, or ASCII when OEM. */
long sa__ntlm_put_name(const char *s, int unicode, uint8_t *out, size_t cap)
{
	if (unicode)
		return sa__ntlm_utf16(s, 0, out, cap);
	size_t n = strlen(s);
	if (n > cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return -1; /* OEM strings: ASCII only */
	memcpy(out, s, n);
	return (long)n;
}

/* A name from a received message, as new UTF-8. */
char *sa__ntlm_get_name(const struct sa_ntlm_field *f, int unicode)
{
	if (f->len == 0) {
		char *e = sa__malloc(1);
		if (e != NULL)
			e[0] = '\0';
		return e;
	}
	return unicode ? sa__ntlm_utf8(f->p, f->len) : sa__ntlm_oem(f->p, f->len);
}

/* 1 when get_name can take f (a NULL from it then meant no memory). */
int sa__ntlm_name_ok(const struct sa_ntlm_field *f, int unicode)
{
	if (unicode)
		return sa__ntlm_utf16_ok(f->p, f->len);
	return f->len == 0 || memchr(f->p, 0, f->len) == NULL;
}

/* ---- attributes ------------------------------------------------------------ */

static int32_t ctx_names(void *xv, char **user)
{
	struct ntlm_ctx *x = xv;
	if (x->step != DONE)
		return SEC_E_OUT_OF_SEQUENCE; /* no name before the handshake is done */
	*user = sa__strdup(x->name);
	return *user != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

static int32_t ctx_native_names(void *xv, char **client, char **server)
{
	struct ntlm_ctx *x = xv;
	if (x->step != DONE)
		return SEC_E_OUT_OF_SEQUENCE;
	*client = sa__strdup(x->name);
	*server = sa__strdup(x->server);
	if (*client == NULL || *server == NULL) {
		sa__free(*client);
		sa__free(*server);
		*client = *server = NULL;
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	return SEC_E_OK;
}

static int32_t ctx_lifespan(void *xv, int64_t *start, int64_t *expiry)
{
	struct ntlm_ctx *x = xv;
	*start = x->start;
	*expiry = SA_NTLM_NEVER;
	return SEC_E_OK;
}

static int32_t ctx_session_key(void *xv, unsigned char key[32], size_t *len)
{
	struct ntlm_ctx *x = xv;
	if (x->step != DONE)
		return SEC_E_OUT_OF_SEQUENCE; /* no key before the handshake is done */
	memcpy(key, x->exported, 16);
	*len = 16;
	return SEC_E_OK;
}

const struct sa_package sa__ntlm = {
	.name = "NTLM",
	.comment = "NTLM Security Package",
	.caps = 0x00082B37, /* Microsoft's value: integrity, privacy, token only, connection,
			     * multi-leg, impersonation, Win32 names, negotiable, logon,
			     * restricted tokens */
	.version = 1,
	.rpcid = 10,
	.max_token = SA_NTLM_MAX_TOKEN,
	.max_signature = 16,
	.block_size = 0,
	.security_trailer = 16,
	.cred_acquire = sa__ntlm_cred_acquire,
	.cred_free = sa__ntlm_cred_free,
	.cred_name = sa__ntlm_cred_name,
	.init_leg = sa__ntlm_init_leg,
	.accept_leg = sa__ntlm_accept_leg,
	.ctx_delete = sa__ntlm_ctx_delete,
	.ctx_names = ctx_names,
	.ctx_lifespan = ctx_lifespan,
	.ctx_native_names = ctx_native_names,
	.ctx_session_key = ctx_session_key,
	.cred_set_lookup = sa__ntlm_cred_set_lookup,
	.make_signature = sa__ntlm_make_signature,
	.verify_signature = sa__ntlm_verify_signature,
	.encrypt = sa__ntlm_encrypt,
	.decrypt = sa__ntlm_decrypt,
	.ctx_mic_done = sa__ntlm_mic_done,
};
