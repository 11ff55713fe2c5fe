/*
 * The policy set deployed in a vault. The shipped policies/ are compiled
 * into the library; `casevault init` deploys them into the store, sealed
 * under the meta key so an edit of the file is detected, and every session
 * loads the deployed set, never the files on disk. The set is the gate's
 * configuration (the decision reads s->policy), so it lives in the gate's
 * layer, which may use both the store and the policy rules.
 */
#ifndef CV_POLICY_STORE_H
#define CV_POLICY_STORE_H

struct cv_session;
struct cv_txn;
struct cv_policy_set;

/* Deploy the shipped set into a new vault (inside its creation txn). */
int cv_policy_store_init(struct cv_txn *txn, struct cv_session *s);

/* Load the deployed set into s->policy and s->policy_hash. */
int cv_policy_store_load(struct cv_session *s);

/* Replace the deployed set with SET (inside TXN). SET stays the caller's. */
int cv_policy_store_put(
    struct cv_txn *txn, struct cv_session *s, const struct cv_policy_set *set);

/* The shipped set, as compiled in. */
int cv_policy_shipped(struct cv_policy_set **out, char *err, size_t errlen);

void cv_policy_store_free(struct cv_policy_set *set);

#endif
