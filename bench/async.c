/*
 * bench/async.c - the asynchronous API (Sspi*Async, completion queues)
 * against two baselines on libuv's thread pool (uv_queue_work), in one
 * process, on the same machine, with the same number of worker threads (2),
 * in the same run:
 *   libuv        raw uv_queue_work: no handles, no ordering (the pool's cost);
 *   libuv+table  uv_queue_work behind a mutex-guarded {generation, pointer}
 *                handle table and a FIFO per context (the cost of the
 *                guarantees, as a user without sspiasync builds them; see
 *                "libuv + a handle table" below for what it guarantees).
 *
 * What is measured (issue 14, item 2; issue 23, item 3):
 *
 *  1. Throughput: THR_CALLS no-op calls, closed loop, 4,096 in flight.
 *     sspiasync: 1,024 security contexts made by one synchronous first leg
 *     with the test package's no-op target ("host/bench;noop"), 4 async
 *     contexts on each (calls on one context run in order), bound to one
 *     completion queue; a no-op call is SspiInitializeSecurityContextAsyncA on
 *     an existing context with a 1-byte input token (no target name: a later
 *     leg does not need it; no phNewContext).  The main thread waits on the
 *     queue's fd with epoll, reaps, reinits each reaped async context and
 *     resubmits it.  libuv: 4,096 uv_work_t, uv_queue_work with a work_cb
 *     that does what the no-op leg does (check the 1-byte input, write a
 *     1-byte output) and an after_work_cb, on the loop thread, that resubmits.
 *     libuv+table: the same shape as sspiasync (1,024 contexts in the table,
 *     4 calls on each, so each context's FIFO holds 3 behind the running
 *     one), the same work, delivered and resubmitted on the loop thread.
 *     UV_THREADPOOL_SIZE=2, set before libuv's pool starts (one pool: both
 *     libuv systems use it).  Next to it, per call, over the same timed runs
 *     and every thread: context switches (getrusage(RUSAGE_SELF), voluntary
 *     + involuntary) and futex system calls (the kernel's count, see "futex
 *     calls" below; "n/a" where perf_event_open is refused).
 *  2. Latency: submit-to-completion p50/p99/p99.9 at 1, 16 and 256 calls in
 *     flight, closed loop, the completion observed on the submitting thread
 *     (after reap returned the record / in after_work_cb).  sspiasync and
 *     libuv+table use one call per context here (in flight calls on
 *     distinct contexts, as a server's handshakes are), the same loop.
 *  3. Library memory per pending call: 4,096 calls queued behind two
 *     blocked workers in a fresh runtime; the change in the allocation
 *     wrapper's live bytes (util/alloc.h) from before the async contexts
 *     were created to after the calls were queued, divided by 4,096 (async
 *     context, its table slot, the job and the input copy); also what the C
 *     heap says (mallinfo2, wrapper headers and malloc overhead included).
 *     libuv: sizeof(uv_work_t) plus the heap change for 4,096 items queued
 *     behind its two blocked threads (0: libuv allocates nothing per item).
 *     libuv+table: sizeof its call (uv_work_t and the FIFO link inside).
 *  4. Instructions per call: `async --callgrind MODE N` runs one loop for
 *     bench/async_callgrind.sh, which counts instructions with callgrind.
 *  5. Handshakes (test package, 3 legs, both sides, deletes included) per
 *     second: direct package calls (src/packages/package.h) on one thread,
 *     the synchronous API on one thread, the async API in no-thread mode on
 *     one thread (callbacks run in sspiasync_run), and the async API with 2
 *     workers and a completion queue (64 handshakes in flight).
 *
 * How: every timed figure is the median of ROUNDS rounds; in each round the
 * three systems run one after the other, the order rotating from round to
 * round (round r starts with system r mod 3).  All live in this process for
 * the whole run: the idle ones' threads sleep on a condition variable.
 * Thread placement is set for every thread of the process (listed in
 * /proc/self/task) before each round, the same for every system: "2 CPUs"
 * lets every thread run on either of two CPUs, "1 CPU" puts every thread on
 * one.  Times: CLOCK_MONOTONIC.
 *
 * Output: a header (CPUs, load average, compiler, libuv version), then a
 * markdown table: figure, placement, the three systems, then sspiasync /
 * libuv with its goal and PASS/MISS, and sspiasync / libuv+table with its
 * own; then the handshake table.  A benchmark, not a test: it exits 0
 * whatever the figures, 2 if a call fails unexpectedly.
 *
 * BENCH_QUICK=1 (or --quick): fewer calls and 3 rounds, for CI (the figures
 * are then not the issue's).  --verbose: every round on stderr.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET, mallinfo2 */

#include <sspiasync/sspi.h>
#include <sspiasync/sspiasync.h>

#include "baseline.h"
#include "packages/package.h"
#include "util/alloc.h"

#include <uv.h>

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stddef.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 15
#define NCTX 1024               /* security contexts of the throughput figure */
#define PER_CTX 4               /* async contexts (calls in flight) per security context */
#define INFLIGHT (NCTX * PER_CTX)
#define WORKERS 2               /* sspiasync workers and libuv pool threads */
#define REAP_N 256              /* records per sspiasync_cq_reap */
#define NOOP_TARGET "host/bench;noop"
#define HS_TARGET "host/hs;legs=3"
#define HS_TOK 512              /* the test package's max_token */
#define HS_POOL_INFLIGHT 64     /* handshakes in flight, async pool line */
#define MAP_BITS 14             /* async context -> our record, open addressing */

static const unsigned depths[] = {1, 16, 256};
#define NDEPTHS (sizeof depths / sizeof depths[0])

struct config {
	int quick, verbose;
	unsigned rounds;
	unsigned long thr_calls;          /* throughput: calls per round */
	unsigned lat_samples[NDEPTHS];    /* latency: samples per round, per depth */
	unsigned long hs_n;               /* handshakes per round */
};

static struct config g_cfg;

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "bench/async: %s\n", what);
	exit(2);
}

static _Noreturn void die_status(const char *what, long st)
{
	fprintf(stderr, "bench/async: %s: 0x%08lx\n", what, (unsigned long)st & 0xffffffffUL);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (p == NULL)
		die("out of memory");
	return p;
}

/* --- thread placement ---------------------------------------------------- */

struct placement {
	const char *name;
	cpu_set_t set;
};

static struct placement g_place[2];
static unsigned g_nplace;

/* The first two CPUs this process may use: "2 CPUs" (both) and "1 CPU". */
static void placements_init(void)
{
	cpu_set_t all;
	CPU_ZERO(&all);
	if (sched_getaffinity(0, sizeof all, &all) != 0)
		die("sched_getaffinity");
	int cpu[2], n = 0;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &all))
			cpu[n++] = c;
	if (n == 0)
		die("no CPU");
	g_nplace = 0;
	if (n == 2) {
		static char name2[64];
		snprintf(name2, sizeof name2, "2 CPUs (%d,%d)", cpu[0], cpu[1]);
		g_place[g_nplace].name = name2;
		CPU_ZERO(&g_place[g_nplace].set);
		CPU_SET(cpu[0], &g_place[g_nplace].set);
		CPU_SET(cpu[1], &g_place[g_nplace].set);
		g_nplace++;
	}
	static char name1[64];
	snprintf(name1, sizeof name1, "1 CPU (%d)", cpu[0]);
	g_place[g_nplace].name = name1;
	CPU_ZERO(&g_place[g_nplace].set);
	CPU_SET(cpu[0], &g_place[g_nplace].set);
	g_nplace++;
}

#define MAX_TASKS 32

/* The threads of the process (/proc/self/task), up to MAX_TASKS into @tid;
 * returns how many. */
static unsigned tasks(pid_t tid[MAX_TASKS])
{
	DIR *d = opendir("/proc/self/task");
	if (d == NULL)
		die("opendir /proc/self/task");
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (n == MAX_TASKS)
			die("more threads than MAX_TASKS");
		tid[n++] = (pid_t)strtol(e->d_name, NULL, 10);
	}
	closedir(d);
	return n;
}

/* Put every thread of the process (workers of every system included) on
 * @p's CPUs; threads made later inherit it from their creator.  Returns the
 * number of threads. */
static unsigned place_all(const struct placement *p)
{
	pid_t tid[MAX_TASKS];
	unsigned n = tasks(tid);
	for (unsigned i = 0; i < n; i++)
		if (sched_setaffinity(tid[i], sizeof p->set, &p->set) != 0 && errno != ESRCH)
			die("sched_setaffinity");
	return n;
}

/* --- futex calls, counted by the kernel ---------------------------------------
 * One perf counter per thread on the syscalls:sys_enter_futex tracepoint,
 * opened once every thread of the run exists, read around each throughput
 * run: the kernel adds one per futex call, nothing stops the thread.  Not
 * strace: its ptrace stop on every futex call serialises the threads and
 * changes what it counts, and not by the same factor for each system (the
 * callgrind loops, 200,000 calls at 4,096 in flight, 2-core VM: sspiasync
 * 56,455 futex calls under strace against 583,427 counted by the kernel,
 * libuv 2,172 against 58,840, libuv+table 12,714 against 227,287).  Needs
 * root or CAP_PERFMON and a readable tracefs; else "n/a". */

static int g_futex_fd[MAX_TASKS];
static unsigned g_futex_n;
static char g_futex_why[128] = "not opened";

static long futex_tracepoint_id(void)
{
	static const char *const path[] = {
		"/sys/kernel/tracing/events/syscalls/sys_enter_futex/id",
		"/sys/kernel/debug/tracing/events/syscalls/sys_enter_futex/id",
	};
	for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
		FILE *f = fopen(path[i], "r");
		long id = -1;
		if (f == NULL)
			continue;
		if (fscanf(f, "%ld", &id) != 1)
			id = -1;
		fclose(f);
		if (id >= 0)
			return id;
	}
	return -1;
}

static void futex_close(void)
{
	for (unsigned i = 0; i < g_futex_n; i++)
		close(g_futex_fd[i]);
	g_futex_n = 0;
}

/* Counters on every thread there is now; on failure none, and the reason. */
static void futex_open(void)
{
	long id = futex_tracepoint_id();
	if (id < 0) {
		snprintf(g_futex_why, sizeof g_futex_why,
			 "no readable syscalls:sys_enter_futex tracepoint id (tracefs)");
		return;
	}
	pid_t tid[MAX_TASKS];
	unsigned n = tasks(tid);
	for (unsigned i = 0; i < n; i++) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof a);
		a.type = PERF_TYPE_TRACEPOINT;
		a.size = sizeof a;
		a.config = (uint64_t)id;
		long fd = syscall(SYS_perf_event_open, &a, tid[i], -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			snprintf(g_futex_why, sizeof g_futex_why, "perf_event_open: %s", strerror(errno));
			futex_close();
			return;
		}
		g_futex_fd[g_futex_n++] = (int)fd;
	}
	g_futex_why[0] = '\0';
}

/* Futex calls made so far by the counted threads. */
static uint64_t futex_count(void)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < g_futex_n; i++) {
		uint64_t v;
		if (read(g_futex_fd[i], &v, sizeof v) != (ssize_t)sizeof v)
			die("read of a perf counter");
		sum += v;
	}
	return sum;
}

/* --- medians --------------------------------------------------------------- */

struct series {
	double v[MAX_ROUNDS];
	unsigned n;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const struct series *s)
{
	double tmp[MAX_ROUNDS];
	memcpy(tmp, s->v, s->n * sizeof tmp[0]);
	qsort(tmp, s->n, sizeof tmp[0], cmp_double);
	return s->n % 2 ? tmp[s->n / 2] : (tmp[s->n / 2 - 1] + tmp[s->n / 2]) / 2;
}

static void series_add(struct series *s, double v)
{
	if (s->n < MAX_ROUNDS)
		s->v[s->n++] = v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* p50, p99, p99.9 of @n samples (ns), sorted in place, into @out (us). */
static void percentiles(uint64_t *samp, unsigned n, double out[3])
{
	static const double q[3] = {0.50, 0.99, 0.999};
	qsort(samp, n, sizeof samp[0], cmp_u64);
	for (int i = 0; i < 3; i++) {
		size_t k = (size_t)(q[i] * (double)(n - 1) + 0.5);
		out[i] = (double)samp[k] / 1000.0;
	}
}

/* --- async context -> record map -------------------------------------------
 * A completion record names its async context (its data is NULL without a
 * callback): the loop finds its own record for it here. */

static uintptr_t g_map_key[1u << MAP_BITS];
static void *g_map_val[1u << MAP_BITS];

static unsigned map_slot(uintptr_t k)
{
	return (unsigned)((k * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - MAP_BITS));
}

static void map_clear(void)
{
	memset(g_map_key, 0, sizeof g_map_key);
}

static void map_put(const SspiAsyncContext *ac, void *v)
{
	uintptr_t k = (uintptr_t)(const void *)ac;
	unsigned i = map_slot(k);
	while (g_map_key[i] != 0)
		i = (i + 1) & ((1u << MAP_BITS) - 1);
	g_map_key[i] = k;
	g_map_val[i] = v;
}

static void *map_get(const SspiAsyncContext *ac)
{
	uintptr_t k = (uintptr_t)(const void *)ac;
	for (unsigned i = map_slot(k);; i = (i + 1) & ((1u << MAP_BITS) - 1)) {
		if (g_map_key[i] == k)
			return g_map_val[i];
		if (g_map_key[i] == 0)
			die("completion for an unknown async context");
	}
}

/* --- sspiasync: no-op calls through a completion queue --------------------- */

struct sacall {
	SspiAsyncContext *ac;
	unsigned ctx;          /* index of its security context */
	uint64_t t0;           /* submitted at (latency rounds) */
	unsigned long attrs;   /* outputs: written when the call completes */
	SecBuffer ob;
	SecBufferDesc od;
	unsigned char tok[16];
};

struct sab {
	CredHandle cred;
	struct sspiasync_cq *cq;
	int ep;
	unsigned nctx, per_ctx, ncalls;
	CtxtHandle *ctx;
	struct sacall *calls;
};

static unsigned char g_in_byte = 'N'; /* the input token of every no-op call */

static void sa_init(unsigned threads)
{
	struct sspiasync_config cfg = SSPIASYNC_CONFIG_INIT;
	cfg.threads = threads;
	SECURITY_STATUS st = sspiasync_init(&cfg);
	if (st != SEC_E_OK)
		die_status("sspiasync_init", st);
}

static void sa_shutdown(void)
{
	SECURITY_STATUS st = sspiasync_shutdown();
	if (st != SEC_E_OK)
		die_status("sspiasync_shutdown", st);
}

static void cred_acquire(CredHandle *cred, unsigned long use)
{
	char pkg[] = "SspiAsyncTest";
	SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, pkg, use, NULL, NULL, NULL, NULL, cred,
						       NULL);
	if (st != SEC_E_OK)
		die_status("AcquireCredentialsHandleA", st);
}

/* A no-op security context: one synchronous first leg. */
static void noop_context(CredHandle *cred, CtxtHandle *ctx)
{
	char target[] = NOOP_TARGET;
	unsigned char tok[16];
	SecBuffer ob = {sizeof tok, SECBUFFER_TOKEN, tok};
	SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
	unsigned long attrs;
	SECURITY_STATUS st = InitializeSecurityContextA(cred, NULL, target, 0, 0,
							SECURITY_NATIVE_DREP, NULL, 0, ctx, &od,
							&attrs, NULL);
	if (st != SEC_I_CONTINUE_NEEDED)
		die_status("InitializeSecurityContextA (noop first leg)", st);
}

/* Contexts, queue, epoll, and @per_ctx async contexts bound to the queue on
 * each of @nctx contexts.  The runtime is initialised. */
static void sab_setup(struct sab *s, unsigned nctx, unsigned per_ctx)
{
	memset(s, 0, sizeof *s);
	s->nctx = nctx;
	s->per_ctx = per_ctx;
	s->ncalls = nctx * per_ctx;
	cred_acquire(&s->cred, SECPKG_CRED_OUTBOUND);
	s->ctx = xcalloc(nctx, sizeof *s->ctx);
	for (unsigned i = 0; i < nctx; i++)
		noop_context(&s->cred, &s->ctx[i]);
	SECURITY_STATUS st = sspiasync_cq_create(&s->cq);
	if (st != SEC_E_OK)
		die_status("sspiasync_cq_create", st);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	if (s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, sspiasync_cq_fd(s->cq), &ev) != 0)
		die("epoll");
	s->calls = xcalloc(s->ncalls, sizeof *s->calls);
	map_clear();
	for (unsigned j = 0; j < s->ncalls; j++) {
		struct sacall *c = &s->calls[j];
		c->ctx = j / per_ctx;
		c->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &c->ob};
		if ((c->ac = SspiCreateAsyncContext()) == NULL)
			die("SspiCreateAsyncContext");
		if ((st = sspiasync_cq_bind(c->ac, s->cq)) != SEC_E_OK)
			die_status("sspiasync_cq_bind", st);
		map_put(c->ac, c);
	}
}

static void sab_teardown(struct sab *s)
{
	for (unsigned j = 0; j < s->ncalls; j++)
		SspiFreeAsyncContext(s->calls[j].ac);
	for (unsigned i = 0; i < s->nctx; i++)
		if (DeleteSecurityContext(&s->ctx[i]) != SEC_E_OK)
			die("DeleteSecurityContext");
	close(s->ep);
	if (sspiasync_cq_destroy(s->cq) != SEC_E_OK)
		die("sspiasync_cq_destroy");
	if (FreeCredentialsHandle(&s->cred) != SEC_E_OK)
		die("FreeCredentialsHandle");
	free(s->ctx);
	free(s->calls);
}

/* One no-op call through @c's async context (idle). */
static void sab_submit(struct sab *s, struct sacall *c)
{
	SecBuffer ib = {1, SECBUFFER_TOKEN, &g_in_byte};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	c->ob = (SecBuffer){sizeof c->tok, SECBUFFER_TOKEN, c->tok};
	SECURITY_STATUS st = SspiInitializeSecurityContextAsyncA(c->ac, &s->cred, &s->ctx[c->ctx],
								 NULL, 0, 0, SECURITY_NATIVE_DREP,
								 &id, 0, NULL, &c->od, &c->attrs,
								 NULL);
	if (st != SEC_E_OK)
		die_status("SspiInitializeSecurityContextAsyncA", st);
}

/* Up to REAP_N records into @out, waiting on the queue's fd while none is there. */
static int sab_reap(struct sab *s, struct sspiasync_completion *out)
{
	for (;;) {
		int k = sspiasync_cq_reap(s->cq, out, REAP_N);
		if (k < 0)
			die_status("sspiasync_cq_reap", k);
		if (k > 0)
			return k;
		struct epoll_event ev;
		int n = epoll_wait(s->ep, &ev, 1, 30000);
		if (n == 0)
			die("no completion for 30 s");
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
	}
}

/* A reaped record: check it, make its async context idle again. */
static struct sacall *sab_done(const struct sspiasync_completion *r)
{
	struct sacall *c = map_get(r->context);
	if (r->status != SEC_I_CONTINUE_NEEDED || c->ob.cbBuffer != 1 || c->tok[0] != 'N')
		die_status("no-op call completed with", r->status);
	NTSTATUS ns = SspiReinitAsyncContext(c->ac);
	if (ns != STATUS_SUCCESS)
		die_status("SspiReinitAsyncContext", ns);
	return c;
}

/* @n calls, closed loop, every async context in flight; calls per second. */
static double sab_throughput(struct sab *s, unsigned long n)
{
	struct sspiasync_completion out[REAP_N];
	unsigned long submitted = 0, done = 0;
	unsigned first = n < s->ncalls ? (unsigned)n : s->ncalls;
	uint64_t t0 = now_ns();
	for (unsigned j = 0; j < first; j++, submitted++)
		sab_submit(s, &s->calls[j]);
	while (done < n) {
		int k = sab_reap(s, out);
		for (int j = 0; j < k; j++) {
			struct sacall *c = sab_done(&out[j]);
			done++;
			if (submitted < n) {
				sab_submit(s, c);
				submitted++;
			}
		}
	}
	return (double)n * 1e9 / (double)(now_ns() - t0);
}

/* Closed loop at @depth in flight (one per security context): @warm
 * completions, then @nsamp submit-to-reap times into @samp (ns). */
static void sab_latency(struct sab *s, unsigned depth, unsigned warm, unsigned nsamp,
			uint64_t *samp)
{
	struct sspiasync_completion out[REAP_N];
	unsigned long total = (unsigned long)warm + nsamp, submitted = 0, done = 0;
	unsigned ns = 0;
	if (depth > s->nctx)
		die("depth above the contexts");
	for (unsigned j = 0; j < depth && submitted < total; j++, submitted++) {
		struct sacall *c = &s->calls[j * s->per_ctx];
		c->t0 = now_ns();
		sab_submit(s, c);
	}
	while (done < total) {
		int k = sab_reap(s, out);
		for (int j = 0; j < k; j++) {
			uint64_t t = now_ns();
			struct sacall *c = sab_done(&out[j]);
			if (done >= warm && ns < nsamp)
				samp[ns++] = t - c->t0;
			done++;
			if (submitted < total) {
				c->t0 = now_ns();
				sab_submit(s, c);
				submitted++;
			}
		}
	}
	if (ns != nsamp)
		die("latency: samples missing");
}

/* --- libuv: uv_queue_work ---------------------------------------------------- */

struct uvitem {
	uv_work_t req; /* first: the item is found from its request */
	uint64_t t0;
	unsigned char in, out;
	sem_t *park;   /* memory figure: work_cb waits on it */
};

struct uvb {
	uv_loop_t loop;
	struct uvitem *items;
	unsigned nitems;
	int lat;                         /* latency round: time each item */
	unsigned long submitted, done, total, warm;
	unsigned ns, nsamp;
	uint64_t *samp;
};

static struct uvb g_uv;

/* The no-op work: what the test package's no-op leg does. */
static void uv_noop_work(uv_work_t *r)
{
	struct uvitem *it = (struct uvitem *)(void *)r;
	if (it->park != NULL)
		while (sem_wait(it->park) != 0 && errno == EINTR)
			;
	it->out = it->in == 'N' ? 'N' : 0;
}

static void uv_after(uv_work_t *r, int status);

static void uv_submit(struct uvitem *it)
{
	it->out = 0;
	int rc = uv_queue_work(&g_uv.loop, &it->req, uv_noop_work, uv_after);
	if (rc != 0)
		die_status("uv_queue_work", rc);
}

static void uv_after(uv_work_t *r, int status)
{
	struct uvitem *it = (struct uvitem *)(void *)r;
	uint64_t t = g_uv.lat ? now_ns() : 0;
	if (status != 0 || it->out != 'N')
		die_status("uv work completed with", status);
	if (g_uv.lat && g_uv.done >= g_uv.warm && g_uv.ns < g_uv.nsamp)
		g_uv.samp[g_uv.ns++] = t - it->t0;
	g_uv.done++;
	if (g_uv.submitted < g_uv.total) {
		if (g_uv.lat)
			it->t0 = now_ns();
		uv_submit(it);
		g_uv.submitted++;
	}
}

static void uvb_setup(unsigned nitems)
{
	if (uv_loop_init(&g_uv.loop) != 0)
		die("uv_loop_init");
	g_uv.nitems = nitems;
	g_uv.items = xcalloc(nitems, sizeof *g_uv.items);
	for (unsigned i = 0; i < nitems; i++)
		g_uv.items[i].in = 'N';
}

static void uvb_teardown(void)
{
	if (uv_loop_close(&g_uv.loop) != 0)
		die("uv_loop_close");
	free(g_uv.items);
}

static void uvb_run(unsigned inflight)
{
	for (unsigned i = 0; i < inflight && g_uv.submitted < g_uv.total; i++, g_uv.submitted++) {
		if (g_uv.lat)
			g_uv.items[i].t0 = now_ns();
		uv_submit(&g_uv.items[i]);
	}
	if (uv_run(&g_uv.loop, UV_RUN_DEFAULT) != 0 || g_uv.done != g_uv.total)
		die("uv_run ended early");
}

static double uvb_throughput(unsigned long n)
{
	g_uv.lat = 0;
	g_uv.submitted = g_uv.done = 0;
	g_uv.total = n;
	uint64_t t0 = now_ns();
	uvb_run(g_uv.nitems);
	return (double)n * 1e9 / (double)(now_ns() - t0);
}

static void uvb_latency(unsigned depth, unsigned warm, unsigned nsamp, uint64_t *samp)
{
	g_uv.lat = 1;
	g_uv.submitted = g_uv.done = 0;
	g_uv.total = (unsigned long)warm + nsamp;
	g_uv.warm = warm;
	g_uv.ns = 0;
	g_uv.nsamp = nsamp;
	g_uv.samp = samp;
	uvb_run(depth);
	g_uv.lat = 0;
	if (g_uv.ns != nsamp)
		die("latency: samples missing");
}

/* --- libuv + a handle table + per-context queues ------------------------------------
 *
 * The third system: what a user who does not have sspiasync builds on libuv's
 * pool to get what the no-op call relies on.  A context is named by a handle,
 * checked at submission against a {generation, pointer} table (a removed or
 * forged handle is refused, never followed) and referenced until the call's
 * result is delivered; the calls on one context run one at a time, in
 * submission order, through the context's FIFO.  Written as a competent user
 * would: slots reused through a free list, one table lock hold to check and
 * reference and one to release, one context lock hold per submission and per
 * completion, an intrusive FIFO (nothing allocated per call), and the next
 * call of a context handed to the pool before the finished one is delivered.
 *
 * Context: ut_submit() and the completions run on the loop thread (libuv's
 * rule: uv_queue_work on the loop's thread only); ut_work() on libuv's pool
 * threads.  The locks make the table and the queues safe to reach from any
 * thread; a submission from another thread would also need a uv_async_t to
 * reach the loop (not built: every submission here is on the loop thread).
 * LOCK ORDER: ut_table.lock and ut_ctx.lock are never held together.
 */

/* A handle: bits 63..32 the generation of its slot, 31..0 the slot's index.
 * Generation 0 is never issued (a zeroed handle is never valid); a slot whose
 * generation would wrap to 0 is retired, never reused. */
#define UT_IDX_MASK UINT64_C(0xffffffff)
#define UT_GEN_SHIFT 32

/* Key: [T] ut_table.lock. */
struct ut_slot {
	void *obj;          /* [T] the context; NULL while the slot is free or retired */
	uint32_t gen;       /* [T] the generation a handle must carry; bumped by remove */
	uint32_t refs;      /* [T] references taken by acquire, not yet released */
	uint32_t next_free; /* [T] free list link while free */
	int draining;       /* [T] removed with references held: the last release frees it */
};

/* Key: [T] lock, [i] immutable after ut_table_init. */
struct ut_table {
	pthread_mutex_t lock; /* guards [T] */
	struct ut_slot *slot; /* [i] cap slots */
	uint32_t cap;         /* [i] */
	uint32_t free_head;   /* [T] first free slot; cap if none */
	uint32_t used;        /* [T] slots live or draining */
};

struct ut_call;
typedef void (*ut_done_cb)(struct ut_call *c, int status);

/* Key: [Q] ut_ctx.lock, [i] immutable after create. */
struct ut_ctx {
	pthread_mutex_t lock;         /* guards [Q] */
	struct ut_call *head, *tail;  /* [Q] calls waiting behind the running one */
	int running;                  /* [Q] one of its calls is in libuv's pool or being completed */
	uv_loop_t *loop;              /* [i] */
	struct ut_table *tab;         /* [i] the table its handle lives in */
};

/* One call; the caller's memory, from submission until @done runs.  What
 * the design needs per call ends at t0 (UT_CALL_BYTES); the rest is the
 * benchmark's, as in libuv's item. */
struct ut_call {
	uv_work_t req;        /* first: the call is found from its request */
	struct ut_call *next; /* [Q] of its context: the call waiting behind it */
	struct ut_ctx *ctx;   /* referenced from submission until delivery */
	uint64_t h;           /* the handle it was submitted on (its reference's) */
	ut_done_cb done;      /* the delivery, on the loop thread */
	uint64_t t0;          /* submitted at (latency rounds) */
	unsigned char in, out;
};

#define UT_CALL_BYTES offsetof(struct ut_call, t0)

static void ut_table_init(struct ut_table *t, uint32_t cap)
{
	memset(t, 0, sizeof *t);
	if (pthread_mutex_init(&t->lock, NULL) != 0)
		die("pthread_mutex_init");
	t->slot = xcalloc(cap, sizeof *t->slot);
	t->cap = cap;
	for (uint32_t i = 0; i < cap; i++) {
		t->slot[i].gen = 1;
		t->slot[i].next_free = i + 1;
	}
}

static void ut_table_fini(struct ut_table *t)
{
	if (t->used != 0)
		die("libuv+table: contexts left in the table");
	pthread_mutex_destroy(&t->lock);
	free(t->slot);
}

/* Insert @obj; 0 and *h, or -1 when the table is full.  Context: any thread. */
static int ut_table_insert(struct ut_table *t, void *obj, uint64_t *h)
{
	int rc = -1;
	pthread_mutex_lock(&t->lock);
	if (t->free_head < t->cap) {
		uint32_t i = t->free_head;
		struct ut_slot *s = &t->slot[i];
		t->free_head = s->next_free;
		s->obj = obj;
		s->refs = 0;
		s->draining = 0;
		t->used++;
		*h = (uint64_t)s->gen << UT_GEN_SHIFT | i;
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Back on the free list, or retired if its generation wrapped.  Context: t->lock held. */
static void ut_slot_free_locked(struct ut_table *t, uint32_t i)
{
	struct ut_slot *s = &t->slot[i];
	s->obj = NULL;
	s->draining = 0;
	t->used--;
	if (s->gen != 0) {
		s->next_free = t->free_head;
		t->free_head = i;
	}
}

/* Check @h and take a reference to its object: 0 and *obj, or -1 (removed,
 * forged, zero) with *obj untouched.  Context: any thread. */
static int ut_table_acquire(struct ut_table *t, uint64_t h, void **obj)
{
	uint64_t i = h & UT_IDX_MASK;
	int rc = -1;
	if (i >= t->cap)
		return -1;
	struct ut_slot *s = &t->slot[i];
	pthread_mutex_lock(&t->lock);
	if (s->obj != NULL && !s->draining && s->gen == (uint32_t)(h >> UT_GEN_SHIFT)) {
		s->refs++;
		*obj = s->obj;
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Drop a reference taken on @h; returns the object if that was the last one
 * of a removed handle (the caller destroys it), else NULL.  Context: any thread. */
static void *ut_table_release(struct ut_table *t, uint64_t h)
{
	uint32_t i = (uint32_t)(h & UT_IDX_MASK);
	struct ut_slot *s = &t->slot[i];
	void *dead = NULL;
	pthread_mutex_lock(&t->lock);
	if (s->refs == 0)
		die("libuv+table: release without a reference");
	if (--s->refs == 0 && s->draining) {
		dead = s->obj;
		ut_slot_free_locked(t, i);
	}
	pthread_mutex_unlock(&t->lock);
	return dead;
}

/* Remove @h: from now on it is refused.  Returns the object if no reference
 * is held (the caller destroys it), else NULL (the last release returns it);
 * -1 in *rc for a handle that is not live.  Context: any thread. */
static void *ut_table_remove(struct ut_table *t, uint64_t h, int *rc)
{
	uint64_t i = h & UT_IDX_MASK;
	void *dead = NULL;
	*rc = -1;
	if (i >= t->cap)
		return NULL;
	struct ut_slot *s = &t->slot[i];
	pthread_mutex_lock(&t->lock);
	if (s->obj != NULL && !s->draining && s->gen == (uint32_t)(h >> UT_GEN_SHIFT)) {
		s->gen++; /* 0 after a wrap: retired when freed */
		if (s->refs == 0) {
			dead = s->obj;
			ut_slot_free_locked(t, (uint32_t)i);
		} else {
			s->draining = 1;
		}
		*rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return dead;
}

static void ut_ctx_destroy(struct ut_ctx *x)
{
	if (x->running || x->head != NULL)
		die("libuv+table: context destroyed with calls");
	pthread_mutex_destroy(&x->lock);
	free(x);
}

/* A context in @t whose calls run on @loop's pool; its handle in *h. */
static void ut_ctx_create(struct ut_table *t, uv_loop_t *loop, uint64_t *h)
{
	struct ut_ctx *x = xcalloc(1, sizeof *x);
	if (pthread_mutex_init(&x->lock, NULL) != 0)
		die("pthread_mutex_init");
	x->loop = loop;
	x->tab = t;
	if (ut_table_insert(t, x, h) != 0)
		die("libuv+table: table full");
}

/* Remove @h's context; it is destroyed now, or by the release of its last call. */
static void ut_ctx_remove(struct ut_table *t, uint64_t h)
{
	int rc;
	struct ut_ctx *x = ut_table_remove(t, h, &rc);
	if (rc != 0)
		die("libuv+table: remove of a stale handle");
	if (x != NULL)
		ut_ctx_destroy(x);
}

/* The no-op work, as libuv's baseline does it; on a pool thread. */
static void ut_work(uv_work_t *r)
{
	struct ut_call *c = (struct ut_call *)(void *)r;
	c->out = c->in == 'N' ? 'N' : 0;
}

static void ut_after(uv_work_t *r, int status);

static void ut_queue(struct ut_call *c)
{
	int rc = uv_queue_work(c->ctx->loop, &c->req, ut_work, ut_after);
	if (rc != 0)
		die_status("uv_queue_work", rc);
}

/* Submit @c on @h: 0, or -1 with nothing queued if @h is not live.  @done
 * runs on the loop thread with the call's status once its work has run, after
 * every call submitted before it on that context.  Context: the loop thread. */
static int ut_submit(struct ut_table *t, uint64_t h, struct ut_call *c, ut_done_cb done)
{
	void *obj;
	if (ut_table_acquire(t, h, &obj) != 0)
		return -1;
	struct ut_ctx *x = obj;
	c->ctx = x;
	c->h = h;
	c->done = done;
	c->next = NULL;
	c->out = 0;
	pthread_mutex_lock(&x->lock);
	int idle = !x->running;
	if (idle) {
		x->running = 1;
	} else {
		if (x->tail != NULL)
			x->tail->next = c;
		else
			x->head = c;
		x->tail = c;
	}
	pthread_mutex_unlock(&x->lock);
	if (idle)
		ut_queue(c);
	return 0;
}

/* A call's work has run: hand its context to the next call (to the pool
 * before this one is delivered), release the reference, deliver.  On the
 * loop thread (after_work_cb). */
static void ut_after(uv_work_t *r, int status)
{
	struct ut_call *c = (struct ut_call *)(void *)r;
	struct ut_ctx *x = c->ctx;
	pthread_mutex_lock(&x->lock);
	struct ut_call *next = x->head;
	if (next != NULL) {
		x->head = next->next;
		if (x->head == NULL)
			x->tail = NULL;
	} else {
		x->running = 0;
	}
	pthread_mutex_unlock(&x->lock);
	if (next != NULL)
		ut_queue(next);
	struct ut_ctx *dead = ut_table_release(x->tab, c->h);
	if (dead != NULL)
		ut_ctx_destroy(dead);
	c->done(c, status);
}

/* What README says of the table, checked once at setup (the timed loops use
 * live handles only): zero and forged handles are refused; a removed handle
 * is refused at once, its context lives until the last reference goes; a
 * reused slot does not answer to the old handle.  Needs one free slot. */
static void ut_table_selfcheck(struct ut_table *t, uv_loop_t *loop)
{
	uint64_t h, h2;
	void *obj = NULL, *again;
	int rc;
	ut_ctx_create(t, loop, &h);
	if (ut_table_acquire(t, 0, &obj) == 0 || ut_table_acquire(t, h ^ (UINT64_C(1) << 40), &obj) == 0
	    || ut_table_acquire(t, h | UT_IDX_MASK, &obj) == 0 || obj != NULL)
		die("libuv+table self-check: a zero or forged handle was accepted");
	if (ut_table_acquire(t, h, &obj) != 0)
		die("libuv+table self-check: a live handle was refused");
	if (ut_table_remove(t, h, &rc) != NULL || rc != 0)
		die("libuv+table self-check: remove freed a referenced context");
	if (ut_table_acquire(t, h, &again) == 0)
		die("libuv+table self-check: a removed handle was accepted");
	if (ut_table_release(t, h) != obj)
		die("libuv+table self-check: the last release did not hand the context back");
	ut_ctx_destroy(obj);
	ut_ctx_create(t, loop, &h2);
	if ((h2 & UT_IDX_MASK) != (h & UT_IDX_MASK) || ut_table_acquire(t, h, &again) == 0)
		die("libuv+table self-check: a reused slot answered to its old handle");
	ut_ctx_remove(t, h2);
}

/* The benchmark on it: NCTX contexts, PER_CTX calls on each. */
struct utb {
	uv_loop_t loop;
	struct ut_table tab;
	uint64_t *h;                     /* [nctx] the contexts' handles */
	struct ut_call *calls;           /* call j is on context j / per_ctx */
	unsigned nctx, per_ctx, ncalls;
	int lat;                         /* latency round: time each call */
	unsigned long submitted, done, total, warm;
	unsigned ns, nsamp;
	uint64_t *samp;
};

static struct utb g_ut;

static void utb_done(struct ut_call *c, int status);

static void utb_submit(struct ut_call *c, uint64_t h)
{
	if (ut_submit(&g_ut.tab, h, c, utb_done) != 0)
		die("libuv+table: a live handle was refused");
}

/* The delivery: check the result, resubmit on the same context (closed loop). */
static void utb_done(struct ut_call *c, int status)
{
	uint64_t t = g_ut.lat ? now_ns() : 0;
	if (status != 0 || c->out != 'N')
		die_status("libuv+table call completed with", status);
	if (g_ut.lat && g_ut.done >= g_ut.warm && g_ut.ns < g_ut.nsamp)
		g_ut.samp[g_ut.ns++] = t - c->t0;
	g_ut.done++;
	if (g_ut.submitted < g_ut.total) {
		if (g_ut.lat)
			c->t0 = now_ns();
		utb_submit(c, c->h);
		g_ut.submitted++;
	}
}

static void utb_setup(unsigned nctx, unsigned per_ctx)
{
	if (uv_loop_init(&g_ut.loop) != 0)
		die("uv_loop_init");
	g_ut.nctx = nctx;
	g_ut.per_ctx = per_ctx;
	g_ut.ncalls = nctx * per_ctx;
	ut_table_init(&g_ut.tab, nctx + 1);
	ut_table_selfcheck(&g_ut.tab, &g_ut.loop);
	g_ut.h = xcalloc(nctx, sizeof *g_ut.h);
	for (unsigned i = 0; i < nctx; i++)
		ut_ctx_create(&g_ut.tab, &g_ut.loop, &g_ut.h[i]);
	g_ut.calls = xcalloc(g_ut.ncalls, sizeof *g_ut.calls);
	for (unsigned j = 0; j < g_ut.ncalls; j++)
		g_ut.calls[j].in = 'N';
}

static void utb_teardown(void)
{
	for (unsigned i = 0; i < g_ut.nctx; i++)
		ut_ctx_remove(&g_ut.tab, g_ut.h[i]);
	ut_table_fini(&g_ut.tab);
	if (uv_loop_close(&g_ut.loop) != 0)
		die("uv_loop_close");
	free(g_ut.calls);
	free(g_ut.h);
}

/* @inflight calls, every @stride-th (1: every call, 4 per context; per_ctx:
 * one per context), until g_ut.total have been delivered. */
static void utb_run(unsigned inflight, unsigned stride)
{
	for (unsigned i = 0; i < inflight && g_ut.submitted < g_ut.total; i++, g_ut.submitted++) {
		unsigned j = i * stride;
		if (g_ut.lat)
			g_ut.calls[j].t0 = now_ns();
		utb_submit(&g_ut.calls[j], g_ut.h[j / g_ut.per_ctx]);
	}
	if (uv_run(&g_ut.loop, UV_RUN_DEFAULT) != 0 || g_ut.done != g_ut.total)
		die("uv_run ended early (libuv+table)");
}

static double utb_throughput(unsigned long n)
{
	g_ut.lat = 0;
	g_ut.submitted = g_ut.done = 0;
	g_ut.total = n;
	uint64_t t0 = now_ns();
	utb_run(g_ut.ncalls, 1);
	return (double)n * 1e9 / (double)(now_ns() - t0);
}

/* Closed loop at @depth in flight, one call per context. */
static void utb_latency(unsigned depth, unsigned warm, unsigned nsamp, uint64_t *samp)
{
	if (depth > g_ut.nctx)
		die("depth above the contexts");
	g_ut.lat = 1;
	g_ut.submitted = g_ut.done = 0;
	g_ut.total = (unsigned long)warm + nsamp;
	g_ut.warm = warm;
	g_ut.ns = 0;
	g_ut.nsamp = nsamp;
	g_ut.samp = samp;
	utb_run(depth, g_ut.per_ctx);
	g_ut.lat = 0;
	if (g_ut.ns != nsamp)
		die("latency: samples missing");
}

/* --- memory per pending call -------------------------------------------------- */

struct memres {
	double lib_per_call;    /* wrapper live bytes per pending call */
	double acall_per_call;  /* of which: async context + slot (create + bind) */
	double job_per_call;    /* of which: the queued call (job, input copy) */
	double in_tok;          /* input token bytes per call (in the job) */
	double heap_per_call;   /* C heap (mallinfo2) per pending call */
	double blocks_per_call; /* wrapper blocks per pending call */
	double uv_heap_per_call;
};

static uint64_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

/* sspiasync, fresh runtime, 2 workers each held in a 300 ms leg: INFLIGHT
 * no-op calls queued behind them and counted while nothing runs. */
static void mem_sspiasync(struct memres *r)
{
	sa_init(WORKERS);
	struct sab s;
	memset(&s, 0, sizeof s);
	s.nctx = NCTX;
	s.per_ctx = PER_CTX;
	s.ncalls = INFLIGHT;
	cred_acquire(&s.cred, SECPKG_CRED_OUTBOUND);
	s.ctx = xcalloc(NCTX, sizeof *s.ctx);
	for (unsigned i = 0; i < NCTX; i++)
		noop_context(&s.cred, &s.ctx[i]);
	SECURITY_STATUS st = sspiasync_cq_create(&s.cq);
	if (st != SEC_E_OK)
		die_status("sspiasync_cq_create", st);
	/* Hold both workers. */
	SspiAsyncContext *blk[WORKERS];
	CtxtHandle blk_ctx[WORKERS];
	unsigned char blk_tok[WORKERS][16];
	SecBuffer blk_ob[WORKERS];
	SecBufferDesc blk_od[WORKERS];
	unsigned long blk_attrs[WORKERS];
	char blk_target[] = "host/block;noop;latency_us=300000";
	for (unsigned w = 0; w < WORKERS; w++) {
		blk_ob[w] = (SecBuffer){sizeof blk_tok[w], SECBUFFER_TOKEN, blk_tok[w]};
		blk_od[w] = (SecBufferDesc){SECBUFFER_VERSION, 1, &blk_ob[w]};
		if ((blk[w] = SspiCreateAsyncContext()) == NULL)
			die("SspiCreateAsyncContext");
		st = SspiInitializeSecurityContextAsyncA(blk[w], &s.cred, NULL, blk_target, 0, 0,
							 SECURITY_NATIVE_DREP, NULL, 0, &blk_ctx[w],
							 &blk_od[w], &blk_attrs[w], NULL);
		if (st != SEC_E_OK)
			die_status("blocking call", st);
	}
	sleep_ms(50); /* both workers are in their legs, contexts made */
	struct sspiasync_statistics st0, st1;
	sspiasync_stats(&st0);
	struct sa_alloc_stats a, b, c;
	uint64_t h0 = heap_bytes();
	sa__alloc_stats(&a);
	s.calls = xcalloc(INFLIGHT, sizeof *s.calls); /* ours, not the library's */
	map_clear();
	uint64_t h_ours = heap_bytes() - h0;
	for (unsigned j = 0; j < INFLIGHT; j++) {
		struct sacall *cl = &s.calls[j];
		cl->ctx = j / PER_CTX;
		cl->od = (SecBufferDesc){SECBUFFER_VERSION, 1, &cl->ob};
		if ((cl->ac = SspiCreateAsyncContext()) == NULL)
			die("SspiCreateAsyncContext");
		if ((st = sspiasync_cq_bind(cl->ac, s.cq)) != SEC_E_OK)
			die_status("sspiasync_cq_bind", st);
		map_put(cl->ac, cl);
	}
	sa__alloc_stats(&b);
	for (unsigned j = 0; j < INFLIGHT; j++)
		sab_submit(&s, &s.calls[j]);
	sa__alloc_stats(&c);
	uint64_t h1 = heap_bytes();
	sspiasync_stats(&st1);
	if (st1.completed_calls != st0.completed_calls || st1.pending_calls != INFLIGHT + WORKERS)
		die("memory figure: the workers were not held (calls ran while counted)");
	r->acall_per_call = (double)(b.live_bytes - a.live_bytes) / INFLIGHT;
	r->job_per_call = (double)(c.live_bytes - b.live_bytes) / INFLIGHT;
	r->lib_per_call = (double)(c.live_bytes - a.live_bytes) / INFLIGHT;
	r->blocks_per_call = (double)(c.live_blocks - a.live_blocks) / INFLIGHT;
	r->heap_per_call = (double)(h1 - h0 - h_ours) / INFLIGHT;
	r->in_tok = 1;
	/* Let everything finish, then tidy up. */
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	if (s.ep < 0 || epoll_ctl(s.ep, EPOLL_CTL_ADD, sspiasync_cq_fd(s.cq), &ev) != 0)
		die("epoll");
	struct sspiasync_completion out[REAP_N];
	for (unsigned done = 0; done < INFLIGHT;) {
		int k = sab_reap(&s, out);
		for (int j = 0; j < k; j++, done++)
			sab_done(&out[j]);
	}
	for (unsigned w = 0; w < WORKERS; w++) {
		while (SspiGetAsyncCallStatus(blk[w]) == SEC_I_ASYNC_CALL_PENDING)
			sleep_ms(10);
		if (SspiGetAsyncCallStatus(blk[w]) != SEC_I_CONTINUE_NEEDED)
			die("blocking call failed");
		SspiFreeAsyncContext(blk[w]);
		if (DeleteSecurityContext(&blk_ctx[w]) != SEC_E_OK)
			die("DeleteSecurityContext");
	}
	sab_teardown(&s);
	sa_shutdown();
}

/* libuv: its 2 threads held in work_cb, INFLIGHT items queued behind them;
 * the heap change per item (the items are ours, allocated before). */
static void mem_libuv(struct memres *r)
{
	sem_t park;
	if (sem_init(&park, 0, 0) != 0)
		die("sem_init");
	struct uvitem blk[WORKERS];
	memset(blk, 0, sizeof blk);
	g_uv.lat = 0;
	g_uv.submitted = g_uv.done = 0;
	g_uv.total = 0; /* after_work_cb resubmits nothing */
	for (unsigned w = 0; w < WORKERS; w++) {
		blk[w].in = 'N';
		blk[w].park = &park;
		uv_submit(&blk[w]);
	}
	sleep_ms(50);
	uint64_t h0 = heap_bytes();
	for (unsigned i = 0; i < INFLIGHT; i++)
		uv_submit(&g_uv.items[i]);
	uint64_t h1 = heap_bytes();
	for (unsigned w = 0; w < WORKERS; w++)
		sem_post(&park);
	if (uv_run(&g_uv.loop, UV_RUN_DEFAULT) != 0 || g_uv.done != INFLIGHT + WORKERS)
		die("uv_run ended early (memory)");
	sem_destroy(&park);
	r->uv_heap_per_call = (double)(h1 - h0) / INFLIGHT;
}

/* --- handshakes ------------------------------------------------------------------ */

/* Direct package calls: 3 legs and both deletes, as the library makes them. */
static void hs_direct(unsigned long n)
{
	const struct sa_package *pkg = sa__pkg_find("SspiAsyncTest");
	if (pkg == NULL)
		die("no test package");
	struct sa_pkg_cred_args oa = {NULL, SECPKG_CRED_OUTBOUND, NULL};
	struct sa_pkg_cred_args ia = {NULL, SECPKG_CRED_INBOUND, NULL};
	void *cc, *sc;
	int64_t exp;
	if (pkg->cred_acquire(&oa, &cc, &exp) != SEC_E_OK || pkg->cred_acquire(&ia, &sc, &exp) != SEC_E_OK)
		die("package cred_acquire");
	static unsigned char t1[HS_TOK], t2[HS_TOK], t3[HS_TOK];
	for (unsigned long i = 0; i < n; i++) {
		void *c = NULL, *s = NULL;
		struct sa_pkg_leg l1 = {.target = HS_TARGET, .out = t1, .out_cap = HS_TOK};
		if (pkg->init_leg(cc, &c, &l1) != SEC_I_CONTINUE_NEEDED)
			die("direct leg 1");
		struct sa_pkg_leg l2 = {.in = t1, .in_len = l1.out_len, .out = t2, .out_cap = HS_TOK};
		if (pkg->accept_leg(sc, &s, &l2) != SEC_E_OK)
			die("direct leg 2");
		struct sa_pkg_leg l3 = {.in = t2, .in_len = l2.out_len, .target = HS_TARGET,
					.out = t3, .out_cap = HS_TOK};
		if (pkg->init_leg(cc, &c, &l3) != SEC_E_OK)
			die("direct leg 3");
		pkg->ctx_delete(c);
		pkg->ctx_delete(s);
	}
	pkg->cred_free(cc);
	pkg->cred_free(sc);
}

/* The synchronous API, as a ported program writes it.  The runtime exists. */
static void hs_sync(unsigned long n)
{
	CredHandle cc, sc;
	cred_acquire(&cc, SECPKG_CRED_OUTBOUND);
	cred_acquire(&sc, SECPKG_CRED_INBOUND);
	char target[] = HS_TARGET;
	static unsigned char t1[HS_TOK], t2[HS_TOK], t3[HS_TOK];
	for (unsigned long i = 0; i < n; i++) {
		CtxtHandle c, s;
		unsigned long attrs;
		SecBuffer o1 = {HS_TOK, SECBUFFER_TOKEN, t1}, o2 = {HS_TOK, SECBUFFER_TOKEN, t2},
			  o3 = {HS_TOK, SECBUFFER_TOKEN, t3};
		SecBufferDesc d1 = {SECBUFFER_VERSION, 1, &o1}, d2 = {SECBUFFER_VERSION, 1, &o2},
			      d3 = {SECBUFFER_VERSION, 1, &o3};
		if (InitializeSecurityContextA(&cc, NULL, target, 0, 0, SECURITY_NATIVE_DREP, NULL, 0,
					       &c, &d1, &attrs, NULL) != SEC_I_CONTINUE_NEEDED)
			die("sync leg 1");
		SecBuffer i2 = {o1.cbBuffer, SECBUFFER_TOKEN, t1};
		SecBufferDesc id2 = {SECBUFFER_VERSION, 1, &i2};
		if (AcceptSecurityContext(&sc, NULL, &id2, 0, SECURITY_NATIVE_DREP, &s, &d2, &attrs,
					  NULL) != SEC_E_OK)
			die("sync leg 2");
		SecBuffer i3 = {o2.cbBuffer, SECBUFFER_TOKEN, t2};
		SecBufferDesc id3 = {SECBUFFER_VERSION, 1, &i3};
		if (InitializeSecurityContextA(&cc, &c, target, 0, 0, SECURITY_NATIVE_DREP, &id3, 0,
					       &c, &d3, &attrs, NULL) != SEC_E_OK)
			die("sync leg 3");
		if (DeleteSecurityContext(&c) != SEC_E_OK || DeleteSecurityContext(&s) != SEC_E_OK)
			die("sync delete");
	}
	if (FreeCredentialsHandle(&cc) != SEC_E_OK || FreeCredentialsHandle(&sc) != SEC_E_OK)
		die("FreeCredentialsHandle");
}

/* One handshake slot of the async lines: both sides' async contexts, reused. */
struct hs {
	SspiAsyncContext *side[2]; /* 0: client, 1: server */
	CtxtHandle ctx[2];
	unsigned char tok[2][HS_TOK];
	SecBuffer ob[2];
	SecBufferDesc od[2];
	unsigned long attrs[2];
	int leg;                   /* 1..3: that leg in flight; 4: the deletes */
	int pending;
	CredHandle *cred;          /* [2] */
	unsigned long *started, *finished, limit;
};

static void hs_leg(struct hs *h, int leg)
{
	char target[] = HS_TARGET;
	int side = leg == 2;
	h->leg = leg;
	h->pending++;
	h->ob[side] = (SecBuffer){HS_TOK, SECBUFFER_TOKEN, h->tok[side]};
	h->od[side] = (SecBufferDesc){SECBUFFER_VERSION, 1, &h->ob[side]};
	SecBuffer ib = {h->ob[!side].cbBuffer, SECBUFFER_TOKEN, h->tok[!side]};
	SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
	SECURITY_STATUS st;
	if (leg == 2)
		st = SspiAcceptSecurityContextAsync(h->side[1], &h->cred[1], NULL, &id, 0,
						    SECURITY_NATIVE_DREP, &h->ctx[1], &h->od[1],
						    &h->attrs[1], NULL);
	else
		st = SspiInitializeSecurityContextAsyncA(h->side[0], &h->cred[0],
							 leg == 1 ? NULL : &h->ctx[0], target, 0, 0,
							 SECURITY_NATIVE_DREP, leg == 1 ? NULL : &id,
							 0, &h->ctx[0], &h->od[0], &h->attrs[0], NULL);
	if (st != SEC_E_OK)
		die_status("async handshake leg", st);
}

/* Start the next handshake on @h if the round wants more. */
static void hs_next(struct hs *h)
{
	if (*h->started < h->limit) {
		(*h->started)++;
		hs_leg(h, 1);
	}
}

/* A call of @h completed on @side with @st; its async context is idle again. */
static void hs_step(struct hs *h, int side, SECURITY_STATUS st)
{
	static const SECURITY_STATUS want[5] = {0, SEC_I_CONTINUE_NEEDED, SEC_E_OK, SEC_E_OK, SEC_E_OK};
	h->pending--;
	if (st != want[h->leg] || (h->leg < 4 && side != (h->leg == 2)))
		die_status("async handshake step", st);
	if (h->leg < 3) {
		hs_leg(h, h->leg + 1);
	} else if (h->leg == 3) {
		h->leg = 4;
		for (int i = 0; i < 2; i++) {
			h->pending++;
			st = SspiDeleteSecurityContextAsync(h->side[i], &h->ctx[i]);
			if (st != SEC_E_OK)
				die_status("SspiDeleteSecurityContextAsync", st);
		}
	} else if (h->pending == 0) {
		(*h->finished)++;
		hs_next(h);
	}
}

static void hs_make(struct hs *h, CredHandle *cred, unsigned long *started, unsigned long *finished,
		    unsigned long limit)
{
	memset(h, 0, sizeof *h);
	h->cred = cred;
	h->started = started;
	h->finished = finished;
	h->limit = limit;
	for (int i = 0; i < 2; i++)
		if ((h->side[i] = SspiCreateAsyncContext()) == NULL)
			die("SspiCreateAsyncContext");
}

/* No-thread mode: the callback reinits and chains the next call. */
static void hs_cb(SspiAsyncContext *ac, void *data)
{
	struct hs *h = data;
	SECURITY_STATUS st = SspiGetAsyncCallStatus(ac);
	if (SspiReinitAsyncContext(ac) != STATUS_SUCCESS)
		die("SspiReinitAsyncContext (callback)");
	hs_step(h, ac == h->side[1], st);
}

/* The async API on one thread: no-thread runtime, one handshake at a time,
 * callbacks in sspiasync_run().  The runtime is initialised (threads 0). */
static void hs_async1(unsigned long n)
{
	CredHandle cred[2];
	cred_acquire(&cred[0], SECPKG_CRED_OUTBOUND);
	cred_acquire(&cred[1], SECPKG_CRED_INBOUND);
	unsigned long started = 0, finished = 0;
	static struct hs h;
	hs_make(&h, cred, &started, &finished, n);
	for (int i = 0; i < 2; i++)
		if (SspiSetAsyncNotifyCallback(h.side[i], hs_cb, &h) != SEC_E_OK)
			die("SspiSetAsyncNotifyCallback");
	hs_next(&h);
	sspiasync_run(0); /* every handshake: each callback queues the next call */
	if (finished != n)
		die("async handshakes (no-thread) did not all finish");
	for (int i = 0; i < 2; i++)
		SspiFreeAsyncContext(h.side[i]);
	if (FreeCredentialsHandle(&cred[0]) != SEC_E_OK || FreeCredentialsHandle(&cred[1]) != SEC_E_OK)
		die("FreeCredentialsHandle");
}

/* The async API with the pool: HS_POOL_INFLIGHT handshakes in flight through
 * one completion queue on this thread.  The runtime is initialised. */
static void hs_async_pool(unsigned long n)
{
	CredHandle cred[2];
	cred_acquire(&cred[0], SECPKG_CRED_OUTBOUND);
	cred_acquire(&cred[1], SECPKG_CRED_INBOUND);
	struct sab s;
	memset(&s, 0, sizeof s);
	SECURITY_STATUS st = sspiasync_cq_create(&s.cq);
	if (st != SEC_E_OK)
		die_status("sspiasync_cq_create", st);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	if (s.ep < 0 || epoll_ctl(s.ep, EPOLL_CTL_ADD, sspiasync_cq_fd(s.cq), &ev) != 0)
		die("epoll");
	unsigned long started = 0, finished = 0;
	static struct hs hs[HS_POOL_INFLIGHT];
	map_clear();
	for (unsigned i = 0; i < HS_POOL_INFLIGHT; i++) {
		hs_make(&hs[i], cred, &started, &finished, n);
		for (int k = 0; k < 2; k++) {
			if (sspiasync_cq_bind(hs[i].side[k], s.cq) != SEC_E_OK)
				die("sspiasync_cq_bind");
			map_put(hs[i].side[k], &hs[i]);
		}
	}
	for (unsigned i = 0; i < HS_POOL_INFLIGHT; i++)
		hs_next(&hs[i]);
	struct sspiasync_completion out[REAP_N];
	while (finished < n) {
		int k = sab_reap(&s, out);
		for (int j = 0; j < k; j++) {
			struct hs *h = map_get(out[j].context);
			if (SspiReinitAsyncContext(out[j].context) != STATUS_SUCCESS)
				die("SspiReinitAsyncContext");
			hs_step(h, out[j].context == h->side[1], out[j].status);
		}
	}
	for (unsigned i = 0; i < HS_POOL_INFLIGHT; i++)
		for (int k = 0; k < 2; k++)
			SspiFreeAsyncContext(hs[i].side[k]);
	close(s.ep);
	if (sspiasync_cq_destroy(s.cq) != SEC_E_OK)
		die("sspiasync_cq_destroy");
	if (FreeCredentialsHandle(&cred[0]) != SEC_E_OK || FreeCredentialsHandle(&cred[1]) != SEC_E_OK)
		die("FreeCredentialsHandle");
}

enum { HS_DIRECT, HS_SYNC, HS_ASYNC1, HS_POOL, HS_N };

static const char *const hs_names[HS_N] = {
	"direct package calls, 1 thread",
	"sync API (ISC/ASC/DeleteSecurityContext), 1 thread",
	"async API, no-thread mode (callbacks in sspiasync_run), 1 thread",
	"async API, 2 workers + completion queue, 64 in flight",
};

/* One round of handshake line @which: seconds for @n handshakes (setup and
 * runtime start excluded). */
static double hs_round(int which, unsigned long n)
{
	uint64_t t0, t1;
	switch (which) {
	case HS_DIRECT:
		t0 = now_ns();
		hs_direct(n);
		t1 = now_ns();
		break;
	case HS_SYNC:
		sa_init(0);
		t0 = now_ns();
		hs_sync(n);
		t1 = now_ns();
		sa_shutdown();
		break;
	case HS_ASYNC1:
		sa_init(0);
		t0 = now_ns();
		hs_async1(n);
		t1 = now_ns();
		sa_shutdown();
		break;
	default:
		sa_init(WORKERS);
		t0 = now_ns();
		hs_async_pool(n);
		t1 = now_ns();
		sa_shutdown();
		break;
	}
	return (double)(t1 - t0) / 1e9;
}

/* --- the callgrind loops ----------------------------------------------------------- */

/*
 * `async --callgrind MODE N`: set up as the timed figures do, then run N
 * operations and exit; bench/async_callgrind.sh runs it with N and 2N and
 * divides the difference of the total instruction counts (every thread) by
 * N, so setup, warm-up and teardown cancel out.
 *   sa-d1, uv-d1, ut-d1            no-op calls, 1 in flight (closed loop)
 *   sa-d4096, uv-d4096, ut-d4096   no-op calls, 4,096 in flight (the
 *                                  throughput figure; ut: 4 per context)
 *   hs-direct, hs-sync, hs-async   handshakes, as in the handshake table
 */
static int callgrind_main(const char *mode, unsigned long n)
{
	if (strcmp(mode, "sa-d1") == 0 || strcmp(mode, "sa-d4096") == 0) {
		int d1 = mode[4] == '1';
		sa_init(WORKERS);
		struct sab s;
		sab_setup(&s, d1 ? 1 : NCTX, d1 ? 1 : PER_CTX);
		if (d1) {
			uint64_t *samp = xcalloc(n + 1, sizeof *samp);
			sab_latency(&s, 1, 0, (unsigned)n, samp);
			free(samp);
		} else {
			sab_throughput(&s, n);
		}
		sab_teardown(&s);
		sa_shutdown();
	} else if (strcmp(mode, "uv-d1") == 0 || strcmp(mode, "uv-d4096") == 0) {
		int d1 = mode[4] == '1';
		uvb_setup(INFLIGHT);
		if (d1) {
			uint64_t *samp = xcalloc(n + 1, sizeof *samp);
			uvb_latency(1, 0, (unsigned)n, samp);
			free(samp);
		} else {
			uvb_throughput(n);
		}
		uvb_teardown();
	} else if (strcmp(mode, "ut-d1") == 0 || strcmp(mode, "ut-d4096") == 0) {
		int d1 = mode[4] == '1';
		utb_setup(d1 ? 1 : NCTX, d1 ? 1 : PER_CTX);
		if (d1) {
			uint64_t *samp = xcalloc(n + 1, sizeof *samp);
			utb_latency(1, 0, (unsigned)n, samp);
			free(samp);
		} else {
			utb_throughput(n);
		}
		utb_teardown();
	} else if (strcmp(mode, "hs-direct") == 0) {
		hs_direct(n);
	} else if (strcmp(mode, "hs-sync") == 0) {
		sa_init(0);
		hs_sync(n);
		sa_shutdown();
	} else if (strcmp(mode, "hs-async") == 0) {
		sa_init(0);
		hs_async1(n);
		sa_shutdown();
	} else {
		fprintf(stderr, "bench/async: unknown callgrind mode %s\n", mode);
		return 2;
	}
	printf("callgrind-ops %lu\n", n);
	return 0;
}

/* --- output ------------------------------------------------------------------------ */

static void header(void)
{
	char model[128];
	bl_cpu_model(model, sizeof model);
	double load = bl_loadavg();
	printf("bench/async: %ld CPUs (%s), load %.2f, compiler %s, libuv %s; "
	       "%u rounds per figure, median, the three systems interleaved%s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), model, load, __VERSION__, uv_version_string(),
	       g_cfg.rounds, g_cfg.quick ? "; QUICK MODE (BENCH_QUICK=1): not the issue's figures" : "");
	printf("no-op call: SspiInitializeSecurityContextAsyncA on an existing \"%s\" context, "
	       "1-byte input token, reaped from a completion queue; libuv: uv_queue_work + "
	       "after_work_cb; libuv+table: the same behind a mutex-guarded {generation, pointer} "
	       "handle table and a FIFO per context (%d contexts x %d calls at 4,096 in flight); "
	       "%d workers / UV_THREADPOOL_SIZE=%d; latency: one call per context; "
	       "ratios = sspiasync / baseline (throughput: higher is better; the rest: lower is "
	       "better)\n\n", NOOP_TARGET, NCTX, PER_CTX, WORKERS, WORKERS);
}

enum { SYS_SA, SYS_UV, SYS_UT, NSYS };

static const char *const sys_names[NSYS] = {"sspiasync", "libuv", "libuv+table"};

/* A ratio against one baseline, its goal ("-": none) and the verdict (-1: none). */
struct versus {
	double ratio;
	const char *goal;
	int pass;
};

static const char *verdict(int pass)
{
	return pass < 0 ? "-" : pass ? "PASS" : "MISS";
}

/* One line: the figure for each system, then sspiasync against libuv and
 * against libuv+table. */
static void row(const char *figure, const char *place, char cell[NSYS][96], struct versus uv,
		struct versus ut)
{
	char r[2][16];
	const struct versus *vs[2] = {&uv, &ut};
	for (int k = 0; k < 2; k++)
		if (isfinite(vs[k]->ratio))
			snprintf(r[k], sizeof r[k], "%.2f", vs[k]->ratio);
		else
			snprintf(r[k], sizeof r[k], "-");
	printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", figure, place,
	       cell[SYS_SA], cell[SYS_UV], cell[SYS_UT], r[0], uv.goal, verdict(uv.pass), r[1],
	       ut.goal, verdict(ut.pass));
}

static void verbose_rounds(const char *what, const struct series s[NSYS])
{
	if (!g_cfg.verbose)
		return;
	fprintf(stderr, "%s\n", what);
	for (int k = 0; k < NSYS; k++) {
		fprintf(stderr, "  %-12s", sys_names[k]);
		for (unsigned r = 0; r < s[k].n; r++)
			fprintf(stderr, " %.2f", s[k].v[r]);
		fprintf(stderr, "\n");
	}
}

/* Context switches of every thread of the process so far. */
static uint64_t csw_count(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		die("getrusage");
	return (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

/* --- main ------------------------------------------------------------------------ */

struct results {
	struct series thr[2][NSYS];               /* [placement][system], k calls/s */
	struct series csw[2][NSYS];               /* [placement][system], context switches per call */
	struct series futex[2][NSYS];             /* [placement][system], futex calls per call */
	struct series lat[2][NDEPTHS][3][NSYS];   /* [placement][depth][p50,p99,p999][system], us */
	struct memres mem;
	struct series hs[HS_N];                   /* seconds per round */
};

static struct results g_res;

/* One throughput run of system @sys: calls per second; its context switches
 * and futex calls (if counted) per call into *csw and *fx. */
static double thr_run(int sys, struct sab *s, unsigned long n, double *csw, double *fx)
{
	uint64_t f0 = futex_count(), c0 = csw_count();
	double v = sys == SYS_SA ? sab_throughput(s, n) : sys == SYS_UV ? uvb_throughput(n)
									: utb_throughput(n);
	*csw = (double)(csw_count() - c0) / (double)n;
	*fx = (double)(futex_count() - f0) / (double)n;
	return v;
}

static void lat_run(int sys, struct sab *s, unsigned depth, unsigned warm, unsigned ns,
		    uint64_t *samp)
{
	if (sys == SYS_SA)
		sab_latency(s, depth, warm, ns, samp);
	else if (sys == SYS_UV)
		uvb_latency(depth, warm, ns, samp);
	else
		utb_latency(depth, warm, ns, samp);
}

static void measure_async(void)
{
	sa_init(WORKERS);
	struct sab s;
	sab_setup(&s, NCTX, PER_CTX);
	uvb_setup(INFLIGHT);
	utb_setup(NCTX, PER_CTX);
	/* Warm-up: the pools started, caches and allocator warm. */
	double csw, fx;
	for (int k = 0; k < NSYS; k++)
		thr_run(k, &s, g_cfg.thr_calls / 10, &csw, &fx);
	futex_open(); /* every thread of the run exists now */
	unsigned maxs = 0;
	for (unsigned d = 0; d < NDEPTHS; d++)
		if (g_cfg.lat_samples[d] > maxs)
			maxs = g_cfg.lat_samples[d];
	uint64_t *samp = xcalloc(maxs, sizeof *samp);
	for (unsigned p = 0; p < g_nplace; p++) {
		unsigned nthreads = place_all(&g_place[p]);
		if (nthreads != 1 + 2 * WORKERS)
			fprintf(stderr, "bench/async: %u threads, expected %d\n", nthreads, 1 + 2 * WORKERS);
		for (unsigned r = 0; r < g_cfg.rounds; r++) {
			for (int k = 0; k < NSYS; k++) {
				int sys = (int)((r + (unsigned)k) % NSYS); /* round r starts with r mod 3 */
				place_all(&g_place[p]);
				double v = thr_run(sys, &s, g_cfg.thr_calls, &csw, &fx);
				series_add(&g_res.thr[p][sys], v / 1e3);
				series_add(&g_res.csw[p][sys], csw);
				series_add(&g_res.futex[p][sys], fx);
			}
		}
		char what[128];
		snprintf(what, sizeof what, "throughput, %s (k calls/s)", g_place[p].name);
		verbose_rounds(what, g_res.thr[p]);
		snprintf(what, sizeof what, "context switches per call, %s", g_place[p].name);
		verbose_rounds(what, g_res.csw[p]);
		snprintf(what, sizeof what, "futex calls per call, %s", g_place[p].name);
		verbose_rounds(what, g_res.futex[p]);
		for (unsigned d = 0; d < NDEPTHS; d++) {
			unsigned ns = g_cfg.lat_samples[d];
			unsigned warm = ns / 10 > depths[d] * 4 ? ns / 10 : depths[d] * 4;
			for (unsigned r = 0; r < g_cfg.rounds; r++) {
				for (int k = 0; k < NSYS; k++) {
					int sys = (int)((r + (unsigned)k) % NSYS);
					double pc[3];
					place_all(&g_place[p]);
					lat_run(sys, &s, depths[d], warm, ns, samp);
					percentiles(samp, ns, pc);
					for (int q = 0; q < 3; q++)
						series_add(&g_res.lat[p][d][q][sys], pc[q]);
				}
			}
			static const char *const qn[3] = {"p50", "p99", "p99.9"};
			for (int q = 0; q < 3; q++) {
				snprintf(what, sizeof what, "latency %s, depth %u, %s (us)", qn[q], depths[d],
					 g_place[p].name);
				verbose_rounds(what, g_res.lat[p][d][q]);
			}
		}
	}
	free(samp);
	futex_close();
	utb_teardown();
	sab_teardown(&s);
	sa_shutdown();
	place_all(&g_place[0]);
	mem_sspiasync(&g_res.mem);
	mem_libuv(&g_res.mem);
	uvb_teardown();
}

static void measure_handshakes(void)
{
	place_all(&g_place[0]);
	for (int w = 0; w < HS_N; w++) /* warm-up */
		hs_round(w, g_cfg.hs_n / 10 + 1);
	for (unsigned r = 0; r < g_cfg.rounds; r++)
		for (int k = 0; k < HS_N; k++) {
			int w = (int)((r + (unsigned)k) % HS_N);
			series_add(&g_res.hs[w], hs_round(w, g_cfg.hs_n));
		}
	if (g_cfg.verbose)
		for (int w = 0; w < HS_N; w++) {
			fprintf(stderr, "handshakes, %s (s per round):", hs_names[w]);
			for (unsigned r = 0; r < g_res.hs[w].n; r++)
				fprintf(stderr, " %.4f", g_res.hs[w].v[r]);
			fprintf(stderr, "\n");
		}
}

static void report(void)
{
	char cell[NSYS][96], f[128];
	double v[NSYS];
	printf("| figure | placement | sspiasync | libuv | libuv+table | vs libuv | goal | result | "
	       "vs libuv+table | goal | result |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned p = 0; p < g_nplace; p++) {
		for (int k = 0; k < NSYS; k++) {
			v[k] = median(&g_res.thr[p][k]);
			snprintf(cell[k], sizeof cell[k], "%.0f k calls/s", v[k]);
		}
		snprintf(f, sizeof f, "throughput, %d in flight, %lu calls", INFLIGHT, g_cfg.thr_calls);
		row(f, g_place[p].name, cell,
		    (struct versus){v[SYS_SA] / v[SYS_UV], ">= 0.50", v[SYS_SA] >= 0.5 * v[SYS_UV]},
		    (struct versus){v[SYS_SA] / v[SYS_UT], ">= 1.00", v[SYS_SA] >= v[SYS_UT]});
		for (int k = 0; k < NSYS; k++) {
			v[k] = median(&g_res.csw[p][k]);
			snprintf(cell[k], sizeof cell[k], "%.3f", v[k]);
		}
		row("context switches per call, the throughput runs", g_place[p].name, cell,
		    (struct versus){v[SYS_SA] / v[SYS_UV], "<= 2.00", v[SYS_SA] <= 2.0 * v[SYS_UV]},
		    (struct versus){v[SYS_SA] / v[SYS_UT], "-", -1});
		for (int k = 0; k < NSYS; k++) {
			v[k] = NAN;
			snprintf(cell[k], sizeof cell[k], "n/a");
			if (g_futex_why[0] == '\0') {
				v[k] = median(&g_res.futex[p][k]);
				snprintf(cell[k], sizeof cell[k], "%.3f", v[k]);
			}
		}
		row("futex calls per call, the throughput runs", g_place[p].name, cell,
		    (struct versus){v[SYS_SA] / v[SYS_UV], "-", -1},
		    (struct versus){v[SYS_SA] / v[SYS_UT], "-", -1});
	}
	static const char *const qn[3] = {"p50", "p99", "p99.9"};
	for (unsigned p = 0; p < g_nplace; p++)
		for (unsigned d = 0; d < NDEPTHS; d++)
			for (int q = 0; q < 3; q++) {
				for (int k = 0; k < NSYS; k++) {
					v[k] = median(&g_res.lat[p][d][q][k]);
					snprintf(cell[k], sizeof cell[k], "%.1f us", v[k]);
				}
				/* p99: against libuv at 1 and 16 in flight, against libuv+table at 256. */
				int near = q == 1 && depths[d] <= 16, deep = q == 1 && depths[d] == 256;
				snprintf(f, sizeof f, "latency %s, %u in flight", qn[q], depths[d]);
				row(f, g_place[p].name, cell,
				    (struct versus){v[SYS_SA] / v[SYS_UV], near ? "<= 1.10" : "-",
						    near ? v[SYS_SA] <= 1.10 * v[SYS_UV] : -1},
				    (struct versus){v[SYS_SA] / v[SYS_UT], deep ? "<= 1.50" : "-",
						    deep ? v[SYS_SA] <= 1.50 * v[SYS_UT] : -1});
			}
	const struct memres *m = &g_res.mem;
	double uv_bytes = (double)sizeof(uv_work_t) + m->uv_heap_per_call;
	snprintf(cell[SYS_SA], sizeof cell[SYS_SA], "%.1f B", m->lib_per_call);
	snprintf(cell[SYS_UV], sizeof cell[SYS_UV], "%zu B (uv_work_t) + %.1f B", sizeof(uv_work_t),
		 m->uv_heap_per_call);
	snprintf(cell[SYS_UT], sizeof cell[SYS_UT], "%zu B (uv_work_t) + %zu B (link, context, "
		 "handle, callback)", sizeof(uv_work_t), UT_CALL_BYTES - sizeof(uv_work_t));
	row("library memory per pending call (4,096 queued)", "-", cell,
	    (struct versus){m->lib_per_call / uv_bytes, "<= 256 B", m->lib_per_call <= 256.0},
	    (struct versus){m->lib_per_call / (double)UT_CALL_BYTES, "-", -1});
	printf("\nmemory per pending call, in detail (sspiasync: allocation wrapper's live bytes, "
	       "requested sizes): async context, with its room for a call's job and up to 64 input "
	       "bytes inline, + its table slot (create, bind) %.1f B; allocated when the calls "
	       "were queued %.1f B (input past the room), input token %.0f B (inline); "
	       "%.2f blocks per call; C heap incl. wrapper headers and malloc overhead %.1f B. "
	       "libuv: sizeof(uv_work_t) = %zu B, the caller's; libuv's heap change per queued "
	       "item %.1f B. libuv+table: its call, %zu B, the caller's; per context (not per "
	       "call, as a security context is not) %zu B + a %zu B table slot.\n",
	       m->acall_per_call, m->job_per_call, m->in_tok, m->blocks_per_call, m->heap_per_call,
	       sizeof(uv_work_t), m->uv_heap_per_call, UT_CALL_BYTES, sizeof(struct ut_ctx),
	       sizeof(struct ut_slot));
	if (g_futex_why[0] != '\0')
		printf("futex calls per call: n/a (%s; run as root for them).\n", g_futex_why);
	printf("Instructions per call: bench/async_callgrind.sh.\n\n");

	printf("| handshakes (test package, 3 legs + both deletes), placement %s | handshakes/s | "
	       "us per handshake | time vs direct | overhead per handshake |\n", g_place[0].name);
	printf("|---|---|---|---|---|\n");
	double direct = median(&g_res.hs[HS_DIRECT]) / (double)g_cfg.hs_n;
	for (int w = 0; w < HS_N; w++) {
		double per = median(&g_res.hs[w]) / (double)g_cfg.hs_n;
		printf("| %s | %.0f | %.2f | %.2f | %s%.2f us |\n", hs_names[w], 1.0 / per, per * 1e6,
		       per / direct, w == HS_DIRECT ? "" : "+", (per - direct) * 1e6);
	}
}

int main(int argc, char **argv)
{
	/* Before libuv's pool starts (its first uv_queue_work). */
	if (setenv("UV_THREADPOOL_SIZE", "2", 1) != 0)
		die("setenv");
	if (argc == 4 && strcmp(argv[1], "--callgrind") == 0)
		return callgrind_main(argv[2], strtoul(argv[3], NULL, 10));
	const char *q = getenv("BENCH_QUICK");
	g_cfg.quick = q != NULL && strcmp(q, "1") == 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--verbose") == 0)
			g_cfg.verbose = 1;
		else if (strcmp(argv[i], "--quick") == 0)
			g_cfg.quick = 1;
		else {
			fprintf(stderr, "usage: %s [--quick] [--verbose] | --callgrind MODE N\n", argv[0]);
			return 2;
		}
	}
	if (g_cfg.quick) {
		g_cfg.rounds = 3;
		g_cfg.thr_calls = 100000;
		g_cfg.lat_samples[0] = 2000;
		g_cfg.lat_samples[1] = 4000;
		g_cfg.lat_samples[2] = 8000;
		g_cfg.hs_n = 2000;
	} else {
		g_cfg.rounds = 7;
		g_cfg.thr_calls = 1000000;
		g_cfg.lat_samples[0] = 10000;
		g_cfg.lat_samples[1] = 20000;
		g_cfg.lat_samples[2] = 40000;
		g_cfg.hs_n = 20000;
	}
	placements_init();
	place_all(&g_place[0]);
	uint64_t t0 = now_ns();
	header();
	fflush(stdout);
	measure_async();
	measure_handshakes();
	report();
	struct sa_alloc_stats st;
	sa__alloc_stats(&st);
	printf("\nrun time %.1f s; load at the end %.2f; library live bytes at exit %llu\n",
	       (double)(now_ns() - t0) / 1e9, bl_loadavg(), (unsigned long long)st.live_bytes);
	return 0;
}
