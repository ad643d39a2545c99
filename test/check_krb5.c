/*
 * test/check_krb5.c - the "Kerberos" and "Negotiate" packages through the
 * synchronous SSPI API, against a throw-away realm (test/krb5_realm.h) that
 * main() starts before the tests and stops after them: handshakes with a
 * password, a kinit-made ccache and the keytab; attributes; messages both
 * ways with tampering and replay; every failure README's status table
 * promises that a realm can produce; Negotiate choosing Kerberos, falling
 * back to NTLM, and taking bare NTLM and Kerberos tokens.
 *
 * Without the KDC tools, or in a build without Kerberos, every test is
 * skipped (the suite passes and says so).
 */
#define _DEFAULT_SOURCE /* setenv, mkstemp */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "krb5_realm.h"
#include "krb5_testlib.h"
#include "sspi_testlib.h"
#include "testlib.h"

#ifdef SA_HAVE_KRB5
#include "packages/krb5/krb5_pkg.h"
#include <krb5/krb5.h>
#endif

static struct tl_realm realm;
static char user_file[64];

static SECURITY_STATUS acquire(const char *pkg, unsigned long use, const char *principal,
			       const char *user, const char *domain, const char *password,
			       CredHandle *out)
{
	SEC_WINNT_AUTH_IDENTITY_A id = tl_identity(user, domain, password);
	TimeStamp ts;
	return AcquireCredentialsHandleA((SEC_CHAR *)principal, (SEC_CHAR *)pkg, use, NULL,
					 user ? &id : NULL, NULL, NULL, out, &ts);
}

struct pair {
	CredHandle cc, sc;
	CtxtHandle c, s;
	int have_c, have_s, legs;
	SECURITY_STATUS last_c, last_s;
	unsigned long attr_c, attr_s;
	unsigned char a[TOK], b[TOK];
};

static SECURITY_STATUS client_leg(struct pair *p, const char *target, unsigned char *in,
				  unsigned long in_len, unsigned long *out_len)
{
	p->last_c = tl_krb5_leg(&p->cc, &p->c, &p->have_c, &p->attr_c, target, in, in_len, p->a,
				out_len);
	p->legs++;
	return p->last_c;
}

static SECURITY_STATUS server_leg(struct pair *p, unsigned long in_len, unsigned long *out_len)
{
	p->last_s = tl_krb5_leg(&p->sc, &p->s, &p->have_s, &p->attr_s, NULL, p->a, in_len, p->b,
				out_len);
	p->legs++;
	return p->last_s;
}

/* Legs until both sides are done or one fails (at most 8); SEC_E_OK when
 * both completed, else the first failure. */
static SECURITY_STATUS handshake(struct pair *p, const char *target)
{
	unsigned long al = 0, bl = 0;
	SECURITY_STATUS cs = client_leg(p, target, NULL, 0, &al), ss = SEC_I_CONTINUE_NEEDED;
	while (p->legs < 8) {
		if (cs != SEC_E_OK && cs != SEC_I_CONTINUE_NEEDED)
			return cs;
		if (al == 0)
			break; /* the client has nothing more to send */
		ss = server_leg(p, al, &bl);
		if (ss != SEC_E_OK && ss != SEC_I_CONTINUE_NEEDED)
			return ss;
		if (cs == SEC_E_OK)
			break;
		memcpy(p->a + TOK / 2, p->b, bl); /* the server's token as the client's input */
		cs = client_leg(p, target, p->a + TOK / 2, bl, &al);
	}
	if (cs != SEC_E_OK)
		return cs;
	return ss;
}

static void pair_free(struct pair *p)
{
	if (p->have_c)
		ck_assert_int_eq(DeleteSecurityContext(&p->c), SEC_E_OK);
	if (p->have_s)
		ck_assert_int_eq(DeleteSecurityContext(&p->s), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&p->cc), SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&p->sc), SEC_E_OK);
	ck_assert_uint_eq(stats().contexts, 0);
}

static struct pair *pair_new(const char *pkg, const char *pw)
{
	struct pair *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(acquire(pkg, SECPKG_CRED_OUTBOUND, NULL, TL_REALM_ALICE, TL_REALM_NAME, pw,
				 &p->cc),
			 SEC_E_OK);
	ck_assert_int_eq(acquire(pkg, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &p->sc), SEC_E_OK);
	return p;
}

/* Sign, then seal, one message from a to b; tampered and replayed copies refused. */
static void messages_one_way(CtxtHandle *a, CtxtHandle *b, const char *text)
{
	unsigned char sig[64], hdr[64], data[128], copy[128];
	size_t n = strlen(text);
	unsigned long q = 7;
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(a, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	memcpy(data, text, n);
	SecBuffer sb[2] = {{(unsigned long)n, SECBUFFER_DATA, data}, {sizeof sig, SECBUFFER_TOKEN, sig}};
	SecBufferDesc sd = {SECBUFFER_VERSION, 2, sb};
	ck_assert_int_eq(MakeSignature(a, 0, &sd, 0), SEC_E_OK);
	ck_assert_uint_le(sb[1].cbBuffer, sz.cbMaxSignature);
	ck_assert_int_eq(VerifySignature(b, &sd, 0, &q), SEC_E_OK);
	ck_assert_uint_eq(q, 0);
	ck_assert_int_eq(VerifySignature(b, &sd, 0, &q), SEC_E_OUT_OF_SEQUENCE); /* a replay */

	SecBuffer eb[3] = {{sizeof hdr, SECBUFFER_TOKEN, hdr},
			   {(unsigned long)n, SECBUFFER_DATA, data},
			   {0, SECBUFFER_PADDING, NULL}};
	SecBufferDesc ed = {SECBUFFER_VERSION, 3, eb};
	ck_assert_int_eq(EncryptMessage(a, 0, &ed, 0), SEC_E_OK);
	ck_assert_uint_le(eb[0].cbBuffer, sz.cbSecurityTrailer);
	ck_assert_int_ne(memcmp(data, text, n), 0); /* sealed */
	memcpy(copy, data, n);
	ck_assert_int_eq(DecryptMessage(b, &ed, 0, &q), SEC_E_OK);
	ck_assert_uint_eq(eb[1].cbBuffer, n);
	ck_assert_int_eq(memcmp(data, text, n), 0);
	ck_assert_uint_eq(q, 0);

	/* Last, as it leaves a gap in b's sequence: a changed byte. */
	sb[1].cbBuffer = sizeof sig;
	ck_assert_int_eq(MakeSignature(a, 0, &sd, 0), SEC_E_OK);
	memcpy(copy, data, n);
	copy[0] ^= 1;
	sb[0].pvBuffer = copy;
	ck_assert_int_eq(VerifySignature(b, &sd, 0, &q), SEC_E_MESSAGE_ALTERED);
}

/* The same message sealed as one SECBUFFER_STREAM, as a reader of a socket has it. */
static void stream_one_way(CtxtHandle *a, CtxtHandle *b, const char *text)
{
	unsigned char buf[256];
	size_t n = strlen(text);
	unsigned long q = 7;
	memcpy(buf + 60, text, n);
	SecBuffer eb[2] = {{60, SECBUFFER_TOKEN, buf}, {(unsigned long)n, SECBUFFER_DATA, buf + 60}};
	SecBufferDesc ed = {SECBUFFER_VERSION, 2, eb};
	ck_assert_int_eq(EncryptMessage(a, SECQOP_WRAP_NO_ENCRYPT, &ed, 0), SEC_E_OK);
	unsigned long hdr = eb[0].cbBuffer; /* 28 signed only (60 sealed) */
	ck_assert_uint_le(hdr, 60);
	ck_assert_int_eq(memcmp(buf + 60, text, n), 0); /* signed, not sealed */
	memmove(buf + hdr, buf + 60, n);
	SecBuffer db[2] = {{(unsigned long)(hdr + n), SECBUFFER_STREAM, buf}, {0, SECBUFFER_DATA, NULL}};
	SecBufferDesc dd = {SECBUFFER_VERSION, 2, db};
	ck_assert_int_eq(DecryptMessage(b, &dd, 0, &q), SEC_E_OK);
	ck_assert_uint_eq(q, SECQOP_WRAP_NO_ENCRYPT);
	ck_assert_uint_eq(db[1].cbBuffer, n);
	ck_assert_ptr_nonnull(db[1].pvBuffer);
	ck_assert_int_eq(memcmp(db[1].pvBuffer, text, n), 0);
}

#define NEED_REALM()                                                                           \
	TL_NEED_REALM(&realm, "check_krb5: skipped (no KDC tools or no Kerberos in this build)")

/* --- Kerberos ------------------------------------------------------------- */

START_TEST(test_krb5_password_handshake_and_attributes)
{
	NEED_REALM();
	struct pair *p = pair_new("Kerberos", TL_REALM_ALICE_PW);
	ck_assert_int_eq(handshake(p, TARGET), SEC_E_OK);
	ck_assert_int_eq(p->legs, 3); /* AP-REQ, AP-REP, the client's check of it */
	ck_assert_uint_eq(p->attr_c & (ISC_RET_MUTUAL_AUTH | ISC_RET_INTEGRITY | ISC_RET_CONFIDENTIALITY),
			  ISC_RET_MUTUAL_AUTH | ISC_RET_INTEGRITY | ISC_RET_CONFIDENTIALITY);
	ck_assert_uint_eq(p->attr_s & (ASC_RET_MUTUAL_AUTH | ASC_RET_INTEGRITY),
			  ASC_RET_MUTUAL_AUTH | ASC_RET_INTEGRITY);
	assert_name(&p->s, SECPKG_ATTR_NAMES, ALICE);
	assert_name(&p->c, SECPKG_ATTR_NAMES, ALICE);
	assert_package(&p->s, "Kerberos");

	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(&p->c, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	ck_assert_uint_eq(sz.cbMaxToken, 48000);
	ck_assert_uint_eq(sz.cbMaxSignature, 28); /* AES: interop-facts.md item 8 */
	ck_assert_uint_eq(sz.cbBlockSize, 1);
	ck_assert_uint_eq(sz.cbSecurityTrailer, 60);

	SecPkgContext_SessionKey kc, ks;
	ck_assert_int_eq(QueryContextAttributesA(&p->c, SECPKG_ATTR_SESSION_KEY, &kc), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&p->s, SECPKG_ATTR_SESSION_KEY, &ks), SEC_E_OK);
	ck_assert_uint_ge(kc.SessionKeyLength, 16);
	ck_assert_uint_eq(kc.SessionKeyLength, ks.SessionKeyLength);
	ck_assert_int_eq(memcmp(kc.SessionKey, ks.SessionKey, kc.SessionKeyLength), 0);
	FreeContextBuffer(kc.SessionKey);
	FreeContextBuffer(ks.SessionKey);

	SecPkgContext_NativeNamesA nn;
	ck_assert_int_eq(QueryContextAttributesA(&p->s, SECPKG_ATTR_NATIVE_NAMES, &nn), SEC_E_OK);
	ck_assert_str_eq(nn.sClientName, ALICE);
	ck_assert_str_eq(nn.sServerName, "HTTP/host.test@" TL_REALM_NAME);
	FreeContextBuffer(nn.sClientName);
	FreeContextBuffer(nn.sServerName);

	SecPkgContext_Lifespan ls;
	ck_assert_int_eq(QueryContextAttributesA(&p->c, SECPKG_ATTR_LIFESPAN, &ls), SEC_E_OK);
	ck_assert_int_gt(ls.tsExpiry.QuadPart, ls.tsStart.QuadPart);

	stream_one_way(&p->c, &p->s, "a stream to the server");
	messages_one_way(&p->c, &p->s, "from the client");
	messages_one_way(&p->s, &p->c, "from the server");
	pair_free(p);
	free(p);
}
END_TEST

START_TEST(test_krb5_no_file_written_for_a_password)
{
	NEED_REALM();
	struct pair *p = pair_new("Kerberos", TL_REALM_ALICE_PW);
	ck_assert_int_eq(handshake(p, TARGET), SEC_E_OK);
	ck_assert_int_ne(access(realm.ccache, F_OK), 0); /* the TGT stayed in memory */
	pair_free(p);
	free(p);
}
END_TEST

START_TEST(test_krb5_kinit_ccache_handshake)
{
	NEED_REALM();
	char cc[TL_REALM_PATH_MAX + 8];
	snprintf(cc, sizeof cc, "%s.kinit", realm.ccache);
	ck_assert_int_eq(tl_realm_kinit(&realm, TL_REALM_ALICE, TL_REALM_ALICE_PW, cc), 0);
	char env[TL_REALM_PATH_MAX + 16];
	snprintf(env, sizeof env, "FILE:%s", cc);
	ck_assert_int_eq(setenv("KRB5CCNAME", env, 1), 0);
	struct pair p0, *p = &p0;
	memset(p, 0, sizeof *p);
	ck_assert_int_eq(acquire("Kerberos", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, &p->cc),
			 SEC_E_OK);
	ck_assert_int_eq(acquire("Kerberos", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &p->sc),
			 SEC_E_OK);
	SecPkgCredentials_NamesA cn;
	ck_assert_int_eq(QueryCredentialsAttributesA(&p->cc, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
	ck_assert_str_eq(cn.sUserName, ALICE);
	FreeContextBuffer(cn.sUserName);
	ck_assert_int_eq(handshake(p, TARGET), SEC_E_OK);
	assert_name(&p->s, SECPKG_ATTR_NAMES, ALICE);
	pair_free(p);
	unlink(cc);
}
END_TEST

START_TEST(test_krb5_no_ticket_no_password_is_no_credentials)
{
	NEED_REALM();
	CredHandle h;
	ck_assert_int_eq(setenv("KRB5CCNAME", "FILE:/nonexistent/sa-no-ccache", 1), 0);
	ck_assert_int_eq(acquire("Kerberos", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, &h),
			 SEC_E_NO_CREDENTIALS);
	ck_assert_uint_eq(stats().credentials, 0);
}
END_TEST

START_TEST(test_krb5_no_keytab_is_no_credentials)
{
	NEED_REALM();
	CredHandle h;
	ck_assert_int_eq(setenv("KRB5_KTNAME", "FILE:/nonexistent/sa-no-keytab", 1), 0);
	ck_assert_int_eq(acquire("Kerberos", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &h),
			 SEC_E_NO_CREDENTIALS);
	/* ... and a principal the keytab does not hold */
	ck_assert_int_eq(setenv("KRB5_KTNAME", realm.keytab, 1), 0);
	ck_assert_int_eq(acquire("Kerberos", SECPKG_CRED_INBOUND, "HTTP/absent.test", NULL, NULL,
				 NULL, &h),
			 SEC_E_NO_CREDENTIALS);
	ck_assert_int_eq(acquire("Kerberos", SECPKG_CRED_INBOUND, "HTTP/host.test", NULL, NULL, NULL,
				 &h),
			 SEC_E_OK);
	ck_assert_int_eq(FreeCredentialsHandle(&h), SEC_E_OK);
}
END_TEST

/* The client's first leg fails with @want; the context is not made. */
static void first_leg_fails(const char *user, const char *pw, const char *target,
			    SECURITY_STATUS want)
{
	struct pair p0, *p = &p0;
	unsigned long al;
	memset(p, 0, sizeof *p);
	ck_assert_int_eq(acquire("Kerberos", SECPKG_CRED_OUTBOUND, NULL, user, TL_REALM_NAME, pw,
				 &p->cc),
			 SEC_E_OK); /* a password is checked by the first leg, on a worker */
	ck_assert_int_eq(acquire("Kerberos", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &p->sc),
			 SEC_E_OK);
	ck_assert_int_eq(client_leg(p, target, NULL, 0, &al), want);
	ck_assert_int_eq(p->have_c, 0);
	pair_free(p);
}

START_TEST(test_krb5_wrong_password_is_logon_denied)
{
	NEED_REALM();
	first_leg_fails(TL_REALM_ALICE, "not-alice-pw", TARGET, SEC_E_LOGON_DENIED);
}
END_TEST

START_TEST(test_krb5_unknown_user_is_logon_denied)
{
	NEED_REALM();
	first_leg_fails("mallory", "pw", TARGET, SEC_E_LOGON_DENIED);
}
END_TEST

START_TEST(test_krb5_unknown_service_is_target_unknown)
{
	NEED_REALM();
	first_leg_fails(TL_REALM_ALICE, TL_REALM_ALICE_PW, "HTTP/absent.host.test",
			SEC_E_TARGET_UNKNOWN);
}
END_TEST

START_TEST(test_krb5_unreachable_kdc_is_no_authority)
{
	NEED_REALM();
	char conf[TL_REALM_PATH_MAX + 16];
	snprintf(conf, sizeof conf, "%s/unreachable.conf", realm.dir);
	ck_assert_int_ge(tl_realm_write_conf_unreachable(&realm, conf), 0);
	ck_assert_int_eq(setenv("KRB5_CONFIG", conf, 1), 0);
	first_leg_fails(TL_REALM_ALICE, TL_REALM_ALICE_PW, TARGET, SEC_E_NO_AUTHENTICATING_AUTHORITY);
	ck_assert_int_eq(setenv("KRB5_CONFIG", realm.krb5_conf, 1), 0);
}
END_TEST

START_TEST(test_krb5_tampered_ap_req_is_refused)
{
	NEED_REALM();
	struct pair *p = pair_new("Kerberos", TL_REALM_ALICE_PW);
	unsigned long al, bl;
	ck_assert_int_eq(client_leg(p, TARGET, NULL, 0, &al), SEC_I_CONTINUE_NEEDED);
	p->a[al - 20] ^= 0x40; /* inside the encrypted authenticator */
	SECURITY_STATUS st = server_leg(p, al, &bl);
	ck_assert_msg(st == SEC_E_LOGON_DENIED || st == SEC_E_INVALID_TOKEN ||
			      st == SEC_E_MESSAGE_ALTERED,
		      "status 0x%08lx", (unsigned long)(uint32_t)st);
	ck_assert_int_eq(p->have_s, 0);
	pair_free(p);
	free(p);
}
END_TEST

#ifdef SA_HAVE_KRB5
/* Every row of README's table, including those a realm cannot produce here
 * (clock skew, an expired ticket), through the mapping itself. */
START_TEST(test_krb5_status_table)
{
	static const struct {
		OM_uint32 major;
		long minor;
		int32_t want;
	} rows[] = {
		{GSS_S_FAILURE, KRB5KDC_ERR_PREAUTH_FAILED, SEC_E_LOGON_DENIED},
		{GSS_S_FAILURE, KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN, SEC_E_LOGON_DENIED},
		{GSS_S_FAILURE, KRB5KRB_AP_ERR_BAD_INTEGRITY, SEC_E_LOGON_DENIED},
		{GSS_S_FAILURE, KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN, SEC_E_TARGET_UNKNOWN},
		{GSS_S_FAILURE, KRB5_KDC_UNREACH, SEC_E_NO_AUTHENTICATING_AUTHORITY},
		{GSS_S_NO_CRED, KRB5_REALM_UNKNOWN, SEC_E_NO_AUTHENTICATING_AUTHORITY},
		{GSS_S_FAILURE, KRB5KRB_AP_ERR_SKEW, SEC_E_TIME_SKEW},
		{GSS_S_FAILURE, KRB5KRB_AP_ERR_TKT_EXPIRED, SEC_E_CONTEXT_EXPIRED},
		{GSS_S_NO_CRED, KRB5_FCC_NOFILE, SEC_E_NO_CREDENTIALS},
		{GSS_S_NO_CRED, 0, SEC_E_NO_CREDENTIALS},
		{GSS_S_CREDENTIALS_EXPIRED, 0, SEC_E_CONTEXT_EXPIRED},
		{GSS_S_CONTEXT_EXPIRED, 0, SEC_E_CONTEXT_EXPIRED},
		{GSS_S_BAD_SIG, 0, SEC_E_MESSAGE_ALTERED},
		{GSS_S_BAD_SIG, KRB5KRB_AP_ERR_BAD_INTEGRITY, SEC_E_MESSAGE_ALTERED}, /* a sealed message changed */
		{GSS_S_DEFECTIVE_TOKEN, 0, SEC_E_INVALID_TOKEN},
		{GSS_S_BAD_BINDINGS, 0, SEC_E_BAD_BINDINGS},
		{GSS_S_COMPLETE | GSS_S_DUPLICATE_TOKEN, 0, SEC_E_OUT_OF_SEQUENCE},
		{GSS_S_COMPLETE | GSS_S_GAP_TOKEN, 0, SEC_E_OUT_OF_SEQUENCE},
		{GSS_S_COMPLETE, 0, SEC_E_OK},
		{GSS_S_FAILURE, 12345, SEC_E_INTERNAL_ERROR},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		ck_assert_msg(sa__krb5_status(rows[i].major, (OM_uint32)rows[i].minor,
					     SEC_E_INTERNAL_ERROR) == rows[i].want,
			      "row %zu", i);
}
END_TEST
#endif

/* --- Negotiate -------------------------------------------------------------- */

START_TEST(test_nego_chooses_kerberos)
{
	NEED_REALM();
	struct pair *p = pair_new("Negotiate", TL_REALM_ALICE_PW);
	ck_assert_int_eq(handshake(p, TARGET), SEC_E_OK);
	ck_assert_int_eq(p->legs, 3); /* NegTokenInit(AP-REQ), NegTokenResp(AP-REP), done */
	assert_package(&p->c, "Kerberos");
	assert_package(&p->s, "Kerberos");
	SecPkgContext_NegotiationInfoA ni;
	ck_assert_int_eq(QueryContextAttributesA(&p->c, SECPKG_ATTR_NEGOTIATION_INFO, &ni), SEC_E_OK);
	ck_assert_str_eq(ni.PackageInfo->Name, "Kerberos");
	ck_assert_uint_eq(ni.NegotiationState, SECPKG_NEGOTIATION_COMPLETE);
	FreeContextBuffer(ni.PackageInfo);
	assert_name(&p->s, SECPKG_ATTR_NAMES, ALICE);
	messages_one_way(&p->c, &p->s, "negotiated, to the server");
	messages_one_way(&p->s, &p->c, "negotiated, to the client");
	pair_free(p);
	free(p);
}
END_TEST

/* NTLM's user file for the Negotiate fallback tests. */
static void users_setup(void)
{
	tl_user_file_set(user_file, TL_REALM_NAME ":alice:" TL_REALM_ALICE_PW "\n");
}

static void users_teardown(void)
{
	teardown();
	tl_user_file_unset(user_file);
}

START_TEST(test_nego_falls_back_to_ntlm_for_an_unknown_target)
{
	NEED_REALM();
	struct pair *p = pair_new("Negotiate", TL_REALM_ALICE_PW);
	ck_assert_int_eq(handshake(p, "HTTP/absent.host.test"), SEC_E_OK);
	/* NEGOTIATE, CHALLENGE, AUTHENTICATE + mechListMIC, completed + mechListMIC,
	 * and the client's check of that MIC (RFC 4178 5). */
	ck_assert_int_eq(p->legs, 5);
	assert_package(&p->c, "NTLM");
	assert_package(&p->s, "NTLM");
	assert_name(&p->s, SECPKG_ATTR_NAMES, TL_REALM_NAME "\\alice");
	messages_one_way(&p->c, &p->s, "ntlm in spnego, to the server");
	messages_one_way(&p->s, &p->c, "ntlm in spnego, to the client");
	pair_free(p);
	free(p);
}
END_TEST

START_TEST(test_nego_falls_back_to_ntlm_without_a_kdc)
{
	NEED_REALM();
	char conf[TL_REALM_PATH_MAX + 16];
	snprintf(conf, sizeof conf, "%s/unreachable2.conf", realm.dir);
	ck_assert_int_ge(tl_realm_write_conf_unreachable(&realm, conf), 0);
	ck_assert_int_eq(setenv("KRB5_CONFIG", conf, 1), 0);
	struct pair *p = pair_new("Negotiate", TL_REALM_ALICE_PW);
	ck_assert_int_eq(handshake(p, TARGET), SEC_E_OK);
	assert_package(&p->s, "NTLM");
	pair_free(p);
	free(p);
	ck_assert_int_eq(setenv("KRB5_CONFIG", realm.krb5_conf, 1), 0);
}
END_TEST

START_TEST(test_nego_acceptor_without_keytab_picks_ntlm)
{
	NEED_REALM();
	struct pair *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(acquire("Negotiate", SECPKG_CRED_OUTBOUND, NULL, TL_REALM_ALICE,
				 TL_REALM_NAME, TL_REALM_ALICE_PW, &p->cc),
			 SEC_E_OK);
	ck_assert_int_eq(setenv("KRB5_KTNAME", "FILE:/nonexistent/sa-no-keytab", 1), 0);
	ck_assert_int_eq(acquire("Negotiate", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &p->sc),
			 SEC_E_OK);
	ck_assert_int_eq(setenv("KRB5_KTNAME", realm.keytab, 1), 0);
	/* The client's optimistic AP-REQ is dropped; NTLM runs, confirmed by MICs. */
	ck_assert_int_eq(handshake(p, TARGET), SEC_E_OK);
	assert_package(&p->c, "NTLM");
	assert_package(&p->s, "NTLM");
	messages_one_way(&p->c, &p->s, "after a changed mind");
	pair_free(p);
	free(p);
}
END_TEST

/* A bare mechanism client (WinPR's "Negotiate" sends raw NTLM) against a
 * Negotiate acceptor: answered bare, the chosen package named. */
static void raw_client(const char *pkg, const char *want)
{
	struct pair *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(acquire(pkg, SECPKG_CRED_OUTBOUND, NULL, TL_REALM_ALICE, TL_REALM_NAME,
				 TL_REALM_ALICE_PW, &p->cc),
			 SEC_E_OK);
	ck_assert_int_eq(acquire("Negotiate", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &p->sc),
			 SEC_E_OK);
	ck_assert_int_eq(handshake(p, TARGET), SEC_E_OK);
	assert_package(&p->s, want);
	messages_one_way(&p->c, &p->s, "bare, to the server");
	messages_one_way(&p->s, &p->c, "bare, to the client");
	pair_free(p);
	free(p);
}

START_TEST(test_nego_acceptor_takes_raw_ntlm)
{
	NEED_REALM();
	raw_client("NTLM", "NTLM");
}
END_TEST

START_TEST(test_nego_acceptor_takes_raw_kerberos)
{
	NEED_REALM();
	raw_client("Kerberos", "Kerberos");
}
END_TEST

START_TEST(test_nego_garbage_first_token_is_invalid)
{
	NEED_REALM();
	struct pair *p = pair_new("Negotiate", TL_REALM_ALICE_PW);
	unsigned long bl;
	static const unsigned char junk[] = {0x60, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04};
	memcpy(p->a, junk, sizeof junk);
	ck_assert_int_eq(server_leg(p, sizeof junk, &bl), SEC_E_INVALID_TOKEN);
	ck_assert_int_eq(p->have_s, 0);
	pair_free(p);
	free(p);
}
END_TEST

static Suite *krb5_suite(void)
{
	Suite *s = suite_create("krb5");
	TCase *tc = tcase(s, "kerberos", 60);
	tcase_add_test(tc, test_krb5_password_handshake_and_attributes);
	tcase_add_test(tc, test_krb5_no_file_written_for_a_password);
	tcase_add_test(tc, test_krb5_kinit_ccache_handshake);
	tcase_add_test(tc, test_krb5_no_ticket_no_password_is_no_credentials);
	tcase_add_test(tc, test_krb5_no_keytab_is_no_credentials);
	tcase_add_test(tc, test_krb5_wrong_password_is_logon_denied);
	tcase_add_test(tc, test_krb5_unknown_user_is_logon_denied);
	tcase_add_test(tc, test_krb5_unknown_service_is_target_unknown);
	tcase_add_test(tc, test_krb5_unreachable_kdc_is_no_authority);
	tcase_add_test(tc, test_krb5_tampered_ap_req_is_refused);
#ifdef SA_HAVE_KRB5
	tcase_add_test(tc, test_krb5_status_table);
#endif
	tc = tcase_create("negotiate");
	tcase_add_checked_fixture(tc, users_setup, users_teardown);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_nego_chooses_kerberos);
	tcase_add_test(tc, test_nego_falls_back_to_ntlm_for_an_unknown_target);
	tcase_add_test(tc, test_nego_falls_back_to_ntlm_without_a_kdc);
	tcase_add_test(tc, test_nego_acceptor_without_keytab_picks_ntlm);
	tcase_add_test(tc, test_nego_acceptor_takes_raw_ntlm);
	tcase_add_test(tc, test_nego_acceptor_takes_raw_kerberos);
	tcase_add_test(tc, test_nego_garbage_first_token_is_invalid);
	return s;
}

int main(void)
{
	(void)pkg_name; /* sspi_testlib.h's, for the test package */
#if defined(SA_HAVE_KRB5) && defined(SA_HAVE_NEGOTIATE)
	if (tl_realm_available() && tl_realm_start(&realm) != 0)
		return 1; /* the tools are there and the realm would not start: a failure */
#endif
	int failed = tl_run_suite(krb5_suite());
	tl_realm_stop(&realm);
	return failed;
}
