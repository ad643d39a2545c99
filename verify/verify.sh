#!/bin/sh
# verify/verify.sh - check the Promela model of the async protocol
# (verify/sspiasync.pml) exhaustively with spin.  What the model proves and
# what it abstracts: verify/README.md.
#
# Usage (from the repository root):
#   sh verify/verify.sh                 every scenario and property; exit 1 on any error
#   sh verify/verify.sh -D BUG_X [..]   the same with a define injected (a mutant
#                                       must make it fail: exit 1)
#   sh verify/verify.sh -m              mutation check: every known mutant must be
#                                       caught; exit 1 if one survives
#   -k    keep the work directory (pan sources, outputs, trails) and say where
#   -j N  run N spin/cc/pan units at once (default 2)
# Environment: SPIN (spin), CC (cc), PAN_CFLAGS (-O2: the large searches),
# SMALL_CFLAGS (-O0: the small searches and the mutants, where cc takes
# longer than the search).
set -eu

SPIN=${SPIN:-spin}
CC=${CC:-cc}
PAN_CFLAGS=${PAN_CFLAGS:--O2}
SMALL_CFLAGS=${SMALL_CFLAGS:--O0}
HERE=$(cd "$(dirname "$0")" && pwd)
MODEL=$HERE/sspiasync.pml
DEPTH=-m10000 # the deepest run reaches ~710; a cut search is an error below

# The checks: NAME:KIND:SCENARIO:COST[:small].  KIND safety = assertions and
# invalid end states (pan built with -DSAFETY); np = no cycle at all (-DNP,
# pan -l: with no progress labels every cycle is a non-progress cycle, so
# every execution ends in a valid end state); ltl = each ltl claim of the
# model (pan -a -N).  COST (rough seconds, cc included) balances the lanes.
# small: built with SMALL_CFLAGS (the search takes well under a second).
CHECKS="
safety-all:safety:all:56
ltl-cq:ltl:cq:48
np-unbound:np:unbound:47
np-cq:np:cq:42
safety-sync:safety:sync:38
safety-shutdown:safety:shutdown:37:small
np-reinit:np:reinit:10:small
np-first:np:first:4:small
safety-reinit:safety:reinit:3:small
safety-first:safety:first:3:small
"
LTL_CLAIMS="delete_reaches_invalid no_leg_after_teardown"

# Each mutant (a BUG_* block in the model), the scenario that exposes it and
# the check (safety unless :np, the no-cycle check).
# REAP_NO_RECHECK is not made up: it is sa__cq_reap as committed (e2765cb),
# whose batch runs the callback of a context freed by an earlier callback of
# the same batch (verify/README.md, "Findings").  The four after
# BUG_HINT_CLEARED_EARLY are the code as it was before issue 19 (items 1, 3,
# 2, 7; BUG_ABANDON_AT_RUN_ONLY stands for the old BUG_ABANDON_AT_PUBLISH_ONLY,
# whose publish/DONE window the new protocol removed), then item 7's
# intermediate protocol (a free after DONE, before the caller was told,
# keeps the made context), then the bugs the new protocol of issue 23 item 2
# can have (the finish hold and release(), wake suppression, the reap batch).
MUTANTS="
REAP_NO_RECHECK:cq
BUG_PUBLISH_AFTER_FREE:cq
BUG_NO_UNLINK_ON_FREE:cq
BUG_DONE_WHEN_ABANDONED:cq
BUG_RECORD_NO_REF:cq
BUG_EFD_CLEAR_LATE:cq
BUG_ADMIT_ANY:cq
BUG_NO_WORK_SIGNAL:unbound
BUG_TEARDOWN_BEFORE_LEG_DONE:sync
BUG_QUEUE_NOT_SERIAL:sync
BUG_HINT_CLEARED_EARLY:unbound:np
BUG_FREE_IGNORED_IN_SHUTDOWN:shutdown
BUG_SHUTDOWN_CB_BLIND:shutdown-unbound
BUG_NOTIFYING_FLAG:reinit
BUG_ABANDON_AT_RUN_ONLY:first
BUG_ABANDON_BEFORE_DONE_ONLY:first
BUG_RELEASE_BEFORE_QUEUE:cq
BUG_RELEASE_AFTER_REUSE:reinit
BUG_SIGNAL_SUPPRESSED_ALWAYS:unbound
BUG_NO_BATON:reinit
BUG_SPIN_NO_RECHECK:unbound
BUG_REAP_BATCH_PAST_CB:cq-nocb
BUG_FINISH_TAKE_WITH_NOTIFY:unbound
"

usage() {
	sed -n '6,14p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

EXTRA=
MUTATE=0
KEEP=0
JOBS=2
while getopts D:mkj:h opt; do
	case $opt in
	D) EXTRA="$EXTRA -D$OPTARG" ;;
	m) MUTATE=1 ;;
	k) KEEP=1 ;;
	j) JOBS=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
case $JOBS in '' | *[!0-9]* | 0) usage ;; esac

for tool in "$SPIN" "$CC"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "verify: $tool not found (Debian: apt-get install -y spin build-essential)" >&2
		exit 2
	fi
done
[ -r "$MODEL" ] || { echo "verify: $MODEL not found" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sspiasync-verify.XXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ "$KEEP" = 1 ]; then
		echo "verify: work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scenario_defs() {
	case $1 in
	all) echo "" ;;             # cq, unbound, mixed and cq-nocb in one search
	cq) echo "-DCQ" ;;          # both async contexts bound to the CQ
	cq-nocb) echo "-DCQ_NOCB" ;; # both bound, the delete's without callback
	unbound) echo "-DUNBOUND" ;; # callbacks through the engine's notify list
	mixed) echo "-DMIXED" ;;    # the leg bound, the delete not
	sync) echo "-DSYNC_LEG" ;;  # cq plus a synchronous leg on the context
	# mixed plus sspiasync_shutdown at any point (one worker)
	shutdown) echo "-DSHUTDOWN -DMIXED -DONE_WORKER" ;;
	shutdown-unbound) echo "-DSHUTDOWN -DUNBOUND -DONE_WORKER" ;;
	reinit) echo "-DREINIT" ;;  # callbacks that reinit and resubmit (issue 19, 2)
	first) echo "-DFIRST_LEG" ;; # a first leg abandoned at any point (issue 19, 7)
	*) echo "verify: unknown scenario $1" >&2; exit 2 ;;
	esac
}

# pan_run DIR LABEL PAN_ARGS...: run DIR/pan; print one line (and the error
# lines on failure); return 1 on any error: an assertion, an invalid end
# state, a cycle, an acceptance cycle, or a search cut short.
pan_run() {
	pr_dir=$1 pr_label=$2
	shift 2
	pr_out=$pr_dir/$(echo "$pr_label" | tr -c 'A-Za-z0-9\n' '_').out
	(cd "$pr_dir" && ./pan "$@" >"$pr_out" 2>&1) || true
	pr_stats=$(awk '
		/states, stored/ { s = $1 }
		/ transitions \(= / { t = $1 }
		/depth reached/ { for (i = 1; i <= NF; i++) if ($i == "reached") { d = $(i + 1); sub(",", "", d) } }
		/elapsed time/ { e = $4 }
		END { printf "states %9s  transitions %9s  depth %3s  %5ss", s, t, d, e }' "$pr_out")
	if grep -q 'errors: 0$' "$pr_out" &&
		! grep -Eq '^pan:[0-9]+:|max search depth too small|out of memory|Search not completed' "$pr_out"; then
		printf 'PASS  %-40s %s\n' "$pr_label" "$pr_stats"
		return 0
	fi
	printf 'FAIL  %-40s %s\n' "$pr_label" "$pr_stats"
	grep -E '^pan:[0-9]+:|max search depth too small|out of memory|Search not completed' "$pr_out" |
		head -n 3 | sed 's/^/      /'
	if [ "$KEEP" = 1 ]; then
		echo "      replay: cd $pr_dir && $SPIN $(cat "$pr_dir/defines") -t -p -g model.pml"
	fi
	return 1
}

# unit NAME KIND DEFINES LABEL OPT: spin -a, cc (with OPT) and the pan
# run(s) of one check, in $WORK/NAME; its lines go to NAME.log, 0 or 1 to
# NAME.rc.
unit() {
	u_name=$1 u_kind=$2 u_defs=$3 u_label=$4 u_opt=$5
	u_dir=$WORK/$u_name
	mkdir -p "$u_dir"
	cp "$MODEL" "$u_dir/model.pml"
	case $u_kind in
	safety) u_cflags="-DSAFETY -DNOCLAIM" ;;
	np) u_cflags="-DNP -DNOCLAIM" ;;
	ltl) u_cflags="" u_defs="$u_defs -DLTL" ;;
	esac
	echo "$u_defs" >"$u_dir/defines"
	u_rc=0
	# shellcheck disable=SC2086 # the defines and flags are words
	{
		if ! (cd "$u_dir" && $SPIN $u_defs -a model.pml >spin.log 2>&1); then
			printf 'FAIL  %-40s spin -a failed\n' "$u_label"
			sed 's/^/      /' "$u_dir/spin.log" | head -n 10
			u_rc=1
		elif ! (cd "$u_dir" && $CC $u_opt -w $u_cflags -DCOLLAPSE -o pan pan.c >cc.log 2>&1); then
			printf 'FAIL  %-40s cc failed\n' "$u_label"
			sed 's/^/      /' "$u_dir/cc.log" | head -n 10
			u_rc=1
		else
			case $u_kind in
			safety) pan_run "$u_dir" "$u_label" -n $DEPTH || u_rc=1 ;;
			np) pan_run "$u_dir" "$u_label" -n -l $DEPTH || u_rc=1 ;;
			ltl)
				for claim in $LTL_CLAIMS; do
					pan_run "$u_dir" "$u_label $claim" -n -a -N "$claim" $DEPTH || u_rc=1
				done
				;;
			esac
		fi
	} >"$WORK/$u_name.log" 2>&1
	echo "$u_rc" >"$WORK/$u_name.rc"
}

# run_units: the units of $UNITS (lines NAME|KIND|DEFINES|LABEL|COST|OPT),
# in $JOBS lanes balanced by cost, each lane sequential.
run_units() {
	lane=0
	while [ "$lane" -lt "$JOBS" ]; do
		: >"$WORK/lane$lane"
		eval "load$lane=0"
		lane=$((lane + 1))
	done
	echo "$UNITS" | while IFS='|' read -r name kind defs label cost opt; do
		[ -n "$name" ] || continue
		best=0 lane=0
		eval "min=\$load0"
		while [ "$lane" -lt "$JOBS" ]; do
			l=$(eval "echo \$load$lane")
			if [ "$l" -lt "$min" ]; then min=$l best=$lane; fi
			lane=$((lane + 1))
		done
		eval "load$best=\$((load$best + cost))"
		printf '%s|%s|%s|%s|%s\n' "$name" "$kind" "$defs" "$label" "$opt" >>"$WORK/lane$best"
	done
	lane=0
	while [ "$lane" -lt "$JOBS" ]; do
		(
			while IFS='|' read -r name kind defs label opt; do
				unit "$name" "$kind" "$defs" "$label" "$opt"
			done <"$WORK/lane$lane"
		) &
		lane=$((lane + 1))
	done
	wait
}

START=$(date +%s)
STATUS=0

if [ "$MUTATE" = 0 ]; then
	UNITS=
	for c in $CHECKS; do
		name=${c%%:*} rest=${c#*:}
		kind=${rest%%:*} rest=${rest#*:}
		scen=${rest%%:*} rest=${rest#*:}
		cost=${rest%%:*} opt=$PAN_CFLAGS
		case $rest in *:small) opt=$SMALL_CFLAGS ;; esac
		case $kind in
		safety) label="safety $(echo "$scen" | sed 's/^all$/cq+unbound+mixed+nocb/')" ;;
		np) label="no-cycle $scen" ;;
		ltl) label="ltl $scen" ;;
		esac
		UNITS="$UNITS
$name|$kind|$(scenario_defs "$scen")$EXTRA|$label|$cost|$opt"
	done
	echo "verify: spin $($SPIN -V 2>/dev/null | sed 's/Spin Version //; s/ --.*//'), $(echo "$CHECKS" | grep -c :) pans, $JOBS at a time${EXTRA:+, with$EXTRA} ..."
	run_units
	for c in $CHECKS; do
		name=${c%%:*}
		cat "$WORK/$name.log"
		[ "$(cat "$WORK/$name.rc")" = 0 ] || STATUS=1
	done
	if [ "$STATUS" = 0 ]; then
		echo "verify: all runs passed in $(($(date +%s) - START))s"
	else
		echo "verify: FAILED${EXTRA:+ (with$EXTRA)} after $(($(date +%s) - START))s"
	fi
	exit "$STATUS"
fi

# Mutation check: each mutant must make the safety check of its scenario
# fail.  A mutant's counterexample comes early: cc is most of the cost, so
# the pans are built with SMALL_CFLAGS.
UNITS=
for m in $MUTANTS; do
	name=${m%%:*} scen=${m#*:} kind=safety
	case $scen in *:np) scen=${scen%:np} kind=np ;; esac
	UNITS="$UNITS
$name|$kind|-D$name $(scenario_defs "$scen")$EXTRA|$name ($scen)|3|$SMALL_CFLAGS"
done
echo "verify: mutation check, $(echo "$MUTANTS" | grep -c :) mutants, $JOBS at a time ..."
run_units
for m in $MUTANTS; do
	name=${m%%:*} scen=${m#*:}
	if [ "$(cat "$WORK/$name.rc")" = 0 ]; then
		echo "SURVIVED  $name ($scen): the model did not catch it"
		STATUS=1
	elif grep -q '^      pan:' "$WORK/$name.log"; then
		echo "caught    $name ($scen): $(grep -m 1 '^      pan:' "$WORK/$name.log" | sed 's/^ *pan:[0-9]*: *//')"
	else
		echo "BROKEN    $name ($scen): no counterexample (spin or cc failed?)"
		sed 's/^/  /' "$WORK/$name.log"
		STATUS=1
	fi
done
if [ "$STATUS" = 0 ]; then
	echo "verify: every mutant was caught in $(($(date +%s) - START))s"
else
	echo "verify: mutation check FAILED after $(($(date +%s) - START))s"
fi
exit "$STATUS"
