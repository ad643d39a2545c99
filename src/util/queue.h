/*
 * src/util/queue.h - the one intrusive list of the library: a circular doubly
 * linked list in libuv's shape (its src/queue.h), as static inline functions
 * (private; not installed).  It allocates nothing and every operation is
 * O(1); the lock that guards a list is its owner's (each field says which).
 *
 * A struct sa_queue is either the head of a list or a node embedded in an
 * element; SA_QUEUE_DATA() goes from a node back to its element.  The head
 * is itself a node of the ring, so no operation tests for NULL.
 *
 * U1 A head is initialized (sa__queue_init) before any other use, a node
 *    before it is tested or removed (an insert sets both its pointers): a
 *    zeroed struct sa_queue is neither empty nor linked (its pointers are
 *    NULL).  [test_queue_init_makes_an_empty_list]
 * U2 A list is empty iff its head points to itself; walking next from the
 *    head visits every element once and comes back to the head: in
 *    insertion order after insert_tail (a FIFO), newest first after
 *    insert_head.  [test_queue_insert_tail_keeps_fifo_order,
 *    test_queue_insert_head_puts_newest_first]
 * U3 Unlike libuv's, sa__queue_remove() leaves the node self-linked (its
 *    neighbours keep their order), so an initialized node on no list is
 *    self-linked: "is it linked" is sa__queue_linked(node), which is
 *    !sa__queue_empty(node), and an owner needs no flag of its own that only
 *    mirrors linkage.  Removing a node that is not linked changes nothing.
 *    [test_queue_remove_from_the_middle,
 *     test_queue_remove_leaves_the_node_unlinked,
 *     test_queue_remove_of_an_unlinked_node_changes_nothing]
 * U4 A node is on at most one list at a time (insert only an unlinked node),
 *    and neither a head nor a linked node is moved or copied: its
 *    neighbours point at its address.  (The caller's contract: unchecked.)
 */
#ifndef SSPIASYNC_UTIL_QUEUE_H
#define SSPIASYNC_UTIL_QUEUE_H

#include <stddef.h>

struct sa_queue {
	struct sa_queue *next, *prev;
};

/* The struct of type @type whose member @field is the node @ptr. */
#define SA_QUEUE_DATA(ptr, type, field) ((type *)(void *)((char *)(ptr) - offsetof(type, field)))

/* Make @q an empty list, or an unlinked node (U1). */
static inline void sa__queue_init(struct sa_queue *q)
{
	q->next = q;
	q->prev = q;
}

/* On a head: the list has no element.  On a node: it is on no list (U3). */
static inline int sa__queue_empty(const struct sa_queue *q)
{
	return q->next == q;
}

/* On a node: it is on a list (U3). */
static inline int sa__queue_linked(const struct sa_queue *q)
{
	return q->next != q;
}

/* The first node of the list @h, or @h itself when it is empty. */
static inline struct sa_queue *sa__queue_head(const struct sa_queue *h)
{
	return h->next;
}

/* The node after @q; the list's head after its last element. */
static inline struct sa_queue *sa__queue_next(const struct sa_queue *q)
{
	return q->next;
}

/* Append the unlinked node @q to the list @h (U4). */
static inline void sa__queue_insert_tail(struct sa_queue *h, struct sa_queue *q)
{
	struct sa_queue *last = h->prev;
	q->next = h;
	q->prev = last;
	last->next = q;
	h->prev = q;
}

/* Prepend the unlinked node @q to the list @h (U4). */
static inline void sa__queue_insert_head(struct sa_queue *h, struct sa_queue *q)
{
	struct sa_queue *first = h->next;
	q->next = first;
	q->prev = h;
	first->prev = q;
	h->next = q;
}

/* Take @q off its list and leave it self-linked (U3); no-op if unlinked. */
static inline void sa__queue_remove(struct sa_queue *q)
{
	struct sa_queue *next = q->next, *prev = q->prev; /* loaded once: the stores may alias */
	prev->next = next;
	next->prev = prev;
	q->next = q;
	q->prev = q;
}

#endif /* SSPIASYNC_UTIL_QUEUE_H */
