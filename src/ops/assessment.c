/*
 * Scored assessments: the answers are scored by the instrument's
 * definition (rules/instrument.h) before anything is opened, and the
 * result is stored as a record of type "assessment" through the same
 * write as cv_record_add (schema, gate, audit), which is the only way one
 * is written: record add and amend refuse the type (docs/assessments.md).
 */
#include "casevault.h"
#include "base/error.h"
#include "base/util.h"
#include "ops/record.h"
#include "rules/forms.h"
#include "rules/instrument.h"

int
cv_assessment_add(struct cv_session *s, const char *case_id,
    const char *instrument, const json_t *answers, json_t **result,
    uint32_t *record_id)
{
	const struct cv_instrument *in;
	json_t *scored = NULL;
	char err[256], day[11];
	int r;

	cv_error_clear();
	*result = NULL;
	*record_id = 0;
	if (s == NULL || case_id == NULL || instrument == NULL ||
	    answers == NULL)
		return CV_EINVAL;
	if ((in = cv_forms_instrument(instrument)) == NULL) {
		cv_error_set("unknown instrument");
		return CV_EINVAL;
	}
	/* Checked before anything is opened or written: bad answers change
	 * nothing. */
	if ((r = cv_assess_score(in, answers, &scored, err, sizeof(err))) !=
	    0) {
		cv_error_set("%s", err);
		return r;
	}
	cv_format_date(cv_now_ms(), day);
	json_object_set_new(scored, "date", json_string(day));
	if ((r = cv_record_add_scored(s, case_id, scored, record_id)) != 0) {
		json_decref(scored);
		return r;
	}
	*result = scored;
	return 0;
}
