/*
 * Counselling notes: a note is a record of type "note", written through
 * cv_record_add (schema, gate, audit) and read through the gate, so a
 * user sees here exactly what `record show` would show her.
 */
#include "casevault.h"
#include "base/error.h"
#include "base/util.h"
#include "gate/gate.h"
#include "ops/case_txn.h"
#include "ops/record.h"

int
cv_note_add(struct cv_session *s, const char *case_id, const char *text,
    size_t len, const char *kind, const char *date, uint32_t *record_id)
{
	json_t *note = NULL, *t;
	char day[11];
	int r;

	cv_error_clear();
	*record_id = 0;
	if (s == NULL || case_id == NULL || text == NULL)
		return CV_EINVAL;
	if (len > CV_RECORD_MAX) {
		cv_error_set("text: larger than %d bytes", CV_RECORD_MAX);
		return CV_ETOOBIG;
	}
	/* jansson refuses text that is not UTF-8, or that holds a NUL. */
	if ((t = json_stringn(text, len)) == NULL) {
		cv_error_set("text: must be UTF-8 text");
		return CV_EINVAL;
	}
	if (date == NULL)
		cv_format_date(cv_now_ms(), day);
	note = json_pack("{s:s, s:s, s:o}", "session_date",
	    date != NULL ? date : day, "kind",
	    kind != NULL ? kind : CV_NOTE_KIND_DEFAULT, "text", t);
	if (note == NULL)
		return CV_ENOMEM;
	/* The schema refuses a blank note, an unknown kind, a bad date. */
	r = cv_record_add(s, case_id, "note", note, record_id);
	json_decref(note);
	return r;
}

int
cv_note_show(struct cv_session *s, const char *case_id, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_READ,
	    .op = "note.show",
	    .case_id = case_id,
	    .classes = CV_CLASS_BIT(CV_CLASS_COUNSELING_NOTE)};
	struct cv_txn *txn;
	json_t *meta;
	int r;

	cv_error_clear();
	*out = NULL;
	/*
	 * Asking for the notes is asking for counseling_note as a whole: a
	 * reader who may not see it is refused here, and the refusal is on
	 * the trail, rather than being handed session dates without notes.
	 */
	if ((r = cv_case_txn_begin_read(s, &q, &txn, &meta)) != 0)
		return r;
	r = cv_record_read_all(
	    s, txn, case_id, meta, "note", "note.show", NULL, out);
	cv_txn_abort(txn);
	json_decref(meta);
	return r;
}
