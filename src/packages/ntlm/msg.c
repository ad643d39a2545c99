/*
 * src/packages/ntlm/msg.c - the three NTLM messages and AV pairs
 * ([MS-NLMP] 2.2): parse and write.
 *
 * Parsing trusts nothing: every field is found by its (len, maxlen, offset)
 * triple and must lie inside the message; the fixed header is read only up
 * to what the message holds (curl's NEGOTIATE has no Version, its
 * AUTHENTICATE's payload starts at 64 with no MIC).  Parsers never read
 * outside [m, m + n); fuzz/ntlm_fuzz.c holds them to it.
 */
#include "packages/ntlm/ntlm_int.h"

#include <string.h>

static const uint8_t signature[SA_NTLM_SIG_LEN] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

/* The signature and the type: 0 or -1. */
static int header_ok(const uint8_t *m, size_t n, size_t min, uint32_t type)
{
	if (m == NULL || n < min)
		return -1;
	/* Not a secret; compared as every comparison in this package is. */
	if (!sa__ntlm_ct_equal(m, signature, SA_NTLM_SIG_LEN) || sa_ntlm_le32(m + 8) != type)
		return -1;
	return 0;
}

/* A field header at off: the bytes must lie inside the message.  A zero
 * length is an empty field whatever its offset says. */
static int field(const uint8_t *m, size_t n, size_t off, struct sa_ntlm_field *f)
{
	size_t len = sa_ntlm_le16(m + off);
	size_t at = sa_ntlm_le32(m + off + 4);
	if (len == 0) {
		*f = (struct sa_ntlm_field){.p = NULL, .len = 0};
		return 0;
	}
	if (at > n || len > n - at)
		return -1;
	*f = (struct sa_ntlm_field){.p = m + at, .len = len};
	return 0;
}

/* The lowest offset of the non-empty fields: where the payload starts. */
static size_t payload_start(const uint8_t *m, const struct sa_ntlm_field *f, size_t nf, size_t n)
{
	size_t lo = n;
	for (size_t i = 0; i < nf; i++)
		if (f[i].len != 0 && (size_t)(f[i].p - m) < lo)
			lo = (size_t)(f[i].p - m);
	return lo;
}

int sa__ntlm_parse_negotiate(const uint8_t *m, size_t n, struct sa_ntlm_negotiate *out)
{
	if (header_ok(m, n, 16, SA_NTLM_NEGOTIATE) != 0)
		return -1;
	*out = (struct sa_ntlm_negotiate){.flags = sa_ntlm_le32(m + 12)};
	if (n < SA_NTLM_NEG_MIN)
		return 0; /* the oldest clients stop after the flags */
	if (field(m, n, 16, &out->domain) != 0 || field(m, n, 24, &out->workstation) != 0)
		return -1;
	return 0;
}

int sa__ntlm_parse_challenge(const uint8_t *m, size_t n, struct sa_ntlm_challenge *out)
{
	if (header_ok(m, n, 32, SA_NTLM_CHALLENGE) != 0)
		return -1;
	*out = (struct sa_ntlm_challenge){.flags = sa_ntlm_le32(m + 20)};
	memcpy(out->server_challenge, m + 24, SA_NTLM_CHAL_LEN);
	if (field(m, n, 12, &out->target_name) != 0)
		return -1;
	if (n >= SA_NTLM_CHAL_MIN && field(m, n, 40, &out->target_info) != 0)
		return -1;
	return 0;
}

int sa__ntlm_parse_authenticate(const uint8_t *m, size_t n, struct sa_ntlm_authenticate *out)
{
	if (header_ok(m, n, SA_NTLM_AUTH_MIN, SA_NTLM_AUTHENTICATE) != 0)
		return -1;
	*out = (struct sa_ntlm_authenticate){.flags = sa_ntlm_le32(m + 60)};
	if (field(m, n, 12, &out->lm) != 0 || field(m, n, 20, &out->nt) != 0 ||
	    field(m, n, 28, &out->domain) != 0 || field(m, n, 36, &out->user) != 0 ||
	    field(m, n, 44, &out->workstation) != 0 || field(m, n, 52, &out->enc_key) != 0)
		return -1;
	struct sa_ntlm_field all[6] = {out->lm,   out->nt,		out->domain,
				       out->user, out->workstation, out->enc_key};
	out->has_mic = n >= SA_NTLM_AUTH_HDR && payload_start(m, all, 6, n) >= SA_NTLM_AUTH_HDR;
	return 0;
}

int sa__ntlm_av_check(const uint8_t *info, size_t n)
{
	size_t at = 0;
	while (n - at >= 4) {
		uint16_t id = sa_ntlm_le16(info + at);
		size_t len = sa_ntlm_le16(info + at + 2);
		at += 4;
		if (len > n - at)
			return -1;
		if (id == SA_NTLM_AV_EOL)
			return len == 0 ? 0 : -1;
		at += len;
	}
	return -1; /* no MsvAvEOL */
}

int sa__ntlm_av_find(const uint8_t *info, size_t n, uint16_t id, struct sa_ntlm_field *out)
{
	size_t at = 0;
	while (n - at >= 4) {
		uint16_t aid = sa_ntlm_le16(info + at);
		size_t len = sa_ntlm_le16(info + at + 2);
		at += 4;
		if (aid == SA_NTLM_AV_EOL || len > n - at)
			return 0;
		if (aid == id) {
			*out = (struct sa_ntlm_field){.p = info + at, .len = len};
			return 1;
		}
		at += len;
	}
	return 0;
}

/* ---- writing --------------------------------------------------------------- */

void sa__ntlm_wr_init(struct sa_ntlm_wr *w, uint8_t *buf, size_t cap, uint32_t type, size_t hdr)
{
	*w = (struct sa_ntlm_wr){.buf = buf, .cap = cap, .len = hdr};
	if (hdr > cap) {
		w->err = 1;
		return;
	}
	memset(buf, 0, hdr);
	memcpy(buf, signature, SA_NTLM_SIG_LEN);
	sa_ntlm_put32(buf + 8, type);
}

void sa__ntlm_wr_u16(struct sa_ntlm_wr *w, size_t off, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	sa__ntlm_wr_bytes(w, off, b, 2);
}

void sa__ntlm_wr_u32(struct sa_ntlm_wr *w, size_t off, uint32_t v)
{
	uint8_t b[4];
	sa_ntlm_put32(b, v);
	sa__ntlm_wr_bytes(w, off, b, 4);
}

void sa__ntlm_wr_bytes(struct sa_ntlm_wr *w, size_t off, const void *p, size_t n)
{
	if (w->err || off > w->cap || n > w->cap - off) {
		w->err = 1;
		return;
	}
	if (n != 0)
		memcpy(w->buf + off, p, n);
}

void sa__ntlm_wr_field(struct sa_ntlm_wr *w, size_t off, const void *p, size_t n)
{
	size_t at = w->len;
	if (n > 0xFFFF) {
		w->err = 1;
		return;
	}
	sa__ntlm_wr_bytes(w, at, p, n);
	w->len = w->err ? w->len : at + n;
	sa__ntlm_wr_u16(w, off, (uint16_t)n);
	sa__ntlm_wr_u16(w, off + 2, (uint16_t)n);
	sa__ntlm_wr_u32(w, off + 4, (uint32_t)at);
}

void sa__ntlm_wr_av(struct sa_ntlm_wr *w, uint16_t id, const void *p, size_t n)
{
	if (n > 0xFFFF) {
		w->err = 1;
		return;
	}
	size_t at = w->len;
	sa__ntlm_wr_u16(w, at, id);
	sa__ntlm_wr_u16(w, at + 2, (uint16_t)n);
	sa__ntlm_wr_bytes(w, at + 4, p, n);
	if (!w->err)
		w->len = at + 4 + n;
}
