/*
 * The outcome of audited writes. A write's event is made durable inside
 * the store's write transaction, before the change commits; the change
 * then commits with the event's seq as "applied", or the write fails and
 * its event is closed by an "audit.outcome" event with outcome
 * "not_applied" naming it. Every durable write event is followed by
 * exactly one of the two.
 *
 * The invariant that makes one "applied" mark enough for any number of
 * processes: a write event is committed only by the holder of the store's
 * write lock, and every holder settles first. So, holding the lock after
 * settling, no write event is open; and holding it at all, at most one
 * is, the trail's latest write event, open exactly when its seq is above
 * "applied". Private to the library.
 */
#ifndef CV_OUTCOME_H
#define CV_OUTCOME_H

struct cv_session;
struct cv_txn;

/*
 * Settle, in TXN (a write transaction): when the trail's latest write
 * event is above "applied", commit its not_applied outcome and mark it
 * applied in TXN, setting *CHANGED. The caller commits TXN, or the
 * outcome is recorded again by the next writer. Returns 0, CV_ENOMEM,
 * CV_EAUDIT or a store error.
 */
int cv_outcome_settle(struct cv_txn *txn, struct cv_session *s, int *changed);

/*
 * Begin a write transaction on the session's store into *TXN with no
 * write event open: a write event left open (by a writer that failed or
 * died) is settled and committed first. Every write that the gate audits
 * begins here. On failure *TXN is NULL. Returns 0, CV_ENOMEM, CV_EAUDIT
 * or a store error.
 */
int cv_outcome_txn_begin(struct cv_session *s, struct cv_txn **txn);

/*
 * After a write failed once its transaction was begun (TXN, if not NULL,
 * is aborted here and set to NULL): record at once the not_applied
 * outcome of its event if that event became durable. Settling is idempotent,
 * so a failure before the event costs a check and records nothing.
 * The caller's error stands; a failure here leaves the event to the next
 * writer or the next open.
 */
void cv_outcome_failed(struct cv_session *s, struct cv_txn **txn);

/*
 * The end of every write path: with R nonzero, cv_outcome_failed; with R
 * zero, abort whatever of TXN is left (NULL after a commit). *TXN is NULL
 * afterwards either way.
 */
void cv_outcome_end(struct cv_session *s, struct cv_txn **txn, int r);

#endif
