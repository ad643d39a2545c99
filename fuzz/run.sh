#!/bin/sh
# fuzz/run.sh - build and run the API-sequence fuzzer (make fuzz).
#
# Builds fuzz/api_fuzz.c with the library sources (clang, libFuzzer, ASan,
# UBSan, LSan; asserts on), copies the committed seed corpus into a working
# corpus (the seeds are never modified), fuzzes for FUZZ_SECONDS (default
# 60), prints executions and coverage, and exits non-zero on any crash,
# leak, sanitizer report or violated property (the crashing input is left in
# $FUZZ_OUT, default build/fuzz/).
#
# Environment:
#   FUZZ_SECONDS  total fuzzing time (default 60)
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

mkdir -p "$OUT/corpus" "$OUT/artifacts"
BIN=$OUT/api_fuzz
rev=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
git diff --quiet HEAD -- src include 2>/dev/null || rev="$rev+uncommitted"
echo "fuzz: building $BIN (library $rev, sources $(cat src/*/*.[ch] src/packages/*/*.[ch] include/sspiasync/*.h | sha256sum | cut -c1-12))"
# shellcheck disable=SC2046
"$CC_FUZZ" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -std=c11 -D_POSIX_C_SOURCE=200809L \
	-Wall -Wextra -Werror -Iinclude -Isrc -pthread \
	-o "$BIN" fuzz/api_fuzz.c $(ls src/*/*.c src/packages/*/*.c) -lnettle

# The working corpus starts from the committed seeds (copies).
cp fuzz/corpus/* "$OUT/corpus/"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

LOG=$OUT/fuzz.log
: >"$LOG"
left=$SECONDS_TOTAL
round=0
total_runs=0
status=0
while [ "$left" -gt 0 ]; do
	t=$left
	[ "$t" -gt "$ROUND" ] && t=$ROUND
	round=$((round + 1))
	echo "fuzz: round $round, $t s"
	rlog=$OUT/round$round.log
	set +e
	"$BIN" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 -runs=900000 \
		-print_final_stats=1 -artifact_prefix="$OUT/artifacts/" \
		"$OUT/corpus" >"$rlog" 2>&1
	rc=$?
	set -e
	cat "$rlog" >>"$LOG"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$rlog" | tail -n 1)
	total_runs=$((total_runs + ${runs:-0}))
	if [ "$rc" -ne 0 ]; then
		status=$rc
		echo "fuzz: FAILED (exit $rc) in round $round; the end of the log:" >&2
		grep -v '^#\|^INFO\|^[[:space:]]*"' "$rlog" | tail -n 60 >&2
		ls -l "$OUT/artifacts/" >&2
		break
	fi
	left=$((left - t))
done

# Coverage of the whole working corpus, in one process.
cov_line=$("$BIN" -runs=0 -artifact_prefix="$OUT/artifacts/" "$OUT/corpus" 2>&1 |
	grep -E 'INITED|DONE' | tail -n 1 || true)
last=$(grep -E '^#[0-9]+' "$LOG" | tail -n 1 || true)
echo "fuzz: executions: $total_runs in ${SECONDS_TOTAL}s ($round round(s))"
echo "fuzz: last status: $last"
echo "fuzz: corpus coverage: $(echo "$cov_line" | sed 's/^#[0-9]*[[:space:]]*//')"
grep '^api_fuzz:' "$LOG" | sort | uniq -c | sort -rn | head -n 12 || true
exit "$status"
