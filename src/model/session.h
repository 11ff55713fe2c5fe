/*
 * An open, authenticated vault: the store, the audit trail, the unlocked
 * keys and who is acting. Private to the library.
 */
#ifndef CV_SESSION_H
#define CV_SESSION_H

#include <stdint.h>

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
	uint64_t clock_behind; /* ms the clock was seen behind the trail,
	                          past the tolerance (gate/clock.h) */
	int opened;            /* logged in: closing moves the store's anchor */
};

#endif
