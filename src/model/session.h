/*
 * An open, authenticated vault: the store, the audit trail, the unlocked
 * keys and who is acting. Private to the library.
 */
#ifndef CV_SESSION_H
#define CV_SESSION_H

#include <stdint.h>

#include <jansson.h>

#include "casevault.h"
#include "base/crypto.h"
#include "store/store.h"

struct cv_auditlog;
struct cv_policy_set;

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
};

/* An account, as stored (JSON in CV_DB_USERS). */
struct cv_user {
	uint32_t id;
	char name[CV_NAME_MAX + 1];
	char role[CV_NAME_MAX + 1];
	int trained;
	int disabled;
	uint32_t failures;
	uint64_t last_failure;
	uint64_t created;
	char hash[192];
};

int cv_user_get(struct cv_txn *txn, const char *name, struct cv_user *u);
int cv_user_put(struct cv_txn *txn, const struct cv_user *u);
/* Find the account with id UID (by a scan). */
int cv_user_by_id(struct cv_txn *txn, uint32_t uid, struct cv_user *u);
/*
 * Call CB for every account that reads back well, in name order. A nonzero
 * return from CB stops the walk and is returned.
 */
int cv_user_foreach(struct cv_txn *txn,
    int (*cb)(const struct cv_user *u, void *arg), void *arg);

/* Wrap s->keys->root for NAME under PASS, replacing any slot of NAME. */
int cv_slot_write(struct cv_txn *txn, struct cv_session *s, const char *name,
    const char *pass, size_t passlen);

#endif
