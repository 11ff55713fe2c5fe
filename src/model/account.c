/*
 * Accounts and their keyslots. An account (JSON in CV_DB_USERS) holds the
 * user's role, flags, login failures and Argon2id passphrase hash; its
 * keyslot (CV_DB_SLOTS) holds an X25519 key pair whose secret half is
 * wrapped under a key derived from the same passphrase with the slot's own
 * salt and parameters, and the root key sealed to its public half, so the
 * passphrase that authenticates a user is also what unlocks the vault.
 *
 * Nothing in the store authenticates a row by itself, so each account
 * carries a MAC under a subkey of the meta key over its id, name, role,
 * flags, passphrase hash and a digest of its keyslot: a role or flag edited
 * with an LMDB editor, a row or slot copied from another account, or a slot
 * put back after a disable no longer matches. Only the failure count and
 * time are left out, as a failed login has no key to MAC them with.
 *
 * The MAC also binds the account's version and the seq of the event that
 * wrote it, and that event names the write ("user/<uid>", the version, a
 * keyed digest), so an older row and slot put back together, though once
 * written by casevault, are told apart from the latest by `audit verify`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "casevault.h"
#include "base/roles.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/passphrase.h"
#include "base/util.h"
#include "model/account.h"
#include "model/binding.h"
#include "model/session.h"
#include "store/sealed.h"
#include "store/store.h"

#define ACCOUNT_TAG "casevault-account-v2"
#define MARK_TAG    "casevault-pendmark-v1"
#define MAC_KDF_CTX "cvacmac1"
#define MAC_KDF_ID  1

int
cv_user_get(struct cv_txn *txn, const char *name, struct cv_user *u)
{
	json_t *j = NULL;
	struct cv_val v;
	const char *role, *hash, *mac;
	size_t maclen;
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
	u->custodian = json_is_true(json_object_get(j, "custodian"));
	u->reset = json_is_true(json_object_get(j, "reset"));
	u->failures =
	    (uint32_t)json_integer_value(json_object_get(j, "failures"));
	u->last_failure =
	    (uint64_t)json_integer_value(json_object_get(j, "last_failure"));
	u->signed_failures =
	    (uint32_t)json_integer_value(json_object_get(j, "signed_failures"));
	u->created =
	    (uint64_t)json_integer_value(json_object_get(j, "created"));
	u->version =
	    (uint64_t)json_integer_value(json_object_get(j, "version"));
	u->seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	mac = json_string_value(json_object_get(j, "mac"));
	if (mac != NULL) {
		if (strlen(mac) != 2 * CV_ACCOUNT_MACBYTES ||
		    sodium_hex2bin(u->mac, sizeof(u->mac), mac, strlen(mac),
		        NULL, &maclen, NULL) != 0 ||
		    maclen != sizeof(u->mac))
			goto out;
		u->has_mac = 1;
	}
	r = 0;
out:
	json_decref(j);
	return r;
}

/* The row of U as canonical JSON, with MAC (hex) when MAC is not NULL. */
static int
row_put(struct cv_txn *txn, const struct cv_user *u, const uint8_t *mac)
{
	char hex[2 * CV_ACCOUNT_MACBYTES + 1];
	json_t *j;
	char *text;
	int r;

	j = json_pack("{s:I, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:s, "
	              "s:I, s:I}",
	    "id", (json_int_t)u->id, "name", u->name, "role", u->role,
	    "trained", u->trained, "disabled", u->disabled, "failures",
	    (json_int_t)u->failures, "last_failure",
	    (json_int_t)u->last_failure, "signed_failures",
	    (json_int_t)u->signed_failures, "created", (json_int_t)u->created,
	    "hash", u->hash, "version", (json_int_t)u->version, "seq",
	    (json_int_t)u->seq);
	if (j == NULL)
		return CV_ENOMEM;
	if (u->custodian)
		json_object_set_new(j, "custodian", json_true());
	if (u->reset)
		json_object_set_new(j, "reset", json_true());
	if (mac != NULL) {
		sodium_bin2hex(hex, sizeof(hex), mac, CV_ACCOUNT_MACBYTES);
		json_object_set_new(j, "mac", json_string(hex));
	}
	text = cv_json_canonical(j);
	json_decref(j);
	if (text == NULL)
		return CV_ENOMEM;
	r = cv_put(
	    txn, CV_DB_USERS, u->name, strlen(u->name), text, strlen(text), 0);
	free(text);
	return r;
}

/* STR as u16 length and bytes at B + *N (room checked by the caller). */
static void
put_str(uint8_t *b, size_t *n, const char *str)
{
	size_t len = strlen(str);

	b[*n] = (uint8_t)(len >> 8);
	b[*n + 1] = (uint8_t)len;
	memcpy(b + *n + 2, str, len);
	*n += 2 + len;
}

/* The most the bound fields take: id, three strings, flags, created, the
 * slot digest and the custody flags. */
#define FIELDS_MAX                                                             \
	(4 + 2 + CV_NAME_MAX + 2 + CV_NAME_MAX + 2 + 8 + 2 +                   \
	    sizeof(((struct cv_user *)0)->hash) + 32 + 1)

#define CUSTODY_CUSTODIAN 0x1u
#define CUSTODY_RESET     0x2u

/*
 * The bound fields of an account, but its signed failures, version and
 * seq:
 *   u32 id | name | role | u8 trained | u8 disabled | u64 created | hash |
 *   32 digest of the keyslot [| u8 custody flags]
 * (strings as u16 length and bytes; the slot digest BLAKE2b-256 of its
 * bytes, or 32 zero bytes when the account has no slot). The custody flags
 * (bit 0 custodian, bit 1 one-time passphrase) follow only when one is
 * set: an account without them keeps the layout, and the MAC, it had
 * before they existed. The layout stays unambiguous: every field before
 * is fixed or length-prefixed, and what follows in the MAC is fixed.
 */
static int
account_fields(struct cv_txn *txn, const struct cv_user *u,
    uint8_t out[static FIELDS_MAX], size_t *len)
{
	uint8_t slot[32] = {0};
	struct cv_val v;
	unsigned flags;
	size_t n = 0;
	int r;

	r = cv_get(txn, CV_DB_SLOTS, u->name, strlen(u->name), &v);
	if (r == 0)
		crypto_generichash(slot, sizeof(slot), v.data, v.len, NULL, 0);
	else if (r != CV_ENOTFOUND)
		return r;
	if (strlen(u->name) > CV_NAME_MAX || strlen(u->role) > CV_NAME_MAX ||
	    strlen(u->hash) >= sizeof(u->hash))
		return CV_EINVAL;
	cv_put_be32(out, u->id);
	n = 4;
	put_str(out, &n, u->name);
	put_str(out, &n, u->role);
	out[n++] = u->trained != 0;
	out[n++] = u->disabled != 0;
	cv_put_be64(out + n, u->created);
	n += 8;
	put_str(out, &n, u->hash);
	memcpy(out + n, slot, sizeof(slot));
	n += sizeof(slot);
	flags = (u->custodian ? CUSTODY_CUSTODIAN : 0) |
	    (u->reset ? CUSTODY_RESET : 0);
	if (flags != 0)
		out[n++] = (uint8_t)flags;
	*len = n;
	return 0;
}

/*
 * The MAC of an account: keyed BLAKE2b-256, under a subkey of the meta key,
 * over
 *   tag 00 | vault id | bound fields (account_fields) |
 *   u32 signed failures | u64 version | u64 seq
 */
static int
account_mac(struct cv_txn *txn, const struct cv_session *s,
    const struct cv_user *u, uint8_t out[static CV_ACCOUNT_MACBYTES])
{
	crypto_generichash_state h;
	uint8_t key[CV_KEYBYTES], f[FIELDS_MAX], b[20];
	size_t n;
	int r;

	if ((r = account_fields(txn, u, f, &n)) != 0)
		return r;
	crypto_kdf_derive_from_key(
	    key, sizeof(key), MAC_KDF_ID, MAC_KDF_CTX, s->keys->meta);
	crypto_generichash_init(&h, key, sizeof(key), CV_ACCOUNT_MACBYTES);
	crypto_generichash_update(
	    &h, (const uint8_t *)ACCOUNT_TAG, sizeof(ACCOUNT_TAG));
	crypto_generichash_update(&h, s->vault_id, CV_VAULTIDBYTES);
	crypto_generichash_update(&h, f, n);
	cv_put_be32(b, u->signed_failures);
	cv_put_be64(b + 4, u->version);
	cv_put_be64(b + 12, u->seq);
	crypto_generichash_update(&h, b, sizeof(b));
	crypto_generichash_final(&h, out, CV_ACCOUNT_MACBYTES);
	sodium_memzero(&h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	return 0;
}

int
cv_user_obj_name(char out[static CV_BIND_OBJ_MAX], uint32_t uid)
{
	int n = snprintf(out, CV_BIND_OBJ_MAX, "user/%u", (unsigned)uid);

	return n < 0 || n >= CV_BIND_OBJ_MAX ? CV_EINVAL : 0;
}

int
cv_user_digest(struct cv_txn *txn, const struct cv_session *s,
    const struct cv_user *u, uint8_t d[static CV_BIND_DIGESTBYTES])
{
	uint8_t f[FIELDS_MAX];
	char obj[CV_BIND_OBJ_MAX];
	size_t n;
	int r;

	if ((r = cv_user_obj_name(obj, u->id)) != 0 ||
	    (r = account_fields(txn, u, f, &n)) != 0)
		return r;
	/* No case: the empty case id, which no case has. */
	cv_bind_digest(s, "", obj, u->version, f, n, d);
	return 0;
}

int
cv_user_stage(struct cv_txn *txn, const struct cv_session *s, struct cv_user *u,
    json_t **extra)
{
	uint8_t d[CV_BIND_DIGESTBYTES];
	char obj[CV_BIND_OBJ_MAX];
	int r;

	u->version++;
	if ((r = cv_user_obj_name(obj, u->id)) != 0 ||
	    (r = cv_user_digest(txn, s, u, d)) != 0)
		return r;
	return cv_bind_note(extra, obj, u->version, d);
}

int
cv_user_save(struct cv_txn *txn, const struct cv_session *s, struct cv_user *u,
    uint64_t seq)
{
	u->seq = seq;
	return cv_user_put(txn, s, u);
}

int
cv_user_put(
    struct cv_txn *txn, const struct cv_session *s, const struct cv_user *u)
{
	uint8_t mac[CV_ACCOUNT_MACBYTES];
	int r;

	if ((r = account_mac(txn, s, u, mac)) != 0)
		return r;
	return row_put(txn, u, mac);
}

int
cv_user_put_failures(struct cv_txn *txn, const struct cv_user *u)
{
	return row_put(txn, u, u->has_mac ? u->mac : NULL);
}

int
cv_user_check(
    struct cv_txn *txn, const struct cv_session *s, const struct cv_user *u)
{
	uint8_t mac[CV_ACCOUNT_MACBYTES];
	int r;

	if ((r = account_mac(txn, s, u, mac)) != 0)
		return r;
	if (!u->has_mac || sodium_memcmp(mac, u->mac, sizeof(mac)) != 0) {
		cv_error_set("account u%u was changed outside casevault "
		             "(its MAC does not match)",
		    (unsigned)u->id);
		return CV_ECRYPTO;
	}
	return 0;
}

int
cv_user_get_checked(struct cv_txn *txn, const struct cv_session *s,
    const char *name, struct cv_user *u)
{
	int r;

	if ((r = cv_user_get(txn, name, u)) != 0)
		return r;
	return cv_user_check(txn, s, u);
}

static void
mark_mac(const struct cv_session *s, uint64_t mark,
    uint8_t out[static CV_ACCOUNT_MACBYTES])
{
	crypto_generichash_state h;
	uint8_t key[CV_KEYBYTES], b[8];

	crypto_kdf_derive_from_key(
	    key, sizeof(key), MAC_KDF_ID, MAC_KDF_CTX, s->keys->meta);
	crypto_generichash_init(&h, key, sizeof(key), CV_ACCOUNT_MACBYTES);
	crypto_generichash_update(
	    &h, (const uint8_t *)MARK_TAG, sizeof(MARK_TAG));
	crypto_generichash_update(&h, s->vault_id, CV_VAULTIDBYTES);
	cv_put_be64(b, mark);
	crypto_generichash_update(&h, b, 8);
	crypto_generichash_final(&h, out, CV_ACCOUNT_MACBYTES);
	sodium_memzero(&h, sizeof(h));
	sodium_memzero(key, sizeof(key));
}

int
cv_pending_mark_get(
    struct cv_txn *txn, const struct cv_session *s, uint64_t *mark)
{
	uint8_t mac[CV_ACCOUNT_MACBYTES];
	struct cv_val v;
	int r;

	*mark = 0;
	if ((r = cv_get(txn, CV_DB_META, "pending_mark", 12, &v)) != 0)
		return r;
	if (v.len != 8 + CV_ACCOUNT_MACBYTES)
		return CV_ECRYPTO;
	mark_mac(s, cv_get_be64(v.data), mac);
	if (sodium_memcmp(mac, (const uint8_t *)v.data + 8, sizeof(mac)) != 0)
		return CV_ECRYPTO;
	*mark = cv_get_be64(v.data);
	return 0;
}

int
cv_pending_mark_put(
    struct cv_txn *txn, const struct cv_session *s, uint64_t mark)
{
	uint8_t b[8 + CV_ACCOUNT_MACBYTES];

	cv_put_be64(b, mark);
	mark_mac(s, mark, b + 8);
	return cv_put(txn, CV_DB_META, "pending_mark", 12, b, sizeof(b), 0);
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
 * A keyslot (docs/formats.md, "Keyslot"):
 *   u8 version (2) | u32 m_kib | u32 t | u32 p | 16 salt |
 *   32 X25519 public key |
 *   sealed under the wrap key: 32 X25519 secret key | 32 signer key |
 *   the root key sealed to the public key (crypto_box_seal)
 * The passphrase opens the secret half, which opens the root key; anyone
 * holding the root key can seal a new one to every slot's public key, so
 * a root rotation re-makes the slots of every account without their
 * passphrases. The secret half is bound to the user's name and to the
 * public key; its clear part (version, KDF parameters, salt) is not in the
 * associated data: any change to it derives another wrap key, so the open
 * fails all the same. The public key and the sealed root key are not
 * bound by the slot itself but by the account's MAC (its digest of the
 * slot), and the signer key pins the vault: a root key sealed to the
 * slot by someone else opens no vault whose audit signing key is the
 * pinned one (checked at login, ops/session.c).
 */
#define SLOT_TAG       "casevault-slot-v2"
#define SLOT_VERSION   2
#define SLOT_CLEAR     (1 + 12 + CV_SALTBYTES)
#define SLOT_PK        SLOT_CLEAR
#define SLOT_SECRET    (SLOT_PK + crypto_box_PUBLICKEYBYTES)
#define SLOT_SECRETLEN (crypto_box_SECRETKEYBYTES + 32 + CV_SEALOVERHEAD)
#define SLOT_ROOT      (SLOT_SECRET + SLOT_SECRETLEN)
#define SLOT_ROOTLEN   (CV_KEYBYTES + crypto_box_SEALBYTES)

int
cv_slot_write(struct cv_txn *txn, struct cv_session *s, const char *name,
    const char *pass, size_t passlen)
{
	struct cv_bind b = {SLOT_TAG, s->vault_id, name, strlen(name), NULL,
	    crypto_box_PUBLICKEYBYTES};
	uint8_t slot[CV_SLOT_BYTES], wrap[32], secret[64];
	struct cv_kdf_params p;
	struct cv_val v;
	int r;

	/* The signer key, checked by the session that writes the slot. */
	if ((r = cv_get(txn, CV_DB_META, "audit_pk", 8, &v)) != 0)
		return r == CV_ENOTFOUND ? CV_ECORRUPT : r;
	if (v.len != 32)
		return CV_ECORRUPT;
	cv_kdf_params_new(&p);
	slot[0] = SLOT_VERSION;
	cv_put_be32(slot + 1, p.m_kib);
	cv_put_be32(slot + 5, p.t);
	cv_put_be32(slot + 9, p.p);
	cv_random(slot + 13, CV_SALTBYTES);
	crypto_box_keypair(slot + SLOT_PK, secret);
	memcpy(secret + 32, v.data, 32);
	b.hdr = slot + SLOT_PK;
	if ((r = cv_passphrase_derive(&p, slot + 13, pass, passlen, wrap)) != 0)
		goto out;
	if ((r = cv_sealed_seal(
	         wrap, &b, secret, sizeof(secret), slot + SLOT_SECRET)) != 0)
		goto out;
	if (crypto_box_seal(slot + SLOT_ROOT, s->keys->root, CV_KEYBYTES,
	        slot + SLOT_PK) != 0) {
		r = CV_ECRYPTO;
		goto out;
	}
	r = cv_put(txn, CV_DB_SLOTS, name, strlen(name), slot, sizeof(slot), 0);
out:
	sodium_memzero(wrap, sizeof(wrap));
	sodium_memzero(secret, sizeof(secret));
	return r;
}

int
cv_slot_open_with(const uint8_t vault_id[static CV_VAULTIDBYTES],
    const char *name, const uint8_t *slot, size_t len,
    const uint8_t wrap[static 32], uint8_t root[static CV_KEYBYTES],
    uint8_t signer[static 32])
{
	struct cv_bind b = {SLOT_TAG, vault_id, name, strlen(name),
	    slot + SLOT_PK, crypto_box_PUBLICKEYBYTES};
	uint8_t secret[64], pk[crypto_box_PUBLICKEYBYTES];
	int r;

	if (len != CV_SLOT_BYTES || slot[0] != SLOT_VERSION)
		return CV_ECORRUPT;
	if ((r = cv_sealed_open(
	         wrap, &b, slot + SLOT_SECRET, SLOT_SECRETLEN, secret)) != 0)
		return r;
	r = CV_ECRYPTO;
	/* The public key is bound as associated data; still, it must be the
	 * secret key's, or the root key would be sealed to another. */
	if (crypto_scalarmult_base(pk, secret) != 0 ||
	    sodium_memcmp(pk, slot + SLOT_PK, sizeof(pk)) != 0)
		goto out;
	if (crypto_box_seal_open(root, slot + SLOT_ROOT, SLOT_ROOTLEN,
	        slot + SLOT_PK, secret) != 0)
		goto out;
	memcpy(signer, secret + 32, 32);
	r = 0;
out:
	sodium_memzero(secret, sizeof(secret));
	return r;
}

int
cv_slot_open(struct cv_txn *txn, struct cv_session *s, const char *name,
    const char *pass, size_t passlen)
{
	uint8_t wrap[32];
	struct cv_kdf_params p;
	const uint8_t *slot;
	struct cv_val v;
	int r;

	if ((r = cv_get(txn, CV_DB_SLOTS, name, strlen(name), &v)) != 0)
		return r == CV_ENOTFOUND ? CV_EDISABLED : r;
	slot = v.data;
	if (v.len != CV_SLOT_BYTES || slot[0] != SLOT_VERSION) {
		if (v.len > 0 && slot[0] == 1)
			cv_error_set("the keyslot is of format 1, which this "
			             "casevault no longer reads");
		return CV_ECORRUPT;
	}
	p.m_kib = cv_get_be32(slot + 1);
	p.t = cv_get_be32(slot + 5);
	p.p = cv_get_be32(slot + 9);
	if ((r = cv_passphrase_derive(&p, slot + 13, pass, passlen, wrap)) != 0)
		goto out;
	r = cv_slot_open_with(s->vault_id, name, slot, v.len, wrap,
	    s->keys->root, s->keys->signer);
	s->keys->has_signer = r == 0;
out:
	sodium_memzero(wrap, sizeof(wrap));
	return r;
}

int
cv_slot_reseal(struct cv_txn *txn, const char *name,
    const uint8_t root[static CV_KEYBYTES])
{
	uint8_t slot[CV_SLOT_BYTES];
	struct cv_val v;
	int r;

	if ((r = cv_get(txn, CV_DB_SLOTS, name, strlen(name), &v)) != 0)
		return r;
	if (v.len != CV_SLOT_BYTES ||
	    ((const uint8_t *)v.data)[0] != SLOT_VERSION)
		return CV_ECORRUPT;
	memcpy(slot, v.data, sizeof(slot));
	if (crypto_box_seal(
	        slot + SLOT_ROOT, root, CV_KEYBYTES, slot + SLOT_PK) != 0)
		return CV_ECRYPTO;
	/* The same size: rewritten in place, the old seal's bytes freed by
	 * no page (the rotation compacts all the same). */
	return cv_put(
	    txn, CV_DB_SLOTS, name, strlen(name), slot, sizeof(slot), 0);
}

#define KEPT_TAG "casevault-keptkeys-v1"
#define KEPT_KEY "kept_keys"

int
cv_keys_kept_load(struct cv_txn *txn, struct cv_session *s)
{
	struct cv_bind b = {
	    KEPT_TAG, s->vault_id, KEPT_KEY, strlen(KEPT_KEY), NULL, 0};
	struct cv_val v;
	int r;

	s->keys->has_kept = 0;
	r = cv_get(txn, CV_DB_META, KEPT_KEY, strlen(KEPT_KEY), &v);
	if (r == CV_ENOTFOUND)
		return 0; /* never rotated: both derived from the root */
	if (r != 0)
		return r;
	if (v.len != sizeof(s->keys->kept) + CV_SEALOVERHEAD)
		return CV_ECORRUPT;
	if ((r = cv_sealed_open(
	         s->keys->meta, &b, v.data, v.len, s->keys->kept)) != 0)
		return r;
	s->keys->has_kept = 1;
	memcpy(s->keys->pseudo, s->keys->kept, CV_KEYBYTES);
	memcpy(s->keys->bind, s->keys->kept + CV_KEYBYTES, CV_KEYBYTES);
	return 0;
}

int
cv_keys_kept_put(struct cv_txn *txn, const struct cv_session *s)
{
	struct cv_bind b = {
	    KEPT_TAG, s->vault_id, KEPT_KEY, strlen(KEPT_KEY), NULL, 0};
	uint8_t kept[2 * CV_KEYBYTES];
	int r;

	memcpy(kept, s->keys->pseudo, CV_KEYBYTES);
	memcpy(kept + CV_KEYBYTES, s->keys->bind, CV_KEYBYTES);
	r = cv_sealed_put(
	    txn, CV_DB_META, &b, s->keys->meta, kept, sizeof(kept), 0);
	sodium_memzero(kept, sizeof(kept));
	return r;
}

int
cv_slot_exists(struct cv_txn *txn, const char *name)
{
	struct cv_val v;
	int r;

	r = cv_get(txn, CV_DB_SLOTS, name, strlen(name), &v);
	return r == 0 ? 1 : r == CV_ENOTFOUND ? 0 : r;
}

#define MODE_TAG "casevault-mode-v1"
#define MODE_KEY "mode"

static void
mode_mac(const struct cv_session *s, uint8_t mode,
    uint8_t out[static CV_ACCOUNT_MACBYTES])
{
	crypto_generichash_state h;
	uint8_t key[CV_KEYBYTES];

	crypto_kdf_derive_from_key(
	    key, sizeof(key), MAC_KDF_ID, MAC_KDF_CTX, s->keys->meta);
	crypto_generichash_init(&h, key, sizeof(key), CV_ACCOUNT_MACBYTES);
	crypto_generichash_update(
	    &h, (const uint8_t *)MODE_TAG, sizeof(MODE_TAG));
	crypto_generichash_update(&h, s->vault_id, CV_VAULTIDBYTES);
	crypto_generichash_update(&h, &mode, 1);
	crypto_generichash_final(&h, out, CV_ACCOUNT_MACBYTES);
	sodium_memzero(&h, sizeof(h));
	sodium_memzero(key, sizeof(key));
}

/* The stored value, its size and mode checked, into V. */
static int
mode_read(struct cv_txn *txn, struct cv_val *v)
{
	const uint8_t *b;
	int r;

	if ((r = cv_get(txn, CV_DB_META, MODE_KEY, strlen(MODE_KEY), v)) != 0)
		return r;
	b = v->data;
	if (v->len != 1 + CV_ACCOUNT_MACBYTES ||
	    (b[0] != CV_MODE_EMBEDDED && b[0] != CV_MODE_SERVED))
		return CV_ECORRUPT;
	return 0;
}

int
cv_mode_peek(struct cv_txn *txn, int *mode)
{
	struct cv_val v;
	int r;

	*mode = CV_MODE_EMBEDDED;
	if ((r = mode_read(txn, &v)) != 0)
		return r;
	*mode = ((const uint8_t *)v.data)[0];
	return 0;
}

int
cv_mode_get(struct cv_txn *txn, const struct cv_session *s, int *mode)
{
	uint8_t mac[CV_ACCOUNT_MACBYTES];
	const uint8_t *b;
	struct cv_val v;
	int r;

	*mode = CV_MODE_EMBEDDED;
	if ((r = mode_read(txn, &v)) != 0)
		return r;
	b = v.data;
	mode_mac(s, b[0], mac);
	if (sodium_memcmp(mac, b + 1, sizeof(mac)) != 0) {
		cv_error_set("the vault's mode was changed outside casevault "
		             "(its MAC does not match)");
		return CV_ECRYPTO;
	}
	*mode = b[0];
	return 0;
}

int
cv_mode_put(struct cv_txn *txn, const struct cv_session *s, int mode)
{
	uint8_t b[1 + CV_ACCOUNT_MACBYTES];

	if (mode != CV_MODE_EMBEDDED && mode != CV_MODE_SERVED)
		return CV_EINVAL;
	b[0] = (uint8_t)mode;
	mode_mac(s, b[0], b + 1);
	return cv_put(
	    txn, CV_DB_META, MODE_KEY, strlen(MODE_KEY), b, sizeof(b), 0);
}
