/*
 * The gate's decision, as a pure function. The gate (gate.h) gathers the
 * facts of one case from the store, asks cv_gate_decide() once per class an
 * access touches, and records the verdict; the function itself reads no
 * store, no clock and no trail, so the same subject, facts and question
 * always get the same verdict, and tests can plant any facts they like.
 */
#ifndef CV_GATE_DECIDE_H
#define CV_GATE_DECIDE_H

#include <stdint.h>

#include <jansson.h>

#include "rules/policy.h"

/*
 * Who asks: one staff member in one role. cv_gate_subject() (gate.h) takes
 * it from a session; `policy explain` builds one for the account it
 * explains. All borrowed.
 */
struct cv_subject {
	uint32_t uid;      /* the staff id; requests and windows name it */
	const char *user;  /* the account name; a consent may name it */
	const char *role;  /* the role's name, as policies and consents say */
	const char *actor; /* "u<uid>": how the audit trail names staff */
};

/*
 * What the gate knows of one case, all borrowed. The arrays are the stored
 * objects (docs/consent.md); NULL or an empty array means none. Requests
 * and windows of other users are passed as they are: the decision looks at
 * the subject's own only.
 */
struct cv_gate_facts {
	int on_team;            /* the subject is on the case team */
	const json_t *consents; /* every consent of the case */
	const json_t *requests; /* every legal-aid request on the case */
	const json_t *windows;  /* every break-glass window on the case */
	uint64_t now;           /* the time of the decision, ms since 1970 */
};

/* The question. All borrowed. */
struct cv_gate_ask {
	enum cv_action action; /* a policy action or a built-in one */
	int cls;               /* enum cv_class; -1: an action on no class */
	const char *purpose;   /* the purpose stated, or NULL */
	const char *request;   /* rely on this request id only; NULL: any */
	uint32_t account;      /* built-in actions on an account: its id;
	                          breakglass.review: the reviewed one's actor */
	uint64_t closes;       /* breakglass.review: when the window closes
	                          (ms; 0 for a disclosure) */
};

/*
 * The verdict. d.rule names a rule of the policy, "default-deny", or one of
 * the built-in rules below; d.reason is a short phrase naming no person or
 * data. The ids are borrowed from the facts: the consent and the approved
 * request the allowance relied on, and the break-glass window when nothing
 * but the window allowed it (so the access is flagged). The three states
 * describe the facts as the decision saw them, for `policy explain`.
 */
struct cv_gate_verdict {
	struct cv_decision d;
	const char *consent;
	const char *request;
	const char *window;
	int by_window;                       /* only the window allowed it */
	enum cv_consent_state consent_state; /* for the class, else NONE */
	enum cv_request_state request_state; /* for the class, else NONE */
	int breakglass; /* the subject has an open window */
};

/*
 * The built-in rules (docs/policy.md, "Built-in rules"): the only verdicts
 * not made by a policy line.
 *   CV_ACTION_SELF_PASSWD     allows when ASK->account is the subject's own
 *                             (their session already proved the passphrase)
 *   CV_ACTION_POLICY_EXPLAIN  allows when ASK->account is the subject's own
 *                             and the subject is a supervisor, auditor or
 *                             administrator
 *   CV_ACTION_REQUEST_LIST    allows: the list holds the subject's own
 *                             requests and those their policy lets them
 *                             approve, each decided by "approve"
 *   CV_ACTION_CASE_LIST       allows: the list holds the cases whose
 *                             case_admin the subject's policy lets them
 *                             read, each decided by "read"
 * On someone else's account the first two deny by "default-deny".
 */
#define CV_RULE_OWN_PASSPHRASE "builtin-own-passphrase"
#define CV_RULE_EXPLAIN_SELF   "builtin-explain-self"
#define CV_RULE_REQUEST_LIST   "builtin-request-list"
#define CV_RULE_CASE_LIST      "builtin-case-list"
#define CV_RULE_DEFAULT_DENY   "default-deny"

/*
 * The built-in limits (docs/policy.md, "Built-in limits"): refusals that
 * hold whatever a policy allows.
 *   breakglass.open on a case whose team the subject is on: a window is
 *   for a case one is not on (a team member reads by her policy already).
 *   breakglass.review of one's own window or disclosure (ASK->account is
 *   the subject), or of a window still open (F->now < ASK->closes).
 */
#define CV_RULE_BG_OFF_TEAM    "builtin-breakglass-off-team"
#define CV_RULE_REVIEW_ANOTHER "builtin-review-by-another"
#define CV_RULE_REVIEW_CLOSED  "builtin-review-after-close"

/*
 * Decide ASK for WHO over the facts F under the policy SET into *V. A
 * policy action is decided by cv_policy_decide() (policy.h) with the
 * conditions read from F:
 *  - consent: cv_consent_covers() for WHO's user and role, the class and
 *    ASK->purpose at F->now;
 *  - request: among WHO's requests (requester == WHO->uid) that name the
 *    class and, when ASK->purpose is set, have that purpose (only
 *    ASK->request when set): APPROVED when one is approved with
 *    now < until, else EXPIRED when one was approved, else PENDING when
 *    one is pending; a denied request counts as none;
 *  - breakglass: WHO has a window (user == WHO->uid) with
 *    opened <= now < until.
 * Consent and request are asked only for an action on a class.
 * Returns 0 with *V filled (a refusal is a verdict, not an error), or
 * CV_EINVAL for a NULL argument, an action or class out of range (*V is a
 * default deny then).
 */
int cv_gate_decide(const struct cv_policy_set *set,
    const struct cv_subject *who, const struct cv_gate_facts *f,
    const struct cv_gate_ask *ask, struct cv_gate_verdict *v)
    __attribute__((warn_unused_result));

/*
 * The name of ACTION as events and `policy explain` show it: the policy
 * action's name or the built-in's ("self.passwd"); NULL when out of range.
 */
const char *cv_gate_action_name(enum cv_action action);

#endif
