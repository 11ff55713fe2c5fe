/*
 * Fuzz target for the policy parser: the input is one policy text. A text
 * that parses is also linted and asked for a few verdicts, so the rules it
 * built are exercised as well as the parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char base[] = "policy auditor version 1\n"
	                           "rule au-audit allow audit.read when true\n";
	struct cv_policy_set *set;
	struct cv_access acc;
	struct cv_decision d;
	uint8_t hash[32];
	char err[CV_POLICY_ERR_MIN];
	json_t *findings;
	int role, action, cls;

	if (cv_policy_set_new(&set) != 0)
		return 0;
	/* A second file first, so duplicate ids across files are reached. */
	(void)cv_policy_set_add(set, "auditor.policy", base, strlen(base), err,
	                        sizeof(err));
	if (cv_policy_set_add(set, "fuzz.policy", (const char *)data, size, err,
	                      sizeof(err)) == 0) {
		if ((findings = json_array()) != NULL) {
			(void)cv_policy_lint(set, findings);
			json_decref(findings);
		}
		memset(&acc, 0, sizeof(acc));
		for (role = 0; role < CV_ROLE_COUNT; role++)
			for (action = 0; action < CV_ACTION_COUNT; action++)
				for (cls = -1; cls < CV_CLASS_COUNT; cls++) {
					acc.role = cv_role_name(role);
					acc.action = cv_action_name(action);
					acc.cls = cls;
					acc.on_team = (cls & 1) != 0;
					acc.consent = CV_CONSENT_VALID;
					acc.request =
					    (enum cv_request_state)(action % 4);
					acc.breakglass = role & 1;
					(void)cv_policy_decide(set, &acc, &d);
				}
	}
	cv_policy_set_hash(set, hash);
	cv_policy_set_free(set);
	return 0;
}
