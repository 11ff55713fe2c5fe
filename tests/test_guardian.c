#define _GNU_SOURCE
/*
 * A guardian's consent for a child: the relationship comes from the one
 * vocabulary the intake's perpetrator list uses, and the guardian is
 * compared with every alleged perpetrator of the intake by relationship and
 * by name (case, spacing and honorifics set aside). A match, or a match
 * that cannot be ruled out, is refused, and the refusal of a real grant is
 * on the audit trail without the name.
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
#include "dispatch/dispatch.h"
#include "model/session.h"
#include "rules/consent.h"
#include "rules/forms.h"
#include "rules/schema.h"

#include "helpers.h"
#include "helpers.c.inc"

#define NOW ((uint64_t)1735689600000) /* 2025-01-01 */
#define REL "incident.perpetrators[].relationship"

/* A guardian's grant for NAME, RELATIONSHIP, valid in every other way. */
static json_t *
grant(const char *name, const char *relationship)
{
	json_t *g = json_pack("{s:s, s:{s:s, s:s}, s:b, s:{s:s}, s:[s], s:s,"
	                      " s:s, s:s, s:s, s:s}",
	    "grantor", "guardian", "guardian", "name", name, "relationship",
	    relationship, "assent", 1, "recipient", "role", "psychologist",
	    "classes", "assessment", "purpose", "counselling", "from",
	    "2025-01-01", "until", "2025-06-01", "recorded_by", "konselor.ani",
	    "form_ref", "FRK-2025-0001");

	assert_non_null(g);
	return g;
}

/* cv_consent_validate on a child's case: 0 or CV_EINVAL, with WHY. */
static int
check(const char *name, const char *rel, const char *perps, char *why,
    size_t whylen)
{
	json_t *g = grant(name, rel), *p = NULL;
	int r;

	if (perps != NULL)
		assert_non_null(p = json_loads(perps, 0, NULL));
	r = cv_consent_validate(g, 1, p, NOW, why, whylen);
	json_decref(g);
	json_decref(p);
	return r;
}

static void
refused_as(
    const char *name, const char *rel, const char *perps, const char *reason)
{
	char why[CV_CONSENT_WHY_MIN * 2];

	if (check(name, rel, perps, why, sizeof(why)) != CV_EINVAL)
		fail_msg("accepted: %s (%s) against %s", name, rel,
		    perps ? perps : "-");
	if (strstr(why, reason) == NULL)
		fail_msg("reason \"%s\", wanted \"%s\"", why, reason);
}

static void
accepted(const char *name, const char *rel, const char *perps)
{
	char why[CV_CONSENT_WHY_MIN * 2];

	if (check(name, rel, perps, why, sizeof(why)) != 0)
		fail_msg("refused: %s (%s) against %s: %s", name, rel,
		    perps ? perps : "-", why);
}

/* The relationship is a word of the vocabulary, never free text. */
static void
relationship_from_vocabulary(void **state)
{
	(void)state;
	refused_as("Sugeng", "Stepfather", NULL, "relationship");
	refused_as("Sugeng", "bapak tiri", NULL, "relationship");
	refused_as("Sugeng", "", NULL, "relationship");
	/* The words the old intake had are read, never written anew. */
	refused_as("Siti Aminah", "parent", NULL, "relationship");
	refused_as("Siti Aminah", "step_parent", NULL, "relationship");
	accepted("Siti Aminah", "mother", NULL);
	accepted("Siti Aminah", "grandmother", "[]");
	/* Without a relationship at all. */
	{
		json_t *g = grant("Siti Aminah", "mother");
		json_object_del(json_object_get(g, "guardian"), "relationship");
		assert_int_equal(
		    cv_consent_validate(g, 1, NULL, NOW, NULL, 0), CV_EINVAL);
		json_decref(g);
	}
}

/* The list the help shows is the one the intake and the check use. */
static void
vocabulary_is_one_list(void **state)
{
	const struct cv_schema *in = cv_forms_schema("intake");
	const char *k;
	json_t *list, *v;
	size_t i, n = 0;

	(void)state;
	assert_int_equal(cv_library_init(), 0);
	assert_int_equal(cv_vocabulary_list(CV_VOCAB_RELATIONSHIPS, &list), 0);
	json_array_foreach (list, i, v) {
		assert_string_equal(
		    json_string_value(v), cv_schema_value(in, REL, i));
		accepted("Siti Aminah", json_string_value(v), NULL);
		n++;
	}
	assert_null(cv_schema_value(in, REL, n));
	for (i = 0; i < 4; i++) {
		static const char *const want[] = {
		    "mother", "father", "stepmother", "stepfather"};
		int found = 0;
		json_array_foreach (list, n, v)
			found |= strcmp(json_string_value(v), want[i]) == 0;
		assert_true(found);
	}
	json_array_foreach (list, i, v) {
		k = json_string_value(v);
		assert_true(strcmp(k, "parent") != 0 &&
		    strcmp(k, "step_parent") != 0 &&
		    strcmp(k, "relative") != 0);
	}
	json_decref(list);
}

/* The reported case: the alleged stepfather, under another word or with
 * a title. */
static void
perpetrator_by_name(void **state)
{
	const char *p = "[{\"relationship\": \"stepfather\","
	                " \"name\": \"Pak Sugeng\"}]";

	(void)state;
	refused_as("Sugeng", "stepfather", p, "alleged perpetrator");
	refused_as("Bapak  SUGENG", "uncle", p, "alleged perpetrator");
	refused_as("bpk. sugeng", "other_relative", p, "alleged perpetrator");
	refused_as("Sugeng", "legal_guardian", p, "alleged perpetrator");
	/* A part of the name is not ruled out: refused as ambiguous. */
	refused_as("Sugeng Riyadi", "uncle", p, "may be");
	/* A name that is only a title compares with nothing. */
	refused_as("Bu", "mother", p, "guardian.name");
	/* The non-offending mother. */
	accepted("Ibu Siti Aminah", "mother", p);
	/* An intake's name of 200 characters, 399 bytes, still compares. */
	{
		char perps[1024], wide[401];
		size_t i, n = 0;

		for (i = 0; i < 200; i++) {
			if (i == 100) {
				wide[n++] = ' ';
				continue;
			}
			wide[n++] = '\xc3';
			wide[n++] = '\xa9';
		}
		wide[n] = '\0';
		snprintf(perps, sizeof(perps),
		    "[{\"relationship\": \"uncle\", \"name\": \"%s\"}]", wide);
		accepted("Siti Aminah", "mother", perps);
	}
}

/* Same relationship: one person holds it, or the names must tell. */
static void
perpetrator_by_relationship(void **state)
{
	(void)state;
	/* One father: the same relationship is the same person, whatever
	 * the name says. */
	refused_as("Joko", "father",
	    "[{\"relationship\": \"father\", \"name\": \"Budi\"}]",
	    "alleged perpetrator");
	refused_as(
	    "Joko", "father", "[{\"relationship\": \"father\"}]", "alleged");
	/* Two grandmothers: a name tells them apart, none cannot. */
	accepted("Sumiati", "grandmother",
	    "[{\"relationship\": \"grandmother\", \"name\": \"Warsini\"}]");
	refused_as("Sumiati", "grandmother",
	    "[{\"relationship\": \"grandmother\"}]", "may be");
	refused_as("Mbah Sumiati", "grandmother",
	    "[{\"relationship\": \"grandmother\", \"name\": \"sumiati\"}]",
	    "alleged perpetrator");
	/* A step-parent and a parent of the same sex: only a name match. */
	accepted("Budi", "stepfather",
	    "[{\"relationship\": \"father\", \"name\": \"Joko\"}]");
	refused_as("Joko", "stepfather",
	    "[{\"relationship\": \"father\", \"name\": \"Joko\"}]",
	    "alleged perpetrator");
	/* Mother and father are never confused. */
	accepted("Siti Aminah", "mother", "[{\"relationship\": \"father\"}]");
}

/* An intake stored before the finer words: "parent" covers both. */
static void
old_intake_words(void **state)
{
	(void)state;
	refused_as("Siti Aminah", "mother", "[{\"relationship\": \"parent\"}]",
	    "may be");
	accepted("Siti Aminah", "mother",
	    "[{\"relationship\": \"parent\", \"name\": \"Sugeng\"}]");
	refused_as("Siti Aminah", "mother",
	    "[{\"relationship\": \"parent\", \"name\": \"Bu Siti Aminah\"}]",
	    "alleged perpetrator");
	refused_as("Budi", "stepfather",
	    "[{\"relationship\": \"step_parent\"}]", "may be");
	refused_as(
	    "Warsini", "aunt", "[{\"relationship\": \"relative\"}]", "may be");
	accepted("Warsini", "aunt", "[{\"relationship\": \"step_parent\"}]");
}

/* The reason names the rule and where to turn, never the name. */
static void
reason_without_name(void **state)
{
	char why[CV_CONSENT_WHY_MIN * 2];

	(void)state;
	assert_int_equal(check("Sugeng", "uncle",
	                     "[{\"relationship\": \"stepfather\","
	                     " \"name\": \"Sugeng\"}]",
	                     why, sizeof(why)),
	    CV_EINVAL);
	assert_null(strstr(why, "Sugeng"));
	assert_null(strstr(why, "sugeng"));
	assert_non_null(strstr(why, "disclose"));
}

/* Old intakes stay readable: the retired words keep their labels and
 * pass redaction; a new write with them is refused. */
static void
retired_words_read_not_written(void **state)
{
	const struct cv_schema *in = cv_forms_schema("intake");
	json_t *rec = test_fixture("intake_child_valid.json"), *out;
	json_t *p =
	    json_object_get(json_object_get(rec, "incident"), "perpetrators");
	char err[CV_SCHEMA_ERR_MAX];

	(void)state;
	assert_non_null(cv_schema_label(in, REL, "parent", "id"));
	assert_non_null(cv_schema_label(in, REL, "step_parent", "en"));
	json_object_set_new(
	    json_array_get(p, 0), "relationship", json_string("parent"));
	assert_int_equal(
	    cv_schema_validate(in, rec, cv_now_ms(), err, sizeof(err)),
	    CV_ESCHEMA);
	assert_non_null(strstr(err, "relationship"));
	assert_int_equal(
	    cv_schema_redact(in, rec, CV_CLASS_ALL, &out, NULL), 0);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(json_object_get(out, "incident"),
	                           "perpetrators"),
	            0),
	        "relationship")),
	    "parent");
	json_decref(out);
	json_object_set_new(
	    json_array_get(p, 0), "relationship", json_string("stepfather"));
	assert_int_equal(
	    cv_schema_validate(in, rec, cv_now_ms(), err, sizeof(err)), 0);
	json_decref(rec);
}

/* Does event EV hold the name anywhere? */
static int
names_sugeng(const json_t *ev, void *arg)
{
	char *text = json_dumps(ev, JSON_COMPACT);

	assert_non_null(text);
	if (strcasestr(text, "sugeng") != NULL)
		*(int *)arg += 1;
	free(text);
	return 0;
}

/* Through a vault: the refusal is an event with its reason, no name. */
static void
refusal_on_the_trail(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	json_t *in, *g;
	char cid[CV_CASE_ID_LEN + 1], id[CV_OBJECT_ID_LEN + 1], born[25];
	size_t before;

	in = test_fixture("intake_child_valid.json");
	cv_format_time(cv_now_ms() - (uint64_t)10 * 365 * 86400000, born);
	born[10] = '\0';
	json_object_set_new(
	    json_object_get(in, "survivor"), "birth_date", json_string(born));
	json_object_set_new(json_object_get(in, "incident"), "perpetrators",
	    json_pack("[{s:s, s:s}]", "relationship", "stepfather", "name",
	        "Pak Sugeng Fiktif"));
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_case_open(s, in, cid), 0);
	json_decref(in);
	before = test_trail_count(
	    f->dir, "refusal", "guardian_alleged_perpetrator", NULL, NULL);
	g = json_pack("{s:{s:s}, s:[s], s:s, s:s, s:{s:s, s:s}, s:b, s:s}",
	    "recipient", "role", "psychologist", "classes", "assessment",
	    "purpose", "counselling", "grantor", "guardian", "guardian", "name",
	    "Bapak Sugeng  Fiktif", "relationship", "uncle", "assent", 1,
	    "form_ref", "F-1");
	assert_int_equal(cv_consent_grant(s, cid, g, id), CV_EINVAL);
	assert_non_null(strstr(cv_error_detail(), "alleged perpetrator"));
	json_decref(g);
	cv_session_close(s);
	assert_int_equal(test_trail_count(f->dir, "refusal",
	                     "guardian_alleged_perpetrator", NULL, NULL),
	    before + 1);
	assert_int_equal(
	    test_trail_count(f->dir, "refusal", "guardian_alleged_perpetrator",
	        "action", "consent.grant"),
	    before + 1);
	{
		int seen = 0;
		assert_int_equal(
		    cv_auditlog_foreach(f->dir, names_sugeng, &seen), 0);
		assert_int_equal(seen, 0);
	}
	/* A social worker on the team reads the intake but may not grant:
	 * the usual refusal, which says nothing of the perpetrators. */
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_assign(s, cid, "rina"), 0);
	cv_session_close(s);
	s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	g = json_pack("{s:{s:s}, s:[s], s:s, s:s, s:{s:s, s:s}, s:b, s:s}",
	    "recipient", "role", "psychologist", "classes", "assessment",
	    "purpose", "counselling", "grantor", "guardian", "guardian", "name",
	    "Sugeng Fiktif", "relationship", "uncle", "assent", 1, "form_ref",
	    "F-1");
	assert_int_equal(cv_consent_grant(s, cid, g, id), CV_EDENIED);
	assert_null(strstr(cv_error_detail(), "perpetrator"));
	json_decref(g);
	cv_session_close(s);
	assert_int_equal(test_trail_count(f->dir, "refusal",
	                     "guardian_alleged_perpetrator", NULL, NULL),
	    before + 1);
	/* The non-offending mother is granted. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	g = json_pack("{s:{s:s}, s:[s], s:s, s:s, s:{s:s, s:s}, s:b, s:s}",
	    "recipient", "role", "psychologist", "classes", "assessment",
	    "purpose", "counselling", "grantor", "guardian", "guardian", "name",
	    "Siti Fiktif", "relationship", "mother", "assent", 1, "form_ref",
	    "F-2");
	if (cv_consent_grant(s, cid, g, id) != 0)
		fail_msg("refused: %s", cv_error_detail());
	json_decref(g);
	cv_session_close(s);
}

/* A request naming a guardian says the relationship: none is assumed. */
static void
request_needs_relationship(void **state)
{
	const struct cv_command *cmd;
	json_t *req = json_pack("{s:s, s:{s:s, s:s, s:[s], s:s, s:s, s:s,"
	                        " s:b}}",
	    "cmd", "consent grant", "args", "case", "C1", "to", "legal_aid",
	    "classes", "legal", "purpose", "legal_proceeding", "form", "F-1",
	    "guardian", "Siti Aminah", "assent", 1);

	(void)state;
	assert_int_equal(cv_dispatch_check(req, &cmd), CV_EPROTO);
	assert_non_null(strstr(cv_error_detail(), "args.relationship"));
	json_object_set_new(json_object_get(req, "args"), "relationship",
	    json_string("mother"));
	assert_int_equal(cv_dispatch_check(req, &cmd), 0);
	json_decref(req);
}

static int
setup(void **state)
{
	return test_fx_setup(
	    state, test_staff_team, TEST_COUNT(test_staff_team));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(relationship_from_vocabulary),
	    cmocka_unit_test(vocabulary_is_one_list),
	    cmocka_unit_test(perpetrator_by_name),
	    cmocka_unit_test(perpetrator_by_relationship),
	    cmocka_unit_test(old_intake_words),
	    cmocka_unit_test(reason_without_name),
	    cmocka_unit_test(retired_words_read_not_written),
	    cmocka_unit_test(request_needs_relationship),
	    cmocka_unit_test_setup_teardown(
	        refusal_on_the_trail, setup, test_fx_teardown),
	};

	if (cv_library_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
