#!/bin/sh
# examples/demo_check.sh [DEMO [OPTION...]] - CI's check of the demo: run
# DEMO (default build/demo) with --handshakes 200 (and any further OPTIONs)
# twice, with the test package and with --package NTLM (real NTLMv2
# handshakes against a user file the demo writes; an OPTION --legs N is not
# passed to this run: NTLM has 4 legs), and check each run's "key: value"
# block after "--- summary ---": exit status 0, the package, every handshake
# completed or rejected as injected, an injected failure at every leg,
# every misuse rejected, every callback in reap on the loop thread, nothing
# live at exit, "result: PASS"; and that the NTLM run left no user file
# behind.  Then --package Kerberos and --package Negotiate (real Kerberos in
# a throw-away realm the demo runs; no --legs either): the same, for
# Negotiate every handshake's mechanism as designed ("negotiated Kerberos",
# "negotiated NTLM"), and after each the realm's directory gone from
# $TMPDIR and the KDC the demo named (its pid) no longer running.  Where the
# demo says the package or the KDC tools are missing (exit 2, "is not
# available here") these two runs are skipped with a note.  Also checks
# that --help exits 0 and that bad options exit 2.  Fails with a message
# naming what did not hold.
set -u

demo=${1:-build/demo}
[ $# -gt 0 ] && shift
[ -x "$demo" ] || { echo "demo_check.sh: $demo is not an executable (run make demo first)"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "demo_check.sh: FAILED: $*"
	echo "--- demo output ---"
	cat "$tmp/out"
	echo "--- demo stderr (first 40 lines) ---"
	head -n 40 "$tmp/err"
	exit 1
}

: >"$tmp/out"
: >"$tmp/err"

# The command line: --help exits 0, bad options exit 2 with a message.
"$demo" --help >"$tmp/out" 2>"$tmp/err" || fail "--help exited $?, not 0"
grep -q '^usage:' "$tmp/out" || fail "--help printed no usage line"
for bad in "--bogus" "--handshakes 0" "--handshakes x" "--legs 1" "--legs 9" "--threads 65" "--handshakes" \
	"--package" "--package bogus" "--package NTLM --legs 3" "--package Kerberos --legs 4" \
	"--package Negotiate --legs 3"; do
	# shellcheck disable=SC2086 # split on purpose
	"$demo" $bad >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "\"$bad\" exited $rc, not 2"
	[ -s "$tmp/err" ] || fail "\"$bad\" printed no message"
done

# get KEY: set v to the value of KEY (fails when KEY is missing or repeated).
get() {
	v=$(awk -F '\t' -v k="$1" '$1 == k { print $2; n++ } END { exit n == 1 ? 0 : 1 }' \
		"$tmp/summary") || fail "summary key \"$1\" missing or repeated"
}

# all_of KEY: KEY's value is "X of Y" with X = Y > 0.
all_of() {
	get "$1"
	printf '%s\n' "$v" |
		awk '{ exit !(NF == 3 && $2 == "of" && $1 ~ /^[0-9]+$/ && $1 == $3 && $3 > 0) }' ||
		fail "\"$1: $v\", expected \"X of X\" with X > 0"
}

# is KEY VALUE: KEY's value is VALUE.
is() {
	get "$1"
	[ "$v" = "$2" ] || fail "\"$1: $v\", expected $2"
}

# number KEY: KEY's value starts with a decimal number.
number() {
	get "$1"
	printf '%s\n' "$v" | awk '{ exit !($1 ~ /^[0-9]+(\.[0-9]+)?$/) }' ||
		fail "\"$1: $v\" is not a number"
}

# check_run PACKAGE OPTION...: one run of the demo and its summary.
# Returns 1 (with a note) when Kerberos or Negotiate cannot run here.
check_run() {
	pkg=$1
	shift
	"$demo" --handshakes 200 "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	case $pkg in
	Kerberos | Negotiate)
		if [ "$rc" -eq 2 ] && grep -q 'is not available here' "$tmp/err"; then
			echo "demo_check.sh: skipped ($pkg): $(head -n 2 "$tmp/err" | tr '\n' ' ')"
			return 1
		fi
		;;
	esac
	[ "$rc" -eq 0 ] || fail "the demo ($pkg) exited $rc, not 0"

	# The summary, as "key<TAB>value" lines.
	awk '/^--- summary ---$/ { on = 1; next }
	     on { i = index($0, ": "); if (i > 1) print substr($0, 1, i - 1) "\t" substr($0, i + 2) }' \
		"$tmp/out" >"$tmp/summary"
	[ -s "$tmp/summary" ] || fail "no summary block ($pkg)"

	is package "$pkg"
	is handshakes 200
	all_of "handshakes completed"
	all_of "handshakes rejected as injected"
	get legs
	legs=$v
	leg=1
	while [ "$leg" -le "$legs" ]; do
		all_of "injected at leg $leg"
		leg=$((leg + 1))
	done
	all_of "misuse rejected"
	misuse=$v
	is "unexpected results" 0
	all_of "callbacks in reap on the loop thread"
	is "contexts live at exit" 0
	is "credentials live at exit" 0
	is "async contexts live at exit" 0
	is "pending calls at exit" 0
	for k in elapsed throughput "latency p50" "latency p99"; do
		number "$k"
	done
	is result PASS

	get "handshakes completed"
	completed=$v
	get "handshakes rejected as injected"
	echo "demo_check.sh: ok ($pkg): $completed handshakes completed, $v rejected as injected (every one of $legs legs), $misuse misuses rejected, nothing live at exit"
}

# The runs: the test package, then NTLM (in a private TMPDIR, to see that
# the demo removes the user file it wrote).
check_run SspiAsyncTest "$@"

pkg_opts=
skip=0
for o in "$@"; do
	if [ $skip = 1 ]; then
		skip=0
		continue
	fi
	case $o in
	--legs) skip=1 ;;
	--legs=*) ;;
	*) pkg_opts="$pkg_opts $o" ;;
	esac
done
mkdir "$tmp/t" || fail "cannot make $tmp/t"
TMPDIR=$tmp/t
export TMPDIR
# shellcheck disable=SC2086 # split on purpose
check_run NTLM --package NTLM $pkg_opts
grep -q '^  NTLM users from '"$tmp/t"'/' "$tmp/out" || fail "the NTLM run did not name its user file in \$TMPDIR"
[ -z "$(ls -A "$tmp/t")" ] || fail "the NTLM run left files behind: $(ls -A "$tmp/t")"

# check_realm PACKAGE: the realm was in $TMPDIR, and is gone with its KDC.
check_realm() {
	kdc=$(sed -n 's/^  realm SSPIASYNC\.TEST: KDC pid \([0-9][0-9]*\) .*/\1/p' "$tmp/out")
	[ -n "$kdc" ] || fail "the $1 run did not name its KDC's pid"
	grep -q '^  realm SSPIASYNC\.TEST: .* in '"$tmp/t"'/sa_krb5_' "$tmp/out" ||
		fail "the $1 run did not name its realm directory in \$TMPDIR"
	if pgrep -f "krb5kdc -n -r SSPIASYNC.TEST" | grep -qx "$kdc"; then
		fail "the $1 run left its KDC (pid $kdc) running"
	fi
	[ -z "$(ls -A "$tmp/t")" ] || fail "the $1 run left files behind: $(ls -A "$tmp/t")"
}

# shellcheck disable=SC2086 # split on purpose
if check_run Kerberos --package Kerberos $pkg_opts; then
	check_realm Kerberos
fi
# shellcheck disable=SC2086 # split on purpose
if check_run Negotiate --package Negotiate $pkg_opts; then
	all_of "negotiated Kerberos"
	kerberos=$v
	all_of "negotiated NTLM"
	echo "demo_check.sh: ok (Negotiate): Kerberos chosen $kerberos, NTLM (fallback) $v"
	grep -q '^  NTLM users from '"$tmp/t"'/' "$tmp/out" || fail "the Negotiate run did not name its user file in \$TMPDIR"
	check_realm Negotiate
fi
