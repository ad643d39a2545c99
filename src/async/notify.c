/*
 * src/async/notify.c - delivering completions: the engine's notify list
 * (callbacks that wait for a worker or sspiasync_run) and a completion
 * queue's records (reaped, or flushed at shutdown), each callback run on
 * the delivering thread with no lock held (A4).  Not here: the queues
 * themselves and their fds (cq.c), deciding that a call is DONE (job.c).
 * Invariants A4-A7 and Q1: async_int.h.
 */
#include "async/async_int.h"

#include "util/lock.h"
#include "util/queue.h"

#include <stdint.h>

static _Thread_local int tl_in_callback;

int sa__engine_in_callback(void)
{
	return tl_in_callback;
}

/*
 * notify_call() - Run @a's callback @cb(@data) through cfg.notify on this
 * thread with no lock held, as delivery @seq (from
 * sa__acall_notifying_locked), sa__engine_in_callback() being 1 meanwhile
 * (nesting allowed); then clear notifying unless a later delivery started
 * meanwhile.  Never fails.
 * Context: any thread; no library lock held (it takes the engine lock
 * after); the caller's reference keeps @a alive; runs a user callback, so it
 * blocks as long as that does.
 */
static void notify_call(struct sa_engine *e, struct sa_acall *a, uint32_t seq, void (*cb)(void),
			void *data)
{
	struct sa_acall_delivery outer;
	sa__acall_delivery_enter(a, seq, &outer);
	tl_in_callback++;
	e->cfg.notify(a->self.lower, cb, data);
	tl_in_callback--;
	sa__acall_delivery_exit(&outer);
	SA_LOCK(&e->lock);
	if (a->notifying == seq)
		a->notifying = 0; /* alive: the caller's reference is released after this */
	SA_UNLOCK(&e->lock);
}

void sa__notify_push_locked(struct sa_engine *e, struct sa_acall *a, int signal)
{
	SA_ASSERT_HELD(&e->lock);
	sa__queue_insert_tail(&e->notify, &a->notify_node);
	atomic_store_explicit(&e->notify_any, 1, memory_order_relaxed);
	if (signal)
		sa__engine_signal_locked(e); /* pool: a worker runs it (never the sync caller) */
}

void sa__notify_deliver(struct sa_engine *e)
{
	if (!atomic_load_explicit(&e->notify_any, memory_order_relaxed))
		return;
	for (;;) {
		SA_LOCK(&e->lock);
		if (sa__queue_empty(&e->notify)) {
			SA_UNLOCK(&e->lock);
			return;
		}
		struct sa_queue *n = sa__queue_head(&e->notify);
		sa__queue_remove(n); /* unlinked: no longer queued (A5) */
		struct sa_acall *a = SA_QUEUE_DATA(n, struct sa_acall, notify_node);
		if (sa__queue_empty(&e->notify))
			atomic_store_explicit(&e->notify_any, 0, memory_order_relaxed);
		int abandoned = a->abandoned;
		void (*cb)(void) = a->done_cb;
		void *data = a->done_data;
		struct sa_handle ah = a->self;
		int call = !abandoned && cb != NULL;
		/* A5: other threads wait for the callback. */
		uint32_t seq = call ? sa__acall_notifying_locked(a) : 0;
		if (call)
			sa__acall_told_locked(a); /* A7: the callback tells */
		sa__cq_levels_locked(e);
		SA_UNLOCK(&e->lock);
		if (call)
			notify_call(e, a, seq, cb, data);
		sa_htable_release(e->acalls, ah);
	}
}

/* Take @q's oldest record, with its callback and data as they are now;
 * from here its callback counts as running (A5).  Context: engine lock
 * held; @q holds a record. */
static struct sa_acall *record_take_locked(struct sa_cq *q, void (**cb)(void), void **data,
					   uint32_t *seq)
{
	SA_ASSERT_HELD(&q->engine->lock);
	struct sa_acall *a = sa__cq_take_locked(q); /* also brings the fd down when it empties (Q2) */
	*cb = a->done_cb;
	*data = a->done_data;
	*seq = *cb != NULL ? sa__acall_notifying_locked(a) : 0;
	sa__acall_told_locked(a); /* A7: the record tells */
	return a;
}

/* Run a taken record's callback with no lock held, then drop the record's
 * reference, which kept @a alive through it, even one that frees @a (A2). */
static void record_deliver(struct sa_engine *e, struct sa_acall *a, uint32_t seq,
			   void (*cb)(void), void *data)
{
	if (cb != NULL)
		notify_call(e, a, seq, cb, data);
	sa_htable_release(e->acalls, a->self);
}

long sa__cq_reap(struct sa_engine *e, uintptr_t w, struct sa_cq_record *out, unsigned n)
{
	if (sa__engine_in_callback())
		return SA_EBUSY;
	SA_LOCK(&e->lock);
	struct sa_cq *q = sa__cq_acquire_locked(e, w);
	SA_UNLOCK(&e->lock);
	if (q == NULL)
		return SA_EBADHANDLE;
	long got = 0;
	/* In one hold, every record without a callback up to @n, and at most
	 * one with a callback, which ends the batch: its callback may free a
	 * context whose record is next, and a free unlinks a record only while
	 * it is on the queue (A6), so nothing is taken off ahead of a callback
	 * (verify/sspiasync.pml, REAP_NO_RECHECK).  A record without a callback
	 * drops its reference in the hold: its context is in the table (a free
	 * would have unlinked it), so that is never the last one. */
	for (;;) {
		void (*cb)(void) = NULL;
		void *data = NULL;
		uint32_t seq = 0;
		struct sa_acall *with_cb = NULL;
		SA_LOCK(&e->lock);
		while ((unsigned long)got < n && !sa__queue_empty(&q->records)) {
			struct sa_acall *a = record_take_locked(q, &cb, &data, &seq);
			out[got++] = (struct sa_cq_record){a->self.lower, data, a->status};
			if (cb != NULL) {
				with_cb = a;
				break;
			}
			sa_htable_release(e->acalls, a->self);
		}
		SA_UNLOCK(&e->lock);
		if (with_cb == NULL)
			break;
		record_deliver(e, with_cb, seq, cb, data);
	}
	sa_htable_release(e->cqs, q->self);
	return got;
}

void sa__cq_flush_all(struct sa_engine *e)
{
	for (;;) {
		void (*cb)(void);
		void *data;
		uint32_t seq;
		SA_LOCK(&e->lock);
		struct sa_acall *a = NULL;
		for (struct sa_queue *n = sa__queue_head(&e->cq_list); n != &e->cq_list;
		     n = sa__queue_next(n)) {
			struct sa_cq *q = SA_QUEUE_DATA(n, struct sa_cq, node);
			if (!sa__queue_empty(&q->records)) {
				a = record_take_locked(q, &cb, &data, &seq);
				break;
			}
		}
		SA_UNLOCK(&e->lock);
		if (a == NULL)
			return;
		record_deliver(e, a, seq, cb, data);
	}
}
