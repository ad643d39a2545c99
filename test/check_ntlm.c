/*
 * test/check_ntlm.c - the "NTLM" package through the synchronous SSPI API:
 * handshakes, credentials from an identity, the user file and the store
 * callback, every failure the README promises, attributes, and message
 * protection both ways with tampering, replay and reordering.  The async
 * paths are in check_ntlm_async.c, the peers in check_ntlm_interop.c, the
 * bad-handle tests with NTLM in check_sspi_sync.c ("stale_ntlm").
 */
#define _DEFAULT_SOURCE /* mkstemp, setenv */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "packages/ntlm/ntlm_int.h"
#include "sspi_testlib.h"
#include "testlib.h"

#define TOK 2888
#define REQ_C (ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_REPLAY_DETECT | \
	       ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONNECTION)
#define REQ_S (ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY | ASC_REQ_REPLAY_DETECT | \
	       ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONNECTION)

static char user_file[64];

/* A user file for the whole suite; NTLM_USER_FILE names it. */
static void users_setup(void)
{
	tl_user_file_set(user_file, "# test users\n"
				    "DOM:alice:Secret1!\n"
				    "OTHER:bob:pw:with:colons\n"
				    ":carol:anydomain\n");
}

static void users_teardown(void)
{
	teardown();
	tl_user_file_unset(user_file);
}

static SECURITY_STATUS acquire(unsigned long use, const char *user, const char *domain,
			       const char *password, CredHandle *out)
{
	SEC_WINNT_AUTH_IDENTITY_A id = tl_identity(user, domain, password);
	TimeStamp ts;
	return AcquireCredentialsHandleA(NULL, "NTLM", use, NULL, user ? &id : NULL, NULL, NULL,
					 out, &ts);
}

struct pair {
	CredHandle cc, sc;
	CtxtHandle c, s;
	int have_c, have_s;
	SECURITY_STATUS last_c, last_s;
	unsigned long attr_c, attr_s;
};

/* One token through one side. */
static SECURITY_STATUS step(struct pair *p, int client, const unsigned char *in, unsigned long in_len,
			    unsigned char *out, unsigned long *out_len, const char *target,
			    SecBuffer *extra_in)
{
	SecBuffer ib[2] = {{in_len, SECBUFFER_TOKEN, (void *)in}, {0, SECBUFFER_EMPTY, NULL}};
	if (extra_in != NULL)
		ib[1] = *extra_in;
	SecBufferDesc id = {SECBUFFER_VERSION, extra_in ? 2 : 1, ib};
	SecBuffer ob = {TOK, SECBUFFER_TOKEN, out};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	TimeStamp ts;
	SECURITY_STATUS st;
	if (client) {
		st = InitializeSecurityContextA(&p->cc, p->have_c ? &p->c : NULL, (SEC_CHAR *)target,
						REQ_C, 0, SECURITY_NATIVE_DREP,
						in ? &id : (extra_in ? &id : NULL), 0, &p->c, &od,
						&p->attr_c, &ts);
		if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
			p->have_c = 1;
		p->last_c = st;
	} else {
		st = AcceptSecurityContext(&p->sc, p->have_s ? &p->s : NULL, &id, REQ_S,
					   SECURITY_NATIVE_DREP, &p->s, &od, &p->attr_s, &ts);
		if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
			p->have_s = 1;
		p->last_s = st;
	}
	*out_len = ob.cbBuffer;
	return st;
}

/* The whole handshake; returns the server's last status. */
static SECURITY_STATUS handshake(struct pair *p, const char *target, SecBuffer *cb_c, SecBuffer *cb_s)
{
	unsigned char a[TOK], b[TOK];
	unsigned long al, bl;
	ck_assert_int_eq(step(p, 1, NULL, 0, a, &al, target, cb_c), SEC_I_CONTINUE_NEEDED);
	ck_assert_uint_eq(al, 40);
	ck_assert_int_eq(step(p, 0, a, al, b, &bl, NULL, cb_s), SEC_I_CONTINUE_NEEDED);
	ck_assert_uint_gt(bl, 56);
	ck_assert_int_eq(step(p, 1, b, bl, a, &al, target, cb_c), SEC_E_OK);
	ck_assert_uint_gt(al, 88);
	SECURITY_STATUS st = step(p, 0, a, al, b, &bl, NULL, cb_s);
	if (st == SEC_E_OK)
		ck_assert_uint_eq(bl, 0);
	return st;
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

static void pair_creds(struct pair *p, const char *user, const char *domain, const char *pw)
{
	memset(p, 0, sizeof *p);
	ck_assert_int_eq(acquire(SECPKG_CRED_OUTBOUND, user, domain, pw, &p->cc), SEC_E_OK);
	ck_assert_int_eq(acquire(SECPKG_CRED_INBOUND, NULL, NULL, NULL, &p->sc), SEC_E_OK);
}

/* Sign and seal one message from a to b and check it arrives intact. */
static void msg_one(CtxtHandle *a, CtxtHandle *b, const char *text)
{
	unsigned char sig[16], data[64];
	size_t n = strlen(text);
	memcpy(data, text, n);
	SecBuffer bufs[2] = {{16, SECBUFFER_TOKEN, sig}, {(unsigned long)n, SECBUFFER_DATA, data}};
	SecBufferDesc d = {SECBUFFER_VERSION, 2, bufs};
	ck_assert_int_eq(MakeSignature(a, 0, &d, 0), SEC_E_OK);
	ck_assert_uint_eq(bufs[0].cbBuffer, 16);
	unsigned long q = 7;
	ck_assert_int_eq(VerifySignature(b, &d, 0, &q), SEC_E_OK);
	ck_assert_uint_eq(q, 0);
	ck_assert_int_eq(EncryptMessage(a, 0, &d, 0), SEC_E_OK);
	ck_assert(memcmp(data, text, n) != 0);
	ck_assert_int_eq(DecryptMessage(b, &d, 0, &q), SEC_E_OK);
	ck_assert(memcmp(data, text, n) == 0);
}

START_TEST(test_ntlm_handshake_sync_names_keys_messages)
{
	struct pair p;
	pair_creds(&p, "alice", "DOM", "Secret1!");
	ck_assert_int_eq(handshake(&p, "HTTP/server.test", NULL, NULL), SEC_E_OK);
	ck_assert_uint_eq(p.attr_c & ISC_RET_INTEGRITY, ISC_RET_INTEGRITY);
	ck_assert_uint_eq(p.attr_c & ISC_RET_CONFIDENTIALITY, ISC_RET_CONFIDENTIALITY);
	ck_assert_uint_eq(p.attr_s & ASC_RET_INTEGRITY, ASC_RET_INTEGRITY);

	SecPkgContext_NamesA nm;
	ck_assert_int_eq(QueryContextAttributesA(&p.s, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
	ck_assert_str_eq(nm.sUserName, "DOM\\alice");
	ck_assert_int_eq(FreeContextBuffer(nm.sUserName), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&p.c, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
	ck_assert_str_eq(nm.sUserName, "DOM\\alice");
	ck_assert_int_eq(FreeContextBuffer(nm.sUserName), SEC_E_OK);

	SecPkgContext_NativeNamesA nn;
	ck_assert_int_eq(QueryContextAttributesA(&p.s, SECPKG_ATTR_NATIVE_NAMES, &nn), SEC_E_OK);
	ck_assert_str_eq(nn.sClientName, "DOM\\alice");
	ck_assert_uint_gt(strlen(nn.sServerName), 0); /* our host name */
	FreeContextBuffer(nn.sClientName);
	FreeContextBuffer(nn.sServerName);
	ck_assert_int_eq(QueryContextAttributesA(&p.c, SECPKG_ATTR_NATIVE_NAMES, &nn), SEC_E_OK);
	ck_assert_str_eq(nn.sClientName, "DOM\\alice");
	ck_assert_str_eq(nn.sServerName, "HTTP/server.test");
	FreeContextBuffer(nn.sClientName);
	FreeContextBuffer(nn.sServerName);

	SecPkgContext_SessionKey kc, ks;
	ck_assert_int_eq(QueryContextAttributesA(&p.c, SECPKG_ATTR_SESSION_KEY, &kc), SEC_E_OK);
	ck_assert_int_eq(QueryContextAttributesA(&p.s, SECPKG_ATTR_SESSION_KEY, &ks), SEC_E_OK);
	ck_assert_uint_eq(kc.SessionKeyLength, 16);
	ck_assert_uint_eq(ks.SessionKeyLength, 16);
	ck_assert(memcmp(kc.SessionKey, ks.SessionKey, 16) == 0);
	ck_assert_int_eq(FreeContextBuffer(kc.SessionKey), SEC_E_OK);
	ck_assert_int_eq(FreeContextBuffer(ks.SessionKey), SEC_E_OK);

	SecPkgContext_Sizes sz;
	ck_assert_int_eq(QueryContextAttributesA(&p.c, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
	ck_assert_uint_eq(sz.cbMaxToken, 2888);
	ck_assert_uint_eq(sz.cbMaxSignature, 16);
	ck_assert_uint_eq(sz.cbBlockSize, 0);
	ck_assert_uint_eq(sz.cbSecurityTrailer, 16);

	SecPkgContext_Flags fl;
	ck_assert_int_eq(QueryContextAttributesA(&p.s, SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
	ck_assert_uint_eq(fl.Flags, p.attr_s);

	SecPkgContext_Lifespan ls;
	ck_assert_int_eq(QueryContextAttributesA(&p.s, SECPKG_ATTR_LIFESPAN, &ls), SEC_E_OK);
	ck_assert(ls.tsStart.QuadPart > 0 && ls.tsExpiry.QuadPart > ls.tsStart.QuadPart);

	SecPkgContext_PackageInfoA pi;
	ck_assert_int_eq(QueryContextAttributesA(&p.s, SECPKG_ATTR_PACKAGE_INFO, &pi), SEC_E_OK);
	ck_assert_str_eq(pi.PackageInfo->Name, "NTLM");
	ck_assert_uint_eq(pi.PackageInfo->fCapabilities, 0x00082B37);
	ck_assert_uint_eq(pi.PackageInfo->wRPCID, 10);
	ck_assert_uint_eq(pi.PackageInfo->cbMaxToken, 2888);
	ck_assert_int_eq(FreeContextBuffer(pi.PackageInfo), SEC_E_OK);

	for (int i = 0; i < 5; i++) {
		msg_one(&p.c, &p.s, "client to server");
		msg_one(&p.s, &p.c, "server to client");
	}
	pair_free(&p);
}
END_TEST

START_TEST(test_ntlm_user_file_rules)
{
	/* Case-insensitive user and domain; "bob"'s password holds colons;
	 * carol's empty domain matches any domain the client names; a client
	 * naming none matches the first entry of its user. */
	static const struct {
		const char *user, *domain, *pw, *name;
	} ok[] = {
		{"ALICE", "dom", "Secret1!", "dom\\ALICE"},
		{"bob", "OTHER", "pw:with:colons", "OTHER\\bob"},
		{"carol", "WHATEVER", "anydomain", "WHATEVER\\carol"},
		/* A client naming no domain (curl -u alice:pw): the entry's domain. */
		{"alice", "", "Secret1!", "DOM\\alice"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct pair p;
		pair_creds(&p, ok[i].user, ok[i].domain, ok[i].pw);
		ck_assert_int_eq(handshake(&p, NULL, NULL, NULL), SEC_E_OK);
		SecPkgContext_NamesA nm;
		ck_assert_int_eq(QueryContextAttributesA(&p.s, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
		ck_assert_str_eq(nm.sUserName, ok[i].name);
		FreeContextBuffer(nm.sUserName);
		pair_free(&p);
	}
	/* A client with no identity takes the file's first entry, or the one
	 * its principal names. */
	CredHandle c;
	TimeStamp ts;
	SecPkgCredentials_NamesA cn;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &c, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(QueryCredentialsAttributesA(&c, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
	ck_assert_str_eq(cn.sUserName, "DOM\\alice");
	FreeContextBuffer(cn.sUserName);
	FreeCredentialsHandle(&c);
	ck_assert_int_eq(AcquireCredentialsHandleA("other\\BOB", "NTLM", SECPKG_CRED_OUTBOUND, NULL,
						   NULL, NULL, NULL, &c, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(QueryCredentialsAttributesA(&c, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
	ck_assert_str_eq(cn.sUserName, "OTHER\\bob");
	FreeContextBuffer(cn.sUserName);
	struct pair p;
	memset(&p, 0, sizeof p);
	p.cc = c;
	ck_assert_int_eq(acquire(SECPKG_CRED_INBOUND, NULL, NULL, NULL, &p.sc), SEC_E_OK);
	ck_assert_int_eq(handshake(&p, NULL, NULL, NULL), SEC_E_OK);
	pair_free(&p);
	ck_assert_int_eq(AcquireCredentialsHandleA("nobody", "NTLM", SECPKG_CRED_OUTBOUND, NULL,
						   NULL, NULL, NULL, &c, &ts),
			 SEC_E_NO_CREDENTIALS);
	/* No file at all: no default identity; an unreadable file named. */
	unsetenv("NTLM_USER_FILE");
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_OUTBOUND, NULL, NULL,
						   NULL, NULL, &c, &ts),
			 SEC_E_NO_CREDENTIALS);
	setenv("NTLM_USER_FILE", "/nonexistent/users", 1);
	ck_assert_int_eq(acquire(SECPKG_CRED_INBOUND, NULL, NULL, NULL, &c), SEC_E_NO_CREDENTIALS);
	setenv("NTLM_USER_FILE", user_file, 1);
	ck_assert_uint_eq(stats().credentials, 0);
}
END_TEST

/* Wrong password, unknown user: the server's last leg answers
 * SEC_E_LOGON_DENIED, its context is rejected and still deletable. */
START_TEST(test_ntlm_wrong_password_and_unknown_user_are_denied)
{
	static const char *const who[][3] = {
		{"alice", "DOM", "wrong"},
		{"mallory", "DOM", "Secret1!"},
		{"alice", "DOM", ""},
	};
	for (size_t i = 0; i < 3; i++) {
		struct pair p;
		pair_creds(&p, who[i][0], who[i][1], who[i][2]);
		ck_assert_int_eq(handshake(&p, NULL, NULL, NULL), SEC_E_LOGON_DENIED);
		ck_assert(p.have_s);
		/* Rejected: no name, no messages; deletable. */
		SecPkgContext_NamesA nm;
		ck_assert_int_ne(QueryContextAttributesA(&p.s, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
		unsigned char sig[16], data[4] = "abc";
		SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {3, SECBUFFER_DATA, data}};
		SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
		ck_assert_int_ne(MakeSignature(&p.s, 0, &d, 0), SEC_E_OK);
		pair_free(&p);
	}
}
END_TEST

/* The store callback replaces the file; its errors deny the logon. */
static SECURITY_STATUS lookup(void *arg, const char *domain, const char *user,
			      unsigned char nt_hash[16])
{
	int *calls = arg;
	(*calls)++;
	if (strcmp(user, "dave") != 0 || strcmp(domain, "STORE") != 0)
		return SEC_E_LOGON_DENIED;
	/* MD4(UTF-16LE("Password")) ([MS-NLMP] 4.2.2.1.2). */
	static const unsigned char h[16] = {0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
					    0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52};
	memcpy(nt_hash, h, 16);
	return SEC_E_OK;
}

START_TEST(test_ntlm_lookup_callback)
{
	int calls = 0;
	struct pair p;
	pair_creds(&p, "dave", "STORE", "Password");
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(&p.sc, lookup, &calls), SEC_E_OK);
	ck_assert_int_eq(handshake(&p, NULL, NULL, NULL), SEC_E_OK);
	ck_assert_int_eq(calls, 1);
	pair_free(&p);
	/* alice is in the file but not in the store: denied. */
	pair_creds(&p, "alice", "DOM", "Secret1!");
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(&p.sc, lookup, &calls), SEC_E_OK);
	ck_assert_int_eq(handshake(&p, NULL, NULL, NULL), SEC_E_LOGON_DENIED);
	ck_assert_int_eq(calls, 2);
	pair_free(&p);
	/* NULL: back to the file. */
	pair_creds(&p, "alice", "DOM", "Secret1!");
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(&p.sc, lookup, &calls), SEC_E_OK);
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(&p.sc, NULL, NULL), SEC_E_OK);
	ck_assert_int_eq(handshake(&p, NULL, NULL, NULL), SEC_E_OK);
	ck_assert_int_eq(calls, 2);
	/* Wrong credentials for it: outbound, stale, NULL, another package. */
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(&p.cc, lookup, &calls),
			 SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(NULL, lookup, &calls), SEC_E_INVALID_HANDLE);
	CredHandle stale = p.sc;
	pair_free(&p);
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(&stale, lookup, &calls), SEC_E_INVALID_HANDLE);
	CredHandle t;
	TimeStamp ts;
	ck_assert_int_eq(AcquireCredentialsHandleA(NULL, "SspiAsyncTest", SECPKG_CRED_INBOUND, NULL,
						   NULL, NULL, NULL, &t, &ts),
			 SEC_E_OK);
	ck_assert_int_eq(sspiasync_ntlm_set_lookup(&t, lookup, &calls), SEC_E_UNSUPPORTED_FUNCTION);
	FreeCredentialsHandle(&t);
}
END_TEST

/* Tampered, replayed and reordered messages; the stream survives a bad one. */
START_TEST(test_ntlm_message_tamper_replay_reorder)
{
	struct pair p;
	pair_creds(&p, "alice", "DOM", "Secret1!");
	ck_assert_int_eq(handshake(&p, NULL, NULL, NULL), SEC_E_OK);
	unsigned char sig[3][16], data[3][8];
	SecBuffer b[3][2];
	SecBufferDesc d[3];
	for (int i = 0; i < 3; i++) {
		memcpy(data[i], "message", 8);
		data[i][0] = (unsigned char)('0' + i);
		b[i][0] = (SecBuffer){16, SECBUFFER_TOKEN, sig[i]};
		b[i][1] = (SecBuffer){8, SECBUFFER_DATA, data[i]};
		d[i] = (SecBufferDesc){SECBUFFER_VERSION, 2, b[i]};
		ck_assert_int_eq(MakeSignature(&p.c, 0, &d[i], 0), SEC_E_OK);
	}
	unsigned long q;
	/* Reordered: message 1 before message 0. */
	ck_assert_int_eq(VerifySignature(&p.s, &d[1], 0, &q), SEC_E_OUT_OF_SEQUENCE);
	/* Tampered data, then a tampered signature. */
	data[0][3] ^= 1;
	ck_assert_int_eq(VerifySignature(&p.s, &d[0], 0, &q), SEC_E_MESSAGE_ALTERED);
	data[0][3] ^= 1;
	sig[0][5] ^= 0x80;
	ck_assert_int_eq(VerifySignature(&p.s, &d[0], 0, &q), SEC_E_MESSAGE_ALTERED);
	sig[0][5] ^= 0x80;
	/* The failures changed nothing: the real message 0 still verifies. */
	ck_assert_int_eq(VerifySignature(&p.s, &d[0], 0, &q), SEC_E_OK);
	/* Replayed. */
	ck_assert_int_eq(VerifySignature(&p.s, &d[0], 0, &q), SEC_E_OUT_OF_SEQUENCE);
	ck_assert_int_eq(VerifySignature(&p.s, &d[1], 0, &q), SEC_E_OK);
	ck_assert_int_eq(VerifySignature(&p.s, &d[2], 0, &q), SEC_E_OK);
	/* Sealed: a flipped ciphertext bit is caught and the caller gets its
	 * ciphertext back unchanged. */
	unsigned char s2[16], c2[8];
	memcpy(c2, "sealed!", 8);
	SecBuffer eb[2] = {{16, SECBUFFER_TOKEN, s2}, {8, SECBUFFER_DATA, c2}};
	SecBufferDesc ed = {SECBUFFER_VERSION, 2, eb};
	ck_assert_int_eq(EncryptMessage(&p.s, 0, &ed, 0), SEC_E_OK);
	c2[2] ^= 4;
	unsigned char before[8];
	memcpy(before, c2, 8);
	ck_assert_int_eq(DecryptMessage(&p.c, &ed, 0, &q), SEC_E_MESSAGE_ALTERED);
	ck_assert(memcmp(before, c2, 8) == 0);
	c2[2] ^= 4;
	ck_assert_int_eq(DecryptMessage(&p.c, &ed, 0, &q), SEC_E_OK);
	ck_assert(memcmp(c2, "sealed!", 8) == 0);
	/* Bad descriptions: no token, a short token, no data, bad qop. */
	SecBuffer only = {8, SECBUFFER_DATA, c2};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &only};
	ck_assert_int_eq(MakeSignature(&p.c, 0, &od, 0), SEC_E_INVALID_TOKEN);
	eb[0].cbBuffer = 15;
	ck_assert_int_eq(MakeSignature(&p.c, 0, &ed, 0), SEC_E_BUFFER_TOO_SMALL);
	ck_assert_int_eq(VerifySignature(&p.c, &ed, 0, &q), SEC_E_INVALID_TOKEN);
	eb[0].cbBuffer = 16;
	ck_assert_int_eq(MakeSignature(&p.c, 5, &ed, 0), SEC_E_QOP_NOT_SUPPORTED);
	/* A read-only DATA buffer (a header sent in clear) is signed, not sealed. */
	unsigned char hdr[4] = "HDR", body[5] = "body";
	SecBuffer rb[3] = {{16, SECBUFFER_TOKEN, s2},
			   {4, SECBUFFER_DATA | SECBUFFER_READONLY_WITH_CHECKSUM, hdr},
			   {5, SECBUFFER_DATA, body}};
	SecBufferDesc rd = {SECBUFFER_VERSION, 3, rb};
	ck_assert_int_eq(EncryptMessage(&p.c, 0, &rd, 0), SEC_E_OK);
	ck_assert(memcmp(hdr, "HDR", 4) == 0 && memcmp(body, "body", 5) != 0);
	hdr[0] = 'h'; /* the header is covered by the signature */
	ck_assert_int_eq(DecryptMessage(&p.s, &rd, 0, &q), SEC_E_MESSAGE_ALTERED);
	hdr[0] = 'H';
	ck_assert_int_eq(DecryptMessage(&p.s, &rd, 0, &q), SEC_E_OK);
	ck_assert(memcmp(body, "body", 5) == 0);
	/* SECQOP_WRAP_NO_ENCRYPT: signed, left in clear. */
	memcpy(c2, "clear!!", 8);
	ck_assert_int_eq(EncryptMessage(&p.c, SECQOP_WRAP_NO_ENCRYPT, &ed, 0), SEC_E_OK);
	ck_assert(memcmp(c2, "clear!!", 8) == 0);
	ck_assert_int_eq(VerifySignature(&p.s, &ed, 0, &q), SEC_E_OK);
	pair_free(&p);
}
END_TEST

/* Channel bindings: both sides the same, accepted; different, denied. */
static SecBuffer bindings(unsigned char *room, const char *app)
{
	SEC_CHANNEL_BINDINGS h;
	memset(&h, 0, sizeof h);
	h.cbApplicationDataLength = (unsigned long)strlen(app);
	h.dwApplicationDataOffset = sizeof h;
	memcpy(room, &h, sizeof h);
	memcpy(room + sizeof h, app, strlen(app));
	return (SecBuffer){(unsigned long)(sizeof h + strlen(app)), SECBUFFER_CHANNEL_BINDINGS, room};
}

START_TEST(test_ntlm_channel_bindings)
{
	unsigned char r1[128], r2[128];
	SecBuffer a = bindings(r1, "tls-server-end-point:AAAA");
	SecBuffer b = bindings(r2, "tls-server-end-point:BBBB");
	struct pair p;
	pair_creds(&p, "alice", "DOM", "Secret1!");
	ck_assert_int_eq(handshake(&p, "HTTP/x", &a, &a), SEC_E_OK);
	pair_free(&p);
	pair_creds(&p, "alice", "DOM", "Secret1!");
	ck_assert_int_eq(handshake(&p, "HTTP/x", &a, &b), SEC_E_LOGON_DENIED);
	pair_free(&p);
	/* A client without bindings is accepted by a server with them (README). */
	pair_creds(&p, "alice", "DOM", "Secret1!");
	ck_assert_int_eq(handshake(&p, "HTTP/x", NULL, &b), SEC_E_OK);
	pair_free(&p);
}
END_TEST

/* Garbage tokens: SEC_E_INVALID_TOKEN on the first leg (no context), and
 * on a later leg (the context is rejected and still deletable). */
START_TEST(test_ntlm_garbage_tokens)
{
	struct pair p;
	pair_creds(&p, "alice", "DOM", "Secret1!");
	unsigned char out[TOK], junk[64];
	unsigned long n;
	memset(junk, 0x41, sizeof junk);
	ck_assert_int_eq(step(&p, 0, junk, sizeof junk, out, &n, NULL, NULL), SEC_E_INVALID_TOKEN);
	ck_assert(!p.have_s);
	ck_assert_int_eq(step(&p, 1, NULL, 0, out, &n, NULL, NULL), SEC_I_CONTINUE_NEEDED);
	ck_assert_int_eq(step(&p, 1, junk, sizeof junk, out, &n, NULL, NULL), SEC_E_INVALID_TOKEN);
	ck_assert_uint_eq(stats().contexts, 1);
	pair_free(&p);
}
END_TEST


/* A NEGOTIATE with the given flags and no Version (32 bytes, as curl's). */
static unsigned long negotiate_v0(unsigned char *m, uint32_t flags)
{
	struct sa_ntlm_wr w;
	sa__ntlm_wr_init(&w, m, 32, SA_NTLM_NEGOTIATE, 32);
	sa__ntlm_wr_u32(&w, 12, flags);
	ck_assert(!w.err);
	return 32;
}

/* What is refused (README's table) and what old clients send. */
START_TEST(test_ntlm_refusals_and_old_clients)
{
	struct pair p;
	unsigned char m[TOK], out[TOK];
	unsigned long n, ol;
	pair_creds(&p, "alice", "DOM", "Secret1!");
	/* An NTLMv1-only client (no extended session security): refused, no context. */
	n = negotiate_v0(m, SA_NTLM_F_UNICODE | SA_NTLM_F_NTLM | SA_NTLM_F_REQUEST_TARGET);
	ck_assert_int_eq(step(&p, 0, m, n, out, &ol, NULL, NULL), SEC_E_UNSUPPORTED_FUNCTION);
	ck_assert(!p.have_s);
	/* curl's NEGOTIATE (0x00088206: OEM only, no Version): a CHALLENGE in OEM. */
	n = negotiate_v0(m, 0x00088206);
	ck_assert_int_eq(step(&p, 0, m, n, out, &ol, NULL, NULL), SEC_I_CONTINUE_NEEDED);
	struct sa_ntlm_challenge ch;
	ck_assert_int_eq(sa__ntlm_parse_challenge(out, ol, &ch), 0);
	ck_assert_uint_eq(ch.flags & (SA_NTLM_F_UNICODE | SA_NTLM_F_OEM), SA_NTLM_F_OEM);
	ck_assert_uint_eq(ch.flags & (SA_NTLM_F_SEAL | SA_NTLM_F_SIGN | SA_NTLM_F_KEY_EXCH), 0);
	ck_assert_uint_ne(ch.flags & SA_NTLM_F_TARGET_INFO, 0);
	ck_assert_int_eq(sa__ntlm_av_check(ch.target_info.p, ch.target_info.len), 0);
	/* An NTLMv1 AUTHENTICATE (24-byte NT response): denied, context rejected. */
	struct sa_ntlm_wr w;
	unsigned char v1[24], usr[2] = {'x', 0};
	memset(v1, 0x11, sizeof v1);
	sa__ntlm_wr_init(&w, m, sizeof m, SA_NTLM_AUTHENTICATE, 64);
	sa__ntlm_wr_field(&w, 12, v1, 24);
	sa__ntlm_wr_field(&w, 20, v1, 24);
	sa__ntlm_wr_field(&w, 36, usr, 1);
	sa__ntlm_wr_u32(&w, 60, 0x00088206);
	ck_assert(!w.err);
	ck_assert_int_eq(step(&p, 0, m, (unsigned long)w.len, out, &ol, NULL, NULL),
			 SEC_E_LOGON_DENIED);
	ck_assert_uint_eq(stats().contexts, 1);
	/* An NTLMv1-only server (a CHALLENGE without ESS): the client refuses. */
	ck_assert_int_eq(step(&p, 1, NULL, 0, out, &ol, NULL, NULL), SEC_I_CONTINUE_NEEDED);
	unsigned char info[4] = {0, 0, 0, 0};
	sa__ntlm_wr_init(&w, m, sizeof m, SA_NTLM_CHALLENGE, 56);
	sa__ntlm_wr_u32(&w, 20, SA_NTLM_F_UNICODE | SA_NTLM_F_NTLM | SA_NTLM_F_TARGET_INFO);
	sa__ntlm_wr_field(&w, 40, info, 4);
	ck_assert(!w.err);
	ck_assert_int_eq(step(&p, 1, m, (unsigned long)w.len, out, &ol, NULL, NULL),
			 SEC_E_UNSUPPORTED_FUNCTION);
	pair_free(&p);
}
END_TEST


/* The MIC covers all three messages: a changed MIC, or a CHALLENGE changed
 * on its way to the client (in bytes nothing else reads), is denied. */
START_TEST(test_ntlm_mic_covers_all_three_messages)
{
	for (int what = 0; what < 3; what++) {
		struct pair p;
		unsigned char a[TOK], b[TOK];
		unsigned long al, bl;
		pair_creds(&p, "alice", "DOM", "Secret1!");
		ck_assert_int_eq(step(&p, 1, NULL, 0, a, &al, NULL, NULL), SEC_I_CONTINUE_NEEDED);
		ck_assert_int_eq(step(&p, 0, a, al, b, &bl, NULL, NULL), SEC_I_CONTINUE_NEEDED);
		if (what == 1)
			b[35] ^= 1; /* the CHALLENGE's Reserved field */
		ck_assert_int_eq(step(&p, 1, b, bl, a, &al, NULL, NULL), SEC_E_OK);
		if (what == 2)
			a[SA_NTLM_AUTH_MIC_OFF + 7] ^= 0x40;
		ck_assert_int_eq(step(&p, 0, a, al, b, &bl, NULL, NULL),
				 what == 0 ? SEC_E_OK : SEC_E_LOGON_DENIED);
		pair_free(&p);
	}
}
END_TEST

static Suite *ntlm_suite(void)
{
	Suite *s = suite_create("ntlm");
	TCase *tc = tcase(s, "sync", 60);
	tcase_add_checked_fixture(tc, users_setup, users_teardown);
	tcase_add_test(tc, test_ntlm_handshake_sync_names_keys_messages);
	tcase_add_test(tc, test_ntlm_user_file_rules);
	tcase_add_test(tc, test_ntlm_wrong_password_and_unknown_user_are_denied);
	tcase_add_test(tc, test_ntlm_lookup_callback);
	tcase_add_test(tc, test_ntlm_message_tamper_replay_reorder);
	tcase_add_test(tc, test_ntlm_channel_bindings);
	tcase_add_test(tc, test_ntlm_garbage_tokens);
	tcase_add_test(tc, test_ntlm_refusals_and_old_clients);
	tcase_add_test(tc, test_ntlm_mic_covers_all_three_messages);
	return s;
}

int main(void)
{
	(void)pkg_name; /* sspi_testlib.h's, for the test package */
	return tl_run_suite(ntlm_suite()) == 0 ? 0 : 1;
}
