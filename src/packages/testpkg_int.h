/*
 * src/packages/testpkg_int.h - the test package's private pieces: its
 * credential and context state, the token and signature constants, and the
 * keyed hash it signs and seals with (SipHash-2-4, testpkg_crypto.c).
 *
 * What it is not: cryptography.  Every key derives from a constant in the
 * source; the hash only makes tampering, replay and reflection detectable.
 * The token layout and the option syntax are documented in testpkg.c's
 * header; the invariants of a context are listed above struct sa_tp_ctx.
 */
#ifndef SSPIASYNC_PACKAGES_TESTPKG_INT_H
#define SSPIASYNC_PACKAGES_TESTPKG_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sizes and limits ---------------------------------------------------- */

#define SA_TP_MAX_TOKEN 512           /* sa__testpkg.max_token: no leg writes more */
#define SA_TP_KEY_LEN 16              /* every key (SipHash-2-4 takes 128 bits) */
#define SA_TP_NONCE_LEN 16            /* initiator and acceptor nonces */
#define SA_TP_MAC_LEN 8               /* one SipHash-2-4 output */
#define SA_TP_NAME_MAX 255            /* longest user / principal name part, bytes */
#define SA_TP_LEGS_MIN 2
#define SA_TP_LEGS_MAX 8
#define SA_TP_LEGS_DEFAULT 2
#define SA_TP_LATENCY_MAX 10000000u   /* latency_us upper bound: 10 s */
#define SA_TP_REPLAY_SLOTS 1024       /* initiator nonces an acceptor credential remembers */
#define SA_TP_SIG_LEN 16              /* MakeSignature / EncryptMessage trailer */
/* FILETIME units in 10 hours: a context's lifetime. */
#define SA_TP_LIFETIME ((int64_t)10 * 3600 * 10000000)

/* ---- token layout (all integers big-endian; see testpkg.c) ---------------- */

#define SA_TP_MAGIC0 'S'
#define SA_TP_MAGIC1 'A'
#define SA_TP_MAGIC2 'T'
#define SA_TP_MAGIC3 'P'
#define SA_TP_VERSION 1
#define SA_TP_OFF_VERSION 4
#define SA_TP_OFF_LEG 5
#define SA_TP_OFF_LEGS 6
#define SA_TP_OFF_RESERVED 7
#define SA_TP_OFF_NONCE_I 8
#define SA_TP_OFF_NONCE_A 24
#define SA_TP_HDR_LEN 40              /* the common header; then the body; then the MAC */
#define SA_TP_OFF_FAIL 40             /* first token only: fail leg (0: none) */
#define SA_TP_OFF_STATUS 41           /* first token only: injected status */
#define SA_TP_OFF_LATENCY 45          /* first token only: latency_us */
#define SA_TP_OFF_USER_LEN 49         /* first token only: length U of the user */
#define SA_TP_OFF_USER 50             /* first token only: U bytes of user, then the proof */
#define SA_TP_FIRST_LEN(u) (SA_TP_OFF_USER + (size_t)(u) + SA_TP_MAC_LEN + SA_TP_MAC_LEN)
#define SA_TP_LATER_LEN (SA_TP_HDR_LEN + SA_TP_MAC_LEN)
#define SA_TP_NOOP_BYTE 0x4E          /* 'N': the whole token of a noop leg */

/* ---- signature trailer layout ------------------------------------------- */

#define SA_TP_SIG_OFF_DIR 4
#define SA_TP_SIG_OFF_KIND 5
#define SA_TP_SIG_OFF_MAC 8
#define SA_TP_DIR_I2A 0x01            /* written by the initiator */
#define SA_TP_DIR_A2I 0x02            /* written by the acceptor */
#define SA_TP_KIND_SIGN 0x00          /* MakeSignature */
#define SA_TP_KIND_SEAL 0x01          /* EncryptMessage, qop 0 */
#define SA_TP_KIND_WRAP 0x02          /* EncryptMessage, SECQOP_WRAP_NO_ENCRYPT */

/* ---- state ---------------------------------------------------------------- */

/* Options of one name (principal or target); see testpkg.c for the syntax. */
struct sa_tp_opts {
	unsigned legs;          /* 2..8; 0: not given */
	unsigned fail;          /* 1..8; 0: not given */
	int32_t status;         /* negative; 0: not given */
	uint32_t latency_us;    /* valid when has_latency */
	unsigned char has_latency;
	unsigned char noop;     /* 1: "noop" given */
};

/*
 * One credential.
 * Key: [i] immutable after cred_acquire, [R] lock.
 */
struct sa_tp_cred {
	unsigned long use;                        /* [i] SECPKG_CRED_INBOUND / _OUTBOUND bits */
	int has_identity;                         /* [i] explicit credentials were given */
	struct sa_tp_opts opts;                   /* [i] the principal's options */
	unsigned char pw_key[SA_TP_KEY_LEN];      /* [i] derived from the password ("" without identity) */
	size_t user_len;                          /* [i] bytes of user, without the NUL */
	char user[SA_TP_NAME_MAX + 1];            /* [i] the user it claims / accepts, NUL-terminated */
	pthread_mutex_t lock;                     /* the package's only lock; guards [R] */
	unsigned replay_next;                     /* [R] next slot to overwrite */
	unsigned replay_used;                     /* [R] slots filled, up to SA_TP_REPLAY_SLOTS */
	unsigned char replay[SA_TP_REPLAY_SLOTS][SA_TP_NONCE_LEN]; /* [R] initiator nonces accepted */
};

enum sa_tp_side { SA_TP_INITIATOR = 1, SA_TP_ACCEPTOR };
enum sa_tp_phase { SA_TP_RUNNING = 1, SA_TP_DONE, SA_TP_FAILED };

/*
 * One context, one side of a handshake.  Calls on a context are serialized
 * by the library; message calls only read it (the caller supplies seqno).
 * Invariants:
 *  I1 A leg that returns a retryable status (INCOMPLETE_MESSAGE,
 *     BUFFER_TOO_SMALL, INSUFFICIENT_MEMORY) changes no byte of the context
 *     or of the credential. [test_testpkg_buffer_too_small_is_retryable,
 *     test_testpkg_leg_oom_changes_nothing]
 *  I2 next_leg is the leg this side runs next; a token read on that leg was
 *     written at next_leg - 1, so a token of another leg fails.
 *     [test_testpkg_earlier_token_replayed_is_rejected]
 *  I3 chain is the MAC of the last token written or read; every token's MAC
 *     covers chain, so a token of another handshake or a changed byte fails.
 *     [test_testpkg_every_flipped_byte_is_rejected,
 *     test_testpkg_token_of_other_handshake_is_rejected]
 *  I4 Once phase is DONE or FAILED no leg changes the context (OUT_OF_SEQUENCE);
 *     the message keys are set only when phase becomes DONE (not in noop mode).
 *     [test_testpkg_leg_after_completion_is_out_of_sequence,
 *     test_testpkg_messages_before_completion_are_refused]
 */
struct sa_tp_ctx {
	unsigned char side;                       /* enum sa_tp_side */
	unsigned char phase;                      /* enum sa_tp_phase */
	unsigned char noop;                       /* 1: noop mode, nothing checked */
	unsigned char legs;                       /* N, total legs */
	unsigned char next_leg;                   /* the leg this side runs next */
	unsigned char fail_any;                   /* initiator's fail=K (either side); 0: none */
	unsigned char fail_own;                   /* acceptor credential's fail=K; 0: none */
	int32_t status_any;                       /* status for fail_any */
	int32_t status_own;                       /* status for fail_own */
	uint32_t latency_us;                      /* sleep at the start of every leg */
	unsigned char nonce_i[SA_TP_NONCE_LEN];   /* initiator's nonce */
	unsigned char nonce_a[SA_TP_NONCE_LEN];   /* acceptor's nonce (zero until sent, and for N = 2) */
	unsigned char chain_key[SA_TP_KEY_LEN];   /* token MAC key, from the initiator's nonce */
	unsigned char chain[SA_TP_MAC_LEN];       /* MAC of the last token written or read */
	unsigned char mac_key[2][SA_TP_KEY_LEN];  /* per direction (0: I->A, 1: A->I), once DONE */
	unsigned char seal_key[2][SA_TP_KEY_LEN]; /* per direction, once DONE */
	unsigned long attrs;                      /* ISC_RET_* / ASC_RET_* reported on each leg */
	int64_t start, expiry;                    /* FILETIME */
	size_t user_len;                          /* bytes of user, without the NUL */
	char user[SA_TP_NAME_MAX + 1];            /* the client's name, NUL-terminated */
};

/* ---- the keyed hash (testpkg_crypto.c) ------------------------------------ */

/* Incremental SipHash-2-4 (Aumasson & Bernstein), 64-bit output. */
struct sa_tp_sip {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;  /* bytes not yet compressed, little-endian */
	uint64_t len;   /* bytes absorbed so far */
};

/* sa__tp_sip_init() - Start a hash keyed with the 16 bytes at @key. */
void sa__tp_sip_init(struct sa_tp_sip *s, const unsigned char *key);
/* sa__tp_sip_update() - Absorb @n bytes at @data (NULL allowed when @n is 0). */
void sa__tp_sip_update(struct sa_tp_sip *s, const void *data, size_t n);
/* sa__tp_sip_final() - The 64-bit result; @s must not be used afterwards. */
uint64_t sa__tp_sip_final(struct sa_tp_sip *s);
/* sa__tp_siphash() - One-shot SipHash-2-4 of @n bytes at @data under @key. */
uint64_t sa__tp_siphash(const unsigned char *key, const void *data, size_t n);
/*
 * sa__tp_kdf() - A 16-byte key at @out from @key, a one-byte @label and @n
 * bytes at @data: SipHash(key, label || 0 || data) || SipHash(key, label || 1 || data),
 * each little-endian.
 */
void sa__tp_kdf(const unsigned char *key, unsigned char label, const void *data, size_t n,
		unsigned char *out);
/*
 * sa__tp_nonce() - 16 fresh bytes at @out: getrandom(2), or, where that
 * fails, a process-wide counter mixed with both clocks through SipHash.
 * Context: any thread; never blocks, never fails.
 */
void sa__tp_nonce(unsigned char *out);

/* Little-endian 64-bit store, for MAC outputs. */
static inline void tp_put64le(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

#endif /* SSPIASYNC_PACKAGES_TESTPKG_INT_H */
