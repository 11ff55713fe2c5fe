/*
 * The coverage indicator from the vault. The gate decides "report.read"
 * once, records it, and walks the latest version of every record; from each
 * case this file keeps only what the indicator counts (sex, age at intake,
 * violence types, whether the case was open in the year, and the year and
 * author of each service record), never a name, a date of birth or a case
 * id in the output. Authors are resolved to "trained" after the walk, in a
 * transaction of its own, since LMDB allows one read transaction per thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "casevault.h"
#include "base/error.h"
#include "gate/gate.h"
#include "rules/forms.h"
#include "rules/indicator.h"
#include "rules/schema.h"
#include "model/recstore.h"
#include "ops/report.h"
#include "store/store.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"

/* Whether a type counts is declared by its definition (forms/<type>.json). */
int
cv_report_service_type(const char *type)
{
	return cv_schema_service(cv_forms_schema(type));
}

/* The UTC calendar date of MS. */
static void
utc_date(uint64_t ms, int *y, int *m, int *d)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

int
cv_report_age_at(const char *birth, uint64_t at)
{
	int by, bm, bd, y, m, d, age;
	uint64_t ms;

	/* cv_parse_time checks that the date exists. */
	if (birth == NULL || strlen(birth) != 10 ||
	    cv_parse_time(birth, &ms) != 0)
		return -1;
	utc_date(ms, &by, &bm, &bd);
	utc_date(at, &y, &m, &d);
	age = y - by;
	if (m < bm || (m == bm && d < bd))
		age--;
	return age < 0 ? -1 : age;
}

int
cv_report_handled(const json_t *meta, int year)
{
	const json_t *opened = json_object_get(meta, "opened");
	const json_t *closed = json_object_get(meta, "closed");
	int y, m, d;

	if (!json_is_integer(opened) || json_integer_value(opened) < 0)
		return 0;
	utc_date((uint64_t)json_integer_value(opened), &y, &m, &d);
	if (y > year)
		return 0;
	if (!json_is_integer(closed))
		return 1;
	if (json_integer_value(closed) < 0)
		return 0;
	utc_date((uint64_t)json_integer_value(closed), &y, &m, &d);
	return y >= year;
}

int
cv_report_intake_row(const json_t *intake, uint64_t opened, json_t *row)
{
	const json_t *sv = json_object_get(intake, "survivor");
	const json_t *types, *t;
	const char *sex;
	json_t *violence;
	size_t i;
	int age;

	age = cv_report_age_at(
	    json_string_value(json_object_get(sv, "birth_date")), opened);
	if (age < 0 || age > 150)
		return CV_EINVAL;
	sex = json_string_value(json_object_get(sv, "sex"));
	if (sex != NULL && strcmp(sex, "female") != 0 &&
	    strcmp(sex, "male") != 0)
		return CV_EINVAL;
	/*
	 * Sex is optional at intake. A child is inside the indicator
	 * whatever her sex, and the indicator breaks down by age and
	 * violence only, so an unrecorded sex is given as "male": it can
	 * neither add a survivor nor move one between cells. An adult of
	 * unrecorded sex cannot be placed and is left out.
	 */
	if (sex == NULL) {
		if (age >= 18)
			return CV_EINVAL;
		sex = "male";
	}
	if ((violence = json_array()) == NULL)
		return CV_ENOMEM;
	types = json_object_get(
	    json_object_get(intake, "incident"), "violence_types");
	json_array_foreach (types, i, t)
		if (json_is_string(t))
			json_array_append(violence, (json_t *)t);
	json_object_set_new(row, "sex", json_string(sex));
	json_object_set_new(row, "age", json_integer(age));
	json_object_set_new(row, "violence", violence);
	return 0;
}

struct walk {
	int year;
	json_t *cases;   /* case id -> {"row", "svc": [[year, author]...]} */
	json_t *authors; /* "u<id>" -> null, filled in after the walk */
};

static int
walk_record(const char *case_id, const json_t *meta, uint32_t record,
    uint32_t version, const struct cv_rec_hdr *h, const json_t *data, void *arg)
{
	struct walk *w = arg;
	json_t *c, *row;
	char uid[16];
	int y, m, d;

	(void)record;
	(void)version;
	if ((c = json_object_get(w->cases, case_id)) == NULL) {
		c = json_pack("{s:{s:[]}, s:[], s:b}", "row", "handled", "svc",
		    "intake", 0);
		if (c == NULL || json_object_set_new(w->cases, case_id, c) != 0)
			return CV_ENOMEM;
		if (cv_report_handled(meta, w->year))
			json_array_append_new(
			    json_object_get(
			        json_object_get(c, "row"), "handled"),
			    json_integer(w->year));
	}
	if (h == NULL || data == NULL)
		return 0;
	if (strcmp(h->type, "intake") == 0) {
		/* Records arrive in id order: a later intake replaces. */
		row = json_object_get(c, "row");
		json_object_del(row, "sex");
		json_object_del(row, "age");
		json_object_del(row, "violence");
		json_object_set_new(c, "intake", json_false());
		if (json_is_integer(json_object_get(meta, "opened")) &&
		    cv_report_intake_row(data,
		        (uint64_t)json_integer_value(
		            json_object_get(meta, "opened")),
		        row) == 0)
			json_object_set_new(c, "intake", json_true());
		return 0;
	}
	if (!cv_report_service_type(h->type))
		return 0;
	utc_date(h->time, &y, &m, &d);
	snprintf(uid, sizeof(uid), "u%u", (unsigned)h->author);
	if (json_array_append_new(
	        json_object_get(c, "svc"), json_pack("[i, s]", y, uid)) != 0 ||
	    json_object_set_new(w->authors, uid, json_null()) != 0)
		return CV_ENOMEM;
	return 0;
}

/* Look up whether each author was trained (a missing user is not). */
static int
resolve_authors(struct cv_session *s, json_t *authors)
{
	struct cv_user u;
	struct cv_txn *txn;
	const char *k;
	json_t *v;
	int r = 0;

	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	json_object_foreach (authors, k, v) {
		r = cv_user_by_id(txn, (uint32_t)strtoul(k + 1, NULL, 10), &u);
		/* The trained flag is counted only from an account whose
		 * MAC holds: an edited one refuses the report. */
		if (r == 0)
			r = cv_user_check(txn, s, &u);
		if (r != 0 && r != CV_ENOTFOUND)
			break;
		json_object_set_new(
		    authors, k, json_boolean(r == 0 && u.trained));
		r = 0;
	}
	cv_txn_abort(txn);
	return r;
}

static int
build_rows(const struct walk *w, json_t **out)
{
	const json_t *c, *sv;
	const char *id;
	json_t *rows, *row, *services;
	size_t i;

	if ((rows = json_array()) == NULL)
		return CV_ENOMEM;
	json_object_foreach (w->cases, id, c) {
		if (!json_is_true(json_object_get(c, "intake")))
			continue;
		row = json_deep_copy(json_object_get(c, "row"));
		services = json_array();
		if (row == NULL || services == NULL) {
			json_decref(row);
			json_decref(services);
			json_decref(rows);
			return CV_ENOMEM;
		}
		json_array_foreach (json_object_get(c, "svc"), i, sv)
			json_array_append_new(services,
			    json_pack("{s:O, s:b}", "year",
			        json_array_get(sv, 0), "trained",
			        json_is_true(json_object_get(w->authors,
			            json_string_value(
			                json_array_get(sv, 1))))));
		json_object_set_new(row, "services", services);
		json_array_append_new(rows, row);
	}
	*out = rows;
	return 0;
}

int
cv_report_indicator(struct cv_session *s, int year, json_t **out)
{
	struct walk w = {year, NULL, NULL};
	json_t *extra = NULL, *rows = NULL;
	int r;

	cv_error_clear();
	*out = NULL;
	if (s == NULL || year < 1900 || year > 9999) {
		cv_error_set("year: must be 1900-9999");
		return CV_EINVAL;
	}
	w.cases = json_object();
	w.authors = json_object();
	extra = json_pack("{s:i}", "year", year);
	if (w.cases == NULL || w.authors == NULL || extra == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_gate_aggregate(s, "report.indicator", CV_ACTION_REPORT_READ,
	         NULL, extra, walk_record, &w)) != 0)
		goto out;
	if ((r = resolve_authors(s, w.authors)) != 0)
		goto out;
	if ((r = build_rows(&w, &rows)) != 0)
		goto out;
	r = cv_indicator_compute(rows, year, out);
out:
	json_decref(w.cases);
	json_decref(w.authors);
	json_decref(extra);
	json_decref(rows);
	return r;
}

int
cv_report_indicator_csv(const json_t *report, char **csv)
{
	cv_error_clear();
	if (csv == NULL)
		return CV_EINVAL;
	*csv = NULL;
	if (!json_is_object(report) ||
	    !json_is_integer(json_object_get(report, "year")) ||
	    !json_is_object(json_object_get(report, "by_age_group")) ||
	    !json_is_object(json_object_get(report, "by_violence")))
		return CV_EINVAL;
	return (*csv = cv_indicator_csv(report)) != NULL ? 0 : CV_ENOMEM;
}
