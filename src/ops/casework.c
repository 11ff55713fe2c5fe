/*
 * Case work: counselling notes, scored assessments and the service-flow
 * step of a case, and the summary `case show` adds. Nothing here opens a
 * sealed record: writes go through cv_record_add (schema, gate, audit) and
 * reads through the gate, so a user sees here exactly what `record show`
 * would show her.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rules/instrument.h"
#include "model/casemeta.h"
#include "casevault.h"
#include "base/error.h"
#include "ops/case_txn.h"
#include "ops/casework.h"
#include "ops/record.h"
#include "rules/flow.h"
#include "rules/forms.h"
#include "rules/schema.h"
#include "gate/gate.h"
#include "model/recstore.h"
#include "base/util.h"
#include "model/session.h"

/* ---- notes ---- */

int
cv_note_add(struct cv_session *s, const char *case_id, const char *text,
    size_t len, const char *kind, const char *date, uint32_t *record_id)
{
	json_t *note = NULL, *t;
	char day[11];
	int r;

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
	    kind != NULL ? kind : "follow_up", "text", t);
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

/* ---- assessments ---- */

int
cv_assessment_add(struct cv_session *s, const char *case_id,
    const char *instrument, const json_t *answers, json_t **result,
    uint32_t *record_id)
{
	const struct cv_instrument *in;
	json_t *scored = NULL;
	char err[256], day[11];
	int r;

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
	if ((r = cv_record_add(s, case_id, "assessment", scored, record_id)) !=
	    0) {
		json_decref(scored);
		return r;
	}
	*result = scored;
	return 0;
}

/* ---- the service flow ---- */

/* Free text a person typed: bounded, UTF-8, no control characters. */
static int
reason_ok(const char *reason)
{
	size_t i, n = strlen(reason);
	json_t *probe;

	if (n > CV_STEP_REASON_MAX) {
		cv_error_set("reason: at most %d bytes", CV_STEP_REASON_MAX);
		return CV_ETOOBIG;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f) {
			cv_error_set("reason: control characters are not "
			             "allowed");
			return CV_EINVAL;
		}
	if ((probe = json_string(reason)) == NULL) {
		cv_error_set("reason: must be UTF-8 text");
		return CV_EINVAL;
	}
	json_decref(probe);
	return 0;
}

/* 1 when REASON holds something other than blanks. */
static int
blank(const char *reason)
{
	for (; reason != NULL && *reason != '\0'; reason++)
		if (*reason != ' ')
			return 0;
	return 1;
}

int
cv_case_step(struct cv_session *s, const char *case_id, const char *step,
    const char *reason)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_WRITE,
	    .op = "case.step",
	    .case_id = case_id,
	    .write = 1,
	    .classes = CV_CLASS_BIT(CV_CLASS_CASE_ADMIN)};
	struct cv_gate_req peek = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_READ,
	    .op = "case.step",
	    .case_id = case_id,
	    .classes = CV_CLASS_BIT(CV_CLASS_CASE_ADMIN)};
	const struct cv_flow *f;
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *steps, *entry = NULL, *ev = NULL;
	const char *from;
	char why[256];
	uint64_t now;
	int r, g, closing;

	if (s == NULL || case_id == NULL || step == NULL)
		return CV_EINVAL;
	if ((f = cv_forms_flow()) == NULL)
		return CV_ECORRUPT;
	/* The flow is public: an unknown step says nothing about the case. */
	if (cv_flow_label(f, step, "en") == NULL) {
		cv_error_set("unknown step");
		return CV_EINVAL;
	}
	if (reason != NULL && (r = reason_ok(reason)) != 0)
		return r;
	if (blank(reason))
		reason = NULL;
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	q.meta = peek.meta = meta;
	/*
	 * Reaching the closed state closes the case: the same decision as
	 * `case close`, so a step cannot get round it.
	 */
	closing = strcmp(step, "closed") == 0;
	if (closing) {
		q.action = CV_ACTION_CASE_CLOSE;
		q.classes = 0;
	}
	/*
	 * Someone who may not change the case must not learn its step from
	 * the flow's answer: that refusal comes first, and is recorded.
	 */
	if (!cv_gate_decide_only(s, txn, q.action, case_id, meta,
	        closing ? -1 : CV_CLASS_CASE_ADMIN)) {
		if ((r = cv_gate_check(s, txn, &q, NULL, &res)) == 0)
			r = CV_EDENIED; /* cannot happen: same verdict */
		goto out;
	}
	if (strcmp(json_string_value(json_object_get(meta, "status")),
	        "closed") == 0) {
		cv_error_set("the case is closed");
		r = CV_ESTATE;
		goto out;
	}
	from = json_string_value(json_object_get(meta, "step"));
	if ((r = cv_flow_check(f, from, step, reason, why, sizeof(why))) != 0) {
		/*
		 * WHY names the current step, which is case_admin: telling it
		 * is a read, and recorded as one. Nothing changes, so the
		 * event is no write and leaves nothing to recover.
		 */
		ev = json_pack("{s:s}", "step_outcome", "refused_by_flow");
		if ((g = cv_gate_check(s, txn, &peek, ev, &res)) != 0) {
			r = g;
			goto out;
		}
		cv_error_set("%s", why);
		goto out;
	}
	steps = json_object_get(meta, "steps");
	if (steps == NULL) {
		if ((steps = json_array()) == NULL ||
		    json_object_set_new(meta, "steps", steps) != 0) {
			r = CV_ENOMEM;
			goto out;
		}
	}
	if (!json_is_array(steps)) {
		r = CV_ECORRUPT;
		goto out;
	}
	if (json_array_size(steps) >= CV_STEPS_MAX) {
		cv_error_set(
		    "the case has %d step changes already", CV_STEPS_MAX);
		r = CV_ETOOBIG;
		goto out;
	}
	/* The reason is free text: it goes into the sealed metadata only,
	 * never into the event. */
	if ((r = cv_gate_check(s, txn, &q, NULL, &res)) != 0)
		goto out;
	now = cv_now_ms();
	entry = json_pack("{s:s, s:I, s:I}", "step", step, "at",
	    (json_int_t)now, "by", (json_int_t)s->uid);
	if (entry == NULL ||
	    (reason != NULL &&
	        json_object_set_new(entry, "reason", json_string(reason)) !=
	            0)) {
		r = CV_ENOMEM;
		goto out;
	}
	json_array_append(steps, entry);
	json_object_set_new(meta, "step", json_string(step));
	if (closing) {
		json_object_set_new(meta, "status", json_string("closed"));
		json_object_set_new(
		    meta, "closed", json_integer((json_int_t)now));
	}
	if ((r = cv_case_save(txn, s, case_id, meta)) != 0)
		goto out;
	r = cv_case_txn_commit(s, &txn, res.seq);
out:
	if (txn != NULL)
		cv_txn_abort(txn);
	json_decref(meta);
	json_decref(entry);
	json_decref(ev);
	return r;
}

/* ---- the summary of `case show` ---- */

static json_t *
labels(const char *en, const char *id)
{
	return json_pack("{s:s, s:s}", "en", en, "id", id);
}

static int
steps_timeline(const struct cv_flow *f, const json_t *meta, json_t *tl)
{
	const json_t *st, *reason;
	const char *key, *en, *id;
	char t[25];
	json_t *e;
	size_t i;

	json_array_foreach (json_object_get(meta, "steps"), i, st) {
		key = json_string_value(json_object_get(st, "step"));
		if (key == NULL || !json_is_integer(json_object_get(st, "at")))
			return CV_ECORRUPT;
		en = f != NULL ? cv_flow_label(f, key, "en") : NULL;
		id = f != NULL ? cv_flow_label(f, key, "id") : NULL;
		cv_format_time(
		    (uint64_t)json_integer_value(json_object_get(st, "at")), t);
		e = json_pack("{s:s, s:s, s:s, s:o, s:o}", "at", t, "kind",
		    "step", "step", key, "label",
		    labels(en ? en : key, id ? id : key), "by",
		    json_sprintf("u%lld",
		        (long long)json_integer_value(
		            json_object_get(st, "by"))));
		if (e == NULL)
			return CV_ENOMEM;
		if ((reason = json_object_get(st, "reason")) != NULL)
			json_object_set(e, "reason", (json_t *)reason);
		json_array_append_new(tl, e);
	}
	return 0;
}

static int
by_time(const void *a, const void *b)
{
	const char *x =
	    json_string_value(json_object_get(*(json_t *const *)a, "at"));
	const char *y =
	    json_string_value(json_object_get(*(json_t *const *)b, "at"));

	return strcmp(x ? x : "", y ? y : "");
}

/* Sort TL by "at", keeping the order of equal times (a stable insert). */
static int
sort_timeline(json_t *tl, json_t **out)
{
	size_t n = json_array_size(tl), i, j;
	json_t **v, *sorted;

	*out = NULL;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return CV_ENOMEM;
	for (i = 0; i < n; i++) {
		v[i] = json_array_get(tl, i);
		for (j = i; j > 0 && by_time(&v[j - 1], &v[j]) > 0; j--) {
			json_t *x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	}
	if ((sorted = json_array()) == NULL) {
		free(v);
		return CV_ENOMEM;
	}
	for (i = 0; i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	*out = sorted;
	return 0;
}

/* Add one assessment result to its instrument's series in AS. */
static int
add_assessment(json_t *as, const json_t *rec)
{
	const json_t *data = json_object_get(rec, "data");
	const struct cv_instrument *in;
	const char *name;
	json_t *series, *results, *prev, *e;
	int worse = 0;
	size_t n;

	name = json_string_value(json_object_get(data, "instrument"));
	if (name == NULL || (in = cv_forms_instrument(name)) == NULL ||
	    !json_is_integer(json_object_get(data, "total")))
		return 0; /* the scores were withheld from this reader */
	if ((series = json_object_get(as, name)) == NULL) {
		series = json_pack("{s:[], s:b}", "results", "worsened", 0);
		if (series == NULL ||
		    json_object_set_new(as, name, series) != 0)
			return CV_ENOMEM;
	}
	results = json_object_get(series, "results");
	n = json_array_size(results);
	if (n > 0) {
		prev =
		    json_object_get(json_array_get(results, n - 1), "scored");
		worse = cv_assess_worse(in, prev, data) == 1;
	}
	e = json_pack("{s:O, s:O, s:O, s:O?, s:O?, s:b, s:O}", "record",
	    json_object_get(rec, "record"), "total",
	    json_object_get(data, "total"), "severity",
	    json_object_get(data, "severity"), "severity_id",
	    json_object_get(data, "severity_id"), "date",
	    json_object_get(data, "date"), "worsened", worse, "scored", data);
	if (e == NULL)
		return CV_ENOMEM;
	json_array_append_new(results, e);
	json_object_set_new(series, "worsened", json_boolean(worse));
	return 0;
}

/* The scored copies are kept only to compare neighbours. */
static void
strip_scored(json_t *as)
{
	const char *k;
	json_t *series, *e;
	size_t i;

	json_object_foreach (as, k, series)
		json_array_foreach (json_object_get(series, "results"), i, e)
			json_object_del(e, "scored");
}

int
cv_casework_summary(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, json_t *show)
{
	const struct cv_flow *f = cv_forms_flow();
	const struct cv_schema *sc;
	json_t *tl = NULL, *sorted = NULL, *as = NULL, *ids = NULL, *id;
	json_t *rec, *e;
	const char *step, *type, *date, *en, *id_label;
	int r, cls, on_timeline, may_assessment, may[CV_CLASS_COUNT];
	size_t i;

	/* SHOW may be META itself: take the labels before replacing "step". */
	step = json_string_value(json_object_get(meta, "step"));
	en = step != NULL && f != NULL ? cv_flow_label(f, step, "en") : NULL;
	id_label =
	    step != NULL && f != NULL ? cv_flow_label(f, step, "id") : NULL;
	if (en != NULL && id_label != NULL) {
		json_object_set_new(show, "step_label", labels(en, id_label));
		json_object_set_new(show, "step", json_string(step));
	} else {
		json_object_set_new(show, "step", json_null());
	}
	if ((tl = json_array()) == NULL || (as = json_object()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = steps_timeline(f, meta, tl)) != 0)
		goto out;
	if ((r = cv_rec_list(txn, s, case_id, NULL, &ids)) != 0)
		goto out;
	/*
	 * Only records of a class the user may read are opened, each by the
	 * gate with its own event; the rest are not attempted, so a social
	 * worker's `case show` does not leave a refusal per assessment.
	 */
	may_assessment = cv_gate_decide_only(
	    s, txn, CV_ACTION_READ, case_id, meta, CV_CLASS_ASSESSMENT);
	for (cls = 0; cls < CV_CLASS_COUNT; cls++)
		may[cls] = -1; /* not asked yet */
	json_array_foreach (ids, i, id) {
		type = json_string_value(json_array_get(id, 1));
		/* A type is on the timeline when its definition says so, and
		 * shown to those who may read the class of its date. */
		sc = cv_forms_schema(type);
		if ((cls = cv_schema_timeline_class(sc)) >= 0 && may[cls] < 0)
			may[cls] = cv_gate_decide_only(
			    s, txn, CV_ACTION_READ, case_id, meta, cls);
		on_timeline = cls >= 0 && may[cls] > 0;
		if (!(on_timeline ||
		        (strcmp(type, "assessment") == 0 && may_assessment)))
			continue;
		r = cv_gate_read_record(s, txn, case_id, meta,
		    (uint32_t)json_integer_value(json_array_get(id, 0)), 0,
		    "case.show", NULL, NULL, &rec);
		if (r == CV_EDENIED || r == CV_ENOTFOUND)
			continue;
		if (r != 0)
			goto out;
		if (!on_timeline) {
			r = add_assessment(as, rec);
		} else if ((date = cv_schema_record_date(
		                sc, json_object_get(rec, "data"))) != NULL) {
			e = json_pack("{s:s, s:s, s:s, s:O, s:o}", "at", date,
			    "kind", "record", "type", type, "record",
			    json_object_get(rec, "record"), "label",
			    labels(cv_schema_timeline_label(sc, "en"),
			        cv_schema_timeline_label(sc, "id")));
			r = e == NULL ? CV_ENOMEM
			              : json_array_append_new(tl, e);
		}
		json_decref(rec);
		if (r != 0)
			goto out;
	}
	if ((r = sort_timeline(tl, &sorted)) != 0)
		goto out;
	strip_scored(as);
	json_object_set_new(show, "timeline", sorted);
	json_object_set_new(show, "assessments", as);
	sorted = as = NULL;
out:
	json_decref(tl);
	json_decref(sorted);
	json_decref(as);
	json_decref(ids);
	return r;
}
