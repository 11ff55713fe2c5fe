/* SHA-1 as specified in FIPS 180-4, section 6.1. */
#include <string.h>

#include "base/sha1.h"
#include "base/util.h"

static uint32_t
rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

/*
 * One 64-byte block. The 80 steps are written out five at a time with the
 * working variables renamed instead of moved, and the message schedule
 * kept in a ring of 16 words; W(t) computes word t in place.
 */
#define F1(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define F2(b, c, d) ((b) ^ (c) ^ (d))
#define F3(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))
#define W(t)                                                                   \
	(w[(t)&15] = rol(w[((t) + 13) & 15] ^ w[((t) + 8) & 15] ^              \
	         w[((t) + 2) & 15] ^ w[(t)&15],                                \
	     1))
#define X(t) ((t) < 16 ? w[t] : W(t))
#define STEP(a, b, c, d, e, f, k, t)                                           \
	do {                                                                   \
		e += rol(a, 5) + f(b, c, d) + (k) + X(t);                      \
		b = rol(b, 30);                                                \
	} while (0)
#define FIVE(f, k, t)                                                          \
	do {                                                                   \
		STEP(a, b, c, d, e, f, k, (t));                                \
		STEP(e, a, b, c, d, f, k, (t) + 1);                            \
		STEP(d, e, a, b, c, f, k, (t) + 2);                            \
		STEP(c, d, e, a, b, f, k, (t) + 3);                            \
		STEP(b, c, d, e, a, f, k, (t) + 4);                            \
	} while (0)

static void
block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[16], a, b, c, d, e;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = cv_get_be32(p + 4 * i);
	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	FIVE(F1, 0x5a827999, 0);
	FIVE(F1, 0x5a827999, 5);
	FIVE(F1, 0x5a827999, 10);
	FIVE(F1, 0x5a827999, 15);
	FIVE(F2, 0x6ed9eba1, 20);
	FIVE(F2, 0x6ed9eba1, 25);
	FIVE(F2, 0x6ed9eba1, 30);
	FIVE(F2, 0x6ed9eba1, 35);
	FIVE(F3, 0x8f1bbcdc, 40);
	FIVE(F3, 0x8f1bbcdc, 45);
	FIVE(F3, 0x8f1bbcdc, 50);
	FIVE(F3, 0x8f1bbcdc, 55);
	FIVE(F2, 0xca62c1d6, 60);
	FIVE(F2, 0xca62c1d6, 65);
	FIVE(F2, 0xca62c1d6, 70);
	FIVE(F2, 0xca62c1d6, 75);
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void
audit_sha1_init(struct audit_sha1 *s)
{
	static const uint32_t iv[5] = {
	    0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

void
audit_sha1_update(struct audit_sha1 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t k;

	s->len += len;
	if (s->n > 0) {
		k = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, k);
		s->n += k;
		p += k;
		len -= k;
		if (s->n < 64)
			return;
		block(s->h, s->buf);
		s->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		block(s->h, p);
	memcpy(s->buf, p, len);
	s->n = len;
}

void
audit_sha1_final(struct audit_sha1 *s, uint8_t out[static 20])
{
	uint64_t bits = s->len * 8;
	unsigned i;

	s->buf[s->n++] = 0x80;
	if (s->n > 56) {
		memset(s->buf + s->n, 0, 64 - s->n);
		block(s->h, s->buf);
		s->n = 0;
	}
	memset(s->buf + s->n, 0, 56 - s->n);
	cv_put_be64(s->buf + 56, bits);
	block(s->h, s->buf);
	for (i = 0; i < 5; i++)
		cv_put_be32(out + 4 * i, s->h[i]);
	memset(s, 0, sizeof(*s));
}
