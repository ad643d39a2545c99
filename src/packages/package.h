/*
 * src/packages/package.h - the provider interface: what a security package
 * gives the library (private; not installed).
 *
 * One constant table of function pointers per package (like Redis's
 * dictType).  The library owns every buffer a leg reads or writes and every
 * handle; a package sees only its own state pointers.  The async layer knows
 * only this interface.  The contract each package must keep is written below,
 * next to the members; tests hold the test package to it (check_testpkg.c).
 */
#ifndef SSPIASYNC_PACKAGES_PACKAGE_H
#define SSPIASYNC_PACKAGES_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include <sspiasync/sspi.h>

/* A server's own user store (sspiasync.h, sspiasync_ntlm_set_lookup):
 * SEC_E_OK and the user's NT hash, or any error (the logon is denied). */
typedef SECURITY_STATUS (*sa_pkg_lookup_fn)(void *arg, const char *domain, const char *user,
					    unsigned char nt_hash[16]);

/* Mechanisms Negotiate may use (sa_pkg_identity.mechs). */
#define SA_PKG_MECH_KERBEROS 0x1u
#define SA_PKG_MECH_NTLM     0x2u
#define SA_PKG_MECH_ALL      (SA_PKG_MECH_KERBEROS | SA_PKG_MECH_NTLM)

/* Explicit credentials, copied by the library from any identity form (A, W,
 * EX; src/sspi/identity.c): NUL-terminated UTF-8. */
struct sa_pkg_identity {
	const char *user;     /* never NULL (may be "") */
	const char *domain;   /* never NULL (may be "") */
	const char *password; /* never NULL (may be "") */
	unsigned mechs;       /* SA_PKG_MECH_*: an EX identity's PackageList, for
			       * Negotiate; never 0 (SA_PKG_MECH_ALL without a list) */
};

struct sa_pkg_cred_args {
	const char *principal;                  /* NULL: the package's default identity */
	unsigned long use;                      /* SECPKG_CRED_INBOUND, _OUTBOUND or _BOTH */
	const struct sa_pkg_identity *identity; /* NULL: none given */
};

/*
 * One leg.  The library fills the inputs and the output room; the package
 * writes at most out_cap bytes at out and sets the outputs.  On any status
 * but SEC_E_OK / SEC_I_CONTINUE_NEEDED / SEC_I_COMPLETE_NEEDED /
 * SEC_I_COMPLETE_AND_CONTINUE the library ignores every output.
 */
struct sa_pkg_leg {
	const unsigned char *in; /* the peer's token; NULL when in_len == 0 */
	size_t in_len;
	const char *target;      /* initiator: the target name, or NULL; acceptor: NULL */
	/* The caller's SECBUFFER_CHANNEL_BINDINGS buffer (a SEC_CHANNEL_BINDINGS
	 * header and its blobs, unchecked), or NULL. */
	const unsigned char *bindings;
	size_t bindings_len;
	unsigned long req;       /* ISC_REQ_* or ASC_REQ_* */
	unsigned char *out;      /* room for this leg's token */
	size_t out_cap;          /* bytes of room (0: the caller gave none) */
	size_t out_len;          /* set by the package: bytes written (0: nothing to send) */
	unsigned long attrs;     /* set by the package: ISC_RET_* or ASC_RET_* */
	int64_t expiry;          /* set by the package: FILETIME (100 ns since 1601), UTC */
};

/*
 * The contract of a leg (init_leg and accept_leg):
 *  - *ctx is NULL on the first leg.  The first leg creates the package's
 *    context state and stores it in *ctx only when it returns a continue or
 *    done status (sa_fsm_classify: CONTINUE / OK); for any other status it
 *    frees what it made and leaves *ctx NULL.
 *  - It writes at most min(out_cap, max_token) bytes at out, and sets
 *    out_len to what it wrote.  The library relies on the max_token bound:
 *    out_cap is the caller's room only where that is smaller, never more
 *    than max_token, whatever a caller's cbBuffer claims (context.c,
 *    sa__leg_perform).  [test_testpkg_never_writes_more_than_max_token]
 *  - A retryable status (SEC_E_INCOMPLETE_MESSAGE, SEC_E_BUFFER_TOO_SMALL,
 *    SEC_E_INSUFFICIENT_MEMORY) changes no package state: the same call may be
 *    made again.  Not enough room at out is SEC_E_BUFFER_TOO_SMALL.
 *  - Any other error on a later leg ends the handshake; the state stays
 *    allocated until ctx_delete (the context is REJECTED, still deletable).
 *  - Calls on one context are serialized by the library; calls on different
 *    contexts run concurrently, possibly on one credential, so credential
 *    state is read-only after cred_acquire or guarded by the package's own
 *    lock.  A package never calls back into the library's API.
 *  - Memory comes from sa__malloc/sa__free (util/alloc.h), so tests can fail
 *    any allocation.
 */
typedef int32_t (*sa_pkg_leg_fn)(void *cred, void **ctx, struct sa_pkg_leg *leg);

struct sa_package {
	const char *name;          /* e.g. "SspiAsyncTest"; matched case-insensitively */
	const char *comment;
	unsigned long caps;        /* SECPKG_FLAG_* */
	unsigned short version;
	unsigned short rpcid;
	unsigned long max_token;   /* no leg writes more (the leg contract above) */
	unsigned long max_signature, block_size, security_trailer; /* SECPKG_ATTR_SIZES */

	/* Make credential state; SEC_E_OK and *cred set, or an error and nothing made.
	 * *expiry: FILETIME of the credential's end (INT64_MAX: never). */
	int32_t (*cred_acquire)(const struct sa_pkg_cred_args *args, void **cred, int64_t *expiry);
	/* Free credential state; cannot fail; runs when the last user is gone. */
	void (*cred_free)(void *cred);
	/* *name = the credential's principal, allocated with sa__malloc. */
	int32_t (*cred_name)(void *cred, char **name);

	sa_pkg_leg_fn init_leg;    /* initiator: InitializeSecurityContext */
	sa_pkg_leg_fn accept_leg;  /* acceptor: AcceptSecurityContext */
	/* Tear down and free context state (non-NULL); never allocates, cannot fail;
	 * runs at most once per context, only in the delete path. */
	void (*ctx_delete)(void *ctx);

	/* SECPKG_ATTR_NAMES: *user allocated with sa__malloc. */
	int32_t (*ctx_names)(void *ctx, char **user);
	/* SECPKG_ATTR_LIFESPAN, FILETIME values. */
	int32_t (*ctx_lifespan)(void *ctx, int64_t *start, int64_t *expiry);
	/* SECPKG_ATTR_NATIVE_NAMES: *client and *server allocated with
	 * sa__malloc; NULL member: SEC_E_UNSUPPORTED_FUNCTION. */
	int32_t (*ctx_native_names)(void *ctx, char **client, char **server);
	/* SECPKG_ATTR_SESSION_KEY: up to 32 bytes at key, *len set; NULL:
	 * SEC_E_UNSUPPORTED_FUNCTION.  Only on a complete context. */
	int32_t (*ctx_session_key)(void *ctx, unsigned char key[32], size_t *len);
	/* SECPKG_ATTR_SIZES' last three members when they depend on the
	 * context (Kerberos: the session key's enctype); NULL member, or a
	 * status other than SEC_E_OK: the static values above. */
	int32_t (*ctx_sizes)(void *ctx, unsigned long *max_signature, unsigned long *block_size,
			     unsigned long *security_trailer);
	/* A negotiating package's choice: the package its context runs (NULL:
	 * none chosen yet) and *state, a SECPKG_NEGOTIATION_* value.  It
	 * answers SECPKG_ATTR_PACKAGE_INFO and _NEGOTIATION_INFO; NULL member:
	 * the package itself, NEGOTIATION_INFO unsupported. */
	const struct sa_package *(*ctx_mech)(void *ctx, unsigned long *state);
	/* After a SPNEGO mechListMIC was made (sent 1) or checked (sent 0)
	 * with make_signature/verify_signature, as [MS-SPNG] 3.3.5.1 wants
	 * (NTLM: that direction's RC4 stream starts again, the sequence
	 * number goes on); NULL member: nothing to do. */
	int32_t (*ctx_mic_done)(void *ctx, int sent);
	/* Set the inbound credential's user-store callback (NULL: none); NULL
	 * member: SEC_E_UNSUPPORTED_FUNCTION.  May run while legs run on cred. */
	int32_t (*cred_set_lookup)(void *cred, sa_pkg_lookup_fn fn, void *arg);

	/* Free the package's process-wide state (parsed tables, caches): run
	 * by sspiasync_shutdown() when no call of any package runs and every
	 * credential and context is gone; the package makes it again, lazily,
	 * if the library is used again.  NULL: nothing to free. */
	void (*unload)(void);

	/* Per-message protection on a complete context; NULL: SEC_E_UNSUPPORTED_FUNCTION.
	 * The library has checked msg's version and that pBuffers is readable for
	 * cBuffers entries; finding its buffers is the package's business
	 * (SEC_E_INVALID_TOKEN when one is missing or a signature to check is
	 * short; SEC_E_BUFFER_TOO_SMALL when there is no room to write one). */
	int32_t (*make_signature)(void *ctx, unsigned long qop, SecBufferDesc *msg, unsigned long seqno);
	int32_t (*verify_signature)(void *ctx, SecBufferDesc *msg, unsigned long seqno,
				    unsigned long *qop);
	int32_t (*encrypt)(void *ctx, unsigned long qop, SecBufferDesc *msg, unsigned long seqno);
	int32_t (*decrypt)(void *ctx, SecBufferDesc *msg, unsigned long seqno, unsigned long *qop);
};

/* The built-in test package (src/packages/testpkg.c). */
extern const struct sa_package sa__testpkg;
/* NTLM (src/packages/ntlm/ntlm.c). */
extern const struct sa_package sa__ntlm;

#ifdef SA_HAVE_KRB5
/* Kerberos through MIT GSSAPI (src/packages/krb5/krb5.c). */
extern const struct sa_package sa__krb5;
#endif

#ifdef SA_HAVE_NEGOTIATE
/* SPNEGO over Kerberos and NTLM (src/packages/negotiate/negotiate.c). */
extern const struct sa_package sa__negotiate;
#endif

/* The registry (src/packages/registry.c): every package, "SspiAsyncTest" first. */
unsigned sa__pkg_count(void);
const struct sa_package *sa__pkg_at(unsigned i);
/* Every package's unload (package.h), at shutdown. */
void sa__pkg_unload_all(void);
/* Case-insensitive; NULL when there is no such package. */
const struct sa_package *sa__pkg_find(const char *name);

#endif /* SSPIASYNC_PACKAGES_PACKAGE_H */
