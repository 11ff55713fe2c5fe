/*
 * Assessment scoring against the shipped instrument definitions. Every
 * total and band below was added up by hand from the item values written
 * next to it; the band edges come from docs/assessments.md.
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
#include "rules/instrument.h"

struct fix {
	struct cv_instrument *hamd, *hama, *mmse;
};

static struct cv_instrument *
load_file(const char *path)
{
	struct cv_instrument *in = NULL;
	char err[200];
	size_t len;
	char *buf;

	assert_int_equal(cv_read_file(path, CV_INSTRUMENT_TEXT_MAX, &buf, &len),
	                 0);
	assert_int_equal(cv_instrument_load(buf, len, &in, err, sizeof(err)),
	                 0);
	free(buf);
	return in;
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->hamd = load_file("forms/instruments/hamd.json");
	f->hama = load_file("forms/instruments/hama.json");
	f->mmse = load_file("forms/instruments/mmse.json");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	cv_instrument_free(f->hamd);
	cv_instrument_free(f->hama);
	cv_instrument_free(f->mmse);
	free(f);
	return 0;
}

static json_t *
answers(const int *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return json_pack("{s:o}", "items", a);
}

/* Score V and check the total and band key; returns the result. */
static json_t *
check(const struct cv_instrument *in, const int *v, size_t n, int total,
      const char *band)
{
	json_t *a = answers(v, n), *out = NULL;
	char err[200];

	assert_int_equal(cv_assess_score(in, a, &out, err, sizeof(err)), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "total")),
	                 total);
	assert_string_equal(json_string_value(json_object_get(out, "severity")),
	                    band);
	json_decref(a);
	return out;
}

static void
refused(const struct cv_instrument *in, const json_t *a, const char *why)
{
	json_t *out = (json_t *)1;
	char err[200];

	assert_int_equal(cv_assess_score(in, a, &out, err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_null(out);
	assert_string_equal(err, why);
}

static void
test_shipped_definitions(void **state)
{
	struct fix *f = *state;

	assert_string_equal(cv_instrument_name(f->hamd), "hamd");
	assert_string_equal(cv_instrument_name(f->hama), "hama");
	assert_string_equal(cv_instrument_name(f->mmse), "mmse");
	assert_int_equal(cv_instrument_version(f->hamd), 1);
	assert_int_equal(cv_instrument_version(f->hama), 1);
	assert_int_equal(cv_instrument_version(f->mmse), 1);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_hamd_bands(void **state)
{
	struct fix *f = *state;
	/* Items 1-3, 7-11, 15 score 0-4; 4-6, 12-14, 16-17 score 0-2. */
	static const int t0[17] = {0};
	static const int t7[17] = {1, 1, 1, 1, 1, 1, 1};     /* 7 */
	static const int t8[17] = {2, 2, 2, 1, 1};           /* 8 */
	static const int t13[17] = {4, 4, 4, 1};             /* 13 */
	static const int t14[17] = {4, 4, 4, 2};             /* 14 */
	static const int t18[17] = {4, 4, 4, 2, 2, 2};       /* 18 */
	static const int t19[17] = {4, 4, 4, 2, 2, 2, 1};    /* 19 */
	static const int t22[17] = {4, 4, 4, 2, 2, 2, 4};    /* 22 */
	static const int t23[17] = {4, 4, 4, 2, 2, 2, 4, 1}; /* 23 */
	/* 12 + 6 + 20 + 6 + 4 + 4 = 52 */
	static const int t52[17] = {4, 4, 4, 2, 2, 2, 4, 4, 4,
	                            4, 4, 2, 2, 2, 4, 2, 2};
	json_t *o;

	json_decref(check(f->hamd, t0, 17, 0, "normal"));
	json_decref(check(f->hamd, t7, 17, 7, "normal"));
	json_decref(check(f->hamd, t8, 17, 8, "mild"));
	json_decref(check(f->hamd, t13, 17, 13, "mild"));
	json_decref(check(f->hamd, t14, 17, 14, "moderate"));
	json_decref(check(f->hamd, t18, 17, 18, "moderate"));
	json_decref(check(f->hamd, t19, 17, 19, "severe"));
	json_decref(check(f->hamd, t22, 17, 22, "severe"));
	json_decref(check(f->hamd, t23, 17, 23, "very_severe"));
	o = check(f->hamd, t52, 17, 52, "very_severe");
	assert_string_equal(
	    json_string_value(json_object_get(o, "severity_id")),
	    "Depresi sangat berat");
	json_decref(o);

	/* The stored form names the instrument and version and keeps items. */
	o = check(f->hamd, t8, 17, 8, "mild");
	assert_string_equal(json_string_value(json_object_get(o, "instrument")),
	                    "hamd");
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 1);
	assert_string_equal(
	    json_string_value(json_object_get(o, "severity_id")),
	    "Depresi ringan");
	assert_int_equal(json_array_size(json_object_get(o, "items")), 17);
	assert_int_equal(
	    json_integer_value(json_array_get(json_object_get(o, "items"), 3)),
	    1);
	assert_int_equal(json_object_size(o), 6);
	json_decref(o);
}

static void
test_hama_bands(void **state)
{
	struct fix *f = *state;
	static const int t0[14] = {0};
	static const int t17[14] = {4, 4, 4, 4, 1};          /* 17 */
	static const int t18[14] = {4, 4, 4, 4, 2};          /* 18 */
	static const int t24[14] = {4, 4, 4, 4, 4, 4};       /* 24 */
	static const int t25[14] = {4, 4, 4, 4, 4, 4, 1};    /* 25 */
	static const int t30[14] = {4, 4, 4, 4, 4, 4, 4, 2}; /* 30 */
	static const int t31[14] = {4, 4, 4, 4, 4, 4, 4, 3}; /* 31 */
	static const int t56[14] = {4, 4, 4, 4, 4, 4, 4,
	                            4, 4, 4, 4, 4, 4, 4}; /* 56 */
	json_t *o;

	json_decref(check(f->hama, t0, 14, 0, "mild"));
	json_decref(check(f->hama, t17, 14, 17, "mild"));
	json_decref(check(f->hama, t18, 14, 18, "mild_to_moderate"));
	json_decref(check(f->hama, t24, 14, 24, "mild_to_moderate"));
	json_decref(check(f->hama, t25, 14, 25, "moderate_to_severe"));
	json_decref(check(f->hama, t30, 14, 30, "moderate_to_severe"));
	json_decref(check(f->hama, t31, 14, 31, "severe"));
	o = check(f->hama, t56, 14, 56, "severe");
	assert_string_equal(
	    json_string_value(json_object_get(o, "severity_id")),
	    "Kecemasan berat");
	json_decref(o);
}

static void
test_mmse_bands(void **state)
{
	struct fix *f = *state;
	/* Maximums 5, 5, 3, 5, 3, 2, 1, 3, 1, 1, 1 = 30. */
	static const int t30[11] = {5, 5, 3, 5, 3, 2, 1, 3, 1, 1, 1};
	static const int t24[11] = {5, 5, 3, 5, 3, 2, 1}; /* 24 */
	static const int t23[11] = {5, 5, 3, 5, 3, 2};    /* 23 */
	static const int t18[11] = {5, 5, 3, 5};          /* 18 */
	static const int t17[11] = {5, 5, 3, 4};          /* 17 */
	static const int t0[11] = {0};
	json_t *o;

	json_decref(check(f->mmse, t30, 11, 30, "normal"));
	json_decref(check(f->mmse, t24, 11, 24, "normal"));
	json_decref(check(f->mmse, t23, 11, 23, "mild"));
	json_decref(check(f->mmse, t18, 11, 18, "mild"));
	json_decref(check(f->mmse, t17, 11, 17, "severe"));
	o = check(f->mmse, t0, 11, 0, "severe");
	assert_string_equal(
	    json_string_value(json_object_get(o, "severity_id")),
	    "Gangguan kognitif berat");
	json_decref(o);
}

static void
test_bad_answers(void **state)
{
	struct fix *f = *state;
	int v[18] = {0};
	json_t *a;

	v[3] = 3; /* item 4 is 0-2 */
	a = answers(v, 17);
	refused(f->hamd, a, "item 4: must be 0-2");
	json_decref(a);
	v[3] = 0;
	v[0] = 5; /* item 1 is 0-4 */
	a = answers(v, 17);
	refused(f->hamd, a, "item 1: must be 0-4");
	json_decref(a);
	v[0] = -1;
	a = answers(v, 17);
	refused(f->hamd, a, "item 1: must be 0-4");
	json_decref(a);
	v[0] = 0;

	a = answers(v, 16);
	refused(f->hamd, a, "items: expected 17, got 16");
	json_decref(a);
	a = answers(v, 18);
	refused(f->hamd, a, "items: expected 17, got 18");
	json_decref(a);
	a = answers(v, 0);
	refused(f->hamd, a, "items: expected 17, got 0");
	json_decref(a);

	a = answers(v, 17);
	json_array_set_new(json_object_get(a, "items"), 2, json_real(1.5));
	refused(f->hamd, a, "item 3: must be an integer");
	json_array_set_new(json_object_get(a, "items"), 2, json_real(1.0));
	refused(f->hamd, a, "item 3: must be an integer");
	json_array_set_new(json_object_get(a, "items"), 2, json_string("1"));
	refused(f->hamd, a, "item 3: must be an integer");
	json_array_set_new(json_object_get(a, "items"), 2, json_true());
	refused(f->hamd, a, "item 3: must be an integer");
	json_array_set_new(json_object_get(a, "items"), 2, json_null());
	refused(f->hamd, a, "item 3: must be an integer");
	json_decref(a);

	/* A huge value must not wrap into range. */
	a = answers(v, 17);
	json_array_set_new(json_object_get(a, "items"), 0,
	                   json_integer(4294967296LL));
	refused(f->hamd, a, "item 1: must be 0-4");
	json_decref(a);

	/* MMSE repetition (item 7) is worth one point. */
	v[6] = 2;
	a = answers(v, 11);
	refused(f->mmse, a, "item 7: must be 0-1");
	json_decref(a);

	a = json_pack("{s:[i,i], s:s}", "items", 1, 2, "note", "x");
	refused(f->hamd, a, "answers: must be {\"items\": [...]}");
	json_decref(a);
	a = json_pack("{s:i}", "items", 3);
	refused(f->hamd, a, "items: must be an array");
	json_decref(a);
	a = json_array();
	refused(f->hamd, a, "answers: must be {\"items\": [...]}");
	json_decref(a);
}

static json_t *
scored(const struct cv_instrument *in, const int *v, size_t n)
{
	json_t *a = answers(v, n), *out = NULL;

	assert_int_equal(cv_assess_score(in, a, &out, NULL, 0), 0);
	json_decref(a);
	return out;
}

static void
test_worse(void **state)
{
	struct fix *f = *state;
	static const int d10[17] = {4, 4, 2};                   /* 10 */
	static const int d15[17] = {4, 4, 4, 2, 1};             /* 15 */
	static const int a12[14] = {4, 4, 4};                   /* 12 */
	static const int a20[14] = {4, 4, 4, 4, 4};             /* 20 */
	static const int m28[11] = {5, 5, 3, 5, 3, 2, 1, 3, 1}; /* 28 */
	static const int m22[11] = {5, 5, 3, 5, 3, 1};          /* 22 */
	json_t *d1 = scored(f->hamd, d10, 17), *d2 = scored(f->hamd, d15, 17);
	json_t *a1 = scored(f->hama, a12, 14), *a2 = scored(f->hama, a20, 14);
	json_t *m1 = scored(f->mmse, m28, 11), *m2 = scored(f->mmse, m22, 11);
	json_t *forged;

	assert_int_equal(json_integer_value(json_object_get(d2, "total")), 15);
	assert_int_equal(json_integer_value(json_object_get(m2, "total")), 22);
	/* Higher is worse for HAM-D and HAM-A. */
	assert_int_equal(cv_assess_worse(f->hamd, d1, d2), 1);
	assert_int_equal(cv_assess_worse(f->hamd, d2, d1), 0);
	assert_int_equal(cv_assess_worse(f->hamd, d1, d1), 0);
	assert_int_equal(cv_assess_worse(f->hama, a1, a2), 1);
	assert_int_equal(cv_assess_worse(f->hama, a2, a1), 0);
	/* Lower is worse for MMSE. */
	assert_int_equal(cv_assess_worse(f->mmse, m1, m2), 1);
	assert_int_equal(cv_assess_worse(f->mmse, m2, m1), 0);
	assert_int_equal(cv_assess_worse(f->mmse, m2, m2), 0);
	/* Assessments of another instrument are not comparable. */
	assert_int_equal(cv_assess_worse(f->mmse, d1, m2), CV_EINVAL);
	assert_int_equal(cv_assess_worse(f->hamd, d1, a2), CV_EINVAL);
	assert_int_equal(cv_assess_worse(f->hamd, NULL, d1), CV_EINVAL);
	/* A total outside the instrument's range is not a scored result. */
	forged = json_deep_copy(d2);
	json_object_set_new(forged, "total", json_integer(53));
	assert_int_equal(cv_assess_worse(f->hamd, d1, forged), CV_EINVAL);
	json_decref(forged);
	json_decref(d1);
	json_decref(d2);
	json_decref(a1);
	json_decref(a2);
	json_decref(m1);
	json_decref(m2);
}

static int
load_str(const char *s, char *err, size_t errlen)
{
	struct cv_instrument *in = NULL;
	int r = cv_instrument_load(s, strlen(s), &in, err, errlen);

	if (r == 0)
		assert_non_null(in);
	else
		assert_null(in);
	cv_instrument_free(in);
	return r;
}

#define ITEMS2                                                                 \
	"\"items\":[{\"key\":\"a\",\"min\":0,\"max\":2},"                      \
	"{\"key\":\"b\",\"min\":0,\"max\":3}]"
#define HEAD "{\"instrument\":\"t\",\"version\":1,\"worse\":\"higher\","

static void
test_bad_definitions(void **state)
{
	char err[200], *big;

	(void)state;
	/* Reference: items sum to 0-5, bands 0-2 and 3-5 tile it. */
	assert_int_equal(
	    load_str(
	        HEAD ITEMS2
	        ",\"bands\":["
	        "{\"key\":\"low\",\"label_id\":\"rendah\",\"min\":0,\"max\":2},"
	        "{\"key\":\"high\",\"label_id\":\"tinggi\",\"min\":3,\"max\":5}"
	        "]}",
	        err, sizeof(err)),
	    0);
	/* A gap between bands. */
	assert_int_equal(
	    load_str(
	        HEAD ITEMS2
	        ",\"bands\":["
	        "{\"key\":\"low\",\"label_id\":\"r\",\"min\":0,\"max\":1},"
	        "{\"key\":\"high\",\"label_id\":\"t\",\"min\":3,\"max\":5}]}",
	        err, sizeof(err)),
	    CV_ESCHEMA);
	assert_string_equal(err, "band 2: must start at 2");
	/* Overlapping bands. */
	assert_int_equal(
	    load_str(
	        HEAD ITEMS2
	        ",\"bands\":["
	        "{\"key\":\"low\",\"label_id\":\"r\",\"min\":0,\"max\":3},"
	        "{\"key\":\"high\",\"label_id\":\"t\",\"min\":3,\"max\":5}]}",
	        err, sizeof(err)),
	    CV_ESCHEMA);
	/* Bands that stop short of the largest total. */
	assert_int_equal(
	    load_str(
	        HEAD ITEMS2
	        ",\"bands\":["
	        "{\"key\":\"low\",\"label_id\":\"r\",\"min\":0,\"max\":4}]}",
	        err, sizeof(err)),
	    CV_ESCHEMA);
	assert_string_equal(err, "bands: must end at the largest total 5");
	/* A band without its Indonesian label. */
	assert_int_equal(load_str(HEAD ITEMS2
	                          ",\"bands\":["
	                          "{\"key\":\"low\",\"min\":0,\"max\":5}]}",
	                          err, sizeof(err)),
	                 CV_ESCHEMA);
	/* An item with max < min, and with a negative minimum. */
	assert_int_equal(
	    load_str(HEAD
	             "\"items\":[{\"key\":\"a\",\"min\":3,"
	             "\"max\":2}],\"bands\":[{\"key\":\"x\",\"label_id\":\"x\","
	             "\"min\":0,\"max\":5}]}",
	             err, sizeof(err)),
	    CV_ESCHEMA);
	assert_int_equal(
	    load_str(HEAD
	             "\"items\":[{\"key\":\"a\",\"min\":-1,"
	             "\"max\":2}],\"bands\":[{\"key\":\"x\",\"label_id\":\"x\","
	             "\"min\":0,\"max\":2}]}",
	             err, sizeof(err)),
	    CV_ESCHEMA);
	/* Unknown field, bad direction, bad version, bad name. */
	assert_int_equal(load_str("{\"instrument\":\"t\",\"version\":1,"
	                          "\"worse\":\"higher\",\"extra\":1}",
	                          err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(load_str("{\"instrument\":\"t\",\"version\":1,"
	                          "\"worse\":\"up\"," ITEMS2 "}",
	                          err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(load_str("{\"instrument\":\"t\",\"version\":0,"
	                          "\"worse\":\"higher\"," ITEMS2 "}",
	                          err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(load_str("{\"instrument\":\"T T\",\"version\":1,"
	                          "\"worse\":\"higher\"," ITEMS2 "}",
	                          err, sizeof(err)),
	                 CV_ESCHEMA);
	/* Not JSON, not an object, too large. */
	assert_int_equal(load_str("{\"instrument\":", err, sizeof(err)),
	                 CV_EJSON);
	assert_int_equal(load_str("[1,2]", err, sizeof(err)), CV_EJSON);
	big = malloc(CV_INSTRUMENT_TEXT_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', CV_INSTRUMENT_TEXT_MAX + 1);
	big[CV_INSTRUMENT_TEXT_MAX + 1] = '\0';
	assert_int_equal(load_str(big, err, sizeof(err)), CV_ETOOBIG);
	free(big);
	assert_int_equal(cv_instrument_load(NULL, 0, NULL, err, sizeof(err)),
	                 CV_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_definitions),
	    cmocka_unit_test(test_hamd_bands),
	    cmocka_unit_test(test_hama_bands),
	    cmocka_unit_test(test_mmse_bands),
	    cmocka_unit_test(test_bad_answers),
	    cmocka_unit_test(test_worse),
	    cmocka_unit_test(test_bad_definitions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
