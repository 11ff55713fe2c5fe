/*
 * The coverage indicator of social rehabilitation by trained officers for
 * women and child survivors of violence (Satu Data indicator 350, see
 * docs/indicator.md): the percentage with its numerator and denominator,
 * and breakdowns by violence type and age group with small cells
 * suppressed. The output holds counts only, never a case.
 */
#ifndef CV_INDICATOR_H
#define CV_INDICATOR_H

#include <jansson.h>

/* Breakdown counts below this are suppressed. */
#define CV_INDICATOR_MIN_CELL 5
/* Limits on the input. */
#define CV_INDICATOR_CASES_MAX    1000000
#define CV_INDICATOR_VIOLENCE_MAX 64 /* distinct violence types */

/*
 * Compute the indicator for YEAR (1900-9999) over CASES, a JSON array with
 * one object per case (borrowed):
 *   {"sex": "female"|"male", "age": N, "violence": ["sexual", ...],
 *    "handled": [YEAR, ...], "services": [{"year": Y, "trained": B}, ...]}
 * "age" is the age in whole years at intake. No other field is accepted.
 * On success *out is a new reference owned by the caller:
 *   {"year", "numerator", "denominator", "percent" (one decimal, null when
 *    the denominator is 0), "by_violence": {TYPE: CELL}, "by_age_group":
 *    {GROUP: CELL}}
 * with CELL = {"numerator", "denominator", "percent", "suppressed"}, where
 * a suppressed value is null. Returns CV_EINVAL for a bad year or a
 * malformed element (the value is never echoed), CV_ENOMEM.
 */
int cv_indicator_compute(const json_t *cases, int year, json_t **out);

/*
 * The output of cv_indicator_compute as CSV: a header and one row for the
 * total, each age group and each violence type; suppressed values read
 * "suppressed". Returns a malloc'd NUL-terminated string owned by the
 * caller, or NULL when RESULT is not such an output or memory runs out.
 */
char *cv_indicator_csv(const json_t *result);

#endif
