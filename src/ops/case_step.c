/*
 * The service-flow step of a case (docs/service-flow.md): the move is
 * checked by the flow (rules/flow.h) and decided by the gate, and kept in
 * the case's sealed metadata with its time, user and reason.
 */
#include <string.h>

#include "casevault.h"
#include "base/error.h"
#include "base/util.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "model/casemeta.h"
#include "model/session.h"
#include "ops/case_txn.h"
#include "rules/flow.h"
#include "rules/forms.h"

/* Free text a person typed: bounded, UTF-8, no control characters. */
static int
reason_ok(const char *reason)
{
	size_t i, n = strlen(reason);
	json_t *probe;

	if (n > CV_STEP_REASON_MAX) {
		cv_error_set("reason: at most %d bytes", CV_STEP_REASON_MAX);
		return CV_ETOOBIG;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f) {
			cv_error_set("reason: control characters are not "
			             "allowed");
			return CV_EINVAL;
		}
	if ((probe = json_string(reason)) == NULL) {
		cv_error_set("reason: must be UTF-8 text");
		return CV_EINVAL;
	}
	json_decref(probe);
	return 0;
}

/* 1 when REASON holds something other than blanks. */
static int
blank(const char *reason)
{
	for (; reason != NULL && *reason != '\0'; reason++)
		if (*reason != ' ')
			return 0;
	return 1;
}

int
cv_case_step(struct cv_session *s, const char *case_id, const char *step,
    const char *reason)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_WRITE,
	    .op = "case.step",
	    .case_id = case_id,
	    .write = 1,
	    .classes = CV_CLASS_BIT(CV_CLASS_CASE_ADMIN)};
	struct cv_gate_req peek = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_READ,
	    .op = "case.step",
	    .case_id = case_id,
	    .classes = CV_CLASS_BIT(CV_CLASS_CASE_ADMIN)};
	const struct cv_flow *f;
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *steps, *entry = NULL, *ev = NULL;
	json_t *next = NULL, *wev = NULL;
	const char *from;
	char why[256];
	uint64_t now;
	int r, g, closing;

	cv_error_clear();
	if (s == NULL || case_id == NULL || step == NULL)
		return CV_EINVAL;
	if ((f = cv_forms_flow()) == NULL)
		return CV_ECORRUPT;
	/* The flow is public: an unknown step says nothing about the case. */
	if (cv_flow_label(f, step, "en") == NULL) {
		cv_error_set("unknown step");
		return CV_EINVAL;
	}
	if (reason != NULL && (r = reason_ok(reason)) != 0)
		return r;
	if (blank(reason))
		reason = NULL;
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	q.meta = peek.meta = meta;
	/*
	 * Reaching the closed state closes the case: the same decision as
	 * `case close`, so a step cannot get round it.
	 */
	closing = strcmp(step, "closed") == 0;
	if (closing) {
		q.action = CV_ACTION_CASE_CLOSE;
		q.classes = 0;
	}
	/*
	 * Someone who may not change the case must not learn its step from
	 * the flow's answer: that refusal comes first, and is recorded.
	 */
	if (!cv_gate_decide_only(s, txn, q.action, case_id, meta,
	        closing ? -1 : CV_CLASS_CASE_ADMIN)) {
		if ((r = cv_gate_check(s, txn, &q, NULL, &res)) == 0)
			r = CV_EDENIED; /* cannot happen: same verdict */
		goto out;
	}
	if ((r = cv_case_check_open(meta)) != 0)
		goto out;
	from = json_string_value(json_object_get(meta, "step"));
	if ((r = cv_flow_check(f, from, step, reason, why, sizeof(why))) != 0) {
		/*
		 * WHY names the current step, which is case_admin: telling it
		 * is a read, and recorded as one. Nothing changes, so the
		 * event is no write and leaves nothing to recover.
		 */
		ev = json_pack("{s:s}", "step_outcome", "refused_by_flow");
		if ((g = cv_gate_check(s, txn, &peek, ev, &res)) != 0) {
			r = g;
			goto out;
		}
		cv_error_set("%s", why);
		goto out;
	}
	steps = json_object_get(meta, "steps");
	if (steps == NULL) {
		if ((steps = json_array()) == NULL ||
		    json_object_set_new(meta, "steps", steps) != 0) {
			r = CV_ENOMEM;
			goto out;
		}
	}
	if (!json_is_array(steps)) {
		r = CV_ECORRUPT;
		goto out;
	}
	if (json_array_size(steps) >= CV_STEPS_MAX) {
		cv_error_set(
		    "the case has %d step changes already", CV_STEPS_MAX);
		r = CV_ETOOBIG;
		goto out;
	}
	now = cv_now_ms();
	entry = json_pack("{s:s, s:I, s:I}", "step", step, "at",
	    (json_int_t)now, "by", (json_int_t)s->uid);
	if (entry == NULL ||
	    (reason != NULL &&
	        json_object_set_new(entry, "reason", json_string(reason)) !=
	            0)) {
		r = CV_ENOMEM;
		goto out;
	}
	/* The gate decides on the case as it is; the event names what it
	 * will be. */
	if ((next = json_deep_copy(meta)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	json_array_append(json_object_get(next, "steps"), entry);
	json_object_set_new(next, "step", json_string(step));
	if (closing) {
		json_object_set_new(next, "status", json_string("closed"));
		json_object_set_new(
		    next, "closed", json_integer((json_int_t)now));
	}
	/* The reason is free text: it goes into the sealed metadata only,
	 * never into the event (which holds its keyed digest alone). */
	r = cv_case_txn_decide_save(s, &txn, &q, case_id, next, &wev);
out:
	cv_outcome_end(s, &txn, r);
	json_decref(meta);
	json_decref(next);
	json_decref(wev);
	json_decref(entry);
	json_decref(ev);
	return r;
}
