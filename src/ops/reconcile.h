/*
 * The store and the trail checked against each other, both ways: every
 * stored case metadata, per-case object and record version is the latest
 * one its events wrote, with the digest they name; every object a write
 * event names is in the store with that digest, superseded by a later
 * event, or removed by the erasure of its case. Private to src/ops/.
 */
#ifndef CV_RECONCILE_H
#define CV_RECONCILE_H

#include <stdint.h>

#include <jansson.h>

struct cv_session;

#define CV_RECONCILE_REPORT_MAX 100 /* problems listed; more are counted */

/*
 * Reconcile the session's store with its trail (streamed once with
 * cv_auditlog_foreach; memory grows with the number of objects, not of
 * events). *PROBLEMS is a new array of {"kind", "case", "id", "problem"}:
 * KIND "case" | "consent" | "request" | "breakglass" | "disclosure" |
 * "record", CASE the pseudonym, ID the object name ("meta", "K/<id>",
 * "rec/<n>"; for a record version "rec/<n>/<v>"), PROBLEM "missing"
 * (written, never superseded or erased, and not in the store), "replayed"
 * (an older value than the latest written), "digest_mismatch" (not what
 * its event wrote) or "unaudited" (no event wrote it). At most
 * CV_RECONCILE_REPORT_MAX are listed; *NPROBLEMS counts them all,
 * *NOBJECTS the stored objects checked and *NVERSIONS the record versions
 * among them. Returns 0 whatever was found,
 * CV_ENOMEM, CV_EVERIFY (a trail that cannot be read), a store error.
 */
int cv_reconcile(struct cv_session *s, json_t **problems, uint64_t *nproblems,
    uint64_t *nobjects, uint64_t *nversions);

#endif
