/*
 * sspiasync/fsm.h - the lifecycle state machine of one security context.
 *
 * What it is: one constant table that decides, for every (state, event)
 * pair, the next state and the status to report, plus a pure lookup, a step
 * function that applies a cell and reports it to a trace hook, a classifier
 * from a package's status to a leg event, and names for printing.
 * What it is not: it holds no lock, allocates nothing and does no I/O (except
 * sa_fsm_write_table(), which writes to the stream it is given); it knows
 * nothing of SSPI types.  Statuses are plain int32_t codes with Microsoft's
 * numeric values under this module's own names (SA_ST_*); src/sspi/ asserts
 * that each equals its SEC_* twin.
 * Invariants: the numbered list above the table in src/fsm/fsm_table.c, each
 * naming its test in test/check_fsm.c.  README.md shows the printed table.
 */
#ifndef SSPIASYNC_FSM_H
#define SSPIASYNC_FSM_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * States.  0 is never a state, so zeroed memory is never a valid state.
 * NEW is the pre-state of a first leg ("no context yet"): it is never stored
 * in a handle, and no event leads back to it once a context exists.
 */
enum sa_fsm_state {
	SA_FSM_NEW = 1,   /* no context yet: the first ISC/ASC leg starts here */
	SA_FSM_PARTIAL,   /* handshake under way */
	SA_FSM_COMPLETE,  /* established */
	SA_FSM_REJECTED,  /* a leg failed; the context exists and must be deleted */
	SA_FSM_DELETING,  /* delete accepted; no new call admitted */
	SA_FSM_INVALID,   /* terminal: the handle is stale */
};

/* Number of states, which is also the highest state's value (states start at
 * 1): an array indexed by state has SA_FSM_NSTATES + 1 entries, index 0 unused. */
#define SA_FSM_NSTATES 6

/* The next state of an IMPOSSIBLE cell: not a state (never 0, never stored). */
#define SA_FSM_NONE 0xffu

/*
 * Events.  The four LEG_* events are a leg's result, as classified by
 * sa_fsm_classify(); the three ADMIT_* events ask whether a call may start
 * now and never change the state.
 */
enum sa_fsm_event {
	SA_FSM_EV_LEG_CONTINUE,   /* leg result: SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_AND_CONTINUE */
	SA_FSM_EV_LEG_OK,         /* leg result: SEC_E_OK, SEC_I_COMPLETE_NEEDED */
	SA_FSM_EV_LEG_RETRY,      /* leg result: INCOMPLETE_MESSAGE, BUFFER_TOO_SMALL, INSUFFICIENT_MEMORY */
	SA_FSM_EV_LEG_FAILED,     /* leg result: any other status; the handshake is over */
	SA_FSM_EV_REFUSED,        /* a call refused before the package ran (bad argument, no memory) */
	SA_FSM_EV_DELETE,         /* delete requested (sync or async, when it is queued) */
	SA_FSM_EV_TEARDOWN_DONE,  /* the delete job finished the package teardown */
	SA_FSM_EV_ADMIT_LEG,      /* may a leg start now? */
	SA_FSM_EV_ADMIT_QUERY,    /* may an attribute query start now? */
	SA_FSM_EV_ADMIT_DELETE,   /* would a delete be accepted now? (DELETE without its effect) */
	SA_FSM_NEVENTS
};

/*
 * Statuses: Microsoft's SECURITY_STATUS values under this module's names.
 * Errors are negative.  These are the ones the table and the classifier use.
 */
#define SA_ST_OK                    ((int32_t)0x00000000) /* SEC_E_OK */
#define SA_ST_CONTINUE_NEEDED       ((int32_t)0x00090312) /* SEC_I_CONTINUE_NEEDED */
#define SA_ST_COMPLETE_NEEDED       ((int32_t)0x00090313) /* SEC_I_COMPLETE_NEEDED */
#define SA_ST_COMPLETE_AND_CONTINUE ((int32_t)0x00090314) /* SEC_I_COMPLETE_AND_CONTINUE */
#define SA_ST_INSUFFICIENT_MEMORY   ((int32_t)0x80090300) /* SEC_E_INSUFFICIENT_MEMORY */
#define SA_ST_INVALID_HANDLE        ((int32_t)0x80090301) /* SEC_E_INVALID_HANDLE */
#define SA_ST_INTERNAL_ERROR        ((int32_t)0x80090304) /* SEC_E_INTERNAL_ERROR */
#define SA_ST_INVALID_TOKEN         ((int32_t)0x80090308) /* SEC_E_INVALID_TOKEN */
#define SA_ST_LOGON_DENIED          ((int32_t)0x8009030C) /* SEC_E_LOGON_DENIED */
#define SA_ST_OUT_OF_SEQUENCE       ((int32_t)0x80090310) /* SEC_E_OUT_OF_SEQUENCE */
#define SA_ST_INCOMPLETE_MESSAGE    ((int32_t)0x80090318) /* SEC_E_INCOMPLETE_MESSAGE */
#define SA_ST_BUFFER_TOO_SMALL      ((int32_t)0x80090321) /* SEC_E_BUFFER_TOO_SMALL */

/*
 * Sentinels that may stand in a cell's status; sa_fsm_step() never returns
 * them.  Bit 29 (the HRESULT "customer" bit) is set, so neither can equal a
 * status of Microsoft's.
 */
#define SA_FSM_PASS       ((int32_t)0xA0FF0001) /* report the leg's own status */
#define SA_FSM_IMPOSSIBLE ((int32_t)0xA0FF0002) /* a pair the engine never produces */

/*
 * One cell of the table.  next is an enum sa_fsm_state, or SA_FSM_NONE in an
 * IMPOSSIBLE cell; it is never 0 in a decided cell.  status is a status to
 * report, SA_FSM_PASS or SA_FSM_IMPOSSIBLE.
 */
struct sa_fsm_result {
	uint8_t next;
	int32_t status;
};

/*
 * The trace hook.  Called once per sa_fsm_step(), also when the state does
 * not change (a refusal, an admission), with the caller's context id, the
 * state before, the event, the state after and the status reported (PASS
 * already resolved).  arg is the tracer's arg.
 */
typedef void (*sa_fsm_trace_fn)(uint64_t id, enum sa_fsm_state from, enum sa_fsm_event ev,
				enum sa_fsm_state to, int32_t status, void *arg);

struct sa_fsm_tracer {
	sa_fsm_trace_fn fn; /* may be NULL: no tracing */
	void *arg;          /* passed to fn */
};

/*
 * sa_fsm_next() - The cell for (@state, @ev), unapplied.
 * Returns the table's cell; for a @state or @ev out of range (0, garbage)
 * returns an IMPOSSIBLE cell {SA_FSM_NONE, SA_FSM_IMPOSSIBLE} and reads
 * nothing out of bounds.  A decided cell never has next == 0.
 * Context: any thread; pure; never fails.
 */
struct sa_fsm_result sa_fsm_next(enum sa_fsm_state state, enum sa_fsm_event ev);

/*
 * sa_fsm_step() - Apply the cell for (*@state, @ev) and report it.
 * Sets *@state to the cell's next state and returns the status to report:
 * @leg_status where the cell says PASS, else the cell's status.  Then calls
 * @tracer->fn (if @tracer and its fn are non-NULL) once with (@id, old state,
 * @ev, new state, returned status).
 * @leg_status: the package's status for a LEG_* event (it must classify to
 * @ev, asserted); the refusal's error for SA_FSM_EV_REFUSED (negative,
 * asserted); ignored for the other events (pass SA_ST_OK).
 * An IMPOSSIBLE cell (also an out-of-range *@state or @ev) is an engine bug:
 * asserted; with NDEBUG, *@state is left alone, the tracer sees a step to the
 * same state, and SA_ST_INTERNAL_ERROR is returned.
 * Context: any thread; takes no lock, allocates nothing, does no I/O.  The
 * tracer runs inside this call: a caller that steps under its own lock passes
 * a tracer that only records, and forwards the records after unlocking.
 * @id is the caller's, passed through to the tracer unchanged.
 */
int32_t sa_fsm_step(const struct sa_fsm_tracer *tracer, uint64_t id, enum sa_fsm_state *state,
		    enum sa_fsm_event ev, int32_t leg_status);

/*
 * sa_fsm_classify() - The leg event for a package's status.
 * SA_FSM_EV_LEG_CONTINUE for SEC_I_CONTINUE_NEEDED and
 * SEC_I_COMPLETE_AND_CONTINUE; SA_FSM_EV_LEG_OK for SEC_E_OK and
 * SEC_I_COMPLETE_NEEDED; SA_FSM_EV_LEG_RETRY for SEC_E_INCOMPLETE_MESSAGE,
 * SEC_E_BUFFER_TOO_SMALL and SEC_E_INSUFFICIENT_MEMORY; SA_FSM_EV_LEG_FAILED
 * for any other value, success codes included.
 * Context: any thread; pure; never fails.
 */
enum sa_fsm_event sa_fsm_classify(int32_t status);

/*
 * sa_fsm_state_name() - "NEW", "PARTIAL", ...; NULL for a value that is not
 * a state.  Context: any thread; the string is static.
 */
const char *sa_fsm_state_name(enum sa_fsm_state state);

/*
 * sa_fsm_event_name() - "LEG_CONTINUE", ..., "ADMIT_DELETE"; NULL for a value
 * that is not an event.  Context: any thread; the string is static.
 */
const char *sa_fsm_event_name(enum sa_fsm_event ev);

/*
 * sa_fsm_status_name() - Microsoft's name of each SA_ST_* status above
 * ("SEC_E_INVALID_HANDLE"), "PASS" and "IMPOSSIBLE" for the sentinels; NULL
 * for any other value, so the caller can print the number instead.
 * Context: any thread; the string is static.
 */
const char *sa_fsm_status_name(int32_t status);

/*
 * sa_fsm_write_table() - Print the whole table to @f as markdown.
 * A one-line legend, a blank line, the table (a row per event, a column per
 * state before it, each cell "next, status"; PASS shown as "leg's status",
 * IMPOSSIBLE as "impossible") and a blank line.  README.md holds this output verbatim.
 * Returns 0; or a negative value if @f is NULL or a write failed (what has
 * been written stays written).
 * Context: any thread; the module's only I/O.
 */
int sa_fsm_write_table(FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_FSM_H */
