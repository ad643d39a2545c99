/*
 * test/krb5_testlib.h - helpers shared by the suites that run the
 * "Kerberos" and "Negotiate" packages against a throw-away realm
 * (check_krb5.c, check_krb5_interop.c): the token room and request flags,
 * one handshake leg through the synchronous API, name and package checks,
 * and the skip when no realm runs.
 *
 * Not a realm (that is krb5_realm.h) and not a peer (peer_driver.h).  All
 * static inline, asserting on the test's own thread.
 */
#ifndef SSPIASYNC_TEST_KRB5_TESTLIB_H
#define SSPIASYNC_TEST_KRB5_TESTLIB_H

#include <check.h>
#include <stdio.h>

#include <sspiasync/sspi.h>

#include "krb5_realm.h"

#define TOK 48256 /* a token's room: cbMaxToken (48000) and some */
#define REQ_C (ISC_REQ_MUTUAL_AUTH | ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY | \
	       ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONNECTION)
#define REQ_S (ASC_REQ_MUTUAL_AUTH | ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY | \
	       ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONNECTION)
#define ALICE "alice@" TL_REALM_NAME
#define TARGET "HTTP/host.test"

/*
 * tl_krb5_leg() - One leg: InitializeSecurityContextA toward @target with
 * REQ_C, or, when @target is NULL, AcceptSecurityContext with REQ_S.  @in
 * NULL gives a client no input (its first leg).  The output goes into
 * out[TOK], its length (whatever the call left in cbBuffer) into *out_len;
 * *have_ctx becomes 1 once the call returned SEC_E_OK or
 * SEC_I_CONTINUE_NEEDED, so the next leg passes @ctx back.
 */
static inline SECURITY_STATUS tl_krb5_leg(CredHandle *cred, CtxtHandle *ctx, int *have_ctx,
					  unsigned long *attrs, const char *target,
					  const void *in, unsigned long in_len, unsigned char *out,
					  unsigned long *out_len)
{
	SecBuffer ib = {in_len, SECBUFFER_TOKEN, (void *)in};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	SecBuffer ob = {TOK, SECBUFFER_TOKEN, out};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	TimeStamp ts;
	SECURITY_STATUS st;
	if (target != NULL)
		st = InitializeSecurityContextA(cred, *have_ctx ? ctx : NULL, (SEC_CHAR *)target,
						REQ_C, 0, SECURITY_NATIVE_DREP, in ? &id : NULL, 0,
						ctx, &od, attrs, &ts);
	else
		st = AcceptSecurityContext(cred, *have_ctx ? ctx : NULL, &id, REQ_S,
					   SECURITY_NATIVE_DREP, ctx, &od, attrs, &ts);
	if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
		*have_ctx = 1;
	*out_len = ob.cbBuffer;
	return st;
}

/* Asserts that the context's name attribute @attr (SECPKG_ATTR_NAMES...) is @want. */
static inline void assert_name(CtxtHandle *h, unsigned long attr, const char *want)
{
	SecPkgContext_NamesA n = {NULL};
	ck_assert_int_eq(QueryContextAttributesA(h, attr, &n), SEC_E_OK);
	ck_assert_str_eq(n.sUserName, want);
	ck_assert_int_eq(FreeContextBuffer(n.sUserName), SEC_E_OK);
}

/* Asserts that the context's package (SECPKG_ATTR_PACKAGE_INFO) is @want. */
static inline void assert_package(CtxtHandle *h, const char *want)
{
	SecPkgContext_PackageInfoA pi = {NULL};
	ck_assert_int_eq(QueryContextAttributesA(h, SECPKG_ATTR_PACKAGE_INFO, &pi), SEC_E_OK);
	ck_assert_str_eq(pi.PackageInfo->Name, want);
	ck_assert_int_eq(FreeContextBuffer(pi.PackageInfo), SEC_E_OK);
}

/* 1, after printing @note, when realm @r is not running (no KDC tools, or
 * a build without Kerberos): the test then passes without running. */
static inline int tl_realm_skip(const struct tl_realm *r, const char *note)
{
	if (r->kdc_pid != 0)
		return 0;
	printf("%s\n", note);
	return 1;
}

/* The first line of a test that needs realm @r. */
#define TL_NEED_REALM(r, note)                                                                 \
	do {                                                                                   \
		if (tl_realm_skip((r), (note)))                                                \
			return;                                                                \
	} while (0)

#endif /* SSPIASYNC_TEST_KRB5_TESTLIB_H */
