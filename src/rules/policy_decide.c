/*
 * Role policies: the verdict for one access under a parsed set. The parser
 * and the set are in policy_parse.c; the lint, which must read rules the way
 * the decision does, is in policy_lint.c; the types they share are in
 * policy_int.h.
 *
 * Invariants:
 *  - the verdict is deny unless an allow rule holds and no deny rule holds;
 *  - the set holds only fully parsed files whose rule ids are unique across
 *    the set (the parser sees to both), so a decision's rule names exactly
 *    one line of one file, and DEFAULT_DENY names none.
 */
#include <stdio.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/policy.h"
#include "rules/policy_int.h"

/* Does rule R name (ACTION, CLS)? CLS is -1 for actions without a class. */
int
policy_rule_covers(const struct rule *r, int action, int cls)
{
	if (!(r->actions & (1u << action)))
		return 0;
	if (cv_action_has_class(action))
		return cls >= 0 && (r->classes & CV_CLASS_BIT(cls));
	return cls < 0;
}

static const char *
consent_word(enum cv_consent_state s)
{
	switch (s) {
	case CV_CONSENT_EXPIRED:
		return "expired";
	case CV_CONSENT_WITHDRAWN:
		return "withdrawn";
	case CV_CONSENT_WRONG_PURPOSE:
		return "wrong purpose";
	default:
		return "none";
	}
}

static const char *
request_word(enum cv_request_state s)
{
	switch (s) {
	case CV_REQUEST_PENDING:
		return "pending";
	case CV_REQUEST_EXPIRED:
		return "expired";
	default:
		return "none";
	}
}

/* Name every gate in MISSING, most basic first, separated by "; ". */
static void
missing_reason(
    const struct cv_access *acc, unsigned missing, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
#define ADD(...)                                                               \
	do {                                                                   \
		if (off > 0 && off + 2 < size)                                 \
			off += (size_t)snprintf(buf + off, size - off, "; ");  \
		if (off < size)                                                \
			off += (size_t)snprintf(                               \
			    buf + off, size - off, __VA_ARGS__);               \
	} while (0)
	if (missing & COND_TEAM)
		ADD("not on the case team");
	if (missing & COND_CONSENT)
		ADD("no valid consent: %s", consent_word(acc->consent));
	if (missing & COND_REQUEST)
		ADD("no approved request: %s", request_word(acc->request));
	if (missing & COND_BREAKGLASS)
		ADD("no open break-glass window");
#undef ADD
}

static int
popcount4(unsigned v)
{
	return (int)((v & 1) + (v >> 1 & 1) + (v >> 2 & 1) + (v >> 3 & 1));
}

static void
verdict(struct cv_decision *d, int allow, const char *rule, const char *why)
{
	d->allow = allow;
	snprintf(d->rule, sizeof(d->rule), "%s", rule);
	snprintf(d->reason, sizeof(d->reason), "%s", why);
}

int
cv_policy_decide(const struct cv_policy_set *set, const struct cv_access *acc,
    struct cv_decision *d)
{
	const struct rule *allow = NULL, *closest = NULL;
	unsigned have = 0, missing = 0;
	size_t i, j;
	int role, action, matched = 0, havepolicy = 0;

	if (d == NULL)
		return CV_EINVAL;
	verdict(d, 0, DEFAULT_DENY, "invalid request");
	if (set == NULL || acc == NULL || acc->role == NULL ||
	    acc->action == NULL)
		return CV_EINVAL;
	if ((action = cv_action_parse(acc->action)) < 0 || acc->cls < -1 ||
	    acc->cls >= CV_CLASS_COUNT)
		return CV_EINVAL;
	role = cv_role_parse(acc->role);
	if (acc->on_team)
		have |= COND_TEAM;
	if (acc->consent == CV_CONSENT_VALID)
		have |= COND_CONSENT;
	if (acc->request == CV_REQUEST_APPROVED)
		have |= COND_REQUEST;
	if (acc->breakglass)
		have |= COND_BREAKGLASS;
	for (i = 0; role >= 0 && i < set->n; i++) {
		const struct policy *p = set->files[i];
		if (p->role != role)
			continue;
		havepolicy = 1;
		for (j = 0; j < p->nrules; j++) {
			const struct rule *r = &p->rules[j];
			if (!policy_rule_covers(r, action, acc->cls))
				continue;
			if ((r->conds & ~have) == 0) {
				if (r->deny) {
					verdict(d, 0, r->id,
					    "explicitly denied by role policy");
					return 0;
				}
				if (allow == NULL)
					allow = r;
				continue;
			}
			if (r->deny)
				continue;
			/* The allow that missed by the fewest gates. */
			if (!matched ||
			    popcount4(r->conds & ~have) < popcount4(missing)) {
				closest = r;
				missing = r->conds & ~have;
			}
			matched = 1;
		}
	}
	if (allow != NULL) {
		verdict(d, 1, allow->id, "allowed by role policy");
		return 0;
	}
	if (closest != NULL) {
		missing_reason(acc, missing, d->reason, sizeof(d->reason));
		return 0;
	}
	verdict(d, 0, DEFAULT_DENY,
	    !havepolicy         ? "no policy for this role"
	        : acc->cls >= 0 ? "no rule allows this action on this class"
	                        : "no rule allows this action");
	return 0;
}
