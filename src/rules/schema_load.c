/*
 * Record schemas: the loader for forms/<type>.json and the accessors of a
 * loaded definition. The validator is in schema_check.c and the
 * class-driven views (classification, redaction, derived fields, labels) are
 * in schema_view.c; the types they share are in schema_int.h.
 *
 * A definition is compiled into a tree of struct field whose strings are
 * borrowed from the parsed definition, which the schema keeps alive and never
 * modifies. Every bound of a record (depth, item counts, string lengths) comes
 * from that tree, and the loader refuses a tree without them, so walking a
 * record is bounded by the definition whatever the record holds.
 *
 * Error messages carry the field path and the rule, never a value or an
 * unknown key of the record: those may be personal data, and messages reach
 * logs and terminals.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/schema.h"
#include "rules/schema_int.h"
#include "base/util.h"

#define STRING_DEFAULT 256
#define ITEMS_DEFAULT  100

static const char *const type_names[] = {
    "string",
    "integer",
    "boolean",
    "date",
    "enum",
    "array",
    "object",
};

/* Attributes allowed per type, beyond those every field may carry. */
static const char *const common_attrs[] = {
    "type",
    "class",
    "required",
    "required_if",
    "label",
    "description",
};
static const char *const type_attrs[][6] = {
    [T_STRING] = {"min", "max", "format", "multiline"},
    [T_INTEGER] = {"min", "max", "derived", "from"},
    [T_BOOLEAN] = {"derived", "from"},
    [T_DATE] = {"not_future", "not_before"},
    [T_ENUM] = {"values"},
    [T_ARRAY] = {"items", "min_items", "max_items", "unique"},
    [T_OBJECT] = {"fields"},
};

size_t
schema_path_push(struct ctx *c, const char *name)
{
	size_t old = c->plen;
	int n;

	n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s",
	    old > 0 ? "." : "", name);
	if (n > 0)
		c->plen = strnlen(c->path, sizeof(c->path) - 1);
	return old;
}

void
schema_path_pop(struct ctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

int
schema_fail(struct ctx *c, int code, const char *rule)
{
	if (c->err != NULL && c->errlen > 0)
		snprintf(c->err, c->errlen, "%s: %s",
		    c->plen > 0 ? c->path : "record", rule);
	return code;
}

static int
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int
in_list(const char *key, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n && list[i] != NULL; i++)
		if (strcmp(key, list[i]) == 0)
			return 1;
	return 0;
}

const struct field *
schema_find_field(const struct field *obj, const char *name)
{
	size_t i;

	for (i = 0; i < obj->nfields; i++)
		if (strcmp(obj->fields[i].name, name) == 0)
			return &obj->fields[i];
	return NULL;
}

const struct field *
schema_find_fieldn(const struct field *obj, const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < obj->nfields; i++)
		if (strlen(obj->fields[i].name) == keylen &&
		    memcmp(obj->fields[i].name, key, keylen) == 0)
			return &obj->fields[i];
	return NULL;
}

const struct field *
schema_field_at(const struct field *root, const char *path)
{
	const struct field *f = root;
	const char *p, *dot;
	size_t n;

	for (p = path;; p = dot + 1) {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n >= 2 && p[n - 2] == '[' && p[n - 1] == ']')
			n -= 2;
		if (f->type == T_ARRAY)
			f = f->items;
		if (n == 0 || f->type != T_OBJECT ||
		    (f = schema_find_fieldn(f, p, n)) == NULL)
			return NULL;
		if (dot == NULL)
			return f->type == T_ARRAY ? f->items : f;
	}
}

static void
field_free(struct field *f)
{
	size_t i;

	if (f->items != NULL) {
		field_free(f->items);
		free(f->items);
	}
	for (i = 0; i < f->nfields; i++)
		field_free(&f->fields[i]);
	free(f->fields);
	free(f->vals);
}

/* --- loading ------------------------------------------------------------ */

static int
get_int(struct ctx *c, const json_t *def, const char *key, json_int_t lo,
    json_int_t hi, json_int_t *v)
{
	const json_t *j = json_object_get(def, key);

	if (j == NULL)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < lo ||
	    json_integer_value(j) > hi)
		return schema_fail(c, CV_ESCHEMA, "bound out of range");
	*v = json_integer_value(j);
	return 0;
}

static int
get_bool(struct ctx *c, const json_t *def, const char *key, int *v)
{
	const json_t *j = json_object_get(def, key);

	if (j == NULL)
		return 0;
	if (!json_is_boolean(j))
		return schema_fail(
		    c, CV_ESCHEMA, "attribute must be true or false");
	*v = json_is_true(j);
	return 0;
}

static int
label_ok(const json_t *l)
{
	return json_is_string(l) && json_string_length(l) > 0 &&
	    json_string_length(l) <= 200;
}

static int
labels_ok(const json_t *l)
{
	return json_is_object(l) && json_object_size(l) == 2 &&
	    label_ok(json_object_get(l, "en")) &&
	    label_ok(json_object_get(l, "id"));
}

/* A one-key object {"sibling": value}, as used by required_if and only_if. */
static int
get_cond(
    struct ctx *c, const json_t *j, const char **field, const json_t **value)
{
	const char *k;
	json_t *v;

	if (!json_is_object(j) || json_object_size(j) != 1)
		return schema_fail(
		    c, CV_ESCHEMA, "condition must be {\"field\": value}");
	json_object_foreach ((json_t *)j, k, v) {
		*field = k;
		*value = v;
	}
	return 0;
}

static int
load_values(struct ctx *c, const json_t *vals, struct field *f)
{
	static const char *const attrs[] = {
	    "key", "en", "id", "only_if", "group", "retired"};
	const json_t *v, *key;
	const char *k;
	json_t *a;
	size_t i, j, n;
	int r;

	if (!json_is_array(vals) || (n = json_array_size(vals)) == 0 ||
	    n > CV_SCHEMA_VALUES_MAX)
		return schema_fail(
		    c, CV_ESCHEMA, "values must be 1 to 64 entries");
	if ((f->vals = calloc(n, sizeof(*f->vals))) == NULL)
		return CV_ENOMEM;
	f->nvals = n;
	for (i = 0; i < n; i++) {
		v = json_array_get(vals, i);
		key = json_object_get(v, "key");
		if (!json_is_object(v) || !json_is_string(key) ||
		    !name_ok(json_string_value(key)) ||
		    !label_ok(json_object_get(v, "en")) ||
		    !label_ok(json_object_get(v, "id")))
			goto bad;
		json_object_foreach ((json_t *)v, k, a) {
			if (!in_list(k, attrs, CV_ARRAY_LEN(attrs)))
				return schema_fail(c, CV_ESCHEMA,
				    "unknown attribute of an enum value");
		}
		f->vals[i].key = json_string_value(key);
		f->vals[i].en = json_string_value(json_object_get(v, "en"));
		f->vals[i].id = json_string_value(json_object_get(v, "id"));
		/* A retired value stays for the records that hold it. */
		if ((a = json_object_get(v, "retired")) != NULL &&
		    !json_is_true(a))
			return schema_fail(
			    c, CV_ESCHEMA, "retired, when given, is true");
		f->vals[i].retired = a != NULL;
		if ((a = json_object_get(v, "only_if")) != NULL &&
		    (r = get_cond(c, a, &f->vals[i].only_field,
		         &f->vals[i].only_value)) != 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(f->vals[j].key, f->vals[i].key) == 0)
				return schema_fail(
				    c, CV_ESCHEMA, "enum value key repeated");
	}
	return 0;
bad:
	return schema_fail(c, CV_ESCHEMA,
	    "enum value needs a key [a-z0-9_] and en and id labels");
}

static int load_field(struct ctx *c, const json_t *def, int cls, int depth,
    int item, struct field *f);

static int check_siblings(struct ctx *c, struct field *obj);

static int
load_object(
    struct ctx *c, const json_t *fields, int cls, int depth, struct field *f)
{
	const char *k;
	json_t *v;
	size_t i = 0, old;
	int r;

	if (!json_is_object(fields) || json_object_size(fields) == 0)
		return schema_fail(
		    c, CV_ESCHEMA, "fields must be a non-empty object");
	f->fields = calloc(json_object_size(fields), sizeof(*f->fields));
	if (f->fields == NULL)
		return CV_ENOMEM;
	json_object_foreach ((json_t *)fields, k, v) {
		old = schema_path_push(c, k);
		if (!name_ok(k))
			return schema_fail(c, CV_ESCHEMA,
			    "field names are [a-z][a-z0-9_]*, up to 64");
		f->fields[i].name = k;
		f->nfields = ++i;
		if ((r = load_field(c, v, cls, depth, 0, &f->fields[i - 1])) !=
		    0)
			return r;
		f->mask |= f->fields[i - 1].mask;
		schema_path_pop(c, old);
	}
	return check_siblings(c, f);
}

static int
load_field(struct ctx *c, const json_t *def, int cls, int depth, int item,
    struct field *f)
{
	const json_t *j;
	const char *k, *s;
	json_t *v;
	size_t t;
	int r;

	if (++c->count > CV_SCHEMA_FIELDS_MAX)
		return schema_fail(c, CV_ESCHEMA, "too many fields");
	if (depth >= CV_SCHEMA_DEPTH_MAX)
		return schema_fail(c, CV_ESCHEMA, "nested too deeply");
	if (!json_is_object(def))
		return schema_fail(c, CV_ESCHEMA, "a field must be an object");
	s = json_string_value(json_object_get(def, "type"));
	for (t = 0; s != NULL && t < CV_ARRAY_LEN(type_names); t++)
		if (strcmp(s, type_names[t]) == 0)
			break;
	if (s == NULL || t == CV_ARRAY_LEN(type_names))
		return schema_fail(c, CV_ESCHEMA, "unknown type");
	f->type = (enum ftype)t;
	json_object_foreach ((json_t *)def, k, v) {
		if ((!in_list(k, common_attrs, CV_ARRAY_LEN(common_attrs)) &&
		        !in_list(
		            k, type_attrs[t], CV_ARRAY_LEN(type_attrs[t]))) ||
		    (item &&
		        (strcmp(k, "required") == 0 ||
		            strcmp(k, "required_if") == 0)))
			return schema_fail(
			    c, CV_ESCHEMA, "attribute not allowed here");
	}
	if ((j = json_object_get(def, "class")) != NULL) {
		if (!json_is_string(j) ||
		    (cls = cv_class_parse(json_string_value(j))) < 0)
			return schema_fail(c, CV_ESCHEMA, "unknown class");
	}
	f->cls = cls;
	if ((j = json_object_get(def, "label")) != NULL && !labels_ok(j))
		return schema_fail(
		    c, CV_ESCHEMA, "label must be {\"en\", \"id\"}");
	if ((j = json_object_get(def, "description")) != NULL &&
	    !json_is_string(j))
		return schema_fail(
		    c, CV_ESCHEMA, "description must be a string");
	if ((r = get_bool(c, def, "required", &f->required)) != 0 ||
	    (r = get_bool(c, def, "multiline", &f->multiline)) != 0 ||
	    (r = get_bool(c, def, "unique", &f->unique)) != 0 ||
	    (r = get_bool(c, def, "not_future", &f->not_future)) != 0)
		return r;
	if ((j = json_object_get(def, "required_if")) != NULL &&
	    (r = get_cond(c, j, &f->req_field, &f->req_value)) != 0)
		return r;
	if ((j = json_object_get(def, "not_before")) != NULL &&
	    (f->not_before = json_string_value(j)) == NULL)
		return schema_fail(
		    c, CV_ESCHEMA, "not_before must name a field");

	switch (f->type) {
	case T_STRING:
		f->max = STRING_DEFAULT;
		if ((r = get_int(c, def, "min", 0, CV_SCHEMA_STRING_MAX,
		         &f->min)) != 0 ||
		    (r = get_int(
		         c, def, "max", 1, CV_SCHEMA_STRING_MAX, &f->max)) != 0)
			return r;
		if (f->min > f->max)
			return schema_fail(c, CV_ESCHEMA, "min above max");
		if ((j = json_object_get(def, "format")) != NULL) {
			s = json_string_value(j);
			if (s != NULL && strcmp(s, "nik") == 0)
				f->format = F_NIK;
			else if (s != NULL && strcmp(s, "phone") == 0)
				f->format = F_PHONE;
			else
				return schema_fail(
				    c, CV_ESCHEMA, "unknown format");
		}
		break;
	case T_INTEGER:
		f->min = LLONG_MIN;
		f->max = LLONG_MAX;
		if ((r = get_int(
		         c, def, "min", LLONG_MIN, LLONG_MAX, &f->min)) != 0 ||
		    (r = get_int(
		         c, def, "max", LLONG_MIN, LLONG_MAX, &f->max)) != 0)
			return r;
		if (f->min > f->max)
			return schema_fail(c, CV_ESCHEMA, "min above max");
		/* FALLTHROUGH */
	case T_BOOLEAN:
		if ((j = json_object_get(def, "derived")) == NULL)
			break;
		s = json_string_value(j);
		if (s != NULL && strcmp(s, "age") == 0 && f->type == T_INTEGER)
			f->derived = D_AGE;
		else if (s != NULL && strcmp(s, "child") == 0 &&
		    f->type == T_BOOLEAN)
			f->derived = D_CHILD;
		else
			return schema_fail(c, CV_ESCHEMA, "unknown derivation");
		if ((f->from = json_string_value(
		         json_object_get(def, "from"))) == NULL ||
		    f->required || f->req_field != NULL)
			return schema_fail(c, CV_ESCHEMA,
			    "a derived field needs from and is never required");
		break;
	case T_DATE:
		break;
	case T_ENUM:
		if ((r = load_values(c, json_object_get(def, "values"), f)) !=
		    0)
			return r;
		break;
	case T_ARRAY:
		f->max = ITEMS_DEFAULT;
		if ((r = get_int(c, def, "min_items", 0, CV_SCHEMA_ITEMS_MAX,
		         &f->min)) != 0 ||
		    (r = get_int(c, def, "max_items", 1, CV_SCHEMA_ITEMS_MAX,
		         &f->max)) != 0)
			return r;
		if (f->min > f->max)
			return schema_fail(
			    c, CV_ESCHEMA, "min_items above max_items");
		j = json_object_get(def, "items");
		if (!json_is_object(j))
			return schema_fail(
			    c, CV_ESCHEMA, "an array needs items");
		if ((f->items = calloc(1, sizeof(*f->items))) == NULL)
			return CV_ENOMEM;
		if ((r = load_field(c, j, cls, depth + 1, 1, f->items)) != 0)
			return r;
		if (f->items->type == T_ARRAY)
			return schema_fail(c, CV_ESCHEMA, "arrays of arrays");
		f->mask = f->items->mask;
		break;
	case T_OBJECT:
		if ((r = load_object(c, json_object_get(def, "fields"), cls,
		         depth + 1, f)) != 0)
			return r;
		break;
	}
	if (f->type != T_OBJECT &&
	    !(f->type == T_ARRAY && f->items->type == T_OBJECT)) {
		/* Classification and redaction rest on this. */
		if (cls < 0)
			return schema_fail(c, CV_ESCHEMA,
			    "no class (set it here or on an enclosing object)");
		f->mask = CV_CLASS_BIT(cls);
	}
	return 0;
}

static int
sibling_ok(const struct field *obj, const char *name, enum ftype want)
{
	const struct field *s = schema_find_field(obj, name);

	return s != NULL && s->type == want && s->derived == D_NONE;
}

/* A value a sibling may be compared with: one of its keys, or a boolean. */
static int
cond_ok(const struct field *obj, const char *name, const json_t *v)
{
	const struct field *s = schema_find_field(obj, name);
	size_t i;

	if (s == NULL)
		return 0;
	if (s->type == T_BOOLEAN)
		return json_is_boolean(v);
	if (s->type != T_ENUM || !json_is_string(v))
		return 0;
	for (i = 0; i < s->nvals; i++)
		if (strcmp(s->vals[i].key, json_string_value(v)) == 0)
			return 1;
	return 0;
}

static int
check_siblings(struct ctx *c, struct field *obj)
{
	const struct field *f;
	size_t i, j, old;
	int r = 0;

	for (i = 0; i < obj->nfields && r == 0; i++) {
		f = &obj->fields[i];
		old = schema_path_push(c, f->name);
		if (f->req_field != NULL &&
		    !cond_ok(obj, f->req_field, f->req_value))
			r = schema_fail(c, CV_ESCHEMA,
			    "required_if names no such "
			    "enum or boolean sibling value");
		else if (f->not_before != NULL &&
		    !sibling_ok(obj, f->not_before, T_DATE))
			r = schema_fail(c, CV_ESCHEMA,
			    "not_before names no date "
			    "sibling");
		else if (f->from != NULL && !sibling_ok(obj, f->from, T_DATE))
			r = schema_fail(
			    c, CV_ESCHEMA, "from names no date sibling");
		for (j = 0; r == 0 && j < f->nvals; j++)
			if (f->vals[j].only_field != NULL &&
			    !cond_ok(obj, f->vals[j].only_field,
			        f->vals[j].only_value))
				r = schema_fail(c, CV_ESCHEMA,
				    "only_if names no "
				    "such enum or boolean sibling value");
		if (r == 0)
			schema_path_pop(c, old);
	}
	return r;
}

/*
 * What the rest of the vault needs to know about a type, so that a new type
 * is one data file: "service" (the indicator counts its records as
 * services) and "timeline" (the case timeline shows its records, dated by
 * the date field "date" names). Read after the fields, which "date" names.
 */
static int
load_uses(struct ctx *c, struct cv_schema *s)
{
	static const char *const attrs[] = {"date", "label"};
	const struct field *f;
	const json_t *tl;
	const char *k;
	json_t *v;
	size_t old;
	int r;

	old = schema_path_push(c, "service");
	if ((r = get_bool(c, s->def, "service", &s->service)) != 0)
		return r;
	schema_path_pop(c, old);
	s->tl_cls = -1;
	if ((tl = json_object_get(s->def, "timeline")) == NULL)
		return 0;
	old = schema_path_push(c, "timeline");
	if (!json_is_object(tl))
		return schema_fail(
		    c, CV_ESCHEMA, "must be {\"date\", \"label\"}");
	json_object_foreach ((json_t *)tl, k, v) {
		if (!in_list(k, attrs, CV_ARRAY_LEN(attrs)))
			return schema_fail(c, CV_ESCHEMA, "unknown attribute");
	}
	schema_path_push(c, "date");
	s->tl_date = json_string_value(json_object_get(tl, "date"));
	if (s->tl_date == NULL ||
	    (f = schema_field_at(&s->root, s->tl_date)) == NULL ||
	    f->type != T_DATE)
		return schema_fail(c, CV_ESCHEMA, "must name a date field");
	s->tl_cls = f->cls;
	schema_path_pop(c, old);
	schema_path_push(c, "timeline.label");
	if ((s->tl_label = json_object_get(tl, "label")) != NULL &&
	    !labels_ok(s->tl_label))
		return schema_fail(c, CV_ESCHEMA, "must be {\"en\", \"id\"}");
	if (s->tl_label == NULL &&
	    (s->tl_label = json_object_get(s->def, "title")) == NULL)
		return schema_fail(
		    c, CV_ESCHEMA, "needed when there is no title");
	schema_path_pop(c, old);
	return 0;
}

int
cv_schema_load(const char *text, size_t len, struct cv_schema **out, char *err,
    size_t errlen)
{
	static const char *const top[] = {"type", "version", "title",
	    "description", "fields", "timeline", "service"};
	struct ctx c = {.err = err, .errlen = errlen};
	struct cv_schema *s = NULL;
	const json_t *j;
	const char *k;
	json_t *v;
	int r = CV_EINVAL;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return CV_EINVAL;
	*out = NULL;
	if (text == NULL)
		return CV_EINVAL;
	if (len > CV_SCHEMA_TEXT_MAX)
		return schema_fail(&c, CV_ETOOBIG, "definition too large");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CV_ENOMEM;
	if ((r = cv_json_parse_object(
	         text, len, CV_SCHEMA_TEXT_MAX, &s->def)) != 0) {
		schema_fail(&c, r, "not a JSON object");
		goto out;
	}
	r = CV_ESCHEMA;
	json_object_foreach (s->def, k, v) {
		if (!in_list(k, top, CV_ARRAY_LEN(top))) {
			schema_fail(&c, r, "unknown attribute of a definition");
			goto out;
		}
	}
	s->type = json_string_value(json_object_get(s->def, "type"));
	if (s->type == NULL || !name_ok(s->type)) {
		schema_fail(&c, r, "type must be a name [a-z][a-z0-9_]*");
		goto out;
	}
	j = json_object_get(s->def, "version");
	if (!json_is_integer(j) || json_integer_value(j) < 1 ||
	    json_integer_value(j) > 65535) {
		schema_fail(&c, r, "version must be an integer 1..65535");
		goto out;
	}
	s->version = (unsigned)json_integer_value(j);
	if ((j = json_object_get(s->def, "title")) != NULL && !labels_ok(j)) {
		schema_fail(&c, r, "title must be {\"en\", \"id\"}");
		goto out;
	}
	s->root.type = T_OBJECT;
	s->root.cls = -1;
	if ((r = load_object(&c, json_object_get(s->def, "fields"), -1, 0,
	         &s->root)) != 0 ||
	    (r = load_uses(&c, s)) != 0)
		goto out;
	*out = s;
	s = NULL;
	r = 0;
out:
	cv_schema_free(s);
	return r;
}

void
cv_schema_free(struct cv_schema *s)
{
	if (s == NULL)
		return;
	field_free(&s->root);
	json_decref(s->def);
	free(s);
}

const char *
cv_schema_type(const struct cv_schema *s)
{
	return s->type;
}

unsigned
cv_schema_version(const struct cv_schema *s)
{
	return s->version;
}

int
cv_schema_service(const struct cv_schema *s)
{
	return s != NULL && s->service;
}

const char *
cv_schema_timeline_date(const struct cv_schema *s)
{
	return s != NULL ? s->tl_date : NULL;
}

int
cv_schema_timeline_class(const struct cv_schema *s)
{
	return s != NULL ? s->tl_cls : -1;
}

const char *
cv_schema_timeline_label(const struct cv_schema *s, const char *lang)
{
	if (s == NULL || s->tl_label == NULL || lang == NULL ||
	    (strcmp(lang, "en") != 0 && strcmp(lang, "id") != 0))
		return NULL;
	return json_string_value(json_object_get(s->tl_label, lang));
}
