/*
 * src/async/acall.c - async-call contexts (SspiAsyncContext): create, free,
 * reinit, callback registration, status, binding to a completion queue, and
 * what a context's state says about it (busy, told, the delivery this
 * thread runs: A5, A7).  Each lives in the engine's one-word handle table;
 * invariants A1-A7 are in async_int.h.  Not here: running a call (job.c) or
 * delivering its completion (notify.c).
 */
#include "async/async_int.h"

#include "util/alloc.h"
#include "util/lock.h"
#include "util/queue.h"

/* Whose callback this thread runs, and which delivery of it (A5). */
static _Thread_local const struct sa_acall *tl_notifying;
static _Thread_local uint32_t tl_notifying_seq;

void sa__acall_delivery_enter(const struct sa_acall *a, uint32_t seq,
			      struct sa_acall_delivery *outer)
{
	outer->a = tl_notifying;
	outer->seq = tl_notifying_seq;
	tl_notifying = a;
	tl_notifying_seq = seq;
}

void sa__acall_delivery_exit(const struct sa_acall_delivery *outer)
{
	tl_notifying = outer->a;
	tl_notifying_seq = outer->seq;
}

int sa__acall_busy_locked(const struct sa_acall *a)
{
	SA_ASSERT_HELD(&a->engine->lock);
	return a->state == SA_ACALL_PENDING || sa__queue_linked(&a->notify_node) ||
	       (a->notifying != 0 && !(tl_notifying == a && tl_notifying_seq == a->notifying));
}

void sa__acall_told_locked(struct sa_acall *a)
{
	SA_ASSERT_HELD(&a->engine->lock);
	a->told = 1;
	a->made = (struct sa_handle){0, 0};
}

uint32_t sa__acall_notifying_locked(struct sa_acall *a)
{
	SA_ASSERT_HELD(&a->engine->lock);
	if (++a->notify_seq == 0)
		a->notify_seq = 1; /* 0 means none */
	a->notifying = a->notify_seq;
	return a->notify_seq;
}

int sa__acall_create(struct sa_engine *e, uintptr_t *out)
{
	struct sa_acall *a = sa__calloc(1, sizeof *a + e->cfg.job_room); /* the room (A8) */
	if (a == NULL)
		return SA_ENOMEM;
	a->state = SA_ACALL_IDLE;
	a->engine = e;
	sa__queue_init(&a->notify_node);
	SA_LOCK(&e->lock);
	int rc = sa_htable_insert(e->acalls, a, &a->self);
	SA_UNLOCK(&e->lock);
	if (rc != SA_OK) {
		sa__free(a);
		return rc;
	}
	*out = a->self.lower;
	return SA_OK;
}

/* Acquire @w under e->lock: the context, or NULL for a freed or forged handle. */
static struct sa_acall *acall_get_locked(struct sa_engine *e, uintptr_t w)
{
	SA_ASSERT_HELD(&e->lock);
	struct sa_handle h = {w, 0};
	void *obj;
	return sa_htable_acquire(e->acalls, h, &obj) == SA_OK ? obj : NULL;
}

static void acall_put_locked(struct sa_engine *e, struct sa_acall *a)
{
	SA_ASSERT_HELD(&e->lock);
	sa_htable_release(e->acalls, a->self);
}

int sa__acall_free(struct sa_engine *e, uintptr_t w)
{
	SA_LOCK(&e->lock);
	struct sa_acall *a = acall_get_locked(e, w);
	int rc = a != NULL ? SA_OK : SA_EBADHANDLE;
	struct sa_handle made = {0, 0};
	void (*undo)(void *owner, struct sa_handle made) = NULL;
	void *owner = NULL;
	if (a != NULL && a->state == SA_ACALL_DONE && !a->told && a->made.lower != 0) {
		/* A7: DONE, but the caller never learnt of it: what the call
		 * made goes, after the lock is dropped. */
		made = a->made;
		undo = a->undo;
		owner = a->undo_owner;
		a->made = (struct sa_handle){0, 0};
	}
	if (a != NULL) {
		/* A pending or undelivered call is abandoned (A3); the job's
		 * reference keeps the memory until the call ends (A2). */
		a->abandoned = 1;
		if (a->cq != NULL) {
			struct sa_cq *q = a->cq;
			if (sa__queue_linked(&a->notify_node)) {
				/* A6: its record goes now, with the record's reference. */
				sa__cq_unlink_locked(q, a);
				acall_put_locked(e, a);
			}
			q->bound--;
			a->cq = NULL;
		}
		int removed = sa_htable_remove(e->acalls, a->self);
		(void)removed; /* ours to remove: we hold a reference */
		acall_put_locked(e, a);
	}
	SA_UNLOCK(&e->lock);
	if (undo != NULL)
		undo(owner, made);
	return rc;
}

int sa__acall_reinit(struct sa_engine *e, uintptr_t w)
{
	int rc = SA_EBADHANDLE;
	SA_LOCK(&e->lock);
	struct sa_acall *a = acall_get_locked(e, w);
	if (a != NULL) {
		if (sa__acall_busy_locked(a)) {
			rc = SA_EBUSY;
		} else {
			sa__acall_told_locked(a); /* A7: moving on is knowing */
			a->state = SA_ACALL_IDLE;
			rc = SA_OK;
		}
		acall_put_locked(e, a);
	}
	SA_UNLOCK(&e->lock);
	return rc;
}

int sa__acall_set_callback(struct sa_engine *e, uintptr_t w, void (*cb)(void), void *data)
{
	int rc = SA_EBADHANDLE;
	SA_LOCK(&e->lock);
	struct sa_acall *a = acall_get_locked(e, w);
	if (a != NULL) {
		if (a->state == SA_ACALL_PENDING && cb != NULL) {
			rc = SA_EBUSY;
		} else {
			a->cb = cb;
			a->cb_data = cb != NULL ? data : NULL;
			if (cb == NULL) {
				/* Also a completion whose callback waits: its
				 * record says NULL too (sspiasync.h). */
				a->done_cb = NULL;
				a->done_data = NULL;
			}
			rc = SA_OK;
		}
		acall_put_locked(e, a);
	}
	SA_UNLOCK(&e->lock);
	return rc;
}

int sa__acall_requires_notify(struct sa_engine *e, uintptr_t w)
{
	int yes = SA_EBADHANDLE;
	SA_LOCK(&e->lock);
	struct sa_acall *a = acall_get_locked(e, w);
	if (a != NULL) {
		yes = a->cb != NULL;
		acall_put_locked(e, a);
	}
	SA_UNLOCK(&e->lock);
	return yes;
}

int sa__acall_status(struct sa_engine *e, uintptr_t w, int32_t *status)
{
	int rc = SA_EBADHANDLE;
	SA_LOCK(&e->lock);
	struct sa_acall *a = acall_get_locked(e, w);
	if (a != NULL) {
		rc = SA_OK;
		if (a->state == SA_ACALL_IDLE) {
			rc = SA_EINVAL;
		} else if (a->state == SA_ACALL_PENDING) {
			*status = e->cfg.pending_status;
		} else {
			*status = a->status;
			sa__acall_told_locked(a); /* A7: the status tells */
		}
		acall_put_locked(e, a);
	}
	SA_UNLOCK(&e->lock);
	return rc;
}

int sa__acall_bind(struct sa_engine *e, uintptr_t w, uintptr_t qw)
{
	struct sa_handle ah = {w, 0};
	void *obj;
	SA_LOCK(&e->lock);
	int rc = sa_htable_acquire(e->acalls, ah, &obj);
	if (rc == SA_OK) {
		struct sa_acall *a = obj;
		struct sa_cq *q = qw != 0 ? sa__cq_acquire_locked(e, qw) : NULL;
		if (qw != 0 && q == NULL) {
			rc = SA_EBADHANDLE;
		} else if (a->state == SA_ACALL_PENDING || sa__acall_busy_locked(a)) {
			rc = SA_EBUSY;
		} else {
			if (a->cq != NULL)
				a->cq->bound--;
			a->cq = q;
			if (q != NULL)
				q->bound++;
		}
		if (q != NULL)
			sa_htable_release(e->cqs, q->self);
		sa_htable_release(e->acalls, a->self);
	}
	SA_UNLOCK(&e->lock);
	return rc;
}
