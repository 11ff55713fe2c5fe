/*
 * The coverage indicator over small fixtures whose results are worked out
 * by hand in the comments next to them.
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
#include "rules/indicator.h"

/*
 * Year 2023.
 *  1 woman 30, physical, handled 2023, trained service 2023  -> D, N
 *  2 man 35, physical, handled 2023, trained service 2023    -> outside
 *  3 woman 20, sexual, handled 2023, untrained service 2023  -> D only
 *  4 boy 10, physical, handled 2023, trained service 2023    -> D, N
 *  5 woman 40, psychological, handled 2022 only              -> outside
 *  6 woman 28, physical+psychological, handled 2022 and 2023,
 *    untrained 2022, trained 2023 twice                      -> D, N (once)
 *  7 girl 16, sexual, handled 2023, no service               -> D only
 *  8 girl 3, neglect, handled 2023, trained service 2023     -> D, N
 *  9 woman 70, physical, handled 2022 and 2023,
 *    trained service 2022 only                               -> D only
 * Denominator 1,3,4,6,7,8,9 = 7; numerator 1,4,6,8 = 4;
 * 4 / 7 = 57.142...% -> 57.1.
 * Age groups: 0-5 {8}, 6-12 {4}, 13-17 {7}, 18-24 {3}, 25-59 {1,6},
 * 60+ {9}: every group has 1 or 2, all suppressed.
 * Violence: physical {1,4,6,9} d=4 n=3, sexual {3,7} d=2 n=0,
 * psychological {6} d=1 n=1, neglect {8} d=1 n=1: all suppressed.
 */
static const char fixture[] =
    "["
    "{\"sex\":\"female\",\"age\":30,\"violence\":[\"physical\"],"
    " \"handled\":[2023],\"services\":[{\"year\":2023,\"trained\":true}]},"
    "{\"sex\":\"male\",\"age\":35,\"violence\":[\"physical\"],"
    " \"handled\":[2023],\"services\":[{\"year\":2023,\"trained\":true}]},"
    "{\"sex\":\"female\",\"age\":20,\"violence\":[\"sexual\"],"
    " \"handled\":[2023],\"services\":[{\"year\":2023,\"trained\":false}]},"
    "{\"sex\":\"male\",\"age\":10,\"violence\":[\"physical\"],"
    " \"handled\":[2023],\"services\":[{\"year\":2023,\"trained\":true}]},"
    "{\"sex\":\"female\",\"age\":40,\"violence\":[\"psychological\"],"
    " \"handled\":[2022],\"services\":[{\"year\":2022,\"trained\":true}]},"
    "{\"sex\":\"female\",\"age\":28,"
    " \"violence\":[\"physical\",\"psychological\"],"
    " \"handled\":[2022,2023],\"services\":[{\"year\":2022,\"trained\":false},"
    "  {\"year\":2023,\"trained\":true},{\"year\":2023,\"trained\":true}]},"
    "{\"sex\":\"female\",\"age\":16,\"violence\":[\"sexual\"],"
    " \"handled\":[2023],\"services\":[]},"
    "{\"sex\":\"female\",\"age\":3,\"violence\":[\"neglect\"],"
    " \"handled\":[2023],\"services\":[{\"year\":2023,\"trained\":true}]},"
    "{\"sex\":\"female\",\"age\":70,\"violence\":[\"physical\"],"
    " \"handled\":[2022,2023],\"services\":[{\"year\":2022,\"trained\":true}]}"
    "]";

static json_t *
parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static json_t *
compute(const json_t *cases, int year)
{
	json_t *out = NULL;

	assert_int_equal(cv_indicator_compute(cases, year, &out), 0);
	assert_non_null(out);
	return out;
}

static long long
num(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void
pct(const json_t *o, double want)
{
	json_t *v = json_object_get(o, "percent");

	assert_true(json_is_real(v));
	assert_true(json_real_value(v) > want - 1e-9 &&
	            json_real_value(v) < want + 1e-9);
}

/* A breakdown cell: N and D or -1 for suppressed. */
static void
cell(const json_t *res, const char *bd, const char *key, long long n,
     long long d)
{
	json_t *c = json_object_get(json_object_get(res, bd), key);

	assert_non_null(c);
	if (n < 0)
		assert_true(json_is_null(json_object_get(c, "numerator")));
	else
		assert_int_equal(num(c, "numerator"), n);
	if (d < 0)
		assert_true(json_is_null(json_object_get(c, "denominator")));
	else
		assert_int_equal(num(c, "denominator"), d);
	if (n < 0 || d < 0) {
		assert_true(json_is_null(json_object_get(c, "percent")));
		assert_true(json_is_true(json_object_get(c, "suppressed")));
	} else {
		assert_true(json_is_false(json_object_get(c, "suppressed")));
	}
}

static void
test_fixture(void **state)
{
	json_t *cases = parse(fixture), *res;
	const char *const groups[] = {"0-5",   "6-12",  "13-17",
	                              "18-24", "25-59", "60+"};
	size_t i;

	(void)state;
	res = compute(cases, 2023);
	assert_int_equal(num(res, "year"), 2023);
	assert_int_equal(num(res, "numerator"), 4);
	assert_int_equal(num(res, "denominator"), 7);
	pct(res, 57.1);
	for (i = 0; i < 6; i++)
		cell(res, "by_age_group", groups[i], -1, -1);
	assert_int_equal(json_object_size(json_object_get(res, "by_age_group")),
	                 6);
	cell(res, "by_violence", "physical", -1, -1);
	cell(res, "by_violence", "sexual", -1, -1);
	cell(res, "by_violence", "psychological", -1, -1);
	cell(res, "by_violence", "neglect", -1, -1);
	assert_int_equal(json_object_size(json_object_get(res, "by_violence")),
	                 4);
	json_decref(res);

	/*
	 * Year 2022: 5 (woman 40, trained) D,N; 6 (woman 28, untrained in
	 * 2022) D; 9 (woman 70, trained 2022) D,N. 2 / 3 = 66.66.. -> 66.7.
	 */
	res = compute(cases, 2022);
	assert_int_equal(num(res, "numerator"), 2);
	assert_int_equal(num(res, "denominator"), 3);
	pct(res, 66.7);
	json_decref(res);
	json_decref(cases);
}

/* N survivors of SEX and AGE, handled in YEAR; TRAINED of them served. */
static void
add(json_t *cases, int n, const char *sex, int age, const char *violence,
    int year, int trained)
{
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(
		    cases, json_pack("{s:s, s:i, s:[s], "
		                     "s:[i], s:[{s:i, s:b}]}",
		                     "sex", sex, "age", age, "violence",
		                     violence, "handled", year, "services",
		                     "year", year, "trained", i < trained));
}

static void
test_suppression(void **state)
{
	json_t *cases = json_array(), *res;

	(void)state;
	/*
	 * 25-59: 5 women of 30, all 5 served       d=5 n=5: shown, 100.0
	 * 18-24: 7 women of 20, 5 served           d=7 n=5, 2 unserved: n
	 *                                          hidden (2 = 7 - 5)
	 * 6-12:  4 girls of 8, 2 served            d=4: hidden
	 * 13-17: 3 girls of 15, 1 served           d=3: hidden
	 * Two hidden denominators and three hidden numerators: no second
	 * pass. Total D = 5+7+4+3 = 19, N = 5+5+2+1 = 13, 68.42..% -> 68.4.
	 * physical (women): d=12 n=10, 2 unserved: n hidden;
	 * sexual (girls): d=7 n=3: n hidden. Two hidden: no second pass.
	 */
	add(cases, 5, "female", 30, "physical", 2024, 5);
	add(cases, 7, "female", 20, "physical", 2024, 5);
	add(cases, 4, "female", 8, "sexual", 2024, 2);
	add(cases, 3, "female", 15, "sexual", 2024, 1);
	res = compute(cases, 2024);
	assert_int_equal(num(res, "numerator"), 13);
	assert_int_equal(num(res, "denominator"), 19);
	pct(res, 68.4);
	cell(res, "by_age_group", "25-59", 5, 5);
	pct(json_object_get(json_object_get(res, "by_age_group"), "25-59"),
	    100.0);
	cell(res, "by_age_group", "18-24", -1, 7);
	cell(res, "by_age_group", "6-12", -1, -1);
	cell(res, "by_age_group", "13-17", -1, -1);
	cell(res, "by_age_group", "0-5", 0, 0);
	cell(res, "by_age_group", "60+", 0, 0);
	assert_true(json_is_null(json_object_get(
	    json_object_get(json_object_get(res, "by_age_group"), "60+"),
	    "percent")));
	cell(res, "by_violence", "physical", -1, 12);
	cell(res, "by_violence", "sexual", -1, 7);
	json_decref(res);
	json_decref(cases);
}

static void
test_secondary_suppression(void **state)
{
	json_t *cases = json_array(), *res;
	char *csv;

	(void)state;
	/*
	 * 25-59: 6 women of 30, all served   d=6 n=6
	 * 18-24: 8 women of 20, all served   d=8 n=8
	 * 6-12:  2 girls of 10, both served  d=2: hidden
	 * One hidden cell would be 16 - 6 - 8 = 2, so the smallest shown
	 * non-zero cell (25-59, d=6) is hidden too. Total 16 / 16 = 100.0.
	 * physical: d=16 n=16, shown.
	 */
	add(cases, 6, "female", 30, "physical", 2025, 6);
	add(cases, 8, "female", 20, "physical", 2025, 8);
	add(cases, 2, "female", 10, "physical", 2025, 2);
	res = compute(cases, 2025);
	assert_int_equal(num(res, "numerator"), 16);
	assert_int_equal(num(res, "denominator"), 16);
	pct(res, 100.0);
	cell(res, "by_age_group", "6-12", -1, -1);
	cell(res, "by_age_group", "25-59", -1, -1);
	cell(res, "by_age_group", "18-24", 8, 8);
	cell(res, "by_violence", "physical", 16, 16);
	csv = cv_indicator_csv(res);
	assert_non_null(csv);
	assert_string_equal(
	    csv, "year,breakdown,group,numerator,denominator,percent\n"
	         "2025,total,all,16,16,100.0\n"
	         "2025,age_group,0-5,0,0,\n"
	         "2025,age_group,6-12,suppressed,suppressed,suppressed\n"
	         "2025,age_group,13-17,0,0,\n"
	         "2025,age_group,18-24,8,8,100.0\n"
	         "2025,age_group,25-59,suppressed,suppressed,suppressed\n"
	         "2025,age_group,60+,0,0,\n"
	         "2025,violence,physical,16,16,100.0\n");
	free(csv);
	json_decref(res);
	json_decref(cases);
}

static void
test_numerator_secondary(void **state)
{
	json_t *cases = json_array(), *res;

	(void)state;
	/*
	 * 25-59: 10 women, 3 served         d=10 n=3: n hidden
	 * 18-24: 6 women, all served        d=6 n=6
	 * 13-17: 9 girls, all served        d=9 n=9
	 * One hidden numerator would be 18 - 6 - 9 = 3; the smallest shown
	 * numerator (18-24, 6) is hidden too. Total 18 / 25 = 72.0.
	 */
	add(cases, 10, "female", 40, "physical", 2026, 3);
	add(cases, 6, "female", 19, "physical", 2026, 6);
	add(cases, 9, "female", 14, "physical", 2026, 9);
	res = compute(cases, 2026);
	assert_int_equal(num(res, "numerator"), 18);
	assert_int_equal(num(res, "denominator"), 25);
	pct(res, 72.0);
	cell(res, "by_age_group", "25-59", -1, 10);
	cell(res, "by_age_group", "18-24", -1, 6);
	cell(res, "by_age_group", "13-17", 9, 9);
	json_decref(res);
	json_decref(cases);
}

static void
test_empty_year(void **state)
{
	json_t *cases = parse(fixture), *res;
	char *csv;

	(void)state;
	res = compute(cases, 2030);
	assert_int_equal(num(res, "numerator"), 0);
	assert_int_equal(num(res, "denominator"), 0);
	assert_true(json_is_null(json_object_get(res, "percent")));
	assert_int_equal(json_object_size(json_object_get(res, "by_violence")),
	                 0);
	cell(res, "by_age_group", "0-5", 0, 0);
	csv = cv_indicator_csv(res);
	assert_non_null(csv);
	assert_non_null(strstr(csv, "2030,total,all,0,0,\n"));
	free(csv);
	json_decref(res);
	json_decref(cases);

	cases = json_array();
	res = compute(cases, 2023);
	assert_int_equal(num(res, "denominator"), 0);
	json_decref(res);
	json_decref(cases);
}

static void
bad(const char *one)
{
	json_t *cases, *out = (json_t *)1;
	char text[600];

	snprintf(text, sizeof(text), "[%s]", one);
	cases = parse(text);
	assert_int_equal(cv_indicator_compute(cases, 2023, &out), CV_EINVAL);
	assert_null(out);
	json_decref(cases);
}

#define GOOD_REST "\"violence\":[],\"handled\":[2023],\"services\":[]"

static void
test_malformed(void **state)
{
	json_t *out = NULL, *cases;

	(void)state;
	bad("1");
	bad("{\"sex\":\"other\",\"age\":9," GOOD_REST "}");
	bad("{\"age\":9," GOOD_REST "}");
	bad("{\"sex\":\"female\",\"age\":-1," GOOD_REST "}");
	bad("{\"sex\":\"female\",\"age\":151," GOOD_REST "}");
	bad("{\"sex\":\"female\",\"age\":\"9\"," GOOD_REST "}");
	bad("{\"sex\":\"female\",\"age\":9.5," GOOD_REST "}");
	bad("{\"sex\":\"female\",\"age\":9,\"name\":\"x\"," GOOD_REST "}");
	bad("{\"sex\":\"female\",\"age\":9,\"violence\":\"sexual\","
	    "\"handled\":[2023],\"services\":[]}");
	bad("{\"sex\":\"female\",\"age\":9,\"violence\":[\"Sexual Abuse\"],"
	    "\"handled\":[2023],\"services\":[]}");
	bad("{\"sex\":\"female\",\"age\":9,\"violence\":[\"=cmd\"],"
	    "\"handled\":[2023],\"services\":[]}");
	bad("{\"sex\":\"female\",\"age\":9,\"violence\":[\"sexual\","
	    "\"sexual\"],\"handled\":[2023],\"services\":[]}");
	bad("{\"sex\":\"female\",\"age\":9,\"violence\":[],"
	    "\"handled\":[\"2023\"],\"services\":[]}");
	bad("{\"sex\":\"female\",\"age\":9,\"violence\":[],"
	    "\"handled\":[2023],\"services\":[{\"year\":2023}]}");
	bad("{\"sex\":\"female\",\"age\":9,\"violence\":[],"
	    "\"handled\":[2023],\"services\":[{\"year\":2023,\"trained\":1}]}");
	bad("{\"sex\":\"female\",\"age\":9,\"violence\":[],"
	    "\"handled\":[2023],\"services\":[{\"year\":2023,\"trained\":true,"
	    "\"officer\":\"x\"}]}");
	/* A malformed case outside the year is still refused. */
	bad("{\"sex\":\"male\",\"age\":40,\"violence\":[],"
	    "\"handled\":[1999],\"services\":[{\"year\":99,\"trained\":true}]"
	    "}");
	cases = json_object();
	assert_int_equal(cv_indicator_compute(cases, 2023, &out), CV_EINVAL);
	json_decref(cases);
	cases = json_array();
	assert_int_equal(cv_indicator_compute(cases, 1899, &out), CV_EINVAL);
	assert_int_equal(cv_indicator_compute(NULL, 2023, &out), CV_EINVAL);
	json_decref(cases);
	assert_null(cv_indicator_csv(NULL));
	cases = parse(
	    "{\"year\":2023,\"numerator\":1,\"denominator\":1,"
	    "\"percent\":100.0,\"by_age_group\":{\"=1+1\":{\"numerator\":1,"
	    "\"denominator\":1,\"percent\":100.0,\"suppressed\":false}},"
	    "\"by_violence\":{}}");
	assert_null(cv_indicator_csv(cases));
	json_decref(cases);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixture),
	    cmocka_unit_test(test_suppression),
	    cmocka_unit_test(test_secondary_suppression),
	    cmocka_unit_test(test_numerator_secondary),
	    cmocka_unit_test(test_empty_year),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
