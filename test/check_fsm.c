/*
 * test/check_fsm.c - the Check suite of the lifecycle state machine.
 *
 * The expected table below is written out by hand, not derived from
 * src/fsm/fsm_table.c: a change to either must be made in both, on purpose.
 * TCases by concern: table, classify, lifecycle, property, trace, names,
 * print (and abort, in fork mode only).  The fsm allocates nothing, so every
 * test ends with nothing of its own in use.
 */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sspiasync/fsm.h>

/* --- the expected table, by hand ---------------------------------------- */

_Static_assert(SA_FSM_NSTATES == 6 && SA_FSM_NEVENTS == 10,
	       "a state or event was added: extend the expected table by hand");

struct cell {
	unsigned next;
	int32_t status;
};

#define C(s, st) { SA_FSM_##s, st }
#define X { SA_FSM_NONE, SA_FSM_IMPOSSIBLE }
#define PASS SA_FSM_PASS
#define OK SA_ST_OK
#define OOS SA_ST_OUT_OF_SEQUENCE
#define INV SA_ST_INVALID_HANDLE

/* Columns, in order: LEG_CONTINUE, LEG_OK, LEG_RETRY, LEG_FAILED, REFUSED,
 * DELETE, TEARDOWN_DONE, ADMIT_LEG, ADMIT_QUERY, ADMIT_DELETE. */
static const struct cell expected[SA_FSM_NSTATES + 1][SA_FSM_NEVENTS] = {
	[SA_FSM_NEW] = { C(PARTIAL, PASS), C(COMPLETE, PASS), C(NEW, PASS), C(NEW, PASS),
			 C(NEW, PASS), X, X, C(NEW, OK), X, X },
	[SA_FSM_PARTIAL] = { C(PARTIAL, PASS), C(COMPLETE, PASS), C(PARTIAL, PASS),
			     C(REJECTED, PASS), C(PARTIAL, PASS), C(DELETING, OK), X,
			     C(PARTIAL, OK), C(PARTIAL, OK), C(PARTIAL, OK) },
	[SA_FSM_COMPLETE] = { C(COMPLETE, OOS), C(COMPLETE, OOS), C(COMPLETE, OOS),
			      C(COMPLETE, OOS), C(COMPLETE, PASS), C(DELETING, OK), X,
			      C(COMPLETE, OOS), C(COMPLETE, OK), C(COMPLETE, OK) },
	[SA_FSM_REJECTED] = { C(REJECTED, OOS), C(REJECTED, OOS), C(REJECTED, OOS),
			      C(REJECTED, OOS), C(REJECTED, PASS), C(DELETING, OK), X,
			      C(REJECTED, OOS), C(REJECTED, OOS), C(REJECTED, OK) },
	[SA_FSM_DELETING] = { C(DELETING, PASS), C(DELETING, PASS), C(DELETING, PASS),
			      C(DELETING, PASS), C(DELETING, INV), C(DELETING, INV),
			      C(INVALID, OK), C(DELETING, INV), C(DELETING, INV),
			      C(DELETING, INV) },
	[SA_FSM_INVALID] = { C(INVALID, INV), C(INVALID, INV), C(INVALID, INV), C(INVALID, INV),
			     C(INVALID, INV), C(INVALID, INV), C(INVALID, INV), C(INVALID, INV),
			     C(INVALID, INV), C(INVALID, INV) },
};

#undef C
#undef X

static const char *state_str(unsigned s)
{
	const char *n = sa_fsm_state_name((enum sa_fsm_state)s);
	return n != NULL ? n : "?";
}

static const char *event_str(unsigned ev)
{
	const char *n = sa_fsm_event_name((enum sa_fsm_event)ev);
	return n != NULL ? n : "?";
}

/* The pairs the engine never produces, by hand (I7). */
static int pair_is_impossible(unsigned s, unsigned ev)
{
	if (s == SA_FSM_NEW)
		return ev == SA_FSM_EV_DELETE || ev == SA_FSM_EV_TEARDOWN_DONE ||
		       ev == SA_FSM_EV_ADMIT_QUERY || ev == SA_FSM_EV_ADMIT_DELETE;
	return ev == SA_FSM_EV_TEARDOWN_DONE &&
	       (s == SA_FSM_PARTIAL || s == SA_FSM_COMPLETE || s == SA_FSM_REJECTED);
}

static int event_is_leg(unsigned ev)
{
	return ev == SA_FSM_EV_LEG_CONTINUE || ev == SA_FSM_EV_LEG_OK ||
	       ev == SA_FSM_EV_LEG_RETRY || ev == SA_FSM_EV_LEG_FAILED;
}

static int event_is_admission(unsigned ev)
{
	return ev == SA_FSM_EV_ADMIT_LEG || ev == SA_FSM_EV_ADMIT_QUERY ||
	       ev == SA_FSM_EV_ADMIT_DELETE;
}

/* --- table ---------------------------------------------------------------- */

START_TEST(test_fsm_every_pair_is_decided)
{
	for (unsigned s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++) {
		for (unsigned ev = 0; ev < SA_FSM_NEVENTS; ev++) {
			struct sa_fsm_result r = sa_fsm_next((enum sa_fsm_state)s,
							     (enum sa_fsm_event)ev);
			ck_assert_msg(r.next != 0 || r.status != 0, "%s x %s is undecided",
				      state_str(s), event_str(ev));
			ck_assert_msg(r.next != 0, "%s x %s has next 0", state_str(s),
				      event_str(ev));
		}
	}
}
END_TEST

START_TEST(test_fsm_every_pair_matches_expected_table)
{
	for (unsigned s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++) {
		for (unsigned ev = 0; ev < SA_FSM_NEVENTS; ev++) {
			struct sa_fsm_result r = sa_fsm_next((enum sa_fsm_state)s,
							     (enum sa_fsm_event)ev);
			const struct cell *want = &expected[s][ev];
			ck_assert_msg(r.next == want->next && r.status == want->status,
				      "%s x %s: got (%u, 0x%08x), want (%u, 0x%08x)", state_str(s),
				      event_str(ev), (unsigned)r.next, (unsigned)(uint32_t)r.status,
				      want->next, (unsigned)(uint32_t)want->status);
			ck_assert_int_eq(r.status == SA_FSM_IMPOSSIBLE, pair_is_impossible(s, ev));
		}
	}
}
END_TEST

START_TEST(test_fsm_cells_use_sentinels_consistently)
{
	for (unsigned s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++) {
		for (unsigned ev = 0; ev < SA_FSM_NEVENTS; ev++) {
			struct sa_fsm_result r = sa_fsm_next((enum sa_fsm_state)s,
							     (enum sa_fsm_event)ev);
			/* next is NONE exactly when the status is IMPOSSIBLE ... */
			ck_assert_int_eq(r.next == SA_FSM_NONE, r.status == SA_FSM_IMPOSSIBLE);
			if (r.status == SA_FSM_IMPOSSIBLE)
				continue;
			/* ... else a real state and a named status or PASS ... */
			ck_assert_uint_ge(r.next, SA_FSM_NEW);
			ck_assert_uint_le(r.next, SA_FSM_INVALID);
			ck_assert_ptr_nonnull(sa_fsm_status_name(r.status));
			/* ... and PASS only where a leg's or refusal's status exists. */
			if (r.status == SA_FSM_PASS)
				ck_assert(event_is_leg(ev) || ev == SA_FSM_EV_REFUSED);
		}
	}
}
END_TEST

START_TEST(test_fsm_next_is_impossible_when_out_of_range)
{
	static const unsigned bad_states[] = { 0, SA_FSM_INVALID + 1, 0xff, 0x100, 0x7fffffff };
	static const unsigned bad_events[] = { SA_FSM_NEVENTS, SA_FSM_NEVENTS + 1, 0xff,
					       0x7fffffff, 0xffffffffu };

	for (size_t i = 0; i < sizeof bad_states / sizeof bad_states[0]; i++) {
		for (unsigned ev = 0; ev < SA_FSM_NEVENTS; ev++) {
			struct sa_fsm_result r = sa_fsm_next((enum sa_fsm_state)bad_states[i],
							     (enum sa_fsm_event)ev);
			ck_assert_uint_eq(r.next, SA_FSM_NONE);
			ck_assert_int_eq(r.status, SA_FSM_IMPOSSIBLE);
		}
	}
	for (size_t i = 0; i < sizeof bad_events / sizeof bad_events[0]; i++) {
		for (unsigned s = 0; s <= SA_FSM_INVALID + 1; s++) {
			struct sa_fsm_result r = sa_fsm_next((enum sa_fsm_state)s,
							     (enum sa_fsm_event)bad_events[i]);
			ck_assert_uint_eq(r.next, SA_FSM_NONE);
			ck_assert_int_eq(r.status, SA_FSM_IMPOSSIBLE);
		}
	}
}
END_TEST

#ifndef NDEBUG
/* Fork mode only: the child must die of the assertion. */
START_TEST(test_fsm_step_aborts_when_pair_is_impossible)
{
	enum sa_fsm_state s = SA_FSM_NEW;

	/* The expected assertion message would only clutter the run's output;
	 * this is the forked child's stderr, so the runner's is untouched. */
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	(void)sa_fsm_step(NULL, 1, &s, SA_FSM_EV_DELETE, SA_ST_OK);
	ck_abort_msg("sa_fsm_step applied an IMPOSSIBLE pair");
}
END_TEST
#endif

/* --- classify ------------------------------------------------------------- */

START_TEST(test_fsm_classify_maps_listed_statuses)
{
	ck_assert_int_eq(sa_fsm_classify(SA_ST_CONTINUE_NEEDED), SA_FSM_EV_LEG_CONTINUE);
	ck_assert_int_eq(sa_fsm_classify(SA_ST_COMPLETE_AND_CONTINUE), SA_FSM_EV_LEG_CONTINUE);
	ck_assert_int_eq(sa_fsm_classify(SA_ST_OK), SA_FSM_EV_LEG_OK);
	ck_assert_int_eq(sa_fsm_classify(SA_ST_COMPLETE_NEEDED), SA_FSM_EV_LEG_OK);
	ck_assert_int_eq(sa_fsm_classify(SA_ST_INCOMPLETE_MESSAGE), SA_FSM_EV_LEG_RETRY);
	ck_assert_int_eq(sa_fsm_classify(SA_ST_BUFFER_TOO_SMALL), SA_FSM_EV_LEG_RETRY);
	ck_assert_int_eq(sa_fsm_classify(SA_ST_INSUFFICIENT_MEMORY), SA_FSM_EV_LEG_RETRY);
}
END_TEST

START_TEST(test_fsm_classify_fails_every_other_status)
{
	static const int32_t others[] = {
		SA_ST_INVALID_HANDLE, SA_ST_INTERNAL_ERROR, SA_ST_INVALID_TOKEN,
		SA_ST_LOGON_DENIED, SA_ST_OUT_OF_SEQUENCE,
		(int32_t)0x80090302, /* SEC_E_UNSUPPORTED_FUNCTION */
		(int32_t)0x8009035D, /* SEC_E_INVALID_PARAMETER */
		(int32_t)0x00090320, /* SEC_I_INCOMPLETE_CREDENTIALS: a success code, still failed */
		(int32_t)0x00090368, /* SEC_I_ASYNC_CALL_PENDING */
		(int32_t)0xC000006D, /* STATUS_LOGON_FAILURE */
		SA_FSM_PASS, SA_FSM_IMPOSSIBLE, 1, -1, INT32_MIN, INT32_MAX,
	};

	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		ck_assert_msg(sa_fsm_classify(others[i]) == SA_FSM_EV_LEG_FAILED,
			      "0x%08x not classed failed", (unsigned)(uint32_t)others[i]);
}
END_TEST

START_TEST(test_fsm_status_values_are_microsofts)
{
	ck_assert_uint_eq((uint32_t)SA_ST_OK, 0x00000000u);
	ck_assert_uint_eq((uint32_t)SA_ST_CONTINUE_NEEDED, 0x00090312u);
	ck_assert_uint_eq((uint32_t)SA_ST_COMPLETE_NEEDED, 0x00090313u);
	ck_assert_uint_eq((uint32_t)SA_ST_COMPLETE_AND_CONTINUE, 0x00090314u);
	ck_assert_uint_eq((uint32_t)SA_ST_INSUFFICIENT_MEMORY, 0x80090300u);
	ck_assert_uint_eq((uint32_t)SA_ST_INVALID_HANDLE, 0x80090301u);
	ck_assert_uint_eq((uint32_t)SA_ST_INTERNAL_ERROR, 0x80090304u);
	ck_assert_uint_eq((uint32_t)SA_ST_INVALID_TOKEN, 0x80090308u);
	ck_assert_uint_eq((uint32_t)SA_ST_LOGON_DENIED, 0x8009030Cu);
	ck_assert_uint_eq((uint32_t)SA_ST_OUT_OF_SEQUENCE, 0x80090310u);
	ck_assert_uint_eq((uint32_t)SA_ST_INCOMPLETE_MESSAGE, 0x80090318u);
	ck_assert_uint_eq((uint32_t)SA_ST_BUFFER_TOO_SMALL, 0x80090321u);
	/* Errors are negative, informational codes are not. */
	ck_assert_int_lt(SA_ST_INVALID_HANDLE, 0);
	ck_assert_int_gt(SA_ST_CONTINUE_NEEDED, 0);
}
END_TEST

/* --- lifecycle ------------------------------------------------------------ */

/* One step on *s, with no tracer; asserts the state after and the status. */
static void step_expect(enum sa_fsm_state *s, enum sa_fsm_event ev, int32_t leg,
			enum sa_fsm_state want, int32_t want_status)
{
	enum sa_fsm_state from = *s;
	int32_t st = sa_fsm_step(NULL, 42, s, ev, leg);

	ck_assert_msg(*s == want && st == want_status,
		      "%s x %s: got %s/0x%08x, want %s/0x%08x", state_str(from), event_str(ev),
		      state_str(*s), (unsigned)(uint32_t)st, state_str(want),
		      (unsigned)(uint32_t)want_status);
}

/* A leg as the engine runs it: admission, then the classified result. */
static void leg_expect(enum sa_fsm_state *s, int32_t leg, enum sa_fsm_state want)
{
	step_expect(s, SA_FSM_EV_ADMIT_LEG, OK, *s, OK);
	step_expect(s, sa_fsm_classify(leg), leg, want, leg);
}

/* Delete as the engine runs it: accepted, then teardown. */
static void delete_expect_ok(enum sa_fsm_state *s)
{
	step_expect(s, SA_FSM_EV_ADMIT_DELETE, OK, *s, OK);
	step_expect(s, SA_FSM_EV_DELETE, OK, SA_FSM_DELETING, OK);
	step_expect(s, SA_FSM_EV_TEARDOWN_DONE, OK, SA_FSM_INVALID, OK);
}

START_TEST(test_fsm_two_leg_handshake_completes)
{
	enum sa_fsm_state s = SA_FSM_NEW;

	leg_expect(&s, SA_ST_CONTINUE_NEEDED, SA_FSM_PARTIAL);
	leg_expect(&s, SA_ST_OK, SA_FSM_COMPLETE);
	step_expect(&s, SA_FSM_EV_ADMIT_QUERY, OK, SA_FSM_COMPLETE, OK);
	delete_expect_ok(&s);
}
END_TEST

START_TEST(test_fsm_three_leg_handshake_completes)
{
	enum sa_fsm_state s = SA_FSM_NEW;

	leg_expect(&s, SA_ST_CONTINUE_NEEDED, SA_FSM_PARTIAL);
	leg_expect(&s, SA_ST_COMPLETE_AND_CONTINUE, SA_FSM_PARTIAL);
	leg_expect(&s, SA_ST_COMPLETE_NEEDED, SA_FSM_COMPLETE);
	delete_expect_ok(&s);
}
END_TEST

START_TEST(test_fsm_one_leg_handshake_completes)
{
	enum sa_fsm_state s = SA_FSM_NEW;

	leg_expect(&s, SA_ST_OK, SA_FSM_COMPLETE);
	delete_expect_ok(&s);
}
END_TEST

START_TEST(test_fsm_first_leg_failure_creates_no_context)
{
	enum sa_fsm_state s = SA_FSM_NEW;

	leg_expect(&s, SA_ST_LOGON_DENIED, SA_FSM_NEW);
	/* Nothing to delete: the caller publishes no handle for NEW. */
	ck_assert_int_eq(sa_fsm_next(s, SA_FSM_EV_DELETE).status, SA_FSM_IMPOSSIBLE);
}
END_TEST

START_TEST(test_fsm_leg_failure_rejects_context_at_each_later_leg)
{
	/* A three-leg handshake whose leg k (2 or 3) fails. */
	for (int k = 2; k <= 3; k++) {
		enum sa_fsm_state s = SA_FSM_NEW;

		leg_expect(&s, SA_ST_CONTINUE_NEEDED, SA_FSM_PARTIAL);
		if (k == 3)
			leg_expect(&s, SA_ST_CONTINUE_NEEDED, SA_FSM_PARTIAL);
		leg_expect(&s, SA_ST_INVALID_TOKEN, SA_FSM_REJECTED);
		/* No further leg, no query; delete still works. */
		step_expect(&s, SA_FSM_EV_ADMIT_LEG, OK, SA_FSM_REJECTED, OOS);
		step_expect(&s, SA_FSM_EV_ADMIT_QUERY, OK, SA_FSM_REJECTED, OOS);
		delete_expect_ok(&s);
	}
}
END_TEST

START_TEST(test_fsm_retryable_result_keeps_state_at_each_leg)
{
	static const int32_t retry[] = { SA_ST_INCOMPLETE_MESSAGE, SA_ST_BUFFER_TOO_SMALL,
					 SA_ST_INSUFFICIENT_MEMORY };

	for (size_t i = 0; i < 3; i++) {
		enum sa_fsm_state s = SA_FSM_NEW;

		leg_expect(&s, retry[i], SA_FSM_NEW);
		leg_expect(&s, SA_ST_CONTINUE_NEEDED, SA_FSM_PARTIAL);
		leg_expect(&s, retry[i], SA_FSM_PARTIAL);
		leg_expect(&s, retry[i], SA_FSM_PARTIAL);
		leg_expect(&s, SA_ST_OK, SA_FSM_COMPLETE);
		delete_expect_ok(&s);
	}
}
END_TEST

START_TEST(test_fsm_leg_is_out_of_sequence_when_complete_or_rejected)
{
	static const enum sa_fsm_state done[] = { SA_FSM_COMPLETE, SA_FSM_REJECTED };
	static const int32_t legs[] = { SA_ST_CONTINUE_NEEDED, SA_ST_OK, SA_ST_BUFFER_TOO_SMALL,
					SA_ST_LOGON_DENIED };

	for (size_t i = 0; i < 2; i++) {
		enum sa_fsm_state s = done[i];

		step_expect(&s, SA_FSM_EV_ADMIT_LEG, OK, done[i], OOS);
		for (size_t j = 0; j < 4; j++)
			step_expect(&s, sa_fsm_classify(legs[j]), legs[j], done[i], OOS);
	}
}
END_TEST

START_TEST(test_fsm_refusal_reports_its_status_when_live)
{
	static const enum sa_fsm_state live[] = { SA_FSM_NEW, SA_FSM_PARTIAL, SA_FSM_COMPLETE,
						  SA_FSM_REJECTED };

	for (size_t i = 0; i < 4; i++) {
		enum sa_fsm_state s = live[i];

		step_expect(&s, SA_FSM_EV_REFUSED, SA_ST_INSUFFICIENT_MEMORY, live[i],
			    SA_ST_INSUFFICIENT_MEMORY);
		step_expect(&s, SA_FSM_EV_REFUSED, (int32_t)0x8009035D, live[i],
			    (int32_t)0x8009035D);
	}
}
END_TEST

START_TEST(test_fsm_query_admitted_when_partial_or_complete)
{
	enum sa_fsm_state s = SA_FSM_PARTIAL;

	step_expect(&s, SA_FSM_EV_ADMIT_QUERY, OK, SA_FSM_PARTIAL, OK);
	s = SA_FSM_COMPLETE;
	step_expect(&s, SA_FSM_EV_ADMIT_QUERY, OK, SA_FSM_COMPLETE, OK);
}
END_TEST

START_TEST(test_fsm_delete_succeeds_from_each_live_state)
{
	static const enum sa_fsm_state live[] = { SA_FSM_PARTIAL, SA_FSM_COMPLETE,
						  SA_FSM_REJECTED };

	for (size_t i = 0; i < 3; i++) {
		enum sa_fsm_state s = live[i];

		delete_expect_ok(&s);
	}
}
END_TEST

START_TEST(test_fsm_double_delete_is_invalid_handle)
{
	enum sa_fsm_state s = SA_FSM_COMPLETE;

	step_expect(&s, SA_FSM_EV_DELETE, OK, SA_FSM_DELETING, OK);
	/* A second delete while the first is queued ... */
	step_expect(&s, SA_FSM_EV_ADMIT_DELETE, OK, SA_FSM_DELETING, INV);
	step_expect(&s, SA_FSM_EV_DELETE, OK, SA_FSM_DELETING, INV);
	step_expect(&s, SA_FSM_EV_TEARDOWN_DONE, OK, SA_FSM_INVALID, OK);
	/* ... and after it finished (Windows' sync delete says SEC_E_OK: deviation). */
	step_expect(&s, SA_FSM_EV_ADMIT_DELETE, OK, SA_FSM_INVALID, INV);
	step_expect(&s, SA_FSM_EV_DELETE, OK, SA_FSM_INVALID, INV);
}
END_TEST

START_TEST(test_fsm_use_after_delete_is_invalid_handle)
{
	enum sa_fsm_state s = SA_FSM_PARTIAL;

	step_expect(&s, SA_FSM_EV_DELETE, OK, SA_FSM_DELETING, OK);
	step_expect(&s, SA_FSM_EV_ADMIT_LEG, OK, SA_FSM_DELETING, INV);
	step_expect(&s, SA_FSM_EV_ADMIT_QUERY, OK, SA_FSM_DELETING, INV);
	step_expect(&s, SA_FSM_EV_REFUSED, SA_ST_INSUFFICIENT_MEMORY, SA_FSM_DELETING, INV);
	step_expect(&s, SA_FSM_EV_TEARDOWN_DONE, OK, SA_FSM_INVALID, OK);
	for (unsigned ev = 0; ev < SA_FSM_NEVENTS; ev++) {
		int32_t leg = ev == SA_FSM_EV_LEG_CONTINUE ? SA_ST_CONTINUE_NEEDED :
			      ev == SA_FSM_EV_LEG_RETRY    ? SA_ST_BUFFER_TOO_SMALL :
			      ev == SA_FSM_EV_LEG_FAILED   ? SA_ST_LOGON_DENIED :
			      ev == SA_FSM_EV_REFUSED      ? SA_ST_INSUFFICIENT_MEMORY :
							     SA_ST_OK;
		step_expect(&s, (enum sa_fsm_event)ev, leg, SA_FSM_INVALID, INV);
	}
}
END_TEST

START_TEST(test_fsm_running_leg_reports_own_status_when_deleting)
{
	static const int32_t legs[] = { SA_ST_CONTINUE_NEEDED, SA_ST_OK, SA_ST_COMPLETE_NEEDED,
					SA_ST_INCOMPLETE_MESSAGE, SA_ST_INVALID_TOKEN };

	for (size_t i = 0; i < sizeof legs / sizeof legs[0]; i++) {
		enum sa_fsm_state s = SA_FSM_NEW;

		leg_expect(&s, SA_ST_CONTINUE_NEEDED, SA_FSM_PARTIAL);
		/* A leg is admitted and runs; the delete is queued meanwhile. */
		step_expect(&s, SA_FSM_EV_ADMIT_LEG, OK, SA_FSM_PARTIAL, OK);
		step_expect(&s, SA_FSM_EV_DELETE, OK, SA_FSM_DELETING, OK);
		step_expect(&s, sa_fsm_classify(legs[i]), legs[i], SA_FSM_DELETING, legs[i]);
		step_expect(&s, SA_FSM_EV_TEARDOWN_DONE, OK, SA_FSM_INVALID, OK);
	}
}
END_TEST

/* --- property ------------------------------------------------------------- */

static uint64_t xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Leg statuses by class.  The failed and refused pools leave out
 * SEC_E_OUT_OF_SEQUENCE and SEC_E_INVALID_HANDLE, so that those two, when
 * returned, always come from the table: a refusal. */
static const int32_t pool_continue[] = { SA_ST_CONTINUE_NEEDED, SA_ST_COMPLETE_AND_CONTINUE };
static const int32_t pool_ok[] = { SA_ST_OK, SA_ST_COMPLETE_NEEDED };
static const int32_t pool_retry[] = { SA_ST_INCOMPLETE_MESSAGE, SA_ST_BUFFER_TOO_SMALL,
				      SA_ST_INSUFFICIENT_MEMORY };
static const int32_t pool_failed[] = { SA_ST_INVALID_TOKEN, SA_ST_LOGON_DENIED,
				       SA_ST_INTERNAL_ERROR, (int32_t)0x80090302,
				       (int32_t)0x00090320 };
static const int32_t pool_refused[] = { SA_ST_INSUFFICIENT_MEMORY, (int32_t)0x8009035D };

#define PICK(pool, r) ((pool)[(r) % (sizeof(pool) / sizeof((pool)[0]))])

/* Delete and teardown are rare, so a walk spends time in every state. */
static enum sa_fsm_event random_event(uint64_t r)
{
	unsigned w = (unsigned)(r % 83); /* 8 events x 10, DELETE 1, TEARDOWN_DONE 2 */

	if (w < 80) {
		static const enum sa_fsm_event common[] = {
			SA_FSM_EV_LEG_CONTINUE, SA_FSM_EV_LEG_OK,       SA_FSM_EV_LEG_RETRY,
			SA_FSM_EV_LEG_FAILED,   SA_FSM_EV_REFUSED,      SA_FSM_EV_ADMIT_LEG,
			SA_FSM_EV_ADMIT_QUERY,  SA_FSM_EV_ADMIT_DELETE,
		};
		return common[w / 10];
	}
	return w == 80 ? SA_FSM_EV_DELETE : SA_FSM_EV_TEARDOWN_DONE;
}

static int32_t random_status(enum sa_fsm_event ev, uint64_t r)
{
	switch (ev) {
	case SA_FSM_EV_LEG_CONTINUE: return PICK(pool_continue, r);
	case SA_FSM_EV_LEG_OK: return PICK(pool_ok, r);
	case SA_FSM_EV_LEG_RETRY: return PICK(pool_retry, r);
	case SA_FSM_EV_LEG_FAILED: return PICK(pool_failed, r);
	case SA_FSM_EV_REFUSED: return PICK(pool_refused, r);
	default: return SA_ST_OK;
	}
}

struct walk_trace {
	unsigned calls;
	enum sa_fsm_state from, to;
	enum sa_fsm_event ev;
	int32_t status;
	uint64_t id;
};

static void walk_trace_record(uint64_t id, enum sa_fsm_state from, enum sa_fsm_event ev,
			      enum sa_fsm_state to, int32_t status, void *arg)
{
	struct walk_trace *t = arg;

	t->calls++;
	t->id = id;
	t->from = from;
	t->ev = ev;
	t->to = to;
	t->status = status;
}

START_TEST(test_fsm_random_walks_keep_invariants)
{
	unsigned visited[SA_FSM_NSTATES + 1][SA_FSM_NEVENTS];
	struct walk_trace tw = { 0 };
	const struct sa_fsm_tracer tracer = { walk_trace_record, &tw };
	unsigned steps = 0;

	memset(visited, 0, sizeof visited);
	for (uint64_t seq = 0; seq < 1000; seq++) {
		uint64_t x = 0x9e3779b97f4a7c15u * (seq + 1);
		enum sa_fsm_state s = SA_FSM_NEW;

		for (int i = 0; i < 200; i++) {
			enum sa_fsm_event ev = random_event(xorshift64(&x));
			int32_t leg = random_status(ev, xorshift64(&x) >> 7);
			enum sa_fsm_state from = s;
			int32_t st;

			if (sa_fsm_next(s, ev).status == SA_FSM_IMPOSSIBLE) {
				ck_assert_msg(pair_is_impossible(s, ev), "%s x %s unexpectedly "
					      "impossible", state_str(s), event_str(ev));
				continue; /* the engine never produces it: not stepped */
			}
			st = sa_fsm_step(&tracer, seq, &s, ev, leg);
			steps++;
			visited[from][ev]++;

			ck_assert_msg(s >= SA_FSM_NEW && s <= SA_FSM_INVALID, "state %u", (unsigned)s);
			ck_assert(st != SA_FSM_PASS && st != SA_FSM_IMPOSSIBLE);
			/* I3: INVALID is absorbing. */
			if (from == SA_FSM_INVALID)
				ck_assert(s == SA_FSM_INVALID && st == INV);
			/* I4: only teardown leaves DELETING, and only to INVALID. */
			if (from == SA_FSM_DELETING)
				ck_assert(s == SA_FSM_DELETING ||
					  (s == SA_FSM_INVALID && ev == SA_FSM_EV_TEARDOWN_DONE));
			/* I5: every refusal, retry and admission leaves the state alone. */
			if (ev == SA_FSM_EV_REFUSED || st == OOS || st == INV ||
			    ev == SA_FSM_EV_LEG_RETRY || event_is_admission(ev))
				ck_assert_msg(s == from, "%s x %s moved to %s", state_str(from),
					      event_str(ev), state_str(s));
			/* I6: nothing leads (back) to NEW; NEW is left by a first leg only. */
			if (s == SA_FSM_NEW)
				ck_assert(from == SA_FSM_NEW);
			if (from == SA_FSM_NEW && s != SA_FSM_NEW)
				ck_assert(ev == SA_FSM_EV_LEG_CONTINUE || ev == SA_FSM_EV_LEG_OK);
			/* A leg on NEW, PARTIAL or DELETING reports the package's status. */
			if (event_is_leg(ev) && (from == SA_FSM_NEW || from == SA_FSM_PARTIAL ||
						 from == SA_FSM_DELETING))
				ck_assert_int_eq(st, leg);
			/* The tracer saw exactly this step. */
			ck_assert_uint_eq(tw.calls, steps);
			ck_assert(tw.id == seq && tw.from == from && tw.ev == ev && tw.to == s &&
				  tw.status == st);
		}
	}
	/* The walks are worth something only if they reached every possible pair. */
	for (unsigned s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++)
		for (unsigned ev = 0; ev < SA_FSM_NEVENTS; ev++)
			ck_assert_msg(pair_is_impossible(s, ev) || visited[s][ev] > 0,
				      "%s x %s never visited", state_str(s), event_str(ev));
}
END_TEST

/* --- trace ---------------------------------------------------------------- */

struct trace_rec {
	uint64_t id;
	enum sa_fsm_state from, to;
	enum sa_fsm_event ev;
	int32_t status;
};

struct trace_log {
	unsigned n;
	struct trace_rec rec[16];
};

static void trace_log_record(uint64_t id, enum sa_fsm_state from, enum sa_fsm_event ev,
			     enum sa_fsm_state to, int32_t status, void *arg)
{
	struct trace_log *log = arg;

	if (log->n < 16)
		log->rec[log->n] = (struct trace_rec){ id, from, to, ev, status };
	log->n++;
}

START_TEST(test_fsm_tracer_sees_each_step)
{
	static const struct trace_rec want[] = {
		{ 7, SA_FSM_NEW, SA_FSM_PARTIAL, SA_FSM_EV_LEG_CONTINUE, SA_ST_CONTINUE_NEEDED },
		{ 7, SA_FSM_PARTIAL, SA_FSM_PARTIAL, SA_FSM_EV_REFUSED, SA_ST_INSUFFICIENT_MEMORY },
		{ 8, SA_FSM_PARTIAL, SA_FSM_PARTIAL, SA_FSM_EV_ADMIT_LEG, SA_ST_OK },
		{ 8, SA_FSM_PARTIAL, SA_FSM_REJECTED, SA_FSM_EV_LEG_FAILED, SA_ST_LOGON_DENIED },
		{ 9, SA_FSM_REJECTED, SA_FSM_REJECTED, SA_FSM_EV_ADMIT_QUERY, OOS },
		{ 9, SA_FSM_REJECTED, SA_FSM_DELETING, SA_FSM_EV_DELETE, SA_ST_OK },
		{ 9, SA_FSM_DELETING, SA_FSM_INVALID, SA_FSM_EV_TEARDOWN_DONE, SA_ST_OK },
		{ UINT64_MAX, SA_FSM_INVALID, SA_FSM_INVALID, SA_FSM_EV_DELETE, INV },
	};
	struct trace_log log = { 0 };
	const struct sa_fsm_tracer tracer = { trace_log_record, &log };
	enum sa_fsm_state s = SA_FSM_NEW;
	const size_t n = sizeof want / sizeof want[0];

	for (size_t i = 0; i < n; i++) {
		int32_t leg = want[i].ev == SA_FSM_EV_LEG_CONTINUE ? SA_ST_CONTINUE_NEEDED :
			      want[i].ev == SA_FSM_EV_REFUSED      ? SA_ST_INSUFFICIENT_MEMORY :
			      want[i].ev == SA_FSM_EV_LEG_FAILED   ? SA_ST_LOGON_DENIED :
								     SA_ST_OK;
		int32_t st = sa_fsm_step(&tracer, want[i].id, &s, want[i].ev, leg);

		ck_assert_int_eq(st, want[i].status);
		ck_assert_uint_eq(log.n, i + 1);
	}
	ck_assert_uint_eq(log.n, n);
	for (size_t i = 0; i < n; i++) {
		const struct trace_rec *got = &log.rec[i];

		ck_assert_msg(got->id == want[i].id && got->from == want[i].from &&
			      got->ev == want[i].ev && got->to == want[i].to &&
			      got->status == want[i].status, "trace record %zu differs", i);
	}
}
END_TEST

START_TEST(test_fsm_step_runs_without_tracer_when_null)
{
	const struct sa_fsm_tracer no_fn = { NULL, NULL };
	enum sa_fsm_state s = SA_FSM_NEW;

	ck_assert_int_eq(sa_fsm_step(NULL, 1, &s, SA_FSM_EV_LEG_OK, SA_ST_OK), SA_ST_OK);
	ck_assert_int_eq(s, SA_FSM_COMPLETE);
	ck_assert_int_eq(sa_fsm_step(&no_fn, 1, &s, SA_FSM_EV_DELETE, SA_ST_OK), SA_ST_OK);
	ck_assert_int_eq(s, SA_FSM_DELETING);
}
END_TEST

/* --- names ---------------------------------------------------------------- */

START_TEST(test_fsm_state_names_are_distinct)
{
	for (unsigned a = SA_FSM_NEW; a <= SA_FSM_INVALID; a++) {
		const char *na = sa_fsm_state_name((enum sa_fsm_state)a);

		ck_assert_ptr_nonnull(na);
		ck_assert_uint_gt(strlen(na), 0);
		for (unsigned b = SA_FSM_NEW; b < a; b++)
			ck_assert_str_ne(na, sa_fsm_state_name((enum sa_fsm_state)b));
	}
	ck_assert_str_eq(sa_fsm_state_name(SA_FSM_PARTIAL), "PARTIAL");
}
END_TEST

START_TEST(test_fsm_event_names_are_distinct)
{
	for (unsigned a = 0; a < SA_FSM_NEVENTS; a++) {
		const char *na = sa_fsm_event_name((enum sa_fsm_event)a);

		ck_assert_ptr_nonnull(na);
		ck_assert_uint_gt(strlen(na), 0);
		for (unsigned b = 0; b < a; b++)
			ck_assert_str_ne(na, sa_fsm_event_name((enum sa_fsm_event)b));
	}
	ck_assert_str_eq(sa_fsm_event_name(SA_FSM_EV_TEARDOWN_DONE), "TEARDOWN_DONE");
}
END_TEST

START_TEST(test_fsm_status_names_are_distinct)
{
	static const int32_t known[] = {
		SA_ST_OK, SA_ST_CONTINUE_NEEDED, SA_ST_COMPLETE_NEEDED,
		SA_ST_COMPLETE_AND_CONTINUE, SA_ST_INSUFFICIENT_MEMORY, SA_ST_INVALID_HANDLE,
		SA_ST_INTERNAL_ERROR, SA_ST_INVALID_TOKEN, SA_ST_LOGON_DENIED,
		SA_ST_OUT_OF_SEQUENCE, SA_ST_INCOMPLETE_MESSAGE, SA_ST_BUFFER_TOO_SMALL,
		SA_FSM_PASS, SA_FSM_IMPOSSIBLE,
	};
	const size_t n = sizeof known / sizeof known[0];

	for (size_t a = 0; a < n; a++) {
		const char *na = sa_fsm_status_name(known[a]);

		ck_assert_ptr_nonnull(na);
		for (size_t b = 0; b < a; b++)
			ck_assert_str_ne(na, sa_fsm_status_name(known[b]));
	}
	ck_assert_str_eq(sa_fsm_status_name(SA_ST_INVALID_HANDLE), "SEC_E_INVALID_HANDLE");
	ck_assert_str_eq(sa_fsm_status_name(SA_ST_OUT_OF_SEQUENCE), "SEC_E_OUT_OF_SEQUENCE");
}
END_TEST

START_TEST(test_fsm_names_are_null_when_out_of_range)
{
	ck_assert_ptr_null(sa_fsm_state_name((enum sa_fsm_state)0));
	ck_assert_ptr_null(sa_fsm_state_name((enum sa_fsm_state)(SA_FSM_INVALID + 1)));
	ck_assert_ptr_null(sa_fsm_state_name((enum sa_fsm_state)SA_FSM_NONE));
	ck_assert_ptr_null(sa_fsm_event_name(SA_FSM_NEVENTS));
	ck_assert_ptr_null(sa_fsm_event_name((enum sa_fsm_event)0xffffffffu));
	ck_assert_ptr_null(sa_fsm_status_name((int32_t)0x80090302));
	ck_assert_ptr_null(sa_fsm_status_name(1));
}
END_TEST

/* --- print ---------------------------------------------------------------- */

/* The text a cell should print, from the hand-written table. */
static void cell_text(char *buf, size_t n, unsigned s, unsigned ev)
{
	const struct cell *c = &expected[s][ev];

	if (c->status == SA_FSM_IMPOSSIBLE)
		snprintf(buf, n, "impossible");
	else
		snprintf(buf, n, "%s, %s", state_str(c->next),
			 c->status == PASS ? "leg's status" : sa_fsm_status_name(c->status));
}

START_TEST(test_fsm_write_table_prints_every_cell)
{
	char line[2048], want[2048], cell[128];
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sa_fsm_write_table(f), 0);
	rewind(f);

	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert(strncmp(line, "Rows: ", 6) == 0);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert_str_eq(line, "\n");

	strcpy(want, "| event \\ state |");
	for (unsigned s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++) {
		strcat(want, " ");
		strcat(want, state_str(s));
		strcat(want, " |");
	}
	strcat(want, "\n");
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert_str_eq(line, want);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert_str_eq(line, "| --- | --- | --- | --- | --- | --- | --- |\n");

	for (unsigned ev = 0; ev < SA_FSM_NEVENTS; ev++) {
		snprintf(want, sizeof want, "| %s |", event_str(ev));
		for (unsigned s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++) {
			cell_text(cell, sizeof cell, s, ev);
			strcat(want, " ");
			strcat(want, cell);
			strcat(want, " |");
		}
		strcat(want, "\n");
		ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
		ck_assert_str_eq(line, want);
	}
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert_str_eq(line, "\n");
	ck_assert_ptr_null(fgets(line, sizeof line, f));
	ck_assert_int_eq(fclose(f), 0);
}
END_TEST

START_TEST(test_fsm_write_table_fails_when_file_is_null)
{
	ck_assert_int_lt(sa_fsm_write_table(NULL), 0);
}
END_TEST

/* --- suite ---------------------------------------------------------------- */

static Suite *fsm_suite(void)
{
	Suite *s = suite_create("fsm");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_fsm_every_pair_is_decided);
	tcase_add_test(tc, test_fsm_every_pair_matches_expected_table);
	tcase_add_test(tc, test_fsm_cells_use_sentinels_consistently);
	tcase_add_test(tc, test_fsm_next_is_impossible_when_out_of_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("classify");
	tcase_add_test(tc, test_fsm_classify_maps_listed_statuses);
	tcase_add_test(tc, test_fsm_classify_fails_every_other_status);
	tcase_add_test(tc, test_fsm_status_values_are_microsofts);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_test(tc, test_fsm_two_leg_handshake_completes);
	tcase_add_test(tc, test_fsm_three_leg_handshake_completes);
	tcase_add_test(tc, test_fsm_one_leg_handshake_completes);
	tcase_add_test(tc, test_fsm_first_leg_failure_creates_no_context);
	tcase_add_test(tc, test_fsm_leg_failure_rejects_context_at_each_later_leg);
	tcase_add_test(tc, test_fsm_retryable_result_keeps_state_at_each_leg);
	tcase_add_test(tc, test_fsm_leg_is_out_of_sequence_when_complete_or_rejected);
	tcase_add_test(tc, test_fsm_refusal_reports_its_status_when_live);
	tcase_add_test(tc, test_fsm_query_admitted_when_partial_or_complete);
	tcase_add_test(tc, test_fsm_delete_succeeds_from_each_live_state);
	tcase_add_test(tc, test_fsm_double_delete_is_invalid_handle);
	tcase_add_test(tc, test_fsm_use_after_delete_is_invalid_handle);
	tcase_add_test(tc, test_fsm_running_leg_reports_own_status_when_deleting);
	suite_add_tcase(s, tc);

	tc = tcase_create("property");
	tcase_add_test(tc, test_fsm_random_walks_keep_invariants);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("trace");
	tcase_add_test(tc, test_fsm_tracer_sees_each_step);
	tcase_add_test(tc, test_fsm_step_runs_without_tracer_when_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_fsm_state_names_are_distinct);
	tcase_add_test(tc, test_fsm_event_names_are_distinct);
	tcase_add_test(tc, test_fsm_status_names_are_distinct);
	tcase_add_test(tc, test_fsm_names_are_null_when_out_of_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_test(tc, test_fsm_write_table_prints_every_cell);
	tcase_add_test(tc, test_fsm_write_table_fails_when_file_is_null);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	Suite *s = fsm_suite();
	SRunner *sr = srunner_create(s);
	int failed;

#ifndef NDEBUG
	/* Only a forked child may die of the assertion (not under CK_FORK=no,
	 * as in `make memcheck`), and only when assertions are compiled in. */
	if (srunner_fork_status(sr) == CK_FORK) {
		TCase *tc = tcase_create("abort");

		tcase_add_test_raise_signal(tc, test_fsm_step_aborts_when_pair_is_impossible,
					    SIGABRT);
		suite_add_tcase(s, tc);
	}
#endif
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
