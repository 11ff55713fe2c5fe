/*
 * Internals of the policy module shared by the parser (policy_parse.c), the
 * decision (policy_decide.c) and the lint (policy_lint.c). Not part of the
 * API: only those three files include it.
 */
#ifndef CV_POLICY_INT_H
#define CV_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/classes.h"
#include "rules/policy.h"

/* The rule id of a verdict no rule decided. The parser refuses it as the id
 * of a rule, so it never names a line of a file. */
#define DEFAULT_DENY "default-deny"

/* Conditions, as a bit set; a rule holds when all its bits are present. */
#define COND_TEAM       0x1u
#define COND_CONSENT    0x2u
#define COND_REQUEST    0x4u
#define COND_BREAKGLASS 0x8u

struct rule {
	char id[CV_POLICY_ID_MAX];
	int deny;
	uint32_t actions;     /* bit i for enum cv_action i */
	cv_classmask classes; /* 0 for actions without a class */
	unsigned conds;
	int line;
};

struct policy {
	char *name;
	char *text; /* as given, NUL-terminated */
	size_t len;
	int role;
	unsigned long version;
	struct rule *rules;
	size_t nrules;
};

struct cv_policy_set {
	struct policy *files[CV_POLICY_FILES_MAX]; /* sorted by name */
	size_t n;
};

/* Does rule R name (ACTION, CLS)? CLS is -1 for actions without a class.
 * The decision and the lint must agree on it, so both call this one. */
int policy_rule_covers(const struct rule *r, int action, int cls);

#endif
