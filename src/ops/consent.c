/*
 * Consent operations: grant, withdraw, list. A consent is a sealed
 * per-case object (model/caseobj.h) checked by the consent rules
 * (rules/consent.h); each change is a gate decision, audited before it
 * takes effect.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/error.h"
#include "base/util.h"
#include "gate/clock.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "model/account.h"
#include "model/casemeta.h"
#include "model/caseobj.h"
#include "model/recstore.h"
#include "model/session.h"
#include "ops/case_txn.h"
#include "rules/consent.h"
#include "rules/schema.h"

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

/*
 * A grant refused because the guardian is, or may be, an alleged
 * perpetrator is put on the audit trail: the event says which, never the
 * name. It is the gate's decision on the grant, so a user who may not
 * grant leaves the usual refusal instead (CV_EDENIED); nothing is
 * written, so the event is no write. Returns 0 or the gate's error.
 */
static int
guardian_refused(struct cv_session *s, struct cv_txn *txn,
    const struct cv_gate_req *grant, json_t *meta, const json_t *g, int child,
    const json_t *perps)
{
	struct cv_gate_req q = *grant;
	struct cv_gate_res res;
	enum cv_guardian_match m;
	json_t *ev;
	int r;

	if (!child || json_object_get(g, "guardian") == NULL)
		return 0;
	m = cv_consent_guardian_match(json_object_get(g, "guardian"), perps);
	if (m == CV_GUARDIAN_CLEAR)
		return 0;
	q.write = 0;
	q.meta = meta;
	/* Whoever may not grant is refused as usual: the event and the
	 * answer say nothing of the intake. */
	if (!cv_gate_decide_only(s, txn, q.action, q.case_id, meta, -1)) {
		if ((r = cv_gate_check(s, txn, &q, NULL, &res)) == 0)
			r = CV_EDENIED; /* cannot happen: same verdict */
		return r;
	}
	ev = json_pack("{s:s, s:s, s:s}", "grantor", "guardian",
	    "grant_outcome", "refused", "refusal",
	    m == CV_GUARDIAN_SAME ? "guardian_alleged_perpetrator"
	                          : "guardian_may_be_perpetrator");
	if (ev == NULL)
		return CV_ENOMEM;
	r = cv_gate_check(s, txn, &q, ev, &res);
	json_decref(ev);
	return r;
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
	const json_t *perps;
	char why[CV_CONSENT_WHY_MIN], t[25], recip[80];
	uint64_t now, version;
	int r, child;

	cv_error_clear();
	id[0] = '\0';
	if (!json_is_object(grant))
		return CV_EINVAL;
	/* A consent's period is checked, and starts, by the vault's time. */
	if ((r = cv_clock_session(s, &now)) != 0)
		return r;
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
	perps = cv_schema_perpetrators(json_object_get(intake, "data"));
	if (cv_consent_validate(g, child, perps, now, why, sizeof(why)) != 0) {
		/* Someone the gate refuses learns nothing of the intake. */
		if ((r = guardian_refused(s, txn, &q, meta, g, child, perps)) ==
		    0) {
			r = CV_EINVAL;
			cv_error_set("%s", why);
		}
		goto out;
	}
	/* Inside the write transaction: the id is free until the put. */
	if ((r = cv_case_txn_new_id(s, txn, case_id, CV_CD_CONSENT, id)) != 0)
		goto out;
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
	if ((r = cv_casedata_stage(
	         txn, s, case_id, CV_CD_CONSENT, id, g, &ev, &version)) != 0)
		goto out;
	q.meta = meta;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	if ((r = cv_casekey_get(txn, s, case_id, key)) != 0)
		goto out;
	r = cv_case_txn_put(
	    s, &txn, case_id, CV_CD_CONSENT, id, key, g, version, res.seq);
out:
	sodium_memzero(key, sizeof(key));
	cv_outcome_end(s, &txn, r);
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
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *k = NULL, *ev = NULL;
	int r;

	cv_error_clear();
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
	if ((r = cv_consent_mark_withdrawn(k, s->actor, cv_now_ms())) != 0)
		goto out;
	q.meta = meta;
	ev = json_pack("{s:s}", "consent", consent_id);
	r = cv_case_txn_decide_put(
	    s, &txn, &q, case_id, CV_CD_CONSENT, consent_id, key, k, &ev);
out:
	sodium_memzero(key, sizeof(key));
	cv_outcome_end(s, &txn, r);
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
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn;
	json_t *meta, *list = NULL, *k;
	size_t i;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_case_txn_begin_read(s, &q, &txn, &meta)) != 0)
		return r;
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
