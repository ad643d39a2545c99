/*
 * verify/sspiasync.pml - a Promela model of the async protocol, checked
 * exhaustively by spin (verify/verify.sh, `make verify`).
 *
 * What it is: one security context with its FIFO serial queue, two async
 * contexts (one per call: an async leg and an async delete), two pool
 * workers, two client threads that submit the leg and the delete, a
 * freer that may free either async context at any point, callbacks that may
 * free their own or the other async context, and an event loop that reaps
 * the completion queue (CQ).  Optionally a synchronous leg on the same
 * context (-DSYNC_LEG), or sspiasync_shutdown at any point (-DSHUTDOWN).
 * Two scenarios of their own (issue 19): callbacks that reinit and resubmit
 * their context (-DREINIT), and a first leg, which makes a security
 * context, abandoned at any point (-DFIRST_LEG).  What it is not: a model
 * of the data (tokens, buffers, statuses are a few symbols) or of
 * credentials.  Mapped to the protocol of issue 23 item 2 (the NEW
 * protocol, modelled before the C code of src/async/ and src/sspi/ is
 * rewritten to it): a job's finish is one hold of the engine lock with the
 * publish in it, and its release() after DONE; wake suppression with a
 * brief spin (e->searching, e->signalled, the baton); the completion
 * queue's reap in batches (records without callback, ended by one with a
 * callback).  Everything else as in the C code of 6f414bb (issue 19: the
 * shutdown door R5, the callback sequence numbers, the first leg's rule
 * ABANDON_UNTIL_TOLD).  The properties and the abstractions are listed
 * below; verify/README.md says the same for readers, with the findings.
 *
 * ---------------------------------------------------------------------------
 * PROCESSES -> C
 *   ClientLeg(), ClientDelete()
 *              two application threads: leg_submit() and
 *              SspiDeleteSecurityContextAsync() (src/sspi/async_api.c),
 *              concurrently (so in either order and every interleaving in
 *              between), each on its own async context.  leg_submit
 *              queues a status job (SEC_E_INVALID_HANDLE) on ctx->serial if
 *              the context is already DELETING/INVALID (K5), else the leg
 *              job; a stale handle gets a status job on its own.
 *   Freer()    any application thread calling SspiFreeAsyncContext ->
 *              sa__acall_free() (src/async/acall.c), on either async context
 *              (the delete's once the delete was begun), at any point, also
 *              while its callback runs.
 *   callback() the user's SspiAsyncNotifyCallback, run by a Worker
 *              (sa__notify_deliver -> notify_call) or by the Loop (reap);
 *              it may call SspiFreeAsyncContext on its own async context or
 *              on the other one (not with -DSYNC_LEG or -DNO_CB_FREE).
 *   Worker(w)  worker_main() (src/async/engine.c): sa__job_take_locked,
 *              sa__job_execute (job.c: run or cancel with no lock, then
 *              job_finish's one hold, which may take the next job, then
 *              release(), undo, the acall reference), sa__notify_deliver
 *              (notify.c); when it finds nothing: searching, it spins (one
 *              unlocked step), re-checks under the lock, then sleeps on
 *              e->work (idle).  A searcher that takes a job passes the baton.
 *   Loop()     the event loop: poll() on the CQ's eventfd, then
 *              sa__cq_reap() (src/async/notify.c): one hold of the engine
 *              lock takes every consecutive record without callback and at
 *              most one with a callback, which ends the batch (each told,
 *              delivered; notifying set for the callback); then with no lock
 *              the references of those without callback, the callback,
 *              notifying cleared (notify_call), its reference; next batch.
 *              Variants: REAP below.
 *   SyncLeg()  (-DSYNC_LEG) InitializeSecurityContextA -> leg_sync()
 *              (src/sspi/context.c): sa__leg_resolve, sa__engine_drain,
 *              sa__leg_perform, sa__leg_release; the one caller of a package
 *              leg that is not ordered by the serial queue, so the one that
 *              exercises ctx->busy / ctx->idle in sa__ctx_teardown.
 *   Shutdown() (-DSHUTDOWN) sspiasync_shutdown -> runtime_destroy
 *              (src/sspi/runtime.c): g_dying and g_shutting_down set (the
 *              door open, submissions refused), wait for g_active == 0,
 *              sa__engine_stop (stopping, broadcast, join), then on this
 *              thread sa__engine_cancel_all (non-exempt jobs cancelled with
 *              SHUTDOWN_IN_PROGRESS, exempt ones run, callbacks here) and
 *              sa__cq_flush_all, dying_close (door closed, wait for
 *              g_dying_users == 0), sa__ctx_delete_all, sa__engine_destroy.
 *              The clients, the freer and the loop's reap enter the runtime
 *              (sa__rt_enter / sa__rt_enter_acall) and leave it.
 *   ClientR()  (-DREINIT) an application thread that reinits and resubmits
 *              the context once, from outside any callback.  The callbacks
 *              (on the workers) may reinit and resubmit it too.
 *   ClientD()  (-DREINIT) another application thread: one call on a second
 *              async context (D), on its own queue, at any time.
 *   ClientFirst(), CallerDelete()  (-DFIRST_LEG) the first leg's submission
 *              (its job on its own queue: leg_create, package, publish
 *              writes *phNewContext), and the caller's DeleteSecurityContext
 *              on that handle, at any time after it was written, or never.
 *   Monitor()  not code: fires on `timeout` (nothing else can move, i.e. the
 *              system is quiescent) and checks the end-state properties.
 *   Wake()     not code: never moves unless E6b or the bounds of the wake
 *              counters are broken (then it fails), so it checks them in
 *              every state (-DNO_WAKE_INV: left out).
 *
 * VARIABLES -> C   (key: [E] engine lock, [C] ctx->lock, [A] atomic, [g] ghost)
 *   struct sa_acall (async_int.h), indexed by call: L = 0 (the leg's async
 *   context), D = 1 (the delete's):
 *     astate[a]        [E] a->state (IDLE / PENDING / DONE)
 *     abandoned[a]     [E] a->abandoned
 *     notify_queued[a] [E] a->notify_node linked (on the engine notify list or on
 *                          the CQ's record list)
 *     cbseq[a]         [E] the sequence number of the latest callback
 *                          started, 0 when none runs (the old a->notifying)
 *     seqctr[a]        [E] the last sequence number given to a delivered
 *                          completion (its pop); a thread's tl_seq is the
 *                          local ms (ms0, ms1 in the loop)
 *     status[a]        [E] a->status (ST_* symbols)
 *     has_cb[a]        [E] a->cb != NULL (set while IDLE, before submission)
 *     done_cb[a]       [E] a->done_cb != NULL
 *     bound[a]         [E] a->cq != NULL (sa__acall_bind while IDLE, before
 *                          submission; sa__acall_free unbinds: abandoned
 *                          covers that, as job_finish checks it first)
 *     a_in_table[a]    [A] the handle-table entry is live (sa_htable: removed
 *                          by sa__acall_free -> sa_htable_remove)
 *     a_rc[a]          [A] references taken by sa_htable_acquire and not yet
 *                          released: the job's (sa__engine_submit), then the
 *                          record's (job_finish keep_ref).  The memory is
 *                          freed (acall_dtor) when !a_in_table && a_rc == 0:
 *                          ALIVE(a) below.
 *   the jobs (struct sa_job; one call per async context, so the job of call
 *   a is named a too):
 *     jkind[a]         [i] job->ops: JLEG leg_job_ops, JDEL delete_job_ops,
 *                          JSTATUS status_job_ops (stale_submit on its own
 *                          queue; K5 on ctx->serial, owning a ctx reference)
 *     jq[a]            [i] job_queue(job): QC = &ctx->serial, QOWN + a =
 *                          &job->own (a job that runs on its own).  The job
 *                          lives in the async context: a resubmission
 *                          (REINIT) rewrites jkind, jq; what job_finish needs
 *                          after its hold it copies in the hold (locals q,
 *                          rel, del, keep)
 *   struct sa_engine (async_int.h):
 *     readyq, qready[] [E] the e->ready list, q->ready_node linked
 *     sq               [E] ctx->serial.jobs (the FIFO of queued jobs)
 *     own[q]           [E] job->own.jobs (queue QOWN + a holds job a)
 *     qrun[q]          [E] q->running
 *     e_running,e_calls[E] e->running, e->calls
 *     notifyl          [E] the e->notify list
 *     idle, waiting[w], woken[w]
 *                      [E] e->idle and the condition variable e->work: a
 *                          worker is blocked in pthread_cond_wait (waiting),
 *                          or was signalled and waits for the lock (woken);
 *                          pthread_cond_signal unblocks one blocked worker
 *                          (no spurious wakeups are modelled, so a lost
 *                          wakeup would show as a stuck state).
 *     searching, signalled
 *                      [E] e->searching (workers awake looking for work:
 *                          spinning, or signalled and not yet back under the
 *                          lock), e->signalled (signals not yet consumed by a
 *                          wake).  work_signal signals only if idle >
 *                          signalled && searching == 0.  Worker locals:
 *                          srch (this worker counts in searching), spun (it
 *                          spun already: the next empty look sleeps).
 *     dwait[p]         [E] a drainer blocked on e->changed (p = 0 the
 *                          client's delete fallback, 1 the sync leg), i.e.
 *                          counted in e->changed_waiters; job_finish
 *                          broadcasts when there is one, clearing them all.
 *     notify_any       [A] e->notify_any, written under [E], read unlocked as
 *                          sa__notify_deliver's hint
 *   struct sa_cq (async_int.h, src/async/cq.c):
 *     cql              [E] q->records (Q1)
 *     efd              [E] q->readable, kept == (records non-empty) by
 *                          sa__cq_level_locked at every push/unlink (Q2,
 *                          pool mode)
 *   struct sa_ctx (src/sspi/sspi_int.h):
 *     cstate           [C] ctx->state, abstracted: LIVE (PARTIAL, COMPLETE or
 *                          REJECTED), DELETING, INVALID
 *     cbusy            [C] ctx->busy (waits on ctx->idle are guards: every
 *                          busy = 0 is followed by a broadcast)
 *     c_in_table       [A] the ctxts table entry is live
 *     crc              [A] references on it (leg job: sa__leg_resolve ..
 *                          sa__leg_release; K5 status job: sa__ctx_get ..
 *                          ctx_put_owner; delete: sa__ctx_get ..
 *                          delete_job_release; sync leg).  The context, with
 *                          its serial queue and its embedded delete job, is
 *                          freed when !c_in_table && crc == 0: CTX_ALIVE.
 *   ghosts [g]:
 *     submitted[a]     the Sspi*Async call returned SEC_E_OK (queued)
 *     npub[a]          the finish hold published outputs + status (publish_locked)
 *     nfin[a]          job_finish ran for the call
 *     ndeliv[a]        its completion was delivered (popped with a callback
 *                      to call from the notify list, or taken by reap and
 *                      passed its re-check)
 *     freed[a]         SspiFreeAsyncContext returned for it
 *     freer_of[a]      ... on which thread (T_FREER, T_WORKER + w, T_LOOP)
 *     freed_undeliv[a] ... before its completion was delivered
 *     cb_running[a]    its callback is running
 *     jrun[a]          its job is between take and job_finish's queue release
 *     ndlv             workers bound to deliver the notify list (E6b)
 *     fwait[w]         worker w finished a job while callbacks waited, and
 *                      has not popped one since, nor has the list emptied (E7)
 *     pkg_running      package legs running (fn() in sa__leg_perform)
 *     torn             ctx->pkg->ctx_delete ran (sa__ctx_teardown)
 *     d_begun          the delete's async_begin passed (the freer may free D
 *                      from then on: fire-and-forget)
 *   SHUTDOWN (src/sspi/runtime.c):
 *     rt_state         [G] RT_RUN (g_rt), RT_SHUT (g_shutting_down, g_dying:
 *                          the door open), RT_CLOSED (g_dying = NULL),
 *                          RT_DEAD (engine destroyed)
 *     rt_in, door_in   [A] g_active, g_dying_users
 *     stopping, wexit  [E] e->stopping; worker w left worker_main (joined)
 *   REINIT: ncall, callno[a] [g] calls so far, the context's current call
 *                          (call k publishes status 10 + k); cbview[t] [g]
 *                          thread t runs a callback whose call is still the
 *                          context's (set at the pop, cleared at its end or
 *                          when that thread reinits)
 *   FIRST_LEG: made, jmade[a] (the job's record of the handle it made),
 *     out_h (*phNewContext written), caller_del (the caller's
 *     DeleteSecurityContext) [g, i]; told[a], amade[a] [E] (the caller was
 *     told of the DONE call; the handle it made, kept until told),
 *     freed_untold [g] (freed before the caller was told)
 *
 * ---------------------------------------------------------------------------
 * WHAT IT PROVES (every interleaving of the processes above, exhaustively)
 *   P1 No package leg after teardown, and none overlapping it: a leg starts
 *      only while !torn; ctx_delete runs only while no leg runs; at most once.
 *   P2 Each submitted call completes exactly once: job_finish once
 *      (nfin == 1), outputs/status published at most once (npub <= 1), and a
 *      call that was not queued never runs.  A call that was not freed ends
 *      DONE with a recorded status.  Publish, queue release, counts and
 *      DONE are one hold (job_finish): no state in between.
 *   P3 Its completion (callback or CQ record) is delivered at most once, and
 *      exactly once unless the async context was freed before delivery.
 *   P4 No callback for an acall freed before its completion was delivered
 *      (the delivery point: the pop under the engine lock, or the reap's
 *      re-check), and none for an acall that the callback's own thread freed
 *      before (e.g. an earlier callback of the same reap).  A free while the
 *      callback runs, from it or elsewhere, is allowed.  -DSTRICT_CB checks
 *      the stronger "no callback starts after any free returned": it fails,
 *      see the README (a free on another thread races a popped record).
 *   P5 No completion record for a freed context: job_finish never appends a
 *      freed acall to the CQ, reap never takes one (free unlinks it), and
 *      never returns one that its own thread freed before its turn.
 *   P6 No output is written (the finish hold's publish) for a freed async context.
 *   P7 No use after free of an async context (ALIVE at every access by the
 *      engine after the free), of the security context (CTX_ALIVE at every
 *      touch of its serial queue, E5: the queue is released in the finish
 *      hold, before release() drops the job's context reference, which may
 *      be the last one, after DONE), no reference count underflow, and no
 *      leak (every reference released at the end).  release() works on what
 *      the hold copied: a reinit + resubmit may reuse the job at once.
 *   P8 E2: jobs of the serial queue run one at a time, in FIFO order.
 *   P9 The security context always reaches INVALID (torn down, handle
 *      removed, memory freed), every queue drains, the CQ is empty and its
 *      eventfd not readable at the end.
 *   P10 No deadlock: every terminal state is a valid end state (workers
 *      asleep on e->work, the loop in poll(), everybody else returned), and
 *      (verify.sh, -l run) no cycle: every execution reaches such a state.
 *      So no lost wakeup, with signals suppressed while a worker searches.
 *   E6 A worker goes to sleep only when no job may start and no callback
 *      waits (asserted at its sleep, after the spin's locked re-check).
 *   E6b (wake suppression keeps the pool busy; the Wake process, in every
 *      state) While a job may start, or callbacks wait that no worker is
 *      bound to deliver, and a worker sleeps that no signal is on its way
 *      to, some worker is searching.  And 0 <= signalled <= searching <= NW,
 *      signalled <= idle (the counters never underflow).  At the end
 *      searching == signalled == 0.
 *   E7 (callbacks are not starved by jobs) A worker does not finish a
 *      second job while callbacks wait that it has not delivered since its
 *      first (rule (f): a worker whose finish hold sees callbacks delivers
 *      them before it takes another job).
 *   P11 (SHUTDOWN, issue 19 items 1, 3) A free that returns during a
 *      shutdown, from any thread, abandons the call like any other (P4 and
 *      P6 hold throughout); every callback, on any thread, reads with
 *      SspiGetAsyncCallStatus the status its own call published (unless its
 *      context was freed meanwhile); nothing is published and no callback
 *      runs once the door is closed; no async-context function touches the
 *      engine after it was destroyed; shutdown always completes, with every
 *      call completed and delivered and no reference left (P2, P3, P7, P9).
 *   P12 (REINIT, item 2) While a callback runs, its call stays the
 *      context's: no other thread's reinit or submission is accepted before
 *      it returns (only the thread running the latest callback may), so it
 *      reads its own status at its end.
 *   P13 (FIRST_LEG, item 7) At the end the context a first leg made is alive
 *      iff the caller was told of the completion (callback popped, final
 *      status read) before any free, and did not delete it itself; else it
 *      was torn down exactly once (the engine's delete, job_finish's undo or
 *      the free's, and the caller's may race).  So "PENDING, then free"
 *      always deletes it unless a callback was delivered in between.
 *   LTL delete_reaches_invalid: <>[] (cstate == INVALID)  (P9)
 *   LTL no_leg_after_teardown: [] (torn -> [] (pkg_running == 0))  (P1)
 *
 * WHAT IT ABSTRACTS
 *   - Each region under one lock (engine lock or ctx->lock) is one atomic
 *     step; unlock/lock points are where other processes interleave.  The
 *     C code never holds the engine lock and ctx->lock together on these
 *     paths, and mutexes give sequential consistency to data they guard.
 *   - sa_htable's lock-free acquire/release/remove are single atomic steps
 *     (their own linearizability is tested in test/check_handles.c).  The
 *     acquire + release pair inside sa__acall_free is elided (they cancel
 *     out within one step).  Submission (sa__engine_submit and
 *     sa__engine_submit_status) is one hold: acquire, CAN_SUBMIT, reserve,
 *     enqueue (there is no earlier check_idle).
 *   - The fsm is reduced to LIVE / DELETING / INVALID: the package result of
 *     a leg never changes LIVE-ness, OUT_OF_SEQUENCE refusals are not
 *     modelled (allowing more package legs only adds behaviours).
 *   - One call per async context except in REINIT; callbacks are
 *     registered before submission; no SetAsyncNotifyCallback(NULL) while
 *     PENDING; no credentials, no second delete, no second shutdown (R6).
 *   - The worker's spin before sleep is one unlocked step between two holds
 *     (bounded to 1): whether its unlocked hint shows work or not, the next
 *     step is the same locked re-check.  A woken worker that finds nothing
 *     spins too.  No spurious wakeups (see e->work above).
 *   - In the scenarios of the leg and the delete the workers start asleep
 *     (START_ASLEEP); reinit and first start them awake, so a submission
 *     races their first look and spin there (-DWORKERS_AWAKE: everywhere).
 *   - SHUTDOWN: one worker (two, 15 M states: too long for the suite); the
 *     mixed binding (the leg's completion on the CQ: the loop's reap or the
 *     flush; the delete's on the notify list: the worker or the shutdown
 *     thread); a callback's status read is one step (enter, read, leave);
 *     sa__ctx_delete_all's drain is elided (asserted empty).  REINIT: one
 *     async context, unbound, calls with nothing to run (status jobs on
 *     their own queue, or on ctx->serial owning a context reference), at
 *     most MAXCALL = 3 calls, no free; and a second async context with one
 *     call on its own queue, submitted at any time, whose callback does
 *     nothing.  FIRST_LEG: the leg always makes its context; the
 *     credential is elided.
 *   - Pool mode only (2 workers); the no-thread mode (sspiasync_run) runs
 *     the same sa__job_execute/job_finish on one thread, a subset of these
 *     interleavings.  The CQ eventfd is a flag kept equal to "records
 *     queued" under the engine lock (the design's "readable exactly while").
 *   - Memory is a pair (in table, references); C memory ordering is not
 *     modelled beyond the locks (TSan/Helgrind cover that).
 *
 *   - A reap batch holds at most 2 records (the caller's n, and REAP_BATCH
 *     in C, are larger, but there are only 2 async contexts); the order of
 *     records in a batch and on the lists is the C's (FIFO).
 *
 * SCENARIOS (-D at spin -a), every async context with a callback but in
 * cq-nocb:
 *   -DCQ: both async contexts bound to the CQ.  -DUNBOUND: neither bound,
 *   callbacks via the engine's notify list (delivered by the workers).
 *   -DMIXED: the leg bound, the delete not.  -DCQ_NOCB: both bound, the
 *   delete's with no callback (a reap batch: a record without callback,
 *   then one with, or one with a callback ending the batch before one
 *   without).  None of these: all four, the choice being the first step of
 *   the search.  -DSYNC_LEG: CQ plus the
 *   synchronous leg (and, to keep the run small, callbacks free nothing
 *   there: the other scenarios cover that).  -DSHUTDOWN (with one of the
 *   above, -DONE_WORKER): sspiasync_shutdown at any point.  -DREINIT,
 *   -DFIRST_LEG: scenarios of their own (init below).
 * REAP (see below): default the new batch (REAP_CB_BATCH); -DREAP_ONE one
 *   record per lock hold (sa__cq_reap of 6f414bb, passes);
 *   -DREAP_BATCH_RECHECK every record in one hold, with a re-check (passes);
 *   -DREAP_NO_RECHECK the same without re-check, as in e2765cb (FAILS: P4/P5).
 * THE C's CHOICES (40dd350, where it differs from the protocol as first
 * specified), on by default so the model follows the code; -DSPEC_WAKE
 * turns both off (the protocol as first specified, which passes too):
 *   FINISH_SIGNAL_LEFT: a worker's finish hold holds back the signals of
 *   (b) and of its own notify push and signals at (f) for what it leaves
 *   (the spec's wakes a sleeping worker for the serial queue's next job at
 *   (b) and then takes that job itself at (f): README, Findings);
 *   BATON_ON_NOTIFY: a searcher that found callbacks passes the baton too.
 * MUTANTS (each must FAIL; verify.sh -m), the BUG_* blocks below:
 *   BUG_PUBLISH_AFTER_FREE       the finish hold's publish ignores abandoned
 *   BUG_NO_UNLINK_ON_FREE        sa__acall_free leaves a CQ record queued
 *   BUG_DONE_WHEN_ABANDONED      job_finish makes a freed call DONE
 *   BUG_RECORD_NO_REF            job_finish drops the ref the record needs
 *   BUG_EFD_CLEAR_LATE           the loop clears the eventfd after draining
 *   BUG_ADMIT_ANY                a leg ignores the fsm's admission
 *   BUG_NO_WORK_SIGNAL           work_signal (ready push, notify push) never
 *                                signals (the baton still does)
 *   BUG_TEARDOWN_BEFORE_LEG_DONE teardown does not wait for ctx->busy (sync)
 *   BUG_QUEUE_NOT_SERIAL         sa__job_take_locked ignores q->running (sync)
 *   BUG_HINT_CLEARED_EARLY       sa__notify_deliver clears notify_any at every
 *                                pop: a worker spins (no-cycle check)
 *   The code before issue 19:
 *   BUG_FREE_IGNORED_IN_SHUTDOWN a free while shutdown runs does nothing
 *                                (but on the shutdown thread): P6 (item 1)
 *   BUG_SHUTDOWN_CB_BLIND        a status read during shutdown, but on the
 *                                shutdown thread, gets SHUTDOWN_IN_PROGRESS:
 *                                P11 (item 3)
 *   BUG_NOTIFYING_FLAG           one notifying flag, cleared by any
 *                                callback's end: P12 (item 2)
 *   BUG_ABANDON_AT_RUN_ONLY      (was BUG_ABANDON_AT_PUBLISH_ONLY, whose
 *                                publish/DONE window is gone) run() looks
 *                                at abandoned and deletes what a first leg
 *                                made; the finish hold has no undo: P13
 *   BUG_ABANDON_BEFORE_DONE_ONLY the intermediate protocol: only a free
 *                                before DONE deletes it; one after DONE but
 *                                before the caller was told keeps it: P13
 *   The new protocol (issue 23 item 2):
 *   BUG_RELEASE_BEFORE_QUEUE     release() (the context reference) before
 *                                the finish hold releases the queue: E5/P7
 *   BUG_RELEASE_AFTER_REUSE      release() reads the job after the hold (a
 *                                resubmission reused it): P7 (reinit)
 *   BUG_SIGNAL_SUPPRESSED_ALWAYS work_signal skips the signal when
 *                                searching == 0: lost wakeup (E6b, P9/P10)
 *   BUG_NO_BATON                 a searcher that takes a job never passes
 *                                the baton: E6b only (reinit; not a stall)
 *   BUG_SPIN_NO_RECHECK          a spinner sleeps without the locked
 *                                re-check: E6 (then a stall)
 *   BUG_REAP_BATCH_PAST_CB       a reap batch goes on past a record with a
 *                                callback: P4/P5 (cq-nocb)
 *   BUG_FINISH_TAKE_WITH_NOTIFY  the finish hold takes the next job although
 *                                callbacks wait: E7 (not a stall)
 */
#ifndef SPEC_WAKE
#define FINISH_SIGNAL_LEFT
#define BATON_ON_NOTIFY
#endif

/* The reap: by default the new batch (REAP_CB_BATCH: records without
 * callback, ended by at most one with a callback, in one hold).
 * -DREAP_ONE: sa__cq_reap of 6f414bb, one record per hold of the engine
 * lock, its callback after.  -DREAP_BATCH_RECHECK: a batch of every waiting
 * record unlinked in one hold with a re-check of each record before its
 * callback (passes too).  -DREAP_NO_RECHECK: sa__cq_reap as it was in
 * e2765cb, that batch without a re-check: FAILS (a callback after the free,
 * a record of a freed context). */
#if !defined(REAP_ONE) && !defined(REAP_BATCH_RECHECK) && !defined(REAP_NO_RECHECK)
#define REAP_CB_BATCH
#endif
#if defined(REAP_BATCH_RECHECK) || defined(REAP_NO_RECHECK)
#define REAP_BATCH
#ifndef REAP_NO_RECHECK
#define REAP_RECHECK
#endif
#endif

/* In the scenarios of the leg and the delete (all but reinit and first),
 * the workers start asleep on e->work: the race of a submission with a
 * worker's first look and spin, the same as with any later one, is
 * explored in reinit and first (-DWORKERS_AWAKE: here too, 1.6x the states). */
#if !defined(REINIT) && !defined(FIRST_LEG) && !defined(WORKERS_AWAKE)
#define START_ASLEEP
#endif

#define NA        2     /* async contexts / calls */
#define L         0     /* the leg's async context (and its job) */
#define D         1     /* the delete's */
#define NONE      9     /* no job / no acall */
#define NOTIFY    8     /* worker: no job, but callbacks wait */
#define SPIN      5     /* worker: nothing found, spins (searching) before the locked re-check */
#define WAIT      7     /* drain: waiting on e->changed */

#define T_FREER   1     /* threads, for freer_of[] and cbview[] */
#define T_WORKER  2     /* T_WORKER + w */
#define T_LOOP    4
#define T_SHUT    5     /* the thread in sspiasync_shutdown (SHUTDOWN) */
#define T_CLIENT  6     /* an application thread (REINIT) */
#define NT        7

#define QC        0     /* ctx->serial */
#define QOWN      1     /* QOWN + a: job->own of call a */
#define NQ        3

#define IDLE      1     /* enum sa_acall_state */
#define PENDING   2
#define DONE      3

#define LIVE      1     /* ctx->state, abstracted */
#define DELETING  2
#define INVALID   3

#define JLEG      1     /* job->ops */
#define JDEL      2
#define JSTATUS   3
#define JCALL     4     /* REINIT: a call with nothing to run (a status job on its own queue) */
#define JFIRST    5     /* FIRST_LEG: a first leg, which makes a security context */

#define ST_PKG    1     /* the package's status */
#define ST_OK     2     /* SEC_E_OK of a delete */
#define ST_INVH   3     /* SEC_E_INVALID_HANDLE */
#define ST_SHUT   4     /* SEC_E_SHUTDOWN_IN_PROGRESS: published by shutdown's
			 * cancellation, and what a refused runtime entry returns */
#define ST_PEND   5     /* SEC_I_ASYNC_CALL_PENDING (status of a PENDING call) */
#define ST_IDLE   6     /* SEC_E_INVALID_PARAMETER (status of an IDLE context) */
/* REINIT: call k of the context publishes status 10 + k (each call its own) */

#define CNEW      4     /* ctx->state NEW: made by a first leg that still runs (FIRST_LEG) */

#define RT_RUN    0     /* the runtime (SHUTDOWN): g_rt published */
#define RT_SHUT   1     /* g_shutting_down: submissions refused; the door (g_dying) open */
#define RT_CLOSED 2     /* the door closed: async-context functions refused */
#define RT_DEAD   3     /* engine destroyed (every handle stale) */
#define STOP      6     /* worker: e->stopping seen, exit */

#define MAXCALL   3     /* REINIT: calls on the context in all */

#ifdef ONE_WORKER
#define NW        1     /* pool workers */
#else
#define NW        2
#endif

/* ---- struct sa_acall ---------------------------------------------------- */
byte astate[NA];
bit  abandoned[NA];
bit  notify_queued[NA];
byte cbseq[NA];        /* [E] the sequence of the latest callback started, 0 when
			* none runs (replaces the old flag a->notifying, A5) */
byte seqctr[NA];       /* [E] the sequence numbers given to delivered completions */
byte status[NA];
bit  has_cb[NA];
bit  done_cb[NA];
bit  bound[NA];
bit  a_in_table[NA];
byte a_rc[NA];
byte jkind[NA];
byte jq[NA];

#define ALIVE(a)      (a_in_table[a] || a_rc[a] > 0)
/* sa__acall_busy_locked() (acall.c), on a thread whose tl_notifying is
 * @tn with tl_seq @ts: PENDING, or its completion waits, or a callback runs
 * and this thread is not the one running the latest callback. */
#ifndef BUG_NOTIFYING_FLAG
#define BUSY(a, tn, ts) (astate[a] == PENDING || notify_queued[a] || \
			 (cbseq[a] != 0 && !((tn) == (a) && (ts) == cbseq[a])))
#else
/* the old flag: any callback of the context running on this thread */
#define BUSY(a, tn, ts) (astate[a] == PENDING || notify_queued[a] || \
			 (cbseq[a] != 0 && (tn) != (a)))
#endif
#define CAN_SUBMIT_T(a, tn, ts) (a_in_table[a] && astate[a] == IDLE && !BUSY(a, tn, ts))
/* from outside any callback */
#define CAN_SUBMIT(a) CAN_SUBMIT_T(a, NONE, 0)

/* ---- struct sa_engine --------------------------------------------------- */
chan readyq  = [NQ] of { byte };
bit  qready[NQ];
bit  qrun[NQ];
chan sq      = [3] of { byte };
bit  own[NQ];
byte e_running;
byte e_calls;
chan notifyl = [NA] of { byte };
bit  notify_any;       /* [a] e->notify_any: notify list non-empty, written under [E], read unlocked */
byte idle;
byte searching;        /* [E] e->searching: workers awake and looking for work (spinning
			* before sleep, or signalled and not yet back under the lock) */
byte signalled;        /* [E] e->signalled: signals sent, not yet consumed by a wake */
bit  waiting[2];
bit  woken[2];
bit  dwait[2];
byte ndlv;             /* [g] workers bound to deliver the notify list (in notify_deliver, or
			* decided to go there under the lock) */
bit  e6_broken;        /* [g] set only to fail: E6 (a worker sleeps although work waits) */
bit  e6b_broken;       /* [g] set only to fail: E6b */
bit  fwait[2];         /* [g] E7: worker w finished a job while callbacks waited and has
			* not popped one since (nor has the list emptied) */

#define QHAS(q) ((q) == QC -> len(sq) > 0 : own[q])
/* a job may start: its queue on the ready list, not running, a job queued */
#define QREADY(q) (qready[q] && !qrun[q] && QHAS(q))
#define JOB_READY (QREADY(QC) || QREADY(QOWN + L) || QREADY(QOWN + D))
/* E6b (wake suppression keeps the pool busy): while a job may start, or a
 * callback waits that no worker is bound to deliver, and a worker sleeps
 * unsignalled, some worker is searching.  (idle > signalled: a worker blocked
 * on e->work that no signal is on its way to.) */
/* the counters never underflow (a byte would wrap) and stay within bounds */
#define WAKE_COUNTS (searching <= NW && signalled <= searching && signalled <= idle && idle <= NW)
#define E6B (!((JOB_READY || (len(notifyl) > 0 && ndlv == 0)) && idle > signalled && searching == 0))
/* P8 (E2): no job of ctx->serial runs when one of them is taken */
#define NO_QC_JOB_RUNS (!(jrun[L] && jq[L] == QC) && !(jrun[D] && jq[D] == QC))

/* ---- the completion queue (design) -------------------------------------- */
chan cql     = [NA] of { byte };
bit  efd;

/* ---- struct sa_ctx ------------------------------------------------------ */
byte cstate;
bit  cbusy;
bit  c_in_table;
byte crc;

#define CTX_ALIVE (c_in_table || crc > 0)

/* ---- ghosts ------------------------------------------------------------- */
bit  submitted[NA];
byte npub[NA];
byte nfin[NA];
byte ndeliv[NA];
bit  freed[NA];
byte freer_of[NA];     /* which thread freed it: T_FREER, T_WORKER + w, T_LOOP, T_SHUT */
bit  freed_undeliv[NA];
byte cb_running[NA];
bit  jrun[NA];
byte pkg_running;
bit  torn;
bit  d_begun;

#ifdef SHUTDOWN
/* ---- the runtime (src/sspi/runtime.c) and the workers' stop ------------- */
byte rt_state;         /* [G] RT_RUN .. RT_DEAD (g_rt, g_shutting_down, g_dying) */
byte rt_in;            /* [a] g_active: calls inside the runtime */
byte door_in;          /* [a] g_dying_users: async-context calls inside the dying runtime */
bit  stopping;         /* [E] e->stopping */
bit  wexit[2];         /* worker w returned from worker_main (joined) */
/* An async-context function may enter from thread @t: the running runtime,
 * or (R5) the dying one while its door is open.  The old code let in only
 * the shutdown thread (tl_dying, its callbacks). */
#define ACALL_ENTERS(t) (rt_state == RT_RUN || rt_state == RT_SHUT)
#define ACALL_ENTERS_OLD(t) (rt_state == RT_RUN || (rt_state == RT_SHUT && (t) == T_SHUT))
#endif

#ifdef SHUTDOWN
#define RT_OPEN (rt_state == RT_RUN)
#else
#define RT_OPEN 1
#endif

#ifdef REINIT
byte ncall;            /* [g] calls submitted on the context so far */
byte callno[NA];       /* [g] the call the context holds now (its status is 10 + callno) */
bit  cbview[NT];       /* [g] thread t runs a callback of L whose call is still the
			* context's: nobody else may reinit or submit until it returns */
#endif

#ifdef FIRST_LEG
bit  made;             /* [g] the first leg made the security context (l->made) */
bit  jmade[NA];        /* [i] the job's record of the handle it made (kept past release) */
bit  out_h;            /* [g] the new handle was written to the caller's phNewContext */
bit  caller_del;       /* [g] the caller called DeleteSecurityContext on the new handle */
/* Item 7's rule (ABANDON_UNTIL_TOLD): what the call made is the caller's
 * once the caller was told of the completion (its callback popped for
 * delivery, its record reaped, a status read that returned the final
 * status, or a reinit); a free before that deletes it: before DONE through
 * job_finish's undo, after DONE on the free's thread after the unlock. */
bit  told[NA];         /* [E] the caller was told of the DONE call */
bit  amade[NA];        /* [E] the handle the DONE call made, kept until told */
bit  freed_untold;     /* [g] freed before the caller was told */
#if defined(BUG_ABANDON_BEFORE_DONE_ONLY) || defined(BUG_ABANDON_AT_PUBLISH_ONLY)
#define KEEP_AFTER_DONE /* the mutants: a free after DONE deletes nothing */
#endif
#endif

/* =========================================================================
 * Engine helpers.  Context: inside an atomic step (engine lock held).
 * ========================================================================= */

#ifdef SHUTDOWN
#define STOPPING stopping
#else
#define STOPPING 0
#endif

/* Send one signal: pthread_cond_signal(&e->work) unblocks one worker still
 * blocked on it (idle > signalled says there is one, but after shutdown's
 * broadcast, which woke them all: then the signal is consumed by one of
 * those when it returns); its searching is counted from now. */
inline wake_one() {
	signalled++;
	searching++;
	assert(signalled <= idle && signalled <= searching && searching <= NW);
	if
	:: waiting[0] && !woken[0] -> woken[0] = 1
	:: waiting[1] && !woken[1] -> woken[1] = 1
	:: else -> assert(STOPPING)
	fi
}

/* work_signal_locked(): a job or a callback was made ready (ready_push, a
 * notify push): signal only if a worker sleeps that no signal is on its way
 * to and nobody is searching (a searcher finds it, and passes the baton). */
inline work_signal() {
#ifndef BUG_NO_WORK_SIGNAL
	if
#ifdef BUG_SIGNAL_SUPPRESSED_ALWAYS
	:: idle > signalled && searching != 0 -> wake_one()  /* skipped when searching == 0 */
#else
	:: idle > signalled && searching == 0 -> wake_one()
#endif
	:: else -> skip
	fi
#else
	skip
#endif
}

/* A searching worker found work under the lock (@fj: a job, else callbacks):
 * it stops searching, and, having taken a job, if work remains ready
 * (another job may start, or callbacks wait) and a worker sleeps unsignalled
 * and nobody else searches, it signals (the baton).  Callbacks it found are
 * its own to deliver (it delivers every one): no baton for them, and after
 * job_take found none no job may start.  Context: engine lock held. */
inline found_work(fj) {
	if
	:: srch -> assert(searching > 0); searching--; srch = 0
#ifndef BUG_NO_BATON
		;
		if
#ifdef BATON_ON_NOTIFY
		/* the C of 40dd350 (baton_locked): also after finding callbacks,
		 * and "ready" is the ready list non-empty */
		:: (len(readyq) > 0 || len(notifyl) > 0) && idle > signalled && searching == 0 ->
#else
		:: fj < NA && (JOB_READY || len(notifyl) > 0) && idle > signalled && searching == 0 ->
#endif
			wake_one()
		:: else -> skip
		fi
#endif
	:: else -> skip
	fi;
	spun = 0
}

/* The worker goes to sleep: E6, then idle, blocked on e->work.  Context:
 * engine lock held, nothing found by the re-check after a spin. */
inline go_sleep(me) {
	assert(srch && searching > 0);
	searching--;
	srch = 0;
	spun = 0;
	e6_broken = (JOB_READY || len(notifyl) > 0);
	assert(!e6_broken);                        /* E6: no job may start, no callback waits */
	idle++;
	waiting[me] = 1;
	j = NONE
}

/* ready_push_locked() */
inline ready_push(q) {
	if
	:: !qready[q] -> qready[q] = 1; readyq ! q; work_signal()
	:: else -> skip
	fi
}

/* ready_push_locked(e, q, signal) */
inline ready_push_sig(q, sg) {
	if
	:: !qready[q] -> qready[q] = 1; readyq ! q; if :: sg -> work_signal() :: else -> skip fi
	:: else -> skip
	fi
}

/* ready_unlink_locked() */
inline ready_unlink(q) {
	if
	:: qready[q] -> readyq ?? eval(q); qready[q] = 0
	:: else -> skip
	fi
}

/* sa__job_take_locked() (job.c): the next job that may start, its queue marked running,
 * and (ab) whether its call was abandoned.  P8 (E2): the job taken is the
 * head of its FIFO and nothing else of that queue runs. */
inline job_take(j) {
	j = NONE;
	do
	:: len(readyq) > 0 ->
		readyq ? tq; qready[tq] = 0;
		if
		:: tq == QC -> assert(CTX_ALIVE)  /* E4/P7: the queue's memory */
		:: else -> skip
		fi;
		if
#ifdef BUG_QUEUE_NOT_SERIAL
		:: !QHAS(tq) -> skip              /* ignores q->running */
#else
		:: qrun[tq] || !QHAS(tq) -> skip  /* running elsewhere */
#endif
		:: else ->
			if
			:: tq == QC -> assert(NO_QC_JOB_RUNS); sq ? j
			:: else -> j = tq - QOWN; own[tq] = 0
			fi;
			qrun[tq] = 1;
			e_running++;
			assert(!jrun[j]);
			jrun[j] = 1;
			ab = abandoned[j];        /* read when taken (A3) */
			break
		fi
	:: else -> break
	od
}

/* sa__engine_submit() / sa__engine_submit_status() -> submit_locked(), with
 * sa_htable_acquire's reference passing to the job (A2).  Context: the
 * caller checked CAN_SUBMIT(a) in the same step. */
inline submit(a, kind, q) {
#ifdef REINIT
	assert(!submitted[a] || nfin[a] == 1);   /* the call before completed (P2) */
	npub[a] = 0;                             /* the ghosts count per call */
	nfin[a] = 0;
	ndeliv[a] = 0;
#endif
	a_rc[a]++;
	astate[a] = PENDING;
	done_cb[a] = 0;
	jkind[a] = kind;
	jq[a] = q;
	if
	:: q == QC -> sq ! a
	:: else -> own[q] = 1
	fi;
	if
	:: !qrun[q] -> ready_push(q)
	:: else -> skip
	fi;
	e_calls++;
	submitted[a] = 1
}

/* sa__acall_free() (acall.c) on async context @fa, by thread @fwho: abandon;
 * if bound and its record waits on the CQ, unlink it (the fd goes down if
 * the queue empties) and release the record's reference (A6); unbind;
 * remove the table entry (the handle is stale at once).  One hold of the
 * engine lock; the acquire/release pair around it is elided.  On the
 * engine's notify list a record is not unlinked: sa__notify_deliver skips it. */
inline free_op(fa, fwho) {
		if
		:: a_in_table[fa] ->
			abandoned[fa] = 1;
			a_in_table[fa] = 0;
			freed[fa] = 1;
			freer_of[fa] = fwho;
			if
			:: ndeliv[fa] == 0 -> freed_undeliv[fa] = 1
			:: else -> skip
			fi;
#ifdef FIRST_LEG
			if
			:: !told[fa] -> freed_untold = 1   /* before the caller was told */
			:: else -> skip                    /* the caller's: kept */
			fi;
			fdel = amade[fa];              /* DONE, not told: its context goes too */
			amade[fa] = 0;
#endif
#ifndef BUG_NO_UNLINK_ON_FREE
			if
			:: notify_queued[fa] && bound[fa] ->
				cql ?? eval(fa);
				notify_queued[fa] = 0;
				assert(a_rc[fa] > 0);
				a_rc[fa]--;
#ifndef BUG_EFD_CLEAR_LATE
				efd = (len(cql) > 0)
#endif
			:: else -> skip
			fi
#endif
		:: else -> skip /* a freed handle: no-op */
		fi
}

/* SspiFreeAsyncContext: sa__rt_enter_acall, sa__acall_free, leave.  SHUTDOWN:
 * the entry (R5) is the running runtime (g_active), else the dying one while
 * its door is open (g_dying_users), else refused (the door closed: nothing
 * runs any more; or the runtime gone: the handle is stale).  Local: door. */
#ifdef BUG_FREE_IGNORED_IN_SHUTDOWN
#define FREE_ENTERS(t) ACALL_ENTERS_OLD(t)
#else
#define FREE_ENTERS(t) ACALL_ENTERS(t)
#endif
inline acall_free(fa, fwho) {
#ifdef SHUTDOWN
	atomic {
		if
		:: rt_state == RT_RUN -> rt_in++; door = 1
		:: rt_state != RT_RUN && FREE_ENTERS(fwho) -> door_in++; door = 2
		:: else ->
#ifdef BUG_FREE_IGNORED_IN_SHUTDOWN
			/* the old free during a shutdown: refused, it does nothing,
			 * and returns (void) as if it had freed */
			if
			:: rt_state == RT_SHUT && a_in_table[fa] && !freed[fa] ->
				freed[fa] = 1;
				freer_of[fa] = fwho;
				if
				:: ndeliv[fa] == 0 -> freed_undeliv[fa] = 1
				:: else -> skip
				fi
			:: else -> skip
			fi;
#endif
			door = 3
		fi
	};
	if
	:: door < 3 ->
		atomic { assert(rt_state < RT_DEAD); free_op(fa, fwho) };
		atomic {
			if
			:: door == 1 -> rt_in--
			:: else -> door_in--
			fi;
			door = 0
		}
	:: else -> door = 0
	fi
#else
	atomic { free_op(fa, fwho) }
#ifdef FIRST_LEG
	;
	if
	:: fdel -> ctx_delete(g); fdel = 0       /* after the unlock, as job_finish's */
	:: else -> skip
	fi
#endif
#endif
}

/* =========================================================================
 * Jobs: sa__job_execute (job.c) -> ops->run / ops->cancel, job_finish.
 * Locals used (declared by every proctype that runs jobs: JOB_LOCALS):
 *   byte tq, q, st, na, ms, mst, rd, door; bit ab, adm, keep, call, del, g, rok.
 * ========================================================================= */

/* The publish (job_finish's first part, in its one hold of the engine
 * lock): unless abandoned, copy_out + status, from what run() or cancel()
 * recorded with no lock (@pp: it would publish, status st).  P6: never for
 * a freed async context.  Sets pb: published.  Context: engine lock held. */
inline publish_locked(j) {
	assert(ALIVE(j));
	pb = 0;
	if
#ifdef BUG_PUBLISH_AFTER_FREE
	:: pp ->
#else
	:: pp && !abandoned[j] ->
#endif
		assert(!freed[j]);
#ifdef SHUTDOWN
		assert(rt_state < RT_CLOSED);
#endif
#ifdef FIRST_LEG
		if
		:: jkind[j] == JFIRST -> out_h = 1   /* copy_out: *phNewContext = the new handle */
		:: else -> skip
		fi;
#endif
		status[j] = st;
		pb = 1;
		npub[j]++;
		assert(npub[j] == 1)
	:: else -> skip
	fi
}

/* sa__ctx_teardown() (context.c): wait until the context is not busy (a leg
 * that was running finishes first), busy, remove the handle, package
 * ctx_delete with no lock, INVALID (TEARDOWN_DONE), not busy. */
inline teardown() {
	atomic {
#ifndef BUG_TEARDOWN_BEFORE_LEG_DONE
		cbusy == 0 ->
#endif
		assert(CTX_ALIVE);
		assert(cstate == DELETING);
		cbusy = 1
	};
	atomic { assert(c_in_table); c_in_table = 0 };  /* sa_htable_remove(rt->ctxts) */
	atomic {                                          /* ctx->pkg->ctx_delete(pkg_ctx) */
		assert(pkg_running == 0);                 /* P1 */
		assert(!torn);
		torn = 1
	};
	atomic { assert(CTX_ALIVE); cstate = INVALID; cbusy = 0 }
}

/* sa__ctx_delete() (context.c) on the security context's handle: acquire
 * it (a handle already removed is not found), mark DELETING (refused if a
 * delete was accepted before), tear down, release.  Its drain of the serial
 * queue is elided where this is used: nothing is queued there (FIRST_LEG),
 * or only after the workers stopped and every job ran (SHUTDOWN, asserted).
 * Local: bit g. */
inline ctx_delete(g) {
	atomic {
		if
		:: c_in_table -> crc++; g = 1
		:: else -> g = 0
		fi
	};
	if
	:: g ->
		atomic {                                  /* sa__ctx_mark_deleting */
			assert(CTX_ALIVE);
			if
			:: cstate == LIVE -> cstate = DELETING
			:: else -> g = 0                  /* already being deleted */
			fi
		};
		if
		:: g -> atomic { assert(len(sq) == 0 && !qrun[QC]) }; teardown()
		:: else -> skip
		fi;
		atomic { assert(crc > 0); crc--; g = 0 }   /* sa__ctx_put */
	:: else -> skip
	fi
}

/* sa__leg_perform() (context.c) for a later leg: sa__ctx_begin(ADMIT_LEG)
 * waits until not busy, then admits (LIVE) or refuses (DELETING, INVALID:
 * SEC_E_INVALID_HANDLE, nothing ran); the package runs with no lock held;
 * then the fsm step and busy = 0 under ctx->lock.  Result in st. */
inline leg_perform() {
	atomic {
		cbusy == 0 ->
		assert(CTX_ALIVE);
		if
#ifdef BUG_ADMIT_ANY
		:: true -> cbusy = 1; adm = 1      /* ignores the fsm's ADMIT_LEG */
#else
		:: cstate == LIVE -> cbusy = 1; adm = 1
		:: else -> adm = 0
#endif
		fi
	};
	if
	:: adm ->
		atomic { assert(!torn); pkg_running++ };  /* fn(): the package leg starts (P1) */
		atomic { pkg_running--; cbusy = 0 };      /* it returned: fsm step, busy = 0 */
		st = ST_PKG
	:: else -> st = ST_INVH
	fi
}

/* job_run_or_cancel() (job.c) and the ops of async_api.c / engine.c, with
 * no lock: they only record what they would publish (pp, status st; a first
 * leg also the handle it made, jmade), published by job_finish's hold.  @ab
 * was read under the engine lock when the job was taken; @cn: shutdown's
 * sa__engine_cancel_all, which cancels a non-exempt job with
 * SEC_E_SHUTDOWN_IN_PROGRESS (published) and runs an exempt one. */
inline job_execute(j, cn) {
	if
	:: jkind[j] == JLEG ->
		if
		:: ab -> pp = 0                /* leg_job_cancel(job, 0): publishes nothing */
		:: !ab && cn ->
			pp = 1; st = ST_SHUT   /* leg_job_cancel(job, SHUTDOWN_IN_PROGRESS) */
		:: else ->
			leg_perform();         /* leg_job_run */
			pp = 1
		fi
	:: jkind[j] == JDEL ->                 /* delete_job_run; its cancel runs it too */
		teardown();
		pp = 1; st = ST_OK
	:: jkind[j] == JSTATUS ->              /* status_job_run; its cancel runs it too */
		pp = 1; st = ST_INVH
#ifdef REINIT
	:: jkind[j] == JCALL ->                /* a call with no work: its own status */
		pp = 1; st = 10 + callno[j]
#endif
#ifdef FIRST_LEG
	:: jkind[j] == JFIRST ->
		if
		:: ab ->
			pp = 0                 /* cancelled: made nothing */
		:: else ->                     /* leg_job_run: sa__leg_perform, first leg */
			atomic {               /* leg_create: in the table (unpublished), NEW, busy */
				assert(!c_in_table && cstate == 0);
				c_in_table = 1;
				cstate = CNEW;
				cbusy = 1
			};
			atomic { assert(!torn); pkg_running++ };    /* the package leg */
			atomic {               /* fsm step (CONTINUE_NEEDED): made, busy = 0 */
				pkg_running--;
				cstate = LIVE;
				cbusy = 0;
				made = 1;
				jmade[j] = 1   /* the job records the handle it made */
			};
			pp = 1; st = ST_PKG    /* copy_out will write *phNewContext (out_h) */
#ifdef BUG_ABANDON_AT_RUN_ONLY
			/* run() decides: it looks at abandoned (a hold of its own) once it
			 * made the context, and deletes it if the call was freed; the
			 * finish hold has no undo.  A free after this look and before
			 * the hold is missed. */
			;
			atomic { g = abandoned[j] };
			if
			:: g -> jmade[j] = 0; pp = 0; ctx_delete(g)
			:: else -> skip
			fi
#endif
		fi
#endif
	fi
}

/* job_finish() (job.c): ONE hold of the engine lock, in this order: (a) the
 * publish, unless abandoned; (b) the queue released (E5: the context is
 * alive, the job holds its reference), the next job of it made ready; (c)
 * e->running, e->calls; (d) DONE and the record (CQ) or the notify entry
 * (signal), or, abandoned, nothing; (e) broadcast e->changed; (f) a worker
 * (@wk: its number, NONE for a drainer or shutdown) takes its next job in
 * the same hold if no callback waits (else it delivers them first): nj.
 * What the rest needs is copied in the hold (the job lives in the async
 * context and may be reused by a reinit + resubmit once the hold ends).
 * Then, with no lock: release() (the job's context reference: may free the
 * security context, and the delete job with it), the undo if the call was
 * abandoned having made something, and the acall reference unless the
 * record or entry took it. */
inline job_finish(j, wk) {
#ifdef BUG_RELEASE_BEFORE_QUEUE
	/* release() before the hold: the queue's context may be gone at (b) */
	if
	:: jq[j] == QC -> atomic { assert(crc > 0); crc-- }
	:: else -> skip
	fi;
#endif
	atomic {
#ifdef FINISH_SIGNAL_LEFT
		/* the C of 40dd350: whether this worker takes in this hold is
		 * decided now; the signals of (b) and of its own notify push are
		 * held back, and at (f) it signals for what it leaves */
		tk = (wk != NONE && len(notifyl) == 0 && !STOPPING);
#endif
		publish_locked(j);                    /* (a) */
		q = jq[j];                            /* (b) */
		if
		:: q == QC -> assert(CTX_ALIVE)       /* E5/P7 */
		:: else -> skip
		fi;
		qrun[q] = 0;
		jrun[j] = 0;
		if
#ifdef FINISH_SIGNAL_LEFT
		:: q == QC && len(sq) > 0 -> ready_push_sig(QC, !tk)
#else
		:: q == QC && len(sq) > 0 -> ready_push(QC)
#endif
		:: else -> skip
		fi;
		e_running--;                          /* (c) */
#if defined(FIRST_LEG) && !defined(BUG_ABANDON_AT_RUN_ONLY)
		/* the call's linearization point: abandoned here, what it made
		 * goes (the handle the job recorded, deleted after the unlock) */
		del = jmade[j] && abandoned[j];
#endif
		if
		:: !del -> e_calls--
		:: else -> skip                       /* an undo counts until it is done (72543d5) */
		fi;
		assert(ALIVE(j));
		nfin[j]++;
		assert(nfin[j] == 1);                 /* P2 */
		keep = 0;                             /* (d) */
		if
#ifdef BUG_DONE_WHEN_ABANDONED
		:: pp ->                              /* DONE from what run() recorded */
#else
		:: pb && !abandoned[j] ->
#endif
			astate[j] = DONE;
#if defined(FIRST_LEG) && !defined(KEEP_AFTER_DONE)
			amade[j] = jmade[j];       /* kept until the caller is told */
#endif
			done_cb[j] = has_cb[j];
			if
			:: bound[j] ->                /* the CQ: append, eventfd readable */
				assert(!freed[j]);    /* P5 */
				cql ! j;
				notify_queued[j] = 1;
				efd = 1;
				keep = 1
			:: !bound[j] && done_cb[j] -> /* the engine notify list */
				assert(!freed[j]);
				notifyl ! j;
				notify_any = 1;
				notify_queued[j] = 1;
				keep = 1;
#ifdef FINISH_SIGNAL_LEFT
				if
				:: wk == NONE -> work_signal()
				:: else -> skip       /* a worker delivers it itself next */
				fi
#else
				work_signal()
#endif
			:: else -> skip
			fi
		:: else -> skip
		fi;
		dwait[0] = 0;                         /* (e) pthread_cond_broadcast(&e->changed) */
		dwait[1] = 0;
		rel = (q == QC);                      /* copied: what release() drops */
#ifdef FIRST_LEG
		jmade[j] = 0;
#endif
		pp = 0; pb = 0; st = 0;
		nj = NONE;                            /* (f) */
		if
		:: wk != NONE ->
			if
			:: len(notifyl) > 0 ->
				/* E7: callbacks wait; this worker finished a job while
				 * callbacks waited before, and has not delivered one since */
				assert(!fwait[wk]);
				fwait[wk] = 1
			:: else -> skip
			fi;
			if
#ifdef BUG_FINISH_TAKE_WITH_NOTIFY
			:: !STOPPING ->                   /* takes although callbacks wait */
#else
			:: len(notifyl) == 0 && !STOPPING ->
#endif
				job_take(nj);
				tq = 0
#ifdef FINISH_SIGNAL_LEFT
				;
				if
				:: len(readyq) > 0 || len(notifyl) > 0 -> work_signal()
				:: else -> skip
				fi
#endif
			:: len(notifyl) > 0 -> nd = 1; ndlv++   /* bound to deliver them */
#ifdef FINISH_SIGNAL_LEFT
				;
				if
				:: tk && len(readyq) > 0 -> work_signal()   /* a callback came first */
				:: else -> skip
				fi
#endif
			:: else -> skip
			fi;
			tk = 0
		:: else -> skip
		fi
	};
#ifndef BUG_RELEASE_BEFORE_QUEUE
	if                                            /* job->ops->release(job), on the copies */
#ifdef BUG_RELEASE_AFTER_REUSE
	:: jq[j] == QC ->                             /* reads the job, which may be a new call's now */
#else
	:: rel ->                                     /* sa__leg_release, delete_job_release, ctx_put_owner: */
#endif
		atomic { assert(crc > 0); crc--; rel = 0 }   /* sa__ctx_put (may free the context) */
	:: else -> rel = 0                            /* a status job on its own: release NULL */
	fi;
#endif
#ifdef FIRST_LEG
	if
	:: del ->                            /* ops->undo: sa__ctx_delete (acquire: a context */
		ctx_delete(g);               /* the caller deleted is not found) */
		atomic { e_calls--; del = 0 }
	:: else -> skip
	fi;
#endif
#ifdef BUG_RECORD_NO_REF
	keep = 0;
#endif
	if
	:: !keep -> atomic { assert(a_rc[j] > 0); a_rc[j]-- }  /* sa_htable_release */
	:: else -> keep = 0                                     /* the record's now (A5) */
	fi
}

/* The user's callback, on thread @me, no lock held.  It may free its own
 * async context or the other one (the delete's only once the delete was
 * begun).  P4: no callback starts for an async context that its own thread
 * freed before (a free on another thread is a race: the delivery point, the
 * pop, decides; -DSTRICT_CB asserts the stronger form here). */
#ifdef SHUTDOWN
/* SspiGetAsyncCallStatus(ca) from the callback running on thread @cme (P11):
 * it reads its own call's published status, @mst.  Entry, read and leave
 * in one step (the free, which is three, checks the door's protocol). */
#ifdef BUG_SHUTDOWN_CB_BLIND
#define READ_ENTERS(t) ACALL_ENTERS_OLD(t)
#else
#define READ_ENTERS(t) ACALL_ENTERS(t)
#endif
inline cb_read(ca, cme) {
	atomic {
		if
		:: READ_ENTERS(cme) && a_in_table[ca] ->
			if
			:: astate[ca] == DONE -> rd = status[ca]
			:: astate[ca] == PENDING -> rd = ST_PEND
			:: else -> rd = ST_IDLE
			fi
		:: READ_ENTERS(cme) && !a_in_table[ca] ->
			rd = mst                 /* freed meanwhile by another thread (a
						  * free racing a taken callback is allowed,
						  * P4): SEC_E_INVALID_HANDLE, not checked */
		:: else -> rd = ST_SHUT          /* refused: SEC_E_SHUTDOWN_IN_PROGRESS */
		fi;
		assert(rd == mst);               /* P11 */
		rd = 0
	}
}
#endif

#ifdef REINIT
/* A new call on L: a job on its own queue, or one on ctx->serial owning a
 * reference on the security context (a K5 status job), which its release()
 * drops after the finish hold: the job, embedded in the async context, is
 * then reused while the worker that finished the one before has not
 * dropped that one's reference yet.  The reference is taken in the
 * submission's step (sa__ctx_get; the context is live throughout). */
inline reinit_call() {
	if
	:: submit(L, JCALL, QOWN + L)
	:: assert(c_in_table); crc++; submit(L, JCALL, QC)
	fi
}

/* SspiReinitAsyncContext(L), then a submission on it, from thread @who
 * whose tl_notifying is @tn with tl_seq @ts (NONE, 0 outside a callback).
 * P12: accepted only while no other thread runs a callback whose call is
 * still the context's (cbview).  Local: bit rok. */
inline reinit_submit(tn, ts, who) {
	atomic {                                        /* sa__acall_reinit */
		rok = ncall < MAXCALL && a_in_table[L] && !BUSY(L, tn, ts);
		if
		:: rok ->
			assert(!cbview[T_WORKER] || who == T_WORKER);        /* P12 */
			assert(!cbview[T_WORKER + 1] || who == T_WORKER + 1);
			assert(!cbview[T_CLIENT] || who == T_CLIENT);
			cbview[who] = 0;                /* its own call is gone now */
			astate[L] = IDLE
		:: else -> skip                         /* STATUS_INVALID_DEVICE_STATE */
		fi
	};
	if
	:: rok ->
		atomic {                                /* the submission (async_begin, submit) */
			if
			:: CAN_SUBMIT_T(L, tn, ts) ->
				ncall++;
				callno[L] = ncall;
				reinit_call()
			:: else -> skip
			fi;
			rok = 0
		}
	:: else -> skip
	fi
}
#endif

inline callback(ca, cme) {
	atomic {
#ifdef STRICT_CB
		assert(!freed[ca]);
#endif
		assert(freer_of[ca] != cme);
#ifdef SHUTDOWN
		assert(rt_state < RT_CLOSED);            /* R5: nothing runs once the door is closed */
		mst = status[ca];
#endif
		cb_running[ca]++
	};
#ifdef SHUTDOWN
	cb_read(ca, cme);
#endif
#ifdef REINIT
	/* it may reinit and resubmit its own context, twice (from any
	 * callback: the refusal decides; the second try comes after a newer
	 * callback may have started), then it reads its call's status unless
	 * it reinitialized; the other context's (D) does nothing */
	if
	:: ca == L ->
		if
		:: skip
		:: ncall < MAXCALL -> reinit_submit(ca, ms, cme)
		fi;
		if
		:: skip
		:: ncall < MAXCALL -> reinit_submit(ca, ms, cme)
		fi
	:: else -> skip
	fi;
	atomic {
		if
		:: cbview[cme] -> assert(astate[ca] == DONE && status[ca] == mst)   /* P12 */
		:: else -> skip
		fi;
		cbview[cme] = 0;
		mst = 0;
		cb_running[ca]--
	}
#else
#if !defined(NO_CB_FREE) && !defined(SYNC_LEG)
	if
	:: skip
	:: acall_free(ca, cme)                                  /* free from inside its own callback */
	:: ca == D || d_begun -> acall_free(1 - ca, cme)         /* another context's */
	fi;
#endif
#ifdef SHUTDOWN
	mst = 0;
#endif
	cb_running[ca]--
#endif
}

/* The delivery point's A5 mark (the pop of a completion with a callback to
 * call): the completion's sequence number becomes the context's latest
 * callback started, and the thread's tl_seq (@xms).  The old code: one flag,
 * notifying = (callback != NULL), set and cleared by every delivery. */
inline cb_take(x, c, xms) {
#ifndef BUG_NOTIFYING_FLAG
	if
	:: c -> seqctr[x]++; cbseq[x] = seqctr[x]; xms = cbseq[x]
	:: else -> skip
	fi
#else
	cbseq[x] = c;
	xms = c
#endif
}

/* After the callback (notify_call, notify.c): clear the mark only if it is
 * still this callback's (the old code: always). */
inline cb_end(x, xms) {
#ifndef BUG_NOTIFYING_FLAG
	if
	:: cbseq[x] == xms -> cbseq[x] = 0
	:: else -> skip
	fi;
#else
	cbseq[x] = 0;
#endif
	xms = 0
}

/* sa__notify_deliver() (notify.c): every queued callback, each with no lock;
 * first an unlocked look at the notify_any hint (ebf7faa), which may send it
 * back with callbacks waiting: the worker loop re-checks under the lock.
 * A worker comes here bound to deliver (ndlv, counted by the hold that sent
 * it) and is no longer once it found the list empty. */
#define ND_UNBIND(tid) if :: tid < T_LOOP -> assert(ndlv > 0); ndlv-- :: else -> skip fi
inline notify_deliver(tid) {
	atomic {
		if
		:: !notify_any -> ND_UNBIND(tid); na = NONE
		:: else -> na = 0
		fi
	};
	if
	:: na == NONE -> goto nd_done
	:: else -> skip
	fi;
	do
	:: atomic {
		if
		:: len(notifyl) > 0 ->
			notifyl ? na;
			if
			:: tid < T_LOOP -> fwait[tid - T_WORKER] = 0   /* E7: it delivers */
			:: else -> skip
			fi;
			if
#ifdef BUG_HINT_CLEARED_EARLY
			:: true -> notify_any = 0   /* cleared while callbacks still wait */
#else
			:: len(notifyl) == 0 -> notify_any = 0
			:: else -> skip
#endif
			fi;
			if
			:: len(notifyl) == 0 -> fwait[0] = 0; fwait[1] = 0
			:: else -> skip
			fi;
			assert(ALIVE(na));
			notify_queued[na] = 0;
			call = !abandoned[na] && done_cb[na];
			cb_take(na, call, ms);
			if
			:: call ->
				assert(!freed[na]);   /* P4 */
#ifdef REINIT
				cbview[tid] = (na == L);   /* its call is the context's (P12) */
				mst = status[na];
#endif
#ifdef FIRST_LEG
				told[na] = 1;          /* popped for delivery: told */
				amade[na] = 0;
#endif
				ndeliv[na]++;
				assert(ndeliv[na] == 1)  /* P3 */
			:: else -> skip
			fi
		:: else -> na = NONE; ND_UNBIND(tid)
		fi
	   };
	   if
	   :: na == NONE -> break
	   :: else -> skip
	   fi;
	   if
	   :: call ->
		callback(na, tid);
		atomic { assert(ALIVE(na)); cb_end(na, ms) }
	   :: else -> skip
	   fi;
	   atomic { assert(a_rc[na] > 0); a_rc[na]-- }
	od;
nd_done:
	na = 0
}

/* One step of sa__engine_drain()'s loop, engine lock held: wait while the
 * queue runs elsewhere, else take its head (unlinking an emptied queue from
 * the ready list, E4), else done. */
inline drain_step(who, dj) {
	if
	:: qrun[QC] -> dwait[who] = 1; dj = WAIT
	:: !qrun[QC] && len(sq) > 0 ->
		assert(CTX_ALIVE);
		assert(NO_QC_JOB_RUNS);
		sq ? dj;
		if
		:: len(sq) == 0 -> ready_unlink(QC)
		:: else -> skip
		fi;
		qrun[QC] = 1;
		e_running++;
		assert(!jrun[dj]);
		jrun[dj] = 1;
		ab = abandoned[dj]
	:: !qrun[QC] && len(sq) == 0 -> dj = NONE
	fi
}

/* sa__engine_drain(e, &ctx->serial): run the queued jobs on this thread. */
inline drain(who, dj) {
	atomic { drain_step(who, dj) };
	do
	:: dj == WAIT -> atomic { dwait[who] == 0 -> drain_step(who, dj) }
	:: dj == NONE -> break
	:: dj < NA ->
		job_execute(dj, 0);
		job_finish(dj, NONE);
		atomic { drain_step(who, dj) }
	od
}

/* =========================================================================
 * Processes
 * ========================================================================= */

/* worker_main() (engine.c); stopped only by shutdown (SHUTDOWN:
 * e->stopping, checked at the top of each round, under the lock).
 * take_or_sleep is one hold of the engine lock: sa__job_take_locked, else
 * callbacks waiting, else (the first time) spin, else (after the spin:
 * the locked re-check) sleep.  A searcher that found work stops searching
 * and may pass the baton (found_work). */
inline take_or_sleep(me) {
	q = 0; st = 0; na = 0; ab = 0; adm = 0; keep = 0; call = 0;  /* dead: not state */
#ifdef SHUTDOWN
	if
	:: stopping ->
		j = STOP; wexit[me] = 1;          /* leaves worker_main; joined */
		if
		:: srch -> assert(searching > 0); searching--; srch = 0
		:: else -> skip
		fi;
		spun = 0
	:: else ->
#endif
	job_take(j);
	tq = 0;
	if
	:: j != NONE -> found_work(j)
	:: j == NONE && len(notifyl) > 0 -> j = NOTIFY; ndlv++; found_work(j)
	:: j == NONE && len(notifyl) == 0 && !spun ->
		/* nothing: spin first (searching), with no lock */
		j = SPIN;
		if
		:: !srch -> searching++; srch = 1; assert(searching <= NW)
		:: else -> skip                   /* woken: counted by its signaller */
		fi
	:: else -> go_sleep(me)
	fi
#ifdef SHUTDOWN
	fi
#endif
}

/* The locals of every process that runs jobs or callbacks (see "Jobs"). */
#define JOB_LOCALS byte tq, q, st, na, ms, mst, rd, door, nj; bit ab, adm, keep, call, del, g, rok, fdel, pp, pb, rel, nd, tk

proctype Worker(byte me) {
	byte j;
	bit srch, spun;
	JOB_LOCALS;

#ifdef START_ASLEEP
	goto end_idle;                 /* blocked on e->work from the start (init) */
#endif
take:
	atomic { take_or_sleep(me) };
dispatch:
	if
	:: j == NONE -> goto end_idle
	:: j == STOP -> goto stopped
	:: j == SPIN ->
		/* the spin: unlocked steps reading a hint of work; whether the hint
		 * shows work (back to the locked take) or not (give up: lock,
		 * re-check), the next step is the same hold, bounded to one spin */
#ifndef BUG_SPIN_NO_RECHECK
		atomic { spun = 1; take_or_sleep(me) };
#else
		atomic { go_sleep(me) };       /* gives up: sleeps without the re-check */
#endif
		goto dispatch
	:: j == NOTIFY ->
		notify_deliver(T_WORKER + me);  /* callbacks only */
		goto take
	:: j < NA ->
		job_execute(j, 0);
		job_finish(j, me);
		if
		:: nj != NONE -> j = nj; nj = NONE; goto dispatch   /* taken in the finish hold */
		:: nd -> nd = 0; notify_deliver(T_WORKER + me); goto take
		:: else -> goto take
		fi
	fi;
end_idle:	/* pthread_cond_wait(&e->work): woken, relock: idle--, the signal
		 * consumed (its searching counted by the signaller), loop */
	atomic {
		woken[me] ->
		woken[me] = 0;
		waiting[me] = 0;
		assert(idle > 0);
		idle--;
		if
		:: signalled > 0 -> signalled--
		:: else -> searching++; assert(searching <= NW)   /* a wake no signal counted (shutdown's broadcast) */
		fi;
		srch = 1;
		take_or_sleep(me)
	};
	goto dispatch;
stopped:
	skip
}

/* leg_submit() (async_api.c) for a later leg on the context. */
inline leg_submit() {
	atomic {                                        /* async_begin: only sa__rt_enter (check_idle is */
		ok = RT_OPEN                           /* gone: the submission's hold decides), refused */
						       /* once shutdown began */
#ifdef SHUTDOWN
		;
		ent = ok;
		rt_in = rt_in + ok
#endif
	};
	if
	:: ok ->
		atomic {                                /* K5: sa__ctx_get */
			if
			:: c_in_table -> crc++; got = 1
			:: else -> got = 0
			fi
		};
		if
		:: got ->
			atomic { got = (cstate != LIVE) };  /* sa__ctx_deleting (ctx->lock) */
			if
			:: got ->                       /* a status job on ctx->serial owning the reference */
				atomic {
					if
					:: CAN_SUBMIT(L) -> submit(L, JSTATUS, QC); ok = 1
					:: else -> ok = 0
					fi
				};
				if
				:: !ok -> atomic { assert(crc > 0); crc-- }
				:: else -> skip
				fi;
				goto ls_done
			:: else -> atomic { assert(crc > 0); crc-- }  /* sa__ctx_put */
			fi
		:: else -> skip
		fi;
		atomic {                                /* sa__leg_resolve -> sa__ctx_get */
			if
			:: c_in_table -> crc++; got = 1
			:: else -> got = 0
			fi
		};
		if
		:: got ->
			atomic {                        /* sa__engine_submit */
				if
				:: CAN_SUBMIT(L) -> submit(L, JLEG, QC); ok = 1
				:: else -> ok = 0
				fi
			};
			if
			:: !ok -> atomic { crc-- }      /* sa__leg_release */
			:: else -> skip
			fi
		:: else ->                              /* stale_submit: a status job on its own */
			atomic {
				if
				:: CAN_SUBMIT(L) -> submit(L, JSTATUS, QOWN + L)
				:: else -> skip
				fi
			}
		fi
	:: else -> skip
	fi;
ls_done:
#ifdef SHUTDOWN
	atomic { if :: ent -> rt_in--; ent = 0 :: else -> skip fi }   /* sa__rt_exit */
#else
	skip
#endif
}

/* SspiDeleteSecurityContextAsync() (async_api.c). */
inline delete_submit() {
	atomic {                                        /* async_begin (the freer frees D only after */
		ok = CAN_SUBMIT(D) && RT_OPEN;         /* it, so CAN_SUBMIT(D) holds), sa__rt_enter */
#ifdef SHUTDOWN
		ent = ok;
		rt_in = rt_in + ok;
#endif
		d_begun = ok
	};
	if
	:: ok ->
		atomic {                                /* sa__ctx_get: the only delete, the handle is live */
			assert(c_in_table);
			crc++
		};
		atomic {                                /* sa__ctx_mark_deleting */
			assert(cstate == LIVE);
			cstate = DELETING
		};
		atomic {                                /* sa__engine_submit(delete_job) */
			if
			:: CAN_SUBMIT(D) -> submit(D, JDEL, QC); ok = 1
			:: else -> ok = 0
			fi
		};
		if
		:: !ok ->                               /* freed meanwhile: drain, tear down inline */
			drain(0, dj);
			teardown();
			atomic { assert(crc > 0); crc-- }
		:: else -> skip
		fi
	:: else -> skip
	fi
#ifdef SHUTDOWN
	;
	atomic { if :: ent -> rt_in--; ent = 0 :: else -> skip fi }   /* sa__rt_exit */
#endif
}

/* Two application threads: one submits the leg, the other the delete, so
 * every interleaving of the two submissions is explored (either order
 * included). */
proctype ClientLeg() {
	byte dj;
	bit ok, got, ent;
	JOB_LOCALS;
	leg_submit();
	atomic { ok = 0; got = 0 }   /* dead */
}

proctype ClientDelete() {
	byte dj;
	bit ok, got, ent;
	JOB_LOCALS;
	delete_submit();
	atomic { ok = 0; got = 0; dj = 0; tq = 0; q = 0; st = 0; na = 0; ab = 0; adm = 0; keep = 0; call = 0 }   /* dead */
}

/* SspiFreeAsyncContext on either async context, at any point (D only after
 * its delete was begun: fire-and-forget, or a race with the submission). */
proctype Freer() {
	bit fl, fd, g, fdel;
	byte door;
	do
	:: !fl -> acall_free(L, T_FREER); fl = 1
#ifdef FIRST_LEG
	:: !fl ->          /* SspiGetAsyncCallStatus, then the free */
		atomic {
			if
			:: astate[L] == DONE -> told[L] = 1; amade[L] = 0   /* the final status */
			:: else -> skip                                     /* PENDING */
			fi
		};
		acall_free(L, T_FREER); fl = 1
#endif
	:: !fd && d_begun -> acall_free(D, T_FREER); fd = 1
	:: break
	od
}

/* Delivery ghosts (P3, P4) at the delivery point: the pop, or the re-check. */
inline delivered(x) {
	assert(!freed[x]);
	ndeliv[x]++;
	assert(ndeliv[x] == 1)
}

/* Reap: take record x off the CQ (sa__cq_unlink_locked, which brings the
 * fd down when the queue empties), its callback marked (cb_take).
 * Context: engine lock held. */
inline reap_pop(x, xcb, xms) {
	cql ? x;
	assert(ALIVE(x));
	assert(!abandoned[x] && !freed[x]);              /* P5: a freed one was unlinked */
	notify_queued[x] = 0;
	xcb = done_cb[x];
	cb_take(x, xcb, xms);
#ifndef BUG_EFD_CLEAR_LATE
	efd = (len(cql) > 0)
#else
	skip
#endif
}

/* Deliver record x: its callback (if any) with no lock, its mark cleared
 * (sa__engine_notify, cb_end), then drop the record's reference (a record
 * without callback: at once, after the hold that took it).  The record goes
 * into reap's out[] unless it was skipped (REAP_RECHECK); its turn is the
 * first step here (after the callbacks of the records before it). */
inline reap_deliver(x, xcb, xms) {
	atomic {
#ifdef REAP_RECHECK
		/* the fix: under the lock, a record whose context was freed since
		 * the batch was taken is dropped (not returned), its callback not
		 * run; this is then its delivery point */
		if
		:: abandoned[x] -> cb_end(x, xms); xcb = 0; skipped = 1
		:: else -> skipped = 0; delivered(x)
		fi;
#endif
		if
		:: !skipped -> assert(freer_of[x] != T_LOOP)  /* P5: reap never returns a context this thread freed */
		:: else -> skip
		fi;
		if
		:: !xcb -> assert(a_rc[x] > 0); a_rc[x]--    /* no callback: its reference goes */
		:: else -> skip
		fi
	};
	if
	:: xcb -> callback(x, T_LOOP);
		atomic { assert(ALIVE(x)); cb_end(x, xms) };
		atomic { assert(a_rc[x] > 0); a_rc[x]-- }
	:: else -> skip
	fi
}

/* The event loop: poll() on the eventfd, then sspiasync_cq_reap()
 * (src/async/notify.c).  By default (REAP_CB_BATCH, the new rule) one hold
 * of the engine lock takes every consecutive record without callback and at
 * most one with a callback, which ends the batch (here a batch holds at
 * most 2 records: there are 2 async contexts; n = 2); each is delivered (and
 * told) there; then, with no lock, the references of those without
 * callback, and the one callback; then the next batch.  -DREAP_ONE: one
 * record per hold (the code before).  -DREAP_BATCH_RECHECK /
 * -DREAP_NO_RECHECK: every waiting record in one hold, with / without a
 * re-check before each callback (the latter is sa__cq_reap of e2765cb). */
proctype Loop() {
	byte r0, r1, ms0, ms1;
	bit cb0, cb1, two, skipped;
	JOB_LOCALS;
end_poll:
	do
#ifdef SHUTDOWN
	:: atomic { efd && rt_state == RT_RUN -> rt_in++ } ->  /* sspiasync_cq_reap: sa__rt_enter */
#else
	:: efd ->
#endif
		do
		:: atomic {
			if
			:: len(cql) > 0 ->
				reap_pop(r0, cb0, ms0);
#ifndef REAP_RECHECK
				delivered(r0);
#endif
#if defined(REAP_BATCH) || defined(REAP_CB_BATCH)
				if
#if defined(REAP_BATCH) || defined(BUG_REAP_BATCH_PAST_CB)
				:: len(cql) > 0 ->            /* past a record with a callback */
#else
				:: !cb0 && len(cql) > 0 ->    /* a callback ends the batch */
#endif
					reap_pop(r1, cb1, ms1);
#ifndef REAP_RECHECK
					delivered(r1);
#endif
					two = 1
				:: else -> skip
				fi
#endif
			:: else -> r0 = NONE
			fi
		   };
		   if
		   :: r0 == NONE -> break
		   :: else -> skip
		   fi;
		   reap_deliver(r0, cb0, ms0);
		   if
		   :: two ->
			reap_deliver(r1, cb1, ms1)
		   :: else -> skip
		   fi;
		   atomic { r0 = 0; r1 = 0; cb0 = 0; cb1 = 0; two = 0; skipped = 0 }   /* dead */
		od
#ifdef SHUTDOWN
		; atomic { assert(rt_in > 0); rt_in-- }                  /* sa__rt_exit */
#endif
#ifdef BUG_EFD_CLEAR_LATE
		; efd = 0      /* reads the eventfd after draining: a record appended in between is missed */
#endif
	od
}

#ifdef SYNC_LEG
/* leg_sync() (context.c) on the same context. */
proctype SyncLeg() {
	byte dj;
	bit got;
	JOB_LOCALS;

	atomic {                                        /* sa__leg_resolve -> sa__ctx_get */
		if
		:: c_in_table -> crc++; got = 1
		:: else -> got = 0
		fi
	};
	if
	:: got ->
		drain(1, dj);                           /* after the async calls queued before */
		leg_perform();
		atomic { assert(crc > 0); crc--;        /* sa__leg_release */
			 got = 0; dj = 0; tq = 0; q = 0; st = 0; na = 0; ab = 0; adm = 0; keep = 0; call = 0 }
	:: else -> skip                                 /* SEC_E_INVALID_HANDLE */
	fi
}
#endif

#ifdef SHUTDOWN
/* sspiasync_shutdown() (runtime.c) and runtime_destroy(), on its own
 * thread (T_SHUT), at any point of the others' runs. */
proctype Shutdown() {
	byte j;
	JOB_LOCALS;
	atomic { rt_state = RT_SHUT };             /* g_dying = rt; g_shutting_down = 1 */
	atomic { rt_in == 0 };                     /* wait for the calls inside (R1) */
	atomic {                                   /* sa__engine_stop: stopping, broadcast e->work */
		stopping = 1;
		woken[0] = waiting[0];
		woken[1] = waiting[1]
	};
	atomic { wexit[0] && wexit[1] };           /* pthread_join: each finished its job, delivered */
	/* sa__engine_cancel_all(SEC_E_SHUTDOWN_IN_PROGRESS), its callbacks here */
	do
	:: atomic {
		q = 0; st = 0; na = 0; ab = 0; adm = 0; keep = 0; call = 0;
		job_take(j);
		tq = 0;
		assert(j != NONE || e_running == 0)    /* nothing runs elsewhere any more */
	   };
	   if
	   :: j != NONE -> job_execute(j, 1); job_finish(j, NONE)
	   :: else -> skip
	   fi;
	   notify_deliver(T_SHUT);
	   if
	   :: j == NONE -> break
	   :: else -> skip
	   fi
	od;
	/* sa__cq_flush_all: the records nobody reaped, their callbacks here */
	do
	:: atomic {
		if
		:: len(cql) > 0 -> reap_pop(na, call, ms); delivered(na)
		:: else -> na = NONE
		fi
	   };
	   if
	   :: na == NONE -> break
	   :: else -> skip
	   fi;
	   if
	   :: call -> callback(na, T_SHUT); atomic { assert(ALIVE(na)); cb_end(na, ms) }
	   :: else -> skip
	   fi;
	   atomic { assert(a_rc[na] > 0); a_rc[na]--; call = 0 }
	od;
	atomic { rt_state = RT_CLOSED; j = 0; na = 0 };   /* dying_close: g_dying = NULL ... */
	atomic { door_in == 0 };                   /* ... and wait until those inside have left */
	ctx_delete(g);                             /* sa__ctx_delete_all */
	atomic {                                   /* sa__engine_destroy */
		assert(e_calls == 0 && e_running == 0 && len(readyq) == 0 && len(sq) == 0);
		assert(len(notifyl) == 0 && len(cql) == 0 && !efd);
		assert(a_rc[L] == 0 && a_rc[D] == 0);  /* no job, record or callback holds an acall */
		assert(cb_running[L] == 0 && cb_running[D] == 0 && cbseq[L] == 0 && cbseq[D] == 0);
		a_in_table[L] = 0;                     /* every handle removed: memory freed */
		a_in_table[D] = 0;
		rt_state = RT_DEAD
	}
}
#endif

#ifdef REINIT
/* An application thread that reinits and resubmits the context from
 * outside any callback, once, at any point. */
proctype ClientR() {
	bit rok;
	reinit_submit(NONE, 0, T_CLIENT)
}

/* Another application thread: one call on a second async context (D), a
 * job on its own queue, at any time: so two jobs, or a job and callbacks,
 * may be ready at once (the baton). */
proctype ClientD() {
	atomic { callno[D] = 1; submit(D, JCALL, QOWN + D) }
}
#endif

#ifdef FIRST_LEG
/* SspiInitializeSecurityContextAsyncA with no context: a first leg, on the
 * job's own queue (the credential's resolution is elided). */
proctype ClientFirst() {
	atomic {
		if
		:: CAN_SUBMIT(L) -> submit(L, JFIRST, QOWN + L)
		:: else -> skip                         /* freed before: SEC_E_INVALID_HANDLE */
		fi
	}
}

/* The caller deletes the new context, at any time once its handle was
 * written to phNewContext (whether the call was freed or not), or never. */
proctype CallerDelete() {
	bit g;
	if
	:: skip
	:: atomic { out_h -> caller_del = 1 };
		ctx_delete(g)                           /* DeleteSecurityContext */
	fi
}
#endif

/* E6b, in every state (the states between the threads' steps, i.e. with
 * the engine lock free): see E6B.  Not code: this process never moves
 * unless the invariant is broken. */
proctype Wake() {
end_wake:
	atomic {
		!(E6B && WAKE_COUNTS) ->
		e6b_broken = !E6B;
		assert(!e6b_broken);
		assert(WAKE_COUNTS)
	}
}

#ifndef NO_WAKE_INV
#define RUN_WAKE run Wake()
#else
#define RUN_WAKE skip  /* -DNO_WAKE_INV: without E6b (what else catches a wake mutant) */
#endif

/* End-state properties, checked when nothing else can move. */
inline final_call(a) {
	assert(!submitted[a] || nfin[a] == 1);                       /* P2 */
	assert(submitted[a] || nfin[a] == 0);
	assert(npub[a] <= 1);
	assert(!submitted[a] || freed[a] || (astate[a] == DONE && status[a] != 0));
	assert(!submitted[a] || ndeliv[a] == 1 || freed_undeliv[a]); /* P3 */
	assert(!notify_queued[a] && cbseq[a] == 0);
	assert(a_rc[a] == 0)                                         /* P7: no leak */
}

proctype Monitor() {
	timeout ->
#if defined(REINIT)
	assert(!cbview[T_WORKER] && !cbview[T_WORKER + 1] && !cbview[T_CLIENT]);
	assert(ncall >= 1 && ncall <= MAXCALL);
	assert(crc == 0 && c_in_table && cstate == LIVE);            /* every call's reference dropped */
#elif defined(FIRST_LEG)
	/* P13: the context a first leg made is alive at the end iff the caller
	 * was told of the completion before any free (and did not delete it
	 * itself); else it was torn down, once. */
	assert(c_in_table == (made && !freed_untold && !caller_del));
	assert(c_in_table || !made || (torn && cstate == INVALID));
	assert(crc == 0 && !cbusy && pkg_running == 0);
#else
#ifdef SHUTDOWN
	assert(rt_state == RT_DEAD && rt_in == 0 && door_in == 0);   /* shutdown completed */
#else
	assert(d_begun);
#endif
	assert(cstate == INVALID && torn && !cbusy);                 /* P9 */
	assert(!c_in_table && crc == 0);
	assert(pkg_running == 0);
#endif
	assert(len(sq) == 0 && len(readyq) == 0 && e_calls == 0 && e_running == 0);
	assert(len(cql) == 0 && len(notifyl) == 0 && !efd);
	assert(searching == 0 && signalled == 0 && ndlv == 0);   /* everybody asleep (or gone) */
	final_call(L);
	final_call(D)
}

init {
	atomic {
#if defined(REINIT)
		/* one async context, unbound (callbacks on the workers), its first
		 * call already submitted */
		cstate = LIVE;
		c_in_table = 1;
		astate[L] = IDLE;
		a_in_table[L] = 1;
		has_cb[L] = 1;
		ncall = 1;
		callno[L] = 1;
		reinit_call();
		astate[D] = IDLE;
		a_in_table[D] = 1;
		has_cb[D] = 1;
		run ClientR();
		run ClientD();
		run Worker(0);
		run Worker(1);
		RUN_WAKE;
		run Monitor()
#elif defined(FIRST_LEG)
		/* one async context, unbound, for a first leg */
		astate[L] = IDLE;
		a_in_table[L] = 1;
		has_cb[L] = 1;
		run ClientFirst();
		run Freer();
		run CallerDelete();
		run Worker(0);
		run Worker(1);
		RUN_WAKE;
		run Monitor()
#else
		cstate = LIVE;
		c_in_table = 1;
		astate[L] = IDLE;
		astate[D] = IDLE;
		a_in_table[L] = 1;
		a_in_table[D] = 1;
		has_cb[L] = 1;
		has_cb[D] = 1;
#if defined(UNBOUND)
		bound[L] = 0;
		bound[D] = 0;
#elif defined(MIXED)
		bound[L] = 1;
		bound[D] = 0;
#elif defined(CQ) || defined(SYNC_LEG)
		bound[L] = 1;
		bound[D] = 1;
#elif defined(CQ_NOCB)
		bound[L] = 1;          /* both bound, the delete's without callback */
		bound[D] = 1;
		has_cb[D] = 0;
#else
		/* every scenario in one search: cq, unbound, mixed, cq-nocb */
		if
		:: bound[L] = 1; bound[D] = 1
		:: bound[L] = 0; bound[D] = 0
		:: bound[L] = 1; bound[D] = 0
		:: bound[L] = 1; bound[D] = 1; has_cb[D] = 0
		fi;
#endif
#ifdef SYNC_LEG
		run SyncLeg();   /* first: the search then meets its races early (mutants) */
#endif
		run ClientLeg();
		run ClientDelete();
		run Freer();
#ifdef START_ASLEEP
		idle = NW;       /* both workers blocked on e->work (or the one) */
		waiting[0] = 1;
		waiting[1] = (NW == 2);
#endif
		run Worker(0);
#ifndef ONE_WORKER
		run Worker(1);
#else
		wexit[1] = 1;   /* one worker (SHUTDOWN) */
#endif
		run Loop();      /* asleep in poll() for good when nothing is bound */
#ifdef SHUTDOWN
		run Shutdown();
#endif
		RUN_WAKE;
		run Monitor()
#endif
	}
}

#ifdef LTL
/* P9 as a temporal property: the context ends INVALID and stays so. */
ltl delete_reaches_invalid { <>[] (cstate == INVALID) }
/* P1 as a temporal property: once torn down, no package leg ever runs. */
ltl no_leg_after_teardown { [] (torn -> [] (pkg_running == 0)) }
#endif
