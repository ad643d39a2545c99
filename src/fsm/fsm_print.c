/*
 * src/fsm/fsm_print.c - sa_fsm_write_table(): the lifecycle table as markdown.
 *
 * The module's only I/O, kept apart so that fsm.c and fsm_table.c stay pure.
 * It reads the table through sa_fsm_next() only, so README.md (which holds
 * this output, checked by test/readme_fsm.sh) shows exactly what the code
 * does.  What it is not: a parser; nothing reads the output back.
 */
#include <sspiasync/fsm.h>

/* The text of one cell: "PARTIAL, leg's status", "impossible", ... */
static int cell_write(FILE *f, struct sa_fsm_result r)
{
	const char *next, *status;

	if (r.status == SA_FSM_IMPOSSIBLE)
		return fprintf(f, " impossible |");
	next = sa_fsm_state_name((enum sa_fsm_state)r.next);
	status = r.status == SA_FSM_PASS ? "leg's status" : sa_fsm_status_name(r.status);
	if (next == NULL || status == NULL) /* an undecided or unknown cell: show it raw */
		return fprintf(f, " ? (%u, 0x%08lx) |", (unsigned)r.next,
			       (unsigned long)(uint32_t)r.status);
	return fprintf(f, " %s, %s |", next, status);
}

int sa_fsm_write_table(FILE *f)
{
	int s, e, bad = 0;

	if (f == NULL)
		return -1;
	bad |= fprintf(f, "Rows: the event; columns: the state before it; each cell: the state "
			  "after it, then the status reported (\"leg's status\": the leg's own "
			  "status passed through; \"impossible\": never produced, asserted).\n\n") < 0;
	bad |= fprintf(f, "| event \\ state |") < 0;
	for (s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++)
		bad |= fprintf(f, " %s |", sa_fsm_state_name((enum sa_fsm_state)s)) < 0;
	bad |= fprintf(f, "\n| --- |") < 0;
	for (s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++)
		bad |= fprintf(f, " --- |") < 0;
	bad |= fprintf(f, "\n") < 0;
	for (e = 0; e < SA_FSM_NEVENTS; e++) {
		bad |= fprintf(f, "| %s |", sa_fsm_event_name((enum sa_fsm_event)e)) < 0;
		for (s = SA_FSM_NEW; s <= SA_FSM_INVALID; s++)
			bad |= cell_write(f, sa_fsm_next((enum sa_fsm_state)s,
							 (enum sa_fsm_event)e)) < 0;
		bad |= fprintf(f, "\n") < 0;
	}
	bad |= fprintf(f, "\n") < 0;
	return bad ? -1 : 0;
}
