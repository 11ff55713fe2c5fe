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

/* ANSWERS scored with INSTRUMENT and dated today, into *SCORED. */
static int
score(const char *instrument, const json_t *answers, json_t **scored)
{
	const struct cv_instrument *in;
	char err[256], day[11];
	int r;

	*scored = NULL;
	if ((in = cv_forms_instrument(instrument)) == NULL) {
		cv_error_set("unknown instrument");
		return CV_EINVAL;
	}
	/* Checked before anything is opened or written: bad answers change
	 * nothing. */
	if ((r = cv_assess_score(in, answers, scored, err, sizeof(err))) != 0) {
		cv_error_set("%s", err);
		return r;
	}
	cv_format_date(cv_now_ms(), day);
	json_object_set_new(*scored, "date", json_string(day));
	return 0;
}

int
cv_assessment_add(struct cv_session *s, const char *case_id,
    const char *instrument, const json_t *answers, json_t **result,
    uint32_t *record_id)
{
	json_t *scored = NULL;
	int r;

	cv_error_clear();
	*result = NULL;
	*record_id = 0;
	if (s == NULL || case_id == NULL || instrument == NULL ||
	    answers == NULL)
		return CV_EINVAL;
	if ((r = score(instrument, answers, &scored)) != 0)
		return r;
	if ((r = cv_record_add_scored(s, case_id, scored, record_id)) != 0) {
		json_decref(scored);
		return r;
	}
	*result = scored;
	return 0;
}

int
cv_assessment_amend(struct cv_session *s, const char *case_id,
    uint32_t record_id, const char *instrument, const json_t *answers,
    json_t **result, uint32_t *version)
{
	json_t *scored = NULL;
	int r;

	cv_error_clear();
	*result = NULL;
	*version = 0;
	if (s == NULL || case_id == NULL || instrument == NULL ||
	    answers == NULL)
		return CV_EINVAL;
	if ((r = score(instrument, answers, &scored)) != 0)
		return r;
	if ((r = cv_record_amend_scored(
	         s, case_id, record_id, scored, version)) != 0) {
		json_decref(scored);
		return r;
	}
	*result = scored;
	return 0;
}
