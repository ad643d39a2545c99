#!/bin/sh
# test/readme_example.sh NAME LIB [CFLAGS...] - extract the C block between
# <!-- example-NAME:begin --> and <!-- example-NAME:end --> in README.md, build
# it exactly as shown with -Werror (and the extra CFLAGS, e.g. -DUNICODE)
# against this tree's headers and LIB, and run it under Valgrind: README's
# examples cannot rot.
set -eu
name=$1
lib=$2
shift 2
CC=${CC:-cc}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v b="<!-- example-$name:begin -->" -v e="<!-- example-$name:end -->" '
	$0 == b { on = 1; next }
	$0 == e { on = 0 }
	on && /^```/ { next }
	on { print }' README.md > "$dir/example.c"
[ -s "$dir/example.c" ] || { echo "readme_example: no example-$name block in README.md"; exit 1; }
$CC -std=c11 -Wall -Wextra -Werror "$@" -Iinclude -o "$dir/example" "$dir/example.c" "$lib" ${SA_LIBS:--lnettle} -pthread
valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
	"$dir/example"
echo "readme_example: example-$name builds with -Werror${*:+ $*} and runs Valgrind-clean"
