/* Shared by the cmocka suites that need a real vault on disk. */
#ifndef CV_TEST_HELPERS_H
#define CV_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "casevault.h"
#include "store/store.h"

#define TEST_PASS_ADMIN "admin-passphrase-1"
#define TEST_PASS_STAFF "staff-passphrase-1"

/* A fresh vault in a new temporary directory with admin "admin". */
struct cv_session *test_vault_new(char dir[static 64]);

/* The same, a served vault (cv_vault_create_served). */
struct cv_session *test_served_new(char dir[static 64]);

/* Log in as USER with PASS; asserts success. */
struct cv_session *test_login(const char *dir, const char *user,
    const char *pass);

/* Add user NAME with ROLE (TEST_PASS_STAFF), as admin. */
void test_user(const char *dir, const char *name, const char *role,
    int trained);

/* One account a suite's vault starts with. */
struct test_staff {
	const char *name;
	const char *role;
	int trained;
};

#define TEST_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* siti (trained counselor), rina (social worker), kepala (supervisor) and
 * inspektur (auditor): the team the case suites start with. */
extern const struct test_staff test_staff_team[4];

/* siti (trained counselor), andi (legal aid), kepala (supervisor) and dewi
 * (untrained counselor): the staff of the time-bound access suites. */
extern const struct test_staff test_staff_legal[4];

/* Add the N accounts of STAFF, in order, as test_user would. */
void test_staff_add(const char *dir, const struct test_staff *staff,
    size_t n);

/* USER (TEST_PASS_STAFF) opens a case from the intake fixture into CID. */
void test_case_open(const char *dir, const char *user,
    char cid[static CV_CASE_ID_LEN + 1]);

/* The fixture most suites share: a vault with up to two cases. */
struct test_fx {
	char dir[64];
	char cid[CV_CASE_ID_LEN + 1];
	char cid2[CV_CASE_ID_LEN + 1];
};

/* A new fixture: a fresh vault with the N accounts of STAFF, no case. */
struct test_fx *test_fx_new(const struct test_staff *staff, size_t n);

/* A cmocka setup: test_fx_new with the N accounts of STAFF, and a case
 * opened into cid by the first of them; the fixture in *STATE. */
int test_fx_setup(void **state, const struct test_staff *staff, size_t n);

/* A cmocka teardown for a struct test_fx in *STATE. */
int test_fx_teardown(void **state);

/*
 * Raw access to the store, as an insider with the files would have.
 * test_raw_dup: a malloc'd copy of the value at K in DB, *LEN bytes.
 * test_raw_get: the same copied into COPY (CAP bytes at most); its length.
 * test_raw_put: VAL (LEN bytes) at K in DB, or K deleted when VAL is NULL.
 */
uint8_t *test_raw_dup(const char *dir, enum cv_db db, const void *k,
    size_t klen, size_t *len);
size_t test_raw_get(const char *dir, enum cv_db db, const void *k,
    size_t klen, uint8_t *copy, size_t cap);
void test_raw_put(const char *dir, enum cv_db db, const void *k, size_t klen,
    const void *val, size_t len);

/* The contents of tests/fixtures/records/NAME as JSON. */
json_t *test_fixture(const char *name);

/* The intake fixture with its referral dated in June 2025, day N (1-28):
 * content for an amendment, which must differ from the version before. */
json_t *test_intake_changed(int n);

/* 1 if NEEDLE (LEN bytes) occurs in any file under DIR, recursively. */
int test_dir_contains(const char *dir, const void *needle, size_t len);

/* Remove the temporary directory test_vault_new made around DIR. */
void test_vault_remove(const char *dir);

/* Remove DIR recursively. */
void test_rm_rf(const char *dir);

/* Copy the tree FROM to TO (which must not exist), keeping every mode. */
void test_tree_copy(const char *from, const char *to);

/*
 * The whole of file PATH, malloc'd and NUL-terminated, *LEN bytes; NULL
 * when it cannot be read. test_file_write replaces PATH with LEN bytes,
 * keeping the mode of the file it replaces.
 */
char *test_file_read(const char *path, size_t *len);
void test_file_write(const char *path, const void *buf, size_t len);

/*
 * The trail's branch, as an insider with the files would move it:
 * test_branch_head, its commit as hex ("" when the branch is missing);
 * test_branch_back, moved to the N-th parent of its head;
 * test_branch_delete, deleted.
 */
void test_branch_head(const char *dir, char out[static 41]);
void test_branch_back(const char *dir, int n);
void test_branch_delete(const char *dir);

/*
 * An account row as stored (test_account_row, parsed), edited in place
 * (test_account_edit: KEY set to VAL, consumed, all else kept), and its
 * id (test_account_id).
 */
json_t *test_account_row(const char *dir, const char *name);
void test_account_edit(const char *dir, const char *name, const char *key,
    json_t *val);
uint32_t test_account_id(const char *dir, const char *name);

/* TEXT written into the failed-login queue, numbered as the next entry;
 * its number. */
uint64_t test_queue_forge(const char *dir, const char *text);

/*
 * How many events of the trail, read from its files without a login (so
 * nothing is appended), have FIELD equal to VALUE and, when FIELD2 is not
 * NULL, FIELD2 equal to VALUE2.
 */
size_t test_trail_count(const char *dir, const char *field, const char *value,
    const char *field2, const char *value2);

/* The system clock set MINUTES from the true time (negative: behind), as
 * an administrator setting it would move it, through the test-only
 * offset of base/util.h. */
void test_clock_at(int64_t minutes);

/* USER's login with PASS, closed at once: its return code. */
int test_try_login(const char *dir, const char *user, const char *pass);

/* The bytes a refused open must leave alone: the store and the branch. */
struct test_snap {
	char *store, *ref;
	size_t slen, rlen;
	char head[41];
};

/* Take SN of DIR; test_snap_same asserts DIR is as SN says, and frees
 * SN. */
void test_snap_take(const char *dir, struct test_snap *sn);
void test_snap_same(const char *dir, struct test_snap *sn);

/* The store key of consent KID of case CID into K (room for
 * CV_CASE_ID_LEN + 1 + CV_OBJECT_ID_LEN bytes), *KLEN bytes. */
void test_consent_key(const char *cid, const char *kid, uint8_t *k,
    size_t *klen);

/* The failed-login queue's counter: 0 before any failed login. */
uint64_t test_queue_next(const char *dir);

/* As kepala (a supervisor): USER put on case CID's team (ADD) or taken
 * off it. */
void test_team(const char *dir, const char *cid, const char *user, int add);

/*
 * With the accounts of test_staff_legal: a consent recorded by siti, the
 * survivor's, for legal aid on incidents for PURPOSE, until MINUTES from
 * now (0: no end given), its id in ID; a request by andi for incidents
 * for PURPOSE, approved by kepala for HOURS, its id in RID; andi's fetch
 * of request RID, its return code.
 */
void test_grant_legal(const char *dir, const char *cid, const char *purpose,
    int64_t minutes, char id[static CV_OBJECT_ID_LEN + 1]);
void test_request_approved(const char *dir, const char *cid,
    const char *purpose, unsigned hours, char rid[static CV_OBJECT_ID_LEN + 1]);
int test_fetch(const char *dir, const char *rid);

#endif
