/*
 * Record schemas: every form loads, the validator refuses each broken rule
 * with the field path and never the value, every leaf has a class,
 * redaction removes what is not allowed, derived age turns at 18.
 * Run from the repository root (reads forms/ and tests/fixtures/records/).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/schema.h"
#include "base/util.h"

/* 2025-06-01T00:00:00Z, worked out with date -u -d @1748736000. */
#define NOW      1748736000000ULL
#define HOUR_MS  3600000ULL
#define FIXTURES "tests/fixtures/records/"

static struct cv_schema *
load_form(const char *type)
{
	char path[256], err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s = NULL;
	size_t len;
	char *text;
	int r;

	assert_int_equal(cv_path(path, sizeof(path), "forms/%s.json", type), 0);
	assert_int_equal(cv_read_file(path, CV_SCHEMA_TEXT_MAX, &text, &len),
	                 0);
	r = cv_schema_load(text, len, &s, err, sizeof(err));
	if (r != 0)
		fail_msg("%s: %s", path, err);
	free(text);
	assert_string_equal(cv_schema_type(s), type);
	return s;
}

static json_t *
load_record(const char *name)
{
	char path[256], *text;
	json_t *j;
	size_t len;

	assert_int_equal(cv_path(path, sizeof(path), FIXTURES "%s", name), 0);
	assert_int_equal(cv_read_file(path, CV_RECORD_MAX, &text, &len), 0);
	assert_int_equal(cv_json_parse_object(text, len, CV_RECORD_MAX, &j), 0);
	free(text);
	return j;
}

static int
load_def(const char *text, char *err, size_t errlen)
{
	struct cv_schema *s = NULL;
	int r;

	r = cv_schema_load(text, strlen(text), &s, err, errlen);
	if (r == 0)
		assert_non_null(s);
	else
		assert_null(s);
	cv_schema_free(s);
	return r;
}

/* --- loading ----------------------------------------------------------- */

static void
test_forms_load(void **state)
{
	static const struct {
		const char *type;
		unsigned version;
	} forms[] = {
	    {"intake", 1},   {"note", 1},    {"service_plan", 1},
	    {"referral", 1}, {"shelter", 1}, {"followup", 1},
	    {"legal", 1},    {"health", 1},
	};
	char fixture[128], err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s;
	json_t *rec;
	size_t i;

	(void)state;
	for (i = 0; i < CV_ARRAY_LEN(forms); i++) {
		s = load_form(forms[i].type);
		assert_int_equal(cv_schema_version(s), forms[i].version);
		snprintf(fixture, sizeof(fixture), "%s_valid.json",
		         forms[i].type);
		rec = load_record(fixture);
		if (cv_schema_validate(s, rec, NOW, err, sizeof(err)) != 0)
			fail_msg("%s: %s", fixture, err);
		assert_string_equal(err, "");
		json_decref(rec);
		cv_schema_free(s);
	}
}

/*
 * forms/ also holds other modules' definitions (the service flow); a record
 * schema is the JSON object with a "type" and "fields".
 */
static int
is_record_schema(const char *file)
{
	char path[256], *text;
	json_t *j;
	size_t len;
	int yes;

	assert_int_equal(cv_path(path, sizeof(path), "forms/%s", file), 0);
	assert_int_equal(cv_read_file(path, CV_SCHEMA_TEXT_MAX, &text, &len),
	                 0);
	assert_int_equal(
	    cv_json_parse_object(text, len, CV_SCHEMA_TEXT_MAX, &j), 0);
	yes = json_object_get(j, "type") != NULL &&
	      json_object_get(j, "fields") != NULL;
	json_decref(j);
	free(text);
	return yes;
}

static int
any_class(const char *path, int cls, void *arg)
{
	(void)arg;
	if (cls < 0 || cls >= CV_CLASS_COUNT)
		fail_msg("%s has no class", path);
	return 0;
}

static void
test_forms_dir_complete(void **state)
{
	char type[64], *dot;
	struct dirent *de;
	struct cv_schema *s;
	int n = 0;
	DIR *d;

	(void)state;
	assert_non_null(d = opendir("forms"));
	while ((de = readdir(d)) != NULL) {
		if ((dot = strrchr(de->d_name, '.')) == NULL ||
		    strcmp(dot, ".json") != 0)
			continue;
		assert_true((size_t)(dot - de->d_name) < sizeof(type));
		memcpy(type, de->d_name, (size_t)(dot - de->d_name));
		type[dot - de->d_name] = '\0';
		if (!is_record_schema(de->d_name))
			continue;
		s = load_form(type); /* the file name is the type */
		assert_int_equal(cv_schema_foreach_field(s, any_class, NULL),
		                 0);
		cv_schema_free(s);
		n++;
	}
	closedir(d);
	assert_true(n >= 8);
}

static void
test_definition_errors(void **state)
{
	static const struct {
		const char *def;
		int code;
		const char *err;
	} cases[] = {
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"string\"}}}",
	     CV_ESCHEMA, "a: no class"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"o\":{\"type\":"
	     "\"object\",\"fields\":{\"in\":{\"type\":\"date\"}}}}}",
	     CV_ESCHEMA, "o.in: no class"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"string\",\"class\":\"secrets\"}}}",
	     CV_ESCHEMA, "a: unknown class"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"string\",\"class\":\"identity\",\"maxlen\":3}}}",
	     CV_ESCHEMA, "a: attribute not allowed here"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"string\",\"class\":\"identity\",\"max\":65537}}}",
	     CV_ESCHEMA, "a: bound out of range"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"uuid\",\"class\":\"identity\"}}}",
	     CV_ESCHEMA, "a: unknown type"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"string\",\"class\":\"identity\",\"required_if\":{\"b\":"
	     "\"x\"}}}}",
	     CV_ESCHEMA, "a: required_if names no such"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"enum\",\"class\":\"identity\",\"values\":[{\"key\":\"x\","
	     "\"en\":\"X\"}]}}}",
	     CV_ESCHEMA, "a: enum value needs"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"array\",\"class\":\"identity\",\"max_items\":100000,"
	     "\"items\":{\"type\":\"string\"}}}}",
	     CV_ESCHEMA, "a: bound out of range"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{\"a\":{\"type\":"
	     "\"date\",\"class\":\"identity\",\"not_before\":\"b\"}}}",
	     CV_ESCHEMA, "a: not_before names no date sibling"},
	    {"{\"type\":\"t\",\"version\":0,\"fields\":{}}", CV_ESCHEMA,
	     "record: version must be"},
	    {"{\"type\":\"Bad Type\",\"version\":1,\"fields\":{}}", CV_ESCHEMA,
	     "record: type must be"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{},\"x\":1}", CV_ESCHEMA,
	     "record: unknown attribute"},
	    {"{\"type\":\"t\",\"version\":1,\"fields\":{}}", CV_ESCHEMA,
	     "record: fields must be a non-empty object"},
	    {"{\"type\":\"t\",", CV_EJSON, "record: not a JSON object"},
	    {"[1,2]", CV_EJSON, "record: not a JSON object"},
	};
	char err[CV_SCHEMA_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < CV_ARRAY_LEN(cases); i++) {
		assert_int_equal(load_def(cases[i].def, err, sizeof(err)),
		                 cases[i].code);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: got \"%s\"", i, err);
	}
	/* The same definition with the class set on the enclosing object. */
	assert_int_equal(
	    load_def(
	        "{\"type\":\"t\",\"version\":1,\"fields\":"
	        "{\"o\":{\"type\":\"object\",\"class\":\"health\",\"fields\":"
	        "{\"in\":{\"type\":\"date\"}}}}}",
	        err, sizeof(err)),
	    0);
}

static void
test_definition_bounds(void **state)
{
	char err[CV_SCHEMA_ERR_MAX], *def;
	size_t off = 0, cap = 64 * 1024;
	int i;

	(void)state;
	/* Nesting: fields seven levels deep, one more than allowed. */
	assert_int_equal(
	    load_def(
	        "{\"type\":\"t\",\"version\":1,\"fields\":"
	        "{\"a\":{\"type\":\"object\",\"class\":\"legal\",\"fields\":"
	        "{\"b\":{\"type\":\"object\",\"fields\":"
	        "{\"c\":{\"type\":\"object\",\"fields\":"
	        "{\"d\":{\"type\":\"object\",\"fields\":"
	        "{\"e\":{\"type\":\"object\",\"fields\":"
	        "{\"f\":{\"type\":\"object\",\"fields\":"
	        "{\"g\":{\"type\":\"string\"}}}}}}}}}}}}}}}",
	        err, sizeof(err)),
	    CV_ESCHEMA);
	assert_string_equal(err, "a.b.c.d.e.f.g: nested too deeply");

	/* Field count: CV_SCHEMA_FIELDS_MAX + 1 fields. */
	assert_non_null(def = malloc(cap));
	off += (size_t)snprintf(def, cap,
	                        "{\"type\":\"t\",\"version\":1,\"fields\":{");
	for (i = 0; i <= CV_SCHEMA_FIELDS_MAX; i++)
		off += (size_t)snprintf(
		    def + off, cap - off,
		    "%s\"f%d\":{\"type\":\"boolean\",\"class\":\"legal\"}",
		    i ? "," : "", i);
	snprintf(def + off, cap - off, "}}");
	assert_int_equal(load_def(def, err, sizeof(err)), CV_ESCHEMA);
	assert_string_equal(err, "f256: too many fields");
	free(def);
}

/* --- validation -------------------------------------------------------- */

static void
test_intake_invalid(void **state)
{
	static const struct {
		const char *file;
		const char *err;
		const char *value; /* must never appear in the message */
	} cases[] = {
	    {"intake_bad_nik_short.json", "survivor.nik: must be 16 digits",
	     "351001520395000"},
	    {"intake_bad_nik_letters.json", "survivor.nik: must be 16 digits",
	     "35100152039500AB"},
	    {"intake_bad_nik_date.json",
	     "survivor.nik: digits 7-12 must be a real date DDMMYY "
	     "(DD plus 40 for women)",
	     "3510017102950001"},
	    {"intake_bad_birth_future.json",
	     "survivor.birth_date: must not be in the future", "2025-07-04"},
	    {"intake_bad_enum.json",
	     "referral.source: not one of the allowed values",
	     "carrier_pigeon"},
	    {"intake_bad_missing.json", "survivor.name: required", NULL},
	    {"intake_bad_type.json",
	     "survivor.birth_date: must be a date YYYY-MM-DD", "19950312"},
	    {"intake_bad_unknown.json", "survivor: unknown field", "religion"},
	    {"intake_bad_oversize.json",
	     "survivor.name: must be at most 200 characters", "Sari"},
	    {"intake_bad_derived.json",
	     "survivor.age: derived from other fields, not entered", "30"},
	    {"intake_bad_control.json",
	     "survivor.name: must not contain control characters", "Sari"},
	    {"intake_bad_phone.json",
	     "contact.phone: must be a phone number: an optional +, "
	     "then 8 to 15 digits with spaces or dashes",
	     "ask-mother"},
	    {"intake_bad_perpetrator.json",
	     "incident.perpetrators[1].relationship: not one of the "
	     "allowed values",
	     "landlord"},
	    {"intake_bad_violence_empty.json",
	     "incident.violence_types: must have at least 1 items", NULL},
	    {"intake_bad_violence_repeat.json",
	     "incident.violence_types[1]: repeats an earlier item", "sexual"},
	    {"intake_bad_incident_future.json",
	     "incident.date: must not be in the future", "2025-06-03"},
	};
	char err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s;
	json_t *rec;
	size_t i;

	(void)state;
	s = load_form("intake");
	for (i = 0; i < CV_ARRAY_LEN(cases); i++) {
		rec = load_record(cases[i].file);
		assert_int_equal(
		    cv_schema_validate(s, rec, NOW, err, sizeof(err)),
		    CV_ESCHEMA);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("%s: got \"%s\"", cases[i].file, err);
		if (cases[i].value != NULL &&
		    strstr(err, cases[i].value) != NULL)
			fail_msg("%s: message leaks the value", cases[i].file);
		json_decref(rec);
	}
	cv_schema_free(s);
}

/* Set survivor.nik of the valid intake and validate. */
static int
with_nik(struct cv_schema *s, const char *nik, char *err, size_t errlen)
{
	json_t *rec = load_record("intake_valid.json");
	int r;

	json_object_set_new(json_object_get(rec, "survivor"), "nik",
	                    json_string(nik));
	r = cv_schema_validate(s, rec, NOW, err, errlen);
	json_decref(rec);
	return r;
}

static void
test_nik_dates(void **state)
{
	char err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s;

	(void)state;
	s = load_form("intake");
	/* Men: DD as is. 31 January 1980. */
	assert_int_equal(with_nik(s, "3510013101800002", err, sizeof(err)), 0);
	/* Women: DD + 40. 29 February 2000 (leap), 29 Feb 1996. */
	assert_int_equal(with_nik(s, "3510016902000001", err, sizeof(err)), 0);
	assert_int_equal(with_nik(s, "3510016902960001", err, sizeof(err)), 0);
	/* 29 February 2001 does not exist, nor 31 April, day 0, month 13,
	 * day 32 for men or 72 (32 + 40) for women. */
	assert_int_equal(with_nik(s, "3510016902010001", err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(with_nik(s, "3510013104900001", err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(with_nik(s, "3510010001900001", err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(with_nik(s, "3510011513900001", err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(with_nik(s, "3510013201900001", err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(with_nik(s, "3510017201900001", err, sizeof(err)),
	                 CV_ESCHEMA);
	/* 40 itself is day 0 for women. */
	assert_int_equal(with_nik(s, "3510014001900001", err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_string_equal(err, "survivor.nik: digits 7-12 must be a real "
	                         "date DDMMYY (DD plus 40 for women)");
	/* 17 digits, and a non-ASCII digit. */
	assert_int_equal(with_nik(s, "35100152039500011", err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(
	    with_nik(s, "351001520395000\xd9\xa1", err, sizeof(err)),
	    CV_ESCHEMA);
	assert_string_equal(err, "survivor.nik: must be 16 digits");
	cv_schema_free(s);
}

static void
test_not_future_boundary(void **state)
{
	char err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s;
	json_t *rec;

	(void)state;
	s = load_form("intake");
	rec = load_record("intake_valid.json");
	json_object_set_new(json_object_get(rec, "incident"), "date",
	                    json_string("2025-06-02"));
	/* 2 June begins in UTC+14 at 1 June 10:00 UTC. */
	assert_int_equal(cv_schema_validate(s, rec, NOW + 10 * HOUR_MS - 1, err,
	                                    sizeof(err)),
	                 CV_ESCHEMA);
	assert_int_equal(
	    cv_schema_validate(s, rec, NOW + 10 * HOUR_MS, err, sizeof(err)),
	    0);
	json_decref(rec);
	cv_schema_free(s);
}

static void
test_wrong_shapes(void **state)
{
	static const struct {
		const char *json;
		const char *err;
	} cases[] = {
	    {"{\"survivor\":[]}", "survivor: must be an object"},
	    {"{\"survivor\":{\"name\":7}}", "survivor.name: must be a string"},
	    {"{\"survivor\":{\"name\":\"   \",\"birth_date\":"
	     "\"1990-01-01\"}}",
	     "survivor.name: must not be blank"},
	    {"{\"survivor\":{\"name\":\"A\",\"birth_date\":\"1990-02-30\"}}",
	     "survivor.birth_date: must be a date YYYY-MM-DD"},
	    {"{\"survivor\":{\"name\":\"A\",\"birth_date\":"
	     "\"1990-01-01T00:00Z\"}}",
	     "survivor.birth_date: must be a date YYYY-MM-DD"},
	    {"{\"survivor\":{\"name\":\"A\",\"birth_date\":\"1990-01-01\","
	     "\"disability\":{\"present\":\"yes\"}}}",
	     "survivor.disability.present: must be true or false"},
	    {"{\"survivor\":{\"name\":\"A\",\"birth_date\":\"1990-01-01\","
	     "\"sex\":null}}",
	     "survivor.sex: not one of the allowed values"},
	    {"{\"survivor\":{\"name\":\"A\",\"birth_date\":\"1990-01-01\"}}",
	     "referral: required"},
	    {"{\"survivor\":{\"name\":\"A\",\"birth_date\":\"1990-01-01\"},"
	     "\"referral\":{\"source\":\"police\"},\"incident\":"
	     "{\"violence_types\":\"sexual\"}}",
	     "incident.violence_types: must be an array"},
	    {"{\"survivor\":{\"name\":\"A\\u0085B\",\"birth_date\":"
	     "\"1990-01-01\"}}",
	     "survivor.name: must not contain control characters"},
	};
	char err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s;
	json_t *rec;
	size_t i;

	(void)state;
	s = load_form("intake");
	for (i = 0; i < CV_ARRAY_LEN(cases); i++) {
		assert_int_equal(cv_json_parse_object(cases[i].json,
		                                      strlen(cases[i].json),
		                                      CV_RECORD_MAX, &rec),
		                 0);
		assert_int_equal(
		    cv_schema_validate(s, rec, NOW, err, sizeof(err)),
		    CV_ESCHEMA);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: got \"%s\"", i, err);
		json_decref(rec);
	}
	rec = json_array();
	assert_int_equal(cv_schema_validate(s, rec, NOW, err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_string_equal(err, "record: must be an object");
	json_decref(rec);
	assert_int_equal(cv_schema_validate(s, NULL, NOW, err, sizeof(err)),
	                 CV_EINVAL);
	cv_schema_free(s);
}

static void
test_service_plan(void **state)
{
	static const struct {
		const char *file;
		int code;
		const char *err;
	} cases[] = {
	    {"service_plan_valid.json", 0, ""},
	    {"service_plan_residential_valid.json", 0, ""},
	    {"service_plan_bad_residential_no_reason.json", CV_ESCHEMA,
	     "plan.reason: required when basis is residential"},
	    {"service_plan_bad_residential_blank.json", CV_ESCHEMA,
	     "plan.reason: must not be blank"},
	    {"service_plan_bad_subtype.json", CV_ESCHEMA,
	     "plan.services[1].subtype: not allowed for the chosen "
	     "component"},
	    {"service_plan_bad_end_before_start.json", CV_ESCHEMA,
	     "plan.services[0].end: must not be before start"},
	};
	char err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s;
	json_t *rec;
	size_t i;

	(void)state;
	s = load_form("service_plan");
	for (i = 0; i < CV_ARRAY_LEN(cases); i++) {
		rec = load_record(cases[i].file);
		assert_int_equal(
		    cv_schema_validate(s, rec, NOW, err, sizeof(err)),
		    cases[i].code);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("%s: got \"%s\"", cases[i].file, err);
		json_decref(rec);
	}
	/* A subtype with no component is refused too. */
	rec = load_record("service_plan_valid.json");
	json_object_del(
	    json_array_get(
	        json_object_get(json_object_get(rec, "plan"), "services"), 0),
	    "component");
	assert_int_equal(cv_schema_validate(s, rec, NOW, err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_string_equal(err, "plan.services[0].component: required");
	json_decref(rec);
	cv_schema_free(s);
}

/* --- classification ---------------------------------------------------- */

struct seen {
	int n;
	char paths[CV_SCHEMA_FIELDS_MAX][128];
	int cls[CV_SCHEMA_FIELDS_MAX];
};

static int
collect(const char *path, int cls, void *arg)
{
	struct seen *s = arg;

	if (cls < 0 || cls >= CV_CLASS_COUNT)
		fail_msg("%s has no class", path);
	assert_true(s->n < CV_SCHEMA_FIELDS_MAX);
	snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
	s->cls[s->n++] = cls;
	return 0;
}

static int
class_of(const struct seen *s, const char *path)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->paths[i], path) == 0)
			return s->cls[i];
	fail_msg("no field %s", path);
	return -1;
}

static void
test_every_leaf_classified(void **state)
{
	static const struct {
		const char *type, *path;
		int cls;
	} known[] = {
	    {"intake", "survivor.name", CV_CLASS_IDENTITY},
	    {"intake", "survivor.nik", CV_CLASS_IDENTITY},
	    {"intake", "survivor.child", CV_CLASS_IDENTITY},
	    {"intake", "survivor.disability.kinds", CV_CLASS_IDENTITY},
	    {"intake", "contact.safe_channel.channel", CV_CLASS_CONTACT},
	    {"intake", "referral.source", CV_CLASS_CASE_ADMIN},
	    {"intake", "incident.place.village", CV_CLASS_INCIDENT},
	    {"intake", "incident.perpetrators[].relationship",
	     CV_CLASS_INCIDENT},
	    {"intake", "case_admin.opened", CV_CLASS_CASE_ADMIN},
	    {"note", "text", CV_CLASS_COUNSELING_NOTE},
	    {"note", "kind", CV_CLASS_COUNSELING_NOTE},
	    {"note", "session_date", CV_CLASS_CASE_ADMIN},
	    {"service_plan", "plan.services[].subtype", CV_CLASS_SERVICES},
	    {"referral", "to", CV_CLASS_SERVICES},
	    {"shelter", "location.address", CV_CLASS_CONTACT},
	    {"shelter", "start", CV_CLASS_SERVICES},
	    {"followup", "outcome", CV_CLASS_SERVICES},
	    {"legal", "court_documents[].reference", CV_CLASS_LEGAL},
	    {"health", "visum.reference", CV_CLASS_HEALTH},
	    {"health", "medication[].name", CV_CLASS_HEALTH},
	};
	static const char *const types[] = {
	    "intake",  "note",     "service_plan", "referral",
	    "shelter", "followup", "legal",        "health"};
	static struct seen seen;
	struct cv_schema *s;
	size_t i, j;

	(void)state;
	for (i = 0; i < CV_ARRAY_LEN(types); i++) {
		memset(&seen, 0, sizeof(seen));
		s = load_form(types[i]);
		assert_int_equal(cv_schema_foreach_field(s, collect, &seen), 0);
		assert_true(seen.n > 2);
		for (j = 0; j < CV_ARRAY_LEN(known); j++)
			if (strcmp(known[j].type, types[i]) == 0)
				assert_int_equal(class_of(&seen, known[j].path),
				                 known[j].cls);
		cv_schema_free(s);
	}
}

static void
test_classes_of_record(void **state)
{
	struct cv_schema *s;
	json_t *rec;

	(void)state;
	s = load_form("intake");
	rec = load_record("intake_valid.json");
	assert_int_equal(cv_schema_classes(s, rec),
	                 CV_CLASS_BIT(CV_CLASS_IDENTITY) |
	                     CV_CLASS_BIT(CV_CLASS_CONTACT) |
	                     CV_CLASS_BIT(CV_CLASS_INCIDENT) |
	                     CV_CLASS_BIT(CV_CLASS_CASE_ADMIN));
	json_object_del(rec, "contact");
	json_object_del(rec, "survivor");
	assert_int_equal(cv_schema_classes(s, rec),
	                 CV_CLASS_BIT(CV_CLASS_INCIDENT) |
	                     CV_CLASS_BIT(CV_CLASS_CASE_ADMIN));
	/* A key the schema does not know has no class: it asks for all. */
	json_object_set_new(rec, "stowaway", json_string("x"));
	assert_int_equal(cv_schema_classes(s, rec), CV_CLASS_ALL);
	json_decref(rec);
	cv_schema_free(s);
}

/* --- redaction --------------------------------------------------------- */

static void
walk_keys(const json_t *j, const char *const *banned, size_t nbanned)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(j))
		for (i = 0; i < json_array_size(j); i++)
			walk_keys(json_array_get(j, i), banned, nbanned);
	if (!json_is_object(j))
		return;
	json_object_foreach((json_t *)j, k, v)
	{
		for (i = 0; i < nbanned; i++)
			if (strcmp(k, banned[i]) == 0)
				fail_msg("redacted output holds %s", k);
		walk_keys(v, banned, nbanned);
	}
}

static void
test_redact_to_incident(void **state)
{
	/* incident.perpetrators[].name is incident class and stays. */
	static const char *const banned[] = {
	    "survivor",     "nik",      "birth_date", "sex",
	    "disability",   "contact",  "address",    "phone",
	    "safe_channel", "referral", "source",     "case_admin",
	    "text"};
	char err[CV_SCHEMA_ERR_MAX];
	cv_classmask withheld;
	struct cv_schema *s;
	json_t *rec, *out;
	char *dump;

	(void)state;
	s = load_form("intake");
	rec = load_record("intake_valid.json");
	assert_int_equal(cv_schema_redact(s, rec,
	                                  CV_CLASS_BIT(CV_CLASS_INCIDENT), &out,
	                                  &withheld),
	                 0);
	walk_keys(out, banned, CV_ARRAY_LEN(banned));
	assert_int_equal(withheld, CV_CLASS_BIT(CV_CLASS_IDENTITY) |
	                               CV_CLASS_BIT(CV_CLASS_CONTACT) |
	                               CV_CLASS_BIT(CV_CLASS_CASE_ADMIN));
	assert_int_equal(json_object_size(out), 1);
	assert_int_equal(cv_schema_classes(s, out),
	                 CV_CLASS_BIT(CV_CLASS_INCIDENT));
	/* Nothing personal survives in the text, and the incident does. */
	assert_non_null(dump = cv_json_canonical(out));
	assert_null(strstr(dump, "Sari"));
	assert_null(strstr(dump, "3510015203950001"));
	assert_null(strstr(dump, "+62"));
	assert_non_null(strstr(dump, "\"violence_types\":[\"physical\","
	                             "\"psychological\"]"));
	assert_non_null(strstr(dump, "Budi"));
	free(dump);
	/* The input is untouched. */
	assert_non_null(json_object_get(rec, "survivor"));
	json_decref(out);

	/* Redacting everything leaves {} and withholds every class present. */
	assert_int_equal(cv_schema_redact(s, rec, 0, &out, &withheld), 0);
	assert_int_equal(json_object_size(out), 0);
	assert_int_equal(withheld, cv_schema_classes(s, rec));
	json_decref(out);

	/* An unknown key is dropped even when everything is allowed. */
	json_object_set_new(json_object_get(rec, "survivor"), "stowaway",
	                    json_string("x"));
	assert_int_equal(
	    cv_schema_redact(s, rec, CV_CLASS_ALL, &out, &withheld), 0);
	assert_int_equal(withheld, 0);
	assert_null(
	    json_object_get(json_object_get(out, "survivor"), "stowaway"));
	json_object_del(json_object_get(rec, "survivor"), "stowaway");
	assert_true(json_equal(out, rec));
	assert_int_equal(cv_schema_validate(s, out, NOW, err, sizeof(err)), 0);
	json_decref(out);
	json_decref(rec);
	cv_schema_free(s);
}

static void
test_redact_mixed_classes(void **state)
{
	cv_classmask withheld;
	struct cv_schema *s;
	json_t *rec, *out;

	(void)state;
	/* The shelter's location is contact, the placement services. */
	s = load_form("shelter");
	rec = load_record("shelter_valid.json");
	assert_int_equal(cv_schema_redact(s, rec,
	                                  CV_CLASS_BIT(CV_CLASS_SERVICES), &out,
	                                  &withheld),
	                 0);
	assert_null(json_object_get(out, "location"));
	assert_string_equal(
	    json_string_value(json_object_get(out, "shelter_type")),
	    "safe_house");
	assert_int_equal(withheld, CV_CLASS_BIT(CV_CLASS_CONTACT));
	json_decref(out);
	json_decref(rec);
	cv_schema_free(s);

	/* A note shared without counseling_note keeps only its dates. */
	s = load_form("note");
	rec = load_record("note_valid.json");
	assert_int_equal(cv_schema_redact(s, rec,
	                                  CV_CLASS_BIT(CV_CLASS_CASE_ADMIN),
	                                  &out, &withheld),
	                 0);
	assert_int_equal(json_object_size(out), 2);
	assert_null(json_object_get(out, "text"));
	assert_null(json_object_get(out, "kind"));
	assert_int_equal(withheld, CV_CLASS_BIT(CV_CLASS_COUNSELING_NOTE));
	json_decref(out);
	json_decref(rec);
	cv_schema_free(s);
}

/* --- derived fields, child flag, labels -------------------------------- */

static void
test_derived_age_at_18(void **state)
{
	/* Born 2007-06-01: 18 on 2025-06-01 (NOW). */
	struct cv_schema *s;
	json_t *rec, *out, *sv;
	char err[CV_SCHEMA_ERR_MAX];

	(void)state;
	s = load_form("intake");
	rec = load_record("intake_child_valid.json");
	assert_int_equal(cv_schema_validate(s, rec, NOW, err, sizeof(err)), 0);

	assert_int_equal(cv_schema_derive(s, rec, NOW - 1, &out), 0);
	sv = json_object_get(out, "survivor");
	assert_int_equal(json_integer_value(json_object_get(sv, "age")), 17);
	assert_true(json_is_true(json_object_get(sv, "child")));
	json_decref(out);
	assert_int_equal(cv_schema_child(rec, NOW - 1), 1);
	assert_int_equal(cv_schema_child(rec, NOW - 24 * HOUR_MS), 1);

	assert_int_equal(cv_schema_derive(s, rec, NOW, &out), 0);
	sv = json_object_get(out, "survivor");
	assert_int_equal(json_integer_value(json_object_get(sv, "age")), 18);
	assert_true(json_is_false(json_object_get(sv, "child")));
	/* Derived values are for display: the view does not validate. */
	assert_int_equal(cv_schema_validate(s, out, NOW, err, sizeof(err)),
	                 CV_ESCHEMA);
	assert_string_equal(err, "survivor.age: derived from other fields, "
	                         "not entered");
	/* Derived fields carry the class of what they derive from. */
	json_decref(rec);
	assert_int_equal(cv_schema_redact(s, out,
	                                  CV_CLASS_BIT(CV_CLASS_INCIDENT), &rec,
	                                  NULL),
	                 0);
	assert_null(json_object_get(rec, "survivor"));
	json_decref(rec);
	json_decref(out);
	rec = load_record("intake_child_valid.json");
	assert_int_equal(cv_schema_child(rec, NOW), 0);
	/* The record itself is never changed. */
	assert_null(json_object_get(json_object_get(rec, "survivor"), "age"));

	/* 29 February 2008 births: still 17 on 2026-02-28, 18 on 2026-03-01. */
	json_object_set_new(json_object_get(rec, "survivor"), "birth_date",
	                    json_string("2008-02-29"));
	assert_int_equal(cv_schema_child(rec, 1772236800000ULL), 1);
	assert_int_equal(cv_schema_child(rec, 1772323200000ULL), 0);

	/* Missing or bad birth dates are errors, never "adult". */
	json_object_set_new(json_object_get(rec, "survivor"), "birth_date",
	                    json_string("2030-01-01"));
	assert_true(cv_schema_child(rec, NOW) < 0);
	assert_int_equal(cv_schema_derive(s, rec, NOW, &out), 0);
	assert_null(json_object_get(json_object_get(out, "survivor"), "age"));
	json_decref(out);
	json_object_set_new(json_object_get(rec, "survivor"), "birth_date",
	                    json_integer(2007));
	assert_true(cv_schema_child(rec, NOW) < 0);
	json_object_del(rec, "survivor");
	assert_true(cv_schema_child(rec, NOW) < 0);
	json_decref(rec);
	cv_schema_free(s);
}

static void
test_labels_and_perpetrators(void **state)
{
	struct cv_schema *s;
	const json_t *p;
	json_t *rec;

	(void)state;
	s = load_form("intake");
	assert_string_equal(
	    cv_schema_label(s, "referral.source", "walk_in", "id"),
	    "Datang langsung");
	assert_string_equal(
	    cv_schema_label(s, "referral.source", "walk_in", "en"), "Walk-in");
	assert_string_equal(
	    cv_schema_label(s, "incident.perpetrators[].relationship",
	                    "step_parent", "id"),
	    "Orang tua tiri");
	assert_string_equal(
	    cv_schema_label(s, "incident.perpetrators.relationship",
	                    "recruiter", "en"),
	    "Recruiter or trafficker");
	assert_string_equal(
	    cv_schema_label(s, "incident.violence_types", "trafficking", "id"),
	    "Tindak pidana perdagangan orang (TPPO)");
	assert_null(cv_schema_label(s, "referral.source", "walk_in", "fr"));
	assert_null(cv_schema_label(s, "referral.source", "teleport", "en"));
	assert_null(cv_schema_label(s, "referral.nothing", "walk_in", "en"));
	assert_null(cv_schema_label(s, "survivor.name", "x", "en"));
	assert_null(cv_schema_label(s, "", "x", "en"));
	assert_null(cv_schema_label(s, "referral..source", "walk_in", "en"));

	rec = load_record("intake_child_valid.json");
	assert_non_null(p = cv_schema_perpetrators(rec));
	assert_int_equal(json_array_size(p), 2);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(p, 0), "relationship")),
	                    "recruiter");
	json_object_del(json_object_get(rec, "incident"), "perpetrators");
	assert_null(cv_schema_perpetrators(rec));
	json_decref(rec);
	cv_schema_free(s);

	s = load_form("service_plan");
	assert_string_equal(
	    cv_schema_label(s, "plan.services.subtype", "reunification", "id"),
	    "Reunifikasi");
	assert_string_equal(
	    cv_schema_label(s, "plan.basis", "residential", "en"),
	    "Residential (last resort)");
	cv_schema_free(s);
}

/* --- what the vault knows of a type: timeline and service ---------------- */

/* A definition with the keys in USES before its fields. */
#define USES_DEF(uses)                                                        \
	"{\"type\":\"t\",\"version\":1," uses "\"fields\":{"                    \
	"\"d\":{\"type\":\"date\",\"class\":\"services\"},"                     \
	"\"s\":{\"type\":\"string\",\"class\":\"services\"},"                   \
	"\"l\":{\"type\":\"array\",\"class\":\"legal\",\"items\":{\"type\":"    \
	"\"object\",\"fields\":{\"on\":{\"type\":\"date\"}}}}}}"

static void
test_uses_errors(void **state)
{
	static const struct {
		const char *def;
		const char *err;
	} cases[] = {
	    {USES_DEF("\"service\":\"yes\","),
	     "service: attribute must be true or false"},
	    {USES_DEF("\"service\":null,"),
	     "service: attribute must be true or false"},
	    {USES_DEF("\"timeline\":\"d\","),
	     "timeline: must be {\"date\", \"label\"}"},
	    {USES_DEF("\"title\":{\"en\":\"T\",\"id\":\"T\"},"
	              "\"timeline\":{\"date\":\"d\",\"when\":\"x\"},"),
	     "timeline: unknown attribute"},
	    {USES_DEF("\"timeline\":{},"), "timeline.date: must name a date "
	                                   "field"},
	    {USES_DEF("\"timeline\":{\"date\":7},"),
	     "timeline.date: must name a date field"},
	    {USES_DEF("\"timeline\":{\"date\":\"s\"},"),
	     "timeline.date: must name a date field"},
	    {USES_DEF("\"timeline\":{\"date\":\"nothing\"},"),
	     "timeline.date: must name a date field"},
	    {USES_DEF("\"timeline\":{\"date\":\"d.\"},"),
	     "timeline.date: must name a date field"},
	    {USES_DEF("\"timeline\":{\"date\":\"\"},"),
	     "timeline.date: must name a date field"},
	    {USES_DEF("\"timeline\":{\"date\":\"l\"},"),
	     "timeline.date: must name a date field"},
	    {USES_DEF("\"timeline\":{\"date\":\"l.on.x\"},"),
	     "timeline.date: must name a date field"},
	    {USES_DEF("\"timeline\":{\"date\":\"d\"},"),
	     "timeline.label: needed when there is no title"},
	    {USES_DEF("\"timeline\":{\"date\":\"d\",\"label\":{\"en\":\"D\"}},"),
	     "timeline.label: must be {\"en\", \"id\"}"},
	    {USES_DEF("\"timeline\":{\"date\":\"d\",\"label\":{\"en\":\"D\","
	              "\"id\":\"\"}},"),
	     "timeline.label: must be {\"en\", \"id\"}"},
	};
	char err[CV_SCHEMA_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < CV_ARRAY_LEN(cases); i++) {
		assert_int_equal(load_def(cases[i].def, err, sizeof(err)),
		                 CV_ESCHEMA);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: got \"%s\"", i, err);
	}
	/* Positive controls: the same definitions, well formed. */
	assert_int_equal(load_def(USES_DEF("\"service\":false,"), err,
	                          sizeof(err)),
	                 0);
	assert_int_equal(
	    load_def(USES_DEF("\"title\":{\"en\":\"T\",\"id\":\"T\"},"
	                      "\"timeline\":{\"date\":\"d\"},"),
	             err, sizeof(err)),
	    0);
	assert_int_equal(
	    load_def(USES_DEF("\"timeline\":{\"date\":\"l[].on\","
	                      "\"label\":{\"en\":\"D\",\"id\":\"T\"}},"),
	             err, sizeof(err)),
	    0);
}

static struct cv_schema *
load_uses(const char *def)
{
	char err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s = NULL;

	if (cv_schema_load(def, strlen(def), &s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return s;
}

static const char *
date_of(const struct cv_schema *s, const char *record, json_t **keep)
{
	json_decref(*keep);
	assert_non_null(*keep = json_loads(record, 0, NULL));
	return cv_schema_record_date(s, *keep);
}

/* The answers come from the definition alone: unset, set, set otherwise. */
static void
test_uses_from_data(void **state)
{
	struct cv_schema *s;
	json_t *rec = NULL;

	(void)state;
	s = load_uses(USES_DEF(""));
	assert_int_equal(cv_schema_service(s), 0);
	assert_null(cv_schema_timeline_date(s));
	assert_int_equal(cv_schema_timeline_class(s), -1);
	assert_null(cv_schema_timeline_label(s, "en"));
	assert_null(date_of(s, "{\"d\":\"2024-05-01\"}", &rec));
	cv_schema_free(s);

	s = load_uses(USES_DEF("\"title\":{\"en\":\"Visit\",\"id\":\"Kunjungan\"},"
	                       "\"service\":true,\"timeline\":{\"date\":\"d\"},"));
	assert_int_equal(cv_schema_service(s), 1);
	assert_string_equal(cv_schema_timeline_date(s), "d");
	assert_int_equal(cv_schema_timeline_class(s), CV_CLASS_SERVICES);
	assert_string_equal(cv_schema_timeline_label(s, "en"), "Visit");
	assert_string_equal(cv_schema_timeline_label(s, "id"), "Kunjungan");
	assert_null(cv_schema_timeline_label(s, "fr"));
	assert_null(cv_schema_timeline_label(s, NULL));
	assert_string_equal(date_of(s, "{\"d\":\"2024-05-01\"}", &rec),
	                    "2024-05-01");
	assert_null(date_of(s, "{\"s\":\"x\"}", &rec)); /* withheld */
	assert_null(date_of(s, "{\"d\":\"2024-02-30\"}", &rec));
	assert_null(date_of(s, "{\"d\":20240501}", &rec));
	assert_null(cv_schema_record_date(s, NULL));
	cv_schema_free(s);

	/* Through an array: the earliest valid date; the label its own. */
	s = load_uses(USES_DEF("\"service\":false,\"timeline\":{\"date\":"
	                       "\"l.on\",\"label\":{\"en\":\"Hearing\","
	                       "\"id\":\"Sidang\"}},"));
	assert_int_equal(cv_schema_service(s), 0);
	assert_int_equal(cv_schema_timeline_class(s), CV_CLASS_LEGAL);
	assert_string_equal(cv_schema_timeline_label(s, "id"), "Sidang");
	assert_string_equal(
	    date_of(s,
	            "{\"l\":[{\"on\":\"2024-03-02\"},{\"on\":\"2023-12-31\"},"
	            "{\"on\":\"2023-02-29\"},{},\"x\",[{\"on\":\"1999-01-01\"}],"
	            "{\"on\":\"2024-01-15\"}]}",
	            &rec),
	    "2023-12-31");
	assert_null(date_of(s, "{\"l\":[]}", &rec));
	assert_null(date_of(s, "{\"l\":{\"on\":\"2024-03-02\"}}", &rec));
	assert_null(date_of(s, "{\"d\":\"2024-03-02\"}", &rec));
	json_decref(rec);
	cv_schema_free(s);
	assert_int_equal(cv_schema_service(NULL), 0);
	assert_null(cv_schema_timeline_date(NULL));
	assert_int_equal(cv_schema_timeline_class(NULL), -1);
}

/*
 * What the shipped definitions declare, as the case timeline and the
 * indicator counted them when the lists were written in C.
 */
static void
test_uses_of_forms(void **state)
{
	static const struct {
		const char *type;
		int service;
		const char *date, *fixture, *at, *en, *id;
	} forms[] = {
	    {"intake", 0, NULL, NULL, NULL, NULL, NULL},
	    {"note", 1, NULL, NULL, NULL, NULL, NULL},
	    {"assessment", 1, NULL, NULL, NULL, NULL, NULL},
	    {"legal", 0, NULL, NULL, NULL, NULL, NULL},
	    {"health", 0, NULL, NULL, NULL, NULL, NULL},
	    {"referral", 1, "date", "referral_valid.json", "2025-05-22",
	     "Referral", "Rujukan"},
	    {"shelter", 1, "start", "shelter_valid.json", "2025-05-21",
	     "Shelter placement", "Penempatan rumah aman"},
	    {"followup", 1, "date", "followup_valid.json", "2025-05-30",
	     "Follow-up", "Tindak lanjut"},
	    {"service_plan", 1, "plan.services[].start",
	     "service_plan_valid.json", "2025-06-01", "ATENSI service plan",
	     "Rencana layanan ATENSI"},
	};
	struct cv_schema *s;
	json_t *rec;
	size_t i;

	(void)state;
	for (i = 0; i < CV_ARRAY_LEN(forms); i++) {
		s = load_form(forms[i].type);
		assert_int_equal(cv_schema_service(s), forms[i].service);
		if (forms[i].date == NULL) {
			assert_null(cv_schema_timeline_date(s));
			assert_int_equal(cv_schema_timeline_class(s), -1);
			cv_schema_free(s);
			continue;
		}
		assert_string_equal(cv_schema_timeline_date(s), forms[i].date);
		assert_int_equal(cv_schema_timeline_class(s), CV_CLASS_SERVICES);
		assert_string_equal(cv_schema_timeline_label(s, "en"),
		                    forms[i].en);
		assert_string_equal(cv_schema_timeline_label(s, "id"),
		                    forms[i].id);
		rec = load_record(forms[i].fixture);
		assert_string_equal(cv_schema_record_date(s, rec), forms[i].at);
		json_decref(rec);
		cv_schema_free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms_load),
	    cmocka_unit_test(test_forms_dir_complete),
	    cmocka_unit_test(test_definition_errors),
	    cmocka_unit_test(test_definition_bounds),
	    cmocka_unit_test(test_intake_invalid),
	    cmocka_unit_test(test_nik_dates),
	    cmocka_unit_test(test_not_future_boundary),
	    cmocka_unit_test(test_wrong_shapes),
	    cmocka_unit_test(test_service_plan),
	    cmocka_unit_test(test_every_leaf_classified),
	    cmocka_unit_test(test_classes_of_record),
	    cmocka_unit_test(test_redact_to_incident),
	    cmocka_unit_test(test_redact_mixed_classes),
	    cmocka_unit_test(test_derived_age_at_18),
	    cmocka_unit_test(test_labels_and_perpetrators),
	    cmocka_unit_test(test_uses_errors),
	    cmocka_unit_test(test_uses_from_data),
	    cmocka_unit_test(test_uses_of_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
