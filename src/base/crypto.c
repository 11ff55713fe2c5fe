/*
 * The key hierarchy and sealing. Every sealed object binds, through its
 * associated data, the vault id and the identity of what it holds, so a
 * ciphertext cannot be moved to another vault, case, record or version.
 */
#include <string.h>

#include "casevault.h"
#include "base/crypto.h"

/* crypto_kdf contexts: exactly 8 bytes each. */
static const char ctx_kek[8] = {'c', 'v', '-', 'k', 'e', 'k', '-', '-'};
static const char ctx_pseudo[8] = {'c', 'v', '-', 'p', 's', 'e', 'u', 'd'};
static const char ctx_meta[8] = {'c', 'v', '-', 'm', 'e', 't', 'a', '-'};
/* The binding key comes from the meta key (docs/formats.md). */
static const char ctx_bind[8] = {'c', 'v', 'b', 'i', 'n', 'd', '0', '1'};

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
cv_crypto_init(void)
{
	return sodium_init() < 0 ? CV_ECRYPTO : 0;
}

struct cv_keys *
cv_keys_new(void)
{
	struct cv_keys *k;

	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return NULL;
	sodium_memzero(k, sizeof(*k));
	return k;
}

void
cv_keys_free(struct cv_keys *k)
{
	/* sodium_free wipes the allocation before releasing it. */
	if (k != NULL)
		sodium_free(k);
}

void
cv_kek_derive(uint8_t out[static CV_KEYBYTES], uint64_t gen,
    const uint8_t root[static CV_KEYBYTES])
{
	crypto_kdf_derive_from_key(out, CV_KEYBYTES, gen, ctx_kek, root);
}

void
cv_keys_derive(struct cv_keys *k, uint64_t gen)
{
	cv_kek_derive(k->kek, gen, k->root);
	crypto_kdf_derive_from_key(
	    k->pseudo, CV_KEYBYTES, 1, ctx_pseudo, k->root);
	crypto_kdf_derive_from_key(k->meta, CV_KEYBYTES, 1, ctx_meta, k->root);
	crypto_kdf_derive_from_key(k->bind, CV_KEYBYTES, 1, ctx_bind, k->meta);
	if (k->has_kept) {
		memcpy(k->pseudo, k->kept, CV_KEYBYTES);
		memcpy(k->bind, k->kept + CV_KEYBYTES, CV_KEYBYTES);
	}
	k->kek_gen = gen;
}

void
cv_seal(const uint8_t key[static CV_KEYBYTES], const uint8_t *ad, size_t adlen,
    const uint8_t *m, size_t mlen, uint8_t *out)
{
	randombytes_buf(out, CV_NONCEBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out + CV_NONCEBYTES, NULL, m, mlen, ad, adlen, NULL, out, key);
}

int
cv_open(const uint8_t key[static CV_KEYBYTES], const uint8_t *ad, size_t adlen,
    const uint8_t *c, size_t clen, uint8_t *m)
{
	if (clen < CV_SEALOVERHEAD)
		return CV_ECRYPTO;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, NULL, NULL,
	        c + CV_NONCEBYTES, clen - CV_NONCEBYTES, ad, adlen, c,
	        key) != 0)
		return CV_ECRYPTO;
	return 0;
}

void
cv_pseudonym(const uint8_t key[static CV_KEYBYTES], const char *case_id,
    char out[static CV_PSEUDONYM_LEN + 1])
{
	uint8_t h[CV_PSEUDONYM_LEN / 2];

	crypto_generichash(h, sizeof(h), (const uint8_t *)case_id,
	    strlen(case_id), key, CV_KEYBYTES);
	sodium_bin2hex(out, CV_PSEUDONYM_LEN + 1, h, sizeof(h));
}

void
cv_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void
cv_case_id_new(char out[static 12])
{
	uint8_t r[8];
	uint64_t v;
	int i;

	randombytes_buf(r, sizeof(r));
	memcpy(&v, r, sizeof(v));
	out[0] = 'C';
	for (i = 1; i <= 10; i++) {
		out[i] = b32[v & 31];
		v >>= 5;
	}
	out[11] = '\0';
}

int
cv_case_id_valid(const char *id)
{
	int i;

	if (strlen(id) != CV_CASE_ID_LEN || id[0] != 'C')
		return 0;
	for (i = 1; i < CV_CASE_ID_LEN; i++)
		if (id[i] == '\0' || strchr(b32, id[i]) == NULL)
			return 0;
	return 1;
}
