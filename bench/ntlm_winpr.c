/*
 * bench/ntlm_winpr.c - the WinPR baseline of bench/ntlm.sh: NTLM handshakes
 * per second through WinPR 2's SSPI (libwinpr2, pkg-config winpr2), client
 * and server in this process, the same user, password, target and request
 * flags as bench/ntlm.c.  WinPR's SSPI names are the library's too, so this
 * is its own program and sees WinPR's headers only.
 *
 * A handshake: ISC -> NEGOTIATE, ASC -> CHALLENGE, ISC -> AUTHENTICATE,
 * ASC -> done (WinPR's last acceptor leg answers SEC_I_COMPLETE_NEEDED and
 * gives its verdict in CompleteAuthToken, which is part of the handshake
 * here), then both contexts deleted.  Both credentials are acquired once.
 *
 * Where WinPR's acceptor gets the client's key (ntlm_compute_ntlm_v2_hash in
 * WinPR's NTLM): from a hash set on the server context with
 * SetContextAttributes(SECPKG_ATTR_AUTH_NTLM_HASH) (version 1: the NT hash;
 * WinPR then computes NTOWFv2 from it and the names the client sent), else
 * from a "SAM file" (SECPKG_ATTR_AUTH_NTLM_SAM_FILE, default /etc/winpr/SAM:
 * lines User:Domain:LmHash:NtHash:::), opened, read and parsed on every
 * AUTHENTICATE.  Both are attributes of the context, so they are set after
 * the first AcceptSecurityContext of every handshake (the context does not
 * exist before).  Two modes:
 *   hash   the NT hash set on each server context (what our package does
 *          with its user file, which it reads once at acquire: the fair
 *          comparison, and WinPR's faster mode)
 *   sam    a SAM file written by this program (mkstemp, removed at exit),
 *          named on each server context
 *
 *   ntlm_winpr round hash|sam N        warm-up N/10, then N timed handshakes;
 *                                      prints "ntlm-round winpr-MODE HS/S CPU_US"
 *                                      (CPU_US: process CPU time per handshake)
 *   ntlm_winpr --callgrind hash|sam N  N handshakes; prints "callgrind-ops N"
 *
 * Exit status 0, or 2 when a call fails unexpectedly.
 */
#define _DEFAULT_SOURCE /* mkstemp */

#include <winpr/ntlm.h>
#include <winpr/sspi.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "bench/ntlm_winpr"
#include "ntlm_bench.h"

#define TOK 2888
#define BENCH_TARGET "HTTP/server.test"
#define REQ_C (ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_REPLAY_DETECT | \
	       ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONNECTION)
#define REQ_S (ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY | ASC_REQ_REPLAY_DETECT | \
	       ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONNECTION)

static SecurityFunctionTableA *g_sspi;
static int g_sam_mode;
static char g_sam_path[64];
static SecPkgContext_AuthNtlmHash g_hash;

static _Noreturn void die_status(const char *what, SECURITY_STATUS st)
{
	fprintf(stderr, "bench/ntlm_winpr: %s: %s (0x%08lx)\n", what, GetSecurityStatusString(st),
		(unsigned long)(uint32_t)st);
	exit(2);
}

static void remove_sam(void)
{
	if (g_sam_path[0] != '\0')
		unlink(g_sam_path);
}

/* The NT hash of our password, and (sam mode) the SAM file: the same users
 * as bench/ntlm.c's user file, ours last. */
static void keys_setup(void)
{
	char pw[] = BENCH_PASSWORD;
	g_hash.Version = 1;
	if (!NTOWFv1A(pw, (UINT32)strlen(pw), g_hash.NtlmHash))
		die("NTOWFv1A");
	if (!g_sam_mode)
		return;
	const char *tmp = getenv("TMPDIR");
	snprintf(g_sam_path, sizeof g_sam_path, "%s/sa_bench_samXXXXXX",
		 tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 32 ? tmp : "/tmp");
	int fd = mkstemp(g_sam_path);
	if (fd < 0) {
		g_sam_path[0] = '\0';
		die("mkstemp (SAM file)");
	}
	atexit(remove_sam);
	FILE *f = fdopen(fd, "w");
	if (f == NULL)
		die("fdopen");
	static const char *const users[][3] = {
		{"bob", "OTHER", "pw:with:colons"},
		{"carol", "", "anydomain"},
		{BENCH_USER, BENCH_DOMAIN, BENCH_PASSWORD},
	};
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
		char p[64];
		BYTE h[16];
		snprintf(p, sizeof p, "%s", users[i][2]);
		if (!NTOWFv1A(p, (UINT32)strlen(p), h))
			die("NTOWFv1A");
		fprintf(f, "%s:%s::", users[i][0], users[i][1]);
		for (int k = 0; k < 16; k++)
			fprintf(f, "%02x", h[k]);
		fprintf(f, ":::\n");
	}
	if (fclose(f) != 0)
		die("writing the SAM file");
}

static void creds_acquire(CredHandle cred[2])
{
	SEC_WINNT_AUTH_IDENTITY id;
	TimeStamp exp;
	memset(&id, 0, sizeof id);
	if (sspi_SetAuthIdentity(&id, BENCH_USER, BENCH_DOMAIN, BENCH_PASSWORD) < 0)
		die("sspi_SetAuthIdentity");
	SECURITY_STATUS st = g_sspi->AcquireCredentialsHandleA(NULL, (SEC_CHAR *)"NTLM",
							       SECPKG_CRED_OUTBOUND, NULL, &id,
							       NULL, NULL, &cred[0], &exp);
	free(id.User);
	free(id.Domain);
	free(id.Password);
	if (st != SEC_E_OK)
		die_status("AcquireCredentialsHandleA (outbound)", st);
	st = g_sspi->AcquireCredentialsHandleA(NULL, (SEC_CHAR *)"NTLM", SECPKG_CRED_INBOUND, NULL,
					       NULL, NULL, NULL, &cred[1], &exp);
	if (st != SEC_E_OK)
		die_status("AcquireCredentialsHandleA (inbound)", st);
}

/* A leg that may need CompleteAuthToken: its final status. */
static SECURITY_STATUS completed(CtxtHandle *ctx, SecBufferDesc *out, SECURITY_STATUS st)
{
	if (st == SEC_I_COMPLETE_NEEDED || st == SEC_I_COMPLETE_AND_CONTINUE) {
		SECURITY_STATUS c = g_sspi->CompleteAuthToken(ctx, out);
		if (c != SEC_E_OK)
			return c;
		return st == SEC_I_COMPLETE_NEEDED ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
	}
	return st;
}

static void handshakes(CredHandle cred[2], unsigned long n)
{
	static BYTE t1[TOK], t2[TOK], t3[TOK], t4[TOK];
	char target[] = BENCH_TARGET;
	for (unsigned long i = 0; i < n; i++) {
		CtxtHandle c, s;
		ULONG attrs;
		TimeStamp exp;
		SecBuffer o1 = {TOK, SECBUFFER_TOKEN, t1}, o2 = {TOK, SECBUFFER_TOKEN, t2},
			  o3 = {TOK, SECBUFFER_TOKEN, t3}, o4 = {TOK, SECBUFFER_TOKEN, t4};
		SecBufferDesc d1 = {SECBUFFER_VERSION, 1, &o1}, d2 = {SECBUFFER_VERSION, 1, &o2},
			      d3 = {SECBUFFER_VERSION, 1, &o3}, d4 = {SECBUFFER_VERSION, 1, &o4};
		SECURITY_STATUS st;
		st = g_sspi->InitializeSecurityContextA(&cred[0], NULL, target, REQ_C, 0,
							SECURITY_NATIVE_DREP, NULL, 0, &c, &d1,
							&attrs, &exp);
		if (completed(&c, &d1, st) != SEC_I_CONTINUE_NEEDED)
			die_status("leg 1 (ISC)", st);
		SecBuffer i2 = {o1.cbBuffer, SECBUFFER_TOKEN, t1};
		SecBufferDesc id2 = {SECBUFFER_VERSION, 1, &i2};
		st = g_sspi->AcceptSecurityContext(&cred[1], NULL, &id2, REQ_S, SECURITY_NATIVE_DREP,
						   &s, &d2, &attrs, &exp);
		if (completed(&s, &d2, st) != SEC_I_CONTINUE_NEEDED)
			die_status("leg 2 (ASC)", st);
		if (g_sam_mode)
			st = g_sspi->SetContextAttributesA(&s, SECPKG_ATTR_AUTH_NTLM_SAM_FILE,
							   g_sam_path, (ULONG)strlen(g_sam_path) + 1);
		else
			st = g_sspi->SetContextAttributesA(&s, SECPKG_ATTR_AUTH_NTLM_HASH, &g_hash,
							   sizeof g_hash);
		if (st != SEC_E_OK)
			die_status("SetContextAttributesA (server key)", st);
		SecBuffer i3 = {o2.cbBuffer, SECBUFFER_TOKEN, t2};
		SecBufferDesc id3 = {SECBUFFER_VERSION, 1, &i3};
		st = g_sspi->InitializeSecurityContextA(&cred[0], &c, target, REQ_C, 0,
							SECURITY_NATIVE_DREP, &id3, 0, &c, &d3,
							&attrs, &exp);
		if ((st = completed(&c, &d3, st)) != SEC_E_OK)
			die_status("leg 3 (ISC)", st);
		SecBuffer i4 = {o3.cbBuffer, SECBUFFER_TOKEN, t3};
		SecBufferDesc id4 = {SECBUFFER_VERSION, 1, &i4};
		st = g_sspi->AcceptSecurityContext(&cred[1], &s, &id4, REQ_S, SECURITY_NATIVE_DREP,
						   &s, &d4, &attrs, &exp);
		if ((st = completed(&s, &d4, st)) != SEC_E_OK)
			die_status("leg 4 (ASC)", st);
		if (g_sspi->DeleteSecurityContext(&c) != SEC_E_OK ||
		    g_sspi->DeleteSecurityContext(&s) != SEC_E_OK)
			die("DeleteSecurityContext");
	}
}

static _Noreturn void usage(const char *prog)
{
	fprintf(stderr, "usage: %s round hash|sam N | --callgrind hash|sam N\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4 || (strcmp(argv[1], "round") != 0 && strcmp(argv[1], "--callgrind") != 0))
		usage(argv[0]);
	if (strcmp(argv[2], "sam") == 0)
		g_sam_mode = 1;
	else if (strcmp(argv[2], "hash") != 0)
		usage(argv[0]);
	char *end;
	errno = 0;
	unsigned long n = strtoul(argv[3], &end, 10);
	if (argv[3][0] < '0' || argv[3][0] > '9' || *end != '\0' || errno != 0 || n == 0)
		usage(argv[0]);
	/* First: it initialises WinPR's crypto (OpenSSL 3's legacy provider, for MD4). */
	if ((g_sspi = InitSecurityInterfaceExA(0)) == NULL)
		die("InitSecurityInterfaceExA");
	keys_setup();
	CredHandle cred[2];
	creds_acquire(cred);
	if (strcmp(argv[1], "--callgrind") == 0) {
		handshakes(cred, n);
		printf("callgrind-ops %lu\n", n);
	} else {
		handshakes(cred, n / 10 + 1);
		double c0 = cpu_s();
		uint64_t t0 = now_ns();
		handshakes(cred, n);
		uint64_t t1 = now_ns();
		double c1 = cpu_s();
		printf("ntlm-round winpr-%s %.1f %.2f\n", argv[2], (double)n * 1e9 / (double)(t1 - t0),
		       (c1 - c0) * 1e6 / (double)n);
	}
	g_sspi->FreeCredentialsHandle(&cred[0]);
	g_sspi->FreeCredentialsHandle(&cred[1]);
	return 0;
}
