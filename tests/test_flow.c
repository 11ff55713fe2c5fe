/*
 * The service flow as shipped in forms/flow.json: the full path, every
 * skipped required step, the optional safe house, repeated rounds, and the
 * early-close rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "casevault.h"
#include "base/util.h"
#include "rules/flow.h"

static const char *const path[] = {
    "referral_received",
    "initial_counselling",
    "schedule_agreed",
    "family_tracing",
    "safe_house",
    "further_counselling",
    "interventions",
    "followup_recommendation",
    "closed",
};

static int
setup(void **state)
{
	struct cv_flow *f = NULL;
	char err[200];
	size_t len;
	char *buf;

	if (cv_read_file("forms/flow.json", CV_FLOW_TEXT_MAX, &buf, &len) != 0)
		return -1;
	if (cv_flow_load(buf, len, &f, err, sizeof(err)) != 0) {
		free(buf);
		return -1;
	}
	free(buf);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	cv_flow_free(*state);
	return 0;
}

static void
refused(const struct cv_flow *f, const char *from, const char *to,
        const char *reason, const char *want)
{
	char why[200];

	assert_int_equal(cv_flow_check(f, from, to, reason, why, sizeof(why)),
	                 CV_ESTATE);
	assert_string_equal(why, want);
}

static void
test_full_path(void **state)
{
	struct cv_flow *f = *state;
	char why[200];
	size_t i;

	assert_string_equal(cv_flow_first(f), "referral_received");
	assert_int_equal(
	    cv_flow_check(f, NULL, path[0], NULL, why, sizeof(why)), 0);
	for (i = 1; i < CV_ARRAY_LEN(path); i++)
		assert_int_equal(cv_flow_check(f, path[i - 1], path[i], NULL,
		                               why, sizeof(why)),
		                 0);
}

static void
test_new_case(void **state)
{
	struct cv_flow *f = *state;

	refused(f, NULL, "initial_counselling", NULL,
	        "a new case starts at referral_received");
	refused(f, NULL, "closed", "withdrew",
	        "a new case starts at referral_received");
}

static void
test_skips_refused(void **state)
{
	struct cv_flow *f = *state;

	refused(f, "referral_received", "schedule_agreed", NULL,
	        "cannot move from referral_received to schedule_agreed: "
	        "initial_counselling must come first");
	refused(f, "initial_counselling", "family_tracing", NULL,
	        "cannot move from initial_counselling to family_tracing: "
	        "schedule_agreed must come first");
	refused(f, "schedule_agreed", "safe_house", NULL,
	        "cannot move from schedule_agreed to safe_house: "
	        "family_tracing must come first");
	refused(f, "family_tracing", "interventions", NULL,
	        "cannot move from family_tracing to interventions: "
	        "further_counselling must come first");
	refused(f, "safe_house", "interventions", NULL,
	        "cannot move from safe_house to interventions: "
	        "further_counselling must come first");
	refused(f, "further_counselling", "followup_recommendation", NULL,
	        "cannot move from further_counselling to "
	        "followup_recommendation: interventions must come first");
	/* The reason names the first required step skipped. */
	refused(f, "referral_received", "interventions", NULL,
	        "cannot move from referral_received to interventions: "
	        "initial_counselling must come first");
}

static void
test_safe_house_optional(void **state)
{
	struct cv_flow *f = *state;

	assert_int_equal(cv_flow_check(f, "family_tracing",
	                               "further_counselling", NULL, NULL, 0),
	                 0);
	assert_int_equal(
	    cv_flow_check(f, "family_tracing", "safe_house", NULL, NULL, 0), 0);
}

static void
test_repeat_and_back(void **state)
{
	struct cv_flow *f = *state;

	/* Another round of counselling, of interventions, of shelter. */
	assert_int_equal(cv_flow_check(f, "further_counselling",
	                               "further_counselling", NULL, NULL, 0),
	                 0);
	assert_int_equal(cv_flow_check(f, "interventions",
	                               "further_counselling", NULL, NULL, 0),
	                 0);
	assert_int_equal(cv_flow_check(f, "followup_recommendation",
	                               "interventions", NULL, NULL, 0),
	                 0);
	assert_int_equal(
	    cv_flow_check(f, "interventions", "safe_house", NULL, NULL, 0), 0);
	/* Steps that happen once per case. */
	refused(f, "interventions", "initial_counselling", NULL,
	        "cannot move from interventions back to initial_counselling: "
	        "initial_counselling is not repeated");
	refused(f, "schedule_agreed", "schedule_agreed", NULL,
	        "the case is already at schedule_agreed");
	refused(
	    f, "further_counselling", "referral_received", NULL,
	    "cannot move from further_counselling back to referral_received: "
	    "referral_received is not repeated");
}

static void
test_close(void **state)
{
	struct cv_flow *f = *state;

	/* The ordinary close needs no reason. */
	assert_int_equal(cv_flow_check(f, "followup_recommendation", "closed",
	                               NULL, NULL, 0),
	                 0);
	/* Closing early, e.g. when the survivor withdraws, needs a reason. */
	assert_int_equal(cv_flow_check(f, "initial_counselling", "closed",
	                               "survivor withdrew", NULL, 0),
	                 0);
	assert_int_equal(cv_flow_check(f, "referral_received", "closed",
	                               "referred elsewhere", NULL, 0),
	                 0);
	refused(
	    f, "initial_counselling", "closed", NULL,
	    "closing a case before followup_recommendation needs a recorded "
	    "reason");
	refused(
	    f, "interventions", "closed", " \t\n",
	    "closing a case before followup_recommendation needs a recorded "
	    "reason");
	refused(
	    f, "safe_house", "closed", "",
	    "closing a case before followup_recommendation needs a recorded "
	    "reason");
	/* Closed is final. */
	refused(f, "closed", "referral_received", "again",
	        "the case is closed: a new referral opens a new case");
	refused(f, "closed", "closed", "again",
	        "the case is closed: a new referral opens a new case");
}

static void
test_unknown(void **state)
{
	struct cv_flow *f = *state;
	char why[200];

	assert_int_equal(
	    cv_flow_check(f, "intake", "closed", "x", why, sizeof(why)),
	    CV_EINVAL);
	assert_string_equal(why, "unknown step");
	assert_int_equal(
	    cv_flow_check(f, "interventions", "Closed", NULL, why, sizeof(why)),
	    CV_EINVAL);
	assert_int_equal(cv_flow_check(f, NULL, "", NULL, why, sizeof(why)),
	                 CV_EINVAL);
	assert_int_equal(cv_flow_check(f, NULL, NULL, NULL, why, sizeof(why)),
	                 CV_EINVAL);
	assert_int_equal(
	    cv_flow_check(NULL, NULL, "closed", NULL, why, sizeof(why)),
	    CV_EINVAL);
}

static void
test_labels(void **state)
{
	struct cv_flow *f = *state;

	assert_string_equal(cv_flow_label(f, "family_tracing", "en"),
	                    "Family tracing");
	assert_string_equal(cv_flow_label(f, "family_tracing", "id"),
	                    "Penjangkauan dan penelusuran keluarga");
	assert_string_equal(cv_flow_label(f, "closed", "id"), "Kasus ditutup");
	assert_null(cv_flow_label(f, "closed", "fr"));
	assert_null(cv_flow_label(f, "nope", "en"));
}

static int
load_str(const char *s)
{
	struct cv_flow *f = NULL;
	char err[200];
	int r = cv_flow_load(s, strlen(s), &f, err, sizeof(err));

	if (r != 0)
		assert_null(f);
	cv_flow_free(f);
	return r;
}

#define STEP(k, req, rep)                                                      \
	"{\"key\":\"" k                                                        \
	"\",\"label\":\"L\",\"label_id\":\"I\",\"required\":" req              \
	",\"repeatable\":" rep "}"

static void
test_bad_definitions(void **state)
{
	struct cv_flow *f = NULL;
	char err[200];

	(void)state;
	assert_int_equal(
	    load_str(
	        "{\"flow\":\"x\",\"version\":1,"
	        "\"early_close\":\"never\",\"steps\":[" STEP(
	            "a", "true", "false") "," STEP("b", "true", "false") "]}"),
	    0);
	/* Duplicate step, optional last step, repeatable last step. */
	assert_int_equal(
	    load_str(
	        "{\"flow\":\"x\",\"version\":1,"
	        "\"early_close\":\"never\",\"steps\":[" STEP(
	            "a", "true", "false") "," STEP("a", "true", "false") "]}"),
	    CV_ESCHEMA);
	assert_int_equal(
	    load_str(
	        "{\"flow\":\"x\",\"version\":1,"
	        "\"early_close\":\"never\",\"steps\":[" STEP(
	            "a", "true", "false") "," STEP("b", "false", "false") "]}"),
	    CV_ESCHEMA);
	assert_int_equal(
	    load_str(
	        "{\"flow\":\"x\",\"version\":1,"
	        "\"early_close\":\"never\",\"steps\":[" STEP(
	            "a", "true", "false") "," STEP("b", "true", "true") "]}"),
	    CV_ESCHEMA);
	/* Non-boolean flag, one step only, bad early_close, unknown field. */
	assert_int_equal(
	    load_str(
	        "{\"flow\":\"x\",\"version\":1,"
	        "\"early_close\":\"never\",\"steps\":[" STEP(
	            "a", "1", "false") "," STEP("b", "true", "false") "]}"),
	    CV_ESCHEMA);
	assert_int_equal(load_str("{\"flow\":\"x\",\"version\":1,"
	                          "\"early_close\":\"never\",\"steps\":[" STEP(
	                              "a", "true", "false") "]}"),
	                 CV_ESCHEMA);
	assert_int_equal(
	    load_str(
	        "{\"flow\":\"x\",\"version\":1,"
	        "\"early_close\":\"always\",\"steps\":[" STEP(
	            "a", "true", "false") "," STEP("b", "true", "false") "]}"),
	    CV_ESCHEMA);
	assert_int_equal(
	    load_str(
	        "{\"flow\":\"x\",\"version\":1,\"x\":1,"
	        "\"early_close\":\"never\",\"steps\":[" STEP(
	            "a", "true", "false") "," STEP("b", "true", "false") "]}"),
	    CV_ESCHEMA);
	assert_int_equal(load_str("{\"flow\":"), CV_EJSON);
	assert_int_equal(cv_flow_load(NULL, 0, &f, err, sizeof(err)),
	                 CV_EINVAL);
}

static void
test_never_close_early(void **state)
{
	static const char text[] =
	    "{\"flow\":\"x\",\"version\":1,"
	    "\"early_close\":\"never\",\"steps\":[" STEP(
	        "a", "true", "false") "," STEP("b", "true",
	                                       "false") "," STEP("c", "true",
	                                                         "false") "]}";
	struct cv_flow *f = NULL;

	(void)state;
	assert_int_equal(cv_flow_load(text, strlen(text), &f, NULL, 0), 0);
	refused(f, "a", "c", "withdrew",
	        "cannot move from a to c: b must come first");
	assert_int_equal(cv_flow_check(f, "b", "c", NULL, NULL, 0), 0);
	cv_flow_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_path),
	    cmocka_unit_test(test_new_case),
	    cmocka_unit_test(test_skips_refused),
	    cmocka_unit_test(test_safe_house_optional),
	    cmocka_unit_test(test_repeat_and_back),
	    cmocka_unit_test(test_close),
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_bad_definitions),
	    cmocka_unit_test(test_never_close_early),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
