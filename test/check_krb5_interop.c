/*
 * test/check_krb5_interop.c - the "Kerberos" and "Negotiate" packages
 * against MIT's GSSAPI (Kerberos 5, and SPNEGO over Kerberos or
 * gss-ntlmssp), run as test/peers/gss_peer in a child process and talked to
 * only through frames (peers/peer_proto.h) on pipes, in a throw-away realm
 * (krb5_realm.h) that main() starts.  Each successful handshake ends with
 * the names checked both ways and messages both ways: the peer's MIC and
 * wrap token through VerifySignature/DecryptMessage, ours through its
 * gss_verify_mic/gss_unwrap.
 *
 * Skipped (passes, with a note) without the KDC tools or in a build without
 * Kerberos and Negotiate; a missing gss_peer is a failure.
 */
#define _DEFAULT_SOURCE /* setenv */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "krb5_realm.h"
#include "krb5_testlib.h"
#include "peer_driver.h"
#include "peers/peer_proto.h"
#include "sspi_testlib.h"
#include "testlib.h"

#define ALICE_NTLM TL_REALM_NAME "\\alice"
#define ABSENT_TARGET "HTTP/absent.host.test" /* in the realm, no such service */

static struct tl_realm realm;
static char tmp_dir[128];
static char user_file[192];
static struct pd_child peer;
static unsigned char fbuf[PEER_MAX_PAYLOAD + 1];

#define NEED_REALM()                                                                           \
	TL_NEED_REALM(&realm, "check_krb5_interop: skipped (no KDC tools, or no "             \
			      "Kerberos/Negotiate in this build)")

/* ---- fixtures -------------------------------------------------------------- */

/* Per TCase, in the runner's process (unchecked): the directory outlives a
 * test that a failed assertion ended before its teardown. */
static void dir_setup(void)
{
	pd_tmpdir_make(tmp_dir, sizeof tmp_dir, "sa_krb5_interop");
}

static void dir_teardown(void)
{
	pd_tmpdir_remove(tmp_dir);
}

/* Per test: NTLM's user file (ours and gss-ntlmssp's), for the fallback. */
static void test_setup(void)
{
	ck_assert_msg(tmp_dir[0] != '\0', "no temporary directory (mkdtemp failed)");
	snprintf(user_file, sizeof user_file, "%s/users", tmp_dir);
	FILE *f = fopen(user_file, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(TL_REALM_NAME ":alice:" TL_REALM_ALICE_PW "\n", f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(setenv("NTLM_USER_FILE", user_file, 1), 0);
}

static void test_teardown(void)
{
	pd_child_reap(&peer);
	teardown();
	unsetenv("NTLM_USER_FILE");
}

/* ---- our side ---------------------------------------------------------------- */

struct side {
	CredHandle cred;
	CtxtHandle ctx;
	int have_cred, have_ctx;
	unsigned long attrs;
	unsigned char out[TOK];
	unsigned long out_len;
};

static SECURITY_STATUS acquire(struct side *s, const char *pkg, unsigned long use,
			       const char *password)
{
	SEC_WINNT_AUTH_IDENTITY_A id = tl_identity(TL_REALM_ALICE, TL_REALM_NAME, password);
	TimeStamp ts;
	SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)pkg, use, NULL,
						       password ? &id : NULL, NULL, NULL, &s->cred,
						       &ts);
	s->have_cred = st == SEC_E_OK;
	return st;
}

static void side_free(struct side *s)
{
	if (s->have_ctx)
		ck_assert_int_eq(DeleteSecurityContext(&s->ctx), SEC_E_OK);
	if (s->have_cred)
		ck_assert_int_eq(FreeCredentialsHandle(&s->cred), SEC_E_OK);
	s->have_ctx = s->have_cred = 0;
}

/* One leg: in == NULL for the client's first; the output into s->out
 * (s->out_len 0 unless the leg succeeded or continues). */
static SECURITY_STATUS side_step(struct side *s, const char *target, const unsigned char *in,
				 size_t in_len)
{
	SECURITY_STATUS st = tl_krb5_leg(&s->cred, &s->ctx, &s->have_ctx, &s->attrs, target, in,
					 (unsigned long)in_len, s->out, &s->out_len);
	if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
		s->out_len = 0;
	return st;
}

/* ---- the peer ------------------------------------------------------------------ */

/* gss_peer with args (NULL-terminated). */
static void peer_start(char *const args[])
{
	pd_peer_start(&peer, tmp_dir, "gss_peer", "gss_peer", args, NULL);
}

/*
 * The message phase (peers/README.md): the peer's M (be32 MIC length || MIC
 * || text) and W (gss_wrap's token), checked here; then our MakeSignature
 * and EncryptMessage output, which the peer checks and acknowledges with K.
 * @ntlm: the context negotiated NTLM (16-byte signature || ciphertext
 * wraps); else Kerberos (RFC 4121 tokens, MIT's with RRC 0, read as a
 * SECBUFFER_STREAM).
 */
static void message_phase(CtxtHandle *ctx, int ntlm)
{
	unsigned char tag, msg[256];
	unsigned long q = 7;
	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(ctx, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	ck_assert_uint_le(sz.cbMaxSignature, 64);
	ck_assert_uint_le(sz.cbSecurityTrailer, 64);
	ck_assert_uint_le(sz.cbBlockSize, 16);

	/* The peer's signed message. */
	size_t len = pd_recv(&peer, PEER_TAG_SIGNED, &tag, fbuf, sizeof fbuf);
	ck_assert_uint_ge(len, PEER_MIC_LEN_LEN);
	size_t ml = peer_get_be32(fbuf);
	ck_assert_uint_le(ml, len - PEER_MIC_LEN_LEN);
	ck_assert_uint_eq(ml, ntlm ? PEER_SIG_LEN : 28); /* AES: interop-facts item 8 */
	{
		unsigned char *mic = fbuf + PEER_MIC_LEN_LEN, *text = mic + ml;
		SecBuffer b[2] = {{(unsigned long)(len - PEER_MIC_LEN_LEN - ml), SECBUFFER_DATA, text},
				  {(unsigned long)ml, SECBUFFER_TOKEN, mic}};
		SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
		SECURITY_STATUS st = VerifySignature(ctx, &d, 0, &q);
		ck_assert_msg(st == SEC_E_OK, "VerifySignature of gss_peer's M: 0x%08x",
			      (unsigned)st);
		ck_assert_uint_eq(q, 0);
		ck_assert_str_eq((const char *)text, "peer signs this");
	}

	/* The peer's sealed message. */
	len = pd_recv(&peer, PEER_TAG_SEALED, &tag, fbuf, sizeof fbuf);
	if (ntlm) {
		ck_assert_uint_gt(len, PEER_SIG_LEN);
		SecBuffer b[2] = {{PEER_SIG_LEN, SECBUFFER_TOKEN, fbuf},
				  {(unsigned long)(len - PEER_SIG_LEN), SECBUFFER_DATA,
				   fbuf + PEER_SIG_LEN}};
		SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
		SECURITY_STATUS st = DecryptMessage(ctx, &d, 0, &q);
		ck_assert_msg(st == SEC_E_OK, "DecryptMessage of gss_peer's W (NTLM): 0x%08x",
			      (unsigned)st);
		ck_assert_uint_eq(q, 0);
		ck_assert_str_eq((const char *)fbuf + PEER_SIG_LEN, "peer seals this");
	} else {
		ck_assert_uint_gt(len, 16);
		ck_assert_uint_eq(fbuf[0], 0x05); /* RFC 4121 wrap token, TOK_ID 05 04 */
		ck_assert_uint_eq(fbuf[1], 0x04);
		ck_assert_uint_eq(fbuf[2] & 0x02, 0x02); /* Sealed */
		SecBuffer b[2] = {{(unsigned long)len, SECBUFFER_STREAM, fbuf},
				  {0, SECBUFFER_DATA, NULL}};
		SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
		SECURITY_STATUS st = DecryptMessage(ctx, &d, 0, &q);
		ck_assert_msg(st == SEC_E_OK,
			      "DecryptMessage of gss_peer's W (RFC 4121, %zu bytes, RRC %u): 0x%08x",
			      len, (unsigned)(fbuf[6] << 8 | fbuf[7]), (unsigned)st);
		ck_assert_uint_eq(q, 0);
		ck_assert_uint_eq(b[1].cbBuffer, strlen("peer seals this"));
		ck_assert_ptr_nonnull(b[1].pvBuffer);
		ck_assert_int_eq(memcmp(b[1].pvBuffer, "peer seals this", b[1].cbBuffer), 0);
	}

	/* Ours, signed: M = be32 MIC length || MIC || text. */
	{
		const char *text = "us signs this";
		size_t n = strlen(text);
		unsigned char mic[64];
		memcpy(msg, text, n);
		SecBuffer b[2] = {{(unsigned long)n, SECBUFFER_DATA, msg},
				  {sz.cbMaxSignature, SECBUFFER_TOKEN, mic}};
		SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
		SECURITY_STATUS st = MakeSignature(ctx, 0, &d, 0);
		ck_assert_msg(st == SEC_E_OK, "MakeSignature: 0x%08x", (unsigned)st);
		ck_assert_uint_eq(b[1].cbBuffer, ntlm ? PEER_SIG_LEN : 28);
		peer_put_be32(fbuf, b[1].cbBuffer);
		memcpy(fbuf + PEER_MIC_LEN_LEN, mic, b[1].cbBuffer);
		memcpy(fbuf + PEER_MIC_LEN_LEN + b[1].cbBuffer, text, n);
		pd_send(&peer, PEER_TAG_SIGNED, fbuf, PEER_MIC_LEN_LEN + b[1].cbBuffer + n);
	}

	/* Ours, sealed: W = TOKEN || DATA [|| PADDING], one gss_wrap token. */
	{
		const char *text = "us seals this";
		size_t n = strlen(text);
		unsigned char hdr[64], pad[16];
		memcpy(msg, text, n);
		SecBuffer b[3] = {{sz.cbSecurityTrailer, SECBUFFER_TOKEN, hdr},
				  {(unsigned long)n, SECBUFFER_DATA, msg},
				  {sz.cbBlockSize, SECBUFFER_PADDING, pad}};
		SecBufferDesc d = {SECBUFFER_VERSION, ntlm ? 2 : 3, b};
		SECURITY_STATUS st = EncryptMessage(ctx, 0, &d, 0);
		ck_assert_msg(st == SEC_E_OK, "EncryptMessage: 0x%08x", (unsigned)st);
		ck_assert_int_ne(memcmp(msg, text, n), 0); /* sealed */
		size_t o = 0;
		for (unsigned i = 0; i < d.cBuffers; i++) {
			memcpy(fbuf + o, b[i].pvBuffer, b[i].cbBuffer);
			o += b[i].cbBuffer;
		}
		if (!ntlm) /* Windows' layout: EC 0, RRC 28 (interop-facts item 8) */
			ck_assert_uint_eq(fbuf[6] << 8 | fbuf[7], 28);
		pd_send(&peer, PEER_TAG_SEALED, fbuf, o);
	}

	len = pd_recv(&peer, PEER_TAG_ACK, &tag, fbuf, sizeof fbuf);
	ck_assert_msg(strcmp((const char *)fbuf, "ok") == 0, "gss_peer on our messages: %s",
		      (const char *)fbuf);
}

/*
 * We accept, gss_peer initiates (args: its command line after "client").
 * Returns our last status; on SEC_E_OK the R (our name) is sent, our server's
 * name and package checked, and the message phase run; else an R with our
 * status, and the peer's exit awaited.
 */
static SECURITY_STATUS we_accept(const char *pkg, char *const args[], const char *want_pkg,
				 const char *want_name)
{
	struct side *s = calloc(1, sizeof *s);
	unsigned char tag;
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(acquire(s, pkg, SECPKG_CRED_INBOUND, NULL), SEC_E_OK);
	peer_start(args);
	SECURITY_STATUS st;
	for (int leg = 0;; leg++) {
		ck_assert_int_lt(leg, 6);
		size_t len = pd_recv(&peer, PEER_TAG_TOKEN, &tag, fbuf, sizeof fbuf);
		st = side_step(s, NULL, fbuf, len);
		if (s->out_len > 0)
			pd_send(&peer, PEER_TAG_TOKEN, s->out, s->out_len);
		if (st != SEC_I_CONTINUE_NEEDED)
			break;
	}
	if (st == SEC_E_OK) {
		ck_assert_uint_eq(s->attrs & (ASC_RET_INTEGRITY | ASC_RET_CONFIDENTIALITY),
				  ASC_RET_INTEGRITY | ASC_RET_CONFIDENTIALITY);
		assert_package(&s->ctx, want_pkg);
		assert_name(&s->ctx, SECPKG_ATTR_NAMES, want_name);
		ck_assert_int_eq(peer_write_result(peer.to, 0, want_name), 0);
		message_phase(&s->ctx, strcmp(want_pkg, "NTLM") == 0);
		pd_child_end(&peer, 0);
	} else {
		ck_assert_int_eq(peer_write_result(peer.to, (uint32_t)st, NULL), 0);
		(void)pd_child_wait(&peer, PD_CHILD_MS);
	}
	side_free(s);
	free(s);
	ck_assert_uint_eq(stats().contexts, 0);
	return st;
}

/*
 * We initiate (@pkg, @password; NULL: no identity, the default ccache),
 * gss_peer accepts (args after "server").  Returns our last status; on
 * SEC_E_OK the peer's R must be 0 and name @want_name, and the message
 * phase runs.
 */
static SECURITY_STATUS we_initiate(const char *pkg, const char *password, const char *target,
				   char *const args[], const char *want_pkg, const char *want_name)
{
	struct side *s = calloc(1, sizeof *s);
	unsigned char tag;
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(acquire(s, pkg, SECPKG_CRED_OUTBOUND, password), SEC_E_OK);
	peer_start(args);
	SECURITY_STATUS st = side_step(s, target, NULL, 0);
	for (int leg = 0; st == SEC_I_CONTINUE_NEEDED || st == SEC_E_OK; leg++) {
		ck_assert_int_lt(leg, 6);
		if (s->out_len > 0)
			pd_send(&peer, PEER_TAG_TOKEN, s->out, s->out_len);
		if (st == SEC_E_OK)
			break;
		size_t len = pd_recv(&peer, 0, &tag, fbuf, sizeof fbuf);
		ck_assert_msg(tag == PEER_TAG_TOKEN,
			      "gss_peer sent '%c' (status 0x%08x, \"%s\") at leg %d; stderr: %s", tag,
			      len >= 4 ? peer_get_be32(fbuf) : 0,
			      tag == PEER_TAG_ERROR ? (const char *)fbuf : "", leg,
			      pd_child_err(&peer));
		st = side_step(s, target, fbuf, len);
	}
	if (st == SEC_E_OK) {
		size_t len = pd_recv(&peer, PEER_TAG_RESULT, &tag, fbuf, sizeof fbuf);
		ck_assert_uint_ge(len, 4);
		ck_assert_msg(peer_get_be32(fbuf) == 0,
			      "gss_peer rejected us: status 0x%08x; stderr: %s", peer_get_be32(fbuf),
			      pd_child_err(&peer));
		ck_assert_str_eq((const char *)fbuf + 4, want_name);
		int ntlm = strcmp(want_pkg, "NTLM") == 0;
		unsigned long need = ISC_RET_INTEGRITY | ISC_RET_CONFIDENTIALITY |
				     (ntlm ? 0 : ISC_RET_MUTUAL_AUTH); /* NTLM has no AP-REP */
		ck_assert_uint_eq(s->attrs & need, need);
		assert_package(&s->ctx, want_pkg);
		message_phase(&s->ctx, ntlm);
		pd_child_end(&peer, 0);
	} else {
		/* The peer waits for a token that never comes: EOF is its E. */
		(void)pd_child_wait(&peer, PD_CHILD_MS);
	}
	side_free(s);
	free(s);
	ck_assert_uint_eq(stats().contexts, 0);
	return st;
}

/* ---- 1-2. Kerberos ------------------------------------------------------------- */

START_TEST(test_krb5_we_initiate_to_mit_acceptor)
{
	NEED_REALM();
	char *args[] = {"server", "--mech", "krb5", NULL};
	ck_assert_int_eq(we_initiate("Kerberos", TL_REALM_ALICE_PW, TARGET, args, "Kerberos", ALICE),
			 SEC_E_OK);
}
END_TEST

START_TEST(test_krb5_mit_initiator_to_us)
{
	NEED_REALM();
	char *args[] = {"client", "--mech", "krb5", "--target", TARGET, "--user", TL_REALM_ALICE,
			"--password", TL_REALM_ALICE_PW, NULL};
	ck_assert_int_eq(we_accept("Kerberos", args, "Kerberos", ALICE), SEC_E_OK);
}
END_TEST

/* ---- 3-5. Negotiate -------------------------------------------------------------- */

START_TEST(test_nego_we_initiate_to_mit_spnego_kerberos)
{
	NEED_REALM();
	char *args[] = {"server", "--mech", "spnego", NULL};
	ck_assert_int_eq(we_initiate("Negotiate", TL_REALM_ALICE_PW, TARGET, args, "Kerberos",
				     ALICE),
			 SEC_E_OK);
}
END_TEST

START_TEST(test_nego_mit_spnego_initiator_to_us_kerberos)
{
	NEED_REALM();
	char *args[] = {"client", "--mech", "spnego", "--target", TARGET, "--user", TL_REALM_ALICE,
			"--password", TL_REALM_ALICE_PW, NULL};
	ck_assert_int_eq(we_accept("Negotiate", args, "Kerberos", ALICE), SEC_E_OK);
}
END_TEST

/* NTLM inside SPNEGO: mechListMIC both ways, RC4 reset after it (item 11). */
START_TEST(test_nego_mit_spnego_ntlm_initiator_to_us)
{
	NEED_REALM();
	char *args[] = {"client", "--mech", "spnego", "--neg-mechs", "ntlm", "--target", TARGET,
			"--user", TL_REALM_NAME "\\alice", "--password", TL_REALM_ALICE_PW, NULL};
	ck_assert_int_eq(we_accept("Negotiate", args, "NTLM", ALICE_NTLM), SEC_E_OK);
}
END_TEST

START_TEST(test_nego_we_fall_back_to_ntlm_with_mit_spnego)
{
	NEED_REALM();
	char *args[] = {"server", "--mech", "spnego", "--user-file", user_file, NULL};
	ck_assert_int_eq(we_initiate("Negotiate", TL_REALM_ALICE_PW, ABSENT_TARGET, args, "NTLM",
				     ALICE_NTLM),
			 SEC_E_OK);
}
END_TEST

/* ---- 6. a kinit-made ccache ------------------------------------------------------ */

START_TEST(test_krb5_kinit_ccache_to_mit_acceptor)
{
	NEED_REALM();
	char cc[TL_REALM_PATH_MAX + 8], env[TL_REALM_PATH_MAX + 16];
	snprintf(cc, sizeof cc, "%s.interop", realm.ccache);
	ck_assert_int_eq(tl_realm_kinit(&realm, TL_REALM_ALICE, TL_REALM_ALICE_PW, cc), 0);
	snprintf(env, sizeof env, "FILE:%s", cc);
	ck_assert_int_eq(setenv("KRB5CCNAME", env, 1), 0);
	char *args[] = {"server", "--mech", "krb5", NULL};
	SECURITY_STATUS st = we_initiate("Kerberos", NULL, TARGET, args, "Kerberos", ALICE);
	snprintf(env, sizeof env, "FILE:%s", realm.ccache);
	ck_assert_int_eq(setenv("KRB5CCNAME", env, 1), 0);
	unlink(cc);
	ck_assert_int_eq(st, SEC_E_OK);
}
END_TEST

/* ---- 7. wrong passwords ----------------------------------------------------------- */

START_TEST(test_krb5_mit_initiator_wrong_password_never_reaches_us)
{
	NEED_REALM();
	struct side *s = calloc(1, sizeof *s);
	unsigned char tag;
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(acquire(s, "Kerberos", SECPKG_CRED_INBOUND, NULL), SEC_E_OK);
	char *args[] = {"client", "--mech", "krb5", "--target", TARGET, "--user", TL_REALM_ALICE,
			"--password", "not-alice-pw", NULL};
	peer_start(args);
	/* The KDC refuses the peer's AS-REQ: it reports that, sends no token. */
	size_t len = pd_recv(&peer, PEER_TAG_ERROR, &tag, fbuf, sizeof fbuf);
	ck_assert_uint_gt(len, 0);
	ck_assert_msg(strstr((const char *)fbuf, "gss_") != NULL, "gss_peer said \"%s\"",
		      (const char *)fbuf);
	pd_child_end(&peer, 1);
	ck_assert_int_eq(s->have_ctx, 0);
	ck_assert_uint_eq(stats().contexts, 0);
	side_free(s);
	free(s);
}
END_TEST

START_TEST(test_krb5_we_initiate_wrong_password_is_logon_denied)
{
	NEED_REALM();
	char *args[] = {"server", "--mech", "krb5", NULL};
	ck_assert_int_eq(we_initiate("Kerberos", "not-alice-pw", TARGET, args, "Kerberos", ALICE),
			 SEC_E_LOGON_DENIED);
}
END_TEST

static Suite *krb5_interop_suite(void)
{
	Suite *s = suite_create("krb5_interop");
	TCase *tc = tcase_create("mit");
	tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_krb5_we_initiate_to_mit_acceptor);
	tcase_add_test(tc, test_krb5_mit_initiator_to_us);
	tcase_add_test(tc, test_nego_we_initiate_to_mit_spnego_kerberos);
	tcase_add_test(tc, test_nego_mit_spnego_initiator_to_us_kerberos);
	tcase_add_test(tc, test_nego_mit_spnego_ntlm_initiator_to_us);
	tcase_add_test(tc, test_nego_we_fall_back_to_ntlm_with_mit_spnego);
	tcase_add_test(tc, test_krb5_kinit_ccache_to_mit_acceptor);
	tcase_add_test(tc, test_krb5_mit_initiator_wrong_password_never_reaches_us);
	tcase_add_test(tc, test_krb5_we_initiate_wrong_password_is_logon_denied);
	return s;
}

int main(void)
{
	(void)pkg_name; /* sspi_testlib.h's, for the test package */
	signal(SIGPIPE, SIG_IGN); /* a dead child's pipe: EPIPE, not death */
#if defined(SA_HAVE_KRB5) && defined(SA_HAVE_NEGOTIATE)
	if (tl_realm_available() && tl_realm_start(&realm) != 0)
		return 1; /* the tools are there and the realm would not start: a failure */
#endif
	int failed = tl_run_suite(krb5_interop_suite());
	tl_realm_stop(&realm);
	return failed;
}
