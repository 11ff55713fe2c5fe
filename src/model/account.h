/*
 * Accounts and keyslots: who may log in, with which role, and the root key
 * wrapped for each of them under Argon2id. Private to the library.
 */
#ifndef CV_ACCOUNT_H
#define CV_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "casevault.h"

struct cv_session;
struct cv_txn;

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

/*
 * Unwrap the root key in the slot of NAME with PASS into s->keys->root.
 * Returns 0, CV_EDISABLED when NAME has no slot, CV_ECORRUPT for a slot
 * of the wrong size or version, CV_ECRYPTO when PASS does not open it (or
 * it was altered), or an error of the store or the KDF.
 */
int cv_slot_open(struct cv_txn *txn, struct cv_session *s, const char *name,
    const char *pass, size_t passlen) __attribute__((warn_unused_result));

#endif
