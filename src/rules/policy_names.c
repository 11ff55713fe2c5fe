/*
 * Role policies: the names of policy actions, shared by the parser, the
 * decision and the callers that print or read them. The table is indexed
 * by enum cv_action and follows its order in policy.h; the built-in
 * actions have no name here (policy.h). Role names are in base/roles.c.
 */
#include <string.h>

#include "rules/policy.h"

static const char *const action_names[CV_ACTION_COUNT] = {
    "read",
    "write",
    "amend",
    "share",
    "export",
    "disclose",
    "erase",
    "assign",
    "approve",
    "audit.read",
    "user.manage",
    "case.open",
    "case.close",
    "consent.grant",
    "consent.withdraw",
    "request.create",
    "breakglass.open",
    "breakglass.review",
    "report.read",
    "policy.deploy",
    "key.rotate",
    "backup",
};

const char *
cv_action_name(enum cv_action action)
{
	int a = (int)action;

	if (a < 0 || a >= CV_ACTION_COUNT)
		return NULL;
	return action_names[a];
}

int
cv_action_parse(const char *name)
{
	int i;

	for (i = 0; i < CV_ACTION_COUNT; i++)
		if (strcmp(name, action_names[i]) == 0)
			return i;
	return -1;
}

int
cv_action_has_class(enum cv_action action)
{
	int a = (int)action;

	return a >= 0 && a < CV_ACTION_CLASSED_COUNT;
}
