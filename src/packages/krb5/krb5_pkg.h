/*
 * src/packages/krb5/krb5_pkg.h - the "Kerberos" package: MIT krb5 through
 * its GSSAPI (the krb5 mechanism, RFC 4121), behind package.h (private).
 *   krb5.c     the package table, contexts, legs, attributes
 *   cred.c     credentials: default ccache, password (lazily), keytab
 *   protect.c  MakeSignature, VerifySignature, EncryptMessage, DecryptMessage
 *   status.c   GSS major/minor (krb5 error codes) -> SECURITY_STATUS; trace
 *
 * Built only when pkg-config finds krb5-gssapi (SA_HAVE_KRB5).  Everything
 * that talks to a KDC (gss_acquire_cred_with_password, gss_init_sec_context)
 * runs in a leg, so on a worker for the async family; cred_acquire reads only
 * local files (ccache, keytab).
 */
#ifndef SSPIASYNC_PACKAGES_KRB5_PKG_H
#define SSPIASYNC_PACKAGES_KRB5_PKG_H

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <pthread.h>
#include <stdint.h>

#include "packages/package.h"

#define SA_KRB5_NEVER INT64_MAX
#define SA_KRB5_MAX_TOKEN 48000u /* Windows' cbMaxToken for Kerberos (12000 before 2012) */

extern gss_OID_desc sa__krb5_mech_oid; /* 1.2.840.113554.1.2.2 */
extern gss_OID_set_desc sa__krb5_mech_set;

/* ---- credentials (cred.c) ------------------------------------------------------ */

/*
 * Invariants:
 *  - use, principal and password never change after acquire.
 *  - accept (inbound) and a ccache-based init (outbound, no identity) are
 *    acquired at cred_acquire and never change after.
 *  - with an explicit identity, init is GSS_C_NO_CREDENTIAL until the
 *    first initiator leg acquires it (gss_acquire_cred_with_password into
 *    a MEMORY ccache private to this credential: an AS exchange with the
 *    KDC, so on a worker); it changes only under lock, once, from
 *    GSS_C_NO_CREDENTIAL to a credential.  password is kept for that (and
 *    for a retry after a failure), wiped when the credential is freed.
 *  - MIT's gss_cred_id_t locks itself: legs on many contexts may use one
 *    credential at once.
 */
struct krb5_cred {
	unsigned long use;
	char *principal;        /* NULL: the ccache's or the keytab's own */
	char *password;         /* explicit identity only; NULL otherwise */
	pthread_mutex_t lock;   /* guards init while password != NULL */
	gss_cred_id_t init;     /* initiator credential, or GSS_C_NO_CREDENTIAL */
	gss_cred_id_t accept;   /* acceptor credential, or GSS_C_NO_CREDENTIAL */
	int64_t expiry;         /* FILETIME; SA_KRB5_NEVER when unknown */
};

int32_t sa__krb5_cred_acquire(const struct sa_pkg_cred_args *a, void **out, int64_t *expiry);
void sa__krb5_cred_free(void *cv);
int32_t sa__krb5_cred_name(void *cv, char **name);
/* The initiator credential, acquiring it first when the identity was
 * explicit (may talk to the KDC). */
int32_t sa__krb5_cred_initiator(struct krb5_cred *c, gss_cred_id_t *out);

/* ---- contexts (krb5.c) ------------------------------------------------------------ */

/*
 * Invariants: g is the GSS context from the first leg that produced one
 * until ctx_delete, which deletes it exactly once; done is set by the leg
 * GSS reports complete, and only a done context signs, seals or answers
 * NAMES, SESSION_KEY and SIZES; a leg that fails after the first leaves
 * the context as it was (FAILED in the library's table).
 */
struct krb5_ctx {
	struct krb5_cred *cred;
	int client;
	int done;
	gss_ctx_id_t g;
	gss_name_t target;      /* initiator: the imported target, until delete */
	int64_t start, expiry;  /* FILETIME, set when done */
};

/* seconds from GSS (GSS_C_INDEFINITE: never) as an absolute FILETIME */
int64_t sa__krb5_expiry(OM_uint32 seconds);

/* ---- message protection (protect.c) ------------------------------------------------ */

int32_t sa__krb5_make_signature(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno);
int32_t sa__krb5_verify_signature(void *xv, SecBufferDesc *msg, unsigned long seqno,
				 unsigned long *qop);
int32_t sa__krb5_encrypt(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno);
int32_t sa__krb5_decrypt(void *xv, SecBufferDesc *msg, unsigned long seqno, unsigned long *qop);

/* ---- statuses (status.c) ------------------------------------------------------------ */

/*
 * The SECURITY_STATUS Windows reports for a GSS result (README, "Kerberos"):
 * the krb5 error code in minor first, then the routine error in major, then
 * the supplementary bits (gap, duplicate, old, unsequenced: out of
 * sequence); dflt when nothing matches.  SEC_E_OK when major is no error
 * and has no supplementary bit.
 */
int32_t sa__krb5_status(OM_uint32 major, OM_uint32 minor, int32_t dflt);
/* The same, and for an error when SSPIASYNC_TRACE=1 one line on stderr: what, the
 * codes, GSS's own texts for both (never a token, a key or a password). */
int32_t sa__krb5_fail(const char *what, OM_uint32 major, OM_uint32 minor, int32_t dflt);

#endif /* SSPIASYNC_PACKAGES_KRB5_PKG_H */
