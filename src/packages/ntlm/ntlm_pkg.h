/*
 * src/packages/ntlm/ntlm_pkg.h - the NTLM package's own state and the
 * functions its files share (private).  ntlm_int.h holds what knows no
 * SSPI (messages, crypto, keys, users); this header is where the package
 * meets package.h:
 *   ntlm.c     the package table, contexts, attributes
 *   cred.c     credentials: identity, user file, store callback
 *   client.c   the initiator's legs (NEGOTIATE out, CHALLENGE in, AUTHENTICATE out)
 *   server.c   the acceptor's legs (NEGOTIATE in, CHALLENGE out, AUTHENTICATE in)
 *   protect.c  MakeSignature, VerifySignature, EncryptMessage, DecryptMessage
 */
#ifndef SSPIASYNC_PACKAGES_NTLM_PKG_H
#define SSPIASYNC_PACKAGES_NTLM_PKG_H

#include <pthread.h>
#include <stdint.h>

#include "packages/ntlm/ntlm_int.h"
#include "packages/package.h"
#include "util/filetime.h"

#define SA_NTLM_NEVER INT64_MAX
/* Our Version field: 10.0, build 0, NTLMSSP_REVISION_W2K3 (15). */
extern const uint8_t sa__ntlm_version[8];

/* ---- credentials (cred.c) ---------------------------------------------------- */

/*
 * Invariants:
 *  - outbound: user, domain and nt_hash are set (has_identity) and never
 *    change after acquire; the password itself is never kept.
 *  - inbound: users is read once at acquire (NTLM_USER_FILE) and read-only
 *    after; lookup/lookup_arg change under lock (sspiasync_ntlm_set_lookup),
 *    and a leg copies them under lock and calls the callback without it.
 *  - host: our NetBIOS name (upper case, <= 15 bytes), fixed at acquire;
 *    host16/dns16 its UTF-16LE forms (upper, and lower case for the DNS
 *    AV pairs), made once there for every CHALLENGE the credential sends.
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
	uint8_t host16[32], dns16[32];
	size_t host16_len, dns16_len;
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

int32_t sa__ntlm_cred_acquire(const struct sa_pkg_cred_args *a, void **out, int64_t *expiry);
void sa__ntlm_cred_free(void *c);
/* "DOMAIN\\user" (or "user"), or our host name for a credential with no identity. */
int32_t sa__ntlm_cred_name(void *cv, char **name);
int32_t sa__ntlm_cred_set_lookup(void *cv, sa_pkg_lookup_fn fn, void *arg);

/* ---- contexts (ntlm.c) ------------------------------------------------------- */

struct ntlm_ctx *sa__ntlm_ctx_new(struct ntlm_cred *c, int client);
void sa__ntlm_ctx_delete(void *xv);
/* Keep a copy of the NEGOTIATE (is_challenge 0) or CHALLENGE (1): 0, or -1 (no memory). */
int sa__ntlm_keep_msg(struct ntlm_ctx *x, const uint8_t *m, size_t n, int is_challenge);
void sa__ntlm_drop_msgs(struct ntlm_ctx *x);
unsigned long sa__ntlm_ret_flags(const struct ntlm_ctx *x, unsigned long req);
/* The last leg succeeded (client: AUTHENTICATE written; server: it
 * checked): take name and server (sa__malloc'd), keep the session key, drop
 * the kept messages, step DONE, and fill the leg's outputs. */
void sa__ntlm_ctx_done(struct ntlm_ctx *x, struct sa_pkg_leg *leg, const uint8_t exported[16],
		      char *name, char *server, size_t out_len);
/* MD5 of a SEC_CHANNEL_BINDINGS buffer ([MS-NLMP] 3.1.5.1.2); zeros for none; -1 malformed. */
int sa__ntlm_bindings_hash(const unsigned char *b, size_t n, uint8_t out[16]);
/* A name as UTF-16LE (unicode) or ASCII OEM: bytes written, or -1. */
long sa__ntlm_put_name(const char *s, int unicode, uint8_t *out, size_t cap);
/* A received name as new UTF-8, or NULL (then sa__ntlm_name_ok tells bad input from no memory). */
char *sa__ntlm_get_name(const struct sa_ntlm_field *f, int unicode);
int sa__ntlm_name_ok(const struct sa_ntlm_field *f, int unicode);

/* ---- legs (client.c, server.c) ------------------------------------------------ */

int32_t sa__ntlm_init_leg(void *cv, void **ctx, struct sa_pkg_leg *leg);
int32_t sa__ntlm_accept_leg(void *cv, void **ctx, struct sa_pkg_leg *leg);

/* ---- message protection (protect.c) ------------------------------------------ */

int32_t sa__ntlm_make_signature(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno);
int32_t sa__ntlm_verify_signature(void *xv, SecBufferDesc *msg, unsigned long seqno,
				 unsigned long *qop);
int32_t sa__ntlm_encrypt(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno);
int32_t sa__ntlm_decrypt(void *xv, SecBufferDesc *msg, unsigned long seqno, unsigned long *qop);
/* package.h's ctx_mic_done: the RC4 reset after a SPNEGO mechListMIC. */
int32_t sa__ntlm_mic_done(void *xv, int sent);

#endif /* SSPIASYNC_PACKAGES_NTLM_PKG_H */
