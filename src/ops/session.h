/*
 * What creating a vault shares with the session code (session.c), which
 * owns the session's life. Private to the library.
 */
#ifndef CV_OPS_SESSION_H
#define CV_OPS_SESSION_H

#include <stdint.h>

#include <jansson.h>
#include <sodium.h>

#include "store/sealed.h"

struct cv_session;
struct cv_user;

/*
 * The audit signing key, sealed under the meta key as "audit_sk" in
 * CV_DB_META. Bound by its tag alone: there is one signing key in a vault.
 */
#define CV_AUDIT_SK_TAG    "casevault-auditsk-v1"
#define CV_AUDIT_SK_SEALED (CV_SEALOVERHEAD + crypto_sign_SECRETKEYBYTES)

/*
 * A new session for the vault in DIR into *OUT, owned by the caller
 * (cv_session_close): fresh key memory and a random session id, no store
 * or audit trail yet. Returns 0, CV_ENOMEM, or CV_ETOOBIG for a DIR too
 * long.
 */
int cv_session_new(const char *dir, struct cv_session **out);

/* Make U, just authenticated or created, the user acting in S. */
void cv_session_set_user(struct cv_session *s, const struct cv_user *u);

/*
 * Record in the audit trail that the session's user did ACTION, allowed
 * and successful: the session code's own events ("session.open",
 * "vault.init"), which no policy decides. Returns as cv_event_commit.
 */
int cv_session_record(struct cv_session *s, const char *action)
    __attribute__((warn_unused_result));

/*
 * Record the vault's first event, "vault.init", saying that the store has
 * an anchor from the start (gate/anchor.h): an open that finds it missing
 * then knows it was removed. It is a write event: EXTRA's fields (the
 * "writes" noting the first admin's account; may be NULL) are added, and
 * its sequence number goes to *SEQ (may be NULL). Returns as
 * cv_event_commit.
 */
int cv_session_record_init(struct cv_session *s, const json_t *extra,
    uint64_t *seq) __attribute__((warn_unused_result));

/*
 * Record that the session's user was refused ACTION by RULE, a check
 * made outside the gate (a custody rule: only a custodian may serve the
 * vault). Returns as cv_event_commit.
 */
int cv_session_refuse(struct cv_session *s, const char *action,
    const char *rule) __attribute__((warn_unused_result));

/*
 * Compact the session's store (store.h: cv_store_compact), for the writes
 * that must leave no copy in freed pages (erasure, key rotation, serving
 * the vault). A session of the daemon shares the store with other threads,
 * whose transactions a compaction would pull the file from under: the
 * compaction is left to cv_vault_close, and CV_EBUSY returned, as when
 * another process holds the vault open.
 */
int cv_session_compact(struct cv_session *s);

#endif
