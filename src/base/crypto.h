/*
 * The key hierarchy and the sealing of data, over libsodium.
 *
 * root key (32 random bytes, only ever stored sealed in keyslots)
 *   -> crypto_kdf subkeys: KEK generation n, pseudonym key, meta key,
 *      binding key (crypto_kdf of the meta key)
 *   -> per-case keys (random), stored wrapped under the current KEK
 *
 * The pseudonym and binding keys key what the audit trail holds, which
 * is never rewritten: a root rotation keeps them (sealed under the new
 * meta key) so old and new events stay comparable. Once kept, they are
 * no longer derived.
 */
#ifndef CV_CRYPTO_H
#define CV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "casevault.h" /* CV_PSEUDONYM_LEN, CV_CASE_ID_LEN */

#define CV_KEYBYTES     32
#define CV_NONCEBYTES   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CV_TAGBYTES     crypto_aead_xchacha20poly1305_ietf_ABYTES
#define CV_SEALOVERHEAD (CV_NONCEBYTES + CV_TAGBYTES)
#define CV_VAULTIDBYTES 16

/* The unlocked keys of a session, in one sodium_malloc allocation. */
struct cv_keys {
	uint8_t root[CV_KEYBYTES];
	uint8_t kek[CV_KEYBYTES];    /* current generation */
	uint8_t pseudo[CV_KEYBYTES]; /* keyed pseudonyms for the audit */
	uint8_t meta[CV_KEYBYTES];   /* case metadata, wrapped signing key */
	uint8_t bind[CV_KEYBYTES];   /* digests of stored objects, trail */
	/* The pseudonym and binding keys as a root rotation kept them. */
	uint8_t kept[2 * CV_KEYBYTES];
	int has_kept;
	/* The audit signer's public key that the opened keyslot pins. */
	uint8_t signer[32];
	int has_signer;
	uint64_t kek_gen;
};

/* sodium_init(); CV_ECRYPTO when it fails. */
int cv_crypto_init(void);

/* A new guarded, zeroed struct cv_keys, or NULL. Free with cv_keys_free. */
struct cv_keys *cv_keys_new(void);
void cv_keys_free(struct cv_keys *k);

/*
 * Derive KEK, pseudonym, meta and binding keys from K->root, with the KEK
 * of generation GEN; the pseudonym and binding keys are K->kept's when
 * K->has_kept.
 */
void cv_keys_derive(struct cv_keys *k, uint64_t gen);

/* The KEK of generation GEN, derived from ROOT. */
void cv_kek_derive(uint8_t out[static CV_KEYBYTES], uint64_t gen,
    const uint8_t root[static CV_KEYBYTES]);

/*
 * Seal M (MLEN bytes) under KEY with associated data AD into OUT, which
 * must hold MLEN + CV_SEALOVERHEAD bytes: a fresh random nonce, then the
 * XChaCha20-Poly1305-IETF ciphertext and tag.
 */
void cv_seal(const uint8_t key[static CV_KEYBYTES], const uint8_t *ad,
    size_t adlen, const uint8_t *m, size_t mlen, uint8_t *out);

/*
 * Open C (CLEN bytes, as cv_seal wrote it) into M, which must hold
 * CLEN - CV_SEALOVERHEAD bytes. CV_ECRYPTO when the ciphertext, the nonce
 * or the associated data were altered, or CLEN is too short.
 */
int cv_open(const uint8_t key[static CV_KEYBYTES], const uint8_t *ad,
    size_t adlen, const uint8_t *c, size_t clen, uint8_t *m)
    __attribute__((warn_unused_result));

/*
 * The keyed pseudonym of CASE_ID for the audit trail: 32 lowercase hex
 * characters of BLAKE2b keyed with the pseudonym key. Stable for a vault,
 * unlinkable without the key.
 */
void cv_pseudonym(const uint8_t key[static CV_KEYBYTES], const char *case_id,
    char out[static CV_PSEUDONYM_LEN + 1]);

/* Fill BUF with LEN random bytes. */
void cv_random(void *buf, size_t len);

/* A new case id: "C" and 10 Crockford base32 characters (50 random bits). */
void cv_case_id_new(char out[static 12]);

/* 1 if ID looks like a case id, else 0. */
int cv_case_id_valid(const char *id);

#endif
