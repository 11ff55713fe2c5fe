/*
 * Accounts and their keyslots. An account (JSON in CV_DB_USERS) holds the
 * user's role, flags, login failures and Argon2id passphrase hash; its
 * keyslot (CV_DB_SLOTS) holds the root key wrapped under a key derived
 * from the same passphrase with the slot's own salt and parameters, so the
 * passphrase that authenticates a user is also what unlocks the vault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "casevault.h"
#include "base/roles.h"
#include "base/crypto.h"
#include "base/passphrase.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"
#include "store/sealed.h"
#include "store/store.h"

#define SLOT_VERSION 1
#define SLOT_BYTES   (1 + 12 + CV_SALTBYTES + CV_SEALOVERHEAD + CV_KEYBYTES)

int
cv_user_get(struct cv_txn *txn, const char *name, struct cv_user *u)
{
	json_t *j = NULL;
	struct cv_val v;
	const char *role, *hash;
	int r;

	memset(u, 0, sizeof(*u));
	if (!cv_name_valid(name))
		return CV_ENOTFOUND;
	if ((r = cv_get(txn, CV_DB_USERS, name, strlen(name), &v)) != 0)
		return r;
	if (cv_json_parse_object(v.data, v.len, 4096, &j) != 0)
		return CV_ECORRUPT;
	r = CV_ECORRUPT;
	role = json_string_value(json_object_get(j, "role"));
	hash = json_string_value(json_object_get(j, "hash"));
	if (role == NULL || hash == NULL || cv_role_parse(role) < 0 ||
	    strlen(hash) >= sizeof(u->hash) ||
	    !json_is_integer(json_object_get(j, "id")))
		goto out;
	u->id = (uint32_t)json_integer_value(json_object_get(j, "id"));
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->role, sizeof(u->role), "%s", role);
	snprintf(u->hash, sizeof(u->hash), "%s", hash);
	u->trained = json_is_true(json_object_get(j, "trained"));
	u->disabled = json_is_true(json_object_get(j, "disabled"));
	u->failures =
	    (uint32_t)json_integer_value(json_object_get(j, "failures"));
	u->last_failure =
	    (uint64_t)json_integer_value(json_object_get(j, "last_failure"));
	u->created =
	    (uint64_t)json_integer_value(json_object_get(j, "created"));
	r = 0;
out:
	json_decref(j);
	return r;
}

int
cv_user_put(struct cv_txn *txn, const struct cv_user *u)
{
	json_t *j;
	char *text;
	int r;

	j = json_pack("{s:I, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:s}", "id",
	    (json_int_t)u->id, "name", u->name, "role", u->role, "trained",
	    u->trained, "disabled", u->disabled, "failures",
	    (json_int_t)u->failures, "last_failure",
	    (json_int_t)u->last_failure, "created", (json_int_t)u->created,
	    "hash", u->hash);
	if (j == NULL)
		return CV_ENOMEM;
	text = cv_json_canonical(j);
	json_decref(j);
	if (text == NULL)
		return CV_ENOMEM;
	r = cv_put(
	    txn, CV_DB_USERS, u->name, strlen(u->name), text, strlen(text), 0);
	free(text);
	return r;
}

struct user_walk {
	struct cv_txn *txn;
	int (*cb)(const struct cv_user *u, void *arg);
	void *arg;
};

static int
user_one(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct user_walk *w = arg;
	char name[CV_NAME_MAX + 1];
	struct cv_user u;

	(void)v;
	if (k->len == 0 || k->len > CV_NAME_MAX)
		return 0;
	memcpy(name, k->data, k->len);
	name[k->len] = '\0';
	if (cv_user_get(w->txn, name, &u) != 0)
		return 0;
	return w->cb(&u, w->arg);
}

int
cv_user_foreach(struct cv_txn *txn,
    int (*cb)(const struct cv_user *u, void *arg), void *arg)
{
	struct user_walk w = {txn, cb, arg};

	return cv_store_scan(txn, CV_DB_USERS, NULL, 0, user_one, &w);
}

/* Stops the walk at the account whose id is WANT's, copied into WANT. */
static int
id_match(const struct cv_user *u, void *arg)
{
	struct cv_user *want = arg;

	if (u->id != want->id)
		return 0;
	*want = *u;
	return 1;
}

int
cv_user_by_id(struct cv_txn *txn, uint32_t uid, struct cv_user *u)
{
	int r;

	memset(u, 0, sizeof(*u));
	u->id = uid;
	r = cv_user_foreach(txn, id_match, u);
	return r == 1 ? 0 : r == 0 ? CV_ENOTFOUND : r;
}

/*
 * A slot is bound to its user's name. Its clear part (version, KDF
 * parameters, salt) is not in the associated data: any change to it
 * derives another wrap key, so the open fails all the same.
 */
#define SLOT_TAG "casevault-slot-v1"

int
cv_slot_write(struct cv_txn *txn, struct cv_session *s, const char *name,
    const char *pass, size_t passlen)
{
	struct cv_bind b = {SLOT_TAG, s->vault_id, name, strlen(name), NULL, 0};
	uint8_t slot[SLOT_BYTES], wrap[32];
	struct cv_kdf_params p;
	int r;

	cv_kdf_params_new(&p);
	slot[0] = SLOT_VERSION;
	cv_put_be32(slot + 1, p.m_kib);
	cv_put_be32(slot + 5, p.t);
	cv_put_be32(slot + 9, p.p);
	cv_random(slot + 13, CV_SALTBYTES);
	if ((r = cv_passphrase_derive(&p, slot + 13, pass, passlen, wrap)) != 0)
		goto out;
	if ((r = cv_sealed_seal(wrap, &b, s->keys->root, CV_KEYBYTES,
	         slot + 13 + CV_SALTBYTES)) != 0)
		goto out;
	r = cv_put(txn, CV_DB_SLOTS, name, strlen(name), slot, sizeof(slot), 0);
out:
	sodium_memzero(wrap, sizeof(wrap));
	return r;
}

int
cv_slot_open(struct cv_txn *txn, struct cv_session *s, const char *name,
    const char *pass, size_t passlen)
{
	struct cv_bind b = {SLOT_TAG, s->vault_id, name, strlen(name), NULL, 0};
	uint8_t wrap[32];
	struct cv_kdf_params p;
	const uint8_t *slot;
	struct cv_val v;
	int r;

	if ((r = cv_get(txn, CV_DB_SLOTS, name, strlen(name), &v)) != 0)
		return r == CV_ENOTFOUND ? CV_EDISABLED : r;
	slot = v.data;
	if (v.len != SLOT_BYTES || slot[0] != SLOT_VERSION)
		return CV_ECORRUPT;
	p.m_kib = cv_get_be32(slot + 1);
	p.t = cv_get_be32(slot + 5);
	p.p = cv_get_be32(slot + 9);
	if ((r = cv_passphrase_derive(&p, slot + 13, pass, passlen, wrap)) != 0)
		goto out;
	r = cv_sealed_open(wrap, &b, slot + 13 + CV_SALTBYTES,
	    SLOT_BYTES - 13 - CV_SALTBYTES, s->keys->root);
out:
	sodium_memzero(wrap, sizeof(wrap));
	return r;
}
