/*
 * src/packages/krb5/krb5.c - the "Kerberos" package: its table, contexts,
 * legs and attributes, over MIT's GSSAPI krb5 mechanism.
 *
 * Flow (RFC 4121; mutual authentication requested):
 *   initiator: leg 1 -> AP-REQ, SEC_I_CONTINUE_NEEDED; leg 2 (AP-REP in) -> SEC_E_OK
 *   acceptor:  leg 1 (AP-REQ in) -> AP-REP, SEC_E_OK
 * Without ISC_REQ_MUTUAL_AUTH the initiator's first leg is its last.
 *
 * A first leg that fails deletes what GSS made and leaves no context; a
 * later leg that fails leaves the GSS context for ctx_delete (the library's
 * table has the context REJECTED).  A first leg whose token does not fit
 * the caller's room is undone the same way and answers
 * SEC_E_BUFFER_TOO_SMALL: for the initiator the retry makes a new AP-REQ;
 * an acceptor's retry with the same AP-REQ meets the replay cache (README).
 */
#include "packages/krb5/krb5_pkg.h"
#include "util/alloc.h"
#include "util/filetime.h"

#include <string.h>
#include <time.h>

gss_OID_desc sa__krb5_mech_oid = {9, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
gss_OID_set_desc sa__krb5_mech_set = {1, &sa__krb5_mech_oid};

int64_t sa__krb5_expiry(OM_uint32 seconds)
{
	if (seconds == GSS_C_INDEFINITE)
		return SA_KRB5_NEVER;
	return sa__filetime_now() + (int64_t)seconds * 10000000;
}

/* ---- flags ----------------------------------------------------------------------- */

/* ISC_REQ_/ASC_REQ_ and ISC_RET_/ASC_RET_ share these bits below 0x20; integrity differs. */
static const struct {
	unsigned long sspi;
	OM_uint32 gss;
} flag_map[] = {
	{ISC_REQ_DELEGATE, GSS_C_DELEG_FLAG},
	{ISC_REQ_MUTUAL_AUTH, GSS_C_MUTUAL_FLAG},
	{ISC_REQ_REPLAY_DETECT, GSS_C_REPLAY_FLAG},
	{ISC_REQ_SEQUENCE_DETECT, GSS_C_SEQUENCE_FLAG},
	{ISC_REQ_CONFIDENTIALITY, GSS_C_CONF_FLAG},
};

static OM_uint32 gss_flags(unsigned long req, int client)
{
	OM_uint32 g = 0;
	for (size_t i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++)
		if (req & flag_map[i].sspi)
			g |= flag_map[i].gss;
	if (req & (client ? ISC_REQ_INTEGRITY : ASC_REQ_INTEGRITY))
		g |= GSS_C_INTEG_FLAG;
	return g;
}

/* What GSS granted, as ISC_RET_/ASC_RET_: mutual and delegation as GSS
 * says; integrity, confidentiality, replay and sequence detection when also
 * asked for (GSS grants them whether asked or not); connection when asked. */
static unsigned long ret_flags(OM_uint32 got, unsigned long req, int client)
{
	unsigned long integ = client ? ISC_RET_INTEGRITY : ASC_RET_INTEGRITY;
	unsigned long r = 0;
	for (size_t i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++)
		if (got & flag_map[i].gss)
			r |= flag_map[i].sspi;
	if (got & GSS_C_INTEG_FLAG)
		r |= integ;
	/* Each of these RET bits is its REQ bit, on either side. */
	r &= (req & (integ | ISC_REQ_CONFIDENTIALITY | ISC_REQ_REPLAY_DETECT |
		     ISC_REQ_SEQUENCE_DETECT)) |
	     ISC_RET_MUTUAL_AUTH | ISC_RET_DELEGATE;
	return r | (req & ISC_REQ_CONNECTION);
}

/* ---- channel bindings -------------------------------------------------------------- */

/* The caller's SEC_CHANNEL_BINDINGS as GSS's struct (pointing into b);
 * 0, or -1 when a blob lies outside the buffer. */
static int bindings(const unsigned char *b, size_t n, struct gss_channel_bindings_struct *cb)
{
	SEC_CHANNEL_BINDINGS h;
	if (n < sizeof h)
		return -1;
	memcpy(&h, b, sizeof h);
	const unsigned long len[3] = {h.cbInitiatorLength, h.cbAcceptorLength,
				      h.cbApplicationDataLength};
	const unsigned long off[3] = {h.dwInitiatorOffset, h.dwAcceptorOffset,
				      h.dwApplicationDataOffset};
	gss_buffer_desc *dst[3] = {&cb->initiator_address, &cb->acceptor_address,
				   &cb->application_data};
	for (int i = 0; i < 3; i++) {
		if (len[i] != 0 && (off[i] > n || len[i] > n - off[i]))
			return -1;
		dst[i]->length = len[i];
		dst[i]->value = len[i] != 0 ? (void *)(b + off[i]) : NULL;
	}
	cb->initiator_addrtype = (OM_uint32)h.dwInitiatorAddrType;
	cb->acceptor_addrtype = (OM_uint32)h.dwAcceptorAddrType;
	return 0;
}

/* ---- contexts ------------------------------------------------------------------------ */

static void ctx_delete(void *xv)
{
	struct krb5_ctx *x = xv;
	OM_uint32 min;
	if (x->g != GSS_C_NO_CONTEXT)
		(void)gss_delete_sec_context(&min, &x->g, GSS_C_NO_BUFFER);
	if (x->target != GSS_C_NO_NAME)
		(void)gss_release_name(&min, &x->target);
	sa__free(x);
}

/* A SPN "service/host[@REALM]" is the host-based name service@host when it
 * names no realm (krb5.conf's domain_realm picks it), else a principal;
 * anything else ("user@REALM") is a principal too. */
static int32_t import_target(const char *t, gss_name_t *out)
{
	OM_uint32 maj, min;
	const char *slash = strchr(t, '/');
	char buf[512];
	gss_buffer_desc b = {strlen(t), (void *)t};
	gss_OID type = GSS_KRB5_NT_PRINCIPAL_NAME;
	if (slash != NULL && strchr(t, '@') == NULL) {
		if (b.length >= sizeof buf)
			return SEC_E_TARGET_UNKNOWN;
		memcpy(buf, t, b.length + 1);
		buf[slash - t] = '@';
		b.value = buf;
		type = GSS_C_NT_HOSTBASED_SERVICE;
	}
	maj = gss_import_name(&min, &b, type, out);
	return GSS_ERROR(maj) ? sa__krb5_fail("gss_import_name", maj, min, SEC_E_TARGET_UNKNOWN)
			      : SEC_E_OK;
}

/* Copy GSS's output token to the leg and free it: SEC_E_OK, or
 * SEC_E_BUFFER_TOO_SMALL (nothing written). */
static int32_t put_token(struct sa_pkg_leg *leg, gss_buffer_desc *tok)
{
	OM_uint32 min;
	int32_t st = SEC_E_OK;
	leg->out_len = 0;
	if (tok->length > leg->out_cap)
		st = SEC_E_BUFFER_TOO_SMALL;
	else if (tok->length != 0)
		memcpy(leg->out, tok->value, tok->length);
	if (st == SEC_E_OK)
		leg->out_len = tok->length;
	(void)gss_release_buffer(&min, tok);
	return st;
}

/* After a leg GSS accepted: the outputs, and done when GSS is complete. */
static int32_t leg_end(struct krb5_ctx *x, void **ctxp, struct sa_pkg_leg *leg, OM_uint32 maj,
		       gss_buffer_desc *tok, OM_uint32 got, OM_uint32 seconds)
{
	int first = *ctxp == NULL;
	int32_t st = put_token(leg, tok);
	if (st != SEC_E_OK) {
		if (first)
			ctx_delete(x);
		return st;
	}
	leg->attrs = ret_flags(got, leg->req, x->client);
	leg->expiry = sa__krb5_expiry(seconds);
	*ctxp = x;
	if (maj & GSS_S_CONTINUE_NEEDED)
		return SEC_I_CONTINUE_NEEDED;
	x->done = 1;
	x->start = sa__filetime_now();
	x->expiry = leg->expiry;
	return SEC_E_OK;
}

/* A failed GSS call in a leg: undo a first leg's context; the status.  A
 * peer's token GSS could not take (a decode error, a mechanism OID that
 * is not krb5's) is SEC_E_INVALID_TOKEN, whatever minor code says so. */
static int32_t leg_fail(struct krb5_ctx *x, void **ctxp, const struct sa_pkg_leg *leg,
			const char *what, OM_uint32 maj, OM_uint32 min)
{
	int32_t st = sa__krb5_fail(what, maj, min, SEC_E_INTERNAL_ERROR);
	if (leg->in_len != 0 && (st == SEC_E_INTERNAL_ERROR || st == SEC_E_UNSUPPORTED_FUNCTION))
		st = SEC_E_INVALID_TOKEN;
	if (*ctxp == NULL)
		ctx_delete(x);
	return st;
}

static int32_t leg_prepare(struct krb5_cred *c, void **ctxp, struct sa_pkg_leg *leg, int client,
			   struct krb5_ctx **xp, struct gss_channel_bindings_struct *cb,
			   gss_channel_bindings_t *cbp)
{
	struct krb5_ctx *x = *ctxp;
	*cbp = GSS_C_NO_CHANNEL_BINDINGS;
	if (leg->bindings != NULL) {
		if (bindings(leg->bindings, leg->bindings_len, cb) != 0)
			return SEC_E_INVALID_TOKEN;
		*cbp = cb;
	}
	if (x != NULL) {
		*xp = x;
		return x->done ? SEC_E_OUT_OF_SEQUENCE : SEC_E_OK;
	}
	if (client ? leg->target == NULL || leg->target[0] == '\0' : leg->in_len == 0)
		return client ? SEC_E_TARGET_UNKNOWN : SEC_E_INVALID_TOKEN;
	if ((x = sa__calloc(1, sizeof *x)) == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	x->cred = c;
	x->client = client;
	x->g = GSS_C_NO_CONTEXT;
	x->target = GSS_C_NO_NAME;
	int32_t st = client ? import_target(leg->target, &x->target) : SEC_E_OK;
	if (st != SEC_E_OK) {
		ctx_delete(x);
		return st;
	}
	*xp = x;
	return SEC_E_OK;
}

static int32_t init_leg(void *cv, void **ctxp, struct sa_pkg_leg *leg)
{
	struct krb5_cred *c = cv;
	struct krb5_ctx *x;
	struct gss_channel_bindings_struct cbs;
	gss_channel_bindings_t cb;
	int32_t st = leg_prepare(c, ctxp, leg, 1, &x, &cbs, &cb);
	if (st != SEC_E_OK)
		return st;
	gss_cred_id_t gc;
	if ((st = sa__krb5_cred_initiator(c, &gc)) != SEC_E_OK) {
		if (*ctxp == NULL)
			ctx_delete(x);
		return st;
	}
	OM_uint32 maj, min, junk, got = 0, seconds = 0;
	gss_buffer_desc in = {leg->in_len, (void *)leg->in}, out = GSS_C_EMPTY_BUFFER;
	maj = gss_init_sec_context(&min, gc, &x->g, x->target, &sa__krb5_mech_oid,
				   gss_flags(leg->req, 1), 0, cb, leg->in_len != 0 ? &in : GSS_C_NO_BUFFER,
				   NULL, &out, &got, &seconds);
	if (GSS_ERROR(maj)) {
		(void)gss_release_buffer(&junk, &out);
		return leg_fail(x, ctxp, leg, "gss_init_sec_context", maj, min);
	}
	return leg_end(x, ctxp, leg, maj, &out, got, seconds);
}

static int32_t accept_leg(void *cv, void **ctxp, struct sa_pkg_leg *leg)
{
	struct krb5_cred *c = cv;
	struct krb5_ctx *x;
	struct gss_channel_bindings_struct cbs;
	gss_channel_bindings_t cb;
	if (!(c->use & SECPKG_CRED_INBOUND))
		return SEC_E_NO_CREDENTIALS;
	int32_t st = leg_prepare(c, ctxp, leg, 0, &x, &cbs, &cb);
	if (st != SEC_E_OK)
		return st;
	OM_uint32 maj, min, junk, got = 0, seconds = 0;
	gss_cred_id_t deleg = GSS_C_NO_CREDENTIAL;
	gss_buffer_desc in = {leg->in_len, (void *)leg->in}, out = GSS_C_EMPTY_BUFFER;
	maj = gss_accept_sec_context(&min, &x->g, c->accept, &in, cb, NULL, NULL, &out, &got,
				     &seconds, &deleg);
	if (deleg != GSS_C_NO_CREDENTIAL) /* no impersonation here: ASC_RET_DELEGATE says it came */
		(void)gss_release_cred(&junk, &deleg);
	if (GSS_ERROR(maj)) {
		(void)gss_release_buffer(&junk, &out);
		return leg_fail(x, ctxp, leg, "gss_accept_sec_context", maj, min);
	}
	if ((maj & GSS_S_CONTINUE_NEEDED) && out.length == 0) {
		/* A krb5 acceptor is done in one leg; "continue" with nothing to
		 * send (a damaged token GSS took for another flow) is refused. */
		(void)gss_release_buffer(&junk, &out);
		return leg_fail(x, ctxp, leg, "gss_accept_sec_context (continue, no token)",
				GSS_S_DEFECTIVE_TOKEN, 0);
	}
	return leg_end(x, ctxp, leg, maj, &out, got, seconds);
}

/* ---- attributes ------------------------------------------------------------------------ */

/* A GSS name's display form, sa__malloc'd. */
static int32_t name_text(gss_name_t n, char **out)
{
	OM_uint32 maj, min;
	gss_buffer_desc s = GSS_C_EMPTY_BUFFER;
	maj = gss_display_name(&min, n, &s, NULL);
	if (GSS_ERROR(maj))
		return sa__krb5_fail("gss_display_name", maj, min, SEC_E_INTERNAL_ERROR);
	*out = sa__malloc(s.length + 1);
	if (*out != NULL) {
		memcpy(*out, s.value, s.length);
		(*out)[s.length] = '\0';
	}
	(void)gss_release_buffer(&min, &s);
	return *out != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

/* The initiator's (and the acceptor's) principal of a done context. */
static int32_t ctx_principals(struct krb5_ctx *x, char **client, char **server)
{
	OM_uint32 maj, min;
	gss_name_t src = GSS_C_NO_NAME, targ = GSS_C_NO_NAME;
	if (!x->done)
		return SEC_E_OUT_OF_SEQUENCE;
	maj = gss_inquire_context(&min, x->g, &src, server != NULL ? &targ : NULL, NULL, NULL, NULL,
				  NULL, NULL);
	if (GSS_ERROR(maj))
		return sa__krb5_fail("gss_inquire_context", maj, min, SEC_E_INTERNAL_ERROR);
	int32_t st = name_text(src, client);
	if (st == SEC_E_OK && server != NULL && (st = name_text(targ, server)) != SEC_E_OK) {
		sa__free(*client);
		*client = NULL;
	}
	(void)gss_release_name(&min, &src);
	if (targ != GSS_C_NO_NAME)
		(void)gss_release_name(&min, &targ);
	return st;
}

static int32_t ctx_names(void *xv, char **user)
{
	return ctx_principals(xv, user, NULL);
}

static int32_t ctx_native_names(void *xv, char **client, char **server)
{
	return ctx_principals(xv, client, server);
}

static int32_t ctx_lifespan(void *xv, int64_t *start, int64_t *expiry)
{
	struct krb5_ctx *x = xv;
	if (!x->done)
		return SEC_E_OUT_OF_SEQUENCE;
	*start = x->start;
	*expiry = x->expiry;
	return SEC_E_OK;
}

static int32_t ctx_session_key(void *xv, unsigned char key[32], size_t *len)
{
	struct krb5_ctx *x = xv;
	OM_uint32 maj, min;
	gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
	if (!x->done)
		return SEC_E_OUT_OF_SEQUENCE;
	maj = gss_inquire_sec_context_by_oid(&min, x->g, GSS_C_INQ_SSPI_SESSION_KEY, &set);
	if (GSS_ERROR(maj))
		return sa__krb5_fail("gss_inquire_sec_context_by_oid", maj, min, SEC_E_INTERNAL_ERROR);
	int32_t st = SEC_E_INTERNAL_ERROR;
	if (set != GSS_C_NO_BUFFER_SET && set->count >= 1 && set->elements[0].length <= 32) {
		*len = set->elements[0].length;
		memcpy(key, set->elements[0].value, *len);
		st = SEC_E_OK;
	}
	if (set != GSS_C_NO_BUFFER_SET) {
		for (size_t i = 0; i < set->count; i++)
			sa__wipe(set->elements[i].value, set->elements[i].length);
		(void)gss_release_buffer_set(&min, &set);
	}
	return st;
}

/* From the session key's enctype, asking GSS for lengths only: no call
 * here spends a sequence number (a gss_get_mic probe would, and the
 * peer's next verify would see a gap). */
static int32_t ctx_sizes(void *xv, unsigned long *max_signature, unsigned long *block_size,
			 unsigned long *security_trailer)
{
	struct krb5_ctx *x = xv;
	OM_uint32 maj, min;
	if (!x->done)
		return SEC_E_OUT_OF_SEQUENCE;
	gss_iov_buffer_desc mic[1] = {{GSS_IOV_BUFFER_TYPE_MIC_TOKEN, {0, NULL}}};
	maj = gss_get_mic_iov_length(&min, x->g, GSS_C_QOP_DEFAULT, mic, 1);
	if (GSS_ERROR(maj))
		return sa__krb5_fail("gss_get_mic_iov_length", maj, min, SEC_E_INTERNAL_ERROR);
	gss_iov_buffer_desc w[3] = {{GSS_IOV_BUFFER_TYPE_HEADER, {0, NULL}},
				    {GSS_IOV_BUFFER_TYPE_DATA, {1, NULL}},
				    {GSS_IOV_BUFFER_TYPE_PADDING, {0, NULL}}};
	maj = gss_wrap_iov_length(&min, x->g, 1, GSS_C_QOP_DEFAULT, NULL, w, 3);
	if (GSS_ERROR(maj))
		return sa__krb5_fail("gss_wrap_iov_length", maj, min, SEC_E_INTERNAL_ERROR);
	*max_signature = (unsigned long)mic[0].buffer.length;
	*security_trailer = (unsigned long)w[0].buffer.length;
	*block_size = w[2].buffer.length != 0 ? (unsigned long)w[2].buffer.length + 1 : 1;
	return SEC_E_OK;
}

const struct sa_package sa__krb5 = {
	.name = "Kerberos",
	.comment = "Microsoft Kerberos V1.0",
	.caps = 0x000F3BBF, /* Microsoft's value: integrity, privacy, token only, datagram,
			     * connection, multi-leg, extended error, impersonation, Win32
			     * names, negotiable, GSS compatible, logon, mutual auth,
			     * delegation, read-only with checksum, restricted tokens */
	.version = 1,
	.rpcid = 16, /* RPC_C_AUTHN_GSS_KERBEROS */
	.max_token = SA_KRB5_MAX_TOKEN,
	.max_signature = 28, /* AES (RFC 3962/4121); ctx_sizes has the context's own */
	.block_size = 1,
	.security_trailer = 60,
	.cred_acquire = sa__krb5_cred_acquire,
	.cred_free = sa__krb5_cred_free,
	.cred_name = sa__krb5_cred_name,
	.init_leg = init_leg,
	.accept_leg = accept_leg,
	.ctx_delete = ctx_delete,
	.ctx_names = ctx_names,
	.ctx_lifespan = ctx_lifespan,
	.ctx_native_names = ctx_native_names,
	.ctx_session_key = ctx_session_key,
	.ctx_sizes = ctx_sizes,
	.make_signature = sa__krb5_make_signature,
	.verify_signature = sa__krb5_verify_signature,
	.encrypt = sa__krb5_encrypt,
	.decrypt = sa__krb5_decrypt,
};
