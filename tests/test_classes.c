/*
 * Class sets: cv_classes_json gives the names of a mask in class order,
 * and cv_classes_parse reads that shape back to the same mask.
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

static void
test_json_order(void **state)
{
	cv_classmask m = CV_CLASS_BIT(CV_CLASS_LEGAL) |
	    CV_CLASS_BIT(CV_CLASS_IDENTITY) | CV_CLASS_BIT(CV_CLASS_HEALTH);
	json_t *a = cv_classes_json(m), *want;

	(void)state;
	want = json_pack("[s, s, s]", "identity", "health", "legal");
	assert_non_null(a);
	assert_true(json_equal(a, want));
	json_decref(a);
	json_decref(want);
	/* The empty set is an empty list, not NULL. */
	a = cv_classes_json(0);
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
}

static void
test_round_trip(void **state)
{
	cv_classmask m, back;
	json_t *a;

	(void)state;
	for (m = 1; m <= CV_CLASS_ALL; m++) {
		a = cv_classes_json(m);
		assert_non_null(a);
		assert_int_equal(cv_classes_parse(a, &back), 0);
		assert_int_equal(back, m);
		json_decref(a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_order),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
