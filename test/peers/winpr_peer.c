/*
 * test/peers/winpr_peer.c - an NTLM interop peer that drives WinPR 2's NTLM
 * through WinPR's SSPI (the function table of InitSecurityInterfaceExA).
 * WinPR's SSPI names clash with sspiasync's, so this is a separate process
 * and includes WinPR headers only.  The test driver runs it as a child and
 * talks frames (peer_proto.h) over its stdin/stdout; see README.md.
 *
 *   winpr_peer client --user DOM\user --password PW [--target SVC/host] [--no-sign]
 *   winpr_peer server --user-file PATH [--no-sign]
 *
 * The acceptor: WinPR's NTLM server finds the client's key in a "SAM file"
 * named by SetContextAttributes(SECPKG_ATTR_AUTH_NTLM_SAM_FILE) (default
 * /etc/winpr/SAM).  That file has lines User:Domain:LmHash:NtHash::: with
 * hashes as 32 hex digits (an empty LmHash is fine); the lookup is exact and
 * case-sensitive on User and Domain as they arrive in the AUTHENTICATE, and
 * falls back to an entry with an empty Domain.  We write one in a temporary
 * file from the DOMAIN:user:password lines of --user-file (NtHash =
 * MD4(UTF-16LE(password)), by WinPR's NTOWFv1W) and set it on the context
 * after the first AcceptSecurityContext (the context does not exist before,
 * and the file is read only when the AUTHENTICATE is checked).
 *
 * WinPR 2.11 facts this relies on: MakeSignature/VerifySignature answer
 * SEC_E_UNSUPPORTED_FUNCTION (so tests pass --no-sign); EncryptMessage and
 * DecryptMessage take the sequence number from MessageSeqNo, not from a
 * counter of their own, so we count; EncryptMessage matches buffer types with
 * '&', so it gets exactly TOKEN + DATA; the acceptor's last leg answers
 * SEC_I_COMPLETE_NEEDED and the verdict comes from CompleteAuthToken; the
 * authenticated user is SECPKG_ATTR_AUTH_IDENTITY on the server context.
 */
#include <winpr/ntlm.h>
#include <winpr/sspi.h>
#include <winpr/string.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_common.h"

static char sam_path[256];
static SecurityFunctionTableA *sspi;

static void remove_sam(void)
{
	if (sam_path[0] != '\0') {
		(void)unlink(sam_path);
		sam_path[0] = '\0';
	}
}

static void status_text(char *dst, size_t cap, const char *what, SECURITY_STATUS st)
{
	snprintf(dst, cap, "%s: %s (0x%08lx)", what, GetSecurityStatusString(st),
		 (unsigned long)(uint32_t)st);
}

static _Noreturn void sspi_fail(const char *what, SECURITY_STATUS st)
{
	char text[512];

	status_text(text, sizeof text, what, st);
	fail("%s", text);
}

static void set_buf(SecBuffer *b, ULONG type, void *p, size_t len)
{
	b->BufferType = type;
	b->pvBuffer = p;
	b->cbBuffer = (ULONG)len;
}

/* Both roles: sign, seal, check the other side's signed and sealed
 * messages, then K("ok") or K(what went wrong). */
static void message_phase(CtxtHandle *ctx, const struct opts *o)
{
	char mine_sign[128], mine_seal[128], want_sign[128], want_seal[128];
	char err[1024] = "", text[512];
	unsigned char sig[PEER_SIG_LEN];
	SecBuffer bufs[2];
	SecBufferDesc desc = { SECBUFFER_VERSION, 2, bufs };
	SECURITY_STATUS st;
	ULONG send_seq = 0, recv_seq = 0, qop = 0;
	unsigned char tag;
	size_t len, l;

	snprintf(mine_sign, sizeof mine_sign, "%s signs this", o->says);
	snprintf(mine_seal, sizeof mine_seal, "%s seals this", o->says);
	snprintf(want_sign, sizeof want_sign, "%s signs this", o->expects);
	snprintf(want_seal, sizeof want_seal, "%s seals this", o->expects);

	if (!o->no_sign) {
		l = strlen(mine_sign);
		memcpy(wbuf + PEER_SIG_LEN, mine_sign, l);
		set_buf(&bufs[0], SECBUFFER_DATA, wbuf + PEER_SIG_LEN, l);
		set_buf(&bufs[1], SECBUFFER_TOKEN, wbuf, PEER_SIG_LEN);
		st = sspi->MakeSignature(ctx, 0, &desc, send_seq++);
		if (st != SEC_E_OK)
			sspi_fail("MakeSignature", st);
		send_frame(PEER_TAG_SIGNED, wbuf, PEER_SIG_LEN + l);
	}

	/* TOKEN (the 16-byte signature) then DATA (sealed in place). */
	l = strlen(mine_seal);
	memcpy(wbuf + PEER_SIG_LEN, mine_seal, l);
	set_buf(&bufs[0], SECBUFFER_TOKEN, wbuf, PEER_SIG_LEN);
	set_buf(&bufs[1], SECBUFFER_DATA, wbuf + PEER_SIG_LEN, l);
	st = sspi->EncryptMessage(ctx, 0, &desc, send_seq++);
	if (st != SEC_E_OK)
		sspi_fail("EncryptMessage", st);
	send_frame(PEER_TAG_SEALED, wbuf, PEER_SIG_LEN + l);

	if (!o->no_sign) {
		tag = recv_frame(&len);
		if (tag != PEER_TAG_SIGNED)
			fail("expected an M frame, got '%c'", tag);
		if (len < PEER_SIG_LEN) {
			note(err, sizeof err, "M frame shorter than a signature");
		} else {
			memcpy(sig, rbuf, PEER_SIG_LEN);
			set_buf(&bufs[0], SECBUFFER_DATA, rbuf + PEER_SIG_LEN, len - PEER_SIG_LEN);
			set_buf(&bufs[1], SECBUFFER_TOKEN, sig, PEER_SIG_LEN);
			st = sspi->VerifySignature(ctx, &desc, recv_seq++, &qop);
			if (st != SEC_E_OK) {
				status_text(text, sizeof text, "VerifySignature", st);
				note(err, sizeof err, text);
			} else if (len - PEER_SIG_LEN != strlen(want_sign) ||
				   memcmp(rbuf + PEER_SIG_LEN, want_sign, len - PEER_SIG_LEN) != 0) {
				note(err, sizeof err, "signed text differs");
			}
		}
	}

	tag = recv_frame(&len);
	if (tag != PEER_TAG_SEALED)
		fail("expected a W frame, got '%c'", tag);
	if (len < PEER_SIG_LEN) {
		note(err, sizeof err, "W frame shorter than a signature");
	} else {
		memcpy(sig, rbuf, PEER_SIG_LEN);
		set_buf(&bufs[0], SECBUFFER_TOKEN, sig, PEER_SIG_LEN);
		set_buf(&bufs[1], SECBUFFER_DATA, rbuf + PEER_SIG_LEN, len - PEER_SIG_LEN);
		st = sspi->DecryptMessage(ctx, &desc, recv_seq++, &qop);
		if (st != SEC_E_OK) {
			status_text(text, sizeof text, "DecryptMessage", st);
			note(err, sizeof err, text);
		} else if (bufs[1].cbBuffer != strlen(want_seal) ||
			   memcmp(bufs[1].pvBuffer, want_seal, bufs[1].cbBuffer) != 0) {
			note(err, sizeof err, "sealed text differs");
		}
	}

	if (err[0] != '\0')
		fprintf(stderr, "winpr_peer: %s\n", err);
	if (peer_write_text(out_fd, PEER_TAG_ACK, err[0] != '\0' ? err : "ok") != 0)
		fail("writing K: %s", strerror(errno));
}

/* An R in place of the next token: the acceptor has decided. */
static void run_client(const struct opts *o)
{
	SEC_WINNT_AUTH_IDENTITY id;
	CredHandle cred;
	CtxtHandle ctx;
	TimeStamp expiry;
	SecBuffer inb, outb;
	SecBufferDesc ind = { SECBUFFER_VERSION, 1, &inb };
	SecBufferDesc outd = { SECBUFFER_VERSION, 1, &outb };
	SECURITY_STATUS st;
	ULONG attrs = 0;
	const ULONG req = ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY;
	char domain[256], target[512];
	const char *user = o->user;
	const char *bs = strchr(o->user, '\\');
	unsigned char tag;
	size_t len;
	int first = 1;

	memset(&id, 0, sizeof id);
	domain[0] = '\0';
	if (bs != NULL) {
		snprintf(domain, sizeof domain, "%.*s", (int)(bs - o->user), o->user);
		user = bs + 1;
	}
	if (sspi_SetAuthIdentity(&id, user, bs != NULL ? domain : NULL, o->password) < 0)
		fail("sspi_SetAuthIdentity failed");
	st = sspi->AcquireCredentialsHandleA(NULL, (SEC_CHAR *)"NTLM", SECPKG_CRED_OUTBOUND, NULL,
					     &id, NULL, NULL, &cred, &expiry);
	free(id.User);
	free(id.Domain);
	free(id.Password);
	if (st != SEC_E_OK)
		sspi_fail("AcquireCredentialsHandle", st);
	if (o->target != NULL)
		snprintf(target, sizeof target, "%s", o->target);

	for (;;) {
		set_buf(&outb, SECBUFFER_TOKEN, wbuf, sizeof wbuf);
		st = sspi->InitializeSecurityContextA(&cred, first ? NULL : &ctx,
						      o->target != NULL ? target : NULL, req, 0,
						      SECURITY_NATIVE_DREP, first ? NULL : &ind, 0,
						      &ctx, &outd, &attrs, &expiry);
		first = 0;
		if (st == SEC_I_COMPLETE_NEEDED || st == SEC_I_COMPLETE_AND_CONTINUE) {
			SECURITY_STATUS c = sspi->CompleteAuthToken(&ctx, &outd);
			if (c != SEC_E_OK)
				sspi_fail("CompleteAuthToken", c);
			st = st == SEC_I_COMPLETE_NEEDED ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
		}
		if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
			sspi_fail("InitializeSecurityContext", st);
		if (outb.cbBuffer > 0)
			send_frame(PEER_TAG_TOKEN, outb.pvBuffer, outb.cbBuffer);
		if (st == SEC_E_OK)
			break;
		tag = recv_frame(&len);
		if (tag == PEER_TAG_RESULT) {
			client_result(len);
			fail("R with status 0 before the handshake completed");
		}
		if (tag != PEER_TAG_TOKEN)
			fail("expected a T frame, got '%c'", tag);
		set_buf(&inb, SECBUFFER_TOKEN, rbuf, len);
	}

	tag = recv_frame(&len);
	if (tag != PEER_TAG_RESULT)
		fail("expected an R frame, got '%c'", tag);
	client_result(len);
	message_phase(&ctx, o);

	sspi->DeleteSecurityContext(&ctx);
	sspi->FreeCredentialsHandle(&cred);
}

/* Writes the SAM file for the DOMAIN:user:password lines of path. */
static void make_sam(const char *path)
{
	const char *tmp = getenv("TMPDIR");
	char line[1024];
	FILE *in, *out;
	int fd, n = 0;

	snprintf(sam_path, sizeof sam_path, "%s/winpr_peer_sam.XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	fd = mkstemp(sam_path);
	if (fd < 0) {
		sam_path[0] = '\0';
		fail("mkstemp: %s", strerror(errno));
	}
	atexit(remove_sam);
	out = fdopen(fd, "w");
	in = fopen(path, "r");
	if (out == NULL || in == NULL)
		fail("opening %s: %s", in == NULL ? path : sam_path, strerror(errno));
	while (fgets(line, sizeof line, in) != NULL) {
		char *dom = line, *user, *pw, *end;
		WCHAR *pw16 = NULL;
		BYTE nt[16];
		int nw, i;

		end = line + strcspn(line, "\r\n");
		*end = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		user = strchr(dom, ':');
		pw = user != NULL ? strchr(user + 1, ':') : NULL;
		if (pw == NULL)
			fail("%s: not DOMAIN:user:password: %s", path, line);
		*user++ = '\0';
		*pw++ = '\0';
		nw = ConvertToUnicode(CP_UTF8, 0, pw, -1, &pw16, 0);
		if (nw <= 0 || !NTOWFv1W(pw16, (UINT32)(nw - 1) * sizeof(WCHAR), nt))
			fail("computing the NT hash of %s's password", user);
		free(pw16);
		fprintf(out, "%s:%s::", user, dom);
		for (i = 0; i < 16; i++)
			fprintf(out, "%02x", nt[i]);
		fprintf(out, ":::\n");
		n++;
	}
	fclose(in);
	if (fclose(out) != 0)
		fail("writing %s: %s", sam_path, strerror(errno));
	if (n == 0)
		fail("%s has no users", path);
}

static void run_server(const struct opts *o)
{
	CredHandle cred;
	CtxtHandle ctx;
	TimeStamp expiry;
	SecBuffer inb, outb;
	SecBufferDesc ind = { SECBUFFER_VERSION, 1, &inb };
	SecBufferDesc outd = { SECBUFFER_VERSION, 1, &outb };
	SecPkgContext_AuthIdentity ai;
	SECURITY_STATUS st;
	ULONG attrs = 0;
	const ULONG req = ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY;
	char name[600], text[512];
	unsigned char tag;
	size_t len;
	int first = 1;

	make_sam(o->user_file);
	/* No identity: the key must come from the SAM file (with one, WinPR
	 * would check every client against the server's own password). */
	st = sspi->AcquireCredentialsHandleA(NULL, (SEC_CHAR *)"NTLM", SECPKG_CRED_INBOUND, NULL,
					     NULL, NULL, NULL, &cred, &expiry);
	if (st != SEC_E_OK)
		sspi_fail("AcquireCredentialsHandle", st);

	for (;;) {
		tag = recv_frame(&len);
		if (tag != PEER_TAG_TOKEN)
			fail("expected a T frame, got '%c'", tag);
		set_buf(&inb, SECBUFFER_TOKEN, rbuf, len);
		set_buf(&outb, SECBUFFER_TOKEN, wbuf, sizeof wbuf);
		st = sspi->AcceptSecurityContext(&cred, first ? NULL : &ctx, &ind, req,
						 SECURITY_NATIVE_DREP, &ctx, &outd, &attrs, &expiry);
		if (first && st == SEC_I_CONTINUE_NEEDED) {
			SECURITY_STATUS s2 = sspi->SetContextAttributesA(
				&ctx, SECPKG_ATTR_AUTH_NTLM_SAM_FILE, sam_path,
				(ULONG)strlen(sam_path) + 1);
			if (s2 != SEC_E_OK)
				sspi_fail("SetContextAttributes(SAM_FILE)", s2);
		}
		first = 0;
		if (st == SEC_I_COMPLETE_NEEDED || st == SEC_I_COMPLETE_AND_CONTINUE) {
			SECURITY_STATUS c = sspi->CompleteAuthToken(&ctx, &outd);
			st = c != SEC_E_OK ? c
					   : st == SEC_I_COMPLETE_NEEDED ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
		}
		if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
			status_text(text, sizeof text, "AcceptSecurityContext", st);
			fprintf(stderr, "winpr_peer: rejecting: %s\n", text);
			if (peer_write_result(out_fd, (uint32_t)st, NULL) != 0)
				fail("writing R: %s", strerror(errno));
			exit(0);
		}
		if (st == SEC_I_CONTINUE_NEEDED) {
			send_frame(PEER_TAG_TOKEN, outb.pvBuffer, outb.cbBuffer);
			continue;
		}
		if (outb.cbBuffer > 0)
			fail("the acceptor produced a final token; the protocol has no room for it");
		break;
	}
	remove_sam();

	memset(&ai, 0, sizeof ai);
	st = sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_AUTH_IDENTITY, &ai);
	if (st != SEC_E_OK)
		sspi_fail("QueryContextAttributes(AUTH_IDENTITY)", st);
	if (ai.Domain[0] != '\0')
		snprintf(name, sizeof name, "%s\\%s", ai.Domain, ai.User);
	else
		snprintf(name, sizeof name, "%s", ai.User);
	if (peer_write_result(out_fd, 0, name) != 0)
		fail("writing R: %s", strerror(errno));

	message_phase(&ctx, o);

	sspi->DeleteSecurityContext(&ctx);
	sspi->FreeCredentialsHandle(&cred);
}

int main(int argc, char **argv)
{
	struct opts o;

	/* WLog's console appender prints to stdout: peer_stdio_init sends it
	 * to stderr. */
	peer_name = "winpr_peer";
	peer_stdio_init();
	parse(argc, argv, &o);
	sspi = InitSecurityInterfaceExA(0);
	if (sspi == NULL)
		fail("InitSecurityInterfaceExA failed");
	if (o.server)
		run_server(&o);
	else
		run_client(&o);
	return 0;
}
