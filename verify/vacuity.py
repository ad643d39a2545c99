#!/usr/bin/env python3
"""verify/vacuity.py - show that the model of verify/sspiasync.pml is not
vacuous: each probe puts an assert(false)-like check at one interesting
interleaving, and spin must REACH it (R) in the scenarios where it can
happen ('-' where it cannot: no CQ in unbound, no callback frees in sync,
the notify list only in unbound, ctx->busy only blocks teardown with the
sync leg).  Not part of `make verify`; run by hand after changing the model:
    python3 verify/vacuity.py
Needs spin and cc; works in a temporary directory; takes a few minutes
(45 spin/cc/pan runs)."""
import os, subprocess, sys, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(HERE, 'sspiasync.pml')).read()
probes = {
 'free_while_callback_runs': ("\t\t:: a_in_table[fa] ->\n\t\t\tabandoned[fa] = 1;", "\t\t:: a_in_table[fa] ->\n\t\t\tassert(!cb_running[fa]);\n\t\t\tabandoned[fa] = 1;"),
 'cb_frees_other': ("\t:: ca == D || d_begun -> acall_free(1 - ca, cme)", "\t:: ca == D || d_begun -> assert(!a_in_table[1 - ca]); acall_free(1 - ca, cme)"),
 'cq_unlink_on_free': ("\t\t\t\tcql ?? eval(fa);", "\t\t\t\tassert(false); cql ?? eval(fa);"),
 'two_records_one_batch': ("\t\t\t\t\ttwo = 1", "\t\t\t\t\tassert(false); two = 1"),
 'recheck_drops_record': ("\t\t:: abandoned[x] -> notifying[x] = 0; xcb = 0; skipped = 1", "\t\t:: abandoned[x] -> assert(false); notifying[x] = 0; xcb = 0; skipped = 1"),
 'notify_pop_abandoned': ("\t\t\tcall = !abandoned[na] && done_cb[na];", "\t\t\tassert(!abandoned[na]); call = !abandoned[na] && done_cb[na];"),
 'k5_status_job_on_serial': ("\t\t\t\t\t:: CAN_SUBMIT(L) -> submit(L, JSTATUS, QC); ok = 1", "\t\t\t\t\t:: CAN_SUBMIT(L) -> assert(false); submit(L, JSTATUS, QC); ok = 1"),
 'stale_leg_status_job': ("\t:: jkind[j] == JSTATUS ->              /* status_job_run; its cancel runs it too */\n", "\t:: jkind[j] == JSTATUS ->              /* status_job_run; its cancel runs it too */\n\t\tassert(false);\n"),
 'delete_fallback_drain': ("\t\t\tdrain(0, dj);", "\t\t\tassert(false); drain(0, dj);"),
 'leg_pkg_while_deleting': ("\t\tatomic { pkg_running--; cbusy = 0 };", "\t\tatomic { assert(cstate != DELETING); pkg_running--; cbusy = 0 };"),
 'leg_refused': ("\t:: else -> st = ST_INVH", "\t:: else -> assert(false); st = ST_INVH"),
 'leg_cancelled_abandoned': ("\t\t:: ab -> skip ", "\t\t:: ab -> assert(false) "),
 'signal_lost': ("\t\t:: else -> skip\n\t\tfi\n\t:: else -> skip\n\tfi\n#else", "\t\t:: else -> assert(false)\n\t\tfi\n\t:: else -> skip\n\tfi\n#else"),
 'drain_waits': ("\t:: qrun[QC] -> dwait[who] = 1; dj = WAIT", "\t:: qrun[QC] -> assert(false); dwait[who] = 1; dj = WAIT"),
 'published_then_freed': ("\t\tkeep = 0;\n", "\t\tkeep = 0;\n\t\tassert(!(published[j] && abandoned[j]));\n"),
 'teardown_blocked_by_busy': ("\tatomic {\n#ifndef BUG_TEARDOWN_BEFORE_LEG_DONE\n\t\tcbusy == 0 ->\n#endif", "\tatomic { assert(!(cbusy && cstate == DELETING && qrun[QC] && jkind[D] == JDEL && jrun[D])) };\n\tatomic {\n#ifndef BUG_TEARDOWN_BEFORE_LEG_DONE\n\t\tcbusy == 0 ->\n#endif"),
}
# probe -> the scenarios (cq, unbound, sync) where it must be reached
EXPECT = {
    'free_while_callback_runs': 'RRR', 'cb_frees_other': 'RR-',
    'cq_unlink_on_free': 'R-R', 'two_records_one_batch': 'R-R',
    'recheck_drops_record': 'R-R', 'notify_pop_abandoned': '-R-',
    'k5_status_job_on_serial': 'RRR', 'stale_leg_status_job': 'RRR', 'delete_fallback_drain': 'RRR',
    'leg_pkg_while_deleting': 'RRR', 'leg_refused': 'RRR',
    'leg_cancelled_abandoned': 'RRR', 'signal_lost': 'RRR',
    'drain_waits': 'RRR', 'published_then_freed': 'RRR',
    'teardown_blocked_by_busy': '--R',
}
bad = 0
with tempfile.TemporaryDirectory() as work:
    for name, (a, b) in probes.items():
        if src.count(a) != 1:
            print(f"{name:28s} anchor not found once: update vacuity.py")
            bad = 1
            continue
        open(os.path.join(work, 'r.pml'), 'w').write(src.replace(a, b))
        res = ''
        for sc in (['-DCQ'], ['-DUNBOUND'], ['-DSYNC_LEG']):
            subprocess.run(['spin', *sc, '-a', 'r.pml'], cwd=work, capture_output=True, check=True)
            subprocess.run(['cc', '-O1', '-w', '-DSAFETY', '-DNOCLAIM', '-DCOLLAPSE', '-o', 'rpan', 'pan.c'],
                           cwd=work, check=True)
            out = subprocess.run(['./rpan', '-n', '-m10000'], cwd=work, capture_output=True, text=True).stdout
            res += 'R' if 'errors: 1' in out else '-'
        ok = res == EXPECT[name]
        bad |= not ok
        print(f"{'ok  ' if ok else 'BAD '}{name:28s} cq/unbound/sync: {' '.join(res)}"
              f"{'' if ok else '  expected ' + ' '.join(EXPECT[name])}", flush=True)
sys.exit(1 if bad else 0)
