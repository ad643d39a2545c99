/*
 * src/sspi/buffers.c - checks of the SecBufferDesc structures callers pass.
 * Structural errors are refused before any side effect; what a token means
 * is the package's business.
 */
#include "sspi/sspi_int.h"

SECURITY_STATUS sa__desc_check(const SecBufferDesc *desc, int optional)
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
		if (b->pvBuffer == NULL && b->cbBuffer != 0 &&
		    (b->BufferType & ~(unsigned long)SECBUFFER_ATTRMASK) != SECBUFFER_MISSING)
			return SEC_E_INVALID_PARAMETER;
	}
	return SEC_E_OK;
}

SecBuffer *sa__desc_find(const SecBufferDesc *desc, unsigned long type)
{
	if (desc == NULL || desc->pBuffers == NULL)
		return NULL;
	for (unsigned long i = 0; i < desc->cBuffers; i++)
		if ((desc->pBuffers[i].BufferType & ~(unsigned long)SECBUFFER_ATTRMASK) == type)
			return &desc->pBuffers[i];
	return NULL;
}
