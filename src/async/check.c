/*
 * src/async/check.c - the engine's self-check, sa__engine_check(): what
 * invariants A1-A7, E1-E6 and Q1-Q3 (async_int.h) say about the state the
 * engine lock guards, verified under that lock; and sa__engine_test_corrupt(),
 * which breaks one of them on purpose so a test can show the check notices.
 * Reads only (the corruption hook aside); for tests and asserts, never on a
 * hot path.  Not a place for behaviour: nothing here is called by the engine.
 */
#include "async/async_int.h"

#include "util/lock.h"
#include "util/queue.h"

/* Walk the list @h: each node's neighbours point back at it and at most @max
 * nodes are on it (so a ring that does not come back to its head, or a
 * count gone wrong, ends the walk).  Returns 1 and sets *@n if sound. */
static int list_sound(const struct sa_queue *h, uint32_t max, uint32_t *n)
{
	uint32_t k = 0;
	for (const struct sa_queue *q = sa__queue_head(h); q != h; q = sa__queue_next(q)) {
		if (q->next == NULL || q->prev == NULL || q->next->prev != q || q->prev->next != q ||
		    ++k > max)
			return 0;
	}
	*n = k;
	return 1;
}

/* Is @q on @e's list of completion queues?  Context: e->lock held. */
static int cq_listed_locked(struct sa_engine *e, const struct sa_cq *q)
{
	SA_ASSERT_HELD(&e->lock);
	for (struct sa_queue *n = sa__queue_head(&e->cq_list); n != &e->cq_list; n = sa__queue_next(n))
		if (SA_QUEUE_DATA(n, struct sa_cq, node) == q)
			return 1;
	return 0;
}

/* Fail the check: jump to the one exit with the lock dropped. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			goto out_corrupt;                                                          \
	} while (0)

int sa__engine_check(struct sa_engine *e)
{
	uint32_t queued = 0, queued_counted = 0, n;
	SA_LOCK(&e->lock);
	/* Bounds for the walks, read under the lock (inserts happen under it):
	 * each context on a list holds a reference, so it is counted live. */
	uint32_t max_acalls = sa_htable_live_count(e->acalls);
	uint32_t max_cqs = sa_htable_live_count(e->cqs);

	/* Workers (E6): idle and searching ones are among those started, and
	 * only idle ones were signalled. */
	CHECK(e->nworkers <= e->cfg.threads && e->idle <= e->nworkers);
	CHECK(e->searching <= e->nworkers && e->signalled <= e->idle);

	/* E1, E3: counts that cannot be recomputed (a running job is on no
	 * list; a reserved or abandoned call has no reachable job) bound each
	 * other. */
	CHECK(e->running <= e->calls && e->pending <= e->calls);

	/* E4: the ready list holds queues with a queued job, each once (a list
	 * node is on one list); E1: each queued job is PENDING on its queue. */
	CHECK(list_sound(&e->ready, e->calls, &n));
	for (struct sa_queue *r = sa__queue_head(&e->ready); r != &e->ready; r = sa__queue_next(r)) {
		struct sa_serial *q = SA_QUEUE_DATA(r, struct sa_serial, ready_node);
		CHECK(!sa__queue_empty(&q->jobs)); /* E4 (a drain may leave it running) */
		CHECK(list_sound(&q->jobs, e->calls, &n));
		for (struct sa_queue *j = sa__queue_head(&q->jobs); j != &q->jobs; j = sa__queue_next(j)) {
			struct sa_job *job = SA_QUEUE_DATA(j, struct sa_job, node);
			CHECK(job->acall != NULL && job->acall->engine == e);
			CHECK((void *)job == (void *)job->acall->room); /* A8 */
			CHECK(job->acall->state == SA_ACALL_PENDING);
			CHECK(sa__job_queue(job) == q);
			queued++;
			queued_counted += !(job->ops->flags & SA_JOB_EXEMPT);
		}
	}
	CHECK(queued + e->running <= e->calls && queued_counted <= e->pending);

	/* A5: the notify list holds DONE calls that wait for their callback,
	 * bound to no queue; the callback is the one captured (or suppressed:
	 * both NULL); notify_any mirrors the list. */
	CHECK(list_sound(&e->notify, max_acalls, &n));
	CHECK(atomic_load_explicit(&e->notify_any, memory_order_relaxed) == (n != 0));
	for (struct sa_queue *x = sa__queue_head(&e->notify); x != &e->notify; x = sa__queue_next(x)) {
		struct sa_acall *a = SA_QUEUE_DATA(x, struct sa_acall, notify_node);
		CHECK(a->engine == e && a->state == SA_ACALL_DONE && a->cq == NULL);
		CHECK(a->done_cb != NULL || a->done_data == NULL);
	}

	/* Q1: each queue's records are DONE, live calls bound to it; Q2: its
	 * readable flag is its level; Q3: no more records than bound contexts. */
	uint32_t ncqs, bound_sum = 0;
	CHECK(list_sound(&e->cq_list, max_cqs, &ncqs));
	for (struct sa_queue *c = sa__queue_head(&e->cq_list); c != &e->cq_list; c = sa__queue_next(c)) {
		struct sa_cq *q = SA_QUEUE_DATA(c, struct sa_cq, node);
		CHECK(q->engine == e);
		CHECK(list_sound(&q->records, max_acalls, &n) && n <= q->bound);
		for (struct sa_queue *x = sa__queue_head(&q->records); x != &q->records;
		     x = sa__queue_next(x)) {
			struct sa_acall *a = SA_QUEUE_DATA(x, struct sa_acall, notify_node);
			CHECK(a->engine == e && a->cq == q && a->state == SA_ACALL_DONE && !a->abandoned);
		}
		CHECK(q->readable == sa__cq_wants_fd_locked(q)); /* Q2 */
		bound_sum += q->bound;
	}

	/* Every live async context (A1, A5-A7): a known state; linked only when
	 * DONE; what it made kept only while DONE and not told; bound to a
	 * listed queue.  PENDING ones are counted calls (abandoned ones, no
	 * longer in the table, may be counted too).  Q3: the bindings add up. */
	uint32_t cursor = 0, live_pending = 0, bound_seen = 0;
	int all_seen = 1;
	struct sa_handle h;
	while (sa_htable_next(e->acalls, &cursor, &h)) {
		void *obj;
		if (sa_htable_acquire(e->acalls, h, &obj) != SA_OK) {
			all_seen = 0; /* its count saturated (a test's doing): not inspected */
			continue;
		}
		struct sa_acall *a = obj;
		int ok = a->engine == e && !a->abandoned &&
			 (a->state == SA_ACALL_IDLE || a->state == SA_ACALL_PENDING ||
			  a->state == SA_ACALL_DONE) &&
			 (!sa__queue_linked(&a->notify_node) || a->state == SA_ACALL_DONE) &&
			 (a->made.lower == 0 ||
			  (a->state == SA_ACALL_DONE && !a->told && a->undo != NULL)) &&
			 (a->cq == NULL || cq_listed_locked(e, a->cq));
		live_pending += a->state == SA_ACALL_PENDING;
		bound_seen += a->cq != NULL;
		sa_htable_release(e->acalls, h); /* the table's own reference stays */
		CHECK(ok);
	}
	CHECK(live_pending <= e->calls);
	CHECK(!all_seen || bound_seen == bound_sum);

	SA_UNLOCK(&e->lock);
	return SA_OK;
out_corrupt:
	SA_UNLOCK(&e->lock);
	return SA_EINVAL;
}

#undef CHECK

void sa__engine_test_corrupt(struct sa_engine *e, int how, int undo)
{
	int d = undo ? -1 : 1;
	SA_LOCK(&e->lock);
	switch (how) {
	case SA_ENGINE_CORRUPT_PENDING:
		e->pending += (uint32_t)d * (e->calls + 1); /* past calls (E3) */
		break;
	case SA_ENGINE_CORRUPT_RUNNING:
		e->running += (uint32_t)d * (e->calls + 1); /* past calls (E1) */
		break;
	case SA_ENGINE_CORRUPT_IDLE:
		e->idle += (uint32_t)d * (e->nworkers + 1); /* more idle than started (E6) */
		break;
	case SA_ENGINE_CORRUPT_NOTIFY_ANY: {
		uint8_t v = atomic_load_explicit(&e->notify_any, memory_order_relaxed);
		atomic_store_explicit(&e->notify_any, !v, memory_order_relaxed);
		break;
	}
	case SA_ENGINE_CORRUPT_READABLE:
		if (!sa__queue_empty(&e->cq_list)) { /* the newest queue's level (Q2) */
			struct sa_cq *q = SA_QUEUE_DATA(sa__queue_head(&e->cq_list), struct sa_cq, node);
			q->readable = !q->readable;
		}
		break;
	default:
		break;
	}
	SA_UNLOCK(&e->lock);
}
