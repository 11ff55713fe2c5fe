/*
 * Sessions: logging in, and the state every operation of a session shares.
 *
 * A session is one user, authenticated by their Argon2id hash, whose
 * passphrase also unwraps their keyslot and so the root key. Every login,
 * failed or not, is recorded: a failure cannot sign (no key is unlocked),
 * so it waits in the store's pending queue and enters the signed trail at
 * the next successful unlock.
 *
 * Before any file of the vault is opened, the vault must be its owner's
 * alone: the directory and audit.git writable by no one else, no file a
 * link (the store checks its own files, see base/safefile.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/auditlog.h"
#include "audit/cleanup.h"
#include "casevault.h"
#include "base/error.h"
#include "base/crypto.h"
#include "base/passphrase.h"
#include "base/safefile.h"
#include "gate/policyset.h"
#include "store/sealed.h"
#include "store/store.h"
#include "base/util.h"
#include "gate/anchor.h"
#include "gate/event.h"
#include "model/account.h"
#include "model/session.h"
#include "ops/session.h"

#define BACKOFF_FREE 2   /* failures before the back-off starts */
#define BACKOFF_MAX  900 /* seconds */

int
cv_session_new(const char *dir, struct cv_session **out)
{
	struct cv_session *s;
	uint8_t sid[8];

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CV_ENOMEM;
	if ((s->keys = cv_keys_new()) == NULL) {
		free(s);
		return CV_ENOMEM;
	}
	if (cv_path(s->dir, sizeof(s->dir), "%s", dir) != 0) {
		cv_keys_free(s->keys);
		free(s);
		return CV_ETOOBIG;
	}
	cv_random(sid, sizeof(sid));
	sodium_bin2hex(s->session_id, sizeof(s->session_id), sid, sizeof(sid));
	*out = s;
	return 0;
}

void
cv_session_set_user(struct cv_session *s, const struct cv_user *u)
{
	snprintf(s->user, sizeof(s->user), "%s", u->name);
	snprintf(s->role, sizeof(s->role), "%s", u->role);
	snprintf(s->actor, sizeof(s->actor), "u%u", (unsigned)u->id);
	s->uid = u->id;
	s->trained = u->trained;
}

int
cv_session_record(struct cv_session *s, const char *action)
{
	json_t *ev;

	if ((ev = cv_event_new(s, action)) != NULL) {
		json_object_set_new(ev, "decision", json_string("allow"));
		json_object_set_new(ev, "outcome", json_string("success"));
	}
	return cv_event_commit(s, ev, 0, NULL);
}

int
cv_session_record_init(struct cv_session *s)
{
	json_t *ev;

	if ((ev = cv_event_new(s, "vault.init")) != NULL) {
		json_object_set_new(ev, "decision", json_string("allow"));
		json_object_set_new(ev, "outcome", json_string("success"));
		json_object_set_new(ev, "anchored", json_true());
	}
	return cv_event_commit(s, ev, 0, NULL);
}

/*
 * The events of a session's reads follow its last store write: anchor
 * them at close, so that cutting them off the trail is noticed at the
 * next login. Best effort: a close that cannot write leaves the anchor
 * where the session's login or last write put it.
 */
static void
anchor_at_close(struct cv_session *s)
{
	struct cv_txn *txn = NULL;

	if (cv_txn_begin(s->st, CV_TXN_WRITE, &txn) != 0)
		return;
	if (cv_anchor_advance(txn, s) == 0)
		cv_txn_commit(txn);
	else
		cv_txn_abort(txn);
}

void
cv_session_close(struct cv_session *s)
{
	if (s == NULL)
		return;
	if (s->opened && s->st != NULL && s->audit != NULL)
		anchor_at_close(s);
	cv_auditlog_close(s->audit);
	cv_policy_store_free(s->policy);
	cv_store_close(s->st);
	cv_keys_free(s->keys);
	free(s);
}

const char *
cv_session_user(const struct cv_session *s)
{
	return s->user;
}

const char *
cv_session_role(const struct cv_session *s)
{
	return s->role;
}

/*
 * Unseal the audit signing key and open the trail for appending with it;
 * the trail keeps its own guarded copy, and this one is wiped on every
 * path (sodium_free).
 */
static int
audit_attach(struct cv_txn *txn, struct cv_session *s)
{
	struct cv_bind b = {CV_AUDIT_SK_TAG, s->vault_id, NULL, 0, NULL, 0};
	uint8_t *sk;
	struct cv_val v;
	int r;

	if ((r = cv_get(txn, CV_DB_META, "audit_sk", 8, &v)) != 0)
		return r == CV_ENOTFOUND ? CV_ECORRUPT : r;
	if (v.len != CV_AUDIT_SK_SEALED)
		return CV_ECORRUPT;
	if ((sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return CV_ENOMEM;
	if ((r = cv_sealed_open(s->keys->meta, &b, v.data, v.len, sk)) != 0)
		goto out;
	if (cv_auditlog_open(s->dir, sk, &s->audit) != 0)
		r = CV_EAUDIT;
out:
	sodium_free(sk);
	return r;
}

/*
 * Queue an event in the store for the next unlocked writer (login
 * failures happen before any key is available).
 */
static int
pending_put(struct cv_store *st, json_t *ev)
{
	struct cv_txn *txn = NULL;
	uint64_t n = 0;
	uint8_t k[8];
	char *text = NULL;
	int r;

	json_object_set_new(
	    ev, "observed", json_integer((json_int_t)cv_now_ms()));
	if ((text = cv_json_canonical(ev)) == NULL)
		return CV_ENOMEM;
	if ((r = cv_txn_begin(st, CV_TXN_WRITE, &txn)) != 0)
		goto out;
	if ((r = cv_meta_get_u64(txn, "pending_next", &n)) != 0 &&
	    r != CV_ENOTFOUND)
		goto out;
	n++;
	cv_put_be64(k, n);
	if ((r = cv_put(txn, CV_DB_PENDING, k, 8, text, strlen(text), 0)) !=
	        0 ||
	    (r = cv_meta_put_u64(txn, "pending_next", n)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	free(text);
	return r;
}

/* Flush queued events into the signed trail, oldest first. */
static int
pending_flush(struct cv_txn *txn, struct cv_session *s, int *changed)
{
	uint8_t kb[CV_STORE_KEY_MAX];
	struct cv_val k, v;
	size_t klen;
	json_t *ev;
	int r;

	while ((r = cv_store_first(txn, CV_DB_PENDING, NULL, 0, &k, &v)) == 0) {
		/* A copy: the entry is deleted once its event is committed. */
		klen = k.len;
		memcpy(kb, k.data, klen);
		if (cv_json_parse_object(v.data, v.len, 8192, &ev) == 0) {
			/* Queued before any key was unlocked: it carries the
			 * policy in force when it enters the trail. */
			if (json_object_get(ev, "policy") == NULL &&
			    s->policy_hash[0] != '\0')
				json_object_set_new(
				    ev, "policy", json_string(s->policy_hash));
			if ((r = cv_event_commit(s, ev, 0, NULL)) != 0)
				return r;
		}
		if ((r = cv_del(txn, CV_DB_PENDING, kb, klen)) != 0)
			return r;
		*changed = 1;
	}
	return r == CV_ENOTFOUND ? 0 : r;
}

/*
 * A write is audited before its store transaction commits. If the process
 * died in between, the trail names a change that never happened: close it
 * with a recorded follow-up. Writers hold the LMDB write lock from before
 * their audit event until their commit, so holding it here means no write
 * is in flight, and only the latest write event can be open.
 */
static int
recover_outcome(struct cv_txn *txn, struct cv_session *s, int *changed)
{
	uint64_t last = 0, applied = 0;
	json_t *ev;
	int r;

	if ((r = cv_auditlog_last_write(s->audit, &last)) != 0)
		return CV_EAUDIT;
	r = cv_meta_get_u64(txn, "applied", &applied);
	if (r != 0 && r != CV_ENOTFOUND)
		return r;
	if (last <= applied)
		return 0;
	ev = cv_event_new(s, "audit.outcome");
	if (ev == NULL)
		return CV_ENOMEM;
	json_object_set_new(ev, "ref_seq", json_integer((json_int_t)last));
	json_object_set_new(ev, "outcome", json_string("not_applied"));
	if ((r = cv_event_commit(s, ev, 0, NULL)) != 0)
		return r;
	*changed = 1;
	return cv_event_applied(txn, s, last);
}

/* Seconds a user must wait after FAILURES failed logins. */
static uint64_t
backoff_seconds(uint32_t failures)
{
	if (failures <= BACKOFF_FREE)
		return 0;
	if (failures - BACKOFF_FREE >= 10)
		return BACKOFF_MAX;
	return (uint64_t)1 << (failures - BACKOFF_FREE);
}

static int
login_refused(struct cv_store *st, const struct cv_user *u, const char *why)
{
	json_t *ev;
	char actor[16];

	snprintf(actor, sizeof(actor), "u%u", (unsigned)u->id);
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", "session.open",
	    "actor", u->id ? actor : "unknown", "decision", "deny", "rule", why,
	    "outcome", "failure");
	if (ev == NULL)
		return CV_ENOMEM;
	if (u->id)
		json_object_set_new(ev, "role", json_string(u->role));
	pending_put(st, ev);
	json_decref(ev);
	return 0;
}

/*
 * The vault's files outside the store that a session relies on: the
 * directory itself, audit.git (libgit2 opens by path and follows links)
 * and the signer's public key files. What is missing is left for the opens
 * that follow to report. Returns 0, CV_EUNSAFE, CV_ETOOBIG, CV_EIO.
 */
static int
vault_safe(const char *dir)
{
	static const char *const files[] = {
	    "allowed_signers", "audit_signer.pub"};
	char path[4200];
	size_t i;
	int r;

	if ((r = cv_safe_dir(dir)) != 0)
		return r == CV_ENOTFOUND ? 0 : r;
	if ((r = cv_path(path, sizeof(path), "%s/audit.git", dir)) != 0)
		return r;
	if ((r = cv_safe_dir(path)) != 0 && r != CV_ENOTFOUND)
		return r;
	for (i = 0; i < CV_ARRAY_LEN(files); i++) {
		if ((r = cv_path(path, sizeof(path), "%s/%s", dir, files[i])) !=
		    0)
			return r;
		if ((r = cv_safe_file(path)) != 0 && r != CV_ENOTFOUND)
			return r;
	}
	return 0;
}

static int
clean_trail(void *dir)
{
	return cv_auditlog_clean(dir);
}

int
cv_session_open(const char *dir, const char *user, const char *pass,
    size_t passlen, struct cv_session **out)
{
	struct cv_session *s = NULL;
	struct cv_user u;
	struct cv_txn *txn = NULL;
	struct cv_val v;
	uint64_t gen, now = cv_now_ms(), wait;
	int r, changed = 0, first = 0;
	char dummy[CV_ENCODED_MAX];

	cv_error_clear();
	*out = NULL;
	if (passlen > CV_PASSPHRASE_MAX)
		return CV_EAUTH;
	if ((r = cv_session_new(dir, &s)) != 0)
		return r;
	if ((r = vault_safe(dir)) != 0)
		goto out;
	/* Temporary packs left by a writer that died: removed only while
	 * no one else has the vault open, as a live writer keeps spares.
	 * Housekeeping: only a link in the trail's place refuses. */
	if ((r = cv_store_when_alone(dir, clean_trail, s->dir)) == CV_EUNSAFE)
		goto out;
	if ((r = cv_store_open(dir, &s->st)) != 0)
		goto out;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		goto out;
	if ((r = cv_get(txn, CV_DB_META, "vault_id", 8, &v)) != 0 ||
	    v.len != CV_VAULTIDBYTES) {
		r = CV_ECORRUPT;
		goto out;
	}
	memcpy(s->vault_id, v.data, CV_VAULTIDBYTES);
	if ((r = cv_meta_get_u64(txn, "kek_gen", &gen)) != 0)
		goto out;
	r = cv_user_get(txn, user, &u);
	cv_txn_abort(txn);
	txn = NULL;
	if (r == CV_ENOTFOUND) {
		/* Cost the same as a real check; name no one. */
		cv_passphrase_hash(pass, passlen, dummy);
		login_refused(s->st, &u, "unknown-user");
		r = CV_EAUTH;
		goto out;
	}
	if (r != 0)
		goto out;
	wait = backoff_seconds(u.failures) * 1000;
	if (wait > 0 && now < u.last_failure + wait) {
		login_refused(s->st, &u, "backoff");
		r = CV_ELOCKED;
		goto out;
	}
	if ((r = cv_passphrase_verify(u.hash, pass, passlen)) != 0) {
		if (r == CV_EAUTH) {
			u.failures++;
			u.last_failure = now;
			if (cv_txn_begin(s->st, CV_TXN_WRITE, &txn) == 0) {
				if (cv_user_put(txn, &u) == 0)
					cv_txn_commit(txn);
				else
					cv_txn_abort(txn);
				txn = NULL;
			}
			login_refused(s->st, &u, "wrong-passphrase");
		}
		goto out;
	}
	if (u.disabled) {
		login_refused(s->st, &u, "account-disabled");
		r = CV_EDISABLED;
		goto out;
	}
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		goto out;
	if ((r = cv_slot_open(txn, s, user, pass, passlen)) != 0) {
		r = r == CV_ECRYPTO ? CV_ECORRUPT : r;
		goto out;
	}
	cv_keys_derive(s->keys, gen);
	cv_session_set_user(s, &u);
	r = audit_attach(txn, s);
	cv_txn_abort(txn);
	txn = NULL;
	if (r != 0)
		goto out;
	if ((r = cv_policy_store_load(s)) != 0)
		goto out;

	/* Unlocked: settle what waits for a writer, then record the login. */
	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, &txn)) != 0)
		goto out;
	/* Store and trail must agree before anything is appended: a refused
	 * open changes neither. */
	if ((r = cv_anchor_check(txn, s, &first)) != 0)
		goto out;
	if ((r = pending_flush(txn, s, &changed)) != 0 ||
	    (r = recover_outcome(txn, s, &changed)) != 0)
		goto out;
	if (u.failures > 0) {
		u.failures = 0;
		u.last_failure = 0;
		if ((r = cv_user_put(txn, &u)) != 0)
			goto out;
	}
	if ((r = cv_session_record(s, "session.open")) != 0)
		goto out;
	/* A store made before anchors gets one, said in the trail. */
	if (first && (r = cv_session_record(s, "vault.anchor")) != 0)
		goto out;
	if ((r = cv_anchor_advance(txn, s)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	if (r != 0)
		goto out;
	s->opened = 1;
	*out = s;
	s = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	cv_session_close(s);
	return r;
}
