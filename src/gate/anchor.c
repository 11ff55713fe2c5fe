/*
 * The store's anchor on the audit trail (see anchor.h).
 *
 * Why it catches what it catches: every committed store write moves the
 * anchor at least to its own event, and every login moves it past the
 * login's event. So a store put back from an older copy has an anchor
 * behind a login that the trail records and a change after that login;
 * and a trail cut back or rewritten no longer holds the commit the store
 * names. What it cannot tell apart: a writer that died between its event
 * and its commit, and a copy of the store taken between a login and that
 * session's first write (the same session's write is then reported as not
 * applied, in the trail, by the next open).
 */
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "base/error.h"
#include "base/util.h"
#include "gate/anchor.h"
#include "model/session.h"
#include "store/sealed.h"
#include "store/store.h"

#define KEY   "anchor"
#define PLAIN (8 + 32 + CV_AUDIT_COMMITBYTES)

static void
bind(const struct cv_session *s, struct cv_bind *b)
{
	memset(b, 0, sizeof(*b));
	b->tag = CV_ANCHOR_TAG;
	b->vault_id = s->vault_id;
	b->key = KEY;
	b->klen = strlen(KEY);
}

int
cv_anchor_get(
    struct cv_txn *txn, const struct cv_session *s, struct cv_audit_pos *pos)
{
	uint8_t m[PLAIN];
	struct cv_bind b;
	struct cv_val v;
	int r;

	if ((r = cv_get(txn, CV_DB_META, KEY, strlen(KEY), &v)) != 0)
		return r;
	if (v.len != PLAIN + CV_SEALOVERHEAD)
		return CV_ECORRUPT;
	bind(s, &b);
	if ((r = cv_sealed_open(s->keys->meta, &b, v.data, v.len, m)) != 0)
		return r;
	pos->size = cv_get_be64(m);
	memcpy(pos->root, m + 8, 32);
	memcpy(pos->commit, m + 40, CV_AUDIT_COMMITBYTES);
	return 0;
}

static int
put(struct cv_txn *txn, struct cv_session *s, const struct cv_audit_pos *pos)
{
	uint8_t m[PLAIN];
	struct cv_bind b;

	cv_put_be64(m, pos->size);
	memcpy(m + 8, pos->root, 32);
	memcpy(m + 40, pos->commit, CV_AUDIT_COMMITBYTES);
	bind(s, &b);
	return cv_sealed_put(txn, CV_DB_META, &b, s->keys->meta, m, PLAIN, 0);
}

int
cv_anchor_advance(struct cv_txn *txn, struct cv_session *s)
{
	struct cv_audit_pos head, cur;
	int r;

	if (cv_auditlog_head(s->audit, &head, NULL) != 0)
		return CV_EAUDIT;
	r = cv_anchor_get(txn, s, &cur);
	if (r == 0 && cur.size >= head.size)
		return 0;
	if (r != 0 && r != CV_ENOTFOUND)
		return r;
	return put(txn, s, &head);
}

int
cv_anchor_reset(struct cv_txn *txn, struct cv_session *s)
{
	struct cv_audit_pos head;

	if (cv_auditlog_head(s->audit, &head, NULL) != 0)
		return CV_EAUDIT;
	return put(txn, s, &head);
}

static int
is_login(const json_t *ev, void *arg)
{
	const char *a = json_string_value(json_object_get(ev, "action"));
	const char *d = json_string_value(json_object_get(ev, "decision"));

	(void)arg;
	return a != NULL && d != NULL && strcmp(a, "session.open") == 0 &&
	    strcmp(d, "allow") == 0;
}

/* An anchor was set: "vault.anchor", or the first event of a vault
 * created with one. */
static int
is_anchoring(const json_t *ev, void *arg)
{
	const char *a = json_string_value(json_object_get(ev, "action"));

	(void)arg;
	if (a == NULL)
		return 0;
	return strcmp(a, "vault.anchor") == 0 ||
	    (strcmp(a, "vault.init") == 0 &&
	        json_is_true(json_object_get(ev, "anchored")));
}

int
cv_anchor_check(struct cv_txn *txn, struct cv_session *s, int *first)
{
	struct cv_audit_pos head, anc;
	uint64_t last_write = 0;
	int r;

	*first = 0;
	if (cv_auditlog_head(s->audit, &head, &last_write) != 0)
		return CV_EAUDIT;
	/* Vault creation records the first event: a trail without a head
	 * was deleted, and a new one is never started here. */
	if (head.size == 0) {
		cv_error_set("the audit trail has no branch");
		return CV_ETRUNC;
	}
	if ((r = cv_anchor_get(txn, s, &anc)) == CV_ENOTFOUND) {
		r = cv_auditlog_scan(
		    s->audit, 0, head.size + 1, is_anchoring, NULL);
		if (r < 0)
			return r;
		if (r > 0) {
			cv_error_set("the store has no anchor, and the trail "
			             "says it had one");
			return CV_EROLLBACK;
		}
		*first = 1;
		return 0;
	}
	if (r != 0)
		return r;
	if ((r = cv_auditlog_holds(s->audit, &anc)) != 0) {
		if (r != CV_EVERIFY)
			return CV_EAUDIT;
		cv_error_set("the store was last committed at event %llu; the "
		             "trail has %llu events and does not hold that "
		             "commit",
		    (unsigned long long)anc.size,
		    (unsigned long long)head.size);
		return CV_ETRUNC;
	}
	if (last_write <= anc.size)
		return 0;
	r = cv_auditlog_scan(s->audit, anc.size, last_write, is_login, NULL);
	if (r < 0)
		return r;
	if (r > 0) {
		cv_error_set("the store was last committed at event %llu; the "
		             "trail records a login and a change to the store "
		             "(event %llu) after it",
		    (unsigned long long)anc.size,
		    (unsigned long long)last_write);
		return CV_EROLLBACK;
	}
	return 0;
}
