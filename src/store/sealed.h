/*
 * Sealed objects: every secret the store holds (case metadata, case keys,
 * record versions, per-case objects, keyslots, the audit signing key, the
 * policy set) is sealed here, with associated data built by one function:
 *
 *   tag || 0x00 || vault id || the object's key || its clear header
 *
 * The tag names the kind of object and its format version
 * ("casevault-record-v1"); the vault id and the key bind the object to its
 * vault and its place in the store; the clear header is whatever is stored
 * in front of the sealed bytes and must not change unseen (a record's
 * header, a wrapped case key's KEK generation). So nothing sealed opens in
 * another vault, another place or as another kind of object, and a changed
 * header makes it unreadable. These bytes are part of the on-disk format
 * (docs/formats.md): an old vault opens only if they are built exactly so.
 */
#ifndef CV_SEALED_H
#define CV_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include "base/crypto.h"
#include "store/store.h"

#define CV_SEALED_TAG_MAX 32  /* the longest tag, without its NUL */
#define CV_SEALED_AD_MAX  256 /* the longest associated data */

/*
 * What a sealed object is bound to. KEY and HDR may be NULL when their
 * length is 0 (an object bound by its tag alone; one with no header).
 * Everything is borrowed.
 */
struct cv_bind {
	const char *tag;         /* NUL-terminated, at most CV_SEALED_TAG_MAX */
	const uint8_t *vault_id; /* CV_VAULTIDBYTES */
	const void *key;         /* the object's key in the store */
	size_t klen;
	const void *hdr; /* the clear bytes stored before the sealed ones */
	size_t hlen;
};

/*
 * The associated data of B into AD, its length into *ADLEN. CV_ETOOBIG
 * when it would exceed CV_SEALED_AD_MAX bytes or the tag
 * CV_SEALED_TAG_MAX (a caller's bug: no stored object comes near).
 */
int cv_sealed_ad(const struct cv_bind *b, uint8_t ad[static CV_SEALED_AD_MAX],
    size_t *adlen);

/*
 * Seal M (MLEN bytes) under K, bound to B, into C, which must hold
 * MLEN + CV_SEALOVERHEAD bytes (B's header is not written). CV_ETOOBIG as
 * cv_sealed_ad; then C is untouched.
 */
int cv_sealed_seal(const uint8_t k[static CV_KEYBYTES], const struct cv_bind *b,
    const uint8_t *m, size_t mlen, uint8_t *c);

/*
 * Open C (CLEN bytes, as cv_sealed_seal wrote them) under K, bound to B,
 * into M, which must hold CLEN - CV_SEALOVERHEAD bytes. CV_ECRYPTO when
 * the sealed bytes, the key, the tag, the vault id or the header differ
 * from the seal's, or CLEN is too short; CV_ETOOBIG as cv_sealed_ad.
 */
int cv_sealed_open(const uint8_t k[static CV_KEYBYTES], const struct cv_bind *b,
    const uint8_t *c, size_t clen, uint8_t *m)
    __attribute__((warn_unused_result));

/*
 * As cv_sealed_open, into a new buffer *M of *MLEN bytes followed by a
 * NUL, which the caller wipes (sodium_memzero) and frees. CV_ECRYPTO,
 * CV_ETOOBIG as cv_sealed_open, CV_ENOMEM; *M is NULL on failure.
 */
int cv_sealed_open_new(const uint8_t k[static CV_KEYBYTES],
    const struct cv_bind *b, const uint8_t *c, size_t clen, uint8_t **m,
    size_t *mlen) __attribute__((warn_unused_result));

/*
 * Seal M (MLEN bytes) under K, bound to B, and store B's header followed
 * by the sealed bytes at B's key in DB (cv_put with FLAGS). CV_EINVAL when
 * B has no key; CV_ENOMEM, CV_ETOOBIG, and what cv_put returns.
 */
int cv_sealed_put(struct cv_txn *txn, enum cv_db db, const struct cv_bind *b,
    const uint8_t k[static CV_KEYBYTES], const uint8_t *m, size_t mlen,
    unsigned flags);

#endif
