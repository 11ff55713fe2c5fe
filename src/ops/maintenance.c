/*
 * Erasure, backup and key rotation: the operations that rewrite the store
 * as a whole. Erasure and rotation end with a compaction, so neither the
 * shredded bytes nor the keys wrapped under a retired KEK survive in any
 * file of the vault.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/auditlog.h"
#include "model/casemeta.h"
#include "model/caseobj.h"
#include "casevault.h"
#include "base/error.h"
#include "gate/anchor.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "gate/event.h"
#include "model/account.h"
#include "model/binding.h"
#include "model/recstore.h"
#include "store/sealed.h"
#include "store/store.h"
#include "base/safefile.h"
#include "base/util.h"
#include "model/session.h"
#include "ops/session.h"

struct keys_ctx {
	uint8_t (*keys)[CV_REC_KEYLEN];
	size_t n, cap;
};

static int
collect_key(
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h, void *arg)
{
	struct keys_ctx *k = arg;
	void *nk;

	(void)h;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 16;
		if ((nk = realloc(k->keys, k->cap * CV_REC_KEYLEN)) == NULL)
			return CV_ENOMEM;
		k->keys = nk;
	}
	/* The case id is filled in by the caller's memcpy below. */
	cv_put_be32(k->keys[k->n] + CV_CASE_ID_LEN, record);
	cv_put_be32(k->keys[k->n] + CV_CASE_ID_LEN + 4, version);
	k->n++;
	return 0;
}

int
cv_case_erase(struct cv_session *s, const char *case_id)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_ERASE,
	    .op = "case.erase",
	    .case_id = case_id,
	    .write = 1};
	struct keys_ctx k = {NULL, 0, 0};
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *tomb = NULL, *ev = NULL;
	uint64_t version;
	size_t i;
	int r;

	cv_error_clear();
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		return r;
	if ((r = cv_case_load_live(txn, s, case_id, &meta)) != 0)
		goto out;
	/* A tombstone keeps the id from being reused and says what happened. */
	tomb = json_pack("{s:s, s:s, s:b, s:I, s:[]}", "id", case_id, "status",
	    "erased", "erased", 1, "erased_at", (json_int_t)cv_now_ms(),
	    "team");
	if (tomb == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_case_stage(txn, s, case_id, tomb, &ev, &version)) != 0)
		goto out;
	q.meta = meta;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	if ((r = cv_rec_foreach(txn, s, case_id, collect_key, &k)) != 0)
		goto out;
	for (i = 0; i < k.n; i++) {
		memcpy(k.keys[i], case_id, CV_CASE_ID_LEN);
		if ((r = cv_shred(
		         txn, CV_DB_RECORDS, k.keys[i], CV_REC_KEYLEN)) != 0)
			goto out;
	}
	if ((r = cv_casedata_shred(txn, s, case_id)) != 0)
		goto out;
	if ((r = cv_shred(txn, CV_DB_CASEKEYS, case_id, CV_CASE_ID_LEN)) != 0 &&
	    r != CV_ENOTFOUND)
		goto out;
	if ((r = cv_shred(txn, CV_DB_CASES, case_id, CV_CASE_ID_LEN)) != 0 ||
	    (r = cv_case_save(txn, s, case_id, tomb, version, res.seq)) != 0 ||
	    (r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	if (r == 0)
		r = cv_session_compact(s);
out:
	cv_outcome_end(s, &txn, r);
	free(k.keys);
	json_decref(meta);
	json_decref(tomb);
	json_decref(ev);
	return r;
}

static int
copy_file(const char *from, const char *to)
{
	char *buf;
	size_t len;
	int r;

	if ((r = cv_read_file_nofollow(from, 1 << 20, &buf, &len)) != 0)
		return r;
	r = cv_write_file_excl(to, buf, len, 0600);
	free(buf);
	return r;
}

int
cv_vault_backup(struct cv_session *s, const char *dest)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_BACKUP,
	    .op = "vault.backup"};
	static const char *const pub[] = {
	    "audit_signer.pub", "allowed_signers"};
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	char from[4200], to[4200];
	size_t i;
	int r;

	cv_error_clear();
	if (access(dest, F_OK) == 0)
		return CV_EEXIST;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	r = cv_gate_check(s, txn, &q, NULL, &res);
	cv_txn_abort(txn);
	if (r != 0)
		return r;
	if (mkdir(dest, 0700) != 0)
		return CV_EIO;
	/* The store first, then the trail: the copy's trail then holds an
	 * event for every version in the copy's store. */
	if ((r = cv_store_backup(s->st, dest)) != 0)
		return r;
	for (i = 0; i < CV_ARRAY_LEN(pub); i++) {
		if ((r = cv_path(
		         from, sizeof(from), "%s/%s", s->dir, pub[i])) != 0 ||
		    (r = cv_path(to, sizeof(to), "%s/%s", dest, pub[i])) != 0 ||
		    (r = copy_file(from, to)) != 0)
			return r;
	}
	if ((r = cv_path(to, sizeof(to), "%s/audit.git", dest)) != 0)
		return r;
	if (cv_auditlog_push(s->dir, to) != 0)
		return CV_EAUDIT;
	/* A mirror is not a vault's trail until it has the writer's lock
	 * file: the writer takes a missing one for a missing repository. */
	if ((r = cv_path(
	         to, sizeof(to), "%s/audit.git/casevault.lock", dest)) != 0 ||
	    (r = cv_write_file_excl(to, "", 0, 0600)) != 0)
		return r;
	/* The copy is a vault: its owner's alone, as init leaves one. */
	return cv_tree_private(dest);
}

struct rotate_ctx {
	char (*ids)[CV_CASE_ID_LEN + 1];
	size_t n, cap;
};

static int
collect_id(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct rotate_ctx *c = arg;
	void *nid;

	(void)v;
	if (k->len != CV_CASE_ID_LEN)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		if ((nid = realloc(c->ids, c->cap * sizeof(*c->ids))) == NULL)
			return CV_ENOMEM;
		c->ids = nid;
	}
	memcpy(c->ids[c->n], k->data, CV_CASE_ID_LEN);
	c->ids[c->n][CV_CASE_ID_LEN] = '\0';
	c->n++;
	return 0;
}

int
cv_key_rotate(struct cv_session *s)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_KEY_ROTATE,
	    .op = "key.rotate",
	    .write = 1};
	struct rotate_ctx c = {NULL, 0, 0};
	struct cv_gate_res res;
	uint8_t key[CV_KEYBYTES], kek[CV_KEYBYTES];
	struct cv_txn *txn = NULL;
	uint64_t gen = s->keys->kek_gen;
	json_t *ev;
	size_t i;
	int r;

	cv_error_clear();
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		return r;
	ev = json_pack("{s:I}", "kek_generation", (json_int_t)(gen + 1));
	r = cv_gate_check(s, txn, &q, ev, &res);
	json_decref(ev);
	if (r != 0)
		goto out;
	/* The ids first: a scan may not write under itself. */
	if ((r = cv_store_scan(txn, CV_DB_CASEKEYS, NULL, 0, collect_id, &c)) !=
	    0)
		goto out;
	/*
	 * Unwrap under the session's KEK, wrap under the next generation's.
	 * The session's keys change only once the new wraps are committed,
	 * so a failure leaves them as they were. The same-size put rewrites
	 * each value in place.
	 */
	cv_kek_derive(kek, gen + 1, s->keys->root);
	for (i = 0; i < c.n; i++) {
		if ((r = cv_casekey_get(txn, s, c.ids[i], key)) != 0)
			goto out;
		r = cv_casekey_put(txn, s, c.ids[i], key, kek, gen + 1);
		if (r != 0)
			goto out;
	}
	if ((r = cv_meta_put_u64(txn, "kek_gen", gen + 1)) != 0 ||
	    (r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	if (r != 0)
		goto out;
	cv_keys_derive(s->keys, gen + 1);
	r = cv_session_compact(s);
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(kek, sizeof(kek));
	cv_outcome_end(s, &txn, r);
	free(c.ids);
	return r;
}

/* The accounts a root rotation re-signs. */
struct root_ctx {
	struct cv_user *users;
	size_t n, cap;
};

static int
collect_user(const struct cv_user *u, void *arg)
{
	struct root_ctx *c = arg;
	void *nu;

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
 * Open the value at KEY of DB, sealed under OLD with associated data of
 * TAG, the key and the HLEN clear bytes in front, and seal it again under
 * NEW in place. The tags are the formats' (docs/formats.md): one that
 * drifted makes the open, and so the rotation, fail.
 */
static int
reseal(struct cv_txn *txn, struct cv_session *s, enum cv_db db, const void *key,
    size_t klen, const char *tag, int bindkey, size_t hlen, const uint8_t *old,
    const uint8_t *new)
{
	struct cv_bind b = {tag, s->vault_id, NULL, 0, NULL, 0};
	uint8_t *buf = NULL, *m = NULL;
	struct cv_val v;
	size_t mlen;
	int r;

	if ((r = cv_get(txn, db, key, klen, &v)) != 0)
		return r;
	if (v.len < hlen + CV_SEALOVERHEAD)
		return CV_ECORRUPT;
	mlen = v.len - hlen - CV_SEALOVERHEAD;
	if ((buf = malloc(v.len)) == NULL ||
	    (m = sodium_malloc(mlen + 1)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	memcpy(buf, v.data, v.len);
	if (bindkey) {
		b.key = key;
		b.klen = klen;
	}
	b.hdr = hlen > 0 ? buf : NULL;
	b.hlen = hlen;
	if ((r = cv_sealed_open(old, &b, buf + hlen, v.len - hlen, m)) != 0 ||
	    (r = cv_sealed_seal(new, &b, m, mlen, buf + hlen)) != 0)
		goto out;
	r = cv_put(txn, db, key, klen, buf, v.len, 0);
out:
	if (m != NULL)
		sodium_free(m);
	free(buf);
	return r;
}

/* Re-seal every case's metadata from OLD to NEW. */
static int
reseal_cases(struct cv_txn *txn, struct cv_session *s, const uint8_t *old,
    const uint8_t *new)
{
	struct rotate_ctx c = {NULL, 0, 0};
	size_t i;
	int r;

	if ((r = cv_store_scan(txn, CV_DB_CASES, NULL, 0, collect_id, &c)) != 0)
		goto out;
	for (i = 0; i < c.n && r == 0; i++)
		r = reseal(txn, s, CV_DB_CASES, c.ids[i], CV_CASE_ID_LEN,
		    "casevault-case-v1", 1, CV_BIND_HDRBYTES, old, new);
out:
	free(c.ids);
	return r;
}

/*
 * In TXN, before the event: check every account against its MAC, seal
 * NK's root key to every keyslot and stage every account (its MAC binds
 * its slot), noting the writes in *EV.
 */
static int
root_stage(struct cv_txn *txn, struct cv_session *s, struct root_ctx *c,
    const struct cv_keys *nk, json_t **ev)
{
	struct cv_user *u;
	size_t i, slots = 0;
	int r;

	if ((r = cv_user_foreach(txn, collect_user, c)) != 0)
		return r;
	for (i = 0; i < c->n; i++) {
		u = &c->users[i];
		/* The MAC binds the slot's public key: none is sealed to a
		 * key put there outside casevault. */
		if ((r = cv_user_check(txn, s, u)) != 0)
			return r;
		if ((r = cv_slot_exists(txn, u->name)) < 0)
			return r;
		if (r == 1) {
			if ((r = cv_slot_reseal(txn, u->name, nk->root)) != 0)
				return r;
			slots++;
		}
		if ((r = cv_user_stage(txn, s, u, ev)) != 0)
			return r;
	}
	if (*ev == NULL && (*ev = json_object()) == NULL)
		return CV_ENOMEM;
	json_object_set_new(*ev, "kek_generation", json_integer(nk->kek_gen));
	json_object_set_new(
	    *ev, "slots_resealed", json_integer((json_int_t)slots));
	return 0;
}

/*
 * In TXN, after the event: re-wrap every case key under NK's KEK and
 * re-seal or re-MAC everything under the old meta key with NK's.
 */
static int
root_apply(struct cv_txn *txn, struct cv_session *s, const struct cv_keys *nk,
    uint64_t *mark, int *has_mode, int *mode)
{
	struct rotate_ctx c = {NULL, 0, 0};
	uint8_t key[CV_KEYBYTES];
	size_t i;
	int r;

	if ((r = cv_pending_mark_get(txn, s, mark)) != 0 && r != CV_ENOTFOUND)
		return r;
	if ((r = cv_mode_get(txn, s, mode)) != 0 && r != CV_ENOTFOUND)
		return r;
	*has_mode = r == 0;
	if ((r = cv_store_scan(txn, CV_DB_CASEKEYS, NULL, 0, collect_id, &c)) !=
	    0)
		goto out;
	for (i = 0; i < c.n; i++) {
		if ((r = cv_casekey_get(txn, s, c.ids[i], key)) != 0 ||
		    (r = cv_casekey_put(
		         txn, s, c.ids[i], key, nk->kek, nk->kek_gen)) != 0)
			goto out;
	}
	if ((r = reseal_cases(txn, s, s->keys->meta, nk->meta)) != 0 ||
	    (r = reseal(txn, s, CV_DB_META, "audit_sk", 8, CV_AUDIT_SK_TAG, 0,
	         0, s->keys->meta, nk->meta)) != 0 ||
	    (r = reseal(txn, s, CV_DB_META, "policy_set", 10,
	         "casevault-policy-v1", 0, 0, s->keys->meta, nk->meta)) != 0)
		goto out;
	r = reseal(txn, s, CV_DB_META, "anchor", 6, CV_ANCHOR_TAG, 1, 0,
	    s->keys->meta, nk->meta);
out:
	sodium_memzero(key, sizeof(key));
	free(c.ids);
	return r;
}

int
cv_key_rotate_root(struct cv_session *s)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_KEY_ROTATE,
	    .op = "key.rotate_root",
	    .write = 1};
	struct root_ctx c = {NULL, 0, 0};
	struct cv_gate_res res;
	struct cv_keys *nk = NULL, *old = NULL;
	struct cv_txn *txn = NULL;
	json_t *ev = NULL;
	uint64_t mark = 0;
	size_t i;
	int r, has_mode = 0, mode = CV_MODE_EMBEDDED, swapped = 0, done = 0;

	cv_error_clear();
	/* The daemon's sessions share its keys: a custodian rotates with
	 * the daemon stopped. */
	if (s->borrowed)
		return CV_EBUSY;
	/* Alone with the vault, or nothing is done: values under the old
	 * root must not survive in freed pages, which only a compaction
	 * removes, and another process would go on with the old keys. */
	if ((r = cv_store_compact(s->st)) != 0)
		return r;
	if ((nk = cv_keys_new()) == NULL || (old = cv_keys_new()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	/* The new root; the trail's keys kept (base/crypto.h). */
	cv_random(nk->root, CV_KEYBYTES);
	memcpy(nk->kept, s->keys->pseudo, CV_KEYBYTES);
	memcpy(nk->kept + CV_KEYBYTES, s->keys->bind, CV_KEYBYTES);
	nk->has_kept = 1;
	memcpy(nk->signer, s->keys->signer, sizeof(nk->signer));
	nk->has_signer = s->keys->has_signer;
	cv_keys_derive(nk, s->keys->kek_gen + 1);
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		goto out;
	if ((r = root_stage(txn, s, &c, nk, &ev)) != 0 ||
	    (r = cv_gate_check(s, txn, &q, ev, &res)) != 0 ||
	    (r = root_apply(txn, s, nk, &mark, &has_mode, &mode)) != 0)
		goto out;
	/* From here the session works under the new keys. */
	memcpy(old, s->keys, sizeof(*old));
	memcpy(s->keys, nk, sizeof(*nk));
	swapped = 1;
	for (i = 0; i < c.n; i++)
		if ((r = cv_user_save(txn, s, &c.users[i], res.seq)) != 0)
			goto out;
	if ((r = cv_pending_mark_put(txn, s, mark)) != 0 ||
	    (has_mode && (r = cv_mode_put(txn, s, mode)) != 0) ||
	    (r = cv_keys_kept_put(txn, s)) != 0 ||
	    (r = cv_meta_put_u64(txn, "kek_gen", nk->kek_gen)) != 0 ||
	    (r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	done = r == 0;
	if (r == 0)
		r = cv_store_compact(s->st);
out:
	/* Nothing committed: the session keeps the keys the store has. */
	if (swapped && !done)
		memcpy(s->keys, old, sizeof(*old));
	cv_outcome_end(s, &txn, r);
	if (c.users != NULL)
		sodium_memzero(c.users, c.cap * sizeof(*c.users));
	free(c.users);
	json_decref(ev);
	cv_keys_free(nk);
	cv_keys_free(old);
	return r;
}

/* What a restore does under the vault's exclusive lock. */
struct restore_ctx {
	struct cv_session *s;
	const struct cv_audit_pos *from; /* the backup's anchor */
	const char *stage;               /* the staged copy's directory */
};

/*
 * Decide and record the restore, then anchor the staged copy at the trail
 * as it is now, its restore event included: the copy becomes current only
 * with an anchor that the next open finds on the trail.
 */
static int
restore_prepare(void *arg)
{
	struct restore_ctx *c = arg;
	struct cv_session *s = c->s;
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_BACKUP,
	    .op = "vault.restore",
	    .write = 1};
	struct cv_gate_res res;
	struct cv_store *st = NULL;
	struct cv_txn *txn = NULL;
	char hex[2 * CV_AUDIT_COMMITBYTES + 1], root[65];
	json_t *extra;
	int r;

	sodium_bin2hex(hex, sizeof(hex), c->from->commit, CV_AUDIT_COMMITBYTES);
	sodium_bin2hex(root, sizeof(root), c->from->root, 32);
	extra = json_pack("{s:s, s:I, s:s}", "backup_head", hex, "backup_size",
	    (json_int_t)c->from->size, "backup_root", root);
	if (extra == NULL)
		return CV_ENOMEM;
	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, &txn)) == 0) {
		r = cv_gate_check(s, txn, &q, extra, &res);
		cv_txn_abort(txn);
		txn = NULL;
	}
	json_decref(extra);
	if (r != 0)
		return r;
	if ((r = cv_store_open(c->stage, &st)) != 0 ||
	    (r = cv_txn_begin(st, CV_TXN_WRITE, &txn)) != 0)
		goto out;
	if ((r = cv_event_applied(txn, s, res.seq)) != 0 ||
	    (r = cv_anchor_reset(txn, s)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	cv_store_close(st);
	return r;
}

/*
 * The backup in SRC, as this vault's session sees it: of this vault, and
 * anchored at a position this vault's trail holds. *POS gets its anchor.
 */
static int
backup_anchor(struct cv_session *s, const char *src, struct cv_audit_pos *pos)
{
	struct cv_store *bst = NULL;
	struct cv_txn *txn = NULL;
	struct cv_val v;
	int r;

	if ((r = cv_store_open(src, &bst)) != 0)
		return r;
	if ((r = cv_txn_begin(bst, CV_TXN_RDONLY, &txn)) != 0)
		goto out;
	if ((r = cv_get(txn, CV_DB_META, "vault_id", 8, &v)) != 0 ||
	    v.len != CV_VAULTIDBYTES ||
	    sodium_memcmp(v.data, s->vault_id, CV_VAULTIDBYTES) != 0) {
		cv_error_set("%s is not a backup of this vault", src);
		r = CV_EINVAL;
		goto out;
	}
	if ((r = cv_anchor_get(txn, s, pos)) != 0) {
		cv_error_set("%s has no anchor on the trail (a backup made "
		             "before anchors, or altered)",
		    src);
		r = r == CV_ENOTFOUND ? CV_EINVAL : r;
		goto out;
	}
	if ((r = cv_auditlog_holds(s->audit, pos)) != 0) {
		cv_error_set("%s was anchored at event %llu, which this "
		             "vault's trail does not hold",
		    src, (unsigned long long)pos->size);
		r = r == CV_EVERIFY ? CV_ETRUNC : CV_EAUDIT;
	}
out:
	cv_txn_abort(txn);
	cv_store_close(bst);
	return r;
}

static int
rm_stage(const char *stage)
{
	static const char *const files[] = {
	    CV_STORE_FILE, CV_STORE_FILE "-lock", "vault.lock"};
	char path[4200];
	size_t i;

	for (i = 0; i < CV_ARRAY_LEN(files); i++)
		if (cv_path(path, sizeof(path), "%s/%s", stage, files[i]) == 0)
			unlink(path);
	return rmdir(stage) == 0 || errno == ENOENT ? 0 : CV_EIO;
}

int
cv_vault_restore(struct cv_session *s, const char *src)
{
	struct cv_audit_pos from;
	struct restore_ctx c = {s, &from, NULL};
	struct cv_store *bst = NULL;
	char stage[4200], staged[4300];
	int r;

	cv_error_clear();
	if (src == NULL)
		return CV_EINVAL;
	/* The daemon's store is shared by its sessions: not replaced under
	 * them. A custodian restores with the daemon stopped. */
	if (s->borrowed)
		return CV_EBUSY;
	if ((r = backup_anchor(s, src, &from)) != 0)
		return r;
	/* Staged inside the vault, so that the swap is one rename. */
	if ((r = cv_path(stage, sizeof(stage), "%s/restore.tmp", s->dir)) !=
	        0 ||
	    (r = cv_path(
	         staged, sizeof(staged), "%s/%s", stage, CV_STORE_FILE)) != 0)
		return r;
	rm_stage(stage); /* left by a restore that died */
	if (mkdir(stage, 0700) != 0)
		return CV_EIO;
	if ((r = cv_store_open(src, &bst)) == 0)
		r = cv_store_backup(bst, stage);
	cv_store_close(bst);
	if (r != 0)
		goto out;
	c.stage = stage;
	r = cv_store_replace(s->st, staged, restore_prepare, &c);
out:
	if (rm_stage(stage) != 0 && r == 0)
		r = CV_EIO;
	return r;
}
