/*
 * test/check_testpkg.c - the test package's suite: it keeps the leg contract
 * of src/packages/package.h (first-leg ownership, retryable statuses change
 * nothing, OUT_OF_SEQUENCE after the end), its tokens are checked (a flipped
 * byte, a replay or another handshake's token fails), credentials, injected
 * failures, latency, noop mode and the message calls behave as testpkg.c's
 * header says, and every allocation failure is clean.  The package is driven
 * directly through sa__testpkg's function pointers with the test's buffers.
 */
#include "testlib.h"
#include "packages/package.h"
#include "packages/testpkg_int.h"
#include "util/alloc.h"

#include <sspiasync/fsm.h>

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PKG (&sa__testpkg)
#define TOKMAX SA_TP_MAX_TOKEN
#define HS_MAX 16

/* ---- helpers ------------------------------------------------------------- */

static void *cred_new(const char *principal, unsigned long use, const struct sa_pkg_identity *id)
{
	struct sa_pkg_cred_args a = {principal, use, id};
	void *c = NULL;
	int64_t exp = 0;
	ck_assert_int_eq(PKG->cred_acquire(&a, &c, &exp), SEC_E_OK);
	ck_assert_ptr_nonnull(c);
	ck_assert(exp == INT64_MAX);
	return c;
}

static int32_t cred_try(const char *principal, unsigned long use, const struct sa_pkg_identity *id,
			void **c)
{
	struct sa_pkg_cred_args a = {principal, use, id};
	int64_t exp = 42;
	int32_t st = PKG->cred_acquire(&a, c, &exp);
	if (st != SEC_E_OK)
		ck_assert(exp == 42);
	return st;
}

/* One leg on either side; *leg receives the outputs. */
static int32_t leg_run(int initiator, void *cred, void **ctx, const char *target,
		       const unsigned char *in, size_t in_len, unsigned char *out, size_t cap,
		       struct sa_pkg_leg *leg)
{
	memset(leg, 0, sizeof *leg);
	leg->in = in_len > 0 ? in : NULL;
	leg->in_len = in_len;
	leg->target = initiator ? target : NULL;
	leg->req = 0;
	leg->out = out;
	leg->out_cap = cap;
	leg->out_len = 12345; /* the package must set it */
	return (initiator ? PKG->init_leg : PKG->accept_leg)(cred, ctx, leg);
}

/* A handshake: leg l (1-based) is run by the initiator when l is odd and is
 * fed the token of leg l - 1. */
struct hs {
	void *icred, *acred;
	void *ictx, *actx;
	const char *target;
	int n;                              /* legs done (retryable results not counted) */
	int32_t st[HS_MAX];
	unsigned char tok[HS_MAX][TOKMAX];  /* tok[l - 1]: the token leg l wrote */
	size_t len[HS_MAX];
	unsigned long attrs[HS_MAX];
	int64_t expiry[HS_MAX];
};

static void hs_init(struct hs *h, void *icred, void *acred, const char *target)
{
	memset(h, 0, sizeof *h);
	h->icred = icred;
	h->acred = acred;
	h->target = target;
}

static void hs_fini(struct hs *h)
{
	if (h->ictx != NULL)
		PKG->ctx_delete(h->ictx);
	if (h->actx != NULL)
		PKG->ctx_delete(h->actx);
	h->ictx = h->actx = NULL;
}

/* Run the next leg with cap bytes of room and the previous leg's token as
 * input (in/in_len override it when in is non-NULL).  A retryable status
 * does not count as a leg. */
static int32_t hs_leg_in(struct hs *h, size_t cap, const unsigned char *in, size_t in_len)
{
	ck_assert_int_lt(h->n, HS_MAX);
	int l = h->n; /* 0-based */
	int initiator = l % 2 == 0;
	if (in == NULL && l > 0) {
		in = h->tok[l - 1];
		in_len = h->len[l - 1];
	}
	struct sa_pkg_leg leg;
	int32_t st = leg_run(initiator, initiator ? h->icred : h->acred,
			     initiator ? &h->ictx : &h->actx, h->target, in, in_len, h->tok[l], cap,
			     &leg);
	if (sa_fsm_classify(st) == SA_FSM_EV_LEG_RETRY)
		return st;
	h->st[l] = st;
	h->len[l] = st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED ? leg.out_len : 0;
	h->attrs[l] = leg.attrs;
	h->expiry[l] = leg.expiry;
	h->n++;
	return st;
}

static int32_t hs_leg(struct hs *h, size_t cap)
{
	return hs_leg_in(h, cap, NULL, 0);
}

/* Run legs until one fails, one completes with nothing to send, or max. */
static int hs_run(struct hs *h, int max)
{
	while (h->n < max) {
		int32_t st = hs_leg(h, TOKMAX);
		if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
			break;
		if (st == SEC_E_OK && h->len[h->n - 1] == 0)
			break;
	}
	return h->n;
}

/* Assert the statuses of a successful N-leg handshake (testpkg.c "LEGS"). */
static void hs_assert_complete(const struct hs *h, int legs)
{
	ck_assert_int_eq(h->n, legs);
	for (int l = 1; l <= legs; l++) {
		if (l < legs - 1) {
			ck_assert_int_eq(h->st[l - 1], SEC_I_CONTINUE_NEEDED);
			ck_assert_uint_gt(h->len[l - 1], 0);
		} else if (l == legs - 1) {
			ck_assert_int_eq(h->st[l - 1], SEC_E_OK);
			ck_assert_uint_gt(h->len[l - 1], 0);
		} else {
			ck_assert_int_eq(h->st[l - 1], SEC_E_OK);
			ck_assert_uint_eq(h->len[l - 1], 0);
		}
		ck_assert_uint_le(h->len[l - 1], PKG->max_token);
	}
	ck_assert_ptr_nonnull(h->ictx);
	ck_assert_ptr_nonnull(h->actx);
}

static void names_assert(void *ctx, const char *want)
{
	char *user = NULL;
	ck_assert_int_eq(PKG->ctx_names(ctx, &user), SEC_E_OK);
	ck_assert_str_eq(user, want);
	sa__free(user);
}

static void cred_name_assert(void *cred, const char *want)
{
	char *name = NULL;
	ck_assert_int_eq(PKG->cred_name(cred, &name), SEC_E_OK);
	ck_assert_str_eq(name, want);
	sa__free(name);
}

/* A complete handshake of legs legs between fresh anonymous credentials. */
struct pair {
	void *icred, *acred;
	struct hs h;
};

static void pair_open(struct pair *p, int legs)
{
	char target[64];
	snprintf(target, sizeof target, "host/t;legs=%d", legs);
	p->icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	p->acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	hs_init(&p->h, p->icred, p->acred, target);
	hs_run(&p->h, legs);
	p->h.target = NULL; /* the local buffer dies here; later legs ignore it */
	hs_assert_complete(&p->h, legs);
}

static void pair_close(struct pair *p)
{
	hs_fini(&p->h);
	PKG->cred_free(p->icred);
	PKG->cred_free(p->acred);
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- handshake --------------------------------------------------------------- */

START_TEST(test_testpkg_package_table_is_complete)
{
	ck_assert_str_eq(PKG->name, "SspiAsyncTest");
	ck_assert_str_eq(PKG->comment, "sspiasync built-in test package (not cryptography)");
	ck_assert_uint_eq(PKG->caps, SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY |
					     SECPKG_FLAG_CONNECTION | SECPKG_FLAG_MULTI_REQUIRED |
					     SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_NEGOTIABLE);
	ck_assert_uint_eq(PKG->version, 1);
	ck_assert_uint_eq(PKG->rpcid, SECPKG_ID_NONE);
	ck_assert_uint_eq(PKG->max_token, 512);
	ck_assert_uint_eq(PKG->max_signature, 16);
	ck_assert_uint_eq(PKG->block_size, 1);
	ck_assert_uint_eq(PKG->security_trailer, 16);
	ck_assert(PKG->cred_acquire && PKG->cred_free && PKG->cred_name && PKG->init_leg &&
		  PKG->accept_leg && PKG->ctx_delete && PKG->ctx_names && PKG->ctx_lifespan &&
		  PKG->make_signature && PKG->verify_signature && PKG->encrypt && PKG->decrypt);
	ck_assert_ptr_eq(sa__pkg_find("sspiasynctest"), PKG);
	ck_assert_ptr_eq(sa__pkg_at(0), PKG);
}
END_TEST

/* SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e. */
START_TEST(test_testpkg_siphash_matches_reference_vector)
{
	unsigned char key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (unsigned char)i;
	ck_assert(sa__tp_siphash(key, msg, 15) == UINT64_C(0xa129ca6149be45e5));
	ck_assert(sa__tp_siphash(key, msg, 0) == UINT64_C(0x726fdb47dd0e0e31));
	/* The incremental form agrees whatever the split. */
	for (size_t cut = 0; cut <= 15; cut++) {
		struct sa_tp_sip s;
		sa__tp_sip_init(&s, key);
		sa__tp_sip_update(&s, msg, cut);
		sa__tp_sip_update(&s, msg + cut, 15 - cut);
		ck_assert(sa__tp_sip_final(&s) == UINT64_C(0xa129ca6149be45e5));
	}
}
END_TEST

START_TEST(test_testpkg_handshake_statuses_per_leg)
{
	static const int legs_cases[] = {2, 3, 4, 5, 8};
	uint64_t live = tl_live_blocks();
	void *icred = cred_new("alice", SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new("svc/host", SECPKG_CRED_INBOUND, NULL);
	for (size_t i = 0; i < sizeof legs_cases / sizeof legs_cases[0]; i++) {
		int legs = legs_cases[i];
		char target[64];
		snprintf(target, sizeof target, "host/web;legs=%d", legs);
		struct hs h;
		hs_init(&h, icred, acred, target);
		hs_run(&h, HS_MAX);
		hs_assert_complete(&h, legs);
		for (int l = 1; l <= legs; l++) {
			unsigned long want = l % 2 ? (unsigned long)(ISC_RET_INTEGRITY | ISC_RET_CONFIDENTIALITY |
						  ISC_RET_SEQUENCE_DETECT | ISC_RET_REPLAY_DETECT |
						  ISC_RET_CONNECTION)
						: (unsigned long)(ASC_RET_INTEGRITY | ASC_RET_CONFIDENTIALITY |
						  ASC_RET_SEQUENCE_DETECT | ASC_RET_REPLAY_DETECT |
						  ASC_RET_CONNECTION);
			if (legs >= 3)
				want |= l % 2 ? ISC_RET_MUTUAL_AUTH : ASC_RET_MUTUAL_AUTH;
			ck_assert_uint_eq(h.attrs[l - 1], want);
		}
		/* Both sides know the client; lifespans are 10 hours. */
		names_assert(h.ictx, "alice");
		names_assert(h.actx, "alice");
		int64_t start, expiry;
		ck_assert_int_eq(PKG->ctx_lifespan(h.ictx, &start, &expiry), SEC_E_OK);
		ck_assert(expiry - start == INT64_C(360000000000));
		ck_assert(expiry == h.expiry[0]);
		ck_assert(start > INT64_C(130000000000000000)); /* after 2012 */
		hs_fini(&h);
	}
	cred_name_assert(icred, "alice");
	cred_name_assert(acred, "svc/host");
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_null_principal_and_target_give_two_anonymous_legs)
{
	uint64_t live = tl_live_blocks();
	void *both = cred_new(NULL, SECPKG_CRED_BOTH, NULL);
	struct hs h;
	hs_init(&h, both, both, NULL);
	hs_run(&h, HS_MAX);
	hs_assert_complete(&h, 2);
	names_assert(h.ictx, "anonymous");
	names_assert(h.actx, "anonymous");
	cred_name_assert(both, "anonymous");
	hs_fini(&h);
	PKG->cred_free(both);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_leg_after_completion_is_out_of_sequence)
{
	uint64_t live = tl_live_blocks();
	for (int legs = 2; legs <= 3; legs++) {
		struct pair p;
		pair_open(&p, legs);
		struct sa_tp_ctx si, sa;
		memcpy(&si, p.h.ictx, sizeof si);
		memcpy(&sa, p.h.actx, sizeof sa);
		unsigned char out[TOKMAX];
		struct sa_pkg_leg leg;
		ck_assert_int_eq(leg_run(1, p.icred, &p.h.ictx, NULL, p.h.tok[0], p.h.len[0], out,
					 sizeof out, &leg),
				 SEC_E_OUT_OF_SEQUENCE);
		ck_assert_int_eq(leg_run(0, p.acred, &p.h.actx, NULL, p.h.tok[0], p.h.len[0], out,
					 sizeof out, &leg),
				 SEC_E_OUT_OF_SEQUENCE);
		ck_assert(memcmp(&si, p.h.ictx, sizeof si) == 0);
		ck_assert(memcmp(&sa, p.h.actx, sizeof sa) == 0);
		/* A context of the other side is refused without a change. */
		ck_assert_int_eq(leg_run(1, p.icred, &p.h.actx, NULL, NULL, 0, out, sizeof out, &leg),
				 SEC_E_INVALID_HANDLE);
		ck_assert(memcmp(&sa, p.h.actx, sizeof sa) == 0);
		pair_close(&p);
	}
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_buffer_too_small_is_retryable)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	struct hs h;
	hs_init(&h, icred, acred, "t;legs=4");
	/* Leg 1 (first, initiator): no context is made. */
	ck_assert_int_eq(hs_leg(&h, 0), SEC_E_BUFFER_TOO_SMALL);
	ck_assert_int_eq(hs_leg(&h, 20), SEC_E_BUFFER_TOO_SMALL);
	ck_assert_ptr_null(h.ictx);
	ck_assert_uint_eq(tl_live_blocks(), live + 2);
	ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_I_CONTINUE_NEEDED);
	/* Leg 2 (first, acceptor): no context, and the replay cache is untouched,
	 * or the retry would be refused. */
	ck_assert_int_eq(hs_leg(&h, 0), SEC_E_BUFFER_TOO_SMALL);
	ck_assert_int_eq(hs_leg(&h, SA_TP_LATER_LEN - 1), SEC_E_BUFFER_TOO_SMALL);
	ck_assert_ptr_null(h.actx);
	ck_assert_int_eq(hs_leg(&h, SA_TP_LATER_LEN), SEC_I_CONTINUE_NEEDED);
	/* Leg 3 (later): no byte of the context changes. */
	struct sa_tp_ctx snap;
	memcpy(&snap, h.ictx, sizeof snap);
	ck_assert_int_eq(hs_leg(&h, 0), SEC_E_BUFFER_TOO_SMALL);
	ck_assert_int_eq(hs_leg(&h, 1), SEC_E_BUFFER_TOO_SMALL);
	ck_assert(memcmp(&snap, h.ictx, sizeof snap) == 0);
	ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_E_OK);
	/* Leg 4 writes nothing: no room is needed. */
	ck_assert_int_eq(hs_leg(&h, 0), SEC_E_OK);
	hs_assert_complete(&h, 4);
	hs_fini(&h);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

/*
 * package.h: a leg writes at most max_token bytes, whatever out_cap says
 * (the library sizes its room by it, context.c).  Every leg of an 8-leg
 * handshake, the first token as large as it gets (a 255-byte user name),
 * is given out_cap SIZE_MAX over max_token bytes and a guard: out_len is at
 * most max_token and no byte past out_len is written.
 */
START_TEST(test_testpkg_never_writes_more_than_max_token)
{
	uint64_t live = tl_live_blocks();
	char principal[SA_TP_NAME_MAX + 1];
	memset(principal, 'u', SA_TP_NAME_MAX);
	principal[SA_TP_NAME_MAX] = '\0';
	void *icred = cred_new(principal, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	void *ictx = NULL, *actx = NULL;
	enum { GUARD = 64, LEGS = 8 };
	static unsigned char in[TOKMAX + GUARD], out[TOKMAX + GUARD];
	size_t in_len = 0;
	for (int l = 1; l <= LEGS; l++) {
		int initiator = l % 2 == 1;
		struct sa_pkg_leg leg;
		memset(out, 0xA5, sizeof out);
		int32_t st = leg_run(initiator, initiator ? icred : acred, initiator ? &ictx : &actx,
				     "t;legs=8", in, in_len, out, SIZE_MAX, &leg);
		ck_assert_int_eq(st, l < LEGS - 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK);
		ck_assert_uint_le(leg.out_len, PKG->max_token);
		if (l == 1)
			ck_assert_uint_eq(leg.out_len, SA_TP_FIRST_LEN(SA_TP_NAME_MAX));
		for (size_t i = leg.out_len; i < sizeof out; i++)
			ck_assert_uint_eq(out[i], 0xA5);
		memcpy(in, out, leg.out_len);
		in_len = leg.out_len;
	}
	ck_assert_uint_eq(in_len, 0); /* the last leg sends nothing */
	PKG->ctx_delete(ictx);
	PKG->ctx_delete(actx);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

/* ---- tamper ------------------------------------------------------------------ */

START_TEST(test_testpkg_every_flipped_byte_is_rejected)
{
	static const unsigned char masks[] = {0x01, 0x80, 0xff};
	uint64_t live = tl_live_blocks();
	void *icred = cred_new("client", SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	const char *target = "host/web;legs=3";
	size_t len1 = 0, len2 = 0;
	for (size_t m = 0; m < sizeof masks; m++) {
		/* Token 1, read by the acceptor at leg 2 (its first: no context). */
		for (size_t i = 0;; i++) {
			struct hs h;
			hs_init(&h, icred, acred, target);
			ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_I_CONTINUE_NEEDED);
			len1 = h.len[0];
			if (i == len1) {
				hs_fini(&h);
				break;
			}
			h.tok[0][i] ^= masks[m];
			ck_assert_msg(hs_leg(&h, TOKMAX) == SEC_E_INVALID_TOKEN, "token 1 byte %zu", i);
			ck_assert_ptr_null(h.actx);
			hs_fini(&h);
		}
		/* Token 2, read by the initiator at leg 3. */
		for (size_t i = 0;; i++) {
			struct hs h;
			hs_init(&h, icred, acred, target);
			ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_I_CONTINUE_NEEDED);
			ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_E_OK);
			len2 = h.len[1];
			if (i == len2) {
				ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_E_OK); /* unchanged: fine */
				hs_fini(&h);
				break;
			}
			h.tok[1][i] ^= masks[m];
			ck_assert_msg(hs_leg(&h, TOKMAX) == SEC_E_INVALID_TOKEN, "token 2 byte %zu", i);
			/* The initiator's handshake is over. */
			unsigned char out[TOKMAX];
			struct sa_pkg_leg leg;
			ck_assert_int_eq(leg_run(1, icred, &h.ictx, NULL, h.tok[1], len2, out,
						 sizeof out, &leg),
					 SEC_E_OUT_OF_SEQUENCE);
			hs_fini(&h);
		}
	}
	ck_assert_uint_eq(len1, SA_TP_FIRST_LEN(strlen("client")));
	ck_assert_uint_eq(len2, SA_TP_LATER_LEN);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_short_long_or_missing_token_is_rejected)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	unsigned char big[TOKMAX + 1];
	for (int variant = 0; variant < 4; variant++) {
		struct hs h;
		hs_init(&h, icred, acred, "t;legs=3");
		ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_I_CONTINUE_NEEDED);
		size_t n = h.len[0];
		memcpy(big, h.tok[0], n);
		big[n] = 0;
		int32_t st = variant == 0   ? hs_leg_in(&h, TOKMAX, big, n - 1)
			     : variant == 1 ? hs_leg_in(&h, TOKMAX, big, n + 1)
			     : variant == 2 ? hs_leg_in(&h, TOKMAX, big, 1)
					    : hs_leg_in(&h, TOKMAX, big, 0); /* in == NULL */
		ck_assert_int_eq(st, SEC_E_INVALID_TOKEN);
		ck_assert_ptr_null(h.actx);
		hs_fini(&h);
		/* At a later leg: short, long, missing. */
		hs_init(&h, icred, acred, "t;legs=3");
		hs_leg(&h, TOKMAX);
		hs_leg(&h, TOKMAX);
		n = h.len[1];
		memcpy(big, h.tok[1], n);
		big[n] = 0;
		st = variant == 0   ? hs_leg_in(&h, TOKMAX, big, n - 1)
		     : variant == 1 ? hs_leg_in(&h, TOKMAX, big, n + 1)
		     : variant == 2 ? hs_leg_in(&h, TOKMAX, big, 1)
				    : hs_leg_in(&h, TOKMAX, big, 0);
		ck_assert_int_eq(st, SEC_E_INVALID_TOKEN);
		hs_fini(&h);
	}
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_token_of_other_handshake_is_rejected)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	struct hs a, b;
	hs_init(&a, icred, acred, "t;legs=4");
	hs_init(&b, icred, acred, "t;legs=4");
	hs_run(&a, 2);
	hs_run(&b, 3);
	/* B's token 2 at A's leg 3. */
	ck_assert_int_eq(hs_leg_in(&a, TOKMAX, b.tok[1], b.len[1]), SEC_E_INVALID_TOKEN);
	hs_fini(&a);
	/* A fresh A through leg 3; B's token 3 at A's leg 4 (acceptor). */
	hs_init(&a, icred, acred, "t;legs=4");
	hs_run(&a, 3);
	ck_assert_int_eq(hs_leg_in(&a, TOKMAX, b.tok[2], b.len[2]), SEC_E_INVALID_TOKEN);
	/* B still completes with its own. */
	ck_assert_int_eq(hs_leg(&b, TOKMAX), SEC_E_OK);
	hs_assert_complete(&b, 4);
	hs_fini(&a);
	hs_fini(&b);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_earlier_token_replayed_is_rejected)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	struct hs h;
	/* Token 1 again at the acceptor's leg 4. */
	hs_init(&h, icred, acred, "t;legs=4");
	hs_run(&h, 3);
	ck_assert_int_eq(hs_leg_in(&h, TOKMAX, h.tok[0], h.len[0]), SEC_E_INVALID_TOKEN);
	hs_fini(&h);
	/* Token 2 again at the initiator's leg 5; its own token 3 too. */
	for (int which = 1; which <= 2; which++) {
		hs_init(&h, icred, acred, "t;legs=6");
		hs_run(&h, 4);
		ck_assert_int_eq(hs_leg_in(&h, TOKMAX, h.tok[which], h.len[which]),
				 SEC_E_INVALID_TOKEN);
		hs_fini(&h);
	}
	/* Token 3 again at the acceptor's leg 6 (after token 5 was due). */
	hs_init(&h, icred, acred, "t;legs=6");
	hs_run(&h, 5);
	ck_assert_int_eq(hs_leg_in(&h, TOKMAX, h.tok[2], h.len[2]), SEC_E_INVALID_TOKEN);
	hs_fini(&h);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_first_token_accepted_twice_is_rejected)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	void *other = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	for (int legs = 2; legs <= 4; legs += 2) {
		struct hs h;
		hs_init(&h, icred, acred, legs == 2 ? "t" : "t;legs=4");
		ck_assert_int_eq(hs_leg(&h, TOKMAX), legs == 2 ? SEC_E_OK : SEC_I_CONTINUE_NEEDED);
		unsigned char out[TOKMAX];
		struct sa_pkg_leg leg;
		void *a1 = NULL, *a2 = NULL, *a3 = NULL;
		int32_t want = legs == 2 ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
		ck_assert_int_eq(leg_run(0, acred, &a1, NULL, h.tok[0], h.len[0], out, sizeof out, &leg),
				 want);
		ck_assert_int_eq(leg_run(0, acred, &a2, NULL, h.tok[0], h.len[0], out, sizeof out, &leg),
				 SEC_E_INVALID_TOKEN);
		ck_assert_ptr_null(a2);
		/* The cache belongs to the credential. */
		ck_assert_int_eq(leg_run(0, other, &a3, NULL, h.tok[0], h.len[0], out, sizeof out, &leg),
				 want);
		PKG->ctx_delete(a1);
		PKG->ctx_delete(a3);
		hs_fini(&h);
	}
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	PKG->cred_free(other);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

/* Racing acceptors on one credential, one first token: exactly one wins. */
#define RACERS 8
struct racer {
	void *acred;
	const unsigned char *tok;
	size_t len;
	pthread_barrier_t *go;
	int32_t st;
	void *ctx;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	unsigned char out[TOKMAX];
	struct sa_pkg_leg leg = {0};
	leg.in = r->tok;
	leg.in_len = r->len;
	leg.out = out;
	leg.out_cap = sizeof out;
	pthread_barrier_wait(r->go);
	r->st = PKG->accept_leg(r->acred, &r->ctx, &leg);
	return NULL;
}

START_TEST(test_testpkg_racing_acceptors_take_a_first_token_once)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	int rounds = tl_slow() ? 5 : 50;
	for (int round = 0; round < rounds; round++) {
		struct hs h;
		hs_init(&h, icred, acred, "t;legs=3");
		ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_I_CONTINUE_NEEDED);
		pthread_barrier_t go;
		pthread_barrier_init(&go, NULL, RACERS);
		struct racer r[RACERS];
		pthread_t th[RACERS];
		for (int i = 0; i < RACERS; i++) {
			r[i] = (struct racer){acred, h.tok[0], h.len[0], &go, 0, NULL};
			ck_assert_int_eq(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
		}
		int won = 0, lost = 0;
		for (int i = 0; i < RACERS; i++) {
			pthread_join(th[i], NULL);
			if (r[i].st == SEC_E_OK && r[i].ctx != NULL)
				won++;
			else if (r[i].st == SEC_E_INVALID_TOKEN && r[i].ctx == NULL)
				lost++;
			if (r[i].ctx != NULL)
				PKG->ctx_delete(r[i].ctx);
		}
		pthread_barrier_destroy(&go);
		ck_assert_int_eq(won, 1);
		ck_assert_int_eq(lost, RACERS - 1);
		hs_fini(&h);
	}
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

/* ---- identity ---------------------------------------------------------------- */

static const struct sa_pkg_identity alice_pw1 = {"alice", "CORP", "pw1", SA_PKG_MECH_ALL};
static const struct sa_pkg_identity alice_pw2 = {"alice", "CORP", "pw2", SA_PKG_MECH_ALL};
static const struct sa_pkg_identity bob_pw1 = {"bob", "CORP", "pw1", SA_PKG_MECH_ALL};
static const struct sa_pkg_identity alice_nodomain = {"alice", "", "pw1", SA_PKG_MECH_ALL};

/* Run a 3-leg handshake between credentials with these identities; return
 * leg 2's status (and the whole run in *h, which the caller finishes). */
static int32_t identity_try(const struct sa_pkg_identity *client,
			    const struct sa_pkg_identity *server, struct hs *h, void **icred,
			    void **acred)
{
	*icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, client);
	*acred = cred_new("svc", SECPKG_CRED_INBOUND, server);
	hs_init(h, *icred, *acred, "svc;legs=3");
	hs_run(h, HS_MAX);
	ck_assert_int_ge(h->n, 2);
	return h->st[1];
}

static void identity_done(struct hs *h, void *icred, void *acred)
{
	hs_fini(h);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
}

START_TEST(test_testpkg_wrong_password_is_logon_denied)
{
	uint64_t live = tl_live_blocks();
	struct hs h;
	void *ic, *ac;
	ck_assert_int_eq(identity_try(&alice_pw1, &alice_pw2, &h, &ic, &ac), SEC_E_LOGON_DENIED);
	ck_assert_int_eq(h.n, 2);
	ck_assert_ptr_null(h.actx); /* leg 2 is the acceptor's first: nothing kept */
	ck_assert_ptr_nonnull(h.ictx);
	identity_done(&h, ic, ac);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_right_password_is_accepted)
{
	uint64_t live = tl_live_blocks();
	struct hs h;
	void *ic, *ac;
	ck_assert_int_eq(identity_try(&alice_pw1, &alice_pw1, &h, &ic, &ac), SEC_E_OK);
	hs_assert_complete(&h, 3);
	names_assert(h.ictx, "CORP\\alice");
	names_assert(h.actx, "CORP\\alice");
	cred_name_assert(ic, "CORP\\alice");
	cred_name_assert(ac, "CORP\\alice");
	identity_done(&h, ic, ac);
	/* An empty domain: the plain user. */
	ck_assert_int_eq(identity_try(&alice_nodomain, &alice_nodomain, &h, &ic, &ac), SEC_E_OK);
	names_assert(h.actx, "alice");
	identity_done(&h, ic, ac);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_wrong_user_is_logon_denied)
{
	uint64_t live = tl_live_blocks();
	struct hs h;
	void *ic, *ac;
	ck_assert_int_eq(identity_try(&bob_pw1, &alice_pw1, &h, &ic, &ac), SEC_E_LOGON_DENIED);
	ck_assert_ptr_null(h.actx);
	identity_done(&h, ic, ac);
	ck_assert_int_eq(identity_try(&alice_nodomain, &alice_pw1, &h, &ic, &ac), SEC_E_LOGON_DENIED);
	identity_done(&h, ic, ac);
	/* No identity: the client claims "anonymous" with password "". */
	ck_assert_int_eq(identity_try(NULL, &alice_pw1, &h, &ic, &ac), SEC_E_LOGON_DENIED);
	identity_done(&h, ic, ac);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_acceptor_without_identity_admits_anyone)
{
	uint64_t live = tl_live_blocks();
	const struct sa_pkg_identity *clients[] = {&alice_pw1, &alice_pw2, &bob_pw1, NULL};
	const char *names[] = {"CORP\\alice", "CORP\\alice", "CORP\\bob", "anonymous"};
	for (int i = 0; i < 4; i++) {
		struct hs h;
		void *ic, *ac;
		ck_assert_int_eq(identity_try(clients[i], NULL, &h, &ic, &ac), SEC_E_OK);
		hs_assert_complete(&h, 3);
		names_assert(h.actx, names[i]);
		cred_name_assert(ac, "svc");
		identity_done(&h, ic, ac);
	}
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_credential_direction_is_checked)
{
	uint64_t live = tl_live_blocks();
	void *in = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	void *out = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *both = cred_new(NULL, SECPKG_CRED_BOTH, NULL);
	struct hs h;
	hs_init(&h, in, out, NULL);
	ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_E_NO_CREDENTIALS);
	ck_assert_ptr_null(h.ictx);
	hs_init(&h, out, out, NULL);
	ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_E_OK);
	ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_E_NO_CREDENTIALS);
	ck_assert_ptr_null(h.actx);
	hs_fini(&h);
	hs_init(&h, both, both, "x;legs=3");
	hs_run(&h, HS_MAX);
	hs_assert_complete(&h, 3);
	hs_fini(&h);
	PKG->cred_free(in);
	PKG->cred_free(out);
	PKG->cred_free(both);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_bad_principal_is_unknown_credentials)
{
	static const char *const bad[] = {
		"svc;legs=1",      "svc;legs=9",          "svc;bogus=1",  "svc;noop=1",
		"svc;",            "svc;;legs=3",         "svc;fail=0",   "svc;fail=9",
		"svc;legs=",       "svc;legs",            "svc;legs=3x",  "svc;legs=-3",
		"svc;status=0x00090312", "svc;status=80090308", "svc;status=0x",
		"svc;status=0x180090308", "svc;latency_us=10000001", "svc;legs=3;legs=3",
		"svc;LEGS=3",
	};
	uint64_t live = tl_live_blocks();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *c = (void *)&live; /* untouched on failure */
		ck_assert_msg(cred_try(bad[i], SECPKG_CRED_BOTH, NULL, &c) == SEC_E_UNKNOWN_CREDENTIALS,
			      "%s", bad[i]);
		ck_assert_ptr_eq(c, &live);
	}
	char longname[SA_TP_NAME_MAX + 2];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	void *c = NULL;
	ck_assert_int_eq(cred_try(longname, SECPKG_CRED_BOTH, NULL, &c), SEC_E_UNKNOWN_CREDENTIALS);
	longname[SA_TP_NAME_MAX] = ';'; /* 255 bytes of name, then options: fine */
	ck_assert_int_eq(cred_try(longname, SECPKG_CRED_BOTH, NULL, &c), SEC_E_UNKNOWN_CREDENTIALS);
	longname[SA_TP_NAME_MAX] = '\0';
	ck_assert_int_eq(cred_try(longname, SECPKG_CRED_BOTH, NULL, &c), SEC_E_OK);
	PKG->cred_free(c);
	/* "DOMAIN\\user" longer than 255 bytes. */
	char longuser[200];
	memset(longuser, 'u', sizeof longuser - 1);
	longuser[sizeof longuser - 1] = '\0';
	struct sa_pkg_identity longid = {longuser, longuser, "pw", SA_PKG_MECH_ALL};
	ck_assert_int_eq(cred_try("svc", SECPKG_CRED_BOTH, &longid, &c), SEC_E_UNKNOWN_CREDENTIALS);
	longid.domain = "";
	ck_assert_int_eq(cred_try("svc", SECPKG_CRED_BOTH, &longid, &c), SEC_E_OK);
	cred_name_assert(c, longuser);
	PKG->cred_free(c);
	ck_assert_int_eq(cred_try("svc", 0, NULL, &c), SEC_E_UNKNOWN_CREDENTIALS);
	ck_assert_int_eq(cred_try("svc", SECPKG_CRED_DEFAULT, NULL, &c), SEC_E_UNKNOWN_CREDENTIALS);
	/* Good ones, for contrast. */
	static const char *const good[] = {
		"svc;legs=8;fail=8;status=0x8009030c;latency_us=0", "svc;noop", "", ";legs=3",
		"svc;status=0X80090308",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		c = NULL;
		ck_assert_msg(cred_try(good[i], SECPKG_CRED_BOTH, NULL, &c) == SEC_E_OK, "%s", good[i]);
		PKG->cred_free(c);
	}
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

/* ---- inject ------------------------------------------------------------------ */

START_TEST(test_testpkg_fail_at_each_leg)
{
	static const char *const statuses[] = {NULL, "0x80090308", "0x8009030C"};
	static const int32_t want_status[] = {SEC_E_INTERNAL_ERROR, SEC_E_INVALID_TOKEN,
					      SEC_E_LOGON_DENIED};
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	for (int k = 1; k <= 4; k++) {
		for (int s = 0; s < 3; s++) {
			char target[80];
			if (statuses[s] != NULL)
				snprintf(target, sizeof target, "x;legs=4;fail=%d;status=%s", k, statuses[s]);
			else
				snprintf(target, sizeof target, "x;fail=%d;legs=4", k);
			struct hs h;
			hs_init(&h, icred, acred, target);
			hs_run(&h, HS_MAX);
			ck_assert_int_eq(h.n, k);
			for (int l = 1; l < k; l++)
				ck_assert_int_eq(h.st[l - 1], l < 3 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK);
			ck_assert_int_eq(h.st[k - 1], want_status[s]);
			void *failed = k % 2 ? h.ictx : h.actx;
			if (k <= 2) {
				ck_assert_ptr_null(failed); /* a failed first leg keeps nothing */
			} else {
				/* The failing side's handshake is over; its state stays. */
				ck_assert_ptr_nonnull(failed);
				unsigned char out[TOKMAX];
				struct sa_pkg_leg leg;
				ck_assert_int_eq(leg_run(k % 2, k % 2 ? icred : acred,
							 k % 2 ? &h.ictx : &h.actx, NULL,
							 h.tok[k - 2], h.len[k - 2], out, sizeof out,
							 &leg),
						 SEC_E_OUT_OF_SEQUENCE);
			}
			hs_fini(&h);
		}
	}
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_bad_target_is_target_unknown)
{
	static const char *const bad[] = {
		"x;status=0x00000001", "x;legs=1",   "x;legs=9",      "x;foo=1",
		"x;fail=3",            "x;fail=0",   "x;legs=",       "x;status=80090308",
		"x;legs=3;fail=4",     "x;noop=yes", "x;latency_us=99999999999", "x;;",
	};
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *ctx = NULL;
		unsigned char out[TOKMAX];
		struct sa_pkg_leg leg;
		ck_assert_msg(leg_run(1, icred, &ctx, bad[i], NULL, 0, out, sizeof out, &leg) ==
				      SEC_E_TARGET_UNKNOWN,
			      "%s", bad[i]);
		ck_assert_ptr_null(ctx);
	}
	PKG->cred_free(icred);
	/* fail beyond the principal's legs, found when the target is merged. */
	icred = cred_new("cli;fail=3", SECPKG_CRED_OUTBOUND, NULL);
	void *ctx = NULL;
	unsigned char out[TOKMAX];
	struct sa_pkg_leg leg;
	ck_assert_int_eq(leg_run(1, icred, &ctx, "x", NULL, 0, out, sizeof out, &leg),
			 SEC_E_TARGET_UNKNOWN);
	ck_assert_int_eq(leg_run(1, icred, &ctx, "x;legs=3", NULL, 0, out, sizeof out, &leg),
			 SEC_I_CONTINUE_NEEDED);
	PKG->ctx_delete(ctx);
	PKG->cred_free(icred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_acceptor_principal_fail_applies)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *a2 = cred_new("svc;fail=2", SECPKG_CRED_INBOUND, NULL);
	void *a2s = cred_new("svc;fail=2;status=0x8009030C", SECPKG_CRED_INBOUND, NULL);
	void *a4 = cred_new("svc;fail=4", SECPKG_CRED_INBOUND, NULL);
	void *a3 = cred_new("svc;fail=3", SECPKG_CRED_INBOUND, NULL); /* an initiator leg: never */
	struct hs h;
	hs_init(&h, icred, a2, "x;legs=4");
	hs_run(&h, HS_MAX);
	ck_assert_int_eq(h.n, 2);
	ck_assert_int_eq(h.st[1], SEC_E_INTERNAL_ERROR);
	ck_assert_ptr_null(h.actx);
	hs_fini(&h);
	/* Both give fail=2: the acceptor's own status wins on its leg. */
	hs_init(&h, icred, a2s, "x;legs=4;fail=2;status=0x80090308");
	hs_run(&h, HS_MAX);
	ck_assert_int_eq(h.st[1], SEC_E_LOGON_DENIED);
	hs_fini(&h);
	hs_init(&h, icred, a4, "x;legs=4");
	hs_run(&h, HS_MAX);
	ck_assert_int_eq(h.n, 4);
	ck_assert_int_eq(h.st[2], SEC_E_OK);
	ck_assert_int_eq(h.st[3], SEC_E_INTERNAL_ERROR);
	ck_assert_ptr_nonnull(h.actx);
	hs_fini(&h);
	hs_init(&h, icred, a3, "x;legs=4");
	hs_run(&h, HS_MAX);
	hs_assert_complete(&h, 4);
	hs_fini(&h);
	/* The initiator's fail applies on the acceptor's leg too. */
	hs_init(&h, icred, a3, "x;legs=4;fail=4;status=0x80090308");
	hs_run(&h, HS_MAX);
	ck_assert_int_eq(h.n, 4);
	ck_assert_int_eq(h.st[3], SEC_E_INVALID_TOKEN);
	hs_fini(&h);
	PKG->cred_free(icred);
	PKG->cred_free(a2);
	PKG->cred_free(a2s);
	PKG->cred_free(a4);
	PKG->cred_free(a3);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_initiator_principal_options_are_defaults)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new("cli;legs=3", SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	struct hs h;
	hs_init(&h, icred, acred, NULL);
	hs_run(&h, HS_MAX);
	hs_assert_complete(&h, 3);
	names_assert(h.actx, "cli");
	hs_fini(&h);
	hs_init(&h, icred, acred, "host;legs=5");
	hs_run(&h, HS_MAX);
	hs_assert_complete(&h, 5);
	hs_fini(&h);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_injected_retryable_status_changes_nothing)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	struct hs h;
	hs_init(&h, icred, acred, "x;legs=3;fail=3;status=0x80090321");
	hs_run(&h, 2);
	struct sa_tp_ctx snap;
	memcpy(&snap, h.ictx, sizeof snap);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_E_BUFFER_TOO_SMALL);
	ck_assert(memcmp(&snap, h.ictx, sizeof snap) == 0);
	hs_fini(&h);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_latency_is_applied_to_each_leg)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	void *aslow = cred_new("svc;latency_us=3000", SECPKG_CRED_INBOUND, NULL);
	struct hs h;
	hs_init(&h, icred, acred, "x;legs=3;latency_us=2000");
	for (int l = 1; l <= 3; l++) {
		int64_t t0 = mono_us();
		int32_t st = hs_leg(&h, TOKMAX);
		int64_t dt = mono_us() - t0;
		ck_assert_int_eq(st, l == 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK);
		ck_assert_msg(dt >= 2000, "leg %d took %lld us", l, (long long)dt);
	}
	hs_fini(&h);
	/* The acceptor's own latency_us replaces the initiator's. */
	hs_init(&h, icred, aslow, "x;legs=3");
	ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_I_CONTINUE_NEEDED);
	int64_t t1 = mono_us();
	ck_assert_int_eq(hs_leg(&h, TOKMAX), SEC_E_OK);
	ck_assert_int_ge(mono_us() - t1, 3000);
	hs_fini(&h);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	PKG->cred_free(aslow);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_noop_continues_forever)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	void *ctx[2] = {NULL, NULL};
	unsigned char buf[2][TOKMAX];
	size_t len[2] = {0, 0};
	for (int l = 0; l < 1000; l++) {
		int side = l % 2; /* 0: initiator */
		struct sa_pkg_leg leg;
		int32_t st = leg_run(side == 0, side == 0 ? icred : acred, &ctx[side], "bench;noop",
				     buf[1 - side], len[1 - side], buf[side], TOKMAX, &leg);
		ck_assert_int_eq(st, SEC_I_CONTINUE_NEEDED);
		ck_assert_uint_eq(leg.out_len, 1);
		ck_assert_uint_eq(buf[side][0], SA_TP_NOOP_BYTE);
		ck_assert_ptr_nonnull(ctx[side]);
		len[side] = leg.out_len;
	}
	ck_assert_uint_eq(tl_live_blocks(), live + 4);
	/* Still retryable on no room; no message calls. */
	struct sa_pkg_leg leg;
	ck_assert_int_eq(leg_run(1, icred, &ctx[0], NULL, buf[1], 1, buf[0], 0, &leg),
			 SEC_E_BUFFER_TOO_SMALL);
	unsigned char sig[16];
	SecBuffer b[1] = {{sizeof sig, SECBUFFER_TOKEN, sig}};
	SecBufferDesc msg = {SECBUFFER_VERSION, 1, b};
	ck_assert_int_eq(PKG->make_signature(ctx[0], 0, &msg, 0), SEC_E_OUT_OF_SEQUENCE);
	ck_assert_int_eq(PKG->encrypt(ctx[1], 0, &msg, 0), SEC_E_OUT_OF_SEQUENCE);
	PKG->ctx_delete(ctx[0]);
	PKG->ctx_delete(ctx[1]);
	/* Through the outbound principal as well. */
	void *inoop = cred_new("bench;noop", SECPKG_CRED_OUTBOUND, NULL);
	struct hs h;
	hs_init(&h, inoop, acred, NULL);
	hs_run(&h, 10);
	ck_assert_int_eq(h.n, 10);
	for (int l = 0; l < 10; l++)
		ck_assert_int_eq(h.st[l], SEC_I_CONTINUE_NEEDED);
	hs_fini(&h);
	PKG->cred_free(inoop);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

/* ---- messages ----------------------------------------------------------------- */

/* A message of two DATA buffers around a TOKEN buffer. */
struct message {
	unsigned char a[37], b[300], sig[SA_TP_SIG_LEN + 4];
	SecBuffer buf[3];
	SecBufferDesc desc;
};

static void message_init(struct message *m, unsigned seed)
{
	for (size_t i = 0; i < sizeof m->a; i++)
		m->a[i] = (unsigned char)(seed + i);
	for (size_t i = 0; i < sizeof m->b; i++)
		m->b[i] = (unsigned char)(seed * 7 + i * 3);
	memset(m->sig, 0xee, sizeof m->sig);
	m->buf[0] = (SecBuffer){sizeof m->a, SECBUFFER_DATA, m->a};
	m->buf[1] = (SecBuffer){sizeof m->sig, SECBUFFER_TOKEN, m->sig};
	m->buf[2] = (SecBuffer){sizeof m->b, SECBUFFER_DATA, m->b};
	m->desc = (SecBufferDesc){SECBUFFER_VERSION, 3, m->buf};
}

/* A copy of *src whose buffers point into *dst. */
static void message_copy(struct message *dst, const struct message *src)
{
	memcpy(dst, src, sizeof *dst);
	dst->buf[0].pvBuffer = dst->a;
	dst->buf[1].pvBuffer = dst->sig;
	dst->buf[2].pvBuffer = dst->b;
	dst->desc.pBuffers = dst->buf;
}

START_TEST(test_testpkg_signatures_round_trip_both_ways)
{
	uint64_t live = tl_live_blocks();
	for (int legs = 2; legs <= 3; legs++) {
		struct pair p;
		pair_open(&p, legs);
		void *sides[2] = {p.h.ictx, p.h.actx};
		for (int from = 0; from < 2; from++) {
			void *tx = sides[from], *rx = sides[1 - from];
			struct message m, w;
			message_init(&m, 11u + (unsigned)from);
			ck_assert_int_eq(PKG->make_signature(tx, 0, &m.desc, 7), SEC_E_OK);
			ck_assert_uint_eq(m.buf[1].cbBuffer, 16);
			unsigned long qop = 99;
			message_copy(&w, &m);
			ck_assert_int_eq(PKG->verify_signature(rx, &w.desc, 7, &qop), SEC_E_OK);
			ck_assert_uint_eq(qop, 0);
			ck_assert_int_eq(PKG->verify_signature(rx, &w.desc, 7, NULL), SEC_E_OK);
			/* Wrong seqno. */
			ck_assert_int_eq(PKG->verify_signature(rx, &w.desc, 8, &qop),
					 SEC_E_OUT_OF_SEQUENCE);
			/* Reflected back to the sender. */
			ck_assert_int_eq(PKG->verify_signature(tx, &w.desc, 7, &qop),
					 SEC_E_MESSAGE_ALTERED);
			/* Any changed byte of data or signature. */
			for (size_t i = 0; i < sizeof m.b; i += 29) {
				message_copy(&w, &m);
				w.b[i] ^= 0x10;
				ck_assert_int_eq(PKG->verify_signature(rx, &w.desc, 7, &qop),
						 SEC_E_MESSAGE_ALTERED);
			}
			for (size_t i = 0; i < SA_TP_SIG_LEN; i++) {
				message_copy(&w, &m);
				w.sig[i] ^= 0x01;
				ck_assert_msg(PKG->verify_signature(rx, &w.desc, 7, &qop) ==
						      SEC_E_MESSAGE_ALTERED,
					      "sig byte %zu", i);
			}
			/* A sealed trailer is no signature. */
			message_copy(&w, &m);
			ck_assert_int_eq(PKG->encrypt(tx, SECQOP_WRAP_NO_ENCRYPT, &w.desc, 7), SEC_E_OK);
			ck_assert_int_eq(PKG->verify_signature(rx, &w.desc, 7, &qop),
					 SEC_E_MESSAGE_ALTERED);
		}
		pair_close(&p);
	}
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_sealing_round_trips_both_ways)
{
	uint64_t live = tl_live_blocks();
	struct pair p;
	pair_open(&p, 4);
	void *sides[2] = {p.h.ictx, p.h.actx};
	for (int from = 0; from < 2; from++) {
		void *tx = sides[from], *rx = sides[1 - from];
		struct message plain, m, w;
		message_init(&plain, 5u + (unsigned)from);
		message_copy(&m, &plain);
		ck_assert_int_eq(PKG->encrypt(tx, 0, &m.desc, 1000), SEC_E_OK);
		ck_assert_uint_eq(m.buf[1].cbBuffer, 16);
		ck_assert(memcmp(m.a, plain.a, sizeof m.a) != 0);
		ck_assert(memcmp(m.b, plain.b, sizeof m.b) != 0);
		unsigned long qop = 99;
		/* Altered ciphertext, signature, seqno, reflection: data left as it was. */
		message_copy(&w, &m);
		w.a[3] ^= 0x40;
		ck_assert_int_eq(PKG->decrypt(rx, &w.desc, 1000, &qop), SEC_E_MESSAGE_ALTERED);
		ck_assert(memcmp(w.b, m.b, sizeof m.b) == 0 && w.a[3] == (m.a[3] ^ 0x40));
		message_copy(&w, &m);
		w.sig[15] ^= 0x02;
		ck_assert_int_eq(PKG->decrypt(rx, &w.desc, 1000, &qop), SEC_E_MESSAGE_ALTERED);
		ck_assert(memcmp(w.a, m.a, sizeof m.a) == 0 && memcmp(w.b, m.b, sizeof m.b) == 0);
		message_copy(&w, &m);
		ck_assert_int_eq(PKG->decrypt(rx, &w.desc, 1001, &qop), SEC_E_OUT_OF_SEQUENCE);
		ck_assert(memcmp(w.a, m.a, sizeof m.a) == 0 && memcmp(w.b, m.b, sizeof m.b) == 0);
		ck_assert_int_eq(PKG->decrypt(tx, &w.desc, 1000, &qop), SEC_E_MESSAGE_ALTERED);
		ck_assert(memcmp(w.a, m.a, sizeof m.a) == 0 && memcmp(w.b, m.b, sizeof m.b) == 0);
		/* A signature is no sealed trailer. */
		struct message s;
		message_copy(&s, &plain);
		ck_assert_int_eq(PKG->make_signature(tx, 0, &s.desc, 1000), SEC_E_OK);
		ck_assert_int_eq(PKG->decrypt(rx, &s.desc, 1000, &qop), SEC_E_MESSAGE_ALTERED);
		/* The real thing. */
		ck_assert_int_eq(PKG->decrypt(rx, &w.desc, 1000, &qop), SEC_E_OK);
		ck_assert_uint_eq(qop, 0);
		ck_assert(memcmp(w.a, plain.a, sizeof w.a) == 0);
		ck_assert(memcmp(w.b, plain.b, sizeof w.b) == 0);
	}
	pair_close(&p);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_wrap_no_encrypt_leaves_data_clear)
{
	uint64_t live = tl_live_blocks();
	struct pair p;
	pair_open(&p, 3);
	struct message plain, m;
	message_init(&plain, 3);
	message_copy(&m, &plain);
	ck_assert_int_eq(PKG->encrypt(p.h.actx, SECQOP_WRAP_NO_ENCRYPT, &m.desc, 2), SEC_E_OK);
	ck_assert(memcmp(m.a, plain.a, sizeof m.a) == 0);
	ck_assert(memcmp(m.b, plain.b, sizeof m.b) == 0);
	unsigned long qop = 0;
	ck_assert_int_eq(PKG->decrypt(p.h.ictx, &m.desc, 2, &qop), SEC_E_OK);
	ck_assert_uint_eq(qop, SECQOP_WRAP_NO_ENCRYPT);
	ck_assert(memcmp(m.a, plain.a, sizeof m.a) == 0);
	m.b[0] ^= 1;
	ck_assert_int_eq(PKG->decrypt(p.h.ictx, &m.desc, 2, NULL), SEC_E_MESSAGE_ALTERED);
	/* A READONLY DATA buffer is signed but not sealed. */
	message_copy(&m, &plain);
	m.buf[0].BufferType = SECBUFFER_DATA | SECBUFFER_READONLY;
	ck_assert_int_eq(PKG->encrypt(p.h.ictx, 0, &m.desc, 3), SEC_E_OK);
	ck_assert(memcmp(m.a, plain.a, sizeof m.a) == 0);
	ck_assert(memcmp(m.b, plain.b, sizeof m.b) != 0);
	m.a[0] ^= 1;
	ck_assert_int_eq(PKG->decrypt(p.h.actx, &m.desc, 3, NULL), SEC_E_MESSAGE_ALTERED);
	m.a[0] ^= 1;
	ck_assert_int_eq(PKG->decrypt(p.h.actx, &m.desc, 3, &qop), SEC_E_OK);
	ck_assert_uint_eq(qop, 0);
	ck_assert(memcmp(m.b, plain.b, sizeof m.b) == 0);
	pair_close(&p);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_message_buffers_are_checked)
{
	uint64_t live = tl_live_blocks();
	struct pair p;
	pair_open(&p, 2);
	struct message m;
	message_init(&m, 1);
	m.buf[1].cbBuffer = 15;
	ck_assert_int_eq(PKG->make_signature(p.h.ictx, 0, &m.desc, 0), SEC_E_BUFFER_TOO_SMALL);
	ck_assert_int_eq(PKG->encrypt(p.h.ictx, 0, &m.desc, 0), SEC_E_BUFFER_TOO_SMALL);
	ck_assert(m.a[0] == 1); /* not sealed */
	ck_assert_int_eq(PKG->verify_signature(p.h.actx, &m.desc, 0, NULL), SEC_E_INVALID_TOKEN);
	ck_assert_int_eq(PKG->decrypt(p.h.actx, &m.desc, 0, NULL), SEC_E_INVALID_TOKEN);
	m.buf[1].cbBuffer = 16;
	m.buf[1].BufferType = SECBUFFER_EMPTY;
	ck_assert_int_eq(PKG->make_signature(p.h.ictx, 0, &m.desc, 0), SEC_E_INVALID_TOKEN);
	ck_assert_int_eq(PKG->encrypt(p.h.ictx, 0, &m.desc, 0), SEC_E_INVALID_TOKEN);
	m.buf[1].BufferType = SECBUFFER_TOKEN;
	ck_assert_int_eq(PKG->make_signature(p.h.ictx, 1, &m.desc, 0), SEC_E_QOP_NOT_SUPPORTED);
	ck_assert_int_eq(PKG->encrypt(p.h.ictx, 5, &m.desc, 0), SEC_E_QOP_NOT_SUPPORTED);
	m.buf[2].pvBuffer = NULL;
	ck_assert_int_eq(PKG->make_signature(p.h.ictx, 0, &m.desc, 0), SEC_E_INVALID_TOKEN);
	/* Signature only, no data at all: still a MAC. */
	unsigned char sig[16];
	SecBuffer only = {sizeof sig, SECBUFFER_TOKEN, sig};
	SecBufferDesc d = {SECBUFFER_VERSION, 1, &only};
	ck_assert_int_eq(PKG->make_signature(p.h.actx, 0, &d, 9), SEC_E_OK);
	ck_assert_int_eq(PKG->verify_signature(p.h.ictx, &d, 9, NULL), SEC_E_OK);
	pair_close(&p);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_messages_before_completion_are_refused)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	struct hs h;
	hs_init(&h, icred, acred, "x;legs=4");
	hs_run(&h, 2); /* neither side complete */
	struct message m;
	message_init(&m, 1);
	for (int side = 0; side < 2; side++) {
		void *c = side ? h.actx : h.ictx;
		ck_assert_int_eq(PKG->make_signature(c, 0, &m.desc, 0), SEC_E_OUT_OF_SEQUENCE);
		ck_assert_int_eq(PKG->verify_signature(c, &m.desc, 0, NULL), SEC_E_OUT_OF_SEQUENCE);
		ck_assert_int_eq(PKG->encrypt(c, 0, &m.desc, 0), SEC_E_OUT_OF_SEQUENCE);
		ck_assert_int_eq(PKG->decrypt(c, &m.desc, 0, NULL), SEC_E_OUT_OF_SEQUENCE);
	}
	ck_assert(m.a[0] == 1);
	hs_fini(&h);
	/* A failed handshake: the same. */
	hs_init(&h, icred, acred, "x;legs=4;fail=3");
	hs_run(&h, HS_MAX);
	ck_assert_int_eq(PKG->make_signature(h.ictx, 0, &m.desc, 0), SEC_E_OUT_OF_SEQUENCE);
	hs_fini(&h);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

/* ---- oom ----------------------------------------------------------------------- */

START_TEST(test_testpkg_cred_acquire_oom)
{
	static const struct sa_pkg_identity id = {"alice", "CORP", "pw", SA_PKG_MECH_ALL};
	uint64_t live = tl_live_blocks();
	uint64_t k;
	void *c = NULL;
	for (k = 1;; k++) {
		c = (void *)&k;
		sa__alloc_fail_at(k);
		int32_t st = cred_try("svc;fail=2", SECPKG_CRED_BOTH, &id, &c);
		sa__alloc_fail_at(0);
		if (st == SEC_E_OK)
			break;
		ck_assert_int_eq(st, SEC_E_INSUFFICIENT_MEMORY);
		ck_assert_ptr_eq(c, &k);
		ck_assert_uint_eq(tl_live_blocks(), live);
	}
	ck_assert_uint_gt(k, 1);
	/* cred_name under OOM as well. */
	char *name = (char *)&k;
	sa__alloc_fail_at(1);
	ck_assert_int_eq(PKG->cred_name(c, &name), SEC_E_INSUFFICIENT_MEMORY);
	sa__alloc_fail_at(0);
	ck_assert_ptr_eq(name, (char *)&k);
	cred_name_assert(c, "CORP\\alice");
	PKG->cred_free(c);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

START_TEST(test_testpkg_leg_oom_changes_nothing)
{
	uint64_t live = tl_live_blocks();
	void *icred = cred_new(NULL, SECPKG_CRED_OUTBOUND, NULL);
	void *acred = cred_new(NULL, SECPKG_CRED_INBOUND, NULL);
	struct hs h;
	hs_init(&h, icred, acred, "x;legs=3");
	static const int32_t want[] = {SEC_I_CONTINUE_NEEDED, SEC_E_OK, SEC_E_OK};
	for (int l = 0; l < 3; l++) {
		void **ctx = l % 2 ? &h.actx : &h.ictx;
		struct sa_tp_ctx snap;
		int had = *ctx != NULL;
		if (had)
			memcpy(&snap, *ctx, sizeof snap);
		uint64_t before = tl_live_blocks(), k;
		int32_t st;
		for (k = 1;; k++) {
			sa__alloc_fail_at(k);
			st = hs_leg(&h, TOKMAX);
			sa__alloc_fail_at(0);
			if (st != SEC_E_INSUFFICIENT_MEMORY)
				break;
			ck_assert_uint_eq(tl_live_blocks(), before);
			if (had)
				ck_assert(memcmp(&snap, *ctx, sizeof snap) == 0);
			else
				ck_assert_ptr_null(*ctx);
		}
		ck_assert_int_eq(st, want[l]);
		if (!had)
			ck_assert_uint_gt(k, 1); /* a first leg allocates */
	}
	hs_assert_complete(&h, 3);
	/* ctx_names under OOM. */
	char *user = (char *)&h;
	sa__alloc_fail_at(1);
	ck_assert_int_eq(PKG->ctx_names(h.actx, &user), SEC_E_INSUFFICIENT_MEMORY);
	sa__alloc_fail_at(0);
	ck_assert_ptr_eq(user, (char *)&h);
	names_assert(h.actx, "anonymous");
	hs_fini(&h);
	PKG->cred_free(icred);
	PKG->cred_free(acred);
	ck_assert_uint_eq(tl_live_blocks(), live);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("testpkg");

	TCase *tc = tcase_create("handshake");
	tcase_add_test(tc, test_testpkg_package_table_is_complete);
	tcase_add_test(tc, test_testpkg_siphash_matches_reference_vector);
	tcase_add_test(tc, test_testpkg_handshake_statuses_per_leg);
	tcase_add_test(tc, test_testpkg_null_principal_and_target_give_two_anonymous_legs);
	tcase_add_test(tc, test_testpkg_leg_after_completion_is_out_of_sequence);
	tcase_add_test(tc, test_testpkg_buffer_too_small_is_retryable);
	tcase_add_test(tc, test_testpkg_never_writes_more_than_max_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("tamper");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_testpkg_every_flipped_byte_is_rejected);
	tcase_add_test(tc, test_testpkg_short_long_or_missing_token_is_rejected);
	tcase_add_test(tc, test_testpkg_token_of_other_handshake_is_rejected);
	tcase_add_test(tc, test_testpkg_earlier_token_replayed_is_rejected);
	tcase_add_test(tc, test_testpkg_first_token_accepted_twice_is_rejected);
	tcase_add_test(tc, test_testpkg_racing_acceptors_take_a_first_token_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("identity");
	tcase_add_test(tc, test_testpkg_wrong_password_is_logon_denied);
	tcase_add_test(tc, test_testpkg_right_password_is_accepted);
	tcase_add_test(tc, test_testpkg_wrong_user_is_logon_denied);
	tcase_add_test(tc, test_testpkg_acceptor_without_identity_admits_anyone);
	tcase_add_test(tc, test_testpkg_credential_direction_is_checked);
	tcase_add_test(tc, test_testpkg_bad_principal_is_unknown_credentials);
	suite_add_tcase(s, tc);

	tc = tcase_create("inject");
	tcase_add_test(tc, test_testpkg_fail_at_each_leg);
	tcase_add_test(tc, test_testpkg_bad_target_is_target_unknown);
	tcase_add_test(tc, test_testpkg_acceptor_principal_fail_applies);
	tcase_add_test(tc, test_testpkg_initiator_principal_options_are_defaults);
	tcase_add_test(tc, test_testpkg_injected_retryable_status_changes_nothing);
	tcase_add_test(tc, test_testpkg_latency_is_applied_to_each_leg);
	tcase_add_test(tc, test_testpkg_noop_continues_forever);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_test(tc, test_testpkg_signatures_round_trip_both_ways);
	tcase_add_test(tc, test_testpkg_sealing_round_trips_both_ways);
	tcase_add_test(tc, test_testpkg_wrap_no_encrypt_leaves_data_clear);
	tcase_add_test(tc, test_testpkg_message_buffers_are_checked);
	tcase_add_test(tc, test_testpkg_messages_before_completion_are_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("oom");
	tcase_add_test(tc, test_testpkg_cred_acquire_oom);
	tcase_add_test(tc, test_testpkg_leg_oom_changes_nothing);
	suite_add_tcase(s, tc);

	return tl_run_suite(s); /* srunner_ntests_failed(), after srunner_free() */
}
