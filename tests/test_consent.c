/* Consent: validation of grants, coverage, expiry, withdrawal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/consent.h"
#include "rules/policy.h"
#include "base/util.h"

/* Worked out by hand: 2024-01-01T00:00:00Z and 2024-06-01T00:00:00Z. */
#define T_JAN1 ((uint64_t)1704067200 * 1000)
#define T_JUN1 ((uint64_t)1717200000 * 1000)
#define DAY    ((uint64_t)86400 * 1000)

static json_t *
j(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);

	if (v == NULL)
		fail_msg("bad JSON in test: %s", e.text);
	return v;
}

static const char adult[] =
    "{\"grantor\": \"survivor\", \"recipient\": {\"role\": \"legal_aid\"},"
    " \"classes\": [\"incident\", \"legal\"], \"purpose\": "
    "\"legal_proceeding\", \"from\": \"2024-01-01\", \"until\": "
    "\"2024-06-01T00:00Z\", \"recorded_by\": \"konselor.ani\","
    " \"form_ref\": \"FRK-2024-0017\"}";

static const char child[] =
    "{\"grantor\": \"guardian\", \"guardian\": {\"name\": \"Siti Aminah\","
    " \"relationship\": \"mother\"}, \"assent\": true,"
    " \"recipient\": {\"user\": \"psi.budi\"}, \"classes\": "
    "[\"assessment\", \"counseling_note\"], \"purpose\": \"counselling\","
    " \"from\": \"2024-01-01\", \"recorded_by\": \"konselor.ani\","
    " \"form_ref\": \"FRK-2024-0018\"}";

static const char perps[] =
    "[{\"relationship\": \"Stepfather\", \"name\": \"Joko\"},"
    " {\"relationship\": \"neighbour\"}]";

static int
validate(json_t *g, int is_child, const char *perp_text, uint64_t now,
         char *why, size_t whylen)
{
	json_t *p = perp_text != NULL ? j(perp_text) : NULL;
	int r = cv_consent_validate(g, is_child, p, now, why, whylen);

	json_decref(p);
	return r;
}

static void
test_validate_ok(void **state)
{
	char why[128];
	json_t *g;

	(void)state;
	g = j(adult);
	assert_int_equal(validate(g, 0, NULL, T_JAN1, why, sizeof(why)), 0);
	assert_int_equal(
	    validate(g, 0, perps, T_JAN1 + 30 * DAY, why, sizeof(why)), 0);
	json_decref(g);
	g = j(child);
	assert_int_equal(validate(g, 1, perps, T_JAN1, why, sizeof(why)), 0);
	assert_int_equal(validate(g, 1, NULL, T_JAN1, why, sizeof(why)), 0);
	json_object_set_new(g, "id", json_string("K-0001"));
	assert_int_equal(validate(g, 1, "[]", T_JAN1, why, sizeof(why)), 0);
	json_decref(g);
}

/* Apply EDIT (an object merged into the grant; null deletes a key). */
static json_t *
edited(const char *base, const char *edit)
{
	json_t *g = j(base), *e = j(edit), *v;
	const char *k;

	json_object_foreach(e, k, v)
	{
		if (json_is_null(v))
			json_object_del(g, k);
		else
			json_object_set(g, k, v);
	}
	json_decref(e);
	return g;
}

static const struct {
	const char *base;
	int child;
	const char *edit;
	const char *why;
} refusals[] = {
    {adult, 0, "{\"grantor\": null}", "grantor must be"},
    {adult, 0, "{\"recipient\": null}", "recipient must be"},
    {adult, 0, "{\"classes\": null}", "classes must be"},
    {adult, 0, "{\"purpose\": null}", "purpose: missing or unknown"},
    {adult, 0, "{\"from\": null}", "from: missing"},
    {adult, 0, "{\"recorded_by\": null}", "recorded_by: missing"},
    {adult, 0, "{\"form_ref\": null}", "form_ref: the signed form"},
    {adult, 0, "{\"form_ref\": \"\"}", "form_ref: the signed form"},
    {adult, 0, "{\"note\": \"x\"}", "unknown field"},
    {adult, 0, "{\"classes\": [\"incident\", \"idnetity\"]}",
     "classes: unknown class"},
    {adult, 0, "{\"classes\": [\"*\"]}", "classes: unknown class"},
    {adult, 0, "{\"classes\": []}", "classes must be"},
    {adult, 0, "{\"classes\": [\"legal\", \"legal\"]}",
     "classes: duplicate class"},
    {adult, 0, "{\"purpose\": \"marketing\"}",
     "purpose: missing or "
     "unknown"},
    {adult, 0, "{\"until\": \"2023-12-31\"}", "until is not after from"},
    {adult, 0, "{\"until\": \"2024-01-01\"}", "until is not after from"},
    {adult, 0, "{\"until\": \"June\"}", "until: not a UTC time"},
    {adult, 0, "{\"from\": \"2024-13-01\"}", "from: missing or not"},
    {adult, 0, "{\"until\": \"2025-01-02\"}", "period longer than"},
    {adult, 0, "{\"recipient\": {\"role\": \"admin\"}}",
     "recipient: this role reads no record contents"},
    {adult, 0, "{\"recipient\": {\"role\": \"auditor\"}}",
     "recipient: this role reads no record contents"},
    {adult, 0, "{\"recipient\": {\"role\": \"janitor\"}}",
     "recipient: unknown role"},
    {adult, 0,
     "{\"recipient\": {\"role\": \"legal_aid\", \"user\": "
     "\"x\"}}",
     "recipient must be"},
    {adult, 0, "{\"recipient\": {\"user\": \"Bad User\"}}",
     "recipient: bad user id"},
    {adult, 0, "{\"withdrawn\": \"2024-02-01\"}",
     "a new grant cannot be "
     "withdrawn"},
    {adult, 0, "{\"id\": \"../etc\"}", "id: bad consent id"},
    {adult, 0, "{\"assent\": true}", "guardian and assent are for"},
    {adult, 1, "{}", "a child's case is granted by a guardian"},
    {child, 0, "{}", "an adult's case is granted by the survivor"},
    {child, 1, "{\"assent\": null}",
     "assent: the child's assent is "
     "required"},
    {child, 1, "{\"assent\": false}", "the child did not assent"},
    {child, 1, "{\"assent\": \"yes\"}", "assent: the child's assent"},
    {child, 1, "{\"guardian\": null}", "guardian must be"},
    {child, 1, "{\"guardian\": {\"name\": \"Siti\"}}", "guardian must be"},
    {child, 1, "{\"grantor\": \"grandmother\"}", "grantor must be"},
};

static void
test_validate_refusals(void **state)
{
	char why[128];
	json_t *g;
	size_t i;

	(void)state;
	for (i = 0; i < CV_ARRAY_LEN(refusals); i++) {
		g = edited(refusals[i].base, refusals[i].edit);
		memset(why, 0, sizeof(why));
		if (validate(g, refusals[i].child, perps, T_JAN1, why,
		             sizeof(why)) != CV_EINVAL ||
		    strstr(why, refusals[i].why) != why)
			fail_msg("refusal %zu (%s): got \"%s\"", i,
			         refusals[i].edit, why);
		json_decref(g);
	}
	/* Not an object at all. */
	g = j("[]");
	assert_int_equal(validate(g, 0, NULL, T_JAN1, why, sizeof(why)),
	                 CV_EINVAL);
	json_decref(g);
}

static void
test_validate_period(void **state)
{
	char why[128];
	json_t *g;

	(void)state;
	g = j(adult);
	/* The period is over once NOW reaches "until". */
	assert_int_equal(validate(g, 0, NULL, T_JUN1 - 1, why, sizeof(why)), 0);
	assert_int_equal(validate(g, 0, NULL, T_JUN1, why, sizeof(why)),
	                 CV_EINVAL);
	assert_string_equal(why, "the period is already over");
	json_decref(g);
	/* Without "until": 366 days from "from" at most. */
	g = edited(adult, "{\"until\": null}");
	assert_int_equal(
	    validate(g, 0, NULL, T_JAN1 + 365 * DAY, why, sizeof(why)), 0);
	assert_int_equal(
	    validate(g, 0, NULL, T_JAN1 + 366 * DAY, why, sizeof(why)),
	    CV_EINVAL);
	json_decref(g);
	/* Exactly 366 days is the longest allowed. */
	g = edited(adult, "{\"until\": \"2025-01-01\"}");
	assert_int_equal(validate(g, 0, NULL, T_JAN1, why, sizeof(why)), 0);
	json_decref(g);
}

/* A guardian named as the alleged perpetrator never grants for the child. */
static void
test_guardian_perpetrator(void **state)
{
	char why[128];
	json_t *g;

	(void)state;
	g = edited(child, "{\"guardian\": {\"name\": \"Joko Santoso\","
	                  " \"relationship\": \"stepfather\"}}");
	assert_int_equal(validate(g, 1, perps, T_JAN1, why, sizeof(why)),
	                 CV_EINVAL);
	assert_non_null(
	    strstr(why, "the guardian is recorded as an alleged perpetrator"));
	/* No personal data in the reason. */
	assert_null(strstr(why, "Joko"));
	assert_null(strstr(why, "father"));
	json_decref(g);

	/* Same name, ignoring case and spacing, another relationship. */
	g = edited(child, "{\"guardian\": {\"name\": \"  siti   AMINAH \","
	                  " \"relationship\": \"aunt\"}}");
	assert_int_equal(validate(g, 1,
	                          "[{\"relationship\": \"uncle\", \"name\": "
	                          "\"Siti Aminah\"}]",
	                          T_JAN1, why, sizeof(why)),
	                 CV_EINVAL);
	assert_non_null(
	    strstr(why, "the guardian is recorded as an alleged perpetrator"));
	assert_null(strstr(why, "iti"));
	/* A different person with no shared relationship is fine. */
	assert_int_equal(validate(g, 1,
	                          "[{\"relationship\": \"uncle\", \"name\": "
	                          "\"Siti Amina\"}]",
	                          T_JAN1, why, sizeof(why)),
	                 0);
	/* A malformed perpetrator list is refused, not skipped. */
	assert_int_equal(
	    validate(g, 1, "[\"uncle\"]", T_JAN1, why, sizeof(why)), CV_EINVAL);
	assert_int_equal(validate(g, 1, "{}", T_JAN1, why, sizeof(why)),
	                 CV_EINVAL);
	json_decref(g);
}

static const char stored[] =
    "[{\"id\": \"K1\", \"grantor\": \"survivor\", \"recipient\": {\"role\":"
    " \"legal_aid\"}, \"classes\": [\"incident\", \"legal\"], \"purpose\":"
    " \"legal_proceeding\", \"from\": \"2024-01-01\", \"until\": "
    "\"2024-06-01T00:00Z\", \"recorded_by\": \"konselor.ani\", "
    "\"form_ref\": \"F1\"},"
    " {\"id\": \"K2\", \"grantor\": \"survivor\", \"recipient\": {\"user\":"
    " \"psi.budi\"}, \"classes\": [\"identity\", \"contact\", \"incident\","
    " \"health\", \"assessment\", \"services\", \"legal\", \"case_admin\"],"
    " \"purpose\": \"counselling\", \"from\": \"2024-01-01\","
    " \"recorded_by\": \"konselor.ani\", \"form_ref\": \"F2\"}]";

static void
test_covers_valid_and_expiry(void **state)
{
	json_t *c = j(stored);
	const char *id = "x";

	(void)state;
	assert_int_equal(cv_consent_covers(c, "lbh.rina", "legal_aid",
	                                   CV_CLASS_LEGAL, "legal_proceeding",
	                                   T_JAN1, &id),
	                 CV_CONSENT_VALID);
	assert_string_equal(id, "K1");
	assert_int_equal(cv_consent_covers(c, "lbh.rina", "legal_aid",
	                                   CV_CLASS_LEGAL, "legal_proceeding",
	                                   T_JUN1 - 1, &id),
	                 CV_CONSENT_VALID);
	/* At "until" exactly it is over. */
	assert_int_equal(cv_consent_covers(c, "lbh.rina", "legal_aid",
	                                   CV_CLASS_LEGAL, "legal_proceeding",
	                                   T_JUN1, &id),
	                 CV_CONSENT_EXPIRED);
	assert_null(id);
	/* Not yet in force. */
	assert_int_equal(cv_consent_covers(c, "lbh.rina", "legal_aid",
	                                   CV_CLASS_LEGAL, "legal_proceeding",
	                                   T_JAN1 - 1, &id),
	                 CV_CONSENT_NONE);
	/* Without "until": 366 days from "from". */
	assert_int_equal(cv_consent_covers(c, "psi.budi", "psychologist",
	                                   CV_CLASS_HEALTH, "counselling",
	                                   T_JAN1 + 366 * DAY - 1, &id),
	                 CV_CONSENT_VALID);
	assert_string_equal(id, "K2");
	assert_int_equal(cv_consent_covers(c, "psi.budi", "psychologist",
	                                   CV_CLASS_HEALTH, "counselling",
	                                   T_JAN1 + 366 * DAY, &id),
	                 CV_CONSENT_EXPIRED);
	json_decref(c);
}

static void
test_covers_recipient_class_purpose(void **state)
{
	json_t *c = j(stored);
	const char *id;

	(void)state;
	/* Wrong recipient: another role, or another user of the role. */
	assert_int_equal(cv_consent_covers(c, "sw.dewi", "social_worker",
	                                   CV_CLASS_LEGAL, "legal_proceeding",
	                                   T_JAN1, &id),
	                 CV_CONSENT_NONE);
	assert_int_equal(cv_consent_covers(c, "psi.other", "psychologist",
	                                   CV_CLASS_HEALTH, "counselling",
	                                   T_JAN1, &id),
	                 CV_CONSENT_NONE);
	/* A class the consent does not name. */
	assert_int_equal(cv_consent_covers(c, "lbh.rina", "legal_aid",
	                                   CV_CLASS_IDENTITY,
	                                   "legal_proceeding", T_JAN1, &id),
	                 CV_CONSENT_NONE);
	/* Wrong or missing purpose. */
	assert_int_equal(cv_consent_covers(c, "lbh.rina", "legal_aid",
	                                   CV_CLASS_LEGAL, "police_report",
	                                   T_JAN1, &id),
	                 CV_CONSENT_WRONG_PURPOSE);
	assert_null(id);
	assert_int_equal(cv_consent_covers(c, "lbh.rina", "legal_aid",
	                                   CV_CLASS_LEGAL, NULL, T_JAN1, &id),
	                 CV_CONSENT_WRONG_PURPOSE);
	/* Eight classes named: counselling notes are not among them. */
	assert_int_equal(cv_consent_covers(c, "psi.budi", "psychologist",
	                                   CV_CLASS_COUNSELING_NOTE,
	                                   "counselling", T_JAN1, &id),
	                 CV_CONSENT_NONE);
	assert_int_equal(cv_consent_covers(c, "psi.budi", "psychologist",
	                                   CV_CLASS_COUNT, "counselling",
	                                   T_JAN1, &id),
	                 CV_CONSENT_NONE);
	assert_int_equal(cv_consent_covers(NULL, "psi.budi", "psychologist",
	                                   CV_CLASS_HEALTH, "counselling",
	                                   T_JAN1, NULL),
	                 CV_CONSENT_NONE);
	json_decref(c);
}

static void
test_counseling_note_explicit(void **state)
{
	json_t *c;
	const char *id;

	(void)state;
	/* A stored "*" (never valid input) is no wildcard either. */
	c = j("[{\"id\": \"K3\", \"recipient\": {\"role\": \"psychologist\"},"
	      " \"classes\": [\"*\"], \"purpose\": \"counselling\", \"from\":"
	      " \"2024-01-01\"}]");
	assert_int_equal(cv_consent_covers(c, "psi.budi", "psychologist",
	                                   CV_CLASS_COUNSELING_NOTE,
	                                   "counselling", T_JAN1, &id),
	                 CV_CONSENT_NONE);
	json_decref(c);
	c = j("[{\"id\": \"K4\", \"recipient\": {\"role\": \"psychologist\"},"
	      " \"classes\": [\"counseling_note\"], \"purpose\": "
	      "\"counselling\", \"from\": \"2024-01-01\"}]");
	assert_int_equal(cv_consent_covers(c, "psi.budi", "psychologist",
	                                   CV_CLASS_COUNSELING_NOTE,
	                                   "counselling", T_JAN1, &id),
	                 CV_CONSENT_VALID);
	assert_string_equal(id, "K4");
	json_decref(c);
}

static void
test_withdrawal(void **state)
{
	json_t *c = j(stored), *k1 = json_array_get(c, 0);
	const char *id;

	(void)state;
	assert_int_equal(
	    cv_consent_covers(c, "lbh.rina", "legal_aid", CV_CLASS_INCIDENT,
	                      "legal_proceeding", T_JAN1 + DAY, &id),
	    CV_CONSENT_VALID);
	assert_int_equal(
	    cv_consent_mark_withdrawn(k1, "konselor.ani", T_JAN1 + DAY), 0);
	assert_string_equal(json_string_value(json_object_get(k1, "withdrawn")),
	                    "2024-01-02T00:00:00.000Z");
	assert_string_equal(
	    json_string_value(json_object_get(k1, "withdrawn_by")),
	    "konselor.ani");
	/* Effective at once, and for every later check. */
	assert_int_equal(
	    cv_consent_covers(c, "lbh.rina", "legal_aid", CV_CLASS_INCIDENT,
	                      "legal_proceeding", T_JAN1 + DAY, &id),
	    CV_CONSENT_WITHDRAWN);
	assert_null(id);
	assert_int_equal(cv_consent_covers(c, "lbh.rina", "legal_aid",
	                                   CV_CLASS_LEGAL, "legal_proceeding",
	                                   T_JAN1 + 9 * DAY, &id),
	                 CV_CONSENT_WITHDRAWN);
	/* Twice is a state error; a bad user is refused. */
	assert_int_equal(cv_consent_mark_withdrawn(k1, "konselor.ani", T_JAN1),
	                 CV_ESTATE);
	assert_int_equal(
	    cv_consent_mark_withdrawn(json_array_get(c, 1), "Bad Name", T_JAN1),
	    CV_EINVAL);
	/* A withdrawal, even unparsable, ends the consent. */
	json_object_set_new(json_array_get(c, 1), "withdrawn",
	                    json_string("garbage"));
	assert_int_equal(cv_consent_covers(c, "psi.budi", "psychologist",
	                                   CV_CLASS_HEALTH, "counselling",
	                                   T_JAN1, &id),
	                 CV_CONSENT_WITHDRAWN);
	json_decref(c);
}

/* The most informative refusal wins; any valid consent wins over all. */
static void
test_ranking(void **state)
{
	json_t *c;
	const char *id;

	(void)state;
	c = j("[{\"id\": \"A\", \"recipient\": {\"role\": \"legal_aid\"},"
	      " \"classes\": [\"legal\"], \"purpose\": \"police_report\","
	      " \"from\": \"2024-01-01\"},"
	      " {\"id\": \"B\", \"recipient\": {\"role\": \"legal_aid\"},"
	      " \"classes\": [\"legal\"], \"purpose\": \"legal_proceeding\","
	      " \"from\": \"2023-01-01\", \"until\": \"2023-06-01\"},"
	      " {\"id\": \"C\", \"recipient\": {\"role\": \"legal_aid\"},"
	      " \"classes\": [\"legal\"], \"purpose\": \"legal_proceeding\","
	      " \"from\": \"2024-01-01\", \"withdrawn\": \"2024-01-05\"},"
	      " 42, {\"recipient\": \"legal_aid\"}]");
	assert_int_equal(cv_consent_covers(c, "u", "legal_aid", CV_CLASS_LEGAL,
	                                   "legal_proceeding", T_JAN1 + 9 * DAY,
	                                   &id),
	                 CV_CONSENT_WITHDRAWN);
	json_array_remove(c, 2);
	assert_int_equal(cv_consent_covers(c, "u", "legal_aid", CV_CLASS_LEGAL,
	                                   "legal_proceeding", T_JAN1 + 9 * DAY,
	                                   &id),
	                 CV_CONSENT_EXPIRED);
	json_array_remove(c, 1);
	assert_int_equal(cv_consent_covers(c, "u", "legal_aid", CV_CLASS_LEGAL,
	                                   "legal_proceeding", T_JAN1 + 9 * DAY,
	                                   &id),
	                 CV_CONSENT_WRONG_PURPOSE);
	json_array_append_new(
	    c, j("{\"id\": \"D\", \"recipient\": {\"user\": \"u\"},"
	         " \"classes\": [\"legal\"], \"purpose\": \"legal_proceeding\","
	         " \"from\": \"2024-01-01\"}"));
	assert_int_equal(cv_consent_covers(c, "u", "legal_aid", CV_CLASS_LEGAL,
	                                   "legal_proceeding", T_JAN1 + 9 * DAY,
	                                   &id),
	                 CV_CONSENT_VALID);
	assert_string_equal(id, "D");
	json_decref(c);
}

static void
test_purposes(void **state)
{
	(void)state;
	assert_true(cv_consent_purpose_valid("counselling"));
	assert_true(cv_consent_purpose_valid("medical_referral"));
	assert_true(cv_consent_purpose_valid("legal_proceeding"));
	assert_true(cv_consent_purpose_valid("police_report"));
	assert_true(cv_consent_purpose_valid("social_service"));
	assert_true(cv_consent_purpose_valid("deidentified_statistics"));
	assert_false(cv_consent_purpose_valid("counseling"));
	assert_false(cv_consent_purpose_valid("Counselling"));
	assert_false(cv_consent_purpose_valid(""));
	assert_false(cv_consent_purpose_valid(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validate_ok),
	    cmocka_unit_test(test_validate_refusals),
	    cmocka_unit_test(test_validate_period),
	    cmocka_unit_test(test_guardian_perpetrator),
	    cmocka_unit_test(test_covers_valid_and_expiry),
	    cmocka_unit_test(test_covers_recipient_class_purpose),
	    cmocka_unit_test(test_counseling_note_explicit),
	    cmocka_unit_test(test_withdrawal),
	    cmocka_unit_test(test_ranking),
	    cmocka_unit_test(test_purposes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
