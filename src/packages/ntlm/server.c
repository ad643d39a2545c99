/*
 * src/packages/ntlm/server.c - the acceptor's legs: NEGOTIATE in,
 * CHALLENGE out (our target info and timestamp); then AUTHENTICATE in:
 * the user's hash (store callback or user file), the NTLMv2 proof, channel
 * bindings, the session key, the MIC; the context done or refused.
 */
#include "packages/ntlm/ntlm_pkg.h"
#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

/* What a server echoes back when the client offered it. */
#define ECHO_FLAGS                                                                          \
	(SA_NTLM_F_ALWAYS_SIGN | SA_NTLM_F_128 | SA_NTLM_F_56 | SA_NTLM_F_KEY_EXCH |        \
	 SA_NTLM_F_SIGN)

static int32_t server_challenge(struct ntlm_cred *c, void **ctx, struct sa_pkg_leg *leg)
{
	struct sa_ntlm_negotiate neg;
	if (leg->in == NULL || sa__ntlm_parse_negotiate(leg->in, leg->in_len, &neg) != 0)
		return SEC_E_INVALID_TOKEN;
	if (!(neg.flags & SA_NTLM_F_ESS))
		return SEC_E_UNSUPPORTED_FUNCTION; /* NTLMv1 session security only */
	uint32_t f = SA_NTLM_F_NTLM | SA_NTLM_F_ESS | SA_NTLM_F_TARGET_INFO | SA_NTLM_F_VERSION;
	f |= (neg.flags & SA_NTLM_F_UNICODE) ? SA_NTLM_F_UNICODE : SA_NTLM_F_OEM;
	if (neg.flags & SA_NTLM_F_REQUEST_TARGET)
		f |= SA_NTLM_F_REQUEST_TARGET | SA_NTLM_F_TARGET_SERVER;
	f |= neg.flags & ECHO_FLAGS;
	if ((neg.flags & SA_NTLM_F_SEAL) && (neg.flags & SA_NTLM_F_128))
		f |= SA_NTLM_F_SEAL;
	int unicode = (f & SA_NTLM_F_UNICODE) != 0;

	struct ntlm_ctx *x = sa__ntlm_ctx_new(c, 0);
	if (x == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (sa__ntlm_random(x->server_challenge, 8) != 0) {
		sa__ntlm_ctx_delete(x);
		return SEC_E_INTERNAL_ERROR;
	}
	struct sa_ntlm_wr w;
	sa__ntlm_wr_init(&w, leg->out, leg->out_cap, SA_NTLM_CHALLENGE, SA_NTLM_CHAL_HDR);
	if (unicode)
		sa__ntlm_wr_field(&w, 12, c->host16, c->host16_len);
	else
		sa__ntlm_wr_field(&w, 12, c->host, strlen(c->host));
	sa__ntlm_wr_u32(&w, 20, f);
	sa__ntlm_wr_bytes(&w, 24, x->server_challenge, 8);
	sa__ntlm_wr_bytes(&w, 48, sa__ntlm_version, 8);
	/* Target info: appended to the payload, then its field header. */
	size_t ti_at = w.len;
	int64_t now = sa__filetime_now();
	uint8_t t[8];
	for (int i = 0; i < 8; i++)
		t[i] = (uint8_t)((uint64_t)now >> (8 * i));
	sa__ntlm_wr_av(&w, SA_NTLM_AV_NB_DOMAIN, c->host16, c->host16_len);
	sa__ntlm_wr_av(&w, SA_NTLM_AV_NB_COMPUTER, c->host16, c->host16_len);
	sa__ntlm_wr_av(&w, SA_NTLM_AV_DNS_DOMAIN, c->dns16, c->dns16_len);
	sa__ntlm_wr_av(&w, SA_NTLM_AV_DNS_COMPUTER, c->dns16, c->dns16_len);
	sa__ntlm_wr_av(&w, SA_NTLM_AV_TIMESTAMP, t, 8);
	sa__ntlm_wr_av(&w, SA_NTLM_AV_EOL, NULL, 0);
	sa__ntlm_wr_u16(&w, 40, (uint16_t)(w.len - ti_at));
	sa__ntlm_wr_u16(&w, 42, (uint16_t)(w.len - ti_at));
	sa__ntlm_wr_u32(&w, 44, (uint32_t)ti_at);
	if (w.err) {
		sa__ntlm_ctx_delete(x);
		return SEC_E_BUFFER_TOO_SMALL;
	}
	if (sa__ntlm_keep_msg(x, leg->in, leg->in_len, 0) != 0 || sa__ntlm_keep_msg(x, leg->out, w.len, 1) != 0) {
		sa__ntlm_ctx_delete(x);
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	x->flags = f;
	x->step = SENT_CHALLENGE;
	leg->out_len = w.len;
	leg->expiry = SA_NTLM_NEVER;
	*ctx = x;
	return SEC_I_CONTINUE_NEEDED;
}

/* The NT hash of (domain, user): the store callback, else the user file. */
static int user_hash(struct ntlm_cred *c, const char *domain, const char *user, uint8_t out[16],
		     const char **file_domain)
{
	(void)pthread_mutex_lock(&c->lock);
	sa_pkg_lookup_fn fn = c->lookup;
	void *arg = c->lookup_arg;
	(void)pthread_mutex_unlock(&c->lock);
	*file_domain = NULL;
	if (fn != NULL)
		return fn(arg, domain, user, out) == SEC_E_OK ? 0 : -1;
	/* A client that names no domain (curl -u user:pw) matches any entry. */
	const struct sa_ntlm_user *e =
		sa__ntlm_users_find(&c->users, domain[0] != '\0' ? domain : NULL, user);
	if (e == NULL)
		return -1;
	memcpy(out, e->nt_hash, 16);
	*file_domain = e->domain;
	return 0;
}

/* Everything the AUTHENTICATE check needs on the heap (wiped after). */
struct auth_check {
	uint8_t hash[16], key[16], proof[16], base[16], exported[16], mic[16], cb[16];
};

static int32_t server_verify(struct ntlm_ctx *x, const struct sa_pkg_leg *leg,
			     const struct sa_ntlm_authenticate *a, struct auth_check *k, char **name)
{
	struct ntlm_cred *c = x->cred;
	uint32_t flags = x->flags;
	int unicode = (flags & SA_NTLM_F_UNICODE) != 0;
	if (a->nt.len <= 24)
		return SEC_E_LOGON_DENIED; /* LM, NTLMv1 or anonymous: refused */
	if (a->nt.len < 16 + SA_NTLM_V2_BLOB_FIXED + 4 || a->user.len == 0)
		return SEC_E_INVALID_TOKEN;
	const uint8_t *blob = a->nt.p + 16;
	size_t blob_len = a->nt.len - 16;
	const uint8_t *av = blob + SA_NTLM_V2_BLOB_FIXED;
	size_t av_len = blob_len - SA_NTLM_V2_BLOB_FIXED;
	if (blob[0] != 1 || sa__ntlm_av_check(av, av_len) != 0)
		return SEC_E_INVALID_TOKEN;
	char *user = sa__ntlm_get_name(&a->user, unicode), *domain = sa__ntlm_get_name(&a->domain, unicode);
	int32_t st = SEC_E_OK;
	const char *file_domain = NULL;
	if (user == NULL || domain == NULL)
		st = sa__ntlm_name_ok(&a->user, unicode) && sa__ntlm_name_ok(&a->domain, unicode)
			     ? SEC_E_INSUFFICIENT_MEMORY
			     : SEC_E_INVALID_TOKEN;
	else if (user_hash(c, domain, user, k->hash, &file_domain) != 0)
		st = SEC_E_LOGON_DENIED; /* unknown user */
	else if (sa__ntlm_ntowfv2(k->hash, user, domain, k->key) != 0)
		st = SEC_E_LOGON_DENIED;
	if (st == SEC_E_OK) {
		sa__ntlm_v2_proof(k->key, x->server_challenge, blob, blob_len, k->proof);
		if (!sa__ntlm_ct_equal(k->proof, a->nt.p, 16))
			st = SEC_E_LOGON_DENIED; /* wrong password */
	}
	/* Channel bindings: when we have some, a client's non-zero hash must match. */
	struct sa_ntlm_field f;
	static const uint8_t zero[16];
	if (st == SEC_E_OK && leg->bindings != NULL &&
	    sa__ntlm_av_find(av, av_len, SA_NTLM_AV_CHANNEL_BINDINGS, &f) && f.len == 16 &&
	    !sa__ntlm_ct_equal(f.p, zero, 16)) {
		if (sa__ntlm_bindings_hash(leg->bindings, leg->bindings_len, k->cb) != 0)
			st = SEC_E_INVALID_PARAMETER;
		else if (!sa__ntlm_ct_equal(k->cb, f.p, 16))
			st = SEC_E_LOGON_DENIED;
	}
	if (st == SEC_E_OK) {
		sa__ntlm_session_base_key(k->key, k->proof, k->base);
		if (flags & SA_NTLM_F_KEY_EXCH) {
			if (a->enc_key.len != 16)
				st = SEC_E_INVALID_TOKEN;
			else
				sa__ntlm_rc4_once(k->base, k->exported, a->enc_key.p, 16);
		} else {
			memcpy(k->exported, k->base, 16);
		}
	}
	/* The MIC, when MsvAvFlags says it is there. */
	if (st == SEC_E_OK && sa__ntlm_av_find(av, av_len, SA_NTLM_AV_FLAGS, &f) && f.len == 4 &&
	    (sa_ntlm_le32(f.p) & SA_NTLM_AVF_MIC)) {
		uint8_t *copy = a->has_mic ? sa__malloc(leg->in_len) : NULL;
		if (!a->has_mic) {
			st = SEC_E_INVALID_TOKEN;
		} else if (copy == NULL) {
			st = SEC_E_INSUFFICIENT_MEMORY;
		} else {
			memcpy(copy, leg->in, leg->in_len);
			memset(copy + SA_NTLM_AUTH_MIC_OFF, 0, 16);
			sa__ntlm_mic(k->exported, x->msgs, x->neg_len, x->msgs + x->neg_len,
				    x->chal_len, copy, leg->in_len, k->mic);
			if (!sa__ntlm_ct_equal(k->mic, leg->in + SA_NTLM_AUTH_MIC_OFF, 16))
				st = SEC_E_LOGON_DENIED;
			sa__free(copy);
		}
	}
	if (st == SEC_E_OK) {
		const char *d = domain[0] ? domain : (file_domain && file_domain[0]) ? file_domain
										     : c->host;
		size_t n = strlen(d) + 1 + strlen(user) + 1;
		*name = sa__malloc(n);
		if (*name == NULL)
			st = SEC_E_INSUFFICIENT_MEMORY;
		else
			(void)snprintf(*name, n, "%s\\%s", d, user);
	}
	sa__free(user);
	sa__free(domain);
	return st;
}

static int32_t server_authenticate(struct ntlm_ctx *x, struct sa_pkg_leg *leg)
{
	struct sa_ntlm_authenticate a;
	if (leg->in == NULL || sa__ntlm_parse_authenticate(leg->in, leg->in_len, &a) != 0)
		return SEC_E_INVALID_TOKEN;
	/* The flags the client confirms, within what we offered. */
	uint32_t offered = x->flags;
	if (a.flags != 0)
		x->flags &= a.flags | SA_NTLM_F_UNICODE | SA_NTLM_F_OEM;
	struct auth_check *k = sa__malloc(sizeof *k);
	if (k == NULL) {
		x->flags = offered;
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	char *name = NULL;
	int32_t st = server_verify(x, leg, &a, k, &name);
	char *server = st == SEC_E_OK ? sa__strdup(x->cred->host) : NULL;
	if (st == SEC_E_OK && server == NULL) {
		sa__free(name);
		st = SEC_E_INSUFFICIENT_MEMORY;
	}
	if (st == SEC_E_OK)
		sa__ntlm_ctx_done(x, leg, k->exported, name, server, 0);
	else if (st == SEC_E_INSUFFICIENT_MEMORY)
		x->flags = offered; /* retryable: nothing changed */
	sa__ntlm_wipe(k, sizeof *k);
	sa__free(k);
	return st;
}

int32_t sa__ntlm_accept_leg(void *cv, void **ctx, struct sa_pkg_leg *leg)
{
	struct ntlm_cred *c = cv;
	if (!(c->use & SECPKG_CRED_INBOUND))
		return SEC_E_NO_CREDENTIALS;
	struct ntlm_ctx *x = *ctx;
	if (x == NULL)
		return server_challenge(c, ctx, leg);
	if (x->step != SENT_CHALLENGE)
		return SEC_E_OUT_OF_SEQUENCE;
	int32_t st = server_authenticate(x, leg);
	if (st != SEC_E_OK && st != SEC_E_INSUFFICIENT_MEMORY)
		x->step = FAILED;
	return st;
}
