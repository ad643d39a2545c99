/*
 * test/check_spnego.c - the SPNEGO token codec (src/packages/negotiate/spnego.h)
 * against known answers, real tokens, malformed tokens, itself and the
 * libtasn1 oracle (test/spnego_tasn1.h).
 *
 * Known answers: DER derived here by hand from the ASN.1 of RFC 4178 4.1,
 * [MS-SPNG] 2.2.1 and RFC 2743 3.1 (each derivation is written out beside
 * its bytes), and built a second time by a small DER writer of this file
 * (der_put), which also makes the malformed variants level by level.
 * Real tokens: captured from MIT krb5 1.20.1 + gss-ntlmssp 1.2.0 (see
 * "real tokens").  Differential: every call of a decoder or encoder below
 * goes through decode_init() and its siblings, which (with libtasn1,
 * SA_HAVE_TASN1) make the same call of the oracle and require the same
 * answer: both fail alike, or both succeed with the same fields or bytes.
 * TCases: kat, sniff, decode, real, malformed, encode, alloc, oracle, tab.
 * Every test frees what it makes; main frees the oracle's definitions
 * (sa_spnego_tasn1_cleanup), so Valgrind sees 0 bytes in use.
 */
#include "testlib.h"
#include "packages/negotiate/spnego.h"
#include "spnego_tasn1.h"
#include "util/alloc.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef SA_HAVE_TASN1
#include <libtasn1.h>
#endif

/* ---- helpers --------------------------------------------------------------------- */

/* Hex (spaces allowed) into out (room for cap); the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	return tl_unhex(s, out, cap);
}

/* An exact-size heap copy, so a read past the end is a Valgrind/ASan error. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

static void assert_buf(const char *what, struct sa_spnego_buf b, const void *want, size_t n)
{
	ck_assert_msg(b.p != NULL, "%s: absent", what);
	ck_assert_msg(b.len == n, "%s: %zu bytes, want %zu", what, b.len, n);
	ck_assert_msg(memcmp(b.p, want, n) == 0, "%s: other bytes", what);
}

static void assert_absent(const char *what, struct sa_spnego_buf b)
{
	ck_assert_msg(b.p == NULL && b.len == 0, "%s: present", what);
}

/* I2: b is absent or inside [in, in + n). */
static void assert_inside(const char *what, struct sa_spnego_buf b, const uint8_t *in, size_t n)
{
	if (b.p == NULL) {
		ck_assert_msg(b.len == 0, "%s: NULL with a length", what);
		return;
	}
	ck_assert_msg(b.p >= in && b.p <= in + n && b.len <= (size_t)(in + n - b.p),
		      "%s: outside the input", what);
}

static const struct sa_spnego_buf none = {NULL, 0};

static struct sa_spnego_buf bytes(const void *p, size_t n)
{
	return (struct sa_spnego_buf){p, n};
}

/* ---- the codec and its oracle ---------------------------------------------------- */

/*
 * Every decoder and encoder call of this file goes through the five
 * functions below: each calls the codec and returns its answer, and with
 * libtasn1 (SA_HAVE_TASN1) makes the same call of the oracle
 * (test/spnego_tasn1.c) and requires the same answer: the same return
 * code; for a decode that succeeded the same fields (the same pointers into
 * the input); for an encode the same *len and the same bytes.
 */
#ifdef SA_HAVE_TASN1
static uint8_t oracle_out[SA_SPNEGO_MAX_TOKEN + 64];

static void oracle_same_buf(const char *what, struct sa_spnego_buf a, struct sa_spnego_buf b)
{
	ck_assert_msg(a.p == b.p && a.len == b.len, "%s: the codec's differs from the oracle's",
		      what);
}

/* The oracle's output buffer for a call given out, cap (NULL stays NULL). */
static uint8_t *oracle_buf(const uint8_t *out, size_t cap, size_t *ocap)
{
	*ocap = cap < sizeof oracle_out ? cap : sizeof oracle_out;
	return out == NULL ? NULL : oracle_out;
}

/* An encoder's answer (r, *len, out) against the oracle's (ro, olen, oracle_out). */
static void oracle_same_encoding(const char *what, int r, int ro, const size_t *len, size_t olen,
				 const uint8_t *out)
{
	ck_assert_msg(r == ro, "%s: %d, the oracle %d", what, r, ro);
	if (len != NULL)
		ck_assert_msg(*len == olen, "%s: *len %zu, the oracle's %zu", what, *len, olen);
	if (r == 0)
		ck_assert_msg(memcmp(out, oracle_out, *len) == 0, "%s: bytes differ from the oracle's",
			      what);
}
#endif

static int decode_init(const uint8_t *in, size_t n, struct sa_spnego_init *out)
{
	int r = sa__spnego_decode_init(in, n, out);
#ifdef SA_HAVE_TASN1
	struct sa_spnego_init o;
	int ro = sa_spnego_tasn1_decode_init(in, n, out == NULL ? NULL : &o);
	ck_assert_msg(r == ro, "decode_init %d, the oracle %d", r, ro);
	if (r == 0) {
		ck_assert_uint_eq(out->n_mechs, o.n_mechs);
		for (size_t i = 0; i < o.n_mechs; i++)
			oracle_same_buf("mechs[i]", out->mechs[i], o.mechs[i]);
		oracle_same_buf("mech_types", out->mech_types, o.mech_types);
		oracle_same_buf("mech_token", out->mech_token, o.mech_token);
		oracle_same_buf("mic", out->mic, o.mic);
	}
#endif
	return r;
}

static int decode_resp(const uint8_t *in, size_t n, struct sa_spnego_resp *out)
{
	int r = sa__spnego_decode_resp(in, n, out);
#ifdef SA_HAVE_TASN1
	struct sa_spnego_resp o;
	int ro = sa_spnego_tasn1_decode_resp(in, n, out == NULL ? NULL : &o);
	ck_assert_msg(r == ro, "decode_resp %d, the oracle %d", r, ro);
	if (r == 0) {
		ck_assert_int_eq(out->neg_state, o.neg_state);
		oracle_same_buf("mech", out->mech, o.mech);
		oracle_same_buf("token", out->token, o.token);
		oracle_same_buf("mic", out->mic, o.mic);
	}
#endif
	return r;
}

static int encode_init(const struct sa_spnego_buf *mechs, size_t n_mechs,
		       struct sa_spnego_buf mech_token, struct sa_spnego_buf mic, uint8_t *out,
		       size_t cap, size_t *len)
{
#ifdef SA_HAVE_TASN1
	size_t olen = len != NULL ? *len : 0, ocap;
	uint8_t *o = oracle_buf(out, cap, &ocap);
	int ro = sa_spnego_tasn1_encode_init(mechs, n_mechs, mech_token, mic, o, ocap,
					     len != NULL ? &olen : NULL);
#endif
	int r = sa__spnego_encode_init(mechs, n_mechs, mech_token, mic, out, cap, len);
#ifdef SA_HAVE_TASN1
	oracle_same_encoding("encode_init", r, ro, len, olen, out);
#endif
	return r;
}

static int encode_resp(int neg_state, struct sa_spnego_buf mech, struct sa_spnego_buf token,
		       struct sa_spnego_buf mic, uint8_t *out, size_t cap, size_t *len)
{
#ifdef SA_HAVE_TASN1
	size_t olen = len != NULL ? *len : 0, ocap;
	uint8_t *o = oracle_buf(out, cap, &ocap);
	int ro = sa_spnego_tasn1_encode_resp(neg_state, mech, token, mic, o, ocap,
					     len != NULL ? &olen : NULL);
#endif
	int r = sa__spnego_encode_resp(neg_state, mech, token, mic, out, cap, len);
#ifdef SA_HAVE_TASN1
	oracle_same_encoding("encode_resp", r, ro, len, olen, out);
#endif
	return r;
}

static int encode_mech_types(const struct sa_spnego_buf *mechs, size_t n_mechs, uint8_t *out,
			     size_t cap, size_t *len)
{
#ifdef SA_HAVE_TASN1
	size_t olen = len != NULL ? *len : 0, ocap;
	uint8_t *o = oracle_buf(out, cap, &ocap);
	int ro = sa_spnego_tasn1_encode_mech_types(mechs, n_mechs, o, ocap,
						   len != NULL ? &olen : NULL);
#endif
	int r = sa__spnego_encode_mech_types(mechs, n_mechs, out, cap, len);
#ifdef SA_HAVE_TASN1
	oracle_same_encoding("encode_mech_types", r, ro, len, olen, out);
#endif
	return r;
}

/* The decoders' results, both kinds, with a sentinel fill: a failed call
 * must leave every byte of it as it was (I6). */
union decoded {
	struct sa_spnego_init init;
	struct sa_spnego_resp resp;
};

static int decode_init_untouched_on_failure(const uint8_t *in, size_t n)
{
	union decoded d, before;
	memset(&d, 0xa5, sizeof d);
	before = d;
	int r = decode_init(in, n, &d.init);
	if (r != 0)
		ck_assert_msg(memcmp(&d, &before, sizeof d) == 0, "decode_init touched *out");
	return r;
}

static int decode_resp_untouched_on_failure(const uint8_t *in, size_t n)
{
	union decoded d, before;
	memset(&d, 0xa5, sizeof d);
	before = d;
	int r = decode_resp(in, n, &d.resp);
	if (r != 0)
		ck_assert_msg(memcmp(&d, &before, sizeof d) == 0, "decode_resp touched *out");
	return r;
}

/*
 * A test-side DER checker, independent of the codec: every TLV has a
 * one-byte tag and a definite length in its shortest form, and a
 * constructed one's content is exactly a run of such TLVs.  1 or 0.
 */
static int der_minimal(const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t len = 0, hl;
		if (n < 2 || (p[0] & 0x1f) == 0x1f)
			return 0;
		if (p[1] < 0x80) {
			len = p[1];
			hl = 2;
		} else {
			size_t k = p[1] & 0x7f;
			if (k == 0 || k > 3 || n < 2 + k || p[2] == 0)
				return 0; /* indefinite, too long, or a leading zero byte */
			for (size_t i = 0; i < k; i++)
				len = len << 8 | p[2 + i];
			if (len < 0x80)
				return 0; /* would fit the short form */
			hl = 2 + k;
		}
		if (len > n - hl)
			return 0;
		if ((p[0] & 0x20) && !der_minimal(p + hl, len))
			return 0;
		p += hl + len;
		n -= hl + len;
	}
	return 1;
}

/*
 * A small DER writer for building tokens here: der_put writes tag, length
 * and content at o and returns the size.  form MIN is DER; LONG writes the
 * length with one byte more than it needs (81 05 for 5, 82 00 c8 for 200);
 * INDEF writes 80, the content and the end-of-contents 00 00 (BER only).
 */
enum form { MIN, LONG, INDEF };

static size_t der_put(uint8_t *o, uint8_t tag, const uint8_t *c, size_t cn, enum form f)
{
	size_t k = 0;
	o[k++] = tag;
	if (f == INDEF) {
		o[k++] = 0x80;
	} else {
		size_t nb = cn < 0x80 ? 0 : cn < 0x100 ? 1 : cn < 0x10000 ? 2 : 3;
		if (f == LONG)
			nb++;
		if (nb == 0) {
			o[k++] = (uint8_t)cn;
		} else {
			o[k++] = (uint8_t)(0x80 | nb);
			for (size_t i = nb; i-- > 0;)
				o[k++] = i < sizeof(size_t) ? (uint8_t)(cn >> (8 * i)) : 0;
		}
	}
	memmove(o + k, c, cn); /* c may be o's own tail */
	k += cn;
	if (f == INDEF) {
		o[k++] = 0;
		o[k++] = 0;
	}
	return k;
}

/* OID contents. */
static const uint8_t oid_krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_krb5_ms[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_ntlm[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t oid_spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
/* 1.3.6.1.4.1.311.2.2.30 (NegoEx), a mechanism Windows lists first. */
static const uint8_t oid_negoex[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e};

/*
 * The first known answer, NegTokenInit with mechTypes {krb5, NTLM} and the
 * mechToken "abc", no reqFlags, no mechListMIC, in the framing.  Innermost
 * out (RFC 4178 4.1 is EXPLICIT TAGS: each [n] wraps a whole TLV):
 *   krb5 OID    06 09 2a 86 48 86 f7 12 01 02 02               11 bytes
 *               (1.2: 1*40+2 = 0x2a; 840 = 0x86 0x48; 113554 = 0x86 0xf7
 *                0x12; 1, 2, 2)
 *   NTLM OID    06 0a 2b 06 01 04 01 82 37 02 02 0a            12 bytes
 *               (1.3: 0x2b; 6 1 4 1; 311 = 0x82 0x37; 2 2 10)
 *   MechTypeList  30 17 (11 + 12 = 23)                          25 bytes
 *   [0] mechTypes a0 19                                         27 bytes
 *   "abc"       04 03 61 62 63                                   5 bytes
 *   [2] mechToken a2 05                                          7 bytes
 *   NegTokenInit  30 22 (27 + 7 = 34)                           36 bytes
 *   [0] negTokenInit a0 24                                      38 bytes
 *   SPNEGO OID  06 06 2b 06 01 05 05 02 (1.3.6.1.5.5.2)          8 bytes
 *   framing     60 2e (8 + 38 = 46; [APPLICATION 0] constructed) 48 bytes
 */
#define KAT_INIT                                                                   \
	"602e 0606 2b0601050502 a024 3022 a019 3017 0609 2a864886f712010202"       \
	"060a 2b06010401823702020a a205 0403 616263"
#define KAT_INIT_LEN 48
/* The MechTypeList of KAT_INIT alone (offset 16 of it). */
#define KAT_MECH_TYPES "3017 0609 2a864886f712010202 060a 2b06010401823702020a"
#define KAT_MECH_TYPES_LEN 25

/*
 * NegTokenResp with every field: accept-incomplete, supportedMech NTLM, the
 * responseToken "abc", a mechListMIC of the 16 bytes 00..0f:
 *   [0] negState  a0 03 0a 01 01 (ENUMERATED 1)                  5 bytes
 *   [1] supportedMech a1 0c 06 0a <NTLM>                        14 bytes
 *   [2] responseToken a2 05 04 03 61 62 63                       7 bytes
 *   [3] mechListMIC   a3 12 04 10 00 01 .. 0f                   20 bytes
 *   NegTokenResp  30 2e (5 + 14 + 7 + 20 = 46)                  48 bytes
 *   [1] negTokenResp a1 30                                      50 bytes
 */
#define KAT_RESP                                                                   \
	"a130 302e a003 0a0101 a10c 060a 2b06010401823702020a a205 0403 616263"    \
	"a312 0410 000102030405060708090a0b0c0d0e0f"
#define KAT_RESP_LEN 50
static const uint8_t mic16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/*
 * Microsoft's NegTokenInit2 ([MS-SPNG] 2.2.1.1), as a Windows server sends
 * it first (SMB2 NEGOTIATE): mechTypes {krb5 (MS OID), krb5, NTLM}, no
 * mechToken, negHints with the hintName Windows puts there:
 *   mechs  06 09 <krb5 MS> + 06 09 <krb5> + 06 0a <NTLM>      34 bytes
 *   MechTypeList 30 22, [0] a0 24                               38 bytes
 *   "not_defined_in_RFC4178@please_ignore" is 36 = 0x24 bytes:
 *   GeneralString 1b 24 ..., [0] hintName a0 26                 40 bytes
 *   NegHints 30 28, [3] negHints a3 2a                          44 bytes
 *   NegTokenInit2 30 52 (38 + 44 = 82), [0] a0 54               86 bytes
 *   framing 60 5e (8 + 86 = 94)                                 96 bytes
 */
#define HINT "not_defined_in_RFC4178@please_ignore"
#define KAT_INIT2                                                                  \
	"605e 0606 2b0601050502 a054 3052 a024 3022 0609 2a864882f712010202"       \
	"0609 2a864886f712010202 060a 2b06010401823702020a"                       \
	"a32a 3028 a026 1b24 6e6f745f646566696e65645f696e5f52464334313738"         \
	"40706c656173655f69676e6f7265"
#define KAT_INIT2_LEN 96

/* ---- real tokens ---------------------------------------------------------------- */

/*
 * Captured by hand on Debian 12 (MIT krb5 1.20.1, gss-ntlmssp 1.2.0) with a
 * throwaway program: gss_init_sec_context with the SPNEGO OID
 * 1.3.6.1.5.5.2, flags MUTUAL|INTEG|CONF, target HTTP@server.test, each
 * output passed to gss_accept_sec_context (SPNEGO, GSS_C_NO_NAME) and back,
 * every token printed in hex.
 *
 * NTLM: the initiator's credential from gss_acquire_cred_with_password
 * ("DOM\alice", "Passw0rd!", mechs {SPNEGO}), both credentials restricted
 * with gss_set_neg_mechs({NTLM}); NTLM_USER_FILE held "DOM:alice:Passw0rd!",
 * KRB5_CONFIG=/dev/null.  Four tokens: NegTokenInit(NEGOTIATE) ->
 * NegTokenResp(accept-incomplete, NTLM, CHALLENGE) ->
 * NegTokenResp(accept-incomplete, AUTHENTICATE, mechListMIC) ->
 * NegTokenResp(accept-completed, mechListMIC).
 */
#define NTLM_CLIENT_LEG_1                                                          \
	"604806062b0601050502a03e303ca00e300c060a2b060104"                         \
	"01823702020aa22a04284e544c4d53535000010000003782"                         \
	"08e200000000000000000000000000000000060200000000"                         \
	"000f"
#define NTLM_CLIENT_LEG_1_LEN 74
#define NTLM_SERVER_LEG_1                                                          \
	"a18199308196a0030a0101a10c060a2b0601040182370202"                         \
	"0aa28180047e4e544c4d5353500002000000040004003800"                         \
	"000035828ae2c98326b81441db4300000000000000004200"                         \
	"42003c000000060200000000000f56004d00010004005600"                         \
	"4d000200160057004f0052004b0053005400410054004900"                         \
	"4f004e000300040076006d00060004000000000007000800"                         \
	"30ec75d99786dd0100000000"
#define NTLM_SERVER_LEG_1_LEN 156
#define NTLM_CLIENT_LEG_2                                                          \
	"a182013730820133a0030a0101a2820116048201124e544c"                         \
	"4d5353500003000000000000005800000096009600580000"                         \
	"0006000600ee0000000a000a00f400000004000400fe0000"                         \
	"00100010000201000035828ae2060200000000000febdfe4"                         \
	"2fb1b277a8bd7d8b6c45447dab05facd6b449446ca1c126c"                         \
	"31c49b9eee010100000000000030ec75d99786dd01ef51fd"                         \
	"03b5ecdd6c000000000100040056004d000200160057004f"                         \
	"0052004b00530054004100540049004f004e000300040076"                         \
	"006d0006000400020000000700080030ec75d99786dd0109"                         \
	"00200048005400540050002f007300650072007600650072"                         \
	"002e007400650073007400000000000000000044004f004d"                         \
	"0061006c0069006300650056004d00d995eb2a3472d72ccb"                         \
	"bd9e8b38804688a31204100100000066d2912f9f986b7a00"                         \
	"000000"
#define NTLM_CLIENT_LEG_2_LEN 315
#define NTLM_SERVER_LEG_2                                                          \
	"a11b3019a0030a0100a312041001000000e3c0ff472fd278"                         \
	"0200000000"
#define NTLM_SERVER_LEG_2_LEN 29

/*
 * Kerberos first: a throwaway realm TEST.REALM (kdb5_util, kadmin.local:
 * alice with a password, HTTP/server.test in a keytab; krb5kdc on
 * 127.0.0.1), kinit alice into a FILE ccache; the initiator with
 * GSS_C_NO_CREDENTIAL, no neg mechs set (so MIT offers krb5 and NTLM, as
 * curl --negotiate does), the acceptor with KRB5_KTNAME.  Two tokens:
 * NegTokenInit({krb5, NTLM}, optimistic AP-REQ: 2-byte long-form lengths
 * in the framing) -> NegTokenResp(accept-completed, krb5, AP-REP).
 */
#define KRB5_CLIENT_LEG_1                                                          \
	"6082030006062b0601050502a08202f4308202f0a0193017"                         \
	"06092a864886f712010202060a2b06010401823702020aa2"                         \
	"8202d1048202cd608202c906092a864886f7120102020100"                         \
	"6e8202b8308202b4a003020105a10302010ea20703050020"                         \
	"000000a38201cd618201c9308201c5a003020105a10c1b0a"                         \
	"544553542e5245414c4da21e301ca003020103a11530131b"                         \
	"04485454501b0b7365727665722e74657374a382018e3082"                         \
	"018aa003020112a103020103a282017c04820178b7bd2b51"                         \
	"f6273ae5c9dd98430db73d017264dcfab97c05edda03050e"                         \
	"00554df22e0b118adf9cb53c00b0ccba1bc2e7bb76c835b1"                         \
	"3a784b16357cd6aaffa935dd5bad946ff4ecd175f021950e"                         \
	"05c545abddd46e15bdc86152e4c32c3eea77fe7c08d2fefe"                         \
	"878642ddcddc25b25b0ebed48881ea5c74fa71ed099ab169"                         \
	"cbf892a4a5a67de6cc82c793fc9b982cb5c23dbf69e393c6"                         \
	"4ce2cb3e2b67f8192f2a30a8eb3ef72a8210aadbaef15ff7"                         \
	"f3b441d12a2068eb19a7fcb11ece3b09d97ed23985d6ea73"                         \
	"fcc4ee4ffcc36c7ebbfbb01b637e5d877cb65bc96a7a3ef5"                         \
	"d1bacc42c207010e6b91e2615904ef8e49a601bb7a34ce5b"                         \
	"1e02bb116f73519dd60aee3c73f13102bee272e6e84eefa3"                         \
	"76de916e2620dcb718c10dfd1754ebcd3c983a553c365fed"                         \
	"dc8a19773745c9d9a658b64a7d9cbeacc4f6b44184bc8e96"                         \
	"8796baecbe5c39d70df86514285ed3151c899439eb582ba2"                         \
	"b2dd8fb93d36f5f45cb773d268410bce498a0860b8c17270"                         \
	"cbda1c2ce6c027a984363d35a481cd3081caa003020112a2"                         \
	"81c20481bf5a8662fa13c510309937b8ec73dd2c25b6c2be"                         \
	"a60c4911f49fa0fff0cf4ae8bc74f957e1e442dfd547f3bd"                         \
	"f7d0373bf039fff712146c67076b1043aa4b93029fc49f1e"                         \
	"12e6941f0bf3322b51b9f1ce68c9b9d04d9397b93b7a9662"                         \
	"02e238dbd982298c5449119d7f7b330aa5ada3a38a83faf4"                         \
	"c20d65ba49c9ba7293c768b4796f0e9dbb4a244a0f269b40"                         \
	"5c41c80f5c534f07fefaf0d542873231c54d5fbef65fe1e4"                         \
	"29ae77a8e4bb4e46f824e04570942685fc5c1722005d2c3e"                         \
	"336ab67c"
#define KRB5_CLIENT_LEG_1_LEN 772
#define KRB5_SERVER_LEG_1                                                          \
	"a181b73081b4a0030a0100a10b06092a864886f712010202"                         \
	"a2819f04819c60819906092a864886f71201020202006f81"                         \
	"89308186a003020105a10302010fa27a3078a003020112a2"                         \
	"71046f7196fc24609468e2e0ea9bbb49664e92db24f94167"                         \
	"cf48659bda5f4a9e26d8e52745b24c1b0c3c689feba389be"                         \
	"827ea9ccbc9205494de50643fecebdf49c2b32569cca0684"                         \
	"f3e065510703298e2484986731ebab0df4c0abab39b483fb"                         \
	"6fc71c05bc81e774a1da505ed0983c1718ba"
#define KRB5_SERVER_LEG_1_LEN 186

struct token {
	const char *name, *hex;
	size_t len;
	int init; /* 1: an initial token, 0: a NegTokenResp */
};
static const struct token tokens[] = {
	{"KAT_INIT", KAT_INIT, KAT_INIT_LEN, 1},
	{"KAT_INIT2", KAT_INIT2, KAT_INIT2_LEN, 1},
	{"KAT_RESP", KAT_RESP, KAT_RESP_LEN, 0},
	{"NTLM_CLIENT_LEG_1", NTLM_CLIENT_LEG_1, NTLM_CLIENT_LEG_1_LEN, 1},
	{"NTLM_SERVER_LEG_1", NTLM_SERVER_LEG_1, NTLM_SERVER_LEG_1_LEN, 0},
	{"NTLM_CLIENT_LEG_2", NTLM_CLIENT_LEG_2, NTLM_CLIENT_LEG_2_LEN, 0},
	{"NTLM_SERVER_LEG_2", NTLM_SERVER_LEG_2, NTLM_SERVER_LEG_2_LEN, 0},
	{"KRB5_CLIENT_LEG_1", KRB5_CLIENT_LEG_1, KRB5_CLIENT_LEG_1_LEN, 1},
	{"KRB5_SERVER_LEG_1", KRB5_SERVER_LEG_1, KRB5_SERVER_LEG_1_LEN, 0},
};
#define N_TOKENS (sizeof tokens / sizeof tokens[0])

/* A token's bytes into buf (room 1024). */
static size_t token_bytes(const struct token *t, uint8_t *buf)
{
	size_t n = unhex(t->hex, buf, 1024);
	ck_assert_msg(n == t->len, "%s: %zu bytes, want %zu", t->name, n, t->len);
	return n;
}

/* ---- kat --------------------------------------------------------------------------- */

START_TEST(test_spnego_encode_init_matches_hand_derived_der)
{
	struct sa_spnego_buf mechs[2] = {sa__spnego_oid_krb5, sa__spnego_oid_ntlm};
	uint8_t want[KAT_INIT_LEN], out[128];
	size_t len = 0;

	ck_assert_uint_eq(unhex(KAT_INIT, want, sizeof want), KAT_INIT_LEN);
	ck_assert_int_eq(encode_init(mechs, 2, bytes("abc", 3), none, out, sizeof out,
					       &len),
			 0);
	ck_assert_uint_eq(len, KAT_INIT_LEN);
	ck_assert_mem_eq(out, want, KAT_INIT_LEN);
	/* The OID constants are the contents spnego.h names. */
	assert_buf("krb5", sa__spnego_oid_krb5, oid_krb5, sizeof oid_krb5);
	assert_buf("krb5 ms", sa__spnego_oid_krb5_ms, oid_krb5_ms, sizeof oid_krb5_ms);
	assert_buf("ntlm", sa__spnego_oid_ntlm, oid_ntlm, sizeof oid_ntlm);
}
END_TEST

START_TEST(test_spnego_encode_mech_types_matches_hand_derived_der)
{
	struct sa_spnego_buf mechs[2] = {sa__spnego_oid_krb5, sa__spnego_oid_ntlm};
	uint8_t want[KAT_MECH_TYPES_LEN], out[64];
	size_t len = 0;

	ck_assert_uint_eq(unhex(KAT_MECH_TYPES, want, sizeof want), KAT_MECH_TYPES_LEN);
	ck_assert_int_eq(encode_mech_types(mechs, 2, out, sizeof out, &len), 0);
	ck_assert_uint_eq(len, KAT_MECH_TYPES_LEN);
	ck_assert_mem_eq(out, want, KAT_MECH_TYPES_LEN);
}
END_TEST

START_TEST(test_spnego_encode_resp_matches_hand_derived_der)
{
	uint8_t want[KAT_RESP_LEN], out[128];
	size_t len = 0;

	ck_assert_uint_eq(unhex(KAT_RESP, want, sizeof want), KAT_RESP_LEN);
	ck_assert_int_eq(encode_resp(SA_SPNEGO_INCOMPLETE, sa__spnego_oid_ntlm,
					       bytes("abc", 3), bytes(mic16, 16), out, sizeof out,
					       &len),
			 0);
	ck_assert_uint_eq(len, KAT_RESP_LEN);
	ck_assert_mem_eq(out, want, KAT_RESP_LEN);
	/* No field at all: an empty SEQUENCE in [1]. */
	ck_assert_int_eq(encode_resp(SA_SPNEGO_NO_STATE, none, none, none, out,
					       sizeof out, &len),
			 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(out, "\xa1\x02\x30\x00", 4);
	/* accept-completed alone: a1 07 30 05 a0 03 0a 01 00. */
	ck_assert_int_eq(encode_resp(SA_SPNEGO_COMPLETED, none, none, none, out,
					       sizeof out, &len),
			 0);
	ck_assert_uint_eq(len, 9);
	ck_assert_mem_eq(out, "\xa1\x07\x30\x05\xa0\x03\x0a\x01\x00", 9);
	/* An empty responseToken is present (04 00), unlike an absent one:
	 * a1 0b 30 09 a0 03 0a 01 03 a2 02 04 00. */
	ck_assert_int_eq(encode_resp(SA_SPNEGO_REQUEST_MIC, none, bytes("", 0), none, out,
					       sizeof out, &len),
			 0);
	ck_assert_uint_eq(len, 13);
	ck_assert_mem_eq(out, "\xa1\x0b\x30\x09\xa0\x03\x0a\x01\x03\xa2\x02\x04\x00", 13);
}
END_TEST

/* The DER writer of this file rebuilds KAT_INIT and KAT_RESP: the hand
 * derivations and the writer agree, so the malformed variants it makes
 * below differ from the known answers only where they mean to. */
static size_t build_init(uint8_t *o, const enum form f[10], const uint8_t *extra_in_framing,
			 size_t extra_n)
{
	uint8_t a[512], b[512];
	size_t n = 0, m;
	/* 6, 7: the OIDs; 5: the list; 4: [0]; 9: "abc"; 8: [2]; 3: the
	 * SEQUENCE; 2: [0]; 1: the SPNEGO OID; 0: the framing. */
	n = der_put(a, 0x06, oid_krb5, sizeof oid_krb5, f[6]);
	n += der_put(a + n, 0x06, oid_ntlm, sizeof oid_ntlm, f[7]);
	n = der_put(b, 0x30, a, n, f[5]);
	n = der_put(a, 0xa0, b, n, f[4]);
	m = der_put(b, 0x04, (const uint8_t *)"abc", 3, f[9]);
	m = der_put(a + n, 0xa2, b, m, f[8]);
	n = der_put(b, 0x30, a, n + m, f[3]);
	n = der_put(a, 0xa0, b, n, f[2]);
	m = der_put(b, 0x06, oid_spnego, sizeof oid_spnego, f[1]);
	memcpy(b + m, a, n);
	if (extra_n != 0)
		memcpy(b + m + n, extra_in_framing, extra_n);
	return der_put(o, 0x60, b, m + n + extra_n, f[0]);
}

static size_t build_resp(uint8_t *o, const enum form f[10])
{
	uint8_t a[512], b[512], c[64];
	size_t n = 0, m;
	/* 3: ENUMERATED, 2: [0]; 5: OID, 4: [1]; 7: OCTET STRING, 6: [2];
	 * 9: OCTET STRING, 8: [3]; 1: the SEQUENCE; 0: [1]. */
	m = der_put(c, 0x0a, (const uint8_t *)"\x01", 1, f[3]);
	n = der_put(a, 0xa0, c, m, f[2]);
	m = der_put(c, 0x06, oid_ntlm, sizeof oid_ntlm, f[5]);
	n += der_put(a + n, 0xa1, c, m, f[4]);
	m = der_put(c, 0x04, (const uint8_t *)"abc", 3, f[7]);
	n += der_put(a + n, 0xa2, c, m, f[6]);
	m = der_put(c, 0x04, mic16, 16, f[9]);
	n += der_put(a + n, 0xa3, c, m, f[8]);
	n = der_put(b, 0x30, a, n, f[1]);
	return der_put(o, 0xa1, b, n, f[0]);
}

START_TEST(test_spnego_der_writer_agrees_with_the_hand_derivations)
{
	static const enum form all_min[10] = {MIN};
	uint8_t want[128], got[1024];

	ck_assert_uint_eq(unhex(KAT_INIT, want, sizeof want), KAT_INIT_LEN);
	ck_assert_uint_eq(build_init(got, all_min, NULL, 0), KAT_INIT_LEN);
	ck_assert_mem_eq(got, want, KAT_INIT_LEN);
	ck_assert_uint_eq(unhex(KAT_RESP, want, sizeof want), KAT_RESP_LEN);
	ck_assert_uint_eq(build_resp(got, all_min), KAT_RESP_LEN);
	ck_assert_mem_eq(got, want, KAT_RESP_LEN);
	ck_assert(der_minimal(got, KAT_RESP_LEN));
}
END_TEST

START_TEST(test_spnego_decode_init_matches_hand_derived_der)
{
	uint8_t in[KAT_INIT_LEN];
	struct sa_spnego_init d;

	unhex(KAT_INIT, in, sizeof in);
	ck_assert_int_eq(decode_init(in, sizeof in, &d), 0);
	ck_assert_uint_eq(d.n_mechs, 2);
	/* Offsets from the derivation: the list at 16, its OIDs' contents at
	 * 20 and 31, "abc" at 45. */
	ck_assert_ptr_eq(d.mech_types.p, in + 16);
	ck_assert_uint_eq(d.mech_types.len, KAT_MECH_TYPES_LEN);
	ck_assert_ptr_eq(d.mechs[0].p, in + 20);
	assert_buf("mechs[0]", d.mechs[0], oid_krb5, sizeof oid_krb5);
	ck_assert_ptr_eq(d.mechs[1].p, in + 31);
	assert_buf("mechs[1]", d.mechs[1], oid_ntlm, sizeof oid_ntlm);
	ck_assert_ptr_eq(d.mech_token.p, in + 45);
	assert_buf("mech_token", d.mech_token, "abc", 3);
	assert_absent("mic", d.mic);
}
END_TEST

START_TEST(test_spnego_decode_init2_takes_and_ignores_neg_hints)
{
	uint8_t in[KAT_INIT2_LEN + 32], mt[64];
	struct sa_spnego_init d;
	size_t len;

	ck_assert_uint_eq(unhex(KAT_INIT2, in, sizeof in), KAT_INIT2_LEN);
	ck_assert_int_eq(sa__spnego_sniff(in, KAT_INIT2_LEN), SA_SPNEGO_INIT);
	ck_assert_int_eq(decode_init(in, KAT_INIT2_LEN, &d), 0);
	ck_assert_uint_eq(d.n_mechs, 3);
	assert_buf("mechs[0]", d.mechs[0], oid_krb5_ms, sizeof oid_krb5_ms);
	assert_buf("mechs[1]", d.mechs[1], oid_krb5, sizeof oid_krb5);
	assert_buf("mechs[2]", d.mechs[2], oid_ntlm, sizeof oid_ntlm);
	assert_absent("mech_token", d.mech_token);
	assert_absent("mic", d.mic);
	ck_assert_ptr_eq(d.mech_types.p, in + 16); /* 60 5e <oid> a0 54 30 52 a0 24 */
	ck_assert_int_eq(encode_mech_types(d.mechs, 3, mt, sizeof mt, &len), 0);
	ck_assert_uint_eq(len, d.mech_types.len);
	ck_assert_mem_eq(mt, d.mech_types.p, len);

	/* With [4] mechListMIC after negHints: a4 05 04 03 "xyz" (7 bytes)
	 * makes the SEQUENCE 30 59, [0] a0 5b, the framing 60 65. */
	in[1] = 0x65, in[11] = 0x5b, in[13] = 0x59;
	memcpy(in + KAT_INIT2_LEN, "\xa4\x05\x04\x03xyz", 7);
	ck_assert_int_eq(decode_init(in, KAT_INIT2_LEN + 7, &d), 0);
	ck_assert_uint_eq(d.n_mechs, 3);
	assert_buf("mic", d.mic, "xyz", 3);
	ck_assert_ptr_eq(d.mic.p, in + KAT_INIT2_LEN + 4);

	/* [4] is NegTokenInit2's: after an RFC 4178 [3] mechListMIC (no
	 * negHints) it matches neither syntax.  Replace negHints (44 bytes)
	 * by a3 05 04 03 "mic" (7): SEQUENCE 38+7+7 = 52 = 0x34, [0] 0x36,
	 * framing 8 + 56 = 64 = 0x40. */
	memmove(in + 52, "\xa3\x05\x04\x03mic\xa4\x05\x04\x03xyz", 14);
	in[1] = 0x40, in[11] = 0x36, in[13] = 0x34;
	ck_assert_int_eq(decode_init_untouched_on_failure(in, 66), -1);
	/* ... and without [4] it is a plain NegTokenInit with its MIC at [3]. */
	in[1] = 0x39, in[11] = 0x2f, in[13] = 0x2d;
	ck_assert_int_eq(decode_init(in, 59, &d), 0);
	assert_buf("mic [3]", d.mic, "mic", 3);
}
END_TEST

/* ---- sniff --------------------------------------------------------------------------- */

START_TEST(test_spnego_sniff_tells_the_kinds_apart)
{
	uint8_t b[1024];
	struct sa_spnego_init d;
	size_t n;

	for (size_t i = 0; i < N_TOKENS; i++) {
		n = token_bytes(&tokens[i], b);
		ck_assert_int_eq(sa__spnego_sniff(b, n), tokens[i].init ? SA_SPNEGO_INIT : SA_SPNEGO_RESP);
	}
	/* The mechanism tokens inside the real initial tokens: gss-ntlmssp's
	 * NEGOTIATE is raw NTLM, MIT's AP-REQ raw krb5 (60 82 02 c9 06 09
	 * <krb5> 01 00 ...), also with Microsoft's OID, also a prefix of it. */
	n = unhex(NTLM_CLIENT_LEG_1, b, sizeof b);
	ck_assert_int_eq(decode_init(b, n, &d), 0);
	ck_assert_int_eq(sa__spnego_sniff(d.mech_token.p, d.mech_token.len), SA_SPNEGO_RAW_NTLM);
	n = unhex(KRB5_CLIENT_LEG_1, b, sizeof b);
	ck_assert_int_eq(decode_init(b, n, &d), 0);
	ck_assert_int_eq(sa__spnego_sniff(d.mech_token.p, d.mech_token.len), SA_SPNEGO_RAW_KRB5);
	ck_assert_int_eq(sa__spnego_sniff(d.mech_token.p, 15), SA_SPNEGO_RAW_KRB5);
	ck_assert_int_eq(sa__spnego_sniff(d.mech_token.p, 14), SA_SPNEGO_UNKNOWN); /* OID cut */
	uint8_t ms[32];
	memcpy(ms, d.mech_token.p, sizeof ms);
	ck_assert_uint_eq(ms[9], 0x86);
	ms[9] = 0x82; /* 1.2.840.48018.1.2.2 */
	ck_assert_int_eq(sa__spnego_sniff(ms, sizeof ms), SA_SPNEGO_RAW_KRB5);
	ms[9] = 0x83;
	ck_assert_int_eq(sa__spnego_sniff(ms, sizeof ms), SA_SPNEGO_UNKNOWN);

	/* Neither. */
	ck_assert_int_eq(sa__spnego_sniff(NULL, 0), SA_SPNEGO_UNKNOWN);
	ck_assert_int_eq(sa__spnego_sniff(b, 0), SA_SPNEGO_UNKNOWN);
	ck_assert_int_eq(sa__spnego_sniff((const uint8_t *)"NTLMSSP", 7), SA_SPNEGO_UNKNOWN);
	ck_assert_int_eq(sa__spnego_sniff((const uint8_t *)"\x30\x00", 2), SA_SPNEGO_UNKNOWN);
	ck_assert_int_eq(sa__spnego_sniff((const uint8_t *)"\x60", 1), SA_SPNEGO_UNKNOWN);
	/* Indefinite, or a 4-byte length, in the framing. */
	ck_assert_int_eq(sa__spnego_sniff((const uint8_t *)"\x60\x80\x06\x06\x2b\x06\x01\x05\x05\x02\xa0",
					 11),
			 SA_SPNEGO_UNKNOWN);
	ck_assert_int_eq(sa__spnego_sniff((const uint8_t *)"\x60\x84\0\0\0\x09\x06\x06\x2b\x06\x01\x05\x05\x02\xa0",
					 15),
			 SA_SPNEGO_UNKNOWN);
	/* The SPNEGO OID followed by [1], or by nothing; another OID (NegoEx). */
	ck_assert_int_eq(sa__spnego_sniff((const uint8_t *)"\x60\x09\x06\x06\x2b\x06\x01\x05\x05\x02\xa1",
					 11),
			 SA_SPNEGO_UNKNOWN);
	ck_assert_int_eq(sa__spnego_sniff((const uint8_t *)"\x60\x08\x06\x06\x2b\x06\x01\x05\x05\x02",
					 10),
			 SA_SPNEGO_UNKNOWN);
	n = 0;
	b[n++] = 0x60, b[n++] = 14, b[n++] = 0x06, b[n++] = sizeof oid_negoex;
	memcpy(b + n, oid_negoex, sizeof oid_negoex);
	n += sizeof oid_negoex;
	b[n++] = 0xa0, b[n++] = 0;
	ck_assert_int_eq(sa__spnego_sniff(b, n), SA_SPNEGO_UNKNOWN);
	/* A prefix of an initial token is still one. */
	n = unhex(KAT_INIT, b, sizeof b);
	ck_assert_int_eq(sa__spnego_sniff(b, 11), SA_SPNEGO_INIT);
	ck_assert_int_eq(sa__spnego_sniff(b, 10), SA_SPNEGO_UNKNOWN);
}
END_TEST

/* ---- decode ------------------------------------------------------------------------- */

START_TEST(test_spnego_decode_fields_point_into_the_input)
{
	uint8_t b[1024];

	for (size_t i = 0; i < N_TOKENS; i++) {
		size_t n = token_bytes(&tokens[i], b);
		uint8_t *in = dup_exact(b, n);
		if (tokens[i].init) {
			struct sa_spnego_init d;
			ck_assert_int_eq(decode_init(in, n, &d), 0);
			ck_assert_uint_ge(d.n_mechs, 1);
			ck_assert_uint_le(d.n_mechs, SA_SPNEGO_MAX_MECHS);
			for (size_t k = 0; k < d.n_mechs; k++)
				assert_inside("mechs[k]", d.mechs[k], in, n);
			assert_inside("mech_types", d.mech_types, in, n);
			ck_assert_ptr_nonnull(d.mech_types.p);
			assert_inside("mech_token", d.mech_token, in, n);
			assert_inside("mic", d.mic, in, n);
			/* The OIDs lie inside the list. */
			ck_assert(d.mechs[0].p > d.mech_types.p &&
				  d.mechs[d.n_mechs - 1].p + d.mechs[d.n_mechs - 1].len <=
					  d.mech_types.p + d.mech_types.len);
		} else {
			struct sa_spnego_resp d;
			ck_assert_int_eq(decode_resp(in, n, &d), 0);
			assert_inside("mech", d.mech, in, n);
			assert_inside("token", d.token, in, n);
			assert_inside("mic", d.mic, in, n);
		}
		free(in);
	}
}
END_TEST

START_TEST(test_spnego_resp_fields_present_and_absent)
{
	static const int states[] = {SA_SPNEGO_NO_STATE, SA_SPNEGO_COMPLETED, SA_SPNEGO_INCOMPLETE,
				     SA_SPNEGO_REJECT, SA_SPNEGO_REQUEST_MIC};
	uint8_t out[256], again[256];
	size_t len, len2;

	/* Every state with every subset of (mech, token, mic), and the empty
	 * token as a present field. */
	for (size_t s = 0; s < 5; s++) {
		for (unsigned mask = 0; mask < 16; mask++) {
			struct sa_spnego_buf mech = mask & 1 ? sa__spnego_oid_krb5_ms : none;
			struct sa_spnego_buf tok = mask & 2 ? bytes("token", 5) : none;
			struct sa_spnego_buf mic = mask & 4 ? bytes(mic16, 16) : none;
			if (mask & 8)
				tok = bytes("", 0);
			struct sa_spnego_resp d;
			ck_assert_int_eq(encode_resp(states[s], mech, tok, mic, out,
							       sizeof out, &len),
					 0);
			ck_assert(der_minimal(out, len));
			ck_assert_int_eq(sa__spnego_sniff(out, len), SA_SPNEGO_RESP);
			uint8_t *in = dup_exact(out, len);
			ck_assert_int_eq(decode_resp(in, len, &d), 0);
			ck_assert_int_eq(d.neg_state, states[s]);
			if (mask & 1)
				assert_buf("mech", d.mech, oid_krb5_ms, sizeof oid_krb5_ms);
			else
				assert_absent("mech", d.mech);
			if (mask & 8) {
				ck_assert_ptr_nonnull(d.token.p); /* present, empty */
				ck_assert_uint_eq(d.token.len, 0);
				assert_inside("token", d.token, in, len);
			} else if (mask & 2) {
				assert_buf("token", d.token, "token", 5);
			} else {
				assert_absent("token", d.token);
			}
			if (mask & 4)
				assert_buf("mic", d.mic, mic16, 16);
			else
				assert_absent("mic", d.mic);
			/* I7: the decoded fields encode to the same bytes. */
			ck_assert_int_eq(encode_resp(d.neg_state, d.mech, d.token, d.mic,
							       again, sizeof again, &len2),
					 0);
			ck_assert_uint_eq(len2, len);
			ck_assert_mem_eq(again, in, len);
			free(in);
		}
	}
}
END_TEST

/* An initial token with n copies of oid list entries, built with der_put. */
static size_t build_init_mechs(uint8_t *o, const struct sa_spnego_buf *mechs, size_t n)
{
	uint8_t a[2048], b[2048];
	size_t k = 0, m;
	for (size_t i = 0; i < n; i++)
		k += der_put(a + k, 0x06, mechs[i].p, mechs[i].len, MIN);
	k = der_put(b, 0x30, a, k, MIN);
	k = der_put(a, 0xa0, b, k, MIN);
	k = der_put(b, 0x30, a, k, MIN);
	k = der_put(a, 0xa0, b, k, MIN);
	m = der_put(b, 0x06, oid_spnego, sizeof oid_spnego, MIN);
	memcpy(b + m, a, k);
	return der_put(o, 0x60, b, m + k, MIN);
}

START_TEST(test_spnego_decode_init_keeps_the_first_eight_mechs)
{
	static const uint8_t long_oid[SA_SPNEGO_MAX_OID] = {
		0x2b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 0x81, 0x7f,
	};
	struct sa_spnego_buf mechs[SA_SPNEGO_MAX_LIST + 1];
	uint8_t b[4096], mt[512];
	struct sa_spnego_init d;
	size_t n, len;

	ck_assert_uint_lt(SA_SPNEGO_MAX_LIST, 128); /* oids[i][9] below stays one byte */
	/* OIDs 1.3.6.1.4.1.311.2.2.<i>, the 9th of them SA_SPNEGO_MAX_OID long. */
	static uint8_t oids[SA_SPNEGO_MAX_LIST + 1][10];
	for (size_t i = 0; i <= SA_SPNEGO_MAX_LIST; i++) {
		memcpy(oids[i], oid_ntlm, 10);
		oids[i][9] = (uint8_t)i;
		mechs[i] = bytes(oids[i], 10);
	}
	mechs[8] = bytes(long_oid, sizeof long_oid);
	static const size_t counts[] = {8, 9, SA_SPNEGO_MAX_LIST};
	for (size_t c = 0; c < 3; c++) {
		size_t count = counts[c];
		n = build_init_mechs(b, mechs, count);
		uint8_t *in = dup_exact(b, n);
		ck_assert_int_eq(decode_init(in, n, &d), 0);
		ck_assert_uint_eq(d.n_mechs, SA_SPNEGO_MAX_MECHS);
		for (size_t i = 0; i < SA_SPNEGO_MAX_MECHS; i++)
			assert_buf("mechs[i]", d.mechs[i], oids[i], 10);
		/* mech_types covers the whole list, the ignored rest too: it
		 * ends the token, and starts 16 bytes in for 8 mechanisms
		 * (short lengths), 20 for 9 (81 xx), 24 for 64 (82 xx xx). */
		ck_assert_ptr_eq(d.mech_types.p, in + (count == 8 ? 16 : count == 9 ? 20 : 24));
		ck_assert_uint_eq(d.mech_types.len, n - (size_t)(d.mech_types.p - in));
		if (count == 8) {
			ck_assert_int_eq(encode_mech_types(d.mechs, 8, mt, sizeof mt, &len), 0);
			ck_assert_uint_eq(len, d.mech_types.len);
			ck_assert_mem_eq(mt, d.mech_types.p, len);
		}
		free(in);
	}
	/* One OID more than SA_SPNEGO_MAX_LIST: refused. */
	n = build_init_mechs(b, mechs, SA_SPNEGO_MAX_LIST + 1);
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n), -1);
	/* Every OID is held to I3, the ignored ones too: the 10th made one
	 * byte too long (31) or ending in 0x80. */
	static uint8_t too_long[SA_SPNEGO_MAX_OID + 1];
	memcpy(too_long, long_oid, sizeof long_oid);
	too_long[SA_SPNEGO_MAX_OID - 1] = 0x81;
	too_long[SA_SPNEGO_MAX_OID] = 0x01;
	mechs[9] = bytes(too_long, sizeof too_long);
	n = build_init_mechs(b, mechs, 10);
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n), -1);
	mechs[9] = bytes("\x2b\x06\x81", 3);
	n = build_init_mechs(b, mechs, 10);
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n), -1);
}
END_TEST

START_TEST(test_spnego_mech_types_is_what_the_mic_covers)
{
	uint8_t b[1024], mt[512];
	size_t len;

	for (size_t i = 0; i < N_TOKENS; i++) {
		struct sa_spnego_init d;
		if (!tokens[i].init)
			continue;
		size_t n = token_bytes(&tokens[i], b);
		ck_assert_int_eq(decode_init(b, n, &d), 0);
		ck_assert_int_eq(encode_mech_types(d.mechs, d.n_mechs, mt, sizeof mt, &len), 0);
		ck_assert_uint_eq(len, d.mech_types.len);
		ck_assert_mem_eq(mt, d.mech_types.p, len);
		ck_assert_uint_eq(d.mech_types.p[0], 0x30);
	}
}
END_TEST

START_TEST(test_spnego_decode_accepts_and_ignores_req_flags)
{
	/* KAT_INIT with reqFlags [1] = mutualFlag | integFlag (bits 1, 6;
	 * DER drops the trailing zero bit: 03 02 01 42) after mechTypes:
	 * a1 04 03 02 01 42 (6 bytes, at 41); SEQUENCE 0x28, [0] 0x2a,
	 * framing 0x34. */
	uint8_t in[64], kat[KAT_INIT_LEN];
	struct sa_spnego_init d;

	unhex(KAT_INIT, kat, sizeof kat);
	memcpy(in, kat, 41);
	memcpy(in + 41, "\xa1\x04\x03\x02\x01\x42", 6);
	memcpy(in + 47, kat + 41, 7);
	in[1] = 0x34, in[11] = 0x2a, in[13] = 0x28;
	ck_assert_int_eq(decode_init(in, 54, &d), 0);
	ck_assert_uint_eq(d.n_mechs, 2);
	assert_buf("mech_token", d.mech_token, "abc", 3);
	/* A padding bit set (01 43: bit 7 is padding) is not DER. */
	in[46] = 0x43;
	ck_assert_int_eq(decode_init_untouched_on_failure(in, 54), -1);
	/* Nor is a BIT STRING with unused bits but no byte (03 01 01). */
	memcpy(in + 41, "\xa1\x03\x03\x01\x01", 5);
	memcpy(in + 46, kat + 41, 7);
	in[1] = 0x33, in[11] = 0x29, in[13] = 0x27;
	ck_assert_int_eq(decode_init_untouched_on_failure(in, 53), -1);
}
END_TEST

START_TEST(test_spnego_round_trips)
{
	static const struct sa_spnego_buf *pool[] = {&sa__spnego_oid_krb5, &sa__spnego_oid_krb5_ms,
						     &sa__spnego_oid_ntlm};
	static uint8_t tok[70000], out[SA_SPNEGO_MAX_TOKEN], again[SA_SPNEGO_MAX_TOKEN];
	static const size_t sizes[] = {0, 1, 127, 128, 255, 256, 1000, 65000};
	uint64_t seed = 0x5350e60;
	struct sa_spnego_buf mechs[SA_SPNEGO_MAX_MECHS];
	size_t len, len2;

	for (size_t i = 0; i < sizeof tok; i++)
		tok[i] = (uint8_t)tl_rand(&seed);
	for (int round = 0; round < 200; round++) {
		uint64_t r = tl_rand(&seed);
		size_t nm = 1 + r % SA_SPNEGO_MAX_MECHS;
		for (size_t i = 0; i < nm; i++)
			mechs[i] = *pool[(r >> (8 + 2 * i)) % 3];
		size_t tl = sizes[(r >> 32) % 8], ml = sizes[(r >> 40) % 6];
		struct sa_spnego_buf t = (r >> 48) & 1 ? bytes(tok, tl) : none;
		struct sa_spnego_buf m = (r >> 49) & 1 ? bytes(tok + 7, ml) : none;
		struct sa_spnego_init d;

		ck_assert_int_eq(encode_init(mechs, nm, t, m, out, sizeof out, &len), 0);
		ck_assert(der_minimal(out, len));
		ck_assert_int_eq(sa__spnego_sniff(out, len), SA_SPNEGO_INIT);
		uint8_t *in = dup_exact(out, len);
		ck_assert_int_eq(decode_init(in, len, &d), 0);
		ck_assert_uint_eq(d.n_mechs, nm);
		for (size_t i = 0; i < nm; i++)
			assert_buf("mech", d.mechs[i], mechs[i].p, mechs[i].len);
		if (t.p)
			assert_buf("token", d.mech_token, tok, tl);
		else
			assert_absent("token", d.mech_token);
		if (m.p)
			assert_buf("mic", d.mic, tok + 7, ml);
		else
			assert_absent("mic", d.mic);
		ck_assert_int_eq(encode_init(d.mechs, d.n_mechs, d.mech_token, d.mic, again,
						       sizeof again, &len2),
				 0);
		ck_assert_uint_eq(len2, len);
		ck_assert_mem_eq(again, in, len);
		free(in);
	}
}
END_TEST

START_TEST(test_spnego_decode_takes_the_largest_token)
{
	/* A NegTokenResp of exactly SA_SPNEGO_MAX_TOKEN bytes: a responseToken
	 * of 65520: 04 82 ff f0 (65524), a2 82 ff f4 (65528), 30 82 ff f8
	 * (65532), a1 82 ff fc (65536). */
	static uint8_t tok[65521], out[SA_SPNEGO_MAX_TOKEN + 1];
	struct sa_spnego_resp d;
	size_t len = 0;

	memset(tok, 0x5a, sizeof tok);
	ck_assert_int_eq(encode_resp(SA_SPNEGO_NO_STATE, none, bytes(tok, 65520), none, out,
					       sizeof out, &len),
			 0);
	ck_assert_uint_eq(len, SA_SPNEGO_MAX_TOKEN);
	ck_assert_mem_eq(out, "\xa1\x82\xff\xfc\x30\x82\xff\xf8\xa2\x82\xff\xf4\x04\x82\xff\xf0", 16);
	uint8_t *in = dup_exact(out, len);
	ck_assert_int_eq(decode_resp(in, len, &d), 0);
	assert_buf("token", d.token, tok, 65520);
	free(in);
	/* One byte more is over the bound, for the encoder (-3, *len
	 * untouched) and the decoder. */
	len = 7;
	ck_assert_int_eq(encode_resp(SA_SPNEGO_NO_STATE, none, bytes(tok, 65521), none, out,
					       sizeof out, &len),
			 -3);
	ck_assert_uint_eq(len, 7);
}
END_TEST

/* ---- real ------------------------------------------------------------------------------ */

START_TEST(test_spnego_decode_mit_ntlm_handshake)
{
	uint8_t b[1024];
	struct sa_spnego_init di;
	struct sa_spnego_resp d;
	size_t n;

	n = unhex(NTLM_CLIENT_LEG_1, b, sizeof b);
	ck_assert_int_eq(decode_init(b, n, &di), 0);
	ck_assert_uint_eq(di.n_mechs, 1);
	assert_buf("mech", di.mechs[0], oid_ntlm, sizeof oid_ntlm);
	ck_assert_ptr_eq(di.mech_token.p, b + 34); /* 60 48 <oid> a0 3e 30 3c a0 0e <list> a2 2a 04 28 */
	ck_assert_uint_eq(di.mech_token.len, 40);
	ck_assert_mem_eq(di.mech_token.p, "NTLMSSP\0\x01\0\0\0", 12);
	assert_absent("mic", di.mic);

	n = unhex(NTLM_SERVER_LEG_1, b, sizeof b);
	ck_assert_int_eq(decode_resp(b, n, &d), 0);
	ck_assert_int_eq(d.neg_state, SA_SPNEGO_INCOMPLETE);
	assert_buf("mech", d.mech, oid_ntlm, sizeof oid_ntlm);
	ck_assert_uint_eq(d.token.len, 126);
	ck_assert_mem_eq(d.token.p, "NTLMSSP\0\x02\0\0\0", 12);
	assert_absent("mic", d.mic);

	n = unhex(NTLM_CLIENT_LEG_2, b, sizeof b);
	ck_assert_int_eq(decode_resp(b, n, &d), 0);
	ck_assert_int_eq(d.neg_state, SA_SPNEGO_INCOMPLETE);
	assert_absent("mech", d.mech);
	ck_assert_uint_eq(d.token.len, 274);
	ck_assert_mem_eq(d.token.p, "NTLMSSP\0\x03\0\0\0", 12);
	ck_assert_uint_eq(d.mic.len, 16); /* an NTLM signature: version 1 */
	ck_assert_mem_eq(d.mic.p, "\x01\0\0\0", 4);

	n = unhex(NTLM_SERVER_LEG_2, b, sizeof b);
	ck_assert_int_eq(decode_resp(b, n, &d), 0);
	ck_assert_int_eq(d.neg_state, SA_SPNEGO_COMPLETED);
	assert_absent("mech", d.mech);
	assert_absent("token", d.token);
	ck_assert_uint_eq(d.mic.len, 16);
	ck_assert_ptr_eq(d.mic.p, b + 13);
}
END_TEST

START_TEST(test_spnego_decode_mit_krb5_handshake)
{
	uint8_t b[1024], mt[64];
	struct sa_spnego_init di;
	struct sa_spnego_resp d;
	size_t n, len;

	n = unhex(KRB5_CLIENT_LEG_1, b, sizeof b);
	ck_assert_int_eq(decode_init(b, n, &di), 0);
	/* curl's and MIT's list: krb5 then NTLM, the KAT's list exactly. */
	ck_assert_uint_eq(di.n_mechs, 2);
	assert_buf("mechs[0]", di.mechs[0], oid_krb5, sizeof oid_krb5);
	assert_buf("mechs[1]", di.mechs[1], oid_ntlm, sizeof oid_ntlm);
	ck_assert_uint_eq(unhex(KAT_MECH_TYPES, mt, sizeof mt), KAT_MECH_TYPES_LEN);
	assert_buf("mech_types", di.mech_types, mt, KAT_MECH_TYPES_LEN);
	ck_assert_ptr_eq(di.mech_token.p, b + 55); /* ... a2 82 02 d1 04 82 02 cd */
	ck_assert_uint_eq(di.mech_token.len, 717);
	assert_absent("mic", di.mic);

	n = unhex(KRB5_SERVER_LEG_1, b, sizeof b);
	ck_assert_int_eq(decode_resp(b, n, &d), 0);
	ck_assert_int_eq(d.neg_state, SA_SPNEGO_COMPLETED);
	assert_buf("mech", d.mech, oid_krb5, sizeof oid_krb5);
	ck_assert_uint_eq(d.token.len, 156); /* the AP-REP: 60 81 99 06 09 <krb5> 02 00 */
	ck_assert_int_eq(sa__spnego_sniff(d.token.p, d.token.len), SA_SPNEGO_RAW_KRB5);
	assert_absent("mic", d.mic);
	(void)len;
}
END_TEST

START_TEST(test_spnego_real_tokens_re_encode_exactly)
{
	uint8_t b[1024], out[1024];
	size_t len;

	for (size_t i = 0; i < N_TOKENS; i++) {
		size_t n = token_bytes(&tokens[i], b);
		if (strcmp(tokens[i].name, "KAT_INIT2") == 0)
			continue; /* negHints: no encoder writes it */
		ck_assert_msg(der_minimal(b, n), "%s is not DER", tokens[i].name);
		if (tokens[i].init) {
			struct sa_spnego_init d;
			ck_assert_int_eq(decode_init(b, n, &d), 0);
			ck_assert_int_eq(encode_init(d.mechs, d.n_mechs, d.mech_token, d.mic,
							       out, sizeof out, &len),
					 0);
		} else {
			struct sa_spnego_resp d;
			ck_assert_int_eq(decode_resp(b, n, &d), 0);
			ck_assert_int_eq(encode_resp(d.neg_state, d.mech, d.token, d.mic, out,
							       sizeof out, &len),
					 0);
		}
		ck_assert_msg(len == n && memcmp(out, b, n) == 0, "%s re-encodes differently",
			      tokens[i].name);
	}
}
END_TEST

/* ---- malformed ------------------------------------------------------------------------- */

START_TEST(test_spnego_decode_rejects_every_truncation)
{
	uint8_t b[1024];

	for (size_t i = 0; i < N_TOKENS; i++) {
		size_t n = token_bytes(&tokens[i], b);
		for (size_t k = 0; k < n; k++) {
			uint8_t *in = dup_exact(b, k);
			ck_assert_msg(decode_init_untouched_on_failure(in, k) == -1,
				      "%s cut at %zu: init", tokens[i].name, k);
			ck_assert_msg(decode_resp_untouched_on_failure(in, k) == -1,
				      "%s cut at %zu: resp", tokens[i].name, k);
			free(in);
		}
	}
}
END_TEST

START_TEST(test_spnego_decode_rejects_trailing_bytes)
{
	static const char *const tails[] = {"\x00", "\x00\x00", "\x04\x00", "\xa1\x02\x30\x00"};
	uint8_t b[1100];

	for (size_t i = 0; i < N_TOKENS; i++) {
		size_t n = token_bytes(&tokens[i], b);
		for (size_t t = 0; t < 4; t++) {
			size_t tn = t == 0 ? 1 : t == 3 ? 4 : 2;
			memcpy(b + n, tails[t], tn);
			uint8_t *in = dup_exact(b, n + tn);
			int r = tokens[i].init ? decode_init_untouched_on_failure(in, n + tn)
					       : decode_resp_untouched_on_failure(in, n + tn);
			ck_assert_msg(r == -1, "%s with %zu bytes more", tokens[i].name, tn);
			free(in);
		}
	}
	/* Bytes after the NegotiationToken but inside the framing's length. */
	static const enum form all_min[10] = {MIN};
	size_t n = build_init(b, all_min, (const uint8_t *)"\x04\x00", 2);
	ck_assert_uint_eq(n, KAT_INIT_LEN + 2);
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n), -1);
}
END_TEST

START_TEST(test_spnego_decode_rejects_wrong_framing)
{
	uint8_t b[256], kat[KAT_INIT_LEN];
	size_t n;

	n = unhex(KAT_INIT, kat, sizeof kat);
	/* 1.3.6.1.5.5.3 instead of 1.3.6.1.5.5.2. */
	memcpy(b, kat, n);
	b[9] = 0x03;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n), -1);
	/* The krb5 OID in its place: 60 31 06 09 <krb5> a0 24 ... (a raw krb5
	 * framing around a NegotiationToken). */
	b[0] = 0x60, b[1] = 0x31, b[2] = 0x06, b[3] = 0x09;
	memcpy(b + 4, oid_krb5, sizeof oid_krb5);
	memcpy(b + 13, kat + 10, n - 10);
	ck_assert_int_eq(sa__spnego_sniff(b, n + 3), SA_SPNEGO_RAW_KRB5);
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n + 3), -1);
	/* Another tag than [APPLICATION 0] (30, 61, 40), or no framing at all. */
	static const uint8_t tags[] = {0x30, 0x61, 0x40, 0x20, 0xa0};
	for (size_t i = 0; i < sizeof tags; i++) {
		memcpy(b, kat, n);
		b[0] = tags[i];
		ck_assert_int_eq(decode_init_untouched_on_failure(b, n), -1);
	}
	ck_assert_int_eq(decode_init_untouched_on_failure(kat + 10, n - 10), -1);
	/* The wrong alternative: a NegTokenResp in the framing, [0] given as
	 * a NegTokenResp, a framed token to decode_resp. */
	uint8_t resp[KAT_RESP_LEN];
	unhex(KAT_RESP, resp, sizeof resp);
	b[0] = 0x60, b[1] = (uint8_t)(8 + KAT_RESP_LEN);
	memcpy(b + 2, kat + 2, 8);
	memcpy(b + 10, resp, KAT_RESP_LEN);
	ck_assert_int_eq(sa__spnego_sniff(b, 10 + KAT_RESP_LEN), SA_SPNEGO_UNKNOWN);
	ck_assert_int_eq(decode_init_untouched_on_failure(b, 10 + KAT_RESP_LEN), -1);
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, 10 + KAT_RESP_LEN), -1);
	ck_assert_int_eq(decode_resp_untouched_on_failure(kat + 10, n - 10), -1);
	ck_assert_int_eq(decode_resp_untouched_on_failure(kat, n), -1);
	ck_assert_int_eq(decode_init_untouched_on_failure(resp, KAT_RESP_LEN), -1);
	/* A NegTokenResp whose [1] holds a NegTokenInit's SEQUENCE. */
	memcpy(b, kat + 10, n - 10);
	b[0] = 0xa1;
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n - 10), -1);
}
END_TEST

START_TEST(test_spnego_decode_rejects_indefinite_lengths)
{
	uint8_t b[1024];
	size_t n;

	/* Each of the ten TLVs of each known answer, in turn, indefinite. */
	for (int level = 0; level < 10; level++) {
		enum form f[10] = {MIN};
		f[level] = INDEF;
		n = build_init(b, f, NULL, 0);
		ck_assert_msg(decode_init_untouched_on_failure(b, n) == -1, "init level %d", level);
		n = build_resp(b, f);
		ck_assert_msg(decode_resp_untouched_on_failure(b, n) == -1, "resp level %d", level);
	}
	/* A constructed OCTET STRING (BER's segmented string) is not DER
	 * either: 24 80 04 03 "abc" 00 00 or 24 05 04 03 "abc". */
	static const enum form all_min[10] = {MIN};
	n = build_resp(b, all_min);
	ck_assert_uint_eq(b[23], 0xa2); /* a2 05 04 03 "abc" at 23 */
	ck_assert_uint_eq(b[25], 0x04);
	memmove(b + 27, b + 25, n - 25);
	b[25] = 0x24, b[26] = 0x05, b[24] += 2, b[3] += 2, b[1] += 2; /* a2, 30, a1 */
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n + 2), -1);
}
END_TEST

START_TEST(test_spnego_decode_rejects_non_minimal_lengths)
{
	uint8_t b[1024];
	size_t n;

	/* Each TLV in turn with a length one byte longer than it needs
	 * (81 xx where xx < 0x80): the framing's too. */
	for (int level = 0; level < 10; level++) {
		enum form f[10] = {MIN};
		f[level] = LONG;
		n = build_init(b, f, NULL, 0);
		ck_assert(!der_minimal(b, n));
		ck_assert_msg(decode_init_untouched_on_failure(b, n) == -1, "init level %d", level);
		n = build_resp(b, f);
		ck_assert_msg(decode_resp_untouched_on_failure(b, n) == -1, "resp level %d", level);
	}
	/* Long-form lengths with a leading zero: the real krb5 token's framing
	 * 60 82 03 00 written 60 83 00 03 00. */
	n = unhex(KRB5_CLIENT_LEG_1, b + 1, sizeof b - 1);
	b[0] = 0x60, b[1] = 0x83, b[2] = 0x00, b[3] = 0x03, b[4] = 0x00;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n + 1), -1);
}
END_TEST

START_TEST(test_spnego_decode_rejects_oversize_input)
{
	static uint8_t big[SA_SPNEGO_MAX_TOKEN + 16];
	uint8_t b[64];

	/* More than SA_SPNEGO_MAX_TOKEN bytes, whatever they hold. */
	memset(big, 0, sizeof big);
	big[0] = 0xa1, big[1] = 0x83, big[2] = 0x01, big[3] = 0x00, big[4] = 0x01;
	ck_assert_int_eq(decode_resp_untouched_on_failure(big, SA_SPNEGO_MAX_TOKEN + 5), -1);
	big[0] = 0x60;
	ck_assert_int_eq(decode_init_untouched_on_failure(big, SA_SPNEGO_MAX_TOKEN + 5), -1);
	/* Lengths beyond the input: 4-byte and huge ones, and one byte over. */
	static const char *const heads[] = {"a184ffffffff3000", "a1847fffffff3000", "a188ffffffffffffffff",
					    "a1033000", "a1023001", "6084ffffffff06062b0601050502a000"};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		size_t n = unhex(heads[i], b, sizeof b);
		uint8_t *in = dup_exact(b, n);
		ck_assert_int_eq(decode_resp_untouched_on_failure(in, n), -1);
		ck_assert_int_eq(decode_init_untouched_on_failure(in, n), -1);
		free(in);
	}
	/* A field one byte longer than what holds it: "abc" as 04 04. */
	static const enum form all_min[10] = {MIN};
	size_t n = build_resp(b, all_min);
	ck_assert_uint_eq(b[26], 3);
	b[26] = 4;
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n), -1);
}
END_TEST

START_TEST(test_spnego_decode_rejects_duplicate_fields)
{
	uint8_t b[128], kat[KAT_RESP_LEN], init[KAT_INIT_LEN];
	size_t n;

	/* NegTokenResp with responseToken twice: a2 05 04 03 "abc" repeated
	 * (7 bytes more: SEQUENCE 0x35, [1] 0x37). */
	n = unhex(KAT_RESP, kat, sizeof kat);
	memcpy(b, kat, 30);
	memcpy(b + 30, kat + 23, 7);
	memcpy(b + 37, kat + 30, 20);
	b[1] = 0x37, b[3] = 0x35;
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n + 7), -1);
	/* negState twice (a0 03 0a 01 01 a0 03 0a 01 00). */
	memcpy(b, kat, 9);
	memcpy(b + 9, "\xa0\x03\x0a\x01\x00", 5);
	memcpy(b + 14, kat + 9, n - 9);
	b[1] = 0x35, b[3] = 0x33;
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n + 5), -1);
	/* The fields out of order: responseToken before supportedMech. */
	memcpy(b, kat, 9);
	memcpy(b + 9, kat + 23, 7);
	memcpy(b + 16, kat + 9, 14);
	memcpy(b + 30, kat + 30, 20);
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n), -1);
	/* NegTokenInit with mechToken twice. */
	n = unhex(KAT_INIT, init, sizeof init);
	memcpy(b, init, n);
	memcpy(b + n, init + 41, 7);
	b[1] += 7, b[11] += 7, b[13] += 7;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n + 7), -1);
	/* mechTypes twice. */
	memcpy(b, init, 41);
	memcpy(b + 41, init + 14, 27);
	memcpy(b + 68, init + 41, 7);
	b[1] += 27, b[11] += 27, b[13] += 27;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n + 27), -1);
	/* Two NegotiationTokens in one framing. */
	memcpy(b, init, n);
	memcpy(b + n, init + 10, n - 10);
	b[1] += (uint8_t)(n - 10);
	ck_assert_int_eq(decode_init_untouched_on_failure(b, 2 * n - 10), -1);
}
END_TEST

/* Found by fuzz/spnego_fuzz.c (S1): libtasn1 reads an EXPLICIT tag's
 * content from after it when its length is short, so the codec checks
 * that each [n] holds exactly one TLV itself. */
START_TEST(test_spnego_decode_rejects_explicit_tags_not_holding_their_field)
{
	static const char *const resp[] = {
		"a100 3000",                              /* [1] empty, its SEQUENCE after it */
		"a102 3000 a2050403616263",               /* [1] holds less than the SEQUENCE */
		"a109 3007 a200 0403616263",              /* [2] empty, the OCTET STRING after it */
		"a10b 3009 a203 0403 61 6263",            /* [2] ends inside its OCTET STRING */
		"a10e 300c a20a 0403616263 0403616263",   /* [2] holds two TLVs */
	};
	uint8_t b[64];

	for (size_t i = 0; i < sizeof resp / sizeof resp[0]; i++) {
		size_t n = unhex(resp[i], b, sizeof b);
		uint8_t *in = dup_exact(b, n);
		ck_assert_msg(decode_resp_untouched_on_failure(in, n) == -1, "resp %zu", i);
		free(in);
	}
	/* KAT_INIT with its [0] mechTypes empty and the list after it. */
	uint8_t kat[KAT_INIT_LEN];
	size_t n = unhex(KAT_INIT, kat, sizeof kat);
	memcpy(b, kat, n);
	ck_assert_mem_eq(b + 14, "\xa0\x19\x30\x17", 4);
	b[15] = 0;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n), -1);
	/* ... and the framing's [0] empty. */
	memcpy(b, kat, n);
	b[11] = 0;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n), -1);
	/* A field the codec ignores: KAT_INIT2's hintName [0] (a0 26 at 56)
	 * empty, its GeneralString after it inside NegHints. */
	uint8_t i2[KAT_INIT2_LEN];
	n = unhex(KAT_INIT2, i2, sizeof i2);
	ck_assert_mem_eq(i2 + 52, "\xa3\x2a\x30\x28\xa0\x26\x1b\x24", 8);
	i2[57] = 0;
	ck_assert_int_eq(decode_init_untouched_on_failure(i2, n), -1);
}
END_TEST

START_TEST(test_spnego_decode_rejects_bad_oids)
{
	/* Bad contents for supportedMech (KAT_RESP's NTLM OID, 10 bytes at
	 * 13), written as 06 0a <10 bytes>: */
	static const uint8_t bad[][10] = {
		{0x80, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}, /* 0x80 first */
		{0x2b, 0x06, 0x01, 0x04, 0x01, 0x80, 0x37, 0x02, 0x02, 0x0a}, /* 0x80 inside */
		{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x8a}, /* unterminated */
		{0x2b, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x01}, /* 9-byte arc */
	};
	uint8_t kat[KAT_RESP_LEN], b[KAT_RESP_LEN];
	size_t n = unhex(KAT_RESP, kat, sizeof kat);

	ck_assert_mem_eq(kat + 13, oid_ntlm, 10);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(b, kat, n);
		memcpy(b + 13, bad[i], 10);
		ck_assert_msg(decode_resp_untouched_on_failure(b, n) == -1, "bad OID %zu", i);
	}
	/* An 8-byte arc is the most taken (56 bits). */
	memcpy(b, kat, n);
	memcpy(b + 13, "\x2b\x81\x82\x83\x84\x85\x86\x87\x01\x01", 10);
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n), 0);
	/* The empty OID: 06 00 in the list of KAT_INIT (its NTLM entry). */
	uint8_t init[KAT_INIT_LEN];
	n = unhex(KAT_INIT, init, sizeof init);
	memcpy(b, init, 29);
	memcpy(b + 29, "\x06\x00", 2);
	memcpy(b + 31, init + 41, 7);
	b[1] -= 10, b[11] -= 10, b[13] -= 10, b[15] -= 10, b[17] -= 10;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, 38), -1);
	/* An empty MechTypeList: 30 00. */
	memcpy(b, init, 16);
	memcpy(b + 16, "\x30\x00", 2);
	memcpy(b + 18, init + 41, 7);
	b[1] = 23, b[11] = 13, b[13] = 11, b[15] = 2;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, 25), -1);
	/* Something else than an OID in the list: 04 01 00. */
	memcpy(b, init, 18);
	memcpy(b + 18, "\x04\x01\x00", 3);
	memcpy(b + 21, init + 29, 19);
	b[1] -= 8, b[11] -= 8, b[13] -= 8, b[15] -= 8, b[17] -= 8;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, 40), -1);
}
END_TEST

START_TEST(test_spnego_decode_rejects_bad_neg_states)
{
	uint8_t kat[KAT_RESP_LEN], b[KAT_RESP_LEN + 2];
	size_t n = unhex(KAT_RESP, kat, sizeof kat);
	struct sa_spnego_resp d;

	ck_assert_mem_eq(kat + 4, "\xa0\x03\x0a\x01\x01", 5);
	for (int v = 0; v < 256; v++) {
		memcpy(b, kat, n);
		b[8] = (uint8_t)v;
		int r = decode_resp_untouched_on_failure(b, n);
		ck_assert_int_eq(r, v <= SA_SPNEGO_REQUEST_MIC ? 0 : -1);
	}
	/* Two content bytes (00 01: not minimal, and 01 00), and none. */
	static const char *const st[] = {"\xa0\x04\x0a\x02\x00\x01", "\xa0\x04\x0a\x02\x01\x00"};
	for (int i = 0; i < 2; i++) {
		memcpy(b, kat, 4);
		memcpy(b + 4, st[i], 6);
		memcpy(b + 10, kat + 9, n - 9);
		b[1] += 1, b[3] += 1;
		ck_assert_int_eq(decode_resp_untouched_on_failure(b, n + 1), -1);
	}
	memcpy(b, kat, 4);
	memcpy(b + 4, "\xa0\x02\x0a\x00", 4);
	memcpy(b + 8, kat + 9, n - 9);
	b[1] -= 1, b[3] -= 1;
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n - 1), -1);
	/* An INTEGER where the ENUMERATED belongs. */
	memcpy(b, kat, n);
	b[6] = 0x02;
	ck_assert_int_eq(decode_resp_untouched_on_failure(b, n), -1);
	(void)d;
}
END_TEST

START_TEST(test_spnego_decode_rejects_init2_without_mech_types)
{
	/* KAT_INIT2 without its mechTypes (38 bytes at 14): SEQUENCE 30 2c,
	 * [0] a0 2e, framing 60 38. */
	uint8_t kat[KAT_INIT2_LEN], b[KAT_INIT2_LEN];
	size_t n = unhex(KAT_INIT2, kat, sizeof kat);

	memcpy(b, kat, 14);
	memcpy(b + 14, kat + 52, n - 52);
	b[1] = 0x38, b[11] = 0x2e, b[13] = 0x2c;
	ck_assert_int_eq(decode_init_untouched_on_failure(b, n - 38), -1);
}
END_TEST

START_TEST(test_spnego_decode_rejects_null_arguments)
{
	uint8_t kat[KAT_INIT_LEN], resp[KAT_RESP_LEN];

	unhex(KAT_INIT, kat, sizeof kat);
	unhex(KAT_RESP, resp, sizeof resp);
	ck_assert_int_eq(decode_init_untouched_on_failure(NULL, KAT_INIT_LEN), -1);
	ck_assert_int_eq(decode_resp_untouched_on_failure(NULL, KAT_RESP_LEN), -1);
	ck_assert_int_eq(decode_init(kat, sizeof kat, NULL), -1);
	ck_assert_int_eq(decode_resp(resp, sizeof resp, NULL), -1);
	ck_assert_int_eq(decode_init_untouched_on_failure(kat, 0), -1);
	ck_assert_int_eq(decode_resp_untouched_on_failure(resp, 0), -1);
}
END_TEST

/* A bit flip anywhere, or a byte dropped, either fails or decodes to
 * something that itself decodes the same way (no crash, no read outside:
 * the copies are exact-size, so Valgrind and ASan see one). */
START_TEST(test_spnego_decode_survives_every_bit_flip)
{
	uint8_t b[1024];
	unsigned ok = 0, failed = 0;

	for (size_t i = 0; i < N_TOKENS; i++) {
		size_t n = token_bytes(&tokens[i], b);
		size_t step = tl_slow() && n > 200 ? 7 : 1;
		for (size_t k = 0; k < n; k += step) {
			for (int bit = 0; bit < 8; bit++) {
				b[k] ^= (uint8_t)(1u << bit);
				uint8_t *in = dup_exact(b, n);
				int r = tokens[i].init ? decode_init_untouched_on_failure(in, n)
						       : decode_resp_untouched_on_failure(in, n);
				ck_assert(r == 0 || r == -1);
				r == 0 ? ok++ : failed++;
				free(in);
				b[k] ^= (uint8_t)(1u << bit);
			}
		}
	}
	/* Flips inside OCTET STRING contents keep a token valid; flips in
	 * tags and lengths break it. */
	ck_assert_uint_gt(ok, 0);
	ck_assert_uint_gt(failed, 0);
}
END_TEST

/* ---- encode --------------------------------------------------------------------------- */

START_TEST(test_spnego_encode_reports_the_size_needed)
{
	struct sa_spnego_buf mechs[2] = {sa__spnego_oid_krb5, sa__spnego_oid_ntlm};
	uint8_t out[128], want[KAT_INIT_LEN];
	size_t len;

	unhex(KAT_INIT, want, sizeof want);
	for (size_t cap = 0; cap <= KAT_INIT_LEN; cap++) {
		memset(out, 0xee, sizeof out);
		len = 0;
		int r = encode_init(mechs, 2, bytes("abc", 3), none, cap ? out : NULL, cap, &len);
		ck_assert_uint_eq(len, KAT_INIT_LEN);
		if (cap < KAT_INIT_LEN) {
			ck_assert_int_eq(r, -1);
			for (size_t i = 0; i < sizeof out; i++)
				ck_assert_uint_eq(out[i], 0xee); /* untouched */
		} else {
			ck_assert_int_eq(r, 0);
			ck_assert_mem_eq(out, want, KAT_INIT_LEN);
			ck_assert_uint_eq(out[KAT_INIT_LEN], 0xee);
		}
	}
	len = 0;
	ck_assert_int_eq(encode_resp(SA_SPNEGO_INCOMPLETE, sa__spnego_oid_ntlm, bytes("abc", 3),
					       bytes(mic16, 16), out, KAT_RESP_LEN - 1, &len),
			 -1);
	ck_assert_uint_eq(len, KAT_RESP_LEN);
	len = 0;
	ck_assert_int_eq(encode_mech_types(mechs, 2, NULL, 0, &len), -1);
	ck_assert_uint_eq(len, KAT_MECH_TYPES_LEN);
}
END_TEST

START_TEST(test_spnego_encode_rejects_bad_arguments)
{
	struct sa_spnego_buf mechs[SA_SPNEGO_MAX_MECHS + 1];
	static const uint8_t long_oid[SA_SPNEGO_MAX_OID + 1] = {0x2b};
	static uint8_t huge[SA_SPNEGO_MAX_TOKEN + 1];
	uint8_t out[256];
	size_t len;

	for (size_t i = 0; i <= SA_SPNEGO_MAX_MECHS; i++)
		mechs[i] = sa__spnego_oid_ntlm;
	struct sa_spnego_buf bad_oids[] = {
		none, bytes(oid_ntlm, 0), bytes("\x80\x01", 2), bytes("\x2b\x86", 2),
		bytes(long_oid, sizeof long_oid), bytes("\x2b\x81\x82\x83\x84\x85\x86\x87\x88\x01", 10),
	};
#define UNTOUCHED(call)                                                   \
	do {                                                              \
		memset(out, 0xee, sizeof out);                            \
		len = 12345;                                              \
		ck_assert_int_eq((call), -3);                             \
		ck_assert_uint_eq(len, 12345);                            \
		for (size_t i_ = 0; i_ < sizeof out; i_++)                \
			ck_assert_uint_eq(out[i_], 0xee);                 \
	} while (0)
	UNTOUCHED(encode_init(mechs, 0, none, none, out, sizeof out, &len));
	UNTOUCHED(encode_init(mechs, SA_SPNEGO_MAX_MECHS + 1, none, none, out, sizeof out,
					&len));
	UNTOUCHED(encode_init(NULL, 1, none, none, out, sizeof out, &len));
	UNTOUCHED(encode_mech_types(mechs, 0, out, sizeof out, &len));
	UNTOUCHED(encode_mech_types(NULL, 2, out, sizeof out, &len));
	UNTOUCHED(encode_init(mechs, 1, bytes(huge, sizeof huge), none, out, sizeof out, &len));
	UNTOUCHED(encode_init(mechs, 1, none, bytes(huge, sizeof huge), out, sizeof out, &len));
	/* Under the field bound but over the token bound once framed. */
	UNTOUCHED(encode_init(mechs, 1, bytes(huge, SA_SPNEGO_MAX_TOKEN - 20), none, out,
					sizeof out, &len));
	for (size_t k = 0; k < sizeof bad_oids / sizeof bad_oids[0]; k++) {
		mechs[1] = bad_oids[k];
		UNTOUCHED(encode_init(mechs, 2, none, none, out, sizeof out, &len));
		UNTOUCHED(encode_mech_types(mechs, 2, out, sizeof out, &len));
		if (bad_oids[k].p != NULL) /* NULL is "no supportedMech" */
			UNTOUCHED(encode_resp(SA_SPNEGO_COMPLETED, bad_oids[k], none, none,
							out, sizeof out, &len));
	}
	UNTOUCHED(encode_resp(-2, none, none, none, out, sizeof out, &len));
	UNTOUCHED(encode_resp(4, none, none, none, out, sizeof out, &len));
	UNTOUCHED(encode_resp(SA_SPNEGO_COMPLETED, none, bytes(huge, sizeof huge), none, out,
					sizeof out, &len));
	UNTOUCHED(encode_resp(SA_SPNEGO_COMPLETED, none, none, bytes(huge, sizeof huge), out,
					sizeof out, &len));
#undef UNTOUCHED
	ck_assert_int_eq(encode_resp(SA_SPNEGO_COMPLETED, none, none, none, out, sizeof out,
					       NULL),
			 -3);
	ck_assert_int_eq(encode_init(mechs, 1, none, none, out, sizeof out, NULL), -3);
	ck_assert_int_eq(encode_mech_types(mechs, 1, out, sizeof out, NULL), -3);
}
END_TEST

START_TEST(test_spnego_encode_writes_shortest_lengths)
{
	/* Around every boundary of the length forms, for the token and so for
	 * every TLV around it, the framing's 60 included. */
	static uint8_t tok[66000], out[SA_SPNEGO_MAX_TOKEN];
	struct sa_spnego_buf mechs[1] = {sa__spnego_oid_ntlm};
	size_t len;

	memset(tok, 0x33, sizeof tok);
	for (size_t t = 90; t < 300; t++) {
		ck_assert_int_eq(encode_init(mechs, 1, bytes(tok, t), none, out, sizeof out,
						       &len),
				 0);
		ck_assert_msg(der_minimal(out, len), "init with a %zu-byte token", t);
		/* The framing's length: the bytes after its header. */
		size_t hl = out[1] < 0x80 ? 2 : 2 + (out[1] & 0x7f);
		size_t fl = out[1] < 0x80 ? out[1] : out[1] == 0x81 ? out[2] : (size_t)(out[2] << 8 | out[3]);
		ck_assert_uint_eq(fl, len - hl);
		ck_assert_int_eq(encode_resp(SA_SPNEGO_INCOMPLETE, none, bytes(tok, t),
						       bytes(tok, t / 2), out, sizeof out, &len),
				 0);
		ck_assert_msg(der_minimal(out, len), "resp with a %zu-byte token", t);
	}
	for (size_t t = 65200; t < 65500; t += 7) {
		ck_assert_int_eq(encode_resp(SA_SPNEGO_INCOMPLETE, none, bytes(tok, t), none,
						       out, sizeof out, &len),
				 0);
		ck_assert(der_minimal(out, len));
	}
	/* The framing at the 127/128 step: with mechTypes {NTLM} (a0 0e 30 0c
	 * <12>: 16 bytes) a 95-byte token is 04 5f (97), a2 61 (99); the
	 * SEQUENCE 30 73 (117), [0] a0 75 (119); with the OID 127 = 60 7f.
	 * One byte more: 128 = 60 81 80. */
	ck_assert_int_eq(encode_init(mechs, 1, bytes(tok, 95), none, out, sizeof out, &len), 0);
	ck_assert_uint_eq(len, 129);
	ck_assert_mem_eq(out, "\x60\x7f", 2);
	ck_assert_int_eq(encode_init(mechs, 1, bytes(tok, 96), none, out, sizeof out, &len), 0);
	ck_assert_uint_eq(len, 131);
	ck_assert_mem_eq(out, "\x60\x81\x80", 3);
}
END_TEST

/* ---- alloc ------------------------------------------------------------------------------ */

/* I6: no decoder or encoder allocates, on success or failure: with every
 * allocation failing, each call still answers as usual, and the
 * allocator's counters have not moved. */
START_TEST(test_spnego_codec_never_allocates)
{
	struct sa_spnego_buf mechs[2] = {sa__spnego_oid_krb5, sa__spnego_oid_ntlm};
	uint8_t init[KAT_INIT_LEN], resp[KAT_RESP_LEN], out[128];
	struct sa_alloc_stats a, b;
	struct sa_spnego_init di;
	struct sa_spnego_resp dr;
	size_t len;

	unhex(KAT_INIT, init, sizeof init);
	unhex(KAT_RESP, resp, sizeof resp);
	sa__alloc_stats(&a);
	sa__alloc_fail_at(1);
	int r[8] = {
		sa__spnego_decode_init(init, sizeof init, &di),
		sa__spnego_decode_resp(resp, sizeof resp, &dr),
		sa__spnego_decode_init(init, sizeof init - 1, &di),
		sa__spnego_encode_init(mechs, 2, bytes("abc", 3), none, out, sizeof out, &len),
		sa__spnego_encode_init(mechs, 2, bytes("abc", 3), none, out, 3, &len),
		sa__spnego_encode_resp(SA_SPNEGO_INCOMPLETE, sa__spnego_oid_ntlm, bytes("abc", 3), none,
				      out, sizeof out, &len),
		sa__spnego_encode_mech_types(mechs, 2, out, sizeof out, &len),
		sa__spnego_encode_mech_types(mechs, 0, out, sizeof out, &len),
	};
	sa__alloc_fail_at(0);
	sa__alloc_stats(&b);
	ck_assert_uint_eq(b.calls, a.calls);
	ck_assert_uint_eq(b.live_blocks, a.live_blocks);
	static const int want[8] = {0, 0, -1, 0, -1, 0, 0, -3};
	for (int i = 0; i < 8; i++)
		ck_assert_msg(r[i] == want[i], "call %d: %d, want %d", i, r[i], want[i]);
}
END_TEST

#ifdef SA_HAVE_TASN1

/* ---- oracle ---------------------------------------------------------------------------- */

/* Every vector, each of its truncations and each of its bytes dropped, to
 * both decoders of codec and oracle (decode_init and decode_resp compare),
 * and what decoded re-encoded by both (the encode_* wrappers compare). */
START_TEST(test_spnego_agrees_with_the_libtasn1_oracle)
{
	static uint8_t out[SA_SPNEGO_MAX_TOKEN];
	uint8_t b[1024], c[1024];
	unsigned decoded = 0;
	size_t len;

	for (size_t i = 0; i < N_TOKENS; i++) {
		size_t n = token_bytes(&tokens[i], b);
		for (size_t k = 0; k <= n; k++) {
			struct sa_spnego_init di;
			struct sa_spnego_resp dr;
			memcpy(c, b, k);
			memcpy(c + k, b + k + (k < n), n - k - (k < n)); /* byte k dropped */
			size_t cuts[2] = {k, n - (k < n)};
			const uint8_t *ins[2] = {b, c};
			for (int j = 0; j < 2; j++) {
				uint8_t *in = dup_exact(ins[j], cuts[j]);
				if (decode_init(in, cuts[j], &di) == 0) {
					decoded++;
					encode_init(di.mechs, di.n_mechs, di.mech_token, di.mic, out,
						    sizeof out, &len);
					encode_mech_types(di.mechs, di.n_mechs, out, sizeof out, &len);
				}
				if (decode_resp(in, cuts[j], &dr) == 0) {
					decoded++;
					encode_resp(dr.neg_state, dr.mech, dr.token, dr.mic, out,
						    sizeof out, &len);
				}
				free(in);
			}
		}
	}
	ck_assert_uint_ge(decoded, N_TOKENS);
}
END_TEST

/* The oracle allocates (libtasn1, and encode_init's inner token through
 * sa__malloc): each failed allocation it can see gives -2, leaves out
 * untouched and leaks nothing, until the call succeeds. */
START_TEST(test_spnego_oracle_oom_returns_minus_2_and_leaks_nothing)
{
	struct sa_spnego_buf mechs[2] = {sa__spnego_oid_krb5, sa__spnego_oid_ntlm};
	uint8_t out[128];
	uint64_t live = tl_live_blocks();
	uint64_t k;
	size_t len = 999;
	int r;

	for (k = 1; k < 10; k++) {
		memset(out, 0xee, sizeof out);
		sa__alloc_fail_at(k);
		r = sa_spnego_tasn1_encode_init(mechs, 2, bytes("abc", 3), none, out, sizeof out,
						&len);
		sa__alloc_fail_at(0);
		ck_assert_uint_eq(tl_live_blocks(), live);
		if (r == 0)
			break;
		ck_assert_int_eq(r, -2);
		ck_assert_uint_eq(len, 999);
		ck_assert_uint_eq(out[0], 0xee);
	}
	ck_assert_uint_eq(k, 2);
	ck_assert_uint_eq(len, KAT_INIT_LEN);
}
END_TEST

/* ---- tab ------------------------------------------------------------------------------- */

#define ASN_FILE "test/spnego.asn"
#define TAB_FILE "test/spnego_asn1_tab.c"

/* The whole of a file (malloc'd, NUL-terminated) and its size. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s (run from the top directory)", path);
	char *s = NULL;
	size_t cap = 0;
	*n = 0;
	for (;;) {
		if (cap - *n < 4096) {
			cap = cap * 2 + 8192;
			s = realloc(s, cap);
			ck_assert_ptr_nonnull(s);
		}
		size_t got = fread(s + *n, 1, cap - *n - 1, f);
		if (got == 0)
			break;
		*n += got;
	}
	fclose(f);
	s[*n] = 0;
	return s;
}

START_TEST(test_spnego_tab_matches_the_definition_file)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "", tmp[] = "/tmp/spnego_tab_XXXXXX";
	size_t gn, cn;
	int fd = mkstemp(tmp);

	ck_assert_int_ge(fd, 0);
	close(fd);
	/* What asn1Parser -n sa__spnego_asn1_tab writes, through the library
	 * function it calls. */
	ck_assert_msg(asn1_parser2array(ASN_FILE, tmp, "sa__spnego_asn1_tab", err) == ASN1_SUCCESS,
		      "%s: %s", ASN_FILE, err);
	char *gen = slurp(tmp, &gn);
	unlink(tmp);
	char *com = slurp(TAB_FILE, &cn);
	/* The committed file: one comment, then the generator's output. */
	char *end = strstr(com, "*/\n");
	ck_assert_msg(strncmp(com, "/*", 2) == 0 && end != NULL, "%s: no comment header", TAB_FILE);
	char *body = end + 3;
	int same = strlen(body) == gn && memcmp(body, gen, gn) == 0;
	if (!same && getenv("SA_SPNEGO_REGEN") != NULL) {
		FILE *f = fopen(TAB_FILE, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(com, 1, (size_t)(body - com), f), (size_t)(body - com));
		ck_assert_uint_eq(fwrite(gen, 1, gn, f), gn);
		ck_assert_int_eq(fclose(f), 0);
		fprintf(stderr, "check_spnego: rewrote %s; rebuild\n", TAB_FILE);
	}
	free(gen);
	free(com);
	ck_assert_msg(same, "%s is not what %s generates: SA_SPNEGO_REGEN=1 %s rewrites it", TAB_FILE,
		      ASN_FILE, "build/test/check_spnego");
}
END_TEST

#endif /* SA_HAVE_TASN1 */

int main(void)
{
	Suite *s = suite_create("spnego");

	TCase *tc = tcase_create("kat");
	tcase_add_test(tc, test_spnego_encode_init_matches_hand_derived_der);
	tcase_add_test(tc, test_spnego_encode_mech_types_matches_hand_derived_der);
	tcase_add_test(tc, test_spnego_encode_resp_matches_hand_derived_der);
	tcase_add_test(tc, test_spnego_der_writer_agrees_with_the_hand_derivations);
	tcase_add_test(tc, test_spnego_decode_init_matches_hand_derived_der);
	tcase_add_test(tc, test_spnego_decode_init2_takes_and_ignores_neg_hints);
	suite_add_tcase(s, tc);

	tc = tcase_create("sniff");
	tcase_add_test(tc, test_spnego_sniff_tells_the_kinds_apart);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_test(tc, test_spnego_decode_fields_point_into_the_input);
	tcase_add_test(tc, test_spnego_resp_fields_present_and_absent);
	tcase_add_test(tc, test_spnego_decode_init_keeps_the_first_eight_mechs);
	tcase_add_test(tc, test_spnego_mech_types_is_what_the_mic_covers);
	tcase_add_test(tc, test_spnego_decode_accepts_and_ignores_req_flags);
	tcase_add_test(tc, test_spnego_round_trips);
	tcase_add_test(tc, test_spnego_decode_takes_the_largest_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("real");
	tcase_add_test(tc, test_spnego_decode_mit_ntlm_handshake);
	tcase_add_test(tc, test_spnego_decode_mit_krb5_handshake);
	tcase_add_test(tc, test_spnego_real_tokens_re_encode_exactly);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_test(tc, test_spnego_decode_rejects_every_truncation);
	tcase_add_test(tc, test_spnego_decode_rejects_trailing_bytes);
	tcase_add_test(tc, test_spnego_decode_rejects_wrong_framing);
	tcase_add_test(tc, test_spnego_decode_rejects_indefinite_lengths);
	tcase_add_test(tc, test_spnego_decode_rejects_non_minimal_lengths);
	tcase_add_test(tc, test_spnego_decode_rejects_oversize_input);
	tcase_add_test(tc, test_spnego_decode_rejects_duplicate_fields);
	tcase_add_test(tc, test_spnego_decode_rejects_explicit_tags_not_holding_their_field);
	tcase_add_test(tc, test_spnego_decode_rejects_bad_oids);
	tcase_add_test(tc, test_spnego_decode_rejects_bad_neg_states);
	tcase_add_test(tc, test_spnego_decode_rejects_init2_without_mech_types);
	tcase_add_test(tc, test_spnego_decode_rejects_null_arguments);
	tcase_add_test(tc, test_spnego_decode_survives_every_bit_flip);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_test(tc, test_spnego_encode_reports_the_size_needed);
	tcase_add_test(tc, test_spnego_encode_rejects_bad_arguments);
	tcase_add_test(tc, test_spnego_encode_writes_shortest_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("alloc");
	tcase_add_test(tc, test_spnego_codec_never_allocates);
	suite_add_tcase(s, tc);

#ifdef SA_HAVE_TASN1
	tc = tcase_create("oracle");
	tcase_add_test(tc, test_spnego_agrees_with_the_libtasn1_oracle);
	tcase_add_test(tc, test_spnego_oracle_oom_returns_minus_2_and_leaks_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("tab");
	tcase_add_test(tc, test_spnego_tab_matches_the_definition_file);
	suite_add_tcase(s, tc);
#else
	printf("check_spnego: no libtasn1: the oracle's tests are left out\n");
#endif

	int failed = tl_run_suite(s);
#ifdef SA_HAVE_TASN1
	sa_spnego_tasn1_cleanup();
#endif
	return failed;
}

