/*
 * src/sspi/status.c - the one mapping from the inner modules' SA_* codes to
 * SECURITY_STATUS, and the proof that fsm.h's status codes are Microsoft's.
 */
#include "sspi/sspi_int.h"

_Static_assert(SA_ST_OK == SEC_E_OK, "fsm status");
_Static_assert(SA_ST_INVALID_HANDLE == SEC_E_INVALID_HANDLE, "fsm status");
_Static_assert(SA_ST_OUT_OF_SEQUENCE == SEC_E_OUT_OF_SEQUENCE, "fsm status");
_Static_assert(SA_ST_INSUFFICIENT_MEMORY == SEC_E_INSUFFICIENT_MEMORY, "fsm status");
_Static_assert(SA_ST_INCOMPLETE_MESSAGE == SEC_E_INCOMPLETE_MESSAGE, "fsm status");
_Static_assert(SA_ST_BUFFER_TOO_SMALL == SEC_E_BUFFER_TOO_SMALL, "fsm status");
_Static_assert(SA_ST_CONTINUE_NEEDED == SEC_I_CONTINUE_NEEDED, "fsm status");
_Static_assert(SA_ST_COMPLETE_NEEDED == SEC_I_COMPLETE_NEEDED, "fsm status");
_Static_assert(SA_ST_COMPLETE_AND_CONTINUE == SEC_I_COMPLETE_AND_CONTINUE, "fsm status");
_Static_assert(SA_ST_INTERNAL_ERROR == SEC_E_INTERNAL_ERROR, "fsm status");

static const struct {
	int code;
	SECURITY_STATUS status;
} status_map[] = {
	{SA_OK, SEC_E_OK},
	{SA_EBADHANDLE, SEC_E_INVALID_HANDLE},
	{SA_ENOMEM, SEC_E_INSUFFICIENT_MEMORY},
	{SA_ENOSPC, SEC_E_INSUFFICIENT_MEMORY}, /* a table is full: the architecture's status table */
	{SA_EINVAL, SEC_E_INVALID_PARAMETER},
	{SA_EBUSY, SEC_E_INSUFFICIENT_MEMORY},  /* a saturated reference count: a resource limit */
};

SECURITY_STATUS sa__status_from_sa(int code)
{
	for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
		if (status_map[i].code == code)
			return status_map[i].status;
	return SEC_E_INTERNAL_ERROR;
}
