/*
 * The reference monitor; see gate.h. The order in every path is fixed:
 * gather the facts, decide (cv_gate_decide, decide.c), make the event
 * durable, and only then open or change anything. A refusal is recorded
 * like an allowance. If the event cannot be recorded the answer is
 * CV_EAUDIT and nothing is shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "model/casemeta.h"
#include "model/caseobj.h"
#include "casevault.h"
#include "base/error.h"
#include "rules/forms.h"
#include "gate/clock.h"
#include "gate/gate.h"
#include "gate/event.h"
#include "model/recstore.h"
#include "rules/schema.h"
#include "base/util.h"
#include "model/session.h"

struct cv_subject
cv_gate_subject(const struct cv_session *s)
{
	struct cv_subject who = {
	    .uid = s->uid, .user = s->user, .role = s->role, .actor = s->actor};

	return who;
}

/* 1 when WHO is the session's own subject. */
static int
is_session(const struct cv_session *s, const struct cv_subject *who)
{
	return who->uid == s->uid && who->role != NULL &&
	    strcmp(who->role, s->role) == 0 && who->user != NULL &&
	    strcmp(who->user, s->user) == 0;
}

/* The facts of one case as read from the store; they own their arrays. */
struct facts {
	struct cv_gate_facts f;
	json_t *consents;
	json_t *requests;
	json_t *windows;
};

static void
facts_free(struct facts *f)
{
	json_decref(f->consents);
	json_decref(f->requests);
	json_decref(f->windows);
	memset(f, 0, sizeof(*f));
}

static int
facts_load(struct cv_session *s, struct cv_txn *txn,
    const struct cv_subject *who, const char *case_id, const json_t *meta,
    struct facts *f)
{
	uint8_t key[CV_KEYBYTES];
	int r;

	memset(f, 0, sizeof(*f));
	/* The vault's time: a clock set back revives nothing. */
	if ((r = cv_clock_session(s, &f->f.now)) != 0)
		return r;
	if (case_id == NULL || meta == NULL)
		return 0;
	f->f.on_team = cv_case_on_team(meta, who->uid);
	r = cv_casekey_get(txn, s, case_id, key);
	if (r == CV_ENOTFOUND) /* a case being opened has no key yet */
		return 0;
	if (r != 0)
		return r;
	if ((r = cv_casedata_list(
	         txn, s, case_id, CV_CD_CONSENT, key, &f->consents)) != 0 ||
	    (r = cv_casedata_list(
	         txn, s, case_id, CV_CD_REQUEST, key, &f->requests)) != 0 ||
	    (r = cv_casedata_list(
	         txn, s, case_id, CV_CD_BREAKGLASS, key, &f->windows)) != 0)
		facts_free(f);
	sodium_memzero(key, sizeof(key));
	f->f.consents = f->consents;
	f->f.requests = f->requests;
	f->f.windows = f->windows;
	return r;
}

static void
set_str(json_t *ev, const char *k, const char *v)
{
	if (v != NULL)
		json_object_set_new(ev, k, json_string(v));
}

int
cv_gate_check(struct cv_session *s, struct cv_txn *txn,
    const struct cv_gate_req *q, const json_t *extra, struct cv_gate_res *res)
{
	struct cv_gate_ask ask = {.action = q->action,
	    .purpose = q->purpose,
	    .request = q->request,
	    .account = q->account,
	    .closes = q->closes};
	struct cv_gate_verdict v, first_allow, first_deny;
	const char *name = cv_gate_action_name(q->action);
	struct facts f;
	int have_allow = 0, allow, i, r;
	json_t *ev;

	memset(res, 0, sizeof(*res));
	if (!is_session(s, &q->who) || name == NULL || q->op == NULL ||
	    (q->classes & ~(cv_classmask)CV_CLASS_ALL) != 0)
		return CV_EINVAL;
	if ((r = facts_load(s, txn, &q->who, q->case_id, q->meta, &f)) != 0)
		return r;
	if (q->classes == 0) {
		ask.cls = -1;
		if ((r = cv_gate_decide(s->policy, &q->who, &f.f, &ask, &v)) !=
		    0)
			goto out;
		allow = v.d.allow;
	} else {
		memset(&first_allow, 0, sizeof(first_allow));
		memset(&first_deny, 0, sizeof(first_deny));
		for (i = 0; i < CV_CLASS_COUNT; i++) {
			if (!(q->classes & CV_CLASS_BIT(i)))
				continue;
			ask.cls = i;
			if ((r = cv_gate_decide(
			         s->policy, &q->who, &f.f, &ask, &v)) != 0)
				goto out;
			if (v.d.allow) {
				res->allowed |= CV_CLASS_BIT(i);
				if (!have_allow)
					first_allow = v;
				have_allow = 1;
				res->breakglass |= v.by_window;
			} else {
				if (res->withheld == 0)
					first_deny = v;
				res->withheld |= CV_CLASS_BIT(i);
			}
		}
		allow = q->partial ? res->allowed != 0 : res->withheld == 0;
		v = allow ? first_allow : first_deny;
	}
	snprintf(res->rule, sizeof(res->rule), "%s", v.d.rule);
	snprintf(res->reason, sizeof(res->reason), "%s", v.d.reason);
	if (!allow) {
		res->allowed = 0;
		res->breakglass = 0;
	}

	if ((ev = cv_event_new(s, q->op)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	json_object_set_new(ev, "access", json_string(name));
	if (q->case_id != NULL)
		cv_event_case(s, ev, q->case_id);
	if (q->record != 0)
		json_object_set_new(ev, "record", json_integer(q->record));
	if (q->version != 0)
		json_object_set_new(ev, "version", json_integer(q->version));
	if (q->account != 0)
		json_object_set_new(
		    ev, "subject", json_sprintf("u%u", (unsigned)q->account));
	if (q->classes != 0) {
		json_object_set_new(
		    ev, "classes", cv_classes_json(res->allowed));
		if (res->withheld != 0 && allow)
			json_object_set_new(
			    ev, "withheld", cv_classes_json(res->withheld));
		if (!allow)
			json_object_set_new(
			    ev, "refused", cv_classes_json(res->withheld));
	}
	set_str(ev, "purpose", q->purpose);
	json_object_set_new(
	    ev, "decision", json_string(allow ? "allow" : "deny"));
	set_str(ev, "rule", res->rule);
	if (!allow)
		set_str(ev, "reason", res->reason);
	if (allow) {
		set_str(ev, "consent", v.consent);
		set_str(ev, "request", v.request);
		set_str(ev, "breakglass", v.window);
	}
	json_object_set_new(
	    ev, "outcome", json_string(allow ? "success" : "refused"));
	if (extra != NULL)
		json_object_update_missing(ev, (json_t *)extra);
	/* A refused write stores nothing: its event names no object. */
	if (!allow || !q->write)
		json_object_del(ev, "writes");
	if ((r = cv_event_commit(s, ev, allow && q->write, &res->seq)) != 0)
		goto out;
	if (!allow) {
		cv_error_set("%s (rule %s)", res->reason, res->rule);
		r = CV_EDENIED;
	}
out:
	facts_free(&f);
	return r;
}

int
cv_gate_decide_only(struct cv_session *s, struct cv_txn *txn,
    enum cv_action action, const char *case_id, const json_t *meta, int cls)
{
	struct cv_subject who = cv_gate_subject(s);
	struct cv_gate_ask ask = {.action = action, .cls = cls};
	struct cv_gate_verdict v;
	struct facts f;
	int allow = 0;

	if (facts_load(s, txn, &who, case_id, meta, &f) != 0)
		return 0;
	if (cv_gate_decide(s->policy, &who, &f.f, &ask, &v) == 0)
		allow = v.d.allow;
	facts_free(&f);
	return allow;
}

int
cv_gate_read_record(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, uint32_t record, uint32_t version,
    const char *op, const char *purpose, const char *request, json_t **out)
{
	return cv_gate_read_record_as(s, txn, case_id, meta, record, version,
	    op, CV_ACTION_READ, 0, purpose, request, out);
}

int
cv_gate_read_record_as(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, uint32_t record, uint32_t version,
    const char *op, enum cv_action action, cv_classmask only,
    const char *purpose, const char *request, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = action,
	    .op = op,
	    .case_id = case_id,
	    .meta = meta,
	    .purpose = purpose,
	    .record = record,
	    .partial = 1,
	    .request = request};
	const struct cv_schema *sc;
	struct cv_gate_res res;
	struct cv_rec_hdr h;
	uint8_t key[CV_KEYBYTES];
	json_t *view = NULL, *rec;
	cv_classmask withheld = 0;
	struct cv_doc doc;
	uint8_t *payload = NULL;
	char t[25];
	size_t len = 0;
	int format, r;

	*out = NULL;
	doc.n = NULL; /* not parsed yet: cv_doc_free does nothing */
	if (version == 0 &&
	    (r = cv_rec_latest(txn, s, case_id, record, &version)) != 0)
		return r;
	if ((r = cv_rec_header(txn, s, case_id, record, version, &h)) != 0)
		return r;
	q.version = version;
	q.classes = only != 0 ? h.classes & only : h.classes;
	if (q.classes == 0)
		return CV_ENOTFOUND; /* nothing of the asked classes in it */
	if ((sc = cv_forms_schema(h.type)) == NULL)
		return CV_ECORRUPT;
	if ((r = cv_gate_check(s, txn, &q, NULL, &res)) != 0)
		return r;

	/* Decided and recorded: now, and only now, open the record. */
	if ((r = cv_casekey_get(txn, s, case_id, key)) != 0)
		goto out;
	if ((r = cv_rec_decrypt(txn, s, case_id, record, version, key, &payload,
	         &len, &format)) != 0)
		goto out;
	/* Parsed into a document over the payload; only what the decision
	 * allows is made into values. */
	if ((r = cv_rec_parse_doc(format, payload, len, &doc)) != 0 ||
	    (r = cv_schema_redact_doc(
	         sc, &doc, res.allowed, &view, &withheld)) != 0)
		goto out;
	cv_format_time(h.time, t);
	rec = json_pack("{s:s, s:I, s:I, s:s, s:I, s:s, s:O, s:o}", "case",
	    case_id, "record", (json_int_t)record, "version",
	    (json_int_t)version, "type", h.type, "author", (json_int_t)h.author,
	    "time", t, "data", view, "withheld",
	    cv_classes_json(withheld | res.withheld));
	if (rec == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if (res.breakglass)
		json_object_set_new(rec, "breakglass", json_true());
	*out = rec;
out:
	sodium_memzero(key, sizeof(key));
	cv_doc_free(&doc);
	if (payload != NULL) {
		sodium_memzero(payload, len);
		free(payload);
	}
	json_decref(view);
	return r;
}

int
cv_gate_explain(struct cv_session *s, struct cv_txn *txn,
    const struct cv_subject *who, enum cv_action action, const char *case_id,
    int cls, const char *purpose, json_t **out)
{
	static const char *const cs[] = {
	    "none", "valid", "expired", "withdrawn", "wrong_purpose"};
	static const char *const rs[] = {
	    "none", "pending", "approved", "expired"};
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .op = "policy.explain",
	    .case_id = case_id,
	    .account = who->uid};
	struct cv_gate_ask ask = {
	    .action = action, .cls = cls, .purpose = purpose};
	const char *name = cv_gate_action_name(action);
	struct cv_gate_verdict v;
	struct cv_gate_res res;
	json_t *meta = NULL;
	struct facts f;
	int r;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	if (name == NULL || who->role == NULL)
		return CV_EINVAL;
	/*
	 * The explainer's decision comes first and is the one recorded: it
	 * is theirs to look, at someone else's access only as an auditor.
	 * The case is looked up only once that is allowed.
	 */
	q.action = who->uid == s->uid ? CV_ACTION_POLICY_EXPLAIN
	                              : CV_ACTION_AUDIT_READ;
	if ((r = cv_gate_check(s, txn, &q, NULL, &res)) != 0)
		return r;
	if (case_id != NULL && (r = cv_case_load(txn, s, case_id, &meta)) != 0)
		return r;
	if ((r = facts_load(s, txn, who, case_id, meta, &f)) != 0 ||
	    (r = cv_gate_decide(s->policy, who, &f.f, &ask, &v)) != 0)
		goto out;
	*out = json_pack("{s:s, s:s, s:s?, s:b, s:s, s:s, s:b, s:s, s:s, s:s}",
	    "action", name, "role", who->role, "class",
	    cls >= 0 ? cv_class_name((enum cv_class)cls) : NULL, "team",
	    f.f.on_team, "consent", cs[v.consent_state], "request",
	    rs[v.request_state], "breakglass", v.breakglass, "decision",
	    v.d.allow ? "allow" : "deny", "rule", v.d.rule, "reason",
	    v.d.reason);
	if (*out == NULL)
		r = CV_ENOMEM;
out:
	facts_free(&f);
	json_decref(meta);
	return r;
}

struct agg_ctx {
	struct cv_session *s;
	struct cv_txn *txn;
	const char *case_id;
	const json_t *meta;
	const char *type;
	const uint8_t *key;
	uint32_t last_record;
	uint32_t last_version;
	int (*cb)(const char *, const json_t *, uint32_t, uint32_t,
	    const struct cv_rec_hdr *, const json_t *, void *);
	void *arg;
	int have;
	struct cv_rec_hdr h;
};

/* Called for each version in key order; deliver each record's last. */
static int
agg_deliver(struct agg_ctx *a)
{
	json_t *data = NULL;
	uint8_t *payload = NULL;
	size_t len = 0;
	int format, r;

	if (!a->have)
		return 0;
	a->have = 0;
	if ((r = cv_rec_decrypt(a->txn, a->s, a->case_id, a->last_record,
	         a->last_version, a->key, &payload, &len, &format)) != 0)
		return r;
	if ((r = cv_rec_parse(format, payload, len, &data)) == 0)
		r = a->cb(a->case_id, a->meta, a->last_record, a->last_version,
		    &a->h, data, a->arg);
	sodium_memzero(payload, len);
	free(payload);
	json_decref(data);
	return r;
}

static int
agg_version(
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h, void *arg)
{
	struct agg_ctx *a = arg;
	int r;

	if (a->type != NULL && strcmp(h->type, a->type) != 0)
		return 0;
	if (a->have && record != a->last_record && (r = agg_deliver(a)) != 0)
		return r;
	a->have = 1;
	a->last_record = record;
	a->last_version = version;
	a->h = *h;
	return 0;
}

struct agg_walk {
	struct cv_session *s;
	struct cv_txn *txn;
	const char *type;
	int (*cb)(const char *, const json_t *, uint32_t, uint32_t,
	    const struct cv_rec_hdr *, const json_t *, void *);
	void *arg;
	uint8_t key[CV_KEYBYTES];
};

/* One case: the last version of each of its records of the type. */
static int
agg_case(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct agg_walk *w = arg;
	struct agg_ctx a;
	char id[CV_CASE_ID_LEN + 1];
	json_t *meta;
	int r;

	(void)v;
	if (k->len != CV_CASE_ID_LEN)
		return 0;
	memcpy(id, k->data, CV_CASE_ID_LEN);
	id[CV_CASE_ID_LEN] = '\0';
	if (cv_case_load(w->txn, w->s, id, &meta) != 0)
		return 0;
	if (json_is_true(json_object_get(meta, "erased")) ||
	    cv_casekey_get(w->txn, w->s, id, w->key) != 0) {
		json_decref(meta);
		return 0;
	}
	memset(&a, 0, sizeof(a));
	a.s = w->s;
	a.txn = w->txn;
	a.case_id = id;
	a.meta = meta;
	a.type = w->type;
	a.key = w->key;
	a.cb = w->cb;
	a.arg = w->arg;
	r = cv_rec_foreach(w->txn, w->s, id, agg_version, &a);
	if (r == 0)
		r = agg_deliver(&a);
	/* A case without records of TYPE is still a case. */
	if (r == 0 && w->type != NULL && a.last_record == 0)
		r = w->cb(id, meta, 0, 0, NULL, NULL, w->arg);
	json_decref(meta);
	sodium_memzero(w->key, sizeof(w->key));
	return r;
}

int
cv_gate_aggregate(struct cv_session *s, const char *op, enum cv_action action,
    const char *type, const json_t *extra,
    int (*cb)(const char *case_id, const json_t *meta, uint32_t record,
        uint32_t version, const struct cv_rec_hdr *h, const json_t *data,
        void *arg),
    void *arg)
{
	struct cv_gate_req q = {
	    .who = cv_gate_subject(s), .action = action, .op = op};
	struct cv_gate_res res;
	struct agg_walk w = {s, NULL, type, cb, arg, {0}};
	int r;

	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &w.txn)) != 0)
		return r;
	if ((r = cv_gate_check(s, w.txn, &q, extra, &res)) != 0)
		goto out;
	r = cv_store_scan(w.txn, CV_DB_CASES, NULL, 0, agg_case, &w);
out:
	sodium_memzero(w.key, sizeof(w.key));
	cv_txn_abort(w.txn);
	return r;
}
