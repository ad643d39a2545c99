/*
 * handshake.c - a complete SSPI handshake written as Windows code: the
 * SECURITY_WIN32 / <security.h> idiom, `unsigned long` attributes, TimeStamp,
 * SecBuffer arrays, SAL annotations and the unsuffixed names.  Built and run
 * against the installed library by test/winstyle_handshake.sh, through
 * `pkg-config --cflags --libs sspiasync-compat`, under Valgrind.
 * Client and server live in one process: a 3-leg handshake of package
 * "SspiAsyncTest", one signed and one sealed message each way, then delete and
 * free.  The only non-Windows lines are the sspiasync_shutdown() block at the
 * end (so Valgrind sees 0 bytes in use); exit status 0 on success.
 */
#define SECURITY_WIN32
#include <security.h>

#include <stdio.h>
#include <string.h>

#ifndef _WIN32
#include <sspiasync/sspiasync.h> /* sspiasync_shutdown(): the port's one addition */
#endif

#define PACKAGE_NAME "SspiAsyncTest"
#define TOKEN_SIZE 512

static int failures;

static void report(_In_z_ const char *what, _In_ SECURITY_STATUS status)
{
	fprintf(stderr, "handshake: %s failed: 0x%08lx\n", what, (unsigned long)(DWORD)status);
	failures++;
}

/*
 * One handshake leg on either side.  *pcbToken is the size of the peer's
 * token in pbToken on entry (0: none) and of the token to send on return.
 */
static SECURITY_STATUS RunLeg(
	_In_ BOOLEAN fServer,
	_In_ PCredHandle phCred,
	_Inout_ PCtxtHandle phCtx,
	_Inout_ BOOLEAN *pfHaveCtx,
	_In_opt_z_ SEC_CHAR *pszTarget,
	_Inout_updates_bytes_(TOKEN_SIZE) unsigned char *pbToken,
	_Inout_ unsigned long *pcbToken)
{
	unsigned char out[TOKEN_SIZE];
	SecBuffer inBuf[1], outBuf[1];
	SecBufferDesc inDesc, outDesc;
	unsigned long attrs = 0;
	TimeStamp expiry;
	SECURITY_STATUS ss;

	inBuf[0].cbBuffer = *pcbToken;
	inBuf[0].BufferType = SECBUFFER_TOKEN;
	inBuf[0].pvBuffer = pbToken;
	inDesc.ulVersion = SECBUFFER_VERSION;
	inDesc.cBuffers = 1;
	inDesc.pBuffers = inBuf;
	outBuf[0].cbBuffer = sizeof(out);
	outBuf[0].BufferType = SECBUFFER_TOKEN;
	outBuf[0].pvBuffer = out;
	outDesc.ulVersion = SECBUFFER_VERSION;
	outDesc.cBuffers = 1;
	outDesc.pBuffers = outBuf;

	if (fServer)
		ss = AcceptSecurityContext(phCred, *pfHaveCtx ? phCtx : NULL, &inDesc,
			ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY, SECURITY_NATIVE_DREP,
			phCtx, &outDesc, &attrs, &expiry);
	else
		ss = InitializeSecurityContext(phCred, *pfHaveCtx ? phCtx : NULL, pszTarget,
			ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY, 0, SECURITY_NATIVE_DREP,
			*pfHaveCtx ? &inDesc : NULL, 0, phCtx, &outDesc, &attrs, &expiry);
	if (ss != SEC_E_OK && ss != SEC_I_CONTINUE_NEEDED)
		return ss;
	*pfHaveCtx = TRUE;
	memcpy(pbToken, out, outBuf[0].cbBuffer);
	*pcbToken = outBuf[0].cbBuffer;
	return ss;
}

static void Messages(_In_ PCtxtHandle phFrom, _In_ PCtxtHandle phTo)
{
	char text[] = "hello from the other side";
	char data[sizeof(text)];
	unsigned char trailer[16];
	SecBuffer bufs[2];
	SecBufferDesc msg;
	unsigned long qop = 0;
	SECURITY_STATUS ss;

	memcpy(data, text, sizeof(data));
	bufs[0].cbBuffer = sizeof(data);
	bufs[0].BufferType = SECBUFFER_DATA;
	bufs[0].pvBuffer = data;
	bufs[1].cbBuffer = sizeof(trailer);
	bufs[1].BufferType = SECBUFFER_TOKEN;
	bufs[1].pvBuffer = trailer;
	msg.ulVersion = SECBUFFER_VERSION;
	msg.cBuffers = 2;
	msg.pBuffers = bufs;

	ss = MakeSignature(phFrom, 0, &msg, 1);
	if (ss != SEC_E_OK)
		report("MakeSignature", ss);
	ss = VerifySignature(phTo, &msg, 1, &qop);
	if (ss != SEC_E_OK)
		report("VerifySignature", ss);

	bufs[1].cbBuffer = sizeof(trailer);
	ss = EncryptMessage(phFrom, 0, &msg, 2);
	if (ss != SEC_E_OK)
		report("EncryptMessage", ss);
	if (memcmp(data, text, sizeof(data)) == 0)
		report("EncryptMessage (plaintext unchanged)", SEC_E_INTERNAL_ERROR);
	ss = DecryptMessage(phTo, &msg, 2, &qop);
	if (ss != SEC_E_OK)
		report("DecryptMessage", ss);
	if (memcmp(data, text, sizeof(data)) != 0)
		report("DecryptMessage (wrong plaintext)", SEC_E_MESSAGE_ALTERED);
}

int main(void)
{
	CredHandle hClientCred, hServerCred;
	CtxtHandle hClient, hServer;
	BOOLEAN haveClient = FALSE, haveServer = FALSE;
	TimeStamp lifetime;
	unsigned char token[TOKEN_SIZE];
	unsigned long cbToken = 0;
	SEC_CHAR package[] = PACKAGE_NAME;
	SEC_CHAR target[] = "host/test;legs=3";
	SecPkgContext_Sizes sizes;
	SecPkgContext_Names names;
	SECURITY_STATUS ss;
	int leg;

	SecInvalidateHandle(&hClient);
	SecInvalidateHandle(&hServer);

	ss = AcquireCredentialsHandle(NULL, package, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
		&hClientCred, &lifetime);
	if (ss != SEC_E_OK) {
		report("AcquireCredentialsHandle (client)", ss);
		return 1;
	}
	ss = AcquireCredentialsHandle(NULL, package, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
		&hServerCred, &lifetime);
	if (ss != SEC_E_OK) {
		report("AcquireCredentialsHandle (server)", ss);
		FreeCredentialsHandle(&hClientCred);
		return 1;
	}

	/* Leg 1: ISC, continue; leg 2: ASC, done + token; leg 3: ISC, done. */
	for (leg = 1; leg <= 3; leg++) {
		BOOLEAN server = (leg % 2) == 0;
		SECURITY_STATUS expect = leg == 1 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK;
		ss = RunLeg(server, server ? &hServerCred : &hClientCred,
			server ? &hServer : &hClient, server ? &haveServer : &haveClient,
			target, token, &cbToken);
		if (ss != expect) {
			report(server ? "AcceptSecurityContext" : "InitializeSecurityContext", ss);
			break;
		}
		if ((cbToken == 0) != (leg == 3)) {
			report("handshake token", SEC_E_INVALID_TOKEN);
			break;
		}
	}

	if (failures == 0) {
		Messages(&hClient, &hServer);
		Messages(&hServer, &hClient);
		ss = QueryContextAttributes(&hServer, SECPKG_ATTR_SIZES, &sizes);
		if (ss != SEC_E_OK || sizes.cbMaxToken > TOKEN_SIZE)
			report("QueryContextAttributes(SIZES)", ss);
		ss = QueryContextAttributes(&hServer, SECPKG_ATTR_NAMES, &names);
		if (ss == SEC_E_OK) {
			printf("handshake: server sees \"%s\"\n", names.sUserName);
			FreeContextBuffer(names.sUserName);
		} else {
			report("QueryContextAttributes(NAMES)", ss);
		}
	}

	if (haveClient && (ss = DeleteSecurityContext(&hClient)) != SEC_E_OK)
		report("DeleteSecurityContext (client)", ss);
	if (haveServer && (ss = DeleteSecurityContext(&hServer)) != SEC_E_OK)
		report("DeleteSecurityContext (server)", ss);
	if ((ss = FreeCredentialsHandle(&hClientCred)) != SEC_E_OK)
		report("FreeCredentialsHandle (client)", ss);
	if ((ss = FreeCredentialsHandle(&hServerCred)) != SEC_E_OK)
		report("FreeCredentialsHandle (server)", ss);

#ifndef _WIN32
	sspiasync_shutdown();
#endif
	if (failures == 0)
		puts("handshake: 3 legs, messages both ways, ok");
	return failures == 0 ? 0 : 1;
}
