#!/bin/sh
# test/helgrind.sh - the suites' multi-threaded TCases under a Valgrind race
# detector: Helgrind (default) or DRD (TOOL=drd).
#
#   sh test/helgrind.sh                        every $B/test/check_* (B=build)
#   sh test/helgrind.sh build/test/check_pool  the listed TCases of these suites
#   sh test/helgrind.sh build/test/check_pool:order,fork   just these TCases
#
# Each TCase runs alone (CK_RUN_CASE: Check 0.15 selects one TCase by exact
# name, no lists; tags would need tcase_set_tags() in every suite), in
# process (CK_FORK=no), scaled down for slow runners (SA_TEST_SLOW=1,
# SA_TEST_RACE_DETECTOR=1), under timeout -k 10 $HG_TIMEOUT (600 s).  The run
# fails on any report (--error-exitcode=1), a failed test, a timeout, a
# listed TCase that runs no test (renamed?) or a suite the table below does
# not know.  Logs: $LOGDIR/<suite>.<tcase>.log, .log.out (the suite's own
# output) and .log.xml (Check's, with each test's duration); LOGDIR defaults
# to $B/$TOOL.  More Valgrind options: VALGRIND_OPTS (Valgrind reads it),
# e.g. VALGRIND_OPTS=--history-level=approx for a faster Helgrind.
#
# The audit (on when strace is installed; HG_AUDIT=0 skips it) runs each
# TCase of each suite natively under strace first and fails if one that
# starts a thread is in neither column of the table: a new TCase with
# threads must be listed, so Helgrind/DRD cannot silently miss it.
set -u

TOOL=${TOOL:-helgrind}
B=${B:-build}
HG_TIMEOUT=${HG_TIMEOUT:-600}
LOGDIR=${LOGDIR:-$B/$TOOL}
HG_AUDIT=${HG_AUDIT:-1}

case $TOOL in
helgrind | drd) ;;
*)
	echo "helgrind.sh: TOOL must be helgrind or drd, not '$TOOL'" >&2
	exit 2
	;;
esac

# The TCases that start threads (the test's own, or the library's worker
# pool), per suite: "run" ones run under the detector; "skip" ones start
# threads too but are left out, each for the reason given.  "-": none.
run_tcases() {
	case $1 in
	check_async) echo pool threads ;;
	check_core_races) echo shutdown callbacks abandon delete_race fork ;;
	check_cq) echo api pool epoll ;;
	check_ctxbuf) echo threads ;;
	check_handles) echo concurrency fork ;;
	check_pool) echo config scratch order fork ;;
	# The default pool's two workers start (idle) in every TCase of it;
	check_sspi_sync) echo handshake attributes arguments stale stale_ntlm lifecycle oom trace shutdown ;;
	check_testpkg) echo tamper ;;
	# The default pool starts with the first SSPI call.
	check_ntlm) echo sync ;;
	# "nothread" starts none (no-thread mode from its first call).
	check_ntlm_async) echo pool cq delete failures ;;
	# The HTTP server thread (curl) and the default pool; "base64" starts none.
	check_ntlm_interop) echo curl samba_ntlm_auth gss_ntlmssp winpr ;;
	# The default pool, and MIT's GSSAPI on it; the realm's KDC is a process.
	check_krb5) echo kerberos negotiate ;;
	check_krb5_async) echo slow_kdc ;;
	# The default pool; MIT's GSSAPI and SPNEGO against peer processes.
	check_krb5_interop) echo mit ;;
	# Processes only (KDC, proxy, peers): no thread.
	check_krb5_realm | check_spnego) echo - ;;
	check_alloc | check_fsm | check_htable_edges | check_ntlm_kat | check_sspi_header | check_queue) echo - ;;
	# The default pool where a test calls before its own no-thread init;
	# "utf16" starts none.
	check_wide) echo calls identity ntlm unsupported tables ;;
	check_win_status) echo - ;;
	*) return 1 ;;
	esac
}

skip_tcases() {
	case $1 in
	# e.g. check_foo) echo bar ;; # bar: <why it cannot run under Helgrind/DRD>
	# stale_krb5, stale_nego: the bad-handle probes of "stale" and "stale_ntlm"
	# with another package (71 s under Helgrind); the library's threads with
	# Kerberos and Negotiate run under it in check_krb5_async "slow_kdc".
	check_sspi_sync) echo stale_krb5 stale_nego ;;
	*) echo - ;;
	esac
}

in_list() { # word list...
	w=$1
	shift
	for x in "$@"; do
		[ "$x" = "$w" ] && return 0
	done
	return 1
}

mkdir -p "$LOGDIR" || exit 2
status=0
summary=

# --- audit: every thread-starting TCase is in the table -----------------------
audit() { # binary
	bin=$1
	name=$(basename "$bin")
	xml=$LOGDIR/$name.audit.xml
	rm -f "$xml"
	# Fork mode, as make check runs them; whether the tests pass is make
	# check's business: here only the TCase names are wanted.
	SA_TEST_SLOW=1 CK_XML_LOG_FILE_NAME=$xml timeout -k 10 "$HG_TIMEOUT" "$bin" >/dev/null 2>&1
	if ! grep -q '<description>' "$xml" 2>/dev/null; then
		echo "audit: $name ran no test natively" >&2
		return 1
	fi
	run=$(run_tcases "$name") || return 1
	skip=$(skip_tcases "$name")
	bad=0
	# The TCase names (words), in order, once each: one <description> per test.
	# shellcheck disable=SC2013
	for tc in $(sed -n 's:.*<description>\(.*\)</description>.*:\1:p' "$xml" | awk '!seen[$0]++'); do
		trace=$LOGDIR/$name.$tc.strace
		# clone() with CLONE_THREAD is a thread; without, Check's fork per test.
		SA_TEST_SLOW=1 CK_RUN_CASE=$tc timeout -k 10 "$HG_TIMEOUT" \
			strace -f -qq -e trace=clone,clone3 -o "$trace" "$bin" >/dev/null 2>&1
		n=$(grep -c CLONE_THREAD "$trace")
		rm -f "$trace"
		# shellcheck disable=SC2086 # the lists are words
		if [ "$n" -gt 0 ] && ! in_list "$tc" $run && ! in_list "$tc" $skip; then
			echo "audit: $name TCase '$tc' starts $n thread(s) but is not in test/helgrind.sh's table" >&2
			bad=1
		fi
	done
	rm -f "$xml"
	return $bad
}

# --- one TCase under the detector ----------------------------------------------
run_one() { # binary tcase
	bin=$1
	tc=$2
	name=$(basename "$bin")
	log=$LOGDIR/$name.$tc.log
	start=$(date +%s.%N)
	CK_FORK=no SA_TEST_SLOW=1 SA_TEST_RACE_DETECTOR=1 CK_RUN_CASE=$tc CK_XML_LOG_FILE_NAME=$log.xml \
		timeout -k 10 "$HG_TIMEOUT" valgrind --tool="$TOOL" --error-exitcode=1 \
		--fair-sched=yes --child-silent-after-fork=yes --log-file="$log" \
		--suppressions=test/helgrind.supp \
		"$bin" >"$log.out" 2>&1
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	# No -q: the log's "ERROR SUMMARY: <n> errors from <m> contexts" line
	# (which -q drops) gives m, the distinct reports.
	reports=$(sed -n 's/.*ERROR SUMMARY: [0-9]* errors from \([0-9]*\) contexts.*/\1/p' "$log" | head -n 1)
	checks=$(sed -n 's/.*Checks: \([0-9]*\).*/\1/p' "$log.out" | head -n 1)
	verdict=ok
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		verdict="TIMEOUT after ${HG_TIMEOUT}s"
	elif [ -z "$reports" ]; then
		verdict="no ERROR SUMMARY (rc $rc)"
	elif [ "$reports" != 0 ]; then
		verdict="$reports REPORT(S)"
	elif [ "$rc" -ne 0 ]; then
		verdict="TEST FAILED (rc $rc)"
	elif [ -z "$checks" ] || [ "$checks" -eq 0 ]; then
		verdict="NO TEST RAN (TCase renamed?)"
	fi
	line=$(printf '%-8s %-20s %-12s %7ss  %3s checks  %s reports  %s' \
		"$TOOL" "$name" "$tc" "$secs" "${checks:-?}" "${reports:-?}" "$verdict")
	echo "$line"
	summary="$summary$line
"
	if [ "$verdict" != ok ]; then
		# The reports, without the banner and Helgrind's thread announcements.
		echo "---- $log, $log.out:"
		awk '/---Thread-Announcement---/ { skip = 1; next }
		     /^==[0-9]+== -+$/ { skip = 0 }
		     FNR > 6 && !skip' "$log" | sed -n '1,250p'
		sed -n '1,50p' "$log.out"
		echo "----"
		return 1
	fi
	return 0
}

# --- which suites, which TCases --------------------------------------------------
if [ $# -eq 0 ]; then
	set -- "$B"/test/check_*
fi
total_start=$(date +%s)
if [ "$HG_AUDIT" = 1 ] && ! command -v strace >/dev/null 2>&1; then
	echo "helgrind.sh: no strace, audit skipped (apt-get install strace)"
	HG_AUDIT=0
fi

for arg in "$@"; do
	bin=${arg%%:*}
	case $bin in *.o | *.d) continue ;; esac
	if [ ! -x "$bin" ]; then
		echo "helgrind.sh: $bin: no such test binary (make check-build)" >&2
		status=1
		continue
	fi
	name=$(basename "$bin")
	if ! list=$(run_tcases "$name"); then
		echo "helgrind.sh: $name is not in test/helgrind.sh's table: list its TCases that start threads (or '-')" >&2
		status=1
		continue
	fi
	if [ "$arg" != "$bin" ]; then
		list=$(echo "${arg#*:}" | tr ',' ' ')
	elif [ "$HG_AUDIT" = 1 ]; then
		audit "$bin" || status=1
	fi
	for tc in $list; do
		[ "$tc" = - ] && continue
		run_one "$bin" "$tc" || status=1
	done
done

echo "== $TOOL: $(($(date +%s) - total_start))s in all"
printf '%s' "$summary"
if [ $status -ne 0 ]; then
	echo "== $TOOL: FAILED" >&2
fi
exit $status
