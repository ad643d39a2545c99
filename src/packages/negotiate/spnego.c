/*
 * src/packages/negotiate/spnego.c - SPNEGO tokens in DER, by hand.
 *
 * No ASN.1 library and no allocation: the decoders walk the token with one
 * TLV reader (der_next, strict DER: one-byte tags, definite lengths in
 * their shortest form of at most 3 bytes) following spnego.asn's grammar,
 * and point into the input; the encoders size every TLV first, then write
 * into the caller's buffer front to back.  The libtasn1 reading this
 * replaced is test/spnego_tasn1.c, the oracle check_spnego and
 * fuzz/spnego_fuzz.c compare it with.  Invariants: spnego.h, above struct
 * sa_spnego_init.
 */
#include "packages/negotiate/spnego.h"

#include <string.h>

/* The OID contents of spnego.h, and SPNEGO's own (1.3.6.1.5.5.2). */
static const uint8_t oid_krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_krb5_ms[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_ntlm[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t oid_spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};

const struct sa_spnego_buf sa__spnego_oid_krb5 = {oid_krb5, sizeof oid_krb5};
const struct sa_spnego_buf sa__spnego_oid_krb5_ms = {oid_krb5_ms, sizeof oid_krb5_ms};
const struct sa_spnego_buf sa__spnego_oid_ntlm = {oid_ntlm, sizeof oid_ntlm};

/* The tags of spnego.asn (all EXPLICIT: [n] is context-specific constructed). */
enum {
	T_BIT_STRING = 0x03,
	T_OCTET_STRING = 0x04,
	T_OID = 0x06,
	T_ENUMERATED = 0x0a,
	T_GENERAL_STRING = 0x1b,
	T_SEQUENCE = 0x30,
	T_FRAMING = 0x60, /* [APPLICATION 0] IMPLICIT SEQUENCE */
	T_CTX = 0xa0,     /* [0]; [n] is T_CTX + n */
};

/* ---- reading DER ------------------------------------------------------------------ */

/* Bytes not read yet. */
struct der {
	const uint8_t *p;
	size_t n;
};

/*
 * der_next() - Read the TLV at the front of *d: a one-byte tag (not the
 * 0x1f high-tag form), a definite length in its shortest form (short, or
 * 0x81..0x83 with no leading zero byte and a value the shorter forms cannot
 * hold), the content inside *d.  0, *tag, *c set and *d past the TLV; -1
 * (nothing read).  Every decoder reads through this one function.
 */
static int der_next(struct der *d, uint8_t *tag, struct sa_spnego_buf *c)
{
	size_t len, hl = 2;

	if (d->n < 2 || (d->p[0] & 0x1f) == 0x1f)
		return -1;
	len = d->p[1];
	if (len >= 0x80) {
		size_t k = len & 0x7f;
		if (k == 0 || k > 3 || d->n - 2 < k || d->p[2] == 0)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | d->p[2 + i];
		if (len < 0x80)
			return -1;
		hl += k;
	}
	if (len > d->n - hl)
		return -1;
	*tag = d->p[0];
	*c = (struct sa_spnego_buf){d->p + hl, len};
	d->p += hl + len;
	d->n -= hl + len;
	return 0;
}

/* The next TLV, which must carry tag: 0 and its content; -1. */
static int der_take(struct der *d, uint8_t tag, struct sa_spnego_buf *c)
{
	struct der at = *d;
	uint8_t t;

	if (der_next(&at, &t, c) != 0 || t != tag)
		return -1;
	*d = at;
	return 0;
}

/* An EXPLICIT [n]: the next TLV is tag ctx and its content exactly one TLV
 * of tag inner.  0 and the inner content; -1. */
static int der_explicit(struct der *d, uint8_t ctx, uint8_t inner, struct sa_spnego_buf *c)
{
	struct sa_spnego_buf w;
	struct der in;

	if (der_take(d, ctx, &w) != 0)
		return -1;
	in = (struct der){w.p, w.len};
	return der_take(&in, inner, c) == 0 && in.n == 0 ? 0 : -1;
}

/* An OPTIONAL EXPLICIT field: absent ({NULL, 0}, 0) when the next TLV's
 * tag is not ctx (or nothing is left); else as der_explicit(). */
static int der_optional(struct der *d, uint8_t ctx, uint8_t inner, struct sa_spnego_buf *c)
{
	*c = (struct sa_spnego_buf){NULL, 0};
	if (d->n == 0 || d->p[0] != ctx)
		return 0;
	return der_explicit(d, ctx, inner, c);
}

/* I3: DER OID content, at most SA_SPNEGO_MAX_OID bytes, every subidentifier
 * at most 8 bytes (56 bits: what the oracle's libtasn1 arcs hold). */
static int oid_ok(const uint8_t *p, size_t n)
{
	size_t run = 0;

	if (p == NULL || n == 0 || n > SA_SPNEGO_MAX_OID || p[n - 1] & 0x80)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (run == 0 && p[i] == 0x80)
			return 0;
		run = p[i] & 0x80 ? run + 1 : 0;
		if (run >= 8)
			return 0;
	}
	return 1;
}

static int buf_is(struct sa_spnego_buf b, const uint8_t *want, size_t wn)
{
	return b.len == wn && memcmp(b.p, want, wn) == 0;
}

/* ---- telling tokens apart --------------------------------------------------------- */

enum sa_spnego_kind sa__spnego_sniff(const uint8_t *in, size_t n)
{
	static const uint8_t ntlmssp[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
	struct sa_spnego_buf oid;
	struct der d;
	uint8_t tag;

	if (in == NULL || n == 0)
		return SA_SPNEGO_UNKNOWN;
	if (n >= sizeof ntlmssp && memcmp(in, ntlmssp, sizeof ntlmssp) == 0)
		return SA_SPNEGO_RAW_NTLM;
	if (in[0] == 0xa1)
		return SA_SPNEGO_RESP;
	/* 0x60 framing: its length may say more than the bytes at hand (a
	 * sniff reads a prefix); the OID must be inside them. */
	if (in[0] != T_FRAMING || n < 2)
		return SA_SPNEGO_UNKNOWN;
	size_t hl;
	if (in[1] < 0x80)
		hl = 2;
	else if (in[1] == 0x80 || in[1] > 0x83)
		return SA_SPNEGO_UNKNOWN; /* indefinite, or over 3 length bytes */
	else
		hl = 2 + (size_t)(in[1] & 0x7f);
	if (hl >= n)
		return SA_SPNEGO_UNKNOWN;
	d = (struct der){in + hl, n - hl};
	if (der_next(&d, &tag, &oid) != 0 || tag != T_OID)
		return SA_SPNEGO_UNKNOWN;
	if (buf_is(oid, oid_spnego, sizeof oid_spnego))
		return d.n > 0 && d.p[0] == T_CTX ? SA_SPNEGO_INIT : SA_SPNEGO_UNKNOWN;
	if (buf_is(oid, oid_krb5, sizeof oid_krb5) || buf_is(oid, oid_krb5_ms, sizeof oid_krb5_ms))
		return SA_SPNEGO_RAW_KRB5;
	return SA_SPNEGO_UNKNOWN;
}

/* ---- decoding ------------------------------------------------------------------ */

/*
 * The limits: an input of at most SA_SPNEGO_MAX_TOKEN bytes (I5) and a
 * MechTypeList of at most SA_SPNEGO_MAX_LIST OIDs (I3).  Nesting needs no
 * limit: the decoders follow the grammar without recursion, so no token
 * nests deeper than spnego.asn does (7: 60 a0 30 a3 30 a0 1b), and any TLV
 * the grammar does not name is refused where it stands.
 */

/* A BIT STRING's content in DER: the unused-bit count 0..7, 0 when there
 * is no bit, and those unused bits zero.  Absent (p NULL) is fine. */
static int bits_ok(struct sa_spnego_buf b)
{
	if (b.p == NULL)
		return 1;
	if (b.len == 0 || b.p[0] > 7 || (b.len == 1 && b.p[0] != 0))
		return 0;
	return (b.p[b.len - 1] & ((1u << b.p[0]) - 1)) == 0;
}

/* [0] MechTypeList: I3 for every OID, the first SA_SPNEGO_MAX_MECHS into
 * out, the list's TLV (I4) into out->mech_types.  0 or -1. */
static int mech_list(struct der *d, struct sa_spnego_init *out)
{
	struct sa_spnego_buf w, list, oid;
	struct der in, l;
	size_t count = 0;

	if (der_take(d, T_CTX, &w) != 0)
		return -1; /* mechTypes is required (RFC 4178 4.2.1) */
	in = (struct der){w.p, w.len};
	if (der_take(&in, T_SEQUENCE, &list) != 0 || in.n != 0 || list.len == 0)
		return -1;
	l = (struct der){list.p, list.len};
	out->n_mechs = 0;
	while (l.n > 0) {
		if (der_take(&l, T_OID, &oid) != 0 || !oid_ok(oid.p, oid.len) ||
		    ++count > SA_SPNEGO_MAX_LIST)
			return -1;
		if (out->n_mechs < SA_SPNEGO_MAX_MECHS)
			out->mechs[out->n_mechs++] = oid;
	}
	out->mech_types = w;
	return 0;
}

/* [3] NegHints of NegTokenInit2 ([MS-SPNG] 2.2.1): checked, ignored. */
static int neg_hints(struct sa_spnego_buf seq)
{
	struct der d = {seq.p, seq.len};
	struct sa_spnego_buf name, addr;

	if (der_optional(&d, T_CTX + 0, T_GENERAL_STRING, &name) != 0 ||
	    der_optional(&d, T_CTX + 1, T_OCTET_STRING, &addr) != 0)
		return -1;
	return d.n == 0 ? 0 : -1;
}

/*
 * The SEQUENCE of NegTokenInit ([0] mechTypes, [1] reqFlags, [2] mechToken,
 * [3] mechListMIC) or of NegTokenInit2 ([3] negHints, [4] mechListMIC),
 * told apart by what [3] holds: an OCTET STRING (NegTokenInit, no [4]
 * after it) or a SEQUENCE (NegHints).  0 or -1.
 */
static int neg_token_init(struct sa_spnego_buf seq, struct sa_spnego_init *out)
{
	struct der d = {seq.p, seq.len};
	struct sa_spnego_buf flags, w;

	if (mech_list(&d, out) != 0 || der_optional(&d, T_CTX + 1, T_BIT_STRING, &flags) != 0 ||
	    !bits_ok(flags) || der_optional(&d, T_CTX + 2, T_OCTET_STRING, &out->mech_token) != 0)
		return -1;
	out->mic = (struct sa_spnego_buf){NULL, 0};
	if (d.n > 0 && d.p[0] == T_CTX + 3) {
		struct der peek = d;
		uint8_t t;
		if (der_next(&peek, &t, &w) != 0 || w.len == 0)
			return -1;
		if (w.p[0] == T_OCTET_STRING) { /* NegTokenInit's mechListMIC: the last field */
			if (der_explicit(&d, T_CTX + 3, T_OCTET_STRING, &out->mic) != 0)
				return -1;
			return d.n == 0 ? 0 : -1;
		}
		if (der_explicit(&d, T_CTX + 3, T_SEQUENCE, &w) != 0 || neg_hints(w) != 0)
			return -1;
	}
	if (der_optional(&d, T_CTX + 4, T_OCTET_STRING, &out->mic) != 0)
		return -1;
	return d.n == 0 ? 0 : -1;
}

int sa__spnego_decode_init(const uint8_t *in, size_t n, struct sa_spnego_init *out)
{
	struct sa_spnego_init r = {0};
	struct sa_spnego_buf c, mech, seq;
	struct der d = {in, n}, f;

	if (in == NULL || out == NULL || n == 0 || n > SA_SPNEGO_MAX_TOKEN)
		return -1;
	/* 60 len { 06 SPNEGO-OID, a0 len { 30 len ... } }, nothing after. */
	if (der_take(&d, T_FRAMING, &c) != 0 || d.n != 0)
		return -1;
	f = (struct der){c.p, c.len};
	if (der_take(&f, T_OID, &mech) != 0 || !buf_is(mech, oid_spnego, sizeof oid_spnego))
		return -1;
	if (der_explicit(&f, T_CTX, T_SEQUENCE, &seq) != 0 || f.n != 0)
		return -1;
	if (neg_token_init(seq, &r) != 0)
		return -1;
	*out = r;
	return 0;
}

int sa__spnego_decode_resp(const uint8_t *in, size_t n, struct sa_spnego_resp *out)
{
	struct sa_spnego_resp r = {.neg_state = SA_SPNEGO_NO_STATE};
	struct sa_spnego_buf seq, st;
	struct der d = {in, n}, s;

	if (in == NULL || out == NULL || n == 0 || n > SA_SPNEGO_MAX_TOKEN)
		return -1;
	/* a1 len { 30 len { [0] 0a, [1] 06, [2] 04, [3] 04 } }, nothing after. */
	if (der_explicit(&d, T_CTX + 1, T_SEQUENCE, &seq) != 0 || d.n != 0)
		return -1;
	s = (struct der){seq.p, seq.len};
	if (der_optional(&s, T_CTX + 0, T_ENUMERATED, &st) != 0)
		return -1;
	if (st.p != NULL) {
		/* One content byte, 0..3: the four named values. */
		if (st.len != 1 || st.p[0] > SA_SPNEGO_REQUEST_MIC)
			return -1;
		r.neg_state = st.p[0];
	}
	if (der_optional(&s, T_CTX + 1, T_OID, &r.mech) != 0 ||
	    (r.mech.p != NULL && !oid_ok(r.mech.p, r.mech.len)) ||
	    der_optional(&s, T_CTX + 2, T_OCTET_STRING, &r.token) != 0 ||
	    der_optional(&s, T_CTX + 3, T_OCTET_STRING, &r.mic) != 0 || s.n != 0)
		return -1;
	*out = r;
	return 0;
}

/* ---- encoding ------------------------------------------------------------------ */

/* The size of a TLV with content of len bytes (one-byte tag, shortest length). */
static size_t tlv_size(size_t len)
{
	size_t hl = 2;

	if (len >= 0x80)
		for (size_t v = len; v > 0; v >>= 8)
			hl++;
	return hl + len;
}

/* An EXPLICIT [n] around a TLV of content len: its whole size. */
static size_t wrapped_size(size_t len)
{
	return tlv_size(tlv_size(len));
}

/* An optional field's size, [n] and inner TLV included: 0 when absent. */
static size_t opt_size(struct sa_spnego_buf b)
{
	return b.p == NULL ? 0 : wrapped_size(b.len);
}

/* A tag and the shortest length of len at o; the byte after them. */
static uint8_t *put_hdr(uint8_t *o, uint8_t tag, size_t len)
{
	size_t k = tlv_size(len) - len - 2; /* long-form length bytes */

	*o++ = tag;
	if (k == 0) {
		*o++ = (uint8_t)len;
		return o;
	}
	*o++ = (uint8_t)(0x80 | k);
	for (size_t i = k; i > 0; i--)
		*o++ = (uint8_t)(len >> (8 * (i - 1)));
	return o;
}

/* A whole TLV of tag around the bytes of b; the byte after it. */
static uint8_t *put_tlv(uint8_t *o, uint8_t tag, struct sa_spnego_buf b)
{
	o = put_hdr(o, tag, b.len);
	if (b.len > 0)
		memcpy(o, b.p, b.len);
	return o + b.len;
}

/* An optional [ctx] { tag b }: nothing when b is absent. */
static uint8_t *put_opt(uint8_t *o, uint8_t ctx, uint8_t tag, struct sa_spnego_buf b)
{
	if (b.p == NULL)
		return o;
	return put_tlv(put_hdr(o, ctx, tlv_size(b.len)), tag, b);
}

/* The MechTypeList's content size (I3 for every OID); 0: invalid. */
static size_t mechs_size(const struct sa_spnego_buf *mechs, size_t n_mechs)
{
	size_t len = 0;

	if (mechs == NULL || n_mechs == 0 || n_mechs > SA_SPNEGO_MAX_MECHS)
		return 0;
	for (size_t i = 0; i < n_mechs; i++) {
		if (!oid_ok(mechs[i].p, mechs[i].len))
			return 0;
		len += tlv_size(mechs[i].len);
	}
	return len;
}

/* The MechTypeList (content size len) at o; the byte after it. */
static uint8_t *put_mechs(uint8_t *o, const struct sa_spnego_buf *mechs, size_t n_mechs,
			  size_t len)
{
	o = put_hdr(o, T_SEQUENCE, len);
	for (size_t i = 0; i < n_mechs; i++)
		o = put_tlv(o, T_OID, mechs[i]);
	return o;
}

/* An optional OCTET STRING argument: absent, or at most SA_SPNEGO_MAX_TOKEN. */
static int octets_ok(struct sa_spnego_buf b)
{
	return b.p == NULL || b.len <= SA_SPNEGO_MAX_TOKEN;
}

/* Every encoder's last step: the token's size need checked against
 * SA_SPNEGO_MAX_TOKEN (-3) and the room (-1, *len = need); 0: write. */
static int room(size_t need, uint8_t *out, size_t cap, size_t *len)
{
	if (need > SA_SPNEGO_MAX_TOKEN)
		return -3;
	if (out == NULL || cap < need) {
		*len = need;
		return -1;
	}
	*len = need;
	return 0;
}

int sa__spnego_encode_mech_types(const struct sa_spnego_buf *mechs, size_t n_mechs, uint8_t *out,
				size_t cap, size_t *len)
{
	size_t ml = mechs_size(mechs, n_mechs);

	if (len == NULL || ml == 0)
		return -3;
	int r = room(tlv_size(ml), out, cap, len);
	if (r == 0)
		put_mechs(out, mechs, n_mechs, ml);
	return r;
}

int sa__spnego_encode_init(const struct sa_spnego_buf *mechs, size_t n_mechs,
			  struct sa_spnego_buf mech_token, struct sa_spnego_buf mic, uint8_t *out,
			  size_t cap, size_t *len)
{
	size_t ml = mechs_size(mechs, n_mechs);

	if (len == NULL || ml == 0 || !octets_ok(mech_token) || !octets_ok(mic))
		return -3;
	/* 60 { 06 SPNEGO, a0 { 30 { a0 { 30 mechs }, [a2 { 04 }], [a3 { 04 }] } } } */
	size_t seq = wrapped_size(ml) + opt_size(mech_token) + opt_size(mic);
	size_t inner = tlv_size(sizeof oid_spnego) + wrapped_size(seq);
	int r = room(tlv_size(inner), out, cap, len);
	if (r != 0)
		return r;
	uint8_t *o = put_hdr(out, T_FRAMING, inner);
	o = put_tlv(o, T_OID, (struct sa_spnego_buf){oid_spnego, sizeof oid_spnego});
	o = put_hdr(put_hdr(o, T_CTX, tlv_size(seq)), T_SEQUENCE, seq);
	o = put_mechs(put_hdr(o, T_CTX, tlv_size(ml)), mechs, n_mechs, ml);
	o = put_opt(o, T_CTX + 2, T_OCTET_STRING, mech_token);
	put_opt(o, T_CTX + 3, T_OCTET_STRING, mic);
	return 0;
}

int sa__spnego_encode_resp(int neg_state, struct sa_spnego_buf mech, struct sa_spnego_buf token,
			  struct sa_spnego_buf mic, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t st = (uint8_t)neg_state;
	int has_state = neg_state != SA_SPNEGO_NO_STATE;
	struct sa_spnego_buf state = {has_state ? &st : NULL, has_state ? 1 : 0};

	if (len == NULL || neg_state < SA_SPNEGO_NO_STATE || neg_state > SA_SPNEGO_REQUEST_MIC ||
	    (mech.p != NULL && !oid_ok(mech.p, mech.len)) || !octets_ok(token) || !octets_ok(mic))
		return -3;
	/* a1 { 30 { [a0 { 0a }], [a1 { 06 }], [a2 { 04 }], [a3 { 04 }] } } */
	size_t seq = opt_size(state) + opt_size(mech) + opt_size(token) + opt_size(mic);
	int r = room(wrapped_size(seq), out, cap, len);
	if (r != 0)
		return r;
	uint8_t *o = put_hdr(put_hdr(out, T_CTX + 1, tlv_size(seq)), T_SEQUENCE, seq);
	o = put_opt(o, T_CTX + 0, T_ENUMERATED, state);
	o = put_opt(o, T_CTX + 1, T_OID, mech);
	o = put_opt(o, T_CTX + 2, T_OCTET_STRING, token);
	put_opt(o, T_CTX + 3, T_OCTET_STRING, mic);
	return 0;
}
