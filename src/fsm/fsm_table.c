/*
 * src/fsm/fsm_table.c - the lifecycle table and its one reader, sa_fsm_next().
 *
 * What it is: the constant (state, event) -> (next state, status) table that
 * decides every pair, with the reason for each decision the architecture
 * leaves open written next to its cell.  What it is not: the code that
 * applies a cell (sa_fsm_step() in fsm.c) or prints it (fsm_print.c).
 * Invariants: the numbered list above sa_fsm_table, each naming its test.
 */
#include <sspiasync/fsm.h>

#define TO(s, st) { .next = (s), .status = (st) }
#define IMPOSSIBLE { .next = SA_FSM_NONE, .status = SA_FSM_IMPOSSIBLE }

/*
 * Rows are indexed by state (row 0 unused: 0 is never a state), columns by
 * event.  An all-zero cell would mean "undecided"; there are none.
 *
 * I1 Every cell is decided: next != 0; an IMPOSSIBLE cell says so with
 *    {SA_FSM_NONE, SA_FSM_IMPOSSIBLE}, never with zeros.
 *    [test_fsm_every_pair_is_decided]
 * I2 Every cell equals the table written out by hand in the test.
 *    [test_fsm_every_pair_matches_expected_table]
 * I3 INVALID is absorbing: every event on INVALID stays INVALID and reports
 *    SEC_E_INVALID_HANDLE.  [test_fsm_random_walks_keep_invariants]
 * I4 Nothing leaves DELETING except TEARDOWN_DONE, to INVALID.
 *    [test_fsm_random_walks_keep_invariants]
 * I5 Refusals leave the state unchanged: SA_FSM_EV_REFUSED, every cell that
 *    reports SEC_E_OUT_OF_SEQUENCE or SEC_E_INVALID_HANDLE, every retryable
 *    leg result and every ADMIT_* event.
 *    [test_fsm_random_walks_keep_invariants]
 * I6 No event leads to NEW, and NEW is left only by a first leg's continue
 *    (to PARTIAL) or done (to COMPLETE).  [test_fsm_random_walks_keep_invariants]
 * I7 The IMPOSSIBLE cells are exactly NEW x {DELETE, TEARDOWN_DONE,
 *    ADMIT_QUERY, ADMIT_DELETE} and {PARTIAL, COMPLETE, REJECTED} x
 *    TEARDOWN_DONE.  [test_fsm_every_pair_matches_expected_table]
 */
static const struct sa_fsm_result sa_fsm_table[SA_FSM_NSTATES + 1][SA_FSM_NEVENTS] = {
	/*
	 * NEW: a first ISC/ASC leg, before any handle exists.  Continue or
	 * done creates the context; anything else creates none, so the state
	 * stays NEW and the caller publishes no handle.
	 */
	[SA_FSM_NEW] = {
		[SA_FSM_EV_LEG_CONTINUE]  = TO(SA_FSM_PARTIAL, SA_FSM_PASS),
		[SA_FSM_EV_LEG_OK]        = TO(SA_FSM_COMPLETE, SA_FSM_PASS),
		/* Retryable first leg: still no context; the caller calls again. */
		[SA_FSM_EV_LEG_RETRY]     = TO(SA_FSM_NEW, SA_FSM_PASS),
		/* Failed first leg: no context, phNewContext untouched. */
		[SA_FSM_EV_LEG_FAILED]    = TO(SA_FSM_NEW, SA_FSM_PASS),
		[SA_FSM_EV_REFUSED]       = TO(SA_FSM_NEW, SA_FSM_PASS),
		/*
		 * DELETE, TEARDOWN_DONE, ADMIT_QUERY, ADMIT_DELETE name an
		 * existing handle, and no handle is ever in NEW: a zero, stale
		 * or forged handle fails at the handle table
		 * (SEC_E_INVALID_HANDLE) before the fsm is asked.
		 */
		[SA_FSM_EV_DELETE]        = IMPOSSIBLE,
		[SA_FSM_EV_TEARDOWN_DONE] = IMPOSSIBLE,
		/*
		 * Decided: a first leg may always start.  Harmless, and lets the
		 * engine ask ADMIT_LEG before every leg, first or not.
		 */
		[SA_FSM_EV_ADMIT_LEG]     = TO(SA_FSM_NEW, SA_ST_OK),
		[SA_FSM_EV_ADMIT_QUERY]   = IMPOSSIBLE,
		[SA_FSM_EV_ADMIT_DELETE]  = IMPOSSIBLE,
	},
	[SA_FSM_PARTIAL] = {
		[SA_FSM_EV_LEG_CONTINUE]  = TO(SA_FSM_PARTIAL, SA_FSM_PASS),
		[SA_FSM_EV_LEG_OK]        = TO(SA_FSM_COMPLETE, SA_FSM_PASS),
		[SA_FSM_EV_LEG_RETRY]     = TO(SA_FSM_PARTIAL, SA_FSM_PASS),
		[SA_FSM_EV_LEG_FAILED]    = TO(SA_FSM_REJECTED, SA_FSM_PASS),
		[SA_FSM_EV_REFUSED]       = TO(SA_FSM_PARTIAL, SA_FSM_PASS),
		[SA_FSM_EV_DELETE]        = TO(SA_FSM_DELETING, SA_ST_OK),
		/*
		 * TEARDOWN_DONE on a live state: teardown runs only in the
		 * delete job, which exists only after DELETE moved the context
		 * to DELETING, and nothing leaves DELETING but teardown.
		 */
		[SA_FSM_EV_TEARDOWN_DONE] = IMPOSSIBLE,
		[SA_FSM_EV_ADMIT_LEG]     = TO(SA_FSM_PARTIAL, SA_ST_OK),
		/*
		 * Decided: queries are admitted during the handshake.  Windows
		 * answers some attributes on a partial context (Negotiate's
		 * SECPKG_ATTR_NEGOTIATION_INFO exists to be asked mid-handshake);
		 * which attribute is ready is the package's knowledge, not the
		 * fsm's, so the package answers per attribute.
		 */
		[SA_FSM_EV_ADMIT_QUERY]   = TO(SA_FSM_PARTIAL, SA_ST_OK),
		[SA_FSM_EV_ADMIT_DELETE]  = TO(SA_FSM_PARTIAL, SA_ST_OK),
	},
	/*
	 * COMPLETE: a leg is refused (no re-authentication, a documented
	 * deviation).  The engine asks ADMIT_LEG first, so a leg result never
	 * arrives here in practice; the LEG_* cells still follow the rule "a leg
	 * on COMPLETE is refused and changes nothing" rather than IMPOSSIBLE.
	 */
	[SA_FSM_COMPLETE] = {
		[SA_FSM_EV_LEG_CONTINUE]  = TO(SA_FSM_COMPLETE, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_LEG_OK]        = TO(SA_FSM_COMPLETE, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_LEG_RETRY]     = TO(SA_FSM_COMPLETE, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_LEG_FAILED]    = TO(SA_FSM_COMPLETE, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_REFUSED]       = TO(SA_FSM_COMPLETE, SA_FSM_PASS),
		[SA_FSM_EV_DELETE]        = TO(SA_FSM_DELETING, SA_ST_OK),
		[SA_FSM_EV_TEARDOWN_DONE] = IMPOSSIBLE, /* as on PARTIAL */
		[SA_FSM_EV_ADMIT_LEG]     = TO(SA_FSM_COMPLETE, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_ADMIT_QUERY]   = TO(SA_FSM_COMPLETE, SA_ST_OK),
		[SA_FSM_EV_ADMIT_DELETE]  = TO(SA_FSM_COMPLETE, SA_ST_OK),
	},
	/* REJECTED: like COMPLETE for legs; the context waits for its delete. */
	[SA_FSM_REJECTED] = {
		[SA_FSM_EV_LEG_CONTINUE]  = TO(SA_FSM_REJECTED, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_LEG_OK]        = TO(SA_FSM_REJECTED, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_LEG_RETRY]     = TO(SA_FSM_REJECTED, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_LEG_FAILED]    = TO(SA_FSM_REJECTED, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_REFUSED]       = TO(SA_FSM_REJECTED, SA_FSM_PASS),
		[SA_FSM_EV_DELETE]        = TO(SA_FSM_DELETING, SA_ST_OK),
		[SA_FSM_EV_TEARDOWN_DONE] = IMPOSSIBLE, /* as on PARTIAL */
		[SA_FSM_EV_ADMIT_LEG]     = TO(SA_FSM_REJECTED, SA_ST_OUT_OF_SEQUENCE),
		/*
		 * Decided: no query on a rejected context.  The handshake is
		 * over and failed, so no attribute describes an established
		 * session; the same status as a leg here, and the only call
		 * left to make is delete.
		 */
		[SA_FSM_EV_ADMIT_QUERY]   = TO(SA_FSM_REJECTED, SA_ST_OUT_OF_SEQUENCE),
		[SA_FSM_EV_ADMIT_DELETE]  = TO(SA_FSM_REJECTED, SA_ST_OK),
	},
	/*
	 * DELETING: the one leg already running when the delete was queued
	 * finishes and reports what the package said; everything else is
	 * refused with SEC_E_INVALID_HANDLE, a second delete included.
	 */
	[SA_FSM_DELETING] = {
		[SA_FSM_EV_LEG_CONTINUE]  = TO(SA_FSM_DELETING, SA_FSM_PASS),
		[SA_FSM_EV_LEG_OK]        = TO(SA_FSM_DELETING, SA_FSM_PASS),
		[SA_FSM_EV_LEG_RETRY]     = TO(SA_FSM_DELETING, SA_FSM_PASS),
		[SA_FSM_EV_LEG_FAILED]    = TO(SA_FSM_DELETING, SA_FSM_PASS),
		[SA_FSM_EV_REFUSED]       = TO(SA_FSM_DELETING, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_DELETE]        = TO(SA_FSM_DELETING, SA_ST_INVALID_HANDLE),
		/*
		 * Decided: the delete completes SEC_E_OK whatever the package's
		 * teardown said; the handle is gone either way and a delete is
		 * documented to return only SEC_E_OK or SEC_E_INVALID_HANDLE.
		 */
		[SA_FSM_EV_TEARDOWN_DONE] = TO(SA_FSM_INVALID, SA_ST_OK),
		[SA_FSM_EV_ADMIT_LEG]     = TO(SA_FSM_DELETING, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_ADMIT_QUERY]   = TO(SA_FSM_DELETING, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_ADMIT_DELETE]  = TO(SA_FSM_DELETING, SA_ST_INVALID_HANDLE),
	},
	/*
	 * INVALID: stale.  Everything, a delete included (Windows' sync delete
	 * documents SEC_E_OK here; a documented deviation), is
	 * SEC_E_INVALID_HANDLE.  Legs and a second teardown cannot reach an
	 * INVALID context either, but the architecture's rule "INVALID x
	 * anything" is kept rather than IMPOSSIBLE, so INVALID stays absorbing.
	 */
	[SA_FSM_INVALID] = {
		[SA_FSM_EV_LEG_CONTINUE]  = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_LEG_OK]        = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_LEG_RETRY]     = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_LEG_FAILED]    = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_REFUSED]       = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_DELETE]        = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_TEARDOWN_DONE] = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_ADMIT_LEG]     = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_ADMIT_QUERY]   = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
		[SA_FSM_EV_ADMIT_DELETE]  = TO(SA_FSM_INVALID, SA_ST_INVALID_HANDLE),
	},
};

struct sa_fsm_result sa_fsm_next(enum sa_fsm_state state, enum sa_fsm_event ev)
{
	static const struct sa_fsm_result out_of_range = IMPOSSIBLE;

	/* Casts to unsigned: the enums' underlying type is the compiler's. */
	if ((unsigned)state < SA_FSM_NEW || (unsigned)state > SA_FSM_INVALID ||
	    (unsigned)ev >= SA_FSM_NEVENTS)
		return out_of_range;
	return sa_fsm_table[state][ev];
}
