/*
 * src/sspi/buffers.c - checks of the SecBufferDesc structures callers pass.
 * Structural errors are refused before any side effect; what a token means
 * is the package's business, and what an ISC/ASC output token buffer lacks
 * (room, memory) is the leg's status (context.c, sa__leg_check).
 */
#include "sspi/sspi_int.h"

static unsigned long buf_type(const SecBuffer *b)
{
	return b->BufferType & ~(unsigned long)SECBUFFER_ATTRMASK;
}

/* @exempt: a buffer type whose NULL-with-bytes is not a structural error
 * (SECBUFFER_EMPTY, 0, exempts none but SECBUFFER_MISSING). */
static SECURITY_STATUS desc_check(const SecBufferDesc *desc, int optional, unsigned long exempt)
{
	if (desc == NULL)
		return optional ? SEC_E_OK : SEC_E_INVALID_PARAMETER;
	if (desc->ulVersion != SECBUFFER_VERSION)
		return SEC_E_INVALID_PARAMETER;
	if (desc->cBuffers == 0)
		return SEC_E_OK;
	if (desc->pBuffers == NULL)
		return SEC_E_INVALID_PARAMETER;
	for (unsigned long i = 0; i < desc->cBuffers; i++) {
		const SecBuffer *b = &desc->pBuffers[i];
		unsigned long t = buf_type(b);
		if (b->pvBuffer == NULL && b->cbBuffer != 0 && t != SECBUFFER_MISSING &&
		    (exempt == SECBUFFER_EMPTY || t != exempt))
			return SEC_E_INVALID_PARAMETER;
	}
	return SEC_E_OK;
}

SECURITY_STATUS sa__desc_check(const SecBufferDesc *desc, int optional)
{
	return desc_check(desc, optional, SECBUFFER_EMPTY);
}

SECURITY_STATUS sa__desc_check_leg_out(const SecBufferDesc *desc)
{
	return desc_check(desc, 1, SECBUFFER_TOKEN);
}

SecBuffer *sa__desc_find(const SecBufferDesc *desc, unsigned long type)
{
	if (desc == NULL || desc->pBuffers == NULL)
		return NULL;
	for (unsigned long i = 0; i < desc->cBuffers; i++)
		if (buf_type(&desc->pBuffers[i]) == type)
			return &desc->pBuffers[i];
	return NULL;
}
