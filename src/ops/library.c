/*
 * Process-wide: what the library sets up once, before any vault is opened
 * (libsodium, guarded memory, the built-in record definitions, libgit2),
 * and the role names, which are the same in every vault.
 */
#include <git2.h>

#include "casevault.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/memory.h"
#include "rules/forms.h"
#include "rules/policy.h"

int
cv_role_valid(const char *role)
{
	return cv_role_parse(role) >= 0;
}

int
cv_library_init(void)
{
	const char *why;

	cv_error_clear();
	if (cv_crypto_init() != 0)
		return CV_ECRYPTO;
	cv_memory_init();
	if (cv_forms_status(&why) != 0) {
		cv_error_set("%s", why);
		return CV_ECORRUPT;
	}
	if (git_libgit2_init() < 0)
		return CV_EAUDIT;
	return 0;
}
