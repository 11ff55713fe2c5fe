#define _GNU_SOURCE
/*
 * Accounts and the failed-login queue against an insider who can write the
 * store's files but knows no passphrase: every edit below is made with the
 * raw store API, as an LMDB editor would, and must be refused at login,
 * reported by audit verify, or both; and nothing written into the queue may
 * enter the trail as anything but a failed login or a report of tampering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "store/store.h"
#include "base/util.h"

#include "helpers.h"
#include "helpers.c.inc"

static const struct test_staff staff[] = {
	{"siti", "counselor", 1},
	{"rina", "legal_aid", 0},
	{"inspektur", "auditor", 0},
	{"kepala", "supervisor", 0},
};

/* A vault with a trained counselor who opened a case, a legal-aid account,
 * an auditor and a supervisor. */
static int
setup(void **state)
{
	return test_fx_setup(state, staff, TEST_COUNT(staff));
}

/* 1 if the auditor's verify reports account UID (0: any) as KIND. */
static int
verify_reports(const char *dir, uint32_t uid, const char *kind)
{
	struct cv_session *a = test_login(dir, "inspektur", TEST_PASS_STAFF);
	json_t *out = NULL, *t;
	size_t i;
	int r, found = 0;

	r = cv_audit_verify(a, NULL, NULL, &out);
	cv_session_close(a);
	assert_non_null(out);
	json_array_foreach(json_object_get(out, "tampered"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "kind")),
		        kind) == 0 &&
		    (uid == 0 ||
		        json_integer_value(json_object_get(t, "uid")) ==
		            (json_int_t)uid))
			found = 1;
	}
	/* A report is a failed verification, and only then. */
	assert_int_equal(r, found ? CV_EVERIFY : r);
	assert_int_equal(json_is_true(json_object_get(out, "ok")), r == 0);
	json_decref(out);
	return found;
}

/*
 * The events of the trail whose FIELD is VALUE (NULL: any), as the
 * auditor's log shows them. Returns how many.
 */
static size_t
trail_count(const char *dir, const char *field, const char *value,
    const char *field2, const char *value2)
{
	struct cv_session *a = test_login(dir, "inspektur", TEST_PASS_STAFF);
	json_t *log = NULL, *ev;
	const char *v;
	size_t i, n = 0;

	assert_int_equal(cv_audit_log(a, NULL, NULL, 0, 0, &log), 0);
	cv_session_close(a);
	json_array_foreach(log, i, ev) {
		v = json_string_value(json_object_get(ev, field));
		if (v == NULL || strcmp(v, value) != 0)
			continue;
		v = field2 != NULL ? json_string_value(json_object_get(ev, field2))
		                   : NULL;
		if (field2 == NULL || (v != NULL && strcmp(v, value2) == 0))
			n++;
	}
	json_decref(log);
	return n;
}

static void
role_edit_refused(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	uint32_t rina = test_account_id(f->dir, "rina");

	/* The positive control: untouched, all is well. */
	assert_int_equal(test_try_login(f->dir, "rina", TEST_PASS_STAFF), 0);
	assert_false(verify_reports(f->dir, 0, "account_edited"));

	test_account_edit(f->dir, "rina", "role", json_string("supervisor"));
	assert_int_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), CV_ECRYPTO);
	/* The refusal is signed into the trail, by kind and not by role. */
	assert_int_equal(trail_count(f->dir, "rule", "account-edited", "kind",
	                     "account_edited"),
	    1);
	assert_true(verify_reports(f->dir, rina, "account_edited"));

	/* Nor does the edited account join a case's team. */
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_assign(s, f->cid, "rina"), CV_ECRYPTO);
	assert_int_equal(cv_case_assign(s, f->cid, "siti"), CV_EEXIST);
	cv_session_close(s);
}

static void
disabled_flag_cleared_refused(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	uint8_t slot[512];
	size_t n;
	uint32_t rina = test_account_id(f->dir, "rina");

	/* The slot as it was before the disable, kept by the insider. */
	n = test_raw_get(f->dir, CV_DB_SLOTS, "rina", 4, slot, sizeof(slot));
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_disable(s, "rina"), 0);
	cv_session_close(s);
	assert_int_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), CV_EDISABLED);

	/* The flag alone: no slot, so refused, and now reported. */
	test_account_edit(f->dir, "rina", "disabled", json_false());
	assert_int_not_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), 0);
	assert_true(verify_reports(f->dir, rina, "account_edited"));

	/* The flag and the old slot put back: the passphrase opens it. */
	test_raw_put(f->dir, CV_DB_SLOTS, "rina", 4, slot, n);
	assert_int_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), CV_ECRYPTO);
	assert_true(verify_reports(f->dir, rina, "account_edited"));
}

static void
trained_flag_edited_refused(void **state)
{
	struct test_fx *f = *state;
	uint32_t rina = test_account_id(f->dir, "rina");

	test_account_edit(f->dir, "rina", "trained", json_true());
	assert_int_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), CV_ECRYPTO);
	assert_true(verify_reports(f->dir, rina, "account_edited"));
}

static void
slot_copied_refused(void **state)
{
	struct test_fx *f = *state;
	uint8_t slot[512];
	size_t n;
	uint32_t rina = test_account_id(f->dir, "rina");

	n = test_raw_get(f->dir, CV_DB_SLOTS, "siti", 4, slot, sizeof(slot));
	test_raw_put(f->dir, CV_DB_SLOTS, "rina", 4, slot, n);
	assert_int_not_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), 0);
	assert_true(verify_reports(f->dir, rina, "account_edited"));
	/* The account the slot came from is untouched. */
	assert_false(verify_reports(
	    f->dir, test_account_id(f->dir, "siti"), "account_edited"));
}

/*
 * The row and slot of an account as they were, both once written by
 * casevault, put back together after a disable: each still matches its
 * MAC, but the trail says the account was written since.
 */
static void
older_row_and_slot_reported(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	uint8_t row[4096], slot[512];
	size_t rn, sn;
	uint32_t rina = test_account_id(f->dir, "rina");

	rn = test_raw_get(f->dir, CV_DB_USERS, "rina", 4, row, sizeof(row));
	sn = test_raw_get(f->dir, CV_DB_SLOTS, "rina", 4, slot, sizeof(slot));
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_disable(s, "rina"), 0);
	cv_session_close(s);
	assert_int_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), CV_EDISABLED);
	/* The positive control: the disable itself is bound. */
	assert_false(verify_reports(f->dir, 0, "replayed"));

	test_raw_put(f->dir, CV_DB_USERS, "rina", 4, row, rn);
	test_raw_put(f->dir, CV_DB_SLOTS, "rina", 4, slot, sn);
	assert_true(verify_reports(f->dir, rina, "replayed"));
	/* Named by id, and nothing else is. */
	assert_false(verify_reports(f->dir, rina, "account_edited"));
	assert_false(verify_reports(
	    f->dir, test_account_id(f->dir, "siti"), "replayed"));
}

/* The same for a passphrase change: the old passphrase's slot and row. */
static void
older_passphrase_reported(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	uint8_t row[4096], slot[512];
	size_t rn, sn;
	uint32_t rina = test_account_id(f->dir, "rina");

	rn = test_raw_get(f->dir, CV_DB_USERS, "rina", 4, row, sizeof(row));
	sn = test_raw_get(f->dir, CV_DB_SLOTS, "rina", 4, slot, sizeof(slot));
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_passwd(s, "rina", "another passphrase 42",
	                     strlen("another passphrase 42")),
	    0);
	cv_session_close(s);
	assert_false(verify_reports(f->dir, 0, "replayed"));

	test_raw_put(f->dir, CV_DB_USERS, "rina", 4, row, rn);
	test_raw_put(f->dir, CV_DB_SLOTS, "rina", 4, slot, sn);
	assert_true(verify_reports(f->dir, rina, "replayed"));
}

static void
forged_queue_entry_never_a_read(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	char text[512];
	char p[CV_PSEUDONYM_LEN + 1];
	uint32_t siti = test_account_id(f->dir, "siti");

	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_pseudonym(s, f->cid, p), 0);
	cv_session_close(s);
	/* A fake read of the case's notes, in the shape of an event. */
	snprintf(text, sizeof(text),
	    "{\"action\":\"record.show\",\"actor\":\"u%u\",\"case\":\"%s\","
	    "\"classes\":[\"notes\"],\"decision\":\"allow\",\"outcome\":"
	    "\"success\",\"role\":\"counselor\",\"user\":\"siti\","
	    "\"reason\":\"wrong-passphrase\",\"observed\":1}",
	    (unsigned)siti, p);
	test_queue_forge(f->dir, text);
	/* A well-formed failure with one more field is no better. */
	test_queue_forge(f->dir,
	    "{\"observed\":1,\"reason\":\"backoff\","
	    "\"user\":\"siti\",\"action\":\"record.show\"}");
	/* A failure of an account that does not exist. */
	test_queue_forge(f->dir,
	    "{\"observed\":1,\"reason\":\"backoff\","
	    "\"user\":\"nobody\"}");
	/* A well-formed failure enters the trail as one. */
	test_queue_forge(f->dir,
	    "{\"observed\":1,\"reason\":\"backoff\","
	    "\"user\":\"siti\"}");

	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	cv_session_close(s);
	assert_int_equal(trail_count(f->dir, "action", "record.show", "case", p),
	    0);
	assert_int_equal(trail_count(f->dir, "action", "session.tampered",
	                     "kind", "queue_entry"),
	    3);
	assert_int_equal(
	    trail_count(f->dir, "action", "session.open", "rule", "backoff"), 1);
	/* Nothing of the forged text was copied. */
	assert_int_equal(trail_count(f->dir, "outcome", "success", "classes",
	                     "notes"),
	    0);
}

static void
deleted_queue_reported(void **state)
{
	struct test_fx *f = *state;
	uint64_t next;
	uint8_t k[8];

	assert_int_equal(
	    test_try_login(f->dir, "siti", "wrong-passphrase"), CV_EAUTH);
	assert_int_equal(
	    test_try_login(f->dir, "siti", "wrong-passphrase"), CV_EAUTH);
	next = test_queue_next(f->dir);
	cv_put_be64(k, next - 1);
	test_raw_put(f->dir, CV_DB_PENDING, k, 8, NULL, 0);
	cv_put_be64(k, next);
	test_raw_put(f->dir, CV_DB_PENDING, k, 8, NULL, 0);

	assert_int_equal(test_try_login(f->dir, "admin", TEST_PASS_ADMIN), 0);
	assert_int_equal(trail_count(f->dir, "action", "session.tampered",
	                     "kind", "queue_gap"),
	    1);

	/* The counter wound back below what was flushed. */
	cv_put_be64(k, next - 1);
	test_raw_put(f->dir, CV_DB_META, "pending_next", 12, k, 8);
	assert_int_equal(test_try_login(f->dir, "admin", TEST_PASS_ADMIN), 0);
	assert_int_equal(trail_count(f->dir, "action", "session.tampered",
	                     "kind", "queue_rewound"),
	    1);
}

static void
failure_counter_reset_reported(void **state)
{
	struct test_fx *f = *state;
	uint32_t siti = test_account_id(f->dir, "siti");
	int i;

	for (i = 0; i < 3; i++)
		assert_int_equal(
		    test_try_login(f->dir, "siti", "wrong-passphrase"),
		    CV_EAUTH);
	/* Another login signs the three failures into the trail. */
	assert_int_equal(test_try_login(f->dir, "admin", TEST_PASS_ADMIN), 0);
	assert_false(verify_reports(f->dir, siti, "failures_reset"));

	test_account_edit(f->dir, "siti", "failures", json_integer(0));
	assert_true(verify_reports(f->dir, siti, "failures_reset"));
	/* The back-off still holds: the signed count cannot be lowered. */
	assert_int_equal(
	    test_try_login(f->dir, "siti", "wrong-passphrase"), CV_ELOCKED);
}

/*
 * A passphrase change settles the failures already signed, and keeps those
 * still queued: no failure count is left below what their flush signs.
 */
static void
passwd_keeps_queued_failures(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	uint32_t siti = test_account_id(f->dir, "siti");
	json_t *row;

	assert_int_equal(
	    test_try_login(f->dir, "siti", "wrong-passphrase"), CV_EAUTH);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	/* Queued after this session flushed the queue. */
	assert_int_equal(
	    test_try_login(f->dir, "siti", "wrong-passphrase"), CV_EAUTH);
	assert_int_equal(cv_user_passwd(s, "siti", "new-passphrase-12",
	                     strlen("new-passphrase-12")),
	    0);
	cv_session_close(s);
	row = test_account_row(f->dir, "siti");
	assert_int_equal(json_integer_value(json_object_get(row, "failures")), 1);
	json_decref(row);
	assert_int_equal(test_try_login(f->dir, "admin", TEST_PASS_ADMIN), 0);
	assert_false(verify_reports(f->dir, siti, "failures_reset"));
	assert_int_equal(
	    test_try_login(f->dir, "siti", "new-passphrase-12"), 0);
	assert_int_equal(trail_count(f->dir, "action", "session.tampered",
	                     NULL, NULL),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(role_edit_refused, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(disabled_flag_cleared_refused,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(trained_flag_edited_refused,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(slot_copied_refused, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    older_row_and_slot_reported, setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    older_passphrase_reported, setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    forged_queue_entry_never_a_read, setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(deleted_queue_reported, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    failure_counter_reset_reported, setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    passwd_keeps_queued_failures, setup, test_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
