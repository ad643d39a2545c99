/*
 * fuzz/spnego_replay.c - fuzz/spnego_fuzz.c without libFuzzer: every file of
 * fuzz/spnego_corpus/ (or of the directories and files named) through
 * LLVMFuzzerTestOneInput, with all the harness's oracles, so make check and
 * make memcheck (Valgrind) run the seeds and every input the fuzzer found
 * (the Makefile's fuzz section).  A seed whose name starts with "init-" must
 * decode as a NegTokenInit, "resp-" as a NegTokenResp, "bad-" as neither.
 * At the end the oracle's definitions are freed (sa_spnego_tasn1_cleanup),
 * so Valgrind sees 0 bytes in use.
 *
 *   spnego_replay [DIR|FILE...]    replay (default fuzz/spnego_corpus)
 */
#include "spnego_fuzz.c"

#include "replay.h"

static unsigned long replayed;

static void replay_file(const char *path, const char *name)
{
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL, "cannot open %s", path);
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	uint8_t *exact = malloc(n ? n : 1); /* as libFuzzer passes it: no byte more */
	CHECK(exact != NULL, "no memory");
	memcpy(exact, buf, n);
	unsigned long init = g_decoded_init, resp = g_decoded_resp;
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	if (strncmp(name, "init-", 5) == 0)
		CHECK(g_decoded_init > init, "%s: not decoded as a NegTokenInit", path);
	if (strncmp(name, "resp-", 5) == 0)
		CHECK(g_decoded_resp > resp, "%s: not decoded as a NegTokenResp", path);
	if (strncmp(name, "bad-", 4) == 0)
		CHECK(g_decoded_init == init && g_decoded_resp == resp, "%s: decoded", path);
	replayed++;
}

int main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	if (argc == 1)
		replay_path("fuzz/spnego_corpus", replay_file);
	for (int i = 1; i < argc; i++)
		replay_path(argv[i], replay_file);
#ifdef SA_HAVE_TASN1
	sa_spnego_tasn1_cleanup();
#endif
	printf("spnego_replay: %lu inputs (%lu NegTokenInit, %lu NegTokenResp decoded, %lu re-encoded "
	       "exactly, %lu answers compared with the libtasn1 oracle), every oracle held\n",
	       replayed, g_decoded_init, g_decoded_resp, g_exact, g_oracle);
	return 0;
}
