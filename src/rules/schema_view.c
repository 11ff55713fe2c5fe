/*
 * Record schemas: the class-driven views of a record (classification,
 * redaction, derived fields, labels, the list of leaf fields) and the intake
 * helpers. The loader is in schema_load.c, the validator in schema_check.c.
 *
 * Every walk here follows the compiled definition, never the record alone,
 * so it is bounded by the definition whatever the record holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "casevault.h"
#include "base/classes.h"
#include "base/cbor.h"
#include "rules/schema.h"
#include "rules/schema_int.h"

/* --- classification, redaction, derived views --------------------------- */

static int
is_leaf(const struct field *f)
{
	return f->type != T_OBJECT &&
	    !(f->type == T_ARRAY && f->items->type == T_OBJECT);
}

static cv_classmask
classes_object(const struct field *obj, const json_t *v)
{
	const struct field *f;
	cv_classmask m = 0;
	const char *k;
	json_t *x;
	size_t i;

	json_object_foreach ((json_t *)v, k, x) {
		if ((f = schema_find_field(obj, k)) == NULL)
			m |= CV_CLASS_ALL; /* unclassified: fail closed */
		else if (is_leaf(f))
			m |= f->mask;
		else if (f->type == T_OBJECT && json_is_object(x))
			m |= classes_object(f, x);
		else if (f->type == T_ARRAY && json_is_array(x))
			for (i = 0; i < json_array_size(x); i++)
				m |= json_is_object(json_array_get(x, i))
				    ? classes_object(
				          f->items, json_array_get(x, i))
				    : f->items->mask;
		else
			m |= f->mask;
	}
	return m;
}

cv_classmask
cv_schema_classes(const struct cv_schema *s, const json_t *record)
{
	if (s == NULL || !json_is_object(record))
		return 0;
	return classes_object(&s->root, record);
}

static int redact_object(const struct field *obj, const struct cv_doc *d,
    size_t i, cv_classmask allowed, cv_classmask *withheld, json_t **out);

static int
redact_array(const struct field *f, const struct cv_doc *d, size_t i,
    cv_classmask allowed, cv_classmask *withheld, json_t **out)
{
	json_t *a, *e;
	size_t k;
	int r;

	if ((a = json_array()) == NULL)
		return CV_ENOMEM;
	for (k = d->n[i].len > 0 ? i + 1 : 0; k != 0; k = d->n[k].next) {
		if (d->n[k].type != CV_DOC_OBJECT) {
			*withheld |= f->items->mask;
			continue;
		}
		if ((r = redact_object(
		         f->items, d, k, allowed, withheld, &e)) != 0) {
			json_decref(a);
			return r;
		}
		if (json_object_size(e) == 0)
			json_decref(e);
		else if (json_array_append_new(a, e) != 0) {
			json_decref(a);
			return CV_ENOMEM;
		}
	}
	*out = a;
	return 0;
}

/* Deny by default: a value is made only when its field's class allows. */
static int
redact_object(const struct field *obj, const struct cv_doc *d, size_t i,
    cv_classmask allowed, cv_classmask *withheld, json_t **out)
{
	const struct cv_doc_node *x;
	const struct field *f;
	json_t *o, *sub;
	size_t k;
	int r = CV_ENOMEM;

	*out = NULL;
	if ((o = json_object()) == NULL)
		return CV_ENOMEM;
	for (k = d->n[i].len > 0 ? i + 1 : 0; k != 0; k = x->next) {
		x = &d->n[k];
		sub = NULL;
		if ((f = schema_find_fieldn(obj, x->key, x->keylen)) == NULL)
			continue;
		if (is_leaf(f)) {
			if ((f->mask & allowed) == 0) {
				*withheld |= f->mask;
				continue;
			}
			if ((sub = cv_doc_json(d, k)) == NULL)
				goto out;
		} else if (f->type == T_OBJECT && x->type == CV_DOC_OBJECT) {
			if ((r = redact_object(
			         f, d, k, allowed, withheld, &sub)) != 0)
				goto out;
		} else if (f->type == T_ARRAY && x->type == CV_DOC_ARRAY) {
			if ((r = redact_array(
			         f, d, k, allowed, withheld, &sub)) != 0)
				goto out;
		} else {
			*withheld |= f->mask;
			continue;
		}
		r = CV_ENOMEM;
		if ((json_is_object(sub) && json_object_size(sub) == 0 &&
		        x->len > 0) ||
		    (json_is_array(sub) && json_array_size(sub) == 0 &&
		        x->len > 0 && !is_leaf(f))) {
			json_decref(sub);
			continue;
		}
		/* transferred */
		if (json_object_setn_new_nocheck(o, x->key, x->keylen, sub) !=
		    0)
			goto out;
	}
	*out = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	return r;
}

int
cv_schema_redact_doc(const struct cv_schema *s, const struct cv_doc *doc,
    cv_classmask allowed, json_t **out, cv_classmask *withheld)
{
	cv_classmask w = 0;
	int r;

	if (out != NULL)
		*out = NULL;
	if (withheld != NULL)
		*withheld = 0;
	if (s == NULL || doc == NULL || out == NULL || doc->count == 0 ||
	    doc->n[0].type != CV_DOC_OBJECT)
		return CV_EINVAL;
	if ((r = redact_object(&s->root, doc, 0, allowed, &w, out)) != 0)
		return r;
	if (withheld != NULL)
		*withheld = w;
	return 0;
}

int
cv_schema_redact(const struct cv_schema *s, const json_t *record,
    cv_classmask allowed, json_t **out, cv_classmask *withheld)
{
	struct cv_doc doc;
	uint8_t *b = NULL;
	size_t n = 0;
	int r;

	if (out != NULL)
		*out = NULL;
	if (withheld != NULL)
		*withheld = 0;
	if (s == NULL || out == NULL || !json_is_object(record))
		return CV_EINVAL;
	if ((r = cv_rec_encode(record, &b, &n)) != 0)
		return r == CV_ENOMEM ? r : CV_EINVAL;
	if ((r = cv_doc_parse(b, n, &doc)) == 0)
		r = cv_schema_redact_doc(s, &doc, allowed, out, withheld);
	else if (r != CV_ENOMEM)
		r = CV_EINVAL;
	cv_doc_free(&doc);
	sodium_memzero(b, n);
	free(b);
	return r;
}

/*
 * Completed years from the date string BIRTH to the UTC calendar date of
 * NOW; -1 when BIRTH is malformed or after NOW. The UTC date lags local
 * time in Indonesia (UTC+7..+9) by a few hours at most, so on a birthday
 * the age turns over a little late, never early: a child is not treated
 * as an adult before the day has begun everywhere.
 */
static int
age_years(const char *birth, uint64_t now)
{
	uint64_t ms;
	struct tm tm;
	time_t t = (time_t)(now / 1000);
	int y, m, d, age;

	if (birth == NULL || schema_date_parse(birth, &y, &m, &d, &ms) != 0 ||
	    ms > now || gmtime_r(&t, &tm) == NULL)
		return -1;
	age = tm.tm_year + 1900 - y;
	if (tm.tm_mon + 1 < m || (tm.tm_mon + 1 == m && tm.tm_mday < d))
		age--;
	return age < 0 ? -1 : age;
}

static int
derive_object(const struct field *obj, json_t *v, uint64_t now)
{
	const struct field *f;
	json_t *x, *val;
	size_t i, j;
	int age;

	for (i = 0; i < obj->nfields; i++) {
		f = &obj->fields[i];
		x = json_object_get(v, f->name);
		if (f->derived != D_NONE) {
			age = age_years(
			    json_string_value(json_object_get(v, f->from)),
			    now);
			if (age < 0) {
				json_object_del(v, f->name);
				continue;
			}
			val = f->derived == D_AGE ? json_integer(age)
			                          : json_boolean(age < 18);
			if (json_object_set_new(v, f->name, val) != 0)
				return CV_ENOMEM;
		} else if (f->type == T_OBJECT && json_is_object(x)) {
			if (derive_object(f, x, now) != 0)
				return CV_ENOMEM;
		} else if (f->type == T_ARRAY && f->items->type == T_OBJECT &&
		    json_is_array(x)) {
			for (j = 0; j < json_array_size(x); j++)
				if (json_is_object(json_array_get(x, j)) &&
				    derive_object(f->items,
				        json_array_get(x, j), now) != 0)
					return CV_ENOMEM;
		}
	}
	return 0;
}

int
cv_schema_derive(
    const struct cv_schema *s, const json_t *record, uint64_t now, json_t **out)
{
	json_t *copy;

	if (out != NULL)
		*out = NULL;
	if (s == NULL || out == NULL || !json_is_object(record))
		return CV_EINVAL;
	if ((copy = json_deep_copy(record)) == NULL)
		return CV_ENOMEM;
	if (derive_object(&s->root, copy, now) != 0) {
		json_decref(copy);
		return CV_ENOMEM;
	}
	*out = copy;
	return 0;
}

const char *
cv_schema_label(const struct cv_schema *s, const char *path, const char *key,
    const char *lang)
{
	const struct field *f;
	size_t i;
	int id;

	if (s == NULL || path == NULL || key == NULL || lang == NULL)
		return NULL;
	if (strcmp(lang, "id") != 0 && strcmp(lang, "en") != 0)
		return NULL;
	id = lang[0] == 'i';
	if ((f = schema_field_at(&s->root, path)) == NULL)
		return NULL;
	for (i = 0; i < f->nvals; i++)
		if (strcmp(f->vals[i].key, key) == 0)
			return id ? f->vals[i].id : f->vals[i].en;
	return NULL;
}

const char *
cv_schema_value(const struct cv_schema *s, const char *path, size_t i)
{
	const struct field *f;

	size_t j;

	if (s == NULL || path == NULL ||
	    (f = schema_field_at(&s->root, path)) == NULL)
		return NULL;
	/* Retired values are no choice for a new record: not listed. */
	for (j = 0; j < f->nvals; j++)
		if (!f->vals[j].retired && i-- == 0)
			return f->vals[j].key;
	return NULL;
}

/*
 * The earliest valid date at PATH in V, described by F, or BEST when none
 * is earlier. The walk follows the definition, which has no arrays of
 * arrays, so its depth is that of PATH whatever V holds.
 */
static const char *
earliest(
    const struct field *f, const json_t *v, const char *path, const char *best)
{
	const char *dot, *d;
	const json_t *x;
	uint64_t ms;
	size_t i, n;
	int y, m, day;

	if (f->type == T_ARRAY) {
		json_array_foreach (v, i, x)
			best = earliest(f->items, x, path, best);
		return best;
	}
	if (*path == '\0') {
		d = json_string_value(v);
		if (f->type == T_DATE && d != NULL &&
		    schema_date_parse(d, &y, &m, &day, &ms) == 0 &&
		    (best == NULL || strcmp(d, best) < 0))
			best = d;
		return best;
	}
	dot = strchr(path, '.');
	n = dot != NULL ? (size_t)(dot - path) : strlen(path);
	if (n >= 2 && path[n - 2] == '[' && path[n - 1] == ']')
		n -= 2;
	if (f->type != T_OBJECT || (f = schema_find_fieldn(f, path, n)) == NULL)
		return best;
	return earliest(
	    f, json_object_getn(v, path, n), dot != NULL ? dot + 1 : "", best);
}

const char *
cv_schema_record_date(const struct cv_schema *s, const json_t *record)
{
	if (s == NULL || s->tl_date == NULL || !json_is_object(record))
		return NULL;
	return earliest(&s->root, record, s->tl_date, NULL);
}

static int
foreach_object(struct ctx *c, const struct field *obj,
    int (*cb)(const char *, int, void *), void *arg)
{
	const struct field *f;
	size_t i, old;
	int r;

	for (i = 0; i < obj->nfields; i++) {
		f = &obj->fields[i];
		old = schema_path_push(c, f->name);
		if (is_leaf(f))
			r = cb(c->path, f->cls, arg);
		else if (f->type == T_OBJECT)
			r = foreach_object(c, f, cb, arg);
		else {
			snprintf(
			    c->path + c->plen, sizeof(c->path) - c->plen, "[]");
			c->plen = strnlen(c->path, sizeof(c->path) - 1);
			r = foreach_object(c, f->items, cb, arg);
		}
		schema_path_pop(c, old);
		if (r != 0)
			return r;
	}
	return 0;
}

int
cv_schema_foreach_field(const struct cv_schema *s,
    int (*cb)(const char *path, int cls, void *arg), void *arg)
{
	struct ctx c = {0};

	if (s == NULL || cb == NULL)
		return CV_EINVAL;
	return foreach_object(&c, &s->root, cb, arg);
}

int
cv_schema_child(const json_t *intake, uint64_t now)
{
	const json_t *b;
	int age;

	b = json_object_get(json_object_get(intake, "survivor"), "birth_date");
	if ((age = age_years(json_string_value(b), now)) < 0)
		return CV_EINVAL;
	return age < 18;
}

const json_t *
cv_schema_perpetrators(const json_t *intake)
{
	const json_t *p;

	p = json_object_get(
	    json_object_get(intake, "incident"), "perpetrators");
	return json_is_array(p) ? p : NULL;
}
