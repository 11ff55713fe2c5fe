/* The sealed record format; see recfmt.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/cbor.h"
#include "model/recstore.h"
#include "store/store.h"
#include "base/util.h"
#include "model/vault.h"

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

/* AD = tag, vault id, the record's key, the header. */
static size_t
rec_ad(const struct cv_session *s, const uint8_t key[static CV_REC_KEYLEN],
    const uint8_t *hdr, size_t hlen, uint8_t *ad)
{
	size_t off = 0;

	memcpy(ad, AD_TAG, sizeof(AD_TAG));
	off += sizeof(AD_TAG);
	memcpy(ad + off, s->vault_id, CV_VAULTIDBYTES);
	off += CV_VAULTIDBYTES;
	memcpy(ad + off, key, CV_REC_KEYLEN);
	off += CV_REC_KEYLEN;
	memcpy(ad + off, hdr, hlen);
	return off + hlen;
}

#define AD_MAX (sizeof(AD_TAG) + CV_VAULTIDBYTES + CV_REC_KEYLEN + HDR_MAX)

int
cv_rec_put(MDB_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h,
    const uint8_t casekey[static CV_KEYBYTES], const uint8_t *payload,
    size_t len)
{
	uint8_t key[CV_REC_KEYLEN], ad[AD_MAX], *val;
	size_t hlen, adlen;
	int r;

	if (len > CV_RECENC_MAX)
		return CV_ETOOBIG;
	if ((val = malloc(HDR_MAX + len + CV_SEALOVERHEAD)) == NULL)
		return CV_ENOMEM;
	cv_rec_key(key, case_id, record, version);
	hlen = hdr_encode(h, val);
	adlen = rec_ad(s, key, val, hlen, ad);
	cv_seal(casekey, ad, adlen, payload, len, val + hlen);
	r = cv_put(txn, s->st, CV_DB_RECORDS, key, sizeof(key), val,
	    hlen + len + CV_SEALOVERHEAD, MDB_NOOVERWRITE);
	free(val);
	return r;
}

int
cv_rec_header(MDB_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version, struct cv_rec_hdr *h)
{
	uint8_t key[CV_REC_KEYLEN];
	size_t hlen;
	MDB_val v;
	int r;

	cv_rec_key(key, case_id, record, version);
	if ((r = cv_get(txn, s->st, CV_DB_RECORDS, key, sizeof(key), &v)) != 0)
		return r;
	return hdr_decode(v.mv_data, v.mv_size, h, &hlen);
}

int
cv_rec_latest(MDB_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t *version)
{
	uint8_t key[CV_REC_KEYLEN];
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = CV_ENOTFOUND;

	/* Seek past the last possible version, then step back one. */
	cv_rec_key(key, case_id, record, UINT32_MAX);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (mdb_cursor_open(txn, s->st->dbi[CV_DB_RECORDS], &c) != 0)
		return CV_ESTORE;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, key, sizeof(key)) == 0) {
		*version = UINT32_MAX;
		r = 0;
		goto out;
	}
	rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV)
	             : mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, key, CV_CASE_ID_LEN + 4) == 0) {
		*version =
		    cv_get_be32((uint8_t *)k.mv_data + CV_CASE_ID_LEN + 4);
		r = 0;
	}
out:
	mdb_cursor_close(c);
	return r;
}

int
cv_rec_decrypt(MDB_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version,
    const uint8_t casekey[static CV_KEYBYTES], uint8_t **payload, size_t *len,
    int *format)
{
	uint8_t key[CV_REC_KEYLEN], ad[AD_MAX], *m;
	struct cv_rec_hdr h;
	size_t hlen, adlen, clen, max;
	MDB_val v;
	int r;

	*payload = NULL;
	*len = 0;
	*format = 0;
	cv_rec_key(key, case_id, record, version);
	if ((r = cv_get(txn, s->st, CV_DB_RECORDS, key, sizeof(key), &v)) != 0)
		return r;
	if ((r = hdr_decode(v.mv_data, v.mv_size, &h, &hlen)) != 0)
		return r;
	clen = v.mv_size - hlen;
	max = h.format == CV_REC_FORMAT_JSON ? CV_RECORD_MAX : CV_RECENC_MAX;
	if (clen < CV_SEALOVERHEAD || clen - CV_SEALOVERHEAD > max)
		return CV_ECRYPTO;
	if ((m = malloc(clen - CV_SEALOVERHEAD + 1)) == NULL)
		return CV_ENOMEM;
	adlen = rec_ad(s, key, v.mv_data, hlen, ad);
	if ((r = cv_open(casekey, ad, adlen, (uint8_t *)v.mv_data + hlen, clen,
	         m)) != 0) {
		free(m);
		return r;
	}
	m[clen - CV_SEALOVERHEAD] = '\0';
	*payload = m;
	*len = clen - CV_SEALOVERHEAD;
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

int
cv_rec_foreach(MDB_txn *txn, struct cv_session *s, const char *case_id,
    int (*cb)(uint32_t record, uint32_t version, const struct cv_rec_hdr *h,
        void *arg),
    void *arg)
{
	uint8_t key[CV_REC_KEYLEN];
	struct cv_rec_hdr h;
	MDB_cursor *c;
	MDB_val k, v;
	size_t hlen;
	int rc, r = 0;

	cv_rec_key(key, case_id, 0, 0);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (mdb_cursor_open(txn, s->st->dbi[CV_DB_RECORDS], &c) != 0)
		return CV_ESTORE;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size != CV_REC_KEYLEN ||
		    memcmp(kb, case_id, CV_CASE_ID_LEN) != 0)
			break;
		if ((r = hdr_decode(v.mv_data, v.mv_size, &h, &hlen)) != 0)
			break;
		if ((r = cb(cv_get_be32(kb + CV_CASE_ID_LEN),
		         cv_get_be32(kb + CV_CASE_ID_LEN + 4), &h, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return r;
}
