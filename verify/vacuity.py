#!/usr/bin/env python3
"""verify/vacuity.py - show that the model of verify/sspiasync.pml is not
vacuous: each probe puts an assert(false)-like check at one interesting
interleaving, and spin must REACH it (R) in the scenarios where it can
happen ('-' where it cannot: no CQ in unbound, no callback frees in sync,
the notify list only in unbound, ctx->busy only blocks teardown with the
sync leg, two jobs ready at once (the baton) only in reinit; '.' not run).
The scenarios are verify.sh's: cq, unbound, sync, shutdown (mixed +
sspiasync_shutdown, one worker), reinit, first, nocb (cq-nocb).
Not part of `make verify`; run by hand after changing the model:
    python3 verify/vacuity.py            every probe
    python3 verify/vacuity.py NAME ...   only these probes
Needs spin and cc; works in a temporary directory; about 115 spin/cc/pan
runs, 12 minutes on a 2-core machine (VACUITY_CFLAGS, default -O0: cc
costs more than most of these searches)."""
import os, subprocess, sys, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(HERE, 'sspiasync.pml')).read()
SCENARIOS = [
    ('cq', ['-DCQ']), ('unbound', ['-DUNBOUND']), ('sync', ['-DSYNC_LEG']),
    ('shutdown', ['-DSHUTDOWN', '-DMIXED', '-DONE_WORKER']), ('reinit', ['-DREINIT']),
    ('first', ['-DFIRST_LEG']), ('nocb', ['-DCQ_NOCB']),
]
probes = {
 'free_while_callback_runs': ("\t\t:: a_in_table[fa] ->\n\t\t\tabandoned[fa] = 1;", "\t\t:: a_in_table[fa] ->\n\t\t\tassert(!cb_running[fa]);\n\t\t\tabandoned[fa] = 1;"),
 'cb_frees_other': ("\t:: ca == D || d_begun -> acall_free(1 - ca, cme)", "\t:: ca == D || d_begun -> assert(!a_in_table[1 - ca]); acall_free(1 - ca, cme)"),
 'cq_unlink_on_free': ("\t\t\t\tcql ?? eval(fa);", "\t\t\t\tassert(false); cql ?? eval(fa);"),
 'two_records_one_batch': ("\t\t\t\t\ttwo = 1", "\t\t\t\t\tassert(false); two = 1"),
 'recheck_drops_record': ("\t\t:: abandoned[x] -> cb_end(x, xms); xcb = 0; skipped = 1", "\t\t:: abandoned[x] -> assert(false); cb_end(x, xms); xcb = 0; skipped = 1"),
 'notify_pop_abandoned': ("\t\t\tcall = !abandoned[na] && done_cb[na];", "\t\t\tassert(!abandoned[na]); call = !abandoned[na] && done_cb[na];"),
 'k5_status_job_on_serial': ("\t\t\t\t\t:: CAN_SUBMIT(L) -> submit(L, JSTATUS, QC); ok = 1", "\t\t\t\t\t:: CAN_SUBMIT(L) -> assert(false); submit(L, JSTATUS, QC); ok = 1"),
 'stale_leg_status_job': ("\t:: jkind[j] == JSTATUS ->              /* status_job_run; its cancel runs it too */\n", "\t:: jkind[j] == JSTATUS ->              /* status_job_run; its cancel runs it too */\n\t\tassert(false);\n"),
 'delete_fallback_drain': ("\t\t\tdrain(0, dj);", "\t\t\tassert(false); drain(0, dj);"),
 'leg_pkg_while_deleting': ("\t\tatomic { pkg_running--; cbusy = 0 };", "\t\tatomic { assert(cstate != DELETING); pkg_running--; cbusy = 0 };"),
 'leg_refused': ("\t:: else -> st = ST_INVH", "\t:: else -> assert(false); st = ST_INVH"),
 'leg_cancelled_abandoned': ("\t\t:: ab -> pp = 0                /* leg_job_cancel", "\t\t:: ab -> assert(false)  /* leg_job_cancel"),
 'signal_suppressed': ("\t:: idle > signalled && searching == 0 -> wake_one()\n#endif\n\t:: else -> skip", "\t:: idle > signalled && searching == 0 -> wake_one()\n#endif\n\t:: else -> assert(!(idle > signalled))"),
 'drain_waits': ("\t:: qrun[QC] -> dwait[who] = 1; dj = WAIT", "\t:: qrun[QC] -> assert(false); dwait[who] = 1; dj = WAIT"),
 'freed_after_run_before_finish': ("\t\tkeep = 0;                             /* (d) */", "\t\tassert(!(pp && abandoned[j])); keep = 0;"),
 'teardown_blocked_by_busy': ("\tatomic {\n#ifndef BUG_TEARDOWN_BEFORE_LEG_DONE\n\t\tcbusy == 0 ->\n#endif", "\tatomic { assert(!(cbusy && cstate == DELETING && qrun[QC] && jkind[D] == JDEL && jrun[D])) };\n\tatomic {\n#ifndef BUG_TEARDOWN_BEFORE_LEG_DONE\n\t\tcbusy == 0 ->\n#endif"),
 # shutdown (issue 19, items 1 and 3)
 'door_free_of_pending_call': ("\t\t:: rt_state != RT_RUN && FREE_ENTERS(fwho) -> door_in++; door = 2", "\t\t:: rt_state != RT_RUN && FREE_ENTERS(fwho) -> assert(!(astate[fa] == PENDING && a_in_table[fa])); door_in++; door = 2"),
 'door_free_from_shutdown_cb': ("\t\t:: rt_state != RT_RUN && FREE_ENTERS(fwho) -> door_in++; door = 2", "\t\t:: rt_state != RT_RUN && FREE_ENTERS(fwho) -> assert(fwho != T_SHUT); door_in++; door = 2"),
 'worker_cb_reads_in_shutdown': ("\t\t:: READ_ENTERS(cme) && a_in_table[ca] ->", "\t\t:: READ_ENTERS(cme) && a_in_table[ca] ->\n\t\t\tassert(!(rt_state == RT_SHUT && cme == T_WORKER));"),
 'loop_cb_reads_in_shutdown': ("\t\t:: READ_ENTERS(cme) && a_in_table[ca] ->", "\t\t:: READ_ENTERS(cme) && a_in_table[ca] ->\n\t\t\tassert(!(rt_state == RT_SHUT && cme == T_LOOP));"),
 'cancelled_with_shutdown_status': ("\t\t:: !ab && cn ->", "\t\t:: !ab && cn -> assert(false);"),
 'flush_delivers_record': ("\t\t:: len(cql) > 0 -> reap_pop(na, call, ms); delivered(na)", "\t\t:: len(cql) > 0 -> assert(false); reap_pop(na, call, ms); delivered(na)"),
 'door_closes_with_user_inside': ("\tatomic { rt_state = RT_CLOSED; j = 0; na = 0 };", "\tatomic { assert(door_in == 0); rt_state = RT_CLOSED; j = 0; na = 0 };"),
 'delete_all_tears_down': ("\tctx_delete(g);                             /* sa__ctx_delete_all */", "\tassert(!c_in_table); ctx_delete(g);"),
 # reinit (item 2)
 'reinit_refused_for_older_cb': ("\t\t:: else -> skip                         /* STATUS_INVALID_DEVICE_STATE */", "\t\t:: else -> assert(!(cbseq[L] != 0 && tn == L && ts != cbseq[L] && astate[L] == DONE && !notify_queued[L]))"),
 'two_callbacks_of_one_context': ("\t\tcb_running[ca]++\n", "\t\tassert(cb_running[ca] == 0);\n\t\tcb_running[ca]++\n"),
 'older_cb_end_keeps_mark': ("\t:: cbseq[x] == xms -> cbseq[x] = 0\n\t:: else -> skip", "\t:: cbseq[x] == xms -> cbseq[x] = 0\n\t:: else -> assert(false)"),
 # first leg (item 7)
 'free_after_made_before_finish': ("\t\t\t:: !told[fa] -> freed_untold = 1", "\t\t\t:: !told[fa] -> assert(!(jmade[fa] && astate[fa] == PENDING)); freed_untold = 1"),
 'free_after_done_deletes': ("\t\t\tfdel = amade[fa];", "\t\t\tassert(!amade[fa]); fdel = amade[fa];"),
 'free_after_told_keeps': ("\t\t\t:: else -> skip                    /* the caller's: kept */", "\t\t\t:: else -> assert(!made || caller_del)"),
 'status_read_tells': ("\t\t\t:: astate[L] == DONE -> told[L] = 1; amade[L] = 0", "\t\t\t:: astate[L] == DONE -> assert(!amade[L]); told[L] = 1; amade[L] = 0"),
 'engine_deletes_made': ("\t\tctx_delete(g);               /* the caller deleted", "\t\tassert(false); ctx_delete(g); /* the caller deleted"),
 'engine_delete_not_found': ("\t\tctx_delete(g);               /* the caller deleted", "\t\tassert(c_in_table); ctx_delete(g); /* the caller deleted"),
 'two_deletes_race': ("\t\t\t:: else -> g = 0                  /* already being deleted */", "\t\t\t:: else -> assert(false)"),
 # the new protocol (issue 23 item 2)
 'spin_recheck_finds_work': ("\t\tatomic { spun = 1; take_or_sleep(me) };", "\t\tatomic { spun = 1; take_or_sleep(me); assert(!(j < NA || j == NOTIFY)) };"),
 'baton_passed': ("\t\t:: fj < NA && (JOB_READY || len(notifyl) > 0) && idle > signalled && searching == 0 ->\n#endif\n\t\t\twake_one()", "\t\t:: fj < NA && (JOB_READY || len(notifyl) > 0) && idle > signalled && searching == 0 ->\n#endif\n\t\t\tassert(false)"),
 'finish_hold_takes_next': ("\t\t\t\tjob_take(nj);\n\t\t\t\ttq = 0", "\t\t\t\tjob_take(nj); assert(nj == NONE);\n\t\t\t\ttq = 0"),
 'resubmit_before_old_release': ("\t\tatomic { assert(crc > 0); crc--; rel = 0 }", "\t\tatomic { assert(!(astate[j] == PENDING && !abandoned[j])); assert(crc > 0); crc--; rel = 0 }"),
 'last_ctx_ref_after_done': ("\t\tatomic { assert(crc > 0); crc--; rel = 0 }", "\t\tatomic { assert(!(crc == 1 && !c_in_table && astate[j] == DONE)); assert(crc > 0); crc--; rel = 0 }"),
 'batch_nocb_then_cb': ("\t\t\t\t\ttwo = 1", "\t\t\t\t\tassert(!(cb1 && !cb0)); two = 1"),
 'cb_ends_batch': (":: !cb0 && len(cql) > 0 ->    /* a callback ends the batch */", ":: cb0 && len(cql) > 0 -> assert(false)\n\t\t\t\t:: !cb0 && len(cql) > 0 ->"),
 'free_of_batch_taken_record': ("\t\t:: a_in_table[fa] ->\n\t\t\tabandoned[fa] = 1;", "\t\t:: a_in_table[fa] ->\n\t\t\tassert(!(astate[fa] == DONE && bound[fa] && !done_cb[fa] && !notify_queued[fa] && ndeliv[fa] == 1 && a_rc[fa] > 0));\n\t\t\tabandoned[fa] = 1;"),
}
# probe -> the scenarios (cq, unbound, sync, shutdown, reinit, first, nocb)
# where it must be reached (R), cannot be ('-'), or is not run ('.').  Since
# issue 23 item 2: engine_delete_not_found cannot happen (the caller learns
# the handle only from a publish, and the publish and the undo are decided in
# one hold); no finish hold in reinit takes a job (every call there has a
# callback, so callbacks wait); the baton passes only in reinit (nowhere else
# are two jobs, or a job and a callback nobody delivers, ready at once).
EXPECT = {
    'free_while_callback_runs': 'RRR....', 'cb_frees_other': 'RR-....',
    'cq_unlink_on_free': 'R-R....', 'two_records_one_batch': 'R-R....',
    'recheck_drops_record': 'R-R....', 'notify_pop_abandoned': '-R-....',
    'k5_status_job_on_serial': 'RRR....', 'stale_leg_status_job': 'RRR....', 'delete_fallback_drain': 'RRR....',
    'leg_pkg_while_deleting': 'RRR....', 'leg_refused': 'RRR....',
    'leg_cancelled_abandoned': 'RRR....', 'signal_suppressed': 'RRR....',
    'drain_waits': 'RRR....', 'freed_after_run_before_finish': 'RRR....',
    'teardown_blocked_by_busy': '--R....',
    'door_free_of_pending_call': '...R...', 'door_free_from_shutdown_cb': '...R...',
    'worker_cb_reads_in_shutdown': '...R...', 'loop_cb_reads_in_shutdown': '...R...',
    'cancelled_with_shutdown_status': '...R...', 'flush_delivers_record': '...R...',
    'door_closes_with_user_inside': '...R...', 'delete_all_tears_down': '...R...',
    'reinit_refused_for_older_cb': '....R..', 'two_callbacks_of_one_context': '....R..',
    'older_cb_end_keeps_mark': '....R..',
    'free_after_made_before_finish': '.....R.', 'free_after_done_deletes': '.....R.',
    'free_after_told_keeps': '.....R.', 'status_read_tells': '.....R.',
    'engine_deletes_made': '.....R.', 'engine_delete_not_found': '.....-.',
    'two_deletes_race': '.....R.',
    'spin_recheck_finds_work': 'RRRRRR.', 'baton_passed': '--..R..',
    'finish_hold_takes_next': 'RRR.--.', 'resubmit_before_old_release': '-...R..',
    'last_ctx_ref_after_done': 'RRRR--.', 'batch_nocb_then_cb': '-.....R',
    'cb_ends_batch': 'R-....R', 'free_of_batch_taken_record': '-.....R',
}
# probes of code that only the batch reap has (sa__cq_reap before the fix,
# and its re-check variant): built with these defines
EXTRA = {'two_records_one_batch': ['-DREAP_BATCH_RECHECK'],
         'recheck_drops_record': ['-DREAP_BATCH_RECHECK']}
cflags = os.environ.get('VACUITY_CFLAGS', '-O0').split()
only = sys.argv[1:]
for name in only:
    if name not in probes:
        sys.exit(f"vacuity: no probe {name}")
bad = 0
with tempfile.TemporaryDirectory() as work:
    for name, (a, b) in probes.items():
        if only and name not in only:
            continue
        if src.count(a) != 1:
            print(f"{name:30s} anchor not found once: update vacuity.py")
            bad = 1
            continue
        open(os.path.join(work, 'r.pml'), 'w').write(src.replace(a, b))
        res = ''
        for (sc, defs), want in zip(SCENARIOS, EXPECT[name]):
            if want == '.':
                res += '.'
                continue
            subprocess.run(['spin', *defs, *EXTRA.get(name, []), '-a', 'r.pml'], cwd=work,
                           capture_output=True, check=True)
            subprocess.run(['cc', *cflags, '-w', '-DSAFETY', '-DNOCLAIM', '-DCOLLAPSE', '-o', 'rpan', 'pan.c'],
                           cwd=work, check=True)
            out = subprocess.run(['./rpan', '-n', '-m10000'], cwd=work, capture_output=True, text=True).stdout
            res += 'R' if 'errors: 1' in out else '-'
        ok = res == EXPECT[name]
        bad |= not ok
        print(f"{'ok  ' if ok else 'BAD '}{name:30s} {'/'.join(s for s, _ in SCENARIOS)}: {' '.join(res)}"
              f"{'' if ok else '  expected ' + ' '.join(EXPECT[name])}", flush=True)
sys.exit(1 if bad else 0)
