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
#include <pthread.h>
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
#include "gate/clock.h"
#include "base/sshsig.h"
#include "gate/policyset.h"
#include "store/sealed.h"
#include "store/store.h"
#include "base/util.h"
#include "gate/anchor.h"
#include "gate/event.h"
#include "gate/outcome.h"
#include "model/account.h"
#include "model/session.h"
#include "ops/session.h"
#include "rules/policy.h"

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
cv_session_record_init(struct cv_session *s, const json_t *extra, uint64_t *seq)
{
	json_t *ev;

	if ((ev = cv_event_new(s, "vault.init")) != NULL) {
		json_object_set_new(ev, "decision", json_string("allow"));
		json_object_set_new(ev, "outcome", json_string("success"));
		json_object_set_new(ev, "anchored", json_true());
		if (extra != NULL)
			json_object_update_missing(ev, (json_t *)extra);
	}
	/* A write: it names the first admin's account, saved under it. */
	return cv_event_commit(s, ev, 1, seq);
}

int
cv_session_compact(struct cv_session *s)
{
	if (!s->borrowed)
		return cv_store_compact(s->st);
	pthread_mutex_lock(&s->vault->mu);
	s->vault->compact = 1;
	pthread_mutex_unlock(&s->vault->mu);
	return CV_EBUSY;
}

int
cv_session_refuse(struct cv_session *s, const char *action, const char *rule)
{
	json_t *ev;

	if ((ev = cv_event_new(s, action)) != NULL) {
		json_object_set_new(ev, "decision", json_string("deny"));
		json_object_set_new(ev, "rule", json_string(rule));
		json_object_set_new(ev, "outcome", json_string("failure"));
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

/* Drop a reference to a served vault's policy set, under V's mutex; the
 * last one frees it. */
static void
policy_release(struct cv_vault *v, struct cv_policy_ref *p)
{
	unsigned left;

	pthread_mutex_lock(&v->mu);
	left = --p->refs;
	pthread_mutex_unlock(&v->mu);
	if (left == 0) {
		cv_policy_store_free(p->set);
		free(p);
	}
}

void
cv_session_close(struct cv_session *s)
{
	if (s == NULL)
		return;
	if (s->opened && s->st != NULL && s->audit != NULL)
		anchor_at_close(s);
	if (cv_session_owns_policy(s))
		cv_policy_store_free(s->policy);
	if (s->policy_ref != NULL)
		policy_release(s->vault, s->policy_ref);
	if (s->borrowed) {
		/* The store and the trail are the vault's. */
		pthread_mutex_lock(&s->vault->mu);
		s->vault->sessions--;
		pthread_mutex_unlock(&s->vault->mu);
	} else {
		cv_auditlog_close(s->audit);
		cv_store_close(s->st);
	}
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

uint64_t
cv_session_clock_behind(const struct cv_session *s)
{
	return s->clock_behind;
}

/*
 * The signer's public key is authenticated by the sealed signing key it
 * is the second half of (a libsodium Ed25519 secret key ends with its
 * public key), sealed under the meta key. Every other copy in the vault
 * must be that key: the store's audit_pk, which verification reads, and
 * audit_signer.pub and allowed_signers, which auditors and stock git
 * read. The signer has no recorded rotation, so a copy that differs means
 * it was changed behind the vault's back: the vault refuses to open. (The
 * trail's head must be signed by it too: cv_auditlog_open checks.)
 */
static int
signer_check(struct cv_txn *txn, const uint8_t pk[static 32], const char *dir)
{
	static const char *const files[] = {
	    "audit_signer.pub", "allowed_signers"};
	const char *where = "the store";
	char path[4200], *buf = NULL, *line, *nl;
	uint8_t other[32];
	struct cv_val v;
	size_t i, len, pins;
	int r, e;

	if ((r = cv_get(txn, CV_DB_META, "audit_pk", 8, &v)) != 0 ||
	    v.len != 32 || memcmp(v.data, pk, 32) != 0)
		goto changed;
	for (i = 0; i < CV_ARRAY_LEN(files); i++) {
		where = files[i];
		if (cv_path(path, sizeof(path), "%s/%s", dir, files[i]) != 0 ||
		    cv_read_file_nofollow(path, 4096, &buf, &len) != 0)
			goto changed;
		pins = 0;
		for (line = buf; line < buf + len; line = nl + 1) {
			if ((nl = memchr(line, '\n',
			         (size_t)(buf + len - line))) == NULL)
				nl = buf + len;
			e = i == 0 ? cv_sshsig_pubkey_parse(
			                 line, (size_t)(nl - line), other)
			           : cv_sshsig_allowed_parse(line,
			                 (size_t)(nl - line), "git", other);
			if (e == CV_ENOTFOUND)
				continue;
			if (e != 0 || memcmp(other, pk, 32) != 0)
				goto changed;
			pins++;
		}
		free(buf);
		buf = NULL;
		if (pins == 0)
			goto changed;
	}
	return 0;
changed:
	free(buf);
	cv_error_set("the audit signer's public key in %s is not the vault's "
	             "signing key: the signer was changed without a recorded "
	             "rotation",
	    where);
	return CV_ECRYPTO;
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
	if ((r = cv_sealed_open(s->keys->meta, &b, v.data, v.len, sk)) != 0 ||
	    (r = signer_check(txn, sk + 32, s->dir)) != 0)
		goto out;
	/* The keyslot pins the signer: a root key that someone sealed to
	 * the slot's public key opens no vault but one signed by it. */
	if (s->keys->has_signer &&
	    sodium_memcmp(sk + 32, s->keys->signer, 32) != 0) {
		cv_error_set("the keyslot opened a vault that is not the one "
		             "it was made for (another audit signer)");
		r = CV_ECRYPTO;
		goto out;
	}
	if (cv_auditlog_open(s->dir, sk, &s->audit) != 0)
		r = CV_EAUDIT;
out:
	sodium_free(sk);
	return r;
}

/*
 * The failed-login queue. A failure happens before any key is unlocked, so
 * it cannot sign: it is queued in the store and enters the trail at the
 * next unlock. Anyone with write access to the files can write the queue,
 * so nothing in it is trusted: an entry holds only a user name, a reason
 * from QUEUE_REASONS and a time, and at the flush a fresh failed-login
 * event is built from those fields once they validate; the stored JSON is
 * never copied into the trail. An entry that does not validate becomes a
 * "session.tampered" event naming only what was seen, and is dropped.
 *
 * Entries are numbered by meta pending_next. The numbers flushed so far
 * are kept MACed (meta pending_mark), so the flush sees an entry deleted
 * (a gap below pending_next), an entry numbered at or below the mark (a
 * replay or forgery) and a pending_next that went back below the mark.
 */
static const char *const queue_reasons[] = {"unknown-user", "backoff",
    "wrong-passphrase", "account-disabled", "served"};

#define QUEUE_ENTRY_MAX 1024
#define QUEUE_SKEW_MS   (5 * 60 * 1000) /* an entry's time may run ahead */

/*
 * Queue one failed login of U (id 0: an unknown name, never stored) for
 * reason WHY, at AT (the vault's time, never earlier than the trail's).
 * With COUNT, U's failure count and time are written in the same
 * transaction, so the queue and the count move together.
 */
static int
pending_put(struct cv_store *st, const struct cv_user *u, const char *why,
    int count, uint64_t at)
{
	struct cv_txn *txn = NULL;
	struct cv_user now;
	uint64_t n = 0;
	uint8_t k[8];
	char *text = NULL;
	json_t *ev;
	int r;

	ev = json_pack("{s:s, s:I}", "reason", why, "observed", (json_int_t)at);
	if (ev != NULL && u->id != 0)
		json_object_set_new(ev, "user", json_string(u->name));
	text = ev != NULL ? cv_json_canonical(ev) : NULL;
	json_decref(ev);
	if (text == NULL)
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
	if (count) {
		/* Counted on the row as it is now, not as read before the
		 * Argon2id check: another failure may have come between. */
		if ((r = cv_user_get(txn, u->name, &now)) != 0)
			goto out;
		now.failures++;
		now.last_failure = at;
		if ((r = cv_user_put_failures(txn, &now)) != 0)
			goto out;
	}
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	free(text);
	return r;
}

/*
 * A sign of tampering, recorded by the session that saw it: KIND, and the
 * account id, queue number and count concerned where there is one. It
 * names no person and copies nothing from what was tampered with.
 */
static int
tamper_event(struct cv_session *s, const char *kind, uint32_t uid,
    uint64_t queued, uint64_t count)
{
	json_t *ev = cv_event_new(s, "session.tampered");

	if (ev == NULL)
		return CV_ENOMEM;
	json_object_set_new(ev, "kind", json_string(kind));
	if (uid != 0)
		json_object_set_new(
		    ev, "account", json_integer((json_int_t)uid));
	if (queued != 0)
		json_object_set_new(
		    ev, "queued", json_integer((json_int_t)queued));
	if (count != 0)
		json_object_set_new(
		    ev, "count", json_integer((json_int_t)count));
	return cv_event_commit(s, ev, 0, NULL);
}

static const char *
queue_reason(const char *why)
{
	size_t i;

	for (i = 0; why != NULL && i < CV_ARRAY_LEN(queue_reasons); i++)
		if (strcmp(why, queue_reasons[i]) == 0)
			return queue_reasons[i];
	return NULL;
}

/*
 * The failed-login event for queue entry N (text V), built from its
 * validated fields only, into *OUT; *U is the account it names (id 0 for
 * an unknown name); *COUNTS is 1 for a wrong passphrase, the failure the
 * account's count holds. CV_ECORRUPT when the entry does not validate.
 */
static int
queued_failure(struct cv_txn *txn, struct cv_session *s, const struct cv_val *v,
    uint64_t n, struct cv_user *u, int *counts, json_t **out)
{
	const char *why, *name;
	const json_t *t;
	json_t *j = NULL, *ev = NULL;
	char actor[16];
	int r = CV_ECORRUPT;

	*out = NULL;
	*counts = 0;
	memset(u, 0, sizeof(*u));
	if (cv_json_parse_object(v->data, v->len, QUEUE_ENTRY_MAX, &j) != 0)
		return CV_ECORRUPT;
	why = queue_reason(json_string_value(json_object_get(j, "reason")));
	name = json_string_value(json_object_get(j, "user"));
	t = json_object_get(j, "observed");
	if (why == NULL || !json_is_integer(t) || json_integer_value(t) <= 0 ||
	    (uint64_t)json_integer_value(t) > cv_now_ms() + QUEUE_SKEW_MS ||
	    json_object_size(j) != (name != NULL ? 3u : 2u))
		goto out;
	/* An unknown name is never stored; every other reason names one. */
	if ((strcmp(why, "unknown-user") == 0) != (name == NULL))
		goto out;
	if (name != NULL) {
		if ((r = cv_user_get(txn, name, u)) != 0) {
			r = r == CV_ENOTFOUND ? CV_ECORRUPT : r;
			goto out;
		}
		r = CV_ECORRUPT;
	}
	snprintf(actor, sizeof(actor), "u%u", (unsigned)u->id);
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "action",
	    "session.open", "actor", u->id != 0 ? actor : "unknown", "decision",
	    "deny", "rule", why, "outcome", "failure", "observed",
	    json_integer_value(t), "queued", (json_int_t)n);
	if (ev == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	/* The role only from an account that is what casevault wrote. */
	if (u->id != 0 && cv_user_check(txn, s, u) == 0)
		json_object_set_new(ev, "role", json_string(u->role));
	if (s->policy_hash[0] != '\0')
		json_object_set_new(ev, "policy", json_string(s->policy_hash));
	*counts = strcmp(why, "wrong-passphrase") == 0;
	*out = ev;
	r = 0;
out:
	json_decref(j);
	return r;
}

/*
 * A wrong passphrase for U has entered the trail: count it as signed in U's
 * MACed part, so its unauthenticated failure count can no longer honestly
 * be lower. An account whose MAC does not match is reported, not re-signed.
 */
static int
count_signed(struct cv_txn *txn, struct cv_session *s, struct cv_user *u)
{
	int r;

	if ((r = cv_user_check(txn, s, u)) == CV_ECRYPTO)
		return tamper_event(s, "account_edited", u->id, 0, 0);
	if (r != 0)
		return r;
	u->signed_failures++;
	if (u->failures < u->signed_failures &&
	    u->failures + 1 == u->signed_failures &&
	    (r = tamper_event(s, "failures_reset", u->id, 0, 0)) != 0)
		return r;
	return cv_user_put(txn, s, u);
}

/*
 * Flush the queue into the signed trail, oldest first, and move the mark
 * to the last number flushed.
 */
static int
pending_flush(struct cv_txn *txn, struct cv_session *s, int *changed)
{
	uint64_t mark = 0, next = 0, expect, n;
	uint8_t kb[CV_STORE_KEY_MAX];
	struct cv_user u;
	struct cv_val k, v;
	size_t klen;
	json_t *ev;
	int r, counts;

	if ((r = cv_meta_get_u64(txn, "pending_next", &next)) != 0 &&
	    r != CV_ENOTFOUND)
		return r;
	if ((r = cv_pending_mark_get(txn, s, &mark)) != 0) {
		if (r != CV_ECRYPTO && r != CV_ENOTFOUND)
			return r;
		if ((r = tamper_event(s, "queue_mark", 0, 0, 0)) != 0)
			return r;
		*changed = 1;
	}
	if (next < mark) {
		if ((r = tamper_event(s, "queue_rewound", 0, 0, mark - next)) !=
		    0)
			return r;
		*changed = 1;
	}
	expect = mark + 1;
	while ((r = cv_store_first(txn, CV_DB_PENDING, NULL, 0, &k, &v)) == 0) {
		/* A copy: the entry is deleted once its event is committed. */
		klen = k.len;
		memcpy(kb, k.data, klen);
		n = klen == 8 ? cv_get_be64(kb) : 0;
		if (n != 0 && n > expect && n <= next &&
		    (r = tamper_event(s, "queue_gap", 0, expect, n - expect)) !=
		        0)
			return r;
		if (n != 0 && n >= expect && n <= next) {
			expect = n + 1;
			r = queued_failure(txn, s, &v, n, &u, &counts, &ev);
		} else {
			r = CV_ECORRUPT; /* at or below the mark, or beyond */
		}
		if (r == 0 && (r = cv_event_commit(s, ev, 0, NULL)) == 0 &&
		    counts)
			r = count_signed(txn, s, &u);
		else if (r == CV_ECORRUPT)
			r = tamper_event(s, "queue_entry", 0, n, 0);
		if (r != 0)
			return r;
		if ((r = cv_del(txn, CV_DB_PENDING, kb, klen)) != 0)
			return r;
		*changed = 1;
	}
	if (r != CV_ENOTFOUND)
		return r;
	if (next >= expect) {
		/* The newest entries are gone. */
		if ((r = tamper_event(
		         s, "queue_gap", 0, expect, next - expect + 1)) != 0)
			return r;
		*changed = 1;
	}
	if (next < mark) {
		if ((r = cv_meta_put_u64(txn, "pending_next", mark)) != 0)
			return r;
		next = mark;
	}
	if (next != mark || *changed)
		*changed = 1;
	return cv_pending_mark_put(txn, s, next);
}

/*
 * A write is audited before its store transaction commits. If the process
 * died in between, the trail names a change that never happened: close it
 * with a recorded follow-up (gate/outcome.h), as every writer does first.
 */
static int
recover_outcome(struct cv_txn *txn, struct cv_session *s, int *changed)
{
	return cv_outcome_settle(txn, s, changed);
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

/*
 * A refused login at AT, queued for the trail. A wrong passphrase also
 * counts against the account, in the same transaction.
 */
static void
login_refused(
    struct cv_store *st, const struct cv_user *u, const char *why, uint64_t at)
{
	(void)pending_put(st, u, why, strcmp(why, "wrong-passphrase") == 0, at);
}

/*
 * The passphrase opened the slot of account U, but U is not what casevault
 * wrote. The keys are unlocked, so the refusal is signed into the trail at
 * once rather than queued; it names the account by id, and not by the role
 * the edited row claims.
 */
static int
edited_refused(struct cv_session *s, const struct cv_user *u)
{
	json_t *ev;
	int r;

	snprintf(s->actor, sizeof(s->actor), "u%u", (unsigned)u->id);
	if ((ev = cv_event_new(s, "session.open")) == NULL)
		return CV_ENOMEM;
	json_object_del(ev, "role");
	json_object_set_new(ev, "decision", json_string("deny"));
	json_object_set_new(ev, "rule", json_string("account-edited"));
	json_object_set_new(ev, "outcome", json_string("failure"));
	json_object_set_new(ev, "account", json_integer((json_int_t)u->id));
	json_object_set_new(ev, "kind", json_string("account_edited"));
	if ((r = cv_event_commit(s, ev, 0, NULL)) != 0)
		return r;
	cv_error_set("account u%u was changed outside casevault (its MAC "
	             "does not match): login refused",
	    (unsigned)u->id);
	return CV_ECRYPTO;
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

/*
 * The time the back-off is judged and a failure recorded by: the vault's
 * time (gate/clock.h), from the trail read without its key, as no key is
 * unlocked yet. Failures made while the clock is set back so count from
 * the trail's time, and moving the clock about below it ends no back-off.
 * A trail that cannot be read leaves the system clock: the login then
 * fails anyway, when the trail is opened for writing.
 */
static void
login_clock(const char *dir, uint64_t *now, uint64_t *behind)
{
	struct cv_auditlog *a = NULL;
	uint64_t t, b;

	*now = cv_now_ms();
	*behind = 0;
	if (cv_auditlog_open(dir, NULL, &a) != 0)
		return;
	if (cv_clock_now(a, &t, &b) == 0) {
		*now = t;
		*behind = b;
	}
	cv_auditlog_close(a);
}

static int
clean_trail(void *dir)
{
	return cv_auditlog_clean(dir);
}

/* How a login is made: the open of one process, or the daemon's unlock. */
enum login_kind {
	LOGIN_EMBEDDED, /* cv_session_open: the session holds the vault */
	LOGIN_UNLOCK,   /* cv_vault_unlock: a custodian unlocks the daemon */
};

#define SERVED_MESSAGE                                                         \
	"this vault is served: log in through casevaultd, the daemon that "    \
	"holds its keys (only a key custodian opens it directly)"

/*
 * The vault's files, opened for S: checked to be the owner's alone, spare
 * packs of a writer that died removed, the store opened and its vault id
 * and KEK generation read.
 */
static int
vault_files_open(struct cv_session *s, const char *dir, uint64_t *gen)
{
	struct cv_txn *txn = NULL;
	struct cv_val v;
	int r;

	if ((r = vault_safe(dir)) != 0)
		return r;
	/* Temporary packs left by a writer that died: removed only while
	 * no one else has the vault open, as a live writer keeps spares.
	 * Housekeeping: only a link in the trail's place refuses. */
	if ((r = cv_store_when_alone(dir, clean_trail, s->dir)) == CV_EUNSAFE)
		return r;
	if ((r = cv_store_open(dir, &s->st)) != 0)
		return r;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_get(txn, CV_DB_META, "vault_id", 8, &v)) != 0 ||
	    v.len != CV_VAULTIDBYTES) {
		r = CV_ECORRUPT;
		goto out;
	}
	memcpy(s->vault_id, v.data, CV_VAULTIDBYTES);
	r = cv_meta_get_u64(txn, "kek_gen", gen);
out:
	cv_txn_abort(txn);
	return r;
}

/* The back-off of U at NOW: CV_ELOCKED while it lasts, else 0. */
static int
backoff_check(const struct cv_user *u, uint64_t now)
{
	/* Neither count is trusted before the account's MAC is checked,
	 * but the signed one cannot be lowered without breaking it. */
	uint64_t wait = backoff_seconds(u->failures > u->signed_failures
	                        ? u->failures
	                        : u->signed_failures) *
	    1000;

	return wait > 0 && now < u->last_failure + wait ? CV_ELOCKED : 0;
}

static void
behind_note(uint64_t behind)
{
	if (behind > CV_CLOCK_TOLERANCE_MS)
		cv_error_set("the system clock is %llu s behind the audit "
		             "trail; the back-off runs on the trail's time",
		    (unsigned long long)(behind / 1000));
}

/*
 * The passphrase check of an open, before any key is unlocked: one
 * Argon2id. An account with a keyslot is checked by opening it (the AEAD
 * under the wrap key derived from PASS), which unlocks the root key into
 * S as well; one without (disabled, or a staff account of a served vault)
 * by its verifier, and then refused. MODE is the mode the store claims.
 * Every refusal is queued for the trail.
 */
static int
open_check(struct cv_session *s, const struct cv_user *u, const char *pass,
    size_t passlen, int mode, enum login_kind kind, uint64_t now)
{
	struct cv_txn *txn = NULL;
	int r, slot;

	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((slot = cv_slot_exists(txn, u->name)) == 1)
		slot = cv_slot_open(txn, s, u->name, pass, passlen);
	else if (slot == 0)
		slot = CV_EDISABLED;
	cv_txn_abort(txn);
	if (slot == CV_EDISABLED) {
		/* No slot: the verifier is the one Argon2id. */
		if ((r = cv_passphrase_verify(u->hash, pass, passlen)) != 0) {
			if (r == CV_EAUTH)
				login_refused(
				    s->st, u, "wrong-passphrase", now);
			return r;
		}
	} else if (slot == CV_ECRYPTO) {
		/* The slot did not open: a wrong passphrase (or a slot
		 * altered, which the account's MAC would refuse anyway). */
		login_refused(s->st, u, "wrong-passphrase", now);
		return CV_EAUTH;
	} else if (slot != 0) {
		return slot;
	}
	if (u->disabled) {
		login_refused(s->st, u, "account-disabled", now);
		return CV_EDISABLED;
	}
	if (mode == CV_MODE_SERVED && !u->custodian) {
		login_refused(s->st, u, "served", now);
		if (kind == LOGIN_UNLOCK) {
			cv_error_set("only a key custodian unlocks the vault");
			return CV_EDENIED;
		}
		cv_error_set(SERVED_MESSAGE);
		return CV_ESERVED;
	}
	/* An account with no slot that is not disabled: nothing to open. */
	return slot;
}

/* Stops the scan at the first event: 1 when it records a mode. */
static int
init_has_mode(const json_t *ev, void *arg)
{
	(void)arg;
	return json_object_get(ev, "mode") != NULL ? 1 : 2;
}

/*
 * The vault's mode, authenticated, into *MODE. A vault made before modes
 * has none and is embedded; one whose first event records its mode must
 * have it, so removing it is not a way back to embedded custody.
 */
static int
mode_checked(struct cv_txn *txn, struct cv_session *s, int *mode)
{
	int r;

	if ((r = cv_mode_get(txn, s, mode)) != CV_ENOTFOUND)
		return r;
	r = cv_auditlog_scan(s->audit, 0, 2, init_has_mode, NULL);
	if (r == 2)
		return 0;
	if (r == 1) {
		cv_error_set("the vault's mode was removed from its store");
		return CV_ECRYPTO;
	}
	return r == 0 ? CV_ECORRUPT : r;
}

/*
 * The account refused after the keys were unlocked: its MAC is checked,
 * so its flags are believed. Signed at once, as edited_refused is.
 */
static int
unlocked_refused(struct cv_session *s, const struct cv_user *u,
    const char *action, const char *rule)
{
	json_t *ev;

	snprintf(s->actor, sizeof(s->actor), "u%u", (unsigned)u->id);
	snprintf(s->role, sizeof(s->role), "%s", u->role);
	if ((ev = cv_event_new(s, action)) == NULL)
		return CV_ENOMEM;
	json_object_set_new(ev, "decision", json_string("deny"));
	json_object_set_new(ev, "rule", json_string(rule));
	json_object_set_new(ev, "outcome", json_string("failure"));
	return cv_event_commit(s, ev, 0, NULL);
}

/* The successful login ACTION, with the failure count of the account it
 * saw; MAINTENANCE for a custodian's direct open of a served vault. */
static int
login_record_as(struct cv_session *s, const char *action,
    uint32_t failures_seen, int maintenance)
{
	json_t *ev;

	if ((ev = cv_event_new(s, action)) == NULL)
		return CV_ENOMEM;
	json_object_set_new(ev, "decision", json_string("allow"));
	json_object_set_new(ev, "outcome", json_string("success"));
	json_object_set_new(
	    ev, "failures_seen", json_integer((json_int_t)failures_seen));
	if (maintenance)
		json_object_set_new(ev, "maintenance", json_true());
	return cv_event_commit(s, ev, 0, NULL);
}

/*
 * Unlocked: settle what waits for a writer, then record the login as
 * ACTION, in one write transaction. The account's failures start again.
 */
static int
login_settle(
    struct cv_session *s, const char *action, int check_anchor, int maintenance)
{
	struct cv_txn *txn = NULL;
	struct cv_user u;
	int r, changed = 0, first = 0;

	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, &txn)) != 0)
		return r;
	/* Store and trail must agree before anything is appended: a refused
	 * open changes neither. */
	if (check_anchor && (r = cv_anchor_check(txn, s, &first)) != 0)
		goto out;
	if ((r = pending_flush(txn, s, &changed)) != 0 ||
	    (r = recover_outcome(txn, s, &changed)) != 0)
		goto out;
	/* The flush may have counted failures of this account as signed. */
	if ((r = cv_user_get_checked(txn, s, s->user, &u)) != 0)
		goto out;
	if (u.failures < u.signed_failures &&
	    (r = tamper_event(s, "failures_reset", u.id, 0,
	         u.signed_failures - u.failures)) != 0)
		goto out;
	if ((r = login_record_as(s, action, u.failures, maintenance)) != 0)
		goto out;
	if (u.failures > 0 || u.signed_failures > 0) {
		u.failures = 0;
		u.last_failure = 0;
		u.signed_failures = 0;
		if ((r = cv_user_put(txn, s, &u)) != 0)
			goto out;
	}
	/* A store made before anchors gets one, said in the trail. */
	if (first && (r = cv_session_record(s, "vault.anchor")) != 0)
		goto out;
	if ((r = cv_anchor_advance(txn, s)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	return r;
}

/*
 * A session opened with a one-time passphrase (cv_user_reset) works under
 * an empty policy set in place of the vault's: deny by default, so only
 * the built-in rules about oneself apply, changing one's passphrase among
 * them. Its events say so ("reset_credential") and name the empty set.
 */
static int
reset_restrict(struct cv_session *s)
{
	struct cv_policy_set *none;
	uint8_t h[32];
	int r;

	if ((r = cv_policy_set_new(&none)) != 0)
		return r;
	if (cv_session_owns_policy(s))
		cv_policy_store_free(s->policy);
	s->policy = none;
	cv_policy_set_hash(none, h);
	sodium_bin2hex(s->policy_hash, sizeof(s->policy_hash), h, sizeof(h));
	s->reset_credential = 1;
	return 0;
}

/*
 * The keys are unlocked in S: attach the trail, believe the account USER
 * only once its MAC matches, check the vault's mode and what KIND of
 * login may proceed in it, and load the policy set.
 */
static int
unlocked(struct cv_session *s, const char *user, enum login_kind kind,
    uint64_t gen, int *mode)
{
	struct cv_txn *txn = NULL;
	struct cv_user u;
	int r;

	cv_keys_derive(s->keys, gen);
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	/* The trail's keys, as a root rotation kept them. */
	if ((r = cv_keys_kept_load(txn, s)) != 0 ||
	    (r = audit_attach(txn, s)) != 0)
		goto out;
	/* The account as it is now, checked against its MAC before its role
	 * or flags are believed. */
	if ((r = cv_user_get(txn, user, &u)) != 0)
		goto out;
	if ((r = cv_user_check(txn, s, &u)) == CV_ECRYPTO) {
		r = edited_refused(s, &u);
		goto out;
	}
	if (r != 0)
		goto out;
	if (u.disabled) {
		r = CV_EDISABLED;
		goto out;
	}
	if ((r = mode_checked(txn, s, mode)) != 0)
		goto out;
	if (*mode == CV_MODE_SERVED && !u.custodian) {
		/* A staff slot in a served vault: none should be left. */
		if ((r = unlocked_refused(s, &u, "session.open", "served")) ==
		    0) {
			cv_error_set(SERVED_MESSAGE);
			r = CV_ESERVED;
		}
		goto out;
	}
	if (kind == LOGIN_UNLOCK && !u.custodian) {
		if ((r = unlocked_refused(
		         s, &u, "vault.unlock", "not-custodian")) == 0) {
			cv_error_set("only a key custodian unlocks the vault");
			r = CV_EDENIED;
		}
		goto out;
	}
	if (kind == LOGIN_UNLOCK && u.reset) {
		if ((r = unlocked_refused(
		         s, &u, "vault.unlock", "reset-credential")) == 0) {
			cv_error_set("change the one-time passphrase first");
			r = CV_EDENIED;
		}
		goto out;
	}
	cv_session_set_user(s, &u);
	cv_txn_abort(txn);
	txn = NULL;
	if ((r = cv_policy_store_load(s)) == 0 && u.reset)
		r = reset_restrict(s);
out:
	cv_txn_abort(txn);
	return r;
}

/*
 * Open the vault in DIR as USER: one code path for cv_session_open and
 * cv_vault_unlock. On success *OUT owns the store, the trail and the keys.
 */
static int
login_open(const char *dir, const char *user, const char *pass, size_t passlen,
    enum login_kind kind, struct cv_session **out, int *modep)
{
	struct cv_session *s = NULL;
	struct cv_user u;
	struct cv_txn *txn = NULL;
	uint64_t gen, now, behind;
	int r, mode = CV_MODE_EMBEDDED;
	char dummy[CV_ENCODED_MAX];

	*out = NULL;
	if (passlen > CV_PASSPHRASE_MAX)
		return CV_EAUTH;
	if ((r = cv_session_new(dir, &s)) != 0)
		return r;
	if ((r = vault_files_open(s, dir, &gen)) != 0)
		goto out;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		goto out;
	r = cv_user_get(txn, user, &u);
	/* Unauthenticated: it only chooses a refusal, which an edit can
	 * cause anyway; the mode is checked once the keys are unlocked. */
	(void)cv_mode_peek(txn, &mode);
	cv_txn_abort(txn);
	txn = NULL;
	/* Read for an unknown user too: the two paths cost the same. */
	login_clock(dir, &now, &behind);
	if (r == CV_ENOTFOUND) {
		/* Cost the same as a real check; name no one. */
		cv_passphrase_hash(pass, passlen, dummy);
		login_refused(s->st, &u, "unknown-user", now);
		r = CV_EAUTH;
		goto out;
	}
	if (r != 0)
		goto out;
	if ((r = backoff_check(&u, now)) != 0) {
		login_refused(s->st, &u, "backoff", now);
		behind_note(behind);
		goto out;
	}
	if ((r = open_check(s, &u, pass, passlen, mode, kind, now)) != 0)
		goto out;
	if ((r = unlocked(s, user, kind, gen, &mode)) != 0)
		goto out;
	if ((r = login_settle(s,
	         kind == LOGIN_UNLOCK ? "vault.unlock" : "session.open", 1,
	         kind == LOGIN_EMBEDDED && mode == CV_MODE_SERVED)) != 0)
		goto out;
	s->opened = 1;
	*modep = mode;
	*out = s;
	s = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	sodium_memzero(dummy, sizeof(dummy));
	cv_session_close(s);
	return r;
}

int
cv_session_open(const char *dir, const char *user, const char *pass,
    size_t passlen, struct cv_session **out)
{
	int mode;

	cv_error_clear();
	return login_open(dir, user, pass, passlen, LOGIN_EMBEDDED, out, &mode);
}

/* ---- served mode: the daemon's vault ---- */

int
cv_vault_unlock(const char *dir, const char *custodian, const char *pass,
    size_t passlen, struct cv_vault **out)
{
	struct cv_session *s = NULL;
	struct cv_vault *v;
	int r, mode;

	cv_error_clear();
	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->policy = calloc(1, sizeof(*v->policy))) == NULL) {
		free(v);
		return CV_ENOMEM;
	}
	if ((r = login_open(dir, custodian, pass, passlen, LOGIN_UNLOCK, &s,
	         &mode)) != 0) {
		free(v->policy);
		free(v);
		return r;
	}
	pthread_mutex_init(&v->mu, NULL);
	/* The custodian's session holds the vault's own reference. */
	v->policy->set = s->policy;
	memcpy(v->policy->hash, s->policy_hash, sizeof(v->policy->hash));
	v->policy->refs = 1;
	s->policy_ref = v->policy;
	s->vault = v;
	v->own = s;
	v->mode = mode;
	*out = v;
	return 0;
}

/*
 * A new session of V for PEER (may be NULL): it borrows V's store and
 * trail, copies V's root key and takes a reference to V's policy set.
 */
static int
vault_session(
    struct cv_vault *v, const struct cv_peer *peer, struct cv_session **out)
{
	struct cv_session *s;
	int r;

	if ((r = cv_session_new(v->own->dir, &s)) != 0)
		return r;
	memcpy(s->vault_id, v->own->vault_id, CV_VAULTIDBYTES);
	/* The root key and the trail's kept keys. */
	memcpy(s->keys, v->own->keys, sizeof(*s->keys));
	s->st = v->own->st;
	s->audit = v->own->audit;
	s->vault = v;
	s->borrowed = 1;
	if (peer != NULL) {
		s->peer = *peer;
		s->has_peer = 1;
	}
	pthread_mutex_lock(&v->mu);
	s->policy_ref = v->policy;
	v->policy->refs++;
	v->sessions++;
	pthread_mutex_unlock(&v->mu);
	s->policy = s->policy_ref->set;
	memcpy(s->policy_hash, s->policy_ref->hash, sizeof(s->policy_hash));
	*out = s;
	return 0;
}

/*
 * A refused login of the daemon, for reason WHY at NOW: its keys are
 * unlocked, so it is signed into the trail at once, as the queue's flush
 * would have built it. A wrong passphrase counts against U (id 0: an
 * unknown name, never recorded) in its MACed row, signed.
 */
static int
served_refused(struct cv_session *s, const struct cv_user *u, const char *why,
    uint64_t now)
{
	struct cv_txn *txn = NULL;
	struct cv_user cur;
	json_t *ev;
	int r, known = 0;

	if (u->id != 0)
		snprintf(s->actor, sizeof(s->actor), "u%u", (unsigned)u->id);
	else
		snprintf(s->actor, sizeof(s->actor), "unknown");
	s->role[0] = '\0';
	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, &txn)) != 0)
		return r;
	if (u->id != 0) {
		if ((r = cv_user_get_checked(txn, s, u->name, &cur)) == 0)
			known = 1;
		else if (r != CV_ECRYPTO)
			goto out;
	}
	if ((ev = cv_event_new(s, "session.open")) != NULL) {
		/* The role only from an account that is what casevault
		 * wrote. */
		if (known)
			json_object_set_new(ev, "role", json_string(cur.role));
		else
			json_object_del(ev, "role");
		json_object_set_new(ev, "decision", json_string("deny"));
		json_object_set_new(ev, "rule", json_string(why));
		json_object_set_new(ev, "outcome", json_string("failure"));
	}
	if ((r = cv_event_commit(s, ev, 0, NULL)) != 0)
		goto out;
	if (strcmp(why, "wrong-passphrase") == 0) {
		if (!known) {
			r = tamper_event(s, "account_edited", u->id, 0, 0);
			goto out;
		}
		cur.failures++;
		cur.signed_failures++;
		cur.last_failure = now;
		if ((r = cv_user_put(txn, s, &cur)) != 0)
			goto out;
	}
	r = cv_txn_commit(txn);
	txn = NULL;
out:
	if (txn != NULL) {
		/* The event stays; the count was not written. */
		if (r == 0)
			r = cv_txn_commit(txn);
		else
			cv_txn_abort(txn);
	}
	return r;
}

/* The check of cv_vault_login before the session is made: 0 or a code. */
static int
served_check(struct cv_session *s, const char *user, const char *pass,
    size_t passlen, struct cv_user *u)
{
	struct cv_txn *txn = NULL;
	uint64_t gen, now, behind;
	char dummy[CV_ENCODED_MAX];
	int r, e;

	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_meta_get_u64(txn, "kek_gen", &gen)) != 0) {
		cv_txn_abort(txn);
		return r;
	}
	e = cv_user_get(txn, user, u);
	cv_txn_abort(txn);
	/* The generation now: a rotation may have come since the unlock. */
	cv_keys_derive(s->keys, gen);
	if ((r = cv_clock_now(s->audit, &now, &behind)) != 0)
		return r;
	if (e == CV_ENOTFOUND) {
		/* Cost the same as a real check; name no one. */
		cv_passphrase_hash(pass, passlen, dummy);
		sodium_memzero(dummy, sizeof(dummy));
		r = served_refused(s, u, "unknown-user", now);
		return r != 0 ? r : CV_EAUTH;
	}
	if (e != 0)
		return e;
	if (backoff_check(u, now) != 0) {
		r = served_refused(s, u, "backoff", now);
		behind_note(behind);
		return r != 0 ? r : CV_ELOCKED;
	}
	/* The one Argon2id of a login: the account's verifier. */
	if ((r = cv_passphrase_verify(u->hash, pass, passlen)) != 0) {
		if (r == CV_EAUTH &&
		    (r = served_refused(s, u, "wrong-passphrase", now)) == 0)
			r = CV_EAUTH;
		return r;
	}
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	r = cv_user_check(txn, s, u);
	cv_txn_abort(txn);
	if (r == CV_ECRYPTO)
		return edited_refused(s, u);
	if (r != 0)
		return r;
	if (u->disabled) {
		r = served_refused(s, u, "account-disabled", now);
		return r != 0 ? r : CV_EDISABLED;
	}
	return 0;
}

int
cv_vault_login(struct cv_vault *v, const char *user, const char *pass,
    size_t passlen, const struct cv_peer *peer, struct cv_session **out)
{
	struct cv_session *s = NULL;
	struct cv_user u;
	int r;

	cv_error_clear();
	*out = NULL;
	if (passlen > CV_PASSPHRASE_MAX)
		return CV_EAUTH;
	if ((r = vault_session(v, peer, &s)) != 0)
		return r;
	if ((r = served_check(s, user, pass, passlen, &u)) != 0)
		goto out;
	cv_session_set_user(s, &u);
	if (u.reset && (r = reset_restrict(s)) != 0)
		goto out;
	/* The unlock checked the store against the trail, and the daemon
	 * has held the store open since. */
	if ((r = login_settle(s, "session.open", 0, 0)) != 0)
		goto out;
	s->opened = 1;
	*out = s;
	s = NULL;
out:
	cv_session_close(s);
	return r;
}

/* WHY as the reason of a session's end: a short word, else "other". */
static const char *
end_reason(const char *why)
{
	size_t i, n = why != NULL ? strnlen(why, 33) : 0;

	if (n == 0 || n > 32)
		return "other";
	for (i = 0; i < n; i++)
		if ((why[i] < 'a' || why[i] > 'z') && why[i] != '_' &&
		    why[i] != '-')
			return "other";
	return why;
}

void
cv_session_end(struct cv_session *s, const char *why)
{
	json_t *ev;

	cv_error_clear();
	if (s == NULL)
		return;
	if (s->opened && (ev = cv_event_new(s, "session.close")) != NULL) {
		json_object_set_new(ev, "decision", json_string("allow"));
		json_object_set_new(ev, "outcome", json_string("success"));
		json_object_set_new(ev, "reason", json_string(end_reason(why)));
		/* Best effort, as the close's anchor: the session ends. */
		if (cv_event_commit(s, ev, 0, NULL) != 0)
			cv_error_set("the end of the session was not recorded");
	}
	cv_session_close(s);
}

int
cv_vault_reload(struct cv_vault *v)
{
	struct cv_session *own = v->own;
	struct cv_policy_ref *p, *old = own->policy_ref;
	char old_hash[sizeof(own->policy_hash)];
	json_t *ev;
	int r;

	cv_error_clear();
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return CV_ENOMEM;
	memcpy(old_hash, own->policy_hash, sizeof(old_hash));
	/* Into the custodian's session: its set is borrowed, not freed. */
	if ((r = cv_policy_store_load(own)) != 0) {
		free(p);
		return r == CV_ECORRUPT ? CV_EPOLICY : r;
	}
	ev = cv_event_new(own, "policy.reload");
	if (ev != NULL) {
		json_object_set_new(ev, "decision", json_string("allow"));
		json_object_set_new(ev, "outcome", json_string("success"));
		json_object_set_new(ev, "old_policy", json_string(old_hash));
		json_object_set_new(
		    ev, "new_policy", json_string(own->policy_hash));
	}
	if ((r = cv_event_commit(own, ev, 0, NULL)) != 0) {
		/* Not recorded: the old set stays in force. */
		cv_policy_store_free(own->policy);
		own->policy = old->set;
		memcpy(own->policy_hash, old_hash, sizeof(old_hash));
		free(p);
		return r;
	}
	p->set = own->policy;
	memcpy(p->hash, own->policy_hash, sizeof(p->hash));
	p->refs = 1;
	pthread_mutex_lock(&v->mu);
	v->policy = p;
	pthread_mutex_unlock(&v->mu);
	own->policy_ref = p;
	/* Sessions that hold the old set keep it until they end. */
	policy_release(v, old);
	return 0;
}

void
cv_vault_close(struct cv_vault *v)
{
	json_t *ev;

	cv_error_clear();
	if (v == NULL)
		return;
	if ((ev = cv_event_new(v->own, "vault.seal")) != NULL) {
		json_object_set_new(ev, "decision", json_string("allow"));
		json_object_set_new(ev, "outcome", json_string("success"));
	}
	if (cv_event_commit(v->own, ev, 0, NULL) != 0)
		cv_error_set("the seal of the vault was not recorded");
	/* What the sessions shredded leaves the freed pages now that none
	 * is left (best effort: another process may hold the vault). */
	if (v->compact)
		(void)cv_store_compact(v->own->st);
	/* Anchors the store, closes the trail and the store, wipes the
	 * keys and drops the last reference to the policy set. */
	cv_session_close(v->own);
	pthread_mutex_destroy(&v->mu);
	free(v);
}
