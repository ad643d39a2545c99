/*
 * examples/demo.c - `make demo`: what the handle table promises, shown.
 *
 * Until the async SSPI layer exists, the demo exercises the foundation the
 * way the SSPI layer will: a table of "credentials" and a table of
 * "security contexts", handles that are values (never pointers), and every
 * kind of misuse a ported program commits: use after delete, double delete,
 * a credential passed as a context, a forged, zeroed or bit-flipped handle.
 * It prints what happened and exits 0 only if every misuse was rejected and
 * nothing is left alive.
 */
#include <sspiasync/handles.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

enum { KIND_CRED = 1, KIND_CTXT = 2, NCTX = 1000 };

struct demo_obj {
	const char *what;
	int id;
};

static int freed;

static void demo_dtor(void *obj, void *arg)
{
	(void)arg;
	freed++;
	free(obj);
}

static struct sa_htable *make_table(uint8_t kind)
{
	struct sa_htable_config cfg = {.kind = kind, .form = SA_HTABLE_TWO_WORD, .dtor = demo_dtor};
	struct sa_htable *t;
	if (sa_htable_create(&cfg, &t) != SA_OK) {
		fprintf(stderr, "demo: cannot create a table\n");
		exit(1);
	}
	return t;
}

static int add(struct sa_htable *t, const char *what, int id, struct sa_handle *h)
{
	struct demo_obj *o = malloc(sizeof *o);
	if (o == NULL)
		return SA_ENOMEM;
	o->what = what;
	o->id = id;
	int rc = sa_htable_insert(t, o, h);
	if (rc != SA_OK)
		free(o);
	return rc;
}

static int rejected, expected_rejections;

/* One misuse: the call must answer SA_EBADHANDLE. */
static void misuse(struct sa_htable *t, const char *label, struct sa_handle h)
{
	void *obj;
	int rc = sa_htable_acquire(t, h, &obj);
	expected_rejections++;
	if (rc == SA_EBADHANDLE)
		rejected++;
	else if (rc == SA_OK)
		sa_htable_release(t, h);
	printf("  %-44s {%016" PRIxPTR ", %016" PRIxPTR "} -> %s\n", label, h.lower, h.upper,
	       sa_strerror(rc));
}

int main(void)
{
	struct sa_htable *creds = make_table(KIND_CRED), *ctxts = make_table(KIND_CTXT);
	struct sa_handle cred, ctx[NCTX];
	int ok = add(creds, "credential", 0, &cred) == SA_OK;
	for (int i = 0; ok && i < NCTX; i++)
		ok = add(ctxts, "security context", i, &ctx[i]) == SA_OK;
	if (!ok) {
		fprintf(stderr, "demo: insert failed\n");
		return 1;
	}
	printf("sspiasync handle-table demo: 1 credential and %d contexts inserted\n", NCTX);
	printf("  a handle is a value, not a pointer: context 0 = {%016" PRIxPTR ", %016" PRIxPTR "}\n",
	       ctx[0].lower, ctx[0].upper);

	/* A reference outlives removal: the object stays until it is released. */
	void *obj;
	if (sa_htable_acquire(ctxts, ctx[1], &obj) != SA_OK)
		return 1;
	int removed = sa_htable_remove(ctxts, ctx[1]) == SA_OK;
	printf("  context 1 removed (%s) while referenced: object still readable (\"%s\" %d), freed=%d\n",
	       removed ? "ok" : "FAILED", ((struct demo_obj *)obj)->what, ((struct demo_obj *)obj)->id,
	       freed);
	sa_htable_release(ctxts, ctx[1]);
	printf("  last reference released: freed=%d\n", freed);

	/* Every misuse a ported program commits, each rejected. */
	printf("misuse, every one rejected without touching memory:\n");
	misuse(ctxts, "use after delete (context 1)", ctx[1]);
	int twice = sa_htable_remove(ctxts, ctx[1]);
	expected_rejections++;
	rejected += twice == SA_EBADHANDLE;
	printf("  %-44s -> %s\n", "double delete (context 1)", sa_strerror(twice));
	misuse(ctxts, "credential passed as a context", cred);
	misuse(creds, "context passed as a credential", ctx[2]);
	misuse(ctxts, "zeroed handle", (struct sa_handle){0, 0});
	misuse(ctxts, "SecInvalidateHandle value", (struct sa_handle){UINTPTR_MAX, UINTPTR_MAX});
	misuse(ctxts, "a pointer cast to a handle", (struct sa_handle){(uintptr_t)&cred, 0});
	struct sa_handle flipped = ctx[3];
	flipped.upper ^= (uintptr_t)1 << 40;
	misuse(ctxts, "context 3 with one bit flipped", flipped);
	struct sa_handle neighbour = ctx[4];
	neighbour.lower += 1;
	misuse(ctxts, "context 4 with slot+1 (a live neighbour)", neighbour);

	/* Reuse: the slot of context 1 comes back with a new generation. */
	struct sa_handle reborn;
	for (int i = 0; i < 2000; i++) { /* cycle the FIFO until slot 1 is reused */
		if (add(ctxts, "security context", NCTX + i, &reborn) != SA_OK)
			return 1;
		if ((uint32_t)reborn.lower == (uint32_t)ctx[1].lower)
			break;
		if (sa_htable_remove(ctxts, reborn) != SA_OK)
			return 1;
	}
	printf("  slot of context 1 reused: new handle {%016" PRIxPTR ", %016" PRIxPTR "}\n",
	       reborn.lower, reborn.upper);
	misuse(ctxts, "old handle of context 1 after slot reuse", ctx[1]);

	/* Tear down: delete everything, then the tables. */
	int del_ok = sa_htable_remove(ctxts, reborn) == SA_OK && sa_htable_remove(creds, cred) == SA_OK;
	for (int i = 0; i < NCTX; i++)
		if (i != 1)
			del_ok &= sa_htable_remove(ctxts, ctx[i]) == SA_OK;
	uint32_t live = sa_htable_live_count(ctxts) + sa_htable_live_count(creds);
	del_ok &= sa_htable_destroy(ctxts) == SA_OK && sa_htable_destroy(creds) == SA_OK;

	printf("summary: misuses rejected %d of %d; objects freed %d; live at exit %" PRIu32 "\n",
	       rejected, expected_rejections, freed, live);
	int pass = removed && del_ok && rejected == expected_rejections && live == 0;
	printf("demo: %s\n", pass ? "ok" : "FAILED");
	return pass ? 0 : 1;
}
