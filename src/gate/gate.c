/*
 * The reference monitor; see gate.h. The order in every path is fixed:
 * gather the facts, decide, make the event durable, and only then open or
 * change anything. A refusal is recorded like an allowance. If the event
 * cannot be recorded the answer is CV_EAUDIT and nothing is shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ops/case.h"
#include "model/caseobj.h"
#include "casevault.h"
#include "rules/consent.h"
#include "rules/forms.h"
#include "gate/gate.h"
#include "rules/policy.h"
#include "model/recstore.h"
#include "ops/record.h"
#include "rules/schema.h"
#include "base/util.h"
#include "model/vault.h"

/* What the gate knows of one case for one session. */
struct facts {
	int on_team;
	json_t *consents;         /* all consents of the case */
	json_t *requests;         /* this user's requests on the case */
	json_t *windows;          /* this user's break-glass windows */
	const char *request_only; /* consider only this request */
	uint64_t now;
};

static void
facts_free(struct facts *f)
{
	json_decref(f->consents);
	json_decref(f->requests);
	json_decref(f->windows);
}

/* Keep only the objects of ARR whose FIELD is this user's id. */
static void
mine(json_t *arr, const char *field, uint32_t uid)
{
	size_t i = 0;

	while (i < json_array_size(arr)) {
		json_t *o = json_array_get(arr, i);
		if (json_integer_value(json_object_get(o, field)) != uid)
			json_array_remove(arr, i);
		else
			i++;
	}
}

static int
facts_load(struct cv_session *s, struct cv_txn *txn, const char *case_id,
    const json_t *meta, const char *request, struct facts *f)
{
	uint8_t key[CV_KEYBYTES];
	int r;

	memset(f, 0, sizeof(*f));
	f->now = cv_now_ms();
	f->request_only = request;
	if (case_id == NULL || meta == NULL)
		return 0;
	f->on_team = cv_case_on_team(meta, s->uid);
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
	         txn, s, case_id, CV_CD_BREAKGLASS, key, &f->windows)) != 0) {
		facts_free(f);
		memset(f, 0, sizeof(*f));
	}
	sodium_memzero(key, sizeof(key));
	if (r == 0) {
		mine(f->requests, "requester", s->uid);
		mine(f->windows, "user", s->uid);
	}
	return r;
}

static int
names_class(const json_t *classes, int cls)
{
	const json_t *c;
	size_t i;

	json_array_foreach (classes, i, c)
		if (json_is_string(c) &&
		    cv_class_parse(json_string_value(c)) == cls)
			return 1;
	return 0;
}

/* The state of this user's requests for CLS and PURPOSE. */
static enum cv_request_state
request_state(
    const struct facts *f, int cls, const char *purpose, const char **id)
{
	enum cv_request_state best = CV_REQUEST_NONE;
	const char *status, *rid, *rp;
	const json_t *o;
	size_t i;

	*id = NULL;
	json_array_foreach (f->requests, i, o) {
		rid = json_string_value(json_object_get(o, "id"));
		rp = json_string_value(json_object_get(o, "purpose"));
		status = json_string_value(json_object_get(o, "status"));
		if (rid == NULL || status == NULL || rp == NULL)
			continue;
		if (f->request_only && strcmp(rid, f->request_only) != 0)
			continue;
		if (!names_class(json_object_get(o, "classes"), cls) ||
		    (purpose != NULL && strcmp(purpose, rp) != 0))
			continue;
		if (strcmp(status, "approved") == 0) {
			if ((uint64_t)json_integer_value(
			        json_object_get(o, "until")) > f->now) {
				*id = rid;
				return CV_REQUEST_APPROVED;
			}
			best = CV_REQUEST_EXPIRED;
		} else if (strcmp(status, "pending") == 0 &&
		    best == CV_REQUEST_NONE) {
			best = CV_REQUEST_PENDING;
		}
	}
	return best;
}

static int
window_open(const struct facts *f, const char **id)
{
	const json_t *o;
	size_t i;

	*id = NULL;
	json_array_foreach (f->windows, i, o) {
		uint64_t from =
		    (uint64_t)json_integer_value(json_object_get(o, "opened"));
		uint64_t until =
		    (uint64_t)json_integer_value(json_object_get(o, "until"));
		if (from <= f->now && f->now < until) {
			*id = json_string_value(json_object_get(o, "id"));
			return 1;
		}
	}
	return 0;
}

struct verdict {
	struct cv_decision d;
	const char *consent;
	const char *request;
	const char *window;
	int used_window;
};

/* Decide ACTION on class CLS (-1: none) from the facts. */
static int
decide(const struct cv_session *s, const struct facts *f, const char *action,
    int cls, const char *purpose, struct verdict *v)
{
	struct cv_access a;
	struct cv_decision without;
	int r;

	memset(v, 0, sizeof(*v));
	if (strcmp(action, "self.passwd") == 0) {
		/* The one built-in rule: anyone may change their own
		 * passphrase (their session already proved they know it). */
		v->d.allow = 1;
		snprintf(
		    v->d.rule, sizeof(v->d.rule), "builtin-own-passphrase");
		return 0;
	}
	memset(&a, 0, sizeof(a));
	a.role = s->role;
	a.action = action;
	a.cls = cls;
	a.on_team = f->on_team;
	if (cls >= 0) {
		a.consent = cv_consent_covers(f->consents, s->user, s->role,
		    cls, purpose, f->now, &v->consent);
		a.request = request_state(f, cls, purpose, &v->request);
	}
	a.breakglass = window_open(f, &v->window);
	if ((r = cv_policy_decide(s->policy, &a, &v->d)) != 0)
		return r;
	if (v->d.allow && a.breakglass) {
		/* Flag the access when the window is what allowed it. */
		a.breakglass = 0;
		if (cv_policy_decide(s->policy, &a, &without) == 0 &&
		    !without.allow)
			v->used_window = 1;
	}
	if (a.consent != CV_CONSENT_VALID)
		v->consent = NULL;
	if (a.request != CV_REQUEST_APPROVED)
		v->request = NULL;
	if (!v->used_window)
		v->window = NULL;
	return 0;
}

static json_t *
class_list(cv_classmask m)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; i < CV_CLASS_COUNT; i++)
		if (m & CV_CLASS_BIT(i))
			json_array_append_new(
			    arr, json_string(cv_class_name((enum cv_class)i)));
	return arr;
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
	struct facts f;
	struct verdict v, first_allow, first_deny;
	int have_allow = 0, have_deny = 0, allow, i, r;
	json_t *ev;

	memset(res, 0, sizeof(*res));
	if ((r = facts_load(s, txn, q->case_id, q->meta, q->request, &f)) != 0)
		return r;
	if (q->classes == 0) {
		if ((r = decide(s, &f, q->access, -1, q->purpose, &v)) != 0)
			goto out;
		allow = v.d.allow;
		first_allow = first_deny = v;
		have_allow = allow;
		have_deny = !allow;
	} else {
		for (i = 0; i < CV_CLASS_COUNT; i++) {
			if (!(q->classes & CV_CLASS_BIT(i)))
				continue;
			if ((r = decide(s, &f, q->access, i, q->purpose, &v)) !=
			    0)
				goto out;
			if (v.d.allow) {
				res->allowed |= CV_CLASS_BIT(i);
				if (!have_allow)
					first_allow = v;
				have_allow = 1;
				res->breakglass |= v.used_window;
			} else {
				res->withheld |= CV_CLASS_BIT(i);
				if (!have_deny)
					first_deny = v;
				have_deny = 1;
			}
		}
		allow = q->partial ? res->allowed != 0 : res->withheld == 0;
	}
	v = allow ? first_allow : first_deny;
	(void)have_allow;
	(void)have_deny;
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
	json_object_set_new(ev, "access", json_string(q->access));
	if (q->case_id != NULL)
		cv_event_case(s, ev, q->case_id);
	if (q->record != 0)
		json_object_set_new(ev, "record", json_integer(q->record));
	if (q->version != 0)
		json_object_set_new(ev, "version", json_integer(q->version));
	if (q->classes != 0) {
		json_object_set_new(ev, "classes", class_list(res->allowed));
		if (res->withheld != 0 && allow)
			json_object_set_new(
			    ev, "withheld", class_list(res->withheld));
		if (!allow)
			json_object_set_new(
			    ev, "refused", class_list(res->withheld));
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
    const char *action, const char *case_id, const json_t *meta, int cls)
{
	struct facts f;
	struct verdict v;
	int allow = 0;

	if (facts_load(s, txn, case_id, meta, NULL, &f) != 0)
		return 0;
	if (decide(s, &f, action, cls, NULL, &v) == 0)
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
	    op, "read", 0, purpose, request, out);
}

int
cv_gate_read_record_as(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, uint32_t record, uint32_t version,
    const char *op, const char *access, cv_classmask only, const char *purpose,
    const char *request, json_t **out)
{
	struct cv_gate_req q = {.op = op,
	    .access = access,
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
	    class_list(withheld | res.withheld));
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
cv_gate_explain(struct cv_session *s, struct cv_txn *txn, const char *action,
    const char *case_id, const json_t *meta, int cls, const char *purpose,
    json_t **out)
{
	struct facts f;
	struct verdict v;
	struct cv_access a;
	const char *cid = NULL, *rid = NULL, *wid = NULL;
	json_t *o = NULL, *ev;
	int r;

	*out = NULL;
	if ((r = facts_load(s, txn, case_id, meta, NULL, &f)) != 0)
		return r;
	if ((r = decide(s, &f, action, cls, purpose, &v)) != 0)
		goto out;
	memset(&a, 0, sizeof(a));
	if (cls >= 0) {
		a.consent = cv_consent_covers(
		    f.consents, s->user, s->role, cls, purpose, f.now, &cid);
		a.request = request_state(&f, cls, purpose, &rid);
	}
	a.breakglass = window_open(&f, &wid);
	{
		static const char *const cs[] = {
		    "none", "valid", "expired", "withdrawn", "wrong_purpose"};
		static const char *const rs[] = {
		    "none", "pending", "approved", "expired"};
		o = json_pack("{s:s, s:s, s:s?, s:b, s:s, s:s, s:b, s:s, s:s, "
		              "s:s}",
		    "action", action, "role", s->role, "class",
		    cls >= 0 ? cv_class_name((enum cv_class)cls) : NULL, "team",
		    f.on_team, "consent", cs[a.consent], "request",
		    rs[a.request], "breakglass", a.breakglass, "decision",
		    v.d.allow ? "allow" : "deny", "rule", v.d.rule, "reason",
		    v.d.reason);
	}
	if (o == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((ev = cv_event_new(s, "policy.explain")) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if (case_id != NULL)
		cv_event_case(s, ev, case_id);
	json_object_set_new(ev, "decision", json_string("allow"));
	json_object_set_new(ev, "outcome", json_string("success"));
	if ((r = cv_event_commit(s, ev, 0, NULL)) != 0)
		goto out;
	*out = o;
	o = NULL;
out:
	json_decref(o);
	facts_free(&f);
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
cv_gate_aggregate(struct cv_session *s, const char *op, const char *access,
    const char *type, const json_t *extra,
    int (*cb)(const char *case_id, const json_t *meta, uint32_t record,
        uint32_t version, const struct cv_rec_hdr *h, const json_t *data,
        void *arg),
    void *arg)
{
	struct cv_gate_req q = {.op = op, .access = access};
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
