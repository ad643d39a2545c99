/*
 * test/sspi_testlib.h - helpers shared by the SSPI suites (check_sspi_sync.c,
 * check_async.c, check_ntlm*.c, ...): the output patterns that prove
 * "untouched", handle and byte comparisons, statistics and allocation
 * counts, a leg's patterned output memory, identities and NTLM user files.
 */
#ifndef SSPIASYNC_TEST_SSPI_TESTLIB_H
#define SSPIASYNC_TEST_SSPI_TESTLIB_H

#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"

#define MAX_TOKEN 512
#define SIG_LEN 16
#define PAT 0xA5
#define PAT_WORD ((ULONG_PTR)UINT64_C(0x5A5A5A5A5A5A5A5A))
#define PAT_TIME INT64_C(0x5A5A5A5A5A5A5A5A)
#define PAT_ATTR ((unsigned long)0x5A5A5A5Au)
#define HANDLE_BITS ((unsigned)(sizeof(SecHandle) * CHAR_BIT))

static char pkg_name[] = "SspiAsyncTest";

static inline int handle_eq(const SecHandle *a, const SecHandle *b)
{
	return a->dwLower == b->dwLower && a->dwUpper == b->dwUpper;
}

static inline void handle_pat(SecHandle *h)
{
	h->dwLower = PAT_WORD;
	h->dwUpper = PAT_WORD;
}

static inline int handle_is_pat(const SecHandle *h)
{
	return h->dwLower == PAT_WORD && h->dwUpper == PAT_WORD;
}

static inline int bytes_are(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static inline struct sspiasync_statistics stats(void)
{
	struct sspiasync_statistics s;
	memset(&s, 0xff, sizeof s);
	ck_assert_int_eq(sspiasync_stats(&s), SEC_E_OK);
	return s;
}

/* The security contexts alive once the workers dropped what they still
 * hold: a worker drops a finished job's reference just after publishing its
 * completion (src/async/async.h, sa_job_ops), so a context deleted right
 * after its last completion is counted until then.  Waits (bounded, 30 s)
 * for the count to reach @want; returns the count it saw last. */
static inline uint64_t contexts_settled(uint64_t want)
{
	time_t until = time(NULL) + 30;
	uint64_t n;
	while ((n = stats().contexts) != want && time(NULL) <= until)
		sched_yield();
	return n;
}

/* Allocations the library attempted so far (zero-allocation checks). */
static inline uint64_t alloc_calls(void)
{
	struct sa_alloc_stats st;
	sa__alloc_stats(&st);
	return st.calls;
}

/* Every TCase's teardown: injection off, library shut down (also after a
 * failed assertion, so the next test starts clean). */
static inline void teardown(void)
{
	sa__alloc_fail_at(0);
	sspiasync_shutdown();
}

/* A TCase with that teardown and a timeout (enforced in fork mode). */
static inline TCase *tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

/* An identity of UTF-8 strings (NULL: empty) for AcquireCredentialsHandle. */
static inline SEC_WINNT_AUTH_IDENTITY_A tl_identity(const char *user, const char *domain,
						    const char *password)
{
	return (SEC_WINNT_AUTH_IDENTITY_A){
		.User = (unsigned char *)user,
		.UserLength = user ? (unsigned long)strlen(user) : 0,
		.Domain = (unsigned char *)domain,
		.DomainLength = domain ? (unsigned long)strlen(domain) : 0,
		.Password = (unsigned char *)password,
		.PasswordLength = password ? (unsigned long)strlen(password) : 0,
		.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI,
	};
}

/* An NTLM user file holding @text at a new temporary path (kept in @path)
 * that NTLM_USER_FILE names; tl_user_file_unset() takes both away. */
static inline void tl_user_file_set(char path[64], const char *text)
{
	strcpy(path, "/tmp/sa_test_usersXXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	size_t n = strlen(text);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
	ck_assert_int_eq(setenv("NTLM_USER_FILE", path, 1), 0);
}

static inline void tl_user_file_unset(char path[64])
{
	unsetenv("NTLM_USER_FILE");
	if (path[0] != '\0')
		unlink(path);
	path[0] = '\0';
}

/* --- one leg's output memory ------------------------------------------------ */

/* Everything a leg may write, pre-filled with patterns; lives until the
 * leg completes (the async contract).  LEG_OUT_ROOM: the token room
 * (default MAX_TOKEN; a suite may define it before including this). */
#ifndef LEG_OUT_ROOM
#define LEG_OUT_ROOM MAX_TOKEN
#endif
struct leg_out {
	CtxtHandle newh;
	unsigned char out[LEG_OUT_ROOM];
	SecBuffer ob;
	SecBufferDesc od;
	unsigned long attrs;
	TimeStamp ts;
};

static inline void leg_out_reset(struct leg_out *o)
{
	handle_pat(&o->newh);
	memset(o->out, PAT, sizeof o->out);
	o->ob = (SecBuffer){sizeof o->out, SECBUFFER_TOKEN, o->out};
	o->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &o->ob};
	o->attrs = PAT_ATTR;
	o->ts.QuadPart = PAT_TIME;
}

/* NULL when nothing was written, else what was. */
static inline const char *leg_out_changed(const struct leg_out *o)
{
	if (!handle_is_pat(&o->newh))
		return "phNewContext written";
	if (!bytes_are(o->out, sizeof o->out, PAT))
		return "output token bytes written";
	if (o->ob.cbBuffer != sizeof o->out || o->ob.pvBuffer != o->out ||
	    o->ob.BufferType != SECBUFFER_TOKEN)
		return "output SecBuffer changed";
	if (o->attrs != PAT_ATTR)
		return "*pfContextAttr written";
	if (o->ts.QuadPart != PAT_TIME)
		return "*ptsExpiry written";
	return NULL;
}

static inline void assert_untouched(const struct leg_out *o)
{
	const char *what = leg_out_changed(o);
	ck_assert_msg(what == NULL, "outputs of a call that must not run: %s", what);
}

#endif /* SSPIASYNC_TEST_SSPI_TESTLIB_H */
