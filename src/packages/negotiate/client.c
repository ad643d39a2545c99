/*
 * src/packages/negotiate/client.c - the initiator's legs.
 *
 *   leg 1   NegTokenInit: mechTypes (Kerberos, NTLM), and the first token of
 *           the first mechanism that makes one (Kerberos falls away when no
 *           ticket can be had: no ccache, no KDC, an unknown target, ...)
 *   leg n   a NegTokenResp in: the acceptor's choice (first answer), its
 *           mechanism token, its mechListMIC; out: our next token and, once
 *           the mechanism is done and a MIC is due, ours.
 *
 * Kerberos: NegTokenInit(AP-REQ) -> NegTokenResp(completed, AP-REP): done.
 * NTLM:     NegTokenInit(NEGOTIATE) -> NegTokenResp(incomplete, CHALLENGE)
 *           -> NegTokenResp(AUTHENTICATE, MIC) -> NegTokenResp(completed, MIC).
 */
#include "packages/negotiate/nego_pkg.h"
#include "util/alloc.h"

#include <string.h>

/* A status after which Negotiate tries the next mechanism: no Kerberos
 * ticket can be had (no ccache or keytab, no KDC, no such service).  A
 * refused logon (a wrong password, an unknown user) is not one: falling
 * back would turn a Kerberos failure into an NTLM attempt with the same
 * password. */
static int fall_back(int32_t st)
{
	return st == SEC_E_NO_CREDENTIALS || st == SEC_E_NO_AUTHENTICATING_AUTHORITY ||
	       st == SEC_E_TARGET_UNKNOWN;
}

/* Put a token at the leg's output: SEC_E_OK or SEC_E_BUFFER_TOO_SMALL. */
static int32_t put_out(struct sa_pkg_leg *leg, int rc, size_t len)
{
	if (rc == -1)
		return SEC_E_BUFFER_TOO_SMALL;
	if (rc != 0)
		return rc == -2 ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INTERNAL_ERROR;
	leg->out_len = len;
	return SEC_E_OK;
}

static int32_t first_leg(struct nego_ctx *x, struct sa_pkg_leg *leg)
{
	struct sa_spnego_buf mechs[2];
	size_t n = 0, tok_len = 0;
	uint8_t *tok = NULL;
	int32_t st = SEC_E_NO_CREDENTIALS;
	const struct sa_package *order[2] = {NULL, &sa__ntlm};
#ifdef SA_HAVE_KRB5
	order[0] = &sa__krb5;
#endif
	for (int i = 0; i < 2; i++) {
		const struct sa_package *m = order[i];
		if (m == NULL || sa__nego_mech_cred(x->cred, m) == NULL)
			continue;
		if (x->mech == NULL) {
			x->mech = m;
			st = sa__nego_mech_leg(x, leg, NULL, 0, &tok, &tok_len);
			if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
				x->mech = NULL;
				if (!fall_back(st))
					return st;
				continue; /* this one cannot start: not offered */
			}
		}
		mechs[n++] = sa__nego_oid_of(m);
	}
	if (x->mech == NULL)
		return st;
	x->first_choice = 1;
	x->mic_needed = x->mech == &sa__ntlm;
	uint8_t types[64];
	size_t types_len = 0, len = 0;
	int rc = sa__spnego_encode_mech_types(mechs, n, types, sizeof types, &types_len);
	if (rc == 0 && sa__nego_keep_mech_types(x, types, types_len) != 0)
		rc = -2;
	if (rc == 0)
		rc = sa__spnego_encode_init(mechs, n, (struct sa_spnego_buf){tok, tok_len},
					   (struct sa_spnego_buf){NULL, 0}, leg->out, leg->out_cap,
					   &len);
	sa__nego_tok_free(tok, tok_len);
	st = put_out(leg, rc, len);
	return st == SEC_E_OK ? SEC_I_CONTINUE_NEEDED : st;
}

/* The acceptor's first answer: its choice of mechanism. */
static int32_t take_choice(struct nego_ctx *x, const struct sa_spnego_resp *r, int *restart)
{
	*restart = 0;
	x->answered = 1;
	if (r->mech.p == NULL)
		return SEC_E_INVALID_TOKEN; /* RFC 4178: the first answer names it */
	const struct sa_package *m = sa__nego_mech_of(r->mech);
	if (m == NULL || sa__nego_mech_cred(x->cred, m) == NULL)
		return SEC_E_INVALID_TOKEN; /* not one we offered */
	if (m != x->mech) {
		/* The acceptor took another than our optimistic one. */
		sa__nego_mech_drop(x);
		x->mech = m;
		x->first_choice = 0;
		x->mic_needed = 1;
		*restart = 1;
	}
	if (m == &sa__ntlm)
		x->mic_needed = 1;
	return SEC_E_OK;
}

static int32_t later_leg(struct nego_ctx *x, struct sa_pkg_leg *leg)
{
	struct sa_spnego_resp r;
	int restart = 0;
	uint8_t *tok = NULL, mic[64];
	size_t tok_len = 0, mic_len = 0, len = 0;
	int32_t st;
	if (sa__spnego_decode_resp(leg->in, leg->in_len, &r) != 0)
		return SEC_E_INVALID_TOKEN;
	if (r.neg_state == SA_SPNEGO_REJECT)
		return SA_NEGO_REFUSED;
	if (!x->answered && (st = take_choice(x, &r, &restart)) != SEC_E_OK)
		return st;
	if (restart || (r.token.p != NULL && r.token.len != 0)) {
		if (x->mech_done)
			return SEC_E_INVALID_TOKEN; /* a token after the mechanism finished */
		st = sa__nego_mech_leg(x, leg, restart ? NULL : r.token.p, restart ? 0 : r.token.len,
				      &tok, &tok_len);
		if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
			return st;
	}
	if (x->mech_done && r.mic.p != NULL && !x->mic_checked) {
		/* Checked before ours is made: each resets its own direction. */
		if ((st = sa__nego_mic_check(x, r.mic)) != SEC_E_OK)
			goto out;
		x->mic_needed = 1; /* it sent one: it wants ours (RFC 4178 5) */
	}
	if (x->mech_done && x->mic_needed && !x->mic_sent &&
	    (st = sa__nego_mic_make(x, mic, sizeof mic, &mic_len)) != SEC_E_OK)
		goto out;
	int completed = r.neg_state == SA_SPNEGO_COMPLETED;
	if (completed && !x->mech_done) {
		st = SEC_E_INVALID_TOKEN; /* the acceptor finished before the mechanism did */
		goto out;
	}
	if (completed && x->mic_needed && !x->mic_checked) {
		st = SA_NEGO_REFUSED; /* a mechListMIC was due and did not come */
		goto out;
	}
	st = SEC_I_CONTINUE_NEEDED;
	if (tok_len != 0 || mic_len != 0) {
		int rc = sa__spnego_encode_resp(SA_SPNEGO_NO_STATE, (struct sa_spnego_buf){NULL, 0},
					       (struct sa_spnego_buf){tok_len ? tok : NULL, tok_len},
					       (struct sa_spnego_buf){mic_len ? mic : NULL, mic_len},
					       leg->out, leg->out_cap, &len);
		if ((st = put_out(leg, rc, len)) != SEC_E_OK)
			goto out;
		st = SEC_I_CONTINUE_NEEDED;
	}
	if (completed) {
		x->done = 1;
		st = SEC_E_OK;
	}
out:
	sa__nego_tok_free(tok, tok_len);
	return st;
}

int32_t sa__nego_init_leg(void *cv, void **ctxp, struct sa_pkg_leg *leg)
{
	struct nego_ctx *x = *ctxp;
	int32_t st;
	if (x == NULL) {
		if ((x = sa__nego_ctx_new(cv, 1)) == NULL)
			return SEC_E_INSUFFICIENT_MEMORY;
		st = first_leg(x, leg);
	} else if (x->done) {
		return SEC_E_OUT_OF_SEQUENCE;
	} else if (leg->in_len == 0) {
		return SEC_E_INVALID_TOKEN;
	} else {
		st = later_leg(x, leg);
	}
	return sa__nego_leg_end(x, ctxp, leg, st);
}
