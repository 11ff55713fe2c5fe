/*
 * Rotating the root key (cv_key_rotate_root): everything reads back under
 * the new root and the trail still verifies; a keyslot or a store file
 * kept from before opens nothing written after; custodians keep their
 * passphrases; the trail's pseudonyms do not change; only an admin
 * rotates, and only alone with the vault.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "base/crypto.h"
#include "gate/anchor.h"
#include "model/account.h"
#include "model/casemeta.h"
#include "model/session.h"
#include "ops/session.h"
#include "store/sealed.h"
#include "store/store.h"

#include "helpers.h"
#include "helpers.c.inc"

static int
setup(void **state)
{
	struct test_fx *f;
	struct cv_session *a;

	test_fx_setup(state, test_staff_team, TEST_COUNT(test_staff_team));
	f = *state;
	test_case_open(f->dir, "siti", f->cid2);
	a = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_add(a, "ratna", "admin", CV_USER_CUSTODIAN,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	cv_session_close(a);
	return 0;
}

static int
show(const char *dir, const char *cid, uint32_t rec)
{
	struct cv_session *s = test_login(dir, "siti", TEST_PASS_STAFF);
	json_t *out = NULL;
	int r = cv_record_show(s, cid, rec, 0, NULL, &out);

	json_decref(out);
	cv_session_close(s);
	return r;
}

static void
pseudonym(const char *dir, const char *cid, char p[static CV_PSEUDONYM_LEN + 1])
{
	struct cv_session *a = test_login(dir, "inspektur", TEST_PASS_STAFF);

	assert_int_equal(cv_audit_pseudonym(a, cid, p), 0);
	cv_session_close(a);
}

static int
rotate(const char *dir)
{
	struct cv_session *a = test_login(dir, "admin", TEST_PASS_ADMIN);
	int r = cv_key_rotate_root(a);

	cv_session_close(a);
	return r;
}

/* (a), (d), (e): all reads back, the trail verifies, a custodian keeps
 * her passphrase, the pseudonym of a case stays. */
static void
reads_back(void **state)
{
	struct test_fx *f = *state;
	char before[CV_PSEUDONYM_LEN + 1], after[CV_PSEUDONYM_LEN + 1];
	static const char note[] = "She checks her phone before each answer.";
	char kid[CV_OBJECT_ID_LEN + 1];
	struct cv_session *a, *s;
	json_t *out = NULL;
	uint32_t nid;
	char *txt;

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_note_add(s, f->cid, note, strlen(note), "initial",
	                     NULL, &nid),
	    0);
	cv_session_close(s);
	test_grant_legal(f->dir, f->cid, "legal_proceeding", 0, kid);
	pseudonym(f->dir, f->cid, before);
	assert_int_equal(rotate(f->dir), 0);
	assert_int_equal(show(f->dir, f->cid, 1), 0);
	assert_int_equal(show(f->dir, f->cid, nid), 0);
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_consent_list(s, f->cid, &out), 0);
	assert_non_null(txt = json_dumps(out, 0));
	assert_non_null(strstr(txt, kid));
	free(txt);
	json_decref(out);
	out = NULL;
	cv_session_close(s);
	assert_int_equal(show(f->dir, f->cid2, 1), 0);
	assert_int_equal(test_try_login(f->dir, "ratna", TEST_PASS_STAFF), 0);
	assert_int_equal(test_try_login(f->dir, "rina", TEST_PASS_STAFF), 0);
	assert_int_equal(test_try_login(f->dir, "kepala", TEST_PASS_STAFF), 0);
	pseudonym(f->dir, f->cid, after);
	assert_string_equal(before, after);
	/* Twice, the second under kept keys, then verified. */
	assert_int_equal(rotate(f->dir), 0);
	pseudonym(f->dir, f->cid, after);
	assert_string_equal(before, after);
	a = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_verify(a, NULL, NULL, &out), 0);
	json_decref(out);
	cv_session_close(a);
	assert_int_equal(
	    test_trail_count(f->dir, "action", "key.rotate_root", NULL, NULL),
	    2);
}

/* The root key siti's slot value SLOT yields with her passphrase. */
static void
slot_root(const char *dir, const uint8_t *slot, size_t len,
    uint8_t root[static CV_KEYBYTES])
{
	struct cv_kdf_params p;
	uint8_t vid[CV_VAULTIDBYTES], wrap[32], signer[32];

	assert_int_equal(test_raw_get(dir, CV_DB_META, "vault_id", 8, vid,
	                     sizeof(vid)),
	    sizeof(vid));
	p.m_kib = cv_get_be32(slot + 1);
	p.t = cv_get_be32(slot + 5);
	p.p = cv_get_be32(slot + 9);
	assert_int_equal(cv_passphrase_derive(&p, slot + 13, TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), wrap),
	    0);
	assert_int_equal(
	    cv_slot_open_with(vid, "siti", slot, len, wrap, root, signer), 0);
}

/*
 * The number of values of the store in DIR that ROOT opens: the case keys
 * of CIDS, their metadata, the signing key, the policy set, the anchor,
 * the kept keys, the accounts' MACs, the queue mark, the mode.
 */
static int
opens_with(const char *dir, const uint8_t root[static CV_KEYBYTES],
    const char *const *cids, size_t ncids)
{
	static const char *const users[] = {
	    "admin", "siti", "rina", "kepala", "inspektur", "ratna"};
	struct cv_bind b = {CV_AUDIT_SK_TAG, NULL, NULL, 0, NULL, 0};
	uint8_t key[CV_KEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	struct cv_session *s;
	struct cv_txn *txn;
	struct cv_audit_pos pos;
	struct cv_user u;
	struct cv_val v;
	json_t *meta = NULL;
	uint64_t gen, mark;
	size_t i;
	int n = 0, mode;

	assert_int_equal(cv_session_new(dir, &s), 0);
	assert_int_equal(cv_store_open(dir, &s->st), 0);
	assert_int_equal(cv_txn_begin(s->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_get(txn, CV_DB_META, "vault_id", 8, &v), 0);
	memcpy(s->vault_id, v.data, CV_VAULTIDBYTES);
	assert_int_equal(cv_meta_get_u64(txn, "kek_gen", &gen), 0);
	memcpy(s->keys->root, root, CV_KEYBYTES);
	/* Every generation up to the stored one, to be sure. */
	for (; gen > 0; gen--) {
		cv_keys_derive(s->keys, gen);
		for (i = 0; i < ncids; i++)
			n += cv_casekey_get(txn, s, cids[i], key) == 0;
	}
	cv_keys_derive(s->keys, 1);
	for (i = 0; i < ncids; i++) {
		n += cv_case_load(txn, s, cids[i], &meta) == 0;
		json_decref(meta);
		meta = NULL;
	}
	b.vault_id = s->vault_id;
	assert_int_equal(cv_get(txn, CV_DB_META, "audit_sk", 8, &v), 0);
	n += cv_sealed_open(s->keys->meta, &b, v.data, v.len, sk) == 0;
	n += cv_anchor_get(txn, s, &pos) == 0;
	n += cv_mode_get(txn, s, &mode) == 0;
	n += cv_pending_mark_get(txn, s, &mark) == 0;
	if (cv_get(txn, CV_DB_META, "kept_keys", 9, &v) == 0)
		n += cv_keys_kept_load(txn, s) == 0;
	for (i = 0; i < TEST_COUNT(users); i++)
		n += cv_user_get_checked(txn, s, users[i], &u) == 0;
	cv_txn_abort(txn);
	s->opened = 0;
	cv_session_close(s);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(sk, sizeof(sk));
	return n;
}

/* (b): a keyslot kept from before and put back opens nothing. */
static void
old_slot_opens_nothing(void **state)
{
	struct test_fx *f = *state;
	const char *cids[] = {f->cid, f->cid2};
	uint8_t slot[CV_SLOT_BYTES], root[CV_KEYBYTES];

	assert_int_equal(test_raw_get(f->dir, CV_DB_SLOTS, "siti", 4, slot,
	                     sizeof(slot)),
	    sizeof(slot));
	slot_root(f->dir, slot, sizeof(slot), root);
	/* Before: the old root opens every one of them. */
	assert_true(opens_with(f->dir, root, cids, 2) >= 2 + 2 + 4 + 6);
	assert_int_equal(rotate(f->dir), 0);
	assert_int_equal(opens_with(f->dir, root, cids, 2), 0);
	/* Put back, the slot yields only the old root, and no login. */
	test_raw_put(f->dir, CV_DB_SLOTS, "siti", 4, slot, sizeof(slot));
	slot_root(f->dir, slot, sizeof(slot), root);
	assert_int_equal(opens_with(f->dir, root, cids, 2), 0);
	assert_int_not_equal(
	    test_try_login(f->dir, "siti", TEST_PASS_STAFF), 0);
	sodium_memzero(root, sizeof(root));
}

/* (c): the old store file and the old passphrase open nothing written
 * after the rotation. */
static void
old_store_opens_nothing_new(void **state)
{
	struct test_fx *f = *state;
	char copy[80], cid3[CV_CASE_ID_LEN + 1];
	const char *cids[1] = {cid3};
	uint8_t slot[CV_SLOT_BYTES], root[CV_KEYBYTES];

	snprintf(copy, sizeof(copy), "%s.old", f->dir);
	test_tree_copy(f->dir, copy);
	assert_int_equal(rotate(f->dir), 0);
	test_case_open(f->dir, "siti", cid3);
	assert_int_equal(show(f->dir, cid3, 1), 0);
	assert_int_equal(test_raw_get(copy, CV_DB_SLOTS, "siti", 4, slot,
	                     sizeof(slot)),
	    sizeof(slot));
	slot_root(copy, slot, sizeof(slot), root);
	/* The new case's key, its metadata, and all the rest. */
	assert_int_equal(opens_with(f->dir, root, cids, 1), 0);
	sodium_memzero(root, sizeof(root));
	test_rm_rf(copy);
}

/* (f), (g): a non-admin is refused on the trail; with another process
 * holding the vault, CV_EBUSY and nothing changes. */
static void
refused(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s, *a;
	uint8_t before[CV_SLOT_BYTES], after[CV_SLOT_BYTES];

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_key_rotate_root(s), CV_EDENIED);
	cv_session_close(s);
	assert_int_equal(test_trail_count(f->dir, "action", "key.rotate_root",
	                     "decision", "deny"),
	    1);
	assert_int_equal(test_raw_get(f->dir, CV_DB_SLOTS, "ratna", 5, before,
	                     sizeof(before)),
	    sizeof(before));
	a = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_key_rotate_root(a), CV_EBUSY);
	cv_session_close(s);
	cv_session_close(a);
	assert_int_equal(test_raw_get(f->dir, CV_DB_SLOTS, "ratna", 5, after,
	                     sizeof(after)),
	    sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(
	    test_trail_count(f->dir, "action", "key.rotate_root", NULL, NULL),
	    1);
	assert_int_equal(show(f->dir, f->cid, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reads_back, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(old_slot_opens_nothing, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(old_store_opens_nothing_new,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(refused, setup,
		    test_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
