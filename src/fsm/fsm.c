/*
 * src/fsm/fsm.c - applying the lifecycle table: the step function, the
 * classifier from a package's status to a leg event, and the names.
 *
 * What it is not: the table (fsm_table.c) or its printer (fsm_print.c).
 * Pure code: no lock, no allocation, no I/O; the tracer is the caller's.
 * Invariants: above the table in fsm_table.c; sa_fsm_step() asserts that no
 * IMPOSSIBLE cell is ever applied.
 */
#include <assert.h>
#include <stddef.h>

#include <sspiasync/fsm.h>

_Static_assert(SA_FSM_EV_LEG_CONTINUE == 0 && SA_FSM_EV_LEG_OK == 1 && SA_FSM_EV_LEG_RETRY == 2 &&
		       SA_FSM_EV_LEG_FAILED == 3,
	       "sa_fsm_step() relies on the LEG_* events being the first four");

enum sa_fsm_event sa_fsm_classify(int32_t status)
{
	switch (status) {
	case SA_ST_CONTINUE_NEEDED:
	case SA_ST_COMPLETE_AND_CONTINUE:
		return SA_FSM_EV_LEG_CONTINUE;
	case SA_ST_OK:
	case SA_ST_COMPLETE_NEEDED:
		return SA_FSM_EV_LEG_OK;
	case SA_ST_INCOMPLETE_MESSAGE:
	case SA_ST_BUFFER_TOO_SMALL:
	case SA_ST_INSUFFICIENT_MEMORY:
		return SA_FSM_EV_LEG_RETRY;
	}
	/* Any other status ends the handshake, other SEC_I_* codes included
	 * (SEC_I_INCOMPLETE_CREDENTIALS, ...): no package we run returns them. */
	return SA_FSM_EV_LEG_FAILED;
}

int32_t sa_fsm_step(const struct sa_fsm_tracer *tracer, uint64_t id, enum sa_fsm_state *state,
		    enum sa_fsm_event ev, int32_t leg_status)
{
	enum sa_fsm_state from, to;
	struct sa_fsm_result r;
	int32_t status;

	assert(state != NULL);
	/* The LEG_* events are the first four (LEG_CONTINUE .. LEG_FAILED). */
	assert((unsigned)ev > SA_FSM_EV_LEG_FAILED || sa_fsm_classify(leg_status) == ev);
	assert(ev != SA_FSM_EV_REFUSED || leg_status < 0);

	from = *state;
	r = sa_fsm_next(from, ev);
	if (r.status == SA_FSM_IMPOSSIBLE) {
		assert(!"sa_fsm_step: IMPOSSIBLE (state, event) pair");
		to = from;
		status = SA_ST_INTERNAL_ERROR;
	} else {
		to = (enum sa_fsm_state)r.next;
		status = r.status == SA_FSM_PASS ? leg_status : r.status;
	}
	*state = to;
	if (tracer != NULL && tracer->fn != NULL)
		tracer->fn(id, from, ev, to, status, tracer->arg);
	return status;
}

const char *sa_fsm_state_name(enum sa_fsm_state state)
{
	switch (state) {
	case SA_FSM_NEW: return "NEW";
	case SA_FSM_PARTIAL: return "PARTIAL";
	case SA_FSM_COMPLETE: return "COMPLETE";
	case SA_FSM_REJECTED: return "REJECTED";
	case SA_FSM_DELETING: return "DELETING";
	case SA_FSM_INVALID: return "INVALID";
	}
	return NULL;
}

const char *sa_fsm_event_name(enum sa_fsm_event ev)
{
	switch (ev) {
	case SA_FSM_EV_LEG_CONTINUE: return "LEG_CONTINUE";
	case SA_FSM_EV_LEG_OK: return "LEG_OK";
	case SA_FSM_EV_LEG_RETRY: return "LEG_RETRY";
	case SA_FSM_EV_LEG_FAILED: return "LEG_FAILED";
	case SA_FSM_EV_REFUSED: return "REFUSED";
	case SA_FSM_EV_DELETE: return "DELETE";
	case SA_FSM_EV_TEARDOWN_DONE: return "TEARDOWN_DONE";
	case SA_FSM_EV_ADMIT_LEG: return "ADMIT_LEG";
	case SA_FSM_EV_ADMIT_QUERY: return "ADMIT_QUERY";
	case SA_FSM_EV_ADMIT_DELETE: return "ADMIT_DELETE";
	case SA_FSM_NEVENTS: break;
	}
	return NULL;
}

const char *sa_fsm_status_name(int32_t status)
{
	switch (status) {
	case SA_ST_OK: return "SEC_E_OK";
	case SA_ST_CONTINUE_NEEDED: return "SEC_I_CONTINUE_NEEDED";
	case SA_ST_COMPLETE_NEEDED: return "SEC_I_COMPLETE_NEEDED";
	case SA_ST_COMPLETE_AND_CONTINUE: return "SEC_I_COMPLETE_AND_CONTINUE";
	case SA_ST_INSUFFICIENT_MEMORY: return "SEC_E_INSUFFICIENT_MEMORY";
	case SA_ST_INVALID_HANDLE: return "SEC_E_INVALID_HANDLE";
	case SA_ST_INTERNAL_ERROR: return "SEC_E_INTERNAL_ERROR";
	case SA_ST_INVALID_TOKEN: return "SEC_E_INVALID_TOKEN";
	case SA_ST_LOGON_DENIED: return "SEC_E_LOGON_DENIED";
	case SA_ST_OUT_OF_SEQUENCE: return "SEC_E_OUT_OF_SEQUENCE";
	case SA_ST_INCOMPLETE_MESSAGE: return "SEC_E_INCOMPLETE_MESSAGE";
	case SA_ST_BUFFER_TOO_SMALL: return "SEC_E_BUFFER_TOO_SMALL";
	case SA_FSM_PASS: return "PASS";
	case SA_FSM_IMPOSSIBLE: return "IMPOSSIBLE";
	}
	return NULL;
}
