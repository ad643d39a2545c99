/* test/consumer/prog.c - an outside program built against the installed
 * library through pkg-config (test/consumer.sh): it must compile with
 * -std=c11 -Wall -Werror, link, and see the handle table work. */
#include <sspiasync/handles.h>

#include <stdio.h>

int main(void)
{
	struct sa_htable_config cfg = {.kind = 1, .form = SA_HTABLE_TWO_WORD};
	struct sa_htable *t;
	int x = 42;
	struct sa_handle h;
	void *obj = NULL;
	if (sa_htable_create(&cfg, &t) != SA_OK || sa_htable_insert(t, &x, &h) != SA_OK ||
	    sa_htable_acquire(t, h, &obj) != SA_OK || obj != &x)
		return 1;
	sa_htable_release(t, h);
	if (sa_htable_remove(t, h) != SA_OK || sa_htable_acquire(t, h, &obj) != SA_EBADHANDLE ||
	    sa_htable_destroy(t) != SA_OK)
		return 1;
	puts("consumer: ok");
	return 0;
}
