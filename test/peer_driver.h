/*
 * test/peer_driver.h - running an interop peer (test/peers/) as a child of
 * a Check test and talking frames (peers/peer_proto.h) with it: start with
 * pipes on its stdin/stdout and stderr into a file, read frames with a
 * deadline, reap it with a bound (killed past it).
 *
 * Not a peer and not a protocol: the caller decides which frames to expect
 * (or reads lines and plain output with pd_read_by and pd_read_all).  Every
 * call asserts (ck_assert) on the test's own thread; nothing here starts a
 * thread.  Used by check_ntlm_interop.c, check_krb5_interop.c and
 * check_krb5_realm.c.
 */
#ifndef SSPIASYNC_TEST_PEER_DRIVER_H
#define SSPIASYNC_TEST_PEER_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h> /* ssize_t */

#ifdef __cplusplus
extern "C" {
#endif

#define PD_IO_MS 20000	  /* one frame from a child */
#define PD_CHILD_MS 30000 /* a child's whole life after its pipes close */

/* A child.  Key: [s] set by pd_child_start; [t] the test's thread. */
struct pd_child {
	pid_t pid;	     /* [t] 0 when none (reaped or never started) */
	int to, from;	     /* [t] its stdin, its stdout; -1 when closed */
	char err_path[320];  /* [s] where its stderr goes */
	char what[32];	     /* [s] a name for messages */
};

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
int64_t pd_now_ms(void);

/* What is left until @deadline, for poll(): 0 when past it. */
int pd_ms_left(int64_t deadline);

/* Sets FD_CLOEXEC on @fd; asserts it worked. */
void pd_set_cloexec(int fd);

/*
 * pd_tmpdir_make() - A new directory /tmp/@prefix_XXXXXX (mkdtemp) into
 * @dir (@cap bytes); @dir is "" when that failed.  For an unchecked
 * fixture, so it must not assert: the test's checked fixture asserts that
 * @dir is set.  pd_tmpdir_remove() removes it and all in it, sets "".
 */
void pd_tmpdir_make(char *dir, size_t cap, const char *prefix);
void pd_tmpdir_remove(char *dir);

/*
 * pd_find_peer() - The path of peer @name: $SA_INTEROP_PEER_DIR/@name, else
 * peers/@name next to this test binary.  Asserts that it is executable
 * (a missing peer is a failure, not a skip: build test/peers/peers.mk).
 */
void pd_find_peer(const char *name, char *out, size_t cap);

/*
 * pd_child_start() - Spawn argv[0] (a path) with argv, the current
 * environment, pipes on fds 0 and 1, and fd 2 into @dir/@what.stderr;
 * SIGPIPE back to its default in the child.  Asserts on failure.
 */
void pd_child_start(struct pd_child *c, const char *dir, const char *what, char *const argv[]);

/* pd_child_start() with the environment @envp instead of the current one. */
void pd_child_start_env(struct pd_child *c, const char *dir, const char *what,
			char *const argv[], char *const envp[]);

/*
 * pd_peer_start() - pd_find_peer(@name), then pd_child_start_env() of it
 * with @args after argv[0] (NULL-terminated, at most PD_PEER_MAX_ARGS) and
 * @envp (NULL: the current environment); @what names its stderr file.
 */
#define PD_PEER_MAX_ARGS 22
void pd_peer_start(struct pd_child *c, const char *dir, const char *what, const char *name,
		   char *const args[], char *const envp[]);

/* Closes the child's stdin (it sees EOF); its stdout stays open. */
void pd_child_close_to(struct pd_child *c);

/* The last ~1 KiB the child wrote on stderr (a static buffer), for messages. */
const char *pd_child_err(const struct pd_child *c);

/*
 * pd_child_wait() - Close both pipes, then reap the child within @ms
 * (tl_proc_wait), killing it (SIGKILL, reaped) past that.  Returns the
 * wait status, or -1 when it had to be killed.  c->pid is 0 afterwards.
 */
int pd_child_wait(struct pd_child *c, int ms);

/* pd_child_wait(), asserting that the child exited with @code. */
void pd_child_end(struct pd_child *c, int code);

/* A fixture's cleanup: kill and reap a child an assertion left behind. */
void pd_child_reap(struct pd_child *c);

/*
 * pd_recv() - The next frame, within PD_IO_MS: its payload into buf (cap
 * bytes; a NUL is added after it, so cap must exceed the longest payload),
 * the tag into *tag.  Returns the payload length.  Asserts on timeout, EOF
 * or an oversized frame, and, when @want is not 0, that the tag is @want
 * (an E frame's text is then in the message).
 */
size_t pd_recv(struct pd_child *c, unsigned char want, unsigned char *tag, unsigned char *buf,
	       size_t cap);

/* Sends one frame; asserts it was written. */
void pd_send(struct pd_child *c, unsigned char tag, const void *p, size_t n);

/*
 * pd_read_by() - One read(2) of at most @cap bytes from @fd (a pipe or a
 * socket), waiting (poll) until @deadline.  Returns the bytes read, 0 at
 * EOF, or -1 on timeout or error.  Never asserts.
 */
ssize_t pd_read_by(int fd, void *buf, size_t cap, int64_t deadline);

/*
 * pd_read_all() - Everything from @fd until EOF, NUL-terminated, by
 * @deadline.  Returns its length, or -1 on timeout, error or more than
 * @cap - 1 bytes.  Never asserts.
 */
long pd_read_all(int fd, char *buf, size_t cap, int64_t deadline);

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_TEST_PEER_DRIVER_H */
