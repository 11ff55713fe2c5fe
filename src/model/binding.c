/* Binding stored objects to their audit events; see binding.h. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/util.h"
#include "model/binding.h"
#include "model/session.h"

void
cv_bind_hdr_encode(
    const struct cv_bind_hdr *h, uint8_t out[static CV_BIND_HDRBYTES])
{
	cv_put_be64(out, h->version);
	cv_put_be64(out + 8, h->seq);
}

void
cv_bind_hdr_decode(
    const uint8_t in[static CV_BIND_HDRBYTES], struct cv_bind_hdr *h)
{
	h->version = cv_get_be64(in);
	h->seq = cv_get_be64(in + 8);
}

void
cv_bind_digest(const struct cv_session *s, const char *case_id, const char *obj,
    uint64_t version, const uint8_t *m, size_t mlen,
    uint8_t d[static CV_BIND_DIGESTBYTES])
{
	crypto_generichash_state st;
	uint8_t v[8];

	/* The binding key is used for nothing else: a digest is no MAC or
	 * key. It survives a root rotation (base/crypto.h). */
	crypto_generichash_init(
	    &st, s->keys->bind, CV_KEYBYTES, CV_BIND_DIGESTBYTES);
	/* Each field ends in a NUL or has a fixed size: no two inputs run
	 * into each other. */
	crypto_generichash_update(
	    &st, (const uint8_t *)case_id, strlen(case_id) + 1);
	crypto_generichash_update(&st, (const uint8_t *)obj, strlen(obj) + 1);
	cv_put_be64(v, version);
	crypto_generichash_update(&st, v, sizeof(v));
	crypto_generichash_update(&st, m, mlen);
	crypto_generichash_final(&st, d, CV_BIND_DIGESTBYTES);
	sodium_memzero(&st, sizeof(st));
}

int
cv_bind_note(json_t **extra, const char *obj, uint64_t version,
    const uint8_t d[static CV_BIND_DIGESTBYTES])
{
	char hex[2 * CV_BIND_DIGESTBYTES + 1];
	json_t *w, *arr;

	if (*extra == NULL && (*extra = json_object()) == NULL)
		return CV_ENOMEM;
	if ((arr = json_object_get(*extra, "writes")) == NULL) {
		if ((arr = json_array()) == NULL ||
		    json_object_set_new(*extra, "writes", arr) != 0)
			return CV_ENOMEM;
	}
	sodium_bin2hex(hex, sizeof(hex), d, CV_BIND_DIGESTBYTES);
	w = json_pack("{s:s, s:I, s:s}", "obj", obj, "version",
	    (json_int_t)version, "digest", hex);
	if (w == NULL || json_array_append_new(arr, w) != 0)
		return CV_ENOMEM;
	return 0;
}

int
cv_bind_obj_name(char out[static CV_BIND_OBJ_MAX], char kind, const char *id)
{
	int n = snprintf(out, CV_BIND_OBJ_MAX, "%c/%s", kind, id);

	return n < 0 || n >= CV_BIND_OBJ_MAX ? CV_EINVAL : 0;
}
