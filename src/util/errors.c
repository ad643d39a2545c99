/*
 * src/util/errors.c - names of the inner modules' SA_* return codes.
 */
#include <sspiasync/errors.h>

const char *sa_strerror(int code)
{
	switch (code) {
	case SA_OK: return "SA_OK";
	case SA_EBADHANDLE: return "SA_EBADHANDLE";
	case SA_ENOMEM: return "SA_ENOMEM";
	case SA_ENOSPC: return "SA_ENOSPC";
	case SA_EINVAL: return "SA_EINVAL";
	case SA_EBUSY: return "SA_EBUSY";
	}
	return "SA_E?";
}
