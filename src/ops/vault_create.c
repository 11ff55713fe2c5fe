/*
 * Creating a vault: a new root key, the audit signing key sealed under the
 * meta key, the first administrator's account and keyslot (a key
 * custodian's), the vault's mode of custody, the shipped policy set, and
 * an audit trail whose first event is "vault.init". What fails half-way is
 * removed.
 *
 * The directory is the caller's alone before anything is put in it: new,
 * or empty, owned by the caller and writable by no one else, never a link.
 * Everything made in it ends 0700 or 0600 (0400 for read-only packs).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/auditlog.h"
#include "casevault.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/passphrase.h"
#include "base/safefile.h"
#include "gate/anchor.h"
#include "gate/event.h"
#include "gate/gate.h"
#include "gate/outcome.h"
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

/* rm_entry for everything below the top directory, which stays. */
static int
rm_below(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return ftw->level == 0 ? 0 : rm_entry(path, sb, flag, ftw);
}

/* 1 if the directory open at FD has no entry but "." and "..", 0 if it
 * has, or CV_EIO. FD stays open. */
static int
dir_empty(int fd)
{
	struct dirent *de;
	DIR *d;
	int dfd, r = 1;

	if ((dfd = dup(fd)) == -1)
		return CV_EIO;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return CV_EIO;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			r = 0;
			break;
		}
	closedir(d);
	return r;
}

/*
 * Make DIR the vault's directory: create it 0700, or take an existing one
 * that is a directory (not a link to one), the caller's, writable by no
 * one else and empty, and make it 0700. *MADE is 1 when DIR was created.
 * Returns 0, CV_EUNSAFE, CV_EEXIST (not empty), CV_EIO.
 */
static int
vault_dir(const char *dir, int *made)
{
	int fd, r;

	*made = 0;
	if (mkdir(dir, 0700) == 0)
		*made = 1;
	else if (errno != EEXIST)
		return CV_EIO;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ELOOP && errno != ENOTDIR)
			return CV_EIO;
		cv_error_set("%s is a symbolic link or not a directory", dir);
		return CV_EUNSAFE;
	}
	r = cv_safe_dirfd(fd, dir);
	if (r == 0 && (r = dir_empty(fd)) == 0) {
		cv_error_set("%s is not empty", dir);
		r = CV_EEXIST;
	} else if (r == 1)
		r = fchmod(fd, 0700) == 0 ? 0 : CV_EIO;
	close(fd);
	if (r != 0 && *made) {
		rmdir(dir);
		*made = 0;
	}
	return r;
}

/*
 * Make the vault in MODE (account.h). Its first admin is a key custodian
 * in either mode: the one who may later serve an embedded vault, or
 * unlock a served one.
 */
static int
vault_create(const char *dir, const char *admin, const char *pass,
    size_t passlen, int mode, struct cv_session **out)
{
	struct cv_session *s = NULL;
	struct cv_user u;
	struct cv_txn *txn = NULL;
	struct cv_bind b = {CV_AUDIT_SK_TAG, NULL, NULL, 0, NULL, 0};
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], *sk = NULL;
	uint8_t sealed[CV_AUDIT_SK_SEALED];
	json_t *ev = NULL;
	uint64_t seq = 0;
	int r, made;

	*out = NULL;
	if (!cv_name_valid(admin) || !passphrase_ok(pass, passlen))
		return CV_EINVAL;
	if ((r = vault_dir(dir, &made)) != 0)
		return r;
	if ((r = cv_session_new(dir, &s)) != 0)
		goto out;
	if ((r = cv_store_create(dir, &s->st)) != 0)
		goto out;
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
	u.custodian = 1;
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
	    (r = cv_slot_write(txn, s, admin, pass, passlen)) != 0 ||
	    (r = cv_user_stage(txn, s, &u, &ev)) != 0 ||
	    (r = cv_user_put(txn, s, &u)) != 0 ||
	    (r = cv_pending_mark_put(txn, s, 0)) != 0 ||
	    (r = cv_mode_put(txn, s, mode)) != 0 ||
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
	if ((r = cv_policy_store_load(s)) != 0)
		goto out;
	/* The first event names the admin's account, written above before
	 * there was a trail: bound now to that event's seq. It records the
	 * mode too, so a store whose mode is removed is not taken for one
	 * made before modes. */
	if (ev == NULL ||
	    json_object_set_new(ev, "mode",
	        json_string(mode == CV_MODE_SERVED ? "served" : "embedded")) !=
	        0) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_session_record_init(s, ev, &seq)) != 0)
		goto out;
	/* The store's anchor starts at the first event. */
	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, &txn)) != 0)
		goto out;
	if ((r = cv_user_save(txn, s, &u, seq)) != 0 ||
	    (r = cv_event_applied(txn, s, seq)) != 0 ||
	    (r = cv_anchor_reset(txn, s)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	if (r != 0)
		goto out;
	/* libgit2 chose its own modes (0755, 0644): what the vault is
	 * made of is the owner's alone. */
	if ((r = cv_tree_private(dir)) != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	if (sk != NULL)
		sodium_free(sk);
	sodium_memzero(sealed, sizeof(sealed));
	json_decref(ev);
	if (r != 0) {
		cv_session_close(s);
		/* Leave nothing half-made behind. The directory was new or
		 * empty and no one else can write to it: all in it is ours. */
		nftw(dir, made ? rm_entry : rm_below, 16, FTW_DEPTH | FTW_PHYS);
	}
	return r;
}

int
cv_vault_create(const char *dir, const char *admin, const char *pass,
    size_t passlen, struct cv_session **out)
{
	cv_error_clear();
	return vault_create(dir, admin, pass, passlen, CV_MODE_EMBEDDED, out);
}

int
cv_vault_create_served(const char *dir, const char *admin, const char *pass,
    size_t passlen, struct cv_session **out)
{
	cv_error_clear();
	return vault_create(dir, admin, pass, passlen, CV_MODE_SERVED, out);
}

/* The accounts whose keyslots serving the vault shreds. */
struct serve_ctx {
	struct cv_user *users;
	size_t n, cap;
};

static int
collect_staff(const struct cv_user *u, void *arg)
{
	struct serve_ctx *c = arg;
	void *nu;

	if (u->custodian)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		if ((nu = realloc(c->users, c->cap * sizeof(*c->users))) ==
		    NULL)
			return CV_ENOMEM;
		c->users = nu;
	}
	c->users[c->n++] = *u;
	return 0;
}

/*
 * In TXN: shred the keyslot of every account that is not a custodian and
 * stage each (its MAC binds the slot's absence), noting the writes in
 * *EV, then mark the vault served.
 */
static int
serve_stage(
    struct cv_txn *txn, struct cv_session *s, struct serve_ctx *c, json_t **ev)
{
	struct cv_user *u;
	size_t i;
	int r;

	if ((r = cv_user_foreach(txn, collect_staff, c)) != 0)
		return r;
	for (i = 0; i < c->n; i++) {
		u = &c->users[i];
		/* An account edited outside casevault is not re-signed. */
		if ((r = cv_user_check(txn, s, u)) != 0)
			return r;
		r = cv_shred(txn, CV_DB_SLOTS, u->name, strlen(u->name));
		if (r != 0 && r != CV_ENOTFOUND)
			return r;
		if ((r = cv_user_stage(txn, s, u, ev)) != 0)
			return r;
	}
	if (*ev == NULL && (*ev = json_object()) == NULL)
		return CV_ENOMEM;
	json_object_set_new(*ev, "mode", json_string("served"));
	json_object_set_new(
	    *ev, "slots_shredded", json_integer((json_int_t)c->n));
	return cv_mode_put(txn, s, CV_MODE_SERVED);
}

int
cv_vault_serve(struct cv_session *s)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_KEY_ROTATE,
	    .op = "vault.serve",
	    .write = 1};
	struct serve_ctx c = {NULL, 0, 0};
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	struct cv_user me;
	json_t *ev = NULL;
	size_t i;
	int r, mode;

	cv_error_clear();
	if (s->borrowed)
		return CV_ESTATE; /* a session of the daemon: served already */
	/* Alone with the vault, or nothing is done: the shredded slots must
	 * not survive in freed pages, which only a compaction removes, and
	 * it needs the vault to itself. */
	if ((r = cv_store_compact(s->st)) != 0)
		return r;
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		return r;
	if ((r = cv_user_get_checked(txn, s, s->user, &me)) != 0)
		goto out;
	if (!me.custodian || strcmp(me.role, "admin") != 0) {
		cv_txn_abort(txn);
		txn = NULL;
		if ((r = cv_session_refuse(
		         s, "vault.serve", "not-custodian")) == 0) {
			cv_error_set("only a key custodian serves the vault");
			r = CV_EDENIED;
		}
		goto out;
	}
	if ((r = cv_mode_get(txn, s, &mode)) != 0 && r != CV_ENOTFOUND)
		goto out;
	if (r == 0 && mode == CV_MODE_SERVED) {
		r = CV_ESTATE;
		goto out;
	}
	if ((r = serve_stage(txn, s, &c, &ev)) != 0 ||
	    (r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	for (i = 0; i < c.n; i++)
		if ((r = cv_user_save(txn, s, &c.users[i], res.seq)) != 0)
			goto out;
	if ((r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	if (r == 0)
		r = cv_store_compact(s->st);
out:
	cv_outcome_end(s, &txn, r);
	if (c.users != NULL)
		sodium_memzero(c.users, c.cap * sizeof(*c.users));
	free(c.users);
	json_decref(ev);
	return r;
}
