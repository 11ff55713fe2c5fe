#define _GNU_SOURCE
/*
 * Oversight as staff meet it: the case list of a team member, a case whose
 * records one may not read, break-glass kept for cases one is not on, and
 * reviews made by someone else, after the window has closed. Each refusal
 * is checked on the trail as well as in the return code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "casevault.h"

#include "helpers.h"
#include "helpers.c.inc"

#define MIN_MS ((int64_t)60 * 1000)

/* siti (trained counselor) opened a case with an intake; kepala is the
 * supervisor, inspektur the auditor, rina a social worker not on it. */
static int
setup(void **state)
{
	cv_clock_set_offset_ms(0);
	return test_fx_setup(
	    state, test_staff_team, TEST_COUNT(test_staff_team));
}

static int
teardown(void **state)
{
	cv_clock_set_offset_ms(0);
	return test_fx_teardown(state);
}

/* The last event of ACTION on the trail, as the auditor reads it (a new
 * reference), or NULL. */
static json_t *
last_event(const char *dir, const char *action)
{
	struct cv_session *s = test_login(dir, "inspektur", TEST_PASS_STAFF);
	json_t *log = NULL, *ev, *found = NULL;
	size_t i;

	assert_int_equal(cv_audit_log(s, NULL, NULL, 0, 0, &log), 0);
	json_array_foreach (log, i, ev) {
		const char *a = json_string_value(json_object_get(ev, "action"));
		if (a != NULL && strcmp(a, action) == 0)
			found = ev;
	}
	if (found != NULL)
		json_incref(found);
	json_decref(log);
	cv_session_close(s);
	return found;
}

static void
assert_event(const char *dir, const char *action, const char *decision)
{
	json_t *ev = last_event(dir, action);

	assert_non_null(ev);
	assert_string_equal(
	    json_string_value(json_object_get(ev, "decision")), decision);
	json_decref(ev);
}

/* A counsellor lists her cases: hers is there, and nothing was refused. */
static void
test_case_list_team_member(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *out = NULL;

	assert_int_equal(cv_case_list(s, &out), 0);
	assert_int_equal(json_array_size(out), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(out, 0), "id")),
	    f->cid);
	json_decref(out);
	cv_session_close(s);
	assert_event(f->dir, "case.list", "allow");
}

/* Someone who may see no case gets an empty list, not a refusal. */
static void
test_case_list_nothing_visible(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	json_t *out = NULL;

	assert_int_equal(cv_case_list(s, &out), 0);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
	cv_session_close(s);
	assert_event(f->dir, "case.list", "allow");
}

/* The records of a case none of which one may read: refused, not an empty
 * answer; a team member still reads them. */
static void
test_record_list_none_visible(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	json_t *out = NULL;

	assert_int_equal(cv_record_list(s, f->cid, NULL, &out), CV_EDENIED);
	assert_null(out);
	assert_true(strlen(cv_error_detail()) > 0);
	cv_session_close(s);
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_record_list(s, f->cid, NULL, &out), 0);
	assert_int_equal(json_array_size(out), 1);
	json_decref(out);
	cv_session_close(s);
}

/* Break-glass is for a case one is not on: on her own case a counsellor
 * is refused, and the refusal is on the trail. */
static void
test_breakglass_own_case(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	char id[CV_OBJECT_ID_LEN + 1];

	assert_int_equal(cv_breakglass_open(s, f->cid,
	                     "hotline call at night", 5, id),
	    CV_EDENIED);
	cv_session_close(s);
	assert_event(f->dir, "breakglass.open", "deny");
	/* Off the team, the same window opens. */
	s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	assert_int_equal(
	    cv_breakglass_open(s, f->cid, "hotline call at night", 5, id), 0);
	cv_session_close(s);
}

/* A supervisor's own window: not reviewed by herself, and by no one
 * while it is open; by the auditor once it has closed. */
static void
test_review_by_another_after_close(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	char id[CV_OBJECT_ID_LEN + 1];
	json_t *out = NULL;

	assert_int_equal(
	    cv_breakglass_open(s, f->cid, "police at the door", 5, id), 0);
	assert_int_equal(cv_breakglass_review(s, id), CV_EDENIED);
	cv_session_close(s);
	assert_event(f->dir, "breakglass.review", "deny");

	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_breakglass_review(s, id), CV_EDENIED);
	cv_session_close(s);
	{
		json_t *ev = last_event(f->dir, "breakglass.review");
		assert_string_equal(json_string_value(json_object_get(ev,
		                        "rule")),
		    "builtin-review-after-close");
		json_decref(ev);
	}

	/* Six minutes on, the five-minute window has closed. */
	cv_clock_set_offset_ms(6 * MIN_MS);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_breakglass_review(s, id), CV_EDENIED);
	cv_session_close(s);
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_breakglass_review(s, id), 0);
	assert_int_equal(cv_breakglass_list(s, CV_BREAKGLASS_ALL, &out), 0);
	assert_int_equal(json_array_size(out), 1);
	assert_true(json_is_true(
	    json_object_get(json_array_get(out, 0), "reviewed")));
	json_decref(out);
	cv_session_close(s);
	assert_event(f->dir, "breakglass.review", "allow");
}

/* A supervisor's own disclosure is reviewed by someone else. */
static void
test_disclosure_not_self_reviewed(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	json_t *classes = json_pack("[s]", "incident"), *out = NULL;
	const char *id;
	char did[CV_OBJECT_ID_LEN + 1];

	assert_int_equal(cv_case_disclose(s, f->cid, classes,
	                     "tpks_police_report", "police", "LP/123", &out),
	    0);
	json_decref(classes);
	id = json_string_value(json_object_get(out, "disclosure"));
	assert_non_null(id);
	snprintf(did, sizeof(did), "%s", id);
	json_decref(out);
	assert_int_equal(cv_breakglass_review(s, did), CV_EDENIED);
	cv_session_close(s);
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_breakglass_review(s, did), 0);
	cv_session_close(s);
}

/* The shipped policies copied into DIR/p, with EXTRA appended to the file
 * of ROLE and every line starting with DROP removed from it. */
static void
policies_with(const char *dir, const char *role, const char *drop,
    const char *extra, char out[static 128])
{
	char cmd[512], file[192];
	FILE *fp;

	snprintf(out, 128, "%s/p", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r policies '%s'", out,
	    out);
	assert_int_equal(system(cmd), 0);
	snprintf(file, sizeof(file), "%s/%s.policy", out, role);
	if (drop != NULL) {
		snprintf(cmd, sizeof(cmd), "sed -i '/^%s/d' '%s'", drop, file);
		assert_int_equal(system(cmd), 0);
	}
	assert_non_null(fp = fopen(file, "a"));
	fprintf(fp, "%s\n", extra);
	fclose(fp);
}

/* A policy set that breaks an invariant is refused at deploy, and the
 * vault keeps its policy: the administrator still reads no record. */
static void
test_deploy_keeps_invariants(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	json_t *out = NULL;
	char pdir[128];

	policies_with(f->dir, "admin", "rule ad-no-content",
	    "rule ad-read allow read * when true", pdir);
	assert_int_equal(cv_policy_deploy(s, pdir), CV_EPOLICY);
	assert_non_null(strstr(cv_error_detail(), "read no record contents"));
	/* The deny kept, the allow is harmless: accepted. */
	policies_with(f->dir, "auditor", NULL,
	    "rule au-read allow read incident when true", pdir);
	assert_int_equal(cv_policy_deploy(s, pdir), 0);
	/* Notes for a supervisor without team or consent: refused. */
	policies_with(f->dir, "supervisor", NULL,
	    "rule su-notes allow read counseling_note when true", pdir);
	assert_int_equal(cv_policy_deploy(s, pdir), CV_EPOLICY);
	assert_non_null(strstr(cv_error_detail(), "counseling_note"));
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out),
	    CV_EDENIED);
	cv_session_close(s);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_note_show(s, f->cid, &out), CV_EDENIED);
	cv_session_close(s);
}

/* policy explain is oversight's: a counsellor is refused, and the
 * refusal is on the trail; the supervisor explains her own access. */
static void
test_explain_for_oversight(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *out = NULL;

	assert_int_equal(cv_policy_explain(s, "siti", "read", f->cid,
	                     "incident", NULL, &out),
	    CV_EDENIED);
	assert_null(out);
	assert_non_null(strstr(cv_error_detail(), "supervisors"));
	cv_session_close(s);
	assert_event(f->dir, "policy.explain", "deny");
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_policy_explain(s, "kepala", "read", f->cid,
	                     "incident", NULL, &out),
	    0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "decision")), "deny");
	json_decref(out);
	cv_session_close(s);
}

static int
setup_legal(void **state)
{
	cv_clock_set_offset_ms(0);
	return test_fx_setup(
	    state, test_staff_legal, TEST_COUNT(test_staff_legal));
}

/* The status of request RID in USER's request list. */
static char *
listed_status(const char *dir, const char *user, const char *rid)
{
	struct cv_session *s = test_login(dir, user, TEST_PASS_STAFF);
	json_t *out = NULL, *r;
	char *status = NULL;
	size_t i;

	assert_int_equal(cv_request_list(s, &out), 0);
	json_array_foreach (out, i, r)
		if (strcmp(json_string_value(json_object_get(r, "id")), rid) ==
		    0)
			status = strdup(json_string_value(
			    json_object_get(r, "status")));
	json_decref(out);
	cv_session_close(s);
	assert_non_null(status);
	return status;
}

/* An approved request whose window is over is listed as expired. */
static void
test_request_list_expired(void **state)
{
	struct test_fx *f = *state;
	char kid[CV_OBJECT_ID_LEN + 1], rid[CV_OBJECT_ID_LEN + 1], *st;

	test_grant_legal(f->dir, f->cid, "legal_proceeding", 0, kid);
	test_request_approved(f->dir, f->cid, "legal_proceeding", 1, rid);
	st = listed_status(f->dir, "andi", rid);
	assert_string_equal(st, "approved");
	free(st);
	cv_clock_set_offset_ms(61 * MIN_MS);
	st = listed_status(f->dir, "andi", rid);
	assert_string_equal(st, "expired");
	free(st);
	st = listed_status(f->dir, "kepala", rid);
	assert_string_equal(st, "expired");
	free(st);
	assert_int_equal(test_fetch(f->dir, rid), CV_EDENIED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_case_list_team_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_case_list_nothing_visible, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_record_list_none_visible, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_breakglass_own_case, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_review_by_another_after_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_disclosure_not_self_reviewed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_deploy_keeps_invariants, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_explain_for_oversight, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_request_list_expired, setup_legal, teardown),
	};

	assert_int_equal(cv_library_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
