#define _GNU_SOURCE
/*
 * What a record write refuses before it is audited: an amendment that
 * changes nothing, and a second intake on a case. Each refusal leaves the
 * record as it was, with no new version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "casevault.h"

#include "helpers.h"
#include "helpers.c.inc"

/* siti (trained counselor) opened a case with an intake (record 1). */
static int
setup(void **state)
{
	return test_fx_setup(
	    state, test_staff_team, TEST_COUNT(test_staff_team));
}

static size_t
versions(struct cv_session *s, const char *cid, uint32_t record)
{
	json_t *h = NULL;
	size_t n;

	assert_int_equal(cv_record_history(s, cid, record, &h), 0);
	n = json_array_size(h);
	json_decref(h);
	return n;
}

/* The same content again is "no change", and makes no version; one field
 * changed makes version 2. */
static void
test_amend_no_change(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *in = test_fixture("intake_valid.json");
	uint32_t v = 0;

	assert_int_equal(versions(s, f->cid, 1), 1);
	assert_int_equal(cv_record_amend(s, f->cid, 1, in, &v), CV_EINVAL);
	assert_int_equal(v, 0);
	assert_non_null(strstr(cv_error_detail(), "no change"));
	assert_int_equal(versions(s, f->cid, 1), 1);

	json_object_set_new(json_object_get(in, "referral"), "date",
	    json_string("2025-05-21"));
	assert_int_equal(cv_record_amend(s, f->cid, 1, in, &v), 0);
	assert_int_equal(v, 2);
	/* ... and the same again is no change against version 2. */
	assert_int_equal(cv_record_amend(s, f->cid, 1, in, &v), CV_EINVAL);
	assert_int_equal(versions(s, f->cid, 1), 2);
	json_decref(in);
	cv_session_close(s);
}

/* One intake per case: a second is refused, with nothing written. */
static void
test_second_intake(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *in = test_fixture("intake_valid.json"), *list = NULL;
	uint32_t id = 0;

	assert_int_equal(cv_record_add(s, f->cid, "intake", in, &id), CV_EEXIST);
	assert_int_equal(id, 0);
	assert_non_null(strstr(cv_error_detail(), "amend"));
	assert_int_equal(cv_record_list(s, f->cid, NULL, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	json_decref(in);
	cv_session_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_amend_no_change, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_second_intake, setup, test_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
