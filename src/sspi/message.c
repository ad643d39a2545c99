/*
 * src/sspi/message.c - per-message protection: MakeSignature,
 * VerifySignature, EncryptMessage, DecryptMessage.  The facade checks the
 * handle and the buffer description and admits the call through the
 * lifecycle table; the package does the work (or answers
 * SEC_E_UNSUPPORTED_FUNCTION).
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
