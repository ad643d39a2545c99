/*
 * src/packages/negotiate/spnego.h - SPNEGO tokens (RFC 4178, [MS-SPNG]) in
 * DER: tell the kinds of a first token apart, decode, encode.
 *
 * A wire-format module: it knows no SSPI or GSSAPI type, no handle and no
 * negotiation state (which mechanism wins, when a mechListMIC is due: the
 * "Negotiate" package decides).  A hand-written DER codec that never
 * allocates; the syntax it follows is test/spnego.asn, which libtasn1 reads
 * for the test oracle (test/spnego_tasn1.h).  The invariants are numbered
 * above struct sa_spnego_init; each names its test in test/check_spnego.c,
 * and fuzz/spnego_fuzz.c holds the decoders and encoders to them and to
 * the oracle's answers.
 */
#ifndef SSPIASYNC_PACKAGES_NEGOTIATE_SPNEGO_H
#define SSPIASYNC_PACKAGES_NEGOTIATE_SPNEGO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes: in a decoded token, a part of the caller's input. */
struct sa_spnego_buf {
	const uint8_t *p;
	size_t len;
};

#define SA_SPNEGO_MAX_TOKEN 65536 /* bytes: the largest token decoded or encoded */
#define SA_SPNEGO_MAX_MECHS 8     /* OIDs kept of a received mechTypes list (I3) */
#define SA_SPNEGO_MAX_OID 30      /* content bytes of any OID taken or given (I3) */
#define SA_SPNEGO_MAX_LIST 64     /* OIDs in a received mechTypes list, kept or not (I3) */

/* ---- telling tokens apart ----------------------------------------------------- */

enum sa_spnego_kind {
	SA_SPNEGO_UNKNOWN,
	SA_SPNEGO_INIT,     /* 0x60 framing + 1.3.6.1.5.5.2 + [0] (NegTokenInit or NegTokenInit2) */
	SA_SPNEGO_RESP,     /* [1] NegTokenResp (0xa1) */
	SA_SPNEGO_RAW_NTLM, /* "NTLMSSP\0" */
	SA_SPNEGO_RAW_KRB5, /* 0x60 framing + 1.2.840.113554.1.2.2 or Microsoft's 1.2.840.48018.1.2.2 */
};

/*
 * sa__spnego_sniff() - What the first bytes of a token say it is.
 * Reads only [in, in + n): the 0x60 header must have a definite length of
 * at most 3 bytes, the OID after it must lie inside the input.  The rest
 * is not looked at: a token sniffed INIT or RESP can still fail to decode.
 * Returns UNKNOWN for anything else, for in == NULL and for n == 0.
 * Context: any thread; never allocates.
 */
enum sa_spnego_kind sa__spnego_sniff(const uint8_t *in, size_t n);

/* ---- decoding ----------------------------------------------------------------- */

/* NegTokenResp's negState; SA_SPNEGO_NO_STATE: the field is absent. */
enum {
	SA_SPNEGO_COMPLETED = 0,
	SA_SPNEGO_INCOMPLETE = 1,
	SA_SPNEGO_REJECT = 2,
	SA_SPNEGO_REQUEST_MIC = 3,
	SA_SPNEGO_NO_STATE = -1,
};

/*
 * What a decoder returns, for sa_spnego_init and sa_spnego_resp alike:
 *
 * I1 Only DER is decoded: definite lengths in their shortest form (the
 *    0x60 framing's too), primitive strings, every field in its place and
 *    at most once, each explicit tag [n] holding exactly its field, BIT
 *    STRING padding bits zero, nothing after the token; anything else is
 *    -1.  [test_spnego_decode_rejects_non_minimal_lengths,
 *    test_spnego_decode_rejects_indefinite_lengths,
 *    test_spnego_decode_rejects_trailing_bytes,
 *    test_spnego_decode_rejects_duplicate_fields,
 *    test_spnego_decode_rejects_explicit_tags_not_holding_their_field,
 *    test_spnego_decode_accepts_and_ignores_req_flags]
 * I2 Every sa_spnego_buf returned lies inside [in, in + n).  An absent
 *    optional field is {NULL, 0}; a present empty OCTET STRING has p != NULL
 *    and len 0.  [test_spnego_decode_fields_point_into_the_input,
 *    test_spnego_resp_fields_present_and_absent]
 * I3 mechs[] holds the first n_mechs <= SA_SPNEGO_MAX_MECHS OIDs of the
 *    list, each a DER OID's content bytes (at least one byte, no 0x80 at
 *    the start of a subidentifier, none over 8 bytes, the last byte below
 *    0x80) of at most SA_SPNEGO_MAX_OID bytes.  A longer list is taken and
 *    its rest ignored, but every OID of it is held to the same rules, and
 *    it may hold at most SA_SPNEGO_MAX_LIST OIDs (no peer sends more than
 *    a handful).  A list must hold at least one OID (RFC 4178 4.2.1).
 *    [test_spnego_decode_init_keeps_the_first_eight_mechs,
 *    test_spnego_decode_rejects_bad_oids]
 * I4 mech_types is the MechTypeList as received, tag and length included
 *    (what a mechListMIC covers): for a list of n_mechs OIDs it equals
 *    sa__spnego_encode_mech_types(mechs, n_mechs).
 *    [test_spnego_mech_types_is_what_the_mic_covers]
 * I5 The input is at most SA_SPNEGO_MAX_TOKEN bytes; a field cannot be
 *    larger.  [test_spnego_decode_rejects_oversize_input]
 * I6 On failure *out is untouched.  Nothing is allocated, on any path.
 *    [every malformed test; test_spnego_codec_never_allocates; make memcheck]
 * I7 A token an encoder wrote decodes to what it was given, and a decoded
 *    NegTokenInit in RFC 4178's form without reqFlags and with at most
 *    SA_SPNEGO_MAX_MECHS mechanisms (and any NegTokenResp) re-encodes to the
 *    input, byte for byte.  [test_spnego_round_trips,
 *    test_spnego_real_tokens_re_encode_exactly, fuzz/spnego_fuzz.c]
 */
struct sa_spnego_init {
	size_t n_mechs;
	struct sa_spnego_buf mechs[SA_SPNEGO_MAX_MECHS]; /* OID contents (no 06 tag/length) */
	struct sa_spnego_buf mech_types;                 /* the MechTypeList DER, as received */
	struct sa_spnego_buf mech_token, mic;            /* OCTET STRING contents */
};

struct sa_spnego_resp {
	int neg_state;            /* SA_SPNEGO_COMPLETED..REQUEST_MIC, or NO_STATE */
	struct sa_spnego_buf mech; /* supportedMech: OID content */
	struct sa_spnego_buf token, mic;
};

/*
 * sa__spnego_decode_init() - Decode an initial token: the RFC 2743 framing
 * (0x60, the SPNEGO OID 1.3.6.1.5.5.2) around [0] NegTokenInit (RFC 4178
 * 4.2.1) or Microsoft's NegTokenInit2 ([MS-SPNG] 2.2.1.1: negHints is
 * checked as syntax and ignored, mechListMIC is its [4]; mechTypes is
 * required, as RFC 4178 requires it).  reqFlags is checked and ignored.
 * Returns 0 and fills *out; -1 malformed (wrong framing or OID, not DER,
 * trailing bytes, a field over its limit, in or out NULL).  (-2, no
 * memory, is kept in the contract but no longer happens: nothing allocates.)
 * Ownership: out's pointers point into in, valid while in lives.
 * Context: any thread; never allocates.
 */
int sa__spnego_decode_init(const uint8_t *in, size_t n, struct sa_spnego_init *out);

/*
 * sa__spnego_decode_resp() - Decode a NegTokenResp (RFC 4178 4.2.2): the
 * bare [1] (0xa1), no framing.  negState must be one of the four values.
 * Returns, owns and allocates (nothing) as sa__spnego_decode_init().
 */
int sa__spnego_decode_resp(const uint8_t *in, size_t n, struct sa_spnego_resp *out);

/* ---- encoding ----------------------------------------------------------------- */

/*
 * The encoders write DER at out, room for cap bytes: definite lengths in
 * their shortest form, the 0x60 framing's included.  OIDs (mechs, mech) are
 * content bytes held to I3; an sa_spnego_buf with p == NULL is an absent
 * field, one with p != NULL and len 0 an empty OCTET STRING.
 * Returns 0 and *len = bytes written; -1 out too small (or NULL): *len =
 * bytes needed, out untouched; -3 invalid argument (a bad or NULL OID,
 * n_mechs 0 or over SA_SPNEGO_MAX_MECHS, neg_state out of range, a token
 * whose encoding would pass SA_SPNEGO_MAX_TOKEN, len NULL): out and *len
 * untouched.  (-2, no memory, no longer happens.)  The lengths are worked
 * out first, then the token written once, front to back.
 * Context: any thread; never allocates.
 */

/* NegTokenInit with mechTypes, mechToken and mechListMIC (no reqFlags) in
 * the framing: 60 len 06 06 2b 06 01 05 05 02 a0 ... */
int sa__spnego_encode_init(const struct sa_spnego_buf *mechs, size_t n_mechs,
			  struct sa_spnego_buf mech_token, struct sa_spnego_buf mic, uint8_t *out,
			  size_t cap, size_t *len);
/* NegTokenResp (a1 ...); neg_state SA_SPNEGO_NO_STATE: omitted. */
int sa__spnego_encode_resp(int neg_state, struct sa_spnego_buf mech, struct sa_spnego_buf token,
			  struct sa_spnego_buf mic, uint8_t *out, size_t cap, size_t *len);
/* The MechTypeList (30 len 06 ...) a mechListMIC covers: the bytes
 * sa__spnego_encode_init puts in its mechTypes, and what I4 promises a
 * decoded mech_types equals. */
int sa__spnego_encode_mech_types(const struct sa_spnego_buf *mechs, size_t n_mechs, uint8_t *out,
				size_t cap, size_t *len);

/* OID contents: 1.2.840.113554.1.2.2 (Kerberos 5), 1.2.840.48018.1.2.2
 * (Microsoft's Kerberos 5 OID), 1.3.6.1.4.1.311.2.2.10 (NTLMSSP). */
extern const struct sa_spnego_buf sa__spnego_oid_krb5, sa__spnego_oid_krb5_ms, sa__spnego_oid_ntlm;

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_PACKAGES_NEGOTIATE_SPNEGO_H */
