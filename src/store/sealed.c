/*
 * Sealed objects; see sealed.h. The associated data is built on the stack
 * and is never secret: only the key and the plaintext are.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "store/sealed.h"

int
cv_sealed_ad(
    const struct cv_bind *b, uint8_t ad[static CV_SEALED_AD_MAX], size_t *adlen)
{
	size_t t = strnlen(b->tag, CV_SEALED_TAG_MAX + 1) + 1;

	*adlen = 0;
	if (t > CV_SEALED_TAG_MAX + 1 ||
	    b->klen > CV_SEALED_AD_MAX - t - CV_VAULTIDBYTES ||
	    b->hlen > CV_SEALED_AD_MAX - t - CV_VAULTIDBYTES - b->klen)
		return CV_ETOOBIG;
	/* The tag's NUL ends it, so no tag is a prefix of another's AD. */
	memcpy(ad, b->tag, t);
	memcpy(ad + t, b->vault_id, CV_VAULTIDBYTES);
	if (b->klen > 0)
		memcpy(ad + t + CV_VAULTIDBYTES, b->key, b->klen);
	if (b->hlen > 0)
		memcpy(ad + t + CV_VAULTIDBYTES + b->klen, b->hdr, b->hlen);
	*adlen = t + CV_VAULTIDBYTES + b->klen + b->hlen;
	return 0;
}

int
cv_sealed_seal(const uint8_t k[static CV_KEYBYTES], const struct cv_bind *b,
    const uint8_t *m, size_t mlen, uint8_t *c)
{
	uint8_t ad[CV_SEALED_AD_MAX];
	size_t adlen;
	int r;

	if ((r = cv_sealed_ad(b, ad, &adlen)) != 0)
		return r;
	cv_seal(k, ad, adlen, m, mlen, c);
	return 0;
}

int
cv_sealed_open(const uint8_t k[static CV_KEYBYTES], const struct cv_bind *b,
    const uint8_t *c, size_t clen, uint8_t *m)
{
	uint8_t ad[CV_SEALED_AD_MAX];
	size_t adlen;
	int r;

	if ((r = cv_sealed_ad(b, ad, &adlen)) != 0)
		return r;
	return cv_open(k, ad, adlen, c, clen, m);
}

int
cv_sealed_open_new(const uint8_t k[static CV_KEYBYTES], const struct cv_bind *b,
    const uint8_t *c, size_t clen, uint8_t **m, size_t *mlen)
{
	uint8_t *p;
	size_t n;
	int r;

	*m = NULL;
	*mlen = 0;
	if (clen < CV_SEALOVERHEAD)
		return CV_ECRYPTO;
	n = clen - CV_SEALOVERHEAD;
	if ((p = malloc(n + 1)) == NULL)
		return CV_ENOMEM;
	if ((r = cv_sealed_open(k, b, c, clen, p)) != 0) {
		/* A failed open writes no plaintext: nothing to wipe. */
		free(p);
		return r;
	}
	p[n] = '\0';
	*m = p;
	*mlen = n;
	return 0;
}

int
cv_sealed_put(struct cv_txn *txn, enum cv_db db, const struct cv_bind *b,
    const uint8_t k[static CV_KEYBYTES], const uint8_t *m, size_t mlen,
    unsigned flags)
{
	uint8_t *val;
	size_t vlen = b->hlen + mlen + CV_SEALOVERHEAD;
	int r;

	if (b->klen == 0)
		return CV_EINVAL;
	if ((val = malloc(vlen)) == NULL)
		return CV_ENOMEM;
	if (b->hlen > 0)
		memcpy(val, b->hdr, b->hlen);
	if ((r = cv_sealed_seal(k, b, m, mlen, val + b->hlen)) == 0)
		r = cv_put(txn, db, b->key, b->klen, val, vlen, flags);
	free(val);
	return r;
}
