/*
 * Record schemas. Each record type (intake, note, service_plan, ...) is
 * defined by a data file forms/<type>.json in the schema language described
 * in docs/records.md; this module loads such a definition from a buffer,
 * validates records against it, and classifies, redacts and derives views of
 * them. Every leaf field carries exactly one data class (classes.h).
 *
 * Error messages written into ERR name the field path and the rule broken,
 * never a value from the record: records hold personal data.
 */
#ifndef CV_SCHEMA_H
#define CV_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/classes.h"

/* Bounds on definitions; records are bounded by the definition. */
#define CV_SCHEMA_TEXT_MAX   (128 * 1024) /* bytes of one definition */
#define CV_SCHEMA_DEPTH_MAX  6            /* nesting of objects and arrays */
#define CV_SCHEMA_FIELDS_MAX 256          /* fields in one definition */
#define CV_SCHEMA_VALUES_MAX 64           /* values of one enumeration */
#define CV_SCHEMA_STRING_MAX 65536        /* characters of one string field */
#define CV_SCHEMA_ITEMS_MAX  1000         /* items of one array field */
#define CV_SCHEMA_ERR_MAX    256          /* a useful size for ERR buffers */

struct cv_schema; /* one record type, immutable once loaded */
struct cv_doc;    /* a parsed record payload, base/cbor.h */

/*
 * Load the definition in TEXT (LEN bytes, need not be NUL-terminated). On
 * success *out is a new schema owned by the caller (cv_schema_free); it keeps
 * no pointer into TEXT. On failure *out is NULL and, when ERR is not NULL, a
 * NUL-terminated message of at most ERRLEN bytes names the definition's field
 * and the problem. Returns 0, CV_EINVAL for a NULL argument, CV_ETOOBIG when
 * LEN exceeds CV_SCHEMA_TEXT_MAX, CV_EJSON for malformed JSON, CV_ESCHEMA for
 * a definition that breaks the schema language (a leaf without a class, an
 * unknown attribute, a bound out of range, ...), CV_ENOMEM.
 */
int cv_schema_load(const char *text, size_t len, struct cv_schema **out,
    char *err, size_t errlen);

/* Free S. NULL is allowed. */
void cv_schema_free(struct cv_schema *s);

/* The record type ("intake"); borrowed, valid until cv_schema_free. */
const char *cv_schema_type(const struct cv_schema *s);

/* The definition's version, 1 or more. */
unsigned cv_schema_version(const struct cv_schema *s);

/*
 * What the rest of the vault knows of a type, declared in its definition
 * (docs/records.md), so that a new type needs no code.
 *
 * cv_schema_service: 1 when the definition says "service": true, i.e. the
 * coverage indicator counts a record of the type as a social
 * rehabilitation service; 0 when not, or for a NULL S.
 *
 * cv_schema_timeline_date: the path of the date field that places a record
 * of the type on the case timeline ("timeline": {"date": PATH}), borrowed,
 * valid until cv_schema_free; NULL when the type is not on the timeline.
 * cv_schema_timeline_class: the class of that field (an enum cv_class),
 * which a reader must be allowed for the entry to show; -1 when the type is
 * not on the timeline. cv_schema_timeline_label: the entry's label in LANG,
 * "en" or "id" (the timeline's "label", else the definition's "title"),
 * borrowed; NULL off the timeline or for another language.
 */
int cv_schema_service(const struct cv_schema *s);
const char *cv_schema_timeline_date(const struct cv_schema *s);
int cv_schema_timeline_class(const struct cv_schema *s);
const char *cv_schema_timeline_label(
    const struct cv_schema *s, const char *lang);

/*
 * The date ("YYYY-MM-DD") of RECORD (borrowed) on the case timeline: the
 * value at the timeline's date path, or, when the path crosses an array,
 * the earliest of its values (a service plan starts with its first
 * service). Values that are not a valid date are skipped. Borrowed from
 * RECORD; NULL when the type is not on the timeline or RECORD holds no
 * date there (it may have been withheld).
 */
const char *cv_schema_record_date(
    const struct cv_schema *s, const json_t *record);

/*
 * Validate RECORD (borrowed) against S at time NOW (ms since the epoch, used
 * by not_future and derived fields). Returns 0 when the record is valid,
 * CV_ESCHEMA when it is not, with ERR (when not NULL) set to "path: rule",
 * e.g. "survivor.nik: must be 16 digits"; CV_EINVAL for a NULL argument.
 * The message never contains a value or an unknown key from RECORD.
 */
int cv_schema_validate(const struct cv_schema *s, const json_t *record,
    uint64_t now, char *err, size_t errlen);

/*
 * The union of the classes of the fields present in RECORD. A key the schema
 * does not define has no class, so it contributes CV_CLASS_ALL: whoever
 * reads it must be allowed everything. Returns 0 for a NULL argument.
 */
cv_classmask cv_schema_classes(const struct cv_schema *s, const json_t *record);

/*
 * The record DOC (a parsed payload, see base/cbor.h) as a new JSON object
 * keeping only the fields whose class is in ALLOWED: nothing withheld is
 * ever made into a value. Objects and arrays of objects left empty are
 * dropped; keys the schema does not define are always dropped. On success
 * *out is a new object owned by the caller (json_decref) and *withheld
 * (when not NULL) the classes that were present and removed. Returns 0,
 * CV_EINVAL for a NULL argument, CV_ENOMEM.
 */
int cv_schema_redact_doc(const struct cv_schema *s, const struct cv_doc *doc,
    cv_classmask allowed, json_t **out, cv_classmask *withheld);

/*
 * The same for RECORD given as JSON (encoded and parsed first, so that
 * there is one way to redact). Returns 0, CV_EINVAL for a NULL argument or
 * a RECORD that is not an object or cannot be encoded (see
 * cv_rec_encode), CV_ENOMEM.
 */
int cv_schema_redact(const struct cv_schema *s, const json_t *record,
    cv_classmask allowed, json_t **out, cv_classmask *withheld);

/*
 * A deep copy of RECORD with the schema's derived fields (e.g. survivor.age
 * and survivor.child from survivor.birth_date) computed at NOW and set; a
 * derived field whose source is missing or malformed is left out. The view is
 * for display and is never stored. *out is owned by the caller. Returns 0,
 * CV_EINVAL, CV_ENOMEM.
 */
int cv_schema_derive(const struct cv_schema *s, const json_t *record,
    uint64_t now, json_t **out);

/*
 * The label of enumeration value KEY of the field at PATH (dotted field
 * names; array levels are transparent, "incident.perpetrators.relationship"
 * and "incident.perpetrators[].relationship" are the same field) in LANG,
 * "id" (Indonesian) or "en" (English). Borrowed, valid until cv_schema_free;
 * NULL when the field, the value or the language is unknown.
 */
const char *cv_schema_label(const struct cv_schema *s, const char *path,
    const char *key, const char *lang);

/*
 * The key of enumeration value I of the field at PATH (as for
 * cv_schema_label), in definition order, borrowed, valid until
 * cv_schema_free; NULL past the last value, for a field that is no
 * enumeration, or for a NULL argument. Values marked "retired" (kept so
 * that older records still read and show their label, refused in a new
 * write) are not counted: the list is what a new record may hold.
 */
const char *cv_schema_value(
    const struct cv_schema *s, const char *path, size_t i);

/*
 * Call CB for every leaf field of S in definition order with its path
 * ("survivor.name", "incident.perpetrators[].relationship") and its class
 * (an enum cv_class). A leaf is a field that is not an object and not an
 * array of objects. Stops at the first non-zero return of CB and returns
 * it; returns 0 when every call returned 0, CV_EINVAL for a NULL argument.
 */
int cv_schema_foreach_field(const struct cv_schema *s,
    int (*cb)(const char *path, int cls, void *arg), void *arg);

/*
 * For an intake record (borrowed): 1 when the survivor is under 18 at NOW
 * (by the UTC calendar date of NOW), 0 when not, CV_EINVAL when
 * survivor.birth_date is missing, malformed or after NOW.
 */
int cv_schema_child(const json_t *intake, uint64_t now);

/*
 * For an intake record: its incident.perpetrators array (borrowed from
 * INTAKE), or NULL when absent or not an array.
 */
const json_t *cv_schema_perpetrators(const json_t *intake);

#endif
