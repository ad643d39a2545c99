/*
 * test/peers/peer_common.h - what both NTLM interop peers (gss_peer.c,
 * winpr_peer.c) share: their options, the frame I/O on stdin and the real
 * stdout, failure reports, and the client's reading of the acceptor's R.
 * Each peer sets peer_name and calls peer_stdio_init() first.
 */
#ifndef SSPIASYNC_TEST_PEERS_PEER_COMMON_H
#define SSPIASYNC_TEST_PEERS_PEER_COMMON_H

#include <stddef.h>

#include "peer_proto.h"

struct opts {
	int server;
	int no_sign;
	const char *user;
	const char *password;
	const char *target;
	const char *user_file;
	const char *says;    /* our messages are "<says> signs this" ... */
	const char *expects; /* the other side's: "<expects> signs this" ... */
};

extern const char *peer_name;   /* "gss_peer", "winpr_peer": in every message */
extern unsigned char rbuf[PEER_MAX_PAYLOAD]; /* the last frame received */
extern unsigned char wbuf[PEER_MAX_PAYLOAD]; /* room to build one */
extern int out_fd;                           /* frames go here: the original stdout */

/* Frames own the real stdout; anything a library prints there goes to
 * stderr instead.  Also ignores SIGPIPE. */
void peer_stdio_init(void);
/* Reports a protocol or local failure: stderr, an E frame, exit 1. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Receives a frame into rbuf; the other side's E ends this process. */
unsigned char recv_frame(size_t *len);
void send_frame(unsigned char tag, const void *p, size_t len);
/* Keeps the first error text in err. */
void note(char *err, size_t cap, const char *text);
/* The client's R: a rejection ends this process (exit 0), else it logs the name. */
void client_result(size_t len);
/* The command line into *o (usage errors are fail()s). */
void parse(int argc, char **argv, struct opts *o);

#endif /* SSPIASYNC_TEST_PEERS_PEER_COMMON_H */
