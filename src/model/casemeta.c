/*
 * Case metadata and case keys, below the gate that decides on them. The
 * metadata holds no identity (status, team, dates, counters) and is sealed
 * under the meta key anyway, so a stolen store does not even show who
 * works on which case. A case key is wrapped under the key-encryption key
 * of the generation stored in front of it.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "casevault.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/util.h"
#include "model/binding.h"
#include "model/casemeta.h"
#include "model/session.h"
#include "store/sealed.h"
#include "store/store.h"

#define META_MAX (16 * 1024)
#define CK_BYTES (8 + CV_SEALOVERHEAD + CV_KEYBYTES)
#define CASE_TAG "casevault-case-v1"
#define CK_TAG   "casevault-casekey-v1"

/*
 * Open the stored metadata of ID: its clear header into *H and the
 * plaintext into a new buffer *M of *N bytes (wiped and freed by the
 * caller).
 */
static int
open_meta(struct cv_txn *txn, struct cv_session *s, const char *id,
    struct cv_bind_hdr *h, uint8_t **m, size_t *n)
{
	struct cv_bind b = {
	    CASE_TAG, s->vault_id, id, CV_CASE_ID_LEN, NULL, CV_BIND_HDRBYTES};
	struct cv_val v;
	int r;

	*m = NULL;
	*n = 0;
	if (!cv_case_id_valid(id))
		return CV_ENOTFOUND;
	if ((r = cv_get(txn, CV_DB_CASES, id, CV_CASE_ID_LEN, &v)) != 0)
		return r;
	if (v.len < CV_BIND_HDRBYTES + CV_SEALOVERHEAD || v.len > META_MAX)
		return CV_ECORRUPT;
	b.hdr = v.data;
	cv_bind_hdr_decode(v.data, h);
	return cv_sealed_open_new(s->keys->meta, &b,
	    (const uint8_t *)v.data + CV_BIND_HDRBYTES,
	    v.len - CV_BIND_HDRBYTES, m, n);
}

int
cv_case_load(
    struct cv_txn *txn, struct cv_session *s, const char *id, json_t **meta)
{
	struct cv_bind_hdr h;
	size_t n;
	uint8_t *m;
	int r;

	*meta = NULL;
	if ((r = open_meta(txn, s, id, &h, &m, &n)) == 0)
		r = cv_json_parse_object((char *)m, n, META_MAX, meta) == 0
		    ? 0
		    : CV_ECORRUPT;
	if (m != NULL)
		sodium_memzero(m, n);
	free(m);
	return r;
}

int
cv_case_digest(struct cv_txn *txn, struct cv_session *s, const char *id,
    struct cv_bind_hdr *h, uint8_t d[static CV_BIND_DIGESTBYTES])
{
	size_t n;
	uint8_t *m;
	int r;

	if ((r = open_meta(txn, s, id, h, &m, &n)) != 0)
		return r;
	cv_bind_digest(s, id, CV_BIND_OBJ_CASE, h->version, m, n, d);
	sodium_memzero(m, n);
	free(m);
	return 0;
}

int
cv_case_load_live(
    struct cv_txn *txn, struct cv_session *s, const char *id, json_t **meta)
{
	int r;

	if ((r = cv_case_load(txn, s, id, meta)) != 0)
		return r;
	if (json_is_true(json_object_get(*meta, "erased"))) {
		json_decref(*meta);
		*meta = NULL;
		return CV_ENOTFOUND;
	}
	return 0;
}

/* The version the next write of case ID's metadata takes. */
static int
next_version(struct cv_txn *txn, const char *id, uint64_t *version)
{
	struct cv_val v;
	int r;

	if ((r = cv_get(txn, CV_DB_CASES, id, CV_CASE_ID_LEN, &v)) ==
	    CV_ENOTFOUND) {
		*version = 1;
		return 0;
	}
	if (r != 0)
		return r;
	if (v.len < CV_BIND_HDRBYTES)
		return CV_ECORRUPT;
	*version = cv_get_be64(v.data) + 1;
	return 0;
}

int
cv_case_stage(struct cv_txn *txn, struct cv_session *s, const char *id,
    const json_t *meta, json_t **extra, uint64_t *version)
{
	uint8_t d[CV_BIND_DIGESTBYTES];
	char *text;
	int r;

	if ((r = next_version(txn, id, version)) != 0)
		return r;
	if ((text = cv_json_canonical(meta)) == NULL)
		return CV_ENOMEM;
	cv_bind_digest(s, id, CV_BIND_OBJ_CASE, *version, (uint8_t *)text,
	    strlen(text), d);
	free(text);
	return cv_bind_note(extra, CV_BIND_OBJ_CASE, *version, d);
}

int
cv_case_save(struct cv_txn *txn, struct cv_session *s, const char *id,
    const json_t *meta, uint64_t version, uint64_t seq)
{
	struct cv_bind_hdr bh = {version, seq};
	uint8_t hdr[CV_BIND_HDRBYTES];
	struct cv_bind b = {
	    CASE_TAG, s->vault_id, id, CV_CASE_ID_LEN, hdr, sizeof(hdr)};
	size_t n;
	char *text;
	int r;

	cv_bind_hdr_encode(&bh, hdr);
	if ((text = cv_json_canonical(meta)) == NULL)
		return CV_ENOMEM;
	n = strlen(text);
	if (n + CV_BIND_HDRBYTES + CV_SEALOVERHEAD > META_MAX)
		r = CV_ETOOBIG;
	else
		r = cv_sealed_put(
		    txn, CV_DB_CASES, &b, s->keys->meta, (uint8_t *)text, n, 0);
	/* The team and the dates are metadata, not identity, but wiped
	 * like every other plaintext the vault seals. */
	sodium_memzero(text, n);
	free(text);
	return r;
}

int
cv_case_on_team(const json_t *meta, uint32_t uid)
{
	const json_t *team = json_object_get(meta, "team"), *m;
	size_t i;

	json_array_foreach (team, i, m)
		if (json_is_integer(m) && json_integer_value(m) == uid)
			return 1;
	return 0;
}

int
cv_case_check_open(const json_t *meta)
{
	const char *status = json_string_value(json_object_get(meta, "status"));

	if (status == NULL || strcmp(status, "closed") == 0) {
		cv_error_set("the case is closed");
		return CV_ESTATE;
	}
	return 0;
}

/* The seal binds the KEK generation stored in front of it. */
int
cv_casekey_get(struct cv_txn *txn, struct cv_session *s, const char *id,
    uint8_t key[static CV_KEYBYTES])
{
	struct cv_bind b = {CK_TAG, s->vault_id, id, CV_CASE_ID_LEN, NULL, 8};
	uint8_t kek[CV_KEYBYTES];
	const uint8_t *kek_use = s->keys->kek;
	uint64_t gen;
	struct cv_val v;
	int r;

	if ((r = cv_get(txn, CV_DB_CASEKEYS, id, CV_CASE_ID_LEN, &v)) != 0)
		return r == CV_ENOTFOUND ? CV_ENOTFOUND : r;
	if (v.len != CK_BYTES)
		return CV_ECORRUPT;
	gen = cv_get_be64(v.data);
	if (gen != s->keys->kek_gen) {
		/* Wrapped by a rotation committed since this session began. */
		cv_kek_derive(kek, gen, s->keys->root);
		kek_use = kek;
	}
	b.hdr = v.data;
	r = cv_sealed_open(
	    kek_use, &b, (const uint8_t *)v.data + 8, CK_BYTES - 8, key);
	sodium_memzero(kek, sizeof(kek));
	return r;
}

int
cv_casekey_put(struct cv_txn *txn, struct cv_session *s, const char *id,
    const uint8_t key[static CV_KEYBYTES],
    const uint8_t kek[static CV_KEYBYTES], uint64_t gen)
{
	uint8_t hdr[8];
	struct cv_bind b = {CK_TAG, s->vault_id, id, CV_CASE_ID_LEN, hdr, 8};

	cv_put_be64(hdr, gen);
	return cv_sealed_put(txn, CV_DB_CASEKEYS, &b, kek, key, CV_KEYBYTES, 0);
}
