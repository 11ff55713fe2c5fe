/*
 * Process-wide: what the library sets up once, before any vault is opened
 * (libsodium, guarded memory, the built-in record definitions, libgit2),
 * the role names, which are the same in every vault, and the vocabularies
 * a caller may show.
 */
#include <git2.h>

#include "casevault.h"
#include "base/classes.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/memory.h"
#include "base/roles.h"
#include "ops/disclosure.h"
#include "rules/consent.h"
#include "rules/flow.h"
#include "rules/forms.h"
#include "rules/policy.h"
#include "rules/schema.h"

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

/*
 * The name at I of vocabulary WHAT, or NULL past its end. Each comes from
 * the table or definition that the library's own check reads, so what is
 * listed is exactly what is accepted.
 */
static const char *
vocabulary_name(enum cv_vocabulary what, size_t i)
{
	switch (what) {
	case CV_VOCAB_ROLES:
		return i < CV_ROLE_COUNT ? cv_role_name((int)i) : NULL;
	case CV_VOCAB_CLASSES:
		return i < CV_CLASS_COUNT ? cv_class_name((enum cv_class)i)
		                          : NULL;
	case CV_VOCAB_PURPOSES:
		return cv_consent_purpose(i);
	case CV_VOCAB_STEPS:
		return cv_flow_step(cv_forms_flow(), i);
	case CV_VOCAB_NOTE_KINDS:
		return cv_schema_value(cv_forms_schema("note"), "kind", i);
	case CV_VOCAB_INSTRUMENTS:
		return cv_forms_instrument_name(i);
	case CV_VOCAB_LEGAL_BASES:
		return cv_disclosure_basis(i);
	case CV_VOCAB_RECIPIENTS:
		return cv_disclosure_recipient(i);
	case CV_VOCAB_RELATIONSHIPS:
		return cv_forms_relationship(i);
	default:
		return NULL;
	}
}

int
cv_vocabulary_list(enum cv_vocabulary what, json_t **out)
{
	const char *name;
	json_t *a;
	size_t i;

	cv_error_clear();
	*out = NULL;
	if ((unsigned)what >= CV_VOCAB_COUNT)
		return CV_EINVAL;
	if ((a = json_array()) == NULL)
		return CV_ENOMEM;
	for (i = 0; (name = vocabulary_name(what, i)) != NULL; i++)
		if (json_array_append_new(a, json_string(name)) != 0) {
			json_decref(a);
			return CV_ENOMEM;
		}
	/* Every list is fixed and non-empty: none means a definition that
	 * did not load. */
	if (i == 0) {
		json_decref(a);
		cv_error_set("the built-in definitions did not load");
		return CV_ECORRUPT;
	}
	*out = a;
	return 0;
}
