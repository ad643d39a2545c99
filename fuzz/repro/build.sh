#!/bin/sh
# fuzz/repro/build.sh - build every reproducer against the library sources
# and run it.  Each exits 1 when its issue reproduces, 0 when the library
# behaves as documented (k4 takes 5-40 s: 4.4M init/shutdown cycles, then 16.8M
# async-context create/free cycles).
set -u
cd "$(dirname "$0")/../.."
out=${REPRO_OUT:-build/repro}
mkdir -p "$out"
for c in fuzz/repro/*.c; do
	n=$(basename "$c" .c)
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 -O1 -g -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -pthread \
		-o "$out/$n" "$c" $(ls src/*/*.c) || exit 2
	echo "== $n"
	"$out/$n"
	echo "(exit $?)"
done
