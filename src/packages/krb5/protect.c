/*
 * src/packages/krb5/protect.c - per-message calls of a Kerberos context,
 * RFC 4121 tokens through GSSAPI, in Microsoft's buffer layouts:
 *
 *   MakeSignature    DATA... + TOKEN (the MIC)              gss_get_mic_iov
 *   VerifySignature  DATA... + TOKEN                        gss_verify_mic_iov
 *   EncryptMessage   TOKEN (header) + DATA... [+ PADDING]   gss_wrap_iov, no TRAILER:
 *                    one wrap token, EC 0, RRC 28 for AES (Windows' layout)
 *   DecryptMessage   TOKEN + DATA [+ PADDING], or STREAM + DATA: gss_unwrap on the
 *                    token's bytes in one piece, so any RRC is taken (MIT's
 *                    gss_wrap sends RRC 0; gss_unwrap_iov would demand Windows')
 *
 * A DATA buffer flagged SECBUFFER_READONLY is left out; one flagged
 * SECBUFFER_READONLY_WITH_CHECKSUM is signed but not sealed.  MessageSeqNo
 * is not used: Kerberos numbers its own messages.  The only QOP is 0, and
 * SECQOP_WRAP_NO_ENCRYPT for EncryptMessage (signed, not sealed).
 */
#include "packages/krb5/krb5_pkg.h"
#include "util/alloc.h"

#include <string.h>

#define ATTRMASK 0xF0000000UL
#define RO 0x80000000UL          /* SECBUFFER_READONLY */
#define RO_CHECKSUM 0x10000000UL /* SECBUFFER_READONLY_WITH_CHECKSUM */

static SecBuffer *find(SecBufferDesc *m, unsigned long type)
{
	for (unsigned long i = 0; i < m->cBuffers; i++)
		if ((m->pBuffers[i].BufferType & ~ATTRMASK) == type)
			return &m->pBuffers[i];
	return NULL;
}

/* The message's DATA buffers as GSS iovs, after `lead` free slots;
 * *iov sa__malloc'd. */
static int32_t data_iovs(SecBufferDesc *m, size_t lead, int wrap, gss_iov_buffer_desc **iov,
			 size_t *n)
{
	*iov = sa__calloc(m->cBuffers + lead + 1, sizeof **iov);
	if (*iov == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	*n = lead;
	for (unsigned long i = 0; i < m->cBuffers; i++) {
		SecBuffer *b = &m->pBuffers[i];
		if ((b->BufferType & ~ATTRMASK) != SECBUFFER_DATA || (b->BufferType & RO))
			continue;
		if (b->cbBuffer != 0 && b->pvBuffer == NULL) {
			sa__free(*iov);
			return SEC_E_INVALID_TOKEN;
		}
		(*iov)[*n].type = wrap && (b->BufferType & RO_CHECKSUM) ? GSS_IOV_BUFFER_TYPE_SIGN_ONLY
									: GSS_IOV_BUFFER_TYPE_DATA;
		(*iov)[*n].buffer.length = b->cbBuffer;
		(*iov)[*n].buffer.value = b->pvBuffer;
		(*n)++;
	}
	return SEC_E_OK;
}

static int32_t ready(struct krb5_ctx *x, SecBuffer **tok, SecBufferDesc *m, unsigned long type)
{
	if (!x->done)
		return SEC_E_OUT_OF_SEQUENCE;
	*tok = find(m, type);
	if (*tok == NULL || ((*tok)->cbBuffer != 0 && (*tok)->pvBuffer == NULL))
		return SEC_E_INVALID_TOKEN;
	return SEC_E_OK;
}

int32_t sa__krb5_make_signature(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	struct krb5_ctx *x = xv;
	SecBuffer *tok;
	gss_iov_buffer_desc *iov;
	size_t n;
	OM_uint32 maj, min;
	(void)seqno;
	if (qop != 0)
		return SEC_E_QOP_NOT_SUPPORTED;
	int32_t st = ready(x, &tok, msg, SECBUFFER_TOKEN);
	if (st != SEC_E_OK || (st = data_iovs(msg, 0, 0, &iov, &n)) != SEC_E_OK)
		return st;
	iov[n].type = GSS_IOV_BUFFER_TYPE_MIC_TOKEN;
	maj = gss_get_mic_iov_length(&min, x->g, GSS_C_QOP_DEFAULT, iov, (int)n + 1);
	if (GSS_ERROR(maj)) {
		st = sa__krb5_fail("gss_get_mic_iov_length", maj, min, SEC_E_INTERNAL_ERROR);
	} else if (iov[n].buffer.length > tok->cbBuffer) {
		st = SEC_E_BUFFER_TOO_SMALL;
	} else {
		iov[n].buffer.value = tok->pvBuffer;
		maj = gss_get_mic_iov(&min, x->g, GSS_C_QOP_DEFAULT, iov, (int)n + 1);
		if (GSS_ERROR(maj))
			st = sa__krb5_fail("gss_get_mic_iov", maj, min, SEC_E_INTERNAL_ERROR);
		else
			tok->cbBuffer = (unsigned long)iov[n].buffer.length;
	}
	sa__free(iov);
	return st;
}

int32_t sa__krb5_verify_signature(void *xv, SecBufferDesc *msg, unsigned long seqno,
				 unsigned long *qop)
{
	struct krb5_ctx *x = xv;
	SecBuffer *tok;
	gss_iov_buffer_desc *iov;
	size_t n;
	OM_uint32 maj, min;
	gss_qop_t q = 0;
	(void)seqno;
	int32_t st = ready(x, &tok, msg, SECBUFFER_TOKEN);
	if (st != SEC_E_OK || (st = data_iovs(msg, 0, 0, &iov, &n)) != SEC_E_OK)
		return st;
	iov[n].type = GSS_IOV_BUFFER_TYPE_MIC_TOKEN;
	iov[n].buffer.length = tok->cbBuffer;
	iov[n].buffer.value = tok->pvBuffer;
	maj = gss_verify_mic_iov(&min, x->g, &q, iov, (int)n + 1);
	st = sa__krb5_fail("gss_verify_mic_iov", maj, min, SEC_E_MESSAGE_ALTERED);
	*qop = 0;
	sa__free(iov);
	return st;
}

int32_t sa__krb5_encrypt(void *xv, unsigned long qop, SecBufferDesc *msg, unsigned long seqno)
{
	struct krb5_ctx *x = xv;
	SecBuffer *tok, *pad = find(msg, SECBUFFER_PADDING);
	gss_iov_buffer_desc *iov;
	size_t n;
	OM_uint32 maj, min;
	(void)seqno;
	if (qop != 0 && qop != SECQOP_WRAP_NO_ENCRYPT)
		return SEC_E_QOP_NOT_SUPPORTED;
	int conf = qop == 0;
	int32_t st = ready(x, &tok, msg, SECBUFFER_TOKEN);
	if (st != SEC_E_OK || (st = data_iovs(msg, 1, 1, &iov, &n)) != SEC_E_OK)
		return st;
	iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
	if (pad != NULL)
		iov[n++].type = GSS_IOV_BUFFER_TYPE_PADDING;
	maj = gss_wrap_iov_length(&min, x->g, conf, GSS_C_QOP_DEFAULT, NULL, iov, (int)n);
	if (GSS_ERROR(maj)) {
		st = sa__krb5_fail("gss_wrap_iov_length", maj, min, SEC_E_INTERNAL_ERROR);
	} else if (iov[0].buffer.length > tok->cbBuffer ||
		   (pad != NULL && (iov[n - 1].buffer.length > pad->cbBuffer ||
				    (pad->cbBuffer != 0 && pad->pvBuffer == NULL)))) {
		st = SEC_E_BUFFER_TOO_SMALL;
	} else {
		iov[0].buffer.value = tok->pvBuffer;
		if (pad != NULL)
			iov[n - 1].buffer.value = pad->pvBuffer;
		maj = gss_wrap_iov(&min, x->g, conf, GSS_C_QOP_DEFAULT, NULL, iov, (int)n);
		if (GSS_ERROR(maj)) {
			st = sa__krb5_fail("gss_wrap_iov", maj, min, SEC_E_INTERNAL_ERROR);
		} else {
			tok->cbBuffer = (unsigned long)iov[0].buffer.length;
			if (pad != NULL)
				pad->cbBuffer = (unsigned long)iov[n - 1].buffer.length;
		}
	}
	sa__free(iov);
	return st;
}

/* gss_unwrap of one token; the plaintext written at dst (room: cap bytes). */
static int32_t unwrap(struct krb5_ctx *x, const void *in, size_t len, void *dst, size_t cap,
		      size_t *plain, unsigned long *qop)
{
	OM_uint32 maj, min;
	int conf = 0;
	gss_buffer_desc ib = {len, (void *)in}, ob = GSS_C_EMPTY_BUFFER;
	maj = gss_unwrap(&min, x->g, &ib, &ob, &conf, NULL);
	int32_t st = sa__krb5_fail("gss_unwrap", maj, min, SEC_E_MESSAGE_ALTERED);
	if (st == SEC_E_OK && ob.length > cap)
		st = SEC_E_INVALID_TOKEN; /* more plaintext than the message has room for */
	if (st == SEC_E_OK) {
		if (ob.length != 0)
			memcpy(dst, ob.value, ob.length);
		*plain = ob.length;
		*qop = conf ? 0 : SECQOP_WRAP_NO_ENCRYPT;
	}
	if (ob.value != NULL)
		sa__wipe(ob.value, ob.length);
	(void)gss_release_buffer(&min, &ob);
	return st;
}

int32_t sa__krb5_decrypt(void *xv, SecBufferDesc *msg, unsigned long seqno, unsigned long *qop)
{
	struct krb5_ctx *x = xv;
	SecBuffer *tok, *data = find(msg, SECBUFFER_DATA), *stream = find(msg, SECBUFFER_STREAM);
	size_t plain = 0;
	(void)seqno;
	*qop = 0;
	if (stream != NULL) {
		int32_t st = ready(x, &tok, msg, SECBUFFER_STREAM);
		if (st != SEC_E_OK)
			return st;
		if (data == NULL)
			return SEC_E_INVALID_TOKEN;
		/* The plaintext goes to the start of the stream buffer; DATA points there. */
		st = unwrap(x, tok->pvBuffer, tok->cbBuffer, tok->pvBuffer, tok->cbBuffer, &plain, qop);
		if (st == SEC_E_OK) {
			data->pvBuffer = tok->pvBuffer;
			data->cbBuffer = (unsigned long)plain;
		}
		return st;
	}
	int32_t st = ready(x, &tok, msg, SECBUFFER_TOKEN);
	if (st != SEC_E_OK)
		return st;
	if (data == NULL || (data->cbBuffer != 0 && data->pvBuffer == NULL))
		return SEC_E_INVALID_TOKEN;
	size_t len = (size_t)tok->cbBuffer + data->cbBuffer;
	unsigned char *whole = sa__malloc(len != 0 ? len : 1);
	if (whole == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (tok->cbBuffer != 0)
		memcpy(whole, tok->pvBuffer, tok->cbBuffer);
	if (data->cbBuffer != 0)
		memcpy(whole + tok->cbBuffer, data->pvBuffer, data->cbBuffer);
	st = unwrap(x, whole, len, data->pvBuffer, data->cbBuffer, &plain, qop);
	if (st == SEC_E_OK)
		data->cbBuffer = (unsigned long)plain;
	sa__wipe(whole, len);
	sa__free(whole);
	return st;
}
