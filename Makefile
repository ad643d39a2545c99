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
ALL_CPPFLAGS = -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L $(CPPFLAGS)
ALL_CFLAGS = $(WARN) $(OPT) $(SAN) -pthread $(CFLAGS)
ALL_LDFLAGS = $(SAN) -pthread $(LDFLAGS)

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# Runs of the suites: every run is bounded, so a hang fails fast.
TEST_TIMEOUT ?= 600
RUN_BOUNDED = timeout -k 10 $(TEST_TIMEOUT)
VALGRIND_MEMCHECK = valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=all \
	--errors-for-leak-kinds=all

LIB_SRCS := $(wildcard src/*/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LIB := $(B)/libsspiasync.a

TEST_SRCS := $(wildcard test/check_*.c)
TESTS := $(TEST_SRCS:test/%.c=$(B)/test/%)
TESTLIB_SRCS := $(filter-out $(TEST_SRCS),$(wildcard test/*.c))
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(B)/%.o)

BENCH_NAMES := handles
BENCH_OBJS := $(B)/bench/handles.o $(B)/bench/baseline.o
BENCH_BINS := $(BENCH_NAMES:%=$(B)/bench/%)

DEMO := $(B)/demo
DEMO_OBJS := $(B)/examples/demo.o

ALL_OBJS := $(LIB_OBJS) $(TESTLIB_OBJS) $(TESTS:%=%.o) $(BENCH_OBJS) $(DEMO_OBJS)
OBJDIRS := $(sort $(patsubst %/,%,$(dir $(ALL_OBJS) $(LIB))))
DEPS := $(ALL_OBJS:.o=.d)

.PHONY: all check memcheck asan tsan clang bench demo install uninstall clean \
	check-build check-run check-symbols bench-build

all: $(LIB)

$(OBJDIRS):
	mkdir -p $@

$(B)/%.o: %.c | $(OBJDIRS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/test/%.o: test/%.c | $(OBJDIRS)
	$(CC) $(ALL_CPPFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS) | $(OBJDIRS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/test/check_%: $(B)/test/check_%.o $(TESTLIB_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# --- tests -------------------------------------------------------------------

check-build: $(TESTS) $(LIB)

check-run: check-build
	@for t in $(TESTS); do \
		echo "== $$t"; \
		$(RUN_BOUNDED) $$t || exit 1; \
	done

check-symbols: $(LIB)
	sh test/symbols.sh $(LIB)

check: check-run check-symbols

# Valgrind memcheck: any error or leak, even a still-reachable block, fails.
memcheck: check-build
	@for t in $(TESTS); do \
		echo "== memcheck $$t"; \
		CK_FORK=no SA_TEST_SLOW=1 $(RUN_BOUNDED) $(VALGRIND_MEMCHECK) $$t || exit 1; \
	done

SAN_COMMON := -fno-sanitize-recover=all -fno-omit-frame-pointer

asan:
	$(MAKE) B=build/asan OPT="-O1 -g" SAN="-fsanitize=address,undefined $(SAN_COMMON)" check-run

tsan:
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	$(MAKE) B=build/tsan OPT="-O1 -g" SAN="-fsanitize=thread $(SAN_COMMON)" check-run

clang:
	$(MAKE) B=build/clang CC=clang check-run

# --- benchmarks and demo -----------------------------------------------------

$(B)/bench/%: $(B)/bench/%.o $(B)/bench/baseline.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

bench-build: $(BENCH_BINS)

bench: bench-build
	$(B)/bench/handles
	sh bench/callgrind.sh $(B)/bench/handles

$(DEMO): $(DEMO_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

demo: $(DEMO)
	$(DEMO)

# --- install -----------------------------------------------------------------

PUBLIC_HEADERS := $(wildcard include/sspiasync/*.h)

$(B)/sspiasync.pc: sspiasync.pc.in | $(OBJDIRS)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

install: $(LIB) $(B)/sspiasync.pc
	install -D -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libsspiasync.a
	install -D -m 644 $(B)/sspiasync.pc $(DESTDIR)$(PKGCONFIGDIR)/sspiasync.pc
	for h in $(PUBLIC_HEADERS); do \
		install -D -m 644 $$h $(DESTDIR)$(INCLUDEDIR)/sspiasync/$$(basename $$h) || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsspiasync.a $(DESTDIR)$(PKGCONFIGDIR)/sspiasync.pc
	rm -f $(PUBLIC_HEADERS:include/%=$(DESTDIR)$(INCLUDEDIR)/%)
	if [ -d $(DESTDIR)$(INCLUDEDIR)/sspiasync ]; then rmdir $(DESTDIR)$(INCLUDEDIR)/sspiasync; fi

clean:
	rm -rf build

-include $(DEPS)
