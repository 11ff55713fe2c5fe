/*
 * Consent, legal-aid requests, break-glass windows and disclosures on a
 * legal basis. Each is a sealed per-case object (casedata.h); each change
 * is a gate decision, audited before it takes effect; every record that
 * leaves is opened by the gate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "model/casemeta.h"
#include "model/caseobj.h"
#include "ops/case_txn.h"
#include "casevault.h"
#include "base/error.h"
#include "base/classes.h"
#include "rules/consent.h"
#include "gate/gate.h"
#include "model/recstore.h"
#include "rules/schema.h"
#include "store/store.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"

#define HOUR_MS ((uint64_t)3600 * 1000)

static const char *const bases[] = {
    "tpks_police_report", /* UU 12/2022 (TPKS) art. 41: police, 3x24 h */
    "court_order",        /* an order of a court */
    "child_protection",   /* UU 35/2014: a child in danger */
    "medical_emergency",  /* life or health at immediate risk */
    "law_enforcement",    /* a written request under KUHAP */
};

static const char *const recipients[] = {
    "police",
    "court",
    "prosecutor",
    "health_service",
    "social_service",
    "other",
};

static int
in_list(const char *v, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return 1;
	return 0;
}

/* ---- consent ---- */

struct intake_find {
	uint32_t record;
};

static int
find_intake(
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h, void *arg)
{
	struct intake_find *f = arg;

	(void)version;
	if (strcmp(h->type, "intake") == 0)
		f->record = record;
	return 0;
}

int
cv_consent_grant(struct cv_session *s, const char *case_id, const json_t *grant,
    char id[static CV_OBJECT_ID_LEN + 1])
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_CONSENT_GRANT,
	    .op = "consent.grant",
	    .case_id = case_id,
	    .write = 1};
	struct intake_find f = {0};
	struct cv_gate_res res;
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *g = NULL, *intake = NULL, *ev = NULL, *rcp;
	char why[160], t[25], recip[80];
	uint64_t now = cv_now_ms();
	int r, child;

	id[0] = '\0';
	if (!json_is_object(grant))
		return CV_EINVAL;
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	/* The survivor's age decides who may consent: read it through the
	 * gate, like any other read. */
	if ((r = cv_rec_foreach(txn, s, case_id, find_intake, &f)) != 0)
		goto out;
	if (f.record == 0) {
		cv_error_set("the case has no intake record: the survivor's "
		             "age decides who may consent");
		r = CV_ESTATE;
		goto out;
	}
	if ((r = cv_gate_read_record(s, txn, case_id, meta, f.record, 0,
	         "consent.check", NULL, NULL, &intake)) != 0)
		goto out;
	child = cv_schema_child(json_object_get(intake, "data"), now);
	if (child < 0) {
		cv_error_set("the survivor's birth date cannot be read");
		r = CV_ESTATE;
		goto out;
	}
	if ((g = json_deep_copy(grant)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if (json_object_get(g, "from") == NULL) {
		cv_format_time(now, t);
		json_object_set_new(g, "from", json_string(t));
	}
	json_object_set_new(g, "recorded_by", json_string(s->actor));
	if (cv_consent_validate(g, child,
	        cv_schema_perpetrators(json_object_get(intake, "data")), now,
	        why, sizeof(why)) != 0) {
		cv_error_set("%s", why);
		r = CV_EINVAL;
		goto out;
	}
	cv_casedata_id_new('K', id);
	json_object_set_new(g, "id", json_string(id));
	rcp = json_object_get(g, "recipient");
	snprintf(recip, sizeof(recip), "%s",
	    json_object_get(rcp, "role") ? "role" : "user");
	/* The event names the recipient's role or staff id, never a name. */
	ev = json_pack("{s:s, s:O, s:s, s:s}", "consent", id, "consent_classes",
	    json_object_get(g, "classes"), "purpose",
	    json_string_value(json_object_get(g, "purpose")), "grantor",
	    json_string_value(json_object_get(g, "grantor")));
	if (json_object_get(rcp, "role") != NULL) {
		json_object_set(
		    ev, "recipient_role", json_object_get(rcp, "role"));
	} else {
		struct cv_user u;
		if (cv_user_get(txn,
		        json_string_value(json_object_get(rcp, "user")),
		        &u) != 0) {
			cv_error_set("the recipient is not a user of this "
			             "vault");
			r = CV_ENOTFOUND;
			goto out;
		}
		json_object_set_new(
		    ev, "recipient_user", json_sprintf("u%u", (unsigned)u.id));
	}
	q.meta = meta;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	if ((r = cv_casekey_get(txn, s, case_id, key)) != 0 ||
	    (r = cv_casedata_put(txn, s, case_id, CV_CD_CONSENT, id, key, g)) !=
	        0)
		goto out;
	r = cv_case_txn_commit(s, &txn, res.seq);
out:
	sodium_memzero(key, sizeof(key));
	if (txn != NULL)
		cv_txn_abort(txn);
	if (r != 0)
		id[0] = '\0';
	json_decref(meta);
	json_decref(g);
	json_decref(intake);
	json_decref(ev);
	return r;
}

int
cv_consent_withdraw(
    struct cv_session *s, const char *case_id, const char *consent_id)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_CONSENT_WITHDRAW,
	    .op = "consent.withdraw",
	    .case_id = case_id,
	    .write = 1};
	struct cv_gate_res res;
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *k = NULL, *ev = NULL;
	int r;

	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	if ((r = cv_casekey_get(txn, s, case_id, key)) != 0 ||
	    (r = cv_casedata_get(
	         txn, s, case_id, CV_CD_CONSENT, consent_id, key, &k)) != 0)
		goto out;
	if (json_object_get(k, "withdrawn") != NULL) {
		cv_error_set("the consent is already withdrawn");
		r = CV_ESTATE;
		goto out;
	}
	q.meta = meta;
	ev = json_pack("{s:s}", "consent", consent_id);
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	if ((r = cv_consent_mark_withdrawn(k, s->actor, cv_now_ms())) != 0 ||
	    (r = cv_casedata_put(
	         txn, s, case_id, CV_CD_CONSENT, consent_id, key, k)) != 0)
		goto out;
	r = cv_case_txn_commit(s, &txn, res.seq);
out:
	sodium_memzero(key, sizeof(key));
	if (txn != NULL)
		cv_txn_abort(txn);
	json_decref(meta);
	json_decref(k);
	json_decref(ev);
	return r;
}

int
cv_consent_list(struct cv_session *s, const char *case_id, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_READ,
	    .op = "consent.list",
	    .case_id = case_id,
	    .classes = CV_CLASS_BIT(CV_CLASS_CASE_ADMIN)};
	struct cv_gate_res res;
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *list = NULL, *k;
	size_t i;
	int r;

	*out = NULL;
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_RDONLY, &txn, &meta)) !=
	    0)
		return r;
	q.meta = meta;
	if ((r = cv_gate_check(s, txn, &q, NULL, &res)) != 0)
		goto out;
	if ((r = cv_casekey_get(txn, s, case_id, key)) != 0 ||
	    (r = cv_casedata_list(
	         txn, s, case_id, CV_CD_CONSENT, key, &list)) != 0)
		goto out;
	/* The guardian's name is identity data; the list is case admin. */
	json_array_foreach (list, i, k)
		json_object_del(json_object_get(k, "guardian"), "name");
	*out = list;
	list = NULL;
out:
	sodium_memzero(key, sizeof(key));
	cv_txn_abort(txn);
	json_decref(meta);
	json_decref(list);
	return r;
}

/* ---- legal-aid requests ---- */

int
cv_request_create(struct cv_session *s, const char *case_id,
    const json_t *classes, const char *purpose,
    char id[static CV_OBJECT_ID_LEN + 1])
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_REQUEST_CREATE,
	    .op = "request.create",
	    .case_id = case_id,
	    .write = 1};
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *req = NULL, *ev = NULL;
	cv_classmask m;
	int r;

	id[0] = '\0';
	if (cv_classes_parse(classes, &m) != 0) {
		cv_error_set("unknown class in the list");
		return CV_EINVAL;
	}
	if (!cv_consent_purpose_valid(purpose)) {
		cv_error_set("unknown purpose; see docs/consent.md");
		return CV_EINVAL;
	}
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	cv_casedata_id_new('R', id);
	req = json_pack("{s:s, s:I, s:s, s:o, s:s, s:s, s:I}", "id", id,
	    "requester", (json_int_t)s->uid, "requester_role", s->role,
	    "classes", cv_classes_json(m), "purpose", purpose, "status",
	    "pending", "created", (json_int_t)cv_now_ms());
	ev = json_pack("{s:s, s:o}", "request", id, "requested_classes",
	    cv_classes_json(m));
	if (req == NULL || ev == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	q.meta = meta;
	q.purpose = purpose;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	if ((r = cv_casedata_put_indexed(
	         txn, s, case_id, CV_CD_REQUEST, id, req)) != 0)
		goto out;
	r = cv_case_txn_commit(s, &txn, res.seq);
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	if (r != 0)
		id[0] = '\0';
	json_decref(meta);
	json_decref(req);
	json_decref(ev);
	return r;
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
	struct cv_gate_res res;
	struct cv_user requester;
	uint8_t key[CV_KEYBYTES];
	char cid[CV_CASE_ID_LEN + 1];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *req = NULL, *consents = NULL, *c, *ev = NULL;
	uint64_t now = cv_now_ms();
	size_t i;
	int r, cls;

	if (hours == 0)
		hours = CV_REQUEST_HOURS_DEFAULT;
	if (hours > CV_REQUEST_HOURS_MAX) {
		cv_error_set("a request window is at most %d hours",
		    CV_REQUEST_HOURS_MAX);
		return CV_EINVAL;
	}
	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, &txn)) != 0)
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
	q.case_id = cid;
	q.meta = meta;
	ev = json_pack("{s:s}", "request", request_id);
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	json_object_set_new(
	    req, "status", json_string(approve ? "approved" : "denied"));
	json_object_set_new(req, "decided_by", json_string(s->actor));
	json_object_set_new(req, "decided", json_integer((json_int_t)now));
	if (approve)
		json_object_set_new(req, "until",
		    json_integer((json_int_t)(now + hours * HOUR_MS)));
	if ((r = cv_casedata_put(
	         txn, s, cid, CV_CD_REQUEST, request_id, key, req)) != 0)
		goto out;
	r = cv_case_txn_commit(s, &txn, res.seq);
out:
	sodium_memzero(key, sizeof(key));
	if (txn != NULL)
		cv_txn_abort(txn);
	json_decref(meta);
	json_decref(req);
	json_decref(consents);
	json_decref(ev);
	return r;
}

int
cv_request_approve(struct cv_session *s, const char *request_id, unsigned hours)
{
	return decide(s, request_id, 1, hours);
}

int
cv_request_deny(struct cv_session *s, const char *request_id)
{
	return decide(s, request_id, 0, 0);
}

static int
list_request(struct cv_session *s, struct cv_txn *txn, const char *case_id,
    const json_t *meta, const json_t *req, void *arg)
{
	json_t *out = arg, *o;

	/* One's own requests, and those one's policy lets one decide. */
	if ((uint32_t)json_integer_value(json_object_get(req, "requester")) !=
	        s->uid &&
	    !cv_gate_decide_only(s, txn, CV_ACTION_APPROVE, case_id, meta, -1))
		return 0;
	if ((o = json_deep_copy(req)) == NULL)
		return CV_ENOMEM;
	json_object_set_new(o, "case", json_string(case_id));
	json_array_append_new(out, o);
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
	json_t *arr, *ev = NULL;
	int r;

	*out = NULL;
	if ((arr = json_array()) == NULL)
		return CV_ENOMEM;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0) {
		json_decref(arr);
		return r;
	}
	/* The listing is recorded as one decision, by its built-in rule. */
	if ((r = cv_casedata_foreach_indexed(
	         txn, s, CV_CD_REQUEST, list_request, arr)) == 0) {
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

/* A keyed hash of what left, so a disclosed copy can be matched later
 * without the trail holding anything that could be guessed from it. */
static void
disclosed_hash(const struct cv_session *s, const json_t *rec, char out[65])
{
	uint8_t h[32];
	char *text = cv_json_canonical(json_object_get(rec, "data"));

	crypto_generichash(h, sizeof(h), (const uint8_t *)(text ? text : ""),
	    text ? strlen(text) : 0, s->keys->pseudo, CV_KEYBYTES);
	sodium_bin2hex(out, 65, h, sizeof(h));
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
}

/*
 * Open every record of the case through the gate for ACTION (each read is
 * its own decision and event), keep what it allows, and have the gate
 * decide and record the release as a whole: one "disclosure" event for the
 * classes in ONLY, listing the versions released and their keyed hashes.
 */
static int
release(struct cv_session *s, struct cv_txn *txn, const char *case_id,
    const json_t *meta, const char *op, enum cv_action action,
    cv_classmask only, const char *purpose, const char *request,
    const json_t *extra, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = action,
	    .op = "disclosure",
	    .case_id = case_id,
	    .meta = meta,
	    .classes = only,
	    .purpose = purpose,
	    .partial = 1,
	    .request = request};
	struct cv_gate_res res;
	json_t *ids = NULL, *recs = NULL, *hashes = NULL, *rec, *ev = NULL;
	json_t *id, *w;
	cv_classmask withheld = 0;
	char hex[65];
	size_t i, j;
	int r;

	*out = NULL;
	if ((r = cv_rec_list(txn, s, case_id, NULL, &ids)) != 0)
		goto out;
	if ((recs = json_array()) == NULL || (hashes = json_array()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	json_array_foreach (ids, i, id) {
		r = cv_gate_read_record_as(s, txn, case_id, meta,
		    (uint32_t)json_integer_value(json_array_get(id, 0)), 0, op,
		    action, only, purpose, request, &rec);
		if (r == CV_ENOTFOUND)
			continue;
		if (r == CV_EDENIED) {
			/* Refused whole: its classes were withheld. */
			continue;
		}
		if (r != 0)
			goto out;
		json_array_foreach (json_object_get(rec, "withheld"), j, w)
			withheld |=
			    CV_CLASS_BIT(cv_class_parse(json_string_value(w)));
		disclosed_hash(s, rec, hex);
		json_array_append_new(hashes,
		    json_pack("{s:I, s:I, s:s}", "record",
		        json_integer_value(json_object_get(rec, "record")),
		        "version",
		        json_integer_value(json_object_get(rec, "version")),
		        "hash", hex));
		json_array_append_new(recs, rec);
	}
	if (json_array_size(recs) == 0) {
		cv_error_set("nothing the consent, request and policy allow "
		             "was found");
		r = CV_EDENIED;
		goto out;
	}
	/* The gate adds the classes, purpose, rule and request it relied
	 * on; the caller's EXTRA what it knows of the release. */
	if ((ev = extra != NULL ? json_deep_copy(extra) : json_object()) ==
	    NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	json_object_set_new(ev, "via", json_string(op));
	json_object_set_new(ev, "records", hashes);
	hashes = NULL;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	*out = json_pack("{s:s, s:o, s:o}", "case", case_id, "records", recs,
	    "withheld", cv_classes_json(withheld));
	recs = NULL;
	if (*out == NULL)
		r = CV_ENOMEM;
out:
	json_decref(ids);
	json_decref(recs);
	json_decref(hashes);
	json_decref(ev);
	return r;
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
	r = release(s, txn, cid, meta, "request.fetch", CV_ACTION_READ, m,
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

/* ---- break-glass ---- */

int
cv_breakglass_open(struct cv_session *s, const char *case_id,
    const char *reason, unsigned minutes, char id[static CV_OBJECT_ID_LEN + 1])
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_BREAKGLASS_OPEN,
	    .op = "breakglass.open",
	    .case_id = case_id,
	    .write = 1};
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *bg = NULL, *ev = NULL;
	uint64_t now = cv_now_ms();
	size_t n = reason ? strlen(reason) : 0;
	int r;

	id[0] = '\0';
	if (minutes == 0)
		minutes = CV_BREAKGLASS_MINUTES_DEFAULT;
	if (minutes > CV_BREAKGLASS_MINUTES_MAX ||
	    n < CV_BREAKGLASS_REASON_MIN || n > CV_BREAKGLASS_REASON_MAX) {
		cv_error_set("a break-glass window needs a reason of %d to %d "
		             "characters and lasts at most %d minutes",
		    CV_BREAKGLASS_REASON_MIN, CV_BREAKGLASS_REASON_MAX,
		    CV_BREAKGLASS_MINUTES_MAX);
		return CV_EINVAL;
	}
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	cv_casedata_id_new('B', id);
	bg = json_pack("{s:s, s:I, s:I, s:I, s:s, s:b}", "id", id, "user",
	    (json_int_t)s->uid, "opened", (json_int_t)now, "until",
	    (json_int_t)(now + (uint64_t)minutes * 60000), "reason", reason,
	    "reviewed", 0);
	/* The reason stays sealed in the case; the event says only that
	 * there is one. */
	ev = json_pack(
	    "{s:s, s:I}", "breakglass", id, "minutes", (json_int_t)minutes);
	if (bg == NULL || ev == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	q.meta = meta;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	if ((r = cv_casedata_put_indexed(
	         txn, s, case_id, CV_CD_BREAKGLASS, id, bg)) != 0)
		goto out;
	r = cv_case_txn_commit(s, &txn, res.seq);
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	if (r != 0)
		id[0] = '\0';
	json_decref(meta);
	json_decref(bg);
	json_decref(ev);
	return r;
}

struct bg_list {
	json_t *out;
	int all;
};

static int
list_window(struct cv_session *s, struct cv_txn *txn, const char *case_id,
    const json_t *meta, const json_t *obj, void *arg)
{
	struct bg_list *l = arg;
	json_t *o;

	(void)s;
	(void)txn;
	(void)meta;
	if (!l->all && json_is_true(json_object_get(obj, "reviewed")))
		return 0;
	if ((o = json_deep_copy(obj)) == NULL)
		return CV_ENOMEM;
	json_object_set_new(o, "case", json_string(case_id));
	json_object_set_new(o, "kind",
	    json_string(json_string_value(json_object_get(obj, "id"))[0] == 'D'
	            ? "disclosure"
	            : "breakglass"));
	json_array_append_new(l->out, o);
	return 0;
}

int
cv_breakglass_list(struct cv_session *s, unsigned flags, json_t **out)
{
	int all = (flags & CV_BREAKGLASS_ALL) != 0;
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_BREAKGLASS_REVIEW,
	    .op = "breakglass.list"};
	struct cv_gate_res res;
	struct bg_list l = {NULL, all};
	struct cv_txn *txn;
	int r;

	*out = NULL;
	if ((flags & ~CV_BREAKGLASS_ALL) != 0) {
		cv_error_set("unknown flag");
		return CV_EINVAL;
	}
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_gate_check(s, txn, &q, NULL, &res)) != 0)
		goto out;
	if ((l.out = json_array()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_casedata_foreach_indexed(
	         txn, s, CV_CD_BREAKGLASS, list_window, &l)) != 0 ||
	    (r = cv_casedata_foreach_indexed(
	         txn, s, CV_CD_DISCLOSURE, list_window, &l)) != 0)
		goto out;
	*out = l.out;
	l.out = NULL;
out:
	cv_txn_abort(txn);
	json_decref(l.out);
	return r;
}

int
cv_breakglass_review(struct cv_session *s, const char *id)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_BREAKGLASS_REVIEW,
	    .op = "breakglass.review",
	    .write = 1};
	struct cv_gate_res res;
	uint8_t key[CV_KEYBYTES];
	char cid[CV_CASE_ID_LEN + 1];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *obj = NULL, *ev = NULL;
	char kind = id[0] == 'D' ? CV_CD_DISCLOSURE : CV_CD_BREAKGLASS;
	int r;

	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, &txn)) != 0)
		return r;
	if ((r = cv_casedata_get_indexed(
	         txn, s, id, kind, cid, &meta, key, &obj)) != 0)
		goto out;
	if (json_is_true(json_object_get(obj, "reviewed"))) {
		cv_error_set("already reviewed");
		r = CV_ESTATE;
		goto out;
	}
	q.case_id = cid;
	q.meta = meta;
	ev = json_pack("{s:s}",
	    kind == CV_CD_DISCLOSURE ? "disclosure" : "breakglass", id);
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	json_object_set_new(obj, "reviewed", json_true());
	json_object_set_new(obj, "reviewed_by", json_string(s->actor));
	json_object_set_new(
	    obj, "reviewed_at", json_integer((json_int_t)cv_now_ms()));
	if ((r = cv_casedata_put(txn, s, cid, kind, id, key, obj)) != 0)
		goto out;
	r = cv_case_txn_commit(s, &txn, res.seq);
out:
	sodium_memzero(key, sizeof(key));
	if (txn != NULL)
		cv_txn_abort(txn);
	json_decref(meta);
	json_decref(obj);
	json_decref(ev);
	return r;
}

/* ---- disclosure on a legal basis ---- */

int
cv_case_disclose(struct cv_session *s, const char *case_id,
    const json_t *classes, const char *basis, const char *recipient,
    const char *note, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_DISCLOSE,
	    .op = "disclose.decide",
	    .case_id = case_id,
	    .write = 1};
	struct cv_gate_res res;
	char id[12];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *d = NULL, *ev = NULL, *rel = NULL;
	cv_classmask m;
	int r;

	*out = NULL;
	if (cv_classes_parse(classes, &m) != 0) {
		cv_error_set("unknown class in the list");
		return CV_EINVAL;
	}
	if (!in_list(basis, bases, CV_ARRAY_LEN(bases))) {
		cv_error_set("a legal basis is one of tpks_police_report, "
		             "court_order, child_protection, "
		             "medical_emergency, law_enforcement");
		return CV_EINVAL;
	}
	if (!in_list(recipient, recipients, CV_ARRAY_LEN(recipients))) {
		cv_error_set("a recipient is one of police, court, "
		             "prosecutor, health_service, social_service, "
		             "other");
		return CV_EINVAL;
	}
	if (note != NULL && strlen(note) > CV_DISCLOSURE_NOTE_MAX) {
		cv_error_set("the note has at most %d characters",
		    CV_DISCLOSURE_NOTE_MAX);
		return CV_EINVAL;
	}
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	cv_casedata_id_new('D', id);
	ev = json_pack("{s:s, s:s, s:s}", "disclosure", id, "legal_basis",
	    basis, "recipient_kind", recipient);
	/* Every asked class must be allowed: a disclosure is not partial. */
	q.meta = meta;
	q.classes = m;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	if ((r = release(s, txn, case_id, meta, "disclose", CV_ACTION_DISCLOSE,
	         m, NULL, NULL, ev, &rel)) != 0)
		goto out;
	d = json_pack("{s:s, s:I, s:I, s:s, s:s, s:O, s:b}", "id", id, "user",
	    (json_int_t)s->uid, "opened", (json_int_t)cv_now_ms(),
	    "legal_basis", basis, "recipient", recipient, "classes",
	    json_object_get(rel, "withheld"), "reviewed", 0);
	if (d == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	json_object_set_new(d, "classes", cv_classes_json(m));
	if (note != NULL)
		json_object_set_new(d, "note", json_string(note));
	if ((r = cv_casedata_put_indexed(
	         txn, s, case_id, CV_CD_DISCLOSURE, id, d)) != 0)
		goto out;
	if ((r = cv_case_txn_commit(s, &txn, res.seq)) != 0)
		goto out;
	json_object_set_new(rel, "disclosure", json_string(id));
	json_object_set_new(rel, "legal_basis", json_string(basis));
	*out = rel;
	rel = NULL;
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	json_decref(meta);
	json_decref(d);
	json_decref(ev);
	json_decref(rel);
	return r;
}
