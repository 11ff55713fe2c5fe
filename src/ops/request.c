/*
 * Legal-aid requests: create, approve or deny, list, fetch. A request is
 * a sealed per-case object, indexed by its id (model/caseobj.h); each
 * change is a gate decision, audited before it takes effect, and what a
 * fetch releases is read and recorded by the release of disclosure.h.
 */
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/classes.h"
#include "base/error.h"
#include "base/util.h"
#include "gate/clock.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "model/account.h"
#include "model/caseobj.h"
#include "model/session.h"
#include "ops/case_txn.h"
#include "ops/disclosure.h"
#include "rules/consent.h"
#include "store/store.h"

#define HOUR_MS ((uint64_t)3600 * 1000)

/* What a new request is made of, checked before the case is opened. */
struct new_request {
	cv_classmask classes;
	const char *purpose;
};

static void
build_request(struct cv_session *s, const char *id, const void *arg,
    json_t **req, json_t **ev)
{
	const struct new_request *n = arg;

	*req = json_pack("{s:s, s:I, s:s, s:o, s:s, s:s, s:I}", "id", id,
	    "requester", (json_int_t)s->uid, "requester_role", s->role,
	    "classes", cv_classes_json(n->classes), "purpose", n->purpose,
	    "status", "pending", "created", (json_int_t)cv_now_ms());
	*ev = json_pack("{s:s, s:o}", "request", id, "requested_classes",
	    cv_classes_json(n->classes));
}

int
cv_request_create(struct cv_session *s, const char *case_id,
    const json_t *classes, const char *purpose,
    char id[static CV_OBJECT_ID_LEN + 1])
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_REQUEST_CREATE,
	    .op = "request.create",
	    .case_id = case_id,
	    .purpose = purpose,
	    .write = 1};
	struct new_request n = {0, purpose};

	cv_error_clear();
	id[0] = '\0';
	if (cv_classes_parse(classes, &n.classes) != 0) {
		cv_error_set("unknown class in the list");
		return CV_EINVAL;
	}
	if (!cv_consent_purpose_valid(purpose)) {
		cv_error_set("unknown purpose; see docs/consent.md");
		return CV_EINVAL;
	}
	return cv_case_txn_create(s, &q, CV_CD_REQUEST, build_request, &n, id);
}

/* Approve (for HOURS) or deny a pending request. */
static int
decide(
    struct cv_session *s, const char *request_id, int approve, unsigned hours)
{
	struct cv_gate_req q = {
	    .op = approve ? "request.approve" : "request.deny",
	    .who = cv_gate_subject(s),
	    .action = CV_ACTION_APPROVE,
	    .write = 1};
	struct cv_user requester;
	uint8_t key[CV_KEYBYTES];
	char cid[CV_CASE_ID_LEN + 1];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *req = NULL, *consents = NULL, *c, *ev = NULL;
	uint64_t now;
	size_t i;
	int r, cls;

	if (hours == 0)
		hours = CV_REQUEST_HOURS_DEFAULT;
	if (hours > CV_REQUEST_HOURS_MAX) {
		cv_error_set("a request window is at most %d hours",
		    CV_REQUEST_HOURS_MAX);
		return CV_EINVAL;
	}
	/* The consents are judged, and the approval ends, by the vault's
	 * time, as the gate will judge the request. */
	if ((r = cv_clock_session(s, &now)) != 0)
		return r;
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		return r;
	if ((r = cv_casedata_get_indexed(txn, s, request_id, CV_CD_REQUEST, cid,
	         &meta, key, &req)) != 0)
		goto out;
	if (strcmp(json_string_value(json_object_get(req, "status")),
	        "pending") != 0) {
		cv_error_set("the request is not pending");
		r = CV_ESTATE;
		goto out;
	}
	if (approve) {
		/* Approval needs a valid consent for every class, the
		 * purpose and the requester. */
		if ((r = cv_user_by_id(txn,
		         (uint32_t)json_integer_value(
		             json_object_get(req, "requester")),
		         &requester)) != 0 ||
		    (r = cv_user_check(txn, s, &requester)) != 0 ||
		    (r = cv_casedata_list(
		         txn, s, cid, CV_CD_CONSENT, key, &consents)) != 0)
			goto out;
		json_array_foreach (json_object_get(req, "classes"), i, c) {
			cls = cv_class_parse(json_string_value(c));
			if (cv_consent_covers(consents, requester.name,
			        requester.role, cls,
			        json_string_value(
			            json_object_get(req, "purpose")),
			        now, NULL) != CV_CONSENT_VALID) {
				cv_error_set("no valid consent covers class "
				             "%s for this purpose and "
				             "recipient",
				    json_string_value(c));
				r = CV_ESTATE;
				goto out;
			}
		}
	}
	json_object_set_new(
	    req, "status", json_string(approve ? "approved" : "denied"));
	json_object_set_new(req, "decided_by", json_string(s->actor));
	json_object_set_new(req, "decided", json_integer((json_int_t)now));
	if (approve)
		json_object_set_new(req, "until",
		    json_integer((json_int_t)(now + hours * HOUR_MS)));
	q.case_id = cid;
	q.meta = meta;
	ev = json_pack("{s:s}", "request", request_id);
	r = cv_case_txn_decide_put(
	    s, &txn, &q, cid, CV_CD_REQUEST, request_id, key, req, &ev);
out:
	sodium_memzero(key, sizeof(key));
	cv_outcome_end(s, &txn, r);
	json_decref(meta);
	json_decref(req);
	json_decref(consents);
	json_decref(ev);
	return r;
}

int
cv_request_approve(struct cv_session *s, const char *request_id, unsigned hours)
{
	cv_error_clear();
	return decide(s, request_id, 1, hours);
}

int
cv_request_deny(struct cv_session *s, const char *request_id)
{
	cv_error_clear();
	return decide(s, request_id, 0, 0);
}

struct list_ctx {
	json_t *out;
	uint64_t now; /* the vault's time (gate/clock.h) */
};

static int
list_request(struct cv_session *s, struct cv_txn *txn, const char *case_id,
    const json_t *meta, const json_t *req, void *arg)
{
	struct list_ctx *l = arg;
	json_t *o;

	/* One's own requests, and those one's policy lets one decide. */
	if ((uint32_t)json_integer_value(json_object_get(req, "requester")) !=
	        s->uid &&
	    !cv_gate_decide_only(s, txn, CV_ACTION_APPROVE, case_id, meta, -1))
		return 0;
	if ((o = json_deep_copy(req)) == NULL)
		return CV_ENOMEM;
	json_object_set_new(o, "case", json_string(case_id));
	/* Approved, and its window over: it can no longer be fetched. */
	if (strcmp(json_string_value(json_object_get(o, "status")),
	        "approved") == 0 &&
	    (uint64_t)json_integer_value(json_object_get(o, "until")) <= l->now)
		json_object_set_new(o, "status", json_string("expired"));
	json_array_append_new(l->out, o);
	return 0;
}

int
cv_request_list(struct cv_session *s, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_REQUEST_LIST,
	    .op = "request.list"};
	struct cv_gate_res res;
	struct cv_txn *txn;
	struct list_ctx l;
	json_t *arr, *ev = NULL;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_clock_session(s, &l.now)) != 0)
		return r;
	if ((arr = json_array()) == NULL)
		return CV_ENOMEM;
	l.out = arr;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0) {
		json_decref(arr);
		return r;
	}
	/* The listing is recorded as one decision, by its built-in rule. */
	if ((r = cv_casedata_foreach_indexed(
	         txn, s, CV_CD_REQUEST, list_request, &l)) == 0) {
		ev = json_pack(
		    "{s:I}", "count", (json_int_t)json_array_size(arr));
		r = ev == NULL ? CV_ENOMEM
		               : cv_gate_check(s, txn, &q, ev, &res);
	}
	cv_txn_abort(txn);
	json_decref(ev);
	if (r != 0) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return 0;
}

int
cv_request_fetch(struct cv_session *s, const char *request_id, json_t **out)
{
	uint8_t key[CV_KEYBYTES];
	char cid[CV_CASE_ID_LEN + 1];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *req = NULL, *ev, *c;
	cv_classmask m = 0;
	size_t i;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_casedata_get_indexed(txn, s, request_id, CV_CD_REQUEST, cid,
	         &meta, key, &req)) != 0)
		goto out;
	json_array_foreach (json_object_get(req, "classes"), i, c)
		m |= CV_CLASS_BIT(cv_class_parse(json_string_value(c)));
	/* The gate sees only this user's requests: someone else's id, a
	 * pending, denied or expired request all end in a recorded refusal. */
	ev = json_pack("{s:s}", "request", request_id);
	r = cv_disclosure_release(s, txn, cid, meta, "request.fetch",
	    CV_ACTION_READ, m,
	    json_string_value(json_object_get(req, "purpose")), request_id, ev,
	    out);
	json_decref(ev);
	if (r == 0) {
		json_object_set_new(*out, "request", json_string(request_id));
		json_object_set(
		    *out, "purpose", json_object_get(req, "purpose"));
		json_object_set_new(*out, "note",
		    json_string("classes "
		                "outside the approved request, or not covered "
		                "by a valid "
		                "consent for this purpose, are withheld"));
	}
out:
	sodium_memzero(key, sizeof(key));
	cv_txn_abort(txn);
	json_decref(meta);
	json_decref(req);
	return r;
}
