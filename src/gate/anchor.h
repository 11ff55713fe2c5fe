/*
 * The store's anchor: the position of the audit trail (size, Merkle root,
 * commit) as of the store's last committed write, sealed under the meta
 * key as "anchor" in CV_DB_META. It moves with every store write that
 * follows an audited change, and at every login; at every open the trail
 * must still hold it, and must not record a login and a change after it.
 * Private to the library.
 */
#ifndef CV_ANCHOR_H
#define CV_ANCHOR_H

#include "audit/auditlog.h"

struct cv_session;
struct cv_txn;

#define CV_ANCHOR_TAG "casevault-anchor-v1"

/*
 * Move the anchor in TXN, a write transaction, to the trail's current
 * head, unless it is there or beyond already (writers of several processes
 * commit in any order; the anchor never moves back). Returns 0, CV_EAUDIT,
 * CV_ECRYPTO (the stored anchor does not open), or a store error.
 */
int cv_anchor_advance(struct cv_txn *txn, struct cv_session *s);

/*
 * Put the anchor at the trail's current head, wherever it was: only vault
 * creation and an audited restore of a backup do this. Returns as
 * cv_anchor_advance.
 */
int cv_anchor_reset(struct cv_txn *txn, struct cv_session *s);

/*
 * Read the anchor of TXN into *POS. Returns 0, CV_ENOTFOUND (none: a vault
 * made before anchors), CV_ECRYPTO (altered or from another vault),
 * CV_ECORRUPT.
 */
int cv_anchor_get(struct cv_txn *txn, const struct cv_session *s,
    struct cv_audit_pos *pos) __attribute__((warn_unused_result));

/*
 * The check at open, in the login's write transaction (so no write is in
 * flight) and before the login appends anything:
 * - the trail has a head, and holds the anchor: else CV_ETRUNC;
 * - the trail's latest write is at or before the anchor, or no login was
 *   recorded between the anchor and it (a writer that died between its
 *   event and its commit; the open then records the write not applied):
 *   else CV_EROLLBACK;
 * - a store without an anchor opens only when the trail never recorded
 *   one being set ("vault.anchor" events): else CV_EROLLBACK. *FIRST is
 *   set to 1 then, and the caller records "vault.anchor" and sets it.
 * cv_error_detail() says what did not match. Returns 0, CV_ETRUNC,
 * CV_EROLLBACK, CV_EAUDIT, CV_ECRYPTO, CV_ECORRUPT, a store error.
 */
int cv_anchor_check(struct cv_txn *txn, struct cv_session *s, int *first)
    __attribute__((warn_unused_result));

#endif
