/*
 * examples/demo.c - `make demo`: N concurrent client/server handshakes
 * (default 10,000) through the asynchronous SSPI family, driven by one epoll
 * loop and one completion queue, with failures injected at every leg and
 * deliberate misuse of stale, forged, zeroed, freed and wrong-kind handles.
 *
 * How it runs.  Every handshake owns two async contexts (client, server),
 * each with a callback (SspiSetAsyncNotifyCallback) and bound to the queue,
 * whose fd is in epoll.  A pool of workers (--threads, default 2) runs the
 * package legs; the callbacks run only inside sspiasync_cq_reap(), on this
 * thread, and each one checks the leg's status and starts the next leg, or
 * the deletes (async, through the same contexts), or ends the handshake.
 * With --threads 0 no thread is started and the loop runs the queued calls
 * itself (sspiasync_run()).  At most INFLIGHT_MAX handshakes are in flight;
 * the rest start as earlier ones end.  Async outputs (token buffers, context
 * handles, attributes) are written at completion, so they live in the
 * handshake's slot, never on a stack frame that returns.
 *
 * Injected failures.  One handshake in FAIL_EVERY carries
 * "fail=K;status=0x..." in its target (test-package options, README): K
 * cycles over every leg 1..legs and the status over four errors, and that
 * handshake must end at leg K with exactly that status.
 *
 * --package NTLM runs the same job with the "NTLM" package: 4 legs (NEGOTIATE,
 * CHALLENGE, AUTHENTICATE, the server's verdict).  The demo writes its own
 * user file (mkstemp; NTLM_USER_FILE names it; removed at exit); the client
 * credential is the file's first user, the server's checks the file.  NTLM
 * takes no options in its target, so the failures are real ones, K cycling
 * over the 4 legs as before: leg 1, a client using the server's inbound-only
 * credential (SEC_E_NO_CREDENTIALS); legs 2 and 3, the other side's token
 * arriving with its signature damaged (SEC_E_INVALID_TOKEN); leg 4, in turn
 * a client with the wrong password, a user the file does not know, and an
 * AUTHENTICATE whose MIC was damaged in transit (SEC_E_LOGON_DENIED).
 *
 * --package Kerberos and --package Negotiate run it with real Kerberos: the
 * demo starts a throw-away realm (test/krb5_realm.h: SSPIASYNC.TEST, a KDC
 * on 127.0.0.1 in a temporary directory, stopped and removed at exit); the
 * client is alice with her password, the server takes the keytab, the
 * target is HTTP/host.test, with mutual authentication: 3 legs (AP-REQ,
 * AP-REP, the client's check of it).  Kerberos fails, K cycling over the 3
 * legs: leg 1, in turn a wrong password, an unknown service
 * (SEC_E_TARGET_UNKNOWN) and an unknown user; legs 2 and 3, the AP-REQ or
 * the AP-REP damaged in transit inside its encrypted part (SEC_E_LOGON_DENIED
 * here; SEC_E_INVALID_TOKEN or SEC_E_MESSAGE_ALTERED are taken too).
 * Negotiate (SPNEGO) chooses Kerberos, except that 1 handshake in
 * FALLBACK_EVERY names HTTP/absent.host.test, a service the realm lacks, and
 * falls back to NTLM (5 legs, against a user file as for NTLM); the server
 * context's package is counted for each.  Its failures, K over 5 legs: leg
 * 1, the server's inbound credential as a client; legs 2 and 3, as for
 * Kerberos; leg 4, a fallback to NTLM for bob, whose NTLM password (the
 * user file's) is not his Kerberos one (a wrong Kerberos password fails
 * leg 1: Negotiate does not retry it with NTLM); leg 5, after a fallback,
 * the server's last token damaged.
 * Where the KDC tools or the package are missing, these exit 2 and say what
 * to install.
 *
 * Misuse.  After every MISUSE_EVERY-th handshake has ended (contexts
 * deleted, async contexts freed), its dead handles, forged and zeroed ones,
 * a credential passed as a context and more are used again, synchronously
 * and asynchronously (enum misuse): each use must be answered
 * SEC_E_INVALID_HANDLE, returned or as the async completion status, and
 * harm nothing.
 *
 * Output.  A header; progress (one line rewritten at most ten times a
 * second on a terminal, a plain line per 10% otherwise); misuse by kind;
 * then, after "--- summary ---", stable "key: value" lines that
 * examples/demo_check.sh (CI) checks.  Latency is per handshake, from its
 * first submission to the completion that decides it (last leg, or the
 * injected failure), CLOCK_MONOTONIC.  --trace sets SSPIASYNC_TRACE=1 before
 * the library starts (every lifecycle step of every security context) and
 * adds the demo's own steps (async contexts, legs, deletes), all on stderr.
 *
 * Exit status: 0 when every handshake ended as designed, every injected
 * failure and every misuse was rejected as expected and nothing is left
 * alive (sspiasync_stats()); 1 otherwise; 2 for a bad command line, or a
 * package that cannot run here.
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "../test/krb5_realm.h"

enum {
	DEFAULT_HANDSHAKES = 10000,
	DEFAULT_LEGS = 4,
	MIN_LEGS = 2,
	MAX_LEGS = 8,
	MAX_HANDSHAKES = 10000000,
	INFLIGHT_MAX = 10000,   /* handshakes in flight at once, at most */
	KRB5_INFLIGHT_MAX = 500, /* ... with Kerberos, Negotiate (48 KB tokens) */
	FAIL_EVERY = 10,        /* 1 handshake in 10 has a failure injected */
	FALLBACK_EVERY = 5,     /* Negotiate: 1 in 5 falls back to NTLM */
	MISUSE_EVERY = 50,      /* a misuse round after every 50th handshake */
	TOKEN_MAX = 512,        /* misuse calls' output room (nothing is written to it) */
	REAP_BATCH = 256,
	STALL_MS = 30000,       /* no completion for this long: the run failed */
	SHOW_UNEXPECTED = 10,   /* unexpected results described on stderr, at most */
};

#define NS_PER_S 1000000000.0
#define PROGRESS_NS UINT64_C(100000000) /* terminal progress: 10 rewrites a second */

/* The errors injected, in turn: none is retryable (sa_fsm_classify). */
static const SECURITY_STATUS injected_status[] = {
	SEC_E_LOGON_DENIED, SEC_E_INTERNAL_ERROR, SEC_E_NO_AUTHENTICATING_AUTHORITY,
	SEC_E_WRONG_PRINCIPAL,
};
#define N_INJECTED (sizeof injected_status / sizeof injected_status[0])

static char test_pkg_name[] = "SspiAsyncTest";
static char ntlm_pkg_name[] = "NTLM";
static char krb5_pkg_name[] = "Kerberos";
static char nego_pkg_name[] = "Negotiate";
static char misuse_target[] = "host/misuse;legs=2";

/* The packages --package takes. */
enum pkg { PKG_TEST, PKG_NTLM, PKG_KRB5, PKG_NEGO, PKG_COUNT };
static char *const pkg_names[PKG_COUNT] = {
	test_pkg_name, ntlm_pkg_name, krb5_pkg_name, nego_pkg_name,
};

/* The demo's NTLM users (--package NTLM): the first is the client's. */
#define NTLM_DOMAIN "DEMO"
#define NTLM_USER "alice"
#define NTLM_PASSWORD "Demo-Pass1"
#define NTLM_LEGS 4
#define NTLM_SIG_DAMAGE 0x20    /* XORed into a token's first byte ('N' of "NTLMSSP") */
#define NTLM_MIC_OFFSET 72      /* the MIC in our AUTHENTICATE ([MS-NLMP] 2.2.1.3) */

/* Kerberos and Negotiate (the realm of test/krb5_realm.h). */
#define KRB5_TARGET "HTTP/host.test"               /* in the realm's keytab */
#define KRB5_ABSENT_TARGET "HTTP/absent.host.test" /* the realm's, no such service */
#define KRB5_LEGS 3             /* AP-REQ, AP-REP, the client's check of it */
#define NEGO_NTLM_LEGS 5        /* NTLM in SPNEGO: 3 messages, 2 mechListMICs, the check */
#define KRB5_DAMAGE_FROM_END 20 /* the byte damaged: inside an AP-REQ's or AP-REP's cipher */
#define KRB5_DAMAGE 0x40
#define KRB5_ISC_REQ (ISC_REQ_MUTUAL_AUTH | ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY)
#define KRB5_ASC_REQ (ASC_REQ_MUTUAL_AUTH | ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY)

/* How a Kerberos handshake fails at leg 1, in turn. */
enum krb5_leg1 { K1_WRONG_PASSWORD, K1_UNKNOWN_SERVICE, K1_UNKNOWN_USER, K1_COUNT };
static const char *const krb5_leg1_name[K1_COUNT] = {
	"wrong password", "unknown service " KRB5_ABSENT_TARGET, "unknown user",
};

static struct tl_realm g_realm; /* Kerberos, Negotiate: stopped at exit */

/* How an NTLM handshake fails at leg 4, in turn. */
enum ntlm_leg4 { N4_WRONG_PASSWORD, N4_UNKNOWN_USER, N4_DAMAGED_MIC, N4_COUNT };
static const char *const ntlm_leg4_name[N4_COUNT] = {
	"wrong password", "unknown user", "AUTHENTICATE with a damaged MIC",
};

/* Every misuse of a round; each must be answered SEC_E_INVALID_HANDLE. */
enum misuse {
	MU_DELETE_DELETED,
	MU_LEG_DELETED,
	MU_QUERY_DELETED,
	MU_DELETE_FORGED,
	MU_DELETE_ZEROED,
	MU_DELETE_CRED,
	MU_DELETE_FLIPPED,
	MU_FREE_CTX_AS_CRED,
	MU_FREE_CRED_TWICE,
	MU_STATUS_FREED_ACTX,
	MU_SUBMIT_FREED_ACTX,
	MU_CALLBACK_FREED_ACTX,
	MU_BIND_FREED_ACTX,
	MU_STATUS_FORGED_ACTX,
	MU_ASYNC_LEG_DELETED,
	MU_ASYNC_ACCEPT_DELETED,
	MU_ASYNC_DELETE_DELETED,
	MU_ASYNC_DELETE_FORGED,
	MU_ASYNC_ACCEPT_ZEROED,
	MU_ASYNC_DELETE_CRED,
	MU_ASYNC_LEG_FREED_CRED,
	MU_COUNT
};

static const char *const misuse_name[MU_COUNT] = {
	[MU_DELETE_DELETED] = "DeleteSecurityContext on a deleted context",
	[MU_LEG_DELETED] = "InitializeSecurityContext on a deleted context",
	[MU_QUERY_DELETED] = "QueryContextAttributes on a deleted context",
	[MU_DELETE_FORGED] = "DeleteSecurityContext on a forged handle",
	[MU_DELETE_ZEROED] = "DeleteSecurityContext on a zeroed handle",
	[MU_DELETE_CRED] = "DeleteSecurityContext on a credential",
	[MU_DELETE_FLIPPED] = "DeleteSecurityContext, live context, 1 bit flipped",
	[MU_FREE_CTX_AS_CRED] = "FreeCredentialsHandle on a live context",
	[MU_FREE_CRED_TWICE] = "FreeCredentialsHandle on a freed credential",
	[MU_STATUS_FREED_ACTX] = "SspiGetAsyncCallStatus on a freed async context",
	[MU_SUBMIT_FREED_ACTX] = "SspiInitializeSecurityContextAsync, freed async ctx",
	[MU_CALLBACK_FREED_ACTX] = "SspiSetAsyncNotifyCallback on a freed async context",
	[MU_BIND_FREED_ACTX] = "sspiasync_cq_bind of a freed async context",
	[MU_STATUS_FORGED_ACTX] = "SspiGetAsyncCallStatus on a forged async context",
	[MU_ASYNC_LEG_DELETED] = "async InitializeSecurityContext, deleted context",
	[MU_ASYNC_ACCEPT_DELETED] = "async AcceptSecurityContext, deleted context",
	[MU_ASYNC_DELETE_DELETED] = "async DeleteSecurityContext, deleted context",
	[MU_ASYNC_DELETE_FORGED] = "async DeleteSecurityContext, forged handle",
	[MU_ASYNC_ACCEPT_ZEROED] = "async AcceptSecurityContext, zeroed handle",
	[MU_ASYNC_DELETE_CRED] = "async DeleteSecurityContext on a credential",
	[MU_ASYNC_LEG_FREED_CRED] = "async first leg with a freed credential",
};

struct demo;

enum outcome { OUT_UNEXPECTED, OUT_COMPLETED, OUT_REJECTED };

/* One handshake in flight: a slot, reused by a later handshake once this
 * one has ended (deletes completed, async contexts freed). */
struct hs {
	struct demo *d;
	struct hs *next_free;       /* on demo.free_slots while unused */
	unsigned id;                /* handshake number, 0-based */
	int legs, fail_at;          /* fail_at: the injected leg, 0 for none */
	SECURITY_STATUS inject;     /* the injected status */
	int variant;                /* NTLM, fail_at 4: enum ntlm_leg4; Kerberos, 1: krb5_leg1 */
	int tamper;                 /* Kerberos, Negotiate: a token damaged in transit */
	int fallback;               /* Negotiate: the target lacks a Kerberos service */
	CredHandle *client_cred;    /* the credential of the client's legs */
	int leg;                    /* the leg in flight (1-based); 0 once deleting */
	enum outcome outcome;       /* how it ended, counted when it finishes */
	int outstanding;            /* calls submitted, not completed */
	int have[2];                /* that side (0 client, 1 server) holds a context */
	SspiAsyncContext *side[2];  /* bound to the queue, callback hs_done */
	CtxtHandle ctx[2];          /* written at completion ... */
	SecBuffer ob[2];            /* ... like these: they outlive every call */
	SecBufferDesc od[2];
	unsigned long attrs[2];
	uint64_t t_start;
	char target[80];
	unsigned char *tok[2];      /* the package's cbMaxToken each (demo.tokens) */
};

/* One async misuse in flight: its output memory, which must stay valid
 * until completion like any async call's (nothing is written to it). */
struct misuse_call {
	struct demo *d;
	enum misuse kind;
	CtxtHandle out;
	SecBuffer ob;
	SecBufferDesc od;
	unsigned long attrs;
	unsigned char tok[TOKEN_MAX];
};

struct demo {
	/* options */
	unsigned n, threads, legs;
	int trace;
	int legs_given;             /* --legs was on the command line */
	enum pkg kind;              /* --package */
	int ntlm;                   /* --package NTLM */
	int krb5;                   /* --package Kerberos or Negotiate: the realm */
	char *pkg;                  /* the package's name */
	unsigned long isc_req, asc_req; /* the legs' fContextReq */
	unsigned long max_token;    /* its cbMaxToken: every slot's token room */
	unsigned char *tokens;      /* 2 * max_token per slot */
	CredHandle bad_cred[2];     /* NTLM, Kerberos, Negotiate: wrong password, unknown user */
	/* the run */
	CredHandle cred[2];         /* 0: outbound (client), 1: inbound (server) */
	struct sspiasync_cq *cq;
	struct hs *slots;
	unsigned nslots;
	struct hs *free_slots;
	unsigned next;              /* the next handshake to start */
	unsigned finished;          /* handshakes ended and cleaned up */
	uint64_t *latency_ns;       /* per handshake */
	uint64_t rng;               /* xorshift64 state: forged handles */
	pthread_t loop_thread;
	int in_reap;                /* the loop thread is inside sspiasync_cq_reap() */
	int stopping;               /* shutdown after a failure: callbacks only clean up */
	/* outcomes */
	unsigned completed, rejected; /* handshakes finished with that outcome */
	unsigned unexpected;          /* events not as designed */
	unsigned expect_completed, expect_rejected;
	unsigned inj_got[MAX_LEGS + 1], inj_expect[MAX_LEGS + 1];
	unsigned mech_got[2], mech_expect[2]; /* Negotiate, completed: Kerberos, NTLM */
	unsigned mu_tried[MU_COUNT], mu_rejected[MU_COUNT];
	unsigned mu_rounds, mu_outstanding;
	unsigned long long records, callbacks, callbacks_elsewhere;
	/* output of the one misuse that must never be queued (a freed async
	 * context): should it be queued anyway, this memory stays valid */
	struct misuse_call sink;
	/* progress */
	int tty;
	uint64_t t0, last_progress;
	unsigned last_tenth;
};

static char g_user_file[64]; /* --package NTLM: our user file, removed at exit */

static void remove_user_file(void)
{
	if (g_user_file[0] != '\0')
		unlink(g_user_file);
	g_user_file[0] = '\0';
}

/* Write the NTLM user file (DOMAIN:user:password lines, gss-ntlmssp's
 * format) and name it in NTLM_USER_FILE.  0, or -1 with a message.
 * Negotiate's fallback: the realm's alice, with her Kerberos password. */
static int ntlm_user_file(const struct demo *d)
{
	static const char ntlm_text[] = "# sspiasync demo users (removed at exit)\n" NTLM_DOMAIN
					":" NTLM_USER ":" NTLM_PASSWORD "\n" NTLM_DOMAIN
					":bob:another-Pass2\n";
	static const char nego_text[] = "# sspiasync demo users (removed at exit)\n" TL_REALM_NAME
					":" TL_REALM_ALICE ":" TL_REALM_ALICE_PW "\n" TL_REALM_NAME
					":" TL_REALM_BOB ":not-" TL_REALM_BOB_PW "\n";
	const char *text = d->kind == PKG_NEGO ? nego_text : ntlm_text;
	size_t len = strlen(text);
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(g_user_file, sizeof g_user_file, "%s/sspiasync-demo-users.XXXXXX",
			 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof g_user_file) /* a TMPDIR too long: /tmp */
		(void)snprintf(g_user_file, sizeof g_user_file, "/tmp/sspiasync-demo-users.XXXXXX");
	int fd = mkstemp(g_user_file);
	if (fd < 0) {
		fprintf(stderr, "demo: cannot create the NTLM user file %s: %s\n", g_user_file,
			strerror(errno));
		g_user_file[0] = '\0';
		return -1;
	}
	atexit(remove_user_file);
	ssize_t w = write(fd, text, len);
	if (close(fd) != 0 || w != (ssize_t)len) {
		fprintf(stderr, "demo: cannot write the NTLM user file %s\n", g_user_file);
		return -1;
	}
	if (setenv("NTLM_USER_FILE", g_user_file, 1) != 0) {
		perror("demo: setenv NTLM_USER_FILE");
		return -1;
	}
	return 0;
}

/* An outbound credential of the package for @user with @password, in
 * NTLM's domain or the realm (the failures of NTLM's leg 4, Kerberos' leg 1). */
static SECURITY_STATUS user_cred(const struct demo *d, const char *user, const char *password,
				 CredHandle *out)
{
	const char *domain = d->krb5 ? TL_REALM_NAME : NTLM_DOMAIN;
	SEC_WINNT_AUTH_IDENTITY_A id = {
		.User = (unsigned char *)user,
		.UserLength = (unsigned long)strlen(user),
		.Domain = (unsigned char *)domain,
		.DomainLength = (unsigned long)strlen(domain),
		.Password = (unsigned char *)password,
		.PasswordLength = (unsigned long)strlen(password),
		.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI,
	};
	return AcquireCredentialsHandleA(NULL, d->pkg, SECPKG_CRED_OUTBOUND, NULL, &id, NULL, NULL,
					 out, NULL);
}

/* The client's credential: alice with her password in the realm; else no
 * identity (the test package's; NTLM's, the user file's first user). */
static SECURITY_STATUS client_cred(const struct demo *d, CredHandle *out)
{
	if (d->krb5)
		return user_cred(d, TL_REALM_ALICE, TL_REALM_ALICE_PW, out);
	return AcquireCredentialsHandleA(NULL, d->pkg, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
					 out, NULL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd64(struct demo *d)
{
	uint64_t x = d->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return d->rng = x;
}

/* Microsoft's name of the statuses this demo meets, else the number. */
static const char *status_str(SECURITY_STATUS st, char *buf, size_t len)
{
	switch (st) {
	case SEC_E_OK: return "SEC_E_OK";
	case SEC_I_CONTINUE_NEEDED: return "SEC_I_CONTINUE_NEEDED";
	case SEC_I_ASYNC_CALL_PENDING: return "SEC_I_ASYNC_CALL_PENDING";
	case SEC_E_INVALID_HANDLE: return "SEC_E_INVALID_HANDLE";
	case SEC_E_INVALID_PARAMETER: return "SEC_E_INVALID_PARAMETER";
	case SEC_E_INVALID_TOKEN: return "SEC_E_INVALID_TOKEN";
	case SEC_E_OUT_OF_SEQUENCE: return "SEC_E_OUT_OF_SEQUENCE";
	case SEC_E_LOGON_DENIED: return "SEC_E_LOGON_DENIED";
	case SEC_E_INTERNAL_ERROR: return "SEC_E_INTERNAL_ERROR";
	case SEC_E_NO_AUTHENTICATING_AUTHORITY: return "SEC_E_NO_AUTHENTICATING_AUTHORITY";
	case SEC_E_WRONG_PRINCIPAL: return "SEC_E_WRONG_PRINCIPAL";
	case SEC_E_INSUFFICIENT_MEMORY: return "SEC_E_INSUFFICIENT_MEMORY";
	case SEC_E_SHUTDOWN_IN_PROGRESS: return "SEC_E_SHUTDOWN_IN_PROGRESS";
	case SEC_E_NO_CREDENTIALS: return "SEC_E_NO_CREDENTIALS";
	case SEC_E_UNSUPPORTED_FUNCTION: return "SEC_E_UNSUPPORTED_FUNCTION";
	case SEC_E_BUFFER_TOO_SMALL: return "SEC_E_BUFFER_TOO_SMALL";
	case SEC_E_SECPKG_NOT_FOUND: return "SEC_E_SECPKG_NOT_FOUND";
	case SEC_E_TARGET_UNKNOWN: return "SEC_E_TARGET_UNKNOWN";
	case SEC_E_MESSAGE_ALTERED: return "SEC_E_MESSAGE_ALTERED";
	}
	snprintf(buf, len, "0x%08" PRIx32, (uint32_t)st);
	return buf;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void trace(const struct demo *d, const char *fmt, ...)
{
	if (!d->trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	flockfile(stderr);
	fputs("demo: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

/* Something did not come out as designed: count it, describe the first few. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void unexpected(struct demo *d, const char *fmt, ...)
{
	if (d->unexpected++ >= SHOW_UNEXPECTED)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("demo: UNEXPECTED: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Every completion's callback: it must run inside reap, on the loop thread. */
static void callback_seen(struct demo *d)
{
	d->callbacks++;
	if (!d->in_reap || !pthread_equal(pthread_self(), d->loop_thread))
		d->callbacks_elsewhere++;
}

/* --- handshakes ------------------------------------------------------------ */

/* The design of a handshake, decided before anything runs. */
struct hs_plan {
	int legs;               /* its legs */
	int fail_at;            /* the injected leg, 0 for none */
	SECURITY_STATUS inject; /* the status that leg must give */
	int variant;            /* NTLM leg 4: enum ntlm_leg4; Kerberos leg 1: krb5_leg1;
				 * Negotiate leg 4: 1 when the target lacks Kerberos */
	int tamper;             /* Kerberos, Negotiate: the token this leg reads is damaged */
	int fallback;           /* Negotiate: its target lacks a Kerberos service */
};

/* The design of handshake @id: which leg fails (0: none), with what
 * (NTLM, Kerberos, Negotiate: the status the leg's real failure must give,
 * and how it is made). */
static void plan(const struct demo *d, unsigned id, struct hs_plan *p)
{
	static const SECURITY_STATUS ntlm_status[NTLM_LEGS + 1] = {
		SEC_E_OK, SEC_E_NO_CREDENTIALS, SEC_E_INVALID_TOKEN,
		SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED,
	};
	static const SECURITY_STATUS nego_status[NEGO_NTLM_LEGS + 1] = {
		SEC_E_OK, SEC_E_NO_CREDENTIALS, SEC_E_LOGON_DENIED,
		SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_INVALID_TOKEN,
	};
	*p = (struct hs_plan){.legs = (int)d->legs, .inject = SEC_E_OK};
	if (d->kind == PKG_NEGO) {
		p->legs = KRB5_LEGS;
		p->fallback = id % FALLBACK_EVERY == FALLBACK_EVERY / 2;
	}
	if (id % FAIL_EVERY != FAIL_EVERY / 2) {
		if (p->fallback)
			p->legs = NEGO_NTLM_LEGS;
		return;
	}
	unsigned k = id / FAIL_EVERY;
	p->fail_at = 1 + (int)(k % d->legs);
	p->inject = injected_status[(k / d->legs) % N_INJECTED];
	switch (d->kind) {
	case PKG_NTLM:
		p->inject = ntlm_status[p->fail_at];
		p->variant = (int)((k / d->legs) % N4_COUNT);
		break;
	case PKG_KRB5:
		p->variant = (int)((k / d->legs) % K1_COUNT);
		p->inject = p->fail_at > 1 ? SEC_E_LOGON_DENIED
			    : p->variant == K1_UNKNOWN_SERVICE ? SEC_E_TARGET_UNKNOWN
							       : SEC_E_LOGON_DENIED;
		p->tamper = p->fail_at > 1;
		break;
	case PKG_NEGO:
		p->inject = nego_status[p->fail_at];
		p->variant = (int)((k / d->legs) % 2);
		p->fallback = p->fail_at >= 4;
		p->legs = p->fail_at >= 4 ? NEGO_NTLM_LEGS : KRB5_LEGS;
		p->tamper = p->fail_at == 2 || p->fail_at == 3 || p->fail_at == 5;
		break;
	default:
		break;
	}
}

static void hs_done(SspiAsyncContext *ac, PVOID data);
static void hs_close(struct hs *h);
static void misuse_round(struct demo *d, struct hs *h);
static void progress(struct demo *d, int last);

/* The handshake has ended and its deletes completed: free its async
 * contexts, run a misuse round on its remains if it is its turn, and give
 * the slot back.  Runs in a callback (or at a failed start). */
static void hs_finish(struct hs *h)
{
	struct demo *d = h->d;
	for (int s = 0; s < 2; s++)
		SspiFreeAsyncContext(h->side[s]); /* NULL (never created) is a no-op */
	trace(d, "handshake %u: async contexts %p, %p freed", h->id, (void *)h->side[0],
	      (void *)h->side[1]);
	d->finished++;
	d->completed += h->outcome == OUT_COMPLETED;
	d->rejected += h->outcome == OUT_REJECTED;
	progress(d, 0);
	if (h->id % MISUSE_EVERY == 0)
		misuse_round(d, h);
	h->next_free = d->free_slots;
	d->free_slots = h;
}

/* Submit leg h->leg on its side, with the other side's last token as input. */
static void hs_submit_leg(struct hs *h)
{
	struct demo *d = h->d;
	int side = (h->leg - 1) % 2;
	SecBuffer ib = {h->ob[!side].cbBuffer, SECBUFFER_TOKEN, h->tok[!side]};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}; /* copied at submission */
	SECURITY_STATUS st;

	/* NTLM's failures in transit: the token this leg reads is damaged. */
	if (d->ntlm && h->leg == h->fail_at) {
		if ((h->leg == 2 || h->leg == 3) && ib.cbBuffer > 0)
			h->tok[!side][0] ^= NTLM_SIG_DAMAGE;
		else if (h->leg == 4 && h->variant == N4_DAMAGED_MIC && ib.cbBuffer > NTLM_MIC_OFFSET)
			h->tok[!side][NTLM_MIC_OFFSET] ^= 1;
	}
	/* Kerberos' and Negotiate's: inside the AP-REQ's or AP-REP's cipher text. */
	if (h->tamper && h->leg == h->fail_at && ib.cbBuffer > KRB5_DAMAGE_FROM_END)
		h->tok[!side][ib.cbBuffer - KRB5_DAMAGE_FROM_END] ^= KRB5_DAMAGE;
	h->ob[side] = (SecBuffer){(unsigned long)d->max_token, SECBUFFER_TOKEN, h->tok[side]};
	h->od[side] = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->ob[side]};
	if (side == 0)
		st = SspiInitializeSecurityContextAsyncA(h->side[0], h->client_cred,
							 h->have[0] ? &h->ctx[0] : NULL, h->target,
							 d->isc_req, 0, SECURITY_NATIVE_DREP,
							 h->leg == 1 ? NULL : &id, 0, &h->ctx[0],
							 &h->od[0], &h->attrs[0], NULL);
	else
		st = SspiAcceptSecurityContextAsync(h->side[1], &d->cred[1],
						    h->have[1] ? &h->ctx[1] : NULL, &id, d->asc_req,
						    SECURITY_NATIVE_DREP, &h->ctx[1], &h->od[1],
						    &h->attrs[1], NULL);
	if (st != SEC_E_OK) {
		char b[16];
		unexpected(d, "handshake %u: leg %d not queued: %s", h->id, h->leg,
			   status_str(st, b, sizeof b));
		hs_close(h);
		return;
	}
	h->outstanding++;
	trace(d, "handshake %u: leg %d (%s) submitted", h->id, h->leg, side ? "server" : "client");
}

/* Start handshake @id in slot @h: two async contexts with callbacks, bound
 * to the queue, and its first leg. */
static void hs_start(struct demo *d, struct hs *h, unsigned id)
{
	size_t slot = (size_t)(h - d->slots);
	memset(h, 0, sizeof *h);
	h->d = d;
	h->id = id;
	h->tok[0] = d->tokens + 2 * slot * d->max_token;
	h->tok[1] = h->tok[0] + d->max_token;
	h->client_cred = &d->cred[0];
	struct hs_plan p;
	plan(d, id, &p);
	h->legs = p.legs;
	h->fail_at = p.fail_at;
	h->inject = p.inject;
	h->variant = p.variant;
	h->tamper = p.tamper;
	h->fallback = p.fallback;
	if (d->krb5) {
		const char *target = h->fallback ? KRB5_ABSENT_TARGET : KRB5_TARGET;
		const char *how = "AP-REQ damaged in transit";
		if (d->kind == PKG_KRB5 && h->fail_at == 1) {
			how = krb5_leg1_name[h->variant];
			if (h->variant == K1_UNKNOWN_SERVICE)
				target = KRB5_ABSENT_TARGET;
			else
				h->client_cred = &d->bad_cred[h->variant == K1_UNKNOWN_USER];
		} else if (h->fail_at == 1) { /* Negotiate */
			how = "client with the server's inbound credential";
			h->client_cred = &d->cred[1];
		} else if (h->fail_at == 4) { /* Negotiate: NTLM (a fallback) denies bob */
			how = "a fallback to NTLM with a password the user file does not hold";
			h->client_cred = &d->bad_cred[0];
		} else if (h->fail_at == 3) {
			how = "AP-REP damaged in transit";
		} else if (h->fail_at == 5) {
			how = "the server's last token damaged in transit";
		}
		snprintf(h->target, sizeof h->target, "%s", target);
		if (h->fail_at != 0)
			trace(d, "handshake %u: fails at leg %d (%s)", id, h->fail_at, how);
	} else if (d->ntlm) {
		/* NTLM takes no options: the target is only the service's name. */
		snprintf(h->target, sizeof h->target, "HTTP/hs%u.demo.test", id);
		if (h->fail_at == 1)
			h->client_cred = &d->cred[1]; /* the server's, inbound only */
		else if (h->fail_at == 4 && h->variant != N4_DAMAGED_MIC)
			h->client_cred = &d->bad_cred[h->variant];
		if (h->fail_at != 0)
			trace(d, "handshake %u: fails at leg %d (%s)", id, h->fail_at,
			      h->fail_at == 1   ? "client with the server's inbound credential"
			      : h->fail_at == 4 ? ntlm_leg4_name[h->variant]
						: "token damaged in transit");
	} else if (h->fail_at != 0) {
		snprintf(h->target, sizeof h->target, "host/hs%u;legs=%d;fail=%d;status=0x%08" PRIX32,
			 id, h->legs, h->fail_at, (uint32_t)h->inject);
	} else {
		snprintf(h->target, sizeof h->target, "host/hs%u;legs=%d", id, h->legs);
	}
	h->t_start = now_ns();
	for (int s = 0; s < 2; s++) {
		h->side[s] = SspiCreateAsyncContext();
		if (h->side[s] == NULL || SspiSetAsyncNotifyCallback(h->side[s], hs_done, h) != SEC_E_OK ||
		    sspiasync_cq_bind(h->side[s], d->cq) != SEC_E_OK) {
			unexpected(d, "handshake %u: cannot set up its async contexts", id);
			hs_finish(h);
			return;
		}
	}
	trace(d, "handshake %u: target \"%s\", async contexts %p (client), %p (server), bound",
	      id, h->target, (void *)h->side[0], (void *)h->side[1]);
	h->leg = 1;
	hs_submit_leg(h);
}

/* The handshake is decided: delete what each side made (async, through the
 * same contexts, which are idle), or finish at once if nothing was made. */
static void hs_close(struct hs *h)
{
	struct demo *d = h->d;
	d->latency_ns[h->id] = now_ns() - h->t_start;
	h->leg = 0;
	for (int s = 0; s < 2; s++) {
		if (!h->have[s])
			continue;
		SECURITY_STATUS st = SspiDeleteSecurityContextAsync(h->side[s], &h->ctx[s]);
		if (st == SEC_E_OK) {
			h->outstanding++;
			trace(d, "handshake %u: %s context delete submitted", h->id,
			      s ? "server" : "client");
			continue;
		}
		char b[16];
		unexpected(d, "handshake %u: delete not queued: %s", h->id, status_str(st, b, sizeof b));
		if (DeleteSecurityContext(&h->ctx[s]) == SEC_E_OK)
			h->have[s] = 0;
	}
	if (h->outstanding == 0)
		hs_finish(h);
}

/* What the leg of @h in flight must complete with. */
static SECURITY_STATUS hs_expected(const struct hs *h)
{
	if (h->leg == h->fail_at)
		return h->inject;
	return h->leg >= h->legs - 1 ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
}

/* Whether @st is what the leg of @h in flight may complete with: a damaged
 * Kerberos token may also be refused as malformed or altered. */
static int hs_status_fits(const struct hs *h, SECURITY_STATUS st)
{
	if (st == hs_expected(h))
		return 1;
	return h->tamper && h->leg == h->fail_at &&
	       (st == SEC_E_LOGON_DENIED || st == SEC_E_INVALID_TOKEN || st == SEC_E_MESSAGE_ALTERED);
}

/* Negotiate, a completed handshake: the mechanism the server context chose
 * must be Kerberos, or NTLM where the target lacks a Kerberos service. */
static void hs_count_mechanism(struct hs *h)
{
	struct demo *d = h->d;
	SecPkgContext_PackageInfoA pi = {NULL};
	const char *want = h->fallback ? ntlm_pkg_name : krb5_pkg_name;
	char b[16];
	SECURITY_STATUS st = QueryContextAttributesA(&h->ctx[1], SECPKG_ATTR_PACKAGE_INFO, &pi);
	if (st != SEC_E_OK) {
		unexpected(d, "handshake %u: QueryContextAttributes(PACKAGE_INFO): %s", h->id,
			   status_str(st, b, sizeof b));
		return;
	}
	if (strcmp(pi.PackageInfo->Name, want) == 0)
		d->mech_got[h->fallback]++;
	else
		unexpected(d, "handshake %u to %s: negotiated %s, expected %s", h->id, h->target,
			   pi.PackageInfo->Name, want);
	trace(d, "handshake %u: negotiated %s", h->id, pi.PackageInfo->Name);
	FreeContextBuffer(pi.PackageInfo);
}

/*
 * The callback of both async contexts of a handshake; runs inside
 * sspiasync_cq_reap() on the loop thread.  The call is DONE: check its
 * status and outputs, make the context idle again, and take the next step.
 */
static void hs_done(SspiAsyncContext *ac, PVOID data)
{
	struct hs *h = data;
	struct demo *d = h->d;
	int side = ac == h->side[1];
	SECURITY_STATUS st = SspiGetAsyncCallStatus(ac);
	char b[16], w[16];

	if (d->stopping)
		return; /* shutdown after a failure delivers what is left */
	callback_seen(d);
	h->outstanding--;
	if (SspiReinitAsyncContext(ac) != STATUS_SUCCESS)
		unexpected(d, "handshake %u: reinit refused inside the callback", h->id);

	if (h->leg == 0) { /* one of the deletes */
		if (st != SEC_E_OK)
			unexpected(d, "handshake %u: delete completed %s", h->id,
				   status_str(st, b, sizeof b));
		h->have[side] = 0;
		trace(d, "handshake %u: %s context deleted", h->id, side ? "server" : "client");
		if (h->outstanding == 0)
			hs_finish(h);
		return;
	}

	SECURITY_STATUS want = hs_expected(h);
	trace(d, "handshake %u: leg %d (%s) completed %s, %lu-byte token, context {%" PRIxPTR
	      ", %" PRIxPTR "}", h->id, h->leg, side ? "server" : "client",
	      status_str(st, b, sizeof b), h->ob[side].cbBuffer, (uintptr_t)h->ctx[side].dwLower,
	      (uintptr_t)h->ctx[side].dwUpper);
	if (st >= 0)
		h->have[side] = 1; /* a leg that succeeded made or kept the context */
	if (side != (h->leg - 1) % 2 || !hs_status_fits(h, st)) {
		unexpected(d, "handshake %u: leg %d completed %s on the %s side, expected %s", h->id,
			   h->leg, status_str(st, b, sizeof b), side ? "server" : "client",
			   status_str(want, w, sizeof w));
		hs_close(h);
		return;
	}
	if (h->leg == h->fail_at) { /* rejected as designed, with the injected status */
		h->outcome = OUT_REJECTED;
		d->inj_got[h->leg]++;
		hs_close(h);
		return;
	}
	/* Every leg but the last sends a token; the last sends none. */
	if ((h->ob[side].cbBuffer != 0) != (h->leg < h->legs)) {
		unexpected(d, "handshake %u: leg %d returned a %lu-byte token", h->id, h->leg,
			   h->ob[side].cbBuffer);
		hs_close(h);
		return;
	}
	if (h->leg == h->legs) {
		if (d->kind == PKG_NEGO)
			hs_count_mechanism(h);
		h->outcome = OUT_COMPLETED;
		hs_close(h);
		return;
	}
	h->leg++;
	hs_submit_leg(h);
}

/* --- misuse ----------------------------------------------------------------- */

/* The answer to one misuse: it must be SEC_E_INVALID_HANDLE. */
static void misuse_answer(struct demo *d, enum misuse kind, SECURITY_STATUS st)
{
	char b[16];
	if (st == SEC_E_INVALID_HANDLE)
		d->mu_rejected[kind]++;
	else
		unexpected(d, "misuse \"%s\" answered %s, not SEC_E_INVALID_HANDLE",
			   misuse_name[kind], status_str(st, b, sizeof b));
	trace(d, "misuse: %s -> %s", misuse_name[kind], status_str(st, b, sizeof b));
}

static void misuse_sync(struct demo *d, enum misuse kind, SECURITY_STATUS st)
{
	d->mu_tried[kind]++;
	misuse_answer(d, kind, st);
}

/* The callback of an async misuse: the completion status is the answer. */
static void misuse_done(SspiAsyncContext *ac, PVOID data)
{
	struct misuse_call *m = data;
	struct demo *d = m->d;
	if (!d->stopping) {
		callback_seen(d);
		misuse_answer(d, m->kind, SspiGetAsyncCallStatus(ac));
		d->mu_outstanding--;
	}
	SspiFreeAsyncContext(ac);
	free(m);
}

/* Handles a misuse round works with. */
struct remains {
	CtxtHandle dead[2];         /* a finished handshake's deleted contexts */
	CtxtHandle forged, zeroed, cred_as_ctx;
	CredHandle freed_cred;
};

/* Submit one async misuse on a new async context bound to the queue.  The
 * call must be queued and complete SEC_E_INVALID_HANDLE (a returned
 * SEC_E_INVALID_HANDLE is a rejection too). */
static void misuse_async(struct demo *d, enum misuse kind, struct remains *r)
{
	unsigned char junk[4] = {'j', 'u', 'n', 'k'};
	SecBuffer ib = {sizeof junk, SECBUFFER_TOKEN, junk};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}; /* copied at submission */
	struct misuse_call *m = calloc(1, sizeof *m);
	SspiAsyncContext *ac = SspiCreateAsyncContext();
	SECURITY_STATUS st = SEC_E_INSUFFICIENT_MEMORY;

	d->mu_tried[kind]++;
	if (m == NULL || ac == NULL || SspiSetAsyncNotifyCallback(ac, misuse_done, m) != SEC_E_OK ||
	    sspiasync_cq_bind(ac, d->cq) != SEC_E_OK)
		goto not_queued;
	m->d = d;
	m->kind = kind;
	m->ob = (SecBuffer){sizeof m->tok, SECBUFFER_TOKEN, m->tok};
	m->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &m->ob};
	switch (kind) {
	case MU_ASYNC_LEG_DELETED:
		st = SspiInitializeSecurityContextAsyncA(ac, &d->cred[0], &r->dead[0], misuse_target,
							 0, 0, 0, &id, 0, &m->out, &m->od,
							 &m->attrs, NULL);
		break;
	case MU_ASYNC_ACCEPT_DELETED:
		st = SspiAcceptSecurityContextAsync(ac, &d->cred[1], &r->dead[1], &id, 0, 0, &m->out,
						    &m->od, &m->attrs, NULL);
		break;
	case MU_ASYNC_DELETE_DELETED:
		st = SspiDeleteSecurityContextAsync(ac, &r->dead[1]);
		break;
	case MU_ASYNC_DELETE_FORGED:
		st = SspiDeleteSecurityContextAsync(ac, &r->forged);
		break;
	case MU_ASYNC_ACCEPT_ZEROED:
		st = SspiAcceptSecurityContextAsync(ac, &d->cred[1], &r->zeroed, &id, 0, 0, &m->out,
						    &m->od, &m->attrs, NULL);
		break;
	case MU_ASYNC_DELETE_CRED:
		st = SspiDeleteSecurityContextAsync(ac, &r->cred_as_ctx);
		break;
	case MU_ASYNC_LEG_FREED_CRED:
		st = SspiInitializeSecurityContextAsyncA(ac, &r->freed_cred, NULL, misuse_target, 0,
							 0, 0, NULL, 0, &m->out, &m->od,
							 &m->attrs, NULL);
		break;
	default:
		break;
	}
	if (st == SEC_E_OK) {
		d->mu_outstanding++;
		trace(d, "misuse: %s submitted on async context %p", misuse_name[kind], (void *)ac);
		return;
	}
not_queued:
	misuse_answer(d, kind, st);
	SspiFreeAsyncContext(ac);
	free(m);
}

/*
 * One round of misuse on the remains of handshake @h, which has ended: its
 * contexts are deleted and its async contexts freed.  Runs in a callback,
 * inside reap, where synchronous calls are allowed.  Besides the dead
 * handles it makes a live context of its own (a first leg), misuses it, and
 * checks that it was not harmed.
 */
static void misuse_round(struct demo *d, struct hs *h)
{
	struct remains r = {.dead = {h->ctx[0], h->ctx[1]}, .cred_as_ctx = d->cred[0]};
	SspiAsyncContext *freed_actx = h->side[0];
	SspiAsyncContext *forged_actx = (SspiAsyncContext *)(uintptr_t)rnd64(d);
	/* Output room: the slot's first token (the handshake has ended). */
	SecBuffer ob = {(unsigned long)d->max_token, SECBUFFER_TOKEN, h->tok[0]};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	char *live_target = d->krb5 ? (char *)KRB5_TARGET : misuse_target;
	unsigned long attrs;
	CtxtHandle live, scratch;
	SecPkgContext_Sizes sizes;

	trace(d, "misuse round %u on the remains of handshake %u", d->mu_rounds, h->id);
	d->mu_rounds++;
	r.forged.dwLower = (ULONG_PTR)rnd64(d);
	r.forged.dwUpper = (ULONG_PTR)rnd64(d);

	/* A credential acquired and freed: its handle is stale. */
	if (client_cred(d, &r.freed_cred) != SEC_E_OK ||
	    FreeCredentialsHandle(&r.freed_cred) != SEC_E_OK)
		unexpected(d, "misuse round: cannot acquire and free a credential");

	/* Synchronous uses of dead and forged handles. */
	misuse_sync(d, MU_DELETE_DELETED, DeleteSecurityContext(&r.dead[0]));
	ob.cbBuffer = (unsigned long)d->max_token;
	misuse_sync(d, MU_LEG_DELETED,
		    InitializeSecurityContextA(&d->cred[0], &r.dead[0], misuse_target, 0, 0, 0,
					       NULL, 0, &scratch, &od, &attrs, NULL));
	misuse_sync(d, MU_QUERY_DELETED,
		    QueryContextAttributesA(&r.dead[1], SECPKG_ATTR_SIZES, &sizes));
	misuse_sync(d, MU_DELETE_FORGED, DeleteSecurityContext(&r.forged));
	misuse_sync(d, MU_DELETE_ZEROED, DeleteSecurityContext(&r.zeroed));
	misuse_sync(d, MU_DELETE_CRED, DeleteSecurityContext(&r.cred_as_ctx));
	misuse_sync(d, MU_FREE_CRED_TWICE, FreeCredentialsHandle(&r.freed_cred));

	/* A live context, misused, must come through unharmed (its first leg
	 * completes the test package's 2-leg handshake, is NTLM's NEGOTIATE, or
	 * an AP-REQ to the realm's service). */
	ob.cbBuffer = (unsigned long)d->max_token;
	SECURITY_STATUS first = InitializeSecurityContextA(&d->cred[0], NULL, live_target, 0, 0, 0,
							   NULL, 0, &live, &od, &attrs, NULL);
	if (first != SEC_E_OK && first != SEC_I_CONTINUE_NEEDED) {
		unexpected(d, "misuse round: cannot make a live context");
		live = r.zeroed;
	}
	CtxtHandle flipped = live;
	flipped.dwUpper ^= (ULONG_PTR)1 << (rnd64(d) % 64);
	misuse_sync(d, MU_DELETE_FLIPPED, DeleteSecurityContext(&flipped));
	misuse_sync(d, MU_FREE_CTX_AS_CRED, FreeCredentialsHandle(&live));
	if (QueryContextAttributesA(&live, SECPKG_ATTR_SIZES, &sizes) != SEC_E_OK ||
	    DeleteSecurityContext(&live) != SEC_E_OK)
		unexpected(d, "misuse round: the live context was harmed by the misuse");

	/* The handshake's freed async context, and a forged one. */
	misuse_sync(d, MU_STATUS_FREED_ACTX, SspiGetAsyncCallStatus(freed_actx));
	d->sink.ob = (SecBuffer){sizeof d->sink.tok, SECBUFFER_TOKEN, d->sink.tok};
	d->sink.od = (SecBufferDesc){SECBUFFER_VERSION, 1, &d->sink.ob};
	misuse_sync(d, MU_SUBMIT_FREED_ACTX,
		    SspiInitializeSecurityContextAsyncA(freed_actx, &d->cred[0], NULL, misuse_target,
							0, 0, 0, NULL, 0, &d->sink.out,
							&d->sink.od, &d->sink.attrs, NULL));
	misuse_sync(d, MU_CALLBACK_FREED_ACTX, SspiSetAsyncNotifyCallback(freed_actx, misuse_done, NULL));
	misuse_sync(d, MU_BIND_FREED_ACTX, sspiasync_cq_bind(freed_actx, d->cq));
	misuse_sync(d, MU_STATUS_FORGED_ACTX, SspiGetAsyncCallStatus(forged_actx));

	/* Asynchronous uses: queued, then completed SEC_E_INVALID_HANDLE. */
	for (int k = MU_ASYNC_LEG_DELETED; k <= MU_ASYNC_LEG_FREED_CRED; k++)
		misuse_async(d, (enum misuse)k, &r);
}

/* --- the loop ---------------------------------------------------------------- */

/* Start handshakes in free slots until all are started. */
static void refill(struct demo *d)
{
	while (d->free_slots != NULL && d->next < d->n) {
		struct hs *h = d->free_slots;
		d->free_slots = h->next_free;
		hs_start(d, h, d->next++);
	}
}

static void progress(struct demo *d, int last)
{
	if (d->tty) {
		uint64_t t = now_ns();
		if (!last && t - d->last_progress < PROGRESS_NS)
			return;
		d->last_progress = t;
		double secs = (double)(t - d->t0) / NS_PER_S;
		printf("\rhandshakes %u/%u (%3u%%)  completed %u  rejected %u  %7.0f/s", d->finished,
		       d->n, (unsigned)((uint64_t)d->finished * 100 / d->n), d->completed,
		       d->rejected, secs > 0 ? d->finished / secs : 0.0);
		if (last)
			putchar('\n');
		fflush(stdout);
		return;
	}
	unsigned tenth = (unsigned)((uint64_t)d->finished * 10 / d->n);
	if (tenth > d->last_tenth) {
		d->last_tenth = tenth;
		printf("progress: %u of %u handshakes finished (%u%%)\n", d->finished, d->n,
		       (unsigned)((uint64_t)d->finished * 100 / d->n));
		fflush(stdout);
	}
}

/*
 * Run every handshake: the queue's fd in (level-triggered) epoll; each wake
 * drains the queue (in no-thread mode, after running what is queued), and
 * the callbacks do the rest.  Returns 0, or -1 if the loop stalled or reap
 * failed.
 */
static int run_loop(struct demo *d, int ep)
{
	struct sspiasync_completion out[REAP_BATCH];
	refill(d);
	while (d->finished < d->n || d->mu_outstanding > 0) {
		struct epoll_event ev;
		int r = epoll_wait(ep, &ev, 1, STALL_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1) {
			fprintf(stderr, "demo: no completion for %d s: %u of %u handshakes finished, %u "
				"misuse calls pending\n", STALL_MS / 1000, d->finished, d->n,
				d->mu_outstanding);
			return -1;
		}
		unsigned ran;
		int k;
		do {
			ran = d->threads == 0 ? sspiasync_run(0) : 0;
			d->in_reap = 1;
			k = sspiasync_cq_reap(d->cq, out, REAP_BATCH); /* the callbacks run here */
			d->in_reap = 0;
			if (k < 0) {
				char b[16];
				fprintf(stderr, "demo: sspiasync_cq_reap failed: %s\n",
					status_str(k, b, sizeof b));
				return -1;
			}
			d->records += (unsigned)k;
		} while (k == REAP_BATCH || ran != 0);
		refill(d);
	}
	return 0;
}

/* --- command line and summary --------------------------------------------- */

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--handshakes N] [--threads N] [--legs N] [--package NAME] [--trace]\n"
		"          [--help]\n"
		"Runs N concurrent client/server handshakes of the test package (or NTLM,\n"
		"Kerberos, Negotiate)\n"
		"through the async SSPI API, one completion queue and an epoll loop, with\n"
		"failures injected at every leg and misuse of stale, forged and freed handles;\n"
		"prints progress, then a summary.\n"
		"  --handshakes N  handshakes to run, 1..%d (default %d; at most %d in flight)\n"
		"  --threads N     worker threads, 0..%d (default %d; 0: no threads, the loop\n"
		"                  runs the calls with sspiasync_run())\n"
		"  --legs N        legs per handshake, %d..%d (default %d; NTLM: 4 only;\n"
		"                  Kerberos: 3 only; not with Negotiate: 3, or 5 with NTLM)\n"
		"  --package NAME  SspiAsyncTest (default); NTLM: real NTLMv2 handshakes\n"
		"                  against a user file the demo writes (NTLM_USER_FILE), with\n"
		"                  real failures at every leg (wrong credential, damaged\n"
		"                  tokens, wrong password, unknown user); Kerberos: real\n"
		"                  Kerberos in a throw-away realm the demo runs (a KDC on\n"
		"                  127.0.0.1; wrong password, unknown service, damaged\n"
		"                  AP-REQ and AP-REP); Negotiate: the same in SPNEGO, some\n"
		"                  falling back to NTLM (needs krb5-kdc krb5-admin-server\n"
		"                  krb5-user, and a build with libkrb5-dev)\n"
		"  --trace         print the lifecycle of every context to stderr\n"
		"                  (SSPIASYNC_TRACE=1, and the demo's own steps)\n"
		"  --help          print this and exit\n"
		"Exit status: 0 everything came out as designed, 1 something did not,\n"
		"2 bad command line, or a package that cannot run here.\n",
		prog, MAX_HANDSHAKES, DEFAULT_HANDSHAKES, INFLIGHT_MAX, SSPIASYNC_MAX_THREADS,
		SSPIASYNC_DEFAULT_THREADS, MIN_LEGS, MAX_LEGS, DEFAULT_LEGS);
}

/* Parse @s, the value of option @opt, as a decimal in @lo..@hi. */
static int parse_num(const char *opt, const char *s, unsigned long lo, unsigned long hi,
		     unsigned *out)
{
	if (s == NULL || *s == '\0') {
		fprintf(stderr, "demo: %s needs a number\n", opt);
		return -1;
	}
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0') {
		fprintf(stderr, "demo: %s: \"%s\" is not a number\n", opt, s);
		return -1;
	}
	if (errno == ERANGE || v < lo || v > hi) {
		fprintf(stderr, "demo: %s must be %lu..%lu, not %s\n", opt, lo, hi, s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Returns 0 to run, 1 after --help, -1 for a bad command line. */
static int parse_args(struct demo *d, int argc, char **argv)
{
	const struct {
		const char *name;
		unsigned long lo, hi;
		unsigned *dst;
	} num_opts[] = {
		{"--handshakes", 1, MAX_HANDSHAKES, &d->n},
		{"--threads", 0, SSPIASYNC_MAX_THREADS, &d->threads},
		{"--legs", MIN_LEGS, MAX_LEGS, &d->legs},
	};
	const size_t nopts = sizeof num_opts / sizeof num_opts[0];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout, argv[0]);
			return 1;
		}
		if (strcmp(a, "--trace") == 0) {
			d->trace = 1;
			continue;
		}
		if (strncmp(a, "--package", 9) == 0 && (a[9] == '\0' || a[9] == '=')) {
			const char *val = a[9] == '=' ? a + 10 : i + 1 < argc ? argv[++i] : NULL;
			int k = 0;
			while (k < PKG_COUNT && (val == NULL || strcasecmp(val, pkg_names[k]) != 0))
				k++;
			if (k == PKG_COUNT) {
				fprintf(stderr, "demo: --package must be %s, %s, %s or %s%s%s\n",
					test_pkg_name, ntlm_pkg_name, krb5_pkg_name, nego_pkg_name,
					val != NULL ? ", not " : "", val != NULL ? val : "");
				return -1;
			}
			d->kind = (enum pkg)k;
			d->pkg = pkg_names[k];
			d->ntlm = d->kind == PKG_NTLM;
			d->krb5 = d->kind == PKG_KRB5 || d->kind == PKG_NEGO;
			continue;
		}
		size_t j;
		for (j = 0; j < nopts; j++) {
			size_t len = strlen(num_opts[j].name);
			if (strncmp(a, num_opts[j].name, len) != 0 || (a[len] != '\0' && a[len] != '='))
				continue;
			/* "--opt N" or "--opt=N" */
			const char *val = a[len] == '=' ? a + len + 1 : i + 1 < argc ? argv[++i] : NULL;
			if (parse_num(num_opts[j].name, val, num_opts[j].lo, num_opts[j].hi,
				      num_opts[j].dst) != 0)
				return -1;
			d->legs_given |= num_opts[j].dst == &d->legs;
			break;
		}
		if (j == nopts) {
			if (a[0] == '-')
				fprintf(stderr, "demo: unknown option \"%s\"\n", a);
			else
				fprintf(stderr, "demo: unexpected argument \"%s\"\n", a);
			return -1;
		}
	}
	if (d->ntlm) {
		if (d->legs_given && d->legs != NTLM_LEGS) {
			fprintf(stderr, "demo: an NTLM handshake has %d legs, not %u\n", NTLM_LEGS,
				d->legs);
			return -1;
		}
		d->legs = NTLM_LEGS;
	}
	if (d->kind == PKG_KRB5) {
		if (d->legs_given && d->legs != KRB5_LEGS) {
			fprintf(stderr, "demo: a Kerberos handshake has %d legs, not %u\n", KRB5_LEGS,
				d->legs);
			return -1;
		}
		d->legs = KRB5_LEGS;
	}
	if (d->kind == PKG_NEGO) {
		if (d->legs_given) {
			fprintf(stderr, "demo: a Negotiate handshake has %d legs (Kerberos) or %d "
				"(NTLM): --legs does not apply\n", KRB5_LEGS, NEGO_NTLM_LEGS);
			return -1;
		}
		d->legs = NEGO_NTLM_LEGS; /* failures are injected at each of 5 */
	}
	return 0;
}

/*
 * Kerberos and Negotiate need the package in this build and the MIT KDC
 * tools for the demo's realm.  Returns 0, or -1 with a message naming what
 * to install.
 */
static int krb5_can_run(const struct demo *d)
{
#if defined(SA_HAVE_KRB5) && defined(SA_HAVE_NEGOTIATE)
	int built = 1;
#elif defined(SA_HAVE_KRB5)
	int built = d->kind == PKG_KRB5;
#else
	int built = 0;
#endif
	if (built && tl_realm_available())
		return 0;
	fprintf(stderr, "demo: --package %s is not available here: %s\n", d->pkg,
		built ? "the MIT KDC tools (krb5kdc, kdb5_util, kadmin.local, kinit) are not "
			"installed, and the demo runs its own realm with them"
		      : d->kind == PKG_KRB5 ? "this build has no \"Kerberos\" package (libkrb5-dev "
					      "was missing when it was built)"
					    : "this build has no \"Negotiate\" package with Kerberos "
					      "(libkrb5-dev was missing when it was built)");
	fprintf(stderr, "Install them (Debian): apt-get install -y krb5-kdc krb5-admin-server "
		"krb5-user libkrb5-dev, then rebuild (make clean; make demo).\n");
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile @p of the sorted @v[0..@n-1], in milliseconds. */
static double percentile_ms(const uint64_t *v, unsigned n, unsigned p)
{
	uint64_t rank = ((uint64_t)p * n + 99) / 100;
	return (double)v[rank > 0 ? rank - 1 : 0] / 1e6;
}

int main(int argc, char **argv)
{
	static struct demo demo; /* callbacks reach it through their data */
	struct demo *d = &demo;
	d->n = DEFAULT_HANDSHAKES;
	d->threads = SSPIASYNC_DEFAULT_THREADS;
	d->legs = DEFAULT_LEGS;
	d->pkg = test_pkg_name;
	int pa = parse_args(d, argc, argv);
	if (pa != 0) {
		if (pa < 0)
			fprintf(stderr, "Try \"%s --help\" for the options.\n", argv[0]);
		return pa < 0 ? 2 : 0;
	}
	/* The realm first: its tools run, and it sets KRB5_*, before any
	 * thread starts (it is stopped at exit, even on a signal). */
	if (d->krb5) {
		if (krb5_can_run(d) != 0)
			return 2;
		if (tl_realm_start(&g_realm) != 0) {
			fprintf(stderr, "demo: the realm %s did not start\n", TL_REALM_NAME);
			return 1;
		}
		d->isc_req = KRB5_ISC_REQ;
		d->asc_req = KRB5_ASC_REQ;
	}

	/* The library reads SSPIASYNC_TRACE when it initialises, just below. */
	if (d->trace && setenv("SSPIASYNC_TRACE", "1", 1) != 0) {
		perror("demo: setenv");
		return 1;
	}
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = d->threads;
	SECURITY_STATUS st = sspiasync_init(&cfg);
	char b[16];
	if (st != SEC_E_OK) {
		fprintf(stderr, "demo: sspiasync_init: %s\n", status_str(st, b, sizeof b));
		tl_realm_stop(&g_realm);
		return 1;
	}
	int ep = -1, ok = 1;
	d->loop_thread = pthread_self();
	d->rng = UINT64_C(0x9E3779B97F4A7C15); /* fixed: every run misuses the same way */
	d->tty = isatty(STDOUT_FILENO) && !d->trace; /* trace lines would break a rewritten line */
	unsigned inflight = d->krb5 ? KRB5_INFLIGHT_MAX : INFLIGHT_MAX;
	d->nslots = d->n < inflight ? d->n : inflight;
	d->slots = calloc(d->nslots, sizeof *d->slots);
	d->latency_ns = calloc(d->n, sizeof *d->latency_ns);
	if (d->slots == NULL || d->latency_ns == NULL) {
		fprintf(stderr, "demo: out of memory for %u handshakes\n", d->n);
		ok = 0;
		goto out;
	}
	if ((d->ntlm || d->kind == PKG_NEGO) && ntlm_user_file(d) != 0) {
		ok = 0;
		goto out;
	}
	/* Token room: the package's largest token, for every slot. */
	PSecPkgInfoA info = NULL;
	if ((st = QuerySecurityPackageInfoA(d->pkg, &info)) != SEC_E_OK) {
		fprintf(stderr, "demo: QuerySecurityPackageInfo(%s): %s\n", d->pkg,
			status_str(st, b, sizeof b));
		ok = 0;
		goto out;
	}
	d->max_token = info->cbMaxToken;
	FreeContextBuffer(info);
	d->tokens = calloc((size_t)d->nslots * 2, d->max_token);
	if (d->tokens == NULL) {
		fprintf(stderr, "demo: out of memory for %u handshakes' tokens\n", d->nslots);
		ok = 0;
		goto out;
	}
	/* NTLM: the client is the user file's first user (no identity given);
	 * Kerberos, Negotiate: alice's password; the server: the keytab. */
	int bad = d->ntlm || d->krb5;
	/* Negotiate's: bob, whose Kerberos password is right and whose NTLM
	 * one (the user file's) is not, so only a fallback is refused. */
	const char *bad_user = d->kind == PKG_NEGO ? TL_REALM_BOB
			       : d->krb5	   ? TL_REALM_ALICE
						   : NTLM_USER;
	const char *bad_pw = d->kind == PKG_NEGO ? TL_REALM_BOB_PW
			     : d->krb5		 ? "not-" TL_REALM_ALICE_PW
						 : "not-" NTLM_PASSWORD;
	const char *good_pw = d->krb5 ? TL_REALM_ALICE_PW : NTLM_PASSWORD;
	if ((st = client_cred(d, &d->cred[0])) != SEC_E_OK ||
	    (st = AcquireCredentialsHandleA(NULL, d->pkg, SECPKG_CRED_INBOUND, NULL, NULL, NULL,
					    NULL, &d->cred[1], NULL)) != SEC_E_OK ||
	    (bad && (st = user_cred(d, bad_user, bad_pw, &d->bad_cred[0])) != SEC_E_OK) ||
	    (bad && (st = user_cred(d, "mallory", good_pw, &d->bad_cred[1])) != SEC_E_OK) ||
	    (st = sspiasync_cq_create(&d->cq)) != SEC_E_OK) {
		fprintf(stderr, "demo: cannot set up credentials and queue: %s\n",
			status_str(st, b, sizeof b));
		ok = 0;
		goto out;
	}
	struct epoll_event ev = {.events = EPOLLIN};
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sspiasync_cq_fd(d->cq), &ev) != 0) {
		perror("demo: epoll");
		ok = 0;
		goto out;
	}

	/* What must happen, decided before anything runs. */
	for (unsigned i = 0; i < d->n; i++) {
		struct hs_plan p;
		plan(d, i, &p);
		d->expect_completed += p.fail_at == 0;
		d->expect_rejected += p.fail_at != 0;
		d->inj_expect[p.fail_at] += p.fail_at != 0;
		d->mech_expect[p.fallback] += p.fail_at == 0;
	}
	unsigned mu_expected = (d->n + MISUSE_EVERY - 1) / MISUSE_EVERY * MU_COUNT;

	char legs_text[32];
	snprintf(legs_text, sizeof legs_text, d->kind == PKG_NEGO ? "%d (NTLM: %d)" : "%u",
		 d->kind == PKG_NEGO ? KRB5_LEGS : (int)d->legs, NEGO_NTLM_LEGS);
	printf("sspiasync demo: %u handshakes of %s legs (package %s), %u worker thread%s%s, "
	       "up to %u in flight\n", d->n, legs_text, d->pkg, d->threads,
	       d->threads == 1 ? "" : "s", d->threads == 0 ? " (no-thread mode)" : "", d->nslots);
	if (d->krb5)
		printf("  realm %s: KDC pid %ld on 127.0.0.1:%d, in %s\n"
		       "  (started in %.0f ms; stopped and removed at exit); alice -> %s, the\n"
		       "  server's key from the keytab\n",
		       TL_REALM_NAME, (long)g_realm.kdc_pid, g_realm.port, g_realm.dir,
		       g_realm.start_ms, KRB5_TARGET);
	if (d->kind == PKG_KRB5)
		printf("  failures are real: wrong password, unknown service, unknown user, "
		       "damaged AP-REQ, damaged AP-REP\n");
	if (d->kind == PKG_NEGO)
		printf("  NTLM users from %s (NTLM_USER_FILE, written by the demo); 1 handshake in %d\n"
		       "  names %s and falls back to NTLM; failures are real: server credential\n"
		       "  as client, damaged AP-REQ and AP-REP, wrong password, damaged last token\n",
		       g_user_file, FALLBACK_EVERY, KRB5_ABSENT_TARGET);
	if (d->ntlm)
		printf("  NTLM users from %s (NTLM_USER_FILE, written by the demo); failures are real:\n"
		       "  server credential as client, damaged tokens, wrong password, unknown user, "
		       "damaged MIC\n", g_user_file);
	printf("  async calls with callbacks, one completion queue in epoll; callbacks run in "
	       "sspiasync_cq_reap()\n");
	printf("  injected: 1 handshake in %d fails at leg 1..%u (%u in all); misuse: %d stale, "
	       "forged, freed\n  and wrong-kind uses after every %dth handshake (%u in all)\n",
	       FAIL_EVERY, d->legs, d->expect_rejected, MU_COUNT, MISUSE_EVERY, mu_expected);
	fflush(stdout);

	for (unsigned i = d->nslots; i-- > 0;) { /* slot 0 first */
		d->slots[i].next_free = d->free_slots;
		d->free_slots = &d->slots[i];
	}
	d->t0 = d->last_progress = now_ns();
	int loop_rc = run_loop(d, ep);
	uint64_t t1 = now_ns();
	progress(d, 1);
	if (loop_rc != 0) {
		ok = 0;
		d->stopping = 1; /* shutdown delivers what is left; callbacks only clean up */
	}

	/* Our own teardown first: after it nothing may be left alive. */
	close(ep);
	ep = -1;
	if ((st = sspiasync_cq_destroy(d->cq)) != SEC_E_OK ||
	    (st = FreeCredentialsHandle(&d->cred[0])) != SEC_E_OK ||
	    (st = FreeCredentialsHandle(&d->cred[1])) != SEC_E_OK ||
	    (bad && (st = FreeCredentialsHandle(&d->bad_cred[0])) != SEC_E_OK) ||
	    (bad && (st = FreeCredentialsHandle(&d->bad_cred[1])) != SEC_E_OK)) {
		if (loop_rc == 0)
			fprintf(stderr, "demo: teardown: %s\n", status_str(st, b, sizeof b));
		ok = 0;
	}
	/* A worker lets go of what a call held (its context and credential
	 * references) just after it published the call's completion, and
	 * pending_calls counts the call until then: wait for it (5 s at most),
	 * then nothing may be live. */
	struct sspiasync_statistics stats;
	sspiasync_stats(&stats);
	for (uint64_t until = now_ns() + 5000000000u; stats.pending_calls != 0 && now_ns() < until;) {
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
		sspiasync_stats(&stats);
	}
	if ((st = sspiasync_shutdown()) != SEC_E_OK) {
		fprintf(stderr, "demo: sspiasync_shutdown: %s\n", status_str(st, b, sizeof b));
		ok = 0;
	}
	tl_realm_stop(&g_realm); /* no thread is left to use it */

	/* Misuse by kind, for people. */
	unsigned mu_tried = 0, mu_rejected = 0;
	printf("misuse, each answered SEC_E_INVALID_HANDLE (rejected of tried):\n");
	for (int k = 0; k < MU_COUNT; k++) {
		printf("  %5u of %-5u %s\n", d->mu_rejected[k], d->mu_tried[k], misuse_name[k]);
		mu_tried += d->mu_tried[k];
		mu_rejected += d->mu_rejected[k];
	}

	double secs = (double)(t1 - d->t0) / NS_PER_S;
	qsort(d->latency_ns, d->n, sizeof *d->latency_ns, cmp_u64);
	int legs_ok = 1;
	for (unsigned l = 1; l <= d->legs; l++)
		legs_ok &= d->inj_got[l] == d->inj_expect[l];
	ok &= loop_rc == 0 && d->finished == d->n && d->unexpected == 0 &&
	      d->completed == d->expect_completed && d->rejected == d->expect_rejected && legs_ok &&
	      mu_tried == mu_expected && mu_rejected == mu_expected &&
	      d->callbacks == d->records && d->callbacks_elsewhere == 0 && stats.contexts == 0 &&
	      stats.credentials == 0 && stats.async_contexts == 0 && stats.pending_calls == 0 &&
	      (d->kind != PKG_NEGO || (d->mech_got[0] == d->mech_expect[0] &&
				       d->mech_got[1] == d->mech_expect[1]));

	/* The summary: stable keys, checked by examples/demo_check.sh. */
	printf("--- summary ---\n");
	printf("package: %s\n", d->pkg);
	printf("handshakes: %u\n", d->n);
	printf("legs: %u\n", d->legs);
	printf("worker threads: %u\n", d->threads);
	printf("in flight at most: %u\n", d->nslots);
	printf("handshakes completed: %u of %u\n", d->completed, d->expect_completed);
	printf("handshakes rejected as injected: %u of %u\n", d->rejected, d->expect_rejected);
	for (unsigned l = 1; l <= d->legs; l++)
		printf("injected at leg %u: %u of %u\n", l, d->inj_got[l], d->inj_expect[l]);
	if (d->kind == PKG_NEGO) {
		printf("negotiated Kerberos: %u of %u\n", d->mech_got[0], d->mech_expect[0]);
		printf("negotiated NTLM: %u of %u\n", d->mech_got[1], d->mech_expect[1]);
	}
	printf("misuse rejected: %u of %u\n", mu_rejected, mu_expected);
	printf("unexpected results: %u\n", d->unexpected);
	printf("callbacks in reap on the loop thread: %llu of %llu\n",
	       d->callbacks - d->callbacks_elsewhere, d->records);
	printf("contexts live at exit: %llu\n", (unsigned long long)stats.contexts);
	printf("credentials live at exit: %llu\n", (unsigned long long)stats.credentials);
	printf("async contexts live at exit: %llu\n", (unsigned long long)stats.async_contexts);
	printf("pending calls at exit: %llu\n", (unsigned long long)stats.pending_calls);
	printf("elapsed: %.3f s\n", secs);
	printf("throughput: %.0f handshakes/s\n", secs > 0 ? d->n / secs : 0.0);
	printf("latency p50: %.3f ms\n", percentile_ms(d->latency_ns, d->n, 50));
	printf("latency p99: %.3f ms\n", percentile_ms(d->latency_ns, d->n, 99));
	printf("result: %s\n", ok ? "PASS" : "FAIL");
	free(d->slots);
	free(d->latency_ns);
	free(d->tokens);
	return ok ? 0 : 1;

out:
	if (ep >= 0)
		close(ep);
	sspiasync_shutdown();
	tl_realm_stop(&g_realm);
	free(d->slots);
	free(d->latency_ns);
	free(d->tokens);
	return 1;
}
