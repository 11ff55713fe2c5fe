/*
 * The summary `case show` adds to a case: its current step, the timeline
 * of step changes and dated records, and the trend of its assessments.
 * Every record it shows is read through the gate.
 */
#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "base/util.h"
#include "gate/gate.h"
#include "model/recstore.h"
#include "ops/case_summary.h"
#include "rules/flow.h"
#include "rules/forms.h"
#include "rules/instrument.h"
#include "rules/schema.h"

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
cv_case_summary(struct cv_session *s, struct cv_txn *txn, const char *case_id,
    const json_t *meta, json_t *show)
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
