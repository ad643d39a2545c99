/*
 * test/spnego_tasn1.c - the SPNEGO codec as libtasn1 reads spnego.asn: the
 * test oracle of src/packages/negotiate/spnego.c (its implementation until
 * the hand-written codec replaced it), held to the same spnego.h contract.
 * check_spnego and fuzz/spnego_fuzz.c run both on every input and require
 * the same answer.  libtasn1 decodes (strict DER) and finds each field's
 * bytes (asn1_der_decoding_startEnd); what it lets through that DER forbids
 * (long-form lengths that fit a shorter form, BIT STRING padding bits, an
 * EXPLICIT tag not holding its field) der_strict and bits_ok catch first.
 * Compiles to nothing without libtasn1 (SA_HAVE_TASN1 undefined).
 */
#include "spnego_tasn1.h"

#ifdef SA_HAVE_TASN1

#include "util/alloc.h"

#include <inttypes.h>
#include <libtasn1.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* spnego_asn1_tab.c, generated from spnego.asn (not built on its own: the
 * Makefile leaves it out of the test library, so it needs no guard). */
#include "spnego_asn1_tab.c"

#define MOD "SPNEGOASNOneSpec."

/* SPNEGO's OID content (1.3.6.1.5.5.2). */
static const uint8_t oid_spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
#define OID_SPNEGO_TEXT "1.3.6.1.5.5.2"


/* ---- the definitions ------------------------------------------------------------ */

/*
 * libtasn1's tree of spnego.asn, parsed by the first call that needs it and
 * shared by all (libtasn1 only reads it: asn1_create_element copies).
 * Not pthread_once: sa_spnego_tasn1_cleanup() frees it at the library's shutdown
 * (the package's unload hook, package.h) and the next call after a
 * re-init parses it again; a parse that failed for lack of memory is
 * tried again by the next call.
 *   NULL     -> tree: the first caller under defs_lock (the others wait
 *               there, then see it); published with release, read with
 *               acquire, so a reader without the lock sees it whole.
 *   tree -> NULL: sa_spnego_tasn1_cleanup() only, when no call runs.
 */
/* A leaf lock, outside async_int.h's LOCK ORDER: held only around
 * asn1_array2tree and the exchange in sa_spnego_cleanup, which take none. */
static pthread_mutex_t defs_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(asn1_node) defs;

/* The tree, parsed if need be; NULL: no memory. */
static asn1_node defs_get(void)
{
	asn1_node t = atomic_load_explicit(&defs, memory_order_acquire);

	if (t != NULL)
		return t;
	pthread_mutex_lock(&defs_lock);
	t = atomic_load_explicit(&defs, memory_order_relaxed);
	if (t == NULL) {
		if (asn1_array2tree(sa__spnego_asn1_tab, &t, NULL) != ASN1_SUCCESS)
			asn1_delete_structure(&t); /* sets t NULL */
		atomic_store_explicit(&defs, t, memory_order_release);
	}
	pthread_mutex_unlock(&defs_lock);
	return t;
}

/* An empty structure of type name (MOD-relative): 0, -2 (no memory). */
static int elem_create(const char *name, asn1_node *e)
{
	asn1_node d = defs_get();

	*e = NULL;
	if (d == NULL)
		return -2;
	int r = asn1_create_element(d, name, e);
	if (r != ASN1_SUCCESS) {
		asn1_delete_structure(e);
		return -2; /* the names are ours: only memory can fail */
	}
	return 0;
}

void sa_spnego_tasn1_cleanup(void)
{
	pthread_mutex_lock(&defs_lock);
	asn1_node t = atomic_exchange_explicit(&defs, NULL, memory_order_acq_rel);
	pthread_mutex_unlock(&defs_lock);
	asn1_delete_structure(&t);
}

/* ---- DER helpers ---------------------------------------------------------------- */

/* The TLV at p (n bytes available): a one-byte tag, a definite length of at
 * most 3 length bytes, the content inside n.  0 and *tag, *c, *cn, *tl (the
 * whole TLV's size); -1 otherwise.  Minimality is not checked here. */
static int tlv(const uint8_t *p, size_t n, uint8_t *tag, const uint8_t **c, size_t *cn,
	       size_t *tl)
{
	size_t len, hl;

	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	if (p[1] < 0x80) {
		len = p[1];
		hl = 2;
	} else {
		size_t k = p[1] & 0x7f;
		if (k == 0 || k > 3 || n - 2 < k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		hl = 2 + k;
	}
	if (len > n - hl)
		return -1;
	*tag = p[0];
	*c = p + hl;
	*cn = len;
	*tl = hl + len;
	return 0;
}

/* I3: DER OID content, at most SA_SPNEGO_MAX_OID bytes, every subidentifier
 * at most 8 bytes (56 bits: what libtasn1's 64-bit arcs hold). */
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

/* The dotted text of valid OID content (libtasn1 takes OIDs as text). */
static void oid_text(const uint8_t *p, size_t n, char *txt, size_t cap)
{
	uint64_t v = 0;
	size_t at = 0;
	int first = 1;

	for (size_t i = 0; i < n; i++) {
		v = v << 7 | (p[i] & 0x7f);
		if (p[i] & 0x80)
			continue;
		if (first) {
			uint64_t x = v < 40 ? 0 : v < 80 ? 1 : 2;
			at += (size_t)snprintf(txt + at, cap - at, "%" PRIu64 ".%" PRIu64, x,
					       v - 40 * x);
			first = 0;
		} else {
			at += (size_t)snprintf(txt + at, cap - at, ".%" PRIu64, v);
		}
		v = 0;
	}
}
/* 30 bytes of 7-bit arcs: at most 4 characters a byte, and the NUL. */
#define OID_TEXT_CAP (4 * SA_SPNEGO_MAX_OID + 8)

/* libtasn1's answer as ours: 0; no memory -2; else fail (-1 or -3). */
static int tasn1_err(int r, int fail)
{
	return r == ASN1_SUCCESS ? 0 : r == ASN1_MEM_ALLOC_ERROR ? -2 : fail;
}

/* ---- decoding ------------------------------------------------------------------ */

/* Decode der (n bytes) as type name into *e (created here; the caller
 * deletes it, whatever the answer): 0, -1 not this type in DER, -2. */
static int der_decode(const char *name, const uint8_t *der, size_t n, asn1_node *e)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	int len = (int)n;
	int r = elem_create(name, e);

	if (r != 0)
		return r;
	/* On failure libtasn1 deletes *e itself and sets it to NULL. */
	r = asn1_der_decoding2(e, der, &len, ASN1_DECODE_FLAG_STRICT_DER, err);
	if (r != ASN1_SUCCESS)
		return tasn1_err(r, -1);
	return len == (int)n ? 0 : -1;
}

/*
 * I1's lengths and nesting, before libtasn1 sees the token: der (n bytes)
 * is one TLV (max 1) or a run of them (max 0), each with a one-byte tag and
 * a definite length in its shortest form; a constructed one's content is
 * such a run, and a context-specific constructed one's ([n], EXPLICIT in
 * spnego.asn) exactly one TLV; at most DER_DEPTH deep (no token of
 * spnego.asn nests deeper than 7: 60 a0 30 a3 30 a0 1b), and no run longer
 * than SA_SPNEGO_MAX_LIST (only a MechTypeList can be longer than 5): so
 * libtasn1, which makes a node for every TLV, makes at most a few hundred
 * (a 63 KB list of 21,000 OIDs took it 12 ms and 5 MB).  0 or -1.
 *
 * libtasn1 4.19 checks neither of the last two: in strict DER mode it reads
 * a1 00 30 00 as [1] around an empty SEQUENCE, the explicit tag's length
 * not holding its content (found by fuzz/spnego_fuzz.c).
 */
#define DER_DEPTH 8
static int der_strict(const uint8_t *p, size_t n, int max, int depth)
{
	int count = 0;

	if (depth > DER_DEPTH)
		return -1;
	while (n > 0) {
		const uint8_t *c;
		size_t cn, tl;
		uint8_t tag;
		if (tlv(p, n, &tag, &c, &cn, &tl) != 0 || ++count > (max ? max : SA_SPNEGO_MAX_LIST))
			return -1;
		/* Long form: no leading zero byte, and not for what fits in fewer. */
		if (p[1] >= 0x80 && (p[2] == 0 || cn < 0x80))
			return -1;
		int explicit_tag = (tag & 0xe0) == 0xa0;
		if (explicit_tag && cn == 0)
			return -1;
		if ((tag & 0x20) && der_strict(c, cn, explicit_tag, depth + 1) != 0)
			return -1;
		p += tl;
		n -= tl;
	}
	return 0;
}

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

/*
 * The bytes of field name of the decoded e (from der, n bytes), with unwrap
 * TLV headers taken off: 1 for an explicit tag around a structure, 2 for
 * one around a primitive (its content).  0 and *out (absent: {NULL, 0}); -1.
 */
static int field(asn1_node e, const uint8_t *der, size_t n, const char *name, int unwrap,
		 struct sa_spnego_buf *out)
{
	int s, end;
	int r = asn1_der_decoding_startEnd(e, der, (int)n, name, &s, &end);

	if (r == ASN1_ELEMENT_NOT_FOUND) {
		*out = (struct sa_spnego_buf){NULL, 0};
		return 0;
	}
	if (r != ASN1_SUCCESS || s < 0 || end < s || (size_t)end >= n)
		return -1;
	const uint8_t *p = der + s;
	size_t len = (size_t)(end - s) + 1;
	for (int i = 0; i < unwrap; i++) {
		uint8_t tag;
		size_t tl, all = len;
		if (tlv(p, all, &tag, &p, &len, &tl) != 0 || tl != all)
			return -1; /* exactly one TLV: der_strict made sure */
	}
	*out = (struct sa_spnego_buf){p, len};
	return 0;
}

/* A MechTypeList TLV (list, already DER-checked): I3 for every OID; the
 * first SA_SPNEGO_MAX_MECHS into out.  0 or -1. */
static int mech_list(struct sa_spnego_buf list, struct sa_spnego_init *out)
{
	const uint8_t *c;
	size_t cn, tl;
	uint8_t tag;

	if (list.p == NULL || tlv(list.p, list.len, &tag, &c, &cn, &tl) != 0 || tag != 0x30 ||
	    tl != list.len || cn == 0)
		return -1;
	out->n_mechs = 0;
	while (cn > 0) {
		const uint8_t *o;
		size_t on;
		if (tlv(c, cn, &tag, &o, &on, &tl) != 0 || tag != 0x06 || !oid_ok(o, on))
			return -1;
		if (out->n_mechs < SA_SPNEGO_MAX_MECHS)
			out->mechs[out->n_mechs++] = (struct sa_spnego_buf){o, on};
		c += tl;
		cn -= tl;
	}
	out->mech_types = list;
	return 0;
}

/* 1 when the decoded CHOICE e holds the alternative alt. */
static int chosen(asn1_node e, const char *alt)
{
	char name[ASN1_MAX_NAME_SIZE];
	int len = sizeof name;

	return asn1_read_value(e, "", name, &len) == ASN1_SUCCESS && strcmp(name, alt) == 0;
}

/* The inner NegotiationToken of an initial token: NegTokenInit, or
 * NegTokenInit2 when it is not that.  0, -1, -2. */
static int decode_neg_init(const uint8_t *der, size_t n, struct sa_spnego_init *out)
{
	asn1_node e = NULL;
	const char *pre = "negTokenInit.";
	int r = der_decode(MOD "NegotiationToken", der, n, &e);

	if (r == 0 && !chosen(e, "negTokenInit")) {
		r = -1; /* the other alternative, [1] */
	} else if (r == -1) {
		asn1_delete_structure(&e);
		pre = "negTokenInit2.";
		r = der_decode(MOD "NegotiationToken2", der, n, &e);
	}

	struct sa_spnego_buf list, flags;
	char f[64];
	if (r == 0) {
		snprintf(f, sizeof f, "%sreqFlags", pre);
		r = field(e, der, n, f, 2, &flags);
	}
	if (r == 0 && !bits_ok(flags))
		r = -1;
	if (r == 0) {
		snprintf(f, sizeof f, "%smechTypes", pre);
		r = field(e, der, n, f, 1, &list);
	}
	if (r == 0)
		r = mech_list(list, out); /* absent (NegTokenInit2): -1 */
	if (r == 0) {
		snprintf(f, sizeof f, "%smechToken", pre);
		r = field(e, der, n, f, 2, &out->mech_token);
	}
	if (r == 0) {
		snprintf(f, sizeof f, "%smechListMIC", pre);
		r = field(e, der, n, f, 2, &out->mic);
	}
	asn1_delete_structure(&e);
	return r;
}

int sa_spnego_tasn1_decode_init(const uint8_t *in, size_t n, struct sa_spnego_init *out)
{
	struct sa_spnego_init d = {0};
	struct sa_spnego_buf mech, inner;
	asn1_node e = NULL;
	int r;

	if (in == NULL || out == NULL || n == 0 || n > SA_SPNEGO_MAX_TOKEN)
		return -1;
	if (der_strict(in, n, 1, 0) != 0)
		return -1;
	r = der_decode(MOD "InitialContextToken", in, n, &e);
	if (r == 0)
		r = field(e, in, n, "thisMech", 1, &mech);
	if (r == 0 && (mech.len != sizeof oid_spnego || memcmp(mech.p, oid_spnego, mech.len) != 0))
		r = -1;
	if (r == 0)
		r = field(e, in, n, "innerContextToken", 0, &inner);
	asn1_delete_structure(&e);
	if (r == 0)
		r = inner.p == NULL ? -1 : decode_neg_init(inner.p, inner.len, &d);
	if (r == 0)
		*out = d;
	return r;
}

int sa_spnego_tasn1_decode_resp(const uint8_t *in, size_t n, struct sa_spnego_resp *out)
{
	struct sa_spnego_resp d = {.neg_state = SA_SPNEGO_NO_STATE};
	struct sa_spnego_buf st;
	asn1_node e = NULL;
	int r;

	if (in == NULL || out == NULL || n == 0 || n > SA_SPNEGO_MAX_TOKEN)
		return -1;
	if (der_strict(in, n, 1, 0) != 0)
		return -1;
	r = der_decode(MOD "NegotiationToken", in, n, &e);
	if (r == 0 && !chosen(e, "negTokenResp"))
		r = -1;
	if (r == 0)
		r = field(e, in, n, "negTokenResp.negState", 2, &st);
	if (r == 0 && st.p != NULL) {
		/* One content byte, 0..3: the four named values. */
		if (st.len != 1 || st.p[0] > SA_SPNEGO_REQUEST_MIC)
			r = -1;
		else
			d.neg_state = st.p[0];
	}
	if (r == 0)
		r = field(e, in, n, "negTokenResp.supportedMech", 2, &d.mech);
	if (r == 0 && d.mech.p != NULL && !oid_ok(d.mech.p, d.mech.len))
		r = -1;
	if (r == 0)
		r = field(e, in, n, "negTokenResp.responseToken", 2, &d.token);
	if (r == 0)
		r = field(e, in, n, "negTokenResp.mechListMIC", 2, &d.mic);
	asn1_delete_structure(&e);
	if (r == 0)
		*out = d;
	return r;
}

/* ---- encoding ------------------------------------------------------------------ */

/* An OCTET STRING field: absent (p NULL) or the bytes.  0, -2, -3. */
static int put_octets(asn1_node e, const char *name, struct sa_spnego_buf b)
{
	int r;

	if (b.p == NULL)
		r = asn1_write_value(e, name, NULL, 0); /* removes the OPTIONAL field */
	else if (b.len > SA_SPNEGO_MAX_TOKEN)
		return -3;
	else /* libtasn1 reads len 0 as "up to the NUL": "" is an empty string */
		r = asn1_write_value(e, name, b.len ? (const void *)b.p : "", (int)b.len);
	return r == ASN1_SUCCESS ? 0 : tasn1_err(r, -3);
}

/* An OID field from its content.  0, -2, -3. */
static int put_oid(asn1_node e, const char *name, struct sa_spnego_buf oid)
{
	char txt[OID_TEXT_CAP];

	if (!oid_ok(oid.p, oid.len))
		return -3;
	oid_text(oid.p, oid.len, txt, sizeof txt);
	int r = asn1_write_value(e, name, txt, 0);
	return r == ASN1_SUCCESS ? 0 : tasn1_err(r, -3);
}

/* The SEQUENCE OF MechType at list (a field name of e).  0, -2, -3. */
static int put_mechs(asn1_node e, const char *list, const struct sa_spnego_buf *mechs,
		     size_t n_mechs)
{
	char last[64];

	if (mechs == NULL || n_mechs == 0 || n_mechs > SA_SPNEGO_MAX_MECHS)
		return -3;
	snprintf(last, sizeof last, "%s%s?LAST", list, list[0] ? "." : "");
	for (size_t i = 0; i < n_mechs; i++) {
		int r = asn1_write_value(e, list, "NEW", 1);
		if (r != ASN1_SUCCESS)
			return tasn1_err(r, -3);
		r = put_oid(e, last, mechs[i]);
		if (r != 0)
			return r;
	}
	return 0;
}

/* e's DER: its size in *need, then (fitting cap) written at out.  0, -1
 * (too small: *need set, out untouched), -2, -3 (over SA_SPNEGO_MAX_TOKEN). */
static int der_write(asn1_node e, uint8_t *out, size_t cap, size_t *need)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	int len = 0;
	int r = asn1_der_coding(e, "", NULL, &len, err);

	if (r != ASN1_MEM_ERROR) /* the size query must say "too small" */
		return tasn1_err(r, -3);
	if (len <= 0 || (size_t)len > SA_SPNEGO_MAX_TOKEN)
		return -3;
	*need = (size_t)len;
	if (out == NULL || cap < *need)
		return -1;
	r = asn1_der_coding(e, "", out, &len, err);
	if (r != ASN1_SUCCESS)
		return tasn1_err(r, -3);
	*need = (size_t)len;
	return 0;
}

/* The end of every encoder: *len set for 0 and -1 only. */
static int encode_end(int r, size_t need, size_t *len)
{
	if (r == 0 || r == -1)
		*len = need;
	return r;
}

int sa_spnego_tasn1_encode_mech_types(const struct sa_spnego_buf *mechs, size_t n_mechs, uint8_t *out,
				size_t cap, size_t *len)
{
	asn1_node e = NULL;
	size_t need = 0;
	int r;

	if (len == NULL)
		return -3;
	r = elem_create(MOD "MechTypeList", &e);
	if (r == 0)
		r = put_mechs(e, "", mechs, n_mechs);
	if (r == 0)
		r = der_write(e, out, cap, &need);
	asn1_delete_structure(&e);
	return encode_end(r, need, len);
}

int sa_spnego_tasn1_encode_init(const struct sa_spnego_buf *mechs, size_t n_mechs,
			  struct sa_spnego_buf mech_token, struct sa_spnego_buf mic, uint8_t *out,
			  size_t cap, size_t *len)
{
	asn1_node e = NULL, f = NULL;
	uint8_t *inner = NULL;
	size_t need = 0, inner_len = 0;
	int r;

	if (len == NULL)
		return -3;
	/* The NegotiationToken, then the framing around it. */
	r = elem_create(MOD "NegotiationToken", &e);
	if (r == 0)
		r = asn1_write_value(e, "", "negTokenInit", 1) == ASN1_SUCCESS ? 0 : -2;
	if (r == 0)
		r = put_mechs(e, "negTokenInit.mechTypes", mechs, n_mechs);
	if (r == 0)
		r = tasn1_err(asn1_write_value(e, "negTokenInit.reqFlags", NULL, 0), -3);
	if (r == 0)
		r = put_octets(e, "negTokenInit.mechToken", mech_token);
	if (r == 0)
		r = put_octets(e, "negTokenInit.mechListMIC", mic);
	if (r == 0) {
		r = der_write(e, NULL, 0, &inner_len);
		r = r == -1 ? 0 : r;
	}
	if (r == 0)
		r = (inner = sa__malloc(inner_len)) != NULL ? 0 : -2;
	if (r == 0)
		r = der_write(e, inner, inner_len, &inner_len);
	if (r == 0)
		r = elem_create(MOD "InitialContextToken", &f);
	if (r == 0)
		r = tasn1_err(asn1_write_value(f, "thisMech", OID_SPNEGO_TEXT, 0), -3);
	if (r == 0)
		r = tasn1_err(asn1_write_value(f, "innerContextToken", inner, (int)inner_len), -3);
	if (r == 0)
		r = der_write(f, out, cap, &need);
	sa__free(inner);
	asn1_delete_structure(&f);
	asn1_delete_structure(&e);
	return encode_end(r, need, len);
}

int sa_spnego_tasn1_encode_resp(int neg_state, struct sa_spnego_buf mech, struct sa_spnego_buf token,
			  struct sa_spnego_buf mic, uint8_t *out, size_t cap, size_t *len)
{
	asn1_node e = NULL;
	size_t need = 0;
	int r;

	if (len == NULL || neg_state < SA_SPNEGO_NO_STATE || neg_state > SA_SPNEGO_REQUEST_MIC)
		return -3;
	r = elem_create(MOD "NegotiationToken", &e);
	if (r == 0)
		r = asn1_write_value(e, "", "negTokenResp", 1) == ASN1_SUCCESS ? 0 : -2;
	if (r == 0 && neg_state == SA_SPNEGO_NO_STATE) {
		r = tasn1_err(asn1_write_value(e, "negTokenResp.negState", NULL, 0), -3);
	} else if (r == 0) {
		uint8_t v = (uint8_t)neg_state;
		r = tasn1_err(asn1_write_value(e, "negTokenResp.negState", &v, 1), -3);
	}
	if (r == 0 && mech.p == NULL)
		r = tasn1_err(asn1_write_value(e, "negTokenResp.supportedMech", NULL, 0), -3);
	else if (r == 0)
		r = put_oid(e, "negTokenResp.supportedMech", mech);
	if (r == 0)
		r = put_octets(e, "negTokenResp.responseToken", token);
	if (r == 0)
		r = put_octets(e, "negTokenResp.mechListMIC", mic);
	if (r == 0)
		r = der_write(e, out, cap, &need);
	asn1_delete_structure(&e);
	return encode_end(r, need, len);
}

#endif /* SA_HAVE_TASN1 */
