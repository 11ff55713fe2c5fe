/*
 * The release of a case's records, shared by cv_request_fetch and
 * cv_case_disclose: what leaves the vault is read record by record
 * through the gate and recorded, as a whole, as one "disclosure" event.
 */
#ifndef CV_DISCLOSURE_H
#define CV_DISCLOSURE_H

#include <stddef.h>

#include <jansson.h>

#include "base/classes.h"
#include "rules/policy.h"

struct cv_session;
struct cv_txn;

/*
 * The legal basis and the recipient kind at I of the lists that
 * cv_case_disclose accepts (static), or NULL past the end.
 */
const char *cv_disclosure_basis(size_t i);
const char *cv_disclosure_recipient(size_t i);

/*
 * Open every record of CASE_ID (META its metadata, in the caller's TXN)
 * through the gate for ACTION under OP, PURPOSE and REQUEST (each read is
 * its own decision and event), keep what the gate allows, and have it
 * decide and record the release as a whole: one "disclosure" event for
 * the classes in ONLY, carrying EXTRA (may be NULL; borrowed) with "via"
 * (OP) and the versions released with a keyed hash of each added.
 * *OUT is a new release {"case", "records", "withheld"}, as the public
 * header describes it. Returns 0, or CV_EDENIED (nothing may be released;
 * recorded), CV_ENOMEM, or an error of the gate or the store.
 */
int cv_disclosure_release(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, const char *op,
    enum cv_action action, cv_classmask only, const char *purpose,
    const char *request, const json_t *extra, json_t **out);

#endif
