/* Record operations shared by the case, note and assessment commands. */
#ifndef CV_RECORD_H
#define CV_RECORD_H

#include <jansson.h>

#include "base/classes.h"

struct cv_session;
struct cv_txn;

/*
 * Check DATA against the schema of TYPE and return the classes it holds.
 * CV_EINVAL for an unknown type, CV_ETOOBIG for an oversized record,
 * CV_ESCHEMA with the field and rule in ERR.
 */
int cv_record_validate(const char *type, const json_t *data,
    cv_classmask *classes, char *err, size_t errlen);

/*
 * Store SCORED, an assessment as the instrument scored it, as a new
 * record, or as the next version of the assessment RECORD_ID (for
 * ops/assessment.c only: cv_record_add and cv_record_amend refuse the
 * type). Return as cv_record_add and cv_record_amend; amending a record
 * that is not an assessment is CV_EINVAL.
 */
int cv_record_add_scored(struct cv_session *s, const char *case_id,
    const json_t *scored, uint32_t *record_id);
int cv_record_amend_scored(struct cv_session *s, const char *case_id,
    uint32_t record_id, const json_t *scored, uint32_t *version);

/*
 * Read the latest version of each record of the case (TYPE NULL) or of
 * each record of TYPE through the gate, under OP and PURPOSE (may be
 * NULL), into a new array *OUT in record order. Each read is its own
 * decision and event; a record refused whole is left out, its refusal on
 * the trail. TXN and META are the caller's, the case's metadata loaded in
 * it. Returns 0, CV_ENOMEM, CV_EAUDIT, or a store or integrity error
 * (*OUT NULL).
 */
int cv_record_read_all(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, const char *type, const char *op,
    const char *purpose, json_t **out);

#endif
