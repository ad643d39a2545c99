/*
 * sspiasync/sspiasync.h - the library's own extensions to Microsoft's API:
 * explicit initialisation and shutdown (limits, worker threads), the
 * no-thread run loop, statistics, and completion queues for event loops.
 *
 * The first SSPI call initialises the library with defaults, so a ported
 * program needs none of this; a program that wants other limits calls
 * sspiasync_init() first, and one that wants Valgrind to see 0 bytes in use
 * at exit calls sspiasync_shutdown() last
 * [test_sspi_shutdown_invalidates_everything_then_reinit].
 */
#ifndef SSPIASYNC_SSPIASYNC_H
#define SSPIASYNC_SSPIASYNC_H

#include <stdint.h>

#include <sspiasync/sspi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SSPIASYNC_DEFAULT_MAX_ENTRIES (1u << 20)

#define SSPIASYNC_DEFAULT_MAX_PENDING (1u << 16)
#define SSPIASYNC_MAX_THREADS 64
#define SSPIASYNC_DEFAULT_THREADS 2

struct sspiasync_config {
	uint32_t max_credentials; /* live credentials at most; 0: SSPIASYNC_DEFAULT_MAX_ENTRIES */
	uint32_t max_contexts;    /* live security contexts at most; 0: the same default */
	uint32_t max_async;       /* live async-call contexts at most; 0: the same default;
				   * more than 2^23 is clamped (their one-word handles share
				   * the slot space with completion queues') */
	uint32_t max_pending;     /* queued or running async calls at most (delete and free
				   * are exempt); 0: SSPIASYNC_DEFAULT_MAX_PENDING */
	unsigned threads;         /* taken as given: 0 selects no-thread mode (queued calls
				   * run in sspiasync_run()); 1..SSPIASYNC_MAX_THREADS (more
				   * is clamped): a pool of worker threads runs them and
				   * their callbacks.  Start from SSPIASYNC_CONFIG_INIT to
				   * get the default pool.  Without a config (NULL, or an
				   * implicit initialisation by the first SSPI call) the
				   * pool has SSPIASYNC_THREADS workers from the
				   * environment (0 included), else SSPIASYNC_DEFAULT_THREADS
				   * [test_pool_config_threads_taken_as_given,
				   *  test_pool_environment_variable_chooses_workers,
				   *  test_pool_default_is_two_workers] */
};

/* Every limit at its default and the default pool of worker threads. */
#define SSPIASYNC_CONFIG_INIT {0, 0, 0, 0, SSPIASYNC_DEFAULT_THREADS}

/*
 * sspiasync_init() - Initialise the library with @cfg (NULL: defaults).
 * Returns SEC_E_OK; SEC_E_SHUTDOWN_IN_PROGRESS while sspiasync_shutdown()
 * runs [test_shutdown_free_from_other_thread_abandons_running_leg,
 * fuzz/api_fuzz.c]; SEC_E_INVALID_PARAMETER when the library is already
 * initialised (explicitly or by an earlier SSPI call: shut it down first) or
 * a limit is out of range (above 2^32 - 1 is impossible; 0 means default);
 * SEC_E_INSUFFICIENT_MEMORY.  Init/shutdown cycling uses nothing up: a
 * process may cycle at full speed for years (handles.h, "Reuse bound";
 * test_htable_instance_wraps_skipping_live_tables, fuzz/repro/k4).
 * On failure nothing is initialised.
 * Context: any thread; not concurrently with another SSPI call.
 */
SECURITY_STATUS sspiasync_init(const struct sspiasync_config *cfg);

/*
 * sspiasync_shutdown() - Delete every security context (package teardown
 * included), free every credential and every buffer not yet given to
 * FreeContextBuffer(), and free the library's memory.  Afterwards every
 * handle issued before is invalid for good (SEC_E_INVALID_HANDLE), and the
 * next SSPI call or sspiasync_init() starts afresh.
 * [test_sspi_shutdown_invalidates_everything_then_reinit,
 *  test_ctxbuf_shutdown_frees_outstanding_buffers,
 *  test_async_shutdown_cancels_queued_legs_then_reinit]
 * Returns SEC_E_OK, also when the library was not initialised.  A second
 * shutdown that finds one running waits until it has finished: when any
 * sspiasync_shutdown() returns, the runtime is gone and sspiasync_init()
 * works.  [test_shutdown_second_caller_waits_for_teardown]
 * Refused with SEC_E_INVALID_PARAMETER inside a callback or on a worker
 * [test_async_callback_cannot_shut_down_or_init,
 * test_async_pool_handshake_completes_without_run].
 * Context: any thread.  Calls already inside the library finish first;
 * calls (and sspiasync_init) that start meanwhile return
 * SEC_E_SHUTDOWN_IN_PROGRESS, but for the async-context functions, which
 * still reach the calls being shut down (sspi.h, "Conventions").
 * [test_shutdown_worker_callbacks_read_their_status, fuzz/api_fuzz.c]
 */
SECURITY_STATUS sspiasync_shutdown(void);

/*
 * sspiasync_run() - No-thread mode: run up to @max queued async calls (0: all
 * that are queued, including those queued by callbacks meanwhile) on the
 * caller's thread, in order per security context, and run the callbacks of
 * completed calls, also of calls that a synchronous call ran on its way.
 * Returns how many calls it ran or cancelled (a call freed while queued
 * ends here too, without running).  Callbacks run only here (and, for
 * contexts bound to a completion queue, in sspiasync_cq_reap(); at
 * shutdown, in sspiasync_shutdown()), never inside another API call.  In
 * pool mode the workers do all this: it returns 0 and does nothing.
 * [test_async_run_runs_at_most_max_calls,
 *  test_regress_run_runs_work_queued_by_deferred_callbacks,
 *  test_pool_counters_count_abandoned_calls_once,
 *  test_async_pool_handshake_completes_without_run]
 * Context: any thread but a callback of this library (there it returns 0).
 * [test_async_two_runner_threads_complete_each_call_once,
 *  test_async_handshake_driven_from_callbacks]
 */
unsigned sspiasync_run(unsigned max);

struct sspiasync_statistics {
	uint64_t credentials;     /* credentials alive (freed handles still used by contexts count) */
	uint64_t contexts;        /* security contexts alive (created, not yet deleted; a deleted
				   * one still held by a call in pending_calls counts) */
	uint64_t async_contexts;  /* async-call contexts alive (created, not yet freed and finished) */
	uint64_t pending_calls;   /* queued or running async calls, and completed ones whose
				   * worker has not yet let go of the context, credential and
				   * async context they held (just after the completion is
				   * published); at 0 nothing a call held is held */
	uint64_t completed_calls; /* context and credential calls completed since init, each
				   * once: async ones too when freed while pending or
				   * cancelled by shutdown
				   * [test_pool_counters_count_abandoned_calls_once] */
	uint64_t rejected_stale;  /* stale, forged or wrong-kind handles answered
				   * SEC_E_INVALID_HANDLE: by context and credential
				   * calls (among completed_calls), and by the
				   * async-context and completion-queue functions
				   * (which are not counted as calls) */
	uint64_t worker_threads;  /* the pool's workers; 0 in no-thread mode */
};

/*
 * sspiasync_stats() - Fill *@out.  Returns SEC_E_OK, or SEC_E_INVALID_PARAMETER
 * for NULL.  When the library is not initialised every count is 0.
 * Context: any thread; a snapshot
 * [test_async_pool_stress_two_submitters_deletes_racing_legs].
 */
SECURITY_STATUS sspiasync_stats(struct sspiasync_statistics *out);

/*
 * Completion queues: one file descriptor an event loop polls, and a call
 * that hands back, on the loop's own thread, the calls that finished.
 *
 * A queue is named by an encoded handle (never a pointer): a destroyed or
 * forged one is rejected.  Bind an async context to a queue
 * (sspiasync_cq_bind) and every call made through it completes into the
 * queue: its status is there for SspiGetAsyncCallStatus as usual, its
 * callback (if any; NULL is fine) runs only inside sspiasync_cq_reap(), on
 * the reaping thread, and until it has been reaped the context is busy
 * (reinit refused).  Freeing a context drops its waiting completion: reap
 * never returns a freed context.
 * [test_cq_pool_callback_runs_in_reap_on_this_thread,
 *  test_cq_no_thread_level_and_record, test_cq_free_before_reap_drops_the_record,
 *  test_cq_callback_frees_the_next_record_inside_reap]
 *
 * The fd (an eventfd, EFD_NONBLOCK | EFD_CLOEXEC) is readable exactly while
 * the queue holds completions, and in no-thread mode also while work is
 * queued (then call sspiasync_run(), which runs it; completions follow).
 * Level-triggered epoll: wait, reap, repeat.  Edge-triggered (EPOLLET):
 * after each wake-up reap until it returns fewer than you asked for (and in
 * no-thread mode run until sspiasync_run() returns 0), since another edge
 * comes only once the fd was drained.  Never read the fd yourself.
 * [test_cq_epoll_10000_handshakes_two_workers_edge_triggered,
 *  test_cq_epoll_10000_handshakes_no_thread_edge_triggered]
 *
 * Cost: a queue's own completions move only its fd.  In no-thread mode the
 * "work queued" signal goes to every queue's fd, so each change of it (work
 * appears on an idle engine, the last runnable work is taken) writes or
 * reads every queue's eventfd: O(queues) system calls, up to four changes a
 * call.  No-thread mode serves one event loop: give it one queue.  Measured
 * (one call at a time, submit + sspiasync_run + reap + reinit): 6.5 us a
 * call with 1 queue, 28 ms with 9,000 idle queues.  Pool mode has no such
 * cost: there only records move a queue's fd.
 */
struct sspiasync_cq;

struct sspiasync_completion {
	SspiAsyncContext *context; /* the async context (bound to the queue) */
	void *data;                /* its callback data (NULL without a callback, also one
				    * cleared before the reap [test_cq_record_data_null_after_callback_cleared]) */
	SECURITY_STATUS status;    /* the call's status, as SspiGetAsyncCallStatus */
};

/* sspiasync_cq_create() - A new queue in *@out.  Returns SEC_E_OK;
 * SEC_E_INVALID_PARAMETER for NULL; SEC_E_INSUFFICIENT_MEMORY (also when no
 * file descriptor is left); SEC_E_SHUTDOWN_IN_PROGRESS [fuzz/api_fuzz.c].
 * Initialises the library with defaults if needed.  Context: any thread. */
SECURITY_STATUS sspiasync_cq_create(struct sspiasync_cq **out);

/* sspiasync_cq_destroy() - Destroy @cq and close its fd (take it out of your
 * epoll set first).  Returns SEC_E_OK; SEC_E_INVALID_HANDLE for a destroyed
 * or forged queue; SEC_E_INVALID_PARAMETER while async contexts are bound
 * to it (unbind or free them first: nothing is destroyed).
 * sspiasync_shutdown() destroys every queue.  Context: any thread.
 * [test_cq_handles_and_fd, test_cq_shutdown_delivers_unreaped_completions] */
SECURITY_STATUS sspiasync_cq_destroy(struct sspiasync_cq *cq);

/* sspiasync_cq_fd() - The queue's fd, or -1 for a destroyed or forged queue.
 * It stays the same for the queue's life. */
int sspiasync_cq_fd(struct sspiasync_cq *cq);

/* sspiasync_cq_bind() - Bind @context to @cq (NULL: unbind; its callbacks
 * go back to the workers or sspiasync_run()).  Returns SEC_E_OK;
 * SEC_E_INVALID_HANDLE for a bad context or queue; SEC_E_INVALID_PARAMETER
 * while the context has a call pending or a completion not yet delivered
 * [test_cq_no_thread_level_and_record, fuzz/api_fuzz.c].
 * The binding outlives reinit; it ends with the context or the next bind. */
SECURITY_STATUS sspiasync_cq_bind(SspiAsyncContext *context, struct sspiasync_cq *cq);

/* sspiasync_cq_reap() - Take up to @n completions, oldest first, into @out,
 * running each one's callback here before returning.  Returns how many (0
 * when none waits), or a negative status: SEC_E_INVALID_HANDLE for a bad
 * queue, SEC_E_INVALID_PARAMETER for @out NULL with @n > 0 or when called
 * inside a callback of this library (refused: reap from your loop;
 * fuzz/api_fuzz.c).  Brings
 * the fd down when the queue empties.  Context: any thread but a callback;
 * typically the event loop's. */
int sspiasync_cq_reap(struct sspiasync_cq *cq, struct sspiasync_completion *out, unsigned n);

/*
 * The NTLM package's server-side user store.
 *
 * sspiasync_ntlm_lookup_fn - Fill @nt_hash with the NT hash of @user's
 * password (MD4 of its UTF-16LE form, 16 bytes) and return SEC_E_OK, or
 * return any other status: the logon is then denied (the client's last
 * AcceptSecurityContext leg answers SEC_E_LOGON_DENIED).  @domain is what
 * the client sent (may be ""), @user likewise; both UTF-8.  Runs on the
 * thread running the leg (a pool worker for the async calls), possibly on
 * several threads at once; it must not call into this library.
 */
typedef SECURITY_STATUS (*sspiasync_ntlm_lookup_fn)(void *arg, const char *domain,
						    const char *user, unsigned char nt_hash[16]);

/*
 * sspiasync_ntlm_set_lookup() - Make @cred (an inbound "NTLM" credential)
 * verify users through @fn (NULL: back to the user file it was acquired
 * with, NTLM_USER_FILE).  Legs that start after this call use it.  Returns
 * SEC_E_OK; SEC_E_INVALID_HANDLE for a NULL, stale or forged handle;
 * SEC_E_UNSUPPORTED_FUNCTION when @cred is not an inbound NTLM credential.
 * Context: any thread [test_ntlm_lookup_callback].
 */
SECURITY_STATUS sspiasync_ntlm_set_lookup(PCredHandle cred, sspiasync_ntlm_lookup_fn fn,
					  void *arg);

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_SSPIASYNC_H */
