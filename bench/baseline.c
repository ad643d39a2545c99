/*
 * bench/baseline.c - the baselines of bench/handles (see baseline.h).
 *
 * Written plainly, the way a first version would be: (a) is two atomic
 * read-modify-writes, (b) takes one default mutex around every operation.
 * Neither validates more than it needs to; neither is tuned.
 */
#include "baseline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- (a) atomic reference count, no validation ---------------------------- */

void bl_ptr_init(struct bl_ptr *p, void *obj)
{
	atomic_init(&p->refs, 1);
	p->obj = obj;
}

void *bl_ptr_acquire(struct bl_ptr *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p->obj;
}

bool bl_ptr_release(struct bl_ptr *p)
{
	return atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1;
}

/* --- (b) {generation, pointer, refcount}[] behind one mutex ---------------- */

struct bl_mtx {
	pthread_mutex_t lock;       /* guards everything below */
	uint32_t n;
	struct bl_mtx_entry *e;
};

struct bl_mtx *bl_mtx_create(uint32_t n)
{
	struct bl_mtx *m = malloc(sizeof *m);
	if (m == NULL)
		return NULL;
	m->e = calloc(n, sizeof *m->e);
	if (m->e == NULL || pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m->e);
		free(m);
		return NULL;
	}
	m->n = n;
	return m;
}

void bl_mtx_destroy(struct bl_mtx *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->e);
	free(m);
}

int bl_mtx_insert(struct bl_mtx *m, void *obj, uint32_t *idx, uint32_t *gen)
{
	int rc = -1;
	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < m->n; i++) {
		struct bl_mtx_entry *e = &m->e[i];
		if (e->ptr == NULL) {
			e->generation++;
			e->ptr = obj;
			e->refcount = 0;
			*idx = i;
			*gen = e->generation;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int bl_mtx_remove(struct bl_mtx *m, uint32_t idx, uint32_t gen)
{
	int rc = -1;
	pthread_mutex_lock(&m->lock);
	if (idx < m->n && m->e[idx].generation == gen && m->e[idx].ptr != NULL) {
		struct bl_mtx_entry *e = &m->e[idx];
		e->generation++;
		if (e->refcount == 0)
			e->ptr = NULL; /* a destructor would run here */
		rc = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

void *bl_mtx_acquire(struct bl_mtx *m, uint32_t idx, uint32_t gen)
{
	void *p = NULL;
	pthread_mutex_lock(&m->lock);
	if (idx < m->n && m->e[idx].generation == gen && m->e[idx].ptr != NULL) {
		m->e[idx].refcount++;
		p = m->e[idx].ptr;
	}
	pthread_mutex_unlock(&m->lock);
	return p;
}

void bl_mtx_release(struct bl_mtx *m, uint32_t idx, uint32_t gen)
{
	pthread_mutex_lock(&m->lock);
	struct bl_mtx_entry *e = &m->e[idx];
	if (--e->refcount == 0 && e->generation != gen)
		e->ptr = NULL; /* removed while held: a destructor would run here */
	pthread_mutex_unlock(&m->lock);
}

void bl_cpu_model(char *model, size_t n)
{
	snprintf(model, n, "unknown CPU");
	FILE *fp = fopen("/proc/cpuinfo", "r");
	if (fp == NULL)
		return;
	char line[256];
	while (fgets(line, sizeof line, fp) != NULL) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			snprintf(model, n, "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	fclose(fp);
}

double bl_loadavg(void)
{
	double load = -1;
	FILE *fp = fopen("/proc/loadavg", "r");
	if (fp != NULL) {
		if (fscanf(fp, "%lf", &load) != 1)
			load = -1;
		fclose(fp);
	}
	return load;
}
