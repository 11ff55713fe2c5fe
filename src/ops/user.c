/*
 * Accounts: add, list, change passphrase, disable. Managing accounts is the
 * admin's (policy action user.manage); changing one's own passphrase is
 * everyone's. A disabled account keeps its id, so the audit trail still
 * names it, but loses its keyslot: its passphrase unwraps nothing.
 *
 * Which accounts hold a keyslot depends on the vault's mode of custody
 * (model/account.h): in an embedded vault every account does; in a served
 * one only the key custodians, and a staff account keeps only its Argon2id
 * verifier, which the daemon checks and which unwraps nothing.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/error.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "gate/event.h"
#include "base/passphrase.h"
#include "store/store.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"

/*
 * Whether account U holds a keyslot in the vault of TXN: every account of
 * an embedded vault, only a custodian of a served one. The mode read is
 * authenticated: the session's login checked a store without one.
 */
static int
slot_wanted(struct cv_txn *txn, struct cv_session *s, const struct cv_user *u)
{
	int r, mode;

	if ((r = cv_mode_get(txn, s, &mode)) != 0 && r != CV_ENOTFOUND)
		return r;
	return mode == CV_MODE_EMBEDDED || u->custodian;
}

/*
 * Give U the passphrase PASS (PASSLEN bytes) whose verifier is HASH, as
 * one-time (RESET) or chosen: its keyslot written, or shredded when a
 * served vault's staff account has none. The signed failures are settled;
 * any still queued (since this session's login flushed the queue) stay
 * counted, so the count never falls below what their flush will sign.
 */
static int
new_credential(struct cv_txn *txn, struct cv_session *s, struct cv_user *u,
    const char *hash, const char *pass, size_t passlen, int reset)
{
	int slot, r;

	memcpy(u->hash, hash, sizeof(u->hash));
	u->failures = u->failures > u->signed_failures
	    ? u->failures - u->signed_failures
	    : 0;
	u->signed_failures = 0;
	u->last_failure = 0;
	u->reset = reset;
	if ((slot = slot_wanted(txn, s, u)) < 0)
		return slot;
	if (slot)
		return cv_slot_write(txn, s, u->name, pass, passlen);
	r = cv_shred(txn, CV_DB_SLOTS, u->name, strlen(u->name));
	return r == CV_ENOTFOUND ? 0 : r;
}

static int
manage_check(struct cv_session *s, struct cv_txn *txn, const char *op,
    const struct cv_user *target, int write, const json_t *extra,
    struct cv_gate_res *res)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_USER_MANAGE,
	    .op = op,
	    .account = target != NULL ? target->id : 0,
	    .write = write};

	return cv_gate_check(s, txn, &q, extra, res);
}

int
cv_user_add(struct cv_session *s, const char *name, const char *role,
    unsigned flags, const char *pass, size_t passlen)
{
	int trained = (flags & CV_USER_TRAINED) != 0;
	struct cv_gate_res res;
	struct cv_user u, old;
	struct cv_txn *txn = NULL;
	json_t *ev = NULL;
	uint64_t next;
	int r, slot;

	cv_error_clear();
	if ((flags & ~(CV_USER_TRAINED | CV_USER_CUSTODIAN)) != 0) {
		cv_error_set("unknown flag");
		return CV_EINVAL;
	}
	if ((flags & CV_USER_CUSTODIAN) != 0 && strcmp(role, "admin") != 0) {
		cv_error_set("only an admin is a key custodian");
		return CV_EINVAL;
	}
	if (!cv_name_valid(name)) {
		cv_error_set(
		    "a user name is 1 to %d of a-z 0-9 _ . -", CV_NAME_MAX);
		return CV_EINVAL;
	}
	if (!cv_role_valid(role)) {
		cv_error_set(
		    "unknown role; roles are counselor, social_worker, "
		    "psychologist, legal_aid, supervisor, auditor, "
		    "admin");
		return CV_EINVAL;
	}
	if (passlen < CV_PASSPHRASE_MIN || passlen > CV_PASSPHRASE_MAX ||
	    memchr(pass, '\0', passlen) != NULL) {
		cv_error_set("a passphrase has %d to %d characters",
		    CV_PASSPHRASE_MIN, CV_PASSPHRASE_MAX);
		return CV_EINVAL;
	}
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.role, sizeof(u.role), "%s", role);
	u.trained = trained != 0;
	u.custodian = (flags & CV_USER_CUSTODIAN) != 0;
	u.created = cv_now_ms();
	/* Hash before the write transaction: Argon2id takes a while. */
	if ((r = cv_passphrase_hash(pass, passlen, u.hash)) != 0)
		return r;
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		return r;
	if ((r = cv_user_get(txn, name, &old)) != CV_ENOTFOUND) {
		r = r == 0 ? CV_EEXIST : r;
		goto out;
	}
	if ((r = cv_meta_get_u64(txn, "next_uid", &next)) != 0)
		goto out;
	u.id = (uint32_t)next;
	/* The slot first: the account's MAC and its event's digest bind
	 * it (or its absence). The transaction is dropped if the gate
	 * refuses. */
	if ((slot = slot_wanted(txn, s, &u)) < 0) {
		r = slot;
		goto out;
	}
	if ((slot && (r = cv_slot_write(txn, s, name, pass, passlen)) != 0) ||
	    (r = cv_user_stage(txn, s, &u, &ev)) != 0)
		goto out;
	if ((r = manage_check(s, txn, "user.add", &u, 1, ev, &res)) != 0)
		goto out;
	if ((r = cv_user_save(txn, s, &u, res.seq)) != 0 ||
	    (r = cv_meta_put_u64(txn, "next_uid", next + 1)) != 0 ||
	    (r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	cv_outcome_end(s, &txn, r);
	json_decref(ev);
	return r;
}

static int
list_user(const struct cv_user *u, void *arg)
{
	json_t *arr = arg;

	json_array_append_new(arr,
	    json_pack("{s:I, s:s, s:s, s:b, s:b, s:b, s:b, s:I}", "id",
	        (json_int_t)u->id, "name", u->name, "role", u->role, "trained",
	        u->trained, "disabled", u->disabled, "custodian", u->custodian,
	        "reset", u->reset, "failures", (json_int_t)u->failures));
	return 0;
}

int
cv_user_list(struct cv_session *s, json_t **out)
{
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	json_t *arr = NULL;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = manage_check(s, txn, "user.list", NULL, 0, NULL, &res)) != 0)
		goto out;
	if ((arr = json_array()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_user_foreach(txn, list_user, arr)) != 0)
		goto out;
	*out = arr;
	arr = NULL;
out:
	cv_txn_abort(txn);
	json_decref(arr);
	return r;
}

int
cv_user_passwd(
    struct cv_session *s, const char *name, const char *pass, size_t passlen)
{
	struct cv_gate_req q = {
	    .who = cv_gate_subject(s), .op = "user.passwd", .write = 1};
	struct cv_gate_res res;
	struct cv_user u;
	struct cv_txn *txn = NULL;
	char hash[CV_ENCODED_MAX];
	json_t *ev = NULL;
	int r;

	cv_error_clear();
	if (passlen < CV_PASSPHRASE_MIN || passlen > CV_PASSPHRASE_MAX ||
	    memchr(pass, '\0', passlen) != NULL)
		return CV_EINVAL;
	if ((r = cv_passphrase_hash(pass, passlen, hash)) != 0)
		return r;
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		goto out;
	/* Checked: an account edited outside casevault is never re-signed. */
	if ((r = cv_user_get_checked(txn, s, name, &u)) != 0)
		goto out;
	if (u.disabled) {
		r = CV_EDISABLED;
		goto out;
	}
	/* One's own passphrase needs no policy; anyone else's does. */
	q.action =
	    u.id == s->uid ? CV_ACTION_SELF_PASSWD : CV_ACTION_USER_MANAGE;
	q.account = u.id;
	/* A passphrase of one's choosing ends a one-time one. */
	if ((r = new_credential(txn, s, &u, hash, pass, passlen, 0)) != 0 ||
	    (r = cv_user_stage(txn, s, &u, &ev)) != 0 ||
	    (r = cv_gate_check(s, txn, &q, ev, &res)) != 0 ||
	    (r = cv_user_save(txn, s, &u, res.seq)) != 0 ||
	    (r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	sodium_memzero(hash, sizeof(hash));
	cv_outcome_end(s, &txn, r);
	json_decref(ev);
	return r;
}

/* Stops the walk at a custodian other than SELF's account that is not
 * disabled. */
static int
other_custodian(const struct cv_user *u, void *arg)
{
	const struct cv_user *self = arg;

	return u->custodian && !u->disabled && u->id != self->id;
}

int
cv_user_disable(struct cv_session *s, const char *name)
{
	struct cv_gate_res res;
	struct cv_user u;
	struct cv_txn *txn = NULL;
	json_t *ev = NULL;
	int r;

	cv_error_clear();
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		return r;
	if ((r = cv_user_get_checked(txn, s, name, &u)) != 0)
		goto out;
	if (u.disabled || u.id == s->uid) {
		/* Disabling oneself could leave no admin at all. */
		r = CV_ESTATE;
		goto out;
	}
	/* Nor may the last custodian go: no one could unlock the vault. */
	if (u.custodian &&
	    (r = cv_user_foreach(txn, other_custodian, &u)) != 1) {
		if (r == 0) {
			cv_error_set("the last key custodian is not disabled");
			r = CV_ESTATE;
		}
		goto out;
	}
	u.disabled = 1;
	/* The slot goes first: the MAC and the event's digest bind its
	 * absence, so a slot put back from a copy no longer matches the
	 * account. The transaction is dropped if the gate refuses. */
	r = cv_shred(txn, CV_DB_SLOTS, name, strlen(name));
	if (r != 0 && r != CV_ENOTFOUND)
		goto out;
	if ((r = cv_user_stage(txn, s, &u, &ev)) != 0 ||
	    (r = manage_check(s, txn, "user.disable", &u, 1, ev, &res)) != 0)
		goto out;
	if ((r = cv_user_save(txn, s, &u, res.seq)) != 0)
		goto out;
	if ((r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	cv_outcome_end(s, &txn, r);
	json_decref(ev);
	return r;
}

/* Characters of a one-time passphrase: no 0, 1, l or o to misread. */
static const char reset_alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

int
cv_user_reset(struct cv_session *s, const char *name,
    char pass[static CV_RESET_PASS_LEN + 1])
{
	struct cv_gate_res res;
	struct cv_user u;
	struct cv_txn *txn = NULL;
	char hash[CV_ENCODED_MAX];
	json_t *ev = NULL;
	size_t i;
	int r;

	cv_error_clear();
	/* 24 of 32 characters: 120 bits, from the system's generator. */
	for (i = 0; i < CV_RESET_PASS_LEN; i++)
		pass[i] = reset_alphabet[randombytes_uniform(
		    sizeof(reset_alphabet) - 1)];
	pass[CV_RESET_PASS_LEN] = '\0';
	if ((r = cv_passphrase_hash(pass, CV_RESET_PASS_LEN, hash)) != 0)
		goto out;
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		goto out;
	if ((r = cv_user_get_checked(txn, s, name, &u)) != 0)
		goto out;
	if (u.disabled) {
		r = CV_EDISABLED;
		goto out;
	}
	if ((r = new_credential(
	         txn, s, &u, hash, pass, CV_RESET_PASS_LEN, 1)) != 0 ||
	    (r = cv_user_stage(txn, s, &u, &ev)) != 0 ||
	    (r = manage_check(s, txn, "user.reset", &u, 1, ev, &res)) != 0 ||
	    (r = cv_user_save(txn, s, &u, res.seq)) != 0 ||
	    (r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	sodium_memzero(hash, sizeof(hash));
	if (r != 0)
		sodium_memzero(pass, CV_RESET_PASS_LEN + 1);
	cv_outcome_end(s, &txn, r);
	json_decref(ev);
	return r;
}
