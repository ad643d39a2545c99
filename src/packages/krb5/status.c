/*
 * src/packages/krb5/status.c - what a GSS result means in SSPI terms.
 *
 * The table is README's ("Kerberos: statuses"); test_krb5_status_table
 * holds every row.  A krb5 error code (the minor status of the krb5
 * mechanism) says more than the GSS routine error, so it is looked up
 * first: a wrong password is GSS_S_FAILURE with minor
 * KRB5KDC_ERR_PREAUTH_FAILED, which Windows reports as SEC_E_LOGON_DENIED.
 */
#include "packages/krb5/krb5_pkg.h"

#include <errno.h>
#include <krb5/krb5.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	long minor;
	int32_t status;
} by_minor[] = {
	{KRB5KDC_ERR_PREAUTH_FAILED, SEC_E_LOGON_DENIED},      /* wrong password */
	{KRB5KRB_AP_ERR_BAD_INTEGRITY, SEC_E_LOGON_DENIED},    /* wrong password, no preauth */
	{KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN, SEC_E_LOGON_DENIED}, /* no such user */
	{KRB5KDC_ERR_KEY_EXP, SEC_E_LOGON_DENIED},             /* password expired */
	{KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN, SEC_E_TARGET_UNKNOWN},
	{KRB5_KDC_UNREACH, SEC_E_NO_AUTHENTICATING_AUTHORITY},
	{KRB5_REALM_CANT_RESOLVE, SEC_E_NO_AUTHENTICATING_AUTHORITY},
	{KRB5_REALM_UNKNOWN, SEC_E_NO_AUTHENTICATING_AUTHORITY}, /* "Cannot find KDC for realm" */
	{KRB5KRB_AP_ERR_SKEW, SEC_E_TIME_SKEW},
	{KRB5KRB_AP_ERR_TKT_EXPIRED, SEC_E_CONTEXT_EXPIRED},
	{KRB5_FCC_NOFILE, SEC_E_NO_CREDENTIALS},               /* no ccache */
	{KRB5_CC_NOTFOUND, SEC_E_NO_CREDENTIALS},
	{KRB5_KT_NOTFOUND, SEC_E_WRONG_PRINCIPAL},             /* a ticket for a key we lack */
	{KRB5KRB_AP_WRONG_PRINC, SEC_E_WRONG_PRINCIPAL},
	{KRB5KRB_AP_ERR_MODIFIED, SEC_E_LOGON_DENIED},         /* our key does not open it */
	{ENOMEM, SEC_E_INSUFFICIENT_MEMORY},
};

static const struct {
	OM_uint32 routine;
	int32_t status;
} by_major[] = {
	{GSS_S_BAD_SIG, SEC_E_MESSAGE_ALTERED}, /* == GSS_S_BAD_MIC */
	{GSS_S_DEFECTIVE_TOKEN, SEC_E_INVALID_TOKEN},
	{GSS_S_BAD_BINDINGS, SEC_E_BAD_BINDINGS},
	{GSS_S_NO_CRED, SEC_E_NO_CREDENTIALS},
	{GSS_S_DEFECTIVE_CREDENTIAL, SEC_E_NO_CREDENTIALS},
	{GSS_S_CREDENTIALS_EXPIRED, SEC_E_CONTEXT_EXPIRED},
	{GSS_S_CONTEXT_EXPIRED, SEC_E_CONTEXT_EXPIRED},
	{GSS_S_BAD_NAME, SEC_E_TARGET_UNKNOWN},
	{GSS_S_BAD_NAMETYPE, SEC_E_TARGET_UNKNOWN},
	{GSS_S_BAD_QOP, SEC_E_QOP_NOT_SUPPORTED},
	{GSS_S_NO_CONTEXT, SEC_E_INVALID_TOKEN},
	{GSS_S_BAD_MECH, SEC_E_UNSUPPORTED_FUNCTION},
	{GSS_S_UNAVAILABLE, SEC_E_UNSUPPORTED_FUNCTION},
};

int32_t sa__krb5_status(OM_uint32 major, OM_uint32 minor, int32_t dflt)
{
	if (GSS_ERROR(major)) {
		/* A message that does not verify is that, whatever krb5 code came
		 * with it (KRB_AP_ERR_BAD_INTEGRITY, a wrong password elsewhere). */
		if (GSS_ROUTINE_ERROR(major) == GSS_S_BAD_SIG)
			return SEC_E_MESSAGE_ALTERED;
		for (size_t i = 0; minor != 0 && i < sizeof by_minor / sizeof by_minor[0]; i++)
			if ((int32_t)minor == (int32_t)by_minor[i].minor)
				return by_minor[i].status;
		for (size_t i = 0; i < sizeof by_major / sizeof by_major[0]; i++)
			if (GSS_ROUTINE_ERROR(major) == by_major[i].routine)
				return by_major[i].status;
		return dflt;
	}
	if (GSS_SUPPLEMENTARY_INFO(major) &
	    (GSS_S_GAP_TOKEN | GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN))
		return SEC_E_OUT_OF_SEQUENCE;
	return SEC_E_OK;
}

static int trace_on;
static pthread_once_t trace_once = PTHREAD_ONCE_INIT;

static void trace_init(void)
{
	const char *v = getenv("SSPIASYNC_TRACE");
	trace_on = v != NULL && strcmp(v, "1") == 0;
}

/* GSS's text for one code, or "?" */
static void status_text(OM_uint32 code, int type, char *dst, size_t cap)
{
	OM_uint32 min, more = 0;
	gss_buffer_desc s = GSS_C_EMPTY_BUFFER;
	snprintf(dst, cap, "?");
	if (!GSS_ERROR(gss_display_status(&min, code, type, &sa__krb5_mech_oid, &more, &s))) {
		snprintf(dst, cap, "%.*s", (int)s.length, (const char *)s.value);
		(void)gss_release_buffer(&min, &s);
	}
}

int32_t sa__krb5_fail(const char *what, OM_uint32 major, OM_uint32 minor, int32_t dflt)
{
	int32_t st = sa__krb5_status(major, minor, dflt);
	(void)pthread_once(&trace_once, trace_init);
	if (trace_on && st != SEC_E_OK) {
		char mt[256], nt[256];
		status_text(major, GSS_C_GSS_CODE, mt, sizeof mt);
		status_text(minor, GSS_C_MECH_CODE, nt, sizeof nt);
		fprintf(stderr, "sspiasync: Kerberos: %s: major 0x%08lx (%s), minor %ld (%s) -> 0x%08lx\n",
			what, (unsigned long)major, mt, (long)(int32_t)minor, nt,
			(unsigned long)(uint32_t)st);
	}
	return st;
}
