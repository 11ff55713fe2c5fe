/* Per-case sealed objects and their index; see caseobj.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "model/binding.h"
#include "model/caseobj.h"
#include "model/casemeta.h"
#include "casevault.h"
#include "store/sealed.h"
#include "store/store.h"
#include "base/util.h"
#include "model/session.h"

#define KEY_MAX    (CV_CASE_ID_LEN + 1 + CV_CD_ID_MAX)
#define OBJ_MAX    (64 * 1024)
#define AD_TAG     "casevault-casedata-v1"
#define INDEX_KIND 'I'

static int
mkkey(uint8_t k[static KEY_MAX], const char *case_id, char kind, const char *id,
    size_t *klen)
{
	size_t n = id ? strlen(id) : 0;

	if (n > CV_CD_ID_MAX || strlen(case_id) != CV_CASE_ID_LEN)
		return CV_EINVAL;
	memcpy(k, case_id, CV_CASE_ID_LEN);
	k[CV_CASE_ID_LEN] = (uint8_t)kind;
	if (n > 0)
		memcpy(k + CV_CASE_ID_LEN + 1, id, n);
	*klen = CV_CASE_ID_LEN + 1 + n;
	return 0;
}

/* The version the next write of the object at key K takes. */
static int
next_version(
    struct cv_txn *txn, const uint8_t *k, size_t klen, uint64_t *version)
{
	struct cv_val v;
	int r;

	if ((r = cv_get(txn, CV_DB_CASEDATA, k, klen, &v)) == CV_ENOTFOUND) {
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
cv_casedata_stage(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    char kind, const char *id, const json_t *obj, json_t **extra,
    uint64_t *version)
{
	uint8_t k[KEY_MAX], d[CV_BIND_DIGESTBYTES];
	char name[CV_BIND_OBJ_MAX];
	size_t klen;
	char *text;
	int r;

	if ((r = mkkey(k, case_id, kind, id, &klen)) != 0 ||
	    (r = cv_bind_obj_name(name, kind, id)) != 0)
		return r;
	if ((r = next_version(txn, k, klen, version)) != 0)
		return r;
	if ((text = cv_json_canonical(obj)) == NULL)
		return CV_ENOMEM;
	cv_bind_digest(
	    s, case_id, name, *version, (uint8_t *)text, strlen(text), d);
	sodium_memzero(text, strlen(text));
	free(text);
	return cv_bind_note(extra, name, *version, d);
}

int
cv_casedata_put(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    char kind, const char *id, const uint8_t key[static CV_KEYBYTES],
    const json_t *obj, uint64_t version, uint64_t seq)
{
	uint8_t k[KEY_MAX], hdr[CV_BIND_HDRBYTES];
	struct cv_bind_hdr bh = {version, seq};
	struct cv_bind b = {AD_TAG, s->vault_id, k, 0, hdr, sizeof(hdr)};
	size_t n;
	char *text;
	int r;

	if ((r = mkkey(k, case_id, kind, id, &b.klen)) != 0)
		return r;
	cv_bind_hdr_encode(&bh, hdr);
	if ((text = cv_json_canonical(obj)) == NULL)
		return CV_ENOMEM;
	n = strlen(text);
	if (n > OBJ_MAX) {
		r = CV_ETOOBIG;
		goto out;
	}
	r = cv_sealed_put(txn, CV_DB_CASEDATA, &b, key, (uint8_t *)text, n, 0);
out:
	sodium_memzero(text, strlen(text));
	free(text);
	return r;
}

int
cv_casedata_exists(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const char *id)
{
	uint8_t k[KEY_MAX];
	struct cv_val v;
	size_t n;
	int r;

	(void)s;
	if ((r = mkkey(k, case_id, kind, id, &n)) != 0)
		return r;
	return cv_get(txn, CV_DB_CASEDATA, k, n, &v);
}

/*
 * Open the value V stored at key K: its clear header into *H, the
 * plaintext into a new buffer *M of *N bytes (wiped and freed by the
 * caller).
 */
static int
open_raw(struct cv_session *s, const struct cv_val *k, const struct cv_val *v,
    const uint8_t key[static CV_KEYBYTES], struct cv_bind_hdr *h, uint8_t **m,
    size_t *n)
{
	struct cv_bind b = {
	    AD_TAG, s->vault_id, k->data, k->len, v->data, CV_BIND_HDRBYTES};

	*m = NULL;
	*n = 0;
	if (v->len < CV_BIND_HDRBYTES + CV_SEALOVERHEAD ||
	    v->len > OBJ_MAX + CV_BIND_HDRBYTES + CV_SEALOVERHEAD)
		return CV_ECORRUPT;
	cv_bind_hdr_decode(v->data, h);
	return cv_sealed_open_new(key, &b,
	    (const uint8_t *)v->data + CV_BIND_HDRBYTES,
	    v->len - CV_BIND_HDRBYTES, m, n);
}

static int
open_val(struct cv_session *s, const struct cv_val *k, const struct cv_val *v,
    const uint8_t key[static CV_KEYBYTES], json_t **out)
{
	struct cv_bind_hdr h;
	size_t n;
	uint8_t *m;
	int r;

	*out = NULL;
	if ((r = open_raw(s, k, v, key, &h, &m, &n)) != 0)
		return r;
	r = cv_json_parse_object((char *)m, n, OBJ_MAX, out) == 0 ? 0
	                                                          : CV_ECORRUPT;
	sodium_memzero(m, n);
	free(m);
	return r;
}

int
cv_casedata_digest(struct cv_session *s, const struct cv_val *k,
    const struct cv_val *v, const uint8_t key[static CV_KEYBYTES], char *kind,
    char name[static CV_BIND_OBJ_MAX], struct cv_bind_hdr *h,
    uint8_t d[static CV_BIND_DIGESTBYTES])
{
	const char *kb = k->data;
	char cid[CV_CASE_ID_LEN + 1], id[CV_CD_ID_MAX + 1];
	size_t n, idlen;
	uint8_t *m;
	int r;

	if (k->len <= CV_CASE_ID_LEN + 1 || k->len > KEY_MAX)
		return CV_ECORRUPT;
	idlen = k->len - CV_CASE_ID_LEN - 1;
	memcpy(cid, kb, CV_CASE_ID_LEN);
	cid[CV_CASE_ID_LEN] = '\0';
	*kind = kb[CV_CASE_ID_LEN];
	memcpy(id, kb + CV_CASE_ID_LEN + 1, idlen);
	id[idlen] = '\0';
	if (strlen(id) != idlen || cv_bind_obj_name(name, *kind, id) != 0)
		return CV_ECORRUPT;
	if ((r = open_raw(s, k, v, key, h, &m, &n)) != 0)
		return r;
	cv_bind_digest(s, cid, name, h->version, m, n, d);
	sodium_memzero(m, n);
	free(m);
	return 0;
}

int
cv_casedata_get(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    char kind, const char *id, const uint8_t key[static CV_KEYBYTES],
    json_t **out)
{
	uint8_t k[KEY_MAX];
	struct cv_val mk = {k, 0}, v;
	int r;

	*out = NULL;
	if ((r = mkkey(k, case_id, kind, id, &mk.len)) != 0)
		return CV_ENOTFOUND;
	if ((r = cv_get(txn, CV_DB_CASEDATA, k, mk.len, &v)) != 0)
		return r;
	return open_val(s, &mk, &v, key, out);
}

struct list_ctx {
	struct cv_session *s;
	const uint8_t *key;
	json_t *arr;
};

static int
list_one(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct list_ctx *l = arg;
	json_t *obj;
	int r;

	if ((r = open_val(l->s, k, v, l->key, &obj)) != 0)
		return r;
	json_array_append_new(l->arr, obj);
	return 0;
}

int
cv_casedata_list(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    char kind, const uint8_t key[static CV_KEYBYTES], json_t **out)
{
	struct list_ctx l = {s, key, NULL};
	uint8_t k[KEY_MAX];
	size_t klen;
	int r = 0;

	*out = NULL;
	if ((r = mkkey(k, case_id, kind, NULL, &klen)) != 0)
		return r;
	if ((l.arr = json_array()) == NULL)
		return CV_ENOMEM;
	if ((r = cv_store_scan(txn, CV_DB_CASEDATA, k, klen, list_one, &l)) !=
	    0) {
		json_decref(l.arr);
		return r;
	}
	*out = l.arr;
	return 0;
}

int
cv_casedata_shred(struct cv_txn *txn, struct cv_session *s, const char *case_id)
{
	(void)s;
	return cv_shred_prefix(txn, CV_DB_CASEDATA, case_id, CV_CASE_ID_LEN);
}

int
cv_casedata_index(struct cv_txn *txn, struct cv_session *s, const char *id,
    const char *case_id)
{
	uint8_t k[KEY_MAX];
	size_t n = strlen(id);

	(void)s;
	if (n > CV_CD_ID_MAX)
		return CV_EINVAL;
	k[0] = INDEX_KIND;
	memcpy(k + 1, id, n);
	return cv_put(
	    txn, CV_DB_CASEDATA, k, n + 1, case_id, CV_CASE_ID_LEN, 0);
}

int
cv_casedata_lookup(struct cv_txn *txn, struct cv_session *s, const char *id,
    char case_id[static CV_CASE_ID_LEN + 1])
{
	uint8_t k[KEY_MAX];
	size_t n = strlen(id);
	struct cv_val v;
	int r;

	(void)s;
	if (n == 0 || n > CV_CD_ID_MAX)
		return CV_ENOTFOUND;
	k[0] = INDEX_KIND;
	memcpy(k + 1, id, n);
	if ((r = cv_get(txn, CV_DB_CASEDATA, k, n + 1, &v)) != 0)
		return r;
	if (v.len != CV_CASE_ID_LEN)
		return CV_ECORRUPT;
	memcpy(case_id, v.data, CV_CASE_ID_LEN);
	case_id[CV_CASE_ID_LEN] = '\0';
	return 0;
}

int
cv_casedata_put_indexed(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const char *id, const json_t *obj,
    uint64_t version, uint64_t seq)
{
	uint8_t key[CV_KEYBYTES];
	int r;

	if ((r = cv_casekey_get(txn, s, case_id, key)) == 0 &&
	    (r = cv_casedata_put(
	         txn, s, case_id, kind, id, key, obj, version, seq)) == 0)
		r = cv_casedata_index(txn, s, id, case_id);
	sodium_memzero(key, sizeof(key));
	return r;
}

int
cv_casedata_get_indexed(struct cv_txn *txn, struct cv_session *s,
    const char *id, char kind, char case_id[static CV_CASE_ID_LEN + 1],
    json_t **meta, uint8_t key[static CV_KEYBYTES], json_t **obj)
{
	int r;

	*meta = *obj = NULL;
	if (id[0] != kind)
		return CV_ENOTFOUND;
	if ((r = cv_casedata_lookup(txn, s, id, case_id)) != 0)
		return r;
	if ((r = cv_case_load_live(txn, s, case_id, meta)) != 0)
		return r;
	if ((r = cv_casekey_get(txn, s, case_id, key)) != 0 ||
	    (r = cv_casedata_get(txn, s, case_id, kind, id, key, obj)) != 0) {
		json_decref(*meta);
		*meta = NULL;
	}
	return r;
}

struct indexed_ctx {
	struct cv_session *s;
	struct cv_txn *txn;
	char kind;
	cv_casedata_indexed_fn cb;
	void *arg;
	uint8_t key[CV_KEYBYTES];
};

static int
indexed_one(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct indexed_ctx *x = arg;
	char id[CV_CD_ID_MAX + 1], cid[CV_CASE_ID_LEN + 1];
	json_t *meta, *obj;
	int r;

	(void)v;
	if (k->len > CV_CD_ID_MAX + 1)
		return 0;
	memcpy(id, (const char *)k->data + 1, k->len - 1);
	id[k->len - 1] = '\0';
	if (cv_casedata_get_indexed(
	        x->txn, x->s, id, x->kind, cid, &meta, x->key, &obj) != 0)
		return 0; /* an erased case */
	r = x->cb(x->s, x->txn, cid, meta, obj, x->arg);
	json_decref(meta);
	json_decref(obj);
	return r;
}

int
cv_casedata_foreach_indexed(struct cv_txn *txn, struct cv_session *s, char kind,
    cv_casedata_indexed_fn cb, void *arg)
{
	/* Index keys are INDEX_KIND and the id, whose first byte is KIND. */
	uint8_t prefix[2] = {INDEX_KIND, (uint8_t)kind};
	struct indexed_ctx x = {s, txn, kind, cb, arg, {0}};
	int r;

	r = cv_store_scan(
	    txn, CV_DB_CASEDATA, prefix, sizeof(prefix), indexed_one, &x);
	sodium_memzero(x.key, sizeof(x.key));
	return r;
}

void
cv_casedata_id_new(char prefix, char out[static 12])
{
	cv_case_id_new(out);
	out[0] = prefix;
}
