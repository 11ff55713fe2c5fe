#define _GNU_SOURCE
/*
 * Case work through a real vault: assessments scored and stored (bad
 * answers refused with nothing written), counselling notes kept from the
 * roles that may not read them with the refusal on the trail, the service
 * flow enforced on the case, the worsening of a survivor's scores shown in
 * the case summary, and the coverage indicator counted from the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "model/casemeta.h"
#include "casevault.h"
#include "ops/case_summary.h"
#include "ops/report.h"
#include "model/recstore.h"
#include "store/store.h"
#include "base/util.h"
#include "model/session.h"

#include "helpers.h"
#include "helpers.c.inc"

/* HAM-D-17, 17 items: 2+1+0+1+1+0+2+1+0+2+1+1+1+0+1+0+1 = 15, "moderate"
 * (14-18), "Depresi sedang" in docs/assessments.md. */
#define HAMD_15 "[2,1,0,1,1,0,2,1,0,2,1,1,1,0,1,0,1]"
/* 1+1+1+1+1+1+1+1+1+1 + 0*7 = 10: "mild" (8-13). */
#define HAMD_10 "[1,1,1,1,1,1,1,1,1,1,0,0,0,0,0,0,0]"
/* 4*3 + 2*3 + 1*2 = 20: "severe" (19-22). */
#define HAMD_20 "[4,4,4,2,2,2,1,1,0,0,0,0,0,0,0,0,0]"

/*
 * siti (trained counselor) opened a case with an intake; the supervisor
 * put rina (social worker, untrained) on its team.
 */
static int
setup(void **state)
{
	struct test_fx *f;
	struct cv_session *s;

	test_fx_setup(state, test_staff_team, TEST_COUNT(test_staff_team));
	f = *state;
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_assign(s, f->cid, "rina"), 0);
	cv_session_close(s);
	return 0;
}

static json_t *
answers(const char *items)
{
	char buf[256];
	json_t *j;

	snprintf(buf, sizeof(buf), "{\"items\": %s}", items);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	return j;
}

/* The number of records of the case, from its metadata. */
static json_int_t
record_count(const struct test_fx *f)
{
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *show;
	json_int_t n;

	assert_int_equal(cv_case_show(s, f->cid, &show), 0);
	n = (json_int_t)json_array_size(json_object_get(show, "records"));
	json_decref(show);
	cv_session_close(s);
	return n;
}

static uint32_t
assess_ok(
    struct cv_session *s, const char *cid, const char *items, json_t **result)
{
	json_t *a = answers(items);
	uint32_t id = 0;

	assert_int_equal(cv_assessment_add(s, cid, "hamd", a, result, &id), 0);
	json_decref(a);
	assert_true(id > 0);
	return id;
}

static void
test_assess_stored(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *res, *rec;
	uint32_t id;

	id = assess_ok(s, f->cid, HAMD_15, &res);
	assert_int_equal(json_integer_value(json_object_get(res, "total")), 15);
	assert_string_equal(
	    json_string_value(json_object_get(res, "severity")), "moderate");
	assert_string_equal(
	    json_string_value(json_object_get(res, "severity_id")),
	    "Depresi sedang");
	assert_int_equal(
	    json_integer_value(json_object_get(res, "version")), 1);
	json_decref(res);

	/* Stored as an assessment record holding the same result. */
	assert_int_equal(cv_record_show(s, f->cid, id, 0, NULL, &rec), 0);
	assert_string_equal(
	    json_string_value(json_object_get(rec, "type")), "assessment");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(rec, "data"), "total")),
	    15);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(rec, "data"), "instrument")),
	    "hamd");
	json_decref(rec);
	cv_session_close(s);
}

static void
refused_nothing_written(struct test_fx *f, const char *items, const char *want)
{
	struct cv_session *s;
	json_t *a = answers(items), *res = (json_t *)1;
	json_int_t before = record_count(f);
	uint32_t id = 7;

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(
	    cv_assessment_add(s, f->cid, "hamd", a, &res, &id), CV_ESCHEMA);
	assert_non_null(strstr(cv_error_detail(), want));
	assert_null(res);
	assert_int_equal(id, 0);
	cv_session_close(s);
	json_decref(a);
	assert_int_equal(record_count(f), before);
}

static void
test_assess_bad_answers(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	json_t *a, *res;
	uint32_t id;

	/* Item 4 (early insomnia) scores 0-2. */
	refused_nothing_written(
	    f, "[2,1,0,3,1,0,2,1,0,2,1,1,1,0,1,0,1]", "item 4: must be 0-2");
	refused_nothing_written(f, "[2,1,0,1,1,0,2,1,0,2,1,1,1,0,1,0]",
	    "items: expected 17, got 16");
	refused_nothing_written(f, "[2,1,0,1,1,0,2,1,0,2,1,1,1,0,1,0,1,1]",
	    "items: expected 17, got 18");

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	a = answers(HAMD_15);
	assert_int_equal(
	    cv_assessment_add(s, f->cid, "horoscope", a, &res, &id), CV_EINVAL);
	cv_session_close(s);

	/* A social worker may not write clinical data. */
	s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	assert_int_equal(
	    cv_assessment_add(s, f->cid, "hamd", a, &res, &id), CV_EDENIED);
	cv_session_close(s);
	json_decref(a);
}

/* 1 if the trail of the case holds an event ACTION/DECISION by ACTOR. */
static int
trail_has(const struct test_fx *f, const char *action, const char *decision,
    const char *actor_name, const char *needle)
{
	struct cv_session *s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	json_t *log, *ev;
	char *dump;
	size_t i;
	int found = 0;

	assert_int_equal(cv_audit_log(s, f->cid, actor_name, 0, 0, &log), 0);
	json_array_foreach (log, i, ev)
		if (strcmp(json_string_value(json_object_get(ev, "action")),
		        action) == 0 &&
		    strcmp(json_string_value(json_object_get(ev, "decision")),
		        decision) == 0)
			found = 1;
	if (needle != NULL) {
		dump = json_dumps(log, 0);
		assert_non_null(dump);
		if (strstr(dump, needle) != NULL)
			found = -1;
		free(dump);
	}
	json_decref(log);
	cv_session_close(s);
	return found;
}

static void
test_note(void **state)
{
	struct test_fx *f = *state;
	static const char text[] = "She spoke about the night of 18 May.";
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *notes, *data;
	uint32_t id, id2;

	assert_int_equal(cv_note_add(s, f->cid, text, strlen(text), "initial",
	                     "2025-05-21", &id),
	    0);
	assert_int_equal(cv_note_show(s, f->cid, &notes), 0);
	assert_int_equal(json_array_size(notes), 1);
	data = json_object_get(json_array_get(notes, 0), "data");
	assert_string_equal(
	    json_string_value(json_object_get(data, "text")), text);
	assert_string_equal(
	    json_string_value(json_object_get(data, "kind")), "initial");
	assert_string_equal(
	    json_string_value(json_object_get(data, "session_date")),
	    "2025-05-21");
	json_decref(notes);

	/* Blank, unknown kind, future date: refused, nothing written. */
	assert_int_equal(
	    cv_note_add(s, f->cid, "  \n ", 4, NULL, NULL, &id2), CV_ESCHEMA);
	assert_int_equal(
	    cv_note_add(s, f->cid, text, strlen(text), "gossip", NULL, &id2),
	    CV_ESCHEMA);
	assert_int_equal(cv_note_add(s, f->cid, text, strlen(text), NULL,
	                     "2999-01-01", &id2),
	    CV_ESCHEMA);
	assert_int_equal(
	    cv_note_add(s, f->cid, "\xff\xfe", 2, NULL, NULL, &id2), CV_EINVAL);
	assert_int_equal(id2, 0);
	assert_int_equal(cv_note_show(s, f->cid, &notes), 0);
	assert_int_equal(json_array_size(notes), 1);
	json_decref(notes);
	cv_session_close(s);

	/* The social worker on the team is refused, and it is recorded. */
	s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	notes = (json_t *)1;
	assert_int_equal(cv_note_show(s, f->cid, &notes), CV_EDENIED);
	assert_null(notes);
	assert_non_null(strstr(cv_error_detail(), "sw-no-notes"));
	cv_session_close(s);
	assert_int_equal(trail_has(f, "note.show", "deny", "rina", NULL), 1);
	/* The note's text never enters the trail. */
	assert_int_equal(
	    trail_has(f, "note.show", "allow", "siti", "18 May"), 1);
	assert_int_equal(
	    trail_has(f, "record.add", "allow", NULL, "night of"), 1);
}

static void
test_service_plan_residential(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	json_t *bad =
	    test_fixture("service_plan_bad_residential_no_reason.json");
	json_t *good = test_fixture("service_plan_residential_valid.json");
	uint32_t id = 9;

	assert_int_equal(
	    cv_record_add(s, f->cid, "service_plan", bad, &id), CV_ESCHEMA);
	assert_non_null(strstr(cv_error_detail(), "plan.reason"));
	assert_int_equal(id, 0);
	assert_int_equal(
	    cv_record_add(s, f->cid, "service_plan", good, &id), 0);
	assert_true(id > 0);
	json_decref(bad);
	json_decref(good);
	cv_session_close(s);
}

/*
 * cv_rec_list names each record once, in record order, however many
 * versions it has, and with a type only the records of that type; it
 * reads headers only, so it needs no gate decision.
 */
static void
test_record_list(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	struct cv_txn *txn;
	json_t *in = test_intake_changed(1), *res, *ids, *want;
	uint32_t note1, note2, version;

	assert_int_equal(
	    cv_note_add(s, f->cid, "first", 5, NULL, NULL, &note1), 0);
	assess_ok(s, f->cid, HAMD_10, &res);
	json_decref(res);
	assert_int_equal(
	    cv_note_add(s, f->cid, "second", 6, NULL, NULL, &note2), 0);
	/* A second version of the intake, record 1. */
	assert_int_equal(cv_record_amend(s, f->cid, 1, in, &version), 0);
	assert_int_equal(version, 2);
	json_decref(in);

	assert_int_equal(cv_txn_begin(s->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_rec_list(txn, s, f->cid, NULL, &ids), 0);
	want = json_pack("[[i, s], [I, s], [i, s], [I, s]]", 1, "intake",
	    (json_int_t)note1, "note", 3, "assessment", (json_int_t)note2,
	    "note");
	assert_true(json_equal(ids, want));
	json_decref(ids);
	json_decref(want);
	assert_int_equal(cv_rec_list(txn, s, f->cid, "note", &ids), 0);
	want = json_pack(
	    "[[I, s], [I, s]]", (json_int_t)note1, "note", (json_int_t)note2, "note");
	assert_true(json_equal(ids, want));
	json_decref(ids);
	json_decref(want);
	assert_int_equal(cv_rec_list(txn, s, f->cid, "shelter", &ids), 0);
	assert_int_equal(json_array_size(ids), 0);
	json_decref(ids);
	cv_txn_abort(txn);
	cv_session_close(s);
}

static const char *const full_path[] = {
    "referral_received",
    "initial_counselling",
    "schedule_agreed",
    "family_tracing",
    "safe_house",
    "further_counselling",
    "interventions",
    "followup_recommendation",
};

static json_t *
summary(const struct test_fx *f, const char *user)
{
	struct cv_session *s = test_login(f->dir, user, TEST_PASS_STAFF);
	struct cv_txn *txn;
	json_t *meta, *show;

	assert_int_equal(cv_txn_begin(s->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_case_load(txn, s, f->cid, &meta), 0);
	show = json_object();
	assert_int_equal(cv_case_summary(s, txn, f->cid, meta, show), 0);
	cv_txn_abort(txn);
	json_decref(meta);
	cv_session_close(s);
	return show;
}

static void
test_flow(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *show, *tl, *e;
	size_t i;

	/* A new case starts at the referral. */
	assert_int_equal(
	    cv_case_step(s, f->cid, "initial_counselling", NULL), CV_ESTATE);
	assert_non_null(strstr(cv_error_detail(), "referral_received"));
	assert_int_equal(
	    cv_case_step(s, f->cid, "moon_landing", NULL), CV_EINVAL);
	assert_int_equal(cv_case_step(s, f->cid, full_path[0], NULL), 0);
	/* Skipping the initial counselling is refused with the reason. */
	assert_int_equal(
	    cv_case_step(s, f->cid, "family_tracing", NULL), CV_ESTATE);
	assert_non_null(
	    strstr(cv_error_detail(), "initial_counselling must come first"));
	for (i = 1; i < CV_ARRAY_LEN(full_path); i++)
		assert_int_equal(
		    cv_case_step(s, f->cid, full_path[i], NULL), 0);
	cv_session_close(s);

	/* The social worker may record steps, but not close the case. */
	s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	assert_int_equal(cv_case_step(s, f->cid, "closed", NULL), CV_EDENIED);
	cv_session_close(s);

	show = summary(f, "siti");
	assert_string_equal(json_string_value(json_object_get(show, "step")),
	    "followup_recommendation");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(show, "step_label"), "id")),
	    "Rekomendasi penanganan tindak "
	    "lanjut");
	tl = json_object_get(show, "timeline");
	assert_int_equal(json_array_size(tl), CV_ARRAY_LEN(full_path));
	json_array_foreach (tl, i, e)
		assert_string_equal(
		    json_string_value(json_object_get(e, "step")),
		    full_path[i]);
	json_decref(show);

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_case_step(s, f->cid, "closed", NULL), 0);
	/* Closed is final, and the case is closed. */
	assert_int_equal(
	    cv_case_step(s, f->cid, "further_counselling", NULL), CV_ESTATE);
	cv_session_close(s);
	show = summary(f, "siti");
	assert_string_equal(
	    json_string_value(json_object_get(show, "step")), "closed");
	json_decref(show);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_close(s, f->cid, NULL), CV_ESTATE);
	cv_session_close(s);
}

static void
test_early_close_reason(void **state)
{
	struct test_fx *f = *state;
	static const char why[] = "Moved to her sister in Jember";
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *show, *tl;

	assert_int_equal(cv_case_step(s, f->cid, "referral_received", NULL), 0);
	assert_int_equal(cv_case_step(s, f->cid, "closed", NULL), CV_ESTATE);
	assert_non_null(strstr(cv_error_detail(), "needs a recorded reason"));
	assert_int_equal(cv_case_step(s, f->cid, "closed", "   "), CV_ESTATE);
	assert_int_equal(
	    cv_case_step(s, f->cid, "closed", "a\x1b[2Jb"), CV_EINVAL);
	assert_int_equal(cv_case_step(s, f->cid, "closed", why), 0);
	cv_session_close(s);

	/* Kept in the sealed metadata and shown in the timeline... */
	show = summary(f, "siti");
	tl = json_object_get(show, "timeline");
	assert_int_equal(json_array_size(tl), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(tl, 1), "reason")),
	    why);
	json_decref(show);
	/* ...never in the trail, nor in clear in any file of the vault. */
	assert_int_equal(
	    trail_has(f, "case.step", "allow", "siti", "Jember"), 1);
	assert_int_equal(test_dir_contains(f->dir, "Jember", 6), 0);
}

/* case close follows the flow as case step CASE closed does: early, it
 * needs a reason; then the case is closed at the step "closed". */
static void
test_close_follows_flow(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *show;

	assert_int_equal(cv_case_step(s, f->cid, "referral_received", NULL), 0);
	cv_session_close(s);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_close(s, f->cid, NULL), CV_ESTATE);
	assert_non_null(strstr(cv_error_detail(), "needs a recorded reason"));
	assert_int_equal(cv_case_close(s, f->cid, "Moved to her sister"), 0);
	cv_session_close(s);
	show = summary(f, "siti");
	assert_string_equal(
	    json_string_value(json_object_get(show, "step")), "closed");
	json_decref(show);
	/* Closed: nothing more is added. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(
	    cv_case_step(s, f->cid, "further_counselling", NULL), CV_ESTATE);
	cv_session_close(s);
}

static void
test_worsening(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *res, *show, *hamd, *results, *plan;
	uint32_t id;

	assess_ok(s, f->cid, HAMD_10, &res);
	json_decref(res);
	assess_ok(s, f->cid, HAMD_20, &res);
	json_decref(res);
	cv_session_close(s);
	s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	plan = test_fixture("service_plan_valid.json");
	assert_int_equal(
	    cv_record_add(s, f->cid, "service_plan", plan, &id), 0);
	json_decref(plan);
	cv_session_close(s);

	show = summary(f, "siti");
	hamd = json_object_get(json_object_get(show, "assessments"), "hamd");
	assert_non_null(hamd);
	results = json_object_get(hamd, "results");
	assert_int_equal(json_array_size(results), 2);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(results, 0), "total")),
	    10);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(results, 1), "total")),
	    20);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(results, 1), "severity")),
	    "severe");
	assert_true(json_is_true(json_object_get(hamd, "worsened")));
	/* The service plan is on the timeline, dated by its first service. */
	assert_int_equal(json_array_size(json_object_get(show, "timeline")), 1);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(show, "timeline"), 0), "type")),
	    "service_plan");
	json_decref(show);

	/* Better again: no longer worsened. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assess_ok(s, f->cid, HAMD_15, &res);
	json_decref(res);
	cv_session_close(s);
	show = summary(f, "siti");
	hamd = json_object_get(json_object_get(show, "assessments"), "hamd");
	assert_int_equal(json_array_size(json_object_get(hamd, "results")), 3);
	assert_true(json_is_false(json_object_get(hamd, "worsened")));
	json_decref(show);

	/* The social worker sees the plan but no assessment. */
	show = summary(f, "rina");
	assert_int_equal(
	    json_object_size(json_object_get(show, "assessments")), 0);
	assert_int_equal(json_array_size(json_object_get(show, "timeline")), 1);
	json_decref(show);
}

/* An intake for a survivor of SEX born on BIRTH. */
static json_t *
intake(const char *sex, const char *birth)
{
	json_t *in = test_fixture("intake_valid.json");
	json_t *sv = json_object_get(in, "survivor");

	json_object_set_new(sv, "sex", json_string(sex));
	json_object_set_new(sv, "birth_date", json_string(birth));
	json_object_del(sv, "nik");
	return in;
}

static void
open_case(struct cv_session *s, const char *sex, const char *birth,
    char id[static CV_CASE_ID_LEN + 1])
{
	json_t *in = intake(sex, birth);

	assert_int_equal(cv_case_open(s, in, id), 0);
	json_decref(in);
}

static void
test_indicator(void **state)
{
	struct test_fx *f = *state;
	char a[12], b[12], c[12], d[12], e[12], child[24], t[25];
	struct cv_session *s;
	json_t *res, *in, *ref, *x;
	uint32_t id;
	char *dump;
	int year;

	cv_format_time(cv_now_ms(), t);
	year = atoi(t);
	/* Ten years old whatever today is: born on 1 January ten years ago. */
	snprintf(child, sizeof(child), "%04d-01-01", year - 10);

	/*
	 * The fixture, all opened this year (the fixture case of setup is a
	 * woman too, with no service: case F):
	 *   A woman, 30, a note by siti (trained)         inside, served
	 *   B boy, 10, an assessment by siti (trained)    inside, served
	 *   C man, 45, a note by siti (trained)           outside
	 *   D woman, 30, a referral by rina (untrained)   inside, not served
	 *   E woman, 30, no service                       inside, not served
	 *   F woman (setup), no service                   inside, not served
	 * Denominator A, B, D, E, F = 5; numerator A, B = 2; 40.0 percent.
	 * Counting the man would give 3/6 = 50.0; counting rina as trained
	 * 3/5 = 60.0; leaving out the boy 1/4 = 25.0.
	 */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	open_case(s, "female", "1995-03-12", a);
	open_case(s, "male", child, b);
	open_case(s, "male", "1980-07-01", c);
	open_case(s, "female", "1995-03-12", d);
	open_case(s, "female", "1995-03-12", e);
	assert_int_equal(
	    cv_note_add(s, a, "first session", 13, "initial", NULL, &id), 0);
	assert_int_equal(
	    cv_note_add(s, c, "first session", 13, "initial", NULL, &id), 0);
	in = answers(HAMD_15);
	assert_int_equal(cv_assessment_add(s, b, "hamd", in, &x, &id), 0);
	json_decref(x);
	json_decref(in);
	cv_session_close(s);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_assign(s, d, "rina"), 0);
	cv_session_close(s);
	s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	ref = test_fixture("referral_valid.json");
	assert_int_equal(cv_record_add(s, d, "referral", ref, &id), 0);
	json_decref(ref);
	cv_session_close(s);

	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_report_indicator(s, year, &res), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(res, "year")), year);
	assert_int_equal(
	    json_integer_value(json_object_get(res, "denominator")), 5);
	assert_int_equal(
	    json_integer_value(json_object_get(res, "numerator")), 2);
	assert_true(json_real_value(json_object_get(res, "percent")) == 40.0);
	/* Counts only: no case id, no name. */
	dump = json_dumps(res, 0);
	assert_null(strstr(dump, a));
	assert_null(strstr(dump, "Sari"));
	free(dump);
	json_decref(res);

	/* Nobody was handled last year: an empty indicator, not an error. */
	assert_int_equal(cv_report_indicator(s, year - 1, &res), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(res, "denominator")), 0);
	assert_true(json_is_null(json_object_get(res, "percent")));
	json_decref(res);
	assert_int_equal(cv_report_indicator(s, 1800, &res), CV_EINVAL);
	cv_session_close(s);

	/* A counselor may not produce it; the refusal is recorded. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	res = (json_t *)1;
	assert_int_equal(cv_report_indicator(s, year, &res), CV_EDENIED);
	assert_null(res);
	cv_session_close(s);
}

/* Records and steps are refused on a closed case, and on one whose
 * status cannot be read. */
static void
test_case_check_open(void **state)
{
	json_t *open = json_pack("{s:s}", "status", "open");
	json_t *closed = json_pack("{s:s}", "status", "closed");
	json_t *unreadable = json_pack("{s:i}", "status", 1);

	(void)state;
	assert_int_equal(cv_case_check_open(open), 0);
	assert_int_equal(cv_case_check_open(closed), CV_ESTATE);
	assert_string_equal(cv_error_detail(), "the case is closed");
	assert_int_equal(cv_case_check_open(unreadable), CV_ESTATE);
	json_decref(open);
	json_decref(closed);
	json_decref(unreadable);
}

/* The date notes and assessments default to: the UTC day of the moment. */
static void
test_format_date(void **state)
{
	char day[11];
	uint64_t at;

	(void)state;
	assert_int_equal(cv_parse_time("2025-06-14T23:59:59.999Z", &at), 0);
	cv_format_date(at, day);
	assert_string_equal(day, "2025-06-14");
	cv_format_date(at + 1, day);
	assert_string_equal(day, "2025-06-15");
}

static void
test_report_helpers(void **state)
{
	uint64_t opened, closed, at;
	json_t *meta, *row, *in;

	(void)state;
	/* Born 15 June 2008: 16 on the evening before the birthday (UTC),
	 * 17 from its first millisecond. */
	assert_int_equal(cv_parse_time("2025-06-14T23:59:59Z", &at), 0);
	assert_int_equal(cv_report_age_at("2008-06-15", at), 16);
	assert_int_equal(cv_parse_time("2025-06-15T00:00Z", &at), 0);
	assert_int_equal(cv_report_age_at("2008-06-15", at), 17);
	/* Born 29 February 2008: 17 on 28 February 2026, 18 on 1 March. */
	assert_int_equal(cv_parse_time("2026-02-28", &at), 0);
	assert_int_equal(cv_report_age_at("2008-02-29", at), 17);
	assert_int_equal(cv_parse_time("2026-03-01", &at), 0);
	assert_int_equal(cv_report_age_at("2008-02-29", at), 18);
	assert_int_equal(cv_report_age_at("2027-01-01", at), -1);
	assert_int_equal(cv_report_age_at("2008-02-30", at), -1);
	assert_int_equal(cv_report_age_at(NULL, at), -1);

	/* Opened mid-2023, closed early 2024: handled in both years only. */
	assert_int_equal(cv_parse_time("2023-06-01T10:00Z", &opened), 0);
	assert_int_equal(cv_parse_time("2024-02-01T10:00Z", &closed), 0);
	meta = json_pack("{s:I, s:I}", "opened", (json_int_t)opened, "closed",
	    (json_int_t)closed);
	assert_int_equal(cv_report_handled(meta, 2022), 0);
	assert_int_equal(cv_report_handled(meta, 2023), 1);
	assert_int_equal(cv_report_handled(meta, 2024), 1);
	assert_int_equal(cv_report_handled(meta, 2025), 0);
	json_object_set_new(meta, "closed", json_null());
	assert_int_equal(cv_report_handled(meta, 2030), 1);
	json_decref(meta);

	/* The row: sex, age at opening, violence; nothing else. */
	in = intake("female", "1995-03-12");
	row = json_object();
	assert_int_equal(cv_report_intake_row(in, opened, row), 0);
	assert_int_equal(json_integer_value(json_object_get(row, "age")), 28);
	assert_string_equal(
	    json_string_value(json_object_get(row, "sex")), "female");
	assert_int_equal(json_array_size(json_object_get(row, "violence")), 2);
	assert_int_equal(json_object_size(row), 3);
	json_decref(row);
	/* An adult of unrecorded sex cannot be placed. */
	json_object_del(json_object_get(in, "survivor"), "sex");
	row = json_object();
	assert_int_equal(cv_report_intake_row(in, opened, row), CV_EINVAL);
	json_decref(row);
	json_decref(in);
	assert_int_equal(cv_report_service_type("note"), 1);
	assert_int_equal(cv_report_service_type("intake"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_assess_stored, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_assess_bad_answers, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_note, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_service_plan_residential, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_record_list,
	        setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_flow, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_early_close_reason, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_close_follows_flow, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_worsening,
	        setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_indicator,
	        setup, test_fx_teardown),
	    cmocka_unit_test(test_report_helpers),
	    cmocka_unit_test(test_format_date),
	    cmocka_unit_test(test_case_check_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
