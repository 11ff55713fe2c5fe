/*
 * A transaction on one live case, the frame of every operation that acts
 * on a case: begun with the case's metadata loaded, and, for a write,
 * ended by recording that the audited change took effect in the same
 * commit that makes it.
 */
#ifndef CV_CASE_TXN_H
#define CV_CASE_TXN_H

#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

struct cv_session;

/*
 * Begin a transaction of MODE on the session's store into *TXN and load
 * the metadata of the live case CASE_ID into *META (a new reference).
 * On failure nothing is left open: *TXN and *META are NULL.
 * Returns 0, CV_ENOTFOUND (no case CASE_ID, or it was erased), or an
 * error of the store.
 */
int cv_case_txn_begin(struct cv_session *s, const char *case_id,
    enum cv_txn_mode mode, struct cv_txn **txn, json_t **meta);

/*
 * Mark the change audited as event SEQ applied (cv_event_applied) and
 * commit *TXN with it. When the mark fails *TXN is left for the caller to
 * abort; once the commit is tried, committed or not, *TXN is NULL.
 * Returns 0 or an error of the store.
 */
int cv_case_txn_commit(struct cv_session *s, struct cv_txn **txn, uint64_t seq);

#endif
