/*
 * src/packages/negotiate/nego_pkg.h - the "Negotiate" package: SPNEGO
 * (RFC 4178, [MS-SPNG]) over the Kerberos and NTLM packages (private).
 *   negotiate.c  the package table, credentials, contexts, the mechListMIC,
 *                attributes and messages (both go to the chosen mechanism)
 *   client.c     the initiator's legs
 *   server.c     the acceptor's legs
 *   spnego.c     the tokens' DER (hand-written, no allocation; knows no SSPI)
 *
 * The mechanisms are other packages, called through their tables
 * (package.h) as the library calls them: Negotiate owns their credential
 * and context states and follows their contracts.
 */
#ifndef SSPIASYNC_PACKAGES_NEGO_PKG_H
#define SSPIASYNC_PACKAGES_NEGO_PKG_H

#include <stdint.h>

#include "packages/negotiate/spnego.h"
#include "packages/package.h"

#define SA_NEGO_MAX_TOKEN 48256u /* Windows' cbMaxToken for Negotiate */

/*
 * Invariants: at least one of krb5 and ntlm is set, and neither changes
 * after acquire.  krb5 is NULL when the library was built without
 * Kerberos or when no Kerberos credential could be had (no ccache, no
 * keytab); ntlm is NULL when NTLM had none (no user file for a server).
 */
struct nego_cred {
	unsigned long use;
	void *krb5;
	void *ntlm;
};

/*
 * One context.  Invariants:
 *  - mech/mech_ctx: the mechanism running and its context (NULL until its
 *    first leg succeeded).  The client's first choice is optimistic: if
 *    the server picks the other one, the optimistic context is deleted
 *    and the chosen one starts.  After the server's first answer (client)
 *    or our first answer (server) mech never changes.
 *  - mech_types: the MechTypeList DER the mechListMICs cover (the one we
 *    sent, or the one we received), until the context is deleted.
 *  - mic_needed: a mechListMIC must be exchanged both ways before done
 *    (NTLM, whose AUTHENTICATE carries a MIC; or a mechanism that was not
 *    the initiator's first choice).  mic_sent / mic_checked: ours made,
 *    the peer's verified.  done only when the mechanism is complete, the
 *    acceptor has said accept-completed, and (mic_needed) both are set.
 *  - raw: the peer spoke a bare mechanism token (no SPNEGO): our tokens
 *    are bare too, and no mechListMIC is exchanged.
 */
struct nego_ctx {
	struct nego_cred *cred;
	int client;
	int raw;
	const struct sa_package *mech;
	void *mech_ctx;
	int mech_done;
	int answered;      /* client: the acceptor's first NegTokenResp came */
	int first_choice;  /* mech is the initiator's first mechanism */
	int mic_needed, mic_sent, mic_checked;
	int done;
	uint8_t *mech_types;
	size_t mech_types_len;
	unsigned long attrs;  /* the mechanism's last ISC_RET_/ASC_RET_ */
	int64_t expiry;
};

/* The mechanisms this build has, by OID; NULL when not built or unknown. */
const struct sa_package *sa__nego_mech_of(struct sa_spnego_buf oid);
struct sa_spnego_buf sa__nego_oid_of(const struct sa_package *mech);
void *sa__nego_mech_cred(const struct nego_cred *c, const struct sa_package *mech);

/*
 * One leg of the mechanism: in as its input token; its output into a
 * new buffer *tok (sa__malloc'd, *tok_len bytes; free it), its attributes
 * and expiry into x.  A first leg sets x->mech_ctx.  Returns the
 * mechanism's status; mech_done set on SEC_E_OK.
 */
int32_t sa__nego_mech_leg(struct nego_ctx *x, const struct sa_pkg_leg *leg, const uint8_t *in,
			 size_t in_len, uint8_t **tok, size_t *tok_len);
/* Free a token sa__nego_mech_leg made, wiped first (an AUTHENTICATE holds
 * an encrypted session key; NULL is fine). */
void sa__nego_tok_free(uint8_t *tok, size_t len);
/* Drop the mechanism's context (an optimistic one the acceptor did not take). */
void sa__nego_mech_drop(struct nego_ctx *x);
/* Keep a copy of the MechTypeList DER: 0, or -1 (no memory). */
int sa__nego_keep_mech_types(struct nego_ctx *x, const uint8_t *p, size_t n);
/* Our mechListMIC over mech_types into mic (room: cap): SEC_E_OK and *len. */
int32_t sa__nego_mic_make(struct nego_ctx *x, uint8_t *mic, size_t cap, size_t *len);
/* The peer's mechListMIC: SEC_E_OK, or SEC_E_MESSAGE_ALTERED. */
int32_t sa__nego_mic_check(struct nego_ctx *x, struct sa_spnego_buf mic);
/* Fill the leg's outputs at the end of a leg that returns st. */
int32_t sa__nego_leg_end(struct nego_ctx *x, void **ctxp, struct sa_pkg_leg *leg, int32_t st);
/* SPNEGO's own failures: a malformed token and a refused negotiation. */
#define SA_NEGO_BAD_TOKEN SEC_E_INVALID_TOKEN
#define SA_NEGO_REFUSED SEC_E_LOGON_DENIED

int32_t sa__nego_init_leg(void *cv, void **ctx, struct sa_pkg_leg *leg);
int32_t sa__nego_accept_leg(void *cv, void **ctx, struct sa_pkg_leg *leg);
struct nego_ctx *sa__nego_ctx_new(struct nego_cred *c, int client);
void sa__nego_ctx_delete(void *xv);

#endif /* SSPIASYNC_PACKAGES_NEGO_PKG_H */
