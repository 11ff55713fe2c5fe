/*
 * Audit events: built for a session, made durable in the trail, and marked
 * applied once the change they announce is committed. The gate authors the
 * events of access decisions; the session code (login, vault creation,
 * recovery) is the only other author. Private to the library.
 */
#ifndef CV_EVENT_H
#define CV_EVENT_H

#include <stdint.h>

#include <jansson.h>

struct cv_session;
struct cv_txn;

/*
 * A new audit event for the session: actor, role, session and policy hash
 * filled in, then ACTION. The caller adds the rest and passes it to
 * cv_event_commit. Returns NULL on allocation failure.
 */
json_t *cv_event_new(const struct cv_session *s, const char *action);

/* Add the keyed pseudonym of CASE_ID to EV as "case". */
void cv_event_case(const struct cv_session *s, json_t *ev, const char *case_id);

/*
 * Make EV durable in the audit trail (consumes EV, which may be NULL after
 * a failed allocation: CV_ENOMEM). WRITE marks an event that precedes a
 * change to the store; *SEQ (SEQ may be NULL) is its sequence number.
 * Returns 0, CV_ENOMEM, CV_ETOOBIG (an event over the size limit), or
 * CV_EAUDIT when it cannot be written: the caller then refuses the
 * operation. Only the gate and the session code (login, vault creation,
 * recovery) record events.
 */
int cv_event_commit(struct cv_session *s, json_t *ev, int write, uint64_t *seq)
    __attribute__((warn_unused_result));

/*
 * Record that the write audited as SEQ took effect, inside the write
 * transaction that makes the change, so recovery can tell a change that
 * was audited but never applied.
 */
int cv_event_applied(struct cv_txn *txn, struct cv_session *s, uint64_t seq);

#endif
