#define _GNU_SOURCE
/*
 * The vault core against the promises of issue 2 and DESIGN's invariants:
 * nothing in clear on disk, sealed records bound to their place, wrong
 * passphrases refused without effect, erasure that leaves no bytes behind,
 * bad input refused without effect, backups and rotation that keep every
 * record readable, and readers unaffected by a writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "casevault.h"
#include "model/recstore.h"
#include "model/session.h"
#include "store/store.h"
#include "base/util.h"

#include "helpers.h"
#include "helpers.c.inc"

/* A vault with a counselor who opened two cases, each with an intake. */
static int
setup(void **state)
{
	struct test_fx *f;

	test_fx_setup(state, test_staff_team, TEST_COUNT(test_staff_team));
	f = *state;
	test_case_open(f->dir, "siti", f->cid2);
	return 0;
}

static size_t
raw_count(const char *dir, enum cv_db db)
{
	struct cv_store *st;
	struct cv_txn *txn;
	size_t n;

	assert_int_equal(cv_store_open(dir, &st), 0);
	assert_int_equal(cv_txn_begin(st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_store_count(txn, db, &n), 0);
	cv_txn_abort(txn);
	cv_store_close(st);
	return n;
}

static int
show(const char *dir, const char *user, const char *cid, uint32_t rec,
    uint32_t ver)
{
	struct cv_session *s = test_login(dir, user, user[0] == 'a' ?
	    TEST_PASS_ADMIN : TEST_PASS_STAFF);
	json_t *out = NULL;
	int r = cv_record_show(s, cid, rec, ver, NULL, &out);

	json_decref(out);
	cv_session_close(s);
	return r;
}

static void
no_plaintext_on_disk(void **state)
{
	struct test_fx *f = *state;
	static const char *const markers[] = {
		"Sari Contoh", "3510015203950001", "Jl. Contoh",
		"Budi Contoh", "checks her phone",
	};
	size_t i;

	/* The store and every other file of the vault directory. The
	 * audit repository's compressed objects are searched by the
	 * end-to-end tests with git cat-file. */
	for (i = 0; i < CV_ARRAY_LEN(markers); i++)
		assert_false(test_dir_contains(f->dir, markers[i],
		    strlen(markers[i])));
	/* The search itself works: a marker that is in a file is found. */
	assert_true(test_dir_contains(f->dir, "audit@casevault", 15));
}

static void
flipped_byte_refused(void **state)
{
	struct test_fx *f = *state;
	uint8_t key[CV_REC_KEYLEN], buf[CV_RECORD_MAX + 512];
	size_t vlen;

	assert_int_equal(show(f->dir, "siti", f->cid, 1, 1), 0);
	cv_rec_key(key, f->cid, 1, 1);
	vlen = test_raw_get(f->dir, CV_DB_RECORDS, key, sizeof(key), buf,
	    sizeof(buf));
	buf[vlen - 20] ^= 0x01; /* inside the ciphertext */
	test_raw_put(f->dir, CV_DB_RECORDS, key, sizeof(key), buf, vlen);
	assert_int_equal(show(f->dir, "siti", f->cid, 1, 1), CV_ECRYPTO);
}

static void
flipped_header_refused(void **state)
{
	struct test_fx *f = *state;
	uint8_t key[CV_REC_KEYLEN], buf[CV_RECORD_MAX + 512];
	size_t vlen;

	cv_rec_key(key, f->cid, 1, 1);
	vlen = test_raw_get(f->dir, CV_DB_RECORDS, key, sizeof(key), buf,
	    sizeof(buf));
	/* The author id in the clear header is bound as associated data. */
	buf[2 + strlen("intake") + 3] ^= 0x01;
	test_raw_put(f->dir, CV_DB_RECORDS, key, sizeof(key), buf, vlen);
	assert_int_equal(show(f->dir, "siti", f->cid, 1, 1), CV_ECRYPTO);
}

static void
moved_ciphertext_refused(void **state)
{
	struct test_fx *f = *state;
	uint8_t k1[CV_REC_KEYLEN], k2[CV_REC_KEYLEN], kother[CV_REC_KEYLEN];
	uint8_t buf[CV_RECORD_MAX + 512];
	struct cv_session *s;
	json_t *in = test_fixture("referral_valid.json");
	uint32_t rid;
	size_t vlen;

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_record_add(s, f->cid, "referral", in, &rid), 0);
	assert_int_equal(rid, 2);
	cv_session_close(s);
	json_decref(in);
	assert_int_equal(show(f->dir, "siti", f->cid, 2, 1), 0);
	assert_int_equal(show(f->dir, "siti", f->cid2, 1, 1), 0);

	/* Record 1's sealed value copied over record 2 of the same case. */
	cv_rec_key(k1, f->cid, 1, 1);
	cv_rec_key(k2, f->cid, 2, 1);
	vlen = test_raw_get(f->dir, CV_DB_RECORDS, k1, sizeof(k1), buf,
	    sizeof(buf));
	test_raw_put(f->dir, CV_DB_RECORDS, k2, sizeof(k2), buf, vlen);
	assert_int_equal(show(f->dir, "siti", f->cid, 2, 1), CV_ECRYPTO);

	/* ... and over record 1 of another case (another key, too). */
	cv_rec_key(kother, f->cid2, 1, 1);
	test_raw_put(f->dir, CV_DB_RECORDS, kother, sizeof(kother), buf, vlen);
	assert_int_equal(show(f->dir, "siti", f->cid2, 1, 1), CV_ECRYPTO);
	/* The original still reads. */
	assert_int_equal(show(f->dir, "siti", f->cid, 1, 1), 0);
}

/*
 * The error detail speaks of the call just made: a refusal's detail is
 * there after it (positive control), and gone after the next call that
 * succeeds, and after one that fails without a detail of its own.
 */
static void
error_detail_cleared_by_each_call(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	json_t *bad = json_pack("{s:s}", "no_such_field", "x"), *out = NULL;
	uint32_t rid = 0;

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(
	    cv_record_add(s, f->cid, "intake", bad, &rid), CV_ESCHEMA);
	assert_true(cv_error_detail()[0] != '\0');
	cv_session_close(s); /* cannot fail: leaves the detail be */
	assert_true(cv_error_detail()[0] != '\0');
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_string_equal(cv_error_detail(), "");
	assert_int_equal(
	    cv_record_add(s, f->cid, "intake", bad, &rid), CV_ESCHEMA);
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out), 0);
	assert_string_equal(cv_error_detail(), "");
	json_decref(out);
	assert_int_equal(
	    cv_record_add(s, f->cid, "intake", bad, &rid), CV_ESCHEMA);
	assert_int_equal(
	    cv_record_show(s, f->cid, 999, 0, NULL, &out), CV_ENOTFOUND);
	assert_string_equal(cv_error_detail(), "");
	cv_session_close(s);
	json_decref(bad);
}

static void
moved_case_key_refused(void **state)
{
	struct test_fx *f = *state;
	uint8_t buf[256];
	size_t vlen;

	/* Case 1's wrapped key put in case 2's place: the wrap binds the
	 * case id, so case 2 cannot be opened with it. */
	vlen = test_raw_get(f->dir, CV_DB_CASEKEYS, f->cid, CV_CASE_ID_LEN, buf,
	    sizeof(buf));
	test_raw_put(f->dir, CV_DB_CASEKEYS, f->cid2, CV_CASE_ID_LEN, buf,
	    vlen);
	assert_int_equal(show(f->dir, "siti", f->cid2, 1, 1), CV_ECRYPTO);
}

static void
wrong_passphrase_refused(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = NULL;
	size_t records = raw_count(f->dir, CV_DB_RECORDS);
	size_t cases = raw_count(f->dir, CV_DB_CASES);
	size_t keys = raw_count(f->dir, CV_DB_CASEKEYS);

	assert_int_equal(cv_session_open(f->dir, "siti", "wrong-passphrase",
	    16, &s), CV_EAUTH);
	assert_null(s);
	assert_int_equal(cv_session_open(f->dir, "nobody", TEST_PASS_STAFF,
	    strlen(TEST_PASS_STAFF), &s), CV_EAUTH);
	assert_null(s);
	/* Nothing of the vault's data changed. */
	assert_int_equal(raw_count(f->dir, CV_DB_RECORDS), records);
	assert_int_equal(raw_count(f->dir, CV_DB_CASES), cases);
	assert_int_equal(raw_count(f->dir, CV_DB_CASEKEYS), keys);
	/* The failures wait, recorded, for the next unlock. */
	assert_int_equal(raw_count(f->dir, CV_DB_PENDING), 2);
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	cv_session_close(s);
	assert_int_equal(raw_count(f->dir, CV_DB_PENDING), 0);
}

/*
 * A session names its account and role; a directory without a vault is
 * CV_ENOTFOUND, and one that does not exist CV_EIO (no lock file can be
 * made in it).
 */
static void
session_open_outcomes(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = NULL;
	char empty[] = "/tmp/cvtest-empty.XXXXXX", missing[64];

	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_string_equal(cv_session_user(s), "kepala");
	assert_string_equal(cv_session_role(s), "supervisor");
	cv_session_close(s);
	s = NULL;
	assert_non_null(mkdtemp(empty));
	assert_int_equal(cv_session_open(empty, "siti", TEST_PASS_STAFF,
	    strlen(TEST_PASS_STAFF), &s), CV_ENOTFOUND);
	assert_null(s);
	snprintf(missing, sizeof(missing), "%s/none", empty);
	assert_int_equal(cv_session_open(missing, "siti", TEST_PASS_STAFF,
	    strlen(TEST_PASS_STAFF), &s), CV_ENOTFOUND);
	assert_null(s);
	test_rm_rf(empty);
}

static void
repeated_failures_back_off(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = NULL;
	int i;

	for (i = 0; i < 3; i++)
		assert_int_equal(cv_session_open(f->dir, "rina", "not-it-at-all",
		    13, &s), CV_EAUTH);
	/* Now even the right passphrase must wait. */
	assert_int_equal(cv_session_open(f->dir, "rina", TEST_PASS_STAFF,
	    strlen(TEST_PASS_STAFF), &s), CV_ELOCKED);
	assert_null(s);
	/* Another user is not held off. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	cv_session_close(s);
}

static void
disabled_user_refused(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *a, *s = NULL;

	a = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_disable(a, "rina"), 0);
	/* Not by a counselor, though. */
	cv_session_close(a);
	a = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_user_disable(a, "kepala"), CV_EDENIED);
	cv_session_close(a);
	assert_int_equal(cv_session_open(f->dir, "rina", TEST_PASS_STAFF,
	    strlen(TEST_PASS_STAFF), &s), CV_EDISABLED);
	assert_null(s);
}

static void
erase_leaves_nothing(void **state)
{
	struct test_fx *f = *state;
	uint8_t key[CV_REC_KEYLEN], wrapped[256], rec[CV_RECORD_MAX + 512];
	struct cv_session *s;
	size_t kvlen, rvlen;
	json_t *out = NULL;

	cv_rec_key(key, f->cid, 1, 1);
	kvlen = test_raw_get(f->dir, CV_DB_CASEKEYS, f->cid, CV_CASE_ID_LEN,
	    wrapped, sizeof(wrapped));
	rvlen = test_raw_get(f->dir, CV_DB_RECORDS, key, sizeof(key), rec,
	    sizeof(rec));
	/* Before: both are in the vault's files (the search can find). */
	assert_true(test_dir_contains(f->dir, wrapped, kvlen));
	assert_true(test_dir_contains(f->dir, rec + rvlen - 64, 64));

	/* A counselor may not erase; a supervisor may. */
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_case_erase(s, f->cid), CV_EDENIED);
	cv_session_close(s);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_erase(s, f->cid), 0);
	assert_int_equal(cv_case_erase(s, f->cid), CV_ENOTFOUND);
	cv_session_close(s);

	assert_false(test_dir_contains(f->dir, wrapped, kvlen));
	assert_false(test_dir_contains(f->dir, rec + rvlen - 64, 64));
	assert_false(test_dir_contains(f->dir, rec + 40, 32));
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out),
	    CV_ENOTFOUND);
	assert_null(out);
	/* The other case is untouched. */
	assert_int_equal(cv_record_show(s, f->cid2, 1, 0, NULL, &out), 0);
	json_decref(out);
	cv_session_close(s);
}

static void
bad_input_changes_nothing(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	size_t records = raw_count(f->dir, CV_DB_RECORDS);
	size_t cases = raw_count(f->dir, CV_DB_CASES);
	json_t *in = test_fixture("intake_valid.json"), *bad, *big;
	char id[CV_CASE_ID_LEN + 1], *pad;
	uint32_t rid;

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_record_add(s, f->cid, "no_such_type", in, &rid),
	    CV_EINVAL);
	assert_int_equal(cv_record_add(s, "CZZZZZZZZZZ", "intake", in, &rid),
	    CV_ENOTFOUND);
	assert_int_equal(cv_record_add(s, "../../etc", "intake", in, &rid),
	    CV_ENOTFOUND);
	bad = test_fixture("intake_bad_nik_short.json");
	assert_int_equal(cv_record_add(s, f->cid, "intake", bad, &rid),
	    CV_ESCHEMA);
	assert_non_null(strstr(cv_error_detail(), "nik"));
	assert_int_equal(cv_case_open(s, bad, id), CV_ESCHEMA);
	json_decref(bad);
	/* Oversized: a valid shape with a huge field. */
	big = json_deep_copy(in);
	pad = malloc(CV_RECORD_MAX + 2);
	memset(pad, 'a', CV_RECORD_MAX + 1);
	pad[CV_RECORD_MAX + 1] = '\0';
	json_object_set_new(json_object_get(big, "contact"), "address",
	    json_string(pad));
	assert_int_equal(cv_record_add(s, f->cid, "intake", big, &rid),
	    CV_ETOOBIG);
	free(pad);
	json_decref(big);
	json_decref(in);
	cv_session_close(s);
	assert_int_equal(raw_count(f->dir, CV_DB_RECORDS), records);
	assert_int_equal(raw_count(f->dir, CV_DB_CASES), cases);
}

static void
team_gate(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;

	/* Not on the team: refused, with the rule named. */
	assert_int_equal(show(f->dir, "rina", f->cid, 1, 0), CV_EDENIED);
	assert_int_equal(show(f->dir, "admin", f->cid, 1, 0), CV_EDENIED);
	assert_int_equal(show(f->dir, "inspektur", f->cid, 1, 0), CV_EDENIED);
	/* Assigned by the supervisor: allowed; removed: refused at once. */
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_assign(s, f->cid, "rina"), 0);
	assert_int_equal(cv_case_assign(s, f->cid, "rina"), CV_EEXIST);
	cv_session_close(s);
	assert_int_equal(show(f->dir, "rina", f->cid, 1, 0), 0);
	s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	assert_int_equal(cv_case_unassign(s, f->cid, "rina"), 0);
	assert_int_equal(cv_case_unassign(s, f->cid, "rina"), CV_ENOTFOUND);
	cv_session_close(s);
	assert_int_equal(show(f->dir, "rina", f->cid, 1, 0), CV_EDENIED);
}

static void
amend_keeps_history(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	json_t *in = test_fixture("intake_valid.json"), *out, *hist;
	uint32_t ver;

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_object_set_new(json_object_get(in, "referral"), "source",
	    json_string("whatsapp"));
	assert_int_equal(cv_record_amend(s, f->cid, 1, in, &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "version")),
	    2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(out, "data"), "referral"), "source")), "whatsapp");
	json_decref(out);
	assert_int_equal(cv_record_show(s, f->cid, 1, 1, NULL, &out), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(out, "data"), "referral"), "source")),
	    "online_form");
	json_decref(out);
	assert_int_equal(cv_record_history(s, f->cid, 1, &hist), 0);
	assert_int_equal(json_array_size(hist), 2);
	json_decref(hist);
	assert_int_equal(cv_record_show(s, f->cid, 1, 3, NULL, &out),
	    CV_ENOTFOUND);
	json_decref(in);
	cv_session_close(s);
}

static void
backup_and_rotate_keep_records(void **state)
{
	struct test_fx *f = *state;
	uint8_t wrapped[256];
	char dest[128];
	struct cv_session *s;
	size_t kvlen;

	snprintf(dest, sizeof(dest), "%s-backup", f->dir);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_vault_backup(s, dest), 0);
	assert_int_equal(cv_vault_backup(s, dest), CV_EEXIST);
	cv_session_close(s);
	/* The copy opens with the same passphrases and reads the same. */
	assert_int_equal(show(dest, "siti", f->cid, 1, 1), 0);
	assert_int_equal(show(dest, "siti", f->cid2, 1, 1), 0);

	kvlen = test_raw_get(f->dir, CV_DB_CASEKEYS, f->cid, CV_CASE_ID_LEN,
	    wrapped, sizeof(wrapped));
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_key_rotate(s), CV_EDENIED);
	cv_session_close(s);
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_key_rotate(s), 0);
	cv_session_close(s);
	assert_int_equal(show(f->dir, "siti", f->cid, 1, 1), 0);
	assert_int_equal(show(f->dir, "siti", f->cid2, 1, 1), 0);
	/* The case key wrapped under the old KEK is gone from every file. */
	assert_false(test_dir_contains(f->dir, wrapped + 8, kvlen - 8));
	test_rm_rf(dest);
}

/*
 * Rotation wraps under the next KEK, passed to the re-wrap, and moves the
 * session to it only once committed: the same session rotates again,
 * which unwraps what the first rotation wrapped.
 */
static void
rotate_twice_in_one_session(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	uint64_t gen;

	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	gen = s->keys->kek_gen;
	assert_int_equal(cv_key_rotate(s), 0);
	assert_int_equal(s->keys->kek_gen, gen + 1);
	assert_int_equal(cv_key_rotate(s), 0);
	assert_int_equal(s->keys->kek_gen, gen + 2);
	cv_session_close(s);
	assert_int_equal(show(f->dir, "siti", f->cid, 1, 1), 0);
	assert_int_equal(show(f->dir, "siti", f->cid2, 1, 1), 0);
}

static void
readers_during_writer(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	json_t *in, *out;
	int i, status, reads = 0;
	uint32_t rid;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The writer: its own process, its own session. */
		s = test_login(f->dir, "siti", TEST_PASS_STAFF);
		in = test_fixture("referral_valid.json");
		for (i = 0; i < 30; i++)
			if (cv_record_add(s, f->cid2, "referral", in, &rid) !=
			    0)
				_exit(1);
		json_decref(in);
		cv_session_close(s);
		_exit(0);
	}
	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &out),
		    0);
		json_decref(out);
		reads++;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(reads > 0);
	/* Every write landed. */
	assert_int_equal(cv_record_show(s, f->cid2, 31, 0, NULL, &out), 0);
	json_decref(out);
	cv_session_close(s);
}

/*
 * Safe files. The vault's directory is its owner's alone; nothing in it is
 * a link out of it; every open checks both.
 */

/* A new private temporary directory TOP (what test_vault_new makes). */
static void
fresh_top(char top[static 64])
{
	setenv("CASEVAULT_TEST_KDF", "insecure", 1);
	assert_int_equal(cv_library_init(), 0);
	snprintf(top, 64, "/tmp/cvtest.XXXXXX");
	assert_non_null(mkdtemp(top));
}

static int
vault_create(const char *dir)
{
	struct cv_session *s = NULL;
	int r = cv_vault_create(
	    dir, "admin", TEST_PASS_ADMIN, strlen(TEST_PASS_ADMIN), &s);

	cv_session_close(s);
	return r;
}

static int
login(const char *dir, const char *user, const char *pass)
{
	struct cv_session *s = NULL;
	int r = cv_session_open(dir, user, pass, strlen(pass), &s);

	cv_session_close(s);
	return r;
}

/* The number of entries in DIR besides "." and "..". */
static int
dir_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* The bytes of PATH, which must be a file, NUL-terminated (free it). */
static char *
read_bytes(const char *path, size_t *len)
{
	char *buf;

	assert_int_equal(cv_read_file(path, 1 << 30, &buf, len), 0);
	return buf;
}

static char *
read_text(const char *path)
{
	size_t n;

	return read_bytes(path, &n);
}

static void
init_refuses_dir_others_can_write(void **state)
{
	static const mode_t modes[] = {0777, 0703, 0770, 0730};
	char top[64], dir[96];
	struct stat sb;
	size_t i;

	(void)state;
	fresh_top(top);
	snprintf(dir, sizeof(dir), "%s/v", top);
	for (i = 0; i < CV_ARRAY_LEN(modes); i++) {
		assert_int_equal(mkdir(dir, 0700), 0);
		assert_int_equal(chmod(dir, modes[i]), 0);
		assert_int_equal(vault_create(dir), CV_EUNSAFE);
		assert_non_null(strstr(cv_error_detail(), "writable"));
		/* Nothing was made in it, and its mode was left alone. */
		assert_int_equal(dir_entries(dir), 0);
		assert_int_equal(stat(dir, &sb), 0);
		assert_int_equal(sb.st_mode & 07777, modes[i]);
		assert_int_equal(rmdir(dir), 0);
	}
	/* The positive control: the same directory, private, is accepted;
	 * one that others could read is made private. */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(vault_create(dir), 0);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	test_rm_rf(top);
}

static void
init_refuses_planted_store_link(void **state)
{
	char top[64], dir[96], link[128], target[96], missing[96];
	char *before, *after;
	struct stat sb;

	(void)state;
	fresh_top(top);
	snprintf(dir, sizeof(dir), "%s/v", top);
	snprintf(link, sizeof(link), "%s/store.lmdb", dir);
	snprintf(target, sizeof(target), "%s/precious", top);
	snprintf(missing, sizeof(missing), "%s/made-through-link", top);
	write_text(target, "someone else's file\n");
	before = read_text(target);
	assert_int_equal(mkdir(dir, 0700), 0);

	/* A link to an existing file outside. */
	assert_int_equal(symlink(target, link), 0);
	assert_int_not_equal(vault_create(dir), 0);
	after = read_text(target);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(lstat(link, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(dir_entries(dir), 1);

	/* A dangling link: nothing may be created where it points. */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(missing, link), 0);
	assert_int_not_equal(vault_create(dir), 0);
	assert_int_equal(lstat(missing, &sb), -1);
	assert_int_equal(dir_entries(dir), 1);

	/* The vault directory itself a link to an empty directory. */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(mkdir(missing, 0700), 0);
	assert_int_equal(symlink(missing, dir), 0);
	assert_int_equal(vault_create(dir), CV_EUNSAFE);
	assert_int_equal(dir_entries(missing), 0);
	free(before);
	test_rm_rf(top);
}

static void
init_refuses_nonempty_dir(void **state)
{
	char top[64], dir[96], file[128];
	char *text;

	(void)state;
	fresh_top(top);
	snprintf(dir, sizeof(dir), "%s/v", top);
	snprintf(file, sizeof(file), "%s/notes.txt", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_text(file, "kept\n");
	assert_int_equal(vault_create(dir), CV_EEXIST);
	assert_non_null(strstr(cv_error_detail(), "not empty"));
	assert_int_equal(dir_entries(dir), 1);
	text = read_text(file);
	assert_string_equal(text, "kept\n");
	free(text);
	/* Empty again, it is accepted. */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(vault_create(dir), 0);
	test_rm_rf(top);
}

/* nftw has no argument: the walk's findings. */
static int walk_bad, walk_dirs, walk_files;

static int
walk_mode(const char *path, const struct stat *sb, int type, struct FTW *w)
{
	mode_t m = sb->st_mode & 07777;
	int pack = strstr(path, "/objects/pack/pack-") != NULL;

	(void)w;
	if (type == FTW_D && m == 0700)
		walk_dirs++;
	else if (type == FTW_F && S_ISREG(sb->st_mode) &&
	    (m == 0600 || (pack && m == 0400)))
		walk_files++;
	else {
		print_error("bad mode %04o type %d: %s\n", (unsigned)m, type,
		    path);
		walk_bad++;
	}
	return 0;
}

static void
init_makes_everything_private(void **state)
{
	char dir[64];
	struct cv_session *s;

	(void)state;
	s = test_vault_new(dir);
	cv_session_close(s);
	walk_bad = walk_dirs = walk_files = 0;
	assert_int_equal(nftw(dir, walk_mode, 16, FTW_PHYS), 0);
	assert_int_equal(walk_bad, 0);
	/* The walk saw the tree: the vault, audit.git and its directories;
	 * the store, its lock, the keys and a pack. */
	assert_true(walk_dirs >= 6);
	assert_true(walk_files >= 7);
	test_vault_remove(dir);
}

static void
open_refuses_dir_others_can_write(void **state)
{
	struct test_fx *f = *state;
	char git[96];

	snprintf(git, sizeof(git), "%s/audit.git", f->dir);
	assert_int_equal(chmod(f->dir, 0770), 0);
	assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), CV_EUNSAFE);
	assert_non_null(strstr(cv_error_detail(), "writable"));
	assert_int_equal(chmod(f->dir, 0702), 0);
	assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), CV_EUNSAFE);
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), 0);

	assert_int_equal(chmod(git, 0775), 0);
	assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), CV_EUNSAFE);
	assert_non_null(strstr(cv_error_detail(), "audit.git"));
	assert_int_equal(chmod(git, 0700), 0);
	assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), 0);
}

/* Move DIR/NAME to DIR-NAME and leave a link to it in its place. */
static void
plant_link(const char *dir, const char *name, char *moved, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(moved, size, "%s-%s", dir, name);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(symlink(moved, path), 0);
}

static void
unplant_link(const char *dir, const char *name, const char *moved)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rename(moved, path), 0);
}

static void
open_refuses_linked_files(void **state)
{
	static const char *const names[] = {"store.lmdb", "store.lmdb-lock",
	    "vault.lock", "allowed_signers", "audit_signer.pub"};
	struct test_fx *f = *state;
	char moved[128], *before, *after;
	size_t i, blen, alen;

	for (i = 0; i < CV_ARRAY_LEN(names); i++) {
		plant_link(f->dir, names[i], moved, sizeof(moved));
		before = read_bytes(moved, &blen);
		assert_int_equal(
		    login(f->dir, "siti", TEST_PASS_STAFF), CV_EUNSAFE);
		assert_non_null(strstr(cv_error_detail(), names[i]));
		assert_non_null(strstr(cv_error_detail(), "link"));
		/* A wrong passphrase, which writes to the store, too. */
		assert_int_equal(
		    login(f->dir, "siti", "wrong-passphrase-1"), CV_EUNSAFE);
		after = read_bytes(moved, &alen);
		assert_int_equal(blen, alen);
		assert_memory_equal(before, after, blen);
		free(before);
		free(after);
		unplant_link(f->dir, names[i], moved);
		assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), 0);
	}
}

/* Reads of the vault's own files follow no link and take only files;
 * reads of user input (--file) still follow links. */
static void
vault_file_reads_follow_no_link(void **state)
{
	char top[64], file[96], link[96], fifo[96], *buf;
	size_t len;

	(void)state;
	fresh_top(top);
	snprintf(file, sizeof(file), "%s/file", top);
	snprintf(link, sizeof(link), "%s/link", top);
	snprintf(fifo, sizeof(fifo), "%s/fifo", top);
	write_text(file, "text\n");
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);

	assert_int_equal(cv_read_file_nofollow(file, 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	free(buf);
	assert_int_equal(
	    cv_read_file_nofollow(link, 100, &buf, &len), CV_EUNSAFE);
	assert_null(buf);
	assert_int_equal(
	    cv_read_file_nofollow(fifo, 100, &buf, &len), CV_EUNSAFE);
	assert_int_equal(cv_read_file(link, 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	free(buf);
	test_rm_rf(top);
}

/* Plant a leftover temporary pack file; return its path in PATH. */
static void
plant_tmp_pack(const char *dir, const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/audit.git/objects/pack/%s", dir, name);
	write_text(path, "half a pack");
}

static void
open_removes_leftover_tmp_packs(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *a;
	char p1[160], p2[160];
	struct stat sb;
	json_t *out;

	plant_tmp_pack(f->dir, "tmp_pack_Ab12Cd", p1, sizeof(p1));
	plant_tmp_pack(f->dir, "tmp_pack_zz99Yx", p2, sizeof(p2));
	assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), 0);
	assert_int_equal(lstat(p1, &sb), -1);
	assert_int_equal(lstat(p2, &sb), -1);

	/* While another session has the vault open, a temporary file may
	 * be that session's: it stays until the vault is opened alone. */
	a = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	plant_tmp_pack(f->dir, "tmp_pack_Ef34Gh", p1, sizeof(p1));
	assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), 0);
	assert_int_equal(lstat(p1, &sb), 0);
	cv_session_close(a);
	assert_int_equal(login(f->dir, "siti", TEST_PASS_STAFF), 0);
	assert_int_equal(lstat(p1, &sb), -1);

	/* The trail is whole. */
	a = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_verify(a, NULL, NULL, &out), 0);
	json_decref(out);
	cv_session_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_plaintext_on_disk, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(flipped_byte_refused, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(flipped_header_refused, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(moved_ciphertext_refused, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(moved_case_key_refused, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(wrong_passphrase_refused, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    error_detail_cleared_by_each_call, setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(session_open_outcomes, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(repeated_failures_back_off,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(disabled_user_refused, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(erase_leaves_nothing, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(bad_input_changes_nothing, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(team_gate,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(amend_keeps_history, setup,
		    test_fx_teardown),
		cmocka_unit_test_setup_teardown(backup_and_rotate_keep_records,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(rotate_twice_in_one_session,
		    setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(readers_during_writer, setup,
		    test_fx_teardown),
		cmocka_unit_test(init_refuses_dir_others_can_write),
		cmocka_unit_test(init_refuses_planted_store_link),
		cmocka_unit_test(init_refuses_nonempty_dir),
		cmocka_unit_test(init_makes_everything_private),
		cmocka_unit_test_setup_teardown(
		    open_refuses_dir_others_can_write, setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    open_refuses_linked_files, setup, test_fx_teardown),
		cmocka_unit_test_setup_teardown(
		    open_removes_leftover_tmp_packs, setup, test_fx_teardown),
		cmocka_unit_test(vault_file_reads_follow_no_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
