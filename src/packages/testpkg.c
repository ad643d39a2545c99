/*
 * src/packages/testpkg.c - "SspiAsyncTest", the built-in test package.
 *
 * What it is: a package with multi-leg handshakes whose tokens are checked,
 * explicit credentials, failures and latency injected by name, a no-op mode
 * and keyed message signing/sealing, so every path of the library runs
 * without a KDC.  What it is not: cryptography (its keys derive from
 * constants in this file; SipHash-2-4 only makes changes detectable).
 * Invariants: above struct sa_tp_ctx in testpkg_int.h; tests:
 * test/check_testpkg.c.
 *
 * OPTIONS ride in names.  The initiator's target name and either side's
 * principal are  name[;key=value]...,  e.g. "host/web;legs=3;fail=2":
 *   legs=N             2..8, default 2: legs of the handshake over both sides
 *                      (leg 1 = the initiator's first call, leg 2 = the
 *                      acceptor's first, leg 3 = the initiator's second, ...)
 *   fail=K             1..N: the side that runs leg K returns the status
 *                      instead of doing the leg
 *   status=0xHHHHHHHH  the injected status, default 0x80090304
 *                      (SEC_E_INTERNAL_ERROR); must be an error (bit 31 set)
 *   latency_us=N       0..10000000: every leg of the context first sleeps N us
 *                      (nanosleep, on whichever thread runs the leg)
 *   noop               every leg writes the 1-byte token "N" and returns
 *                      SEC_I_CONTINUE_NEEDED, forever, checking nothing
 * Decimal numbers, a hex status, each key at most once, no empty field.  A bad
 * target fails init_leg with SEC_E_TARGET_UNKNOWN; a bad principal fails
 * cred_acquire with SEC_E_UNKNOWN_CREDENTIALS.  An outbound principal's
 * options are defaults for the contexts it initiates, overridden key by key
 * by the target's.  The initiator sends legs, fail, status and latency_us in
 * its first token (noop: its 1-byte token) and the acceptor follows them.  An
 * acceptor principal's fail, status and latency_us apply to every context
 * accepted with it: its fail on the acceptor's legs (checked before the
 * initiator's), its latency_us instead of the initiator's; legs and noop act
 * only when a credential initiates.  An injected retryable status
 * (SEC_E_INSUFFICIENT_MEMORY, _BUFFER_TOO_SMALL, _INCOMPLETE_MESSAGE) changes
 * nothing, so it fires again on every retry.
 *
 * LEGS.  With N legs the side running leg N returns SEC_E_OK and no token,
 * the side running leg N-1 returns SEC_E_OK and a token, every earlier leg
 * SEC_I_CONTINUE_NEEDED and a token (N=2: ISC OK+token, ASC OK).  A leg first
 * sleeps, then applies an injected failure, then reads its token; the
 * acceptor's first leg reads token 1 first (the options ride in it), then
 * sleeps, injects, checks the client and its replay cache.  A leg after the
 * handshake completed or failed: SEC_E_OUT_OF_SEQUENCE.
 *
 * IDENTITY.  A credential's user is "DOMAIN\user" ("user" for an empty
 * domain) from explicit credentials, else the principal's name part, else
 * "anonymous"; its password is the explicit one, else "".  The initiator
 * claims its user and proves its password; an acceptor with explicit
 * credentials admits only its own user with its password (else
 * SEC_E_LOGON_DENIED at leg 2), one without admits anyone.  A credential used
 * in a direction it was not acquired for: SEC_E_NO_CREDENTIALS.
 *
 * TOKENS (integers big-endian; max_token 512):
 *    0  4  "SATP"           4  1  version 1        5  1  leg that wrote it
 *    6  1  N                7  1  0                8 16  initiator nonce
 *   24 16  acceptor nonce (zero in token 1, and in a 2-leg handshake)
 *   token 1 only: 40 1 fail leg (0: none)  41 4 status  45 4 latency_us
 *                 49 1 U   50 U user   50+U 8 password proof =
 *                 SipHash(kdf(password), initiator nonce || U || user)
 *   last 8: MAC = SipHash(kdf(package key, initiator nonce),
 *                 MAC of the previous token (zeros for token 1) || all bytes before)
 * The reader checks the length, magic, version, leg (its own leg - 1), N,
 * both nonces and the MAC: any difference, or a missing token, is
 * SEC_E_INVALID_TOKEN.  An acceptor credential remembers the initiator
 * nonces of the last 1024 first tokens it accepted; one seen again:
 * SEC_E_INVALID_TOKEN.
 *
 * MESSAGES (complete, non-noop contexts; else SEC_E_OUT_OF_SEQUENCE), keys
 * per direction from kdf(both nonces, the last token's MAC).  The 16-byte
 * trailer, in the first SECBUFFER_TOKEN buffer: seqno mod 2^32 (4) ||
 * direction (1: 1 from the initiator, 2 from the acceptor) || kind (1:
 * 0 MakeSignature, 1 sealed, 2 SECQOP_WRAP_NO_ENCRYPT) || 0 0 || MAC (8) over
 * those 8 bytes and each SECBUFFER_DATA buffer (length 8 || bytes) as sent.
 * Sealing XORs the DATA buffers (not READONLY ones) with a SipHash keystream
 * of (seqno, block) and MACs the ciphertext, so DecryptMessage verifies
 * before it touches the data.  A wrong MAC, direction or kind:
 * SEC_E_MESSAGE_ALTERED; a right MAC for another seqno: SEC_E_OUT_OF_SEQUENCE.
 */
#include "packages/package.h"
#include "packages/testpkg_int.h"
#include "util/alloc.h"
#include "util/filetime.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* The package key every token MAC key derives from (public, on purpose). */
static const unsigned char pkg_key[SA_TP_KEY_LEN] = {
	0x73, 0x73, 0x70, 0x69, 0x61, 0x73, 0x79, 0x6e, /* "sspiasyn" */
	0x63, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x70, 0x6b, /* "c-testpk" */
};

static const unsigned char zero_nonce[SA_TP_NONCE_LEN];

/* Key-derivation labels, one per use. */
#define LABEL_CHAIN 'C'
#define LABEL_PASSWORD 'P'
#define LABEL_SESSION 'S'
#define LABEL_MAC 'M'
#define LABEL_SEAL 'E'

/* ---- small helpers --------------------------------------------------------- */

static void be32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t be32_get(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A negative status from its 32 bits (bit 31 set), without an
 * implementation-defined conversion. */
static int32_t status_from_bits(uint32_t v)
{
	return -(int32_t)(~v) - 1;
}

/* The retryable class of sa_fsm_classify() (fsm.h): a leg returning one of
 * these must have changed nothing. */
static int status_is_retryable(int32_t st)
{
	return st == SEC_E_INCOMPLETE_MESSAGE || st == SEC_E_BUFFER_TOO_SMALL ||
	       st == SEC_E_INSUFFICIENT_MEMORY;
}

static void latency_sleep(uint32_t us)
{
	if (us == 0)
		return;
	struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- options ------------------------------------------------------------- */

static int opt_key_is(const char *key, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(key, name, n) == 0;
}

/* A decimal number in [lo, hi] from exactly the n bytes at s: 0, or -1. */
static int opt_decimal(const char *s, size_t n, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v = 0;
	if (s == NULL || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "0x" and 1..8 hex digits with bit 31 set (an error status): 0, or -1. */
static int opt_status(const char *s, size_t n, int32_t *out)
{
	uint32_t v = 0;
	if (s == NULL || n < 3 || n > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	for (size_t i = 2; i < n; i++) {
		char ch = s[i];
		uint32_t d;
		if (ch >= '0' && ch <= '9')
			d = (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (uint32_t)(ch - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	if ((v & 0x80000000u) == 0)
		return -1;
	*out = status_from_bits(v);
	return 0;
}

/*
 * Parse "name[;key=value]..." (NULL: no name, no options) into *o and the
 * length of the name part.  Returns 0, or -1 for an unknown key, a bad or
 * missing value, a repeated key or an empty field.
 */
static int opts_parse(const char *s, struct sa_tp_opts *o, size_t *name_len)
{
	memset(o, 0, sizeof *o);
	*name_len = 0;
	if (s == NULL)
		return 0;
	const char *semi = strchr(s, ';');
	*name_len = semi != NULL ? (size_t)(semi - s) : strlen(s);
	unsigned seen = 0;
	while (semi != NULL) {
		const char *field = semi + 1;
		semi = strchr(field, ';');
		size_t n = semi != NULL ? (size_t)(semi - field) : strlen(field);
		const char *eq = memchr(field, '=', n);
		size_t klen = eq != NULL ? (size_t)(eq - field) : n;
		const char *val = eq != NULL ? eq + 1 : NULL;
		size_t vlen = eq != NULL ? n - klen - 1 : 0;
		uint32_t num = 0;
		unsigned bit;
		if (opt_key_is(field, klen, "legs")) {
			bit = 1u;
			if (opt_decimal(val, vlen, SA_TP_LEGS_MIN, SA_TP_LEGS_MAX, &num) != 0)
				return -1;
			o->legs = num;
		} else if (opt_key_is(field, klen, "fail")) {
			bit = 2u;
			if (opt_decimal(val, vlen, 1, SA_TP_LEGS_MAX, &num) != 0)
				return -1;
			o->fail = num;
		} else if (opt_key_is(field, klen, "status")) {
			bit = 4u;
			if (opt_status(val, vlen, &o->status) != 0)
				return -1;
		} else if (opt_key_is(field, klen, "latency_us")) {
			bit = 8u;
			if (opt_decimal(val, vlen, 0, SA_TP_LATENCY_MAX, &num) != 0)
				return -1;
			o->latency_us = num;
			o->has_latency = 1;
		} else if (opt_key_is(field, klen, "noop") && eq == NULL) {
			bit = 16u;
			o->noop = 1;
		} else {
			return -1;
		}
		if (seen & bit)
			return -1;
		seen |= bit;
	}
	return 0;
}

/* Each option given in *over replaces the one in *base. */
static void opts_merge(struct sa_tp_opts *base, const struct sa_tp_opts *over)
{
	if (over->legs != 0)
		base->legs = over->legs;
	if (over->fail != 0)
		base->fail = over->fail;
	if (over->status != 0)
		base->status = over->status;
	if (over->has_latency) {
		base->latency_us = over->latency_us;
		base->has_latency = 1;
	}
	if (over->noop)
		base->noop = 1;
}

/* ---- credentials ----------------------------------------------------------- */

static int32_t tp_cred_acquire(const struct sa_pkg_cred_args *args, void **credp, int64_t *expiry)
{
	if (args == NULL || credp == NULL || expiry == NULL)
		return SEC_E_INTERNAL_ERROR;
	const unsigned long both = SECPKG_CRED_BOTH;
	if ((args->use & both) == 0 || (args->use & ~both) != 0)
		return SEC_E_UNKNOWN_CREDENTIALS;

	struct sa_tp_opts opts;
	size_t name_len;
	if (opts_parse(args->principal, &opts, &name_len) != 0 || name_len > SA_TP_NAME_MAX)
		return SEC_E_UNKNOWN_CREDENTIALS;

	const struct sa_pkg_identity *id = args->identity;
	const char *id_user = id != NULL && id->user != NULL ? id->user : "";
	const char *id_domain = id != NULL && id->domain != NULL ? id->domain : "";
	const char *password = id != NULL && id->password != NULL ? id->password : "";
	size_t ulen = strlen(id_user), dlen = strlen(id_domain);
	if (ulen > 0 && (dlen > 0 ? dlen + 1 : 0) + ulen > SA_TP_NAME_MAX)
		return SEC_E_UNKNOWN_CREDENTIALS;

	struct sa_tp_cred *c = sa__calloc(1, sizeof *c);
	if (c == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	int err = pthread_mutex_init(&c->lock, NULL);
	if (err != 0) {
		sa__free(c);
		return err == ENOMEM || err == EAGAIN ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INTERNAL_ERROR;
	}
	c->use = args->use;
	c->has_identity = id != NULL;
	c->opts = opts;
	if (ulen > 0) {
		size_t n = 0;
		if (dlen > 0) {
			memcpy(c->user, id_domain, dlen);
			c->user[dlen] = '\\';
			n = dlen + 1;
		}
		memcpy(c->user + n, id_user, ulen);
		c->user_len = n + ulen;
	} else if (name_len > 0) {
		memcpy(c->user, args->principal, name_len);
		c->user_len = name_len;
	} else {
		c->user_len = strlen("anonymous");
		memcpy(c->user, "anonymous", c->user_len);
	}
	c->user[c->user_len] = '\0';
	sa__tp_kdf(pkg_key, LABEL_PASSWORD, password, strlen(password), c->pw_key);
	*credp = c;
	*expiry = INT64_MAX;
	return SEC_E_OK;
}

static void tp_cred_free(void *credp)
{
	struct sa_tp_cred *c = credp;
	if (c == NULL)
		return;
	(void)pthread_mutex_destroy(&c->lock);
	sa__free(c);
}

/* A copy of the n bytes at s, NUL-terminated, from sa__malloc. */
static int32_t name_copy(const char *s, size_t n, char **out)
{
	if (out == NULL)
		return SEC_E_INTERNAL_ERROR;
	char *p = sa__malloc(n + 1);
	if (p == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	memcpy(p, s, n);
	p[n] = '\0';
	*out = p;
	return SEC_E_OK;
}

static int32_t tp_cred_name(void *credp, char **name)
{
	const struct sa_tp_cred *c = credp;
	if (c == NULL)
		return SEC_E_INTERNAL_ERROR;
	return name_copy(c->user, c->user_len, name);
}

/* True when the initiator nonce is in the credential's replay cache. */
static int replay_seen_locked(const struct sa_tp_cred *c, const unsigned char *nonce)
{
	for (unsigned i = 0; i < c->replay_used; i++)
		if (memcmp(c->replay[i], nonce, SA_TP_NONCE_LEN) == 0)
			return 1;
	return 0;
}

static int replay_seen(struct sa_tp_cred *c, const unsigned char *nonce)
{
	(void)pthread_mutex_lock(&c->lock);
	int seen = replay_seen_locked(c, nonce);
	(void)pthread_mutex_unlock(&c->lock);
	return seen;
}

/* Remember the nonce unless it is already there (a racing acceptor took it):
 * 1 when inserted, 0 when seen.  Cannot fail otherwise. */
static int replay_insert(struct sa_tp_cred *c, const unsigned char *nonce)
{
	(void)pthread_mutex_lock(&c->lock);
	int seen = replay_seen_locked(c, nonce);
	if (!seen) {
		memcpy(c->replay[c->replay_next], nonce, SA_TP_NONCE_LEN);
		c->replay_next = (c->replay_next + 1) % SA_TP_REPLAY_SLOTS;
		if (c->replay_used < SA_TP_REPLAY_SLOTS)
			c->replay_used++;
	}
	(void)pthread_mutex_unlock(&c->lock);
	return !seen;
}

/* ---- contexts: pieces of a leg ---------------------------------------------- */

static unsigned long ctx_attrs(const struct sa_tp_ctx *c)
{
	unsigned long a;
	if (c->side == SA_TP_INITIATOR) {
		a = ISC_RET_CONNECTION;
		if (!c->noop)
			a |= ISC_RET_INTEGRITY | ISC_RET_CONFIDENTIALITY | ISC_RET_SEQUENCE_DETECT |
			     ISC_RET_REPLAY_DETECT;
		if (!c->noop && c->legs >= 3)
			a |= ISC_RET_MUTUAL_AUTH;
	} else {
		a = ASC_RET_CONNECTION;
		if (!c->noop)
			a |= ASC_RET_INTEGRITY | ASC_RET_CONFIDENTIALITY | ASC_RET_SEQUENCE_DETECT |
			     ASC_RET_REPLAY_DETECT;
		if (!c->noop && c->legs >= 3)
			a |= ASC_RET_MUTUAL_AUTH;
	}
	return a;
}

/* Set the start, expiry and attributes of a new context. */
static void ctx_stamp(struct sa_tp_ctx *c)
{
	c->start = sa__filetime_now();
	c->expiry = c->start + SA_TP_LIFETIME;
	c->attrs = ctx_attrs(c);
}

/* The handshake is complete: derive the message keys from both nonces and
 * the last token's MAC (both sides hold the same three). */
static void ctx_establish(struct sa_tp_ctx *c)
{
	unsigned char seed[2 * SA_TP_NONCE_LEN + SA_TP_MAC_LEN], session[SA_TP_KEY_LEN];
	memcpy(seed, c->nonce_i, SA_TP_NONCE_LEN);
	memcpy(seed + SA_TP_NONCE_LEN, c->nonce_a, SA_TP_NONCE_LEN);
	memcpy(seed + 2 * SA_TP_NONCE_LEN, c->chain, SA_TP_MAC_LEN);
	sa__tp_kdf(pkg_key, LABEL_SESSION, seed, sizeof seed, session);
	for (unsigned char d = 0; d < 2; d++) {
		sa__tp_kdf(session, LABEL_MAC, &d, 1, c->mac_key[d]);
		sa__tp_kdf(session, LABEL_SEAL, &d, 1, c->seal_key[d]);
	}
	c->phase = SA_TP_DONE;
}

/* The injected status for the leg c runs next, or 0 (none). */
static int32_t ctx_injected(const struct sa_tp_ctx *c)
{
	if (c->side == SA_TP_ACCEPTOR && c->fail_own != 0 && c->fail_own == c->next_leg)
		return c->status_own;
	if (c->fail_any != 0 && c->fail_any == c->next_leg)
		return c->status_any;
	return 0;
}

static void leg_report(const struct sa_tp_ctx *c, struct sa_pkg_leg *leg)
{
	leg->attrs = c->attrs;
	leg->expiry = c->expiry;
}

/* A noop leg: the 1-byte token, continue. */
static int32_t noop_output(const struct sa_tp_ctx *c, struct sa_pkg_leg *leg)
{
	if (leg->out == NULL || leg->out_cap < 1)
		return SEC_E_BUFFER_TOO_SMALL;
	leg->out[0] = SA_TP_NOOP_BYTE;
	leg->out_len = 1;
	leg_report(c, leg);
	return SEC_I_CONTINUE_NEEDED;
}

static uint64_t token_mac(const struct sa_tp_ctx *c, const unsigned char *t, size_t n)
{
	struct sa_tp_sip s;
	sa__tp_sip_init(&s, c->chain_key);
	sa__tp_sip_update(&s, c->chain, SA_TP_MAC_LEN);
	sa__tp_sip_update(&s, t, n);
	return sa__tp_sip_final(&s);
}

static uint64_t proof_compute(const unsigned char *pw_key, const unsigned char *nonce_i,
			      const char *user, size_t user_len)
{
	struct sa_tp_sip s;
	unsigned char u = (unsigned char)user_len;
	sa__tp_sip_init(&s, pw_key);
	sa__tp_sip_update(&s, nonce_i, SA_TP_NONCE_LEN);
	sa__tp_sip_update(&s, &u, 1);
	sa__tp_sip_update(&s, user, user_len);
	return sa__tp_sip_final(&s);
}

/* True when the 8 bytes at p hold v, little-endian. */
static int mac_equal(const unsigned char *p, uint64_t v)
{
	unsigned char b[SA_TP_MAC_LEN];
	tp_put64le(b, v);
	return memcmp(p, b, SA_TP_MAC_LEN) == 0;
}

/* Magic, version, writer leg, N and the reserved byte of a token. */
static int token_header_ok(const unsigned char *t, unsigned leg, unsigned legs)
{
	return t[0] == SA_TP_MAGIC0 && t[1] == SA_TP_MAGIC1 && t[2] == SA_TP_MAGIC2 &&
	       t[3] == SA_TP_MAGIC3 && t[SA_TP_OFF_VERSION] == SA_TP_VERSION &&
	       t[SA_TP_OFF_LEG] == leg && t[SA_TP_OFF_LEGS] == legs && t[SA_TP_OFF_RESERVED] == 0;
}

/*
 * Run the output half of the leg c->next_leg on c (a fresh context or a
 * staged copy): on the last leg complete with no token; else write the token
 * and advance.  SEC_E_BUFFER_TOO_SMALL when it does not fit, having written
 * nothing to leg->out (c is then to be discarded by the caller).  cred is
 * needed only on leg 1 (the password proof).
 */
static int32_t leg_output(struct sa_tp_ctx *c, const struct sa_tp_cred *cred,
			  struct sa_pkg_leg *leg)
{
	unsigned l = c->next_leg;
	if (l == c->legs) {
		ctx_establish(c);
		leg->out_len = 0;
		leg_report(c, leg);
		return SEC_E_OK;
	}
	unsigned char t[SA_TP_MAX_TOKEN];
	size_t n = SA_TP_HDR_LEN;
	t[0] = SA_TP_MAGIC0;
	t[1] = SA_TP_MAGIC1;
	t[2] = SA_TP_MAGIC2;
	t[3] = SA_TP_MAGIC3;
	t[SA_TP_OFF_VERSION] = SA_TP_VERSION;
	t[SA_TP_OFF_LEG] = (unsigned char)l;
	t[SA_TP_OFF_LEGS] = c->legs;
	t[SA_TP_OFF_RESERVED] = 0;
	memcpy(t + SA_TP_OFF_NONCE_I, c->nonce_i, SA_TP_NONCE_LEN);
	memcpy(t + SA_TP_OFF_NONCE_A, c->nonce_a, SA_TP_NONCE_LEN);
	if (l == 1) {
		t[SA_TP_OFF_FAIL] = c->fail_any;
		be32_put(t + SA_TP_OFF_STATUS, (uint32_t)c->status_any);
		be32_put(t + SA_TP_OFF_LATENCY, c->latency_us);
		t[SA_TP_OFF_USER_LEN] = (unsigned char)c->user_len;
		memcpy(t + SA_TP_OFF_USER, c->user, c->user_len);
		n = SA_TP_OFF_USER + c->user_len;
		tp_put64le(t + n, proof_compute(cred->pw_key, c->nonce_i, c->user, c->user_len));
		n += SA_TP_MAC_LEN;
	}
	tp_put64le(t + n, token_mac(c, t, n));
	n += SA_TP_MAC_LEN;
	if (leg->out == NULL || leg->out_cap < n)
		return SEC_E_BUFFER_TOO_SMALL;
	memcpy(leg->out, t, n);
	leg->out_len = n;
	memcpy(c->chain, t + n - SA_TP_MAC_LEN, SA_TP_MAC_LEN);
	c->next_leg = (unsigned char)(l + 2);
	if (l + 1 == c->legs) {
		ctx_establish(c);
		leg_report(c, leg);
		return SEC_E_OK;
	}
	leg_report(c, leg);
	return SEC_I_CONTINUE_NEEDED;
}

/* Read the token of leg c->next_leg - 1 (not token 1) into the staged copy c. */
static int32_t token_read(struct sa_tp_ctx *c, const unsigned char *t, size_t n)
{
	if (t == NULL || n != SA_TP_LATER_LEN)
		return SEC_E_INVALID_TOKEN;
	if (!token_header_ok(t, c->next_leg - 1u, c->legs) ||
	    memcmp(t + SA_TP_OFF_NONCE_I, c->nonce_i, SA_TP_NONCE_LEN) != 0)
		return SEC_E_INVALID_TOKEN;
	if (c->side == SA_TP_INITIATOR && c->next_leg == 3)
		memcpy(c->nonce_a, t + SA_TP_OFF_NONCE_A, SA_TP_NONCE_LEN); /* learnt here */
	else if (memcmp(t + SA_TP_OFF_NONCE_A, c->nonce_a, SA_TP_NONCE_LEN) != 0)
		return SEC_E_INVALID_TOKEN;
	if (!mac_equal(t + SA_TP_HDR_LEN, token_mac(c, t, SA_TP_HDR_LEN)))
		return SEC_E_INVALID_TOKEN;
	memcpy(c->chain, t + SA_TP_HDR_LEN, SA_TP_MAC_LEN);
	return SEC_E_OK;
}

/* ---- contexts: the legs ------------------------------------------------------ */

static int32_t initiator_first(struct sa_tp_cred *cred, void **ctxp, struct sa_pkg_leg *leg)
{
	if (cred == NULL || (cred->use & SECPKG_CRED_OUTBOUND) == 0)
		return SEC_E_NO_CREDENTIALS;
	struct sa_tp_opts o = cred->opts, target;
	size_t name_len;
	if (opts_parse(leg->target, &target, &name_len) != 0)
		return SEC_E_TARGET_UNKNOWN;
	opts_merge(&o, &target);
	unsigned legs = o.legs != 0 ? o.legs : SA_TP_LEGS_DEFAULT;
	if (o.fail > legs)
		return SEC_E_TARGET_UNKNOWN;
	int32_t status = o.status != 0 ? o.status : SEC_E_INTERNAL_ERROR;
	uint32_t latency = o.has_latency ? o.latency_us : 0;

	latency_sleep(latency);
	if (!o.noop && o.fail == 1)
		return status;
	struct sa_tp_ctx *c = sa__calloc(1, sizeof *c);
	if (c == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	c->side = SA_TP_INITIATOR;
	c->phase = SA_TP_RUNNING;
	c->noop = o.noop;
	c->legs = (unsigned char)legs;
	c->next_leg = 1;
	c->fail_any = (unsigned char)o.fail;
	c->status_any = status;
	c->latency_us = latency;
	c->user_len = cred->user_len;
	memcpy(c->user, cred->user, cred->user_len + 1);
	ctx_stamp(c);
	sa__tp_nonce(c->nonce_i);
	sa__tp_kdf(pkg_key, LABEL_CHAIN, c->nonce_i, SA_TP_NONCE_LEN, c->chain_key);

	int32_t st = c->noop ? noop_output(c, leg) : leg_output(c, cred, leg);
	if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
		sa__free(c);
		return st;
	}
	*ctxp = c;
	return st;
}

/* The acceptor's first leg on the fresh context c; the caller keeps c on a
 * continue or done status and frees it otherwise. */
static int32_t acceptor_first_run(struct sa_tp_cred *cred, struct sa_tp_ctx *c,
				  struct sa_pkg_leg *leg)
{
	const unsigned char *t = leg->in;
	size_t n = leg->in_len;
	c->side = SA_TP_ACCEPTOR;
	c->phase = SA_TP_RUNNING;
	c->next_leg = 2;
	c->fail_own = (unsigned char)cred->opts.fail;
	c->status_own = cred->opts.status != 0 ? cred->opts.status : SEC_E_INTERNAL_ERROR;

	if (n == 1 && t[0] == SA_TP_NOOP_BYTE) {
		c->noop = 1;
		c->latency_us = cred->opts.has_latency ? cred->opts.latency_us : 0;
		c->user_len = strlen("anonymous"); /* a noop token carries no name */
		memcpy(c->user, "anonymous", c->user_len + 1);
		ctx_stamp(c);
		latency_sleep(c->latency_us);
		return noop_output(c, leg);
	}

	/* Token 1: shape, then the MAC, then what it says. */
	if (n < SA_TP_FIRST_LEN(0) || n > SA_TP_MAX_TOKEN)
		return SEC_E_INVALID_TOKEN;
	unsigned legs = t[SA_TP_OFF_LEGS];
	size_t user_len = t[SA_TP_OFF_USER_LEN];
	if (legs < SA_TP_LEGS_MIN || legs > SA_TP_LEGS_MAX || !token_header_ok(t, 1, legs) ||
	    n != SA_TP_FIRST_LEN(user_len) ||
	    memcmp(t + SA_TP_OFF_NONCE_A, zero_nonce, SA_TP_NONCE_LEN) != 0)
		return SEC_E_INVALID_TOKEN;
	c->legs = (unsigned char)legs;
	memcpy(c->nonce_i, t + SA_TP_OFF_NONCE_I, SA_TP_NONCE_LEN);
	sa__tp_kdf(pkg_key, LABEL_CHAIN, c->nonce_i, SA_TP_NONCE_LEN, c->chain_key);
	if (!mac_equal(t + n - SA_TP_MAC_LEN, token_mac(c, t, n - SA_TP_MAC_LEN)))
		return SEC_E_INVALID_TOKEN;
	unsigned fail = t[SA_TP_OFF_FAIL];
	uint32_t status = be32_get(t + SA_TP_OFF_STATUS);
	uint32_t latency = be32_get(t + SA_TP_OFF_LATENCY);
	const char *user = (const char *)t + SA_TP_OFF_USER;
	if (fail > legs || (status & 0x80000000u) == 0 || latency > SA_TP_LATENCY_MAX ||
	    memchr(user, '\0', user_len) != NULL)
		return SEC_E_INVALID_TOKEN;
	c->fail_any = (unsigned char)fail;
	c->status_any = status_from_bits(status);
	c->latency_us = cred->opts.has_latency ? cred->opts.latency_us : latency;
	memcpy(c->user, user, user_len);
	c->user[user_len] = '\0';
	c->user_len = user_len;
	memcpy(c->chain, t + n - SA_TP_MAC_LEN, SA_TP_MAC_LEN);
	ctx_stamp(c);

	latency_sleep(c->latency_us);
	int32_t st = ctx_injected(c);
	if (st != 0)
		return st;
	if (cred->has_identity) {
		const unsigned char *proof = t + SA_TP_OFF_USER + user_len;
		if (user_len != cred->user_len || memcmp(user, cred->user, user_len) != 0 ||
		    !mac_equal(proof, proof_compute(cred->pw_key, c->nonce_i, user, user_len)))
			return SEC_E_LOGON_DENIED;
	}
	if (replay_seen(cred, c->nonce_i))
		return SEC_E_INVALID_TOKEN;
	if (c->legs > 2)
		sa__tp_nonce(c->nonce_a);
	st = leg_output(c, NULL, leg);
	if (st == SEC_E_BUFFER_TOO_SMALL)
		return st;
	if (!replay_insert(cred, c->nonce_i)) { /* another acceptor took it meanwhile */
		leg->out_len = 0;
		return SEC_E_INVALID_TOKEN;
	}
	return st;
}

static int32_t acceptor_first(struct sa_tp_cred *cred, void **ctxp, struct sa_pkg_leg *leg)
{
	if (cred == NULL || (cred->use & SECPKG_CRED_INBOUND) == 0)
		return SEC_E_NO_CREDENTIALS;
	if (leg->in == NULL || leg->in_len == 0)
		return SEC_E_INVALID_TOKEN;
	struct sa_tp_ctx *c = sa__calloc(1, sizeof *c);
	if (c == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	int32_t st = acceptor_first_run(cred, c, leg);
	if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
		sa__free(c);
		return st;
	}
	*ctxp = c;
	return st;
}

/* A leg after this side's first, on either side. */
static int32_t leg_later(struct sa_tp_ctx *c, struct sa_pkg_leg *leg)
{
	if (c->phase != SA_TP_RUNNING)
		return SEC_E_OUT_OF_SEQUENCE;
	latency_sleep(c->latency_us);
	if (c->noop)
		return noop_output(c, leg);
	int32_t st = ctx_injected(c);
	if (st != 0) {
		if (!status_is_retryable(st))
			c->phase = SA_TP_FAILED;
		return st;
	}
	struct sa_tp_ctx next = *c;
	st = token_read(&next, leg->in, leg->in_len);
	if (st != SEC_E_OK) {
		c->phase = SA_TP_FAILED;
		return st;
	}
	st = leg_output(&next, NULL, leg);
	if (st == SEC_E_BUFFER_TOO_SMALL)
		return st;
	*c = next;
	return st;
}

static int32_t tp_init_leg(void *credp, void **ctxp, struct sa_pkg_leg *leg)
{
	if (ctxp == NULL || leg == NULL)
		return SEC_E_INTERNAL_ERROR;
	leg->out_len = 0;
	if (*ctxp == NULL)
		return initiator_first(credp, ctxp, leg);
	struct sa_tp_ctx *c = *ctxp;
	if (c->side != SA_TP_INITIATOR)
		return SEC_E_INVALID_HANDLE;
	return leg_later(c, leg);
}

static int32_t tp_accept_leg(void *credp, void **ctxp, struct sa_pkg_leg *leg)
{
	if (ctxp == NULL || leg == NULL)
		return SEC_E_INTERNAL_ERROR;
	leg->out_len = 0;
	if (*ctxp == NULL)
		return acceptor_first(credp, ctxp, leg);
	struct sa_tp_ctx *c = *ctxp;
	if (c->side != SA_TP_ACCEPTOR)
		return SEC_E_INVALID_HANDLE;
	return leg_later(c, leg);
}

static void tp_ctx_delete(void *ctxp)
{
	sa__free(ctxp);
}

static int32_t tp_ctx_names(void *ctxp, char **user)
{
	const struct sa_tp_ctx *c = ctxp;
	if (c == NULL)
		return SEC_E_INTERNAL_ERROR;
	return name_copy(c->user, c->user_len, user);
}

static int32_t tp_ctx_lifespan(void *ctxp, int64_t *start, int64_t *expiry)
{
	const struct sa_tp_ctx *c = ctxp;
	if (c == NULL || start == NULL || expiry == NULL)
		return SEC_E_INTERNAL_ERROR;
	*start = c->start;
	*expiry = c->expiry;
	return SEC_E_OK;
}

/* ---- messages -------------------------------------------------------------- */

static int msg_is_data(const SecBuffer *b)
{
	return (b->BufferType & ~(unsigned long)SECBUFFER_ATTRMASK) == SECBUFFER_DATA;
}

static int msg_is_readonly(const SecBuffer *b)
{
	return (b->BufferType & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)) != 0;
}

/*
 * Check the context and find the message's first TOKEN buffer (*tok) after
 * checking every DATA buffer is readable.  SEC_E_OK, SEC_E_OUT_OF_SEQUENCE
 * (handshake not complete, or noop) or SEC_E_INVALID_TOKEN.
 */
static int32_t msg_find(const struct sa_tp_ctx *c, const SecBufferDesc *msg, SecBuffer **tok)
{
	if (c == NULL)
		return SEC_E_INTERNAL_ERROR;
	if (c->phase != SA_TP_DONE || c->noop)
		return SEC_E_OUT_OF_SEQUENCE;
	if (msg == NULL || (msg->cBuffers > 0 && msg->pBuffers == NULL))
		return SEC_E_INVALID_TOKEN;
	*tok = NULL;
	for (unsigned long i = 0; i < msg->cBuffers; i++) {
		SecBuffer *b = &msg->pBuffers[i];
		unsigned long type = b->BufferType & ~(unsigned long)SECBUFFER_ATTRMASK;
		if (type == SECBUFFER_TOKEN && *tok == NULL)
			*tok = b;
		else if (type == SECBUFFER_DATA && b->cbBuffer > 0 && b->pvBuffer == NULL)
			return SEC_E_INVALID_TOKEN;
	}
	if (*tok == NULL || (*tok)->pvBuffer == NULL)
		return SEC_E_INVALID_TOKEN;
	return SEC_E_OK;
}

/* The MAC of a trailer's first 8 bytes and the DATA buffers, direction d. */
static uint64_t msg_mac(const struct sa_tp_ctx *c, unsigned d, const unsigned char *head,
			const SecBufferDesc *msg)
{
	struct sa_tp_sip s;
	sa__tp_sip_init(&s, c->mac_key[d]);
	sa__tp_sip_update(&s, head, SA_TP_SIG_OFF_MAC);
	for (unsigned long i = 0; i < msg->cBuffers; i++) {
		const SecBuffer *b = &msg->pBuffers[i];
		if (!msg_is_data(b))
			continue;
		unsigned char len[8];
		tp_put64le(len, (uint64_t)b->cbBuffer);
		sa__tp_sip_update(&s, len, sizeof len);
		sa__tp_sip_update(&s, b->pvBuffer, b->cbBuffer);
	}
	return sa__tp_sip_final(&s);
}

/* XOR the writable DATA buffers with the keystream of direction d, seqno. */
static void msg_xor(const struct sa_tp_ctx *c, unsigned d, uint32_t seqno, const SecBufferDesc *msg)
{
	unsigned char ks[8], in[12];
	unsigned used = sizeof ks;
	uint64_t block = 0;
	be32_put(in, seqno);
	for (unsigned long i = 0; i < msg->cBuffers; i++) {
		const SecBuffer *b = &msg->pBuffers[i];
		if (!msg_is_data(b) || msg_is_readonly(b))
			continue;
		unsigned char *p = b->pvBuffer;
		for (unsigned long j = 0; j < b->cbBuffer; j++) {
			if (used == sizeof ks) {
				for (int k = 0; k < 8; k++)
					in[4 + k] = (unsigned char)(block >> (8 * k));
				tp_put64le(ks, sa__tp_siphash(c->seal_key[d], in, sizeof in));
				block++;
				used = 0;
			}
			p[j] ^= ks[used++];
		}
	}
}

/* This side's sending direction (0: I->A) and its peer's. */
static unsigned msg_dir_send(const struct sa_tp_ctx *c)
{
	return c->side == SA_TP_INITIATOR ? 0u : 1u;
}

/* Write the trailer of kind for seqno into tok (room checked by the caller). */
static void msg_trailer_write(const struct sa_tp_ctx *c, unsigned char kind, unsigned long seqno,
			      const SecBufferDesc *msg, SecBuffer *tok)
{
	unsigned d = msg_dir_send(c);
	unsigned char *sig = tok->pvBuffer;
	unsigned char head[SA_TP_SIG_OFF_MAC] = {0};
	be32_put(head, (uint32_t)seqno);
	head[SA_TP_SIG_OFF_DIR] = (unsigned char)(d + 1);
	head[SA_TP_SIG_OFF_KIND] = kind;
	uint64_t mac = msg_mac(c, d, head, msg);
	memcpy(sig, head, sizeof head);
	tp_put64le(sig + SA_TP_SIG_OFF_MAC, mac);
	tok->cbBuffer = SA_TP_SIG_LEN;
}

/*
 * Check a received trailer (kinds: a bit per accepted kind) and return its
 * kind in *kind: SEC_E_OK, SEC_E_INVALID_TOKEN (short), SEC_E_MESSAGE_ALTERED
 * or SEC_E_OUT_OF_SEQUENCE.
 */
static int32_t msg_trailer_check(const struct sa_tp_ctx *c, unsigned kinds, unsigned long seqno,
				 const SecBufferDesc *msg, const SecBuffer *tok, unsigned char *kind)
{
	if (tok->cbBuffer < SA_TP_SIG_LEN)
		return SEC_E_INVALID_TOKEN;
	const unsigned char *sig = tok->pvBuffer;
	unsigned d = 1u - msg_dir_send(c);
	if (sig[SA_TP_SIG_OFF_DIR] != d + 1 || sig[SA_TP_SIG_OFF_KIND] > 7 ||
	    (kinds & (1u << sig[SA_TP_SIG_OFF_KIND])) == 0 || sig[6] != 0 || sig[7] != 0)
		return SEC_E_MESSAGE_ALTERED;
	if (!mac_equal(sig + SA_TP_SIG_OFF_MAC, msg_mac(c, d, sig, msg)))
		return SEC_E_MESSAGE_ALTERED;
	if (be32_get(sig) != (uint32_t)seqno)
		return SEC_E_OUT_OF_SEQUENCE;
	*kind = sig[SA_TP_SIG_OFF_KIND];
	return SEC_E_OK;
}

static int32_t tp_make_signature(void *ctxp, unsigned long qop, SecBufferDesc *msg,
				 unsigned long seqno)
{
	const struct sa_tp_ctx *c = ctxp;
	SecBuffer *tok;
	int32_t st = msg_find(c, msg, &tok);
	if (st != SEC_E_OK)
		return st;
	if (qop != 0)
		return SEC_E_QOP_NOT_SUPPORTED;
	if (tok->cbBuffer < SA_TP_SIG_LEN)
		return SEC_E_BUFFER_TOO_SMALL;
	msg_trailer_write(c, SA_TP_KIND_SIGN, seqno, msg, tok);
	return SEC_E_OK;
}

static int32_t tp_verify_signature(void *ctxp, SecBufferDesc *msg, unsigned long seqno,
				   unsigned long *qop)
{
	const struct sa_tp_ctx *c = ctxp;
	SecBuffer *tok;
	unsigned char kind;
	int32_t st = msg_find(c, msg, &tok);
	if (st == SEC_E_OK)
		st = msg_trailer_check(c, 1u << SA_TP_KIND_SIGN, seqno, msg, tok, &kind);
	if (st == SEC_E_OK && qop != NULL)
		*qop = 0;
	return st;
}

static int32_t tp_encrypt(void *ctxp, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	const struct sa_tp_ctx *c = ctxp;
	SecBuffer *tok;
	int32_t st = msg_find(c, msg, &tok);
	if (st != SEC_E_OK)
		return st;
	if (qop != 0 && qop != SECQOP_WRAP_NO_ENCRYPT)
		return SEC_E_QOP_NOT_SUPPORTED;
	if (tok->cbBuffer < SA_TP_SIG_LEN)
		return SEC_E_BUFFER_TOO_SMALL;
	if (qop == 0)
		msg_xor(c, msg_dir_send(c), (uint32_t)seqno, msg);
	msg_trailer_write(c, qop == 0 ? SA_TP_KIND_SEAL : SA_TP_KIND_WRAP, seqno, msg, tok);
	return SEC_E_OK;
}

static int32_t tp_decrypt(void *ctxp, SecBufferDesc *msg, unsigned long seqno, unsigned long *qop)
{
	const struct sa_tp_ctx *c = ctxp;
	SecBuffer *tok;
	unsigned char kind;
	int32_t st = msg_find(c, msg, &tok);
	if (st == SEC_E_OK)
		st = msg_trailer_check(c, 1u << SA_TP_KIND_SEAL | 1u << SA_TP_KIND_WRAP, seqno, msg,
				       tok, &kind);
	if (st != SEC_E_OK)
		return st;
	if (kind == SA_TP_KIND_SEAL)
		msg_xor(c, 1u - msg_dir_send(c), (uint32_t)seqno, msg);
	if (qop != NULL)
		*qop = kind == SA_TP_KIND_WRAP ? SECQOP_WRAP_NO_ENCRYPT : 0;
	return SEC_E_OK;
}

const struct sa_package sa__testpkg = {
	.name = "SspiAsyncTest",
	.comment = "sspiasync built-in test package (not cryptography)",
	.caps = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION |
		SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_NEGOTIABLE,
	.version = 1,
	.rpcid = SECPKG_ID_NONE,
	.max_token = SA_TP_MAX_TOKEN,
	.max_signature = SA_TP_SIG_LEN,
	.block_size = 1,
	.security_trailer = SA_TP_SIG_LEN,
	.cred_acquire = tp_cred_acquire,
	.cred_free = tp_cred_free,
	.cred_name = tp_cred_name,
	.init_leg = tp_init_leg,
	.accept_leg = tp_accept_leg,
	.ctx_delete = tp_ctx_delete,
	.ctx_names = tp_ctx_names,
	.ctx_lifespan = tp_ctx_lifespan,
	.make_signature = tp_make_signature,
	.verify_signature = tp_verify_signature,
	.encrypt = tp_encrypt,
	.decrypt = tp_decrypt,
};
