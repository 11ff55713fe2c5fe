#define _GNU_SOURCE
/*
 * Every stored object is bound to the event that wrote it, and audit
 * verify reconciles the store with the trail both ways. Each tamper case
 * works on the raw store, as an insider with the files and no passphrase
 * could: an older sealed value copied back, a record or its newest
 * version deleted. Each must be reported by kind and problem; an untouched
 * vault after many operations must verify clean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/util.h"
#include "model/casemeta.h"
#include "model/caseobj.h"
#include "model/recstore.h"
#include "model/session.h"
#include "store/store.h"

#include "helpers.h"
#include "helpers.c.inc"

static int
setup(void **state)
{
	return test_fx_setup(state, test_staff_team,
	    TEST_COUNT(test_staff_team));
}

/*
 * Verify as the auditor; 1 if the report lists a problem of KIND and
 * PROBLEM for the fixture's case (KIND NULL: the report must be clean).
 */
static int
verify_reports(struct test_fx *f, const char *kind, const char *problem)
{
	struct cv_session *s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	char p[CV_PSEUDONYM_LEN + 1];
	json_t *rep = NULL, *e;
	size_t i;
	int r, found = 0;

	assert_int_equal(cv_audit_pseudonym(s, f->cid, p), 0);
	r = cv_audit_verify(s, NULL, NULL, &rep);
	cv_session_close(s);
	if (kind == NULL) {
		if (r != 0)
			fail_msg("verify: %s", json_dumps(rep, 0));
		assert_true(json_is_true(json_object_get(rep, "ok")));
		assert_null(json_object_get(rep, "problems"));
		assert_true(json_integer_value(json_object_get(rep, "objects")) >
		    0);
		json_decref(rep);
		return 1;
	}
	if (r != CV_EVERIFY) {
		json_decref(rep);
		return 0;
	}
	assert_false(json_is_true(json_object_get(rep, "ok")));
	json_array_foreach (json_object_get(rep, "problems"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "kind")),
		        kind) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "problem")),
		        problem) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "case")), p) ==
		        0)
			found = 1;
	json_decref(rep);
	return found;
}

static json_t *
grant(void)
{
	return json_pack("{s:{s:s}, s:[s], s:s, s:s, s:s}", "recipient", "role",
	    "legal_aid", "classes", "incident", "purpose", "legal_proceeding",
	    "grantor", "survivor", "form_ref", "F-1");
}

/* The positive control: many operations, nothing touched, clean. */
static void
untouched_vault_verifies_clean(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	char kid[CV_OBJECT_ID_LEN + 1];
	json_t *g = grant(), *in = test_fixture("intake_valid.json");
	uint32_t v, nid;
	int i;

	assert_int_equal(cv_consent_grant(s, f->cid, g, kid), 0);
	test_team(f->dir, f->cid, "rina", 1);
	for (i = 0; i < 3; i++) {
		json_t *c = test_intake_changed(i + 1);
		assert_int_equal(cv_record_amend(s, f->cid, 1, c, &v), 0);
		json_decref(c);
	}
	assert_int_equal(v, 4);
	assert_int_equal(cv_note_add(s, f->cid, "talked", 6, NULL, NULL,
	                     &nid),
	    0);
	assert_int_equal(cv_consent_withdraw(s, f->cid, kid), 0);
	test_team(f->dir, f->cid, "rina", 0);
	json_decref(g);
	json_decref(in);
	cv_session_close(s);
	assert_true(verify_reports(f, NULL, NULL));
}

static void
replayed_older_consent_is_reported(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	char kid[CV_OBJECT_ID_LEN + 1];
	uint8_t k[CV_CASE_ID_LEN + 1 + CV_OBJECT_ID_LEN], *old;
	json_t *g = grant();
	size_t klen, n;

	assert_int_equal(cv_consent_grant(s, f->cid, g, kid), 0);
	json_decref(g);
	cv_session_close(s);
	test_consent_key(f->cid, kid, k, &klen);
	old = test_raw_dup(f->dir, CV_DB_CASEDATA, k, klen, &n);
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_consent_withdraw(s, f->cid, kid), 0);
	cv_session_close(s);
	assert_true(verify_reports(f, NULL, NULL));
	/* The granted consent copied back over its withdrawal. */
	test_raw_put(f->dir, CV_DB_CASEDATA, k, klen, old, n);
	free(old);
	assert_true(verify_reports(f, "consent", "replayed"));
}

static void
replayed_older_team_is_reported(void **state)
{
	struct test_fx *f = *state;
	uint8_t *old;
	size_t n;

	test_team(f->dir, f->cid, "rina", 1);
	old = test_raw_dup(f->dir, CV_DB_CASES, f->cid, CV_CASE_ID_LEN, &n);
	test_team(f->dir, f->cid, "rina", 0);
	assert_true(verify_reports(f, NULL, NULL));
	/* The team with rina on it copied back over her removal. */
	test_raw_put(f->dir, CV_DB_CASES, f->cid, CV_CASE_ID_LEN, old, n);
	free(old);
	assert_true(verify_reports(f, "case", "replayed"));
}

/* Amend record 1 of the fixture's case once: version 2. */
static void
amend_once(struct test_fx *f)
{
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *in = test_intake_changed(1);
	uint32_t v;

	assert_int_equal(cv_record_amend(s, f->cid, 1, in, &v), 0);
	assert_int_equal(v, 2);
	json_decref(in);
	cv_session_close(s);
	assert_true(verify_reports(f, NULL, NULL));
}

static void
replayed_older_record_version_is_reported(void **state)
{
	struct test_fx *f = *state;
	uint8_t k1[CV_REC_KEYLEN], k2[CV_REC_KEYLEN], *old;
	size_t n;

	amend_once(f);
	cv_rec_key(k1, f->cid, 1, 1);
	cv_rec_key(k2, f->cid, 1, 2);
	old = test_raw_dup(f->dir, CV_DB_RECORDS, k1, sizeof(k1), &n);
	test_raw_put(f->dir, CV_DB_RECORDS, k2, sizeof(k2), old, n);
	free(old);
	assert_true(verify_reports(f, "record", "replayed"));
}

static void
deleted_newest_version_is_reported(void **state)
{
	struct test_fx *f = *state;
	uint8_t k2[CV_REC_KEYLEN];

	amend_once(f);
	cv_rec_key(k2, f->cid, 1, 2);
	test_raw_put(f->dir, CV_DB_RECORDS, k2, sizeof(k2), NULL, 0);
	assert_true(verify_reports(f, "record", "missing"));
}

static void
deleted_record_is_reported(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	uint8_t k[CV_REC_KEYLEN];
	uint32_t nid;

	assert_int_equal(cv_note_add(s, f->cid, "talked", 6, NULL, NULL,
	                     &nid),
	    0);
	cv_session_close(s);
	assert_true(verify_reports(f, NULL, NULL));
	cv_rec_key(k, f->cid, nid, 1);
	test_raw_put(f->dir, CV_DB_RECORDS, k, sizeof(k), NULL, 0);
	assert_true(verify_reports(f, "record", "missing"));
}

/*
 * A value sealed with the vault's keys but written by no event (a write
 * past the gate): it opens, its header names the latest event, and only
 * the digest tells it apart.
 */
static void
write_past_the_gate_is_a_digest_mismatch(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	char kid[CV_OBJECT_ID_LEN + 1];
	uint8_t k[CV_CASE_ID_LEN + 1 + CV_OBJECT_ID_LEN], key[CV_KEYBYTES];
	struct cv_txn *txn;
	struct cv_val v;
	json_t *g = grant(), *obj;
	uint64_t version, seq;
	size_t klen;

	assert_int_equal(cv_consent_grant(s, f->cid, g, kid), 0);
	json_decref(g);
	test_consent_key(f->cid, kid, k, &klen);
	assert_int_equal(cv_txn_begin(s->st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(cv_get(txn, CV_DB_CASEDATA, k, klen, &v), 0);
	version = cv_get_be64(v.data);
	seq = cv_get_be64((const uint8_t *)v.data + 8);
	assert_int_equal(cv_casekey_get(txn, s, f->cid, key), 0);
	assert_int_equal(
	    cv_casedata_get(txn, s, f->cid, CV_CD_CONSENT, kid, key, &obj), 0);
	json_object_set_new(obj, "purpose", json_string("police_report"));
	assert_int_equal(cv_casedata_put(txn, s, f->cid, CV_CD_CONSENT, kid,
	                     key, obj, version, seq),
	    0);
	assert_int_equal(cv_txn_commit(txn), 0);
	sodium_memzero(key, sizeof(key));
	json_decref(obj);
	cv_session_close(s);
	assert_true(verify_reports(f, "consent", "digest_mismatch"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        untouched_vault_verifies_clean, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        replayed_older_consent_is_reported, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        replayed_older_team_is_reported, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        replayed_older_record_version_is_reported,
	        setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        deleted_newest_version_is_reported, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        deleted_record_is_reported, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        write_past_the_gate_is_a_digest_mismatch,
	        setup, test_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
