/*
 * test/krb5_realm.h - a throw-away MIT Kerberos realm for the test suites,
 * benchmarks and demos: a KDC on 127.0.0.1 in a new temporary directory,
 * the admin tools run as child processes (argv exec'd directly, never a
 * shell), and a delaying TCP proxy for "the KDC is slow" tests.
 *
 * Not a Kerberos client: it calls no krb5 or GSSAPI function and needs only
 * libc and POSIX (plus Linux's PR_SET_PDEATHSIG), so it links into every
 * suite, also where the library is built without Kerberos.  Its process and
 * file helpers (tl_proc_wait, tl_tool_path, tl_rm_tree) serve the other
 * test fixtures too (peer_driver.c).  No global constructors; its only
 * global state is the table of children to kill at exit or on a fatal
 * signal (krb5_realm.c, "the guard").
 *
 * Not thread-safe: start and stop realms and proxies from one thread, while
 * no other thread reads the environment (setenv/unsetenv).
 */
#ifndef SSPIASYNC_TEST_KRB5_REALM_H
#define SSPIASYNC_TEST_KRB5_REALM_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TL_REALM_NAME "SSPIASYNC.TEST"
#define TL_REALM_PATH_MAX 300
#define TL_REALM_ENV_MAX 1024 /* longest KRB5_* value start saves for stop */
#define TL_REALM_NSAVED 6

/*
 * The principals every realm has (passwords are these literal strings):
 *   alice@SSPIASYNC.TEST "alice-pw", bob@SSPIASYNC.TEST "bob-pw",
 *   HTTP/host.test, host/host.test, HTTP/peer.test (random keys, in
 *   r->keytab, kvno 1).
 * Host names host.test, *.host.test and peer.test map to the realm
 * ([domain_realm]); nothing resolves them (no DNS is ever asked).
 */
#define TL_REALM_ALICE "alice"
#define TL_REALM_ALICE_PW "alice-pw"
#define TL_REALM_BOB "bob"
#define TL_REALM_BOB_PW "bob-pw"

/*
 * A running realm.  Key: [s] set by tl_realm_start, read-only after it;
 * [p] private to krb5_realm.c.
 *
 * I1 Only r->owner acts on the realm: tl_realm_stop() in any other process
 *    (a forked Check test, a child of a test) does nothing.
 *    [test_realm_stop_does_nothing_when_called_from_child]
 * I2 After a successful stop the KDC is reaped (kill(pid, 0) fails with
 *    ESRCH) and the directory is gone. [test_realm_stop_removes_dir_and_kdc]
 * I3 A failed start leaves nothing behind: no KDC, no directory, the
 *    environment unchanged, r zeroed. [test_realm_start_leaves_nothing_when_it_fails]
 */
struct tl_realm {
	char dir[256];			    /* [s] the mkdtemp directory; "" when none */
	char realm[64];			    /* [s] TL_REALM_NAME */
	int port;			    /* [s] the KDC's TCP and UDP port on 127.0.0.1 */
	pid_t kdc_pid;			    /* [s] krb5kdc -n; 0 when none */
	pid_t owner;			    /* [s] the process that started it (I1) */
	char keytab[TL_REALM_PATH_MAX];	    /* [s] DIR/service.keytab (a path, no "FILE:") */
	char ccache[TL_REALM_PATH_MAX];	    /* [s] DIR/ccache (a path; not created by start) */
	char krb5_conf[TL_REALM_PATH_MAX];  /* [s] DIR/krb5.conf, the clients' profile */
	char kdc_conf[TL_REALM_PATH_MAX];   /* [s] DIR/kdc.conf, the KDC's and admin tools' */
	char rcache_dir[TL_REALM_PATH_MAX]; /* [s] DIR/rcache (KRB5RCACHEDIR) */
	char log[TL_REALM_PATH_MAX];	    /* [s] DIR/admin.log: every tool's stdout+stderr */
	char kdc_log[TL_REALM_PATH_MAX];    /* [s] DIR/kdc.log: the KDC's own log */
	double start_ms;		    /* [s] how long tl_realm_start took */
	struct {
		int had;
		char value[TL_REALM_ENV_MAX];
	} saved[TL_REALM_NSAVED]; /* [p] the environment before start */
};

/*
 * tl_realm_available() - Whether the MIT KDC tools (krb5kdc, kdb5_util,
 * kadmin.local, kinit, klist) are installed (searched in $PATH, then
 * /usr/local/sbin, /usr/sbin, /sbin).  Returns 1 or 0.  A suite that needs a
 * realm skips (passes, with a note) when this is 0: the library builds
 * without Kerberos.
 */
int tl_realm_available(void);

/*
 * tl_realm_start() - Make realm SSPIASYNC.TEST in a new directory
 * ($TMPDIR or /tmp)/sa_krb5_XXXXXX and start its KDC.
 *
 * Writes kdc.conf (database, stash and logs in the directory) and
 * krb5.conf (default_realm; dns_lookup_kdc, dns_lookup_realm,
 * dns_canonicalize_hostname and rdns false; udp_preference_limit = 1, so
 * clients use TCP; kdc = 127.0.0.1:PORT; [domain_realm] host.test,
 * .host.test, peer.test), runs kdb5_util create -s, one kadmin.local for the
 * principals above (service keys exported with ktadd -norandkey), then
 * krb5kdc -n -r SSPIASYNC.TEST on a port found free by binding port 0
 * (a new port, up to 5 times, when the KDC exits because another process
 * took it), and waits at most 5 s, trying a TCP connect every 2 ms, until it
 * accepts.  Measured (2 cores, Debian 12, krb5 1.20.1, 40 starts): 47-80 ms,
 * median ~73 ms (kdb5_util ~30 ms, kadmin.local ~25 ms, the KDC until it
 * accepts ~15 ms); ~100 ms under ASan; 220-470 ms under Valgrind (forking
 * the Valgrind process is the cost: the tools themselves are not traced).
 *
 * Then sets the environment: KRB5_CONFIG=r->krb5_conf,
 * KRB5_KDC_PROFILE=r->kdc_conf, KRB5_KTNAME=FILE:r->keytab,
 * KRB5CCNAME=FILE:r->ccache (the file does not exist until a kinit),
 * KRB5RCACHEDIR=r->rcache_dir (a real replay cache, not KRB5RCACHETYPE=none),
 * and unsets KRB5_TRACE; the previous values are kept for tl_realm_stop().
 * Registers the KDC with the guard: killed at exit() of the owner and on
 * SIGINT, SIGTERM or SIGABRT in it; the KDC also gets SIGKILL when the
 * owner's starting thread dies (PR_SET_PDEATHSIG), so even SIGKILL of the
 * test leaves no KDC.  The KDC stays in the owner's process group, so
 * Check's own SIGINT/SIGTERM handler (killpg) ends it too.
 *
 * @r: zeroed (struct tl_realm r = {0}) or stopped: start reads r->owner,
 * r->dir and r->kdc_pid to refuse a realm this process is running.
 * Returns 0; or -1 with a message and the logs' tails on stderr, after
 * removing everything it made (I3).  Fails without side effects when r is
 * a realm this process is running, the tools are missing, or 8 realms and
 * proxies are already live.
 * Context: the thread that will outlive the realm (PR_SET_PDEATHSIG);
 * no other thread may use the environment meanwhile.
 */
int tl_realm_start(struct tl_realm *r);

/*
 * tl_realm_stop() - Stop the KDC (SIGTERM; after 2 s SIGKILL; reaped),
 * remove the directory recursively, restore the KRB5_* variables start
 * changed, and zero the pids and dir.  Does nothing unless this process is
 * r->owner (I1), so a forked Check test may call it freely; idempotent; a
 * zeroed struct is fine.
 */
void tl_realm_stop(struct tl_realm *r);

/*
 * tl_realm_run() - Run a program with the realm's environment (the current
 * one, with KRB5_CONFIG=@krb5_conf or r->krb5_conf when NULL,
 * KRB5_KDC_PROFILE, KRB5_KTNAME, KRB5CCNAME, KRB5RCACHEDIR as start set
 * them, KRB5_TRACE unset).  argv[0] is a path, or a bare name looked up in
 * $PATH and the sbin directories.  @input (may be NULL: /dev/null; at most
 * 4096 bytes) is its stdin; its stdout and stderr, interleaved, go to
 * r->log and, NUL-terminated and cut at @cap - 1, to @out (may be NULL).
 * Bounded: killed after 10 s.
 * Returns its exit status (0..255; 127: could not be run), or -1 when it
 * could not be started, was killed, or died of a signal.
 */
int tl_realm_run(const struct tl_realm *r, const char *krb5_conf, char *const argv[],
		 const char *input, char *out, size_t cap);

/*
 * tl_realm_kinit() - kinit @principal ("alice" or "alice@REALM") into
 * @ccache (a path or TYPE:residual; NULL: r->ccache), with @password on
 * stdin, or, when @password is NULL, with its key from r->keytab (kinit -k).
 * Returns 0, or -1 when kinit failed (a wrong password is a -1, silent:
 * kinit's words are in r->log).
 */
int tl_realm_kinit(const struct tl_realm *r, const char *principal, const char *password,
		   const char *ccache);

/*
 * tl_realm_addprinc() - Add @principal with @password, or random keys when
 * @password is NULL (kadmin.local addprinc).  Returns 0, or -1 with a line on
 * stderr (it exists already, a bad name...).  kadmin.local exits 0 even when
 * its command fails, so success is read from its output.
 */
int tl_realm_addprinc(const struct tl_realm *r, const char *principal, const char *password);

/*
 * tl_realm_ktadd() - Export @principal's current keys into @keytab (a path;
 * NULL: r->keytab) with kadmin.local ktadd -norandkey: keys and kvno stay
 * unchanged, so a password keeps working and other keytabs stay valid.
 * Returns 0, or -1 with a line on stderr.
 */
int tl_realm_ktadd(const struct tl_realm *r, const char *principal, const char *keytab);

/*
 * tl_realm_write_conf() - Write at @path a krb5.conf for the realm that is
 * r->krb5_conf except that the KDC is 127.0.0.1:@port (a proxy's port, say).
 * A test points KRB5_CONFIG at it.  Returns 0, or -1 with a line on stderr.
 */
int tl_realm_write_conf(const struct tl_realm *r, int port, const char *path);

/*
 * tl_realm_write_conf_unreachable() - The same, naming a 127.0.0.1 port
 * that was free when checked (nothing listens: a connect is refused at
 * once), for "KDC unreachable".  Stopping the KDC with SIGSTOP would not
 * do: the kernel still completes TCP connects.  For a KDC that accepts and
 * never answers, use a proxy with a delay longer than the test's bound.
 * Returns the port, or -1 with a line on stderr.
 */
int tl_realm_write_conf_unreachable(const struct tl_realm *r, const char *path);

/*
 * tl_proc_wait() - Reap child @pid within @ms milliseconds, polling
 * waitpid(WNOHANG) with a short back-off (Valgrind 3.19 has no pidfd_open).
 * Returns 0 and sets *status (may be NULL), or -1 (timed out: still
 * running; or not our child, errno set).
 */
int tl_proc_wait(pid_t pid, int ms, int *status);

/*
 * tl_tool_path() - A program's path: @name itself when it has a '/', else
 * the first executable @name in $PATH, /usr/local/sbin, /usr/sbin, /sbin.
 * Returns 0 with the path in @out, or -1 (not found, or @cap too small).
 */
int tl_tool_path(const char *name, char *out, size_t cap);

/*
 * tl_rm_tree() - Remove @path and everything under it (symlinks are removed,
 * never followed).  Best effort: what cannot be removed stays, silently.
 */
void tl_rm_tree(const char *path);

/*
 * A delaying TCP proxy: a forked child (no exec) with one poll() loop, so it
 * is not under the test's thread checks; it allocates nothing after the
 * fork (its tables come from the parent).  Every connection to
 * 127.0.0.1:p->port is forwarded to 127.0.0.1:target_port; every chunk read
 * (one read(), up to 8 KiB) is written on delay_ms after it arrived, in
 * order, each direction on its own; an EOF is passed on (shutdown) after the
 * last chunk.  Up to TL_PROXY_MAX_CONN connections at once; more wait in the
 * listen backlog.
 *
 * I4 Every byte arrives at least delay_ms after it was read, bytes in order.
 *    [test_proxy_delays_each_direction, test_proxy_serves_100_connections_at_once]
 */
#define TL_PROXY_MAX_CONN 128

struct tl_proxy {
	int port;	 /* [s] where it listens */
	int target_port; /* [s] */
	unsigned delay_ms;
	pid_t pid;   /* [s] the proxy process; 0 when none */
	pid_t owner; /* [s] only it stops the proxy (as I1) */
};

/*
 * tl_proxy_start() - Listen on a free 127.0.0.1 port (ready on return: no
 * wait needed) and fork the proxy.  It dies with SIGTERM, at the owner's
 * exit or fatal signal (the guard), or when the starting thread dies; it
 * keeps the owner's fds 0..2 and closes every other fd it inherited.
 * Returns 0 and fills *p; or -1 with a line on stderr, *p untouched and
 * nothing left behind (bad target port, delay over an hour, no memory).
 * Context: as tl_realm_start().
 */
int tl_proxy_start(struct tl_proxy *p, int target_port, unsigned delay_ms);

/*
 * tl_proxy_stop() - SIGTERM the proxy (after 2 s SIGKILL), reap it, zero
 * p->pid and p->owner.  @p: as tl_proxy_start filled it, or zeroed.  Does
 * nothing unless this process is p->owner; idempotent.
 */
void tl_proxy_stop(struct tl_proxy *p);

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_TEST_KRB5_REALM_H */
