/*
 * sspiasync/sspi.h - Microsoft's SSPI API (synchronous calls and the Sspi*Async
 * family), source-compatible with code written against Windows' <sspi.h>.
 *
 * Only Microsoft names are declared here; the library's own extensions
 * (init/shutdown, completion queue, stats) live in sspiasync/sspiasync.h.
 * Types follow ARCHITECTURE.md "Types": unsigned long wherever Microsoft's
 * documentation writes it, SECURITY_STATUS/LONG/NTSTATUS are int32_t so errors
 * are negative.  Every function with a string exists twice, as on Windows:
 * the A form takes UTF-8, the W form UTF-16 (SEC_WCHAR, 16 bits as Windows'
 * WCHAR, not Linux's 32-bit wchar_t); with UNICODE defined the unsuffixed
 * names are the W forms, without it the A forms (the block at the end).  Numeric values
 * are Microsoft's (winerror.h, ntstatus.h, sspi.h); test/check_sspi_header.c
 * asserts every status code, the request/return flags and the layouts.  This
 * header defines no object with linkage: types, macros and prototypes only.
 */
#ifndef SSPIASYNC_SSPI_H
#define SSPIASYNC_SSPI_H


#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Calling convention and SAL annotations: all empty on this platform.       */
/* ------------------------------------------------------------------------ */

#ifndef SEC_ENTRY
#define SEC_ENTRY
#endif
#ifndef SEC_FAR
#define SEC_FAR
#endif

/*
 * Source-code annotation language, as used on Microsoft's SSPI pages.  Each
 * one expands to nothing; a definition the program already has wins.
 */
#ifndef _In_
#define _In_
#endif
#ifndef _In_opt_
#define _In_opt_
#endif
#ifndef _In_z_
#define _In_z_
#endif
#ifndef _In_opt_z_
#define _In_opt_z_
#endif
#ifndef _In_reads_
#define _In_reads_(size)
#endif
#ifndef _In_reads_opt_
#define _In_reads_opt_(size)
#endif
#ifndef _In_reads_bytes_
#define _In_reads_bytes_(size)
#endif
#ifndef _In_reads_bytes_opt_
#define _In_reads_bytes_opt_(size)
#endif
#ifndef _In_range_
#define _In_range_(lo, hi)
#endif
#ifndef _Out_
#define _Out_
#endif
#ifndef _Out_opt_
#define _Out_opt_
#endif
#ifndef _Out_writes_
#define _Out_writes_(size)
#endif
#ifndef _Out_writes_opt_
#define _Out_writes_opt_(size)
#endif
#ifndef _Out_writes_bytes_
#define _Out_writes_bytes_(size)
#endif
#ifndef _Out_writes_bytes_opt_
#define _Out_writes_bytes_opt_(size)
#endif
#ifndef _Out_writes_bytes_to_
#define _Out_writes_bytes_to_(size, count)
#endif
#ifndef _Inout_
#define _Inout_
#endif
#ifndef _Inout_opt_
#define _Inout_opt_
#endif
#ifndef _Inout_updates_
#define _Inout_updates_(size)
#endif
#ifndef _Inout_updates_opt_
#define _Inout_updates_opt_(size)
#endif
#ifndef _Inout_updates_bytes_
#define _Inout_updates_bytes_(size)
#endif
#ifndef _Inout_updates_bytes_opt_
#define _Inout_updates_bytes_opt_(size)
#endif
#ifndef _Outptr_
#define _Outptr_
#endif
#ifndef _Outptr_opt_
#define _Outptr_opt_
#endif
#ifndef _Outptr_result_maybenull_
#define _Outptr_result_maybenull_
#endif
#ifndef _Outptr_opt_result_maybenull_
#define _Outptr_opt_result_maybenull_
#endif
#ifndef _Outptr_result_buffer_
#define _Outptr_result_buffer_(size)
#endif
#ifndef _Outptr_result_bytebuffer_
#define _Outptr_result_bytebuffer_(size)
#endif
#ifndef _Deref_out_
#define _Deref_out_
#endif
#ifndef _Reserved_
#define _Reserved_
#endif
#ifndef _Frees_ptr_
#define _Frees_ptr_
#endif
#ifndef _Frees_ptr_opt_
#define _Frees_ptr_opt_
#endif
#ifndef _Pre_notnull_
#define _Pre_notnull_
#endif
#ifndef _Pre_maybenull_
#define _Pre_maybenull_
#endif
#ifndef _Pre_valid_
#define _Pre_valid_
#endif
#ifndef _Pre_opt_valid_
#define _Pre_opt_valid_
#endif
#ifndef _Post_valid_
#define _Post_valid_
#endif
#ifndef _Post_invalid_
#define _Post_invalid_
#endif
#ifndef _Post_ptr_invalid_
#define _Post_ptr_invalid_
#endif
#ifndef _Ret_maybenull_
#define _Ret_maybenull_
#endif
#ifndef _Ret_notnull_
#define _Ret_notnull_
#endif
#ifndef _Ret_z_
#define _Ret_z_
#endif
#ifndef _Success_
#define _Success_(expr)
#endif
#ifndef _Check_return_
#define _Check_return_
#endif
#ifndef _Must_inspect_result_
#define _Must_inspect_result_
#endif
#ifndef _When_
#define _When_(cond, annotes)
#endif
#ifndef _At_
#define _At_(target, annotes)
#endif
#ifndef _Field_size_
#define _Field_size_(size)
#endif
#ifndef _Field_size_opt_
#define _Field_size_opt_(size)
#endif
#ifndef _Field_size_bytes_
#define _Field_size_bytes_(size)
#endif
#ifndef _Field_size_bytes_opt_
#define _Field_size_bytes_opt_(size)
#endif
#ifndef _Field_range_
#define _Field_range_(lo, hi)
#endif
#ifndef _Null_terminated_
#define _Null_terminated_
#endif
#ifndef _Function_class_
#define _Function_class_(name)
#endif
#ifndef _IRQL_requires_
#define _IRQL_requires_(irql)
#endif
#ifndef _IRQL_requires_max_
#define _IRQL_requires_max_(irql)
#endif

/*
 * The older double-underscore annotations (__in, __out, ...) collide with
 * identifiers that libstdc++ uses as parameter and variable names (__in,
 * __out in <algorithm>, <istream>, ...), and __reserved is a field name in
 * <linux/stat.h>.  So: defined for C unless SSPIASYNC_NO_LEGACY_SAL; for C++
 * only on request (SSPIASYNC_LEGACY_SAL), and then include this header after
 * every standard library header.  __reserved is never defined.
 */
#if (!defined(__cplusplus) && !defined(SSPIASYNC_NO_LEGACY_SAL)) || \
	(defined(__cplusplus) && defined(SSPIASYNC_LEGACY_SAL))
#ifndef __in
#define __in
#endif
#ifndef __in_opt
#define __in_opt
#endif
#ifndef __out
#define __out
#endif
#ifndef __out_opt
#define __out_opt
#endif
#ifndef __inout
#define __inout
#endif
#ifndef __inout_opt
#define __inout_opt
#endif
#ifndef __in_bcount
#define __in_bcount(size)
#endif
#ifndef __out_bcount
#define __out_bcount(size)
#endif
#ifndef __in_ecount
#define __in_ecount(size)
#endif
#ifndef __out_ecount
#define __out_ecount(size)
#endif
#ifndef __deref_out
#define __deref_out
#endif
#endif /* legacy SAL */

/* ------------------------------------------------------------------------ */
/* Windows base types.                                                       */
/* ------------------------------------------------------------------------ */

/*
 * LONG, SECURITY_STATUS and NTSTATUS are 32 bits as on Windows, so an error
 * code is negative.  ULONG is unsigned long (64 bits on LP64 Linux, 32 on
 * Windows): prototypes say unsigned long exactly where Microsoft's pages do,
 * so ported code declaring `unsigned long attrs;` compiles unchanged.  No
 * struct here crosses a process boundary, so the LP64 size difference is
 * harmless.  BOOL is deliberately absent: no SSPI prototype here uses it, and
 * other headers (X11's Xmd.h) define it differently.
 */
#ifndef VOID
#define VOID void
#endif
typedef void *PVOID;
typedef void *HANDLE;
typedef char CHAR;
typedef unsigned char UCHAR;
typedef unsigned short USHORT;
typedef int32_t LONG;
typedef unsigned long ULONG, *PULONG;
typedef uint32_t DWORD;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef intptr_t INT_PTR;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR;
typedef unsigned char BOOLEAN;
typedef char *LPSTR;
typedef const char *LPCSTR;
typedef int32_t NTSTATUS;
typedef LONG SECURITY_STATUS;
typedef CHAR SEC_CHAR;

/*
 * SEC_WCHAR: one UTF-16 code unit, 16 bits like Windows' WCHAR.  Linux's
 * wchar_t is 32 bits and is never used here: write W strings as u"..."
 * literals (SEC_TEXT("...") under UNICODE).  In C it is uint16_t, the element
 * type of a u"..." literal on this platform; in C++ it is char16_t.  Every W
 * string the library takes must be valid UTF-16 (a lone surrogate gives
 * SEC_E_INVALID_PARAMETER); every W string it returns is.
 */
#if defined(__cplusplus)
typedef char16_t SEC_WCHAR;
#else
typedef uint16_t SEC_WCHAR;
#endif
typedef SEC_WCHAR WCHAR;
typedef SEC_WCHAR *PWSTR, *LPWSTR;
typedef const SEC_WCHAR *PCWSTR, *LPCWSTR;
typedef const char *PCSTR;

/* SEC_TEXT("...") is a string of the unsuffixed (A or W) forms. */
#ifdef UNICODE
#define SEC_TEXT(quote) u##quote
typedef SEC_WCHAR *SECURITY_PSTR;
typedef const SEC_WCHAR *SECURITY_PCSTR;
#else
#define SEC_TEXT(quote) quote
typedef SEC_CHAR *SECURITY_PSTR;
typedef const SEC_CHAR *SECURITY_PCSTR;
#endif

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/*
 * LARGE_INTEGER: 8 bytes, QuadPart aliasing {LowPart, HighPart}.  The halves
 * are ordered by the target's byte order so that the alias holds everywhere
 * (Windows only knows little-endian, where the order is Microsoft's).
 */
#if defined(__cplusplus) && (defined(__GNUC__) || defined(__clang__))
#define SA__ANON_STRUCT __extension__ struct /* C++ has no anonymous structs */
#else
#define SA__ANON_STRUCT struct
#endif
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
	__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SA__LARGE_INTEGER_HALVES LONG HighPart; DWORD LowPart;
#else
#define SA__LARGE_INTEGER_HALVES DWORD LowPart; LONG HighPart;
#endif
typedef union _LARGE_INTEGER {
	SA__ANON_STRUCT {
		SA__LARGE_INTEGER_HALVES
	};
	struct {
		SA__LARGE_INTEGER_HALVES
	} u;
	LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;
#undef SA__LARGE_INTEGER_HALVES
#undef SA__ANON_STRUCT

/* ------------------------------------------------------------------------ */
/* Status codes.                                                             */
/* ------------------------------------------------------------------------ */

#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((SECURITY_STATUS)(hr)) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) (((SECURITY_STATUS)(hr)) < 0)
#endif
#ifndef SEC_SUCCESS
#define SEC_SUCCESS(Status) ((Status) >= 0)
#endif
#ifndef NT_SUCCESS
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#endif

/* SECURITY_STATUS values: HRESULTs of FACILITY_SECURITY (9). */
#define SEC_E_OK                              ((SECURITY_STATUS)0x00000000L)

#define SEC_I_CONTINUE_NEEDED                 ((SECURITY_STATUS)0x00090312L)
#define SEC_I_COMPLETE_NEEDED                 ((SECURITY_STATUS)0x00090313L)
#define SEC_I_COMPLETE_AND_CONTINUE           ((SECURITY_STATUS)0x00090314L)
#define SEC_I_LOCAL_LOGON                     ((SECURITY_STATUS)0x00090315L)
#define SEC_I_GENERIC_EXTENSION_RECEIVED      ((SECURITY_STATUS)0x00090316L)
#define SEC_I_CONTEXT_EXPIRED                 ((SECURITY_STATUS)0x00090317L)
#define SEC_I_INCOMPLETE_CREDENTIALS          ((SECURITY_STATUS)0x00090320L)
#define SEC_I_RENEGOTIATE                     ((SECURITY_STATUS)0x00090321L)
#define SEC_I_NO_LSA_CONTEXT                  ((SECURITY_STATUS)0x00090323L)
#define SEC_I_SIGNATURE_NEEDED                ((SECURITY_STATUS)0x0009035CL)
#define SEC_I_NO_RENEGOTIATION                ((SECURITY_STATUS)0x00090360L)
#define SEC_I_MESSAGE_FRAGMENT                ((SECURITY_STATUS)0x00090364L)
#define SEC_I_CONTINUE_NEEDED_MESSAGE_OK      ((SECURITY_STATUS)0x00090366L)
/* What SspiGetAsyncCallStatus() reports while the call is still running. */
#define SEC_I_ASYNC_CALL_PENDING              ((SECURITY_STATUS)0x00090368L)

#define SEC_E_INSUFFICIENT_MEMORY             ((SECURITY_STATUS)0x80090300L)
#define SEC_E_INVALID_HANDLE                  ((SECURITY_STATUS)0x80090301L)
#define SEC_E_UNSUPPORTED_FUNCTION            ((SECURITY_STATUS)0x80090302L)
#define SEC_E_TARGET_UNKNOWN                  ((SECURITY_STATUS)0x80090303L)
#define SEC_E_INTERNAL_ERROR                  ((SECURITY_STATUS)0x80090304L)
#define SEC_E_SECPKG_NOT_FOUND                ((SECURITY_STATUS)0x80090305L)
#define SEC_E_NOT_OWNER                       ((SECURITY_STATUS)0x80090306L)
#define SEC_E_CANNOT_INSTALL                  ((SECURITY_STATUS)0x80090307L)
#define SEC_E_INVALID_TOKEN                   ((SECURITY_STATUS)0x80090308L)
#define SEC_E_CANNOT_PACK                     ((SECURITY_STATUS)0x80090309L)
#define SEC_E_QOP_NOT_SUPPORTED               ((SECURITY_STATUS)0x8009030AL)
#define SEC_E_NO_IMPERSONATION                ((SECURITY_STATUS)0x8009030BL)
#define SEC_E_LOGON_DENIED                    ((SECURITY_STATUS)0x8009030CL)
#define SEC_E_UNKNOWN_CREDENTIALS             ((SECURITY_STATUS)0x8009030DL)
#define SEC_E_NO_CREDENTIALS                  ((SECURITY_STATUS)0x8009030EL)
#define SEC_E_MESSAGE_ALTERED                 ((SECURITY_STATUS)0x8009030FL)
#define SEC_E_OUT_OF_SEQUENCE                 ((SECURITY_STATUS)0x80090310L)
#define SEC_E_NO_AUTHENTICATING_AUTHORITY     ((SECURITY_STATUS)0x80090311L)
#define SEC_E_BAD_PKGID                       ((SECURITY_STATUS)0x80090316L)
#define SEC_E_CONTEXT_EXPIRED                 ((SECURITY_STATUS)0x80090317L)
#define SEC_E_INCOMPLETE_MESSAGE              ((SECURITY_STATUS)0x80090318L)
#define SEC_E_INCOMPLETE_CREDENTIALS          ((SECURITY_STATUS)0x80090320L)
#define SEC_E_BUFFER_TOO_SMALL                ((SECURITY_STATUS)0x80090321L)
#define SEC_E_WRONG_PRINCIPAL                 ((SECURITY_STATUS)0x80090322L)
#define SEC_E_TIME_SKEW                       ((SECURITY_STATUS)0x80090324L)
#define SEC_E_UNTRUSTED_ROOT                  ((SECURITY_STATUS)0x80090325L)
#define SEC_E_ILLEGAL_MESSAGE                 ((SECURITY_STATUS)0x80090326L)
#define SEC_E_CERT_UNKNOWN                    ((SECURITY_STATUS)0x80090327L)
#define SEC_E_CERT_EXPIRED                    ((SECURITY_STATUS)0x80090328L)
#define SEC_E_ENCRYPT_FAILURE                 ((SECURITY_STATUS)0x80090329L)
#define SEC_E_DECRYPT_FAILURE                 ((SECURITY_STATUS)0x80090330L)
#define SEC_E_ALGORITHM_MISMATCH              ((SECURITY_STATUS)0x80090331L)
#define SEC_E_SECURITY_QOS_FAILED             ((SECURITY_STATUS)0x80090332L)
#define SEC_E_UNFINISHED_CONTEXT_DELETED      ((SECURITY_STATUS)0x80090333L)
#define SEC_E_NO_TGT_REPLY                    ((SECURITY_STATUS)0x80090334L)
#define SEC_E_NO_IP_ADDRESSES                 ((SECURITY_STATUS)0x80090335L)
#define SEC_E_WRONG_CREDENTIAL_HANDLE         ((SECURITY_STATUS)0x80090336L)
#define SEC_E_CRYPTO_SYSTEM_INVALID           ((SECURITY_STATUS)0x80090337L)
#define SEC_E_MAX_REFERRALS_EXCEEDED          ((SECURITY_STATUS)0x80090338L)
#define SEC_E_MUST_BE_KDC                     ((SECURITY_STATUS)0x80090339L)
#define SEC_E_STRONG_CRYPTO_NOT_SUPPORTED     ((SECURITY_STATUS)0x8009033AL)
#define SEC_E_TOO_MANY_PRINCIPALS             ((SECURITY_STATUS)0x8009033BL)
#define SEC_E_NO_PA_DATA                      ((SECURITY_STATUS)0x8009033CL)
#define SEC_E_PKINIT_NAME_MISMATCH            ((SECURITY_STATUS)0x8009033DL)
#define SEC_E_SMARTCARD_LOGON_REQUIRED        ((SECURITY_STATUS)0x8009033EL)
#define SEC_E_SHUTDOWN_IN_PROGRESS            ((SECURITY_STATUS)0x8009033FL)
#define SEC_E_KDC_INVALID_REQUEST             ((SECURITY_STATUS)0x80090340L)
#define SEC_E_KDC_UNABLE_TO_REFER             ((SECURITY_STATUS)0x80090341L)
#define SEC_E_KDC_UNKNOWN_ETYPE               ((SECURITY_STATUS)0x80090342L)
#define SEC_E_UNSUPPORTED_PREAUTH             ((SECURITY_STATUS)0x80090343L)
#define SEC_E_DELEGATION_REQUIRED             ((SECURITY_STATUS)0x80090345L)
#define SEC_E_BAD_BINDINGS                    ((SECURITY_STATUS)0x80090346L)
#define SEC_E_MULTIPLE_ACCOUNTS               ((SECURITY_STATUS)0x80090347L)
#define SEC_E_NO_KERB_KEY                     ((SECURITY_STATUS)0x80090348L)
#define SEC_E_CERT_WRONG_USAGE                ((SECURITY_STATUS)0x80090349L)
#define SEC_E_DOWNGRADE_DETECTED              ((SECURITY_STATUS)0x80090350L)
#define SEC_E_SMARTCARD_CERT_REVOKED          ((SECURITY_STATUS)0x80090351L)
#define SEC_E_ISSUING_CA_UNTRUSTED            ((SECURITY_STATUS)0x80090352L)
#define SEC_E_REVOCATION_OFFLINE_C            ((SECURITY_STATUS)0x80090353L)
#define SEC_E_PKINIT_CLIENT_FAILURE           ((SECURITY_STATUS)0x80090354L)
#define SEC_E_SMARTCARD_CERT_EXPIRED          ((SECURITY_STATUS)0x80090355L)
#define SEC_E_NO_S4U_PROT_SUPPORT             ((SECURITY_STATUS)0x80090356L)
#define SEC_E_CROSSREALM_DELEGATION_FAILURE   ((SECURITY_STATUS)0x80090357L)
#define SEC_E_REVOCATION_OFFLINE_KDC          ((SECURITY_STATUS)0x80090358L)
#define SEC_E_ISSUING_CA_UNTRUSTED_KDC        ((SECURITY_STATUS)0x80090359L)
#define SEC_E_KDC_CERT_EXPIRED                ((SECURITY_STATUS)0x8009035AL)
#define SEC_E_KDC_CERT_REVOKED                ((SECURITY_STATUS)0x8009035BL)
#define SEC_E_INVALID_PARAMETER               ((SECURITY_STATUS)0x8009035DL)
#define SEC_E_DELEGATION_POLICY               ((SECURITY_STATUS)0x8009035EL)
#define SEC_E_POLICY_NLTM_ONLY                ((SECURITY_STATUS)0x8009035FL)
#define SEC_E_NO_CONTEXT                      ((SECURITY_STATUS)0x80090361L)
#define SEC_E_PKU2U_CERT_FAILURE              ((SECURITY_STATUS)0x80090362L)
#define SEC_E_MUTUAL_AUTH_FAILED              ((SECURITY_STATUS)0x80090363L)
#define SEC_E_ONLY_HTTPS_ALLOWED              ((SECURITY_STATUS)0x80090365L)
#define SEC_E_APPLICATION_PROTOCOL_MISMATCH   ((SECURITY_STATUS)0x80090367L)
#define SEC_E_INVALID_UPN_NAME                ((SECURITY_STATUS)0x80090369L)
#define SEC_E_EXT_BUFFER_TOO_SMALL            ((SECURITY_STATUS)0x8009036AL)
#define SEC_E_INSUFFICIENT_BUFFERS            ((SECURITY_STATUS)0x8009036BL)

/* Microsoft's aliases. */
#define SEC_E_NOT_SUPPORTED                   SEC_E_UNSUPPORTED_FUNCTION
#define SEC_E_NO_SPM                          SEC_E_INTERNAL_ERROR

/* NTSTATUS values: only SspiReinitAsyncContext() returns NTSTATUS. */
#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS                        ((NTSTATUS)0x00000000L)
#endif
#ifndef STATUS_INVALID_HANDLE
#define STATUS_INVALID_HANDLE                 ((NTSTATUS)0xC0000008L)
#endif
#ifndef STATUS_INVALID_DEVICE_STATE
#define STATUS_INVALID_DEVICE_STATE           ((NTSTATUS)0xC0000184L)
#endif

/* ------------------------------------------------------------------------ */
/* Handles.                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A credential or security-context handle: two opaque words, filled by value
 * and freely copied by the caller.  In this library they are never pointers:
 * a stale, copied-after-delete, forged or zeroed handle is detected and
 * answered with SEC_E_INVALID_HANDLE, never dereferenced.  No handle the
 * library issues has a word equal to 0, all-ones or SEC_DELETED_HANDLE.
 */
typedef struct _SecHandle {
	ULONG_PTR dwLower;
	ULONG_PTR dwUpper;
} SecHandle, *PSecHandle;

typedef SecHandle CredHandle;
typedef PSecHandle PCredHandle;
typedef SecHandle CtxtHandle;
typedef PSecHandle PCtxtHandle;

/*
 * SecInvalidateHandle() sets both words to all-ones; SecIsValidHandle() is
 * true iff neither word is all-ones.  As on Windows it is only a sentinel
 * test: it says nothing about whether the handle is live.  Unlike Microsoft's
 * macro, SecInvalidateHandle() is one expression, safe as an if-body.
 */
#define SecInvalidateHandle(x) \
	((void)(((PSecHandle)(x))->dwLower = ((ULONG_PTR)((INT_PTR)-1)), \
		((PSecHandle)(x))->dwUpper = ((ULONG_PTR)((INT_PTR)-1))))
#define SecIsValidHandle(x) \
	((((PSecHandle)(x))->dwLower != ((ULONG_PTR)((INT_PTR)-1))) && \
	 (((PSecHandle)(x))->dwUpper != ((ULONG_PTR)((INT_PTR)-1))))
/* Defined by Microsoft, undocumented; never issued by this library. */
#define SEC_DELETED_HANDLE ((ULONG_PTR)(-2))

/* Time: a FILETIME-style count of 100 ns units since 1601-01-01. */
typedef LARGE_INTEGER SECURITY_INTEGER, *PSECURITY_INTEGER;
typedef SECURITY_INTEGER TimeStamp, *PTimeStamp;

/* A counted UTF-16 string (kernel mode's UNICODE_STRING). */
typedef struct _SECURITY_STRING {
	unsigned short Length;        /* bytes, without a terminating NUL */
	unsigned short MaximumLength; /* bytes of Buffer */
	unsigned short *Buffer;
} SECURITY_STRING, *PSECURITY_STRING;

/* ------------------------------------------------------------------------ */
/* Buffers.                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct _SecBuffer {
	unsigned long cbBuffer;   /* size of pvBuffer in bytes */
	unsigned long BufferType; /* SECBUFFER_*, optionally | SECBUFFER_READONLY... */
	void *pvBuffer;
} SecBuffer, *PSecBuffer;

typedef struct _SecBufferDesc {
	unsigned long ulVersion;  /* must be SECBUFFER_VERSION */
	unsigned long cBuffers;
	PSecBuffer pBuffers;
} SecBufferDesc, *PSecBufferDesc;

#define SECBUFFER_VERSION                     0

#define SECBUFFER_EMPTY                       0
#define SECBUFFER_DATA                        1
#define SECBUFFER_TOKEN                       2
#define SECBUFFER_PKG_PARAMS                  3
#define SECBUFFER_MISSING                     4
#define SECBUFFER_EXTRA                       5
#define SECBUFFER_STREAM_TRAILER              6
#define SECBUFFER_STREAM_HEADER               7
#define SECBUFFER_NEGOTIATION_INFO            8
#define SECBUFFER_PADDING                     9
#define SECBUFFER_STREAM                      10
#define SECBUFFER_MECHLIST                    11
#define SECBUFFER_MECHLIST_SIGNATURE          12
#define SECBUFFER_TARGET                      13
#define SECBUFFER_CHANNEL_BINDINGS            14
#define SECBUFFER_CHANGE_PASS_RESPONSE        15
#define SECBUFFER_TARGET_HOST                 16
#define SECBUFFER_ALERT                       17
#define SECBUFFER_APPLICATION_PROTOCOLS       18
#define SECBUFFER_SRTP_PROTECTION_PROFILES    19
#define SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER  20
#define SECBUFFER_TOKEN_BINDING               21
#define SECBUFFER_PRESHARED_KEY               22
#define SECBUFFER_PRESHARED_KEY_IDENTITY      23
#define SECBUFFER_DTLS_MTU                    24
#define SECBUFFER_SEND_GENERIC_TLS_EXTENSION  25
#define SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION 26
#define SECBUFFER_FLAGS                       27
#define SECBUFFER_TRAFFIC_SECRETS             28
#define SECBUFFER_CERTIFICATE_REQUEST_CONTEXT 29

/* Attribute bits OR-ed into BufferType. */
#define SECBUFFER_ATTRMASK                    0xF0000000
#define SECBUFFER_READONLY                    0x80000000
#define SECBUFFER_READONLY_WITH_CHECKSUM      0x10000000
#define SECBUFFER_RESERVED                    0x60000000

/* ------------------------------------------------------------------------ */
/* Flags and attribute numbers.                                              */
/* ------------------------------------------------------------------------ */

#define SECURITY_NATIVE_DREP                  0x00000010
#define SECURITY_NETWORK_DREP                 0x00000000

/* fCredentialUse of AcquireCredentialsHandleA(). */
#define SECPKG_CRED_INBOUND                   0x00000001
#define SECPKG_CRED_OUTBOUND                  0x00000002
#define SECPKG_CRED_BOTH                      0x00000003
#define SECPKG_CRED_DEFAULT                   0x00000004
#define SECPKG_CRED_RESERVED                  0xF0000000

/* fContextReq of InitializeSecurityContextA(). */
#define ISC_REQ_DELEGATE                      0x00000001
#define ISC_REQ_MUTUAL_AUTH                   0x00000002
#define ISC_REQ_REPLAY_DETECT                 0x00000004
#define ISC_REQ_SEQUENCE_DETECT               0x00000008
#define ISC_REQ_CONFIDENTIALITY               0x00000010
#define ISC_REQ_USE_SESSION_KEY               0x00000020
#define ISC_REQ_PROMPT_FOR_CREDS              0x00000040
#define ISC_REQ_USE_SUPPLIED_CREDS            0x00000080
#define ISC_REQ_ALLOCATE_MEMORY               0x00000100
#define ISC_REQ_USE_DCE_STYLE                 0x00000200
#define ISC_REQ_DATAGRAM                      0x00000400
#define ISC_REQ_CONNECTION                    0x00000800
#define ISC_REQ_CALL_LEVEL                    0x00001000
#define ISC_REQ_FRAGMENT_SUPPLIED             0x00002000
#define ISC_REQ_EXTENDED_ERROR                0x00004000
#define ISC_REQ_STREAM                        0x00008000
#define ISC_REQ_INTEGRITY                     0x00010000
#define ISC_REQ_IDENTIFY                      0x00020000
#define ISC_REQ_NULL_SESSION                  0x00040000
#define ISC_REQ_MANUAL_CRED_VALIDATION        0x00080000
#define ISC_REQ_RESERVED1                     0x00100000
#define ISC_REQ_FRAGMENT_TO_FIT               0x00200000
#define ISC_REQ_FORWARD_CREDENTIALS           0x00400000
#define ISC_REQ_NO_INTEGRITY                  0x00800000
#define ISC_REQ_USE_HTTP_STYLE                0x01000000
#define ISC_REQ_UNVERIFIED_TARGET_NAME        0x20000000
#define ISC_REQ_CONFIDENTIALITY_ONLY          0x40000000
/* Above 32 bits: they do not fit Windows' 32-bit unsigned long; they do on LP64. */
#define ISC_REQ_MESSAGES                      0x0000000100000000
#define ISC_REQ_DEFERRED_CRED_VALIDATION      0x0000000200000000
#define ISC_REQ_NO_POST_HANDSHAKE_AUTH        0x0000000400000000

/* *pfContextAttr of InitializeSecurityContextA(). */
#define ISC_RET_DELEGATE                      0x00000001
#define ISC_RET_MUTUAL_AUTH                   0x00000002
#define ISC_RET_REPLAY_DETECT                 0x00000004
#define ISC_RET_SEQUENCE_DETECT               0x00000008
#define ISC_RET_CONFIDENTIALITY               0x00000010
#define ISC_RET_USE_SESSION_KEY               0x00000020
#define ISC_RET_USED_COLLECTED_CREDS          0x00000040
#define ISC_RET_USED_SUPPLIED_CREDS           0x00000080
#define ISC_RET_ALLOCATED_MEMORY              0x00000100
#define ISC_RET_USED_DCE_STYLE                0x00000200
#define ISC_RET_DATAGRAM                      0x00000400
#define ISC_RET_CONNECTION                    0x00000800
#define ISC_RET_INTERMEDIATE_RETURN           0x00001000
#define ISC_RET_CALL_LEVEL                    0x00002000
#define ISC_RET_EXTENDED_ERROR                0x00004000
#define ISC_RET_STREAM                        0x00008000
#define ISC_RET_INTEGRITY                     0x00010000
#define ISC_RET_IDENTIFY                      0x00020000
#define ISC_RET_NULL_SESSION                  0x00040000
#define ISC_RET_MANUAL_CRED_VALIDATION        0x00080000
#define ISC_RET_RESERVED1                     0x00100000
#define ISC_RET_FRAGMENT_ONLY                 0x00200000
#define ISC_RET_FORWARD_CREDENTIALS           0x00400000
#define ISC_RET_USED_HTTP_STYLE               0x01000000
#define ISC_RET_NO_ADDITIONAL_TOKEN           0x02000000
#define ISC_RET_REAUTHENTICATION              0x08000000
#define ISC_RET_CONFIDENTIALITY_ONLY          0x40000000
#define ISC_RET_MESSAGES                      0x0000000100000000
#define ISC_RET_DEFERRED_CRED_VALIDATION      0x0000000200000000
#define ISC_RET_NO_POST_HANDSHAKE_AUTH        0x0000000400000000

/* fContextReq of AcceptSecurityContext(): from 0x8000 up they differ from ISC_REQ_*. */
#define ASC_REQ_DELEGATE                      0x00000001
#define ASC_REQ_MUTUAL_AUTH                   0x00000002
#define ASC_REQ_REPLAY_DETECT                 0x00000004
#define ASC_REQ_SEQUENCE_DETECT               0x00000008
#define ASC_REQ_CONFIDENTIALITY               0x00000010
#define ASC_REQ_USE_SESSION_KEY               0x00000020
#define ASC_REQ_SESSION_TICKET                0x00000040
#define ASC_REQ_ALLOCATE_MEMORY               0x00000100
#define ASC_REQ_USE_DCE_STYLE                 0x00000200
#define ASC_REQ_DATAGRAM                      0x00000400
#define ASC_REQ_CONNECTION                    0x00000800
#define ASC_REQ_CALL_LEVEL                    0x00001000
#define ASC_REQ_FRAGMENT_SUPPLIED             0x00002000
#define ASC_REQ_EXTENDED_ERROR                0x00008000
#define ASC_REQ_STREAM                        0x00010000
#define ASC_REQ_INTEGRITY                     0x00020000
#define ASC_REQ_LICENSING                     0x00040000
#define ASC_REQ_IDENTIFY                      0x00080000
#define ASC_REQ_ALLOW_NULL_SESSION            0x00100000
#define ASC_REQ_ALLOW_NON_USER_LOGONS         0x00200000
#define ASC_REQ_ALLOW_CONTEXT_REPLAY          0x00400000
#define ASC_REQ_FRAGMENT_TO_FIT               0x00800000
#define ASC_REQ_NO_TOKEN                      0x01000000
#define ASC_REQ_PROXY_BINDINGS                0x04000000
#define ASC_REQ_ALLOW_MISSING_BINDINGS        0x10000000
#define ASC_REQ_MESSAGES                      0x0000000100000000

/* *pfContextAttr of AcceptSecurityContext(). */
#define ASC_RET_DELEGATE                      0x00000001
#define ASC_RET_MUTUAL_AUTH                   0x00000002
#define ASC_RET_REPLAY_DETECT                 0x00000004
#define ASC_RET_SEQUENCE_DETECT               0x00000008
#define ASC_RET_CONFIDENTIALITY               0x00000010
#define ASC_RET_USE_SESSION_KEY               0x00000020
#define ASC_RET_SESSION_TICKET                0x00000040
#define ASC_RET_ALLOCATED_MEMORY              0x00000100
#define ASC_RET_USED_DCE_STYLE                0x00000200
#define ASC_RET_DATAGRAM                      0x00000400
#define ASC_RET_CONNECTION                    0x00000800
#define ASC_RET_CALL_LEVEL                    0x00002000
#define ASC_RET_THIRD_LEG_FAILED              0x00004000
#define ASC_RET_EXTENDED_ERROR                0x00008000
#define ASC_RET_STREAM                        0x00010000
#define ASC_RET_INTEGRITY                     0x00020000
#define ASC_RET_LICENSING                     0x00040000
#define ASC_RET_IDENTIFY                      0x00080000
#define ASC_RET_NULL_SESSION                  0x00100000
#define ASC_RET_ALLOW_NON_USER_LOGONS         0x00200000
#define ASC_RET_ALLOW_CONTEXT_REPLAY          0x00400000
#define ASC_RET_FRAGMENT_ONLY                 0x00800000
#define ASC_RET_NO_TOKEN                      0x01000000
#define ASC_RET_NO_ADDITIONAL_TOKEN           0x02000000
#define ASC_RET_MESSAGES                      0x0000000100000000

/* ulAttribute of QueryContextAttributesA(). */
#define SECPKG_ATTR_SIZES                     0
#define SECPKG_ATTR_NAMES                     1
#define SECPKG_ATTR_LIFESPAN                  2
#define SECPKG_ATTR_DCE_INFO                  3
#define SECPKG_ATTR_STREAM_SIZES              4
#define SECPKG_ATTR_KEY_INFO                  5
#define SECPKG_ATTR_AUTHORITY                 6
#define SECPKG_ATTR_PROTO_INFO                7
#define SECPKG_ATTR_PASSWORD_EXPIRY           8
#define SECPKG_ATTR_SESSION_KEY               9
#define SECPKG_ATTR_PACKAGE_INFO              10
#define SECPKG_ATTR_USER_FLAGS                11
#define SECPKG_ATTR_NEGOTIATION_INFO          12
#define SECPKG_ATTR_NATIVE_NAMES              13
#define SECPKG_ATTR_FLAGS                     14
#define SECPKG_ATTR_USE_VALIDATED             15
#define SECPKG_ATTR_CREDENTIAL_NAME           16
#define SECPKG_ATTR_TARGET_INFORMATION        17
#define SECPKG_ATTR_ACCESS_TOKEN              18
#define SECPKG_ATTR_TARGET                    19
#define SECPKG_ATTR_AUTHENTICATION_ID         20
#define SECPKG_ATTR_LOGOFF_TIME               21
#define SECPKG_ATTR_NEGO_KEYS                 22
#define SECPKG_ATTR_PROMPTING_NEEDED          24
#define SECPKG_ATTR_UNIQUE_BINDINGS           25
#define SECPKG_ATTR_ENDPOINT_BINDINGS         26
#define SECPKG_ATTR_CLIENT_SPECIFIED_TARGET   27
#define SECPKG_ATTR_LAST_CLIENT_TOKEN_STATUS  30
#define SECPKG_ATTR_NEGO_PKG_INFO             31
#define SECPKG_ATTR_NEGO_STATUS               32
#define SECPKG_ATTR_CONTEXT_DELETED           33
#define SECPKG_ATTR_DTLS_MTU                  34
#define SECPKG_ATTR_DATAGRAM_SIZES            SECPKG_ATTR_STREAM_SIZES
#define SECPKG_ATTR_APPLICATION_PROTOCOL      35
#define SECPKG_ATTR_NEGOTIATED_TLS_EXTENSIONS 36
#define SECPKG_ATTR_IS_LOOPBACK               37

/* ulAttribute of QueryCredentialsAttributesA(). */
#define SECPKG_CRED_ATTR_NAMES                1

/* SecPkgInfoA.fCapabilities. */
#define SECPKG_FLAG_INTEGRITY                 0x00000001
#define SECPKG_FLAG_PRIVACY                   0x00000002
#define SECPKG_FLAG_TOKEN_ONLY                0x00000004
#define SECPKG_FLAG_DATAGRAM                  0x00000008
#define SECPKG_FLAG_CONNECTION                0x00000010
#define SECPKG_FLAG_MULTI_REQUIRED            0x00000020
#define SECPKG_FLAG_CLIENT_ONLY               0x00000040
#define SECPKG_FLAG_EXTENDED_ERROR            0x00000080
#define SECPKG_FLAG_IMPERSONATION             0x00000100
#define SECPKG_FLAG_ACCEPT_WIN32_NAME         0x00000200
#define SECPKG_FLAG_STREAM                    0x00000400
#define SECPKG_FLAG_NEGOTIABLE                0x00000800
#define SECPKG_FLAG_GSS_COMPATIBLE            0x00001000
#define SECPKG_FLAG_LOGON                     0x00002000
#define SECPKG_FLAG_ASCII_BUFFERS             0x00004000
#define SECPKG_FLAG_FRAGMENT                  0x00008000
#define SECPKG_FLAG_MUTUAL_AUTH               0x00010000
#define SECPKG_FLAG_DELEGATION                0x00020000
#define SECPKG_FLAG_READONLY_WITH_CHECKSUM    0x00040000
#define SECPKG_FLAG_RESTRICTED_TOKENS         0x00080000
#define SECPKG_FLAG_NEGO_EXTENDER             0x00100000
#define SECPKG_FLAG_NEGOTIABLE2               0x00200000
#define SECPKG_FLAG_APPCONTAINER_PASSTHROUGH  0x00400000
#define SECPKG_FLAG_APPCONTAINER_CHECKS       0x00800000
#define SECPKG_FLAG_CREDENTIAL_ISOLATION_ENABLED 0x01000000
#define SECPKG_FLAG_APPLY_LOOPBACK            0x02000000

#define SECPKG_ID_NONE                        0xFFFF

/* fQOP of EncryptMessage(): sign only, do not encrypt. */
#define SECQOP_WRAP_NO_ENCRYPT                0x80000001
#define SECQOP_WRAP_OOB_DATA                  0x40000000

/* SEC_WINNT_AUTH_IDENTITY_A.Flags. */
#define SEC_WINNT_AUTH_IDENTITY_ANSI          0x1
#define SEC_WINNT_AUTH_IDENTITY_UNICODE       0x2

/* SecurityFunctionTableA.dwVersion. */
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION   1
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2 2
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_3 3
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4 4
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_5 5

/* Names for looking up InitSecurityInterfaceA/W with dlsym(). */
#define SECURITY_ENTRYPOINT_ANSIA             "InitSecurityInterfaceA"
#define SECURITY_ENTRYPOINT_ANSIW             "InitSecurityInterfaceW"
#define SECURITY_ENTRYPOINTA                  SEC_TEXT("InitSecurityInterfaceA")
#define SECURITY_ENTRYPOINTW                  SEC_TEXT("InitSecurityInterfaceW")
#define SECURITY_ENTRYPOINT16                 "INITSECURITYINTERFACEA"
#ifdef UNICODE
#define SECURITY_ENTRYPOINT_ANSI              SECURITY_ENTRYPOINT_ANSIW
#define SECURITY_ENTRYPOINT                   SECURITY_ENTRYPOINTW
#else
#define SECURITY_ENTRYPOINT_ANSI              SECURITY_ENTRYPOINT_ANSIA
#define SECURITY_ENTRYPOINT                   SECURITY_ENTRYPOINTA
#endif

/* ------------------------------------------------------------------------ */
/* Package, attribute and identity structures.                               */
/* ------------------------------------------------------------------------ */

typedef struct _SecPkgInfoA {
	unsigned long fCapabilities; /* SECPKG_FLAG_* */
	unsigned short wVersion;
	unsigned short wRPCID;       /* SECPKG_ID_NONE unless the package has one */
	unsigned long cbMaxToken;    /* largest token a leg produces, in bytes */
	SEC_CHAR *Name;
	SEC_CHAR *Comment;
} SecPkgInfoA, *PSecPkgInfoA;

/* SECPKG_ATTR_SIZES */
typedef struct _SecPkgContext_Sizes {
	unsigned long cbMaxToken;
	unsigned long cbMaxSignature;
	unsigned long cbBlockSize;
	unsigned long cbSecurityTrailer;
} SecPkgContext_Sizes, *PSecPkgContext_Sizes;

/* SECPKG_ATTR_NAMES; sUserName is freed with FreeContextBuffer(). */
typedef struct _SecPkgContext_NamesA {
	SEC_CHAR *sUserName;
} SecPkgContext_NamesA, *PSecPkgContext_NamesA;

/* SECPKG_ATTR_LIFESPAN */
typedef struct _SecPkgContext_Lifespan {
	TimeStamp tsStart;
	TimeStamp tsExpiry;
} SecPkgContext_Lifespan, *PSecPkgContext_Lifespan;

/* SECPKG_ATTR_SESSION_KEY; SessionKey is freed with FreeContextBuffer(). */
typedef struct _SecPkgContext_SessionKey {
	unsigned long SessionKeyLength;
	unsigned char *SessionKey;
} SecPkgContext_SessionKey, *PSecPkgContext_SessionKey;

/* SECPKG_ATTR_NATIVE_NAMES; both strings are freed with FreeContextBuffer(). */
typedef struct _SecPkgContext_NativeNamesA {
	SEC_CHAR *sClientName;
	SEC_CHAR *sServerName;
} SecPkgContext_NativeNamesA, *PSecPkgContext_NativeNamesA;

/* SECPKG_ATTR_FLAGS: the ISC_RET_* / ASC_RET_* of the last leg. */
typedef struct _SecPkgContext_Flags {
	unsigned long Flags;
} SecPkgContext_Flags, *PSecPkgContext_Flags;

/* The contents of a SECBUFFER_CHANNEL_BINDINGS buffer: this header, then
 * the three blobs at their offsets from the start of the header. */
typedef struct _SEC_CHANNEL_BINDINGS {
	unsigned long dwInitiatorAddrType;
	unsigned long cbInitiatorLength;
	unsigned long dwInitiatorOffset;
	unsigned long dwAcceptorAddrType;
	unsigned long cbAcceptorLength;
	unsigned long dwAcceptorOffset;
	unsigned long cbApplicationDataLength;
	unsigned long dwApplicationDataOffset;
} SEC_CHANNEL_BINDINGS, *PSEC_CHANNEL_BINDINGS;

/* SECPKG_ATTR_PACKAGE_INFO; PackageInfo is freed with FreeContextBuffer(). */
typedef struct _SecPkgContext_PackageInfoA {
	PSecPkgInfoA PackageInfo;
} SecPkgContext_PackageInfoA, *PSecPkgContext_PackageInfoA;

/* SECPKG_ATTR_NEGOTIATION_INFO: the package a "Negotiate" context chose
 * (freed with FreeContextBuffer()) and how far the choice has got. */
typedef struct _SecPkgContext_NegotiationInfoA {
	PSecPkgInfoA PackageInfo;
	unsigned long NegotiationState; /* SECPKG_NEGOTIATION_* */
} SecPkgContext_NegotiationInfoA, *PSecPkgContext_NegotiationInfoA;

#define SECPKG_NEGOTIATION_COMPLETE           0
#define SECPKG_NEGOTIATION_OPTIMISTIC         1
#define SECPKG_NEGOTIATION_IN_PROGRESS        2
#define SECPKG_NEGOTIATION_DIRECT             3
#define SECPKG_NEGOTIATION_TRY_MULTICRED      4

/* SECPKG_CRED_ATTR_NAMES; sUserName is freed with FreeContextBuffer(). */
typedef struct _SecPkgCredentials_NamesA {
	SEC_CHAR *sUserName;
} SecPkgCredentials_NamesA, *PSecPkgCredentials_NamesA;

/*
 * Explicit credentials for AcquireCredentialsHandle()'s pAuthData.  Lengths
 * are in bytes, without the terminating NUL; Flags
 * SEC_WINNT_AUTH_IDENTITY_ANSI (the strings are UTF-8) or, as on Windows,
 * SEC_WINNT_AUTH_IDENTITY_UNICODE (they are UTF-16, lengths in units).
 */
typedef struct _SEC_WINNT_AUTH_IDENTITY_A {
	unsigned char *User;
	unsigned long UserLength;
	unsigned char *Domain;
	unsigned long DomainLength;
	unsigned char *Password;
	unsigned long PasswordLength;
	unsigned long Flags;
} SEC_WINNT_AUTH_IDENTITY_A, *PSEC_WINNT_AUTH_IDENTITY_A;

/* ------------------------------------------------------------------------ */
/* W (UTF-16) forms of the structures above, and the remaining attribute    */
/* result types.  Strings in W structures the library returns are freed    */
/* with FreeContextBuffer(), like their A twins.                             */
/* ------------------------------------------------------------------------ */

typedef struct _SecPkgInfoW {
	unsigned long fCapabilities;
	unsigned short wVersion;
	unsigned short wRPCID;
	unsigned long cbMaxToken;
	SEC_WCHAR *Name;
	SEC_WCHAR *Comment;
} SecPkgInfoW, *PSecPkgInfoW;

typedef struct _SecPkgContext_NamesW {
	SEC_WCHAR *sUserName;
} SecPkgContext_NamesW, *PSecPkgContext_NamesW;

typedef struct _SecPkgContext_NativeNamesW {
	SEC_WCHAR *sClientName;
	SEC_WCHAR *sServerName;
} SecPkgContext_NativeNamesW, *PSecPkgContext_NativeNamesW;

typedef struct _SecPkgContext_PackageInfoW {
	PSecPkgInfoW PackageInfo;
} SecPkgContext_PackageInfoW, *PSecPkgContext_PackageInfoW;

typedef struct _SecPkgContext_NegotiationInfoW {
	PSecPkgInfoW PackageInfo;
	unsigned long NegotiationState;
} SecPkgContext_NegotiationInfoW, *PSecPkgContext_NegotiationInfoW;

typedef struct _SecPkgCredentials_NamesW {
	SEC_WCHAR *sUserName;
} SecPkgCredentials_NamesW, *PSecPkgCredentials_NamesW;

/* SECPKG_ATTR_CREDENTIAL_NAME */
typedef struct _SecPkgContext_CredentialNameA {
	unsigned long CredentialType;
	SEC_CHAR *sCredentialName;
} SecPkgContext_CredentialNameA, *PSecPkgContext_CredentialNameA;
typedef struct _SecPkgContext_CredentialNameW {
	unsigned long CredentialType;
	SEC_WCHAR *sCredentialName;
} SecPkgContext_CredentialNameW, *PSecPkgContext_CredentialNameW;

/* SECPKG_ATTR_KEY_INFO */
typedef struct _SecPkgContext_KeyInfoA {
	SEC_CHAR *sSignatureAlgorithmName;
	SEC_CHAR *sEncryptAlgorithmName;
	unsigned long KeySize;
	unsigned long SignatureAlgorithm;
	unsigned long EncryptAlgorithm;
} SecPkgContext_KeyInfoA, *PSecPkgContext_KeyInfoA;
typedef struct _SecPkgContext_KeyInfoW {
	SEC_WCHAR *sSignatureAlgorithmName;
	SEC_WCHAR *sEncryptAlgorithmName;
	unsigned long KeySize;
	unsigned long SignatureAlgorithm;
	unsigned long EncryptAlgorithm;
} SecPkgContext_KeyInfoW, *PSecPkgContext_KeyInfoW;

/* SECPKG_ATTR_AUTHORITY */
typedef struct _SecPkgContext_AuthorityA {
	SEC_CHAR *sAuthorityName;
} SecPkgContext_AuthorityA, *PSecPkgContext_AuthorityA;
typedef struct _SecPkgContext_AuthorityW {
	SEC_WCHAR *sAuthorityName;
} SecPkgContext_AuthorityW, *PSecPkgContext_AuthorityW;

/* SECPKG_ATTR_PROTO_INFO */
typedef struct _SecPkgContext_ProtoInfoA {
	SEC_CHAR *sProtocolName;
	unsigned long majorVersion;
	unsigned long minorVersion;
} SecPkgContext_ProtoInfoA, *PSecPkgContext_ProtoInfoA;
typedef struct _SecPkgContext_ProtoInfoW {
	SEC_WCHAR *sProtocolName;
	unsigned long majorVersion;
	unsigned long minorVersion;
} SecPkgContext_ProtoInfoW, *PSecPkgContext_ProtoInfoW;

/* SECPKG_ATTR_STREAM_SIZES (and _DATAGRAM_SIZES) */
typedef struct _SecPkgContext_StreamSizes {
	unsigned long cbHeader;
	unsigned long cbTrailer;
	unsigned long cbMaximumMessage;
	unsigned long cBuffers;
	unsigned long cbBlockSize;
} SecPkgContext_StreamSizes, *PSecPkgContext_StreamSizes;
typedef SecPkgContext_StreamSizes SecPkgContext_DatagramSizes;
typedef PSecPkgContext_StreamSizes PSecPkgContext_DatagramSizes;

/* SECPKG_ATTR_DCE_INFO */
typedef struct _SecPkgContext_DceInfo {
	unsigned long AuthzSvc;
	void *pPac;
} SecPkgContext_DceInfo, *PSecPkgContext_DceInfo;

/* SECPKG_ATTR_PASSWORD_EXPIRY, SECPKG_ATTR_LOGOFF_TIME */
typedef struct _SecPkgContext_PasswordExpiry {
	TimeStamp tsPasswordExpires;
} SecPkgContext_PasswordExpiry, *PSecPkgContext_PasswordExpiry;
typedef struct _SecPkgContext_LogoffTime {
	TimeStamp tsLogoffTime;
} SecPkgContext_LogoffTime, *PSecPkgContext_LogoffTime;

/* SECPKG_ATTR_NEGO_KEYS */
typedef struct _SecPkgContext_NegoKeys {
	unsigned long KeyType;
	unsigned short KeyLength;
	unsigned char *KeyValue;
	unsigned long VerifyKeyType;
	unsigned short VerifyKeyLength;
	unsigned char *VerifyKeyValue;
} SecPkgContext_NegoKeys, *PSecPkgContext_NegoKeys;

/* SECPKG_ATTR_USER_FLAGS */
typedef struct _SecPkgContext_UserFlags {
	unsigned long UserFlags;
} SecPkgContext_UserFlags, *PSecPkgContext_UserFlags;

/* SECPKG_ATTR_ACCESS_TOKEN */
typedef struct _SecPkgContext_AccessToken {
	void *AccessToken;
} SecPkgContext_AccessToken, *PSecPkgContext_AccessToken;

/* SECPKG_ATTR_TARGET_INFORMATION */
typedef struct _SecPkgContext_TargetInformation {
	unsigned long MarshalledTargetInfoLength;
	unsigned char *MarshalledTargetInfo;
} SecPkgContext_TargetInformation, *PSecPkgContext_TargetInformation;

typedef struct _SecPkgContext_AuthzID {
	unsigned long AuthzIDLength;
	char *AuthzID;
} SecPkgContext_AuthzID, *PSecPkgContext_AuthzID;

/* SECPKG_ATTR_TARGET */
typedef struct _SecPkgContext_Target {
	unsigned long TargetLength;
	char *Target;
} SecPkgContext_Target, *PSecPkgContext_Target;

/* SECPKG_ATTR_CLIENT_SPECIFIED_TARGET (always UTF-16, as on Windows) */
typedef struct _SecPkgContext_ClientSpecifiedTarget {
	SEC_WCHAR *sTargetName;
} SecPkgContext_ClientSpecifiedTarget, *PSecPkgContext_ClientSpecifiedTarget;

/* SECPKG_ATTR_UNIQUE_BINDINGS, SECPKG_ATTR_ENDPOINT_BINDINGS */
typedef struct _SecPkgContext_Bindings {
	unsigned long BindingsLength;
	SEC_CHANNEL_BINDINGS *Bindings;
} SecPkgContext_Bindings, *PSecPkgContext_Bindings;

/* SECPKG_ATTR_SUBJECT_SECURITY_ATTRIBUTES */
typedef struct _SecPkgContext_SubjectAttributes {
	void *AttributeInfo;
} SecPkgContext_SubjectAttributes, *PSecPkgContext_SubjectAttributes;

/* SECPKG_ATTR_PROMPTING_NEEDED */
typedef enum _SECPKG_CRED_CLASS {
	SecPkgCredClass_None = 0,
	SecPkgCredClass_Ephemeral = 10,
	SecPkgCredClass_PersistedGeneric = 20,
	SecPkgCredClass_PersistedSpecific = 30,
	SecPkgCredClass_Explicit = 40
} SECPKG_CRED_CLASS, *PSECPKG_CRED_CLASS;
typedef struct _SecPkgContext_CredInfo {
	SECPKG_CRED_CLASS CredClass;
	unsigned long IsPromptingNeeded;
} SecPkgContext_CredInfo, *PSecPkgContext_CredInfo;

/* SECPKG_ATTR_NEGO_PKG_INFO, SECPKG_ATTR_NEGO_STATUS */
typedef struct _SecPkgContext_NegoPackageInfo {
	unsigned long PackageMask; /* SECPKG_ATTR_NEGO_INFO_FLAG_* */
} SecPkgContext_NegoPackageInfo, *PSecPkgContext_NegoPackageInfo;
typedef struct _SecPkgContext_NegoStatus {
	unsigned long LastStatus;
} SecPkgContext_NegoStatus, *PSecPkgContext_NegoStatus;

/* SECPKG_ATTR_LAST_CLIENT_TOKEN_STATUS */
typedef enum _SECPKG_ATTR_LCT_STATUS {
	SecPkgAttrLastClientTokenYes,
	SecPkgAttrLastClientTokenNo,
	SecPkgAttrLastClientTokenMaybe
} SECPKG_ATTR_LCT_STATUS, *PSECPKG_ATTR_LCT_STATUS;
typedef struct _SecPkgContext_LastClientTokenStatus {
	SECPKG_ATTR_LCT_STATUS LastClientTokenStatus;
} SecPkgContext_LastClientTokenStatus, *PSecPkgContext_LastClientTokenStatus;

/* The contents of a SECBUFFER_NEGOTIATION_INFO buffer. */
typedef struct _SEC_NEGOTIATION_INFO {
	unsigned long Size;
	unsigned long NameLength;
	SEC_WCHAR *Name;
	void *Reserved;
} SEC_NEGOTIATION_INFO, *PSEC_NEGOTIATION_INFO;

/* Credential attributes other than SECPKG_CRED_ATTR_NAMES. */
typedef struct _SecPkgCredentials_SSIProviderA {
	SEC_CHAR *sProviderName;
	unsigned long ProviderInfoLength;
	char *ProviderInfo;
} SecPkgCredentials_SSIProviderA, *PSecPkgCredentials_SSIProviderA;
typedef struct _SecPkgCredentials_SSIProviderW {
	SEC_WCHAR *sProviderName;
	unsigned long ProviderInfoLength;
	char *ProviderInfo;
} SecPkgCredentials_SSIProviderW, *PSecPkgCredentials_SSIProviderW;
typedef struct _SecPkgCredentials_KdcProxySettingsW {
	ULONG Version; /* KDC_PROXY_SETTINGS_V1 */
	ULONG Flags;   /* KDC_PROXY_SETTINGS_FLAGS_* */
	USHORT ProxyServerOffset;
	USHORT ProxyServerLength;
	USHORT ClientTlsCredOffset;
	USHORT ClientTlsCredLength;
} SecPkgCredentials_KdcProxySettingsW, *PSecPkgCredentials_KdcProxySettingsW;
typedef struct _SecPkgCredentials_Cert {
	unsigned long EncodedCertSize;
	unsigned char *EncodedCert;
} SecPkgCredentials_Cert, *PSecPkgCredentials_Cert;

#define SECPKG_CRED_ATTR_SSI_PROVIDER         2
#define SECPKG_CRED_ATTR_KDC_PROXY_SETTINGS   3
#define SECPKG_CRED_ATTR_CERT                 4
#define SECPKG_CRED_ATTR_PAC_BYPASS           5
#define KDC_PROXY_SETTINGS_V1                 1
#define KDC_PROXY_SETTINGS_FLAGS_FORCEPROXY   0x1
#define SECPKG_ATTR_SUBJECT_SECURITY_ATTRIBUTES 128
#define SECPKG_ATTR_NEGO_INFO_FLAG_NO_KERBEROS 0x1
#define SECPKG_ATTR_NEGO_INFO_FLAG_NO_NTLM    0x2
#define SECPKG_CRED_AUTOLOGON_RESTRICTED      0x00000010
#define SECPKG_CRED_PROCESS_POLICY_ONLY       0x00000020
#define SECPKG_CALLFLAGS_APPCONTAINER         0x00000001
#define SECPKG_CALLFLAGS_APPCONTAINER_AUTHCAPABLE 0x00000002
#define SECPKG_CALLFLAGS_FORCE_SUPPLIED       0x00000004
#define SECPKG_CALLFLAGS_APPCONTAINER_UPNCAPABLE 0x00000008
/* ExportSecurityContext()'s fFlags. */
#define SECPKG_CONTEXT_EXPORT_RESET_NEW       0x00000001
#define SECPKG_CONTEXT_EXPORT_DELETE_OLD      0x00000002
#define SECPKG_CONTEXT_EXPORT_TO_KERNEL       0x00000004

/*
 * Explicit credentials, W form: lengths in UTF-16 units without the
 * terminating NUL; Flags SEC_WINNT_AUTH_IDENTITY_UNICODE.  The field types
 * are Microsoft's (unsigned short *), so a u"..." literal needs no cast in C.
 * The A structure's Flags say which form its strings really are: an _A
 * structure with SEC_WINNT_AUTH_IDENTITY_UNICODE holds UTF-16 strings, as on
 * Windows.  The library converts every form to one UTF-8 identity.
 */
typedef struct _SEC_WINNT_AUTH_IDENTITY_W {
	unsigned short *User;
	unsigned long UserLength;
	unsigned short *Domain;
	unsigned long DomainLength;
	unsigned short *Password;
	unsigned long PasswordLength;
	unsigned long Flags;
} SEC_WINNT_AUTH_IDENTITY_W, *PSEC_WINNT_AUTH_IDENTITY_W;

/*
 * The extended identity: Version SEC_WINNT_AUTH_IDENTITY_VERSION, Length at
 * least sizeof the structure, and PackageList, a comma-separated list of
 * package names ("Kerberos,NTLM"; "!NTLM" excludes one) that Negotiate
 * chooses from.  AcquireCredentialsHandle tells it from the legacy layout by
 * its first word (never a valid pointer).  See README "Identities".
 */
#define SEC_WINNT_AUTH_IDENTITY_VERSION       0x200
#define SEC_WINNT_AUTH_IDENTITY_VERSION_2     0x201
typedef struct _SEC_WINNT_AUTH_IDENTITY_EXA {
	unsigned long Version;
	unsigned long Length;
	unsigned char *User;
	unsigned long UserLength;
	unsigned char *Domain;
	unsigned long DomainLength;
	unsigned char *Password;
	unsigned long PasswordLength;
	unsigned long Flags;
	unsigned char *PackageList;
	unsigned long PackageListLength;
} SEC_WINNT_AUTH_IDENTITY_EXA, *PSEC_WINNT_AUTH_IDENTITY_EXA;
typedef struct _SEC_WINNT_AUTH_IDENTITY_EXW {
	unsigned long Version;
	unsigned long Length;
	unsigned short *User;
	unsigned long UserLength;
	unsigned short *Domain;
	unsigned long DomainLength;
	unsigned short *Password;
	unsigned long PasswordLength;
	unsigned long Flags;
	unsigned short *PackageList;
	unsigned long PackageListLength;
} SEC_WINNT_AUTH_IDENTITY_EXW, *PSEC_WINNT_AUTH_IDENTITY_EXW;

/* The packed (offset-based) identity of Version _VERSION_2: declared for
 * source compatibility; AcquireCredentialsHandle answers
 * SEC_E_UNSUPPORTED_FUNCTION for it. */
typedef struct _SEC_WINNT_AUTH_IDENTITY_EX2 {
	unsigned long Version;
	unsigned short cbHeaderLength;
	unsigned long cbStructureLength;
	unsigned long UserOffset;
	unsigned short UserLength;
	unsigned long DomainOffset;
	unsigned short DomainLength;
	unsigned long PackedCredentialsOffset;
	unsigned short PackedCredentialsLength;
	unsigned long Flags;
	unsigned long PackageListOffset;
	unsigned short PackageListLength;
} SEC_WINNT_AUTH_IDENTITY_EX2, *PSEC_WINNT_AUTH_IDENTITY_EX2;

typedef union _SEC_WINNT_AUTH_IDENTITY_INFO {
	SEC_WINNT_AUTH_IDENTITY_EXW AuthIdExw;
	SEC_WINNT_AUTH_IDENTITY_EXA AuthIdExa;
	SEC_WINNT_AUTH_IDENTITY_A AuthId_a;
	SEC_WINNT_AUTH_IDENTITY_W AuthId_w;
	SEC_WINNT_AUTH_IDENTITY_EX2 AuthIdEx2;
} SEC_WINNT_AUTH_IDENTITY_INFO, *PSEC_WINNT_AUTH_IDENTITY_INFO;

/*
 * Flags of every identity form.  Exactly one of _ANSI and _UNICODE.
 * Accepted: _ONLY (no logon is made here anyway), _FLAGS_NULL_USER and
 * _FLAGS_NULL_DOMAIN (that string is empty), the SSPIPFC_* bits of the top
 * byte (prompt-UI hints, without meaning here).  Refused with
 * SEC_E_UNSUPPORTED_FUNCTION: _MARSHALLED, _FLAGS_PROCESS_ENCRYPTED,
 * _SYSTEM_PROTECTED, _USER_PROTECTED, _SYSTEM_ENCRYPTED, _ID_PROVIDER
 * (Windows-only protection and providers).  Any other bit, and _RESERVED:
 * SEC_E_INVALID_PARAMETER.
 */
#define SEC_WINNT_AUTH_IDENTITY_MARSHALLED    0x4
#define SEC_WINNT_AUTH_IDENTITY_ONLY          0x8
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_PROCESS_ENCRYPTED 0x10
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_PROTECTED  0x20
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_USER_PROTECTED    0x40
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_ENCRYPTED  0x80
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_RESERVED          0x10000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_USER         0x20000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_DOMAIN       0x40000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_ID_PROVIDER       0x80000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_USE_MASK  0xff000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_SAVE 0x80000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_SAVE_CRED_BY_CALLER \
	SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_SAVE
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_SAVE_CRED_CHECKED 0x40000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_NO_CHECKBOX 0x20000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_LOAD 0x10000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_VALID_SSPIPFC_FLAGS \
	(SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_SAVE | \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_SAVE_CRED_CHECKED | \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_NO_CHECKBOX | \
	 SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_LOAD)

/* SecDelegationType: DelegateSecurityContext() is kernel-mode only and not
 * provided; the enumeration is, for code that names it. */
typedef enum _SecDelegationType {
	SecFull,
	SecService,
	SecTree,
	SecDirectory,
	SecObject
} SecDelegationType, *PSecDelegationType;

/* ------------------------------------------------------------------------ */
/* Function-pointer types (the slots of SecurityFunctionTableA).             */
/* ------------------------------------------------------------------------ */

/* AcquireCredentialsHandleA()'s key callback; never called by this library. */
typedef void (SEC_ENTRY *SEC_GET_KEY_FN)(void *Arg, void *Principal,
	unsigned long KeyVer, void **Key, SECURITY_STATUS *Status);

typedef SECURITY_STATUS (SEC_ENTRY *ENUMERATE_SECURITY_PACKAGES_FN_A)(
	unsigned long *pcPackages, PSecPkgInfoA *ppPackageInfo);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_FN_A)(
	PCredHandle phCredential, unsigned long ulAttribute, void *pBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *ACQUIRE_CREDENTIALS_HANDLE_FN_A)(
	SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage, unsigned long fCredentialUse,
	void *pvLogonId, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
	void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);
typedef SECURITY_STATUS (SEC_ENTRY *FREE_CREDENTIALS_HANDLE_FN)(
	PCredHandle phCredential);
typedef SECURITY_STATUS (SEC_ENTRY *INITIALIZE_SECURITY_CONTEXT_FN_A)(
	PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName,
	unsigned long fContextReq, unsigned long Reserved1,
	unsigned long TargetDataRep, PSecBufferDesc pInput,
	unsigned long Reserved2, PCtxtHandle phNewContext,
	PSecBufferDesc pOutput, unsigned long *pfContextAttr,
	PTimeStamp ptsExpiry);
typedef SECURITY_STATUS (SEC_ENTRY *ACCEPT_SECURITY_CONTEXT_FN)(
	PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
	unsigned long fContextReq, unsigned long TargetDataRep,
	PCtxtHandle phNewContext, PSecBufferDesc pOutput,
	unsigned long *pfContextAttr, PTimeStamp ptsExpiry);
typedef SECURITY_STATUS (SEC_ENTRY *COMPLETE_AUTH_TOKEN_FN)(
	PCtxtHandle phContext, PSecBufferDesc pToken);
typedef SECURITY_STATUS (SEC_ENTRY *DELETE_SECURITY_CONTEXT_FN)(
	PCtxtHandle phContext);
typedef SECURITY_STATUS (SEC_ENTRY *APPLY_CONTROL_TOKEN_FN)(
	PCtxtHandle phContext, PSecBufferDesc pInput);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_FN_A)(
	PCtxtHandle phContext, unsigned long ulAttribute, void *pBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *IMPERSONATE_SECURITY_CONTEXT_FN)(
	PCtxtHandle phContext);
typedef SECURITY_STATUS (SEC_ENTRY *REVERT_SECURITY_CONTEXT_FN)(
	PCtxtHandle phContext);
typedef SECURITY_STATUS (SEC_ENTRY *MAKE_SIGNATURE_FN)(
	PCtxtHandle phContext, unsigned long fQOP, PSecBufferDesc pMessage,
	unsigned long MessageSeqNo);
typedef SECURITY_STATUS (SEC_ENTRY *VERIFY_SIGNATURE_FN)(
	PCtxtHandle phContext, PSecBufferDesc pMessage,
	unsigned long MessageSeqNo, unsigned long *pfQOP);
typedef SECURITY_STATUS (SEC_ENTRY *FREE_CONTEXT_BUFFER_FN)(
	void *pvContextBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_SECURITY_PACKAGE_INFO_FN_A)(
	SEC_CHAR *pszPackageName, PSecPkgInfoA *ppPackageInfo);
typedef SECURITY_STATUS (SEC_ENTRY *EXPORT_SECURITY_CONTEXT_FN)(
	PCtxtHandle phContext, ULONG fFlags, PSecBuffer pPackedContext,
	void **pToken);
typedef SECURITY_STATUS (SEC_ENTRY *IMPORT_SECURITY_CONTEXT_FN_A)(
	SEC_CHAR *pszPackage, PSecBuffer pPackedContext, void *Token,
	PCtxtHandle phContext);
typedef SECURITY_STATUS (SEC_ENTRY *ADD_CREDENTIALS_FN_A)(
	PCredHandle hCredentials, SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage,
	unsigned long fCredentialUse, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
	void *pvGetKeyArgument, PTimeStamp ptsExpiry);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_SECURITY_CONTEXT_TOKEN_FN)(
	PCtxtHandle phContext, HANDLE *Token);
typedef SECURITY_STATUS (SEC_ENTRY *ENCRYPT_MESSAGE_FN)(
	PCtxtHandle phContext, unsigned long fQOP, PSecBufferDesc pMessage,
	unsigned long MessageSeqNo);
typedef SECURITY_STATUS (SEC_ENTRY *DECRYPT_MESSAGE_FN)(
	PCtxtHandle phContext, PSecBufferDesc pMessage,
	unsigned long MessageSeqNo, unsigned long *pfQOP);
typedef SECURITY_STATUS (SEC_ENTRY *SET_CONTEXT_ATTRIBUTES_FN_A)(
	PCtxtHandle phContext, unsigned long ulAttribute, void *pBuffer,
	unsigned long cbBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *SET_CREDENTIALS_ATTRIBUTES_FN_A)(
	PCredHandle phCredential, unsigned long ulAttribute, void *pBuffer,
	unsigned long cbBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *CHANGE_PASSWORD_FN_A)(
	SEC_CHAR *pszPackageName, SEC_CHAR *pszDomainName,
	SEC_CHAR *pszAccountName, SEC_CHAR *pszOldPassword,
	SEC_CHAR *pszNewPassword, BOOLEAN bImpersonating,
	unsigned long dwReserved, PSecBufferDesc pOutput);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_EX_FN_A)(
	PCtxtHandle phContext, unsigned long ulAttribute, void *pBuffer,
	unsigned long cbBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A)(
	PCredHandle phCredential, unsigned long ulAttribute, void *pBuffer,
	unsigned long cbBuffer);

/*
 * The dispatch table InitSecurityInterfaceA() returns, in Microsoft's field
 * order (user-mode layout; index = position of the slot after dwVersion).
 * Microsoft's header spells slot 3 FreeCredentialHandle in the A table and
 * #defines FreeCredentialHandle to FreeCredentialsHandle before it, so the
 * field is really called FreeCredentialsHandle and callers write
 * table->FreeCredentialsHandle(...); both spellings work here too.  Every
 * slot holds a function with a prototype below; Reserved3 and Reserved4 (the
 * old SealMessage/UnsealMessage slots) hold EncryptMessage and
 * DecryptMessage as on Windows, Reserved2 and Reserved8 are NULL.
 */
#define FreeCredentialHandle FreeCredentialsHandle
typedef struct _SECURITY_FUNCTION_TABLE_A {
	unsigned long dwVersion;
	ENUMERATE_SECURITY_PACKAGES_FN_A EnumerateSecurityPackagesA;      /*  0 */
	QUERY_CREDENTIALS_ATTRIBUTES_FN_A QueryCredentialsAttributesA;    /*  1 */
	ACQUIRE_CREDENTIALS_HANDLE_FN_A AcquireCredentialsHandleA;        /*  2 */
	FREE_CREDENTIALS_HANDLE_FN FreeCredentialHandle;                  /*  3 (sic) */
	void *Reserved2;                                                  /*  4 */
	INITIALIZE_SECURITY_CONTEXT_FN_A InitializeSecurityContextA;      /*  5 */
	ACCEPT_SECURITY_CONTEXT_FN AcceptSecurityContext;                 /*  6 */
	COMPLETE_AUTH_TOKEN_FN CompleteAuthToken;                         /*  7 */
	DELETE_SECURITY_CONTEXT_FN DeleteSecurityContext;                 /*  8 */
	APPLY_CONTROL_TOKEN_FN ApplyControlToken;                         /*  9 */
	QUERY_CONTEXT_ATTRIBUTES_FN_A QueryContextAttributesA;            /* 10 */
	IMPERSONATE_SECURITY_CONTEXT_FN ImpersonateSecurityContext;       /* 11 */
	REVERT_SECURITY_CONTEXT_FN RevertSecurityContext;                 /* 12 */
	MAKE_SIGNATURE_FN MakeSignature;                                  /* 13 */
	VERIFY_SIGNATURE_FN VerifySignature;                              /* 14 */
	FREE_CONTEXT_BUFFER_FN FreeContextBuffer;                         /* 15 */
	QUERY_SECURITY_PACKAGE_INFO_FN_A QuerySecurityPackageInfoA;       /* 16 */
	void *Reserved3;                                                  /* 17 */
	void *Reserved4;                                                  /* 18 */
	EXPORT_SECURITY_CONTEXT_FN ExportSecurityContext;                 /* 19 */
	IMPORT_SECURITY_CONTEXT_FN_A ImportSecurityContextA;              /* 20 */
	ADD_CREDENTIALS_FN_A AddCredentialsA;                             /* 21 */
	void *Reserved8;                                                  /* 22 */
	QUERY_SECURITY_CONTEXT_TOKEN_FN QuerySecurityContextToken;        /* 23 */
	ENCRYPT_MESSAGE_FN EncryptMessage;                                /* 24 */
	DECRYPT_MESSAGE_FN DecryptMessage;                                /* 25 */
	SET_CONTEXT_ATTRIBUTES_FN_A SetContextAttributesA;                /* 26 */
	SET_CREDENTIALS_ATTRIBUTES_FN_A SetCredentialsAttributesA;        /* 27 */
	CHANGE_PASSWORD_FN_A ChangeAccountPasswordA;                      /* 28 */
	QUERY_CONTEXT_ATTRIBUTES_EX_FN_A QueryContextAttributesExA;       /* 29 */
	QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A QueryCredentialsAttributesExA; /* 30 */
} SecurityFunctionTableA, *PSecurityFunctionTableA;

typedef PSecurityFunctionTableA (SEC_ENTRY *INIT_SECURITY_INTERFACE_A)(void);

/* The W slot types: as their A twins, with SEC_WCHAR strings. */
typedef SECURITY_STATUS (SEC_ENTRY *ENUMERATE_SECURITY_PACKAGES_FN_W)(
	unsigned long *pcPackages, PSecPkgInfoW *ppPackageInfo);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_FN_W)(
	PCredHandle phCredential, unsigned long ulAttribute, void *pBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *ACQUIRE_CREDENTIALS_HANDLE_FN_W)(
	SEC_WCHAR *pszPrincipal, SEC_WCHAR *pszPackage, unsigned long fCredentialUse,
	void *pvLogonId, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
	void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);
typedef SECURITY_STATUS (SEC_ENTRY *INITIALIZE_SECURITY_CONTEXT_FN_W)(
	PCredHandle phCredential, PCtxtHandle phContext, SEC_WCHAR *pszTargetName,
	unsigned long fContextReq, unsigned long Reserved1,
	unsigned long TargetDataRep, PSecBufferDesc pInput,
	unsigned long Reserved2, PCtxtHandle phNewContext,
	PSecBufferDesc pOutput, unsigned long *pfContextAttr,
	PTimeStamp ptsExpiry);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_FN_W)(
	PCtxtHandle phContext, unsigned long ulAttribute, void *pBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_SECURITY_PACKAGE_INFO_FN_W)(
	SEC_WCHAR *pszPackageName, PSecPkgInfoW *ppPackageInfo);
typedef SECURITY_STATUS (SEC_ENTRY *IMPORT_SECURITY_CONTEXT_FN_W)(
	SEC_WCHAR *pszPackage, PSecBuffer pPackedContext, void *Token,
	PCtxtHandle phContext);
typedef SECURITY_STATUS (SEC_ENTRY *ADD_CREDENTIALS_FN_W)(
	PCredHandle hCredentials, SEC_WCHAR *pszPrincipal, SEC_WCHAR *pszPackage,
	unsigned long fCredentialUse, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
	void *pvGetKeyArgument, PTimeStamp ptsExpiry);
typedef SECURITY_STATUS (SEC_ENTRY *SET_CONTEXT_ATTRIBUTES_FN_W)(
	PCtxtHandle phContext, unsigned long ulAttribute, void *pBuffer,
	unsigned long cbBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *SET_CREDENTIALS_ATTRIBUTES_FN_W)(
	PCredHandle phCredential, unsigned long ulAttribute, void *pBuffer,
	unsigned long cbBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *CHANGE_PASSWORD_FN_W)(
	SEC_WCHAR *pszPackageName, SEC_WCHAR *pszDomainName,
	SEC_WCHAR *pszAccountName, SEC_WCHAR *pszOldPassword,
	SEC_WCHAR *pszNewPassword, BOOLEAN bImpersonating,
	unsigned long dwReserved, PSecBufferDesc pOutput);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_EX_FN_W)(
	PCtxtHandle phContext, unsigned long ulAttribute, void *pBuffer,
	unsigned long cbBuffer);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_W)(
	PCredHandle phCredential, unsigned long ulAttribute, void *pBuffer,
	unsigned long cbBuffer);

/* InitSecurityInterfaceW()'s table: the A table's layout, W slots. */
typedef struct _SECURITY_FUNCTION_TABLE_W {
	unsigned long dwVersion;
	ENUMERATE_SECURITY_PACKAGES_FN_W EnumerateSecurityPackagesW;      /*  0 */
	QUERY_CREDENTIALS_ATTRIBUTES_FN_W QueryCredentialsAttributesW;    /*  1 */
	ACQUIRE_CREDENTIALS_HANDLE_FN_W AcquireCredentialsHandleW;        /*  2 */
	FREE_CREDENTIALS_HANDLE_FN FreeCredentialsHandle;                 /*  3 */
	void *Reserved2;                                                  /*  4 */
	INITIALIZE_SECURITY_CONTEXT_FN_W InitializeSecurityContextW;      /*  5 */
	ACCEPT_SECURITY_CONTEXT_FN AcceptSecurityContext;                 /*  6 */
	COMPLETE_AUTH_TOKEN_FN CompleteAuthToken;                         /*  7 */
	DELETE_SECURITY_CONTEXT_FN DeleteSecurityContext;                 /*  8 */
	APPLY_CONTROL_TOKEN_FN ApplyControlToken;                         /*  9 */
	QUERY_CONTEXT_ATTRIBUTES_FN_W QueryContextAttributesW;            /* 10 */
	IMPERSONATE_SECURITY_CONTEXT_FN ImpersonateSecurityContext;       /* 11 */
	REVERT_SECURITY_CONTEXT_FN RevertSecurityContext;                 /* 12 */
	MAKE_SIGNATURE_FN MakeSignature;                                  /* 13 */
	VERIFY_SIGNATURE_FN VerifySignature;                              /* 14 */
	FREE_CONTEXT_BUFFER_FN FreeContextBuffer;                         /* 15 */
	QUERY_SECURITY_PACKAGE_INFO_FN_W QuerySecurityPackageInfoW;       /* 16 */
	void *Reserved3;                                                  /* 17 */
	void *Reserved4;                                                  /* 18 */
	EXPORT_SECURITY_CONTEXT_FN ExportSecurityContext;                 /* 19 */
	IMPORT_SECURITY_CONTEXT_FN_W ImportSecurityContextW;              /* 20 */
	ADD_CREDENTIALS_FN_W AddCredentialsW;                             /* 21 */
	void *Reserved8;                                                  /* 22 */
	QUERY_SECURITY_CONTEXT_TOKEN_FN QuerySecurityContextToken;        /* 23 */
	ENCRYPT_MESSAGE_FN EncryptMessage;                                /* 24 */
	DECRYPT_MESSAGE_FN DecryptMessage;                                /* 25 */
	SET_CONTEXT_ATTRIBUTES_FN_W SetContextAttributesW;                /* 26 */
	SET_CREDENTIALS_ATTRIBUTES_FN_W SetCredentialsAttributesW;        /* 27 */
	CHANGE_PASSWORD_FN_W ChangeAccountPasswordW;                      /* 28 */
	QUERY_CONTEXT_ATTRIBUTES_EX_FN_W QueryContextAttributesExW;       /* 29 */
	QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_W QueryCredentialsAttributesExW; /* 30 */
} SecurityFunctionTableW, *PSecurityFunctionTableW;

typedef PSecurityFunctionTableW (SEC_ENTRY *INIT_SECURITY_INTERFACE_W)(void);

/* ------------------------------------------------------------------------ */
/* Synchronous SSPI.                                                         */
/* ------------------------------------------------------------------------ */

/*
 * Conventions for every function below and for the Sspi*Async family:
 * - Arguments are checked before anything happens: a structural error (a
 *   NULL required pointer other than a handle, a SecBufferDesc of another
 *   version or with a NULL buffer array, a non-zero reserved argument) gives
 *   SEC_E_INVALID_PARAMETER (an ISC/ASC output token buffer is not
 *   structural: see InitializeSecurityContextA()).
 * - Handles are checked next: a NULL handle pointer, a stale (deleted, freed), copied-after-delete,
 *   forged, zeroed, SecInvalidateHandle()d or wrong-kind handle (a CredHandle
 *   passed as a CtxtHandle) gives SEC_E_INVALID_HANDLE, and nothing else
 *   happens.  Nothing reachable from an unvalidated handle is dereferenced.
 * - On any failure the out-parameters are untouched and nothing changed.
 * - Strings are UTF-8.  Package names compare case-insensitively, as on Windows.
 * - Every call may run before sspiasync_init(): the first one initialises the
 *   library with defaults.  While sspiasync_shutdown() runs, calls return
 *   SEC_E_SHUTDOWN_IN_PROGRESS, except the async-context functions
 *   (SspiFreeAsyncContext, SspiReinitAsyncContext, SspiSetAsyncNotifyCallback,
 *   SspiAsyncContextRequiresNotify, SspiGetAsyncCallStatus) and
 *   sspiasync_cq_fd/_bind/_destroy: from every thread they reach the runtime
 *   being shut down until its last call and callback have run, so a free
 *   there still abandons a running call, and a callback that shutdown runs,
 *   on a worker or on the shutting-down thread, reads its own call's status
 *   and may reinit and free its context.
 *   [test_shutdown_free_from_other_thread_abandons_running_leg,
 *    test_shutdown_worker_callbacks_read_their_status,
 *    test_async_shutdown_cancels_queued_legs_then_reinit,
 *    test_async_shutdown_runs_queued_deletes, fuzz/api_fuzz.c]
 * - No user callback ever runs inside one of these calls.
 *   [test_async_sync_call_runs_queued_calls_first_callback_deferred,
 *    fuzz/api_fuzz.c]
 * - Context: any thread; calls on different handles run in parallel, calls
 *   on one security context are serialised in call order.
 *   [test_pool_engine_second_job_of_a_queue_waits_while_a_worker_is_free,
 *    test_pool_engine_runs_each_queue_in_order_with_two_workers,
 *    test_async_completions_on_one_context_in_submission_order]
 * Deviations from Windows are listed in README ("Porting notes").
 */

/*
 * AcquireCredentialsHandleA() - Acquire a credential of package @pszPackage
 * (a name EnumerateSecurityPackagesA() lists) for @fCredentialUse
 * (SECPKG_CRED_INBOUND, _OUTBOUND or _BOTH) into *@phCredential.
 * @pszPrincipal NULL means the caller's own identity; @pAuthData may be
 * NULL or any SEC_WINNT_AUTH_IDENTITY form (A, W, EXA, EXW; README
 * "W forms and identities" lists how each is read and refused).
 * Not implemented: @pvLogonId (pass NULL), @pGetKeyFn and @pvGetKeyArgument
 * (unused, as on Windows; pass NULL).
 * Returns SEC_E_OK; SEC_E_SECPKG_NOT_FOUND (unknown package, or an EX
 * identity's PackageList that leaves it nothing); SEC_E_INVALID_PARAMETER
 * and SEC_E_UNSUPPORTED_FUNCTION (an identity it cannot read);
 * SEC_E_INSUFFICIENT_MEMORY (no memory, or the credential table is full);
 * SEC_E_NO_CREDENTIALS, SEC_E_UNKNOWN_CREDENTIALS (the package refused).
 * Free the result with FreeCredentialsHandle().
 */
SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleA(
	_In_opt_ LPSTR pszPrincipal,
	_In_ LPSTR pszPackage,
	_In_ unsigned long fCredentialUse,
	_In_opt_ void *pvLogonId,
	_In_opt_ void *pAuthData,
	_In_opt_ SEC_GET_KEY_FN pGetKeyFn,
	_In_opt_ void *pvGetKeyArgument,
	_Out_ PCredHandle phCredential,
	_Out_opt_ PTimeStamp ptsExpiry);

/*
 * FreeCredentialsHandle() - Invalidate the credential handle at once.  The
 * credential itself lives on while security contexts made from it exist and
 * goes with the last of them.
 * Returns SEC_E_OK; SEC_E_INVALID_HANDLE for a bad handle, including a
 * second free of the same handle.  Never allocates, so it cannot fail for
 * lack of memory.
 */
SECURITY_STATUS SEC_ENTRY FreeCredentialsHandle(
	_In_ PCredHandle phCredential);

/*
 * InitializeSecurityContextA() - Run one client (initiator) leg.  The first
 * call passes @phContext NULL and receives the new context in
 * *@phNewContext; later calls pass it back as @phContext (@phNewContext may be
 * the same handle or NULL).  @Reserved1 and @Reserved2 must be 0.
 * @phCredential is used by the first call only (the context keeps its
 * credential alive); later calls ignore it, so it may already be freed.  A
 * non-NULL @pOutput must hold a SECBUFFER_TOKEN buffer.
 * Returns SEC_E_OK or SEC_I_CONTINUE_NEEDED (send pOutput's token);
 * SEC_E_INCOMPLETE_MESSAGE, SEC_E_BUFFER_TOO_SMALL, SEC_E_INSUFFICIENT_MEMORY
 * (nothing changed: call again); SEC_E_INVALID_HANDLE (bad @phCredential or
 * @phContext); SEC_E_OUT_OF_SEQUENCE (the context is already complete or
 * rejected: no re-authentication, a deviation from Windows); any other error
 * ends the handshake, and the context, if one exists, must still be deleted.
 * A failed first leg creates no context and leaves *@phNewContext untouched.
 */
SECURITY_STATUS SEC_ENTRY InitializeSecurityContextA(
	_In_opt_ PCredHandle phCredential,
	_In_opt_ PCtxtHandle phContext,
	_In_opt_ SEC_CHAR *pszTargetName,
	_In_ unsigned long fContextReq,
	_In_ unsigned long Reserved1,
	_In_ unsigned long TargetDataRep,
	_In_opt_ PSecBufferDesc pInput,
	_In_ unsigned long Reserved2,
	_Inout_opt_ PCtxtHandle phNewContext,
	_Inout_opt_ PSecBufferDesc pOutput,
	_Out_ unsigned long *pfContextAttr,
	_Out_opt_ PTimeStamp ptsExpiry);

/*
 * AcceptSecurityContext() - Run one server (acceptor) leg; the same rules as
 * InitializeSecurityContextA(), with @phCredential acquired for INBOUND or
 * BOTH, and ASC_REQ_* / ASC_RET_* flags.
 * Returns as InitializeSecurityContextA(); SEC_E_INVALID_HANDLE for a bad
 * handle.
 */
SECURITY_STATUS SEC_ENTRY AcceptSecurityContext(
	_In_opt_ PCredHandle phCredential,
	_In_opt_ PCtxtHandle phContext,
	_In_opt_ PSecBufferDesc pInput,
	_In_ unsigned long fContextReq,
	_In_ unsigned long TargetDataRep,
	_Inout_opt_ PCtxtHandle phNewContext,
	_Inout_opt_ PSecBufferDesc pOutput,
	_Out_ unsigned long *pfContextAttr,
	_Out_opt_ PTimeStamp ptsExpiry);

/*
 * CompleteAuthToken() - Finish a token after SEC_I_COMPLETE_NEEDED or
 * SEC_I_COMPLETE_AND_CONTINUE.  No package of this library returns those yet.
 * Returns SEC_E_INVALID_HANDLE for a bad handle; otherwise the package's
 * answer, SEC_E_UNSUPPORTED_FUNCTION for a package with nothing to complete.
 */
SECURITY_STATUS SEC_ENTRY CompleteAuthToken(
	_In_ PCtxtHandle phContext,
	_In_ PSecBufferDesc pToken);

/*
 * DeleteSecurityContext() - Delete a context, complete, partial or rejected,
 * at once: like SspiDeleteSecurityContextAsync() run to its end, async legs
 * queued on the context that have not started complete SEC_E_INVALID_HANDLE
 * without the package [test_async_sync_delete_fails_queued_leg_like_async_delete].
 * Afterwards every copy of the handle is invalid.
 * Returns SEC_E_OK; SEC_E_INVALID_HANDLE for a bad handle, including an
 * already deleted one (Windows documents SEC_E_OK there: a deviation).
 * Never allocates, so it cannot fail for lack of memory.
 */
SECURITY_STATUS SEC_ENTRY DeleteSecurityContext(
	_In_ PCtxtHandle phContext);

/*
 * QueryContextAttributesA() - Fill *@pBuffer with attribute @ulAttribute:
 * SECPKG_ATTR_SIZES (SecPkgContext_Sizes), _NAMES (SecPkgContext_NamesA),
 * _LIFESPAN (SecPkgContext_Lifespan), _PACKAGE_INFO
 * (SecPkgContext_PackageInfoA), _FLAGS (SecPkgContext_Flags), and where the
 * package has them _NATIVE_NAMES (SecPkgContext_NativeNamesA), _SESSION_KEY
 * (SecPkgContext_SessionKey), _NEGOTIATION_INFO
 * (SecPkgContext_NegotiationInfoA, "Negotiate").  Strings and structures it
 * returns are freed with FreeContextBuffer().
 * Returns SEC_E_OK; SEC_E_INVALID_HANDLE for a bad handle;
 * SEC_E_UNSUPPORTED_FUNCTION for any other attribute (not implemented yet).
 */
SECURITY_STATUS SEC_ENTRY QueryContextAttributesA(
	_In_ PCtxtHandle phContext,
	_In_ unsigned long ulAttribute,
	_Out_ void *pBuffer);

/*
 * QueryCredentialsAttributesA() - Fill *@pBuffer with attribute @ulAttribute:
 * only SECPKG_CRED_ATTR_NAMES (SecPkgCredentials_NamesA; free sUserName with
 * FreeContextBuffer()).
 * Returns SEC_E_OK; SEC_E_INVALID_HANDLE for a bad handle;
 * SEC_E_UNSUPPORTED_FUNCTION for any other attribute (not implemented yet).
 */
SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesA(
	_In_ PCredHandle phCredential,
	_In_ unsigned long ulAttribute,
	_Inout_ void *pBuffer);

/*
 * FreeContextBuffer() - Free memory this library returned: ISC/ASC output
 * tokens allocated for *_REQ_ALLOCATE_MEMORY, EnumerateSecurityPackagesA()
 * and QuerySecurityPackageInfoA() arrays, attribute strings.  NULL is a
 * no-op.  Returns SEC_E_OK; SEC_E_INVALID_HANDLE, touching nothing, for any
 * other pointer: one already freed, one from before sspiasync_shutdown()
 * (which freed it), or memory this library did not return (Windows leaves
 * that undefined).  [test_ctxbuf_shutdown_frees_outstanding_buffers,
 * test_ctxbuf_buffers_from_before_shutdown_are_invalid_after_reinit]
 */
SECURITY_STATUS SEC_ENTRY FreeContextBuffer(
	_Inout_opt_ PVOID pvContextBuffer);

/*
 * EnumerateSecurityPackagesA() - Set *@pcPackages and *@ppPackageInfo to an
 * array describing every package, "SspiAsyncTest" first.  Free the array
 * with FreeContextBuffer().
 * Returns SEC_E_OK; SEC_E_INSUFFICIENT_MEMORY.
 */
SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesA(
	_Out_ unsigned long *pcPackages,
	_Outptr_ PSecPkgInfoA *ppPackageInfo);

/*
 * QuerySecurityPackageInfoA() - Set *@ppPackageInfo to a description of the
 * package named @pszPackageName; free it with FreeContextBuffer().
 * Returns SEC_E_OK; SEC_E_SECPKG_NOT_FOUND; SEC_E_INSUFFICIENT_MEMORY.
 */
SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoA(
	_In_ LPSTR pszPackageName,
	_Outptr_ PSecPkgInfoA *ppPackageInfo);

/*
 * InitSecurityInterfaceA() - The dispatch table of the functions above, for
 * code that calls SSPI through it (curl-style).  Never NULL; the table is
 * filled once and lives as long as the process; dwVersion is
 * SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4 (every slot through
 * QueryCredentialsAttributesExA exists).  Every slot holds the function of
 * its name (those not implemented yet are listed below); Reserved3 and
 * Reserved4 hold EncryptMessage and DecryptMessage, as on Windows;
 * Reserved2 and Reserved8 are NULL.  [test_wide_tables_match_windows_slots]
 */
PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA(void);

/*
 * The W forms of the calls above.  Each converts its UTF-16 strings to UTF-8
 * (an invalid one - a lone surrogate - gives SEC_E_INVALID_PARAMETER before
 * anything happens), then behaves exactly as its A twin, and returns its
 * strings as UTF-16 in buffers FreeContextBuffer() frees (SecPkgInfoW
 * arrays, SecPkgContext_NamesW and the other W attribute strings).  The
 * identity in @pAuthData is the same for both: its Flags say its form.
 * [test_wide_*]
 */
SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleW(
	_In_opt_ SEC_WCHAR *pszPrincipal,
	_In_ SEC_WCHAR *pszPackage,
	_In_ unsigned long fCredentialUse,
	_In_opt_ void *pvLogonId,
	_In_opt_ void *pAuthData,
	_In_opt_ SEC_GET_KEY_FN pGetKeyFn,
	_In_opt_ void *pvGetKeyArgument,
	_Out_ PCredHandle phCredential,
	_Out_opt_ PTimeStamp ptsExpiry);

SECURITY_STATUS SEC_ENTRY InitializeSecurityContextW(
	_In_opt_ PCredHandle phCredential,
	_In_opt_ PCtxtHandle phContext,
	_In_opt_ SEC_WCHAR *pszTargetName,
	_In_ unsigned long fContextReq,
	_In_ unsigned long Reserved1,
	_In_ unsigned long TargetDataRep,
	_In_opt_ PSecBufferDesc pInput,
	_In_ unsigned long Reserved2,
	_Inout_opt_ PCtxtHandle phNewContext,
	_Inout_opt_ PSecBufferDesc pOutput,
	_Out_ unsigned long *pfContextAttr,
	_Out_opt_ PTimeStamp ptsExpiry);

/* QueryContextAttributesW(): SECPKG_ATTR_NAMES gives SecPkgContext_NamesW,
 * _NATIVE_NAMES SecPkgContext_NativeNamesW, _PACKAGE_INFO
 * SecPkgContext_PackageInfoW, _NEGOTIATION_INFO
 * SecPkgContext_NegotiationInfoW; the other attributes as the A form. */
SECURITY_STATUS SEC_ENTRY QueryContextAttributesW(
	_In_ PCtxtHandle phContext,
	_In_ unsigned long ulAttribute,
	_Out_ void *pBuffer);

SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesW(
	_In_ PCredHandle phCredential,
	_In_ unsigned long ulAttribute,
	_Inout_ void *pBuffer);

SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesW(
	_Out_ unsigned long *pcPackages,
	_Outptr_ PSecPkgInfoW *ppPackageInfo);

SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoW(
	_In_ SEC_WCHAR *pszPackageName,
	_Outptr_ PSecPkgInfoW *ppPackageInfo);

/* InitSecurityInterfaceW() - The W dispatch table; as InitSecurityInterfaceA(). */
PSecurityFunctionTableW SEC_ENTRY InitSecurityInterfaceW(void);

/*
 * Functions this library does not implement yet.  Each exists, with
 * Microsoft's prototype, in its table slot and under its unsuffixed name;
 * each checks its arguments and handles first, as every call here does (so
 * a stale handle still gets SEC_E_INVALID_HANDLE, a NULL required pointer
 * SEC_E_INVALID_PARAMETER, an unknown package SEC_E_SECPKG_NOT_FOUND), then
 * returns SEC_E_UNSUPPORTED_FUNCTION and changes nothing.
 * [test_unsupported_functions_check_handles_first]
 */
SECURITY_STATUS SEC_ENTRY ApplyControlToken(
	_In_ PCtxtHandle phContext,
	_In_ PSecBufferDesc pInput);
SECURITY_STATUS SEC_ENTRY ImpersonateSecurityContext(
	_In_ PCtxtHandle phContext);
SECURITY_STATUS SEC_ENTRY RevertSecurityContext(
	_In_ PCtxtHandle phContext);
SECURITY_STATUS SEC_ENTRY QuerySecurityContextToken(
	_In_ PCtxtHandle phContext,
	_Out_ HANDLE *Token);
SECURITY_STATUS SEC_ENTRY ExportSecurityContext(
	_In_ PCtxtHandle phContext,
	_In_ ULONG fFlags,
	_Out_ PSecBuffer pPackedContext,
	_Out_ void **pToken);
SECURITY_STATUS SEC_ENTRY ImportSecurityContextA(
	_In_ SEC_CHAR *pszPackage,
	_In_ PSecBuffer pPackedContext,
	_In_opt_ void *Token,
	_Out_ PCtxtHandle phContext);
SECURITY_STATUS SEC_ENTRY ImportSecurityContextW(
	_In_ SEC_WCHAR *pszPackage,
	_In_ PSecBuffer pPackedContext,
	_In_opt_ void *Token,
	_Out_ PCtxtHandle phContext);
SECURITY_STATUS SEC_ENTRY AddCredentialsA(
	_In_ PCredHandle hCredentials,
	_In_opt_ SEC_CHAR *pszPrincipal,
	_In_ SEC_CHAR *pszPackage,
	_In_ unsigned long fCredentialUse,
	_In_opt_ void *pAuthData,
	_In_opt_ SEC_GET_KEY_FN pGetKeyFn,
	_In_opt_ void *pvGetKeyArgument,
	_Out_opt_ PTimeStamp ptsExpiry);
SECURITY_STATUS SEC_ENTRY AddCredentialsW(
	_In_ PCredHandle hCredentials,
	_In_opt_ SEC_WCHAR *pszPrincipal,
	_In_ SEC_WCHAR *pszPackage,
	_In_ unsigned long fCredentialUse,
	_In_opt_ void *pAuthData,
	_In_opt_ SEC_GET_KEY_FN pGetKeyFn,
	_In_opt_ void *pvGetKeyArgument,
	_Out_opt_ PTimeStamp ptsExpiry);
SECURITY_STATUS SEC_ENTRY SetContextAttributesA(
	_In_ PCtxtHandle phContext,
	_In_ unsigned long ulAttribute,
	_In_reads_bytes_(cbBuffer) void *pBuffer,
	_In_ unsigned long cbBuffer);
SECURITY_STATUS SEC_ENTRY SetContextAttributesW(
	_In_ PCtxtHandle phContext,
	_In_ unsigned long ulAttribute,
	_In_reads_bytes_(cbBuffer) void *pBuffer,
	_In_ unsigned long cbBuffer);
SECURITY_STATUS SEC_ENTRY SetCredentialsAttributesA(
	_In_ PCredHandle phCredential,
	_In_ unsigned long ulAttribute,
	_In_reads_bytes_(cbBuffer) void *pBuffer,
	_In_ unsigned long cbBuffer);
SECURITY_STATUS SEC_ENTRY SetCredentialsAttributesW(
	_In_ PCredHandle phCredential,
	_In_ unsigned long ulAttribute,
	_In_reads_bytes_(cbBuffer) void *pBuffer,
	_In_ unsigned long cbBuffer);
SECURITY_STATUS SEC_ENTRY QueryContextAttributesExA(
	_In_ PCtxtHandle phContext,
	_In_ unsigned long ulAttribute,
	_Out_writes_bytes_(cbBuffer) void *pBuffer,
	_In_ unsigned long cbBuffer);
SECURITY_STATUS SEC_ENTRY QueryContextAttributesExW(
	_In_ PCtxtHandle phContext,
	_In_ unsigned long ulAttribute,
	_Out_writes_bytes_(cbBuffer) void *pBuffer,
	_In_ unsigned long cbBuffer);
SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesExA(
	_In_ PCredHandle phCredential,
	_In_ unsigned long ulAttribute,
	_Out_writes_bytes_(cbBuffer) void *pBuffer,
	_In_ unsigned long cbBuffer);
SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesExW(
	_In_ PCredHandle phCredential,
	_In_ unsigned long ulAttribute,
	_Out_writes_bytes_(cbBuffer) void *pBuffer,
	_In_ unsigned long cbBuffer);
SECURITY_STATUS SEC_ENTRY ChangeAccountPasswordA(
	_In_ SEC_CHAR *pszPackageName,
	_In_ SEC_CHAR *pszDomainName,
	_In_ SEC_CHAR *pszAccountName,
	_In_ SEC_CHAR *pszOldPassword,
	_In_ SEC_CHAR *pszNewPassword,
	_In_ BOOLEAN bImpersonating,
	_In_ unsigned long dwReserved,
	_Inout_ PSecBufferDesc pOutput);
SECURITY_STATUS SEC_ENTRY ChangeAccountPasswordW(
	_In_ SEC_WCHAR *pszPackageName,
	_In_ SEC_WCHAR *pszDomainName,
	_In_ SEC_WCHAR *pszAccountName,
	_In_ SEC_WCHAR *pszOldPassword,
	_In_ SEC_WCHAR *pszNewPassword,
	_In_ BOOLEAN bImpersonating,
	_In_ unsigned long dwReserved,
	_Inout_ PSecBufferDesc pOutput);

/*
 * MakeSignature(), VerifySignature(), EncryptMessage(), DecryptMessage() -
 * Per-message protection on an established context, by every package (the
 * test package "SspiAsyncTest" with simple keyed signing and sealing, not
 * real cryptography; NTLM, Kerberos and Negotiate as their protocols
 * say).  @fQOP is 0, or SECQOP_WRAP_NO_ENCRYPT for EncryptMessage().
 * Return SEC_E_OK; SEC_E_INVALID_HANDLE for a bad handle;
 * SEC_E_OUT_OF_SEQUENCE for a context that is not complete;
 * SEC_E_MESSAGE_ALTERED (a signature or sealed message that does not verify);
 * SEC_E_BUFFER_TOO_SMALL, SEC_E_INVALID_TOKEN for malformed buffers.
 */
SECURITY_STATUS SEC_ENTRY MakeSignature(
	_In_ PCtxtHandle phContext,
	_In_ unsigned long fQOP,
	_In_ PSecBufferDesc pMessage,
	_In_ unsigned long MessageSeqNo);

SECURITY_STATUS SEC_ENTRY VerifySignature(
	_In_ PCtxtHandle phContext,
	_In_ PSecBufferDesc pMessage,
	_In_ unsigned long MessageSeqNo,
	_Out_ unsigned long *pfQOP);

SECURITY_STATUS SEC_ENTRY EncryptMessage(
	_In_ PCtxtHandle phContext,
	_In_ unsigned long fQOP,
	_In_ PSecBufferDesc pMessage,
	_In_ unsigned long MessageSeqNo);

SECURITY_STATUS SEC_ENTRY DecryptMessage(
	_In_ PCtxtHandle phContext,
	_In_ PSecBufferDesc pMessage,
	_In_ unsigned long MessageSeqNo,
	_Out_opt_ unsigned long *pfQOP);

/* ------------------------------------------------------------------------ */
/* The asynchronous family (Sspi*Async).                                     */
/* ------------------------------------------------------------------------ */

/*
 * An async-call context tracks one call at a time: IDLE -> PENDING ->
 * DONE(status), back to IDLE with SspiReinitAsyncContext()
 * [test_async_submission_refused_when_pending_or_done].  The pointer is
 * an encoded handle, not the address of an object: never dereference it.  A
 * freed or forged one is detected, never followed.
 */
typedef struct _SspiAsyncContext SspiAsyncContext;

/*
 * Completion callback: runs once per completed call, on a worker thread (or
 * from sspiasync_run() / the completion-queue reap / sspiasync_shutdown()),
 * never inside the API call that queued it, holding no library lock.  It may
 * call any function here, including SspiFreeAsyncContext(@Handle).
 * [test_async_two_runner_threads_complete_each_call_once,
 *  test_async_pool_handshake_completes_without_run,
 *  test_async_callback_calls_sync_functions_on_its_context,
 *  test_async_callback_frees_its_own_context,
 *  test_cq_callback_frees_its_context_inside_reap]
 */
typedef void (*SspiAsyncNotifyCallback)(
	_In_ SspiAsyncContext *Handle,
	_In_opt_ PVOID CallbackData);

/*
 * SspiCreateAsyncContext() - A new, IDLE async context with no callback.
 * Returns NULL when out of memory or when the async-context table is full.
 * Free it with SspiFreeAsyncContext().
 */
SspiAsyncContext *SspiCreateAsyncContext(void);

/*
 * SspiFreeAsyncContext() - Free an async context.  Safe while its call is
 * PENDING (Windows forbids it): the call is abandoned, its callback does not
 * run and nothing more is written to the caller's output memory; a queued
 * delete still tears its context down.  What a call made - the security
 * context of a first InitializeSecurityContext/AcceptSecurityContext leg,
 * the credential of SspiAcquireCredentialsHandleAsync - is yours once you
 * were told the call completed: its callback started, its completion-queue
 * record was reaped, SspiGetAsyncCallStatus returned its status, or you
 * reinit the context.  A free before that abandons the call, also one that
 * already completed, and the library deletes what it made, even when its
 * handle was already written to your memory (that handle is then stale).
 * A free after it only suppresses a callback not yet delivered.
 * [test_async_free_after_publish_deletes_first_leg_context,
 *  test_async_free_after_publish_frees_acquired_credential,
 *  test_async_free_after_done_before_told_deletes_context,
 *  test_async_free_after_told_leaves_context_to_caller,
 *  test_async_free_pending_first_leg_creates_nothing,
 *  test_async_free_pending_later_leg_skips_package,
 *  test_async_free_pending_delete_still_deletes,
 *  test_async_free_suppresses_callback_deferred_by_sync_call,
 *  test_shutdown_free_from_other_thread_abandons_running_leg]
 * A freed, forged or NULL context is a no-op (a freed or forged one counts
 * in sspiasync_stats' rejected_stale).  From another thread, a free cannot
 * stop a callback that is already being delivered (it does not wait for
 * it, since a free may come from inside a callback): release the callback's
 * data from inside the callback, or after it ran, never right after a free
 * from elsewhere.  [verify/ P4: such a free is safe]
 */
void SspiFreeAsyncContext(
	_In_opt_ SspiAsyncContext *Handle);

/*
 * SspiReinitAsyncContext() - Return a DONE (or IDLE) context to IDLE for the
 * next call; the callback registration is kept.
 * Returns STATUS_SUCCESS; STATUS_INVALID_DEVICE_STATE while the call is
 * PENDING, or DONE with its callback not yet returned (it runs in the next
 * sspiasync_run(); the callback itself may reinit and resubmit, other threads
 * wait for it to return - and so does an earlier callback of the same
 * context still running once the next call's callback has started
 * [test_async_reinit_refused_while_next_callback_runs,
 *  test_async_reinit_refused_when_pending,
 *  test_async_sync_call_runs_queued_calls_first_callback_deferred]);
 * STATUS_INVALID_HANDLE for a freed or forged context.  The only function
 * of the family that returns an NTSTATUS.
 */
NTSTATUS SspiReinitAsyncContext(
	_In_ SspiAsyncContext *Handle);

/*
 * SspiSetAsyncNotifyCallback() - Register @Callback (with @CallbackData) to
 * run when the context's call completes.  NULL clears it; a NULL callback is
 * allowed for every async call here (Windows allows it only for
 * SspiDeleteSecurityContextAsync), the caller then polls
 * SspiGetAsyncCallStatus().
 * Returns SEC_E_OK; SEC_E_INVALID_HANDLE for a freed or forged context;
 * SEC_E_INVALID_PARAMETER when a call is PENDING, except clearing the
 * callback, which is allowed and suppresses the pending call's callback
 * (also one that completed but whose callback has not run yet; as with a
 * free, not one that another thread is already delivering).
 * [test_async_set_callback_refused_when_pending_except_clear,
 *  test_async_clear_callback_suppresses_deferred_callback]
 */
SECURITY_STATUS SspiSetAsyncNotifyCallback(
	_In_ SspiAsyncContext *Context,
	_In_opt_ SspiAsyncNotifyCallback Callback,
	_In_opt_ void *CallbackData);

/*
 * SspiAsyncContextRequiresNotify() - TRUE iff a callback is registered on
 * @AsyncContext, i.e. its completion will be notified.  FALSE for a freed or
 * forged context.
 */
BOOLEAN SspiAsyncContextRequiresNotify(
	_In_ SspiAsyncContext *AsyncContext);

/*
 * SspiGetAsyncCallStatus() - The status of the context's call:
 * SEC_I_ASYNC_CALL_PENDING while it runs, then the call's own result.
 * Returns SEC_E_INVALID_PARAMETER for an IDLE context (nothing submitted
 * since create or reinit; never PENDING); SEC_E_INVALID_HANDLE for a freed
 * or forged context.
 */
SECURITY_STATUS SspiGetAsyncCallStatus(
	_In_ SspiAsyncContext *Handle);

/*
 * Common contract of the five Sspi*Async operations below.  Each takes the
 * parameters of its synchronous twin plus @AsyncContext, which must be IDLE.
 * The return value is only the queueing status: SEC_E_OK when queued, or the
 * error that prevented queueing, with nothing queued:
 *   SEC_E_INVALID_HANDLE - freed or forged @AsyncContext;
 *   SEC_E_INVALID_PARAMETER - @AsyncContext PENDING or DONE without reinit;
 *     a structural argument error (NULL required pointer, bad
 *     SecBufferDesc version, non-zero reserved argument);
 *   SEC_E_SECPKG_NOT_FOUND - unknown package name;
 *   SEC_E_INSUFFICIENT_MEMORY - no memory, or the pending-call bound is
 *     reached (never for delete and free, nor for a call with a bad handle,
 *     which completes SEC_E_INVALID_HANDLE and takes no memory);
 *   SEC_E_SHUTDOWN_IN_PROGRESS - sspiasync_shutdown() is running.
 *   [busy: test_async_submission_refused_when_pending_or_done; shutdown:
 *    test_async_shutdown_cancels_queued_legs_then_reinit, fuzz/api_fuzz.c]
 * A bad security-context or credential handle is not a queueing error: the
 * call returns SEC_E_OK, the package is never called, and the call completes
 * with SEC_E_INVALID_HANDLE.  Nor is an ISC/ASC output buffer's status: no
 * token buffer, one too short (SEC_E_BUFFER_TOO_SMALL) or one at NULL without
 * *_REQ_ALLOCATE_MEMORY (SEC_E_INTERNAL_ERROR) is queued and completes so,
 * as the synchronous call returns it
 * [test_win_async_leg_buffer_statuses_complete_as_sync].  Inputs (tokens, names, identities) are copied
 * when queued; output memory (handles, buffers, *pfContextAttr, *ptsExpiry)
 * must stay valid until completion unless the async context is freed first
 * [test_async_free_pending_first_leg_creates_nothing,
 *  test_shutdown_free_from_other_thread_abandons_running_leg].
 * The result is then read with SspiGetAsyncCallStatus() or in the callback.
 */

/* SspiAcquireCredentialsHandleAsyncA() - Async AcquireCredentialsHandleA(). */
SECURITY_STATUS SspiAcquireCredentialsHandleAsyncA(
	_In_ SspiAsyncContext *AsyncContext,
	_In_opt_ LPSTR pszPrincipal,
	_In_ LPSTR pszPackage,
	_In_ unsigned long fCredentialUse,
	_In_opt_ void *pvLogonId,
	_In_opt_ void *pAuthData,
	_In_opt_ SEC_GET_KEY_FN pGetKeyFn,
	_In_opt_ void *pvGetKeyArgument,
	_Out_ PCredHandle phCredential,
	_Out_opt_ PTimeStamp ptsExpiry);

/* The W forms of the two async calls with strings (user-mode LPWSTR, as
 * mingw-w64's non-kernel branch; Windows' kernel header takes
 * PSECURITY_STRING): strings are converted when queued, so an invalid one is
 * a queueing error, SEC_E_INVALID_PARAMETER. */
SECURITY_STATUS SspiAcquireCredentialsHandleAsyncW(
	_In_ SspiAsyncContext *AsyncContext,
	_In_opt_ LPWSTR pszPrincipal,
	_In_ LPWSTR pszPackage,
	_In_ unsigned long fCredentialUse,
	_In_opt_ void *pvLogonId,
	_In_opt_ void *pAuthData,
	_In_opt_ SEC_GET_KEY_FN pGetKeyFn,
	_In_opt_ void *pvGetKeyArgument,
	_Out_ PCredHandle phCredential,
	_Out_opt_ PTimeStamp ptsExpiry);

SECURITY_STATUS SspiInitializeSecurityContextAsyncW(
	_In_ SspiAsyncContext *AsyncContext,
	_In_opt_ PCredHandle phCredential,
	_In_opt_ PCtxtHandle phContext,
	_In_opt_ LPWSTR pszTargetName,
	_In_ unsigned long fContextReq,
	_In_ unsigned long Reserved1,
	_In_ unsigned long TargetDataRep,
	_In_opt_ PSecBufferDesc pInput,
	_In_ unsigned long Reserved2,
	_Inout_opt_ PCtxtHandle phNewContext,
	_Inout_opt_ PSecBufferDesc pOutput,
	_Out_ unsigned long *pfContextAttr,
	_Out_opt_ PTimeStamp ptsExpiry);

/*
 * SspiFreeCredentialsHandleAsync() - Async FreeCredentialsHandle(); completes
 * SEC_E_OK, or SEC_E_INVALID_HANDLE for a bad handle.  As with the delete
 * below, SEC_E_OK means queued (the handle is invalid from now on) and any
 * other return means nothing was done.
 * [test_async_submission_refused_when_pending_or_done]
 */
SECURITY_STATUS SspiFreeCredentialsHandleAsync(
	_In_ SspiAsyncContext *AsyncContext,
	_In_ PCredHandle phCredential);

/*
 * SspiInitializeSecurityContextAsyncA() - Async InitializeSecurityContextA();
 * completes with the statuses listed there.  Legs on one security context
 * run one at a time, in submission order.
 * [test_async_completions_on_one_context_in_submission_order,
 *  test_pool_engine_runs_each_queue_in_order_with_two_workers]
 */
SECURITY_STATUS SspiInitializeSecurityContextAsyncA(
	_In_ SspiAsyncContext *AsyncContext,
	_In_opt_ PCredHandle phCredential,
	_In_opt_ PCtxtHandle phContext,
	_In_opt_ LPSTR pszTargetName,
	_In_ unsigned long fContextReq,
	_In_ unsigned long Reserved1,
	_In_ unsigned long TargetDataRep,
	_In_opt_ PSecBufferDesc pInput,
	_In_ unsigned long Reserved2,
	_Inout_opt_ PCtxtHandle phNewContext,
	_Inout_opt_ PSecBufferDesc pOutput,
	_Out_ unsigned long *pfContextAttr,
	_Out_opt_ PTimeStamp ptsExpiry);

/*
 * SspiAcceptSecurityContextAsync() - Async AcceptSecurityContext(); completes
 * with the statuses listed there.
 */
SECURITY_STATUS SspiAcceptSecurityContextAsync(
	_In_ SspiAsyncContext *AsyncContext,
	_In_opt_ PCredHandle phCredential,
	_In_opt_ PCtxtHandle phContext,
	_In_opt_ PSecBufferDesc pInput,
	_In_ unsigned long fContextReq,
	_In_ unsigned long TargetDataRep,
	_Inout_opt_ PCtxtHandle phNewContext,
	_Inout_opt_ PSecBufferDesc pOutput,
	_Out_ unsigned long *pfContextAttr,
	_Out_opt_ PTimeStamp ptsExpiry);

/*
 * SspiDeleteSecurityContextAsync() - Async DeleteSecurityContext().  From the
 * moment it is queued the handle admits no new call (each completes
 * SEC_E_INVALID_HANDLE); legs queued earlier but not started complete
 * SEC_E_INVALID_HANDLE, a running leg finishes, then the context is torn
 * down [test_async_calls_queued_after_delete_complete_invalid_handle,
 * test_async_delete_fails_legs_queued_before_it,
 * test_async_pool_stress_two_submitters_deletes_racing_legs].  Completes
 * SEC_E_OK, or SEC_E_INVALID_HANDLE for a bad or already deleted handle.
 * Fire-and-forget is supported: no callback, then SspiFreeAsyncContext()
 * right away; the delete still happens [test_async_fire_and_forget_delete].
 * What each return says about the context (the async context is claimed
 * before the security context is touched, so the two never part):
 *   SEC_E_OK - queued: the context is deleted (it admits no call from now
 *     on), even if the async context is freed right after; or the handle
 *     was bad and the call completes SEC_E_INVALID_HANDLE;
 *   anything else (SEC_E_INVALID_HANDLE for a freed or forged
 *     @AsyncContext, SEC_E_INVALID_PARAMETER for a busy one,
 *     SEC_E_SHUTDOWN_IN_PROGRESS) - nothing was done: the context is as it
 *     was, also when another thread freed or used @AsyncContext at the
 *     same moment.  [test_async_delete_racing_free_says_whether_context_exists]
 */
SECURITY_STATUS SspiDeleteSecurityContextAsync(
	_In_ SspiAsyncContext *AsyncContext,
	_In_ PCtxtHandle phContext);


/* ------------------------------------------------------------------------ */
/* Unsuffixed names: the W forms under UNICODE, the A forms otherwise, as    */
/* Windows' __MINGW_NAME_AW / _UAW.                                          */
/* ------------------------------------------------------------------------ */

#ifdef UNICODE
#define SA__AW(a, w) w
#else
#define SA__AW(a, w) a
#endif
#define SecPkgInfo                    SA__AW(SecPkgInfoA, SecPkgInfoW)
#define PSecPkgInfo                   SA__AW(PSecPkgInfoA, PSecPkgInfoW)
#define SecPkgCredentials_Names       SA__AW(SecPkgCredentials_NamesA, SecPkgCredentials_NamesW)
#define PSecPkgCredentials_Names      SA__AW(PSecPkgCredentials_NamesA, PSecPkgCredentials_NamesW)
#define SecPkgCredentials_SSIProvider SA__AW(SecPkgCredentials_SSIProviderA, SecPkgCredentials_SSIProviderW)
#define PSecPkgCredentials_SSIProvider SA__AW(PSecPkgCredentials_SSIProviderA, PSecPkgCredentials_SSIProviderW)
#define SecPkgContext_Names           SA__AW(SecPkgContext_NamesA, SecPkgContext_NamesW)
#define PSecPkgContext_Names          SA__AW(PSecPkgContext_NamesA, PSecPkgContext_NamesW)
#define SecPkgContext_KeyInfo         SA__AW(SecPkgContext_KeyInfoA, SecPkgContext_KeyInfoW)
#define PSecPkgContext_KeyInfo        SA__AW(PSecPkgContext_KeyInfoA, PSecPkgContext_KeyInfoW)
#define SecPkgContext_Authority       SA__AW(SecPkgContext_AuthorityA, SecPkgContext_AuthorityW)
#define PSecPkgContext_Authority      SA__AW(PSecPkgContext_AuthorityA, PSecPkgContext_AuthorityW)
#define SecPkgContext_ProtoInfo       SA__AW(SecPkgContext_ProtoInfoA, SecPkgContext_ProtoInfoW)
#define PSecPkgContext_ProtoInfo      SA__AW(PSecPkgContext_ProtoInfoA, PSecPkgContext_ProtoInfoW)
#define SecPkgContext_PackageInfo     SA__AW(SecPkgContext_PackageInfoA, SecPkgContext_PackageInfoW)
#define PSecPkgContext_PackageInfo    SA__AW(PSecPkgContext_PackageInfoA, PSecPkgContext_PackageInfoW)
#define SecPkgContext_NegotiationInfo SA__AW(SecPkgContext_NegotiationInfoA, SecPkgContext_NegotiationInfoW)
#define PSecPkgContext_NegotiationInfo SA__AW(PSecPkgContext_NegotiationInfoA, PSecPkgContext_NegotiationInfoW)
#define SecPkgContext_NativeNames     SA__AW(SecPkgContext_NativeNamesA, SecPkgContext_NativeNamesW)
#define PSecPkgContext_NativeNames    SA__AW(PSecPkgContext_NativeNamesA, PSecPkgContext_NativeNamesW)
#define SecPkgContext_CredentialName  SA__AW(SecPkgContext_CredentialNameA, SecPkgContext_CredentialNameW)
#define PSecPkgContext_CredentialName SA__AW(PSecPkgContext_CredentialNameA, PSecPkgContext_CredentialNameW)
#define SEC_WINNT_AUTH_IDENTITY       SA__AW(SEC_WINNT_AUTH_IDENTITY_A, SEC_WINNT_AUTH_IDENTITY_W)
#define PSEC_WINNT_AUTH_IDENTITY      SA__AW(PSEC_WINNT_AUTH_IDENTITY_A, PSEC_WINNT_AUTH_IDENTITY_W)
#define _SEC_WINNT_AUTH_IDENTITY      SA__AW(_SEC_WINNT_AUTH_IDENTITY_A, _SEC_WINNT_AUTH_IDENTITY_W)
#define SEC_WINNT_AUTH_IDENTITY_EX    SA__AW(SEC_WINNT_AUTH_IDENTITY_EXA, SEC_WINNT_AUTH_IDENTITY_EXW)
#define PSEC_WINNT_AUTH_IDENTITY_EX   SA__AW(PSEC_WINNT_AUTH_IDENTITY_EXA, PSEC_WINNT_AUTH_IDENTITY_EXW)
#define SecurityFunctionTable         SA__AW(SecurityFunctionTableA, SecurityFunctionTableW)
#define PSecurityFunctionTable        SA__AW(PSecurityFunctionTableA, PSecurityFunctionTableW)

#define ENUMERATE_SECURITY_PACKAGES_FN SA__AW(ENUMERATE_SECURITY_PACKAGES_FN_A, ENUMERATE_SECURITY_PACKAGES_FN_W)
#define QUERY_CREDENTIALS_ATTRIBUTES_FN SA__AW(QUERY_CREDENTIALS_ATTRIBUTES_FN_A, QUERY_CREDENTIALS_ATTRIBUTES_FN_W)
#define ACQUIRE_CREDENTIALS_HANDLE_FN SA__AW(ACQUIRE_CREDENTIALS_HANDLE_FN_A, ACQUIRE_CREDENTIALS_HANDLE_FN_W)
#define ADD_CREDENTIALS_FN            SA__AW(ADD_CREDENTIALS_FN_A, ADD_CREDENTIALS_FN_W)
#define INITIALIZE_SECURITY_CONTEXT_FN SA__AW(INITIALIZE_SECURITY_CONTEXT_FN_A, INITIALIZE_SECURITY_CONTEXT_FN_W)
#define QUERY_CONTEXT_ATTRIBUTES_FN   SA__AW(QUERY_CONTEXT_ATTRIBUTES_FN_A, QUERY_CONTEXT_ATTRIBUTES_FN_W)
#define QUERY_CONTEXT_ATTRIBUTES_EX_FN SA__AW(QUERY_CONTEXT_ATTRIBUTES_EX_FN_A, QUERY_CONTEXT_ATTRIBUTES_EX_FN_W)
#define SET_CONTEXT_ATTRIBUTES_FN     SA__AW(SET_CONTEXT_ATTRIBUTES_FN_A, SET_CONTEXT_ATTRIBUTES_FN_W)
#define QUERY_CREDENTIALS_ATTRIBUTES_EX_FN SA__AW(QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A, QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_W)
#define SET_CREDENTIALS_ATTRIBUTES_FN SA__AW(SET_CREDENTIALS_ATTRIBUTES_FN_A, SET_CREDENTIALS_ATTRIBUTES_FN_W)
#define QUERY_SECURITY_PACKAGE_INFO_FN SA__AW(QUERY_SECURITY_PACKAGE_INFO_FN_A, QUERY_SECURITY_PACKAGE_INFO_FN_W)
#define IMPORT_SECURITY_CONTEXT_FN    SA__AW(IMPORT_SECURITY_CONTEXT_FN_A, IMPORT_SECURITY_CONTEXT_FN_W)
#define CHANGE_PASSWORD_FN            SA__AW(CHANGE_PASSWORD_FN_A, CHANGE_PASSWORD_FN_W)
#define INIT_SECURITY_INTERFACE       SA__AW(INIT_SECURITY_INTERFACE_A, INIT_SECURITY_INTERFACE_W)

#define AcquireCredentialsHandle      SA__AW(AcquireCredentialsHandleA, AcquireCredentialsHandleW)
#define AddCredentials                SA__AW(AddCredentialsA, AddCredentialsW)
#define InitializeSecurityContext     SA__AW(InitializeSecurityContextA, InitializeSecurityContextW)
#define QueryContextAttributes        SA__AW(QueryContextAttributesA, QueryContextAttributesW)
#define QueryContextAttributesEx      SA__AW(QueryContextAttributesExA, QueryContextAttributesExW)
#define SetContextAttributes          SA__AW(SetContextAttributesA, SetContextAttributesW)
#define QueryCredentialsAttributes    SA__AW(QueryCredentialsAttributesA, QueryCredentialsAttributesW)
#define QueryCredentialsAttributesEx  SA__AW(QueryCredentialsAttributesExA, QueryCredentialsAttributesExW)
#define SetCredentialsAttributes      SA__AW(SetCredentialsAttributesA, SetCredentialsAttributesW)
#define EnumerateSecurityPackages     SA__AW(EnumerateSecurityPackagesA, EnumerateSecurityPackagesW)
#define QuerySecurityPackageInfo      SA__AW(QuerySecurityPackageInfoA, QuerySecurityPackageInfoW)
#define ImportSecurityContext         SA__AW(ImportSecurityContextA, ImportSecurityContextW)
#define ChangeAccountPassword         SA__AW(ChangeAccountPasswordA, ChangeAccountPasswordW)
#define InitSecurityInterface         SA__AW(InitSecurityInterfaceA, InitSecurityInterfaceW)
#define SspiAcquireCredentialsHandleAsync SA__AW(SspiAcquireCredentialsHandleAsyncA, SspiAcquireCredentialsHandleAsyncW)
#define SspiInitializeSecurityContextAsync SA__AW(SspiInitializeSecurityContextAsyncA, SspiInitializeSecurityContextAsyncW)

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_SSPI_H */
