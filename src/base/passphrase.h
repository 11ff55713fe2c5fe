/*
 * Passphrases, over libargon2 (Argon2id): the encoded hashes that
 * authenticate users, and the raw derivation that gives keyslot wrap keys.
 */
#ifndef CV_PASSPHRASE_H
#define CV_PASSPHRASE_H

#include <stddef.h>
#include <stdint.h>

#define CV_SALTBYTES   16
#define CV_ENCODED_MAX 192
/* The shipped floor: RFC 9106's second recommendation, 64 MiB, t=3, p=1. */
#define CV_KDF_M_DEFAULT (64 * 1024)
#define CV_KDF_T_DEFAULT 3
#define CV_KDF_P_DEFAULT 1
/* Bounds accepted from a stored slot, so a crafted slot cannot exhaust us. */
#define CV_KDF_M_MAX (4 * 1024 * 1024)
#define CV_KDF_T_MAX 64
#define CV_KDF_P_MAX 16

struct cv_kdf_params {
	uint32_t m_kib; /* memory in KiB */
	uint32_t t;     /* passes */
	uint32_t p;     /* lanes */
};

/*
 * The parameters for new hashes and slots: the shipped defaults, unless the
 * environment says CASEVAULT_TEST_KDF=insecure, the explicit test-only
 * setting, which gives tiny parameters and says so on standard error each
 * time it is used. Returns 1 when the test setting is in force.
 */
int cv_kdf_params_new(struct cv_kdf_params *p);

/* 1 when P is within the accepted bounds (and at least libargon2's minima). */
int cv_kdf_params_valid(const struct cv_kdf_params *p);

/*
 * Hash PASS into libargon2's encoded form ("$argon2id$v=19$m=...") in
 * ENCODED (CV_ENCODED_MAX bytes) with a fresh salt.
 */
int cv_passphrase_hash(
    const char *pass, size_t len, char encoded[static CV_ENCODED_MAX]);

/*
 * Check PASS against ENCODED in constant time. CV_EAUTH on mismatch;
 * CV_ECORRUPT when ENCODED is not an Argon2id hash within the bounds.
 */
int cv_passphrase_verify(const char *encoded, const char *pass, size_t len)
    __attribute__((warn_unused_result));

/* Derive a 32-byte wrap key from PASS and SALT under P. */
int cv_passphrase_derive(const struct cv_kdf_params *p,
    const uint8_t salt[static CV_SALTBYTES], const char *pass, size_t len,
    uint8_t out[static 32]);

#endif
