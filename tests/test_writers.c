#define _GNU_SOURCE
/*
 * Concurrent writers: several processes, each with a session of its own,
 * add, amend and read records of one case at the same moment for a
 * bounded time. Afterwards every acknowledged write reads back with its
 * content, the trail verifies, and the write events match the operations
 * one for one: each store_write event of a record either wrote the
 * version that names it as its audit_seq or is closed by a not_applied
 * outcome, never both and never neither.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/auditlog.h"
#include "casevault.h"
#include "base/util.h"
#include "gate/event.h"
#include "model/session.h"

#include "helpers.h"
#include "helpers.c.inc"

#define WRITERS   6
#define ROUNDS    12
#define RUN_MS    3000
#define MAX_OPS   (WRITERS * ROUNDS * 2)
#define MAX_SEQ   8192

/* An acknowledged write, as a writer reported it. */
struct ack {
	uint32_t record, version;
	char text[48];
};

static const struct test_staff staff[] = {
	{"siti", "counselor", 1},
	{"inspektur", "auditor", 0},
};

static int
setup(void **state)
{
	return test_fx_setup(state, staff, TEST_COUNT(staff));
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static json_t *
note(const char *text)
{
	return json_pack("{s:s, s:s, s:s}", "session_date", "2025-05-21",
	    "kind", "follow_up", "text", text);
}

/*
 * One writer: adds a note, amends a note it added, reads the case's
 * records, for ROUNDS rounds or RUN_MS, and writes each acknowledged
 * write to FD as a struct ack. Exits 0 unless something other than a
 * clean refusal of a write happened.
 */
static void
writer(const struct test_fx *f, int id, int fd, uint64_t until)
{
	struct cv_session *s = NULL;
	uint32_t mine[ROUNDS], rec, ver;
	struct ack a;
	json_t *d, *out;
	int i, n = 0, r, bad = 0;
	char pass[] = TEST_PASS_STAFF;

	if (cv_session_open(f->dir, "siti", pass, strlen(pass), &s) != 0)
		_exit(3);
	for (i = 0; i < ROUNDS && ms_now() < until; i++) {
		memset(&a, 0, sizeof(a));
		snprintf(a.text, sizeof(a.text), "writer %d note %d", id, i);
		d = note(a.text);
		r = cv_record_add(s, f->cid, "note", d, &rec);
		json_decref(d);
		if (r == 0) {
			a.record = rec;
			a.version = 1;
			mine[n++] = rec;
			if (write(fd, &a, sizeof(a)) != sizeof(a))
				bad = 1;
		} else if (r != CV_EEXIST && r != CV_EAUDIT)
			bad = 1;
		if (n > 0) {
			memset(&a, 0, sizeof(a));
			snprintf(a.text, sizeof(a.text),
			    "writer %d amend %d", id, i);
			d = note(a.text);
			rec = mine[(unsigned)i % (unsigned)n];
			r = cv_record_amend(s, f->cid, rec, d, &ver);
			json_decref(d);
			if (r == 0) {
				a.record = rec;
				a.version = ver;
				if (write(fd, &a, sizeof(a)) != sizeof(a))
					bad = 1;
			} else if (r != CV_EEXIST && r != CV_EAUDIT)
				bad = 1;
		}
		out = NULL;
		r = cv_record_list(s, f->cid, NULL, &out);
		json_decref(out);
		if (r != 0 && r != CV_EAUDIT)
			bad = 1;
	}
	cv_session_close(s);
	_exit(bad ? 2 : 0);
}

struct tally {
	uint8_t write[MAX_SEQ];	 /* 1: a store_write event of a record */
	uint8_t closed[MAX_SEQ]; /* not_applied outcomes naming the seq */
	uint8_t wrote[MAX_SEQ];	 /* versions naming the seq */
	int bad_seq;
};

static int
tally_event(const json_t *ev, void *arg)
{
	struct tally *t = arg;
	const char *a = json_string_value(json_object_get(ev, "action"));
	const char *o = json_string_value(json_object_get(ev, "outcome"));
	json_int_t seq = json_integer_value(json_object_get(ev, "seq"));

	if (a == NULL || seq <= 0 || seq >= MAX_SEQ) {
		t->bad_seq = 1;
		return 0;
	}
	if (json_is_true(json_object_get(ev, "store_write")) &&
	    (strcmp(a, "record.add") == 0 || strcmp(a, "record.amend") == 0))
		t->write[seq] = 1;
	if (strcmp(a, "audit.outcome") == 0 && o != NULL &&
	    strcmp(o, "not_applied") == 0) {
		seq = json_integer_value(json_object_get(ev, "ref_seq"));
		if (seq <= 0 || seq >= MAX_SEQ)
			t->bad_seq = 1;
		else
			t->closed[seq]++;
	}
	return 0;
}

static void
writers_at_once(void **state)
{
	struct test_fx *f = *state;
	static struct ack acks[MAX_OPS + 1];
	static struct tally t;
	struct cv_session *s;
	pid_t pid[WRITERS];
	uint64_t until = ms_now() + RUN_MS;
	size_t nack = 0, nver = 0, i, j;
	json_t *out, *hist, *v, *hv;
	ssize_t got;
	int fds[2], w, st, r, note_rec;
	long k;

	assert_int_equal(pipe(fds), 0);
	for (w = 0; w < WRITERS; w++) {
		pid[w] = fork();
		assert_true(pid[w] >= 0);
		if (pid[w] == 0) {
			close(fds[0]);
			writer(f, w, fds[1], until);
		}
	}
	close(fds[1]);
	while (nack < MAX_OPS &&
	    (got = read(fds[0], &acks[nack], sizeof(acks[0]))) > 0) {
		assert_int_equal(got, sizeof(acks[0]));
		nack++;
	}
	close(fds[0]);
	for (w = 0; w < WRITERS; w++) {
		assert_int_equal(waitpid(pid[w], &st, 0), pid[w]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	/* The writers got somewhere: a run that wrote nothing proves
	 * nothing. */
	assert_true(nack >= WRITERS);

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	/* Every acknowledged write reads back, with its content. */
	for (i = 0; i < nack; i++) {
		out = NULL;
		assert_int_equal(cv_record_show(s, f->cid, acks[i].record,
		                     acks[i].version, NULL, &out),
		    0);
		assert_string_equal(json_string_value(json_object_get(
		                        json_object_get(out, "data"), "text")),
		    acks[i].text);
		json_decref(out);
		for (j = 0; j < i; j++)
			assert_false(acks[j].record == acks[i].record &&
			    acks[j].version == acks[i].version);
	}
	/* Every version names its event. */
	memset(&t, 0, sizeof(t));
	out = NULL;
	assert_int_equal(cv_record_list(s, f->cid, NULL, &out), 0);
	json_array_foreach (out, i, v) {
		note_rec = strcmp(json_string_value(json_object_get(v, "type")),
		               "note") == 0;
		hist = NULL;
		assert_int_equal(cv_record_history(s, f->cid,
		                     (uint32_t)json_integer_value(
		                         json_object_get(v, "record")),
		                     &hist),
		    0);
		json_array_foreach (hist, j, hv) {
			k = (long)json_integer_value(
			    json_object_get(hv, "audit_seq"));
			assert_true(k > 0 && k < MAX_SEQ);
			t.wrote[k]++;
			nver += note_rec;
		}
		json_decref(hist);
	}
	json_decref(out);
	/* Nothing but the acknowledged writes is in the store. */
	assert_int_equal(nver, nack);

	out = NULL;
	cv_session_close(s);
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	r = cv_audit_verify(s, NULL, NULL, &out);
	if (r != 0 && out != NULL)
		print_message("audit verify: %s\n", json_string_value(
		                                        json_object_get(out, "reason")));
	assert_int_equal(r, 0);
	assert_true(json_is_true(json_object_get(out, "ok")));
	json_decref(out);
	cv_session_close(s);

	/* One for one: a write event wrote one version or was closed once
	 * as not applied; nothing else wrote a version or was closed. */
	assert_int_equal(cv_auditlog_foreach(f->dir, tally_event, &t), 0);
	assert_false(t.bad_seq);
	for (k = 1; k < MAX_SEQ; k++) {
		if (t.write[k])
			assert_int_equal(t.wrote[k] + t.closed[k], 1);
		else
			assert_int_equal(t.wrote[k], 0);
	}
}

/*
 * A writer whose event became durable but whose change never committed
 * (a failed put, a crash) while another session of the vault stays open:
 * the next write by anyone closes it before writing its own, once, and the
 * trail still verifies.
 */
static void
open_event_closed_by_next_writer(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *a = test_login(f->dir, "siti", TEST_PASS_STAFF);
	struct cv_session *b = test_login(f->dir, "siti", TEST_PASS_STAFF);
	static struct tally t;
	uint64_t seq = 0;
	uint32_t rec;
	json_t *ev, *d, *out = NULL;

	ev = cv_event_new(a, "record.add");
	json_object_set_new(ev, "decision", json_string("allow"));
	json_object_set_new(ev, "outcome", json_string("success"));
	assert_int_equal(
	    cv_auditlog_append(a->audit, ev, CV_AUDIT_WRITE, &seq), 0);
	json_decref(ev);
	assert_true(seq > 0 && seq < MAX_SEQ);
	cv_session_close(a);

	d = note("after the failed writer");
	assert_int_equal(cv_record_add(b, f->cid, "note", d, &rec), 0);
	json_decref(d);
	d = note("and once more");
	assert_int_equal(cv_record_add(b, f->cid, "note", d, &rec), 0);
	json_decref(d);
	cv_session_close(b);

	memset(&t, 0, sizeof(t));
	assert_int_equal(cv_auditlog_foreach(f->dir, tally_event, &t), 0);
	assert_int_equal(t.closed[seq], 1);

	b = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_verify(b, NULL, NULL, &out), 0);
	assert_true(json_is_true(json_object_get(out, "ok")));
	json_decref(out);
	cv_session_close(b);
	/* Closed once: not again at the next open. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(cv_auditlog_foreach(f->dir, tally_event, &t), 0);
	assert_int_equal(t.closed[seq], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(writers_at_once,
	        setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        open_event_closed_by_next_writer, setup, test_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
