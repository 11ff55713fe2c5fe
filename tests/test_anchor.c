#define _GNU_SOURCE
/*
 * The store's anchor on the audit trail: each tamper is a raw copy or edit
 * of the vault's files, as an insider with file access and no passphrase
 * would make it, and each must refuse the next open with its own code and
 * leave the files as they were. Positive controls: a writer that died
 * between its event and its commit is not mistaken for a rollback, and an
 * untouched vault opens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "model/session.h"
#include "store/store.h"
#include "base/util.h"

#include "helpers.h"
#include "helpers.c.inc"

static const struct test_staff staff[] = {
	{"siti", "counselor", 1},
	{"rina", "social_worker", 0},
	{"inspektur", "auditor", 0},
};

/* A vault with a counselor, a social worker, an auditor and one case. */
static int
setup(void **state)
{
	return test_fx_setup(state, staff, TEST_COUNT(staff));
}

static int
admin(const char *dir)
{
	return test_try_login(dir, "admin", TEST_PASS_ADMIN);
}

/* Copy file DIR/FROM over DIR/TO. */
static void
copy(const char *dir, const char *from, const char *to)
{
	char src[256], dst[256];
	size_t len;
	char *buf;

	snprintf(src, sizeof(src), "%s/%s", dir, from);
	snprintf(dst, sizeof(dst), "%s/%s", dir, to);
	assert_non_null(buf = test_file_read(src, &len));
	test_file_write(dst, buf, len);
	free(buf);
}

/* Each refusal has a code and a message of its own. */
static void
test_codes_distinct(void **state)
{
	(void)state;
	assert_true(CV_EROLLBACK != CV_ETRUNC);
	assert_string_not_equal(cv_strerror(CV_EROLLBACK), "unknown error");
	assert_string_not_equal(cv_strerror(CV_ETRUNC), "unknown error");
	assert_string_not_equal(
	    cv_strerror(CV_EROLLBACK), cv_strerror(CV_ETRUNC));
	assert_string_not_equal(cv_strerror(CV_ETRUNC), cv_strerror(CV_EAUDIT));
}

/* Positive control: an untouched vault opens, again and again. */
static void
test_untouched_opens(void **state)
{
	struct test_fx *f = *state;

	assert_int_equal(admin(f->dir), 0);
	assert_int_equal(test_try_login(f->dir, "siti", TEST_PASS_STAFF), 0);
	assert_int_equal(admin(f->dir), 0);
}

/* An older copy of the whole store put back undoes an account disable. */
static void
test_store_rolled_back(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	struct test_snap sn;

	copy(f->dir, "store.lmdb", "store.old");
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_disable(s, "rina"), 0);
	cv_session_close(s);
	assert_int_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), CV_EDISABLED);
	copy(f->dir, "store.old", "store.lmdb");

	test_snap_take(f->dir, &sn);
	assert_int_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), CV_EROLLBACK);
	assert_int_equal(admin(f->dir), CV_EROLLBACK);
	assert_non_null(strstr(cv_error_detail(), "login"));
	test_snap_same(f->dir, &sn);
}

/* The branch moved back one commit: the store's last position is gone. */
static void
test_trail_truncated(void **state)
{
	struct test_fx *f = *state;
	struct test_snap sn;

	assert_int_equal(admin(f->dir), 0);
	test_branch_back(f->dir, 1);
	test_snap_take(f->dir, &sn);
	assert_int_equal(admin(f->dir), CV_ETRUNC);
	assert_int_equal(
	    test_try_login(f->dir, "siti", TEST_PASS_STAFF), CV_ETRUNC);
	test_snap_same(f->dir, &sn);
}

/* The branch deleted: refused, and no new trail is started. */
static void
test_branch_deleted(void **state)
{
	struct test_fx *f = *state;
	struct test_snap sn;

	test_branch_delete(f->dir);
	test_snap_take(f->dir, &sn);
	assert_string_equal(sn.head, "");
	assert_int_equal(admin(f->dir), CV_ETRUNC);
	assert_int_equal(
	    test_try_login(f->dir, "siti", TEST_PASS_STAFF), CV_ETRUNC);
	test_snap_same(f->dir, &sn);
}

/* The anchor removed from the store, to pass the store off as one made
 * before anchors: the trail says it had one. */
static void
test_anchor_removed(void **state)
{
	struct test_fx *f = *state;
	struct cv_store *st;
	struct cv_txn *txn;
	struct test_snap sn;

	assert_int_equal(cv_store_open(f->dir, &st), 0);
	assert_int_equal(cv_txn_begin(st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(cv_del(txn, CV_DB_META, "anchor", 6), 0);
	assert_int_equal(cv_txn_commit(txn), 0);
	cv_store_close(st);
	test_snap_take(f->dir, &sn);
	assert_int_equal(admin(f->dir), CV_EROLLBACK);
	test_snap_same(f->dir, &sn);
}

/* A writer that died between its event and its store commit leaves the
 * trail ahead of the store with no login in between: not a rollback; the
 * open records the write not applied. Twice in one session, the same. */
static void
test_died_after_event(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	json_t *ev;
	uint64_t seq;
	int i;

	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	for (i = 0; i < 2; i++) {
		ev = json_pack("{s:s, s:s, s:s}", "action", "user.disable",
		    "actor", "u1", "decision", "allow");
		assert_int_equal(
		    cv_auditlog_append(s->audit, ev, CV_AUDIT_WRITE, &seq), 0);
		json_decref(ev);
	}
	cv_session_close(s);
	assert_int_equal(admin(f->dir), 0);
	assert_int_equal(test_try_login(f->dir, "siti", TEST_PASS_STAFF), 0);
}

static int
find_restore(const json_t *ev, void *arg)
{
	const char *a = json_string_value(json_object_get(ev, "action"));
	const char *d = json_string_value(json_object_get(ev, "decision"));

	if (a == NULL || strcmp(a, "vault.restore") != 0 || d == NULL ||
	    strcmp(d, "allow") != 0)
		return 0;
	*(json_t **)arg = json_deep_copy(ev);
	return 1;
}

/* The explicit restore: recorded, naming the backup's position, and the
 * restored store opens; the same file put back by hand does not. */
static void
test_restore_reanchors(void **state)
{
	struct test_fx *f = *state;
	char dest[128], other[64];
	struct cv_session *s;
	json_t *ev = NULL;

	snprintf(dest, sizeof(dest), "%s-backup", f->dir);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_vault_backup(s, dest), 0);
	cv_session_close(s);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_disable(s, "rina"), 0);
	cv_session_close(s);
	assert_int_equal(
	    test_try_login(f->dir, "rina", TEST_PASS_STAFF), CV_EDISABLED);

	/* By hand: refused, and put right again. */
	copy(f->dir, "store.lmdb", "store.cur");
	copy(f->dir, "../v-backup/store.lmdb", "store.lmdb");
	assert_int_equal(admin(f->dir), CV_EROLLBACK);
	copy(f->dir, "store.cur", "store.lmdb");
	assert_int_equal(admin(f->dir), 0);

	/* Another vault's backup is not this vault's. */
	s = test_vault_new(other);
	assert_int_equal(cv_vault_restore(s, dest), CV_EINVAL);
	cv_session_close(s);
	test_vault_remove(other);

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_vault_restore(s, dest), CV_EDENIED);
	cv_session_close(s);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_vault_restore(s, dest), 0);
	cv_session_close(s);

	/* The backup's state is current, and the vault opens. */
	assert_int_equal(test_try_login(f->dir, "rina", TEST_PASS_STAFF), 0);
	assert_int_equal(admin(f->dir), 0);
	assert_int_equal(cv_auditlog_foreach(f->dir, find_restore, &ev), 1);
	assert_non_null(ev);
	assert_string_equal(
	    json_string_value(json_object_get(ev, "decision")), "allow");
	assert_int_equal(
	    strlen(json_string_value(json_object_get(ev, "backup_head"))), 40);
	assert_true(json_integer_value(json_object_get(ev, "backup_size")) > 0);
	json_decref(ev);
	test_rm_rf(dest);
}

/*
 * After a restore, what was written after the backup's position is gone
 * from the store by an audited act: `audit verify` passes, and a write
 * after the restore is held to its event again.
 */
static void
test_restore_then_verify(void **state)
{
	struct test_fx *f = *state;
	char dest[128];
	struct cv_session *s;
	json_t *out = NULL;
	uint32_t rid = 0;
	static const char note[] = "Sesi lanjutan, catatan uji.";

	snprintf(dest, sizeof(dest), "%s-backup", f->dir);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_vault_backup(s, dest), 0);
	cv_session_close(s);
	/* A record, and the case's metadata (its next record id), after it. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(
	    cv_note_add(s, f->cid, note, strlen(note), NULL, NULL, &rid), 0);
	cv_session_close(s);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_vault_restore(s, dest), 0);
	cv_session_close(s);
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_verify(s, NULL, NULL, &out), 0);
	assert_true(json_is_true(json_object_get(out, "ok")));
	json_decref(out);
	cv_session_close(s);
	/* Written again after the restore: bound to its new event. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(
	    cv_note_add(s, f->cid, note, strlen(note), NULL, NULL, &rid), 0);
	cv_session_close(s);
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_verify(s, NULL, NULL, &out), 0);
	json_decref(out);
	cv_session_close(s);
	test_rm_rf(dest);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codes_distinct),
	    cmocka_unit_test_setup_teardown(test_untouched_opens, setup,
	        test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_store_rolled_back, setup,
	        test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_trail_truncated, setup,
	        test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_branch_deleted, setup,
	        test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_anchor_removed, setup,
	        test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_died_after_event, setup,
	        test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_restore_then_verify, setup,
	        test_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_restore_reanchors, setup,
	        test_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
