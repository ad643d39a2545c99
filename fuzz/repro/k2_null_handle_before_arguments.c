/*
 * K2: with a NULL handle pointer AND a structural argument error, several
 * synchronous calls answer SEC_E_INVALID_HANDLE, where sspi.h's conventions
 * say arguments are checked first: "Arguments are checked before anything
 * happens: a structural error (a NULL required pointer other than a handle,
 * a SecBufferDesc of another version or with a NULL buffer array, ...)
 * gives SEC_E_INVALID_PARAMETER.  Handles are checked next: a NULL handle
 * pointer, ... gives SEC_E_INVALID_HANDLE".  InitializeSecurityContextA,
 * VerifySignature (pfQOP) and the async family do check arguments first.
 *
 * Cause: QueryContextAttributesA, QueryCredentialsAttributesA,
 * CompleteAuthToken and msg_call (Make/Verify-Signature, Encrypt/Decrypt-
 * Message) test "phContext == NULL" before their argument checks.
 * Minor: an ordering inconsistency between the documentation and the code.
 * Exit 1 when any call answers SEC_E_INVALID_HANDLE.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>
#include <stdio.h>

static int bad;

static void show(const char *call, SECURITY_STATUS st)
{
	printf("%-60s 0x%08x %s\n", call, (unsigned)st,
	       st == SEC_E_INVALID_PARAMETER ? "(documented)" : "<- documented SEC_E_INVALID_PARAMETER");
	bad |= st != SEC_E_INVALID_PARAMETER;
}

int main(void)
{
	SecBufferDesc v1 = {1 /* not SECBUFFER_VERSION */, 0, NULL};
	unsigned long qop;
	show("QueryContextAttributesA(NULL, SECPKG_ATTR_SIZES, NULL)",
	     QueryContextAttributesA(NULL, SECPKG_ATTR_SIZES, NULL));
	show("QueryCredentialsAttributesA(NULL, SECPKG_CRED_ATTR_NAMES, NULL)",
	     QueryCredentialsAttributesA(NULL, SECPKG_CRED_ATTR_NAMES, NULL));
	show("CompleteAuthToken(NULL, NULL)", CompleteAuthToken(NULL, NULL));
	show("MakeSignature(NULL, 0, NULL, 0)", MakeSignature(NULL, 0, NULL, 0));
	show("EncryptMessage(NULL, 0, &desc_of_version_1, 0)", EncryptMessage(NULL, 0, &v1, 0));
	show("DecryptMessage(NULL, NULL, 0, NULL)", DecryptMessage(NULL, NULL, 0, NULL));
	show("VerifySignature(NULL, NULL, 0, &qop)", VerifySignature(NULL, NULL, 0, &qop));
	/* For comparison, the leg checks its arguments first: */
	unsigned long attrs;
	CtxtHandle newh;
	show("InitializeSecurityContextA(NULL, NULL, t, 0, 0, 0, &v1, 0, &newh, NULL, &attrs, NULL)",
	     InitializeSecurityContextA(NULL, NULL, NULL, 0, 0, 0, &v1, 0, &newh, NULL, &attrs, NULL));
	sspiasync_shutdown();
	puts(bad ? "K2 REPRODUCED" : "as documented");
	return bad;
}
