#define _GNU_SOURCE
/*
 * The vocabularies of cv_vocabulary_list: each is non-empty, names every
 * entry once, and holds exactly names that the library's own checks
 * accept, each check also shown to refuse a name that is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "casevault.h"
#include "base/classes.h"
#include "base/util.h"
#include "rules/consent.h"
#include "rules/flow.h"
#include "rules/forms.h"
#include "rules/schema.h"

#include "helpers.h"
#include "helpers.c.inc"

#define DAY ((uint64_t)86400 * 1000)

/* The vocabulary WHAT, checked non-empty, of strings, each once. */
static json_t *
vocabulary(enum cv_vocabulary what)
{
	json_t *a = NULL, *v, *w;
	size_t i, k;

	assert_int_equal(cv_vocabulary_list(what, &a), 0);
	assert_true(json_is_array(a));
	assert_true(json_array_size(a) > 0);
	json_array_foreach (a, i, v) {
		assert_true(json_is_string(v));
		assert_true(json_string_length(v) > 0);
		json_array_foreach (a, k, w)
			assert_true(k == i || !json_equal(v, w));
	}
	return a;
}

static void
test_unknown(void **state)
{
	json_t *old = json_array(), *a = old;

	(void)state;
	/* *OUT is set to NULL on failure, whatever it held. */
	assert_int_equal(cv_vocabulary_list(CV_VOCAB_COUNT, &a), CV_EINVAL);
	assert_null(a);
	a = old;
	assert_int_equal(
	    cv_vocabulary_list((enum cv_vocabulary)-1, &a), CV_EINVAL);
	assert_null(a);
	json_decref(old);
}

static void
test_roles(void **state)
{
	json_t *a = vocabulary(CV_VOCAB_ROLES), *v;
	size_t i;

	(void)state;
	json_array_foreach (a, i, v)
		assert_true(cv_role_valid(json_string_value(v)));
	assert_false(cv_role_valid("nonsense"));
	json_decref(a);
}

static void
test_classes(void **state)
{
	json_t *a = vocabulary(CV_VOCAB_CLASSES), *bad;
	cv_classmask m;

	(void)state;
	/* Every class, and no other: the whole list is the whole set. */
	assert_int_equal(cv_classes_parse(a, &m), 0);
	assert_int_equal(m, CV_CLASS_ALL);
	assert_int_equal(json_array_size(a), CV_CLASS_COUNT);
	bad = json_pack("[s]", "nonsense");
	assert_int_equal(cv_classes_parse(bad, &m), CV_EINVAL);
	json_decref(bad);
	json_decref(a);
}

/* cv_consent_validate on an adult's grant for PURPOSE. */
static int
grant_for(const char *purpose)
{
	char why[CV_CONSENT_WHY_MIN];
	json_t *g;
	int r;

	g = json_pack("{s:s, s:{s:s}, s:[s], s:s, s:s, s:s, s:s, s:s}",
	    "grantor", "survivor", "recipient", "role", "legal_aid", "classes",
	    "incident", "purpose", purpose, "from", "2024-01-01", "until",
	    "2024-06-01", "recorded_by", "u1", "form_ref", "FRK-1");
	assert_non_null(g);
	r = cv_consent_validate(g, 0, NULL, 1704067200000u + DAY, why,
	    sizeof(why));
	json_decref(g);
	return r;
}

static void
test_purposes(void **state)
{
	json_t *a = vocabulary(CV_VOCAB_PURPOSES), *v;
	size_t i;

	(void)state;
	json_array_foreach (a, i, v)
		assert_int_equal(grant_for(json_string_value(v)), 0);
	assert_int_equal(grant_for("nonsense"), CV_EINVAL);
	json_decref(a);
}

static void
test_steps(void **state)
{
	json_t *a = vocabulary(CV_VOCAB_STEPS), *v;
	const struct cv_flow *f = cv_forms_flow();
	char why[128];
	size_t i;

	(void)state;
	assert_non_null(f);
	/* In the flow's order: the first is where every case starts. */
	assert_string_equal(
	    json_string_value(json_array_get(a, 0)), cv_flow_first(f));
	json_array_foreach (a, i, v)
		assert_non_null(cv_flow_label(f, json_string_value(v), "en"));
	assert_int_equal(cv_flow_check(f, NULL, "nonsense", NULL, why,
	                     sizeof(why)),
	    CV_EINVAL);
	json_decref(a);
}

/* cv_schema_validate on a note of kind KIND. */
static int
note_of(const char *kind)
{
	const struct cv_schema *s = cv_forms_schema("note");
	char err[CV_SCHEMA_ERR_MAX];
	json_t *n;
	int r;

	assert_non_null(s);
	n = json_pack("{s:s, s:s, s:s}", "session_date", "2024-01-01", "kind",
	    kind, "text", "A session.");
	assert_non_null(n);
	r = cv_schema_validate(s, n, 1704067200000u + DAY, err, sizeof(err));
	json_decref(n);
	return r;
}

static void
test_note_kinds(void **state)
{
	json_t *a = vocabulary(CV_VOCAB_NOTE_KINDS), *v;
	size_t i;

	(void)state;
	json_array_foreach (a, i, v)
		assert_int_equal(note_of(json_string_value(v)), 0);
	assert_int_equal(note_of("nonsense"), CV_ESCHEMA);
	json_decref(a);
}

static void
test_instruments(void **state)
{
	json_t *a = vocabulary(CV_VOCAB_INSTRUMENTS), *v;
	size_t i;

	(void)state;
	json_array_foreach (a, i, v)
		assert_non_null(cv_forms_instrument(json_string_value(v)));
	assert_null(cv_forms_instrument("nonsense"));
	json_decref(a);
}

/*
 * cv_case_disclose checks its basis and recipient before it looks for
 * the case: a name it accepts gets as far as "no such case".
 */
static int
disclose(struct cv_session *s, const char *basis, const char *recipient)
{
	json_t *classes = json_pack("[s]", "incident"), *out = NULL;
	int r;

	r = cv_case_disclose(s, "CAAAAAAAAAA", classes, basis, recipient,
	    NULL, &out);
	json_decref(classes);
	json_decref(out);
	return r;
}

static void
test_disclosure(void **state)
{
	json_t *bases = vocabulary(CV_VOCAB_LEGAL_BASES);
	json_t *recipients = vocabulary(CV_VOCAB_RECIPIENTS), *v;
	const char *b0, *r0;
	struct cv_session *s;
	char dir[64];
	size_t i;

	(void)state;
	s = test_vault_new(dir);
	b0 = json_string_value(json_array_get(bases, 0));
	r0 = json_string_value(json_array_get(recipients, 0));
	json_array_foreach (bases, i, v)
		assert_int_equal(
		    disclose(s, json_string_value(v), r0), CV_ENOTFOUND);
	json_array_foreach (recipients, i, v)
		assert_int_equal(
		    disclose(s, b0, json_string_value(v)), CV_ENOTFOUND);
	assert_int_equal(disclose(s, "nonsense", r0), CV_EINVAL);
	assert_int_equal(disclose(s, b0, "nonsense"), CV_EINVAL);
	cv_session_close(s);
	test_vault_remove(dir);
	json_decref(bases);
	json_decref(recipients);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_purposes),
	    cmocka_unit_test(test_steps),
	    cmocka_unit_test(test_note_kinds),
	    cmocka_unit_test(test_instruments),
	    cmocka_unit_test(test_disclosure),
	};

	assert_int_equal(cv_library_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
