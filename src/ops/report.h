/*
 * The coverage indicator built from the vault (docs/indicator.md): one
 * de-identified row per case, from its latest intake, its metadata and
 * the headers of its service records, handed to cv_indicator_compute.
 */
#ifndef CV_REPORT_H
#define CV_REPORT_H

#include <stdint.h>

#include <jansson.h>

/*
 * 1 when records of TYPE count as a social rehabilitation service: the
 * type's definition says "service": true. 0 for other or unknown types.
 */
int cv_report_service_type(const char *type);

/*
 * Completed years between BIRTH ("YYYY-MM-DD") and the UTC calendar date
 * of AT (ms). -1 when BIRTH is malformed or after AT.
 */
int cv_report_age_at(const char *birth, uint64_t at);

/*
 * 1 when the case of META was open at some point of YEAR: opened before
 * the year ended, and not closed, or closed after the year began. 0 when
 * not, or when META has no valid "opened" time.
 */
int cv_report_handled(const json_t *meta, int year);

/*
 * The indicator fields of an intake record (borrowed) for a case opened
 * at OPENED (ms): sets "sex", "age" (at OPENED) and "violence" in ROW.
 * Returns 0, or CV_EINVAL when the intake lacks what the indicator needs
 * (a birth date not after OPENED; a sex, unless the survivor was a child).
 */
int cv_report_intake_row(const json_t *intake, uint64_t opened, json_t *row);

#endif
