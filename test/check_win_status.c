/*
 * test/check_win_status.c - the statuses Windows gives for bad arguments and
 * buffers, call by call: every row of README's "Windows' statuses for
 * arguments and buffers" names the test here that holds it.  What it is not:
 * the bad-handle, lifecycle and OOM suites (check_sspi_sync.c, check_async.c).
 *
 * _i is the package: 0 the test package "SspiAsyncTest" (TCase "testpkg"),
 * 1 "NTLM" (TCase "ntlm", whose fixture writes the user file both sides'
 * credentials come from).  Both run a 4-leg handshake of the same shape:
 * ISC sends, ASC sends, ISC sends and is done, ASC is done and sends nothing.
 * A refused call must leave every output as it was, create nothing and leave
 * the context usable: each test finishes its handshake and passes messages.
 * Explicit no-thread mode: async calls run in sspiasync_run(), on this thread.
 */
#define _DEFAULT_SOURCE /* mkstemp, setenv (sspi_testlib.h) */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "sspi_testlib.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define ROOM 2888 /* NTLM's cbMaxToken: every token of these handshakes fits */
#define LEGS 4
#define SIG 16    /* both packages' signature and trailer */

static char ntlm_name[] = "NTLM";
static char tp_target[] = "host/win;legs=4", ntlm_target[] = "HTTP/win.test";

struct pk {
	char *name;
	char *target;
};

static const struct pk pks[2] = {{pkg_name, tp_target}, {ntlm_name, ntlm_target}};

static char user_file[64];

static void ntlm_setup(void)
{
	tl_user_file_set(user_file, "DOM:alice:Secret1!\n");
}

static void ntlm_teardown(void)
{
	teardown();
	tl_user_file_unset(user_file);
}

static void start(void)
{
	struct sspiasync_config cfg = {0};
	cfg.threads = 0;
	ck_assert_int_eq(sspiasync_init(&cfg), SEC_E_OK);
}

/* Every test's last step. */
static void finish(void)
{
	ck_assert_int_eq(sspiasync_shutdown(), SEC_E_OK);
	ck_assert_uint_eq(tl_live_blocks(), 0);
	struct sspiasync_statistics s = stats();
	ck_assert_uint_eq(s.credentials, 0);
	ck_assert_uint_eq(s.contexts, 0);
}

/* --- one handshake, leg by leg ------------------------------------------------ */

struct hs {
	const struct pk *pk;
	CredHandle cc, sc;
	CtxtHandle c, s;
	int have_c, have_s;
	int leg;                   /* legs run so far: the next is leg + 1 */
	unsigned char tok[ROOM];   /* the token the next leg takes */
	unsigned long tok_len;
};

/* The outputs of one leg, pre-filled with patterns. */
struct outs {
	CtxtHandle newh;
	unsigned long attrs;
	TimeStamp ts;
};

static void outs_reset(struct outs *o)
{
	handle_pat(&o->newh);
	o->attrs = PAT_ATTR;
	o->ts.QuadPart = PAT_TIME;
}

static void outs_untouched(const struct outs *o)
{
	ck_assert(handle_is_pat(&o->newh));
	ck_assert_uint_eq(o->attrs, PAT_ATTR);
	ck_assert_int_eq(o->ts.QuadPart, PAT_TIME);
}

static void hs_init(struct hs *h, int i)
{
	memset(h, 0, sizeof *h);
	h->pk = &pks[i];
	TimeStamp ts;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, h->pk->name, SECPKG_CRED_OUTBOUND, NULL,
						   NULL, NULL, NULL, &h->cc, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, h->pk->name, SECPKG_CRED_INBOUND, NULL,
						   NULL, NULL, NULL, &h->sc, &ts),
			 SEC_E_OK);
	handle_pat(&h->c);
	handle_pat(&h->s);
}

static int hs_client(const struct hs *h)
{
	return h->leg % 2 == 0;
}

/* The status leg @leg (1-based) of a handshake returns. */
static SECURITY_STATUS leg_expected(int leg)
{
	return leg < LEGS - 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK;
}

/* The next leg as its side calls it, with @in (may be NULL) and @out;
 * records nothing. */
static SECURITY_STATUS leg_raw_in(struct hs *h, SecBufferDesc *in, SecBufferDesc *out,
				  unsigned long req, struct outs *o)
{
	int client = hs_client(h);
	int have = client ? h->have_c : h->have_s;
	CtxtHandle *ctx = client ? &h->c : &h->s;
	if (client)
		return InitializeSecurityContextA(&h->cc, have ? ctx : NULL, h->pk->target, req, 0,
						  SECURITY_NATIVE_DREP, in, 0, &o->newh, out,
						  &o->attrs, &o->ts);
	return AcceptSecurityContext(&h->sc, have ? ctx : NULL, in, req, SECURITY_NATIVE_DREP,
				     &o->newh, out, &o->attrs, &o->ts);
}

/* The same with the peer's last token as input (none on leg 1). */
static SECURITY_STATUS leg_raw(struct hs *h, SecBufferDesc *out, unsigned long req, struct outs *o)
{
	SecBuffer ib = {h->tok_len, SECBUFFER_TOKEN, h->tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	return leg_raw_in(h, h->leg == 0 ? NULL : &id, out, req, o);
}

/* A leg returned @st with @len bytes of token at @tok: check and record it. */
static void leg_record(struct hs *h, SECURITY_STATUS st, const struct outs *o, const void *tok,
		       unsigned long len)
{
	int leg = h->leg + 1, client = hs_client(h);
	int *have = client ? &h->have_c : &h->have_s;
	CtxtHandle *ctx = client ? &h->c : &h->s;
	ck_assert_msg(st == leg_expected(leg), "%s leg %d: 0x%08x", h->pk->name, leg, (unsigned)st);
	if (!*have) {
		ck_assert(!handle_is_pat(&o->newh));
		*ctx = o->newh;
		*have = 1;
	} else {
		ck_assert(handle_eq(&o->newh, ctx));
	}
	ck_assert_uint_ne(o->attrs, PAT_ATTR);
	ck_assert_int_ne(o->ts.QuadPart, PAT_TIME);
	ck_assert_uint_le(len, ROOM);
	if (leg < LEGS)
		ck_assert_uint_gt(len, 0);
	if (len != 0)
		memmove(h->tok, tok, len);
	h->tok_len = len;
	h->leg++;
}

/* The next leg with @cap bytes of room; returns the status, records a success. */
static SECURITY_STATUS leg_cap(struct hs *h, unsigned long cap)
{
	unsigned char outb[ROOM];
	struct outs o;
	ck_assert_uint_le(cap, ROOM);
	memset(outb, PAT, sizeof outb);
	SecBuffer ob = {cap, SECBUFFER_TOKEN, outb};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	outs_reset(&o);
	SECURITY_STATUS st = leg_raw(h, &od, 0, &o);
	if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) {
		ck_assert_ptr_eq(ob.pvBuffer, outb);
		ck_assert_uint_le(ob.cbBuffer, cap);
		leg_record(h, st, &o, outb, ob.cbBuffer);
		return st;
	}
	outs_untouched(&o);
	ck_assert_uint_eq(ob.cbBuffer, cap);
	ck_assert_ptr_eq(ob.pvBuffer, outb);
	ck_assert_uint_eq(ob.BufferType, SECBUFFER_TOKEN);
	ck_assert(bytes_are(outb, sizeof outb, PAT));
	return st;
}

static void leg_ok(struct hs *h)
{
	SECURITY_STATUS st = leg_cap(h, ROOM);
	ck_assert_int_eq(st, leg_expected(h->leg));
}

static void hs_run_to(struct hs *h, int n)
{
	while (h->leg < n)
		leg_ok(h);
}

/* Sign on @a, verify on @b; seal on @a, unseal on @b. */
static void msg_roundtrip(CtxtHandle *a, CtxtHandle *b, unsigned long seq)
{
	static const char text[] = "Hello, world!";
	unsigned char data[sizeof text - 1], sig[SIG];
	unsigned long qop = PAT_ATTR;
	memcpy(data, text, sizeof data);
	SecBuffer mb[2] = {{SIG, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(MakeSignature(a, 0, &md, seq), SEC_E_OK);
	ck_assert_uint_eq(mb[0].cbBuffer, SIG);
	ck_assert_int_eq(VerifySignature(b, &md, seq, &qop), SEC_E_OK);
	ck_assert_int_eq(EncryptMessage(a, 0, &md, seq + 1), SEC_E_OK);
	ck_assert(memcmp(data, text, sizeof data) != 0);
	ck_assert_int_eq(DecryptMessage(b, &md, seq + 1, &qop), SEC_E_OK);
	ck_assert(memcmp(data, text, sizeof data) == 0);
}

/* Run the handshake to its end, pass messages both ways, free it all. */
static void hs_finish(struct hs *h)
{
	hs_run_to(h, LEGS);
	msg_roundtrip(&h->c, &h->s, 0);
	msg_roundtrip(&h->s, &h->c, 0);
	ck_assert_int_eq(DeleteSecurityContext(&h->c), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&h->s), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h->cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h->sc), SEC_E_OK);
	ck_assert_uint_eq(stats().contexts, 0);
}

/* A complete pair, ready for message and query calls. */
static void hs_complete(struct hs *h, int i)
{
	hs_init(h, i);
	hs_run_to(h, LEGS);
}

/* --- InitializeSecurityContext and AcceptSecurityContext --------------------- */

/*
 * Every leg that sends a token (1-3: ISC, ASC, ISC), given an output
 * description with no SECBUFFER_TOKEN buffer - pOutput NULL, no buffers, only
 * a SECBUFFER_DATA - with or without *_REQ_ALLOCATE_MEMORY: no room for the
 * token, SEC_E_BUFFER_TOO_SMALL, nothing written; the same leg with a token
 * buffer then runs.  Wine ntlm.c runClient records NULL and DATA-only.
 */
START_TEST(test_win_leg_without_output_token_buffer_is_buffer_too_small)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	while (h.leg < LEGS - 1) {
		for (int alloc = 0; alloc < 2; alloc++) {
			for (int c = 0; c < 3; c++) {
				unsigned char data[64];
				memset(data, PAT, sizeof data);
				SecBuffer db = {sizeof data, SECBUFFER_DATA, data};
				SecBufferDesc od = {SECBUFFER_VERSION, c == 1 ? 0 : 1, &db};
				struct outs o;
				outs_reset(&o);
				uint64_t contexts = stats().contexts;
				SECURITY_STATUS st = leg_raw(&h, c == 0 ? NULL : &od,
							     alloc ? ISC_REQ_ALLOCATE_MEMORY : 0, &o);
				ck_assert_msg(st == SEC_E_BUFFER_TOO_SMALL,
					      "%s leg %d case %d alloc %d: 0x%08x", h.pk->name,
					      h.leg + 1, c, alloc, (unsigned)st);
				outs_untouched(&o);
				ck_assert(bytes_are(data, sizeof data, PAT));
				ck_assert_uint_eq(db.cbBuffer, sizeof data);
				ck_assert_ptr_eq(db.pvBuffer, data);
				ck_assert_uint_eq(db.BufferType, SECBUFFER_DATA);
				ck_assert_uint_eq(stats().contexts, contexts);
			}
		}
		leg_ok(&h);
	}
	hs_finish(&h);
	finish();
}
END_TEST

/* The last leg sends no token: without a token buffer it runs to SEC_E_OK. */
START_TEST(test_win_last_leg_without_output_token_buffer_succeeds)
{
	start();
	for (int c = 0; c < 3; c++) {
		struct hs h;
		hs_init(&h, _i);
		hs_run_to(&h, LEGS - 1);
		unsigned char data[64];
		memset(data, PAT, sizeof data);
		SecBuffer db = {sizeof data, SECBUFFER_DATA, data};
		SecBufferDesc od = {SECBUFFER_VERSION, c == 1 ? 0 : 1, &db};
		struct outs o;
		outs_reset(&o);
		SECURITY_STATUS st = leg_raw(&h, c == 0 ? NULL : &od,
					     c == 2 ? ASC_REQ_ALLOCATE_MEMORY : 0, &o);
		ck_assert_msg(st == SEC_E_OK, "%s case %d: 0x%08x", h.pk->name, c, (unsigned)st);
		ck_assert_uint_eq(o.attrs & ASC_RET_ALLOCATED_MEMORY, 0);
		ck_assert(bytes_are(data, sizeof data, PAT));
		ck_assert_uint_eq(db.cbBuffer, sizeof data);
		leg_record(&h, st, &o, NULL, 0);
		hs_finish(&h);
	}
	finish();
}
END_TEST

/*
 * A SECBUFFER_TOKEN claiming bytes at a NULL pvBuffer, without
 * *_REQ_ALLOCATE_MEMORY: SEC_E_INTERNAL_ERROR at every leg (Wine ntlm.c
 * runClient records it for the first ISC leg; newer Windows answers
 * SEC_I_CONTINUE_NEEDED), nothing written, nothing created, the context as
 * it was.
 */
START_TEST(test_win_leg_token_with_null_pvbuffer_is_internal_error)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	while (h.leg < LEGS) {
		SecBuffer ob = {ROOM, SECBUFFER_TOKEN, NULL};
		SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
		struct outs o;
		outs_reset(&o);
		uint64_t contexts = stats().contexts;
		SECURITY_STATUS st = leg_raw(&h, &od, 0, &o);
		ck_assert_msg(st == SEC_E_INTERNAL_ERROR, "%s leg %d: 0x%08x", h.pk->name,
			      h.leg + 1, (unsigned)st);
		outs_untouched(&o);
		ck_assert_uint_eq(ob.cbBuffer, ROOM);
		ck_assert_ptr_null(ob.pvBuffer);
		ck_assert_uint_eq(stats().contexts, contexts);
		leg_ok(&h);
	}
	hs_finish(&h);
	finish();
}
END_TEST

/* With *_REQ_ALLOCATE_MEMORY the package allocates the token whatever the
 * buffer says (the InitializeSecurityContext (NTLM) page): NULL pvBuffer
 * with cbBuffer 0 or not. */
START_TEST(test_win_leg_token_with_null_pvbuffer_and_allocate_is_allocated)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	while (h.leg < LEGS) {
		SecBuffer ob = {h.leg % 2 ? ROOM : 0, SECBUFFER_TOKEN, NULL};
		SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
		struct outs o;
		outs_reset(&o);
		SECURITY_STATUS st = leg_raw(&h, &od, ISC_REQ_ALLOCATE_MEMORY, &o);
		if (h.leg < LEGS - 1) {
			ck_assert_ptr_nonnull(ob.pvBuffer);
			ck_assert_uint_ne(o.attrs & ISC_RET_ALLOCATED_MEMORY, 0);
		} else {
			ck_assert_ptr_null(ob.pvBuffer);
			ck_assert_uint_eq(ob.cbBuffer, 0);
		}
		void *p = ob.pvBuffer;
		leg_record(&h, st, &o, p, ob.cbBuffer);
		if (p != NULL)
			ck_assert_int_eq(FreeContextBuffer(p), SEC_E_OK);
	}
	hs_finish(&h);
	finish();
}
END_TEST

/* A token buffer of 0 bytes: SEC_E_BUFFER_TOO_SMALL, cbBuffer still 0
 * (Wine ntlm.c runClient), at every leg that sends. */
START_TEST(test_win_leg_token_of_zero_bytes_is_buffer_too_small)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	while (h.leg < LEGS - 1) {
		ck_assert_int_eq(leg_cap(&h, 0), SEC_E_BUFFER_TOO_SMALL);
		leg_ok(&h);
	}
	hs_finish(&h);
	finish();
}
END_TEST

/*
 * Grow and retry: a first handshake learns each leg's token size; a second
 * one gives every leg one byte less first (SEC_E_BUFFER_TOO_SMALL, nothing
 * written, nothing created or changed), then exactly the size, which runs.
 */
START_TEST(test_win_leg_token_too_small_then_grown_retry_succeeds)
{
	start();
	unsigned long size[LEGS];
	struct hs h;
	hs_init(&h, _i);
	while (h.leg < LEGS) {
		leg_ok(&h);
		size[h.leg - 1] = h.tok_len;
	}
	hs_finish(&h);
	hs_init(&h, _i);
	while (h.leg < LEGS - 1) {
		unsigned long n = size[h.leg];
		uint64_t contexts = stats().contexts;
		ck_assert_int_eq(leg_cap(&h, 1), SEC_E_BUFFER_TOO_SMALL);
		ck_assert_int_eq(leg_cap(&h, n - 1), SEC_E_BUFFER_TOO_SMALL);
		ck_assert_uint_eq(stats().contexts, contexts);
		int leg = h.leg + 1;
		ck_assert_int_eq(leg_cap(&h, n), leg_expected(leg));
		ck_assert_uint_eq(h.tok_len, n);
	}
	hs_finish(&h);
	finish();
}
END_TEST

/*
 * Structural errors stay SEC_E_INVALID_PARAMETER (no source records
 * Windows' answer), checked before anything else: bad ulVersion, NULL
 * pBuffers (output or input), NULL pfContextAttr, NULL phNewContext on a
 * first leg, a non-zero Reserved argument, a non-token output buffer
 * claiming bytes at NULL.  The async forms return it, nothing queued.
 */
START_TEST(test_win_leg_malformed_arguments_are_invalid_parameter)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	while (h.leg < 2) {
		int client = hs_client(&h);
		for (int c = 0; c < 7; c++) {
			if (c == 5 && !client)
				continue; /* Reserved: ISC only */
			unsigned char outb[ROOM], extra[8];
			memset(outb, PAT, sizeof outb);
			SecBuffer ob[2] = {{ROOM, SECBUFFER_TOKEN, outb}, {sizeof extra, SECBUFFER_EMPTY,
									   extra}};
			SecBufferDesc od = {SECBUFFER_VERSION, 2, ob};
			SecBuffer ib = {h.tok_len, SECBUFFER_TOKEN, h.tok};
			SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
			SecBufferDesc *in = h.leg == 0 ? NULL : &id;
			struct outs o;
			outs_reset(&o);
			unsigned long *attrs = &o.attrs;
			CtxtHandle *newh = &o.newh;
			unsigned long r1 = 0;
			switch (c) {
			case 0: od.ulVersion = 1; break;
			case 1: od.pBuffers = NULL; break;
			case 2:
				if (in != NULL)
					id.ulVersion = 7;
				else
					od.ulVersion = 2;
				break;
			case 3: attrs = NULL; break;
			case 4: newh = NULL; break;
			case 5: r1 = 1; break;
			default: ob[1].pvBuffer = NULL; break;
			}
			for (int async = 0; async < 2; async++) {
				SECURITY_STATUS st;
				if (client && !async)
					st = InitializeSecurityContextA(&h.cc, NULL, h.pk->target, 0, r1,
									SECURITY_NATIVE_DREP, in, 0, newh,
									&od, attrs, &o.ts);
				else if (client)
					st = SspiInitializeSecurityContextAsyncA(
						a, &h.cc, NULL, h.pk->target, 0, r1,
						SECURITY_NATIVE_DREP, in, 0, newh, &od, attrs, &o.ts);
				else if (!async)
					st = AcceptSecurityContext(&h.sc, NULL, in, 0,
								   SECURITY_NATIVE_DREP, newh, &od,
								   attrs, &o.ts);
				else
					st = SspiAcceptSecurityContextAsync(a, &h.sc, NULL, in, 0,
									    SECURITY_NATIVE_DREP, newh,
									    &od, attrs, &o.ts);
				ck_assert_msg(st == SEC_E_INVALID_PARAMETER,
					      "%s leg %d case %d async %d: 0x%08x", h.pk->name,
					      h.leg + 1, c, async, (unsigned)st);
				ck_assert_uint_eq(sspiasync_run(0), 0); /* nothing queued */
				ck_assert_int_eq(SspiGetAsyncCallStatus(a), SEC_E_INVALID_PARAMETER);
				outs_untouched(&o);
				ck_assert(bytes_are(outb, sizeof outb, PAT));
				ck_assert_uint_eq(ob[0].cbBuffer, ROOM);
			}
		}
		ck_assert_uint_eq(stats().contexts, h.leg == 0 ? 0 : 1);
		leg_ok(&h);
	}
	SspiFreeAsyncContext(a);
	hs_finish(&h);
	finish();
}
END_TEST

/*
 * The order of checks: structural errors first (SEC_E_INVALID_PARAMETER even
 * with a bad handle), then handles (SEC_E_INVALID_HANDLE wins over a buffer
 * status), then admission (a leg on a complete context is
 * SEC_E_OUT_OF_SEQUENCE), then the output buffers.
 */
START_TEST(test_win_leg_checks_structure_then_handle_then_state_then_buffers)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	CredHandle badc = h.cc;
	badc.dwLower ^= 4;
	unsigned char data[16];
	SecBuffer db = {sizeof data, SECBUFFER_DATA, data};
	SecBufferDesc dd = {SECBUFFER_VERSION, 1, &db}; /* no token buffer */
	SecBuffer nb = {ROOM, SECBUFFER_TOKEN, NULL};
	SecBufferDesc nd = {SECBUFFER_VERSION, 1, &nb}; /* token at NULL */
	SecBufferDesc vd = {5, 1, &db};                 /* bad version */
	struct outs o;
	outs_reset(&o);
	ck_assert_int_eq(InitializeSecurityContextA(&badc, NULL, h.pk->target, 0, 0,
						    SECURITY_NATIVE_DREP, NULL, 0, &o.newh, &vd,
						    &o.attrs, &o.ts),
			 SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(InitializeSecurityContextA(&badc, NULL, h.pk->target, 0, 0,
						    SECURITY_NATIVE_DREP, NULL, 0, &o.newh, &dd,
						    &o.attrs, &o.ts),
			 SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(InitializeSecurityContextA(&badc, NULL, h.pk->target, 0, 0,
						    SECURITY_NATIVE_DREP, NULL, 0, &o.newh, &nd,
						    &o.attrs, &o.ts),
			 SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(InitializeSecurityContextA(NULL, NULL, h.pk->target, 0, 0,
						    SECURITY_NATIVE_DREP, NULL, 0, &o.newh, NULL,
						    &o.attrs, &o.ts),
			 SEC_E_INVALID_HANDLE);
	outs_untouched(&o);
	hs_run_to(&h, 2);
	CtxtHandle badx = h.c;
	badx.dwUpper ^= 8;
	SecBuffer ib = {h.tok_len, SECBUFFER_TOKEN, h.tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, &badx, h.pk->target, 0, 0,
						    SECURITY_NATIVE_DREP, &id, 0, &o.newh, &dd,
						    &o.attrs, &o.ts),
			 SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, &badx, h.pk->target, 0, 0,
						    SECURITY_NATIVE_DREP, &id, 0, &o.newh, &nd,
						    &o.attrs, &o.ts),
			 SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(AcceptSecurityContext(&h.sc, &h.c, &id, 0, SECURITY_NATIVE_DREP, &o.newh,
					       &nd, &o.attrs, &o.ts),
			 SEC_E_INVALID_HANDLE); /* a client's context passed to ASC */
	outs_untouched(&o);
	hs_run_to(&h, LEGS);
	/* Complete: a further leg is out of sequence before its buffers count. */
	ck_assert_int_eq(InitializeSecurityContextA(&h.cc, &h.c, h.pk->target, 0, 0,
						    SECURITY_NATIVE_DREP, &id, 0, &o.newh, &nd,
						    &o.attrs, &o.ts),
			 SEC_E_OUT_OF_SEQUENCE);
	ck_assert_int_eq(AcceptSecurityContext(&h.sc, &h.s, &id, 0, SECURITY_NATIVE_DREP, &o.newh,
					       &dd, &o.attrs, &o.ts),
			 SEC_E_OUT_OF_SEQUENCE);
	outs_untouched(&o);
	hs_finish(&h);
	finish();
}
END_TEST

/*
 * Input without a token: a first ASC leg given no input description, one
 * with no buffers, one with only a SECBUFFER_DATA, or an empty token, has
 * nothing to accept: SEC_E_INVALID_TOKEN, no context (not recorded for
 * Windows; the package's answer).  A later ISC leg so called fails the same
 * way, and, as for any bad token, rejects its context.
 */
START_TEST(test_win_leg_input_without_token_is_invalid_token)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	leg_ok(&h);
	for (int c = 0; c < 4; c++) {
		unsigned char data[16] = {0};
		SecBuffer ib = {c == 2 ? sizeof data : 0, c == 2 ? SECBUFFER_DATA : SECBUFFER_TOKEN,
				data};
		SecBufferDesc id = {SECBUFFER_VERSION, c == 1 ? 0 : 1, &ib};
		unsigned char outb[ROOM];
		memset(outb, PAT, sizeof outb);
		SecBuffer ob = {ROOM, SECBUFFER_TOKEN, outb};
		SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
		struct outs o;
		outs_reset(&o);
		SECURITY_STATUS st = leg_raw_in(&h, c == 0 ? NULL : &id, &od, 0, &o);
		ck_assert_msg(st == SEC_E_INVALID_TOKEN, "%s case %d: 0x%08x", h.pk->name, c,
			      (unsigned)st);
		outs_untouched(&o);
		ck_assert(bytes_are(outb, sizeof outb, PAT));
		ck_assert_uint_eq(ob.cbBuffer, ROOM);
		ck_assert_uint_eq(stats().contexts, 1);
	}
	leg_ok(&h);
	/* Leg 3 (ISC) with an empty token: the client context is rejected. */
	SecBuffer eb = {0, SECBUFFER_TOKEN, h.tok};
	SecBufferDesc ed = {SECBUFFER_VERSION, 1, &eb};
	unsigned char outb[ROOM];
	SecBuffer ob = {ROOM, SECBUFFER_TOKEN, outb};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	struct outs o;
	outs_reset(&o);
	ck_assert_int_eq(leg_raw_in(&h, &ed, &od, 0, &o), SEC_E_INVALID_TOKEN);
	outs_untouched(&o);
	ck_assert_int_eq(leg_raw(&h, &od, 0, &o), SEC_E_OUT_OF_SEQUENCE);
	ck_assert_int_eq(DeleteSecurityContext(&h.c), SEC_E_OK);
	ck_assert_int_eq(DeleteSecurityContext(&h.s), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.sc), SEC_E_OK);
	finish();
}
END_TEST

/* --- the async forms ------------------------------------------------------------ */

/* Run what is queued; the call's status, the async context reinitialised. */
static SECURITY_STATUS async_wait(SspiAsyncContext *a)
{
	(void)sspiasync_run(0);
	SECURITY_STATUS st = SspiGetAsyncCallStatus(a);
	ck_assert_int_ne(st, SEC_I_ASYNC_CALL_PENDING);
	ck_assert_int_eq(SspiReinitAsyncContext(a), STATUS_SUCCESS);
	return st;
}

/* Submit the next leg on @a with @out and @ctxp (NULL: the side's own). */
static SECURITY_STATUS leg_async(struct hs *h, SspiAsyncContext *a, SecBufferDesc *out,
				 struct outs *o, CtxtHandle *ctxp)
{
	int client = hs_client(h);
	int have = client ? h->have_c : h->have_s;
	CtxtHandle *ctx = ctxp != NULL ? ctxp : have ? (client ? &h->c : &h->s) : NULL;
	SecBuffer ib = {h->tok_len, SECBUFFER_TOKEN, h->tok};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	if (client)
		return SspiInitializeSecurityContextAsyncA(a, &h->cc, ctx, h->pk->target, 0, 0,
							   SECURITY_NATIVE_DREP,
							   h->leg == 0 ? NULL : &id, 0, &o->newh,
							   out, &o->attrs, &o->ts);
	return SspiAcceptSecurityContextAsync(a, &h->sc, ctx, &id, 0, SECURITY_NATIVE_DREP,
					      &o->newh, out, &o->attrs, &o->ts);
}

/*
 * The Sspi*Async forms queue these calls (SEC_E_OK) and complete with the
 * synchronous statuses: no token buffer and a short one
 * SEC_E_BUFFER_TOO_SMALL, a token at NULL SEC_E_INTERNAL_ERROR, a bad handle
 * with a buffer problem SEC_E_INVALID_HANDLE; each leaves the outputs and
 * the context as they were, and the leg then runs asynchronously.
 */
START_TEST(test_win_async_leg_buffer_statuses_complete_as_sync)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	SspiAsyncContext *a = SspiCreateAsyncContext();
	ck_assert_ptr_nonnull(a);
	while (h.leg < LEGS - 1) {
		for (int c = 0; c < 4; c++) {
			static unsigned char outb[ROOM], data[16]; /* live until completion */
			static SecBuffer ob;
			static SecBufferDesc od;
			static struct outs o;
			memset(outb, PAT, sizeof outb);
			memset(data, PAT, sizeof data);
			SECURITY_STATUS want = SEC_E_BUFFER_TOO_SMALL;
			CtxtHandle bad = h.have_c ? h.c : h.cc;
			bad.dwUpper ^= 2;
			CtxtHandle *ctxp = NULL;
			switch (c) {
			case 0: ob = (SecBuffer){sizeof data, SECBUFFER_DATA, data}; break;
			case 1: ob = (SecBuffer){1, SECBUFFER_TOKEN, outb}; break;
			case 2:
				ob = (SecBuffer){ROOM, SECBUFFER_TOKEN, NULL};
				want = SEC_E_INTERNAL_ERROR;
				break;
			default:
				ob = (SecBuffer){sizeof data, SECBUFFER_DATA, data};
				want = SEC_E_INVALID_HANDLE;
				ctxp = h.leg == 0 ? NULL : &bad;
				break;
			}
			od = (SecBufferDesc){SECBUFFER_VERSION, 1, &ob};
			SecBuffer ob_before = ob;
			outs_reset(&o);
			uint64_t contexts = stats().contexts;
			SECURITY_STATUS st;
			if (c == 3 && h.leg == 0) /* a first leg with a forged credential */
				st = SspiInitializeSecurityContextAsyncA(
					a, (CredHandle *)&bad, NULL, h.pk->target, 0, 0,
					SECURITY_NATIVE_DREP, NULL, 0, &o.newh, &od, &o.attrs, &o.ts);
			else
				st = leg_async(&h, a, &od, &o, ctxp);
			ck_assert_int_eq(st, SEC_E_OK);
			st = async_wait(a);
			ck_assert_msg(st == want, "%s leg %d case %d: 0x%08x", h.pk->name, h.leg + 1,
				      c, (unsigned)st);
			outs_untouched(&o);
			ck_assert(memcmp(&ob, &ob_before, sizeof ob) == 0);
			ck_assert(bytes_are(outb, sizeof outb, PAT));
			ck_assert(bytes_are(data, sizeof data, PAT));
			ck_assert_uint_eq(stats().contexts, contexts);
		}
		static unsigned char tok[ROOM];
		static SecBuffer tb;
		static SecBufferDesc td;
		static struct outs o;
		tb = (SecBuffer){ROOM, SECBUFFER_TOKEN, tok};
		td = (SecBufferDesc){SECBUFFER_VERSION, 1, &tb};
		outs_reset(&o);
		ck_assert_int_eq(leg_async(&h, a, &td, &o, NULL), SEC_E_OK);
		SECURITY_STATUS st = async_wait(a);
		leg_record(&h, st, &o, tok, tb.cbBuffer);
	}
	SspiFreeAsyncContext(a);
	hs_finish(&h);
	finish();
}
END_TEST

/* --- QueryContextAttributes, QueryCredentialsAttributes ---------------------------- */

/*
 * NULL pBuffer: SEC_E_INVALID_PARAMETER (not recorded).  An attribute the
 * package does not have - SECPKG_ATTR_STREAM_SIZES on NTLM (Wine ntlm.c
 * testAuth), an unknown number - SEC_E_UNSUPPORTED_FUNCTION, buffer
 * untouched.  A NULL or deleted handle: SEC_E_INVALID_HANDLE (Wine
 * schannel.c test_communication records the deleted one).
 */
START_TEST(test_win_query_context_attributes_statuses)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	unsigned char buf[256];
	ck_assert_int_eq(QueryContextAttributesA(&h.c, SECPKG_ATTR_SIZES, NULL),
			 SEC_E_INVALID_PARAMETER);
	static const unsigned long unknown[] = {SECPKG_ATTR_STREAM_SIZES, 0x7777, 0x59};
	for (size_t k = 0; k < sizeof unknown / sizeof unknown[0]; k++) {
		memset(buf, PAT, sizeof buf);
		ck_assert_int_eq(QueryContextAttributesA(&h.c, unknown[k], buf),
				 SEC_E_UNSUPPORTED_FUNCTION);
		ck_assert(bytes_are(buf, sizeof buf, PAT));
	}
	memset(buf, PAT, sizeof buf);
	ck_assert_int_eq(QueryContextAttributesA(NULL, SECPKG_ATTR_SIZES, buf), SEC_E_INVALID_HANDLE);
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(&h.c, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	ck_assert_uint_eq(sz.cbMaxSignature, SIG);
	CtxtHandle gone = h.c;
	ck_assert_int_eq(DeleteSecurityContext(&gone), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&gone, SECPKG_ATTR_SIZES, buf), SEC_E_INVALID_HANDLE);
	ck_assert(bytes_are(buf, sizeof buf, PAT));
	ck_assert_int_eq(DeleteSecurityContext(&h.s), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.sc), SEC_E_OK);
	finish();
}
END_TEST

/* NULL pBuffer: SEC_E_INVALID_PARAMETER (Schannel answers
 * SEC_E_INTERNAL_ERROR, Wine schannel.c test_cread_attrs; NTLM not
 * recorded); an unknown attribute SEC_E_UNSUPPORTED_FUNCTION; a freed
 * handle SEC_E_INVALID_HANDLE. */
START_TEST(test_win_query_credentials_attributes_statuses)
{
	start();
	struct hs h;
	hs_init(&h, _i);
	unsigned char buf[64];
	memset(buf, PAT, sizeof buf);
	ck_assert_int_eq(QueryCredentialsAttributesA(&h.cc, SECPKG_CRED_ATTR_NAMES, NULL),
			 SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(QueryCredentialsAttributesA(&h.cc, 0x7777, buf), SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert(bytes_are(buf, sizeof buf, PAT));
	ck_assert_int_eq(QueryCredentialsAttributesA(NULL, SECPKG_CRED_ATTR_NAMES, buf),
			 SEC_E_INVALID_HANDLE);
	CredHandle gone;
	TimeStamp ts;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, h.pk->name, SECPKG_CRED_OUTBOUND, NULL,
						   NULL, NULL, NULL, &gone, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&gone), SEC_E_OK);
	ck_assert_int_eq(QueryCredentialsAttributesA(&gone, SECPKG_CRED_ATTR_NAMES, buf),
			 SEC_E_INVALID_HANDLE);
	ck_assert(bytes_are(buf, sizeof buf, PAT));
	hs_finish(&h);
	finish();
}
END_TEST

/* --- MakeSignature, VerifySignature, EncryptMessage, DecryptMessage ----------------- */

/* A message of two DATA buffers and no token: SEC_E_INVALID_TOKEN for
 * MakeSignature (Wine ntlm.c testSignSeal; the MakeSignature page) and
 * VerifySignature (its page), nothing written. */
START_TEST(test_win_sign_and_verify_without_token_are_invalid_token)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	unsigned char d0[SIG], d1[13];
	unsigned long qop = PAT_ATTR;
	memset(d0, PAT, sizeof d0);
	memset(d1, PAT, sizeof d1);
	SecBuffer mb[2] = {{sizeof d0, SECBUFFER_DATA, d0}, {sizeof d1, SECBUFFER_DATA, d1}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(MakeSignature(&h.c, 0, &md, 0), SEC_E_INVALID_TOKEN);
	ck_assert_int_eq(VerifySignature(&h.s, &md, 0, &qop), SEC_E_INVALID_TOKEN);
	ck_assert(bytes_are(d0, sizeof d0, PAT));
	ck_assert(bytes_are(d1, sizeof d1, PAT));
	ck_assert_uint_eq(mb[0].cbBuffer, sizeof d0);
	ck_assert_uint_eq(qop, PAT_ATTR);
	hs_finish(&h);
	finish();
}
END_TEST

/* A token buffer too short for the signature: SEC_E_BUFFER_TOO_SMALL (the
 * EncryptMessage (NTLM) page; not recorded for MakeSignature), nothing
 * written and no sequence number spent: the retry with room verifies. */
START_TEST(test_win_sign_and_seal_short_token_is_buffer_too_small_then_retry)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	for (int seal = 0; seal < 2; seal++) {
		unsigned char data[13], sig[SIG];
		unsigned long qop;
		memset(data, 'm', sizeof data);
		memset(sig, PAT, sizeof sig);
		SecBuffer mb[2] = {{SIG - 1, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
		SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
		SECURITY_STATUS st = seal ? EncryptMessage(&h.c, 0, &md, 0)
					  : MakeSignature(&h.c, 0, &md, 0);
		ck_assert_int_eq(st, SEC_E_BUFFER_TOO_SMALL);
		ck_assert(bytes_are(sig, sizeof sig, PAT));
		ck_assert(bytes_are(data, sizeof data, 'm'));
		ck_assert_uint_eq(mb[0].cbBuffer, SIG - 1);
		mb[0].cbBuffer = SIG;
		st = seal ? EncryptMessage(&h.c, 0, &md, 0) : MakeSignature(&h.c, 0, &md, 0);
		ck_assert_int_eq(st, SEC_E_OK);
		st = seal ? DecryptMessage(&h.s, &md, 0, &qop) : VerifySignature(&h.s, &md, 0, &qop);
		ck_assert_int_eq(st, SEC_E_OK);
		ck_assert(bytes_are(data, sizeof data, 'm'));
	}
	hs_finish(&h);
	finish();
}
END_TEST

/* No SECBUFFER_DATA buffer: EncryptMessage and DecryptMessage answer
 * SEC_E_INVALID_TOKEN (the EncryptMessage (NTLM) and DecryptMessage
 * (General) pages; Wine schannel.c records it for Schannel), nothing
 * written, no sequence number spent. */
START_TEST(test_win_encrypt_and_decrypt_without_data_are_invalid_token)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	unsigned char sig[SIG], pad[8];
	unsigned long qop = PAT_ATTR;
	memset(sig, PAT, sizeof sig);
	memset(pad, PAT, sizeof pad);
	SecBuffer mb[2] = {{SIG, SECBUFFER_TOKEN, sig}, {sizeof pad, SECBUFFER_PADDING, pad}};
	for (unsigned long n = 1; n <= 2; n++) {
		SecBufferDesc md = {SECBUFFER_VERSION, n, mb};
		ck_assert_int_eq(EncryptMessage(&h.c, 0, &md, 0), SEC_E_INVALID_TOKEN);
		ck_assert_int_eq(DecryptMessage(&h.s, &md, 0, &qop), SEC_E_INVALID_TOKEN);
		ck_assert(bytes_are(sig, sizeof sig, PAT));
		ck_assert(bytes_are(pad, sizeof pad, PAT));
		ck_assert_uint_eq(mb[0].cbBuffer, SIG);
		ck_assert_uint_eq(qop, PAT_ATTR);
	}
	hs_finish(&h);
	finish();
}
END_TEST

/* A signature to check shorter than one: SEC_E_INVALID_TOKEN (the
 * VerifySignature page), *pfQOP untouched. */
START_TEST(test_win_verify_and_decrypt_short_token_are_invalid_token)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	for (int seal = 0; seal < 2; seal++) {
		unsigned char data[13], sig[SIG];
		unsigned long qop = PAT_ATTR;
		memset(data, 'v', sizeof data);
		SecBuffer mb[2] = {{SIG, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
		SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
		SECURITY_STATUS st = seal ? EncryptMessage(&h.c, 0, &md, 1)
					  : MakeSignature(&h.c, 0, &md, 1);
		ck_assert_int_eq(st, SEC_E_OK);
		unsigned char sent[sizeof data];
		memcpy(sent, data, sizeof data);
		mb[0].cbBuffer = SIG - 1;
		st = seal ? DecryptMessage(&h.s, &md, 1, &qop) : VerifySignature(&h.s, &md, 1, &qop);
		ck_assert_int_eq(st, SEC_E_INVALID_TOKEN);
		ck_assert_uint_eq(qop, PAT_ATTR);
		ck_assert(memcmp(data, sent, sizeof data) == 0);
		mb[0].cbBuffer = SIG;
		st = seal ? DecryptMessage(&h.s, &md, 1, &qop) : VerifySignature(&h.s, &md, 1, &qop);
		ck_assert_int_eq(st, SEC_E_OK);
	}
	hs_finish(&h);
	finish();
}
END_TEST

/* A changed message: SEC_E_MESSAGE_ALTERED, *pfQOP untouched (Wine ntlm.c
 * testSignSeal). */
START_TEST(test_win_verify_altered_message_is_message_altered)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	unsigned char data[13], sig[SIG];
	unsigned long qop = PAT_ATTR;
	memset(data, 'a', sizeof data);
	SecBuffer mb[2] = {{SIG, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(MakeSignature(&h.c, 0, &md, 2), SEC_E_OK);
	data[3] ^= 1;
	ck_assert_int_eq(VerifySignature(&h.s, &md, 2, &qop), SEC_E_MESSAGE_ALTERED);
	ck_assert_uint_eq(qop, PAT_ATTR);
	data[3] ^= 1;
	ck_assert_int_eq(VerifySignature(&h.s, &md, 2, &qop), SEC_E_OK);
	hs_finish(&h);
	finish();
}
END_TEST

/*
 * Structural errors of the message calls stay SEC_E_INVALID_PARAMETER (not
 * recorded), before the handle: NULL pMessage, bad ulVersion, NULL pBuffers,
 * VerifySignature's NULL pfQOP.  DecryptMessage takes a NULL pfQOP (Wine
 * schannel.c passes one).
 */
START_TEST(test_win_message_malformed_arguments_are_invalid_parameter)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	CtxtHandle bad = h.c;
	bad.dwLower ^= 1;
	unsigned char data[13], sig[SIG];
	unsigned long qop = PAT_ATTR;
	memset(data, PAT, sizeof data);
	memset(sig, PAT, sizeof sig);
	SecBuffer mb[2] = {{SIG, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
	SecBufferDesc v1 = {1, 2, mb}, np = {SECBUFFER_VERSION, 2, NULL};
	SecBufferDesc *descs[3] = {NULL, &v1, &np};
	for (int k = 0; k < 3; k++) {
		for (int b = 0; b < 2; b++) {
			CtxtHandle *x = b ? &bad : &h.c;
			ck_assert_int_eq(MakeSignature(x, 0, descs[k], 0), SEC_E_INVALID_PARAMETER);
			ck_assert_int_eq(VerifySignature(x, descs[k], 0, &qop), SEC_E_INVALID_PARAMETER);
			ck_assert_int_eq(EncryptMessage(x, 0, descs[k], 0), SEC_E_INVALID_PARAMETER);
			ck_assert_int_eq(DecryptMessage(x, descs[k], 0, &qop), SEC_E_INVALID_PARAMETER);
		}
	}
	ck_assert(bytes_are(data, sizeof data, PAT));
	ck_assert(bytes_are(sig, sizeof sig, PAT));
	ck_assert_uint_eq(qop, PAT_ATTR);
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	ck_assert_int_eq(MakeSignature(&h.c, 0, &md, 3), SEC_E_OK);
	ck_assert_int_eq(VerifySignature(&h.s, &md, 3, NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(VerifySignature(&h.s, &md, 3, &qop), SEC_E_OK);
	ck_assert_int_eq(EncryptMessage(&h.c, 0, &md, 4), SEC_E_OK);
	ck_assert_int_eq(DecryptMessage(&h.s, &md, 4, NULL), SEC_E_OK);
	ck_assert(bytes_are(data, sizeof data, PAT));
	hs_finish(&h);
	finish();
}
END_TEST

/*
 * A NULL or deleted context handle: SEC_E_INVALID_HANDLE from every call on
 * it (the pages of QueryContextAttributes, the message calls and
 * CompleteAuthToken list it).  DeleteSecurityContext on a deleted handle:
 * Windows answers SEC_E_OK (its page), sspiasync SEC_E_INVALID_HANDLE
 * (Porting notes).
 */
START_TEST(test_win_calls_on_deleted_context_are_invalid_handle)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	CtxtHandle gone = h.c;
	ck_assert_int_eq(DeleteSecurityContext(&gone), SEC_E_OK);
	unsigned char data[13], sig[SIG], buf[64];
	unsigned long qop = PAT_ATTR;
	memset(data, PAT, sizeof data);
	memset(sig, PAT, sizeof sig);
	memset(buf, PAT, sizeof buf);
	SecBuffer mb[2] = {{SIG, SECBUFFER_TOKEN, sig}, {sizeof data, SECBUFFER_DATA, data}};
	SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
	for (int n = 0; n < 2; n++) {
		CtxtHandle *x = n ? NULL : &gone;
		ck_assert_int_eq(QueryContextAttributesA(x, SECPKG_ATTR_SIZES, buf),
				 SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(MakeSignature(x, 0, &md, 0), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(VerifySignature(x, &md, 0, &qop), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(EncryptMessage(x, 0, &md, 0), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(DecryptMessage(x, &md, 0, &qop), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(CompleteAuthToken(x, &md), SEC_E_INVALID_HANDLE);
		ck_assert_int_eq(DeleteSecurityContext(x), SEC_E_INVALID_HANDLE);
	}
	ck_assert(bytes_are(data, sizeof data, PAT));
	ck_assert(bytes_are(sig, sizeof sig, PAT));
	ck_assert(bytes_are(buf, sizeof buf, PAT));
	ck_assert_uint_eq(qop, PAT_ATTR);
	ck_assert_int_eq(DeleteSecurityContext(&h.s), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h.sc), SEC_E_OK);
	finish();
}
END_TEST

/* CompleteAuthToken: no package here asks for it (only Digest does, its
 * page): SEC_E_UNSUPPORTED_FUNCTION on a valid context; a NULL or malformed
 * description SEC_E_INVALID_PARAMETER. */
START_TEST(test_win_complete_auth_token_statuses)
{
	start();
	struct hs h;
	hs_complete(&h, _i);
	unsigned char t[8];
	SecBuffer tb = {sizeof t, SECBUFFER_TOKEN, t};
	SecBufferDesc td = {SECBUFFER_VERSION, 1, &tb}, tv = {9, 1, &tb};
	ck_assert_int_eq(CompleteAuthToken(&h.c, &td), SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert_int_eq(CompleteAuthToken(&h.c, NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(CompleteAuthToken(&h.c, &tv), SEC_E_INVALID_PARAMETER);
	hs_finish(&h);
	finish();
}
END_TEST

/* --- FreeContextBuffer, packages, credentials ---------------------------------------- */

/* NULL: SEC_E_OK; a pointer not ours, or one already freed:
 * SEC_E_INVALID_HANDLE (Windows: undefined; Porting notes). */
START_TEST(test_win_free_context_buffer_statuses)
{
	start();
	ck_assert_int_eq(FreeContextBuffer(NULL), SEC_E_OK);
	unsigned char mine[8];
	ck_assert_int_eq(FreeContextBuffer(mine), SEC_E_INVALID_HANDLE);
	PSecPkgInfoA info;
	ck_assert_int_eq(QuerySecurityPackageInfoA(pkg_name, &info), SEC_E_OK);
	ck_assert_int_eq(FreeContextBuffer(info), SEC_E_OK);
	ck_assert_int_eq(FreeContextBuffer(info), SEC_E_INVALID_HANDLE);
	finish();
}
END_TEST

/* EnumerateSecurityPackages with a NULL argument and QuerySecurityPackageInfo
 * with a NULL one: SEC_E_INVALID_PARAMETER (not recorded); an unknown
 * package: SEC_E_SECPKG_NOT_FOUND with *ppPackageInfo untouched (Wine main.c
 * testQuerySecurityPackageInfo). */
START_TEST(test_win_package_query_statuses)
{
	start();
	unsigned long n = PAT_ATTR;
	PSecPkgInfoA info = (PSecPkgInfoA)(uintptr_t)PAT_WORD;
	ck_assert_int_eq(EnumerateSecurityPackagesA(NULL, &info), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(EnumerateSecurityPackagesA(&n, NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_uint_eq(n, PAT_ATTR);
	ck_assert_ptr_eq(info, (PSecPkgInfoA)(uintptr_t)PAT_WORD);
	char winetest[] = "Winetest";
	ck_assert_int_eq(QuerySecurityPackageInfoA(winetest, &info), SEC_E_SECPKG_NOT_FOUND);
	ck_assert_ptr_eq(info, (PSecPkgInfoA)(uintptr_t)PAT_WORD);
	ck_assert_int_eq(QuerySecurityPackageInfoA(NULL, &info), SEC_E_INVALID_PARAMETER);
	ck_assert_int_eq(QuerySecurityPackageInfoA(pkg_name, NULL), SEC_E_INVALID_PARAMETER);
	ck_assert_ptr_eq(info, (PSecPkgInfoA)(uintptr_t)PAT_WORD);
	ck_assert_int_eq(EnumerateSecurityPackagesA(&n, &info), SEC_E_OK);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(FreeContextBuffer(info), SEC_E_OK);
	finish();
}
END_TEST

/* FreeCredentialsHandle: NULL or already freed SEC_E_INVALID_HANDLE (its
 * page lists SEC_E_INVALID_HANDLE). */
START_TEST(test_win_free_credentials_statuses)
{
	start();
	CredHandle c;
	TimeStamp ts;
	ck_assert_int_eq(FreeCredentialsHandle(NULL), SEC_E_INVALID_HANDLE);
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &c, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&c), SEC_E_INVALID_HANDLE);
	finish();
}
END_TEST

/* The tests that take a package, added to a TCase for package @i. */
static void add_package_tests(TCase *tc, int i)
{
	tcase_add_loop_test(tc, test_win_leg_without_output_token_buffer_is_buffer_too_small, i, i + 1);
	tcase_add_loop_test(tc, test_win_last_leg_without_output_token_buffer_succeeds, i, i + 1);
	tcase_add_loop_test(tc, test_win_leg_token_with_null_pvbuffer_is_internal_error, i, i + 1);
	tcase_add_loop_test(tc, test_win_leg_token_with_null_pvbuffer_and_allocate_is_allocated, i,
			    i + 1);
	tcase_add_loop_test(tc, test_win_leg_token_of_zero_bytes_is_buffer_too_small, i, i + 1);
	tcase_add_loop_test(tc, test_win_leg_token_too_small_then_grown_retry_succeeds, i, i + 1);
	tcase_add_loop_test(tc, test_win_leg_malformed_arguments_are_invalid_parameter, i, i + 1);
	tcase_add_loop_test(tc, test_win_leg_checks_structure_then_handle_then_state_then_buffers, i,
			    i + 1);
	tcase_add_loop_test(tc, test_win_leg_input_without_token_is_invalid_token, i, i + 1);
	tcase_add_loop_test(tc, test_win_async_leg_buffer_statuses_complete_as_sync, i, i + 1);
	tcase_add_loop_test(tc, test_win_query_context_attributes_statuses, i, i + 1);
	tcase_add_loop_test(tc, test_win_query_credentials_attributes_statuses, i, i + 1);
	tcase_add_loop_test(tc, test_win_sign_and_verify_without_token_are_invalid_token, i, i + 1);
	tcase_add_loop_test(tc, test_win_sign_and_seal_short_token_is_buffer_too_small_then_retry, i,
			    i + 1);
	tcase_add_loop_test(tc, test_win_encrypt_and_decrypt_without_data_are_invalid_token, i, i + 1);
	tcase_add_loop_test(tc, test_win_verify_and_decrypt_short_token_are_invalid_token, i, i + 1);
	tcase_add_loop_test(tc, test_win_verify_altered_message_is_message_altered, i, i + 1);
	tcase_add_loop_test(tc, test_win_message_malformed_arguments_are_invalid_parameter, i, i + 1);
	tcase_add_loop_test(tc, test_win_calls_on_deleted_context_are_invalid_handle, i, i + 1);
	tcase_add_loop_test(tc, test_win_complete_auth_token_statuses, i, i + 1);
}

static Suite *win_status_suite(void)
{
	Suite *s = suite_create("win_status");
	TCase *tc = tcase(s, "testpkg", 60);
	add_package_tests(tc, 0);
	tcase_add_test(tc, test_win_free_context_buffer_statuses);
	tcase_add_test(tc, test_win_package_query_statuses);
	tcase_add_test(tc, test_win_free_credentials_statuses);
	tc = tcase_create("ntlm");
	tcase_add_checked_fixture(tc, ntlm_setup, ntlm_teardown);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	add_package_tests(tc, 1);
	return s;
}

int main(void)
{
	return tl_run_suite(win_status_suite());
}
