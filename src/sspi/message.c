/*
 * src/sspi/message.c - per-message protection: MakeSignature,
 * VerifySignature, EncryptMessage, DecryptMessage.  The facade checks the
 * buffer description and the handle and admits the call through the
 * lifecycle table; the package does the work (or answers
 * SEC_E_UNSUPPORTED_FUNCTION).  The order of the checks: structure
 * (SEC_E_INVALID_PARAMETER), the handle (SEC_E_INVALID_HANDLE), admission
 * (a rejected context: SEC_E_OUT_OF_SEQUENCE), on a complete context no
 * SECBUFFER_DATA to seal or unseal (SEC_E_INVALID_TOKEN, as Windows
 * documents it; a context still in its handshake gets the package's
 * SEC_E_OUT_OF_SEQUENCE), then the package's own (a @fQOP it does not
 * know: SEC_E_QOP_NOT_SUPPORTED; no token buffer: SEC_E_INVALID_TOKEN; too
 * short a one to write: SEC_E_BUFFER_TOO_SMALL; to check:
 * SEC_E_INVALID_TOKEN).
 * [test_win_encrypt_and_decrypt_without_data_are_invalid_token]
 */
#include "sspi/sspi_int.h"

enum msg_op { MSG_SIGN, MSG_VERIFY, MSG_ENCRYPT, MSG_DECRYPT };

static SECURITY_STATUS msg_call(enum msg_op op, PCtxtHandle phContext, unsigned long qop,
				PSecBufferDesc msg, unsigned long seqno, unsigned long *pqop)
{
	SECURITY_STATUS st = sa__desc_check(msg, 0); /* arguments first (sspi.h) */
	if (st != SEC_E_OK)
		return st;
	if (phContext == NULL)
		return SEC_E_INVALID_HANDLE;
	struct sa_runtime *rt;
	struct sa_ctx *ctx = NULL;
	if ((st = sa__ctx_call_begin(phContext, &rt, &ctx)) != SEC_E_OK)
		return st;
	const struct sa_package *pkg = ctx->pkg;
	void *pc = ctx->pkg_ctx;
	unsigned long q = 0;
	if ((op == MSG_ENCRYPT || op == MSG_DECRYPT) && sa__desc_find(msg, SECBUFFER_DATA) == NULL &&
	    sa__ctx_complete(ctx))
		return sa__ctx_call_end(rt, ctx, SEC_E_INVALID_TOKEN);
	switch (op) {
	case MSG_SIGN:
		st = pkg->make_signature ? pkg->make_signature(pc, qop, msg, seqno)
					 : SEC_E_UNSUPPORTED_FUNCTION;
		break;
	case MSG_VERIFY:
		st = pkg->verify_signature ? pkg->verify_signature(pc, msg, seqno, &q)
					   : SEC_E_UNSUPPORTED_FUNCTION;
		break;
	case MSG_ENCRYPT:
		st = pkg->encrypt ? pkg->encrypt(pc, qop, msg, seqno) : SEC_E_UNSUPPORTED_FUNCTION;
		break;
	case MSG_DECRYPT:
		st = pkg->decrypt ? pkg->decrypt(pc, msg, seqno, &q) : SEC_E_UNSUPPORTED_FUNCTION;
		break;
	}
	if (st == SEC_E_OK && pqop != NULL)
		*pqop = q;
	return sa__ctx_call_end(rt, ctx, st);
}

SECURITY_STATUS SEC_ENTRY MakeSignature(PCtxtHandle phContext, unsigned long fQOP,
					PSecBufferDesc pMessage, unsigned long MessageSeqNo)
{
	return msg_call(MSG_SIGN, phContext, fQOP, pMessage, MessageSeqNo, NULL);
}

SECURITY_STATUS SEC_ENTRY VerifySignature(PCtxtHandle phContext, PSecBufferDesc pMessage,
					  unsigned long MessageSeqNo, unsigned long *pfQOP)
{
	if (pfQOP == NULL)
		return SEC_E_INVALID_PARAMETER;
	return msg_call(MSG_VERIFY, phContext, 0, pMessage, MessageSeqNo, pfQOP);
}

SECURITY_STATUS SEC_ENTRY EncryptMessage(PCtxtHandle phContext, unsigned long fQOP,
					 PSecBufferDesc pMessage, unsigned long MessageSeqNo)
{
	return msg_call(MSG_ENCRYPT, phContext, fQOP, pMessage, MessageSeqNo, NULL);
}

SECURITY_STATUS SEC_ENTRY DecryptMessage(PCtxtHandle phContext, PSecBufferDesc pMessage,
					 unsigned long MessageSeqNo, unsigned long *pfQOP)
{
	return msg_call(MSG_DECRYPT, phContext, 0, pMessage, MessageSeqNo, pfQOP);
}
