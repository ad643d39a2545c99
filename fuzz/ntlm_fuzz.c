/*
 * fuzz/ntlm_fuzz.c - libFuzzer harness for the "NTLM" package (fuzz/README.md,
 * "The NTLM fuzzer").
 *
 * One input is [mode][mode's bytes...]; the modes:
 *   0 PARSE   the three message parsers, the AV-pair walkers and the name
 *             decoders on the bytes, each checked against a reference
 *             reading of [MS-NLMP] 2.2: the return value, every field
 *             (inside the input and at the offset its header names), the
 *             flags, has_mic, and UTF-16 -> UTF-8 -> UTF-16 round trips.
 *   1 ACCEPT1 AcceptSecurityContext's first leg on the bytes as NEGOTIATE:
 *             the exact status the parsed NEGOTIATE calls for, a well-formed
 *             CHALLENGE back, no context on failure.
 *   2 ACCEPT2 a real NEGOTIATE (our client's, or curl's 32 bytes) and the
 *             server's real CHALLENGE, then an AUTHENTICATE that is the bytes
 *             as given, or our client's real one with the input's edits;
 *             optionally "fixed up" (its NTProofStr and MIC recomputed for the
 *             CHALLENGE of this run and the user file's password), so a seed
 *             AUTHENTICATE passes verification and mutations reach past it.
 *   3 INIT2   InitializeSecurityContextA's second leg on a CHALLENGE: the
 *             bytes as given, or the server's real one with edits (its
 *             AUTHENTICATE then goes back to the server).
 *   4 MSG     a real handshake, then message ops.
 *   5 LOOKUP  mode 2 with the server verifying users through its store
 *             callback (sspiasync_ntlm_set_lookup) instead of the file.
 * Modes 2 to 5 end with message ops on whatever contexts they completed:
 * MakeSignature/EncryptMessage -> VerifySignature/DecryptMessage with
 * fuzzer-chosen buffer layouts (token size, data pieces, extra buffers, qop),
 * tampering, dropping, the wrong unprotect call, and raw tokens.  A model of
 * both sequence numbers predicts every status exactly.
 *
 * Oracles: statuses only those sspi.h and README document, exact where the
 * harness can know them; outputs well formed; no context after a failed first
 * leg; a later leg on a finished context SEC_E_OUT_OF_SEQUENCE; after each
 * input every context deleted and credential freed (SEC_E_OK each),
 * sspiasync_stats() 0 contexts and credentials, the library's allocator back
 * where it was; ASan/UBSan/LSan for the rest.  A violation prints and aborts.
 *
 * NTLM_USER_FILE names a file written at start (mkstemp, unlinked at once and
 * read through /proc/self/fd, so nothing is left behind) with the users the
 * seeds use, all with the password "Secret1!".
 *
 * Built by fuzz/run.sh (libFuzzer); fuzz/ntlm_replay.c includes it (no
 * libFuzzer: replays fuzz/ntlm_corpus/ in make check and make memcheck, and
 * writes the seeds with --gen).
 * NTLM_FUZZ_TRACE=1 prints every call.
 */
#define _DEFAULT_SOURCE /* mkstemp, setenv */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "packages/ntlm/ntlm_int.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PASSWORD "Secret1!"
#define TOK 2888           /* SA_NTLM_MAX_TOKEN */
#define EDIT_CAP 4096      /* an edited token's room */
#define MAX_MSG_OPS 32
#define REQ_C (ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_REPLAY_DETECT | \
	       ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONNECTION)
#define REQ_S (ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY | ASC_REQ_REPLAY_DETECT | \
	       ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONNECTION)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- input, failures, trace ------------------------------------------------ */

static const uint8_t *g_in;
static size_t g_len, g_pos;
static int g_trace;
static unsigned long g_ok;   /* final legs that returned SEC_E_OK (the replay checks "-ok" seeds) */
static uint64_t g_live_base; /* the library's live blocks between inputs */

static unsigned u8(void)
{
	return g_pos < g_len ? g_in[g_pos++] : 0;
}

static unsigned u16(void)
{
	unsigned lo = u8();
	return lo | u8() << 8;
}

/* Up to want bytes of the input at *p; how many. */
static size_t take(size_t want, const uint8_t **p)
{
	size_t n = g_len - g_pos;
	if (want < n)
		n = want;
	*p = g_in + g_pos;
	g_pos += n;
	return n;
}

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ntlm_fuzz: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (input byte %zu of %zu)\n", g_pos, g_len);
	abort();
}

#define CHECK(c, ...)                       \
	do {                                \
		if (!(c))                   \
			fail(__VA_ARGS__);  \
	} while (0)
#define X(st) ((unsigned)(uint32_t)(st))

static void trace(const char *fmt, ...)
{
	if (!g_trace)
		return;
	va_list ap;
	fprintf(stderr, "ntlm_fuzz: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int one_of(SECURITY_STATUS st, const SECURITY_STATUS *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (st == set[i])
			return 1;
	return 0;
}
#define ONE_OF(st, ...)                                                      \
	one_of((st), (const SECURITY_STATUS[]){__VA_ARGS__},                 \
	       sizeof((const SECURITY_STATUS[]){__VA_ARGS__}) / sizeof(SECURITY_STATUS))

/* An exact-size heap copy: ASan (and Valgrind) see a read one byte past it. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n != 0 ? n : 1);
	CHECK(d != NULL, "malloc");
	if (n != 0)
		memcpy(d, p, n);
	return d;
}

static int inside(const uint8_t *m, size_t n, const struct sa_ntlm_field *f)
{
	uintptr_t a = (uintptr_t)m, p = (uintptr_t)f->p;
	return f->len == 0 || (p >= a && p - a <= n && f->len <= n - (p - a));
}

/* ---- mode 0: the parsers against a reference reading ----------------------- */

/* The field header at off names bytes inside the message (or is empty). */
static int ref_field_ok(const uint8_t *m, size_t n, size_t off)
{
	size_t len = sa_ntlm_le16(m + off), at = sa_ntlm_le32(m + off + 4);
	return len == 0 || (at <= n && len <= n - at);
}

/* A parsed field is what its header says: empty (NULL, 0), or m + offset. */
static void ref_field_is(const uint8_t *m, size_t n, size_t off, const struct sa_ntlm_field *f,
			 const char *what)
{
	size_t len = sa_ntlm_le16(m + off), at = sa_ntlm_le32(m + off + 4);
	CHECK(inside(m, n, f), "%s: field outside the message", what);
	if (len == 0)
		CHECK(f->p == NULL && f->len == 0, "%s: empty field not (NULL, 0)", what);
	else
		CHECK(f->p == m + at && f->len == len, "%s: field (%zu at %zu) is not its header's",
		      what, f->len, (size_t)(f->p - m));
}

static int ref_header(const uint8_t *m, size_t n, size_t min, uint32_t type)
{
	return n >= min && memcmp(m, "NTLMSSP", 8) == 0 && sa_ntlm_le32(m + 8) == type;
}

/* [MS-NLMP] 2.2.2.1: pairs (id, len, value) up to MsvAvEOL (len 0), each inside. */
static int ref_av_ok(const uint8_t *p, size_t n)
{
	for (size_t at = 0; at + 4 <= n;) {
		size_t id = sa_ntlm_le16(p + at), len = sa_ntlm_le16(p + at + 2);
		if (at + 4 + len > n)
			return 0;
		if (id == SA_NTLM_AV_EOL)
			return len == 0;
		at += 4 + len;
	}
	return 0;
}

static void check_av(const uint8_t *src, size_t n, unsigned extra_id, const char *what)
{
	uint8_t *p = dup_exact(src, n);
	int rc = sa__ntlm_av_check(p, n);
	CHECK(rc == 0 || rc == -1, "%s: av_check returned %d", what, rc);
	CHECK((rc == 0) == ref_av_ok(p, n), "%s: av_check says %d on %zu bytes", what, rc, n);
	for (unsigned id = 0; id <= 12; id++) {
		uint16_t want = id == 12 ? (uint16_t)extra_id : (uint16_t)id;
		struct sa_ntlm_field f = {(const uint8_t *)"untouched", 9};
		int got = sa__ntlm_av_find(p, n, want, &f);
		/* The reference: the first pair with that id before EOL, all inside. */
		const uint8_t *rp = NULL;
		size_t rl = 0;
		for (size_t at = 0; at + 4 <= n;) {
			size_t aid = sa_ntlm_le16(p + at), len = sa_ntlm_le16(p + at + 2);
			if (aid == SA_NTLM_AV_EOL || at + 4 + len > n)
				break;
			if (aid == want) {
				rp = p + at + 4;
				rl = len;
				break;
			}
			at += 4 + len;
		}
		CHECK(got == (rp != NULL), "%s: av_find(%u) says %d", what, want, got);
		if (got) {
			CHECK(inside(p, n, &f) && f.p >= p + 4, "%s: av_find(%u) outside", what, want);
			CHECK(f.p == rp && f.len == rl, "%s: av_find(%u) not the first pair", what, want);
		}
	}
	free(p);
}

/* Decoders of a received name: UTF-16LE -> UTF-8 -> UTF-16LE gives the bytes
 * back; OEM -> UTF-8 -> UTF-16 gives each byte as one unit. */
static void check_name(const struct sa_ntlm_field *f, const char *what)
{
	if (f->len == 0)
		return;
	uint8_t *p = dup_exact(f->p, f->len);
	char *s = sa__ntlm_utf8(p, f->len);
	CHECK((s != NULL) == (sa__ntlm_utf16_ok(p, f->len) != 0), "%s: utf8 and utf16_ok disagree",
	      what);
	if (s != NULL) {
		static uint8_t back[2 * 0x10000];
		long n = sa__ntlm_utf16(s, 0, back, sizeof back);
		CHECK(n == (long)f->len && memcmp(back, p, f->len) == 0,
		      "%s: UTF-16 round trip differs", what);
		sa__free(s);
	}
	s = sa__ntlm_oem(p, f->len);
	CHECK((s != NULL) == (memchr(p, 0, f->len) == NULL), "%s: oem on a NUL", what);
	if (s != NULL) {
		static uint8_t back[2 * 0x10000];
		long n = sa__ntlm_utf16(s, 0, back, sizeof back);
		CHECK(n == 2 * (long)f->len, "%s: OEM length", what);
		for (size_t i = 0; i < f->len; i++)
			CHECK(back[2 * i] == p[i] && back[2 * i + 1] == 0, "%s: OEM byte %zu", what, i);
		sa__free(s);
	}
	free(p);
}

static void parse_all(const uint8_t *src, size_t n, unsigned extra_id)
{
	uint8_t *m = dup_exact(src, n);
	struct sa_ntlm_negotiate ng;
	struct sa_ntlm_challenge ch;
	struct sa_ntlm_authenticate au;

	int rc = sa__ntlm_parse_negotiate(m, n, &ng);
	int want = ref_header(m, n, 16, SA_NTLM_NEGOTIATE) &&
		   (n < SA_NTLM_NEG_MIN || (ref_field_ok(m, n, 16) && ref_field_ok(m, n, 24)));
	CHECK(rc == (want ? 0 : -1), "parse_negotiate: %d on %zu bytes, want %d", rc, n, want);
	if (rc == 0) {
		CHECK(ng.flags == sa_ntlm_le32(m + 12), "negotiate: flags");
		if (n < SA_NTLM_NEG_MIN) {
			CHECK(ng.domain.len == 0 && ng.workstation.len == 0, "negotiate: short fields");
		} else {
			ref_field_is(m, n, 16, &ng.domain, "negotiate domain");
			ref_field_is(m, n, 24, &ng.workstation, "negotiate workstation");
		}
	}

	rc = sa__ntlm_parse_challenge(m, n, &ch);
	want = ref_header(m, n, 32, SA_NTLM_CHALLENGE) && ref_field_ok(m, n, 12) &&
	       (n < SA_NTLM_CHAL_MIN || ref_field_ok(m, n, 40));
	CHECK(rc == (want ? 0 : -1), "parse_challenge: %d on %zu bytes, want %d", rc, n, want);
	if (rc == 0) {
		CHECK(ch.flags == sa_ntlm_le32(m + 20), "challenge: flags");
		CHECK(memcmp(ch.server_challenge, m + 24, 8) == 0, "challenge: server challenge");
		ref_field_is(m, n, 12, &ch.target_name, "challenge target name");
		if (n < SA_NTLM_CHAL_MIN)
			CHECK(ch.target_info.len == 0, "challenge: short target info");
		else
			ref_field_is(m, n, 40, &ch.target_info, "challenge target info");
		check_av(ch.target_info.p, ch.target_info.len, extra_id, "target info");
		check_name(&ch.target_name, "target name");
	}

	rc = sa__ntlm_parse_authenticate(m, n, &au);
	static const size_t offs[6] = {12, 20, 28, 36, 44, 52};
	want = ref_header(m, n, SA_NTLM_AUTH_MIN, SA_NTLM_AUTHENTICATE);
	for (int i = 0; i < 6 && want; i++)
		want = ref_field_ok(m, n, offs[i]);
	CHECK(rc == (want ? 0 : -1), "parse_authenticate: %d on %zu bytes, want %d", rc, n, want);
	if (rc == 0) {
		const struct sa_ntlm_field *f[6] = {&au.lm,   &au.nt,	       &au.domain,
						    &au.user, &au.workstation, &au.enc_key};
		size_t lo = n;
		for (int i = 0; i < 6; i++) {
			ref_field_is(m, n, offs[i], f[i], "authenticate field");
			size_t len = sa_ntlm_le16(m + offs[i]), at = sa_ntlm_le32(m + offs[i] + 4);
			if (len != 0 && at < lo)
				lo = at;
		}
		CHECK(au.flags == sa_ntlm_le32(m + 60), "authenticate: flags");
		CHECK(au.has_mic == (n >= SA_NTLM_AUTH_HDR && lo >= SA_NTLM_AUTH_HDR),
		      "authenticate: has_mic %d, payload at %zu of %zu", au.has_mic, lo, n);
		if (au.nt.len >= 16 + SA_NTLM_V2_BLOB_FIXED)
			check_av(au.nt.p + 16 + SA_NTLM_V2_BLOB_FIXED,
				 au.nt.len - 16 - SA_NTLM_V2_BLOB_FIXED, extra_id, "blob AV pairs");
		check_name(&au.user, "user");
		check_name(&au.domain, "domain");
		check_name(&au.workstation, "workstation");
	}
	/* The whole input as an AV list too. */
	check_av(m, n, extra_id, "input as AV pairs");
	free(m);
}

static void mode_parse(void)
{
	unsigned id = u16();
	const uint8_t *p;
	size_t n = take(SIZE_MAX, &p);
	struct sa_ntlm_negotiate ng;
	struct sa_ntlm_challenge ch;
	struct sa_ntlm_authenticate au;
	CHECK(sa__ntlm_parse_negotiate(NULL, 0, &ng) == -1 &&
		      sa__ntlm_parse_challenge(NULL, 0, &ch) == -1 &&
		      sa__ntlm_parse_authenticate(NULL, 0, &au) == -1,
	      "a parser took NULL");
	parse_all(p, n, id);
}

/* ---- one input's objects and legs ------------------------------------------ */

struct ident {
	const char *user, *domain, *pw;
	int in_file; /* the user file has the user (its password is PASSWORD) */
};
static const struct ident g_ids[] = {
	{"alice", "DOM", PASSWORD, 1},
	{"alice", "DOM", "wrong", 1},
	{"carol", "ANYWHERE", PASSWORD, 1}, /* the file's entry has an empty domain */
	{"mallory", "DOM", PASSWORD, 0},
	{"j\xc3\xbcrgen", "DOM", PASSWORD, 0}, /* not ASCII: no OEM name */
	{NULL, NULL, NULL, 1},                 /* no identity: the file's first entry (alice) */
};
#define NIDS (sizeof g_ids / sizeof g_ids[0])
static const char *const g_targets[4] = {NULL, "HTTP/server.test", NULL /* from the input */,
					 "HOST/m\xc3\xa4rchen\xf0\x9f\x98\x80"};

/* curl's NEGOTIATE: 32 bytes, OEM, no Version, empty fields at 0. */
static const uint8_t g_curl_neg[32] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0,
				       0x06, 0x82, 0x08, 0x00};

enum { ROOM_FULL, ROOM_ALLOC, ROOM_SMALL, ROOM_NONE };

struct leg_args {
	int room;
	size_t cap;         /* ROOM_SMALL */
	unsigned layout;    /* input description: bit 0 EMPTY first, 1 READONLY token, 2 junk TOKEN after */
	const uint8_t *cb;  /* channel bindings, or NULL */
	size_t cb_len;
	const char *target;
};

struct run {
	CredHandle cc, sc;
	int have_cc, have_sc;
	CtxtHandle c, s;
	int have_c, have_s; /* exist: deleted at the end */
	int done_c, done_s; /* complete */
	int rej_c, rej_s;   /* rejected: a later leg failed for good */
	unsigned long attr_c, attr_s;
	uint8_t neg[TOK], chal[TOK], auth[TOK];
	size_t neg_len, chal_len, auth_len;
	int ident;
	int cb_kind[2];      /* client, server: 0 none, 1 "A", 2 "B", 3 raw from the input */
	uint8_t cb[2][96];
	size_t cb_len[2];
	const char *target;
	/* the message model, per direction (0: client to server) */
	uint32_t sent[2], recvd[2];
	int paired; /* both complete with the same keys */
	int lookup; /* the server asks lookup() */
	unsigned long lookups;
	char target_buf[1024];
};
static struct run R;

static SECURITY_STATUS acquire(int outbound, const struct ident *id, CredHandle *out)
{
	SEC_WINNT_AUTH_IDENTITY_A a = {0};
	if (id != NULL && id->user != NULL) {
		a.User = (unsigned char *)id->user;
		a.UserLength = (unsigned long)strlen(id->user);
		a.Domain = (unsigned char *)id->domain;
		a.DomainLength = (unsigned long)strlen(id->domain);
		a.Password = (unsigned char *)id->pw;
		a.PasswordLength = (unsigned long)strlen(id->pw);
		a.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
	}
	TimeStamp ts;
	return AcquireCredentialsHandleA(NULL, "NTLM",
					 outbound ? SECPKG_CRED_OUTBOUND : SECPKG_CRED_INBOUND, NULL,
					 a.User != NULL ? &a : NULL, NULL, NULL, out, &ts);
}

/* The store callback of mode 5: the file's users (and alice...), any
 * domain; mallory's store fails (any status but SEC_E_OK denies). */
static SECURITY_STATUS lookup(void *arg, const char *domain, const char *user,
			      unsigned char nt_hash[16])
{
	CHECK(arg == &R && domain != NULL && user != NULL && user[0] != '\0', "lookup arguments");
	R.lookups++;
	if (strcasecmp(user, "mallory") == 0)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (strncasecmp(user, "alice", 5) != 0 && strcasecmp(user, "carol") != 0)
		return SEC_E_LOGON_DENIED; /* (alice's long names reach NTOWFv2's limit) */
	CHECK(sa__ntlm_nt_hash(PASSWORD, nt_hash) == 0, "nt_hash");
	return SEC_E_OK;
}

/* Target i: g_targets[i], or (2) up to 1023 bytes of the input. */
static void target(unsigned i)
{
	R.target = g_targets[i & 3];
	if ((i & 3) == 2) {
		const uint8_t *p;
		size_t n = take(u16() % sizeof R.target_buf, &p);
		memcpy(R.target_buf, p, n);
		R.target_buf[n] = '\0';
		R.target = R.target_buf;
	}
}

/* Our client cannot carry the target (not UTF-8, or too long). */
static int target_bad(void)
{
	static uint8_t u[2 * SA_NTLM_NAME_MAX];
	return R.target != NULL && sa__ntlm_utf16(R.target, 0, u, sizeof u) < 0;
}

static void need_creds(int client)
{
	if (client && !R.have_cc) {
		SECURITY_STATUS st = acquire(1, &g_ids[R.ident], &R.cc);
		CHECK(st == SEC_E_OK, "ACH outbound (identity %d): %08x", R.ident, X(st));
		R.have_cc = 1;
	} else if (!client && !R.have_sc) {
		SECURITY_STATUS st = acquire(0, NULL, &R.sc);
		CHECK(st == SEC_E_OK, "ACH inbound: %08x", X(st));
		R.have_sc = 1;
		if (R.lookup)
			CHECK(sspiasync_ntlm_set_lookup(&R.sc, lookup, &R) == SEC_E_OK, "set_lookup");
	}
	if (client && R.lookup) {
		SECURITY_STATUS st = sspiasync_ntlm_set_lookup(&R.cc, lookup, &R);
		CHECK(st == SEC_E_UNSUPPORTED_FUNCTION, "set_lookup(outbound): %08x", X(st));
	}
}

/* One leg of one side: the token (exact-size copy) in, up to TOK bytes out. */
static SECURITY_STATUS leg(int client, const uint8_t *in, size_t in_len, const struct leg_args *a,
			   uint8_t *out, size_t *out_len)
{
	need_creds(client);
	CtxtHandle *h = client ? &R.c : &R.s;
	int *have = client ? &R.have_c : &R.have_s;
	int first = !*have;
	uint8_t *tok = in != NULL ? dup_exact(in, in_len) : NULL;
	uint8_t junk[4] = {'j', 'u', 'n', 'k'};
	SecBuffer ib[4];
	unsigned long nb = 0;
	if (a->layout & 1)
		ib[nb++] = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
	if (tok != NULL)
		ib[nb++] = (SecBuffer){(unsigned long)in_len,
				       SECBUFFER_TOKEN | ((a->layout & 2) ? SECBUFFER_READONLY : 0),
				       tok};
	if (a->cb != NULL)
		ib[nb++] = (SecBuffer){(unsigned long)a->cb_len, SECBUFFER_CHANNEL_BINDINGS,
				       (void *)a->cb};
	if (a->layout & 4)
		ib[nb++] = (SecBuffer){sizeof junk, SECBUFFER_TOKEN, junk};
	SecBufferDesc id = {SECBUFFER_VERSION, nb, ib};

	unsigned long req = client ? REQ_C : REQ_S;
	uint8_t *room = NULL;
	SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	if (a->room == ROOM_FULL || a->room == ROOM_SMALL) {
		size_t cap = a->room == ROOM_FULL ? TOK : a->cap;
		room = malloc(cap != 0 ? cap : 1);
		CHECK(room != NULL, "malloc");
		ob = (SecBuffer){(unsigned long)cap, SECBUFFER_TOKEN, cap != 0 ? room : NULL};
	} else if (a->room == ROOM_ALLOC) {
		req |= ISC_REQ_ALLOCATE_MEMORY;
	}
	CtxtHandle nh;
	memset(&nh, 0x5A, sizeof nh);
	const CtxtHandle pat = nh;
	unsigned long attrs = 0;
	TimeStamp ts;
	SECURITY_STATUS st;
	if (client)
		st = InitializeSecurityContextA(first ? &R.cc : NULL, first ? NULL : h,
						(SEC_CHAR *)a->target, req, 0, SECURITY_NATIVE_DREP,
						nb != 0 ? &id : NULL, 0, first ? &nh : h,
						a->room != ROOM_NONE ? &od : NULL, &attrs, &ts);
	else
		st = AcceptSecurityContext(first ? &R.sc : NULL, first ? NULL : h, &id, req,
					   SECURITY_NATIVE_DREP, first ? &nh : h,
					   a->room != ROOM_NONE ? &od : NULL, &attrs, &ts);
	trace("%s leg (%s, %zu bytes in, room %d): %08x", client ? "ISC" : "ASC",
	      first ? "first" : "later", in_len, a->room, X(st));
	int made = st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED;
	if (first) {
		if (made) {
			CHECK(memcmp(&nh, &pat, sizeof nh) != 0, "first leg made no handle");
			*h = nh;
			*have = 1;
		} else {
			CHECK(memcmp(&nh, &pat, sizeof nh) == 0, "failed first leg wrote a handle");
		}
	}
	*out_len = 0;
	if (made && a->room != ROOM_NONE) {
		size_t n = ob.cbBuffer;
		CHECK(n <= TOK, "token of %zu bytes", n);
		CHECK(a->room != ROOM_SMALL || n <= a->cap, "token of %zu bytes in %zu", n, a->cap);
		if (n != 0)
			memcpy(out, ob.pvBuffer, n);
		*out_len = n;
		if (a->room == ROOM_ALLOC && ob.pvBuffer != NULL)
			CHECK(FreeContextBuffer(ob.pvBuffer) == SEC_E_OK, "FreeContextBuffer(token)");
	} else if (a->room == ROOM_ALLOC) {
		CHECK(ob.pvBuffer == NULL, "failed leg allocated a token");
	}
	if (made)
		*(client ? &R.attr_c : &R.attr_s) = attrs;
	if (st == SEC_E_OK)
		*(client ? &R.done_c : &R.done_s) = 1;
	if (!first && !made &&
	    !ONE_OF(st, SEC_E_BUFFER_TOO_SMALL, SEC_E_INSUFFICIENT_MEMORY, SEC_E_INCOMPLETE_MESSAGE,
		    SEC_E_OUT_OF_SEQUENCE))
		*(client ? &R.rej_c : &R.rej_s) = 1;
	free(tok);
	free(room);
	return st;
}

/* A leg with the whole room and no frills. */
static SECURITY_STATUS leg_plain(int client, const uint8_t *in, size_t in_len, const uint8_t *cb,
				 size_t cb_len, uint8_t *out, size_t *out_len)
{
	struct leg_args a = {.room = ROOM_FULL, .cb = cb, .cb_len = cb_len, .target = R.target};
	return leg(client, in, in_len, &a, out, out_len);
}

/* Another leg on a finished (complete or rejected) context: refused. */
static void leg_again(int client, const uint8_t *in, size_t in_len)
{
	uint8_t out[TOK];
	size_t n;
	SECURITY_STATUS st = leg_plain(client, in, in_len, NULL, 0, out, &n);
	CHECK(st == SEC_E_OUT_OF_SEQUENCE, "%s after the last leg: %08x", client ? "ISC" : "ASC",
	      X(st));
}

/* Channel bindings of kind k (1 "A", 2 "B", 3 raw from the input) for side i. */
static void bindings(int i, int k)
{
	R.cb_kind[i] = k;
	R.cb_len[i] = 0;
	if (k == 1 || k == 2) {
		SEC_CHANNEL_BINDINGS h;
		const char *app = k == 1 ? "tls-server-end-point:AAAA" : "tls-server-end-point:BBBB";
		memset(&h, 0, sizeof h);
		h.cbApplicationDataLength = (unsigned long)strlen(app);
		h.dwApplicationDataOffset = sizeof h;
		memcpy(R.cb[i], &h, sizeof h);
		memcpy(R.cb[i] + sizeof h, app, strlen(app));
		R.cb_len[i] = sizeof h + strlen(app);
	} else if (k == 3) {
		const uint8_t *p;
		R.cb_len[i] = take(u8() % (sizeof R.cb[i] + 1), &p);
		memcpy(R.cb[i], p, R.cb_len[i]);
		if (R.cb_len[i] == 0)
			R.cb_kind[i] = 0; /* an empty buffer is no bindings */
	}
}
static const uint8_t *cb_of(int i)
{
	return R.cb_kind[i] != 0 ? R.cb[i] : NULL;
}

/* The token's edits: xor, set, truncate, nudge a 16-bit field, grow. */
static size_t edit(uint8_t *t, size_t n)
{
	unsigned k = u8() % 9;
	while (k-- > 0 && n != 0) {
		unsigned kind = u8(), pos = u16(), val = u8();
		size_t at = pos % n;
		switch (kind % 5) {
		case 0:
			t[at] ^= (uint8_t)(val | 1);
			break;
		case 1:
			t[at] = (uint8_t)val;
			break;
		case 2:
			n = at;
			break;
		case 3:
			if (at + 1 < n) {
				unsigned v = sa_ntlm_le16(t + at) + val - 128;
				t[at] = (uint8_t)v;
				t[at + 1] = (uint8_t)(v >> 8);
			}
			break;
		default: {
			size_t add = val * 4u;
			if (add > EDIT_CAP - n)
				add = EDIT_CAP - n;
			for (size_t i = 0; i < add; i++)
				t[n + i] = t[i % n];
			n += add;
		}
		}
	}
	return n;
}

/* Recompute an AUTHENTICATE's NTProofStr and MIC for this run's CHALLENGE
 * (R.chal) and NEGOTIATE (R.neg) with PASSWORD, through the package's own
 * primitives, as a client knowing the password would have.  Returns 1 when
 * the token had what it takes. */
static int fixup(uint8_t *t, size_t n)
{
	struct sa_ntlm_authenticate a;
	if (sa__ntlm_parse_authenticate(t, n, &a) != 0 || a.nt.len < 16 + SA_NTLM_V2_BLOB_FIXED)
		return 0;
	uint32_t cf = sa_ntlm_le32(R.chal + 20);
	uint32_t eff = a.flags != 0 ? cf & (a.flags | SA_NTLM_F_UNICODE | SA_NTLM_F_OEM) : cf;
	int unicode = (cf & SA_NTLM_F_UNICODE) != 0;
	char *user = a.user.len == 0 ? NULL
		     : unicode	     ? sa__ntlm_utf8(a.user.p, a.user.len)
				     : sa__ntlm_oem(a.user.p, a.user.len);
	char *dom = a.domain.len == 0 ? NULL
		    : unicode	      ? sa__ntlm_utf8(a.domain.p, a.domain.len)
				      : sa__ntlm_oem(a.domain.p, a.domain.len);
	uint8_t hash[16], key[16], proof[16], base[16], exported[16], mic[16];
	int ok = user != NULL && (a.domain.len == 0 || dom != NULL) &&
		 sa__ntlm_nt_hash(PASSWORD, hash) == 0 &&
		 sa__ntlm_ntowfv2(hash, user, dom != NULL ? dom : "", key) == 0;
	if (ok) {
		uint8_t *nt = (uint8_t *)a.nt.p; /* inside t */
		sa__ntlm_v2_proof(key, R.chal + 24, nt + 16, a.nt.len - 16, proof);
		memcpy(nt, proof, 16);
		sa__ntlm_session_base_key(key, proof, base);
		if ((eff & SA_NTLM_F_KEY_EXCH) && a.enc_key.len == 16)
			sa__ntlm_rc4_once(base, exported, a.enc_key.p, 16);
		else
			memcpy(exported, base, 16);
		if (a.has_mic) {
			memset(t + SA_NTLM_AUTH_MIC_OFF, 0, 16);
			sa__ntlm_mic(exported, R.neg, R.neg_len, R.chal, R.chal_len, t, n, mic);
			memcpy(t + SA_NTLM_AUTH_MIC_OFF, mic, 16);
		}
	}
	sa__free(user);
	sa__free(dom);
	return ok;
}

/* A CHALLENGE our server sent: well formed, what the NEGOTIATE asked for. */
static void check_challenge_out(const uint8_t *m, size_t n, uint32_t neg_flags)
{
	struct sa_ntlm_challenge ch;
	CHECK(sa__ntlm_parse_challenge(m, n, &ch) == 0, "our CHALLENGE does not parse");
	uint32_t need = SA_NTLM_F_ESS | SA_NTLM_F_TARGET_INFO | SA_NTLM_F_NTLM;
	CHECK((ch.flags & need) == need, "our CHALLENGE flags %08x", ch.flags);
	int uni = (neg_flags & SA_NTLM_F_UNICODE) != 0;
	CHECK(((ch.flags & SA_NTLM_F_UNICODE) != 0) == uni &&
		      ((ch.flags & SA_NTLM_F_OEM) != 0) == !uni,
	      "our CHALLENGE charset %08x for %08x", ch.flags, neg_flags);
	CHECK(!(ch.flags & SA_NTLM_F_SEAL) ||
		      ((neg_flags & SA_NTLM_F_SEAL) && (neg_flags & SA_NTLM_F_128)),
	      "SEAL without 128");
	CHECK(ch.target_info.len != 0 && ch.target_info.len <= SA_NTLM_TARGET_INFO_MAX &&
		      sa__ntlm_av_check(ch.target_info.p, ch.target_info.len) == 0,
	      "our target info");
	struct sa_ntlm_field f;
	CHECK(sa__ntlm_av_find(ch.target_info.p, ch.target_info.len, SA_NTLM_AV_TIMESTAMP, &f) &&
		      f.len == 8,
	      "our target info has no time");
}

/* An AUTHENTICATE our client sent: well formed, NTLMv2, with a MIC. */
static void check_authenticate_out(const uint8_t *m, size_t n)
{
	struct sa_ntlm_authenticate a;
	CHECK(sa__ntlm_parse_authenticate(m, n, &a) == 0, "our AUTHENTICATE does not parse");
	CHECK(a.has_mic, "our AUTHENTICATE has no MIC room");
	CHECK(a.nt.len > 16 + SA_NTLM_V2_BLOB_FIXED && a.user.len != 0, "our NT response");
	const uint8_t *av = a.nt.p + 16 + SA_NTLM_V2_BLOB_FIXED;
	size_t avn = a.nt.len - 16 - SA_NTLM_V2_BLOB_FIXED - 4;
	struct sa_ntlm_field f;
	CHECK(sa__ntlm_av_check(av, avn) == 0, "our blob's AV pairs");
	CHECK(sa__ntlm_av_find(av, avn, SA_NTLM_AV_FLAGS, &f) && f.len == 4 &&
		      (sa_ntlm_le32(f.p) & SA_NTLM_AVF_MIC),
	      "our MsvAvFlags");
	CHECK(sa__ntlm_av_find(av, avn, SA_NTLM_AV_CHANNEL_BINDINGS, &f) && f.len == 16,
	      "our channel bindings pair");
}

/* The server's answer to an AUTHENTICATE, then the checks of its end state. */
static SECURITY_STATUS server_auth(const uint8_t *t, size_t n, unsigned layout)
{
	uint8_t out[TOK];
	size_t on;
	struct leg_args a = {.room = (layout & 8) ? ROOM_ALLOC : ROOM_FULL,
			     .layout = layout,
			     .cb = cb_of(1),
			     .cb_len = R.cb_len[1]};
	SECURITY_STATUS st = leg(0, t, n, &a, out, &on);
	CHECK(ONE_OF(st, SEC_E_OK, SEC_E_LOGON_DENIED, SEC_E_INVALID_TOKEN) ||
		      (st == SEC_E_INVALID_PARAMETER && R.cb_kind[1] == 3),
	      "ASC(AUTHENTICATE): %08x", X(st));
	if (st == SEC_E_OK) {
		g_ok++;
		CHECK(on == 0, "ASC's last leg sent %zu bytes", on);
		SecPkgContext_NamesA nm;
		CHECK(QueryContextAttributesA(&R.s, SECPKG_ATTR_NAMES, &nm) == SEC_E_OK,
		      "names of a complete context");
		CHECK(strchr(nm.sUserName, '\\') != NULL, "name %s", nm.sUserName);
		CHECK(FreeContextBuffer(nm.sUserName) == SEC_E_OK, "FreeContextBuffer(name)");
		SecPkgContext_Lifespan ls;
		CHECK(QueryContextAttributesA(&R.s, SECPKG_ATTR_LIFESPAN, &ls) == SEC_E_OK &&
			      ls.tsStart.QuadPart > 0 && ls.tsExpiry.QuadPart >= ls.tsStart.QuadPart,
		      "lifespan of a complete context");
	}
	leg_again(0, t, n);
	return st;
}

/* Both sides complete: the same session key is what makes them a pair. */
static void pair_up(int must)
{
	if (!R.done_c || !R.done_s)
		return;
	SecPkgContext_SessionKey kc, ks;
	CHECK(QueryContextAttributesA(&R.c, SECPKG_ATTR_SESSION_KEY, &kc) == SEC_E_OK &&
		      QueryContextAttributesA(&R.s, SECPKG_ATTR_SESSION_KEY, &ks) == SEC_E_OK,
	      "session keys");
	R.paired = kc.SessionKeyLength == 16 && ks.SessionKeyLength == 16 &&
		   memcmp(kc.SessionKey, ks.SessionKey, 16) == 0;
	CHECK(R.paired || !must, "client and server keys differ");
	FreeContextBuffer(kc.SessionKey);
	FreeContextBuffer(ks.SessionKey);
}

/* The client's first leg: our 40-byte NEGOTIATE, in room (NULL: all). */
static void client_negotiate_in(const struct leg_args *room)
{
	struct leg_args a = {.room = ROOM_FULL, .cb = cb_of(0), .cb_len = R.cb_len[0],
			     .target = R.target};
	if (room != NULL) {
		a.room = room->room;
		a.cap = room->cap;
	}
	SECURITY_STATUS st = leg(1, NULL, 0, &a, R.neg, &R.neg_len);
	if ((a.room == ROOM_SMALL && a.cap < 40) || a.room == ROOM_NONE) {
		CHECK(st == SEC_E_BUFFER_TOO_SMALL && !R.have_c, "ISC first leg in %zu bytes: %08x",
		      a.cap, X(st));
		a.room = ROOM_FULL;
		st = leg(1, NULL, 0, &a, R.neg, &R.neg_len);
	}
	CHECK(st == SEC_I_CONTINUE_NEEDED && R.neg_len == 40, "ISC first leg: %08x, %zu bytes",
	      X(st), R.neg_len);
	struct sa_ntlm_negotiate ng;
	CHECK(sa__ntlm_parse_negotiate(R.neg, R.neg_len, &ng) == 0 && (ng.flags & SA_NTLM_F_ESS),
	      "our NEGOTIATE");
}
static void client_negotiate(void)
{
	client_negotiate_in(NULL);
}

/* The server's first leg on R.neg: its CHALLENGE. */
static void server_challenge(void)
{
	SECURITY_STATUS st = leg_plain(0, R.neg, R.neg_len, NULL, 0, R.chal, &R.chal_len);
	CHECK(st == SEC_I_CONTINUE_NEEDED, "ASC(real NEGOTIATE): %08x", X(st));
	check_challenge_out(R.chal, R.chal_len, sa_ntlm_le32(R.neg + 12));
}

/* What the server must answer to a real, unedited AUTHENTICATE. */
static SECURITY_STATUS expect_real(int fixed, int curl_neg)
{
	const struct ident *id = &g_ids[R.ident];
	int user_ok = id->in_file && (fixed || id->pw == NULL || strcmp(id->pw, PASSWORD) == 0);
	int mic_ok = fixed || !curl_neg;
	int c = R.cb_kind[0], s = R.cb_kind[1];
	int cb_ok = s == 0 || c == 0 || c == s;
	return user_ok && mic_ok && cb_ok ? SEC_E_OK : SEC_E_LOGON_DENIED;
}

/* ---- message protection ---------------------------------------------------- */

#define MAXDATA 17

struct msg {
	SecBuffer b[MAXDATA + 4];
	SecBufferDesc d;
	int ti;          /* the token's index, -1 none */
	int di[MAXDATA]; /* the data pieces' indices */
	int nd;
	int null_data;   /* a DATA buffer NULL with a size: the facade's INVALID_PARAMETER */
	size_t tok_cb;
	size_t total;    /* data bytes */
	int ro;          /* every DATA buffer read-only: signed, never sealed */
	uint8_t plain[MAXDATA * 64];
};

/* A message description from the input; raw: the token's bytes too. */
static void msg_build(struct msg *m, int raw)
{
	unsigned l = u8(), t = u8();
	memset(m, 0, sizeof *m);
	m->ti = -1;
	m->nd = (l & 7) == 7 ? MAXDATA : (int)(l & 7);
	int tokfirst = !(l & 8), extra = (l >> 4) & 3, ro = (l & 0x40) != 0;
	m->ro = ro;
	int has_tok = t != 255;
	m->tok_cb = t < 192 ? 16 : t - 192u;
	unsigned long nb = 0;
	for (int pass = 0; pass < 2; pass++) {
		if ((pass == 0) == tokfirst && has_tok) {
			uint8_t *p = malloc(m->tok_cb != 0 ? m->tok_cb : 1);
			CHECK(p != NULL, "malloc");
			memset(p, 0, m->tok_cb);
			if (raw) {
				const uint8_t *s;
				size_t n = take(m->tok_cb, &s);
				memcpy(p, s, n);
			}
			m->ti = (int)nb;
			m->b[nb++] = (SecBuffer){(unsigned long)m->tok_cb, SECBUFFER_TOKEN,
						 m->tok_cb != 0 ? p : NULL};
			if (m->tok_cb == 0)
				free(p);
		}
		if (pass == 0)
			for (int i = 0; i < m->nd; i++) {
				size_t len = u8() & 63;
				uint8_t *p = len != 0 ? malloc(len) : NULL;
				if (len != 0) {
					const uint8_t *s;
					size_t n = take(len, &s);
					CHECK(p != NULL, "malloc");
					memset(p, 0, len);
					memcpy(p, s, n);
					memcpy(m->plain + m->total, p, len);
				}
				m->total += len;
				m->di[i] = (int)nb;
				m->b[nb++] = (SecBuffer){
					(unsigned long)len,
					SECBUFFER_DATA | (ro ? SECBUFFER_READONLY_WITH_CHECKSUM : 0), p};
			}
	}
	if (extra == 1) {
		m->b[nb++] = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
		m->b[nb++] = (SecBuffer){8, SECBUFFER_STREAM_HEADER, calloc(1, 8)};
	} else if (extra == 2) {
		m->b[nb++] = (SecBuffer){5, SECBUFFER_MISSING, NULL};
		if (has_tok)
			m->b[nb++] = (SecBuffer){16, SECBUFFER_TOKEN, calloc(1, 16)};
	} else if (extra == 3) {
		m->b[nb++] = (SecBuffer){3, SECBUFFER_DATA, NULL};
		m->null_data = 1;
	}
	m->d = (SecBufferDesc){SECBUFFER_VERSION, nb, m->b};
}

static void msg_free(struct msg *m)
{
	for (unsigned long i = 0; i < m->d.cBuffers; i++)
		free(m->b[i].pvBuffer);
}

/* The data pieces' bytes, in order, into out. */
static void msg_data(const struct msg *m, uint8_t *out)
{
	size_t at = 0;
	for (int i = 0; i < m->nd; i++) {
		const SecBuffer *b = &m->b[m->di[i]];
		if (b->cbBuffer != 0)
			memcpy(out + at, b->pvBuffer, b->cbBuffer);
		at += b->cbBuffer;
	}
}

/* Byte k of the message (token first, then data). */
static uint8_t *msg_byte(struct msg *m, size_t k)
{
	if (k < 16)
		return (uint8_t *)m->b[m->ti].pvBuffer + k;
	k -= 16;
	for (int i = 0;; i++) {
		SecBuffer *b = &m->b[m->di[i]];
		if (k < b->cbBuffer)
			return (uint8_t *)b->pvBuffer + k;
		k -= b->cbBuffer;
	}
}

/* The structural answer of a message call, or SEC_E_OK when the package
 * gets to the crypto: what sspi.h and README document, in their order. */
static SECURITY_STATUS msg_expect(const struct msg *m, int protect, int encrypt, unsigned long qop,
				  int done, int rejected, int seal)
{
	if (m->null_data)
		return SEC_E_INVALID_PARAMETER;
	if (rejected)
		return SEC_E_OUT_OF_SEQUENCE; /* the lifecycle table, before the package */
	if (done && encrypt && m->nd == 0)
		return SEC_E_INVALID_TOKEN; /* nothing to seal or unseal: the facade's */
	if (protect && !encrypt && qop != 0)
		return SEC_E_QOP_NOT_SUPPORTED;
	if (protect && encrypt && qop != 0 && qop != SECQOP_WRAP_NO_ENCRYPT)
		return SEC_E_QOP_NOT_SUPPORTED;
	if (done && encrypt && !seal && (!protect || qop == 0))
		return SEC_E_UNSUPPORTED_FUNCTION;
	if (!done)
		return SEC_E_OUT_OF_SEQUENCE;
	if (m->ti < 0 || m->nd == 0 || m->nd > 16)
		return SEC_E_INVALID_TOKEN;
	if (m->tok_cb < 16)
		return protect ? SEC_E_BUFFER_TOO_SMALL : SEC_E_INVALID_TOKEN;
	return SEC_E_OK;
}

static SECURITY_STATUS unprotect_call(CtxtHandle *h, struct msg *m, int decrypt, int qnull)
{
	unsigned long q = 7;
	SECURITY_STATUS st = decrypt ? DecryptMessage(h, &m->d, 0, qnull ? NULL : &q)
				     : VerifySignature(h, &m->d, 0, &q);
	trace("%s: %08x", decrypt ? "DecryptMessage" : "VerifySignature", X(st));
	CHECK(st != SEC_E_OK || qnull || q == 0, "pfQOP %lu", q);
	return st;
}

/* Deliver m over dir; after a failure the data must be as given. */
static void deliver(int dir, struct msg *m, int decrypt, int qnull, SECURITY_STATUS want)
{
	CtxtHandle *rh = dir == 0 ? &R.s : &R.c;
	uint8_t given[sizeof m->plain];
	msg_data(m, given);
	SECURITY_STATUS st = unprotect_call(rh, m, decrypt, qnull);
	CHECK(st == want, "%s over %d: %08x, want %08x", decrypt ? "Decrypt" : "Verify", dir,
	      X(st), X(want));
	uint8_t now[sizeof m->plain];
	msg_data(m, now);
	if (st == SEC_E_OK) {
		R.recvd[dir]++;
		CHECK(memcmp(now, decrypt ? m->plain : given, m->total) == 0,
		      "unprotected data differs from the plaintext");
	} else {
		CHECK(memcmp(now, given, m->total) == 0, "a failed unprotect changed the data");
	}
}

/* The receiver's answer when the crypto decides: a signature for the
 * sequence number its field now reads, tampered with or not. */
static SECURITY_STATUS unprotect_expect(int dir, int decrypt, uint32_t seq_field, int tampered)
{
	unsigned long attr = dir == 0 ? R.attr_s : R.attr_c;
	if (decrypt && !(attr & ISC_RET_CONFIDENTIALITY))
		return SEC_E_UNSUPPORTED_FUNCTION; /* no sealing negotiated */
	if (seq_field != R.recvd[dir])
		return SEC_E_OUT_OF_SEQUENCE;
	return tampered ? SEC_E_MESSAGE_ALTERED : SEC_E_OK;
}

/* One message op: [op][qop (genuine)][layout][token size][data...][edit]. */
static void msg_op(void)
{
	unsigned op = u8();
	int dir = op & 1, kind = (op >> 1) & 3;
	int drop = (op & 8) != 0, mutate = (op & 16) != 0, wrong = (op & 32) != 0,
	    qnull = (op & 64) != 0;
	int s_done = dir == 0 ? R.done_c : R.done_s, r_done = dir == 0 ? R.done_s : R.done_c;
	int s_rej = dir == 0 ? R.rej_c : R.rej_s, r_rej = dir == 0 ? R.rej_s : R.rej_c;
	int r_have = dir == 0 ? R.have_s : R.have_c;
	unsigned long s_attr = dir == 0 ? R.attr_c : R.attr_s, r_attr = dir == 0 ? R.attr_s : R.attr_c;
	CtxtHandle *sh = dir == 0 ? &R.c : &R.s;
	struct msg m;

	if (kind >= 2 || !R.paired) {
		/* Raw: the fuzzer's own token and data to the receiver. */
		if (!r_have)
			return;
		int decrypt = kind & 1;
		msg_build(&m, 1);
		SECURITY_STATUS want = msg_expect(&m, 0, decrypt, 0, r_done, r_rej,
						  (r_attr & ISC_RET_CONFIDENTIALITY) != 0);
		if (want == SEC_E_OK)
			want = unprotect_expect(dir, decrypt,
						sa_ntlm_le32((uint8_t *)m.b[m.ti].pvBuffer + 12), 1);
		deliver(dir, &m, decrypt, qnull, want);
		msg_free(&m);
		return;
	}

	/* Genuine: made by the sender, then delivered (or not). */
	int encrypt = kind == 1;
	unsigned qb = u8();
	unsigned long qop = (qb & 7) == 7			 ? qb
			    : ((qb & 7) == 6 && encrypt) ? SECQOP_WRAP_NO_ENCRYPT
							 : 0;
	msg_build(&m, 0);
	SECURITY_STATUS want = msg_expect(&m, 1, encrypt, qop, s_done, s_rej,
					  (s_attr & ISC_RET_CONFIDENTIALITY) != 0);
	SECURITY_STATUS st = encrypt ? EncryptMessage(sh, qop, &m.d, 0)
				     : MakeSignature(sh, qop, &m.d, 0);
	trace("%s over %d (qop %lx): %08x", encrypt ? "EncryptMessage" : "MakeSignature", dir, qop,
	      X(st));
	CHECK(st == want, "%s: %08x, want %08x", encrypt ? "EncryptMessage" : "MakeSignature",
	      X(st), X(want));
	if (st != SEC_E_OK) {
		msg_free(&m);
		return;
	}
	uint32_t seq = R.sent[dir]++;
	CHECK(m.b[m.ti].cbBuffer == 16, "signature of %lu bytes", m.b[m.ti].cbBuffer);
	uint8_t *sig = m.b[m.ti].pvBuffer;
	CHECK(sa_ntlm_le32(sig) == 1 && sa_ntlm_le32(sig + 12) == seq, "signature header");
	m.tok_cb = 16;
	if (drop) { /* never delivered: every later message in dir is out of sequence */
		msg_free(&m);
		return;
	}
	int sealed = encrypt && qop == 0;
	/* The wrong call (Verify for a sealed message, Decrypt for a signed one)
	 * differs only when there was data to run RC4 over: not when there is
	 * none, nor when it is all read-only (signed, never sealed). */
	int decrypt = sealed != wrong;
	int tampered = wrong && m.total != 0 && !m.ro;
	if (mutate) {
		size_t k = u16() % (16 + m.total);
		uint8_t x = (uint8_t)(u8() | 1);
		*msg_byte(&m, k) ^= x;
		deliver(dir, &m, decrypt, qnull,
			unprotect_expect(dir, decrypt, sa_ntlm_le32(sig + 12), 1));
		*msg_byte(&m, k) ^= x;
	} else {
		SECURITY_STATUS w = unprotect_expect(dir, decrypt, seq, tampered);
		deliver(dir, &m, decrypt, qnull, w);
		if (w == SEC_E_OK) {
			msg_free(&m);
			return;
		}
	}
	/* A failure changed nothing: the message as sent still goes through. */
	deliver(dir, &m, sealed, qnull, unprotect_expect(dir, sealed, seq, 0));
	msg_free(&m);
}

static void msg_ops(void)
{
	for (int i = 0; i < MAX_MSG_OPS && g_pos < g_len; i++)
		msg_op();
}

/* ---- modes 1 to 4 ----------------------------------------------------------- */

/* Mode 1: [opt][cap] then the NEGOTIATE.  opt: bits 0-1 room, 2-4 layout,
 * 6 bindings, 7 an outbound credential (refused). */
static void mode_accept1(void)
{
	unsigned opt = u8(), cap = u8();
	const uint8_t *t;
	size_t n = take(SIZE_MAX, &t);
	static const int rooms[4] = {ROOM_FULL, ROOM_ALLOC, ROOM_SMALL, ROOM_NONE};
	bindings(1, (opt >> 6) & 1);
	SecPkgCredentials_NamesA cn;
	if (opt & 0x80) { /* an outbound credential to accept with: refused, no context */
		CHECK(acquire(1, &g_ids[0], &R.sc) == SEC_E_OK, "ACH outbound");
		R.have_sc = 1;
		uint8_t out[TOK];
		size_t on;
		SECURITY_STATUS st = leg_plain(0, t, n, NULL, 0, out, &on);
		CHECK(st == SEC_E_NO_CREDENTIALS && !R.have_s, "ASC with an outbound credential: %08x",
		      X(st));
		return;
	}
	need_creds(0);
	CHECK(QueryCredentialsAttributesA(&R.sc, SECPKG_CRED_ATTR_NAMES, &cn) == SEC_E_OK &&
		      cn.sUserName[0] != '\0',
	      "an inbound credential's name (our host)");
	CHECK(FreeContextBuffer(cn.sUserName) == SEC_E_OK, "FreeContextBuffer(credential name)");
	struct leg_args a = {.room = rooms[opt & 3], .cap = cap, .layout = (opt >> 2) & 7,
			     .cb = cb_of(1), .cb_len = R.cb_len[1]};
	uint8_t out[TOK];
	size_t on;
	SECURITY_STATUS st = leg(0, t, n, &a, out, &on);
	struct sa_ntlm_negotiate ng;
	uint8_t *copy = dup_exact(t, n);
	int parsed = n != 0 && sa__ntlm_parse_negotiate(copy, n, &ng) == 0;
	free(copy);
	SECURITY_STATUS want = !parsed			   ? SEC_E_INVALID_TOKEN
			       : !(ng.flags & SA_NTLM_F_ESS) ? SEC_E_UNSUPPORTED_FUNCTION
							     : SEC_I_CONTINUE_NEEDED;
	if (want == SEC_I_CONTINUE_NEEDED && st == SEC_E_BUFFER_TOO_SMALL &&
	    (a.room == ROOM_SMALL || a.room == ROOM_NONE)) {
		CHECK(!R.have_s, "BUFFER_TOO_SMALL made a context");
		a.room = ROOM_FULL; /* retryable: the same call with room goes through */
		st = leg(0, t, n, &a, out, &on);
	}
	CHECK(st == want, "ASC first leg: %08x, want %08x", X(st), X(want));
	CHECK(R.have_s == (st == SEC_I_CONTINUE_NEEDED), "context after %08x", X(st));
	if (st == SEC_I_CONTINUE_NEEDED) {
		check_challenge_out(out, on, ng.flags);
		SecPkgContext_NamesA nm;
		CHECK(QueryContextAttributesA(&R.s, SECPKG_ATTR_NAMES, &nm) != SEC_E_OK,
		      "names before the handshake is done");
	}
}

/* Mode 2: [opt][opt2] [raw target] [raw bindings] then [len16][AUTHENTICATE] or edits,
 * then message ops.  opt: bits 0-1 source (raw, raw+fixup, real+edits,
 * real+edits+fixup), 2 curl's NEGOTIATE, 3-5 identity, 6-7 target.  opt2:
 * bits 0-1 server bindings, 2-3 client bindings, 4-7 the AUTHENTICATE's
 * input layout (bit 7: allocated output). */
static void mode_accept2(int use_lookup)
{
	unsigned opt = u8(), opt2 = u8();
	R.lookup = use_lookup;
	int src = opt & 3, curl = (opt >> 2) & 1;
	R.ident = (int)(((opt >> 3) & 7) % NIDS);
	target(opt >> 6);
	bindings(1, opt2 & 3);
	bindings(0, (opt2 >> 2) & 3);
	int real = src >= 2, fix = src & 1;
	if (real || !curl)
		client_negotiate();
	if (curl) {
		memcpy(R.neg, g_curl_neg, sizeof g_curl_neg);
		R.neg_len = sizeof g_curl_neg;
	}
	server_challenge();

	static uint8_t t[EDIT_CAP];
	size_t n;
	int pristine = 0;
	if (!real) {
		const uint8_t *p;
		n = take(u16(), &p);
		memcpy(t, p, n);
	} else {
		SECURITY_STATUS st = leg_plain(1, R.chal, R.chal_len, cb_of(0), R.cb_len[0], R.auth,
					       &R.auth_len);
		int bad = (curl && R.ident == 4) || target_bad();
		CHECK(st == (bad ? SEC_E_INVALID_PARAMETER : SEC_E_OK) ||
			      (R.cb_kind[0] == 3 && st == SEC_E_INVALID_PARAMETER),
		      "ISC(real CHALLENGE): %08x", X(st));
		leg_again(1, R.chal, R.chal_len);
		if (st != SEC_E_OK) {
			msg_ops();
			return;
		}
		check_authenticate_out(R.auth, R.auth_len);
		memcpy(t, R.auth, R.auth_len);
		n = edit(t, R.auth_len);
		pristine = n == R.auth_len && memcmp(t, R.auth, n) == 0;
	}
	if (fix)
		fixup(t, n);
	SECURITY_STATUS st = server_auth(t, n, (opt2 >> 4) & 15);
	if (pristine && R.cb_kind[0] != 3 && R.cb_kind[1] != 3)
		CHECK(st == expect_real(fix, curl), "ASC(real AUTHENTICATE): %08x, want %08x", X(st),
		      X(expect_real(fix, curl)));
	pair_up(pristine && st == SEC_E_OK && (!fix || expect_real(0, curl) == SEC_E_OK));
	msg_ops();
}

/* Mode 3: [opt][opt2][cap] [raw target] [raw bindings] then [len16][CHALLENGE]
 * or edits, [fix] when the AUTHENTICATE goes to the server, then message ops.
 * opt: bits 0-1 room (both legs), 2 the server's real CHALLENGE with edits,
 * 3-5 identity, 6-7 target.  opt2: bits 0-1 server bindings, 2-3 client
 * bindings, 4-6 layout, 7 the AUTHENTICATE goes to the server (real only). */
static void mode_init2(void)
{
	unsigned opt = u8(), opt2 = u8(), cap = u8();
	static const int rooms[4] = {ROOM_FULL, ROOM_ALLOC, ROOM_SMALL, ROOM_NONE};
	int real = (opt >> 2) & 1;
	R.ident = (int)(((opt >> 3) & 7) % NIDS);
	target(opt >> 6);
	bindings(1, opt2 & 3);
	bindings(0, (opt2 >> 2) & 3);
	struct leg_args a = {.room = rooms[opt & 3], .cap = cap, .layout = (opt2 >> 4) & 7,
			     .cb = cb_of(0), .cb_len = R.cb_len[0], .target = R.target};
	client_negotiate_in(&a);
	static uint8_t t[EDIT_CAP];
	size_t n;
	if (real) {
		server_challenge();
		memcpy(t, R.chal, R.chal_len);
		n = edit(t, R.chal_len);
	} else {
		const uint8_t *p;
		n = take(u16(), &p);
		memcpy(t, p, n);
	}
	int pristine = real && n == R.chal_len && memcmp(t, R.chal, n) == 0;

	SECURITY_STATUS st = leg(1, t, n, &a, R.auth, &R.auth_len);
	if (st == SEC_E_BUFFER_TOO_SMALL && (a.room == ROOM_SMALL || a.room == ROOM_NONE)) {
		CHECK(!R.done_c, "BUFFER_TOO_SMALL completed the context");
		a.room = ROOM_FULL;
		st = leg(1, t, n, &a, R.auth, &R.auth_len);
	}
	/* The exact answer from what the CHALLENGE holds. */
	struct sa_ntlm_challenge ch;
	uint8_t *copy = dup_exact(t, n);
	SECURITY_STATUS want;
	if (n == 0 || sa__ntlm_parse_challenge(copy, n, &ch) != 0 ||
	    ch.target_info.len > SA_NTLM_TARGET_INFO_MAX ||
	    (ch.target_info.len != 0 && sa__ntlm_av_check(ch.target_info.p, ch.target_info.len) != 0))
		want = SEC_E_INVALID_TOKEN;
	else if (!(ch.flags & SA_NTLM_F_ESS) || !(ch.flags & SA_NTLM_F_TARGET_INFO) ||
		 ch.target_info.len == 0)
		want = SEC_E_UNSUPPORTED_FUNCTION;
	else if ((!(ch.flags & SA_NTLM_F_UNICODE) && R.ident == 4) || target_bad())
		want = SEC_E_INVALID_PARAMETER; /* no OEM name for him, or no such target */
	else
		want = SEC_E_OK;
	free(copy);
	CHECK(st == want || (want == SEC_E_OK && R.cb_kind[0] == 3 && st == SEC_E_INVALID_PARAMETER),
	      "ISC(CHALLENGE): %08x, want %08x", X(st), X(want));
	CHECK(R.done_c == (st == SEC_E_OK), "complete after %08x", X(st));
	leg_again(1, t, n);
	if (st == SEC_E_OK) {
		g_ok++;
		check_authenticate_out(R.auth, R.auth_len);
		if (real && (opt2 & 0x80)) {
			/* [fix]: bit 0 fixes the AUTHENTICATE up for the server's own
			 * CHALLENGE, so an edited one (other flags) still logs on. */
			int fix = u8() & 1;
			static uint8_t au[EDIT_CAP];
			memcpy(au, R.auth, R.auth_len);
			if (fix)
				fixup(au, R.auth_len);
			SECURITY_STATUS sst = server_auth(au, R.auth_len, 0);
			if (pristine && R.cb_kind[0] != 3 && R.cb_kind[1] != 3)
				CHECK(sst == expect_real(fix, 0), "ASC(real AUTHENTICATE): %08x", X(sst));
			pair_up(pristine && sst == SEC_E_OK && expect_real(0, 0) == SEC_E_OK);
		}
	}
	msg_ops();
}

/* Mode 4: [opt] a real handshake (opt: bits 0-1 bindings on both, 2-3 target),
 * then message ops. */
static void mode_msg(void)
{
	unsigned opt = u8();
	R.ident = 0;
	R.target = g_targets[(opt >> 2) & 3];
	bindings(0, (opt & 3) >= 2 ? 2 : 0); /* none, server only, both alike */
	bindings(1, (opt & 3) != 0 ? 2 : 0);
	client_negotiate();
	server_challenge();
	SECURITY_STATUS st = leg_plain(1, R.chal, R.chal_len, cb_of(0), R.cb_len[0], R.auth,
				       &R.auth_len);
	CHECK(st == SEC_E_OK, "ISC(real CHALLENGE): %08x", X(st));
	st = server_auth(R.auth, R.auth_len, 0);
	CHECK(st == SEC_E_OK, "ASC(real AUTHENTICATE): %08x", X(st));
	pair_up(1);
	msg_ops();
}

/* ---- one input ----------------------------------------------------------------- */

static void input_end(void)
{
	if (R.have_c)
		CHECK(DeleteSecurityContext(&R.c) == SEC_E_OK, "DeleteSecurityContext(client)");
	if (R.have_s)
		CHECK(DeleteSecurityContext(&R.s) == SEC_E_OK, "DeleteSecurityContext(server)");
	if (R.have_cc)
		CHECK(FreeCredentialsHandle(&R.cc) == SEC_E_OK, "FreeCredentialsHandle(client)");
	if (R.have_sc)
		CHECK(FreeCredentialsHandle(&R.sc) == SEC_E_OK, "FreeCredentialsHandle(server)");
	struct sspiasync_statistics s;
	CHECK(sspiasync_stats(&s) == SEC_E_OK, "stats");
	CHECK(s.contexts == 0 && s.credentials == 0, "after the input: %llu contexts, %llu credentials",
	      (unsigned long long)s.contexts, (unsigned long long)s.credentials);
	struct sa_alloc_stats as;
	sa__alloc_stats(&as);
	CHECK(g_live_base == UINT64_MAX || as.live_blocks == g_live_base, "the library holds %llu blocks, %llu before",
	      (unsigned long long)as.live_blocks, (unsigned long long)g_live_base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_in = data;
	g_len = size;
	g_pos = 0;
	memset(&R, 0, sizeof R);
	switch (u8() % 6) {
	case 0:
		mode_parse();
		break;
	case 1:
		mode_accept1();
		break;
	case 2:
	case 5:
		mode_accept2(g_in[0] % 6 == 5);
		break;
	case 3:
		mode_init2();
		break;
	default:
		mode_msg();
		break;
	}
	CHECK(R.lookup || R.lookups == 0, "the store callback ran without being set");
	input_end();
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *tr = getenv("NTLM_FUZZ_TRACE");
	g_trace = tr != NULL && tr[0] == '1';
	/* The user file: written, unlinked at once, read through our descriptor. */
	static char path[64];
	strcpy(path, "/tmp/ntlm_fuzz_usersXXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	static const char users[] = "# fuzz/ntlm_fuzz.c\nDOM:alice:" PASSWORD "\n:carol:" PASSWORD "\n";
	CHECK(write(fd, users, sizeof users - 1) == (ssize_t)(sizeof users - 1), "write users");
	unlink(path);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	setenv("NTLM_USER_FILE", path, 1);
	setenv("SSPIASYNC_THREADS", "0", 1);
	unsetenv("SSPIASYNC_TRACE");
	struct sspiasync_config cfg = {0, 0, 0, 0, 0}; /* no threads: every input replays alike */
	CHECK(sspiasync_init(&cfg) == SEC_E_OK, "sspiasync_init");
	/* A warm-up input (a handshake, a signed and a sealed message) before the
	 * library's live blocks are taken as the level every input returns to. */
	static const uint8_t warm[] = {4, 0, 0x00, 0, 0x01, 0, 4, 'a', 'b', 'c', 'd',
				       0x03, 0, 0x01, 0, 4, 'w', 'x', 'y', 'z'};
	g_live_base = UINT64_MAX;
	g_in = warm;
	g_len = sizeof warm;
	g_pos = 1; /* past the mode */
	memset(&R, 0, sizeof R);
	mode_msg();
	input_end();
	struct sa_alloc_stats as;
	sa__alloc_stats(&as);
	g_live_base = as.live_blocks;
	return 0;
}
