/*
 * test/check_htable_edges.c - the handle table's edges that only a forger
 * with the key, a corrupt table or an odd configuration reaches: bounds of
 * well-formed handles (slot past max or past the slots made, generation 0 or
 * past the limit), NULL arguments, a table without a destructor, and the
 * consistency checker shown to notice each kind of damage (a checker that
 * cannot fail proves nothing) and to accept held slots and slots whose
 * generation wrapped.
 */
#include <sspiasync/errors.h>
#include <sspiasync/handles.h>

#include "handles/htable_int.h"
#include "testlib.h"

#include <check.h>

static struct sa_htable *make(enum sa_htable_form form, uint32_t max, sa_htable_dtor_fn dtor)
{
	struct sa_htable_config cfg = {.kind = 7, .form = form, .max_entries = max, .dtor = dtor};
	struct sa_htable *t = NULL;
	ck_assert_int_eq(sa_htable_create(&cfg, &t), SA_OK);
	return t;
}

static void free_dtor(void *obj, void *arg)
{
	(void)arg;
	free(obj);
}

/* Well-formed handles (valid checks) that name no live entry. */
START_TEST(test_edges_forged_well_formed_handles_rejected)
{
	for (int form = SA_HTABLE_TWO_WORD; form <= SA_HTABLE_ONE_WORD; form++) {
		struct sa_htable *t = make(form, 1000, free_dtor);
		int *obj = malloc(sizeof *obj);
		struct sa_handle h;
		ck_assert_int_eq(sa_htable_insert(t, obj, &h), SA_OK);
		void *got;
		ck_assert_int_eq(sa_htable_acquire(t, h, &got), SA_OK);
		sa_htable_release(t, h);
		uint32_t limit = form == SA_HTABLE_ONE_WORD ? SA_HTABLE_GEN_LIMIT_ONE_WORD
							    : SA_HTABLE_GEN_LIMIT_TWO_WORD;
		struct sa_handle bad[] = {
			sa__htable_test_encode(t, 0, 0),         /* generation 0 */
			sa__htable_test_encode(t, 0, limit + 1), /* past the limit */
			sa__htable_test_encode(t, 1000, 1),      /* slot past max */
			sa__htable_test_encode(t, 999, 1),       /* within max, never made */
			sa__htable_test_encode(t, 1, 1),         /* made (chunk), never live */
		};
		for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			ck_assert_int_eq(sa_htable_acquire(t, bad[i], &got), SA_EBADHANDLE);
			ck_assert_int_eq(sa_htable_remove(t, bad[i]), SA_EBADHANDLE);
			ck_assert_int_eq(sa__htable_test_add_refs(t, bad[i], 1), SA_EBADHANDLE);
		}
		/* The real one, re-encoded, is the real one. */
		ck_assert_int_eq(sa_htable_remove(t, h), SA_OK);
		ck_assert_int_eq(sa_htable_destroy(t), SA_OK);
	}
}
END_TEST

START_TEST(test_edges_null_arguments)
{
	struct sa_htable *t = make(SA_HTABLE_TWO_WORD, 16, NULL);
	int obj;
	struct sa_handle h;
	void *got;
	ck_assert_int_eq(sa_htable_insert(t, &obj, &h), SA_OK);
	ck_assert_int_eq(sa_htable_acquire(NULL, h, &got), SA_EBADHANDLE);
	ck_assert_int_eq(sa_htable_acquire(t, h, NULL), SA_EBADHANDLE);
	ck_assert_int_eq(sa_htable_remove(NULL, h), SA_EBADHANDLE);
	/* No destructor: remove just frees the slot. */
	ck_assert_int_eq(sa_htable_remove(t, h), SA_OK);
	ck_assert_int_eq(sa_htable_live_count(t), 0);
	ck_assert_int_eq(sa__htable_check(t), SA_OK);
	ck_assert_int_eq(sa_htable_destroy(t), SA_OK);
}
END_TEST

/* The checker accepts a removed-but-held slot, and a slot whose generation
 * wrapped below the table's floor (it retired such a slot before issue 19). */
START_TEST(test_edges_checker_accepts_held_and_wrapped)
{
	uint32_t floor = sa__htable_test_set_oneword_floor(1000); /* put back below */
	struct sa_htable *t = make(SA_HTABLE_ONE_WORD, 16, free_dtor);
	struct sa_handle h;
	void *got;
	ck_assert_int_eq(sa_htable_insert(t, malloc(1), &h), SA_OK);
	ck_assert_int_eq(sa_htable_acquire(t, h, &got), SA_OK);
	ck_assert_int_eq(sa_htable_remove(t, h), SA_OK);
	ck_assert_int_eq(sa__htable_check(t), SA_OK); /* held */
	sa_htable_release(t, h);
	ck_assert_int_eq(sa__htable_check(t), SA_OK);
	/* Drive the free slots to the limit: the next removal wraps one to 1,
	 * below the floor (1000) the table started at. */
	sa__htable_test_set_free_generation(t, SA_HTABLE_GEN_LIMIT_ONE_WORD);
	ck_assert_int_eq(sa_htable_insert(t, malloc(1), &h), SA_OK);
	ck_assert_int_eq(sa_htable_remove(t, h), SA_OK);
	ck_assert_uint_eq(sa__htable_wraps(t), 1);
	ck_assert_int_eq(sa__htable_check(t), SA_OK); /* wrapped */
	ck_assert_int_eq(sa_htable_insert(t, malloc(1), &h), SA_OK);
	ck_assert_int_eq(sa_htable_acquire(t, h, &got), SA_OK);
	ck_assert_int_eq(sa__htable_check(t), SA_OK); /* live at the limit, one free at 1 */
	sa_htable_release(t, h);
	ck_assert_int_eq(sa_htable_remove(t, h), SA_OK);
	ck_assert_int_eq(sa_htable_destroy(t), SA_OK);
	/* The limit raised the process's one-word floor: later one-word tables
	 * of this process (CK_FORK=no) must not inherit it. */
	sa__htable_test_set_oneword_floor(floor);
}
END_TEST

/* Each kind of damage is noticed, and repairing it is accepted again. */
START_TEST(test_edges_checker_notices_each_corruption)
{
	static const int how[] = {
		SA_HTABLE_CORRUPT_NFREE,     SA_HTABLE_CORRUPT_UNLISTED,  SA_HTABLE_CORRUPT_LIVE,
		SA_HTABLE_CORRUPT_FREE_FLAG, SA_HTABLE_CORRUPT_FREE_WORD, SA_HTABLE_CORRUPT_FREE_LOOP,
		SA_HTABLE_CORRUPT_GEN,       SA_HTABLE_CORRUPT_GEN_HIGH,
	};
	struct sa_htable *t = make(SA_HTABLE_TWO_WORD, 256, free_dtor);
	struct sa_handle h[3];
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(sa_htable_insert(t, malloc(1), &h[i]), SA_OK);
	ck_assert_int_eq(sa_htable_remove(t, h[1]), SA_OK); /* a free slot to damage */
	ck_assert_int_eq(sa__htable_check(t), SA_OK);
	for (unsigned i = 0; i < sizeof how / sizeof how[0]; i++) {
		sa__htable_test_corrupt(t, how[i], 0);
		ck_assert_msg(sa__htable_check(t) == SA_EINVAL, "corruption %d not noticed", how[i]);
		sa__htable_test_corrupt(t, how[i], 1);
		ck_assert_msg(sa__htable_check(t) == SA_OK, "repair of %d not accepted", how[i]);
	}
	ck_assert_int_eq(sa_htable_remove(t, h[0]), SA_OK);
	ck_assert_int_eq(sa_htable_remove(t, h[2]), SA_OK);
	ck_assert_int_eq(sa_htable_destroy(t), SA_OK);
}
END_TEST

/* Two one-word tables alive together with disjoint slot ranges: a handle of
 * one is never accepted by the other, whatever its check (the slot field
 * alone rules it out), and bad bases are refused. */
START_TEST(test_edges_one_word_slot_base_separates_tables)
{
	struct sa_htable_config lo = {.kind = 9, .form = SA_HTABLE_ONE_WORD, .max_entries = 64};
	struct sa_htable_config hi = lo;
	hi.slot_base = 1u << 23;
	struct sa_htable *a, *b;
	ck_assert_int_eq(sa_htable_create(&lo, &a), SA_OK);
	ck_assert_int_eq(sa_htable_create(&hi, &b), SA_OK);
	int obj[64];
	for (int i = 0; i < 64; i++) {
		struct sa_handle ha, hb;
		void *got;
		ck_assert_int_eq(sa_htable_insert(a, &obj[i], &ha), SA_OK);
		ck_assert_int_eq(sa_htable_insert(b, &obj[i], &hb), SA_OK);
		ck_assert(ha.lower != hb.lower);
		ck_assert_int_eq(sa_htable_acquire(b, ha, &got), SA_EBADHANDLE);
		ck_assert_int_eq(sa_htable_acquire(a, hb, &got), SA_EBADHANDLE);
		/* Even a well-formed handle of b's key for a's slot range. */
		ck_assert_int_eq(sa_htable_acquire(b, sa__htable_test_encode(b, 0u - (1u << 23), 1),
						   &got), SA_EBADHANDLE);
		ck_assert_int_eq(sa_htable_acquire(b, hb, &got), SA_OK);
		ck_assert_ptr_eq(got, &obj[i]);
		sa_htable_release(b, hb);
		ck_assert_int_eq(sa_htable_remove(a, ha), SA_OK);
		ck_assert_int_eq(sa_htable_remove(b, hb), SA_OK);
	}
	ck_assert_int_eq(sa_htable_destroy(a), SA_OK);
	ck_assert_int_eq(sa_htable_destroy(b), SA_OK);
	struct sa_htable *t;
	struct sa_htable_config bad = hi;
	bad.form = SA_HTABLE_TWO_WORD; /* two-word tables carry their kind: no base */
	ck_assert_int_eq(sa_htable_create(&bad, &t), SA_EINVAL);
	bad = hi;
	bad.slot_base = SA_HTABLE_MAX_ONE_WORD - 10; /* base + max past the slot field */
	ck_assert_int_eq(sa_htable_create(&bad, &t), SA_EINVAL);
	bad.slot_base = SA_HTABLE_MAX_ONE_WORD + 1 - 64; /* exactly fits */
	ck_assert_int_eq(sa_htable_create(&bad, &t), SA_OK);
	ck_assert_int_eq(sa_htable_destroy(t), SA_OK);
}
END_TEST

static Suite *edges_suite(void)
{
	Suite *s = suite_create("htable_edges");
	TCase *tc = tcase_create("edges");
	tcase_add_test(tc, test_edges_forged_well_formed_handles_rejected);
	tcase_add_test(tc, test_edges_null_arguments);
	tcase_add_test(tc, test_edges_checker_accepts_held_and_wrapped);
	tcase_add_test(tc, test_edges_checker_notices_each_corruption);
	tcase_add_test(tc, test_edges_one_word_slot_base_separates_tables);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(edges_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
