/*
 * test/peer_driver.c - an interop peer as a child of a Check test; the
 * contract is in peer_driver.h.  Every wait is bounded: reads poll with a
 * deadline, children are reaped with tl_proc_wait and killed past it.
 */
#define _DEFAULT_SOURCE /* readlink, mkdtemp */
#include "peer_driver.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "krb5_realm.h"
#include "peers/peer_proto.h"

extern char **environ;

int64_t pd_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pd_ms_left(int64_t deadline)
{
	int64_t l = deadline - pd_now_ms();
	return l < 0 ? 0 : l > INT_MAX ? INT_MAX : (int)l;
}

void pd_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	ck_assert_int_ge(fl, 0);
	ck_assert_int_eq(fcntl(fd, F_SETFD, fl | FD_CLOEXEC), 0);
}

void pd_tmpdir_make(char *dir, size_t cap, const char *prefix)
{
	if ((size_t)snprintf(dir, cap, "/tmp/%s_XXXXXX", prefix) >= cap || mkdtemp(dir) == NULL)
		dir[0] = '\0';
}

void pd_tmpdir_remove(char *dir)
{
	if (dir[0] != '\0')
		tl_rm_tree(dir);
	dir[0] = '\0';
}

void pd_find_peer(const char *name, char *out, size_t cap)
{
	const char *dir = getenv("SA_INTEROP_PEER_DIR");
	char self[400];
	if (dir == NULL || dir[0] == '\0') {
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		ck_assert_msg(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		ck_assert(slash != NULL && (size_t)(slash - self) + sizeof "/peers" <= sizeof self);
		strcpy(slash, "/peers");
		dir = self;
	}
	ck_assert((size_t)snprintf(out, cap, "%s/%s", dir, name) < cap);
	ck_assert_msg(access(out, X_OK) == 0,
		      "peer %s missing (%s): build it with test/peers/peers.mk "
		      "(needs libkrb5-dev, gss-ntlmssp, libwinpr2-dev)",
		      name, out);
}

void pd_child_start(struct pd_child *c, const char *dir, const char *what, char *const argv[])
{
	pd_child_start_env(c, dir, what, argv, environ);
}

void pd_child_start_env(struct pd_child *c, const char *dir, const char *what,
			char *const argv[], char *const envp[])
{
	int in[2], out[2];
	memset(c, 0, sizeof *c);
	c->to = c->from = -1;
	snprintf(c->what, sizeof c->what, "%s", what);
	snprintf(c->err_path, sizeof c->err_path, "%s/%s.stderr", dir, what);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	pd_set_cloexec(in[0]);
	pd_set_cloexec(in[1]);
	pd_set_cloexec(out[0]);
	pd_set_cloexec(out[1]);

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
	ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, in[0], 0), 0);
	ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, out[1], 1), 0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 2, c->err_path,
							   O_WRONLY | O_CREAT | O_TRUNC, 0600),
			 0);
	ck_assert_int_eq(posix_spawnattr_init(&at), 0);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	ck_assert_int_eq(posix_spawnattr_setsigdefault(&at, &def), 0);
	ck_assert_int_eq(posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF), 0);
	int rc = posix_spawn(&c->pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		c->pid = 0;
		close(in[1]);
		close(out[0]);
		ck_abort_msg("posix_spawn %s: %s", argv[0], strerror(rc));
	}
	c->to = in[1];
	c->from = out[0];
}

void pd_peer_start(struct pd_child *c, const char *dir, const char *what, const char *name,
		   char *const args[], char *const envp[])
{
	char bin[400];
	char *argv[PD_PEER_MAX_ARGS + 2];
	int n = 0;
	pd_find_peer(name, bin, sizeof bin);
	argv[n++] = bin;
	for (int i = 0; args[i] != NULL; i++) {
		ck_assert_int_lt(n, PD_PEER_MAX_ARGS + 1);
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	pd_child_start_env(c, dir, what, argv, envp != NULL ? envp : environ);
}

const char *pd_child_err(const struct pd_child *c)
{
	static char text[1200];
	text[0] = '\0';
	FILE *f = fopen(c->err_path, "r");
	if (f == NULL)
		return text;
	long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : 0;
	if (size > (long)sizeof text - 1)
		fseek(f, size - (long)sizeof text + 1, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

void pd_child_close_to(struct pd_child *c)
{
	if (c->to >= 0)
		close(c->to);
	c->to = -1;
}

int pd_child_wait(struct pd_child *c, int ms)
{
	int st = 0;
	pd_child_close_to(c);
	if (c->from >= 0)
		close(c->from);
	c->from = -1;
	if (c->pid <= 0)
		return -1;
	if (tl_proc_wait(c->pid, ms, &st) != 0) {
		kill(c->pid, SIGKILL);
		(void)tl_proc_wait(c->pid, 5000, NULL);
		st = -1;
	}
	c->pid = 0;
	return st;
}

void pd_child_end(struct pd_child *c, int code)
{
	int st = pd_child_wait(c, PD_CHILD_MS);
	ck_assert_msg(st >= 0, "%s did not exit within %d ms; stderr: %s", c->what, PD_CHILD_MS,
		      pd_child_err(c));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code,
		      "%s ended with status 0x%x, expected exit %d; stderr: %s", c->what, st, code,
		      pd_child_err(c));
}

void pd_child_reap(struct pd_child *c)
{
	if (c->pid > 0)
		(void)pd_child_wait(c, 0);
	c->pid = 0;
}

ssize_t pd_read_by(int fd, void *buf, size_t cap, int64_t deadline)
{
	for (;;) {
		struct pollfd pf = {fd, POLLIN, 0};
		int r = poll(&pf, 1, pd_ms_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = read(fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

long pd_read_all(int fd, char *buf, size_t cap, int64_t deadline)
{
	size_t have = 0;
	for (;;) {
		if (have + 1 >= cap)
			return -1;
		ssize_t r = pd_read_by(fd, buf + have, cap - 1 - have, deadline);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		have += (size_t)r;
	}
	buf[have] = '\0';
	return (long)have;
}

/* Exactly n bytes by the deadline; 0, or -1 on timeout, EOF or error. */
static int pd_read_exact(int fd, unsigned char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t got = pd_read_by(fd, p, n, deadline);
		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

size_t pd_recv(struct pd_child *c, unsigned char want, unsigned char *tag, unsigned char *buf,
	       size_t cap)
{
	unsigned char hdr[5];
	int64_t deadline = pd_now_ms() + PD_IO_MS;
	ck_assert_msg(pd_read_exact(c->from, hdr, 5, deadline) == 0,
		      "no frame from %s (wanted '%c'); stderr: %s", c->what, want ? want : '?',
		      pd_child_err(c));
	size_t len = peer_get_be32(hdr + 1);
	ck_assert_msg(len < cap, "%s: frame of %zu bytes", c->what, len);
	ck_assert_msg(len == 0 || pd_read_exact(c->from, buf, len, deadline) == 0,
		      "short frame from %s; stderr: %s", c->what, pd_child_err(c));
	buf[len] = '\0';
	*tag = hdr[0];
	ck_assert_msg(want == 0 || hdr[0] == want,
		      "%s sent '%c' (%zu bytes: \"%s\"), expected '%c'; stderr: %s", c->what,
		      hdr[0], len, hdr[0] == PEER_TAG_ERROR ? (const char *)buf : "", want,
		      pd_child_err(c));
	return len;
}

void pd_send(struct pd_child *c, unsigned char tag, const void *p, size_t n)
{
	ck_assert_msg(peer_write_frame(c->to, tag, p, n) == 0, "writing to %s: %s; stderr: %s",
		      c->what, strerror(errno), pd_child_err(c));
}
