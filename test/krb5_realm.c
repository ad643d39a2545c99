/*
 * test/krb5_realm.c - see krb5_realm.h: a throw-away Kerberos realm (MIT's
 * krb5kdc, kdb5_util, kadmin.local and kinit run as children, argv exec'd
 * directly) and a delaying TCP proxy (a forked child's poll() loop).
 *
 * Its one piece of global state is the guard (below): the children to kill
 * when their owner exits or dies of a signal.  Children are started with
 * fork(), because the KDC and the proxy need PR_SET_PDEATHSIG and the
 * proxy runs our own code; between fork() and execve() a child calls only
 * async-signal-safe functions, as the parent may have threads.
 */
#include "krb5_realm.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TOOL_MS 10000	/* one admin tool run, at most */
#define KDC_READY_MS 5000 /* a KDC's start until it accepts a connection */
#define STOP_MS 2000	/* SIGTERM to exit, before SIGKILL */
#define KDC_TRIES 5	/* ports tried when the KDC cannot bind */
#define INPUT_MAX 4096	/* a tool's stdin: fits a pipe, written before the fork */
#define MASTER_PW "sspiasync-master"

static const char *const env_names[TL_REALM_NSAVED] = {
	"KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5_KTNAME", "KRB5CCNAME", "KRB5RCACHEDIR", "KRB5_TRACE",
};

/* ---- time ---------------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ms_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void nap_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int tl_proc_wait(pid_t pid, int ms, int *status)
{
	int64_t deadline = mono_ms() + ms;
	long back_off = 50; /* µs, doubling to 5 ms */
	int st;

	for (;;) {
		pid_t got = waitpid(pid, &st, WNOHANG);
		if (got == pid) {
			if (status != NULL)
				*status = st;
			return 0;
		}
		if (got < 0 && errno != EINTR)
			return -1;
		if (mono_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		nap_us(back_off);
		if (back_off < 5000)
			back_off *= 2;
	}
}

/* SIGTERM, a bounded wait, then SIGKILL and a wait for sure. */
static void proc_end(pid_t pid)
{
	if (pid <= 0)
		return;
	if (kill(pid, SIGTERM) == 0 && tl_proc_wait(pid, STOP_MS, NULL) == 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---- the guard: children killed at the owner's exit or fatal signal ------- */

/*
 * One slot per live KDC or proxy.  The signal handler reads pid and owner
 * only (sig_atomic_t); the atexit handler also removes dir.  A forked
 * child inherits the table but is not the owner, so it leaves it alone.
 */
#define GUARD_MAX 8
_Static_assert(sizeof(pid_t) <= sizeof(sig_atomic_t), "a pid must fit a sig_atomic_t");

static struct guard_slot {
	volatile sig_atomic_t pid;   /* 0: free */
	volatile sig_atomic_t owner; /* the process that may kill it */
	char dir[256];		     /* a realm's directory; "" for a proxy */
} guard_slots[GUARD_MAX];

static const int guard_sigs[3] = {SIGINT, SIGTERM, SIGABRT};
static struct sigaction guard_old[3];
static int guard_installed; /* atexit done */

static void guard_on_signal(int sig)
{
	pid_t self = getpid();
	int saved = errno;

	for (int i = 0; i < GUARD_MAX; i++)
		if (guard_slots[i].pid > 0 && guard_slots[i].owner == self)
			kill((pid_t)guard_slots[i].pid, SIGKILL);
	/* The previous disposition takes over; sig is pending until we return. */
	for (int k = 0; k < 3; k++)
		if (guard_sigs[k] == sig)
			sigaction(sig, &guard_old[k], NULL);
	raise(sig);
	errno = saved;
}

static void guard_at_exit(void)
{
	pid_t self = getpid();

	for (int i = 0; i < GUARD_MAX; i++) {
		struct guard_slot *g = &guard_slots[i];
		if (g->pid <= 0 || g->owner != self)
			continue;
		proc_end((pid_t)g->pid);
		if (g->dir[0] != '\0')
			tl_rm_tree(g->dir);
		g->dir[0] = '\0';
		g->pid = 0;
	}
}

/* atexit once (the registration is inherited by forks, harmlessly: a child
 * is not the owner); the signal handlers wherever they are not ours now,
 * so a child whose handlers were replaced (Check's runner replaces
 * SIGINT/SIGTERM while it runs) gets them too, chained to what it had. */
static void guard_install(void)
{
	struct sigaction sa, cur;

	if (!guard_installed) {
		guard_installed = 1;
		atexit(guard_at_exit);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = guard_on_signal;
	sigemptyset(&sa.sa_mask);
	for (int k = 0; k < 3; k++) {
		if (sigaction(guard_sigs[k], NULL, &cur) != 0 || cur.sa_handler == guard_on_signal)
			continue;
		guard_old[k] = cur;
		sigaction(guard_sigs[k], &sa, NULL);
	}
}

/* The slot holding pid (0: a free slot), or -1. */
static int guard_find(pid_t pid)
{
	for (int i = 0; i < GUARD_MAX; i++)
		if (guard_slots[i].pid == pid)
			return i;
	return -1;
}

static void guard_add(int i, pid_t pid, const char *dir)
{
	snprintf(guard_slots[i].dir, sizeof guard_slots[i].dir, "%s", dir);
	guard_slots[i].owner = getpid();
	guard_slots[i].pid = pid;
}

static void guard_remove(pid_t pid)
{
	int i = pid > 0 ? guard_find(pid) : -1;

	if (i >= 0) {
		guard_slots[i].pid = 0;
		guard_slots[i].dir[0] = '\0';
	}
}

/* ---- files ----------------------------------------------------------------- */

void tl_rm_tree(const char *path)
{
	DIR *d = opendir(path);

	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			char sub[PATH_MAX];
			struct stat st;
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= sizeof sub)
				continue;
			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				tl_rm_tree(sub);
			else
				unlink(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* The last max bytes of path on stderr, under a heading. */
static void log_tail(const char *path, long max)
{
	char buf[2048];
	FILE *f = fopen(path, "r");
	long size;
	size_t n;

	if (f == NULL)
		return;
	if (max > (long)sizeof buf - 1)
		max = (long)sizeof buf - 1;
	size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : 0;
	fseek(f, size > max ? size - max : 0, SEEK_SET);
	n = fread(buf, 1, (size_t)max, f);
	buf[n] = '\0';
	fclose(f);
	fprintf(stderr, "--- %s (%s%ld bytes) ---\n%s%s", path, size > max ? "last of " : "", size,
		buf, n > 0 && buf[n - 1] != '\n' ? "\n" : "");
}

/* The tools' and the KDC's logs, for a failure message. */
static void realm_logs(const struct tl_realm *r)
{
	log_tail(r->log, 1500);
	log_tail(r->kdc_log, 1000);
}

int tl_tool_path(const char *name, char *out, size_t cap)
{
	const char *lists[2] = {getenv("PATH"), "/usr/local/sbin:/usr/sbin:/sbin"};

	if (strchr(name, '/') != NULL)
		return (size_t)snprintf(out, cap, "%s", name) < cap ? 0 : -1;
	for (int l = 0; l < 2; l++) {
		const char *p = lists[l];
		while (p != NULL && *p != '\0') {
			size_t n = strcspn(p, ":");
			if (n > 0 && (size_t)snprintf(out, cap, "%.*s/%s", (int)n, p, name) < cap &&
			    access(out, X_OK) == 0)
				return 0;
			p += n;
			if (*p == ':')
				p++;
		}
	}
	return -1;
}

int tl_realm_available(void)
{
	static const char *const tools[] = {"krb5kdc", "kdb5_util", "kadmin.local", "kinit", "klist"};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
		if (tl_tool_path(tools[i], path, sizeof path) != 0)
			return 0;
	return 1;
}

/* ---- children --------------------------------------------------------------- */

/* The realm's environment for a child: environ without the KRB5_* names
 * start sets, then those (KRB5_TRACE left out).  One allocation; free() it. */
static char **env_build(const struct tl_realm *r, const char *krb5_conf)
{
	size_t n = 0, room;
	char **envp, *s;
	const char *vals[TL_REALM_NSAVED - 1];
	const char *pre[TL_REALM_NSAVED - 1] = {"", "", "FILE:", "FILE:", ""};

	vals[0] = krb5_conf != NULL ? krb5_conf : r->krb5_conf;
	vals[1] = r->kdc_conf;
	vals[2] = r->keytab;
	vals[3] = r->ccache;
	vals[4] = r->rcache_dir;
	while (environ[n] != NULL)
		n++;
	room = (n + TL_REALM_NSAVED + 1) * sizeof(char *) + (TL_REALM_NSAVED - 1) * 1400;
	envp = malloc(room);
	if (envp == NULL)
		return NULL;
	s = (char *)(envp + n + TL_REALM_NSAVED + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int ours = 0;
		for (int j = 0; j < TL_REALM_NSAVED && !ours; j++) {
			size_t l = strlen(env_names[j]);
			ours = strncmp(environ[i], env_names[j], l) == 0 && environ[i][l] == '=';
		}
		if (!ours)
			envp[k++] = environ[i];
	}
	for (int j = 0; j < TL_REALM_NSAVED - 1; j++) {
		int w = snprintf(s, 1400, "%s=%s%s", env_names[j], pre[j], vals[j]);
		if (w < 0 || w >= 1400) {
			free(envp);
			return NULL;
		}
		envp[k++] = s;
		s += w + 1;
	}
	envp[k] = NULL;
	return envp;
}

/* The highest open descriptor (from /proc/self/fd), so a child can close
 * all it inherited without touching /proc after the fork. */
static int fd_max(void)
{
	DIR *d = opendir("/proc/self/fd");
	int max = 1023;

	if (d != NULL) {
		struct dirent *e;
		max = 2;
		while ((e = readdir(d)) != NULL) {
			long v = strtol(e->d_name, NULL, 10);
			if (v > max && v < INT_MAX)
				max = (int)v;
		}
		closedir(d);
	}
	return max;
}

/* In a new child, before it execs or runs the proxy: die with the parent's
 * thread, fds 0..2 from in/out/err (-1: keep), every other fd closed except
 * keep, default signal dispositions, nothing blocked.  Async-signal-safe. */
static void child_setup(pid_t parent, int in, int out, int err, int keep, int maxfd)
{
	static const int sigs[] = {SIGHUP,  SIGINT,	SIGQUIT, SIGPIPE, SIGALRM,
				   SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2, SIGABRT};
	int src[3] = {in, out, err};
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	for (int t = 0; t < 3; t++) /* none of them may sit on a target fd */
		if (src[t] >= 0 && src[t] < 3)
			src[t] = fcntl(src[t], F_DUPFD, 3);
	for (int t = 0; t < 3; t++)
		if (src[t] >= 0)
			dup2(src[t], t);
	for (int fd = 3; fd <= maxfd; fd++)
		if (fd != keep)
			close(fd);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Forks and execs path (argv, envp) with fds 0..2 from in/out/err.
 * Returns the pid, or -1 (errno). */
static pid_t spawn(const char *path, char *const argv[], char *const envp[], int in, int out,
		   int err)
{
	static const char msg[] = "krb5_realm: exec failed\n";
	int maxfd = fd_max();
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	child_setup(parent, in, out, err, -1, maxfd);
	execve(path, argv, envp);
	ssize_t ignored = write(2, msg, sizeof msg - 1);
	(void)ignored;
	_exit(127);
}

static void set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl >= 0)
		fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* Runs argv with the realm's environment (see tl_realm_run), stdout and
 * stderr into the log and out.  Exit status, or -1. */
static int run_tool(const struct tl_realm *r, const char *krb5_conf, char *const argv[],
		    const char *input, char *out, size_t cap)
{
	char path[PATH_MAX], buf[4096];
	int inp[2] = {-1, -1}, outp[2] = {-1, -1}, logfd = -1, st = 0, rc = -1;
	size_t have = 0, in_len = input != NULL ? strlen(input) : 0;
	int64_t deadline = mono_ms() + TOOL_MS;
	char **envp = NULL;
	pid_t pid = -1;

	if (out != NULL && cap > 0)
		out[0] = '\0';
	if (argv == NULL || argv[0] == NULL || in_len > INPUT_MAX ||
	    tl_tool_path(argv[0], path, sizeof path) != 0)
		return -1;
	envp = env_build(r, krb5_conf);
	if (envp == NULL)
		return -1;
	/* The input goes into the pipe before the fork: no SIGPIPE possible. */
	if (input != NULL) {
		if (pipe(inp) != 0)
			goto out_free;
		set_cloexec(inp[0]);
		set_cloexec(inp[1]);
		if (in_len > 0 && write(inp[1], input, in_len) != (ssize_t)in_len)
			goto out_close;
		close(inp[1]);
		inp[1] = -1;
	} else {
		inp[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (inp[0] < 0)
			goto out_free;
	}
	if (pipe(outp) != 0)
		goto out_close;
	set_cloexec(outp[0]);
	set_cloexec(outp[1]);
	logfd = open(r->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	pid = spawn(path, argv, envp, inp[0], outp[1], outp[1]);
	if (pid < 0)
		goto out_close;
	close(outp[1]);
	outp[1] = -1;

	for (;;) {
		struct pollfd p = {outp[0], POLLIN, 0};
		int64_t left = deadline - mono_ms();
		ssize_t n;
		int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break; /* timed out */
		n = read(outp[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int64_t rest = deadline - mono_ms();
			if (tl_proc_wait(pid, rest > 0 ? (int)rest : 0, &st) == 0) {
				pid = -1;
				rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			}
			break;
		}
		if (logfd >= 0 && write(logfd, buf, (size_t)n) < 0) {
			close(logfd);
			logfd = -1;
		}
		if (out != NULL && have + 1 < cap) {
			size_t c = (size_t)n < cap - 1 - have ? (size_t)n : cap - 1 - have;
			memcpy(out + have, buf, c);
			have += c;
			out[have] = '\0';
		}
	}
	if (pid > 0) { /* past the deadline */
		fprintf(stderr, "krb5_realm: %s ran longer than %d ms; killed\n", argv[0], TOOL_MS);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
out_close:
	for (int i = 0; i < 2; i++) {
		if (inp[i] >= 0)
			close(inp[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	if (logfd >= 0)
		close(logfd);
out_free:
	free(envp);
	return rc;
}

int tl_realm_run(const struct tl_realm *r, const char *krb5_conf, char *const argv[],
		 const char *input, char *out, size_t cap)
{
	if (r == NULL || r->dir[0] == '\0')
		return -1;
	return run_tool(r, krb5_conf, argv, input, out, cap);
}

/* ---- the realm's files ------------------------------------------------------- */

/* A 127.0.0.1 port free for both TCP and UDP right now, or -1. */
static int port_pick(void)
{
	for (int tries = 0; tries < 20; tries++) {
		struct sockaddr_in a;
		socklen_t al = sizeof a;
		int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
		int port = -1;

		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (t >= 0 && u >= 0 && bind(t, (struct sockaddr *)&a, sizeof a) == 0 &&
		    getsockname(t, (struct sockaddr *)&a, &al) == 0 &&
		    bind(u, (struct sockaddr *)&a, sizeof a) == 0)
			port = ntohs(a.sin_port);
		if (t >= 0)
			close(t);
		if (u >= 0)
			close(u);
		if (port > 0)
			return port;
	}
	return -1;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL) {
		fprintf(stderr, "krb5_realm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	if (!ok)
		fprintf(stderr, "krb5_realm: writing %s failed\n", path);
	return ok ? 0 : -1;
}

static int write_krb5_conf(const struct tl_realm *r, int port, const char *path)
{
	char text[1024];

	snprintf(text, sizeof text,
		 "[libdefaults]\n"
		 "\tdefault_realm = %s\n"
		 "\tdns_lookup_kdc = false\n"
		 "\tdns_lookup_realm = false\n"
		 "\tdns_canonicalize_hostname = false\n"
		 "\tqualify_shortname = \"\"\n"
		 "\trdns = false\n"
		 "\tudp_preference_limit = 1\n"
		 "[realms]\n"
		 "\t%s = {\n"
		 "\t\tkdc = 127.0.0.1:%d\n"
		 "\t}\n"
		 "[domain_realm]\n"
		 "\thost.test = %s\n"
		 "\t.host.test = %s\n"
		 "\tpeer.test = %s\n",
		 r->realm, r->realm, port, r->realm, r->realm, r->realm);
	return write_text(path, text);
}

static int write_confs(const struct tl_realm *r)
{
	char text[2048];

	snprintf(text, sizeof text,
		 "[kdcdefaults]\n"
		 "\tkdc_listen = 127.0.0.1:%d\n"
		 "\tkdc_tcp_listen = 127.0.0.1:%d\n"
		 "[realms]\n"
		 "\t%s = {\n"
		 "\t\tdatabase_name = %s/principal\n"
		 "\t\tkey_stash_file = %s/stash\n"
		 "\t}\n"
		 "[logging]\n"
		 "\tkdc = FILE:%s\n"
		 "\tadmin_server = FILE:%s\n"
		 "\tdefault = FILE:%s\n",
		 r->port, r->port, r->realm, r->dir, r->dir, r->kdc_log, r->kdc_log, r->kdc_log);
	if (write_text(r->kdc_conf, text) != 0)
		return -1;
	return write_krb5_conf(r, r->port, r->krb5_conf);
}

int tl_realm_write_conf(const struct tl_realm *r, int port, const char *path)
{
	if (r == NULL || r->dir[0] == '\0' || path == NULL || port <= 0 || port > 65535) {
		fprintf(stderr, "krb5_realm: tl_realm_write_conf: bad argument\n");
		return -1;
	}
	return write_krb5_conf(r, port, path);
}

int tl_realm_write_conf_unreachable(const struct tl_realm *r, const char *path)
{
	int port = port_pick();

	if (port < 0) {
		fprintf(stderr, "krb5_realm: no free port\n");
		return -1;
	}
	return tl_realm_write_conf(r, port, path) == 0 ? port : -1;
}

/* ---- kadmin ------------------------------------------------------------------ */

/* kadmin.local exits 0 even when its command failed: success is the line
 * it prints. */
static int kadmin(const struct tl_realm *r, const char *script, const char *const expect[],
		  size_t n_expect)
{
	static char out[16384];
	char *argv[] = {"kadmin.local", "-r", (char *)r->realm, NULL};
	int rc = run_tool(r, NULL, argv, script, out, sizeof out);

	if (rc != 0) {
		fprintf(stderr, "krb5_realm: kadmin.local exited %d\n", rc);
		return -1;
	}
	for (size_t i = 0; i < n_expect; i++) {
		if (strstr(out, expect[i]) == NULL) {
			fprintf(stderr, "krb5_realm: kadmin.local did not say '%s'; it said:\n%s\n",
				expect[i], out);
			return -1;
		}
	}
	return 0;
}

/* A principal name is one word of printable characters (kadmin's input is
 * a line split at blanks). */
static int name_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 200)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~' || *s == '"')
			return 0;
	return 1;
}

/* "alice" -> "alice@REALM"; a name with a realm stays. */
static void full_name(const struct tl_realm *r, const char *p, char *out, size_t cap)
{
	snprintf(out, cap, strchr(p, '@') != NULL ? "%s" : "%s@%s", p, r->realm);
}

int tl_realm_addprinc(const struct tl_realm *r, const char *principal, const char *password)
{
	char script[1024], full[300], expect[400];
	const char *ex[1] = {expect};

	if (r == NULL || r->dir[0] == '\0' || !name_ok(principal) ||
	    (password != NULL && (strpbrk(password, "\"\n") != NULL || strlen(password) > 256))) {
		fprintf(stderr, "krb5_realm: tl_realm_addprinc: bad argument\n");
		return -1;
	}
	full_name(r, principal, full, sizeof full);
	if (password != NULL)
		snprintf(script, sizeof script, "addprinc -pw \"%s\" %s\n", password, principal);
	else
		snprintf(script, sizeof script, "addprinc -randkey %s\n", principal);
	snprintf(expect, sizeof expect, "Principal \"%s\" created.", full);
	return kadmin(r, script, ex, 1);
}

int tl_realm_ktadd(const struct tl_realm *r, const char *principal, const char *keytab)
{
	char script[1024], expect[400];
	const char *ex[1] = {expect};

	if (r == NULL || r->dir[0] == '\0' || !name_ok(principal) ||
	    (keytab != NULL && (strpbrk(keytab, " \t\n\"") != NULL || strlen(keytab) > 600))) {
		fprintf(stderr, "krb5_realm: tl_realm_ktadd: bad argument\n");
		return -1;
	}
	snprintf(script, sizeof script, "ktadd -k %s -norandkey %s\n",
		 keytab != NULL ? keytab : r->keytab, principal);
	snprintf(expect, sizeof expect, "Entry for principal %s with kvno", principal);
	return kadmin(r, script, ex, 1);
}

int tl_realm_kinit(const struct tl_realm *r, const char *principal, const char *password,
		   const char *ccache)
{
	char input[300];
	char *argv[8];
	int n = 0;

	if (r == NULL || r->dir[0] == '\0' || !name_ok(principal) ||
	    (password != NULL && (strchr(password, '\n') != NULL || strlen(password) > 256)))
		return -1;
	argv[n++] = "kinit";
	argv[n++] = "-c";
	argv[n++] = (char *)(ccache != NULL ? ccache : r->ccache);
	if (password == NULL) {
		argv[n++] = "-k";
		argv[n++] = "-t";
		argv[n++] = (char *)r->keytab;
	}
	argv[n++] = (char *)principal;
	argv[n] = NULL;
	snprintf(input, sizeof input, "%s\n", password != NULL ? password : "");
	return run_tool(r, NULL, argv, password != NULL ? input : NULL, NULL, 0) == 0 ? 0 : -1;
}

/* ---- start and stop ------------------------------------------------------------ */

/* The principals of every realm (krb5_realm.h), and what kadmin.local says
 * when it made them. */
static int realm_populate(const struct tl_realm *r)
{
	static const char *const services[] = {"HTTP/host.test", "host/host.test", "HTTP/peer.test"};
	char script[2048], expect[8][128];
	const char *ex[8];
	size_t ne = 0;
	int w;

	w = snprintf(script, sizeof script,
		     "addprinc -pw %s %s\naddprinc -pw %s %s\n"
		     "addprinc -randkey %s\naddprinc -randkey %s\naddprinc -randkey %s\n"
		     "ktadd -k %s -norandkey %s %s %s\n",
		     TL_REALM_ALICE_PW, TL_REALM_ALICE, TL_REALM_BOB_PW, TL_REALM_BOB, services[0],
		     services[1], services[2], r->keytab, services[0], services[1], services[2]);
	if (w < 0 || (size_t)w >= sizeof script)
		return -1;
	snprintf(expect[ne++], sizeof expect[0], "Principal \"%s@%s\" created.", TL_REALM_ALICE,
		 r->realm);
	snprintf(expect[ne++], sizeof expect[0], "Principal \"%s@%s\" created.", TL_REALM_BOB,
		 r->realm);
	for (size_t i = 0; i < 3; i++)
		snprintf(expect[ne++], sizeof expect[0], "Principal \"%s@%s\" created.", services[i],
			 r->realm);
	for (size_t i = 0; i < 3; i++)
		snprintf(expect[ne++], sizeof expect[0], "Entry for principal %s with kvno 1",
			 services[i]);
	for (size_t i = 0; i < ne; i++)
		ex[i] = expect[i];
	return kadmin(r, script, ex, ne);
}

/* Whether 127.0.0.1:port accepts a TCP connection now. */
static int port_answers(int port)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (s < 0)
		return 0;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
	close(s);
	return ok;
}

/* Starts krb5kdc on r->port and waits until it accepts.  0; 1 when it exited
 * (its port was taken: try another); -1 on any other failure. */
static int kdc_launch(struct tl_realm *r)
{
	char path[PATH_MAX];
	char *argv[] = {"krb5kdc", "-n", "-r", r->realm, NULL};
	char **envp = env_build(r, NULL);
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int logfd = open(r->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	int rc = -1, st;
	int64_t deadline = mono_ms() + KDC_READY_MS;
	pid_t pid = -1;

	if (envp == NULL || in < 0 || logfd < 0 || tl_tool_path("krb5kdc", path, sizeof path) != 0) {
		fprintf(stderr, "krb5_realm: cannot start krb5kdc (no memory, /dev/null, log or binary)\n");
		goto out;
	}
	pid = spawn(path, argv, envp, in, logfd, logfd);
	if (pid < 0) {
		fprintf(stderr, "krb5_realm: fork: %s\n", strerror(errno));
		goto out;
	}
	for (;;) {
		pid_t got = waitpid(pid, &st, WNOHANG);
		if (got == pid) {
			fprintf(stderr, "krb5_realm: krb5kdc on port %d exited (status 0x%x)\n",
				r->port, st);
			rc = 1;
			goto out;
		}
		if (port_answers(r->port)) {
			r->kdc_pid = pid;
			rc = 0;
			goto out;
		}
		if (mono_ms() >= deadline) {
			fprintf(stderr, "krb5_realm: krb5kdc did not accept on port %d within %d ms\n",
				r->port, KDC_READY_MS);
			proc_end(pid);
			goto out;
		}
		nap_us(2000);
	}
out:
	if (in >= 0)
		close(in);
	if (logfd >= 0)
		close(logfd);
	free(envp);
	return rc;
}

/* The paths of a realm whose r->dir is set; -1 when one does not fit. */
static int realm_paths(struct tl_realm *r)
{
	struct {
		char *dst;
		const char *leaf;
	} p[] = {
		{r->keytab, "service.keytab"},	{r->ccache, "ccache"},	 {r->krb5_conf, "krb5.conf"},
		{r->kdc_conf, "kdc.conf"},	{r->rcache_dir, "rcache"}, {r->log, "admin.log"},
		{r->kdc_log, "kdc.log"},
	};

	for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
		if ((size_t)snprintf(p[i].dst, TL_REALM_PATH_MAX, "%s/%s", r->dir, p[i].leaf) >=
		    TL_REALM_PATH_MAX)
			return -1;
	return 0;
}

static int env_save(struct tl_realm *r)
{
	for (int i = 0; i < TL_REALM_NSAVED; i++) {
		const char *v = getenv(env_names[i]);
		r->saved[i].had = v != NULL;
		r->saved[i].value[0] = '\0';
		if (v == NULL)
			continue;
		if (strlen(v) >= sizeof r->saved[i].value) {
			fprintf(stderr, "krb5_realm: $%s is too long to save\n", env_names[i]);
			return -1;
		}
		strcpy(r->saved[i].value, v);
	}
	return 0;
}

static int env_set(const struct tl_realm *r)
{
	char ktname[TL_REALM_PATH_MAX + 8], ccname[TL_REALM_PATH_MAX + 8];

	snprintf(ktname, sizeof ktname, "FILE:%s", r->keytab);
	snprintf(ccname, sizeof ccname, "FILE:%s", r->ccache);
	if (setenv("KRB5_CONFIG", r->krb5_conf, 1) != 0 ||
	    setenv("KRB5_KDC_PROFILE", r->kdc_conf, 1) != 0 || setenv("KRB5_KTNAME", ktname, 1) != 0 ||
	    setenv("KRB5CCNAME", ccname, 1) != 0 || setenv("KRB5RCACHEDIR", r->rcache_dir, 1) != 0 ||
	    unsetenv("KRB5_TRACE") != 0)
		return -1;
	return 0;
}

static void env_restore(const struct tl_realm *r)
{
	for (int i = 0; i < TL_REALM_NSAVED; i++) {
		if (r->saved[i].had)
			setenv(env_names[i], r->saved[i].value, 1);
		else
			unsetenv(env_names[i]);
	}
}

int tl_realm_start(struct tl_realm *r)
{
	double t0 = mono_ms_f();
	const char *tmp = getenv("TMPDIR");
	char *kdb_argv[] = {"kdb5_util", "create", "-s", "-r", TL_REALM_NAME, "-P", MASTER_PW, NULL};
	int slot, rc = 1, env_done = 0;

	if (r == NULL) {
		fprintf(stderr, "krb5_realm: tl_realm_start: no realm\n");
		return -1;
	}
	if (r->owner == getpid() && (r->dir[0] != '\0' || r->kdc_pid > 0)) {
		fprintf(stderr, "krb5_realm: tl_realm_start: this realm is running\n");
		return -1;
	}
	if (!tl_realm_available()) {
		fprintf(stderr, "krb5_realm: the MIT KDC tools are not installed "
				"(apt-get install krb5-kdc krb5-admin-server krb5-user)\n");
		return -1;
	}
	slot = guard_find(0);
	if (slot < 0) {
		fprintf(stderr, "krb5_realm: %d realms and proxies live already\n", GUARD_MAX);
		return -1;
	}
	memset(r, 0, sizeof *r);
	if (env_save(r) != 0)
		return -1;
	snprintf(r->realm, sizeof r->realm, "%s", TL_REALM_NAME);
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 160)
		tmp = "/tmp";
	snprintf(r->dir, sizeof r->dir, "%s/sa_krb5_XXXXXX", tmp);
	if (mkdtemp(r->dir) == NULL) {
		fprintf(stderr, "krb5_realm: mkdtemp %s: %s\n", r->dir, strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	r->owner = getpid();
	if (realm_paths(r) != 0) {
		fprintf(stderr, "krb5_realm: %s: path too long\n", r->dir);
		goto out_fail;
	}
	if (mkdir(r->rcache_dir, 0700) != 0) {
		fprintf(stderr, "krb5_realm: mkdir %s: %s\n", r->rcache_dir, strerror(errno));
		goto out_fail;
	}
	r->port = port_pick();
	if (r->port < 0 || write_confs(r) != 0)
		goto out_fail;
	if (run_tool(r, NULL, kdb_argv, NULL, NULL, 0) != 0) {
		fprintf(stderr, "krb5_realm: kdb5_util create failed\n");
		goto out_fail;
	}
	if (realm_populate(r) != 0)
		goto out_fail;
	for (int tries = 0; tries < KDC_TRIES && rc == 1; tries++) {
		if (tries > 0 && ((r->port = port_pick()) < 0 || write_confs(r) != 0))
			goto out_fail;
		rc = kdc_launch(r);
	}
	if (rc != 0)
		goto out_fail;
	guard_install();
	guard_add(slot, r->kdc_pid, r->dir);
	env_done = 1;
	if (env_set(r) != 0) {
		fprintf(stderr, "krb5_realm: setenv: %s\n", strerror(errno));
		goto out_fail;
	}
	r->start_ms = mono_ms_f() - t0;
	return 0;

out_fail:
	fprintf(stderr, "krb5_realm: starting realm %s in %s failed\n", r->realm, r->dir);
	realm_logs(r);
	if (env_done)
		env_restore(r);
	guard_remove(r->kdc_pid);
	proc_end(r->kdc_pid);
	tl_rm_tree(r->dir);
	memset(r, 0, sizeof *r);
	return -1;
}

void tl_realm_stop(struct tl_realm *r)
{
	if (r == NULL || r->owner != getpid())
		return;
	if (r->kdc_pid > 0) {
		guard_remove(r->kdc_pid);
		proc_end(r->kdc_pid);
		env_restore(r);
	}
	if (r->dir[0] != '\0')
		tl_rm_tree(r->dir);
	r->kdc_pid = 0;
	r->dir[0] = '\0';
	r->owner = 0;
}

/* ---- the delaying proxy ------------------------------------------------------------ */

#define PX_BUF 8192   /* bytes queued per direction */
#define PX_CHUNKS 32  /* reads queued per direction */

/* One direction of a connection: what was read from one socket and waits to
 * be written to the other.  Bytes are a ring [head, head + used); chunk i
 * (from ch_head) holds the next ch[i].len of them, due at ch[i].due. */
struct px_dir {
	unsigned char buf[PX_BUF];
	size_t head, used;
	struct {
		size_t len;
		int64_t due;
	} ch[PX_CHUNKS];
	unsigned ch_head, ch_n;
	int eof;  /* the source said EOF */
	int shut; /* EOF passed on: shutdown(SHUT_WR) on the destination */
};

/* fd[0] the accepted client, fd[1] the target; d[k] carries fd[k] -> fd[1-k]. */
struct px_conn {
	int fd[2]; /* fd[0] < 0: slot free */
	struct px_dir d[2];
};

struct px_state {
	int lfd, target_port;
	int64_t delay;
	struct px_conn conn[TL_PROXY_MAX_CONN];
	struct pollfd pfd[1 + 2 * TL_PROXY_MAX_CONN];
	int who[1 + 2 * TL_PROXY_MAX_CONN]; /* conn * 2 + side; -1: the listener */
};

static void px_close(struct px_conn *c)
{
	close(c->fd[0]);
	close(c->fd[1]);
	c->fd[0] = c->fd[1] = -1;
}

static int px_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 ? 0 : -1;
}

/* A new connection into a free slot (the caller checked there is one). */
static void px_accept(struct px_state *s)
{
	struct sockaddr_in a;
	struct px_conn *c = NULL;
	int cfd = accept(s->lfd, NULL, NULL), tfd;

	if (cfd < 0)
		return;
	for (int i = 0; i < TL_PROXY_MAX_CONN && c == NULL; i++)
		if (s->conn[i].fd[0] < 0)
			c = &s->conn[i];
	tfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)s->target_port);
	if (c == NULL || tfd < 0 || connect(tfd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    px_nonblock(cfd) != 0 || px_nonblock(tfd) != 0) {
		close(cfd);
		if (tfd >= 0)
			close(tfd);
		return;
	}
	c->fd[0] = cfd;
	c->fd[1] = tfd;
	for (int k = 0; k < 2; k++) {
		c->d[k].head = c->d[k].used = 0;
		c->d[k].ch_head = c->d[k].ch_n = 0;
		c->d[k].eof = c->d[k].shut = 0;
	}
}

/* Reads one chunk from c->fd[k] into d[k].  -1: the connection is done for. */
static int px_read(struct px_state *s, struct px_conn *c, int k, int64_t now)
{
	struct px_dir *d = &c->d[k];
	size_t tail = (d->head + d->used) % PX_BUF;
	size_t room = PX_BUF - d->used < PX_BUF - tail ? PX_BUF - d->used : PX_BUF - tail;
	ssize_t n = read(c->fd[k], d->buf + tail, room);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if (n == 0) {
		d->eof = 1;
		return 0;
	}
	d->used += (size_t)n;
	d->ch[(d->ch_head + d->ch_n) % PX_CHUNKS].len = (size_t)n;
	d->ch[(d->ch_head + d->ch_n) % PX_CHUNKS].due = now + s->delay;
	d->ch_n++;
	return 0;
}

/* Writes the due chunks of d[k] to c->fd[1-k].  -1: done for. */
static int px_write(struct px_conn *c, int k, int64_t now)
{
	struct px_dir *d = &c->d[k];

	while (d->ch_n > 0 && d->ch[d->ch_head].due <= now) {
		size_t *left = &d->ch[d->ch_head].len;
		size_t len = *left < PX_BUF - d->head ? *left : PX_BUF - d->head;
		ssize_t n = send(c->fd[1 - k], d->buf + d->head, len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		d->head = (d->head + (size_t)n) % PX_BUF;
		d->used -= (size_t)n;
		*left -= (size_t)n;
		if (*left == 0) {
			d->ch_head = (d->ch_head + 1) % PX_CHUNKS;
			d->ch_n--;
		}
	}
	return 0;
}

static _Noreturn void px_main(struct px_state *s)
{
	for (;;) {
		int64_t now = mono_ms(), wait = -1;
		int n = 0, busy = 0;

		for (int i = 0; i < TL_PROXY_MAX_CONN; i++) {
			struct px_conn *c = &s->conn[i];
			if (c->fd[0] < 0)
				continue;
			busy++;
			for (int k = 0; k < 2; k++) {
				struct px_dir *in = &c->d[k], *back = &c->d[1 - k];
				short ev = 0;
				if (!in->eof && in->used < PX_BUF && in->ch_n < PX_CHUNKS)
					ev |= POLLIN;
				if (back->ch_n > 0) {
					int64_t due = back->ch[back->ch_head].due;
					if (due <= now)
						ev |= POLLOUT;
					else if (wait < 0 || due - now < wait)
						wait = due - now;
				}
				/* fd -1 when nothing is wanted: else a POLLHUP spins. */
				s->pfd[n].fd = ev != 0 ? c->fd[k] : -1;
				s->pfd[n].events = ev;
				s->pfd[n].revents = 0;
				s->who[n++] = i * 2 + k;
			}
		}
		s->pfd[n].fd = busy < TL_PROXY_MAX_CONN ? s->lfd : -1;
		s->pfd[n].events = POLLIN;
		s->pfd[n].revents = 0;
		s->who[n++] = -1;
		if (poll(s->pfd, (nfds_t)n, wait < 0 ? -1 : (int)wait + 1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		now = mono_ms();
		for (int j = 0; j < n; j++) {
			short re = s->pfd[j].revents;
			struct px_conn *c;
			int k, bad = 0;

			if (re == 0)
				continue;
			if (s->who[j] < 0) {
				px_accept(s);
				continue;
			}
			c = &s->conn[s->who[j] / 2];
			k = s->who[j] % 2;
			if (c->fd[0] < 0)
				continue;
			if ((s->pfd[j].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR)))
				bad = px_read(s, c, k, now);
			if (!bad && (s->pfd[j].events & POLLOUT) && (re & (POLLOUT | POLLHUP | POLLERR)))
				bad = px_write(c, 1 - k, now);
			if (bad)
				px_close(c);
		}
		/* EOFs passed on after the last chunk; both done: closed. */
		for (int i = 0; i < TL_PROXY_MAX_CONN; i++) {
			struct px_conn *c = &s->conn[i];
			if (c->fd[0] < 0)
				continue;
			for (int k = 0; k < 2; k++) {
				struct px_dir *d = &c->d[k];
				if (d->eof && d->ch_n == 0 && !d->shut) {
					shutdown(c->fd[1 - k], SHUT_WR);
					d->shut = 1;
				}
			}
			if (c->d[0].shut && c->d[1].shut)
				px_close(c);
		}
	}
}

int tl_proxy_start(struct tl_proxy *p, int target_port, unsigned delay_ms)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	struct px_state *s;
	int lfd, slot, maxfd;
	pid_t parent = getpid(), pid;

	if (p == NULL || target_port <= 0 || target_port > 65535 || delay_ms > 3600000u) {
		fprintf(stderr, "krb5_realm: tl_proxy_start: bad argument\n");
		return -1;
	}
	slot = guard_find(0);
	if (slot < 0) {
		fprintf(stderr, "krb5_realm: %d realms and proxies live already\n", GUARD_MAX);
		return -1;
	}
	/* The child's tables: allocated here, as malloc after a fork in a
	 * threaded process may deadlock. */
	s = malloc(sizeof *s);
	if (s == NULL) {
		fprintf(stderr, "krb5_realm: tl_proxy_start: no memory\n");
		return -1;
	}
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) != 0 || listen(lfd, 512) != 0 ||
	    px_nonblock(lfd) != 0) {
		fprintf(stderr, "krb5_realm: proxy socket: %s\n", strerror(errno));
		if (lfd >= 0)
			close(lfd);
		free(s);
		return -1;
	}
	s->lfd = lfd;
	s->target_port = target_port;
	s->delay = delay_ms;
	for (int i = 0; i < TL_PROXY_MAX_CONN; i++)
		s->conn[i].fd[0] = s->conn[i].fd[1] = -1;
	maxfd = fd_max();
	pid = fork();
	if (pid == 0) {
		child_setup(parent, -1, -1, -1, lfd, maxfd);
		px_main(s);
	}
	close(lfd);
	free(s);
	if (pid < 0) {
		fprintf(stderr, "krb5_realm: fork: %s\n", strerror(errno));
		return -1;
	}
	guard_install();
	guard_add(slot, pid, "");
	p->port = ntohs(a.sin_port);
	p->target_port = target_port;
	p->delay_ms = delay_ms;
	p->pid = pid;
	p->owner = parent;
	return 0;
}

void tl_proxy_stop(struct tl_proxy *p)
{
	if (p == NULL || p->owner != getpid() || p->pid <= 0)
		return;
	guard_remove(p->pid);
	proc_end(p->pid);
	p->pid = 0;
	p->owner = 0;
}
