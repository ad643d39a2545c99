#!/bin/sh
# fuzz/run.sh - build and run the fuzzers (make fuzz).
#
# Three libFuzzer harnesses, one after the other, each built with the library
# sources (clang, libFuzzer, ASan, UBSan, LSan; asserts on) without the
# optional packages (Kerberos, Negotiate: the models of api_fuzz and
# ntlm_fuzz know the test package and NTLM), spnego_fuzz with the SPNEGO
# codec added (spnego.c) and, with libtasn1, its oracle (test/spnego_tasn1.c):
#   api_fuzz     fuzz/api_fuzz.c, the API-sequence fuzzer, FUZZ_SECONDS
#   ntlm_fuzz    fuzz/ntlm_fuzz.c, the NTLM package's messages, legs and
#                message protection, NTLM_FUZZ_SECONDS
#   spnego_fuzz  fuzz/spnego_fuzz.c, the SPNEGO token codec, SPNEGO_FUZZ_SECONDS
#                (differential against the libtasn1 oracle when libtasn1 is found)
# Each copies its committed seed corpus into a working corpus (the seeds are
# never modified), fuzzes for its time, prints executions and coverage, and
# the run exits non-zero on any crash, leak, sanitizer report or violated
# property (the crashing input is left in $FUZZ_OUT, default build/fuzz/).
#
# Environment:
#   FUZZ_SECONDS  api_fuzz's fuzzing time (default 60)
#   NTLM_FUZZ_SECONDS  ntlm_fuzz's fuzzing time (default 40)
#   SPNEGO_FUZZ_SECONDS  spnego_fuzz's fuzzing time (default 30)
#   FUZZ_TARGETS  which harnesses (default "api ntlm spnego")
#   FUZZ_OUT      build and work directory (default build/fuzz)
#   FUZZ_STRICT=1 the known library issues abort instead of being counted
#   FUZZ_ROUND    seconds per fuzzer process (default 240): long runs
#                 restart the process, keeping the working corpus; -runs
#                 also caps each round (a habit from K4, fixed in issue 19).
#   FUZZ_JOBS     not used: one process at a time, deterministic.
set -eu

cd "$(dirname "$0")/.."
SECONDS_TOTAL=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-build/fuzz}
ROUND=${FUZZ_ROUND:-240}
CC_FUZZ=${CC_FUZZ:-clang}

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "fuzz: $CC_FUZZ not found: apt-get install clang libclang-rt-14-dev" >&2
	exit 1
fi
RT_DIR=$("$CC_FUZZ" -print-resource-dir 2>/dev/null)/lib/linux
if [ ! -f "$RT_DIR/libclang_rt.fuzzer-x86_64.a" ] && \
   [ ! -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
	echo "fuzz: the libFuzzer runtime (libclang_rt.fuzzer-x86_64.a) is missing in $RT_DIR:" >&2
	echo "fuzz:   apt-get install libclang-rt-14-dev   (Debian 12)" >&2
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rev=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
git diff --quiet HEAD -- src include 2>/dev/null || rev="$rev+uncommitted"
srcsum=$(cat src/*/*.[ch] src/packages/*/*.[ch] include/sspiasync/*.h | sha256sum | cut -c1-12)

# The library's sources without the optional packages (the Makefile's
# HAVE_KRB5= HAVE_TASN1= build); a target adds its own (EXTRA_*).
LIB_SRCS=$(ls src/*/*.c src/packages/*/*.c | grep -v -e '^src/packages/krb5/' -e '^src/packages/negotiate/')
HAVE_TASN1=
pkg-config --exists libtasn1 2>/dev/null && HAVE_TASN1=1
EXTRA_SRCS= EXTRA_FLAGS= EXTRA_LIBS=

# fuzz_target NAME SEEDS SECONDS CORPUS ARTIFACTS LOG: build fuzz/NAME.c,
# fuzz from SEEDS for SECONDS; sets status on failure.
status=0
fuzz_target() {
	name=$1 seeds=$2 secs=$3 corpus=$4 art=$5 LOG=$6
	BIN=$OUT/$name
	mkdir -p "$corpus" "$art"
	echo "fuzz: building $BIN (library $rev, sources $srcsum)"
	# shellcheck disable=SC2086 # the lists are words
	"$CC_FUZZ" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -std=c11 -D_POSIX_C_SOURCE=200809L \
		-Wall -Wextra -Werror -Iinclude -Isrc -pthread $EXTRA_FLAGS \
		-o "$BIN" "fuzz/$name.c" $LIB_SRCS $EXTRA_SRCS -lnettle $EXTRA_LIBS

	# The working corpus starts from the committed seeds (copies).
	cp "$seeds"/* "$corpus/"

	: >"$LOG"
	left=$secs
	round=0
	total_runs=0
	while [ "$left" -gt 0 ]; do
		t=$left
		[ "$t" -gt "$ROUND" ] && t=$ROUND
		round=$((round + 1))
		echo "fuzz: $name round $round, $t s"
		rlog=$OUT/$name.round$round.log
		set +e
		"$BIN" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 -runs=900000 \
			-print_final_stats=1 -artifact_prefix="$art/" \
			"$corpus" >"$rlog" 2>&1
		rc=$?
		set -e
		cat "$rlog" >>"$LOG"
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$rlog" | tail -n 1)
		total_runs=$((total_runs + ${runs:-0}))
		if [ "$rc" -ne 0 ]; then
			[ "$status" -eq 0 ] && status=$rc
			echo "fuzz: $name FAILED (exit $rc) in round $round; the end of the log:" >&2
			grep -v '^#\|^INFO\|^[[:space:]]*"' "$rlog" | tail -n 60 >&2
			ls -l "$art/" >&2
			break
		fi
		left=$((left - t))
	done

	# Coverage of the whole working corpus, in one process.
	cov_line=$("$BIN" -runs=0 -artifact_prefix="$art/" "$corpus" 2>&1 |
		grep -E 'INITED|DONE' | tail -n 1 || true)
	last=$(grep -E '^#[0-9]+' "$LOG" | tail -n 1 || true)
	echo "fuzz: $name executions: $total_runs in ${secs}s ($round round(s))"
	echo "fuzz: $name last status: $last"
	echo "fuzz: $name corpus coverage: $(echo "$cov_line" | sed 's/^#[0-9]*[[:space:]]*//')"
}

default_targets="api ntlm spnego"
for target in ${FUZZ_TARGETS:-$default_targets}; do
	case $target in
	api)
		fuzz_target api_fuzz fuzz/corpus "$SECONDS_TOTAL" "$OUT/corpus" "$OUT/artifacts" \
			"$OUT/fuzz.log"
		grep '^api_fuzz:' "$OUT/fuzz.log" | sort | uniq -c | sort -rn | head -n 12 || true
		;;
	ntlm)
		fuzz_target ntlm_fuzz fuzz/ntlm_corpus "${NTLM_FUZZ_SECONDS:-40}" \
			"$OUT/ntlm_corpus" "$OUT/ntlm_artifacts" "$OUT/ntlm_fuzz.log"
		;;
	spnego)
		EXTRA_SRCS="src/packages/negotiate/spnego.c"
		EXTRA_FLAGS="-Itest"
		if [ -n "$HAVE_TASN1" ]; then
			EXTRA_SRCS="$EXTRA_SRCS test/spnego_tasn1.c"
			EXTRA_FLAGS="$EXTRA_FLAGS -DSA_HAVE_TASN1 $(pkg-config --cflags libtasn1)"
			EXTRA_LIBS=$(pkg-config --libs libtasn1)
		else
			echo "fuzz: spnego without libtasn1: no oracle (apt-get install libtasn1-6-dev)" >&2
		fi
		fuzz_target spnego_fuzz fuzz/spnego_corpus "${SPNEGO_FUZZ_SECONDS:-30}" \
			"$OUT/spnego_corpus" "$OUT/spnego_artifacts" "$OUT/spnego_fuzz.log"
		;;
	*)
		echo "fuzz: unknown target $target (api, ntlm, spnego)" >&2
		exit 1
		;;
	esac
done
exit "$status"
