/*
 * fuzz/api_fuzz.c - API-sequence fuzzer for sspiasync (clang libFuzzer).
 *
 * Each input is a program: a config header, then ops.  Every op reads its
 * opcode and arguments from the input and calls one function of sspi.h or
 * sspiasync.h (sync and async, init/shutdown, run/reap, completion queues)
 * on a small pool of handle slots (credentials, security contexts, async
 * contexts, completion queues) whose values are live, deleted, zeroed,
 * SecInvalidateHandle'd, forged, wrong-kind, bit-flipped or copied.  The
 * library runs in no-thread mode (threads = 0; SSPIASYNC_THREADS=0 for the
 * implicit initialisations), so every run is deterministic.
 *
 * THE SHADOW MODEL.  The harness keeps every object the library issued
 * (value -> state).  A handle argument is classified by its VALUE: it is
 * live exactly when it equals the value of an object the shadow holds live
 * (so a forged or bit-flipped value that happens to equal a live one is
 * live, and anything else is stale, whatever way it was made).  Per call it
 * asserts that a stale use got SEC_E_INVALID_HANDLE (for Sspi*Async: queued
 * with SEC_E_OK, completing SEC_E_INVALID_HANDLE) and a live use did not,
 * plus the exact statuses of the async-context state machine, the
 * completion queues, FreeContextBuffer, the pending-call bound and the table
 * limits, "outputs untouched on failure", the uniqueness of issued values,
 * where callbacks run, and exact statistics whenever the library is quiet
 * (after sspiasync_run(0)).  After each input: everything is freed/deleted
 * (live and stale values alike, each answer checked), sspiasync_shutdown(),
 * then sspiasync_stats() must say 0 for everything and the library's
 * allocator 0 live blocks.  A violated property prints the op, the call and
 * the statuses, then abort()s.
 *
 * Where the model cannot be exact (a job that may or may not have run, the
 * order of completions inside one sspiasync_run), it asserts the weaker
 * property (a set of allowed statuses, bounds) instead of skipping.
 *
 * KNOWN LIBRARY ISSUES (see fuzz/README.md and fuzz/repro/): each is
 * tolerated and counted by default so the fuzzer can go on; FUZZ_STRICT=1
 * makes each one abort.  FUZZ_TRACE=1 prints every op and status.
 *
 * Build: fuzz/run.sh.  Seed corpus: clang -DFUZZ_GEN (fuzz/make_seeds.sh).
 */
#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "util/alloc.h"

#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------ */
/* Sizes                                                                     */
/* ------------------------------------------------------------------------ */

#define NCRED 8   /* credential slots */
#define NCTX 8    /* security-context slots */
#define NAC 8     /* async-context slots */
#define NCQ 3     /* completion-queue slots */
#define NTOK 6    /* token pool */
#define NMSG 3    /* message sets */
#define MAXOPS 160
#define MAXOBJ 256  /* shadow objects of one kind per input (> MAXOPS) */
#define MAXCQ 32
#define MAXBUFS 512 /* context buffers per input */
#define MAXRT 4     /* runtimes per input (shutdown ops are capped) */
#define MAXISSUED 1024
#define REGION 640  /* every buffer region the library may read or write */

#define PAT_WORD ((ULONG_PTR)UINT64_C(0x5A5A5A5A5A5A5A5A))
#define PAT_ATTR ((unsigned long)0x5A5A5A5Au)
#define PAT_TIME INT64_C(0x5A5A5A5A5A5A5A5A)

/* ------------------------------------------------------------------------ */
/* The input reader                                                          */
/* ------------------------------------------------------------------------ */

static const uint8_t *g_in;
static size_t g_in_len, g_in_pos;

static uint8_t u8(void)
{
	return g_in_pos < g_in_len ? g_in[g_in_pos++] : 0;
}

static uint32_t u32(void)
{
	uint32_t v = 0;
	for (int k = 0; k < 4; k++)
		v = v << 8 | u8();
	return v;
}

static uint64_t u64(void)
{
	uint64_t hi = u32();
	return hi << 32 | u32();
}

static int more(void)
{
	return g_in_pos < g_in_len;
}

/* ------------------------------------------------------------------------ */
/* The shadow                                                                */
/* ------------------------------------------------------------------------ */

enum { ST_NONE = 0, ST_LIVE, ST_DELETING, ST_DEAD };
enum { SIDE_I = 1, SIDE_A = 2 };
enum { J_NONE = 0, J_ISC, J_ASC, J_ACH, J_DEL, J_FCRED };
enum { EX_NO = 0, EX_YES = 1, EX_MAYBE = 2 };
enum { AC_IDLE = 1, AC_PENDING, AC_DONE };
enum { H_STALE = 0, H_LIVE, H_DELETING };

/* Callback actions, chosen when the callback is registered. */
enum {
	A_NONE = 0, A_REINIT, A_FREE, A_SHUTDOWN, A_INIT, A_REAP, A_RUN, A_STATUS, A_SYNC,
	A_SUBMIT, /* reinit, then queue an AcquireCredentialsHandle on itself (once) */
	A_CREATE, /* SspiCreateAsyncContext, cq_create and a synchronous acquire */
	A_COUNT
};

/* The ops: the first byte of each op, modulo OP_COUNT. */
enum {
	OP_ACH, OP_FREE_CRED, OP_ISC, OP_ASC, OP_DELETE, OP_QUERY_CTX, OP_QUERY_CRED,
	OP_COMPLETE_AUTH, OP_SIGN, OP_VERIFY, OP_ENCRYPT, OP_DECRYPT, OP_FREE_BUF, OP_ENUM,
	OP_QUERY_PKG, OP_STUBS, OP_AC_CREATE, OP_AC_FREE, OP_AC_REINIT, OP_AC_SETCB,
	OP_AC_REQUIRES, OP_AC_STATUS, OP_ACH_ASYNC, OP_FREE_CRED_ASYNC, OP_ISC_ASYNC, OP_ASC_ASYNC,
	OP_DELETE_ASYNC, OP_RUN, OP_STATS, OP_CQ_CREATE, OP_CQ_DESTROY, OP_CQ_FD, OP_CQ_BIND,
	OP_CQ_REAP, OP_INIT, OP_SHUTDOWN, OP_MUTATE, OP_POOL, OP_SWEEP, OP_COUNT
};

#ifndef FUZZ_GEN /* the harness; the seed generator needs only the encoding above */

struct credo {
	SecHandle h;
	uint8_t st; /* LIVE, or DEAD once its handle was freed */
	unsigned long use;
};

struct ctxo {
	SecHandle h;
	uint8_t st;          /* LIVE, DELETING (async delete queued), DEAD */
	uint8_t side;
	uint8_t maybe_dead;  /* DELETING whose delete may have run unobserved */
	int cred;            /* credential object it was made from */
	int delete_op;       /* op that deleted it (sync or async), -1 */
	int del_ac;          /* async context of its queued delete, -1 */
};

/* One async call: what was submitted and the memory its outputs go to.
 * Lives in its async context's shadow object for the whole input, so the
 * library may write it until completion. */
struct job {
	uint8_t kind, first, exempt, stale, alloc, has_newh, has_ts, has_out, may_unknown;
	uint8_t tok_at_null; /* a leg's token buffer claims bytes at NULL, no ALLOCATE_MEMORY */
	int32_t exact;      /* J_DEL, J_FCRED: the status it must complete with */
	int ctx, cred, sub_op, new_slot, tok_out, cred_slot, tok_i;
	unsigned long use;
	SecHandle newh_before;
	SecBuffer ob[4];
	SecBufferDesc od;
	SecBuffer tok_before;
	unsigned char obuf[REGION];
	CtxtHandle newh;
	CredHandle credh;
	unsigned long attrs;
	TimeStamp ts;
};

struct aco {
	uintptr_t w;
	uint8_t st;        /* LIVE or DEAD */
	uint8_t call;      /* AC_IDLE, AC_PENDING, AC_DONE */
	uint8_t undeliv;   /* DONE, callback or queue record not yet delivered */
	uint8_t cb;        /* the harness callback is registered */
	uint8_t action;
	uint8_t done_cb;   /* the callback captured at completion */
	uint8_t cb_seen;   /* the callback ran for this call */
	void *cb_data;
	void *done_data;
	int cq;            /* bound queue object, -1 */
	int32_t status;
	int done_op;
	struct job job;
};

struct cqo {
	uintptr_t w;
	uint8_t st;
	int fd;
	int bound;
	int nrec;
	int rec_ac[MAXOBJ];
	int rec_op[MAXOBJ];
};

struct bufo {
	void *p;
	uint8_t live;
};

struct token {
	unsigned long len;
	unsigned char b[REGION];
};

struct msgset {
	unsigned char data[96];
	unsigned char sig[32];
};

/* Per-input state: reset by memset at the start of every input. */
static struct state {
	/* slots: values only */
	SecHandle cs[NCRED], xs[NCTX];
	uintptr_t as[NAC], qs[NCQ];
	/* objects */
	struct credo creds[MAXOBJ];
	struct ctxo ctxs[MAXOBJ];
	struct aco acs[MAXOBJ];
	struct cqo cqs[MAXCQ];
	int ncred, nctx, nac, ncq;
	struct bufo bufs[MAXBUFS];
	int nbuf;
	/* values issued in this input, for uniqueness */
	SecHandle issued2[MAXISSUED];
	int nissued2;
	uintptr_t issued_ac[MAXISSUED], issued_cq[MAXISSUED];
	int nissued_ac, nissued_cq;
	/* pools */
	struct token tok[NTOK];
	struct msgset msg[NMSG];
	/* runtime */
	int rt_up;          /* 1: initialised with known limits; 0: maybe not (defaults) */
	uint32_t max_pending, max_ctx, max_cred, max_ac; /* 0: unlimited (defaults) */
	int nrt;            /* shutdowns done in this input */
	int ever_ctx, ever_cred, ever_ac; /* upper bounds of entries made in this runtime */
	int abandoned;      /* jobs of freed async contexts that may still be queued */
	uint64_t last_completed, last_stale; /* stats counters seen in this runtime */
	/* where we are */
	int opno;
	int cb_sub_op;      /* the op during which a callback last queued a call */
	const char *opname;
	int cb_ok, in_run, in_reap, in_shutdown, in_cb;
	struct job junk;    /* outputs of submissions that must be refused */
	/* scratch for synchronous calls */
	unsigned char scr[4][REGION];
	SecBuffer sb_in[4], sb_out[4], sb_msg[4];
	SecBufferDesc sd_in, sd_out, sd_msg;
} G;

static int g_strict, g_trace;
#define NKNOWN 6
static unsigned long g_known[8];
static const char *const g_known_name[8] = {
	"K1 one-word handle of another table accepted (async context == queue word)",
	"K2 NULL handle pointer answered before a structural argument error",
	"K3 sspiasync_cq_reap(bad queue, ., 0) returns 0, not SEC_E_INVALID_HANDLE",
	"K4 (process) table instances ran out after ~4.19M init/shutdown cycles (fixed)",
	"K5 leg on a DELETING context refused SEC_E_INSUFFICIENT_MEMORY at the bound",
	"K6 sspiasync_run(0) returned with a call a callback queued during it",
	"", "",
};

static unsigned long g_inputs;

/* ------------------------------------------------------------------------ */
/* Failing                                                                   */
/* ------------------------------------------------------------------------ */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\napi_fuzz: PROPERTY VIOLATED at op %d (%s)%s%s%s: ", G.opno,
		G.opname ? G.opname : "?", G.in_cb ? " [in callback]" : "",
		G.in_shutdown ? " [in shutdown]" : "", G.in_run ? " [in run]" : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define CHECK(cond, ...)                  \
	do {                              \
		if (!(cond))              \
			fail(__VA_ARGS__); \
	} while (0)

/* A known library issue: counted, or fatal with FUZZ_STRICT=1. */
static void known(int k, const char *what)
{
	g_known[k]++;
	if (g_strict)
		fail("known issue %s: %s", g_known_name[k], what);
}

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void trace(const char *fmt, ...)
{
	if (!g_trace)
		return;
	va_list ap;
	fprintf(stderr, "  [%3d] %-22s ", G.opno, G.opname ? G.opname : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define X(st) ((unsigned)(st))

/* ------------------------------------------------------------------------ */
/* Lookups by value                                                          */
/* ------------------------------------------------------------------------ */

static int heq(const SecHandle *a, const SecHandle *b)
{
	return a->dwLower == b->dwLower && a->dwUpper == b->dwUpper;
}

static int find_cred(const SecHandle *h)
{
	for (int i = 0; i < G.ncred; i++)
		if (G.creds[i].st == ST_LIVE && heq(&G.creds[i].h, h))
			return i;
	return -1;
}

static int find_ctx(const SecHandle *h)
{
	for (int i = 0; i < G.nctx; i++)
		if (G.ctxs[i].st != ST_DEAD && heq(&G.ctxs[i].h, h))
			return i;
	return -1;
}

static int find_ac(uintptr_t w)
{
	if (w == 0)
		return -1;
	for (int i = 0; i < G.nac; i++)
		if (G.acs[i].st == ST_LIVE && G.acs[i].w == w)
			return i;
	return -1;
}

static int find_cq(uintptr_t w)
{
	if (w == 0)
		return -1;
	for (int i = 0; i < G.ncq; i++)
		if (G.cqs[i].st == ST_LIVE && G.cqs[i].w == w)
			return i;
	return -1;
}

/* A context handle for a call on side @side (0: any): LIVE, DELETING or STALE. */
static int ctx_class(const SecHandle *h, int side, int *idx)
{
	int i = find_ctx(h);
	*idx = i;
	if (i < 0)
		return H_STALE;
	if (side != 0 && G.ctxs[i].side != side)
		return H_STALE;
	return G.ctxs[i].st == ST_LIVE ? H_LIVE : H_DELETING;
}

/* ------------------------------------------------------------------------ */
/* Counting                                                                  */
/* ------------------------------------------------------------------------ */

static int cred_held(int c)
{
	for (int i = 0; i < G.nctx; i++)
		if (G.ctxs[i].st == ST_LIVE && G.ctxs[i].cred == c)
			return 1;
	return 0;
}

/* Credential table entries certainly occupied. */
static int creds_lo(void)
{
	int n = 0;
	for (int i = 0; i < G.ncred; i++)
		n += G.creds[i].st == ST_LIVE || cred_held(i);
	return n;
}

static int ctx_live_count(void)
{
	int n = 0;
	for (int i = 0; i < G.nctx; i++)
		n += G.ctxs[i].st == ST_LIVE;
	return n;
}

static int ac_live_count(void)
{
	int n = 0;
	for (int i = 0; i < G.nac; i++)
		n += G.acs[i].st == ST_LIVE;
	return n;
}

static int pending_count(int which) /* 0: all pending, 1: certainly bounded, 2: maybe bounded */
{
	int n = 0;
	for (int i = 0; i < G.nac; i++) {
		const struct aco *a = &G.acs[i];
		if (a->st != ST_LIVE || a->call != AC_PENDING)
			continue;
		if (which == 0 || (which == 1 && a->job.exempt == EX_NO) ||
		    (which == 2 && a->job.exempt != EX_YES))
			n++;
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* Issued values                                                             */
/* ------------------------------------------------------------------------ */

static void issued_two_word(const SecHandle *h, const char *what)
{
	const ULONG_PTR bad[3] = {0, (ULONG_PTR)-1, (ULONG_PTR)-2};
	for (int k = 0; k < 3; k++)
		CHECK(h->dwLower != bad[k] && h->dwUpper != bad[k],
		      "%s issued a reserved word {%#lx, %#lx}", what, (unsigned long)h->dwLower,
		      (unsigned long)h->dwUpper);
	for (int i = 0; i < G.nissued2; i++)
		CHECK(!heq(&G.issued2[i], h), "%s issued {%#lx, %#lx} a second time", what,
		      (unsigned long)h->dwLower, (unsigned long)h->dwUpper);
	if (G.nissued2 < MAXISSUED)
		G.issued2[G.nissued2++] = *h;
}

static void issued_one_word(uintptr_t w, int is_cq, const char *what)
{
	CHECK(w != 0 && w != (uintptr_t)-1 && w != (uintptr_t)-2, "%s issued reserved word %#lx",
	      what, (unsigned long)w);
	uintptr_t *mine = is_cq ? G.issued_cq : G.issued_ac;
	int *n = is_cq ? &G.nissued_cq : &G.nissued_ac;
	for (int i = 0; i < *n; i++)
		CHECK(mine[i] != w, "%s issued %#lx a second time", what, (unsigned long)w);
	if (*n < MAXISSUED)
		mine[(*n)++] = w;
	/* K1: the two one-word tables (async contexts, queues) share slot and
	 * generation spaces; their words differ only by a 15-bit keyed check. */
	if (is_cq) {
		if (find_ac(w) >= 0)
			known(0, "a new completion queue's handle equals a live async context's");
	} else if (find_cq(w) >= 0) {
		known(0, "a new async context's handle equals a live completion queue's");
	}
}

/* ------------------------------------------------------------------------ */
/* Context buffers (FreeContextBuffer)                                       */
/* ------------------------------------------------------------------------ */

static void buf_add(void *p, const char *what)
{
	CHECK(p != NULL, "%s returned a NULL buffer", what);
	for (int i = 0; i < G.nbuf; i++)
		CHECK(!(G.bufs[i].live && G.bufs[i].p == p), "%s returned live buffer %p again", what,
		      p);
	if (G.nbuf < MAXBUFS) {
		G.bufs[G.nbuf].p = p;
		G.bufs[G.nbuf].live = 1;
		G.nbuf++;
	}
}

static int buf_find(const void *p)
{
	for (int i = 0; i < G.nbuf; i++)
		if (G.bufs[i].live && G.bufs[i].p == p)
			return i;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Argument builders                                                         */
/* ------------------------------------------------------------------------ */

/* A handle pointer: NULL for bytes >= 0xF0, else a slot. */
static SecHandle *cred_ptr(uint8_t b)
{
	return b >= 0xF0 ? NULL : &G.cs[b % NCRED];
}

static SecHandle *ctx_ptr(uint8_t b)
{
	return b >= 0xF0 ? NULL : &G.xs[b % NCTX];
}

static uintptr_t ac_val(uint8_t b)
{
	return b >= 0xF0 ? 0 : G.as[b % NAC];
}

static uintptr_t cq_val(uint8_t b)
{
	return b >= 0xF0 ? 0 : G.qs[b % NCQ];
}

/* The mirror of the documented structural check of a SecBufferDesc. */
static int desc_ok(const SecBufferDesc *d, int optional)
{
	if (d == NULL)
		return optional;
	if (d->ulVersion != SECBUFFER_VERSION)
		return 0;
	if (d->cBuffers == 0)
		return 1;
	if (d->pBuffers == NULL)
		return 0;
	for (unsigned long i = 0; i < d->cBuffers; i++) {
		const SecBuffer *b = &d->pBuffers[i];
		if (b->pvBuffer == NULL && b->cbBuffer != 0 &&
		    (b->BufferType & ~(unsigned long)SECBUFFER_ATTRMASK) != SECBUFFER_MISSING)
			return 0;
	}
	return 1;
}

/* The same for an ISC/ASC output description: a SECBUFFER_TOKEN claiming
 * bytes at NULL is not structural (the leg answers it). */
static int desc_ok_leg_out(const SecBufferDesc *d)
{
	if (d == NULL || d->ulVersion != SECBUFFER_VERSION || d->cBuffers == 0)
		return desc_ok(d, 1);
	if (d->pBuffers == NULL)
		return 0;
	for (unsigned long i = 0; i < d->cBuffers; i++) {
		const SecBuffer *b = &d->pBuffers[i];
		unsigned long t = b->BufferType & ~(unsigned long)SECBUFFER_ATTRMASK;
		if (b->pvBuffer == NULL && b->cbBuffer != 0 && t != SECBUFFER_MISSING &&
		    t != SECBUFFER_TOKEN)
			return 0;
	}
	return 1;
}

static int desc_first(const SecBufferDesc *d, unsigned long type)
{
	if (d == NULL || d->pBuffers == NULL)
		return -1;
	for (unsigned long i = 0; i < d->cBuffers; i++)
		if ((d->pBuffers[i].BufferType & ~(unsigned long)SECBUFFER_ATTRMASK) == type)
			return (int)i;
	return -1;
}

/*
 * A random SecBufferDesc over @region (@rlen bytes, owned by the harness):
 * random version, count, types (with attribute bits), NULL buffers and
 * sizes, but never a pointer/size pair outside @region.
 */
static void desc_random(SecBufferDesc *d, SecBuffer *b, unsigned char *region, size_t rlen)
{
	uint8_t m = u8();
	d->ulVersion = (m & 0x80) ? (unsigned long)(u8() | 1u) : SECBUFFER_VERSION;
	unsigned n = m & 7u;
	if (n > 4) {
		d->cBuffers = n == 7 ? ~0ul : n;
		d->pBuffers = NULL;
		return;
	}
	d->cBuffers = n;
	d->pBuffers = b;
	for (unsigned i = 0; i < n; i++) {
		uint8_t t = u8(), p = u8(), s = u8();
		b[i].BufferType = (unsigned long)(t % 24u);
		if (t & 0x20)
			b[i].BufferType |= SECBUFFER_READONLY;
		if (t & 0x40)
			b[i].BufferType |= SECBUFFER_READONLY_WITH_CHECKSUM;
		if (p == 0xFF) {
			b[i].pvBuffer = NULL;
			b[i].cbBuffer = (s & 1) ? 0 : s;
		} else {
			size_t off = ((size_t)p * 8u) % rlen;
			size_t room = rlen - off;
			size_t sz = (s == 0xFF) ? room : ((size_t)s * 4u) % (room + 1);
			b[i].pvBuffer = region + off;
			b[i].cbBuffer = (unsigned long)sz;
		}
	}
}

/* Target names and principals: a grammar of the test package's options,
 * or raw bytes.  Never a latency above 2 us, never an injected status the
 * model could mistake for the library's own answer (SEC_E_INVALID_HANDLE,
 * SEC_E_INVALID_PARAMETER). */
static const char *const g_status_opts[] = {
	"0x80090304", "0x8009030C", "0x80090308", "0x80090318", "0x80090300", "0x80090321",
	"0x80090310", "0x8009033F", "0x80000000", "0xFFFFFFFF", "0x12345",    "0x8009030c",
	"0x800903",   "0X80090304", "0x",         "80090304",
};

static char *name_make(char *out, size_t cap)
{
	uint8_t b = u8();
	if (b == 0)
		return NULL;
	size_t n = 0;
	out[0] = '\0';
	if (b < 0xA0) {
		static const char *const names[] = {"host/a", "svc", "", "user@x"};
		n = (size_t)snprintf(out, cap, "%s", names[b & 3]);
		unsigned nopt = (b >> 2) & 3;
		for (unsigned i = 0; i < nopt && n + 24 < cap; i++) {
			uint8_t k = u8(), v = u8();
			const char *s = "";
			char tmp[32];
			switch (k % 10) {
			case 0:
			case 1:
				snprintf(tmp, sizeof tmp, "legs=%u", (v % 16u) < 14 ? 2u + v % 7u : v % 13u);
				s = tmp;
				break;
			case 2:
				snprintf(tmp, sizeof tmp, "fail=%u", v % 10u);
				s = tmp;
				break;
			case 3:
				snprintf(tmp, sizeof tmp, "status=%s",
					 g_status_opts[v % (sizeof g_status_opts / sizeof g_status_opts[0])]);
				s = tmp;
				break;
			case 4:
				s = (v & 1) ? "noop" : "noop=1";
				break;
			case 5:
				snprintf(tmp, sizeof tmp, "latency_us=%u", v % 3u);
				s = tmp;
				break;
			case 6:
				s = "";
				break;
			case 7:
				s = "bogus=1";
				break;
			case 8:
				s = (v & 1) ? "legs" : "legs=";
				break;
			default:
				snprintf(tmp, sizeof tmp, "legs=%u", 2u + v % 7u);
				s = tmp;
				break;
			}
			n += (size_t)snprintf(out + n, cap - n, ";%s", s);
			if (n >= cap)
				n = cap - 1;
		}
		return out;
	}
	unsigned len = u8() % 24u;
	for (unsigned i = 0; i < len && n + 1 < cap; i++) {
		char c = (char)u8();
		if (c == '\0')
			break;
		out[n++] = c;
	}
	out[n] = '\0';
	/* No slow legs, no injected status from raw bytes. */
	for (char *p = out; (p = strstr(p, "latency")) != NULL; p++)
		p[0] = 'L';
	for (char *p = out; (p = strstr(p, "status")) != NULL; p++)
		p[0] = 'S';
	return out;
}

/* Identity (pAuthData of AcquireCredentialsHandle). */
struct ident {
	SEC_WINNT_AUTH_IDENTITY_A id;
	char user[300], domain[16], pw[16];
	int bad, longname;
};

static SEC_WINNT_AUTH_IDENTITY_A *ident_make(struct ident *x)
{
	uint8_t b = u8();
	static const char *const users[] = {"alice", "bob", "", "carol"};
	static const char *const doms[] = {"", "CORP", "x", ""};
	static const char *const pws[] = {"", "pw", "secret", "pw"};
	memset(x, 0, sizeof *x);
	if ((b & 7) < 3)
		return NULL;
	snprintf(x->user, sizeof x->user, "%s", users[(b >> 3) & 3]);
	snprintf(x->domain, sizeof x->domain, "%s", doms[(b >> 5) & 3]);
	snprintf(x->pw, sizeof x->pw, "%s", pws[(b >> 6) & 3]);
	x->id.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
	switch (b & 7) {
	case 3: /* neither _ANSI nor _UNICODE */
		x->id.Flags = 0;
		x->bad = 1;
		break;
	case 4: /* a length with a NULL string */
		x->id.User = NULL;
		x->id.UserLength = 3;
		x->bad = 1;
		x->id.Domain = (unsigned char *)x->domain;
		x->id.DomainLength = (unsigned long)strlen(x->domain);
		x->id.Password = (unsigned char *)x->pw;
		x->id.PasswordLength = (unsigned long)strlen(x->pw);
		return &x->id;
	case 5: /* an embedded NUL */
		snprintf(x->pw, sizeof x->pw, "a");
		x->id.Password = (unsigned char *)x->pw;
		x->id.PasswordLength = 2;
		x->bad = 1;
		x->id.User = (unsigned char *)x->user;
		x->id.UserLength = (unsigned long)strlen(x->user);
		x->id.Domain = (unsigned char *)x->domain;
		x->id.DomainLength = (unsigned long)strlen(x->domain);
		return &x->id;
	case 6: /* too long for the package */
		memset(x->user, 'u', 290);
		x->user[290] = '\0';
		x->longname = 1;
		break;
	default:
		break;
	}
	x->id.User = (unsigned char *)x->user;
	x->id.UserLength = (unsigned long)strlen(x->user);
	x->id.Domain = (unsigned char *)x->domain;
	x->id.DomainLength = (unsigned long)strlen(x->domain);
	x->id.Password = (unsigned char *)x->pw;
	x->id.PasswordLength = (unsigned long)strlen(x->pw);
	return &x->id;
}

static void dummy_getkey(void *arg, void *principal, unsigned long ver, void **key,
			 SECURITY_STATUS *status)
{
	(void)arg, (void)principal, (void)ver, (void)key, (void)status;
	fail("pGetKeyFn was called");
}

/* A package name: returns NULL or a string, *known set when it names the test package. */
static char *pkg_make(char *out, size_t cap, int *knownp)
{
	static const char *const names[] = {"SspiAsyncTest", "sspiasynctest", "SSPIASYNCTEST",
					    NULL,            "Negotiate",     "",
					    "SspiAsyncTest ", "SspiAsyncTestX"};
	uint8_t b = u8() % 8u;
	if (names[b] == NULL) {
		*knownp = 0;
		return NULL;
	}
	snprintf(out, cap, "%s", names[b]);
	*knownp = strcasecmp(out, "SspiAsyncTest") == 0;
	return out;
}

static void *dup_mem(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (q == NULL)
		abort();
	if (n)
		memcpy(q, p, n);
	return q;
}

/* ------------------------------------------------------------------------ */
/* Callbacks and completion                                                  */
/* ------------------------------------------------------------------------ */

static void fz_cb(SspiAsyncContext *h, void *data);
static void harvest(int i, SECURITY_STATUS st);
static void ac_forget(int i);
static void cb_submit(int i);
static void cb_create(int i);
static void check_drained(int xi, const char *what);
static void query_ctx_value(const SecHandle *h, unsigned long attr, int null_buf);

/* The call of async context @i completed with @st (seen by poll or in its
 * callback). */
static void complete(int i, SECURITY_STATUS st)
{
	struct aco *a = &G.acs[i];
	CHECK(a->call == AC_PENDING, "async context #%d completed twice", i);
	a->call = AC_DONE;
	a->status = st;
	a->done_op = G.opno;
	a->done_cb = a->cb;
	a->done_data = a->cb ? a->cb_data : NULL;
	a->cb_seen = 0;
	a->undeliv = a->cq >= 0 || a->done_cb;
	if (a->cq >= 0 && !G.in_shutdown) {
		struct cqo *q = &G.cqs[a->cq];
		q->rec_ac[q->nrec] = i;
		q->rec_op[q->nrec] = G.opno;
		q->nrec++;
	}
	harvest(i, st);
}

/* After every op (not inside callbacks): find the calls that completed. */
static void poll_all(void)
{
	for (int i = 0; i < G.nac; i++) {
		struct aco *a = &G.acs[i];
		if (a->st != ST_LIVE || a->call != AC_PENDING)
			continue;
		SECURITY_STATUS st = SspiGetAsyncCallStatus((SspiAsyncContext *)a->w);
		if (st == SEC_I_ASYNC_CALL_PENDING)
			continue;
		complete(i, st);
	}
}

static void fz_cb(SspiAsyncContext *h, void *data)
{
	CHECK(G.cb_ok, "a callback ran inside an API call other than run/reap/shutdown");
	struct aco *a = data;
	CHECK(a >= G.acs && a < G.acs + G.nac, "callback with foreign data %p", data);
	int i = (int)(a - G.acs);
	CHECK(a->w == (uintptr_t)h, "callback of async context #%d got Handle %p", i, (void *)h);
	CHECK(a->st == ST_LIVE, "callback of freed async context #%d", i);
	int outer = G.in_cb;
	G.in_cb = 1;
	SECURITY_STATUS st = SspiGetAsyncCallStatus(h);
	CHECK(st != SEC_I_ASYNC_CALL_PENDING, "callback of #%d: its call is still PENDING", i);
	if (a->call == AC_PENDING)
		complete(i, st);
	CHECK(a->call == AC_DONE && a->undeliv && a->done_cb,
	      "callback of #%d not expected (call %d, undelivered %d, callback %d)", i, a->call,
	      a->undeliv, a->done_cb);
	CHECK(st == a->status, "callback of #%d sees 0x%08x, the call completed 0x%08x", i, X(st),
	      X(a->status));
	if (a->cq >= 0)
		CHECK(G.in_reap || G.in_shutdown, "callback of bound #%d outside reap", i);
	else
		CHECK(G.in_run || G.in_shutdown, "callback of #%d outside run", i);
	a->undeliv = 0;
	a->cb_seen = 1;
	trace("  callback #%d status 0x%08x action %d", i, X(st), a->action);
	/* Other calls this run (or shutdown) already finished without a
	 * callback: the shadow learns them now, so the expectations of the
	 * action below (pending-call bound) see the library's state. */
	poll_all();
	switch (a->action) {
	case A_REINIT: {
		NTSTATUS ns = SspiReinitAsyncContext(h);
		CHECK(ns == STATUS_SUCCESS, "reinit inside its own callback: 0x%08x", X(ns));
		a->call = AC_IDLE;
		CHECK(SspiGetAsyncCallStatus(h) == SEC_E_INVALID_PARAMETER,
		      "status after reinit in callback is not IDLE");
		break;
	}
	case A_FREE:
		SspiFreeAsyncContext(h);
		ac_forget(i);
		CHECK(SspiGetAsyncCallStatus(h) == SEC_E_INVALID_HANDLE,
		      "freed in its callback, still answers");
		break;
	case A_SHUTDOWN:
		st = sspiasync_shutdown();
		CHECK(st == SEC_E_INVALID_PARAMETER, "shutdown inside a callback: 0x%08x", X(st));
		break;
	case A_INIT: {
		struct sspiasync_config cfg = {0};
		st = sspiasync_init(&cfg);
		CHECK(st == (G.in_shutdown ? SEC_E_SHUTDOWN_IN_PROGRESS : SEC_E_INVALID_PARAMETER),
		      "init inside a callback: 0x%08x", X(st));
		break;
	}
	case A_REAP: {
		struct sspiasync_completion c[2];
		uintptr_t q = G.qs[0] != 0 ? G.qs[0] : (uintptr_t)0x1234;
		int r = sspiasync_cq_reap((struct sspiasync_cq *)q, c, 2);
		CHECK(r == SEC_E_INVALID_PARAMETER, "reap inside a callback: %d", r);
		break;
	}
	case A_RUN:
		CHECK(sspiasync_run(0) == 0, "run inside a callback ran something");
		break;
	case A_STATUS:
		CHECK(SspiGetAsyncCallStatus(h) == a->status, "status changed inside callback");
		CHECK(SspiAsyncContextRequiresNotify(h) == (a->cb ? TRUE : FALSE),
		      "RequiresNotify inside callback");
		break;
	case A_SYNC:
		/* A synchronous call on the call's own security context (it may run
		 * calls queued there).  Not inside reap: the model keeps records
		 * of one reap in one batch. */
		if (!G.in_reap && a->job.ctx >= 0)
			query_ctx_value(&G.ctxs[a->job.ctx].h, SECPKG_ATTR_SIZES, 0);
		break;
	case A_SUBMIT:
		cb_submit(i);
		break;
	case A_CREATE:
		cb_create(i);
		break;
	default:
		break;
	}
	G.in_cb = outer;
}

/* Check a completed call's status and outputs, update the shadow. */
static void harvest(int i, SECURITY_STATUS st)
{
	struct aco *a = &G.acs[i];
	struct job *j = &a->job;
	int cancelled = G.in_shutdown && j->exempt != EX_YES;
	trace("  complete #%d kind %d status 0x%08x", i, j->kind, X(st));
	if (cancelled) {
		if (j->exempt == EX_MAYBE)
			CHECK(st == SEC_E_SHUTDOWN_IN_PROGRESS || st == SEC_E_INVALID_HANDLE,
			      "#%d cancelled by shutdown: 0x%08x", i, X(st));
		else
			CHECK(st == SEC_E_SHUTDOWN_IN_PROGRESS,
			      "#%d (queued, kind %d) cancelled by shutdown completed 0x%08x", i,
			      j->kind, X(st));
	}
	switch (j->kind) {
	case J_ISC:
	case J_ASC: {
		if (!cancelled) {
			if (j->stale) {
				CHECK(st == SEC_E_INVALID_HANDLE,
				      "#%d: leg with a stale handle completed 0x%08x", i, X(st));
			} else if (j->first) {
				CHECK(st != SEC_E_INVALID_HANDLE && st != SEC_E_INVALID_PARAMETER,
				      "#%d: first leg with a live credential completed 0x%08x", i,
				      X(st));
				if (j->tok_at_null)
					CHECK(st == SEC_E_INTERNAL_ERROR,
					      "#%d: first leg, token buffer at NULL: 0x%08x", i, X(st));
			} else if (G.ctxs[j->ctx].delete_op >= 0) {
				CHECK(st == SEC_E_INVALID_HANDLE,
				      "#%d: leg on context #%d, deleted at op %d after it was queued, "
				      "completed 0x%08x",
				      i, j->ctx, G.ctxs[j->ctx].delete_op, X(st));
			} else {
				CHECK(st != SEC_E_INVALID_HANDLE && st != SEC_E_INVALID_PARAMETER,
				      "#%d: leg on live context #%d completed 0x%08x", i, j->ctx,
				      X(st));
				if (j->tok_at_null)
					CHECK(st == SEC_E_INTERNAL_ERROR || st == SEC_E_OUT_OF_SEQUENCE,
					      "#%d: leg, token buffer at NULL: 0x%08x", i, X(st));
			}
		}
		int made = st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED;
		if (cancelled)
			made = 0;
		if (!made) {
			CHECK(j->attrs == PAT_ATTR, "#%d failed (0x%08x) but wrote *pfContextAttr", i,
			      X(st));
			if (j->has_ts)
				CHECK(j->ts.QuadPart == PAT_TIME, "#%d failed but wrote *ptsExpiry", i);
			if (j->has_newh)
				CHECK(heq(&j->newh, &j->newh_before), "#%d failed but wrote the handle",
				      i);
			if (j->tok_i >= 0)
				CHECK(j->ob[j->tok_i].cbBuffer == j->tok_before.cbBuffer &&
					      j->ob[j->tok_i].pvBuffer == j->tok_before.pvBuffer,
				      "#%d failed but wrote the output buffer", i);
			break;
		}
		CHECK(j->attrs != PAT_ATTR, "#%d made progress without *pfContextAttr", i);
		if (j->first) {
			CHECK(j->has_newh, "first leg without phNewContext queued");
			CHECK(!heq(&j->newh, &j->newh_before), "#%d first leg made no handle", i);
			issued_two_word(&j->newh, "async first leg");
			int x = G.nctx++;
			G.ctxs[x] = (struct ctxo){j->newh, ST_LIVE, (uint8_t)(j->kind == J_ISC ? SIDE_I : SIDE_A),
						  0, j->cred, -1, -1};
			G.xs[j->new_slot] = j->newh;
		} else if (j->has_newh) {
			CHECK(heq(&j->newh, &G.ctxs[j->ctx].h), "#%d later leg wrote another handle",
			      i);
		}
		if (j->tok_i >= 0) {
			SecBuffer *t = &j->ob[j->tok_i];
			struct token *dst = &G.tok[j->tok_out];
			if (j->alloc && t->pvBuffer != j->tok_before.pvBuffer && t->pvBuffer != NULL) {
				buf_add(t->pvBuffer, "async leg ALLOCATE_MEMORY");
				CHECK(t->cbBuffer <= 512, "allocated token of %lu bytes", t->cbBuffer);
				memcpy(dst->b, t->pvBuffer, t->cbBuffer);
				dst->len = t->cbBuffer;
			} else if (!j->alloc) {
				CHECK(t->cbBuffer <= j->tok_before.cbBuffer && t->pvBuffer == j->tok_before.pvBuffer,
				      "#%d token %lu bytes, room was %lu", i, t->cbBuffer,
				      j->tok_before.cbBuffer);
				if (t->cbBuffer)
					memcpy(dst->b, t->pvBuffer, t->cbBuffer);
				dst->len = t->cbBuffer;
			}
		}
		break;
	}
	case J_ACH:
		if (!cancelled) {
			CHECK(st == SEC_E_OK || (st == SEC_E_UNKNOWN_CREDENTIALS && j->may_unknown) ||
				      (st == SEC_E_INSUFFICIENT_MEMORY && G.max_cred &&
				       G.ever_cred >= (int)G.max_cred),
			      "#%d: async AcquireCredentialsHandle completed 0x%08x", i, X(st));
		}
		if (st != SEC_E_OK || cancelled) {
			CHECK(j->credh.dwLower == PAT_WORD && j->credh.dwUpper == PAT_WORD,
			      "#%d failed but wrote the credential", i);
			if (j->has_ts)
				CHECK(j->ts.QuadPart == PAT_TIME, "#%d failed but wrote *ptsExpiry", i);
			break;
		}
		issued_two_word(&j->credh, "async AcquireCredentialsHandle");
		G.creds[G.ncred++] = (struct credo){j->credh, ST_LIVE, j->use};
		G.cs[j->cred_slot] = j->credh;
		break;
	case J_DEL:
		if (!cancelled)
			CHECK(st == j->exact, "#%d: async delete completed 0x%08x, expected 0x%08x", i,
			      X(st), X(j->exact));
		if (st == SEC_E_OK && j->ctx >= 0)
			G.ctxs[j->ctx].st = ST_DEAD;
		break;
	case J_FCRED:
		if (!cancelled)
			CHECK(st == j->exact, "#%d: async free credentials completed 0x%08x, expected 0x%08x",
			      i, X(st), X(j->exact));
		break;
	default:
		fail("#%d completed with no call shadowed", i);
	}
}

static int submit_expect(uintptr_t w, int exempt, SECURITY_STATUS *want, int *may_bound);
static void submit_check(SECURITY_STATUS got, SECURITY_STATUS want, int may_bound, const char *what);
static void submitted(int i);

/* A_SUBMIT: from its own callback, reinit and queue a new call (once). */
static void cb_submit(int i)
{
	struct aco *a = &G.acs[i];
	a->action = A_NONE; /* once: run(0) would run the next call and come back */
	NTSTATUS ns = SspiReinitAsyncContext((SspiAsyncContext *)a->w);
	CHECK(ns == STATUS_SUCCESS, "reinit inside its own callback: 0x%08x", X(ns));
	a->call = AC_IDLE;
	SECURITY_STATUS want;
	int may_bound = 0;
	if (G.in_shutdown)
		want = SEC_E_SHUTDOWN_IN_PROGRESS;
	else
		(void)submit_expect(a->w, EX_NO, &want, &may_bound);
	struct job *j = &a->job;
	memset(j, 0, sizeof *j);
	j->credh.dwLower = j->credh.dwUpper = PAT_WORD;
	j->ts.QuadPart = PAT_TIME;
	j->has_ts = 1;
	char pkg[] = "SspiAsyncTest";
	SECURITY_STATUS st = SspiAcquireCredentialsHandleAsyncA((SspiAsyncContext *)a->w, NULL, pkg,
								SECPKG_CRED_BOTH, NULL, NULL, NULL,
								NULL, &j->credh, &j->ts);
	trace("  callback #%d resubmits -> 0x%08x", i, X(st));
	submit_check(st, want, may_bound, "SspiAcquireCredentialsHandleAsync in a callback");
	if (st != SEC_E_OK)
		return;
	j->kind = J_ACH;
	j->exempt = EX_NO;
	j->use = SECPKG_CRED_BOTH;
	j->cred_slot = i % NCRED;
	j->ctx = j->cred = -1;
	G.ever_cred++;
	submitted(i);
	G.cb_sub_op = G.opno;
}

/* A_CREATE: objects made inside a callback (refused while shutting down). */
static void cb_create(int i)
{
	if (G.nac < MAXOBJ) {
		SspiAsyncContext *n = SspiCreateAsyncContext();
		trace("  callback #%d creates %p", i, (void *)n);
		if (G.in_shutdown) {
			CHECK(n == NULL, "SspiCreateAsyncContext during shutdown returned %p", (void *)n);
		} else if (n == NULL) {
			CHECK(G.max_ac && G.ever_ac >= (int)G.max_ac, "SspiCreateAsyncContext in a callback: NULL");
		} else {
			CHECK(!(G.max_ac && ac_live_count() >= (int)G.max_ac), "past max_async");
			issued_one_word((uintptr_t)n, 0, "SspiCreateAsyncContext in a callback");
			G.ever_ac++;
			int k = G.nac++;
			memset(&G.acs[k], 0, sizeof G.acs[k]);
			G.acs[k].w = (uintptr_t)n;
			G.acs[k].st = ST_LIVE;
			G.acs[k].call = AC_IDLE;
			G.acs[k].cq = -1;
			G.as[(i + 1) % NAC] = (uintptr_t)n;
		}
	}
	if (G.ncq < MAXCQ) {
		struct sspiasync_cq *q = NULL;
		SECURITY_STATUS st = sspiasync_cq_create(&q);
		CHECK(st == (G.in_shutdown ? SEC_E_SHUTDOWN_IN_PROGRESS : SEC_E_OK),
		      "cq_create in a callback: 0x%08x", X(st));
		if (st == SEC_E_OK) {
			issued_one_word((uintptr_t)q, 1, "sspiasync_cq_create in a callback");
			int k = G.ncq++;
			memset(&G.cqs[k], 0, sizeof G.cqs[k]);
			G.cqs[k].w = (uintptr_t)q;
			G.cqs[k].st = ST_LIVE;
			G.cqs[k].fd = sspiasync_cq_fd(q);
			CHECK(G.cqs[k].fd >= 0, "new queue has no fd");
			G.qs[i % NCQ] = (uintptr_t)q;
		}
	}
	if (G.ncred < MAXOBJ) {
		CredHandle c = {PAT_WORD, PAT_WORD};
		char pkg[] = "SspiAsyncTest";
		SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, pkg, SECPKG_CRED_BOTH, NULL, NULL, NULL,
							       NULL, &c, NULL);
		if (G.in_shutdown) {
			CHECK(st == SEC_E_SHUTDOWN_IN_PROGRESS, "acquire during shutdown: 0x%08x", X(st));
		} else {
			CHECK(st == SEC_E_OK || (st == SEC_E_INSUFFICIENT_MEMORY && G.max_cred &&
						 G.ever_cred >= (int)G.max_cred),
			      "acquire in a callback: 0x%08x", X(st));
			if (st == SEC_E_OK) {
				issued_two_word(&c, "AcquireCredentialsHandle in a callback");
				G.ever_cred++;
				G.creds[G.ncred++] = (struct credo){c, ST_LIVE, SECPKG_CRED_BOTH};
				G.cs[i % NCRED] = c;
			}
		}
	}
}

/* Quiet: nothing queued, nothing running, every callback delivered. */
static void quiescent_check(const char *where)
{
	for (int i = 0; i < G.nctx; i++)
		if (G.ctxs[i].st == ST_DELETING)
			G.ctxs[i].st = ST_DEAD;
	G.abandoned = 0;
	struct sspiasync_statistics s;
	memset(&s, 0xff, sizeof s);
	CHECK(sspiasync_stats(&s) == SEC_E_OK, "stats");
	uint64_t want_cred = (uint64_t)creds_lo(), want_ctx = (uint64_t)ctx_live_count(),
		 want_ac = (uint64_t)ac_live_count();
	CHECK(s.credentials == want_cred && s.contexts == want_ctx && s.async_contexts == want_ac &&
		      s.pending_calls == 0 && s.worker_threads == 0,
	      "%s: stats credentials %llu contexts %llu async %llu pending %llu workers %llu; "
	      "shadow %llu %llu %llu 0 0",
	      where, (unsigned long long)s.credentials, (unsigned long long)s.contexts,
	      (unsigned long long)s.async_contexts, (unsigned long long)s.pending_calls,
	      (unsigned long long)s.worker_threads, (unsigned long long)want_cred,
	      (unsigned long long)want_ctx, (unsigned long long)want_ac);
}

/* After every op: the limits were kept. */
static void invariants(void)
{
	if (G.max_cred)
		CHECK(creds_lo() <= (int)G.max_cred, "more credentials than max_credentials %u",
		      G.max_cred);
	if (G.max_ctx)
		CHECK(ctx_live_count() <= (int)G.max_ctx, "more contexts than max_contexts %u",
		      G.max_ctx);
	if (G.max_ac)
		CHECK(ac_live_count() <= (int)G.max_ac, "more async contexts than max_async %u",
		      G.max_ac);
}

/* ------------------------------------------------------------------------ */
/* Expectations shared by the submissions                                    */
/* ------------------------------------------------------------------------ */

/* The submission status every Sspi*Async call must give, once the call's
 * own structural checks passed, for async context value @w and a job of
 * @exempt kind.  Returns the shadow index of the async context if the call
 * must be (or may be) queued, else -1; *want is the exact status, or
 * SEC_E_OK with *may_bound when SEC_E_INSUFFICIENT_MEMORY is also allowed. */
static int submit_expect(uintptr_t w, int exempt, SECURITY_STATUS *want, int *may_bound)
{
	*may_bound = 0;
	int i = find_ac(w);
	if (i < 0) {
		*want = SEC_E_INVALID_HANDLE;
		return -1;
	}
	struct aco *a = &G.acs[i];
	if (a->call != AC_IDLE || a->undeliv) {
		*want = SEC_E_INVALID_PARAMETER;
		return -1;
	}
	*want = SEC_E_OK;
	if (exempt == EX_YES || G.max_pending == 0)
		return i;
	int lo = pending_count(1), hi = pending_count(2) + G.abandoned;
	if (lo >= (int)G.max_pending && exempt == EX_NO)
		*want = SEC_E_INSUFFICIENT_MEMORY;
	else if (hi >= (int)G.max_pending)
		*may_bound = 1;
	return i;
}

static void submit_check(SECURITY_STATUS got, SECURITY_STATUS want, int may_bound, const char *what)
{
	if (got == want)
		return;
	if (may_bound && (got == SEC_E_OK || got == SEC_E_INSUFFICIENT_MEMORY))
		return;
	fail("%s submission: 0x%08x, expected 0x%08x%s", what, X(got), X(want),
	     may_bound ? " or SEC_E_INSUFFICIENT_MEMORY" : "");
}

/* The submission was queued: the async context is PENDING with job @j. */
static void submitted(int i)
{
	struct aco *a = &G.acs[i];
	a->call = AC_PENDING;
	a->undeliv = 0;
	a->job.sub_op = G.opno;
}

/* ------------------------------------------------------------------------ */
/* Ops: credentials                                                          */
/* ------------------------------------------------------------------------ */

static PSecurityFunctionTableA T;

static void op_acquire(int async)
{
	uint8_t acb = async ? u8() : 0;
	uint8_t fl = u8();
	char pbuf[128], kbuf[32];
	char *principal = name_make(pbuf, sizeof pbuf);
	int pkg_known;
	char *pkg = pkg_make(kbuf, sizeof kbuf, &pkg_known);
	uint8_t ub = u8();
	unsigned long use;
	switch (ub % 8u) {
	case 0: use = SECPKG_CRED_OUTBOUND; break;
	case 1: use = SECPKG_CRED_INBOUND; break;
	case 2: use = SECPKG_CRED_BOTH; break;
	case 3: use = SECPKG_CRED_BOTH | 0xF0000000ul; break;
	case 4: use = 0; break;
	case 5: use = SECPKG_CRED_DEFAULT; break;
	case 6: use = u32(); break;
	default: use = SECPKG_CRED_OUTBOUND; break;
	}
	struct ident idb;
	SEC_WINNT_AUTH_IDENTITY_A *id = ident_make(&idb);
	int slot = u8() % NCRED;
	int null_cred = (fl & 2) != 0, null_ts = (fl & 4) != 0, logon = (fl & 8) != 0;
	SEC_GET_KEY_FN keyfn = (fl & 16) ? dummy_getkey : NULL;
	uintptr_t acw = ac_val(acb);

	unsigned long u = use & ~(unsigned long)SECPKG_CRED_RESERVED;
	int structural = null_cred || pkg == NULL || logon ||
			 (u != SECPKG_CRED_INBOUND && u != SECPKG_CRED_OUTBOUND && u != SECPKG_CRED_BOTH);
	int bad_id = id != NULL && idb.bad; /* read once the package is known */
	int may_unknown = principal != NULL || (id != NULL && idb.longname);
	int logon_dummy;
	void *logonp = logon ? &logon_dummy : NULL;

	if (!async) {
		CredHandle out = {PAT_WORD, PAT_WORD};
		TimeStamp ts = {.QuadPart = PAT_TIME};
		ACQUIRE_CREDENTIALS_HANDLE_FN_A fn = (fl & 1) ? T->AcquireCredentialsHandleA
							      : AcquireCredentialsHandleA;
		SECURITY_STATUS st = fn(principal, pkg, use, logonp, id, keyfn, NULL,
					null_cred ? NULL : &out, null_ts ? NULL : &ts);
		trace("principal '%s' pkg '%s' use %#lx id %d -> 0x%08x", principal ? principal : "(null)",
		      pkg ? pkg : "(null)", use, id != NULL, X(st));
		if (structural) {
			CHECK(st == SEC_E_INVALID_PARAMETER, "AcquireCredentialsHandle structural error: 0x%08x",
			      X(st));
		} else if (!pkg_known) {
			CHECK(st == SEC_E_SECPKG_NOT_FOUND, "unknown package '%s': 0x%08x", pkg, X(st));
		} else if (bad_id) {
			CHECK(st == SEC_E_INVALID_PARAMETER, "bad identity: 0x%08x", X(st));
		} else {
			int full_allowed = G.max_cred && G.ever_cred >= (int)G.max_cred;
			int full_must = G.max_cred && creds_lo() >= (int)G.max_cred;
			if (full_must)
				CHECK(st == SEC_E_INSUFFICIENT_MEMORY || (st == SEC_E_UNKNOWN_CREDENTIALS && may_unknown),
				      "credential table full (%u) but acquire: 0x%08x", G.max_cred, X(st));
			CHECK(st == SEC_E_OK || (st == SEC_E_UNKNOWN_CREDENTIALS && may_unknown) ||
				      (st == SEC_E_INSUFFICIENT_MEMORY && full_allowed),
			      "AcquireCredentialsHandle: 0x%08x", X(st));
			if (!G.rt_up && st == SEC_E_OK)
				G.rt_up = 1; /* implicitly initialised with the defaults */
		}
		if (st != SEC_E_OK) {
			CHECK(out.dwLower == PAT_WORD && out.dwUpper == PAT_WORD && ts.QuadPart == PAT_TIME,
			      "failed AcquireCredentialsHandle wrote its outputs");
			return;
		}
		issued_two_word(&out, "AcquireCredentialsHandle");
		if (!null_ts)
			CHECK(ts.QuadPart != PAT_TIME, "no expiry written");
		G.ever_cred++;
		G.creds[G.ncred++] = (struct credo){out, ST_LIVE, u};
		G.cs[slot] = out;
		return;
	}

	/* async */
	SECURITY_STATUS want;
	int may_bound = 0, ai = -1;
	if (acw == 0)
		want = SEC_E_INVALID_HANDLE;
	else if (structural)
		want = SEC_E_INVALID_PARAMETER;
	else if (!pkg_known)
		want = SEC_E_SECPKG_NOT_FOUND;
	else if (bad_id)
		want = SEC_E_INVALID_PARAMETER;
	else
		ai = submit_expect(acw, EX_NO, &want, &may_bound);
	struct job *j = ai >= 0 ? &G.acs[ai].job : &G.junk;
	memset(j, 0, sizeof *j);
	j->credh.dwLower = j->credh.dwUpper = PAT_WORD;
	j->ts.QuadPart = PAT_TIME;
	j->has_ts = !null_ts;
	/* Inputs must be copied at submission: hand over heap copies and free
	 * them right after, so a late read is a use-after-free. */
	char *pc = principal ? dup_mem(principal, strlen(principal) + 1) : NULL;
	char *kc = pkg ? dup_mem(pkg, strlen(pkg) + 1) : NULL;
	SEC_WINNT_AUTH_IDENTITY_A *idc = NULL;
	if (id != NULL) {
		idc = dup_mem(id, sizeof *id);
		idc->User = id->User ? dup_mem(id->User, id->UserLength + 1) : NULL;
		idc->Domain = id->Domain ? dup_mem(id->Domain, id->DomainLength + 1) : NULL;
		idc->Password = id->Password ? dup_mem(id->Password, id->PasswordLength + 1) : NULL;
	}
	SECURITY_STATUS st = SspiAcquireCredentialsHandleAsyncA(
		(SspiAsyncContext *)acw, pc, kc, use, logonp, idc, keyfn, NULL,
		null_cred ? NULL : &j->credh, null_ts ? NULL : &j->ts);
	free(pc);
	free(kc);
	if (idc) {
		free(idc->User);
		free(idc->Domain);
		free(idc->Password);
		free(idc);
	}
	trace("async ac %#lx principal '%s' -> 0x%08x", (unsigned long)acw,
	      principal ? principal : "(null)", X(st));
	submit_check(st, want, may_bound, "SspiAcquireCredentialsHandleAsync");
	if (st != SEC_E_OK)
		return;
	j->kind = J_ACH;
	j->exempt = EX_NO;
	j->may_unknown = (uint8_t)may_unknown;
	j->use = u;
	j->cred_slot = slot;
	j->ctx = j->cred = -1;
	G.ever_cred++;
	submitted(ai);
}

static void op_free_cred(int async)
{
	uint8_t acb = async ? u8() : 0;
	uint8_t fl = u8();
	SecHandle *p = cred_ptr(u8());
	if (fl & 2)
		p = NULL;
	SecHandle v = p ? *p : (SecHandle){0, 0};
	int c = p ? find_cred(p) : -1;
	if (!async) {
		FREE_CREDENTIALS_HANDLE_FN fn = (fl & 1) ? T->FreeCredentialHandle : FreeCredentialsHandle;
		SECURITY_STATUS st = fn(p ? &v : NULL);
		trace("cred %d -> 0x%08x", c, X(st));
		CHECK(st == (c >= 0 ? SEC_E_OK : SEC_E_INVALID_HANDLE),
		      "FreeCredentialsHandle of a %s credential: 0x%08x", c >= 0 ? "live" : "stale", X(st));
		if (c >= 0)
			G.creds[c].st = ST_DEAD;
		return;
	}
	uintptr_t acw = ac_val(acb);
	SECURITY_STATUS want;
	int may_bound, ai = acw ? submit_expect(acw, EX_YES, &want, &may_bound) : -1;
	if (acw == 0)
		want = SEC_E_INVALID_HANDLE, may_bound = 0;
	SecHandle *vp = p ? dup_mem(&v, sizeof v) : NULL;
	SECURITY_STATUS st = SspiFreeCredentialsHandleAsync((SspiAsyncContext *)acw, vp);
	free(vp);
	trace("async cred %d -> 0x%08x", c, X(st));
	submit_check(st, want, may_bound, "SspiFreeCredentialsHandleAsync");
	if (st != SEC_E_OK)
		return;
	struct job *j = &G.acs[ai].job;
	memset(j, 0, sizeof *j);
	j->kind = J_FCRED;
	j->exempt = EX_YES;
	j->exact = c >= 0 ? SEC_E_OK : SEC_E_INVALID_HANDLE;
	j->ctx = j->cred = -1;
	if (c >= 0)
		G.creds[c].st = ST_DEAD; /* invalid at once */
	submitted(ai);
}

static void op_query_cred(void)
{
	uint8_t fl = u8();
	SecHandle *p = cred_ptr(u8());
	uint8_t ab = u8();
	unsigned long attr = ab < 0xC0 ? (unsigned long)(ab % 4u) : (unsigned long)u32();
	if (fl & 2)
		p = NULL;
	int null_buf = (fl & 4) != 0;
	SecPkgCredentials_NamesA names = {(SEC_CHAR *)(uintptr_t)PAT_WORD};
	int c = p ? find_cred(p) : -1;
	QUERY_CREDENTIALS_ATTRIBUTES_FN_A fn = (fl & 1) ? T->QueryCredentialsAttributesA
						       : QueryCredentialsAttributesA;
	SECURITY_STATUS st = fn(p, attr, null_buf ? NULL : &names);
	trace("cred %d attr %lu -> 0x%08x", c, attr, X(st));
	if (null_buf) {
		if (p == NULL && st == SEC_E_INVALID_HANDLE)
			known(1, "QueryCredentialsAttributesA(NULL, attr, NULL)");
		else
			CHECK(st == SEC_E_INVALID_PARAMETER, "QueryCredentialsAttributes NULL buffer: 0x%08x",
			      X(st));
		return;
	}
	if (c < 0) {
		CHECK(st == SEC_E_INVALID_HANDLE, "QueryCredentialsAttributes stale: 0x%08x", X(st));
		return;
	}
	CHECK(st == (attr == SECPKG_CRED_ATTR_NAMES ? SEC_E_OK : SEC_E_UNSUPPORTED_FUNCTION),
	      "QueryCredentialsAttributes live, attr %lu: 0x%08x", attr, X(st));
	if (st == SEC_E_OK)
		buf_add(names.sUserName, "QueryCredentialsAttributes");
	else
		CHECK(names.sUserName == (SEC_CHAR *)(uintptr_t)PAT_WORD, "failed query wrote");
}

/* ------------------------------------------------------------------------ */
/* Ops: legs (ISC / ASC, sync and async)                                      */
/* ------------------------------------------------------------------------ */

static const unsigned long g_caps[8] = {0, 512, 16, 48, 600, 100, 512, 512};

static void op_leg(int async, int side)
{
	uint8_t acb = async ? u8() : 0;
	uint8_t fl = u8();
	SecHandle *credp = cred_ptr(u8());
	SecHandle *ctxp = ctx_ptr(u8());
	uint8_t nb = u8();
	uint8_t inm = u8() % 8u;
	/* the input token */
	struct token *in_tok = inm < NTOK ? &G.tok[inm] : NULL;
	SecBufferDesc *in = NULL;
	SecBuffer in_b[4];
	SecBufferDesc in_d;
	unsigned char *in_region = G.scr[0];
	if (in_tok != NULL) {
		memcpy(in_region, in_tok->b, in_tok->len);
		in_b[0] = (SecBuffer){in_tok->len, SECBUFFER_TOKEN, in_region};
		in_d = (SecBufferDesc){SECBUFFER_VERSION, 1, in_b};
		in = &in_d;
	} else if (inm == 7) {
		memcpy(in_region, G.tok[0].b, REGION);
		desc_random(&in_d, in_b, in_region, REGION);
		in = &in_d;
	}
	uint8_t outm = u8() % 8u;
	int tok_out = u8() % NTOK;
	uint8_t rb = u8();
	unsigned long req = 0;
	switch (rb % 4u) {
	case 1: req = ISC_REQ_ALLOCATE_MEMORY; break;
	case 2: req = u32(); break;
	case 3: req = u32() | ISC_REQ_ALLOCATE_MEMORY; break;
	default: break;
	}
	char tbuf[160];
	char *target = side == SIDE_I ? name_make(tbuf, sizeof tbuf) : NULL;
	int null_attrs = (fl & 2) != 0, null_ts = (fl & 4) != 0;
	unsigned long r1 = (side == SIDE_I && (fl & 8)) ? 1 : 0, r2 = (side == SIDE_I && (fl & 16)) ? 7 : 0;
	uintptr_t acw = ac_val(acb);

	/* Where outputs go: a live idle async context's own job, else junk. */
	struct job sj;
	struct job *j = &sj;
	int ai_guess = async ? find_ac(acw) : -1;
	if (async)
		j = (ai_guess >= 0 && G.acs[ai_guess].call == AC_IDLE && !G.acs[ai_guess].undeliv)
			    ? &G.acs[ai_guess].job : &G.junk;
	memset(j, 0, sizeof *j);
	j->attrs = PAT_ATTR;
	j->ts.QuadPart = PAT_TIME;
	j->newh.dwLower = j->newh.dwUpper = PAT_WORD;
	j->tok_i = -1;
	SecBufferDesc *out = NULL;
	unsigned char *oregion = async ? j->obuf : G.scr[1];
	if (outm == 6) {
		desc_random(&j->od, j->ob, oregion, REGION);
		out = &j->od;
	} else if (outm == 7) {
		j->ob[0] = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
		j->od = (SecBufferDesc){SECBUFFER_VERSION, 1, j->ob};
		out = &j->od;
	} else if (outm != 0) {
		j->ob[0] = (SecBuffer){g_caps[outm], SECBUFFER_TOKEN, oregion};
		j->od = (SecBufferDesc){SECBUFFER_VERSION, 1, j->ob};
		out = &j->od;
	}
	/* Handles: the context handle and phNewContext. */
	int mode = nb & 3, new_slot = (nb >> 2) % NCTX;
	SecHandle ctxv = ctxp ? *ctxp : (SecHandle){0, 0};
	SecHandle credv = credp ? *credp : (SecHandle){0, 0};
	if (mode == 1 && ctxp != NULL)
		j->newh = ctxv; /* phNewContext == phContext */
	j->newh_before = j->newh;
	int has_newh = mode != 2;

	/* The model. */
	int structural = r1 != 0 || r2 != 0 || null_attrs || (ctxp == NULL && !has_newh) ||
			 !desc_ok(in, 1) || !desc_ok_leg_out(out);
	/* No token buffer is no room (SEC_E_BUFFER_TOO_SMALL when the leg has
	 * a token to send); one claiming bytes at NULL without
	 * ALLOCATE_MEMORY is SEC_E_INTERNAL_ERROR once the handle is good and
	 * the leg admitted (README, "Windows' statuses"). */
	int ti = out ? desc_first(out, SECBUFFER_TOKEN) : -1;
	int tok_at_null = !structural && ti >= 0 && !(req & ISC_REQ_ALLOCATE_MEMORY) &&
			  out->pBuffers[ti].cbBuffer != 0 && out->pBuffers[ti].pvBuffer == NULL;
	j->tok_i = (out && !structural && ti >= 0) ? ti : -1;
	if (j->tok_i >= 0)
		j->tok_before = out->pBuffers[ti];
	int first = ctxp == NULL, hc = H_STALE, xi = -1, ci = -1;
	if (first)
		hc = (credp != NULL && (ci = find_cred(&credv)) >= 0) ? H_LIVE : H_STALE;
	else
		hc = ctx_class(&ctxv, side, &xi);

	const char *nm = side == SIDE_I ? "InitializeSecurityContext" : "AcceptSecurityContext";
	if (!async) {
		SECURITY_STATUS st;
		SecHandle *newhp = !has_newh ? NULL : (mode == 1 && ctxp) ? &ctxv : &j->newh;
		if (side == SIDE_I) {
			INITIALIZE_SECURITY_CONTEXT_FN_A fn = (fl & 1) ? T->InitializeSecurityContextA
								      : InitializeSecurityContextA;
			st = fn(credp ? &credv : NULL, ctxp ? &ctxv : NULL, target, req, r1,
				SECURITY_NATIVE_DREP, in, r2, newhp, out, null_attrs ? NULL : &j->attrs,
				null_ts ? NULL : &j->ts);
		} else {
			ACCEPT_SECURITY_CONTEXT_FN fn = (fl & 1) ? T->AcceptSecurityContext
								: AcceptSecurityContext;
			st = fn(credp ? &credv : NULL, ctxp ? &ctxv : NULL, in, req, SECURITY_NATIVE_DREP,
				newhp, out, null_attrs ? NULL : &j->attrs, null_ts ? NULL : &j->ts);
		}
		if (mode == 1 && ctxp)
			j->newh = ctxv;
		trace("%s cred %d ctx %d class %d first %d target '%s' -> 0x%08x", side == SIDE_I ? "ISC" : "ASC",
		      ci, xi, hc, first, target ? target : "(null)", X(st));
		if (structural) {
			CHECK(st == SEC_E_INVALID_PARAMETER, "%s structural error: 0x%08x", nm, X(st));
			return;
		}
		if (first && credp == NULL) {
			CHECK(st == SEC_E_INVALID_HANDLE, "%s first leg without credential: 0x%08x", nm, X(st));
			return;
		}
		if (hc != H_LIVE) {
			CHECK(st == SEC_E_INVALID_HANDLE, "%s with a %s handle: 0x%08x", nm,
			      hc == H_DELETING ? "deleting" : "stale", X(st));
			if (hc == H_DELETING) {
				check_drained(xi, nm);
				G.ctxs[xi].st = ST_DEAD; /* it ran the queued delete on its way */
			}
		} else {
			CHECK(st != SEC_E_INVALID_HANDLE && st != SEC_E_INVALID_PARAMETER,
			      "%s with a live handle: 0x%08x", nm, X(st));
			if (!first)
				check_drained(xi, nm);
			if (tok_at_null)
				CHECK(st == SEC_E_INTERNAL_ERROR || (!first && st == SEC_E_OUT_OF_SEQUENCE),
				      "%s with a token buffer at NULL: 0x%08x", nm, X(st));
		}
		int made = st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED;
		if (!made) {
			CHECK(j->attrs == PAT_ATTR, "%s failed (0x%08x) but wrote *pfContextAttr", nm, X(st));
			CHECK(j->ts.QuadPart == PAT_TIME, "%s failed but wrote *ptsExpiry", nm);
			CHECK(heq(&j->newh, &j->newh_before), "%s failed but wrote phNewContext", nm);
			if (j->tok_i >= 0)
				CHECK(out->pBuffers[ti].cbBuffer == j->tok_before.cbBuffer &&
					      out->pBuffers[ti].pvBuffer == j->tok_before.pvBuffer,
				      "%s failed but wrote the output buffer", nm);
			return;
		}
		CHECK(j->attrs != PAT_ATTR, "%s succeeded without *pfContextAttr", nm);
		if (!null_ts)
			CHECK(j->ts.QuadPart != PAT_TIME, "%s succeeded without *ptsExpiry", nm);
		if (first) {
			CHECK(has_newh && !heq(&j->newh, &j->newh_before), "%s first leg wrote no handle", nm);
			issued_two_word(&j->newh, nm);
			G.ever_ctx++;
			int x = G.nctx++;
			G.ctxs[x] = (struct ctxo){j->newh, ST_LIVE, (uint8_t)side, 0, ci, -1, -1};
			G.xs[new_slot] = j->newh;
		} else if (has_newh) {
			CHECK(heq(&j->newh, &G.ctxs[xi].h), "%s later leg wrote another handle", nm);
		}
		if (j->tok_i >= 0) {
			SecBuffer *t = &out->pBuffers[ti];
			struct token *dst = &G.tok[tok_out];
			if ((req & ISC_REQ_ALLOCATE_MEMORY)) {
				if (t->pvBuffer != NULL && t->pvBuffer != j->tok_before.pvBuffer) {
					buf_add(t->pvBuffer, "leg ALLOCATE_MEMORY");
					CHECK(t->cbBuffer <= 512, "allocated token of %lu bytes", t->cbBuffer);
					memcpy(dst->b, t->pvBuffer, t->cbBuffer);
					dst->len = t->cbBuffer;
				}
			} else {
				CHECK(t->cbBuffer <= j->tok_before.cbBuffer && t->pvBuffer == j->tok_before.pvBuffer,
				      "%s token %lu bytes, room was %lu", nm, t->cbBuffer, j->tok_before.cbBuffer);
				if (t->cbBuffer)
					memcpy(dst->b, t->pvBuffer, t->cbBuffer);
				dst->len = t->cbBuffer;
			}
		}
		return;
	}

	/* async */
	/* A DELETING context "admits no new call": documented as a bad handle
	 * (completes SEC_E_INVALID_HANDLE, takes no memory, never refused at
	 * the bound); before the K5 fix it was queued as an ordinary leg.  Its
	 * job counts as maybe pending for the bound either way. */
	int exempt = EX_NO;
	if (hc == H_STALE || (first && credp == NULL))
		exempt = EX_YES;
	else if (hc == H_DELETING)
		exempt = EX_MAYBE;
	SECURITY_STATUS want;
	int may_bound = 0, ai = -1;
	if (acw == 0)
		want = SEC_E_INVALID_HANDLE;
	else if (structural)
		want = SEC_E_INVALID_PARAMETER;
	else
		ai = submit_expect(acw, exempt, &want, &may_bound);
	CHECK(ai < 0 || j == &G.acs[ai].job, "harness: job storage");
	/* Inputs are copied at submission: heap copies freed right after. */
	SecBuffer *in_bc = NULL;
	SecBufferDesc *in_dc = NULL;
	unsigned char *in_rc = NULL;
	if (in != NULL) {
		in_dc = dup_mem(in, sizeof *in);
		if (in->pBuffers != NULL && in->cBuffers <= 4) {
			in_rc = dup_mem(in_region, REGION);
			in_bc = dup_mem(in->pBuffers, sizeof(SecBuffer) * (in->cBuffers ? in->cBuffers : 1));
			for (unsigned long k = 0; k < in->cBuffers; k++)
				if (in_bc[k].pvBuffer != NULL)
					in_bc[k].pvBuffer = in_rc + ((unsigned char *)in_bc[k].pvBuffer - in_region);
			in_dc->pBuffers = in_bc;
		}
	}
	char *tc = target ? dup_mem(target, strlen(target) + 1) : NULL;
	SecHandle *ctxc = NULL, *credc = credp ? dup_mem(&credv, sizeof credv) : NULL;
	SecHandle *newhp = !has_newh ? NULL : &j->newh;
	if (ctxp != NULL)
		ctxc = (mode == 1) ? &j->newh : dup_mem(&ctxv, sizeof ctxv);
	SECURITY_STATUS st;
	if (side == SIDE_I)
		st = SspiInitializeSecurityContextAsyncA((SspiAsyncContext *)acw, credc, ctxc, tc, req, r1,
							 SECURITY_NATIVE_DREP, in_dc, r2, newhp, out,
							 null_attrs ? NULL : &j->attrs, null_ts ? NULL : &j->ts);
	else
		st = SspiAcceptSecurityContextAsync((SspiAsyncContext *)acw, credc, ctxc, in_dc, req,
						    SECURITY_NATIVE_DREP, newhp, out,
						    null_attrs ? NULL : &j->attrs, null_ts ? NULL : &j->ts);
	free(tc);
	free(credc);
	if (ctxc != &j->newh)
		free(ctxc);
	free(in_dc);
	free(in_bc);
	free(in_rc);
	trace("async %s ac %#lx cred %d ctx %d class %d first %d exempt %d -> 0x%08x",
	      side == SIDE_I ? "ISC" : "ASC", (unsigned long)acw, ci, xi, hc, first, exempt, X(st));
	if (hc == H_DELETING && st == SEC_E_INSUFFICIENT_MEMORY && want == SEC_E_OK &&
	    G.max_pending != 0 && pending_count(2) + G.abandoned >= (int)G.max_pending) {
		/* sspi.h: never for a call with a bad handle (it completes
		 * SEC_E_INVALID_HANDLE); a DELETING handle admits no call. */
		known(4, "leg on a DELETING context refused at the pending-call bound");
		return;
	}
	submit_check(st, want, may_bound, side == SIDE_I ? "SspiInitializeSecurityContextAsync"
						       : "SspiAcceptSecurityContextAsync");
	if (st != SEC_E_OK)
		return;
	j->kind = side == SIDE_I ? J_ISC : J_ASC;
	j->first = (uint8_t)first;
	j->exempt = (uint8_t)exempt;
	j->stale = hc != H_LIVE;
	j->ctx = xi;
	j->cred = ci;
	j->alloc = (req & ISC_REQ_ALLOCATE_MEMORY) != 0;
	j->tok_at_null = (uint8_t)tok_at_null;
	j->has_newh = (uint8_t)has_newh;
	j->has_ts = !null_ts;
	j->new_slot = new_slot;
	j->tok_out = tok_out;
	if (first && hc == H_LIVE)
		G.ever_ctx++;
	submitted(ai);
}

/* ------------------------------------------------------------------------ */
/* Ops: contexts                                                             */
/* ------------------------------------------------------------------------ */

static void op_delete(int async)
{
	uint8_t acb = async ? u8() : 0;
	uint8_t fl = u8();
	SecHandle *p = ctx_ptr(u8());
	if (fl & 2)
		p = NULL;
	SecHandle v = p ? *p : (SecHandle){0, 0};
	int xi = -1, hc = p ? ctx_class(&v, 0, &xi) : H_STALE;
	if (!async) {
		DELETE_SECURITY_CONTEXT_FN fn = (fl & 1) ? T->DeleteSecurityContext : DeleteSecurityContext;
		SECURITY_STATUS st = fn(p ? &v : NULL);
		trace("ctx %d class %d -> 0x%08x", xi, hc, X(st));
		CHECK(st == (hc == H_LIVE ? SEC_E_OK : SEC_E_INVALID_HANDLE),
		      "DeleteSecurityContext of a %s context: 0x%08x",
		      hc == H_LIVE ? "live" : hc == H_DELETING ? "deleting" : "stale", X(st));
		if (hc == H_LIVE) {
			G.ctxs[xi].st = ST_DEAD;
			G.ctxs[xi].delete_op = G.opno;
			check_drained(xi, "DeleteSecurityContext");
		}
		return;
	}
	uintptr_t acw = ac_val(acb);
	SECURITY_STATUS want;
	int may_bound = 0, ai = acw ? submit_expect(acw, EX_YES, &want, &may_bound) : -1;
	if (acw == 0)
		want = SEC_E_INVALID_HANDLE;
	SecHandle *vp = p ? dup_mem(&v, sizeof v) : NULL;
	SECURITY_STATUS st = SspiDeleteSecurityContextAsync((SspiAsyncContext *)acw, vp);
	free(vp);
	trace("async ac %#lx ctx %d class %d -> 0x%08x", (unsigned long)acw, xi, hc, X(st));
	submit_check(st, want, may_bound, "SspiDeleteSecurityContextAsync");
	if (st != SEC_E_OK)
		return;
	struct job *j = &G.acs[ai].job;
	memset(j, 0, sizeof *j);
	j->kind = J_DEL;
	j->exempt = EX_YES;
	j->exact = hc == H_LIVE ? SEC_E_OK : SEC_E_INVALID_HANDLE;
	j->ctx = hc == H_LIVE ? xi : -1;
	j->cred = -1;
	if (hc == H_LIVE) {
		G.ctxs[xi].st = ST_DELETING;
		G.ctxs[xi].delete_op = G.opno;
		G.ctxs[xi].del_ac = ai;
	}
	submitted(ai);
}

/* A synchronous call on context @xi ran the async calls queued on it
 * first ("a synchronous call on a security context first runs the calls
 * queued before it on that context"; a synchronous delete fails them "at
 * once"): none of them may still be PENDING. */
static void check_drained(int xi, const char *what)
{
	if (xi < 0)
		return;
	for (int i = 0; i < G.nac; i++) {
		struct aco *a = &G.acs[i];
		if (a->st != ST_LIVE || a->call != AC_PENDING || a->job.stale || a->job.ctx != xi ||
		    (a->job.kind != J_ISC && a->job.kind != J_ASC && a->job.kind != J_DEL))
			continue;
		SECURITY_STATUS st = SspiGetAsyncCallStatus((SspiAsyncContext *)a->w);
		CHECK(st != SEC_I_ASYNC_CALL_PENDING,
		      "%s on context #%d returned with async context #%d's call on it still queued", what,
		      xi, i);
	}
}

/* A synchronous call that admits like a query ran on @xi: if it was
 * DELETING, the queued delete ran on its way. */
static void ran_queued(int xi, int hc)
{
	check_drained(xi, "a synchronous call");
	if (hc == H_DELETING)
		G.ctxs[xi].st = ST_DEAD;
}

static void query_ctx_value(const SecHandle *h, unsigned long attr, int null_buf)
{
	union {
		SecPkgContext_Sizes sz;
		SecPkgContext_NamesA nm;
		SecPkgContext_Lifespan ls;
		SecPkgContext_PackageInfoA pi;
		unsigned char raw[64];
	} buf;
	memset(&buf, 0x5A, sizeof buf);
	SecHandle v = h ? *h : (SecHandle){0, 0};
	int xi = -1, hc = h ? ctx_class(&v, 0, &xi) : H_STALE;
	SECURITY_STATUS st = QueryContextAttributesA(h ? &v : NULL, attr, null_buf ? NULL : &buf);
	trace("query ctx %d class %d attr %lu -> 0x%08x", xi, hc, attr, X(st));
	if (G.in_shutdown) {
		CHECK(st == SEC_E_SHUTDOWN_IN_PROGRESS || (h == NULL && st == SEC_E_INVALID_HANDLE) ||
			      (null_buf && st == SEC_E_INVALID_PARAMETER),
		      "query during shutdown: 0x%08x", X(st));
		return;
	}
	if (null_buf) {
		if (h == NULL && st == SEC_E_INVALID_HANDLE)
			known(1, "QueryContextAttributesA(NULL, attr, NULL)");
		else
			CHECK(st == SEC_E_INVALID_PARAMETER, "QueryContextAttributes NULL buffer: 0x%08x",
			      X(st));
		return;
	}
	if (hc != H_LIVE) {
		CHECK(st == SEC_E_INVALID_HANDLE, "QueryContextAttributes on a %s context: 0x%08x",
		      hc == H_DELETING ? "deleting" : "stale", X(st));
		ran_queued(xi, hc);
		return;
	}
	check_drained(xi, "QueryContextAttributes");
	int supported = attr == SECPKG_ATTR_SIZES || attr == SECPKG_ATTR_NAMES ||
			attr == SECPKG_ATTR_LIFESPAN || attr == SECPKG_ATTR_PACKAGE_INFO;
	CHECK((st == SEC_E_OK && supported) || (st == SEC_E_UNSUPPORTED_FUNCTION && !supported) ||
		      st == SEC_E_OUT_OF_SEQUENCE,
	      "QueryContextAttributes live, attr %lu: 0x%08x", attr, X(st));
	if (st != SEC_E_OK)
		return;
	if (attr == SECPKG_ATTR_NAMES)
		buf_add(buf.nm.sUserName, "QueryContextAttributes(NAMES)");
	if (attr == SECPKG_ATTR_PACKAGE_INFO) {
		buf_add(buf.pi.PackageInfo, "QueryContextAttributes(PACKAGE_INFO)");
		CHECK(strcmp(buf.pi.PackageInfo->Name, "SspiAsyncTest") == 0, "package name");
	}
	if (attr == SECPKG_ATTR_SIZES)
		CHECK(buf.sz.cbMaxToken == 512 && buf.sz.cbSecurityTrailer == 16, "sizes");
}

static void op_query_ctx(void)
{
	uint8_t fl = u8();
	SecHandle *p = ctx_ptr(u8());
	uint8_t ab = u8();
	static const unsigned long common[4] = {SECPKG_ATTR_SIZES, SECPKG_ATTR_NAMES,
						SECPKG_ATTR_LIFESPAN, SECPKG_ATTR_PACKAGE_INFO};
	unsigned long attr = ab < 0x80 ? common[ab % 4u] : ab < 0xF0 ? (unsigned long)(ab % 40u) : u32();
	if (fl & 2)
		p = NULL;
	query_ctx_value(p, attr, (fl & 4) != 0);
}

static void op_complete_auth(void)
{
	uint8_t fl = u8();
	SecHandle *p = ctx_ptr(u8());
	if (fl & 2)
		p = NULL;
	SecBufferDesc d, *dp = &d;
	SecBuffer b[4];
	uint8_t m = u8();
	if (m % 3 == 0)
		dp = NULL;
	else if (m % 3 == 1)
		desc_random(&d, b, G.scr[2], REGION);
	else
		d = (SecBufferDesc){SECBUFFER_VERSION, 0, NULL};
	SecHandle v = p ? *p : (SecHandle){0, 0};
	int xi = -1, hc = p ? ctx_class(&v, 0, &xi) : H_STALE;
	COMPLETE_AUTH_TOKEN_FN fn = (fl & 1) ? T->CompleteAuthToken : CompleteAuthToken;
	SECURITY_STATUS st = fn(p ? &v : NULL, dp);
	trace("ctx %d class %d -> 0x%08x", xi, hc, X(st));
	if (!desc_ok(dp, 0)) {
		if (p == NULL && st == SEC_E_INVALID_HANDLE)
			known(1, "CompleteAuthToken(NULL, bad desc)");
		else
			CHECK(st == SEC_E_INVALID_PARAMETER, "CompleteAuthToken structural: 0x%08x", X(st));
		return;
	}
	if (hc != H_LIVE) {
		CHECK(st == SEC_E_INVALID_HANDLE, "CompleteAuthToken on a stale context: 0x%08x", X(st));
		ran_queued(xi, hc);
		return;
	}
	CHECK(st == SEC_E_UNSUPPORTED_FUNCTION || st == SEC_E_OUT_OF_SEQUENCE,
	      "CompleteAuthToken live: 0x%08x", X(st));
	check_drained(xi, "CompleteAuthToken");
}

/* MakeSignature, VerifySignature, EncryptMessage, DecryptMessage. */
static void op_message(int which)
{
	static const char *const names[4] = {"MakeSignature", "VerifySignature", "EncryptMessage",
					     "DecryptMessage"};
	uint8_t fl = u8();
	SecHandle *p = ctx_ptr(u8());
	if (fl & 2)
		p = NULL;
	uint8_t m = u8();
	uint8_t qb = u8();
	unsigned long seq = u8();
	unsigned long qop = qb == 0 ? 0 : qb == 1 ? SECQOP_WRAP_NO_ENCRYPT : qb < 0xF0 ? 0 : u32();
	SecBufferDesc *d = &G.sd_msg;
	SecBuffer *b = G.sb_msg;
	struct msgset *ms = &G.msg[(m >> 2) % NMSG];
	switch (m & 3u) {
	case 0: /* DATA + TOKEN of one message set */
	case 3: {
		uint8_t l = u8(), s = u8();
		b[0] = (SecBuffer){(unsigned long)(l % 97u), SECBUFFER_DATA | ((m & 3u) == 3 ? SECBUFFER_READONLY : 0), ms->data};
		b[1] = (SecBuffer){(s & 0x80) ? 16ul : (unsigned long)(s % 33u), SECBUFFER_TOKEN, ms->sig};
		*d = (SecBufferDesc){SECBUFFER_VERSION, 2, b};
		break;
	}
	case 1:
		desc_random(d, b, (unsigned char *)ms, sizeof *ms);
		break;
	default:
		d = NULL;
		break;
	}
	int null_qop = (fl & 4) != 0;
	unsigned long qout = PAT_ATTR;
	SecHandle v = p ? *p : (SecHandle){0, 0};
	int xi = -1, hc = p ? ctx_class(&v, 0, &xi) : H_STALE;
	int via = fl & 1;
	SECURITY_STATUS st;
	switch (which) {
	case 0:
		st = (via ? T->MakeSignature : MakeSignature)(p ? &v : NULL, qop, d, seq);
		break;
	case 1:
		st = (via ? T->VerifySignature : VerifySignature)(p ? &v : NULL, d, seq,
								  null_qop ? NULL : &qout);
		break;
	case 2:
		st = (via ? T->EncryptMessage : EncryptMessage)(p ? &v : NULL, qop, d, seq);
		break;
	default:
		st = (via ? T->DecryptMessage : DecryptMessage)(p ? &v : NULL, d, seq,
								null_qop ? NULL : &qout);
		break;
	}
	trace("%s ctx %d class %d qop %#lx seq %lu -> 0x%08x", names[which], xi, hc, qop, seq, X(st));
	int structural = !desc_ok(d, 0) || (which == 1 && null_qop);
	if (which == 1 && null_qop) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "VerifySignature(pfQOP NULL): 0x%08x", X(st));
		return;
	}
	if (structural) {
		if (p == NULL && st == SEC_E_INVALID_HANDLE)
			known(1, "message call with NULL handle and bad descriptor");
		else
			CHECK(st == SEC_E_INVALID_PARAMETER, "%s structural error: 0x%08x", names[which], X(st));
		return;
	}
	if (hc != H_LIVE) {
		CHECK(st == SEC_E_INVALID_HANDLE, "%s on a %s context: 0x%08x", names[which],
		      hc == H_DELETING ? "deleting" : "stale", X(st));
		ran_queued(xi, hc);
		return;
	}
	CHECK(st != SEC_E_INVALID_HANDLE && st != SEC_E_INVALID_PARAMETER,
	      "%s on a live context: 0x%08x", names[which], X(st));
	check_drained(xi, names[which]);
	if ((which == 1 || which == 3) && st != SEC_E_OK && !null_qop)
		CHECK(qout == PAT_ATTR, "%s failed but wrote *pfQOP", names[which]);
}

/* ------------------------------------------------------------------------ */
/* Ops: packages, buffers, the function table                                */
/* ------------------------------------------------------------------------ */

static void op_enumerate(void)
{
	uint8_t fl = u8();
	unsigned long n = PAT_ATTR;
	PSecPkgInfoA info = (PSecPkgInfoA)(uintptr_t)PAT_WORD;
	ENUMERATE_SECURITY_PACKAGES_FN_A fn = (fl & 4) ? T->EnumerateSecurityPackagesA
						      : EnumerateSecurityPackagesA;
	SECURITY_STATUS st = fn((fl & 1) ? NULL : &n, (fl & 2) ? NULL : &info);
	trace("-> 0x%08x", X(st));
	if (fl & 3) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "EnumerateSecurityPackages(NULL): 0x%08x", X(st));
		return;
	}
	CHECK(st == SEC_E_OK && n == 2 && strcmp(info[0].Name, "SspiAsyncTest") == 0 &&
		      info[0].cbMaxToken == 512 && strcmp(info[1].Name, "NTLM") == 0 &&
		      info[1].cbMaxToken == 2888,
	      "EnumerateSecurityPackages: 0x%08x n %lu", X(st), n);
	G.rt_up = 1;
	buf_add(info, "EnumerateSecurityPackages");
}

static void op_query_pkg(void)
{
	uint8_t fl = u8();
	char nb[64];
	int pk;
	char *name = pkg_make(nb, sizeof nb, &pk);
	if (fl & 8) { /* raw bytes */
		unsigned len = u8() % 20u, k;
		for (k = 0; k < len; k++) {
			nb[k] = (char)u8();
			if (nb[k] == '\0')
				break;
		}
		nb[k] = '\0';
		name = nb;
		pk = strcasecmp(nb, "SspiAsyncTest") == 0;
	}
	PSecPkgInfoA info = (PSecPkgInfoA)(uintptr_t)PAT_WORD;
	QUERY_SECURITY_PACKAGE_INFO_FN_A fn = (fl & 4) ? T->QuerySecurityPackageInfoA
						      : QuerySecurityPackageInfoA;
	SECURITY_STATUS st = fn((fl & 1) ? NULL : name, (fl & 2) ? NULL : &info);
	trace("'%s' -> 0x%08x", name ? name : "(null)", X(st));
	if ((fl & 1) || (fl & 2) || name == NULL) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "QuerySecurityPackageInfo(NULL): 0x%08x", X(st));
		return;
	}
	if (!pk && strcasecmp(name, "NTLM") == 0) { /* the other package (raw bytes may spell it) */
		CHECK(st == SEC_E_OK && strcmp(info->Name, "NTLM") == 0,
		      "QuerySecurityPackageInfo('%s'): 0x%08x", name, X(st));
		buf_add(info, "QuerySecurityPackageInfo");
		return;
	}
	if (!pk) {
		CHECK(st == SEC_E_SECPKG_NOT_FOUND, "QuerySecurityPackageInfo('%s'): 0x%08x", name, X(st));
		CHECK(info == (PSecPkgInfoA)(uintptr_t)PAT_WORD, "failed query wrote");
		return;
	}
	CHECK(st == SEC_E_OK && strcmp(info->Name, "SspiAsyncTest") == 0,
	      "QuerySecurityPackageInfo('%s'): 0x%08x", name, X(st));
	buf_add(info, "QuerySecurityPackageInfo");
}

static void op_free_buffer(void)
{
	uint8_t m = u8(), k = u8();
	void *p = NULL;
	const char *what = "NULL";
	int live = -1;
	switch (m % 6u) {
	case 0:
		break;
	case 1: /* a live one, if any */
		for (int n = 0, i = 0; i < G.nbuf; i++)
			if (G.bufs[i].live && n++ == k % 8) {
				p = G.bufs[i].p;
				break;
			}
		what = "live";
		break;
	case 2: /* freed or from an earlier runtime */
		if (G.nbuf)
			p = G.bufs[k % G.nbuf].p;
		what = "old";
		break;
	case 3:
		p = &G.scr[3][k % 64u];
		what = "foreign";
		break;
	case 4:
		for (int i = 0; i < G.nbuf; i++)
			if (G.bufs[i].live) {
				p = (char *)G.bufs[i].p + 1 + k % 8u;
				break;
			}
		what = "interior";
		break;
	default:
		p = (void *)(uintptr_t)(u64() | 1u);
		what = "forged";
		break;
	}
	if (p != NULL)
		live = buf_find(p);
	FREE_CONTEXT_BUFFER_FN fn = (m & 0x80) ? T->FreeContextBuffer : FreeContextBuffer;
	SECURITY_STATUS st = fn(p);
	trace("%s %p live %d -> 0x%08x", what, p, live, X(st));
	if (p == NULL) {
		CHECK(st == SEC_E_OK, "FreeContextBuffer(NULL): 0x%08x", X(st));
		return;
	}
	CHECK(st == (live >= 0 ? SEC_E_OK : SEC_E_INVALID_HANDLE),
	      "FreeContextBuffer of a %s pointer (ours: %d): 0x%08x", what, live >= 0, X(st));
	if (live >= 0)
		G.bufs[live].live = 0;
}

/* The slots of functions the library does not implement yet, and the
 * table: each checks its handle (a context one as CompleteAuthToken does,
 * running the calls queued before it) or its package, then answers
 * SEC_E_UNSUPPORTED_FUNCTION. */
static void op_stubs(void)
{
	uint8_t w = u8();
	SecHandle *x = ctx_ptr(u8());
	SecHandle *c = cred_ptr(u8());
	ENCRYPT_MESSAGE_FN seal = NULL;
	DECRYPT_MESSAGE_FN unseal = NULL;
	if (T != NULL) {
		memcpy(&seal, &T->Reserved3, sizeof seal);
		memcpy(&unseal, &T->Reserved4, sizeof unseal);
	}
	CHECK(T != NULL && T->dwVersion == SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4 &&
		      T->Reserved2 == NULL && seal == EncryptMessage && unseal == DecryptMessage &&
		      T->Reserved8 == NULL,
	      "InitSecurityInterfaceA table");
	CHECK(InitSecurityInterfaceA() == T, "InitSecurityInterfaceA changed");
	SecBuffer sb = {4, SECBUFFER_TOKEN, G.scr[3]};
	SecBufferDesc sd = {SECBUFFER_VERSION, 1, &sb};
	void *tokp = NULL;
	HANDLE hh = NULL;
	char s1[] = "a", s2[] = "b";
	int xi = -1, hc = x != NULL ? ctx_class(x, 0, &xi) : H_STALE;
	int live_cred = c != NULL && find_cred(c) >= 0;
	enum { ON_CTX, ON_CRED, ON_PACKAGE } on = ON_CTX;
	SECURITY_STATUS st;
	switch (w % 12u) {
	case 0: st = T->ApplyControlToken(x, &sd); break;
	case 1: st = T->ImpersonateSecurityContext(x); break;
	case 2: st = T->RevertSecurityContext(x); break;
	case 3: st = T->ExportSecurityContext(x, 0, &sb, &tokp); break;
	case 4: st = T->ImportSecurityContextA(s1, &sb, NULL, x), on = ON_PACKAGE; break;
	case 5: /* the package is looked up before the credential */
		st = T->AddCredentialsA(c, s1, s2, SECPKG_CRED_BOTH, NULL, NULL, NULL, NULL);
		on = ON_PACKAGE;
		break;
	case 6: st = T->QuerySecurityContextToken(x, &hh); break;
	case 7: st = T->SetContextAttributesA(x, 1, G.scr[3], 8); break;
	case 8: st = T->SetCredentialsAttributesA(c, 1, G.scr[3], 8), on = ON_CRED; break;
	case 9: st = T->ChangeAccountPasswordA(s1, s2, s1, s2, s1, FALSE, 0, &sd), on = ON_PACKAGE; break;
	case 10: st = T->QueryContextAttributesExA(x, 0, G.scr[3], 8); break;
	default: st = T->QueryCredentialsAttributesExA(c, 1, G.scr[3], 8), on = ON_CRED; break;
	}
	trace("stub %u ctx %d class %d -> 0x%08x", w % 12u, xi, hc, X(st));
	if (on == ON_PACKAGE && w % 12u == 4 && x == NULL) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "ImportSecurityContext, NULL handle pointer: 0x%08x",
		      X(st)); /* phContext is its output: a required pointer */
	} else if (on == ON_PACKAGE) {
		CHECK(st == SEC_E_SECPKG_NOT_FOUND, "stub %u, unknown package: 0x%08x", w % 12u, X(st));
	} else if (on == ON_CRED) {
		CHECK(st == (live_cred ? SEC_E_UNSUPPORTED_FUNCTION : SEC_E_INVALID_HANDLE),
		      "stub %u on a credential (live %d): 0x%08x", w % 12u, live_cred, X(st));
	} else if (hc != H_LIVE) {
		CHECK(st == SEC_E_INVALID_HANDLE, "stub %u on a stale context: 0x%08x", w % 12u, X(st));
		ran_queued(xi, hc);
	} else {
		CHECK(st == SEC_E_UNSUPPORTED_FUNCTION || st == SEC_E_OUT_OF_SEQUENCE,
		      "stub %u live: 0x%08x", w % 12u, X(st));
		check_drained(xi, "a function-table stub");
	}
}

/* ------------------------------------------------------------------------ */
/* Ops: async contexts                                                       */
/* ------------------------------------------------------------------------ */

static void op_ac_create(void)
{
	int slot = u8() % NAC;
	if (G.nac >= MAXOBJ)
		return;
	SspiAsyncContext *a = SspiCreateAsyncContext();
	trace("slot %d -> %p", slot, (void *)a);
	int full_allowed = G.max_ac && G.ever_ac >= (int)G.max_ac;
	int full_must = G.max_ac && ac_live_count() >= (int)G.max_ac;
	if (a == NULL) {
		CHECK(full_allowed, "SspiCreateAsyncContext returned NULL (live %d, made %d, max %u)",
		      ac_live_count(), G.ever_ac, G.max_ac);
		return;
	}
	CHECK(!full_must, "SspiCreateAsyncContext past max_async %u", G.max_ac);
	G.rt_up = 1;
	issued_one_word((uintptr_t)a, 0, "SspiCreateAsyncContext");
	G.ever_ac++;
	int i = G.nac++;
	struct aco *o = &G.acs[i];
	memset(o, 0, sizeof *o);
	o->w = (uintptr_t)a;
	o->st = ST_LIVE;
	o->call = AC_IDLE;
	o->cq = -1;
	G.as[slot] = o->w;
	CHECK(!SspiAsyncContextRequiresNotify(a), "new async context requires notify");
	CHECK(SspiGetAsyncCallStatus(a) == SEC_E_INVALID_PARAMETER, "new async context is not IDLE");
}

/* Free async context @i (live): its call, if any, is abandoned. */
static void ac_forget(int i)
{
	struct aco *a = &G.acs[i];
	if (a->undeliv && a->cq < 0)
		G.abandoned++; /* its notify entry stays queued (no call) until the next run */
	if (a->call == AC_PENDING) {
		G.abandoned++;
		if (a->job.kind == J_DEL && a->job.ctx >= 0 && G.ctxs[a->job.ctx].st == ST_DELETING) {
			G.ctxs[a->job.ctx].maybe_dead = 1;
			G.ctxs[a->job.ctx].del_ac = -1;
		}
	}
	if (a->cq >= 0) {
		struct cqo *q = &G.cqs[a->cq];
		for (int k = 0; k < q->nrec; k++)
			if (q->rec_ac[k] == i) {
				memmove(&q->rec_ac[k], &q->rec_ac[k + 1], sizeof(int) * (size_t)(q->nrec - k - 1));
				memmove(&q->rec_op[k], &q->rec_op[k + 1], sizeof(int) * (size_t)(q->nrec - k - 1));
				q->nrec--;
				break;
			}
		q->bound--;
		a->cq = -1;
	}
	a->st = ST_DEAD;
}

static void op_ac_free(void)
{
	uintptr_t w = ac_val(u8());
	int i = find_ac(w);
	SspiFreeAsyncContext((SspiAsyncContext *)w);
	trace("%#lx (#%d)", (unsigned long)w, i);
	if (i >= 0)
		ac_forget(i);
	if (w != 0 && find_ac(w) < 0)
		CHECK(SspiGetAsyncCallStatus((SspiAsyncContext *)w) == SEC_E_INVALID_HANDLE,
		      "freed async context still answers");
}

static void op_ac_reinit(void)
{
	uintptr_t w = ac_val(u8());
	int i = find_ac(w);
	NTSTATUS ns = SspiReinitAsyncContext((SspiAsyncContext *)w);
	trace("%#lx (#%d) -> 0x%08x", (unsigned long)w, i, X(ns));
	if (i < 0) {
		CHECK(ns == STATUS_INVALID_HANDLE, "reinit of a stale async context: 0x%08x", X(ns));
		return;
	}
	struct aco *a = &G.acs[i];
	if (a->call == AC_PENDING || a->undeliv) {
		CHECK(ns == STATUS_INVALID_DEVICE_STATE, "reinit while %s: 0x%08x",
		      a->call == AC_PENDING ? "PENDING" : "undelivered", X(ns));
		return;
	}
	CHECK(ns == STATUS_SUCCESS, "reinit: 0x%08x", X(ns));
	a->call = AC_IDLE;
}

static void op_ac_setcb(void)
{
	uintptr_t w = ac_val(u8());
	uint8_t c = u8(), act = u8();
	int i = find_ac(w);
	int set = c != 0;
	void *data = i >= 0 ? (void *)&G.acs[i] : (void *)&G.junk;
	SECURITY_STATUS st = SspiSetAsyncNotifyCallback((SspiAsyncContext *)w, set ? fz_cb : NULL, data);
	trace("%#lx (#%d) set %d action %d -> 0x%08x", (unsigned long)w, i, set, act % A_COUNT, X(st));
	if (i < 0) {
		CHECK(st == SEC_E_INVALID_HANDLE, "set callback on a stale async context: 0x%08x", X(st));
		return;
	}
	struct aco *a = &G.acs[i];
	if (set && a->call == AC_PENDING) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "set callback while PENDING: 0x%08x", X(st));
		return;
	}
	CHECK(st == SEC_E_OK, "set callback: 0x%08x", X(st));
	a->cb = (uint8_t)set;
	a->cb_data = set ? data : NULL;
	a->action = (uint8_t)(act % A_COUNT);
	if (!set) {
		/* Also an undelivered completion's: its record then carries no
		 * data (sspiasync.h, test_cq_record_data_null_after_callback_cleared). */
		a->done_cb = 0;
		a->done_data = NULL;
	}
}

static void op_ac_requires(void)
{
	uintptr_t w = ac_val(u8());
	int i = find_ac(w);
	BOOLEAN r = SspiAsyncContextRequiresNotify((SspiAsyncContext *)w);
	trace("%#lx (#%d) -> %d", (unsigned long)w, i, r);
	CHECK(r == ((i >= 0 && G.acs[i].cb) ? TRUE : FALSE), "RequiresNotify: %d", r);
}

static void op_ac_status(void)
{
	uintptr_t w = ac_val(u8());
	int i = find_ac(w);
	SECURITY_STATUS st = SspiGetAsyncCallStatus((SspiAsyncContext *)w);
	trace("%#lx (#%d) -> 0x%08x", (unsigned long)w, i, X(st));
	if (i < 0) {
		CHECK(st == SEC_E_INVALID_HANDLE, "status of a stale async context: 0x%08x", X(st));
		return;
	}
	struct aco *a = &G.acs[i];
	if (a->call == AC_IDLE)
		CHECK(st == SEC_E_INVALID_PARAMETER, "status of IDLE: 0x%08x", X(st));
	else if (a->call == AC_PENDING)
		CHECK(st == SEC_I_ASYNC_CALL_PENDING, "status of PENDING: 0x%08x", X(st));
	else
		CHECK(st == a->status, "status of DONE: 0x%08x, completed 0x%08x", X(st), X(a->status));
}

/* ------------------------------------------------------------------------ */
/* Ops: runtime                                                              */
/* ------------------------------------------------------------------------ */

/* After run: every callback of an unbound call has been delivered. */
static void after_run(void)
{
	for (int i = 0; i < G.nac; i++) {
		struct aco *a = &G.acs[i];
		if (a->st != ST_LIVE || !a->undeliv || a->cq >= 0)
			continue;
		CHECK(!a->done_cb, "async context #%d: its callback was not delivered by run", i);
		a->undeliv = 0;
	}
}

static void op_run(void)
{
	unsigned max = u8() % 4u;
	G.cb_ok = G.in_run = 1;
	unsigned n = sspiasync_run(max);
	G.cb_ok = G.in_run = 0;
	trace("max %u -> %u", max, n);
	poll_all();
	after_run();
	if (max != 0)
		CHECK(n <= max, "sspiasync_run(%u) ran %u", max, n);
	for (int tries = 0; max == 0 && tries < 4 && G.cb_sub_op == G.opno && pending_count(0) > 0;
	     tries++) {
		/* K6: a callback delivered after run's job loop queued a call. */
		known(5, "sspiasync_run(0) returned with a call queued by a callback during it");
		G.cb_ok = G.in_run = 1;
		(void)sspiasync_run(0);
		G.cb_ok = G.in_run = 0;
		poll_all();
		after_run();
	}
	if (max == 0) {
		for (int i = 0; i < G.nac; i++)
			CHECK(!(G.acs[i].st == ST_LIVE && G.acs[i].call == AC_PENDING),
			      "async context #%d still PENDING after sspiasync_run(0)", i);
		quiescent_check("after sspiasync_run(0)");
	}
}

static void op_stats(void)
{
	struct sspiasync_statistics s;
	CHECK(sspiasync_stats(NULL) == SEC_E_INVALID_PARAMETER, "stats(NULL)");
	CHECK(sspiasync_stats(&s) == SEC_E_OK, "stats");
	trace("cred %llu ctx %llu ac %llu pending %llu", (unsigned long long)s.credentials,
	      (unsigned long long)s.contexts, (unsigned long long)s.async_contexts,
	      (unsigned long long)s.pending_calls);
	int pend = pending_count(0);
	CHECK(s.credentials >= (uint64_t)creds_lo() && s.contexts >= (uint64_t)ctx_live_count() &&
		      s.async_contexts >= (uint64_t)ac_live_count() && s.pending_calls >= (uint64_t)pend &&
		      s.pending_calls <= (uint64_t)(pend + G.abandoned) && s.worker_threads == 0,
	      "stats below the shadow: cred %llu ctx %llu ac %llu pending %llu (shadow %d %d %d %d+%d)",
	      (unsigned long long)s.credentials, (unsigned long long)s.contexts,
	      (unsigned long long)s.async_contexts, (unsigned long long)s.pending_calls, creds_lo(),
	      ctx_live_count(), ac_live_count(), pend, G.abandoned);
	CHECK(s.contexts <= (uint64_t)G.nctx && s.credentials <= (uint64_t)G.ncred &&
		      s.async_contexts <= (uint64_t)G.nac,
	      "stats above everything ever made");
	CHECK(s.completed_calls >= G.last_completed && s.rejected_stale >= G.last_stale,
	      "stats counters: completed %llu (was %llu), rejected_stale %llu (was %llu)",
	      (unsigned long long)s.completed_calls, (unsigned long long)G.last_completed,
	      (unsigned long long)s.rejected_stale, (unsigned long long)G.last_stale);
	G.last_completed = s.completed_calls;
	G.last_stale = s.rejected_stale;
}

static void config_make(struct sspiasync_config *c)
{
	/* b: pending bound (bits 0-2), contexts (3-5); e: credentials (0-2), async (3-5). */
	static const uint32_t pend[8] = {0, 1, 2, 3, 4, 8, 0, 0};
	static const uint32_t lim[8] = {0, 0, 0, 2, 3, 5, 8, 0};
	uint8_t b = u8(), e = u8();
	memset(c, 0, sizeof *c);
	c->max_pending = pend[b & 7];
	c->max_contexts = lim[(b >> 3) & 7];
	c->max_credentials = lim[e & 7];
	c->max_async = lim[(e >> 3) & 7];
	c->threads = 0;
}

static void limits_from(const struct sspiasync_config *c)
{
	G.max_pending = c ? c->max_pending : 0;
	G.max_ctx = c ? c->max_contexts : 0;
	G.max_cred = c ? c->max_credentials : 0;
	G.max_ac = c ? c->max_async : 0;
}

static void op_init(void)
{
	struct sspiasync_config c;
	config_make(&c);
	SECURITY_STATUS st = sspiasync_init(&c);
	trace("-> 0x%08x (up %d)", X(st), G.rt_up);
	if (G.rt_up) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "second sspiasync_init: 0x%08x", X(st));
		return;
	}
	CHECK(st == SEC_E_OK || st == SEC_E_INVALID_PARAMETER, "sspiasync_init: 0x%08x", X(st));
	if (st == SEC_E_OK)
		limits_from(&c);
	G.rt_up = 1;
}

static void check_all_zero(const char *where)
{
	struct sspiasync_statistics s;
	memset(&s, 0xff, sizeof s);
	CHECK(sspiasync_stats(&s) == SEC_E_OK, "stats");
	CHECK(s.credentials == 0 && s.contexts == 0 && s.async_contexts == 0 && s.pending_calls == 0 &&
		      s.completed_calls == 0 && s.rejected_stale == 0 && s.worker_threads == 0,
	      "%s: stats not all 0 (cred %llu ctx %llu ac %llu pending %llu)", where,
	      (unsigned long long)s.credentials, (unsigned long long)s.contexts,
	      (unsigned long long)s.async_contexts, (unsigned long long)s.pending_calls);
	struct sa_alloc_stats a;
	sa__alloc_stats(&a);
	CHECK(a.live_blocks == 0 && a.live_bytes == 0, "%s: %llu library blocks (%llu bytes) still live",
	      where, (unsigned long long)a.live_blocks, (unsigned long long)a.live_bytes);
}

/* Shut down: every call still queued is cancelled (callbacks run here),
 * every object goes, every handle issued before is stale for good. */
static void do_shutdown(const char *where)
{
	G.cb_ok = G.in_shutdown = 1;
	SECURITY_STATUS st = sspiasync_shutdown();
	G.cb_ok = G.in_shutdown = 0;
	CHECK(st == SEC_E_OK, "sspiasync_shutdown: 0x%08x", X(st));
	for (int i = 0; i < G.nac; i++) {
		struct aco *a = &G.acs[i];
		if (a->st != ST_LIVE)
			continue;
		CHECK(!(a->call == AC_PENDING && a->cb), "shutdown: queued call of #%d had no callback", i);
		CHECK(!(a->undeliv && a->done_cb), "shutdown: completion of #%d never delivered", i);
		a->st = ST_DEAD;
	}
	for (int i = 0; i < G.ncred; i++)
		G.creds[i].st = ST_DEAD;
	for (int i = 0; i < G.nctx; i++)
		G.ctxs[i].st = ST_DEAD;
	for (int i = 0; i < G.ncq; i++)
		G.cqs[i].st = ST_DEAD;
	for (int i = 0; i < G.nbuf; i++)
		G.bufs[i].live = 0;
	G.ever_ctx = G.ever_cred = G.ever_ac = 0;
	G.abandoned = 0;
	G.last_completed = G.last_stale = 0;
	check_all_zero(where);
}

static void op_shutdown(void)
{
	uint8_t m = u8();
	struct sspiasync_config c;
	config_make(&c);
	if (G.nrt + 1 >= MAXRT)
		return; /* bounded: a few runtimes per input are enough */
	G.nrt++;
	trace("then mode %u", m % 3u);
	do_shutdown("after sspiasync_shutdown");
	switch (m % 3u) {
	case 0:
		CHECK(sspiasync_init(&c) == SEC_E_OK, "init after shutdown");
		limits_from(&c);
		G.rt_up = 1;
		break;
	case 1: /* the next call initialises with the defaults */
		limits_from(NULL);
		G.rt_up = 0;
		break;
	default:
		CHECK(sspiasync_init(NULL) == SEC_E_OK, "init(NULL) after shutdown");
		limits_from(NULL);
		G.rt_up = 1;
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* Ops: completion queues                                                    */
/* ------------------------------------------------------------------------ */

static int fd_readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void op_cq_create(void)
{
	uint8_t fl = u8();
	int slot = u8() % NCQ;
	if (G.ncq >= MAXCQ)
		return;
	struct sspiasync_cq *q = (struct sspiasync_cq *)(uintptr_t)PAT_WORD;
	SECURITY_STATUS st = sspiasync_cq_create((fl & 1) ? NULL : &q);
	trace("-> 0x%08x %p", X(st), (void *)q);
	if (fl & 1) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "cq_create(NULL): 0x%08x", X(st));
		return;
	}
	CHECK(st == SEC_E_OK, "cq_create: 0x%08x", X(st));
	G.rt_up = 1;
	issued_one_word((uintptr_t)q, 1, "sspiasync_cq_create");
	int i = G.ncq++;
	struct cqo *o = &G.cqs[i];
	memset(o, 0, sizeof *o);
	o->w = (uintptr_t)q;
	o->st = ST_LIVE;
	o->fd = sspiasync_cq_fd(q);
	CHECK(o->fd >= 0, "new queue has no fd");
	G.qs[slot] = o->w;
}

static void op_cq_destroy(void)
{
	uintptr_t w = cq_val(u8());
	int i = find_cq(w);
	SECURITY_STATUS st = sspiasync_cq_destroy((struct sspiasync_cq *)w);
	trace("%#lx (#%d) -> 0x%08x", (unsigned long)w, i, X(st));
	if (i < 0) {
		CHECK(st == SEC_E_INVALID_HANDLE, "destroy of a stale queue: 0x%08x", X(st));
		return;
	}
	if (G.cqs[i].bound > 0) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "destroy of a queue with %d bound: 0x%08x",
		      G.cqs[i].bound, X(st));
		return;
	}
	CHECK(st == SEC_E_OK, "destroy: 0x%08x", X(st));
	G.cqs[i].st = ST_DEAD;
}

static void op_cq_fd(void)
{
	uintptr_t w = cq_val(u8());
	int i = find_cq(w);
	int fd = sspiasync_cq_fd((struct sspiasync_cq *)w);
	trace("%#lx (#%d) -> %d", (unsigned long)w, i, fd);
	if (i < 0) {
		CHECK(fd == -1, "fd of a stale queue: %d", fd);
		return;
	}
	struct cqo *q = &G.cqs[i];
	CHECK(fd == q->fd, "the queue's fd changed: %d, was %d", fd, q->fd);
	/* Readable exactly while records wait, or (no-thread) work is queued
	 * or a callback waits for run. */
	int r = fd_readable(fd);
	int work_lo = pending_count(0) > 0, work_hi = work_lo || G.abandoned > 0;
	int notify = 0;
	for (int k = 0; k < G.nac; k++)
		notify |= G.acs[k].st == ST_LIVE && G.acs[k].undeliv && G.acs[k].cq < 0;
	if (q->nrec > 0 || work_lo || notify)
		CHECK(r, "queue fd not readable (records %d, work %d, callbacks %d)", q->nrec, work_lo,
		      notify);
	else if (!work_hi)
		CHECK(!r, "queue fd readable with nothing to do");
}

static void op_cq_bind(void)
{
	uintptr_t w = ac_val(u8());
	uint8_t qb = u8();
	uintptr_t qw = cq_val(qb);
	int ai = find_ac(w), qi = find_cq(qw);
	SECURITY_STATUS st = sspiasync_cq_bind((SspiAsyncContext *)w, (struct sspiasync_cq *)qw);
	trace("ac %#lx (#%d) cq %#lx (#%d) -> 0x%08x", (unsigned long)w, ai, (unsigned long)qw, qi, X(st));
	if (ai < 0 || (qw != 0 && qi < 0)) {
		CHECK(st == SEC_E_INVALID_HANDLE, "bind with a stale %s: 0x%08x",
		      ai < 0 ? "async context" : "queue", X(st));
		return;
	}
	struct aco *a = &G.acs[ai];
	if (a->call == AC_PENDING || a->undeliv) {
		CHECK(st == SEC_E_INVALID_PARAMETER, "bind while busy: 0x%08x", X(st));
		return;
	}
	CHECK(st == SEC_E_OK, "bind: 0x%08x", X(st));
	if (a->cq >= 0)
		G.cqs[a->cq].bound--;
	a->cq = qi;
	if (qi >= 0)
		G.cqs[qi].bound++;
}

static void op_cq_reap(void)
{
	uint8_t qb = u8(), fl = u8();
	uintptr_t w = cq_val(qb);
	unsigned n = fl & 0x80 ? 64u : (unsigned)(fl & 7u);
	int null_out = (fl & 0x40) != 0;
	struct sspiasync_completion out[64];
	memset(out, 0x5A, sizeof out);
	int qi = find_cq(w);
	/* The records before reap (the order is known only between ops). */
	struct cqo *q = qi >= 0 ? &G.cqs[qi] : NULL;
	int sn = q ? q->nrec : 0;
	int snap_ac[MAXOBJ], snap_op[MAXOBJ];
	for (int k = 0; k < sn; k++) {
		snap_ac[k] = q->rec_ac[k];
		snap_op[k] = q->rec_op[k];
	}
	G.cb_ok = G.in_reap = 1;
	int r = sspiasync_cq_reap((struct sspiasync_cq *)w, null_out ? NULL : out, n);
	G.cb_ok = G.in_reap = 0;
	trace("%#lx (#%d) n %u out %s -> %d (records %d)", (unsigned long)w, qi, n,
	      null_out ? "NULL" : "array", r, sn);
	if (w == 0) {
		CHECK(r == SEC_E_INVALID_HANDLE, "reap(NULL): %d", r);
		return;
	}
	if (null_out && n > 0) {
		CHECK(r == SEC_E_INVALID_PARAMETER, "reap(out NULL, n %u): %d", n, r);
		return;
	}
	if (qi < 0) {
		if (n == 0 && r == 0)
			known(2, "reap of a stale queue with n == 0 returned 0");
		else
			CHECK(r == SEC_E_INVALID_HANDLE, "reap of a stale queue: %d", r);
		return;
	}
	int want = sn < (int)n ? sn : (int)n;
	CHECK(r == want, "reap returned %d, %d records waited (n %u)", r, sn, n);
	/* Oldest first; records completed within one op in any order. */
	int taken[MAXOBJ] = {0};
	int maxop = -1;
	for (int k = 0; k < r; k++) {
		int found = -1;
		for (int s = 0; s < sn; s++)
			if (!taken[s] && G.acs[snap_ac[s]].w == (uintptr_t)out[k].context) {
				found = s;
				break;
			}
		CHECK(found >= 0, "reap returned context %p that had no record", (void *)out[k].context);
		taken[found] = 1;
		struct aco *a = &G.acs[snap_ac[found]];
		CHECK(snap_op[found] >= maxop, "reap out of order");
		maxop = snap_op[found];
		CHECK(out[k].status == a->status && out[k].data == a->done_data,
		      "reap record of #%d: status 0x%08x data %p, expected 0x%08x %p", snap_ac[found],
		      X(out[k].status), out[k].data, X(a->status), a->done_data);
		CHECK(!a->done_cb || a->cb_seen, "reap of #%d did not run its callback", snap_ac[found]);
		a->undeliv = 0;
	}
	for (int s = 0; s < sn; s++)
		if (!taken[s])
			CHECK(snap_op[s] >= maxop, "reap left an older record behind");
	/* What is left on the queue (a callback may have freed its context). */
	int m = 0;
	for (int s = 0; s < sn; s++)
		if (!taken[s] && G.acs[snap_ac[s]].st == ST_LIVE) {
			q->rec_ac[m] = snap_ac[s];
			q->rec_op[m] = snap_op[s];
			m++;
		}
	q->nrec = m;
	if (n > 0 && !null_out && q->nrec == 0 && pending_count(0) == 0 && G.abandoned == 0) {
		int notify = 0;
		for (int k = 0; k < G.nac; k++)
			notify |= G.acs[k].st == ST_LIVE && G.acs[k].undeliv && G.acs[k].cq < 0;
		if (!notify)
			CHECK(!fd_readable(q->fd), "queue drained, fd still readable");
	}
}

/* ------------------------------------------------------------------------ */
/* Ops: handle values and pools                                              */
/* ------------------------------------------------------------------------ */

static void op_mutate(void)
{
	uint8_t kind = u8() % 4u, s = u8(), m = u8() % 10u;
	SecHandle *h = NULL;
	uintptr_t *w = NULL;
	switch (kind) {
	case 0: h = &G.cs[s % NCRED]; break;
	case 1: h = &G.xs[s % NCTX]; break;
	case 2: w = &G.as[s % NAC]; break;
	default: w = &G.qs[s % NCQ]; break;
	}
	uint8_t a = u8();
	switch (m) {
	case 0: /* zeroed */
		if (h) *h = (SecHandle){0, 0};
		else *w = 0;
		break;
	case 1: /* SecInvalidateHandle */
		if (h) SecInvalidateHandle(h);
		else *w = (uintptr_t)-1;
		break;
	case 2:
		if (h) *h = (SecHandle){SEC_DELETED_HANDLE, SEC_DELETED_HANDLE};
		else *w = SEC_DELETED_HANDLE;
		break;
	case 3: /* forged */
		if (h) {
			h->dwLower = (ULONG_PTR)u64();
			h->dwUpper = (ULONG_PTR)u64();
		} else {
			*w = (uintptr_t)u64();
		}
		break;
	case 4: /* one bit flipped */
		if (h) {
			if (a & 64) h->dwUpper ^= (ULONG_PTR)1 << (a & 63);
			else h->dwLower ^= (ULONG_PTR)1 << (a & 63);
		} else {
			*w ^= (uintptr_t)1 << (a & 63);
		}
		break;
	case 5: /* copied from another slot of the kind */
		if (kind == 0) *h = G.cs[a % NCRED];
		else if (kind == 1) *h = G.xs[a % NCTX];
		else if (kind == 2) *w = G.as[a % NAC];
		else *w = G.qs[a % NCQ];
		break;
	case 6: /* wrong kind */
		if (kind == 0) *h = G.xs[a % NCTX];
		else if (kind == 1) *h = G.cs[a % NCRED];
		else if (kind == 2) *w = G.qs[a % NCQ];
		else *w = G.as[a % NAC];
		break;
	case 7: /* the value of an object (live or not) */
		if (kind == 0 && G.ncred) *h = G.creds[a % G.ncred].h;
		else if (kind == 1 && G.nctx) *h = G.ctxs[a % G.nctx].h;
		else if (kind == 2 && G.nac) *w = G.acs[a % G.nac].w;
		else if (kind == 3 && G.ncq) *w = G.cqs[a % G.ncq].w;
		break;
	case 8: /* words swapped, or an async context as a queue word's neighbour */
		if (h) {
			ULONG_PTR t = h->dwLower;
			h->dwLower = h->dwUpper;
			h->dwUpper = t;
		} else {
			*w += (uintptr_t)(a % 3u) - 1u;
		}
		break;
	default: /* the generation moved: a forged successor */
		if (h) h->dwUpper += (ULONG_PTR)1 << 32;
		else *w += (uintptr_t)1 << 16;
		break;
	}
	trace("kind %u slot %u mut %u", kind, s, m);
}

static void op_pool(void)
{
	uint8_t m = u8(), k = u8(), v = u8();
	struct token *t = &G.tok[k % NTOK];
	switch (m % 5u) {
	case 0:
		if (t->len)
			t->b[v % t->len] ^= (unsigned char)(1u << (m >> 5));
		break;
	case 1:
		t->len = t->len ? t->len - 1 - v % t->len : 0;
		break;
	case 2:
		*t = G.tok[v % NTOK];
		break;
	case 3: {
		unsigned n = v % 64u;
		for (unsigned i = 0; i < n; i++)
			t->b[i] = u8();
		t->len = n;
		break;
	}
	default: {
		struct msgset *ms = &G.msg[k % NMSG];
		ms->data[v % sizeof ms->data] ^= 1;
		break;
	}
	}
	trace("tok %u mode %u", k % NTOK, m % 5u);
}

/* Every single-bit flip of one slot's value (README: "every single-bit
 * flip of a live handle" is rejected), each through a call without side
 * effects; a flipped value that equals another live value is live. */
static void op_sweep(void)
{
	uint8_t kind = u8() % 4u, s = u8();
	trace("kind %u slot %u", kind, s);
	if (kind < 2) {
		SecHandle base = kind == 0 ? G.cs[s % NCRED] : G.xs[s % NCTX];
		for (unsigned b = 0; b < 128; b++) {
			SecHandle v = base;
			if (b < 64)
				v.dwLower ^= (ULONG_PTR)1 << b;
			else
				v.dwUpper ^= (ULONG_PTR)1 << (b - 64);
			SECURITY_STATUS st;
			if (kind == 0) {
				SecPkgCredentials_NamesA nm;
				int c = find_cred(&v);
				st = QueryCredentialsAttributesA(&v, 0x7fff, &nm);
				CHECK(st == (c >= 0 ? SEC_E_UNSUPPORTED_FUNCTION : SEC_E_INVALID_HANDLE),
				      "credential with bit %u flipped: 0x%08x", b, X(st));
			} else {
				unsigned char buf[64];
				int xi, hc = ctx_class(&v, 0, &xi);
				st = QueryContextAttributesA(&v, 0x7fff, buf);
				if (hc == H_LIVE)
					CHECK(st == SEC_E_UNSUPPORTED_FUNCTION || st == SEC_E_OUT_OF_SEQUENCE,
					      "context with bit %u flipped (live value): 0x%08x", b, X(st));
				else
					CHECK(st == SEC_E_INVALID_HANDLE, "context with bit %u flipped: 0x%08x", b,
					      X(st));
				if (hc != H_LIVE)
					ran_queued(xi, hc);
			}
		}
		return;
	}
	uintptr_t base = kind == 2 ? G.as[s % NAC] : G.qs[s % NCQ];
	for (unsigned b = 0; b < 64; b++) {
		uintptr_t w = base ^ ((uintptr_t)1 << b);
		if (kind == 2) {
			int i = find_ac(w);
			SECURITY_STATUS st = SspiGetAsyncCallStatus((SspiAsyncContext *)w);
			SECURITY_STATUS want = SEC_E_INVALID_HANDLE;
			if (i >= 0)
				want = G.acs[i].call == AC_IDLE      ? SEC_E_INVALID_PARAMETER
				       : G.acs[i].call == AC_PENDING ? SEC_I_ASYNC_CALL_PENDING
								     : G.acs[i].status;
			CHECK(st == want, "async context with bit %u flipped: 0x%08x, expected 0x%08x", b,
			      X(st), X(want));
		} else {
			int i = find_cq(w);
			int fd = sspiasync_cq_fd((struct sspiasync_cq *)w);
			CHECK(fd == (i >= 0 ? G.cqs[i].fd : -1), "queue with bit %u flipped: fd %d", b, fd);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* The driver                                                                */
/* ------------------------------------------------------------------------ */

static const char *const g_opnames[OP_COUNT] = {
	"AcquireCredentials", "FreeCredentials", "InitializeSecCtx", "AcceptSecCtx",
	"DeleteSecCtx", "QueryContextAttrs", "QueryCredAttrs", "CompleteAuthToken",
	"MakeSignature", "VerifySignature", "EncryptMessage", "DecryptMessage",
	"FreeContextBuffer", "EnumeratePackages", "QueryPackageInfo", "TableStubs",
	"CreateAsyncContext", "FreeAsyncContext", "ReinitAsyncContext", "SetNotifyCallback",
	"RequiresNotify", "GetAsyncCallStatus", "AcquireCredAsync", "FreeCredAsync",
	"InitSecCtxAsync", "AcceptSecCtxAsync", "DeleteSecCtxAsync", "run", "stats",
	"cq_create", "cq_destroy", "cq_fd", "cq_bind", "cq_reap", "init(again)",
	"shutdown+continue", "mutate-handle", "mutate-pool", "bit-flip-sweep",
};

static void run_op(int op)
{
	switch (op) {
	case OP_ACH: op_acquire(0); break;
	case OP_FREE_CRED: op_free_cred(0); break;
	case OP_ISC: op_leg(0, SIDE_I); break;
	case OP_ASC: op_leg(0, SIDE_A); break;
	case OP_DELETE: op_delete(0); break;
	case OP_QUERY_CTX: op_query_ctx(); break;
	case OP_QUERY_CRED: op_query_cred(); break;
	case OP_COMPLETE_AUTH: op_complete_auth(); break;
	case OP_SIGN: op_message(0); break;
	case OP_VERIFY: op_message(1); break;
	case OP_ENCRYPT: op_message(2); break;
	case OP_DECRYPT: op_message(3); break;
	case OP_FREE_BUF: op_free_buffer(); break;
	case OP_ENUM: op_enumerate(); break;
	case OP_QUERY_PKG: op_query_pkg(); break;
	case OP_STUBS: op_stubs(); break;
	case OP_AC_CREATE: op_ac_create(); break;
	case OP_AC_FREE: op_ac_free(); break;
	case OP_AC_REINIT: op_ac_reinit(); break;
	case OP_AC_SETCB: op_ac_setcb(); break;
	case OP_AC_REQUIRES: op_ac_requires(); break;
	case OP_AC_STATUS: op_ac_status(); break;
	case OP_ACH_ASYNC: op_acquire(1); break;
	case OP_FREE_CRED_ASYNC: op_free_cred(1); break;
	case OP_ISC_ASYNC: op_leg(1, SIDE_I); break;
	case OP_ASC_ASYNC: op_leg(1, SIDE_A); break;
	case OP_DELETE_ASYNC: op_delete(1); break;
	case OP_RUN: op_run(); break;
	case OP_STATS: op_stats(); break;
	case OP_CQ_CREATE: op_cq_create(); break;
	case OP_CQ_DESTROY: op_cq_destroy(); break;
	case OP_CQ_FD: op_cq_fd(); break;
	case OP_CQ_BIND: op_cq_bind(); break;
	case OP_CQ_REAP: op_cq_reap(); break;
	case OP_INIT: op_init(); break;
	case OP_SHUTDOWN: op_shutdown(); break;
	case OP_MUTATE: op_mutate(); break;
	case OP_POOL: op_pool(); break;
	default: op_sweep(); break;
	}
}

/* The end of every input: free and delete everything, live or stale, each
 * answer checked; quiet; then shutdown leaves nothing. */
static void teardown(int explicit_free)
{
	G.opname = "teardown";
	if (explicit_free) {
		for (int i = 0; i < G.nac; i++)
			if (G.acs[i].st == ST_LIVE) {
				SspiFreeAsyncContext((SspiAsyncContext *)G.acs[i].w);
				ac_forget(i);
			}
		for (int i = 0; i < NAC; i++) /* stale now: no-ops */
			SspiFreeAsyncContext((SspiAsyncContext *)G.as[i]);
		for (int i = 0; i < G.nctx + NCTX; i++) {
			SecHandle v = i < G.nctx ? G.ctxs[i].h : G.xs[i - G.nctx];
			int xi, hc = ctx_class(&v, 0, &xi);
			SECURITY_STATUS st = DeleteSecurityContext(&v);
			CHECK(st == (hc == H_LIVE ? SEC_E_OK : SEC_E_INVALID_HANDLE),
			      "teardown DeleteSecurityContext (%s): 0x%08x",
			      hc == H_LIVE ? "live" : "stale", X(st));
			if (hc == H_LIVE)
				G.ctxs[xi].st = ST_DEAD, G.ctxs[xi].delete_op = G.opno;
		}
		for (int i = 0; i < G.ncred + NCRED; i++) {
			SecHandle v = i < G.ncred ? G.creds[i].h : G.cs[i - G.ncred];
			int c = find_cred(&v);
			SECURITY_STATUS st = FreeCredentialsHandle(&v);
			CHECK(st == (c >= 0 ? SEC_E_OK : SEC_E_INVALID_HANDLE),
			      "teardown FreeCredentialsHandle (%s): 0x%08x", c >= 0 ? "live" : "stale", X(st));
			if (c >= 0)
				G.creds[c].st = ST_DEAD;
		}
		for (int i = 0; i < G.ncq + NCQ; i++) {
			uintptr_t w = i < G.ncq ? G.cqs[i].w : G.qs[i - G.ncq];
			int qi = find_cq(w);
			SECURITY_STATUS st = sspiasync_cq_destroy((struct sspiasync_cq *)w);
			CHECK(st == (qi >= 0 ? SEC_E_OK : SEC_E_INVALID_HANDLE),
			      "teardown cq_destroy (%s): 0x%08x", qi >= 0 ? "live" : "stale", X(st));
			if (qi >= 0)
				G.cqs[qi].st = ST_DEAD;
		}
		for (int i = 0; i < G.nbuf; i++) {
			SECURITY_STATUS st = FreeContextBuffer(G.bufs[i].p);
			int live = G.bufs[i].live || buf_find(G.bufs[i].p) >= 0;
			CHECK(st == (live ? SEC_E_OK : SEC_E_INVALID_HANDLE),
			      "teardown FreeContextBuffer (%s): 0x%08x", live ? "live" : "stale", X(st));
			for (int k = 0; live && k < G.nbuf; k++)
				if (G.bufs[k].live && G.bufs[k].p == G.bufs[i].p)
					G.bufs[k].live = 0;
		}
		G.cb_ok = G.in_run = 1;
		(void)sspiasync_run(0);
		G.cb_ok = G.in_run = 0;
		quiescent_check("teardown");
		struct sspiasync_statistics s;
		CHECK(sspiasync_stats(&s) == SEC_E_OK && s.credentials == 0 && s.contexts == 0 &&
			      s.async_contexts == 0 && s.pending_calls == 0,
		      "teardown: objects left after freeing everything");
	}
	do_shutdown("end of input");
}

static void fuzz_one(const uint8_t *data, size_t size)
{
	memset(&G, 0, sizeof G);
	g_in = data;
	g_in_len = size;
	g_in_pos = 0;
	G.opno = -1;
	G.opname = "init";
	for (int i = 0; i < NAC; i++)
		G.as[i] = 0;
	for (int k = 0; k < NMSG; k++)
		for (size_t i = 0; i < sizeof G.msg[k].data; i++)
			G.msg[k].data[i] = (unsigned char)(i * 7u + (unsigned)k);

	/* Header: config and flags. */
	uint8_t flags = u8();
	struct sspiasync_config c;
	config_make(&c);
	SECURITY_STATUS st = sspiasync_init(&c);
	if (st != SEC_E_OK) {
		struct sspiasync_statistics s;
		sspiasync_stats(&s);
		if (st == SEC_E_INSUFFICIENT_MEMORY)
			fail("sspiasync_init: SEC_E_INSUFFICIENT_MEMORY after %lu inputs: %s; run.sh "
			     "bounds -runs per process to stay below it",
			     g_inputs, g_known_name[3]);
		fail("sspiasync_init at input start: 0x%08x (library initialised by an earlier input?)",
		     X(st));
	}
	limits_from(&c);
	G.rt_up = 1;
	T = InitSecurityInterfaceA();
	trace("input %lu: %zu bytes, flags %#x, limits pending %u ctx %u cred %u async %u", g_inputs,
	      size, flags, G.max_pending, G.max_ctx, G.max_cred, G.max_ac);

	for (G.opno = 0; G.opno < MAXOPS && more(); G.opno++) {
		int op = u8() % OP_COUNT;
		G.opname = g_opnames[op];
		run_op(op);
		G.opname = g_opnames[op];
		poll_all();
		invariants();
	}
	teardown(!(flags & 1));
	g_inputs++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void report_known(void)
{
	int any = 0;
	for (int k = 0; k < NKNOWN; k++)
		any |= g_known[k] != 0;
	if (!any)
		return;
	fprintf(stderr, "api_fuzz: known library issues hit (tolerated; FUZZ_STRICT=1 aborts):\n");
	for (int k = 0; k < NKNOWN; k++)
		if (g_known[k])
			fprintf(stderr, "api_fuzz:   %8lu x %s\n", g_known[k], g_known_name[k]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	/* Implicit initialisations (after a shutdown) must be no-thread too. */
	setenv("SSPIASYNC_THREADS", "0", 1);
	unsetenv("SSPIASYNC_TRACE");
	const char *s = getenv("FUZZ_STRICT");
	g_strict = s != NULL && s[0] == '1';
	s = getenv("FUZZ_TRACE");
	g_trace = s != NULL && s[0] == '1';
	atexit(report_known);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(data, size);
	return 0;
}

#endif /* !FUZZ_GEN: the harness */

#ifdef FUZZ_GEN
/* ------------------------------------------------------------------------ */
/* The seed corpus: each seed is written with emitters that produce the      */
/* bytes in exactly the order the ops above read them.                       */
/* ------------------------------------------------------------------------ */

#include <errno.h>
#include <sys/stat.h>

static unsigned char S[8192];
static size_t SN;

static void e(unsigned b)
{
	if (SN < sizeof S)
		S[SN++] = (unsigned char)b;
}

#define NUL_PTR 0xFF /* a NULL handle pointer */

static void hdr(unsigned flags, unsigned cfg_b, unsigned cfg_e)
{
	SN = 0;
	e(flags);
	e(cfg_b);
	e(cfg_e);
}

/* Names: 0 = NULL; "host/a" = 0x40; "svc" = 1; "host/a;legs=N" = 0x04, 0, N-2. */
static void name_plain(void) { e(0x40); }
static void name_legs(unsigned n) { e(0x04); e(0); e(n - 2); }
static void name_legs_fail(unsigned n, unsigned k) { e(0x08); e(0); e(n - 2); e(2); e(k); }
static void name_noop(void) { e(0x04); e(4); e(1); }

static void ach(int async, unsigned ac, unsigned use, unsigned slot)
{
	e(async ? OP_ACH_ASYNC : OP_ACH);
	if (async)
		e(ac);
	e(0);          /* flags */
	e(0);          /* principal NULL */
	e(0);          /* "SspiAsyncTest" */
	e(use);        /* 0 OUTBOUND, 1 INBOUND, 2 BOTH */
	e(0);          /* no identity */
	e(slot);
}

/* ISC/ASC: first leg when ctx == NUL_PTR; output token into tok_out. */
static void leg(int async, int isc, unsigned ac, unsigned cred, unsigned ctx, unsigned new_slot,
		unsigned in_tok, unsigned out_mode, unsigned tok_out, unsigned req_mode, int legs)
{
	e(async ? (isc ? OP_ISC_ASYNC : OP_ASC_ASYNC) : (isc ? OP_ISC : OP_ASC));
	if (async)
		e(ac);
	e(0);                                   /* flags */
	e(cred);
	e(ctx);
	e((ctx == NUL_PTR ? 0u : 1u) | new_slot << 2); /* separate / alias */
	e(in_tok);                              /* 0..5 token, 6 none */
	e(out_mode);                            /* 1: 512-byte token buffer */
	e(tok_out);
	e(req_mode);                            /* 0: no flags, 1: ALLOCATE_MEMORY */
	if (isc) {
		if (legs < 0)
			name_noop();
		else if (legs == 0)
			name_plain();
		else
			name_legs((unsigned)legs);
	}
}

static void ac_create(unsigned slot) { e(OP_AC_CREATE); e(slot); }
static void ac_setcb(unsigned slot, unsigned action) { e(OP_AC_SETCB); e(slot); e(1); e(action); }
static void ac_reinit(unsigned slot) { e(OP_AC_REINIT); e(slot); }
static void ac_status(unsigned slot) { e(OP_AC_STATUS); e(slot); }
static void ac_free(unsigned slot) { e(OP_AC_FREE); e(slot); }
static void run(unsigned max) { e(OP_RUN); e(max); }
static void del(int async, unsigned ac, unsigned ctx)
{
	e(async ? OP_DELETE_ASYNC : OP_DELETE);
	if (async)
		e(ac);
	e(0);
	e(ctx);
}
static void free_cred(int async, unsigned ac, unsigned slot)
{
	e(async ? OP_FREE_CRED_ASYNC : OP_FREE_CRED);
	if (async)
		e(ac);
	e(0);
	e(slot);
}
/* which: 0 sign, 1 verify, 2 encrypt, 3 decrypt; message set @set, 16-byte trailer. */
static void msg(unsigned which, unsigned ctx, unsigned set, unsigned seq)
{
	e(OP_SIGN + which);
	e(0);
	e(ctx);
	e(set << 2);
	e(0);   /* qop 0 */
	e(seq);
	e(29);  /* data length */
	e(0x80);/* 16-byte trailer */
}
static void query(unsigned ctx, unsigned attr_byte) { e(OP_QUERY_CTX); e(0); e(ctx); e(attr_byte); }
static void stats(void) { e(OP_STATS); }
static void cq_create(unsigned slot) { e(OP_CQ_CREATE); e(0); e(slot); }
static void cq_bind(unsigned ac, unsigned cq) { e(OP_CQ_BIND); e(ac); e(cq); }
static void cq_reap(unsigned cq, unsigned fl) { e(OP_CQ_REAP); e(cq); e(fl); }
static void cq_fd(unsigned cq) { e(OP_CQ_FD); e(cq); }
static void cq_destroy(unsigned cq) { e(OP_CQ_DESTROY); e(cq); }
static void shutdown_continue(unsigned mode) { e(OP_SHUTDOWN); e(mode); e(0); e(0); }
static void mutate(unsigned kind, unsigned slot, unsigned m, unsigned a) { e(OP_MUTATE); e(kind); e(slot); e(m); e(a); }
static void free_buf(unsigned mode, unsigned k) { e(OP_FREE_BUF); e(mode); e(k); }
static void sweep(unsigned kind, unsigned slot) { e(OP_SWEEP); e(kind); e(slot); }

/* Sync handshake of @legs legs: client cred slot 0 (out), server slot 1 (in),
 * client context slot 0, server slot 1; tokens alternate 0/1. */
static void sync_handshake(int legs, unsigned req_mode)
{
	ach(0, 0, 0, 0);
	ach(0, 0, 1, 1);
	int n = legs < 2 ? 2 : legs;
	for (int l = 1; l <= n; l++) {
		int client = l % 2 == 1;
		unsigned in = l == 1 ? 6 : (unsigned)(l % 2); /* the peer's last token */
		if (client)
			leg(0, 1, 0, 0, l == 1 ? NUL_PTR : 0, 0, in, 1, (unsigned)((l + 1) % 2), req_mode, legs);
		else
			leg(0, 0, 0, 1, l == 2 ? NUL_PTR : 1, 1, in, 1, (unsigned)((l + 1) % 2), req_mode, legs);
	}
}

/* Async handshake on async contexts 0 (client) and 1 (server), with run. */
static void async_handshake(int legs, int bound)
{
	ach(0, 0, 0, 0);
	ach(0, 0, 1, 1);
	ac_create(0);
	ac_create(1);
	if (bound) {
		cq_create(0);
		cq_bind(0, 0);
		cq_bind(1, 0);
	}
	ac_setcb(0, A_STATUS);
	ac_setcb(1, A_NONE);
	for (int l = 1; l <= legs; l++) {
		int client = l % 2 == 1;
		unsigned acs = client ? 0 : 1;
		if (l > 2)
			ac_reinit(acs);
		unsigned in = l == 1 ? 6 : (unsigned)(l % 2);
		if (client)
			leg(1, 1, 0, 0, l == 1 ? NUL_PTR : 0, 0, in, 1, (unsigned)((l + 1) % 2), 0, legs);
		else
			leg(1, 0, 1, 1, l == 2 ? NUL_PTR : 1, 1, in, 1, (unsigned)((l + 1) % 2), 0, legs);
		ac_status(acs);
		run(0);
		if (bound)
			cq_reap(0, 4);
		if (l <= 2 && !client)
			ac_reinit(acs);
	}
}

static int write_seed(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(S, 1, SN, f) != SN || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "fuzz/corpus";
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	int bad = 0;

	hdr(0, 0, 0); /* 2-leg sync handshake, messages both ways, queries, deletes */
	sync_handshake(2, 0);
	msg(0, 0, 0, 1); msg(1, 1, 0, 1); msg(2, 1, 1, 2); msg(3, 0, 1, 2);
	query(0, 0); query(1, 1); query(0, 3); query(1, 2); free_buf(1, 0);
	del(0, 0, 0); del(0, 0, 1); del(0, 0, 0);
	bad |= write_seed(dir, "sync_2legs_messages");

	hdr(0, 0, 0);
	sync_handshake(3, 0);
	msg(0, 1, 2, 7); msg(1, 0, 2, 7); stats();
	bad |= write_seed(dir, "sync_3legs");

	hdr(1, 0, 0); /* 5 legs with ALLOCATE_MEMORY, left to shutdown */
	sync_handshake(5, 1);
	free_buf(1, 0); free_buf(1, 1); free_buf(2, 0); free_buf(3, 0); free_buf(4, 0);
	bad |= write_seed(dir, "sync_5legs_allocate");

	hdr(0, 0, 0);
	async_handshake(2, 0);
	msg(2, 0, 0, 3); msg(3, 1, 0, 3);
	bad |= write_seed(dir, "async_2legs");

	hdr(0, 0, 0);
	async_handshake(4, 0);
	msg(0, 1, 1, 9); msg(1, 0, 1, 9);
	bad |= write_seed(dir, "async_4legs");

	hdr(0, 0, 0); /* through a completion queue */
	async_handshake(3, 1);
	cq_fd(0); cq_destroy(0); ac_free(0); ac_free(1); cq_destroy(0);
	bad |= write_seed(dir, "cq_3legs");

	hdr(0, 0, 0); /* deletes racing a queued leg: async leg, async delete, sync delete */
	sync_handshake(2, 0);
	ach(0, 0, 0, 2);
	ac_create(0); ac_create(1); ac_create(2);
	ac_setcb(0, A_NONE); ac_setcb(1, A_NONE); ac_setcb(2, A_NONE);
	leg(1, 1, 0, 2, NUL_PTR, 2, 6, 1, 2, 0, 4); /* first leg of a 4-leg handshake */
	run(0);
	ac_reinit(0);
	leg(1, 1, 0, 2, 2, 2, 2, 1, 3, 0, 4);        /* its next leg (out of sequence) queued */
	del(1, 1, 2);                                 /* async delete after it */
	del(0, 0, 2);                                 /* sync delete: already deleting */
	leg(1, 1, 2, 2, 2, 2, 2, 1, 3, 0, 4);        /* a leg after the delete */
	ac_status(0); ac_status(1); run(1); run(0); ac_status(2);
	bad |= write_seed(dir, "race_delete_async");

	hdr(0, 0, 0); /* sync delete with a leg queued: the leg completes INVALID_HANDLE */
	ach(0, 0, 2, 0);
	leg(0, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, 3);
	ac_create(0); ac_setcb(0, A_SYNC);
	leg(1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 3);
	del(0, 0, 0); ac_status(0); run(0); ac_status(0);
	bad |= write_seed(dir, "race_delete_sync");

	hdr(0, 0, 0); /* fire-and-forget delete, free while pending */
	sync_handshake(2, 0);
	ac_create(0); ac_create(1);
	del(1, 0, 0); ac_free(0);
	leg(1, 0, 1, 1, 1, 1, 0, 1, 2, 0, 2); ac_free(1);
	stats(); run(0); del(0, 0, 0);
	bad |= write_seed(dir, "fire_and_forget");

	hdr(0, 1, 0); /* max_pending 1: the bound */
	ach(0, 0, 2, 0);
	ac_create(0); ac_create(1); ac_create(2);
	leg(1, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, 2);
	leg(1, 1, 1, 0, NUL_PTR, 1, 6, 1, 1, 0, 2);  /* refused: bound */
	del(1, 2, 3);                                 /* exempt */
	free_cred(1, 1, 5);                           /* exempt */
	run(0); ac_status(0); ac_status(1);
	bad |= write_seed(dir, "pending_bound");

	hdr(0, 0, 0); /* shutdown mid-sequence, continue: old handles stale for good */
	sync_handshake(2, 0);
	ac_create(0); ac_setcb(0, A_REINIT);
	leg(1, 1, 0, 0, NUL_PTR, 2, 6, 1, 2, 0, 2);
	shutdown_continue(0);
	query(0, 0); msg(0, 0, 0, 1); del(0, 0, 1); free_cred(0, 0, 0); ac_status(0);
	sync_handshake(2, 0);
	shutdown_continue(1);
	ac_create(3); stats();
	bad |= write_seed(dir, "shutdown_continue");

	hdr(0, 0, 0); /* stale, flipped, wrong-kind, forged handles */
	sync_handshake(2, 0);
	mutate(1, 2, 7, 0); mutate(1, 3, 4, 17); mutate(1, 4, 6, 0); mutate(0, 5, 6, 0);
	mutate(1, 5, 0, 0); mutate(1, 6, 1, 0); mutate(1, 7, 9, 0);
	query(2, 0); query(3, 0); query(4, 0); query(5, 0); query(6, 0); query(7, 0);
	del(0, 0, 3); del(0, 0, 4); free_cred(0, 0, 5);
	ac_create(0); del(1, 0, 3); run(0);
	sweep(0, 0); sweep(1, 1); sweep(2, 0); cq_create(0); sweep(3, 0);
	bad |= write_seed(dir, "bad_handles");

	hdr(0, 0, 0); /* injected failure at leg 3 of 4 */
	ach(0, 0, 0, 0); ach(0, 0, 1, 1);
	e(OP_ISC); e(0); e(0); e(NUL_PTR); e(0); e(6); e(1); e(0); e(0); name_legs_fail(4, 3);
	leg(0, 0, 0, 1, NUL_PTR, 1, 0, 1, 1, 0, 4);
	leg(0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 4);
	leg(0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 4);
	query(0, 0); msg(0, 0, 0, 1);
	bad |= write_seed(dir, "injected_failure");

	hdr(0, 0, 0); /* noop legs forever */
	ach(0, 0, 2, 0);
	leg(0, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, -1);
	leg(0, 0, 0, 0, NUL_PTR, 1, 0, 1, 1, 0, 0);
	leg(0, 1, 0, 0, 0, 0, 1, 1, 0, 0, -1);
	leg(0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0);
	msg(0, 0, 0, 1);
	bad |= write_seed(dir, "noop");

	hdr(0, 0, 0); /* explicit identity on both sides */
	e(OP_ACH); e(0); e(0x01); e(0); e(0); e(7); e(0);  /* "svc", OUTBOUND, alice */
	e(OP_ACH); e(0); e(0x01); e(0); e(1); e(7); e(1);  /* INBOUND, alice */
	leg(0, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, 2);
	leg(0, 0, 0, 1, NUL_PTR, 1, 0, 1, 1, 0, 2);
	e(OP_QUERY_CRED); e(0); e(0); e(1);
	query(1, 1); free_buf(1, 0); free_buf(1, 0);
	bad |= write_seed(dir, "identity");

	hdr(0, 0, 0); /* packages, buffers, the function table */
	e(OP_ENUM); e(0); e(OP_ENUM); e(4);
	e(OP_QUERY_PKG); e(0); e(1); e(OP_QUERY_PKG); e(0); e(4);
	free_buf(1, 0); free_buf(2, 0); free_buf(3, 0); free_buf(4, 0); free_buf(0, 0);
	e(OP_STUBS); e(0); e(0); e(0); e(OP_STUBS); e(5); e(0); e(0);
	e(OP_INIT); e(0); e(0); stats();
	bad |= write_seed(dir, "packages_buffers");

	hdr(0, 0, 0); /* callbacks that act: free, reinit, sync call, refused reentry */
	ach(0, 0, 2, 0);
	for (unsigned i = 0; i < 6; i++)
		ac_create(i);
	ac_setcb(0, A_FREE); ac_setcb(1, A_REINIT); ac_setcb(2, A_SYNC);
	ac_setcb(3, A_SHUTDOWN); ac_setcb(4, A_REAP); ac_setcb(5, A_INIT);
	for (unsigned i = 0; i < 6; i++)
		leg(1, 1, i, 0, NUL_PTR, i, 6, 1, i % NTOK, 0, 3);
	run(2); run(0); ac_status(0); ac_status(1);
	bad |= write_seed(dir, "callbacks_act");

	hdr(0, 0, 0); /* callbacks that submit and create, in run, in reap and in shutdown */
	ach(0, 0, 2, 0);
	for (unsigned i = 0; i < 4; i++)
		ac_create(i);
	cq_create(0); cq_bind(2, 0);
	ac_setcb(0, A_SUBMIT); ac_setcb(1, A_CREATE); ac_setcb(2, A_SUBMIT); ac_setcb(3, A_CREATE);
	for (unsigned i = 0; i < 3; i++)
		leg(1, 1, i, 0, NUL_PTR, i, 6, 1, i % NTOK, 0, 3);
	run(0); cq_reap(0, 4); ac_status(0); ac_status(2); stats();
	ac_reinit(1); ac_setcb(1, A_CREATE); ac_setcb(0, A_SUBMIT); ac_reinit(0);
	leg(1, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, 3);
	leg(1, 1, 1, 0, NUL_PTR, 1, 6, 1, 1, 0, 3);
	leg(1, 1, 3, 0, NUL_PTR, 3, 6, 1, 1, 0, 3);
	shutdown_continue(2);
	ac_create(0); stats();
	bad |= write_seed(dir, "callbacks_submit_create");

	hdr(0, 1, 0); /* max_pending 1: a leg on a DELETING context at the bound (K5) */
	ach(0, 0, 2, 0);
	leg(0, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, 3);
	ac_create(0); ac_create(1); ac_create(2);
	del(1, 0, 0);                                 /* DELETING */
	leg(1, 1, 1, 0, NUL_PTR, 1, 6, 1, 1, 0, 3);  /* fills the bound */
	leg(1, 1, 2, 0, 0, 0, 0, 1, 2, 0, 3);        /* on the DELETING handle */
	run(0); ac_status(2); stats();
	bad |= write_seed(dir, "deleting_leg_at_bound");

	hdr(0, 0, 0); /* a callback deferred by a sync call submits during run(0) (K6) */
	ach(0, 0, 2, 0);
	leg(0, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, 3);
	ac_create(0); ac_setcb(0, A_SUBMIT);
	leg(1, 1, 0, 0, 0, 0, 6, 1, 1, 0, 3);        /* queued on context 0 */
	query(0, 0);                                  /* runs it; its callback waits */
	run(0); ac_status(0); stats(); run(0);
	bad |= write_seed(dir, "deferred_callback_submits");

	hdr(0, 0, 0); /* completion queue edge cases */
	ach(0, 0, 2, 0);
	ac_create(0); ac_create(1); cq_create(0); cq_create(1);
	cq_bind(0, 0); cq_bind(1, 1);
	leg(1, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, 2);
	leg(1, 1, 1, 0, NUL_PTR, 1, 6, 1, 1, 0, 2);
	cq_fd(0); cq_destroy(0); run(0); cq_fd(0);
	cq_reap(0, 0); cq_reap(0, 0x41); cq_reap(NUL_PTR, 1); cq_reap(0, 1); cq_reap(1, 0x80);
	cq_bind(0, NUL_PTR); cq_destroy(0); cq_reap(0, 0); cq_reap(0, 2);
	bad |= write_seed(dir, "cq_edges");

	hdr(0, 3 << 3, 3 | 3 << 3); /* table limits: 2 contexts, 2 credentials, 2 async */
	ach(0, 0, 2, 0); ach(0, 0, 2, 1); ach(0, 0, 2, 2);
	leg(0, 1, 0, 0, NUL_PTR, 0, 6, 1, 0, 0, 2);
	leg(0, 1, 0, 0, NUL_PTR, 1, 6, 1, 1, 0, 2);
	leg(0, 1, 0, 0, NUL_PTR, 2, 6, 1, 2, 0, 2);
	ac_create(0); ac_create(1); ac_create(2);
	del(0, 0, 0); leg(0, 1, 0, 0, NUL_PTR, 2, 6, 1, 2, 0, 2);
	bad |= write_seed(dir, "table_limits");

	hdr(0, 0, 0); /* a sync call runs the calls queued on its context first */
	sync_handshake(3, 0);
	ac_create(0); ac_setcb(0, A_STATUS);
	leg(1, 1, 0, 0, 0, 0, 1, 1, 2, 0, 3);
	msg(0, 0, 0, 1); ac_status(0); ac_reinit(0); run(0); ac_reinit(0);
	bad |= write_seed(dir, "sync_drains_queue");

	hdr(0, 0, 0); /* async credentials and deletes, double frees */
	ac_create(0); ac_create(1); ac_create(2);
	ach(1, 0, 2, 0); run(0); ac_reinit(0);
	free_cred(1, 0, 0); free_cred(1, 1, 0); run(0);
	ac_reinit(0); ac_reinit(1);
	ach(1, 0, 0, 1); ach(1, 1, 1, 2); run(0); ac_reinit(0); ac_reinit(1);
	leg(1, 1, 0, 1, NUL_PTR, 0, 6, 1, 0, 0, 2); run(0);
	leg(1, 0, 1, 2, NUL_PTR, 1, 0, 1, 1, 0, 2); run(0);
	ac_reinit(0); ac_reinit(1);
	del(1, 0, 0); del(1, 1, 0); run(0); ac_status(1);
	bad |= write_seed(dir, "async_creds_deletes");

	return bad;
}
#endif /* FUZZ_GEN */
