/*
 * The summary that `case show` adds to a case: its current step, the
 * timeline, the assessment trend. Every record read goes through the
 * gate.
 */
#ifndef CV_CASE_SUMMARY_H
#define CV_CASE_SUMMARY_H

#include <jansson.h>

struct cv_session;
struct cv_txn;

/*
 * Add to SHOW, the object `case show` returns for CASE_ID (META its
 * metadata, TXN the caller's read transaction, in which the case.show
 * decision has already been made):
 *   "step": the current step key, or null for a case that has none yet;
 *   "step_label": {"en", "id"} (absent with no step);
 *   "timeline": the step history and the referral, shelter, follow-up and
 *     service-plan records the user may read, oldest first, each
 *     {"at", "kind": "step"|"record", "label": {"en","id"}, ...};
 *   "assessments": {INSTRUMENT: {"results": [{"record","date","total",
 *     "severity","severity_id","worsened"}...], "worsened"}} for the
 *     assessments the user may read, oldest first; "worsened" is true when
 *     the latest result is worse than the one before.
 * Each record read is decided and recorded by cv_gate_read_record; records
 * whose class the user may not read are left out. Returns 0, CV_ENOMEM, or
 * an error of the gate or the store (CV_EAUDIT: nothing may be shown).
 */
int cv_case_summary(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, json_t *show);

#endif
