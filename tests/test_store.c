#define _GNU_SOURCE
/*
 * The store's walking primitives and the sealed-object layer.
 *
 * The walks are checked on a store of planted keys chosen at the edges a
 * prefix has: a key equal to the prefix, its extensions, the next key up,
 * and 0xff bytes where "the key after the prefix" has to carry.
 *
 * The associated data is checked against docs/formats.md written out by
 * hand here, an oracle independent of src/store/sealed.c: a new vault's
 * objects, as stored, must open under exactly those bytes. Those bytes
 * are the on-disk format, so an old vault stays readable only while this
 * holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "casevault.h"
#include "base/passphrase.h"
#include "model/account.h"
#include "model/caseobj.h"
#include "model/session.h"
#include "model/casemeta.h"
#include "store/sealed.h"
#include "store/store.h"
#include "base/util.h"

#include "helpers.h"
#include "helpers.c.inc"

/* ---- walks ---- */

static const char *const planted[] = {
    "a", "ab", "abc", "abd", "b", "a\xff\x01", "\xff", "\xff\xff"};

struct fx {
	char tmp[32];
	struct cv_store *st;
};

static int
store_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cv_txn *txn;
	size_t i;

	snprintf(f->tmp, sizeof(f->tmp), "/tmp/cvstore.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	assert_int_equal(cv_store_create(f->tmp, &f->st), 0);
	assert_int_equal(cv_txn_begin(f->st, CV_TXN_WRITE, &txn), 0);
	for (i = 0; i < CV_ARRAY_LEN(planted); i++)
		assert_int_equal(cv_put(txn, CV_DB_CASEDATA, planted[i],
		    strlen(planted[i]), "v", 1, 0), 0);
	assert_int_equal(cv_txn_commit(txn), 0);
	*state = f;
	return 0;
}

static int
store_teardown(void **state)
{
	struct fx *f = *state;

	cv_store_close(f->st);
	test_rm_rf(f->tmp);
	free(f);
	return 0;
}

struct seen {
	char keys[16][8];
	size_t n;
	size_t stop_at; /* return 7 at this visit (1-based); 0: never */
};

static int
record_key(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(v->len, 1);
	assert_true(k->len < sizeof(s->keys[0]));
	assert_true(s->n < 16);
	memcpy(s->keys[s->n], k->data, k->len);
	s->keys[s->n][k->len] = '\0';
	s->n++;
	return s->n == s->stop_at ? 7 : 0;
}

static void
scan_visits_the_prefix_in_order(void **state)
{
	struct fx *f = *state;
	struct cv_txn *txn;
	struct seen s;

	assert_int_equal(cv_txn_begin(f->st, CV_TXN_RDONLY, &txn), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, "ab", 2, record_key, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "ab");
	assert_string_equal(s.keys[1], "abc");
	assert_string_equal(s.keys[2], "abd");

	/* No prefix: everything, in key order. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, NULL, 0, record_key, &s), 0);
	assert_int_equal(s.n, CV_ARRAY_LEN(planted));
	assert_string_equal(s.keys[0], "a");
	assert_string_equal(s.keys[4], "a\xff\x01");
	assert_string_equal(s.keys[5], "b");
	assert_string_equal(s.keys[7], "\xff\xff");

	/* A prefix nothing has; one past the last key. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, "ac", 2, record_key, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(cv_store_scan(txn, CV_DB_CASEDATA, "\xff\xff\xff", 3,
	                     record_key, &s),
	    0);
	assert_int_equal(s.n, 0);

	/* The callback's nonzero return stops the walk and comes back. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, "a", 1, record_key, &s), 7);
	assert_int_equal(s.n, 2);
	s.stop_at = 0;
	assert_int_equal(cv_store_scan(txn, CV_DB_CASEDATA, "a",
	                     CV_STORE_KEY_MAX + 1, record_key, &s),
	    CV_EINVAL);
	cv_txn_abort(txn);
}

static void
expect_end(struct cv_txn *txn, int last, const char *prefix, size_t plen,
    const char *want)
{
	struct cv_val k = {NULL, 0}, v;
	int r;

	r = last ? cv_store_last(txn, CV_DB_CASEDATA, prefix, plen, &k, &v)
	         : cv_store_first(txn, CV_DB_CASEDATA, prefix, plen, &k, &v);
	if (want == NULL) {
		assert_int_equal(r, CV_ENOTFOUND);
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(k.len, strlen(want));
	assert_memory_equal(k.data, want, k.len);
	assert_int_equal(v.len, 1);
}

static void
first_and_last_of_a_prefix(void **state)
{
	struct fx *f = *state;
	struct cv_txn *txn;

	assert_int_equal(cv_txn_begin(f->st, CV_TXN_RDONLY, &txn), 0);
	expect_end(txn, 0, "ab", 2, "ab");
	expect_end(txn, 1, "ab", 2, "abd");
	expect_end(txn, 0, "a", 1, "a");
	expect_end(txn, 1, "a", 1, "a\xff\x01"); /* the raised byte carries */
	expect_end(txn, 1, "a\xff", 2, "a\xff\x01");
	expect_end(txn, 1, "abd", 3, "abd"); /* the prefix is the key */
	expect_end(txn, 0, "b", 1, "b");
	expect_end(txn, 1, "b", 1, "b");
	expect_end(txn, 1, "\xff", 1, "\xff\xff"); /* nothing above it */
	expect_end(txn, 0, "\xff", 1, "\xff");
	expect_end(txn, 0, NULL, 0, "a");
	expect_end(txn, 1, NULL, 0, "\xff\xff");
	expect_end(txn, 0, "ac", 2, NULL);
	expect_end(txn, 1, "ac", 2, NULL);
	expect_end(txn, 1, "0", 1, NULL); /* below every key */
	expect_end(txn, 0, "c", 1, NULL);
	cv_txn_abort(txn);
}

static void
shred_prefix_takes_only_the_prefix(void **state)
{
	struct fx *f = *state;
	struct cv_txn *txn;
	struct seen s;
	size_t n;

	assert_int_equal(cv_txn_begin(f->st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(cv_shred_prefix(txn, CV_DB_CASEDATA, "ab", 2), 0);
	assert_int_equal(cv_shred_prefix(txn, CV_DB_CASEDATA, "zz", 2), 0);
	assert_int_equal(
	    cv_shred_prefix(txn, CV_DB_CASEDATA, NULL, 0), CV_EINVAL);
	assert_int_equal(cv_txn_commit(txn), 0);

	assert_int_equal(cv_txn_begin(f->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_store_count(txn, CV_DB_CASEDATA, &n), 0);
	assert_int_equal(n, CV_ARRAY_LEN(planted) - 3);
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, "a", 1, record_key, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "a");
	assert_string_equal(s.keys[1], "a\xff\x01");
	cv_txn_abort(txn);
}

/* ---- the associated data ---- */

static const uint8_t vid[CV_VAULTIDBYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11, 12, 13, 14, 15, 16};

/* TAG with its NUL, the vault id, KEY, HDR: docs/formats.md. */
static size_t
oracle_ad(uint8_t *ad, const char *tag, const uint8_t *v, const void *key,
    size_t klen, const void *hdr, size_t hlen)
{
	size_t n = strlen(tag) + 1;

	memcpy(ad, tag, n);
	memcpy(ad + n, v, CV_VAULTIDBYTES);
	n += CV_VAULTIDBYTES;
	memcpy(ad + n, key, klen);
	n += klen;
	memcpy(ad + n, hdr, hlen);
	return n + hlen;
}

static void
ad_is_tag_vault_key_header(void **state)
{
	uint8_t ad[CV_SEALED_AD_MAX], want[CV_SEALED_AD_MAX], big[300];
	struct cv_bind b = {"casevault-record-v1", vid, "C0123456789", 11,
	    "\x02\x04note", 6};
	size_t adlen, n;

	(void)state;
	assert_int_equal(cv_sealed_ad(&b, ad, &adlen), 0);
	n = oracle_ad(want, "casevault-record-v1", vid, "C0123456789", 11,
	    "\x02\x04note", 6);
	assert_int_equal(adlen, n);
	assert_memory_equal(ad, want, n);
	assert_int_equal(ad[strlen("casevault-record-v1")], 0);

	/* Bound by the tag alone. */
	b.key = NULL;
	b.klen = 0;
	b.hdr = NULL;
	b.hlen = 0;
	b.tag = "casevault-policy-v1";
	assert_int_equal(cv_sealed_ad(&b, ad, &adlen), 0);
	n = oracle_ad(want, "casevault-policy-v1", vid, "", 0, "", 0);
	assert_int_equal(adlen, n);
	assert_memory_equal(ad, want, n);

	/* Too long is refused, not cut short. */
	memset(big, 'x', sizeof(big));
	b.key = big;
	b.klen = sizeof(big);
	assert_int_equal(cv_sealed_ad(&b, ad, &adlen), CV_ETOOBIG);
	b.klen = 100;
	b.hdr = big;
	b.hlen = 200;
	assert_int_equal(cv_sealed_ad(&b, ad, &adlen), CV_ETOOBIG);
	b.hlen = 0;
	b.tag = "casevault-a-tag-longer-than-thirty-two-bytes";
	assert_int_equal(cv_sealed_ad(&b, ad, &adlen), CV_ETOOBIG);
}

static void
seal_binds_every_part(void **state)
{
	uint8_t k[CV_KEYBYTES], c[5 + CV_SEALOVERHEAD], m[5];
	uint8_t vid2[CV_VAULTIDBYTES];
	struct cv_bind b = {"casevault-case-v1", vid, "C0123456789", 11, NULL, 0};
	struct cv_bind o;
	uint8_t *p;
	size_t n;

	(void)state;
	randombytes_buf(k, sizeof(k));
	memcpy(vid2, vid, sizeof(vid2));
	vid2[0] ^= 1;
	assert_int_equal(cv_sealed_seal(k, &b, (const uint8_t *)"hello", 5, c), 0);
	/* The positive control: the same binding opens. */
	assert_int_equal(cv_sealed_open(k, &b, c, sizeof(c), m), 0);
	assert_memory_equal(m, "hello", 5);
	assert_int_equal(cv_sealed_open_new(k, &b, c, sizeof(c), &p, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal((char *)p, "hello");
	free(p);

	o = b;
	o.tag = "casevault-casekey-v1";
	assert_int_equal(cv_sealed_open(k, &o, c, sizeof(c), m), CV_ECRYPTO);
	o = b;
	o.vault_id = vid2;
	assert_int_equal(cv_sealed_open(k, &o, c, sizeof(c), m), CV_ECRYPTO);
	o = b;
	o.key = "C0123456788";
	assert_int_equal(cv_sealed_open(k, &o, c, sizeof(c), m), CV_ECRYPTO);
	o = b;
	o.hdr = "\0";
	o.hlen = 1;
	assert_int_equal(cv_sealed_open(k, &o, c, sizeof(c), m), CV_ECRYPTO);
	assert_int_equal(
	    cv_sealed_open_new(k, &o, c, sizeof(c), &p, &n), CV_ECRYPTO);
	assert_null(p);
	assert_int_equal(
	    cv_sealed_open_new(k, &b, c, CV_SEALOVERHEAD - 1, &p, &n),
	    CV_ECRYPTO);
}

/* Open the stored value V[SKIP..] under K with the oracle's AD; then
 * check that one changed byte of that AD fails. */
static void
opens_under(const uint8_t k[static CV_KEYBYTES], const struct cv_val *v,
    size_t skip, const uint8_t *ad, size_t adlen, size_t mlen)
{
	uint8_t *m, bad[CV_SEALED_AD_MAX];

	assert_int_equal(v->len, skip + mlen + CV_SEALOVERHEAD);
	assert_non_null(m = malloc(mlen + 1));
	assert_int_equal(cv_open(k, ad, adlen, (const uint8_t *)v->data + skip,
	                     v->len - skip, m),
	    0);
	memcpy(bad, ad, adlen);
	bad[adlen - 1] ^= 1;
	assert_int_equal(cv_open(k, bad, adlen, (const uint8_t *)v->data + skip,
	                     v->len - skip, m),
	    CV_ECRYPTO);
	sodium_memzero(m, mlen);
	free(m);
}

static void
stored_objects_open_under_the_documented_ad(void **state)
{
	char dir[64], cid[CV_CASE_ID_LEN + 1], cdkey[CV_CASE_ID_LEN + 12];
	uint8_t ad[CV_SEALED_AD_MAX], key[CV_KEYBYTES], wrap[32];
	const uint8_t *slot;
	struct cv_kdf_params p;
	struct cv_session *s;
	struct cv_txn *txn;
	struct cv_val v;
	json_t *obj;
	size_t adlen;

	(void)state;
	s = test_vault_new(dir);
	cv_session_close(s);
	test_user(dir, "siti", "counselor", 1);
	s = test_login(dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_case_open(s, NULL, cid), 0);
	obj = json_pack("{s:s}", "purpose", "legal_proceeding");
	assert_int_equal(cv_txn_begin(s->st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(cv_casekey_get(txn, s, cid, key), 0);
	assert_int_equal(
	    cv_casedata_put(txn, s, cid, CV_CD_CONSENT, "K1", key, obj, 1, 0), 0);
	assert_int_equal(cv_txn_commit(txn), 0);
	json_decref(obj);

	assert_int_equal(cv_txn_begin(s->st, CV_TXN_RDONLY, &txn), 0);
	/* Case metadata: meta key; tag, vault id, case id, the clear header
	 * (version 1, written by the case's opening event). */
	assert_int_equal(cv_get(txn, CV_DB_CASES, cid, CV_CASE_ID_LEN, &v), 0);
	assert_int_equal(cv_get_be64(v.data), 1);
	assert_true(cv_get_be64((const uint8_t *)v.data + 8) > 0);
	adlen = oracle_ad(ad, "casevault-case-v1", s->vault_id, cid,
	    CV_CASE_ID_LEN, v.data, 16);
	opens_under(s->keys->meta, &v, 16, ad, adlen,
	    v.len - 16 - CV_SEALOVERHEAD);
	/* The case key: KEK; tag, vault id, case id, the clear generation. */
	assert_int_equal(
	    cv_get(txn, CV_DB_CASEKEYS, cid, CV_CASE_ID_LEN, &v), 0);
	assert_int_equal(cv_get_be64(v.data), s->keys->kek_gen);
	adlen = oracle_ad(ad, "casevault-casekey-v1", s->vault_id, cid,
	    CV_CASE_ID_LEN, v.data, 8);
	opens_under(s->keys->kek, &v, 8, ad, adlen, CV_KEYBYTES);
	/* A per-case object: case key; tag, vault id, its key. */
	memcpy(cdkey, cid, CV_CASE_ID_LEN);
	memcpy(cdkey + CV_CASE_ID_LEN, "KK1", 3);
	assert_int_equal(
	    cv_get(txn, CV_DB_CASEDATA, cdkey, CV_CASE_ID_LEN + 3, &v), 0);
	assert_int_equal(cv_get_be64(v.data), 1);
	assert_int_equal(cv_get_be64((const uint8_t *)v.data + 8), 0);
	adlen = oracle_ad(ad, "casevault-casedata-v1", s->vault_id, cdkey,
	    CV_CASE_ID_LEN + 3, v.data, 16);
	opens_under(key, &v, 16, ad, adlen, v.len - 16 - CV_SEALOVERHEAD);
	/* The audit signing key and the policy set: meta key; tag, vault id. */
	assert_int_equal(cv_get(txn, CV_DB_META, "audit_sk", 8, &v), 0);
	adlen = oracle_ad(ad, "casevault-auditsk-v1", s->vault_id, "", 0, "", 0);
	opens_under(s->keys->meta, &v, 0, ad, adlen,
	    crypto_sign_SECRETKEYBYTES);
	assert_int_equal(cv_get(txn, CV_DB_META, "policy_set", 10, &v), 0);
	adlen = oracle_ad(ad, "casevault-policy-v1", s->vault_id, "", 0, "", 0);
	opens_under(s->keys->meta, &v, 0, ad, adlen,
	    v.len - CV_SEALOVERHEAD);
	/* A keyslot: the wrap key from the passphrase and the slot's own
	 * parameters opens its secret half; tag, vault id, user name, public
	 * key (the clear part unbound). */
	assert_int_equal(cv_get(txn, CV_DB_SLOTS, "siti", 4, &v), 0);
	slot = v.data;
	p.m_kib = cv_get_be32(slot + 1);
	p.t = cv_get_be32(slot + 5);
	p.p = cv_get_be32(slot + 9);
	assert_int_equal(cv_passphrase_derive(&p, slot + 13, TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), wrap),
	    0);
	assert_int_equal(v.len, CV_SLOT_BYTES);
	adlen = oracle_ad(ad, "casevault-slot-v2", s->vault_id, "siti", 4,
	    slot + 13 + CV_SALTBYTES, 32);
	v.data = (const uint8_t *)v.data + 13 + CV_SALTBYTES + 32;
	v.len = 64 + CV_SEALOVERHEAD;
	opens_under(wrap, &v, 0, ad, adlen, 64);
	/* Records, whose AD ends with their header, are resealed by hand
	 * the same way in test_cbor. */
	cv_txn_abort(txn);
	sodium_memzero(wrap, sizeof(wrap));
	sodium_memzero(key, sizeof(key));
	cv_session_close(s);
	test_vault_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        scan_visits_the_prefix_in_order, store_setup, store_teardown),
	    cmocka_unit_test_setup_teardown(
	        first_and_last_of_a_prefix, store_setup, store_teardown),
	    cmocka_unit_test_setup_teardown(shred_prefix_takes_only_the_prefix,
	        store_setup, store_teardown),
	    cmocka_unit_test(ad_is_tag_vault_key_header),
	    cmocka_unit_test(seal_binds_every_part),
	    cmocka_unit_test(stored_objects_open_under_the_documented_ad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
