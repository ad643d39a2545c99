/*
 * src/packages/ntlm/protect.c - message protection on a complete NTLM
 * context ([MS-NLMP] 3.4): MakeSignature, VerifySignature, EncryptMessage,
 * DecryptMessage over a SECBUFFER_TOKEN (16 bytes) and SECBUFFER_DATA
 * buffers.  Each direction has its own keys, one sequence counter and one
 * RC4 stream shared by signing and sealing (keys.c); they are made by the
 * first message call (msg_ready).
 */
#include "packages/ntlm/ntlm_pkg.h"
#include "util/alloc.h"

#include <string.h>

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
			sa__ntlm_rc4(r, b->pvBuffer, b->pvBuffer, b->cbBuffer);
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
		sa__ntlm_derive(x->exported, x->client, &x->keys->send, &x->keys->recv);
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
 * plaintext, then the data through the direction's RC4 stream (sealing),
 * then the checksum through the same stream. */
static int32_t protect(struct ntlm_ctx *x, SecBufferDesc *msg, int seal)
{
	struct msg_parts p;
	int32_t st = msg_begin(x, msg, &p, SEC_E_BUFFER_TOO_SMALL);
	if (st != SEC_E_OK)
		return st;
	struct sa_ntlm_iov v[MAX_PIECES];
	msg_iov(&p, v);
	struct sa_ntlm_dir *d = &x->keys->send;
	uint8_t mac[16], sig[16];
	sa__ntlm_mac(d, d->seq, v, p.ndata, mac);
	if (seal)
		seal_run(&d->seal, &p);
	sa__ntlm_sig_close(d, (x->flags & SA_NTLM_F_KEY_EXCH) != 0, d->seq, mac, sig);
	memcpy(p.token->pvBuffer, sig, 16);
	p.token->cbBuffer = 16;
	d->seq++;
	return SEC_E_OK;
}

/* Check (and unseal) incoming data: the stream runs over the data, then
 * over the checksum, in sa__ntlm_sign.  A failure leaves the receive state
 * as it was, and a sealed message as it came, so one tampered message does
 * not break the ones after it. */
static int32_t unprotect(struct ntlm_ctx *x, SecBufferDesc *msg, int seal)
{
	struct msg_parts p;
	int32_t st = msg_begin(x, msg, &p, SEC_E_INVALID_TOKEN);
	if (st != SEC_E_OK)
		return st;
	const uint8_t *got = p.token->pvBuffer;
	struct sa_ntlm_dir *d = &x->keys->recv;
	struct sa_ntlm_dir saved = *d;
	if (seal)
		seal_run(&d->seal, &p);
	struct sa_ntlm_iov v[MAX_PIECES];
	uint8_t want[16];
	msg_iov(&p, v);
	sa__ntlm_sign(d, (x->flags & SA_NTLM_F_KEY_EXCH) != 0, d->seq, v, p.ndata, want);
	if (sa__ntlm_ct_equal(want, got, 16)) {
		d->seq++;
		sa__ntlm_wipe(&saved, sizeof saved);
		return SEC_E_OK;
	}
	st = sa_ntlm_le32(got + 12) != d->seq ? SEC_E_OUT_OF_SEQUENCE : SEC_E_MESSAGE_ALTERED;
	if (seal) { /* give the caller back what it gave us */
		struct sa_ntlm_rc4 again = saved.seal;
		seal_run(&again, &p);
		sa__ntlm_wipe(&again, sizeof again);
	}
	*d = saved;
	sa__ntlm_wipe(&saved, sizeof saved);
	return st;
}

int32_t sa__ntlm_make_signature(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	(void)seqno; /* connection-oriented: the context keeps the sequence */
	if (qop != 0)
		return SEC_E_QOP_NOT_SUPPORTED;
	return protect(xv, msg, 0);
}

int32_t sa__ntlm_verify_signature(void *xv, SecBufferDesc *msg, unsigned long seqno,
				unsigned long *qop)
{
	(void)seqno;
	*qop = 0;
	return unprotect(xv, msg, 0);
}

int32_t sa__ntlm_encrypt(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	struct ntlm_ctx *x = xv;
	(void)seqno;
	if (qop != 0 && qop != SECQOP_WRAP_NO_ENCRYPT)
		return SEC_E_QOP_NOT_SUPPORTED;
	if (x->step == DONE && !(x->flags & SA_NTLM_F_SEAL) && qop == 0)
		return SEC_E_UNSUPPORTED_FUNCTION; /* confidentiality was not negotiated */
	return protect(x, msg, qop == 0);
}

int32_t sa__ntlm_decrypt(void *xv, SecBufferDesc *msg, unsigned long seqno, unsigned long *qop)
{
	struct ntlm_ctx *x = xv;
	(void)seqno;
	*qop = 0;
	if (x->step == DONE && !(x->flags & SA_NTLM_F_SEAL))
		return SEC_E_UNSUPPORTED_FUNCTION;
	return unprotect(x, msg, 1);
}

/* [MS-SPNG] 3.3.5.1: after a mechListMIC, that direction's RC4 stream
 * starts again from its sealing key; its sequence number goes on. */
int32_t sa__ntlm_mic_done(void *xv, int sent)
{
	struct ntlm_ctx *x = xv;
	struct sa_ntlm_dir send, recv;
	int32_t st = msg_ready(x);
	if (st != SEC_E_OK)
		return st;
	sa__ntlm_derive(x->exported, x->client, &send, &recv);
	if (sent)
		x->keys->send.seal = send.seal;
	else
		x->keys->recv.seal = recv.seal;
	sa__ntlm_wipe(&send, sizeof send);
	sa__ntlm_wipe(&recv, sizeof recv);
	return SEC_E_OK;
}
