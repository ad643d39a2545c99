/*
 * test/peer_driver.h - running an interop peer (test/peers/) as a child of
 * a Check test and talking frames (peers/peer_proto.h) with it: start with
 * pipes on its stdin/stdout and stderr into a file, read frames with a
 * deadline, reap it with a bound (killed past it).
 *
 * Not a peer and not a protocol: the caller decides which frames to expect.
 * Every call asserts (ck_assert) on the test's own thread; nothing here
 * starts a thread.  Used by check_krb5_interop.c (check_ntlm_interop.c has
 * its own copies, older than this file).
 */
#ifndef SSPIASYNC_TEST_PEER_DRIVER_H
#define SSPIASYNC_TEST_PEER_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_TEST_PEER_DRIVER_H */
