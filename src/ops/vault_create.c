/*
 * Creating a vault: a new root key, the audit signing key sealed under the
 * meta key, the first administrator's account and keyslot, the shipped
 * policy set, and an audit trail whose first event is "vault.init". What
 * fails half-way is removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/auditlog.h"
#include "casevault.h"
#include "base/crypto.h"
#include "base/passphrase.h"
#include "gate/policyset.h"
#include "store/sealed.h"
#include "store/store.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"
#include "ops/session.h"

#define AUDIT_PRINCIPAL "audit@casevault"

static int
passphrase_ok(const char *pass, size_t len)
{
	return len >= CV_PASSPHRASE_MIN && len <= CV_PASSPHRASE_MAX &&
	    memchr(pass, '\0', len) == NULL;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
cv_vault_create(const char *dir, const char *admin, const char *pass,
    size_t passlen, struct cv_session **out)
{
	struct cv_session *s = NULL;
	struct cv_user u;
	struct cv_txn *txn = NULL;
	struct cv_bind b = {CV_AUDIT_SK_TAG, NULL, NULL, 0, NULL, 0};
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], *sk = NULL;
	uint8_t sealed[CV_AUDIT_SK_SEALED];
	int r, made = 0;

	*out = NULL;
	if (!cv_name_valid(admin) || !passphrase_ok(pass, passlen))
		return CV_EINVAL;
	if (mkdir(dir, 0700) == 0)
		made = 1;
	else if (errno != EEXIST)
		return CV_EIO;
	if ((r = cv_session_new(dir, &s)) != 0)
		goto out;
	if ((r = cv_store_create(dir, &s->st)) != 0)
		goto out;
	made |= 2;
	if ((sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	cv_random(s->vault_id, sizeof(s->vault_id));
	cv_random(s->keys->root, CV_KEYBYTES);
	cv_keys_derive(s->keys, 1);
	crypto_sign_keypair(pk, sk);
	b.vault_id = s->vault_id;
	if ((r = cv_sealed_seal(s->keys->meta, &b, sk,
	         crypto_sign_SECRETKEYBYTES, sealed)) != 0)
		goto out;

	memset(&u, 0, sizeof(u));
	u.id = 1;
	snprintf(u.name, sizeof(u.name), "%s", admin);
	snprintf(u.role, sizeof(u.role), "admin");
	u.created = cv_now_ms();
	if ((r = cv_passphrase_hash(pass, passlen, u.hash)) != 0)
		goto out;
	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, &txn)) != 0)
		goto out;
	if ((r = cv_put(txn, CV_DB_META, "vault_id", 8, s->vault_id,
	         CV_VAULTIDBYTES, 0)) != 0 ||
	    (r = cv_put(txn, CV_DB_META, "audit_sk", 8, sealed, sizeof(sealed),
	         0)) != 0 ||
	    (r = cv_put(txn, CV_DB_META, "audit_pk", 8, pk, sizeof(pk), 0)) !=
	        0 ||
	    (r = cv_meta_put_u64(txn, "kek_gen", 1)) != 0 ||
	    (r = cv_meta_put_u64(txn, "next_uid", 2)) != 0 ||
	    (r = cv_user_put(txn, &u)) != 0 ||
	    (r = cv_slot_write(txn, s, admin, pass, passlen)) != 0 ||
	    (r = cv_policy_store_init(txn, s)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	if (r != 0)
		goto out;
	cv_session_set_user(s, &u);
	if (cv_auditlog_create(dir, pk, AUDIT_PRINCIPAL) != 0 ||
	    cv_auditlog_open(dir, sk, &s->audit) != 0) {
		r = CV_EAUDIT;
		goto out;
	}
	made |= 4;
	if ((r = cv_policy_store_load(s)) != 0)
		goto out;
	if ((r = cv_session_record(s, "vault.init")) != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	if (sk != NULL)
		sodium_free(sk);
	sodium_memzero(sealed, sizeof(sealed));
	if (s != NULL) {
		cv_session_close(s);
		/* Leave nothing half-made behind. */
		if (made & 1) {
			nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		} else if (made & 2) {
			char p[4200];
			if (cv_path(
			        p, sizeof(p), "%s/%s", dir, CV_STORE_FILE) == 0)
				unlink(p);
			if (cv_path(p, sizeof(p), "%s/%s-lock", dir,
			        CV_STORE_FILE) == 0)
				unlink(p);
		}
	}
	return r;
}
