/*
 * Internals of the schema module shared by the loader (schema_load.c), the
 * validator (schema_check.c) and the views (schema_view.c). Not part of the
 * API: only those three files include it.
 */
#ifndef CV_SCHEMA_INT_H
#define CV_SCHEMA_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/classes.h"
#include "rules/schema.h"

enum ftype {
	T_STRING,
	T_INTEGER,
	T_BOOLEAN,
	T_DATE,
	T_ENUM,
	T_ARRAY,
	T_OBJECT
};
enum fformat { F_NONE, F_NIK, F_PHONE };
enum fderived { D_NONE, D_AGE, D_CHILD };

#define NAME_MAX_LEN 64

struct enumval {
	const char *key, *en, *id;
	int retired;            /* read and labelled, never newly written */
	const char *only_field; /* sibling that must equal only_value */
	const json_t *only_value;
};

struct field {
	const char *name; /* NULL for array items */
	enum ftype type;
	int cls;           /* own or inherited class; -1 for none */
	cv_classmask mask; /* classes of the subtree */
	int required, multiline, unique, not_future;
	json_int_t min, max; /* characters, value or items by type */
	enum fformat format;
	enum fderived derived;
	const char *from;        /* derived: sibling date */
	const char *not_before;  /* date: sibling date */
	const char *req_field;   /* required_if: sibling ... */
	const json_t *req_value; /* ... equal to this */
	struct enumval *vals;
	size_t nvals;
	struct field *items;
	struct field *fields;
	size_t nfields;
};

struct cv_schema {
	json_t *def;
	const char *type;
	unsigned version;
	struct field root;
	const char *tl_date;    /* path of the field dating a timeline entry */
	const json_t *tl_label; /* {"en", "id"} of the entry */
	int tl_cls;  /* class of that field; -1: not on the timeline */
	int service; /* counts as a service for the indicator */
};

struct ctx {
	char *err;
	size_t errlen;
	char path[512];
	size_t plen;
	size_t count;
	uint64_t now;
};

/* The field NAME of object OBJ, or NULL. */
const struct field *schema_find_field(
    const struct field *obj, const char *name);
/* The same for a key of KEYLEN bytes, not NUL-terminated. */
const struct field *schema_find_fieldn(
    const struct field *obj, const char *key, size_t keylen);

/*
 * The field at PATH below ROOT: dotted field names, where "[]" after a name
 * is optional and array levels are transparent, so "plan.services.start"
 * and "plan.services[].start" are the same field. For an array the field
 * of its items. NULL when PATH names no field.
 */
const struct field *schema_field_at(const struct field *root, const char *path);

/* Append ".NAME" (or NAME at the root) to the context's path; returns the
 * old length for schema_path_pop. The path is truncated, never overrun. */
size_t schema_path_push(struct ctx *c, const char *name);

/* Cut the context's path back to length OLD. */
void schema_path_pop(struct ctx *c, size_t old);

/* Write "path: RULE" into the context's error buffer ("record: RULE" at the
 * root) and return CODE. RULE names the rule broken, never a value or an
 * unknown key of the record. */
int schema_fail(struct ctx *c, int code, const char *rule);

/* Parse "YYYY-MM-DD" exactly, a real calendar date, into its parts and its
 * start in ms since the epoch; 0 or -1. */
int schema_date_parse(const char *s, int *y, int *m, int *d, uint64_t *ms);

#endif
