/*
 * Role policies: the lint of a policy set. It reports rules that can never
 * apply or are partly shadowed by a deny rule, conditions that never hold,
 * files that do not match their role, and roles that read every class
 * without the case team or a consent. The parser is in policy_parse.c and the
 * decision in policy_decide.c; the types they share are in policy_int.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/policy.h"
#include "rules/policy_int.h"

/* The first deny rule of ROLE that holds whenever CONDS hold, or NULL. */
static const struct rule *
shadowing_deny(const struct cv_policy_set *set, int role, int action, int cls,
    unsigned conds)
{
	size_t i, j;

	for (i = 0; i < set->n; i++) {
		const struct policy *p = set->files[i];
		if (p->role != role)
			continue;
		for (j = 0; j < p->nrules; j++) {
			const struct rule *r = &p->rules[j];
			if (r->deny && policy_rule_covers(r, action, cls) &&
			    (r->conds & ~conds) == 0)
				return r;
		}
	}
	return NULL;
}

static int finding(json_t *findings, int *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
finding(json_t *findings, int *count, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_array_append_new(findings, json_string(msg)) != 0)
		return CV_ENOMEM;
	(*count)++;
	return 0;
}

/* Shadowing and impossible conditions of one allow or deny rule. */
static int
lint_rule(const struct cv_policy_set *set, const struct policy *p,
    const struct rule *r, cv_classmask *reads, json_t *findings, int *count)
{
	const struct rule *first = NULL, *d;
	int a, c, cls, total = 0, shadowed = 0, rv;

	if (!(r->actions & ((1u << CV_ACTION_CLASSED_COUNT) - 1)) &&
	    (r->conds & (COND_CONSENT | COND_REQUEST)) &&
	    (rv = finding(findings, count,
	         "%s:%d: rule %s: 'consent' and 'request' never hold for "
	         "actions without a class",
	         p->name, r->line, r->id)) != 0)
		return rv;
	if (r->deny)
		return 0;
	if ((r->classes & CV_CLASS_BIT(CV_CLASS_COUNSELING_NOTE)) &&
	    !(r->conds & (COND_TEAM | COND_CONSENT)) &&
	    (rv = finding(findings, count,
	         "%s:%d: rule %s allows counseling_note without the case "
	         "team or a consent",
	         p->name, r->line, r->id)) != 0)
		return rv;
	for (a = 0; a < CV_ACTION_COUNT; a++) {
		if (!(r->actions & (1u << a)))
			continue;
		for (c = cv_action_has_class(a) ? 0 : -1;
		     c < (cv_action_has_class(a) ? CV_CLASS_COUNT : 0); c++) {
			cls = c;
			if (cls >= 0 && !(r->classes & CV_CLASS_BIT(cls)))
				continue;
			total++;
			d = shadowing_deny(set, p->role, a, cls, r->conds);
			if (d != NULL) {
				shadowed++;
				if (first == NULL)
					first = d;
			} else if (a == CV_ACTION_READ &&
			    !(r->conds & (COND_TEAM | COND_CONSENT)))
				*reads |= CV_CLASS_BIT(cls);
		}
	}
	if (shadowed == total)
		return finding(findings, count,
		    "%s:%d: rule %s can never apply: denied by rule %s",
		    p->name, r->line, r->id, first->id);
	if (shadowed > 0)
		return finding(findings, count,
		    "%s:%d: rule %s is partly shadowed by deny rule %s",
		    p->name, r->line, r->id, first->id);
	return 0;
}

/* The actions that show a class's contents to someone. */
#define CONTENT_ACTIONS                                                        \
	((1u << CV_ACTION_READ) | (1u << CV_ACTION_SHARE) |                    \
	    (1u << CV_ACTION_EXPORT) | (1u << CV_ACTION_DISCLOSE))

/* The first action and class of R that no deny of its role takes back. */
static int
content_allowed(const struct cv_policy_set *set, int role, const struct rule *r,
    int *action, int *cls)
{
	int a, c;

	for (a = 0; a < CV_ACTION_CLASSED_COUNT; a++) {
		if (!(r->actions & CONTENT_ACTIONS & (1u << a)))
			continue;
		for (c = 0; c < CV_CLASS_COUNT; c++)
			if ((r->classes & CV_CLASS_BIT(c)) &&
			    shadowing_deny(set, role, a, c, r->conds) == NULL) {
				*action = a;
				*cls = c;
				return 1;
			}
	}
	return 0;
}

int
cv_policy_invariants(const struct cv_policy_set *set, char *why, size_t len)
{
	size_t i, j;
	int a, c;

	if (set == NULL)
		return CV_EINVAL;
	for (i = 0; i < set->n; i++) {
		const struct policy *p = set->files[i];
		for (j = 0; j < p->nrules; j++) {
			const struct rule *r = &p->rules[j];
			if (r->deny)
				continue;
			if ((p->role == CV_ROLE_ADMIN ||
			        p->role == CV_ROLE_AUDITOR) &&
			    content_allowed(set, p->role, r, &a, &c)) {
				snprintf(why, len,
				    "%s:%d: rule %s lets the %s role %s %s: "
				    "administrators and auditors read no "
				    "record contents",
				    p->name, r->line, r->id,
				    cv_role_name(p->role), cv_action_name(a),
				    cv_class_name(c));
				return CV_EPOLICY;
			}
			if ((r->classes &
			        CV_CLASS_BIT(CV_CLASS_COUNSELING_NOTE)) &&
			    (r->actions & CONTENT_ACTIONS) &&
			    !(r->conds & (COND_TEAM | COND_CONSENT))) {
				snprintf(why, len,
				    "%s:%d: rule %s gives counseling_note "
				    "without the case team or a consent that "
				    "names it",
				    p->name, r->line, r->id);
				return CV_EPOLICY;
			}
		}
	}
	return 0;
}

int
cv_policy_lint(const struct cv_policy_set *set, json_t *findings)
{
	cv_classmask reads;
	char want[CV_POLICY_NAME_MAX];
	size_t i, j, nfiles, nrules;
	int role, count = 0, rv;

	if (set == NULL || !json_is_array(findings))
		return CV_EINVAL;
	for (role = 0; role < CV_ROLE_COUNT; role++) {
		reads = 0;
		nfiles = nrules = 0;
		for (i = 0; i < set->n; i++) {
			const struct policy *p = set->files[i];
			if (p->role != role)
				continue;
			nfiles++;
			nrules += p->nrules;
			snprintf(want, sizeof(want), "%s.policy",
			    cv_role_name(role));
			if (strcmp(p->name, want) != 0 &&
			    (rv = finding(findings, &count,
			         "%s: declares role %s; expected in %s",
			         p->name, cv_role_name(role), want)) != 0)
				return rv;
			for (j = 0; j < p->nrules; j++)
				if ((rv = lint_rule(set, p, &p->rules[j],
				         &reads, findings, &count)) != 0)
					return rv;
		}
		if (nfiles > 1 &&
		    (rv = finding(findings, &count,
		         "role %s has %zu policy files", cv_role_name(role),
		         nfiles)) != 0)
			return rv;
		if (nrules == 0 &&
		    (rv = finding(findings, &count, "role %s has no rules",
		         cv_role_name(role))) != 0)
			return rv;
		if (reads == CV_CLASS_ALL &&
		    (rv = finding(findings, &count,
		         "role %s can read every class without the case team "
		         "or a consent",
		         cv_role_name(role))) != 0)
			return rv;
	}
	{
		char why[256];
		if (cv_policy_invariants(set, why, sizeof(why)) == CV_EPOLICY &&
		    (rv = finding(
		         findings, &count, "%s; deploy refuses it", why)) != 0)
			return rv;
	}
	return count;
}
