/*
 * An open, authenticated vault: the store, the audit trail, the unlocked
 * keys and who is acting. Private to the library.
 */
#ifndef CV_SESSION_H
#define CV_SESSION_H

#include <pthread.h>
#include <stdint.h>

#include "casevault.h"
#include "base/crypto.h"
#include "store/store.h"

struct cv_auditlog;
struct cv_policy_set;

/*
 * A policy set shared by the sessions of a served vault: each holds a
 * reference, taken and dropped under the vault's mutex, so a reload swaps
 * the vault's set for new sessions while the open ones keep theirs.
 */
struct cv_policy_ref {
	struct cv_policy_set *set;
	char hash[65];
	unsigned refs;
};

/*
 * A vault unlocked by a custodian (cv_vault_unlock): OWN is the
 * custodian's session, which holds the store, the trail and the keys;
 * the sessions of cv_vault_login borrow the first two and copy the keys.
 */
struct cv_vault {
	struct cv_session *own;
	pthread_mutex_t mu;           /* guards policy and sessions */
	struct cv_policy_ref *policy; /* the set new sessions take */
	unsigned sessions;            /* logged in and not yet closed */
	int mode;                     /* CV_MODE_EMBEDDED or CV_MODE_SERVED */
	int compact;                  /* a compaction waits for the seal */
};

struct cv_session {
	struct cv_store *st;
	struct cv_auditlog *audit;
	struct cv_keys *keys; /* sodium_malloc'd */
	struct cv_policy_set *policy;
	char policy_hash[65];
	uint8_t vault_id[CV_VAULTIDBYTES];
	char dir[4096];
	char user[CV_NAME_MAX + 1];
	char role[CV_NAME_MAX + 1];
	char actor[16]; /* "u<id>": the staff id the audit trail names */
	uint32_t uid;
	int trained;
	char session_id[17];
	uint64_t clock_behind; /* ms the clock was seen behind the trail,
	                          past the tolerance (gate/clock.h) */
	int opened;            /* logged in: closing moves the store's anchor */
	/* Served mode. VAULT: the unlocked vault the session belongs to;
	 * BORROWED: its store and trail are VAULT's, not closed with it;
	 * POLICY_REF: the reference POLICY came from (NULL: POLICY is the
	 * session's own). */
	struct cv_vault *vault;
	int borrowed;
	struct cv_policy_ref *policy_ref;
	struct cv_peer peer; /* who is at the daemon's socket */
	int has_peer;
	int reset_credential; /* logged in with a one-time passphrase */
};

/*
 * Whether S->policy is the session's own, to be freed when replaced or
 * closed, or a set it borrows through its reference.
 */
static inline int
cv_session_owns_policy(const struct cv_session *s)
{
	return s->policy_ref == NULL || s->policy != s->policy_ref->set;
}

#endif
