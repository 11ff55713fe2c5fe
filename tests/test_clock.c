#define _GNU_SOURCE
/*
 * Time never goes backwards: decisions that depend on time take the later
 * of the system clock and the time of the trail's last event, so setting
 * the clock back revives nothing that expired and shortens no back-off;
 * an event's time never falls below its predecessor's; and a clock behind
 * the trail by more than the tolerance is reported in the event. The
 * clock is moved with the test-only offset of base/util.h, as an
 * administrator setting the system clock would move it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/auditlog.h"
#include "base/util.h"
#include "casevault.h"

#include "helpers.h"
#include "helpers.c.inc"

#define MIN_MS ((int64_t)60 * 1000)

static int
setup(void **state)
{
	test_clock_at(0);
	return test_fx_setup(state, test_staff_legal,
	    TEST_COUNT(test_staff_legal));
}

static int
teardown(void **state)
{
	test_clock_at(0);
	return test_fx_teardown(state);
}

/* A consent for legal proceedings until MINUTES from now (0: no end
 * given). */
static void
grant(struct test_fx *f, int64_t minutes)
{
	char id[CV_OBJECT_ID_LEN + 1];

	test_grant_legal(f->dir, f->cid, "legal_proceeding", minutes, id);
}

static void
approved_request(struct test_fx *f, unsigned hours,
    char rid[CV_OBJECT_ID_LEN + 1])
{
	test_request_approved(f->dir, f->cid, "legal_proceeding", hours, rid);
}

static int
fetch(struct test_fx *f, const char *rid)
{
	return test_fetch(f->dir, rid);
}

static void
expired_consent_stays_expired(void **state)
{
	struct test_fx *f = *state;
	char rid[CV_OBJECT_ID_LEN + 1];

	grant(f, 60);
	approved_request(f, 3, rid);
	assert_int_equal(fetch(f, rid), 0); /* the control: in force */
	test_clock_at(120);                 /* two hours on: expired */
	assert_int_equal(fetch(f, rid), CV_EDENIED);
	test_clock_at(0); /* set back across the expiry */
	assert_int_equal(fetch(f, rid), CV_EDENIED);
	test_clock_at(-24 * 60);
	assert_int_equal(fetch(f, rid), CV_EDENIED);
}

static void
expired_request_stays_expired(void **state)
{
	struct test_fx *f = *state;
	char rid[CV_OBJECT_ID_LEN + 1];

	grant(f, 0);
	approved_request(f, 1, rid);
	assert_int_equal(fetch(f, rid), 0);
	test_clock_at(120);
	assert_int_equal(fetch(f, rid), CV_EDENIED);
	test_clock_at(0);
	assert_int_equal(fetch(f, rid), CV_EDENIED);
}

static int
show(struct test_fx *f, const char *user)
{
	struct cv_session *s = test_login(f->dir, user, TEST_PASS_STAFF);
	json_t *out = NULL;
	int r = cv_record_show(s, f->cid, 1, 0, NULL, &out);

	json_decref(out);
	cv_session_close(s);
	return r;
}

static void
window(struct test_fx *f)
{
	struct cv_session *s = test_login(f->dir, "dewi", TEST_PASS_STAFF);
	char id[CV_OBJECT_ID_LEN + 1];

	assert_int_equal(
	    cv_breakglass_open(s, f->cid, "hotline call at night", 5, id), 0);
	cv_session_close(s);
}

static void
window_does_not_reopen(void **state)
{
	struct test_fx *f = *state;

	/* dewi is not on the case's team: only a window lets her read. */
	assert_int_equal(show(f, "dewi"), CV_EDENIED);
	window(f);
	assert_int_equal(show(f, "dewi"), 0);
	test_clock_at(10); /* the five minutes are over */
	assert_int_equal(show(f, "dewi"), CV_EDENIED);
	test_clock_at(0);
	assert_int_equal(show(f, "dewi"), CV_EDENIED);
	/* A window opened while the clock is behind runs on the vault's
	 * time: it is open at once, not closed before it began. */
	window(f);
	assert_int_equal(show(f, "dewi"), 0);
}

static int
login(struct test_fx *f, const char *user, const char *pass)
{
	return test_try_login(f->dir, user, pass);
}

static void
fail_three(struct test_fx *f)
{
	int i;

	for (i = 0; i < 3; i++)
		assert_int_equal(login(f, "andi", "not-the-passphrase"),
		    CV_EAUTH);
}

static void
backoff_not_shortened(void **state)
{
	struct test_fx *f = *state;

	/* Failures at the true time, then the clock set back: still held
	 * off (the third failure costs two seconds). */
	fail_three(f);
	test_clock_at(-60);
	assert_int_equal(login(f, "andi", TEST_PASS_STAFF), CV_ELOCKED);
	test_clock_at(3);
	assert_int_equal(login(f, "andi", TEST_PASS_STAFF), 0);

	/* The trail an hour ahead of the clock: failures made with the
	 * clock behind count from the trail's time, so moving the clock on
	 * while it is still behind the trail does not end the back-off. */
	test_clock_at(60);
	assert_int_equal(login(f, "kepala", TEST_PASS_STAFF), 0);
	test_clock_at(0);
	fail_three(f);
	assert_int_equal(login(f, "andi", TEST_PASS_STAFF), CV_ELOCKED);
	test_clock_at(30);
	assert_int_equal(login(f, "andi", TEST_PASS_STAFF), CV_ELOCKED);
	/* The refusal says why the wait outlasts the clock. */
	assert_non_null(strstr(cv_error_detail(), "behind the audit trail"));
	/* The control: once the vault's time is past the back-off, in. */
	test_clock_at(62);
	assert_int_equal(login(f, "andi", TEST_PASS_STAFF), 0);
}

struct last {
	char time[32];
	int ordered;
	json_t *ev;
};

static int
collect(const json_t *ev, void *arg)
{
	struct last *l = arg;
	const char *t = json_string_value(json_object_get(ev, "time"));

	assert_non_null(t);
	if (strcmp(t, l->time) < 0)
		l->ordered = 0;
	snprintf(l->time, sizeof(l->time), "%s", t);
	json_decref(l->ev);
	l->ev = json_deep_copy(ev);
	return 0;
}

/* The trail's last event (owned by the caller); *ordered: whether every
 * event's time is at or after its predecessor's. */
static json_t *
last_event(struct test_fx *f, int *ordered)
{
	struct last l = {"", 1, NULL};

	assert_int_equal(cv_auditlog_foreach(f->dir, collect, &l), 0);
	assert_non_null(l.ev);
	if (ordered != NULL)
		*ordered = l.ordered;
	return l.ev;
}

static void
event_times_never_go_back(void **state)
{
	struct test_fx *f = *state;
	char ahead[32];
	json_t *ev;
	int ordered;

	test_clock_at(60);
	assert_int_equal(login(f, "admin", TEST_PASS_ADMIN), 0);
	ev = last_event(f, &ordered);
	snprintf(ahead, sizeof(ahead), "%s",
	    json_string_value(json_object_get(ev, "time")));
	json_decref(ev);
	assert_true(ordered);
	test_clock_at(0);
	assert_int_equal(login(f, "admin", TEST_PASS_ADMIN), 0);
	assert_int_equal(show(f, "siti"), 0);
	ev = last_event(f, &ordered);
	assert_true(ordered);
	assert_string_equal(
	    json_string_value(json_object_get(ev, "time")), ahead);
	json_decref(ev);
}

/* The "clock_behind_ms" of the trail's last event, -1 when it has none. */
static json_int_t
behind_in_trail(struct test_fx *f)
{
	json_t *ev = last_event(f, NULL), *b;
	json_int_t ms = -1;

	if ((b = json_object_get(ev, "clock_behind_ms")) != NULL) {
		assert_true(json_is_integer(b));
		ms = json_integer_value(b);
	}
	json_decref(ev);
	return ms;
}

static void
clock_behind_reported(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;

	/* Behind by four minutes: within the tolerance, not reported. */
	test_clock_at(4);
	assert_int_equal(login(f, "admin", TEST_PASS_ADMIN), 0);
	test_clock_at(0);
	assert_int_equal(login(f, "admin", TEST_PASS_ADMIN), 0);
	assert_int_equal(behind_in_trail(f), -1);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_session_clock_behind(s), 0);
	cv_session_close(s);
	/* Behind by ten minutes: every event says by how much. */
	test_clock_at(14);
	assert_int_equal(login(f, "admin", TEST_PASS_ADMIN), 0);
	test_clock_at(4);
	assert_int_equal(login(f, "admin", TEST_PASS_ADMIN), 0);
	assert_in_range(behind_in_trail(f), 10 * MIN_MS - 1000, 10 * MIN_MS);
	/* ... and so does the session, for the command to warn. */
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_in_range(
	    cv_session_clock_behind(s), 10 * MIN_MS - 1000, 10 * MIN_MS);
	cv_session_close(s);
	assert_int_equal(show(f, "siti"), 0);
	assert_in_range(behind_in_trail(f), 10 * MIN_MS - 2000, 10 * MIN_MS);
	/* Once the clock is put right, no longer. */
	test_clock_at(14);
	assert_int_equal(login(f, "admin", TEST_PASS_ADMIN), 0);
	assert_int_equal(behind_in_trail(f), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    expired_consent_stays_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    expired_request_stays_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    window_does_not_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    backoff_not_shortened, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    event_times_never_go_back, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    clock_behind_reported, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
