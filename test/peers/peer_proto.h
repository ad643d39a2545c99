/*
 * test/peers/peer_proto.h - the framing between the interop peers
 * (gss_peer, winpr_peer) and the test driver that runs them as children.
 *
 * A frame is 1 tag byte, a 4-byte big-endian payload length, then the
 * payload (at most PEER_MAX_PAYLOAD bytes).  The peer reads frames on its
 * stdin and writes them on its stdout; see README.md for the tags and the
 * sequence.  Header-only and free of any SSPI or GSSAPI type, so both the
 * peers and sspiasync's test driver include it.
 *
 * Every helper returns 0 on success, -1 on failure with errno set: by the
 * failing read/write, ENODATA for EOF, EPROTO for an oversized frame, EINVAL
 * for a bad argument.  A writer to a peer that died gets SIGPIPE unless it
 * ignores that signal.
 */
#ifndef SSPIASYNC_TEST_PEER_PROTO_H
#define SSPIASYNC_TEST_PEER_PROTO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define PEER_MAX_PAYLOAD 65536u

#define PEER_TAG_TOKEN 'T'  /* a handshake token */
#define PEER_TAG_RESULT 'R' /* acceptor's verdict: be32 status [+ user name] */
/* M: NTLM: 16-byte signature || plaintext.  Kerberos and SPNEGO
 * (gss_peer --mech krb5|spnego), whose MICs vary in length: be32 MIC
 * length || MIC || plaintext. */
#define PEER_TAG_SIGNED 'M'
/* W: gss_wrap's whole output token.  NTLM: 16-byte signature ||
 * ciphertext; Kerberos: an RFC 4121 wrap token. */
#define PEER_TAG_SEALED 'W'
#define PEER_TAG_ACK 'K'    /* "ok" or an error text */
#define PEER_TAG_ERROR 'E'  /* an error text; the peer then exits 1 */

#define PEER_SIG_LEN 16u /* NTLMSSP signature: SSPI's SECBUFFER_TOKEN */
#define PEER_MIC_LEN_LEN 4u /* Kerberos/SPNEGO M: the be32 MIC length before the MIC */

static inline void peer_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t peer_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Writes all len bytes, retrying short writes and EINTR. */
static inline int peer_write_full(int fd, const void *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes, retrying short reads and EINTR; EOF before the
 * last byte is a failure (errno ENODATA). */
static inline int peer_read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENODATA;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends one frame: the header and the payload in a single write when the
 * frame fits a small stack buffer, else two full writes. */
static inline int peer_write_frame(int fd, unsigned char tag, const void *payload, size_t len)
{
	unsigned char small[5 + 256];

	if (len > PEER_MAX_PAYLOAD || (len > 0 && payload == NULL)) {
		errno = EINVAL;
		return -1;
	}
	small[0] = tag;
	peer_put_be32(small + 1, (uint32_t)len);
	if (len <= sizeof small - 5) {
		if (len > 0)
			memcpy(small + 5, payload, len);
		return peer_write_full(fd, small, 5 + len);
	}
	if (peer_write_full(fd, small, 5) != 0)
		return -1;
	return peer_write_full(fd, payload, len);
}

/* Sends a frame whose payload is a NUL-terminated text (without the NUL). */
static inline int peer_write_text(int fd, unsigned char tag, const char *text)
{
	return peer_write_frame(fd, tag, text, strlen(text));
}

/* Sends R: be32 status, then (status 0 only) the user name, if any. */
static inline int peer_write_result(int fd, uint32_t status, const char *name)
{
	unsigned char buf[4 + 1024];
	size_t n = 4;

	peer_put_be32(buf, status);
	if (status == 0 && name != NULL) {
		size_t l = strlen(name);
		if (l > sizeof buf - 4)
			l = sizeof buf - 4;
		memcpy(buf + 4, name, l);
		n += l;
	}
	return peer_write_frame(fd, PEER_TAG_RESULT, buf, n);
}

/* Receives one frame into buf (cap bytes).  A payload longer than cap or
 * PEER_MAX_PAYLOAD is a failure (errno EPROTO), as is EOF anywhere. */
static inline int peer_read_frame(int fd, unsigned char *tag, void *buf, size_t cap, size_t *len)
{
	unsigned char hdr[5];
	uint32_t l;

	if (peer_read_full(fd, hdr, sizeof hdr) != 0)
		return -1;
	l = peer_get_be32(hdr + 1);
	if (l > PEER_MAX_PAYLOAD || l > cap) {
		errno = EPROTO;
		return -1;
	}
	if (l > 0 && peer_read_full(fd, buf, l) != 0)
		return -1;
	*tag = hdr[0];
	*len = l;
	return 0;
}

#endif /* SSPIASYNC_TEST_PEER_PROTO_H */
