/*
 * fuzz/ntlm_replay.c - fuzz/ntlm_fuzz.c without libFuzzer: every
 * file of fuzz/ntlm_corpus/ (or of the directories and files named) through
 * LLVMFuzzerTestOneInput, with all the harness's oracles, so make check and
 * make memcheck (Valgrind) run the seeds and every input the fuzzer found
 * (the Makefile's fuzz-replay lines; not a test/check_* suite, which
 * test/helgrind.sh would want Check TCases of).
 * A seed whose name holds "-ok" must get a final leg to SEC_E_OK.
 *
 *   ntlm_replay [DIR|FILE...]    replay (default fuzz/ntlm_corpus)
 *   ntlm_replay --gen DIR        write the seeds (fuzz/README.md)
 */
#include "ntlm_fuzz.c"

#include "replay.h"

/* ---- the seed generator ------------------------------------------------------- */

static const char *gen_dir;

static void put(const char *name, const uint8_t *hdr, size_t hn, const uint8_t *p, size_t n,
		const uint8_t *tail, size_t tn)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", gen_dir, name);
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL, "cannot write %s", path);
	CHECK(fwrite(hdr, 1, hn, f) == hn && fwrite(p, 1, n, f) == n && fwrite(tail, 1, tn, f) == tn,
	      "write %s", path);
	fclose(f);
}
#define PUT(name, hdr, p, n) put(name, hdr, sizeof hdr, p, n, NULL, 0)
#define PUTL(name, hdr, p, n) /* the token behind a 16-bit length */                   \
	put(name, hdr, sizeof hdr, (const uint8_t[]){(uint8_t)(n), (uint8_t)((n) >> 8)}, 2, p, n)

static void gen(void)
{
	/* Real messages of our package, and a pair of signatures. */
	memset(&R, 0, sizeof R);
	client_negotiate();
	server_challenge();
	uint8_t neg[TOK], chal[TOK], auth[TOK], sig[2][16], oem_chal[TOK];
	size_t neg_len = R.neg_len, chal_len = R.chal_len, auth_len, oem_chal_len;
	memcpy(neg, R.neg, neg_len);
	memcpy(chal, R.chal, chal_len);
	CHECK(leg_plain(1, chal, chal_len, NULL, 0, auth, &auth_len) == SEC_E_OK, "gen: ISC");
	CHECK(server_auth(auth, auth_len, 0) == SEC_E_OK, "gen: ASC");
	for (int i = 0; i < 2; i++) {
		uint8_t data[5] = {'h', 'e', 'l', 'l', 'o'};
		SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig[i]}, {5, SECBUFFER_DATA, data}};
		SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
		CHECK((i ? EncryptMessage(&R.s, 0, &d, 0) : MakeSignature(&R.c, 0, &d, 0)) == SEC_E_OK,
		      "gen: signature");
	}
	input_end();
	/* Our server's CHALLENGE to curl's NEGOTIATE (OEM). */
	memset(&R, 0, sizeof R);
	memcpy(R.neg, g_curl_neg, sizeof g_curl_neg);
	R.neg_len = sizeof g_curl_neg;
	server_challenge();
	memcpy(oem_chal, R.chal, oem_chal_len = R.chal_len);
	input_end();

	/* curl's AUTHENTICATE: OEM names, payload at 64 (no Version, no MIC),
	 * NTLMv2 blob over our target info; its proof is zeros (fixup fills it). */
	static const uint8_t av[] = {2, 0, 6, 0, 'D', 0, 'O', 0, 'M', 0, 0, 0, 0, 0};
	uint8_t nt[16 + SA_NTLM_V2_BLOB_FIXED + sizeof av + 4] = {0}, lm[24] = {0}, curl[256];
	nt[16] = nt[17] = 1;
	memcpy(nt + 16 + SA_NTLM_V2_BLOB_FIXED, av, sizeof av);
	struct sa_ntlm_wr w;
	sa__ntlm_wr_init(&w, curl, sizeof curl, SA_NTLM_AUTHENTICATE, SA_NTLM_AUTH_MIN);
	sa__ntlm_wr_field(&w, 12, lm, sizeof lm);
	sa__ntlm_wr_field(&w, 20, nt, sizeof nt);
	sa__ntlm_wr_field(&w, 28, "DOM", 3);
	sa__ntlm_wr_field(&w, 36, "alice", 5);
	sa__ntlm_wr_field(&w, 44, "CURLHOST", 8);
	sa__ntlm_wr_field(&w, 52, NULL, 0);
	sa__ntlm_wr_u32(&w, 60, 0x00088206);
	CHECK(!w.err, "gen: curl AUTHENTICATE");

	PUT("parse-negotiate", ((const uint8_t[]){0, 0, 0}), neg, neg_len);
	PUT("parse-negotiate-curl", ((const uint8_t[]){0, 0, 0}), g_curl_neg, sizeof g_curl_neg);
	PUT("parse-challenge", ((const uint8_t[]){0, 7, 0}), chal, chal_len);
	PUT("parse-authenticate", ((const uint8_t[]){0, 6, 0}), auth, auth_len);
	uint8_t sur[TOK]; /* "alice" as U+1F600 "ice": a surrogate pair to decode */
	struct sa_ntlm_authenticate pa;
	memcpy(sur, auth, auth_len);
	CHECK(sa__ntlm_parse_authenticate(sur, auth_len, &pa) == 0 && pa.user.len == 10, "gen: user");
	memcpy(sur + (pa.user.p - sur), "\x3d\xd8\x00\xde", 4);
	PUT("parse-authenticate-surrogates", ((const uint8_t[]){0, 0, 0}), sur, auth_len);
	PUT("parse-authenticate-curl", ((const uint8_t[]){0, 2, 0}), curl, w.len);
	PUT("accept1-negotiate", ((const uint8_t[]){1, 0, 0}), neg, neg_len);
	PUT("accept1-negotiate-curl", ((const uint8_t[]){1, 0x44, 0}), g_curl_neg, sizeof g_curl_neg);
	PUT("accept1-small-room", ((const uint8_t[]){1, 2, 100}), neg, neg_len);
	/* mode 2: [opt][opt2] then [len16][AUTHENTICATE] (fixup: opt bit 0). */
	PUTL("accept2-authenticate-fixup-ok", ((const uint8_t[]){2, 1, 0}), auth, auth_len);
	PUTL("accept2-authenticate-curl-fixup-ok", ((const uint8_t[]){2, 1 | 4, 0}), curl, w.len);
	PUTL("accept2-authenticate-stale", ((const uint8_t[]){2, 0, 0}), auth, auth_len);
	/* ... or our client's real one and [n edits] (opt 2, 3). */
	PUT("accept2-real-ok", ((const uint8_t[]){2, 2, 0}), (const uint8_t *)"", 1);
	PUT("accept2-real-bindings-ok", ((const uint8_t[]){2, 2 | 1 << 6, 1 | 1 << 2}),
	    (const uint8_t *)"", 1);
	PUT("accept2-real-carol-fixup-ok", ((const uint8_t[]){2, 3 | 2 << 3, 0}), (const uint8_t *)"",
	    1);
	PUT("lookup-real-ok", ((const uint8_t[]){5, 2, 0}), (const uint8_t *)"", 1);
	PUT("lookup-real-mallory", ((const uint8_t[]){5, 2 | 3 << 3, 0}), (const uint8_t *)"", 1);
	PUTL("lookup-authenticate-curl-fixup-ok", ((const uint8_t[]){5, 1 | 4, 0}), curl, w.len);
	PUT("accept2-real-curl-edited", ((const uint8_t[]){2, 3 | 4, 0, 1, 0, 100, 0, 0x41}),
	    (const uint8_t *)"", 0);
	/* mode 3: [opt][opt2][cap] then [len16][CHALLENGE] or edits (opt bit 2). */
	PUTL("init2-challenge-ok", ((const uint8_t[]){3, 1 << 6, 0, 0}), chal, chal_len);
	PUTL("init2-challenge-oem-ok", ((const uint8_t[]){3, 0, 0, 0}), oem_chal, oem_chal_len);
	PUTL("init2-challenge-small-room-ok", ((const uint8_t[]){3, 2, 0, 200}), chal, chal_len);
	PUT("init2-real-ok", ((const uint8_t[]){3, 4 | 3 << 6, 0x80 | 2 | 2 << 2, 0}),
	    (const uint8_t *)"", 1);
	/* mode 4: [opt] then message ops (fuzz/README.md). */
	static const uint8_t ops[] = {
		4, 0,
		0x00, 0, 1, 0, 5, 'h', 'e', 'l', 'l', 'o',            /* sign c->s */
		0x03, 0, 2, 0, 3, 'a', 'b', 'c', 4, 'd', 'e', 'f', 'g', /* seal s->c, 2 pieces */
		0x10, 0, 1, 0, 4, 'd', 'a', 't', 'a', 18, 0, 0x40,    /* tampered data */
		0x13, 0, 1, 0, 6, 's', 'e', 'a', 'l', 'e', 'd', 13, 0, 1, /* tampered seq */
		0x22, 0, 1, 0, 4, 'w', 'r', 'o', 'n',                 /* sealed, verified */
		0x43, 6, 1, 0, 4, 'w', 'r', 'a', 'p',                 /* WRAP_NO_ENCRYPT */
		0x01, 0, 0x27, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 17 pieces */
		0x00, 0, 0x31, 0, 1, 'z',                             /* a NULL data buffer */
		0x00, 0, 0x01, 200, 1, 'q',                           /* an 8-byte token */
		0x0A, 0, 1, 0, 2, 'x', 'x',                           /* dropped */
		0x00, 0, 1, 0, 2, 'y', 'y',                           /* then out of sequence */
	};
	put("msg-genuine-ok", ops, sizeof ops, NULL, 0, NULL, 0);
	uint8_t raw[128], *r = raw;
	*r++ = 4, *r++ = 1;
	*r++ = 0x04, *r++ = 1, *r++ = 0; /* raw Verify c->s: a signature of another run */
	memcpy(r, sig[0], 16), r += 16;
	*r++ = 5, memcpy(r, "hello", 5), r += 5;
	*r++ = 0x07, *r++ = 1, *r++ = 0; /* raw Decrypt s->c */
	memcpy(r, sig[1], 16), r += 16;
	*r++ = 5, memcpy(r, "\x8f\x11\x02\xaa\x37", 5), r += 5;
	*r++ = 0x04, *r++ = 0x19, *r++ = 192 + 24; /* a 24-byte token after the data */
	*r++ = 2, *r++ = 'o', *r++ = 'k';
	memcpy(r, sig[0], 16), r += 16;
	memset(r, 0, 8), r += 8;
	put("msg-raw-signatures-ok", raw, (size_t)(r - raw), NULL, 0, NULL, 0);
}

/* ---- the replay ------------------------------------------------------------------- */

static unsigned long replayed;

static void replay_file(const char *path, const char *name)
{
	(void)name;
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL, "cannot open %s", path);
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	uint8_t *exact = dup_exact(buf, n); /* as libFuzzer passes it */
	unsigned long ok = g_ok;
	if (g_trace)
		fprintf(stderr, "ntlm_fuzz: == %s\n", path);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	CHECK(strstr(path, "-ok") == NULL || g_ok > ok, "%s: no leg got to SEC_E_OK", path);
	replayed++;
}

int main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	if (argc == 3 && strcmp(argv[1], "--gen") == 0) {
		gen_dir = argv[2];
		gen();
	} else if (argc == 1) {
		replay_path("fuzz/ntlm_corpus", replay_file);
	} else {
		for (int i = 1; i < argc; i++)
			replay_path(argv[i], replay_file);
	}
	CHECK(sspiasync_shutdown() == SEC_E_OK, "sspiasync_shutdown");
	if (gen_dir == NULL)
		printf("ntlm_replay: %lu inputs, every oracle held\n", replayed);
	return 0;
}
