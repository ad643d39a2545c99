/*
 * fuzz/spnego_fuzz.c - libFuzzer harness for the SPNEGO token codec
 * (src/packages/negotiate/spnego.h; fuzz/README.md, "The SPNEGO fuzzer").
 *
 * Every input is used twice:
 *   DECODE  the bytes as a token: sa__spnego_sniff and both decoders, held
 *           to spnego.h's I1-I7 by a reading of DER written here (ref_*,
 *           no libtasn1): only DER decodes, every field inside the input,
 *           the mechanism list as this reading sees it, sniff agreeing with
 *           the decoder, *out untouched on failure; then what decoded is
 *           encoded again: a NegTokenResp always to the input byte for
 *           byte, a NegTokenInit too when it holds nothing the codec drops
 *           (reqFlags, negHints, [MS-SPNG]'s [4] mechListMIC, mechanisms
 *           past SA_SPNEGO_MAX_MECHS), and otherwise to a token that
 *           decodes to the same fields.
 *   ENCODE  the bytes as the encoders' arguments ([state][mech length]
 *           [mech][n OIDs][OID lengths and contents][the rest: token |
 *           mic]): the exact answer (-3 for what spnego.h calls invalid,
 *           else 0), the output decoding to the arguments, -1 with the
 *           size needed and the output untouched one byte short.
 * Differential: with libtasn1 (SA_HAVE_TASN1), every decoder and encoder
 * call is made of the libtasn1 oracle too (test/spnego_tasn1.h, the codec
 * this one replaced), which must give the same answer: the same return
 * code, the same fields (pointers into the input), the same *len and bytes.
 * After each input the library's allocator must be where it was.  A
 * violation prints and aborts.  Built by fuzz/run.sh; fuzz/spnego_replay.c
 * includes it (make check, make memcheck).
 */
#include "packages/negotiate/spnego.h"
#include "spnego_tasn1.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long g_decoded_init, g_decoded_resp, g_exact, g_oracle; /* the replay reports them */

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "spnego_fuzz: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define CHECK(c, ...)                       \
	do {                                \
		if (!(c))                   \
			fail(__VA_ARGS__);  \
	} while (0)

/* ---- a reading of DER (X.690 10, 8.19), independent of the codec ------------- */

struct ref_tlv {
	uint8_t tag;
	const uint8_t *c; /* content */
	size_t cn, tl;    /* content length, whole TLV length */
};

/* The TLV at p: a one-byte tag, a definite length in its shortest form of
 * at most 3 bytes, inside n.  1 or 0. */
static int ref_tlv(const uint8_t *p, size_t n, struct ref_tlv *t)
{
	size_t len = 0, hl = 2;

	if (n < 2 || (p[0] & 0x1f) == 0x1f || p[1] == 0x80 || p[1] > 0x83)
		return 0;
	if (p[1] & 0x80) {
		size_t k = p[1] & 0x7f;
		if (n < 2 + k || p[2] == 0)
			return 0;
		for (size_t i = 0; i < k; i++)
			len = len * 256 + p[2 + i];
		if (len < 0x80)
			return 0;
		hl += k;
	} else {
		len = p[1];
	}
	if (n - hl < len)
		return 0;
	*t = (struct ref_tlv){p[0], p + hl, len, hl + len};
	return 1;
}

/* p is one TLV (depth 0) or a run of them, every one DER, and so is each
 * constructed one's content; spnego.asn's tags are EXPLICIT, so each
 * context-specific constructed one ([n]) holds exactly one TLV. */
static int ref_der(const uint8_t *p, size_t n, int depth)
{
	struct ref_tlv t;

	if (depth > 16)
		return 0;
	if (depth == 0)
		return ref_tlv(p, n, &t) && t.tl == n && ref_der(p, n, 1);
	for (; n > 0; p += t.tl, n -= t.tl) {
		if (!ref_tlv(p, n, &t))
			return 0;
		if ((t.tag & 0xe0) == 0xa0) {
			struct ref_tlv in;
			if (!ref_tlv(t.c, t.cn, &in) || in.tl != t.cn)
				return 0;
		}
		if ((t.tag & 0x20) && !ref_der(t.c, t.cn, depth + 1))
			return 0;
	}
	return 1;
}

/* An OID's content as I3 has it: 1..SA_SPNEGO_MAX_OID bytes, subidentifiers
 * of at most 8 bytes without a leading 0x80, the last one ended. */
static int ref_oid(const uint8_t *p, size_t n)
{
	size_t start = 0;

	if (p == NULL || n < 1 || n > SA_SPNEGO_MAX_OID)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == start && p[i] == 0x80)
			return 0;
		if (!(p[i] & 0x80)) {
			if (i - start + 1 > 8)
				return 0;
			start = i + 1;
		}
	}
	return start == n;
}

static int inside(struct sa_spnego_buf b, const uint8_t *in, size_t n)
{
	if (b.p == NULL)
		return b.len == 0;
	return b.p >= in && b.p <= in + n && b.len <= (size_t)(in + n - b.p);
}

static int same(struct sa_spnego_buf a, struct sa_spnego_buf b)
{
	if ((a.p == NULL) != (b.p == NULL) || a.len != b.len)
		return 0;
	return a.len == 0 || memcmp(a.p, b.p, a.len) == 0;
}

/* ---- the oracle ---------------------------------------------------------------- */

#ifdef SA_HAVE_TASN1
static void oracle_init(const uint8_t *in, size_t n, int r, const struct sa_spnego_init *d)
{
	struct sa_spnego_init o;
	int ro = sa_spnego_tasn1_decode_init(in, n, &o);

	CHECK(ro == r, "decode_init %d, the oracle %d", r, ro);
	g_oracle++;
	if (r != 0)
		return;
	CHECK(o.n_mechs == d->n_mechs, "n_mechs %zu, the oracle %zu", d->n_mechs, o.n_mechs);
	for (size_t i = 0; i < o.n_mechs; i++)
		CHECK(o.mechs[i].p == d->mechs[i].p && o.mechs[i].len == d->mechs[i].len,
		      "mechs[%zu] differs from the oracle's", i);
	CHECK(o.mech_types.p == d->mech_types.p && o.mech_types.len == d->mech_types.len &&
		      o.mech_token.p == d->mech_token.p && o.mech_token.len == d->mech_token.len &&
		      o.mic.p == d->mic.p && o.mic.len == d->mic.len,
	      "init fields differ from the oracle's");
}

static void oracle_resp(const uint8_t *in, size_t n, int r, const struct sa_spnego_resp *d)
{
	struct sa_spnego_resp o;
	int ro = sa_spnego_tasn1_decode_resp(in, n, &o);

	CHECK(ro == r, "decode_resp %d, the oracle %d", r, ro);
	g_oracle++;
	if (r != 0)
		return;
	CHECK(o.neg_state == d->neg_state && o.mech.p == d->mech.p && o.mech.len == d->mech.len &&
		      o.token.p == d->token.p && o.token.len == d->token.len && o.mic.p == d->mic.p &&
		      o.mic.len == d->mic.len,
	      "resp fields differ from the oracle's");
}

/* An encoder's answer against the oracle's: r, *len (for 0 and -1), bytes. */
static void oracle_encoding(const char *what, int r, int ro, size_t len, size_t olen,
			    const uint8_t *out, const uint8_t *oout)
{
	CHECK(r == ro, "%s %d, the oracle %d", what, r, ro);
	CHECK(len == olen, "%s: *len %zu, the oracle's %zu", what, len, olen);
	CHECK(r != 0 || memcmp(out, oout, len) == 0, "%s: bytes differ from the oracle's", what);
	g_oracle++;
}
#define ORACLE(call) call
#else
#define ORACLE(call) ((void)0)
#endif

/* ---- DECODE ------------------------------------------------------------------- */

/* What the reading finds in a decoded NegTokenInit: the list's entries and
 * whether the codec keeps every field (so re-encoding must be exact). */
struct ref_init {
	size_t total;                       /* OIDs in the list */
	struct sa_spnego_buf first[SA_SPNEGO_MAX_MECHS];
	int plain;                          /* only [0], [2], [3] OCTET STRING */
};

static void ref_read_init(const uint8_t *in, size_t n, struct ref_init *r)
{
	struct ref_tlv f, oid, choice, seq, field, list, e;

	memset(r, 0, sizeof *r);
	CHECK(ref_tlv(in, n, &f) && f.tag == 0x60 && f.tl == n, "init: framing");
	CHECK(ref_tlv(f.c, f.cn, &oid) && oid.tag == 0x06, "init: OID");
	CHECK(ref_tlv(f.c + oid.tl, f.cn - oid.tl, &choice) && choice.tag == 0xa0, "init: [0]");
	CHECK(ref_tlv(choice.c, choice.cn, &seq) && seq.tag == 0x30, "init: SEQUENCE");
	r->plain = 1;
	for (size_t at = 0; at < seq.cn; at += field.tl) {
		CHECK(ref_tlv(seq.c + at, seq.cn - at, &field), "init: a field");
		if (field.tag == 0xa0) {
			CHECK(ref_tlv(field.c, field.cn, &list) && list.tag == 0x30, "init: list");
			for (size_t k = 0; k < list.cn; k += e.tl) {
				CHECK(ref_tlv(list.c + k, list.cn - k, &e) && e.tag == 0x06,
				      "init: list entry");
				CHECK(ref_oid(e.c, e.cn), "init: decoded a bad OID");
				if (r->total < SA_SPNEGO_MAX_MECHS)
					r->first[r->total] = (struct sa_spnego_buf){e.c, e.cn};
				r->total++;
			}
		} else if (field.tag == 0xa2 || (field.tag == 0xa3 && field.cn > 0 && field.c[0] == 0x04)) {
			/* kept */
		} else {
			r->plain = 0; /* reqFlags, negHints, [4] */
		}
	}
	CHECK(r->total <= SA_SPNEGO_MAX_LIST, "a list of %zu OIDs decoded", r->total);
	if (r->total > SA_SPNEGO_MAX_MECHS)
		r->plain = 0;
}

static void check_init(const uint8_t *in, size_t n, const struct sa_spnego_init *d)
{
	static uint8_t out[SA_SPNEGO_MAX_TOKEN];
	struct ref_init r;
	size_t len;

	CHECK(sa__spnego_sniff(in, n) == SA_SPNEGO_INIT, "init decoded, sniffed %d",
	      sa__spnego_sniff(in, n));
	CHECK(ref_der(in, n, 0), "init decoded but is not DER");
	ref_read_init(in, n, &r);
	CHECK(r.total >= 1 && d->n_mechs == (r.total < 8 ? r.total : 8), "n_mechs %zu of %zu",
	      d->n_mechs, r.total);
	for (size_t i = 0; i < d->n_mechs; i++)
		CHECK(d->mechs[i].p == r.first[i].p && d->mechs[i].len == r.first[i].len,
		      "mechs[%zu] is not the list's", i);
	CHECK(inside(d->mech_types, in, n) && d->mech_types.p != NULL && d->mech_types.p[0] == 0x30,
	      "mech_types");
	CHECK(inside(d->mech_token, in, n) && inside(d->mic, in, n), "init: a field outside");
	if (r.total <= SA_SPNEGO_MAX_MECHS) { /* I4 */
		CHECK(sa__spnego_encode_mech_types(d->mechs, d->n_mechs, out, sizeof out, &len) == 0,
		      "encode_mech_types of decoded mechs");
		CHECK(len == d->mech_types.len && memcmp(out, d->mech_types.p, len) == 0,
		      "I4: mech_types is not the encoded list");
	}
	/* I7. */
	int e = sa__spnego_encode_init(d->mechs, d->n_mechs, d->mech_token, d->mic, out, sizeof out,
				      &len);
	CHECK(e == 0, "re-encoding a decoded init: %d", e);
	if (r.plain) {
		CHECK(len == n && memcmp(out, in, n) == 0, "I7: init re-encodes differently");
		g_exact++;
	} else {
		struct sa_spnego_init d2;
		CHECK(len <= n, "re-encoded init grew");
		CHECK(sa__spnego_decode_init(out, len, &d2) == 0, "re-encoded init does not decode");
		CHECK(d2.n_mechs == d->n_mechs && same(d2.mech_token, d->mech_token) &&
			      same(d2.mic, d->mic),
		      "re-encoded init decodes differently");
		for (size_t i = 0; i < d->n_mechs; i++)
			CHECK(same(d2.mechs[i], d->mechs[i]), "re-encoded mechs[%zu]", i);
	}
}

static void check_resp(const uint8_t *in, size_t n, const struct sa_spnego_resp *d)
{
	static uint8_t out[SA_SPNEGO_MAX_TOKEN];
	size_t len;

	CHECK(sa__spnego_sniff(in, n) == SA_SPNEGO_RESP, "resp decoded, sniffed %d",
	      sa__spnego_sniff(in, n));
	CHECK(ref_der(in, n, 0), "resp decoded but is not DER");
	CHECK(d->neg_state >= SA_SPNEGO_NO_STATE && d->neg_state <= SA_SPNEGO_REQUEST_MIC,
	      "neg_state %d", d->neg_state);
	CHECK(inside(d->mech, in, n) && inside(d->token, in, n) && inside(d->mic, in, n),
	      "resp: a field outside");
	CHECK(d->mech.p == NULL || ref_oid(d->mech.p, d->mech.len), "resp: a bad OID decoded");
	int e = sa__spnego_encode_resp(d->neg_state, d->mech, d->token, d->mic, out, sizeof out, &len);
	CHECK(e == 0, "re-encoding a decoded resp: %d", e);
	CHECK(len == n && memcmp(out, in, n) == 0, "I7: resp re-encodes differently");
	g_exact++;
}

static void decode(const uint8_t *in, size_t n)
{
	union {
		struct sa_spnego_init init;
		struct sa_spnego_resp resp;
	} d, before;

	memset(&d, 0x5a, sizeof d);
	before = d;
	int ri = sa__spnego_decode_init(in, n, &d.init);
	CHECK(ri == 0 || ri == -1, "decode_init returned %d", ri);
	ORACLE(oracle_init(in, n, ri, &d.init));
	if (ri == 0) {
		g_decoded_init++;
		check_init(in, n, &d.init);
	} else {
		CHECK(memcmp(&d, &before, sizeof d) == 0, "decode_init touched *out on failure");
	}
	int rr = sa__spnego_decode_resp(in, n, &d.resp);
	CHECK(rr == 0 || rr == -1, "decode_resp returned %d", rr);
	ORACLE(oracle_resp(in, n, rr, &d.resp));
	CHECK(ri != 0 || rr != 0, "both decoders took it");
	if (rr == 0) {
		g_decoded_resp++;
		check_resp(in, n, &d.resp);
	} else if (ri != 0) {
		CHECK(memcmp(&d, &before, sizeof d) == 0, "decode_resp touched *out on failure");
	}
}

/* ---- ENCODE -------------------------------------------------------------------- */

static const uint8_t *g_in;
static size_t g_len, g_pos;

static unsigned u8(void)
{
	return g_pos < g_len ? g_in[g_pos++] : 0;
}

static struct sa_spnego_buf take(size_t want)
{
	size_t n = g_len - g_pos < want ? g_len - g_pos : want;
	struct sa_spnego_buf b = {g_in + g_pos, n};
	g_pos += n;
	return b;
}

/* An optional field: absent (bit clear), or a present one (maybe empty). */
static struct sa_spnego_buf opt(int present, struct sa_spnego_buf b)
{
	return present ? b : (struct sa_spnego_buf){NULL, 0};
}

static void encode(const uint8_t *data, size_t size)
{
	static uint8_t out[SA_SPNEGO_MAX_TOKEN + 64], small[SA_SPNEGO_MAX_TOKEN];
	struct sa_spnego_buf mechs[SA_SPNEGO_MAX_MECHS + 1];
	size_t len, len2;
	int r2;
#ifdef SA_HAVE_TASN1
	static uint8_t oout[SA_SPNEGO_MAX_TOKEN + 64];
	size_t olen;
	int ro;
#endif

	g_in = data, g_len = size, g_pos = 0;
	unsigned op = u8();
	int state = (int)(op % 6) - 1; /* -1..4: 4 is out of range */
	struct sa_spnego_buf mech = opt(op & 0x08, take(u8() % 40));
	size_t nm = u8() % (SA_SPNEGO_MAX_MECHS + 2); /* 0..9: 0 and 9 invalid */
	int mechs_ok = nm >= 1 && nm <= SA_SPNEGO_MAX_MECHS;
	for (size_t i = 0; i < nm; i++) {
		mechs[i] = take(u8() % 40);
		mechs_ok &= ref_oid(mechs[i].p, mechs[i].len);
	}
	struct sa_spnego_buf rest = take(g_len - g_pos);
	struct sa_spnego_buf tok = opt(op & 0x10, (struct sa_spnego_buf){rest.p, rest.len / 2});
	struct sa_spnego_buf mic = opt(op & 0x20, (struct sa_spnego_buf){rest.p + rest.len / 2,
									    rest.len - rest.len / 2});

	/* NegTokenResp. */
	int want = state > SA_SPNEGO_REQUEST_MIC || (mech.p != NULL && !ref_oid(mech.p, mech.len))
			   ? -3
			   : 0;
	len = 7;
	int r = sa__spnego_encode_resp(state, mech, tok, mic, out, sizeof out, &len);
	CHECK(r == want, "encode_resp returned %d, want %d", r, want);
	ORACLE(olen = 7);
	ORACLE(ro = sa_spnego_tasn1_encode_resp(state, mech, tok, mic, oout, sizeof oout, &olen));
	ORACLE(oracle_encoding("encode_resp", r, ro, len, olen, out, oout));
	if (r == 0) {
		struct sa_spnego_resp d;
		CHECK(ref_der(out, len, 0), "encode_resp wrote no DER");
		CHECK(sa__spnego_decode_resp(out, len, &d) == 0, "encode_resp's token does not decode");
		CHECK(d.neg_state == state && same(d.mech, mech) && same(d.token, tok) &&
			      same(d.mic, mic),
		      "encode_resp's token decodes to other fields");
		memset(small, 0xee, len);
		CHECK(sa__spnego_encode_resp(state, mech, tok, mic, small, len - 1, &len2) == -1 &&
			      len2 == len && small[0] == 0xee && small[len - 2] == 0xee,
		      "encode_resp one byte short");
	} else {
		CHECK(len == 7, "encode_resp set *len on -3");
	}

	/* NegTokenInit, and its MechTypeList. */
	want = mechs_ok ? 0 : -3;
	len = 7;
	r = sa__spnego_encode_init(mechs, nm, tok, mic, out, sizeof out, &len);
	CHECK(r == want, "encode_init returned %d, want %d", r, want);
	ORACLE(olen = 7);
	ORACLE(ro = sa_spnego_tasn1_encode_init(mechs, nm, tok, mic, oout, sizeof oout, &olen));
	ORACLE(oracle_encoding("encode_init", r, ro, len, olen, out, oout));
	len2 = 7;
	r2 = sa__spnego_encode_mech_types(mechs, nm, small, sizeof small, &len2);
	CHECK(r2 == want, "encode_mech_types returned %d, want %d", r2, want);
	ORACLE(olen = 7);
	ORACLE(ro = sa_spnego_tasn1_encode_mech_types(mechs, nm, oout, sizeof oout, &olen));
	ORACLE(oracle_encoding("encode_mech_types", r2, ro, len2, olen, small, oout));
	if (r == 0) {
		struct sa_spnego_init d;
		CHECK(ref_der(out, len, 0), "encode_init wrote no DER");
		CHECK(sa__spnego_decode_init(out, len, &d) == 0, "encode_init's token does not decode");
		CHECK(d.n_mechs == nm && same(d.mech_token, tok) && same(d.mic, mic),
		      "encode_init's token decodes to other fields");
		for (size_t i = 0; i < nm; i++)
			CHECK(same(d.mechs[i], mechs[i]), "encode_init's mechs[%zu]", i);
		CHECK(sa__spnego_encode_mech_types(mechs, nm, small, sizeof small, &len2) == 0 &&
			      len2 == d.mech_types.len && memcmp(small, d.mech_types.p, len2) == 0,
		      "encode_mech_types is not what encode_init wrote");
		memset(small, 0xee, len);
		CHECK(sa__spnego_encode_init(mechs, nm, tok, mic, small, len - 1, &len2) == -1 &&
			      len2 == len && small[0] == 0xee,
		      "encode_init one byte short");
	}
}

/* ---- the entry points ---------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sa_alloc_stats a, b;

	sa__alloc_stats(&a);
	decode(data, size);
	if (size <= 60000) /* so a token and a MIC from it stay under SA_SPNEGO_MAX_TOKEN */
		encode(data, size);
	sa__alloc_stats(&b);
	CHECK(a.live_blocks == b.live_blocks, "the allocator holds %llu blocks more",
	      (unsigned long long)(b.live_blocks - a.live_blocks));
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
