#define _GNU_SOURCE
/*
 * The CBOR record encoding: known-answer bytes worked out from RFC 8949,
 * round trips of every record fixture, and every malformed or unsupported
 * input refused with CV_ECORRUPT. Then, in a vault: new versions are
 * format 2, format 1 (JSON) versions still read, and the format byte is
 * bound to the ciphertext.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "model/casemeta.h"
#include "casevault.h"
#include "base/crypto.h"
#include "base/cbor.h"
#include "model/recstore.h"
#include "store/store.h"
#include "base/util.h"
#include "model/session.h"

#include "helpers.h"
#include "helpers.c.inc"

#define FIXTURES "tests/fixtures/records"

static void
check_encoding(const json_t *j, const uint8_t *want, size_t wantlen)
{
	uint8_t *b;
	size_t n;
	json_t *back;

	assert_int_equal(cv_rec_encode(j, &b, &n), 0);
	assert_int_equal(n, wantlen);
	assert_memory_equal(b, want, wantlen);
	assert_int_equal(cv_rec_decode(b, n, &back), 0);
	assert_true(json_equal((json_t *)j, back));
	json_decref(back);
	free(b);
}

/*
 * By hand from RFC 8949: map(6) a6; keys are one-byte text strings 61 xx,
 * written a, b, c, n, r, z; 1 is 01; [true, null, false] is 83 f5 f6 f4;
 * "x" is 61 78; -100 is major 1 with argument 99 in one byte, 38 63; 1.1
 * as float64 is fb 3ff199999999999a (RFC 8949 appendix A); 1000 is 19 03e8.
 */
static void
known_answer(void **state)
{
	static const uint8_t want[] = {0xa6, 0x61, 0x61, 0x01, 0x61, 0x62, 0x83,
	    0xf5, 0xf6, 0xf4, 0x61, 0x63, 0x61, 0x78, 0x61, 0x6e, 0x38, 0x63,
	    0x61, 0x72, 0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a,
	    0x61, 0x7a, 0x19, 0x03, 0xe8};
	json_t *j = json_pack("{s:i, s:f, s:i, s:s, s:[b,n,b], s:i}", "z", 1000,
	    "r", 1.1, "n", -100, "c", "x", "b", 1, 0, "a", 1);

	(void)state;
	assert_non_null(j);
	check_encoding(j, want, sizeof(want));
	json_decref(j);
}

/*
 * Key order is canonical JSON's: bytewise, a prefix first ("B" 0x42 before
 * "a", "a" before "aa"); empty containers are 80 and a0; 24 needs a
 * one-byte argument (18 18), -25 too (38 18); the int64 extremes take
 * eight bytes; "é" is the two UTF-8 bytes c3 a9.
 */
static void
known_answer_edges(void **state)
{
	static const uint8_t want[] = {0xa6, 0x61, 0x42, 0x80, 0x61, 0x61, 0xa0,
	    0x62, 0x61, 0x61, 0xf4, 0x62, 0x69, 0x6d, 0x82, 0x1b, 0x7f, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3b, 0x7f, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x61, 0x73, 0x62, 0xc3, 0xa9, 0x61, 0x74,
	    0x82, 0x18, 0x18, 0x38, 0x18};
	json_t *j = json_pack("{s:b, s:{}, s:[], s:[I,I], s:s, s:[i,i]}", "aa",
	    0, "a", "B", "im", (json_int_t)INT64_MAX, (json_int_t)INT64_MIN,
	    "s", "\xc3\xa9", "t", 24, -25);

	(void)state;
	assert_non_null(j);
	check_encoding(j, want, sizeof(want));
	json_decref(j);
}

/* Every fixture: decode(encode(x)) == x, and encoding is deterministic. */
static void
fixtures_round_trip(void **state)
{
	DIR *dir;
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(dir = opendir(FIXTURES));
	while ((de = readdir(dir)) != NULL) {
		char path[512], *text, *c1, *c2;
		size_t len, blen, blen2;
		uint8_t *b, *b2;
		json_t *j, *back;

		if (strstr(de->d_name, ".json") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, de->d_name);
		assert_int_equal(
		    cv_read_file(path, 4 * CV_RECORD_MAX, &text, &len), 0);
		assert_int_equal(
		    cv_json_parse_object(text, len, 4 * CV_RECORD_MAX, &j), 0);
		assert_int_equal(cv_rec_encode(j, &b, &blen), 0);
		assert_int_equal(cv_rec_decode(b, blen, &back), 0);
		assert_true(json_equal(j, back));
		c1 = cv_json_canonical(j);
		c2 = cv_json_canonical(back);
		assert_string_equal(c1, c2);
		assert_int_equal(cv_rec_encode(back, &b2, &blen2), 0);
		assert_int_equal(blen, blen2);
		assert_memory_equal(b, b2, blen);
		free(c1);
		free(c2);
		free(b);
		free(b2);
		free(text);
		json_decref(j);
		json_decref(back);
		n++;
	}
	closedir(dir);
	assert_true(n >= 20);
}

static void
refused(const uint8_t *b, size_t n)
{
	json_t *j = (json_t *)&j; /* must come back NULL */

	assert_int_equal(cv_rec_decode(b, n, &j), CV_ECORRUPT);
	assert_null(j);
}

#define REFUSED(...)                                                           \
	do {                                                                   \
		static const uint8_t b_[] = {__VA_ARGS__};                     \
		refused(b_, sizeof(b_));                                       \
	} while (0)

static void
malformed_refused(void **state)
{
	(void)state;
	refused((const uint8_t *)"", 0);
	/* Not a map at the top. */
	REFUSED(0x01);
	REFUSED(0x80);
	REFUSED(0x61, 0x61);
	/* Truncated: a key without its value, a string cut short, a float. */
	REFUSED(0xa1, 0x61, 0x61);
	REFUSED(0xa1, 0x61);
	REFUSED(0xa1, 0x61, 0x61, 0x62, 0x78);
	REFUSED(0xa1, 0x61, 0x61, 0xfb, 0x3f, 0xf1);
	REFUSED(0xa1, 0x61, 0x61, 0x19, 0x03);
	/* Trailing bytes after the map. */
	REFUSED(0xa0, 0x00);
	REFUSED(0xa0, 0xa0);
	/* Tags, at the top and inside. */
	REFUSED(0xc0, 0xa0);
	REFUSED(0xa1, 0x61, 0x61, 0xc1, 0x01);
	REFUSED(0xa1, 0x61, 0x61, 0xd8, 0x20, 0x61, 0x78);
	/* Indefinite lengths: map, array, text, bytes; a stray break. */
	REFUSED(0xbf, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0x9f, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0x7f, 0x61, 0x78, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0x5f, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0xff);
	/* Byte strings. */
	REFUSED(0xa1, 0x61, 0x61, 0x41, 0x00);
	REFUSED(0xa1, 0x41, 0x61, 0x01);
	/* Map keys that are not text strings. */
	REFUSED(0xa1, 0x01, 0x01);
	REFUSED(0xa1, 0xa0, 0x01);
	REFUSED(0xa1, 0xf6, 0x01);
	/* Duplicate and unsorted keys. */
	REFUSED(0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02);
	REFUSED(0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02);
	REFUSED(0xa2, 0x62, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02);
	/* Invalid UTF-8: a lone continuation byte, an overlong NUL, a
	 * surrogate, a truncated sequence, past U+10FFFF; in a key too. */
	REFUSED(0xa1, 0x61, 0x61, 0x61, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0x61, 0x80);
	REFUSED(0xa1, 0x61, 0x61, 0x62, 0xc0, 0x80);
	REFUSED(0xa1, 0x61, 0x61, 0x63, 0xed, 0xa0, 0x80);
	REFUSED(0xa1, 0x61, 0x61, 0x61, 0xc3);
	REFUSED(0xa1, 0x61, 0x61, 0x64, 0xf4, 0x90, 0x80, 0x80);
	REFUSED(0xa1, 0x61, 0xff, 0x01);
	/* NUL inside a string or a key: JSON text never carries one. */
	REFUSED(0xa1, 0x61, 0x61, 0x61, 0x00);
	REFUSED(0xa1, 0x61, 0x00, 0x01);
	/* Heads longer than needed: 1 in one extra byte, 255 in two, a
	 * string length and a map size padded. */
	REFUSED(0xa1, 0x61, 0x61, 0x18, 0x01);
	REFUSED(0xa1, 0x61, 0x61, 0x19, 0x00, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0x1a, 0x00, 0x00, 0xff, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0x38, 0x00);
	REFUSED(0xa1, 0x78, 0x01, 0x61, 0x01);
	REFUSED(0xb8, 0x01, 0x61, 0x61, 0x01);
	/* Floats other than float64; NaN and infinity. */
	REFUSED(0xa1, 0x61, 0x61, 0xf9, 0x3c, 0x00);
	REFUSED(0xa1, 0x61, 0x61, 0xfa, 0x3f, 0x80, 0x00, 0x00);
	REFUSED(0xa1, 0x61, 0x61, 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0);
	REFUSED(0xa1, 0x61, 0x61, 0xfb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0);
	/* Simple values other than false, true, null. */
	REFUSED(0xa1, 0x61, 0x61, 0xf7);
	REFUSED(0xa1, 0x61, 0x61, 0xf0);
	REFUSED(0xa1, 0x61, 0x61, 0xf8, 0x20);
	/* Integers outside int64. */
	REFUSED(0xa1, 0x61, 0x61, 0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0);
	REFUSED(0xa1, 0x61, 0x61, 0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0);
	/* Reserved additional information 28-30. */
	REFUSED(0xa1, 0x61, 0x61, 0x1c);
	REFUSED(0xa1, 0x61, 0x61, 0x7e);
	/* Sizes past the input: a huge string, array and map. */
	REFUSED(0xa1, 0x61, 0x61, 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff);
	REFUSED(0xa1, 0x61, 0x61, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff);
	REFUSED(0xbb, 0, 0, 0, 1, 0, 0, 0, 0);
	REFUSED(0xa1, 0x61, 0x61, 0x83, 0x01, 0x02);
}

/* {"a": TEXT}, where TEXT is N bytes (N < 256). */
static int
decode_text(const uint8_t *text, size_t n)
{
	uint8_t b[300] = {0xa1, 0x61, 0x61};
	json_t *j = NULL;
	size_t h = 3;
	int r;

	if (n < 24) {
		b[h++] = (uint8_t)(0x60 | n);
	} else {
		b[h++] = 0x78;
		b[h++] = (uint8_t)n;
	}
	memcpy(b + h, text, n);
	r = cv_rec_decode(b, h + n, &j);
	if (r == 0) {
		assert_int_equal(
		    json_string_length(json_object_get(j, "a")), n);
		assert_memory_equal(
		    json_string_value(json_object_get(j, "a")), text, n);
	}
	json_decref(j);
	return r;
}

/* UTF-8 boundaries (RFC 3629), past the eight-byte ASCII fast path too. */
static void
utf8_edges(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
	    {"\x7f", 1},
	    {"\xc2\x80", 1},
	    {"\xdf\xbf", 1},
	    {"\xe0\xa0\x80", 1},
	    {"\xed\x9f\xbf", 1},
	    {"\xee\x80\x80", 1},
	    {"\xef\xbf\xbf", 1},
	    {"\xf0\x90\x80\x80", 1},
	    {"\xf4\x8f\xbf\xbf", 1},
	    {"\xc1\xbf", 0},
	    {"\xe0\x9f\xbf", 0},
	    {"\xed\xbf\xbf", 0},
	    {"\xf0\x8f\xbf\xbf", 0},
	    {"\xf4\x90\x80\x80", 0},
	    {"\xf5\x80\x80\x80", 0},
	    {"\xe2\x28\xa1", 0},
	    {"\xe2\x82", 0},
	    {"\xbf", 0},
	};
	uint8_t buf[64];
	size_t i, pre, n;

	(void)state;
	for (i = 0; i < CV_ARRAY_LEN(cases); i++)
		for (pre = 0; pre <= 17; pre++) {
			memset(buf, 'k', pre);
			n = strlen(cases[i].s);
			memcpy(buf + pre, cases[i].s, n);
			memset(buf + pre + n, 'z', 9);
			assert_int_equal(decode_text(buf, pre + n + 9),
			    cases[i].ok ? 0 : CV_ECORRUPT);
		}
	/* NUL at each place of an ASCII word. */
	for (pre = 0; pre < 16; pre++) {
		memset(buf, 'k', 24);
		buf[pre] = 0;
		assert_int_equal(decode_text(buf, 24), CV_ECORRUPT);
	}
}

/* The decoder's UTF-8 check agrees with jansson's on random text. */
static void
utf8_agrees_with_jansson(void **state)
{
	static const uint8_t alphabet[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
	    0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed,
	    0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
	uint8_t seed[randombytes_SEEDBYTES] = {1}, rnd[16 * 4096], s[16];
	size_t i, k, n, off = 0;
	json_t *j;
	int valid = 0;

	(void)state;
	randombytes_buf_deterministic(rnd, sizeof(rnd), seed);
	for (i = 0; i < 4096; i++) {
		n = rnd[off++] % 12;
		for (k = 0; k < n; k++)
			s[k] = alphabet[rnd[off++] % sizeof(alphabet)];
		off = (i + 1) * 16;
		j = json_stringn((const char *)s, n);
		k = j != NULL && memchr(s, 0, n) == NULL;
		valid += (int)k;
		assert_int_equal(decode_text(s, n), k ? 0 : CV_ECORRUPT);
		json_decref(j);
	}
	assert_true(valid > 100); /* both sides exercised */
	assert_true(valid < 4000);
}

/* The top map is level 1; 32 levels read, 33 do not, in either direction. */
static void
depth_bounded(void **state)
{
	uint8_t b[64];
	size_t n, i, blen;
	json_t *j, *inner, *out;
	uint8_t *enc;

	(void)state;
	for (n = 31; n <= 32; n++) {
		b[0] = 0xa1;
		b[1] = 0x61;
		b[2] = 0x61;
		for (i = 0; i < n - 1; i++)
			b[3 + i] = 0x81;
		b[3 + i] = 0x80; /* the innermost, empty */
		out = NULL;
		assert_int_equal(
		    cv_rec_decode(b, 4 + i, &out), n == 31 ? 0 : CV_ECORRUPT);
		json_decref(out);

		inner = json_array();
		for (i = 0; i < n - 1; i++) {
			json_t *a = json_array();
			json_array_append_new(a, inner);
			inner = a;
		}
		j = json_pack("{s:o}", "a", inner);
		enc = (uint8_t *)&enc;
		assert_int_equal(
		    cv_rec_encode(j, &enc, &blen), n == 31 ? 0 : CV_EINVAL);
		if (n == 31) {
			assert_int_equal(blen, 4 + n - 1);
			assert_memory_equal(enc, b, blen);
			free(enc);
		} else {
			assert_null(enc);
		}
		json_decref(j);
	}
}

/* Item count: a map, a key, an array and its elements. */
static void
items_bounded(void **state)
{
	size_t elems[] = {CV_RECENC_ITEMS_MAX - 3, CV_RECENC_ITEMS_MAX - 2};
	size_t k;

	(void)state;
	for (k = 0; k < 2; k++) {
		size_t n = 3 + 5 + elems[k];
		uint8_t *b = calloc(1, n); /* zeros: the integer 0 */
		json_t *j = NULL;

		b[0] = 0xa1;
		b[1] = 0x61;
		b[2] = 0x61;
		b[3] = 0x9a;
		cv_put_be32(b + 4, (uint32_t)elems[k]);
		assert_int_equal(
		    cv_rec_decode(b, n, &j), k == 0 ? 0 : CV_ECORRUPT);
		if (k == 0)
			assert_int_equal(
			    json_array_size(json_object_get(j, "a")), elems[k]);
		json_decref(j);
		free(b);
	}
	/* Longer than any valid record's encoding. */
	{
		uint8_t *b = calloc(1, CV_RECENC_MAX + 1);
		json_t *j = NULL;

		assert_int_equal(
		    cv_rec_decode(b, CV_RECENC_MAX + 1, &j), CV_ECORRUPT);
		free(b);
	}
}

static void
encode_refuses(void **state)
{
	json_t *j;
	uint8_t *b;
	size_t n;

	(void)state;
	j = json_array();
	assert_int_equal(cv_rec_encode(j, &b, &n), CV_EINVAL);
	assert_null(b);
	json_decref(j);
	j = json_pack("{s:o}", "a", json_stringn("x\0y", 3));
	assert_int_equal(cv_rec_encode(j, &b, &n), CV_EINVAL);
	json_decref(j);
	j = json_object();
	json_object_setn_new(j, "k\0", 2, json_true());
	assert_int_equal(cv_rec_encode(j, &b, &n), CV_EINVAL);
	json_decref(j);
}

/* Accepted input is canonical: it re-encodes to the same bytes. */
static void
reencode_identical(void **state)
{
	static const uint8_t in[] = {0xa3, 0x60, 0xf6, 0x61, 0x78, 0xfb, 0x80,
	    0, 0, 0, 0, 0, 0, 0, 0x62, 0x79, 0x79, 0x81, 0xa1, 0x60, 0x38,
	    0xff};
	json_t *j;
	uint8_t *b;
	size_t n;

	(void)state;
	assert_int_equal(cv_rec_decode(in, sizeof(in), &j), 0);
	assert_true(json_is_null(json_object_get(j, "")));
	assert_true(json_is_real(json_object_get(j, "x")));
	assert_int_equal(cv_rec_encode(j, &b, &n), 0);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(b, in, n);
	free(b);
	json_decref(j);
}

/* The value stored for version 1 of record 1 of CID, and its reading. */
static size_t
stored(struct cv_session *s, const char *cid, uint8_t *buf, size_t cap)
{
	uint8_t key[CV_REC_KEYLEN];
	struct cv_txn *txn;
	struct cv_val v;

	cv_rec_key(key, cid, 1, 1);
	assert_int_equal(cv_txn_begin(s->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(
	    cv_get(txn, CV_DB_RECORDS, key, sizeof(key), &v), 0);
	assert_true(v.len <= cap);
	memcpy(buf, v.data, v.len);
	cv_txn_abort(txn);
	return v.len;
}

static void
store(struct cv_session *s, const char *cid, const uint8_t *val, size_t len)
{
	uint8_t key[CV_REC_KEYLEN];
	struct cv_txn *txn;

	cv_rec_key(key, cid, 1, 1);
	assert_int_equal(cv_txn_begin(s->st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(
	    cv_put(txn, CV_DB_RECORDS, key, sizeof(key), val, len, 0),
	    0);
	assert_int_equal(cv_txn_commit(txn), 0);
}

static int
show_data(struct cv_session *s, const char *cid, char **canon)
{
	json_t *out = NULL;
	int r = cv_record_show(s, cid, 1, 1, NULL, &out);

	*canon = NULL;
	if (r == 0)
		assert_non_null(*canon = cv_json_canonical(
		                    json_object_get(out, "data")));
	json_decref(out);
	return r;
}

/*
 * Reseal PAYLOAD as record 1 version 1 under the header of HDR (HLEN bytes)
 * with format byte FMT, as an older casevault (format 1) would have: the
 * associated data is the tag "casevault-record-v1" with its NUL, the vault
 * id, the record's key and the header (docs/formats.md).
 */
static void
reseal(struct cv_session *s, const char *cid, const uint8_t *hdr, size_t hlen,
    int fmt, const void *payload, size_t len)
{
	static const char tag[] = "casevault-record-v1";
	uint8_t key[CV_REC_KEYLEN], ck[CV_KEYBYTES], ad[256], *val;
	size_t adlen = 0;
	struct cv_txn *txn;

	cv_rec_key(key, cid, 1, 1);
	assert_int_equal(cv_txn_begin(s->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_casekey_get(txn, s, cid, ck), 0);
	cv_txn_abort(txn);
	assert_non_null(val = malloc(hlen + len + CV_SEALOVERHEAD));
	memcpy(val, hdr, hlen);
	val[0] = (uint8_t)fmt;
	memcpy(ad, tag, sizeof(tag));
	adlen += sizeof(tag);
	memcpy(ad + adlen, s->vault_id, CV_VAULTIDBYTES);
	adlen += CV_VAULTIDBYTES;
	memcpy(ad + adlen, key, sizeof(key));
	adlen += sizeof(key);
	memcpy(ad + adlen, val, hlen);
	adlen += hlen;
	cv_seal(ck, ad, adlen, payload, len, val + hlen);
	store(s, cid, val, hlen + len + CV_SEALOVERHEAD);
	sodium_memzero(ck, sizeof(ck));
	free(val);
}

static void
vault_formats(void **state)
{
	static uint8_t orig[CV_RECENC_MAX + 512], buf[CV_RECENC_MAX + 512];
	char dir[64], cid[CV_CASE_ID_LEN + 1], *want, *got;
	struct cv_session *s;
	json_t *in;
	size_t n, hlen;

	(void)state;
	s = test_vault_new(dir);
	cv_session_close(s);
	test_user(dir, "siti", "counselor", 1);
	s = test_login(dir, "siti", TEST_PASS_STAFF);
	in = test_fixture("intake_valid.json");
	assert_int_equal(cv_case_open(s, in, cid), 0);
	json_decref(in);
	assert_int_equal(show_data(s, cid, &want), 0);

	/* A new version is format 2, and its payload is not JSON text. */
	n = stored(s, cid, orig, sizeof(orig));
	assert_int_equal(orig[0], CV_REC_FORMAT_CBOR);
	hlen = 26 + orig[1]; /* fmt, typelen, type, 4 + 8 + 4 + 8 */

	/* The format byte is bound: changed alone, the open fails. */
	memcpy(buf, orig, n);
	buf[0] = CV_REC_FORMAT_JSON;
	store(s, cid, buf, n);
	assert_int_equal(show_data(s, cid, &got), CV_ECRYPTO);
	buf[0] = 3; /* no such format */
	store(s, cid, buf, n);
	assert_int_equal(show_data(s, cid, &got), CV_ECORRUPT);

	/* A format 1 version (canonical JSON) still reads, the same. */
	reseal(s, cid, orig, hlen, CV_REC_FORMAT_JSON, want, strlen(want));
	assert_int_equal(show_data(s, cid, &got), 0);
	assert_string_equal(got, want);
	free(got);

	/* Each payload is read by its own format's rules. */
	reseal(s, cid, orig, hlen, CV_REC_FORMAT_CBOR, want, strlen(want));
	assert_int_equal(show_data(s, cid, &got), CV_ECORRUPT);
	reseal(s, cid, orig, hlen, CV_REC_FORMAT_JSON, orig + hlen, 40);
	assert_int_equal(show_data(s, cid, &got), CV_ECORRUPT);

	/* The original, put back, reads again. */
	store(s, cid, orig, n);
	assert_int_equal(show_data(s, cid, &got), 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
	cv_session_close(s);
	test_vault_remove(dir);
}

/*
 * The document's layout, checked node by node on a record with every kind
 * of value: document order, keys, lengths, sibling links; then a record
 * with more values than the inline nodes, whose nodes move to the heap.
 */
static void
doc_layout(void **state)
{
	json_t *j = json_pack("{s:s, s:[i, {s:b}, n], s:{}, s:f, s:i}", "a",
	    "xy", "b", -3, "c", 0, "d", "e", 1.5, "f", 7);
	struct cv_doc doc;
	const struct cv_doc_node *n;
	uint8_t *b;
	size_t len, i;
	json_t *back, *wide;

	(void)state;
	assert_int_equal(cv_rec_encode(j, &b, &len), 0);
	assert_int_equal(cv_doc_parse(b, len, &doc), 0);
	assert_int_equal(doc.count, 10);
	n = doc.n;
	assert_int_equal(n[0].type, CV_DOC_OBJECT);
	assert_int_equal(n[0].len, 5);
	assert_null(n[0].key);
	/* "a": "xy" */
	assert_int_equal(n[1].type, CV_DOC_STRING);
	assert_int_equal(n[1].keylen, 1);
	assert_memory_equal(n[1].key, "a", 1);
	assert_int_equal(n[1].len, 2);
	assert_memory_equal(n[1].v.s, "xy", 2);
	assert_int_equal(n[1].next, 2);
	/* "b": [-3, {"c": false}, null] */
	assert_int_equal(n[2].type, CV_DOC_ARRAY);
	assert_int_equal(n[2].len, 3);
	assert_int_equal(n[2].next, 7);
	assert_int_equal(n[3].type, CV_DOC_INTEGER);
	assert_int_equal(n[3].v.i, -3);
	assert_null(n[3].key);
	assert_int_equal(n[3].next, 4);
	assert_int_equal(n[4].type, CV_DOC_OBJECT);
	assert_int_equal(n[4].next, 6);
	assert_int_equal(n[5].type, CV_DOC_FALSE);
	assert_memory_equal(n[5].key, "c", 1);
	assert_int_equal(n[5].next, 0);
	assert_int_equal(n[6].type, CV_DOC_NULL);
	assert_int_equal(n[6].next, 0);
	/* "d": {}, "e": 1.5, "f": 7 */
	assert_int_equal(n[7].type, CV_DOC_OBJECT);
	assert_int_equal(n[7].len, 0);
	assert_int_equal(n[7].next, 8);
	assert_int_equal(n[8].type, CV_DOC_REAL);
	assert_true(n[8].v.r == 1.5);
	assert_int_equal(n[9].type, CV_DOC_INTEGER);
	assert_int_equal(n[9].v.i, 7);
	assert_int_equal(n[9].next, 0);
	assert_non_null(back = cv_doc_json(&doc, 0));
	assert_true(json_equal(back, j));
	json_decref(back);
	/* A subtree on its own. */
	assert_non_null(back = cv_doc_json(&doc, 2));
	assert_true(json_equal(back, json_object_get(j, "b")));
	json_decref(back);
	cv_doc_free(&doc);
	assert_null(doc.n);
	free(b);
	json_decref(j);

	/* Past the inline nodes. */
	wide = json_object();
	for (i = 0; i < 3 * CV_DOC_INLINE; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%04zu", i);
		json_object_set_new(wide, k, json_integer((json_int_t)i));
	}
	assert_int_equal(cv_rec_encode(wide, &b, &len), 0);
	assert_int_equal(cv_doc_parse(b, len, &doc), 0);
	assert_int_equal(doc.count, 3 * CV_DOC_INLINE + 1);
	assert_true(doc.n != doc.in);
	assert_int_equal(doc.n[3 * CV_DOC_INLINE].v.i, 3 * CV_DOC_INLINE - 1);
	/* The inline nodes were wiped when they moved. */
	for (i = 0; i < CV_DOC_INLINE; i++)
		assert_int_equal(doc.in[i].v.i, 0);
	assert_non_null(back = cv_doc_json(&doc, 0));
	assert_true(json_equal(back, wide));
	json_decref(back);
	cv_doc_free(&doc);
	free(b);
	json_decref(wide);

	/* A refused input leaves a document that frees cleanly. */
	assert_int_equal(cv_doc_parse((const uint8_t *)"\x81\x01", 2, &doc),
	    CV_ECORRUPT);
	cv_doc_free(&doc);
}

/* A float64 is told from false, true and null by its head, not by its
 * bits: the reals whose bits are 20, 21 and 22 read as reals. */
static void
float_bits_not_simple(void **state)
{
	uint8_t in[] = {0xa1, 0x61, 0x72, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0};
	json_t *j;
	uint8_t bits;
	double want;
	uint64_t u;

	(void)state;
	for (bits = 20; bits <= 22; bits++) {
		in[11] = bits;
		assert_int_equal(cv_rec_decode(in, sizeof(in), &j), 0);
		assert_true(json_is_real(json_object_get(j, "r")));
		u = bits;
		memcpy(&want, &u, sizeof(want));
		assert_true(json_real_value(json_object_get(j, "r")) == want);
		json_decref(j);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(known_answer),
	    cmocka_unit_test(known_answer_edges),
	    cmocka_unit_test(fixtures_round_trip),
	    cmocka_unit_test(malformed_refused),
	    cmocka_unit_test(utf8_edges),
	    cmocka_unit_test(utf8_agrees_with_jansson),
	    cmocka_unit_test(depth_bounded),
	    cmocka_unit_test(items_bounded),
	    cmocka_unit_test(encode_refuses),
	    cmocka_unit_test(reencode_identical),
	    cmocka_unit_test(vault_formats),
	    cmocka_unit_test(doc_layout),
	    cmocka_unit_test(float_bits_not_simple),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
