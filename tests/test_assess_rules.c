#define _GNU_SOURCE
/*
 * Who writes an assessment, and how: only `assess` stores one, scored by
 * the instrument, so a total typed by hand (record add) or rewritten by
 * hand (record amend) is refused; and a psychologist on the case team
 * does the duties of the role table: scores HAM-D, HAM-A and MMSE and
 * records the psychological examination step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "base/util.h"
#include "model/session.h"

#include "helpers.h"
#include "helpers.c.inc"

/* HAM-D-17 scoring 15, "moderate" (docs/assessments.md). */
#define HAMD_15 "[2,1,0,1,1,0,2,1,0,2,1,1,1,0,1,0,1]"

/* siti (counselor) opened the case; psi (psychologist) is on its team. */
static int
setup(void **state)
{
	struct test_fx *f;
	struct cv_session *s;

	test_fx_setup(state, test_staff_team, TEST_COUNT(test_staff_team));
	f = *state;
	test_user(f->dir, "psi", "psychologist", 1);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_assign(s, f->cid, "psi"), 0);
	cv_session_close(s);
	return 0;
}

static json_t *
answers(const char *items)
{
	char buf[256];
	json_t *j;

	snprintf(buf, sizeof(buf), "{\"items\": %s}", items);
	assert_non_null(j = json_loads(buf, 0, NULL));
	return j;
}

static size_t
records(const struct test_fx *f)
{
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *show;
	size_t n;

	assert_int_equal(cv_case_show(s, f->cid, &show), 0);
	n = json_array_size(json_object_get(show, "records"));
	json_decref(show);
	cv_session_close(s);
	return n;
}

/* A HAM-D total of 99 with a band made up: not through record add. */
static void
hand_written_assessment_refused(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	size_t before = records(f);
	char day[11];
	json_t *forged;
	uint32_t id = 0;

	cv_format_date(cv_now_ms(), day);
	forged = json_pack("{s:s, s:i, s:[i,i], s:i, s:s, s:s}", "instrument",
	    "hamd", "version", 1, "items", 50, 49, "total", 99, "severity",
	    "very severe", "date", day);
	assert_int_not_equal(
	    cv_record_add(s, f->cid, "assessment", forged, &id), 0);
	assert_int_equal(id, 0);
	assert_non_null(strstr(cv_error_detail(), "assess"));
	json_decref(forged);
	cv_session_close(s);
	assert_int_equal(records(f), before);
}

/* A real 15 (moderate) rewritten to 0 (normal): not through amend. */
static void
hand_amended_assessment_refused(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *a = answers(HAMD_15), *res = NULL, *forged, *shown = NULL;
	uint32_t id, version = 0;

	assert_int_equal(cv_assessment_add(s, f->cid, "hamd", a, &res, &id), 0);
	forged = json_deep_copy(res);
	json_object_set_new(forged, "total", json_integer(0));
	json_object_set_new(forged, "severity", json_string("normal"));
	assert_int_not_equal(
	    cv_record_amend(s, f->cid, id, forged, &version), 0);
	assert_int_equal(version, 0);
	assert_non_null(strstr(cv_error_detail(), "assess"));
	/* The stored result is still the scored one. */
	assert_int_equal(cv_record_show(s, f->cid, id, 0, NULL, &shown), 0);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(shown, "data"), "total")),
	    15);
	assert_int_equal(
	    json_integer_value(json_object_get(shown, "version")), 1);
	json_decref(shown);
	json_decref(forged);
	json_decref(res);
	json_decref(a);
	cv_session_close(s);
}

/* A wrong assessment is corrected by scoring the answers again. */
static void
assessment_rescored_as_next_version(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "psi", TEST_PASS_STAFF);
	json_t *a = answers(HAMD_15), *res = NULL, *shown = NULL;
	uint32_t id, version = 0;

	assert_int_equal(cv_assessment_add(s, f->cid, "hamd", a, &res, &id), 0);
	json_decref(res);
	json_decref(a);
	/* Item 1 was 2, should have been 0: 13, "mild". */
	a = answers("[0,1,0,1,1,0,2,1,0,2,1,1,1,0,1,0,1]");
	if (cv_assessment_amend(s, f->cid, id, "hamd", a, &res, &version) != 0)
		fail_msg("refused: %s", cv_error_detail());
	assert_int_equal(version, 2);
	assert_int_equal(json_integer_value(json_object_get(res, "total")), 13);
	assert_string_equal(
	    json_string_value(json_object_get(res, "severity")), "mild");
	assert_int_equal(cv_record_show(s, f->cid, id, 0, NULL, &shown), 0);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(shown, "data"), "total")),
	    13);
	json_decref(shown);
	json_decref(res);
	/* Bad answers change nothing; nor is another record an assessment. */
	json_decref(a);
	a = answers("[9]");
	assert_int_equal(
	    cv_assessment_amend(s, f->cid, id, "hamd", a, &res, &version),
	    CV_ESCHEMA);
	assert_null(res);
	json_decref(a);
	a = answers(HAMD_15);
	assert_int_equal(
	    cv_assessment_amend(s, f->cid, 1, "hamd", a, &res, &version),
	    CV_EINVAL);
	assert_null(res);
	assert_int_equal(version, 0);
	json_decref(a);
	cv_session_close(s);
}

/* The psychologist scores INSTRUMENT with ITEMS; the stored total. */
static void
psychologist_scores(const struct test_fx *f, const char *instrument,
    const char *items, json_int_t total)
{
	struct cv_session *s = test_login(f->dir, "psi", TEST_PASS_STAFF);
	json_t *a = answers(items), *res = NULL, *shown = NULL;
	uint32_t id = 0;

	if (cv_assessment_add(s, f->cid, instrument, a, &res, &id) != 0)
		fail_msg("%s refused: %s", instrument, cv_error_detail());
	assert_int_equal(
	    json_integer_value(json_object_get(res, "total")), total);
	/* Stored, with its date, and readable by the psychologist. */
	assert_int_equal(cv_record_show(s, f->cid, id, 0, NULL, &shown), 0);
	assert_non_null(
	    json_object_get(json_object_get(shown, "data"), "date"));
	json_decref(shown);
	json_decref(res);
	json_decref(a);
	cv_session_close(s);
}

static void
psychologist_scores_hamd(void **state)
{
	psychologist_scores(*state, "hamd", HAMD_15, 15);
}

static void
psychologist_scores_hama(void **state)
{
	psychologist_scores(
	    *state, "hama", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1]", 14);
}

static void
psychologist_scores_mmse(void **state)
{
	psychologist_scores(*state, "mmse", "[5,5,3,5,3,2,1,3,1,1,1]", 30);
}

/* The psychological examination is a step of the service flow. */
static void
psychologist_records_examination_step(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *show;

	/* The counsellor records the referral; the flow starts there. */
	assert_int_equal(cv_case_step(s, f->cid, "referral_received", NULL), 0);
	cv_session_close(s);
	s = test_login(f->dir, "psi", TEST_PASS_STAFF);
	if (cv_case_step(s, f->cid, "initial_counselling", NULL) != 0)
		fail_msg("refused: %s", cv_error_detail());
	assert_int_equal(cv_case_show(s, f->cid, &show), 0);
	assert_string_equal(json_string_value(json_object_get(show, "step")),
	    "initial_counselling");
	json_decref(show);
	cv_session_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        hand_written_assessment_refused, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        hand_amended_assessment_refused, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        assessment_rescored_as_next_version, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        psychologist_scores_hamd, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        psychologist_scores_hama, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        psychologist_scores_mmse, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        psychologist_records_examination_step, setup, test_fx_teardown),
	};

	if (cv_library_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
