/*
 * Fuzz target for the schema loader and the validator: the input is tried
 * as a schema definition and as a record against forms/intake.json and
 * forms/service_plan.json (read from the repository root once), and every
 * view of a record is exercised, its date on the case timeline included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/schema.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cv_schema *intake, *plan;

static int
count_leaf(const char *path, int cls, void *arg)
{
	(void)path;
	if (cls < 0 || cls >= CV_CLASS_COUNT)
		abort(); /* the loader promised a class for every leaf */
	(*(size_t *)arg)++;
	return 0;
}

/* The timeline keys hang together, and a record's date is a real date. */
static void
timeline(const struct cv_schema *s, const json_t *rec)
{
	const char *date = cv_schema_record_date(s, rec);
	int on = cv_schema_timeline_date(s) != NULL;
	uint64_t ms;

	if (on != (cv_schema_timeline_class(s) >= 0) ||
	    on != (cv_schema_timeline_label(s, "en") != NULL) ||
	    on != (cv_schema_timeline_label(s, "id") != NULL) ||
	    (!on && date != NULL))
		abort();
	if (date != NULL && (strlen(date) != 10 || cv_parse_time(date, &ms) != 0))
		abort();
}

static void
exercise(const struct cv_schema *s, const json_t *rec)
{
	char err[CV_SCHEMA_ERR_MAX];
	cv_classmask withheld, present;
	json_t *out = NULL;

	(void)cv_schema_validate(s, rec, 1748736000000ULL, err, sizeof(err));
	present = cv_schema_classes(s, rec);
	if (cv_schema_redact(s, rec, CV_CLASS_BIT(CV_CLASS_INCIDENT), &out,
	                     &withheld) == 0) {
		if ((withheld & ~present) != 0 ||
		    (cv_schema_classes(s, out) &
		     ~CV_CLASS_BIT(CV_CLASS_INCIDENT)) != 0)
			abort(); /* redaction let another class through */
		json_decref(out);
	}
	if (cv_schema_derive(s, rec, 1748736000000ULL, &out) == 0)
		json_decref(out);
	(void)cv_schema_child(rec, 1748736000000ULL);
	(void)cv_schema_perpetrators(rec);
	timeline(s, rec);
}

static struct cv_schema *
load(const char *path)
{
	char err[CV_SCHEMA_ERR_MAX], *text;
	struct cv_schema *s;
	size_t len;

	if (cv_read_file(path, CV_SCHEMA_TEXT_MAX, &text, &len) != 0 ||
	    cv_schema_load(text, len, &s, err, sizeof(err)) != 0)
		abort();
	free(text);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CV_SCHEMA_ERR_MAX];
	struct cv_schema *s = NULL;
	json_t *rec = NULL;
	size_t n = 0;

	if (intake == NULL) {
		intake = load("forms/intake.json");
		plan = load("forms/service_plan.json");
	}
	if (cv_schema_load((const char *)data, size, &s, err, sizeof(err)) ==
	    0) {
		(void)cv_schema_foreach_field(s, count_leaf, &n);
		(void)cv_schema_label(s, "a.b", "c", "id");
	}
	if (cv_json_parse_object((const char *)data, size, CV_RECORD_MAX,
	                         &rec) == 0) {
		exercise(intake, rec);
		exercise(plan, rec);
		if (s != NULL)
			exercise(s, rec);
		json_decref(rec);
	}
	cv_schema_free(s);
	return 0;
}
