/*
 * The gate's decision over planted facts; see decide.h. Nothing here reads
 * the store, the clock or the trail: the verdict depends on the policy set,
 * the subject, the facts and the question alone.
 */
#include <stdio.h>
#include <string.h>

#include "base/classes.h"
#include "casevault.h"
#include "gate/decide.h"
#include "rules/consent.h"
#include "rules/policy.h"

static const char *const builtin_names[] = {
    "self.passwd",
    "policy.explain",
    "request.list",
    "case.list",
};

const char *
cv_gate_action_name(enum cv_action action)
{
	int a = (int)action;

	if (a >= 0 && a < CV_ACTION_COUNT)
		return cv_action_name(action);
	if (a >= CV_ACTION_COUNT && a < CV_ACTION_BUILTIN_END)
		return builtin_names[a - CV_ACTION_COUNT];
	return NULL;
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

/* 1 when the object's FIELD holds the subject's staff id. */
static int
owned_by(const json_t *o, const char *field, uint32_t uid)
{
	const json_t *v = json_object_get(o, field);

	return json_is_integer(v) && json_integer_value(v) == (json_int_t)uid;
}

/* The state of the subject's requests for CLS and the purpose. */
static enum cv_request_state
request_state(const struct cv_subject *who, const struct cv_gate_facts *f,
    const struct cv_gate_ask *ask, const char **id)
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
		if (rid == NULL || status == NULL || rp == NULL ||
		    !owned_by(o, "requester", who->uid))
			continue;
		if (ask->request != NULL && strcmp(rid, ask->request) != 0)
			continue;
		if (!names_class(json_object_get(o, "classes"), ask->cls) ||
		    (ask->purpose != NULL && strcmp(ask->purpose, rp) != 0))
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

/* 1 when the subject holds a window open at NOW; its id in *ID. */
static int
window_open(const struct cv_subject *who, const struct cv_gate_facts *f,
    const char **id)
{
	const json_t *o;
	size_t i;

	*id = NULL;
	json_array_foreach (f->windows, i, o) {
		uint64_t from =
		    (uint64_t)json_integer_value(json_object_get(o, "opened"));
		uint64_t until =
		    (uint64_t)json_integer_value(json_object_get(o, "until"));
		if (!owned_by(o, "user", who->uid))
			continue;
		if (from <= f->now && f->now < until) {
			*id = json_string_value(json_object_get(o, "id"));
			return 1;
		}
	}
	return 0;
}

static void
verdict(
    struct cv_gate_verdict *v, int allow, const char *rule, const char *reason)
{
	v->d.allow = allow;
	snprintf(v->d.rule, sizeof(v->d.rule), "%s", rule);
	snprintf(v->d.reason, sizeof(v->d.reason), "%s", reason);
}

/* The built-in limits on what a policy allowed (decide.h). */
static void
limit(const struct cv_subject *who, const struct cv_gate_facts *f,
    const struct cv_gate_ask *ask, struct cv_gate_verdict *v)
{
	if (ask->action == CV_ACTION_BREAKGLASS_OPEN && f->on_team)
		verdict(v, 0, CV_RULE_BG_OFF_TEAM,
		    "break-glass is for a case one is not on");
	else if (ask->action == CV_ACTION_BREAKGLASS_REVIEW &&
	    ask->account != 0 && ask->account == who->uid)
		verdict(v, 0, CV_RULE_REVIEW_ANOTHER,
		    "one's own window or disclosure is reviewed by another");
	else if (ask->action == CV_ACTION_BREAKGLASS_REVIEW &&
	    f->now < ask->closes)
		verdict(v, 0, CV_RULE_REVIEW_CLOSED,
		    "a window is reviewed once it has closed");
}

/* The roles that oversee the others' work. */
static int
oversight(const struct cv_subject *who)
{
	return who->role != NULL &&
	    (strcmp(who->role, "supervisor") == 0 ||
	        strcmp(who->role, "auditor") == 0 ||
	        strcmp(who->role, "admin") == 0);
}

/* The built-in rules: each built-in action has exactly one. */
static int
decide_builtin(const struct cv_subject *who, const struct cv_gate_ask *ask,
    struct cv_gate_verdict *v)
{
	int own = who->uid != 0 && ask->account == who->uid;

	if (ask->cls != -1) {
		verdict(
		    v, 0, CV_RULE_DEFAULT_DENY, "this action takes no class");
		return 0;
	}
	switch (ask->action) {
	case CV_ACTION_SELF_PASSWD:
		if (own)
			verdict(v, 1, CV_RULE_OWN_PASSPHRASE,
			    "one's own passphrase");
		else
			verdict(v, 0, CV_RULE_DEFAULT_DENY,
			    "not the subject's own account");
		return 0;
	case CV_ACTION_POLICY_EXPLAIN:
		/* An explanation says whether a case exists and whether a
		 * consent covers someone: oversight's tool alone. */
		if (!oversight(who))
			verdict(v, 0, CV_RULE_DEFAULT_DENY,
			    "policy explain is for supervisors, auditors and "
			    "administrators");
		else if (own)
			verdict(v, 1, CV_RULE_EXPLAIN_SELF,
			    "one's own access explained");
		else
			verdict(v, 0, CV_RULE_DEFAULT_DENY,
			    "not the subject's own account");
		return 0;
	case CV_ACTION_REQUEST_LIST:
		verdict(v, 1, CV_RULE_REQUEST_LIST,
		    "one's own requests and those one may approve");
		return 0;
	case CV_ACTION_CASE_LIST:
		verdict(v, 1, CV_RULE_CASE_LIST,
		    "the cases whose case_admin one may read");
		return 0;
	default:
		return CV_EINVAL;
	}
}

int
cv_gate_decide(const struct cv_policy_set *set, const struct cv_subject *who,
    const struct cv_gate_facts *f, const struct cv_gate_ask *ask,
    struct cv_gate_verdict *v)
{
	struct cv_access a;
	struct cv_decision without;
	int act, r;

	if (v == NULL)
		return CV_EINVAL;
	memset(v, 0, sizeof(*v));
	verdict(v, 0, CV_RULE_DEFAULT_DENY, "invalid request");
	if (set == NULL || who == NULL || f == NULL || ask == NULL ||
	    ask->cls < -1 || ask->cls >= CV_CLASS_COUNT)
		return CV_EINVAL;
	act = (int)ask->action;
	if (act >= CV_ACTION_COUNT && act < CV_ACTION_BUILTIN_END)
		return decide_builtin(who, ask, v);
	if (act < 0 || act >= CV_ACTION_COUNT)
		return CV_EINVAL;

	memset(&a, 0, sizeof(a));
	a.role = who->role;
	a.action = cv_action_name(ask->action);
	a.cls = ask->cls;
	a.on_team = f->on_team;
	if (ask->cls >= 0) {
		a.consent = cv_consent_covers(f->consents, who->user, who->role,
		    ask->cls, ask->purpose, f->now, &v->consent);
		a.request = request_state(who, f, ask, &v->request);
	}
	a.breakglass = window_open(who, f, &v->window);
	v->consent_state = a.consent;
	v->request_state = a.request;
	v->breakglass = a.breakglass;
	if ((r = cv_policy_decide(set, &a, &v->d)) != 0)
		return r;
	if (v->d.allow)
		limit(who, f, ask, v);
	if (v->d.allow && a.breakglass) {
		/* Flag the access when the window is what allowed it. */
		a.breakglass = 0;
		if (cv_policy_decide(set, &a, &without) == 0 && !without.allow)
			v->by_window = 1;
	}
	/* Name only what the allowance relied on. */
	if (!v->d.allow || a.consent != CV_CONSENT_VALID)
		v->consent = NULL;
	if (!v->d.allow || a.request != CV_REQUEST_APPROVED)
		v->request = NULL;
	if (!v->by_window)
		v->window = NULL;
	return 0;
}
