/*
 * Record schemas: the validator, which checks a record against a definition
 * compiled by the loader (schema_load.c): types, bounds, formats, dates and
 * the rules that compare a field with its siblings.
 *
 * The walk follows the compiled definition, never the record alone, and
 * every bound of a record comes from it, so validating is bounded by the
 * definition whatever the record holds.
 *
 * Error messages carry the field path and the rule, never a value or an
 * unknown key of the record: those may be personal data, and messages reach
 * logs and terminals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "rules/schema.h"
#include "rules/schema_int.h"
#include "base/util.h"

/* A date is "in the future" only once it has begun in every time zone. */
#define LATEST_ZONE_MS (14ULL * 3600 * 1000)

static size_t
path_index(struct ctx *c, size_t i)
{
	size_t old = c->plen;

	snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);
	c->plen = strnlen(c->path, sizeof(c->path) - 1);
	return old;
}

/* A rule with the schema's bound N in it ("must be at most 200 items"). */
static int
fail_bound(struct ctx *c, const char *pre, long long n, const char *post)
{
	char rule[96];

	snprintf(rule, sizeof(rule), "%s %lld%s", pre, n, post);
	return schema_fail(c, CV_ESCHEMA, rule);
}

static int
days_in(int m, int y)
{
	static const int mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mdays[m - 1] + (m == 2 && leap);
}

/* "YYYY-MM-DD" exactly, a real calendar date. */
int
schema_date_parse(const char *s, int *y, int *m, int *d, uint64_t *ms)
{
	if (strlen(s) != 10 || cv_parse_time(s, ms) != 0)
		return -1;
	*y = atoi(s);
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	return 0;
}

/*
 * NIK: 16 digits, PPRRSS DDMMYY NNNN. Digits 7-12 are the holder's birth
 * date, with 40 added to the day for women. The two-digit year leaves the
 * century open, so 29 February is accepted for every year divisible by 4
 * (2000 was a leap year, 1900 is out of range of living survivors).
 */
static int
nik_check(struct ctx *c, const char *s, size_t n)
{
	int dd, mm, yy;
	size_t i;

	if (n != 16)
		return schema_fail(c, CV_ESCHEMA, "must be 16 digits");
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return schema_fail(c, CV_ESCHEMA, "must be 16 digits");
	dd = (s[6] - '0') * 10 + (s[7] - '0');
	mm = (s[8] - '0') * 10 + (s[9] - '0');
	yy = (s[10] - '0') * 10 + (s[11] - '0');
	if (dd > 40)
		dd -= 40;
	if (mm < 1 || mm > 12 || dd < 1 || dd > days_in(mm, 2000 + yy))
		return schema_fail(c, CV_ESCHEMA,
		    "digits 7-12 must be a real date "
		    "DDMMYY (DD plus 40 for women)");
	return 0;
}

/* "+62 812-3456-7890", "0812 3456 7890": 8 to 15 digits. */
static int
phone_check(struct ctx *c, const char *s, size_t n)
{
	size_t i, digits = 0;

	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (!(s[i] == '+' && i == 0) &&
		    !((s[i] == ' ' || s[i] == '-') && i > 0 &&
		        s[i - 1] >= '0' && s[i - 1] <= '9'))
			break;
	}
	if (i != n || digits < 8 || digits > 15 || s[n - 1] < '0' ||
	    s[n - 1] > '9')
		return schema_fail(c, CV_ESCHEMA,
		    "must be a phone number: an "
		    "optional +, then 8 to 15 digits with spaces or dashes");
	return 0;
}

/*
 * Strings are shown on terminals: C0 and C1 control characters (escape
 * sequences) are refused, except newline and tab in multiline text.
 */
static int
string_check(struct ctx *c, const struct field *f, const json_t *v)
{
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t i, n = json_string_length(v), chars = 0;
	int blank = 1;

	for (i = 0; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			chars++;
		if ((s[i] < 0x20 || s[i] == 0x7f) &&
		    !(f->multiline && (s[i] == '\n' || s[i] == '\t')))
			return schema_fail(c, CV_ESCHEMA,
			    "must not contain control characters");
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 &&
		    s[i + 1] <= 0x9f)
			return schema_fail(c, CV_ESCHEMA,
			    "must not contain control characters");
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t')
			blank = 0;
	}
	if ((f->required || f->req_field != NULL) && blank)
		return schema_fail(c, CV_ESCHEMA, "must not be blank");
	if (f->format == F_NIK)
		return nik_check(c, (const char *)s, n);
	if (f->format == F_PHONE)
		return phone_check(c, (const char *)s, n);
	if ((json_int_t)chars < f->min)
		return fail_bound(c, "must be at least", f->min, " characters");
	if ((json_int_t)chars > f->max)
		return fail_bound(c, "must be at most", f->max, " characters");
	return 0;
}

static int validate_object(
    struct ctx *c, const struct field *obj, const json_t *v);

static int
validate_value(struct ctx *c, const struct field *f, const json_t *v)
{
	uint64_t ms;
	size_t i, j, n, old;
	int y, m, d, r;

	switch (f->type) {
	case T_STRING:
		if (!json_is_string(v))
			return schema_fail(c, CV_ESCHEMA, "must be a string");
		return string_check(c, f, v);
	case T_INTEGER:
		if (!json_is_integer(v))
			return schema_fail(c, CV_ESCHEMA, "must be an integer");
		if (json_integer_value(v) < f->min)
			return fail_bound(c, "must be at least", f->min, "");
		if (json_integer_value(v) > f->max)
			return fail_bound(c, "must be at most", f->max, "");
		return 0;
	case T_BOOLEAN:
		if (!json_is_boolean(v))
			return schema_fail(
			    c, CV_ESCHEMA, "must be true or false");
		return 0;
	case T_DATE:
		if (!json_is_string(v) ||
		    schema_date_parse(json_string_value(v), &y, &m, &d, &ms) !=
		        0)
			return schema_fail(
			    c, CV_ESCHEMA, "must be a date YYYY-MM-DD");
		if (f->not_future && ms > c->now + LATEST_ZONE_MS)
			return schema_fail(
			    c, CV_ESCHEMA, "must not be in the future");
		return 0;
	case T_ENUM:
		if (json_is_string(v))
			for (i = 0; i < f->nvals; i++) {
				if (strcmp(f->vals[i].key,
				        json_string_value(v)) != 0)
					continue;
				/* Kept for older records, not for new ones. */
				if (f->vals[i].retired)
					return schema_fail(c, CV_ESCHEMA,
					    "a retired value, only read in "
					    "older records: choose a current "
					    "one");
				return 0;
			}
		return schema_fail(
		    c, CV_ESCHEMA, "not one of the allowed values");
	case T_ARRAY:
		if (!json_is_array(v))
			return schema_fail(c, CV_ESCHEMA, "must be an array");
		n = json_array_size(v);
		if ((json_int_t)n < f->min)
			return fail_bound(
			    c, "must have at least", f->min, " items");
		if ((json_int_t)n > f->max)
			return fail_bound(
			    c, "must have at most", f->max, " items");
		for (i = 0; i < n; i++) {
			old = path_index(c, i);
			if ((r = validate_value(
			         c, f->items, json_array_get(v, i))) != 0)
				return r;
			for (j = 0; f->unique && j < i; j++)
				if (json_equal(json_array_get(v, j),
				        json_array_get(v, i)))
					return schema_fail(c, CV_ESCHEMA,
					    "repeats an earlier item");
			schema_path_pop(c, old);
		}
		return 0;
	case T_OBJECT:
		if (!json_is_object(v))
			return schema_fail(c, CV_ESCHEMA, "must be an object");
		return validate_object(c, f, v);
	}
	return schema_fail(c, CV_ESCHEMA, "unknown type");
}

/* Rules that compare a field with its siblings. */
static int
validate_cross(
    struct ctx *c, const struct field *f, const json_t *obj, const json_t *v)
{
	const json_t *sib;
	uint64_t a, b;
	int y, m, d;
	size_t i;

	if (f->not_before != NULL &&
	    json_is_string(sib = json_object_get(obj, f->not_before)) &&
	    schema_date_parse(json_string_value(sib), &y, &m, &d, &a) == 0 &&
	    schema_date_parse(json_string_value(v), &y, &m, &d, &b) == 0 &&
	    b < a) {
		char rule[96];

		snprintf(
		    rule, sizeof(rule), "must not be before %s", f->not_before);
		return schema_fail(c, CV_ESCHEMA, rule);
	}
	if (f->type != T_ENUM)
		return 0;
	for (i = 0; i < f->nvals; i++) {
		if (strcmp(f->vals[i].key, json_string_value(v)) != 0 ||
		    f->vals[i].only_field == NULL)
			continue;
		sib = json_object_get(obj, f->vals[i].only_field);
		if (sib == NULL || !json_equal(sib, f->vals[i].only_value)) {
			char rule[128];

			snprintf(rule, sizeof(rule),
			    "not allowed for the "
			    "chosen %s",
			    f->vals[i].only_field);
			return schema_fail(c, CV_ESCHEMA, rule);
		}
	}
	return 0;
}

static int
validate_object(struct ctx *c, const struct field *obj, const json_t *v)
{
	const struct field *f;
	const json_t *val, *sib;
	const char *k;
	json_t *x;
	size_t i, old;
	int r;

	json_object_foreach ((json_t *)v, k, x) {
		f = schema_find_field(obj, k);
		if (f == NULL)
			return schema_fail(c, CV_ESCHEMA, "unknown field");
		if (f->derived != D_NONE) {
			old = schema_path_push(c, k);
			return schema_fail(c, CV_ESCHEMA,
			    "derived from other fields, not entered");
		}
	}
	for (i = 0; i < obj->nfields; i++) {
		f = &obj->fields[i];
		old = schema_path_push(c, f->name);
		if ((val = json_object_get(v, f->name)) == NULL) {
			if (f->required)
				return schema_fail(c, CV_ESCHEMA, "required");
			sib = f->req_field != NULL
			    ? json_object_get(v, f->req_field)
			    : NULL;
			if (sib != NULL && json_equal(sib, f->req_value)) {
				char rule[160];

				snprintf(rule, sizeof(rule),
				    "required when %s is %s", f->req_field,
				    json_is_string(f->req_value)
				        ? json_string_value(f->req_value)
				        : json_is_true(f->req_value) ? "true"
				                                     : "false");
				return schema_fail(c, CV_ESCHEMA, rule);
			}
		} else if ((r = validate_value(c, f, val)) != 0 ||
		    (r = validate_cross(c, f, v, val)) != 0)
			return r;
		schema_path_pop(c, old);
	}
	return 0;
}

int
cv_schema_validate(const struct cv_schema *s, const json_t *record,
    uint64_t now, char *err, size_t errlen)
{
	struct ctx c = {.err = err, .errlen = errlen, .now = now};

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || record == NULL)
		return CV_EINVAL;
	if (!json_is_object(record))
		return schema_fail(&c, CV_ESCHEMA, "must be an object");
	return validate_object(&c, &s->root, record);
}
