/*
 * Accounts and keyslots: who may log in, with which role, and the root key
 * wrapped for each of them under Argon2id. Private to the library.
 */
#ifndef CV_ACCOUNT_H
#define CV_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sodium.h>

#include "casevault.h"
#include "base/crypto.h"
#include "base/passphrase.h"
#include "model/binding.h"

struct cv_session;
struct cv_txn;

#define CV_ACCOUNT_MACBYTES 32

/*
 * An account, as stored (JSON in CV_DB_USERS). Everything but FAILURES and
 * LAST_FAILURE is bound by MAC (see cv_user_check): those two are written
 * at a failed login, before any key is unlocked. SIGNED_FAILURES, the
 * failures already signed into the trail since the last successful login,
 * is bound, so FAILURES can never honestly be lower.
 */
struct cv_user {
	uint32_t id;
	char name[CV_NAME_MAX + 1];
	char role[CV_NAME_MAX + 1];
	int trained;
	int disabled;
	int custodian; /* holds a keyslot in a served vault (admins only) */
	int reset;     /* the passphrase is a one-time one an admin issued */
	uint32_t failures;
	uint64_t last_failure;
	uint32_t signed_failures;
	uint64_t created;
	char hash[192];
	/* The binding (see model/binding.h): the write this row is, 1 for
	 * the first, and the seq of the audit event that wrote it. */
	uint64_t version;
	uint64_t seq;
	uint8_t mac[CV_ACCOUNT_MACBYTES]; /* as read; zero when none */
	int has_mac;
};

/* The bound object name of account UID: "user/<uid>". */
int cv_user_obj_name(char out[static CV_BIND_OBJ_MAX], uint32_t uid);

/*
 * Before the event of a write of U: take the next version into
 * U->version and note the write of U as it will be stored (the keyslot as
 * it is in TXN now: write or shred it first) in the event detail *EXTRA
 * (cv_bind_note; created when NULL), with a keyed digest of its bound
 * fields and no name. CV_ENOMEM or a store error.
 */
int cv_user_stage(struct cv_txn *txn, const struct cv_session *s,
    struct cv_user *u, json_t **extra);

/* After the event SEQ that cv_user_stage prepared: store U, written by
 * SEQ (bound in its MAC). */
int cv_user_save(struct cv_txn *txn, const struct cv_session *s,
    struct cv_user *u, uint64_t seq);

/*
 * The keyed digest of U's bound fields at U->version with its keyslot as
 * in TXN, as cv_user_stage notes it: the MAC's fields but the signed
 * failures, the version and the seq (the signed failures change at login
 * and at a failed login's flush, under events that name no write).
 */
int cv_user_digest(struct cv_txn *txn, const struct cv_session *s,
    const struct cv_user *u, uint8_t d[static CV_BIND_DIGESTBYTES]);

/* Read the account NAME. CV_ENOTFOUND, CV_ECORRUPT, or a store error. */
int cv_user_get(struct cv_txn *txn, const char *name, struct cv_user *u);

/*
 * Write U with a fresh MAC under the session's meta key. The MAC binds the
 * keyslot of U->name as it is in TXN now: write the slot (or shred it)
 * first. Read U with cv_user_get_checked, never plain cv_user_get, so an
 * edit made outside casevault is not signed over. U's version and seq are
 * kept: a write that an event names goes through cv_user_stage and
 * cv_user_save instead.
 */
int cv_user_put(
    struct cv_txn *txn, const struct cv_session *s, const struct cv_user *u);

/*
 * Write only U's failure count and time, keeping the MAC U was read with:
 * for a failed login, when no key is unlocked.
 */
int cv_user_put_failures(struct cv_txn *txn, const struct cv_user *u);

/*
 * 0 if U's MAC matches its bound fields and the keyslot now in TXN;
 * CV_ECRYPTO (with the account's id, never its name, as error detail) when
 * it has none or another, i.e. the account was edited outside casevault.
 */
int cv_user_check(struct cv_txn *txn, const struct cv_session *s,
    const struct cv_user *u) __attribute__((warn_unused_result));

/* cv_user_get, then cv_user_check. */
int cv_user_get_checked(struct cv_txn *txn, const struct cv_session *s,
    const char *name, struct cv_user *u) __attribute__((warn_unused_result));

/*
 * The queue mark: the pending_next value up to which queued failed logins
 * have been signed into the trail, stored MACed (meta "pending_mark").
 * Get returns CV_ENOTFOUND when there is none and CV_ECRYPTO when it was
 * edited.
 */
int cv_pending_mark_get(
    struct cv_txn *txn, const struct cv_session *s, uint64_t *mark);
int cv_pending_mark_put(
    struct cv_txn *txn, const struct cv_session *s, uint64_t mark);
/* Find the account with id UID (by a scan). */
int cv_user_by_id(struct cv_txn *txn, uint32_t uid, struct cv_user *u);
/*
 * Call CB for every account that reads back well, in name order. A nonzero
 * return from CB stops the walk and is returned.
 */
int cv_user_foreach(struct cv_txn *txn,
    int (*cb)(const struct cv_user *u, void *arg), void *arg);

/* The size of a keyslot (account.c, docs/formats.md). */
#define CV_SLOT_BYTES                                                          \
	(1 + 12 + CV_SALTBYTES + crypto_box_PUBLICKEYBYTES +                   \
	    crypto_box_SECRETKEYBYTES + 32 + CV_SEALOVERHEAD + CV_KEYBYTES +   \
	    crypto_box_SEALBYTES)

/*
 * A new keyslot for NAME under PASS, replacing any: a new X25519 key pair,
 * its secret half and the vault's audit signer key (meta audit_pk) sealed
 * under the wrap key PASS derives, and s->keys->root sealed to it.
 */
int cv_slot_write(struct cv_txn *txn, struct cv_session *s, const char *name,
    const char *pass, size_t passlen);

/*
 * Open the root key in the slot of NAME with PASS into s->keys->root, and
 * the signer key it pins into s->keys->signer. Returns 0, CV_EDISABLED
 * when NAME has no slot, CV_ECORRUPT for a slot of the wrong size or
 * version, CV_ECRYPTO when PASS does not open it (or it was altered), or
 * an error of the store or the KDF.
 */
int cv_slot_open(struct cv_txn *txn, struct cv_session *s, const char *name,
    const char *pass, size_t passlen) __attribute__((warn_unused_result));

/*
 * Open the slot value SLOT (LEN bytes) of NAME in the vault VAULT_ID with
 * the wrap key WRAP into ROOT and SIGNER: what cv_slot_open does once the
 * wrap key is derived. CV_ECORRUPT, CV_ECRYPTO.
 */
int cv_slot_open_with(const uint8_t vault_id[static CV_VAULTIDBYTES],
    const char *name, const uint8_t *slot, size_t len,
    const uint8_t wrap[static 32], uint8_t root[static CV_KEYBYTES],
    uint8_t signer[static 32]) __attribute__((warn_unused_result));

/*
 * Seal ROOT to the public key of NAME's slot in place of the root key it
 * held, keeping the rest: no passphrase needed. Check the account's MAC
 * first, which binds the slot's public key. CV_ENOTFOUND, CV_ECORRUPT.
 */
int cv_slot_reseal(struct cv_txn *txn, const char *name,
    const uint8_t root[static CV_KEYBYTES]);

/*
 * The pseudonym and binding keys a root rotation kept (meta "kept_keys",
 * sealed under the meta key): load them into s->keys (has_kept) when the
 * vault has them, else leave the derived ones; and store the session's.
 */
int cv_keys_kept_load(struct cv_txn *txn, struct cv_session *s);
int cv_keys_kept_put(struct cv_txn *txn, const struct cv_session *s);

/*
 * The vault's mode of custody, kept in CV_DB_META as "mode": one byte
 * (CV_MODE_EMBEDDED or CV_MODE_SERVED) and its MAC under the meta key.
 * cv_mode_peek reads the byte unauthenticated, for the refusals a login
 * makes before any key is unlocked; cv_mode_get checks the MAC
 * (CV_ECRYPTO when it does not match). Both return CV_ENOTFOUND when the
 * store has none (a vault made before modes), CV_ECORRUPT for a value of
 * the wrong size or mode.
 */
#define CV_MODE_EMBEDDED 0
#define CV_MODE_SERVED   1
int cv_mode_peek(struct cv_txn *txn, int *mode);
int cv_mode_get(struct cv_txn *txn, const struct cv_session *s, int *mode)
    __attribute__((warn_unused_result));
int cv_mode_put(struct cv_txn *txn, const struct cv_session *s, int mode);

/* 1 when the account NAME has a keyslot in TXN, 0 when not, or a store
 * error. */
int cv_slot_exists(struct cv_txn *txn, const char *name);

#endif
