/*
 * Staff roles. Every account has exactly one; policies, consents and the
 * audit trail name roles by these names.
 */
#ifndef CV_ROLES_H
#define CV_ROLES_H

enum cv_role {
	CV_ROLE_COUNSELOR = 0,
	CV_ROLE_SOCIAL_WORKER,
	CV_ROLE_PSYCHOLOGIST,
	CV_ROLE_LEGAL_AID,
	CV_ROLE_SUPERVISOR,
	CV_ROLE_AUDITOR,
	CV_ROLE_ADMIN,
	CV_ROLE_COUNT
};

/* The role's name, or NULL when out of range; the role named NAME, or -1. */
const char *cv_role_name(int role);
int cv_role_parse(const char *name);

#endif
