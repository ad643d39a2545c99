/*
 * test/peers/peer_common.c - see peer_common.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer_common.h"

const char *peer_name = "peer";
unsigned char rbuf[PEER_MAX_PAYLOAD];
unsigned char wbuf[PEER_MAX_PAYLOAD];
int out_fd = 1;

void peer_stdio_init(void)
{
	out_fd = dup(1);
	if (out_fd < 0 || dup2(2, 1) < 0) {
		fprintf(stderr, "%s: dup: %s\n", peer_name, strerror(errno));
		exit(1);
	}
	signal(SIGPIPE, SIG_IGN);
}

/* Reports a protocol or local failure: stderr, an E frame, exit 1. */
_Noreturn void fail(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", peer_name, text);
	(void)peer_write_text(out_fd, PEER_TAG_ERROR, text);
	exit(1);
}

/* Receives a frame into rbuf; the other side's E ends this process. */
unsigned char recv_frame(size_t *len)
{
	unsigned char tag;

	if (peer_read_frame(0, &tag, rbuf, sizeof rbuf, len) != 0)
		fail("reading a frame: %s", strerror(errno));
	if (tag == PEER_TAG_ERROR) {
		fprintf(stderr, "%s: the other side failed: %.*s\n", peer_name, (int)*len,
			(const char *)rbuf);
		exit(1);
	}
	return tag;
}

void send_frame(unsigned char tag, const void *p, size_t len)
{
	if (peer_write_frame(out_fd, tag, p, len) != 0)
		fail("writing a frame: %s", strerror(errno));
}

void note(char *err, size_t cap, const char *text)
{
	if (err[0] == '\0')
		snprintf(err, cap, "%s", text);
}

void client_result(size_t len)
{
	uint32_t status;

	if (len < 4)
		fail("R frame shorter than 4 bytes");
	status = peer_get_be32(rbuf);
	if (status != 0) {
		fprintf(stderr, "%s: the acceptor rejected us: status 0x%08lx\n", peer_name,
			(unsigned long)status);
		exit(0);
	}
	fprintf(stderr, "%s: the acceptor authenticated \"%.*s\"\n", peer_name, (int)(len - 4),
		(const char *)rbuf + 4);
}

static _Noreturn void usage(const char *why)
{
	fail("%s; usage: %s client --user DOM\\\\user --password PW [--target SVC/host] "
	     "[--no-sign] | %s server --user-file PATH [--no-sign] "
	     "(also --says WORD --expects WORD, default peer/us)",
	     why, peer_name, peer_name);
}

void parse(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof *o);
	o->says = "peer";
	o->expects = "us";
	if (argc < 2)
		usage("no role");
	if (strcmp(argv[1], "client") == 0)
		o->server = 0;
	else if (strcmp(argv[1], "server") == 0)
		o->server = 1;
	else
		usage("unknown role");
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (strcmp(a, "--no-sign") == 0) {
			o->no_sign = 1;
			continue;
		}
		if (strcmp(a, "--user") == 0)
			dst = &o->user;
		else if (strcmp(a, "--password") == 0)
			dst = &o->password;
		else if (strcmp(a, "--target") == 0)
			dst = &o->target;
		else if (strcmp(a, "--user-file") == 0)
			dst = &o->user_file;
		else if (strcmp(a, "--says") == 0)
			dst = &o->says;
		else if (strcmp(a, "--expects") == 0)
			dst = &o->expects;
		else
			usage("unknown option");
		if (i + 1 >= argc)
			usage("option without a value");
		*dst = argv[++i];
	}
	if (o->server ? o->user_file == NULL : (o->user == NULL || o->password == NULL))
		usage("missing option");
}
