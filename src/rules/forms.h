/*
 * The record schemas, assessment instruments and service flow compiled
 * into the library (forms/), loaded once per process.
 */
#ifndef CV_FORMS_H
#define CV_FORMS_H

struct cv_schema;
struct cv_instrument;
struct cv_flow;

/* The schema of record type TYPE, or NULL for an unknown type. */
const struct cv_schema *cv_forms_schema(const char *type);

/* The instrument NAME ("hamd", "hama", "mmse"), or NULL. */
const struct cv_instrument *cv_forms_instrument(const char *name);

/*
 * The name of the instrument at I, in the order of forms/instruments/,
 * static once loaded; NULL past the last.
 */
const char *cv_forms_instrument_name(size_t i);

/*
 * The relationship vocabulary: the current values of the intake's
 * perpetrator relationship (CV_FORMS_RELATIONSHIP), which a guardian's
 * relationship in a consent is also taken from, so that the two compare.
 * The word at I, static once loaded; NULL past the last.
 */
#define CV_FORMS_RELATIONSHIP "incident.perpetrators[].relationship"
const char *cv_forms_relationship(size_t i);

/* 1 when REL (may be NULL) is a current word of that vocabulary. */
int cv_forms_relationship_valid(const char *rel);

/* The case-step flow, or NULL when it failed to load. */
const struct cv_flow *cv_forms_flow(void);

/*
 * 0 when every embedded definition loaded, else CV_ECORRUPT with *WHY (may
 * be NULL) naming the first definition that failed and its rule ("" when
 * none failed). The rules layer prints nothing: cv_library_init reports it.
 */
int cv_forms_status(const char **why);

#endif
