/*
 * src/packages/negotiate/negotiate.c - the "Negotiate" package: its table,
 * credentials and contexts, the mechListMIC, and the calls it hands to the
 * mechanism it chose (attributes, messages).  The legs are in client.c
 * and server.c; the wire format in spnego.c.
 *
 * Mechanisms, in the order the initiator offers them: Kerberos (when built
 * and a Kerberos credential could be had), then NTLM.  The acceptor takes
 * the initiator's first mechanism it holds a credential for.
 */
#include "packages/negotiate/nego_pkg.h"
#include "util/alloc.h"

#include <string.h>

/* ---- mechanisms ---------------------------------------------------------------- */

static int oid_eq(struct sa_spnego_buf a, struct sa_spnego_buf b)
{
	return a.len == b.len && a.p != NULL && memcmp(a.p, b.p, a.len) == 0;
}

const struct sa_package *sa__nego_mech_of(struct sa_spnego_buf oid)
{
#ifdef SA_HAVE_KRB5
	if (oid_eq(oid, sa__spnego_oid_krb5) || oid_eq(oid, sa__spnego_oid_krb5_ms))
		return &sa__krb5;
#endif
	if (oid_eq(oid, sa__spnego_oid_ntlm))
		return &sa__ntlm;
	return NULL;
}

struct sa_spnego_buf sa__nego_oid_of(const struct sa_package *mech)
{
	return mech == &sa__ntlm ? sa__spnego_oid_ntlm : sa__spnego_oid_krb5;
}

void *sa__nego_mech_cred(const struct nego_cred *c, const struct sa_package *mech)
{
	return mech == &sa__ntlm ? c->ntlm : c->krb5;
}

/* ---- credentials ------------------------------------------------------------------- */

static void cred_free(void *cv)
{
	struct nego_cred *c = cv;
#ifdef SA_HAVE_KRB5
	if (c->krb5 != NULL)
		sa__krb5.cred_free(c->krb5);
#endif
	if (c->ntlm != NULL)
		sa__ntlm.cred_free(c->ntlm);
	sa__free(c);
}

/* Each mechanism's credential from the same arguments; Negotiate has a
 * credential when either has one (the error otherwise: NTLM's, or
 * Kerberos' when NTLM's says only "no memory"). */
static int32_t cred_acquire(const struct sa_pkg_cred_args *a, void **out, int64_t *expiry)
{
	struct nego_cred *c = sa__calloc(1, sizeof *c);
	int64_t e1 = INT64_MAX, e2 = INT64_MAX;
	int32_t kst = SEC_E_NO_CREDENTIALS, nst;
	if (c == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	c->use = a->use;
	/* An EX identity's PackageList may leave out either (sa_pkg_identity). */
	unsigned mechs = a->identity != NULL && a->identity->mechs != 0 ? a->identity->mechs
									: SA_PKG_MECH_ALL;
#ifdef SA_HAVE_KRB5
	if (mechs & SA_PKG_MECH_KERBEROS)
		kst = sa__krb5.cred_acquire(a, &c->krb5, &e1);
	if (kst != SEC_E_OK)
		c->krb5 = NULL;
	if (kst == SEC_E_INSUFFICIENT_MEMORY) {
		sa__free(c);
		return kst;
	}
#endif
	/* Without NTLM, Kerberos' answer is Negotiate's (c->ntlm stays NULL). */
	nst = (mechs & SA_PKG_MECH_NTLM) ? sa__ntlm.cred_acquire(a, &c->ntlm, &e2) : kst;
	if (nst != SEC_E_OK)
		c->ntlm = NULL;
	if (c->krb5 == NULL && c->ntlm == NULL) {
		sa__free(c);
		return nst != SEC_E_INSUFFICIENT_MEMORY ? nst : kst;
	}
	if (nst == SEC_E_INSUFFICIENT_MEMORY) {
		cred_free(c);
		return nst;
	}
	*out = c;
	*expiry = e1 < e2 ? e1 : e2;
	return SEC_E_OK;
}

static int32_t cred_name(void *cv, char **name)
{
	struct nego_cred *c = cv;
#ifdef SA_HAVE_KRB5
	if (c->krb5 != NULL)
		return sa__krb5.cred_name(c->krb5, name);
#endif
	return sa__ntlm.cred_name(c->ntlm, name);
}

static int32_t cred_set_lookup(void *cv, sa_pkg_lookup_fn fn, void *arg)
{
	struct nego_cred *c = cv;
	if (c->ntlm == NULL)
		return SEC_E_UNSUPPORTED_FUNCTION;
	return sa__ntlm.cred_set_lookup(c->ntlm, fn, arg);
}

/* ---- contexts -------------------------------------------------------------------------- */

struct nego_ctx *sa__nego_ctx_new(struct nego_cred *c, int client)
{
	struct nego_ctx *x = sa__calloc(1, sizeof *x);
	if (x != NULL) {
		x->cred = c;
		x->client = client;
	}
	return x;
}

void sa__nego_mech_drop(struct nego_ctx *x)
{
	if (x->mech_ctx != NULL)
		x->mech->ctx_delete(x->mech_ctx);
	x->mech_ctx = NULL;
	x->mech_done = 0;
}

void sa__nego_ctx_delete(void *xv)
{
	struct nego_ctx *x = xv;
	sa__nego_mech_drop(x);
	sa__free(x->mech_types);
	sa__free(x);
}

int sa__nego_keep_mech_types(struct nego_ctx *x, const uint8_t *p, size_t n)
{
	uint8_t *copy = sa__malloc(n);
	if (copy == NULL)
		return -1;
	memcpy(copy, p, n);
	sa__free(x->mech_types);
	x->mech_types = copy;
	x->mech_types_len = n;
	return 0;
}

int32_t sa__nego_mech_leg(struct nego_ctx *x, const struct sa_pkg_leg *leg, const uint8_t *in,
			 size_t in_len, uint8_t **tok, size_t *tok_len)
{
	const struct sa_package *m = x->mech;
	struct sa_pkg_leg l = *leg;
	*tok = sa__malloc(m->max_token);
	*tok_len = 0;
	if (*tok == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	l.in = in;
	l.in_len = in_len;
	l.out = *tok;
	l.out_cap = m->max_token;
	l.out_len = 0;
	/* Kerberos under Negotiate always asks for the AP-REP, as Windows
	 * does: the acceptor's last NegTokenResp carries it. */
	if (x->client && m != &sa__ntlm)
		l.req |= ISC_REQ_MUTUAL_AUTH;
	void *cred = sa__nego_mech_cred(x->cred, m);
	int32_t st = x->client ? m->init_leg(cred, &x->mech_ctx, &l)
			       : m->accept_leg(cred, &x->mech_ctx, &l);
	if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) {
		*tok_len = l.out_len;
		x->attrs = l.attrs & (leg->req | ~(unsigned long)ISC_REQ_MUTUAL_AUTH);
		x->expiry = l.expiry;
		x->mech_done = st == SEC_E_OK;
	} else {
		sa__nego_tok_free(*tok, 0); /* the mechanism failed: nothing was written */
		*tok = NULL;
	}
	return st;
}

void sa__nego_tok_free(uint8_t *tok, size_t len)
{
	if (tok != NULL)
		sa__wipe(tok, len);
	sa__free(tok);
}

int32_t sa__nego_mic_make(struct nego_ctx *x, uint8_t *mic, size_t cap, size_t *len)
{
	SecBuffer b[2] = {{(unsigned long)x->mech_types_len, SECBUFFER_DATA, x->mech_types},
			  {(unsigned long)cap, SECBUFFER_TOKEN, mic}};
	SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
	int32_t st = x->mech->make_signature(x->mech_ctx, 0, &d, 0);
	if (st == SEC_E_OK && x->mech->ctx_mic_done != NULL)
		st = x->mech->ctx_mic_done(x->mech_ctx, 1);
	if (st == SEC_E_OK) {
		*len = b[1].cbBuffer;
		x->mic_sent = 1;
	}
	return st;
}

int32_t sa__nego_mic_check(struct nego_ctx *x, struct sa_spnego_buf mic)
{
	unsigned long qop = 0;
	SecBuffer b[2] = {{(unsigned long)x->mech_types_len, SECBUFFER_DATA, x->mech_types},
			  {(unsigned long)mic.len, SECBUFFER_TOKEN, (void *)mic.p}};
	SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
	int32_t st = x->mech->verify_signature(x->mech_ctx, &d, 0, &qop);
	if (st == SEC_E_OK && x->mech->ctx_mic_done != NULL)
		st = x->mech->ctx_mic_done(x->mech_ctx, 0);
	if (st == SEC_E_OK)
		x->mic_checked = 1;
	return st == SEC_E_OK || st == SEC_E_INSUFFICIENT_MEMORY ? st : SEC_E_MESSAGE_ALTERED;
}

int32_t sa__nego_leg_end(struct nego_ctx *x, void **ctxp, struct sa_pkg_leg *leg, int32_t st)
{
	if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
		if (*ctxp == NULL)
			sa__nego_ctx_delete(x);
		return st;
	}
	*ctxp = x;
	leg->attrs = x->attrs;
	leg->expiry = x->expiry;
	return st;
}

/* ---- attributes and messages: the chosen mechanism's -------------------------------- */

static const struct sa_package *ctx_mech(void *xv, unsigned long *state)
{
	struct nego_ctx *x = xv;
	if (x->done)
		*state = SECPKG_NEGOTIATION_COMPLETE;
	else if (x->client && !x->answered)
		*state = SECPKG_NEGOTIATION_OPTIMISTIC;
	else
		*state = SECPKG_NEGOTIATION_IN_PROGRESS;
	return x->mech;
}

/* The mechanism of a done context (attributes and messages wait for it). */
#define DONE_MECH(x)                                                                           \
	do {                                                                                   \
		if (!(x)->done)                                                                \
			return SEC_E_OUT_OF_SEQUENCE;                                          \
	} while (0)

static int32_t ctx_names(void *xv, char **user)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	return x->mech->ctx_names(x->mech_ctx, user);
}

static int32_t ctx_lifespan(void *xv, int64_t *start, int64_t *expiry)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	return x->mech->ctx_lifespan(x->mech_ctx, start, expiry);
}

static int32_t ctx_native_names(void *xv, char **client, char **server)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	return x->mech->ctx_native_names != NULL
		       ? x->mech->ctx_native_names(x->mech_ctx, client, server)
		       : SEC_E_UNSUPPORTED_FUNCTION;
}

static int32_t ctx_session_key(void *xv, unsigned char key[32], size_t *len)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	return x->mech->ctx_session_key != NULL ? x->mech->ctx_session_key(x->mech_ctx, key, len)
						: SEC_E_UNSUPPORTED_FUNCTION;
}

static int32_t ctx_sizes(void *xv, unsigned long *sig, unsigned long *block, unsigned long *trailer)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	if (x->mech->ctx_sizes != NULL && x->mech->ctx_sizes(x->mech_ctx, sig, block, trailer) == SEC_E_OK)
		return SEC_E_OK;
	*sig = x->mech->max_signature;
	*block = x->mech->block_size;
	*trailer = x->mech->security_trailer;
	return SEC_E_OK;
}

static int32_t make_signature(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	return x->mech->make_signature(x->mech_ctx, qop, msg, seqno);
}

static int32_t verify_signature(void *xv, SecBufferDesc *msg, unsigned long seqno,
				unsigned long *qop)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	return x->mech->verify_signature(x->mech_ctx, msg, seqno, qop);
}

static int32_t encrypt_msg(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	return x->mech->encrypt(x->mech_ctx, qop, msg, seqno);
}

static int32_t decrypt_msg(void *xv, SecBufferDesc *msg, unsigned long seqno, unsigned long *qop)
{
	struct nego_ctx *x = xv;
	DONE_MECH(x);
	return x->mech->decrypt(x->mech_ctx, msg, seqno, qop);
}

const struct sa_package sa__negotiate = {
	.name = "Negotiate",
	.comment = "Microsoft Package Negotiator",
	.caps = 0x00083BB3, /* Microsoft's value: integrity, privacy, connection, multi-leg,
			     * extended error, impersonation, Win32 names, negotiable, logon,
			     * restricted tokens */
	.version = 1,
	.rpcid = 9, /* RPC_C_AUTHN_GSS_NEGOTIATE */
	.max_token = SA_NEGO_MAX_TOKEN,
	.max_signature = 28, /* before a mechanism is chosen: Kerberos' (ctx_sizes: the chosen one's) */
	.block_size = 1,
	.security_trailer = 60,
	.cred_acquire = cred_acquire,
	.cred_free = cred_free,
	.cred_name = cred_name,
	.init_leg = sa__nego_init_leg,
	.accept_leg = sa__nego_accept_leg,
	.ctx_delete = sa__nego_ctx_delete,
	.ctx_names = ctx_names,
	.ctx_lifespan = ctx_lifespan,
	.ctx_native_names = ctx_native_names,
	.ctx_session_key = ctx_session_key,
	.ctx_sizes = ctx_sizes,
	.ctx_mech = ctx_mech,
	.cred_set_lookup = cred_set_lookup,
	.make_signature = make_signature,
	.verify_signature = verify_signature,
	.encrypt = encrypt_msg,
	.decrypt = decrypt_msg,
};
