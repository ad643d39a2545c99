/*
 * tools/fsm_table.c - print the lifecycle table (markdown) to stdout.
 *
 * The block between the fsm-table markers in README.md is this program's
 * output; test/readme_fsm.sh fails when they differ.  Exit status 0, or 1 if
 * writing failed.
 */
#include <stdio.h>

#include <sspiasync/fsm.h>

int main(void)
{
	if (sa_fsm_write_table(stdout) != 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "fsm_table: write failed\n");
		return 1;
	}
	return 0;
}
