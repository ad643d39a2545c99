/*
 * src/packages/ntlm/client.c - the initiator's legs: NEGOTIATE out; then
 * CHALLENGE in, AUTHENTICATE out (NTLMv2 response, key exchange, MIC, the
 * target name and channel bindings in the AV pairs) and the context done.
 */
#include "packages/ntlm/ntlm_pkg.h"
#include "util/alloc.h"

#include <string.h>

/* What a client asks for: Unicode, target, NTLM, ESS, 128, 56, key
 * exchange, signing and sealing, and our Version. */
#define CLIENT_FLAGS                                                                        \
	(SA_NTLM_F_UNICODE | SA_NTLM_F_REQUEST_TARGET | SA_NTLM_F_NTLM |                    \
	 SA_NTLM_F_ALWAYS_SIGN | SA_NTLM_F_ESS | SA_NTLM_F_VERSION | SA_NTLM_F_128 |        \
	 SA_NTLM_F_KEY_EXCH | SA_NTLM_F_56 | SA_NTLM_F_SIGN | SA_NTLM_F_SEAL)

static int32_t client_negotiate(struct ntlm_cred *c, void **ctx, struct sa_pkg_leg *leg)
{
	if (leg->out_cap < 40)
		return SEC_E_BUFFER_TOO_SMALL;
	struct ntlm_ctx *x = sa__ntlm_ctx_new(c, 1);
	if (x == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	struct sa_ntlm_wr w;
	sa__ntlm_wr_init(&w, leg->out, leg->out_cap, SA_NTLM_NEGOTIATE, 40);
	sa__ntlm_wr_u32(&w, 12, CLIENT_FLAGS);
	sa__ntlm_wr_u32(&w, 20, 40); /* empty domain and workstation fields point at the end */
	sa__ntlm_wr_u32(&w, 28, 40);
	sa__ntlm_wr_bytes(&w, 32, sa__ntlm_version, 8);
	if (w.err || sa__ntlm_keep_msg(x, leg->out, w.len, 0) != 0) {
		sa__ntlm_ctx_delete(x);
		return w.err ? SEC_E_BUFFER_TOO_SMALL : SEC_E_INSUFFICIENT_MEMORY;
	}
	x->step = SENT_NEGOTIATE;
	leg->out_len = w.len;
	leg->expiry = SA_NTLM_NEVER;
	*ctx = x;
	return SEC_I_CONTINUE_NEEDED;
}

/* Scratch for building an AUTHENTICATE (on the stack: ~4 KiB). */
struct auth_build {
	uint8_t blob[SA_NTLM_V2_BLOB_FIXED + SA_NTLM_TARGET_INFO_MAX + 64 +
		     2 * SA_NTLM_NAME_MAX + 16];
	uint8_t user[2 * SA_NTLM_NAME_MAX], domain[2 * SA_NTLM_NAME_MAX], host[32];
	uint8_t key[16], proof[16], base[16], exported[16], enc[16], lm[24];
};

/* The client's AV pairs: the server's, minus EOL and the pairs we set, then
 * MsvAvFlags (MIC), the target name, the channel bindings hash, EOL.
 * Returns the bytes written at out, or -1. */
static long client_av_pairs(const struct sa_ntlm_challenge *ch, const struct sa_pkg_leg *leg,
			    uint8_t *out, size_t cap)
{
	struct sa_ntlm_wr w = {.buf = out, .cap = cap, .len = 0};
	uint32_t avflags = 0;
	const uint8_t *ti = ch->target_info.p;
	size_t n = ch->target_info.len, at = 0;
	while (n - at >= 4) {
		uint16_t id = sa_ntlm_le16(ti + at);
		size_t len = sa_ntlm_le16(ti + at + 2);
		if (id == SA_NTLM_AV_EOL)
			break;
		if (id == SA_NTLM_AV_FLAGS && len == 4)
			avflags = sa_ntlm_le32(ti + at + 4);
		else if (id != SA_NTLM_AV_TARGET_NAME && id != SA_NTLM_AV_CHANNEL_BINDINGS &&
			 id != SA_NTLM_AV_FLAGS)
			sa__ntlm_wr_av(&w, id, ti + at + 4, len);
		at += 4 + len;
	}
	uint8_t f[4];
	sa_ntlm_put32(f, avflags | SA_NTLM_AVF_MIC);
	sa__ntlm_wr_av(&w, SA_NTLM_AV_FLAGS, f, 4);
	if (leg->target != NULL && leg->target[0] != '\0') {
		uint8_t t[2 * SA_NTLM_NAME_MAX];
		long tl = sa__ntlm_utf16(leg->target, 0, t, sizeof t);
		if (tl < 0)
			return -1;
		sa__ntlm_wr_av(&w, SA_NTLM_AV_TARGET_NAME, t, (size_t)tl);
	}
	uint8_t cb[16];
	if (sa__ntlm_bindings_hash(leg->bindings, leg->bindings_len, cb) != 0)
		return -1;
	sa__ntlm_wr_av(&w, SA_NTLM_AV_CHANNEL_BINDINGS, cb, 16);
	sa__ntlm_wr_av(&w, SA_NTLM_AV_EOL, NULL, 0);
	return w.err ? -1 : (long)w.len;
}

static int32_t client_authenticate(struct ntlm_ctx *x, struct sa_pkg_leg *leg)
{
	struct ntlm_cred *c = x->cred;
	struct sa_ntlm_challenge ch;
	if (leg->in == NULL || sa__ntlm_parse_challenge(leg->in, leg->in_len, &ch) != 0)
		return SEC_E_INVALID_TOKEN;
	if (ch.target_info.len > SA_NTLM_TARGET_INFO_MAX ||
	    (ch.target_info.len != 0 && sa__ntlm_av_check(ch.target_info.p, ch.target_info.len) != 0))
		return SEC_E_INVALID_TOKEN;
	if (!(ch.flags & SA_NTLM_F_ESS) || !(ch.flags & SA_NTLM_F_TARGET_INFO) ||
	    ch.target_info.len == 0)
		return SEC_E_UNSUPPORTED_FUNCTION; /* an NTLMv1-only server */
	int unicode = (ch.flags & SA_NTLM_F_UNICODE) != 0;
	uint32_t flags = (ch.flags & CLIENT_FLAGS) | (unicode ? 0 : SA_NTLM_F_OEM);
	if (unicode)
		flags &= ~SA_NTLM_F_OEM;

	struct auth_build *b = sa__malloc(sizeof *b);
	if (b == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	int32_t st = SEC_E_OK;
	long ul = sa__ntlm_put_name(c->user, unicode, b->user, sizeof b->user);
	long dl = sa__ntlm_put_name(c->domain, unicode, b->domain, sizeof b->domain);
	long hl = sa__ntlm_put_name(c->host, unicode, b->host, sizeof b->host);
	/* The NTLMv2 blob: types, Z(6), time, client challenge, Z(4), AV pairs, Z(4). */
	uint8_t *blob = b->blob;
	memset(blob, 0, SA_NTLM_V2_BLOB_FIXED);
	blob[0] = 1;
	blob[1] = 1;
	struct sa_ntlm_field ts;
	int has_ts = sa__ntlm_av_find(ch.target_info.p, ch.target_info.len, SA_NTLM_AV_TIMESTAMP,
				     &ts) && ts.len == 8;
	if (has_ts) {
		memcpy(blob + 8, ts.p, 8);
	} else {
		int64_t now = sa__filetime_now();
		for (int i = 0; i < 8; i++)
			blob[8 + i] = (uint8_t)((uint64_t)now >> (8 * i));
	}
	long avl = client_av_pairs(&ch, leg, blob + SA_NTLM_V2_BLOB_FIXED,
				   sizeof b->blob - SA_NTLM_V2_BLOB_FIXED - 4);
	if (ul < 0 || dl < 0 || hl < 0 || avl < 0) {
		st = SEC_E_INVALID_PARAMETER; /* a name OEM cannot carry, or too long */
		goto out;
	}
	if (sa__ntlm_random(blob + 16, 8) != 0 || sa__ntlm_random(b->exported, 16) != 0) {
		st = SEC_E_INTERNAL_ERROR;
		goto out;
	}
	size_t blob_len = SA_NTLM_V2_BLOB_FIXED + (size_t)avl + 4;
	memset(blob + blob_len - 4, 0, 4);

	if (sa__ntlm_ntowfv2(c->nt_hash, c->user, c->domain, b->key) != 0) {
		st = SEC_E_INVALID_PARAMETER;
		goto out;
	}
	sa__ntlm_v2_proof(b->key, ch.server_challenge, blob, blob_len, b->proof);
	sa__ntlm_session_base_key(b->key, b->proof, b->base);
	if (has_ts)
		memset(b->lm, 0, 24); /* [MS-NLMP] 3.1.5.1.2: Z(24) when the server sent a time */
	else
		sa__ntlm_lmv2(b->key, ch.server_challenge, blob + 16, b->lm);
	if (flags & SA_NTLM_F_KEY_EXCH)
		sa__ntlm_rc4_once(b->base, b->enc, b->exported, 16);
	else
		memcpy(b->exported, b->base, 16);

	/* The message; the NT response is proof || blob, written in two parts. */
	size_t nt_len = 16 + blob_len;
	struct sa_ntlm_wr w;
	sa__ntlm_wr_init(&w, leg->out, leg->out_cap, SA_NTLM_AUTHENTICATE, SA_NTLM_AUTH_HDR);
	sa__ntlm_wr_field(&w, 12, b->lm, 24);
	sa__ntlm_wr_field(&w, 20, b->proof, 16);
	sa__ntlm_wr_bytes(&w, w.len, blob, blob_len);
	if (!w.err) {
		w.len += blob_len;
		sa__ntlm_wr_u16(&w, 20, (uint16_t)nt_len);
		sa__ntlm_wr_u16(&w, 22, (uint16_t)nt_len);
	}
	sa__ntlm_wr_field(&w, 28, b->domain, (size_t)dl);
	sa__ntlm_wr_field(&w, 36, b->user, (size_t)ul);
	sa__ntlm_wr_field(&w, 44, b->host, (size_t)hl);
	sa__ntlm_wr_field(&w, 52, b->enc, (flags & SA_NTLM_F_KEY_EXCH) ? 16 : 0);
	sa__ntlm_wr_u32(&w, 60, flags);
	sa__ntlm_wr_bytes(&w, 64, sa__ntlm_version, 8);
	if (w.err) {
		st = SEC_E_BUFFER_TOO_SMALL;
		goto out;
	}
	uint8_t mic[16];
	sa__ntlm_mic(b->exported, x->msgs, x->neg_len, leg->in, leg->in_len, leg->out, w.len, mic);
	memcpy(leg->out + SA_NTLM_AUTH_MIC_OFF, mic, 16);

	char *name = NULL, *server = sa__strdup(leg->target != NULL ? leg->target : "");
	if (server == NULL || sa__ntlm_cred_name(c, &name) != SEC_E_OK) {
		sa__free(server);
		st = SEC_E_INSUFFICIENT_MEMORY;
		goto out;
	}
	/* Nothing can fail from here: commit. */
	x->flags = flags;
	sa__ntlm_ctx_done(x, leg, b->exported, name, server, w.len);
out:
	sa__ntlm_wipe(b, sizeof *b);
	sa__free(b);
	return st;
}

int32_t sa__ntlm_init_leg(void *cv, void **ctx, struct sa_pkg_leg *leg)
{
	struct ntlm_cred *c = cv;
	if (!(c->use & SECPKG_CRED_OUTBOUND))
		return SEC_E_NO_CREDENTIALS;
	struct ntlm_ctx *x = *ctx;
	if (x == NULL)
		return client_negotiate(c, ctx, leg);
	if (x->step != SENT_NEGOTIATE)
		return SEC_E_OUT_OF_SEQUENCE;
	int32_t st = client_authenticate(x, leg);
	if (st != SEC_E_OK && st != SEC_E_BUFFER_TOO_SMALL && st != SEC_E_INSUFFICIENT_MEMORY)
		x->step = FAILED;
	return st;
}
