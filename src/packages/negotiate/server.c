/*
 * src/packages/negotiate/server.c - the acceptor's legs.
 *
 *   leg 1   a NegTokenInit: take the initiator's first mechanism we hold a
 *           credential for; run its optimistic token when that is its first
 *           choice, else ask for a token of ours (request-mic: the choice
 *           must be confirmed by mechListMICs).  A bare NTLMSSP or Kerberos
 *           token ([MS-SPNG]; WinPR's "Negotiate" client sends raw NTLM) is
 *           run by that mechanism and answered bare.
 *   leg n   a NegTokenResp: the mechanism's next token; once it is done,
 *           the initiator's mechListMIC checked, ours sent, accept-completed.
 */
#include "packages/negotiate/nego_pkg.h"
#include "util/alloc.h"

#include <string.h>

/* The leg's output: a NegTokenResp (or, raw, the mechanism's token). */
static int32_t answer(struct nego_ctx *x, struct sa_pkg_leg *leg, int state, int name_mech,
		      const uint8_t *tok, size_t tok_len, const uint8_t *mic, size_t mic_len)
{
	size_t len = 0;
	int rc;
	if (x->raw) {
		if (tok_len > leg->out_cap)
			return SEC_E_BUFFER_TOO_SMALL;
		if (tok_len != 0)
			memcpy(leg->out, tok, tok_len);
		leg->out_len = tok_len;
		return SEC_E_OK;
	}
	rc = sa__spnego_encode_resp(state,
				   name_mech ? sa__nego_oid_of(x->mech) : (struct sa_spnego_buf){NULL, 0},
				   (struct sa_spnego_buf){tok_len ? tok : NULL, tok_len},
				   (struct sa_spnego_buf){mic_len ? mic : NULL, mic_len}, leg->out,
				   leg->out_cap, &len);
	if (rc != 0)
		return rc == -1 ? SEC_E_BUFFER_TOO_SMALL
				: rc == -2 ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INTERNAL_ERROR;
	leg->out_len = len;
	return SEC_E_OK;
}

/* After the mechanism ran (tok: its output): MICs, state, the answer. */
static int32_t finish_leg(struct nego_ctx *x, struct sa_pkg_leg *leg, int32_t mst, int name_mech,
			  const uint8_t *tok, size_t tok_len, struct sa_spnego_buf peer_mic)
{
	uint8_t mic[64];
	size_t mic_len = 0;
	int32_t st;
	if (x->raw) {
		st = answer(x, leg, 0, 0, tok, tok_len, NULL, 0);
		if (st == SEC_E_OK && mst == SEC_E_OK)
			x->done = 1;
		return st == SEC_E_OK ? mst : st;
	}
	if (x->mech_done) {
		if (peer_mic.p != NULL) {
			if ((st = sa__nego_mic_check(x, peer_mic)) != SEC_E_OK)
				return st;
			x->mic_needed = 1; /* it sent one: it wants ours */
		} else if (x->mic_needed && !x->first_choice) {
			return SA_NEGO_REFUSED; /* a choice not confirmed: a downgrade? */
		} else {
			x->mic_needed = 0; /* its first choice, and it sent none: none due */
		}
		if (x->mic_needed && (st = sa__nego_mic_make(x, mic, sizeof mic, &mic_len)) != SEC_E_OK)
			return st;
	}
	int state = x->mech_done ? SA_SPNEGO_COMPLETED : SA_SPNEGO_INCOMPLETE;
	if ((st = answer(x, leg, state, name_mech, tok, tok_len, mic, mic_len)) != SEC_E_OK)
		return st;
	if (!x->mech_done)
		return SEC_I_CONTINUE_NEEDED;
	x->done = 1;
	return SEC_E_OK;
}

/* The bare token of one mechanism, as its first leg. */
static int32_t raw_leg(struct nego_ctx *x, struct sa_pkg_leg *leg, const struct sa_package *m)
{
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	if (m == NULL || sa__nego_mech_cred(x->cred, m) == NULL)
		return SEC_E_NO_CREDENTIALS;
	x->raw = 1;
	x->mech = m;
	int32_t st = sa__nego_mech_leg(x, leg, leg->in, leg->in_len, &tok, &tok_len);
	if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
		st = finish_leg(x, leg, st, 0, tok, tok_len, (struct sa_spnego_buf){NULL, 0});
	sa__nego_tok_free(tok, tok_len);
	return st;
}

static int32_t first_leg(struct nego_ctx *x, struct sa_pkg_leg *leg)
{
	struct sa_spnego_init in;
	const struct sa_package *m = NULL;
	size_t i;
	switch (sa__spnego_sniff(leg->in, leg->in_len)) {
	case SA_SPNEGO_RAW_NTLM:
		return raw_leg(x, leg, &sa__ntlm);
	case SA_SPNEGO_RAW_KRB5:
		return raw_leg(x, leg, sa__nego_mech_of(sa__spnego_oid_krb5));
	case SA_SPNEGO_INIT:
		break;
	default:
		return SEC_E_INVALID_TOKEN;
	}
	int rc = sa__spnego_decode_init(leg->in, leg->in_len, &in);
	if (rc != 0)
		return rc == -2 ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INVALID_TOKEN;
	for (i = 0; i < in.n_mechs && m == NULL; i++) {
		m = sa__nego_mech_of(in.mechs[i]);
		if (m != NULL && sa__nego_mech_cred(x->cred, m) == NULL)
			m = NULL;
	}
	if (m == NULL)
		return SA_NEGO_REFUSED; /* nothing in common */
	if (sa__nego_keep_mech_types(x, in.mech_types.p, in.mech_types.len) != 0)
		return SEC_E_INSUFFICIENT_MEMORY;
	x->mech = m;
	x->first_choice = i == 1;
	x->mic_needed = !x->first_choice;
	if (!x->first_choice || in.mech_token.p == NULL || in.mech_token.len == 0) {
		/* No token of the chosen mechanism yet: name it and wait for one. */
		int32_t st = answer(x, leg, x->first_choice ? SA_SPNEGO_INCOMPLETE : SA_SPNEGO_REQUEST_MIC,
				    1, NULL, 0, NULL, 0);
		return st == SEC_E_OK ? SEC_I_CONTINUE_NEEDED : st;
	}
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	int32_t st = sa__nego_mech_leg(x, leg, in.mech_token.p, in.mech_token.len, &tok, &tok_len);
	if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
		st = finish_leg(x, leg, st, 1, tok, tok_len, in.mic);
	sa__nego_tok_free(tok, tok_len);
	return st;
}

static int32_t later_leg(struct nego_ctx *x, struct sa_pkg_leg *leg)
{
	struct sa_spnego_resp r = {SA_SPNEGO_NO_STATE, {NULL, 0}, {NULL, 0}, {NULL, 0}};
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	const uint8_t *in = leg->in;
	size_t in_len = leg->in_len;
	int32_t st;
	if (!x->raw) {
		if (sa__spnego_decode_resp(leg->in, leg->in_len, &r) != 0)
			return SEC_E_INVALID_TOKEN;
		if (r.neg_state == SA_SPNEGO_REJECT)
			return SA_NEGO_REFUSED;
		in = r.token.p;
		in_len = r.token.len;
	}
	if (x->mech_done || in == NULL || in_len == 0)
		return SEC_E_INVALID_TOKEN;
	st = sa__nego_mech_leg(x, leg, in, in_len, &tok, &tok_len);
	if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
		st = finish_leg(x, leg, st, 0, tok, tok_len, r.mic);
	sa__nego_tok_free(tok, tok_len);
	return st;
}

int32_t sa__nego_accept_leg(void *cv, void **ctxp, struct sa_pkg_leg *leg)
{
	struct nego_ctx *x = *ctxp;
	int32_t st;
	if (leg->in_len == 0)
		return SEC_E_INVALID_TOKEN;
	if (x == NULL) {
		if ((x = sa__nego_ctx_new(cv, 0)) == NULL)
			return SEC_E_INSUFFICIENT_MEMORY;
		st = first_leg(x, leg);
	} else if (x->done) {
		return SEC_E_OUT_OF_SEQUENCE;
	} else {
		st = later_leg(x, leg);
	}
	return sa__nego_leg_end(x, ctxp, leg, st);
}
