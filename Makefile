# sspiasync - the one GNU Makefile (no autotools, no cmake).
#
# Build output goes under $(B) (default build/): objects mirror the sources,
# the library is $(B)/libsspiasync.a.  Variants (asan, tsan, clang) re-run this
# Makefile with another B and extra flags, so every variant uses the same rules.
# User CC, CFLAGS, CPPFLAGS and LDFLAGS are added to, never overwritten.

.SUFFIXES:
.DELETE_ON_ERROR:

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
VERSION := 0.1.0

B ?= build
OPT ?= -O2 -g
SAN ?=
WARN := -std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# DEFS: the library's own build switches for a variant (SA_DEBUG_LOCKS,
# SA_HELGRIND), kept apart from the user's CPPFLAGS.
DEFS ?=
ALL_CPPFLAGS = -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L $(DEFS) $(CPPFLAGS)
ALL_CFLAGS = $(WARN) $(OPT) $(SAN) -pthread $(CFLAGS)
ALL_LDFLAGS = $(SAN) -pthread $(LDFLAGS)

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
# The library's own dependency: nettle (the NTLM package's MD4, MD5, HMAC-MD5, RC4).
LIB_LIBS := $(shell pkg-config --libs nettle 2>/dev/null || echo -lnettle)
# The optional package, built when pkg-config finds what it needs (or
# forced off with HAVE_KRB5= on the command line):
#   "Kerberos"  MIT krb5's GSSAPI (libkrb5-dev: pkg-config krb5-gssapi)
# "Negotiate" (SPNEGO, its own DER codec) is always built: NTLM inside it
# always, Kerberos when "Kerberos" is.  SA_HAVE_NEGOTIATE stays defined for
# the #ifdefs that predate that.
# libtasn1 (libtasn1-6-dev) is a test and fuzz dependency only: the SPNEGO
# oracle test/spnego_tasn1.c (SA_HAVE_TASN1) is built when it is found
# (or left out with HAVE_TASN1= on the command line).
HAVE_KRB5 ?= $(shell pkg-config --exists krb5-gssapi 2>/dev/null && echo 1)
HAVE_TASN1 ?= $(shell pkg-config --exists libtasn1 2>/dev/null && echo 1)
CPPFLAGS += -DSA_HAVE_NEGOTIATE
TEST_LIBS :=
ifeq ($(HAVE_TASN1),1)
TEST_CPPFLAGS := -DSA_HAVE_TASN1 $(shell pkg-config --cflags libtasn1)
TEST_LIBS += $(shell pkg-config --libs libtasn1)
endif
PKG_SRCS_OFF :=
ifeq ($(HAVE_KRB5),1)
CPPFLAGS += -DSA_HAVE_KRB5 $(shell pkg-config --cflags krb5-gssapi)
LIB_LIBS += $(shell pkg-config --libs krb5-gssapi)
else
PKG_SRCS_OFF += $(wildcard src/packages/krb5/*.c)
endif

# Runs of the suites: every run is bounded, so a hang fails fast.
TEST_TIMEOUT ?= 600
RUN_BOUNDED = timeout -k 10 $(TEST_TIMEOUT)
# test/valgrind.supp forgives MIT krb5's own one-time state only (each entry says why).
VALGRIND_MEMCHECK = valgrind -q --fair-sched=yes --child-silent-after-fork=yes --error-exitcode=1 --leak-check=full --show-leak-kinds=all \
	--errors-for-leak-kinds=all --num-callers=40 --suppressions=test/valgrind.supp

LIB_SRCS := $(filter-out $(PKG_SRCS_OFF),$(wildcard src/*/*.c src/packages/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LIB := $(B)/libsspiasync.a

TEST_SRCS := $(wildcard test/check_*.c)
TESTS := $(TEST_SRCS:test/%.c=$(B)/test/%)
# test/spnego_asn1_tab.c is #included by test/spnego_tasn1.c (libtasn1 only).
TESTLIB_SRCS := $(filter-out $(TEST_SRCS) test/oomcheck.c test/soak.c test/spnego_asn1_tab.c,$(wildcard test/*.c))
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(B)/%.o)

BENCH_NAMES := handles async ntlm
BENCH_OBJS := $(B)/bench/handles.o $(B)/bench/async.o $(B)/bench/ntlm.o $(B)/bench/baseline.o
BENCH_BINS := $(BENCH_NAMES:%=$(B)/bench/%)
# libuv: a bench-only dependency (bench/async measures against it), asked
# for only when a benchmark is built: make, make check never need it.
UV_CFLAGS = $(shell pkg-config --cflags libuv 2>/dev/null)
UV_LIBS = $(shell pkg-config --libs libuv 2>/dev/null)
# The NTLM baselines (bench/ntlm.sh): WinPR 2's NTLM (libwinpr2-dev) and
# gss-ntlmssp through MIT GSSAPI (libkrb5-dev, gss-ntlmssp), each its own
# program: WinPR's SSPI names are ours too, so neither sees the library or
# its headers (no -Iinclude -Isrc).  Bench-only dependencies, like libuv.
NTLM_PEER_BINS := $(B)/bench/ntlm_winpr $(B)/bench/ntlm_gss
WINPR_CFLAGS = $(shell pkg-config --cflags winpr2 2>/dev/null)
WINPR_LIBS = $(shell pkg-config --libs winpr2 2>/dev/null)
GSS_CFLAGS = $(shell pkg-config --cflags krb5-gssapi 2>/dev/null)
GSS_LIBS = $(shell pkg-config --libs krb5-gssapi 2>/dev/null)
PEER_BENCH_FLAGS = -D_POSIX_C_SOURCE=200809L $(CPPFLAGS) $(WARN) $(OPT) -pthread $(CFLAGS)

DEMO := $(B)/demo
# The demo runs its own realm for --package Kerberos/Negotiate (libc only).
DEMO_OBJS := $(B)/examples/demo.o $(B)/test/krb5_realm.o

FSM_TABLE := $(B)/tools/fsm_table

ALL_OBJS := $(LIB_OBJS) $(TESTLIB_OBJS) $(TESTS:%=%.o) $(BENCH_OBJS) $(DEMO_OBJS) $(FSM_TABLE).o
OBJDIRS := $(sort $(patsubst %/,%,$(dir $(ALL_OBJS) $(LIB))))
DEPS := $(ALL_OBJS:.o=.d)

.PHONY: all check memcheck asan tsan clang bench demo install uninstall clean \
	check-build check-run check-symbols check-headers check-readme check-examples check-census check-winstyle fsm-table \
	bench-build bench-libuv bench-krb5 bench-ntlm bench-ntlm-deps bench-crypto-choice fuzz helgrind drd verify verify-mutants matrix oomcheck oomcheck-valgrind oomcheck-run coverage soak demo-check demo-ntlm demo-krb5 demo-nego

# Keep intermediate objects (tests, tools, bench), so re-runs relink nothing.
.SECONDARY:

all: $(LIB)

$(OBJDIRS):
	mkdir -p $@

$(B)/%.o: %.c | $(OBJDIRS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/test/%.o: test/%.c | $(OBJDIRS)
	$(CC) $(ALL_CPPFLAGS) $(TEST_CPPFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS) | $(OBJDIRS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/test/check_%: $(B)/test/check_%.o $(TESTLIB_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) $(TEST_LIBS) $(CHECK_LIBS)

# The NTLM interop peers (gss-ntlmssp, WinPR), run by check_ntlm_interop from
# $(B)/test/peers/; order-only, so they stay off its link line.  check-build
# names them too: under .SECONDARY a missing order-only prerequisite of an
# up-to-date target is not rebuilt.
include test/peers/peers.mk
$(B)/test/check_ntlm_interop: | $(PEERS)
$(B)/test/check_krb5_realm: | $(PEERS)
$(B)/test/check_krb5_interop: | $(PEERS)
check-build: $(PEERS)

# --- tests -------------------------------------------------------------------

check-build: $(TESTS) $(LIB)

check-run: check-build
	@for t in $(TESTS); do \
		echo "== $$t"; \
		$(RUN_BOUNDED) $$t || exit 1; \
	done

check-symbols: $(LIB)
	sh test/symbols.sh $(LIB)

check-headers:
	sh test/header_selfcontained.sh

# README's lifecycle table must be what the code prints.
check-readme: $(FSM_TABLE)
	sh test/readme_fsm.sh $(FSM_TABLE) README.md

# README's code examples must build and run as shown.
check-examples: $(LIB)
	SA_LIBS="$(LIB_LIBS)" sh test/readme_example.sh sync $(LIB)
	SA_LIBS="$(LIB_LIBS)" sh test/readme_example.sh sync-unicode $(LIB) -DUNICODE
	SA_LIBS="$(LIB_LIBS)" sh test/readme_example.sh async $(LIB)
	SA_LIBS="$(LIB_LIBS)" sh test/readme_example.sh cq $(LIB)
	SA_LIBS="$(LIB_LIBS)" sh test/readme_example.sh quick $(LIB)

# The census of Microsoft's sspi.h, security.h and secext.h: every name provided
# as Microsoft declares it (A and W), or listed in README's porting notes with
# the reason (test/census.sh; the facts come from test/census/extract.sh).
check-census: $(LIB)
	CC="$(CC)" SA_LIBS="$(LIB_LIBS)" sh test/census.sh $(LIB)

# Programs written as Windows code (test/winstyle/), built against the library
# installed into a temporary DESTDIR through pkg-config sspiasync-compat, ANSI
# and UNICODE, run under Valgrind (about 10 s), then uninstalled.
check-winstyle: $(LIB)
	CC="$(CC)" MAKE="$(MAKE)" B="$(B)" sh test/winstyle_handshake.sh

check: check-run check-symbols check-headers check-readme check-examples check-census check-winstyle

# Valgrind memcheck: any error or leak, even a still-reachable block, fails.
memcheck: check-build
	@for t in $(TESTS); do \
		echo "== memcheck $$t"; \
		CK_FORK=no SA_TEST_SLOW=1 $(RUN_BOUNDED) $(VALGRIND_MEMCHECK) $$t || exit 1; \
	done

SAN_COMMON := -fno-sanitize-recover=all -fno-omit-frame-pointer
# LeakSanitizer forgives only MIT's leak listed (and explained) in test/lsan.supp.
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/test/lsan.supp:print_suppressions=0

# The sanitizer builds also check that every _locked helper runs under its
# lock (src/util/lock.h, SA_ASSERT_HELD).
DEBUG_LOCKS := DEFS=-DSA_DEBUG_LOCKS
asan:
	$(MAKE) B=build/asan OPT="-O1 -g" SAN="-fsanitize=address,undefined $(SAN_COMMON)" $(DEBUG_LOCKS) check-run

# Allocation-failure injection over every public function (test/oomcheck.c):
# in-process under ASan/LSan (fast), or under Valgrind.
$(B)/test/oomcheck: $(B)/test/oomcheck.o $(B)/test/krb5_realm.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

oomcheck-run: $(B)/test/oomcheck
	$(RUN_BOUNDED) $(OOM_RUNNER) $(B)/test/oomcheck

oomcheck:
	$(MAKE) B=build/asan OPT="-O1 -g" SAN="-fsanitize=address,undefined $(SAN_COMMON)" $(DEBUG_LOCKS) oomcheck-run

oomcheck-valgrind:
	$(MAKE) OOM_RUNNER="$(VALGRIND_MEMCHECK)" oomcheck-run

# The soak (test/soak.c): SOAK_OPS operations (default 400,000) on all workers.
$(B)/test/soak: $(B)/test/soak.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

soak: $(B)/test/soak
	$(RUN_BOUNDED) $(B)/test/soak

# Race detectors on every suite's TCases that start threads (test/helgrind.sh
# lists them; with strace it checks none is missing); each TCase alone, in
# process, bounded by TEST_TIMEOUT; any report fails.
# Both in build/hg, built with -DSA_HELGRIND: the happens-before annotations
# (src/util/annotate.h) exist only there, never in the installed library.
HG_BUILD := $(MAKE) B=build/hg DEFS=-DSA_HELGRIND
helgrind:
	$(HG_BUILD) check-build
	TOOL=helgrind B=build/hg HG_TIMEOUT=$(TEST_TIMEOUT) sh test/helgrind.sh $(subst $(B)/,build/hg/,$(TESTS))

drd:
	$(HG_BUILD) check-build
	TOOL=drd B=build/hg HG_TIMEOUT=$(TEST_TIMEOUT) sh test/helgrind.sh $(subst $(B)/,build/hg/,$(TESTS))

# The compiler matrix: the combinations the other stages do not run.  gcc and
# clang at -O2 plain are `make check` and `make clang`; gcc with ASan+UBSan
# at -O1 is `make asan`.  Here: gcc -O0 plain, and ASan+UBSan with gcc -O0,
# clang -O0 and clang -O2 (build/m-CC-OPT[-asan]).  MATRIX_RUNS overrides
# the list (items CC:OPT:plain|asan).
MATRIX_SAN := -fsanitize=address,undefined $(SAN_COMMON)
MATRIX_RUNS ?= gcc:-O0:plain gcc:-O0:asan clang:-O0:asan clang:-O2:asan
matrix:
	@for run in $(MATRIX_RUNS); do \
		cc=$${run%%:*}; rest=$${run#*:}; opt=$${rest%%:*}; kind=$${rest#*:}; \
		echo "== matrix $$cc $$opt $$kind"; \
		if [ "$$kind" = asan ]; then \
			$(MAKE) --no-print-directory B=build/m-$$cc$$opt-asan CC=$$cc OPT="$$opt -g" \
				SAN="$(MATRIX_SAN)" check-run || exit 1; \
		else \
			$(MAKE) --no-print-directory B=build/m-$$cc$$opt CC=$$cc OPT="$$opt -g" check-run || exit 1; \
		fi; \
	done

# The Promela model of the async protocol, checked exhaustively by spin
# (verify/README.md); verify-mutants: every injected bug must be caught.
verify:
	sh verify/verify.sh

verify-mutants:
	sh verify/verify.sh -m

# libFuzzer (fuzz/README.md): the API-sequence fuzzer for FUZZ_SECONDS (default
# 60), then the NTLM fuzzer for NTLM_FUZZ_SECONDS (default 40), then the
# SPNEGO codec's (against the libtasn1 oracle) for SPNEGO_FUZZ_SECONDS (default 30).
fuzz:
	sh fuzz/run.sh

# The NTLM fuzzer's corpus (seeds and findings) replayed without libFuzzer
# (fuzz/ntlm_replay.c includes the harness), in check-run and memcheck, so
# every build variant and Valgrind see it.  Not a test/check_* suite (it has
# no Check TCases for test/helgrind.sh).
FUZZ_REPLAY := $(B)/fuzz/ntlm_replay
.PHONY: fuzz-replay fuzz-replay-memcheck
$(B)/fuzz/ntlm_replay.o: fuzz/ntlm_replay.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_REPLAY): $(B)/fuzz/ntlm_replay.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)
fuzz-replay: $(FUZZ_REPLAY)
	$(RUN_BOUNDED) $(FUZZ_REPLAY)
fuzz-replay-memcheck: $(FUZZ_REPLAY)
	$(RUN_BOUNDED) $(VALGRIND_MEMCHECK) $(FUZZ_REPLAY)
check-run: fuzz-replay
memcheck: fuzz-replay-memcheck
-include $(B)/fuzz/ntlm_replay.d

# The SPNEGO fuzzer's corpus the same way (fuzz/spnego_replay.c includes
# fuzz/spnego_fuzz.c), with the libtasn1 oracle when libtasn1 is found.
SPNEGO_REPLAY := $(B)/fuzz/spnego_replay
.PHONY: fuzz-replay-spnego fuzz-replay-spnego-memcheck
$(B)/fuzz/spnego_replay.o: fuzz/spnego_replay.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(TEST_CPPFLAGS) -Itest $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
$(SPNEGO_REPLAY): $(B)/fuzz/spnego_replay.o $(B)/test/spnego_tasn1.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) $(TEST_LIBS)
fuzz-replay-spnego: $(SPNEGO_REPLAY)
	$(RUN_BOUNDED) $(SPNEGO_REPLAY)
fuzz-replay-spnego-memcheck: $(SPNEGO_REPLAY)
	$(RUN_BOUNDED) $(VALGRIND_MEMCHECK) $(SPNEGO_REPLAY)
check-run: fuzz-replay-spnego
memcheck: fuzz-replay-spnego-memcheck
-include $(B)/fuzz/spnego_replay.d

# Line and branch coverage per module (gcov + lcov), goals in test/coverage.sh.
coverage:
	rm -rf build/cov
	$(MAKE) B=build/cov OPT="-O0 -g" SAN="--coverage" check-run oomcheck-run
	sh test/coverage.sh build/cov

tsan:
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0" \
	$(MAKE) B=build/tsan OPT="-O1 -g" SAN="-fsanitize=thread $(SAN_COMMON)" $(DEBUG_LOCKS) check-run

clang:
	$(MAKE) B=build/clang CC=clang check-run

# --- benchmarks and demo -----------------------------------------------------

$(B)/bench/%: $(B)/bench/%.o $(B)/bench/baseline.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

bench-libuv:
	@pkg-config --exists libuv || { \
		echo "make bench: libuv not found (bench/async compares the async API against it)." >&2; \
		echo "Install it: apt-get install -y libuv1-dev (a bench-only dependency)" >&2; \
		exit 1; }

$(B)/bench/async.o: bench/async.c | $(OBJDIRS) bench-libuv
	$(CC) $(ALL_CPPFLAGS) $(UV_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/bench/async: $(B)/bench/async.o $(B)/bench/baseline.o $(LIB) | bench-libuv
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) $(UV_LIBS)

bench-ntlm-deps:
	@pkg-config --exists winpr2 && pkg-config --exists krb5-gssapi || { \
		echo "make bench: winpr2 or krb5-gssapi not found (bench/ntlm.sh compares NTLM against WinPR and gss-ntlmssp)." >&2; \
		echo "Install them: apt-get install -y libwinpr2-dev libkrb5-dev gss-ntlmssp (bench-only dependencies)" >&2; \
		exit 1; }

$(B)/bench/ntlm_winpr: bench/ntlm_winpr.c bench/ntlm_bench.h | $(OBJDIRS) bench-ntlm-deps
	$(CC) $(PEER_BENCH_FLAGS) $(WINPR_CFLAGS) -o $@ $< $(LDFLAGS) $(WINPR_LIBS)

$(B)/bench/ntlm_gss: bench/ntlm_gss.c bench/ntlm_bench.h | $(OBJDIRS) bench-ntlm-deps
	$(CC) $(PEER_BENCH_FLAGS) $(GSS_CFLAGS) -o $@ $< $(LDFLAGS) $(GSS_LIBS)

bench-build: $(BENCH_BINS) $(NTLM_PEER_BINS) $(if $(filter 1,$(HAVE_KRB5)),$(B)/bench/krb5)

# Why the NTLM package uses nettle: its primitives against OpenSSL 3's (with
# the legacy provider in a private library context), in one run.  Needs
# libssl-dev, which nothing else needs: not in bench-build, not in CI.
bench-crypto-choice: | $(OBJDIRS)
	$(CC) $(PEER_BENCH_FLAGS) -o $(B)/bench/crypto_choice bench/crypto_choice.c -lnettle -lcrypto
	$(B)/bench/crypto_choice

# Kerberos and Negotiate against MIT's GSSAPI used directly, one run
# (bench/krb5.c starts its own realm: krb5-kdc, krb5-admin-server, krb5-user).
$(B)/bench/krb5: $(B)/bench/krb5.o $(B)/test/krb5_realm.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)
bench-krb5: $(B)/bench/krb5
	$(B)/bench/krb5

# NTLM handshakes against WinPR and gss-ntlmssp (bench/ntlm.sh).
bench-ntlm: $(B)/bench/ntlm $(NTLM_PEER_BINS)
	sh bench/ntlm.sh $(B)/bench/ntlm $(B)/bench/ntlm_winpr $(B)/bench/ntlm_gss

# BENCH_QUICK=1: fewer rounds and calls (CI); the figures in README come from
# a full run.
bench: bench-build
	$(B)/bench/handles
	sh bench/callgrind.sh $(B)/bench/handles
	$(B)/bench/async
	sh bench/async_callgrind.sh $(B)/bench/async
	sh bench/ntlm.sh $(B)/bench/ntlm $(B)/bench/ntlm_winpr $(B)/bench/ntlm_gss
	$(if $(filter 1,$(HAVE_KRB5)),$(B)/bench/krb5,@echo "bench: no Kerberos in this build")

$(B)/tools/%: $(B)/tools/%.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

fsm-table: $(FSM_TABLE)
	$(FSM_TABLE)

$(DEMO): $(DEMO_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

demo: $(DEMO)
	$(DEMO)

# The same job with real NTLMv2 handshakes (a user file the demo writes).
demo-ntlm: $(DEMO)
	$(DEMO) --package NTLM

# ... with real Kerberos, and Negotiate (SPNEGO: Kerberos, some falling back
# to NTLM), in a throw-away realm the demo runs (krb5-kdc, krb5-admin-server,
# krb5-user; exits 2 saying so when they are missing).
demo-krb5: $(DEMO)
	$(DEMO) --package Kerberos

demo-nego: $(DEMO)
	$(DEMO) --package Negotiate

# The demo's summary checked (CI): bad options, 200 handshakes with the test
# package, 200 with NTLM, and 200 each with Kerberos and Negotiate (skipped,
# with a note, without the KDC tools), every count.
demo-check: $(DEMO)
	sh examples/demo_check.sh $(DEMO)

# --- install -----------------------------------------------------------------

PUBLIC_HEADERS := $(wildcard include/sspiasync/*.h) $(wildcard include/sspiasync/compat/*.h)
PC_FILES := $(B)/sspiasync.pc $(B)/sspiasync-compat.pc

$(B)/%.pc: %.pc.in | $(OBJDIRS)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@LIBS@|$(LIB_LIBS)|g' $< > $@

# The .pc files depend on PREFIX: always regenerate them.
install: $(LIB)
	rm -f $(PC_FILES)
	$(MAKE) $(PC_FILES)
	install -D -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libsspiasync.a
	for pc in $(PC_FILES); do \
		install -D -m 644 $$pc $(DESTDIR)$(PKGCONFIGDIR)/$$(basename $$pc) || exit 1; \
	done
	for h in $(PUBLIC_HEADERS:include/%=%); do \
		install -D -m 644 include/$$h $(DESTDIR)$(INCLUDEDIR)/$$h || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsspiasync.a
	rm -f $(PC_FILES:$(B)/%=$(DESTDIR)$(PKGCONFIGDIR)/%)
	rm -f $(PUBLIC_HEADERS:include/%=$(DESTDIR)$(INCLUDEDIR)/%)
	for d in $(DESTDIR)$(INCLUDEDIR)/sspiasync/compat $(DESTDIR)$(INCLUDEDIR)/sspiasync; do \
		if [ -d $$d ]; then rmdir $$d || exit 1; fi; \
	done

clean:
	rm -rf build

-include $(DEPS)
