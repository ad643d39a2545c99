#!/bin/sh
# bench/callgrind.sh - instructions per operation of bench/handles' loops,
# counted by valgrind's callgrind (stable where times are noisy).
#
# Usage: sh bench/callgrind.sh build/bench/handles
#
# Runs `handles --callgrind`, which calls each cg_* loop function a fixed
# number of times and prints "callgrind-iterations N"; then reads each
# function's inclusive instruction count (Ir) from callgrind_annotate and
# prints Ir / N: the instructions one operation costs, calls included.
# Ratios are sspiasync / baseline, as in bench/handles.  Fails if valgrind or
# callgrind_annotate fails or a loop function is missing from the profile.
set -eu

die() {
	echo "callgrind.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: sh bench/callgrind.sh path/to/bench/handles"
bin=$1
[ -x "$bin" ] || die "$bin: not an executable"
command -v valgrind >/dev/null 2>&1 || die "valgrind not found"
command -v callgrind_annotate >/dev/null 2>&1 || die "callgrind_annotate not found"

dir=${TMPDIR:-/tmp}/sspiasync-callgrind.$$
mkdir -m 700 "$dir" || die "cannot create $dir"
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' HUP INT TERM

valgrind --tool=callgrind --callgrind-out-file="$dir/out" "$bin" --callgrind \
	>"$dir/stdout" 2>"$dir/stderr" || {
	cat "$dir/stderr" >&2
	die "valgrind failed"
}
iters=$(sed -n 's/^callgrind-iterations \([0-9][0-9]*\)$/\1/p' "$dir/stdout")
[ -n "$iters" ] || die "$bin --callgrind did not print its iteration count"
callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$dir/out" >"$dir/annotated" ||
	die "callgrind_annotate failed"

# ir NAME: the inclusive Ir of function NAME, digits only.
ir() {
	n=$(awk -v fn="$1" '
		{ for (i = 1; i <= NF; i++) if ($i ~ ("(^|:)" fn "$")) { gsub(",", "", $1); print $1; exit } }
	' "$dir/annotated")
	[ -n "$n" ] || die "function $1 missing from the callgrind profile"
	echo "$n"
}

ours_pair=$(ir cg_ours_pair)
ptr_pair=$(ir cg_ptr_pair)
mtx_pair=$(ir cg_mtx_pair)
stale=$(ir cg_ours_reject_stale)
garbage=$(ir cg_ours_reject_garbage)
wrong=$(ir cg_ours_reject_wrong_kind)
mtx_stale=$(ir cg_mtx_reject_stale)
ours_ir=$(ir cg_ours_insert_remove)
mtx_ir=$(ir cg_mtx_insert_remove)

awk -v n="$iters" \
	-v ours_pair="$ours_pair" -v ptr_pair="$ptr_pair" -v mtx_pair="$mtx_pair" \
	-v stale="$stale" -v garbage="$garbage" -v wrong="$wrong" -v mtx_stale="$mtx_stale" \
	-v ours_ir="$ours_ir" -v mtx_ir="$mtx_ir" '
function line(what, ours, bname, base) {
	printf "| %s | %.1f | %s %.1f | %.2f |\n", what, ours / n, bname, base / n, ours / base
}
BEGIN {
	printf "\ncallgrind: instructions per operation (inclusive Ir / %d iterations)\n\n", n
	print "| operation | sspiasync | baseline | ratio |"
	print "|---|---|---|---|"
	line("acquire+release vs (a)", ours_pair, "(a)", ptr_pair)
	line("acquire+release vs (b)", ours_pair, "(b)", mtx_pair)
	line("reject stale vs (b) stale", stale, "(b)", mtx_stale)
	line("reject garbage vs (b) stale", garbage, "(b)", mtx_stale)
	line("reject wrong kind vs (b) stale", wrong, "(b)", mtx_stale)
	line("insert+remove vs (b)", ours_ir, "(b)", mtx_ir)
}'
