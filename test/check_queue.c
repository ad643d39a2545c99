/*
 * test/check_queue.c - the intrusive list's suite (src/util/queue.h): an
 * initialized head is empty, insert_tail keeps FIFO order and insert_head
 * newest first, remove leaves a node self-linked (U1-U4 in queue.h).
 */
#include "testlib.h"
#include "util/queue.h"

#include <check.h>
#include <stddef.h>

struct item {
	int value;
	struct sa_queue node;
};

/* The values on @h from head to tail into @out (at most @max); returns how
 * many, and checks every prev link on the way. */
static int walk(struct sa_queue *h, int *out, int max)
{
	int n = 0;
	struct sa_queue *prev = h;
	for (struct sa_queue *q = sa__queue_head(h); q != h; q = sa__queue_next(q)) {
		ck_assert_ptr_eq(q->prev, prev);
		ck_assert_int_lt(n, max);
		out[n++] = SA_QUEUE_DATA(q, struct item, node)->value;
		prev = q;
	}
	ck_assert_ptr_eq(h->prev, prev);
	return n;
}

START_TEST(test_queue_init_makes_an_empty_list)
{
	struct sa_queue h;
	sa__queue_init(&h);
	ck_assert(sa__queue_empty(&h));
	ck_assert(!sa__queue_linked(&h));
	ck_assert_ptr_eq(sa__queue_head(&h), &h);
	ck_assert_ptr_eq(sa__queue_next(&h), &h);
	int v[1];
	ck_assert_int_eq(walk(&h, v, 1), 0);
}
END_TEST

START_TEST(test_queue_data_finds_the_element)
{
	struct item it = {.value = 7};
	sa__queue_init(&it.node);
	ck_assert_ptr_eq(SA_QUEUE_DATA(&it.node, struct item, node), &it);
}
END_TEST

START_TEST(test_queue_insert_tail_keeps_fifo_order)
{
	struct sa_queue h;
	struct item it[4];
	sa__queue_init(&h);
	for (int i = 0; i < 4; i++) {
		it[i].value = i;
		sa__queue_insert_tail(&h, &it[i].node);
		ck_assert(sa__queue_linked(&it[i].node));
	}
	ck_assert(!sa__queue_empty(&h));
	ck_assert_ptr_eq(sa__queue_head(&h), &it[0].node);
	int v[4];
	ck_assert_int_eq(walk(&h, v, 4), 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(v[i], i);
	/* Popping the head gives them back oldest first. */
	for (int i = 0; i < 4; i++) {
		struct sa_queue *q = sa__queue_head(&h);
		sa__queue_remove(q);
		ck_assert_int_eq(SA_QUEUE_DATA(q, struct item, node)->value, i);
	}
	ck_assert(sa__queue_empty(&h));
}
END_TEST

START_TEST(test_queue_insert_head_puts_newest_first)
{
	struct sa_queue h;
	struct item it[3];
	sa__queue_init(&h);
	for (int i = 0; i < 3; i++) {
		it[i].value = i;
		sa__queue_insert_head(&h, &it[i].node);
	}
	int v[3];
	ck_assert_int_eq(walk(&h, v, 3), 3);
	ck_assert_int_eq(v[0], 2);
	ck_assert_int_eq(v[1], 1);
	ck_assert_int_eq(v[2], 0);
}
END_TEST

START_TEST(test_queue_remove_from_the_middle)
{
	struct sa_queue h;
	struct item it[5];
	sa__queue_init(&h);
	for (int i = 0; i < 5; i++) {
		it[i].value = i;
		sa__queue_insert_tail(&h, &it[i].node);
	}
	sa__queue_remove(&it[2].node);
	sa__queue_remove(&it[4].node); /* the tail */
	sa__queue_remove(&it[0].node); /* the head */
	int v[5];
	ck_assert_int_eq(walk(&h, v, 5), 2);
	ck_assert_int_eq(v[0], 1);
	ck_assert_int_eq(v[1], 3);
	/* A removed node goes back in at the tail. */
	sa__queue_insert_tail(&h, &it[2].node);
	ck_assert_int_eq(walk(&h, v, 5), 3);
	ck_assert_int_eq(v[2], 2);
}
END_TEST

START_TEST(test_queue_remove_leaves_the_node_unlinked)
{
	struct sa_queue h;
	struct item a = {.value = 1}, b = {.value = 2};
	sa__queue_init(&h);
	sa__queue_init(&a.node);
	ck_assert(!sa__queue_linked(&a.node));
	sa__queue_insert_tail(&h, &a.node);
	sa__queue_insert_tail(&h, &b.node);
	ck_assert(sa__queue_linked(&a.node));
	sa__queue_remove(&a.node);
	ck_assert(!sa__queue_linked(&a.node));
	ck_assert(sa__queue_empty(&a.node));
	ck_assert_ptr_eq(a.node.next, &a.node);
	ck_assert_ptr_eq(a.node.prev, &a.node);
	ck_assert(sa__queue_linked(&b.node));
	sa__queue_remove(&b.node);
	ck_assert(sa__queue_empty(&h)); /* the last one out leaves the head empty */
	ck_assert_ptr_eq(h.prev, &h);
}
END_TEST

START_TEST(test_queue_remove_of_an_unlinked_node_changes_nothing)
{
	struct sa_queue h;
	struct item a = {.value = 1}, b = {.value = 2};
	sa__queue_init(&h);
	sa__queue_init(&a.node);
	sa__queue_insert_tail(&h, &b.node);
	sa__queue_remove(&a.node); /* never linked */
	ck_assert(!sa__queue_linked(&a.node));
	sa__queue_remove(&b.node);
	sa__queue_remove(&b.node); /* twice */
	ck_assert(!sa__queue_linked(&b.node));
	ck_assert(sa__queue_empty(&h));
	ck_assert_ptr_eq(h.next, &h);
	ck_assert_ptr_eq(h.prev, &h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("order");
	tcase_add_test(tc, test_queue_init_makes_an_empty_list);
	tcase_add_test(tc, test_queue_data_finds_the_element);
	tcase_add_test(tc, test_queue_insert_tail_keeps_fifo_order);
	tcase_add_test(tc, test_queue_insert_head_puts_newest_first);
	tcase_add_test(tc, test_queue_remove_from_the_middle);
	suite_add_tcase(s, tc);
	tc = tcase_create("linkage");
	tcase_add_test(tc, test_queue_remove_leaves_the_node_unlinked);
	tcase_add_test(tc, test_queue_remove_of_an_unlinked_node_changes_nothing);
	suite_add_tcase(s, tc);
	return tl_run_suite(s);
}
