/*
 * bench/handles.c - the handle table (sspiasync/handles.h) against two
 * baselines measured in the same run, with the same flags, through
 * out-of-line calls (bench/baseline.c):
 *
 *   (a) a pointer with an atomic reference count and no validation,
 *   (b) an array of {generation, pointer, refcount} behind one default mutex.
 *
 * How it measures: a second, idle thread is started first (so the C library
 * takes its multi-threaded paths for everyone) and joined at the end; the
 * main thread is pinned to CPU 0, a second measuring thread to CPU 1.  Each
 * figure is the median of ROUNDS rounds of ~ROUND_MS ms each, the systems
 * interleaved round by round (ours, (a), (b), ours, ...), timed with
 * CLOCK_MONOTONIC.  Two-thread rounds start at a barrier and end when both
 * threads are done.
 *
 * How to read the output: a header (CPUs, model, 1-minute load average,
 * compiler; with a load near 1 on a 2-CPU machine another process holds a
 * CPU and the two-thread figures mean little), then a markdown table, one
 * line per figure.
 * "ratio" is sspiasync / baseline: time per operation for the time rows,
 * throughput for the rows marked "thr" (higher is better there).  "result"
 * is PASS or MISS against the goal of the issue; this is a benchmark, not a
 * test: it exits 0 whatever the figures, and non-zero only if an API call
 * fails unexpectedly.
 *
 * `handles --verbose` also prints every round of every system on stderr.
 * `handles --callgrind` runs each loop ITERS_CG times with no timing, for
 * bench/callgrind.sh, which reports instructions per operation.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */

#include <sspiasync/handles.h>

#include "baseline.h"
#include "handles/htable_int.h"
#include "util/alloc.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 9                /* rounds per system; the median is reported */
#define ROUND_MS 20             /* target length of one round */
#define ITERS_CG 100000         /* iterations per loop under callgrind */
#define GARBAGE_N 256           /* random handles cycled by the garbage loop (power of 2) */
#define SLOTS_N 65536           /* entries inserted for the bytes-per-slot figure */
#define BL_ENTRIES 1024         /* size of the baseline (b) tables */

/* The loops must stay separate functions, under their own names, for the
 * callgrind run: no inlining, no cloning. */
#if defined(__clang__)
#define LOOP __attribute__((noinline))
#else
#define LOOP __attribute__((noinline, noipa))
#endif

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "bench/handles: %s\n", what);
	exit(2);
}

static int g_object; /* what every table holds; never dereferenced */

/* --- the timed loops ------------------------------------------------------
 * One function per (system, operation), each a tight loop of direct calls;
 * the harness calls them through a pointer once per round.  A job says which
 * table and handle a loop works on. */

struct job {
	struct sa_htable *t;          /* ours */
	struct sa_handle h;           /* ours: the handle used */
	const struct sa_handle *many; /* ours: GARBAGE_N handles, cycled */
	struct bl_ptr *p;             /* (a) */
	struct bl_mtx *m;             /* (b) */
	uint32_t idx, gen;            /* (b): the handle used */
};

typedef void loop_fn(const struct job *j, uint64_t n);

LOOP static void cg_ours_pair(const struct job *j, uint64_t n)
{
	struct sa_htable *t = j->t;
	struct sa_handle h = j->h;
	for (uint64_t i = 0; i < n; i++) {
		void *obj;
		if (sa_htable_acquire(t, h, &obj) != SA_OK)
			die("sa_htable_acquire failed on a live handle");
		sa_htable_release(t, h);
	}
}

LOOP static void cg_ptr_pair(const struct job *j, uint64_t n)
{
	struct bl_ptr *p = j->p;
	for (uint64_t i = 0; i < n; i++) {
		if (bl_ptr_acquire(p) == NULL)
			die("bl_ptr_acquire returned NULL");
		if (bl_ptr_release(p))
			die("bl_ptr_release dropped the last reference");
	}
}

LOOP static void cg_mtx_pair(const struct job *j, uint64_t n)
{
	struct bl_mtx *m = j->m;
	uint32_t idx = j->idx, gen = j->gen;
	for (uint64_t i = 0; i < n; i++) {
		if (bl_mtx_acquire(m, idx, gen) == NULL)
			die("bl_mtx_acquire failed on a live handle");
		bl_mtx_release(m, idx, gen);
	}
}

/* One rejection: acquire must fail with SA_EBADHANDLE. */
static inline void expect_rejected(struct sa_htable *t, struct sa_handle h)
{
	void *obj;
	if (sa_htable_acquire(t, h, &obj) != SA_EBADHANDLE)
		die("sa_htable_acquire did not reject a bad handle");
}

LOOP static void cg_ours_reject_stale(const struct job *j, uint64_t n)
{
	struct sa_htable *t = j->t;
	struct sa_handle h = j->h;
	for (uint64_t i = 0; i < n; i++)
		expect_rejected(t, h);
}

LOOP static void cg_ours_reject_garbage(const struct job *j, uint64_t n)
{
	struct sa_htable *t = j->t;
	const struct sa_handle *many = j->many;
	for (uint64_t i = 0; i < n; i++)
		expect_rejected(t, many[i & (GARBAGE_N - 1)]);
}

LOOP static void cg_ours_reject_wrong_kind(const struct job *j, uint64_t n)
{
	struct sa_htable *t = j->t;
	struct sa_handle h = j->h;
	for (uint64_t i = 0; i < n; i++)
		expect_rejected(t, h);
}

LOOP static void cg_mtx_reject_stale(const struct job *j, uint64_t n)
{
	struct bl_mtx *m = j->m;
	uint32_t idx = j->idx, gen = j->gen;
	for (uint64_t i = 0; i < n; i++)
		if (bl_mtx_acquire(m, idx, gen) != NULL)
			die("bl_mtx_acquire accepted a stale handle");
}

LOOP static void cg_ours_insert_remove(const struct job *j, uint64_t n)
{
	struct sa_htable *t = j->t;
	for (uint64_t i = 0; i < n; i++) {
		struct sa_handle h;
		if (sa_htable_insert(t, &g_object, &h) != SA_OK)
			die("sa_htable_insert failed");
		if (sa_htable_remove(t, h) != SA_OK)
			die("sa_htable_remove failed");
	}
}

LOOP static void cg_mtx_insert_remove(const struct job *j, uint64_t n)
{
	struct bl_mtx *m = j->m;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t idx, gen;
		if (bl_mtx_insert(m, &g_object, &idx, &gen) != 0)
			die("bl_mtx_insert failed");
		if (bl_mtx_remove(m, idx, gen) != 0)
			die("bl_mtx_remove failed");
	}
}

/* --- the objects under test -------------------------------------------------
 * Separate tables per figure, so one figure's slots do not move another's. */

struct fixture {
	struct sa_htable *t_main;   /* fig 1, 2: one live entry, one removed */
	struct sa_htable *t_other;  /* fig 2: another kind, the source of wrong-kind handles */
	struct sa_htable *t_mt;     /* fig 3, 4: two entries inserted one after the other */
	struct sa_htable *t_ir;     /* fig 5: empty, warm */
	struct sa_handle h_live, h_stale, h_other, h_mt[2];
	struct sa_handle garbage[GARBAGE_N];
	struct bl_ptr ptr;          /* (a) */
	struct bl_mtx *m_main, *m_mt, *m_ir;
	uint32_t m_idx, m_gen, m_stale_idx, m_stale_gen, m_mt_idx, m_mt_gen;

	/* The jobs the loops run, one per (figure, system[, thread]). */
	struct job ours_live, ptr_live, mtx_live;
	struct job ours_stale, ours_garbage, ours_wrong_kind, mtx_stale;
	struct job ours_mt[2], mtx_mt;
	struct job ours_ir, mtx_ir;
};

static struct sa_htable *table_new(uint8_t kind)
{
	struct sa_htable_config cfg = {
		.kind = kind, .form = SA_HTABLE_TWO_WORD, .max_entries = 0, .dtor = NULL, .dtor_arg = NULL,
	};
	struct sa_htable *t;
	if (sa_htable_create(&cfg, &t) != SA_OK)
		die("sa_htable_create failed");
	return t;
}

static struct sa_handle table_add(struct sa_htable *t)
{
	struct sa_handle h;
	if (sa_htable_insert(t, &g_object, &h) != SA_OK)
		die("sa_htable_insert failed");
	return h;
}

static void table_del(struct sa_htable *t, struct sa_handle h)
{
	if (sa_htable_remove(t, h) != SA_OK)
		die("sa_htable_remove failed");
}

static struct bl_mtx *mtx_new(void)
{
	struct bl_mtx *m = bl_mtx_create(BL_ENTRIES);
	if (m == NULL)
		die("bl_mtx_create failed");
	return m;
}

static void mtx_add(struct bl_mtx *m, uint32_t *idx, uint32_t *gen)
{
	if (bl_mtx_insert(m, &g_object, idx, gen) != 0)
		die("bl_mtx_insert failed");
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof *f);
	f->t_main = table_new(1);
	f->t_other = table_new(2);
	f->t_mt = table_new(3);
	f->t_ir = table_new(4);

	f->h_stale = table_add(f->t_main);
	f->h_live = table_add(f->t_main);
	table_del(f->t_main, f->h_stale);
	f->h_other = table_add(f->t_other);
	f->h_mt[0] = table_add(f->t_mt);
	f->h_mt[1] = table_add(f->t_mt); /* the next slot: adjacent */
	table_del(f->t_ir, table_add(f->t_ir)); /* warm: the first chunk exists */

	uint64_t s = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15u | 1;
	for (unsigned i = 0; i < GARBAGE_N; i++) {
		f->garbage[i].lower = (uintptr_t)xorshift64(&s);
		f->garbage[i].upper = (uintptr_t)xorshift64(&s);
	}

	bl_ptr_init(&f->ptr, &g_object);

	f->m_main = mtx_new();
	f->m_mt = mtx_new();
	f->m_ir = mtx_new();
	mtx_add(f->m_main, &f->m_stale_idx, &f->m_stale_gen);
	mtx_add(f->m_main, &f->m_idx, &f->m_gen);
	if (bl_mtx_remove(f->m_main, f->m_stale_idx, f->m_stale_gen) != 0)
		die("bl_mtx_remove failed");
	mtx_add(f->m_mt, &f->m_mt_idx, &f->m_mt_gen);

	f->ours_live = (struct job){.t = f->t_main, .h = f->h_live};
	f->ptr_live = (struct job){.p = &f->ptr};
	f->mtx_live = (struct job){.m = f->m_main, .idx = f->m_idx, .gen = f->m_gen};
	f->ours_stale = (struct job){.t = f->t_main, .h = f->h_stale};
	f->ours_garbage = (struct job){.t = f->t_main, .many = f->garbage};
	f->ours_wrong_kind = (struct job){.t = f->t_main, .h = f->h_other};
	f->mtx_stale = (struct job){.m = f->m_main, .idx = f->m_stale_idx, .gen = f->m_stale_gen};
	f->ours_mt[0] = (struct job){.t = f->t_mt, .h = f->h_mt[0]};
	f->ours_mt[1] = (struct job){.t = f->t_mt, .h = f->h_mt[1]};
	f->mtx_mt = (struct job){.m = f->m_mt, .idx = f->m_mt_idx, .gen = f->m_mt_gen};
	f->ours_ir = (struct job){.t = f->t_ir};
	f->mtx_ir = (struct job){.m = f->m_ir};
}

static void fixture_fini(struct fixture *f)
{
	table_del(f->t_main, f->h_live);
	table_del(f->t_other, f->h_other);
	table_del(f->t_mt, f->h_mt[0]);
	table_del(f->t_mt, f->h_mt[1]);
	struct sa_htable *tables[] = {f->t_main, f->t_other, f->t_mt, f->t_ir};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		if (sa_htable_destroy(tables[i]) != SA_OK)
			die("sa_htable_destroy failed");
	bl_mtx_destroy(f->m_main);
	bl_mtx_destroy(f->m_mt);
	bl_mtx_destroy(f->m_ir);
}

/* --- threads: the idle one, pinning, two-thread rounds ------------------- */

static pthread_mutex_t g_idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_idle_cond = PTHREAD_COND_INITIALIZER;
static bool g_idle_stop;

static void *idle_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_idle_lock);
	while (!g_idle_stop)
		pthread_cond_wait(&g_idle_cond, &g_idle_lock);
	pthread_mutex_unlock(&g_idle_lock);
	return NULL;
}

static void idle_stop(pthread_t idle)
{
	pthread_mutex_lock(&g_idle_lock);
	g_idle_stop = true;
	pthread_cond_signal(&g_idle_cond);
	pthread_mutex_unlock(&g_idle_lock);
	if (pthread_join(idle, NULL) != 0)
		die("pthread_join failed");
}

static cpu_set_t g_cpus_all;   /* the affinity the process started with */
static atomic_int g_pin_failed; /* set by any thread whose pinning failed */
static bool g_verbose;          /* --verbose: every round's figure on stderr */

static void pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
		atomic_store(&g_pin_failed, 1);
		/* unpinned rather than stuck on the other thread's CPU */
		(void)pthread_setaffinity_np(pthread_self(), sizeof g_cpus_all, &g_cpus_all);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct worker {
	loop_fn *loop;
	const struct job *job;
	uint64_t n;
	pthread_barrier_t *start;
	uint64_t t0, t1;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pin_self(1);
	pthread_barrier_wait(w->start);
	w->t0 = now_ns();
	w->loop(w->job, w->n);
	w->t1 = now_ns();
	return NULL;
}

/* --- the harness ---------------------------------------------------------- */

struct system {
	const char *name;
	loop_fn *loop;
	const struct job *job[2]; /* job[1] == NULL: one thread */
	uint64_t n;               /* operations per thread per round (calibrated) */
	double ns[ROUNDS];        /* per round: wall ns per operation, all threads together */
	double median;
};

/* One round of @n operations per thread; returns the elapsed wall ns. */
static uint64_t run_round(const struct system *s, uint64_t n)
{
	if (s->job[1] == NULL) {
		uint64_t t0 = now_ns();
		s->loop(s->job[0], n);
		return now_ns() - t0;
	}
	pthread_barrier_t start;
	if (pthread_barrier_init(&start, NULL, 2) != 0)
		die("pthread_barrier_init failed");
	struct worker w = {.loop = s->loop, .job = s->job[1], .n = n, .start = &start};
	pthread_t th;
	if (pthread_create(&th, NULL, worker_main, &w) != 0)
		die("pthread_create failed");
	pthread_barrier_wait(&start);
	uint64_t t0 = now_ns();
	s->loop(s->job[0], n);
	uint64_t t1 = now_ns();
	if (pthread_join(th, NULL) != 0)
		die("pthread_join failed");
	pthread_barrier_destroy(&start);
	return (t1 > w.t1 ? t1 : w.t1) - (t0 < w.t0 ? t0 : w.t0);
}

static unsigned nthreads(const struct system *s)
{
	return s->job[1] == NULL ? 1 : 2;
}

/* n for a round of ~ROUND_MS, from a round of @n that took @dt ns. */
static uint64_t scale_n(uint64_t n, uint64_t dt)
{
	double want = (double)n * ROUND_MS * 1e6 / (double)(dt ? dt : 1);
	return want < 1024 ? 1024 : (uint64_t)want;
}

/* Grow n until a round takes >= 2 ms, then scale it to ROUND_MS, twice: the
 * first rounds may be slow (cold caches, a contended lock's first waits). */
static uint64_t calibrate(const struct system *s)
{
	uint64_t n = 1024, dt;
	while ((dt = run_round(s, n)) < 2000000u && n < (UINT64_C(1) << 32))
		n *= 4;
	for (int pass = 0; pass < 2; pass++) {
		n = scale_n(n, dt);
		dt = run_round(s, n);
	}
	return scale_n(n, dt);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const double *v, size_t k)
{
	double tmp[ROUNDS];
	memcpy(tmp, v, k * sizeof *v);
	qsort(tmp, k, sizeof *tmp, cmp_double);
	return k % 2 ? tmp[k / 2] : (tmp[k / 2 - 1] + tmp[k / 2]) / 2;
}

/* Measure @k systems: calibrate each, then ROUNDS rounds, interleaved. */
static void measure(struct system *sys, size_t k)
{
	for (size_t i = 0; i < k; i++)
		sys[i].n = calibrate(&sys[i]);
	for (unsigned r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < k; i++)
			sys[i].ns[r] = (double)run_round(&sys[i], sys[i].n) /
				       ((double)sys[i].n * nthreads(&sys[i]));
	for (size_t i = 0; i < k; i++) {
		sys[i].median = median(sys[i].ns, ROUNDS);
		if (g_verbose) {
			fprintf(stderr, "%s x%u, n %llu:", sys[i].name, nthreads(&sys[i]),
				(unsigned long long)sys[i].n);
			for (unsigned r = 0; r < ROUNDS; r++)
				fprintf(stderr, " %.1f", sys[i].ns[r]);
			fprintf(stderr, " -> %.1f ns\n", sys[i].median);
		}
	}
}

/* --- output ---------------------------------------------------------------- */

enum goal_kind { AT_MOST, AT_LEAST };

static unsigned g_rows, g_missed;

static void row(const char *figure, const char *ours, const char *base, double ratio,
		enum goal_kind gk, double goal)
{
	bool pass = gk == AT_MOST ? ratio <= goal : ratio >= goal;
	g_rows++;
	g_missed += !pass;
	printf("| %s | %s | %s | %.3f | %s %.2f | %s |\n", figure, ours, base, ratio,
	       gk == AT_MOST ? "<=" : ">=", goal, pass ? "PASS" : "MISS");
}

/* A time row: ns per operation, ratio ours / baseline. */
static void row_ns(const char *figure, double ours, const char *bname, double base, double goal)
{
	char a[32], b[48];
	snprintf(a, sizeof a, "%.1f ns", ours);
	snprintf(b, sizeof b, "%s %.1f ns", bname, base);
	row(figure, a, b, ours / base, AT_MOST, goal);
}

/* A throughput row: M operations per second, ratio ours / baseline. */
static void row_thr(const char *figure, const char *oname, double ours_ns, const char *bname,
		    double base_ns, double goal)
{
	char a[48], b[48];
	snprintf(a, sizeof a, "%s %.1f M/s", oname, 1e3 / ours_ns);
	snprintf(b, sizeof b, "%s %.1f M/s", bname, 1e3 / base_ns);
	row(figure, a, b, base_ns / ours_ns, AT_LEAST, goal);
}

static void print_header(void)
{
	char model[128];
	bl_cpu_model(model, sizeof model);
	double load = bl_loadavg();
	printf("bench/handles: %ld CPUs (%s), load %.2f, %s; median of %d rounds of ~%d ms, "
	       "interleaved\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN), model, load, __VERSION__, ROUNDS, ROUND_MS);
	printf("| figure | sspiasync | baseline | ratio | goal | result |\n");
	printf("|---|---|---|---|---|---|\n");
}

/* Fig 6: library bytes per entry for SLOTS_N entries in a fresh table. */
static void bytes_per_slot(void)
{
	struct sa_htable *t = table_new(5);
	struct sa_handle *h = malloc(SLOTS_N * sizeof *h);
	if (h == NULL)
		die("out of memory");
	struct sa_alloc_stats before, after;
	sa__alloc_stats(&before);
	for (unsigned i = 0; i < SLOTS_N; i++)
		h[i] = table_add(t);
	sa__alloc_stats(&after);
	uint32_t nslots = sa__htable_nslots(t);
	for (unsigned i = 0; i < SLOTS_N; i++)
		table_del(t, h[i]);
	if (sa_htable_destroy(t) != SA_OK)
		die("sa_htable_destroy failed");
	free(h);

	double bytes = (double)(after.live_bytes - before.live_bytes);
	/* The goal is per slot; chunks double, so per live entry it is up to
	 * twice that just past a chunk boundary, as 65536 entries are. */
	double per_slot = bytes / nslots;
	char a[96], b[48];
	snprintf(a, sizeof a, "%.3f B per slot (%u slots; %.1f B per entry at %u entries)", per_slot,
		 nslots, bytes / SLOTS_N, SLOTS_N);
	snprintf(b, sizeof b, "(b) %zu B", sizeof(struct bl_mtx_entry));
	printf("| 6. bytes per slot | %s | %s | - | <= 64 B | %s |\n", a, b,
	       per_slot <= 64 ? "PASS" : "MISS");
	g_rows++;
	g_missed += per_slot > 64;
}

static void run_timed(struct fixture *f)
{
	print_header();

	/* 1. acquire+release on a live handle, one thread. */
	struct system pair[] = {
		{.name = "ours_pair", .loop = cg_ours_pair, .job = {&f->ours_live}},
		{.name = "ptr_pair", .loop = cg_ptr_pair, .job = {&f->ptr_live}},
		{.name = "mtx_pair", .loop = cg_mtx_pair, .job = {&f->mtx_live}},
	};
	measure(pair, 3);
	row_ns("1. acquire+release vs (a)", pair[0].median, "(a)", pair[1].median, 1.5);
	row_ns("1. acquire+release vs (b)", pair[0].median, "(b)", pair[2].median, 0.7);

	/* 2. rejections against (b)'s stale lookup. */
	struct system rej[] = {
		{.name = "ours_reject_stale", .loop = cg_ours_reject_stale, .job = {&f->ours_stale}},
		{.name = "ours_reject_garbage", .loop = cg_ours_reject_garbage, .job = {&f->ours_garbage}},
		{.name = "ours_reject_wrong_kind", .loop = cg_ours_reject_wrong_kind, .job = {&f->ours_wrong_kind}},
		{.name = "mtx_reject_stale", .loop = cg_mtx_reject_stale, .job = {&f->mtx_stale}},
	};
	measure(rej, 4);
	row_ns("2. reject stale", rej[0].median, "(b) stale", rej[3].median, 0.25);
	row_ns("2. reject garbage", rej[1].median, "(b) stale", rej[3].median, 0.25);
	row_ns("2. reject wrong kind", rej[2].median, "(b) stale", rej[3].median, 0.25);

	/* 3. two threads on adjacent handles against one thread (thr). */
	struct system scale[] = {
		{.name = "ours_pair", .loop = cg_ours_pair, .job = {&f->ours_mt[0], &f->ours_mt[1]}},
		{.name = "ours_pair", .loop = cg_ours_pair, .job = {&f->ours_mt[0]}},
	};
	measure(scale, 2);
	row_thr("3. 2 threads, adjacent handles, thr vs 1 thread", "2 thr", scale[0].median,
		"1 thr", scale[1].median, 1.8);

	/* 4. two threads on one handle against (b) on one entry (thr). */
	struct system shared[] = {
		{.name = "ours_pair", .loop = cg_ours_pair, .job = {&f->ours_mt[0], &f->ours_mt[0]}},
		{.name = "mtx_pair", .loop = cg_mtx_pair, .job = {&f->mtx_mt, &f->mtx_mt}},
	};
	measure(shared, 2);
	row_thr("4. 2 threads, one handle, thr vs (b)", "2 thr", shared[0].median, "(b) 2 thr",
		shared[1].median, 1.3);

	/* 5. insert+remove, warm table. */
	struct system ir[] = {
		{.name = "ours_insert_remove", .loop = cg_ours_insert_remove, .job = {&f->ours_ir}},
		{.name = "mtx_insert_remove", .loop = cg_mtx_insert_remove, .job = {&f->mtx_ir}},
	};
	measure(ir, 2);
	row_ns("5. insert+remove", ir[0].median, "(b)", ir[1].median, 2.0);

	/* 6. memory. */
	bytes_per_slot();

	printf("\n%u of %u goals missed.  Rejections write no shared memory by construction "
	       "(handles.h, invariant I2).%s\n",
	       g_missed, g_rows,
	       atomic_load(&g_pin_failed) ? "\nNOTE: pinning threads to CPUs 0 and 1 failed; "
					    "two-thread figures ran unpinned." : "");
}

/* The callgrind mode: every loop, ITERS_CG times, no timing. */
static void run_callgrind(struct fixture *f)
{
	const struct {
		loop_fn *loop;
		const struct job *job;
	} cg[] = {
		{cg_ours_pair, &f->ours_live},
		{cg_ptr_pair, &f->ptr_live},
		{cg_mtx_pair, &f->mtx_live},
		{cg_ours_reject_stale, &f->ours_stale},
		{cg_ours_reject_garbage, &f->ours_garbage},
		{cg_ours_reject_wrong_kind, &f->ours_wrong_kind},
		{cg_mtx_reject_stale, &f->mtx_stale},
		{cg_ours_insert_remove, &f->ours_ir},
		{cg_mtx_insert_remove, &f->mtx_ir},
	};
	for (size_t i = 0; i < sizeof cg / sizeof cg[0]; i++)
		cg[i].loop(cg[i].job, ITERS_CG);
	printf("callgrind-iterations %d\n", ITERS_CG);
}

int main(int argc, char **argv)
{
	bool callgrind = argc == 2 && strcmp(argv[1], "--callgrind") == 0;
	g_verbose = argc == 2 && strcmp(argv[1], "--verbose") == 0;
	if (argc > 2 || (argc == 2 && !callgrind && !g_verbose)) {
		fprintf(stderr, "usage: %s [--callgrind | --verbose]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	pthread_t idle;
	if (pthread_create(&idle, NULL, idle_main, NULL) != 0)
		die("pthread_create failed");

	struct fixture *f = malloc(sizeof *f);
	if (f == NULL)
		die("out of memory");
	fixture_init(f);
	if (callgrind) {
		run_callgrind(f);
	} else {
		if (pthread_getaffinity_np(pthread_self(), sizeof g_cpus_all, &g_cpus_all) != 0)
			CPU_ZERO(&g_cpus_all);
		pin_self(0);
		run_timed(f);
	}
	fixture_fini(f);
	free(f);
	idle_stop(idle);
	return 0;
}
