/* The role names, indexed by enum cv_role. */
#include <string.h>

#include "base/roles.h"

static const char *const role_names[CV_ROLE_COUNT] = {
    "counselor",
    "social_worker",
    "psychologist",
    "legal_aid",
    "supervisor",
    "auditor",
    "admin",
};

const char *
cv_role_name(int role)
{
	if (role < 0 || role >= CV_ROLE_COUNT)
		return NULL;
	return role_names[role];
}

int
cv_role_parse(const char *name)
{
	int i;

	for (i = 0; i < CV_ROLE_COUNT; i++)
		if (strcmp(name, role_names[i]) == 0)
			return i;
	return -1;
}
