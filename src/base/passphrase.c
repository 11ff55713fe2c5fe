/* Argon2id for user hashes and keyslot wrap keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <sodium.h>

#include "casevault.h"
#include "base/passphrase.h"

int
cv_kdf_params_new(struct cv_kdf_params *p)
{
	static int warned;
	const char *t = getenv("CASEVAULT_TEST_KDF");

	if (t != NULL && strcmp(t, "insecure") == 0) {
		if (!warned++)
			fprintf(stderr,
			    "casevault: WARNING: test-only "
			    "Argon2id parameters "
			    "(CASEVAULT_TEST_KDF=insecure)\n");
		p->m_kib = 64;
		p->t = 1;
		p->p = 1;
		return 1;
	}
	p->m_kib = CV_KDF_M_DEFAULT;
	p->t = CV_KDF_T_DEFAULT;
	p->p = CV_KDF_P_DEFAULT;
	return 0;
}

int
cv_kdf_params_valid(const struct cv_kdf_params *p)
{
	return p->p >= 1 && p->p <= CV_KDF_P_MAX && p->t >= 1 &&
	    p->t <= CV_KDF_T_MAX && p->m_kib >= 8 * p->p &&
	    p->m_kib <= CV_KDF_M_MAX;
}

int
cv_passphrase_hash(
    const char *pass, size_t len, char encoded[static CV_ENCODED_MAX])
{
	struct cv_kdf_params p;
	uint8_t salt[CV_SALTBYTES];
	int r;

	cv_kdf_params_new(&p);
	randombytes_buf(salt, sizeof(salt));
	r = argon2id_hash_encoded(p.t, p.m_kib, p.p, pass, len, salt,
	    sizeof(salt), 32, encoded, CV_ENCODED_MAX);
	return r == ARGON2_OK
	    ? 0
	    : (r == ARGON2_MEMORY_ALLOCATION_ERROR ? CV_ENOMEM : CV_EINVAL);
}

/* Read "m=%u,t=%u,p=%u" from an encoded hash to bound it before use. */
static int
encoded_params(const char *enc, struct cv_kdf_params *p)
{
	const char *s;

	if (strncmp(enc, "$argon2id$v=19$", 15) != 0)
		return CV_ECORRUPT;
	s = enc + 15;
	if (sscanf(s, "m=%u,t=%u,p=%u$", &p->m_kib, &p->t, &p->p) != 3)
		return CV_ECORRUPT;
	return cv_kdf_params_valid(p) ? 0 : CV_ECORRUPT;
}

int
cv_passphrase_verify(const char *encoded, const char *pass, size_t len)
{
	struct cv_kdf_params p;
	int r;

	if (strnlen(encoded, CV_ENCODED_MAX) >= CV_ENCODED_MAX ||
	    encoded_params(encoded, &p) != 0)
		return CV_ECORRUPT;
	r = argon2id_verify(encoded, pass, len);
	if (r == ARGON2_OK)
		return 0;
	if (r == ARGON2_VERIFY_MISMATCH)
		return CV_EAUTH;
	return r == ARGON2_MEMORY_ALLOCATION_ERROR ? CV_ENOMEM : CV_ECORRUPT;
}

int
cv_passphrase_derive(const struct cv_kdf_params *p,
    const uint8_t salt[static CV_SALTBYTES], const char *pass, size_t len,
    uint8_t out[static 32])
{
	int r;

	if (!cv_kdf_params_valid(p))
		return CV_ECORRUPT;
	r = argon2id_hash_raw(
	    p->t, p->m_kib, p->p, pass, len, salt, CV_SALTBYTES, out, 32);
	if (r == ARGON2_OK)
		return 0;
	sodium_memzero(out, 32);
	return r == ARGON2_MEMORY_ALLOCATION_ERROR ? CV_ENOMEM : CV_EINVAL;
}
