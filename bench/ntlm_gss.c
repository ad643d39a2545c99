/*
 * bench/ntlm_gss.c - the gss-ntlmssp baseline of bench/ntlm.sh: NTLM
 * handshakes per second through MIT GSSAPI (pkg-config krb5-gssapi) with
 * the gss-ntlmssp mechanism (OID 1.3.6.1.4.1.311.2.2.10, registered by
 * Debian's gss-ntlmssp in /etc/gss/mech.d), client and server in this
 * process, the same user, password and target as bench/ntlm.c.  Its own
 * program, like the WinPR one, so neither baseline shares a process with
 * the library.
 *
 * Credentials, acquired once: the initiator's by gss_acquire_cred_with_password
 * (DOMAIN\user, GSS_C_NT_USER_NAME), the acceptor's with GSS_C_NO_NAME from
 * the user file NTLM_USER_FILE (written by this program with mkstemp,
 * removed at exit; gss-ntlmssp reads it again on every AUTHENTICATE).
 * A handshake: init -> NEGOTIATE, accept -> CHALLENGE, init -> AUTHENTICATE
 * (GSS_S_COMPLETE), accept -> GSS_S_COMPLETE, both contexts deleted, every
 * output buffer released.  Flags: integrity, confidentiality, replay and
 * sequence detection, as bench/ntlm.c asks.
 *
 *   ntlm_gss round N          warm-up N/10, then N timed handshakes; prints
 *                             "ntlm-round gss-ntlmssp HS/S CPU_US"
 *   ntlm_gss --callgrind N    N handshakes; prints "callgrind-ops N"
 *
 * Note: gss-ntlmssp 1.2.0 leaks about 3 KB per handshake (an OpenSSL library
 * context per MD4; /work/shared/design/gssapi-facts.md); rounds are short.
 * Exit status 0, or 2 when a call fails unexpectedly.
 */
#define _DEFAULT_SOURCE /* mkstemp */

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "bench/ntlm_gss"
#include "ntlm_bench.h"

#define BENCH_TARGET "HTTP@server.test"
#define FLAGS (GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG)

static gss_OID_desc g_mech = {10, (void *)"\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"};

static _Noreturn void die_gss(const char *what, OM_uint32 maj, OM_uint32 min)
{
	fprintf(stderr, "bench/ntlm_gss: %s: major 0x%08lx, minor %lu\n", what, (unsigned long)maj,
		(unsigned long)min);
	exit(2);
}

struct gss {
	gss_cred_id_t init_cred, acc_cred;
	gss_name_t target;
};

static void creds_acquire(struct gss *g)
{
	OM_uint32 maj, min;
	gss_OID_set_desc mechs = {1, &g_mech};
	gss_buffer_desc nb = {sizeof BENCH_DOMAIN "\\" BENCH_USER - 1,
			      (void *)(BENCH_DOMAIN "\\" BENCH_USER)};
	gss_buffer_desc pw = {sizeof BENCH_PASSWORD - 1, (void *)BENCH_PASSWORD};
	gss_buffer_desc tb = {sizeof BENCH_TARGET - 1, (void *)BENCH_TARGET};
	gss_name_t user;
	maj = gss_import_name(&min, &nb, GSS_C_NT_USER_NAME, &user);
	if (GSS_ERROR(maj))
		die_gss("gss_import_name (user)", maj, min);
	maj = gss_acquire_cred_with_password(&min, user, &pw, GSS_C_INDEFINITE, &mechs,
					     GSS_C_INITIATE, &g->init_cred, NULL, NULL);
	if (GSS_ERROR(maj))
		die_gss("gss_acquire_cred_with_password", maj, min);
	gss_release_name(&min, &user);
	maj = gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT,
			       &g->acc_cred, NULL, NULL);
	if (GSS_ERROR(maj))
		die_gss("gss_acquire_cred (acceptor)", maj, min);
	maj = gss_import_name(&min, &tb, GSS_C_NT_HOSTBASED_SERVICE, &g->target);
	if (GSS_ERROR(maj))
		die_gss("gss_import_name (target)", maj, min);
}

static void creds_free(struct gss *g)
{
	OM_uint32 min;
	gss_release_cred(&min, &g->init_cred);
	gss_release_cred(&min, &g->acc_cred);
	gss_release_name(&min, &g->target);
}

static void handshakes(struct gss *g, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		gss_ctx_id_t c = GSS_C_NO_CONTEXT, s = GSS_C_NO_CONTEXT;
		gss_buffer_desc t1 = GSS_C_EMPTY_BUFFER, t2 = GSS_C_EMPTY_BUFFER,
				t3 = GSS_C_EMPTY_BUFFER, t4 = GSS_C_EMPTY_BUFFER;
		OM_uint32 maj, min, flags;
		maj = gss_init_sec_context(&min, g->init_cred, &c, g->target, &g_mech, FLAGS, 0,
					   GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &t1,
					   &flags, NULL);
		if (maj != GSS_S_CONTINUE_NEEDED)
			die_gss("leg 1 (init)", maj, min);
		maj = gss_accept_sec_context(&min, &s, g->acc_cred, &t1, GSS_C_NO_CHANNEL_BINDINGS,
					     NULL, NULL, &t2, &flags, NULL, NULL);
		if (maj != GSS_S_CONTINUE_NEEDED)
			die_gss("leg 2 (accept)", maj, min);
		maj = gss_init_sec_context(&min, g->init_cred, &c, g->target, &g_mech, FLAGS, 0,
					   GSS_C_NO_CHANNEL_BINDINGS, &t2, NULL, &t3, &flags, NULL);
		if (maj != GSS_S_COMPLETE)
			die_gss("leg 3 (init)", maj, min);
		maj = gss_accept_sec_context(&min, &s, g->acc_cred, &t3, GSS_C_NO_CHANNEL_BINDINGS,
					     NULL, NULL, &t4, &flags, NULL, NULL);
		if (maj != GSS_S_COMPLETE)
			die_gss("leg 4 (accept)", maj, min);
		gss_release_buffer(&min, &t1);
		gss_release_buffer(&min, &t2);
		gss_release_buffer(&min, &t3);
		gss_release_buffer(&min, &t4);
		if (gss_delete_sec_context(&min, &c, GSS_C_NO_BUFFER) != GSS_S_COMPLETE ||
		    gss_delete_sec_context(&min, &s, GSS_C_NO_BUFFER) != GSS_S_COMPLETE)
			die("gss_delete_sec_context");
	}
}

static _Noreturn void usage(const char *prog)
{
	fprintf(stderr, "usage: %s round N | --callgrind N\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 || (strcmp(argv[1], "round") != 0 && strcmp(argv[1], "--callgrind") != 0))
		usage(argv[0]);
	char *end;
	errno = 0;
	unsigned long n = strtoul(argv[2], &end, 10);
	if (argv[2][0] < '0' || argv[2][0] > '9' || *end != '\0' || errno != 0 || n == 0)
		usage(argv[0]);
	user_file_setup();
	struct gss g;
	creds_acquire(&g);
	if (strcmp(argv[1], "--callgrind") == 0) {
		handshakes(&g, n);
		printf("callgrind-ops %lu\n", n);
	} else {
		handshakes(&g, n / 10 + 1);
		double c0 = cpu_s();
		uint64_t t0 = now_ns();
		handshakes(&g, n);
		uint64_t t1 = now_ns();
		double c1 = cpu_s();
		printf("ntlm-round gss-ntlmssp %.1f %.2f\n", (double)n * 1e9 / (double)(t1 - t0),
		       (c1 - c0) * 1e6 / (double)n);
	}
	creds_free(&g);
	return 0;
}
