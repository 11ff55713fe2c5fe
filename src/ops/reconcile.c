/*
 * The store and the trail reconciled; see reconcile.h.
 *
 * One pass over the trail builds a map keyed by object ("pseudonym/name"),
 * not by event: each write event replaces the entry of every object it
 * names with [seq, version, digest, seen, versions found], so the map
 * holds the latest write of each object and grows with the store, not
 * with the trail. An erasure is kept per case as the seq it took effect
 * at. Then the store is walked once: each object is judged against its
 * entry and marks it seen; an entry left unseen, not erased, is missing.
 *
 * Only the latest write event can be followed by a not_applied outcome
 * (the writer holds the store's write lock from its event to its commit;
 * recovery closes the one left open), so undoing it needs only the
 * entries that one event replaced.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/auditlog.h"
#include "casevault.h"
#include "base/util.h"
#include "model/account.h"
#include "model/binding.h"
#include "model/casemeta.h"
#include "model/caseobj.h"
#include "model/recstore.h"
#include "model/session.h"
#include "ops/reconcile.h"
#include "store/store.h"

#define KEY_MAX     (CV_PSEUDONYM_LEN + 1 + CV_BIND_OBJ_MAX)
#define HEX_MAX     (2 * CV_BIND_DIGESTBYTES + 1)
#define ACCT_PREFIX "user/"

/* The fields of an entry of the map. */
enum { E_SEQ, E_VERSION, E_DIGEST, E_SEEN, E_FOUND };

struct rc {
	struct cv_session *s;
	struct cv_txn *txn;
	json_t *objs;   /* "pseudonym/name" -> entry */
	json_t *erased; /* pseudonym -> seq of the erasure */
	/* What the latest write event replaced, to undo it when it turns
	 * out not applied. */
	uint64_t last_write;
	json_t *undo;        /* key -> the entry it replaced, or null */
	json_t *undo_erased; /* the erasure it replaced, or NULL */
	const char *undo_case;
	char undo_case_buf[CV_PSEUDONYM_LEN + 1];
	/* The case whose key is cached, for the store walk. */
	char key_case[CV_CASE_ID_LEN + 1];
	uint8_t key[CV_KEYBYTES];
	int key_ok;
	json_t *problems;
	uint64_t nproblems, nobjects, nversions;
	int oom;
};

static json_int_t
entry_int(const json_t *e, size_t i)
{
	return json_integer_value(json_array_get(e, i));
}

static void
undo_last(struct rc *c)
{
	const char *k;
	json_t *v;

	json_object_foreach (c->undo, k, v) {
		if (json_is_null(v))
			json_object_del(c->objs, k);
		else
			json_object_set(c->objs, k, v);
	}
	if (c->undo_case != NULL) {
		if (c->undo_erased == NULL)
			json_object_del(c->erased, c->undo_case);
		else
			json_object_set(
			    c->erased, c->undo_case, c->undo_erased);
	}
}

static void
undo_clear(struct rc *c)
{
	json_object_clear(c->undo);
	json_decref(c->undo_erased);
	c->undo_erased = NULL;
	c->undo_case = NULL;
}

/* An account's object name: "user/<uid>", in no case. */
static int
is_account(const char *obj)
{
	return strncmp(obj, ACCT_PREFIX, sizeof(ACCT_PREFIX) - 1) == 0;
}

/*
 * The map key of OBJ: "pseudonym/name" for an object of case P, "@name"
 * for an account (P ignored); nonzero when there is none (an object of no
 * case that is no account, or too long).
 */
static int
map_key(char key[static KEY_MAX], const char *p, const char *obj)
{
	int n;

	if (is_account(obj))
		n = snprintf(key, KEY_MAX, "@%s", obj);
	else if (p != NULL)
		n = snprintf(key, KEY_MAX, "%s/%s", p, obj);
	else
		return -1;
	return n < 0 || n >= KEY_MAX;
}

/*
 * A restore put back the store as it was after event SIZE: an object or
 * account written later may now hold any value written up to SIZE, or be
 * absent (added after the backup). The map keeps only the latest write, so
 * such an entry becomes [SIZE, RESTORED_VERSION, ""]: any stored value of
 * seq up to SIZE passes, until a later event writes it again.
 */
#define RESTORED_VERSION (-1)

static int
restored(struct rc *c, uint64_t size)
{
	const char *k;
	json_t *e, *n;

	json_object_foreach (c->objs, k, e) {
		if ((uint64_t)entry_int(e, E_SEQ) <= size)
			continue;
		if (json_object_get(c->undo, k) == NULL &&
		    json_object_set(c->undo, k, e) != 0)
			return CV_ENOMEM;
		n = json_pack("[I, I, s, b, I]", (json_int_t)size,
		    (json_int_t)RESTORED_VERSION, "", 0, (json_int_t)0);
		if (n == NULL || json_object_set_new(c->objs, k, n) != 0)
			return CV_ENOMEM;
	}
	return 0;
}

static int
collect(const json_t *ev, void *arg)
{
	struct rc *c = arg;
	const char *p = json_string_value(json_object_get(ev, "case"));
	const char *action = json_string_value(json_object_get(ev, "action"));
	const char *outcome = json_string_value(json_object_get(ev, "outcome"));
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
	const json_t *w;
	json_t *prev, *e;
	char key[KEY_MAX];
	size_t i;
	int r;

	if (outcome != NULL && strcmp(outcome, "not_applied") == 0) {
		if ((uint64_t)json_integer_value(
		        json_object_get(ev, "ref_seq")) == c->last_write)
			undo_last(c);
		undo_clear(c);
		return 0;
	}
	if (!json_is_true(json_object_get(ev, "store_write")))
		return 0;
	c->last_write = seq;
	undo_clear(c);
	if (p != NULL && strlen(p) != CV_PSEUDONYM_LEN)
		p = NULL;
	if (p != NULL && action != NULL && strcmp(action, "case.erase") == 0) {
		snprintf(c->undo_case_buf, sizeof(c->undo_case_buf), "%s", p);
		c->undo_case = c->undo_case_buf;
		c->undo_erased = json_incref(json_object_get(c->erased, p));
		if (json_object_set_new(c->erased, p, json_integer(seq)) != 0)
			return CV_ENOMEM;
	}
	if (action != NULL && strcmp(action, "vault.restore") == 0 &&
	    (r = restored(c,
	         (uint64_t)json_integer_value(
	             json_object_get(ev, "backup_size")))) != 0)
		return r;
	json_array_foreach (json_object_get(ev, "writes"), i, w) {
		const char *obj = json_string_value(json_object_get(w, "obj"));
		const char *dig =
		    json_string_value(json_object_get(w, "digest"));
		json_int_t ver =
		    json_integer_value(json_object_get(w, "version"));

		if (obj == NULL || dig == NULL || map_key(key, p, obj) != 0)
			continue;
		prev = json_object_get(c->objs, key);
		if (json_object_get(c->undo, key) == NULL &&
		    json_object_set(c->undo, key, prev ? prev : json_null()) !=
		        0)
			return CV_ENOMEM;
		e = json_pack("[I, I, s, b, I]", (json_int_t)seq, ver, dig, 0,
		    (json_int_t)0);
		if (e == NULL || json_object_set_new(c->objs, key, e) != 0)
			return CV_ENOMEM;
	}
	return 0;
}

static const char *
kind_name(const char *obj)
{
	if (strcmp(obj, CV_BIND_OBJ_CASE) == 0)
		return "case";
	if (is_account(obj))
		return "account";
	if (strncmp(obj, "rec/", 4) == 0)
		return "record";
	switch (obj[0]) {
	case CV_CD_CONSENT:
		return "consent";
	case CV_CD_REQUEST:
		return "request";
	case CV_CD_BREAKGLASS:
		return "breakglass";
	case CV_CD_DISCLOSURE:
		return "disclosure";
	}
	return "unknown";
}

static void
report(struct rc *c, const char *p, const char *obj, const char *id,
    const char *problem)
{
	json_t *o;

	c->nproblems++;
	if (json_array_size(c->problems) >= CV_RECONCILE_REPORT_MAX)
		return;
	/* An account is in no case. */
	o = json_pack("{s:s, s:s, s:s}", "kind", kind_name(obj), "id", id,
	    "problem", problem);
	if (o != NULL && p != NULL &&
	    json_object_set_new(o, "case", json_string(p)) != 0) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL || json_array_append_new(c->problems, o) != 0)
		c->oom = 1;
}

/* The entry of OBJ of case P (an account: P NULL), or NULL. */
static json_t *
entry(struct rc *c, const char *p, const char *obj)
{
	char key[KEY_MAX];

	if (map_key(key, p, obj) != 0)
		return NULL;
	return json_object_get(c->objs, key);
}

/*
 * Judge a stored object whose clear header says VERSION, SEQ, and whose
 * digest is D (OPENED 0: it did not open) against the latest write of it.
 */
static void
judge(struct rc *c, const char *p, const char *obj, uint64_t version,
    uint64_t seq, const uint8_t d[static CV_BIND_DIGESTBYTES], int opened)
{
	json_t *e = entry(c, p, obj);
	char hex[HEX_MAX];
	uint64_t eseq, ever;

	c->nobjects++;
	if (e == NULL) {
		report(c, p, obj, obj, "unaudited");
		return;
	}
	json_array_set_new(e, E_SEEN, json_true());
	eseq = (uint64_t)entry_int(e, E_SEQ);
	if (entry_int(e, E_VERSION) == RESTORED_VERSION) {
		/* Put back by a restore: what the backup held passes. */
		if (seq > eseq)
			report(c, p, obj, obj, "unaudited");
		return;
	}
	ever = (uint64_t)entry_int(e, E_VERSION);
	if (seq < eseq || version < ever) {
		report(c, p, obj, obj, "replayed");
		return;
	}
	if (seq > eseq || version != ever) {
		report(c, p, obj, obj, "unaudited");
		return;
	}
	sodium_bin2hex(hex, sizeof(hex), d, CV_BIND_DIGESTBYTES);
	if (!opened ||
	    strcmp(hex, json_string_value(json_array_get(e, E_DIGEST))) != 0)
		report(c, p, obj, obj, "digest_mismatch");
}

static int
check_case(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct rc *c = arg;
	uint8_t d[CV_BIND_DIGESTBYTES] = {0};
	char id[CV_CASE_ID_LEN + 1], p[CV_PSEUDONYM_LEN + 1];
	struct cv_bind_hdr h = {0, 0};
	int r;

	(void)v;
	if (k->len != CV_CASE_ID_LEN)
		return 0;
	memcpy(id, k->data, CV_CASE_ID_LEN);
	id[CV_CASE_ID_LEN] = '\0';
	cv_pseudonym(c->s->keys->pseudo, id, p);
	r = cv_case_digest(c->txn, c->s, id, &h, d);
	if (r == CV_ENOMEM)
		return r;
	if (r != 0 && v->len >= CV_BIND_HDRBYTES)
		cv_bind_hdr_decode(v->data, &h);
	judge(c, p, CV_BIND_OBJ_CASE, h.version, h.seq, d, r == 0);
	return 0;
}

/* The key of the case whose id starts K into C->key; C->key_ok. */
static void
case_key(struct rc *c, const void *k)
{
	if (memcmp(c->key_case, k, CV_CASE_ID_LEN) == 0)
		return;
	memcpy(c->key_case, k, CV_CASE_ID_LEN);
	c->key_case[CV_CASE_ID_LEN] = '\0';
	c->key_ok = cv_casekey_get(c->txn, c->s, c->key_case, c->key) == 0;
}

static int
check_object(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct rc *c = arg;
	uint8_t d[CV_BIND_DIGESTBYTES] = {0};
	char p[CV_PSEUDONYM_LEN + 1], name[CV_BIND_OBJ_MAX], kind;
	struct cv_bind_hdr h = {0, 0};
	int r = CV_ECRYPTO;

	if (k->len <= CV_CASE_ID_LEN + 1)
		return 0;
	case_key(c, k->data);
	cv_pseudonym(c->s->keys->pseudo, c->key_case, p);
	if (c->key_ok)
		r = cv_casedata_digest(c->s, k, v, c->key, &kind, name, &h, d);
	if (r == CV_ENOMEM)
		return r;
	if (r != 0) {
		size_t n = k->len - CV_CASE_ID_LEN - 1;

		/* Named from its key, judged by its clear header. */
		if (n + 3 > sizeof(name))
			n = sizeof(name) - 3;
		name[0] = ((const char *)k->data)[CV_CASE_ID_LEN];
		name[1] = '/';
		memcpy(name + 2, (const char *)k->data + CV_CASE_ID_LEN + 1, n);
		name[n + 2] = '\0';
		if (v->len >= CV_BIND_HDRBYTES)
			cv_bind_hdr_decode(v->data, &h);
	}
	judge(c, p, name, h.version, h.seq, d, r == 0);
	return 0;
}

static int
check_version(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct rc *c = arg;
	const uint8_t *kb = k->data;
	uint8_t d[CV_BIND_DIGESTBYTES];
	char p[CV_PSEUDONYM_LEN + 1], obj[CV_BIND_OBJ_MAX], id[CV_BIND_OBJ_MAX];
	struct cv_rec_hdr h;
	uint64_t eseq, ever;
	uint32_t rec, ver;
	json_t *e;
	int r;

	(void)v;
	if (k->len != CV_REC_KEYLEN)
		return 0;
	case_key(c, kb);
	cv_pseudonym(c->s->keys->pseudo, c->key_case, p);
	rec = cv_get_be32(kb + CV_CASE_ID_LEN);
	ver = cv_get_be32(kb + CV_CASE_ID_LEN + 4);
	snprintf(obj, sizeof(obj), "rec/%u", (unsigned)rec);
	snprintf(id, sizeof(id), "rec/%u/%u", (unsigned)rec, (unsigned)ver);
	c->nobjects++;
	c->nversions++;
	if ((r = cv_rec_header(c->txn, c->s, c->key_case, rec, ver, &h)) != 0) {
		report(c, p, obj, id, "digest_mismatch");
		return 0;
	}
	if ((e = entry(c, p, obj)) == NULL) {
		report(c, p, obj, id, "unaudited");
		return 0;
	}
	json_array_set_new(e, E_FOUND, json_integer(entry_int(e, E_FOUND) + 1));
	eseq = (uint64_t)entry_int(e, E_SEQ);
	ever = (uint64_t)entry_int(e, E_VERSION);
	if (ver > ever || (ver < ever && h.seq >= eseq)) {
		report(c, p, obj, id, "unaudited");
		return 0;
	}
	if (ver < ever)
		return 0; /* an older version, superseded */
	json_array_set_new(e, E_SEEN, json_true());
	if (h.seq != eseq) {
		report(c, p, obj, id, h.seq < eseq ? "replayed" : "unaudited");
		return 0;
	}
	r = c->key_ok
	    ? cv_rec_digest(c->txn, c->s, c->key_case, rec, ver, c->key, obj, d)
	    : CV_ECRYPTO;
	if (r == CV_ENOMEM)
		return r;
	{
		char hex[HEX_MAX];

		if (r == 0)
			sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
		if (r != 0 ||
		    strcmp(hex,
		        json_string_value(json_array_get(e, E_DIGEST))) != 0)
			report(c, p, obj, id, "digest_mismatch");
	}
	return 0;
}

/*
 * An account: judged by the version and seq its MAC binds, and the digest
 * of its bound fields. One whose MAC does not match is not what any event
 * wrote.
 */
static int
check_account(const struct cv_user *u, void *arg)
{
	struct rc *c = arg;
	uint8_t d[CV_BIND_DIGESTBYTES] = {0};
	char obj[CV_BIND_OBJ_MAX];
	int r, ok;

	if (cv_user_obj_name(obj, u->id) != 0)
		return 0;
	if ((r = cv_user_check(c->txn, c->s, u)) != 0 && r != CV_ECRYPTO)
		return r;
	ok = r == 0;
	if (ok && (r = cv_user_digest(c->txn, c->s, u, d)) != 0)
		return r;
	judge(c, NULL, obj, u->version, u->seq, d, ok);
	return 0;
}

/* Every write the trail names and the store does not hold. */
static void
check_missing(struct rc *c)
{
	char p[CV_PSEUDONYM_LEN + 1];
	const char *k, *obj;
	json_t *e, *er;

	json_object_foreach (c->objs, k, e) {
		if (k[0] == '@') {
			/* An account: never removed, only disabled; but
			 * one added after a restored backup is gone. */
			if (!json_is_true(json_array_get(e, E_SEEN)) &&
			    entry_int(e, E_VERSION) != RESTORED_VERSION)
				report(c, NULL, k + 1, k + 1, "missing");
			continue;
		}
		if (strlen(k) <= CV_PSEUDONYM_LEN + 1)
			continue;
		memcpy(p, k, CV_PSEUDONYM_LEN);
		p[CV_PSEUDONYM_LEN] = '\0';
		obj = k + CV_PSEUDONYM_LEN + 1;
		er = json_object_get(c->erased, p);
		if (er != NULL && entry_int(e, E_SEQ) < json_integer_value(er))
			continue; /* removed by the erasure of its case */
		/* As the restored backup held it, or absent. */
		if (entry_int(e, E_VERSION) == RESTORED_VERSION)
			continue;
		if (!json_is_true(json_array_get(e, E_SEEN)))
			report(c, p, obj, obj, "missing");
		else if (strncmp(obj, "rec/", 4) == 0 &&
		    entry_int(e, E_FOUND) != entry_int(e, E_VERSION))
			report(c, p, obj, obj, "missing");
	}
}

int
cv_reconcile(struct cv_session *s, json_t **problems, uint64_t *nproblems,
    uint64_t *nobjects, uint64_t *nversions)
{
	struct rc c;
	int r;

	*problems = NULL;
	*nproblems = *nobjects = *nversions = 0;
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.objs = json_object();
	c.erased = json_object();
	c.undo = json_object();
	c.problems = json_array();
	if (c.objs == NULL || c.erased == NULL || c.undo == NULL ||
	    c.problems == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_auditlog_foreach(s->dir, collect, &c)) != 0) {
		r = r == CV_ENOMEM ? r : CV_EVERIFY;
		goto out;
	}
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &c.txn)) != 0)
		goto out;
	if ((r = cv_store_scan(c.txn, CV_DB_CASES, NULL, 0, check_case, &c)) ==
	        0 &&
	    (r = cv_store_scan(
	         c.txn, CV_DB_CASEDATA, "C", 1, check_object, &c)) == 0 &&
	    (r = cv_store_scan(
	         c.txn, CV_DB_RECORDS, NULL, 0, check_version, &c)) == 0)
		r = cv_user_foreach(c.txn, check_account, &c);
	cv_txn_abort(c.txn);
	if (r != 0)
		goto out;
	check_missing(&c);
	if (c.oom) {
		r = CV_ENOMEM;
		goto out;
	}
	*problems = c.problems;
	c.problems = NULL;
	*nproblems = c.nproblems;
	*nobjects = c.nobjects;
	*nversions = c.nversions;
out:
	sodium_memzero(c.key, sizeof(c.key));
	json_decref(c.objs);
	json_decref(c.erased);
	json_decref(c.undo);
	json_decref(c.undo_erased);
	json_decref(c.problems);
	return r;
}
