/*
 * test/check_krb5_realm.c - the throw-away Kerberos realm and the delaying
 * proxy of test/krb5_realm.h, tested on their own, and gss_peer's Kerberos
 * and SPNEGO modes against each other through a realm: proof that the
 * fixtures work before the library's Kerberos package uses them.
 *
 * One realm for the suite, started by main (its owner) before the runner
 * forks the tests.  The proxy tests need no Kerberos; the realm and peer
 * tests skip, with a note, when the MIT KDC tools are not installed.  Every
 * wait is bounded; timing assertions are lower bounds only.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "krb5_realm.h"
#include "peer_driver.h"
#include "peers/peer_proto.h"
#include "testlib.h"

extern char **environ;

#define IO_MS 20000 /* one wait for bytes, a child, a connection */

static struct tl_realm realm; /* the suite's, started in main */

/* ---- small helpers ------------------------------------------------------- */

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* A path inside the realm's directory. */
static const char *in_dir(const char *leaf)
{
	static char path[4][TL_REALM_PATH_MAX + 64];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", realm.dir, leaf);
	return p;
}

/* Runs argv in the realm's environment; asserts it ran; its exit status. */
static int run(const char *krb5_conf, char *const argv[], const char *input, char *out,
	       size_t cap)
{
	int rc = tl_realm_run(&realm, krb5_conf, argv, input, out, cap);
	ck_assert_msg(rc >= 0, "%s could not be run (or was killed)", argv[0]);
	return rc;
}

/* Whether a process is gone: no such pid, or a zombie nobody reaps (a
 * container's init may not). */
static int proc_gone(pid_t pid)
{
	char path[64], buf[256];
	if (kill(pid, 0) != 0)
		return errno == ESRCH;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

static int proc_gone_within(pid_t pid, int ms)
{
	int64_t deadline = pd_now_ms() + ms;
	while (!proc_gone(pid)) {
		if (pd_now_ms() >= deadline)
			return 0;
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	return 1;
}

/* A checked fixture for the tests that need the suite's realm. */
static void realm_needed(void)
{
	ck_assert_msg(realm.kdc_pid > 0, "the suite's realm did not start (see stderr above)");
}

/* ---- realm ----------------------------------------------------------------- */

START_TEST(test_realm_start_sets_env_files_and_kdc)
{
	char want[TL_REALM_PATH_MAX + 8], conf[2048];

	ck_assert_str_eq(realm.realm, "SSPIASYNC.TEST");
	ck_assert_int_gt(realm.port, 0);
	ck_assert_int_eq(kill(realm.kdc_pid, 0), 0);
	ck_assert_ptr_nonnull(getenv("KRB5_CONFIG"));
	ck_assert_str_eq(getenv("KRB5_CONFIG"), realm.krb5_conf);
	ck_assert_str_eq(getenv("KRB5_KDC_PROFILE"), realm.kdc_conf);
	snprintf(want, sizeof want, "FILE:%s", realm.keytab);
	ck_assert_str_eq(getenv("KRB5_KTNAME"), want);
	snprintf(want, sizeof want, "FILE:%s", realm.ccache);
	ck_assert_str_eq(getenv("KRB5CCNAME"), want);
	ck_assert_str_eq(getenv("KRB5RCACHEDIR"), realm.rcache_dir);
	ck_assert_ptr_null(getenv("KRB5_TRACE"));
	ck_assert(exists(realm.keytab));
	ck_assert(exists(realm.kdc_conf));
	ck_assert(exists(realm.rcache_dir));
	ck_assert_msg(!exists(realm.ccache), "start made the ccache");

	FILE *f = fopen(realm.krb5_conf, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(conf, 1, sizeof conf - 1, f);
	fclose(f);
	conf[n] = '\0';
	snprintf(want, sizeof want, "kdc = 127.0.0.1:%d\n", realm.port);
	ck_assert_ptr_nonnull(strstr(conf, want));
	ck_assert_ptr_nonnull(strstr(conf, "dns_lookup_kdc = false"));
	ck_assert_ptr_nonnull(strstr(conf, "udp_preference_limit = 1"));
	ck_assert_ptr_nonnull(strstr(conf, "peer.test = SSPIASYNC.TEST"));
}
END_TEST

START_TEST(test_realm_kinit_makes_ccache)
{
	char out[2048];
	char *argv[] = {"klist", "-c", realm.ccache, NULL};

	unlink(realm.ccache);
	ck_assert_int_eq(tl_realm_kinit(&realm, TL_REALM_ALICE, TL_REALM_ALICE_PW, NULL), 0);
	ck_assert(exists(realm.ccache));
	ck_assert_int_eq(run(NULL, argv, NULL, out, sizeof out), 0);
	ck_assert_msg(strstr(out, "Default principal: alice@SSPIASYNC.TEST") != NULL, "klist: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "krbtgt/SSPIASYNC.TEST@SSPIASYNC.TEST"));
	/* bob too, into a ccache of his own */
	ck_assert_int_eq(tl_realm_kinit(&realm, "bob@SSPIASYNC.TEST", TL_REALM_BOB_PW,
					in_dir("bob.cc")),
			 0);
	ck_assert(exists(in_dir("bob.cc")));
}
END_TEST

START_TEST(test_realm_kinit_fails_when_wrong_password)
{
	const char *cc = in_dir("wrong.cc");

	ck_assert_int_eq(tl_realm_kinit(&realm, TL_REALM_ALICE, "not-alice-pw", cc), -1);
	ck_assert(!exists(cc));
	ck_assert_int_eq(tl_realm_kinit(&realm, "nobody", "pw", cc), -1);
	ck_assert(!exists(cc));
	/* what the harness refuses to pass on */
	ck_assert_int_eq(tl_realm_kinit(&realm, "two words", "pw", cc), -1);
	ck_assert_int_eq(tl_realm_kinit(&realm, TL_REALM_ALICE, "pw\nmore", cc), -1);
}
END_TEST

START_TEST(test_realm_keytab_holds_services)
{
	char out[4096];
	char *argv[] = {"klist", "-k", realm.keytab, NULL};
	static const char *const svc[] = {"HTTP/host.test@SSPIASYNC.TEST",
					  "host/host.test@SSPIASYNC.TEST",
					  "HTTP/peer.test@SSPIASYNC.TEST"};

	ck_assert_int_eq(run(NULL, argv, NULL, out, sizeof out), 0);
	for (size_t i = 0; i < 3; i++)
		ck_assert_msg(strstr(out, svc[i]) != NULL, "%s not in: %s", svc[i], out);
	ck_assert_msg(strstr(out, "alice@") == NULL, "alice in the service keytab: %s", out);
	/* the keys match the KDC's: a service can kinit from the keytab */
	ck_assert_int_eq(tl_realm_kinit(&realm, "HTTP/host.test", NULL, in_dir("svc.cc")), 0);
	ck_assert_int_eq(tl_realm_kinit(&realm, "HTTP/peer.test", NULL, in_dir("svc.cc")), 0);
}
END_TEST

START_TEST(test_realm_addprinc_and_ktadd)
{
	char out[4096];
	const char *kt = in_dir("carol.keytab");
	char *argv[] = {"klist", "-k", (char *)kt, NULL};

	ck_assert_int_eq(tl_realm_addprinc(&realm, "carol", "carol-pw"), 0);
	ck_assert_int_eq(tl_realm_addprinc(&realm, "carol", "carol-pw"), -1); /* exists */
	ck_assert_int_eq(tl_realm_kinit(&realm, "carol", "carol-pw", in_dir("carol.cc")), 0);
	ck_assert_int_eq(tl_realm_ktadd(&realm, "carol", kt), 0);
	ck_assert_int_eq(run(NULL, argv, NULL, out, sizeof out), 0);
	ck_assert_msg(strstr(out, "   1 carol@SSPIASYNC.TEST") != NULL, "klist -k: %s", out);
	/* -norandkey: the password still works */
	ck_assert_int_eq(tl_realm_kinit(&realm, "carol", "carol-pw", in_dir("carol.cc")), 0);
	ck_assert_int_eq(tl_realm_addprinc(&realm, "dave", "a pass phrase"), 0);
	ck_assert_int_eq(tl_realm_kinit(&realm, "dave", "a pass phrase", in_dir("dave.cc")), 0);
	ck_assert_int_eq(tl_realm_kinit(&realm, "dave", "a", in_dir("dave.cc")), -1);
	ck_assert_int_eq(tl_realm_addprinc(&realm, "HTTP/new.host.test", NULL), 0);
	ck_assert_int_eq(tl_realm_ktadd(&realm, "nosuch", kt), -1);
	ck_assert_int_eq(tl_realm_addprinc(&realm, "bad name", "pw"), -1);
}
END_TEST

START_TEST(test_realm_conf_unreachable_fails_kinit)
{
	char out[2048];
	const char *conf = in_dir("unreachable.conf");
	char *argv[] = {"kinit", "-c", (char *)in_dir("unreach.cc"), "alice", NULL};

	int port = tl_realm_write_conf_unreachable(&realm, conf);
	ck_assert_int_gt(port, 0);
	ck_assert_int_ne(port, realm.port);
	ck_assert_int_ne(run(conf, argv, "alice-pw\n", out, sizeof out), 0);
	ck_assert_msg(strstr(out, "Cannot contact any KDC") != NULL, "kinit said: %s", out);
	/* the same kinit with the realm's own krb5.conf works */
	ck_assert_int_eq(run(NULL, argv, "alice-pw\n", out, sizeof out), 0);
}
END_TEST

START_TEST(test_realm_proxy_slows_kinit)
{
	struct tl_proxy p = {0};
	char out[2048];
	const char *conf = in_dir("proxy.conf");
	char *argv[] = {"kinit", "-c", (char *)in_dir("proxy.cc"), "alice", NULL};
	const unsigned delay = 150;

	ck_assert_int_eq(tl_proxy_start(&p, realm.port, delay), 0);
	ck_assert_int_eq(tl_realm_write_conf(&realm, p.port, conf), 0);
	int64_t t0 = pd_now_ms();
	int rc = run(conf, argv, "alice-pw\n", out, sizeof out);
	int64_t took = pd_now_ms() - t0;
	tl_proxy_stop(&p);
	ck_assert_msg(rc == 0, "kinit through the proxy: %s", out);
	/* the request and the reply were each held delay ms */
	ck_assert_msg(took >= 2 * (int64_t)delay, "kinit took %lld ms, less than 2 x %u",
		      (long long)took, delay);
}
END_TEST

/*
 * A forked child's exit code is no verdict under Valgrind: with
 * --error-exitcode it exits 1 for the leaks it inherited (the runner's
 * blocks in CK_FORK=no).  Children report through a pipe instead.
 */

/* I1 */
START_TEST(test_realm_stop_does_nothing_when_called_from_child)
{
	int pfd[2];
	char verdict = 0;
	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		tl_realm_stop(&realm);
		char v = realm.kdc_pid > 0 && realm.dir[0] != '\0' ? 'y' : 'n';
		_exit(write(pfd[1], &v, 1) == 1 ? 0 : 2);
	}
	close(pfd[1]);
	int st;
	ck_assert_int_eq(tl_proc_wait(pid, IO_MS, &st), 0);
	ck_assert_int_eq(read(pfd[0], &verdict, 1), 1);
	close(pfd[0]);
	ck_assert_msg(verdict == 'y', "the child's stop cleared its copy of the realm");
	ck_assert_int_eq(kill(realm.kdc_pid, 0), 0);
	ck_assert(exists(realm.dir));
	ck_assert(exists(realm.keytab));
	ck_assert_str_eq(getenv("KRB5_CONFIG"), realm.krb5_conf);
	ck_assert_int_eq(tl_realm_kinit(&realm, TL_REALM_ALICE, TL_REALM_ALICE_PW, in_dir("c.cc")), 0);
}
END_TEST

/* I2, I3 (env): a second realm in this process, stopped. */
START_TEST(test_realm_stop_removes_dir_and_kdc)
{
	struct tl_realm r2 = {0}, zero;
	char before[TL_REALM_PATH_MAX];

	snprintf(before, sizeof before, "%s", getenv("KRB5_CONFIG"));
	ck_assert_int_eq(tl_realm_start(&r2), 0);
	printf("krb5_realm: a realm started in %.1f ms\n", r2.start_ms);
	ck_assert_str_ne(r2.dir, realm.dir);
	ck_assert_int_ne(r2.port, realm.port);
	ck_assert_str_eq(getenv("KRB5_CONFIG"), r2.krb5_conf);
	ck_assert_int_eq(tl_realm_start(&r2), -1); /* running */
	ck_assert_int_eq(tl_realm_kinit(&r2, TL_REALM_ALICE, TL_REALM_ALICE_PW, NULL), 0);

	pid_t kdc = r2.kdc_pid;
	char dir[sizeof r2.dir];
	snprintf(dir, sizeof dir, "%s", r2.dir);
	tl_realm_stop(&r2);
	int rc = kill(kdc, 0), e = errno;
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e, ESRCH);
	int there = exists(dir);
	e = errno;
	ck_assert(!there);
	ck_assert_int_eq(e, ENOENT);
	ck_assert_int_eq(r2.kdc_pid, 0);
	ck_assert_str_eq(r2.dir, "");
	ck_assert_str_eq(getenv("KRB5_CONFIG"), before);
	tl_realm_stop(&r2); /* idempotent */
	memset(&zero, 0, sizeof zero);
	tl_realm_stop(&zero); /* never started */
	ck_assert_int_eq(kill(realm.kdc_pid, 0), 0);
}
END_TEST

static int dir_is_empty(const char *path)
{
	char *argv[] = {"find", (char *)path, "-mindepth", "1", NULL};
	char out[512];
	ck_assert_int_eq(run(NULL, argv, NULL, out, sizeof out), 0);
	return out[0] == '\0';
}

/* Starts a realm with a fake @tool (exits 1) first in $PATH and TMPDIR in
 * a directory of our own: start must fail and leave nothing there. */
static void start_fails_with_fake(const char *tool)
{
	char base[64] = "/tmp/sa_krb5_fail_XXXXXX", bin[128], tmp[128], fake[192];
	char old_path[4096], path[4400];
	struct tl_realm r = {0};

	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(bin, sizeof bin, "%s/bin", base);
	snprintf(tmp, sizeof tmp, "%s/tmp", base);
	snprintf(fake, sizeof fake, "%s/%s", bin, tool);
	ck_assert_int_eq(mkdir(bin, 0700), 0);
	ck_assert_int_eq(mkdir(tmp, 0700), 0);
	FILE *f = fopen(fake, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs("#!/bin/sh\necho fake failure >&2\nexit 1\n", f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(fake, 0700), 0);

	snprintf(old_path, sizeof old_path, "%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	snprintf(path, sizeof path, "%s:%s", bin, old_path);
	ck_assert_int_eq(setenv("PATH", path, 1), 0);
	ck_assert_int_eq(setenv("TMPDIR", tmp, 1), 0);
	int rc = tl_realm_start(&r);
	setenv("PATH", old_path, 1);
	unsetenv("TMPDIR");

	int empty = dir_is_empty(tmp);
	char *argv[] = {"rm", "-rf", "--", base, NULL};
	ck_assert_int_eq(run(NULL, argv, NULL, NULL, 0), 0);

	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(r.kdc_pid, 0);
	ck_assert_str_eq(r.dir, "");
	ck_assert_msg(empty, "a failed start left files in %s", tmp);
	ck_assert_str_eq(getenv("KRB5_CONFIG"), realm.krb5_conf);
}

/* I3: kadmin.local fails (before the KDC), then krb5kdc (every port tried). */
START_TEST(test_realm_start_leaves_nothing_when_it_fails)
{
	start_fails_with_fake("kadmin.local");
	start_fails_with_fake("krb5kdc");
}
END_TEST

/* A realm started in a child that ends with @how: 0 exit(), 1 SIGTERM,
 * 2 _exit() (no atexit: PR_SET_PDEATHSIG).  Its KDC must die; with
 * exit() its directory goes too. */
static void realm_in_child_dies(int how)
{
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct tl_realm r = {0};
		close(pfd[0]);
		/* a plain program's SIGTERM: not the test runner's, inherited */
		signal(SIGTERM, SIG_DFL);
		if (tl_realm_start(&r) != 0)
			_exit(4);
		if (write(pfd[1], &r.kdc_pid, sizeof r.kdc_pid) != (ssize_t)sizeof r.kdc_pid ||
		    write(pfd[1], r.dir, sizeof r.dir) != (ssize_t)sizeof r.dir)
			_exit(5);
		if (how == 1)
			raise(SIGTERM);
		if (how == 0)
			exit(0);
		_exit(0);
	}
	close(pfd[1]);
	pid_t kdc = 0;
	char dir[sizeof realm.dir] = "";
	struct pollfd p = {pfd[0], POLLIN, 0};
	ck_assert_int_eq(poll(&p, 1, IO_MS), 1);
	ssize_t n1 = read(pfd[0], &kdc, sizeof kdc);
	ssize_t n2 = n1 == (ssize_t)sizeof kdc ? read(pfd[0], dir, sizeof dir) : -1;
	close(pfd[0]);
	int st = 0, reaped = tl_proc_wait(pid, IO_MS, &st);
	/* The directory, removed before any assertion can end the test: a
	 * signal or _exit leaves it (ours to remove), exit() does not. */
	int there = dir[0] != '\0' && exists(dir);
	if (there) {
		char *argv[] = {"rm", "-rf", "--", dir, NULL};
		ck_assert_int_eq(run(NULL, argv, NULL, NULL, 0), 0);
	}
	ck_assert_int_eq(reaped, 0);
	ck_assert_msg(n1 == (ssize_t)sizeof kdc && n2 == (ssize_t)sizeof dir,
		      "the child did not start a realm (status 0x%x)", st);
	if (how == 1)
		ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	else /* its code: see above */
		ck_assert(WIFEXITED(st));
	ck_assert_msg(proc_gone_within(kdc, IO_MS), "the KDC %d outlived its owner", (int)kdc);
	ck_assert_msg(there == (how != 0), "directory %s after the owner's end: %s", dir,
		      there ? "left" : "removed");
	ck_assert_int_eq(kill(realm.kdc_pid, 0), 0);
}

START_TEST(test_realm_kdc_dies_when_owner_exits)
{
	realm_in_child_dies(0);
}
END_TEST

START_TEST(test_realm_kdc_dies_when_owner_gets_sigterm)
{
	realm_in_child_dies(1);
}
END_TEST

START_TEST(test_realm_kdc_dies_when_owner_skips_atexit)
{
	realm_in_child_dies(2);
}
END_TEST

/* ---- proxy (no Kerberos) ------------------------------------------------------ */

static int listen_any(int *port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(s, 256), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return s;
}

static int connect_to(int port)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&a, sizeof a), 0);
	return s;
}

static int accept_by(int l, int64_t deadline)
{
	struct pollfd p = {l, POLLIN, 0};
	ck_assert_msg(poll(&p, 1, pd_ms_left(deadline)) == 1, "no connection through the proxy");
	int s = accept(l, NULL, NULL);
	ck_assert_int_ge(s, 0);
	return s;
}

/* Reads exactly n bytes by the deadline (asserting). */
static void read_n(int fd, void *buf, size_t n, int64_t deadline)
{
	unsigned char *p = buf;
	while (n > 0) {
		struct pollfd pf = {fd, POLLIN, 0};
		ck_assert_msg(poll(&pf, 1, pd_ms_left(deadline)) == 1, "no bytes in time");
		ssize_t r = read(fd, p, n);
		ck_assert_msg(r > 0, "read: %zd (%s)", r, r < 0 ? strerror(errno) : "EOF");
		p += r;
		n -= (size_t)r;
	}
}

static void write_n(int fd, const void *buf, size_t n)
{
	ck_assert_int_eq(peer_write_full(fd, buf, n), 0);
}

/* I4 */
START_TEST(test_proxy_delays_each_direction)
{
	struct tl_proxy p = {0};
	int tport;
	const unsigned delay = 120;
	int l = listen_any(&tport);
	int64_t deadline = pd_now_ms() + IO_MS;
	unsigned char big[20000], back[20000];
	char b[8];

	ck_assert_int_eq(tl_proxy_start(&p, tport, delay), 0);
	ck_assert_int_gt(p.pid, 0);
	ck_assert_int_ne(p.port, tport);
	int c = connect_to(p.port);
	int s = accept_by(l, deadline);

	int64_t t0 = pd_now_ms();
	write_n(c, "ping", 4);
	read_n(s, b, 4, deadline);
	int64_t up = pd_now_ms() - t0;
	ck_assert(memcmp(b, "ping", 4) == 0);
	t0 = pd_now_ms();
	write_n(s, "pong", 4);
	read_n(c, b, 4, deadline);
	int64_t down = pd_now_ms() - t0;
	ck_assert(memcmp(b, "pong", 4) == 0);
	ck_assert_msg(up >= delay && down >= delay, "up %lld ms, down %lld ms, delay %u",
		      (long long)up, (long long)down, delay);

	/* more than the proxy's buffer, in many writes: every byte, in order */
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 131 + i / 251);
	for (size_t off = 0; off < sizeof big; off += 1000)
		write_n(c, big + off, 1000);
	read_n(s, back, sizeof back, deadline);
	ck_assert(memcmp(big, back, sizeof big) == 0);

	/* an EOF is passed on, after the data */
	write_n(c, "end", 3);
	shutdown(c, SHUT_WR);
	read_n(s, b, 3, deadline);
	struct pollfd pf = {s, POLLIN, 0};
	ck_assert_int_eq(poll(&pf, 1, pd_ms_left(deadline)), 1);
	ck_assert_int_eq(read(s, b, 1), 0);
	close(c);
	close(s);
	close(l);

	pid_t pid = p.pid;
	tl_proxy_stop(&p);
	ck_assert_int_eq(p.pid, 0);
	int rc = kill(pid, 0), e = errno;
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e, ESRCH);
	tl_proxy_stop(&p); /* idempotent */
}
END_TEST

/* I4, TL_PROXY_MAX_CONN: 100 connections open at once, each its own bytes. */
START_TEST(test_proxy_serves_100_connections_at_once)
{
	enum { N = 100 };
	struct tl_proxy p = {0};
	int tport, cli[N], srv[N], seen[N];
	const unsigned delay = 40;
	int l = listen_any(&tport);
	int64_t deadline = pd_now_ms() + IO_MS;

	ck_assert_int_eq(tl_proxy_start(&p, tport, delay), 0);
	for (int i = 0; i < N; i++)
		cli[i] = connect_to(p.port);
	for (int i = 0; i < N; i++) {
		srv[i] = accept_by(l, deadline);
		seen[i] = 0;
	}
	int64_t t0 = pd_now_ms();
	for (int i = 0; i < N; i++) {
		uint32_t v = (uint32_t)i;
		write_n(cli[i], &v, sizeof v);
	}
	/* Each server side learns its client's number and echoes it back
	 * (one by one: every read is bounded). */
	for (int i = 0; i < N; i++) {
		uint32_t v;
		read_n(srv[i], &v, sizeof v, deadline);
		ck_assert_uint_lt(v, N);
		ck_assert_int_eq(seen[v]++, 0);
		write_n(srv[i], &v, sizeof v);
	}
	for (int i = 0; i < N; i++) {
		uint32_t v;
		read_n(cli[i], &v, sizeof v, deadline);
		ck_assert_uint_eq(v, (uint32_t)i);
	}
	int64_t took = pd_now_ms() - t0;
	ck_assert_msg(took >= 2 * (int64_t)delay, "round trips took %lld ms", (long long)took);
	for (int i = 0; i < N; i++) {
		close(cli[i]);
		close(srv[i]);
	}
	close(l);
	tl_proxy_stop(&p);
}
END_TEST

START_TEST(test_proxy_refuses_bad_arguments)
{
	struct tl_proxy p = {0};
	ck_assert_int_eq(tl_proxy_start(&p, 0, 10), -1);
	ck_assert_int_eq(tl_proxy_start(&p, 70000, 10), -1);
	ck_assert_int_eq(tl_proxy_start(NULL, 80, 10), -1);
	ck_assert_int_eq(p.pid, 0);
	tl_proxy_stop(&p);
}
END_TEST

/* ---- gss_peer --mech krb5|spnego, peer to peer -------------------------------- */

struct peer {
	struct pd_child ch; /* its pipes: ch.to its stdin, ch.from its stdout */
	int done;	    /* K, E or EOF seen */
	char ack[256];	    /* its K, "" if none */
	char error[512];    /* its E, "" if none */
};

static struct peer g_peers[2]; /* for the fixture after a failed assertion */

/* Starts gss_peer with args, env = environ with KRB5CCNAME=@ccname when set. */
static void peer_start(struct peer *c, const char *what, char *const args[], const char *ccname)
{
	char ccvar[TL_REALM_PATH_MAX + 32];
	char *envp[512];
	int e = 0;

	memset(c, 0, sizeof *c);
	for (int i = 0; environ[i] != NULL && e < 510; i++)
		if (ccname == NULL || strncmp(environ[i], "KRB5CCNAME=", 11) != 0)
			envp[e++] = environ[i];
	if (ccname != NULL) {
		snprintf(ccvar, sizeof ccvar, "KRB5CCNAME=%s", ccname);
		envp[e++] = ccvar;
	}
	envp[e] = NULL;
	pd_peer_start(&c->ch, realm.dir, what, "gss_peer", args, envp);
}

/* Closes its pipes and reaps it (killed past the bound); its wait status,
 * or -1 when it had to be killed. */
static int peer_end(struct peer *c)
{
	return pd_child_wait(&c->ch, IO_MS);
}

static void peers_teardown(void)
{
	for (int i = 0; i < 2; i++)
		pd_child_reap(&g_peers[i].ch);
}

/* Relays frames between client and server until both are done (K, E or
 * EOF); K frames are kept, not passed on.  The server's R goes into
 * *status and name. */
static void relay(struct peer *c, struct peer *s, uint32_t *status, char *name, size_t cap)
{
	static unsigned char buf[PEER_MAX_PAYLOAD];
	struct peer *side[2] = {c, s};
	int64_t deadline = pd_now_ms() + IO_MS;

	*status = UINT32_MAX;
	name[0] = '\0';
	while (!c->done || !s->done) {
		struct pollfd p[2];
		int n = 0, idx[2];
		for (int i = 0; i < 2; i++) {
			if (side[i]->done)
				continue;
			p[n] = (struct pollfd){side[i]->ch.from, POLLIN, 0};
			idx[n++] = i;
		}
		int pr = poll(p, (nfds_t)n, pd_ms_left(deadline));
		ck_assert_msg(pr > 0, "the peers stalled; client: %s; server: %s", pd_child_err(&c->ch),
			      pd_child_err(&s->ch));
		for (int j = 0; j < n; j++) {
			if (p[j].revents == 0)
				continue;
			struct peer *from = side[idx[j]], *to = side[1 - idx[j]];
			unsigned char hdr[5];
			ssize_t r = read(from->ch.from, hdr, 1);
			if (r <= 0) {
				from->done = 1;
				continue;
			}
			read_n(from->ch.from, hdr + 1, 4, deadline);
			size_t len = peer_get_be32(hdr + 1);
			ck_assert_uint_le(len, PEER_MAX_PAYLOAD);
			if (len > 0)
				read_n(from->ch.from, buf, len, deadline);
			if (hdr[0] == PEER_TAG_ACK) {
				snprintf(from->ack, sizeof from->ack, "%.*s", (int)len, buf);
				from->done = 1;
				continue;
			}
			if (hdr[0] == PEER_TAG_ERROR) {
				snprintf(from->error, sizeof from->error, "%.*s", (int)len, buf);
				from->done = 1;
			}
			if (hdr[0] == PEER_TAG_RESULT && from == s && len >= 4) {
				*status = peer_get_be32(buf);
				snprintf(name, cap, "%.*s", (int)(len - 4), buf + 4);
			}
			/* A peer that ended may have closed its stdin: EPIPE is fine. */
			if (!to->done && peer_write_frame(to->ch.to, hdr[0], buf, len) != 0)
				ck_assert_msg(errno == EPIPE, "to %s: %s", to->ch.what, strerror(errno));
		}
	}
}

/* A whole exchange: server and client with their args; asserts both
 * finished the message phase with "ok" and the server saw @want_name. */
static void peers_run(char *const cargs[], char *const sargs[], const char *ccname,
		      const char *want_name)
{
	struct peer *c = &g_peers[0], *s = &g_peers[1];
	uint32_t status;
	char name[512];

	peer_start(s, "server", sargs, NULL);
	peer_start(c, "client", cargs, ccname);
	relay(c, s, &status, name, sizeof name);
	int cst = peer_end(c), sst = peer_end(s);
	ck_assert_msg(status == 0, "the server's R: 0x%08x; client: %s %s; server: %s %s",
		      (unsigned)status, c->error, pd_child_err(&c->ch), s->error, pd_child_err(&s->ch));
	ck_assert_str_eq(name, want_name);
	ck_assert_msg(strcmp(c->ack, "ok") == 0, "client K: '%s'; %s", c->ack, pd_child_err(&c->ch));
	ck_assert_msg(strcmp(s->ack, "ok") == 0, "server K: '%s'; %s", s->ack, pd_child_err(&s->ch));
	ck_assert_msg(cst == 0 && sst == 0, "exit statuses: client 0x%x, server 0x%x", cst, sst);
}

START_TEST(test_peer_krb5_to_krb5_with_password)
{
	char *cargs[] = {"client", "--mech", "krb5", "--target", "HTTP@host.test", "--user",
			 "alice", "--password", "alice-pw", NULL};
	char *sargs[] = {"server", "--mech", "krb5", "--says", "us", "--expects", "peer", NULL};
	peers_run(cargs, sargs, NULL, "alice@SSPIASYNC.TEST");
}
END_TEST

START_TEST(test_peer_krb5_to_krb5_with_ccache)
{
	char ccname[TL_REALM_PATH_MAX + 8];
	const char *cc = in_dir("peer_bob.cc");
	char *cargs[] = {"client", "--mech", "krb5", "--target", "host/host.test", NULL};
	char *sargs[] = {"server", "--mech", "krb5", "--says", "us", "--expects", "peer", NULL};

	ck_assert_int_eq(tl_realm_kinit(&realm, TL_REALM_BOB, TL_REALM_BOB_PW, cc), 0);
	snprintf(ccname, sizeof ccname, "FILE:%s", cc);
	peers_run(cargs, sargs, ccname, "bob@SSPIASYNC.TEST");
}
END_TEST

START_TEST(test_peer_spnego_to_spnego)
{
	char *cargs[] = {"client", "--mech", "spnego", "--neg-mechs", "krb5", "--target",
			 "HTTP@peer.test", "--user", "alice", "--password", "alice-pw", NULL};
	char *sargs[] = {"server", "--mech", "spnego", "--says", "us", "--expects", "peer", NULL};
	peers_run(cargs, sargs, NULL, "alice@SSPIASYNC.TEST");
}
END_TEST

/* SPNEGO restricted to NTLM: the same M layout (be32 MIC length first). */
START_TEST(test_peer_spnego_ntlm_to_spnego_ntlm)
{
	const char *users = in_dir("ntlm_users");
	FILE *f = fopen(users, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs("DOM:alice:pw\n", f), 0);
	ck_assert_int_eq(fclose(f), 0);
	char *cargs[] = {"client", "--mech", "spnego", "--neg-mechs", "ntlm", "--target",
			 "HTTP@host.test", "--user", "DOM\\alice", "--password", "pw", NULL};
	char *sargs[] = {"server", "--mech", "spnego", "--neg-mechs", "ntlm", "--user-file",
			 (char *)users, "--says", "us", "--expects", "peer", NULL};
	peers_run(cargs, sargs, NULL, "DOM\\alice");
}
END_TEST

START_TEST(test_peer_krb5_client_fails_when_wrong_password)
{
	struct peer *c = &g_peers[0], *s = &g_peers[1];
	char *cargs[] = {"client", "--mech", "krb5", "--target", "HTTP@host.test", "--user",
			 "alice", "--password", "wrong", NULL};
	char *sargs[] = {"server", "--mech", "krb5", "--says", "us", "--expects", "peer", NULL};
	uint32_t status;
	char name[256];

	peer_start(s, "server", sargs, NULL);
	peer_start(c, "client", cargs, NULL);
	relay(c, s, &status, name, sizeof name);
	int cst = peer_end(c);
	(void)peer_end(s);
	ck_assert_msg(strstr(c->error, "gss_acquire_cred_with_password") != NULL, "client E: '%s'",
		      c->error);
	ck_assert(WIFEXITED(cst) && WEXITSTATUS(cst) == 1);
	ck_assert_uint_eq(status, UINT32_MAX); /* the server never decided */
}
END_TEST

/* ---- the suite ------------------------------------------------------------------- */

static Suite *krb5_realm_suite(int have_krb5)
{
	Suite *s = suite_create("krb5_realm");
	TCase *tc = tcase_create("proxy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_proxy_delays_each_direction);
	tcase_add_test(tc, test_proxy_serves_100_connections_at_once);
	tcase_add_test(tc, test_proxy_refuses_bad_arguments);
	suite_add_tcase(s, tc);
	if (!have_krb5)
		return s;

	tc = tcase_create("realm");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, realm_needed, NULL);
	tcase_add_test(tc, test_realm_start_sets_env_files_and_kdc);
	tcase_add_test(tc, test_realm_kinit_makes_ccache);
	tcase_add_test(tc, test_realm_kinit_fails_when_wrong_password);
	tcase_add_test(tc, test_realm_keytab_holds_services);
	tcase_add_test(tc, test_realm_addprinc_and_ktadd);
	tcase_add_test(tc, test_realm_conf_unreachable_fails_kinit);
	tcase_add_test(tc, test_realm_proxy_slows_kinit);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, realm_needed, NULL);
	tcase_add_test(tc, test_realm_stop_does_nothing_when_called_from_child);
	tcase_add_test(tc, test_realm_stop_removes_dir_and_kdc);
	tcase_add_test(tc, test_realm_start_leaves_nothing_when_it_fails);
	tcase_add_test(tc, test_realm_kdc_dies_when_owner_exits);
	tcase_add_test(tc, test_realm_kdc_dies_when_owner_gets_sigterm);
	tcase_add_test(tc, test_realm_kdc_dies_when_owner_skips_atexit);
	suite_add_tcase(s, tc);

	tc = tcase_create("peer");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, realm_needed, peers_teardown);
	tcase_add_test(tc, test_peer_krb5_to_krb5_with_password);
	tcase_add_test(tc, test_peer_krb5_to_krb5_with_ccache);
	tcase_add_test(tc, test_peer_spnego_to_spnego);
	tcase_add_test(tc, test_peer_spnego_ntlm_to_spnego_ntlm);
	tcase_add_test(tc, test_peer_krb5_client_fails_when_wrong_password);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int have_krb5 = tl_realm_available();
	int failed;

	signal(SIGPIPE, SIG_IGN); /* a peer that ended: EPIPE, not death */
	if (!have_krb5)
		printf("check_krb5_realm: the MIT KDC tools (krb5kdc, kdb5_util, kadmin.local, "
		       "kinit, klist) are not installed: only the proxy tests run\n");
	else if (tl_realm_start(&realm) == 0)
		printf("check_krb5_realm: realm %s on 127.0.0.1:%d in %s, started in %.1f ms\n",
		       realm.realm, realm.port, realm.dir, realm.start_ms);
	fflush(stdout);
	failed = tl_run_suite(krb5_realm_suite(have_krb5));
	tl_realm_stop(&realm);
	return failed;
}
