/* The sealed record format; see recstore.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/cbor.h"
#include "model/recstore.h"
#include "store/sealed.h"
#include "store/store.h"
#include "base/util.h"
#include "model/session.h"

/* fmt(1) typelen(1) type author(4) time(8) classes(4) seq(8) */
#define HDR_FIXED (1 + 1 + 4 + 8 + 4 + 8)
#define HDR_MAX   (HDR_FIXED + CV_NAME_MAX)
#define AD_TAG    "casevault-record-v1"

void
cv_rec_key(uint8_t k[static CV_REC_KEYLEN], const char *case_id,
    uint32_t record, uint32_t version)
{
	memcpy(k, case_id, CV_CASE_ID_LEN);
	cv_put_be32(k + CV_CASE_ID_LEN, record);
	cv_put_be32(k + CV_CASE_ID_LEN + 4, version);
}

static size_t
hdr_encode(const struct cv_rec_hdr *h, uint8_t *b)
{
	size_t n = strlen(h->type);

	b[0] = CV_REC_FORMAT;
	b[1] = (uint8_t)n;
	memcpy(b + 2, h->type, n);
	cv_put_be32(b + 2 + n, h->author);
	cv_put_be64(b + 6 + n, h->time);
	cv_put_be32(b + 14 + n, h->classes);
	cv_put_be64(b + 18 + n, h->seq);
	return HDR_FIXED + n;
}

static int
hdr_decode(const uint8_t *b, size_t len, struct cv_rec_hdr *h, size_t *hlen)
{
	size_t n;

	if (len < HDR_FIXED ||
	    (b[0] != CV_REC_FORMAT_JSON && b[0] != CV_REC_FORMAT_CBOR))
		return CV_ECORRUPT;
	n = b[1];
	if (n == 0 || n > CV_NAME_MAX || len < HDR_FIXED + n)
		return CV_ECORRUPT;
	memcpy(h->type, b + 2, n);
	h->type[n] = '\0';
	h->author = cv_get_be32(b + 2 + n);
	h->time = cv_get_be64(b + 6 + n);
	h->classes = cv_get_be32(b + 14 + n);
	h->seq = cv_get_be64(b + 18 + n);
	h->format = b[0];
	*hlen = HDR_FIXED + n;
	return 0;
}

/* The seal binds the tag, the vault id, the record's key and the header. */
int
cv_rec_put(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h,
    const uint8_t casekey[static CV_KEYBYTES], const uint8_t *payload,
    size_t len)
{
	uint8_t key[CV_REC_KEYLEN], hdr[HDR_MAX];
	struct cv_bind b = {AD_TAG, s->vault_id, key, sizeof(key), hdr, 0};

	if (len > CV_RECENC_MAX)
		return CV_ETOOBIG;
	cv_rec_key(key, case_id, record, version);
	b.hlen = hdr_encode(h, hdr);
	return cv_sealed_put(
	    txn, CV_DB_RECORDS, &b, casekey, payload, len, CV_PUT_NOOVERWRITE);
}

int
cv_rec_header(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version, struct cv_rec_hdr *h)
{
	uint8_t key[CV_REC_KEYLEN];
	struct cv_val v;
	size_t hlen;
	int r;

	(void)s;
	cv_rec_key(key, case_id, record, version);
	if ((r = cv_get(txn, CV_DB_RECORDS, key, sizeof(key), &v)) != 0)
		return r;
	return hdr_decode(v.data, v.len, h, &hlen);
}

int
cv_rec_latest(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t *version)
{
	uint8_t key[CV_REC_KEYLEN];
	struct cv_val k, v;
	int r;

	(void)s;
	/* The versions of a record are the keys (case, record, *). */
	cv_rec_key(key, case_id, record, 0);
	r = cv_store_last(txn, CV_DB_RECORDS, key, CV_CASE_ID_LEN + 4, &k, &v);
	if (r != 0)
		return r;
	if (k.len != CV_REC_KEYLEN)
		return CV_ENOTFOUND;
	*version = cv_get_be32((const uint8_t *)k.data + CV_CASE_ID_LEN + 4);
	return 0;
}

int
cv_rec_decrypt(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version,
    const uint8_t casekey[static CV_KEYBYTES], uint8_t **payload, size_t *len,
    int *format)
{
	uint8_t key[CV_REC_KEYLEN];
	struct cv_bind b = {AD_TAG, s->vault_id, key, sizeof(key), NULL, 0};
	struct cv_rec_hdr h;
	size_t hlen, clen, max;
	struct cv_val v;
	int r;

	*payload = NULL;
	*len = 0;
	*format = 0;
	cv_rec_key(key, case_id, record, version);
	if ((r = cv_get(txn, CV_DB_RECORDS, key, sizeof(key), &v)) != 0)
		return r;
	if ((r = hdr_decode(v.data, v.len, &h, &hlen)) != 0)
		return r;
	clen = v.len - hlen;
	max = h.format == CV_REC_FORMAT_JSON ? CV_RECORD_MAX : CV_RECENC_MAX;
	if (clen < CV_SEALOVERHEAD || clen - CV_SEALOVERHEAD > max)
		return CV_ECRYPTO;
	b.hdr = v.data;
	b.hlen = hlen;
	if ((r = cv_sealed_open_new(casekey, &b, (const uint8_t *)v.data + hlen,
	         clen, payload, len)) != 0)
		return r;
	*format = h.format;
	return 0;
}

int
cv_rec_parse(int format, const uint8_t *payload, size_t len, json_t **out)
{
	*out = NULL;
	switch (format) {
	case CV_REC_FORMAT_JSON:
		return cv_json_parse_object(
		           (const char *)payload, len, CV_RECORD_MAX, out) == 0
		    ? 0
		    : CV_ECORRUPT;
	case CV_REC_FORMAT_CBOR:
		return cv_rec_decode(payload, len, out);
	}
	return CV_ECORRUPT;
}

int
cv_rec_parse_doc(
    int format, const uint8_t *payload, size_t len, struct cv_doc *doc)
{
	json_t *j = NULL;
	uint8_t *b = NULL;
	size_t n = 0;
	int r;

	if (format == CV_REC_FORMAT_CBOR)
		return cv_doc_parse(payload, len, doc);
	/* An empty document, so that cv_doc_free works on every path. */
	(void)cv_doc_parse(NULL, 0, doc);
	if (format != CV_REC_FORMAT_JSON)
		return CV_ECORRUPT;
	if (cv_json_parse_object(
	        (const char *)payload, len, CV_RECORD_MAX, &j) != 0)
		return CV_ECORRUPT;
	r = cv_rec_encode(j, &b, &n);
	json_decref(j);
	if (r != 0)
		return r == CV_ENOMEM ? r : CV_ECORRUPT;
	if ((r = cv_doc_parse(b, n, doc)) != 0) {
		sodium_memzero(b, n);
		free(b);
		return r;
	}
	doc->own = b; /* freed and wiped with the document */
	doc->ownlen = n;
	return 0;
}

struct foreach_ctx {
	int (*cb)(uint32_t record, uint32_t version, const struct cv_rec_hdr *h,
	    void *arg);
	void *arg;
	int ended; /* stopped by a key that is not a record's */
};

static int
foreach_version(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct foreach_ctx *f = arg;
	const uint8_t *kb = k->data;
	struct cv_rec_hdr h;
	size_t hlen;
	int r;

	/* A key of another length ends the walk, as the end of the case
	 * does; whatever the caller's callback returns passes through. */
	if (k->len != CV_REC_KEYLEN) {
		f->ended = 1;
		return 1;
	}
	if ((r = hdr_decode(v->data, v->len, &h, &hlen)) != 0)
		return r;
	return f->cb(cv_get_be32(kb + CV_CASE_ID_LEN),
	    cv_get_be32(kb + CV_CASE_ID_LEN + 4), &h, f->arg);
}

int
cv_rec_foreach(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    int (*cb)(uint32_t record, uint32_t version, const struct cv_rec_hdr *h,
        void *arg),
    void *arg)
{
	struct foreach_ctx f = {cb, arg, 0};
	int r;

	(void)s;
	r = cv_store_scan(
	    txn, CV_DB_RECORDS, case_id, CV_CASE_ID_LEN, foreach_version, &f);
	return f.ended ? 0 : r;
}

struct list_ctx {
	const char *type; /* NULL: every type */
	json_t *ids;      /* [[record, type]...] in record order */
};

static int
list_record(
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h, void *arg)
{
	struct list_ctx *x = arg;
	size_t n = json_array_size(x->ids);
	json_t *last;

	(void)version;
	if (x->type != NULL && strcmp(h->type, x->type) != 0)
		return 0;
	/* Versions of a record come together, in key order. */
	last = n > 0 ? json_array_get(x->ids, n - 1) : NULL;
	if (last != NULL &&
	    json_integer_value(json_array_get(last, 0)) == record)
		return 0;
	if (json_array_append_new(
	        x->ids, json_pack("[I, s]", (json_int_t)record, h->type)) != 0)
		return CV_ENOMEM;
	return 0;
}

int
cv_rec_list(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    const char *type, json_t **out)
{
	struct list_ctx x = {type, json_array()};
	int r;

	*out = NULL;
	if (x.ids == NULL)
		return CV_ENOMEM;
	if ((r = cv_rec_foreach(txn, s, case_id, list_record, &x)) != 0) {
		json_decref(x.ids);
		return r;
	}
	*out = x.ids;
	return 0;
}

static void
rec_obj_name(char out[static CV_BIND_OBJ_MAX], uint32_t record)
{
	snprintf(out, CV_BIND_OBJ_MAX, "rec/%u", (unsigned)record);
}

int
cv_rec_stage(struct cv_session *s, const char *case_id, uint32_t record,
    uint32_t version, const uint8_t *payload, size_t len, json_t **extra)
{
	uint8_t d[CV_BIND_DIGESTBYTES];
	char name[CV_BIND_OBJ_MAX];

	rec_obj_name(name, record);
	cv_bind_digest(s, case_id, name, version, payload, len, d);
	return cv_bind_note(extra, name, version, d);
}

int
cv_rec_same(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version,
    const uint8_t casekey[static CV_KEYBYTES], const uint8_t *payload,
    size_t len)
{
	uint8_t *old;
	size_t olen;
	int format, r, same;

	if ((r = cv_rec_decrypt(txn, s, case_id, record, version, casekey, &old,
	         &olen, &format)) != 0)
		return r;
	same = olen == len && sodium_memcmp(old, payload, len) == 0;
	sodium_memzero(old, olen);
	free(old);
	return same;
}

int
cv_rec_digest(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version,
    const uint8_t casekey[static CV_KEYBYTES],
    char name[static CV_BIND_OBJ_MAX], uint8_t d[static CV_BIND_DIGESTBYTES])
{
	uint8_t *payload;
	size_t len;
	int format, r;

	/* Opened only to be digested: the plaintext leaves no function. */
	if ((r = cv_rec_decrypt(txn, s, case_id, record, version, casekey,
	         &payload, &len, &format)) != 0)
		return r;
	rec_obj_name(name, record);
	cv_bind_digest(s, case_id, name, version, payload, len, d);
	sodium_memzero(payload, len);
	free(payload);
	return 0;
}
