#define _GNU_SOURCE
/*
 * The gate with the time-bound facts: a consent past its period, a
 * request past its window, a break-glass window that closed, each
 * planted in the store as they would be after time passed, must refuse;
 * and consent grants checked against the survivor's age and the alleged
 * perpetrators read from the intake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/casemeta.h"
#include "model/caseobj.h"
#include "casevault.h"
#include "store/store.h"
#include "base/util.h"
#include "model/session.h"

#include "helpers.h"
#include "helpers.c.inc"

struct fx {
	char dir[64];
	char cid[CV_CASE_ID_LEN + 1];
	char child[CV_CASE_ID_LEN + 1];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cv_session *s;
	json_t *in;

	s = test_vault_new(f->dir);
	cv_session_close(s);
	test_staff_add(f->dir, test_staff_legal, TEST_COUNT(test_staff_legal));
	test_case_open(f->dir, "siti", f->cid);
	/* A child at any date the suite runs: born ten years before now. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	in = test_fixture("intake_child_valid.json");
	{
		char born[25];
		cv_format_time(cv_now_ms() - (uint64_t)10 * 365 * 86400000,
		    born);
		born[10] = '\0';
		json_object_set_new(json_object_get(in, "survivor"),
		    "birth_date", json_string(born));
	}
	assert_int_equal(cv_case_open(s, in, f->child), 0);
	json_decref(in);
	cv_session_close(s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	test_vault_remove(f->dir);
	free(f);
	return 0;
}

/* Store OBJ as KIND/ID in the case, as the vault would have. */
static void
plant(const char *dir, const char *cid, char kind, const char *id,
    json_t *obj)
{
	struct cv_session *s = test_login(dir, "siti", TEST_PASS_STAFF);
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn;

	assert_int_equal(cv_txn_begin(s->st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(cv_casekey_get(txn, s, cid, key), 0);
	assert_int_equal(cv_casedata_put(txn, s, cid, kind, id, key, obj, 1, 0), 0);
	if (kind != CV_CD_CONSENT)
		assert_int_equal(cv_casedata_index(txn, s, id, cid), 0);
	assert_int_equal(cv_txn_commit(txn), 0);
	cv_session_close(s);
	json_decref(obj);
}

static json_t *
consent(const char *id, const char *from, const char *until)
{
	return json_pack("{s:s, s:s, s:{s:s}, s:[s], s:s, s:s, s:s, s:s, s:s}",
	    "id", id, "grantor", "survivor", "recipient", "role", "legal_aid",
	    "classes", "incident", "purpose", "legal_proceeding", "from", from,
	    "until", until, "recorded_by", "u2", "form_ref", "F-1");
}

static json_t *
request(const char *id, uint32_t requester, uint64_t until)
{
	return json_pack("{s:s, s:I, s:s, s:[s], s:s, s:s, s:I, s:I}", "id",
	    id, "requester", (json_int_t)requester, "requester_role",
	    "legal_aid", "classes", "incident", "purpose", "legal_proceeding",
	    "status", "approved", "created", (json_int_t)(until - 1000),
	    "until", (json_int_t)until);
}

static int
fetch(const char *dir, const char *rid)
{
	struct cv_session *s = test_login(dir, "andi", TEST_PASS_STAFF);
	json_t *out = NULL;
	int r = cv_request_fetch(s, rid, &out);

	json_decref(out);
	cv_session_close(s);
	return r;
}

static void
consent_and_request_in_force(void **state)
{
	struct fx *f = *state;

	plant(f->dir, f->cid, CV_CD_CONSENT, "K0000000001",
	    consent("K0000000001", "2026-01-01", "2999-01-01"));
	plant(f->dir, f->cid, CV_CD_REQUEST, "R0000000001",
	    request("R0000000001", 3, cv_now_ms() + 3600000));
	/* The control: both in force, the fetch works. */
	assert_int_equal(fetch(f->dir, "R0000000001"), 0);
}

static void
expired_consent_refused(void **state)
{
	struct fx *f = *state;

	plant(f->dir, f->cid, CV_CD_CONSENT, "K0000000001",
	    consent("K0000000001", "2020-01-01", "2020-06-01"));
	plant(f->dir, f->cid, CV_CD_REQUEST, "R0000000001",
	    request("R0000000001", 3, cv_now_ms() + 3600000));
	assert_int_equal(fetch(f->dir, "R0000000001"), CV_EDENIED);
}

static void
expired_request_refused(void **state)
{
	struct fx *f = *state;

	plant(f->dir, f->cid, CV_CD_CONSENT, "K0000000001",
	    consent("K0000000001", "2026-01-01", "2999-01-01"));
	plant(f->dir, f->cid, CV_CD_REQUEST, "R0000000001",
	    request("R0000000001", 3, cv_now_ms() - 1000));
	assert_int_equal(fetch(f->dir, "R0000000001"), CV_EDENIED);
}

static void
closed_window_refused(void **state)
{
	struct fx *f = *state;
	struct cv_session *s;
	uint64_t now = cv_now_ms();
	json_t *out = NULL;

	/* dewi (u5) had a window on the case; it closed a minute ago. */
	plant(f->dir, f->cid, CV_CD_BREAKGLASS, "B0000000001",
	    json_pack("{s:s, s:I, s:I, s:I, s:s, s:b}", "id", "B0000000001",
	    "user", (json_int_t)5, "opened", (json_int_t)(now - 3600000),
	    "until", (json_int_t)(now - 60000), "reason", "a test window",
	    "reviewed", 0));
	s = test_login(f->dir, "dewi", TEST_PASS_STAFF);
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out),
	    CV_EDENIED);
	cv_session_close(s);
	/* Opened now, it allows; the same read is then flagged. */
	s = test_login(f->dir, "dewi", TEST_PASS_STAFF);
	{
		char id[CV_OBJECT_ID_LEN + 1];
		assert_int_equal(cv_breakglass_open(s, f->cid, "hotline call "
		    "at night", 5, id), 0);
	}
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out), 0);
	assert_true(json_is_true(json_object_get(out, "breakglass")));
	json_decref(out);
	cv_session_close(s);
}

static json_t *
guardian_grant(const char *relationship, int assent)
{
	return json_pack("{s:{s:s}, s:[s], s:s, s:s, s:{s:s, s:s}, s:b, s:s}",
	    "recipient", "role", "legal_aid", "classes", "incident", "purpose",
	    "legal_proceeding", "grantor", "guardian", "guardian", "name",
	    "Ibu Wali Fiksi", "relationship", relationship, "assent", assent,
	    "form_ref", "F-2");
}

static void
child_consent_rules(void **state)
{
	struct fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *g, *list;
	char id[CV_OBJECT_ID_LEN + 1];

	/* The survivor herself cannot grant on a child's case. */
	g = json_pack("{s:{s:s}, s:[s], s:s, s:s, s:s}", "recipient", "role",
	    "legal_aid", "classes", "incident", "purpose", "legal_proceeding",
	    "grantor", "survivor", "form_ref", "F-2");
	assert_int_equal(cv_consent_grant(s, f->child, g, id),
	    CV_EINVAL);
	json_decref(g);
	/* A guardian recorded as the alleged perpetrator (the recruiter). */
	g = guardian_grant("recruiter", 1);
	assert_int_equal(cv_consent_grant(s, f->child, g, id),
	    CV_EINVAL);
	assert_non_null(strstr(cv_error_detail(), "perpetrator"));
	json_decref(g);
	/* Without the child's assent. */
	g = guardian_grant("mother", 0);
	assert_int_equal(cv_consent_grant(s, f->child, g, id),
	    CV_EINVAL);
	json_decref(g);
	/* Nothing was stored by the refusals. */
	assert_int_equal(cv_consent_list(s, f->child, &list), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	/* A guardian who is not the perpetrator, with assent. */
	g = guardian_grant("mother", 1);
	if (cv_consent_grant(s, f->child, g, id) != 0)
		fail_msg("refused: %s", cv_error_detail());
	json_decref(g);
	assert_int_equal(cv_consent_list(s, f->child, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	/* The guardian's name is not in the list. */
	assert_null(json_object_get(json_object_get(json_array_get(list, 0),
	    "guardian"), "name"));
	json_decref(list);
	cv_session_close(s);
}

static void
counseling_note_needs_named_consent(void **state)
{
	struct fx *f = *state;
	struct cv_session *s;
	char rid[CV_OBJECT_ID_LEN + 1];
	json_t *note = test_fixture("note_valid.json"), *out = NULL;
	json_t *classes = json_pack("[s]", "counseling_note");
	uint32_t nid;

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_record_add(s, f->cid, "note", note, &nid), 0);
	cv_session_close(s);
	json_decref(note);
	/* Consent and request for incident only: the note stays closed. */
	plant(f->dir, f->cid, CV_CD_CONSENT, "K0000000001",
	    consent("K0000000001", "2026-01-01", "2999-01-01"));
	s = test_login(f->dir, "andi", TEST_PASS_STAFF);
	assert_int_equal(cv_request_create(s, f->cid, classes,
	    "legal_proceeding", rid), 0);
	cv_session_close(s);
	json_decref(classes);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_request_approve(s, rid, 1), CV_ESTATE);
	cv_session_close(s);
	s = test_login(f->dir, "andi", TEST_PASS_STAFF);
	assert_int_equal(cv_request_fetch(s, rid, &out), CV_EDENIED);
	assert_null(out);
	cv_session_close(s);
}

/* Count the events of LOG that are flagged break-glass accesses. */
static size_t
flagged(const json_t *log)
{
	const json_t *ev;
	const char *a;
	size_t i, n = 0;

	json_array_foreach (log, i, ev) {
		a = json_string_value(json_object_get(ev, "action"));
		if (json_object_get(ev, "breakglass") != NULL ||
		    (a != NULL && strncmp(a, "breakglass.", 11) == 0))
			n++;
	}
	return n;
}

/*
 * The mode of cv_user_add, cv_breakglass_list and cv_audit_log is a flag
 * word: each flag does what it says, and an unknown bit is refused.
 */
static void
flag_words(void **state)
{
	struct fx *f = *state;
	struct cv_session *s;
	json_t *out = NULL, *u;
	char id[CV_OBJECT_ID_LEN + 1];
	size_t i, all;

	test_user(f->dir, "inspektur", "auditor", 0);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_add(s, "baru", "counselor", 0x2,
	    TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)), CV_EINVAL);
	assert_int_equal(cv_user_list(s, &out), 0);
	assert_int_equal(json_array_size(out), 6); /* no "baru" */
	json_array_foreach (out, i, u) {
		const char *name = json_string_value(json_object_get(u, "name"));
		assert_int_equal(json_is_true(json_object_get(u, "trained")),
		    strcmp(name, "siti") == 0);
	}
	json_decref(out);
	cv_session_close(s);

	/* A window, opened and used, then reviewed. */
	s = test_login(f->dir, "dewi", TEST_PASS_STAFF);
	assert_int_equal(cv_breakglass_open(s, f->cid, "hotline call at night",
	    5, id), 0);
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out), 0);
	json_decref(out);
	cv_session_close(s);
	/* Reviewed once the five minutes are over. */
	cv_clock_set_offset_ms(6 * 60 * 1000);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	out = NULL;
	assert_int_equal(cv_breakglass_list(s, 0x2, &out), CV_EINVAL);
	assert_null(out);
	assert_int_equal(cv_breakglass_list(s, 0, &out), 0);
	assert_int_equal(json_array_size(out), 1);
	json_decref(out);
	assert_int_equal(cv_breakglass_review(s, id), 0);
	assert_int_equal(cv_breakglass_list(s, 0, &out), 0);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
	assert_int_equal(cv_breakglass_list(s, CV_BREAKGLASS_ALL, &out), 0);
	assert_int_equal(json_array_size(out), 1);
	assert_true(json_is_true(
	    json_object_get(json_array_get(out, 0), "reviewed")));
	json_decref(out);
	cv_session_close(s);

	/* The trail: everything, or the break-glass accesses alone. */
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	out = NULL;
	assert_int_equal(cv_audit_log(s, NULL, NULL, 0, 0x2, &out), CV_EINVAL);
	assert_null(out);
	assert_int_equal(cv_audit_log(s, NULL, NULL, 0, 0, &out), 0);
	all = json_array_size(out);
	assert_true(flagged(out) >= 3); /* open, the read, the review */
	assert_true(flagged(out) < all);
	json_decref(out);
	assert_int_equal(
	    cv_audit_log(s, NULL, NULL, 0, CV_AUDIT_BREAKGLASS, &out), 0);
	assert_int_equal(json_array_size(out), flagged(out));
	assert_true(json_array_size(out) >= 3);
	json_decref(out);
	cv_session_close(s);
	cv_clock_set_offset_ms(0);
}

/* A denied request is decided: it can be neither decided again nor used. */
static void
denied_request_is_final(void **state)
{
	struct fx *f = *state;
	struct cv_session *s;
	json_t *classes = json_pack("[s]", "incident"), *out = NULL;
	char rid[CV_OBJECT_ID_LEN + 1];

	plant(f->dir, f->cid, CV_CD_CONSENT, "K0000000001",
	    consent("K0000000001", "2026-01-01", "2999-01-01"));
	s = test_login(f->dir, "andi", TEST_PASS_STAFF);
	assert_int_equal(cv_request_create(s, f->cid, classes,
	    "legal_proceeding", rid), 0);
	cv_session_close(s);
	json_decref(classes);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_request_approve(s, rid, CV_REQUEST_HOURS_MAX + 1),
	    CV_EINVAL);
	assert_int_equal(cv_request_deny(s, rid), 0);
	assert_int_equal(cv_request_deny(s, rid), CV_ESTATE);
	assert_int_equal(cv_request_approve(s, rid, 0), CV_ESTATE);
	assert_int_equal(cv_request_deny(s, "R0000000000"), CV_ENOTFOUND);
	cv_session_close(s);
	s = test_login(f->dir, "andi", TEST_PASS_STAFF);
	assert_int_equal(cv_request_fetch(s, rid, &out), CV_EDENIED);
	assert_null(out);
	cv_session_close(s);
}

/*
 * A list of classes is a JSON array of names, for a request as for a
 * disclosure; anything else is refused before anything is stored.
 */
static void
class_lists_are_arrays(void **state)
{
	struct fx *f = *state;
	struct cv_session *s = test_login(f->dir, "andi", TEST_PASS_STAFF);
	json_t *bad[6], *good, *list, *out = NULL;
	char rid[CV_OBJECT_ID_LEN + 1];
	size_t i;

	bad[0] = json_string("incident,legal"); /* the old comma string */
	bad[1] = json_array();
	bad[2] = json_pack("[s, s]", "incident", "horoscope");
	bad[3] = json_pack("[s, i]", "incident", 3);
	bad[4] = json_pack("[s#]", "incident\0x", (int)10);
	bad[5] = json_pack("[s]", "");
	for (i = 0; i < 6; i++) {
		assert_int_equal(cv_request_create(s, f->cid, bad[i],
		    "legal_proceeding", rid), CV_EINVAL);
		assert_string_equal(rid, "");
	}
	assert_int_equal(cv_request_create(s, f->cid, NULL,
	    "legal_proceeding", rid), CV_EINVAL);
	assert_int_equal(cv_request_list(s, &list), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	/* The same classes in an array are taken, in class order. */
	good = json_pack("[s, s, s]", "legal", "incident", "legal");
	assert_int_equal(cv_request_create(s, f->cid, good,
	    "legal_proceeding", rid), 0);
	json_decref(good);
	assert_int_equal(cv_request_list(s, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	good = json_pack("[s, s]", "incident", "legal");
	assert_true(json_equal(
	    json_object_get(json_array_get(list, 0), "classes"), good));
	json_decref(good);
	json_decref(list);
	cv_session_close(s);
	/* A disclosure takes the same shape. */
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	for (i = 0; i < 6; i++) {
		assert_int_equal(cv_case_disclose(s, f->cid, bad[i],
		    "court_order", "court", NULL, &out), CV_EINVAL);
		assert_null(out);
	}
	cv_session_close(s);
	for (i = 0; i < 6; i++)
		json_decref(bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(consent_and_request_in_force,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(expired_consent_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(expired_request_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(closed_window_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(child_consent_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    counseling_note_needs_named_consent, setup, teardown),
		cmocka_unit_test_setup_teardown(class_lists_are_arrays, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(denied_request_is_final, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(flag_words, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
