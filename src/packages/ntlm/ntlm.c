/*
 * src/packages/ntlm/ntlm.c - the "NTLM" package: credentials, the three
 * legs, message protection ([MS-NLMP], connection-oriented).
 *
 * What it speaks: NTLMv2 responses with extended session security, 128-bit
 * keys, key exchange, the MIC, target-info AV pairs, channel bindings.
 * What it refuses, in both directions (README, "NTLM"):
 *  - LM and NTLMv1 responses: an AUTHENTICATE whose NtChallengeResponse is
 *    24 bytes or shorter gets SEC_E_LOGON_DENIED; we never send them.
 *  - a peer without extended session security or without target info (an
 *    NTLMv1-only peer): SEC_E_UNSUPPORTED_FUNCTION from the leg that sees it.
 *  - anonymous logons: SEC_E_LOGON_DENIED.
 *  - sealing below 128 bits: the server grants SEAL only with 128.
 *
 * State of a context (struct ntlm_ctx), by step:
 *   client: SENT_NEGOTIATE -> DONE (after CHALLENGE in, AUTHENTICATE out)
 *   server: SENT_CHALLENGE -> DONE (after AUTHENTICATE in)
 * The NEGOTIATE and CHALLENGE bytes are kept (msgs) until DONE, for the
 * MIC; then freed, so a complete context holds only its keys and name.
 * A failed leg leaves step FAILED: every later call is refused.
 */
#define _DEFAULT_SOURCE /* gethostname */
#include "packages/ntlm/ntlm_int.h"
#include "packages/package.h"
#include "util/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define NTLM_NEVER INT64_MAX
/* Our Version field: 10.0, build 0, NTLMSSP_REVISION_W2K3 (15). */
static const uint8_t our_version[8] = {10, 0, 0, 0, 0, 0, 0, 15};

/* What a client asks for: Unicode, target, NTLM, ESS, 128, 56, key
 * exchange, signing and sealing, and our Version. */
#define CLIENT_FLAGS                                                                        \
	(SA_NTLM_F_UNICODE | SA_NTLM_F_REQUEST_TARGET | SA_NTLM_F_NTLM |                    \
	 SA_NTLM_F_ALWAYS_SIGN | SA_NTLM_F_ESS | SA_NTLM_F_VERSION | SA_NTLM_F_128 |        \
	 SA_NTLM_F_KEY_EXCH | SA_NTLM_F_56 | SA_NTLM_F_SIGN | SA_NTLM_F_SEAL)
/* What a server echoes back when the client offered it. */
#define ECHO_FLAGS                                                                          \
	(SA_NTLM_F_ALWAYS_SIGN | SA_NTLM_F_128 | SA_NTLM_F_56 | SA_NTLM_F_KEY_EXCH |        \
	 SA_NTLM_F_SIGN)

/* ---- credentials ---------------------------------------------------------- */

/*
 * Invariants:
 *  - outbound: user, domain and nt_hash are set (has_identity) and never
 *    change after acquire; the password itself is never kept.
 *  - inbound: users is read once at acquire (NTLM_USER_FILE) and read-only
 *    after; lookup/lookup_arg change under lock (sspiasync_ntlm_set_lookup),
 *    and a leg copies them under lock and calls the callback without it.
 *  - host: our NetBIOS name (upper case, <= 15 bytes), fixed at acquire.
 */
struct ntlm_cred {
	unsigned long use;
	int has_identity;
	char *user, *domain;
	uint8_t nt_hash[16];
	struct sa_ntlm_users users;
	pthread_mutex_t lock;
	sa_pkg_lookup_fn lookup;
	void *lookup_arg;
	char host[16];
};

enum ntlm_step { SENT_NEGOTIATE, SENT_CHALLENGE, DONE, FAILED };

struct ntlm_ctx {
	struct ntlm_cred *cred;
	int client;
	enum ntlm_step step;
	uint32_t flags;       /* negotiated */
	uint8_t *msgs;        /* NEGOTIATE || CHALLENGE, until DONE */
	size_t neg_len, chal_len;
	uint8_t server_challenge[8];
	uint8_t exported[16]; /* ExportedSessionKey, DONE only */
	/* The message keys: made from exported by the first message call, so
	 * a context that never signs or seals (HTTP authentication) holds no
	 * RC4 states (2 x 258 bytes) and its handshake derives none. */
	struct ntlm_keys {
		struct sa_ntlm_dir send, recv;
	} *keys;
	char *name;           /* DOMAIN\user: the peer's (server) or our own (client) */
	char *server;         /* the target given (client) or our host name (server), DONE only */
	int64_t start;
};

static int64_t filetime_now(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + 11644473600LL) * 10000000 + ts.tv_nsec / 100;
}

static void host_name(char out[16])
{
	char h[256];
	if (gethostname(h, sizeof h) != 0)
		strcpy(h, "LOCALHOST");
	h[sizeof h - 1] = '\0';
	size_t i = 0;
	for (; i < 15 && h[i] != '\0' && h[i] != '.'; i++)
		out[i] = (h[i] >= 'a' && h[i] <= 'z') ? (char)(h[i] - 32) : h[i];
	out[i] = '\0';
	if (i == 0)
		strcpy(out, "LOCALHOST");
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = sa__malloc(n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

static void str_wipe_free(char *s)
{
	if (s != NULL) {
		sa_ntlm_wipe(s, strlen(s));
		sa__free(s);
	}
}

static void cred_free(void *c)
{
	struct ntlm_cred *cr = c;
	str_wipe_free(cr->user);
	str_wipe_free(cr->domain);
	sa_ntlm_users_free(&cr->users);
	(void)pthread_mutex_destroy(&cr->lock);
	sa_ntlm_wipe(cr, sizeof *cr);
	sa__free(cr);
}

/* Split "DOMAIN\user" (or "user@domain", or "user"). */
static int split_principal(const char *p, char **user, char **domain)
{
	const char *bs = strchr(p, '\\'), *at = strchr(p, '@');
	const char *u = p, *d = "";
	size_t ulen = strlen(p), dlen = 0;
	if (bs != NULL) {
		d = p;
		dlen = (size_t)(bs - p);
		u = bs + 1;
		ulen = strlen(u);
	} else if (at != NULL) {
		ulen = (size_t)(at - p);
		d = at + 1;
		dlen = strlen(d);
	}
	*user = sa__malloc(ulen + 1);
	*domain = sa__malloc(dlen + 1);
	if (*user == NULL || *domain == NULL) {
		sa__free(*user);
		sa__free(*domain);
		*user = *domain = NULL; /* the caller frees both whatever happens */
		return -1;
	}
	memcpy(*user, u, ulen);
	(*user)[ulen] = '\0';
	memcpy(*domain, d, dlen);
	(*domain)[dlen] = '\0';
	return 0;
}

/* The outbound identity: explicit, else the user file's entry. */
static int32_t cred_outbound(struct ntlm_cred *c, const struct sa_pkg_cred_args *a)
{
	if (a->identity != NULL) {
		const struct sa_pkg_identity *id = a->identity;
		uint8_t probe[2 * SA_NTLM_NAME_MAX];
		if (sa_ntlm_utf16(id->user, 0, probe, sizeof probe) < 0 ||
		    sa_ntlm_utf16(id->domain, 0, probe, sizeof probe) < 0)
			return SEC_E_INVALID_PARAMETER; /* not UTF-8, or too long */
		if (sa_ntlm_nt_hash(id->password, c->nt_hash) != 0)
			return SEC_E_INVALID_PARAMETER;
		c->user = dup_str(id->user);
		c->domain = dup_str(id->domain);
		if (c->user == NULL || c->domain == NULL)
			return SEC_E_INSUFFICIENT_MEMORY;
		c->has_identity = 1;
		return SEC_E_OK;
	}
	const char *path = getenv("NTLM_USER_FILE");
	if (path == NULL)
		return SEC_E_NO_CREDENTIALS;
	struct sa_ntlm_users users;
	int rc = sa_ntlm_users_load(path, &users);
	if (rc == -2)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (rc != 0)
		return SEC_E_NO_CREDENTIALS;
	char *want_user = NULL, *want_domain = NULL;
	const struct sa_ntlm_user *e = NULL;
	int32_t st = SEC_E_OK;
	if (a->principal != NULL) {
		if (split_principal(a->principal, &want_user, &want_domain) != 0)
			st = SEC_E_INSUFFICIENT_MEMORY;
		else
			e = sa_ntlm_users_find(&users, want_domain[0] ? want_domain : NULL,
					       want_user);
	} else if (users.n != 0) {
		e = &users.v[0];
	}
	if (st == SEC_E_OK && e == NULL)
		st = SEC_E_NO_CREDENTIALS;
	if (st == SEC_E_OK) {
		c->user = dup_str(e->user);
		c->domain = dup_str(e->domain);
		memcpy(c->nt_hash, e->nt_hash, 16);
		c->has_identity = 1;
		if (c->user == NULL || c->domain == NULL)
			st = SEC_E_INSUFFICIENT_MEMORY;
	}
	sa__free(want_user);
	sa__free(want_domain);
	sa_ntlm_users_free(&users);
	return st;
}

static int32_t cred_acquire(const struct sa_pkg_cred_args *a, void **out, int64_t *expiry)
{
	struct ntlm_cred *c = sa__calloc(1, sizeof *c);
	if (c == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		sa__free(c);
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	c->use = a->use;
	host_name(c->host);
	int32_t st = SEC_E_OK;
	if (a->use & SECPKG_CRED_OUTBOUND)
		st = cred_outbound(c, a);
	if (st == SEC_E_OK && (a->use & SECPKG_CRED_INBOUND)) {
		const char *path = getenv("NTLM_USER_FILE");
		int rc = path != NULL ? sa_ntlm_users_load(path, &c->users) : 0;
		if (rc == -2)
			st = SEC_E_INSUFFICIENT_MEMORY;
		else if (rc != 0)
			st = SEC_E_NO_CREDENTIALS; /* named but unreadable */
	}
	if (st != SEC_E_OK) {
		cred_free(c);
		return st;
	}
	*out = c;
	*expiry = NTLM_NEVER;
	return SEC_E_OK;
}

static int32_t cred_name(void *cv, char **name)
{
	struct ntlm_cred *c = cv;
	if (!c->has_identity) {
		*name = dup_str(c->host);
		return *name != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
	}
	size_t n = strlen(c->domain) + 1 + strlen(c->user) + 1;
	*name = sa__malloc(n);
	if (*name == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (c->domain[0] != '\0')
		(void)snprintf(*name, n, "%s\\%s", c->domain, c->user);
	else
		(void)snprintf(*name, n, "%s", c->user);
	return SEC_E_OK;
}

static int32_t cred_set_lookup(void *cv, sa_pkg_lookup_fn fn, void *arg)
{
	struct ntlm_cred *c = cv;
	if (!(c->use & SECPKG_CRED_INBOUND))
		return SEC_E_UNSUPPORTED_FUNCTION;
	(void)pthread_mutex_lock(&c->lock);
	c->lookup = fn;
	c->lookup_arg = arg;
	(void)pthread_mutex_unlock(&c->lock);
	return SEC_E_OK;
}

/* ---- contexts ------------------------------------------------------------- */

static struct ntlm_ctx *ctx_new(struct ntlm_cred *c, int client)
{
	struct ntlm_ctx *x = sa__calloc(1, sizeof *x);
	if (x != NULL) {
		x->cred = c;
		x->client = client;
	}
	return x;
}

static void ctx_delete(void *xv)
{
	struct ntlm_ctx *x = xv;
	if (x->msgs != NULL) {
		sa_ntlm_wipe(x->msgs, x->neg_len + x->chal_len);
		sa__free(x->msgs);
	}
	if (x->keys != NULL) {
		sa_ntlm_wipe(x->keys, sizeof *x->keys);
		sa__free(x->keys);
	}
	sa__free(x->name);
	sa__free(x->server);
	sa_ntlm_wipe(x, sizeof *x);
	sa__free(x);
}

/* Keep a copy of the message just sent or received, after those before it. */
static int keep_msg(struct ntlm_ctx *x, const uint8_t *m, size_t n, int is_challenge)
{
	size_t have = x->neg_len + x->chal_len;
	uint8_t *p = sa__malloc(have + n);
	if (p == NULL)
		return -1;
	if (have != 0)
		memcpy(p, x->msgs, have);
	memcpy(p + have, m, n);
	if (x->msgs != NULL) {
		sa_ntlm_wipe(x->msgs, have);
		sa__free(x->msgs);
	}
	x->msgs = p;
	if (is_challenge)
		x->chal_len = n;
	else
		x->neg_len = n;
	return 0;
}

static void drop_msgs(struct ntlm_ctx *x)
{
	if (x->msgs != NULL) {
		sa_ntlm_wipe(x->msgs, x->neg_len + x->chal_len);
		sa__free(x->msgs);
	}
	x->msgs = NULL;
}

/* The ISC_RET_ / ASC_RET_ flags a complete context reports: what was asked
 * for and negotiated (the REQ and RET bits of these coincide). */
static unsigned long ret_flags(const struct ntlm_ctx *x, unsigned long req)
{
	unsigned long integ = x->client ? ISC_REQ_INTEGRITY : ASC_REQ_INTEGRITY;
	unsigned long got = ISC_REQ_CONNECTION & req;
	if (x->flags & (SA_NTLM_F_SIGN | SA_NTLM_F_SEAL))
		got |= req & (integ | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT);
	if (x->flags & SA_NTLM_F_SEAL)
		got |= req & ISC_REQ_CONFIDENTIALITY;
	return got;
}

/* MD5 of the channel bindings as [MS-NLMP] 3.1.5.1.2 hashes them (the
 * gss_channel_bindings_struct layout); zeros when there are none.  -1 when
 * the buffer is malformed. */
static int bindings_hash(const unsigned char *b, size_t n, uint8_t out[16])
{
	memset(out, 0, 16);
	if (b == NULL)
		return 0;
	SEC_CHANNEL_BINDINGS h;
	if (n < sizeof h)
		return -1;
	memcpy(&h, b, sizeof h);
	const unsigned long len[3] = {h.cbInitiatorLength, h.cbAcceptorLength,
				      h.cbApplicationDataLength};
	unsigned long off[3] = {h.dwInitiatorOffset, h.dwAcceptorOffset,
				h.dwApplicationDataOffset};
	for (int i = 0; i < 3; i++) {
		if (len[i] == 0)
			off[i] = 0; /* an empty blob's offset is anything: b + off must stay inside */
		else if (off[i] > n || len[i] > n - off[i])
			return -1;
	}
	uint8_t w[5][4];
	sa_ntlm_put32(w[0], (uint32_t)h.dwInitiatorAddrType);
	sa_ntlm_put32(w[1], (uint32_t)len[0]);
	sa_ntlm_put32(w[2], (uint32_t)h.dwAcceptorAddrType);
	sa_ntlm_put32(w[3], (uint32_t)len[1]);
	sa_ntlm_put32(w[4], (uint32_t)len[2]);
	struct sa_ntlm_iov v[8] = {
		{w[0], 4}, {w[1], 4}, {b + off[0], len[0]}, {w[2], 4},
		{w[3], 4}, {b + off[1], len[1]}, {w[4], 4}, {b + off[2], len[2]},
	};
	sa_ntlm_md5(v, 8, out);
	return 0;
}

/* A name for the AUTHENTICATE: UTF-16LE, or ASCII when OEM. */
static long put_name(const char *s, int unicode, uint8_t *out, size_t cap)
{
	if (unicode)
		return sa_ntlm_utf16(s, 0, out, cap);
	size_t n = strlen(s);
	if (n > cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return -1; /* OEM strings: ASCII only */
	memcpy(out, s, n);
	return (long)n;
}

/* A name from a received message, as new UTF-8. */
static char *get_name(const struct sa_ntlm_field *f, int unicode)
{
	if (f->len == 0) {
		char *e = sa__malloc(1);
		if (e != NULL)
			e[0] = '\0';
		return e;
	}
	return unicode ? sa_ntlm_utf8(f->p, f->len) : sa_ntlm_oem(f->p, f->len);
}

/* 1 when get_name can take f (a NULL from it then meant no memory). */
static int name_ok(const struct sa_ntlm_field *f, int unicode)
{
	if (unicode)
		return sa_ntlm_utf16_ok(f->p, f->len);
	return f->len == 0 || memchr(f->p, 0, f->len) == NULL;
}

/* ---- client legs ---------------------------------------------------------- */

static int32_t client_negotiate(struct ntlm_cred *c, void **ctx, struct sa_pkg_leg *leg)
{
	if (leg->out_cap < 40)
		return SEC_E_BUFFER_TOO_SMALL;
	struct ntlm_ctx *x = ctx_new(c, 1);
	if (x == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	struct sa_ntlm_wr w;
	sa_ntlm_wr_init(&w, leg->out, leg->out_cap, SA_NTLM_NEGOTIATE, 40);
	sa_ntlm_wr_u32(&w, 12, CLIENT_FLAGS);
	sa_ntlm_wr_u32(&w, 20, 40); /* empty domain and workstation fields point at the end */
	sa_ntlm_wr_u32(&w, 28, 40);
	sa_ntlm_wr_bytes(&w, 32, our_version, 8);
	if (w.err || keep_msg(x, leg->out, w.len, 0) != 0) {
		ctx_delete(x);
		return w.err ? SEC_E_BUFFER_TOO_SMALL : SEC_E_INSUFFICIENT_MEMORY;
	}
	x->step = SENT_NEGOTIATE;
	leg->out_len = w.len;
	leg->expiry = NTLM_NEVER;
	*ctx = x;
	return SEC_I_CONTINUE_NEEDED;
}

/* Scratch for building an AUTHENTICATE (on the stack: ~4 KiB). */
struct auth_build {
	uint8_t blob[SA_NTLM_V2_BLOB_FIXED + SA_NTLM_TARGET_INFO_MAX + 64 +
		     2 * SA_NTLM_NAME_MAX + 16];
	uint8_t user[2 * SA_NTLM_NAME_MAX], domain[2 * SA_NTLM_NAME_MAX], host[32];
	uint8_t key[16], proof[16], base[16], exported[16], enc[16], lm[24];
};

/* The client's AV pairs: the server's, minus EOL and the pairs we set, then
 * MsvAvFlags (MIC), the target name, the channel bindings hash, EOL.
 * Returns the bytes written at out, or -1. */
static long client_av_pairs(const struct sa_ntlm_challenge *ch, const struct sa_pkg_leg *leg,
			    uint8_t *out, size_t cap)
{
	struct sa_ntlm_wr w = {.buf = out, .cap = cap, .len = 0};
	uint32_t avflags = 0;
	const uint8_t *ti = ch->target_info.p;
	size_t n = ch->target_info.len, at = 0;
	while (n - at >= 4) {
		uint16_t id = sa_ntlm_le16(ti + at);
		size_t len = sa_ntlm_le16(ti + at + 2);
		if (id == SA_NTLM_AV_EOL)
			break;
		if (id == SA_NTLM_AV_FLAGS && len == 4)
			avflags = sa_ntlm_le32(ti + at + 4);
		else if (id != SA_NTLM_AV_TARGET_NAME && id != SA_NTLM_AV_CHANNEL_BINDINGS &&
			 id != SA_NTLM_AV_FLAGS)
			sa_ntlm_wr_av(&w, id, ti + at + 4, len);
		at += 4 + len;
	}
	uint8_t f[4];
	sa_ntlm_put32(f, avflags | SA_NTLM_AVF_MIC);
	sa_ntlm_wr_av(&w, SA_NTLM_AV_FLAGS, f, 4);
	if (leg->target != NULL && leg->target[0] != '\0') {
		uint8_t t[2 * SA_NTLM_NAME_MAX];
		long tl = sa_ntlm_utf16(leg->target, 0, t, sizeof t);
		if (tl < 0)
			return -1;
		sa_ntlm_wr_av(&w, SA_NTLM_AV_TARGET_NAME, t, (size_t)tl);
	}
	uint8_t cb[16];
	if (bindings_hash(leg->bindings, leg->bindings_len, cb) != 0)
		return -1;
	sa_ntlm_wr_av(&w, SA_NTLM_AV_CHANNEL_BINDINGS, cb, 16);
	sa_ntlm_wr_av(&w, SA_NTLM_AV_EOL, NULL, 0);
	return w.err ? -1 : (long)w.len;
}

static int32_t client_authenticate(struct ntlm_ctx *x, struct sa_pkg_leg *leg)
{
	struct ntlm_cred *c = x->cred;
	struct sa_ntlm_challenge ch;
	if (leg->in == NULL || sa_ntlm_parse_challenge(leg->in, leg->in_len, &ch) != 0)
		return SEC_E_INVALID_TOKEN;
	if (ch.target_info.len > SA_NTLM_TARGET_INFO_MAX ||
	    (ch.target_info.len != 0 && sa_ntlm_av_check(ch.target_info.p, ch.target_info.len) != 0))
		return SEC_E_INVALID_TOKEN;
	if (!(ch.flags & SA_NTLM_F_ESS) || !(ch.flags & SA_NTLM_F_TARGET_INFO) ||
	    ch.target_info.len == 0)
		return SEC_E_UNSUPPORTED_FUNCTION; /* an NTLMv1-only server */
	int unicode = (ch.flags & SA_NTLM_F_UNICODE) != 0;
	uint32_t flags = (ch.flags & CLIENT_FLAGS) | (unicode ? 0 : SA_NTLM_F_OEM);
	if (unicode)
		flags &= ~SA_NTLM_F_OEM;

	struct auth_build *b = sa__malloc(sizeof *b);
	if (b == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	int32_t st = SEC_E_OK;
	long ul = put_name(c->user, unicode, b->user, sizeof b->user);
	long dl = put_name(c->domain, unicode, b->domain, sizeof b->domain);
	long hl = put_name(c->host, unicode, b->host, sizeof b->host);
	/* The NTLMv2 blob: types, Z(6), time, client challenge, Z(4), AV pairs, Z(4). */
	uint8_t *blob = b->blob;
	memset(blob, 0, SA_NTLM_V2_BLOB_FIXED);
	blob[0] = 1;
	blob[1] = 1;
	struct sa_ntlm_field ts;
	int has_ts = sa_ntlm_av_find(ch.target_info.p, ch.target_info.len, SA_NTLM_AV_TIMESTAMP,
				     &ts) && ts.len == 8;
	if (has_ts) {
		memcpy(blob + 8, ts.p, 8);
	} else {
		int64_t now = filetime_now();
		for (int i = 0; i < 8; i++)
			blob[8 + i] = (uint8_t)((uint64_t)now >> (8 * i));
	}
	long avl = client_av_pairs(&ch, leg, blob + SA_NTLM_V2_BLOB_FIXED,
				   sizeof b->blob - SA_NTLM_V2_BLOB_FIXED - 4);
	if (ul < 0 || dl < 0 || hl < 0 || avl < 0) {
		st = SEC_E_INVALID_PARAMETER; /* a name OEM cannot carry, or too long */
		goto out;
	}
	if (sa_ntlm_random(blob + 16, 8) != 0 || sa_ntlm_random(b->exported, 16) != 0) {
		st = SEC_E_INTERNAL_ERROR;
		goto out;
	}
	size_t blob_len = SA_NTLM_V2_BLOB_FIXED + (size_t)avl + 4;
	memset(blob + blob_len - 4, 0, 4);

	if (sa_ntlm_ntowfv2(c->nt_hash, c->user, c->domain, b->key) != 0) {
		st = SEC_E_INVALID_PARAMETER;
		goto out;
	}
	sa_ntlm_v2_proof(b->key, ch.server_challenge, blob, blob_len, b->proof);
	sa_ntlm_session_base_key(b->key, b->proof, b->base);
	if (has_ts)
		memset(b->lm, 0, 24); /* [MS-NLMP] 3.1.5.1.2: Z(24) when the server sent a time */
	else
		sa_ntlm_lmv2(b->key, ch.server_challenge, blob + 16, b->lm);
	if (flags & SA_NTLM_F_KEY_EXCH)
		sa_ntlm_rc4_once(b->base, b->enc, b->exported, 16);
	else
		memcpy(b->exported, b->base, 16);

	/* The message; the NT response is proof || blob, written in two parts. */
	size_t nt_len = 16 + blob_len;
	struct sa_ntlm_wr w;
	sa_ntlm_wr_init(&w, leg->out, leg->out_cap, SA_NTLM_AUTHENTICATE, SA_NTLM_AUTH_HDR);
	sa_ntlm_wr_field(&w, 12, b->lm, 24);
	sa_ntlm_wr_field(&w, 20, b->proof, 16);
	sa_ntlm_wr_bytes(&w, w.len, blob, blob_len);
	if (!w.err) {
		w.len += blob_len;
		sa_ntlm_wr_u16(&w, 20, (uint16_t)nt_len);
		sa_ntlm_wr_u16(&w, 22, (uint16_t)nt_len);
	}
	sa_ntlm_wr_field(&w, 28, b->domain, (size_t)dl);
	sa_ntlm_wr_field(&w, 36, b->user, (size_t)ul);
	sa_ntlm_wr_field(&w, 44, b->host, (size_t)hl);
	sa_ntlm_wr_field(&w, 52, b->enc, (flags & SA_NTLM_F_KEY_EXCH) ? 16 : 0);
	sa_ntlm_wr_u32(&w, 60, flags);
	sa_ntlm_wr_bytes(&w, 64, our_version, 8);
	if (w.err) {
		st = SEC_E_BUFFER_TOO_SMALL;
		goto out;
	}
	uint8_t mic[16];
	sa_ntlm_mic(b->exported, x->msgs, x->neg_len, leg->in, leg->in_len, leg->out, w.len, mic);
	memcpy(leg->out + SA_NTLM_AUTH_MIC_OFF, mic, 16);

	char *name = NULL, *server = dup_str(leg->target != NULL ? leg->target : "");
	if (server == NULL || cred_name(c, &name) != SEC_E_OK) {
		sa__free(server);
		st = SEC_E_INSUFFICIENT_MEMORY;
		goto out;
	}
	/* Nothing can fail from here: commit. */
	x->name = name;
	x->server = server;
	x->flags = flags;
	memcpy(x->exported, b->exported, 16);
	drop_msgs(x);
	x->step = DONE;
	x->start = filetime_now();
	leg->out_len = w.len;
	leg->attrs = ret_flags(x, leg->req);
	leg->expiry = NTLM_NEVER;
out:
	sa_ntlm_wipe(b, sizeof *b);
	sa__free(b);
	return st;
}

static int32_t init_leg(void *cv, void **ctx, struct sa_pkg_leg *leg)
{
	struct ntlm_cred *c = cv;
	if (!(c->use & SECPKG_CRED_OUTBOUND))
		return SEC_E_NO_CREDENTIALS;
	struct ntlm_ctx *x = *ctx;
	if (x == NULL)
		return client_negotiate(c, ctx, leg);
	if (x->step != SENT_NEGOTIATE)
		return SEC_E_OUT_OF_SEQUENCE;
	int32_t st = client_authenticate(x, leg);
	if (st != SEC_E_OK && st != SEC_E_BUFFER_TOO_SMALL && st != SEC_E_INSUFFICIENT_MEMORY)
		x->step = FAILED;
	return st;
}

/* ---- server legs ---------------------------------------------------------- */

static int32_t server_challenge(struct ntlm_cred *c, void **ctx, struct sa_pkg_leg *leg)
{
	struct sa_ntlm_negotiate neg;
	if (leg->in == NULL || sa_ntlm_parse_negotiate(leg->in, leg->in_len, &neg) != 0)
		return SEC_E_INVALID_TOKEN;
	if (!(neg.flags & SA_NTLM_F_ESS))
		return SEC_E_UNSUPPORTED_FUNCTION; /* NTLMv1 session security only */
	uint32_t f = SA_NTLM_F_NTLM | SA_NTLM_F_ESS | SA_NTLM_F_TARGET_INFO | SA_NTLM_F_VERSION;
	f |= (neg.flags & SA_NTLM_F_UNICODE) ? SA_NTLM_F_UNICODE : SA_NTLM_F_OEM;
	if (neg.flags & SA_NTLM_F_REQUEST_TARGET)
		f |= SA_NTLM_F_REQUEST_TARGET | SA_NTLM_F_TARGET_SERVER;
	f |= neg.flags & ECHO_FLAGS;
	if ((neg.flags & SA_NTLM_F_SEAL) && (neg.flags & SA_NTLM_F_128))
		f |= SA_NTLM_F_SEAL;
	int unicode = (f & SA_NTLM_F_UNICODE) != 0;

	uint8_t host16[32], lower16[32];
	char lower[16];
	size_t hn = strlen(c->host);
	for (size_t i = 0; i <= hn; i++)
		lower[i] = (c->host[i] >= 'A' && c->host[i] <= 'Z') ? (char)(c->host[i] + 32)
								    : c->host[i];
	long h16 = sa_ntlm_utf16(c->host, 0, host16, sizeof host16);
	long l16 = sa_ntlm_utf16(lower, 0, lower16, sizeof lower16);
	if (h16 < 0 || l16 < 0)
		return SEC_E_INTERNAL_ERROR;

	struct ntlm_ctx *x = ctx_new(c, 0);
	if (x == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (sa_ntlm_random(x->server_challenge, 8) != 0) {
		ctx_delete(x);
		return SEC_E_INTERNAL_ERROR;
	}
	struct sa_ntlm_wr w;
	sa_ntlm_wr_init(&w, leg->out, leg->out_cap, SA_NTLM_CHALLENGE, SA_NTLM_CHAL_HDR);
	if (unicode)
		sa_ntlm_wr_field(&w, 12, host16, (size_t)h16);
	else
		sa_ntlm_wr_field(&w, 12, c->host, hn);
	sa_ntlm_wr_u32(&w, 20, f);
	sa_ntlm_wr_bytes(&w, 24, x->server_challenge, 8);
	sa_ntlm_wr_bytes(&w, 48, our_version, 8);
	/* Target info: appended to the payload, then its field header. */
	size_t ti_at = w.len;
	int64_t now = filetime_now();
	uint8_t t[8];
	for (int i = 0; i < 8; i++)
		t[i] = (uint8_t)((uint64_t)now >> (8 * i));
	sa_ntlm_wr_av(&w, SA_NTLM_AV_NB_DOMAIN, host16, (size_t)h16);
	sa_ntlm_wr_av(&w, SA_NTLM_AV_NB_COMPUTER, host16, (size_t)h16);
	sa_ntlm_wr_av(&w, SA_NTLM_AV_DNS_DOMAIN, lower16, (size_t)l16);
	sa_ntlm_wr_av(&w, SA_NTLM_AV_DNS_COMPUTER, lower16, (size_t)l16);
	sa_ntlm_wr_av(&w, SA_NTLM_AV_TIMESTAMP, t, 8);
	sa_ntlm_wr_av(&w, SA_NTLM_AV_EOL, NULL, 0);
	sa_ntlm_wr_u16(&w, 40, (uint16_t)(w.len - ti_at));
	sa_ntlm_wr_u16(&w, 42, (uint16_t)(w.len - ti_at));
	sa_ntlm_wr_u32(&w, 44, (uint32_t)ti_at);
	if (w.err) {
		ctx_delete(x);
		return SEC_E_BUFFER_TOO_SMALL;
	}
	if (keep_msg(x, leg->in, leg->in_len, 0) != 0 || keep_msg(x, leg->out, w.len, 1) != 0) {
		ctx_delete(x);
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	x->flags = f;
	x->step = SENT_CHALLENGE;
	leg->out_len = w.len;
	leg->expiry = NTLM_NEVER;
	*ctx = x;
	return SEC_I_CONTINUE_NEEDED;
}

/* The NT hash of (domain, user): the store callback, else the user file. */
static int user_hash(struct ntlm_cred *c, const char *domain, const char *user, uint8_t out[16],
		     const char **file_domain)
{
	(void)pthread_mutex_lock(&c->lock);
	sa_pkg_lookup_fn fn = c->lookup;
	void *arg = c->lookup_arg;
	(void)pthread_mutex_unlock(&c->lock);
	*file_domain = NULL;
	if (fn != NULL)
		return fn(arg, domain, user, out) == SEC_E_OK ? 0 : -1;
	/* A client that names no domain (curl -u user:pw) matches any entry. */
	const struct sa_ntlm_user *e =
		sa_ntlm_users_find(&c->users, domain[0] != '\0' ? domain : NULL, user);
	if (e == NULL)
		return -1;
	memcpy(out, e->nt_hash, 16);
	*file_domain = e->domain;
	return 0;
}

/* Everything the AUTHENTICATE check needs on the heap (wiped after). */
struct auth_check {
	uint8_t hash[16], key[16], proof[16], base[16], exported[16], mic[16], cb[16];
};

static int32_t server_verify(struct ntlm_ctx *x, const struct sa_pkg_leg *leg,
			     const struct sa_ntlm_authenticate *a, struct auth_check *k, char **name)
{
	struct ntlm_cred *c = x->cred;
	uint32_t flags = x->flags;
	int unicode = (flags & SA_NTLM_F_UNICODE) != 0;
	if (a->nt.len <= 24)
		return SEC_E_LOGON_DENIED; /* LM, NTLMv1 or anonymous: refused */
	if (a->nt.len < 16 + SA_NTLM_V2_BLOB_FIXED + 4 || a->user.len == 0)
		return SEC_E_INVALID_TOKEN;
	const uint8_t *blob = a->nt.p + 16;
	size_t blob_len = a->nt.len - 16;
	const uint8_t *av = blob + SA_NTLM_V2_BLOB_FIXED;
	size_t av_len = blob_len - SA_NTLM_V2_BLOB_FIXED;
	if (blob[0] != 1 || sa_ntlm_av_check(av, av_len) != 0)
		return SEC_E_INVALID_TOKEN;
	char *user = get_name(&a->user, unicode), *domain = get_name(&a->domain, unicode);
	int32_t st = SEC_E_OK;
	const char *file_domain = NULL;
	if (user == NULL || domain == NULL)
		st = name_ok(&a->user, unicode) && name_ok(&a->domain, unicode)
			     ? SEC_E_INSUFFICIENT_MEMORY
			     : SEC_E_INVALID_TOKEN;
	else if (user_hash(c, domain, user, k->hash, &file_domain) != 0)
		st = SEC_E_LOGON_DENIED; /* unknown user */
	else if (sa_ntlm_ntowfv2(k->hash, user, domain, k->key) != 0)
		st = SEC_E_LOGON_DENIED;
	if (st == SEC_E_OK) {
		sa_ntlm_v2_proof(k->key, x->server_challenge, blob, blob_len, k->proof);
		if (!sa_ntlm_ct_equal(k->proof, a->nt.p, 16))
			st = SEC_E_LOGON_DENIED; /* wrong password */
	}
	/* Channel bindings: when we have some, a client's non-zero hash must match. */
	struct sa_ntlm_field f;
	static const uint8_t zero[16];
	if (st == SEC_E_OK && leg->bindings != NULL &&
	    sa_ntlm_av_find(av, av_len, SA_NTLM_AV_CHANNEL_BINDINGS, &f) && f.len == 16 &&
	    !sa_ntlm_ct_equal(f.p, zero, 16)) {
		if (bindings_hash(leg->bindings, leg->bindings_len, k->cb) != 0)
			st = SEC_E_INVALID_PARAMETER;
		else if (!sa_ntlm_ct_equal(k->cb, f.p, 16))
			st = SEC_E_LOGON_DENIED;
	}
	if (st == SEC_E_OK) {
		sa_ntlm_session_base_key(k->key, k->proof, k->base);
		if (flags & SA_NTLM_F_KEY_EXCH) {
			if (a->enc_key.len != 16)
				st = SEC_E_INVALID_TOKEN;
			else
				sa_ntlm_rc4_once(k->base, k->exported, a->enc_key.p, 16);
		} else {
			memcpy(k->exported, k->base, 16);
		}
	}
	/* The MIC, when MsvAvFlags says it is there. */
	if (st == SEC_E_OK && sa_ntlm_av_find(av, av_len, SA_NTLM_AV_FLAGS, &f) && f.len == 4 &&
	    (sa_ntlm_le32(f.p) & SA_NTLM_AVF_MIC)) {
		uint8_t *copy = a->has_mic ? sa__malloc(leg->in_len) : NULL;
		if (!a->has_mic) {
			st = SEC_E_INVALID_TOKEN;
		} else if (copy == NULL) {
			st = SEC_E_INSUFFICIENT_MEMORY;
		} else {
			memcpy(copy, leg->in, leg->in_len);
			memset(copy + SA_NTLM_AUTH_MIC_OFF, 0, 16);
			sa_ntlm_mic(k->exported, x->msgs, x->neg_len, x->msgs + x->neg_len,
				    x->chal_len, copy, leg->in_len, k->mic);
			if (!sa_ntlm_ct_equal(k->mic, leg->in + SA_NTLM_AUTH_MIC_OFF, 16))
				st = SEC_E_LOGON_DENIED;
			sa__free(copy);
		}
	}
	if (st == SEC_E_OK) {
		const char *d = domain[0] ? domain : (file_domain && file_domain[0]) ? file_domain
										     : c->host;
		size_t n = strlen(d) + 1 + strlen(user) + 1;
		*name = sa__malloc(n);
		if (*name == NULL)
			st = SEC_E_INSUFFICIENT_MEMORY;
		else
			(void)snprintf(*name, n, "%s\\%s", d, user);
	}
	sa__free(user);
	sa__free(domain);
	return st;
}

static int32_t server_authenticate(struct ntlm_ctx *x, struct sa_pkg_leg *leg)
{
	struct sa_ntlm_authenticate a;
	if (leg->in == NULL || sa_ntlm_parse_authenticate(leg->in, leg->in_len, &a) != 0)
		return SEC_E_INVALID_TOKEN;
	/* The flags the client confirms, within what we offered. */
	uint32_t offered = x->flags;
	if (a.flags != 0)
		x->flags &= a.flags | SA_NTLM_F_UNICODE | SA_NTLM_F_OEM;
	struct auth_check *k = sa__malloc(sizeof *k);
	if (k == NULL) {
		x->flags = offered;
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	char *name = NULL;
	int32_t st = server_verify(x, leg, &a, k, &name);
	char *server = st == SEC_E_OK ? dup_str(x->cred->host) : NULL;
	if (st == SEC_E_OK && server == NULL) {
		sa__free(name);
		st = SEC_E_INSUFFICIENT_MEMORY;
	}
	if (st == SEC_E_OK) {
		x->name = name;
		x->server = server;
		memcpy(x->exported, k->exported, 16);
		drop_msgs(x);
		x->step = DONE;
		x->start = filetime_now();
		leg->out_len = 0;
		leg->attrs = ret_flags(x, leg->req);
		leg->expiry = NTLM_NEVER;
	} else if (st == SEC_E_INSUFFICIENT_MEMORY) {
		x->flags = offered; /* retryable: nothing changed */
	}
	sa_ntlm_wipe(k, sizeof *k);
	sa__free(k);
	return st;
}

static int32_t accept_leg(void *cv, void **ctx, struct sa_pkg_leg *leg)
{
	struct ntlm_cred *c = cv;
	if (!(c->use & SECPKG_CRED_INBOUND))
		return SEC_E_NO_CREDENTIALS;
	struct ntlm_ctx *x = *ctx;
	if (x == NULL)
		return server_challenge(c, ctx, leg);
	if (x->step != SENT_CHALLENGE)
		return SEC_E_OUT_OF_SEQUENCE;
	int32_t st = server_authenticate(x, leg);
	if (st != SEC_E_OK && st != SEC_E_INSUFFICIENT_MEMORY)
		x->step = FAILED;
	return st;
}

/* ---- attributes ------------------------------------------------------------ */

static int32_t ctx_names(void *xv, char **user)
{
	struct ntlm_ctx *x = xv;
	if (x->step != DONE)
		return SEC_E_OUT_OF_SEQUENCE; /* no name before the handshake is done */
	*user = dup_str(x->name);
	return *user != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

static int32_t ctx_native_names(void *xv, char **client, char **server)
{
	struct ntlm_ctx *x = xv;
	if (x->step != DONE)
		return SEC_E_OUT_OF_SEQUENCE;
	*client = dup_str(x->name);
	*server = dup_str(x->server);
	if (*client == NULL || *server == NULL) {
		sa__free(*client);
		sa__free(*server);
		*client = *server = NULL;
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	return SEC_E_OK;
}

static int32_t ctx_lifespan(void *xv, int64_t *start, int64_t *expiry)
{
	struct ntlm_ctx *x = xv;
	*start = x->start;
	*expiry = NTLM_NEVER;
	return SEC_E_OK;
}

static int32_t ctx_session_key(void *xv, unsigned char key[32], size_t *len)
{
	struct ntlm_ctx *x = xv;
	if (x->step != DONE)
		return SEC_E_OUT_OF_SEQUENCE; /* no key before the handshake is done */
	memcpy(key, x->exported, 16);
	*len = 16;
	return SEC_E_OK;
}

/* ---- message protection ([MS-NLMP] 3.4) ------------------------------------ */

#define MAX_PIECES 16

/* The signature token and the data pieces of a message description. */
struct msg_parts {
	SecBuffer *token;
	SecBuffer *data[MAX_PIECES];
	size_t ndata;
};

static int32_t msg_split(SecBufferDesc *msg, struct msg_parts *p)
{
	p->token = NULL;
	p->ndata = 0;
	for (unsigned long i = 0; i < msg->cBuffers; i++) {
		SecBuffer *b = &msg->pBuffers[i];
		unsigned long t = b->BufferType & ~(unsigned long)SECBUFFER_ATTRMASK;
		if (t == SECBUFFER_TOKEN && p->token == NULL) {
			p->token = b;
		} else if (t == SECBUFFER_DATA) {
			if (p->ndata == MAX_PIECES)
				return SEC_E_INVALID_TOKEN;
			if (b->cbBuffer != 0 && b->pvBuffer == NULL)
				return SEC_E_INVALID_TOKEN;
			p->data[p->ndata++] = b;
		}
	}
	if (p->token == NULL || p->ndata == 0)
		return SEC_E_INVALID_TOKEN;
	return SEC_E_OK;
}

/* Run the stream r over the data to seal or unseal: every DATA buffer but
 * those marked SECBUFFER_READONLY(_WITH_CHECKSUM), which are signed and
 * left as they are (headers a protocol signs but sends in clear). */
static void seal_run(struct sa_ntlm_rc4 *r, const struct msg_parts *p)
{
	for (size_t i = 0; i < p->ndata; i++) {
		SecBuffer *b = p->data[i];
		if (!(b->BufferType & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)))
			sa_ntlm_rc4(r, b->pvBuffer, b->pvBuffer, b->cbBuffer);
	}
}

static void msg_iov(const struct msg_parts *p, struct sa_ntlm_iov *v)
{
	for (size_t i = 0; i < p->ndata; i++)
		v[i] = (struct sa_ntlm_iov){p->data[i]->pvBuffer, p->data[i]->cbBuffer};
}

/* A complete context with its message keys (made on first use). */
static int32_t msg_ready(struct ntlm_ctx *x)
{
	if (x->step != DONE)
		return SEC_E_OUT_OF_SEQUENCE;
	if (x->keys == NULL) {
		x->keys = sa__malloc(sizeof *x->keys);
		if (x->keys == NULL)
			return SEC_E_INSUFFICIENT_MEMORY;
		sa_ntlm_derive(x->exported, x->client, &x->keys->send, &x->keys->recv);
	}
	return SEC_E_OK;
}

/* A message call's common start: a complete context with its keys, the
 * description split, a token of 16 bytes or more (else short_st: no room
 * to write a signature, or one too short to check). */
static int32_t msg_begin(struct ntlm_ctx *x, SecBufferDesc *msg, struct msg_parts *p,
			 int32_t short_st)
{
	int32_t st = msg_ready(x);
	if (st == SEC_E_OK)
		st = msg_split(msg, p);
	if (st == SEC_E_OK && (p->token->cbBuffer < SA_NTLM_MAC_LEN || p->token->pvBuffer == NULL))
		st = short_st;
	return st;
}

/* Sign (and seal) outgoing data ([MS-NLMP] 3.4.3): the HMAC over the
 * plaintext, then the data through the direction's RC4 stream, then the
 * checksum through the same stream (so sa_ntlm_sign, which runs the stream
 * over the checksum at once, serves only the unsealed case). */
static int32_t protect(struct ntlm_ctx *x, SecBufferDesc *msg, int seal)
{
	struct msg_parts p;
	int32_t st = msg_begin(x, msg, &p, SEC_E_BUFFER_TOO_SMALL);
	if (st != SEC_E_OK)
		return st;
	struct sa_ntlm_iov v[MAX_PIECES];
	msg_iov(&p, v);
	uint32_t seq = x->keys->send.seq;
	int kx = (x->flags & SA_NTLM_F_KEY_EXCH) != 0;
	uint8_t sig[16];
	if (!seal) {
		sa_ntlm_sign(&x->keys->send, kx, seq, v, p.ndata, sig);
	} else {
		uint8_t s[4], hm[16];
		sa_ntlm_put32(s, seq);
		sa_ntlm_hmac_md5_pre(x->keys->send.sign_key, 16, s, 4, v, p.ndata, hm);
		seal_run(&x->keys->send.seal, &p);
		sa_ntlm_put32(sig, 1);
		if (kx)
			sa_ntlm_rc4(&x->keys->send.seal, sig + 4, hm, 8);
		else
			memcpy(sig + 4, hm, 8);
		memcpy(sig + 12, s, 4);
		sa_ntlm_wipe(hm, sizeof hm);
	}
	memcpy(p.token->pvBuffer, sig, 16);
	p.token->cbBuffer = 16;
	x->keys->send.seq++;
	return SEC_E_OK;
}

/* Check (and unseal) incoming data: the stream runs over the data, then
 * over the checksum, in sa_ntlm_sign.  A failure leaves the receive state
 * as it was, and a sealed message as it came, so one tampered message does
 * not break the ones after it. */
static int32_t unprotect(struct ntlm_ctx *x, SecBufferDesc *msg, int seal)
{
	struct msg_parts p;
	int32_t st = msg_begin(x, msg, &p, SEC_E_INVALID_TOKEN);
	if (st != SEC_E_OK)
		return st;
	const uint8_t *got = p.token->pvBuffer;
	struct sa_ntlm_dir saved = x->keys->recv;
	if (seal)
		seal_run(&x->keys->recv.seal, &p);
	struct sa_ntlm_iov v[MAX_PIECES];
	uint8_t want[16];
	msg_iov(&p, v);
	sa_ntlm_sign(&x->keys->recv, (x->flags & SA_NTLM_F_KEY_EXCH) != 0, x->keys->recv.seq, v, p.ndata, want);
	if (sa_ntlm_ct_equal(want, got, 16)) {
		x->keys->recv.seq++;
		sa_ntlm_wipe(&saved, sizeof saved);
		return SEC_E_OK;
	}
	st = sa_ntlm_le32(got + 12) != x->keys->recv.seq ? SEC_E_OUT_OF_SEQUENCE : SEC_E_MESSAGE_ALTERED;
	if (seal) { /* give the caller back what it gave us */
		struct sa_ntlm_rc4 again = saved.seal;
		seal_run(&again, &p);
		sa_ntlm_wipe(&again, sizeof again);
	}
	x->keys->recv = saved;
	sa_ntlm_wipe(&saved, sizeof saved);
	return st;
}

static int32_t make_signature(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	(void)seqno; /* connection-oriented: the context keeps the sequence */
	if (qop != 0)
		return SEC_E_QOP_NOT_SUPPORTED;
	return protect(xv, msg, 0);
}

static int32_t verify_signature(void *xv, SecBufferDesc *msg, unsigned long seqno,
				unsigned long *qop)
{
	(void)seqno;
	*qop = 0;
	return unprotect(xv, msg, 0);
}

static int32_t encrypt(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	struct ntlm_ctx *x = xv;
	(void)seqno;
	if (qop != 0 && qop != SECQOP_WRAP_NO_ENCRYPT)
		return SEC_E_QOP_NOT_SUPPORTED;
	if (x->step == DONE && !(x->flags & SA_NTLM_F_SEAL) && qop == 0)
		return SEC_E_UNSUPPORTED_FUNCTION; /* confidentiality was not negotiated */
	return protect(x, msg, qop == 0);
}

static int32_t decrypt(void *xv, SecBufferDesc *msg, unsigned long seqno, unsigned long *qop)
{
	struct ntlm_ctx *x = xv;
	(void)seqno;
	*qop = 0;
	if (x->step == DONE && !(x->flags & SA_NTLM_F_SEAL))
		return SEC_E_UNSUPPORTED_FUNCTION;
	return unprotect(x, msg, 1);
}

const struct sa_package sa__ntlm = {
	.name = "NTLM",
	.comment = "NTLM Security Package",
	.caps = 0x00082B37, /* Microsoft's value: integrity, privacy, token only, connection,
			     * multi-leg, impersonation, Win32 names, negotiable, logon,
			     * restricted tokens */
	.version = 1,
	.rpcid = 10,
	.max_token = SA_NTLM_MAX_TOKEN,
	.max_signature = 16,
	.block_size = 0,
	.security_trailer = 16,
	.cred_acquire = cred_acquire,
	.cred_free = cred_free,
	.cred_name = cred_name,
	.init_leg = init_leg,
	.accept_leg = accept_leg,
	.ctx_delete = ctx_delete,
	.ctx_names = ctx_names,
	.ctx_lifespan = ctx_lifespan,
	.ctx_native_names = ctx_native_names,
	.ctx_session_key = ctx_session_key,
	.cred_set_lookup = cred_set_lookup,
	.make_signature = make_signature,
	.verify_signature = verify_signature,
	.encrypt = encrypt,
	.decrypt = decrypt,
};
