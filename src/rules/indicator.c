/*
 * The coverage indicator.
 *
 * Inside the indicator: female survivors of any age and survivors under 18
 * of any sex. Denominator: those whose case was handled in the year.
 * Numerator: those of the denominator who received at least one social
 * rehabilitation service from a trained officer in the year; a survivor
 * counts once however many services she had.
 *
 * Breakdown cells are protected in two passes (docs/indicator.md): a count
 * of 1-4, and a numerator whose complement (denominator minus numerator) is
 * 1-4, are hidden; then, because the cells of a breakdown add up to the
 * published total, a breakdown with exactly one hidden value gets a second
 * one hidden, so that no hidden value is the difference of shown ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "base/util.h"
#include "rules/indicator.h"

#define AGE_MAX      150
#define YEARS_MAX    200   /* entries of "handled" per case */
#define SERVICES_MAX 10000 /* entries of "services" per case */

struct group {
	const char *key;
	int lo, hi;
};

/* Under-5s, primary school, secondary school, young adults, adults, older. */
static const struct group age_groups[] = {
    {"0-5", 0, 5},
    {"6-12", 6, 12},
    {"13-17", 13, 17},
    {"18-24", 18, 24},
    {"25-59", 25, 59},
    {"60+", 60, AGE_MAX},
};

struct cell {
	char key[CV_NAME_MAX + 1];
	long n, d;
	int hide_n, hide_d;
};

struct tally {
	long n, d;
	struct cell age[CV_ARRAY_LEN(age_groups)];
	size_t nviol;
	struct cell viol[CV_INDICATOR_VIOLENCE_MAX];
};

/* A violence type becomes a CSV field: plain name, no leading sign. */
static int
type_valid(const char *s)
{
	return cv_name_valid(s) &&
	    ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'));
}

static int
year_valid(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 1900 &&
	    json_integer_value(v) <= 9999;
}

/*
 * Check one case and find whether it is inside, handled in YEAR, and
 * served by a trained officer in YEAR. Every case is checked in full, in
 * or out, so a malformed store is noticed whatever the year.
 */
static int
check_case(
    const json_t *c, int year, int *inside, int *handled, int *served, int *age)
{
	static const char *const keys[] = {
	    "sex", "age", "violence", "handled", "services"};
	static const char *const skeys[] = {"year", "trained"};
	json_t *sex, *a, *viol, *hd, *sv, *v, *w, *t;
	size_t i, j;
	int female;

	if (!json_is_object(c) ||
	    cv_json_only_keys(c, keys, CV_ARRAY_LEN(keys)) != 0)
		return CV_EINVAL;
	sex = json_object_get(c, "sex");
	a = json_object_get(c, "age");
	viol = json_object_get(c, "violence");
	hd = json_object_get(c, "handled");
	sv = json_object_get(c, "services");
	if (!json_is_string(sex))
		return CV_EINVAL;
	if (strcmp(json_string_value(sex), "female") == 0)
		female = 1;
	else if (strcmp(json_string_value(sex), "male") == 0)
		female = 0;
	else
		return CV_EINVAL;
	if (!json_is_integer(a) || json_integer_value(a) < 0 ||
	    json_integer_value(a) > AGE_MAX)
		return CV_EINVAL;
	*age = (int)json_integer_value(a);
	if (!json_is_array(viol) ||
	    json_array_size(viol) > CV_INDICATOR_VIOLENCE_MAX)
		return CV_EINVAL;
	json_array_foreach (viol, i, v) {
		if (!json_is_string(v) || !type_valid(json_string_value(v)))
			return CV_EINVAL;
		/* A type listed twice would be counted twice. */
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(v),
			        json_string_value(json_array_get(viol, j))) ==
			    0)
				return CV_EINVAL;
	}
	if (!json_is_array(hd) || json_array_size(hd) > YEARS_MAX)
		return CV_EINVAL;
	*handled = 0;
	json_array_foreach (hd, i, v) {
		if (!year_valid(v))
			return CV_EINVAL;
		if (json_integer_value(v) == year)
			*handled = 1;
	}
	if (!json_is_array(sv) || json_array_size(sv) > SERVICES_MAX)
		return CV_EINVAL;
	*served = 0;
	json_array_foreach (sv, i, v) {
		if (!json_is_object(v) ||
		    cv_json_only_keys(v, skeys, CV_ARRAY_LEN(skeys)) != 0)
			return CV_EINVAL;
		w = json_object_get(v, "year");
		t = json_object_get(v, "trained");
		if (!year_valid(w) || !json_is_boolean(t))
			return CV_EINVAL;
		if (json_integer_value(w) == year && json_is_true(t))
			*served = 1;
	}
	*inside = female || *age < 18;
	return 0;
}

static struct cell *
viol_cell(struct tally *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->nviol; i++)
		if (strcmp(t->viol[i].key, key) == 0)
			return &t->viol[i];
	if (t->nviol == CV_INDICATOR_VIOLENCE_MAX)
		return NULL;
	/* type_valid() bounded the key to CV_NAME_MAX. */
	snprintf(t->viol[t->nviol].key, sizeof(t->viol[0].key), "%s", key);
	return &t->viol[t->nviol++];
}

static int
cmp_cell(const void *a, const void *b)
{
	return strcmp(
	    ((const struct cell *)a)->key, ((const struct cell *)b)->key);
}

static int
small(long x)
{
	return x > 0 && x < CV_INDICATOR_MIN_CELL;
}

/*
 * The smallest shown non-zero value among CELLS, hidden as well: a single
 * hidden cell of a breakdown is its total minus the others, two are not.
 */
static void
protect(struct cell *cells, size_t n)
{
	struct cell *best;
	size_t i, hidden;

	for (i = 0; i < n; i++) {
		if (small(cells[i].d))
			cells[i].hide_d = cells[i].hide_n = 1;
		else if (small(cells[i].n) || small(cells[i].d - cells[i].n))
			cells[i].hide_n = 1;
	}
	for (hidden = 0, i = 0; i < n; i++)
		hidden += cells[i].hide_d;
	if (hidden == 1) {
		for (best = NULL, i = 0; i < n; i++)
			if (!cells[i].hide_d && cells[i].d > 0 &&
			    (best == NULL || cells[i].d < best->d))
				best = &cells[i];
		if (best != NULL)
			best->hide_d = best->hide_n = 1;
	}
	for (hidden = 0, i = 0; i < n; i++)
		hidden += cells[i].hide_n;
	if (hidden == 1) {
		for (best = NULL, i = 0; i < n; i++)
			if (!cells[i].hide_n && cells[i].d > 0 &&
			    (best == NULL || cells[i].n < best->n))
				best = &cells[i];
		if (best != NULL)
			best->hide_n = 1;
	}
}

/* One decimal, rounded half up, or null when D is 0. */
static json_t *
percent(long n, long d)
{
	long long tenths;

	if (d <= 0)
		return json_null();
	tenths = ((long long)n * 2000 + d) / (2LL * d);
	return json_real((double)tenths / 10.0);
}

static json_t *
cell_json(const struct cell *c)
{
	return json_pack("{s:o, s:o, s:o, s:b}", "numerator",
	    c->hide_n ? json_null() : json_integer(c->n), "denominator",
	    c->hide_d ? json_null() : json_integer(c->d), "percent",
	    c->hide_n || c->hide_d ? json_null() : percent(c->n, c->d),
	    "suppressed", c->hide_n || c->hide_d);
}

static json_t *
cells_json(const struct cell *cells, size_t n)
{
	json_t *o, *c;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((c = cell_json(&cells[i])) == NULL ||
		    json_object_set_new(o, cells[i].key, c) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int
cv_indicator_compute(const json_t *cases, int year, json_t **out)
{
	struct tally *t = NULL;
	json_t *c, *v, *res = NULL, *bv = NULL, *ba = NULL;
	int inside, handled, served, age, r = CV_EINVAL;
	struct cell *cell;
	size_t i, j, g;

	if (out != NULL)
		*out = NULL;
	if (cases == NULL || out == NULL || year < 1900 || year > 9999 ||
	    !json_is_array(cases) ||
	    json_array_size(cases) > CV_INDICATOR_CASES_MAX)
		goto out;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	for (g = 0; g < CV_ARRAY_LEN(age_groups); g++)
		snprintf(t->age[g].key, sizeof(t->age[g].key), "%s",
		    age_groups[g].key);
	json_array_foreach (cases, i, c) {
		if ((r = check_case(
		         c, year, &inside, &handled, &served, &age)) != 0)
			goto out;
		if (!inside || !handled)
			continue;
		t->d++;
		t->n += served;
		for (g = 0; g < CV_ARRAY_LEN(age_groups); g++)
			if (age >= age_groups[g].lo && age <= age_groups[g].hi)
				break;
		t->age[g].d++;
		t->age[g].n += served;
		json_array_foreach (json_object_get(c, "violence"), j, v) {
			if ((cell = viol_cell(t, json_string_value(v))) ==
			    NULL) {
				r = CV_EINVAL;
				goto out;
			}
			cell->d++;
			cell->n += served;
		}
	}
	qsort(t->viol, t->nviol, sizeof(t->viol[0]), cmp_cell);
	protect(t->age, CV_ARRAY_LEN(age_groups));
	protect(t->viol, t->nviol);
	r = CV_ENOMEM;
	if ((ba = cells_json(t->age, CV_ARRAY_LEN(age_groups))) == NULL ||
	    (bv = cells_json(t->viol, t->nviol)) == NULL)
		goto out;
	res = json_pack("{s:i, s:I, s:I, s:o, s:O, s:O}", "year", year,
	    "numerator", (json_int_t)t->n, "denominator", (json_int_t)t->d,
	    "percent", percent(t->n, t->d), "by_violence", bv, "by_age_group",
	    ba);
	if (res == NULL)
		goto out;
	*out = res;
	r = 0;
out:
	json_decref(ba);
	json_decref(bv);
	free(t);
	return r;
}

struct buf {
	char *p;
	size_t len, cap;
};

static int
put(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	char *np;

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((np = realloc(b->p, b->cap)) == NULL)
			return -1;
		b->p = np;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
	return 0;
}

/* A count or percent field: a number, "suppressed", or empty. */
static int
field(char *dst, size_t size, const json_t *v, int suppressed, int pct)
{
	if (json_is_null(v)) {
		snprintf(dst, size, "%s", suppressed ? "suppressed" : "");
		return 0;
	}
	if (pct && json_is_real(v)) {
		snprintf(dst, size, "%.1f", json_real_value(v));
		return 0;
	}
	if (!pct && json_is_integer(v) && json_integer_value(v) >= 0) {
		snprintf(dst, size, "%lld", (long long)json_integer_value(v));
		return 0;
	}
	return -1;
}

static int
row(struct buf *b, long long year, const char *breakdown, const char *group,
    const json_t *c, int suppressed)
{
	char n[32], d[32], p[32], line[256];
	const char *s;

	/* Only plain names reach the CSV: no quoting, no formula. */
	if (!((group[0] >= 'a' && group[0] <= 'z') ||
	        (group[0] >= '0' && group[0] <= '9')))
		return -1;
	for (s = group; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		        *s == '_' || *s == '.' || *s == '-' || *s == '+'))
			return -1;
	if (field(n, sizeof(n), json_object_get(c, "numerator"), suppressed,
	        0) != 0 ||
	    field(d, sizeof(d), json_object_get(c, "denominator"), suppressed,
	        0) != 0 ||
	    field(p, sizeof(p), json_object_get(c, "percent"), suppressed, 1) !=
	        0)
		return -1;
	if (cv_path(line, sizeof(line), "%lld,%s,%s,%s,%s,%s\n", year,
	        breakdown, group, n, d, p) != 0)
		return -1;
	return put(b, line);
}

static int
rows(struct buf *b, long long year, const char *breakdown, const json_t *o)
{
	const char *k;
	json_t *c, *s;

	if (!json_is_object(o))
		return -1;
	json_object_foreach ((json_t *)o, k, c) {
		s = json_object_get(c, "suppressed");
		if (!json_is_object(c) || !json_is_boolean(s) ||
		    strlen(k) > CV_NAME_MAX ||
		    row(b, year, breakdown, k, c, json_is_true(s)) != 0)
			return -1;
	}
	return 0;
}

char *
cv_indicator_csv(const json_t *result)
{
	struct buf b = {NULL, 0, 0};
	json_t *y;
	long long year;

	y = json_object_get(result, "year");
	if (!json_is_object(result) || !json_is_integer(y))
		return NULL;
	year = json_integer_value(y);
	if (put(&b, "year,breakdown,group,numerator,denominator,percent\n") !=
	        0 ||
	    row(&b, year, "total", "all", result, 0) != 0 ||
	    rows(&b, year, "age_group",
	        json_object_get(result, "by_age_group")) != 0 ||
	    rows(&b, year, "violence",
	        json_object_get(result, "by_violence")) != 0) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
