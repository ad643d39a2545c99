/*
 * test/peers/gss_peer.c - an interop peer that drives the system GSSAPI (MIT
 * mechglue) with one mechanism, asked for by its OID: gss-ntlmssp
 * (1.3.6.1.4.1.311.2.2.10, the default), MIT's Kerberos 5
 * (1.2.840.113554.1.2.2) or SPNEGO (1.3.6.1.5.5.2).  The test driver runs it
 * as a child and talks frames (peer_proto.h) over its stdin/stdout; see
 * README.md.
 *
 *   gss_peer client --user DOM\user --password PW [--target SVC/host] [--no-sign]
 *   gss_peer server --user-file PATH [--no-sign]
 *   gss_peer client --mech krb5|spnego --target SVC@host [--user U --password PW]
 *            [--neg-mechs krb5,ntlm]
 *   gss_peer server --mech krb5|spnego [--user-file PATH] [--neg-mechs krb5,ntlm]
 *
 * NTLM: the client takes its password from the command line
 * (gss_acquire_cred_with_password); the server points NTLM_USER_FILE at the
 * user file (lines DOMAIN:user:password), which gss-ntlmssp reads itself.
 * Kerberos and SPNEGO: the client uses the password, or without --user the
 * default ccache (KRB5CCNAME); the server the default keytab (KRB5_KTNAME).
 *
 * gss-ntlmssp 1.2.0 leaks (an OpenSSL MD4 fetch per handshake), so this
 * process is not meant to run under Valgrind or LeakSanitizer.
 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_common.h"

static gss_OID_desc ntlm_mech = { 10, (void *)"\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a" };
static gss_OID_desc krb5_mech = { 9, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02" };
static gss_OID_desc spnego_mech = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };

/* The mechanism (--mech) and its one-element set; NTLM unless told. */
enum mech_kind { MECH_NTLM, MECH_KRB5, MECH_SPNEGO };
static enum mech_kind mech_kind = MECH_NTLM;
static gss_OID mech = &ntlm_mech;
static gss_OID_set_desc mechs = { 1, &ntlm_mech };
/* --neg-mechs (SPNEGO only): the mechanisms SPNEGO may negotiate. */
static gss_OID_desc neg_elems[2];
static gss_OID_set_desc neg_set = { 0, neg_elems };

/* Placeholders for the options parse() requires for NTLM (--user,
 * --password, --user-file), which Kerberos and SPNEGO do not need: put
 * first on the command line, so given options replace them, and recognised
 * by address afterwards. */
static char no_user[] = "", no_password[] = "", no_user_file[] = "";

/* "what: major 0x... (text); minor N (text)" */
static void gss_text(char *dst, size_t cap, const char *what, OM_uint32 maj, OM_uint32 min)
{
	size_t used;
	int pass;

	snprintf(dst, cap, "%s: major 0x%08lx, minor %lu", what, (unsigned long)maj,
		 (unsigned long)min);
	for (pass = 0; pass < 2; pass++) {
		OM_uint32 code = pass == 0 ? maj : min;
		int type = pass == 0 ? GSS_C_GSS_CODE : GSS_C_MECH_CODE;
		OM_uint32 msg_ctx = 0, m2;

		if (pass == 1 && min == 0)
			break;
		do {
			gss_buffer_desc s = GSS_C_EMPTY_BUFFER;
			if (GSS_ERROR(gss_display_status(&m2, code, type,
							 mech_kind == MECH_NTLM ? mech : GSS_C_NO_OID,
							 &msg_ctx, &s)))
				break;
			used = strlen(dst);
			if (used < cap)
				snprintf(dst + used, cap - used, "; %.*s", (int)s.length,
					 (const char *)s.value);
			gss_release_buffer(&m2, &s);
		} while (msg_ctx != 0);
	}
}

static _Noreturn void gss_fail(const char *what, OM_uint32 maj, OM_uint32 min)
{
	char text[1024];

	gss_text(text, sizeof text, what, maj, min);
	fail("%s", text);
}

static void send_pair(unsigned char tag, const gss_buffer_desc *a, const char *b)
{
	size_t lb = strlen(b);

	if (a->length + lb > sizeof wbuf)
		fail("message too long");
	memcpy(wbuf, a->value, a->length);
	memcpy(wbuf + a->length, b, lb);
	send_frame(tag, wbuf, a->length + lb);
}

/* M for NTLM: the 16-byte signature || text; for Kerberos and SPNEGO,
 * whose MICs vary in length: be32 MIC length || MIC || text. */
static void send_signed(const gss_buffer_desc *mic, const char *text)
{
	unsigned char be[PEER_MIC_LEN_LEN];
	size_t lt = strlen(text);

	if (mech_kind == MECH_NTLM) {
		send_pair(PEER_TAG_SIGNED, mic, text);
		return;
	}
	if (mic->length > UINT32_MAX || PEER_MIC_LEN_LEN + mic->length + lt > sizeof wbuf)
		fail("message too long");
	peer_put_be32(be, (uint32_t)mic->length);
	memcpy(wbuf, be, PEER_MIC_LEN_LEN);
	memcpy(wbuf + PEER_MIC_LEN_LEN, mic->value, mic->length);
	memcpy(wbuf + PEER_MIC_LEN_LEN + mic->length, text, lt);
	send_frame(PEER_TAG_SIGNED, wbuf, PEER_MIC_LEN_LEN + mic->length + lt);
}

/* Splits a received M (in rbuf, len bytes) into MIC and text; NULL, or
 * what is wrong with it. */
static const char *split_signed(size_t len, gss_buffer_desc *mic, gss_buffer_desc *msg)
{
	size_t ml;

	if (mech_kind == MECH_NTLM) {
		if (len < PEER_SIG_LEN)
			return "M frame shorter than a signature";
		ml = PEER_SIG_LEN;
		mic->value = rbuf;
	} else {
		if (len < PEER_MIC_LEN_LEN)
			return "M frame shorter than its MIC length";
		ml = peer_get_be32(rbuf);
		if (ml > len - PEER_MIC_LEN_LEN)
			return "M frame shorter than its MIC";
		mic->value = rbuf + PEER_MIC_LEN_LEN;
		len -= PEER_MIC_LEN_LEN;
	}
	mic->length = ml;
	msg->value = (unsigned char *)mic->value + ml;
	msg->length = len - ml;
	return NULL;
}

/* Both roles: sign, seal, check the other side's signed and sealed
 * messages, then K("ok") or K(what went wrong). */
static void message_phase(gss_ctx_id_t ctx, const struct opts *o)
{
	char mine_sign[128], mine_seal[128], want_sign[128], want_seal[128];
	char err[1024] = "", text[1024];
	OM_uint32 maj, min;
	gss_buffer_desc msg, tok;
	unsigned char tag;
	size_t len;
	int conf = 0;

	snprintf(mine_sign, sizeof mine_sign, "%s signs this", o->says);
	snprintf(mine_seal, sizeof mine_seal, "%s seals this", o->says);
	snprintf(want_sign, sizeof want_sign, "%s signs this", o->expects);
	snprintf(want_seal, sizeof want_seal, "%s seals this", o->expects);

	if (!o->no_sign) {
		msg.value = mine_sign;
		msg.length = strlen(mine_sign);
		maj = gss_get_mic(&min, ctx, GSS_C_QOP_DEFAULT, &msg, &tok);
		if (GSS_ERROR(maj))
			gss_fail("gss_get_mic", maj, min);
		if (mech_kind == MECH_NTLM && tok.length != PEER_SIG_LEN)
			fail("gss_get_mic gave %zu bytes, not 16", tok.length);
		send_signed(&tok, mine_sign);
		gss_release_buffer(&min, &tok);
	}

	msg.value = mine_seal;
	msg.length = strlen(mine_seal);
	maj = gss_wrap(&min, ctx, 1, GSS_C_QOP_DEFAULT, &msg, &conf, &tok);
	if (GSS_ERROR(maj))
		gss_fail("gss_wrap", maj, min);
	if (!conf)
		fail("gss_wrap did not seal");
	send_frame(PEER_TAG_SEALED, tok.value, tok.length);
	gss_release_buffer(&min, &tok);

	if (!o->no_sign) {
		tag = recv_frame(&len);
		if (tag != PEER_TAG_SIGNED)
			fail("expected an M frame, got '%c'", tag);
		const char *bad = split_signed(len, &tok, &msg);
		if (bad != NULL) {
			note(err, sizeof err, bad);
		} else {
			maj = gss_verify_mic(&min, ctx, &msg, &tok, NULL);
			if (GSS_ERROR(maj)) {
				gss_text(text, sizeof text, "gss_verify_mic", maj, min);
				note(err, sizeof err, text);
			} else if (msg.length != strlen(want_sign) ||
				   memcmp(msg.value, want_sign, msg.length) != 0) {
				note(err, sizeof err, "signed text differs");
			}
		}
	}

	tag = recv_frame(&len);
	if (tag != PEER_TAG_SEALED)
		fail("expected a W frame, got '%c'", tag);
	msg.value = rbuf;
	msg.length = len;
	conf = 0;
	maj = gss_unwrap(&min, ctx, &msg, &tok, &conf, NULL);
	if (GSS_ERROR(maj)) {
		gss_text(text, sizeof text, "gss_unwrap", maj, min);
		note(err, sizeof err, text);
	} else {
		if (!conf)
			note(err, sizeof err, "W message was not sealed");
		else if (tok.length != strlen(want_seal) ||
			 memcmp(tok.value, want_seal, tok.length) != 0)
			note(err, sizeof err, "sealed text differs");
		gss_release_buffer(&min, &tok);
	}

	if (err[0] != '\0')
		fprintf(stderr, "gss_peer: %s\n", err);
	if (peer_write_text(out_fd, PEER_TAG_ACK, err[0] != '\0' ? err : "ok") != 0)
		fail("writing K: %s", strerror(errno));
}

/* An R in place of the next token: the acceptor has decided. */
static void run_client(const struct opts *o)
{
	OM_uint32 maj, min;
	gss_name_t user = GSS_C_NO_NAME, target = GSS_C_NO_NAME;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_buffer_desc b, in = GSS_C_EMPTY_BUFFER, out;
	char spn[512];
	char *slash;
	unsigned char tag;
	size_t len;
	int first = 1;
	OM_uint32 req = GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG, got = 0;

	if (mech_kind != MECH_NTLM)
		req |= GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG;
	if (o->user != NULL) {
		b.value = (void *)o->user;
		b.length = strlen(o->user);
		maj = gss_import_name(&min, &b, GSS_C_NT_USER_NAME, &user);
		if (GSS_ERROR(maj))
			gss_fail("gss_import_name(user)", maj, min);
		b.value = (void *)o->password;
		b.length = strlen(o->password);
		maj = gss_acquire_cred_with_password(&min, user, &b, GSS_C_INDEFINITE, &mechs,
						     GSS_C_INITIATE, &cred, NULL, NULL);
		if (GSS_ERROR(maj))
			gss_fail("gss_acquire_cred_with_password", maj, min);
	} else {
		/* Kerberos, SPNEGO: the default ccache's principal. */
		maj = gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs,
				       GSS_C_INITIATE, &cred, NULL, NULL);
		if (GSS_ERROR(maj))
			gss_fail("gss_acquire_cred(initiate)", maj, min);
	}
	if (neg_set.count > 0) {
		maj = gss_set_neg_mechs(&min, cred, &neg_set);
		if (GSS_ERROR(maj))
			gss_fail("gss_set_neg_mechs", maj, min);
	}

	/* SSPI's "SVC/host" is GSSAPI's host-based "SVC@host". */
	snprintf(spn, sizeof spn, "%s", o->target != NULL ? o->target : "HTTP/localhost");
	slash = strchr(spn, '/');
	if (slash != NULL)
		*slash = '@';
	b.value = spn;
	b.length = strlen(spn);
	maj = gss_import_name(&min, &b, GSS_C_NT_HOSTBASED_SERVICE, &target);
	if (GSS_ERROR(maj))
		gss_fail("gss_import_name(target)", maj, min);

	for (;;) {
		out.length = 0;
		out.value = NULL;
		maj = gss_init_sec_context(&min, cred, &ctx, target, mech, req, 0,
					   GSS_C_NO_CHANNEL_BINDINGS, first ? GSS_C_NO_BUFFER : &in,
					   NULL, &out, &got, NULL);
		first = 0;
		if (GSS_ERROR(maj))
			gss_fail("gss_init_sec_context", maj, min);
		if (out.length > 0)
			send_frame(PEER_TAG_TOKEN, out.value, out.length);
		gss_release_buffer(&min, &out);
		if (!(maj & GSS_S_CONTINUE_NEEDED))
			break;
		tag = recv_frame(&len);
		if (tag == PEER_TAG_RESULT) {
			client_result(len);
			fail("R with status 0 before the handshake completed");
		}
		if (tag != PEER_TAG_TOKEN)
			fail("expected a T frame, got '%c'", tag);
		in.value = rbuf;
		in.length = len;
	}

	tag = recv_frame(&len);
	if (tag != PEER_TAG_RESULT)
		fail("expected an R frame, got '%c'", tag);
	client_result(len);
	if (mech_kind != MECH_NTLM && (got & req) != req)
		fail("the context has flags 0x%lx, not all of 0x%lx", (unsigned long)got,
		     (unsigned long)req);
	message_phase(ctx, o);

	gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	gss_release_cred(&min, &cred);
	gss_release_name(&min, &target);
	if (user != GSS_C_NO_NAME)
		gss_release_name(&min, &user);
}

static void run_server(const struct opts *o)
{
	OM_uint32 maj, min;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_name_t src = GSS_C_NO_NAME;
	gss_buffer_desc in, out, shown;
	char name[1024], text[1024];
	unsigned char tag;
	size_t len;

	/* gss-ntlmssp's acceptor looks users up in this file, re-read on
	 * every handshake; Kerberos takes its keys from KRB5_KTNAME. */
	if (o->user_file != NULL && setenv("NTLM_USER_FILE", o->user_file, 1) != 0)
		fail("setenv: %s", strerror(errno));
	maj = gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT,
			       &cred, NULL, NULL);
	if (GSS_ERROR(maj))
		gss_fail("gss_acquire_cred(accept)", maj, min);
	if (neg_set.count > 0) {
		maj = gss_set_neg_mechs(&min, cred, &neg_set);
		if (GSS_ERROR(maj))
			gss_fail("gss_set_neg_mechs", maj, min);
	}

	for (;;) {
		tag = recv_frame(&len);
		if (tag != PEER_TAG_TOKEN)
			fail("expected a T frame, got '%c'", tag);
		in.value = rbuf;
		in.length = len;
		out.length = 0;
		out.value = NULL;
		maj = gss_accept_sec_context(&min, &ctx, cred, &in, GSS_C_NO_CHANNEL_BINDINGS, &src,
					     NULL, &out, NULL, NULL, NULL);
		if (GSS_ERROR(maj)) {
			gss_text(text, sizeof text, "gss_accept_sec_context", maj, min);
			fprintf(stderr, "gss_peer: rejecting: %s\n", text);
			gss_release_buffer(&min, &out);
			if (peer_write_result(out_fd, maj, NULL) != 0)
				fail("writing R: %s", strerror(errno));
			if (ctx != GSS_C_NO_CONTEXT)
				gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
			gss_release_cred(&min, &cred);
			exit(0);
		}
		if (maj & GSS_S_CONTINUE_NEEDED) {
			send_frame(PEER_TAG_TOKEN, out.value, out.length);
			gss_release_buffer(&min, &out);
			continue;
		}
		/* Kerberos with mutual authentication (AP-REP) and SPNEGO
		 * (accept-completed) end with a token: a T before the R. */
		if (out.length > 0 && mech_kind == MECH_NTLM)
			fail("the acceptor produced a final token; the protocol has no room for it");
		if (out.length > 0)
			send_frame(PEER_TAG_TOKEN, out.value, out.length);
		gss_release_buffer(&min, &out);
		break;
	}

	maj = gss_display_name(&min, src, &shown, NULL);
	if (GSS_ERROR(maj))
		gss_fail("gss_display_name", maj, min);
	snprintf(name, sizeof name, "%.*s", (int)shown.length, (const char *)shown.value);
	gss_release_buffer(&min, &shown);
	if (peer_write_result(out_fd, 0, name) != 0)
		fail("writing R: %s", strerror(errno));

	message_phase(ctx, o);

	gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	gss_release_name(&min, &src);
	gss_release_cred(&min, &cred);
}

/* One --neg-mechs name into neg_set. */
static void neg_add(const char *name, size_t n)
{
	gss_OID m = n == 4 && strncmp(name, "krb5", 4) == 0   ? &krb5_mech
		    : n == 4 && strncmp(name, "ntlm", 4) == 0 ? &ntlm_mech
							      : NULL;

	if (m == NULL || neg_set.count >= 2)
		fail("--neg-mechs: '%.*s' is not krb5 or ntlm, or named twice", (int)n, name);
	neg_elems[neg_set.count++] = *m;
}

/* --mech and --neg-mechs are gss_peer's own; the rest goes to parse(),
 * after placeholders for the NTLM options Kerberos and SPNEGO do without. */
static void parse_gss(int argc, char **argv, struct opts *o)
{
	static char *args[72];
	const char *neg = NULL;
	int n = 0;

	if (argc < 2) {
		parse(argc, argv, o); /* its usage message */
		return;
	}
	if (argc > 64)
		fail("too many arguments");
	args[n++] = argv[0];
	args[n++] = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--mech") == 0 || strcmp(argv[i], "--neg-mechs") == 0) {
			if (i + 1 >= argc)
				fail("%s without a value", argv[i]);
			if (strcmp(argv[i], "--neg-mechs") == 0)
				neg = argv[++i];
			else if (strcmp(argv[++i], "ntlm") == 0)
				mech_kind = MECH_NTLM;
			else if (strcmp(argv[i], "krb5") == 0)
				mech_kind = MECH_KRB5;
			else if (strcmp(argv[i], "spnego") == 0)
				mech_kind = MECH_SPNEGO;
			else
				fail("--mech: '%s' is not ntlm, krb5 or spnego", argv[i]);
			continue;
		}
		args[n++] = argv[i];
	}
	if (mech_kind != MECH_NTLM) {
		memmove(args + 8, args + 2, (size_t)(n - 2) * sizeof args[0]);
		args[2] = "--user";
		args[3] = no_user;
		args[4] = "--password";
		args[5] = no_password;
		args[6] = "--user-file";
		args[7] = no_user_file;
		n += 6;
	}
	args[n] = NULL;
	parse(n, args, o);
	mech = mech_kind == MECH_KRB5 ? &krb5_mech : mech_kind == MECH_SPNEGO ? &spnego_mech : &ntlm_mech;
	mechs.elements = mech;
	if (o->user == no_user)
		o->user = NULL;
	if (o->password == no_password)
		o->password = NULL;
	if (o->user_file == no_user_file)
		o->user_file = NULL;
	if ((o->user == NULL) != (o->password == NULL))
		fail("--user and --password go together");
	if (neg != NULL) {
		if (mech_kind != MECH_SPNEGO)
			fail("--neg-mechs needs --mech spnego");
		while (*neg != '\0') {
			size_t l = strcspn(neg, ",");
			neg_add(neg, l);
			neg += l;
			if (*neg == ',')
				neg++;
		}
	}
}

int main(int argc, char **argv)
{
	struct opts o;

	peer_name = "gss_peer";
	peer_stdio_init();
	parse_gss(argc, argv, &o);
	if (o.server)
		run_server(&o);
	else
		run_client(&o);
	return 0;
}
