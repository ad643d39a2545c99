/*
 * porting.c - an SSPI caller written as Windows code is (issue 22, item 6):
 * SECURITY_WIN32 and <security.h>, every call through InitSecurityInterface()'s
 * table, SEC_TEXT() and the unsuffixed names (one source, ANSI or -DUNICODE),
 * an SEC_WINNT_AUTH_IDENTITY_EX with a PackageList, ISC_REQ_ALLOCATE_MEMORY on
 * the client, a server buffer grown and retried on SEC_E_BUFFER_TOO_SMALL,
 * SIZES/NAMES/PACKAGE_INFO, signed and sealed messages.  Not a unit test: it
 * asserts only what a Windows caller relies on.  Run by test/winstyle_handshake.sh
 * as `porting SspiAsyncTest|NTLM` (NTLM's acceptor reads NTLM_USER_FILE).
 */
#define SECURITY_WIN32
#include <security.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <sspiasync/sspiasync.h> /* sspiasync_shutdown(): the port's one addition */
#endif

/* The EX identity's string fields: unsigned char * (EXA) or unsigned short *
 * (EXW), and the Flags saying which, as Windows code picks them. */
#ifdef UNICODE
#define IDENTITY_FORM SEC_WINNT_AUTH_IDENTITY_UNICODE
typedef unsigned short IDENTITY_CHAR;
#else
#define IDENTITY_FORM SEC_WINNT_AUTH_IDENTITY_ANSI
typedef unsigned char IDENTITY_CHAR;
#endif

/* The user NTLM_USER_FILE must hold: WINSTYLE:porter:p<a-umlaut>ss:w<o-umlaut>rd
 * (UTF-8).  The password has non-ASCII letters and a colon, so the ANSI
 * (UTF-8) and UNICODE (UTF-16) builds both prove their conversion. */
#define USER_NAME SEC_TEXT("porter")
#define USER_DOMAIN SEC_TEXT("WINSTYLE")
#define USER_PASSWORD SEC_TEXT("p\u00e4ss:w\u00f6rd")
#define USER_SEEN SEC_TEXT("WINSTYLE\\porter")

#define SERVER_FIRST_ROOM 16 /* bytes: smaller than any first answer */
#define LEGS 4

struct PortCase {
	const char *name; /* argv[1] */
	SECURITY_PSTR package;
	SECURITY_PSTR target;
};

/* Both handshakes take 4 legs: the test package is told so in its target. */
static const struct PortCase cases[] = {
	{ "SspiAsyncTest", SEC_TEXT("SspiAsyncTest"), SEC_TEXT("host/porting;legs=4") },
	{ "NTLM", SEC_TEXT("NTLM"), SEC_TEXT("HTTP/porting.example") },
};

static PSecurityFunctionTable t;
static int failures;

static void Fail(_In_z_ const char *what, _In_ SECURITY_STATUS got, _In_ SECURITY_STATUS want)
{
	fprintf(stderr, "porting: %s returned 0x%08lx, expected 0x%08lx\n", what,
		(unsigned long)(DWORD)got, (unsigned long)(DWORD)want);
	failures++;
}

static int Expect(_In_z_ const char *what, _In_ SECURITY_STATUS got, _In_ SECURITY_STATUS want)
{
	if (got == want)
		return 1;
	Fail(what, got, want);
	return 0;
}

static void Check(_In_z_ const char *what, _In_ int ok)
{
	if (!ok) {
		fprintf(stderr, "porting: check failed: %s\n", what);
		failures++;
	}
}

static unsigned long SecLen(_In_z_ SECURITY_PCSTR s)
{
	unsigned long n = 0;
	while (s[n] != 0)
		n++;
	return n;
}

static int SecEqual(_In_opt_z_ SECURITY_PCSTR a, _In_z_ SECURITY_PCSTR b)
{
	if (a == NULL)
		return 0;
	while (*a != 0 && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* ASCII as is; anything else as \xNN (a UTF-8 byte) or \uNNNN (UTF-16). */
static void SecPrint(_In_opt_z_ SECURITY_PCSTR s)
{
	if (s == NULL) {
		fputs("(null)", stdout);
		return;
	}
	for (; *s != 0; s++) {
		unsigned long u = (unsigned long)*s & (sizeof *s == 1 ? 0xFFul : 0xFFFFul);
		if (u >= 0x20 && u < 0x7F)
			putchar((int)u);
		else if (sizeof *s == 1)
			printf("\\x%02lx", u);
		else
			printf("\\u%04lx", u);
	}
}

/*
 * A client leg: the library allocates the output token (ISC_REQ_ALLOCATE_MEMORY);
 * *ppvOut and *pcbOut receive it, to be freed with t->FreeContextBuffer.
 */
static SECURITY_STATUS ClientLeg(
	_In_ PCredHandle phCred,
	_Inout_ PCtxtHandle phCtx,
	_In_ BOOLEAN fHaveCtx,
	_In_z_ SECURITY_PSTR pszTarget,
	_In_reads_bytes_opt_(cbIn) void *pvIn,
	_In_ unsigned long cbIn,
	_Outptr_result_maybenull_ void **ppvOut,
	_Out_ unsigned long *pcbOut,
	_Out_ unsigned long *pfAttrs)
{
	SecBuffer inBuf, outBuf;
	SecBufferDesc inDesc, outDesc;
	TimeStamp expiry;
	SECURITY_STATUS ss;

	inBuf.cbBuffer = cbIn;
	inBuf.BufferType = SECBUFFER_TOKEN;
	inBuf.pvBuffer = pvIn;
	inDesc.ulVersion = SECBUFFER_VERSION;
	inDesc.cBuffers = 1;
	inDesc.pBuffers = &inBuf;
	outBuf.cbBuffer = 0;
	outBuf.BufferType = SECBUFFER_TOKEN;
	outBuf.pvBuffer = NULL;
	outDesc.ulVersion = SECBUFFER_VERSION;
	outDesc.cBuffers = 1;
	outDesc.pBuffers = &outBuf;

	ss = t->InitializeSecurityContext(phCred, fHaveCtx ? phCtx : NULL, pszTarget,
		ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY |
		ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONNECTION,
		0, SECURITY_NATIVE_DREP, fHaveCtx ? &inDesc : NULL, 0, phCtx, &outDesc,
		pfAttrs, &expiry);
	*ppvOut = outBuf.pvBuffer;
	*pcbOut = outBuf.cbBuffer;
	if (outBuf.cbBuffer != 0)
		Check("ISC_RET_ALLOCATED_MEMORY with an allocated token",
			(*pfAttrs & ISC_RET_ALLOCATED_MEMORY) != 0 && outBuf.pvBuffer != NULL);
	return ss;
}

/*
 * A server leg into the caller's buffer *ppbBuf (*pcbBuf bytes): on
 * SEC_E_BUFFER_TOO_SMALL it doubles the buffer (up to cbMaxToken) and calls
 * again with the same input.  *pcRetries counts the retries.
 */
static SECURITY_STATUS ServerLeg(
	_In_ PCredHandle phCred,
	_Inout_ PCtxtHandle phCtx,
	_In_ BOOLEAN fHaveCtx,
	_In_reads_bytes_(cbIn) void *pvIn,
	_In_ unsigned long cbIn,
	_Inout_ unsigned char **ppbBuf,
	_Inout_ unsigned long *pcbBuf,
	_In_ unsigned long cbMaxToken,
	_Out_ unsigned long *pcbOut,
	_Out_ unsigned long *pfAttrs,
	_Inout_ unsigned *pcRetries)
{
	SecBuffer inBuf, outBuf;
	SecBufferDesc inDesc, outDesc;
	TimeStamp expiry;
	SECURITY_STATUS ss;

	for (;;) {
		inBuf.cbBuffer = cbIn;
		inBuf.BufferType = SECBUFFER_TOKEN;
		inBuf.pvBuffer = pvIn;
		inDesc.ulVersion = SECBUFFER_VERSION;
		inDesc.cBuffers = 1;
		inDesc.pBuffers = &inBuf;
		outBuf.cbBuffer = *pcbBuf;
		outBuf.BufferType = SECBUFFER_TOKEN;
		outBuf.pvBuffer = *ppbBuf;
		outDesc.ulVersion = SECBUFFER_VERSION;
		outDesc.cBuffers = 1;
		outDesc.pBuffers = &outBuf;

		ss = t->AcceptSecurityContext(phCred, fHaveCtx ? phCtx : NULL, &inDesc,
			ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT |
			ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONNECTION,
			SECURITY_NATIVE_DREP, phCtx, &outDesc, pfAttrs, &expiry);
		if (ss != SEC_E_BUFFER_TOO_SMALL)
			break;
		if (*pcbBuf >= cbMaxToken) {
			Check("SEC_E_BUFFER_TOO_SMALL below cbMaxToken", 0);
			break;
		}
		unsigned long cbNew = *pcbBuf * 2 < cbMaxToken ? *pcbBuf * 2 : cbMaxToken;
		unsigned char *pbNew = realloc(*ppbBuf, cbNew);
		if (pbNew == NULL) {
			Check("realloc", 0);
			break;
		}
		*ppbBuf = pbNew;
		*pcbBuf = cbNew;
		++*pcRetries;
	}
	*pcbOut = outBuf.cbBuffer;
	return ss;
}

/* Query SIZES, NAMES and PACKAGE_INFO of one side. */
static void Attributes(_In_z_ const char *side, _In_ PCtxtHandle phCtx,
	_In_ const struct PortCase *pc, _In_ unsigned long cbMaxToken,
	_Out_ SecPkgContext_Sizes *pSizes)
{
	SecPkgContext_Names names;
	SecPkgContext_PackageInfo info;
	SECURITY_STATUS ss;
	char what[64];

	snprintf(what, sizeof what, "%s QueryContextAttributes(SIZES)", side);
	ss = t->QueryContextAttributes(phCtx, SECPKG_ATTR_SIZES, pSizes);
	if (Expect(what, ss, SEC_E_OK)) {
		Check("SIZES.cbMaxToken is the package's", pSizes->cbMaxToken == cbMaxToken);
		Check("SIZES.cbMaxSignature > 0", pSizes->cbMaxSignature > 0);
		Check("SIZES.cbSecurityTrailer > 0", pSizes->cbSecurityTrailer > 0);
	} else {
		memset(pSizes, 0, sizeof *pSizes);
	}

	snprintf(what, sizeof what, "%s QueryContextAttributes(NAMES)", side);
	ss = t->QueryContextAttributes(phCtx, SECPKG_ATTR_NAMES, &names);
	if (Expect(what, ss, SEC_E_OK)) {
		printf("porting: %s sees \"", side);
		SecPrint(names.sUserName);
		puts("\"");
		Check("NAMES is WINSTYLE\\porter", SecEqual(names.sUserName, USER_SEEN));
		Expect("FreeContextBuffer(NAMES)", t->FreeContextBuffer(names.sUserName), SEC_E_OK);
	}

	snprintf(what, sizeof what, "%s QueryContextAttributes(PACKAGE_INFO)", side);
	ss = t->QueryContextAttributes(phCtx, SECPKG_ATTR_PACKAGE_INFO, &info);
	if (Expect(what, ss, SEC_E_OK)) {
		Check("PACKAGE_INFO names the package",
			info.PackageInfo != NULL && SecEqual(info.PackageInfo->Name, pc->package));
		Expect("FreeContextBuffer(PACKAGE_INFO)", t->FreeContextBuffer(info.PackageInfo),
			SEC_E_OK);
	}
}

/* One signed and one sealed message from phFrom to phTo, then a tampered one. */
static void Messages(_In_z_ const char *dir, _In_ PCtxtHandle phFrom, _In_ PCtxtHandle phTo,
	_In_ const SecPkgContext_Sizes *pSizes, _In_ BOOLEAN fSeal)
{
	static const char text[] = "a message written on Windows";
	char data[sizeof text];
	unsigned char *trailer;
	SecBuffer bufs[2];
	SecBufferDesc msg;
	unsigned long qop = 0, cbTrailer;
	char what[64];

	cbTrailer = pSizes->cbMaxSignature > pSizes->cbSecurityTrailer ? pSizes->cbMaxSignature
								      : pSizes->cbSecurityTrailer;
	trailer = malloc(cbTrailer != 0 ? cbTrailer : 1);
	if (trailer == NULL) {
		Check("malloc", 0);
		return;
	}
	memcpy(data, text, sizeof data);
	bufs[0].BufferType = SECBUFFER_DATA;
	bufs[0].cbBuffer = sizeof data;
	bufs[0].pvBuffer = data;
	bufs[1].BufferType = SECBUFFER_TOKEN;
	bufs[1].cbBuffer = pSizes->cbMaxSignature;
	bufs[1].pvBuffer = trailer;
	msg.ulVersion = SECBUFFER_VERSION;
	msg.cBuffers = 2;
	msg.pBuffers = bufs;

	snprintf(what, sizeof what, "%s MakeSignature", dir);
	Expect(what, t->MakeSignature(phFrom, 0, &msg, 0), SEC_E_OK);
	snprintf(what, sizeof what, "%s VerifySignature", dir);
	Expect(what, t->VerifySignature(phTo, &msg, 0, &qop), SEC_E_OK);

	if (fSeal) {
		bufs[1].cbBuffer = pSizes->cbSecurityTrailer;
		snprintf(what, sizeof what, "%s EncryptMessage", dir);
		Expect(what, t->EncryptMessage(phFrom, 0, &msg, 0), SEC_E_OK);
		Check("EncryptMessage changed the data", memcmp(data, text, sizeof data) != 0);
		snprintf(what, sizeof what, "%s DecryptMessage", dir);
		Expect(what, t->DecryptMessage(phTo, &msg, 0, &qop), SEC_E_OK);
		Check("DecryptMessage gave the plaintext back", memcmp(data, text, sizeof data) == 0);
	}

	/* Last, since a failed check may use up the receiver's sequence state. */
	bufs[1].cbBuffer = pSizes->cbMaxSignature;
	snprintf(what, sizeof what, "%s MakeSignature (to tamper)", dir);
	Expect(what, t->MakeSignature(phFrom, 0, &msg, 0), SEC_E_OK);
	data[0] ^= 1;
	snprintf(what, sizeof what, "%s VerifySignature (tampered)", dir);
	Expect(what, t->VerifySignature(phTo, &msg, 0, &qop), SEC_E_MESSAGE_ALTERED);
	free(trailer);
}

int main(int argc, char **argv)
{
	const struct PortCase *pc = NULL;
	SEC_WINNT_AUTH_IDENTITY_EX identity;
	CredHandle hClientCred, hServerCred;
	CtxtHandle hClient, hServer;
	BOOLEAN haveClient = FALSE, haveServer = FALSE, haveClientCred = FALSE, haveServerCred = FALSE;
	TimeStamp lifetime;
	PSecPkgInfo pInfo = NULL, pList = NULL;
	unsigned long cPackages = 0, cbMaxToken = 0, fCapabilities = 0;
	unsigned long clientAttrs = 0, serverAttrs = 0;
	unsigned char *serverBuf = NULL;
	unsigned long cbServerBuf = SERVER_FIRST_ROOM;
	unsigned char wire[4096];
	unsigned long cbWire = 0;
	unsigned retries = 0;
	SecPkgContext_Sizes clientSizes, serverSizes;
	SECURITY_STATUS ss;
	unsigned long i;
	int leg;

	for (i = 0; argc == 2 && i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(argv[1], cases[i].name) == 0)
			pc = &cases[i];
	if (pc == NULL) {
		fprintf(stderr, "usage: porting SspiAsyncTest|NTLM\n");
		return 2;
	}

	t = InitSecurityInterface();
	if (t == NULL || t->dwVersion < SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION ||
	    t->EncryptMessage == NULL || t->DecryptMessage == NULL) {
		fprintf(stderr, "porting: InitSecurityInterface gave no usable table\n");
		return 1;
	}

	/* Is the package there?  Its cbMaxToken bounds the server's buffer. */
	ss = t->EnumerateSecurityPackages(&cPackages, &pList);
	if (Expect("EnumerateSecurityPackages", ss, SEC_E_OK)) {
		BOOLEAN found = FALSE;
		for (i = 0; i < cPackages; i++)
			found |= SecEqual(pList[i].Name, pc->package);
		Check("EnumerateSecurityPackages lists the package", found);
		Expect("FreeContextBuffer(package list)", t->FreeContextBuffer(pList), SEC_E_OK);
	}
	ss = t->QuerySecurityPackageInfo(pc->package, &pInfo);
	if (!Expect("QuerySecurityPackageInfo", ss, SEC_E_OK))
		return 1;
	cbMaxToken = pInfo->cbMaxToken;
	fCapabilities = pInfo->fCapabilities;
	Check("cbMaxToken > SERVER_FIRST_ROOM", cbMaxToken > SERVER_FIRST_ROOM);
	Expect("FreeContextBuffer(package info)", t->FreeContextBuffer(pInfo), SEC_E_OK);

	/* The client's explicit identity, as Windows code fills it. */
	memset(&identity, 0, sizeof identity);
	identity.Version = SEC_WINNT_AUTH_IDENTITY_VERSION;
	identity.Length = sizeof identity;
	identity.User = (IDENTITY_CHAR *)USER_NAME;
	identity.UserLength = SecLen(USER_NAME);
	identity.Domain = (IDENTITY_CHAR *)USER_DOMAIN;
	identity.DomainLength = SecLen(USER_DOMAIN);
	identity.Password = (IDENTITY_CHAR *)USER_PASSWORD;
	identity.PasswordLength = SecLen(USER_PASSWORD);
	identity.Flags = IDENTITY_FORM;
	identity.PackageList = (IDENTITY_CHAR *)pc->package;
	identity.PackageListLength = SecLen(pc->package);

	ss = t->AcquireCredentialsHandle(NULL, pc->package, SECPKG_CRED_OUTBOUND, NULL, &identity,
		NULL, NULL, &hClientCred, &lifetime);
	haveClientCred = Expect("AcquireCredentialsHandle (client, EX identity)", ss, SEC_E_OK);
	/* The acceptor holds the same identity: the test package then admits
	 * only that user with that password; NTLM's acceptor checks the client
	 * against its user store (NTLM_USER_FILE) whatever it holds. */
	ss = t->AcquireCredentialsHandle(NULL, pc->package, SECPKG_CRED_INBOUND, NULL, &identity,
		NULL, NULL, &hServerCred, &lifetime);
	haveServerCred = Expect("AcquireCredentialsHandle (server)", ss, SEC_E_OK);
	serverBuf = malloc(cbServerBuf);
	if (serverBuf == NULL)
		Check("malloc", 0);

	/* Legs 1 and 3 the client's, 2 and 4 the server's: continue, continue,
	 * done with a token, done without one. */
	for (leg = 1; leg <= LEGS && failures == 0; leg++) {
		SECURITY_STATUS want = leg <= 2 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK;
		unsigned long cbOut = 0;
		if (leg % 2 == 1) {
			void *pvOut = NULL;
			ss = ClientLeg(&hClientCred, &hClient, haveClient, pc->target,
				cbWire != 0 ? wire : NULL, cbWire, &pvOut, &cbOut, &clientAttrs);
			if (ss == SEC_E_OK || ss == SEC_I_CONTINUE_NEEDED)
				haveClient = TRUE;
			if (cbOut <= sizeof wire && pvOut != NULL)
				memcpy(wire, pvOut, cbOut);
			else if (cbOut != 0)
				Check("the client's token fits the wire", 0);
			if (pvOut != NULL)
				Expect("FreeContextBuffer(token)", t->FreeContextBuffer(pvOut), SEC_E_OK);
			Expect(leg == 1 ? "InitializeSecurityContext (leg 1)"
					: "InitializeSecurityContext (leg 3)", ss, want);
		} else {
			ss = ServerLeg(&hServerCred, &hServer, haveServer, wire, cbWire, &serverBuf,
				&cbServerBuf, cbMaxToken, &cbOut, &serverAttrs, &retries);
			if (ss == SEC_E_OK || ss == SEC_I_CONTINUE_NEEDED)
				haveServer = TRUE;
			if (cbOut != 0)
				memcpy(wire, serverBuf, cbOut);
			Expect(leg == 2 ? "AcceptSecurityContext (leg 2)"
					: "AcceptSecurityContext (leg 4)", ss, want);
		}
		if (ss == want)
			Check(leg < LEGS ? "a token to send" : "no token after the last leg",
				(cbOut != 0) == (leg < LEGS));
		cbWire = cbOut;
	}
	Check("the server's first buffer was grown and the leg retried", retries > 0);
	printf("porting: %s handshake, server buffer grown to %lu bytes in %u retries\n",
		pc->name, cbServerBuf, retries);

	if (failures == 0) {
		/* Seal only what the package offers and both sides granted. */
		BOOLEAN seal = (fCapabilities & SECPKG_FLAG_PRIVACY) &&
			(clientAttrs & ISC_RET_CONFIDENTIALITY) &&
			(serverAttrs & ASC_RET_CONFIDENTIALITY);
		Check("the package signs", (fCapabilities & SECPKG_FLAG_INTEGRITY) != 0);
		Check("confidentiality granted where offered",
			seal || !(fCapabilities & SECPKG_FLAG_PRIVACY));
		printf("porting: %s messages: signed%s\n", pc->name, seal ? " and sealed" : "");
		Attributes("client", &hClient, pc, cbMaxToken, &clientSizes);
		Attributes("server", &hServer, pc, cbMaxToken, &serverSizes);
		if (failures == 0) {
			Messages("client->server", &hClient, &hServer, &clientSizes, seal);
			Messages("server->client", &hServer, &hClient, &serverSizes, seal);
		}
	}

	free(serverBuf);
	if (haveClient)
		Expect("DeleteSecurityContext (client)", t->DeleteSecurityContext(&hClient), SEC_E_OK);
	if (haveServer)
		Expect("DeleteSecurityContext (server)", t->DeleteSecurityContext(&hServer), SEC_E_OK);
	if (haveClientCred)
		Expect("FreeCredentialsHandle (client)", t->FreeCredentialsHandle(&hClientCred),
			SEC_E_OK);
	if (haveServerCred)
		Expect("FreeCredentialsHandle (server)", t->FreeCredentialsHandle(&hServerCred),
			SEC_E_OK);

#ifndef _WIN32
	/* Not Windows: sspiasync's one extension, so Valgrind sees 0 bytes in use. */
	sspiasync_shutdown();
#endif
	if (failures != 0) {
		fprintf(stderr, "porting: %s: %d check(s) failed\n", pc->name, failures);
		return 1;
	}
	printf("porting: %s: 4 legs, attributes, messages both ways, ok\n", pc->name);
	return 0;
}
