#!/bin/sh
# header_selfcontained.sh - every public header compiles on its own.
#
# Each include/sspiasync/*.h is compiled alone (and twice in a row, for the
# include guard) as C11 with gcc and clang and as C++11 with g++ / clang++
# when present, -fsyntax-only, warnings as errors.  The compat headers are
# compiled through <sspi.h> / <security.h> with and without SECURITY_WIN32,
# test/winstyle/winstyle.c (a Windows-style program) must compile, and
# every header compiles with -DUNICODE too (the W forms).  Nothing is linked
# or run.
# Usage: sh test/header_selfcontained.sh   (from anywhere; exits non-zero on
# the first failure)
set -eu

cd "$(dirname "$0")/.."

CWARN="-std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
CXXWARN="-std=c++11 -Wall -Wextra -Wpedantic -Werror -Wshadow"
COMPAT="-Iinclude -Iinclude/sspiasync/compat"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

have() { command -v "$1" >/dev/null 2>&1; }

ccs=""
for c in gcc clang; do have "$c" && ccs="$ccs $c"; done
cxxs=""
for c in g++ clang++; do have "$c" && cxxs="$cxxs $c"; done
[ -n "$ccs" ] || { echo "header_selfcontained: no C compiler (gcc, clang)" >&2; exit 1; }

n=0
# compile LANG COMPILER FLAGS...: syntax-check $tmp/src, fail loudly.
compile() {
	lang=$1; comp=$2; shift 2
	if ! $comp "$@" -x "$lang" -fsyntax-only "$tmp/src" 2> "$tmp/err"; then
		echo "FAIL: $comp $* -x $lang:" >&2
		sed 's/^/    /' "$tmp/src" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	n=$((n + 1))
}

for h in include/sspiasync/*.h; do
	name=${h#include/}
	printf '#include <%s>\n#include <%s>\n' "$name" "$name" > "$tmp/src"
	for cc in $ccs; do
		compile c "$cc" $CWARN -Iinclude
	done
	for cxx in $cxxs; do
		compile c++ "$cxx" $CXXWARN -Iinclude
	done
done

for h in sspi.h security.h; do
	printf '#include <%s>\n' "$h" > "$tmp/src"
	for def in "" "-DSECURITY_WIN32"; do
		for cc in $ccs; do
			compile c "$cc" $CWARN $def $COMPAT
		done
		for cxx in $cxxs; do
			compile c++ "$cxx" $CXXWARN $def $COMPAT
		done
	done
done

for cc in $ccs; do
	$cc -fsyntax-only $COMPAT -std=c11 -Wall -Wextra -Werror test/winstyle/winstyle.c
	n=$((n + 1))
done

for h in include/sspiasync/sspi.h include/sspiasync/compat/security.h; do
	printf '#include <%s>\n' "${h#include/}" > "$tmp/src"
	for cc in $ccs; do
		compile c "$cc" $CWARN -DUNICODE $COMPAT
	done
	for cxx in $cxxs; do
		compile c++ "$cxx" $CXXWARN -DUNICODE $COMPAT
	done
done

echo "header_selfcontained: $n compilations OK (C:$ccs; C++:${cxxs:- none})"
