/*
 * bench/baseline.h - the two baselines bench/handles compares the handle
 * table against.  Not part of the library; compiled into the benchmark only.
 *
 * They live in their own translation unit (bench/baseline.c) so that every
 * operation is a real out-of-line call, as the library's are.
 *
 *   (a) struct bl_ptr: a pointer with an atomic reference count and no
 *       validation at all: the floor any reference-counted design pays.
 *   (b) struct bl_mtx: an array of {generation, pointer, refcount} behind one
 *       default pthread mutex: what a team writes first.
 */
#ifndef SSPIASYNC_BENCH_BASELINE_H
#define SSPIASYNC_BENCH_BASELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* (a) An object header: a count and the object; a handle is the pointer itself. */
struct bl_ptr {
	_Atomic uint64_t refs;
	void *obj;
};

/* bl_ptr_init() - refs = 1 (the creator's reference). */
void bl_ptr_init(struct bl_ptr *p, void *obj);

/* bl_ptr_acquire() - Take a reference (relaxed fetch_add) and return the object. */
void *bl_ptr_acquire(struct bl_ptr *p);

/* bl_ptr_release() - Drop a reference (acq_rel fetch_sub); true if it was the last. */
bool bl_ptr_release(struct bl_ptr *p);

/* (b) The mutex table; a handle is (index, generation). */
struct bl_mtx;

/* One entry, as a first version would lay it out (24 bytes on LP64). */
struct bl_mtx_entry {
	uint32_t generation; /* bumped by insert and by remove */
	void *ptr;           /* NULL: free */
	uint32_t refcount;   /* references taken by acquire */
};

/* bl_mtx_create() - A table of @n entries, all free; NULL if out of memory. */
struct bl_mtx *bl_mtx_create(uint32_t n);

/* bl_mtx_destroy() - Free the table (whatever it holds). NULL is a no-op. */
void bl_mtx_destroy(struct bl_mtx *m);

/* bl_mtx_insert() - Store @obj in the first free entry (linear scan), bump its
 * generation; set *idx, *gen.  0, or -1 when the table is full. */
int bl_mtx_insert(struct bl_mtx *m, void *obj, uint32_t *idx, uint32_t *gen);

/* bl_mtx_remove() - Invalidate (idx, gen): bump the generation; the entry is
 * freed here if unreferenced, else by the last release.  0, or -1 if stale. */
int bl_mtx_remove(struct bl_mtx *m, uint32_t idx, uint32_t gen);

/* bl_mtx_acquire() - The object behind (idx, gen) with a reference taken, or
 * NULL (out of range, stale or free). */
void *bl_mtx_acquire(struct bl_mtx *m, uint32_t idx, uint32_t gen);

/* bl_mtx_release() - Drop a reference taken by bl_mtx_acquire(idx, gen). */
void bl_mtx_release(struct bl_mtx *m, uint32_t idx, uint32_t gen);

/* The machine, for the benches' headers: the CPU model from /proc/cpuinfo
 * into @model ("unknown CPU" if unread), and the 1-minute load average
 * (-1 if unread). */
void bl_cpu_model(char *model, size_t n);
double bl_loadavg(void);

#endif /* SSPIASYNC_BENCH_BASELINE_H */
