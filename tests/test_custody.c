#define _GNU_SOURCE
/*
 * Custody: in a served vault, a staff passphrase together with a copy of
 * every file of the vault decrypts nothing. The attacker below is given a
 * passphrase and a copy of the vault's directory and uses the library's
 * own functions to try every way the code knows to get from a passphrase
 * to a key: every keyslot in the store opened with it, and every Argon2id
 * derivation of it (each slot's parameters and salt, each account's
 * verifier's) taken as a wrap key for every slot and as the root key
 * itself. A root key is found when it opens the vault's sealed audit
 * signing key. The same attacker finds it with a custodian's passphrase,
 * and with a staff passphrase of an embedded vault: it can fail.
 *
 * Also: serving an embedded vault (cv_vault_serve), the accounts and
 * passphrase changes of a served vault, and its mode against edits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/crypto.h"
#include "base/passphrase.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"
#include "ops/session.h"
#include "store/sealed.h"
#include "store/store.h"

#include "helpers.h"
#include "helpers.c.inc"

/* The keyslot's tag and layout (docs/formats.md, "Keyslot"). */
#define SLOT_BYTES CV_SLOT_BYTES

#define MAX_SLOTS 32
#define MAX_USERS 32

/* What the attacker read from the copy. */
struct loot {
	uint8_t vault_id[CV_VAULTIDBYTES];
	uint64_t gen;
	uint8_t sk[CV_AUDIT_SK_SEALED]; /* the sealed audit signing key */
	char slot_names[MAX_SLOTS][CV_NAME_MAX + 1];
	uint8_t slots[MAX_SLOTS][SLOT_BYTES];
	size_t nslots;
	char hashes[MAX_USERS][CV_ENCODED_MAX];
	size_t nusers;
};

static int
take_slot(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct loot *l = arg;

	assert_true(l->nslots < MAX_SLOTS);
	assert_true(k->len <= CV_NAME_MAX);
	assert_int_equal(v->len, SLOT_BYTES);
	memcpy(l->slot_names[l->nslots], k->data, k->len);
	l->slot_names[l->nslots][k->len] = '\0';
	memcpy(l->slots[l->nslots], v->data, v->len);
	l->nslots++;
	return 0;
}

static int
take_user(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct loot *l = arg;
	json_t *row = json_loadb(v->data, v->len, 0, NULL);
	const char *hash = json_string_value(json_object_get(row, "hash"));

	(void)k;
	assert_non_null(hash);
	assert_true(l->nusers < MAX_USERS);
	snprintf(l->hashes[l->nusers++], CV_ENCODED_MAX, "%s", hash);
	json_decref(row);
	return 0;
}

/* Read everything that could hold or lead to a key from the store. */
static void
loot_read(const char *dir, struct loot *l)
{
	struct cv_store *st;
	struct cv_txn *txn;
	struct cv_val v;

	memset(l, 0, sizeof(*l));
	assert_int_equal(cv_store_open(dir, &st), 0);
	assert_int_equal(cv_txn_begin(st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_get(txn, CV_DB_META, "vault_id", 8, &v), 0);
	memcpy(l->vault_id, v.data, sizeof(l->vault_id));
	assert_int_equal(cv_meta_get_u64(txn, "kek_gen", &l->gen), 0);
	assert_int_equal(cv_get(txn, CV_DB_META, "audit_sk", 8, &v), 0);
	assert_int_equal(v.len, sizeof(l->sk));
	memcpy(l->sk, v.data, v.len);
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_SLOTS, NULL, 0, take_slot, l), 0);
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_USERS, NULL, 0, take_user, l), 0);
	cv_txn_abort(txn);
	cv_store_close(st);
}

/* 1 when ROOT is the vault's root key: its meta key opens the sealed
 * audit signing key. */
static int
is_root(const struct loot *l, const uint8_t root[static CV_KEYBYTES])
{
	struct cv_bind b = {CV_AUDIT_SK_TAG, l->vault_id, NULL, 0, NULL, 0};
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	struct cv_keys *k = cv_keys_new();
	int ok;

	assert_non_null(k);
	memcpy(k->root, root, CV_KEYBYTES);
	cv_keys_derive(k, l->gen);
	ok = cv_sealed_open(k->meta, &b, l->sk, sizeof(l->sk), sk) == 0;
	sodium_memzero(sk, sizeof(sk));
	cv_keys_free(k);
	return ok;
}

/* Open slot I with WRAP, bound to the name NAME, into ROOT. */
static int
slot_open_with(const struct loot *l, size_t i, const char *name,
    const uint8_t wrap[static 32], uint8_t root[static CV_KEYBYTES])
{
	uint8_t signer[32];

	return cv_slot_open_with(l->vault_id, name, l->slots[i], SLOT_BYTES,
	           wrap, root, signer) == 0;
}

/* Every derivation of PASS the code knows: under each slot's parameters
 * and salt, and under each verifier's. */
static size_t
derivations(const struct loot *l, const char *pass, uint8_t (*out)[32],
    size_t cap)
{
	struct cv_kdf_params p;
	uint8_t salt[64];
	char b64[64];
	size_t i, n = 0, slen;

	for (i = 0; i < l->nslots && n < cap; i++) {
		p.m_kib = cv_get_be32(l->slots[i] + 1);
		p.t = cv_get_be32(l->slots[i] + 5);
		p.p = cv_get_be32(l->slots[i] + 9);
		if (cv_passphrase_derive(&p, l->slots[i] + 13, pass,
		        strlen(pass), out[n]) == 0)
			n++;
	}
	for (i = 0; i < l->nusers && n < cap; i++) {
		/* $argon2id$v=19$m=M,t=T,p=P$SALT$HASH */
		assert_int_equal(sscanf(l->hashes[i],
		                     "$argon2id$v=19$m=%u,t=%u,p=%u$%63[^$]$",
		                     &p.m_kib, &p.t, &p.p, b64),
		    4);
		assert_int_equal(sodium_base642bin(salt, sizeof(salt), b64,
		                     strlen(b64), NULL, &slen, NULL,
		                     sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
		    0);
		assert_int_equal(slen, CV_SALTBYTES);
		if (cv_passphrase_derive(&p, salt, pass, strlen(pass),
		        out[n]) == 0)
			n++;
	}
	return n;
}

/*
 * The attacker: with PASS and the files of the vault in DIR, try to get
 * the root key. Returns 1 and the key in ROOT when found.
 */
static int
attack(const char *dir, const char *pass, uint8_t root[static CV_KEYBYTES])
{
	struct cv_session *s;
	struct cv_store *st;
	struct cv_txn *txn;
	uint8_t keys[2 * (MAX_SLOTS + MAX_USERS)][32];
	struct loot l;
	size_t i, j, k, n;
	int found = 0;

	loot_read(dir, &l);
	/* Every slot, opened by the library with PASS. */
	assert_int_equal(cv_session_new(dir, &s), 0);
	memcpy(s->vault_id, l.vault_id, sizeof(l.vault_id));
	assert_int_equal(cv_store_open(dir, &st), 0);
	assert_int_equal(cv_txn_begin(st, CV_TXN_RDONLY, &txn), 0);
	for (i = 0; i < l.nslots && !found; i++)
		if (cv_slot_open(txn, s, l.slot_names[i], pass, strlen(pass)) ==
		        0 &&
		    is_root(&l, s->keys->root)) {
			memcpy(root, s->keys->root, CV_KEYBYTES);
			found = 1;
		}
	cv_txn_abort(txn);
	cv_store_close(st);
	cv_session_close(s);
	/* Every derivation, as a wrap key of every slot under every name
	 * the vault knows, and as the root key. */
	n = derivations(&l, pass, keys, MAX_SLOTS + MAX_USERS);
	assert_true(n >= l.nslots + l.nusers);
	for (i = 0; i < n && !found; i++) {
		if (is_root(&l, keys[i])) {
			memcpy(root, keys[i], CV_KEYBYTES);
			found = 1;
		}
		for (j = 0; j < l.nslots && !found; j++)
			for (k = 0; k < l.nslots && !found; k++)
				if (slot_open_with(
				        &l, j, l.slot_names[k], keys[i], root) &&
				    is_root(&l, root))
					found = 1;
	}
	sodium_memzero(keys, sizeof(keys));
	return found;
}

/* A copy of every file of the vault in DIR, as an insider would take. */
static void
copy_vault(const char *dir, char copy[static 96])
{
	char cmd[256];

	snprintf(copy, 96, "%s.copy", dir);
	snprintf(cmd, sizeof(cmd), "cp -a %s %s", dir, copy);
	assert_int_equal(system(cmd), 0);
}

/* A vault of MODE with siti, a counselor who opened a case with a record,
 * and (served) the record written through the daemon. */
static void
vault_with_case(char dir[static 64], int served)
{
	struct cv_session *a = served ? test_served_new(dir) : test_vault_new(dir);
	struct cv_vault *v = NULL;
	struct cv_session *s = NULL;
	char cid[CV_CASE_ID_LEN + 1];
	json_t *in = test_fixture("intake_valid.json");

	assert_int_equal(cv_user_add(a, "siti", "counselor", CV_USER_TRAINED,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	cv_session_close(a);
	if (served) {
		assert_int_equal(cv_vault_unlock(dir, "admin", TEST_PASS_ADMIN,
		                     strlen(TEST_PASS_ADMIN), &v),
		    0);
		assert_int_equal(cv_vault_login(v, "siti", TEST_PASS_STAFF,
		                     strlen(TEST_PASS_STAFF), NULL, &s),
		    0);
	} else {
		s = test_login(dir, "siti", TEST_PASS_STAFF);
	}
	assert_int_equal(cv_case_open(s, in, cid), 0);
	json_decref(in);
	cv_session_end(s, "logout");
	cv_vault_close(v);
}

static void
t_staff_decrypts_nothing(void **state)
{
	char dir[64], copy[96];
	uint8_t root[CV_KEYBYTES];

	(void)state;
	vault_with_case(dir, 1);
	copy_vault(dir, copy);
	/* The passphrase is right: the verifier takes it. */
	assert_int_equal(attack(copy, TEST_PASS_STAFF, root), 0);
	/* The same attacker with the custodian's passphrase finds the key. */
	assert_int_equal(attack(copy, TEST_PASS_ADMIN, root), 1);
	sodium_memzero(root, sizeof(root));
	test_rm_rf(copy);
	test_vault_remove(dir);
}

/* In an embedded vault a staff passphrase and the files are enough. */
static void
t_embedded_staff_decrypts(void **state)
{
	char dir[64], copy[96];
	uint8_t root[CV_KEYBYTES];

	(void)state;
	vault_with_case(dir, 0);
	copy_vault(dir, copy);
	assert_int_equal(attack(copy, TEST_PASS_STAFF, root), 1);
	assert_int_equal(attack(copy, "not-the-passphrase", root), 0);
	sodium_memzero(root, sizeof(root));
	test_rm_rf(copy);
	test_vault_remove(dir);
}

/* 1 when account NAME has a keyslot. */
static int
has_slot(const char *dir, const char *name)
{
	struct cv_store *st;
	struct cv_txn *txn;
	struct cv_val v;
	int r;

	assert_int_equal(cv_store_open(dir, &st), 0);
	assert_int_equal(cv_txn_begin(st, CV_TXN_RDONLY, &txn), 0);
	r = cv_get(txn, CV_DB_SLOTS, name, strlen(name), &v);
	assert_true(r == 0 || r == CV_ENOTFOUND);
	cv_txn_abort(txn);
	cv_store_close(st);
	return r == 0;
}

/* A served vault's accounts: staff get a verifier only, also after a
 * passphrase change; a custodian gets a slot and unlocks. */
static void
t_served_accounts(void **state)
{
	struct cv_session *a, *s = NULL;
	struct cv_vault *v = NULL;
	char dir[64];

	(void)state;
	a = test_served_new(dir);
	assert_int_equal(cv_user_add(a, "siti", "counselor", 0,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	assert_int_equal(cv_user_add(a, "rina", "counselor", CV_USER_CUSTODIAN,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    CV_EINVAL);
	assert_int_equal(cv_user_add(a, "kedua", "admin", CV_USER_CUSTODIAN,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	assert_int_equal(cv_user_passwd(a, "siti", "second-passphrase-2",
	                     strlen("second-passphrase-2")),
	    0);
	/* The last custodian but one may go; not the last. */
	cv_session_close(a);
	assert_false(has_slot(dir, "siti"));
	assert_true(has_slot(dir, "admin"));
	assert_true(has_slot(dir, "kedua"));
	assert_int_equal(cv_vault_unlock(dir, "kedua", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), &v),
	    0);
	assert_int_equal(cv_vault_login(v, "siti", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), NULL, &s),
	    CV_EAUTH);
	assert_int_equal(cv_vault_login(v, "siti", "second-passphrase-2",
	                     strlen("second-passphrase-2"), NULL, &s),
	    0);
	/* Her own change, through the daemon: still no slot. */
	assert_int_equal(cv_user_passwd(s, "siti", "third-passphrase-3",
	                     strlen("third-passphrase-3")),
	    0);
	cv_session_end(s, "logout");
	assert_false(has_slot(dir, "siti"));
	assert_int_equal(cv_vault_login(v, "kedua", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), NULL, &s),
	    0);
	assert_int_equal(cv_user_disable(s, "admin"), 0);
	cv_session_end(s, "logout");
	assert_int_equal(cv_vault_login(v, "kedua", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), NULL, &s),
	    0);
	assert_int_equal(cv_user_add(s, "ketiga", "admin", 0,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	cv_session_end(s, "logout");
	assert_int_equal(cv_vault_login(v, "ketiga", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), NULL, &s),
	    0);
	assert_int_equal(cv_user_disable(s, "kedua"), CV_ESTATE);
	cv_session_end(s, "logout");
	cv_vault_close(v);
	test_vault_remove(dir);
}

static void
t_serve(void **state)
{
	struct cv_session *a, *k, *s = NULL;
	struct cv_vault *v = NULL;
	uint8_t slot[SLOT_BYTES];
	json_t *log = NULL, *ev, *ver = NULL;
	size_t i, n = 0;
	char dir[64];

	(void)state;
	a = test_vault_new(dir);
	assert_int_equal(cv_user_add(a, "siti", "counselor", 0,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	assert_int_equal(cv_user_add(a, "inspektur", "auditor", 0,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	assert_int_equal(cv_user_add(a, "kepala", "admin", 0, TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF)),
	    0);
	cv_session_close(a);
	assert_int_equal(test_raw_get(dir, CV_DB_SLOTS, "siti", 4, slot,
	                     sizeof(slot)),
	    sizeof(slot));
	assert_true(test_dir_contains(dir, slot, sizeof(slot)));

	/* An admin who is no custodian is refused. */
	k = test_login(dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_vault_serve(k), CV_EDENIED);
	cv_session_close(k);
	/* Not while someone else has the vault open: nothing changes. */
	a = test_login(dir, "admin", TEST_PASS_ADMIN);
	s = test_login(dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_vault_serve(a), CV_EBUSY);
	cv_session_close(s);
	assert_true(has_slot(dir, "siti"));
	assert_int_equal(cv_vault_serve(a), 0);
	assert_int_equal(cv_vault_serve(a), CV_ESTATE);
	cv_session_close(a);

	/* Staff slots are gone, from every byte of every file. */
	assert_false(has_slot(dir, "siti"));
	assert_false(has_slot(dir, "kepala"));
	assert_true(has_slot(dir, "admin"));
	assert_false(test_dir_contains(dir, slot, sizeof(slot)));
	assert_int_equal(cv_session_open(dir, "siti", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), &s),
	    CV_ESERVED);

	/* Through the daemon: the accounts still log in, and the trail
	 * and the accounts' bindings verify. */
	assert_int_equal(cv_vault_unlock(dir, "admin", TEST_PASS_ADMIN,
	                     strlen(TEST_PASS_ADMIN), &v),
	    0);
	assert_int_equal(cv_vault_login(v, "inspektur", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), NULL, &s),
	    0);
	assert_int_equal(cv_audit_verify(s, NULL, NULL, &ver), 0);
	assert_true(json_is_true(json_object_get(ver, "ok")));
	assert_int_equal(cv_audit_log(s, NULL, NULL, 0, 0, &log), 0);
	json_array_foreach (log, i, ev) {
		const char *act =
		    json_string_value(json_object_get(ev, "action"));

		if (strcmp(act, "vault.serve") != 0)
			continue;
		if (strcmp(json_string_value(json_object_get(ev, "decision")),
		        "allow") == 0) {
			assert_int_equal(json_integer_value(json_object_get(
			                     ev, "slots_shredded")),
			    3);
			n++;
		}
	}
	assert_int_equal(n, 1);
	json_decref(log);
	json_decref(ver);
	cv_session_end(s, "logout");
	cv_vault_close(v);
	test_vault_remove(dir);
}

/* The mode is authenticated: set back to embedded, or removed, the
 * vault refuses to open. */
static void
t_mode_edited(void **state)
{
	struct cv_session *s = NULL;
	uint8_t mode[64];
	size_t len;
	char dir[64];

	(void)state;
	cv_session_close(test_served_new(dir));
	len = test_raw_get(dir, CV_DB_META, "mode", 4, mode, sizeof(mode));
	assert_int_equal(mode[0], 1);
	mode[0] = 0;
	test_raw_put(dir, CV_DB_META, "mode", 4, mode, len);
	assert_int_equal(cv_session_open(dir, "admin", TEST_PASS_ADMIN,
	                     strlen(TEST_PASS_ADMIN), &s),
	    CV_ECRYPTO);
	test_raw_put(dir, CV_DB_META, "mode", 4, NULL, 0);
	assert_int_equal(cv_session_open(dir, "admin", TEST_PASS_ADMIN,
	                     strlen(TEST_PASS_ADMIN), &s),
	    CV_ECRYPTO);
	mode[0] = 1;
	test_raw_put(dir, CV_DB_META, "mode", 4, mode, len);
	s = test_login(dir, "admin", TEST_PASS_ADMIN);
	cv_session_close(s);
	test_vault_remove(dir);
}

/* Events of LOG with "reset_credential": true. */
static size_t
reset_events(const json_t *log)
{
	const json_t *ev;
	size_t i, n = 0;

	json_array_foreach (log, i, ev)
		if (json_is_true(json_object_get(ev, "reset_credential")))
			n++;
	return n;
}

/* A one-time passphrase: it must be changed before anything else. */
static void
t_reset(void **state)
{
	struct cv_session *a, *s = NULL, *i;
	struct cv_vault *v = NULL;
	char dir[64], once[CV_RESET_PASS_LEN + 1], cid[CV_CASE_ID_LEN + 1];
	json_t *out = NULL, *log = NULL;

	(void)state;
	a = test_vault_new(dir);
	assert_int_equal(cv_user_add(a, "siti", "counselor", 0,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	assert_int_equal(cv_user_add(a, "inspektur", "auditor", 0,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	assert_int_equal(cv_user_reset(a, "siti", once), 0);
	assert_int_equal(strlen(once), CV_RESET_PASS_LEN);
	assert_int_equal(cv_user_reset(a, "nobody", once), CV_ENOTFOUND);
	assert_int_equal(strlen(once), 0); /* wiped on failure */
	assert_int_equal(cv_user_reset(a, "siti", once), 0);
	assert_int_equal(cv_user_list(a, &out), 0);
	assert_true(json_is_true(
	    json_object_get(json_array_get(out, 2), "reset")));
	json_decref(out);
	cv_session_close(a);

	/* The old passphrase is gone; the one-time one opens a session
	 * that may only change it. */
	assert_int_equal(cv_session_open(dir, "siti", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), &s),
	    CV_EAUTH);
	s = test_login(dir, "siti", once);
	assert_int_equal(cv_case_open(s, NULL, cid), CV_EDENIED);
	assert_int_equal(cv_user_passwd(s, "siti", "own-passphrase-4",
	                     strlen("own-passphrase-4")),
	    0);
	cv_session_close(s);
	assert_int_equal(
	    cv_session_open(dir, "siti", once, strlen(once), &s), CV_EAUTH);
	s = test_login(dir, "siti", "own-passphrase-4");
	assert_int_equal(cv_case_open(s, NULL, cid), 0);
	cv_session_close(s);
	i = test_login(dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_log(i, NULL, NULL, 0, 0, &log), 0);
	/* The reset session's login, its refusal, its change. */
	assert_int_equal(reset_events(log), 3);
	json_decref(log);
	/* The resets are bound to their events like any account write. */
	assert_int_equal(cv_audit_verify(i, NULL, NULL, &out), 0);
	assert_true(json_is_true(json_object_get(out, "ok")));
	json_decref(out);
	cv_session_close(i);

	/* Served: through the daemon as well; a custodian's one-time
	 * passphrase does not unlock it. */
	a = test_login(dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_vault_serve(a), 0);
	assert_int_equal(cv_user_reset(a, "siti", once), 0);
	cv_session_close(a);
	assert_int_equal(cv_vault_unlock(dir, "admin", TEST_PASS_ADMIN,
	                     strlen(TEST_PASS_ADMIN), &v),
	    0);
	assert_int_equal(
	    cv_vault_login(v, "siti", once, strlen(once), NULL, &s), 0);
	assert_int_equal(cv_case_open(s, NULL, cid), CV_EDENIED);
	cv_session_end(s, "logout");
	assert_int_equal(cv_vault_login(v, "admin", TEST_PASS_ADMIN,
	                     strlen(TEST_PASS_ADMIN), NULL, &a),
	    0);
	assert_int_equal(cv_user_reset(a, "admin", once), 0);
	cv_session_end(a, "logout");
	cv_vault_close(v);
	v = NULL;
	assert_int_equal(
	    cv_vault_unlock(dir, "admin", once, strlen(once), &v), CV_EDENIED);
	assert_null(v);
	test_vault_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_staff_decrypts_nothing),
	    cmocka_unit_test(t_embedded_staff_decrypts),
	    cmocka_unit_test(t_served_accounts),
	    cmocka_unit_test(t_serve),
	    cmocka_unit_test(t_mode_edited),
	    cmocka_unit_test(t_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
