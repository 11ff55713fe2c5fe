#define _GNU_SOURCE
/*
 * The audit trail as the vault uses it: fail closed when it cannot be
 * written, refusals recorded, an audited write that never happened closed
 * by a follow-up at the next open, every record version matched to its
 * event by audit verify, and no survivor data in any audit object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/auditlog.h"
#include "casevault.h"
#include "model/recstore.h"
#include "store/store.h"
#include "base/util.h"
#include "gate/event.h"
#include "model/session.h"

#include "helpers.h"
#include "helpers.c.inc"

static const struct test_staff staff[] = {
	{"siti", "counselor", 1},
	{"rina", "social_worker", 0},
	{"inspektur", "auditor", 0},
};

static int
setup(void **state)
{
	return test_fx_setup(state, staff, TEST_COUNT(staff));
}

static void
lock_trail(const char *dir, int on)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/audit.git/refs/heads/main.lock", dir);
	if (on) {
		fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
		assert_true(fd >= 0);
		close(fd);
	} else {
		assert_int_equal(unlink(p), 0);
	}
}

static size_t
record_count(const char *dir)
{
	struct cv_store *st;
	struct cv_txn *txn;
	size_t n;

	assert_int_equal(cv_store_open(dir, &st), 0);
	assert_int_equal(cv_txn_begin(st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_store_count(txn, CV_DB_RECORDS, &n), 0);
	cv_txn_abort(txn);
	cv_store_close(st);
	return n;
}

static void
fail_closed_on_read_and_write(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *out = NULL, *in = test_fixture("referral_valid.json");
	size_t before = record_count(f->dir);
	uint32_t rid = 99;

	/* The session is open; now the trail cannot be written. */
	lock_trail(f->dir, 1);
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out),
	    CV_EAUDIT);
	assert_null(out);
	assert_int_equal(cv_record_add(s, f->cid, "referral", in, &rid),
	    CV_EAUDIT);
	assert_int_equal(rid, 0);
	cv_session_close(s);
	assert_int_equal(record_count(f->dir), before);
	/* No one can even log in while it stays so. */
	s = NULL;
	assert_int_equal(cv_session_open(f->dir, "siti", TEST_PASS_STAFF,
	    strlen(TEST_PASS_STAFF), &s), CV_EAUDIT);
	assert_null(s);
	lock_trail(f->dir, 0);
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out), 0);
	json_decref(out);
	json_decref(in);
	cv_session_close(s);
}

static void
fail_closed_when_trail_missing(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = NULL;
	char from[128], to[128];

	snprintf(from, sizeof(from), "%s/audit.git", f->dir);
	snprintf(to, sizeof(to), "%s/audit.moved", f->dir);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(cv_session_open(f->dir, "siti", TEST_PASS_STAFF,
	    strlen(TEST_PASS_STAFF), &s), CV_EAUDIT);
	assert_null(s);
	assert_int_equal(rename(to, from), 0);
}

struct find {
	const char *action;
	const char *decision;
	uint64_t ref;
	int found;
	json_t *last;
};

static int
find_event(const json_t *ev, void *arg)
{
	struct find *fd = arg;
	const char *a = json_string_value(json_object_get(ev, "action"));
	const char *d = json_string_value(json_object_get(ev, "decision"));

	if (a == NULL || strcmp(a, fd->action) != 0)
		return 0;
	if (fd->decision != NULL && (d == NULL || strcmp(d, fd->decision) != 0))
		return 0;
	if (fd->ref != 0 && (uint64_t)json_integer_value(json_object_get(ev,
	    "ref_seq")) != fd->ref)
		return 0;
	fd->found++;
	json_decref(fd->last);
	fd->last = json_deep_copy(ev);
	return 0;
}

static void
refusals_recorded(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	struct find fd = {"record.show", "deny", 0, 0, NULL};
	json_t *out = NULL;

	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out),
	    CV_EDENIED);
	assert_null(out);
	cv_session_close(s);
	assert_int_equal(cv_auditlog_foreach(f->dir, find_event, &fd), 0);
	assert_int_equal(fd.found, 1);
	assert_non_null(json_object_get(fd.last, "rule"));
	assert_non_null(json_object_get(fd.last, "reason"));
	assert_string_equal(json_string_value(json_object_get(fd.last,
	    "refused")) ? "" : "x", "x");
	assert_true(json_is_array(json_object_get(fd.last, "refused")));
	json_decref(fd.last);
	/* A failed login is recorded too, at the next unlock. */
	s = NULL;
	assert_int_equal(cv_session_open(f->dir, "rina", "wrong-passphrase!",
	    17, &s), CV_EAUTH);
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	cv_session_close(s);
	memset(&fd, 0, sizeof(fd));
	fd.action = "session.open";
	fd.decision = "deny";
	assert_int_equal(cv_auditlog_foreach(f->dir, find_event, &fd), 0);
	assert_int_equal(fd.found, 1);
	assert_string_equal(json_string_value(json_object_get(fd.last,
	    "rule")), "wrong-passphrase");
	json_decref(fd.last);
}

static void
unapplied_write_closed_at_next_open(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	struct find fd = {"audit.outcome", NULL, 0, 0, NULL};
	json_t *ev;
	uint64_t seq = 0;

	/* A write whose event became durable but whose store transaction
	 * never committed: what a crash between the two leaves. */
	ev = cv_event_new(s, "record.add");
	json_object_set_new(ev, "decision", json_string("allow"));
	assert_int_equal(cv_auditlog_append(s->audit, ev, CV_AUDIT_WRITE, &seq),
	    0);
	json_decref(ev);
	assert_true(seq > 0);
	cv_session_close(s);

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	cv_session_close(s);
	fd.ref = seq;
	assert_int_equal(cv_auditlog_foreach(f->dir, find_event, &fd), 0);
	assert_int_equal(fd.found, 1);
	assert_string_equal(json_string_value(json_object_get(fd.last,
	    "outcome")), "not_applied");
	json_decref(fd.last);
	/* Closed once, not again at every open. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	cv_session_close(s);
	fd.found = 0;
	fd.last = NULL;
	assert_int_equal(cv_auditlog_foreach(f->dir, find_event, &fd), 0);
	assert_int_equal(fd.found, 1);
	json_decref(fd.last);
}

static void
verify_matches_versions_to_events(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	struct cv_store *st;
	struct cv_txn *txn;
	struct cv_val v;
	uint8_t k1[CV_REC_KEYLEN], k9[CV_REC_KEYLEN], *copy;
	json_t *rep = NULL;

	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_verify(s, NULL, NULL, &rep), 0);
	assert_true(json_is_true(json_object_get(rep, "ok")));
	assert_int_equal(json_integer_value(json_object_get(rep,
	    "record_versions")), 1);
	json_decref(rep);
	cv_session_close(s);

	/* A version slipped into the store with no event of its own. */
	cv_rec_key(k1, f->cid, 1, 1);
	cv_rec_key(k9, f->cid, 1, 9);
	assert_int_equal(cv_store_open(f->dir, &st), 0);
	assert_int_equal(cv_txn_begin(st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(cv_get(txn, CV_DB_RECORDS, k1, sizeof(k1), &v),
	    0);
	copy = malloc(v.len);
	memcpy(copy, v.data, v.len);
	assert_int_equal(cv_put(txn, CV_DB_RECORDS, k9, sizeof(k9), copy,
	    v.len, 0), 0);
	free(copy);
	assert_int_equal(cv_txn_commit(txn), 0);
	cv_store_close(st);

	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	rep = NULL;
	assert_int_equal(cv_audit_verify(s, NULL, NULL, &rep), CV_EVERIFY);
	assert_false(json_is_true(json_object_get(rep, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(rep,
	    "reason")), "no matching audit event"));
	json_decref(rep);
	/* Only auditors verify. */
	cv_session_close(s);
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_verify(s, NULL, NULL, &rep), CV_EDENIED);
	cv_session_close(s);
}

/* 1 if S occurs in any object of DIR/audit.git, read uncompressed. */
static int
audit_objects_contain(const char *dir, const char *s)
{
	char cmd[512], line[8192];
	FILE *p;
	int found = 0;

	snprintf(cmd, sizeof(cmd), "git -C %s/audit.git cat-file "
	    "--batch-all-objects --batch", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL)
		if (strstr(line, s) != NULL)
			found = 1;
	pclose(p);
	return found;
}

static void
pseudonyms_are_keyed_and_stable(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "inspektur",
	    TEST_PASS_STAFF);
	char p1[CV_PSEUDONYM_LEN + 1], p2[CV_PSEUDONYM_LEN + 1], hex[65];
	uint8_t h[32];

	assert_int_equal(cv_audit_pseudonym(s, f->cid, p1), 0);
	cv_session_close(s);
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_pseudonym(s, f->cid, p2), 0);
	assert_string_equal(p1, p2);
	/* Not an unkeyed hash of the id. */
	crypto_generichash(h, 16, (const uint8_t *)f->cid, strlen(f->cid),
	    NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, 16);
	assert_string_not_equal(p1, hex);
	crypto_hash_sha256(h, (const uint8_t *)f->cid, strlen(f->cid));
	sodium_bin2hex(hex, sizeof(hex), h, 16);
	assert_string_not_equal(p1, hex);
	/* The id itself appears in no audit object (decompressed), while
	 * the pseudonym does: the search can find what is there. */
	assert_false(audit_objects_contain(f->dir, f->cid));
	assert_true(audit_objects_contain(f->dir, p1));
	cv_session_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fail_closed_on_read_and_write,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(fail_closed_when_trail_missing,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(refusals_recorded, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    unapplied_write_closed_at_next_open,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    verify_matches_versions_to_events, setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(pseudonyms_are_keyed_and_stable,
		    setup, test_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
