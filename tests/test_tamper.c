#define _GNU_SOURCE
/*
 * The tamper matrix: what an insider with write access to the vault's
 * files, and no passphrase, may try, and what a clock set back may do,
 * each tried on a fresh copy of one populated vault and each required to
 * be caught where SECURITY.md says it is.
 *
 * The vault is built once: a case with an intake amended to a second
 * version and a note, a consent granted then withdrawn, a team change, two
 * approved legal-aid requests (one under a consent that ends within the
 * hour, one that itself ends within the hour), a disabled account, a
 * legal-aid account and failed logins signed into the trail. Each row
 * copies it, modes kept, tampers with the copy, and says where the tamper
 * must be caught:
 *
 *  - open: the next login is refused with the row's code; for a store or
 *    trail put back or cut, nothing is written (the store's bytes and the
 *    branch are as they were); for an edited account the refusal is
 *    signed into the trail (rule account-edited) and the row is left as
 *    the insider wrote it;
 *  - trail: the next login succeeds and signs a session.tampered event of
 *    the row's kind;
 *  - verify: audit verify, as the auditor with the signer pinned outside
 *    the vault, reports the row's kind and problem, for the case or the
 *    account the row names;
 *  - pinned: the vault refuses every login, and the trail's own checks
 *    against the pinned signer (cv_audit_verify_offline) fail with the
 *    row's reason;
 *  - a check of its own (the clock rows: the gate still refuses).
 *
 * The first row tampers with nothing and must open and verify clean, so
 * the matrix can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <sodium.h>

#include "casevault.h"
#include "base/sshsig.h"
#include "base/util.h"
#include "model/caseobj.h"
#include "model/recstore.h"
#include "store/store.h"

#include "helpers.h"
#include "helpers.c.inc"

static const struct test_staff staff[] = {
    {"siti", "counselor", 1},
    {"andi", "legal_aid", 0},
    {"kepala", "supervisor", 0},
    {"inspektur", "auditor", 0},
    {"rina", "social_worker", 0},
};

/* A value of the store, as the insider saved it before a later write. */
struct saved {
	uint8_t *val;
	size_t len;
};

/* The populated vault, built once, and what was saved along the way. */
struct base {
	char dir[64];   /* the vault */
	char top[64];   /* its temporary directory: copies, saved files */
	char pin[96];   /* allowed_signers as copied at the key ceremony */
	char older[96]; /* store.lmdb before rina was disabled */
	char cid[CV_CASE_ID_LEN + 1];
	char pseud[CV_PSEUDONYM_LEN + 1];
	char withdrawn[CV_OBJECT_ID_LEN + 1]; /* a consent, withdrawn */
	char req_long[CV_OBJECT_ID_LEN + 1];  /* 3 h, its consent 1 h */
	char req_short[CV_OBJECT_ID_LEN + 1]; /* 1 h, its consent open */
	uint32_t note;                        /* a record of one version */
	struct saved granted;                 /* the consent, not withdrawn */
	struct saved team;                    /* the case with rina on it */
	struct saved slot;                    /* rina's keyslot, enabled */
	struct saved account;                 /* rina's account, enabled */
	int copies;
};

/* The vault the rows copy, built by the group setup. */
static struct base *suite;

/* One row's copy of the vault. */
struct copy {
	char dir[96];
	const struct base *b;
	size_t reads; /* the case's reads on the trail, before the row */
};

enum verify_how {
	VERIFY_NONE,
	VERIFY_SESSION, /* cv_audit_verify as inspektur, the signer pinned */
	VERIFY_PINNED,  /* cv_audit_verify_offline, the signer pinned */
};

struct row {
	const char *name;
	void (*tamper)(struct copy *c);
	/* open: USER's login must return CODE; NULL: no login tried. */
	const char *user;
	int code;
	/* What a refused login may write: 0, nothing; 1, its refusal of an
	 * edited account, signed into the trail. */
	int signs;
	/* trail: a session.tampered event of this kind, signed by the login
	 * above (which must then succeed); NULL: none required. */
	const char *tampered;
	/* verify: HOW, and what the report must name: for VERIFY_SESSION
	 * the object KIND and its PROBLEM in the case (KIND "account": the
	 * account WHO, listed as tampered with kind PROBLEM), KIND NULL a
	 * clean report; for VERIFY_PINNED, PROBLEM is part of the reason. */
	enum verify_how how;
	const char *kind;
	const char *problem;
	const char *who;
	/* A check of the row's own, after all of the above; may be NULL. */
	void (*check)(struct copy *c);
};

static void
save(const char *dir, enum cv_db db, const void *k, size_t klen,
    struct saved *sv)
{
	sv->val = test_raw_dup(dir, db, k, klen, &sv->len);
}

static void
save_file(const char *from, const char *to)
{
	size_t len;
	char *buf = test_file_read(from, &len);

	assert_non_null(buf);
	test_file_write(to, buf, len);
	free(buf);
}

/* The case's records: the intake amended once, and a note. */
static void
records(struct base *b)
{
	struct cv_session *s = test_login(b->dir, "siti", TEST_PASS_STAFF);
	json_t *in = test_intake_changed(1);
	uint32_t v;

	assert_int_equal(cv_record_amend(s, b->cid, 1, in, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(
	    cv_note_add(s, b->cid, "talked", 6, NULL, NULL, &b->note), 0);
	json_decref(in);
	cv_session_close(s);
}

static void
consent_withdrawn(struct base *b)
{
	struct cv_session *s;
	uint8_t k[CV_CASE_ID_LEN + 1 + CV_OBJECT_ID_LEN];
	size_t klen;

	test_grant_legal(b->dir, b->cid, "legal_proceeding", 0, b->withdrawn);
	test_consent_key(b->cid, b->withdrawn, k, &klen);
	save(b->dir, CV_DB_CASEDATA, k, klen, &b->granted);
	s = test_login(b->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_consent_withdraw(s, b->cid, b->withdrawn), 0);
	cv_session_close(s);
}

static int
group_setup(void **state)
{
	struct base *b = calloc(1, sizeof(*b));
	struct cv_session *s;
	char path[128], kid[CV_OBJECT_ID_LEN + 1];

	assert_non_null(b);
	test_clock_at(0);
	cv_session_close(test_vault_new(b->dir));
	snprintf(b->top, sizeof(b->top), "%.*s",
	    (int)(strrchr(b->dir, '/') - b->dir), b->dir);
	test_staff_add(b->dir, staff, TEST_COUNT(staff));
	test_case_open(b->dir, "siti", b->cid);
	s = test_login(b->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_audit_pseudonym(s, b->cid, b->pseud), 0);
	cv_session_close(s);
	records(b);
	consent_withdrawn(b);
	test_team(b->dir, b->cid, "rina", 1);
	save(b->dir, CV_DB_CASES, b->cid, CV_CASE_ID_LEN, &b->team);
	test_team(b->dir, b->cid, "rina", 0);
	test_grant_legal(b->dir, b->cid, "legal_proceeding", 60, kid);
	test_request_approved(
	    b->dir, b->cid, "legal_proceeding", 3, b->req_long);
	test_grant_legal(b->dir, b->cid, "social_service", 0, kid);
	test_request_approved(
	    b->dir, b->cid, "social_service", 1, b->req_short);

	/* The pin, kept outside the vault; the store before the disable. */
	snprintf(path, sizeof(path), "%s/allowed_signers", b->dir);
	snprintf(b->pin, sizeof(b->pin), "%s/pin", b->top);
	save_file(path, b->pin);
	snprintf(path, sizeof(path), "%s/store.lmdb", b->dir);
	snprintf(b->older, sizeof(b->older), "%s/store.older", b->top);
	save_file(path, b->older);

	save(b->dir, CV_DB_SLOTS, "rina", 4, &b->slot);
	save(b->dir, CV_DB_USERS, "rina", 4, &b->account);
	s = test_login(b->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(cv_user_disable(s, "rina"), 0);
	cv_session_close(s);

	/* Two failed logins, signed into the trail by the next login. */
	assert_int_equal(
	    test_try_login(b->dir, "kepala", "not-the-passphrase"), CV_EAUTH);
	assert_int_equal(
	    test_try_login(b->dir, "kepala", "not-the-passphrase"), CV_EAUTH);
	assert_int_equal(test_try_login(b->dir, "admin", TEST_PASS_ADMIN), 0);
	/* Kept here, not in *STATE: each row's state is its row. */
	(void)state;
	suite = b;
	return 0;
}

static int
group_teardown(void **state)
{
	struct base *b = suite;

	(void)state;
	test_clock_at(0);
	test_rm_rf(b->top);
	free(b->granted.val);
	free(b->team.val);
	free(b->slot.val);
	free(b->account.val);
	free(b);
	return 0;
}

/* ---- the tampering ---- */

static void
untouched(struct copy *c)
{
	(void)c;
}

static void
role_edited(struct copy *c)
{
	test_account_edit(c->dir, "andi", "role", json_string("supervisor"));
}

/* The disabled flag cleared, and the keyslot from before the disable put
 * back, so that the passphrase would open it again. */
static void
disabled_cleared(struct copy *c)
{
	test_account_edit(c->dir, "rina", "disabled", json_false());
	test_raw_put(
	    c->dir, CV_DB_SLOTS, "rina", 4, c->b->slot.val, c->b->slot.len);
}

/* The account and keyslot from before the disable put back together:
 * both as casevault wrote them, so their MAC matches. */
static void
account_replayed(struct copy *c)
{
	test_raw_put(c->dir, CV_DB_USERS, "rina", 4, c->b->account.val,
	    c->b->account.len);
	test_raw_put(
	    c->dir, CV_DB_SLOTS, "rina", 4, c->b->slot.val, c->b->slot.len);
}

static void
failures_reset(struct copy *c)
{
	json_t *row = test_account_row(c->dir, "kepala");

	/* The control: the failures are counted before the reset. */
	assert_int_equal(
	    json_integer_value(json_object_get(row, "failures")), 2);
	json_decref(row);
	test_account_edit(c->dir, "kepala", "failures", json_integer(0));
}

/* An entry in the failed-login queue shaped as a read of the case's
 * notes by the counselor. */
static void
queue_forged(struct copy *c)
{
	char text[512];

	snprintf(text, sizeof(text),
	    "{\"action\":\"record.show\",\"actor\":\"u%u\",\"case\":\"%s\","
	    "\"classes\":[\"counseling_note\"],\"decision\":\"allow\","
	    "\"outcome\":\"success\",\"role\":\"counselor\",\"user\":\"siti\","
	    "\"reason\":\"wrong-passphrase\",\"observed\":1}",
	    (unsigned)test_account_id(c->dir, "siti"), c->b->pseud);
	test_queue_forge(c->dir, text);
	c->reads = test_trail_count(
	    c->dir, "action", "record.show", "case", c->b->pseud);
}

static void
consent_replayed(struct copy *c)
{
	uint8_t k[CV_CASE_ID_LEN + 1 + CV_OBJECT_ID_LEN];
	size_t klen;

	test_consent_key(c->b->cid, c->b->withdrawn, k, &klen);
	test_raw_put(c->dir, CV_DB_CASEDATA, k, klen, c->b->granted.val,
	    c->b->granted.len);
}

static void
team_replayed(struct copy *c)
{
	test_raw_put(c->dir, CV_DB_CASES, c->b->cid, CV_CASE_ID_LEN,
	    c->b->team.val, c->b->team.len);
}

/* Version 1 of the intake copied over version 2. */
static void
version_replayed(struct copy *c)
{
	uint8_t k1[CV_REC_KEYLEN], k2[CV_REC_KEYLEN];
	struct saved v1;

	cv_rec_key(k1, c->b->cid, 1, 1);
	cv_rec_key(k2, c->b->cid, 1, 2);
	save(c->dir, CV_DB_RECORDS, k1, sizeof(k1), &v1);
	test_raw_put(c->dir, CV_DB_RECORDS, k2, sizeof(k2), v1.val, v1.len);
	free(v1.val);
}

/* Version 2 of the intake copied in as a version 3 no event wrote. */
static void
version_forged(struct copy *c)
{
	uint8_t k2[CV_REC_KEYLEN], k3[CV_REC_KEYLEN];
	struct saved v2;

	cv_rec_key(k2, c->b->cid, 1, 2);
	cv_rec_key(k3, c->b->cid, 1, 3);
	save(c->dir, CV_DB_RECORDS, k2, sizeof(k2), &v2);
	test_raw_put(c->dir, CV_DB_RECORDS, k3, sizeof(k3), v2.val, v2.len);
	free(v2.val);
}

static void
record_deleted(struct copy *c)
{
	uint8_t k[CV_REC_KEYLEN];

	cv_rec_key(k, c->b->cid, c->b->note, 1);
	test_raw_put(c->dir, CV_DB_RECORDS, k, sizeof(k), NULL, 0);
}

static void
newest_deleted(struct copy *c)
{
	uint8_t k[CV_REC_KEYLEN];

	cv_rec_key(k, c->b->cid, 1, 2);
	test_raw_put(c->dir, CV_DB_RECORDS, k, sizeof(k), NULL, 0);
}

/* The copy of store.lmdb from before rina was disabled put back. */
static void
store_rolled_back(struct copy *c)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/store.lmdb", c->dir);
	save_file(c->b->older, path);
}

/* The store's anchor removed, to pass it off as a store from before
 * anchors. */
static void
anchor_removed(struct copy *c)
{
	test_raw_put(c->dir, CV_DB_META, "anchor", 6, NULL, 0);
}

static void
trail_cut(struct copy *c)
{
	test_branch_back(c->dir, 1);
}

static void
branch_deleted(struct copy *c)
{
	test_branch_delete(c->dir);
}

/*
 * Re-sign every commit of the trail with SK, oldest first, each pointing
 * at its re-signed parent, keeping trees, messages and dates, as a forger
 * with stock git would; the branch then names the forged head.
 */
static void
trail_resign(const char *dir, const uint8_t sk[static 64])
{
	char was[GIT_OID_HEXSZ + 1], now[GIT_OID_HEXSZ + 1];
	git_repository *repo = trail_repo(dir);
	git_revwalk *walk;
	git_reference *ref;
	git_oid old, prev_old, prev_new, fresh;
	int first = 1;

	assert_int_equal(git_revwalk_new(&walk, repo), 0);
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	assert_int_equal(git_revwalk_push_ref(walk, "refs/heads/main"), 0);
	while (git_revwalk_next(&old, walk) == 0) {
		git_buf sig = {0}, data = {0};
		char *text, *at, *armored;

		assert_int_equal(git_commit_extract_signature(
		                     &sig, &data, repo, &old, "gpgsig"),
		    0);
		assert_non_null(text = strndup(data.ptr, data.size));
		if (!first) {
			git_oid_tostr(was, sizeof(was), &prev_old);
			git_oid_tostr(now, sizeof(now), &prev_new);
			assert_non_null(at = strstr(text, was));
			memcpy(at, now, GIT_OID_HEXSZ);
		}
		assert_int_equal(cv_sshsig_sign(sk, "git", text, strlen(text),
		                     &armored, NULL),
		    0);
		assert_int_equal(git_commit_create_with_signature(
		                     &fresh, repo, text, armored, "gpgsig"),
		    0);
		free(armored);
		free(text);
		git_buf_dispose(&sig);
		git_buf_dispose(&data);
		prev_old = old;
		prev_new = fresh;
		first = 0;
	}
	assert_false(first);
	assert_int_equal(git_reference_create(&ref, repo, "refs/heads/main",
	                     &prev_new, 1, "forged"),
	    0);
	git_reference_free(ref);
	git_revwalk_free(walk);
	trail_repo_close(repo);
}

/* Replace OLD by NEW (LEN bytes each) wherever it occurs in DIR/NAME. */
static void
file_swap(const char *dir, const char *name, const char *old, const char *new,
    size_t len)
{
	char path[128], *buf, *at;
	size_t n;
	int seen = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(buf = test_file_read(path, &n));
	while ((at = memmem(buf, n, old, len)) != NULL) {
		memcpy(at, new, len);
		seen = 1;
	}
	assert_true(seen);
	test_file_write(path, buf, n);
	free(buf);
}

/*
 * A forger's key in place of the audit signer: the whole history
 * re-signed with it, and every copy of the public key in the vault (the
 * store's, audit_signer.pub, allowed_signers) replaced by its own.
 */
static void
signer_swapped(struct copy *c)
{
	uint8_t opk[32], npk[32], nsk[64];
	char oline[CV_SSHSIG_PUBLINE_MAX], nline[CV_SSHSIG_PUBLINE_MAX];

	assert_int_equal(
	    test_raw_get(c->dir, CV_DB_META, "audit_pk", 8, opk, sizeof(opk)),
	    sizeof(opk));
	crypto_sign_keypair(npk, nsk);
	assert_int_equal(
	    cv_sshsig_pubkey_line(opk, NULL, oline, sizeof(oline)), 0);
	assert_int_equal(
	    cv_sshsig_pubkey_line(npk, NULL, nline, sizeof(nline)), 0);
	assert_int_equal(strlen(oline), strlen(nline));
	trail_resign(c->dir, nsk);
	file_swap(c->dir, "audit_signer.pub", oline, nline, strlen(oline));
	file_swap(c->dir, "allowed_signers", oline, nline, strlen(oline));
	test_raw_put(c->dir, CV_DB_META, "audit_pk", 8, npk, sizeof(npk));
	sodium_memzero(nsk, sizeof(nsk));
}

/*
 * Two hours pass, in which legal aid is refused (the trail records it),
 * and then the clock is set back to the true time, across the end of
 * what RID relies on.
 */
static void
clock_back_across(struct copy *c, const char *rid)
{
	/* The control: in force before. */
	assert_int_equal(test_fetch(c->dir, rid), 0);
	test_clock_at(120);
	assert_int_equal(test_fetch(c->dir, rid), CV_EDENIED);
	test_clock_at(0);
}

static void
clock_back_consent(struct copy *c)
{
	clock_back_across(c, c->b->req_long);
}

static void
clock_back_request(struct copy *c)
{
	clock_back_across(c, c->b->req_short);
}

/* ---- the checks of rows of their own ---- */

/* The untouched vault: legal aid fetches both requests, and the trail's
 * own checks pass against the pinned signer. */
static void
all_in_force(struct copy *c)
{
	json_t *out = NULL;

	assert_int_equal(test_fetch(c->dir, c->b->req_long), 0);
	assert_int_equal(test_fetch(c->dir, c->b->req_short), 0);
	assert_int_equal(
	    cv_audit_verify_offline(c->dir, NULL, c->b->pin, &out), 0);
	assert_true(json_is_true(json_object_get(out, "ok")));
	assert_string_equal(
	    json_string_value(json_object_get(out, "signer")), "pinned");
	json_decref(out);
}

/* After the verify, the account's own next login signs the reset into
 * the trail too. */
static void
failures_reset_signed(struct copy *c)
{
	size_t n = test_trail_count(
	    c->dir, "action", "session.tampered", "kind", "failures_reset");

	assert_int_equal(test_try_login(c->dir, "kepala", TEST_PASS_STAFF), 0);
	assert_int_equal(test_trail_count(c->dir, "action", "session.tampered",
	                     "kind", "failures_reset"),
	    n + 1);
}

/* The forged read entered the trail as nothing but the report. */
static void
no_forged_read(struct copy *c)
{
	assert_int_equal(test_trail_count(c->dir, "action", "record.show",
	                     "case", c->b->pseud),
	    c->reads);
}

/* The forgery is complete: against the vault's own (swapped) key the
 * history checks out; only the pin tells. */
static void
forgery_passes_unpinned(struct copy *c)
{
	json_t *out = NULL;

	assert_int_equal(cv_audit_verify_offline(c->dir, NULL, NULL, &out), 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "signer")), "vault");
	json_decref(out);
}

static void
still_expired(struct copy *c, const char *rid)
{
	assert_int_equal(test_fetch(c->dir, rid), CV_EDENIED);
	/* A day further back changes nothing either. */
	test_clock_at(-24 * 60);
	assert_int_equal(test_fetch(c->dir, rid), CV_EDENIED);
	test_clock_at(0);
}

static void
consent_still_expired(struct copy *c)
{
	still_expired(c, c->b->req_long);
}

static void
request_still_expired(struct copy *c)
{
	still_expired(c, c->b->req_short);
}

/* ---- the matrix ---- */

static struct row rows[] = {
    {.name = "untouched",
        .tamper = untouched,
        .user = "admin",
        .how = VERIFY_SESSION,
        .check = all_in_force},
    {.name = "account role edited",
        .tamper = role_edited,
        .user = "andi",
        .code = CV_ECRYPTO,
        .signs = 1,
        .how = VERIFY_SESSION,
        .kind = "account",
        .problem = "account_edited",
        .who = "andi"},
    {.name = "disabled flag cleared",
        .tamper = disabled_cleared,
        .user = "rina",
        .code = CV_ECRYPTO,
        .signs = 1,
        .how = VERIFY_SESSION,
        .kind = "account",
        .problem = "account_edited",
        .who = "rina"},
    {.name = "older account and keyslot put back",
        .tamper = account_replayed,
        .how = VERIFY_SESSION,
        .kind = "account",
        .problem = "replayed",
        .who = "rina"},
    {.name = "failed-login counter reset",
        .tamper = failures_reset,
        .how = VERIFY_SESSION,
        .kind = "account",
        .problem = "failures_reset",
        .who = "kepala",
        .check = failures_reset_signed},
    {.name = "forged failed-login queue entry",
        .tamper = queue_forged,
        .user = "admin",
        .tampered = "queue_entry",
        .check = no_forged_read},
    {.name = "replayed older consent",
        .tamper = consent_replayed,
        .how = VERIFY_SESSION,
        .kind = "consent",
        .problem = "replayed"},
    {.name = "replayed older team",
        .tamper = team_replayed,
        .how = VERIFY_SESSION,
        .kind = "case",
        .problem = "replayed"},
    {.name = "replayed older record version",
        .tamper = version_replayed,
        .how = VERIFY_SESSION,
        .kind = "record",
        .problem = "replayed"},
    {.name = "record version forged past the newest",
        .tamper = version_forged,
        .how = VERIFY_SESSION,
        .kind = "record",
        .problem = "unaudited"},
    {.name = "deleted record",
        .tamper = record_deleted,
        .how = VERIFY_SESSION,
        .kind = "record",
        .problem = "missing"},
    {.name = "deleted newest version",
        .tamper = newest_deleted,
        .how = VERIFY_SESSION,
        .kind = "record",
        .problem = "missing"},
    {.name = "whole store rolled back",
        .tamper = store_rolled_back,
        .user = "rina",
        .code = CV_EROLLBACK},
    {.name = "store anchor removed",
        .tamper = anchor_removed,
        .user = "admin",
        .code = CV_EROLLBACK},
    {.name = "trail truncated by one commit",
        .tamper = trail_cut,
        .user = "admin",
        .code = CV_ETRUNC},
    {.name = "branch deleted",
        .tamper = branch_deleted,
        .user = "admin",
        .code = CV_ETRUNC},
    {.name = "audit public key swapped",
        .tamper = signer_swapped,
        .user = "admin",
        .code = CV_ECRYPTO,
        .how = VERIFY_PINNED,
        .problem = "bad signature",
        .check = forgery_passes_unpinned},
    {.name = "clock set back across a consent's end",
        .tamper = clock_back_consent,
        .check = consent_still_expired},
    {.name = "clock set back across a request's end",
        .tamper = clock_back_request,
        .check = request_still_expired},
};

/* ---- running a row ---- */

static void
check_open(struct copy *c, const struct row *w)
{
	const char *pass =
	    strcmp(w->user, "admin") == 0 ? TEST_PASS_ADMIN : TEST_PASS_STAFF;
	size_t before = 0, tampered = 0;
	struct saved row = {NULL, 0}, after;
	struct test_snap sn;
	int r;

	if (w->tampered != NULL)
		tampered = test_trail_count(
		    c->dir, "action", "session.tampered", "kind", w->tampered);
	if (w->code != 0 && w->signs) {
		before = test_trail_count(
		    c->dir, "rule", "account-edited", "kind", "account_edited");
		save(c->dir, CV_DB_USERS, w->user, strlen(w->user), &row);
	} else if (w->code != 0) {
		test_snap_take(c->dir, &sn);
	}
	r = test_try_login(c->dir, w->user, pass);
	if (r != w->code)
		fail_msg("%s: login of %s returned %d (%s), not %d", w->name,
		    w->user, r, cv_error_detail(), w->code);
	if (w->code != 0 && w->signs) {
		/* The refusal signed, the edit left as it was: not healed,
		 * not re-signed by the login that refused it. */
		assert_int_equal(
		    test_trail_count(c->dir, "rule", "account-edited", "kind",
		        "account_edited"),
		    before + 1);
		save(c->dir, CV_DB_USERS, w->user, strlen(w->user), &after);
		assert_int_equal(after.len, row.len);
		assert_memory_equal(after.val, row.val, row.len);
		free(after.val);
		free(row.val);
	} else if (w->code != 0) {
		test_snap_same(c->dir, &sn);
	}
	if (w->tampered != NULL)
		assert_true(
		    test_trail_count(c->dir, "action", "session.tampered",
		        "kind", w->tampered) > tampered);
}

/* 1 if the report REP names what row W says it must. */
static int
report_names(const json_t *rep, const struct copy *c, const struct row *w)
{
	const json_t *e;
	const char *list =
	    strcmp(w->kind, "account") == 0 ? "tampered" : "problems";
	json_int_t uid = 0;
	size_t i;

	if (w->who != NULL)
		uid = (json_int_t)test_account_id(c->dir, w->who);
	json_array_foreach (json_object_get(rep, list), i, e) {
		const char *kind =
		    json_string_value(json_object_get(e, "kind"));
		const char *problem =
		    json_string_value(json_object_get(e, "problem"));
		const char *pseud =
		    json_string_value(json_object_get(e, "case"));

		if (uid != 0 && kind != NULL && strcmp(kind, w->problem) == 0 &&
		    json_integer_value(json_object_get(e, "uid")) == uid)
			return 1;
		if (uid == 0 && kind != NULL && strcmp(kind, w->kind) == 0 &&
		    problem != NULL && strcmp(problem, w->problem) == 0 &&
		    pseud != NULL && strcmp(pseud, c->b->pseud) == 0)
			return 1;
	}
	return 0;
}

static void
check_verify(struct copy *c, const struct row *w)
{
	struct cv_session *s;
	const char *reason;
	json_t *rep = NULL;
	int r;

	if (w->how == VERIFY_PINNED) {
		r = cv_audit_verify_offline(c->dir, NULL, c->b->pin, &rep);
	} else {
		s = test_login(c->dir, "inspektur", TEST_PASS_STAFF);
		r = cv_audit_verify(s, NULL, c->b->pin, &rep);
		cv_session_close(s);
	}
	assert_non_null(rep);
	assert_string_equal(
	    json_string_value(json_object_get(rep, "signer")), "pinned");
	if (w->kind == NULL && w->how == VERIFY_SESSION) {
		if (r != 0)
			fail_msg("%s: verify: %s", w->name, json_dumps(rep, 0));
		assert_true(json_is_true(json_object_get(rep, "ok")));
		assert_null(json_object_get(rep, "problems"));
		assert_null(json_object_get(rep, "tampered"));
		assert_true(
		    json_integer_value(json_object_get(rep, "objects")) > 0);
		json_decref(rep);
		return;
	}
	if (r != CV_EVERIFY)
		fail_msg("%s: verify returned %d: %s", w->name, r,
		    json_dumps(rep, 0));
	assert_false(json_is_true(json_object_get(rep, "ok")));
	if (w->how == VERIFY_PINNED) {
		reason = json_string_value(json_object_get(rep, "reason"));
		assert_non_null(reason);
		if (strstr(reason, w->problem) == NULL)
			fail_msg("%s: reason %s", w->name, reason);
	} else if (!report_names(rep, c, w)) {
		fail_msg("%s: %s %s not reported: %s", w->name, w->kind,
		    w->problem, json_dumps(rep, 0));
	}
	json_decref(rep);
}

/* One cmocka test per row, the row as its state, so that each row passes
 * or fails by name. */
static void
run_row(void **state)
{
	const struct row *w = *state;
	struct copy c = {"", suite, 0};

	snprintf(c.dir, sizeof(c.dir), "%s/c%02d", suite->top, suite->copies++);
	test_tree_copy(suite->dir, c.dir);
	w->tamper(&c);
	if (w->user != NULL)
		check_open(&c, w);
	if (w->how != VERIFY_NONE)
		check_verify(&c, w);
	if (w->check != NULL)
		w->check(&c);
}

/* After each row, failed midway or not: the true time, and no copy. */
static int
row_teardown(void **state)
{
	char dir[96];
	int i;

	(void)state;
	test_clock_at(0);
	for (i = 0; i < suite->copies; i++) {
		snprintf(dir, sizeof(dir), "%s/c%02d", suite->top, i);
		test_rm_rf(dir);
	}
	return 0;
}

int
main(void)
{
	struct CMUnitTest tests[TEST_COUNT(rows)];
	size_t i;

	for (i = 0; i < TEST_COUNT(rows); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = rows[i].name;
		tests[i].test_func = run_row;
		tests[i].teardown_func = row_teardown;
		tests[i].initial_state = &rows[i];
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
