/*
 * src/async/cq.c - completion queues: the queues and their table, each
 * queue's eventfd kept at its level (Q2), and its list of records (push,
 * unlink, take).  Not here: binding a context (acall.c), reaping and
 * running callbacks (notify.c).  Calls nothing else in src/async/.
 * Invariants A6 and Q1-Q3 are in async_int.h; the engine lock guards
 * everything here.
 */
#include "async/async_int.h"

#include "util/alloc.h"
#include "util/lock.h"
#include "util/queue.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void cq_dtor(void *obj, void *arg)
{
	struct sa_cq *q = obj;
	(void)arg;
	close(q->fd);
	sa__free(q);
}

int sa__cq_table_create(struct sa_engine *e)
{
	/* Async contexts take slots [0, SA_ACALL_SLOTS) of the one-word space,
	 * queues the slots above: a queue's handle is never an async
	 * context's, whatever the generations (both tables are alive together). */
	struct sa_htable_config tc = {.kind = 0x51, .form = SA_HTABLE_ONE_WORD,
				      .max_entries = 1u << 16, .dtor = cq_dtor,
				      .slot_base = SA_ACALL_SLOTS};
	return sa_htable_create(&tc, &e->cqs);
}

int sa__cq_wants_fd_locked(const struct sa_cq *q)
{
	SA_ASSERT_HELD(&q->engine->lock);
	const struct sa_engine *e = q->engine;
	return !sa__queue_empty(&q->records) ||
	       (e->cfg.threads == 0 && (!sa__queue_empty(&e->ready) || !sa__queue_empty(&e->notify)));
}

void sa__cq_level_locked(struct sa_cq *q)
{
	SA_ASSERT_HELD(&q->engine->lock);
	int want = sa__cq_wants_fd_locked(q);
	if (want && !q->readable) {
		uint64_t one = 1;
		ssize_t n = write(q->fd, &one, sizeof one);
		(void)n; /* the counter is 0 or 1: cannot overflow, cannot block */
		q->readable = 1;
	} else if (!want && q->readable) {
		uint64_t v;
		ssize_t n = read(q->fd, &v, sizeof v);
		(void)n; /* EAGAIN only if the user read the fd (documented: don't) */
		q->readable = 0;
	}
}

void sa__cq_levels_locked(struct sa_engine *e)
{
	SA_ASSERT_HELD(&e->lock);
	if (e->cfg.threads != 0)
		return; /* pool mode: only records move a level */
	for (struct sa_queue *n = sa__queue_head(&e->cq_list); n != &e->cq_list; n = sa__queue_next(n))
		sa__cq_level_locked(SA_QUEUE_DATA(n, struct sa_cq, node));
}

void sa__cq_push_locked(struct sa_cq *q, struct sa_acall *a)
{
	SA_ASSERT_HELD(&q->engine->lock);
	sa__queue_insert_tail(&q->records, &a->notify_node);
	sa__cq_level_locked(q);
}

void sa__cq_unlink_locked(struct sa_cq *q, struct sa_acall *a)
{
	SA_ASSERT_HELD(&q->engine->lock);
	assert(sa__queue_linked(&a->notify_node) && a->cq == q);
	sa__queue_remove(&a->notify_node);
	sa__cq_level_locked(q);
}

int sa__cq_create(struct sa_engine *e, uintptr_t *out)
{
	struct sa_cq *q = sa__calloc(1, sizeof *q);
	if (q == NULL)
		return SA_ENOMEM;
	q->engine = e;
	sa__queue_init(&q->records);
	sa__queue_init(&q->node);
	q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->fd < 0) {
		int rc = errno == ENOMEM ? SA_ENOMEM : SA_ENOSPC;
		sa__free(q);
		return rc;
	}
	SA_LOCK(&e->lock);
	int rc = sa_htable_insert(e->cqs, q, &q->self);
	if (rc == SA_OK) {
		sa__queue_insert_head(&e->cq_list, &q->node); /* newest first */
		sa__cq_level_locked(q); /* no-thread mode: work may be queued already */
	}
	SA_UNLOCK(&e->lock);
	if (rc != SA_OK) {
		close(q->fd);
		sa__free(q);
		return rc;
	}
	*out = q->self.lower;
	return SA_OK;
}

struct sa_cq *sa__cq_acquire_locked(struct sa_engine *e, uintptr_t w)
{
	SA_ASSERT_HELD(&e->lock);
	struct sa_handle h = {w, 0};
	void *obj;
	return sa_htable_acquire(e->cqs, h, &obj) == SA_OK ? obj : NULL;
}

/* Take @q off the engine's list (nothing if it is off).  Context: engine
 * lock held. */
static void cq_unlist_locked(struct sa_engine *e, struct sa_cq *q)
{
	SA_ASSERT_HELD(&e->lock);
	sa__queue_remove(&q->node); /* queue.h, U3 */
}

int sa__cq_destroy(struct sa_engine *e, uintptr_t w)
{
	SA_LOCK(&e->lock);
	struct sa_cq *q = sa__cq_acquire_locked(e, w);
	int rc = SA_EBADHANDLE;
	if (q != NULL) {
		rc = SA_EBUSY;
		if (q->bound == 0) { /* Q3: no record either */
			cq_unlist_locked(e, q);
			int removed = sa_htable_remove(e->cqs, q->self);
			(void)removed; /* ours: we hold a reference */
			rc = SA_OK;
		}
		sa_htable_release(e->cqs, q->self); /* the last one frees it (a reap may hold one) */
	}
	SA_UNLOCK(&e->lock);
	return rc;
}

int sa__cq_fd(struct sa_engine *e, uintptr_t w)
{
	SA_LOCK(&e->lock);
	struct sa_cq *q = sa__cq_acquire_locked(e, w);
	int fd = -1;
	if (q != NULL) {
		fd = q->fd;
		sa_htable_release(e->cqs, q->self);
	}
	SA_UNLOCK(&e->lock);
	return fd;
}

struct sa_acall *sa__cq_take_locked(struct sa_cq *q)
{
	SA_ASSERT_HELD(&q->engine->lock);
	struct sa_acall *a = SA_QUEUE_DATA(sa__queue_head(&q->records), struct sa_acall, notify_node);
	sa__cq_unlink_locked(q, a); /* also brings the fd down when it empties (Q2) */
	return a;
}

void sa__cq_table_destroy(struct sa_engine *e)
{
	uint32_t cursor = 0;
	struct sa_handle h;
	while (sa_htable_next(e->cqs, &cursor, &h)) {
		int rc = sa_htable_remove(e->cqs, h);
		(void)rc;
	}
	sa__queue_init(&e->cq_list); /* the queues on it were freed */
	int rc = sa_htable_destroy(e->cqs);
	assert(rc == SA_OK);
	(void)rc;
}
